/*
 * src/core/b64.c
 * base64url by translating the alphabet around EVP_EncodeBlock/EVP_DecodeBlock.
 */
#include "core/b64.h"

#include "core/alloc.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <string.h>

size_t gw_b64url_encode(const unsigned char *in, size_t n, char *out)
{
    int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    while (len > 0 && out[len - 1] == '=')
        len--;
    for (int i = 0; i < len; i++) {
        if (out[i] == '+')
            out[i] = '-';
        else if (out[i] == '/')
            out[i] = '_';
    }
    out[len] = '\0';
    return (size_t)len;
}

long gw_b64url_decode(const char *in, size_t n, unsigned char *out)
{
    if (n % 4 == 1 || n > (1u << 24))
        return -1;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
        if (!ok)
            return -1; /* strict: no whitespace, padding or standard-alphabet characters */
    }
    size_t padded = (n + 3) / 4 * 4;
    char *tmp = gw_trymalloc(padded + 1);
    if (!tmp)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        if (c == '-')
            c = '+';
        else if (c == '_')
            c = '/';
        else if (c == '+' || c == '/' || c == '=')
            c = '!'; /* not in the url alphabet: make the decoder reject it */
        tmp[i] = c;
    }
    for (size_t i = n; i < padded; i++)
        tmp[i] = '=';
    tmp[padded] = '\0';
    int len = EVP_DecodeBlock(out, (unsigned char *)tmp, (int)padded);
    gw_free(tmp);
    if (len < 0)
        return -1;
    return len - (long)(padded - n);
}

long gw_b64_decode(const char *in, size_t n, unsigned char *out)
{
    if (n % 4 != 0 || n > (1u << 24))
        return -1; /* padded base64 comes in groups of four */
    size_t pad = 0;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        if (c == '=') {
            if (i + 2 < n)
                return -1; /* padding only in the last two places */
            pad++;
            continue;
        }
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '+' || c == '/';
        if (!ok || pad)
            return -1; /* strict: no whitespace, url alphabet, or data after padding */
    }
    int len = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n);
    if (len < 0)
        return -1;
    return len - (long)pad;
}
