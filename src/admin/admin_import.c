/*
 * src/admin/admin_import.c
 * The import flow of the admin API: preview (import a spec into tool definitions and a
 * dry-run diff, writing nothing), approve (apply the operator's chosen and possibly edited
 * definitions) and re-import (a stored spec again, from its URL, its stored document or a new
 * one). Runs on pool threads (blocking: spec fetch, import, database).
 *
 * Statelessness: the preview returns the spec record exactly as the approve step must send it
 * back ({"id","title","version","sourceUrl"|"fileName","content"}), so no server-side draft
 * exists and any replica can serve either step. The approve step trusts what the operator
 * sends (the store validates every definition, bounds every size and keeps names unique);
 * what it writes is exactly the approved set.
 * Safety: a document given in the body has no base location, so it can never reference files
 * of this host (file references are off for the admin API, whatever GW_OPENAPI_ALLOW_FILE_REFS
 * says); URLs are fetched through the SSRF guard (GW_SSRF_*), and references to other URLs
 * follow GW_OPENAPI_ALLOW_URL_REFS through the same guard.
 */
#include "admin/admin_internal.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "store/store_import.h"
#include "store/store_spec.h"
#include "store/store_tool.h"

#include <stdio.h>
#include <string.h>

#define PROBE_MAX (64u << 10) /* a {"url": ...} request is small: larger bodies are documents */

/* One spec document to import: the request body, a fetched URL or a stored document. */
struct doc {
    const char *buf; /* borrowed (body, stored content) or fetched.buf */
    size_t len;
    struct gw_buf fetched;
    char *url;       /* the URL it was fetched from (gw_free), or NULL */
    char *final_url; /* after redirects (gw_free), or NULL */
};

/* Releases what d owns (a fetched body and its URLs); borrowed buffers stay. */
static void doc_fini(struct doc *d)
{
    gw_buf_fini(&d->fetched);
    gw_free(d->url);
    gw_free(d->final_url);
}

/* Fetches `url` through the SSRF guard into d. GW_OK, or the failure with the reply set. */
static int fetch(struct admin_job *j, const char *url, struct doc *d)
{
    struct gw_admin *adm = j->adm;
    struct gw_error err = {0};
    struct gw_ssrf_response resp = {0};
    gw_buf_init(&d->fetched, adm->oo.limits.max_doc_bytes ? adm->oo.limits.max_doc_bytes
                                                          : GW_STORE_SPEC_MAX);
    int rc = gw_ssrf_fetch(url, adm->ssrf, &d->fetched, &resp, &err);
    switch (rc) {
    case GW_OK:
        d->buf = gw_buf_ptr(&d->fetched);
        d->len = gw_buf_len(&d->fetched);
        d->url = gw_xstrdup(url);
        d->final_url = resp.final_url;
        resp.final_url = NULL;
        break;
    case GW_EDENIED:
        gw_admin__fail(j, 400, "invalid",
                       "the URL is refused by the outbound fetch guard (%s); allow the host in "
                       "GW_SSRF_ALLOWLIST if it is a trusted internal server",
                       err.msg);
        break;
    case GW_EINVAL: gw_admin__fail(j, 400, "invalid", "spec URL: %s", err.msg); break;
    case GW_ELIMIT: gw_admin__fail(j, 413, "too_large", "fetching the spec: %s", err.msg); break;
    case GW_ETIMEOUT: gw_admin__fail(j, 504, "timeout", "fetching the spec: %s", err.msg); break;
    case GW_EUPSTREAM:
        gw_admin__fail(j, 502, "bad_gateway", "fetching the spec: HTTP status %ld", resp.status);
        break;
    default: gw_admin__fail(j, 502, "bad_gateway", "fetching the spec: %s", err.msg); break;
    }
    gw_ssrf_response_fini(&resp);
    return rc;
}

/* Tells a {"url": "..."} request from a spec document in the body. *out_url (NULL for a
 * document) points into *out_probe, which the caller releases. GW_OK or GW_EINVAL (reply set). */
