/*
 * tests/unit/policy/test_policy_logic_diff.c
 * The C side of the differential test against json-logic-js (tests/policy/logic-diff.mjs).
 *
 * With --lines: reads JSON lines {"rule": R, "data": D} from stdin and writes one JSON line per
 * input: {"result": V} (V as JSON.stringify would show it), {"error": "compile"|"eval",
 * "code": "EINVAL"|…, "msg": "…"}, or {"error": "input"} for a line that is not JSON.
 * Without arguments (as ctest runs it): feeds a few built-in lines through the same code and
 * checks the exact output lines, so the protocol the Node script relies on is tested too.
 */
#include "policy/policy_logic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Handles one input line; returns the output line (caller frees with free()). */
static char *handle(const char *line, size_t len)
{
    json_error_t e;
    json_t *in = json_loadb(line, len, 0, &e), *res = NULL, *out = NULL;
    struct gw_logic *l = NULL;
    struct gw_error err = {0};
    if (!json_is_object(in)) {
        out = json_pack("{s:s}", "error", "input");
    } else if (gw_logic_compile(json_object_get(in, "rule"), &l, &err) != GW_OK) {
        out = json_pack("{s:s,s:s,s:s}", "error", "compile", "code", gw_rc_name(err.code), "msg",
                        err.msg);
    } else if (gw_logic_eval(l, json_object_get(in, "data"), &res, &err) != GW_OK) {
        out = json_pack("{s:s,s:s,s:s}", "error", "eval", "code", gw_rc_name(err.code), "msg",
                        err.msg);
    } else {
        out = json_pack("{s:o}", "result", res);
    }
    char *text = json_dumps(out, JSON_COMPACT);
    gw_logic_free(l);
    json_decref(in);
    json_decref(out);
    return text;
}

static int serve(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        char *text = handle(line, (size_t)n);
        printf("%s\n", text);
        free(text); /* checksrc: allow (jansson's allocation) */
    }
    free(line); /* checksrc: allow (getline's allocation) */
    return ferror(stdin) ? 1 : 0;
}

static int self_test(void)
{
    static const char *cases[][2] = {
        {"{\"rule\":{\"+\":[1,\"2\"]},\"data\":null}", "{\"result\":3}"},
        {"{\"rule\":{\"var\":\"a.b\"},\"data\":{\"a\":{\"b\":[1,2]}}}", "{\"result\":[1,2]}"},
        {"{\"rule\":{\"map\":[[1,\"x\"],{\"/\":[{\"var\":\"\"},0]}]}}",
         "{\"result\":[null,null]}"},
        {"{\"rule\":{\"reduce\":[[1],{\"var\":\"\"},{\"and\":[]}]}}",
         "{\"result\":{\"current\":1}}"},
        {"{\"rule\":{\"nope\":1}}",
         "{\"error\":\"compile\",\"code\":\"EINVAL\",\"msg\":\"condition: unknown operator "
         "'nope'\"}"},
        {"{\"rule\":{\"missing_some\":[1,null]}}",
         "{\"error\":\"eval\",\"code\":\"EINVAL\",\"msg\":\"missing_some needs a list of "
         "keys, got null\"}"},
        {"not json", "{\"error\":\"input\"}"},
    };
    int failed = 0, n = (int)(sizeof cases / sizeof cases[0]);
    for (int i = 0; i < n; i++) {
        char *got = handle(cases[i][0], strlen(cases[i][0]));
        if (strcmp(got, cases[i][1]) != 0) {
            printf("FAIL %s\n  got  %s\n  want %s\n", cases[i][0], got, cases[i][1]);
            failed++;
        }
        free(got); /* checksrc: allow */
    }
    printf("%d passed, %d failed\n", n - failed, failed);
    return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--lines") == 0)
        return serve();
    return self_test();
}
