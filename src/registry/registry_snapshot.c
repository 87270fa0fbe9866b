/*
 * src/registry/registry_snapshot.c
 * Building, looking up and paginating immutable tool snapshots (compact form: see the header).
 *
 * Layout (one build, then read-only but for the definition cache): `tools` is an array sorted
 * by name with strcmp (byte order, the order the store lists in); `table` is an open-addressing
 * hash index (linear probing, power-of-two size >= 2n, slots hold index + 1, 0 = empty) over
 * FNV-1a hashes of the names; `aliases` is a small sorted array (name, tool index, expiry);
 * every string (names, the MCP JSON and the rest of each definition, interned bundle / risk /
 * tag strings) lives in the snapshot's arena, the MCP JSON of all tools back to back in list
 * order (cache-friendly tools/list).
 * Invariants: names are unique; an alias never shadows a tool name (a real name wins and the
 * alias is dropped at build); entry pointers are stable once finish returns; refs counts
 * holders and the memory is freed by the release that brings it to zero; a definition parsed
 * by gw_tool_def is published with a compare-and-swap, so concurrent first callers agree on
 * one copy.
 * Cursors: base64url (no padding) of [0x01][name bytes][2-byte check of the name]; decoding is
 * strict (alphabet, canonical trailing bits, version byte, check, name syntax).
 * Not here: where snapshots come from (registry.c), who may see which tool (exposure).
 */
#include "registry/registry_snapshot.h"

#include "core/alloc.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/json.h"
#include "schema/schema_headers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Tool names: [A-Za-z0-9_-]{1,64} (docs/tool-model.md). */
#define NAME_MAX_LEN 64
#define CURSOR_FORMAT 0x01
#define TEXT_MAX ((size_t)1 << 30)
#define INTERN_MAX 4096 /* distinct interned strings (bundles, tags); more are copied */

struct alias {
    const char *name; /* interned copy */
    size_t name_len;
    size_t tool;      /* index in tools[] (after sorting) */
    long long until;  /* epoch seconds; 0 = no expiry */
};

/* Immutable after finish except `refs` and the entries' definition caches. */
struct gw_snapshot {
    atomic_size_t refs;
    uint64_t version;
    long long store_version;
    uint64_t fingerprint;
    size_t n;
    struct gw_tool_entry *tools;
    uint32_t *table;
    size_t mask;
    struct alias *aliases;
    size_t naliases;
    char *mcp_buf;                   /* every tool's MCP JSON, NUL-separated, list order */
    struct gw_arena *arena;          /* names, the rest of the definitions, interned strings */
    size_t bytes;                    /* fixed part of gw_snapshot_memory */
    void *ext_data[GW_SNAPSHOT_EXT_MAX];
    struct gw_snapshot_ext exts[GW_SNAPSHOT_EXT_MAX];
    size_t next;
};

/* A tool as added, before sorting: where its MCP JSON is in the shared buffer. */
struct pending {
    struct gw_tool_entry e;
    size_t mcp_off;
};

struct pending_alias {
    const char *name;
    size_t name_len;
    const char *target; /* the tool's name (arena) */
    long long until;
};

struct gw_snapshot_builder {
    struct gw_snapshot *s;
    struct pending *p;
    size_t n, cap;
    struct pending_alias *al;
    size_t nal, capal;
    struct gw_buf mcp;
    json_t *interned; /* string -> (arena string pointer as integer) */
    void *ext_state[GW_SNAPSHOT_EXT_MAX];
    bool failed;
};

/* FNV-1a 32: the hash of the name index and of cursor checks. */
static uint32_t fnv32(const char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 16777619u;
    return h;
}

