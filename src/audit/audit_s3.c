/*
 * src/audit/audit_s3.c
 * The WORM archive shipper: a thread that uploads every closed segment and every checkpoint of
 * the log to S3 with Object Lock (mode + retain-until date on each PUT), signed with SigV4 by
 * libcurl (CURLOPT_AWS_SIGV4), and records each acknowledged key in <logdir>/shipped.
 *
 * Loop: wait for a kick (segment closed, checkpoint written) or the retry timer -> list what is
 * not in `shipped` -> PUT each (Content-MD5, x-amz-content-sha256, x-amz-object-lock-mode,
 * x-amz-object-lock-retain-until-date) -> on 2xx append its key to `shipped` (fsync) -> on any
 * failure back off exponentially (1 s .. GW_AUDIT_S3_RETRY_MAX_SECONDS) and try again; nothing is
 * ever deleted locally before its key is in `shipped` (then a segment after
 * GW_AUDIT_LOCAL_RETENTION_DAYS, a checkpoint inside a closed segment at once unless
 * GW_AUDIT_LOCAL_CHECKPOINTS=all). Blocking I/O is fine here: this thread serves no requests.
 * With the PostgreSQL copy, each pass ends by telling the database how much of the log the
 * archive holds (the replica's heartbeat too), and the maintenance pass runs here
 * (audit_upkeep.c): the logs of replicas that stopped without closing them are rebuilt from the
 * database and uploaded under their own prefix (salvage), and the copy is pruned.
 */
#include "audit/audit_internal.h"

#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/thread.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct audit_shipper {
    char *endpoint, *bucket, *region, *prefix, *access, *secret, *token, *mode, *ca;
    unsigned retention_days, retry_max_s, local_days;
    bool path_style, thin_checkpoints;
    char *logdir, *log_id;
    struct audit_upkeep *upkeep; /* NULL without a database copy */
    unsigned salvage_after_s;
    uint64_t archived;           /* records [0, archived) are in the archive */
    char *next_header;           /* the first line of the segment starting at `archived` */
    uint64_t final_size;         /* the closed log's size (UINT64_MAX while it is written) */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop, kicked;
    struct timespec stop_by; /* set with stop: the last pass uploads until then (monotonic) */
    /* the shipped set (keys), kept sorted in memory */
    char **shipped;
    size_t nshipped, capshipped;
    atomic_ullong n_ok, n_err, backlog;
    atomic_llong oldest;
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The shipped set: the keys of the files still in the folder that the archive acknowledged
 * (a pass looks at those files alone). The `shipped` file grows by a key per segment and per
 * checkpoint for the life of the log (millions over years); at start only the keys of files
 * still here are kept, in memory and, once the rest is most of it, in the file too, so memory
 * and the start follow the folder, not the log's age. A key is inserted at its place (binary
 * search, one memmove of pointers), never by sorting the whole set again. */

