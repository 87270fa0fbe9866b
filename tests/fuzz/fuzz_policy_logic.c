/*
 * tests/fuzz/fuzz_policy_logic.c
 * Fuzz target for src/policy/policy_logic.c: compile an untrusted JSON Logic rule and evaluate
 * it on untrusted data under the step budget.
 *
 * Input: a JSON document {"rule": R, "data": D}; any other value is used as the rule and run on a
 * few fixed data documents. Checks beyond "no crash, no leak, no hang":
 *  - a rule refused by compile is never evaluated: compile returns no handle and an error that
 *    names the path ("condition…") with GW_EINVAL or GW_ELIMIT;
 *  - evaluation ends with GW_OK, GW_ELIMIT (budget, string or nesting limit) or GW_EINVAL, and
 *    with a result exactly when it succeeded;
 *  - a result is plain JSON that serialises (valid UTF-8, no internal value leaked), and
 *    evaluating again gives an equal result (deterministic), as does gw_logic_test's verdict.
 */
#include "policy/policy_logic.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run(const struct gw_logic *l, const json_t *d)
{
    json_t *out = NULL, *again = NULL;
    struct gw_error err = {0};
    int rc = gw_logic_eval_budget(l, d, 20000, &out, &err);
    if (rc != GW_OK && rc != GW_ELIMIT && rc != GW_EINVAL)
        abort();
    if ((rc == GW_OK) != (out != NULL) || (rc != GW_OK && err.msg[0] == '\0'))
        abort();
    if (rc != GW_OK)
        return;
    char *text = json_dumps(out, JSON_ENCODE_ANY | JSON_COMPACT);
    if (!text)
        abort(); /* not serialisable: an internal value or invalid UTF-8 escaped */
    free(text); /* checksrc: allow (jansson's allocation) */
    if (gw_logic_eval_budget(l, d, 20000, &again, &err) != GW_OK || !json_equal(out, again))
        abort(); /* not deterministic */
    json_decref(again);
    json_decref(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 20)
        return 0;
    json_t *doc = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (!doc)
        return 0;
    json_t *rule = json_object_get(doc, "rule"), *d = json_object_get(doc, "data");
    bool fixed = !rule;
    if (fixed)
        rule = doc;
    struct gw_logic *l = (struct gw_logic *)&l; /* must be cleared by a refusing compile */
    struct gw_error err = {0};
    int rc = gw_logic_compile(rule, &l, &err);
    if (rc != GW_OK) {
        if (l || (rc != GW_EINVAL && rc != GW_ELIMIT) || strncmp(err.msg, "condition", 9) != 0)
            abort();
        json_decref(doc);
        return 0;
    }
    if (fixed) {
        static const char *docs[] = {
            "null", "{}", "[1,\"2\",[3]]",
            "{\"principal\":{\"sub\":\"u1\",\"claims\":{\"roles\":[\"dealer\"],\"dealer_ids\":"
            "[\"D1\"]}},\"tool\":{\"name\":\"t\",\"risk\":\"write\"},\"args\":{\"dealer_id\":"
            "\"D1\",\"items\":[{\"qty\":2},{\"qty\":\"3\"}]},\"context\":{\"now\":"
            "\"2025-01-31T09:15:00Z\"}}"};
        for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
            json_t *v = json_loads(docs[i], JSON_DECODE_ANY, NULL);
            run(l, v);
            json_decref(v);
        }
    } else {
        run(l, d);
    }
    bool yes;
    json_t *out = NULL;
    rc = gw_logic_eval(l, fixed ? NULL : d, &out, &err);
    if (gw_logic_test(l, fixed ? NULL : d, &yes, &err) != rc ||
        (rc == GW_OK && yes != gw_logic_truthy(out)))
        abort();
    json_decref(out);
    gw_logic_free(l);
    json_decref(doc);
    return 0;
}