/* FNV-1a 64 continued over more bytes: the list fingerprint. */
static uint64_t fnv64_add(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

/* Tool name syntax, the same rule the store enforces. */
static bool valid_name(const char *s, size_t n)
{
    if (n == 0 || n > NAME_MAX_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* qsort order: strcmp, i.e. byte order, as the store lists. */
static int cmp_pending(const void *a, const void *b)
{
    return strcmp(((const struct pending *)a)->e.name, ((const struct pending *)b)->e.name);
}

static int cmp_alias(const void *a, const void *b)
{
    const struct alias *x = a, *y = b;
    size_t m = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, m);
    return c ? c : (x->name_len > y->name_len) - (x->name_len < y->name_len);
}

/* The members of a definition that make up its MCP tool object, in the order they are sent. */
static const char *const MCP_KEYS[] = {"name",         "title",       "description", "inputSchema",
                                       "outputSchema", "annotations", NULL};

/* Whether def's member k goes into the MCP object (strings for the texts, objects otherwise). */
static bool is_mcp_member(const char *k, const json_t *v)
{
    for (const char *const *m = MCP_KEYS; *m; m++) {
        if (strcmp(k, *m) != 0)
            continue;
        if (!strcmp(k, "title") || !strcmp(k, "description") || !strcmp(k, "name"))
            return json_is_string(v) && !gw_json_is_bignum(v);
        return json_is_object(v);
    }
    return false;
}

/* Serialises the MCP-facing object of a definition onto out (NUL-terminated), and the rest of
 * it into rest. */
static int dump_parts(const json_t *def, struct gw_buf *out, struct gw_buf *rest)
{
    json_t *o = json_object(), *r = json_object();
    int rc = o && r ? GW_OK : GW_ENOMEM;
    for (const char *const *k = MCP_KEYS; *k && rc == GW_OK; k++) {
        json_t *v = json_object_get(def, *k);
        if (v && is_mcp_member(*k, v) && json_object_set(o, *k, v) != 0)
            rc = GW_ENOMEM;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)(uintptr_t)def, k, v)
    {
        if (rc == GW_OK && !is_mcp_member(k, v) && strcmp(k, "aliases") != 0 &&
            json_object_set(r, k, v) != 0)
            rc = GW_ENOMEM;
    }
    if (rc == GW_OK)
        rc = gw_json_dump(o, out);
    if (rc == GW_OK)
        rc = gw_buf_addc(out, '\0');
    if (rc == GW_OK)
        rc = gw_json_dump(r, rest);
    json_decref(o);
    json_decref(r);
    return rc;
}

/* An interned copy of s (shared by every tool that uses it), or NULL on OOM. */
static const char *intern(struct gw_snapshot_builder *b, const char *s)
{
    json_t *have = json_object_get(b->interned, s);
    if (have)
        return (const char *)(uintptr_t)json_integer_value(have);
    char *copy = gw_arena_strndup(b->s->arena, s, strlen(s));
    if (copy && json_object_size(b->interned) < INTERN_MAX)
        json_object_set_new(b->interned, s, json_integer((json_int_t)(uintptr_t)copy));
    return copy;
}

/* "2027-01-05T10:00:00.000Z" (the store's timestamps) as epoch seconds; -1 when malformed. */
static long long parse_time(const char *t)
{
    int y, mo, d, h, mi, sec;
    if (!t || strlen(t) < 19 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' ||
        t[16] != ':')
        return -1;
    const int pos[6] = {0, 5, 8, 11, 14, 17}, len[6] = {4, 2, 2, 2, 2, 2};
    int val[6];
    for (int i = 0; i < 6; i++) {
        val[i] = 0;
        for (int j = 0; j < len[i]; j++) {
            char c = t[pos[i] + j];
            if (c < '0' || c > '9')
                return -1;
            val[i] = val[i] * 10 + (c - '0');
        }
    }
    y = val[0], mo = val[1], d = val[2], h = val[3], mi = val[4], sec = val[5];
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    /* days from civil (proleptic Gregorian), 1970-01-01 = 0 */
    long long yy = mo <= 2 ? y - 1 : y;
    long long era = (yy >= 0 ? yy : yy - 399) / 400;
    long long yoe = yy - era * 400;
    long long doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    long long days = era * 146097 + doe - 719468;
    return days * 86400 + h * 3600 + mi * 60 + sec;
}

struct gw_snapshot_builder *gw_snapshot_builder_new(uint64_t version, long long store_version,
                                                    const struct gw_snapshot_ext *exts,
                                                    size_t n)
{
    struct gw_snapshot_builder *b = gw_xcalloc(1, sizeof(*b));
    struct gw_snapshot *s = gw_xcalloc(1, sizeof(*s));
    atomic_init(&s->refs, 1);
    s->version = version;
    s->store_version = store_version;
    s->arena = gw_arena_new(0);
    b->failed = !s->arena; /* every add then fails with GW_ENOMEM */
    b->s = s;
    b->interned = json_object();
    gw_buf_init(&b->mcp, TEXT_MAX);
    for (size_t i = 0; i < n && i < GW_SNAPSHOT_EXT_MAX; i++) {
        s->exts[i] = exts[i];
        s->next = i + 1;
        b->ext_state[i] = exts[i].begin ? exts[i].begin(exts[i].ctx, 0) : NULL;
    }
    return b;
}

/* Frees a snapshot (refcount reached zero, or a failed build). Accepts NULL. */
static void snapshot_free(struct gw_snapshot *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->next; i++)
        if (s->exts[i].release && s->ext_data[i])
            s->exts[i].release(s->exts[i].ctx, s->ext_data[i]);
    for (size_t i = 0; i < s->n && s->tools; i++)
        json_decref(atomic_load(&s->tools[i]._def));
    gw_free(s->tools);
    gw_free(s->table);
    gw_free(s->aliases);
    gw_free(s->mcp_buf);
    gw_arena_free(s->arena);
    gw_free(s);
}

