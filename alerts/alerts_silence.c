/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_silence: Alertmanager's silences (silence/silence.go) as a small
 * in-memory list the notifier guards with its lock.
 *
 * A silence has matchers ({name, value, isRegex, isEqual}), startsAt,
 * endsAt, createdBy, comment and a UUID. Its state follows from the time:
 * pending before startsAt, active until endsAt, expired after. Set
 * follows Silences.Set: a known id is updated in place when canUpdate
 * allows (same matchers; an active silence keeps its start and may not
 * end in the past; a pending one may not start in the past), otherwise the
 * old one is expired and a new id issued; a new silence never starts in
 * the past. Expire ends an active silence now and turns a pending one into
 * an expired one. Validation texts are Alertmanager's ("silence invalid:
 * at least one matcher must not match the empty string", ...).
 *
 * The API takes times as RFC 3339 strings only; the persisted form
 * (silences.json) is a JSON array of the silences with millisecond
 * integer times; loading skips nothing silently: a malformed element
 * makes the whole file corrupt (the caller sets it aside). Any int64 time
 * is safe: comparisons against now - retention saturate.
 */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "alerts/alerts_int.h"
#include "common/hash.h"
#include "common/json_out.h"
#include "common/mem.h"

void alerts_silence_init(an_silences_t *s)
{
    memset(s, 0, sizeof(*s));
}

void alerts_silence_free(an_silence_t *sil)
{
    if (!sil) {
        return;
    }
    for (size_t i = 0; i < sil->nm; i++) {
        if (sil->m) {
            matcher_fini(&sil->m[i]);
        }
        mem_free(sil->sm[i].name);
        mem_free(sil->sm[i].value);
    }
    mem_free(sil->m);
    mem_free(sil->sm);
    mem_free(sil->created_by);
    mem_free(sil->comment);
    mem_free(sil);
}

void alerts_silence_fini(an_silences_t *s)
{
    for (size_t i = 0; i < s->n; i++) {
        alerts_silence_free(s->v[i]);
    }
    mem_free(s->v);
    memset(s, 0, sizeof(*s));
}

an_silence_state_t alerts_silence_state(const an_silence_t *sil, int64_t now_ms)
{
    if (now_ms < sil->starts_at_ms) {
        return AN_SIL_PENDING;
    }
    if (now_ms < sil->ends_at_ms) {
        return AN_SIL_ACTIVE;
    }
    return AN_SIL_EXPIRED;
}

const char *alerts_silence_state_name(an_silence_state_t st)
{
    static const char *const names[] = { "expired", "active", "pending" };
    return names[st];
}

an_silence_t *alerts_silence_get(const an_silences_t *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->v[i]->id, id) == 0) {
            return s->v[i];
        }
    }
    return NULL;
}

static void new_uuid(char *out)
{
    uint8_t b[16] = { 0 };
    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
        uint64_t t = (uint64_t)(clock_mono_s() * 1e9);
        uint64_t h1 = hash_bytes_seed(&t, sizeof(t), (uint64_t)(uintptr_t)out);
        uint64_t h2 = hash_bytes_seed(&h1, sizeof(h1), t);
        memcpy(b, &h1, 8);
        memcpy(b + 8, &h2, 8);
    }
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    static const char hex[] = "0123456789abcdef";
    size_t k = 0;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out[k++] = '-';
        }
        out[k++] = hex[b[i] >> 4];
        out[k++] = hex[b[i] & 15];
    }
    out[k] = 0;
}

static match_type_t sm_type(const an_silence_matcher_t *m)
{
    if (m->is_regex) {
        return m->is_equal ? MATCH_RE : MATCH_NRE;
    }
    return m->is_equal ? MATCH_EQ : MATCH_NEQ;
}

/* Alertmanager's validateSilence (without the id and updatedAt checks,
 * which this code guarantees); compiles the matchers into sil->m. */
