/*
 * src/core/settings.h
 * The declarative settings registry.
 *
 * Each module declares its settings as a const table of `struct gw_setting_def` (name = the
 * environment variable, type, bounds or choices, default, description) in its own
 * <module>_settings.c, and the composition root registers every table. The same tables drive:
 * environment overrides, the optional config file (KEY=VALUE lines, same names), validation
 * with messages that cite the source (env or file:line), typed getters, and the generated
 * docs/configuration.md (`mcpgw config docs`).
 * Precedence: built-in default < config file < environment < explicit overrides (CLI flags).
 * Values are immutable after gw_settings_load returns; reads are thread-safe then.
 */
#ifndef GW_CORE_SETTINGS_H
#define GW_CORE_SETTINGS_H

#include "core/buf.h"
#include "core/err.h"

#include <jansson.h>

#include <stdbool.h>

enum gw_setting_type {
    GW_SET_STRING,
    GW_SET_SECRET, /* a string never printed in logs, docs show no value */
    GW_SET_INT,    /* long long within [min, max] */
    GW_SET_BOOL,   /* true/false/1/0/yes/no/on/off */
    GW_SET_ENUM    /* one of `choices`, a '|' separated list */
};

struct gw_setting_def {
    const char *name;    /* environment variable and file key, e.g. "GW_LISTEN" */
    enum gw_setting_type type;
    const char *def;     /* default as text ("" = empty) */
    long long min, max;  /* GW_SET_INT bounds */
    const char *choices; /* GW_SET_ENUM: "a|b|c" */
    const char *group;   /* documentation section, e.g. "HTTP server" */
    const char *help;    /* one or two sentences: meaning, unit, effect */
};

#define GW_SETTINGS_END {NULL, GW_SET_STRING, NULL, 0, 0, NULL, NULL, NULL}

struct gw_settings;

struct gw_settings *gw_settings_new(void);
void gw_settings_free(struct gw_settings *s);

/* Registers a table (NULL-name terminated). Tables are borrowed and must be static. Aborts on a
 * duplicate name: that is a programming error. */
void gw_settings_register(struct gw_settings *s, const struct gw_setting_def *table);

/* Sets an explicit override (e.g. from a CLI flag), applied over env and file at load time. */
int gw_settings_override(struct gw_settings *s, const char *name, const char *value,
                         struct gw_error *err);

/* Resolves every value: defaults, then `file` (may be NULL; else must exist), then the
 * environment, then overrides. Validates all of them; on failure `err` names the setting, the
 * source and what was expected. Unknown keys in the file are errors (typos must not pass). */
int gw_settings_load(struct gw_settings *s, const char *file, struct gw_error *err);

/* Typed getters. Asking for an unregistered name or the wrong type aborts (programming error). */
/* Environment variables that start with GW_ but name no registered setting (typos): calls
 * fn(name, suggestion) for each, where suggestion is the closest registered name (edit
 * distance <= 3) or NULL. Returns how many were found. Call after gw_settings_load. */
typedef void (*gw_settings_unknown_fn)(void *ud, const char *name, const char *suggestion);
size_t gw_settings_unknown_env(const struct gw_settings *s, gw_settings_unknown_fn fn, void *ud);

const char *gw_settings_str(const struct gw_settings *s, const char *name);
long long gw_settings_int(const struct gw_settings *s, const char *name);
bool gw_settings_bool(const struct gw_settings *s, const char *name);

/* Where a value came from: "default", "env", "file:<path>:<line>" or "override". */
const char *gw_settings_source(const struct gw_settings *s, const char *name);

/* Writes the reference documentation (Markdown) of every registered setting into `out`. */
int gw_settings_markdown(const struct gw_settings *s, struct gw_buf *out);

/* Writes the effective configuration as KEY=VALUE lines, secrets redacted. */
int gw_settings_dump(const struct gw_settings *s, struct gw_buf *out);

/* The effective configuration as a new JSON array, sorted by group then name, one object per
 * setting: {"name","group","type","value","default","source","secret","help"} plus "min"/"max"
 * (integers) or "choices" (enums). A secret's value is "<redacted>" when set, "" when not, and
 * its default is never shown. For the admin API's settings page. Never fails (aborts on OOM). */
json_t *gw_settings_json(const struct gw_settings *s);

#endif
