/*
 * src/openapi/openapi_spec.c
 * Spec-wide facts of an import, computed once: security schemes (and which parameters they
 * fill), servers, upstream name, version, the common path prefix used by names; and the
 * per-operation security binding built from them.
 *
 * Owns: securitySchemes / securityDefinitions -> binding.security entries (apiKey, http,
 * Swagger basic, oauth2 with the preferred flow, openIdConnect, mutualTLS), the credential
 * parameter maps (header/query/cookie names a scheme fills, and the scheme behind
 * "Authorization"), servers (3.x variables defaulted, relative URLs against the spec URL;
 * Swagger 2 schemes + host + basePath), binding.securityRequirements (OR of ANDs).
 * Invariants: everything here is read-only once gw_openapi__spec_init returns.
 * Not here: parameters and bodies (openapi_args.c), the tool itself (openapi_map.c).
 */
#include "openapi/openapi_internal.h"

#include "core/alloc.h"

#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/* ASCII lower-case copy (header names compare case-insensitively). */
static void lower_copy(const char *in, char *out, size_t size)
{
    size_t j = 0;
    for (; in[j] && j + 1 < size; j++)
        out[j] = (in[j] >= 'A' && in[j] <= 'Z') ? (char)(in[j] + 32) : in[j];
    out[j] = '\0';
}

/* One security scheme definition into its binding.security entry, and the parameters it
 * fills into the credential maps. */
