/*
 * src/openapi/openapi_yaml.c
 * YAML (and JSON) documents into jansson values, under limits.
 *
 * Owns: the libyaml event loop that builds jansson values, YAML 1.2 core-schema typing of plain
 * scalars (null, true/false, integers incl. 0x/0o, floats; everything else a string; quoted and
 * block scalars are strings), anchors and aliases, merge keys ("<<", YAML 1.1 convention, used
 * by real specs), stringification of non-string keys, and the limits.
 * Invariants: an alias shares the anchored value (json_incref) instead of copying it, so memory
 * stays linear, and the *expanded* size of every value is tracked: a billion-laughs document
 * fails on max_nodes / max_alias_nodes before anything walks it. An alias to a node that is
 * still open (a recursive alias) is refused, so the result is always a finite tree/DAG, never a
 * cycle. Only the first document of a stream is read.
 * Not here: $ref (openapi_ref.c); JSON parsing itself (core/json.c).
 */
#include "openapi/openapi_internal.h"

#include "core/alloc.h"
#include "core/json.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct anchor {
    char *name;
    json_t *node; /* a reference owned by the table */
    size_t size;  /* expanded node count */
    bool done;
};

struct frame {
    json_t *node; /* array or object (owned until attached to the parent) */
    bool is_map;
    char *key;      /* map: pending key (owned); NULL while a key is expected */
    bool key_merge; /* the pending key is the merge key "<<" */
    size_t size;    /* expanded nodes so far, the container itself included */
    long anchor;    /* index into anchors, or -1 */
    json_t *merges; /* map: array of mappings to merge at the end, or NULL */
};

struct ystate {
    const struct gw_openapi_limits *lim;
    struct gw_error *err;
    struct frame *frames;
    size_t nframes, capframes;
    struct anchor *anchors;
    size_t nanchors, capanchors;
    json_t *root;
    size_t total_nodes;
    size_t alias_nodes;
    size_t line, column; /* of the current event, 1-based, for messages */
};

/* ---- scalars ---- */

/* YAML 1.2 core schema null: "", ~, null, Null, NULL. */
static bool is_null_text(const char *v, size_t n)
{
    return n == 0 || (n == 1 && v[0] == '~') ||
           (n == 4 && (!memcmp(v, "null", 4) || !memcmp(v, "Null", 4) || !memcmp(v, "NULL", 4)));
}

/* YAML 1.2 core schema booleans: 1 true, 0 false, -1 neither (yes/no/on/off are strings). */
static int bool_text(const char *v, size_t n)
{
    if (n == 4 && (!memcmp(v, "true", 4) || !memcmp(v, "True", 4) || !memcmp(v, "TRUE", 4)))
        return 1;
    if (n == 5 && (!memcmp(v, "false", 5) || !memcmp(v, "False", 5) || !memcmp(v, "FALSE", 5)))
        return 0;
    return -1;
}

/* YAML 1.2 core schema integer: [-+]?[0-9]+ | 0o[0-7]+ | 0x[0-9a-fA-F]+. Decimal integers beyond
 * 64 bits are kept exact as big numbers (core/json.h); huge hex ones stay strings. */
static json_t *int_value(const char *v, size_t n)
{
    if (n == 0 || n > 64)
        return NULL;
    unsigned base = 10;
    size_t i = 0;
    bool neg = false;
    if (n > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'o')) {
        base = v[1] == 'x' ? 16 : 8;
        i = 2;
    } else if (v[0] == '-' || v[0] == '+') {
        neg = v[0] == '-';
        i = 1;
    }
    if (i == n)
        return NULL;
    unsigned long long acc = 0;
    bool overflow = false;
    for (; i < n; i++) {
        char c = v[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return NULL;
        if (d >= base)
            return NULL;
        if (acc > (ULLONG_MAX - d) / base)
            overflow = true;
        else
            acc = acc * base + d;
    }
    if (overflow || acc > (unsigned long long)LLONG_MAX + (neg ? 1u : 0u)) {
        if (base != 10)
            return NULL; /* a huge hex number stays a string */
        /* beyond 64 bits: kept exact (core/json.h big numbers), without a leading '+' */
        return gw_json_bignum(v[0] == '+' ? v + 1 : v, v[0] == '+' ? n - 1 : n);
    }
    if (neg)
        return json_integer(acc == (unsigned long long)LLONG_MAX + 1u ? LLONG_MIN
                                                                      : -(long long)acc);
    return json_integer((long long)acc);
}

