/* SPDX-License-Identifier: Apache-2.0 */
/*
 * promql_fn_label: label_replace() and label_join() as Prometheus 3.x runs
 * them. Error texts are Prometheus': they quote the regex or name, no reason.
 *
 * Prometheus compiles "^(?s:" + regex + ")$" in Go's RE2 syntax. PCRE2 reads
 * a superset, some of it differently, so the wrapped text goes through a
 * translator that follows Go's regexp/syntax parser token by token. It
 * rejects what Go rejects (backreferences, lookaround, atomic groups, \C \e
 * \h \K \R \X \Z and other PCRE-only escapes, stacked repeats like a** or
 * a*+, counts above 1000 or nesting to a product above 1000, unknown flags)
 * and rewrites what PCRE2 reads differently: \s \S (Go excludes \v), \v (a
 * character in Go, a class in PCRE2), octal and \x escapes, class members
 * (as \x{..}, so "[\d-z]" keeps a literal hyphen), a "{" Go takes literally,
 * \p names as Go 1.25 looks them up, named groups (plain groups for PCRE2;
 * names kept here, duplicates allowed as in Go). Both then match leftmost-
 * first on byte offsets, "$" only at the end, newline LF. Gaps: a subject
 * that is not UTF-8 never matches (Go reads U+FFFD), PCRE2's match limit,
 * a repeat right after a flag group (a(?i)*).
 *
 * The replacement is parsed once into segments as Go's Regexp.Expand reads
 * it: $$, $name, ${name}; a name is the longest run of "_", Unicode letters
 * and digits (PCRE2's \p{L}/\p{Nd} classify non-ASCII); digits without a
 * leading zero name a group number; a missing or unset group expands to
 * nothing; a malformed "$" is literal.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "common/buf.h"
#include "common/mem.h"
#include "common/str.h"
#include "query/promql_int.h"

#define RE_MAX_REPEAT 1000   /* Go's limit on {n,m} and on nested products */
#define RE_MAX_DEPTH 1000    /* Go's maxHeight, approximated by group depth */
#define RE_NUM_MAX 100000000 /* Go's parseInt and Expand stop at 1e8 */

typedef enum tmpl_kind {
    TMPL_LIT = 0, /* repl[off..off+len) */
    TMPL_NUM,     /* capture group num */
    TMPL_NAME,    /* capture group(s) named repl[off..off+len) */
} tmpl_kind_t;

typedef struct tmpl_seg {
    tmpl_kind_t kind;
    size_t off;
    size_t len;
    uint32_t num;
} tmpl_seg_t;

struct pq_relabel {
    char *dst;
    size_t dst_len;
    char *src;
    size_t src_len;
    char *repl;
    size_t repl_len;
    tmpl_seg_t *segs;
    size_t nsegs;
    pcre2_code *re;
    pcre2_match_data *md;
    uint32_t ncap;     /* capture groups, excluding group 0 */
    str_t *cap_names;  /* [0..ncap]; empty slice for unnamed groups */
    char *names_store; /* bytes the names point into */
    buf_t val;         /* expansion scratch */
};

/* ---- PCRE2 with mem_* ---- */

static void *relabel_pcre_alloc(PCRE2_SIZE n, void *ud)
{
    (void)ud;
    return mem_try_alloc(n);
}

static void relabel_pcre_free(void *p, void *ud)
{
    (void)ud;
    mem_free(p);
}

/* ---- Go regexp/syntax -> PCRE2 translator ---- */

typedef struct re_frame {
    uint64_t maxf; /* largest nested repeat product among finished atoms */
    uint64_t lastf;
    bool have_atom; /* a repeat may follow */
} re_frame_t;

typedef struct re_tr {
    const char *p;
    size_t len;
    size_t i;
    buf_t *out;
    re_frame_t *frames;
    size_t depth;
    size_t frames_cap;
    bool last_repeat;
    uint32_t ncap;
    buf_t names; /* per group: uvarint len + bytes, group order */
} re_tr_t;

static bool re_isdigit(int c)
{
    return c >= '0' && c <= '9';
}

