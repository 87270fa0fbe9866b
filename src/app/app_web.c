/*
 * src/app/app_web.c
 * Wiring of the admin console (src/web) onto the admin listener: GW_ADMIN_UI_DIR read into
 * memory at start-up and served at /admin/ beside the admin API (/admin/api/, registered first
 * so it wins).
 */
#include "app.h"

#include "core/log.h"
#include "web/web.h"

#include <stdio.h>

int app_web_attach(const struct gw_settings *s, struct gw_server *admin_http,
                   struct gw_web **out)
{
    *out = NULL;
    struct gw_web_options o;
    if (!admin_http || gw_web_options_from_settings(&o, s) == GW_DECLINED)
        return GW_OK;
    struct gw_error err = {0};
    int rc = gw_web_open(&o, out, &err);
    if (rc != GW_OK) {
        fprintf(stderr, "mcpgw: admin console (GW_ADMIN_UI_DIR): %s\n", err.msg);
        return rc;
    }
    size_t bytes = 0;
    size_t n = gw_web_count(*out, &bytes);
    gw_web_attach(*out, admin_http);
    GW_LOG(GW_LOG_INFO, "app", "admin console: %zu files (%zu bytes) from %s at http://%s/admin/",
           n, bytes, o.dir, gw_server_address(admin_http));
    return GW_OK;
}
