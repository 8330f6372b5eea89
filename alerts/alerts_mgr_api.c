/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_mgr_api: GET /api/v1/rules and GET /api/v1/alerts, with
 * Prometheus 3's JSON (web/api/v1/api.go: RuleGroup, AlertingRule,
 * RecordingRule, Alert, field order included) and its filters: type,
 * rule_name[], rule_group[], file[], exclude_alerts, match[] (matched
 * against the rules' own labels) and pagination by group_limit and
 * group_next_token.
 *
 * The whole answer is written under the state lock (m->mu) from the
 * request's arena; nothing is cached. An alerting rule's state is the
 * highest state among its alerts; only pending and firing alerts are
 * listed, as Prometheus lists ActiveAlerts.
 */
#include <stdlib.h>
#include <string.h>

#include "alerts/alerts_int.h"
#include "common/hash.h"
#include "common/json_out.h"
#include "common/mem.h"

static void api_error(http_resp_t *resp, const char *msg)
{
    resp->status = 400;
    resp->content_type = "application/json";
    buf_puts(&resp->body, "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":");
    json_cstr(&resp->body, msg);
    buf_puts(&resp->body, "}");
}

static void json_kv(buf_t *b, const alerts_rules_kv_t *kv, size_t n)
{
    /* Prometheus prints labels.Labels: sorted by name. */
    const alerts_rules_kv_t **order = mem_alloc((n ? n : 1) * sizeof(*order));
    for (size_t i = 0; i < n; i++) {
        order[i] = &kv[i];
        for (size_t k = i; k > 0 && strcmp(order[k - 1]->name, order[k]->name) > 0; k--) {
            const alerts_rules_kv_t *t = order[k];
            order[k] = order[k - 1];
            order[k - 1] = t;
        }
    }
    buf_putc(b, '{');
    for (size_t i = 0; i < n; i++) {
        if (i) {
            buf_putc(b, ',');
        }
        json_cstr(b, order[i]->name);
        buf_putc(b, ':');
        json_cstr(b, order[i]->value);
    }
    buf_putc(b, '}');
    mem_free(order);
}

static void json_seconds(buf_t *b, double s)
{
    json_go_float(b, s, 'g');
}

static void json_alert(buf_t *b, const mgr_alert_t *al)
{
    buf_puts(b, "{\"labels\":");
    json_labels(b, al->labels, al->nlabels);
    buf_puts(b, ",\"annotations\":");
    json_labels(b, al->annotations, al->nannotations);
    buf_puts(b, ",\"state\":");
    json_cstr(b, mgr_state_str(al->state));
    buf_puts(b, ",\"activeAt\":");
    mgr_json_time(b, al->active_at);
    if (al->keep_firing_since != 0) {
        buf_puts(b, ",\"keepFiringSince\":");
        mgr_json_time(b, al->keep_firing_since);
    }
    buf_puts(b, ",\"value\":\"");
    json_go_float(b, al->value, 'e');
    buf_puts(b, "\"}");
}

static const char *health_str(mgr_health_t h)
{
    return h == MGR_HEALTH_OK ? "ok" : h == MGR_HEALTH_ERR ? "err" : "unknown";
}

typedef struct rules_filter {
    int type; /* 0 any, 1 alert, 2 record */
    const char **names, **groups, **files;
    size_t nnames, ngroups, nfiles;
    bool exclude_alerts;
    promql_node_t **match;
    size_t nmatch;
    int64_t group_limit;
    const char *next_token;
} rules_filter_t;

static bool in_list(const char *s, const char **l, size_t n)
{
    if (n == 0) {
        return true;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(s, l[i]) == 0) {
            return true;
        }
    }
    return false;
}

static bool rule_matches(const rules_filter_t *f, const mgr_rule_t *r)
{
    if ((f->type == 1 && !r->alerting) || (f->type == 2 && r->alerting)) {
        return false;
    }
    if (!in_list(r->alerting ? r->def->alert : r->def->record, f->names, f->nnames)) {
        return false;
    }
    if (f->nmatch == 0) {
        return true;
    }
    for (size_t s = 0; s < f->nmatch; s++) {
        const promql_node_t *sel = f->match[s];
        bool all = true;
        for (size_t k = 0; k < sel->u.vs.nmatchers && all; k++) {
            matcher_t *mt = &sel->u.vs.matchers[k];
            str_t v = STR_LIT("");
            for (size_t j = 0; j < r->def->nlabels; j++) {
                if (strlen(r->def->labels[j].name) == mt->name_len &&
                    memcmp(r->def->labels[j].name, mt->name, mt->name_len) == 0) {
                    v = str_from(r->def->labels[j].value, strlen(r->def->labels[j].value));
                }
            }
            all = matcher_matches(mt, v);
        }
        if (all) {
            return true;
        }
    }
    return false;
}

/* Groups in Prometheus' API order: by file, then name. */
static int group_order_cmp(const void *x, const void *y)
{
    const mgr_group_t *a = *(const mgr_group_t *const *)x, *b = *(const mgr_group_t *const *)y;
    int c = strcmp(a->file, b->file);
    return c != 0 ? c : strcmp(a->name, b->name);
}

static const mgr_group_t **groups_sorted(const alerts_mgr_t *m, arena_t *a, size_t *n)
{
    *n = m->rs ? m->rs->ngroups : 0;
    const mgr_group_t **gs = arena_alloc(a, (*n ? *n : 1) * sizeof(*gs));
    for (size_t i = 0; i < *n; i++) {
        gs[i] = &m->rs->groups[i];
    }
    qsort(gs, *n, sizeof(*gs), group_order_cmp);
    return gs;
}

static void group_token(const mgr_group_t *g, char out[17])
{
    uint64_t h = hash_bytes_seed(g->name, strlen(g->name), hash_bytes(g->file, strlen(g->file)));
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

static void json_rule(buf_t *b, const mgr_rule_t *r, bool exclude_alerts)
{
    const alerts_rule_t *d = r->def;
    if (r->alerting) {
        alerts_state_t st = ALERTS_STATE_INACTIVE;
        for (size_t i = 0; i < r->nalerts; i++) {
            if (r->alerts[i]->state > st) {
                st = r->alerts[i]->state;
            }
        }
        buf_puts(b, "{\"state\":");
        json_cstr(b, mgr_state_str(st));
        buf_puts(b, ",\"name\":");
        json_cstr(b, d->alert);
        buf_puts(b, ",\"query\":");
        json_cstr(b, r->query);
        buf_puts(b, ",\"duration\":");
        json_seconds(b, (double)d->for_ms / 1000.0);
        buf_puts(b, ",\"keepFiringFor\":");
        json_seconds(b, (double)d->keep_firing_for_ms / 1000.0);
        buf_puts(b, ",\"labels\":");
        json_kv(b, d->labels, d->nlabels);
        buf_puts(b, ",\"annotations\":");
        json_kv(b, d->annotations, d->nannotations);
        buf_puts(b, ",\"alerts\":");
        if (exclude_alerts) {
            buf_puts(b, "null");
        } else {
            buf_putc(b, '[');
            bool first = true;
            for (size_t i = 0; i < r->nalerts; i++) {
                if (r->alerts[i]->state == ALERTS_STATE_INACTIVE) {
                    continue;
                }
                if (!first) {
                    buf_putc(b, ',');
                }
                first = false;
                json_alert(b, r->alerts[i]);
            }
            buf_putc(b, ']');
        }
    } else {
        buf_puts(b, "{\"name\":");
        json_cstr(b, d->record);
        buf_puts(b, ",\"query\":");
        json_cstr(b, r->query);
        buf_puts(b, ",\"labels\":");
        json_kv(b, d->labels, d->nlabels);
    }
    buf_puts(b, ",\"health\":");
    json_cstr(b, health_str(r->health));
    if (r->last_error != NULL) {
        buf_puts(b, ",\"lastError\":");
        json_cstr(b, r->last_error);
    }
    buf_puts(b, ",\"evaluationTime\":");
    json_seconds(b, r->eval_seconds);
    buf_puts(b, ",\"lastEvaluation\":");
    mgr_json_time(b, r->last_eval_ms);
    buf_puts(b, ",\"type\":");
    json_cstr(b, r->alerting ? "alerting" : "recording");
    buf_putc(b, '}');
}

/* Go's strconv.ParseBool. */
static bool parse_go_bool(const char *s, bool *out)
{
    static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
    static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcmp(s, yes[i]) == 0 || strcmp(s, no[i]) == 0) {
            *out = strcmp(s, yes[i]) == 0;
            return true;
        }
    }
    return false;
}

