/*
 * tests/fuzz/fuzz_pii_mask.c
 * Fuzz target for the PII masker (it sees every argument, error message and log line):
 * arbitrary bytes -> gw_pii_mask_text (vehicle detector and an operator pattern on), and, when
 * the bytes are JSON, gw_pii_mask_json. Invariants: no crash or over-read; masking twice
 * changes nothing more (pseudonyms are never re-detected); the masked JSON serialises.
 */
#include "core/buf.h"
#include "pii/pii.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct gw_pii *pii;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!pii) {
        static const unsigned char key[32] = "fuzz key fuzz key fuzz key fuzz";
        struct gw_pii_options o = {key, sizeof(key), true, "phone,email,name", "password",
                                   "custid=CUST[0-9]{8}"};
        if (gw_pii_new(&o, &pii, NULL) != GW_OK)
            abort();
    }
    struct gw_buf a, b;
    gw_buf_init(&a, size * 4 + 1024);
    gw_buf_init(&b, size * 4 + 1024);
    unsigned n1 = 0, n2 = 0;
    gw_pii_mask_text(pii, (const char *)data, size, &a, &n1);
    gw_pii_mask_text(pii, gw_buf_ptr(&a), gw_buf_len(&a), &b, &n2);
    if (n2 != 0 || gw_buf_len(&a) != gw_buf_len(&b) ||
        memcmp(gw_buf_ptr(&a), gw_buf_ptr(&b), gw_buf_len(&a)) != 0)
        abort(); /* masking must be idempotent */
    gw_buf_fini(&a);
    gw_buf_fini(&b);
    json_error_t e;
    json_t *v = json_loadb((const char *)data, size, JSON_DECODE_ANY, &e);
    if (v) {
        json_t *m = gw_pii_mask_json(pii, v, NULL);
        char *s = json_dumps(m, JSON_ENCODE_ANY);
        if (!s)
            abort();
        free(s); /* checksrc: allow */
        json_decref(m);
        json_decref(v);
    }
    return 0;
}
