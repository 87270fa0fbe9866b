/*
 * src/core/json.h
 * JSON on the platform: jansson documents, parsed under limits and serialised compactly.
 *
 * jansson (chosen for its small, stable C API, strict UTF-8 validation and refcounted values)
 * does the parsing; this module adds what untrusted input needs on top: a nesting-depth limit
 * checked before parsing, a size limit, and error messages with line/column that can be shown
 * to a client. Invalid UTF-8 and NUL characters inside strings are rejected by jansson itself.
 *
 * Serialisation is ours (one writer for the whole platform, gw_json_dump*), because what an
 * agent reads must be exact and lean and jansson cannot do either for numbers:
 *   - reals are written in their shortest round-trip form (the fewest of 15, 16 or 17
 *     significant digits that read back to the same double): an upstream's 73.7389 stays
 *     "73.7389", not jansson's "73.738900000000001"; integral reals keep a ".0" so that a real
 *     reads back as a real;
 *   - numbers jansson cannot hold ("big numbers": integers beyond 64 bits such as
 *     18446744073709551615 or 123456789012345678901234567890, and reals beyond double range)
 *     are accepted by gw_json_parse and kept as their exact literal in a marker value (a jansson
 *     string whose first byte is NUL, which no parsed input can produce: jansson refuses NUL in
 *     strings), and written back as that literal. Use gw_json_is_bignum / gw_json_number to
 *     read them; code that treats them as strings sees "" (json_string_value).
 * Strings, keys and everything else are written exactly as jansson writes them (UTF-8 kept,
 * `"` `\` and control characters escaped, member order preserved).
 */
#ifndef GW_CORE_JSON_H
#define GW_CORE_JSON_H

#include "core/buf.h"
#include "core/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct gw_json_limits {
    size_t max_bytes; /* 0 = no limit */
    int max_depth;    /* maximum nesting of arrays/objects; 0 = jansson's own limit */
};

/* Makes jansson allocate through the per-thread block cache (core/alloc.h: gw_cache_malloc):
 * a tools/call builds and frees ~180 small jansson blocks; and, on a thread that has entered a
 * bulk heap, from that heap (core/json_heap.h: an import). Call once at start-up, before other
 * threads exist (json_set_alloc_funcs is process-wide). Safe whatever was allocated before:
 * the cache's blocks are ordinary malloc blocks. */
void gw_json_init(void);

/* Returns the maximum nesting depth of the JSON text, scanning at most `len` bytes and stopping
 * early (returning max_depth + 1) once max_depth is exceeded. Strings are skipped correctly. */
int gw_json_depth(const char *buf, size_t len, int max_depth);

/* Parses `buf` into a new reference (caller json_decref's it). On failure returns NULL and fills
 * err: GW_ELIMIT for size/depth, GW_EINVAL for syntax or encoding (message with line:column).
 * Big numbers (see above) become exact markers instead of failing the parse. */
json_t *gw_json_parse(const char *buf, size_t len, const struct gw_json_limits *lim,
                      struct gw_error *err);

/* The fast reader alone (no limits, no big numbers, no error message): the document's value,
 * or NULL. *taken says whether it tried: false for a document it leaves to jansson by rule
 * (see json.c). For the tests and the differential fuzz target; callers use gw_json_parse. */
json_t *gw_json_read_fast(const char *buf, size_t len, bool *taken);

/* Appends the compact serialisation of `v` to `out`. GW_OK, GW_ELIMIT (the buffer's maximum,
 * or nesting beyond 2048) or GW_ENOMEM. On failure `out` keeps what it had before. */
int gw_json_dump(const json_t *v, struct gw_buf *out);

/* Flags of gw_json_dump_ex. */
#define GW_JSON_PRETTY 0x1u /* two-space indentation, one member per line (for people) */
#define GW_JSON_SORTED 0x2u /* object members in byte order of their keys (for digests) */

/* gw_json_dump with flags (0 = compact, as gw_json_dump). */
int gw_json_dump_ex(const json_t *v, struct gw_buf *out, unsigned flags);

/* Compact serialisation into a new heap string (gw_free). NULL on OOM. */
char *gw_json_dumps(const json_t *v);

/* Serialisation with flags into a new heap string (gw_free). NULL on OOM. */
char *gw_json_dumps_ex(const json_t *v, unsigned flags);

/* Writes the JSON escape of s[0..n) (no quotes: `"`, `\`, and control characters, \b \f \n \r
 * \t short, the others \u00xx with upper-case hex as jansson writes them, or lower-case as
 * RFC 8785 wants) at out, which has room for 6n bytes; returns the length written. Runs of
 * plain bytes are copied whole. */
size_t gw_json_escape(char *out, const char *s, size_t n, bool lower_hex);

/* Appends the string literal of s[0..n) (quoted, escaped as gw_json_escape) to out: in place
 * when the worst case fits, else in bounded chunks, so a nearly full buffer still takes a
 * literal that fits. GW_ELIMIT when it does not. */
int gw_json_put_string(struct gw_buf *out, const char *s, size_t n, bool lower_hex);

/* Writes the plain decimal text of d ("28.6139", "-3", "0.0005") into out (at least 24 bytes)
 * and returns its length when d has at most 15 significant digits and 1e-4 <= |d| < 1e15 —
 * the text %.15g and ECMAScript's Number::toString both give it, and it reads back as d —;
 * returns 0 (out untouched) for every other double. A fast path for the formatters below. */
size_t gw_json_format_decimal(double d, char *out, size_t size);

/* Writes the shortest round-trip text of a finite double into out (at least 32 bytes) and
 * returns its length; integral values get ".0" when `real_marker`. */
size_t gw_json_format_real(double d, bool real_marker, char *out, size_t size);

/* ---- big numbers ---- */

/* Whether v is a big-number marker. */
bool gw_json_is_bignum(const json_t *v);
/* The exact literal of a big number (not NUL-terminated: *len bytes), or NULL. */
const char *gw_json_bignum_text(const json_t *v, size_t *len);
/* Whether the big number is an integer literal (no fraction, no exponent). */
bool gw_json_bignum_is_integer(const json_t *v);
/* A new big-number marker for the JSON number literal lit[0..n) (checked: a valid JSON number
 * literal of at most 1024 bytes), or NULL. */
json_t *gw_json_bignum(const char *lit, size_t n);
/* Whether v is a number for JSON's purposes: integer, real or big number. */
bool gw_json_is_number(const json_t *v);
/* The value of a number as a double (big numbers rounded, +-HUGE_VAL beyond range); 0 for
 * anything else. */
double gw_json_number(const json_t *v);

/* Convenience accessors that tolerate NULL and wrong types. */
const char *gw_json_str(const json_t *obj, const char *key); /* NULL unless a string */
bool gw_json_is_int_or_str(const json_t *v);

#endif
