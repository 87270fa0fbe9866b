/*
 * src/audit/audit_log.c
 * The log writer: recovery at open, the queue, the group-commit writer thread, checkpoints and
 * segment rotation (the model is described in audit.h, the layout in audit_internal.h).
 *
 * Writer thread states:
 *   IDLE --records queued--> COMMIT: build lines (seq, prev, leaf hash, compact range), one
 *     write(2), fdatasync(2), PostgreSQL insert --ok--> done callbacks --> IDLE
 *                                                --fail--> truncate back, restore the tree,
 *     HEALTHY=false, back off (10 ms .. 1 s), retry the same batch (its callers keep waiting:
 *     a response is never released without its record)
 *   after a commit: checkpoint if events/seconds are due; rotate if the segment is too big or
 *   too old (checkpoint at the boundary, rename .open -> closed, new .open with its header,
 *   remove the checkpoint files signed inside the closed segment: GW_AUDIT_LOCAL_CHECKPOINTS;
 *   at open a one-off background thread removes those an earlier run left).
 * Invariants: (1) a done(GW_OK) is called only after its record is durable under the sync
 * policy; (2) records are numbered 0,1,2,... without gaps within a log; (3) checkpoints only
 * cover durable records and their sizes never decrease; (4) at most one .open segment exists;
 * (5) the open segment holds the header and whole records up to seg_bytes, then only zero
 * bytes up to seg_filled (its size); closed segments end with their last record.
 *
 * Prefill (fdatasync only): appending to a file changes its size, and on ext4/XFS fdatasync
 * then commits the file system journal as well: on the benchmark's VM twice the latency and
 * CPU of a commit and four sleeps instead of two. So, as database logs do, the writer keeps
 * AUDIT_PREFILL bytes of zeros written ahead of the records (after a commit, off the records'
 * path) and records overwrite them in place: most commits change no metadata. Readers stop at
 * the first NUL byte of the open segment; recovery and close cut the file back to its records.
 *
 * Also the file helpers the audit files share: atomic writes, and the segment writer of the
 * export from the database and of the salvage's rebuild (a MiB held at a time).
 */
#include "audit/audit_internal.h"

#include "core/alloc.h"
#include "core/log.h"
#include "core/thread.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const double gw_audit_lag_buckets[12] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                         0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

struct item {
    struct item *next;
    gw_audit_done_fn done;
    void *arg;
    uint64_t t_enq_ns;
    size_t len;
    char ev[]; /* the canonical event */
};

struct gw_audit {
    struct gw_audit_config cfg;
    char *dir, *logdir, *segdir, *cpdir, *log_id, *origin, *pg_url;
    char *vkeys;
    struct gw_note_signer *signer;
    int lock_fd;

    /* queue */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct item *head, *tail;
    size_t qcount, qbytes;
    bool stop;
    pthread_t thread;
    bool running;

    /* writer state (writer thread only after open) */
    int fd;
    char segname[64];
    uint64_t seg_first;
    uint64_t seg_bytes;  /* end of the last whole record: where the next batch goes */
    uint64_t seg_filled; /* size of the open segment (>= seg_bytes; zeros beyond seg_bytes) */
    time_t seg_opened;
    struct gw_merkle_range range;
    gw_hash prev;
    bool has_prev;
    uint64_t cp_size;
    time_t cp_time;
    struct gw_buf wbuf;
    /* the leaf hashes of records [ix_first, ix_first + ix_n) not fed to the proof index yet
     * (feed_index: at each checkpoint; at most AUDIT_INDEX_FEED_MAX) */
    gw_hash *ix_leaves;
    size_t ix_n, ix_cap;
    uint64_t ix_first;
    /* and the roots of the 256-leaf subtrees completed meanwhile (the index's level 1), which
     * the tree's merges compute anyway: blocks [ix_sub_first, ix_sub_first + ix_nsub) */
    gw_hash ix_sub[AUDIT_INDEX_FEED_MAX / 256];
    size_t ix_nsub;
    uint64_t ix_sub_first;
    struct audit_pg *pg;
    struct audit_shipper *shipper;
    pthread_t thin_thread; /* the first thinning pass (thin_main) */
    bool thin_started;
    atomic_bool thin_stop, thin_done;

    gw_hash head_hash; /* leaf hash of the last durable record (under lock) */
    uint64_t head_size;
    /* stats */
    atomic_ullong records, bytes, batches, checkpoints, write_errors, rejected, pii;
    atomic_ullong lag_sum, lag_count, lag_bucket[12];
    atomic_ullong size_now, cp_size_now;
    atomic_llong cp_unix;
    atomic_bool healthy;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static char *path_join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = gw_xmalloc(n);
    snprintf(p, n, "%s/%s", a, b);
    return p;
}

/* ---- files ------------------------------------------------------------------------------- */

/* nftw: removes one entry (children first) */
static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void gw_audit_remove_folder(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int gw_audit__mkdirs(const char *path, struct gw_error *err)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
        return GW_ERROR_SET(err, GW_EINVAL, "audit path too long");
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
            goto fail;
        *p = '/';
    }
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
        goto fail;
    return GW_OK;
fail:;
    char eb[128];
    return GW_ERROR_SET(err, GW_EIO, "audit: cannot create %s: %s", tmp,
                        gw_strerror(errno, eb, sizeof(eb)));
}

int gw_audit__fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return GW_EIO;
    int rc = fsync(fd) == 0 ? GW_OK : GW_EIO;
    close(fd);
    return rc;
}

