/*
 * src/audit/audit.h
 * The audit trail: one canonical (JCS) record per finished exchange, admin change or refusal,
 * appended to a tamper-evident log (RFC 6962 Merkle tree + hash chain, C2SP signed
 * checkpoints), durable before the response it describes is released, archived to WORM storage.
 *
 * Shape: producers (the MCP completion observer on the worker loops, the admin API's pool
 * threads) build the event JSON, mask PII in it (src/pii) and canonicalise it on their own
 * thread, then queue it. ONE writer thread per process takes everything queued at once (group
 * commit): assigns sequence numbers, wraps each event in its record
 * {"event":...,"prev":"<b64 leaf hash of the previous record>","seq":N}, writes the batch to
 * the open segment file with one pwrite(2) and one fdatasync(2), inserts it into PostgreSQL
 * when configured, and only then calls each producer's `done` (the MCP observer then releases
 * the held response). A loop never blocks on disk; a busy writer makes batches bigger.
 * Checkpoints are signed every GW_AUDIT_CHECKPOINT_EVENTS records or _SECONDS seconds and at
 * every segment rotation; closed segments and checkpoints are shipped by the S3 shipper thread.
 * On disk (GW_AUDIT_DIR/<log id>/): segments/<first seq, 20 digits>.jsonl (closed) and one
 * ...jsonl.open (being written; its first line is a header with the Merkle compact range at its
 * start; under fdatasync its tail is zero-filled ahead of the records, see audit_log.c, and
 * the first NUL byte ends its data), checkpoints/<size, 20 digits>.cp, checkpoint (the
 * latest), shipped (what the archive acknowledged). Restart recovery truncates a torn last
 * line (never an acknowledged record: it was fsynced before its response left), recomputes the
 * tree and refuses to continue a log whose records no longer match its latest signed
 * checkpoint.
 * One log per replica (its own origin and checkpoints): see docs/audit.md for why.
 */
#ifndef GW_AUDIT_AUDIT_H
#define GW_AUDIT_AUDIT_H

#include "audit/audit_merkle.h"
#include "audit/audit_note.h"
#include "core/err.h"
#include "core/settings.h"
#include "ctx/ctx_principal.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gw_audit;
struct gw_pii;
struct gw_mcp_completion;

extern const struct gw_setting_def gw_audit_settings[];

/* Where the data plane publishes the verifier keys (text, one per line). */
#define GW_AUDIT_KEYS_PATH "/.well-known/mcpgw-audit-keys"

enum gw_audit_sync { GW_AUDIT_SYNC_FDATASYNC, GW_AUDIT_SYNC_WRITE };
enum gw_audit_scope { GW_AUDIT_SCOPE_ALL, GW_AUDIT_SCOPE_CALLS };

/* The S3 archive (WORM): empty bucket = no shipping. */
struct gw_audit_s3 {
    const char *endpoint; /* https://s3.<region>.amazonaws.com or a compatible server */
    const char *bucket, *region, *prefix;
    const char *access_key, *secret_key, *session_token;
    const char *lock_mode; /* COMPLIANCE or GOVERNANCE */
    unsigned retention_days;
    bool path_style;
    unsigned retry_max_s; /* cap of the retry backoff */
    const char *ca_file;  /* extra CA bundle for the endpoint ("" = system) */
};

