/*
 * src/openapi/openapi_map.c
 * Operations into tool definitions (docs/tool-model.md): the driver of an import.
 *
 * Owns: walking paths and operations in document order (path items and operations may be
 * $refs, also into other files), the per-operation decisions (x-mcp merged root < path item <
 * operation, exclusion, HEAD/OPTIONS/TRACE only on request), assembling each tool (input schema
 * root, output schema from the first 2xx JSON response with an object root, description and
 * title, annotations and governance defaults, source), counting and warnings, progress calls,
 * and the naming pass (explicit names first, deterministic suffixes).
 * Three passes: count; decide in document order what is mapped (a job) and what is skipped or
 * excluded; map the jobs, on two threads for a large spec (each half with its own context: the
 * documents shared read-only, its own memo caches and warnings; jansson's reference counts are
 * atomic), then merge the warnings back into document order. A spec that needs a document not
 * loaded yet, or a thread that fails, is mapped again on one thread: the result is always the
 * one-thread result (tests/unit/openapi/test_openapi.c compares them).
 * Invariants: every tool's inputSchema has a root {"type":"object"}; names are unique,
 * [A-Za-z0-9_-], at most 64 characters; an operation is either a tool or a "skipped" /
 * "excluded" entry in the warnings, never silently lost.
 * Not here: parameters and bodies (openapi_args.c), spec-wide facts and security
 * (openapi_spec.c), schema conversion (openapi_schema.c), $ref loading (openapi_doc.c).
 */
#include "openapi/openapi_internal.h"

#include "core/alloc.h"
#include "core/json_heap.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define LABEL_MAX 600

const char *const gw_openapi__methods[GW_OPENAPI__NMETHODS] = {"get",     "put",  "post",  "delete",
                                                               "options", "head", "patch", "trace"};

/* One operation waiting for its name. */
struct pending {
    json_t *tool;
    char base[160];
    char version[24];
    bool explicit_name;
};

/* ---------------- one operation ---------------- */

/* The schema of the first 2xx JSON response, or NULL. */
static json_t *success_schema(struct gw_openapi__op *o, struct gw_openapi__doc **docp, char *why,
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
                gw_openapi__swagger_media(produces, &any_json);
            if (any_json)
                schema = json_object_get(r, "schema");
        } else {
            json_t *media = NULL;
            json_t *content = json_object_get(r, "content");
            if (json_is_object(content) && gw_openapi__best_media(content, true, &media))
                schema = json_object_get(media, "schema");
        }
        if (schema) {
            *docp = d;
            return schema;
        }
    }
    return NULL;
}


/* Fits a tool schema to its size budget (docs/openapi-import.md "Size budgets"): the root is
 * pruned by nesting depth when it alone exceeds the budget, then the $defs closure of what it
 * still references is added within the rest of the budget. Returns the final schema (new
 * reference) and its size in nodes; *out_cut receives the number of subschemas and
 * definitions left out (0 when the schema is whole). */
static json_t *fit_schema(struct gw_openapi__conv *cv, json_t *root, size_t budget,
                          size_t *out_size, size_t *out_cut)
{
    size_t root_size = 0, cut = 0, stubs = 0;
    json_t *pruned = gw_openapi__prune(cv->c, root, budget, &root_size, &cut);
    if (cut)
        gw_openapi__deps_from(cv, pruned);
    size_t rest = !budget ? 0 : budget > root_size + budget / 8 ? budget - root_size : budget / 8;
    size_t dsize = 0;
    json_t *defs = gw_openapi__defs(cv, &dsize, rest, &stubs);
    if (defs) {
        if (pruned == root) { /* never modify the caller's (possibly shared) root */
            json_decref(pruned);
            pruned = json_copy(root);
        }
        json_object_set_new(pruned, "$defs", defs);
    }
    *out_size = root_size + dsize;
    *out_cut = cut + stubs;
    return pruned;
}

/* Sets the tool's outputSchema from the success schema when its root is an object. Returns
 * false when something was lost (warning written). */