void gw_snapshot_builder_free(struct gw_snapshot_builder *b)
{
    if (!b)
        return;
    struct gw_snapshot *s = b->s;
    for (size_t i = 0; s && i < s->next; i++) {
        if (s->exts[i].release && b->ext_state[i])
            s->exts[i].release(s->exts[i].ctx, b->ext_state[i]);
        s->exts[i].release = NULL; /* the states are gone; snapshot_free must not free again */
    }
    snapshot_free(s);
    gw_free(b->p);
    gw_free(b->al);
    gw_buf_fini(&b->mcp);
    json_decref(b->interned);
    gw_free(b);
}

/* The aliases of a definition ([{"name","until"}]) into the builder's pending list. */
/* The tool's x-mcp-header declarations kept with its entry (copied into the snapshot's arena:
 * the scan's results borrow from a definition that is freed), so that a call checks its
 * Mcp-Param-* headers without walking the schema again. */
static int keep_decls(struct gw_arena *arena, const struct gw_schema_header *hd, size_t nh,
                      struct gw_tool_entry *t)
{
    struct gw_schema_header *d = gw_arena_alloc(arena, nh * sizeof(*d));
    if (!d)
        return GW_ENOMEM;
    for (size_t i = 0; i < nh; i++) {
        d[i] = hd[i];
        d[i].name = gw_arena_strndup(arena, hd[i].name, strlen(hd[i].name));
        if (!d[i].name)
            return GW_ENOMEM;
        for (size_t j = 0; j < hd[i].depth; j++)
            if (!(d[i].path[j] = gw_arena_strndup(arena, hd[i].path[j], strlen(hd[i].path[j]))))
                return GW_ENOMEM;
    }
    t->param_decls = d;
    t->nparam_decls = (unsigned char)nh; /* at most GW_SCHEMA_HEADERS_MAX */
    return GW_OK;
}

