/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent_expo_write: a sink as the Prometheus text exposition format 0.0.4,
 * laid out as client_golang writes it, so that the agent's /metrics reads
 * line for line like node_exporter's.
 *
 * Families are written in name order, each with "# HELP" (when it has
 * help; "\" and newline escaped) and "# TYPE". Samples of a family are
 * sorted as client_golang's metric sorter sorts them: by their label
 * values taken in label-name order (fewer labels first when counts
 * differ); histogram and summary children keep the order they were added
 * in. Labels are written in name order, values escaped (\\ \" \n), floats
 * as Go's strconv.FormatFloat(v, 'g', -1, 64) (-0 as 0), then the timestamp (ms)
 * when the sample has one. Work: O(S log S) for S samples; the sort
 * arrays are allocated per call (this runs per /metrics request, not per
 * collection).
 */
#include <stdlib.h>
#include <string.h>

#include "agent/agent_int.h"
#include "common/json_out.h"
#include "common/mem.h"

/* Labels of x sorted by name into out (room for x->nlabels). */
static size_t expo_sorted_labels(const msink_t *s, const msink_sample_t *x, label_t *out)
{
    size_t n = msink_sample_labels(s, x, out, x->nlabels);
    labels_sort(out, n);
    return n;
}

static int expo_cmp_family(const msink_t *s, uint32_t a, uint32_t b)
{
    const msink_family_t *fa = &s->families[a], *fb = &s->families[b];
    return str_cmp(msink_str(s, fa->name_off, fa->name_len), msink_str(s, fb->name_off, fb->name_len));
}

/* Order of two samples of one family; 0 keeps insertion order. */
static int expo_cmp_labels(const msink_t *s, const msink_sample_t *a, const msink_sample_t *b, label_t *la, label_t *lb)
{
    if (a->nlabels != b->nlabels) {
        return a->nlabels < b->nlabels ? -1 : 1;
    }
    size_t n = expo_sorted_labels(s, a, la);
    expo_sorted_labels(s, b, lb);
    for (size_t i = 0; i < n; i++) {
        int c = str_cmp(la[i].value, lb[i].value);
        if (c != 0) {
            return c;
        }
    }
    return 0;
}

typedef struct expo_sorter {
    const msink_t *s;
    uint32_t *idx, *tmp;
    label_t *la, *lb;
} expo_sorter_t;

static int expo_cmp(expo_sorter_t *st, uint32_t i, uint32_t j)
{
    const msink_t *s = st->s;
    const msink_sample_t *a = &s->samples[i], *b = &s->samples[j];
    if (a->family != b->family) {
        int c = expo_cmp_family(s, a->family, b->family);
        return c != 0 ? c : (a->family < b->family ? -1 : 1);
    }
    metric_type_t t = s->families[a->family].type;
    if (t != METRIC_HISTOGRAM && t != METRIC_SUMMARY && t != METRIC_GAUGE_HISTOGRAM) {
        int c = expo_cmp_labels(s, a, b, st->la, st->lb);
        if (c != 0) {
            return c;
        }
    }
    return i < j ? -1 : (i > j ? 1 : 0);
}

/* Stable merge sort of idx[lo, hi). */
static void expo_msort(expo_sorter_t *st, size_t lo, size_t hi)
{
    if (hi - lo < 2) {
        return;
    }
    size_t mid = lo + (hi - lo) / 2;
    expo_msort(st, lo, mid);
    expo_msort(st, mid, hi);
    size_t i = lo, j = mid, k = lo;
    while (i < mid && j < hi) {
        st->tmp[k++] = expo_cmp(st, st->idx[i], st->idx[j]) <= 0 ? st->idx[i++] : st->idx[j++];
    }
    while (i < mid) {
        st->tmp[k++] = st->idx[i++];
    }
    while (j < hi) {
        st->tmp[k++] = st->idx[j++];
    }
    memcpy(st->idx + lo, st->tmp + lo, (hi - lo) * sizeof(*st->idx));
}

static void expo_escape(buf_t *out, str_t v, bool quote)
{
    for (size_t i = 0; i < v.len; i++) {
        char c = v.p[i];
        if (c == '\\') {
            buf_append(out, "\\\\", 2);
        } else if (c == '\n') {
            buf_append(out, "\\n", 2);
        } else if (c == '"' && quote) {
            buf_append(out, "\\\"", 2);
        } else {
            buf_putc(out, (uint8_t)c);
        }
    }
}

static void expo_write_sample(const msink_t *s, const msink_sample_t *x, label_t *ls, buf_t *out)
{
    str_t name = msink_sample_name(s, x);
    buf_append(out, name.p, name.len);
    size_t n = expo_sorted_labels(s, x, ls);
    if (n > 0) {
        buf_putc(out, '{');
        for (size_t i = 0; i < n; i++) {
            if (i > 0) {
                buf_putc(out, ',');
            }
            buf_append(out, ls[i].name.p, ls[i].name.len);
            buf_append(out, "=\"", 2);
            expo_escape(out, ls[i].value, true);
            buf_putc(out, '"');
        }
        buf_putc(out, '}');
    }
    buf_putc(out, ' ');
    json_go_float(out, x->value == 0 ? 0.0 : x->value, 'g'); /* client_golang writes -0 as 0 */
    if (x->ts_ms != MSINK_NO_TS) {
        buf_printf(out, " %lld", (long long)x->ts_ms);
    }
    buf_putc(out, '\n');
}

void agent_expo_write(const msink_t *s, buf_t *out)
{
    size_t maxl = 1;
    for (size_t i = 0; i < s->nsamples; i++) {
        if (s->samples[i].nlabels > maxl) {
            maxl = s->samples[i].nlabels;
        }
    }
    expo_sorter_t st = { .s = s };
    st.idx = mem_calloc(s->nsamples + 1, sizeof(*st.idx));
    st.tmp = mem_calloc(s->nsamples + 1, sizeof(*st.tmp));
    st.la = mem_calloc(maxl, sizeof(*st.la));
    st.lb = mem_calloc(maxl, sizeof(*st.lb));
    for (size_t i = 0; i < s->nsamples; i++) {
        st.idx[i] = (uint32_t)i;
    }
    expo_msort(&st, 0, s->nsamples);
    uint32_t cur = UINT32_MAX;
    for (size_t k = 0; k < s->nsamples; k++) {
        const msink_sample_t *x = &s->samples[st.idx[k]];
        if (x->family != cur) {
            cur = x->family;
            const msink_family_t *f = &s->families[cur];
            str_t fname = msink_str(s, f->name_off, f->name_len);
            if (f->has_help) {
                buf_puts(out, "# HELP ");
                buf_append(out, fname.p, fname.len);
                buf_putc(out, ' ');
                expo_escape(out, msink_str(s, f->help_off, f->help_len), false);
                buf_putc(out, '\n');
            }
            buf_puts(out, "# TYPE ");
            buf_append(out, fname.p, fname.len);
            buf_putc(out, ' ');
            buf_puts(out, metric_type_name(f->type));
            buf_putc(out, '\n');
        }
        expo_write_sample(s, x, st.la, out);
    }
    mem_free(st.idx);
    mem_free(st.tmp);
    mem_free(st.la);
    mem_free(st.lb);
}
