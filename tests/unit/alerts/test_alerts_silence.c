/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_alerts_silence: alerts/alerts_silence.c. Matching with isRegex and
 * isEqual; pending, active and expired by time; Alertmanager's validation
 * texts; Set's update-in-place versus expire-and-replace (canUpdate);
 * Expire of active, pending and expired silences; the state file round
 * trip and a malformed one; GC by retention; integer times only from
 * state (endsAt INT64_MAX safe); the API's bounds.
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

#define T0 1700000000000LL

static an_silence_t *mk(const char *json)
{
    json_error_t je;
    json_t *j = json_loads(json, 0, &je);
    assert_non_null(j);
    an_silence_t *s = NULL;
    buf_t err = { 0 };
    int rc = alerts_silence_from_json(j, false, &s, &err);
    if (rc != 0) {
        fprintf(stderr, "%s\n", (const char *)err.data);
    }
    assert_int_equal(rc, 0);
    json_decref(j);
    buf_fini(&err);
    return s;
}

/* Set the silence in json; returns rc and the error text in err. */
static int set(an_silences_t *ss, const char *json, int64_t now, char *id, buf_t *err)
{
    return alerts_silence_set(ss, mk(json), now, id, err);
}

#define SIL(matchers, start, end)                                                                                      \
    "{\"matchers\":" matchers ",\"startsAt\":\"" start "\",\"endsAt\":\"" end                                          \
    "\",\"createdBy\":\"me\",\"comment\":\"c\"}"

static void test_match_and_state(void **state)
{
    (void)state;
    an_silences_t ss;
    alerts_silence_init(&ss);
    char id[40];
    buf_t err = { 0 };
    /* 2023-11-14T22:13:20Z = T0 */
    assert_int_equal(set(&ss,
                         SIL("[{\"name\":\"job\",\"value\":\"api|db\",\"isRegex\":true},"
                             "{\"name\":\"env\",\"value\":\"dev\",\"isRegex\":false,\"isEqual\":false}]",
                             "2023-11-14T22:13:20Z", "2023-11-14T23:13:20Z"),
                         T0, id, &err),
                     0);
    assert_int_equal(strlen(id), 36);
    assert_int_equal(id[14], '4');
    label_t a[] = { { STR_LIT("env"), STR_LIT("prod") }, { STR_LIT("job"), STR_LIT("api") } };
    label_t b[] = { { STR_LIT("env"), STR_LIT("dev") }, { STR_LIT("job"), STR_LIT("api") } };
    label_t c[] = { { STR_LIT("job"), STR_LIT("web") } };
    label_t d[] = { { STR_LIT("job"), STR_LIT("db") } };
    buf_t ids = { 0 };
    assert_int_equal(alerts_silence_mutes(&ss, a, 2, T0 + 1000, &ids), 1);
    assert_int_equal(ids.len, 37);
    assert_int_equal(alerts_silence_mutes(&ss, b, 2, T0 + 1000, NULL), 0);
    assert_int_equal(alerts_silence_mutes(&ss, c, 1, T0 + 1000, NULL), 0);
    assert_int_equal(alerts_silence_mutes(&ss, d, 1, T0 + 1000, NULL), 1);
    /* expired after endsAt */
    assert_int_equal(alerts_silence_mutes(&ss, d, 1, T0 + 3600000, NULL), 0);
    an_silence_t *s = alerts_silence_get(&ss, id);
    assert_int_equal(alerts_silence_state(s, T0 + 3600000), AN_SIL_EXPIRED);
    assert_int_equal(alerts_silence_state(s, T0), AN_SIL_ACTIVE);
    assert_int_equal(alerts_silence_state(s, T0 - 1), AN_SIL_PENDING);
    buf_t js = { 0 };
    alerts_silence_json(s, T0, &js);
    char want[1024];
    snprintf(want, sizeof(want),
             "{\"id\":\"%s\",\"status\":{\"state\":\"active\"},\"updatedAt\":\"2023-11-14T22:13:20.000Z\","
             "\"comment\":\"c\",\"createdBy\":\"me\",\"endsAt\":\"2023-11-14T23:13:20.000Z\",\"matchers\":["
             "{\"isEqual\":true,\"isRegex\":true,\"name\":\"job\",\"value\":\"api|db\"},"
             "{\"isEqual\":false,\"isRegex\":false,\"name\":\"env\",\"value\":\"dev\"}],"
             "\"startsAt\":\"2023-11-14T22:13:20.000Z\"}",
             id);
    assert_string_equal((const char *)js.data, want);
    buf_fini(&js);
    buf_fini(&ids);
    buf_fini(&err);
    alerts_silence_fini(&ss);
}

typedef struct v_case {
    const char *json;
    const char *err;
} v_case_t;

