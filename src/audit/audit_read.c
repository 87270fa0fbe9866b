/*
 * src/audit/audit_read.c
 * Offline reading of audit logs (audit_read.h): sequential passes over the segments give, per
 * physical record line, its parsed sequence number, leaf hash and location. Verification
 * streams twice (the numbers first, then every judgement as the records pass: sequence, chain,
 * canonical form, headers, and every checkpoint against the tree grown so far); search reads
 * from where it must (newest first: segment by segment from the newest); proofs read the proof
 * index (audit_index.c) and check what it gives against the signed tree.
 * Locating a change: an edited record k is named by its successor's "prev" (which holds k's
 * original hash); the last record before a checkpoint has no successor, so a checkpoint whose
 * head differs while the chain inside its range is intact names that record; a rewritten chain
 * is bounded by the first checkpoint that no longer matches.
 */
#include "audit/audit_read.h"
#include "audit/audit_internal.h"
#include "audit/audit_jcs.h"

#include "core/alloc.h"
#include "core/log.h"
#include "pii/pii.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* One physical record line. */
struct rec {
    uint64_t seq;     /* as written in the line (UINT64_MAX when unreadable) */
    gw_hash leaf;
    gw_hash prev;     /* its "prev" field */
    bool has_prev, prev_ok_format, parsed, canonical;
    uint32_t seg, line;
};

struct logview {
    struct audit_seg *segs;
    size_t nseg;
    struct audit_seg_header *hdr; /* per segment */
    bool *hdr_ok;
    size_t n; /* record lines read */
    json_t *problems, *notes;
    bool torn_open;
};

static void problem(struct logview *v, const char *kind, long long seq, const char *seg,
                    long line, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void problem(struct logview *v, const char *kind, long long seq, const char *seg,
                    long line, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (json_array_size(v->problems) >= 1000)
        return;
    json_t *p = json_pack("{s:s,s:s}", "kind", kind, "detail", msg);
    if (seq >= 0)
        json_object_set_new(p, "seq", json_integer(seq));
    if (seg)
        json_object_set_new(p, "segment", json_string(seg));
    if (line > 0)
        json_object_set_new(p, "line", json_integer(line));
    json_array_append_new(v->problems, p);
}

static void note(struct logview *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct logview *v, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_array_append_new(v->notes, json_string(msg));
}

static bool b64h(const char *s, gw_hash out)
{
    return s && gw_note_unb64(s, strlen(s), out, GW_HASH_LEN) == GW_HASH_LEN;
}

/* Parses a record line: r->parsed with its number and prev when it has the form
 * {"event":{...},"prev":"...","seq":N}. Returns the parsed JSON (or NULL). */
static json_t *parse_record(const char *line, size_t len, struct rec *r)
{
    json_error_t je;
    json_t *j = json_loadb(line, len, 0, &je);
    json_t *sq = json_object_get(j, "seq");
    const char *pv = json_string_value(json_object_get(j, "prev"));
    if (j && json_is_integer(sq) && json_integer_value(sq) >= 0 && pv &&
        json_is_object(json_object_get(j, "event")) && json_object_size(j) == 3) {
        r->parsed = true;
        r->seq = (uint64_t)json_integer_value(sq);
        r->has_prev = pv[0] != '\0';
        r->prev_ok_format = !r->has_prev || b64h(pv, r->prev);
    }
    return j;
}

/* Reads the segments into the view, calling `fn` per record line. */
typedef bool (*line_fn)(void *ud, const struct rec *r, const char *line, size_t len,
                        const json_t *rec);

struct load_opts {
    line_fn fn;
    void *ud;
    bool judge;        /* verification: header and torn-line problems, canonical form */
    bool leaf;         /* compute each record's leaf hash */
    /* every GW_AUDIT_PROGRESS_EVERY record lines (may be NULL); false stops the reading */
    bool (*progress)(void *ud, uint64_t lines);
    void *progress_ud;
    uint64_t from_seq; /* skip the segments that end before this record */
    /* number records by their position (line L of a segment starting at F is record F + L - 2)
     * and parse nothing: for the proof index, which is checked against the signed tree */
    bool positional;
    size_t seg_lo, seg_hi; /* only segments [lo, hi) of the list (hi = 0: to the end) */
};

/* A log folder as a source. */
static int dir_segments(void *ud, struct audit_seg **out, size_t *n, struct gw_error *err)
{
    return gw_audit__list_segments(ud, out, n, err);
}

static FILE *dir_open(void *ud, const struct audit_seg *seg, size_t index)
{
    (void)index;
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s/%s", (const char *)ud, AUDIT_SEG_DIR, seg->name);
    return fopen(path, "rb");
}

static int dir_checkpoints(void *ud, uint64_t **sizes, size_t *n)
{
    return gw_audit__list_checkpoints(ud, sizes, n, NULL);
}

static int dir_checkpoint(void *ud, uint64_t size, char **text, size_t *len,
                          struct gw_error *err)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s/%020llu.cp", (const char *)ud, AUDIT_CP_DIR,
             (unsigned long long)size);
    return gw_audit__read_file(path, 65536, text, len, err);
}

static struct audit_src dir_src(const char *logdir)
{
    struct audit_src s = {dir_segments, dir_open, dir_checkpoints, dir_checkpoint,
                          (void *)logdir};
    return s;
}

