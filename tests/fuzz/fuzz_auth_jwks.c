/*
 * tests/fuzz/fuzz_auth_jwks.c
 * Fuzz target for JWKS documents (what an identity provider, or whoever impersonates it,
 * serves): arbitrary bytes -> gw_jwks_parse. Invariants: never crash or leak; an accepted set
 * has at least one key and at most GW_JWKS_MAX_KEYS; lookups by any kid are safe.
 */
#include "auth/auth_jwt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gw_jwks *k = NULL;
    struct gw_error err = {0};
    unsigned skipped = 0;
    if (gw_jwks_parse((const char *)data, size, &k, &skipped, &err) == GW_OK) {
        size_t n = gw_jwks_count(k);
        if (n == 0 || n > GW_JWKS_MAX_KEYS)
            abort();
        (void)gw_jwks_has(k, "rsa");
        (void)gw_jwks_has(k, NULL);
        gw_jwks_unref(k);
    } else if (k || !err.msg[0]) {
        abort();
    }
    return 0;
}