static bool re_isalnum(int c)
{
    return re_isdigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Decode one UTF-8 rune at p[i..len); -1 when invalid or at the end. */
static int32_t re_rune(const char *p, size_t len, size_t i, size_t *w)
{
    *w = 0;
    if (i >= len) {
        return -1;
    }
    size_t n = 1;
    unsigned char c = (unsigned char)p[i];
    if (c >= 0xF0) {
        n = 4;
    } else if (c >= 0xE0) {
        n = 3;
    } else if (c >= 0xC0) {
        n = 2;
    }
    if (len - i < n || !str_utf8_valid(p + i, n)) {
        return -1;
    }
    *w = n;
    return promql_utf8_decode(p + i, n, w);
}

static void re_emit_rune(re_tr_t *t, int32_t r)
{
    buf_printf(t->out, "\\x{%x}", (unsigned)r);
}

/* Finish the current atom and start a new one with nested product f. */
static void re_atom(re_tr_t *t, uint64_t f)
{
    re_frame_t *fr = &t->frames[t->depth - 1];
    if (fr->have_atom && fr->lastf > fr->maxf) {
        fr->maxf = fr->lastf;
    }
    fr->lastf = f;
    fr->have_atom = true;
    t->last_repeat = false;
}

static int re_push(re_tr_t *t)
{
    if (t->depth >= RE_MAX_DEPTH) {
        return -1;
    }
    if (t->depth == t->frames_cap) {
        t->frames_cap = t->frames_cap ? 2 * t->frames_cap : 16;
        t->frames = mem_realloc(t->frames, t->frames_cap * sizeof(*t->frames));
    }
    t->frames[t->depth++] = (re_frame_t){ .maxf = 1, .lastf = 1, .have_atom = false };
    t->last_repeat = false;
    return 0;
}

static void re_add_name(re_tr_t *t, const char *name, size_t len)
{
    buf_put_uvarint(&t->names, len);
    buf_append(&t->names, name, len);
}

/* Go's parseEscape: one escaped rune at p[i] == '\\'; -1 when invalid. */
static int32_t re_parse_escape(re_tr_t *t)
{
    const char *p = t->p;
    size_t len = t->len;
    size_t i = t->i + 1;
    if (i >= len) {
        return -1; /* trailing backslash */
    }
    size_t w = 0;
    int32_t c = re_rune(p, len, i, &w);
    if (c < 0) {
        return -1;
    }
    i += w;
    if (c >= '1' && c <= '7' && !(i < len && p[i] >= '0' && p[i] <= '7')) {
        return -1; /* a lone \1..\7 would be a backreference */
    }
    if (c >= '0' && c <= '7') {
        int32_t r = c - '0';
        for (int k = 1; k < 3 && i < len && p[i] >= '0' && p[i] <= '7'; k++) {
            r = r * 8 + (p[i++] - '0');
        }
        t->i = i;
        return r;
    }
    if (c == 'x') {
        if (i >= len) {
            return -1;
        }
        if (p[i] == '{') {
            i++;
            int32_t r = 0;
            size_t nhex = 0;
            for (;;) {
                if (i >= len) {
                    return -1;
                }
                if (p[i] == '}') {
                    i++;
                    break;
                }
                int v = str_hex_digit((unsigned char)p[i]);
                if (v < 0) {
                    return -1;
                }
                r = r * 16 + v;
                if (r > 0x10FFFF) {
                    return -1;
                }
                nhex++;
                i++;
            }
            if (nhex == 0) {
                return -1;
            }
            t->i = i;
            return r;
        }
        if (i + 1 >= len) {
            return -1;
        }
        int x = str_hex_digit((unsigned char)p[i]), y = str_hex_digit((unsigned char)p[i + 1]);
        if (x < 0 || y < 0) {
            return -1;
        }
        t->i = i + 2;
        return x * 16 + y;
    }
    static const char cesc[] = "afnrtv";
    static const int32_t cval[] = { '\a', '\f', '\n', '\r', '\t', '\v' };
    const char *e = c < 0x80 && c != 0 ? strchr(cesc, (int)c) : NULL;
    if (e) {
        t->i = i;
        return cval[e - cesc];
    }
    if (c < 0x80 && !re_isalnum((int)c)) {
        t->i = i;
        return c; /* escaped punctuation is itself */
    }
    return -1;
}

/* Go's parseInt at p[*i]: digits without a leading zero; -1 from 1e8 up. */
static bool re_parse_int(const char *p, size_t len, size_t *i, long *out)
{
    size_t k = *i;
    if (k >= len || !re_isdigit(p[k])) {
        return false;
    }
    if (k + 1 < len && p[k] == '0' && re_isdigit(p[k + 1])) {
        return false;
    }
    long n = 0;
    for (; k < len && re_isdigit(p[k]); k++) {
        if (n < 0 || n >= RE_NUM_MAX) {
            n = -1;
        } else {
            n = n * 10 + (p[k] - '0');
        }
    }
    *i = k;
    *out = n;
    return true;
}

/* Go's parseRepeat at p[i] == '{': {n}, {n,} (max -1) or {n,m}; false
 * when the text is a literal '{'. */
static bool re_parse_repeat(const char *p, size_t len, size_t i, long *min, long *max, size_t *end)
{
    i++;
    if (!re_parse_int(p, len, &i, min) || i >= len) {
        return false;
    }
    if (p[i] != ',') {
        *max = *min;
    } else {
        i++;
        if (i >= len) {
            return false;
        }
        if (p[i] == '}') {
            *max = -1;
        } else if (!re_parse_int(p, len, &i, max)) {
            return false;
        } else if (*max < 0) {
            *min = -1; /* too big */
        }
    }
    if (i >= len || p[i] != '}') {
        return false;
    }
    *end = i + 1;
    return true;
}

/* Apply a repetition operator text p[start..t->i) to the current atom. */
static int re_repeat(re_tr_t *t, size_t start, long min, long max, bool counted)
{
    re_frame_t *fr = &t->frames[t->depth - 1];
    if (t->i < t->len && t->p[t->i] == '?') {
        t->i++; /* non-greedy */
    }
    if (t->last_repeat || !fr->have_atom) {
        return -1; /* a** / a*+ / missing argument */
    }
    if (counted) {
        long m = max == 0 ? 0 : (max < 0 ? min : max);
        uint64_t f = m == 0 ? 1 : (uint64_t)m * fr->lastf;
        if ((min >= 2 || max >= 2) && f > RE_MAX_REPEAT) {
            return -1;
        }
        fr->lastf = f;
    }
    buf_append(t->out, t->p + start, t->i - start);
    t->last_repeat = true;
    return 0;
}

static bool re_known_posix(const char *name, size_t len)
{
    static const char *const names[] = { "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph",
                                         "lower", "print", "punct", "space", "upper", "word",  "xdigit" };
    if (len > 0 && name[0] == '^') {
        name++;
        len--;
    }
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        if (strlen(names[k]) == len && memcmp(names[k], name, len) == 0) {
            return true;
        }
    }
    return false;
}

/* Names Go's regexp accepts after \p (Go 1.25 regexp/syntax unicodeTable):
 * unicode.Categories, unicode.Scripts (Unicode 15.0), Any, Assigned, ASCII,
 * LC, Cn and the category aliases (Letter, Decimal_Number, ...) with the
 * spelling handed to PCRE2. Names match loosely as in Go (canonicalName:
 * case, "_", "-" and " " ignored). PCRE2's own extras (L&, Xan, binary
 * properties) are refused. */
