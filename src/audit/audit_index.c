/*
 * src/audit/audit_index.c
 * The proof index of a log folder (audit_internal.h): <logdir>/index/L0, L1, ... files of
 * 32-byte hashes. L0 holds the leaf hash of every record (record i at offset 32 i); Lj the root
 * of every complete perfect subtree of 256^j leaves (entry i covers records [i 256^j,
 * (i + 1) 256^j)). A perfect subtree of 2^k leaves is the root of at most 128 consecutive
 * entries of level k / 8, so a proof costs O(log n) small reads instead of every record.
 *
 * Derived from the segments: fed by the log's writer with the leaf hashes it has just made
 * each time it signs a checkpoint (when the index ends where they start and nobody holds its
 * lock: it never waits), and extended on demand with the records not indexed yet, up to a
 * signed tree size (checkpoints only cover durable records, so nothing indexed can be lost to
 * a crash). Never trusted: the reader (audit_read.c) checks the root it gives for the latest
 * checkpoint's size against that checkpoint and drops an index that disagrees (it is rebuilt).
 * One process at a time opens it (flock on index/lock); files only grow, except when a level
 * is found longer than its lower levels justify (a crash between writes), where it is cut back.
 */
#include "audit/audit_internal.h"

#include "core/alloc.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define LEVELS 8     /* 256^8 = 2^64 leaves */
#define FANOUT 256   /* entries of level j - 1 under one entry of level j */
#define CHUNK 4096   /* leaves appended per write while extending */

struct audit_index {
    char dir[4096];
    int lock_fd;
    int fd[LEVELS];
    uint64_t n[LEVELS]; /* entries of each level */
};

static int rd(int fd, uint64_t at, gw_hash *out, size_t count)
{
    size_t want = count * GW_HASH_LEN, got = 0;
    while (got < want) {
        ssize_t r = pread(fd, (char *)out + got, want - got, (off_t)(at * GW_HASH_LEN + got));
        if (r <= 0) {
            if (r < 0 && errno == EINTR)
                continue;
            return GW_EIO;
        }
        got += (size_t)r;
    }
    return GW_OK;
}

static int wr(int fd, uint64_t at, const gw_hash *h, size_t count)
{
    return gw_audit__write_at(fd, (const char *)h, count * GW_HASH_LEN,
                              (int64_t)(at * GW_HASH_LEN));
}

/* Adds the entries of levels 1.. that level 0's entries now complete. */
static int cascade(struct audit_index *x)
{
    gw_hash block[FANOUT], root;
    for (int j = 1; j < LEVELS; j++) {
        while ((x->n[j] + 1) * FANOUT <= x->n[j - 1]) {
            if (rd(x->fd[j - 1], x->n[j] * FANOUT, block, FANOUT) != GW_OK)
                return GW_EIO;
            gw_merkle_root((const gw_hash *)block, FANOUT, root); /* a perfect subtree */
            if (wr(x->fd[j], x->n[j], (const gw_hash *)&root, 1) != GW_OK)
                return GW_EIO;
            x->n[j]++;
        }
    }
    return GW_OK;
}

struct extend {
    struct audit_index *x;
    gw_hash buf[CHUNK];
    size_t nbuf;
    uint64_t want; /* index up to this many leaves */
    int rc;
};

static int flush(struct extend *e)
{
    if (e->nbuf && wr(e->x->fd[0], e->x->n[0], (const gw_hash *)e->buf, e->nbuf) != GW_OK)
        return GW_EIO;
    e->x->n[0] += e->nbuf;
    e->nbuf = 0;
    return GW_OK;
}

static bool on_leaf(void *ud, uint64_t seq, const gw_hash leaf)
{
    struct extend *e = ud;
    if (seq != e->x->n[0] + e->nbuf) { /* a gap or a repeat: the log needs `verify` */
        e->rc = GW_ECONFLICT;
        return false;
    }
    memcpy(e->buf[e->nbuf++], leaf, GW_HASH_LEN);
    if (e->nbuf == CHUNK && (e->rc = flush(e)) != GW_OK)
        return false;
    return e->x->n[0] + e->nbuf < e->want;
}

void gw_audit__index_close(struct audit_index *x)
{
    if (!x)
        return;
    for (int j = 0; j < LEVELS; j++)
        if (x->fd[j] >= 0)
            close(x->fd[j]);
    if (x->lock_fd >= 0)
        close(x->lock_fd); /* releases the lock */
    gw_free(x);
}

/* Opens <logdir>/index (created) under its lock (waiting for it, or GW_AGAIN when `wait` is
 * false and another holds it), its levels repaired and complete. */
