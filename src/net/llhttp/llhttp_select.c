/*
 * src/net/llhttp/llhttp_select.c
 * llhttp_execute's choice of parser. llhttp's api.c is built with its call to
 * llhttp__internal_execute renamed to gw_llhttp__execute (src/net/CMakeLists.txt), which lands
 * here: the SSE4.2 copy (llhttp_sse42.c) when it was built and the CPU has SSE4.2, the portable
 * one otherwise. The two copies are the same generated code, so they keep the same state values
 * and give the same answers (tests/fuzz/fuzz_net_llhttp.c compares them call by call).
 */
#include "net/llhttp/llhttp_select.h"

#include <stddef.h>

int gw_llhttp__execute(llhttp__internal_t *s, const char *p, const char *endp);

#ifdef GW_LLHTTP_SSE42
int gw_sse42_llhttp__internal_execute(llhttp__internal_t *s, const char *p, const char *endp);

static bool cpu_has_sse42(void)
{
    return __builtin_cpu_supports("sse4.2");
}
#endif

gw_llhttp_exec_fn gw_llhttp_portable(void)
{
    return llhttp__internal_execute;
}

gw_llhttp_exec_fn gw_llhttp_sse42(void)
{
#ifdef GW_LLHTTP_SSE42
    if (cpu_has_sse42())
        return gw_sse42_llhttp__internal_execute;
#endif
    return NULL;
}

const char *gw_llhttp_variant(void)
{
    return gw_llhttp_sse42() ? "sse4.2" : "portable";
}

int gw_llhttp__execute(llhttp__internal_t *s, const char *p, const char *endp)
{
    gw_llhttp_exec_fn fast = gw_llhttp_sse42();
    return fast ? fast(s, p, endp) : llhttp__internal_execute(s, p, endp);
}