static int add_aliases(struct gw_snapshot_builder *b, const json_t *def, const char *target)
{
    json_t *al = json_object_get(def, "aliases");
    size_t i;
    json_t *a;
    json_array_foreach(al, i, a)
    {
        const char *name = gw_json_str(a, "name");
        if (!name || !valid_name(name, strlen(name)))
            continue;
        const char *until = gw_json_str(a, "until");
        long long t = until ? parse_time(until) : 0;
        if (t < 0)
            continue;
        if (b->nal == b->capal) {
            b->capal = b->capal ? b->capal * 2 : 16;
            b->al = gw_xrealloc(b->al, b->capal * sizeof(*b->al));
        }
        const char *copy = gw_arena_strndup(b->s->arena, name, strlen(name));
        if (!copy)
            return GW_ENOMEM;
        b->al[b->nal++] = (struct pending_alias){copy, strlen(copy), target, t};
    }
    return GW_OK;
}

int gw_snapshot_builder_add(struct gw_snapshot_builder *b, const json_t *def,
                            struct gw_error *err)
{
    struct gw_buf rest;
    int rc = GW_OK;
    if (b->failed)
        return GW_ERROR_SET(err, GW_ENOMEM, "out of memory building a snapshot");
    const char *name = gw_json_str(def, "name");
    if (!json_is_object(def) || !name || !valid_name(name, strlen(name)) ||
        !json_is_object(json_object_get(def, "inputSchema"))) {
        b->failed = true;
        return GW_ERROR_SET(err, GW_EINVAL, "snapshot: tool #%zu (%s) is not a valid definition",
                            b->n, name && strlen(name) <= NAME_MAX_LEN ? name : "?");
    }
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        struct pending *np = gw_tryrealloc(b->p, b->cap * sizeof(*b->p));
        if (!np) {
            b->failed = true;
            return GW_ERROR_SET(err, GW_ENOMEM, "out of memory building a snapshot");
        }
        b->p = np;
    }
    struct pending *p = &b->p[b->n];
    memset(p, 0, sizeof(*p));
    p->mcp_off = gw_buf_len(&b->mcp);
    gw_buf_init(&rest, TEXT_MAX);
    rc = dump_parts(def, &b->mcp, &rest);
    struct gw_tool_entry *t = &p->e;
    if (rc == GW_OK) {
        t->mcp_json_len = gw_buf_len(&b->mcp) - p->mcp_off - 1;
        t->name_len = strlen(name);
        t->name = gw_arena_strndup(b->s->arena, name, t->name_len);
        t->_rest = gw_arena_strndup(b->s->arena, gw_buf_ptr(&rest), gw_buf_len(&rest));
        t->_rest_len = gw_buf_len(&rest);
        const char *bundle = gw_json_str(def, "bundle");
        t->bundle = bundle ? intern(b, bundle) : NULL;
        const char *risk = gw_json_str(def, "risk");
        t->risk = intern(b, risk ? risk : "write");
        json_t *tags = json_object_get(def, "tags");
        size_t nt = json_array_size(tags); /* all of them: exposure rules match on tags */
        const char **tv = nt ? gw_arena_alloc(b->s->arena, nt * sizeof(char *)) : NULL;
        for (size_t i = 0; tv && i < nt; i++) {
            const char *tag = json_string_value(json_array_get(tags, i));
            if (tag && !gw_json_is_bignum(json_array_get(tags, i)))
                tv[t->ntags++] = intern(b, tag);
        }
        t->tags = tv;
        t->requires_confirmation = json_is_true(json_object_get(def, "requiresConfirmation"));
        struct gw_schema_header hd[GW_SCHEMA_HEADERS_MAX];
        size_t nh = 0;
        struct gw_error herr;
        /* invalid declarations (the store refuses them) mark the tool too: its calls fail */
        bool valid = gw_schema_headers_scan(json_object_get(def, "inputSchema"), hd, &nh,
                                            &herr) == GW_OK;
        t->param_headers = !valid || nh > 0;
        if (valid && nh > 0 && keep_decls(b->s->arena, hd, nh, t) != GW_OK)
            rc = GW_ENOMEM;
        json_t *el = json_object_get(def, "requiresElevation");
        t->requires_elevation = (signed char)(el ? json_is_true(el) : -1);
        json_t *vj = json_object_get(def, "version");
        t->version = json_is_integer(vj) ? (long long)json_integer_value(vj) : 0;
        t->_hash = fnv32(name, t->name_len);
        atomic_init(&t->_def, NULL);
        if (!t->name || !t->_rest || !t->risk || (bundle && !t->bundle) || (nt && !tv))
            rc = GW_ENOMEM;
    }
    if (rc == GW_OK)
        rc = add_aliases(b, def, t->name);
    gw_buf_fini(&rest);
    if (rc != GW_OK) {
        b->failed = true;
        return GW_ERROR_SET(err, rc, "snapshot: cannot store tool %s", name);
    }
    b->n++;
    struct gw_snapshot *s = b->s;
    for (size_t i = 0; i < s->next; i++)
        if (s->exts[i].tool)
            s->exts[i].tool(s->exts[i].ctx, b->ext_state[i], t, def);
    return GW_OK;
}

