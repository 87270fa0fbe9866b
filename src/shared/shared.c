/*
 * src/shared/shared.c
 * The adapters' common state and counters (see shared.h).
 */
#include "shared/shared_internal.h"

#include "core/alloc.h"

#include <string.h>

struct gw_shared *gw_shared_new(struct gw_kv *kv)
{
    struct gw_shared *sh = gw_xcalloc(1, sizeof(*sh));
    sh->kv = kv;
    return sh;
}

void gw_shared_free(struct gw_shared *sh)
{
    gw_free(sh);
}

void gw_shared_stats(const struct gw_shared *sh, struct gw_shared_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (!sh)
        return;
    out->session_publishes = atomic_load(&sh->session_publishes);
    out->session_publish_failures = atomic_load(&sh->session_publish_failures);
    out->session_applied = atomic_load(&sh->session_applied);
    out->session_resyncs = atomic_load(&sh->session_resyncs);
    out->idem_begins = atomic_load(&sh->idem_begins);
    out->idem_failures = atomic_load(&sh->idem_failures);
}
