/*
 * src/web/web_settings.c
 * The GW_ADMIN_UI_* settings (declarative table, registered by the app; docs/configuration.md
 * is generated from it) and their translation into gw_web_options for the admin console.
 */
#include "web/web.h"

#include <string.h>

#define GROUP "Admin UI"

const struct gw_setting_def gw_web_settings[] = {
    {"GW_ADMIN_UI_DIR", GW_SET_STRING, "", 0, 0, NULL, GROUP,
     "Directory of the built admin console (ui/admin/dist, made by `npm run build` there; "
     "scripts/run.sh builds and sets it). The admin listener (GW_ADMIN_LISTEN) then serves it "
     "at /admin/ next to the API at /admin/api/. Read once at start-up into memory (at most "
     "4096 files, 64 MiB; symbolic links and dot-files are never served). Empty: no console."},
    {"GW_ADMIN_UI_CONNECT_SRC", GW_SET_STRING, "", 0, 0, NULL, GROUP,
     "Extra origins the console's pages may connect to, added to the Content-Security-Policy "
     "`connect-src` (space separated): the OIDC provider's origin(s) for sign-in (discovery, "
     "token endpoint), e.g. `https://login.example.com`. Everything else is same-origin only."},
    GW_SETTINGS_END,
};

int gw_web_options_from_settings(struct gw_web_options *o, const struct gw_settings *s)
{
    memset(o, 0, sizeof(*o));
    o->dir = gw_settings_str(s, "GW_ADMIN_UI_DIR");
    o->prefix = "/admin/";
    o->connect_src = gw_settings_str(s, "GW_ADMIN_UI_CONNECT_SRC");
    return o->dir && *o->dir ? GW_OK : GW_DECLINED;
}
