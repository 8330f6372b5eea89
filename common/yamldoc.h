/* SPDX-License-Identifier: Apache-2.0 */
/*
 * yamldoc: the layer under every hand-written decoder that walks a libyaml
 * document (rule, SLO, Alertmanager, receiver and promtool unit-test
 * files): load a document and keep libyaml's error verbatim; read a node's
 * position, mapping pairs, sequence items and keys; recognise the YAML 1.2
 * core null and bool spellings of a plain scalar.
 *
 * It formats no message of a decoder's own: each keeps its wording (Go's
 * yaml.v2 or v3, Alertmanager's, ours), which parity tests compare byte
 * for byte. So what differs stays with the decoders: Go tag resolution
 * (v2 and v3 disagree), which key repeat is reported and how, yes/no and
 * quoted booleans. The one wording here is Go's "unmarshal errors" list
 * and its type-mismatch line, printed alike by yaml.v2 and v3 (the node's
 * tag is the caller's).
 *
 * Invariants: only yamldoc_load allocates (libyaml's malloc, released by
 * yaml_document_delete) besides the goerrs buffer; accessors are O(1), key
 * searches O(pairs). Keys compare as C strings (a quoted key holding "\0"
 * matches up to its NUL), as the decoders always have. Lines and columns
 * are 1-based; 0 means "no node".
 */
#ifndef PHAROS_COMMON_YAMLDOC_H
#define PHAROS_COMMON_YAMLDOC_H

#include <stdbool.h>
#include <stddef.h>

#include <yaml.h>

#include "common/buf.h"

/* ---- loading ---- */

typedef enum yamldoc_status {
    YAMLDOC_OK = 0,
    YAMLDOC_ELOAD = -1, /* libyaml refused the text (syntax, or its own OOM): see the error */
    YAMLDOC_ENOMEM = -2 /* the parser could not even be created */
} yamldoc_status_t;

/* What libyaml said when a load failed, copied out of the parser (its
 * texts are static strings, valid after the parser is gone). */
typedef struct yamldoc_error {
    yaml_error_type_t type;   /* YAML_SCANNER_ERROR, YAML_PARSER_ERROR, ... */
    const char *problem;      /* NULL when libyaml gave none */
    const char *context;      /* NULL when libyaml gave none */
    yaml_mark_t problem_mark; /* 0-based line and column, byte index */
    yaml_mark_t context_mark;
} yamldoc_error_t;

/* Load the first document of text[0..len) (text may be NULL when len is
 * 0) into doc [out]. YAMLDOC_OK: doc is the caller's, to release with
 * yaml_document_delete (its root is NULL for an empty text). Otherwise
 * doc holds nothing to release and err [out] (zeroed first) says why.
 * A document whose walk from the root would visit more than a million
 * nodes through aliases (or that aliases a node inside itself) is refused
 * as YAMLDOC_ELOAD with the problem "document contains excessive
 * aliasing". Work: linear in len and in the document's nodes and edges. */
yamldoc_status_t yamldoc_load(const char *text, size_t len, yaml_document_t *doc, yamldoc_error_t *err);

/* ---- nodes ---- */

/* 1-based line and column of n's start; 0 when n is NULL. */
unsigned yamldoc_line(const yaml_node_t *n);
unsigned yamldoc_col(const yaml_node_t *n);

/* A scalar's text, NUL-terminated by libyaml (it may hold earlier NULs
 * from "\0" escapes: n->data.scalar.length is the real length). n must
 * be a scalar. */
static inline const char *yamldoc_str(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

/* A plain (unquoted) scalar spelled as YAML 1.2's core null: "", "~",
 * "null", "Null", "NULL". The tag is not looked at. false for NULL. */
bool yamldoc_plain_null(const yaml_node_t *n);
/* A plain scalar spelled as YAML 1.2's core bool: true/True/TRUE or
 * false/False/FALSE; then *out [out] is set. false (out untouched)
 * otherwise. */
bool yamldoc_plain_bool(const yaml_node_t *n, bool *out);

/* ---- mappings and sequences ---- */

/* Number of pairs of a mapping, items of a sequence; 0 for any other
 * node or NULL. */
size_t yamldoc_map_len(const yaml_node_t *map);
size_t yamldoc_seq_len(const yaml_node_t *seq);
/* Pair i < yamldoc_map_len(map): its key and value nodes [out], borrowed
 * from doc until it is deleted or grows (yaml_document_add_* may move
 * its nodes: keep ids across that). */
void yamldoc_map_at(yaml_document_t *doc, const yaml_node_t *map, size_t i, const yaml_node_t **key,
                    const yaml_node_t **value);
/* Item i < yamldoc_seq_len(seq). */
yaml_node_t *yamldoc_seq_at(yaml_document_t *doc, const yaml_node_t *seq, size_t i);

/* k is a scalar whose text equals key (C-string comparison). */
bool yamldoc_key_is(const yaml_node_t *k, const char *key);
/* The index of the first pair at or after from whose key is the scalar
 * key, or -1 (also when map is NULL or not a mapping). */
long yamldoc_map_find(yaml_document_t *doc, const yaml_node_t *map, size_t from, const char *key);
/* The repeated keys of a mapping in O(n) expected time (a hash of the key
 * texts, compared as C strings like yamldoc_map_find): for each pair i,
 * first[i] is the index of the first pair with the same scalar key (i
 * when none is earlier) and next[i] the index of the next pair after i
 * with that key, or n = yamldoc_map_len(map) when none is. A non-scalar
 * key is its own first and has no next. first and next [out] each have
 * room for n entries; either may be NULL. */
void yamldoc_map_repeats(yaml_document_t *doc, const yaml_node_t *map, size_t *first, size_t *next);

/* ---- Go's yaml "unmarshal errors" ---- */

/* The "line N: ..." lines of one Go decode, joined by "\n  " in b: a
 * decoder prints "yaml: unmarshal errors:\n  " and b when n > 0. Embedded:
 * _init (or zero), then _fini. */
typedef struct yamldoc_goerrs {
    buf_t b;
    size_t n;
} yamldoc_goerrs_t;

void yamldoc_goerrs_init(yamldoc_goerrs_t *e);
void yamldoc_goerrs_fini(yamldoc_goerrs_t *e);
/* Forget every line (keeps the buffer). */
void yamldoc_goerrs_reset(yamldoc_goerrs_t *e);
/* Add one line, formatted. */
void yamldoc_goerrs_add(yamldoc_goerrs_t *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Go's d.terror for node n of Go tag tag ("!!str", "!!map", ...) decoded
 * into Go type into: "line N: cannot unmarshal !!map into T", or for a
 * scalar "... !!str `text` into T", text cut to 7 bytes and "..." when it
 * is longer than 10. */
void yamldoc_goerrs_type(yamldoc_goerrs_t *e, const yaml_node_t *n, const char *tag, const char *into);

#endif
