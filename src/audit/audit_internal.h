/*
 * src/audit/audit_internal.h
 * Shared by the files of src/audit only: the on-disk layout of a log (names of segments and
 * checkpoints, the segment header), record framing, the file helpers (atomic writes, the
 * segment writer of the export from the database and the salvage), the proof index's and the
 * shipper's interfaces.
 *
 * Layout of <root>/<log id>/:
 *   segments/<first:020>.jsonl.open   the segment being written (at most one)
 *   segments/<first:020>.jsonl        closed segments
 *   checkpoints/<size:020>.cp         signed checkpoints (those inside closed segments removed
 *                                     unless GW_AUDIT_LOCAL_CHECKPOINTS=all)
 *   checkpoint                        the latest signed checkpoint
 *   index/L0, L1, ..., lock           the proof index (audit_index.c; derived, rebuilt at will)
 *   shipped                           object keys the archive acknowledged, one per line
 *   verification.json                 the admin API's last verification summary (admin_verify.c)
 * A segment's first line is its header: {"audit_segment":1,"first":N,"origin":"...",
 * "prev":"<b64 leaf hash of record N-1, or empty>","range":["<b64>",...]} where range is the
 * Merkle compact range of records [0, N). Every other line is one record (JCS):
 *   {"event":{...},"prev":"<b64 leaf hash of record seq-1, or empty>","seq":seq}
 * and its leaf hash is SHA-256(0x00 || the line without its newline).
 */
#ifndef GW_AUDIT_INTERNAL_H
#define GW_AUDIT_INTERNAL_H

#include "audit/audit.h"
#include "core/buf.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>

#define AUDIT_SEG_DIR "segments"
#define AUDIT_CP_DIR "checkpoints"
#define AUDIT_LINE_MAX (4u << 20) /* longest record accepted when reading */
#define AUDIT_PREFILL (1u << 20)   /* zeros kept written ahead of the open segment's records */
#define AUDIT_INDEX_FEED_MAX 65536u /* leaf hashes the writer keeps for the proof index (2 MiB) */
#define AUDIT_B64_HASH 45         /* base64 of 32 bytes + NUL */

/* A segment found on disk. */
struct audit_seg {
    uint64_t first;
    bool open;
    char name[64];
};

/* Lists <logdir>/segments sorted by first; *out (gw_free) and the count. */
int gw_audit__list_segments(const char *logdir, struct audit_seg **out, size_t *n,
                            struct gw_error *err);
/* Lists checkpoint sizes in <logdir>/checkpoints, sorted ascending (gw_free). */
int gw_audit__list_checkpoints(const char *logdir, uint64_t **out, size_t *n,
                               struct gw_error *err);

/* GW_AUDIT_LOCAL_CHECKPOINTS=boundaries: whether the checkpoint of `size` may leave the
 * folder: it lies strictly inside a closed segment and the checkpoint at that segment's end is
 * there too (so the closed segment stays anchored and signed up to its last record). `segs`
 * sorted by first (the open one last), `cps` sorted ascending. */
bool gw_audit__checkpoint_redundant(uint64_t size, const struct audit_seg *segs, size_t nseg,
                                    const uint64_t *cps, size_t ncp);

/* Where a log's verification reads it from (audit_read.c): its folder, or its rows in
 * PostgreSQL streamed as the segments an export would write (audit_pg_read.c). `open` gives
 * segment `index` of the list as a stream (header line, then record lines); segments are
 * opened in order, each read to its end or closed before the next. */
struct audit_src {
    int (*segments)(void *ud, struct audit_seg **out, size_t *n, struct gw_error *err);
    FILE *(*open)(void *ud, const struct audit_seg *seg, size_t index);
    /* the checkpoints' sizes, sorted ascending (gw_free), and one's signed text (gw_free) */
    int (*checkpoints)(void *ud, uint64_t **sizes, size_t *n);
    int (*checkpoint)(void *ud, uint64_t size, char **text, size_t *len, struct gw_error *err);
    void *ud;
};
/* Verifies a log read from `src` (what gw_audit_verify_dir_progress does for a folder);
 * `name` is the log's name in the report. */
json_t *gw_audit__verify_src(const struct audit_src *src, const char *name,
                             struct gw_note_verifier *const *vs, size_t nvs,
                             bool (*progress)(void *ud, int pass, uint64_t records), void *ud);

/* A parsed segment header. */
struct audit_seg_header {
    uint64_t first;
    char origin[256];
    gw_hash prev;
    bool has_prev;
    struct gw_merkle_range range;
};
/* Parses a header line (without newline). */
int gw_audit__parse_header(const char *line, size_t n, struct audit_seg_header *h,
                           struct gw_error *err);