static int probe_url(struct admin_job *j, json_t **out_probe, const char **out_url)
{
    *out_probe = NULL;
    *out_url = NULL;
    size_t i = 0;
    while (i < j->body_len && (j->body[i] == ' ' || j->body[i] == '\t' || j->body[i] == '\r' ||
                               j->body[i] == '\n'))
        i++;
    if (i == j->body_len || j->body[i] != '{' || j->body_len > PROBE_MAX)
        return GW_OK;
    struct gw_json_limits lim = {PROBE_MAX, 64};
    json_t *v = gw_json_parse(j->body, j->body_len, &lim, NULL);
    /* a spec has "openapi" or "swagger" at its root; a URL request has "url" and nothing else */
    if (!json_is_object(v) || json_object_get(v, "openapi") || json_object_get(v, "swagger") ||
        !json_object_get(v, "url")) {
        json_decref(v); /* a document (or not JSON at all): the importer will tell */
        return GW_OK;
    }
    json_t *u = json_object_get(v, "url");
    const char *key;
    json_t *val;
    json_object_foreach(v, key, val)
    {
        if (strcmp(key, "url") != 0) {
            gw_admin__fail(j, 400, "invalid",
                           "unknown field \"%.64s\" in a URL import request (expected only "
                           "\"url\"; options are query parameters)",
                           key);
            json_decref(v);
            return GW_EINVAL;
        }
    }
    /* the embedded-NUL check: jansson strings may hold NULs, C strings (and curl) stop there */
    if (!json_is_string(u) || json_string_length(u) == 0 ||
        json_string_length(u) > ADMIN_URL_MAX ||
        strlen(json_string_value(u)) != json_string_length(u)) {
        gw_admin__fail(j, 400, "invalid", "\"url\" must be an http(s) URL of at most %d bytes",
                       ADMIN_URL_MAX);
        json_decref(v);
        return GW_EINVAL;
    }
    *out_probe = v;
    *out_url = json_string_value(u);
    return GW_OK;
}

/* The document of a preview or re-import request body: the body itself, or what its URL
 * points to. GW_OK or a failure with the reply set. */
static int body_doc(struct admin_job *j, struct doc *d)
{
    if (j->body_len == 0) {
        gw_admin__fail(j, 400, "invalid",
                       "empty body: send the spec document (OpenAPI 3.x or Swagger 2.0, JSON "
                       "or YAML) or {\"url\": \"https://...\"}");
        return GW_EINVAL;
    }
    json_t *probe = NULL;
    const char *url = NULL;
    int rc = probe_url(j, &probe, &url);
    if (rc == GW_OK && url) {
        rc = fetch(j, url, d);
    } else if (rc == GW_OK) {
        d->buf = j->body;
        d->len = j->body_len;
    }
    json_decref(probe);
    return rc;
}

/* Imports d into res. GW_OK or a failure with the reply set. */
static int run_import(struct admin_job *j, const struct doc *d, const char *spec_id,
                      const char *upstream, const char *bundle, struct gw_openapi_result *res)
{
    struct gw_openapi_options o = j->adm->oo;
    o.spec_id = spec_id;
    o.upstream = upstream;
    o.bundle = bundle;
    o.status = "draft";
    struct gw_error err = {0};
    /* a fetched document is located by its URL (relative servers and, when allowed, relative
     * references resolve against it); a body has no location */
    int rc = gw_openapi_import_buffer(d->buf, d->len, d->final_url ? d->final_url : d->url, &o,
                                      res, &err);
    switch (rc) {
    case GW_OK: break;
    case GW_EINVAL: gw_admin__fail(j, 400, "invalid", "cannot import the spec: %s", err.msg); break;
    case GW_ELIMIT:
        gw_admin__fail(j, 413, "too_large", "cannot import the spec: %s", err.msg);
        break;
    case GW_EDENIED:
        gw_admin__fail(j, 400, "invalid", "cannot import the spec: %s", err.msg);
        break;
    case GW_ENOMEM: gw_admin__fail(j, 500, "internal", "out of memory importing the spec"); break;
    default:
        /* I/O of referenced documents (the store is not involved here) */
        gw_admin__fail(j, 502, "bad_gateway", "cannot import the spec: %s", err.msg);
        break;
    }
    return rc;
}

