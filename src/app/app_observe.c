/*
 * src/app/app_observe.c
 * Wiring of the audit trail, PII masking and metrics into the data plane (composition only):
 * the PII masker (also the log filter), the audit log and its completion observer, the
 * back-pressure gate in the RATELIMIT phase, the metrics registry with its collectors (audit,
 * registry, upstreams, log), the /metrics listener, the verification keys at a well-known URL
 * and the audit readiness check; the console dashboard's summary (the metrics time series plus
 * breakers and the audit trail's lag: app_metrics_summary).
 */
#include "app.h"

#include "audit/audit.h"
#include "core/clock.h"
#include "core/log.h"
#include "mcp/mcp_jsonrpc.h"
#include "mcp/mcp_server.h"
#include "metrics/metrics.h"
#include "metrics/metrics_series.h"
#include "net/net_http.h"
#include "net/net_server.h"
#include "pii/pii.h"
#include "pipeline/pipeline.h"
#include "registry/registry.h"
#include "trace/trace.h"
#include "upstream/upstream_exec.h"

#include <math.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- the completion observer: metrics first (cheap), then the audit hold ---------------- */

static int on_complete(void *ud, const struct gw_mcp_completion *c, gw_mcp_release_fn release,
                       void *token)
{
    struct app_platform *pf = ud;
    if (pf->metrics)
        gw_metrics_observe_completion(pf->metrics, c);
    if (pf->tracer)
        gw_tracer_observe(pf->tracer, c);
    if (!pf->audit)
        return GW_OK;
    return gw_audit_on_complete(pf->audit, c, release, token);
}

/* RATELIMIT handler: no new tool call while the audit trail cannot take its record. */
static int audit_gate(void *ud, struct gw_call *call, struct gw_phase_verdict *out)
{
    (void)call;
    struct gw_audit *a = ud;
    if (gw_audit_accepting(a))
        return GW_OK;
    gw_audit__count_rejected(a);
    snprintf(out->reason, sizeof(out->reason),
             "the audit trail is not accepting records (backlog or storage failure): retry "
             "shortly");
    snprintf(out->rule_id, sizeof(out->rule_id), "audit-backpressure");
    out->jsonrpc_code = GW_GATEWAY_AUDIT_UNAVAILABLE;
    return GW_EDENIED;
}

/* ---- collectors ---------------------------------------------------------------------------- */

#define NSINGLES(t) (sizeof(t) / sizeof((t)[0]))

