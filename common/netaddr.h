/* SPDX-License-Identifier: Apache-2.0 */
/*
 * netaddr: the listen-address syntax every Pharos server accepts, parsed
 * in one place: "host:port", "[v6]:port", or ":port" (all IPv4
 * addresses); port 0 asks for an ephemeral port. The host may be a name
 * (resolved with getaddrinfo, passive).
 */
#ifndef PHAROS_COMMON_NETADDR_H
#define PHAROS_COMMON_NETADDR_H

#include <stddef.h>
#include <sys/socket.h>

/* Resolve addr into [out] *ss and *sslen. 0, or -1 with a reason naming
 * the address ("bad listen address X (want host:port)", "… (bad port)",
 * "bad listen address X: <resolver error>"). May block on name lookup. */
int netaddr_listen(const char *addr, struct sockaddr_storage *ss, socklen_t *sslen, char *err, size_t errlen);

#endif