/* Indexes the aliases of a finished snapshot: sorted, pointing at tool indexes; an alias that
 * names a tool (or repeats an earlier alias) is dropped. */
static void build_aliases(struct gw_snapshot_builder *b)
{
    struct gw_snapshot *s = b->s;
    if (!b->nal)
        return;
    s->aliases = gw_xcalloc(b->nal, sizeof(*s->aliases));
    for (size_t i = 0; i < b->nal; i++) {
        const struct pending_alias *pa = &b->al[i];
        if (gw_snapshot_find(s, pa->name, pa->name_len))
            continue;
        const struct gw_tool_entry *t = gw_snapshot_find(s, pa->target, strlen(pa->target));
        if (!t)
            continue;
        s->aliases[s->naliases++] =
            (struct alias){pa->name, pa->name_len, (size_t)(t - s->tools), pa->until};
    }
    qsort(s->aliases, s->naliases, sizeof(*s->aliases), cmp_alias);
    size_t k = 0;
    for (size_t i = 0; i < s->naliases; i++)
        if (k == 0 || cmp_alias(&s->aliases[k - 1], &s->aliases[i]) != 0)
            s->aliases[k++] = s->aliases[i];
    s->naliases = k;
}

void gw_snapshot_builder_set_store_version(struct gw_snapshot_builder *b, long long v)
{
    b->s->store_version = v;
}

