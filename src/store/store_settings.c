/*
 * src/store/store_settings.c
 * Settings of the store (declarative table, registered by the app; see core/settings.h).
 * The app turns them into the URL and struct gw_store_options passed to gw_store_open:
 * an empty DATABASE_URL means SQLite at <GW_DATA_DIR>/gateway.db (gw_store_default_url).
 */
#include "store/store_settings.h"

const struct gw_setting_def gw_store_settings[] = {
    {"DATABASE_URL", GW_SET_SECRET, "", 0, 0, NULL, "Database",
     "Where configuration and the tool registry are stored. Empty: SQLite file gateway.db in "
     "GW_DATA_DIR. sqlite:///path/file.db (or a plain path) for another SQLite file; "
     "postgres://user:password@host:5432/db?sslmode=require for PostgreSQL (production). "
     "Treated as a secret: it may hold a password."},
    {"GW_DB_BUSY_TIMEOUT_MS", GW_SET_INT, "5000", 1, 600000, NULL, "Database",
     "How long a database statement waits for a lock held by another writer before failing "
     "(SQLite busy timeout; PostgreSQL lock_timeout), in milliseconds."},
    {"GW_DB_CONNECT_TIMEOUT_SECONDS", GW_SET_INT, "10", 1, 300, NULL, "Database",
     "PostgreSQL connection timeout in seconds (a connect_timeout in DATABASE_URL wins)."},
    GW_SETTINGS_END,
};
