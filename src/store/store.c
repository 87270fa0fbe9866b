/*
 * src/store/store.c
 * The store handle: backend selection by URL, open/close, the transaction protocol of
 * store_impl.h (version bump, NOTIFY or in-process bus), and small helpers shared by the
 * store's files (row-to-value queries, validation of names and fields, history rows).
 *
 * Invariants: a handle has at most one open transaction; every write transaction bumps
 * registry_state.version exactly once and the bump is visible only if the transaction commits.
 * The URL may carry a password: it is kept only in the handle and never logged (messages use
 * gw_store_url_redact).
 * Not here: SQL dialect details (store_sqlite.c, store_pg.c), migrations (store_migrate.c).
 */
#include "store/store_impl.h"

#include "core/alloc.h"
#include "core/log.h"
#include "core/str.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* Defaults of struct gw_store_options (documented in store.h). */
static const struct gw_store_options default_options = {5000, 10};

/* Copies `in` over the defaults, field by field (zero = default). */
static void apply_defaults(struct gw_store_options *o, const struct gw_store_options *in)
{
    *o = default_options;
    if (in && in->busy_timeout_ms > 0)
        o->busy_timeout_ms = in->busy_timeout_ms;
    if (in && in->connect_timeout_s > 0)
        o->connect_timeout_s = in->connect_timeout_s;
}

static bool has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

/* URL forms: postgres[ql]:// goes to libpq untouched; sqlite://, sqlite: and bare paths are
 * SQLite files. Anything else with a scheme is refused rather than guessed. */
int gw_store__resolve(const char *url, const struct gw_store_ops **out_ops, char **out_target,
                   struct gw_error *err)
{
    if (!url || !*url)
        return GW_ERROR_SET(err, GW_EINVAL, "empty database URL");
    if (strlen(url) > GW_STORE_TEXT_MAX)
        return GW_ERROR_SET(err, GW_EINVAL, "database URL longer than %d bytes",
                            GW_STORE_TEXT_MAX);
    if (has_prefix(url, "postgres://") || has_prefix(url, "postgresql://")) {
        *out_ops = &gw_store_pg_ops;
        *out_target = gw_xstrdup(url);
        return GW_OK;
    }
    const char *path = url;
    if (has_prefix(url, "sqlite://"))
        path = url + strlen("sqlite://");
    else if (has_prefix(url, "sqlite:"))
        path = url + strlen("sqlite:");
    else if (strstr(url, "://"))
        return GW_ERROR_SET(err, GW_EINVAL,
                            "unsupported database URL scheme (use sqlite:// or postgres://)");
    if (!*path)
        return GW_ERROR_SET(err, GW_EINVAL, "database URL names no file");
    if (strcmp(path, ":memory:") == 0 || has_prefix(path, "file:"))
        return GW_ERROR_SET(err, GW_EINVAL,
                            "in-memory and URI SQLite databases are not supported (handles must "
                            "share one file)");
    *out_ops = &gw_store_sqlite_ops;
    *out_target = gw_xstrdup(path);
    return GW_OK;
}

/* Creates the parent folder of a SQLite file when missing (one level). */
static int ensure_parent(const char *path, struct gw_error *err)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return GW_OK;
    char dir[PATH_MAX];
    size_t n = (size_t)(slash - path);
    if (n >= sizeof(dir))
        return GW_ERROR_SET(err, GW_EINVAL, "database path too long");
    memcpy(dir, path, n);
    dir[n] = '\0';
    struct stat sb;
    if (stat(dir, &sb) == 0)
        return S_ISDIR(sb.st_mode) ? GW_OK
                                   : GW_ERROR_SET(err, GW_EIO, "%s is not a folder", dir);
    if (mkdir(dir, 0750) != 0 && errno != EEXIST)
        return GW_ERROR_SET(err, GW_EIO, "cannot create folder %s (errno %d)", dir, errno);
    return GW_OK;
}

