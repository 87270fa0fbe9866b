/*
 * src/openapi/openapi_map.c
 * Operations into tool definitions (docs/tool-model.md).
 *
 * Owns: walking paths and operations (path items and operations may be $refs, also into other
 * files), merging path-level with operation-level parameters (same name+in: the operation
 * wins), the input schema (every parameter location plus the request body, object bodies
 * flattened into arguments, collisions suffixed with the location, never dropped), the
 * `binding` (method, path, servers, args, body, security), the output schema (first 2xx JSON
 * response with an object root), annotations and governance defaults, the x-mcp extension, and
 * tool naming with deterministic de-duplication.
 * Invariants: every tool's inputSchema has a root {"type":"object"}; names are unique,
 * [A-Za-z0-9_-], at most 64 characters; an operation is either a tool or a "skipped" /
 * "excluded" entry in the warnings, never silently lost. Credential parameters (a header or
 * query/cookie parameter that a security scheme fills, and any Authorization header) are kept
 * in binding.args with "source":"credential" but never shown to the caller; a Content-Type
 * header parameter is kept with "source":"contentType" (the executor sets it from the body).
 * Not here: schema conversion (openapi_schema.c), $ref loading (openapi_doc.c).
 */
#include "openapi/openapi_internal.h"

#include "core/alloc.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define LABEL_MAX 600

static const char *const METHODS[] = {"get",     "put",  "post",  "delete",
                                      "options", "head", "patch", "trace"};

/* Spec-wide facts computed once. */
struct spec {
    json_t *root;
    struct gw_openapi__doc *doc;
    json_t *servers;             /* array of strings: root servers, resolved */
    json_t *schemes;             /* scheme name -> binding entry (object) */
    json_t *cred_header;         /* lower-case header name -> scheme name */
    json_t *cred_query;          /* query parameter name -> scheme name */
    json_t *cred_cookie;         /* cookie name -> scheme name */
    const char *auth_scheme;     /* scheme that fills "Authorization", or NULL */
    json_t *security;            /* root security requirements (array) or NULL */
    json_t *xmcp;                /* root x-mcp object or NULL */
    json_t *consumes, *produces; /* Swagger 2 */
    char upstream[128];
    const char *version; /* info.version as text */
    char version_buf[64];
    size_t prefix_skip;
};

/* One operation waiting for its name. */
struct pending {
    json_t *tool;
    char base[160];
    char version[24];
    bool explicit_name;
};

/* ---------------- small helpers ---------------- */

static const char *jstr(json_t *obj, const char *key)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void lower_copy(const char *in, char *out, size_t size)
{
    size_t j = 0;
    for (; in[j] && j + 1 < size; j++)
        out[j] = (in[j] >= 'A' && in[j] <= 'Z') ? (char)(in[j] + 32) : in[j];
    out[j] = '\0';
}

/* Rank of a media type for request bodies (lower is preferred). */
static int media_rank(const char *mt)
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

static bool is_json_media(const char *mt)
{
    return media_rank(mt) <= 1;
}

/* Best media type of an OpenAPI 3 content map (json_t object). */
static const char *best_media(json_t *content, bool json_only, json_t **out_media)
{
    const char *best = NULL;
    int rank = 100;
    const char *k;
    json_t *v;
    json_object_foreach(content, k, v)
    {
        int r = media_rank(k);
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
static const char *pick_swagger_media(json_t *list, bool *any_json)
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
        if (is_json_media(json_string_value(v))) {
            *any_json = true;
            return json_string_value(v);
        }
    }
    return first;
}

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

/* ---------------- spec-level facts ---------------- */

static void add_scheme_entry(struct spec *sp, const char *name, json_t *def, bool swagger)
{
    const char *type = jstr(def, "type");
    if (!type)
        return;
    json_t *e = json_object();
    json_object_set_new(e, "scheme", json_string(name));
    if (!strcmp(type, "apiKey")) {
        const char *in = jstr(def, "in"), *pname = jstr(def, "name");
        json_object_set_new(e, "type", json_string("apiKey"));
        if (in)
            json_object_set_new(e, "in", json_string(in));
        if (pname)
            json_object_set_new(e, "name", json_string(pname));
        if (in && pname) {
            char low[256];
            lower_copy(pname, low, sizeof(low));
            if (!strcmp(in, "header")) {
                json_object_set_new(sp->cred_header, low, json_string(name));
                if (!strcmp(low, "authorization") && !sp->auth_scheme)
                    sp->auth_scheme = name;
            } else if (!strcmp(in, "query")) {
                json_object_set_new(sp->cred_query, pname, json_string(name));
            } else if (!strcmp(in, "cookie")) {
                json_object_set_new(sp->cred_cookie, pname, json_string(name));
            }
        }
    } else if (!strcmp(type, "http") || !strcmp(type, "basic")) {
        char sch[64] = "basic";
        if (!strcmp(type, "http"))
            lower_copy(jstr(def, "scheme") ? jstr(def, "scheme") : "bearer", sch, sizeof(sch));
        json_object_set_new(e, "type", json_string("http"));
        json_object_set_new(e, "httpScheme", json_string(sch));
        if (jstr(def, "bearerFormat"))
            json_object_set_new(e, "bearerFormat", json_string(jstr(def, "bearerFormat")));
        if (!sp->auth_scheme)
            sp->auth_scheme = name;
    } else if (!strcmp(type, "oauth2")) {
        json_object_set_new(e, "type", json_string("oauth2"));
        if (swagger) {
            const char *flow = jstr(def, "flow");
            const char *mapped = !flow                          ? NULL
                                 : !strcmp(flow, "application") ? "clientCredentials"
                                 : !strcmp(flow, "accessCode")  ? "authorizationCode"
                                                                : flow;
            if (mapped)
                json_object_set_new(e, "flow", json_string(mapped));
            if (jstr(def, "tokenUrl"))
                json_object_set_new(e, "tokenUrl", json_string(jstr(def, "tokenUrl")));
            if (jstr(def, "authorizationUrl"))
                json_object_set_new(e, "authorizationUrl",
                                    json_string(jstr(def, "authorizationUrl")));
        } else {
            json_t *flows = json_object_get(def, "flows");
            static const char *const pref[] = {"clientCredentials", "authorizationCode", "password",
                                               "implicit"};
            json_t *names = json_array();
            const char *chosen = NULL;
            for (size_t i = 0; i < 4; i++) {
                json_t *f = json_object_get(flows, pref[i]);
                if (!json_is_object(f))
                    continue;
                json_array_append_new(names, json_string(pref[i]));
                if (chosen)
                    continue;
                chosen = pref[i];
                json_object_set_new(e, "flow", json_string(pref[i]));
                static const char *const urls[] = {"tokenUrl", "authorizationUrl", "refreshUrl"};
                for (size_t u = 0; u < 3; u++)
                    if (jstr(f, urls[u]))
                        json_object_set_new(e, urls[u], json_string(jstr(f, urls[u])));
            }
            if (json_array_size(names) > 1)
                json_object_set_new(e, "flows", names);
            else
                json_decref(names);
        }
        if (!sp->auth_scheme)
            sp->auth_scheme = name;
    } else if (!strcmp(type, "openIdConnect")) {
        json_object_set_new(e, "type", json_string("openIdConnect"));
        if (jstr(def, "openIdConnectUrl"))
            json_object_set_new(e, "openIdConnectUrl", json_string(jstr(def, "openIdConnectUrl")));
        if (!sp->auth_scheme)
            sp->auth_scheme = name;
    } else {
        json_object_set_new(e, "type", json_string(type)); /* mutualTLS and future types */
    }
    json_object_set_new(sp->schemes, name, e);
}

