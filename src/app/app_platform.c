/*
 * src/app/app_platform.c
 * Assembles the data plane shared by `serve` and `stdio`: store migration, the registry (with
 * its change watcher), the upstreams (config, secrets, breakers), the tool pipeline and the MCP
 * server with its providers. Torn down in reverse order.
 */
#include "app.h"

#include "auth/auth.h"
#include "core/log.h"
#include "governance/gov.h"
#include "fixtures/fixtures.h"
#include "kv/kv.h"
#include "mcp/mcp_server.h"
#include "discovery/discovery.h"
#include "pipeline/pipeline.h"
#include "ratelimit/ratelimit.h"
#include "ratelimit/ratelimit_loader.h"
#include "shared/shared.h"
#include "registry/registry.h"
#include "store/store.h"
#include "upstream/upstream_exec.h"

#include <stdio.h>
#include <string.h>

struct gw_store_options app_store_options(const struct gw_settings *s)
{
    return (struct gw_store_options){(int)gw_settings_int(s, "GW_DB_BUSY_TIMEOUT_MS"),
                                     (int)gw_settings_int(s, "GW_DB_CONNECT_TIMEOUT_SECONDS")};
}

int app_store_url(const struct gw_settings *s, char *out, size_t size)
{
    const char *url = gw_settings_str(s, "DATABASE_URL");
    if (url && *url) {
        snprintf(out, size, "%s", url);
        return GW_OK;
    }
    return gw_store_default_url(gw_settings_str(s, "GW_DATA_DIR"), out, size);
}

int app_store_open(const struct gw_settings *s, bool migrate, struct gw_store **out)
{
    char url[2048], shown[2048];
    struct gw_error err = {0};
    if (app_store_url(s, url, sizeof(url)) != GW_OK) {
        fprintf(stderr, "mcpgw: the database URL is too long\n");
        return GW_EINVAL;
    }
    struct gw_store_options so = app_store_options(s);
    int rc = gw_store_open(url, &so, out, &err);
    if (rc == GW_OK && migrate) {
        int v = 0;
        rc = gw_store_migrate(*out, &v, &err);
        if (rc != GW_OK) {
            gw_store_close(*out);
            *out = NULL;
        }
    }
    if (rc != GW_OK) {
        gw_store_url_redact(url, shown, sizeof(shown));
        fprintf(stderr, "mcpgw: database %s: %s\n", shown, err.msg);
    }
    return rc;
}

void app_public_url(const struct gw_settings *s, char *out, size_t size)
{
    const char *pub = gw_settings_str(s, "GW_PUBLIC_URL");
    if (pub && *pub) {
        snprintf(out, size, "%s", pub);
        return;
    }
    const char *listen = gw_settings_str(s, "GW_LISTEN");
    const char *colon = strrchr(listen, ':');
    const char *port = colon ? colon + 1 : "8000";
    size_t hlen = colon ? (size_t)(colon - listen) : strlen(listen);
    if ((hlen == 7 && strncmp(listen, "0.0.0.0", 7) == 0) ||
        (hlen == 4 && strncmp(listen, "[::]", 4) == 0) || hlen == 0)
        snprintf(out, size, "http://localhost:%s", port);
    else
        snprintf(out, size, "http://%.*s:%s", (int)hlen, listen, port);
}

static void on_registry_change(void *ctx, const struct gw_registry_change *chg)
{
    struct app_platform *pf = ctx;
    if (pf->auth)
        gw_auth_reload(pf->auth); /* API keys are registry writes too */
    struct gw_error err = {0};
    if (pf->gov && gw_gov_reload(pf->gov, &err) != GW_OK) /* and governance rules */
        GW_LOG(GW_LOG_ERROR, "governance", "the changed rules were refused (the previous rules "
                                           "stay in force): %s", err.msg);
    gw_rl_loader_wake(pf->rl_loader); /* so are rate-limit rules */
    GW_LOG(GW_LOG_INFO, "app", "registry reloaded: %zu tools (store version %lld)%s",
           chg->tool_count, chg->store_version, chg->list_changed ? "; tool list changed" : "");
    if (chg->list_changed)
        gw_mcp_server_notify_list_changed(pf->mcp, GW_LISTEN_TOOLS);
}

