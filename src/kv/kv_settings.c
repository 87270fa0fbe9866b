/*
 * src/kv/kv_settings.c
 * Settings of the shared-state module (Redis). Without REDIS_URL every replica keeps its
 * state in process, exactly as a single gateway does.
 */
#include "kv/kv.h"

const struct gw_setting_def gw_kv_settings[] = {
    {"REDIS_URL", GW_SET_SECRET, "", 0, 0, NULL, "Shared state (Redis)",
     "Redis 7 that replicas share (rate-limit counters, terminated sessions, session log level "
     "and subscriptions, idempotency keys, single-use confirmations): "
     "redis://[[user]:password@]host[:port][/db] or unix:///path/redis.sock[?db=N]. Empty: "
     "every replica keeps that state in process (one machine). Keys are hash-tagged, so a "
     "Redis Cluster endpoint works when the client is routed to the key's node (see "
     "docs/scaling.md)."},
    {"GW_REDIS_PASSWORD", GW_SET_SECRET, "", 0, 0, NULL, "Shared state (Redis)",
     "Redis password (AUTH); overrides a password in REDIS_URL. Never logged."},
    {"GW_REDIS_PREFIX", GW_SET_STRING, "gw:", 0, 0, NULL, "Shared state (Redis)",
     "Prefix of every key and channel this gateway uses (several deployments can share one "
     "Redis with different prefixes)."},
    {"GW_REDIS_CONNECT_TIMEOUT_MS", GW_SET_INT, "500", 10, 60000, NULL, "Shared state (Redis)",
     "Time allowed to connect and set up a connection (AUTH, SELECT, script loading)."},
    {"GW_REDIS_COMMAND_TIMEOUT_MS", GW_SET_INT, "250", 5, 60000, NULL, "Shared state (Redis)",
     "Time allowed for a reply. The first command that misses it drops the connection, fails "
     "every command pending on it (callers apply their fail-open/closed setting) and starts "
     "reconnecting: a hung Redis is detected within this time and never stalls a worker."},
    {"GW_REDIS_RECONNECT_MAX_MS", GW_SET_INT, "2000", 50, 60000, NULL, "Shared state (Redis)",
     "Upper bound of the exponential backoff between reconnection attempts (from 50 ms). "
     "While disconnected, commands fail at once."},
    {"GW_REDIS_CLUSTER", GW_SET_BOOL, "false", 0, 0, NULL, "Shared state (Redis)",
     "REDIS_URL is a Redis Cluster node: every script touches exactly one key, so a rate-limit "
     "check with several keys becomes one pipelined script per key (each atomic). The "
     "connection must reach the node that owns the keys (a cluster-aware proxy, or a "
     "single-shard cluster): redirections (MOVED/ASK) are reported as failures."},
    {"GW_REDIS_MAX_PENDING", GW_SET_INT, "10000", 16, 1000000, NULL, "Shared state (Redis)",
     "Commands in flight per worker connection; beyond it commands fail at once."},
    GW_SETTINGS_END};

void gw_kv_config_from_settings(struct gw_kv_config *cfg, const struct gw_settings *s)
{
    cfg->url = gw_settings_str(s, "REDIS_URL");
    cfg->password = gw_settings_str(s, "GW_REDIS_PASSWORD");
    cfg->prefix = gw_settings_str(s, "GW_REDIS_PREFIX");
    cfg->connect_timeout_ms = (int)gw_settings_int(s, "GW_REDIS_CONNECT_TIMEOUT_MS");
    cfg->command_timeout_ms = (int)gw_settings_int(s, "GW_REDIS_COMMAND_TIMEOUT_MS");
    cfg->reconnect_max_ms = (int)gw_settings_int(s, "GW_REDIS_RECONNECT_MAX_MS");
    cfg->max_pending = (size_t)gw_settings_int(s, "GW_REDIS_MAX_PENDING");
}
