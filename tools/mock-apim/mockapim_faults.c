/*
 * tools/mock-apim/mockapim_faults.c
 * Fault rule set (see mockapim_faults.h). Globs use fnmatch(3) without FNM_PATHNAME, so "*"
 * crosses slashes ("/api/" followed by a star matches every service-booking path).
 */
#include "mockapim_faults.h"

#include "core/alloc.h"

#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_GLOBS 8
#define GLOB_MAX 160

/* One rule: what to do, to which requests, how often, and how often it did. */
struct rule {
    int id;
    struct gw_mockapim_fault f;
    char globs[MAX_GLOBS][GLOB_MAX];
    int nglobs;
    char methods[64]; /* "" = any; else comma-separated upper case */
    double probability;
    long remaining; /* -1 = unlimited */
    long fired;
};

/* The ordered rule list, the next id and the generator state. */
struct gw_mockapim_faults {
    struct rule rules[GW_MOCKAPIM_FAULTS_MAX];
    int n;
    int next_id;
    uint64_t rng;
};

static const char *const mode_names[] = {"none",      "latency", "error",    "timeout",
                                         "malformed", "reset",   "oversized"};

const char *gw_mockapim_fault_mode_name(enum gw_mockapim_fault_mode m)
{
    return (m >= GW_MOCKAPIM_FAULT_NONE && m <= GW_MOCKAPIM_FAULT_OVERSIZED) ? mode_names[m]
                                                                             : "?";
}

struct gw_mockapim_faults *gw_mockapim_faults_new(uint64_t seed)
{
    struct gw_mockapim_faults *f = gw_xcalloc(1, sizeof(*f));
    f->rng = seed;
    f->next_id = 1;
    return f;
}

void gw_mockapim_faults_free(struct gw_mockapim_faults *f)
{
    gw_free(f);
}

