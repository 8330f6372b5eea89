/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server_logs: POST /loki/api/v1/push. The body format comes from
 * Content-Type as Loki picks it (application/json → JSON, anything else →
 * protobuf in a snappy block) and its wrapping from Content-Encoding
 * (gzip, deflate; "snappy" and none are the protobuf's own). Decoding and
 * Loki's validation are logs_push_decode's; this file maps results to
 * statuses. A request shares the ingest bound (ingest.max-inflight) with
 * remote-write, so one overload policy covers both: 503 with Retry-After.
 * Everything the request allocates lives in its arena.
 */
#include <stdatomic.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "server/server_int.h"

/* Decode and store one push; returns the status answered. [out] *rejected. */
static int server_logs_ingest(server_t *s, http_req_t *req, http_resp_t *resp, uint64_t *rejected)
{
    const char *ct = http_req_header(req, "Content-Type");
    logs_push_format_t fmt = ct && strncasecmp(ct, "application/json", 16) == 0 ? LOGS_PUSH_JSON : LOGS_PUSH_PROTOBUF;
    const char *ce = http_req_header(req, "Content-Encoding");
    logs_push_encoding_t enc = LOGS_PUSH_IDENTITY;
    if (ce && *ce && strcasecmp(ce, "snappy") != 0 && strcasecmp(ce, "identity") != 0) {
        if (strcasecmp(ce, "gzip") == 0) {
            enc = LOGS_PUSH_GZIP;
        } else if (strcasecmp(ce, "deflate") == 0) {
            enc = LOGS_PUSH_DEFLATE;
        } else {
            http_resp_text(resp, 415, "Content-Encoding %s not supported", ce);
            return 415;
        }
    }
    size_t len = 0;
    const uint8_t *body = http_req_body(req, &len);
    int64_t now_ns = clock_now_ms(&s->clock) * 1000000LL;
    logs_push_limits_t lim = {
        .max_line_bytes = (size_t)s->cfg.logs_max_line_bytes,
        .max_labels = (size_t)s->cfg.logs_max_labels,
        .max_label_name_len = (size_t)s->cfg.label_name_len,
        .max_label_value_len = (size_t)s->cfg.label_value_len,
        .reject_older_than_ns = s->cfg.logs_reject_old_ms * 1000000LL,
        .reject_newer_than_ns = s->cfg.logs_creation_grace_ms * 1000000LL,
        .max_decoded_bytes = (size_t)s->cfg.max_decoded_bytes,
    };
    logs_push_t push;
    char err[512];
    logs_push_status_t rc =
        logs_push_decode(fmt, enc, body, len, &lim, now_ns, http_req_arena(req), &push, err, sizeof(err));
    if (rc != LOGS_PUSH_OK) {
        int status = rc == LOGS_PUSH_TOO_LARGE ? 413 : 400;
        http_resp_text(resp, status, "%s", err);
        return status;
    }
    *rejected = push.nrejected_entries;
    logs_append_result_t res = { 0 };
    if (push.nstreams && logs_store_append(s->logs, &push, &res) != 0) {
        http_resp_header(resp, "Retry-After", "5");
        http_resp_text(resp, 503, "log store: the WAL could not be written; retry");
        return 503;
    }
    if (push.nrejected_entries || push.nrejected_streams) {
        log_debug("loki push: %zu entries rejected: %s", push.nrejected_entries, push.first_error);
        http_resp_text(resp, 400, "%s", push.first_error);
        return 400;
    }
    resp->status = 204;
    return 204;
}

void server_logs_push(server_t *s, http_req_t *req, http_resp_t *resp)
{
    int inflight = atomic_fetch_add(&s->inflight, 1) + 1;
    uint64_t rejected = 0;
    int status = 503;
    if (inflight > s->cfg.max_inflight) {
        atomic_fetch_add(&s->m.write_overload, 1);
        http_resp_header(resp, "Retry-After", "1");
        http_resp_text(resp, 503, "too many concurrent ingest requests (%lld); retry later",
                       (long long)s->cfg.max_inflight);
    } else {
        status = server_logs_ingest(s, req, resp, &rejected);
    }
    atomic_fetch_sub(&s->inflight, 1);
    atomic_fetch_add(&s->m.push_requests[server_metrics_status_slot(status)], 1);
    atomic_fetch_add(&s->m.push_entries_rejected, rejected);
}
