/*
 * src/store/store_chat.h
 * Conversations of the chat agent (table chat_conversations, migration 0006): what the store
 * keeps per conversation, scoped by owner (the hex SHA-256 identity key the chat module
 * computes). Every function takes the owner: a conversation of another owner is GW_ENOTFOUND,
 * exactly like one that does not exist. The store only stores: the chat module decides what a
 * conversation holds and bounds it.
 * A conversation record: {"id","title","created_at","updated_at","version"} plus, from
 * gw_store_chat_get, "messages" (array) and "pending" (object or null); list rows carry
 * "awaiting_confirmation" (bool) instead.
 *
 * BLOCKING, one thread per handle: see store.h. Returned json_t are new references.
 */
#ifndef GW_STORE_CHAT_H
#define GW_STORE_CHAT_H

#include "store/store.h"

#include <jansson.h>

#define GW_STORE_CHAT_ID_MAX 64         /* conversation ids: [A-Za-z0-9_-] */
#define GW_STORE_CHAT_OWNER_MAX 64      /* hex SHA-256 */
#define GW_STORE_CHAT_TITLE_MAX 200     /* bytes of a title */
#define GW_STORE_CHAT_DATA_MAX (4u << 20) /* bytes of messages + pending */

/* Creates an empty conversation. GW_OK with *out (the record), GW_EINVAL (bad id/owner/title),
 * GW_ECONFLICT (the id exists), GW_EIO. */
int gw_store_chat_create(struct gw_store *st, const char *owner, const char *id,
                         const char *title, json_t **out, struct gw_error *err);

/* The owner's conversations, most recently updated first, at most `limit` (<= 1000). */
int gw_store_chat_list(struct gw_store *st, const char *owner, int limit, json_t **out,
                       struct gw_error *err);

/* How many conversations the owner has. */
int gw_store_chat_count(struct gw_store *st, const char *owner, long long *out,
                        struct gw_error *err);

/* One conversation with its messages and pending state. GW_OK, GW_ENOTFOUND, GW_EIO. */
int gw_store_chat_get(struct gw_store *st, const char *owner, const char *id, json_t **out,
                      struct gw_error *err);

/* Replaces messages (JSON array text) and pending (JSON object text or NULL), and the title
 * when `title` is not NULL, if the stored version is `expect_version`; the version then grows
 * by one (*out_version, may be NULL). GW_OK, GW_ENOTFOUND, GW_ECONFLICT (another write came
 * first), GW_EINVAL (too large), GW_EIO. */
int gw_store_chat_save(struct gw_store *st, const char *owner, const char *id,
                       long long expect_version, const char *messages, const char *pending,
                       const char *title, long long *out_version, struct gw_error *err);

/* Deletes a conversation. GW_OK, GW_ENOTFOUND, GW_EIO. */
int gw_store_chat_delete(struct gw_store *st, const char *owner, const char *id,
                         struct gw_error *err);

/* Deletes every conversation last written before `before` (ISO), whoever owns it; *removed
 * (may be NULL): how many. GW_OK, GW_EIO. */
int gw_store_chat_purge(struct gw_store *st, const char *before, long long *removed,
                        struct gw_error *err);

#endif