/* splitmix64: a fixed, well-mixed sequence from the seed; returns a double in [0, 1). */
static double draw(struct gw_mockapim_faults *f)
{
    uint64_t z = (f->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

/* Reads an optional number member within [lo, hi]; false (with err) when present but bad. */
static bool num(const json_t *spec, const char *name, double lo, double hi, double *io,
                struct gw_error *err)
{
    const json_t *v = json_object_get(spec, name);
    if (!v)
        return true;
    if (json_is_string(v)) {
        char *end = NULL;
        double d = strtod(json_string_value(v), &end);
        if (end && !*end && *json_string_value(v)) {
            *io = d;
            goto range;
        }
    }
    if (!json_is_number(v)) {
        GW_ERROR_SET(err, GW_EINVAL, "fault '%s' must be a number", name);
        return false;
    }
    *io = json_number_value(v);
range:
    if (!isfinite(*io) || *io < lo || *io > hi) {
        GW_ERROR_SET(err, GW_EINVAL, "fault '%s' must be between %g and %g", name, lo, hi);
        return false;
    }
    return true;
}

/* Appends the comma-separated globs of `list` to the rule. */
static bool add_globs(struct rule *r, const char *list, struct gw_error *err)
{
    const char *p = list;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n > 0) {
            if (r->nglobs >= MAX_GLOBS || n >= GLOB_MAX) {
                GW_ERROR_SET(err, GW_ELIMIT, "at most %d path globs of < %d characters",
                             MAX_GLOBS, GLOB_MAX);
                return false;
            }
            memcpy(r->globs[r->nglobs], p, n);
            r->globs[r->nglobs++][n] = '\0';
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    return true;
}

int gw_mockapim_faults_add_json(struct gw_mockapim_faults *f, const json_t *spec, int *out_id,
                                struct gw_error *err)
{
    struct rule r;
    memset(&r, 0, sizeof(r));
    *out_id = 0;
    if (!json_is_object(spec))
        return GW_ERROR_SET(err, GW_EINVAL, "a fault is a JSON object with a 'mode'");
    const char *mode = json_string_value(json_object_get(spec, "mode"));
    if (!mode)
        return GW_ERROR_SET(err, GW_EINVAL, "fault 'mode' is required (latency, error, timeout, "
                                            "malformed, reset, oversized or off)");
    if (strcasecmp(mode, "off") == 0 || strcasecmp(mode, "none") == 0) {
        gw_mockapim_faults_clear(f);
        return GW_OK;
    }
    for (int m = GW_MOCKAPIM_FAULT_LATENCY; m <= GW_MOCKAPIM_FAULT_OVERSIZED; m++)
        if (strcasecmp(mode, mode_names[m]) == 0)
            r.f.mode = (enum gw_mockapim_fault_mode)m;
    if (r.f.mode == GW_MOCKAPIM_FAULT_NONE)
        return GW_ERROR_SET(err, GW_EINVAL, "unknown fault mode '%.40s'", mode);
    /* Reject members we do not know: a typo must not silently mean "default". */
    static const char *const known[] = {"mode",    "ms",      "status",      "retry_after",
                                        "size_mb", "paths",   "methods",     "probability",
                                        "count",   "comment", NULL};
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)spec, key, val)
    {
        bool ok = false;
        for (const char *const *k = known; *k && !ok; k++)
            ok = strcmp(*k, key) == 0;
        if (!ok)
            return GW_ERROR_SET(err, GW_EINVAL, "unknown fault member '%.40s'", key);
    }
    double ms = r.f.mode == GW_MOCKAPIM_FAULT_TIMEOUT ? 30000 : 1000, status = 503, ra = 0,
           mb = 5, prob = 1, count = -1;
    if (!num(spec, "ms", 0, GW_MOCKAPIM_FAULT_MAX_MS, &ms, err) ||
        !num(spec, "status", 100, 599, &status, err) ||
        !num(spec, "retry_after", 0, 86400, &ra, err) ||
        !num(spec, "size_mb", 0.0001, GW_MOCKAPIM_FAULT_MAX_MB, &mb, err) ||
        !num(spec, "probability", 0, 1, &prob, err) || !num(spec, "count", 1, 1e9, &count, err))
        return err ? err->code : GW_EINVAL;
    r.f.ms = (int)ms;
    r.f.status = (int)status;
    r.f.retry_after = (int)ra;
    r.f.bytes = (size_t)(mb * 1048576.0);
    r.probability = prob;
    r.remaining = (long)count;
    const json_t *paths = json_object_get(spec, "paths");
    if (json_is_string(paths)) {
        if (!add_globs(&r, json_string_value(paths), err))
            return err ? err->code : GW_ELIMIT;
    } else if (json_is_array(paths)) {
        size_t i;
        const json_t *p;
        json_array_foreach(paths, i, p)
        {
            if (!json_is_string(p))
                return GW_ERROR_SET(err, GW_EINVAL, "fault 'paths' items must be strings");
            if (!add_globs(&r, json_string_value(p), err))
                return err ? err->code : GW_ELIMIT;
        }
    } else if (paths) {
        return GW_ERROR_SET(err, GW_EINVAL, "fault 'paths' must be a string or an array");
    }
    if (r.nglobs == 0)
        snprintf(r.globs[r.nglobs++], GLOB_MAX, "*");
    const json_t *methods = json_object_get(spec, "methods");
    if (methods && (!json_is_string(methods) ||
                    json_string_length(methods) >= sizeof(r.methods)))
        return GW_ERROR_SET(err, GW_EINVAL, "fault 'methods' must be a string like \"GET,POST\"");
    if (methods) {
        snprintf(r.methods, sizeof(r.methods), "%s", json_string_value(methods));
        for (char *p = r.methods; *p; p++)
            *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    }
    if (f->n >= GW_MOCKAPIM_FAULTS_MAX)
        return GW_ERROR_SET(err, GW_ELIMIT, "at most %d fault rules; DELETE /__mock/faults first",
                            GW_MOCKAPIM_FAULTS_MAX);
    r.id = f->next_id++;
    r.f.rule_id = r.id;
    f->rules[f->n++] = r;
    *out_id = r.id;
    return GW_OK;
}