/* Substitutes {var} in a 3.x server URL with the variables' defaults. */
static char *server_url(json_t *server)
{
    const char *url = jstr(server, "url");
    if (!url)
        return NULL;
    json_t *vars = json_object_get(server, "variables");
    struct gw_buf b;
    gw_buf_init(&b, 8192);
    for (const char *p = url; *p;) {
        const char *close = *p == '{' ? strchr(p, '}') : NULL;
        if (close) {
            char var[128];
            snprintf(var, sizeof(var), "%.*s", (int)(close - p - 1), p + 1);
            const char *dflt = jstr(json_object_get(vars, var), "default");
            if (dflt) {
                gw_buf_adds(&b, dflt);
                p = close + 1;
                continue;
            }
        }
        gw_buf_addc(&b, *p++);
    }
    return gw_buf_take(&b, NULL);
}

static bool is_absolute_url(const char *u)
{
    return strncasecmp(u, "http://", 7) == 0 || strncasecmp(u, "https://", 8) == 0;
}

/* Resolves a list of 3.x servers (array of objects) into strings. */
static json_t *resolve_servers(struct gw_openapi__ctx *c, json_t *servers)
{
    json_t *out = json_array();
    const char *base = c->docs[0]->kind == OA_DOC_URL ? c->docs[0]->uri : NULL;
    size_t i;
    json_t *s;
    json_array_foreach(servers, i, s)
    {
        char *u = server_url(s);
        if (!u)
            continue;
        char *res = NULL;
        if (!is_absolute_url(u) && base)
            res = gw_openapi__url_join(base, u);
        const char *val = res ? res : u;
        size_t n = strlen(val);
        while (n > 1 && val[n - 1] == '/')
            n--;
        json_array_append_new(out, json_stringn(val, n));
        gw_free(res);
        gw_free(u);
    }
    return out;
}

static json_t *swagger_servers(struct gw_openapi__ctx *c, json_t *root)
{
    json_t *out = json_array();
    const char *host = jstr(root, "host");
    const char *base = jstr(root, "basePath");
    json_t *schemes = json_object_get(root, "schemes");
    char spec_scheme[8] = "https", spec_host[256] = "";
    if (c->docs[0]->kind == OA_DOC_URL) {
        const char *u = c->docs[0]->uri;
        if (!strncasecmp(u, "http://", 7))
            snprintf(spec_scheme, sizeof(spec_scheme), "http");
        const char *h = strstr(u, "://");
        if (h) {
            h += 3;
            size_t n = strcspn(h, "/?#");
            snprintf(spec_host, sizeof(spec_host), "%.*s", (int)n, h);
        }
    }
    if (!host && spec_host[0])
        host = spec_host;
    if (!base || strcmp(base, "/") == 0)
        base = "";
    if (!host) {
        json_array_append_new(out, json_string(base[0] ? base : "/"));
        return out;
    }
    bool https = false, http = false;
    size_t i;
    json_t *v;
    json_array_foreach(schemes, i, v)
    {
        https = https || (json_is_string(v) && !strcmp(json_string_value(v), "https"));
        http = http || (json_is_string(v) && !strcmp(json_string_value(v), "http"));
    }
    if (!https && !http) {
        https = strcmp(spec_scheme, "https") == 0;
        http = !https;
    }
    char url[1024];
    if (https) {
        snprintf(url, sizeof(url), "https://%s%s", host, base);
        json_array_append_new(out, json_string(url));
    }
    if (http) {
        snprintf(url, sizeof(url), "http://%s%s", host, base);
        json_array_append_new(out, json_string(url));
    }
    return out;
}