static int attach(const char *logdir, bool wait, struct audit_index **out, struct gw_error *err)
{
    *out = NULL;
    struct audit_index *x = gw_xcalloc(1, sizeof(*x));
    x->lock_fd = -1;
    for (int j = 0; j < LEVELS; j++)
        x->fd[j] = -1;
    snprintf(x->dir, sizeof(x->dir), "%s/index", logdir);
    char path[4200];
    snprintf(path, sizeof(path), "%s/lock", x->dir);
    int rc = GW_OK;
    if ((mkdir(x->dir, 0700) != 0 && errno != EEXIST) ||
        (x->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
        rc = GW_ERROR_SET(err, GW_EIO, "audit index: cannot use %s", x->dir);
    else if (flock(x->lock_fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0)
        rc = !wait && errno == EWOULDBLOCK
                 ? GW_AGAIN
                 : GW_ERROR_SET(err, GW_EIO, "audit index: cannot lock %s", x->dir);
    for (int j = 0; rc == GW_OK && j < LEVELS; j++) {
        snprintf(path, sizeof(path), "%s/L%d", x->dir, j);
        struct stat st;
        if ((x->fd[j] = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
            fstat(x->fd[j], &st) != 0) {
            rc = GW_ERROR_SET(err, GW_EIO, "audit index: cannot open %s", path);
            break;
        }
        x->n[j] = (uint64_t)st.st_size / GW_HASH_LEN;
        /* what the level below justifies (a crash may have left a partial or extra entry) */
        uint64_t max = j ? x->n[j - 1] / FANOUT : x->n[0];
        if (x->n[j] > max)
            x->n[j] = max;
        if ((uint64_t)st.st_size != x->n[j] * GW_HASH_LEN &&
            ftruncate(x->fd[j], (off_t)(x->n[j] * GW_HASH_LEN)) != 0)
            rc = GW_ERROR_SET(err, GW_EIO, "audit index: cannot repair %s", path);
    }
    if (rc == GW_OK)
        rc = cascade(x);
    if (rc != GW_OK) {
        gw_audit__index_close(x);
        return rc;
    }
    *out = x;
    return GW_OK;
}

int gw_audit__index_open(const char *logdir, uint64_t need, struct audit_index **out,
                         struct gw_error *err)
{
    struct audit_index *x = NULL;
    int rc = attach(logdir, true, &x, err);
    if (rc == GW_OK && x->n[0] < need) {
        struct extend *e = gw_xcalloc(1, sizeof(*e));
        e->x = x;
        e->want = need;
        rc = gw_audit__leaves_from(logdir, x->n[0], on_leaf, e, err);
        if (rc == GW_OK)
            rc = e->rc;
        if (rc == GW_OK)
            rc = flush(e);
        if (rc == GW_OK)
            rc = cascade(x);
        gw_free(e);
        if (rc == GW_OK && x->n[0] < need)
            rc = GW_ERROR_SET(err, GW_ENOTFOUND, "audit index: the log holds %llu of the %llu "
                                                 "records to index",
                              (unsigned long long)x->n[0], (unsigned long long)need);
        else if (rc == GW_ECONFLICT)
            GW_ERROR_SET(err, rc, "audit index: the records are not numbered in order");
        else if (rc != GW_OK && err && !err->msg[0])
            GW_ERROR_SET(err, rc, "audit index: cannot extend %s", x->dir);
    }
    if (rc != GW_OK) {
        gw_audit__index_close(x);
        return rc;
    }
    *out = x;
    return GW_OK;
}

int gw_audit__index_feed(const char *logdir, const struct audit_index_feed *f,
                         struct gw_error *err)
{
    struct audit_index *x = NULL;
    int rc = attach(logdir, false, &x, err);
    if (rc != GW_OK)
        return rc;
    uint64_t have = x->n[0];
    if (have < f->first) {
        rc = GW_ECONFLICT; /* a gap: the next proof extends the index from the segments */
    } else if (have < f->first + f->n) {
        size_t skip = (size_t)(have - f->first);
        if (wr(x->fd[0], have, f->leaves + skip, f->n - skip) != GW_OK)
            rc = GW_ERROR_SET(err, GW_EIO, "audit index: cannot write %s/L0", x->dir);
        else
            x->n[0] = f->first + f->n;
        /* level 1 from the writer's blocks where it continues them (the rest: cascade) */
        uint64_t at = x->n[1];
        if (rc == GW_OK && at >= f->sub_first && at < f->sub_first + f->nsub &&
            (at + 1) * FANOUT <= x->n[0]) {
            size_t from = (size_t)(at - f->sub_first);
            uint64_t complete = x->n[0] / FANOUT - at; /* all of them: they end in the leaves */
            size_t count = f->nsub - from < complete ? f->nsub - from : (size_t)complete;
            if (wr(x->fd[1], at, f->subs + from, count) != GW_OK)
                rc = GW_ERROR_SET(err, GW_EIO, "audit index: cannot write %s/L1", x->dir);
            else
                x->n[1] += count;
        }
        if (rc == GW_OK && cascade(x) != GW_OK)
            rc = GW_ERROR_SET(err, GW_EIO, "audit index: cannot write %s", x->dir);
    }
    gw_audit__index_close(x);
    return rc;
}

uint64_t gw_audit__index_size(const struct audit_index *x)
{
    return x->n[0];
}

/* The root of the perfect subtree [start, start + size): at most 128 entries of one level. */
static int index_perfect(void *ud, uint64_t start, uint64_t size, gw_hash out)
{
    struct audit_index *x = ud;
    int k = 0;
    while (((uint64_t)1 << k) < size)
        k++;
    int j = k / 8;
    uint64_t count = (uint64_t)1 << (k % 8), first = start >> (8 * j);
    if (j >= LEVELS || first + count > x->n[j])
        return GW_ENOTFOUND; /* outside what is indexed */
    gw_hash entries[FANOUT / 2];
    if (rd(x->fd[j], first, entries, (size_t)count) != GW_OK)
        return GW_EIO;
    gw_merkle_root((const gw_hash *)entries, count, out);
    return 0;
}

void gw_audit__index_source(struct audit_index *x, struct gw_merkle_source *src)
{
    src->perfect = index_perfect;
    src->ud = x;
}

int gw_audit__index_drop(struct audit_index *x)
{
    int rc = GW_OK;
    for (int j = 0; j < LEVELS; j++) {
        if (ftruncate(x->fd[j], 0) != 0)
            rc = GW_EIO;
        x->n[j] = 0;
    }
    return rc;
}
