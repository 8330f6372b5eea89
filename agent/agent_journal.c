/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent_journal: the journald reader. Opens the local journal or a
 * directory of journal files with libsystemd, filters by unit (OR) and
 * priority, and turns each entry into a line (MESSAGE, bytes kept as they
 * are, binary included), five labels and structured metadata.
 *
 * Labels (sorted; empty or missing ones left out): host=_HOSTNAME,
 * identifier=SYSLOG_IDENTIFIER, level=PRIORITY as Promtail's keywords
 * (0..7: emerg alert crit error warning notice info debug; any other value
 * kept raw), transport=_TRANSPORT, unit=_SYSTEMD_UNIT. Metadata: a fixed
 * allow-list (agent_journal_fields below), named as the field lowercased without its
 * leading underscores (_PID -> pid, _BOOT_ID -> boot_id), in name order;
 * other fields are dropped so an entry's size stays bounded.
 *
 * Resume: seek the cursor; the first entry found is skipped only when
 * sd_journal_test_cursor says it IS the cursor's entry (already shipped).
 * When that entry was vacuumed the seek lands on the nearest one, which is
 * returned. A corrupt entry (-EBADMSG) is skipped forward and counted;
 * the reader never goes back to the head.
 *
 * Bounds: a field value over AGENT_JOURNAL_FIELD_MAX bytes is cut to that
 * size (libsystemd decompresses no further) and the entry is flagged
 * truncated and counted. Field bytes are copied into one reused buffer,
 * since libsystemd's pointers die at its next call.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-journal.h>

#include "agent/agent_int.h"
#include "common/mem.h"

/* Consecutive -EBADMSG from sd_journal_next before giving up. */
#define JR_MAX_BAD 1024

enum { JR_MESSAGE = 0, JR_LABEL0 = 1, JR_LEVEL = 3, JR_META0 = JR_LABEL0 + AGENT_JOURNAL_NLABELS };

typedef struct agent_journal_field {
    const char *field; /* journal field name */
    uint8_t flen;
    const char *name; /* label or metadata name */
} agent_journal_field_t;

#define JR_F(f, n)                                                                                                     \
    {                                                                                                                  \
        f, sizeof(f) - 1, n                                                                                            \
    }
/* Index = slot: MESSAGE, the labels by name, the metadata by name. */
static const agent_journal_field_t agent_journal_fields[] = {
    JR_F("MESSAGE", ""),
    JR_F("_HOSTNAME", "host"),
    JR_F("SYSLOG_IDENTIFIER", "identifier"),
    JR_F("PRIORITY", "level"),
    JR_F("_TRANSPORT", "transport"),
    JR_F("_SYSTEMD_UNIT", "unit"),
    JR_F("_BOOT_ID", "boot_id"),
    JR_F("_CMDLINE", "cmdline"),
    JR_F("CODE_FILE", "code_file"),
    JR_F("CODE_FUNC", "code_func"),
    JR_F("CODE_LINE", "code_line"),
    JR_F("_COMM", "comm"),
    JR_F("ERRNO", "errno"),
    JR_F("_EXE", "exe"),
    JR_F("_GID", "gid"),
    JR_F("_MACHINE_ID", "machine_id"),
    JR_F("_PID", "pid"),
    JR_F("SYSLOG_FACILITY", "syslog_facility"),
    JR_F("SYSLOG_PID", "syslog_pid"),
    JR_F("_SYSTEMD_SLICE", "systemd_slice"),
    JR_F("_SYSTEMD_USER_UNIT", "systemd_user_unit"),
    JR_F("_UID", "uid"),
};
#define JR_NFIELDS (sizeof(agent_journal_fields) / sizeof(agent_journal_fields[0]))
_Static_assert(JR_NFIELDS == 1 + AGENT_JOURNAL_NLABELS + AGENT_JOURNAL_NMETA, "slot table size");

static const char *const agent_journal_levels[8] = { "emerg",   "alert",  "crit", "error",
                                                     "warning", "notice", "info", "debug" };

typedef struct agent_journal_slot {
    uint32_t off, len;
    bool set;
} agent_journal_slot_t;

struct agent_journal {
    sd_journal *sd;
    char *resume; /* cursor to test against the first entry found, or NULL */
    char *cursor; /* of the last entry returned (libsystemd's malloc) */
    buf_t data;   /* field values of the current entry */
    agent_journal_slot_t slots[JR_NFIELDS];
    uint64_t corrupt, truncated;
};