static void spec_init(struct gw_openapi__ctx *c, struct spec *sp)
{
    memset(sp, 0, sizeof(*sp));
    sp->doc = c->docs[0];
    sp->root = sp->doc->root;
    sp->schemes = json_object();
    sp->cred_header = json_object();
    sp->cred_query = json_object();
    sp->cred_cookie = json_object();
    json_t *root = sp->root;
    bool swagger = c->dialect == OA_SWAGGER2;
    json_t *defs = swagger
                       ? json_object_get(root, "securityDefinitions")
                       : json_object_get(json_object_get(root, "components"), "securitySchemes");
    const char *name;
    json_t *def;
    json_object_foreach(defs, name, def)
    {
        struct gw_openapi__doc *d = sp->doc;
        char why[300];
        json_t *x = gw_openapi__deref(c, def, &d, why, sizeof(why));
        if (json_is_object(x))
            add_scheme_entry(sp, name, x, swagger);
    }
    json_t *sec = json_object_get(root, "security");
    sp->security = json_is_array(sec) ? sec : NULL;
    json_t *x = json_object_get(root, "x-mcp");
    sp->xmcp = json_is_object(x) ? x : NULL;
    sp->consumes = json_object_get(root, "consumes");
    sp->produces = json_object_get(root, "produces");
    sp->servers =
        swagger ? swagger_servers(c, root) : resolve_servers(c, json_object_get(root, "servers"));
    if (!swagger && json_array_size(sp->servers) == 0) {
        json_t *rootdflt = json_pack("[{s:s}]", "url", "/");
        json_decref(sp->servers);
        sp->servers = resolve_servers(c, rootdflt);
        json_decref(rootdflt);
    }
    json_t *info = json_object_get(root, "info");
    json_t *ver = json_object_get(info, "version");
    if (json_is_string(ver)) {
        sp->version = json_string_value(ver);
    } else if (json_is_number(ver)) {
        snprintf(sp->version_buf, sizeof(sp->version_buf), "%g", json_number_value(ver));
        sp->version = sp->version_buf;
    }
    if (c->o->upstream)
        snprintf(sp->upstream, sizeof(sp->upstream), "%s", c->o->upstream);
    else
        gw_openapi__snake(jstr(info, "title") ? jstr(info, "title") : "api", sp->upstream,
                          sizeof(sp->upstream));
    if (!sp->upstream[0])
        snprintf(sp->upstream, sizeof(sp->upstream), "api");
    /* the common path prefix matters only for names made from paths: count the paths that
     * have an operation without operationId */
    json_t *unnamed = json_object();
    const char *pk;
    json_t *pv;
    json_object_foreach(json_object_get(root, "paths"), pk, pv)
    {
        struct gw_openapi__doc *d = sp->doc;
        char why[300];
        json_t *pi = gw_openapi__deref(c, pv, &d, why, sizeof(why));
        for (size_t m = 0; json_is_object(pi) && m < sizeof(METHODS) / sizeof(METHODS[0]); m++) {
            json_t *op = json_object_get(pi, METHODS[m]);
            if (op && !jstr(op, "operationId") && !json_object_get(op, "$ref")) {
                json_object_set(unnamed, pk, pv);
                break;
            }
        }
    }
    sp->prefix_skip = gw_openapi__common_prefix(unnamed);
    json_decref(unnamed);
}

static void spec_fini(struct spec *sp)
{
    json_decref(sp->servers);
    json_decref(sp->schemes);
    json_decref(sp->cred_header);
    json_decref(sp->cred_query);
    json_decref(sp->cred_cookie);
}

/* ---------------- one operation ---------------- */

struct opctx {
    struct gw_openapi__ctx *c;
    struct spec *sp;
    const char *path;
    const char *method; /* lower case */
    json_t *op;
    struct gw_openapi__doc *op_doc;
    json_t *pathitem;
    struct gw_openapi__doc *path_doc;
    json_t *xmcp; /* merged x-mcp (owned) */
};

struct inputs {
    json_t *props;    /* inputSchema.properties */
    json_t *required; /* inputSchema.required */
    json_t *args;     /* binding.args */
    json_t *used;     /* argument names taken */
};

/* A free argument name for `name` at location `in` (suffix rule of docs/tool-model.md). */
static void unique_arg(struct inputs *in, const char *name, const char *loc, char *out, size_t size)
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

static void add_input(struct inputs *in, const char *arg, json_t *schema, bool required)
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
    const char *d = jstr(p, "description");
    if (d && *d) {
        char *t = gw_openapi__trim_text(d, c->o->schema_description_max);
        json_object_set_new(s, "description", json_string(t));
        gw_free(t);
    }
    if (json_is_true(json_object_get(p, "deprecated")))
        json_object_set_new(s, "deprecated", json_true());
    json_t *ex = json_object_get(p, "example");
    if (ex && !json_object_get(s, "examples"))
        json_object_set_new(s, "examples", json_pack("[O]", ex));
    return s;
}

/* Collects path-level and operation-level parameters (operation overrides by name+in).
 * Returns an array of [param, doc-index] pairs as a json array of objects
 * {"p": param, "d": doc index}, or NULL with why (a $ref failed). */
