/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for common/config.c: defaults, every type's conversion and bounds,
 * YAML text (good files, syntax errors with lines, unknown keys, wrong node
 * kinds, duplicates, multiple documents, NUL and invalid UTF-8 bytes),
 * files in a mkdtemp directory, flags, help output and freeing; MAP and
 * TABLE fields (an agent-like table of scrape targets) from defaults, YAML
 * and flags, with their errors and with mem_used() back to its start.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/config.h"
#include "common/mem.h"

typedef struct tcfg {
    char *path;
    int64_t retention;
    int64_t max_size;
    int64_t port;
    char *listen;
    bool debug;
    int level;
    config_strlist_t peers;
    char *secret;
} tcfg_t;

static const char *const levels[] = { "debug", "info", "warn", "error", NULL };

static const config_field_t fields[] = {
    { .key = "storage.path",
      .type = CFG_STR,
      .offset = offsetof(tcfg_t, path),
      .def = "./data",
      .help = "Where blocks live." },
    { .key = "storage.retention",
      .type = CFG_DURATION,
      .offset = offsetof(tcfg_t, retention),
      .def = "15d",
      .help = "How long to keep samples.",
      .min = 1000,
      .max = 100LL * 365 * 86400 * 1000 },
    { .key = "storage.max-size",
      .type = CFG_BYTES,
      .offset = offsetof(tcfg_t, max_size),
      .def = "1GiB",
      .help = "Size cap." },
    { .key = "web.port",
      .type = CFG_INT,
      .offset = offsetof(tcfg_t, port),
      .def = "9090",
      .help = "Port.",
      .min = 1,
      .max = 65535 },
    { .key = "web.listen-address",
      .type = CFG_STR,
      .offset = offsetof(tcfg_t, listen),
      .def = ":9090",
      .help = "Listen address." },
    { .key = "debug", .type = CFG_BOOL, .offset = offsetof(tcfg_t, debug), .help = "Debug mode." },
    { .key = "log.level",
      .type = CFG_ENUM,
      .offset = offsetof(tcfg_t, level),
      .def = "info",
      .help = "Log level.",
      .enum_values = levels },
    { .key = "cluster.peers", .type = CFG_STRLIST, .offset = offsetof(tcfg_t, peers), .def = "a,b", .help = "Peers." },
    { .key = "secret", .type = CFG_STR, .offset = offsetof(tcfg_t, secret), .help = "Secret.", .flag_only = true },
};
#define NF (sizeof(fields) / sizeof(fields[0]))

static void defaults(tcfg_t *c)
{
    char err[256] = "";
    memset(c, 0xA5, sizeof(*c)); /* defaults must not read or free garbage */
    if (config_defaults(fields, NF, c, err, sizeof(err)) != 0) {
        fail_msg("defaults: %s", err);
    }
}

static void test_defaults(void **state)
{
    (void)state;
    tcfg_t c;
    defaults(&c);
    assert_string_equal(c.path, "./data");
    assert_int_equal(c.retention, 15LL * 86400 * 1000);
    assert_int_equal(c.max_size, 1LL << 30);
    assert_int_equal(c.port, 9090);
    assert_string_equal(c.listen, ":9090");
    assert_false(c.debug);
    assert_int_equal(c.level, 1);
    assert_int_equal(c.peers.n, 2);
    assert_string_equal(c.peers.v[0], "a");
    assert_string_equal(c.peers.v[1], "b");
    assert_null(c.secret);
    config_free(fields, NF, &c);
    assert_null(c.path);
    assert_null(c.peers.v);
    assert_int_equal(c.peers.n, 0);
    config_free(fields, NF, &c); /* twice is fine */
    config_free(fields, NF, NULL);

    /* A bad default names its key. */
    config_field_t bad[] = {
        { .key = "x.port", .type = CFG_INT, .offset = 0, .def = "70000", .min = 1, .max = 65535 }
    };
    int64_t v = 0;
    char err[256];
    assert_int_equal(config_defaults(bad, 1, &v, err, sizeof(err)), -1);
    assert_string_equal(err, "x.port: bad default: value \"70000\" out of range [1, 65535]");
}

