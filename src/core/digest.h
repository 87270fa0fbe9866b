/*
 * src/core/digest.h
 * SHA-256 for hot paths. OpenSSL 3 looks an algorithm up in its provider tables on every
 * implicit use (EVP_sha256() in an init, and the one-shot SHA256(), which goes through
 * EVP_Q_digest): for the short inputs hashed per request (a bearer token, a span id seed)
 * the lookup costs more than the hashing. Here the algorithm is fetched once per process.
 * Thread-safe; never blocks.
 */
#ifndef GW_CORE_DIGEST_H
#define GW_CORE_DIGEST_H

#include <openssl/evp.h>
#include <stddef.h>

/* SHA-256, fetched once (the process keeps it); for EVP_DigestInit_ex and HMAC/MAC setups. */
const EVP_MD *gw_sha256_md(void);

/* out = SHA-256(data[0..n)). Same bytes as OpenSSL's SHA256(). */
void gw_sha256(const void *data, size_t n, unsigned char out[32]);

#endif