/* The naming policy of an import (store_import.h): the settings (GW_IMPORT_ON_CONFLICT,
 * GW_TOOL_ALIAS_DAYS) and the request's onConflict / renameExisting. */
void gw_admin__naming(struct admin_job *j, struct gw_store_import_opts *io)
{
    io->fail_on_conflict = j->adm->oo.fail_on_conflict || j->q.fail_on_conflict;
    io->rename_existing = j->q.rename_existing;
    io->alias_days = j->adm->oo.alias_days;
}

/* The spec record for gw_store_apply_import. `id` may be NULL (derived from the title by the
 * store). Returns NULL with the reply set when the document cannot be stored as text. */
static json_t *spec_record(struct admin_job *j, const struct doc *d, const char *id,
                           const struct gw_openapi_result *res, const char *source_url,
                           const char *file_name)
{
    /* the document is stored as text (SQLite TEXT, PostgreSQL text cannot hold NUL) */
    if (memchr(d->buf, '\0', d->len)) {
        gw_admin__fail(j, 400, "invalid", "the spec document contains NUL bytes");
        return NULL;
    }
    json_t *content = json_stringn(d->buf, d->len);
    if (!content) {
        gw_admin__fail(j, 400, "invalid", "the spec document is not valid UTF-8 text");
        return NULL;
    }
    /* the importer derives the spec id (title, else file name or server) unless given */
    if (!id)
        id = gw_json_str(res->spec, "id");
    const char *title = gw_json_str(res->spec, "title");
    json_t *s = json_pack("{s:s,s:o}", "title", title && *title ? title : id ? id : "untitled",
                          "content", content);
    if (id)
        json_object_set_new(s, "id", json_string(id));
    if (gw_json_str(res->spec, "version"))
        json_object_set_new(s, "version", json_string(gw_json_str(res->spec, "version")));
    if (source_url)
        json_object_set_new(s, "sourceUrl", json_string(source_url));
    if (file_name)
        json_object_set_new(s, "fileName", json_string(file_name));
    return s;
}

/* Moves "warnings" out of an importer summary (they are a top-level member of our replies, so
 * that a UI finds them without digging). Returns the warnings (new reference). */
static json_t *take_warnings(json_t *summary)
{
    json_t *w = json_object_get(summary, "warnings");
    w = w ? json_incref(w) : json_array();
    json_object_del(summary, "warnings");
    return w;
}

/* ---- preview ---- */

/* POST /imports/preview: document (body or URL) -> importer -> spec record + tools + warnings
 * + summary, and the dry-run diff of approving everything. Writes nothing. */