void agent_journal_close(agent_journal_t *j)
{
    if (j == NULL) {
        return;
    }
    if (j->sd != NULL) {
        sd_journal_close(j->sd);
    }
    mem_free(j->resume);
    free(j->cursor);
    buf_fini(&j->data);
    mem_free(j);
}

static int agent_journal_match(agent_journal_t *j, const char *field, const char *value, char *err, size_t errlen)
{
    char m[512];
    int n = snprintf(m, sizeof(m), "%s=%s", field, value);
    if (n < 0 || (size_t)n >= sizeof(m)) {
        snprintf(err, errlen, "journal filter %s=%s: too long", field, value);
        return -1;
    }
    int r = sd_journal_add_match(j->sd, m, (size_t)n);
    if (r < 0) {
        snprintf(err, errlen, "journal filter %s: %s", m, strerror(-r));
        return -1;
    }
    return 0;
}

int agent_journal_open(const agent_journal_opts_t *o, const char *cursor, agent_journal_t **out, char *err,
                       size_t errlen)
{
    *out = NULL;
    agent_journal_t *j = mem_calloc(1, sizeof(*j));
    buf_init(&j->data);
    int r = o->path != NULL ? sd_journal_open_directory(&j->sd, o->path, 0)
                            : sd_journal_open(&j->sd, SD_JOURNAL_LOCAL_ONLY);
    if (r < 0) {
        j->sd = NULL;
        snprintf(err, errlen, "open journal %s: %s", o->path != NULL ? o->path : "(local)", strerror(-r));
        goto fail;
    }
    /* Room for the longest wanted field name, so a cut value is seen. */
    r = sd_journal_set_data_threshold(j->sd, AGENT_JOURNAL_FIELD_MAX + 64);
    if (r < 0) {
        snprintf(err, errlen, "journal data threshold: %s", strerror(-r));
        goto fail;
    }
    /* Values of one field OR together; the two fields AND. */
    for (size_t i = 0; i < o->nunits; i++) {
        if (agent_journal_match(j, "_SYSTEMD_UNIT", o->units[i], err, errlen) != 0) {
            goto fail;
        }
    }
    if (o->max_priority >= 0 && o->max_priority < 7) {
        for (int p = 0; p <= o->max_priority; p++) {
            char v[2] = { (char)('0' + p), 0 };
            if (agent_journal_match(j, "PRIORITY", v, err, errlen) != 0) {
                goto fail;
            }
        }
    }
    if (cursor != NULL) {
        r = sd_journal_seek_cursor(j->sd, cursor);
    } else if (o->since_ns > 0) {
        r = sd_journal_seek_realtime_usec(j->sd, (uint64_t)(o->since_ns / 1000));
    } else {
        r = sd_journal_seek_head(j->sd);
    }
    if (r < 0) {
        snprintf(err, errlen, "journal seek %s: %s", cursor != NULL ? cursor : "head", strerror(-r));
        goto fail;
    }
    if (cursor != NULL) {
        j->resume = mem_strdup(cursor);
    }
    *out = j;
    return 0;
fail:
    agent_journal_close(j);
    return -1;
}

static const agent_journal_field_t *agent_journal_lookup(const char *p, size_t n, size_t *slot)
{
    for (size_t i = 0; i < JR_NFIELDS; i++) {
        if (agent_journal_fields[i].flen == n && memcmp(agent_journal_fields[i].field, p, n) == 0) {
            *slot = i;
            return &agent_journal_fields[i];
        }
    }
    return NULL;
}

/* Copy the wanted fields of the current entry into j->data/slots.
 * Returns 0 or a negative errno from libsystemd. O(fields + bytes kept). */
static int agent_journal_collect(agent_journal_t *j, bool *truncated)
{
    buf_reset(&j->data);
    memset(j->slots, 0, sizeof(j->slots));
    *truncated = false;
    const void *d;
    size_t len;
    int r;
    sd_journal_restart_data(j->sd);
    while ((r = sd_journal_enumerate_available_data(j->sd, &d, &len)) > 0) {
        const char *p = d;
        const char *eq = memchr(p, '=', len < 64 ? len : 64);
        size_t slot;
        if (eq == NULL || agent_journal_lookup(p, (size_t)(eq - p), &slot) == NULL || j->slots[slot].set) {
            continue; /* not wanted, or a repeated field: the first wins */
        }
        size_t vl = len - (size_t)(eq - p) - 1;
        if (vl > AGENT_JOURNAL_FIELD_MAX) {
            vl = AGENT_JOURNAL_FIELD_MAX;
            *truncated = true;
        }
        j->slots[slot] = (agent_journal_slot_t){ (uint32_t)j->data.len, (uint32_t)vl, true };
        buf_append(&j->data, eq + 1, vl);
    }
    return r;
}

