/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_alerts_inhibit: alerts/alerts_inhibit.c. Alertmanager's inhibition
 * rules over a store: a firing source with equal labels mutes a target; a
 * resolved source or a different equal label does not; an absent equal
 * label equals an absent one; an alert matching both sides neither
 * inhibits itself nor is inhibited by its peers, but is by a pure source.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "notify_fake.h"

static const char *cfg_text = "route: {receiver: a}\n"
                              "receivers: [{name: a}]\n"
                              "inhibit_rules:\n"
                              "  - source_matchers: [severity=critical]\n"
                              "    target_matchers: [severity=warning]\n"
                              "    equal: [alertname, zone]\n"
                              "  - source_match: {x: '1'}\n"
                              "    target_match: {y: '1'}\n";

static an_alert_t *put(an_store_t *s, const char *l1, const char *v1, const char *l2, const char *v2, const char *l3,
                       const char *v3, int64_t ends)
{
    label_t ls[3] = { { str_cstr(l1), str_cstr(v1) }, { str_cstr(l2), str_cstr(v2) }, { str_cstr(l3), str_cstr(v3) } };
    alerts_alert_t a = { .labels = ls, .nlabels = 3, .starts_at_ms = 1000, .ends_at_ms = ends };
    return alerts_store_put(s, &a, 2000, 300000, NULL);
}

/* Asked both ways (scan and index): the answers must agree. */
static bool mutes(const amcfg_t *c, const an_store_t *s, const an_alert_t *a)
{
    bool scan = alerts_inhibit_mutes(c, s, a->labels, a->nlabels, 2000, NULL);
    an_inhibit_idx_t ix;
    alerts_inhibit_index(c, s, 2000, &ix);
    bool viaidx = alerts_inhibit_mutes_idx(c, &ix, a->labels, a->nlabels, NULL);
    alerts_inhibit_index_fini(&ix);
    assert_int_equal(scan, viaidx);
    return scan;
}

static void test_inhibit(void **state)
{
    (void)state;
    amcfg_t *c = NULL;
    buf_t err = { 0 };
    assert_int_equal(alerts_amcfg_parse("am.yml", cfg_text, strlen(cfg_text), fake_types, NFAKE_TYPES, &c, &err), 0);
    an_store_t s;
    alerts_store_init(&s);
    an_alert_t *w = put(&s, "alertname", "A", "severity", "warning", "zone", "eu", 0);
    an_alert_t *w2 = put(&s, "alertname", "B", "severity", "warning", "zone", "eu", 0);
    an_alert_t *w3 = put(&s, "alertname", "A", "severity", "warning", "q", "1", 0);
    assert_false(mutes(c, &s, w));
    an_alert_t *src = put(&s, "alertname", "A", "severity", "critical", "zone", "eu", 0);
    uint64_t by = 0;
    assert_true(alerts_inhibit_mutes(c, &s, w->labels, w->nlabels, 2000, &by));
    assert_int_equal(by, src->fp);
    assert_false(mutes(c, &s, w2)); /* alertname differs */
    assert_false(mutes(c, &s, w3)); /* zone: "" vs eu */
    assert_false(mutes(c, &s, src));
    /* a missing equal label equals a missing one */
    put(&s, "alertname", "A", "severity", "critical", "q", "2", 0);
    assert_true(mutes(c, &s, w3));
    /* resolved sources do not inhibit */
    put(&s, "alertname", "A", "severity", "critical", "zone", "eu", 1500);
    put(&s, "alertname", "A", "severity", "critical", "q", "2", 1500);
    assert_false(mutes(c, &s, w));
    assert_false(mutes(c, &s, w3));
    alerts_store_fini(&s);

    /* both sides */
    alerts_store_init(&s);
    an_alert_t *both = put(&s, "x", "1", "y", "1", "z", "a", 0);
    assert_false(mutes(c, &s, both));
    put(&s, "x", "1", "y", "1", "z", "b", 0);
    assert_false(mutes(c, &s, both));
    put(&s, "x", "1", "y", "0", "z", "c", 0);
    assert_true(mutes(c, &s, both));
    alerts_store_fini(&s);
    alerts_amcfg_free(c);
    buf_fini(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inhibit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