static int validate(an_silence_t *sil, buf_t *err)
{
    if (sil->nm == 0) {
        buf_puts(err, "silence invalid: at least one matcher required");
        return -1;
    }
    sil->m = mem_calloc(sil->nm, sizeof(matcher_t));
    bool all_empty = true;
    size_t i = 0;
    for (; i < sil->nm; i++) {
        const an_silence_matcher_t *m = &sil->sm[i];
        if (!labels_valid_label_name(str_cstr(m->name))) {
            buf_printf(err, "silence invalid: invalid label matcher %zu: invalid label name ", i);
            labels_quote(str_cstr(m->name), err);
            goto fail;
        }
        if (!str_utf8_valid(m->value, strlen(m->value))) {
            buf_printf(err, "silence invalid: invalid label matcher %zu: invalid label value ", i);
            labels_quote(str_cstr(m->value), err);
            goto fail;
        }
        char why[256];
        if (matcher_init(&sil->m[i], sm_type(m), str_cstr(m->name), str_cstr(m->value), why, sizeof(why)) != 0) {
            buf_printf(err, "silence invalid: invalid label matcher %zu: invalid regular expression ", i);
            labels_quote(str_cstr(m->value), err);
            buf_printf(err, ": %s", why);
            goto fail;
        }
        all_empty = all_empty && matcher_matches_empty(&sil->m[i]);
    }
    if (all_empty) {
        buf_puts(err, "silence invalid: at least one matcher must not match the empty string");
        return -1;
    }
    if (sil->starts_at_ms == 0) {
        buf_puts(err, "silence invalid: invalid zero start timestamp");
        return -1;
    }
    if (sil->ends_at_ms == 0) {
        buf_puts(err, "silence invalid: invalid zero end timestamp");
        return -1;
    }
    if (sil->ends_at_ms < sil->starts_at_ms) {
        buf_puts(err, "silence invalid: end time must not be before start time");
        return -1;
    }
    return 0;
fail:
    for (size_t k = 0; k < i; k++) {
        matcher_fini(&sil->m[k]);
    }
    mem_free(sil->m);
    sil->m = NULL;
    return -1;
}

/* 1 a time, 0 not a valid time string, -1 not a string (integers are
 * times only from_state). */
static int get_time(json_t *j, const char *key, bool from_state, int64_t *ms)
{
    json_t *v = json_object_get(j, key);
    if (from_state && json_is_integer(v)) {
        *ms = json_integer_value(v);
        return 1;
    }
    if (!json_is_string(v)) {
        return -1;
    }
    int64_t ns;
    if (!time_parse_rfc3339_ns(json_string_value(v), json_string_length(v), &ns)) {
        return 0;
    }
    *ms = ns / 1000000;
    return 1;
}

/* encoding/json's name of a JSON value's type. */
static const char *json_type_word(const json_t *v)
{
    if (json_is_number(v)) {
        return "number";
    }
    if (json_is_boolean(v)) {
        return "bool";
    }
    if (json_is_array(v)) {
        return "array";
    }
    return json_is_object(v) ? "object" : "value";
}