static bool parse_filter(http_req_t *req, http_resp_t *resp, rules_filter_t *f)
{
    memset(f, 0, sizeof(*f));
    const char *type = http_req_arg(req, "type");
    if (type != NULL && type[0] != '\0') {
        if (strcmp(type, "alert") == 0) {
            f->type = 1;
        } else if (strcmp(type, "record") == 0) {
            f->type = 2;
        } else {
            buf_t msg;
            buf_init(&msg);
            buf_puts(&msg, "invalid parameter \"type\": not supported value \"");
            buf_puts(&msg, type);
            buf_puts(&msg, "\"");
            buf_putc(&msg, 0);
            api_error(resp, (const char *)msg.data);
            buf_fini(&msg);
            return false;
        }
    }
    f->nnames = http_req_args(req, "rule_name[]", &f->names);
    f->ngroups = http_req_args(req, "rule_group[]", &f->groups);
    f->nfiles = http_req_args(req, "file[]", &f->files);
    const char *ex = http_req_arg(req, "exclude_alerts");
    if (ex != NULL && ex[0] != '\0' && !parse_go_bool(ex, &f->exclude_alerts)) {
        api_error(resp, "invalid parameter \"exclude_alerts\": strconv.ParseBool: invalid syntax");
        return false;
    }
    const char **match;
    size_t nmatch = http_req_args(req, "match[]", &match);
    arena_t *a = http_req_arena(req);
    f->match = arena_alloc(a, (nmatch ? nmatch : 1) * sizeof(*f->match));
    for (size_t i = 0; i < nmatch; i++) {
        promql_error_t pe;
        if (promql_parse_selector(match[i], strlen(match[i]), a, &f->match[f->nmatch], &pe) != 0) {
            char msg[700];
            snprintf(msg, sizeof(msg), "invalid parameter \"match[]\": %s", pe.msg);
            api_error(resp, msg);
            return false;
        }
        f->nmatch++;
    }
    const char *gl = http_req_arg(req, "group_limit");
    if (gl != NULL && gl[0] != '\0') {
        char *end;
        long long v = strtoll(gl, &end, 10);
        if (*end != '\0' || v <= 0) {
            api_error(resp, "invalid parameter \"group_limit\": group_limit needs to be greater than 0");
            return false;
        }
        f->group_limit = v;
    }
    f->next_token = http_req_arg(req, "group_next_token");
    if (f->next_token != NULL && f->next_token[0] != '\0' && f->group_limit == 0) {
        api_error(resp, "invalid parameter \"group_next_token\": group_limit needs to be present in order to "
                        "paginate over the groups");
        return false;
    }
    return true;
}

