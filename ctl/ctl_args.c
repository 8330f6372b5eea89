/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_args: a command's argv as flags of its option table (common/config.h,
 * so --help comes from the same rows) plus positional arguments.
 *
 * config_parse_flags refuses positional arguments, and pharosctl commands
 * take them (the query), so the split happens here and each flag value goes
 * through config_set: the same parsing, bounds and messages as pharosd's
 * flags. Flag syntax matches config_parse_flags: "--key=value" or
 * "--key value" (the next argument is the value whatever it looks like),
 * a bare "--key" for a boolean. "--" ends the flags, so a query that starts
 * with '-' is written after it. A command may also give one-letter
 * aliases ("-f" for "--follow"); they take no "=value" and are otherwise
 * the long flag.
 */
#include <assert.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ctl/ctl.h"

int ctl_args_parse(int argc, char **argv, const config_field_t *f, size_t n, void *dst, const char **pos, size_t *npos,
                   char *err, size_t errlen)
{
    return ctl_args_parse_short(argc, argv, f, n, NULL, 0, dst, pos, npos, err, errlen);
}

/* The field of the one-letter alias a ("-f"), or NULL. */
static const config_field_t *ctl_args_short_field(const char *a, const config_field_t *f, size_t n,
                                                  const ctl_args_short_t *shorts, size_t nshort)
{
    if (a[1] == '\0' || a[2] != '\0') {
        return NULL;
    }
    for (size_t i = 0; i < nshort; i++) {
        if (shorts[i].letter == a[1]) {
            return config_find(f, n, shorts[i].key, strlen(shorts[i].key));
        }
    }
    return NULL;
}

int ctl_args_parse_short(int argc, char **argv, const config_field_t *f, size_t n, const ctl_args_short_t *shorts,
                         size_t nshort, void *dst, const char **pos, size_t *npos, char *err, size_t errlen)
{
    assert(argc >= 1 && pos && npos);
    *npos = 0;
    bool flags = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!flags || a[0] != '-' || a[1] == '\0') {
            pos[(*npos)++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            flags = false;
            continue;
        }
        const char *key = a + (a[1] == '-' ? 2 : 1);
        const char *eq = strchr(key, '=');
        size_t keylen = eq ? (size_t)(eq - key) : strlen(key);
        const config_field_t *fld =
            a[1] == '-' ? config_find(f, n, key, keylen) : ctl_args_short_field(a, f, n, shorts, nshort);
        if (!fld) {
            snprintf(err, errlen, "unknown flag %.*s", (int)(key - a + (ptrdiff_t)keylen), a);
            return -1;
        }
        const char *value = eq ? eq + 1 : NULL;
        if (!value && fld->type == CFG_BOOL) {
            value = "true";
        } else if (!value) {
            if (i + 1 >= argc) {
                snprintf(err, errlen, "flag --%s needs a value", fld->key);
                return -1;
            }
            value = argv[++i];
        }
        char why[512];
        if (config_set(fld, dst, value, why, sizeof(why)) != 0) {
            snprintf(err, errlen, "flag --%s", why);
            return -1;
        }
    }
    return 0;
}
