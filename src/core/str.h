/*
 * src/core/str.h
 * String slices: pointer + length views of bytes we do not own (wire data, JSON strings).
 * Slices are never assumed NUL-terminated. Value type; members are public and read-only.
 */
#ifndef GW_CORE_STR_H
#define GW_CORE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct gw_str {
    const char *p;
    size_t n;
};

#define GW_STR_LIT(s) ((struct gw_str){(s), sizeof(s) - 1})

static inline struct gw_str gw_str_c(const char *s)
{
    return (struct gw_str){s, s ? strlen(s) : 0};
}

static inline bool gw_str_eq(struct gw_str a, struct gw_str b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

static inline bool gw_str_eq_c(struct gw_str a, const char *b)
{
    return gw_str_eq(a, gw_str_c(b));
}

/* ASCII case-insensitive equality. */
bool gw_str_ieq(struct gw_str a, struct gw_str b);

/* Strips ASCII spaces and tabs from both ends. */
struct gw_str gw_str_trim(struct gw_str s);

/* Parses a decimal unsigned integer into *out; GW_OK or GW_EINVAL (empty, junk, overflow). */
int gw_str_to_u64(struct gw_str s, unsigned long long *out);

/* Writes the n bytes of `in` as 2n lower-case hex digits plus a NUL into out (size >= 2n + 1).
 * For digests and nonces on hot paths (snprintf("%02x") per byte costs ~50x more). */
void gw_hex_encode(const unsigned char *in, size_t n, char *out);

/* Copies src (NULL = "") into dst of `size` bytes (size >= 1), cut to size - 1 bytes, always
 * NUL-terminated: what snprintf(dst, size, "%s", src) does, without the formatter. Returns
 * the number of bytes copied. */
size_t gw_strlcpy(char *dst, size_t size, const char *src);

/* Writes v in decimal plus a NUL into out (at least 21 bytes for u64, 21 for i64: "-" and 19
 * digits), returns the number of digits (and sign) written: what "%llu" / "%lld" print. */
size_t gw_u64_to_dec(unsigned long long v, char *out);
size_t gw_i64_to_dec(long long v, char *out);

#endif
