/* SPDX-License-Identifier: Apache-2.0 */
/*
 * coll_netdev: /proc/net/dev (+ sysfs rx_nohandler) ->
 * node_network_<stat>_total{device} counters, HELP "Network device
 * statistic <stat>.", as node_exporter 1.5 with its default flags
 * (netlink mode, device-exclude ^lo$ by default, no detailed metrics).
 *
 * Netlink mode reads rtnl_link_stats64 and folds it into the legacy
 * names the way the kernel builds /proc/net/dev (receive_drop = dropped +
 * missed, receive_frame = length + over + crc + frame, transmit_carrier =
 * carrier + aborted + heartbeat + window), so the 16 columns of
 * /proc/net/dev map one to one onto its names. The one field netlink has
 * and /proc/net/dev lacks is receive_nohandler: we read it from
 * <sysfs>/class/net/<dev>/statistics/rx_nohandler, and omit it for a
 * device without that file (kernel < 4.6, or a sysfs of another network
 * namespace that lacks the device), which is then what
 * --no-collector.netdev.netlink serves.
 *
 * Parsing follows procfs: the first two lines are headers; the name runs
 * to the last ':' and is trimmed; at least 16 decimal counters follow
 * (extra ones ignored; fewer is refused where upstream panics); a device
 * listed twice keeps its last line. Content not ending in '\n' is a cut
 * read. State (init): the per-device table and its name index, reused.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agent/agent_int.h"
#include "agent/coll_text.h"
#include "common/hash.h"
#include "common/mem.h"

#define COLL_NETDEV_MAX_FILE (16u << 20)
#define COLL_NETDEV_NSTATS 16
#define COLL_NETDEV_MAX_NAME 256

/* The /proc/net/dev columns in file order, then rx_nohandler. */
static const struct {
    const char *name, *help;
} coll_netdev_stats[COLL_NETDEV_NSTATS + 1] = {
    { "node_network_receive_bytes_total", "Network device statistic receive_bytes." },
    { "node_network_receive_packets_total", "Network device statistic receive_packets." },
    { "node_network_receive_errs_total", "Network device statistic receive_errs." },
    { "node_network_receive_drop_total", "Network device statistic receive_drop." },
    { "node_network_receive_fifo_total", "Network device statistic receive_fifo." },
    { "node_network_receive_frame_total", "Network device statistic receive_frame." },
    { "node_network_receive_compressed_total", "Network device statistic receive_compressed." },
    { "node_network_receive_multicast_total", "Network device statistic receive_multicast." },
    { "node_network_transmit_bytes_total", "Network device statistic transmit_bytes." },
    { "node_network_transmit_packets_total", "Network device statistic transmit_packets." },
    { "node_network_transmit_errs_total", "Network device statistic transmit_errs." },
    { "node_network_transmit_drop_total", "Network device statistic transmit_drop." },
    { "node_network_transmit_fifo_total", "Network device statistic transmit_fifo." },
    { "node_network_transmit_colls_total", "Network device statistic transmit_colls." },
    { "node_network_transmit_carrier_total", "Network device statistic transmit_carrier." },
    { "node_network_transmit_compressed_total", "Network device statistic transmit_compressed." },
    { "node_network_receive_nohandler_total", "Network device statistic receive_nohandler." },
};

typedef struct coll_netdev_dev {
    str_t name; /* into the file's buffer */
    uint64_t v[COLL_NETDEV_NSTATS];
} coll_netdev_dev_t;

typedef struct coll_netdev_state {
    coll_netdev_dev_t *devs;
    size_t ndevs, cap;
    uint32_t *index; /* open addressing by name: device index + 1, 0 empty */
    size_t index_cap;
    buf_t sys;            /* one sysfs file */
    coll_regex_t exclude; /* collect.netdev.device-exclude */
} coll_netdev_state_t;

/* Decimal digits only, as Go's ParseUint(s, 10, 64): str_parse_u64 less
 * its leading '+'. */
static bool coll_netdev_parse_u64(str_t s, uint64_t *out)
{
    return s.len > 0 && s.p[0] != '+' && str_parse_u64(s, out);
}

