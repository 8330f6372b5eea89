/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent_logs: the log pipeline. One thread reads the inputs (the journal,
 * agent_journal.c; files, agent_logfile.c) and hands every entry to each
 * Loki endpoint's shipper (agent_ship.c, kind SHIP_LOKI: the same
 * batching, spool, retries and drops as remote-write, one shard so a
 * stream keeps its order).
 *
 * At-least-once: when a shipper cuts a batch, its checkpoint hook asks
 * for the positions the batch covers: the journal cursor and the files
 * whose position moved since that endpoint's previous batch (a clock
 * ticked at each change tells which), plus per-input entry counts. The
 * positions are updated before an entry is handed over, so a batch's
 * checkpoint never claims an entry it lacks. The checkpoint is spooled
 * with the batch; when the store acknowledges it, the ack hook (sender
 * thread) applies it to the endpoint's state and saves that
 * (<spool dir>/positions; tmp + fsync + rename). Nothing is persisted
 * before the ack. At start each endpoint's state is loaded and the
 * inputs resume from the least advanced one; what a crash re-sends the
 * store drops as exact duplicates.
 *
 * Back-pressure: while an endpoint's spool is 90% full the inputs are not
 * read (the journal and the files are the buffer), so logs are not
 * dropped for space while the store is away.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent/agent.h"
#include "agent/agent_int.h"
#include "common/clock.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/mem.h"

#define LOGS_JOURNAL_BATCH 1000     /* journal entries per round */
#define LOGS_FILE_BUDGET (1u << 20) /* bytes per file per round */
#define LOGS_MAX_LABELS (AGENT_JOURNAL_NLABELS + 2 * AGENT_MAX_STATIC_LABELS)

typedef struct logs_ep {
    struct agent_logs *owner;
    shipper_t *sh;
    char *url;
    char pos_path[4200];
    /* adding thread */
    uint64_t mark; /* clock at this endpoint's last checkpoint */
    uint64_t counts[AGENT_LOGS_NINPUTS];
    /* sender thread */
    agent_positions_t acked;
    buf_t scratch;
    /* read by /metrics */
    _Atomic uint64_t shipped[AGENT_LOGS_NINPUTS], rejected[AGENT_LOGS_NINPUTS];
    _Atomic uint64_t persisted, persist_errors;
    _Atomic int64_t acked_ts_ns; /* the persisted cursor's entry time */
} logs_ep_t;

struct agent_logs {
    const agent_config_t *cfg;
    logs_ep_t *eps;
    size_t neps;
    uint64_t clock; /* ticks at every position change */
    /* journal */
    agent_journal_t *journal;
    buf_t jcursor;
    int64_t jts;
    uint64_t jchanged;
    label_t *jstatic;
    size_t njstatic;
    label_t *ls;
    buf_t lab;
    int64_t now_ms; /* reading thread: the current round's wall time */
    /* files */
    agent_logfile_t *files;
    agent_logfile_source_t *sources;
    size_t nsources;
    label_t *flabels; /* the sources' static labels, back to back */
    /* thread */
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    _Atomic uint64_t jread;
    _Atomic int64_t jread_ts_ns;
    _Atomic uint64_t jcorrupt, jtruncated;
    _Atomic uint64_t flines, ftrunc, fmalformed, frotations, ftruncations, fwatched;
};

/* ---- hooks -------------------------------------------------------------- */

static void logs_checkpoint(void *ctx, buf_t *out)
{
    logs_ep_t *ep = ctx;
    struct agent_logs *l = ep->owner;
    if (l->jchanged > ep->mark && l->jcursor.len > 0) {
        agent_positions_put_journal(out, l->jts, (const char *)l->jcursor.data);
    }
    if (l->files) {
        agent_logfile_checkpoint(l->files, ep->mark, out);
    }
    for (int i = 0; i < AGENT_LOGS_NINPUTS; i++) {
        if (ep->counts[i]) {
            agent_positions_put_count(out, i, ep->counts[i]);
        }
        ep->counts[i] = 0;
    }
    ep->mark = l->clock;
    if (l->files) {
        uint64_t low = UINT64_MAX;
        for (size_t i = 0; i < l->neps; i++) {
            low = l->eps[i].mark < low ? l->eps[i].mark : low;
        }
        agent_logfile_prune(l->files, low);
    }
}

