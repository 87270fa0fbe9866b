/*
 * src/audit/audit_read.h
 * Reading an audit log offline: verification (recompute every leaf and tree head, check the
 * hash chain, sequence numbers, canonical encoding, segment headers, checkpoint signatures and
 * sizes, consistency between checkpoints), search, inclusion and consistency proofs, export of
 * a PostgreSQL-held log to the on-disk layout. Used by `mcpgw audit ...` and the admin API.
 * Works on a log folder as the gateway writes it or as the S3 archive holds it (same layout),
 * never writes to it (but for its proof index, index/, which it derives and checks). Blocks
 * (file I/O); memory: 9 bytes per record while verifying (two streaming passes), O(log n)
 * reads for a proof once the index is built, at most `limit` matches for a search.
 */
#ifndef GW_AUDIT_READ_H
#define GW_AUDIT_READ_H

#include "audit/audit_note.h"
#include "core/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gw_pii;

/* Verifies the log in `logdir` with the given verifier keys. Returns the report (new
 * reference): {"ok", "log", "origin", "records", "first", "checkpoints", "latest_checkpoint",
 * "unsigned_tail", "problems":[{"kind","seq","segment","line","detail"}], "notes":[...]}.
 * Problem kinds: format, not_canonical, edited, missing, reordered, duplicate, truncated,
 * header, checkpoint_mismatch, signature, checkpoint_format, origin, torn. */
json_t *gw_audit_verify_dir(const char *logdir, struct gw_note_verifier *const *vs, size_t nvs);
/* The same, calling progress(ud, pass (1 or 2), records read in that pass) every
 * GW_AUDIT_PROGRESS_EVERY records of a long log; when it returns false the reading stops and
 * the result is NULL (cancelled: a partial reading proves nothing). */
#define GW_AUDIT_PROGRESS_EVERY 16384
json_t *gw_audit_verify_dir_progress(const char *logdir, struct gw_note_verifier *const *vs,
                                     size_t nvs, bool (*progress)(void *ud, int pass,
                                                                  uint64_t records),
                                     void *ud);

/* Search filters (NULL/0 = any). `subject` matches the raw subject or its pseudonym (computed
 * with `pii` when given). Times are ISO-8601 prefixes compared as text (UTC). */
struct gw_audit_query {
    const char *request_id, *trace_id, *tool, *subject, *outcome, *kind, *method, *since,
        *until;
    uint64_t from_seq;
    size_t limit; /* 0 = 100 */
    const struct gw_pii *pii;
    /* newest first (segment by segment from the newest: a page costs the segments it spans,
     * not the log), and only records before `before` when has_before */
    bool newest_first, has_before;
    uint64_t before;
    /* a further filter of the caller's over the event (NULL: none), applied before counting */
    bool (*accept)(void *ud, const json_t *event);
    void *accept_ud;
};
/* Calls fn(ud, seq, record line, len, event) for each matching record in order (or newest
 * first) until it returns false or `limit` records matched. Segments that end before
 * `from_seq` are not read. Returns the number matched or a negative code. */
typedef bool (*gw_audit_record_fn)(void *ud, uint64_t seq, const char *line, size_t len,
                                   const json_t *event);
long gw_audit_search_dir(const char *logdir, const struct gw_audit_query *q,
                         gw_audit_record_fn fn, void *ud, struct gw_error *err);

/* Inclusion proof of record `seq` in the tree of `size` records (0 = the latest checkpoint's
 * size): {"seq","size","leaf_hash","root","proof":[b64...],"record","checkpoint"}. */
json_t *gw_audit_inclusion_dir(const char *logdir, uint64_t seq, uint64_t size,
                               struct gw_error *err);
/* Consistency proof between sizes m < n (n = 0: the latest checkpoint):
 * {"first","second","first_root","second_root","proof":[...],"checkpoints":[...]} */
json_t *gw_audit_consistency_dir(const char *logdir, uint64_t m, uint64_t n,
                                 struct gw_error *err);

/* The latest checkpoint's text (gw_free), or NULL with err. */
char *gw_audit_latest_checkpoint(const char *logdir, struct gw_error *err);

/* Writes the log `log_id` held in PostgreSQL (`url`) to `outdir`/<log id>/ in the on-disk
 * layout (one segment per 100,000 records, each written as its rows are read: a MiB of it in
 * memory at a time), so that verify/proof work on it. */
int gw_audit_export_pg(const char *url, const char *log_id, const char *outdir,
                       uint64_t *out_records, struct gw_error *err);

/* Verifies the log `log_id` held in PostgreSQL straight from its rows, nothing written to disk:
 * they are read as the segments an export would write (twice: the verification's two passes)
 * and its checkpoints as signed, with the same checks, report and progress as
 * gw_audit_verify_dir_progress. NULL with err when the database cannot give the log
 * (GW_ENOTFOUND: no such log) or failed while it was read; NULL without err when progress
 * stopped it. */
