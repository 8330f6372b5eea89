/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for common/netaddr.c: the listen-address syntax, table-driven. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/netaddr.h"

static void test_good(void **state)
{
    (void)state;
    static const struct {
        const char *addr;
        int family;
        uint16_t port;
    } cases[] = {
        { "127.0.0.1:9465", AF_INET, 9465 }, { ":9465", AF_INET, 9465 },   { "127.0.0.1:0", AF_INET, 0 },
        { "0.0.0.0:65535", AF_INET, 65535 }, { "[::1]:80", AF_INET6, 80 }, { "[::]:1", AF_INET6, 1 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sockaddr_storage ss;
        socklen_t len = 0;
        char err[256] = "";
        int rc = netaddr_listen(cases[i].addr, &ss, &len, err, sizeof(err));
        if (rc != 0 && cases[i].family == AF_INET6) {
            continue; /* no IPv6 here */
        }
        assert_int_equal(rc, 0);
        assert_int_equal(ss.ss_family, cases[i].family);
        uint16_t port = cases[i].family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                                   : ((struct sockaddr_in6 *)&ss)->sin6_port;
        assert_int_equal(ntohs(port), cases[i].port);
        assert_true(len > 0);
    }
}

static void test_bad(void **state)
{
    (void)state;
    static const struct {
        const char *addr;
        const char *why;
    } cases[] = {
        { "9465", "(want host:port)" },       { "", "(want host:port)" },
        { "[::1]9465", "(want [v6]:port)" },  { "[::1", "(want [v6]:port)" },
        { "127.0.0.1:", "(bad port)" },       { "127.0.0.1:65536", "(bad port)" },
        { "127.0.0.1:-1", "(bad port)" },     { "127.0.0.1:12a", "(bad port)" },
        { "127.0.0.1:123456", "(bad port)" }, { "no.such.host.invalid:80", "bad listen address no.such" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sockaddr_storage ss;
        socklen_t len = 0;
        char err[256] = "";
        assert_int_equal(netaddr_listen(cases[i].addr, &ss, &len, err, sizeof(err)), -1);
        assert_non_null(strstr(err, cases[i].why));
        assert_non_null(strstr(err, cases[i].addr));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
