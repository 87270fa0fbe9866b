/*
 * src/openapi/openapi_import.c
 * Public entry points of the importer: options, import from a file, a buffer or a URL, the
 * result and its summary.
 *
 * Owns: defaults of every option and limit, version detection (swagger 2.0, openapi 3.0.x,
 * 3.1.x; 3.2.x read as 3.1), and the lifetime of the import context.
 * Invariants: on failure the result is left empty (no half-filled tool list); the context is
 * always released: for a large spec on a background thread (its documents take a tenth of the
 * import to free), which gw_openapi_result_fini joins. The tools may share jansson values
 * with the documents; jansson's reference counts are atomic and the thread only drops
 * references, so reading the tools meanwhile is safe.
 * Not here: anything about a single operation (openapi_map.c).
 */
#include "openapi/openapi_internal.h"

#include "core/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void gw_openapi_options_init(struct gw_openapi_options *o)
{
    memset(o, 0, sizeof(*o));
    o->allow_file_refs = true;
    o->snake_case_names = true;
    o->alias_days = 90;
    o->description_max = 1024;
    o->schema_description_max = 512;
    o->inline_max_nodes = 300;
    o->input_schema_budget = 1000;
    o->output_schema_budget = 250;
    o->progress_every = 100;
    o->parallel_min_operations = 512;
    o->limits.max_doc_bytes = (size_t)64 << 20;
    o->limits.max_total_bytes = (size_t)256 << 20;
    o->limits.max_depth = 256;
    o->limits.max_nodes = (size_t)8 << 20;
    o->limits.max_alias_nodes = (size_t)1 << 20;
    o->limits.max_refs = (size_t)4 << 20;
    o->limits.max_documents = 10000;
    o->limits.max_operations = 100000;
    o->limits.max_tools = 100000;
    o->limits.max_schema_nodes = 200000;
}

/* Specs at least this large free their documents on a background thread. */
#define RELEASE_ASYNC_BYTES ((size_t)4 << 20)

struct gw_openapi__release {
    pthread_t thread;
    struct gw_openapi__ctx c;
};

static void *release_run(void *arg)
{
    struct gw_openapi__release *rl = arg;
    gw_openapi__ctx_fini(&rl->c);
    return NULL;
}

/* Frees the context, on a background thread (recorded in r) when the spec is large. */
static void release_ctx(struct gw_openapi__ctx *c, struct gw_openapi_result *r)
{
    if (r && c->total_bytes >= RELEASE_ASYNC_BYTES) {
        struct gw_openapi__release *rl = gw_trymalloc(sizeof(*rl));
        if (rl) {
            rl->c = *c;
            if (pthread_create(&rl->thread, NULL, release_run, rl) == 0) {
                r->release_ = rl;
                memset(c, 0, sizeof(*c));
                return;
            }
            gw_free(rl);
        }
    }
    gw_openapi__ctx_fini(c);
}

void gw_openapi_result_fini(struct gw_openapi_result *r)
{
    if (!r)
        return;
    if (r->release_) {
        pthread_join(r->release_->thread, NULL);
        gw_free(r->release_);
    }
    json_decref(r->tools);
    json_decref(r->warnings);
    json_decref(r->spec);
    memset(r, 0, sizeof(*r));
}

json_t *gw_openapi_result_summary(const struct gw_openapi_result *r)
{
    return json_pack("{s:O?,s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:O?}", "spec", r->spec, "operations",
                     (json_int_t)r->operations, "tools", (json_int_t)r->tools_count, "skipped",
                     (json_int_t)r->skipped, "excluded", (json_int_t)r->excluded, "degraded",
                     (json_int_t)r->degraded, "documents", (json_int_t)r->documents, "elapsedMs",
                     r->elapsed_ms, "warnings", r->warnings);
}

/* Monotonic milliseconds, for elapsed_ms. */
static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Detects the dialect from the root document. GW_OK or GW_EINVAL. */
static int detect(struct gw_openapi__ctx *c, struct gw_openapi_result *r)
{
    json_t *root = c->docs[0]->root;
    if (!json_is_object(root))
        return GW_ERROR_SET(c->err, GW_EINVAL,
                            "not an OpenAPI document: the root is not an "
                            "object");
    json_t *oa = json_object_get(root, "openapi");
    json_t *sw = json_object_get(root, "swagger");
    if (json_is_string(oa)) {
        const char *v = json_string_value(oa);
        if (!strncmp(v, "3.0", 3) && (v[3] == '\0' || v[3] == '.')) {
            c->dialect = OA_30;
            snprintf(r->dialect, sizeof(r->dialect), "openapi-3.0");
        } else if ((!strncmp(v, "3.1", 3) || !strncmp(v, "3.2", 3)) &&
                   (v[3] == '\0' || v[3] == '.')) {
            c->dialect = OA_31;
            snprintf(r->dialect, sizeof(r->dialect), "openapi-3.1");
            if (!strncmp(v, "3.2", 3))
                gw_openapi__warn(c, "info", "version_3_2",
                                 "OpenAPI %.20s is read as 3.1 (3.2 additions are ignored)", v);
        } else {
            return GW_ERROR_SET(c->err, GW_EINVAL,
                                "unsupported OpenAPI version '%.20s' "
                                "(supported: 2.0, 3.0.x, 3.1.x)",
                                v);
        }
    } else if ((json_is_string(sw) && !strcmp(json_string_value(sw), "2.0")) ||
               (json_is_number(sw) && json_number_value(sw) == 2.0)) {
        c->dialect = OA_SWAGGER2;
        snprintf(r->dialect, sizeof(r->dialect), "swagger-2.0");
    } else if (sw) {
        return GW_ERROR_SET(c->err, GW_EINVAL, "unsupported Swagger version (supported: 2.0)");
    } else {
        return GW_ERROR_SET(c->err, GW_EINVAL,
                            "not an OpenAPI document: no 'openapi' or "
                            "'swagger' version field");
    }
    json_t *paths = json_object_get(root, "paths");
    if (paths && !json_is_object(paths))
        return GW_ERROR_SET(c->err, GW_EINVAL, "'paths' is not an object");
    if (!paths && c->dialect != OA_31)
        return GW_ERROR_SET(c->err, GW_EINVAL, "the spec has no 'paths'");
    return GW_OK;
}