static void logs_ack(void *ctx, const uint8_t *ck, size_t cklen, uint32_t n, bool delivered)
{
    logs_ep_t *ep = ctx;
    (void)n;
    uint64_t counts[AGENT_LOGS_NINPUTS] = { 0 };
    if (agent_positions_apply(&ep->acked, (const char *)ck, cklen, counts) != 0) {
        log_warn("logs %s: a batch's checkpoint is malformed; positions not advanced", ep->url);
        atomic_fetch_add(&ep->persist_errors, 1);
        return;
    }
    for (int i = 0; i < AGENT_LOGS_NINPUTS; i++) {
        atomic_fetch_add(delivered ? &ep->shipped[i] : &ep->rejected[i], counts[i]);
    }
    if (cklen == 0) {
        return;
    }
    char err[512];
    if (agent_positions_save(&ep->acked, ep->pos_path, &ep->scratch, err, sizeof(err)) != 0) {
        log_warn("logs: %s", err);
        atomic_fetch_add(&ep->persist_errors, 1);
        return;
    }
    atomic_fetch_add(&ep->persisted, 1);
    atomic_store(&ep->acked_ts_ns, ep->acked.cursor ? ep->acked.cursor_ts_ns : 0);
}

/* ---- reading ------------------------------------------------------------ */

static void logs_add(struct agent_logs *l, int input, str_t labels, int64_t ts_ns, str_t line, const label_t *meta,
                     size_t nmeta, int64_t now_ms)
{
    for (size_t i = 0; i < l->neps; i++) {
        l->eps[i].counts[input]++;
        ship_add_entry(l->eps[i].sh, labels, ts_ns, line, meta, nmeta, now_ms);
    }
}

static void logs_file_emit(void *ctx, str_t labels, int64_t ts_ns, str_t line)
{
    struct agent_logs *l = ctx;
    logs_add(l, AGENT_LOGS_FILES, labels, ts_ns, line, NULL, 0, l->now_ms);
}

/* Read up to a batch of journal entries. Returns the count. */
static size_t logs_journal_round(struct agent_logs *l, int64_t now_ms)
{
    size_t n = 0;
    agent_journal_entry_t e;
    char err[256];
    while (n < LOGS_JOURNAL_BATCH) {
        int r = agent_journal_next(l->journal, &e, err, sizeof(err));
        if (r < 0) {
            log_warn("logs: %s", err);
            break;
        }
        if (r == 0) {
            break;
        }
        size_t k = 0;
        for (size_t i = 0; i < e.nlabels; i++) {
            l->ls[k++] = e.labels[i];
        }
        for (size_t i = 0; i < l->njstatic; i++) {
            bool clash = false;
            for (size_t j = 0; j < e.nlabels; j++) {
                clash = clash || str_eq(e.labels[j].name, l->jstatic[i].name);
            }
            if (!clash) {
                l->ls[k++] = l->jstatic[i];
            }
        }
        labels_sort(l->ls, k);
        agent_loki_labels(l->ls, k, &l->lab);
        const char *c = agent_journal_cursor(l->journal);
        buf_reset(&l->jcursor);
        buf_puts(&l->jcursor, c ? c : "");
        l->jts = e.ts_ns;
        l->jchanged = ++l->clock;
        logs_add(l, AGENT_LOGS_JOURNAL, str_from((const char *)l->lab.data, l->lab.len), e.ts_ns, e.message, e.meta,
                 e.nmeta, now_ms);
        atomic_store(&l->jread_ts_ns, e.ts_ns);
        n++;
    }
    atomic_fetch_add(&l->jread, n);
    agent_journal_stats_t st;
    agent_journal_stats(l->journal, &st);
    atomic_store(&l->jcorrupt, st.corrupt);
    atomic_store(&l->jtruncated, st.truncated);
    return n;
}

static void logs_file_stats(struct agent_logs *l)
{
    agent_logfile_stats_t st;
    agent_logfile_stats(l->files, &st);
    atomic_store(&l->flines, st.lines);
    atomic_store(&l->ftrunc, st.truncated_lines);
    atomic_store(&l->fmalformed, st.malformed);
    atomic_store(&l->frotations, st.rotations);
    atomic_store(&l->ftruncations, st.truncations);
    atomic_store(&l->fwatched, st.files);
}

