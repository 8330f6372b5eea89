/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for agent/coll_regex.c and the collectors' settings: Go-regexp
 * matching (unanchored, "$" only at the end), errors naming the key, and
 * the exclude/field options changing what collectors report. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "agent/agent_int.h"

#define DATA PHAROS_TEST_DATA "/agent"

extern const coll_def_t coll_netdev_def, coll_vmstat_def, coll_diskstats_def;

static void test_match_semantics(void **state)
{
    (void)state;
    static const struct {
        const char *re, *s;
        bool want;
    } cases[] = {
        { "^lo$", "lo", true },
        { "^lo$", "lo0", false },
        { "^lo$", "lo\n", false }, /* $ is the very end, as in Go */
        { "eth", "veth0", true },  /* unanchored search */
        { "^(oom_kill|pgpg).*", "pgpgin", true },
        { "^(oom_kill|pgpg).*", "xpgpgin", false },
        { "^/(dev|proc)($|/)", "/dev/shm", true },
        { "^/(dev|proc)($|/)", "/devices", false },
        { "", "anything", true },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        coll_regex_t r;
        char err[256];
        assert_int_equal(coll_regex_init(&r, cases[i].re, "t", err, sizeof(err)), 0);
        if (coll_regex_match(&r, cases[i].s, strlen(cases[i].s)) != cases[i].want) {
            fail_msg("/%s/ on \"%s\": want %d", cases[i].re, cases[i].s, cases[i].want);
        }
        coll_regex_fini(&r);
    }
}

static void test_bad_regex_names_key(void **state)
{
    (void)state;
    coll_regex_t r;
    char err[256];
    assert_int_equal(coll_regex_init(&r, "(", "collect.x.fields", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "collect.x.fields: bad regex \"(\""));
    coll_regex_fini(&r);
    coll_opts_t o = coll_opts_default();
    o.vmstat_fields = "[";
    void *st = NULL;
    assert_int_equal(coll_vmstat_def.init(&o, &st, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "collect.vmstat.fields"));
    assert_null(st);
}

/* Collect with o over the fixture tree root; render into out. */
static int run_with(const coll_def_t *def, const coll_opts_t *o, const char *root, buf_t *out)
{
    char proc[512], sys[512], udev[512];
    snprintf(proc, sizeof(proc), "%s/proc", root);
    snprintf(sys, sizeof(sys), "%s/sys", root);
    snprintf(udev, sizeof(udev), "%s/udev", root);
    coll_paths_t p = { .procfs = proc, .sysfs = sys, .rootfs = "/", .udev_data = udev };
    void *st = NULL;
    char err[256];
    assert_int_equal(def->init(o, &st, err, sizeof(err)), 0);
    msink_t s;
    msink_init(&s);
    buf_t scratch;
    buf_init(&scratch);
    coll_ctx_t c = { .paths = &p, .scratch = &scratch, .state = st };
    int rc = def->collect(&c, &s, err, sizeof(err));
    buf_reset(out);
    agent_expo_write(&s, out);
    buf_fini(&scratch);
    msink_fini(&s);
    def->fini(st);
    return rc;
}

static void test_options_change_output(void **state)
{
    (void)state;
    buf_t out;
    buf_init(&out);
    coll_opts_t o = coll_opts_default();
    assert_int_equal(run_with(&coll_netdev_def, &o, DATA "/netdev/ok", &out), 0);
    assert_non_null(strstr((const char *)out.data, "device=\"veth0\""));
    assert_null(strstr((const char *)out.data, "device=\"lo\""));
    o.netdev_device_exclude = "^veth0$";
    assert_int_equal(run_with(&coll_netdev_def, &o, DATA "/netdev/ok", &out), 0);
    assert_null(strstr((const char *)out.data, "device=\"veth0\""));
    assert_non_null(strstr((const char *)out.data, "device=\"veth1\""));
    assert_non_null(strstr((const char *)out.data, "device=\"lo\""));

    o = coll_opts_default();
    o.vmstat_fields = "^pgpgin$";
    assert_int_equal(run_with(&coll_vmstat_def, &o, DATA "/vmstat/ok", &out), 0);
    assert_non_null(strstr((const char *)out.data, "node_vmstat_pgpgin "));
    assert_null(strstr((const char *)out.data, "node_vmstat_pgpgout"));
    assert_null(strstr((const char *)out.data, "node_vmstat_oom_kill"));
    buf_fini(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_semantics),
        cmocka_unit_test(test_bad_regex_names_key),
        cmocka_unit_test(test_options_change_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
