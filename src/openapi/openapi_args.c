/*
 * src/openapi/openapi_args.c
 * The caller's side of a tool: parameters and request body into inputSchema properties and
 * binding.args (docs/tool-model.md).
 *
 * Owns: merging path-level with operation-level parameters (same name + location: the
 * operation wins), the four parameter locations and Swagger 2 body/formData, argument naming
 * with the location-suffix rule (collisions never drop or overwrite), style/explode (OpenAPI 3
 * defaults resolved, Swagger collectionFormat mapped), credential and Content-Type parameters
 * (kept in args with a "source", never in the schema), media-type preference, and body
 * flattening (object bodies become one argument per property, readOnly properties skipped;
 * anything else one "body" argument), and a parameter's `x-mcp-header` carried onto its
 * property (declarations that break the rules of schema/schema_headers.h dropped with a
 * warning).
 * Invariant: every args entry with an "arg" has exactly one property of that name in the input
 * schema and vice versa. Not here: schema conversion (openapi_schema.c).
 */
#include "openapi/openapi_internal.h"

#include "core/alloc.h"
#include "schema/schema_headers.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Rank of a media type for request bodies (lower is preferred). */
int gw_openapi__media_rank(const char *mt)
{
    char m[128];
    size_t j = 0;
    for (; mt[j] && mt[j] != ';' && j + 1 < sizeof(m); j++)
        m[j] = (mt[j] >= 'A' && mt[j] <= 'Z') ? (char)(mt[j] + 32) : mt[j];
    while (j > 0 && m[j - 1] == ' ')
        j--;
    m[j] = '\0';
    if (!strcmp(m, "application/json"))
        return 0;
    if (!strcmp(m, "text/json") || (j > 5 && !strcmp(m + j - 5, "+json")) ||
        !strcmp(m, "application/*+json"))
        return 1;
    if (!strcmp(m, "application/x-www-form-urlencoded"))
        return 2;
    if (!strcmp(m, "multipart/form-data"))
        return 3;
    if (!strcmp(m, "text/plain"))
        return 4;
    if (!strcmp(m, "application/xml") || !strcmp(m, "text/xml"))
        return 5;
    if (!strcmp(m, "application/octet-stream"))
        return 6;
    if (!strcmp(m, "*/*"))
        return 7;
    return 8;
}

bool gw_openapi__is_json_media(const char *mt)
{
    return gw_openapi__media_rank(mt) <= 1;
}

/* Best media type of an OpenAPI 3 content map (json_t object). */
const char *gw_openapi__best_media(json_t *content, bool json_only, json_t **out_media)
{
    const char *best = NULL;
    int rank = 100;
    const char *k;
    json_t *v;
    json_object_foreach(content, k, v)
    {
        int r = gw_openapi__media_rank(k);
        if (json_only && r > 1 && r != 7)
            continue;
        if (r < rank) {
            rank = r;
            best = k;
            *out_media = v;
        }
    }
    return best;
}

/* Swagger 2: first JSON-ish media type of a consumes/produces list, else the first one. */
const char *gw_openapi__swagger_media(json_t *list, bool *any_json)
{
    const char *first = NULL;
    size_t i;
    json_t *v;
    *any_json = false;
    json_array_foreach(list, i, v)
    {
        if (!json_is_string(v))
            continue;
        if (!first)
            first = json_string_value(v);
        if (gw_openapi__is_json_media(json_string_value(v))) {
            *any_json = true;
            return json_string_value(v);
        }
    }
    return first;
}

/* Whether a Swagger consumes/produces list has a media type starting with `what`. */
static bool list_has(json_t *list, const char *what)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        if (json_is_string(v) && strncasecmp(json_string_value(v), what, strlen(what)) == 0)
            return true;
    }
    return false;
}

/* A free argument name for `name` at location `in` (suffix rule of docs/tool-model.md). */
void gw_openapi__unique_arg(struct gw_openapi__inputs *in, const char *name, const char *loc,
                            char *out, size_t size)
{
    char base[80];
    gw_openapi__arg_name(name, base, sizeof(base));
    snprintf(out, size, "%s", base);
    if (!json_object_get(in->used, out))
        goto done;
    snprintf(out, size, "%.56s_%s", base, loc);
    for (unsigned k = 2; json_object_get(in->used, out) && k < 1000; k++)
        snprintf(out, size, "%.50s_%s_%u", base, loc, k);
done:
    json_object_set_new(in->used, out, json_true());
}

