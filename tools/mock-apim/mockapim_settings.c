/*
 * tools/mock-apim/mockapim_settings.c
 * Declarative settings of the mock APIM (core/settings.h): names are environment variables;
 * `mock-apim --help` and docs/mock-apim.md list them with their flags.
 */
#include "mockapim_settings.h"

const struct gw_setting_def gw_mockapim_settings[] = {
    {"MOCK_APIM_LISTEN", GW_SET_STRING, "127.0.0.1:8080", 0, 0, NULL, "Mock APIM",
     "Address to listen on, HOST:PORT (port 0 = any free port). Loopback by default."},
    {"MOCK_APIM_DB", GW_SET_STRING, "./data/mock-apim.db", 0, 0, NULL, "Mock APIM",
     "SQLite file holding bookings, DMS appointments and issued tokens (WAL mode)."},
    {"MOCK_APIM_RESET", GW_SET_BOOL, "false", 0, 0, NULL, "Mock APIM",
     "Start from clean demo data: delete run-time bookings, appointments and tokens."},
    {"MOCK_APIM_API_KEY", GW_SET_SECRET, "mock-apim-dev-key", 0, 0, NULL, "Mock APIM",
     "Expected subscription key in x-api-key (or Ocp-Apim-Subscription-Key)."},
    {"MOCK_APIM_CLIENT_ID", GW_SET_STRING, "mock-gateway", 0, 0, NULL, "Mock APIM",
     "OAuth2 client id accepted by POST /oauth2/token."},
    {"MOCK_APIM_CLIENT_SECRET", GW_SET_SECRET, "mock-gateway-secret", 0, 0, NULL, "Mock APIM",
     "OAuth2 client secret accepted by POST /oauth2/token."},
    {"MOCK_APIM_TOKEN_TTL", GW_SET_INT, "300", 1, 86400, NULL, "Mock APIM",
     "Lifetime of issued access tokens in seconds (expires_in)."},
    {"MOCK_APIM_FAULTS_ADMIN", GW_SET_BOOL, "true", 0, 0, NULL, "Mock APIM",
     "Serve the fault and reset admin endpoints (/__mock/faults, /__mock/reset)."},
    {"MOCK_APIM_FAULTS", GW_SET_STRING, "", 0, 0, NULL, "Mock APIM",
     "Fault rules active from the start, ';'-separated, each like "
     "mode=latency,ms=500,paths=/api/*."},
    {"MOCK_APIM_SEED", GW_SET_INT, "42", 0, 9007199254740991LL, NULL, "Mock APIM",
     "Seed of the fault probability draws (same seed, same sequence)."},
    {"MOCK_APIM_TODAY", GW_SET_STRING, "", 0, 0, NULL, "Mock APIM",
     "Pin the mock's notion of today (YYYY-MM-DD, IST) for date rules; empty = real date."},
    {"MOCK_APIM_MAX_BODY", GW_SET_INT, "1048576", 1024, 67108864, NULL, "Mock APIM",
     "Largest accepted request body in bytes (larger: 413)."},
    {"MOCK_APIM_ACCESS_LOG", GW_SET_BOOL, "true", 0, 0, NULL, "Mock APIM",
     "Write one JSON access-log line per request on stderr."},
    {"MOCK_APIM_LOG_LEVEL", GW_SET_ENUM, "info", 0, 0, "trace|debug|info|warn|error", "Mock APIM",
     "Level of diagnostic log lines (JSON on stderr)."},
    GW_SETTINGS_END,
};
