/*
 * src/core/settings.c
 * Registry of setting definitions and their resolved values.
 * Invariant: after a successful gw_settings_load every registered setting has a valid value
 * (defaults are validated too, so a bad default fails at start-up, not at first use).
 */
#include "core/settings.h"

#include "core/alloc.h"

#include <errno.h>
#include <sys/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SETTINGS_LINE_MAX 65536

struct entry {
    const struct gw_setting_def *def;
    char *value;    /* resolved text */
    long long ival; /* parsed for INT and BOOL */
    char source[300];
    char *override;
};

struct gw_settings {
    struct entry *entries;
    size_t n, cap;
};

struct gw_settings *gw_settings_new(void)
{
    return gw_xcalloc(1, sizeof(struct gw_settings));
}

void gw_settings_free(struct gw_settings *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        gw_free(s->entries[i].value);
        gw_free(s->entries[i].override);
    }
    gw_free(s->entries);
    gw_free(s);
}

static struct entry *find(const struct gw_settings *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->entries[i].def->name, name) == 0)
            return &s->entries[i];
    return NULL;
}

void gw_settings_register(struct gw_settings *s, const struct gw_setting_def *table)
{
    for (const struct gw_setting_def *d = table; d->name; d++) {
        if (find(s, d->name)) {
            fprintf(stderr, "fatal: setting %s registered twice\n", d->name);
            abort();
        }
        if (s->n == s->cap) {
            s->cap = s->cap ? s->cap * 2 : 32;
            s->entries = gw_xrealloc(s->entries, s->cap * sizeof(*s->entries));
        }
        memset(&s->entries[s->n], 0, sizeof(struct entry));
        s->entries[s->n++].def = d;
    }
}

int gw_settings_override(struct gw_settings *s, const char *name, const char *value,
                         struct gw_error *err)
{
    struct entry *e = find(s, name);
    if (!e)
        return GW_ERROR_SET(err, GW_EINVAL, "unknown setting %s", name);
    gw_free(e->override);
    e->override = gw_xstrdup(value);
    return GW_OK;
}

static bool choice_ok(const char *choices, const char *v)
{
    size_t vn = strlen(v);
    const char *p = choices;
    while (*p) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == vn && strncmp(p, v, n) == 0)
            return true;
        if (!bar)
            break;
        p = bar + 1;
    }
    return false;
}

/* Validates `v` for entry e and stores it. */
static int set_value(struct entry *e, const char *v, const char *source, struct gw_error *err)
{
    const struct gw_setting_def *d = e->def;
    long long iv = 0;
    switch (d->type) {
    case GW_SET_INT: {
        char *end = NULL;
        errno = 0;
        iv = strtoll(v, &end, 10);
        if (errno || end == v || *end != '\0')
            return GW_ERROR_SET(err, GW_EINVAL, "%s=%.40s%s (from %s): expected an integer",
                                d->name, v, strlen(v) > 40 ? "..." : "", source);
        if (iv < d->min || iv > d->max)
            return GW_ERROR_SET(err, GW_EINVAL, "%s=%lld (from %s): must be between %lld and %lld",
                                d->name, iv, source, d->min, d->max);
        break;
    }
    case GW_SET_BOOL:
        if (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes") ||
            !strcasecmp(v, "on"))
            iv = 1;
        else if (!strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "no") ||
                 !strcasecmp(v, "off") || !*v)
            iv = 0;
        else
            return GW_ERROR_SET(err, GW_EINVAL, "%s=%.40s%s (from %s): expected true or false",
                                d->name, v, strlen(v) > 40 ? "..." : "", source);
        break;
    case GW_SET_ENUM:
        if (!choice_ok(d->choices, v))
            return GW_ERROR_SET(err, GW_EINVAL, "%s=%.40s%s (from %s): expected one of %s",
                                d->name, v, strlen(v) > 40 ? "..." : "", source, d->choices);
        break;
    case GW_SET_STRING:
    case GW_SET_SECRET:
        break;
    }
    gw_free(e->value);
    e->value = gw_xstrdup(v);
    e->ival = iv;
    snprintf(e->source, sizeof(e->source), "%s", source);
    return GW_OK;
}