static int load_src(const struct audit_src *src, struct logview *v, const struct load_opts *o,
                    struct gw_error *err)
{
    memset(v, 0, sizeof(*v));
    v->problems = json_array();
    v->notes = json_array();
    int rc = src->segments(src->ud, &v->segs, &v->nseg, err);
    if (rc != GW_OK)
        return rc;
    v->hdr = gw_xcalloc(v->nseg ? v->nseg : 1, sizeof(*v->hdr));
    v->hdr_ok = gw_xcalloc(v->nseg ? v->nseg : 1, sizeof(bool));
    bool go_on = true;
    size_t hi = o->seg_hi && o->seg_hi < v->nseg ? o->seg_hi : v->nseg;
    struct rec scratch;
    for (size_t s = o->seg_lo; s < hi && go_on; s++) {
        if (!o->judge && s + 1 < v->nseg && v->segs[s + 1].first <= o->from_seq)
            continue; /* every record of this segment comes before from_seq */
        FILE *f = src->open(src->ud, &v->segs[s], s);
        if (!f) {
            problem(v, "format", -1, v->segs[s].name, 0, "cannot open the segment");
            continue;
        }
        char *line = NULL;
        size_t cap = 0;
        ssize_t got;
        long lineno = 0;
        while (go_on && (got = getline(&line, &cap, f)) >= 0) { /* checksrc: allow */
            lineno++;
            if (got > 0 && line[0] == '\0' && v->segs[s].open && s + 1 == v->nseg)
                break; /* the open segment's zero-filled tail: its data ends here */
            bool complete = got > 0 && line[got - 1] == '\n';
            size_t len = complete ? (size_t)got - 1 : (size_t)got;
            if (lineno == 1) {
                struct gw_error he = {0};
                if (!complete || gw_audit__parse_header(line, len, &v->hdr[s], &he) != GW_OK) {
                    if (o->judge)
                        problem(v, "header", -1, v->segs[s].name, 1, "bad segment header: %s",
                                he.msg[0] ? he.msg : "incomplete");
                } else if (v->hdr[s].first != v->segs[s].first) {
                    if (o->judge)
                        problem(v, "header", -1, v->segs[s].name, 1,
                                "header says the segment starts at %llu, its name says %llu",
                                (unsigned long long)v->hdr[s].first,
                                (unsigned long long)v->segs[s].first);
                } else {
                    v->hdr_ok[s] = true;
                }
                continue;
            }
            /* reading from a record on (not judging): in a well-formed segment line L holds
             * record first + L - 2, so the lines before it need no parsing */
            if (!o->judge && complete && v->hdr_ok[s] &&
                v->hdr[s].first + (uint64_t)(lineno - 2) < o->from_seq) {
                v->n++;
                continue;
            }
            if (!complete) {
                if (o->judge) {
                    if (v->segs[s].open && s + 1 == v->nseg) {
                        v->torn_open = true;
                        note(v, "%s ends with a torn record (a crash while writing it: it was "
                                "never acknowledged; the gateway drops it at restart)",
                             v->segs[s].name);
                    } else {
                        problem(v, "torn", -1, v->segs[s].name, lineno,
                                "the segment ends inside a record (cut off)");
                    }
                }
                break;
            }
            struct rec *r = &scratch; /* one record at a time: nothing grows with the log */
            if (++v->n % GW_AUDIT_PROGRESS_EVERY == 0 && o->progress &&
                !o->progress(o->progress_ud, v->n)) {
                go_on = false;
                continue;
            }
            memset(r, 0, sizeof(*r));
            r->seq = UINT64_MAX;
            r->seg = (uint32_t)s;
            r->line = (uint32_t)lineno;
            if (o->leaf)
                gw_merkle_leaf_hash(line, len, r->leaf);
            if (o->positional && v->hdr_ok[s]) { /* the number by position, nothing parsed */
                r->parsed = true;
                r->seq = v->hdr[s].first + (uint64_t)(lineno - 2);
                go_on = o->fn(o->ud, r, line, len, NULL);
                continue;
            }
            json_t *j = parse_record(line, len, r);
            if (r->parsed) {
                if (o->judge) {
                    struct gw_buf cb;
                    gw_buf_init(&cb, len + 1024);
                    r->canonical = gw_jcs_dump(j, &cb) == GW_OK && gw_buf_len(&cb) == len &&
                                   memcmp(gw_buf_ptr(&cb), line, len) == 0;
                    gw_buf_fini(&cb);
                }
            }
            if (o->fn)
                go_on = o->fn(o->ud, r, line, len, j);
            json_decref(j);
        }
        free(line); /* checksrc: allow (getline's buffer) */
        fclose(f);
    }
    return GW_OK;
}

static int load(const char *logdir, struct logview *v, const struct load_opts *o,
                struct gw_error *err)
{
    struct audit_src src = dir_src(logdir);
    return load_src(&src, v, o, err);
}

static void view_free(struct logview *v)
{
    gw_free(v->segs);
    gw_free(v->hdr);
    gw_free(v->hdr_ok);
    json_decref(v->problems);
    json_decref(v->notes);
}

/* Loads and verifies every checkpoint file: sizes (sorted) with roots and validity. */
struct cpinfo {
    uint64_t size;
    gw_hash root;
    bool valid; /* well-formed and signed by a known key */
    char origin[256];
};

static size_t load_checkpoints(const struct audit_src *src, struct gw_note_verifier *const *vs,
                               size_t nvs, struct logview *v, struct cpinfo **out)
{
    uint64_t *sizes = NULL;
    size_t n = 0;
    src->checkpoints(src->ud, &sizes, &n);
    *out = gw_xcalloc(n ? n : 1, sizeof(**out));
    for (size_t i = 0; i < n; i++) {
        char name[64], *text = NULL;
        size_t tl = 0;
        snprintf(name, sizeof(name), "%020llu.cp", (unsigned long long)sizes[i]);
        struct cpinfo *c = &(*out)[i];
        c->size = sizes[i];
        struct gw_error err = {0};
        if (src->checkpoint(src->ud, sizes[i], &text, &tl, &err) != GW_OK) {
            if (v)
                problem(v, "checkpoint_format", -1, name, 0, "%s", err.msg);
            continue;
        }
        struct gw_checkpoint cp;
        int rc = gw_note_open_checkpoint(text, tl, vs, nvs, &cp, &err);
        gw_free(text);
        if (rc == GW_EINVAL) {
            if (v)
                problem(v, "checkpoint_format", -1, name, 0, "%s", err.msg);
            continue;
        }
        if (rc == GW_EDENIED) {
            if (v)
                problem(v, "signature", (long long)cp.size, name, 0,
                        "no signature by a trusted key verifies (%u signature lines)", cp.nsigs);
            continue;
        }
        if (cp.size != sizes[i]) {
            if (v)
                problem(v, "checkpoint_format", (long long)cp.size, name, 0,
                        "the file name says size %llu, the signed note says %llu",
                        (unsigned long long)sizes[i], (unsigned long long)cp.size);
            continue;
        }
        c->valid = true;
        memcpy(c->root, cp.root, GW_HASH_LEN);
        snprintf(c->origin, sizeof(c->origin), "%s", cp.origin);
    }
    gw_free(sizes);
    return n;
}

static const char *seg_name(struct logview *v, uint32_t s)
{
    return s < v->nseg ? v->segs[s].name : "?";
}

/* Verification streams the log twice: pass 1 notes each record line's number (8 bytes per
 * record: the only memory that grows with the log), pass 2 judges each record as it passes
 * (its form, its number against the counts of pass 1, its chain to the record before it) and,
 * before it, the segment boundary and the checkpoints at that tree size against the tree grown
 * so far. Problems of the records come first in the report, then the missing ones, then those
 * of headers and checkpoints. */
struct vseqs {
    uint64_t *seq;
    size_t n, cap;
};

/* Room for one more element of `size` bytes in the array *p of *cap (doubling). */
static void *room(void *p, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return p;
    *cap = *cap ? *cap * 2 : 4096;
    return gw_xrealloc(p, *cap * size);
}

static bool seq_line(void *ud, const struct rec *r, const char *line, size_t len,
                     const json_t *rec)
{
    (void)line;
    (void)len;
    (void)rec;
    struct vseqs *q = ud;
    q->seq = room(q->seq, q->n, &q->cap, sizeof(uint64_t));
    q->seq[q->n++] = r->parsed ? r->seq : UINT64_MAX;
    return true;
}

struct vstate {
    struct logview *v;    /* segments, headers; problems of the records */
    json_t *recp;         /* problems of the records */
    json_t *later;        /* problems of headers and checkpoints (after the missing records) */
    uint64_t base, maxseq;
    unsigned char *seen;  /* how often each number in [base, maxseq) occurs (capped) */
    struct cpinfo *cps;
    size_t ncp, ci;
    const char *origin;
    struct gw_merkle_range run;
    size_t i; /* records judged */
    /* the record before this one */
    bool has_last;
    uint64_t last_seq;
    gw_hash last_leaf;
    uint32_t last_seg, last_line;
    /* since the latest valid checkpoint, every record is confirmed by its successor */
    bool chain_ok;
    uint64_t prev_cp, latest_valid;
    bool any_valid;
    unsigned matched; /* valid checkpoints whose head the records produce */
};