/* The index of the first key not below `key` (its place). */
static size_t key_place(const struct audit_shipper *s, const char *key)
{
    size_t lo = 0, hi = s->nshipped;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(s->shipped[mid], key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Whether the key at place i is `key`. */
static bool key_at(const struct audit_shipper *s, size_t i, const char *key)
{
    return i < s->nshipped && strcmp(s->shipped[i], key) == 0;
}

static bool is_shipped(const struct audit_shipper *s, const char *key)
{
    return key_at(s, key_place(s, key), key);
}

static void object_key(const struct audit_shipper *s, const char *rel, char *key, size_t size);

/* Whether the segment file `name` is in the archive. */
static bool is_shipped_rel(const struct audit_shipper *s, const char *name)
{
    char rel[128], key[600];
    snprintf(rel, sizeof(rel), "%s/%s", AUDIT_SEG_DIR, name);
    object_key(s, rel, key, sizeof(key));
    return is_shipped(s, key);
}

static void reserve_shipped(struct audit_shipper *s)
{
    if (s->nshipped == s->capshipped) {
        s->capshipped = s->capshipped ? s->capshipped * 2 : 256;
        s->shipped = gw_xrealloc(s->shipped, s->capshipped * sizeof(char *));
    }
}

static void add_shipped(struct audit_shipper *s, const char *key)
{
    size_t i = key_place(s, key);
    if (key_at(s, i, key))
        return;
    reserve_shipped(s);
    memmove(&s->shipped[i + 1], &s->shipped[i], (s->nshipped - i) * sizeof(char *));
    s->shipped[i] = gw_xstrdup(key);
    s->nshipped++;
}

/* The object key of `rel` (a path under the folder of log `log_id`). */
static void object_key_of(const struct audit_shipper *s, const char *log_id, const char *rel,
                          char *key, size_t size)
{
    snprintf(key, size, "%s%s%s/%s", s->prefix, s->prefix[0] ? "/" : "", log_id, rel);
}

static void object_key(const struct audit_shipper *s, const char *rel, char *key, size_t size)
{
    object_key_of(s, s->log_id, rel, key, size);
}

/* The keys of the files in the folder (segments and checkpoints), sorted, unique. */
static char **local_keys(const struct audit_shipper *s, size_t *n)
{
    struct audit_seg *segs = NULL;
    uint64_t *cps = NULL;
    size_t nseg = 0, ncp = 0;
    gw_audit__list_segments(s->logdir, &segs, &nseg, NULL);
    gw_audit__list_checkpoints(s->logdir, &cps, &ncp, NULL);
    char **keys = gw_xcalloc(nseg + ncp + 1, sizeof(char *));
    *n = 0;
    for (size_t i = 0; i < nseg + ncp; i++) {
        char rel[128], key[600];
        if (i < nseg)
            snprintf(rel, sizeof(rel), "%s/%s", AUDIT_SEG_DIR, segs[i].name);
        else
            snprintf(rel, sizeof(rel), "%s/%020llu.cp", AUDIT_CP_DIR,
                     (unsigned long long)cps[i - nseg]);
        object_key(s, rel, key, sizeof(key));
        keys[(*n)++] = gw_xstrdup(key);
    }
    qsort(keys, *n, sizeof(char *), cmp_str);
    gw_free(segs);
    gw_free(cps);
    return keys;
}

static void load_shipped(struct audit_shipper *s)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/shipped", s->logdir);
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    size_t nlocal = 0, lines = 0;
    char **local = local_keys(s, &nlocal);
    bool *acked = gw_xcalloc(nlocal + 1, sizeof(bool));
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] != '\n')
            break; /* a torn last line was not acknowledged as recorded: upload again */
        line[len - 1] = '\0';
        lines++;
        const char *k = line;
        char **hit = bsearch(&k, local, nlocal, sizeof(char *), cmp_str);
        if (hit)
            acked[hit - local] = true; /* a key written twice (a crash between the PUT's answer
                                        * and the fsync of its line, then the PUT again) counts
                                        * once */
    }
    free(line); /* checksrc: allow (getline's buffer) */
    fclose(f);
    for (size_t i = 0; i < nlocal; i++) { /* in order: the set stays sorted */
        if (acked[i]) {
            reserve_shipped(s);
            s->shipped[s->nshipped++] = local[i];
        } else {
            gw_free(local[i]);
        }
    }
    gw_free(local);
    gw_free(acked);
    if (lines <= 2 * s->nshipped + 1024)
        return;
    /* most of the file names what is only in the archive now: rewrite it with the rest */
    struct gw_buf b;
    gw_buf_init(&b, (size_t)1 << 30);
    for (size_t i = 0; i < s->nshipped; i++) {
        gw_buf_adds(&b, s->shipped[i]);
        gw_buf_addc(&b, '\n');
    }
    struct gw_error err = {0};
    if (gw_audit__write_file_atomic(s->logdir, "shipped", gw_buf_ptr(&b), gw_buf_len(&b), 0600,
                                    &err) == GW_OK)
        GW_LOG(GW_LOG_INFO, "audit", "archive: `shipped` compacted from %zu to %zu keys (the "
                                     "others name files no longer in the folder)",
               lines, s->nshipped);
    else
        GW_LOG(GW_LOG_WARN, "audit", "archive: cannot compact `shipped`: %s", err.msg);
    gw_buf_fini(&b);
}

static int note_shipped(struct audit_shipper *s, const char *key)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/shipped", s->logdir);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return GW_EIO;
    char line[512];
    int k = snprintf(line, sizeof(line), "%s\n", key);
    int rc = write(fd, line, (size_t)k) == k && fdatasync(fd) == 0 ? GW_OK : GW_EIO;
    close(fd);
    if (rc == GW_OK)
        add_shipped(s, key);
    return rc;
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    struct gw_buf *b = ud;
    gw_buf_add(b, p, size * n); /* the error body, for the log (bounded) */
    return size * n;
}

