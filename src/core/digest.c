/*
 * src/core/digest.c
 * SHA-256 fetched once per process (see digest.h). Falls back to the implicit algorithm if
 * the fetch failed (a provider configuration without the default provider): slower, same
 * bytes.
 */
#include "core/digest.h"

#include <openssl/sha.h>
#include <pthread.h>

static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void fetch_sha256(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

const EVP_MD *gw_sha256_md(void)
{
    pthread_once(&sha256_once, fetch_sha256);
    return sha256_md ? sha256_md : EVP_sha256();
}

void gw_sha256(const void *data, size_t n, unsigned char out[32])
{
    unsigned int len = 0;
    if (EVP_Digest(data, n, out, &len, gw_sha256_md(), NULL) != 1 || len != 32)
        SHA256(data, n, out);
}