static const v_case_t vcases[] = {
    { SIL("[{\"name\":\"a\",\"value\":\"\",\"isRegex\":false}]", "2023-11-14T22:13:20Z", "2023-11-14T23:13:20Z"),
      "silence invalid: at least one matcher must not match the empty string" },
    { SIL("[{\"name\":\"a\",\"value\":\".*\",\"isRegex\":true}]", "2023-11-14T22:13:20Z", "2023-11-14T23:13:20Z"),
      "silence invalid: at least one matcher must not match the empty string" },
    { SIL("[{\"name\":\"a-b\",\"value\":\"x\",\"isRegex\":false}]", "2023-11-14T22:13:20Z", "2023-11-14T23:13:20Z"),
      "silence invalid: invalid label matcher 0: invalid label name \"a-b\"" },
    { SIL("[{\"name\":\"a\",\"value\":\"x\",\"isRegex\":false}]", "2023-11-14T23:13:20Z", "2023-11-14T22:13:20Z"),
      "silence invalid: end time must not be before start time" },
};

static void test_validation(void **state)
{
    (void)state;
    an_silences_t ss;
    alerts_silence_init(&ss);
    for (size_t i = 0; i < sizeof(vcases) / sizeof(vcases[0]); i++) {
        char id[40];
        buf_t err = { 0 };
        assert_int_equal(set(&ss, vcases[i].json, T0, id, &err), -1);
        assert_string_equal((const char *)err.data, vcases[i].err);
        buf_fini(&err);
    }
    /* bad regex: text from PCRE2 after Alertmanager's prefix */
    char id[40];
    buf_t err = { 0 };
    assert_int_equal(
        set(&ss,
            SIL("[{\"name\":\"a\",\"value\":\"(x\",\"isRegex\":true}]", "2023-11-14T22:13:20Z", "2023-11-14T23:13:20Z"),
            T0, id, &err),
        -1);
    assert_memory_equal(err.data, "silence invalid: invalid label matcher 0: invalid regular expression \"(x\": ", 73);
    buf_fini(&err);
    /* required fields */
    json_t *j = json_loads("{\"matchers\":[],\"startsAt\":\"2023-11-14T22:13:20Z\"}", 0, NULL);
    an_silence_t *s = NULL;
    assert_int_equal(alerts_silence_from_json(j, false, &s, &err), -3);
    assert_string_equal((const char *)err.data, "comment in body is required");
    json_decref(j);
    buf_fini(&err);
    /* unknown id */
    j = json_loads(
        SIL("[{\"name\":\"a\",\"value\":\"x\",\"isRegex\":false}]", "2023-11-14T22:13:20Z", "2023-11-14T23:13:20Z"), 0,
        NULL);
    json_object_set_new(j, "id", json_string("nope"));
    assert_int_equal(alerts_silence_from_json(j, false, &s, &err), 0);
    assert_int_equal(alerts_silence_set(&ss, s, T0, id, &err), -2);
    assert_string_equal((const char *)err.data, "silence not found");
    json_decref(j);
    buf_fini(&err);
    alerts_silence_fini(&ss);
}