/* YAML 1.2 core schema float (finite only; .inf/.nan have no JSON form and stay strings). */
static json_t *float_value(const char *v, size_t n)
{
    char tmp[64];
    if (n == 0 || n >= sizeof(tmp))
        return NULL;
    size_t i = 0;
    if (v[i] == '-' || v[i] == '+')
        i++;
    size_t digits = 0;
    while (i < n && v[i] >= '0' && v[i] <= '9') {
        i++;
        digits++;
    }
    if (i < n && v[i] == '.') {
        i++;
        while (i < n && v[i] >= '0' && v[i] <= '9') {
            i++;
            digits++;
        }
    }
    if (digits == 0)
        return NULL;
    if (i < n && (v[i] == 'e' || v[i] == 'E')) {
        i++;
        if (i < n && (v[i] == '-' || v[i] == '+'))
            i++;
        size_t ed = 0;
        while (i < n && v[i] >= '0' && v[i] <= '9') {
            i++;
            ed++;
        }
        if (ed == 0)
            return NULL;
    }
    if (i != n)
        return NULL;
    memcpy(tmp, v, n);
    tmp[n] = '\0';
    double d = strtod(tmp, NULL);
    if (isfinite(d))
        return json_real(d);
    /* beyond double range: kept exact when it is a JSON number literal */
    return gw_json_bignum(v[0] == '+' ? v + 1 : v, v[0] == '+' ? n - 1 : n);
}

/* A plain scalar's number: integer first, then float; NULL when it is neither. */
static json_t *number_value(const char *v, size_t n)
{
    json_t *x = int_value(v, n);
    return x ? x : float_value(v, n);
}

/* The JSON value of a scalar: tags first, quoted and block scalars are strings, plain ones
 * are typed by the core schema. New reference, NULL when not valid UTF-8. */
static json_t *scalar_value(const char *v, size_t n, bool plain, const char *tag)
{
    json_t *x = NULL;
    if (tag && strncmp(tag, "tag:yaml.org,2002:", 18) == 0) {
        const char *t = tag + 18;
        if (!strcmp(t, "str"))
            return json_stringn(v, n);
        if (!strcmp(t, "null") && is_null_text(v, n))
            return json_null();
        if (!strcmp(t, "bool") && bool_text(v, n) >= 0)
            return json_boolean(bool_text(v, n));
        if (!strcmp(t, "int")) {
            x = int_value(v, n);
            if (x)
                return x;
        }
        if (!strcmp(t, "float")) {
            x = number_value(v, n);
            if (x)
                return x;
        }
        if (strcmp(t, "merge") != 0 && strcmp(t, "value") != 0)
            return json_stringn(v, n);
    }
    if (!plain)
        return json_stringn(v, n);
    if (is_null_text(v, n))
        return json_null();
    int b = bool_text(v, n);
    if (b >= 0)
        return json_boolean(b);
    x = number_value(v, n);
    return x ? x : json_stringn(v, n);
}

/* ---- state helpers ---- */

/* Sets an error at the current event's line and column. Returns code. */
static int fail(struct ystate *st, int code, const char *what)
{
    GW_ERROR_SET(st->err, code, "YAML line %zu column %zu: %s", st->line, st->column, what);
    return code;
}

/* Adds n nodes (expanded) to the document's count and, for aliases, to the alias count;
 * GW_ELIMIT past either limit. */