int gw_audit__write_at(int fd, const char *p, size_t n, int64_t off)
{
    while (n) {
        ssize_t w = off < 0 ? write(fd, p, n) : pwrite(fd, p, n, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return GW_EIO;
        p += w;
        n -= (size_t)w;
        if (off >= 0)
            off += w;
    }
    return GW_OK;
}

static int write_all(int fd, const char *p, size_t n)
{
    return gw_audit__write_at(fd, p, n, -1);
}

/* The temporary file of an atomic write of <dir>/<name>: <dir>/.<name>.tmp. */
static void tmp_path(const char *dir, const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s/.%s.tmp", dir, name);
}

/* Opens (created, emptied) the temporary file of an atomic write of <dir>/<name>: its
 * descriptor, or -1 with err set. */
static int atomic_open(const char *dir, const char *name, int mode, struct gw_error *err)
{
    char tmp[PATH_MAX], eb[128];
    tmp_path(dir, name, tmp, sizeof(tmp));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        GW_ERROR_SET(err, GW_EIO, "audit: %s: %s", tmp, gw_strerror(errno, eb, sizeof(eb)));
    return fd;
}

/* Ends an atomic write of <dir>/<name> into atomic_open's `fd` (closed here). `written`: every
 * byte went out; the file is then made durable under its name (fsync, rename, fsync of the
 * folder). When not, or when that fails, the temporary file is removed and err says that
 * <dir>/<name> could not be written (GW_EIO). */
static int atomic_commit(int fd, bool written, const char *dir, const char *name,
                         struct gw_error *err)
{
    char tmp[PATH_MAX], fin[PATH_MAX], eb[128];
    tmp_path(dir, name, tmp, sizeof(tmp));
    snprintf(fin, sizeof(fin), "%s/%s", dir, name);
    int rc = written ? GW_OK : GW_EIO;
    if (rc == GW_OK && fsync(fd) != 0)
        rc = GW_EIO;
    close(fd);
    if (rc == GW_OK && rename(tmp, fin) != 0)
        rc = GW_EIO;
    if (rc == GW_OK)
        rc = gw_audit__fsync_dir(dir);
    if (rc != GW_OK) {
        unlink(tmp);
        return GW_ERROR_SET(err, GW_EIO, "audit: writing %s: %s", fin,
                            gw_strerror(errno, eb, sizeof(eb)));
    }
    return GW_OK;
}

int gw_audit__write_file_atomic(const char *dir, const char *name, const char *data, size_t n,
                                int mode, struct gw_error *err)
{
    int fd = atomic_open(dir, name, mode, err);
    if (fd < 0)
        return GW_EIO;
    return atomic_commit(fd, write_all(fd, data, n) == GW_OK, dir, name, err);
}

int gw_audit__seg_writer_open(struct audit_seg_writer *w, const char *dir, uint64_t first,
                              bool atomic, const char *header, size_t n, struct gw_error *err)
{
    memset(w, 0, sizeof(*w));
    w->dir = dir;
    w->atomic = atomic;
    w->next = first;
    snprintf(w->name, sizeof(w->name), "%020" PRIu64 ".jsonl", first);
    if (atomic) {
        w->fd = atomic_open(dir, w->name, 0644, err);
    } else {
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/%s", dir, w->name);
        w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (w->fd < 0)
            GW_ERROR_SET(err, GW_EIO, "cannot create %s", path);
    }
    if (w->fd < 0)
        return GW_EIO;
    gw_buf_init(&w->b, SIZE_MAX);
    gw_buf_add(&w->b, header, n);
    gw_buf_addc(&w->b, '\n');
    return GW_OK;
}

/* Writes out the text held. On a failure an atomic segment's temporary file is removed (and
 * its descriptor closed: fd -1); a segment written in place is left as it is. */
static int seg_writer_flush(struct audit_seg_writer *w, struct gw_error *err)
{
    if (gw_audit__write_at(w->fd, gw_buf_ptr(&w->b), gw_buf_len(&w->b), -1) == GW_OK) {
        gw_buf_reset(&w->b);
        return GW_OK;
    }
    if (!w->atomic)
        return GW_ERROR_SET(err, GW_EIO, "cannot write the rebuilt segment");
    int rc = atomic_commit(w->fd, false, w->dir, w->name, err);
    w->fd = -1;
    return rc;
}

int gw_audit__seg_writer_append(void *ud, uint64_t seq, const char *line, size_t len,
                                struct gw_error *err)
{
    struct audit_seg_writer *w = ud;
    if (seq != w->next)
        return GW_ERROR_SET(err, GW_ECONFLICT, "the database lacks record %" PRIu64, w->next);
    gw_buf_add(&w->b, line, len);
    gw_buf_addc(&w->b, '\n');
    w->next++;
    return gw_buf_len(&w->b) >= AUDIT_SEG_WRITER_FLUSH ? seg_writer_flush(w, err) : GW_OK;
}

int gw_audit__seg_writer_close(struct audit_seg_writer *w, int rc, struct gw_error *err)
{
    if (rc == GW_OK && w->fd >= 0)
        rc = seg_writer_flush(w, err);
    if (w->fd >= 0 && w->atomic && rc == GW_OK) {
        rc = atomic_commit(w->fd, true, w->dir, w->name, err);
    } else if (w->fd >= 0) {
        close(w->fd);
        if (w->atomic) { /* the caller's error: nothing of the segment stays */
            char tmp[PATH_MAX];
            tmp_path(w->dir, w->name, tmp, sizeof(tmp));
            unlink(tmp);
        }
    }
    w->fd = -1;
    gw_buf_fini(&w->b);
    return rc;
}

int gw_audit__read_file(const char *path, size_t max, char **out, size_t *n,
                        struct gw_error *err)
{
    *out = NULL;
    *n = 0;
    char eb[128];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return GW_ERROR_SET(err, errno == ENOENT ? GW_ENOTFOUND : GW_EIO, "%s: %s", path,
                            gw_strerror(errno, eb, sizeof(eb)));
    struct stat st;
    if (fstat(fd, &st) != 0 || (size_t)st.st_size > max) {
        close(fd);
        return GW_ERROR_SET(err, GW_ELIMIT, "%s: larger than %zu bytes", path, max);
    }
    char *buf = gw_xmalloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    buf[got] = '\0';
    *out = buf;
    *n = got;
    return GW_OK;
}

static int cmp_seg(const void *a, const void *b)
{
    const struct audit_seg *x = a, *y = b;
    return x->first < y->first ? -1 : x->first > y->first;
}

static bool parse_u64_name(const char *s, size_t digits, uint64_t *out)
{
    uint64_t v = 0;
    for (size_t i = 0; i < digits; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return true;
}

int gw_audit__list_segments(const char *logdir, struct audit_seg **out, size_t *n,
                            struct gw_error *err)
{
    *out = NULL;
    *n = 0;
    char *dir = path_join(logdir, AUDIT_SEG_DIR);
    DIR *d = opendir(dir);
    gw_free(dir);
    if (!d)
        return errno == ENOENT ? GW_OK : GW_ERROR_SET(err, GW_EIO, "audit: cannot list segments");
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        struct audit_seg s = {0};
        if (l == 26 && strcmp(e->d_name + 20, ".jsonl") == 0)
            s.open = false;
        else if (l == 31 && strcmp(e->d_name + 20, ".jsonl.open") == 0)
            s.open = true;
        else
            continue;
        if (!parse_u64_name(e->d_name, 20, &s.first))
            continue;
        snprintf(s.name, sizeof(s.name), "%.40s", e->d_name);
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *out = gw_xrealloc(*out, cap * sizeof(**out));
        }
        (*out)[(*n)++] = s;
    }
    closedir(d);
    if (*n)
        qsort(*out, *n, sizeof(**out), cmp_seg);
    return GW_OK;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int gw_audit__list_checkpoints(const char *logdir, uint64_t **out, size_t *n,
                               struct gw_error *err)
{
    *out = NULL;
    *n = 0;
    char *dir = path_join(logdir, AUDIT_CP_DIR);
    DIR *d = opendir(dir);
    gw_free(dir);
    if (!d)
        return errno == ENOENT ? GW_OK
                               : GW_ERROR_SET(err, GW_EIO, "audit: cannot list checkpoints");
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        uint64_t v;
        if (strlen(e->d_name) != 23 || strcmp(e->d_name + 20, ".cp") != 0 ||
            !parse_u64_name(e->d_name, 20, &v))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            *out = gw_xrealloc(*out, cap * sizeof(**out));
        }
        (*out)[(*n)++] = v;
    }
    closedir(d);
    if (*n)
        qsort(*out, *n, sizeof(**out), cmp_u64);
    return GW_OK;
}

static bool has_u64(const uint64_t *v, size_t n, uint64_t x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && v[lo] == x;
}

bool gw_audit__checkpoint_redundant(uint64_t size, const struct audit_seg *segs, size_t nseg,
                                    const uint64_t *cps, size_t ncp)
{
    /* segment i (closed) holds records [segs[i].first, segs[i + 1].first) */
    for (size_t i = 0; i + 1 < nseg; i++) {
        if (segs[i].open || size <= segs[i].first)
            continue;
        uint64_t end = segs[i + 1].first;
        if (size < end)
            return has_u64(cps, ncp, end);
    }
    return false;
}

/* Removes the checkpoint files made redundant by closed segments (GW_AUDIT_LOCAL_CHECKPOINTS=
 * boundaries, without the archive: its shipper removes them once acknowledged). Closed
 * segments never change, so this may run beside the writer. Best effort: a file that stays is
 * removed by a later pass, and no reader needs it gone. Stops early when *stop is set. */