/* Appends the header line (with newline) for a segment starting at range->size. */
int gw_audit__format_header(const char *origin, const struct gw_merkle_range *range,
                            const gw_hash prev, bool has_prev, struct gw_buf *out);

/* Appends the record line (with newline) of `event` at `seq`. */
int gw_audit__format_record(const char *event, size_t len, uint64_t seq, const gw_hash prev,
                            bool has_prev, struct gw_buf *out);

/* Reads a whole small file (gw_free). */
int gw_audit__read_file(const char *path, size_t max, char **out, size_t *n,
                        struct gw_error *err);
/* Writes a file atomically (temp + fsync + rename + fsync of the folder). */
int gw_audit__write_file_atomic(const char *dir, const char *name, const char *data, size_t n,
                                int mode, struct gw_error *err);
int gw_audit__fsync_dir(const char *dir);
/* Writes all of p[0..n) at offset `off`, or at the file position when off < 0. GW_OK/GW_EIO. */
int gw_audit__write_at(int fd, const char *p, size_t n, int64_t off);
int gw_audit__mkdirs(const char *path, struct gw_error *err);

/* A segment written as its rows are read from the database, in order (the export from the
 * database, the salvage's rebuild; audit_log.c): its header line, then each record's line and
 * newline, the text held in memory until it reaches AUDIT_SEG_WRITER_FLUSH bytes and then
 * written out, so that memory holds about a MiB of it, not the segment. Atomic (the export):
 * written to <dir>/.<name>.tmp, made durable under its name at the end and removed on an
 * error, as gw_audit__write_file_atomic does. Otherwise (the salvage's rebuilt segment, in a
 * work folder removed after the upload): written in place, never fsynced, left as it is on an
 * error. */
#define AUDIT_SEG_WRITER_FLUSH (1u << 20)
struct audit_seg_writer {
    const char *dir; /* the caller's, until closed */
    char name[64];   /* <first:020>.jsonl */
    int fd;
    bool atomic;
    uint64_t next; /* the number the next record must carry */
    struct gw_buf b;
};
/* Creates the segment <dir>/<first:020>.jsonl (mode 0644) and holds its header line `header`
 * (n bytes, without its newline). On an error nothing is left to close. */
int gw_audit__seg_writer_open(struct audit_seg_writer *w, const char *dir, uint64_t first,
                              bool atomic, const char *header, size_t n, struct gw_error *err);
/* Appends the line (len bytes, without its newline) of record `seq` to the writer `ud`:
 * GW_ECONFLICT ("the database lacks record N") when it is not the next record, GW_EIO when a
 * write fails. A gw_audit__row_fn (gw_audit__pg_rows). */
int gw_audit__seg_writer_append(void *ud, uint64_t seq, const char *line, size_t len,
                                struct gw_error *err);
/* Closes the segment with the caller's outcome `rc` (an error from append included): GW_OK
 * writes out what is held (atomic: fsync, rename, fsync of the folder) and returns GW_OK or
 * the I/O error; another rc writes nothing more (atomic: the temporary file is removed) and is
 * returned, err untouched. */
int gw_audit__seg_writer_close(struct audit_seg_writer *w, int rc, struct gw_error *err);

/* Calls fn(ud, seq, leaf hash) for each record line from number `from` on, in the order of
 * the log, until it returns false (audit_read.c). Records are numbered by their position in
 * their segment, not parsed: for what is checked against the signed tree (the proof index).
 * GW_OK or an I/O error. */
int gw_audit__leaves_from(const char *logdir, uint64_t from,
                          bool (*fn)(void *ud, uint64_t seq, const gw_hash leaf), void *ud,
                          struct gw_error *err);

/* ---- the proof index (audit_index.c) ---- */
struct audit_index;
/* Opens <logdir>/index (created) under an exclusive lock and extends it to at least `need`
 * leaves from the records. GW_OK; GW_ENOTFOUND (the log holds fewer records), GW_ECONFLICT
 * (records out of order), GW_EIO: use every leaf instead. */
int gw_audit__index_open(const char *logdir, uint64_t need, struct audit_index **out,
                         struct gw_error *err);
uint64_t gw_audit__index_size(const struct audit_index *x); /* leaves indexed */
/* What the writer feeds the index: the leaf hashes of records [first, first + n), all covered
 * by a signed checkpoint, and the roots of the 256-leaf blocks [sub_first, sub_first + nsub)
 * they complete (level 1; the rest of that level, and the levels above, are computed). */
struct audit_index_feed {
    uint64_t first;
    const gw_hash *leaves;
    size_t n;
    uint64_t sub_first;
    const gw_hash *subs;
    size_t nsub;
};
/* Appends a feed to the index of logdir, without waiting: the writer's, at each checkpoint.
 * GW_OK (added, or indexed already), GW_AGAIN (another holds the lock: try again with more),
 * GW_ECONFLICT (the index ends before `first`: the next proof's extension fills the gap),
 * GW_EIO (err). */
