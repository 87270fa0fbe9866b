/*
 * src/metrics/metrics_series.c
 * The dashboard's time series (metrics_series.h): rings of tagged time slots, the per-name key
 * slots, the per-minute samples, the latency histogram and the summary.
 * Invariants: (1) a slot holds the interval its tag `t` names, or is treated as empty when the
 * tag names another one (the ring has turned: it is reset by the first record of its new
 * interval); (2) a record never overwrites a slot holding a later interval than its own;
 * (3) every key-slot array holds at most its capacity, the last place kept for "_other";
 * (4) every field is guarded by `lock`; the sampler is never called with it held; a summary
 * takes the lock per interval and per key slot (short holds), and reads names[i < nnames]
 * without it (written once, before nnames grows, under the lock).
 */
#include "metrics/metrics_series.h"

#include "core/alloc.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NB GW_SERIES_BUCKETS
#define NO_BUCKET ((unsigned)-1)
#define NAME_MAX_LEN 128
#define INDEX_SIZE (2u * GW_SERIES_NAMES_MAX) /* power of two, load <= 1/2 */
#define SAMPLE_SLOTS (GW_SERIES_COARSE_SLOTS + 1u)
#define OTHER 0 /* the name id of "_other" */

/* One interval of the fine or coarse ring. */
struct tslot {
    int64_t t; /* interval number (Unix seconds / resolution); -1: never used */
    uint32_t calls, errors, denials, confirming;
    uint32_t lat[NB];
};

/* One name's counts in a key slot. */
struct kentry {
    uint16_t name;
    uint32_t calls, errors, denials;
    uint32_t lat[NB];
};

/* One 5-minute interval of the per-tool and per-upstream counts (arrays grow on demand). */
struct kslot {
    int64_t t;
    struct kentry *tools, *ups;
    unsigned ntools, captools, nups, capups;
};

struct sample {
    int64_t t; /* minute (Unix seconds / 60); -1: none */
    uint64_t v[GW_SERIES_SAMPLES];
};

struct gw_metrics_series {
    pthread_mutex_t lock;
    struct tslot *fine, *coarse;
    struct kslot keys[GW_SERIES_KEY_SLOTS];
    struct sample samples[SAMPLE_SLOTS];
    char *names[GW_SERIES_NAMES_MAX];
    unsigned nnames;
    uint16_t index[INDEX_SIZE]; /* 0: empty, else name id + 1 */
    gw_series_sample_fn sampler;
    void *sampler_ud;
};

/* ---- the histogram -------------------------------------------------------------------------- */

unsigned gw_metrics_series_bucket(uint64_t us)
{
    if (us < 64)
        return 0;
    if (us >= (1ull << 27))
        return NB - 1;
    unsigned e = 63u - (unsigned)__builtin_clzll(us); /* 6..26 */
    unsigned m = (unsigned)(us >> (e - 2)) & 3u;       /* the two bits after the leading one */
    return 1 + (e - 6) * 4 + m;
}

void gw_metrics_series_bucket_range(unsigned b, uint64_t *lo, uint64_t *hi)
{
    if (b == 0) {
        *lo = 0;
        *hi = 64;
        return;
    }
    if (b >= NB - 1) {
        *lo = 1ull << 27;
        *hi = UINT64_MAX;
        return;
    }
    unsigned e = 6 + (b - 1) / 4, m = (b - 1) % 4;
    *lo = (uint64_t)(4 + m) << (e - 2);
    *hi = (uint64_t)(5 + m) << (e - 2);
}

double gw_metrics_series_quantile_us(const uint64_t *h, double q)
{
    uint64_t n = 0;
    for (unsigned b = 0; b < NB; b++)
        n += h[b];
    if (n == 0)
        return -1;
    uint64_t rank = (uint64_t)ceil(q * (double)n);
    if (rank < 1)
        rank = 1;
    uint64_t cum = 0;
    unsigned b = 0;
    for (; b < NB; b++) {
        cum += h[b];
        if (cum >= rank)
            break;
    }
    uint64_t lo, hi;
    gw_metrics_series_bucket_range(b < NB ? b : NB - 1, &lo, &hi);
    if (hi == UINT64_MAX)
        return (double)lo; /* overflow: its floor */
    return ((double)lo + (double)hi) / 2.0;
}

/* ---- life ----------------------------------------------------------------------------------- */

static uint16_t intern(struct gw_metrics_series *s, const char *name);

