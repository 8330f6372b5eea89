/* SPDX-License-Identifier: Apache-2.0 */
/*
 * yamldoc: libyaml document loading and node accessors shared by the
 * decoders (see yamldoc.h). Pure: no I/O, no state; the only memory is
 * libyaml's document and the caller's goerrs buffer.
 *
 * A plain scalar never holds a NUL byte (libyaml's reader refuses control
 * characters, and only quoted styles have escapes), so the core-schema
 * spellings are compared as C strings.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "common/yamldoc.h"
#include "common/hash.h"
#include "common/mem.h"

/* Nodes a decoder visits when it walks the document from the root,
 * counting a node reached through several aliases once per path; more
 * than YAMLDOC_MAX_EXPANDED (or a cycle) is refused, as Go's yaml refuses
 * "excessive aliasing": a few hundred bytes of nested anchors would
 * otherwise make every decoder walk billions of nodes. Iterative
 * post-order with memoised sizes: O(nodes + edges), no recursion. */
#define YAMLDOC_MAX_EXPANDED 1000000ULL

/* The children of a collection node in document order (a mapping's are
 * key, value, key, ...): how many, and the id of child k < that. */
static size_t yamldoc_nchild(const yaml_node_t *nd)
{
    return nd->type == YAML_SEQUENCE_NODE ? yamldoc_seq_len(nd) : 2 * yamldoc_map_len(nd);
}

static int yamldoc_child(const yaml_node_t *nd, size_t k)
{
    if (nd->type == YAML_SEQUENCE_NODE) {
        return nd->data.sequence.items.start[k];
    }
    const yaml_node_pair_t *pair = &nd->data.mapping.pairs.start[k / 2];
    return k % 2 == 0 ? pair->key : pair->value;
}

static bool yamldoc_expansion_ok(yaml_document_t *doc)
{
    size_t n = (size_t)(doc->nodes.top - doc->nodes.start);
    if (n == 0) {
        return true;
    }
    uint64_t *size = mem_calloc(n + 1, sizeof(*size));
    uint8_t *state = mem_calloc(n + 1, 1); /* 0 new, 1 on the stack, 2 done */
    int *stack = mem_alloc((n + 1) * sizeof(*stack));
    size_t *next = mem_calloc(n + 1, sizeof(*next)); /* child index to visit next */
    bool ok = true;
    size_t sp = 0;
    stack[sp++] = 1; /* the root */
    state[1] = 1;
    while (sp > 0 && ok) {
        int id = stack[sp - 1];
        yaml_node_t *nd = yaml_document_get_node(doc, id);
        size_t nchild = yamldoc_nchild(nd);
        if (next[id] < nchild) {
            size_t k = next[id]++;
            int child = yamldoc_child(nd, k);
            if (child < 1 || (size_t)child > n || state[child] == 1) {
                ok = false; /* a cycle (an alias inside its own anchor) or a bad id */
            } else if (state[child] == 0) {
                state[child] = 1;
                stack[sp++] = child;
            }
            continue;
        }
        uint64_t total = 1;
        for (size_t k = 0; k < nchild; k++) {
            int child = yamldoc_child(nd, k);
            total += size[child];
            if (total > YAMLDOC_MAX_EXPANDED) {
                ok = false;
                break;
            }
        }
        size[id] = total;
        state[id] = 2;
        sp--;
    }
    mem_free(size);
    mem_free(state);
    mem_free(stack);
    mem_free(next);
    return ok;
}

yamldoc_status_t yamldoc_load(const char *text, size_t len, yaml_document_t *doc, yamldoc_error_t *err)
{
    assert(doc && err);
    assert(text || len == 0);
    *err = (yamldoc_error_t){ 0 };
    yaml_parser_t ps;
    if (!yaml_parser_initialize(&ps)) {
        err->type = YAML_MEMORY_ERROR;
        return YAMLDOC_ENOMEM;
    }
    yaml_parser_set_input_string(&ps, (const unsigned char *)(text ? text : ""), len);
    yamldoc_status_t rc = YAMLDOC_OK;
    if (!yaml_parser_load(&ps, doc)) {
        *err = (yamldoc_error_t){ .type = ps.error,
                                  .problem = ps.problem,
                                  .context = ps.context,
                                  .problem_mark = ps.problem_mark,
                                  .context_mark = ps.context_mark };
        rc = YAMLDOC_ELOAD;
    } else if (!yamldoc_expansion_ok(doc)) {
        yaml_document_delete(doc);
        memset(doc, 0, sizeof(*doc));
        *err = (yamldoc_error_t){ .type = YAML_COMPOSER_ERROR, .problem = "document contains excessive aliasing" };
        rc = YAMLDOC_ELOAD;
    }
    yaml_parser_delete(&ps);
    return rc;
}

unsigned yamldoc_line(const yaml_node_t *n)
{
    return n ? (unsigned)n->start_mark.line + 1 : 0;
}