/* Adds one property to the input schema (consumes schema) and, when required, its name to
 * the required list. */
static void add_input(struct gw_openapi__inputs *in, const char *arg, json_t *schema, bool required)
{
    json_object_set_new(in->props, arg, schema);
    if (required)
        json_array_append_new(in->required, json_string(arg));
}

/* Swagger 2 non-body parameter into a schema (the type keywords live on the parameter). */
static json_t *swagger_param_schema(struct gw_openapi__conv *cv, json_t *p,
                                    struct gw_openapi__doc *doc)
{
    static const char *const keys[] = {"type",       "format",           "items",
                                       "enum",       "default",          "maximum",
                                       "minimum",    "exclusiveMaximum", "exclusiveMinimum",
                                       "maxLength",  "minLength",        "pattern",
                                       "maxItems",   "minItems",         "uniqueItems",
                                       "multipleOf", "x-nullable"};
    json_t *raw = json_object();
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        json_t *v = json_object_get(p, keys[i]);
        if (v)
            json_object_set(raw, keys[i], v);
    }
    json_t *s = gw_openapi__schema(cv, raw, doc);
    json_decref(raw);
    return s;
}

/* Gives a parameter schema its description/deprecated/example from the parameter object. The
 * schema may be shared: a shallow copy is made. Consumes schema. */
static json_t *param_overlay(struct gw_openapi__ctx *c, json_t *schema, json_t *p)
{
    if (!json_is_object(schema))
        return schema;
    json_t *s = json_copy(schema);
    json_decref(schema);
    const char *d = gw_openapi__jstr(p, "description");
    if (d && *d) {
        char *t = gw_openapi__trim_text(d, c->o->schema_description_max);
        json_object_set_new(s, "description", json_string(t));
        gw_free(t);
    }
    if (json_is_true(json_object_get(p, "deprecated")))
        json_object_set_new(s, "deprecated", json_true());
    /* a parameter its spec asks to mirror into an Mcp-Param-* header (MCP 2026-07-28) */
    json_t *xh = json_object_get(p, "x-mcp-header");
    if (json_is_string(xh) && gw_schema_header_name_valid(json_string_value(xh)))
        json_object_set(s, "x-mcp-header", xh);
    else if (xh)
        gw_openapi__warn(c, "degraded", "x_mcp_header_dropped",
                         "parameter '%.100s': x-mcp-header must be an HTTP token of 1-%d "
                         "characters; not mirrored",
                         gw_openapi__jstr(p, "name"), GW_SCHEMA_HEADER_NAME_MAX);
    json_t *ex = json_object_get(p, "example");
    if (ex && !json_object_get(s, "examples"))
        json_object_set_new(s, "examples", json_pack("[O]", ex));
    const char *pat = gw_openapi__jstr(s, "pattern");
    if (pat && gw_openapi__pattern_rejects_examples(pat, json_object_get(s, "examples"),
                                                    gw_openapi__jstr(p, "description"))) {
        gw_openapi__warn(c, "info", "pattern_contradicts_example",
                         "pattern '%.60s' rejects the spec's own documented example: not enforced",
                         pat);
        json_object_del(s, "pattern");
    }
    return s;
}

/* Collects path-level and operation-level parameters (operation overrides by name+in).
 * Returns an array of [param, doc-index] pairs as a json array of objects
 * {"p": param, "d": doc index}, or NULL with why (a $ref failed). */
static json_t *merged_params(struct gw_openapi__op *o, char *why, size_t why_size)
{
    struct gw_openapi__ctx *c = o->c;
    json_t *out = json_array();
    json_t *lists[2] = {json_object_get(o->pathitem, "parameters"),
                        json_object_get(o->op, "parameters")};
    struct gw_openapi__doc *docs[2] = {o->path_doc, o->op_doc};
    for (int l = 0; l < 2; l++) {
        size_t i;
        json_t *raw;
        json_array_foreach(lists[l], i, raw)
        {
            struct gw_openapi__doc *d = docs[l];
            json_t *p = gw_openapi__deref(c, raw, &d, why, why_size);
            if (!p) {
                json_decref(out);
                return NULL;
            }
            const char *name = gw_openapi__jstr(p, "name"), *in = gw_openapi__jstr(p, "in");
            if (!name || !in) {
                gw_openapi__warn(c, "degraded", "invalid_parameter",
                                 "a parameter without name or in was ignored");
                continue;
            }
            size_t di = 0;
            while (di < c->ndocs && c->docs[di] != d)
                di++;
            json_t *entry = json_pack("{s:O,s:I}", "p", p, "d", (json_int_t)di);
            /* replace a path-level parameter with the same name and location */
            bool replaced = false;
            size_t j;
            json_t *e;
            json_array_foreach(out, j, e)
            {
                json_t *q = json_object_get(e, "p");
                if (!strcmp(gw_openapi__jstr(q, "name"), name) &&
                    !strcmp(gw_openapi__jstr(q, "in"), in)) {
                    json_array_set(out, j, entry);
                    replaced = true;
                    break;
                }
            }
            if (!replaced)
                json_array_append(out, entry);
            json_decref(entry);
        }
    }
    return out;
}

