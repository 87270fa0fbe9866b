/*
 * tests/fuzz/fuzz_mcp_session.c
 * Fuzz target for session-id verification: arbitrary bytes (cut at the first NUL, as a header
 * value would be) -> gw_session_verify and gw_session__decode, plus DELETE (terminate) and the
 * per-session state calls a transport makes only after a successful verify. Invariants: a
 * random input never verifies against a sessions object that never issued anything (so even
 * ids the fuzzer lifts from memory comparisons cannot pass), and decode never reads past the
 * input. Inputs starting with "ISSUE" make a second sessions object issue a real id that is
 * then mutated with the remaining bytes (xor at positions): unchanged it must verify, changed
 * it must not, so the MAC path is exercised on near-valid tokens too.
 */
#include "core/alloc.h"
#include "mcp/mcp_session.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static struct gw_sessions *sessions; /* never issues: nothing may verify against it */
static struct gw_sessions *issuer;   /* issues the real ids of the "ISSUE" inputs */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!sessions) {
        sessions = gw_sessions_new("fuzz-secret", 3600);
        issuer = gw_sessions_new("fuzz-issuer", 3600);
    }
    char id[512];
    size_t n = size < sizeof(id) - 1 ? size : sizeof(id) - 1;
    memcpy(id, data, n);
    id[n] = '\0';
    struct gw_session_claims c;
    bool mutated_real = false;
    if (n >= 5 && memcmp(id, "ISSUE", 5) == 0) {
        /* a real id, then flip bits: byte i of the rest xors position (i * 7) % 52 */
        struct gw_session_claims issued;
        gw_session_issue(issuer, GW_MCP_V_2025_11_25, 1, NULL, &issued);
        char original[GW_SESSION_ID_MAX];
        memcpy(original, issued.id, sizeof(original));
        for (size_t i = 5; i < n; i++) {
            size_t pos = ((i - 5) * 7) % 52;
            char ch = (char)(issued.id[pos] ^ id[i]);
            if (ch)
                issued.id[pos] = ch;
        }
        memcpy(id, issued.id, sizeof(issued.id));
        mutated_real = true;
        bool changed = strcmp(id, original) != 0;
        int rc = gw_session_verify(issuer, id, NULL, &c);
        if (!changed && rc != GW_OK)
            abort(); /* an untouched real id must verify */
        if (changed && rc == GW_OK)
            abort(); /* any change must break the MAC */
    } else {
        if (gw_session_verify(sessions, id, NULL, &c) == GW_OK)
            abort(); /* forging without the key */
    }
    (void)gw_session__decode(id, &c);
    if (gw_session_terminate(sessions, id, NULL) == GW_OK)
        abort();
    (void)mutated_real;
    (void)gw_session_log_level(sessions, id);
    (void)gw_session_subscribed(sessions, id, "test://static-text");
    return 0;
}