int alerts_silence_from_json(json_t *j, bool from_state, an_silence_t **out, buf_t *err)
{
    *out = NULL;
    if (!json_is_object(j)) {
        buf_puts(err, "parsing silence: expected a JSON object");
        return -1;
    }
    static const char *const req[] = { "comment", "createdBy", "endsAt", "matchers", "startsAt" };
    for (size_t i = 0; i < 5; i++) {
        if (!json_object_get(j, req[i])) {
            buf_printf(err, "%s in body is required", req[i]);
            return -3;
        }
    }
    if (json_is_array(json_object_get(j, "matchers")) && json_array_size(json_object_get(j, "matchers")) == 0) {
        buf_puts(err, "matchers in body should have at least 1 items");
        return -4;
    }
    json_t *ms = json_object_get(j, "matchers");
    json_t *cb = json_object_get(j, "createdBy"), *cm = json_object_get(j, "comment");
    json_t *id = json_object_get(j, "id");
    if (!json_is_array(ms) || !json_is_string(cb) || !json_is_string(cm) || (id && !json_is_string(id))) {
        buf_puts(err, "parsing silence: wrong field type");
        return -1;
    }
    an_silence_t *sil = mem_calloc(1, sizeof(*sil));
    sil->created_by = mem_strdup(json_string_value(cb));
    sil->comment = mem_strdup(json_string_value(cm));
    if (id) {
        snprintf(sil->id, sizeof(sil->id), "%s", json_string_value(id));
    }
    static const char *const tkeys[] = { "startsAt", "endsAt" };
    int64_t *tv[] = { &sil->starts_at_ms, &sil->ends_at_ms };
    for (size_t i = 0; i < 2; i++) {
        int rc = get_time(j, tkeys[i], from_state, tv[i]);
        if (rc < 0 && !from_state && !json_is_null(json_object_get(j, tkeys[i]))) {
            /* strfmt.DateTime decodes a JSON string; go-swagger answers 400 */
            buf_printf(err, "json: cannot unmarshal %s into Go value of type string",
                       json_type_word(json_object_get(j, tkeys[i])));
            alerts_silence_free(sil);
            return -5;
        }
        if (rc <= 0) {
            buf_puts(err, "parsing silence: startsAt and endsAt must be RFC 3339 times");
            goto fail;
        }
    }
    get_time(j, "updatedAt", from_state, &sil->updated_at_ms);
    size_t n = json_array_size(ms);
    sil->sm = mem_calloc(n + 1, sizeof(*sil->sm));
    for (size_t i = 0; i < n; i++) {
        json_t *m = json_array_get(ms, i);
        json_t *name = json_object_get(m, "name"), *value = json_object_get(m, "value");
        json_t *isre = json_object_get(m, "isRegex"), *iseq = json_object_get(m, "isEqual");
        if (!json_is_string(name) || !json_is_string(value) || !json_is_boolean(isre) ||
            (iseq && !json_is_boolean(iseq))) {
            buf_printf(err, "matchers.%zu: name, value (strings) and isRegex (boolean) are required", i);
            goto fail;
        }
        sil->sm[i].name = mem_strdup(json_string_value(name));
        sil->sm[i].value = mem_strdup(json_string_value(value));
        sil->sm[i].is_regex = json_is_true(isre);
        sil->sm[i].is_equal = iseq ? json_is_true(iseq) : true;
        sil->nm++;
    }
    *out = sil;
    return 0;
fail:
    alerts_silence_free(sil);
    return -1;
}

static bool same_matchers(const an_silence_t *a, const an_silence_t *b)
{
    if (a->nm != b->nm) {
        return false;
    }
    for (size_t i = 0; i < a->nm; i++) {
        if (strcmp(a->sm[i].name, b->sm[i].name) != 0 || strcmp(a->sm[i].value, b->sm[i].value) != 0 ||
            a->sm[i].is_regex != b->sm[i].is_regex || a->sm[i].is_equal != b->sm[i].is_equal) {
            return false;
        }
    }
    return true;
}

static bool can_update(const an_silence_t *a, const an_silence_t *b, int64_t now_ms)
{
    if (!same_matchers(a, b)) {
        return false;
    }
    switch (alerts_silence_state(a, now_ms)) {
    case AN_SIL_ACTIVE:
        return b->starts_at_ms == a->starts_at_ms && b->ends_at_ms >= now_ms;
    case AN_SIL_PENDING:
        return b->starts_at_ms >= now_ms;
    case AN_SIL_EXPIRED:
        break;
    }
    return false;
}

static void push(an_silences_t *s, an_silence_t *sil)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->v = mem_realloc(s->v, s->cap * sizeof(*s->v));
    }
    s->v[s->n++] = sil;
}

