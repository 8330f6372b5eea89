/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_check: `pharosctl check rules FILE...`, Prometheus 2.42's `promtool
 * check rules`: the same text on stdout and stderr and the same exit status
 * (0 every file is valid, 1 a file failed), from alerts_rules_check. Runs
 * offline: nothing is sent to pharosd.
 *
 *   --lint=duplicate-rules (default) | none | all
 *   --lint-fatal        duplicate rules fail the check (status 1)
 */
#include <string.h>

#include "alerts/alerts.h"
#include "common/buf.h"
#include "common/mem.h"
#include "ctl/ctl.h"

void ctl_check_usage(FILE *out)
{
    fprintf(out, "Usage: pharosctl check rules [flags] FILE...\n\n"
                 "Check Prometheus rule files as promtool check rules (Prometheus 2.42) does, with the same\n"
                 "output and exit status. Nothing is sent to pharosd.\n\nFlags:\n"
                 "  --lint=duplicate-rules|all|none  lint the rule files (default duplicate-rules)\n"
                 "  --lint-fatal                     make lint errors fail the check (exit status 1)\n"
                 "\nExit status: 0 all files are valid, 1 a file failed, 2 usage error.\n");
}

static int ctl_check_usage_error(const ctl_env_t *env, const char *msg, const char *arg)
{
    fprintf(env->err, "pharosctl check: %s%s\nRun 'pharosctl check --help' for usage.\n", msg, arg);
    return CTL_EXIT_USAGE;
}

int ctl_check_run(const ctl_env_t *env, int argc, char **argv)
{
    if (argc < 2) {
        return ctl_check_usage_error(env, "missing subcommand (rules)", "");
    }
    if (strcmp(argv[1], "rules") != 0) {
        return ctl_check_usage_error(env, "unknown subcommand ", argv[1]);
    }
    alerts_rules_check_opts_t opts = { .lint_duplicates = true, .prog = "pharosctl" };
    const char **files = mem_alloc(sizeof(*files) * (size_t)argc);
    size_t nfiles = 0;
    bool flags = true;
    int rc = CTL_EXIT_OK;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (flags && strcmp(a, "--") == 0) {
            flags = false;
        } else if (flags && strcmp(a, "--lint-fatal") == 0) {
            opts.lint_fatal = true;
        } else if (flags && strncmp(a, "--lint=", 7) == 0) {
            const char *v = a + 7;
            if (strcmp(v, "none") == 0) {
                opts.lint_duplicates = false;
            } else if (strcmp(v, "duplicate-rules") == 0 || strcmp(v, "all") == 0) {
                opts.lint_duplicates = true;
            } else {
                rc = ctl_check_usage_error(env, "unknown --lint value ", v);
                goto done;
            }
        } else if (flags && a[0] == '-' && a[1] != 0) {
            rc = ctl_check_usage_error(env, "unknown flag ", a);
            goto done;
        } else {
            files[nfiles++] = a;
        }
    }
    if (nfiles == 0) {
        rc = ctl_check_usage_error(env, "required argument FILE not provided", "");
    } else if (alerts_rules_check(files, nfiles, &opts, env->out, env->err) != 0) {
        rc = CTL_EXIT_QUERY;
    }
done:
    mem_free(files);
    return rc;
}
