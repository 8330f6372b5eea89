/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for agent/coll_read.c: whole files under a root, NUL-terminated,
 * the size bound (-EFBIG), a missing file (-ENOENT), a path too long. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/agent_int.h"

static void test_read(void **state)
{
    (void)state;
    char dir[] = "/tmp/pharos-read-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof(path), "%s/f", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < 10000; i++) {
        fputs("0123456789", f);
    }
    fclose(f);
    buf_t b;
    buf_init(&b);
    assert_int_equal(coll_read_file(dir, "/f", &b, 100000), 0);
    assert_int_equal(b.len, 100000);
    assert_int_equal(b.data[b.len], 0);
    assert_int_equal(coll_read_file(dir, "/f", &b, 99999), -EFBIG);
    assert_int_equal(coll_read_file(dir, "/missing", &b, 100), -ENOENT);
    char longrel[5000];
    memset(longrel, 'a', sizeof(longrel) - 1);
    longrel[0] = '/';
    longrel[sizeof(longrel) - 1] = 0;
    assert_int_equal(coll_read_file(dir, longrel, &b, 100), -ENAMETOOLONG);
    buf_fini(&b);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