/* Parse one device line into d. 0, or -1 with why. Pure. */
static int coll_netdev_parse_line(str_t line, coll_netdev_dev_t *d, char *why, size_t whylen)
{
    size_t colon = line.len;
    while (colon > 0 && line.p[colon - 1] != ':') {
        colon--;
    }
    if (colon == 0) {
        snprintf(why, whylen, "missing colon");
        return -1;
    }
    size_t b = 0;
    size_t e = colon - 1;
    while (b < e && coll_text_space(line.p[b])) {
        b++;
    }
    while (e > b && coll_text_space(line.p[e - 1])) {
        e--;
    }
    if (b == e) {
        snprintf(why, whylen, "empty interface name");
        return -1;
    }
    d->name = str_from(line.p + b, e - b);
    size_t i = colon;
    for (int k = 0; k < COLL_NETDEV_NSTATS; k++) {
        while (i < line.len && coll_text_space(line.p[i])) {
            i++;
        }
        size_t start = i;
        while (i < line.len && !coll_text_space(line.p[i])) {
            i++;
        }
        if (start == i) {
            snprintf(why, whylen, "%d counters, want %d", k, COLL_NETDEV_NSTATS);
            return -1;
        }
        if (!coll_netdev_parse_u64(str_from(line.p + start, i - start), &d->v[k])) {
            snprintf(why, whylen, "bad counter '%.*s'", (int)(i - start), line.p + start);
            return -1;
        }
    }
    return 0;
}

/* The index slot of name: holding it, or the empty slot to put it in. */
static size_t coll_netdev_slot(const coll_netdev_state_t *st, str_t name)
{
    size_t mask = st->index_cap - 1;
    size_t i = hash_bytes(name.p, name.len) & mask;
    while (st->index[i] != 0 && !str_eq(st->devs[st->index[i] - 1].name, name)) {
        i = (i + 1) & mask;
    }
    return i;
}

/* Parse the file p[0..len) into st->devs and index them by name (a later
 * line of the same name takes the slot). 0, or -1 with why. */
static int coll_netdev_parse(coll_netdev_state_t *st, const char *p, size_t len, char *why, size_t whylen)
{
    if (len > 0 && p[len - 1] != '\n') {
        snprintf(why, whylen, "truncated (no end of line)");
        return -1;
    }
    st->ndevs = 0;
    size_t lineno = 0;
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(p + i, '\n', len - i);
        str_t line = str_from(p + i, (size_t)(nl - (p + i)));
        i = (size_t)(nl - p) + 1;
        if (++lineno <= 2) {
            continue;
        }
        if (st->ndevs == st->cap) {
            st->cap = st->cap ? st->cap * 2 : 32;
            st->devs = mem_realloc(st->devs, st->cap * sizeof(*st->devs));
        }
        char lwhy[96];
        if (coll_netdev_parse_line(line, &st->devs[st->ndevs], lwhy, sizeof(lwhy)) < 0) {
            snprintf(why, whylen, "malformed line %zu: %s", lineno, lwhy);
            return -1;
        }
        st->ndevs++;
    }
    size_t cap = st->index_cap ? st->index_cap : 64;
    while (cap < st->ndevs * 2) {
        cap *= 2;
    }
    if (cap != st->index_cap) {
        mem_free(st->index);
        st->index = mem_alloc(cap * sizeof(*st->index));
        st->index_cap = cap;
    }
    memset(st->index, 0, cap * sizeof(*st->index));
    for (size_t d = 0; d < st->ndevs; d++) {
        st->index[coll_netdev_slot(st, st->devs[d].name)] = (uint32_t)d + 1;
    }
    return 0;
}

/* rx_nohandler of device name from sysfs into *out: 1 found, 0 absent,
 * -1 malformed (why set). */