static json_t *merged_params(struct opctx *o, char *why, size_t why_size)
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
            const char *name = jstr(p, "name"), *in = jstr(p, "in");
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
                if (!strcmp(jstr(q, "name"), name) && !strcmp(jstr(q, "in"), in)) {
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

static const char *credential_scheme(struct spec *sp, const char *in, const char *name,
                                     bool *is_cred)
{
    *is_cred = false;
    if (!strcmp(in, "header")) {
        char low[256];
        lower_copy(name, low, sizeof(low));
        const char *s = jstr(sp->cred_header, low);
        if (s) {
            *is_cred = true;
            return s;
        }
        if (!strcmp(low, "authorization") || !strcmp(low, "proxy-authorization")) {
            *is_cred = true;
            return sp->auth_scheme;
        }
        return NULL;
    }
    json_t *map = !strcmp(in, "query")    ? sp->cred_query
                  : !strcmp(in, "cookie") ? sp->cred_cookie
                                          : NULL;
    const char *s = map ? jstr(map, name) : NULL;
    *is_cred = s ? true : false;
    return s;
}

static void style_of(struct gw_openapi__ctx *c, json_t *p, const char *in, json_t *arg)
{
    const char *style = jstr(p, "style");
    json_t *explode = json_object_get(p, "explode");
    bool ex;
    if (c->dialect == OA_SWAGGER2) {
        const char *cf = jstr(p, "collectionFormat");
        bool array = jstr(p, "type") && !strcmp(jstr(p, "type"), "array");
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
static bool map_params(struct opctx *o, struct gw_openapi__conv *cv, json_t *params,
                       struct inputs *in, json_t **out_body_param, json_t *form_params, char *why,
                       size_t why_size)
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
            const char *loc = jstr(p, "in"), *name = jstr(p, "name");
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
            const char *scheme = credential_scheme(o->sp, loc, name, &is_cred);
            bool is_ctype = !strcmp(loc, "header") && !strcasecmp(name, "content-type");
            if (is_cred || is_ctype) {
                json_object_set_new(arg, "in", json_string(loc));
                json_object_set_new(arg, "name", json_string(name));
                if (required)
                    json_object_set_new(arg, "required", json_true());
                json_object_set_new(arg, "source",
                                    json_string(is_cred ? "credential" : "contentType"));
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
                ctype = best_media(json_object_get(p, "content"), false, &media);
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
            unique_arg(in, name, loc, argname, sizeof(argname));
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

static bool type_is(json_t *schema, const char *t)
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
    if (type && !type_is(root, "object"))
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

static bool str_in(json_t *arr, const char *s)
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
static void body_args(struct gw_openapi__ctx *c, struct gw_openapi__conv *cv, struct inputs *in,
                      json_t *root, bool body_required, const char *description)
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
            unique_arg(in, k, "body", argname, sizeof(argname));
            bool required = body_required && str_in(req, k);
            json_t *arg = json_pack("{s:s,s:s,s:s}", "arg", argname, "in", "body", "name", k);
            if (required)
                json_object_set_new(arg, "required", json_true());
            json_array_append_new(in->args, arg);
            add_input(in, argname, json_incref(v), required);
        }
    } else {
        char argname[80];
        unique_arg(in, "body", "body", argname, sizeof(argname));
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
static bool map_body(struct opctx *o, struct gw_openapi__conv *cv, struct inputs *in,
                     json_t *body_param, json_t *form_params, json_t *binding, char *why,
                     size_t why_size)
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
            const char *ct = pick_swagger_media(consumes, &any_json);
            json_t *root = gw_openapi__schema_root(cv, json_object_get(p, "schema"), d);
            if (cv->failed) {
                json_decref(root);
                snprintf(why, why_size, "body: %.300s", cv->problem);
                return false;
            }
            bool required = json_is_true(json_object_get(p, "required"));
            body_args(c, cv, in, root, required, jstr(p, "description"));
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
                file = file || (jstr(p, "type") && !strcmp(jstr(p, "type"), "file"));
            }
            const char *ct = (file || list_has(consumes, "multipart/form-data"))
                                 ? "multipart/form-data"
                                 : "application/x-www-form-urlencoded";
            json_array_foreach(form_params, i, e)
            {
                json_t *p = json_object_get(e, "p");
                struct gw_openapi__doc *d = c->docs[json_integer_value(json_object_get(e, "d"))];
                const char *name = jstr(p, "name");
                bool required = json_is_true(json_object_get(p, "required"));
                any_required = any_required || required;
                json_t *schema = swagger_param_schema(cv, p, d);
                char argname[80];
                unique_arg(in, name, "body", argname, sizeof(argname));
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
    const char *ct = best_media(content, false, &media);
    bool required = json_is_true(json_object_get(rb, "required"));
    json_t *schema = json_object_get(media, "schema");
    json_t *root;
    if (schema) {
        root = gw_openapi__schema_root(cv, schema, d);
    } else {
        /* no schema: any JSON for JSON types, bytes otherwise */
        root = media_rank(ct) <= 3 ? json_object()
                                   : json_pack("{s:s,s:s}", "type", "string", "format", "binary");
    }
    if (cv->failed) {
        json_decref(root);
        snprintf(why, why_size, "request body: %.300s", cv->problem);
        return false;
    }
    int rank = media_rank(ct);
    if (rank <= 3) {
        body_args(c, cv, in, root, required, jstr(rb, "description"));
    } else {
        char argname[80];
        unique_arg(in, "body", "body", argname, sizeof(argname));
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

/* The schema of the first 2xx JSON response, or NULL. */
static json_t *success_schema(struct opctx *o, struct gw_openapi__doc **docp, char *why,
                              size_t why_size, bool *failed)
{
    struct gw_openapi__ctx *c = o->c;
    json_t *responses = json_object_get(o->op, "responses");
    *failed = false;
    if (!json_is_object(responses))
        return NULL;
    /* codes 200..299 in order, then 2XX */
    char code[8];
    for (int k = 200; k <= 300; k++) {
        if (k == 300)
            snprintf(code, sizeof(code), "2XX");
        else
            snprintf(code, sizeof(code), "%d", k);
        json_t *r = json_object_get(responses, code);
        if (!r && k == 300)
            r = json_object_get(responses, "2xx");
        if (!r)
            continue;
        struct gw_openapi__doc *d = o->op_doc;
        r = gw_openapi__deref(c, r, &d, why, why_size);
        if (!r) {
            *failed = true;
            return NULL;
        }
        json_t *schema = NULL;
        if (c->dialect == OA_SWAGGER2) {
            json_t *produces = json_object_get(o->op, "produces");
            if (!json_is_array(produces))
                produces = o->sp->produces;
            bool any_json = !json_is_array(produces) || json_array_size(produces) == 0;
            if (!any_json)
                pick_swagger_media(produces, &any_json);
            if (any_json)
                schema = json_object_get(r, "schema");
        } else {
            json_t *media = NULL;
            json_t *content = json_object_get(r, "content");
            if (json_is_object(content) && best_media(content, true, &media))
                schema = json_object_get(media, "schema");
        }
        if (schema) {
            *docp = d;
            return schema;
        }
    }
    return NULL;
}

static bool output_schema(struct opctx *o, json_t *tool)
{
    struct gw_openapi__ctx *c = o->c;
    char why[400];
    bool failed;
    struct gw_openapi__doc *d = NULL;
    json_t *schema = success_schema(o, &d, why, sizeof(why), &failed);
    if (failed) {
        gw_openapi__warn(c, "degraded", "output_schema_unresolved", "output schema omitted: %.400s",
                         why);
        return false;
    }
    if (!schema)
        return true;
    struct gw_openapi__conv cv;
    gw_openapi__conv_init(&cv, c);
    json_t *root = gw_openapi__schema_root(&cv, schema, d);
    bool object = type_is(root, "object");
    if (!json_object_get(root, "type")) {
        if (json_object_get(root, "properties") || json_object_get(root, "additionalProperties") ||
            json_object_get(root, "patternProperties")) {
            object = true;
        } else {
            /* allOf/oneOf/anyOf whose members are all objects */
            static const char *const comb[] = {"allOf", "oneOf", "anyOf"};
            for (size_t k = 0; k < 3 && !object; k++) {
                json_t *arr = json_object_get(root, comb[k]);
                if (!json_is_array(arr))
                    continue;
                bool all = json_array_size(arr) > 0;
                size_t i;
                json_t *m;
                json_array_foreach(arr, i, m)
                {
                    json_t *x = gw_openapi__expand_def_ref(&cv, m);
                    all = all && (type_is(x, "object") || json_object_get(x, "properties"));
                    json_decref(x);
                }
                object = all;
            }
        }
    }
    size_t size = cv.size;
    json_t *defs = object && !cv.failed ? gw_openapi__defs(&cv, &size) : NULL;
    bool ok = true;
    if (cv.failed) {
        gw_openapi__warn(c, "degraded", "output_schema_unresolved", "output schema omitted: %.400s",
                         cv.problem);
        ok = false;
    } else if (!object) {
        /* not an object (array, scalar): MCP output schemas must be objects; not a loss */
    } else if (c->o->limits.max_schema_nodes && size > c->o->limits.max_schema_nodes) {
        gw_openapi__warn(c, "degraded", "output_schema_too_large",
                         "output schema omitted: %zu nodes exceed the limit of %zu", size,
                         c->o->limits.max_schema_nodes);
        ok = false;
    } else {
        json_object_set_new(root, "type", json_string("object"));
        if (defs)
            json_object_set(root, "$defs", defs);
        json_object_set(tool, "outputSchema", root);
    }
    json_decref(defs);
    json_decref(root);
    gw_openapi__conv_fini(&cv);
    return ok;
}

/* binding.security and binding.securityRequirements from the requirement list in effect. */
static void map_security(struct opctx *o, json_t *binding)
{
    struct gw_openapi__ctx *c = o->c;
    json_t *reqs = json_object_get(o->op, "security");
    if (!json_is_array(reqs))
        reqs = o->sp->security;
    if (!json_is_array(reqs) || json_array_size(reqs) == 0)
        return;
    json_t *entries = json_object(); /* scheme -> entry copy (scopes merged) */
    json_t *alts = json_array();
    size_t i;
    json_t *req;
    json_array_foreach(reqs, i, req)
    {
        json_t *names = json_array();
        const char *name;
        json_t *scopes;
        json_object_foreach(req, name, scopes)
        {
            json_t *def = json_object_get(o->sp->schemes, name);
            if (!def) {
                gw_openapi__warn(c, "degraded", "unknown_security_scheme",
                                 "security scheme '%.100s' is not defined", name);
                continue;
            }
            json_array_append_new(names, json_string(name));
            json_t *e = json_object_get(entries, name);
            if (!e) {
                e = json_copy(def);
                json_object_set_new(entries, name, e);
            }
            if (json_is_array(scopes) && json_array_size(scopes) > 0) {
                json_t *have = json_object_get(e, "scopes");
                if (!have) {
                    have = json_array();
                    json_object_set_new(e, "scopes", have);
                }
                size_t k;
                json_t *s;
                json_array_foreach(scopes, k, s)
                {
                    if (json_is_string(s) && !str_in(have, json_string_value(s)))
                        json_array_append(have, s);
                }
            }
        }
        json_array_append_new(alts, names);
    }
    json_t *list = json_array();
    const char *k;
    json_t *e;
    json_object_foreach(entries, k, e)
    {
        json_array_append(list, e);
    }
    json_object_set_new(binding, "security", list);
    json_object_set_new(binding, "securityRequirements", alts);
    json_decref(entries);
}

static json_t *op_servers(struct opctx *o)
{
    struct gw_openapi__ctx *c = o->c;
    if (c->dialect != OA_SWAGGER2) {
        json_t *s = json_object_get(o->op, "servers");
        if (!json_is_array(s) || !json_array_size(s))
            s = json_object_get(o->pathitem, "servers");
        if (json_is_array(s) && json_array_size(s))
            return resolve_servers(c, s);
    }
    return json_incref(o->sp->servers);
}

static const char *xmcp_str(json_t *x, const char *key)
{
    return jstr(x, key);
}

static void description_of(struct opctx *o, char **out_desc, char *title, size_t title_size)
{
    struct gw_openapi__ctx *c = o->c;
    const char *summary = jstr(o->op, "summary");
    const char *desc = jstr(o->op, "description");
    if (!summary && !desc) {
        summary = jstr(o->pathitem, "summary");
        desc = jstr(o->pathitem, "description");
    }
    const char *xd = xmcp_str(o->xmcp, "description");
    struct gw_buf b;
    gw_buf_init(&b, 1 << 20);
    if (xd) {
        gw_buf_adds(&b, xd);
    } else {
        if (summary && *summary)
            gw_buf_adds(&b, summary);
        if (desc && *desc && (!summary || strncmp(desc, summary, strlen(summary)) != 0)) {
            if (gw_buf_len(&b))
                gw_buf_adds(&b, "\n\n");
            gw_buf_adds(&b, desc);
        } else if (desc && *desc) {
            gw_buf_reset(&b);
            gw_buf_adds(&b, desc);
        }
        if (!gw_buf_len(&b)) {
            for (const char *m = o->method; *m; m++)
                gw_buf_addc(&b, (*m >= 'a' && *m <= 'z') ? (char)(*m - 32) : *m);
            gw_buf_printf(&b, " %s", o->path);
        }
    }
    *out_desc = gw_openapi__trim_text(gw_buf_ptr(&b), c->o->description_max);
    gw_buf_fini(&b);
    title[0] = '\0';
    const char *xt = xmcp_str(o->xmcp, "title");
    const char *t = xt ? xt : summary;
    if (t) {
        size_t n = strcspn(t, "\r\n");
        if (n >= title_size)
            n = title_size - 1;
        while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '.'))
            n--;
        memcpy(title, t, n);
        title[n] = '\0';
    }
}

static bool valid_choice(const char *v, const char *const *set, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        if (!strcmp(v, set[i]))
            return true;
    return false;
}

/* Builds the tool for one operation, or returns NULL (skipped, warning written). */
static json_t *map_operation(struct opctx *o, struct pending *pend)
{
    struct gw_openapi__ctx *c = o->c;
    char why[600] = "";
    char upper[16];
    size_t mi = 0;
    for (; o->method[mi] && mi + 1 < sizeof(upper); mi++)
        upper[mi] = (char)(o->method[mi] - 32 * (o->method[mi] >= 'a' && o->method[mi] <= 'z'));
    upper[mi] = '\0';

    json_t *tool = NULL;
    struct gw_openapi__conv cv;
    gw_openapi__conv_init(&cv, c);
    struct inputs in = {json_object(), json_array(), json_array(), json_object()};
    json_t *form_params = json_array();
    json_t *binding = json_object();
    json_t *body_param = NULL;
    json_t *params = merged_params(o, why, sizeof(why));
    if (!params)
        goto skip;
    if (!map_params(o, &cv, params, &in, &body_param, form_params, why, sizeof(why)))
        goto skip;
    json_object_set_new(binding, "method", json_string(upper));
    json_object_set_new(binding, "path", json_string(o->path));
    json_object_set_new(binding, "servers", op_servers(o));
    json_object_set_new(binding, "upstream", json_string(o->sp->upstream));
    if (!map_body(o, &cv, &in, body_param, form_params, binding, why, sizeof(why)))
        goto skip;
    json_object_set(binding, "args", in.args);
    map_security(o, binding);

    /* input schema */
    json_t *input = json_object();
    json_object_set_new(input, "type", json_string("object"));
    json_object_set(input, "properties", in.props);
    if (json_array_size(in.required))
        json_object_set(input, "required", in.required);
    json_object_set_new(input, "additionalProperties", json_false());
    size_t size = cv.size;
    json_t *defs = gw_openapi__defs(&cv, &size);
    if (defs)
        json_object_set_new(input, "$defs", defs);
    if (cv.failed) {
        json_decref(input);
        snprintf(why, sizeof(why), "%s", cv.problem);
        goto skip;
    }
    if (c->o->limits.max_schema_nodes && size > c->o->limits.max_schema_nodes) {
        json_decref(input);
        snprintf(why, sizeof(why), "input schema of %zu nodes exceeds the limit of %zu", size,
                 c->o->limits.max_schema_nodes);
        goto skip;
    }
    if (cv.degraded)
        gw_openapi__warn(c, "degraded", "invalid_schema_parts",
                         "invalid schema parts were dropped: %s", cv.note);

    tool = json_object();
    char *desc = NULL;
    char title[256];
    description_of(o, &desc, title, sizeof(title));
    json_object_set_new(tool, "name", json_string(""));     /* set by the naming pass */
    json_object_set_new(tool, "title", json_string(title)); /* "" : from the name, later */
    json_object_set_new(tool, "description", json_string(desc));
    gw_free(desc);
    json_object_set_new(tool, "inputSchema", input);
    output_schema(o, tool);
    json_object_set_new(tool, "schemaDialect", json_string("2020-12"));

    bool get_like = !strcmp(o->method, "get") || !strcmp(o->method, "head") ||
                    !strcmp(o->method, "options") || !strcmp(o->method, "trace");
    bool is_delete = !strcmp(o->method, "delete");
    bool idempotent = get_like || is_delete || !strcmp(o->method, "put");
    json_object_set_new(tool, "annotations",
                        json_pack("{s:b,s:b,s:b,s:b}", "readOnlyHint", get_like, "destructiveHint",
                                  is_delete, "idempotentHint", idempotent, "openWorldHint", 1));
    json_object_set_new(tool, "binding", binding);
    binding = NULL;

    /* governance defaults, then x-mcp */
    static const char *const risks[] = {"read", "write", "privileged"};
    static const char *const tiers[] = {"permissive", "standard", "strict"};
    const char *risk = get_like ? "read" : is_delete ? "privileged" : "write";
    const char *xr = xmcp_str(o->xmcp, "risk");
    if (xr && valid_choice(xr, risks, 3))
        risk = xr;
    else if (xr)
        gw_openapi__warn(c, "info", "invalid_x_mcp", "x-mcp risk '%.40s' ignored", xr);
    json_t *xel = json_object_get(o->xmcp, "requiresElevation");
    json_t *xco = json_object_get(o->xmcp, "requiresConfirmation");
    const char *tier = xmcp_str(o->xmcp, "rateLimitTier");
    json_object_set_new(tool, "risk", json_string(risk));
    json_object_set_new(
        tool, "requiresElevation",
        json_boolean(json_is_boolean(xel) ? json_is_true(xel) : !strcmp(risk, "privileged")));
    json_object_set_new(tool, "requiresConfirmation",
                        json_boolean(json_is_boolean(xco) ? json_is_true(xco) : is_delete));
    json_object_set_new(tool, "rateLimitTier",
                        json_string(valid_choice(tier, tiers, 3) ? tier : "standard"));
    json_t *tags = json_array();
    json_t *xtags = json_object_get(o->xmcp, "tags");
    json_t *otags = json_is_array(xtags) ? xtags : json_object_get(o->op, "tags");
    size_t i;
    json_t *t;
    json_array_foreach(otags, i, t)
    {
        if (json_is_string(t))
            json_array_append(tags, t);
    }
    json_object_set_new(tool, "tags", tags);
    bool deprecated = json_is_true(json_object_get(o->op, "deprecated"));
    json_object_set_new(
        tool, "status",
        json_string(deprecated ? "deprecated" : (c->o->status ? c->o->status : "active")));
    const char *bundle = xmcp_str(o->xmcp, "bundle");
    if (!bundle)
        bundle = c->o->bundle;
    json_object_set_new(tool, "bundle", bundle ? json_string(bundle) : json_null());
    json_t *source = json_object();
    json_object_set_new(source, "specId", c->o->spec_id ? json_string(c->o->spec_id) : json_null());
    const char *opid = jstr(o->op, "operationId");
    json_object_set_new(source, "operationId", opid ? json_string(opid) : json_null());
    json_object_set_new(source, "method", json_string(upper));
    json_object_set_new(source, "path", json_string(o->path));
    json_object_set_new(source, "specVersion",
                        o->sp->version ? json_string(o->sp->version) : json_null());
    json_object_set_new(tool, "source", source);

    /* name candidates */
    const char *xname = xmcp_str(o->xmcp, "name");
    pend->version[0] = '\0';
    if (xname && *xname) {
        gw_openapi__snake(xname, pend->base, sizeof(pend->base));
        if (!c->o->snake_case_names || !pend->base[0]) {
            size_t j = 0;
            for (const char *p = xname; *p && j + 1 < sizeof(pend->base); p++)
                pend->base[j++] = ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                                   (*p >= '0' && *p <= '9') || *p == '-')
                                      ? *p
                                      : '_';
            pend->base[j] = '\0';
        }
        pend->explicit_name = true;
    } else if (opid && *opid) {
        if (c->o->snake_case_names) {
            gw_openapi__snake(opid, pend->base, sizeof(pend->base));
        } else {
            size_t j = 0;
            for (const char *p = opid; *p && j + 1 < sizeof(pend->base); p++)
                pend->base[j++] = ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                                   (*p >= '0' && *p <= '9') || *p == '-' || *p == '_')
                                      ? *p
                                      : '_';
            pend->base[j] = '\0';
        }
    }
    if (!pend->base[0]) {
        pend->explicit_name = false;
        const char *verb_hint = jstr(o->op, "summary");
        if (!verb_hint || !*verb_hint)
            verb_hint = jstr(o->op, "description");
        gw_openapi__name_from_path(o->method, o->path, verb_hint, o->sp->prefix_skip, pend->base,
                                   sizeof(pend->base), pend->version, sizeof(pend->version));
    }
    if (!pend->base[0])
        snprintf(pend->base, sizeof(pend->base), "%s_operation", o->method);
    gw_openapi__cap_name(pend->base, sizeof(pend->base));
    goto out;
skip:
    gw_openapi__warn(c, "skipped", "operation_skipped", "%s", why);
out:
    json_decref(params);
    json_decref(binding);
    json_decref(form_params);
    json_decref(in.props);
    json_decref(in.required);
    json_decref(in.args);
    json_decref(in.used);
    gw_openapi__conv_fini(&cv);
    return tool;
}