void gw_admin__w_import_preview(struct admin_job *j, struct gw_store *st)
{
    struct doc d = {0};
    struct gw_openapi_result res = {0};
    json_t *spec = NULL, *diff = NULL, *diff_error = NULL;
    struct gw_error err = {0};
    if (body_doc(j, &d) != GW_OK)
        goto out;
    if (run_import(j, &d, j->q.spec_id, j->q.upstream, j->q.bundle, &res) != GW_OK)
        goto out;
    spec = spec_record(j, &d, j->q.spec_id, &res, d.url, d.url ? NULL : j->q.file_name);
    if (!spec)
        goto out;
    if (json_array_size(res.tools) > j->adm->oo.limits.max_tools) {
        gw_admin__fail(j, 413, "too_large", "the spec produced %zu tools; at most %zu can be "
                       "imported at once (GW_OPENAPI_MAX_TOOLS)", json_array_size(res.tools),
                       j->adm->oo.limits.max_tools);
        goto out;
    }
    /* what approving every tool would do to the registry, computed by the store in a
     * transaction it rolls back */
    struct gw_store_import_opts io = {.status = "draft", .bundle = j->q.bundle, .dry_run = true,
                                      .max_tools = j->adm->oo.limits.max_tools};
    gw_admin__naming(j, &io);
    struct gw_store_actor who = {"admin-api", "import preview"};
    int rc = gw_store_apply_import(st, spec, res.tools, &io, &who, &diff, &err);
    if (rc == GW_EIO) {
        gw_admin__fail_err(j, &err);
        goto out;
    }
    if (rc != GW_OK) {
        /* e.g. a tool name owned by another spec: the operator can rename it in the preview */
        diff_error = json_pack("{s:s,s:s}", "code",
                               rc == GW_ECONFLICT ? "conflict"
                               : rc == GW_ELIMIT  ? "too_large"
                                                  : "invalid",
                               "message", err.msg);
    } else if (gw_json_str(diff, "specId")) {
        json_object_set_new(spec, "id", json_string(gw_json_str(diff, "specId")));
    }
    if (!j->q.include_content)
        json_object_del(spec, "content");
    json_t *summary = gw_openapi_result_summary(&res);
    json_t *warnings = take_warnings(summary);
    json_t *reply = json_pack("{s:O,s:O,s:o,s:o,s:O?}", "spec", spec, "tools", res.tools,
                              "warnings", warnings, "summary", summary, "diff", diff);
    if (diff_error)
        json_object_set(reply, "diffError", diff_error);
    gw_admin__ok(j, 200, reply);
out:
    json_decref(diff_error);
    json_decref(diff);
    json_decref(spec);
    gw_openapi_result_fini(&res);
    doc_fini(&d);
}

/* ---- approve ---- */

/* Whether key is one of a NULL-terminated list. */
static bool key_in(const char *key, const char *const *allowed)
{
    for (; *allowed; allowed++)
        if (!strcmp(key, *allowed))
            return true;
    return false;
}