int alerts_silence_set(an_silences_t *s, an_silence_t *sil, int64_t now_ms, char *id, buf_t *err)
{
    an_silence_t *prev = sil->id[0] ? alerts_silence_get(s, sil->id) : NULL;
    if (sil->id[0] && !prev) {
        alerts_silence_free(sil);
        buf_puts(err, "silence not found");
        return -2;
    }
    if (validate(sil, err) != 0) {
        alerts_silence_free(sil);
        return -1;
    }
    sil->updated_at_ms = now_ms;
    if (prev && can_update(prev, sil, now_ms)) {
        for (size_t i = 0; i < s->n; i++) {
            if (s->v[i] == prev) {
                s->v[i] = sil;
            }
        }
        alerts_silence_free(prev);
        snprintf(id, 40, "%s", sil->id);
        return 0;
    }
    if (prev && alerts_silence_state(prev, now_ms) != AN_SIL_EXPIRED) {
        alerts_silence_expire(s, prev->id, now_ms, err);
    }
    new_uuid(sil->id);
    if (sil->starts_at_ms < now_ms) {
        sil->starts_at_ms = now_ms;
    }
    if (sil->ends_at_ms < sil->starts_at_ms) {
        sil->ends_at_ms = sil->starts_at_ms;
    }
    push(s, sil);
    snprintf(id, 40, "%s", sil->id);
    return 0;
}

int alerts_silence_expire(an_silences_t *s, const char *id, int64_t now_ms, buf_t *err)
{
    an_silence_t *sil = alerts_silence_get(s, id);
    if (!sil) {
        return -2;
    }
    switch (alerts_silence_state(sil, now_ms)) {
    case AN_SIL_EXPIRED:
        buf_printf(err, "silence %s already expired", id);
        return -1;
    case AN_SIL_ACTIVE:
        sil->ends_at_ms = now_ms;
        break;
    case AN_SIL_PENDING:
        sil->starts_at_ms = now_ms;
        sil->ends_at_ms = now_ms;
        break;
    }
    sil->updated_at_ms = now_ms;
    return 0;
}

size_t alerts_silence_mutes(an_silences_t *s, const label_t *ls, size_t n, int64_t now_ms, buf_t *ids)
{
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++) {
        an_silence_t *sil = s->v[i];
        if (alerts_silence_state(sil, now_ms) != AN_SIL_ACTIVE) {
            continue;
        }
        bool all = true;
        for (size_t j = 0; j < sil->nm && all; j++) {
            all = matcher_matches(&sil->m[j], labels_get(ls, n, sil->sm[j].name));
        }
        if (all) {
            k++;
            if (ids) {
                buf_puts(ids, sil->id);
                buf_putc(ids, '\n');
            }
        }
    }
    return k;
}

/* The per-silence AN_SIL_MAX_* bounds: 0, or -1 with the reason in err. */
static int check_size(const an_silence_t *sil, buf_t *err)
{
    if (sil->nm > AN_SIL_MAX_MATCHERS) {
        buf_printf(err, "silence invalid: too many matchers (%zu, at most %d)", sil->nm, AN_SIL_MAX_MATCHERS);
        return -1;
    }
    if (strlen(sil->comment) > AN_SIL_MAX_TEXT || strlen(sil->created_by) > AN_SIL_MAX_TEXT) {
        buf_printf(err, "silence invalid: comment and createdBy may hold at most %d bytes each", AN_SIL_MAX_TEXT);
        return -1;
    }
    return 0;
}

int alerts_silence_check_limits(const an_silences_t *s, const an_silence_t *sil, int64_t now_ms, buf_t *err)
{
    if (check_size(sil, err) != 0) {
        return -1;
    }
    /* An update of a live silence replaces it (in place, or expires it):
     * the live count does not grow. */
    const an_silence_t *prev = sil->id[0] ? alerts_silence_get(s, sil->id) : NULL;
    if (prev && alerts_silence_state(prev, now_ms) != AN_SIL_EXPIRED) {
        return 0;
    }
    size_t live = 0;
    for (size_t i = 0; i < s->n; i++) {
        live += alerts_silence_state(s->v[i], now_ms) != AN_SIL_EXPIRED;
    }
    if (live >= AN_SIL_MAX_LIVE) {
        buf_printf(err, "too many silences: %zu are active or pending (at most %d); expire some first", live,
                   AN_SIL_MAX_LIVE);
        return -1;
    }
    return 0;
}

