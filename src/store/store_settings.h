/*
 * src/store/store_settings.h
 * The store's settings table (DATABASE_URL, GW_DB_BUSY_TIMEOUT_MS,
 * GW_DB_CONNECT_TIMEOUT_SECONDS), for the app to register with gw_settings_register.
 */
#ifndef GW_STORE_SETTINGS_H
#define GW_STORE_SETTINGS_H

#include "core/settings.h"

extern const struct gw_setting_def gw_store_settings[];

#endif