/* Checks the approve body's shape (the store checks the values). GW_OK or reply set. */
static int check_approval(struct admin_job *j, json_t *body)
{
    static const char *const top[] = {"spec",    "tools",          "activate",   "bundle",
                                      "dryRun",  "renames",        "onConflict",
                                      "renameExisting", NULL};
    static const char *const spec_keys[] = {"id",       "title",   "version",     "sourceUrl",
                                            "fileName", "content", "contentHash", NULL};
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        if (!key_in(key, top)) {
            gw_admin__fail(j, 400, "invalid",
                           "unknown field \"%.64s\" (expected spec, tools, activate, bundle, "
                           "dryRun, renames, onConflict, renameExisting)",
                           key);
            return GW_EINVAL;
        }
    }
    json_t *renames = json_object_get(body, "renames");
    const char *rk;
    json_t *rv;
    json_object_foreach(renames, rk, rv)
    {
        if (!json_is_string(rv)) {
            gw_admin__fail(j, 400, "invalid", "\"renames\" maps names to new names (strings)");
            return GW_EINVAL;
        }
    }
    json_t *oc = json_object_get(body, "onConflict");
    if ((renames && !json_is_object(renames)) ||
        (oc && (!json_is_string(oc) || (strcmp(json_string_value(oc), "fail") != 0 &&
                                        strcmp(json_string_value(oc), "prefix") != 0))) ||
        (json_object_get(body, "renameExisting") &&
         !json_is_boolean(json_object_get(body, "renameExisting")))) {
        gw_admin__fail(j, 400, "invalid",
                       "\"renames\" must be an object, \"onConflict\" prefix or fail, "
                       "\"renameExisting\" a boolean");
        return GW_EINVAL;
    }
    json_t *spec = json_object_get(body, "spec");
    json_t *tools = json_object_get(body, "tools");
    json_t *act = json_object_get(body, "activate");
    json_t *dry = json_object_get(body, "dryRun");
    json_t *bundle = json_object_get(body, "bundle");
    if (!json_is_object(spec)) {
        gw_admin__fail(j, 400, "invalid", "\"spec\" must be the spec object of the preview");
        return GW_EINVAL;
    }
    json_object_foreach(spec, key, v)
    {
        if (!key_in(key, spec_keys)) {
            gw_admin__fail(j, 400, "invalid",
                           "unknown field \"spec.%.64s\" (expected id, title, version, "
                           "sourceUrl, fileName, content, contentHash)",
                           key);
            return GW_EINVAL;
        }
    }
    if (!json_is_array(tools) || json_array_size(tools) == 0) {
        gw_admin__fail(j, 400, "invalid",
                       "\"tools\" must be a non-empty array of the approved tool definitions "
                       "(to retire a spec, DELETE /admin/api/specs/{id})");
        return GW_EINVAL;
    }
    if (json_array_size(tools) > j->adm->oo.limits.max_tools) {
        gw_admin__fail(j, 413, "too_large", "%zu tools approved; at most %zu per import "
                       "(GW_OPENAPI_MAX_TOOLS)", json_array_size(tools),
                       j->adm->oo.limits.max_tools);
        return GW_ELIMIT;
    }
    size_t i;
    json_array_foreach(tools, i, v)
    {
        if (!json_is_object(v) || !json_is_string(json_object_get(v, "name"))) {
            gw_admin__fail(j, 400, "invalid", "tools[%zu] is not a tool definition with a name",
                           i);
            return GW_EINVAL;
        }
    }
    if ((act && !json_is_boolean(act)) || (dry && !json_is_boolean(dry))) {
        gw_admin__fail(j, 400, "invalid", "\"activate\" and \"dryRun\" must be true or false");
        return GW_EINVAL;
    }
    if (bundle && !json_is_null(bundle) &&
        (!json_is_string(bundle) || !gw_admin__valid_name(json_string_value(bundle)))) {
        gw_admin__fail(j, 400, "invalid",
                       "\"bundle\" must be null or 1-%d characters of A-Z a-z 0-9 _ . -",
                       GW_STORE_NAME_MAX);
        return GW_EINVAL;
    }
    return GW_OK;
}

/* POST /imports: applies exactly the approved definitions with the spec record of the preview,
 * in one store transaction (on failure nothing is written). */
void gw_admin__w_import_apply(struct admin_job *j, struct gw_store *st)
{
    json_t *body = gw_admin__body_json(j, true,
                                       "{\"spec\": {...}, \"tools\": [...], \"activate\"?: "
                                       "bool, \"bundle\"?: name}");
    json_t *diff = NULL;
    if (!body || check_approval(j, body) != GW_OK)
        goto out;
    bool dry = json_is_true(json_object_get(body, "dryRun"));
    struct gw_store_import_opts io = {
        .status = json_is_true(json_object_get(body, "activate")) ? "active" : "draft",
        .bundle = gw_json_str(body, "bundle"), .dry_run = dry,
        .max_tools = j->adm->oo.limits.max_tools};
    gw_admin__naming(j, &io);
    /* the approve step may carry explicit renames and the naming choices of its preview */
    io.renames = json_object_get(body, "renames");
    if (json_is_true(json_object_get(body, "renameExisting")))
        io.rename_existing = true;
    const char *oc = gw_json_str(body, "onConflict");
    if (oc)
        io.fail_on_conflict = !strcmp(oc, "fail");
    struct gw_error err = {0};
    if (gw_store_apply_import(st, json_object_get(body, "spec"), json_object_get(body, "tools"),
                              &io, &j->who, &diff, &err) != GW_OK) {
        gw_admin__fail_err(j, &err);
        goto out;
    }
    j->wrote = !dry;
    gw_admin__ok(j, 200, json_pack("{s:O}", "diff", diff));
out:
    json_decref(diff);
    json_decref(body);
}

/* ---- re-import ---- */

/* The upstream and bundle the spec's existing tools use (borrowed from *out_hold, which the
 * caller releases), so that a re-import keeps binding to the same upstream. */
