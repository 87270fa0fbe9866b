/*
 * src/admin/admin_config.c
 * GET /admin/api/settings: the gateway's effective configuration, one entry per setting with
 * its value, default, source (default, env, file:line, override) and documentation, secrets
 * redacted (core/settings.c gw_settings_json). Built once at attach from the settings the app
 * loaded (they never change afterwards) and kept as text; each request parses its own copy, so
 * pool threads never share a JSON value.
 */
#include "admin/admin_internal.h"

void gw_admin__w_settings(struct admin_job *j, struct gw_store *st)
{
    (void)st;
    if (!j->adm->settings) {
        gw_admin__fail(j, 404, "not_found", "this gateway was started without its settings");
        return;
    }
    json_t *items = json_loads(j->adm->settings, 0, NULL);
    if (!items) {
        gw_admin__fail(j, 500, "internal", "out of memory");
        return;
    }
    gw_admin__ok(j, 200, json_pack("{s:o,s:n}", "items", items, "next"));
}