static void hex(const unsigned char *d, size_t n, char *out)
{
    static const char h[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = h[d[i] >> 4];
        out[2 * i + 1] = h[d[i] & 15];
    }
    out[2 * n] = '\0';
}

/* The MD5 and SHA-256 of a file and its size, read in pieces (a segment may be 64 MiB or more:
 * memory stays one piece). GW_OK or GW_EIO. */
static int digest_file(const char *path, unsigned char md5[16], unsigned char sha[32],
                       uint64_t *size)
{
    FILE *f = fopen(path, "rbe");
    if (!f)
        return GW_EIO;
    EVP_MD_CTX *m = EVP_MD_CTX_new(), *h = EVP_MD_CTX_new();
    int ok = m && h && EVP_DigestInit_ex(m, EVP_md5(), NULL) &&
             EVP_DigestInit_ex(h, EVP_sha256(), NULL);
    unsigned char piece[65536];
    size_t got;
    *size = 0;
    while (ok && (got = fread(piece, 1, sizeof(piece), f)) > 0) {
        ok = EVP_DigestUpdate(m, piece, got) && EVP_DigestUpdate(h, piece, got);
        *size += got;
    }
    ok = ok && !ferror(f) && EVP_DigestFinal_ex(m, md5, NULL) && EVP_DigestFinal_ex(h, sha, NULL);
    EVP_MD_CTX_free(m);
    EVP_MD_CTX_free(h);
    fclose(f);
    return ok ? GW_OK : GW_EIO;
}

static size_t read_piece(char *buf, size_t size, size_t n, void *ud)
{
    size_t got = fread(buf, 1, size * n, ud);
    return got == 0 && ferror((FILE *)ud) ? CURL_READFUNC_ABORT : got;
}

/* PUTs the file at `path` under key with Object Lock, streamed (its digests first, then its
 * bytes). GW_OK on 2xx. */
static int put_object(struct audit_shipper *s, const char *key, const char *path,
                      const char *ctype, long timeout_s, char *why, size_t whysize)
{
    char url[2048];
    const char *ep = s->endpoint;
    char def[256];
    if (!ep[0]) {
        snprintf(def, sizeof(def), "https://s3.%s.amazonaws.com", s->region);
        ep = def;
    }
    if (s->path_style) {
        snprintf(url, sizeof(url), "%s/%s/%s", ep, s->bucket, key);
    } else {
        const char *sep = strstr(ep, "://");
        if (!sep)
            sep = ep - 3;
        snprintf(url, sizeof(url), "%.*s%s.%s/%s", (int)(sep + 3 - ep), ep, s->bucket, sep + 3,
                 key);
    }
    unsigned char md5[16], sha[32];
    uint64_t n = 0;
    if (digest_file(path, md5, sha, &n) != GW_OK) {
        snprintf(why, whysize, "cannot read %s", path);
        return GW_EIO;
    }
    FILE *f = fopen(path, "rbe");
    if (!f) {
        snprintf(why, whysize, "cannot read %s", path);
        return GW_EIO;
    }
    char md5b64[32], shahex[65];
    gw_note_b64(md5, 16, md5b64);
    hex(sha, 32, shahex);
    time_t until = time(NULL) + (time_t)s->retention_days * 86400;
    struct tm tm;
    gmtime_r(&until, &tm);
    char h[7][300];
    snprintf(h[0], sizeof(h[0]), "Content-Type: %s", ctype);
    snprintf(h[1], sizeof(h[1]), "Content-MD5: %s", md5b64);
    snprintf(h[2], sizeof(h[2]), "x-amz-content-sha256: %s", shahex);
    snprintf(h[3], sizeof(h[3]), "x-amz-object-lock-mode: %s", s->mode);
    snprintf(h[4], sizeof(h[4]),
             "x-amz-object-lock-retain-until-date: %04d-%02d-%02dT%02d:%02d:%02dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    snprintf(h[5], sizeof(h[5]), "x-amz-meta-log-id: %s", s->log_id);
    struct curl_slist *hl = NULL;
    for (int i = 0; i < 6; i++)
        hl = curl_slist_append(hl, h[i]);
    struct gw_buf tok; /* an STS session token runs to a kilobyte or more: never cut it */
    gw_buf_init(&tok, 64 * 1024);
    if (s->token[0]) {
        gw_buf_adds(&tok, "x-amz-security-token: ");
        gw_buf_adds(&tok, s->token);
        hl = curl_slist_append(hl, gw_buf_ptr(&tok));
    }
    hl = curl_slist_append(hl, "Expect:");
    CURL *c = curl_easy_init();
    struct gw_buf body;
    gw_buf_init(&body, 4096);
    char sigv4[128], userpwd[512];
    snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:s3", s->region);
    snprintf(userpwd, sizeof(userpwd), "%s:%s", s->access, s->secret);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L); /* PUT, the body read from the file */
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_piece);
    curl_easy_setopt(c, CURLOPT_READDATA, f);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)n);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4);
    curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
    if (s->ca[0])
        curl_easy_setopt(c, CURLOPT_CAINFO, s->ca);
    CURLcode cc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    int rc = GW_OK;
    if (cc != CURLE_OK) {
        snprintf(why, whysize, "%s", curl_easy_strerror(cc));
        rc = GW_EIO;
    } else if (status < 200 || status >= 300) {
        snprintf(why, whysize, "HTTP %ld: %.200s", status, gw_buf_ptr(&body));
        rc = GW_EUPSTREAM;
    }
    OPENSSL_cleanse(userpwd, sizeof(userpwd));
    gw_buf_fini(&tok);
    gw_buf_fini(&body);
    curl_easy_cleanup(c);
    curl_slist_free_all(hl);
    fclose(f);
    return rc;
}