static bool output_schema(struct gw_openapi__op *o, json_t *tool)
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
    bool object = gw_openapi__type_is(root, "object");
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
                    all = all &&
                          (gw_openapi__type_is(x, "object") || json_object_get(x, "properties"));
                    json_decref(x);
                }
                object = all;
            }
        }
    }
    bool ok = true;
    size_t size = 0, cut = 0;
    json_t *fitted = NULL;
    if (object && !cv.failed) {
        json_object_set_new(root, "type", json_string("object"));
        fitted = fit_schema(&cv, root, c->o->output_schema_budget, &size, &cut);
    }
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
        if (cut)
            gw_openapi__warn(c, "info", "output_schema_abbreviated",
                             "output schema abbreviated to its budget of %zu JSON values: %zu "
                             "nested part(s) not expanded",
                             c->o->output_schema_budget, cut);
        json_object_set(tool, "outputSchema", fitted);
    }
    json_decref(fitted);
    json_decref(root);
    gw_openapi__conv_fini(&cv);
    return ok;
}

/* Servers of the operation: operation > path item > root (3.x); the root list for Swagger 2. */
static json_t *op_servers(struct gw_openapi__op *o)
{
    struct gw_openapi__ctx *c = o->c;
    if (c->dialect != OA_SWAGGER2) {
        json_t *s = json_object_get(o->op, "servers");
        if (!json_is_array(s) || !json_array_size(s))
            s = json_object_get(o->pathitem, "servers");
        if (json_is_array(s) && json_array_size(s))
            return gw_openapi__servers(c, s);
    }
    return json_incref(o->sp->servers);
}

/* A string member of the merged x-mcp object, or NULL. */
static const char *xmcp_str(json_t *x, const char *key)
{
    return gw_openapi__jstr(x, key);
}

/* Tool description (x-mcp, else summary + description, else "METHOD /path"), trimmed, and
 * title (x-mcp, else the first line of the summary; "" = derive from the name later). */
