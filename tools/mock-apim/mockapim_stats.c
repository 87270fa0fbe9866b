/*
 * tools/mock-apim/mockapim_stats.c
 * Counters behind GET /__mock/stats: an open-addressing table (FNV-1a, linear probing) of
 * "METHOD path" keys, twice the key limit in slots so probes stay short.
 */
#include "mockapim_stats.h"

#include "core/alloc.h"
#include "mockapim_data.h"

#include <stdio.h>
#include <string.h>

#define SLOTS (GW_MOCKAPIM_STATS_KEYS * 2)
#define KEY_MAX 200
#define NSTATUS 600
#define NMODES 8

/* One method+path counter; an empty key marks a free slot. */
struct slot {
    char key[KEY_MAX];
    long n;
};

/* All counters; fixed size, no allocation after creation. */
struct gw_mockapim_stats {
    struct slot slots[SLOTS];
    int used;
    long other, total;
    long status[NSTATUS];
    struct {
        char mode[16];
        long n;
    } faults[NMODES];
};

struct gw_mockapim_stats *gw_mockapim_stats_new(void)
{
    return gw_xcalloc(1, sizeof(struct gw_mockapim_stats));
}

void gw_mockapim_stats_free(struct gw_mockapim_stats *s)
{
    gw_free(s);
}

void gw_mockapim_stats_reset(struct gw_mockapim_stats *s)
{
    memset(s, 0, sizeof(*s));
}

/* The slot of key, or the free slot where it would go (*out_found false); NULL when full. */
static struct slot *find(const struct gw_mockapim_stats *s, const char *key, bool *out_found)
{
    size_t i = (size_t)(gw_mockapim_fnv1a(key) % SLOTS);
    for (size_t probe = 0; probe < SLOTS; probe++, i = (i + 1) % SLOTS) {
        const struct slot *sl = &s->slots[i];
        if (!sl->key[0] || strcmp(sl->key, key) == 0) {
            *out_found = sl->key[0] != '\0';
            return (struct slot *)sl;
        }
    }
    *out_found = false;
    return NULL;
}

void gw_mockapim_stats_request(struct gw_mockapim_stats *s, const char *method, const char *path)
{
    char key[KEY_MAX];
    bool found;
    s->total++;
    snprintf(key, sizeof(key), "%s %s", method, path);
    struct slot *sl = find(s, key, &found);
    if (!found && (!sl || s->used >= GW_MOCKAPIM_STATS_KEYS)) {
        s->other++;
        return;
    }
    if (!found) {
        snprintf(sl->key, sizeof(sl->key), "%s", key);
        s->used++;
    }
    sl->n++;
}

void gw_mockapim_stats_status(struct gw_mockapim_stats *s, int status)
{
    if (status >= 0 && status < NSTATUS)
        s->status[status]++;
}

void gw_mockapim_stats_fault(struct gw_mockapim_stats *s, const char *mode)
{
    for (int i = 0; i < NMODES; i++) {
        if (!s->faults[i].mode[0])
            snprintf(s->faults[i].mode, sizeof(s->faults[i].mode), "%s", mode);
        if (strcmp(s->faults[i].mode, mode) == 0) {
            s->faults[i].n++;
            return;
        }
    }
}

long gw_mockapim_stats_get(const struct gw_mockapim_stats *s, const char *method,
                           const char *path)
{
    char key[KEY_MAX];
    bool found;
    snprintf(key, sizeof(key), "%s %s", method, path);
    const struct slot *sl = find(s, key, &found);
    return found ? sl->n : 0;
}

json_t *gw_mockapim_stats_json(const struct gw_mockapim_stats *s)
{
    json_t *req = json_object(), *st = json_object(), *fa = json_object();
    for (int i = 0; i < SLOTS; i++)
        if (s->slots[i].key[0])
            json_object_set_new(req, s->slots[i].key, json_integer(s->slots[i].n));
    if (s->other)
        json_object_set_new(req, "other", json_integer(s->other));
    for (int i = 0; i < NSTATUS; i++) {
        if (!s->status[i])
            continue;
        char k[8];
        snprintf(k, sizeof(k), "%d", i);
        json_object_set_new(st, k, json_integer(s->status[i]));
    }
    for (int i = 0; i < NMODES && s->faults[i].mode[0]; i++)
        json_object_set_new(fa, s->faults[i].mode, json_integer(s->faults[i].n));
    return json_pack("{s:I, s:o, s:o, s:o}", "total", (json_int_t)s->total, "requests", req,
                     "statuses", st, "faults", fa);
}