/* Milliseconds left before the stop's deadline (300 s while not stopping; <= 0: past it). */
static long time_left_ms(struct audit_shipper *s)
{
    pthread_mutex_lock(&s->lock);
    bool stop = s->stop;
    struct timespec by = s->stop_by;
    pthread_mutex_unlock(&s->lock);
    if (!stop)
        return 300000;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(by.tv_sec - now.tv_sec) * 1000 + (by.tv_nsec - now.tv_nsec) / 1000000;
}

/* The first line of segment `name` (its header; gw_free), or NULL. */
static char *first_line(const char *logdir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s/%s", logdir, AUDIT_SEG_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16; /* a header holds at most 64 hashes of the compact range */
    char *buf = gw_xmalloc(cap);
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *nl = memchr(buf, '\n', n);
    if (!nl) {
        gw_free(buf);
        return NULL;
    }
    *nl = '\0';
    return buf;
}

/* One pass: uploads what is missing. GW_OK when everything is shipped. When stopping, uploads
 * go on until the stop's deadline (a graceful shutdown ships the segment it just closed). */
static int ship_pass(struct audit_shipper *s)
{
    struct audit_seg *segs = NULL;
    size_t nseg = 0;
    uint64_t *cps = NULL;
    size_t ncp = 0;
    gw_audit__list_segments(s->logdir, &segs, &nseg, NULL);
    gw_audit__list_checkpoints(s->logdir, &cps, &ncp, NULL);
    int rc = GW_OK;
    unsigned long long backlog = 0;
    long long oldest = 0;
    size_t total = nseg + ncp;
    for (size_t i = 0; i < total; i++) {
        long left = time_left_ms(s);
        char rel[128], key[600], path[4096];
        bool seg = i < nseg;
        if (seg) {
            if (segs[i].open)
                continue;
            snprintf(rel, sizeof(rel), "%s/%s", AUDIT_SEG_DIR, segs[i].name);
        } else {
            snprintf(rel, sizeof(rel), "%s/%020llu.cp", AUDIT_CP_DIR,
                     (unsigned long long)cps[i - nseg]);
        }
        object_key(s, rel, key, sizeof(key));
        snprintf(path, sizeof(path), "%s/%s", s->logdir, rel);
        struct stat st;
        if (is_shipped(s, key)) {
            /* local retention: only what the archive acknowledged: segments after their days,
             * checkpoints inside a closed segment at once (GW_AUDIT_LOCAL_CHECKPOINTS); what
             * is shipped and kept costs no system call: the pass stays cheap with a long log */
            if (seg && s->local_days && stat(path, &st) == 0 &&
                time(NULL) - st.st_mtime > (time_t)s->local_days * 86400) {
                if (unlink(path) == 0)
                    GW_LOG(GW_LOG_INFO, "audit", "removed archived segment %s (older than %u "
                                                 "days)", rel, s->local_days);
            } else if (!seg && s->thin_checkpoints &&
                       gw_audit__checkpoint_redundant(cps[i - nseg], segs, nseg, cps, ncp)) {
                (void)unlink(path);
            }
            continue;
        }
        if (stat(path, &st) != 0)
            continue;
        backlog++;
        if (!oldest || st.st_mtime < oldest)
            oldest = (long long)st.st_mtime;
        if (rc != GW_OK || left < 1000)
            continue; /* count the rest of the backlog; retry later */
        char why[300] = "";
        if (s->upkeep) /* the heartbeat goes on through a long pass (rate-limited inside) */
            gw_audit__upkeep_publish(s->upkeep, s->log_id, s->archived, s->next_header);
        int prc = put_object(s, key, path,
                             seg ? "application/x-ndjson" : "text/plain; charset=utf-8",
                             left / 1000, why, sizeof(why));
        if (prc == GW_OK && note_shipped(s, key) == GW_OK) {
            atomic_fetch_add(&s->n_ok, 1);
            backlog--;
            if (oldest == (long long)st.st_mtime)
                oldest = 0; /* recomputed next pass */
        } else {
            atomic_fetch_add(&s->n_err, 1);
            GW_LOG(GW_LOG_WARN, "audit", "archive upload of %s failed (will retry): %s", key,
                   why);
            rc = GW_EIO;
        }
    }
    /* the archive holds the records before the first segment still open or not acknowledged;
     * all of them once the log is closed and every segment acknowledged */
    size_t held = 0;
    while (held < nseg && !segs[held].open && is_shipped_rel(s, segs[held].name))
        held++;
    pthread_mutex_lock(&s->lock);
    uint64_t final_size = s->final_size;
    pthread_mutex_unlock(&s->lock);
    if (held < nseg && (segs[held].first != s->archived || !s->next_header)) {
        s->archived = segs[held].first;
        gw_free(s->next_header);
        s->next_header = first_line(s->logdir, segs[held].name);
    } else if (held == nseg && final_size != UINT64_MAX) {
        s->archived = final_size;
        gw_free(s->next_header);
        s->next_header = NULL;
    }
    atomic_store(&s->backlog, backlog);
    atomic_store(&s->oldest, oldest);
    gw_free(segs);
    gw_free(cps);
    return rc;
}

