/*
 * src/core/b64.h
 * base64url (RFC 4648 §5, no padding) and padded base64 (§4), strict, over OpenSSL's EVP
 * base64 codec.
 */
#ifndef GW_CORE_B64_H
#define GW_CORE_B64_H

#include <stddef.h>

/* Encodes n bytes into out (capacity >= gw_b64url_len(n) + 1); returns the length written. */
size_t gw_b64url_encode(const unsigned char *in, size_t n, char *out);
static inline size_t gw_b64url_len(size_t n)
{
    return (n + 2) / 3 * 4;
}
/* Decodes base64url text into out (capacity >= n * 3 / 4 + 3); returns the decoded length or
 * -1 when the text is not base64url. */
long gw_b64url_decode(const char *in, size_t n, unsigned char *out);
/* Decodes padded base64 (RFC 4648 §4: standard alphabet, length a multiple of four, '=' only
 * as the last one or two characters) into out (capacity >= n * 3 / 4); returns the decoded
 * length or -1 when the text is not exactly that. */
long gw_b64_decode(const char *in, size_t n, unsigned char *out);

#endif