/* Records style/explode (and allowReserved) of a parameter on its args entry: OpenAPI 3 values
 * with the defaults of the location resolved, or Swagger 2 collectionFormat translated. */
static void style_of(struct gw_openapi__ctx *c, json_t *p, const char *in, json_t *arg)
{
    const char *style = gw_openapi__jstr(p, "style");
    json_t *explode = json_object_get(p, "explode");
    bool ex;
    if (c->dialect == OA_SWAGGER2) {
        const char *cf = gw_openapi__jstr(p, "collectionFormat");
        bool array = gw_openapi__jstr(p, "type") && !strcmp(gw_openapi__jstr(p, "type"), "array");
        bool form = !strcmp(in, "query") || !strcmp(in, "cookie") || !strcmp(in, "formData");
        style = form ? "form" : "simple";
        ex = false;
        if (array && cf) {
            if (!strcmp(cf, "multi")) {
                style = "form";
                ex = true;
            } else if (!strcmp(cf, "ssv")) {
                style = "spaceDelimited";
            } else if (!strcmp(cf, "pipes")) {
                style = "pipeDelimited";
            } else if (!strcmp(cf, "tsv")) {
                style = "tabDelimited";
            }
        } else if (!array && form) {
            ex = true;
        }
    } else {
        if (!style)
            style = (!strcmp(in, "query") || !strcmp(in, "cookie")) ? "form" : "simple";
        ex = json_is_boolean(explode) ? json_is_true(explode) : !strcmp(style, "form");
    }
    json_object_set_new(arg, "style", json_string(style));
    json_object_set_new(arg, "explode", json_boolean(ex));
    if (json_is_true(json_object_get(p, "allowReserved")))
        json_object_set_new(arg, "allowReserved", json_true());
}

/* Parameters (path, query, header, cookie; Swagger formData) into the inputs. Returns false
 * when the operation must be skipped (why filled). */