static bool stopping(void *ud)
{
    struct audit_shipper *s = ud;
    pthread_mutex_lock(&s->lock);
    bool stop = s->stop;
    pthread_mutex_unlock(&s->lock);
    return stop;
}

/* Uploads the files of <work>/<sub> as the objects of log `log_id` (their number added to
 * *count unless NULL); GW_OK when all went. */
static int upload_dir(struct audit_shipper *s, const char *log_id, const char *work,
                      const char *sub, const char *ctype, size_t *count)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/%s", work, sub);
    DIR *d = opendir(dir);
    if (!d)
        return GW_EIO;
    int rc = GW_OK;
    for (struct dirent *e; rc == GW_OK && (e = readdir(d));) {
        if (e->d_name[0] == '.' || strstr(e->d_name, ".tmp"))
            continue;
        char rel[300], key[600], path[4400], why[300] = "";
        snprintf(rel, sizeof(rel), "%s/%s", sub, e->d_name);
        object_key_of(s, log_id, rel, key, sizeof(key));
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        long left = time_left_ms(s);
        if (left < 1000)
            break; /* stopping: the next run's pass salvages it */
        rc = put_object(s, key, path, ctype, left / 1000, why, sizeof(why));
        if (rc != GW_OK) {
            atomic_fetch_add(&s->n_err, 1);
            GW_LOG(GW_LOG_WARN, "audit", "salvage: archive upload of %s failed (will retry): %s",
                   key, why);
        } else if (count) {
            (*count)++;
        }
    }
    closedir(d);
    return rc == GW_OK && time_left_ms(s) < 1000 ? GW_EIO : rc;
}

/* Archives the logs of replicas that stopped without closing them: each one's missing segment
 * and checkpoints, rebuilt from the database in <logdir>/salvage/<log id>, go to that log's
 * prefix; then the database records that the archive holds it whole. */
