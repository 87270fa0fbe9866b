/*
 * src/shared/shared_internal.h
 * Shared between the files of src/shared only: the adapters' common state and counters.
 */
#ifndef GW_SHARED_INTERNAL_H
#define GW_SHARED_INTERNAL_H

#include "shared/shared.h"

#include "kv/kv.h"

#include <stdatomic.h>

struct gw_shared {
    struct gw_kv *kv;
    struct gw_sessions *sessions;
    char sess_hash_prefix[96]; /* "<prefix>{sessions}:s:" */
    char sess_index[96];       /* "<prefix>{sessions}:index" */
    char sess_channel[96];     /* "<prefix>sessions" */
    char sess_ack_prefix[96];  /* "<prefix>{sessions}:ack:" */
    atomic_ullong session_publishes, session_publish_failures, session_applied, session_resyncs;
    atomic_ullong idem_begins, idem_failures;
};

#endif