static void add_scheme_entry(struct gw_openapi__spec *sp, const char *name, json_t *def,
                             bool swagger)
{
    const char *type = gw_openapi__jstr(def, "type");
    if (!type)
        return;
    json_t *e = json_object();
    json_object_set_new(e, "scheme", json_string(name));
    if (!strcmp(type, "apiKey")) {
        const char *in = gw_openapi__jstr(def, "in"), *pname = gw_openapi__jstr(def, "name");
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
            lower_copy(gw_openapi__jstr(def, "scheme") ? gw_openapi__jstr(def, "scheme") : "bearer",
                       sch, sizeof(sch));
        json_object_set_new(e, "type", json_string("http"));
        json_object_set_new(e, "httpScheme", json_string(sch));
        if (gw_openapi__jstr(def, "bearerFormat"))
            json_object_set_new(e, "bearerFormat",
                                json_string(gw_openapi__jstr(def, "bearerFormat")));
        if (!sp->auth_scheme)
            sp->auth_scheme = name;
    } else if (!strcmp(type, "oauth2")) {
        json_object_set_new(e, "type", json_string("oauth2"));
        if (swagger) {
            const char *flow = gw_openapi__jstr(def, "flow");
            const char *mapped = !flow                          ? NULL
                                 : !strcmp(flow, "application") ? "clientCredentials"
                                 : !strcmp(flow, "accessCode")  ? "authorizationCode"
                                                                : flow;
            if (mapped)
                json_object_set_new(e, "flow", json_string(mapped));
            if (gw_openapi__jstr(def, "tokenUrl"))
                json_object_set_new(e, "tokenUrl", json_string(gw_openapi__jstr(def, "tokenUrl")));
            if (gw_openapi__jstr(def, "authorizationUrl"))
                json_object_set_new(e, "authorizationUrl",
                                    json_string(gw_openapi__jstr(def, "authorizationUrl")));
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
                    if (gw_openapi__jstr(f, urls[u]))
                        json_object_set_new(e, urls[u], json_string(gw_openapi__jstr(f, urls[u])));
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
        if (gw_openapi__jstr(def, "openIdConnectUrl"))
            json_object_set_new(e, "openIdConnectUrl",
                                json_string(gw_openapi__jstr(def, "openIdConnectUrl")));
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
    const char *url = gw_openapi__jstr(server, "url");
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
            const char *dflt = gw_openapi__jstr(json_object_get(vars, var), "default");
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

/* http(s)://... */
static bool is_absolute_url(const char *u)
{
    return strncasecmp(u, "http://", 7) == 0 || strncasecmp(u, "https://", 8) == 0;
}

/* Resolves a list of 3.x servers (array of objects) into strings. */
json_t *gw_openapi__servers(struct gw_openapi__ctx *c, json_t *servers)
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

/* Swagger 2 servers: schemes (https first) x host + basePath, defaults from the spec URL. */
static json_t *swagger_servers(struct gw_openapi__ctx *c, json_t *root)
{
    json_t *out = json_array();
    const char *host = gw_openapi__jstr(root, "host");
    const char *base = gw_openapi__jstr(root, "basePath");
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

/* "Service Booking API" -> "service-booking-api": [a-z0-9._-], at most 64 characters. */
static void slug(const char *in, size_t n, char *out, size_t size)
{
    size_t o = 0;
    bool dash = false;
    for (size_t i = 0; i < n && in[i] && o + 1 < size && o < 64; i++) {
        char ch = in[i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_') {
            out[o++] = ch;
            dash = false;
        } else if (o > 0 && !dash) {
            out[o++] = '-';
            dash = true;
        }
    }
    while (o > 0 && (out[o - 1] == '-' || out[o - 1] == '.'))
        o--;
    out[o] = '\0';
}

/* File names that say nothing about the API ("openapi.json"): the server names it better. */
static bool generic_stem(const char *s)
{
    static const char *const generic[] = {"openapi", "swagger", "api",  "apis",     "spec",
                                          "index",   "schema",  "docs", "api-docs", "v1",
                                          "v2",      "v3",      "definition", "service", NULL};
    for (const char *const *g = generic; *g; g++)
        if (!strcmp(s, *g))
            return true;
    return false;
}

/* The spec's identity in the registry when the caller gives none: the title's slug; for an
 * empty title the file name (without folders and extension) unless it is generic, else the
 * first server's host and path, else the file name anyway, else "spec-" + a hash of the paths. */
static void derive_spec_id(struct gw_openapi__ctx *c, struct gw_openapi__spec *sp,
                           const char *title)
{
    char *out = sp->spec_id;
    size_t size = sizeof(sp->spec_id);
    out[0] = '\0';
    if (c->o->spec_id) {
        snprintf(out, size, "%.64s", c->o->spec_id);
        return;
    }
    if (title)
        slug(title, strlen(title), out, size);
    if (out[0])
        return;
    char stem[72] = "";
    const struct gw_openapi__doc *d = c->docs[0];
    if (d->kind != OA_DOC_MEMORY || (d->uri && d->uri[0])) {
        const char *u = d->uri ? d->uri : "";
        size_t end = strcspn(u, "?#");
        size_t start = end;
        while (start > 0 && u[start - 1] != '/')
            start--;
        size_t dot = end;
        while (dot > start && u[dot - 1] != '.')
            dot--;
        size_t n = dot > start ? dot - 1 - start : end - start;
        slug(u + start, n, stem, sizeof(stem));
    }
    if (stem[0] && !generic_stem(stem)) {
        snprintf(out, size, "%s", stem);
        return;
    }
    const char *server = json_string_value(json_array_get(sp->servers, 0));
    const char *host = server ? strstr(server, "://") : NULL;
    if (host)
        slug(host + 3, strlen(host + 3), out, size);
    if (out[0])
        return;
    if (stem[0]) {
        snprintf(out, size, "%s", stem);
        return;
    }
    uint32_t h = 2166136261u;
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(sp->root, "paths"), k, v)
    {
        for (const char *p = k; *p; p++)
            h = (h ^ (unsigned char)*p) * 16777619u;
        (void)v;
    }
    snprintf(out, size, "spec-%08x", (unsigned)h);
}

void gw_openapi__spec_init(struct gw_openapi__ctx *c, struct gw_openapi__spec *sp)
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
    sp->servers = swagger ? swagger_servers(c, root)
                          : gw_openapi__servers(c, json_object_get(root, "servers"));
    if (!swagger && json_array_size(sp->servers) == 0) {
        json_t *rootdflt = json_pack("[{s:s}]", "url", "/");
        json_decref(sp->servers);
        sp->servers = gw_openapi__servers(c, rootdflt);
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
    const char *title = gw_openapi__jstr(info, "title");
    derive_spec_id(c, sp, title);
    if (c->o->upstream)
        snprintf(sp->upstream, sizeof(sp->upstream), "%s", c->o->upstream);
    else
        gw_openapi__snake(title && *title ? title : sp->spec_id, sp->upstream,
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
        for (size_t m = 0; json_is_object(pi) && m < GW_OPENAPI__NMETHODS; m++) {
            json_t *op = json_object_get(pi, gw_openapi__methods[m]);
            if (op && !gw_openapi__jstr(op, "operationId") && !json_object_get(op, "$ref")) {
                json_object_set(unnamed, pk, pv);
                break;
            }
        }
    }
    sp->prefix_skip = gw_openapi__common_prefix(unnamed);
    json_decref(unnamed);
}

void gw_openapi__spec_fini(struct gw_openapi__spec *sp)
{
    json_decref(sp->servers);
    json_decref(sp->schemes);
    json_decref(sp->cred_header);
    json_decref(sp->cred_query);
    json_decref(sp->cred_cookie);
}

const char *gw_openapi__credential_scheme(struct gw_openapi__spec *sp, const char *in,
                                          const char *name, bool *is_cred)
{
    *is_cred = false;
    if (!strcmp(in, "header")) {
        char low[256];
        lower_copy(name, low, sizeof(low));
        const char *s = gw_openapi__jstr(sp->cred_header, low);
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
    const char *s = map ? gw_openapi__jstr(map, name) : NULL;
    *is_cred = s ? true : false;
    return s;
}

/* binding.security and binding.securityRequirements from the requirement list in effect. */
void gw_openapi__security_binding(struct gw_openapi__op *o, json_t *binding)
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
                    if (json_is_string(s) && !gw_openapi__str_in(have, json_string_value(s)))
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
