/*
 * src/discovery/discovery.c
 * The discovery provider (discovery.h): settings, who gets the discovery view, tools/list in
 * that view (search_tools, describe_tools, then the tools of the requested API products), the
 * two meta tools, and the delegation of everything else to the pipeline's provider.
 *
 * Request flow: list_tools -> discovery applies to the caller? -> the meta tools (first page
 * only) + the visible tools of the products named in _meta["io.msil/products"] or the
 * X-MCP-Products header, paged by the snapshot's cursor; otherwise the pipeline's own list.
 * call_tool("search_tools" | "describe_tools") -> answered here from the snapshot's index, only
 * with visible tools; any other name -> the pipeline provider (RESOLVE ... AUDIT), so a tool
 * found by search is called exactly like a listed one.
 * A caller may ask for the view per request (_meta["io.msil/discovery"] true/false or the
 * X-MCP-Discovery: on|off header) whatever the mode, except that mode off disables the module.
 * Not here: the index (discovery_index.c), visibility rules (the pipeline's EXPOSURE hook).
 */
#include "discovery/discovery.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "ctx/ctx.h"
#include "ctx/ctx_principal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define GROUP "Tool discovery"
#define RESULTS_MAX 50
#define DESCRIBE_MAX 20
#define SUMMARY_CHARS 200

const struct gw_setting_def gw_discovery_settings[] = {
    {"GW_DISCOVERY_MODE", GW_SET_ENUM, "off", 0, 0, "off|all|clients|auto", GROUP,
     "Which callers get the discovery view of tools/list (search_tools and describe_tools, "
     "plus the tools of the API products they ask for) instead of the full list: off, all, "
     "clients (those of GW_DISCOVERY_CLIENTS) or auto (catalogues larger than "
     "GW_DISCOVERY_AUTO_THRESHOLD). A caller can also ask per request (X-MCP-Discovery: on|off "
     "or _meta io.msil/discovery) unless the mode is off."},
    {"GW_DISCOVERY_CLIENTS", GW_SET_STRING, "", 0, 0, NULL, GROUP,
     "Client applications (comma-separated client ids) that get the discovery view when "
     "GW_DISCOVERY_MODE=clients."},
    {"GW_DISCOVERY_AUTO_THRESHOLD", GW_SET_INT, "200", 1, 10000000, NULL, GROUP,
     "GW_DISCOVERY_MODE=auto: the discovery view is used when the registry serves more tools "
     "than this."},
    {"GW_DISCOVERY_MAX_RESULTS", GW_SET_INT, "10", 1, RESULTS_MAX, NULL, GROUP,
     "Tools search_tools returns by default (an agent may ask for up to 50)."},
    GW_SETTINGS_END};

void gw_discovery_config_from_settings(struct gw_discovery_config *c, const struct gw_settings *s)
{
    memset(c, 0, sizeof(*c));
    const char *m = gw_settings_str(s, "GW_DISCOVERY_MODE");
    c->mode = !strcmp(m, "all")       ? GW_DISCOVERY_ALL
              : !strcmp(m, "clients") ? GW_DISCOVERY_CLIENTS
              : !strcmp(m, "auto")    ? GW_DISCOVERY_AUTO
                                      : GW_DISCOVERY_OFF;
    c->clients = gw_settings_str(s, "GW_DISCOVERY_CLIENTS");
    c->auto_threshold = (size_t)gw_settings_int(s, "GW_DISCOVERY_AUTO_THRESHOLD");
    c->max_results = (size_t)gw_settings_int(s, "GW_DISCOVERY_MAX_RESULTS");
}

struct gw_discovery {
    struct gw_registry *reg;
    struct gw_pipeline *p;
    struct gw_mcp_provider inner;
    struct gw_discovery_config cfg;
    char *clients;
    int ext; /* the index's slot in every snapshot, -1 when none */
};