static size_t thin_checkpoints(const char *logdir, const char *cpdir, const atomic_bool *stop)
{
    struct audit_seg *segs = NULL;
    uint64_t *cps = NULL;
    size_t nseg = 0, ncp = 0, removed = 0;
    if (gw_audit__list_segments(logdir, &segs, &nseg, NULL) == GW_OK &&
        gw_audit__list_checkpoints(logdir, &cps, &ncp, NULL) == GW_OK) {
        for (size_t i = 0; i < ncp && !(stop && atomic_load(stop)); i++) {
            if (!gw_audit__checkpoint_redundant(cps[i], segs, nseg, cps, ncp))
                continue;
            char name[64];
            snprintf(name, sizeof(name), "%020llu.cp", (unsigned long long)cps[i]);
            char *path = path_join(cpdir, name);
            removed += unlink(path) == 0;
            gw_free(path);
        }
    }
    gw_free(segs);
    gw_free(cps);
    return removed;
}

/* At open: what an earlier run (or GW_AUDIT_LOCAL_CHECKPOINTS=all) left, in the background (a
 * log kept whole for a year holds millions of files: minutes of unlink(2), not the start's or
 * the writer's business). Rotations thin synchronously once this pass is done. */
static void *thin_main(void *arg)
{
    gw_thread_init_self("gw-audit-thin", GW_THREAD_BACKGROUND);
    struct gw_audit *a = arg;
    size_t removed = thin_checkpoints(a->logdir, a->cpdir, &a->thin_stop);
    if (removed)
        GW_LOG(GW_LOG_INFO, "audit", "removed %zu checkpoint files inside closed segments "
                                     "(GW_AUDIT_LOCAL_CHECKPOINTS=boundaries)", removed);
    if (!atomic_load(&a->thin_stop))
        atomic_store(&a->thin_done, true);
    return NULL;
}

/* ---- framing ----------------------------------------------------------------------------- */

int gw_audit__format_record(const char *event, size_t len, uint64_t seq, const gw_hash prev,
                            bool has_prev, struct gw_buf *out)
{
    char p[AUDIT_B64_HASH] = "";
    if (has_prev)
        gw_note_b64(prev, GW_HASH_LEN, p);
    /* keys in JCS order: event < prev < seq; the event is already canonical */
    int rc = gw_buf_adds(out, "{\"event\":");
    if (rc == GW_OK)
        rc = gw_buf_add(out, event, len);
    if (rc == GW_OK)
        rc = gw_buf_printf(out, ",\"prev\":\"%s\",\"seq\":%llu}\n", p, (unsigned long long)seq);
    return rc;
}