/* A problem reported in `into` (the records' or the later ones) instead of v->problems. */
static void problem_in(struct vstate *st, json_t *into, const char *kind, long long seq,
                       const char *seg, long line, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

static void problem_in(struct vstate *st, json_t *into, const char *kind, long long seq,
                       const char *seg, long line, const char *fmt, ...)
{
    char detail[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    json_t *keep = st->v->problems;
    st->v->problems = into;
    problem(st->v, kind, seq, seg, line, "%s", detail);
    st->v->problems = keep;
}

#define later(st, ...) problem_in((st), (st)->later, __VA_ARGS__)
#define record_problem(st, ...) problem_in((st), (st)->recp, __VA_ARGS__)

/* The segment boundary and the checkpoints at tree size `size` (the tree of the records so
 * far). */
static void judge_size(struct vstate *st, uint64_t size)
{
    struct logview *v = st->v;
    for (size_t s = 1; s < v->nseg; s++) {
        if (v->hdr_ok[s] && v->hdr[s].first == size) {
            gw_hash a, b;
            gw_merkle_range_root(&st->run, a);
            gw_merkle_range_root(&v->hdr[s].range, b);
            if (memcmp(a, b, GW_HASH_LEN) != 0 || v->hdr[s].range.size != st->run.size)
                later(st, "header", (long long)size, v->segs[s].name, 1,
                      "the segment header's tree does not match the records before it");
            if (strcmp(v->hdr[s].origin, st->origin) != 0)
                later(st, "origin", -1, v->segs[s].name, 1,
                      "segment origin '%s' differs from '%s'", v->hdr[s].origin, st->origin);
        }
    }
    while (st->ci < st->ncp && st->cps[st->ci].size == size) {
        struct cpinfo *c = &st->cps[st->ci++];
        if (!c->valid)
            continue;
        char name[64];
        snprintf(name, sizeof(name), "%020llu.cp", (unsigned long long)c->size);
        gw_hash root;
        gw_merkle_range_root(&st->run, root);
        if (strcmp(c->origin, st->origin) != 0 && st->origin[0])
            later(st, "origin", (long long)c->size, name, 0,
                  "checkpoint origin '%s' is not the log's '%s'", c->origin, st->origin);
        if (memcmp(root, c->root, GW_HASH_LEN) != 0) {
            if (st->chain_ok && size > st->prev_cp && st->has_last)
                later(st, "edited", (long long)(size - 1), seg_name(v, st->last_seg),
                      st->last_line,
                      "record %llu was modified: signed checkpoint %llu no longer matches and "
                      "every earlier record since checkpoint %llu is confirmed by its successor",
                      (unsigned long long)(size - 1), (unsigned long long)size,
                      (unsigned long long)st->prev_cp);
            later(st, "checkpoint_mismatch", (long long)size, name, 0,
                  "the records no longer produce the tree head signed at size %llu: a record in "
                  "[%llu, %llu) was changed",
                  (unsigned long long)size, (unsigned long long)st->prev_cp,
                  (unsigned long long)size);
        } else if (size > 0) {
            st->matched++;
        }
        st->latest_valid = size;
        st->any_valid = true;
        st->prev_cp = size;
        st->chain_ok = true;
    }
}

static bool judge_line(void *ud, const struct rec *r, const char *line, size_t len,
                       const json_t *rec)
{
    (void)line;
    (void)len;
    (void)rec;
    struct vstate *st = ud;
    struct logview *v = st->v;
    uint64_t expect = st->base + st->i;
    judge_size(st, expect);
    const char *sn = seg_name(v, r->seg);
    if (!r->parsed) {
        record_problem(st, "format", (long long)expect, sn, r->line,
                "not a record (expected {\"event\":{...},\"prev\":...,\"seq\":%llu})",
                (unsigned long long)expect);
    } else {
        if (!r->canonical)
            record_problem(st, "not_canonical", (long long)r->seq, sn, r->line,
                    "record %llu is not in its canonical (JCS) form: it was rewritten",
                    (unsigned long long)r->seq);
        bool in = r->seq >= st->base && r->seq < st->maxseq;
        if (r->seq != expect) {
            if (in && st->seen[r->seq - st->base] > 1)
                record_problem(st, "duplicate", (long long)r->seq, sn, r->line,
                        "record %llu appears more than once", (unsigned long long)r->seq);
            else if (r->seq < expect || (expect < st->maxseq && st->seen[expect - st->base]))
                record_problem(st, "reordered", (long long)r->seq, sn, r->line,
                        "record %llu found where record %llu belongs (records moved)",
                        (unsigned long long)r->seq, (unsigned long long)expect);
        }
        /* the chain: this record's prev must be the hash of the physical predecessor */
        if (st->i > 0 && r->seq == expect && st->has_last && st->last_seq == expect - 1 &&
            (!r->has_prev || !r->prev_ok_format ||
             memcmp(r->prev, st->last_leaf, GW_HASH_LEN) != 0)) {
            if (expect - 1 >= st->prev_cp)
                st->chain_ok = false;
            record_problem(st, "edited", (long long)(expect - 1), seg_name(v, st->last_seg),
                    st->last_line,
                    "record %llu was modified: its hash no longer matches the \"prev\" that "
                    "record %llu holds",
                    (unsigned long long)(expect - 1), (unsigned long long)expect);
        }
    }
    gw_merkle_range_append(&st->run, r->leaf);
    st->has_last = true;
    st->last_seq = r->parsed ? r->seq : UINT64_MAX;
    memcpy(st->last_leaf, r->leaf, GW_HASH_LEN);
    st->last_seg = r->seg;
    st->last_line = r->line;
    st->i++;
    return true;
}

struct vprogress {
    bool (*fn)(void *ud, int pass, uint64_t records);
    void *ud;
    int pass;
    bool stopped;
};

static bool verify_progress(void *ud, uint64_t lines)
{
    struct vprogress *p = ud;
    if (!p->fn(p->ud, p->pass, lines))
        p->stopped = true;
    return !p->stopped;
}

json_t *gw_audit_verify_dir(const char *logdir, struct gw_note_verifier *const *vs, size_t nvs)
{
    return gw_audit_verify_dir_progress(logdir, vs, nvs, NULL, NULL);
}

json_t *gw_audit_verify_dir_progress(const char *logdir, struct gw_note_verifier *const *vs,
                                     size_t nvs, bool (*progress)(void *ud, int pass,
                                                                  uint64_t records),
                                     void *ud)
{
    struct audit_src src = dir_src(logdir);
    const char *slash = strrchr(logdir, '/');
    return gw_audit__verify_src(&src, slash ? slash + 1 : logdir, vs, nvs, progress, ud);
}

json_t *gw_audit__verify_src(const struct audit_src *src, const char *name,
                             struct gw_note_verifier *const *vs, size_t nvs,
                             bool (*progress)(void *ud, int pass, uint64_t records), void *ud)
{
    struct vprogress vp = {progress, ud, 1, false};
    struct gw_error err = {0};
    json_t *report = json_object();
    json_object_set_new(report, "log", json_string(name));
    /* pass 1: every record line's number, and where the log starts */
    struct vseqs q = {0};
    struct logview v;
    struct load_opts lo1 = {.fn = seq_line, .ud = &q,
                            .progress = progress ? verify_progress : NULL, .progress_ud = &vp};
    int rc = load_src(src, &v, &lo1, &err);
    struct vstate st = {0};
    char origin[256] = "";
    if (rc == GW_OK && v.nseg && v.hdr_ok[0]) {
        st.base = v.hdr[0].first;
        snprintf(origin, sizeof(origin), "%s", v.hdr[0].origin);
        st.run = v.hdr[0].range;
    } else {
        gw_merkle_range_init(&st.run);
    }
    view_free(&v);
    if (vp.stopped) {
        gw_free(q.seq);
        json_decref(report);
        return NULL;
    }
    if (rc != GW_OK) {
        memset(&v, 0, sizeof(v));
        v.problems = json_array();
        v.notes = json_array();
        json_object_set_new(report, "ok", json_false());
        problem(&v, "format", -1, NULL, 0, "%s", err.msg);
        json_object_set(report, "problems", v.problems);
        view_free(&v);
        gw_free(q.seq);
        return report;
    }
    /* the checkpoints (their own problems are reported first) */
    struct logview vc = {0};
    vc.problems = json_array();
    vc.notes = json_array();
    st.ncp = load_checkpoints(src, vs, nvs, &vc, &st.cps);
    /* how often each number occurs (a number far beyond the records is not counted) */
    st.maxseq = st.base;
    for (size_t i = 0; i < q.n; i++)
        if (q.seq[i] != UINT64_MAX && q.seq[i] + 1 > st.maxseq &&
            q.seq[i] < st.base + q.n * 2 + 16)
            st.maxseq = q.seq[i] + 1;
    size_t span = (size_t)(st.maxseq - st.base);
    st.seen = gw_xcalloc(span ? span : 1, 1);
    for (size_t i = 0; i < q.n; i++) {
        uint64_t k = q.seq[i];
        if (k != UINT64_MAX && k >= st.base && k < st.maxseq && st.seen[k - st.base] < 2)
            st.seen[k - st.base]++;
    }
    gw_free(q.seq);
    st.origin = origin;
    st.recp = json_array();
    st.later = json_array();
    st.chain_ok = true;
    st.prev_cp = st.base;
    while (st.ci < st.ncp && st.cps[st.ci].size < st.base)
        st.ci++; /* predate the records present: noted below */
    /* pass 2: judge every record, and every boundary and checkpoint on the way */
    struct load_opts lo2 = lo1;
    lo2.fn = judge_line;
    lo2.ud = &st;
    lo2.judge = lo2.leaf = true;
    vp.pass = 2;
    st.v = &v;
    rc = load_src(src, &v, &lo2, &err);
    if (rc == GW_OK)
        judge_size(&st, st.base + st.i); /* after the last record */
    uint64_t total = st.base + st.i;
    for (; st.ci < st.ncp; st.ci++) {
        if (!st.cps[st.ci].valid)
            continue;
        later(&st, "truncated", (long long)total, NULL, 0,
              "signed checkpoint %llu covers %llu records but only %llu are present: records "
              "%llu..%llu were cut off",
              (unsigned long long)st.cps[st.ci].size, (unsigned long long)st.cps[st.ci].size,
              (unsigned long long)total, (unsigned long long)total,
              (unsigned long long)(st.cps[st.ci].size - 1));
        break;
    }
    /* the report, in this order (at most 1,000 problems): the segments' form, the checkpoint
     * files', the records', the missing ones, then boundaries, checkpoints and truncation */
    json_array_extend(v.problems, vc.problems);
    json_array_extend(v.problems, st.recp);
    for (uint64_t k = st.base; k < st.maxseq; k++)
        if (!st.seen[k - st.base])
            problem(&v, "missing", (long long)k, NULL, 0, "record %llu is missing (deleted)",
                    (unsigned long long)k);
    json_array_extend(v.problems, st.later);
    while (json_array_size(v.problems) > 1000)
        json_array_remove(v.problems, json_array_size(v.problems) - 1);
    if (rc != GW_OK)
        problem(&v, "format", -1, NULL, 0, "%s", err.msg);
    json_t *notes = json_array();
    if (st.base > 0)
        json_array_append_new(notes, json_sprintf("the log starts at record %llu here (older "
                                                  "segments were removed after archiving): "
                                                  "verified from the first segment's compact "
                                                  "range",
                                                  (unsigned long long)st.base));
    for (size_t i = 0; i < st.ncp && st.cps[i].size < st.base; i++)
        json_array_append_new(notes, json_sprintf("checkpoint %llu predates the records "
                                                  "present: not checked",
                                                  (unsigned long long)st.cps[i].size));
    json_array_extend(notes, vc.notes);
    json_array_extend(notes, v.notes);
    json_decref(v.notes);
    v.notes = notes;
    if (json_array_size(v.problems) == 0 && st.matched > 1)
        note(&v, "every one of the %u signed checkpoints is the head of the records at its size, "
                 "so each is consistent with the next",
             st.matched);
    if (!st.any_valid && st.ncp == 0)
        problem(&v, "signature", -1, NULL, 0, "no checkpoint: nothing vouches for the records");
    else if (!st.any_valid)
        problem(&v, "signature", -1, NULL, 0, "no checkpoint is signed by a trusted key");
    json_object_set_new(report, "origin", json_string(origin));
    json_object_set_new(report, "first", json_integer((json_int_t)st.base));
    json_object_set_new(report, "records", json_integer((json_int_t)total));
    json_object_set_new(report, "checkpoints", json_integer((json_int_t)st.ncp));
    json_object_set_new(report, "latest_checkpoint", json_integer((json_int_t)st.latest_valid));
    json_object_set_new(
        report, "unsigned_tail",
        json_integer((json_int_t)(total > st.latest_valid ? total - st.latest_valid : 0)));
    if (total > st.latest_valid)
        note(&v, "%llu records after the latest checkpoint are not signed yet (the gateway signs "
                 "them within GW_AUDIT_CHECKPOINT_SECONDS, or at its next start)",
             (unsigned long long)(total - st.latest_valid));
    json_object_set_new(report, "ok", json_boolean(json_array_size(v.problems) == 0));
    json_object_set(report, "problems", v.problems);
    json_object_set(report, "notes", v.notes);
    json_decref(st.recp);
    json_decref(st.later);
    json_decref(vc.problems);
    json_decref(vc.notes);
    gw_free(st.seen);
    gw_free(st.cps);
    view_free(&v);
    if (vp.stopped) { /* a partial reading proves nothing */
        json_decref(report);
        return NULL;
    }
    return report;
}

/* ---- search ------------------------------------------------------------------------------ */

struct search_ctx {
    const struct gw_audit_query *q;
    gw_audit_record_fn fn;
    void *ud;
    long matched;
    size_t limit;
    bool done; /* fn said stop, or the limit is reached */
    char subject_ps[1][128]; /* the pseudonym of the subject filter */
    int nps;
};

static bool field_is(const json_t *ev, const char *k, const char *want)
{
    if (!want || !*want)
        return true;
    const char *v = json_string_value(json_object_get(ev, k));
    return v && strcmp(v, want) == 0;
}

/* Whether the record passes the query's filters. */
static bool matches(const struct search_ctx *s, const struct rec *r, const json_t *rec)
{
    const struct gw_audit_query *q = s->q;
    if (!rec || !r->parsed || r->seq < q->from_seq || (q->has_before && r->seq >= q->before))
        return false;
    const json_t *ev = json_object_get(rec, "event");
    if (!field_is(ev, "request_id", q->request_id) || !field_is(ev, "trace_id", q->trace_id) ||
        !field_is(ev, "tool", q->tool) || !field_is(ev, "outcome", q->outcome) ||
        !field_is(ev, "kind", q->kind) || !field_is(ev, "method", q->method))
        return false;
    const char *ts = json_string_value(json_object_get(ev, "ts"));
    if (q->since && *q->since && (!ts || strcmp(ts, q->since) < 0))
        return false;
    if (q->until && *q->until && (!ts || strcmp(ts, q->until) > 0))
        return false;
    if (q->subject && *q->subject) {
        const char *sub =
            json_string_value(json_object_get(json_object_get(ev, "principal"), "subject"));
        bool hit = sub && strcmp(sub, q->subject) == 0;
        for (int i = 0; !hit && sub && i < s->nps; i++)
            hit = strcmp(sub, s->subject_ps[i]) == 0;
        if (!hit)
            return false;
    }
    return !q->accept || q->accept(q->accept_ud, ev);
}

/* Counts and hands on a record that passed the filters; false once the search is done. */
static bool deliver(struct search_ctx *s, const struct rec *r, const char *line, size_t len,
                    const json_t *rec)
{
    s->matched++;
    bool go = !s->fn || s->fn(s->ud, r->seq, line, len, json_object_get(rec, "event"));
    s->done = !go || (size_t)s->matched >= s->limit;
    return !s->done;
}

static bool search_line(void *ud, const struct rec *r, const char *line, size_t len,
                        const json_t *rec)
{
    struct search_ctx *s = ud;
    return !matches(s, r, rec) || deliver(s, r, line, len, rec);
}

/* Where the data of a segment file ends: its size, or for the open segment its first NUL byte
 * (the zeros written ahead of the records, audit_log.c). */
static int data_end(FILE *f, bool open_seg, uint64_t *end)
{
    if (fseeko(f, 0, SEEK_END) != 0)
        return GW_EIO;
    off_t size = ftello(f);
    if (size < 0)
        return GW_EIO;
    *end = (uint64_t)size;
    if (!open_seg)
        return GW_OK;
    rewind(f);
    char piece[65536];
    uint64_t at = 0;
    size_t got;
    while ((got = fread(piece, 1, sizeof(piece), f)) > 0) {
        const char *z = memchr(piece, '\0', got);
        if (z) {
            *end = at + (uint64_t)(z - piece);
            break;
        }
        at += got;
    }
    return ferror(f) ? GW_EIO : GW_OK;
}

/* Calls fn for each complete line of the file's first `end` bytes but the first (the segment
 * header), the last one first, until it returns false (a line not ended by a newline at the
 * end, a torn record, is not one). Memory: one piece plus the longest line. */
static int lines_backward(FILE *f, uint64_t end, bool (*fn)(void *ud, const char *l, size_t n),
                          void *ud)
{
    const size_t piece = 65536;
    char *data = gw_xmalloc(piece + AUDIT_LINE_MAX + 1);
    size_t nleft = 0; /* the start of a line whose beginning lies further back: data[piece..] */
    uint64_t pos = end;
    bool first = true, go = true;
    int rc = GW_OK;
    while (go && rc == GW_OK) {
        size_t take = pos < piece ? (size_t)pos : piece;
        pos -= take;
        /* data[off .. piece + nleft) = the file's [pos, pos + take) then what was left over */
        size_t off = piece - take, e = piece + nleft;
        if (fseeko(f, (off_t)pos, SEEK_SET) != 0 || fread(data + off, 1, take, f) != take) {
            rc = GW_EIO;
            break;
        }
        if (first) { /* what follows the last newline is not a whole line */
            const char *nl = memrchr(data + off, '\n', e - off);
            if (nl)
                e = (size_t)(nl - data);
            first = !nl;
        }
        while (go && !first) {
            const char *nl = memrchr(data + off, '\n', e - off);
            if (!nl)
                break;
            size_t b = (size_t)(nl - data) + 1;
            go = fn(ud, data + b, e - b);
            e = b - 1;
        }
        if (!go || pos == 0)
            break; /* what is left is the file's first line: the segment header */
        nleft = e - off; /* carried to the front of the next round, just before data[piece] */
        if (nleft > AUDIT_LINE_MAX) {
            rc = GW_EIO; /* a line longer than any record: not a log the gateway wrote */
            break;
        }
        memmove(data + piece, data + off, nleft);
    }
    gw_free(data);
    return rc;
}

/* Newest first: segment by segment from the newest, each read from its end. */
struct back_ctx {
    struct search_ctx *s;
    uint32_t seg;
};

static bool back_line(void *ud, const char *line, size_t len)
{
    struct back_ctx *b = ud;
    struct search_ctx *s = b->s;
    struct rec r;
    memset(&r, 0, sizeof(r));
    r.seq = UINT64_MAX;
    r.seg = b->seg;
    json_t *j = parse_record(line, len, &r);
    if (r.parsed && r.seq < s->q->from_seq)
        s->done = true; /* what comes further back is older still */
    else if (matches(s, &r, j))
        deliver(s, &r, line, len, j);
    json_decref(j);
    return !s->done;
}

static int search_desc(const char *logdir, struct search_ctx *s, struct gw_error *err)
{
    struct audit_seg *segs = NULL;
    size_t nseg = 0;
    int rc = gw_audit__list_segments(logdir, &segs, &nseg, err);
    const struct gw_audit_query *q = s->q;
    struct back_ctx b = {s, 0};
    for (size_t k = nseg; rc == GW_OK && !s->done && k-- > 0;) {
        if (q->has_before && segs[k].first >= q->before)
            continue; /* every record of it is at or after `before` */
        if (k + 1 < nseg && segs[k + 1].first <= q->from_seq)
            break; /* this one and every older one end before from_seq */
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s/%s", logdir, AUDIT_SEG_DIR, segs[k].name);
        FILE *f = fopen(path, "rbe");
        if (!f)
            continue; /* removed meanwhile (retention): nothing to list from it */
        uint64_t end = 0;
        b.seg = (uint32_t)k;
        rc = data_end(f, segs[k].open, &end);
        if (rc == GW_OK)
            rc = lines_backward(f, end, back_line, &b);
        fclose(f);
        if (rc != GW_OK)
            GW_ERROR_SET(err, rc, "audit: cannot read %s backwards", segs[k].name);
    }
    gw_free(segs);
    return rc;
}

bool gw_audit__subject_masked(const struct gw_pii *pii, const char *subject, char *out,
                              size_t size)
{
    if (!pii || !subject || !*subject)
        return false;
    struct gw_buf b;
    gw_buf_init(&b, 4096);
    unsigned c = 0;
    gw_pii_mask_text(pii, subject, strlen(subject), &b, &c);
    if (c)
        snprintf(out, size, "%s", gw_buf_ptr(&b));
    gw_buf_fini(&b);
    return c > 0;
}

const char *gw_audit_decision(const json_t *ev)
{
    const char *kind = json_string_value(json_object_get(ev, "kind"));
    const char *outcome = json_string_value(json_object_get(ev, "outcome"));
    if (kind && !strcmp(kind, "admin"))
        return "admin";
    if (kind && !strcmp(kind, "transport"))
        return "reject";
    if (outcome && !strcmp(outcome, "refused"))
        return "deny";
    const char *d = "allow";
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(ev, "decisions"), i, x)
    {
        const char *v = json_string_value(json_object_get(x, "verdict"));
        if (!v)
            continue;
        if (!strcmp(v, "deny") || !strcmp(v, "error"))
            return v;
        if (!strcmp(v, "dry_run_deny"))
            d = "dry_run_deny";
    }
    return d;
}

long gw_audit_search_dir(const char *logdir, const struct gw_audit_query *q,
                         gw_audit_record_fn fn, void *ud, struct gw_error *err)
{
    struct search_ctx s = {.q = q, .fn = fn, .ud = ud, .limit = q->limit ? q->limit : 100};
    if (q->subject && *q->subject &&
        gw_audit__subject_masked(q->pii, q->subject, s.subject_ps[0], sizeof(s.subject_ps[0])))
        s.nps = 1;
    int rc;
    if (q->newest_first) {
        rc = search_desc(logdir, &s, err);
    } else {
        struct load_opts lo = {.fn = search_line, .ud = &s, .from_seq = q->from_seq};
        struct logview v;
        rc = load(logdir, &v, &lo, err);
        view_free(&v);
    }
    return rc == GW_OK ? s.matched : rc;
}

/* ---- proofs ------------------------------------------------------------------------------ */

/* The record `seq`'s line (gw_free), or NULL. */
struct one_line {
    uint64_t seq;
    char *line;
};

static bool take_line(void *ud, uint64_t seq, const char *line, size_t len, const json_t *ev)
{
    (void)ev;
    struct one_line *o = ud;
    if (seq == o->seq)
        o->line = gw_xstrndup(line, len);
    return false;
}

json_t *gw_audit__hash_json(const gw_hash h)
{
    char b[AUDIT_B64_HASH];
    gw_note_b64(h, GW_HASH_LEN, b);
    return json_string(b);
}

char *gw_audit_latest_checkpoint(const char *logdir, struct gw_error *err)
{
    char path[4096], *text = NULL;
    size_t n = 0;
    snprintf(path, sizeof(path), "%s/checkpoint", logdir);
    if (gw_audit__read_file(path, 65536, &text, &n, err) != GW_OK)
        return NULL;
    return text;
}

static char *checkpoint_text(const char *logdir, uint64_t size)
{
    char path[4096], *text = NULL;
    size_t n = 0;
    snprintf(path, sizeof(path), "%s/%s/%020llu.cp", logdir, AUDIT_CP_DIR,
             (unsigned long long)size);
    gw_audit__read_file(path, 65536, &text, &n, NULL);
    return text;
}

struct leaves {
    gw_hash *h;
    size_t n, cap;
};

static bool leaf_line(void *ud, const struct rec *r, const char *line, size_t len,
                      const json_t *rec)
{
    (void)line;
    (void)len;
    (void)rec;
    struct leaves *l = ud;
    l->h = room(l->h, l->n, &l->cap, sizeof(gw_hash));
    memcpy(l->h[l->n++], r->leaf, GW_HASH_LEN);
    return true;
}

struct leaves_from {
    bool (*fn)(void *ud, uint64_t seq, const gw_hash leaf);
    void *ud;
    uint64_t from;
};

static bool leaf_from_line(void *ud, const struct rec *r, const char *line, size_t len,
                           const json_t *rec)
{
    (void)line;
    (void)len;
    (void)rec;
    struct leaves_from *l = ud;
    if (r->parsed && r->seq < l->from)
        return true;
    /* an unreadable line has no number: passed on as one out of order, which stops the caller */
    return l->fn(l->ud, r->parsed ? r->seq : UINT64_MAX, r->leaf);
}

int gw_audit__leaves_from(const char *logdir, uint64_t from,
                          bool (*fn)(void *ud, uint64_t seq, const gw_hash leaf), void *ud,
                          struct gw_error *err)
{
    struct leaves_from l = {fn, ud, from};
    struct load_opts lo = {.fn = leaf_from_line, .ud = &l, .leaf = true, .from_seq = from,
                           .positional = true};
    struct logview v;
    int rc = load(logdir, &v, &lo, err);
    view_free(&v);
    return rc;
}

/* An array of leaves as a source of perfect-subtree roots. */
static int leaves_perfect(void *ud, uint64_t start, uint64_t size, gw_hash out)
{
    gw_merkle_root((const gw_hash *)ud + start, size, out);
    return 0;
}

/* Leaves of a whole log (base 0 required; 32 bytes per record), or NULL with err. */
static gw_hash *all_leaves(const char *logdir, uint64_t *n, struct gw_error *err)
{
    struct logview v;
    struct leaves l = {0};
    struct load_opts lo = {.fn = leaf_line, .ud = &l, .leaf = true, .positional = true};
    if (load(logdir, &v, &lo, err) != GW_OK) {
        view_free(&v);
        gw_free(l.h);
        return NULL;
    }
    if (v.nseg && v.hdr_ok[0] && v.hdr[0].first != 0) {
        view_free(&v);
        gw_free(l.h);
        GW_ERROR_SET(err, GW_ENOTFOUND, "the log's first segments are not here (archived): "
                                        "fetch them from the archive to compute proofs");
        return NULL;
    }
    view_free(&v);
    *n = l.n;
    return l.h ? l.h : gw_xmalloc(sizeof(gw_hash));
}

static uint64_t latest_size(const char *logdir)
{
    uint64_t *sizes = NULL;
    size_t n = 0;
    gw_audit__list_checkpoints(logdir, &sizes, &n, NULL);
    uint64_t s = n ? sizes[n - 1] : 0;
    gw_free(sizes);
    return s;
}

/* The tree a proof reads: the proof index (audit_index.c), or every leaf read from the
 * segments. What the index gives is checked before it is used: the proof is verified, and the
 * root it leads to is the latest signed checkpoint's or consistent with it (a verified
 * consistency proof); an index that fails is emptied (the next proof rebuilds it) and the proof
 * is computed again from every leaf. */
struct proof_tree {
    struct gw_merkle_source src;
    struct audit_index *ix;
    gw_hash *leaves;
    uint64_t n;      /* leaves the source covers */
    uint64_t latest; /* the latest checkpoint's size, and its root (index only) */
    gw_hash signed_root;
};

static bool checkpoint_root(const char *logdir, uint64_t size, gw_hash root)
{
    char *text = checkpoint_text(logdir, size);
    struct gw_checkpoint cp;
    int rc = text ? gw_note_open_checkpoint(text, strlen(text), NULL, 0, &cp, NULL) : GW_EINVAL;
    gw_free(text);
    if ((rc != GW_OK && rc != GW_EDENIED) || cp.size != size)
        return false; /* the signature is the reader's to check: here only what it claims */
    memcpy(root, cp.root, GW_HASH_LEN);
    return true;
}

static int proof_tree_all(const char *logdir, struct proof_tree *t, struct gw_error *err)
{
    gw_audit__index_close(t->ix);
    t->ix = NULL;
    t->leaves = all_leaves(logdir, &t->n, err);
    if (!t->leaves)
        return err && err->code ? err->code : GW_EIO;
    t->src = (struct gw_merkle_source){leaves_perfect, t->leaves};
    return GW_OK;
}

static int proof_tree_open(const char *logdir, uint64_t need, struct proof_tree *t,
                           struct gw_error *err)
{
    memset(t, 0, sizeof(*t));
    t->latest = latest_size(logdir);
    if (!need)
        need = t->latest;
    struct gw_error ie = {0};
    if (t->latest > 0 && need <= t->latest &&
        checkpoint_root(logdir, t->latest, t->signed_root) &&
        gw_audit__index_open(logdir, t->latest, &t->ix, &ie) == GW_OK) {
        gw_audit__index_source(t->ix, &t->src);
        t->n = t->latest;
        return GW_OK;
    }
    if (ie.msg[0])
        GW_LOG(GW_LOG_DEBUG, "audit", "proofs without the index: %s", ie.msg);
    return proof_tree_all(logdir, t, err);
}

/* The index failed a check: emptied, and every leaf from now on. */
static int proof_tree_distrust(const char *logdir, struct proof_tree *t, struct gw_error *err)
{
    GW_LOG(GW_LOG_WARN, "audit", "the proof index of %s disagrees with checkpoint %llu: "
                                 "emptied (the next proof rebuilds it)",
           logdir, (unsigned long long)t->latest);
    gw_audit__index_drop(t->ix);
    return proof_tree_all(logdir, t, err);
}

static void proof_tree_close(struct proof_tree *t)
{
    gw_audit__index_close(t->ix);
    gw_free(t->leaves);
}

/* Whether `root` is the genuine head of the first `size` leaves: the signed one, or one a
 * consistency proof from the index links to it. */
static bool genuine_root(const struct proof_tree *t, uint64_t size, const gw_hash root)
{
    if (size == t->latest)
        return memcmp(root, t->signed_root, GW_HASH_LEN) == 0;
    gw_hash proof[GW_MERKLE_MAX_PROOF];
    int np = 0;
    return gw_merkle_source_consistency(&t->src, size, t->latest, proof, &np) == 0 &&
           gw_merkle_verify_consistency(size, t->latest, root, t->signed_root,
                                        (const gw_hash *)proof, np);
}

/* Runs `compute` over the tree: the index when it can be used, and if what the index gave fails
 * its check (compute says GW_ECONFLICT), again over every leaf, the index emptied. */
static int over_tree(const char *logdir, uint64_t need,
                     int (*compute)(struct proof_tree *t, void *ud, struct gw_error *err),
                     void *ud, struct gw_error *err)
{
    struct proof_tree t;
    int rc = proof_tree_open(logdir, need, &t, err);
    if (rc == GW_OK)
        rc = compute(&t, ud, err);
    if (rc == GW_ECONFLICT && t.ix) {
        rc = proof_tree_distrust(logdir, &t, err);
        if (rc == GW_OK)
            rc = compute(&t, ud, err);
    }
    proof_tree_close(&t);
    return rc;
}

struct inclusion {
    uint64_t seq, size;
    gw_hash proof[GW_MERKLE_MAX_PROOF], root, leaf;
    int np;
};

static int compute_inclusion(struct proof_tree *t, void *ud, struct gw_error *err)
{
    struct inclusion *x = ud;
    if (!x->size)
        x->size = t->latest; /* the latest checkpoint's */
    if (x->size > t->n || x->seq >= x->size)
        return GW_ERROR_SET(err, GW_ENOTFOUND,
                            "record %llu is not in a signed tree of size %llu (the log holds "
                            "%llu; wait for the next checkpoint)",
                            (unsigned long long)x->seq, (unsigned long long)x->size,
                            (unsigned long long)t->n);
    if (gw_merkle_source_inclusion(&t->src, x->size, x->seq, x->proof, &x->np) != 0 ||
        gw_merkle_source_root(&t->src, 0, x->size, x->root) != 0 ||
        t->src.perfect(t->src.ud, x->seq, 1, x->leaf) != 0)
        return t->ix ? GW_ECONFLICT : GW_ERROR_SET(err, GW_EIO, "audit: cannot read the tree");
    if (t->ix && !(gw_merkle_verify_inclusion(x->leaf, x->seq, x->size,
                                              (const gw_hash *)x->proof, x->np, x->root) &&
                   genuine_root(t, x->size, x->root)))
        return GW_ECONFLICT;
    return GW_OK;
}

json_t *gw_audit_inclusion_dir(const char *logdir, uint64_t seq, uint64_t size,
                               struct gw_error *err)
{
    struct inclusion x = {.seq = seq, .size = size}; /* 0: the latest checkpoint's */
    if (over_tree(logdir, x.size, compute_inclusion, &x, err) != GW_OK)
        return NULL;
    json_t *pa = json_array();
    for (int i = 0; i < x.np; i++)
        json_array_append_new(pa, gw_audit__hash_json(x.proof[i]));
    struct one_line want = {seq, NULL};
    struct gw_audit_query q = {.from_seq = seq, .limit = 1};
    gw_audit_search_dir(logdir, &q, take_line, &want, NULL);
    /* the leaf of the record as it is now (the tree holds what was signed: an edited record's
     * proof then fails, as it should) */
    if (want.line)
        gw_merkle_leaf_hash(want.line, strlen(want.line), x.leaf);
    char *cp = checkpoint_text(logdir, x.size);
    json_t *o = json_pack("{s:I,s:I,s:o,s:o,s:o}", "seq", (json_int_t)seq, "size",
                          (json_int_t)x.size, "leaf_hash", gw_audit__hash_json(x.leaf), "root",
                          gw_audit__hash_json(x.root), "proof", pa);
    json_object_set_new(o, "record", want.line ? json_string(want.line) : json_null());
    json_object_set_new(o, "checkpoint", cp ? json_string(cp) : json_null());
    gw_free(want.line);
    gw_free(cp);
    return o;
}

struct consistency {
    uint64_t m, n;
    gw_hash proof[GW_MERKLE_MAX_PROOF], r1, r2;
    int np;
};

static int compute_consistency(struct proof_tree *t, void *ud, struct gw_error *err)
{
    struct consistency *x = ud;
    if (!x->n)
        x->n = t->latest;
    if (x->m == 0 || x->m > x->n || x->n > t->n)
        return GW_ERROR_SET(err, GW_EINVAL, "need 0 < first <= second <= %llu records",
                            (unsigned long long)t->n);
    if (gw_merkle_source_consistency(&t->src, x->m, x->n, x->proof, &x->np) != 0 ||
        gw_merkle_source_root(&t->src, 0, x->m, x->r1) != 0 ||
        gw_merkle_source_root(&t->src, 0, x->n, x->r2) != 0)
        return t->ix ? GW_ECONFLICT : GW_ERROR_SET(err, GW_EIO, "audit: cannot read the tree");
    if (t->ix && !(gw_merkle_verify_consistency(x->m, x->n, x->r1, x->r2,
                                                (const gw_hash *)x->proof, x->np) &&
                   genuine_root(t, x->n, x->r2)))
        return GW_ECONFLICT;
    return GW_OK;
}

json_t *gw_audit_consistency_dir(const char *logdir, uint64_t m, uint64_t n2,
                                 struct gw_error *err)
{
    struct consistency x = {.m = m, .n = n2}; /* 0: the latest checkpoint's */
    if (over_tree(logdir, x.n, compute_consistency, &x, err) != GW_OK)
        return NULL;
    json_t *pa = json_array();
    for (int i = 0; i < x.np; i++)
        json_array_append_new(pa, gw_audit__hash_json(x.proof[i]));
    char *c1 = checkpoint_text(logdir, m), *c2 = checkpoint_text(logdir, x.n);
    json_t *o = json_pack("{s:I,s:I,s:o,s:o,s:o}", "first", (json_int_t)m, "second",
                          (json_int_t)x.n, "first_root", gw_audit__hash_json(x.r1), "second_root",
                          gw_audit__hash_json(x.r2), "proof", pa);
    json_object_set_new(o, "first_checkpoint", c1 ? json_string(c1) : json_null());
    json_object_set_new(o, "second_checkpoint", c2 ? json_string(c2) : json_null());
    gw_free(c1);
    gw_free(c2);
    return o;
}

/* ---- listing, export --------------------------------------------------------------------- */

int gw_audit_list_logs(const char *root, char ***out, size_t *n, struct gw_error *err)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(root);
    if (!d)
        return GW_ERROR_SET(err, GW_ENOTFOUND, "no audit folder at %s", root);
    struct dirent *e;
    size_t cap = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p[4096];
        struct stat st;
        snprintf(p, sizeof(p), "%s/%s/%s", root, e->d_name, AUDIT_SEG_DIR);
        if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            *out = gw_xrealloc(*out, cap * sizeof(char *));
        }
        (*out)[(*n)++] = gw_xstrdup(e->d_name);
    }
    closedir(d);
    return GW_OK;
}