/* The two meta tools, as tools/list shows them (pre-serialised, lean). */
static const char SEARCH_TOOL[] =
    "{\"name\":\"search_tools\",\"title\":\"Search the available tools\",\"description\":"
    "\"Finds the tools that fit a task, by words, among all the tools you may use here (there "
    "are too many to list): e.g. \\\"book a service appointment\\\", \\\"list repositories of a "
    "user\\\". Returns the best matches, best first: name, title, a short description and the "
    "API product. Call describe_tools for a tool's input schema, then call the tool by its "
    "name.\",\"inputSchema\":{\"type\":\"object\",\"properties\":{\"query\":{\"type\":"
    "\"string\",\"description\":\"What you want to do, in words\"},\"limit\":{\"type\":"
    "\"integer\",\"minimum\":1,\"maximum\":50,\"description\":\"How many tools to return "
    "(default 10)\"},\"product\":{\"type\":\"string\",\"description\":\"Only tools of this API "
    "product\"}},\"required\":[\"query\"],\"additionalProperties\":false},\"annotations\":{"
    "\"readOnlyHint\":true,\"openWorldHint\":false}}";
static const char DESCRIBE_TOOL[] =
    "{\"name\":\"describe_tools\",\"title\":\"Describe tools\",\"description\":\"Returns the "
    "full definitions of tools found with search_tools (description, input schema, output "
    "schema), so that you can call them by name.\",\"inputSchema\":{\"type\":\"object\","
    "\"properties\":{\"names\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},"
    "\"minItems\":1,\"maxItems\":20,\"description\":\"Tool names from search_tools\"}},"
    "\"required\":[\"names\"],\"additionalProperties\":false},\"annotations\":{"
    "\"readOnlyHint\":true,\"openWorldHint\":false}}";

/* ---- who gets the view ----------------------------------------------------------------------- */

/* The client application of the caller, for GW_DISCOVERY_MODE=clients: the principal's
 * client id (OAuth client, API key's client); for an anonymous caller the X-Client-Id request
 * header (the view is a presentation choice, not an access control: visibility is still
 * decided per tool by the exposure hook). */
static const char *caller_client(struct gw_mcp_exchange *x)
{
    const struct gw_principal *p = gw_ctx_principal(gw_mcp_x_ctx(x));
    if (p && p->method != GW_AUTH_ANONYMOUS)
        return p->client_id && *p->client_id ? p->client_id : NULL;
    return gw_mcp_x_header(x, "X-Client-Id");
}

/* Whether the caller may see tool t (the tools/list filter): the one place discovery asks. */
static bool visible(struct gw_discovery *d, struct gw_mcp_exchange *x,
                    const struct gw_snapshot *s, const struct gw_tool_entry *t)
{
    return gw_pipeline_tool_visible(d->p, x, s, t);
}

/* Whether `id` is one of the comma-separated `list`. */
static bool in_list(const char *list, const char *id)
{
    size_t n = strlen(id);
    for (const char *p = list; p && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > p && t[-1] == ' ')
            t--;
        if ((size_t)(t - p) == n && n && !strncmp(p, id, n))
            return true;
        p = e;
    }
    return false;
}

/* An explicit per-request choice: 1 on, 0 off, -1 none. */
static int requested(struct gw_mcp_exchange *x)
{
    json_t *meta = json_object_get(gw_mcp_x_params(x), "_meta");
    json_t *v = json_object_get(meta, "io.msil/discovery");
    if (json_is_boolean(v))
        return json_is_true(v);
    const char *h = gw_mcp_x_header(x, "X-MCP-Discovery");
    if (h && (!strcasecmp(h, "on") || !strcasecmp(h, "true") || !strcmp(h, "1")))
        return 1;
    if (h && (!strcasecmp(h, "off") || !strcasecmp(h, "false") || !strcmp(h, "0")))
        return 0;
    return -1;
}

/* Whether the caller gets the discovery view. */
static bool applies(struct gw_discovery *d, struct gw_mcp_exchange *x, const struct gw_snapshot *s)
{
    if (d->cfg.mode == GW_DISCOVERY_OFF)
        return false;
    int r = requested(x);
    if (r >= 0)
        return r == 1;
    switch (d->cfg.mode) {
    case GW_DISCOVERY_ALL: return true;
    case GW_DISCOVERY_CLIENTS: {
        const char *c = caller_client(x);
        return c && in_list(d->clients, c);
    }
    case GW_DISCOVERY_AUTO: return gw_snapshot_count(s) > d->cfg.auto_threshold;
    default: return false;
    }
}

