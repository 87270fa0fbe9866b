/*
 * src/app/app.h
 * The composition root: settings registration, logging set-up and the subcommands of `mcpgw`.
 * Only this folder knows every module; it wires them and holds no protocol or business logic.
 */
#ifndef GW_APP_H
#define GW_APP_H

#include "core/settings.h"

#include <stdbool.h>

extern const struct gw_setting_def gw_app_settings[];

/* Common options every subcommand understands. */
struct app_common {
    const char *config_file;
    bool fixtures;
};

/* Creates the registry of every module's settings, applies `overrides` (NAME=VALUE strings)
 * and loads file + environment. Prints a clear message and returns NULL on invalid settings. */
struct gw_settings *app_settings_load(const char *config_file, const char *const *overrides,
                                      int noverrides);
/* Configures logging from GW_LOG_LEVEL / GW_LOG_FORMAT. */
void app_logging_init(const struct gw_settings *s);

int cmd_serve(int argc, char **argv);
int cmd_stdio(int argc, char **argv);
int cmd_config(int argc, char **argv);

#endif
