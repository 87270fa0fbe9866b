/*
 * src/store/store_impl.h
 * Internals shared by the store's own files (store*.c); not for other modules.
 *
 * The handle, transaction helpers and small row helpers on top of the backend vtable.
 * Write transactions follow one protocol (store.c): gw_store__begin_write opens the
 * transaction and, as its first statement, increments registry_state.version (which on
 * PostgreSQL also takes the row lock that serialises registry writers across replicas);
 * gw_store__commit queues NOTIFY gw_registry '<version>' before COMMIT (PostgreSQL) or posts
 * the in-process bus after it (SQLite). A failure anywhere rolls back with
 * gw_store__rollback, so the counter moves only when a change is committed.
 */
#ifndef GW_STORE_IMPL_H
#define GW_STORE_IMPL_H

#include "core/json.h"
#include "store/store.h"
#include "store/store_backend.h"

struct gw_store {
    const struct gw_store_ops *ops;
    void *conn;
    char *target;   /* file path (SQLite) or URL (PostgreSQL; may hold a password) */
    char *identity; /* what the in-process bus is keyed by (SQLite: real path of the file) */
    struct gw_store_options opt;
    bool in_tx;
    bool tx_write;
    long long tx_version; /* registry version this write transaction will commit */
};

/* Resolves `url` to a backend and its target (file path or URL, newly allocated). */
int gw_store__resolve(const char *url, const struct gw_store_ops **out_ops, char **out_target,
                      struct gw_error *err);

/* The key of the in-process bus for a target (SQLite: its real path). Caller gw_free's. */
char *gw_store__identity(const struct gw_store_ops *ops, const char *target);

/* Runs one statement (see gw_store_ops.exec). */
int gw_store__exec(struct gw_store *st, const char *sql, const struct store_param *p, int np,
                   store_row_fn cb, void *ctx, long long *out_changes, struct gw_error *err);

int gw_store__begin_read(struct gw_store *st, struct gw_error *err);
/* Opens a write transaction and bumps the registry version (*out_version, may be NULL). */
int gw_store__begin_write(struct gw_store *st, long long *out_version, struct gw_error *err);
/* Commits (notifying for a write transaction). On failure the transaction is rolled back. */
int gw_store__commit(struct gw_store *st, struct gw_error *err);
/* Rolls back the open transaction, if any. */
void gw_store__rollback(struct gw_store *st);

/* Posts the in-process change bus for `identity` (store_listen.c). */
void gw_store__bus_post(const char *identity);

/* Runs a query whose first row's first column is JSON text and parses it into *out.
 * GW_ENOTFOUND when there is no row. */
int gw_store__query_json(struct gw_store *st, const char *sql, const struct store_param *p,
                         int np, json_t **out, struct gw_error *err);

/* Runs an INSERT of one row (no RETURNING clause) and gives the new row's id
 * (gw_store_ops.insert). */
int gw_store__insert(struct gw_store *st, const char *sql, const struct store_param *p, int np,
                     long long *out_id, struct gw_error *err);

/* Runs a query whose first row's first column is an integer. GW_ENOTFOUND when no row. */
int gw_store__query_int(struct gw_store *st, const char *sql, const struct store_param *p,
                        int np, long long *out, struct gw_error *err);

/* Parses stored JSON text (trusted but bounded). NULL with err on failure. */
json_t *gw_store__parse(const char *text, size_t len, struct gw_error *err);

/* Parses a decimal integer column (SQL NULL and junk give 0). */
long long gw_store__int(const char *s);

/* Validates a name: 1..GW_STORE_NAME_MAX characters of [A-Za-z0-9_.-] (`dots` allowed) or
 * [A-Za-z0-9_-] (tool names). */
bool gw_store__valid_name(const char *s, bool dots);

/* Sets err for a bounded optional string field: NULL/absent is fine; else must be a string of
 * at most `max` bytes. *out receives the value or NULL. GW_OK or GW_EINVAL. */
int gw_store__opt_str(const json_t *obj, const char *key, size_t max, const char **out,
                      struct gw_error *err);

/* The actor's fields with defaults applied. */
const char *gw_store__who(const struct gw_store_actor *who);
const char *gw_store__why(const struct gw_store_actor *who);

