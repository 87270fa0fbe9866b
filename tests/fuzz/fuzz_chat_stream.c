/*
 * tests/fuzz/fuzz_chat_stream.c
 * Fuzz target for what an LLM provider (or anyone between it and the gateway) can send the chat
 * agent: bytes -> the SSE reader -> the OpenAI or Anthropic stream grammar (first byte: even =
 * OpenAI, odd = Anthropic; second byte: the piece size, so splits at every position are tried)
 * -> the assistant message, and the error-body reader. Invariants (abort on violation): the
 * text kept never exceeds its limit, at most GW_LLM_MAX_TOOL_CALLS calls each with a name and
 * an id, every call's arguments come out as a JSON object, the message serialises, and after a
 * failure the reader stays failed.
 * Seeds (corpus/chat_stream/) are named after the attack or oddity they carry.
 */
#include "chat/chat_llm.h"
#include "core/alloc.h"
#include "core/json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    enum gw_llm_provider p = (data[0] & 1) ? GW_LLM_ANTHROPIC : GW_LLM_OPENAI;
    size_t step = (size_t)data[1] + 1;
    const char *s = (const char *)data + 2;
    size_t n = size - 2;
    struct gw_llm_stream st;
    gw_llm_stream_init(&st, p, NULL);
    int rc = GW_OK;
    for (size_t i = 0; i < n && rc == GW_OK; i += step)
        rc = gw_llm_stream_feed(&st, s + i, n - i < step ? n - i : step, NULL);
    if (rc != GW_OK && gw_llm_stream_feed(&st, "\n\n", 2, NULL) == GW_OK)
        abort(); /* a failed stream must stay failed */
    (void)gw_llm_stream_end(&st, NULL);
    if (gw_buf_len(&st.text) > GW_LLM_MAX_TEXT || st.ncalls > GW_LLM_MAX_TOOL_CALLS)
        abort();
    json_t *m = gw_llm_stream_message(&st);
    if (!m)
        abort();
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(m, "tool_calls"), i, c)
    {
        if (!gw_json_str(c, "id") || !*gw_json_str(c, "id") || !gw_json_str(c, "name") ||
            !json_is_object(json_object_get(c, "arguments")))
            abort();
    }
    char *t = gw_json_dumps(m);
    if (!t)
        abort();
    gw_free(t);
    json_decref(m);
    gw_llm_stream_fini(&st);
    char out[128];
    gw_llm_error_message(s, n, out, sizeof(out));
    if (strlen(out) >= sizeof(out))
        abort();
    return 0;
}
