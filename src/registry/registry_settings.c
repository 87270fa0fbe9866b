/*
 * src/registry/registry_settings.c
 * Settings of the registry (declarative table, registered by the app; see core/settings.h).
 * The app passes GW_REGISTRY_POLL_SECONDS * 1000 as gw_registry_config.poll_ms.
 */
#include "registry/registry_settings.h"

const struct gw_setting_def gw_registry_settings[] = {
    {"GW_REGISTRY_POLL_SECONDS", GW_SET_INT, "5", 0, 3600, NULL, "Database",
     "How often each gateway process checks the registry version in the database, as a "
     "fallback to change notifications (PostgreSQL LISTEN/NOTIFY; in-process for SQLite). It "
     "bounds how long a change made by another process on the same SQLite file (e.g. the CLI) "
     "or missed during a database outage takes to be served. 0 disables polling."},
    GW_SETTINGS_END,
};