/* One import from text: load the root document, detect the dialect, map the operations.
 * Fills out only on success. */
static int run(const char *buf, size_t len, const char *base_uri, enum gw_openapi__doc_kind kind,
               const struct gw_openapi_options *opts, struct gw_openapi_result *out,
               struct gw_error *err)
{
    double t0 = now_ms();
    struct gw_openapi_options dflt;
    if (!opts) {
        gw_openapi_options_init(&dflt);
        opts = &dflt;
    }
    memset(out, 0, sizeof(*out));
    struct gw_openapi__ctx c;
    gw_openapi__ctx_init(&c, opts, err);
    struct gw_openapi_result r;
    memset(&r, 0, sizeof(r));
    r.tools = json_array();
    int rc = gw_openapi__load_root(&c, buf, len, base_uri, kind);
    if (rc == GW_OK)
        rc = detect(&c, &r);
    if (rc == GW_OK)
        rc = gw_openapi__map(&c, &r);
    if (rc == GW_OK) {
        r.warnings = json_incref(c.warnings);
        r.documents = c.ndocs;
        r.refs_resolved = c.nrefs;
        r.elapsed_ms = now_ms() - t0;
        release_ctx(&c, &r);
        *out = r;
    } else {
        gw_openapi_result_fini(&r);
        gw_openapi__ctx_fini(&c);
    }
    return rc;
}

int gw_openapi_import_buffer(const char *buf, size_t len, const char *base_uri,
                             const struct gw_openapi_options *opts, struct gw_openapi_result *out,
                             struct gw_error *err)
{
    if (!buf)
        return GW_ERROR_SET(err, GW_EINVAL, "no spec");
    return run(buf, len, base_uri, OA_DOC_MEMORY, opts, out, err);
}

int gw_openapi_import_file(const char *path, const struct gw_openapi_options *opts,
                           struct gw_openapi_result *out, struct gw_error *err)
{
    struct gw_openapi_options dflt;
    if (!opts) {
        gw_openapi_options_init(&dflt);
        opts = &dflt;
    }
    memset(out, 0, sizeof(*out));
    if (!path)
        return GW_ERROR_SET(err, GW_EINVAL, "no spec path");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return GW_ERROR_SET(err, errno == ENOENT ? GW_ENOTFOUND : GW_EIO,
                            "cannot open the spec file: %s",
                            errno == ENOENT ? "no such file" : "I/O error");
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return GW_ERROR_SET(err, GW_EIO, "the spec is not a regular file");
    }
    size_t size = (size_t)st.st_size;
    if (opts->limits.max_doc_bytes && size > opts->limits.max_doc_bytes) {
        close(fd);
        return GW_ERROR_SET(err, GW_ELIMIT, "the spec of %zu bytes exceeds the limit of %zu", size,
                            opts->limits.max_doc_bytes);
    }
    char *buf = gw_trymalloc(size + 1);
    if (!buf) {
        close(fd);
        return GW_ERROR_SET(err, GW_ENOMEM, "out of memory");
    }
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    int rc;
    if (got != size)
        rc = GW_ERROR_SET(err, GW_EIO, "short read on the spec file");
    else
        rc = run(buf, size, path, OA_DOC_FILE, opts, out, err);
    gw_free(buf);
    return rc;
}

int gw_openapi_import_url(const char *url, const struct gw_openapi_options *opts,
                          struct gw_openapi_result *out, struct gw_error *err)
{
    struct gw_openapi_options dflt;
    if (!opts) {
        gw_openapi_options_init(&dflt);
        opts = &dflt;
    }
    memset(out, 0, sizeof(*out));
    struct gw_ssrf_policy *own = NULL;
    const struct gw_ssrf_policy *pol = opts->ssrf;
    if (!pol)
        pol = own = gw_ssrf_policy_new();
    struct gw_buf body;
    gw_buf_init(&body, opts->limits.max_doc_bytes ? opts->limits.max_doc_bytes : (size_t)1 << 30);
    struct gw_ssrf_response resp;
    int rc = gw_ssrf_fetch(url, pol, &body, &resp, err);
    if (rc == GW_OK)
        rc = run(gw_buf_ptr(&body), gw_buf_len(&body), resp.final_url, OA_DOC_URL, opts, out, err);
    gw_ssrf_response_fini(&resp);
    gw_buf_fini(&body);
    gw_ssrf_policy_free(own);
    return rc;
}
