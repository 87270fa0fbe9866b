/*
 * src/store/store_janitor.h
 * A janitor: a thread that deletes what has outlived its retention from the database (expired
 * approvals, forgotten conversations), at start and then every `period_s` seconds, through a
 * handle of its own opened for the round. Every replica runs its own (the deletions are
 * idempotent). A failure is logged (at start as information: the database may not answer or be
 * migrated yet) and retried at the next period.
 */
#ifndef GW_STORE_STORE_JANITOR_H
#define GW_STORE_STORE_JANITOR_H

#include "store/store.h"

/* Deletes what is older than `before` (ISO-8601 UTC), *removed = how many. GW_OK or an error
 * (gw_store_approval_purge, gw_store_chat_purge). */
typedef int (*gw_store_purge_fn)(struct gw_store *st, const char *before, long long *removed,
                                 struct gw_error *err);

struct gw_store_janitor;

/* Starts it: each round calls purge with "now minus retention_days". `what` names the chore in
 * log lines ("approvals that expired more than 30 days ago"); url/what are copied. NULL when
 * the thread cannot start (logged: the gateway runs on, without the chore). */
struct gw_store_janitor *gw_store_janitor_start(const char *url, const char *what,
                                                gw_store_purge_fn purge, int retention_days,
                                                unsigned period_s);
/* Stops it (waits for a round in progress) and frees. NULL is fine. */
void gw_store_janitor_stop(struct gw_store_janitor *j);

#endif
