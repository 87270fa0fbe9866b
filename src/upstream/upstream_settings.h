/*
 * src/upstream/upstream_settings.h
 * The settings table of the upstream executor (registered by the composition root).
 */
#ifndef GW_UPSTREAM_SETTINGS_H
#define GW_UPSTREAM_SETTINGS_H

#include "core/settings.h"

extern const struct gw_setting_def gw_upstream_settings[];

#endif