/* Is any endpoint's spool close to its bound? */
static bool logs_backlogged(struct agent_logs *l)
{
    for (size_t i = 0; i < l->neps; i++) {
        ship_stats_t st;
        ship_stats(l->eps[i].sh, &st);
        if (st.spool_bytes >= st.spool_max_bytes / 10 * 9) {
            return true;
        }
    }
    return false;
}

static bool logs_stopping(struct agent_logs *l)
{
    pthread_mutex_lock(&l->mu);
    bool s = l->stop;
    pthread_mutex_unlock(&l->mu);
    return s;
}

static void *logs_main(void *arg)
{
    struct agent_logs *l = arg;
    const agent_config_t *cfg = l->cfg;
    int64_t next_scan = agent_wall_ms() + cfg->logs_rescan_ms;
    bool warned = false;
    while (!logs_stopping(l)) {
        int64_t now = agent_wall_ms();
        size_t did = 0;
        bool full = logs_backlogged(l);
        if (full && !warned) {
            log_warn("logs: an endpoint's spool is nearly full; reading paused until it drains");
        }
        warned = full;
        if (!full) {
            if (l->journal) {
                did += logs_journal_round(l, now);
            }
            if (l->files) {
                if (now >= next_scan) {
                    agent_logfile_scan(l->files);
                    next_scan = now + cfg->logs_rescan_ms;
                }
                l->now_ms = now;
                did += agent_logfile_poll(l->files, LOGS_FILE_BUDGET, now * 1000000);
                logs_file_stats(l);
            }
        }
        now = agent_wall_ms();
        for (size_t i = 0; i < l->neps; i++) {
            ship_flush(l->eps[i].sh, now, false);
        }
        if (did > 0) {
            continue;
        }
        int64_t wait = cfg->logs_poll_ms;
        for (size_t i = 0; i < l->neps; i++) {
            int64_t d = ship_next_deadline(l->eps[i].sh) - now;
            wait = d < wait ? (d > 0 ? d : 0) : wait;
        }
        if (l->journal && !full && !l->files) {
            agent_journal_wait(l->journal, wait);
        } else if (wait > 0) {
            agent_grid_wait(&l->mu, &l->cv, &l->stop, now + wait);
        }
    }
    return NULL;
}

/* ---- lifecycle ---------------------------------------------------------- */

/* The endpoint's spool directory (its positions file lives there too). */
static void logs_ep_dir(const agent_config_t *cfg, const char *url, char *dir, size_t len)
{
    snprintf(dir, len, "%s/spool/logs-%016llx", cfg->storage_path, (unsigned long long)hash_bytes(url, strlen(url)));
}

/* Load the endpoint's positions; its shipper starts later (logs_start_ep),
 * once the inputs have their resume positions, since its sender thread
 * owns ep->acked from then on. */
static int logs_open_ep(struct agent_logs *l, const char *url, char *err, size_t errlen)
{
    const agent_config_t *cfg = l->cfg;
    logs_ep_t *ep = &l->eps[l->neps];
    ep->owner = l;
    ep->url = mem_strdup(url);
    agent_positions_init(&ep->acked);
    char dir[4096];
    logs_ep_dir(cfg, url, dir, sizeof(dir));
    snprintf(ep->pos_path, sizeof(ep->pos_path), "%s/positions", dir);
    l->neps++;
    return agent_positions_load(&ep->acked, ep->pos_path, &ep->scratch, err, errlen);
}

static int logs_start_ep(struct agent_logs *l, logs_ep_t *ep, const agent_auth_t *auth, char *err, size_t errlen)
{
    const agent_config_t *cfg = l->cfg;
    char dir[4096];
    logs_ep_dir(cfg, ep->url, dir, sizeof(dir));
    ship_opts_t o = {
        .kind = SHIP_LOKI,
        .url = ep->url,
        .dir = dir,
        .shards = 1,
        .max_bytes = (uint64_t)cfg->spool_max_bytes,
        .sync = cfg->spool_sync,
        .max_samples_per_send = (uint32_t)cfg->logs_max_entries,
        .max_bytes_per_send = (uint64_t)cfg->logs_max_bytes,
        .batch_deadline_ms = cfg->logs_deadline_ms,
        .min_backoff_ms = cfg->rw_min_backoff_ms,
        .max_backoff_ms = cfg->rw_max_backoff_ms,
        .timeout_ms = (long)cfg->rw_timeout_ms,
        .checkpoint = logs_checkpoint,
        .ack = logs_ack,
        .hook_ctx = ep,
    };
    if (auth) {
        o.auth = *auth;
    }
    return ship_create(&o, &ep->sh, err, errlen);
}