static const char re_unicode_plain[] =
    "Adlam Ahom Anatolian_Hieroglyphs Any Arabic Armenian Avestan Balinese Bamum Bassa_Vah Batak Bengali Bhaiksuki "
    "Bopomofo Brahmi Braille Buginese Buhid C Canadian_Aboriginal Carian Caucasian_Albanian Cc Cf Chakma Cham "
    "Cherokee Chorasmian Co Common Coptic Cs Cuneiform Cypriot Cypro_Minoan Cyrillic Deseret Devanagari Dives_Akuru "
    "Dogra Duployan Egyptian_Hieroglyphs Elbasan Elymaic Ethiopic Georgian Glagolitic Gothic Grantha Greek Gujarati "
    "Gunjala_Gondi Gurmukhi Han Hangul Hanifi_Rohingya Hanunoo Hatran Hebrew Hiragana Imperial_Aramaic Inherited "
    "Inscriptional_Pahlavi Inscriptional_Parthian Javanese Kaithi Kannada Katakana Kawi Kayah_Li Kharoshthi "
    "Khitan_Small_Script Khmer Khojki Khudawadi L Lao Latin Lepcha Limbu Linear_A Linear_B Lisu Ll Lm Lo Lt Lu Lycian "
    "Lydian M Mahajani Makasar Malayalam Mandaic Manichaean Marchen Masaram_Gondi Mc Me Medefaidrin Meetei_Mayek "
    "Mende_Kikakui Meroitic_Cursive Meroitic_Hieroglyphs Miao Mn Modi Mongolian Mro Multani Myanmar N Nabataean "
    "Nag_Mundari Nandinagari Nd New_Tai_Lue Newa Nko Nl No Nushu Nyiakeng_Puachue_Hmong Ogham Ol_Chiki Old_Hungarian "
    "Old_Italic Old_North_Arabian Old_Permic Old_Persian Old_Sogdian Old_South_Arabian Old_Turkic Old_Uyghur Oriya "
    "Osage Osmanya P Pahawh_Hmong Palmyrene Pau_Cin_Hau Pc Pd Pe Pf Phags_Pa Phoenician Pi Po Ps Psalter_Pahlavi "
    "Rejang Runic S Samaritan Saurashtra Sc Sharada Shavian Siddham SignWriting Sinhala Sk Sm So Sogdian Sora_Sompeng "
    "Soyombo Sundanese Syloti_Nagri Syriac Tagalog Tagbanwa Tai_Le Tai_Tham Tai_Viet Takri Tamil Tangsa Tangut Telugu "
    "Thaana Thai Tibetan Tifinagh Tirhuta Toto Ugaritic Vai Vithkuqi Wancho Warang_Citi Yezidi Yi Z Zanabazar_Square "
    "Zl Zp Zs";

/* name:pcre pairs; a pcre spelling starting with "=" is handled in code. */
static const char re_unicode_alias[] =
    "Other:C Control:Cc cntrl:Cc Format:Cf Unassigned:Cn Private_Use:Co Surrogate:Cs Letter:L Cased_Letter:L& "
    "Lowercase_Letter:Ll Modifier_Letter:Lm Other_Letter:Lo Titlecase_Letter:Lt Uppercase_Letter:Lu Mark:M "
    "Combining_Mark:M Spacing_Mark:Mc Enclosing_Mark:Me Nonspacing_Mark:Mn Number:N Decimal_Number:Nd digit:Nd "
    "Letter_Number:Nl Other_Number:No Punctuation:P punct:P Connector_Punctuation:Pc Dash_Punctuation:Pd "
    "Close_Punctuation:Pe Final_Punctuation:Pf Initial_Punctuation:Pi Other_Punctuation:Po Open_Punctuation:Ps "
    "Symbol:S Currency_Symbol:Sc Modifier_Symbol:Sk Math_Symbol:Sm Other_Symbol:So Separator:Z Line_Separator:Zl "
    "Paragraph_Separator:Zp Space_Separator:Zs Cn:Cn LC:L& Assigned:=assigned ASCII:=ascii";

/* Go's canonicalName: drop "_", "-", " "; first letter upper, rest lower. */
static size_t re_canonical(const char *p, size_t len, char *dst, size_t cap)
{
    size_t n = 0;
    bool first = true;
    for (size_t i = 0; i < len && n < cap; i++) {
        char c = p[i];
        if (c == '_' || c == '-' || c == ' ') {
            continue;
        }
        if (first) {
            c = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
            first = false;
        } else {
            c = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
        }
        dst[n++] = c;
    }
    return n;
}

/* The PCRE2 spelling (*pcre, *pcre_len) of a Go \p name; false when Go
 * does not know the name. Linear in the tables, at compile time only. */
static bool re_unicode_lookup(const char *p, size_t len, const char **pcre, size_t *pcre_len)
{
    char want[64], have[64];
    if (len >= sizeof(want)) {
        return false;
    }
    size_t wn = re_canonical(p, len, want, sizeof(want));
    for (int table = 0; table < 2; table++) {
        const char *s = table == 0 ? re_unicode_plain : re_unicode_alias;
        while (*s) {
            size_t tok = strcspn(s, " ");
            const char *colon = memchr(s, ':', tok);
            size_t name_len = colon ? (size_t)(colon - s) : tok;
            size_t hn = re_canonical(s, name_len, have, sizeof(have));
            if (hn == wn && memcmp(have, want, wn) == 0) {
                *pcre = colon ? colon + 1 : s;
                *pcre_len = colon ? tok - name_len - 1 : tok;
                return true;
            }
            s += tok;
            s += *s == ' ';
        }
    }
    return false;
}