static void test_set_values(void **state)
{
    (void)state;
    const struct {
        const char *key;
        const char *value;
        const char *err; /* NULL: success */
        int64_t want;    /* for numeric kinds */
    } t[] = {
        { "web.port", "8080", NULL, 8080 },
        { "web.port", "1", NULL, 1 },
        { "web.port", "65535", NULL, 65535 },
        { "web.port", "0", "web.port: value \"0\" out of range [1, 65535]" },
        { "web.port", "65536", "web.port: value \"65536\" out of range [1, 65535]" },
        { "web.port", "-1", "web.port: value \"-1\" out of range [1, 65535]" },
        { "web.port", "12a", "web.port: invalid integer \"12a\"" },
        { "web.port", "", "web.port: invalid integer \"\"" },
        { "web.port", "99999999999999999999", "web.port: invalid integer \"99999999999999999999\"" },
        { "storage.retention", "1h30m", NULL, 5400000 },
        { "storage.retention", "1s", NULL, 1000 },
        { "storage.retention", "15x", "storage.retention: invalid duration \"15x\"" },
        { "storage.retention", "500ms", "storage.retention: value \"500ms\" out of range [1s, 100y]" },
        { "storage.retention", "0", "storage.retention: value \"0\" out of range [1s, 100y]" },
        { "storage.max-size", "512", NULL, 512 },
        { "storage.max-size", "512B", NULL, 512 },
        { "storage.max-size", "64KiB", NULL, 65536 },
        { "storage.max-size", "64 KiB", NULL, 65536 },
        { "storage.max-size", "1KB", NULL, 1000 },
        { "storage.max-size", "3MB", NULL, 3000000 },
        { "storage.max-size", "2MiB", NULL, 2 << 20 },
        { "storage.max-size", "5GB", NULL, 5000000000LL },
        { "storage.max-size", "2TiB", NULL, 2LL << 40 },
        { "storage.max-size", "1TB", NULL, 1000000000000LL },
        { "storage.max-size", "1.5GB", "storage.max-size: invalid size \"1.5GB\"" },
        { "storage.max-size", "1XB", "storage.max-size: invalid size \"1XB\"" },
        { "storage.max-size", "1kb", "storage.max-size: invalid size \"1kb\"" },
        { "storage.max-size", "12 ", "storage.max-size: invalid size \"12 \"" },
        { "storage.max-size", "GiB", "storage.max-size: invalid size \"GiB\"" },
        { "storage.max-size", "-5", "storage.max-size: invalid size \"-5\"" },
        { "storage.max-size", "99999999TiB", "storage.max-size: invalid size \"99999999TiB\"" },
        { "debug", "true", NULL, 1 },
        { "debug", "False", NULL, 0 },
        { "debug", "yes", "debug: invalid boolean \"yes\" (want true or false)" },
        { "debug", "1", "debug: invalid boolean \"1\" (want true or false)" },
        { "log.level", "warn", NULL, 2 },
        { "log.level", "trace", "log.level: invalid value \"trace\" (want one of: debug, info, warn, error)" },
        { "log.level", "Info", "log.level: invalid value \"Info\" (want one of: debug, info, warn, error)" },
        { "storage.path", "a\x01\"b", NULL, 0 },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        tcfg_t c;
        defaults(&c);
        const config_field_t *f = config_find(fields, NF, t[i].key, strlen(t[i].key));
        assert_non_null(f);
        char err[256] = "";
        int rc = config_set(f, &c, t[i].value, err, sizeof(err));
        if (t[i].err) {
            if (rc != -1 || strcmp(err, t[i].err) != 0) {
                fail_msg("case %zu %s=%s: rc %d err \"%s\" want \"%s\"", i, t[i].key, t[i].value, rc, err, t[i].err);
            }
        } else {
            if (rc != 0) {
                fail_msg("case %zu %s=%s: %s", i, t[i].key, t[i].value, err);
            }
            int64_t got = 0;
            switch (f->type) {
            case CFG_BOOL:
                got = c.debug;
                break;
            case CFG_ENUM:
                got = c.level;
                break;
            case CFG_STR:
                assert_string_equal(c.path, t[i].value);
                break;
            default:
                got = *(int64_t *)((char *)&c + f->offset);
                break;
            }
            if (got != t[i].want) {
                fail_msg("case %zu %s=%s: got %lld want %lld", i, t[i].key, t[i].value, (long long)got,
                         (long long)t[i].want);
            }
        }
        config_free(fields, NF, &c);
    }
    assert_null(config_find(fields, NF, "web", 3));
    assert_null(config_find(fields, NF, "web.portx", 9));
    assert_non_null(config_find(fields, NF, "web.portx", 8));
}

typedef void (*check_fn)(const tcfg_t *c);

static void check_full(const tcfg_t *c)
{
    assert_string_equal(c->path, "/var/lib/pharos");
    assert_int_equal(c->retention, 30LL * 86400 * 1000);
    assert_int_equal(c->max_size, 10LL << 30);
    assert_int_equal(c->port, 8080);
    assert_string_equal(c->listen, "0.0.0.0:8080");
    assert_true(c->debug);
    assert_int_equal(c->level, 3);
    assert_int_equal(c->peers.n, 3);
    assert_string_equal(c->peers.v[0], "x:1");
    assert_string_equal(c->peers.v[2], "z");
}

static void check_defaults(const tcfg_t *c)
{
    assert_string_equal(c->path, "./data");
    assert_int_equal(c->port, 9090);
    assert_int_equal(c->peers.n, 2);
}

static void check_empty_list(const tcfg_t *c)
{
    assert_int_equal(c->peers.n, 0);
    assert_string_equal(c->path, "");
}

static void check_dotted(const tcfg_t *c)
{
    assert_string_equal(c->path, "/x");
    assert_int_equal(c->port, 1);
}

static void check_alias(const tcfg_t *c)
{
    assert_string_equal(c->path, "shared");
    assert_string_equal(c->listen, "shared");
}

static const char full_yaml[] = "# Pharos\n"
                                "storage:\n"
                                "  path: /var/lib/pharos\n"
                                "  retention: 30d\n"
                                "  max-size: 10GiB\n"
                                "web:\n"
                                "  port: 8080\n"
                                "  listen-address: \"0.0.0.0:8080\"\n"
                                "debug: true\n"
                                "log: {level: error}\n"
                                "cluster:\n"
                                "  peers:\n"
                                "    - x:1\n"
                                "    - 'y'\n"
                                "    - z\n";

/* A named load case: fails the test unless rc and err match want (NULL:
 * success expected); true when the loaded values should be checked. */
static bool load_as_expected(const char *name, int rc, const char *err, const char *want)
{
    if (want) {
        if (rc != -1 || strcmp(err, want) != 0) {
            fail_msg("case %s: rc %d err\n  %s\nwant\n  %s", name, rc, err, want);
        }
        return false;
    }
    if (rc != 0) {
        fail_msg("case %s: %s", name, err);
    }
    return true;
}

