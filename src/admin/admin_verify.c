/*
 * src/admin/admin_verify.c
 * The admin API's verification of an audit log (POST/GET /admin/api/audit/verify): this
 * replica's own log from its folder, or (?log=, with the database copy) another replica's log
 * straight from its rows in PostgreSQL (gw_audit_verify_pg: a dead pod's log included).
 * One at a time, on its own thread, so that a long log (minutes for gigabytes) holds neither a
 * pool thread nor a second reading of the whole log. A request starts a verification, or joins
 * the one running for the same log (a request for another log meanwhile is refused: 409), and
 * waits for it up to its `wait`; a request that stops waiting gets the progress (202) and the
 * verification goes on, its summary then shown by GET /audit/chain (this replica's log) or GET
 * /audit/logs (every log).
 *
 *   IDLE --request--> RUNNING --done--> IDLE (report and summary kept, waiters woken)
 *                        |--admin closing--> the reading stops at its next progress call
 *                                            (every GW_AUDIT_PROGRESS_EVERY records)
 *
 * The own log's last summary is kept beside it (<log folder>/verification.json, replaced
 * atomically) and read back at start, so that a restart does not turn a verified log into
 * "unknown": the file lives and goes with the log it describes. Other logs' last summaries are
 * kept in memory (the last VERIFY_OTHERS logs verified by this replica). With the database
 * copy on, every summary is also stored with its log in the database (which replica ran it in
 * "by"), so that every replica's console shows it and a restart keeps it; GET /audit/logs shows
 * the newer of the stored and the kept one. What is written (file and database) is sealed with
 * the audit signing key and believed when read back only if a key of the deployment signed it
 * for that log (audit_verification.h): a forged "ok" shows as "unverified".
 *
 * Threading: every field below `lock` is guarded by it; the thread owns its directory copy and
 * its verifiers. gw_admin__verify_free cancels and joins it.
 */
#include "admin/admin_internal.h"

#include "audit/audit.h"
#include "audit/audit_note.h"
#include "audit/audit_read.h"
#include "audit/audit_verification.h"
#include "core/alloc.h"
#include "core/json.h"
#include "core/log.h"
#include "core/str.h"
#include "core/thread.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define VERIFY_MAX_KEYS 16
#define VERIFY_OTHERS 64 /* other replicas' logs whose last summary is kept */

struct other_summary {
    char log[GW_AUDIT_LOG_ID_MAX + 1];
    json_t *summary;
};

struct admin_verify {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* broadcast when a verification ends */
    pthread_t thread;
    bool joinable;       /* a thread was started and not joined yet */
    bool running, stop;
    uint64_t done;       /* verifications ended (the running one is number done + 1) */
    time_t started;
    int pass;            /* 1 or 2 (see gw_audit_verify_dir_progress) */
    uint64_t read;       /* records read in that pass */
    json_t *report;      /* the own log's last full report */
    json_t *summary;     /* {"status","verifiedThrough","checkedAt","error","by","run"} */
    char *state_path;    /* where the summary is kept between runs (NULL: nowhere) */
    /* the last run, whichever log: what the requests waiting for it get */
    json_t *run_report;  /* NULL when it failed (run_error) or was stopped */
    char run_log[GW_AUDIT_LOG_ID_MAX + 1]; /* its log ("": this replica's own) */
    char run_error[GW_ERROR_MSG_MAX];
    int run_code; /* GW_ENOTFOUND: no such log in the database; GW_EIO: it could not answer */
    struct other_summary others[VERIFY_OTHERS]; /* other logs, most recent last */
    size_t nothers;
    /* the running verification's own inputs: a folder, or a log in the database */
    char log[GW_AUDIT_LOG_ID_MAX + 1]; /* "": this replica's own */
    char own[GW_AUDIT_LOG_ID_MAX + 1]; /* this replica's log id (who ran it, for the store) */
    char *logdir, *db_url;             /* db_url: the database copy (NULL: off) */
    struct gw_note_verifier *vs[VERIFY_MAX_KEYS];
    size_t nvs;
    /* for the life of the struct: what seals the summaries written, what opens those read */
    const struct gw_note_signer *signer; /* the audit's (borrowed: it outlives the admin API) */
    struct gw_note_verifier *keys[VERIFY_MAX_KEYS];
    size_t nkeys;
    char own_id[GW_AUDIT_LOG_ID_MAX + 1]; /* this replica's log id */
};

static void iso_of(time_t t, char *out, size_t size)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

#define SUMMARY_FILE "verification.json"

/* The summary kept by an earlier run, if it is one (a file that is not is ignored: the next
 * verification replaces it), as far as its seal vouches for it. */