/* \pX, \p{...}, \PX or \P{...} at p[i] == '\\': emit it for PCRE2 (inside
 * a class when in_class); -1 when malformed or unknown to Go. */
static int re_unicode_class(re_tr_t *t, bool in_class)
{
    size_t i = t->i + 2;
    if (i >= t->len) {
        return -1;
    }
    bool neg = t->p[t->i + 1] == 'P';
    str_t name = str_from(t->p + i, 1);
    if (t->p[i] == '{') {
        const char *close = memchr(t->p + i, '}', t->len - i);
        if (!close) {
            return -1;
        }
        name = str_from(t->p + i + 1, (size_t)(close - (t->p + i + 1)));
        i = (size_t)(close - t->p) + 1;
    } else {
        size_t w = 0;
        if (re_rune(t->p, t->len, i, &w) < 0) {
            return -1;
        }
        name.len = w;
        i += w;
    }
    if (name.len > 0 && name.p[0] == '^') {
        neg = !neg;
        name.p++;
        name.len--;
    }
    const char *pcre = NULL;
    size_t pcre_len = 0;
    if (!re_unicode_lookup(name.p, name.len, &pcre, &pcre_len)) {
        return -1;
    }
    if (pcre_len == 6 && memcmp(pcre, "=ascii", 6) == 0) {
        if (in_class) {
            buf_puts(t->out, neg ? "\\x{80}-\\x{10ffff}" : "\\x00-\\x7f");
        } else {
            buf_puts(t->out, neg ? "[^\\x00-\\x7f]" : "[\\x00-\\x7f]");
        }
    } else {
        if (pcre_len == 9 && memcmp(pcre, "=assigned", 9) == 0) {
            pcre = "Cn"; /* Assigned is the complement of Cn */
            pcre_len = 2;
            neg = !neg;
        }
        buf_printf(t->out, "\\%c{%.*s}", neg ? 'P' : 'p', (int)pcre_len, pcre);
    }
    t->i = i;
    return 0;
}

/* One class member that is a single rune: a literal or an escape. */
static int32_t re_class_char(re_tr_t *t)
{
    if (t->i >= t->len) {
        return -1;
    }
    if (t->p[t->i] == '\\') {
        return re_parse_escape(t);
    }
    size_t w = 0;
    int32_t r = re_rune(t->p, t->len, t->i, &w);
    if (r < 0) {
        return -1;
    }
    t->i += w;
    return r;
}

/* Emit lo-hi minus the surrogates PCRE2 refuses (they never match in Go). */
static bool re_emit_range(re_tr_t *t, int32_t lo, int32_t hi)
{
    if (lo >= 0xD800 && lo <= 0xDFFF) {
        lo = 0xE000;
    }
    if (hi >= 0xD800 && hi <= 0xDFFF) {
        hi = 0xD7FF;
    }
    if (lo > hi) {
        return false;
    }
    re_emit_rune(t, lo);
    if (hi != lo) {
        buf_putc(t->out, '-');
        re_emit_rune(t, hi);
    }
    return true;
}

/* A class member that is a set, not a rune: [:name:], \p / \P, or a Perl
 * class. 1 when one was emitted, 0 when p[i] starts a rune, -1 on error. */
static int re_class_set(re_tr_t *t)
{
    const char *p = t->p;
    size_t i = t->i;
    if (t->len - i > 2 && p[i] == '[' && p[i + 1] == ':') {
        const char *s = p + i + 2;
        size_t rest = t->len - i - 2;
        for (size_t k = 0; k + 1 < rest; k++) {
            if (s[k] == ':' && s[k + 1] == ']') {
                if (!re_known_posix(s, k)) {
                    return -1;
                }
                buf_append(t->out, p + i, k + 4);
                t->i = i + k + 4;
                return 1;
            }
        }
        return 0; /* no ":]": the '[' is a literal */
    }
    if (p[i] != '\\' || i + 1 >= t->len) {
        return 0;
    }
    char e = p[i + 1];
    if (e == 'p' || e == 'P') {
        return re_unicode_class(t, true) == 0 ? 1 : -1;
    }
    if (e == 'd' || e == 'D' || e == 'w' || e == 'W') {
        buf_append(t->out, p + i, 2);
    } else if (e == 's') {
        buf_puts(t->out, "\\t\\n\\f\\r ");
    } else if (e == 'S') {
        buf_puts(t->out, "\\x00-\\x08\\x0b\\x0e-\\x1f\\x21-\\x{10ffff}");
    } else {
        return 0;
    }
    t->i += 2;
    return 1;
}

/* Go's parseClass at p[i] == '['. */
static int re_class(re_tr_t *t)
{
    size_t open = t->out->len;
    buf_putc(t->out, '[');
    t->i++;
    bool negated = false;
    if (t->i < t->len && t->p[t->i] == '^') {
        negated = true;
        buf_putc(t->out, '^');
        t->i++;
    }
    size_t items = 0;
    for (bool first = true;; first = false) {
        if (t->i >= t->len) {
            return -1; /* missing closing ] */
        }
        if (t->p[t->i] == ']' && !first) {
            break;
        }
        int set = re_class_set(t);
        if (set != 0) {
            if (set < 0) {
                return -1;
            }
            items++;
            continue;
        }
        int32_t lo = re_class_char(t);
        if (lo < 0) {
            return -1;
        }
        int32_t hi = lo;
        if (t->len - t->i >= 2 && t->p[t->i] == '-' && t->p[t->i + 1] != ']') {
            t->i++;
            hi = re_class_char(t);
            if (hi < lo) {
                return -1; /* also an escape error (hi < 0) */
            }
        }
        if (re_emit_range(t, lo, hi)) {
            items++;
        }
    }
    t->i++; /* ] */
    if (items == 0) {
        /* Only surrogates: nothing can match, or anything can. */
        t->out->len = open;
        buf_puts(t->out, negated ? "(?s:.)" : "(*FAIL)");
        return 0;
    }
    buf_putc(t->out, ']');
    return 0;
}