static int load_file(struct gw_settings *s, const char *file, struct gw_error *err)
{
    FILE *f = fopen(file, "r");
    char ebuf[128];
    if (!f)
        return GW_ERROR_SET(err, GW_EIO, "config file %s: %s", file,
                            gw_strerror(errno, ebuf, sizeof(ebuf)));
    char *line = NULL;
    size_t linecap = 0;
    ssize_t got;
    int lineno = 0, rc = GW_OK;
    while ((got = getline(&line, &linecap, f)) >= 0) {
        lineno++;
        if (got > SETTINGS_LINE_MAX) {
            rc = GW_ERROR_SET(err, GW_ELIMIT, "%s:%d: line longer than %d bytes", file, lineno,
                              SETTINGS_LINE_MAX);
            break;
        }
        if ((size_t)got != strlen(line)) {
            rc = GW_ERROR_SET(err, GW_EINVAL, "%s:%d: NUL byte in the line", file, lineno);
            break;
        }
        size_t n = (size_t)got;
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
            line[--n] = '\0';
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p || *p == '#')
            continue;
        if (!strncmp(p, "export ", 7))
            p += 7;
        char *eq = strchr(p, '=');
        if (!eq) {
            rc = GW_ERROR_SET(err, GW_EINVAL, "%s:%d: expected KEY=VALUE", file, lineno);
            break;
        }
        *eq = '\0';
        char *val = eq + 1;
        size_t vn = strlen(val);
        if (vn >= 2 && ((val[0] == '"' && val[vn - 1] == '"') ||
                        (val[0] == '\'' && val[vn - 1] == '\''))) {
            val[vn - 1] = '\0';
            val++;
        }
        struct entry *e = find(s, p);
        if (!e) {
            rc = GW_ERROR_SET(err, GW_EINVAL, "%s:%d: unknown setting %s", file, lineno, p);
            break;
        }
        char src[300];
        snprintf(src, sizeof(src), "file:%s:%d", file, lineno);
        rc = set_value(e, val, src, err);
        if (rc != GW_OK)
            break;
    }
    gw_free(line); /* getline's buffer comes from malloc */
    fclose(f);
    return rc;
}

int gw_settings_load(struct gw_settings *s, const char *file, struct gw_error *err)
{
    for (size_t i = 0; i < s->n; i++) {
        int rc = set_value(&s->entries[i], s->entries[i].def->def, "default", err);
        if (rc != GW_OK)
            return rc;
    }
    if (file) {
        int rc = load_file(s, file, err);
        if (rc != GW_OK)
            return rc;
    }
    for (size_t i = 0; i < s->n; i++) {
        const char *v = getenv(s->entries[i].def->name);
        if (v) {
            int rc = set_value(&s->entries[i], v, "env", err);
            if (rc != GW_OK)
                return rc;
        }
        if (s->entries[i].override) {
            int rc = set_value(&s->entries[i], s->entries[i].override, "override", err);
            if (rc != GW_OK)
                return rc;
        }
    }
    return GW_OK;
}

/* Levenshtein distance of two short names, capped at cap + 1. */
static size_t distance(const char *a, const char *b, size_t cap)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64 || (la > lb ? la - lb : lb - la) > cap)
        return cap + 1;
    size_t prev[65], cur[65];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (lb + 1) * sizeof(size_t));
    }
    return prev[lb];
}

extern char **environ;

size_t gw_settings_unknown_env(const struct gw_settings *s, gw_settings_unknown_fn fn, void *ud)
{
    size_t found = 0;
    for (char **e = environ; e && *e; e++) {
        if (strncmp(*e, "GW_", 3) != 0)
            continue;
        const char *eq = strchr(*e, '=');
        char name[128];
        size_t n = eq ? (size_t)(eq - *e) : strlen(*e);
        if (n >= sizeof(name))
            n = sizeof(name) - 1;
        memcpy(name, *e, n);
        name[n] = '\0';
        if (find(s, name))
            continue;
        const char *best = NULL;
        size_t best_d = 4;
        for (size_t i = 0; i < s->n; i++) {
            size_t d = distance(name, s->entries[i].def->name, 3);
            if (d < best_d) {
                best_d = d;
                best = s->entries[i].def->name;
            }
        }
        found++;
        if (fn)
            fn(ud, name, best);
    }
    return found;
}

static const struct entry *must(const struct gw_settings *s, const char *name,
                                enum gw_setting_type t1, enum gw_setting_type t2)
{
    const struct entry *e = find(s, name);
    if (!e || (e->def->type != t1 && e->def->type != t2) || !e->value) {
        fprintf(stderr, "fatal: setting %s not registered/loaded or of another type\n", name);
        abort();
    }
    return e;
}

const char *gw_settings_str(const struct gw_settings *s, const char *name)
{
    const struct entry *e = find(s, name);
    if (e && e->def->type == GW_SET_ENUM && e->value)
        return e->value;
    return must(s, name, GW_SET_STRING, GW_SET_SECRET)->value;
}

long long gw_settings_int(const struct gw_settings *s, const char *name)
{
    return must(s, name, GW_SET_INT, GW_SET_INT)->ival;
}

