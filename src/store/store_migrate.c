/*
 * src/store/store_migrate.c
 * Versioned schema migrations: the runner behind gw_store_migrate (start-up and `mcpgw db
 * migrate`) and the status listing.
 *
 * Migrations are the files src/store/sql/<backend>/NNNN_<name>.sql, embedded at build time
 * (store_sql_gen.c). Each is applied in its own transaction together with its
 * schema_migrations row (version, name, SHA-256 of the SQL text, applied_at), so a crash
 * leaves it either fully applied or not at all. Concurrent runners are serialised (SQLite
 * write lock; PostgreSQL transaction advisory lock) and re-check inside the lock, so two
 * replicas starting together apply each migration once. An applied migration whose text
 * changed since is refused (GW_ECONFLICT): fix forward with a new file instead.
 * Not here: data seeding (the app does it), down-migrations (deliberately none).
 */
#include "store/store_impl.h"

#include "core/alloc.h"
#include "core/log.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

/* Created by the runner (not by a migration) so that it exists before migration 1 runs. */
#define MIGRATIONS_TABLE                                                                       \
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT "   \
    "NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)"

/* Hex SHA-256 of a migration's text: detects migrations edited after being applied. */
static void sha256_hex(const char *data, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    static const char hex[] = "0123456789abcdef";
    out[0] = '\0';
    if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
        return;
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

int gw_store_latest_version(const struct gw_store *st)
{
    int v = 0;
    for (const struct gw_store_migration *m = st->ops->migrations; m->version; m++)
        v = m->version;
    return v;
}

/* Row sink for one short text column. */
struct text_col {
    char text[80];
    bool got;
};

static int text_row(void *ctx, const struct store_row *row)
{
    struct text_col *t = ctx;
    t->got = true;
    snprintf(t->text, sizeof(t->text), "%s", row->n > 0 && row->v[0] ? row->v[0] : "");
    return GW_OK;
}

/* Applies one migration unless present; *applied tells whether it ran. */
static int apply_one(struct gw_store *st, const struct gw_store_migration *m, bool *applied,
                     struct gw_error *err)
{
    char sum[65], now[32];
    struct text_col have = {{0}, false};
    *applied = false;
    sha256_hex(m->sql, m->len, sum);
    int rc = st->ops->begin(st->conn, STORE_TX_WRITE, err);
    if (rc != GW_OK)
        return rc;
    st->in_tx = true;
    rc = st->ops->migrate_lock(st->conn, err);
    if (rc == GW_OK)
        rc = st->ops->exec_script(st->conn, MIGRATIONS_TABLE, err);
    struct store_param pv[] = {SP_INT(m->version)};
    if (rc == GW_OK)
        rc = gw_store__exec(st, "SELECT checksum FROM schema_migrations WHERE version = $1", pv,
                            1, text_row, &have, NULL, err);
    if (rc != GW_OK)
        goto fail;
    if (have.got) {
        gw_store__rollback(st);
        if (strcmp(have.text, sum) != 0)
            return GW_ERROR_SET(err, GW_ECONFLICT,
                                "migration %04d_%s was changed after it was applied (checksum "
                                "%.12s… in the database, %.12s… in this binary)",
                                m->version, m->name, have.text, sum);
        return GW_OK;
    }
    rc = st->ops->exec_script(st->conn, m->sql, err);
    if (rc != GW_OK) {
        char detail[GW_ERROR_MSG_MAX];
        snprintf(detail, sizeof(detail), "%s", err ? err->msg : "");
        GW_ERROR_SET(err, rc, "migration %04d_%s failed: %s", m->version, m->name, detail);
        goto fail;
    }
    gw_store__now(now, sizeof(now));
    struct store_param pi[] = {SP_INT(m->version), SP_TEXT(m->name), SP_TEXT(sum), SP_TEXT(now)};
    rc = gw_store__exec(st,
                        "INSERT INTO schema_migrations (version, name, checksum, applied_at) "
                        "VALUES ($1, $2, $3, $4)",
                        pi, 4, NULL, NULL, NULL, err);
    if (rc != GW_OK)
        goto fail;
    rc = st->ops->commit(st->conn, err);
    st->in_tx = false;
    if (rc != GW_OK) {
        st->ops->rollback(st->conn);
        return rc;
    }
    *applied = true;
    return GW_OK;
fail:
    gw_store__rollback(st);
    return rc;
}

int gw_store_migrate(struct gw_store *st, int *out_version, struct gw_error *err)
{
    int applied_n = 0;
    for (const struct gw_store_migration *m = st->ops->migrations; m->version; m++) {
        bool applied = false;
        int rc = apply_one(st, m, &applied, err);
        if (rc != GW_OK)
            return rc;
        if (applied) {
            applied_n++;
            GW_LOG(GW_LOG_INFO, "store", "applied migration %04d_%s (%s)", m->version, m->name,
                   st->ops->name);
        }
    }
    int version = 0;
    int rc = gw_store_schema_version(st, &version, err);
    if (rc != GW_OK)
        return rc;
    int latest = gw_store_latest_version(st);
    if (version > latest)
        GW_LOG(GW_LOG_WARN, "store",
               "database schema version %d is newer than this binary's %d: running anyway",
               version, latest);
    else if (applied_n == 0)
        GW_LOG(GW_LOG_DEBUG, "store", "schema up to date at version %d", version);
    if (out_version)
        *out_version = version;
    return GW_OK;
}

int gw_store_schema_version(struct gw_store *st, int *out_version, struct gw_error *err)
{
    long long v = 0;
    struct gw_error local;
    *out_version = 0;
    int rc = gw_store__query_int(st, "SELECT max(version) FROM schema_migrations", NULL, 0, &v,
                                 &local);
    if (rc == GW_ERR || rc == GW_ENOTFOUND)
        return GW_OK; /* no schema_migrations table yet: an empty database */
    if (rc != GW_OK) {
        if (err)
            *err = local;
        return rc;
    }
    *out_version = (int)v;
    return GW_OK;
}

/* Applied versions and times, for the status listing (a database has few migrations). */
struct applied_set {
    int version[256];
    char at[256][32];
    int n;
};

/* Row callback of the status query. */
static int applied_row(void *ctx, const struct store_row *row)
{
    struct applied_set *a = ctx;
    if (a->n >= 256 || row->n < 2)
        return GW_OK;
    a->version[a->n] = (int)gw_store__int(row->v[0]);
    snprintf(a->at[a->n], sizeof(a->at[0]), "%s", row->v[1] ? row->v[1] : "");
    a->n++;
    return GW_OK;
}

int gw_store_migration_status(struct gw_store *st, gw_store_migration_fn fn, void *ctx,
                              struct gw_error *err)
{
    struct applied_set *a = gw_xcalloc(1, sizeof(*a));
    int have = 0;
    int rc = gw_store_schema_version(st, &have, err);
    if (rc == GW_OK && have > 0)
        rc = gw_store__exec(st,
                            "SELECT version, applied_at FROM schema_migrations ORDER BY version",
                            NULL, 0, applied_row, a, NULL, err);
    if (rc == GW_OK) {
        for (const struct gw_store_migration *m = st->ops->migrations; m->version; m++) {
            const char *at = NULL;
            for (int i = 0; i < a->n; i++)
                if (a->version[i] == m->version)
                    at = a->at[i];
            fn(ctx, m->version, m->name, at);
        }
    }
    gw_free(a);
    return rc;
}