/* Go's parsePerlFlags at p[i..] == "(?". */
static int re_perl_group(re_tr_t *t)
{
    const char *p = t->p;
    size_t len = t->len;
    size_t i = t->i;
    bool with_p = len - i > 4 && p[i + 2] == 'P' && p[i + 3] == '<';
    bool with_name = len - i > 3 && p[i + 2] == '<';
    if (with_p || with_name) {
        size_t start = i + (with_p ? 4 : 3);
        const char *gt = memchr(p + i, '>', len - i);
        if (!gt || (size_t)(gt - p) <= start) {
            return -1;
        }
        size_t end = (size_t)(gt - p);
        for (size_t k = start; k < end; k++) {
            if (!(p[k] == '_' || re_isalnum((unsigned char)p[k]))) {
                return -1;
            }
        }
        if (re_push(t) != 0) {
            return -1;
        }
        t->ncap++;
        re_add_name(t, p + start, end - start);
        buf_putc(t->out, '(');
        t->i = end + 1;
        return 0;
    }
    size_t k = i + 2;
    bool neg = false, saw_flag = false;
    for (; k < len; k++) {
        char c = p[k];
        if (c == 'i' || c == 'm' || c == 's' || c == 'U') {
            saw_flag = true;
            continue;
        }
        if (c == '-') {
            if (neg) {
                return -1;
            }
            neg = true;
            saw_flag = false;
            continue;
        }
        if (c == ':' || c == ')') {
            if (neg && !saw_flag) {
                return -1;
            }
            if (c == ':') {
                if (re_push(t) != 0) {
                    return -1;
                }
                buf_append(t->out, p + i, k + 1 - i);
            } else if (k > i + 2) {
                buf_append(t->out, p + i, k + 1 - i);
                t->last_repeat = false;
            } else {
                t->last_repeat = false; /* "(?)": no flags, no group */
            }
            t->i = k + 1;
            return 0;
        }
        return -1;
    }
    return -1;
}

/* Escape outside a class at p[i] == '\\'. */
static int re_escape(re_tr_t *t)
{
    const char *p = t->p;
    size_t i = t->i;
    if (i + 1 < t->len) {
        char e = p[i + 1];
        if (e == 'A' || e == 'b' || e == 'B' || e == 'z') {
            buf_printf(t->out, "(?:\\%c)", e); /* Go lets an assertion be repeated */
            t->i += 2;
            re_atom(t, 1);
            return 0;
        }
        if (e == 'C') {
            return -1;
        }
        if (e == 'Q') {
            t->last_repeat = false;
            size_t k = i + 2;
            size_t stop = t->len, next = t->len;
            for (size_t s = k; s + 1 < t->len; s++) {
                if (p[s] == '\\' && p[s + 1] == 'E') {
                    stop = s;
                    next = s + 2;
                    break;
                }
            }
            while (k < stop) {
                size_t w = 0;
                int32_t r = re_rune(p, stop, k, &w);
                if (r < 0) {
                    return -1;
                }
                re_emit_rune(t, r);
                re_atom(t, 1);
                k += w;
            }
            t->i = next;
            return 0;
        }
        if (e == 'p' || e == 'P') {
            if (re_unicode_class(t, false) != 0) {
                return -1;
            }
            re_atom(t, 1);
            return 0;
        }
        if (e == 'd' || e == 'D' || e == 'w' || e == 'W') {
            buf_append(t->out, p + i, 2);
            t->i += 2;
            re_atom(t, 1);
            return 0;
        }
        if (e == 's' || e == 'S') {
            buf_puts(t->out, e == 's' ? "[\\t\\n\\f\\r ]" : "[^\\t\\n\\f\\r ]");
            t->i += 2;
            re_atom(t, 1);
            return 0;
        }
    }
    int32_t r = re_parse_escape(t);
    if (r < 0) {
        return -1;
    }
    if (r >= 0xD800 && r <= 0xDFFF) {
        buf_puts(t->out, "(?:(*FAIL))"); /* a surrogate never matches in Go */
    } else {
        re_emit_rune(t, r);
    }
    re_atom(t, 1);
    return 0;
}

/* '(' opening a plain capture group. */
static int re_open_capture(re_tr_t *t)
{
    if (re_push(t) != 0) {
        return -1;
    }
    t->ncap++;
    re_add_name(t, "", 0);
    buf_putc(t->out, '(');
    t->i++;
    return 0;
}

/* ')': the group becomes one atom of its parent, carrying its largest
 * nested repeat product. */
static int re_close_group(re_tr_t *t)
{
    if (t->depth <= 1) {
        return -1; /* unexpected ) */
    }
    re_frame_t *fr = &t->frames[--t->depth];
    uint64_t f = fr->have_atom && fr->lastf > fr->maxf ? fr->lastf : fr->maxf;
    buf_putc(t->out, ')');
    t->i++;
    re_atom(t, f);
    return 0;
}

static void re_bar(re_tr_t *t)
{
    re_frame_t *fr = &t->frames[t->depth - 1];
    if (fr->have_atom && fr->lastf > fr->maxf) {
        fr->maxf = fr->lastf;
    }
    fr->have_atom = false;
    fr->lastf = 1;
    t->last_repeat = false;
    buf_putc(t->out, '|');
    t->i++;
}

