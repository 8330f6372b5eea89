/* SPDX-License-Identifier: Apache-2.0 */
/*
 * netaddr: listen-address parsing shared by pharosd's server (common/
 * httpd) and the agent's (agent/agent_httpd). See netaddr.h.
 */
#include "common/netaddr.h"

#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int netaddr_listen(const char *addr, struct sockaddr_storage *ss, socklen_t *sslen, char *err, size_t errlen)
{
    char host[256];
    const char *port = NULL;
    if (addr[0] == '[') {
        const char *rb = strchr(addr, ']');
        if (!rb || rb[1] != ':' || (size_t)(rb - addr - 1) >= sizeof(host)) {
            snprintf(err, errlen, "bad listen address %s (want [v6]:port)", addr);
            return -1;
        }
        snprintf(host, sizeof(host), "%.*s", (int)(rb - addr - 1), addr + 1);
        port = rb + 2;
    } else {
        const char *colon = strrchr(addr, ':');
        if (!colon || (size_t)(colon - addr) >= sizeof(host)) {
            snprintf(err, errlen, "bad listen address %s (want host:port)", addr);
            return -1;
        }
        snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
        port = colon + 1;
    }
    size_t plen = strlen(port);
    bool digits = plen > 0 && plen <= 5 && strspn(port, "0123456789") == plen;
    if (!digits || strtoul(port, NULL, 10) > 65535) {
        snprintf(err, errlen, "bad listen address %s (bad port)", addr);
        return -1;
    }
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    hints.ai_family = host[0] ? AF_UNSPEC : AF_INET;
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (gai != 0 || !res) {
        snprintf(err, errlen, "bad listen address %s: %s", addr, gai_strerror(gai));
        if (res) {
            freeaddrinfo(res);
        }
        return -1;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *sslen = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}
