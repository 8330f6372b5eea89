/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent_main: pharos-agent's entry point: load the configuration (exit 1
 * with file:line:key on error; --check-config validates and exits), start
 * the agent, collect until SIGTERM or SIGINT, then stop cleanly: pending
 * samples are spooled and the senders get remote-write.drain-timeout to
 * send them (what is left is sent after the next start).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>

#include "agent/agent.h"
#include "common/log.h"

static void *agent_main_run(void *arg)
{
    agent_run(arg);
    return NULL;
}

int main(int argc, char **argv)
{
    agent_config_t cfg;
    char err[1024];
    agent_cfg_rc_t crc = agent_config_load(argc, argv, &cfg, stdout, err, sizeof(err));
    if (crc == AGENT_CFG_HELP) {
        agent_config_free(&cfg);
        return 0;
    }
    if (crc != AGENT_CFG_OK) {
        fprintf(stderr, "pharos-agent: %s\n", err);
        agent_config_free(&cfg);
        return 1;
    }
    if (cfg.check_config) {
        printf("pharos-agent: configuration OK%s%s\n", cfg.config_file ? ": " : "",
               cfg.config_file ? cfg.config_file : "");
        agent_config_free(&cfg);
        return 0;
    }
    log_set_level((log_level_t)cfg.log_level);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    agent_t *a;
    if (agent_create(&cfg, &a, err, sizeof(err)) != 0) {
        fprintf(stderr, "pharos-agent: %s\n", err);
        agent_config_free(&cfg);
        return 1;
    }
    log_info("pharos-agent listening on http://%s, collecting every %lld ms, shipping to %zu endpoint(s)", cfg.listen,
             (long long)cfg.interval_ms, cfg.rw_urls.n);
    printf("pharos-agent: listening on http://%s\n", cfg.listen);
    fflush(stdout);
    pthread_t runner;
    if (pthread_create(&runner, NULL, agent_main_run, a) != 0) {
        fprintf(stderr, "pharos-agent: cannot start the collection thread\n");
        agent_destroy(a);
        agent_config_free(&cfg);
        return 1;
    }
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0 || sig == SIGHUP) {
            continue;
        }
        log_info("signal %d: stopping", sig);
        break;
    }
    agent_stop(a);
    pthread_join(runner, NULL);
    agent_destroy(a);
    log_info("stopped cleanly");
    agent_config_free(&cfg);
    return 0;
}
