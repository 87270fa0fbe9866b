/*
 * src/upstream/upstream_conf.h
 * Internal data model of the upstream executor's shared state (struct gw_upstreams) and of one
 * configured upstream (struct gw_upstream_conf), shared by upstream_conf.c (loading the
 * upstreams file), upstream_exec.c (the calls) and the tests. Not used outside src/upstream/.
 *
 * Lifetime: confs are created at load time (file) or on first use (dynamic: a tool whose
 * upstream the file does not name) and live until gw_upstreams_free, so a conf pointer taken
 * under the read lock stays valid. Everything in a conf is immutable after creation except the
 * breaker and token state, which have their own locks.
 */
#ifndef GW_UPSTREAM_CONF_H
#define GW_UPSTREAM_CONF_H

#include "upstream/upstream_breaker.h"
#include "upstream/upstream_cache.h"
#include "upstream/upstream_exec.h"
#include "upstream/upstream_idem.h"
#include "upstream/upstream_token.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

enum gw_cred_type { GW_CRED_APIKEY, GW_CRED_BEARER, GW_CRED_BASIC, GW_CRED_OAUTH2 };
enum gw_cred_in { GW_CRED_IN_HEADER, GW_CRED_IN_QUERY, GW_CRED_IN_COOKIE };

/* One credential, applied when the tool's binding.security names its scheme (or always). */
struct gw_upstream_cred {
    char *scheme;
    enum gw_cred_type type;
    enum gw_cred_in in;
    bool in_given;       /* `in` set in the file (else the binding's scheme entry decides) */
    char *name;          /* apiKey: header/query/cookie name; NULL = the binding's */
    char *value;         /* secret: API key, static bearer token */
    char *basic;         /* secret: "Basic <base64(user:password)>" */
    bool always;
    /* oauth2 client credentials */
    char *token_url;
    char *client_id;     /* secret */
    char *client_secret; /* secret */
    char *scope;
    char *audience;
    bool creds_in_body;  /* client_secret_post instead of client_secret_basic */
    struct gw_upstream_token *token;
};

struct gw_upstream_header {
    char *name;
    char *value; /* secret */
};

/* A business-failure rule: the JSON pointer's value equals `equals` or one of `one_of`. */
struct gw_business_rule {
    char *pointer;
    json_t *equals;
    json_t *one_of;
};

struct gw_upstream_conf {
    char *name;
    char *base_url;          /* for GW_UPSTREAM_ENV; NULL = the tool's binding.servers[0]. Set =
                              * written by the operator: calls to it skip the SSRF guard */
    bool dynamic;
    char *ca_file, *client_cert, *client_key;
    char *key_password;      /* secret */
    bool insecure;           /* tls.verify false (refused for production) */
    struct gw_upstream_header *headers;
    size_t nheaders;
    struct gw_upstream_cred *creds;
    size_t ncreds;
    char *user_header, *client_header, *request_id_header, *idempotency_header;
    bool cache_per_caller;
    long timeout_ms, connect_timeout_ms;
    size_t max_response_bytes, error_body_chars, max_text_chars;
    unsigned max_attempts, base_delay_ms, max_delay_ms;
    struct gw_breaker_conf breaker_conf;
    struct gw_breaker *breaker;
    struct gw_business_rule *rules;
    size_t nrules;
    char **message_pointers;
    size_t nmessage;
    char **secrets;          /* every static secret of this upstream (for scrubbing) */
    size_t nsecrets;
    char **protected_headers; /* names arguments may not set (credential/identity headers) */
    size_t nprotected;
};

struct gw_ssrf_policy;

struct gw_upstreams {
    char env[16];
    bool curl_only;                   /* GW_UPSTREAM_HTTP_CLIENT=curl */
    char *secrets_dir;
    struct gw_ssrf_policy *ssrf;      /* GW_UPSTREAM_ALLOWLIST: guard of spec-given servers */
    struct gw_upstream_conf *defaults; /* template of dynamic confs (no credentials) */
    pthread_rwlock_t lock;            /* guards confs / nconfs */
    struct gw_upstream_conf **confs;
    size_t nconfs, capconfs;
    struct gw_upstream_conf *fallback; /* shared by dynamic names beyond the cap */
    struct gw_idem_store idem;
    struct gw_upstream_cache *cache;
    atomic_uint_fast64_t clock_offset;
    gw_exec_output_check_fn output_check;
    void *output_check_ud;
    pthread_mutex_t wake_mu;          /* guards wake_fds */
    int *wake_fds;
    size_t nwake, capwake;
    atomic_uint_fast64_t idem_replays, idem_conflicts;
    atomic_uint_fast64_t http_native, http_curl; /* attempts sent through each HTTP engine */
};

/* Finds the conf for `name` (configured or dynamic), creating a dynamic one with the defaults
 * when absent. Never NULL. Thread-safe. */
struct gw_upstream_conf *gw_upstreams_conf(struct gw_upstreams *u, const char *name);

/* Frees one conf (secrets wiped). Accepts NULL. */
void gw_upstream_conf_free(struct gw_upstream_conf *c);

/* Registers / unregisters an executor's wake-up eventfd (token state changes are broadcast). */
void gw_upstreams_wake_register(struct gw_upstreams *u, int fd);
void gw_upstreams_wake_unregister(struct gw_upstreams *u, int fd);
/* Wakes every registered executor (after a token fetch ended). */
void gw_upstreams_wake_all(struct gw_upstreams *u);

/* Resolves an RFC 6901 JSON pointer ("" = the document) in doc; NULL when absent. */
const json_t *gw_upstream_json_pointer(const json_t *doc, const char *ptr);

#endif