/* New rules: every open stream is told its tool list may have changed. */
static void governance_changed(void *arg)
{
    struct app_platform *pf = arg;
    gw_mcp_server_notify_list_changed(pf->mcp, GW_LISTEN_TOOLS);
}

int app_platform_open(struct app_platform *pf, const struct gw_settings *s)
{
    memset(pf, 0, sizeof(*pf));
    struct gw_error err = {0};
    struct gw_store *st = NULL;
    bool migrate = gw_settings_bool(s, "GW_DB_MIGRATE_ON_START");
    if (migrate) {
        if (app_store_open(s, true, &st) != GW_OK) /* start-up migration */
            return GW_EIO;
        gw_store_close(st);
    }

    char url[2048];
    app_store_url(s, url, sizeof(url));
    struct gw_store_options so = app_store_options(s);
    /* Without start-up migration a separate step owns the schema, and the gateway may start
     * before the database answers: the registry loads its first snapshot when it can and
     * /ready says so (app_ready_registry). */
    struct gw_registry_config rc = {url, &so,
                                    (int)gw_settings_int(s, "GW_REGISTRY_POLL_SECONDS") * 1000,
                                    true, !migrate};
    if (gw_registry_new(&rc, &pf->registry, &err) != GW_OK) {
        fprintf(stderr, "mcpgw: registry: %s\n", err.msg);
        return GW_EIO;
    }
    pf->upstreams = gw_upstreams_load(s, &err);
    if (!pf->upstreams) {
        fprintf(stderr, "mcpgw: upstreams: %s\n", err.msg);
        app_platform_close(pf);
        return GW_EINVAL;
    }
    struct gw_schema_options so_schema;
    gw_schema_options_init(&so_schema);
    gw_schema_options_from_settings(s, &so_schema);
    struct gw_pipeline_options po = {true, 8, &so_schema};
    pf->pipeline = gw_pipeline_new(pf->registry, pf->upstreams, &po);

    struct gw_mcp_server_options mo;
    gw_mcp_options_from_settings(&mo, s);
    if (!mo.session_secret || !*mo.session_secret)
        GW_LOG(GW_LOG_WARN, "app",
               "GW_SESSION_SECRET is not set: session ids are signed with a random per-process "
               "key (they will not survive a restart nor work across replicas)");
    pf->mcp = gw_mcp_server_new(&mo);
    char pub[512];
    app_public_url(s, pub, sizeof(pub));
    /* lazily started (no start-up migration): the database may not answer yet; the
     * authenticator and governance then fail closed until the first registry load */
    if ((migrate ? gw_auth_new : gw_auth_new_lazy)(s, pub, url, &pf->auth, &err) != GW_OK) {
        fprintf(stderr, "mcpgw: authentication: %s\n", err.msg);
        app_platform_close(pf);
        return GW_EINVAL;
    }
    gw_mcp_server_set_authn(pf->mcp, gw_auth_authn(pf->auth));
    if ((migrate ? gw_gov_new : gw_gov_new_lazy)(s, url, &pf->gov, &err) != GW_OK ||
        gw_gov_attach(pf->gov, pf->pipeline) != GW_OK) {
        fprintf(stderr, "mcpgw: governance: %s\n", err.msg);
        app_platform_close(pf);
        return GW_EINVAL;
    }
    gw_gov_set_challenge(pf->gov, gw_auth_step_up, pf->auth);
    gw_gov_on_change(pf->gov, governance_changed, pf);
    if (app_shared_open(pf, s, url, &so) != GW_OK) {
        app_platform_close(pf);
        return GW_EINVAL;
    }
    /* the registry's tools, through the discovery layer (search_tools for large catalogues;
     * the pipeline's own list and calls otherwise) */
    struct gw_discovery_config dc;
    gw_discovery_config_from_settings(&dc, s);
    pf->discovery = gw_discovery_new(pf->registry, pf->pipeline, &dc);
    gw_mcp_server_add_provider(pf->mcp, gw_discovery_provider(pf->discovery));
    if (gw_settings_bool(s, "GW_CONFORMANCE_FIXTURES")) {
        gw_mcp_server_add_provider(pf->mcp, gw_fixtures_provider());
        GW_LOG(GW_LOG_WARN, "app", "conformance fixtures enabled: their test tools are outside "
                                    "governance and rate limits (testing only, never in "
                                    "production)");
    }
    if (app_observe_open(pf, s) != GW_OK) {
        app_platform_close(pf);
        return GW_EINVAL;
    }
    pf->change_id = gw_registry_on_change(pf->registry, on_registry_change, pf);
    if (!migrate) {
        /* the first snapshot may have arrived before the listener: load keys and rules now */
        struct gw_registry_stats rst;
        gw_registry_stats(pf->registry, &rst);
        if (rst.loaded) {
            gw_auth_reload(pf->auth);
            if (gw_gov_reload(pf->gov, &err) != GW_OK)
                GW_LOG(GW_LOG_WARN, "governance", "loading the rules: %s", err.msg);
        }
    }
    struct gw_snapshot *snap = gw_registry_acquire(pf->registry);
    GW_LOG(GW_LOG_INFO, "app", "serving %zu tools from the registry", gw_snapshot_count(snap));
    gw_snapshot_release(snap);
    return GW_OK;
}