int gw_audit__format_header(const char *origin, const struct gw_merkle_range *range,
                            const gw_hash prev, bool has_prev, struct gw_buf *out)
{
    json_t *h = json_object();
    json_object_set_new(h, "audit_segment", json_integer(1));
    json_object_set_new(h, "first", json_integer((json_int_t)range->size));
    json_object_set_new(h, "origin", json_string(origin));
    char b[AUDIT_B64_HASH] = "";
    if (has_prev)
        gw_note_b64(prev, GW_HASH_LEN, b);
    json_object_set_new(h, "prev", json_string(b));
    json_t *r = json_array();
    for (unsigned i = 0; i < range->n; i++) {
        gw_note_b64(range->h[i], GW_HASH_LEN, b);
        json_array_append_new(r, json_string(b));
    }
    json_object_set_new(h, "range", r);
    char *s = json_dumps(h, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(h);
    int rc = s ? gw_buf_adds(out, s) : GW_ENOMEM;
    if (rc == GW_OK)
        rc = gw_buf_addc(out, '\n');
    free(s); /* checksrc: allow (jansson's allocator) */
    return rc;
}

static bool b64_hash(const char *s, gw_hash out)
{
    return s && gw_note_unb64(s, strlen(s), out, GW_HASH_LEN) == GW_HASH_LEN;
}

int gw_audit__parse_header(const char *line, size_t n, struct audit_seg_header *h,
                           struct gw_error *err)
{
    memset(h, 0, sizeof(*h));
    json_error_t je;
    json_t *v = json_loadb(line, n, 0, &je);
    json_t *r = json_object_get(v, "range");
    json_t *f = json_object_get(v, "first");
    const char *prev = json_string_value(json_object_get(v, "prev"));
    const char *origin = json_string_value(json_object_get(v, "origin"));
    int rc = GW_OK;
    if (!v || json_integer_value(json_object_get(v, "audit_segment")) != 1 ||
        !json_is_integer(f) || json_integer_value(f) < 0 || !json_is_array(r) || !prev ||
        !origin || json_array_size(r) > 64) {
        rc = GW_ERROR_SET(err, GW_EINVAL, "not a segment header");
        goto out;
    }
    h->first = (uint64_t)json_integer_value(f);
    snprintf(h->origin, sizeof(h->origin), "%s", origin);
    h->has_prev = prev[0] != '\0';
    if (h->has_prev && !b64_hash(prev, h->prev)) {
        rc = GW_ERROR_SET(err, GW_EINVAL, "segment header: bad prev hash");
        goto out;
    }
    gw_hash hs[64];
    size_t k = json_array_size(r);
    for (size_t i = 0; i < k; i++) {
        if (!b64_hash(json_string_value(json_array_get(r, i)), hs[i])) {
            rc = GW_ERROR_SET(err, GW_EINVAL, "segment header: bad range hash");
            goto out;
        }
    }
    if (!gw_merkle_range_set(&h->range, h->first, (const gw_hash *)hs, (unsigned)k) ||
        h->has_prev != (h->first > 0))
        rc = GW_ERROR_SET(err, GW_EINVAL, "segment header: range does not fit its first index");
out:
    json_decref(v);
    return rc;
}

/* ---- recovery ---------------------------------------------------------------------------- */

/* The latest checkpoint, opened with our own verifier key. */
static int latest_checkpoint(struct gw_audit *a, struct gw_checkpoint *cp, bool *found,
                             struct gw_error *err)
{
    *found = false;
    uint64_t *sizes = NULL;
    size_t n = 0;
    int rc = gw_audit__list_checkpoints(a->logdir, &sizes, &n, err);
    if (rc != GW_OK || n == 0) {
        gw_free(sizes);
        return rc;
    }
    struct gw_note_verifier *v = NULL;
    rc = gw_note_verifier_new(gw_note_signer_vkey(a->signer), &v, err);
    /* newest first; a checkpoint signed by an older (rotated) key is accepted by size only */
    for (size_t i = n; rc == GW_OK && i-- > 0;) {
        char name[PATH_MAX], *text = NULL;
        size_t tl = 0;
        snprintf(name, sizeof(name), "%s/%020llu.cp", a->cpdir, (unsigned long long)sizes[i]);
        if (gw_audit__read_file(name, 65536, &text, &tl, err) != GW_OK)
            continue;
        struct gw_error e2 = {0};
        int orc = gw_note_open_checkpoint(text, tl, &v, 1, cp, &e2);
        gw_free(text);
        if (orc == GW_OK || orc == GW_EDENIED) {
            if (orc == GW_EDENIED)
                GW_LOG(GW_LOG_WARN, "audit",
                       "checkpoint %llu is not signed by the current key (rotated key?)",
                       (unsigned long long)sizes[i]);
            *found = true;
            break;
        }
        GW_LOG(GW_LOG_WARN, "audit", "ignoring malformed checkpoint %s: %s", name, e2.msg);
    }
    gw_note_verifier_free(v);
    gw_free(sizes);
    return rc;
}

/* Opens the last segment, replays it into the tree, truncates a torn tail. */
static int recover(struct gw_audit *a, struct gw_error *err)
{
    struct audit_seg *segs = NULL;
    size_t nseg = 0;
    int rc = gw_audit__list_segments(a->logdir, &segs, &nseg, err);
    if (rc != GW_OK)
        return rc;
    gw_merkle_range_init(&a->range);
    a->has_prev = false;
    a->fd = -1;
    if (nseg == 0) {
        gw_free(segs);
        return GW_OK;
    }
    for (size_t i = 0; i + 1 < nseg; i++) {
        if (segs[i].open) {
            gw_free(segs);
            return GW_ERROR_SET(err, GW_EIO,
                                "audit log %s: an open segment %s is not the last one: the log "
                                "is damaged (run mcpgw audit verify)",
                                a->logdir, segs[i].name);
        }
    }
    struct audit_seg last = segs[nseg - 1];
    gw_free(segs);
    char *path = path_join(a->segdir, last.name);
    char *data = NULL;
    size_t n = 0;
    rc = gw_audit__read_file(path, (size_t)1 << 40, &data, &n, err);
    if (rc != GW_OK) {
        gw_free(path);
        return rc;
    }
    size_t size = n; /* the file's size; an open segment's data ends at its first NUL byte */
    const char *nul = last.open ? memchr(data, '\0', n) : NULL;
    if (nul)
        n = (size_t)(nul - data);
    const char *nl = memchr(data, '\n', n);
    if (!nl && last.open) {
        /* killed between creating the segment and its header reaching the disk (the header is
         * one line written before any record): nothing in it was ever acknowledged. Remove it
         * and recover from the segments before it; the writer creates it again. */
        GW_LOG(GW_LOG_WARN, "audit", "recovered %s: removed a segment whose header was never "
                                     "completed (%zu bytes, no record)", last.name, n);
        gw_free(data);
        if (unlink(path) != 0 || gw_audit__fsync_dir(a->segdir) != GW_OK) {
            rc = GW_ERROR_SET(err, GW_EIO, "audit segment %s: cannot remove it", path);
            gw_free(path);
            return rc;
        }
        gw_free(path);
        return recover(a, err); /* one segment fewer: bounded */
    }
    struct audit_seg_header h;
    if (!nl || gw_audit__parse_header(data, (size_t)(nl - data), &h, err) != GW_OK ||
        h.first != last.first) {
        rc = GW_ERROR_SET(err, GW_EIO, "audit segment %s: bad or missing header", path);
        goto out;
    }
    a->range = h.range;
    memcpy(a->prev, h.prev, GW_HASH_LEN);
    a->has_prev = h.has_prev;
    size_t off = (size_t)(nl - data) + 1, good = off;
    uint64_t seq = h.first;
    while (off < n) {
        const char *e = memchr(data + off, '\n', n - off);
        if (!e)
            break; /* torn last line */
        size_t ll = (size_t)(e - data) - off;
        json_error_t je;
        json_t *rec = json_loadb(data + off, ll, 0, &je);
        json_t *s = json_object_get(rec, "seq");
        const char *pv = json_string_value(json_object_get(rec, "prev"));
        gw_hash ph;
        bool chain_ok = pv && ((!a->has_prev && !pv[0]) || (a->has_prev && b64_hash(pv, ph) &&
                                                             !memcmp(ph, a->prev, GW_HASH_LEN)));
        bool ok = rec && json_is_integer(s) && (uint64_t)json_integer_value(s) == seq && chain_ok;
        json_decref(rec);
        if (!ok) {
            if (e + 1 == data + n) /* the last line: a torn write that got its newline */
                break;
            rc = GW_ERROR_SET(err, GW_EIO,
                              "audit segment %s: record %llu does not follow the log (edited?): "
                              "refusing to continue it; run mcpgw audit verify",
                              path, (unsigned long long)seq);
            goto out;
        }
        gw_hash leaf;
        gw_merkle_leaf_hash(data + off, ll, leaf);
        gw_merkle_range_append(&a->range, leaf);
        memcpy(a->prev, leaf, GW_HASH_LEN);
        a->has_prev = true;
        seq++;
        off = (size_t)(e - data) + 1;
        good = off;
    }
    /* the tree must still match the latest signed checkpoint */
    struct gw_checkpoint cp;
    bool found = false;
    rc = latest_checkpoint(a, &cp, &found, err);
    if (rc != GW_OK)
        goto out;
    if (found) {
        if (cp.size > a->range.size) {
            rc = GW_ERROR_SET(err, GW_EIO,
                              "audit log %s: checkpoint %llu covers more records than the log "
                              "holds (%llu): truncated; refusing to continue it",
                              a->logdir, (unsigned long long)cp.size,
                              (unsigned long long)a->range.size);
            goto out;
        }
        a->cp_size = cp.size;
        if (cp.size >= h.first) {
            /* recompute the head at cp.size from the header and the replayed leaves */
            struct gw_merkle_range r2 = h.range;
            size_t o2 = (size_t)(nl - data) + 1;
            for (uint64_t k = h.first; k < cp.size; k++) {
                const char *e = memchr(data + o2, '\n', n - o2);
                gw_hash leaf;
                gw_merkle_leaf_hash(data + o2, (size_t)(e - data) - o2, leaf);
                gw_merkle_range_append(&r2, leaf);
                o2 = (size_t)(e - data) + 1;
            }
            gw_hash root;
            gw_merkle_range_root(&r2, root);
            if (memcmp(root, cp.root, GW_HASH_LEN) != 0) {
                rc = GW_ERROR_SET(err, GW_EIO,
                                  "audit log %s: the records no longer match signed checkpoint "
                                  "%llu: refusing to continue it; run mcpgw audit verify",
                                  a->logdir, (unsigned long long)cp.size);
                goto out;
            }
        }
    }
    if (last.open) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || (good < size && ftruncate(fd, (off_t)good) != 0) || fsync(fd) != 0) {
            if (fd >= 0)
                close(fd);
            rc = GW_ERROR_SET(err, GW_EIO, "audit segment %s: cannot reopen", path);
            goto out;
        }
        if (good < n)
            GW_LOG(GW_LOG_WARN, "audit", "recovered %s: dropped a torn last record (%zu bytes, "
                                         "never acknowledged)", last.name, n - good);
        a->fd = fd;
        snprintf(a->segname, sizeof(a->segname), "%s", last.name);
        a->seg_first = last.first;
        a->seg_bytes = good;
        a->seg_filled = good;
        a->seg_opened = time(NULL);
    }
    GW_LOG(GW_LOG_INFO, "audit", "log %s: %llu records, latest checkpoint %llu", a->origin,
           (unsigned long long)a->range.size, (unsigned long long)a->cp_size);
out:
    gw_free(data);
    gw_free(path);
    return rc;
}

/* ---- checkpoints and segments (writer thread, or open/close) ------------------------------ */

/* Keeps a record's leaf hash for the proof index, and the root of the 256 leaves it completes
 * (`sub`, NULL when it completes none); a few hundred KB at most: past AUDIT_INDEX_FEED_MAX,
 * or without memory, the feed starts again after the next checkpoint and the next proof
 * extends the index over the gap. The record is leaf a->range.size - 1 (appended already). */
static void keep_leaf(struct gw_audit *a, const gw_hash leaf, const gw_hash sub)
{
    if (a->ix_first == UINT64_MAX)
        return; /* overflowed: from the next checkpoint on */
    if (a->ix_n == a->ix_cap) {
        size_t cap = a->ix_cap ? a->ix_cap * 2 : 1024;
        gw_hash *p = cap <= AUDIT_INDEX_FEED_MAX ? gw_tryrealloc(a->ix_leaves, cap * sizeof(*p))
                                                 : NULL;
        if (!p) {
            a->ix_n = a->ix_nsub = 0; /* nothing kept is contiguous with what follows now */
            a->ix_first = UINT64_MAX;
            return;
        }
        a->ix_leaves = p;
        a->ix_cap = cap;
    }
    memcpy(a->ix_leaves[a->ix_n++], leaf, GW_HASH_LEN);
    /* n leaves complete at most ceil(n / 256) blocks: they fit (a full array would only leave
     * the last blocks to the index's own computation) */
    if (sub && a->ix_nsub < sizeof(a->ix_sub) / sizeof(a->ix_sub[0])) {
        if (!a->ix_nsub)
            a->ix_sub_first = a->range.size / 256 - 1;
        memcpy(a->ix_sub[a->ix_nsub++], sub, GW_HASH_LEN);
    }
}

