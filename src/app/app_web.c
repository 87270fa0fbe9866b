/*
 * src/app/app_web.c
 * Wiring of the admin console (src/web) onto the admin listener: GW_ADMIN_UI_DIR read into
 * memory at start-up and served at /admin/ beside the admin API (/admin/api/, registered first
 * so it wins); and the chat agent's API (src/chat) with its page (GW_CHAT_UI_DIR at /chat/) on the
 * data-plane listener.
 */
#include "app.h"

#include "auth/auth.h"
#include "chat/chat.h"
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

int app_chat_attach(const struct gw_settings *s, struct app_platform *pf, struct gw_server *http,
                    struct gw_chat **chat, struct gw_web **page)
{
    *chat = NULL;
    *page = NULL;
    char url[2048];
    if (app_store_url(s, url, sizeof(url)) != GW_OK)
        return GW_EINVAL;
    struct gw_store_options so = app_store_options(s);
    json_t *auth_config = gw_auth_public_config(pf->auth);
    struct gw_chat_config cc = {s, pf->mcp, gw_auth_authn(pf->auth), url, &so, auth_config};
    struct gw_error err = {0};
    int rc = gw_chat_attach(http, &cc, chat, &err);
    json_decref(auth_config);
    if (rc == GW_DECLINED)
        return GW_OK;
    if (rc != GW_OK) {
        fprintf(stderr, "mcpgw: chat: %s\n", err.msg);
        return rc;
    }
    GW_LOG(GW_LOG_INFO, "chat", "chat agent at http://%s/chat/api/: %s", gw_server_address(http),
           gw_chat_describe(*chat));
    const char *dir = gw_settings_str(s, "GW_CHAT_UI_DIR");
    if (!dir || !*dir)
        return GW_OK;
    struct gw_web_options o = {dir, "/chat/", gw_settings_str(s, "GW_CHAT_UI_CONNECT_SRC")};
    rc = gw_web_open(&o, page, &err);
    if (rc != GW_OK) {
        fprintf(stderr, "mcpgw: chat page (GW_CHAT_UI_DIR): %s\n", err.msg);
        return rc;
    }
    size_t bytes = 0;
    size_t n = gw_web_count(*page, &bytes);
    gw_web_attach(*page, http);
    GW_LOG(GW_LOG_INFO, "app", "chat page: %zu files (%zu bytes) from %s at http://%s/chat/", n,
           bytes, dir, gw_server_address(http));
    return GW_OK;
}