void app_platform_close(struct app_platform *pf)
{
    if (pf->registry && pf->change_id > 0)
        gw_registry_off_change(pf->registry, pf->change_id);
    gw_registry_free(pf->registry); /* stops the watcher first: no more change callbacks */
    app_observe_close(pf);
    gw_rl_loader_free(pf->rl_loader);
    gw_ratelimit_free(pf->ratelimit);
    gw_kv_free(pf->kv); /* stops the subscriber thread */
    gw_shared_free(pf->shared);
    gw_auth_free(pf->auth);
    gw_gov_free(pf->gov);
    gw_discovery_free(pf->discovery);
    gw_pipeline_free(pf->pipeline);
    gw_mcp_server_free(pf->mcp);
    gw_upstreams_free(pf->upstreams);
    memset(pf, 0, sizeof(*pf));
}

int app_platform_loop_start(struct app_platform *pf, struct gw_loop *loop, struct gw_error *err)
{
    int rc = gw_kv_loop_start(pf->kv, loop, err); /* before the executors that use it */
    if (rc == GW_OK)
        rc = gw_pipeline_loop_start(pf->pipeline, loop, err);
    if (rc == GW_OK)
        rc = gw_gov_loop_start(pf->gov, loop, err); /* the loop's OPA client, if any */
    return rc;
}

void app_platform_loop_stop(struct app_platform *pf, struct gw_loop *loop)
{
    /* Redis first: its pending replies fail (GW_EIO) and the calls waiting on them resume
     * while their executor still exists */
    gw_kv_loop_stop(pf->kv, loop);
    gw_gov_loop_stop(pf->gov, loop);
    gw_pipeline_loop_stop(pf->pipeline, loop);
}

/* ---------- shared state (Redis) and rate limits ---------- */