/* ---- tools/list in the discovery view -------------------------------------------------------- */

struct list_filter {
    struct gw_discovery *d;
    struct gw_mcp_exchange *x;
    const struct gw_snapshot *s;
    const char *products;
};

static bool product_filter(void *ud, const struct gw_tool_entry *t)
{
    struct list_filter *f = ud;
    return t->bundle && in_list(f->products, t->bundle) && visible(f->d, f->x, f->s, t);
}

/* The API products the caller asks for: _meta["io.msil/products"] (array or comma list) or
 * the X-MCP-Products header; written into buf as a comma list ("" when none). */
static void requested_products(struct gw_mcp_exchange *x, char *buf, size_t size)
{
    buf[0] = '\0';
    json_t *v = json_object_get(json_object_get(gw_mcp_x_params(x), "_meta"), "io.msil/products");
    if (json_is_string(v)) {
        snprintf(buf, size, "%s", json_string_value(v));
        return;
    }
    size_t i, o = 0;
    json_t *it;
    json_array_foreach(v, i, it)
    {
        if (json_is_string(it) && o + json_string_length(it) + 2 < size)
            o += (size_t)snprintf(buf + o, size - o, "%s%s", o ? "," : "", json_string_value(it));
    }
    if (!o) {
        const char *h = gw_mcp_x_header(x, "X-MCP-Products");
        if (h)
            snprintf(buf, size, "%s", h);
    }
}

static int list_tools(void *self, struct gw_mcp_exchange *x, const char *cursor, size_t limit,
                      struct gw_buf *items, size_t *count, char next[128])
{
    struct gw_discovery *d = self;
    struct gw_snapshot *s = gw_registry_acquire(d->reg);
    if (!applies(d, x, s)) {
        gw_snapshot_release(s);
        return d->inner.ops->list_tools(d->inner.self, x, cursor, limit, items, count, next);
    }
    int rc = GW_OK;
    size_t n = 0;
    next[0] = '\0';
    if (!cursor || !*cursor) {
        rc = gw_buf_adds(items, SEARCH_TOOL);
        if (rc == GW_OK)
            rc = gw_buf_addc(items, ',');
        if (rc == GW_OK)
            rc = gw_buf_adds(items, DESCRIBE_TOOL);
        n = 2;
    }
    char products[1024];
    requested_products(x, products, sizeof(products));
    if (rc == GW_OK && products[0]) {
        size_t want = limit > n ? limit - n : 1;
        if (want > GW_PAGE_MAX)
            want = GW_PAGE_MAX;
        const struct gw_tool_entry **page = gw_xmalloc(want * sizeof(*page));
        size_t got = 0;
        struct list_filter f = {d, x, s, products};
        struct gw_error err = {0};
        char nxt[GW_CURSOR_MAX] = "";
        rc = gw_snapshot_paginate(s, cursor, cursor ? strlen(cursor) : 0, want, product_filter,
                                  &f, page, &got, nxt, &err);
        for (size_t i = 0; rc == GW_OK && i < got; i++) {
            if (n + i)
                rc = gw_buf_addc(items, ',');
            if (rc == GW_OK)
                rc = gw_buf_add(items, page[i]->mcp_json, page[i]->mcp_json_len);
        }
        n += got;
        snprintf(next, 128, "%s", rc == GW_OK ? nxt : "");
        gw_free(page);
    }
    *count = rc == GW_OK ? n : 0;
    gw_snapshot_release(s);
    return rc;
}

/* ---- the meta tools -------------------------------------------------------------------------- */

static json_t *text_result(const char *text, size_t n, bool is_error)
{
    json_t *r = json_pack("{s:[{s:s,s:s%}]}", "content", "type", "text", "text", text, n);
    if (r && is_error)
        json_object_set_new(r, "isError", json_true());
    return r;
}

/* The first sentence of a description (at most SUMMARY_CHARS bytes, cut at a UTF-8 boundary):
 * what a search result shows, so that ten results stay small in an agent's context. */
