/*
 * tools/mock-apim/mockapim_faults.h
 * Fault injection rules, switchable at run time (POST /__mock/faults) or at start (--fault).
 *
 * A rule = mode + parameters + which requests it applies to (path globs, methods) + how often
 * (probability, drawn from a seeded splitmix64 generator so a run is reproducible; count = how
 * many times it fires before it is exhausted, absent = forever). Rules are tried in the order
 * they were added; the first that fires decides the request's fault.
 * Modes: latency (answer normally after ms), error (status, default 503, optional retry_after),
 * timeout (hold the request ms, default 30000, then drop the connection without answering),
 * malformed (the normal answer cut in half: invalid JSON), reset (close the socket with RST
 * before answering), oversized (a valid JSON answer padded to size_mb MiB).
 * Single-threaded (the event-loop thread). Bounded: at most GW_MOCKAPIM_FAULTS_MAX rules.
 */
#ifndef GW_MOCKAPIM_FAULTS_H
#define GW_MOCKAPIM_FAULTS_H

#include "core/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_MOCKAPIM_FAULTS_MAX 32
#define GW_MOCKAPIM_FAULT_MAX_MS 600000
#define GW_MOCKAPIM_FAULT_MAX_MB 256

enum gw_mockapim_fault_mode {
    GW_MOCKAPIM_FAULT_NONE = 0,
    GW_MOCKAPIM_FAULT_LATENCY,
    GW_MOCKAPIM_FAULT_ERROR,
    GW_MOCKAPIM_FAULT_TIMEOUT,
    GW_MOCKAPIM_FAULT_MALFORMED,
    GW_MOCKAPIM_FAULT_RESET,
    GW_MOCKAPIM_FAULT_OVERSIZED
};

/* The decision for one request. */
struct gw_mockapim_fault {
    enum gw_mockapim_fault_mode mode;
    int rule_id;
    int ms;          /* latency, timeout */
    int status;      /* error */
    int retry_after; /* error: Retry-After seconds, 0 = none */
    size_t bytes;    /* oversized */
};

struct gw_mockapim_faults;

/* New empty rule set whose probability draws start from `seed`. */
struct gw_mockapim_faults *gw_mockapim_faults_new(uint64_t seed);
void gw_mockapim_faults_free(struct gw_mockapim_faults *f);

/* Adds a rule from JSON {"mode":..., "ms", "status", "retry_after", "size_mb", "paths"
 * (glob string, comma-separated globs or array; default "*"), "methods" (e.g. "GET,POST"),
 * "probability" (0..1, default 1), "count" (>= 1)}. {"mode":"off"} clears every rule instead
 * (*out_id = 0). GW_OK with *out_id, GW_EINVAL (message names the bad member), GW_ELIMIT. */
int gw_mockapim_faults_add_json(struct gw_mockapim_faults *f, const json_t *spec, int *out_id,
                                struct gw_error *err);

/* Same from the flag form "mode=latency,ms=500,paths=/api/x,probability=0.5", or from JSON
 * text when it starts with '{'. */
int gw_mockapim_faults_add_text(struct gw_mockapim_faults *f, const char *text, int *out_id,
                                struct gw_error *err);

/* Removes every rule / rule `id` (GW_OK or GW_ENOTFOUND). */
void gw_mockapim_faults_clear(struct gw_mockapim_faults *f);
int gw_mockapim_faults_remove(struct gw_mockapim_faults *f, int id);

/* Decides the fault of a request (consuming one use of a counted rule). Returns true and fills
 * *out when a rule fires; false (out->mode NONE) otherwise. */
bool gw_mockapim_faults_pick(struct gw_mockapim_faults *f, const char *method, const char *path,
                             struct gw_mockapim_fault *out);

/* The rules as a JSON array (new reference): id, mode, parameters, paths, methods,
 * probability, remaining (null = unlimited) and fired. */
json_t *gw_mockapim_faults_json(const struct gw_mockapim_faults *f);

/* "latency", "error", ...; "none" for GW_MOCKAPIM_FAULT_NONE. */
const char *gw_mockapim_fault_mode_name(enum gw_mockapim_fault_mode m);

#endif