int gw_store_open(const char *url, const struct gw_store_options *opt, struct gw_store **out,
                  struct gw_error *err)
{
    const struct gw_store_ops *ops = NULL;
    char *target = NULL;
    struct gw_store *st = NULL;
    *out = NULL;
    int rc = gw_store__resolve(url, &ops, &target, err);
    if (rc != GW_OK)
        goto out;
    if (ops == &gw_store_sqlite_ops)
        rc = ensure_parent(target, err);
    if (rc != GW_OK)
        goto out;
    st = gw_xcalloc(1, sizeof(*st));
    st->ops = ops;
    apply_defaults(&st->opt, opt);
    rc = ops->open(target, &st->opt, &st->conn, err);
    if (rc != GW_OK)
        goto out;
    st->target = target;
    target = NULL;
    st->identity = gw_store__identity(ops, st->target);
    *out = st;
    st = NULL;
out:
    gw_free(target);
    gw_free(st);
    return rc;
}

/* SQLite handles of one file must meet on the bus whatever path spelling opened them, hence
 * the real path; PostgreSQL does not use the bus, the URL is just a label. */
char *gw_store__identity(const struct gw_store_ops *ops, const char *target)
{
    char real[PATH_MAX];
    if (ops == &gw_store_sqlite_ops && realpath(target, real))
        return gw_xstrdup(real);
    return gw_xstrdup(target);
}

void gw_store_close(struct gw_store *st)
{
    if (!st)
        return;
    if (st->in_tx)
        gw_store__rollback(st);
    st->ops->close(st->conn);
    gw_free(st->target);
    gw_free(st->identity);
    gw_free(st);
}

const char *gw_store_backend_name(const struct gw_store *st)
{
    return st->ops->name;
}

int gw_store_default_url(const char *data_dir, char *out, size_t size)
{
    const char *dir = data_dir && *data_dir ? data_dir : "./data";
    int n = snprintf(out, size, "sqlite://%s/gateway.db", dir);
    return n < 0 || (size_t)n >= size ? GW_ELIMIT : GW_OK;
}

void gw_store_url_redact(const char *url, char *out, size_t size)
{
    if (!size)
        return;
    out[0] = '\0';
    if (!url)
        return;
    /* scheme://user:password@host… → scheme://user:***@host… */
    const char *scheme = strstr(url, "://");
    const char *at = scheme ? strchr(scheme + 3, '@') : NULL;
    const char *colon = NULL;
    if (at) {
        for (const char *p = scheme + 3; p < at; p++)
            if (*p == ':') {
                colon = p;
                break;
            }
    }
    if (colon)
        snprintf(out, size, "%.*s:***%s", (int)(colon - url), url, at);
    else
        snprintf(out, size, "%s", url);
    /* a password=… query parameter */
    char *pw = strstr(out, "password=");
    if (pw) {
        char *end = strchr(pw, '&');
        size_t tail = end ? strlen(end) : 0;
        pw += strlen("password=");
        if ((size_t)(pw - out) + 3 + tail < size) {
            memmove(pw + 3, end ? end : pw + strlen(pw), tail + 1);
            memcpy(pw, "***", 3);
        }
    }
}

/* ---- transactions -------------------------------------------------------------------- */

int gw_store__exec(struct gw_store *st, const char *sql, const struct store_param *p, int np,
                   store_row_fn cb, void *ctx, long long *out_changes, struct gw_error *err)
{
    return st->ops->exec(st->conn, sql, p, np, cb, ctx, out_changes, err);
}

int gw_store__insert(struct gw_store *st, const char *sql, const struct store_param *p, int np,
                     long long *out_id, struct gw_error *err)
{
    return st->ops->insert(st->conn, sql, p, np, out_id, err);
}

/* Read transactions give list/scan one consistent view (both backends snapshot at the first
 * read); they do not bump the version. */
int gw_store__begin_read(struct gw_store *st, struct gw_error *err)
{
    if (st->in_tx)
        return GW_ERROR_SET(err, GW_ERR, "store: transaction already open");
    int rc = st->ops->begin(st->conn, STORE_TX_READ, err);
    if (rc == GW_OK) {
        st->in_tx = true;
        st->tx_write = false;
    }
    return rc;
}

int gw_store__begin_write(struct gw_store *st, long long *out_version, struct gw_error *err)
{
    if (st->in_tx)
        return GW_ERROR_SET(err, GW_ERR, "store: transaction already open");
    int rc = st->ops->begin(st->conn, STORE_TX_WRITE, err);
    if (rc != GW_OK)
        return rc;
    st->in_tx = true;
    st->tx_write = true;
    rc = gw_store__query_int(st,
                             "UPDATE registry_state SET version = version + 1 WHERE id = 1 "
                             "RETURNING version",
                             NULL, 0, &st->tx_version, err);
    if (rc == GW_ENOTFOUND)
        rc = GW_ERROR_SET(err, GW_ERR, "registry_state row missing (schema not migrated?)");
    if (rc != GW_OK) {
        gw_store__rollback(st);
        return rc;
    }
    if (out_version)
        *out_version = st->tx_version;
    return GW_OK;
}