static void collect_audit(void *ud, struct gw_metrics_writer *w)
{
    struct gw_audit_stats st;
    gw_audit_get_stats(ud, &st);
    const struct gw_metrics_single singles[] = {
        {"mcpgw_audit_records_total", GW_METRIC_COUNTER, "Audit records committed.",
         (double)st.records},
        {"mcpgw_audit_written_bytes_total", GW_METRIC_COUNTER,
         "Bytes of audit records written to segments.", (double)st.bytes},
        {"mcpgw_audit_commits_total", GW_METRIC_COUNTER,
         "Group commits (one write and one fdatasync each).", (double)st.batches},
        {"mcpgw_audit_write_errors_total", GW_METRIC_COUNTER,
         "Failed commit attempts (retried; responses held meanwhile).", (double)st.write_errors},
        {"mcpgw_audit_queue_depth", GW_METRIC_GAUGE, "Records waiting for the audit writer.",
         (double)st.queue_depth},
        {"mcpgw_audit_queue_bytes", GW_METRIC_GAUGE,
         "Bytes of records waiting for the audit writer.", (double)st.queue_bytes},
        {"mcpgw_audit_log_size", GW_METRIC_GAUGE,
         "Records in this replica's audit log (Merkle tree size).", (double)st.size},
        {"mcpgw_audit_checkpoint_size", GW_METRIC_GAUGE,
         "Tree size of the latest signed checkpoint.", (double)st.checkpoint_size},
        {"mcpgw_audit_last_checkpoint_timestamp_seconds", GW_METRIC_GAUGE,
         "Unix time of the latest signed checkpoint.", (double)st.last_checkpoint_unix},
        {"mcpgw_audit_checkpoints_total", GW_METRIC_COUNTER, "Checkpoints signed since start.",
         (double)st.checkpoints},
        {"mcpgw_audit_healthy", GW_METRIC_GAUGE,
         "1 when the audit trail commits records, 0 while it fails.", st.healthy ? 1 : 0},
        {"mcpgw_audit_rejected_calls_total", GW_METRIC_COUNTER,
         "Tool calls refused because the audit trail could not take them.",
         (double)st.rejected_calls},
        {"mcpgw_pii_masked_total", GW_METRIC_COUNTER,
         "Personal data values replaced by pseudonyms in audit records.", (double)st.pii_masked},
        {"mcpgw_audit_archive_uploads_total", GW_METRIC_COUNTER,
         "Segments and checkpoints acknowledged by the WORM archive.",
         (double)st.shipped_objects},
        {"mcpgw_audit_archive_upload_errors_total", GW_METRIC_COUNTER,
         "Failed archive uploads (retried).", (double)st.ship_errors},
        {"mcpgw_audit_archive_backlog_objects", GW_METRIC_GAUGE,
         "Closed segments and checkpoints not yet in the archive.", (double)st.ship_backlog},
        {"mcpgw_audit_archive_oldest_unshipped_timestamp_seconds", GW_METRIC_GAUGE,
         "Unix time of the oldest object waiting for the archive (0: none).",
         (double)st.oldest_unshipped_unix},
        {"mcpgw_audit_database_pruned_records_total", GW_METRIC_COUNTER,
         "Rows of the PostgreSQL copy this replica deleted after their retention (archived).",
         (double)st.db_pruned},
        {"mcpgw_audit_salvaged_logs_total", GW_METRIC_COUNTER,
         "Logs of replicas that stopped without closing them, archived by this replica.",
         (double)st.logs_salvaged},
        {"mcpgw_audit_upkeep_errors_total", GW_METRIC_COUNTER,
         "Failed attempts of the database copy's upkeep (heartbeat, salvage, retention).",
         (double)st.upkeep_errors},
    };
    gw_metrics_write_singles(w, singles, NSINGLES(singles));
    gw_metrics_write_header(w, "mcpgw_audit_commit_lag_seconds", GW_METRIC_HISTOGRAM,
                            "Time from queuing a record to its durable commit (the delay "
                            "added to each response).");
    unsigned long long cum = 0;
    char lb[64];
    for (int i = 0; i < 12; i++) {
        cum += st.lag_bucket[i];
        snprintf(lb, sizeof(lb), "le=\"%g\"", gw_audit_lag_buckets[i]);
        gw_metrics_write_sample(w, "mcpgw_audit_commit_lag_seconds_bucket", lb, (double)cum);
    }
    gw_metrics_write_sample(w, "mcpgw_audit_commit_lag_seconds_bucket", "le=\"+Inf\"",
                            (double)st.commit_lag_count);
    gw_metrics_write_sample(w, "mcpgw_audit_commit_lag_seconds_sum", NULL,
                            (double)st.commit_lag_us_sum / 1e6);
    gw_metrics_write_sample(w, "mcpgw_audit_commit_lag_seconds_count", NULL,
                            (double)st.commit_lag_count);
}

/* A family with one sample per upstream circuit breaker. */
static void write_per_breaker(struct gw_metrics_writer *w, const char *name,
                              enum gw_metric_type type, const char *help,
                              const struct gw_breaker_status *bs, size_t nb, bool rejections)
{
    gw_metrics_write_header(w, name, type, help);
    for (size_t i = 0; i < nb; i++) {
        char esc[200], lb[240];
        gw_metrics_escape(bs[i].name, esc, sizeof(esc));
        snprintf(lb, sizeof(lb), "upstream=\"%s\"", esc);
        gw_metrics_write_sample(w, name, lb,
                                rejections ? (double)bs[i].rejected : (double)bs[i].state);
    }
}

