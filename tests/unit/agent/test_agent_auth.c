/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for agent/agent_auth.c: bearer and basic Authorization from
 * secret files (read at every call, so rotation is picked up), extra
 * headers after the caller's, errors that name the file but never its
 * contents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/agent_int.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/pharos-auth-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *put(const char *name, const char *text)
{
    static char path[128];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static size_t count(const char **h)
{
    size_t n = 0;
    while (h[n]) {
        n++;
    }
    return n;
}

static void test_bearer_and_rotation(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof(path), "%s", put("token", "s3cret\n"));
    static const char *const base[] = { "Content-Type: x", NULL };
    agent_auth_t a = { .bearer_token_file = path };
    agent_auth_buf_t b = { 0 };
    const char **h = NULL;
    char err[256];
    assert_int_equal(agent_auth_headers(&a, base, &b, &h, err, sizeof(err)), 0);
    assert_int_equal(count(h), 2);
    assert_string_equal(h[0], "Content-Type: x");
    assert_string_equal(h[1], "Authorization: Bearer s3cret");
    put("token", "rotated");
    assert_int_equal(agent_auth_headers(&a, base, &b, &h, err, sizeof(err)), 0);
    assert_string_equal(h[1], "Authorization: Bearer rotated");
    agent_auth_buf_fini(&b);
}

static void test_basic_and_headers(void **state)
{
    (void)state;
    char pass[128];
    snprintf(pass, sizeof(pass), "%s", put("pass", "pass\n"));
    char *hv[] = { "X-Scope-OrgID", "tenant-a", "X-Other", "1" };
    agent_auth_t a = { .basic_user = "user", .basic_password_file = pass, .headers = { hv, 4 } };
    agent_auth_buf_t b = { 0 };
    const char **h = NULL;
    char err[256];
    assert_int_equal(agent_auth_headers(&a, NULL, &b, &h, err, sizeof(err)), 0);
    assert_int_equal(count(h), 3);
    assert_string_equal(h[0], "Authorization: Basic dXNlcjpwYXNz"); /* base64("user:pass") */
    assert_string_equal(h[1], "X-Scope-OrgID: tenant-a");
    assert_string_equal(h[2], "X-Other: 1");
    /* A rotated password, then credentials longer than the buffers have
     * room for: each call builds the header afresh from the files. */
    put("pass", "pass2\n");
    assert_int_equal(agent_auth_headers(&a, NULL, &b, &h, err, sizeof(err)), 0);
    assert_string_equal(h[0], "Authorization: Basic dXNlcjpwYXNzMg==");
    char user[101], pw[72];
    memset(user, 'u', 100);
    user[100] = 0;
    memset(pw, 'p', 70);
    pw[70] = '\n';
    pw[71] = 0;
    put("pass", pw);
    a.basic_user = user;
    assert_int_equal(agent_auth_headers(&a, NULL, &b, &h, err, sizeof(err)), 0);
    assert_string_equal(h[0], "Authorization: Basic "
                              "dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1"
                              "dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dTpwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBw"
                              "cHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBw");
    a.basic_user = "user";
    /* No password file: "user:" */
    a.basic_password_file = NULL;
    assert_int_equal(agent_auth_headers(&a, NULL, &b, &h, err, sizeof(err)), 0);
    assert_string_equal(h[0], "Authorization: Basic dXNlcjo=");
    /* No auth at all: the base list as is. */
    static const char *const base[] = { "A: 1", "B: 2", NULL };
    assert_int_equal(agent_auth_headers(NULL, base, &b, &h, err, sizeof(err)), 0);
    assert_int_equal(count(h), 2);
    agent_auth_buf_fini(&b);
}

static void test_errors_never_show_the_secret(void **state)
{
    (void)state;
    agent_auth_buf_t b = { 0 };
    const char **h = NULL;
    char err[256];
    agent_auth_t a = { .bearer_token_file = "/nonexistent/token" };
    assert_int_equal(agent_auth_headers(&a, NULL, &b, &h, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "bearer-token-file /nonexistent/token"));
    char path[128];
    snprintf(path, sizeof(path), "%s", put("two", "line-one-secret\nline-two-secret\n"));
    a.bearer_token_file = path;
    assert_int_equal(agent_auth_headers(&a, NULL, &b, &h, err, sizeof(err)), -1);
    assert_non_null(strstr(err, path));
    assert_null(strstr(err, "secret"));
    snprintf(path, sizeof(path), "%s", put("empty", "\n"));
    assert_int_equal(agent_auth_headers(&a, NULL, &b, &h, err, sizeof(err)), -1);
    agent_auth_buf_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bearer_and_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_basic_and_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_never_show_the_secret, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