/* The NOTIFY is queued inside the transaction, so PostgreSQL delivers it exactly when (and
 * only if) the COMMIT succeeds; the SQLite bus is posted after a successful COMMIT. */
int gw_store__commit(struct gw_store *st, struct gw_error *err)
{
    int rc = GW_OK;
    if (!st->in_tx)
        return GW_ERROR_SET(err, GW_ERR, "store: no transaction to commit");
    if (st->tx_write && st->ops->has_notify) {
        char payload[24];
        snprintf(payload, sizeof(payload), "%lld", st->tx_version);
        rc = st->ops->notify(st->conn, GW_STORE_CHANNEL, payload, err);
        if (rc != GW_OK) {
            gw_store__rollback(st);
            return rc;
        }
    }
    rc = st->ops->commit(st->conn, err);
    bool was_write = st->tx_write;
    st->in_tx = false;
    st->tx_write = false;
    if (rc != GW_OK) {
        st->ops->rollback(st->conn);
        return rc;
    }
    if (was_write && !st->ops->has_notify)
        gw_store__bus_post(st->identity);
    return GW_OK;
}

void gw_store__rollback(struct gw_store *st)
{
    if (!st->in_tx)
        return;
    st->ops->rollback(st->conn);
    st->in_tx = false;
    st->tx_write = false;
}

/* ---- row helpers ---------------------------------------------------------------------- */

struct first_col {
    char *text;
    size_t len;
    bool got;
};

static int first_col_row(void *ctx, const struct store_row *row)
{
    struct first_col *fc = ctx;
    if (fc->got)
        return GW_OK;
    fc->got = true;
    if (row->n > 0 && row->v[0]) {
        fc->text = gw_xstrndup(row->v[0], row->len[0]);
        fc->len = row->len[0];
    }
    return GW_OK;
}

int gw_store__query_json(struct gw_store *st, const char *sql, const struct store_param *p,
                         int np, json_t **out, struct gw_error *err)
{
    struct first_col fc = {0};
    *out = NULL;
    int rc = gw_store__exec(st, sql, p, np, first_col_row, &fc, NULL, err);
    if (rc == GW_OK && !fc.got)
        rc = GW_ENOTFOUND;
    if (rc == GW_OK) {
        *out = fc.text ? gw_store__parse(fc.text, fc.len, err) : json_null();
        if (!*out)
            rc = err ? err->code : GW_ERR;
    }
    gw_free(fc.text);
    return rc;
}

int gw_store__query_int(struct gw_store *st, const char *sql, const struct store_param *p,
                        int np, long long *out, struct gw_error *err)
{
    struct first_col fc = {0};
    int rc = gw_store__exec(st, sql, p, np, first_col_row, &fc, NULL, err);
    if (rc == GW_OK && !fc.got)
        rc = GW_ENOTFOUND;
    if (rc == GW_OK)
        *out = gw_store__int(fc.text);
    gw_free(fc.text);
    return rc;
}

json_t *gw_store__parse(const char *text, size_t len, struct gw_error *err)
{
    static const struct gw_json_limits lim = {GW_STORE_DEF_MAX * 2u, 0};
    return gw_json_parse(text, len, &lim, err);
}

/* Integers come back as text from both backends (sqlite3_column_text, libpq text format). */
long long gw_store__int(const char *s)
{
    if (!s)
        return 0;
    bool neg = *s == '-';
    unsigned long long v = 0;
    if (gw_str_to_u64(gw_str_c(neg ? s + 1 : s), &v) != GW_OK || v > LLONG_MAX)
        return 0;
    return neg ? -(long long)v : (long long)v;
}

bool gw_store__valid_name(const char *s, bool dots)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > GW_STORE_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || (dots && c == '.');
        if (!ok)
            return false;
    }
    return true;
}