static void description_of(struct gw_openapi__op *o, char **out_desc, char *title,
                           size_t title_size)
{
    struct gw_openapi__ctx *c = o->c;
    const char *summary = gw_openapi__jstr(o->op, "summary");
    const char *desc = gw_openapi__jstr(o->op, "description");
    if (!summary && !desc) {
        summary = gw_openapi__jstr(o->pathitem, "summary");
        desc = gw_openapi__jstr(o->pathitem, "description");
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

/* Whether v is one of the n strings of set. */
static bool valid_choice(const char *v, const char *const *set, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        if (!strcmp(v, set[i]))
            return true;
    return false;
}


/* ---------------- path templates ---------------- */

/* The path argument entry for template variable name[0..n), or NULL. */
static json_t *path_entry(json_t *args, const char *name, size_t n)
{
    size_t i;
    json_t *e;
    json_array_foreach(args, i, e)
    {
        const char *in = gw_openapi__jstr(e, "in"), *wire = gw_openapi__jstr(e, "name");
        if (in && !strcmp(in, "path") && wire && strlen(wire) == n && !memcmp(wire, name, n))
            return e;
    }
    return NULL;
}

/* An argument for a template variable the spec does not declare: a required string (the
 * operation could not be called without it). Inserted after the other path arguments. */
static json_t *undeclared_path_arg(struct gw_openapi__op *o, struct gw_openapi__inputs *in,
                                   const char *name)
{
    char argname[80];
    gw_openapi__unique_arg(in, name, "path", argname, sizeof(argname));
    json_t *e = json_pack("{s:s,s:s,s:s,s:b,s:s,s:b}", "arg", argname, "in", "path", "name", name,
                          "required", 1, "style", "simple", "explode", 0);
    size_t at = 0;
    while (at < json_array_size(in->args) &&
           !strcmp(gw_openapi__jstr(json_array_get(in->args, at), "in"), "path"))
        at++;
    json_array_insert_new(in->args, at, e);
    json_object_set_new(in->props, argname,
                        json_pack("{s:s,s:s}", "type", "string", "description",
                                  "Path parameter (not declared in the spec)."));
    json_array_append_new(in->required, json_string(argname));
    gw_openapi__warn(o->c, "degraded", "path_parameter_undeclared",
                     "path template variable {%.100s} has no parameter in the spec; added as a "
                     "required string argument '%s'",
                     name, argname);
    return e;
}

/* Rewrites the operation's path template into the plain {name} form the executor expands and
 * records what RFC 6570 operators meant on the argument entries (real specs use them, e.g.
 * Google's "/v1/{+name}:cancel"): {+x} and {#x} reserved expansion -> allowReserved ("/" kept),
 * {.x} label style, {;x} matrix style, {/x} a "/" then x, {x*} explode, {x:3} prefix (not
 * applied: degraded), {?x}/{&x} form-style query parameters (moved to the query), {x,y} lists.
 * Template variables without a declared parameter get a required string argument (degraded).
 * false (why filled) when the template is malformed. */
static bool normalize_path(struct gw_openapi__op *o, struct gw_openapi__inputs *in,
                           json_t *binding, char *why, size_t why_size)
{
    struct gw_openapi__ctx *c = o->c;
    const char *path = o->path;
    if (!strchr(path, '{') && !strchr(path, '}'))
        return true;
    struct gw_buf b;
    gw_buf_init(&b, 16384);
    bool changed = false, ok = true;
    for (const char *p = path; *p && ok;) {
        if (*p == '}') {
            snprintf(why, why_size, "malformed path template: unmatched '}'");
            ok = false;
            break;
        }
        if (*p != '{') {
            gw_buf_addc(&b, *p++);
            continue;
        }
        const char *close = strchr(p + 1, '}');
        const char *reopen = strchr(p + 1, '{');
        if (!close || close == p + 1 || (reopen && reopen < close)) {
            snprintf(why, why_size, "malformed path template: unclosed or empty '{'");
            ok = false;
            break;
        }
        const char *q = p + 1;
        char op = 0;
        if (strchr("+#./;?&", *q)) {
            op = *q++;
            changed = true;
        }
        bool first = true;
        while (q < close && ok) {
            const char *end = q;
            while (end < close && *end != ',')
                end++;
            const char *ve = end;
            bool explode = false;
            const char *colon = memchr(q, ':', (size_t)(end - q));
            if (colon) {
                ve = colon;
                changed = true;
                gw_openapi__warn(c, "degraded", "path_template_prefix",
                                 "path template {%.*s}: the prefix modifier is not applied "
                                 "(the whole value is sent)",
                                 (int)(close - p - 1), p + 1);
            }
            if (ve > q && ve[-1] == '*') {
                explode = true;
                ve--;
                changed = true;
            }
            size_t vn = (size_t)(ve - q);
            if (vn == 0) {
                snprintf(why, why_size, "malformed path template: empty variable in '%.*s'",
                         (int)(close - p + 1), p);
                ok = false;
                break;
            }
            if (!first || end < close)
                changed = true;
            char name[256];
            snprintf(name, sizeof(name), "%.*s", (int)(vn < 255 ? vn : 255), q);
            json_t *e = path_entry(in->args, name, strlen(name));
            if (!e)
                e = undeclared_path_arg(o, in, name);
            if (explode)
                json_object_set_new(e, "explode", json_true());
            if (op == '?' || op == '&') {
                /* a query expansion written into the path: the variable is a query parameter */
                json_object_set_new(e, "in", json_string("query"));
                json_object_set_new(e, "style", json_string("form"));
                json_object_set_new(e, "explode", json_boolean(explode));
            } else {
                if (op == '+' || op == '#')
                    json_object_set_new(e, "allowReserved", json_true());
                else if (op == '.')
                    json_object_set_new(e, "style", json_string("label"));
                else if (op == ';')
                    json_object_set_new(e, "style", json_string("matrix"));
                if (op == '/')
                    gw_buf_addc(&b, '/');
                else if (!first && (op == 0 || op == '+' || op == '#'))
                    gw_buf_addc(&b, ',');
                gw_buf_printf(&b, "{%s}", name);
            }
            first = false;
            q = end < close ? end + 1 : close;
        }
        p = close + 1;
    }
    if (ok && changed) {
        gw_openapi__warn(c, "info", "path_template_operator",
                         "path template %.300s is sent as %.300s (RFC 6570 operators mapped to "
                         "argument styles)",
                         path, gw_buf_ptr(&b));
        json_object_set_new(binding, "path", json_stringn(gw_buf_ptr(&b), gw_buf_len(&b)));
    }
    gw_buf_fini(&b);
    return ok;
}

/* Builds the tool for one operation, or returns NULL (skipped, warning written). */
static json_t *map_operation(struct gw_openapi__op *o, struct pending *pend)
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
    struct gw_openapi__inputs in = {json_object(), json_array(), json_array(), json_object()};
    json_t *binding = json_object();
    json_object_set_new(binding, "method", json_string(upper));
    json_object_set_new(binding, "path", json_string(o->path));
    json_object_set_new(binding, "servers", op_servers(o));
    json_object_set_new(binding, "upstream", json_string(o->sp->upstream));
    if (!gw_openapi__inputs(o, &cv, &in, binding, why, sizeof(why)) ||
        !normalize_path(o, &in, binding, why, sizeof(why)))
        goto skip;
    json_object_set(binding, "args", in.args);
    gw_openapi__security_binding(o, binding);

    /* input schema */
    json_t *input = json_object();
    json_object_set_new(input, "type", json_string("object"));
    json_object_set(input, "properties", in.props);
    if (json_array_size(in.required))
        json_object_set(input, "required", in.required);
    json_object_set_new(input, "additionalProperties", json_false());
    size_t size = 0, cut = 0;
    json_t *fitted =
        cv.failed ? NULL : fit_schema(&cv, input, c->o->input_schema_budget, &size, &cut);
    json_decref(input);
    input = fitted;
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
    if (cut)
        gw_openapi__warn(c, "degraded", "input_schema_abbreviated",
                         "input schema abbreviated to its budget of %zu JSON values: %zu nested "
                         "part(s) not expanded (accepted as they come; the upstream validates "
                         "them)",
                         c->o->input_schema_budget, cut);
    if (cv.degraded)
        gw_openapi__warn(c, "degraded", "invalid_schema_parts",
                         "invalid schema parts were dropped: %s", cv.note);

    tool = json_object();
    char *desc = NULL;
    char title[256];
    description_of(o, &desc, title, sizeof(title));
    json_object_set_new(tool, "name", json_string(""));     /* set by the naming pass */
    json_object_set_new(tool, "title", json_string(title)); /* "" : from the name, later */
    /* the idempotency header is not an argument (openapi_args.c): say how retries are made
     * safe instead */
    bool idem = false;
    size_t ai;
    json_t *ae;
    json_array_foreach(in.args, ai, ae)
    {
        const char *src = gw_openapi__jstr(ae, "source");
        idem = idem || (src && !strcmp(src, "idempotency"));
    }
    if (idem) {
        size_t dl = strlen(desc);
        char *more = gw_xmalloc(dl + 200);
        snprintf(more, dl + 200, "%s%sRetries are safe when the call carries "
                 "_meta.idempotencyKey (a unique string per attempt).", desc, dl ? "\n\n" : "");
        gw_free(desc);
        desc = more;
    }
    json_object_set_new(tool, "description", json_string(desc));
    gw_free(desc);
    json_object_set_new(tool, "inputSchema", input);
    output_schema(o, tool);
    json_object_set_new(tool, "schemaDialect", json_string("2020-12"));

    bool get_like = !strcmp(o->method, "get") || !strcmp(o->method, "head") ||
                    !strcmp(o->method, "options") || !strcmp(o->method, "trace");
    bool is_delete = !strcmp(o->method, "delete");
    bool idempotent = get_like || is_delete || !strcmp(o->method, "put");
    /* only what differs from MCP's defaults (readOnlyHint false, destructiveHint true,
     * idempotentHint false, openWorldHint true), and the write hints only for tools that write
     * (MCP ignores them on read-only tools): every listed tool costs an agent these bytes.
     * A DELETE says destructiveHint explicitly, for the confirmation prompts of clients. */
    json_t *ann = json_object();
    if (get_like) {
        json_object_set_new(ann, "readOnlyHint", json_true());
    } else {
        json_object_set_new(ann, "destructiveHint", json_boolean(is_delete));
        if (idempotent)
            json_object_set_new(ann, "idempotentHint", json_true());
    }
    json_object_set_new(tool, "annotations", ann);
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
    json_object_set_new(source, "specId", json_string(o->sp->spec_id));
    const char *opid = gw_openapi__jstr(o->op, "operationId");
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
        const char *verb_hint = gw_openapi__jstr(o->op, "summary");
        if (!verb_hint || !*verb_hint)
            verb_hint = gw_openapi__jstr(o->op, "description");
        gw_openapi__name_from_path(o->method, o->path, verb_hint, o->sp->prefix_skip, pend->base,
                                   sizeof(pend->base), pend->version, sizeof(pend->version));
    }
    if (!pend->base[0])
        snprintf(pend->base, sizeof(pend->base), "%s_operation", o->method);
    /* naming across specs: the import's prefix (GW_OPENAPI_NAME_PREFIX / --prefix) */
    const char *mode = c->o->name_prefix_mode;
    const char *pfx_src = c->o->name_prefix                    ? c->o->name_prefix
                          : mode && !strcmp(mode, "spec")     ? o->sp->spec_id
                          : mode && !strcmp(mode, "bundle")   ? (bundle ? bundle : o->sp->spec_id)
                                                              : NULL;
    if (pfx_src && *pfx_src) {
        char pfx[72], joined[sizeof(pend->base) + sizeof(pfx) + 2];
        gw_openapi__snake(pfx_src, pfx, sizeof(pfx));
        size_t pl = strlen(pfx);
        if (pl && !(strncmp(pend->base, pfx, pl) == 0 && pend->base[pl] == '_')) {
            snprintf(joined, sizeof(joined), "%s_%s", pfx, pend->base);
            memcpy(pend->base, joined, sizeof(pend->base) - 1);
            pend->base[sizeof(pend->base) - 1] = '\0';
        }
    }
    gw_openapi__cap_name(pend->base, sizeof(pend->base));
    goto out;
skip:
    gw_openapi__warn(c, "skipped", "operation_skipped", "%s", why);
out:
    json_decref(binding);
    json_decref(in.props);
    json_decref(in.required);
    json_decref(in.args);
    json_decref(in.used);
    gw_openapi__conv_fini(&cv);
    return tool;
}