static void test_update_and_expire(void **state)
{
    (void)state;
    an_silences_t ss;
    alerts_silence_init(&ss);
    char id[40], id2[40];
    buf_t err = { 0 };
    const char *m = "[{\"name\":\"a\",\"value\":\"x\",\"isRegex\":false}]";
    (void)m;
    /* starts in the past: moved to now */
    assert_int_equal(
        set(&ss,
            SIL("[{\"name\":\"a\",\"value\":\"x\",\"isRegex\":false}]", "2023-11-14T21:00:00Z", "2023-11-14T23:13:20Z"),
            T0, id, &err),
        0);
    assert_int_equal(alerts_silence_get(&ss, id)->starts_at_ms, T0);
    /* same matchers and start, later end: updated in place */
    json_t *j = json_loads(
        SIL("[{\"name\":\"a\",\"value\":\"x\",\"isRegex\":false}]", "2023-11-14T22:13:20Z", "2023-11-15T00:00:00Z"), 0,
        NULL);
    json_object_set_new(j, "id", json_string(id));
    an_silence_t *s = NULL;
    assert_int_equal(alerts_silence_from_json(j, false, &s, &err), 0);
    assert_int_equal(alerts_silence_set(&ss, s, T0 + 1000, id2, &err), 0);
    assert_string_equal(id, id2);
    assert_int_equal(ss.n, 1);
    json_decref(j);
    /* other matchers: the old one expires, a new id */
    j = json_loads(
        SIL("[{\"name\":\"a\",\"value\":\"y\",\"isRegex\":false}]", "2023-11-14T22:13:20Z", "2023-11-15T00:00:00Z"), 0,
        NULL);
    json_object_set_new(j, "id", json_string(id));
    assert_int_equal(alerts_silence_from_json(j, false, &s, &err), 0);
    assert_int_equal(alerts_silence_set(&ss, s, T0 + 2000, id2, &err), 0);
    assert_string_not_equal(id, id2);
    assert_int_equal(ss.n, 2);
    assert_int_equal(alerts_silence_state(alerts_silence_get(&ss, id), T0 + 2000), AN_SIL_EXPIRED);
    json_decref(j);
    /* expire: active -> ends now; again -> error; unknown -> -2 */
    assert_int_equal(alerts_silence_expire(&ss, id2, T0 + 3000, &err), 0);
    assert_int_equal(alerts_silence_get(&ss, id2)->ends_at_ms, T0 + 3000);
    assert_int_equal(alerts_silence_expire(&ss, id2, T0 + 4000, &err), -1);
    char want[128];
    snprintf(want, sizeof(want), "silence %s already expired", id2);
    assert_string_equal((const char *)err.data, want);
    assert_int_equal(alerts_silence_expire(&ss, "nope", T0, &err), -2);
    /* pending: expire sets both ends to now */
    assert_int_equal(
        set(&ss,
            SIL("[{\"name\":\"b\",\"value\":\"x\",\"isRegex\":false}]", "2023-11-15T22:13:20Z", "2023-11-16T23:13:20Z"),
            T0, id, &err),
        0);
    assert_int_equal(alerts_silence_state(alerts_silence_get(&ss, id), T0), AN_SIL_PENDING);
    assert_int_equal(alerts_silence_expire(&ss, id, T0 + 5000, &err), 0);
    assert_int_equal(alerts_silence_get(&ss, id)->starts_at_ms, T0 + 5000);
    assert_int_equal(alerts_silence_state(alerts_silence_get(&ss, id), T0 + 5000), AN_SIL_EXPIRED);

    /* persistence round trip */
    json_t *dump = alerts_silence_dump(&ss);
    an_silences_t back;
    alerts_silence_init(&back);
    assert_int_equal(alerts_silence_load(&back, dump), 0);
    assert_int_equal(back.n, ss.n);
    for (size_t i = 0; i < ss.n; i++) {
        buf_t x = { 0 }, y = { 0 };
        alerts_silence_json(ss.v[i], T0, &x);
        alerts_silence_json(back.v[i], T0, &y);
        assert_string_equal((const char *)x.data, (const char *)y.data);
        buf_fini(&x);
        buf_fini(&y);
    }
    json_decref(dump);
    /* a malformed file is refused as a whole and leaves the list alone */
    json_t *badj = json_loads("[{\"id\":\"x\"}]", 0, NULL);
    assert_int_equal(alerts_silence_load(&back, badj), -1);
    assert_int_equal(back.n, ss.n);
    json_decref(badj);
    /* so is one past the API's bounds: an id longer than a UUID slot,
     * more than AN_SIL_MAX_MATCHERS matchers, a comment over AN_SIL_MAX_TEXT */
    for (int k = 0; k < 3; k++) {
        json_t *over = alerts_silence_dump(&ss);
        json_t *e = json_array_get(over, 0);
        if (k == 0) {
            json_object_set_new(e, "id", json_string("0123456789012345678901234567890123456789-x"));
        } else if (k == 1) {
            json_t *ms = json_object_get(e, "matchers");
            while (json_array_size(ms) <= AN_SIL_MAX_MATCHERS) {
                json_array_append_new(
                    ms, json_pack("{s:s,s:s,s:b,s:b}", "name", "n", "value", "v", "isRegex", 0, "isEqual", 1));
            }
        } else {
            char *big = calloc(1, AN_SIL_MAX_TEXT + 2);
            memset(big, 'c', AN_SIL_MAX_TEXT + 1);
            json_object_set_new(e, "comment", json_string(big));
            free(big);
        }
        assert_int_equal(alerts_silence_load(&back, over), -1);
        assert_int_equal(back.n, ss.n);
        json_decref(over);
    }
    /* gc after retention */
    assert_int_equal(alerts_silence_gc(&back, T0 + 10000, 1000000000), 0);
    assert_int_equal(alerts_silence_gc(&back, T0 + 4LL * 86400000, 3600000), 3);
    alerts_silence_fini(&back);
    buf_fini(&err);
    alerts_silence_fini(&ss);
}

/* Integer times come only from the state file; there any int64 is safe
 * (GC compares against now - retention, saturating). */
