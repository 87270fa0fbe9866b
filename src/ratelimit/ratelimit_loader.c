/*
 * src/ratelimit/ratelimit_loader.c
 * The rules loader (see ratelimit_loader.h). State: the last good rules of each source (file,
 * database) as JSON arrays; a reload re-reads the sources that may have changed, rebuilds the
 * set from the three and installs it when its canonical JSON differs from the installed one.
 * Thread: waits on a condition variable (wake-ups, stop) with the fallback period as timeout.
 */
#include "ratelimit/ratelimit_loader.h"

#include "core/alloc.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "core/thread.h"
#include "store/store_ratelimit.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define RULES_FILE_MAX (4u << 20)

struct gw_rl_loader {
    struct gw_ratelimit *rl;
    char *file;
    char *http_per_ip;
    char *store_url;
    struct gw_store_options store_opts;
    bool has_store_opts;
    int reload_ms;
    struct gw_store *store;
    /* last good state of each source */
    json_t *file_rules;  /* array, or NULL */
    struct timespec file_mtime;
    off_t file_size;
    bool file_seen;
    json_t *db_rules;    /* array of rule objects */
    char *installed;     /* canonical JSON of the installed set */
    /* thread */
    pthread_t thread;
    bool running;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool wake, stop;
    bool quiet; /* no background thread (the CLI): log the rule count at debug level */
};

int gw_rl_http_per_ip_rule(const char *rate, struct gw_rl_rule **out, struct gw_error *err)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:[s]}", "id", "http-per-ip", "description",
                          "GW_RATELIMIT_HTTP_PER_IP: every HTTP request per client address",
                          "scope", "http", "rate", rate, "per", "ip");
    struct gw_error e = {0};
    int rc = gw_rl_rule_parse(o, "env", out, &e);
    json_decref(o);
    if (rc != GW_OK)
        return GW_ERROR_SET(err, rc, "GW_RATELIMIT_HTTP_PER_IP: %s", e.msg);
    return GW_OK;
}

/* Reads and validates the rules file when it changed. GW_OK (kept or replaced), or an error
 * (the previous rules stay). */
static int load_file(struct gw_rl_loader *l, struct gw_error *err)
{
    if (!l->file)
        return GW_OK;
    struct stat st;
    if (stat(l->file, &st) != 0) {
        char eb[128];
        return GW_ERROR_SET(err, GW_EIO, "rules file %s: %s", l->file,
                            gw_strerror(errno, eb, sizeof(eb)));
    }
    if (l->file_seen && st.st_size == l->file_size &&
        st.st_mtim.tv_sec == l->file_mtime.tv_sec && st.st_mtim.tv_nsec == l->file_mtime.tv_nsec)
        return GW_OK;
    if ((size_t)st.st_size > RULES_FILE_MAX)
        return GW_ERROR_SET(err, GW_ELIMIT, "rules file %s is larger than 4 MiB", l->file);
    FILE *f = fopen(l->file, "rb");
    if (!f) {
        char eb[128];
        return GW_ERROR_SET(err, GW_EIO, "rules file %s: %s", l->file,
                            gw_strerror(errno, eb, sizeof(eb)));
    }
    char *buf = gw_xmalloc((size_t)st.st_size + 1);
    size_t n = fread(buf, 1, (size_t)st.st_size, f);
    fclose(f);
    struct gw_json_limits lim = {RULES_FILE_MAX, 32};
    struct gw_error e = {0};
    json_t *doc = gw_json_parse(buf, n, &lim, &e);
    gw_free(buf);
    if (!doc)
        return GW_ERROR_SET(err, GW_EINVAL, "rules file %s: %s", l->file, e.msg);
    struct gw_rl_ruleset *rs = NULL;
    int rc = gw_rl_ruleset_parse(doc, "file", &rs, &e);
    if (rc != GW_OK) {
        json_decref(doc);
        return GW_ERROR_SET(err, rc, "rules file %s: %s", l->file, e.msg);
    }
    json_t *setj = gw_rl_ruleset_json(rs);
    json_decref(l->file_rules);
    l->file_rules = json_incref(json_object_get(setj, "rules"));
    json_decref(setj);
    gw_rl_ruleset_unref(rs);
    json_decref(doc);
    l->file_seen = true;
    l->file_size = st.st_size;
    l->file_mtime = st.st_mtim;
    return GW_OK;
}