/* ---------------- naming pass ---------------- */

/* The naming pass: explicit (x-mcp) names first, then the others, each made unique with the
 * dropped version segment, then _2, _3... in spec order; appends the tools to `tools`. */
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
                c->op_label = gw_openapi__jstr(src, "path");
                c->op_id = gw_openapi__jstr(src, "operationId");
                gw_openapi__warn(c, "degraded", "name_collision",
                                 "x-mcp name '%s' is taken; the tool is named '%s'", p[i].base,
                                 name);
            }
            json_object_set_new(taken, name, json_true());
            json_object_set_new(p[i].tool, "name", json_string(name));
            if (!gw_openapi__jstr(p[i].tool, "title") || !gw_openapi__jstr(p[i].tool, "title")[0]) {
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

/* "GET /users/{}": an operation's identity, path parameter names left out and RFC 6570
 * operators ignored (the store matches re-imports the same way). */
static void op_identity(const char *method, const char *path, char *out, size_t size)
{
    size_t o = (size_t)snprintf(out, size, "%s ", method);
    bool in_param = false;
    for (size_t i = 0; path[i] && o + 1 < size; i++) {
        if (in_param && path[i] != '}')
            continue;
        in_param = path[i] == '{';
        out[o++] = path[i];
    }
    out[o < size ? o : size - 1] = '\0';
}

/* Merges root, path-item and operation x-mcp (later wins); `false` at any level excludes. */
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

/* ---------------- mapping the operations, on one thread or two ---------------- */

/* One operation to map, decided in document order before any is mapped. */
struct job {
    struct gw_openapi__op o;
    char label[LABEL_MAX];
    size_t wpos;       /* decision warnings (import context) that come before this job's */
    size_t wfrom, wto; /* this job's warnings in its mapper's array */
    unsigned mapper;
};

/* A thread's share of the jobs, with its own context: the documents are shared read-only,
 * the memo caches (converted and pruned schemas) and warnings are its own. */
struct mapper {
    struct gw_openapi__ctx *c;
    struct gw_openapi__ctx own;
    struct gw_error err;
    struct job *jobs;
    struct pending *pend;
    size_t from, to;
    size_t skipped, degraded;
    atomic_size_t *done;
    size_t progress_base, progress_total; /* mapper 0 reports progress (the calling thread) */
    struct gw_json_heap *heap;            /* the caller's bulk JSON heap, or NULL */
};

static void mapper_ctx_init(struct mapper *m, const struct gw_openapi__ctx *c)
{
    struct gw_openapi__ctx *w = &m->own;
    memset(w, 0, sizeof(*w));
    gw_error_clear(&m->err);
    w->o = c->o;
    w->err = &m->err;
    w->dialect = c->dialect;
    w->docs = c->docs;
    w->ndocs = c->ndocs;
    w->doc_index = c->doc_index;
    w->total_bytes = c->total_bytes;
    w->file_root = c->file_root;
    w->def_names = json_object();
    w->warnings = json_array();
    w->docs_frozen = true;
    m->c = w;
}

static void mapper_ctx_fini(struct mapper *m)
{
    gw_openapi__forms_fini(&m->own);
    json_decref(m->own.def_names);
    json_decref(m->own.warnings);
    memset(&m->own, 0, sizeof(m->own));
}

static void *mapper_run(void *arg)
{
    struct mapper *m = arg;
    struct gw_openapi__ctx *c = m->c;
    size_t every = c->o->progress_every ? c->o->progress_every : 100;
    for (size_t j = m->from; j < m->to && c->fatal == GW_OK; j++) {
        struct job *jb = &m->jobs[j];
        struct gw_openapi__op o = jb->o;
        o.c = c;
        c->op_label = jb->label;
        c->op_id = gw_openapi__jstr(o.op, "operationId");
        jb->wfrom = json_array_size(c->warnings);
        json_t *tool = map_operation(&o, &m->pend[j]);
        jb->wto = json_array_size(c->warnings);
        m->pend[j].tool = tool;
        if (!tool)
            m->skipped++;
        for (size_t w = jb->wfrom; tool && w < jb->wto; w++) {
            const char *lvl = gw_openapi__jstr(json_array_get(c->warnings, w), "level");
            if (lvl && !strcmp(lvl, "degraded")) {
                m->degraded++;
                break;
            }
        }
        size_t at = m->progress_base + atomic_fetch_add(m->done, 1) + 1;
        if (m->progress_total && c->o->progress && at % every == 0 && at < m->progress_total)
            c->o->progress(at, m->progress_total, c->o->progress_ud); /* the last: the caller */
    }
    c->op_label = NULL;
    c->op_id = NULL;
    return NULL;
}

/* The second mapper's thread: its values come from the caller's bulk heap, if any. */
static void *mapper_thread(void *arg)
{
    struct mapper *m = arg;
    gw_json_heap_enter(m->heap);
    mapper_run(m);
    gw_json_heap_enter(NULL);
    return NULL;
}

/* Maps jobs[0..nj) on two threads. False (nothing kept) when a mapper failed or needed a
 * document not loaded yet: the caller maps them again on one thread, which gives the exact
 * outcome of a sequential import. */
static bool map_parallel(struct gw_openapi__ctx *c, struct job *jobs, size_t nj,
                         struct pending *pend, struct mapper *ms, atomic_size_t *done,
                         size_t progress_base, size_t total)
{
    for (unsigned i = 0; i < 2; i++) {
        mapper_ctx_init(&ms[i], c);
        ms[i].jobs = jobs;
        ms[i].pend = pend;
        ms[i].from = i == 0 ? 0 : nj / 2;
        ms[i].to = i == 0 ? nj / 2 : nj;
        ms[i].done = done;
        ms[i].progress_base = progress_base;
        ms[i].progress_total = i == 0 ? total : 0;
        ms[i].heap = gw_json_heap_current();
        for (size_t j = ms[i].from; j < ms[i].to; j++)
            jobs[j].mapper = i;
    }
    pthread_t th;
    bool threaded = pthread_create(&th, NULL, mapper_thread, &ms[1]) == 0;
    mapper_run(&ms[0]);
    if (threaded)
        pthread_join(th, NULL);
    else
        mapper_run(&ms[1]);
    size_t refs = ms[0].own.nrefs + ms[1].own.nrefs;
    bool ok = ms[0].own.fatal == GW_OK && ms[1].own.fatal == GW_OK &&
              !(c->o->limits.max_refs && c->nrefs + refs > c->o->limits.max_refs);
    if (ok) {
        c->nrefs += refs;
        return true;
    }
    for (size_t j = 0; j < nj; j++) {
        json_decref(pend[j].tool);
        memset(&pend[j], 0, sizeof(pend[j]));
    }
    for (unsigned i = 0; i < 2; i++)
        mapper_ctx_fini(&ms[i]);
    memset(ms, 0, 2 * sizeof(*ms));
    atomic_store(done, 0);
    return false;
}

/* The import's warnings in document order: the decisions made before mapping (c->warnings)
 * with each job's mapping warnings at its place, at most GW_OPENAPI__MAX_WARNINGS. */
static void merge_warnings(struct gw_openapi__ctx *c, const struct job *jobs, size_t nj,
                           struct mapper *ms)
{
    json_t *pre = c->warnings, *out = json_array();
    size_t k = 0;
    for (size_t j = 0; j <= nj; j++) {
        size_t upto = j < nj ? jobs[j].wpos : json_array_size(pre);
        for (; k < upto; k++)
            json_array_append(out, json_array_get(pre, k));
        if (j == nj)
            break;
        json_t *mw = ms[jobs[j].mapper].c->warnings;
        for (size_t w = jobs[j].wfrom; w < jobs[j].wto; w++)
            json_array_append(out, json_array_get(mw, w));
    }
    while (json_array_size(out) > GW_OPENAPI__MAX_WARNINGS)
        json_array_remove(out, json_array_size(out) - 1);
    json_decref(pre);
    c->warnings = out;
}

int gw_openapi__map(struct gw_openapi__ctx *c, struct gw_openapi_result *r)
{
    struct gw_openapi__spec sp;
    gw_openapi__spec_init(c, &sp);
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
        for (size_t m = 0; json_is_object(pi) && m < GW_OPENAPI__NMETHODS; m++)
            total += json_object_get(pi, gw_openapi__methods[m]) ? 1 : 0;
    }
    if (c->o->limits.max_operations && total > c->o->limits.max_operations) {
        gw_openapi__spec_fini(&sp);
        return GW_ERROR_SET(c->err, GW_ELIMIT,
                            "the spec has %zu operations, more than the "
                            "limit of %zu",
                            total, c->o->limits.max_operations);
    }
    /* pass 2, in document order: what becomes a job (an operation to map) and what is skipped
     * or excluded, with their warnings */
    struct job *jobs = gw_xcalloc(total ? total : 1, sizeof(*jobs));
    json_t *seen = json_object(); /* operation identity -> label of the first */
    size_t nj = 0;
    char label[LABEL_MAX];
    json_object_foreach(paths, path, item)
    {
        if (c->fatal != GW_OK)
            break;
        struct gw_openapi__op o;
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
            for (size_t m = 0; m < GW_OPENAPI__NMETHODS; m++)
                is_method = is_method || !strcmp(key, gw_openapi__methods[m]);
            if (!is_method || c->fatal != GW_OK)
                continue;
            r->operations++;
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
            c->op_id = gw_openapi__jstr(o.op, "operationId");
            o.xmcp = merge_xmcp(sp.xmcp, json_object_get(o.pathitem, "x-mcp"),
                                json_object_get(o.op, "x-mcp"));
            char opkey[LABEL_MAX];
            op_identity(up, path, opkey, sizeof(opkey));
            const char *first = gw_openapi__jstr(seen, opkey);
            if (first) {
                /* /users/{id} and /users/{userId} match the same requests: one operation */
                gw_openapi__warn(c, "info", "duplicate_path",
                                 "same operation as %.300s (the path templates differ only in "
                                 "parameter names); imported once",
                                 first);
                r->excluded++;
            } else if (json_is_true(json_object_get(o.xmcp, "exclude"))) {
                gw_openapi__warn(c, "info", "excluded", "excluded by x-mcp");
                r->excluded++;
            } else if (!c->o->include_head_options_trace &&
                       (!strcmp(key, "head") || !strcmp(key, "options") || !strcmp(key, "trace"))) {
                gw_openapi__warn(c, "info", "excluded", "%s operations are not imported by default",
                                 up);
                r->excluded++;
            } else {
                json_object_set_new(seen, opkey, json_string(label));
                struct job *jb = &jobs[nj++];
                jb->o = o;
                jb->o.xmcp = json_incref(o.xmcp);
                snprintf(jb->label, sizeof(jb->label), "%s", label);
                jb->wpos = json_array_size(c->warnings);
            }
            json_decref(o.xmcp);
        }
    }
    c->op_label = NULL;
    c->op_id = NULL;
    /* pass 3: map the jobs (two threads for a large spec), then the warnings in order */
    struct pending *pend = gw_xcalloc(nj ? nj : 1, sizeof(*pend));
    struct mapper ms[2];
    memset(ms, 0, sizeof(ms));
    atomic_size_t done;
    atomic_init(&done, 0);
    size_t progress_base = total - nj, n = 0;
    size_t pmin = c->o->parallel_min_operations;
    bool parallel = c->fatal == GW_OK && pmin && nj >= pmin &&
                    map_parallel(c, jobs, nj, pend, ms, &done, progress_base, total);
    if (!parallel && c->fatal == GW_OK) {
        /* one mapper on the import context itself, its warnings collected apart */
        for (size_t j = 0; j < nj; j++)
            jobs[j].mapper = 0;
        ms[0].c = c;
        ms[0].jobs = jobs;
        ms[0].pend = pend;
        ms[0].to = nj;
        ms[0].done = &done;
        ms[0].progress_base = progress_base;
        ms[0].progress_total = total;
        json_t *pre = c->warnings;
        c->warnings = json_array();
        mapper_run(&ms[0]);
        json_t *mw = c->warnings;
        c->warnings = pre;
        ms[0].own.warnings = mw; /* for merge_warnings, freed below */
        ms[0].c = &ms[0].own;
    }
    if (c->fatal == GW_OK) {
        merge_warnings(c, jobs, nj, ms);
        for (unsigned i = 0; i < 2; i++) {
            r->skipped += ms[i].skipped;
            r->degraded += ms[i].degraded;
        }
        for (size_t j = 0; j < nj; j++) /* the tools, in document order */
            if (pend[j].tool)
                pend[n++] = pend[j];
    } else {
        for (size_t j = 0; j < nj; j++)
            json_decref(pend[j].tool);
    }
    if (parallel)
        for (unsigned i = 0; i < 2; i++)
            mapper_ctx_fini(&ms[i]);
    else
        json_decref(ms[0].own.warnings);
    for (size_t j = 0; j < nj; j++)
        json_decref(jobs[j].o.xmcp);
    gw_free(jobs);
    c->op_label = NULL;
    c->op_id = NULL;
    if (c->fatal != GW_OK) {
        rc = c->fatal;
    } else if (c->o->limits.max_tools && n > c->o->limits.max_tools) {
        rc = GW_ERROR_SET(c->err, GW_ELIMIT,
                          "the spec produces %zu tools, more than the limit of %zu", n,
                          c->o->limits.max_tools);
    } else {
        assign_names(c, pend, n, r->tools);
        r->tools_count = json_array_size(r->tools);
        if (c->o->progress)
            c->o->progress(total, total, c->o->progress_ud);
    }
    for (size_t i = 0; i < n; i++)
        json_decref(pend[i].tool);
    gw_free(pend);
    json_decref(seen);
    /* spec info */
    json_t *info = json_object_get(sp.root, "info");
    json_t *spec = json_object();
    json_object_set_new(spec, "title",
                        gw_openapi__jstr(info, "title")
                            ? json_string(gw_openapi__jstr(info, "title"))
                            : json_null());
    json_object_set_new(spec, "version", sp.version ? json_string(sp.version) : json_null());
    json_object_set_new(spec, "id", json_string(sp.spec_id));
    json_object_set_new(spec, "dialect", json_string(r->dialect));
    json_t *sv = json_object_get(sp.root, c->dialect == OA_SWAGGER2 ? "swagger" : "openapi");
    if (json_is_number(sv)) {
        char b[32];
        snprintf(b, sizeof(b), "%.1f", json_number_value(sv));
        json_object_set_new(spec, "specVersion", json_string(b));
    } else {
        json_object_set(spec, "specVersion", sv ? sv : json_null());
    }
    const char *d = gw_openapi__jstr(info, "description");
    if (d) {
        char *t = gw_openapi__trim_text(d, c->o->description_max);
        json_object_set_new(spec, "description", json_string(t));
        gw_free(t);
    }
    json_object_set(spec, "servers", sp.servers);
    json_object_set_new(spec, "upstream", json_string(sp.upstream));
    r->spec = spec;
    gw_openapi__spec_fini(&sp);
    return rc;
}