struct gw_audit_config {
    const char *dir;    /* root folder; the log lives in <dir>/<log_id>/ */
    const char *log_id; /* [A-Za-z0-9._-]{1,64} */
    const char *origin; /* checkpoint origin prefix: the log's origin is <origin>/<log id> */
    /* the log id was defaulted (host name): when another live process holds that log, use
     * <id>-2, <id>-3, ... instead of failing (each log is written by one process at a time,
     * enforced with an exclusive lock on <log dir>/lock) */
    bool log_id_default;
    struct gw_note_signer *signer; /* taken (freed by gw_audit_close) */
    const struct gw_pii *pii;      /* borrowed; must outlive the audit */
    enum gw_audit_sync sync;
    enum gw_audit_scope scope;
    unsigned checkpoint_events, checkpoint_seconds;
    uint64_t segment_max_bytes;
    unsigned segment_max_seconds;
    size_t queue_max_bytes; /* above this, new tool calls are refused (back-pressure) */
    unsigned local_retention_days; /* delete shipped segments older than this (0 = keep) */
    /* keep every checkpoint file; false: those inside a closed segment leave the folder (once
     * archived) and the one at each segment boundary stays (GW_AUDIT_LOCAL_CHECKPOINTS) */
    bool keep_all_checkpoints;
    bool response_digest;   /* record a keyed digest of each tools/call response */
    const char *pg_url;     /* "" = no PostgreSQL copy */
    /* delete rows of the copy older than this, once archived (0 = keep; needs the archive) */
    unsigned pg_retention_days;
    unsigned maintenance_seconds; /* between salvage and pruning passes */
    unsigned salvage_after_s;     /* archive a silent replica's log after this (0 = never) */
    struct gw_audit_s3 s3;
};

/* Fills `c` from the GW_AUDIT_* settings (signer and pii left NULL; dir defaults to
 * GW_DATA_DIR/audit and the log id to the host name). Strings point into `s`. */
void gw_audit_config_from_settings(struct gw_audit_config *c, const struct gw_settings *s,
                                   char *dirbuf, size_t dirsize, char *idbuf, size_t idsize,
                                   char *originbuf, size_t originsize);

/* Loads or creates the signing key: GW_AUDIT_SIGNING_KEY (PEM text), else
 * GW_AUDIT_SIGNING_KEY_FILE, else <dir>/signing.key (generated once, mode 0600). Records the
 * verifier key in <dir>/verifier-keys. Blocks (file I/O). */
int gw_audit_load_signer(const struct gw_settings *s, const char *dir,
                         struct gw_note_signer **out, struct gw_error *err);
/* Loads or creates the PII pseudonym key the same way (GW_PII_KEY or <dir>/pii.key). */
int gw_audit_load_pii_key(const struct gw_settings *s, const char *dir, unsigned char *key,
                          size_t *key_len, struct gw_error *err);

/* Opens (recovering) the log and starts the writer (and shipper) threads. Blocks on I/O. */
int gw_audit_open(const struct gw_audit_config *c, struct gw_audit **out, struct gw_error *err);
/* Drains the queue, signs a final checkpoint, closes the open segment, stops the threads
 * (the shipper gets a few seconds to finish an upload). Accepts NULL. Blocks. */
void gw_audit_close(struct gw_audit *a);

/* Called on the writer thread when a record is durable (rc GW_OK) or can never be (rc < 0). */
typedef void (*gw_audit_done_fn)(void *arg, int rc);
/* Queues one canonical event (JCS text; copied). `done` may be NULL. Never blocks (the queue
 * has no hard limit: back-pressure is applied before calls start, gw_audit_accepting). */
int gw_audit_append(struct gw_audit *a, const char *event, size_t len, gw_audit_done_fn done,
                    void *arg);
/* Queues and waits until durable (pool threads only; never on a loop). */
int gw_audit_append_sync(struct gw_audit *a, const char *event, size_t len,
                         struct gw_error *err);

/* Whether new tool calls may start: the writer is healthy and its queue below the limit. */
bool gw_audit_accepting(const struct gw_audit *a);
/* Readiness: GW_OK, or why the trail cannot take records (err). */
int gw_audit_ready(const struct gw_audit *a, struct gw_error *err);

/* ---- events (audit_event.c) ---- */

/* The completion observer for gw_mcp_server_on_complete (ud = struct gw_audit *): builds,
 * masks and queues the event and holds the final message until the record is durable. */
int gw_audit_on_complete(void *ud, const struct gw_mcp_completion *c,
                         void (*release)(void *token), void *token);

