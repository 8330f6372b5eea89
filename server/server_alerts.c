/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server_alerts: pharosd's alerting glue. It builds the rule manager over
 * the TSDB (rules query it and write their samples back into it), loads
 * the rule and SLO files named by rules.files and rules.slo-files, and
 * serves /api/v1/rules, /api/v1/alerts and POST /-/reload. Alerts the
 * rules send go to the notifier (routing, silences, receivers; its state
 * in storage.path/alerting), which also serves Alertmanager's /api/v2.
 *
 * A reload reads the configuration again from the original command line
 * (file and flags) and applies what can change while running: the rule
 * and SLO files and the alerting configuration file. Each is all or nothing: a file that does not load leaves
 * the running rules as they are, and the answer (or the SIGHUP log line)
 * names every problem with its file and line.
 */
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/mem.h"
#include "server/server.h"
#include "server/server_int.h"

static int alerts_append(void *ctx, const tsdb_input_t *in, size_t n)
{
    server_t *s = ctx;
    tsdb_append_result_t res;
    return tsdb_append(s->db, in, n, &res);
}

static void external_url(const server_config_t *cfg, char *dst, size_t len)
{
    if (cfg->external_url != NULL && cfg->external_url[0] != '\0') {
        snprintf(dst, len, "%s", cfg->external_url);
    } else {
        snprintf(dst, len, "http://%s", cfg->listen);
    }
    size_t n = strlen(dst);
    while (n > 0 && dst[n - 1] == '/') {
        dst[--n] = '\0';
    }
}

static int load_rules(alerts_mgr_t *m, const server_config_t *cfg, buf_t *err)
{
    return alerts_mgr_load(m, (const char *const *)cfg->rule_files.v, cfg->rule_files.n,
                           (const char *const *)cfg->slo_files.v, cfg->slo_files.n, err);
}

static alerts_mgr_t *make_mgr(server_t *s, const server_config_t *cfg)
{
    /* s == NULL: a manager that only loads (--check-config). */
    char url[2048];
    external_url(cfg, url, sizeof(url));
    alerts_mgr_opts_t o = {
        .src = s ? promql_source_tsdb(s->db) : (promql_source_t){ 0 },
        .engine = { .lookback_ms = cfg->query_lookback_ms,
                    .timeout_s = (double)cfg->query_timeout_ms / 1000.0,
                    .max_samples = (uint64_t)cfg->query_max_samples },
        .append = alerts_append,
        .append_ctx = s,
        .eval_interval_ms = cfg->rules_interval_ms,
        .query_offset_ms = cfg->rules_query_offset_ms,
        .outage_tolerance_ms = cfg->rules_outage_tolerance_ms,
        .grace_period_ms = cfg->rules_grace_period_ms,
        .resend_delay_ms = cfg->rules_resend_delay_ms,
        .external_labels = (const char *const *)cfg->external_labels.v,
        .nexternal_labels = cfg->external_labels.n / 2,
        .external_url = url,
        .send = s ? alerts_notifier_put : NULL,
        .send_ctx = s ? s->notifier : NULL,
    };
    return alerts_mgr_create(&o);
}

/* How long firing alerts read back after a restart stay firing: until the
 * rules have sent them again. A rule with for >= the grace period fires
 * again a few evaluations after its restore; one with a shorter `for` is
 * pending for at most the grace period; the rule manager resends at most
 * every max(interval, resend delay), and an endsAt covers 4 of those. */
static int64_t restore_hold(const server_config_t *cfg)
{
    int64_t d =
        cfg->rules_interval_ms > cfg->rules_resend_delay_ms ? cfg->rules_interval_ms : cfg->rules_resend_delay_ms;
    int64_t hold = 4 * d;
    return hold > cfg->rules_grace_period_ms ? hold : cfg->rules_grace_period_ms;
}

static void trim_newlines(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '\n') {
        s[--n] = '\0';
    }
}

