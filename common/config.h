/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config: one table of options per binary, filled from a YAML file and then
 * from command-line flags (flags override), with defaults and help text in
 * the same table so --help and docs/ come from one place.
 *
 * A field's key is a dotted path: "storage.path" is the YAML
 *   storage:
 *     path: ./data
 * and the flag --storage.path=./data (or --storage.path ./data). Unknown
 * keys, wrong types and bad values are errors that name the file, line and
 * key ("pharosd.yml:7: storage.retention: invalid duration \"15x\"").
 * Strings are heap copies owned by the struct; config_free releases them.
 *
 * Two compound types: a CFG_MAP is a YAML mapping of scalars ("labels:
 * {env: prod}", flag --labels=env=prod), kept in file order as one string
 * list k0, v0, k1, v1, ... with no duplicate keys. A CFG_TABLE is a YAML
 * sequence of mappings, each loaded into one element struct through a
 * sub-table of fields (offsets within the element; defaults first, then the
 * mapping); errors name the element ("scrape.targets[1].interval: ...").
 * A table is accepted only in the file.
 */
#ifndef PHAROS_COMMON_CONFIG_H
#define PHAROS_COMMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum config_type {
    CFG_STR,      /* char * */
    CFG_INT,      /* int64_t */
    CFG_BOOL,     /* bool */
    CFG_DURATION, /* int64_t milliseconds, Prometheus duration syntax */
    CFG_BYTES,    /* int64_t bytes: 512, 64KiB, 1MB, 2GiB, ... */
    CFG_ENUM,     /* int index into enum_values */
    CFG_STRLIST,  /* config_strlist_t; YAML sequence, flag repeatable */
    CFG_MAP,      /* config_strlist_t of 2n strings k0, v0, ...; YAML mapping of scalars, flag "k=v" repeatable */
    CFG_TABLE,    /* config_table_t; YAML sequence of mappings, each filled through sub/nsub; file only */
} config_type_t;

typedef struct config_strlist {
    char **v;
    size_t n;
} config_strlist_t;

/* n elements of elem_size bytes each, one heap block (mem_*), owned. */
typedef struct config_table {
    void *v;
    size_t n;
} config_table_t;

typedef struct config_field {
    const char *key; /* dotted path, also the flag name */
    config_type_t type;
    size_t offset;   /* offsetof(struct, member) */
    const char *def; /* default as text (NULL: zero/empty) */
    const char *help;
    const char *const *enum_values; /* NULL-terminated, CFG_ENUM only */
    int64_t min, max;               /* bounds for INT/DURATION/BYTES when min < max */
    bool flag_only;                 /* not accepted in the YAML file */
    /* CFG_TABLE only: the fields of one element, their offsets within the
     * element, and the element's size. Sub-fields may be of any type but
     * have no flags; their keys are relative ("interval"). */
    const struct config_field *sub;
    size_t nsub;
    size_t elem_size;
} config_field_t;

/* Set every field to its default: a STRLIST default is comma-separated, a
 * MAP default is comma-separated "k=v" pairs, a TABLE starts empty (a
 * TABLE with a default text is a "bad default" error). dst's previous
 * contents are overwritten, not freed: call this first, on a fresh struct.
 * 0, or -1 with "key: bad default: reason"; on error dst is safe to
 * config_free. */
int config_defaults(const config_field_t *f, size_t n, void *dst, char *err, size_t errlen);
/* Load a YAML file over dst: a list, map or table given in the file
 * replaces the one in dst. 0, or -1 with "file:line: key: reason"; on error
 * dst may be partly updated and is safe to config_free. */
int config_load_file(const char *path, const config_field_t *f, size_t n, void *dst, char *err, size_t errlen);
/* Load YAML text (name is used in messages). */
int config_load_text(const char *name, const char *text, size_t len, const config_field_t *f, size_t n, void *dst,
                     char *err, size_t errlen);
/* Set one field from its text form, as a flag would: a STRLIST gets value
 * appended, a MAP gets the pair "k=v" appended (split at the first '=';
 * no '=', an empty or a duplicate key is an error), a TABLE is refused
 * ("key: only accepted in the config file"). 0, or -1 with "key: reason". */
int config_set(const config_field_t *f, void *dst, const char *value, char *err, size_t errlen);
/* Find a field by key, or NULL. */
const config_field_t *config_find(const config_field_t *f, size_t n, const char *key, size_t keylen);
/* Print "  --key=<type>  help (default: …)" lines. A TABLE prints as
 * "  key: <list of mappings>  help [config file only]" followed by its
 * sub-fields in YAML form, indented ("    - url: <string>  help"). */
void config_print_help(FILE *out, const config_field_t *f, size_t n);
/* Free strings, lists, maps and tables (each element through its
 * sub-table) held in dst, and zero them. dst == NULL is a no-op; freeing
 * twice is fine. */
void config_free(const config_field_t *f, size_t n, void *dst);

/* Parse flags in argv[1..argc): "--key=value", "--key value" (the next
 * argument is taken as the value whatever it looks like), and a bare
 * "--key" for a BOOL (true; "--key=false" to clear). A STRLIST or MAP flag
 * appends each time it is given (a MAP takes "--key=k=v"); its first
 * occurrence replaces the file/default list. A TABLE flag is an error
 * ("flag --key: only accepted in the config file"). An argument that is not
 * in the table ("--help", "-h", "--version") is passed to extra(extra_ctx,
 * key without dashes, value after '=' or NULL): 0 accepts it, nonzero (or
 * extra == NULL) makes it an "unknown flag" error. Positional arguments and a lone "--" are errors. Returns 0, or -1
 * with a reason ("flag --key: invalid duration \"15x\""); on error dst may
 * be partly updated. O(argc * n). */
typedef int (*config_extra_fn)(void *ctx, const char *key, const char *value);
int config_parse_flags(int argc, char **argv, const config_field_t *f, size_t n, void *dst, config_extra_fn extra,
                       void *extra_ctx, char *err, size_t errlen);

/* The whole command-line flow of a binary: defaults, then the YAML file
 * named by the flag whose field sits at file_offset (a CFG_STR, usually
 * --config.file), then every flag (flags override the file). 0, or -1
 * with "file:line: key: reason" or "flag --key: reason"; dst holds owned
 * strings either way (config_free). */
int config_load_cli(int argc, char **argv, const config_field_t *f, size_t n, size_t file_offset, void *dst, char *err,
                    size_t errlen);
/* Write the configuration reference as a Markdown table (key or --flag,
 * type, default, description; enum values listed; a table's sub-keys as
 * rows of their own under "key[].sub"). */
void config_print_markdown(FILE *out, const config_field_t *f, size_t n);

#endif