static void summary(const char *desc, char *out, size_t size)
{
    size_t n = 0, max = size - 1 < SUMMARY_CHARS ? size - 1 : SUMMARY_CHARS;
    if (!desc)
        desc = "";
    while (n < max && desc[n] && desc[n] != '\n') {
        if (desc[n] == '.' && (desc[n + 1] == ' ' || desc[n + 1] == '\0')) {
            n++;
            goto done;
        }
        n++;
    }
    while (n > 0 && ((unsigned char)desc[n] & 0xC0) == 0x80) /* not inside a character */
        n--;
done:
    memcpy(out, desc, n);
    out[n] = '\0';
}

struct call_filter {
    struct gw_discovery *d;
    struct gw_mcp_exchange *x;
    const struct gw_snapshot *s;
    const char *product;
};

static bool search_filter(void *ud, const struct gw_tool_entry *t)
{
    struct call_filter *f = ud;
    if (f->product && (!t->bundle || strcmp(t->bundle, f->product) != 0))
        return false;
    return visible(f->d, f->x, f->s, t);
}

static void search_tools(struct gw_discovery *d, struct gw_mcp_exchange *x,
                         const struct gw_snapshot *s, const json_t *args)
{
    const char *query = gw_json_str(args, "query");
    json_t *lim = json_object_get(args, "limit");
    const char *product = gw_json_str(args, "product");
    if (!query || !*query || (lim && (!json_is_integer(lim) || json_integer_value(lim) < 1 ||
                                      json_integer_value(lim) > RESULTS_MAX))) {
        static const char msg[] = "search_tools needs \"query\" (words describing the task) "
                                  "and an optional \"limit\" of 1-50";
        gw_mcp_reply(x, text_result(msg, sizeof(msg) - 1, true));
        return;
    }
    size_t k = lim ? (size_t)json_integer_value(lim) : d->cfg.max_results;
    struct gw_discovery_hit hits[RESULTS_MAX];
    struct call_filter f = {d, x, s, product};
    size_t n = gw_discovery_search(d, s, query, search_filter, &f, hits, k);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        const json_t *def = gw_tool_def(hits[i].tool);
        char sum[SUMMARY_CHARS + 8];
        summary(gw_json_str(def, "description"), sum, sizeof(sum));
        json_t *o = json_pack("{s:s}", "name", hits[i].tool->name);
        const char *title = gw_json_str(def, "title");
        if (title && *title)
            json_object_set_new(o, "title", json_string(title));
        if (sum[0] && (!title || strcmp(sum, title) != 0))
            json_object_set_new(o, "description", json_string(sum));
        if (hits[i].tool->bundle)
            json_object_set_new(o, "product", json_string(hits[i].tool->bundle));
        json_array_append_new(list, o);
    }
    json_t *doc = json_pack("{s:o}", "tools", list);
    if (!n)
        json_object_set_new(doc, "note",
                            json_string("no tool matches; try other words (what you want to "
                                        "do, and on what)"));
    char *text = gw_json_dumps(doc);
    json_decref(doc);
    gw_mcp_reply(x, text ? text_result(text, strlen(text), false)
                         : text_result("out of memory", 13, true));
    gw_free(text);
}