size_t alerts_silence_gc(an_silences_t *s, int64_t now_ms, int64_t retention_ms)
{
    size_t k = 0, dropped = 0;
    int64_t before;
    if (retention_ms >= 0) {
        before = now_ms < INT64_MIN + retention_ms ? INT64_MIN : now_ms - retention_ms;
    } else {
        before = now_ms > INT64_MAX + retention_ms ? INT64_MAX : now_ms - retention_ms;
    }
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i]->ends_at_ms < before) {
            alerts_silence_free(s->v[i]);
            dropped++;
        } else {
            s->v[k++] = s->v[i];
        }
    }
    s->n = k;
    return dropped;
}

static void json_time(buf_t *b, int64_t ms)
{
    char t[40];
    size_t n = time_format_rfc3339(ms, t);
    json_str(b, t, n);
}

void alerts_silence_json(const an_silence_t *sil, int64_t now_ms, buf_t *b)
{
    buf_puts(b, "{\"id\":");
    json_cstr(b, sil->id);
    buf_puts(b, ",\"status\":{\"state\":");
    json_cstr(b, alerts_silence_state_name(alerts_silence_state(sil, now_ms)));
    buf_puts(b, "},\"updatedAt\":");
    json_time(b, sil->updated_at_ms);
    buf_puts(b, ",\"comment\":");
    json_cstr(b, sil->comment);
    buf_puts(b, ",\"createdBy\":");
    json_cstr(b, sil->created_by);
    buf_puts(b, ",\"endsAt\":");
    json_time(b, sil->ends_at_ms);
    buf_puts(b, ",\"matchers\":[");
    for (size_t i = 0; i < sil->nm; i++) {
        buf_printf(b, "%s{\"isEqual\":%s,\"isRegex\":%s,\"name\":", i ? "," : "",
                   sil->sm[i].is_equal ? "true" : "false", sil->sm[i].is_regex ? "true" : "false");
        json_cstr(b, sil->sm[i].name);
        buf_puts(b, ",\"value\":");
        json_cstr(b, sil->sm[i].value);
        buf_putc(b, '}');
    }
    buf_puts(b, "],\"startsAt\":");
    json_time(b, sil->starts_at_ms);
    buf_putc(b, '}');
}

json_t *alerts_silence_dump(const an_silences_t *s)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < s->n; i++) {
        const an_silence_t *sil = s->v[i];
        json_t *ms = json_array();
        for (size_t j = 0; j < sil->nm; j++) {
            json_array_append_new(ms, json_pack("{s:s,s:s,s:b,s:b}", "name", sil->sm[j].name, "value", sil->sm[j].value,
                                                "isRegex", sil->sm[j].is_regex, "isEqual", sil->sm[j].is_equal));
        }
        json_array_append_new(arr, json_pack("{s:s,s:o,s:I,s:I,s:I,s:s,s:s}", "id", sil->id, "matchers", ms, "startsAt",
                                             (json_int_t)sil->starts_at_ms, "endsAt", (json_int_t)sil->ends_at_ms,
                                             "updatedAt", (json_int_t)sil->updated_at_ms, "createdBy", sil->created_by,
                                             "comment", sil->comment));
    }
    return arr;
}

int alerts_silence_load(an_silences_t *s, json_t *j)
{
    if (!json_is_array(j)) {
        return -1;
    }
    an_silences_t tmp;
    alerts_silence_init(&tmp);
    for (size_t i = 0; i < json_array_size(j); i++) {
        buf_t err = { 0 };
        an_silence_t *sil = NULL;
        json_t *e = json_array_get(j, i);
        json_t *id = json_object_get(e, "id");
        int rc = alerts_silence_from_json(e, true, &sil, &err);
        if (rc == 0 && (!json_is_string(id) || !*sil->id || json_string_length(id) >= sizeof(sil->id) ||
                        check_size(sil, &err) != 0)) {
            alerts_silence_free(sil);
            rc = -1;
        }
        if (rc == 0) {
            int64_t upd = sil->updated_at_ms;
            rc = validate(sil, &err);
            sil->updated_at_ms = upd;
            if (rc == 0) {
                push(&tmp, sil);
            } else {
                alerts_silence_free(sil);
            }
        }
        buf_fini(&err);
        if (rc != 0) {
            alerts_silence_fini(&tmp);
            return -1;
        }
    }
    alerts_silence_fini(s);
    *s = tmp;
    return 0;
}