json_t *gw_audit_verify_pg(const char *url, const char *log_id,
                           struct gw_note_verifier *const *vs, size_t nvs,
                           bool (*progress)(void *ud, int pass, uint64_t records), void *ud,
                           struct gw_error *err);

/* Copies the log in `logdir` (on disk, possibly being written) to `outdir`/<its folder name>/:
 * checkpoints first, then the segments, so that every exported checkpoint covers exported
 * records; the open segment is cut after its last whole record (its zeros written ahead and a
 * line being written are left out). *out_segments: how many segments were written. */
int gw_audit_export_dir(const char *logdir, const char *outdir, uint64_t *out_segments,
                        struct gw_error *err);

/* The governance decision of an event as the console shows it: "admin" (an admin change),
 * "reject" (a transport refusal), "deny" (refused), else the first "deny" or "error" verdict
 * of its decisions, "dry_run_deny" when a dry-run rule would have refused, or "allow". Its SQL
 * twin is in audit_pg_read.c. */
const char *gw_audit_decision(const json_t *event);

/* ---- the PostgreSQL copy: every replica's log (audit_pg_read.c) ---- */

#define GW_AUDIT_LOG_ID_MAX 64
/* A position in the merged order of every log (the event's time, then the log id, then the
 * sequence number): a page's cursor, written "<ts>~<log id>~<seq>". */
struct gw_audit_pos {
    char ts[40];
    char log_id[GW_AUDIT_LOG_ID_MAX + 1];
    uint64_t seq;
};
void gw_audit_pos_format(const struct gw_audit_pos *p, char *out, size_t size);
bool gw_audit_pos_parse(const char *s, struct gw_audit_pos *p);

struct gw_audit_pg_query {
    /* filters as for a folder search (tool, subject with pii, request_id, trace_id, outcome,
     * kind, method, since, until) and limit; from_seq, before and accept are not used */
    const struct gw_audit_query *q;
    const char *decision;               /* gw_audit_decision's value, NULL = any */
    const char *log_id;                 /* only this log, NULL = every log */
    bool newest_first;
    const struct gw_audit_pos *cursor;  /* strictly after it in that order, NULL = from the end */
};
typedef bool (*gw_audit_pg_fn)(void *ud, const char *log_id, uint64_t seq, const char *line,
                               size_t len, const json_t *event);
/* The calls below keep one database connection per thread between calls (closed when the
 * thread ends); a thread that will not call again (the CLI's main) closes it with this. */
void gw_audit_pg_release(void);
/* Calls fn for each matching record held in the database at `url`, in order, until it returns
 * false or q->limit matched. Returns the number matched or GW_EIO (err). */
long gw_audit_search_pg(const char *url, const struct gw_audit_pg_query *pq, gw_audit_pg_fn fn,
                        void *ud, struct gw_error *err);
/* The logs held in the database, the most recently checkpointed first, at most `limit`:
 * [{"log","origin","records","checkpoint":{"size","time"}|null,"createdAt","lastRecordAt",
 * "storedVerification"?}] (the time of its last record, null when it has none; the last
 * verification any replica stored for it); NULL with err. */
json_t *gw_audit_logs_pg(const char *url, unsigned limit, struct gw_error *err);
/* Stores `summary` as the last verification of `log_id` in the database, for every replica's
 * console (GET /admin/api/audit/logs) and across restarts. GW_OK; GW_ENOTFOUND (no such log),
 * GW_EIO, GW_ELIMIT (a summary over GW_AUDIT_VERIFICATION_MAX) with err. */
int gw_audit_pg_save_verification(const char *url, const char *log_id, const json_t *summary,
                                  struct gw_error *err);
/* Calls fn once with record `seq` of log `log_id` held in the database. GW_OK, GW_ENOTFOUND,
 * GW_EIO (err). */
int gw_audit_record_pg(const char *url, const char *log_id, uint64_t seq, gw_audit_pg_fn fn,
                       void *ud, struct gw_error *err);
/* The inclusion proof of record `seq` of log `log_id` in that log's latest checkpoint held in
 * the database, computed from its rows: {"log","seq","size","leaf_hash","root","proof",
 * "record","checkpoint"} as gw_audit_inclusion_dir (the checkpoint's signature is for the
 * caller to check). Reads the whole log up to the checkpoint (32 bytes of memory per record):
 * GW_ELIMIT beyond max_records; GW_ENOTFOUND when the record is not signed yet; NULL with err. */
json_t *gw_audit_inclusion_pg(const char *url, const char *log_id, uint64_t seq,
                              uint64_t max_records, struct gw_error *err);

/* Lists the log folders under an audit root (names, gw_free each and the array). */
int gw_audit_list_logs(const char *root, char ***out, size_t *n, struct gw_error *err);

#endif