static json_t *load_summary(const struct admin_verify *v, const char *path)
{
    char text[GW_AUDIT_VERIFICATION_MAX + 1];
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t n = fread(text, 1, sizeof(text), f);
    fclose(f);
    json_t *kept = gw_audit_verification_parse(text, n); /* NULL past the limit (n > MAX) too */
    json_t *s = gw_audit_verification_open(kept, v->own_id, v->keys, v->nkeys);
    json_decref(kept);
    return s;
}

/* Replaces the kept summary (write a temporary file, then rename: never half a file). A failure
 * only means the next start says "unknown". */
static void save_summary(const char *path, const json_t *s)
{
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    char *text = json_dumps(s, JSON_COMPACT | JSON_SORT_KEYS);
    int fd = text ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
    size_t n = text ? strlen(text) : 0;
    bool ok = fd >= 0 && n <= GW_AUDIT_VERIFICATION_MAX && write(fd, text, n) == (ssize_t)n;
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    if (!ok || rename(tmp, path) != 0)
        unlink(tmp);
    free(text); /* checksrc: allow (jansson's allocation) */
}

struct admin_verify *gw_admin__verify_new(struct gw_audit *a)
{
    struct admin_verify *v = gw_xcalloc(1, sizeof(*v));
    pthread_mutex_init(&v->lock, NULL);
    pthread_cond_init(&v->cond, NULL);
    if (a) {
        v->signer = gw_audit_signer(a);
        v->nkeys = gw_admin__load_verifiers(a, v->keys, VERIFY_MAX_KEYS);
        gw_strlcpy(v->own_id, sizeof(v->own_id), gw_audit_log_id(a));
        const char *logdir = gw_audit_log_dir(a);
        size_t n = strlen(logdir) + sizeof("/" SUMMARY_FILE);
        v->state_path = gw_xmalloc(n);
        snprintf(v->state_path, n, "%s/" SUMMARY_FILE, logdir);
        v->summary = load_summary(v, v->state_path);
    }
    return v;
}

void gw_admin__verify_stop(struct admin_verify *v)
{
    if (!v)
        return;
    pthread_mutex_lock(&v->lock);
    v->stop = true;
    pthread_cond_broadcast(&v->cond); /* waiting requests answer now */
    pthread_mutex_unlock(&v->lock);
}

void gw_admin__verify_free(struct admin_verify *v)
{
    if (!v)
        return;
    gw_admin__verify_stop(v);
    pthread_mutex_lock(&v->lock);
    bool join = v->joinable;
    pthread_mutex_unlock(&v->lock);
    if (join)
        pthread_join(v->thread, NULL);
    json_decref(v->report);
    json_decref(v->summary);
    json_decref(v->run_report);
    for (size_t i = 0; i < v->nothers; i++)
        json_decref(v->others[i].summary);
    for (size_t i = 0; i < v->nkeys; i++)
        gw_note_verifier_free(v->keys[i]);
    gw_free(v->state_path);
    pthread_cond_destroy(&v->cond);
    pthread_mutex_destroy(&v->lock);
    gw_free(v);
}

static bool on_progress(void *ud, int pass, uint64_t records)
{
    struct admin_verify *v = ud;
    pthread_mutex_lock(&v->lock);
    v->pass = pass;
    v->read = records;
    bool go_on = !v->stop;
    pthread_mutex_unlock(&v->lock);
    return go_on;
}

static json_t *summarize(const json_t *r)
{
    bool ok = json_is_true(json_object_get(r, "ok"));
    char when[40];
    iso_of(time(NULL), when, sizeof(when));
    json_t *s = json_pack("{s:s,s:I,s:s}", "status", ok ? "ok" : "broken", "verifiedThrough",
                          json_integer_value(json_object_get(r, "records")), "checkedAt", when);
    const char *detail = gw_json_str(json_array_get(json_object_get(r, "problems"), 0),
                                     "detail");
    if (detail) { /* the first problem, cut at a character to what a kept summary holds */
        size_t n = strlen(detail);
        if (n > GW_AUDIT_VERIFICATION_ERROR_MAX) {
            n = GW_AUDIT_VERIFICATION_ERROR_MAX;
            while (n > 0 && ((unsigned char)detail[n] & 0xC0) == 0x80)
                n--;
        }
        json_object_set_new(s, "error", json_stringn(detail, n));
    }
    return s;
}

/* Frees the running verification's inputs. Under the lock. */
static void drop_inputs(struct admin_verify *v)
{
    for (size_t i = 0; i < v->nvs; i++)
        gw_note_verifier_free(v->vs[i]);
    v->nvs = 0;
    gw_free(v->logdir);
    gw_free(v->db_url);
    v->logdir = v->db_url = NULL;
}