/* Appends a tool_history row. `previous` may be NULL (creation). */
int gw_store__history(struct gw_store *st, long long tool_id, const char *tool_name,
                      long long version, const char *action, const json_t *previous,
                      const struct gw_store_actor *who, const char *now, struct gw_error *err);

/* Makes sure bundle `name` exists, creating it (title = name) when missing. */
int gw_store__bundle_ensure(struct gw_store *st, const char *name, const char *now,
                            struct gw_error *err);

/* A tool row as the store's own files handle it. */
struct gw_store_tool_rec {
    long long id;
    long long version;
    json_t *def; /* stored definition (normalised, with "version"); owned */
};

/* Loads a tool by name. GW_ENOTFOUND when absent. Free with gw_store__tool_rec_fini. */
int gw_store__tool_load(struct gw_store *st, const char *name, struct gw_store_tool_rec *out,
                        struct gw_error *err);
void gw_store__tool_rec_fini(struct gw_store_tool_rec *r);

/* Persists normalised definition `def` as version `version` of tool `id` (0 = a new tool; its
 * id is returned in *out_id, may be NULL), with indexed columns taken from the definition,
 * its bundle created when missing, and a history row (`action`, `previous` = the definition
 * before, NULL for a creation). Sets def's "version". Inside a write transaction. */
int gw_store__tool_save(struct gw_store *st, long long id, json_t *def, long long version,
                        const char *action, const json_t *previous,
                        const struct gw_store_actor *who, const char *now, long long *out_id,
                        struct gw_error *err);
/* gw_store__tool_save with the definition already serialised (`text`, which must be def as it
 * will be stored, "version" included): imports serialise their new tools in parallel. */
int gw_store__tool_save_text(struct gw_store *st, long long id, json_t *def, const char *text,
                             long long version, const char *action, const json_t *previous,
                             const struct gw_store_actor *who, const char *now,
                             long long *out_id, struct gw_error *err);

/* Compact serialisation of a definition with GW_STORE_DEF_MAX enforced. Caller gw_free's. */
int gw_store__dump(const json_t *v, size_t max, char **out, struct gw_error *err);

/* Operation identity of a definition: "METHOD /path/{}" from source (or binding) into out,
 * method upper-cased and path parameter names left out ("" when absent). */
void gw_store__op_key(const json_t *def, char *out, size_t size);

/* ---- names and aliases (store_alias.c) ---- */

/* now + days as the store's ISO-8601 UTC text. */
void gw_store__time_after_days(int days, char *out, size_t size);
/* Whether `name` is free for tool except_id (0 = a new tool): no other tool has it and no live
 * alias of another tool holds it. `owner` (may be NULL, GW_STORE_NAME_MAX + 1 bytes) receives
 * the tool that holds it (the name itself when a tool has it). */
int gw_store__name_free(struct gw_store *st, const char *name, long long except_id,
                        const char *now, bool *out_free, char *owner, struct gw_error *err);
/* Every name in use: {"name": owner} where owner is the tool's id (a tool) or -id (a live
 * alias of tool id), and expired aliases as 0 (free, but their row must go first). For checks
 * of many names at once (imports). New reference. */
int gw_store__names_in_use(struct gw_store *st, const char *now, json_t **out,
                           struct gw_error *err);
/* Removes the alias row named `name` (before a tool takes the name). */
int gw_store__alias_take(struct gw_store *st, const char *name, struct gw_error *err);
/* Makes `alias` an alias of tool_id until now + days (the default when days <= 0); the expiry
 * text goes to out_until (may be NULL). */
int gw_store__alias_add(struct gw_store *st, const char *alias, long long tool_id, int days,
                        const char *now, char *out_until, size_t until_size,
                        struct gw_error *err);
/* The live aliases by tool name: {"tool": [{"name","until"}]} (new reference). */
int gw_store__aliases_by_tool(struct gw_store *st, json_t **out, struct gw_error *err);
/* Saves `def` (whose "name" is `to`) as the next version of rec's tool and keeps rec's old name
 * as an alias for alias_days; the name `to` is taken from any expired alias. */
int gw_store__rename_save(struct gw_store *st, const struct gw_store_tool_rec *rec,
                          const char *to, int alias_days, const char *action,
                          const struct gw_store_actor *who, const char *now, json_t *def,
                          char *out_until, size_t until_size, struct gw_error *err);

#endif