/* ---------------- naming pass ---------------- */

static void assign_names(struct gw_openapi__ctx *c, struct pending *p, size_t n, json_t *tools)
{
    json_t *taken = json_object();
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            if (!p[i].tool || p[i].explicit_name != (pass == 0))
                continue;
            char name[96];
            snprintf(name, sizeof(name), "%.64s", p[i].base);
            if (json_object_get(taken, name) && p[i].version[0]) {
                snprintf(name, sizeof(name), "%.*s_%s", (int)(64 - 1 - strlen(p[i].version)),
                         p[i].base, p[i].version);
            }
            for (unsigned k = 2; json_object_get(taken, name) && k < 100000; k++) {
                char suffix[16];
                snprintf(suffix, sizeof(suffix), "_%u", k);
                snprintf(name, sizeof(name), "%.*s%s", (int)(64 - strlen(suffix)), p[i].base,
                         suffix);
            }
            if (p[i].explicit_name && strcmp(name, p[i].base) != 0) {
                json_t *src = json_object_get(p[i].tool, "source");
                c->op_label = jstr(src, "path");
                c->op_id = jstr(src, "operationId");
                gw_openapi__warn(c, "degraded", "name_collision",
                                 "x-mcp name '%s' is taken; the tool is named '%s'", p[i].base,
                                 name);
            }
            json_object_set_new(taken, name, json_true());
            json_object_set_new(p[i].tool, "name", json_string(name));
            if (!jstr(p[i].tool, "title") || !jstr(p[i].tool, "title")[0]) {
                char title[128];
                gw_openapi__title_from_name(name, title, sizeof(title));
                json_object_set_new(p[i].tool, "title", json_string(title));
            }
        }
    }
    for (size_t i = 0; i < n; i++)
        if (p[i].tool)
            json_array_append(tools, p[i].tool);
    json_decref(taken);
}