struct gw_metrics_series *gw_metrics_series_new(void)
{
    struct gw_metrics_series *s = gw_xcalloc(1, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
    /* large zeroed blocks: the kernel's zero pages until a slot is first written */
    s->fine = gw_xcalloc(GW_SERIES_FINE_SLOTS, sizeof(struct tslot));
    s->coarse = gw_xcalloc(GW_SERIES_COARSE_SLOTS, sizeof(struct tslot));
    for (unsigned i = 0; i < GW_SERIES_FINE_SLOTS; i++)
        s->fine[i].t = -1;
    for (unsigned i = 0; i < GW_SERIES_COARSE_SLOTS; i++)
        s->coarse[i].t = -1;
    for (unsigned i = 0; i < GW_SERIES_KEY_SLOTS; i++)
        s->keys[i].t = -1;
    for (unsigned i = 0; i < SAMPLE_SLOTS; i++)
        s->samples[i].t = -1;
    intern(s, "_other"); /* id 0 (OTHER) */
    return s;
}

void gw_metrics_series_free(struct gw_metrics_series *s)
{
    if (!s)
        return;
    for (unsigned i = 0; i < GW_SERIES_KEY_SLOTS; i++) {
        gw_free(s->keys[i].tools);
        gw_free(s->keys[i].ups);
    }
    for (unsigned i = 0; i < s->nnames; i++)
        gw_free(s->names[i]);
    gw_free(s->fine);
    gw_free(s->coarse);
    pthread_mutex_destroy(&s->lock);
    gw_free(s);
}

void gw_metrics_series_set_sampler(struct gw_metrics_series *s, gw_series_sample_fn fn,
                                   void *ud)
{
    s->sampler = fn;
    s->sampler_ud = ud;
}

/* ---- recording ------------------------------------------------------------------------------ */

static uint32_t hash_name(const char *p)
{
    uint32_t h = 2166136261u;
    for (; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h;
}

/* The id of `name` (interned on first sight; "_other" once the table is full). Lock held. */
static uint16_t intern(struct gw_metrics_series *s, const char *name)
{
    char cut[NAME_MAX_LEN + 1];
    if (strlen(name) > NAME_MAX_LEN) {
        memcpy(cut, name, NAME_MAX_LEN);
        cut[NAME_MAX_LEN] = '\0';
        name = cut;
    }
    uint32_t h = hash_name(name);
    for (uint32_t i = 0;; i++) {
        uint16_t *slot = &s->index[(h + i) & (INDEX_SIZE - 1)];
        if (*slot && strcmp(s->names[*slot - 1], name) == 0)
            return (uint16_t)(*slot - 1);
        if (*slot)
            continue;
        if (s->nnames >= GW_SERIES_NAMES_MAX)
            return OTHER;
        s->names[s->nnames] = gw_xstrdup(name);
        *slot = (uint16_t)(s->nnames + 1);
        return (uint16_t)s->nnames++;
    }
}

/* The entry of name `id` in a key-slot array, added when absent; the last place of a full
 * array is kept for "_other". Lock held. */
static struct kentry *kentry_of(struct kentry **arr, unsigned *n, unsigned *cap, unsigned max,
                                uint16_t id)
{
    for (unsigned i = 0; i < *n; i++)
        if ((*arr)[i].name == id)
            return &(*arr)[i];
    if (*n >= max - 1 && id != OTHER)
        return kentry_of(arr, n, cap, max, OTHER);
    if (*n == *cap) {
        unsigned nc = *cap ? *cap * 2 : 4;
        if (nc > max)
            nc = max;
        *arr = gw_xrealloc(*arr, nc * sizeof(**arr));
        *cap = nc;
    }
    struct kentry *e = &(*arr)[(*n)++];
    memset(e, 0, sizeof(*e));
    e->name = id;
    return e;
}

static void tslot_add(struct tslot *sl, int64_t t, const struct gw_series_obs *o, unsigned b)
{
    if (sl->t > t)
        return; /* the slot already holds a later interval (a late record): dropped */
    if (sl->t != t) {
        memset(sl, 0, sizeof(*sl));
        sl->t = t;
    }
    sl->calls++;
    if (o->denied)
        sl->denials++;
    else if (o->confirming)
        sl->confirming++;
    else if (o->error)
        sl->errors++;
    if (b != NO_BUCKET)
        sl->lat[b]++;
}

static void kentry_add(struct kentry *e, bool denied, bool error, unsigned b)
{
    e->calls++;
    if (denied)
        e->denials++;
    else if (error)
        e->errors++;
    if (b != NO_BUCKET)
        e->lat[b]++;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static void take_sample(struct gw_metrics_series *s, int64_t minute)
{
    uint64_t v[GW_SERIES_SAMPLES] = {0};
    s->sampler(s->sampler_ud, v);
    pthread_mutex_lock(&s->lock);
    struct sample *sm = &s->samples[(uint64_t)minute % SAMPLE_SLOTS];
    if (sm->t < minute) {
        sm->t = minute;
        memcpy(sm->v, v, sizeof(v));
    }
    pthread_mutex_unlock(&s->lock);
}

void gw_metrics_series_record(struct gw_metrics_series *s, int64_t now_ms,
                              const struct gw_series_obs *o)
{
    if (!s || !o || now_ms < 0)
        return;
    int64_t sec = now_ms / 1000;
    int64_t tf = sec / GW_SERIES_FINE_SECONDS, tc = sec / GW_SERIES_COARSE_SECONDS,
            tk = sec / GW_SERIES_KEY_SECONDS;
    unsigned b =
        o->denied || o->confirming ? NO_BUCKET : gw_metrics_series_bucket(o->latency_us);
    bool upstream = o->upstream && o->upstream[0];
    pthread_mutex_lock(&s->lock);
    tslot_add(&s->fine[(uint64_t)tf % GW_SERIES_FINE_SLOTS], tf, o, b);
    tslot_add(&s->coarse[(uint64_t)tc % GW_SERIES_COARSE_SLOTS], tc, o, b);
    struct kslot *ks = &s->keys[(uint64_t)tk % GW_SERIES_KEY_SLOTS];
    if (ks->t < tk) {
        ks->t = tk;
        ks->ntools = ks->nups = 0; /* the arrays are kept for the new interval */
    }
    if (ks->t == tk) {
        uint16_t id = intern(s, o->tool && o->tool[0] ? o->tool : "_unknown");
        kentry_add(kentry_of(&ks->tools, &ks->ntools, &ks->captools, GW_SERIES_TOOLS_PER_SLOT,
                             id),
                   o->denied, o->error && !o->confirming, b);
        if (upstream) {
            uint16_t uid = intern(s, o->upstream);
            kentry_add(kentry_of(&ks->ups, &ks->nups, &ks->capups, GW_SERIES_UPSTREAMS_PER_SLOT,
                                 uid),
                       false, o->upstream_error,
                       gw_metrics_series_bucket(o->upstream_latency_us));
        }
    }
    bool sample = s->sampler && s->samples[(uint64_t)tc % SAMPLE_SLOTS].t < tc;
    pthread_mutex_unlock(&s->lock);
    if (sample)
        take_sample(s, tc);
}

void gw_metrics_series_tick(struct gw_metrics_series *s, int64_t now_ms)
{
    if (!s || !s->sampler || now_ms < 0)
        return;
    int64_t minute = now_ms / 1000 / GW_SERIES_COARSE_SECONDS;
    pthread_mutex_lock(&s->lock);
    bool need = s->samples[(uint64_t)minute % SAMPLE_SLOTS].t < minute;
    pthread_mutex_unlock(&s->lock);
    if (need)
        take_sample(s, minute);
}

bool gw_metrics_series_sample_since(struct gw_metrics_series *s, int64_t since_ms,
                                    uint64_t out[GW_SERIES_SAMPLES], int64_t *out_ms)
{
    int64_t from = floor_div(since_ms, 1000 * (int64_t)GW_SERIES_COARSE_SECONDS);
    if (from * 1000 * (int64_t)GW_SERIES_COARSE_SECONDS < since_ms)
        from++; /* the first whole minute at or after since */
    bool found = false;
    int64_t best = 0;
    pthread_mutex_lock(&s->lock);
    for (unsigned i = 0; i < SAMPLE_SLOTS; i++) {
        const struct sample *sm = &s->samples[i];
        if (sm->t >= from && (!found || sm->t < best)) {
            found = true;
            best = sm->t;
            memcpy(out, sm->v, sizeof(sm->v));
        }
    }
    pthread_mutex_unlock(&s->lock);
    if (found && out_ms)
        *out_ms = best * 1000 * (int64_t)GW_SERIES_COARSE_SECONDS;
    return found;
}

/* ---- reading -------------------------------------------------------------------------------- */

int gw_metrics_series_check(unsigned long window, unsigned long step, unsigned *out_step,
                            struct gw_error *err)
{
    if (window < GW_SERIES_WINDOW_MIN || window > GW_SERIES_WINDOW_MAX)
        return GW_ERROR_SET(err, GW_EINVAL,
                            "window must be %u (15 min) to %u (24 h) seconds, not %lu",
                            GW_SERIES_WINDOW_MIN, GW_SERIES_WINDOW_MAX, window);
    unsigned long res = window <= 3600 ? GW_SERIES_FINE_SECONDS : GW_SERIES_COARSE_SECONDS;
    if (window % res)
        return GW_ERROR_SET(err, GW_EINVAL,
                            "window must be a multiple of %lu seconds (the resolution of windows "
                            "%s 1 h), not %lu",
                            res, res == GW_SERIES_FINE_SECONDS ? "up to" : "over", window);
    /* the default: the multiple of the resolution dividing the window into the number of
     * points closest to 60 */
    unsigned long def = window, best = ~0ul;
    for (unsigned long d = res; d <= window; d += res) {
        unsigned long pts = window / d, diff = pts > 60 ? pts - 60 : 60 - pts;
        if (window % d == 0 && pts <= GW_SERIES_POINTS_MAX && diff < best) {
            best = diff;
            def = d;
        }
    }
    if (step == 0)
        step = def;
    else if (step % res || step > window || window % step)
        return GW_ERROR_SET(err, GW_EINVAL,
                            "step must be a multiple of %lu seconds that divides the window (%lu "
                            "s) into whole intervals, not %lu (e.g. %lu, or leave it out)",
                            res, window, step, def);
    if (window / step > GW_SERIES_POINTS_MAX)
        return GW_ERROR_SET(err, GW_EINVAL, "step %lu makes more than %u points", step,
                            GW_SERIES_POINTS_MAX);
    *out_step = (unsigned)step;
    return GW_OK;
}

/* A name's counts summed over the key slots of the window. */
struct kagg {
    uint64_t calls, errors, denials;
    uint64_t lat[NB];
};

static void kagg_add(struct kagg *a, const struct kentry *e)
{
    a->calls += e->calls;
    a->errors += e->errors;
    a->denials += e->denials;
    for (unsigned b = 0; b < NB; b++)
        a->lat[b] += e->lat[b];
}

/* A quantile in milliseconds, or JSON null when there is no sample. */
static json_t *ms_or_null(const uint64_t *h, double q)
{
    double us = gw_metrics_series_quantile_us(h, q);
    return us < 0 ? json_null() : json_real(round(us) / 1000.0);
}

struct ranked {
    uint16_t id;
    uint64_t calls;
    const char *name;
};

static int by_calls(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->calls != y->calls)
        return x->calls > y->calls ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int by_name(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    return strcmp(x->name, y->name);
}

/* The per-name list of a window: tools ranked by calls (at most `max`), or upstreams by name. */
static json_t *key_list(struct gw_metrics_series *s, const struct kagg *agg, unsigned n,
                        bool tools, unsigned max)
{
    struct ranked *r = gw_xcalloc(n ? n : 1, sizeof(*r));
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++)
        if (agg[i].calls)
            r[k++] = (struct ranked){(uint16_t)i, agg[i].calls, s->names[i]};
    qsort(r, k, sizeof(*r), tools ? by_calls : by_name);
    json_t *arr = json_array();
    for (unsigned i = 0; i < k && i < max; i++) {
        const struct kagg *a = &agg[r[i].id];
        json_t *o = json_pack("{s:s,s:I,s:I}", "name", r[i].name, "calls", (json_int_t)a->calls,
                              "errors", (json_int_t)a->errors);
        if (tools)
            json_object_set_new(o, "denials", json_integer((json_int_t)a->denials));
        json_object_set_new(o, "p50Ms", ms_or_null(a->lat, 0.5));
        json_object_set_new(o, "p95Ms", ms_or_null(a->lat, 0.95));
        json_array_append_new(arr, o);
    }
    gw_free(r);
    return arr;
}

json_t *gw_metrics_series_summary(struct gw_metrics_series *s, int64_t now_ms,
                                  unsigned window, unsigned step, struct gw_error *err)
{
    unsigned st = 0;
    if (gw_metrics_series_check(window, step, &st, err) != GW_OK)
        return NULL;
    if (now_ms < 0) {
        GW_ERROR_SET(err, GW_EINVAL, "the clock is before 1970");
        return NULL;
    }
    bool fine = window <= 3600;
    int64_t res = fine ? GW_SERIES_FINE_SECONDS : GW_SERIES_COARSE_SECONDS;
    unsigned nslots = fine ? GW_SERIES_FINE_SLOTS : GW_SERIES_COARSE_SLOTS;
    int64_t now = now_ms / 1000;
    int64_t last = now - now % st; /* start of the interval in progress */
    unsigned n = window / st;
    int64_t first = last - (int64_t)(n - 1) * st;

    json_t *calls = json_array(), *errors = json_array(), *denials = json_array(),
           *p50 = json_array(), *p95 = json_array();
    uint64_t tot[NB] = {0}, pt[NB];
    uint64_t tcalls = 0, terr = 0, tden = 0, tconf = 0;
    struct kagg *tools = NULL, *ups = NULL;
    unsigned nnames;

    /* The lock is taken per interval and per key slot, never for the whole window: a record
     * waits at most for one interval's sum (<= 24 slots), not for a 24 h summary (~1-3 ms).
     * The window is therefore not one atomic snapshot; records keep arriving anyway. */
    const struct tslot *ring = fine ? s->fine : s->coarse;
    for (unsigned k = 0; k < n; k++) {
        int64_t a = first + (int64_t)k * st, b = a + st;
        uint64_t c = 0, e = 0, d = 0, p = 0; /* p: confirmations */
        memset(pt, 0, sizeof(pt));
        pthread_mutex_lock(&s->lock);
        for (int64_t t = a / res; t < b / res; t++) {
            const struct tslot *sl = &ring[(uint64_t)t % nslots];
            if (sl->t != t)
                continue; /* no record in that interval (or the ring has turned) */
            c += sl->calls;
            e += sl->errors;
            d += sl->denials;
            p += sl->confirming;
            for (unsigned x = 0; x < NB; x++)
                pt[x] += sl->lat[x];
        }
        pthread_mutex_unlock(&s->lock);
        for (unsigned x = 0; x < NB; x++)
            tot[x] += pt[x];
        tcalls += c, terr += e, tden += d, tconf += p;
        json_array_append_new(calls, json_pack("[I,I]", (json_int_t)a, (json_int_t)c));
        json_array_append_new(errors, json_pack("[I,I]", (json_int_t)a, (json_int_t)e));
        json_array_append_new(denials, json_pack("[I,I]", (json_int_t)a, (json_int_t)d));
        json_array_append_new(p50, json_pack("[I,o]", (json_int_t)a, ms_or_null(pt, 0.5)));
        json_array_append_new(p95, json_pack("[I,o]", (json_int_t)a, ms_or_null(pt, 0.95)));
    }
    /* names below nnames are immutable once interned: read without the lock afterwards; a name
     * interned while this runs is left out of this summary */
    pthread_mutex_lock(&s->lock);
    nnames = s->nnames;
    pthread_mutex_unlock(&s->lock);
    tools = gw_xcalloc(nnames, sizeof(*tools));
    ups = gw_xcalloc(nnames, sizeof(*ups));
    int64_t k0 = first / GW_SERIES_KEY_SECONDS, k1 = now / GW_SERIES_KEY_SECONDS;
    for (int64_t t = k0; t <= k1; t++) {
        pthread_mutex_lock(&s->lock);
        const struct kslot *ks = &s->keys[(uint64_t)t % GW_SERIES_KEY_SLOTS];
        if (ks->t == t) {
            for (unsigned i = 0; i < ks->ntools; i++)
                if (ks->tools[i].name < nnames)
                    kagg_add(&tools[ks->tools[i].name], &ks->tools[i]);
            for (unsigned i = 0; i < ks->nups; i++)
                if (ks->ups[i].name < nnames)
                    kagg_add(&ups[ks->ups[i].name], &ks->ups[i]);
        }
        pthread_mutex_unlock(&s->lock);
    }
    json_t *top = key_list(s, tools, nnames, true, GW_SERIES_TOP_TOOLS);
    json_t *upl = key_list(s, ups, nnames, false, GW_SERIES_UPSTREAMS_PER_SLOT * 8);
    gw_free(tools);
    gw_free(ups);

    json_t *totals = json_pack("{s:I,s:I,s:I,s:I}", "calls", (json_int_t)tcalls, "errors",
                               (json_int_t)terr, "denials", (json_int_t)tden, "confirmations",
                               (json_int_t)tconf);
    json_object_set_new(totals, "p50Ms", ms_or_null(tot, 0.5));
    json_object_set_new(totals, "p95Ms", ms_or_null(tot, 0.95));
    return json_pack("{s:I,s:I,s:I,s:I,s:o,s:{s:o,s:o,s:o,s:o,s:o},s:o,s:o}", "window",
                     (json_int_t)window, "step", (json_int_t)st, "from", (json_int_t)first, "to",
                     (json_int_t)now, "totals", totals, "series", "calls", calls, "errors",
                     errors, "denials", denials, "p50Ms", p50, "p95Ms", p95, "topTools", top,
                     "upstreams", upl);
}