static void existing_defaults(struct gw_store *st, const char *spec_id, json_t **out_hold,
                              const char **out_upstream, const char **out_bundle)
{
    struct gw_store_tool_query q = {NULL, NULL, spec_id, NULL, 1};
    struct gw_error err = {0};
    *out_hold = NULL;
    *out_upstream = NULL;
    *out_bundle = NULL;
    if (gw_store_tool_list(st, &q, out_hold, NULL, NULL, &err) != GW_OK)
        return;
    json_t *t = json_array_get(*out_hold, 0);
    *out_upstream = gw_json_str(json_object_get(t, "binding"), "upstream");
    *out_bundle = gw_json_str(t, "bundle");
}

/* POST /specs/{id}/reimport: the document comes from the body (a document or {"url"}), else the
 * stored source URL, else the stored document; then import + apply in one step, with the
 * store's re-import rules (governance kept, removed operations deprecated). */
void gw_admin__w_spec_reimport(struct admin_job *j, struct gw_store *st)
{
    struct doc d = {0};
    struct gw_openapi_result res = {0};
    json_t *stored = NULL, *hold = NULL, *spec = NULL, *diff = NULL;
    struct gw_error err = {0};
    if (gw_store_spec_get(st, j->m.name, true, &stored, &err) != GW_OK) {
        gw_admin__fail_err(j, &err);
        goto out;
    }
    const char *stored_url = gw_json_str(stored, "sourceUrl");
    const char *stored_file = gw_json_str(stored, "fileName");
    const char *source_url = NULL, *file_name = NULL;
    if (j->body_len) {
        if (body_doc(j, &d) != GW_OK)
            goto out;
        source_url = d.url;
        file_name = d.url ? NULL : (j->q.file_name ? j->q.file_name : stored_file);
    } else if (stored_url && *stored_url) {
        if (fetch(j, stored_url, &d) != GW_OK)
            goto out;
        source_url = stored_url;
        file_name = stored_file;
    } else if (gw_json_str(stored, "content")) {
        json_t *c = json_object_get(stored, "content");
        d.buf = json_string_value(c);
        d.len = json_string_length(c);
        file_name = stored_file;
    } else {
        gw_admin__fail(j, 400, "invalid",
                       "spec %s has neither a source URL nor a stored document: send the new "
                       "document (or {\"url\": ...}) in the body",
                       j->m.name);
        goto out;
    }
    const char *upstream = NULL, *bundle = NULL;
    existing_defaults(st, j->m.name, &hold, &upstream, &bundle);
    if (j->q.upstream)
        upstream = j->q.upstream;
    if (j->q.bundle)
        bundle = j->q.bundle;
    if (run_import(j, &d, j->m.name, upstream, NULL, &res) != GW_OK)
        goto out;
    spec = spec_record(j, &d, j->m.name, &res, source_url, file_name);
    if (!spec)
        goto out;
    struct gw_store_import_opts io = {.status = j->q.activate ? "active" : "draft",
                                      .bundle = bundle, .dry_run = j->q.dry_run,
                                      .max_tools = j->adm->oo.limits.max_tools};
    gw_admin__naming(j, &io);
    if (gw_store_apply_import(st, spec, res.tools, &io, &j->who, &diff, &err) != GW_OK) {
        gw_admin__fail_err(j, &err);
        goto out;
    }
    j->wrote = !j->q.dry_run;
    json_object_del(spec, "content");
    json_t *summary = gw_openapi_result_summary(&res);
    json_t *warnings = take_warnings(summary);
    gw_admin__ok(j, 200,
                 json_pack("{s:O,s:O,s:o,s:o}", "spec", spec, "diff", diff, "summary", summary,
                           "warnings", warnings));
out:
    json_decref(diff);
    json_decref(spec);
    json_decref(hold);
    json_decref(stored);
    gw_openapi_result_fini(&res);
    doc_fini(&d);
}