static str_t agent_journal_slot_str(const agent_journal_t *j, size_t slot)
{
    const agent_journal_slot_t *s = &j->slots[slot];
    return str_from((const char *)j->data.data + s->off, s->len);
}

static void agent_journal_fill(const agent_journal_t *j, agent_journal_entry_t *e)
{
    e->message = j->slots[JR_MESSAGE].set ? agent_journal_slot_str(j, JR_MESSAGE) : str_from("", 0);
    e->nlabels = 0;
    for (size_t i = JR_LABEL0; i < JR_META0; i++) {
        if (!j->slots[i].set || j->slots[i].len == 0) {
            continue;
        }
        str_t v = agent_journal_slot_str(j, i);
        if (i == JR_LEVEL && v.len == 1 && v.p[0] >= '0' && v.p[0] <= '7') {
            v = str_cstr(agent_journal_levels[v.p[0] - '0']);
        }
        e->labels[e->nlabels++] = (label_t){ str_cstr(agent_journal_fields[i].name), v };
    }
    e->nmeta = 0;
    for (size_t i = JR_META0; i < JR_NFIELDS; i++) {
        if (j->slots[i].set && j->slots[i].len > 0) {
            e->meta[e->nmeta++] = (label_t){ str_cstr(agent_journal_fields[i].name), agent_journal_slot_str(j, i) };
        }
    }
}

int agent_journal_next(agent_journal_t *j, agent_journal_entry_t *e, char *err, size_t errlen)
{
    unsigned bad = 0;
    for (;;) {
        int r = sd_journal_next(j->sd);
        if (r == 0) {
            return 0;
        }
        if (r == -EBADMSG && bad++ < JR_MAX_BAD) {
            j->corrupt++;
            continue;
        }
        if (r < 0) {
            snprintf(err, errlen, "journal next: %s", strerror(-r));
            return -1;
        }
        if (j->resume != NULL) {
            bool same = sd_journal_test_cursor(j->sd, j->resume) > 0;
            mem_free(j->resume);
            j->resume = NULL;
            if (same) {
                continue; /* the cursor's own entry: already shipped */
            }
        }
        uint64_t usec = 0;
        bool cut = false;
        r = sd_journal_get_realtime_usec(j->sd, &usec);
        if (r >= 0 && usec > (uint64_t)INT64_MAX / 1000) {
            r = -EBADMSG; /* past int64 nanoseconds: would wrap */
        }
        if (r >= 0) {
            r = agent_journal_collect(j, &cut);
        }
        if (r == -EBADMSG && bad++ < JR_MAX_BAD) {
            j->corrupt++;
            continue;
        }
        if (r < 0) {
            snprintf(err, errlen, "journal entry: %s", strerror(-r));
            return -1;
        }
        char *c = NULL;
        r = sd_journal_get_cursor(j->sd, &c);
        if (r < 0) {
            snprintf(err, errlen, "journal cursor: %s", strerror(-r));
            return -1;
        }
        free(j->cursor);
        j->cursor = c;
        e->ts_ns = (int64_t)(usec * 1000);
        e->truncated = cut;
        j->truncated += cut;
        agent_journal_fill(j, e);
        return 1;
    }
}

const char *agent_journal_cursor(const agent_journal_t *j)
{
    return j->cursor;
}

int agent_journal_wait(agent_journal_t *j, int64_t timeout_ms)
{
    uint64_t us = timeout_ms < 0 ? (uint64_t)-1 : (uint64_t)timeout_ms * 1000;
    int r = sd_journal_wait(j->sd, us);
    if (r < 0) {
        return r;
    }
    return r == SD_JOURNAL_NOP ? 0 : 1;
}

void agent_journal_stats(const agent_journal_t *j, agent_journal_stats_t *st)
{
    st->corrupt = j->corrupt;
    st->truncated = j->truncated;
}