/* Hands the leaves kept since the last feed, all signed now, to the proof index, so that a
 * proof never has to read months of records first (audit_index.c). Never waits: when a proof
 * holds the index they are kept for the next checkpoint; a gap (an index behind, dropped, or
 * an overflow here) is the next proof's to fill, and the feed starts again after it. */
static void feed_index(struct gw_audit *a)
{
    int rc = GW_ECONFLICT;
    struct gw_error err = {0};
    if (a->ix_first != UINT64_MAX && a->ix_n) {
        struct audit_index_feed f = {a->ix_first, (const gw_hash *)a->ix_leaves, a->ix_n,
                                     a->ix_sub_first, (const gw_hash *)a->ix_sub, a->ix_nsub};
        rc = gw_audit__index_feed(a->logdir, &f, &err);
    }
    if (rc == GW_AGAIN)
        return;
    if (rc == GW_EIO)
        GW_LOG(GW_LOG_DEBUG, "audit", "proof index not fed: %s", err.msg);
    a->ix_n = a->ix_nsub = 0;
    a->ix_first = a->range.size;
}

static int write_checkpoint(struct gw_audit *a, struct gw_error *err)
{
    gw_hash root;
    gw_merkle_range_root(&a->range, root);
    struct gw_buf b;
    gw_buf_init(&b, 4096);
    int rc = gw_note_sign_checkpoint(a->signer, a->origin, a->range.size, root, &b);
    char name[64];
    snprintf(name, sizeof(name), "%020llu.cp", (unsigned long long)a->range.size);
    if (rc == GW_OK)
        rc = gw_audit__write_file_atomic(a->cpdir, name, gw_buf_ptr(&b), gw_buf_len(&b), 0600,
                                         err);
    if (rc == GW_OK)
        rc = gw_audit__write_file_atomic(a->logdir, "checkpoint", gw_buf_ptr(&b), gw_buf_len(&b),
                                         0600, err);
    if (rc == GW_OK && a->pg)
        rc = gw_audit__pg_checkpoint(a->pg, a->range.size, gw_buf_ptr(&b), gw_buf_len(&b), err);
    gw_buf_fini(&b);
    if (rc == GW_OK) {
        a->cp_size = a->range.size;
        a->cp_time = time(NULL);
        atomic_fetch_add(&a->checkpoints, 1);
        atomic_store(&a->cp_size_now, a->cp_size);
        atomic_store(&a->cp_unix, (long long)a->cp_time);
        if (a->shipper)
            gw_audit__shipper_kick(a->shipper);
        feed_index(a);
    }
    return rc;
}

static int open_segment(struct gw_audit *a, struct gw_error *err)
{
    snprintf(a->segname, sizeof(a->segname), "%020llu.jsonl.open",
             (unsigned long long)a->range.size);
    char *path = path_join(a->segdir, a->segname);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    gw_free(path);
    char eb[128];
    if (fd < 0)
        return GW_ERROR_SET(err, GW_EIO, "audit: cannot create segment %s: %s", a->segname,
                            gw_strerror(errno, eb, sizeof(eb)));
    struct gw_buf b;
    gw_buf_init(&b, 8192);
    gw_audit__format_header(a->origin, &a->range, a->prev, a->has_prev, &b);
    int rc = write_all(fd, gw_buf_ptr(&b), gw_buf_len(&b));
    if (rc == GW_OK && fsync(fd) != 0)
        rc = GW_EIO;
    if (rc == GW_OK)
        rc = gw_audit__fsync_dir(a->segdir);
    a->seg_bytes = a->seg_filled = gw_buf_len(&b);
    gw_buf_fini(&b);
    if (rc != GW_OK) {
        close(fd);
        return GW_ERROR_SET(err, GW_EIO, "audit: cannot write segment header");
    }
    a->fd = fd;
    a->seg_first = a->range.size;
    a->seg_opened = time(NULL);
    return GW_OK;
}

/* Closes the open segment: checkpoint at its end, rename to its closed name. */
static int close_segment(struct gw_audit *a, struct gw_error *err)
{
    if (a->fd < 0)
        return GW_OK;
    int rc = GW_OK;
    if (a->cp_size != a->range.size)
        rc = write_checkpoint(a, err);
    if (rc != GW_OK)
        return rc;
    if (a->seg_filled > a->seg_bytes) { /* invariant 5: a closed segment ends with a record */
        char eb[128];
        if (ftruncate(a->fd, (off_t)a->seg_bytes) != 0 || fdatasync(a->fd) != 0)
            return GW_ERROR_SET(err, GW_EIO, "audit: cannot trim segment %s: %s", a->segname,
                                gw_strerror(errno, eb, sizeof(eb)));
        a->seg_filled = a->seg_bytes;
    }
    close(a->fd);
    a->fd = -1;
    char from[PATH_MAX], to[PATH_MAX];
    snprintf(from, sizeof(from), "%s/%s", a->segdir, a->segname);
    snprintf(to, sizeof(to), "%s/%020llu.jsonl", a->segdir, (unsigned long long)a->seg_first);
    if (rename(from, to) != 0 || gw_audit__fsync_dir(a->segdir) != GW_OK)
        return GW_ERROR_SET(err, GW_EIO, "audit: cannot close segment %s", a->segname);
    if (a->shipper)
        gw_audit__shipper_kick(a->shipper);
    else if (!a->cfg.keep_all_checkpoints && atomic_load(&a->thin_done))
        thin_checkpoints(a->logdir, a->cpdir, NULL);
    return GW_OK;
}

/* ---- the writer -------------------------------------------------------------------------- */

static void observe_lag(struct gw_audit *a, uint64_t lag_ns)
{
    atomic_fetch_add(&a->lag_sum, lag_ns / 1000);
    atomic_fetch_add(&a->lag_count, 1);
    double s = (double)lag_ns / 1e9;
    for (int i = 0; i < 12; i++) {
        if (s <= gw_audit_lag_buckets[i]) {
            atomic_fetch_add(&a->lag_bucket[i], 1);
            break;
        }
    }
}

