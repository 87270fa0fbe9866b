/*
 * src/core/assert.h
 * Invariant checks that stay on in release builds.
 *
 * GW_ASSERT(x) logs the failed expression with file, line and function, then aborts: an
 * invariant that does not hold means memory or protocol state is already wrong, and going on
 * would turn a bug into a security hole (a second reply, a use after free).
 * GW_DEBUG_ASSERT(x) is for checks too expensive for production; it compiles to nothing unless
 * GW_DEBUG_ASSERTIONS is defined (the debug, ci and asan presets define it).
 * Do not use <assert.h> in production code (NDEBUG would silently remove the check).
 */
#ifndef GW_CORE_ASSERT_H
#define GW_CORE_ASSERT_H

/* Logs "assertion failed: <expr>" synchronously (after what is queued) and aborts. */
void gw_assert_fail(const char *expr, const char *file, int line, const char *func)
    __attribute__((noreturn));

#define GW_ASSERT(x)                                               \
    do {                                                           \
        if (__builtin_expect(!(x), 0))                             \
            gw_assert_fail(#x, __FILE__, __LINE__, __func__);      \
    } while (0)

#ifdef GW_DEBUG_ASSERTIONS
#define GW_DEBUG_ASSERT(x) GW_ASSERT(x)
#else
#define GW_DEBUG_ASSERT(x) ((void)0)
#endif

#endif