static bool map_params(struct gw_openapi__op *o, struct gw_openapi__conv *cv, json_t *params,
                       struct gw_openapi__inputs *in, json_t **out_body_param, json_t *form_params,
                       char *why, size_t why_size)
{
    struct gw_openapi__ctx *c = o->c;
    static const char *const order[] = {"path", "query", "header", "cookie"};
    for (size_t pass = 0; pass < 4; pass++) {
        size_t i;
        json_t *e;
        json_array_foreach(params, i, e)
        {
            json_t *p = json_object_get(e, "p");
            struct gw_openapi__doc *d = c->docs[json_integer_value(json_object_get(e, "d"))];
            const char *loc = gw_openapi__jstr(p, "in"), *name = gw_openapi__jstr(p, "name");
            if (pass == 0) { /* once: the locations that are not one of the four */
                if (!strcmp(loc, "body")) {
                    if (c->dialect == OA_SWAGGER2)
                        *out_body_param = e;
                    continue;
                }
                if (!strcmp(loc, "formData")) {
                    if (c->dialect == OA_SWAGGER2)
                        json_array_append(form_params, e);
                    continue;
                }
                bool known = false;
                for (size_t k = 0; k < 4; k++)
                    known = known || !strcmp(loc, order[k]);
                if (!known) {
                    gw_openapi__warn(c, "degraded", "unknown_parameter_location",
                                     "parameter '%.100s' in '%.20s' ignored: unknown location",
                                     name, loc);
                    continue;
                }
            }
            if (strcmp(loc, order[pass]) != 0)
                continue;
            bool required = !strcmp(loc, "path") || json_is_true(json_object_get(p, "required"));
            json_t *arg = json_object();
            bool is_cred = false;
            const char *scheme = gw_openapi__credential_scheme(o->sp, loc, name, &is_cred);
            bool is_ctype = !strcmp(loc, "header") && !strcasecmp(name, "content-type");
            /* the idempotency key is the gateway's business: callers send _meta.idempotencyKey
             * and the executor forwards it (as the upstream's idempotency header); offering it
             * as an argument would invite a value the gateway then refuses */
            bool is_idem = !strcmp(loc, "header") && !strcasecmp(name, "idempotency-key");
            if (is_cred || is_ctype || is_idem) {
                json_object_set_new(arg, "in", json_string(loc));
                json_object_set_new(arg, "name", json_string(name));
                if (required)
                    json_object_set_new(arg, "required", json_true());
                json_object_set_new(arg, "source",
                                    json_string(is_cred    ? "credential"
                                                : is_idem ? "idempotency"
                                                          : "contentType"));
                if (is_cred)
                    json_object_set_new(arg, "scheme", scheme ? json_string(scheme) : json_null());
                json_array_append_new(in->args, arg);
                continue;
            }
            json_t *schema = NULL;
            const char *ctype = NULL;
            if (c->dialect == OA_SWAGGER2) {
                schema = swagger_param_schema(cv, p, d);
            } else if (json_object_get(p, "schema")) {
                schema = gw_openapi__schema(cv, json_object_get(p, "schema"), d);
            } else if (json_is_object(json_object_get(p, "content"))) {
                json_t *media = NULL;
                ctype = gw_openapi__best_media(json_object_get(p, "content"), false, &media);
                json_t *ms = json_object_get(media, "schema");
                schema = ms ? gw_openapi__schema(cv, ms, d) : json_object();
            } else {
                schema = json_pack("{s:s}", "type", "string");
            }
            if (cv->failed) {
                json_decref(schema);
                json_decref(arg);
                snprintf(why, why_size, "parameter '%.100s': %.300s", name, cv->problem);
                return false;
            }
            char argname[80];
            gw_openapi__unique_arg(in, name, loc, argname, sizeof(argname));
            json_object_set_new(arg, "arg", json_string(argname));
            json_object_set_new(arg, "in", json_string(loc));
            json_object_set_new(arg, "name", json_string(name));
            if (required)
                json_object_set_new(arg, "required", json_true());
            style_of(c, p, loc, arg);
            if (ctype)
                json_object_set_new(arg, "contentType", json_string(ctype));
            json_array_append_new(in->args, arg);
            add_input(in, argname, param_overlay(c, schema, p), required);
        }
    }
    return true;
}

bool gw_openapi__type_is(json_t *schema, const char *t)
{
    json_t *type = json_object_get(schema, "type");
    if (json_is_string(type))
        return !strcmp(json_string_value(type), t);
    if (json_is_array(type)) {
        size_t i;
        json_t *v;
        json_array_foreach(type, i, v)
        {
            if (json_is_string(v) && !strcmp(json_string_value(v), t))
                return true;
        }
    }
    return false;
}

/* An object schema whose properties can become arguments: properties present, type object or
 * absent, no oneOf/anyOf/not at the root, no additionalProperties without properties. allOf
 * members that are object schemas are merged into props/required. */
static bool flatten_object(struct gw_openapi__conv *cv, json_t *root, json_t *props,
                           json_t *required, int depth)
{
    if (!json_is_object(root) || depth > 8)
        return false;
    json_t *type = json_object_get(root, "type");
    if (type && !gw_openapi__type_is(root, "object"))
        return false;
    if (json_object_get(root, "oneOf") || json_object_get(root, "anyOf") ||
        json_object_get(root, "not") || json_object_get(root, "if"))
        return false;
    json_t *all = json_object_get(root, "allOf");
    json_t *p = json_object_get(root, "properties");
    if (!json_is_object(p) && !json_is_array(all))
        return false;
    size_t i;
    json_t *m;
    json_array_foreach(all, i, m)
    {
        json_t *x = gw_openapi__expand_def_ref(cv, m);
        bool ok = flatten_object(cv, x, props, required, depth + 1);
        json_decref(x);
        if (!ok)
            return false;
    }
    const char *k;
    json_t *v;
    json_object_foreach(p, k, v)
    {
        json_object_set(props, k, v);
    }
    json_t *req = json_object_get(root, "required");
    json_array_foreach(req, i, m)
    {
        if (json_is_string(m))
            json_array_append(required, m);
    }
    return true;
}