/* Writes one batch durably. On failure the file and the tree are as before. */
static int commit(struct gw_audit *a, struct item *batch, size_t count, struct gw_error *err)
{
    struct gw_merkle_range saved = a->range;
    gw_hash saved_prev;
    memcpy(saved_prev, a->prev, GW_HASH_LEN);
    bool saved_has = a->has_prev;
    uint64_t first = a->range.size;
    size_t saved_ixn = a->ix_n, saved_nsub = a->ix_nsub;
    gw_buf_reset(&a->wbuf);
    const char **lines = count <= 256 ? NULL : gw_xmalloc(count * sizeof(*lines));
    const char *small_l[256];
    size_t small_n[256], *lens = count <= 256 ? small_n : gw_xmalloc(count * sizeof(*lens));
    size_t *offs = gw_xmalloc(count * sizeof(*offs));
    if (!lines)
        lines = small_l;
    int rc = GW_OK;
    size_t i = 0;
    struct item *it = batch;
    for (i = 0; i < count && rc == GW_OK; i++) {
        if (i)
            it = it->next; /* only links inside the batch: the last one may be changing */
        size_t start = gw_buf_len(&a->wbuf);
        rc = gw_audit__format_record(it->ev, it->len, a->range.size, a->prev, a->has_prev,
                                     &a->wbuf);
        if (rc != GW_OK)
            break;
        size_t ll = gw_buf_len(&a->wbuf) - start - 1;
        gw_hash leaf, sub;
        gw_merkle_leaf_hash(gw_buf_ptr(&a->wbuf) + start, ll, leaf);
        bool whole = gw_merkle_range_append_sub(&a->range, leaf, 8, sub); /* 2^8 = 256 */
        keep_leaf(a, leaf, whole ? sub : NULL);
        memcpy(a->prev, leaf, GW_HASH_LEN);
        a->has_prev = true;
        offs[i] = start;
        lens[i] = ll;
    }
    uint64_t before = a->seg_bytes;
    if (rc == GW_OK)
        rc = gw_audit__write_at(a->fd, gw_buf_ptr(&a->wbuf), gw_buf_len(&a->wbuf),
                                (int64_t)before);
    if (rc == GW_OK && a->cfg.sync == GW_AUDIT_SYNC_FDATASYNC && fdatasync(a->fd) != 0)
        rc = GW_EIO;
    if (rc == GW_OK && a->pg) {
        for (size_t k = 0; k < count; k++)
            lines[k] = gw_buf_ptr(&a->wbuf) + offs[k];
        rc = gw_audit__pg_insert(a->pg, first, lines, lens, count, err);
    }
    if (rc != GW_OK) {
        char eb[128];
        if (!err->msg[0])
            GW_ERROR_SET(err, GW_EIO, "audit: writing %s: %s", a->segname,
                         gw_strerror(errno, eb, sizeof(eb)));
        /* the batch's bytes (and the zeros after them) go: invariant 5 holds again */
        if (ftruncate(a->fd, (off_t)before) != 0)
            GW_LOG(GW_LOG_ERROR, "audit", "cannot truncate %s after a failed write", a->segname);
        a->seg_filled = before;
        a->range = saved;
        memcpy(a->prev, saved_prev, GW_HASH_LEN);
        a->has_prev = saved_has;
        a->ix_n = saved_ixn;
        a->ix_nsub = saved_nsub;
    } else {
        a->seg_bytes += gw_buf_len(&a->wbuf);
        if (a->seg_filled < a->seg_bytes)
            a->seg_filled = a->seg_bytes;
        atomic_fetch_add(&a->records, count);
        atomic_fetch_add(&a->bytes, gw_buf_len(&a->wbuf));
        atomic_fetch_add(&a->batches, 1);
        atomic_store(&a->size_now, a->range.size);
    }
    if (lines != small_l)
        gw_free((void *)lines);
    if (lens != small_n)
        gw_free(lens);
    gw_free(offs);
    return rc;
}

/* Keeps at least half of AUDIT_PREFILL zero bytes written ahead of the records (see the
 * file-top comment). Runs after a commit's callbacks: its cost is off the records' latency.
 * The zeros need not be durable: the next commit's fdatasync carries the new size, once per
 * AUDIT_PREFILL bytes instead of once per commit. A failure only means appending instead. */
static void prefill(struct gw_audit *a)
{
    if (a->fd < 0 || a->cfg.sync != GW_AUDIT_SYNC_FDATASYNC ||
        a->seg_filled - a->seg_bytes >= AUDIT_PREFILL / 2 ||
        a->seg_bytes >= a->cfg.segment_max_bytes)
        return;
    static const char zeros[65536];
    uint64_t off = a->seg_filled, end = a->seg_bytes + AUDIT_PREFILL;
    while (off < end) {
        size_t n = end - off < sizeof(zeros) ? (size_t)(end - off) : sizeof(zeros);
        if (gw_audit__write_at(a->fd, zeros, n, (int64_t)off) != GW_OK)
            break;
        off += n;
    }
    if (off > a->seg_filled) {
        /* start writing the zeros back now, so the next fdatasync finds less to do */
        (void)sync_file_range(a->fd, (off_t)a->seg_filled, (off_t)(off - a->seg_filled),
                              SYNC_FILE_RANGE_WRITE);
        a->seg_filled = off;
    }
}

static void periodic(struct gw_audit *a)
{
    struct gw_error err = {0};
    time_t now = time(NULL);
    bool due = a->range.size > a->cp_size &&
               (a->range.size - a->cp_size >= a->cfg.checkpoint_events ||
                now - a->cp_time >= (time_t)a->cfg.checkpoint_seconds);
    if (due && write_checkpoint(a, &err) != GW_OK)
        GW_LOG(GW_LOG_ERROR, "audit", "checkpoint: %s", err.msg);
    bool rotate = a->fd >= 0 && a->range.size > a->seg_first &&
                  (a->seg_bytes >= a->cfg.segment_max_bytes ||
                   now - a->seg_opened >= (time_t)a->cfg.segment_max_seconds);
    if (rotate) {
        if (close_segment(a, &err) != GW_OK || open_segment(a, &err) != GW_OK)
            GW_LOG(GW_LOG_ERROR, "audit", "segment rotation: %s", err.msg);
    }
}

static void *writer_main(void *arg)
{
    gw_thread_init_self("gw-audit", GW_THREAD_BACKGROUND);
    struct gw_audit *a = arg;
    unsigned backoff_ms = 10;
    for (;;) {
        pthread_mutex_lock(&a->lock);
        if (!a->head && !a->stop) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1;
            pthread_cond_timedwait(&a->cond, &a->lock, &ts);
        }
        struct item *batch = a->head;
        size_t count = a->qcount;
        bool stopping = a->stop;
        pthread_mutex_unlock(&a->lock);
        if (batch) {
            struct gw_error err = {0};
            if (a->fd < 0 && open_segment(a, &err) != GW_OK) {
                GW_LOG(GW_LOG_ERROR, "audit", "%s", err.msg);
            } else if (commit(a, batch, count, &err) == GW_OK) {
                /* take exactly the committed items off the queue */
                pthread_mutex_lock(&a->lock);
                struct item *it = a->head;
                for (size_t k = 0; k < count; k++) {
                    a->qbytes -= it->len;
                    it = it->next;
                }
                a->head = it;
                if (!it)
                    a->tail = NULL;
                a->qcount -= count;
                memcpy(a->head_hash, a->prev, GW_HASH_LEN);
                a->head_size = a->range.size;
                pthread_mutex_unlock(&a->lock);
                uint64_t now = now_ns();
                struct item *x = batch;
                for (size_t k = 0; k < count; k++) {
                    struct item *next = k + 1 < count ? x->next : NULL;
                    observe_lag(a, now - x->t_enq_ns);
                    if (x->done)
                        x->done(x->arg, GW_OK);
                    gw_free(x);
                    x = next;
                }
                if (!atomic_load(&a->healthy))
                    GW_LOG(GW_LOG_INFO, "audit", "the audit trail is writable again");
                atomic_store(&a->healthy, true);
                backoff_ms = 10;
                periodic(a);
                prefill(a);
                continue;
            }
            /* the batch stays queued: retry after a pause, callers keep waiting */
            atomic_fetch_add(&a->write_errors, 1);
            if (atomic_exchange(&a->healthy, false))
                GW_LOG(GW_LOG_ERROR, "audit", "cannot commit audit records (responses are held, "
                                              "new calls refused): %s", err.msg);
            if (stopping && backoff_ms >= 1000)
                break; /* shutting down with a broken disk: give up (nothing is released) */
            struct timespec d = {0, (long)backoff_ms * 1000000L};
            nanosleep(&d, NULL);
            backoff_ms = backoff_ms * 2 > 1000 ? 1000 : backoff_ms * 2;
            continue;
        }
        periodic(a);
        if (stopping)
            break;
    }
    return NULL;
}

/* ---- public ------------------------------------------------------------------------------ */

bool gw_audit_log_id_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64 || !strcmp(s, ".") || !strcmp(s, ".."))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