static int count_nodes(struct ystate *st, size_t n, bool alias)
{
    st->total_nodes += n;
    if (alias)
        st->alias_nodes += n;
    if (st->lim->max_nodes && st->total_nodes > st->lim->max_nodes)
        return fail(st, GW_ELIMIT, "document has more nodes than the limit (aliases expanded)");
    if (alias && st->lim->max_alias_nodes && st->alias_nodes > st->lim->max_alias_nodes)
        return fail(st, GW_ELIMIT, "alias expansion exceeds the limit (billion laughs?)");
    return GW_OK;
}

/* Defines (or redefines) an anchor; later definitions shadow earlier ones. Index or -1. */
static long anchor_add(struct ystate *st, const char *name, json_t *node, bool done)
{
    if (st->nanchors == st->capanchors) {
        size_t cap = st->capanchors ? st->capanchors * 2 : 16;
        struct anchor *a = gw_tryrealloc(st->anchors, cap * sizeof(*a));
        if (!a)
            return -1;
        st->anchors = a;
        st->capanchors = cap;
    }
    char *nm = gw_trymalloc(strlen(name) + 1);
    if (!nm)
        return -1;
    memcpy(nm, name, strlen(name) + 1);
    /* the table holds its own reference: an anchored value may be consumed (a mapping key
     * is stringified and released) and still be aliased later */
    st->anchors[st->nanchors] = (struct anchor){nm, json_incref(node), 1, done};
    return (long)st->nanchors++;
}

/* The latest definition of an anchor name, or NULL. */
static struct anchor *anchor_find(struct ystate *st, const char *name)
{
    for (size_t i = st->nanchors; i-- > 0;)
        if (strcmp(st->anchors[i].name, name) == 0)
            return &st->anchors[i];
    return NULL;
}

/* Records the value of a merge key ("<<": a mapping or a list of mappings) for the end of
 * the mapping. */
static int merge_source(struct ystate *st, struct frame *f, json_t *v)
{
    if (!f->merges && !(f->merges = json_array()))
        return fail(st, GW_ENOMEM, "out of memory");
    if (json_is_object(v))
        return json_array_append(f->merges, v) == 0 ? GW_OK : fail(st, GW_ENOMEM, "out of memory");
    if (json_is_array(v)) {
        size_t i;
        json_t *m;
        json_array_foreach(v, i, m)
        {
            if (!json_is_object(m))
                return fail(st, GW_EINVAL, "merge key value must be a mapping or mappings");
            if (json_array_append(f->merges, m) != 0)
                return fail(st, GW_ENOMEM, "out of memory");
        }
        return GW_OK;
    }
    return fail(st, GW_EINVAL, "merge key value must be a mapping or mappings");
}

/* Text of a value used as a mapping key. */
static char *key_text(json_t *v)
{
    size_t bn;
    const char *big = gw_json_bignum_text(v, &bn);
    if (big)
        return gw_xstrndup(big, bn);
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (memchr(s, '\0', n))
            return NULL;
        char *k = gw_trymalloc(n + 1);
        if (k)
            memcpy(k, s, n + 1);
        return k;
    }
    struct gw_buf b;
    gw_buf_init(&b, 4096);
    if (gw_json_dump(v, &b) != GW_OK) {
        gw_buf_fini(&b);
        return NULL;
    }
    return gw_buf_take(&b, NULL);
}

/* Attaches a finished value (owned reference) of expanded size `size` to the open container,
 * or makes it the root. `plain_merge`: the value is the plain scalar "<<" (a merge key when it
 * stands in key position). A container used as a key is stringified (compact JSON). */