/* An admin change (or attempt) made through the admin API or CLI. */
struct gw_audit_admin_event {
    const char *request_id, *trace_id, *peer;   /* may be NULL */
    const struct gw_principal *principal;       /* NULL = unknown */
    const char *actor;                          /* "admin-api", "cli", ... */
    const char *method, *path;                  /* HTTP method and path (or the CLI verb) */
    const char *action;                         /* e.g. "tool.update", "bundle.delete" */
    const char *target;                         /* the object's name or id ("" none) */
    int status;                                 /* HTTP status of the outcome */
    const char *reason;                         /* X-Change-Reason or NULL */
    const char *body;                           /* request body (digested; masked when small) */
    size_t body_len;
    const json_t *details;                      /* extra facts (masked), may be NULL */
};
/* Records an admin change and waits until it is durable (call it from a thread that may
 * block, after the change and before answering). GW_OK or an error (the trail is down). */
int gw_audit_admin_event(struct gw_audit *a, const struct gw_audit_admin_event *e,
                         struct gw_error *err);

/* A transport refusal before any exchange (Host/Origin, media type, session, parse error). */
struct gw_audit_reject {
    const char *request_id, *trace_id, *peer, *transport, *method, *path;
    int status, code;
    const char *message;
};
void gw_audit_reject(struct gw_audit *a, const struct gw_audit_reject *r);

/* ---- the verification keys, statistics ---- */

/* Every verifier key this log's checkpoints may be signed with, one per line (current key
 * first; previous keys from <dir>/verifier-keys and GW_AUDIT_PREVIOUS_KEYS). */
const char *gw_audit_verifier_keys(const struct gw_audit *a);
const char *gw_audit_origin(const struct gw_audit *a);
/* The key that signs this log's checkpoints (borrowed: valid until gw_audit_close). The admin
 * API seals its verification summaries with it (audit_verification.h). */
const struct gw_note_signer *gw_audit_signer(const struct gw_audit *a);
/* The size of the log and the leaf hash of its last record (false when empty). Any thread. */
bool gw_audit_head(const struct gw_audit *a, uint64_t *size, gw_hash last);
const char *gw_audit_log_dir(const struct gw_audit *a);
/* This replica's log id, and the PostgreSQL copy's URL (NULL when there is none). */
const char *gw_audit_log_id(const struct gw_audit *a);
const char *gw_audit_database_url(const struct gw_audit *a);
/* Removes a folder and everything in it (a temporary export, a salvage's work files);
 * best effort. */
void gw_audit_remove_folder(const char *path);

/* Whether s is a log id: 1-64 characters of [A-Za-z0-9._-], not "." or "..". */
bool gw_audit_log_id_valid(const char *s);

struct gw_audit_stats {
    unsigned long long records, bytes, batches, checkpoints, write_errors, rejected_calls;
    unsigned long long queue_depth, queue_bytes;
    unsigned long long commit_lag_us_sum, commit_lag_count; /* enqueue -> durable */
    unsigned long long lag_bucket[12]; /* cumulative-free counts per le bucket (see metrics) */
    unsigned long long size, checkpoint_size;
    long long last_checkpoint_unix;
    unsigned long long shipped_objects, ship_errors, ship_backlog;
    long long oldest_unshipped_unix; /* 0 = none */
    /* the database copy's upkeep (audit_upkeep.c) by this replica */
    unsigned long long db_pruned, logs_salvaged, upkeep_errors;
    unsigned long long pii_masked;
    bool healthy;
};
/* Upper bounds (seconds) of the commit-lag histogram buckets in gw_audit_stats.lag_bucket. */
extern const double gw_audit_lag_buckets[12];
void gw_audit_get_stats(const struct gw_audit *a, struct gw_audit_stats *out);
void gw_audit__count_rejected(struct gw_audit *a);
void gw_audit__count_pii(struct gw_audit *a, unsigned n);
const struct gw_pii *gw_audit__pii(const struct gw_audit *a);
enum gw_audit_scope gw_audit__scope(const struct gw_audit *a);
bool gw_audit__response_digest(const struct gw_audit *a);

#endif