int gw_audit_open(const struct gw_audit_config *c, struct gw_audit **out, struct gw_error *err)
{
    *out = NULL;
    if (!gw_audit_log_id_valid(c->log_id)) {
        gw_note_signer_free(c->signer);
        return GW_ERROR_SET(err, GW_EINVAL,
                            "GW_AUDIT_LOG_ID '%.80s': 1-64 characters of A-Z a-z 0-9 . _ -",
                            c->log_id);
    }
    if (c->pg_retention_days && (!c->pg_url || !c->pg_url[0] || !c->s3.bucket ||
                                 !c->s3.bucket[0])) {
        gw_note_signer_free(c->signer);
        return GW_ERROR_SET(err, GW_EINVAL,
                            "GW_AUDIT_DATABASE_RETENTION_DAYS needs GW_AUDIT_DATABASE_URL and "
                            "GW_AUDIT_S3_BUCKET: the database copy is pruned only below what "
                            "the WORM archive acknowledged");
    }
    if (c->salvage_after_s && c->salvage_after_s < 180) {
        gw_note_signer_free(c->signer);
        return GW_ERROR_SET(err, GW_EINVAL,
                            "GW_AUDIT_SALVAGE_AFTER_SECONDS %u: 0 (never) or at least 180 "
                            "(replicas beat every minute; a live one must not be salvaged)",
                            c->salvage_after_s);
    }
    struct gw_audit *a = gw_xcalloc(1, sizeof(*a));
    a->cfg = *c;
    a->signer = c->signer;
    a->dir = gw_xstrdup(c->dir);
    a->lock_fd = -1;
    /* one process per log: an exclusive lock, or the next free id when the id was defaulted */
    char idbuf[80];
    snprintf(idbuf, sizeof(idbuf), "%s", c->log_id);
    struct gw_error lerr = {0};
    int lrc = gw_audit__mkdirs(c->dir, &lerr);
    for (int k = 1; lrc == GW_OK && k <= 32; k++) {
        if (k > 1)
            snprintf(idbuf, sizeof(idbuf), "%.60s-%d", c->log_id, k);
        char ld[4096];
        snprintf(ld, sizeof(ld), "%s/%s", c->dir, idbuf);
        lrc = gw_audit__mkdirs(ld, &lerr);
        if (lrc != GW_OK)
            break;
        char lp[4200];
        snprintf(lp, sizeof(lp), "%s/lock", ld);
        int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0) {
            a->lock_fd = fd;
            break;
        }
        if (fd >= 0)
            close(fd);
        if (!c->log_id_default)
            break;
    }
    if (a->lock_fd < 0) {
        gw_free(a);
        gw_note_signer_free(c->signer);
        if (lrc != GW_OK) {
            if (err)
                *err = lerr;
            return lrc;
        }
        return GW_ERROR_SET(err, GW_ECONFLICT,
                            "audit log %s/%s is in use by another process (each replica needs "
                            "its own GW_AUDIT_LOG_ID)",
                            c->dir, c->log_id);
    }
    a->log_id = gw_xstrdup(idbuf);
    size_t ol = strlen(c->origin) + strlen(idbuf) + 2;
    a->origin = gw_xmalloc(ol);
    snprintf(a->origin, ol, "%s/%s", c->origin, idbuf);
    a->pg_url = gw_xstrdup(c->pg_url ? c->pg_url : "");
    a->cfg.dir = a->dir;
    a->cfg.log_id = a->log_id;
    a->cfg.origin = a->origin;
    a->cfg.pg_url = a->pg_url;
    if (!a->cfg.checkpoint_events)
        a->cfg.checkpoint_events = 1000;
    if (!a->cfg.checkpoint_seconds)
        a->cfg.checkpoint_seconds = 10;
    if (!a->cfg.segment_max_bytes)
        a->cfg.segment_max_bytes = 64u << 20;
    if (!a->cfg.segment_max_seconds)
        a->cfg.segment_max_seconds = 3600;
    a->logdir = path_join(a->dir, a->log_id);
    a->segdir = path_join(a->logdir, AUDIT_SEG_DIR);
    a->cpdir = path_join(a->logdir, AUDIT_CP_DIR);
    a->fd = -1;
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->cond, NULL);
    gw_buf_init(&a->wbuf, SIZE_MAX);
    atomic_store(&a->healthy, true);
    /* the verifier keys: ours first, then the ones recorded before (rotation) */
    struct gw_buf vk;
    gw_buf_init(&vk, 1 << 20);
    gw_buf_printf(&vk, "%s\n", gw_note_signer_vkey(a->signer));
    char *kp = path_join(a->dir, "verifier-keys"), *old = NULL;
    size_t on = 0;
    if (gw_audit__read_file(kp, 1 << 20, &old, &on, NULL) == GW_OK) {
        for (char *l = old, *e; l && *l; l = e ? e + 1 : NULL) {
            e = strchr(l, '\n');
            if (e)
                *e = '\0';
            if (*l && strcmp(l, gw_note_signer_vkey(a->signer)) != 0)
                gw_buf_printf(&vk, "%s\n", l);
            if (!e)
                break;
        }
    }
    gw_free(old);
    gw_free(kp);
    a->vkeys = gw_buf_take(&vk, NULL);

    int rc = gw_audit__mkdirs(a->segdir, err);
    if (rc == GW_OK)
        rc = gw_audit__mkdirs(a->cpdir, err);
    if (rc == GW_OK)
        rc = recover(a, err);
    if (rc == GW_OK && a->pg_url[0]) {
        rc = gw_audit__pg_open(a->pg_url, a->log_id, a->origin, &a->pg, err);
        uint64_t have = 0;
        if (rc == GW_OK)
            rc = gw_audit__pg_size(a->pg, &have, err);
        if (rc == GW_OK && have < a->range.size)
            GW_LOG(GW_LOG_WARN, "audit",
                   "PostgreSQL holds %llu of %llu records of this log (a crash between the file "
                   "and the database): the missing ones are in the segment files",
                   (unsigned long long)have, (unsigned long long)a->range.size);
        if (rc == GW_OK && have > a->range.size)
            rc = GW_ERROR_SET(err, GW_ECONFLICT,
                              "PostgreSQL holds %llu records for log %s but the local log has "
                              "%llu: two replicas share GW_AUDIT_LOG_ID, or the local folder was "
                              "lost (give this replica its own log id)",
                              (unsigned long long)have, a->log_id,
                              (unsigned long long)a->range.size);
    }
    if (rc == GW_OK && a->fd < 0)
        rc = open_segment(a, err);
    if (rc == GW_OK && a->range.size > a->cp_size)
        rc = write_checkpoint(a, err); /* sign what a crash left unsigned */
    if (rc == GW_OK && a->range.size == 0 && a->cp_size == 0) {
        uint64_t *sizes = NULL;
        size_t ncp = 0;
        gw_audit__list_checkpoints(a->logdir, &sizes, &ncp, NULL);
        if (ncp == 0)
            rc = write_checkpoint(a, err); /* the empty tree: a log exists from the start */
        gw_free(sizes);
    }
    a->cp_time = time(NULL);
    a->ix_first = a->range.size; /* the proof index is fed from the next record on */
    a->ix_n = a->ix_nsub = 0;
    memcpy(a->head_hash, a->prev, GW_HASH_LEN);
    a->head_size = a->range.size;
    atomic_store(&a->size_now, a->range.size);
    atomic_store(&a->cp_size_now, a->cp_size);
    if (rc == GW_OK && c->s3.bucket && c->s3.bucket[0])
        rc = gw_audit__shipper_start(c, a->logdir, a->log_id, &a->shipper, err);
    else if (rc == GW_OK && !c->keep_all_checkpoints)
        a->thin_started = pthread_create(&a->thin_thread, NULL, thin_main, a) == 0;
    if (rc == GW_OK) {
        if (pthread_create(&a->thread, NULL, writer_main, a) != 0)
            rc = GW_ERROR_SET(err, GW_EIO, "audit: cannot start the writer thread");
        else
            a->running = true;
    }
    if (rc != GW_OK) {
        gw_audit_close(a);
        return rc;
    }
    *out = a;
    return GW_OK;
}