bool gw_settings_bool(const struct gw_settings *s, const char *name)
{
    return must(s, name, GW_SET_BOOL, GW_SET_BOOL)->ival != 0;
}

const char *gw_settings_source(const struct gw_settings *s, const char *name)
{
    const struct entry *e = find(s, name);
    return e ? e->source : "unknown";
}

static const char *type_name(const struct gw_setting_def *d)
{
    switch (d->type) {
    case GW_SET_STRING: return "string";
    case GW_SET_SECRET: return "secret";
    case GW_SET_INT: return "integer";
    case GW_SET_BOOL: return "boolean";
    case GW_SET_ENUM: return "enum";
    }
    return "?";
}

static int cmp_group(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    int c = strcmp(x->def->group, y->def->group);
    return c ? c : strcmp(x->def->name, y->def->name);
}

int gw_settings_markdown(const struct gw_settings *s, struct gw_buf *out)
{
    struct entry *sorted = gw_xmalloc((s->n ? s->n : 1) * sizeof(*sorted));
    memcpy(sorted, s->entries, s->n * sizeof(*sorted));
    qsort(sorted, s->n, sizeof(*sorted), cmp_group);
    int rc = gw_buf_adds(out,
        "# Configuration reference\n\n"
        "<!-- GENERATED by `mcpgw config docs` from the settings tables; do not edit. -->\n\n"
        "Every setting is an environment variable. The same names may be put in a config file\n"
        "(`KEY=VALUE` lines, `#` comments) passed with `mcpgw serve --config FILE` or\n"
        "`GW_CONFIG_FILE`. Precedence: default < file < environment < command-line flag.\n"
        "Invalid values stop start-up with a message naming the setting and its source.\n");
    const char *group = NULL;
    for (size_t i = 0; i < s->n && rc == GW_OK; i++) {
        const struct gw_setting_def *d = sorted[i].def;
        if (!group || strcmp(group, d->group) != 0) {
            group = d->group;
            rc = gw_buf_printf(out, "\n## %s\n\n| Variable | Type | Default | Meaning |\n"
                                    "|---|---|---|---|\n", group);
        }
        char range[128] = "";
        if (d->type == GW_SET_INT)
            snprintf(range, sizeof(range), " (%lld–%lld)", d->min, d->max);
        else if (d->type == GW_SET_ENUM)
            snprintf(range, sizeof(range), " (`%s`)", d->choices);
        const char *def = d->type == GW_SET_SECRET ? "(secret, unset)"
                          : *d->def                ? d->def
                                                   : "(empty)";
        if (rc == GW_OK)
            rc = gw_buf_printf(out, "| `%s` | %s%s | `%s` | %s |\n", d->name, type_name(d), range,
                               def, d->help);
    }
    gw_free(sorted);
    return rc;
}

int gw_settings_dump(const struct gw_settings *s, struct gw_buf *out)
{
    int rc = GW_OK;
    for (size_t i = 0; i < s->n && rc == GW_OK; i++) {
        const struct entry *e = &s->entries[i];
        const char *v = e->def->type == GW_SET_SECRET && e->value && *e->value
                            ? "<redacted>"
                            : (e->value ? e->value : "");
        rc = gw_buf_printf(out, "%s=%s    # %s\n", e->def->name, v, e->source);
    }
    return rc;
}

json_t *gw_settings_json(const struct gw_settings *s)
{
    struct entry *sorted = gw_xmalloc((s->n ? s->n : 1) * sizeof(*sorted));
    memcpy(sorted, s->entries, s->n * sizeof(*sorted));
    qsort(sorted, s->n, sizeof(*sorted), cmp_group);
    json_t *arr = json_array();
    for (size_t i = 0; i < s->n; i++) {
        const struct entry *e = &sorted[i];
        const struct gw_setting_def *d = e->def;
        bool secret = d->type == GW_SET_SECRET;
        const char *v = e->value ? e->value : "";
        json_t *probe = json_string(v);
        if (!probe)
            v = "<not valid UTF-8>"; /* from a file or the environment: shown, not dropped */
        json_decref(probe);
        json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:s}", "name", d->name, "group",
                              d->group, "type", type_name(d), "value",
                              secret ? (*v ? "<redacted>" : "") : v, "default",
                              secret ? "" : d->def, "source", e->source, "secret", secret,
                              "help", d->help);
        if (!o)
            continue; /* only when memory ran out */
        if (d->type == GW_SET_INT) {
            json_object_set_new(o, "min", json_integer(d->min));
            json_object_set_new(o, "max", json_integer(d->max));
        } else if (d->type == GW_SET_ENUM) {
            json_object_set_new(o, "choices", json_string(d->choices));
        }
        json_array_append_new(arr, o);
    }
    gw_free(sorted);
    return arr;
}