/* Reads the database rules (invalid rows are skipped and logged). */
static int load_db(struct gw_rl_loader *l, struct gw_error *err)
{
    if (!l->store_url)
        return GW_OK;
    if (!l->store) {
        int rc = gw_store_open(l->store_url, l->has_store_opts ? &l->store_opts : NULL,
                               &l->store, err);
        if (rc != GW_OK)
            return rc;
    }
    json_t *rows = NULL;
    int rc = gw_store_ratelimit_list(l->store, &rows, err);
    if (rc != GW_OK) {
        gw_store_close(l->store); /* reconnect next time */
        l->store = NULL;
        return rc;
    }
    json_t *rules = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        struct gw_rl_rule *r = NULL;
        struct gw_error e = {0};
        if (gw_rl_rule_parse(json_object_get(row, "rule"), "db", &r, &e) != GW_OK) {
            GW_LOG(GW_LOG_ERROR, "ratelimit", "database rule %s is invalid and is ignored: %s",
                   gw_json_str(row, "id") ? gw_json_str(row, "id") : "?", e.msg);
            continue;
        }
        json_t *o = gw_rl_rule_json(r);
        json_object_set_new(o, "source", json_string("db"));
        json_array_append_new(rules, o);
        gw_rl_rule_free(r);
    }
    json_decref(rows);
    json_decref(l->db_rules);
    l->db_rules = rules;
    return GW_OK;
}

static void add_source(struct gw_rl_ruleset *rs, const json_t *rules, const char *source)
{
    size_t i;
    json_t *o;
    json_array_foreach(rules, i, o) {
        struct gw_rl_rule *r = NULL;
        struct gw_error e = {0};
        if (gw_rl_rule_parse(o, source, &r, &e) != GW_OK)
            continue; /* validated when loaded */
        if (gw_rl_ruleset_add(rs, r, &e) != GW_OK)
            GW_LOG(GW_LOG_ERROR, "ratelimit", "rule skipped: %s", e.msg);
    }
}

/* Rebuilds the set from the sources' last good rules; installs it when it changed. */
static void install(struct gw_rl_loader *l)
{
    struct gw_rl_ruleset *rs = gw_rl_ruleset_new();
    if (l->http_per_ip) {
        struct gw_rl_rule *r = NULL;
        if (gw_rl_http_per_ip_rule(l->http_per_ip, &r, NULL) == GW_OK)
            gw_rl_ruleset_add(rs, r, NULL);
    }
    add_source(rs, l->file_rules, "file");
    add_source(rs, l->db_rules, "db");
    json_t *j = gw_rl_ruleset_json(rs);
    char *text = gw_json_dumps(j);
    json_decref(j);
    if (!l->installed || strcmp(text, l->installed) != 0) {
        gw_ratelimit_set_rules(l->rl, rs);
        size_t enforced = 0, dry = 0;
        for (size_t i = 0; i < gw_rl_ruleset_count(rs); i++) {
            const struct gw_rl_rule *r = gw_rl_ruleset_at(rs, i);
            if (r->enabled && r->mode == GW_RL_ENFORCE)
                enforced++;
            else if (r->enabled)
                dry++;
        }
        GW_LOG(l->quiet ? GW_LOG_DEBUG : GW_LOG_INFO, "ratelimit",
               "rate-limit rules loaded: %zu enforced, %zu dry-run, %zu disabled", enforced, dry,
               gw_rl_ruleset_count(rs) - enforced - dry);
        gw_free(l->installed);
        l->installed = text;
    } else {
        gw_free(text);
    }
    gw_rl_ruleset_unref(rs);
}

int gw_rl_loader_reload(struct gw_rl_loader *l, struct gw_error *err)
{
    struct gw_error e1 = {0}, e2 = {0};
    int rc1 = load_file(l, &e1);
    int rc2 = load_db(l, &e2);
    install(l);
    if (rc1 != GW_OK) {
        if (err)
            *err = e1;
        return rc1;
    }
    if (rc2 != GW_OK) {
        if (err)
            *err = e2;
        return rc2;
    }
    return GW_OK;
}