static void describe_tools(struct gw_discovery *d, struct gw_mcp_exchange *x,
                           const struct gw_snapshot *s, const json_t *args)
{
    json_t *names = json_object_get(args, "names");
    size_t n = json_array_size(names);
    if (!json_is_array(names) || n == 0 || n > DESCRIBE_MAX) {
        static const char msg[] = "describe_tools needs \"names\": 1-20 tool names from "
                                  "search_tools";
        gw_mcp_reply(x, text_result(msg, sizeof(msg) - 1, true));
        return;
    }
    struct gw_buf b;
    gw_buf_init(&b, (size_t)64 << 20);
    int rc = gw_buf_adds(&b, "{\"tools\":[");
    size_t found = 0;
    json_t *unknown = json_array();
    for (size_t i = 0; i < n && rc == GW_OK; i++) {
        const char *name = json_string_value(json_array_get(names, i));
        const struct gw_tool_entry *t = name ? gw_snapshot_resolve(s, name, strlen(name), NULL)
                                             : NULL;
        /* an invisible tool is answered exactly like an unknown one */
        if (!t || !visible(d, x, s, t)) {
            json_array_append_new(unknown, json_string(name ? name : ""));
            continue;
        }
        if (found++)
            rc = gw_buf_addc(&b, ',');
        if (rc == GW_OK)
            rc = gw_buf_add(&b, t->mcp_json, t->mcp_json_len);
    }
    if (rc == GW_OK)
        rc = gw_buf_addc(&b, ']');
    if (rc == GW_OK && json_array_size(unknown)) {
        char *u = gw_json_dumps(unknown);
        rc = gw_buf_printf(&b, ",\"unknown\":%s", u ? u : "[]");
        gw_free(u);
    }
    if (rc == GW_OK)
        rc = gw_buf_addc(&b, '}');
    json_decref(unknown);
    gw_mcp_reply(x, rc == GW_OK ? text_result(gw_buf_ptr(&b), gw_buf_len(&b), found == 0)
                                : text_result("the definitions are too large", 29, true));
    gw_buf_fini(&b);
}

static int call_tool(void *self, struct gw_mcp_exchange *x, const char *name, json_t *args)
{
    struct gw_discovery *d = self;
    bool meta = !strcmp(name, "search_tools") || !strcmp(name, "describe_tools");
    if (meta && d->cfg.mode != GW_DISCOVERY_OFF && requested(x) != 0) {
        struct gw_snapshot *s = gw_registry_acquire(d->reg);
        /* a registry tool of that name wins for callers outside the discovery view */
        if (applies(d, x, s) || !gw_snapshot_find(s, name, strlen(name))) {
            if (name[0] == 's')
                search_tools(d, x, s, args);
            else
                describe_tools(d, x, s, args);
            gw_snapshot_release(s);
            return GW_OK;
        }
        gw_snapshot_release(s);
    }
    /* every other tool: the full pipeline */
    return d->inner.ops->call_tool(d->inner.self, x, name, args);
}

static const struct gw_mcp_provider_ops ops = {
    .name = "discovery",
    .list_tools = list_tools,
    .call_tool = call_tool,
};

struct gw_mcp_provider gw_discovery_provider(struct gw_discovery *d)
{
    return (struct gw_mcp_provider){&ops, d};
}

/* ---- lifetime and search ----------------------------------------------------------------- */

struct gw_discovery *gw_discovery_new(struct gw_registry *reg, struct gw_pipeline *p,
                                      const struct gw_discovery_config *cfg)
{
    struct gw_discovery *d = gw_xcalloc(1, sizeof(*d));
    d->reg = reg;
    d->p = p;
    d->inner = gw_pipeline_provider(p);
    if (cfg)
        d->cfg = *cfg;
    if (!d->cfg.max_results || d->cfg.max_results > RESULTS_MAX)
        d->cfg.max_results = 10;
    if (!d->cfg.auto_threshold)
        d->cfg.auto_threshold = 200;
    d->clients = gw_xstrdup(cfg && cfg->clients ? cfg->clients : "");
    d->cfg.clients = d->clients;
    d->ext = -1;
    if (d->cfg.mode != GW_DISCOVERY_OFF) {
        struct gw_snapshot_ext ext = gw_discovery_index_ext();
        d->ext = gw_registry_add_ext(reg, &ext);
        if (d->ext < 0)
            GW_LOG(GW_LOG_ERROR, "discovery", "no snapshot extension slot left: search is off");
    }
    return d;
}

void gw_discovery_free(struct gw_discovery *d)
{
    if (!d)
        return;
    gw_free(d->clients);
    gw_free(d);
}

size_t gw_discovery_search(const struct gw_discovery *d, const struct gw_snapshot *s,
                           const char *query, gw_tool_filter_fn vis, void *ud,
                           struct gw_discovery_hit *out, size_t k)
{
    if (!d || d->ext < 0)
        return 0;
    return gw_dindex_search(gw_snapshot_ext(s, (size_t)d->ext), s, query, vis, ud, out, k);
}
