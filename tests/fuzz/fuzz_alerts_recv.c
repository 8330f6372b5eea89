/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_alerts_recv: libFuzzer target for the receivers' config parsers
 * (alerts/alerts_recv*.c: each row's parse over alerts_recv_parse_fields),
 * which read the receiver sections of the Alertmanager-format config.
 *
 * The input is YAML text loaded with libyaml's document API; its root (a
 * mapping or not) is handed to every row's parser. Either a parser fails
 * with a non-empty message starting "line ", or it succeeds with a config
 * whose send_resolved answers. Each input gets its own arena.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/alerts_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    yaml_parser_t p;
    yaml_document_t doc;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, data, size);
    if (!yaml_parser_load(&p, &doc)) {
        yaml_parser_delete(&p);
        return 0;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    size_t n = 0;
    const alerts_recv_type_t *t = alerts_recv_types(&n);
    for (size_t i = 0; root && i < n; i++) {
        arena_t *a = arena_create(4096);
        buf_t err = { 0 };
        void *cfg = NULL;
        if (t[i].parse(&doc, root, a, &cfg, &err) != 0) {
            if (err.len < 6 || strncmp((const char *)err.data, "line ", 5) != 0) {
                fprintf(stderr, "%s: bad error text\n", t[i].key);
                abort();
            }
        } else {
            (void)t[i].send_resolved(cfg);
        }
        buf_fini(&err);
        arena_destroy(a);
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&p);
    return 0;
}