static int attach(struct ystate *st, json_t *v, size_t size, bool plain_merge)
{
    if (st->nframes == 0) {
        if (st->root) {
            json_decref(v);
            return GW_OK;
        }
        st->root = v;
        return GW_OK;
    }
    struct frame *f = &st->frames[st->nframes - 1];
    f->size += size;
    if (!f->is_map) {
        if (json_array_append_new(f->node, v) != 0)
            return fail(st, GW_ENOMEM, "out of memory");
        return GW_OK;
    }
    if (!f->key) {
        char *k = key_text(v);
        json_decref(v);
        if (!k)
            return fail(st, GW_EINVAL, "mapping key cannot be represented as a string");
        f->key = k;
        f->key_merge = plain_merge;
        return GW_OK;
    }
    int rc = GW_OK;
    if (f->key_merge) {
        rc = merge_source(st, f, v);
        json_decref(v);
    } else if (json_object_set_new(f->node, f->key, v) != 0) {
        rc = fail(st, GW_EINVAL, "mapping key is not valid UTF-8");
    }
    gw_free_null(&f->key);
    f->key_merge = false;
    return rc;
}

/* A sequence or mapping starts: new frame (depth-limited), anchor registered while open. */
static int open_container(struct ystate *st, bool is_map, const yaml_char_t *anchor)
{
    if (st->lim->max_depth > 0 && st->nframes >= (size_t)st->lim->max_depth)
        return fail(st, GW_ELIMIT, "nesting deeper than the limit");
    if (st->nframes == st->capframes) {
        size_t cap = st->capframes ? st->capframes * 2 : 32;
        struct frame *fr = gw_tryrealloc(st->frames, cap * sizeof(*fr));
        if (!fr)
            return fail(st, GW_ENOMEM, "out of memory");
        st->frames = fr;
        st->capframes = cap;
    }
    int rc = count_nodes(st, 1, false);
    if (rc != GW_OK)
        return rc;
    json_t *node = is_map ? json_object() : json_array();
    if (!node)
        return fail(st, GW_ENOMEM, "out of memory");
    long ai = -1;
    if (anchor && (ai = anchor_add(st, (const char *)anchor, node, false)) < 0) {
        json_decref(node);
        return fail(st, GW_ENOMEM, "out of memory");
    }
    st->frames[st->nframes++] = (struct frame){node, is_map, NULL, false, 1, ai, NULL};
    return GW_OK;
}

/* A sequence or mapping ends: apply merge keys (absent keys only, first source first),
 * complete its anchor, attach it to its parent. */
static int close_container(struct ystate *st)
{
    struct frame f = st->frames[--st->nframes];
    int rc = GW_OK;
    if (f.is_map && f.key) /* "key:" without a value cannot happen; be safe */
        gw_free_null(&f.key);
    if (f.merges) {
        size_t i;
        json_t *m;
        json_array_foreach(f.merges, i, m)
        {
            const char *k;
            json_t *val;
            json_object_foreach(m, k, val)
            {
                if (!json_object_get(f.node, k) && json_object_set(f.node, k, val) != 0) {
                    rc = fail(st, GW_ENOMEM, "out of memory");
                    break;
                }
            }
        }
        json_decref(f.merges);
    }
    if (f.anchor >= 0) {
        st->anchors[f.anchor].done = true;
        st->anchors[f.anchor].size = f.size;
    }
    if (rc != GW_OK) {
        json_decref(f.node);
        return rc;
    }
    return attach(st, f.node, f.size, false);
}

/* Releases everything the parser state still owns (on success frames are empty). */
static void ystate_fini(struct ystate *st)
{
    for (size_t i = 0; i < st->nframes; i++) {
        json_decref(st->frames[i].node);
        gw_free(st->frames[i].key);
        json_decref(st->frames[i].merges);
    }
    gw_free(st->frames);
    for (size_t i = 0; i < st->nanchors; i++) {
        gw_free(st->anchors[i].name);
        json_decref(st->anchors[i].node);
    }
    gw_free(st->anchors);
}