int gw_audit__index_feed(const char *logdir, const struct audit_index_feed *f,
                         struct gw_error *err);
/* The index as a source of perfect-subtree roots for proofs (valid until closed). */
void gw_audit__index_source(struct audit_index *x, struct gw_merkle_source *src);
/* Empties it (it disagreed with a signed checkpoint: the next open rebuilds it). */
int gw_audit__index_drop(struct audit_index *x);
void gw_audit__index_close(struct audit_index *x);

/* ---- the S3 shipper (audit_s3.c) ---- */
struct audit_shipper;
/* Starts the shipper of the log in `logdir` (`log_id`) with the archive, retention and
 * database-copy settings of `c` (copied). */
int gw_audit__shipper_start(const struct gw_audit_config *c, const char *logdir,
                            const char *log_id, struct audit_shipper **out,
                            struct gw_error *err);
/* Wakes the shipper (a segment closed or a checkpoint was written). */
void gw_audit__shipper_kick(struct audit_shipper *s);
/* The log was closed cleanly at `size` records: once its last segment is shipped, the
 * database learns that the archive holds all of it. */
void gw_audit__shipper_final(struct audit_shipper *s, uint64_t size);
/* Stops it: its last pass uploads what is left for up to `grace_ms` (then it is left for the
 * next run of this log). */
void gw_audit__shipper_stop(struct audit_shipper *s, unsigned grace_ms);
void gw_audit__shipper_stats(struct audit_shipper *s, unsigned long long *shipped,
                             unsigned long long *errors, unsigned long long *backlog,
                             long long *oldest_unix);
/* The upkeep's counters (zeros without a database copy). */
void gw_audit__shipper_upkeep_stats(struct audit_shipper *s, unsigned long long *pruned,
                                    unsigned long long *salvaged, unsigned long long *errors);

/* ---- the upkeep of the PostgreSQL copy (audit_upkeep.c; on the shipper's thread) ---- */
struct audit_upkeep;
/* `days`: GW_AUDIT_DATABASE_RETENTION_DAYS (0: no pruning); `every_s`: between maintenance
 * passes. */
struct audit_upkeep *gw_audit__upkeep_new(const char *url, unsigned days, unsigned every_s);
void gw_audit__upkeep_free(struct audit_upkeep *u);
/* Records that the archive holds the records [0, upto) of `log_id` and `header` (NULL: none),
 * the first line of the segment that starts at upto; when that changed, and at least once a
 * minute (the heartbeat that tells a live replica from a dead one). Failures are logged. */
void gw_audit__upkeep_publish(struct audit_upkeep *u, const char *log_id, uint64_t upto,
                              const char *header);
/* Seconds until the next maintenance pass is due. */
unsigned gw_audit__upkeep_wait_s(const struct audit_upkeep *u);
/* Starts the maintenance pass when it is due and this replica gets its lock (true: call
 * gw_audit__upkeep_end after the pass). */
bool gw_audit__upkeep_begin(struct audit_upkeep *u);
void gw_audit__upkeep_end(struct audit_upkeep *u);
/* A log whose replica stopped without closing it: records [from, to) are in the database only,
 * from the segment whose first line was `header`. */
struct audit_orphan {
    char log_id[80];
    uint64_t from, to;
    char *header;
};
/* Such logs other than `self`, silent for `after_s` seconds (gw_audit__upkeep_orphans_free). */
int gw_audit__upkeep_orphans(struct audit_upkeep *u, const char *self, unsigned after_s,
                             struct audit_orphan **out, size_t *n);
void gw_audit__upkeep_orphans_free(struct audit_orphan *o, size_t n);
/* Writes the orphan's missing segment (<segdir>/<from:020>.jsonl: its header and rows) and
 * the checkpoints signed over them (<cpdir>/<size:020>.cp) from the database. */
int gw_audit__upkeep_rebuild(struct audit_upkeep *u, const struct audit_orphan *o,
                             const char *segdir, const char *cpdir, struct gw_error *err);
/* Records that the archive now holds the orphan whole. */
int gw_audit__upkeep_salvaged(struct audit_upkeep *u, const struct audit_orphan *o);
/* What this replica's upkeep did: rows pruned, logs salvaged, failed attempts. */
void gw_audit__upkeep_stats(struct audit_upkeep *u, unsigned long long *pruned,
                            unsigned long long *salvaged, unsigned long long *errors);
/* Prunes every log (with a retention, during a pass); stopping(ud) ends it early. */
void gw_audit__upkeep_prune(struct audit_upkeep *u, bool (*stopping)(void *), void *ud);

