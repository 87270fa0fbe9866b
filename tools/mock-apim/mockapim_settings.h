/*
 * tools/mock-apim/mockapim_settings.h
 * The mock's settings table (environment variables MOCK_APIM_*; the CLI flags of
 * `mock-apim serve` are overrides of the same names, see mockapim_main.c).
 */
#ifndef GW_MOCKAPIM_SETTINGS_H
#define GW_MOCKAPIM_SETTINGS_H

#include "core/settings.h"

extern const struct gw_setting_def gw_mockapim_settings[];

#endif