bool gw_openapi__str_in(json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (json_is_string(v) && !strcmp(json_string_value(v), s))
            return true;
    }
    return false;
}

/* Adds the body arguments: flattened properties (in "body") or one "body" (body-whole). */
static void body_args(struct gw_openapi__ctx *c, struct gw_openapi__conv *cv,
                      struct gw_openapi__inputs *in, json_t *root, bool body_required,
                      const char *description)
{
    json_t *props = json_object(), *req = json_array();
    if (flatten_object(cv, root, props, req, 0) && json_object_size(props) > 0) {
        const char *k;
        json_t *v;
        json_object_foreach(props, k, v)
        {
            json_t *pv = gw_openapi__expand_def_ref(cv, v);
            bool ro = json_is_true(json_object_get(pv, "readOnly"));
            json_decref(pv);
            if (ro)
                continue; /* server-owned: not an input */
            char argname[80];
            gw_openapi__unique_arg(in, k, "body", argname, sizeof(argname));
            bool required = body_required && gw_openapi__str_in(req, k);
            json_t *arg = json_pack("{s:s,s:s,s:s}", "arg", argname, "in", "body", "name", k);
            if (required)
                json_object_set_new(arg, "required", json_true());
            json_array_append_new(in->args, arg);
            add_input(in, argname, json_incref(v), required);
        }
    } else {
        char argname[80];
        gw_openapi__unique_arg(in, "body", "body", argname, sizeof(argname));
        json_t *arg = json_pack("{s:s,s:s}", "arg", argname, "in", "body-whole");
        if (body_required)
            json_object_set_new(arg, "required", json_true());
        json_array_append_new(in->args, arg);
        json_t *s = json_copy(root);
        if (description && *description && !json_object_get(s, "description")) {
            char *t = gw_openapi__trim_text(description, c->o->schema_description_max);
            json_object_set_new(s, "description", json_string(t));
            gw_free(t);
        }
        add_input(in, argname, s, body_required);
    }
    json_decref(props);
    json_decref(req);
}

