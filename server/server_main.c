/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server_main: pharosd's entry point: load the configuration (exit 1 with
 * file:line:key on error; --check-config validates and exits), start the
 * server, wait for SIGTERM or SIGINT, stop gracefully (in-flight requests
 * finish, the WAL is committed).
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/buf.h"
#include "common/log.h"
#include "server/server.h"

int main(int argc, char **argv)
{
    /* A fixed mmap threshold: large blocks (head window arenas, big
     * requests) are mapped and unmapped on their own instead of raising
     * glibc's dynamic threshold and fragmenting the thread heaps, which
     * would keep freed memory resident. */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    /* Two malloc arenas: ingest and query threads otherwise each grow an
     * arena of their own whose free memory stays resident (the log
     * benchmark's peak RSS: 182 MiB with glibc's default, see the note). */
    mallopt(M_ARENA_MAX, 2);
    server_config_t cfg;
    char err[1024];
    server_cfg_rc_t crc = server_config_load(argc, argv, &cfg, stdout, err, sizeof(err));
    if (crc == SERVER_CFG_HELP) {
        return 0;
    }
    if (crc != SERVER_CFG_OK) {
        fprintf(stderr, "pharosd: %s\n", err);
        server_config_free(&cfg);
        return 1;
    }
    if (cfg.check_config) {
        buf_t cerr;
        buf_init(&cerr);
        int bad = server_check_alerting(&cfg, &cerr);
        if (bad) {
            fprintf(stderr, "pharosd: %.*s", (int)cerr.len, (const char *)cerr.data);
        } else {
            printf("pharosd: configuration OK%s%s\n", cfg.config_file ? ": " : "",
                   cfg.config_file ? cfg.config_file : "");
        }
        buf_fini(&cerr);
        server_config_free(&cfg);
        return bad ? 1 : 0;
    }
    log_set_level((log_level_t)cfg.log_level);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    server_t *s;
    if (server_start(&cfg, &s, err, sizeof(err)) != 0) {
        fprintf(stderr, "pharosd: %s\n", err);
        server_config_free(&cfg);
        return 1;
    }
    log_info("pharosd listening on http://%s (data in %s)", cfg.listen, cfg.storage_path);
    printf("pharosd: listening on http://%s\n", cfg.listen);
    fflush(stdout);
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0) {
            continue;
        }
        if (sig == SIGHUP) {
            buf_t rerr;
            buf_init(&rerr);
            server_reload(s, &rerr); /* logs the outcome */
            buf_fini(&rerr);
            continue;
        }
        log_info("signal %d: stopping", sig);
        break;
    }
    server_stop(s);
    log_info("stopped cleanly");
    server_config_free(&cfg);
    return 0;
}