/* '{': a counted repeat, or a literal brace when Go cannot parse one. */
static int re_brace(re_tr_t *t)
{
    size_t start = t->i;
    long min = 0, max = 0;
    size_t end = 0;
    if (!re_parse_repeat(t->p, t->len, start, &min, &max, &end)) {
        buf_puts(t->out, "\\{");
        t->i++;
        re_atom(t, 1);
        return 0;
    }
    if (min < 0 || min > RE_MAX_REPEAT || max > RE_MAX_REPEAT || (max >= 0 && min > max)) {
        return -1;
    }
    t->i = end;
    return re_repeat(t, start, min, max, true);
}

/* A literal rune: ASCII punctuation is escaped, controls spelled as \x{..}. */
static int re_literal(re_tr_t *t)
{
    size_t w = 0;
    int32_t r = re_rune(t->p, t->len, t->i, &w);
    if (r < 0) {
        return -1; /* invalid UTF-8 */
    }
    if (r < 0x80 && !re_isalnum((int)r)) {
        if (r < 0x20 || r == 0x7F) {
            re_emit_rune(t, r);
        } else {
            buf_putc(t->out, '\\');
            buf_putc(t->out, (uint8_t)r);
        }
    } else {
        buf_append(t->out, t->p + t->i, w);
    }
    t->i += w;
    re_atom(t, 1);
    return 0;
}

/* One token of Go's parse loop at t->p[t->i]. */
static int re_token(re_tr_t *t)
{
    size_t i = t->i;
    char c = t->p[i];
    switch (c) {
    case '(':
        if (i + 1 < t->len && t->p[i + 1] == '?') {
            return re_perl_group(t);
        }
        return re_open_capture(t);
    case ')':
        return re_close_group(t);
    case '|':
        re_bar(t);
        return 0;
    case '^':
    case '$':
        buf_printf(t->out, "(?:%c)", c); /* Go lets an assertion be repeated */
        t->i++;
        re_atom(t, 1);
        return 0;
    case '.':
        buf_putc(t->out, '.');
        t->i++;
        re_atom(t, 1);
        return 0;
    case '[':
        if (re_class(t) != 0) {
            return -1;
        }
        re_atom(t, 1);
        return 0;
    case '*':
    case '+':
    case '?':
        t->i++;
        return re_repeat(t, i, 0, 0, false);
    case '{':
        return re_brace(t);
    case '\\':
        return re_escape(t);
    default:
        return re_literal(t);
    }
}

/* Translate t->p into t->out; 0 or -1 when Go would reject the regex. */
static int re_translate(re_tr_t *t)
{
    if (re_push(t) != 0) {
        return -1;
    }
    while (t->i < t->len) {
        if (re_token(t) != 0) {
            return -1;
        }
    }
    return t->depth == 1 ? 0 : -1; /* missing closing ) */
}

/* Compile Go regex text (already wrapped) into r->re; fills ncap and names. */
static int relabel_compile(pq_relabel_t *r, const char *wrapped, size_t len)
{
    int rc = -1;
    buf_t pat = { 0 };
    re_tr_t t = { .p = wrapped, .len = len, .out = &pat };
    pcre2_general_context *gc = NULL;
    pcre2_compile_context *cc = NULL;
    if (re_translate(&t) != 0) {
        goto fail;
    }
    r->ncap = t.ncap;
    r->cap_names = mem_calloc((size_t)t.ncap + 1, sizeof(str_t));
    r->names_store = t.names.len ? mem_alloc(t.names.len) : NULL;
    size_t off = 0, store = 0;
    for (uint32_t g = 1; g <= t.ncap; g++) {
        uint64_t n = 0;
        int shift = 0;
        while (t.names.data[off] & 0x80) {
            n |= (uint64_t)(t.names.data[off++] & 0x7F) << shift;
            shift += 7;
        }
        n |= (uint64_t)t.names.data[off++] << shift;
        memcpy(r->names_store + store, t.names.data + off, (size_t)n);
        r->cap_names[g] = str_from(r->names_store + store, (size_t)n);
        off += (size_t)n;
        store += (size_t)n;
    }
    gc = pcre2_general_context_create(relabel_pcre_alloc, relabel_pcre_free, NULL);
    cc = gc ? pcre2_compile_context_create(gc) : NULL;
    if (!cc) {
        goto fail;
    }
    pcre2_set_newline(cc, PCRE2_NEWLINE_LF);
    pcre2_set_parens_nest_limit(cc, RE_MAX_DEPTH + 8);
    int ec = 0;
    PCRE2_SIZE eoff = 0;
    uint32_t opts = PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_NEVER_BACKSLASH_C;
    r->re = pcre2_compile((PCRE2_SPTR)(pat.data ? (const char *)pat.data : ""), pat.len, opts, &ec, &eoff, cc);
    if (!r->re) {
        goto fail;
    }
    (void)pcre2_jit_compile(r->re, PCRE2_JIT_COMPLETE); /* the interpreter remains the fallback */
    r->md = pcre2_match_data_create_from_pattern(r->re, gc);
    if (!r->md) {
        goto fail;
    }
    rc = 0;
fail:
    pcre2_compile_context_free(cc);
    pcre2_general_context_free(gc);
    mem_free(t.frames);
    buf_fini(&t.names);
    buf_fini(&pat);
    return rc;
}

/* ---- replacement template ---- */