/* labels map k, v, … (plus logs.labels, whose names the map's win over)
 * into out; returns the count. */
static size_t logs_static(const config_strlist_t *m, const config_strlist_t *common, label_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i + 1 < m->n; i += 2) {
        out[n++] = (label_t){ str_cstr(m->v[i]), str_cstr(m->v[i + 1]) };
    }
    size_t own = n;
    for (size_t i = 0; i + 1 < common->n; i += 2) {
        bool clash = false;
        for (size_t j = 0; j < own; j++) {
            clash = clash || str_eq_cstr(out[j].name, common->v[i]);
        }
        if (!clash) {
            out[n++] = (label_t){ str_cstr(common->v[i]), str_cstr(common->v[i + 1]) };
        }
    }
    return n;
}

static int logs_open_files(struct agent_logs *l, const agent_positions_t *resume, char *err, size_t errlen)
{
    const agent_config_t *cfg = l->cfg;
    const agent_logfile_config_t *fc = cfg->logs_files.v;
    l->nsources = cfg->logs_files.n;
    l->sources = mem_calloc(l->nsources, sizeof(*l->sources));
    l->flabels = mem_calloc(l->nsources * 2 * AGENT_MAX_STATIC_LABELS + 1, sizeof(label_t));
    char **globs = mem_calloc(l->nsources + 1, sizeof(char *));
    for (size_t i = 0; i < l->nsources; i++) {
        agent_logfile_source_t *s = &l->sources[i];
        bool pods = fc[i].pods_dir && fc[i].pods_dir[0];
        if (pods) {
            size_t n = strlen(fc[i].pods_dir) + 16;
            globs[i] = mem_alloc(n);
            snprintf(globs[i], n, "%s/*/*/*.log", fc[i].pods_dir);
        } else {
            globs[i] = mem_strdup(fc[i].path);
        }
        s->glob = globs[i];
        s->cri = pods || fc[i].format == 1;
        s->labels = l->flabels + i * 2 * AGENT_MAX_STATIC_LABELS;
        s->nlabels = logs_static(&fc[i].labels, &cfg->logs_labels, l->flabels + i * 2 * AGENT_MAX_STATIC_LABELS);
    }
    agent_logfile_opts_t o = {
        .sources = l->sources,
        .nsources = l->nsources,
        .max_line = (size_t)cfg->logs_max_line,
        .clock = &l->clock,
        .emit = logs_file_emit,
        .emit_ctx = l,
    };
    int rc = agent_logfile_create(&o, resume, &l->files, err, errlen);
    mem_free(globs); /* the strings stay, owned through sources[].glob */
    return rc;
}

static bool logs_keep_none(void *ctx, uint64_t dev, uint64_t ino)
{
    (void)ctx;
    (void)dev;
    (void)ino;
    return false;
}

