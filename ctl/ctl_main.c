/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_main: pharosctl's entry point and composition root. It builds the
 * env (stdout, stderr, the real clock, $PHAROS_URL), finds the command in
 * the table and runs it; the command's result is the exit status
 * (ctl_exit_t: 0 ok, 1 query error, 2 usage, 3 unreachable).
 *
 *   pharosctl COMMAND [flags] [args]     run a command
 *   pharosctl COMMAND --help             its usage, from its option table
 *   pharosctl help [COMMAND] | --help    the command list, or one usage
 *
 * $PHAROSCTL_TEST_MAX_POLLS (tests only) ends `logs --follow` after that
 * many polls instead of at SIGINT/SIGTERM.
 *
 * --help / -h anywhere before a "--" shows the command's usage instead of
 * running it, so it cannot be mistaken for a query. jansson allocates
 * through mem_* (set once here, before any command runs).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "ctl/ctl.h"
#include "ctl/ctl_int.h"

static const ctl_command_t ctl_commands[] = {
    { .name = "query",
      .summary = "Evaluate a PromQL expression at one instant",
      .run = ctl_query_run,
      .usage = ctl_query_usage },
    { .name = "query-range",
      .summary = "Evaluate a PromQL expression over a time range",
      .run = ctl_query_range_run,
      .usage = ctl_query_range_usage },
    { .name = "logs",
      .summary = "Print the log lines a LogQL query selects, and follow new ones",
      .run = ctl_logs_run,
      .usage = ctl_logs_usage },
    { .name = "check",
      .summary = "Check Prometheus rule files as promtool check rules does (check rules FILE...)",
      .run = ctl_check_run,
      .usage = ctl_check_usage },
    { .name = "test",
      .summary = "Run rule unit tests as promtool test rules does (test rules FILE...)",
      .run = ctl_test_run,
      .usage = ctl_test_usage },
};

#define CTL_NCOMMANDS (sizeof(ctl_commands) / sizeof(ctl_commands[0]))

static void ctl_main_usage(FILE *out)
{
    fprintf(out, "Usage: pharosctl COMMAND [flags] [args]\n\npharosctl talks to pharosd.\n\nCommands:\n");
    for (size_t i = 0; i < CTL_NCOMMANDS; i++) {
        fprintf(out, "  %-12s  %s\n", ctl_commands[i].name, ctl_commands[i].summary);
    }
    fprintf(out, "  %-12s  %s\n", "help", "Show this list, or a command's usage (help COMMAND)");
    fprintf(out, "\nRun 'pharosctl COMMAND --help' for a command's flags. The server URL defaults to $PHAROS_URL,\n"
                 "else " CTL_DEFAULT_URL ".\n"
                 "Exit status: 0 ok, 1 the server answered an error, 2 usage error, 3 server unreachable.\n");
}

static const ctl_command_t *ctl_main_find(const char *name)
{
    for (size_t i = 0; i < CTL_NCOMMANDS; i++) {
        if (strcmp(ctl_commands[i].name, name) == 0) {
            return &ctl_commands[i];
        }
    }
    return NULL;
}

static bool ctl_main_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            return true;
        }
    }
    return false;
}

static void *ctl_main_json_alloc(size_t n)
{
    return mem_alloc(n);
}

static void ctl_main_json_free(void *p)
{
    mem_free(p);
}

int main(int argc, char **argv)
{
    json_set_alloc_funcs(ctl_main_json_alloc, ctl_main_json_free);
    if (argc < 2) {
        ctl_main_usage(stderr);
        return CTL_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        if (argc > 2 && strcmp(name, "help") == 0) {
            const ctl_command_t *c = ctl_main_find(argv[2]);
            if (!c) {
                fprintf(stderr, "pharosctl: unknown command \"%s\"\n", argv[2]);
                return CTL_EXIT_USAGE;
            }
            c->usage(stdout);
            return CTL_EXIT_OK;
        }
        ctl_main_usage(stdout);
        return CTL_EXIT_OK;
    }
    const ctl_command_t *c = ctl_main_find(name);
    if (!c) {
        fprintf(stderr, "pharosctl: unknown command \"%s\"\n\n", name);
        ctl_main_usage(stderr);
        return CTL_EXIT_USAGE;
    }
    if (ctl_main_wants_help(argc - 1, argv + 1)) {
        c->usage(stdout);
        return CTL_EXIT_OK;
    }
    const char *url = getenv("PHAROS_URL");
    const char *polls = getenv("PHAROSCTL_TEST_MAX_POLLS"); /* tests only: ends logs --follow */
    ctl_env_t env = {
        .out = stdout, .err = stderr, .clock = clock_real(), .default_url = url, .max_polls = polls ? atoi(polls) : 0
    };
    int rc = c->run(&env, argc - 1, argv + 1);
    fflush(stdout);
    return rc;
}