static void collect_platform(void *ud, struct gw_metrics_writer *w)
{
    struct app_platform *pf = ud;
    struct gw_snapshot *snap = gw_registry_acquire(pf->registry);
    size_t tools = gw_snapshot_count(snap);
    gw_snapshot_release(snap);
    struct gw_registry_stats rs;
    gw_registry_stats(pf->registry, &rs);
    struct gw_upstreams_stats us;
    gw_upstreams_stats(pf->upstreams, &us);
    const struct gw_metrics_single singles[] = {
        {"mcpgw_registry_tools", GW_METRIC_GAUGE, "Tools in the registry snapshot being served.",
         (double)tools},
        {"mcpgw_registry_reloads_total", GW_METRIC_COUNTER, "Registry snapshots swapped in.",
         (double)rs.reloads},
        {"mcpgw_registry_reload_errors_total", GW_METRIC_COUNTER, "Failed registry reloads.",
         (double)rs.reload_errors},
        {"mcpgw_upstream_cache_hits_total", GW_METRIC_COUNTER,
         "Tool calls answered from the upstream GET cache.", (double)us.cache_hits},
        {"mcpgw_upstream_cache_misses_total", GW_METRIC_COUNTER,
         "Cacheable tool calls that went to the upstream.", (double)us.cache_misses},
        {"mcpgw_upstream_token_fetches_total", GW_METRIC_COUNTER,
         "OAuth2 client-credentials tokens fetched for upstreams.", (double)us.token_fetches},
        {"mcpgw_log_dropped_lines_total", GW_METRIC_COUNTER,
         "Diagnostic log lines dropped because the log output was too slow.",
         (double)gw_log_dropped()},
    };
    gw_metrics_write_singles(w, singles, NSINGLES(singles));
    struct gw_breaker_status bs[64];
    size_t nb = 0;
    gw_upstreams_breakers(pf->upstreams, bs, 64, &nb);
    if (nb > 64)
        nb = 64;
    gw_metrics_write_header(w, "mcpgw_upstream_requests_total", GW_METRIC_COUNTER,
                            "Upstream attempts of tool calls per HTTP engine: native (the "
                            "gateway's HTTP/1.1 client) or curl (libcurl).");
    gw_metrics_write_sample(w, "mcpgw_upstream_requests_total", "client=\"native\"",
                            (double)us.http_native);
    gw_metrics_write_sample(w, "mcpgw_upstream_requests_total", "client=\"curl\"",
                            (double)us.http_curl);
    write_per_breaker(w, "mcpgw_breaker_state", GW_METRIC_GAUGE,
                      "Circuit breaker state per upstream: 0 closed, 1 open, 2 half-open.", bs,
                      nb, false);
    write_per_breaker(w, "mcpgw_breaker_rejections_total", GW_METRIC_COUNTER,
                      "Calls refused by an open circuit breaker, per upstream.", bs, nb, true);
    if (pf->tracer) {
        struct gw_trace_stats ts;
        gw_tracer_stats(pf->tracer, &ts);
        const struct gw_metrics_single traces[] = {
            {"mcpgw_trace_exported_total", GW_METRIC_COUNTER,
             "Requests whose spans reached the OTLP endpoint.", (double)ts.exported},
            {"mcpgw_trace_dropped_total", GW_METRIC_COUNTER,
             "Requests whose spans were dropped (queue full, export failed).",
             (double)ts.dropped},
        };
        gw_metrics_write_singles(w, traces, NSINGLES(traces));
    }
}