static void tmpl_add(pq_relabel_t *r, size_t *cap, tmpl_kind_t kind, size_t off, size_t len, uint32_t num)
{
    if (kind == TMPL_LIT && len == 0) {
        return;
    }
    if (kind == TMPL_LIT && r->nsegs > 0 && r->segs[r->nsegs - 1].kind == TMPL_LIT &&
        r->segs[r->nsegs - 1].off + r->segs[r->nsegs - 1].len == off) {
        r->segs[r->nsegs - 1].len += len;
        return;
    }
    if (r->nsegs == *cap) {
        *cap = *cap ? 2 * *cap : 8;
        r->segs = mem_realloc(r->segs, *cap * sizeof(*r->segs));
    }
    r->segs[r->nsegs++] = (tmpl_seg_t){ .kind = kind, .off = off, .len = len, .num = num };
}

/* Classifier for non-ASCII runes in template names, built on first use. */
typedef struct tmpl_cls {
    pcre2_general_context *gc;
    pcre2_code *re;
    pcre2_match_data *md;
    bool failed;
} tmpl_cls_t;

/* Is the rune at p[i] (width w) "_", a Unicode letter or a decimal digit
 * (Go's unicode.IsLetter / IsDigit)? */
static bool tmpl_word_rune(const char *p, size_t i, size_t w, tmpl_cls_t *c)
{
    if (w == 1) {
        return p[i] == '_' || re_isalnum((unsigned char)p[i]);
    }
    if (!c->re && !c->failed) {
        static const char pat[] = "[\\p{L}\\p{Nd}]";
        int ec = 0;
        PCRE2_SIZE eoff = 0;
        c->gc = pcre2_general_context_create(relabel_pcre_alloc, relabel_pcre_free, NULL);
        pcre2_compile_context *cc = c->gc ? pcre2_compile_context_create(c->gc) : NULL;
        c->re = cc ? pcre2_compile((PCRE2_SPTR)pat, sizeof(pat) - 1, PCRE2_UTF | PCRE2_ANCHORED | PCRE2_ENDANCHORED,
                                   &ec, &eoff, cc)
                   : NULL;
        pcre2_compile_context_free(cc);
        c->md = c->re ? pcre2_match_data_create_from_pattern(c->re, c->gc) : NULL;
        c->failed = !c->md;
    }
    if (c->failed) {
        return false;
    }
    return pcre2_match(c->re, (PCRE2_SPTR)(p + i), w, 0, 0, c->md, NULL) >= 0;
}

/* Go's Regexp.Expand template syntax, parsed once into r->segs. */
static void tmpl_parse(pq_relabel_t *r)
{
    const char *p = r->repl;
    size_t len = r->repl_len;
    size_t cap = 0, i = 0;
    tmpl_cls_t cls = { 0 };
    while (i < len) {
        const char *dollar = memchr(p + i, '$', len - i);
        if (!dollar) {
            break;
        }
        size_t d = (size_t)(dollar - p);
        tmpl_add(r, &cap, TMPL_LIT, i, d - i, 0);
        i = d + 1;
        if (i < len && p[i] == '$') {
            tmpl_add(r, &cap, TMPL_LIT, i, 1, 0); /* $$ is $ */
            i++;
            continue;
        }
        size_t k = i;
        bool brace = k < len && p[k] == '{';
        if (brace) {
            k++;
        }
        size_t name = k;
        while (k < len) {
            size_t w = 0;
            if (re_rune(p, len, k, &w) < 0 || !tmpl_word_rune(p, k, w, &cls)) {
                break;
            }
            k += w;
        }
        size_t name_len = k - name;
        if (name_len == 0 || (brace && (k >= len || p[k] != '}'))) {
            tmpl_add(r, &cap, TMPL_LIT, d, 1, 0); /* malformed: a literal $ */
            continue;
        }
        if (brace) {
            k++;
        }
        long num = 0;
        for (size_t q = name; q < name + name_len; q++) {
            if (!re_isdigit(p[q]) || num >= RE_NUM_MAX) {
                num = -1;
                break;
            }
            num = num * 10 + (p[q] - '0');
        }
        if (p[name] == '0' && name_len > 1) {
            num = -1;
        }
        if (num >= 0) {
            tmpl_add(r, &cap, TMPL_NUM, 0, 0, (uint32_t)num);
        } else {
            tmpl_add(r, &cap, TMPL_NAME, name, name_len, 0);
        }
        i = k;
    }
    tmpl_add(r, &cap, TMPL_LIT, i, len - i, 0);
    pcre2_match_data_free(cls.md);
    pcre2_code_free(cls.re);
    pcre2_general_context_free(cls.gc);
}

/* ---- create / destroy / apply ---- */

static char *dup_bytes(const char *p, size_t len)
{
    return mem_strndup(len ? p : "", len);
}

static void put_err(char *err, size_t errlen, const char *what, const char *p, size_t len)
{
    if (err && errlen > 0) {
        snprintf(err, errlen, "%s%.*s", what, (int)(len > INT_MAX ? INT_MAX : len), p ? p : "");
    }
}

int pq_relabel_create(const char *dst, size_t dst_len, const char *repl, size_t repl_len, const char *src,
                      size_t src_len, const char *regex, size_t regex_len, pq_relabel_t **out, char *err, size_t errlen)
{
    *out = NULL;
    pq_relabel_t *r = mem_calloc(1, sizeof(*r));
    buf_t wrapped = { 0 };
    buf_puts(&wrapped, "^(?s:");
    if (regex_len) {
        buf_append(&wrapped, regex, regex_len);
    }
    buf_puts(&wrapped, ")$");
    int rc = relabel_compile(r, (const char *)wrapped.data, wrapped.len);
    buf_fini(&wrapped);
    if (rc != 0) {
        put_err(err, errlen, "invalid regular expression in label_replace(): ", regex, regex_len);
        goto fail;
    }
    if (dst_len == 0 || !str_utf8_valid(dst, dst_len)) {
        put_err(err, errlen, "invalid destination label name in label_replace(): ", dst, dst_len);
        goto fail;
    }
    r->dst = dup_bytes(dst, dst_len);
    r->dst_len = dst_len;
    r->src = dup_bytes(src, src_len);
    r->src_len = src_len;
    r->repl = dup_bytes(repl, repl_len);
    r->repl_len = repl_len;
    tmpl_parse(r);
    *out = r;
    return 0;
fail:
    pq_relabel_destroy(r);
    return -1;
}