int gw_audit__export_layout(const char *outdir, const char *name, struct audit_export_dirs *d,
                            struct gw_error *err)
{
    snprintf(d->log, sizeof(d->log), "%s/%s", outdir, name);
    struct stat st;
    if (stat(d->log, &st) == 0)
        return GW_ERROR_SET(err, GW_ECONFLICT,
                            "audit export: %s already exists; export into a new folder",
                            d->log);
    snprintf(d->seg, sizeof(d->seg), "%s/%s", d->log, AUDIT_SEG_DIR);
    snprintf(d->cp, sizeof(d->cp), "%s/%s", d->log, AUDIT_CP_DIR);
    int rc = gw_audit__mkdirs(d->seg, err);
    return rc == GW_OK ? gw_audit__mkdirs(d->cp, err) : rc;
}

/* Copies <from>/<name> to <to>/<name> as it is (checkpoints, the shipped list); a file that does
 * not exist is not an error (a young log has no checkpoint yet). */
static int export_copy(const char *from, const char *to, const char *name, struct gw_error *err)
{
    char path[4400];
    snprintf(path, sizeof(path), "%s/%s", from, name);
    char *data = NULL;
    size_t n = 0;
    struct gw_error e2 = {0};
    int rc = gw_audit__read_file(path, (size_t)1 << 30, &data, &n, &e2);
    if (rc == GW_ENOTFOUND)
        return GW_OK;
    if (rc == GW_OK)
        rc = gw_audit__write_file_atomic(to, name, data, n, 0644, err);
    else
        *err = e2;
    gw_free(data);
    return rc;
}

