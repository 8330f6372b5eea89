/* SPDX-License-Identifier: Apache-2.0 */
/*
 * coll_regex: the regexes collectors filter with (device exclusions,
 * field selections), compiled once in a collector's init and matched as
 * node_exporter's Go regexps match them: an unanchored search, "$" only
 * at the very end (PCRE2_DOLLAR_ENDONLY), on bytes. PCRE2's memory goes
 * through mem_* (so it is accounted), and the match data is kept, so a
 * match allocates nothing. One coll_regex_t is used by one thread.
 * coll_opts_default gives node_exporter's default filters.
 */
#include <stdio.h>

#include "agent/agent_int.h"
#include "common/mem.h"

static void *coll_regex_alloc(PCRE2_SIZE n, void *ud)
{
    (void)ud;
    return mem_try_alloc(n);
}

static void coll_regex_free(void *p, void *ud)
{
    (void)ud;
    mem_free(p);
}

int coll_regex_init(coll_regex_t *r, const char *pattern, const char *what, char *err, size_t errlen)
{
    r->re = NULL;
    r->md = NULL;
    pcre2_general_context *gc = pcre2_general_context_create(coll_regex_alloc, coll_regex_free, NULL);
    pcre2_compile_context *cc = gc ? pcre2_compile_context_create(gc) : NULL;
    int ec = 0;
    PCRE2_SIZE off = 0;
    if (cc) {
        r->re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_DOLLAR_ENDONLY, &ec, &off, cc);
    }
    if (r->re) {
        r->md = pcre2_match_data_create_from_pattern(r->re, gc);
    }
    pcre2_compile_context_free(cc);
    pcre2_general_context_free(gc);
    if (r->md) {
        return 0;
    }
    PCRE2_UCHAR why[120] = "out of memory";
    if (ec != 0) {
        pcre2_get_error_message(ec, why, sizeof(why));
    }
    snprintf(err, errlen, "%s: bad regex \"%s\": %s at offset %zu", what, pattern, (const char *)why, (size_t)off);
    coll_regex_fini(r);
    return -1;
}

void coll_regex_fini(coll_regex_t *r)
{
    pcre2_match_data_free(r->md);
    pcre2_code_free(r->re);
    r->md = NULL;
    r->re = NULL;
}

bool coll_regex_match(coll_regex_t *r, const char *s, size_t len)
{
    return pcre2_match(r->re, (PCRE2_SPTR)s, len, 0, 0, r->md, NULL) >= 0;
}

coll_opts_t coll_opts_default(void)
{
    return (coll_opts_t){
        .diskstats_device_exclude = COLL_DISKSTATS_DEVICE_EXCLUDE,
        .filesystem_mount_points_exclude = COLL_FILESYSTEM_MOUNT_POINTS_EXCLUDE,
        .filesystem_fs_types_exclude = COLL_FILESYSTEM_FS_TYPES_EXCLUDE,
        .netdev_device_exclude = COLL_NETDEV_DEVICE_EXCLUDE,
        .netstat_fields = COLL_NETSTAT_FIELDS,
        .vmstat_fields = COLL_VMSTAT_FIELDS,
    };
}