/* The kept summary of another log (NULL: none). Under the lock. */
static struct other_summary *other_of(struct admin_verify *v, const char *log)
{
    for (size_t i = 0; i < v->nothers; i++)
        if (!strcmp(v->others[i].log, log))
            return &v->others[i];
    return NULL;
}

/* The kept summary of a log (NULL: this replica's own; NULL result: none yet). Under the lock. */
static const json_t *kept_of(struct admin_verify *v, const char *log)
{
    if (!log)
        return v->summary;
    const struct other_summary *o = other_of(v, log);
    return o ? o->summary : NULL;
}

/* Keeps `s` as the last summary of another log (most recent last; the oldest goes when full).
 * Under the lock; takes the reference. */
static void keep_other(struct admin_verify *v, const char *log, json_t *s)
{
    struct other_summary *o = other_of(v, log);
    if (o) { /* moved to the end */
        json_decref(o->summary);
        struct other_summary keep = *o;
        memmove(o, o + 1, (size_t)(v->others + v->nothers - (o + 1)) * sizeof(*o));
        v->others[v->nothers - 1] = keep;
    } else {
        if (v->nothers == VERIFY_OTHERS) {
            json_decref(v->others[0].summary);
            memmove(v->others, v->others + 1, (VERIFY_OTHERS - 1) * sizeof(v->others[0]));
            v->nothers--;
        }
        gw_strlcpy(v->others[v->nothers].log, sizeof(v->others[0].log), log);
        v->nothers++;
    }
    v->others[v->nothers - 1].summary = s;
}

static void *verify_main(void *arg)
{
    gw_thread_init_self("gw-verify", GW_THREAD_BACKGROUND);
    struct admin_verify *v = arg;
    struct gw_error err = {0};
    bool own = !v->log[0];
    json_t *r = own ? gw_audit_verify_dir_progress(v->logdir, v->vs, v->nvs, on_progress, v)
                    : gw_audit_verify_pg(v->db_url, v->log, v->vs, v->nvs, on_progress, v, &err);
    json_t *s = r ? summarize(r) : NULL;
    if (s)
        json_object_set_new(s, "by", json_string(v->own)); /* the replica that ran it */
    /* what is written is sealed (read back, it is believed only with its seal); this process
     * believes its own run */
    struct gw_error se = {0};
    json_t *sealed = s && v->signer ? gw_audit_verification_seal(s, own ? v->own : v->log,
                                                                  v->signer, &se)
                                    : NULL;
    if (sealed)
        json_object_set_new(s, "signedBy", json_string(gw_note_signer_name(v->signer)));
    else if (s)
        GW_LOG(GW_LOG_WARN, "admin", "the verification of log %s is kept in memory only: %s",
               own ? v->own : v->log, se.msg[0] ? se.msg : "no signing key");
    if (sealed && own && v->state_path)
        save_summary(v->state_path, sealed);
    /* for every replica's console; a failure only leaves it unshared */
    if (sealed && v->db_url &&
        gw_audit_pg_save_verification(v->db_url, own ? v->own : v->log, sealed, &se) != GW_OK)
        GW_LOG(GW_LOG_WARN, "admin", "the verification of log %s is not stored in the audit "
                                     "database: %s",
               own ? v->own : v->log, se.msg);
    json_decref(sealed);
    pthread_mutex_lock(&v->lock);
    json_decref(v->run_report);
    v->run_report = r;
    gw_strlcpy(v->run_log, sizeof(v->run_log), v->log);
    gw_strlcpy(v->run_error, sizeof(v->run_error),
               r ? "" : err.msg[0] ? err.msg : "the verification was stopped (shutting down)");
    if (err.code == GW_ENOTFOUND)
        v->run_code = err.code;
    else
        v->run_code = err.msg[0] ? GW_EIO : GW_ERR;
    if (s) { /* NULL: it failed, or stopped because the admin API is closing */
        json_object_set_new(s, "run", json_integer((json_int_t)(v->done + 1)));
        if (own) {
            json_decref(v->report);
            v->report = json_incref(r);
            json_decref(v->summary);
            v->summary = s;
        } else {
            keep_other(v, v->log, s);
        }
    }
    v->done++;
    v->running = false;
    drop_inputs(v);
    pthread_cond_broadcast(&v->cond);
    pthread_mutex_unlock(&v->lock);
    return NULL;
}