struct pg_conn;
struct pg_result;
/* The unsigned integer in row `row`, column `col` of a result (NULL or not a number: 0). */
uint64_t gw_audit__pg_u64(const struct pg_result *r, int row, int col);
/* The stored summary of what the retention deleted of a log below `below` (its pruned_header,
 * NULL when none): true when it parses as a segment header that starts at `below` (only then
 * may proofs and readers build on it; audit_pg_read.c). */
bool gw_audit__pruned_header(const char *text, size_t len, uint64_t below,
                             struct audit_seg_header *out);
/* Writes the checkpoints of `log_id` in the database whose size is in (above, upto] (-1,
 * INT64_MAX: all) to <cpdir>/<size:020>.cp, as signed (audit_pg_read.c). */
int gw_audit__pg_checkpoints_to(struct pg_conn *c, const char *log_id, int64_t above,
                                int64_t upto, const char *cpdir, struct gw_error *err);
/* libpq's last message for `c` without its trailing newline (it names the host, never the
 * password), in buf; returns buf (audit_pg.c). */
const char *gw_audit__pg_message(const struct pg_conn *c, char *buf, size_t size);
/* Calls fn(ud, seq, line, len, err) for each row of `log_id` with seq in [from, to), in order,
 * in batches (audit_pg_read.c); stops at the first code fn returns other than GW_OK. */
typedef int (*gw_audit__row_fn)(void *ud, uint64_t seq, const char *line, size_t len,
                                struct gw_error *err);
int gw_audit__pg_rows(struct pg_conn *c, const char *log_id, uint64_t from, uint64_t to,
                      gw_audit__row_fn fn, void *ud, struct gw_error *err);

/* ---- the PostgreSQL copy (audit_pg.c) ---- */
struct audit_pg;
int gw_audit__pg_open(const char *url, const char *log_id, const char *origin,
                      struct audit_pg **out, struct gw_error *err);
/* Inserts records [first, first+n) (lines without newline) in one transaction. */
int gw_audit__pg_insert(struct audit_pg *pg, uint64_t first, const char *const *lines,
                        const size_t *lens, size_t n, struct gw_error *err);
int gw_audit__pg_checkpoint(struct audit_pg *pg, uint64_t size, const char *note, size_t n,
                            struct gw_error *err);
/* The number of records of this log already in the database (to re-insert what is missing
 * after a crash between the file and the database). */
int gw_audit__pg_size(struct audit_pg *pg, uint64_t *out, struct gw_error *err);
void gw_audit__pg_close(struct audit_pg *pg);

/* SQL over audit_records.event shared by the PostgreSQL copy's indexes (audit_pg.c) and the
 * reads that use them (audit_pg_read.c): the event's time in byte order, and the console's
 * decision of an event — the SQL twin of gw_audit_decision (audit_read.c), kept identical by
 * test_decision and tests/integration/74-audit-pg.test.mjs. An index only serves a query whose
 * expression is the same text, so both files use these. */
#define AUDIT_SQL_TS "(event->>'ts') COLLATE \"C\""
#define AUDIT_SQL_DECISION                                                                       \
    "CASE WHEN event->>'kind' = 'admin' THEN 'admin' "                                          \
    "WHEN event->>'kind' = 'transport' THEN 'reject' "                                          \
    "WHEN event->>'outcome' = 'refused' THEN 'deny' "                                           \
    "ELSE coalesce(jsonb_path_query_first(event, '$.decisions[*] ? (@.verdict == \"deny\" || "  \
    "@.verdict == \"error\").verdict') #>> '{}', CASE WHEN jsonb_path_exists(event, "           \
    "'$.decisions[*] ? (@.verdict == \"dry_run_deny\")') THEN 'dry_run_deny' ELSE 'allow' END) " \
    "END"

/* The folders of an exported log: <outdir>/<name>/{segments,checkpoints}, created. The log
 * folder must not exist yet: an export never mixes with an older one (a segment exported open
 * then and closed now would stand twice). audit_read.c; used by both exports. */
struct audit_export_dirs {
    char log[4400], seg[4500], cp[4500];
};
int gw_audit__export_layout(const char *outdir, const char *name, struct audit_export_dirs *d,
                            struct gw_error *err);

/* A hash as the JSON string of its standard base64 (proofs, reports). audit_read.c. */
json_t *gw_audit__hash_json(const gw_hash h);

/* The subject as the PII masker would have written it into records (its pseudonym), when the
 * masker changes it; false when it does not (or pii is NULL). audit_read.c. */
struct gw_pii;
bool gw_audit__subject_masked(const struct gw_pii *pii, const char *subject, char *out,
                              size_t size);

#endif