/* Writes one segment of `logdir` to `segdir`; the open one up to its last whole record.
 * It keeps its name (an open one is still "the segment being written" for verify).
 * GW_ENOTFOUND when it was renamed meanwhile (closed by rotation: list again). */
static int export_segment(const char *logdir, const struct audit_seg *s, const char *segdir,
                          struct gw_error *err)
{
    char path[4400];
    snprintf(path, sizeof(path), "%s/%s/%s", logdir, AUDIT_SEG_DIR, s->name);
    char *data = NULL;
    size_t n = 0;
    int rc = gw_audit__read_file(path, (size_t)1 << 40, &data, &n, err);
    if (rc != GW_OK)
        return rc;
    if (s->open) {
        const char *nul = memchr(data, '\0', n);
        if (nul)
            n = (size_t)(nul - data);
        while (n > 0 && data[n - 1] != '\n')
            n--; /* a record being written when we read */
    }
    rc = gw_audit__write_file_atomic(segdir, s->name, data, n, 0644, err);
    gw_free(data);
    return rc;
}

int gw_audit_export_dir(const char *logdir, const char *outdir, uint64_t *out_segments,
                        struct gw_error *err)
{
    *out_segments = 0;
    const char *base = strrchr(logdir, '/');
    base = base ? base + 1 : logdir;
    if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
        return GW_ERROR_SET(err, GW_EINVAL, "audit export: '%s' does not name a log folder",
                            logdir);
    struct audit_export_dirs d;
    int rc = gw_audit__export_layout(outdir, base, &d, err);
    char from_cp[4400];
    snprintf(from_cp, sizeof(from_cp), "%s/%s", logdir, AUDIT_CP_DIR);
    /* checkpoints before segments: a checkpoint only covers durable records, so every one
     * copied here is covered by the segments copied after it */
    uint64_t *sizes = NULL;
    size_t ncp = 0;
    if (rc == GW_OK)
        rc = gw_audit__list_checkpoints(logdir, &sizes, &ncp, err);
    for (size_t i = 0; rc == GW_OK && i < ncp; i++) {
        char name[64];
        snprintf(name, sizeof(name), "%020llu.cp", (unsigned long long)sizes[i]);
        rc = export_copy(from_cp, d.cp, name, err);
    }
    gw_free(sizes);
    if (rc == GW_OK)
        rc = export_copy(logdir, d.log, "checkpoint", err);
    if (rc == GW_OK)
        rc = export_copy(logdir, d.log, "shipped", err);
    /* a segment renamed (closed by rotation) between the listing and its copy: list again */
    for (int attempt = 0; rc == GW_OK; attempt++) {
        struct audit_seg *segs = NULL;
        size_t nseg = 0;
        rc = gw_audit__list_segments(logdir, &segs, &nseg, err);
        for (size_t i = 0; rc == GW_OK && i < nseg; i++)
            rc = export_segment(logdir, &segs[i], d.seg, err);
        gw_free(segs);
        if (rc == GW_OK) {
            *out_segments = nseg;
            break;
        }
        if (rc == GW_ENOTFOUND && attempt < 2)
            rc = GW_OK;
    }
    return rc;
}