int app_shared_open(struct app_platform *pf, const struct gw_settings *s, const char *store_url,
                    const struct gw_store_options *so)
{
    struct gw_error err = {0};
    struct gw_kv_config kc;
    gw_kv_config_from_settings(&kc, s);
    if (gw_kv_new(&kc, &pf->kv, &err) != GW_OK) {
        fprintf(stderr, "mcpgw: Redis: %s\n", err.msg);
        return GW_EINVAL;
    }
    if (gw_kv_enabled(pf->kv))
        GW_LOG(GW_LOG_INFO, "app", "shared state on Redis %s", gw_kv_url_shown(pf->kv));
    pf->shared = gw_shared_new(pf->kv);
    gw_gov_set_kv(pf->gov, pf->kv); /* consents are spent once across replicas */
    if (gw_shared_sessions_attach(pf->shared, gw_mcp_server_sessions(pf->mcp), &err) != GW_OK ||
        gw_shared_idem_attach(pf->shared, pf->upstreams,
                              (uint64_t)gw_settings_int(s, "GW_IDEMPOTENCY_TTL_SECONDS") * 1000u,
                              (uint64_t)gw_settings_int(s, "GW_IDEMPOTENCY_INFLIGHT_SECONDS") *
                                  1000u,
                              &err) != GW_OK) {
        fprintf(stderr, "mcpgw: shared state: %s\n", err.msg);
        return GW_EINVAL;
    }
    if (gw_settings_bool(s, "GW_RATELIMIT_ENABLED")) {
        struct gw_ratelimit_config rc;
        gw_ratelimit_config_from_settings(&rc, s, gw_kv_enabled(pf->kv));
        if (gw_ratelimit_new(&rc, pf->kv, &pf->ratelimit, &err) != GW_OK) {
            fprintf(stderr, "mcpgw: rate limits: %s\n", err.msg);
            return GW_EINVAL;
        }
        gw_ratelimit_attach(pf->ratelimit, pf->pipeline);
        struct gw_rl_loader_config lc = {
            .rules_file = gw_settings_str(s, "GW_RATELIMIT_RULES_FILE"),
            .http_per_ip = gw_settings_str(s, "GW_RATELIMIT_HTTP_PER_IP"),
            .store_url = store_url,
            .store_opts = so,
            .reload_ms = (int)gw_settings_int(s, "GW_RATELIMIT_RELOAD_SECONDS") * 1000,
            .thread = true};
        if (gw_rl_loader_new(pf->ratelimit, &lc, &pf->rl_loader, &err) != GW_OK) {
            fprintf(stderr, "mcpgw: rate limits: %s\n", err.msg);
            return GW_EINVAL;
        }
    }
    if (gw_kv_start(pf->kv, &err) != GW_OK) { /* after every script and subscription */
        fprintf(stderr, "mcpgw: Redis: %s\n", err.msg);
        return GW_EIO;
    }
    return GW_OK;
}

int app_ready_registry(void *arg, struct gw_error *err)
{
    /* Ready = this replica can serve: it holds a registry snapshot. A database outage after
     * that does not make it unready (every replica would leave the load balancer at once while
     * each keeps serving its snapshot); it shows in the registry's stats (store_ok, listening,
     * reload_errors, last_ok_unix) for metrics and alerts. */
    struct app_platform *pf = arg;
    struct gw_registry_stats st;
    gw_registry_stats(pf->registry, &st);
    if (!st.loaded)
        return GW_ERROR_SET(err, GW_EIO,
                            "no registry snapshot loaded yet: the database has not answered "
                            "(%llu failed loads)",
                            st.reload_errors);
    return GW_OK;
}

json_t *app_limits_status(void *arg)
{
    struct app_platform *pf = arg;
    if (!pf->ratelimit)
        return NULL;
    struct gw_rl_ruleset *rs = gw_ratelimit_rules(pf->ratelimit);
    json_t *setj = gw_rl_ruleset_json(rs);
    gw_rl_ruleset_unref(rs);
    struct gw_ratelimit_stats st;
    gw_ratelimit_stats(pf->ratelimit, &st);
    struct gw_kv_stats ks;
    gw_kv_stats(pf->kv, &ks);
    json_t *stats = json_pack(
        "{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "backend", st.backend, "rules",
        (json_int_t)st.rules, "checks", (json_int_t)st.checks, "allowed",
        (json_int_t)st.allowed, "limited", (json_int_t)st.limited, "httpLimited",
        (json_int_t)st.http_limited, "dryRunLimited", (json_int_t)st.dry_run_limited,
        "backendErrors", (json_int_t)st.backend_errors, "failLocal", (json_int_t)st.fail_local,
        "failOpen", (json_int_t)st.fail_open, "failClosed", (json_int_t)st.fail_closed,
        "memoryKeys", (json_int_t)st.memory_keys);
    json_object_set_new(stats, "redis",
                        json_pack("{s:b,s:I,s:I,s:b,s:I,s:I,s:I}", "enabled", ks.enabled,
                                  "connections", (json_int_t)ks.loops, "ready",
                                  (json_int_t)ks.loops_ready, "subscriberReady",
                                  ks.subscriber_ready, "timeouts", (json_int_t)ks.timeouts,
                                  "disconnects", (json_int_t)ks.disconnects, "refused",
                                  (json_int_t)ks.refused));
    json_t *out = json_pack("{s:O,s:o}", "rules", json_object_get(setj, "rules"), "stats", stats);
    json_decref(setj);
    return out;
}