int server_alerts_start(server_t *s, char *err, size_t errlen)
{
    char url[2048], dir[4096];
    external_url(&s->cfg, url, sizeof(url));
    snprintf(dir, sizeof(dir), "%s/alerting", s->cfg.storage_path);
    alerts_notifier_opts_t no = {
        .config_file = s->cfg.alerting_config_file,
        .data_dir = dir,
        .alertmanager_urls = (const char *const *)s->cfg.alertmanager_urls.v,
        .nalertmanager_urls = s->cfg.alertmanager_urls.n,
        .external_url = url,
        .restore_hold_ms = restore_hold(&s->cfg),
    };
    buf_t e;
    buf_init(&e);
    if (alerts_notifier_create(&no, &s->notifier, &e) != 0) {
        snprintf(err, errlen, "alerting: %.*s", (int)e.len, (const char *)e.data);
        trim_newlines(err);
        buf_fini(&e);
        return -1;
    }
    s->rules = make_mgr(s, &s->cfg);
    if (load_rules(s->rules, &s->cfg, &e) != 0) {
        snprintf(err, errlen, "loading rule files: %.*s", (int)e.len, (const char *)e.data);
        trim_newlines(err);
        buf_fini(&e);
        return -1;
    }
    buf_fini(&e);
    if (alerts_mgr_start(s->rules) != 0) {
        snprintf(err, errlen, "cannot start the rule evaluation thread");
        return -1;
    }
    log_info("rules: %zu groups loaded", alerts_mgr_ngroups(s->rules));
    return 0;
}

void server_alerts_stop(server_t *s)
{
    /* Rules first: they send to the notifier. */
    alerts_mgr_destroy(s->rules);
    s->rules = NULL;
    alerts_notifier_destroy(s->notifier);
    s->notifier = NULL;
}

int server_check_alerting(const server_config_t *cfg, buf_t *err)
{
    alerts_mgr_t *m = make_mgr(NULL, cfg);
    int rc = load_rules(m, cfg, err);
    alerts_mgr_destroy(m);
    if (cfg->alerting_config_file != NULL && cfg->alerting_config_file[0] != '\0' &&
        alerts_notifier_check_config(cfg->alerting_config_file, err) != 0) {
        rc = -1;
    }
    return rc;
}

int server_reload(server_t *s, buf_t *err)
{
    pthread_mutex_lock(&s->reload_mu);
    server_config_t cfg;
    char msg[1024];
    int rc = -1;
    server_cfg_rc_t crc = server_config_load(s->cfg.argc, s->cfg.argv, &cfg, stdout, msg, sizeof(msg));
    if (crc != SERVER_CFG_OK) {
        buf_printf(err, "%s\n", crc == SERVER_CFG_HELP ? "the command line asks for help" : msg);
    } else {
        rc = load_rules(s->rules, &cfg, err);
        /* The notifier reads its (unchanged) config file again. */
        if (alerts_notifier_reload(s->notifier, err) != 0) {
            rc = -1;
        }
    }
    server_config_free(&cfg);
    if (rc == 0) {
        log_info("reload: %zu rule groups loaded", alerts_mgr_ngroups(s->rules));
    } else {
        log_error("reload failed, the previous rules keep running: %.*s", (int)err->len, (const char *)err->data);
    }
    pthread_mutex_unlock(&s->reload_mu);
    return rc;
}

void server_handle_rules(void *ctx, http_req_t *req, http_resp_t *resp)
{
    server_t *s = ctx;
    alerts_mgr_api_rules(s->rules, req, resp);
}

void server_handle_alerts(void *ctx, http_req_t *req, http_resp_t *resp)
{
    server_t *s = ctx;
    alerts_mgr_api_alerts(s->rules, req, resp);
}

/* Alertmanager's API v2 (silences, alerts, status, receivers). */
void server_handle_am(void *ctx, http_req_t *req, http_resp_t *resp)
{
    server_t *s = ctx;
    alerts_notifier_api(s->notifier, req, resp);
}

/* Prometheus answers 200 with an empty body, or 500 "failed to reload
 * config: ...". */
void server_handle_reload(void *ctx, http_req_t *req, http_resp_t *resp)
{
    (void)req;
    buf_t err;
    buf_init(&err);
    if (server_reload(ctx, &err) != 0) {
        while (err.len > 0 && err.data[err.len - 1] == '\n') {
            err.len--;
        }
        http_resp_text(resp, 500, "failed to reload config: %.*s\n", (int)err.len, (const char *)err.data);
    } else {
        resp->status = 200;
    }
    buf_fini(&err);
}