static void test_integer_times(void **state)
{
    (void)state;
    json_t *j = json_loads("{\"matchers\":[{\"name\":\"a\",\"value\":\"b\",\"isRegex\":false}],"
                           "\"startsAt\":1700000000000,\"endsAt\":\"2030-01-01T00:00:00Z\",\"createdBy\":\"me\","
                           "\"comment\":\"c\"}",
                           0, NULL);
    an_silence_t *s = NULL;
    buf_t err = { 0 };
    assert_int_equal(alerts_silence_from_json(j, false, &s, &err), -5);
    assert_null(s);
    assert_string_equal((const char *)err.data, "json: cannot unmarshal number into Go value of type string");
    json_decref(j);
    json_t *st = json_loads("[{\"id\":\"0c2b5d8a-5f6b-4ba6-a2a6-3a0fd8a3e5ab\",\"matchers\":[{\"name\":\"a\","
                            "\"value\":\"b\",\"isRegex\":false,\"isEqual\":true}],\"startsAt\":1700000000000,"
                            "\"endsAt\":9223372036854775807,\"updatedAt\":1700000000000,\"createdBy\":\"me\","
                            "\"comment\":\"c\"}]",
                            0, NULL);
    assert_non_null(st);
    an_silences_t ss;
    alerts_silence_init(&ss);
    assert_int_equal(alerts_silence_load(&ss, st), 0);
    assert_int_equal(ss.n, 1);
    assert_int_equal(ss.v[0]->ends_at_ms, INT64_MAX);
    assert_int_equal(alerts_silence_gc(&ss, T0, 120LL * 3600 * 1000), 0);
    assert_int_equal(alerts_silence_gc(&ss, INT64_MIN + 5, 120LL * 3600 * 1000), 0);
    assert_int_equal(alerts_silence_state(ss.v[0], T0), AN_SIL_ACTIVE);
    buf_t b = { 0 };
    alerts_silence_json(ss.v[0], T0, &b);
    assert_non_null(strstr((const char *)b.data, "\"state\":\"active\""));
    buf_fini(&b);
    alerts_silence_fini(&ss);
    json_decref(st);
    buf_fini(&err);
}

/* The API's bounds: matchers per silence, comment and createdBy bytes,
 * live silences (an update of a live one is not a new one). */
static void test_limits(void **state)
{
    (void)state;
    an_silences_t ss;
    alerts_silence_init(&ss);
    buf_t err = { 0 };
    an_silence_t *s =
        mk(SIL("[{\"name\":\"a\",\"value\":\"b\",\"isRegex\":false}]", "2023-11-14T22:13:20Z", "2023-11-16T23:13:20Z"));
    assert_int_equal(alerts_silence_check_limits(&ss, s, T0, &err), 0);
    s->nm = AN_SIL_MAX_MATCHERS + 1; /* only counted */
    assert_int_equal(alerts_silence_check_limits(&ss, s, T0, &err), -1);
    assert_string_equal((const char *)err.data, "silence invalid: too many matchers (65, at most 64)");
    s->nm = 1;
    char *big = calloc(1, AN_SIL_MAX_TEXT + 2);
    memset(big, 'x', AN_SIL_MAX_TEXT + 1);
    char *keep = s->comment;
    s->comment = big;
    buf_reset(&err);
    assert_int_equal(alerts_silence_check_limits(&ss, s, T0, &err), -1);
    assert_string_equal((const char *)err.data,
                        "silence invalid: comment and createdBy may hold at most 4096 bytes each");
    s->comment = keep;
    free(big);
    char id[40];
    for (size_t i = 0; i < AN_SIL_MAX_LIVE; i++) {
        assert_int_equal(set(&ss,
                             SIL("[{\"name\":\"a\",\"value\":\"b\",\"isRegex\":false}]", "2023-11-14T22:13:20Z",
                                 "2023-11-16T23:13:20Z"),
                             T0, id, &err),
                         0);
    }
    buf_reset(&err);
    assert_int_equal(alerts_silence_check_limits(&ss, s, T0, &err), -1);
    assert_string_equal((const char *)err.data,
                        "too many silences: 10000 are active or pending (at most 10000); expire some first");
    snprintf(s->id, sizeof(s->id), "%s", id); /* updating a live one is fine */
    assert_int_equal(alerts_silence_check_limits(&ss, s, T0, &err), 0);
    assert_int_equal(alerts_silence_expire(&ss, id, T0 + 1, &err), 0);
    s->id[0] = 0;
    assert_int_equal(alerts_silence_check_limits(&ss, s, T0 + 1, &err), 0);
    alerts_silence_free(s);
    alerts_silence_fini(&ss);
    buf_fini(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_and_state),
        cmocka_unit_test(test_validation),
        cmocka_unit_test(test_update_and_expire),
        cmocka_unit_test(test_integer_times),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