static void salvage(struct audit_shipper *s)
{
    struct audit_orphan *o = NULL;
    size_t n = 0;
    if (gw_audit__upkeep_orphans(s->upkeep, s->log_id, s->salvage_after_s, &o, &n) != GW_OK)
        return;
    for (size_t i = 0; i < n && !stopping(s); i++) {
        char work[4096], segdir[4200], cpdir[4200];
        snprintf(work, sizeof(work), "%s/salvage/%s", s->logdir, o[i].log_id);
        snprintf(segdir, sizeof(segdir), "%s/%s", work, AUDIT_SEG_DIR);
        snprintf(cpdir, sizeof(cpdir), "%s/%s", work, AUDIT_CP_DIR);
        struct gw_error err = {0};
        size_t cps = 0;
        int rc = gw_audit__mkdirs(segdir, &err);
        if (rc == GW_OK)
            rc = gw_audit__mkdirs(cpdir, &err);
        if (rc == GW_OK)
            rc = gw_audit__upkeep_rebuild(s->upkeep, &o[i], segdir, cpdir, &err);
        if (rc == GW_OK)
            rc = upload_dir(s, o[i].log_id, work, AUDIT_SEG_DIR, "application/x-ndjson", NULL);
        if (rc == GW_OK)
            rc = upload_dir(s, o[i].log_id, work, AUDIT_CP_DIR, "text/plain; charset=utf-8",
                            &cps);
        if (rc == GW_OK)
            rc = gw_audit__upkeep_salvaged(s->upkeep, &o[i]);
        if (rc == GW_OK)
            GW_LOG(GW_LOG_WARN, "audit",
                   "salvaged log %s (its replica stopped without closing it): records %llu..%llu "
                   "rebuilt from the database and archived, with %zu checkpoints",
                   o[i].log_id, (unsigned long long)o[i].from, (unsigned long long)o[i].to - 1,
                   cps);
        else if (err.msg[0])
            GW_LOG(GW_LOG_ERROR, "audit", "salvage of log %s: %s", o[i].log_id, err.msg);
        gw_audit_remove_folder(work);
    }
    gw_audit__upkeep_orphans_free(o, n);
    char top[4096];
    snprintf(top, sizeof(top), "%s/salvage", s->logdir);
    (void)rmdir(top);
}

static void *shipper_main(void *arg)
{
    gw_thread_init_self("gw-audit-ship", GW_THREAD_BACKGROUND);
    struct audit_shipper *s = arg;
    unsigned backoff = 1;
    bool failed = false;
    for (;;) {
        pthread_mutex_lock(&s->lock);
        if (!s->kicked && !s->stop) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            unsigned wait = s->upkeep ? gw_audit__upkeep_wait_s(s->upkeep) : 60;
            ts.tv_sec += failed ? backoff : wait < 60 ? wait : 60; /* idle: prune all the same */
            pthread_cond_timedwait(&s->cond, &s->lock, &ts);
        }
        bool stop = s->stop;
        s->kicked = false;
        pthread_mutex_unlock(&s->lock);
        if (ship_pass(s) == GW_OK) {
            failed = false;
            backoff = 1;
        } else {
            failed = true;
            backoff = backoff * 2 > s->retry_max_s ? s->retry_max_s : backoff * 2;
        }
        if (s->upkeep) {
            gw_audit__upkeep_publish(s->upkeep, s->log_id, s->archived, s->next_header);
            if (!stop && gw_audit__upkeep_begin(s->upkeep)) {
                if (s->salvage_after_s)
                    salvage(s);
                gw_audit__upkeep_prune(s->upkeep, stopping, s);
                gw_audit__upkeep_end(s->upkeep);
            }
        }
        if (stop)
            break;
    }
    return NULL;
}