void pq_relabel_destroy(pq_relabel_t *r)
{
    if (!r) {
        return;
    }
    mem_free(r->dst);
    mem_free(r->src);
    mem_free(r->repl);
    mem_free(r->segs);
    pcre2_match_data_free(r->md);
    pcre2_code_free(r->re);
    mem_free(r->cap_names);
    mem_free(r->names_store);
    buf_fini(&r->val);
    mem_free(r);
}

static str_t label_lookup(const label_t *in, size_t n, str_t name)
{
    for (size_t i = 0; i < n; i++) {
        if (str_eq(in[i].name, name)) {
            return in[i].value;
        }
    }
    return str_from("", 0);
}

/* New sorted label array in a: in without dst, plus dst=val when val is
 * not empty. Every string is copied into a. O(n + bytes). */
static size_t labels_with(const label_t *in, size_t n, str_t dst, str_t val, arena_t *a, label_t **out)
{
    size_t bytes = dst.len + val.len;
    for (size_t i = 0; i < n; i++) {
        bytes += in[i].name.len + in[i].value.len;
    }
    char *store = arena_alloc(a, bytes ? bytes : 1);
    label_t *ls = arena_alloc(a, (n + 1) * sizeof(*ls));
    size_t m = 0;
    bool placed = val.len == 0;
    for (size_t i = 0; i <= n; i++) {
        int order = i < n ? str_cmp(in[i].name, dst) : 1;
        if (!placed && order >= 0) {
            memcpy(store, dst.p, dst.len);
            ls[m].name = str_from(store, dst.len);
            store += dst.len;
            memcpy(store, val.p, val.len);
            ls[m].value = str_from(store, val.len);
            store += val.len;
            m++;
            placed = true;
        }
        if (i == n || order == 0) {
            continue;
        }
        for (int f = 0; f < 2; f++) {
            str_t s = f == 0 ? in[i].name : in[i].value;
            if (s.len) {
                memcpy(store, s.p, s.len);
            }
            if (f == 0) {
                ls[m].name = str_from(store, s.len);
            } else {
                ls[m].value = str_from(store, s.len);
            }
            store += s.len;
        }
        m++;
    }
    *out = ls;
    return m;
}

/* Append group g of subject s (nothing when missing or unset). */
static void expand_group(pq_relabel_t *r, const PCRE2_SIZE *ov, uint32_t novec, uint32_t g, str_t s)
{
    if (g > r->ncap || g >= novec || ov[2 * g] == PCRE2_UNSET) {
        return;
    }
    buf_append(&r->val, s.p + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
}

size_t pq_relabel_apply(pq_relabel_t *r, const label_t *in, size_t n, arena_t *a, label_t **out)
{
    str_t s = label_lookup(in, n, str_from(r->src, r->src_len));
    const char *subject = s.len ? s.p : "";
    int rc = pcre2_match(r->re, (PCRE2_SPTR)subject, s.len, 0, 0, r->md, NULL);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
        rc = pcre2_match(r->re, (PCRE2_SPTR)subject, s.len, 0, PCRE2_NO_JIT, r->md, NULL);
    }
    if (rc < 0) {
        *out = (label_t *)in; /* no match (or a PCRE2 limit): unchanged */
        return n;
    }
    s.p = subject;
    const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(r->md);
    uint32_t novec = pcre2_get_ovector_count(r->md);
    buf_reset(&r->val);
    for (size_t k = 0; k < r->nsegs; k++) {
        const tmpl_seg_t *seg = &r->segs[k];
        if (seg->kind == TMPL_LIT) {
            buf_append(&r->val, r->repl + seg->off, seg->len);
        } else if (seg->kind == TMPL_NUM) {
            expand_group(r, ov, novec, seg->num, s);
        } else {
            str_t name = str_from(r->repl + seg->off, seg->len);
            for (uint32_t g = 1; g <= r->ncap; g++) {
                if (str_eq(r->cap_names[g], name) && g < novec && ov[2 * g] != PCRE2_UNSET) {
                    expand_group(r, ov, novec, g, s);
                    break;
                }
            }
        }
    }
    str_t val = str_from(r->val.len ? (const char *)r->val.data : "", r->val.len);
    return labels_with(in, n, str_from(r->dst, r->dst_len), val, a, out);
}

size_t pq_label_join(const label_t *in, size_t n, str_t dst, str_t sep, const str_t *src, size_t nsrc, arena_t *a,
                     label_t **out)
{
    size_t total = 0;
    for (size_t k = 0; k < nsrc; k++) {
        total += label_lookup(in, n, src[k]).len + (k > 0 ? sep.len : 0);
    }
    char *joined = arena_alloc(a, total ? total : 1);
    size_t off = 0;
    for (size_t k = 0; k < nsrc; k++) {
        if (k > 0 && sep.len) {
            memcpy(joined + off, sep.p, sep.len);
            off += sep.len;
        }
        str_t v = label_lookup(in, n, src[k]);
        if (v.len) {
            memcpy(joined + off, v.p, v.len);
            off += v.len;
        }
    }
    return labels_with(in, n, dst, str_from(joined, off), a, out);
}
