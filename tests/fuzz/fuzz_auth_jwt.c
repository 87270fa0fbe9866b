/*
 * tests/fuzz/fuzz_auth_jwt.c
 * Fuzz target for bearer-token verification: arbitrary bytes as a token -> gw_jwt_verify
 * against a fixed key set (auth_jwt_keys.h) at a fixed time, then, for accepted tokens, the
 * claims -> principal mapping. Invariants: never crash, leak or read out of bounds; an
 * accepted token has exactly the expected issuer, an audience containing ours, a subject and
 * an unexpired exp (so a fuzzer-built token can only pass by carrying a valid signature, which
 * it cannot produce: in practice only the valid seeds pass, and any mutation of them fails).
 */
#include "auth/auth_internal.h"
#include "auth_jwt_keys.h"
#include "core/alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct gw_jwks *keys;
static struct auth_config cfg;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!keys) {
        struct gw_error err = {0};
        if (gw_jwks_parse(fuzz_jwks, strlen(fuzz_jwks), &keys, NULL, &err) != GW_OK)
            abort();
        gw_auth__list("roles,groups,realm_access.roles", &cfg.roles_claims, &err);
        gw_auth__list("azp,client_id", &cfg.client_claims, &err);
        gw_auth__list("tenant", &cfg.tenant_claims, &err);
    }
    if (size > 16384)
        return 0;
    char *token = gw_xmalloc(size + 1);
    memcpy(token, data, size);
    token[size] = '\0';
    static const char *const auds[] = {FUZZ_AUD};
    struct gw_jwt_expect x = {FUZZ_ISS, auds, 1, 0, 2000000000, 60, 8192};
    gw_jwt_algs_parse("RS256,PS256,ES256,EdDSA", &x.algs, NULL);
    json_t *claims = NULL, *header = NULL;
    struct gw_jwt_failure why;
    if (gw_jwt_verify(token, strlen(token), keys, &x, &claims, &header, &why) == GW_OK) {
        const char *iss = json_string_value(json_object_get(claims, "iss"));
        json_t *exp = json_object_get(claims, "exp");
        if (!iss || strcmp(iss, FUZZ_ISS) != 0 || !json_is_number(exp) ||
            json_number_value(exp) + 60 <= 2000000000 || !json_object_get(claims, "sub"))
            abort(); /* accepted something that the rules refuse */
        char reason[200];
        struct gw_principal *p = gw_auth__principal_from_claims(&cfg, claims, reason);
        gw_principal_unref(p);
    } else if (!why.reason[0]) {
        abort(); /* every refusal says why */
    }
    json_decref(claims);
    json_decref(header);
    gw_free(token);
    return 0;
}
