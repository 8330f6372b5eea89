/* SPDX-License-Identifier: Apache-2.0 */
/*
 * coll_uname: node_uname_info{domainname,machine,nodename,release,sysname,
 * version} 1 (gauge), as node_exporter 1.5's uname collector.
 *
 * node_exporter calls uname(2). To run on fixture trees, five of the six
 * fields are read from the kernel's own sysctl copies of the utsname, which
 * hold the same bytes (per UTS namespace, as uname(2)):
 *   sysname    <procfs>/sys/kernel/ostype
 *   release    <procfs>/sys/kernel/osrelease
 *   version    <procfs>/sys/kernel/version
 *   nodename   <procfs>/sys/kernel/hostname
 *   domainname <procfs>/sys/kernel/domainname
 * machine comes from uname(2) itself: its sysctl copy (kernel/arch) only
 * exists since Linux 6.1 and ignores personality(2) (linux32 reports
 * i686), which uname(2) honours. Each file is one line; exactly its final
 * '\n' is removed. Refused (-1): a missing file, content without that
 * '\n' (a cut read), an embedded newline, a value over 64 bytes (the
 * kernel's limit) or not valid UTF-8 (client_golang refuses it).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "agent/agent_int.h"

#define COLL_UNAME_LEN 64 /* __NEW_UTS_LEN */

typedef struct coll_uname_field {
    const char *label;
    const char *rel; /* under procfs; NULL: uname(2)'s machine */
} coll_uname_field_t;

/* In label-name order, the order node_uname_info is written in. */
static const coll_uname_field_t coll_uname_fields[] = {
    { "domainname", "/sys/kernel/domainname" }, { "machine", NULL },
    { "nodename", "/sys/kernel/hostname" },     { "release", "/sys/kernel/osrelease" },
    { "sysname", "/sys/kernel/ostype" },        { "version", "/sys/kernel/version" },
};

#define COLL_UNAME_N (sizeof(coll_uname_fields) / sizeof(coll_uname_fields[0]))

/* Check the file's bytes p[0..len) and copy the value into out (room for
 * COLL_UNAME_LEN + 1). 0, or -1 with the reason in why. Pure. */
static int coll_uname_parse(const char *p, size_t len, char *out, char *why, size_t whylen)
{
    if (len == 0 || p[len - 1] != '\n') {
        snprintf(why, whylen, "truncated (no end of line)");
        return -1;
    }
    len--;
    if (len > COLL_UNAME_LEN || memchr(p, '\n', len) || memchr(p, '\0', len) || !str_utf8_valid(p, len)) {
        snprintf(why, whylen, "malformed line 1");
        return -1;
    }
    memcpy(out, p, len);
    out[len] = 0;
    return 0;
}

static int coll_uname_collect(coll_ctx_t *c, msink_t *s, char *err, size_t errlen)
{
    const char *root = c->paths->procfs;
    char values[COLL_UNAME_N][COLL_UNAME_LEN + 1];
    const char *names[COLL_UNAME_N], *vals[COLL_UNAME_N];
    struct utsname u;
    if (uname(&u) < 0) {
        snprintf(err, errlen, "uname: %s", strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < COLL_UNAME_N; i++) {
        const coll_uname_field_t *f = &coll_uname_fields[i];
        names[i] = f->label;
        vals[i] = values[i];
        if (!f->rel) {
            snprintf(values[i], sizeof(values[i]), "%s", u.machine);
            continue;
        }
        int rc = coll_read_file(root, f->rel, c->scratch, 4096);
        if (rc < 0) {
            snprintf(err, errlen, "%s%s: %s", root, f->rel, strerror(-rc));
            return -1;
        }
        char why[64];
        if (coll_uname_parse((const char *)c->scratch->data, c->scratch->len, values[i], why, sizeof(why)) < 0) {
            snprintf(err, errlen, "%s%s: %s", root, f->rel, why);
            return -1;
        }
    }
    uint32_t fam = msink_family_c(s, "node_uname_info",
                                  "Labeled system information as provided by the uname system call.", METRIC_GAUGE);
    msink_add(s, fam, 1, COLL_UNAME_N, names, vals);
    return 0;
}

const coll_def_t coll_uname_def = {
    .name = "uname",
    .init = NULL,
    .fini = NULL,
    .collect = coll_uname_collect,
};