int gw_mockapim_faults_add_text(struct gw_mockapim_faults *f, const char *text, int *out_id,
                                struct gw_error *err)
{
    json_t *spec = NULL;
    int rc;
    if (text[0] == '{') {
        json_error_t je;
        spec = json_loads(text, 0, &je);
        if (!spec)
            return GW_ERROR_SET(err, GW_EINVAL, "fault JSON: %s", je.text);
    } else {
        /* k=v pairs separated by commas; a value runs to the next ",<key>=" so that path
         * lists ("paths=/a,/b") survive. */
        static const char *const keys[] = {"mode",    "ms",    "status",      "retry_after",
                                           "size_mb", "paths", "methods",     "probability",
                                           "count",   NULL};
        spec = json_object();
        const char *p = text;
        while (*p) {
            const char *eq = strchr(p, '=');
            if (!eq) {
                json_decref(spec);
                return GW_ERROR_SET(err, GW_EINVAL, "fault '%.60s': expected key=value", p);
            }
            const char *end = eq + 1;
            for (;;) {
                const char *c = strchr(end, ',');
                if (!c) {
                    end += strlen(end);
                    break;
                }
                bool next_key = false;
                for (const char *const *k = keys; *k && !next_key; k++)
                    next_key = strncmp(c + 1, *k, strlen(*k)) == 0 && c[1 + strlen(*k)] == '=';
                if (next_key) {
                    end = c;
                    break;
                }
                end = c + 1;
            }
            char key[32], val[512];
            snprintf(key, sizeof(key), "%.*s", (int)(eq - p), p);
            snprintf(val, sizeof(val), "%.*s", (int)(end - eq - 1), eq + 1);
            json_object_set_new(spec, key, json_string(val));
            p = *end ? end + 1 : end;
        }
    }
    rc = gw_mockapim_faults_add_json(f, spec, out_id, err);
    json_decref(spec);
    return rc;
}

void gw_mockapim_faults_clear(struct gw_mockapim_faults *f)
{
    f->n = 0;
}

int gw_mockapim_faults_remove(struct gw_mockapim_faults *f, int id)
{
    for (int i = 0; i < f->n; i++) {
        if (f->rules[i].id != id)
            continue;
        memmove(&f->rules[i], &f->rules[i + 1], (size_t)(f->n - i - 1) * sizeof(f->rules[0]));
        f->n--;
        return GW_OK;
    }
    return GW_ENOTFOUND;
}

/* True when the rule applies to every method or lists this one. */
static bool method_ok(const struct rule *r, const char *method)
{
    if (!r->methods[0])
        return true;
    size_t n = strlen(method);
    for (const char *p = r->methods; *p;) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        if (len == n && strncmp(p, method, n) == 0)
            return true;
        if (!c)
            break;
        p = c + 1;
    }
    return false;
}

bool gw_mockapim_faults_pick(struct gw_mockapim_faults *f, const char *method, const char *path,
                             struct gw_mockapim_fault *out)
{
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < f->n; i++) {
        struct rule *r = &f->rules[i];
        if (r->remaining == 0 || !method_ok(r, method))
            continue;
        bool match = false;
        for (int g = 0; g < r->nglobs && !match; g++)
            match = fnmatch(r->globs[g], path, 0) == 0;
        if (!match)
            continue;
        if (r->probability < 1.0 && draw(f) >= r->probability)
            continue;
        if (r->remaining > 0)
            r->remaining--;
        r->fired++;
        *out = r->f;
        return true;
    }
    return false;
}

json_t *gw_mockapim_faults_json(const struct gw_mockapim_faults *f)
{
    json_t *a = json_array();
    for (int i = 0; i < f->n; i++) {
        const struct rule *r = &f->rules[i];
        json_t *globs = json_array();
        for (int g = 0; g < r->nglobs; g++)
            json_array_append_new(globs, json_string(r->globs[g]));
        json_t *o = json_pack("{s:i, s:s, s:o, s:f, s:I}", "id", r->id, "mode",
                              mode_names[r->f.mode], "paths", globs, "probability",
                              r->probability, "fired", (json_int_t)r->fired);
        json_object_set_new(o, "remaining",
                            r->remaining < 0 ? json_null() : json_integer(r->remaining));
        if (r->methods[0])
            json_object_set_new(o, "methods", json_string(r->methods));
        switch (r->f.mode) {
        case GW_MOCKAPIM_FAULT_LATENCY:
        case GW_MOCKAPIM_FAULT_TIMEOUT:
            json_object_set_new(o, "ms", json_integer(r->f.ms));
            break;
        case GW_MOCKAPIM_FAULT_ERROR:
            json_object_set_new(o, "status", json_integer(r->f.status));
            if (r->f.retry_after)
                json_object_set_new(o, "retry_after", json_integer(r->f.retry_after));
            break;
        case GW_MOCKAPIM_FAULT_OVERSIZED:
            json_object_set_new(o, "size_mb", json_real((double)r->f.bytes / 1048576.0));
            break;
        default:
            break;
        }
        json_array_append_new(a, o);
    }
    return a;
}