static int coll_netdev_nohandler(coll_netdev_state_t *st, const char *sysfs, const char *name, uint64_t *out, char *why,
                                 size_t whylen)
{
    if (strchr(name, '/') != NULL || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
        return 0; /* no such sysfs directory can exist */
    }
    char rel[COLL_NETDEV_MAX_NAME + 64];
    snprintf(rel, sizeof(rel), "/class/net/%s/statistics/rx_nohandler", name);
    int rc = coll_read_file(sysfs, rel, &st->sys, 64);
    if (rc < 0 && rc != -EFBIG) {
        return 0;
    }
    str_t s = str_from((const char *)st->sys.data, st->sys.len);
    if (rc == 0 && s.len > 0 && s.p[s.len - 1] == '\n') {
        s.len--;
        if (coll_netdev_parse_u64(s, out)) {
            return 1;
        }
    }
    snprintf(why, whylen, "%s%s: malformed", sysfs, rel);
    return -1;
}

/* Add the samples of device d. 0, or -1 with err set. */
static int coll_netdev_emit(coll_netdev_state_t *st, const coll_ctx_t *c, msink_t *s, const coll_netdev_dev_t *d,
                            char *err, size_t errlen)
{
    if (d->name.len >= COLL_NETDEV_MAX_NAME || memchr(d->name.p, 0, d->name.len) != NULL ||
        !str_utf8_valid(d->name.p, d->name.len)) {
        snprintf(err, errlen, "%s/net/dev: device name '%.*s' is no valid label value", c->paths->procfs,
                 (int)d->name.len, d->name.p);
        return -1;
    }
    char name[COLL_NETDEV_MAX_NAME];
    memcpy(name, d->name.p, d->name.len);
    name[d->name.len] = '\0';
    for (int k = 0; k < COLL_NETDEV_NSTATS; k++) {
        msink_addv(s, coll_netdev_stats[k].name, coll_netdev_stats[k].help, METRIC_COUNTER, (double)d->v[k], 1,
                   "device", name);
    }
    uint64_t nohandler = 0;
    int rc = coll_netdev_nohandler(st, c->paths->sysfs, name, &nohandler, err, errlen);
    if (rc < 0) {
        return -1;
    }
    if (rc > 0) {
        const int k = COLL_NETDEV_NSTATS;
        msink_addv(s, coll_netdev_stats[k].name, coll_netdev_stats[k].help, METRIC_COUNTER, (double)nohandler, 1,
                   "device", name);
    }
    return 0;
}

static int coll_netdev_collect(coll_ctx_t *c, msink_t *s, char *err, size_t errlen)
{
    coll_netdev_state_t *st = c->state;
    const char *root = c->paths->procfs;
    int rc = coll_read_file(root, "/net/dev", c->scratch, COLL_NETDEV_MAX_FILE);
    if (rc < 0) {
        snprintf(err, errlen, "%s/net/dev: %s", root, strerror(-rc));
        return -1;
    }
    char why[160];
    if (coll_netdev_parse(st, (const char *)c->scratch->data, c->scratch->len, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s/net/dev: %s", root, why);
        return -1;
    }
    for (size_t d = 0; d < st->ndevs; d++) {
        const coll_netdev_dev_t *dev = &st->devs[d];
        if (st->index[coll_netdev_slot(st, dev->name)] != d + 1 ||
            coll_regex_match(&st->exclude, dev->name.p, dev->name.len)) {
            continue; /* listed again later, or excluded (^lo$ by default) */
        }
        if (coll_netdev_emit(st, c, s, dev, err, errlen) < 0) {
            return -1;
        }
    }
    return 0;
}

static void coll_netdev_fini(void *state)
{
    coll_netdev_state_t *st = state;
    if (st == NULL) {
        return;
    }
    mem_free(st->devs);
    mem_free(st->index);
    buf_fini(&st->sys);
    coll_regex_fini(&st->exclude);
    mem_free(st);
}

static int coll_netdev_init(const coll_opts_t *o, void **state, char *err, size_t errlen)
{
    coll_netdev_state_t *st = mem_calloc(1, sizeof(*st));
    buf_init(&st->sys);
    if (coll_regex_init(&st->exclude, o->netdev_device_exclude, "collect.netdev.device-exclude", err, errlen) != 0) {
        coll_netdev_fini(st);
        return -1;
    }
    *state = st;
    return 0;
}

const coll_def_t coll_netdev_def = {
    .name = "netdev",
    .init = coll_netdev_init,
    .fini = coll_netdev_fini,
    .collect = coll_netdev_collect,
};
