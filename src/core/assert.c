/*
 * src/core/assert.c
 * The failure path of GW_ASSERT: one FATAL log line (written synchronously after whatever the
 * asynchronous log still holds), then abort() so that a core dump or sanitizer report shows
 * the stack.
 */
#include "core/assert.h"

#include "core/log.h"

#include <stdlib.h>

void gw_assert_fail(const char *expr, const char *file, int line, const char *func)
{
    gw_log_write(GW_LOG_FATAL, "assert", "assertion failed: %s (%s:%d in %s)", expr, file, line,
                 func);
    abort();
}
