/*
 * tests/fuzz/fuzz_governance_opa.c
 * Fuzzes the reading of OPA Data API answers (gw_gov__opa_parse, src/governance/gov_opa.c):
 * an answer comes from a server on the network and decides whether a call may run. Input: the
 * first byte selects the HTTP status (mostly 200), the rest is the body. Checks that a failure
 * never reads as a decision (all zero: no allow, no confirm), that an error always says why,
 * that a decision's texts are NUL-terminated within their buffers without control characters,
 * and that GW_OK only ever comes with status 200.
 */
#include "core/log.h"
#include "governance/gov_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    if (n >= cap)
        abort();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        gw_log_configure(GW_LOG_OFF, true, 2);
        init = 1;
    }
    if (size < 1)
        return 0;
    static const long statuses[] = {200, 200, 200, 200, 200, 404, 500, 401};
    long status = statuses[data[0] % 8];
    struct gw_opa_decision d;
    struct gw_error err = {0};
    memset(&d, 0xA5, sizeof(d));
    int rc = gw_gov__opa_parse(status, (const char *)data + 1, size - 1, &d, &err);
    if (rc == GW_OK) {
        if (status != 200)
            abort();
        check_text(d.reason, sizeof(d.reason));
        check_text(d.rule, sizeof(d.rule));
        check_text(d.hint, sizeof(d.hint));
        check_text(d.decision_id, sizeof(d.decision_id));
    } else {
        static const struct gw_opa_decision zero;
        if (memcmp(&d, &zero, sizeof(d)) != 0 || !err.msg[0] || err.code != rc)
            abort();
    }
    return 0;
}