static void test_yaml_text(void **state)
{
    (void)state;
    const struct {
        const char *name;
        const char *text;
        size_t len; /* 0: strlen */
        const char *err;
        check_fn check;
    } t[] = {
        { "full", full_yaml, 0, NULL, check_full },
        { "empty", "", 0, NULL, check_defaults },
        { "comments only", "# nothing\n\n# here\n", 0, NULL, check_defaults },
        { "document marker", "---\n", 0, NULL, check_defaults },
        { "null root", "~\n", 0, NULL, check_defaults },
        { "null section", "storage:\nweb:\n", 0, NULL, check_defaults },
        { "null list and str", "cluster:\n  peers:\nstorage:\n  path:\n", 0, NULL, check_empty_list },
        { "empty flow list", "cluster: {peers: []}\nstorage: {path: ''}\n", 0, NULL, check_empty_list },
        { "dotted keys", "storage.path: /x\nweb: {port: 1}\n", 0, NULL, check_dotted },
        { "alias", "storage:\n  path: &p shared\nweb:\n  listen-address: *p\n", 0, NULL, check_alias },
        { "unknown top", "# c\n\nstorag:\n  path: x\n", 0, "t.yml:3: unknown key \"storag\"", NULL },
        { "unknown nested", "storage:\n  pth: x\n", 0, "t.yml:2: unknown key \"storage.pth\"", NULL },
        { "unknown deep", "web:\n  port:\n    x: 1\n", 0, "t.yml:3: web.port: expected a scalar, got a mapping", NULL },
        { "bad duration", "a:\n\nstorage:\n  path: x\n\n\n  retention: 15x\n", 0, "t.yml:1: unknown key \"a\"", NULL },
        { "bad duration 7", "\n\nstorage:\n  path: x\n\n\n  retention: 15x\n", 0,
          "t.yml:7: storage.retention: invalid duration \"15x\"", NULL },
        { "seq for scalar", "web:\n  listen-address: [a, b]\n", 0,
          "t.yml:2: web.listen-address: expected a scalar, got a sequence", NULL },
        { "block seq for scalar", "web:\n  listen-address:\n    - a\n", 0,
          "t.yml:3: web.listen-address: expected a scalar, got a sequence", NULL },
        { "scalar for list", "cluster:\n  peers: a\n", 0, "t.yml:2: cluster.peers: expected a sequence, got a scalar",
          NULL },
        { "map in list", "cluster:\n  peers:\n    - a\n    - {b: c}\n", 0,
          "t.yml:4: cluster.peers: expected a scalar in the list, got a mapping", NULL },
        { "scalar for section", "storage: 5\n", 0, "t.yml:1: storage: expected a mapping, got a scalar", NULL },
        { "list for section", "storage:\n  - a\n", 0, "t.yml:2: storage: expected a mapping, got a sequence", NULL },
        { "out of range", "web:\n  port: 70000\n", 0, "t.yml:2: web.port: value \"70000\" out of range [1, 65535]",
          NULL },
        { "bad int", "web:\n  port: 80.5\n", 0, "t.yml:2: web.port: invalid integer \"80.5\"", NULL },
        { "bad bool", "debug: yes\n", 0, "t.yml:1: debug: invalid boolean \"yes\" (want true or false)", NULL },
        { "bad enum", "log:\n  level: loud\n", 0,
          "t.yml:2: log.level: invalid value \"loud\" (want one of: debug, info, warn, error)", NULL },
        { "missing value", "web:\n  port:\n", 0, "t.yml:2: web.port: missing value", NULL },
        { "null value", "debug: ~\n", 0, "t.yml:1: debug: missing value", NULL },
        { "flag only", "secret: x\n", 0, "t.yml:1: secret: only accepted as a command-line flag", NULL },
        { "duplicate", "web:\n  port: 1\n  port: 2\n", 0, "t.yml:3: duplicate key \"port\"", NULL },
        { "map key", "? [a]\n: b\n", 0, "t.yml:1: expected a scalar key, got a sequence", NULL },
        { "top scalar", "hello\n", 0, "t.yml:1: expected a mapping at the top level, got a scalar", NULL },
        { "top seq", "- a\n", 0, "t.yml:1: expected a mapping at the top level, got a sequence", NULL },
        { "two docs", "debug: true\n---\ndebug: false\n", 0, "t.yml:3: multiple YAML documents are not supported",
          NULL },
        { "syntax missing colon", "storage:\n  path: x\n  retention\nweb: {}\n", 0,
          "t.yml:4: syntax error: could not find expected ':'", NULL },
        { "syntax bad indent", "storage:\n  path: x\n bad: 1\n", 0, "t.yml:3: syntax error: did not find expected key",
          NULL },
        { "syntax unclosed flow", "web: [a, b\n", 0, "t.yml:2: syntax error: did not find expected ',' or ']'", NULL },
        { "syntax unclosed quote", "storage:\n  path: \"abc\n", 0,
          "t.yml:3: syntax error: found unexpected end of stream", NULL },
        { "syntax tab", "storage:\n\tpath: x\n", 0,
          "t.yml:2: syntax error: found character that cannot start any token", NULL },
        { "undefined alias", "debug: *nope\n", 0, "t.yml:1: syntax error: found undefined alias", NULL },
        { "NUL byte", "debug: tr\0ue\n", 12, "t.yml:1: syntax error: control characters are not allowed", NULL },
        { "invalid utf8", "debug: true\nstorage:\n  path: \xff\n", 0,
          "t.yml:3: syntax error: invalid leading UTF-8 octet", NULL },
        { "long key", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: 1\n", 0,
          "t.yml:1: unknown key \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"...", NULL },
        { "escaped key", "\"de\\x01bug\": 1\n", 0, "t.yml:1: unknown key \"de\\x01bug\"", NULL },
        { "recursive alias", "storage: &s\n  sub: *s\n", 0, "t.yml:2: unknown key \"storage.sub\"", NULL },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        tcfg_t c;
        defaults(&c);
        char err[512] = "";
        size_t len = t[i].len ? t[i].len : strlen(t[i].text);
        int rc = config_load_text("t.yml", t[i].text, len, fields, NF, &c, err, sizeof(err));
        if (load_as_expected(t[i].name, rc, err, t[i].err)) {
            t[i].check(&c);
        }
        config_free(fields, NF, &c);
    }
}

/* Every truncation of a good file loads or fails with "t.yml:<line>: ". */
static void test_yaml_truncations(void **state)
{
    (void)state;
    size_t len = strlen(full_yaml);
    for (size_t cut = 0; cut <= len; cut++) {
        tcfg_t c;
        defaults(&c);
        char err[512] = "";
        if (config_load_text("t.yml", full_yaml, cut, fields, NF, &c, err, sizeof(err)) != 0) {
            assert_true(strncmp(err, "t.yml:", 6) == 0);
        }
        config_free(fields, NF, &c);
    }
}

/* The group state is the mkdtemp directory (heap string). */
static int setup_dir(void **state)
{
    char *dir = mem_strdup("/tmp/pharos-test-config-XXXXXX");
    if (!mkdtemp(dir)) {
        mem_free(dir);
        return -1;
    }
    *state = dir;
    return 0;
}

static int teardown_dir(void **state)
{
    char *dir = *state;
    char p[128];
    snprintf(p, sizeof(p), "%s/pharosd.yml", dir);
    unlink(p);
    int rc = rmdir(dir);
    mem_free(dir);
    return rc;
}

static void test_yaml_file(void **state)
{
    const char *tmpdir = *state;
    char path[128];
    snprintf(path, sizeof(path), "%s/pharosd.yml", tmpdir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(full_yaml, fp);
    fclose(fp);

    tcfg_t c;
    defaults(&c);
    char err[512] = "";
    if (config_load_file(path, fields, NF, &c, err, sizeof(err)) != 0) {
        fail_msg("%s", err);
    }
    check_full(&c);
    config_free(fields, NF, &c);

    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("storage:\n  retention: 1h\n\n\n\n\n  path: 7\n  retention: 15x\n", fp);
    fclose(fp);
    defaults(&c);
    assert_int_equal(config_load_file(path, fields, NF, &c, err, sizeof(err)), -1);
    char want[256];
    snprintf(want, sizeof(want), "%s:8: duplicate key \"retention\"", path);
    assert_string_equal(err, want);
    config_free(fields, NF, &c);

    char missing[160];
    snprintf(missing, sizeof(missing), "%s/nope.yml", tmpdir);
    defaults(&c);
    assert_int_equal(config_load_file(missing, fields, NF, &c, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s: cannot open: No such file or directory", missing);
    assert_string_equal(err, want);
    assert_int_equal(config_load_file(tmpdir, fields, NF, &c, err, sizeof(err)), -1);
    assert_true(strncmp(err, tmpdir, strlen(tmpdir)) == 0);
    config_free(fields, NF, &c);
}

typedef struct extra_seen {
    int help;
    int h;
    char version[32];
} extra_seen_t;

static int extra_cb(void *ctx, const char *key, const char *value)
{
    extra_seen_t *s = ctx;
    if (strcmp(key, "help") == 0) {
        s->help++;
        return 0;
    }
    if (strcmp(key, "h") == 0) {
        s->h++;
        return 0;
    }
    if (strcmp(key, "version") == 0) {
        snprintf(s->version, sizeof(s->version), "%s", value ? value : "(null)");
        return 0;
    }
    return 1;
}

static void test_flags(void **state)
{
    (void)state;
    tcfg_t c;
    defaults(&c);
    char err[256] = "";
    char *argv[] = { "pharosd",    "--storage.path=/x",     "--web.port",       "8080",
                     "--debug",    "--cluster.peers=c",     "--cluster.peers",  "d",
                     "--secret",   "--not-a-flag",          "--log.level=warn", "--storage.max-size",
                     "2GB",        "--web.listen-address=", "--help",           "-h",
                     "--version=x" };
    int argc = (int)(sizeof(argv) / sizeof(argv[0]));
    extra_seen_t seen = { 0 };
    if (config_parse_flags(argc, argv, fields, NF, &c, extra_cb, &seen, err, sizeof(err)) != 0) {
        fail_msg("%s", err);
    }
    assert_string_equal(c.path, "/x");
    assert_int_equal(c.port, 8080);
    assert_true(c.debug);
    assert_int_equal(c.peers.n, 2);
    assert_string_equal(c.peers.v[0], "c");
    assert_string_equal(c.peers.v[1], "d");
    assert_string_equal(c.secret, "--not-a-flag");
    assert_int_equal(c.level, 2);
    assert_int_equal(c.max_size, 2000000000LL);
    assert_string_equal(c.listen, "");
    assert_int_equal(seen.help, 1);
    assert_int_equal(seen.h, 1);
    assert_string_equal(seen.version, "x");
    config_free(fields, NF, &c);

    /* Flags override the file; the first list flag replaces the file's list. */
    defaults(&c);
    assert_int_equal(config_load_text("t.yml", full_yaml, strlen(full_yaml), fields, NF, &c, err, sizeof(err)), 0);
    char *argv2[] = { "pharosd", "--cluster.peers=q", "--debug=false", "--web.port=1" };
    assert_int_equal(config_parse_flags(4, argv2, fields, NF, &c, NULL, NULL, err, sizeof(err)), 0);
    assert_int_equal(c.peers.n, 1);
    assert_string_equal(c.peers.v[0], "q");
    assert_false(c.debug);
    assert_int_equal(c.port, 1);
    assert_string_equal(c.path, "/var/lib/pharos");
    config_free(fields, NF, &c);

    const struct {
        const char *args[4];
        int argc;
        const char *err;
    } bad[] = {
        { { "p", "--nope" }, 2, "unknown flag --nope" },
        { { "p", "--nope=1" }, 2, "unknown flag --nope" },
        { { "p", "-x" }, 2, "unknown flag -x" },
        { { "p", "--help" }, 2, "unknown flag --help" },
        { { "p", "--web.port" }, 2, "flag --web.port needs a value" },
        { { "p", "--web.port=0" }, 2, "flag --web.port: value \"0\" out of range [1, 65535]" },
        { { "p", "--storage.retention", "15x" }, 3, "flag --storage.retention: invalid duration \"15x\"" },
        { { "p", "--debug=maybe" }, 2, "flag --debug: invalid boolean \"maybe\" (want true or false)" },
        { { "p", "--debug", "false" }, 3, "unexpected argument \"false\"" },
        { { "p", "positional" }, 2, "unexpected argument \"positional\"" },
        { { "p", "--" }, 2, "unexpected argument \"--\"" },
        { { "p", "-" }, 2, "unexpected argument \"-\"" },
        { { "p", "--web" }, 2, "unknown flag --web" },
        { { "p", "--=x" }, 2, "unknown flag --" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        defaults(&c);
        char *args[4];
        memcpy(args, bad[i].args, sizeof(args));
        int rc = config_parse_flags(bad[i].argc, args, fields, NF, &c, NULL, NULL, err, sizeof(err));
        if (rc != -1 || strcmp(err, bad[i].err) != 0) {
            fail_msg("bad case %zu: rc %d err \"%s\" want \"%s\"", i, rc, err, bad[i].err);
        }
        config_free(fields, NF, &c);
    }
    /* No arguments at all. */
    defaults(&c);
    char *argv0[] = { "pharosd" };
    assert_int_equal(config_parse_flags(1, argv0, fields, NF, &c, NULL, NULL, err, sizeof(err)), 0);
    assert_int_equal(config_parse_flags(0, NULL, NULL, 0, &c, NULL, NULL, err, sizeof(err)), 0);
    config_free(fields, NF, &c);
}

static void test_help(void **state)
{
    (void)state;
    char *out = NULL;
    size_t outlen = 0;
    FILE *fp = open_memstream(&out, &outlen);
    assert_non_null(fp);
    config_print_help(fp, fields, NF);
    fclose(fp);
    const char *want[] = {
        "  --storage.path=<string>              Where blocks live. (default: ./data)\n",
        "  --web.port=<int>                     Port. (default: 9090)\n",
        "  --debug                              Debug mode.\n",
        "  --log.level=<debug|info|warn|error>  Log level. (default: info)\n",
        "  --cluster.peers=<string>...          Peers. (default: a,b)\n",
        "  --secret=<string>                    Secret. [flag only]\n",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        if (!strstr(out, want[i])) {
            fail_msg("help lacks\n%s\ngot\n%s", want[i], out);
        }
    }
    free(out);
}

/* ---- MAP and TABLE ---- */

typedef struct ttarget {
    char *url;
    int64_t interval;
    bool tls;
    config_strlist_t tags;
    config_strlist_t labels; /* MAP */
} ttarget_t;

typedef struct tagent {
    config_strlist_t labels; /* MAP */
    config_table_t targets;  /* of ttarget_t */
    char *name;
} tagent_t;

static const config_field_t target_fields[] = {
    { .key = "url", .type = CFG_STR, .offset = offsetof(ttarget_t, url), .help = "URL to scrape." },
    { .key = "interval",
      .type = CFG_DURATION,
      .offset = offsetof(ttarget_t, interval),
      .def = "1m",
      .help = "Scrape interval.",
      .min = 1000,
      .max = 86400000 },
    { .key = "tls", .type = CFG_BOOL, .offset = offsetof(ttarget_t, tls), .help = "Use TLS." },
    { .key = "tags", .type = CFG_STRLIST, .offset = offsetof(ttarget_t, tags), .def = "t", .help = "Tags." },
    { .key = "labels",
      .type = CFG_MAP,
      .offset = offsetof(ttarget_t, labels),
      .def = "job=scrape",
      .help = "Target labels." },
};

static const config_field_t agent_fields[] = {
    { .key = "global.labels",
      .type = CFG_MAP,
      .offset = offsetof(tagent_t, labels),
      .def = "env=prod,expr=a=b",
      .help = "Labels for every sample." },
    { .key = "scrape.targets",
      .type = CFG_TABLE,
      .offset = offsetof(tagent_t, targets),
      .help = "Targets.",
      .sub = target_fields,
      .nsub = sizeof(target_fields) / sizeof(target_fields[0]),
      .elem_size = sizeof(ttarget_t) },
    { .key = "name", .type = CFG_STR, .offset = offsetof(tagent_t, name), .def = "n", .help = "Name." },
};
#define NA (sizeof(agent_fields) / sizeof(agent_fields[0]))

static void agent_defaults(tagent_t *a)
{
    char err[256] = "";
    memset(a, 0xA5, sizeof(*a));
    if (config_defaults(agent_fields, NA, a, err, sizeof(err)) != 0) {
        fail_msg("defaults: %s", err);
    }
}

/* l holds exactly the pairs in want ("k", "v", ..., NULL). */
static void assert_pairs(const config_strlist_t *l, const char *const *want)
{
    size_t n = 0;
    while (want[n]) {
        n++;
    }
    if (l->n != n) {
        fail_msg("map has %zu strings, want %zu", l->n, n);
    }
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(l->v[i], want[i]);
    }
}

static void test_map_defaults_and_set(void **state)
{
    (void)state;
    size_t used = mem_used();
    tagent_t a;
    agent_defaults(&a);
    assert_pairs(&a.labels, (const char *[]){ "env", "prod", "expr", "a=b", NULL });
    assert_int_equal(a.targets.n, 0);
    assert_null(a.targets.v);
    const config_field_t *f = config_find(agent_fields, NA, "global.labels", 13);
    char err[256] = "";
    assert_int_equal(config_set(f, &a, "dc=x", err, sizeof(err)), 0);
    assert_int_equal(config_set(f, &a, "empty=", err, sizeof(err)), 0);
    assert_pairs(&a.labels, (const char *[]){ "env", "prod", "expr", "a=b", "dc", "x", "empty", "", NULL });
    const struct {
        const char *value;
        const char *err;
    } bad[] = {
        { "novalue", "global.labels: invalid entry \"novalue\" (want key=value)" },
        { "", "global.labels: invalid entry \"\" (want key=value)" },
        { "=v", "global.labels: empty key" },
        { "env=dev", "global.labels: duplicate key \"env\"" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (config_set(f, &a, bad[i].value, err, sizeof(err)) != -1 || strcmp(err, bad[i].err) != 0) {
            fail_msg("bad %zu: err \"%s\" want \"%s\"", i, err, bad[i].err);
        }
    }
    assert_int_equal(a.labels.n, 8);
    f = config_find(agent_fields, NA, "scrape.targets", 14);
    assert_int_equal(config_set(f, &a, "x", err, sizeof(err)), -1);
    assert_string_equal(err, "scrape.targets: only accepted in the config file");
    config_free(agent_fields, NA, &a);
    assert_null(a.labels.v);
    assert_int_equal(a.labels.n, 0);
    assert_int_equal(mem_used(), used);

    /* Bad defaults: a duplicate map key, a pair without '=', table text. */
    const struct {
        config_type_t type;
        const char *def;
        const char *err;
    } bd[] = {
        { CFG_MAP, "a=1,a=2", "m: bad default: duplicate key \"a\"" },
        { CFG_MAP, "a=1,b", "m: bad default: invalid entry \"b\" (want key=value)" },
        { CFG_TABLE, "x", "m: bad default: a table has no default text" },
    };
    for (size_t i = 0; i < sizeof(bd) / sizeof(bd[0]); i++) {
        config_field_t bf[] = { { .key = "m",
                                  .type = bd[i].type,
                                  .def = bd[i].def,
                                  .sub = target_fields,
                                  .nsub = 1,
                                  .elem_size = sizeof(ttarget_t) } };
        union {
            config_strlist_t l;
            config_table_t t;
        } u;
        assert_int_equal(config_defaults(bf, 1, &u, err, sizeof(err)), -1);
        assert_string_equal(err, bd[i].err);
        config_free(bf, 1, &u);
    }
    assert_int_equal(mem_used(), used);
}

static void check_agent_full(const tagent_t *a)
{
    assert_pairs(&a->labels, (const char *[]){ "zone", "b", "env", "dev", "empty", "", NULL });
    assert_string_equal(a->name, "n");
    assert_int_equal(a->targets.n, 2);
    const ttarget_t *t = a->targets.v;
    assert_string_equal(t[0].url, "http://a:9100/metrics");
    assert_int_equal(t[0].interval, 60000); /* default */
    assert_false(t[0].tls);
    assert_int_equal(t[0].tags.n, 1);
    assert_string_equal(t[0].tags.v[0], "t");
    assert_pairs(&t[0].labels, (const char *[]){ "job", "scrape", NULL });
    assert_string_equal(t[1].url, "https://b");
    assert_int_equal(t[1].interval, 15000);
    assert_true(t[1].tls);
    assert_int_equal(t[1].tags.n, 2);
    assert_string_equal(t[1].tags.v[1], "y");
    assert_pairs(&t[1].labels, (const char *[]){ "job", "node", "team", "db", NULL });
}

static void check_agent_defaults(const tagent_t *a)
{
    assert_pairs(&a->labels, (const char *[]){ "env", "prod", "expr", "a=b", NULL });
    assert_int_equal(a->targets.n, 0);
}

static void check_agent_empty(const tagent_t *a)
{
    assert_int_equal(a->labels.n, 0);
    assert_int_equal(a->targets.n, 0);
    assert_null(a->targets.v);
}

static void check_agent_one_default(const tagent_t *a)
{
    assert_int_equal(a->targets.n, 1);
    const ttarget_t *t = a->targets.v;
    assert_null(t[0].url);
    assert_int_equal(t[0].interval, 60000);
    assert_pairs(&t[0].labels, (const char *[]){ "job", "scrape", NULL });
}

static void check_agent_dotted(const tagent_t *a)
{
    assert_pairs(&a->labels, (const char *[]){ "x", "1", NULL });
    assert_int_equal(a->targets.n, 1);
    const ttarget_t *t = a->targets.v;
    assert_string_equal(t[0].url, "u");
    assert_int_equal(t[0].tags.n, 0);
    assert_int_equal(t[0].labels.n, 0);
}

static const char agent_yaml[] = "global:\n"
                                 "  labels:\n"
                                 "    zone: b\n"
                                 "    env: dev\n"
                                 "    empty:\n"
                                 "scrape:\n"
                                 "  targets:\n"
                                 "    - url: http://a:9100/metrics\n"
                                 "    - url: https://b\n"
                                 "      interval: 15s\n"
                                 "      tls: true\n"
                                 "      tags: [x, y]\n"
                                 "      labels: {job: node, team: db}\n";

typedef void (*agent_check_fn)(const tagent_t *a);

static void test_map_table_yaml(void **state)
{
    (void)state;
    const struct {
        const char *name;
        const char *text;
        const char *err;
        agent_check_fn check;
    } t[] = {
        { "full", agent_yaml, NULL, check_agent_full },
        { "empty file", "", NULL, check_agent_defaults },
        { "null map and table", "global:\n  labels:\nscrape:\n  targets: ~\n", NULL, check_agent_empty },
        { "empty flow map and seq", "global: {labels: {}}\nscrape: {targets: []}\n", NULL, check_agent_empty },
        { "empty element", "scrape:\n  targets:\n    - {}\n", NULL, check_agent_one_default },
        { "dotted keys and nulls", "global.labels: {x: 1}\nscrape.targets:\n  - url: u\n    tags:\n    labels:\n", NULL,
          check_agent_dotted },
        { "map duplicate", "global:\n  labels:\n    a: 1\n    b: 2\n    a: 3\n",
          "t.yml:5: global.labels: duplicate key \"a\"", NULL },
        { "map seq value", "global:\n  labels:\n    a: 1\n    b: [1, 2]\n",
          "t.yml:4: global.labels: expected a scalar value for key \"b\", got a sequence", NULL },
        { "map map value", "global:\n  labels:\n    a:\n      b: 1\n",
          "t.yml:4: global.labels: expected a scalar value for key \"a\", got a mapping", NULL },
        { "map seq key", "global:\n  labels:\n    ? [a]\n    : 1\n",
          "t.yml:3: global.labels: expected a scalar key, got a sequence", NULL },
        { "map empty key", "global:\n  labels:\n    '': 1\n", "t.yml:3: global.labels: empty key", NULL },
        { "map scalar", "global:\n  labels: env=prod\n", "t.yml:2: global.labels: expected a mapping, got a scalar",
          NULL },
        { "map seq", "global:\n  labels:\n    - a\n", "t.yml:3: global.labels: expected a mapping, got a sequence",
          NULL },
        { "table unknown sub-key", "scrape:\n  targets:\n    - url: a\n    - url: b\n\n      intervl: 1s\n",
          "t.yml:6: unknown key \"scrape.targets[1].intervl\"", NULL },
        { "table bad value", "scrape:\n  targets:\n    - url: a\n    - url: b\n      interval: 1x\n",
          "t.yml:5: scrape.targets[1].interval: invalid duration \"1x\"", NULL },
        { "table out of range", "scrape:\n  targets:\n    - interval: 2d\n",
          "t.yml:3: scrape.targets[0].interval: value \"2d\" out of range [1s, 1d]", NULL },
        { "table missing value", "scrape:\n  targets:\n    - tls:\n", "t.yml:3: scrape.targets[0].tls: missing value",
          NULL },
        { "table wrong kind", "scrape:\n  targets:\n    - url: [a]\n",
          "t.yml:3: scrape.targets[0].url: expected a scalar, got a sequence", NULL },
        { "table nested list", "scrape:\n  targets:\n    - tags: [a, {b: c}]\n",
          "t.yml:3: scrape.targets[0].tags: expected a scalar in the list, got a mapping", NULL },
        { "table nested map dup", "scrape:\n  targets:\n    - {}\n    - labels: {a: 1, a: 2}\n",
          "t.yml:4: scrape.targets[1].labels: duplicate key \"a\"", NULL },
        { "table duplicate sub-key", "scrape:\n  targets:\n    - url: a\n      url: b\n",
          "t.yml:4: duplicate key \"url\"", NULL },
        { "table not a sequence", "scrape:\n  targets: http://a\n",
          "t.yml:2: scrape.targets: expected a sequence of mappings, got a scalar", NULL },
        { "table mapping", "scrape:\n  targets:\n    url: a\n",
          "t.yml:3: scrape.targets: expected a sequence of mappings, got a mapping", NULL },
        { "element scalar", "scrape:\n  targets:\n    - url: a\n    - http://b\n",
          "t.yml:4: scrape.targets[1]: expected a mapping, got a scalar", NULL },
        { "element null", "scrape:\n  targets:\n    -\n",
          "t.yml:3: scrape.targets[0]: expected a mapping, got a scalar", NULL },
        { "element sequence", "scrape:\n  targets:\n    - [a]\n",
          "t.yml:3: scrape.targets[0]: expected a mapping, got a sequence", NULL },
        { "element top-level key", "scrape:\n  targets:\n    - name: x\n",
          "t.yml:3: unknown key \"scrape.targets[0].name\"", NULL },
        { "recursive alias", "scrape:\n  targets: &s\n    - *s\n",
          "t.yml:2: scrape.targets[0]: expected a mapping, got a sequence", NULL },
    };
    size_t used = mem_used();
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        tagent_t a;
        agent_defaults(&a);
        char err[512] = "";
        int rc = config_load_text("t.yml", t[i].text, strlen(t[i].text), agent_fields, NA, &a, err, sizeof(err));
        if (load_as_expected(t[i].name, rc, err, t[i].err)) {
            t[i].check(&a);
        }
        config_free(agent_fields, NA, &a);
        assert_int_equal(a.targets.n, 0);
        assert_null(a.targets.v);
        if (mem_used() != used) {
            fail_msg("case %s: %zu bytes left after config_free", t[i].name, mem_used() - used);
        }
    }
}

/* A second load replaces the table; every truncation loads or fails with a
 * line, and config_free leaves nothing either way. */
static void test_table_reload_and_truncations(void **state)
{
    (void)state;
    size_t used = mem_used();
    tagent_t a;
    agent_defaults(&a);
    char err[512] = "";
    size_t len = strlen(agent_yaml);
    assert_int_equal(config_load_text("t.yml", agent_yaml, len, agent_fields, NA, &a, err, sizeof(err)), 0);
    assert_int_equal(config_load_text("t.yml", agent_yaml, len, agent_fields, NA, &a, err, sizeof(err)), 0);
    check_agent_full(&a);
    config_free(agent_fields, NA, &a);
    config_free(agent_fields, NA, &a);
    assert_int_equal(mem_used(), used);
    for (size_t cut = 0; cut <= len; cut++) {
        agent_defaults(&a);
        if (config_load_text("t.yml", agent_yaml, cut, agent_fields, NA, &a, err, sizeof(err)) != 0) {
            assert_true(strncmp(err, "t.yml:", 6) == 0);
        }
        config_free(agent_fields, NA, &a);
        assert_int_equal(mem_used(), used);
    }
}

static void test_map_table_flags(void **state)
{
    (void)state;
    size_t used = mem_used();
    tagent_t a;
    agent_defaults(&a);
    char err[256] = "";
    assert_int_equal(config_load_text("t.yml", agent_yaml, strlen(agent_yaml), agent_fields, NA, &a, err, sizeof(err)),
                     0);
    char *argv[] = { "agent", "--global.labels=a=1", "--global.labels", "b=x=y", "--name=q" };
    assert_int_equal(config_parse_flags(5, argv, agent_fields, NA, &a, NULL, NULL, err, sizeof(err)), 0);
    assert_pairs(&a.labels, (const char *[]){ "a", "1", "b", "x=y", NULL });
    assert_int_equal(a.targets.n, 2); /* untouched by flags */
    assert_string_equal(a.name, "q");
    config_free(agent_fields, NA, &a);

    const struct {
        const char *args[4];
        int argc;
        const char *err;
    } bad[] = {
        { { "p", "--global.labels=novalue" }, 2, "flag --global.labels: invalid entry \"novalue\" (want key=value)" },
        { { "p", "--global.labels=a=1", "--global.labels=a=2" }, 3, "flag --global.labels: duplicate key \"a\"" },
        { { "p", "--global.labels" }, 2, "flag --global.labels needs a value" },
        { { "p", "--scrape.targets=x" }, 2, "flag --scrape.targets: only accepted in the config file" },
        { { "p", "--scrape.targets", "--name=x" }, 3, "flag --scrape.targets: only accepted in the config file" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        agent_defaults(&a);
        char *args[4];
        memcpy(args, bad[i].args, sizeof(args));
        int rc = config_parse_flags(bad[i].argc, args, agent_fields, NA, &a, NULL, NULL, err, sizeof(err));
        if (rc != -1 || strcmp(err, bad[i].err) != 0) {
            fail_msg("bad case %zu: rc %d err \"%s\" want \"%s\"", i, rc, err, bad[i].err);
        }
        config_free(agent_fields, NA, &a);
    }
    assert_int_equal(mem_used(), used);
}

static void test_map_table_help(void **state)
{
    (void)state;
    char *out = NULL;
    size_t outlen = 0;
    FILE *fp = open_memstream(&out, &outlen);
    assert_non_null(fp);
    config_print_help(fp, agent_fields, NA);
    fclose(fp);
    const char *want = "  --global.labels=<key>=<value>...    Labels for every sample. (default: env=prod,expr=a=b)\n"
                       "  scrape.targets: <list of mappings>  Targets. [config file only]\n"
                       "    - url: <string>                   URL to scrape.\n"
                       "      interval: <duration>            Scrape interval. (default: 1m)\n"
                       "      tls: <true|false>               Use TLS.\n"
                       "      tags: [<string>, ...]           Tags. (default: t)\n"
                       "      labels: {<key>: <value>, ...}   Target labels. (default: job=scrape)\n"
                       "  --name=<string>                     Name. (default: n)\n";
    if (strcmp(out, want) != 0) {
        fail_msg("help\n%s\nwant\n%s", out, want);
    }
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_set_values),
        cmocka_unit_test(test_yaml_text),
        cmocka_unit_test(test_yaml_truncations),
        cmocka_unit_test(test_yaml_file),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_map_defaults_and_set),
        cmocka_unit_test(test_map_table_yaml),
        cmocka_unit_test(test_table_reload_and_truncations),
        cmocka_unit_test(test_map_table_flags),
        cmocka_unit_test(test_map_table_help),
    };
    return cmocka_run_group_tests_name("config", tests, setup_dir, teardown_dir);
}