int gw_store__opt_str(const json_t *obj, const char *key, size_t max, const char **out,
                      struct gw_error *err)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return GW_OK;
    if (!json_is_string(v))
        return GW_ERROR_SET(err, GW_EINVAL, "\"%s\" must be a string", key);
    if (json_string_length(v) > max)
        return GW_ERROR_SET(err, GW_EINVAL, "\"%s\" longer than %zu bytes", key, max);
    *out = json_string_value(v);
    return GW_OK;
}

/* History rows always have an actor: anonymous changes are attributed to "system". */
const char *gw_store__who(const struct gw_store_actor *who)
{
    return who && who->who && *who->who ? who->who : "system";
}

const char *gw_store__why(const struct gw_store_actor *who)
{
    return who && who->why ? who->why : "";
}

/* Serialises through a bounded buffer so that an oversized definition fails with GW_ELIMIT
 * instead of growing without limit. */
int gw_store__dump(const json_t *v, size_t max, char **out, struct gw_error *err)
{
    struct gw_buf b;
    gw_buf_init(&b, max);
    int rc = gw_json_dump(v, &b);
    if (rc == GW_ELIMIT) {
        gw_buf_fini(&b);
        return GW_ERROR_SET(err, GW_ELIMIT, "definition larger than %zu bytes", max);
    }
    if (rc != GW_OK) {
        gw_buf_fini(&b);
        return GW_ERROR_SET(err, GW_ENOMEM, "out of memory serialising a definition");
    }
    *out = gw_buf_take(&b, NULL);
    if (!*out)
        *out = gw_xstrdup("");
    return GW_OK;
}

int gw_store__history(struct gw_store *st, long long tool_id, const char *tool_name,
                      long long version, const char *action, const json_t *previous,
                      const struct gw_store_actor *who, const char *now, struct gw_error *err)
{
    char *prev = NULL;
    int rc = GW_OK;
    if (previous)
        rc = gw_store__dump(previous, GW_STORE_DEF_MAX * 2u, &prev, err);
    if (rc != GW_OK)
        return rc;
    struct store_param p[] = {SP_INT(tool_id), SP_TEXT(tool_name), SP_INT(version),
                              SP_TEXT(action),  SP_TEXT(prev),      SP_TEXT(gw_store__who(who)),
                              SP_TEXT(gw_store__why(who)), SP_TEXT(now)};
    rc = gw_store__exec(st,
                        "INSERT INTO tool_history (tool_id, tool_name, version, action, previous, "
                        "actor, reason, changed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                        p, 8, NULL, NULL, NULL, err);
    gw_free(prev);
    return rc;
}

/* The identity used to match operations across imports: source (what the spec said) first,
 * the binding (what we call) as a fallback for hand-made tools. */
void gw_store__op_key(const json_t *def, char *out, size_t size)
{
    const json_t *src = json_object_get(def, "source");
    const char *m = gw_json_str(src, "method");
    const char *p = gw_json_str(src, "path");
    if (!m || !p) {
        const json_t *b = json_object_get(def, "binding");
        m = gw_json_str(b, "method");
        p = gw_json_str(b, "path");
    }
    out[0] = '\0';
    if (!m || !p || size < 2)
        return;
    size_t o = 0;
    for (size_t i = 0; m[i] && o + 1 < size && i < 16; i++)
        out[o++] = (m[i] >= 'a' && m[i] <= 'z') ? (char)(m[i] - 'a' + 'A') : m[i];
    if (o + 1 < size)
        out[o++] = ' ';
    /* "{dealerId}" and "{id}" name the same operation: parameter names are left out */
    bool in_param = false;
    for (size_t i = 0; p[i] && o + 1 < size; i++) {
        if (in_param && p[i] != '}')
            continue;
        in_param = p[i] == '{';
        out[o++] = p[i];
    }
    out[o] = '\0';
}

/* Millisecond UTC timestamps, generated here so both backends store the same text. */
void gw_store__now(char *out, size_t size)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ts.tv_nsec / 1000000));
}

int gw_store_registry_version(struct gw_store *st, long long *out, struct gw_error *err)
{
    int rc = gw_store__query_int(st, "SELECT version FROM registry_state WHERE id = 1", NULL, 0,
                                 out, err);
    if (rc == GW_ENOTFOUND)
        rc = GW_ERROR_SET(err, GW_ERR, "registry_state row missing (schema not migrated?)");
    return rc;
}