int gw_snapshot_builder_finish(struct gw_snapshot_builder *b, struct gw_snapshot **out,
                               struct gw_error *err)
{
    struct gw_snapshot *s = b->s;
    int rc = GW_OK;
    *out = NULL;
    if (b->failed) {
        rc = GW_ERROR_SET(err, GW_EINVAL, "snapshot: the build failed earlier");
        goto out;
    }
    if (b->n > 1)
        qsort(b->p, b->n, sizeof(*b->p), cmp_pending);
    s->n = b->n;
    s->tools = gw_trycalloc(s->n ? s->n : 1, sizeof(*s->tools));
    size_t mcp_len = gw_buf_len(&b->mcp);
    s->mcp_buf = gw_trymalloc(mcp_len ? mcp_len : 1);
    if (!s->tools || !s->mcp_buf) {
        rc = GW_ERROR_SET(err, GW_ENOMEM, "out of memory building a snapshot");
        goto out;
    }
    /* the MCP JSON is copied in list order: tools/list reads it front to back */
    size_t off = 0;
    s->fingerprint = 14695981039346656037ull;
    for (size_t i = 0; i < s->n; i++) {
        struct gw_tool_entry *t = &s->tools[i];
        *t = b->p[i].e;
        atomic_init(&t->_def, NULL);
        if (i > 0 && strcmp(s->tools[i - 1].name, t->name) == 0) {
            rc = GW_ERROR_SET(err, GW_EINVAL, "snapshot: two tools are named %s", t->name);
            goto out;
        }
        memcpy(s->mcp_buf + off, gw_buf_ptr(&b->mcp) + b->p[i].mcp_off, t->mcp_json_len + 1);
        t->mcp_json = s->mcp_buf + off;
        off += t->mcp_json_len + 1;
        s->fingerprint = fnv64_add(s->fingerprint, t->name, t->name_len + 1);
        s->fingerprint = fnv64_add(s->fingerprint, &t->version, sizeof(t->version));
    }
    gw_buf_fini(&b->mcp);
    size_t cap = 16;
    while (cap < 2 * s->n)
        cap <<= 1;
    s->mask = cap - 1;
    s->table = gw_trycalloc(cap, sizeof(uint32_t));
    if (!s->table) {
        rc = GW_ERROR_SET(err, GW_ENOMEM, "out of memory building a snapshot index");
        goto out;
    }
    for (size_t i = 0; i < s->n; i++) {
        size_t slot = s->tools[i]._hash & s->mask;
        while (s->table[slot])
            slot = (slot + 1) & s->mask;
        s->table[slot] = (uint32_t)(i + 1);
    }
    build_aliases(b);
    s->bytes = sizeof(*s) + s->n * sizeof(*s->tools) + cap * sizeof(uint32_t) + off +
               gw_arena_used(s->arena) + s->naliases * sizeof(struct alias);
    for (size_t i = 0; i < s->next; i++) {
        if (s->exts[i].end)
            s->ext_data[i] = s->exts[i].end(s->exts[i].ctx, b->ext_state[i], s);
        b->ext_state[i] = NULL; /* end took it over */
    }
    *out = s;
    b->s = NULL;
out:
    gw_snapshot_builder_free(b);
    return rc;
}

int gw_snapshot_build(const json_t *defs, uint64_t version, long long store_version,
                      const struct gw_snapshot_ext *exts, size_t n, struct gw_snapshot **out,
                      struct gw_error *err)
{
    *out = NULL;
    if (!json_is_array(defs))
        return GW_ERROR_SET(err, GW_EINVAL, "snapshot needs an array of tool definitions");
    struct gw_snapshot_builder *b = gw_snapshot_builder_new(version, store_version, exts, n);
    size_t i;
    json_t *d;
    json_array_foreach(defs, i, d)
    {
        int rc = gw_snapshot_builder_add(b, d, err);
        if (rc != GW_OK) {
            gw_snapshot_builder_free(b);
            return rc;
        }
    }
    return gw_snapshot_builder_finish(b, out, err);
}

int gw_snapshot_new(const json_t *defs, uint64_t version, long long store_version,
                    struct gw_snapshot **out, struct gw_error *err)
{
    return gw_snapshot_build(defs, version, store_version, NULL, 0, out, err);
}

struct gw_snapshot *gw_snapshot_ref(struct gw_snapshot *s)
{
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    return s;
}