int agent_logs_create(const agent_config_t *cfg, struct agent_logs **out, char *err, size_t errlen)
{
    *out = NULL;
    bool inputs = cfg->journal_enabled || cfg->logs_files.n > 0;
    if (!inputs || cfg->logs_urls.n + cfg->logs_endpoints.n == 0) {
        return 0;
    }
    struct agent_logs *l = mem_calloc(1, sizeof(*l));
    l->cfg = cfg;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    l->eps = mem_calloc(cfg->logs_urls.n + cfg->logs_endpoints.n, sizeof(*l->eps));
    l->jstatic = mem_calloc(2 * AGENT_MAX_STATIC_LABELS + 1, sizeof(label_t));
    l->njstatic = logs_static(&cfg->journal_labels, &cfg->logs_labels, l->jstatic);
    l->ls = mem_calloc(LOGS_MAX_LABELS, sizeof(label_t));
    const agent_endpoint_config_t *ec = cfg->logs_endpoints.v;
    for (size_t i = 0; i < cfg->logs_urls.n; i++) {
        if (logs_open_ep(l, cfg->logs_urls.v[i], err, errlen) != 0) {
            goto fail;
        }
    }
    for (size_t i = 0; i < cfg->logs_endpoints.n; i++) {
        if (logs_open_ep(l, ec[i].url, err, errlen) != 0) {
            goto fail;
        }
    }
    /* Resume from the least advanced endpoint. */
    agent_positions_t resume;
    agent_positions_init(&resume);
    for (size_t i = 0; i < l->neps; i++) {
        agent_positions_min(&resume, &l->eps[i].acked);
    }
    int rc = 0;
    if (cfg->journal_enabled) {
        agent_journal_opts_t jo = {
            .path = cfg->journal_path && cfg->journal_path[0] ? cfg->journal_path : NULL,
            .units = (const char *const *)cfg->journal_units.v,
            .nunits = cfg->journal_units.n,
            .max_priority = (int)cfg->journal_max_priority,
            .since_ns = cfg->journal_max_age_ms > 0 ? (agent_wall_ms() - cfg->journal_max_age_ms) * 1000000 : 0,
        };
        rc = agent_journal_open(&jo, resume.cursor, &l->journal, err, errlen);
        if (rc == 0 && resume.cursor) {
            log_info("logs: journal resumes after cursor %s", resume.cursor);
        }
    }
    if (rc == 0 && cfg->logs_files.n > 0) {
        rc = logs_open_files(l, &resume, err, errlen);
    }
    agent_positions_fini(&resume);
    if (rc != 0) {
        goto fail;
    }
    for (size_t i = 0; i < l->neps; i++) {
        agent_positions_prune(&l->eps[i].acked, l->files ? agent_logfile_known : logs_keep_none, l->files);
    }
    size_t k = 0;
    for (size_t i = 0; i < cfg->logs_urls.n; i++, k++) {
        if (logs_start_ep(l, &l->eps[k], NULL, err, errlen) != 0) {
            goto fail;
        }
    }
    for (size_t i = 0; i < cfg->logs_endpoints.n; i++, k++) {
        agent_auth_t auth = { ec[i].bearer_token_file, ec[i].basic_user, ec[i].basic_password_file, ec[i].headers };
        if (logs_start_ep(l, &l->eps[k], &auth, err, errlen) != 0) {
            goto fail;
        }
    }
    if (pthread_create(&l->thread, NULL, logs_main, l) != 0) {
        snprintf(err, errlen, "logs: cannot start the reading thread");
        goto fail;
    }
    l->started = true;
    *out = l;
    return 0;
fail:
    agent_logs_destroy(l, 0);
    return -1;
}

void agent_logs_destroy(struct agent_logs *l, int64_t drain_ms)
{
    if (l == NULL) {
        return;
    }
    if (l->started) {
        pthread_mutex_lock(&l->mu);
        l->stop = true;
        pthread_cond_broadcast(&l->cv);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->thread, NULL);
    }
    for (size_t i = 0; i < l->neps; i++) {
        ship_destroy(l->eps[i].sh, drain_ms);
    }
    agent_journal_close(l->journal);
    agent_logfile_destroy(l->files);
    for (size_t i = 0; i < l->nsources; i++) {
        mem_free((char *)l->sources[i].glob);
    }
    for (size_t i = 0; i < l->neps; i++) {
        agent_positions_fini(&l->eps[i].acked);
        buf_fini(&l->eps[i].scratch);
        mem_free(l->eps[i].url);
    }
    mem_free(l->sources);
    mem_free(l->flabels);
    mem_free(l->eps);
    mem_free(l->jstatic);
    mem_free(l->ls);
    buf_fini(&l->lab);
    buf_fini(&l->jcursor);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    mem_free(l);
}

/* ---- metrics ------------------------------------------------------------ */