static void *loader_main(void *arg)
{
    gw_thread_init_self("gw-limits", GW_THREAD_BACKGROUND);
    struct gw_rl_loader *l = arg;
    uint64_t failures = 0;
    pthread_mutex_lock(&l->lock);
    while (!l->stop) {
        if (!l->wake) {
            struct timespec ts = gw_clock_deadline(CLOCK_REALTIME, (long)l->reload_ms);
            pthread_cond_timedwait(&l->cond, &l->lock, &ts);
        }
        if (l->stop)
            break;
        l->wake = false;
        pthread_mutex_unlock(&l->lock);
        struct gw_error err = {0};
        if (gw_rl_loader_reload(l, &err) != GW_OK) {
            if (failures++ % 30 == 0) /* every ~5 min at the default period */
                GW_LOG(GW_LOG_WARN, "ratelimit", "reloading rate-limit rules: %s (the "
                                                 "previous rules stay in force)",
                       err.msg);
        } else {
            failures = 0;
        }
        pthread_mutex_lock(&l->lock);
    }
    pthread_mutex_unlock(&l->lock);
    return NULL;
}

int gw_rl_loader_new(struct gw_ratelimit *rl, const struct gw_rl_loader_config *cfg,
                     struct gw_rl_loader **out, struct gw_error *err)
{
    *out = NULL;
    struct gw_rl_loader *l = gw_xcalloc(1, sizeof(*l));
    l->rl = rl;
    l->file = cfg->rules_file && *cfg->rules_file ? gw_xstrdup(cfg->rules_file) : NULL;
    l->http_per_ip = cfg->http_per_ip && *cfg->http_per_ip ? gw_xstrdup(cfg->http_per_ip) : NULL;
    l->store_url = cfg->store_url ? gw_xstrdup(cfg->store_url) : NULL;
    if (cfg->store_opts) {
        l->store_opts = *cfg->store_opts;
        l->has_store_opts = true;
    }
    l->reload_ms = cfg->reload_ms > 0 ? cfg->reload_ms : 10000;
    l->quiet = !cfg->thread;
    l->db_rules = json_array();
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->cond, NULL);
    if (l->http_per_ip) {
        struct gw_rl_rule *r = NULL;
        if (gw_rl_http_per_ip_rule(l->http_per_ip, &r, err) != GW_OK) {
            gw_rl_loader_free(l);
            return GW_EINVAL;
        }
        gw_rl_rule_free(r);
    }
    struct gw_error e = {0};
    int rc = load_file(l, &e);
    if (rc != GW_OK) {
        if (err)
            *err = e;
        gw_rl_loader_free(l);
        return rc;
    }
    if (load_db(l, &e) != GW_OK)
        GW_LOG(GW_LOG_WARN, "ratelimit", "database rate-limit rules not loaded yet: %s", e.msg);
    install(l);
    if (cfg->thread) {
        if (pthread_create(&l->thread, NULL, loader_main, l) != 0) {
            gw_rl_loader_free(l);
            return GW_ERROR_SET(err, GW_EIO, "cannot start the rate-limit rules thread");
        }
        l->running = true;
    }
    *out = l;
    return GW_OK;
}

void gw_rl_loader_wake(struct gw_rl_loader *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->lock);
    l->wake = true;
    pthread_cond_signal(&l->cond);
    pthread_mutex_unlock(&l->lock);
}

void gw_rl_loader_free(struct gw_rl_loader *l)
{
    if (!l)
        return;
    if (l->running) {
        pthread_mutex_lock(&l->lock);
        l->stop = true;
        pthread_cond_signal(&l->cond);
        pthread_mutex_unlock(&l->lock);
        pthread_join(l->thread, NULL);
    }
    gw_store_close(l->store);
    json_decref(l->file_rules);
    json_decref(l->db_rules);
    gw_free(l->installed);
    gw_free(l->file);
    gw_free(l->http_per_ip);
    gw_free(l->store_url);
    pthread_mutex_destroy(&l->lock);
    pthread_cond_destroy(&l->cond);
    gw_free(l);
}