void gw_snapshot_release(struct gw_snapshot *s)
{
    if (s && atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
        snapshot_free(s);
}

uint64_t gw_snapshot_version(const struct gw_snapshot *s)
{
    return s->version;
}

long long gw_snapshot_store_version(const struct gw_snapshot *s)
{
    return s->store_version;
}

uint64_t gw_snapshot_fingerprint(const struct gw_snapshot *s)
{
    return s->fingerprint;
}

size_t gw_snapshot_count(const struct gw_snapshot *s)
{
    return s->n;
}

size_t gw_snapshot_index(const struct gw_snapshot *s, const struct gw_tool_entry *t)
{
    return (size_t)(t - s->tools);
}

size_t gw_snapshot_memory(const struct gw_snapshot *s)
{
    return s->bytes;
}

void *gw_snapshot_ext(const struct gw_snapshot *s, size_t i)
{
    return i < GW_SNAPSHOT_EXT_MAX ? s->ext_data[i] : NULL;
}

const struct gw_tool_entry *gw_snapshot_tool_at(const struct gw_snapshot *s, size_t i)
{
    return i < s->n ? &s->tools[i] : NULL;
}

const struct gw_tool_entry *gw_snapshot_find(const struct gw_snapshot *s, const char *name,
                                             size_t len)
{
    if (!s || !name || len == 0 || len > NAME_MAX_LEN || s->n == 0)
        return NULL;
    uint32_t h = fnv32(name, len);
    for (size_t slot = h & s->mask; s->table[slot]; slot = (slot + 1) & s->mask) {
        const struct gw_tool_entry *t = &s->tools[s->table[slot] - 1];
        if (t->_hash == h && t->name_len == len && memcmp(t->name, name, len) == 0)
            return t;
    }
    return NULL;
}

const struct gw_tool_entry *gw_snapshot_resolve(const struct gw_snapshot *s, const char *name,
                                                size_t len, bool *out_alias)
{
    if (out_alias)
        *out_alias = false;
    const struct gw_tool_entry *t = gw_snapshot_find(s, name, len);
    if (t || !s || !s->naliases || !name || len == 0 || len > NAME_MAX_LEN)
        return t;
    struct alias key = {name, len, 0, 0};
    const struct alias *a = bsearch(&key, s->aliases, s->naliases, sizeof(key), cmp_alias);
    if (!a || (a->until && (long long)time(NULL) >= a->until))
        return NULL;
    if (out_alias)
        *out_alias = true;
    return &s->tools[a->tool];
}

const json_t *gw_tool_def(const struct gw_tool_entry *t)
{
    struct gw_tool_entry *e = (struct gw_tool_entry *)(uintptr_t)t;
    json_t *d = atomic_load_explicit(&e->_def, memory_order_acquire);
    if (d)
        return d;
    /* the MCP members and the rest were serialised apart: parse both and merge */
    struct gw_json_limits lim = {0, 0};
    json_t *mcp = gw_json_parse(t->mcp_json, t->mcp_json_len, &lim, NULL);
    json_t *rest = gw_json_parse(t->_rest, t->_rest_len, &lim, NULL);
    if (!mcp || !rest || json_object_update(mcp, rest) != 0) {
        json_decref(mcp);
        json_decref(rest);
        return NULL;
    }
    json_decref(rest);
    json_t *expected = NULL;
    if (!atomic_compare_exchange_strong_explicit(&e->_def, &expected, mcp, memory_order_acq_rel,
                                                 memory_order_acquire)) {
        json_decref(mcp); /* another thread published first: use its copy */
        return expected;
    }
    return mcp;
}
/* ---- cursors ------------------------------------------------------------------------------ */

/* Cursor codec: base64url without padding, strict on decode. Written here rather than using
 * core/b64 because it must not allocate (tools/list hot path) and must reject non-canonical
 * input. */
static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Value of a base64url character, -1 for anything else. */
static int b64_val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

/* Encodes n bytes into out (4/3 n + 1 bytes), NUL-terminated; returns the length. */
static size_t b64_encode(const unsigned char *in, size_t n, char *out)
{
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64url[v >> 18 & 63];
        out[o++] = b64url[v >> 12 & 63];
        out[o++] = b64url[v >> 6 & 63];
        out[o++] = b64url[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = b64url[v >> 18 & 63];
        out[o++] = b64url[v >> 12 & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = b64url[v >> 18 & 63];
        out[o++] = b64url[v >> 12 & 63];
        out[o++] = b64url[v >> 6 & 63];
    }
    out[o] = '\0';
    return o;
}

/* Strict decode into out (capacity cap); returns the length or -1. */
static long b64_decode(const char *in, size_t n, unsigned char *out, size_t cap)
{
    if (n % 4 == 1)
        return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_val(in[i]);
        if (v < 0)
            return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap)
                return -1;
            out[o++] = (unsigned char)(acc >> bits & 0xff);
        }
    }
    if (acc & ((1u << bits) - 1)) /* non-canonical: leftover bits must be zero */
        return -1;
    return (long)o;
}