unsigned yamldoc_col(const yaml_node_t *n)
{
    return n ? (unsigned)n->start_mark.column + 1 : 0;
}

bool yamldoc_plain_null(const yaml_node_t *n)
{
    if (!n || n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        return false;
    }
    const char *s = yamldoc_str(n);
    return *s == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

bool yamldoc_plain_bool(const yaml_node_t *n, bool *out)
{
    if (!n || n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        return false;
    }
    const char *s = yamldoc_str(n);
    if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0) {
        *out = true;
        return true;
    }
    if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0) {
        *out = false;
        return true;
    }
    return false;
}

size_t yamldoc_map_len(const yaml_node_t *map)
{
    if (!map || map->type != YAML_MAPPING_NODE) {
        return 0;
    }
    return (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
}

size_t yamldoc_seq_len(const yaml_node_t *seq)
{
    if (!seq || seq->type != YAML_SEQUENCE_NODE) {
        return 0;
    }
    return (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
}

void yamldoc_map_at(yaml_document_t *doc, const yaml_node_t *map, size_t i, const yaml_node_t **key,
                    const yaml_node_t **value)
{
    assert(i < yamldoc_map_len(map));
    const yaml_node_pair_t *p = &map->data.mapping.pairs.start[i];
    *key = yaml_document_get_node(doc, p->key);
    *value = yaml_document_get_node(doc, p->value);
}

yaml_node_t *yamldoc_seq_at(yaml_document_t *doc, const yaml_node_t *seq, size_t i)
{
    assert(i < yamldoc_seq_len(seq));
    return yaml_document_get_node(doc, seq->data.sequence.items.start[i]);
}

bool yamldoc_key_is(const yaml_node_t *k, const char *key)
{
    return k && k->type == YAML_SCALAR_NODE && strcmp(yamldoc_str(k), key) == 0;
}

long yamldoc_map_find(yaml_document_t *doc, const yaml_node_t *map, size_t from, const char *key)
{
    size_t n = yamldoc_map_len(map);
    for (size_t i = from; i < n; i++) {
        if (yamldoc_key_is(yaml_document_get_node(doc, map->data.mapping.pairs.start[i].key), key)) {
            return (long)i;
        }
    }
    return -1;
}

void yamldoc_map_repeats(yaml_document_t *doc, const yaml_node_t *map, size_t *first, size_t *next)
{
    size_t n = yamldoc_map_len(map);
    size_t cap = 16;
    while (cap < 2 * n) {
        cap *= 2;
    }
    /* open addressing: slot = 1 + the first pair of a key, last = its latest */
    size_t *slot = mem_calloc(cap, sizeof(*slot));
    size_t *last = mem_alloc(cap * sizeof(*last));
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *k = NULL, *v = NULL;
        yamldoc_map_at(doc, map, i, &k, &v);
        if (first) {
            first[i] = i;
        }
        if (next) {
            next[i] = n;
        }
        if (!k || k->type != YAML_SCALAR_NODE) {
            continue;
        }
        const char *key = yamldoc_str(k);
        size_t h = (size_t)hash_bytes(key, strlen(key)) & (cap - 1);
        while (slot[h] &&
               !yamldoc_key_is(yaml_document_get_node(doc, map->data.mapping.pairs.start[slot[h] - 1].key), key)) {
            h = (h + 1) & (cap - 1);
        }
        if (!slot[h]) {
            slot[h] = i + 1;
        } else {
            if (first) {
                first[i] = slot[h] - 1;
            }
            if (next) {
                next[last[h]] = i;
            }
        }
        last[h] = i;
    }
    mem_free(slot);
    mem_free(last);
}

void yamldoc_goerrs_init(yamldoc_goerrs_t *e)
{
    buf_init(&e->b);
    e->n = 0;
}

void yamldoc_goerrs_fini(yamldoc_goerrs_t *e)
{
    buf_fini(&e->b);
    e->n = 0;
}

void yamldoc_goerrs_reset(yamldoc_goerrs_t *e)
{
    buf_reset(&e->b);
    e->n = 0;
}

void yamldoc_goerrs_add(yamldoc_goerrs_t *e, const char *fmt, ...)
{
    if (e->n++) {
        buf_puts(&e->b, "\n  ");
    }
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&e->b, fmt, ap);
    va_end(ap);
}

void yamldoc_goerrs_type(yamldoc_goerrs_t *e, const yaml_node_t *n, const char *tag, const char *into)
{
    if (n->type != YAML_SCALAR_NODE) {
        yamldoc_goerrs_add(e, "line %u: cannot unmarshal %s into %s", yamldoc_line(n), tag, into);
    } else if (n->data.scalar.length > 10) {
        yamldoc_goerrs_add(e, "line %u: cannot unmarshal %s `%.7s...` into %s", yamldoc_line(n), tag, yamldoc_str(n),
                           into);
    } else {
        yamldoc_goerrs_add(e, "line %u: cannot unmarshal %s `%s` into %s", yamldoc_line(n), tag, yamldoc_str(n), into);
    }
}