static json_t *progress_json(const struct admin_verify *v)
{
    char when[40];
    iso_of(v->started, when, sizeof(when));
    json_t *p = json_pack("{s:s,s:I,s:s,s:i,s:I}", "state", "running", "run",
                          (json_int_t)(v->done + 1), "startedAt", when, "pass", v->pass,
                          "recordsRead", (json_int_t)v->read);
    if (v->log[0])
        json_object_set_new(p, "log", json_string(v->log));
    return p;
}

int gw_admin__verify_run(struct admin_verify *v, struct gw_audit *a, const char *log,
                         const char *db_url, unsigned wait_s, json_t **out,
                         struct gw_error *err)
{
    *out = NULL;
    const char *want_log = log ? log : "";
    pthread_mutex_lock(&v->lock);
    if (v->stop) {
        pthread_mutex_unlock(&v->lock);
        return GW_ERROR_SET(err, GW_ERR, "the admin API is shutting down");
    }
    if (v->running && strcmp(v->log, want_log) != 0) {
        int rc = GW_ERROR_SET(err, GW_ECONFLICT,
                              "a verification of %s%s is running (pass %d of 2, %llu records "
                              "read): one at a time; ask again when it has ended",
                              v->log[0] ? "log " : "this replica's log", v->log, v->pass,
                              (unsigned long long)v->read);
        pthread_mutex_unlock(&v->lock);
        return rc;
    }
    if (!v->running) {
        if (v->joinable) { /* the last one has ended: reap its thread */
            pthread_join(v->thread, NULL);
            v->joinable = false;
        }
        gw_strlcpy(v->log, sizeof(v->log), want_log);
        gw_strlcpy(v->own, sizeof(v->own), gw_audit_log_id(a));
        v->db_url = db_url ? gw_xstrdup(db_url) : NULL; /* read from (another log), stored to */
        if (!log)
            v->logdir = gw_xstrdup(gw_audit_log_dir(a));
        v->nvs = gw_admin__load_verifiers(a, v->vs, VERIFY_MAX_KEYS);
        v->started = time(NULL);
        v->pass = 1;
        v->read = 0;
        if (pthread_create(&v->thread, NULL, verify_main, v) != 0) {
            drop_inputs(v);
            pthread_mutex_unlock(&v->lock);
            return GW_ERROR_SET(err, GW_ERR, "cannot start the verification thread");
        }
        v->joinable = true;
        v->running = true;
    }
    uint64_t want = v->done + 1; /* the one running now (started or joined) */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)wait_s;
    while (wait_s > 0 && v->done < want && !v->stop) { /* a wait releases the lock */
        int rc = pthread_cond_timedwait(&v->cond, &v->lock, &until);
        if (rc == ETIMEDOUT)
            break;
    }
    int rc = GW_OK;
    bool same = !strcmp(v->run_log, want_log); /* the last run to end was of this log */
    if (v->done >= want && same && v->run_report) /* (or a later run of it: its report) */
        *out = json_deep_copy(v->run_report); /* each request serialises its own copy */
    else if (v->done >= want && same)
        rc = GW_ERROR_SET(err, v->run_code, "%s", v->run_error);
    else if (v->done >= want) /* another log's run ended since: this log's kept outcome */
        *out = json_deep_copy(kept_of(v, log));
    else if (v->running)
        *out = progress_json(v);
    if (rc == GW_OK && !*out)
        rc = GW_ERROR_SET(err, GW_ERR, "the verification was stopped (shutting down)");
    pthread_mutex_unlock(&v->lock);
    return rc;
}

json_t *gw_admin__verify_summary(struct admin_verify *v, const char *log)
{
    return gw_admin__verify_summary_or(v, log, NULL);
}

json_t *gw_admin__verify_summary_or(struct admin_verify *v, const char *log,
                                    const json_t *stored)
{
    /* what the stored outcome's seal vouches for ("unverified", without a time, when nothing) */
    json_t *opened = gw_audit_verification_open(stored, log ? log : v->own_id, v->keys,
                                                v->nkeys);
    pthread_mutex_lock(&v->lock);
    const json_t *kept = kept_of(v, log);
    const char *ks = gw_json_str(kept, "checkedAt"), *ss = gw_json_str(opened, "checkedAt");
    if (opened && (!kept || (ss && (!ks || strcmp(ss, ks) > 0)))) /* ISO 8601 UTC: later sorts
                                                                    * later */
        kept = opened;
    json_t *s = kept ? json_deep_copy(kept) : json_pack("{s:s}", "status", "unknown");
    if (v->running && !strcmp(v->log, log ? log : ""))
        json_object_set_new(s, "running", progress_json(v));
    pthread_mutex_unlock(&v->lock);
    json_decref(opened);
    return s;
}