/* 16-bit check of a cursor's name: catches edited cursors (not a secret: a cursor is only a
 * position, see gw_snapshot_paginate). */
static uint16_t name_check(const char *name, size_t n)
{
    uint32_t h = fnv32(name, n) ^ 0x9e3779b9u;
    return (uint16_t)(h ^ h >> 16);
}

/* Writes the cursor of `name` into out (GW_CURSOR_MAX bytes). */
static void cursor_encode(const char *name, size_t n, char *out)
{
    unsigned char raw[NAME_MAX_LEN + 3];
    uint16_t chk = name_check(name, n);
    raw[0] = CURSOR_FORMAT;
    memcpy(raw + 1, name, n);
    raw[n + 1] = (unsigned char)(chk >> 8);
    raw[n + 2] = (unsigned char)(chk & 0xff);
    b64_encode(raw, n + 3, out);
}

/* Decodes a cursor into its name (out, NAME_MAX_LEN + 1 bytes). */
static int cursor_decode(const char *cursor, size_t len, char *out, size_t *out_len)
{
    unsigned char raw[NAME_MAX_LEN + 3];
    if (len > GW_CURSOR_MAX)
        return GW_EINVAL;
    long n = b64_decode(cursor, len, raw, sizeof(raw));
    if (n < 4 || raw[0] != CURSOR_FORMAT)
        return GW_EINVAL;
    size_t nl = (size_t)n - 3;
    memcpy(out, raw + 1, nl);
    out[nl] = '\0';
    uint16_t chk = (uint16_t)(raw[nl + 1] << 8 | raw[nl + 2]);
    if (!valid_name(out, nl) || chk != name_check(out, nl))
        return GW_EINVAL;
    *out_len = nl;
    return GW_OK;
}

/* Index of the first tool whose name sorts after name[0..n). */
static size_t upper_bound(const struct gw_snapshot *s, const char *name, size_t n)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct gw_tool_entry *t = &s->tools[mid];
        size_t m = t->name_len < n ? t->name_len : n;
        int c = memcmp(t->name, name, m);
        if (c == 0)
            c = t->name_len < n ? -1 : t->name_len > n ? 1 : 0;
        if (c <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int gw_snapshot_paginate(const struct gw_snapshot *s, const char *cursor, size_t cursor_len,
                         size_t page_size, gw_tool_filter_fn filter, void *ctx,
                         const struct gw_tool_entry **out_page, size_t *out_n, char *out_next,
                         struct gw_error *err)
{
    size_t pos = 0, k = 0;
    *out_n = 0;
    out_next[0] = '\0';
    if (page_size == 0 || page_size > GW_PAGE_MAX)
        return GW_ERROR_SET(err, GW_EINVAL, "page size must be 1-%d", GW_PAGE_MAX);
    if (cursor && cursor_len > 0) {
        char name[NAME_MAX_LEN + 1];
        size_t nl = 0;
        if (cursor_decode(cursor, cursor_len, name, &nl) != GW_OK)
            return GW_ERROR_SET(err, GW_EINVAL, "invalid cursor");
        pos = upper_bound(s, name, nl);
    }
    size_t i = pos;
    for (; i < s->n && k < page_size; i++)
        if (!filter || filter(ctx, &s->tools[i]))
            out_page[k++] = &s->tools[i];
    *out_n = k;
    if (k < page_size)
        return GW_OK;
    for (; i < s->n; i++) {
        if (!filter || filter(ctx, &s->tools[i])) {
            cursor_encode(out_page[k - 1]->name, out_page[k - 1]->name_len, out_next);
            break;
        }
    }
    return GW_OK;
}