static void release_filter(rules_filter_t *f)
{
    for (size_t i = 0; i < f->nmatch; i++) {
        promql_release(f->match[i]);
    }
}

void alerts_mgr_api_rules(alerts_mgr_t *m, http_req_t *req, http_resp_t *resp)
{
    rules_filter_t f;
    if (!parse_filter(req, resp, &f)) {
        release_filter(&f);
        return;
    }
    bool rule_filter = f.type != 0 || f.nnames > 0 || f.nmatch > 0;
    buf_t *b = &resp->body;
    resp->content_type = "application/json";
    buf_puts(b, "{\"status\":\"success\",\"data\":{\"groups\":[");
    pthread_mutex_lock(&m->mu);
    bool first = true, started = f.next_token == NULL || f.next_token[0] == '\0';
    bool token_found = started;
    int64_t listed = 0;
    const char *next = NULL;
    char tok[17];
    size_t ng;
    const mgr_group_t **gs = groups_sorted(m, http_req_arena(req), &ng);
    for (size_t i = 0; i < ng; i++) {
        const mgr_group_t *g = gs[i];
        if (!in_list(g->name, f.groups, f.ngroups) || !in_list(g->file, f.files, f.nfiles)) {
            continue;
        }
        size_t nmatch = 0;
        for (size_t k = 0; k < g->nrules; k++) {
            nmatch += rule_matches(&f, &g->rules[k]);
        }
        if (rule_filter && nmatch == 0) {
            continue;
        }
        if (!started) {
            group_token(g, tok);
            if (strcmp(tok, f.next_token) != 0) {
                continue;
            }
            started = token_found = true;
        }
        if (f.group_limit > 0 && listed == f.group_limit) {
            group_token(g, tok);
            next = tok;
            break;
        }
        listed++;
        if (!first) {
            buf_putc(b, ',');
        }
        first = false;
        buf_puts(b, "{\"name\":");
        json_cstr(b, g->name);
        buf_puts(b, ",\"file\":");
        json_cstr(b, g->file);
        buf_puts(b, ",\"rules\":[");
        bool rfirst = true;
        double eval_time = 0;
        for (size_t k = 0; k < g->nrules; k++) {
            eval_time += g->rules[k].eval_seconds;
            if (!rule_matches(&f, &g->rules[k])) {
                continue;
            }
            if (!rfirst) {
                buf_putc(b, ',');
            }
            rfirst = false;
            json_rule(b, &g->rules[k], f.exclude_alerts);
        }
        buf_puts(b, "],\"interval\":");
        json_seconds(b, (double)g->interval_ms / 1000.0);
        buf_printf(b, ",\"limit\":%lld,\"evaluationTime\":", (long long)g->limit);
        json_seconds(b, g->iterations ? g->last_duration_s : eval_time);
        buf_puts(b, ",\"lastEvaluation\":");
        mgr_json_time(b, g->last_eval_ms);
        buf_putc(b, '}');
    }
    pthread_mutex_unlock(&m->mu);
    release_filter(&f);
    if (!token_found) {
        buf_reset(b);
        api_error(resp, "invalid parameter \"group_next_token\": invalid group_next_token");
        return;
    }
    buf_putc(b, ']');
    if (next != NULL) {
        buf_puts(b, ",\"groupNextToken\":");
        json_cstr(b, next);
    }
    buf_puts(b, "}}");
}

void alerts_mgr_api_alerts(alerts_mgr_t *m, http_req_t *req, http_resp_t *resp)
{
    buf_t *b = &resp->body;
    resp->content_type = "application/json";
    buf_puts(b, "{\"status\":\"success\",\"data\":{\"alerts\":[");
    bool first = true;
    pthread_mutex_lock(&m->mu);
    size_t ng;
    const mgr_group_t **gs = groups_sorted(m, http_req_arena(req), &ng);
    for (size_t i = 0; i < ng; i++) {
        const mgr_group_t *g = gs[i];
        for (size_t k = 0; k < g->nrules; k++) {
            const mgr_rule_t *r = &g->rules[k];
            for (size_t j = 0; j < r->nalerts; j++) {
                if (r->alerts[j]->state == ALERTS_STATE_INACTIVE) {
                    continue;
                }
                if (!first) {
                    buf_putc(b, ',');
                }
                first = false;
                json_alert(b, r->alerts[j]);
            }
        }
    }
    pthread_mutex_unlock(&m->mu);
    buf_puts(b, "]}}");
}