json_t *gw_openapi__yaml_parse(const char *buf, size_t len, const struct gw_openapi_limits *lim,
                               struct gw_error *err)
{
    struct ystate st;
    memset(&st, 0, sizeof(st));
    st.lim = lim;
    st.err = err;
    yaml_parser_t parser;
    yaml_event_t ev;
    json_t *result = NULL;
    if (lim->max_doc_bytes && len > lim->max_doc_bytes) {
        GW_ERROR_SET(err, GW_ELIMIT, "document of %zu bytes exceeds the limit of %zu", len,
                     lim->max_doc_bytes);
        return NULL;
    }
    if (!yaml_parser_initialize(&parser)) {
        GW_ERROR_SET(err, GW_ENOMEM, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    bool done = false;
    int rc = GW_OK;
    while (!done && rc == GW_OK) {
        if (!yaml_parser_parse(&parser, &ev)) {
            GW_ERROR_SET(err, GW_EINVAL, "YAML line %zu column %zu: %s%s%s",
                         parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                         parser.problem ? parser.problem : "syntax error",
                         parser.context ? " " : "", parser.context ? parser.context : "");
            rc = GW_EINVAL;
            break;
        }
        st.line = ev.start_mark.line + 1;
        st.column = ev.start_mark.column + 1;
        switch (ev.type) {
        case YAML_SCALAR_EVENT: {
            const char *v = (const char *)ev.data.scalar.value;
            size_t n = ev.data.scalar.length;
            bool plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
            rc = count_nodes(&st, 1, false);
            if (rc != GW_OK)
                break;
            /* in key position the text is kept as written ("1e3" stays "1e3") */
            struct frame *top = st.nframes ? &st.frames[st.nframes - 1] : NULL;
            bool key_pos = top && top->is_map && !top->key;
            json_t *x = key_pos ? json_stringn(v, n)
                                : scalar_value(v, n, plain, (const char *)ev.data.scalar.tag);
            if (!x) {
                rc = fail(&st, GW_EINVAL, "scalar is not valid UTF-8");
                break;
            }
            if (ev.data.scalar.anchor &&
                anchor_add(&st, (const char *)ev.data.scalar.anchor, x, true) < 0) {
                json_decref(x);
                rc = fail(&st, GW_ENOMEM, "out of memory");
                break;
            }
            bool merge = plain && n == 2 && v[0] == '<' && v[1] == '<';
            rc = attach(&st, x, 1, merge);
            break;
        }
        case YAML_ALIAS_EVENT: {
            struct anchor *a = anchor_find(&st, (const char *)ev.data.alias.anchor);
            if (!a) {
                rc = fail(&st, GW_EINVAL, "alias to an undefined anchor");
                break;
            }
            if (!a->done) {
                rc = fail(&st, GW_EINVAL, "recursive alias (an alias inside its own anchor)");
                break;
            }
            rc = count_nodes(&st, a->size, true);
            if (rc != GW_OK)
                break;
            rc = attach(&st, json_incref(a->node), a->size, false);
            break;
        }
        case YAML_SEQUENCE_START_EVENT:
            rc = open_container(&st, false, ev.data.sequence_start.anchor);
            break;
        case YAML_MAPPING_START_EVENT:
            rc = open_container(&st, true, ev.data.mapping_start.anchor);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            rc = close_container(&st);
            break;
        case YAML_DOCUMENT_END_EVENT:
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    if (rc == GW_OK) {
        result = st.root ? st.root : json_null();
        st.root = NULL;
    }
    json_decref(st.root);
    ystate_fini(&st);
    return result;
}

json_t *gw_openapi_parse_document(const char *buf, size_t len, const struct gw_openapi_limits *lim,
                                  struct gw_error *err)
{
    struct gw_openapi_limits dflt;
    if (!lim) {
        struct gw_openapi_options o;
        gw_openapi_options_init(&o);
        dflt = o.limits;
        lim = &dflt;
    }
    size_t i = 0;
    /* UTF-8 byte order mark and leading white space */
    if (len >= 3 && (unsigned char)buf[0] == 0xEF && (unsigned char)buf[1] == 0xBB &&
        (unsigned char)buf[2] == 0xBF)
        i = 3;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
        i++;
    if (i < len && (buf[i] == '{' || buf[i] == '[')) {
        struct gw_json_limits jl = {lim->max_doc_bytes, lim->max_depth};
        return gw_json_parse(buf + i, len - i, &jl, err);
    }
    return gw_openapi__yaml_parse(buf, len, lim, err);
}
