/*
 * src/registry/registry_snapshot.c
 * Building, looking up and paginating immutable tool snapshots.
 *
 * Layout (one build, then read-only): `tools` is an array sorted by name with strcmp (byte
 * order, the order the store lists in); `table` is an open-addressing hash index (linear
 * probing, power-of-two size >= 2n, slots hold index + 1, 0 = empty) over FNV-1a hashes of
 * the names; all MCP-facing JSON strings live back to back, NUL-separated, in one buffer.
 * Invariants: names are unique; entry pointers into `defs` stay valid because the snapshot
 * holds a reference to every definition; refs counts holders, and the memory is freed by the
 * release that brings it to zero.
 * Cursors: base64url (no padding) of [0x01][name bytes][2-byte check of the name]; decoding is
 * strict (alphabet, canonical trailing bits, version byte, check, name syntax).
 * Not here: where snapshots come from (registry.c), who may see which tool (exposure).
 */
#include "registry/registry_snapshot.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tool names: [A-Za-z0-9_-]{1,64} (docs/tool-model.md). */
#define NAME_MAX_LEN 64
#define CURSOR_FORMAT 0x01
#define MCP_BUF_MAX ((size_t)1 << 30)

/* Immutable after gw_snapshot_new except `refs` (see the file comment for the layout). */
struct gw_snapshot {
    atomic_size_t refs;
    uint64_t version;
    long long store_version;
    uint64_t fingerprint;
    size_t n;
    struct gw_tool_entry *tools;
    uint32_t *table;
    size_t mask;
    char *mcp_buf;
    json_t *defs; /* array of the definitions, keeping them alive */
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
static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const struct gw_tool_entry *)a)->name, ((const struct gw_tool_entry *)b)->name);
}

/* Serialises the MCP-facing object of a definition onto out (NUL-terminated). */
static int dump_mcp(const json_t *def, struct gw_buf *out)
{
    static const char *const keys[] = {"name",         "title",       "description",
                                       "inputSchema",  "outputSchema", "annotations", NULL};
    json_t *o = json_object();
    if (!o)
        return GW_ENOMEM;
    for (const char *const *k = keys; *k; k++) {
        json_t *v = json_object_get(def, *k);
        bool want = (!strcmp(*k, "title") || !strcmp(*k, "description") || !strcmp(*k, "name"))
                        ? json_is_string(v)
                        : json_is_object(v);
        if (want && json_object_set(o, *k, v) != 0) {
            json_decref(o);
            return GW_ENOMEM;
        }
    }
    int rc = gw_json_dump(o, out);
    json_decref(o);
    if (rc == GW_OK)
        rc = gw_buf_addc(out, '\0');
    return rc;
}

/* Frees a snapshot (refcount reached zero, or a failed build). Accepts NULL. */
static void snapshot_free(struct gw_snapshot *s)
{
    if (!s)
        return;
    gw_free(s->tools);
    gw_free(s->table);
    gw_free(s->mcp_buf);
    json_decref(s->defs);
    gw_free(s);
}

int gw_snapshot_new(const json_t *defs, uint64_t version, long long store_version,
                    struct gw_snapshot **out, struct gw_error *err)
{
    struct gw_snapshot *s = NULL;
    struct gw_buf mcp;
    size_t *offsets = NULL;
    int rc = GW_OK;
    *out = NULL;
    gw_buf_init(&mcp, MCP_BUF_MAX);
    if (!json_is_array(defs))
        return GW_ERROR_SET(err, GW_EINVAL, "snapshot needs an array of tool definitions");
    s = gw_xcalloc(1, sizeof(*s));
    atomic_init(&s->refs, 1);
    s->version = version;
    s->store_version = store_version;
    s->n = json_array_size(defs);
    s->defs = json_array();
    s->tools = gw_trycalloc(s->n ? s->n : 1, sizeof(*s->tools));
    offsets = gw_trycalloc(s->n ? s->n : 1, sizeof(size_t));
    if (!s->defs || !s->tools || !offsets) {
        rc = GW_ERROR_SET(err, GW_ENOMEM, "out of memory building a snapshot");
        goto out;
    }
    for (size_t i = 0; i < s->n; i++) {
        json_t *d = json_array_get(defs, i);
        const char *name = gw_json_str(d, "name");
        if (!name || !valid_name(name, strlen(name)) ||
            !json_is_object(json_object_get(d, "inputSchema"))) {
            rc = GW_ERROR_SET(err, GW_EINVAL, "snapshot: tool #%zu (%s) is not a valid definition",
                              i, name && strlen(name) <= NAME_MAX_LEN ? name : "?");
            goto out;
        }
        json_array_append(s->defs, d);
        struct gw_tool_entry *t = &s->tools[i];
        t->def = d;
        t->name = name;
        t->name_len = strlen(name);
        t->bundle = gw_json_str(d, "bundle");
        t->risk = gw_json_str(d, "risk") ? gw_json_str(d, "risk") : "write";
        t->version = json_integer_value(json_object_get(d, "version"));
        t->_hash = fnv32(name, t->name_len);
    }
    qsort(s->tools, s->n, sizeof(*s->tools), cmp_entry);
    /* MCP JSON after sorting so the buffer is in list order (cache-friendly tools/list) */
    s->fingerprint = 14695981039346656037ull;
    for (size_t i = 0; i < s->n; i++) {
        struct gw_tool_entry *t = &s->tools[i];
        if (i > 0 && strcmp(s->tools[i - 1].name, t->name) == 0) {
            rc = GW_ERROR_SET(err, GW_EINVAL, "snapshot: two tools are named %s", t->name);
            goto out;
        }
        offsets[i] = gw_buf_len(&mcp);
        rc = dump_mcp(t->def, &mcp);
        if (rc != GW_OK) {
            rc = GW_ERROR_SET(err, rc, "snapshot: cannot serialise tool %s", t->name);
            goto out;
        }
        t->mcp_json_len = gw_buf_len(&mcp) - offsets[i] - 1;
        s->fingerprint = fnv64_add(s->fingerprint, t->name, t->name_len + 1);
        s->fingerprint = fnv64_add(s->fingerprint, &t->version, sizeof(t->version));
    }
    s->mcp_buf = gw_buf_take(&mcp, NULL);
    for (size_t i = 0; i < s->n; i++)
        s->tools[i].mcp_json = s->mcp_buf + offsets[i];
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
    *out = s;
    s = NULL;
out:
    snapshot_free(s);
    gw_free(offsets);
    gw_buf_fini(&mcp);
    return rc;
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
