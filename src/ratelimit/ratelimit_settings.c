/*
 * src/ratelimit/ratelimit_settings.c
 * Settings of the rate limiter. The rules themselves live in the rules file, the database
 * (`mcpgw limits`, the admin API) and GW_RATELIMIT_HTTP_PER_IP (docs/scaling.md).
 */
#include "ratelimit/ratelimit.h"

#include <string.h>

const struct gw_setting_def gw_ratelimit_settings[] = {
    {"GW_RATELIMIT_ENABLED", GW_SET_BOOL, "true", 0, 0, NULL, "Rate limits",
     "Apply rate-limit rules (off: no rule is checked, whatever is configured)."},
    {"GW_RATELIMIT_BACKEND", GW_SET_ENUM, "auto", 0, 0, "auto|memory|redis", "Rate limits",
     "Where limit state lives: memory (this process; one machine), redis (shared by every "
     "replica through REDIS_URL: exact across replicas), auto (redis when REDIS_URL is set)."},
    {"GW_RATELIMIT_ON_REDIS_FAILURE", GW_SET_ENUM, "local", 0, 0, "local|open|closed",
     "Rate limits",
     "What a check does when Redis cannot answer (down, too slow, overloaded): local (this "
     "replica's in-process limiter decides: limits hold per replica until Redis is back), open "
     "(allow), closed (refuse: JSON-RPC -32009 / HTTP 503 with Retry-After). Logged and "
     "counted either way; never waits longer than GW_REDIS_COMMAND_TIMEOUT_MS."},
    {"GW_RATELIMIT_RULES_FILE", GW_SET_STRING, "", 0, 0, NULL, "Rate limits",
     "JSON file of rules ({\"rules\": [...]}, format in docs/scaling.md), read at start-up and "
     "re-read when it changes. Rules from the file are read-only in the CLI and admin API; "
     "rules in the database are added with `mcpgw limits add` or POST /admin/api/limits."},
    {"GW_RATELIMIT_HTTP_PER_IP", GW_SET_STRING, "", 0, 0, NULL, "Rate limits",
     "A limit on every HTTP request to the MCP endpoints per client address, checked before "
     "authentication (429 + Retry-After), e.g. 1000/min as the edge WAF does. Empty: none. "
     "Same as an http-scope rule with id http-per-ip."},
    {"GW_RATELIMIT_RELOAD_SECONDS", GW_SET_INT, "10", 1, 3600, NULL, "Rate limits",
     "How often the rules file and the database rules are re-read as a fallback (a change "
     "made through the CLI or the admin API reaches every replica at once through the "
     "registry's change notification)."},
    {"GW_RATELIMIT_HEADERS", GW_SET_BOOL, "true", 0, 0, NULL, "Rate limits",
     "Send RateLimit-Policy and RateLimit (draft-ietf-httpapi-ratelimit-headers) on responses "
     "to which a limit applied."},
    {"GW_RATELIMIT_MEMORY_MAX_KEYS", GW_SET_INT, "100000", 64, 100000000, NULL, "Rate limits",
     "Limit states kept in process (one per rule and key, about 100 bytes each); full ones "
     "are dropped first."},
    {"GW_TRUSTED_PROXIES", GW_SET_STRING, "", 0, 0, NULL, "Rate limits",
     "Addresses and CIDRs of the proxies in front of the gateway (load balancer, nginx, "
     "ingress), comma separated. Only for connections from them is X-Forwarded-For read "
     "(right to left, skipping trusted hops) to find the client address that per-IP limits "
     "count; empty: the connection's address is the client."},
    GW_SETTINGS_END};

void gw_ratelimit_config_from_settings(struct gw_ratelimit_config *cfg,
                                       const struct gw_settings *s, bool kv_enabled)
{
    memset(cfg, 0, sizeof(*cfg));
    const char *backend = gw_settings_str(s, "GW_RATELIMIT_BACKEND");
    cfg->use_redis = strcmp(backend, "redis") == 0 ||
                     (strcmp(backend, "auto") == 0 && kv_enabled);
    const char *f = gw_settings_str(s, "GW_RATELIMIT_ON_REDIS_FAILURE");
    cfg->on_failure = strcmp(f, "open") == 0     ? GW_RL_FAIL_OPEN
                      : strcmp(f, "closed") == 0 ? GW_RL_FAIL_CLOSED
                                                 : GW_RL_FAIL_LOCAL;
    cfg->memory_max_keys = (size_t)gw_settings_int(s, "GW_RATELIMIT_MEMORY_MAX_KEYS");
    cfg->trusted_proxies = gw_settings_str(s, "GW_TRUSTED_PROXIES");
    cfg->headers = gw_settings_bool(s, "GW_RATELIMIT_HEADERS");
    cfg->cluster = gw_settings_bool(s, "GW_REDIS_CLUSTER");
}