/* ---------------- driver ---------------- */

static json_t *merge_xmcp(json_t *a, json_t *b, json_t *cc)
{
    json_t *m = json_object();
    json_t *parts[3] = {a, b, cc};
    for (int i = 0; i < 3; i++) {
        if (json_is_false(parts[i]))
            json_object_set_new(m, "exclude", json_true());
        else if (json_is_object(parts[i]))
            json_object_update(m, parts[i]);
    }
    return m;
}

int gw_openapi__map(struct gw_openapi__ctx *c, struct gw_openapi_result *r)
{
    struct spec sp;
    spec_init(c, &sp);
    json_t *paths = json_object_get(sp.root, "paths");
    int rc = GW_OK;
    /* pass 1: count operations */
    size_t total = 0;
    const char *path;
    json_t *item;
    json_object_foreach(paths, path, item)
    {
        struct gw_openapi__doc *d = sp.doc;
        char why[300];
        json_t *pi = gw_openapi__deref(c, item, &d, why, sizeof(why));
        for (size_t m = 0; json_is_object(pi) && m < sizeof(METHODS) / sizeof(METHODS[0]); m++)
            total += json_object_get(pi, METHODS[m]) ? 1 : 0;
    }
    if (c->o->limits.max_operations && total > c->o->limits.max_operations) {
        spec_fini(&sp);
        return GW_ERROR_SET(c->err, GW_ELIMIT,
                            "the spec has %zu operations, more than the "
                            "limit of %zu",
                            total, c->o->limits.max_operations);
    }
    struct pending *pend = gw_xcalloc(total ? total : 1, sizeof(*pend));
    size_t n = 0, done = 0;
    size_t every = c->o->progress_every ? c->o->progress_every : 100;
    char label[LABEL_MAX];
    json_object_foreach(paths, path, item)
    {
        if (c->fatal != GW_OK)
            break;
        struct opctx o;
        memset(&o, 0, sizeof(o));
        o.c = c;
        o.sp = &sp;
        o.path = path;
        o.path_doc = sp.doc;
        char why[400] = "";
        o.pathitem = gw_openapi__deref(c, item, &o.path_doc, why, sizeof(why));
        if (!json_is_object(o.pathitem)) {
            snprintf(label, sizeof(label), "%.500s", path);
            c->op_label = label;
            c->op_id = NULL;
            if (o.pathitem || why[0]) { /* counts as one lost operation */
                gw_openapi__warn(c, "skipped", "path_item_unresolved", "path item: %s",
                                 why[0] ? why : "not an object");
                r->operations++;
                r->skipped++;
            }
            continue;
        }
        const char *key;
        json_t *opnode;
        json_object_foreach(o.pathitem, key, opnode)
        {
            bool is_method = false;
            for (size_t m = 0; m < sizeof(METHODS) / sizeof(METHODS[0]); m++)
                is_method = is_method || !strcmp(key, METHODS[m]);
            if (!is_method || c->fatal != GW_OK)
                continue;
            r->operations++;
            done++;
            char up[16];
            size_t k = 0;
            for (; key[k] && k + 1 < sizeof(up); k++)
                up[k] = (char)(key[k] - 32);
            up[k] = '\0';
            snprintf(label, sizeof(label), "%s %.500s", up, path);
            c->op_label = label;
            c->op_id = NULL;
            o.method = key;
            o.op_doc = o.path_doc;
            o.op = gw_openapi__deref(c, opnode, &o.op_doc, why, sizeof(why));
            if (!json_is_object(o.op)) {
                gw_openapi__warn(c, "skipped", "operation_unresolved", "operation: %s",
                                 o.op ? "not an object" : why);
                r->skipped++;
                continue;
            }
            c->op_id = jstr(o.op, "operationId");
            o.xmcp = merge_xmcp(sp.xmcp, json_object_get(o.pathitem, "x-mcp"),
                                json_object_get(o.op, "x-mcp"));
            if (json_is_true(json_object_get(o.xmcp, "exclude"))) {
                gw_openapi__warn(c, "info", "excluded", "excluded by x-mcp");
                r->excluded++;
            } else if (!c->o->include_head_options_trace &&
                       (!strcmp(key, "head") || !strcmp(key, "options") || !strcmp(key, "trace"))) {
                gw_openapi__warn(c, "info", "excluded", "%s operations are not imported by default",
                                 up);
                r->excluded++;
            } else {
                size_t before = json_array_size(c->warnings);
                json_t *tool = map_operation(&o, &pend[n]);
                if (tool) {
                    pend[n++].tool = tool;
                    for (size_t w = before; w < json_array_size(c->warnings); w++) {
                        const char *lvl = jstr(json_array_get(c->warnings, w), "level");
                        if (lvl && !strcmp(lvl, "degraded")) {
                            r->degraded++;
                            break;
                        }
                    }
                } else {
                    r->skipped++;
                }
            }
            json_decref(o.xmcp);
            if (c->o->progress && done % every == 0)
                c->o->progress(done, total, c->o->progress_ud);
        }
    }
    c->op_label = NULL;
    c->op_id = NULL;
    if (c->fatal != GW_OK) {
        rc = c->fatal;
    } else {
        assign_names(c, pend, n, r->tools);
        r->tools_count = json_array_size(r->tools);
        if (c->o->progress)
            c->o->progress(total, total, c->o->progress_ud);
    }
    for (size_t i = 0; i < n; i++)
        json_decref(pend[i].tool);
    gw_free(pend);
    /* spec info */
    json_t *info = json_object_get(sp.root, "info");
    json_t *spec = json_object();
    json_object_set_new(spec, "title",
                        jstr(info, "title") ? json_string(jstr(info, "title")) : json_null());
    json_object_set_new(spec, "version", sp.version ? json_string(sp.version) : json_null());
    json_object_set_new(spec, "dialect", json_string(r->dialect));
    json_t *sv = json_object_get(sp.root, c->dialect == OA_SWAGGER2 ? "swagger" : "openapi");
    if (json_is_number(sv)) {
        char b[32];
        snprintf(b, sizeof(b), "%.1f", json_number_value(sv));
        json_object_set_new(spec, "specVersion", json_string(b));
    } else {
        json_object_set(spec, "specVersion", sv ? sv : json_null());
    }
    const char *d = jstr(info, "description");
    if (d) {
        char *t = gw_openapi__trim_text(d, c->o->description_max);
        json_object_set_new(spec, "description", json_string(t));
        gw_free(t);
    }
    json_object_set(spec, "servers", sp.servers);
    json_object_set_new(spec, "upstream", json_string(sp.upstream));
    r->spec = spec;
    spec_fini(&sp);
    return rc;
}