/* Request body (3.x requestBody, Swagger body / formData parameters). Sets binding.body. */
static bool map_body(struct gw_openapi__op *o, struct gw_openapi__conv *cv,
                     struct gw_openapi__inputs *in, json_t *body_param, json_t *form_params,
                     json_t *binding, char *why, size_t why_size)
{
    struct gw_openapi__ctx *c = o->c;
    if (c->dialect == OA_SWAGGER2) {
        json_t *consumes = json_object_get(o->op, "consumes");
        if (!json_is_array(consumes))
            consumes = o->sp->consumes;
        if (body_param) {
            json_t *p = json_object_get(body_param, "p");
            struct gw_openapi__doc *d =
                c->docs[json_integer_value(json_object_get(body_param, "d"))];
            bool any_json;
            const char *ct = gw_openapi__swagger_media(consumes, &any_json);
            json_t *root = gw_openapi__schema_root(cv, json_object_get(p, "schema"), d);
            if (cv->failed) {
                json_decref(root);
                snprintf(why, why_size, "body: %.300s", cv->problem);
                return false;
            }
            bool required = json_is_true(json_object_get(p, "required"));
            body_args(c, cv, in, root, required, gw_openapi__jstr(p, "description"));
            json_decref(root);
            json_object_set_new(binding, "body",
                                json_pack("{s:s,s:b}", "contentType",
                                          ct && any_json ? ct : "application/json", "required",
                                          required));
        } else if (json_array_size(form_params) > 0) {
            bool file = false, any_required = false;
            size_t i;
            json_t *e;
            json_array_foreach(form_params, i, e)
            {
                json_t *p = json_object_get(e, "p");
                file = file || (gw_openapi__jstr(p, "type") &&
                                !strcmp(gw_openapi__jstr(p, "type"), "file"));
            }
            const char *ct = (file || list_has(consumes, "multipart/form-data"))
                                 ? "multipart/form-data"
                                 : "application/x-www-form-urlencoded";
            json_array_foreach(form_params, i, e)
            {
                json_t *p = json_object_get(e, "p");
                struct gw_openapi__doc *d = c->docs[json_integer_value(json_object_get(e, "d"))];
                const char *name = gw_openapi__jstr(p, "name");
                bool required = json_is_true(json_object_get(p, "required"));
                any_required = any_required || required;
                json_t *schema = swagger_param_schema(cv, p, d);
                char argname[80];
                gw_openapi__unique_arg(in, name, "body", argname, sizeof(argname));
                json_t *arg =
                    json_pack("{s:s,s:s,s:s}", "arg", argname, "in", "body", "name", name);
                if (required)
                    json_object_set_new(arg, "required", json_true());
                style_of(c, p, "formData", arg);
                json_array_append_new(in->args, arg);
                add_input(in, argname, param_overlay(c, schema, p), required);
            }
            json_object_set_new(
                binding, "body",
                json_pack("{s:s,s:b}", "contentType", ct, "required", any_required));
        }
        return true;
    }
    json_t *rb = json_object_get(o->op, "requestBody");
    if (!rb)
        return true;
    struct gw_openapi__doc *d = o->op_doc;
    rb = gw_openapi__deref(c, rb, &d, why, why_size);
    if (!rb)
        return false;
    json_t *content = json_object_get(rb, "content");
    if (!json_is_object(content) || json_object_size(content) == 0)
        return true;
    json_t *media = NULL;
    const char *ct = gw_openapi__best_media(content, false, &media);
    bool required = json_is_true(json_object_get(rb, "required"));
    json_t *schema = json_object_get(media, "schema");
    json_t *root;
    if (schema) {
        root = gw_openapi__schema_root(cv, schema, d);
    } else {
        /* no schema: any JSON for JSON types, bytes otherwise */
        root = gw_openapi__media_rank(ct) <= 3
                   ? json_object()
                   : json_pack("{s:s,s:s}", "type", "string", "format", "binary");
    }
    if (cv->failed) {
        json_decref(root);
        snprintf(why, why_size, "request body: %.300s", cv->problem);
        return false;
    }
    int rank = gw_openapi__media_rank(ct);
    if (rank <= 3) {
        body_args(c, cv, in, root, required, gw_openapi__jstr(rb, "description"));
    } else {
        char argname[80];
        gw_openapi__unique_arg(in, "body", "body", argname, sizeof(argname));
        json_t *arg = json_pack("{s:s,s:s}", "arg", argname, "in", "body-whole");
        if (required)
            json_object_set_new(arg, "required", json_true());
        json_array_append_new(in->args, arg);
        add_input(in, argname, json_incref(root), required);
    }
    json_decref(root);
    json_object_set_new(binding, "body",
                        json_pack("{s:s,s:b}", "contentType", ct, "required", required));
    return true;
}

/* The x-mcp-header declarations the parameters carried over (param_overlay) must hold
 * together (schema/schema_headers.h: unique names, scalar types): if they do not, every one
 * of the operation is dropped with a warning, so that no client has to refuse the tool. */
static void check_mirrored(struct gw_openapi__ctx *c, json_t *props)
{
    json_t *root = json_pack("{s:s,s:O}", "type", "object", "properties", props);
    struct gw_schema_header hd[GW_SCHEMA_HEADERS_MAX];
    size_t n = 0;
    struct gw_error err;
    gw_error_clear(&err);
    if (gw_schema_headers_scan(root, hd, &n, &err) != GW_OK) {
        gw_openapi__warn(c, "degraded", "x_mcp_header_dropped",
                         "x-mcp-header declarations dropped (the tool is served without them): "
                         "%s", err.msg);
        const char *k;
        json_t *v;
        json_object_foreach(props, k, v)
        {
            (void)k;
            if (json_is_object(v))
                json_object_del(v, "x-mcp-header");
        }
    }
    json_decref(root);
}

/* The whole caller side of an operation: merged parameters, then the body. */
bool gw_openapi__inputs(struct gw_openapi__op *o, struct gw_openapi__conv *cv,
                        struct gw_openapi__inputs *in, json_t *binding, char *why, size_t why_size)
{
    json_t *form_params = json_array();
    json_t *body_param = NULL;
    bool ok = false;
    json_t *params = merged_params(o, why, why_size);
    if (!params)
        goto out;
    if (!map_params(o, cv, params, in, &body_param, form_params, why, why_size))
        goto out;
    if (!map_body(o, cv, in, body_param, form_params, binding, why, why_size))
        goto out;
    check_mirrored(o->c, in->props);
    ok = true;
out:
    json_decref(params);
    json_decref(form_params);
    return ok;
}