void agent_logs_metrics(struct agent_logs *l, msink_t *s)
{
    if (l == NULL) {
        return;
    }
    static const char *const inputs[AGENT_LOGS_NINPUTS] = { "journal", "files" };
    uint64_t read[AGENT_LOGS_NINPUTS] = { atomic_load(&l->jread), atomic_load(&l->flines) };
    uint64_t trunc[AGENT_LOGS_NINPUTS] = { atomic_load(&l->jtruncated), atomic_load(&l->ftrunc) };
    bool on[AGENT_LOGS_NINPUTS] = { l->journal != NULL, l->files != NULL };
    double now_s = (double)agent_wall_ms() / 1000.0;
    for (int i = 0; i < AGENT_LOGS_NINPUTS; i++) {
        if (!on[i]) {
            continue;
        }
        msink_addv(s, "pharos_agent_logs_entries_read_total", "Log entries read from the input.", METRIC_COUNTER,
                   (double)read[i], 1, "input", inputs[i]);
        msink_addv(s, "pharos_agent_logs_lines_truncated_total",
                   "Log entries cut to logs.max-line-size (or a journal field to 64 KiB).", METRIC_COUNTER,
                   (double)trunc[i], 1, "input", inputs[i]);
        for (size_t e = 0; e < l->neps; e++) {
            logs_ep_t *ep = &l->eps[e];
            msink_addv(s, "pharos_agent_logs_entries_shipped_total",
                       "Log entries of the input the endpoint acknowledged.", METRIC_COUNTER,
                       (double)atomic_load(&ep->shipped[i]), 2, "input", inputs[i], "url", ep->url);
            msink_addv(s, "pharos_agent_logs_entries_dropped_total",
                       "Log entries of the input the endpoint rejected (4xx), dropped.", METRIC_COUNTER,
                       (double)atomic_load(&ep->rejected[i]), 3, "input", inputs[i], "reason", "rejected", "url",
                       ep->url);
        }
    }
    if (l->journal) {
        int64_t rts = atomic_load(&l->jread_ts_ns);
        msink_addv(s, "pharos_agent_logs_journal_lag_seconds", "Age of the last journal entry read (0: none read yet).",
                   METRIC_GAUGE, rts ? now_s - (double)rts / 1e9 : 0, 0);
        for (size_t e = 0; e < l->neps; e++) {
            int64_t ats = atomic_load(&l->eps[e].acked_ts_ns);
            msink_addv(s, "pharos_agent_logs_journal_cursor_age_seconds",
                       "Age of the journal entry of the endpoint's persisted cursor (0: none yet).", METRIC_GAUGE,
                       ats ? now_s - (double)ats / 1e9 : 0, 1, "url", l->eps[e].url);
        }
        msink_addv(s, "pharos_agent_logs_journal_corrupt_total", "Journal entries skipped as corrupt.", METRIC_COUNTER,
                   (double)atomic_load(&l->jcorrupt), 0);
    }
    if (l->files) {
        msink_addv(s, "pharos_agent_logs_files_watched", "Log files followed.", METRIC_GAUGE,
                   (double)atomic_load(&l->fwatched), 0);
        msink_addv(s, "pharos_agent_logs_files_rotations_total", "Log files seen rotated (renamed or removed).",
                   METRIC_COUNTER, (double)atomic_load(&l->frotations), 0);
        msink_addv(s, "pharos_agent_logs_files_truncations_total",
                   "Log files found shorter than their offset (read again from the start).", METRIC_COUNTER,
                   (double)atomic_load(&l->ftruncations), 0);
        msink_addv(s, "pharos_agent_logs_cri_malformed_total", "CRI lines that did not parse (shipped as they are).",
                   METRIC_COUNTER, (double)atomic_load(&l->fmalformed), 0);
    }
    for (size_t e = 0; e < l->neps; e++) {
        logs_ep_t *ep = &l->eps[e];
        msink_addv(s, "pharos_agent_logs_positions_persisted_total",
                   "Positions saved after the endpoint acknowledged a batch.", METRIC_COUNTER,
                   (double)atomic_load(&ep->persisted), 1, "url", ep->url);
        msink_addv(s, "pharos_agent_logs_positions_errors_total", "Positions that could not be saved.", METRIC_COUNTER,
                   (double)atomic_load(&ep->persist_errors), 1, "url", ep->url);
        ship_stats_t x;
        ship_stats(ep->sh, &x);
        agent_self_shipper(&x, s);
    }
}