int gw_audit__shipper_start(const struct gw_audit_config *c, const char *logdir,
                            const char *log_id, struct audit_shipper **out,
                            struct gw_error *err)
{
    *out = NULL;
    const struct gw_audit_s3 *cfg = &c->s3;
    if (!cfg->access_key[0] || !cfg->secret_key[0])
        return GW_ERROR_SET(err, GW_EINVAL,
                            "GW_AUDIT_S3_BUCKET is set but no credentials "
                            "(GW_AUDIT_S3_ACCESS_KEY_ID / GW_AUDIT_S3_SECRET_ACCESS_KEY)");
    struct audit_shipper *s = gw_xcalloc(1, sizeof(*s));
    s->endpoint = gw_xstrdup(cfg->endpoint ? cfg->endpoint : "");
    size_t el = strlen(s->endpoint);
    while (el && s->endpoint[el - 1] == '/')
        s->endpoint[--el] = '\0';
    s->bucket = gw_xstrdup(cfg->bucket);
    s->region = gw_xstrdup(cfg->region && cfg->region[0] ? cfg->region : "us-east-1");
    s->prefix = gw_xstrdup(cfg->prefix ? cfg->prefix : "");
    s->access = gw_xstrdup(cfg->access_key);
    s->secret = gw_xstrdup(cfg->secret_key);
    s->token = gw_xstrdup(cfg->session_token ? cfg->session_token : "");
    s->mode = gw_xstrdup(cfg->lock_mode && cfg->lock_mode[0] ? cfg->lock_mode : "COMPLIANCE");
    s->ca = gw_xstrdup(cfg->ca_file ? cfg->ca_file : "");
    s->retention_days = cfg->retention_days ? cfg->retention_days : 2557;
    s->retry_max_s = cfg->retry_max_s ? cfg->retry_max_s : 300;
    s->local_days = c->local_retention_days;
    s->path_style = cfg->path_style;
    s->thin_checkpoints = !c->keep_all_checkpoints;
    s->final_size = UINT64_MAX;
    if (c->pg_url && c->pg_url[0]) {
        s->upkeep = gw_audit__upkeep_new(c->pg_url, c->pg_retention_days, c->maintenance_seconds);
        s->salvage_after_s = c->salvage_after_s;
    }
    s->logdir = gw_xstrdup(logdir);
    s->log_id = gw_xstrdup(log_id);
    s->kicked = true; /* ship what an earlier run left */
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    load_shipped(s);
    if (pthread_create(&s->thread, NULL, shipper_main, s) != 0) {
        s->thread = 0;
        gw_audit__shipper_stop(s, 0);
        return GW_ERROR_SET(err, GW_EIO, "audit: cannot start the archive shipper");
    }
    *out = s;
    return GW_OK;
}

void gw_audit__shipper_kick(struct audit_shipper *s)
{
    pthread_mutex_lock(&s->lock);
    s->kicked = true;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

void gw_audit__shipper_stop(struct audit_shipper *s, unsigned grace_ms)
{
    if (s->thread) {
        pthread_mutex_lock(&s->lock);
        s->stop = true;
        s->stop_by = gw_clock_deadline(CLOCK_MONOTONIC, (long)grace_ms);
        s->kicked = true;
        pthread_cond_signal(&s->cond);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->thread, NULL);
    }
    gw_audit__upkeep_free(s->upkeep);
    gw_free(s->next_header);
    for (size_t i = 0; i < s->nshipped; i++)
        gw_free(s->shipped[i]);
    gw_free(s->shipped);
    OPENSSL_cleanse(s->secret, strlen(s->secret));
    gw_free(s->endpoint);
    gw_free(s->bucket);
    gw_free(s->region);
    gw_free(s->prefix);
    gw_free(s->access);
    gw_free(s->secret);
    gw_free(s->token);
    gw_free(s->mode);
    gw_free(s->ca);
    gw_free(s->logdir);
    gw_free(s->log_id);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    gw_free(s);
}

void gw_audit__shipper_final(struct audit_shipper *s, uint64_t size)
{
    pthread_mutex_lock(&s->lock);
    s->final_size = size;
    pthread_mutex_unlock(&s->lock);
}

void gw_audit__shipper_stats(struct audit_shipper *s, unsigned long long *shipped,
                             unsigned long long *errors, unsigned long long *backlog,
                             long long *oldest_unix)
{
    *shipped = atomic_load(&s->n_ok);
    *errors = atomic_load(&s->n_err);
    *backlog = atomic_load(&s->backlog);
    *oldest_unix = atomic_load(&s->oldest);
}

void gw_audit__shipper_upkeep_stats(struct audit_shipper *s, unsigned long long *pruned,
                                    unsigned long long *salvaged, unsigned long long *errors)
{
    *pruned = *salvaged = *errors = 0;
    if (s->upkeep)
        gw_audit__upkeep_stats(s->upkeep, pruned, salvaged, errors);
}