void gw_audit_close(struct gw_audit *a)
{
    if (!a)
        return;
    if (a->running) {
        pthread_mutex_lock(&a->lock);
        a->stop = true;
        pthread_cond_signal(&a->cond);
        pthread_mutex_unlock(&a->lock);
        pthread_join(a->thread, NULL);
    }
    if (a->thin_started) {
        atomic_store(&a->thin_stop, true);
        pthread_join(a->thin_thread, NULL);
    }
    struct gw_error err = {0};
    bool closed = a->running && a->fd >= 0;
    if (closed && close_segment(a, &err) != GW_OK) {
        GW_LOG(GW_LOG_ERROR, "audit", "closing the log: %s", err.msg);
        closed = false;
    }
    if (closed && a->shipper)
        gw_audit__shipper_final(a->shipper, a->range.size);
    if (a->fd >= 0)
        close(a->fd);
    if (a->shipper)
        gw_audit__shipper_stop(a->shipper, 5000);
    for (struct item *it = a->head, *n; it; it = n) {
        n = it->next;
        gw_free(it); /* never committed: their responses were never released */
    }
    gw_audit__pg_close(a->pg);
    gw_buf_fini(&a->wbuf);
    gw_free(a->ix_leaves);
    gw_note_signer_free(a->signer);
    pthread_mutex_destroy(&a->lock);
    pthread_cond_destroy(&a->cond);
    gw_free(a->vkeys);
    gw_free(a->dir);
    gw_free(a->logdir);
    gw_free(a->segdir);
    gw_free(a->cpdir);
    gw_free(a->log_id);
    gw_free(a->origin);
    gw_free(a->pg_url);
    if (a->lock_fd >= 0)
        close(a->lock_fd); /* releases the log for the next process */
    gw_free(a);
}

int gw_audit_append(struct gw_audit *a, const char *event, size_t len, gw_audit_done_fn done,
                    void *arg)
{
    struct item *it = gw_xmalloc(sizeof(*it) + len + 1);
    it->next = NULL;
    it->done = done;
    it->arg = arg;
    it->len = len;
    it->t_enq_ns = now_ns();
    memcpy(it->ev, event, len);
    it->ev[len] = '\0';
    pthread_mutex_lock(&a->lock);
    if (a->tail)
        a->tail->next = it;
    else
        a->head = it;
    a->tail = it;
    a->qcount++;
    a->qbytes += len;
    bool wake = a->qcount == 1;
    pthread_mutex_unlock(&a->lock);
    if (wake)
        pthread_cond_signal(&a->cond);
    return GW_OK;
}

struct waiter {
    pthread_mutex_t m;
    pthread_cond_t c;
    bool done;
    int rc;
};

static void wake_waiter(void *arg, int rc)
{
    struct waiter *w = arg;
    pthread_mutex_lock(&w->m);
    w->done = true;
    w->rc = rc;
    pthread_cond_signal(&w->c);
    pthread_mutex_unlock(&w->m);
}

int gw_audit_append_sync(struct gw_audit *a, const char *event, size_t len,
                         struct gw_error *err)
{
    struct waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, GW_OK};
    gw_audit_append(a, event, len, wake_waiter, &w);
    pthread_mutex_lock(&w.m);
    while (!w.done) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 30;
        if (pthread_cond_timedwait(&w.c, &w.m, &ts) != 0 && !w.done)
            GW_LOG(GW_LOG_WARN, "audit", "still waiting for an audit record to commit");
    }
    pthread_mutex_unlock(&w.m);
    if (w.rc != GW_OK)
        return GW_ERROR_SET(err, GW_EIO, "the audit trail could not record the change");
    return GW_OK;
}

bool gw_audit_accepting(const struct gw_audit *a)
{
    if (!atomic_load(&a->healthy))
        return false;
    if (!a->cfg.queue_max_bytes)
        return true;
    struct gw_audit *m = (struct gw_audit *)a;
    pthread_mutex_lock(&m->lock);
    bool ok = m->qbytes <= a->cfg.queue_max_bytes;
    pthread_mutex_unlock(&m->lock);
    return ok;
}

int gw_audit_ready(const struct gw_audit *a, struct gw_error *err)
{
    if (!atomic_load(&a->healthy))
        return GW_ERROR_SET(err, GW_EIO, "the audit trail cannot write (see the error log)");
    return GW_OK;
}

const char *gw_audit_verifier_keys(const struct gw_audit *a)
{
    return a->vkeys;
}

const struct gw_note_signer *gw_audit_signer(const struct gw_audit *a)
{
    return a->signer;
}

bool gw_audit_head(const struct gw_audit *a, uint64_t *size, gw_hash last)
{
    struct gw_audit *m = (struct gw_audit *)a;
    pthread_mutex_lock(&m->lock);
    *size = m->head_size;
    memcpy(last, m->head_hash, GW_HASH_LEN);
    pthread_mutex_unlock(&m->lock);
    return *size > 0;
}

const char *gw_audit_origin(const struct gw_audit *a)
{
    return a->origin;
}

const char *gw_audit_log_dir(const struct gw_audit *a)
{
    return a->logdir;
}

const char *gw_audit_log_id(const struct gw_audit *a)
{
    return a->log_id;
}

const char *gw_audit_database_url(const struct gw_audit *a)
{
    return a->pg_url[0] ? a->pg_url : NULL;
}

void gw_audit__count_rejected(struct gw_audit *a)
{
    atomic_fetch_add(&a->rejected, 1);
}

void gw_audit__count_pii(struct gw_audit *a, unsigned n)
{
    if (n)
        atomic_fetch_add(&a->pii, n);
}

const struct gw_pii *gw_audit__pii(const struct gw_audit *a)
{
    return a->cfg.pii;
}

enum gw_audit_scope gw_audit__scope(const struct gw_audit *a)
{
    return a->cfg.scope;
}

bool gw_audit__response_digest(const struct gw_audit *a)
{
    return a->cfg.response_digest;
}

void gw_audit_get_stats(const struct gw_audit *a, struct gw_audit_stats *o)
{
    memset(o, 0, sizeof(*o));
    struct gw_audit *m = (struct gw_audit *)a;
    o->records = atomic_load(&m->records);
    o->bytes = atomic_load(&m->bytes);
    o->batches = atomic_load(&m->batches);
    o->checkpoints = atomic_load(&m->checkpoints);
    o->write_errors = atomic_load(&m->write_errors);
    o->rejected_calls = atomic_load(&m->rejected);
    o->pii_masked = atomic_load(&m->pii);
    o->commit_lag_us_sum = atomic_load(&m->lag_sum);
    o->commit_lag_count = atomic_load(&m->lag_count);
    for (int i = 0; i < 12; i++)
        o->lag_bucket[i] = atomic_load(&m->lag_bucket[i]);
    o->size = atomic_load(&m->size_now);
    o->checkpoint_size = atomic_load(&m->cp_size_now);
    o->last_checkpoint_unix = atomic_load(&m->cp_unix);
    o->healthy = atomic_load(&m->healthy);
    pthread_mutex_lock(&m->lock);
    o->queue_depth = m->qcount;
    o->queue_bytes = m->qbytes;
    pthread_mutex_unlock(&m->lock);
    if (m->shipper)
        gw_audit__shipper_stats(m->shipper, &o->shipped_objects, &o->ship_errors,
                                &o->ship_backlog, &o->oldest_unshipped_unix);
    if (m->shipper)
        gw_audit__shipper_upkeep_stats(m->shipper, &o->db_pruned, &o->logs_salvaged,
                                       &o->upkeep_errors);
}
