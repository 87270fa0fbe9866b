/*
 * src/registry/registry_settings.h
 * The registry's settings table (GW_REGISTRY_POLL_SECONDS), for the app to register with
 * gw_settings_register.
 */
#ifndef GW_REGISTRY_SETTINGS_H
#define GW_REGISTRY_SETTINGS_H

#include "core/settings.h"

extern const struct gw_setting_def gw_registry_settings[];

#endif
