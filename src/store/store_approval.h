/*
 * src/store/store_approval.h
 * Approvals (table approvals, migration 0004): calls waiting for a person's consent because the
 * caller's client cannot ask the user. An approval is {"id","status":"pending|approved|denied|
 * used","subject","client_id","tool","risk","arguments":{..},"reason","created_at","expires_at",
 * "decided_at"|null,"decided_by"|null,"comment"|null,"used_at"|null}; the principal binding and
 * the argument digest are kept but not listed. Times are ISO-8601 UTC. Expiry is judged against
 * the database's view of now as the caller passes it (`now`, ISO), so every replica agrees.
 *
 * BLOCKING, one thread per handle: see store.h. Returned json_t are new references.
 */
#ifndef GW_STORE_APPROVAL_H
#define GW_STORE_APPROVAL_H

#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>

#define GW_APPROVAL_ARGS_MAX (64u * 1024u)
#define GW_APPROVAL_PENDING_MAX 20 /* pending approvals per principal */

/* The pending approval of exactly this call (binding, tool, digest) that has not expired at
 * `now`, or a new one from {"id","binding","subject","client_id","tool","risk","args_digest",
 * "arguments","reason","expires_at"}. *out: the approval (new or existing). GW_OK, GW_ELIMIT (the
 * principal has too many pending approvals), GW_EINVAL, GW_EIO. */
int gw_store_approval_request(struct gw_store *st, const json_t *a, const char *now,
                              json_t **out, struct gw_error *err);

/* Approvals, newest first; `status` NULL = all. GW_OK, GW_EIO. */
int gw_store_approval_list(struct gw_store *st, const char *status, size_t limit, json_t **out,
                           struct gw_error *err);
int gw_store_approval_get(struct gw_store *st, const char *id, json_t **out,
                          struct gw_error *err);

/* pending -> approved|denied by `who` (with an optional comment), if not expired at `now`.
 * GW_OK, GW_ENOTFOUND, GW_ECONFLICT (not pending, or expired), GW_EIO. */
int gw_store_approval_decide(struct gw_store *st, const char *id, bool approve, const char *who,
                             const char *comment, const char *now, struct gw_error *err);

/* Spends approval `id` for the call (binding, tool, digest): approved -> used, atomically (one
 * use, on any replica). GW_OK; GW_EDENIED with the reason in err (unknown, pending, denied,
 * already used, expired, or for another call or principal); GW_EIO. */
int gw_store_approval_use(struct gw_store *st, const char *id, const char *binding,
                          const char *tool, const char *digest, const char *now,
                          struct gw_error *err);

/* Deletes the approvals that expired before `before` (ISO): they can no longer be decided or
 * used, and the request, the decision and the use are in the audit trail; what goes is the
 * call's arguments kept for the approver. *removed (may be NULL): how many. GW_OK, GW_EIO. */
int gw_store_approval_purge(struct gw_store *st, const char *before, long long *removed,
                            struct gw_error *err);

#endif