/* The notAfter of the first certificate in a PEM file (0 when unreadable). */
static long long cert_not_after(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    long long t = 0;
    struct tm tm;
    if (x && ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
        t = (long long)timegm(&tm);
    X509_free(x);
    return t;
}

static void tls_file(void *ud, const char *upstream, const char *kind, const char *path)
{
    struct gw_metrics_writer *w = ud;
    long long t = cert_not_after(path);
    if (!t)
        return;
    char esc[200], lb[300];
    gw_metrics_escape(upstream, esc, sizeof(esc));
    snprintf(lb, sizeof(lb), "upstream=\"%s\",kind=\"%s\"", esc, kind);
    gw_metrics_write_sample(w, "mcpgw_tls_certificate_expiry_timestamp_seconds", lb, (double)t);
}

static void collect_certs(void *ud, struct gw_metrics_writer *w)
{
    struct app_platform *pf = ud;
    gw_metrics_write_header(w, "mcpgw_tls_certificate_expiry_timestamp_seconds", GW_METRIC_GAUGE,
                            "notAfter (Unix time) of the TLS certificates the gateway uses "
                            "towards upstreams (mTLS client certificate, private CA).");
    gw_upstreams_tls_files(pf->upstreams, tls_file, w);
}

/* ---- the console's dashboard ------------------------------------------------------------ */

/* The audit trail's cumulative counters the time series samples once a minute, so that the
 * commit lag and records of a window are differences of two samples. */
enum { SAMPLE_LAG_SUM_US, SAMPLE_LAG_COUNT, SAMPLE_RECORDS };

static void sample_audit(void *ud, uint64_t out[GW_SERIES_SAMPLES])
{
    struct gw_audit_stats st;
    gw_audit_get_stats(ud, &st);
    out[SAMPLE_LAG_SUM_US] = st.commit_lag_us_sum;
    out[SAMPLE_LAG_COUNT] = st.commit_lag_count;
    out[SAMPLE_RECORDS] = st.records;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Every configured upstream with its breaker, merged with the window's per-upstream counts. */
static void merge_breakers(struct app_platform *pf, json_t *ups)
{
    struct gw_breaker_status bs[64];
    size_t nb = 0;
    gw_upstreams_breakers(pf->upstreams, bs, 64, &nb);
    if (nb > 64)
        nb = 64;
    for (size_t i = 0; i < nb; i++) {
        json_t *u = NULL, *x;
        size_t k;
        json_array_foreach(ups, k, x)
            if (strcmp(json_string_value(json_object_get(x, "name")), bs[i].name) == 0)
                u = x;
        if (!u) {
            u = json_pack("{s:s,s:i,s:i,s:n,s:n}", "name", bs[i].name, "calls", 0, "errors", 0,
                          "p50Ms", "p95Ms");
            json_array_append_new(ups, u);
        }
        json_object_set_new(u, "breaker", json_string(gw_breaker_state_name(bs[i].state)));
        json_object_set_new(u, "breakerRejections", json_integer((json_int_t)bs[i].rejected));
    }
    json_t *x;
    size_t k;
    json_array_foreach(ups, k, x)
        if (!json_object_get(x, "breaker"))
            json_object_set_new(x, "breaker", json_string("unknown")); /* no longer configured */
}

/* The audit trail over the window: mean commit lag and records (differences of the samples),
 * what waits now, health, last checkpoint. */
static json_t *audit_summary(struct app_platform *pf, int64_t now, unsigned window)
{
    struct gw_audit_stats st;
    gw_audit_get_stats(pf->audit, &st);
    uint64_t cur[GW_SERIES_SAMPLES] = {0}, then[GW_SERIES_SAMPLES] = {0};
    sample_audit(pf->audit, cur);
    int64_t since = 0;
    bool have = gw_metrics_series_sample_since(gw_metrics_get_series(pf->metrics),
                                               now - (int64_t)window * 1000, then, &since);
    uint64_t dn = have ? cur[SAMPLE_LAG_COUNT] - then[SAMPLE_LAG_COUNT] : 0;
    uint64_t ds = have ? cur[SAMPLE_LAG_SUM_US] - then[SAMPLE_LAG_SUM_US] : 0;
    char cp[32], from[32];
    json_t *o = json_pack("{s:o,s:I,s:I,s:b,s:I,s:o,s:o}", "lagMs",
                          dn ? json_real(round((double)ds / (double)dn) / 1000.0) : json_null(),
                          "records",
                          (json_int_t)(have ? cur[SAMPLE_RECORDS] - then[SAMPLE_RECORDS] : 0),
                          "pending", (json_int_t)st.queue_depth, "healthy", st.healthy,
                          "size", (json_int_t)st.size, "lastCheckpointAt",
                          st.last_checkpoint_unix
                              ? json_string(gw_clock_iso(st.last_checkpoint_unix, cp, sizeof(cp)))
                              : json_null(),
                          "since",
                          have ? json_string(gw_clock_iso(since / 1000, from, sizeof(from)))
                               : json_null());
    return o;
}

json_t *app_metrics_summary(void *arg, unsigned window, unsigned step, struct gw_error *err)
{
    struct app_platform *pf = arg;
    struct gw_metrics_series *ser = gw_metrics_get_series(pf->metrics);
    if (!ser) {
        GW_ERROR_SET(err, GW_ENOTFOUND, "this gateway keeps no traffic metrics");
        return NULL;
    }
    int64_t now = wall_ms();
    gw_metrics_series_tick(ser, now);
    json_t *o = gw_metrics_series_summary(ser, now, window, step, err);
    if (!o)
        return NULL;
    merge_breakers(pf, json_object_get(o, "upstreams"));
    json_object_set_new(o, "audit", pf->audit ? audit_summary(pf, now, window) : json_null());
    char host[256] = "";
    if (gethostname(host, sizeof(host) - 1) != 0)
        snprintf(host, sizeof(host), "unknown");
    json_object_set_new(o, "replica", json_string(host));
    return o;
}

/* ---- open / close ---------------------------------------------------------------------- */

int app_observe_open(struct app_platform *pf, const struct gw_settings *s)
{
    struct gw_error err = {0};
    char dir[2048], id[128], origin[512];
    struct gw_audit_config ac;
    gw_audit_config_from_settings(&ac, s, dir, sizeof(dir), id, sizeof(id), origin,
                                  sizeof(origin));
    unsigned char key[64];
    size_t klen = 0;
    if (gw_audit_load_pii_key(s, dir, key, &klen, &err) != GW_OK) {
        fprintf(stderr, "mcpgw: PII key: %s\n", err.msg);
        return GW_EINVAL;
    }
    struct gw_pii_options po;
    gw_pii_options_from_settings(&po, s);
    po.key = key;
    po.key_len = klen;
    int rc = gw_pii_new(&po, &pf->pii, &err);
    OPENSSL_cleanse(key, sizeof(key));
    if (rc != GW_OK) {
        fprintf(stderr, "mcpgw: %s\n", err.msg);
        return rc;
    }
    gw_pii_log_filter_install(pf->pii);

    int trc = gw_tracer_from_settings(s, pf->pii, &pf->tracer, &err);
    if (trc != GW_OK && trc != GW_DECLINED) {
        fprintf(stderr, "mcpgw: traces: %s\n", err.msg);
        return trc;
    }
    pf->metrics = gw_metrics_new();
    gw_metrics_request_families(pf->metrics);
    gw_metrics_add_collector(pf->metrics, collect_platform, pf);
    gw_metrics_add_collector(pf->metrics, collect_certs, pf);

    if (gw_settings_bool(s, "GW_AUDIT_ENABLED")) {
        rc = gw_audit_load_signer(s, dir, &ac.signer, &err);
        if (rc == GW_OK) {
            ac.pii = pf->pii;
            rc = gw_audit_open(&ac, &pf->audit, &err);
        }
        if (rc != GW_OK) {
            fprintf(stderr, "mcpgw: audit trail: %s\n", err.msg);
            return rc;
        }
        gw_metrics_add_collector(pf->metrics, collect_audit, pf->audit);
        gw_metrics_series_set_sampler(gw_metrics_get_series(pf->metrics), sample_audit,
                                      pf->audit);
        gw_pipeline_add(pf->pipeline, GW_PHASE_RATELIMIT, "audit", audit_gate, pf->audit,
                        GW_PHASE_ENFORCE);
        GW_LOG(GW_LOG_INFO, "audit", "audit trail %s in %s", gw_audit_origin(pf->audit),
               gw_audit_log_dir(pf->audit));
    } else {
        GW_LOG(GW_LOG_WARN, "audit", "GW_AUDIT_ENABLED=false: no audit trail is kept");
    }
    gw_mcp_server_on_complete(pf->mcp, on_complete, pf);
    return GW_OK;
}

void app_observe_close(struct app_platform *pf)
{
    gw_audit_close(pf->audit); /* after the servers drained: every held response is out */
    pf->audit = NULL;
    gw_tracer_free(pf->tracer);
    pf->tracer = NULL;
    gw_metrics_free(pf->metrics);
    pf->metrics = NULL;
    if (pf->pii) {
        gw_pii_log_filter_remove();
        gw_pii_free(pf->pii);
        pf->pii = NULL;
    }
}

/* ---- serve: well-known keys, readiness, metrics listener ------------------------------- */

static void route_keys(struct gw_http_req *r, void *arg)
{
    struct app_platform *pf = arg;
    if (!pf->audit) {
        gw_http_reply_error(r, 404, "not_found", "the audit trail is off");
        return;
    }
    gw_http_add_header(r, "Cache-Control", "max-age=300");
    const char *k = gw_audit_verifier_keys(pf->audit);
    gw_http_reply(r, 200, "text/plain; charset=utf-8", k, strlen(k));
}

static int ready_audit(void *arg, struct gw_error *err)
{
    struct app_platform *pf = arg;
    return pf->audit ? gw_audit_ready(pf->audit, err) : GW_OK;
}

int app_observe_serve(struct app_platform *pf, const struct gw_settings *s,
                      struct gw_server *http, struct gw_server *admin_http,
                      struct gw_server **metrics_srv)
{
    *metrics_srv = NULL;
    gw_server_route(http, GW_AUDIT_KEYS_PATH, route_keys, pf);
    gw_server_add_ready_check(http, "audit", ready_audit, pf);
    const char *listen = gw_settings_str(s, "GW_METRICS_LISTEN");
    if (!listen[0]) {
        if (admin_http) {
            gw_metrics_attach(pf->metrics, admin_http, gw_settings_str(s, "GW_METRICS_TOKEN"));
            gw_server_route(admin_http, GW_AUDIT_KEYS_PATH, route_keys, pf);
        }
        return GW_OK;
    }
    struct gw_net_options no;
    gw_net_options_from_settings(&no, s);
    no.listen = listen;
    no.workers = 1;
    no.access_log = false;
    struct gw_error err = {0};
    if (gw_server_new(&no, metrics_srv, &err) != GW_OK) {
        fprintf(stderr, "mcpgw: metrics listener %s: %s\n", listen, err.msg);
        return GW_EIO;
    }
    gw_metrics_attach(pf->metrics, *metrics_srv, gw_settings_str(s, "GW_METRICS_TOKEN"));
    return GW_OK;
}
