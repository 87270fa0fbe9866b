/*
 * src/openapi/openapi_doc.c
 * Documents of one import and $ref resolution between and inside them.
 *
 * Owns: the import context (init/fini), loading the root document, loading referenced files
 * (relative to the referring document, only inside the spec folder, symlinks resolved, each
 * file loaded once) and URLs (only when enabled, through the SSRF guard), JSON pointers
 * (percent-decoding, ~0/~1, array indexes), $ref chains on non-schema objects, and warnings.
 * Invariants: a document is parsed at most once per import, a failed load is remembered (and
 * reported for every operation that needs it) rather than retried; limits on documents, bytes
 * and $ref count make the import fail as a whole (c->fatal), refused or dangling references
 * only fail the operation that needs them. Error messages quote references as written in the
 * spec, never absolute server paths.
 * Not here: schema conversion and cycles (openapi_schema.c).
 */
#include "openapi/openapi_internal.h"

#include "core/alloc.h"
#include "core/str.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DEREF_HOPS 64
#define MAX_RESOLVE_NESTING 16

void gw_openapi__ctx_init(struct gw_openapi__ctx *c, const struct gw_openapi_options *o,
                          struct gw_error *err)
{
    memset(c, 0, sizeof(*c));
    c->o = o;
    c->err = err;
    c->doc_index = json_object();
    c->def_names = json_object();
    c->warnings = json_array();
}

void gw_openapi__ctx_fini(struct gw_openapi__ctx *c)
{
    gw_openapi__forms_fini(c);
    for (size_t i = 0; i < c->ndocs; i++) {
        json_decref(c->docs[i]->root);
        gw_free(c->docs[i]->uri);
        gw_free(c->docs[i]);
    }
    gw_free(c->docs);
    json_decref(c->doc_index);
    json_decref(c->def_names);
    json_decref(c->warnings);
    gw_free(c->file_root);
    gw_ssrf_policy_free(c->own_ssrf);
    memset(c, 0, sizeof(*c));
}

/* Replaces bytes that are not part of valid UTF-8 with '?': messages quote spec strings with
 * a precision ("%.100s") that can cut a multi-byte character. */
static void utf8_sanitize(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        size_t n = *p < 0x80             ? 1
                   : (*p & 0xE0) == 0xC0 ? 2
                   : (*p & 0xF0) == 0xE0 ? 3
                   : (*p & 0xF8) == 0xF0 ? 4
                                         : 0;
        bool ok = n > 0;
        for (size_t i = 1; ok && i < n; i++)
            ok = (p[i] & 0xC0) == 0x80;
        if (!ok) {
            *p++ = '?';
            continue;
        }
        p += n;
    }
}

void gw_openapi__warn(struct gw_openapi__ctx *c, const char *level, const char *code,
                      const char *fmt, ...)
{
    if (json_array_size(c->warnings) >= GW_OPENAPI__MAX_WARNINGS)
        return;
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    utf8_sanitize(msg);
    json_t *w = json_object();
    json_object_set_new(w, "operation", c->op_label ? json_string(c->op_label) : json_null());
    json_object_set_new(w, "operationId", c->op_id ? json_string(c->op_id) : json_null());
    json_object_set_new(w, "level", json_string(level));
    json_object_set_new(w, "code", json_string(code));
    json_t *m = json_string(msg); /* NULL when a cut left invalid UTF-8 */
    json_object_set_new(w, "message", m ? m : json_string("(message not valid UTF-8)"));
    json_array_append_new(c->warnings, w);
}

/* Records the first fatal condition of the import (a limit, OOM): the whole import fails with
 * it. Returns the code. */
static int set_fatal(struct gw_openapi__ctx *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int set_fatal(struct gw_openapi__ctx *c, int code, const char *fmt, ...)
{
    if (c->fatal != GW_OK)
        return c->fatal;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    utf8_sanitize(msg);
    c->fatal = code;
    GW_ERROR_SET(c->err, code, "%s", msg);
    return code;
}

/* ---- text helpers ---- */

/* Value of a hex digit, or -1. */
static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..n) into a new string; NULL if it would contain a NUL or on OOM. */
static char *pct_decode(const char *s, size_t n)
{
    char *out = gw_trymalloc(n + 1);
    if (!out)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n) {
            int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
            if (h >= 0 && l >= 0) {
                out[j++] = (char)(h * 16 + l);
                i += 2;
                continue;
            }
        }
        out[j++] = s[i];
    }
    out[j] = '\0';
    if (strlen(out) != j) {
        gw_free(out);
        return NULL;
    }
    return out;
}

/* Whether s starts with "<scheme>:" (case-insensitive). */
static bool has_scheme(const char *s, const char *scheme)
{
    size_t n = strlen(scheme);
    return strncasecmp(s, scheme, n) == 0 && s[n] == ':';
}

static bool is_url(const char *s)
{
    return has_scheme(s, "http") || has_scheme(s, "https");
}

/* ---- documents ---- */

/* Registers a document (root NULL: a load that failed, remembered so it is not retried). */
static struct gw_openapi__doc *doc_add(struct gw_openapi__ctx *c, const char *uri,
                                       enum gw_openapi__doc_kind kind, json_t *root)
{
    struct gw_openapi__doc **d = gw_xrealloc(c->docs, (c->ndocs + 1) * sizeof(*d));
    c->docs = d;
    struct gw_openapi__doc *doc = gw_xcalloc(1, sizeof(*doc));
    doc->uri = gw_xstrdup(uri);
    doc->kind = kind;
    doc->root = root; /* may be NULL: a failed load, remembered */
    c->docs[c->ndocs] = doc;
    json_object_set_new(c->doc_index, uri, json_integer((json_int_t)c->ndocs));
    c->ndocs++;
    return doc;
}

/* Reads a whole regular file under the per-document and total byte limits (fatal when
 * exceeded). GW_OK with *out (gw_free), or a code with why set. */
static int read_file(struct gw_openapi__ctx *c, const char *path, char **out, size_t *out_len,
                     char *why, size_t why_size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, why_size, "cannot open: %s", errno == ENOENT ? "no such file" : "error");
        return errno == ENOENT ? GW_ENOTFOUND : GW_EIO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        snprintf(why, why_size, "not a regular file");
        return GW_EIO;
    }
    size_t size = (size_t)st.st_size;
    const struct gw_openapi_limits *lim = &c->o->limits;
    if (lim->max_doc_bytes && size > lim->max_doc_bytes) {
        close(fd);
        return set_fatal(c, GW_ELIMIT, "a document of %zu bytes exceeds the limit of %zu", size,
                         lim->max_doc_bytes);
    }
    if (lim->max_total_bytes && c->total_bytes + size > lim->max_total_bytes) {
        close(fd);
        return set_fatal(c, GW_ELIMIT, "the spec's documents exceed %zu bytes in total",
                         lim->max_total_bytes);
    }
    char *buf = gw_trymalloc(size + 1);
    if (!buf) {
        close(fd);
        return set_fatal(c, GW_ENOMEM, "out of memory reading a document");
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (got != size) {
        gw_free(buf);
        snprintf(why, why_size, "short read");
        return GW_EIO;
    }
    buf[size] = '\0';
    c->total_bytes += size;
    *out = buf;
    *out_len = size;
    return GW_OK;
}

/* The document-count limit, checked before each new document. */
static int check_doc_count(struct gw_openapi__ctx *c)
{
    if (c->docs_frozen)
        return set_fatal(c, GW_AGAIN, "a document not loaded yet is referenced");
    size_t max = c->o->limits.max_documents;
    if (max && c->ndocs >= max)
        return set_fatal(c, GW_ELIMIT, "the spec references more than %zu documents", max);
    return GW_OK;
}

/* Parses text into a document root; NULL with why on a syntax error (fatal on limits). */
static json_t *parse_text(struct gw_openapi__ctx *c, const char *buf, size_t len, char *why,
                          size_t why_size)
{
    struct gw_error e;
    gw_error_clear(&e);
    json_t *root = gw_openapi_parse_document(buf, len, &c->o->limits, &e);
    if (!root) {
        if (e.code == GW_ELIMIT || e.code == GW_ENOMEM)
            set_fatal(c, e.code, "%s", e.msg);
        snprintf(why, why_size, "%.250s", e.msg);
    }
    return root;
}

/* Loads (once) the file at absolute `path`. Returns the document or NULL with why set. */
static struct gw_openapi__doc *load_file(struct gw_openapi__ctx *c, const char *path,
                                         const char *as_written, char *why, size_t why_size)
{
    if (!c->o->allow_file_refs) {
        snprintf(why, why_size,
                 "reference to another file '%.200s' refused: file references "
                 "are disabled",
                 as_written);
        return NULL;
    }
    if (!c->file_root) {
        snprintf(why, why_size,
                 "reference to another file '%.200s' refused: the spec has no "
                 "base location",
                 as_written);
        return NULL;
    }
    char real[PATH_MAX];
    if (!realpath(path, real)) {
        snprintf(why, why_size, "referenced file '%.200s' not found", as_written);
        return NULL;
    }
    size_t rn = strlen(c->file_root);
    if (strncmp(real, c->file_root, rn) != 0 || (real[rn] != '/' && rn > 1)) {
        snprintf(why, why_size,
                 "reference '%.200s' refused: it leaves the spec folder "
                 "(path traversal)",
                 as_written);
        return NULL;
    }
    json_t *idx = json_object_get(c->doc_index, real);
    if (idx) {
        struct gw_openapi__doc *d = c->docs[json_integer_value(idx)];
        if (!d->root)
            snprintf(why, why_size, "referenced file '%.200s' could not be loaded", as_written);
        return d->root ? d : NULL;
    }
    if (check_doc_count(c) != GW_OK)
        return NULL;
    char *buf = NULL;
    size_t len = 0;
    json_t *root = NULL;
    char inner[300] = "";
    if (read_file(c, real, &buf, &len, inner, sizeof(inner)) == GW_OK) {
        root = parse_text(c, buf, len, inner, sizeof(inner));
        gw_free(buf);
    }
    struct gw_openapi__doc *d = doc_add(c, real, OA_DOC_FILE, root);
    if (!root) {
        snprintf(why, why_size, "referenced file '%.150s': %.200s", as_written, inner);
        return NULL;
    }
    return d;
}

/* The SSRF policy for URL documents: the caller's, or a default one (public addresses only). */
static const struct gw_ssrf_policy *ssrf_policy(struct gw_openapi__ctx *c)
{
    if (c->o->ssrf)
        return c->o->ssrf;
    if (!c->own_ssrf)
        c->own_ssrf = gw_ssrf_policy_new();
    return c->own_ssrf;
}

/* Fetches a document by URL (once). */
static struct gw_openapi__doc *load_url(struct gw_openapi__ctx *c, const char *url,
                                        const char *as_written, char *why, size_t why_size)
{
    if (!c->o->allow_url_refs) {
        snprintf(why, why_size,
                 "reference to URL '%.200s' refused: URL references are "
                 "disabled",
                 as_written);
        return NULL;
    }
    json_t *idx = json_object_get(c->doc_index, url);
    if (idx) {
        struct gw_openapi__doc *d = c->docs[json_integer_value(idx)];
        if (!d->root)
            snprintf(why, why_size, "referenced URL '%.200s' could not be loaded", as_written);
        return d->root ? d : NULL;
    }
    if (check_doc_count(c) != GW_OK)
        return NULL;
    struct gw_buf body;
    const struct gw_openapi_limits *lim = &c->o->limits;
    gw_buf_init(&body, lim->max_doc_bytes ? lim->max_doc_bytes : (size_t)1 << 30);
    struct gw_error e;
    gw_error_clear(&e);
    json_t *root = NULL;
    char inner[300] = "";
    if (gw_ssrf_fetch(url, ssrf_policy(c), &body, NULL, &e) == GW_OK) {
        if (lim->max_total_bytes && c->total_bytes + gw_buf_len(&body) > lim->max_total_bytes) {
            set_fatal(c, GW_ELIMIT, "the spec's documents exceed %zu bytes in total",
                      lim->max_total_bytes);
        } else {
            c->total_bytes += gw_buf_len(&body);
            root = parse_text(c, gw_buf_ptr(&body), gw_buf_len(&body), inner, sizeof(inner));
        }
    } else {
        snprintf(inner, sizeof(inner), "%.250s", e.msg);
    }
    gw_buf_fini(&body);
    struct gw_openapi__doc *d = doc_add(c, url, OA_DOC_URL, root);
    if (!root) {
        snprintf(why, why_size, "referenced URL '%.150s': %.200s", as_written, inner);
        return NULL;
    }
    return d;
}

char *gw_openapi__url_join(const char *base, const char *rel)
{
    char *res = NULL, *tmp = NULL;
    CURLU *u = curl_url();
    if (!u)
        return NULL;
    if (curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_URL, rel, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &tmp, 0) == CURLUE_OK)
        res = gw_xstrdup(tmp);
    curl_free(tmp);
    curl_url_cleanup(u);
    return res;
}

/* The document a reference's document part names, relative to `from`. */
static struct gw_openapi__doc *ref_doc(struct gw_openapi__ctx *c, struct gw_openapi__doc *from,
                                       const char *docpart, char *why, size_t why_size)
{
    if (is_url(docpart))
        return load_url(c, docpart, docpart, why, why_size);
    if (from->kind == OA_DOC_URL) {
        if (has_scheme(docpart, "file")) {
            snprintf(why, why_size,
                     "reference '%.200s' refused: a document fetched from a URL "
                     "cannot reference local files",
                     docpart);
            return NULL;
        }
        char *abs = gw_openapi__url_join(from->uri, docpart);
        if (!abs) {
            snprintf(why, why_size, "reference '%.200s' is not a valid URL", docpart);
            return NULL;
        }
        struct gw_openapi__doc *d = load_url(c, abs, docpart, why, why_size);
        gw_free(abs);
        return d;
    }
    /* file references: relative to the referring file's folder */
    const char *rel = docpart;
    if (has_scheme(docpart, "file")) {
        rel = docpart + 5;
        if (strncmp(rel, "//", 2) == 0)
            rel += 2; /* file:///abs/path -> /abs/path ("localhost" hosts are not supported) */
    }
    if (strchr(rel, ':') && !strchr(rel, '/')) {
        snprintf(why, why_size, "reference '%.200s' uses an unsupported scheme", docpart);
        return NULL;
    }
    char *decoded = pct_decode(rel, strlen(rel));
    if (!decoded) {
        snprintf(why, why_size, "reference '%.200s' is not a valid path", docpart);
        return NULL;
    }
    if (from->kind == OA_DOC_MEMORY && !c->file_root) {
        gw_free(decoded);
        snprintf(why, why_size,
                 "reference to another document '%.200s' refused: the spec was "
                 "given without a base location",
                 docpart);
        return NULL;
    }
    char path[PATH_MAX];
    if (decoded[0] == '/') {
        snprintf(path, sizeof(path), "%s", decoded);
    } else {
        const char *base = from->uri;
        const char *slash = strrchr(base, '/');
        size_t dn = slash ? (size_t)(slash - base) : 0;
        if (dn + strlen(decoded) + 2 >= sizeof(path)) {
            gw_free(decoded);
            snprintf(why, why_size, "reference '%.200s' is too long", docpart);
            return NULL;
        }
        memcpy(path, base, dn);
        path[dn] = '/';
        memcpy(path + dn + 1, decoded, strlen(decoded) + 1);
    }
    gw_free(decoded);
    return load_file(c, path, docpart, why, why_size);
}

/* Walks a decoded JSON pointer ("/a/b~1c/0") from root. NULL if absent. */
static json_t *pointer_walk(struct gw_openapi__ctx *c, struct gw_openapi__doc **docp, json_t *root,
                            const char *ptr, char *why, size_t why_size)
{
    json_t *node = root;
    const char *p = ptr;
    char tok[1024];
    while (*p == '/') {
        p++;
        size_t n = 0;
        while (*p && *p != '/') {
            char ch = *p++;
            if (ch == '~') {
                if (*p == '0')
                    ch = '~';
                else if (*p == '1')
                    ch = '/';
                else
                    return NULL;
                p++;
            }
            if (n + 1 >= sizeof(tok))
                return NULL;
            tok[n++] = ch;
        }
        tok[n] = '\0';
        json_t *next = NULL;
        if (json_is_object(node)) {
            next = json_object_get(node, tok);
            if (!next && json_object_get(node, "$ref")) {
                /* lenient: step through a $ref on the way (not in the RFC, common in specs) */
                json_t *d = gw_openapi__deref(c, node, docp, why, why_size);
                next = json_is_object(d) ? json_object_get(d, tok) : NULL;
            }
        } else if (json_is_array(node)) {
            unsigned long long i = 0;
            if (n == 0 || (n > 1 && tok[0] == '0') ||
                gw_str_to_u64((struct gw_str){tok, n}, &i) != GW_OK)
                return NULL;
            next = json_array_get(node, (size_t)i);
        }
        if (!next)
            return NULL;
        node = next;
    }
    return *p ? NULL : node;
}

/* One $ref: document part (loaded on demand) then fragment (JSON pointer). */
static int resolve(struct gw_openapi__ctx *c, struct gw_openapi__doc *doc, const char *ref,
                   struct gw_openapi__doc **out_doc, json_t **out_node, char *why, size_t why_size);

/* Resolution nests when a pointer steps through a $ref on its way: bounded, so a reference
 * that walks through itself ends with an error instead of a stack overflow. */
int gw_openapi__resolve(struct gw_openapi__ctx *c, struct gw_openapi__doc *doc, const char *ref,
                        struct gw_openapi__doc **out_doc, json_t **out_node, char *why,
                        size_t why_size)
{
    if (c->resolve_depth >= MAX_RESOLVE_NESTING) {
        snprintf(why, why_size, "reference '%.200s' nests references too deeply (a cycle?)", ref);
        return GW_EINVAL;
    }
    c->resolve_depth++;
    int rc = resolve(c, doc, ref, out_doc, out_node, why, why_size);
    c->resolve_depth--;
    return rc;
}

static int resolve(struct gw_openapi__ctx *c, struct gw_openapi__doc *doc, const char *ref,
                   struct gw_openapi__doc **out_doc, json_t **out_node, char *why, size_t why_size)
{
    if (c->fatal != GW_OK)
        return c->fatal;
    size_t max = c->o->limits.max_refs;
    if (max && ++c->nrefs > max)
        return set_fatal(c, GW_ELIMIT, "more than %zu $ref resolutions", max);
    if (!max)
        c->nrefs++;
    const char *hash = strchr(ref, '#');
    size_t dn = hash ? (size_t)(hash - ref) : strlen(ref);
    struct gw_openapi__doc *target = doc;
    if (dn > 0) {
        char docpart[2048];
        if (dn >= sizeof(docpart)) {
            snprintf(why, why_size, "reference too long");
            return GW_EINVAL;
        }
        memcpy(docpart, ref, dn);
        docpart[dn] = '\0';
        target = ref_doc(c, doc, docpart, why, why_size);
        if (!target)
            return c->fatal != GW_OK ? c->fatal : GW_ENOTFOUND;
    }
    const char *frag = hash ? hash + 1 : "";
    if (!*frag) {
        *out_doc = target;
        *out_node = target->root;
        return GW_OK;
    }
    char *ptr = pct_decode(frag, strlen(frag));
    if (!ptr) {
        snprintf(why, why_size, "reference '%.200s' has an invalid fragment", ref);
        return GW_EINVAL;
    }
    if (ptr[0] != '/') {
        gw_free(ptr);
        snprintf(why, why_size,
                 "reference '%.200s' uses a plain-name fragment ($anchor), "
                 "which is not supported",
                 ref);
        return GW_EINVAL;
    }
    struct gw_openapi__doc *d = target;
    json_t *node = pointer_walk(c, &d, target->root, ptr, why, why_size);
    gw_free(ptr);
    if (!node) {
        if (c->fatal != GW_OK)
            return c->fatal;
        snprintf(why, why_size, "dangling reference '%.200s': no such location", ref);
        return GW_ENOTFOUND;
    }
    *out_doc = d;
    *out_node = node;
    return GW_OK;
}

json_t *gw_openapi__deref(struct gw_openapi__ctx *c, json_t *node, struct gw_openapi__doc **docp,
                          char *why, size_t why_size)
{
    for (int hop = 0; hop < MAX_DEREF_HOPS; hop++) {
        json_t *r = json_is_object(node) ? json_object_get(node, "$ref") : NULL;
        if (!r)
            return node;
        if (!json_is_string(r)) {
            snprintf(why, why_size, "$ref is not a string");
            return NULL;
        }
        struct gw_openapi__doc *d = NULL;
        json_t *t = NULL;
        if (gw_openapi__resolve(c, *docp, json_string_value(r), &d, &t, why, why_size) != GW_OK)
            return NULL;
        *docp = d;
        node = t;
    }
    snprintf(why, why_size, "$ref chain longer than %d hops (a reference cycle?)", MAX_DEREF_HOPS);
    return NULL;
}

int gw_openapi__load_root(struct gw_openapi__ctx *c, const char *buf, size_t len,
                          const char *base_uri, enum gw_openapi__doc_kind kind)
{
    const struct gw_openapi_limits *lim = &c->o->limits;
    if (lim->max_doc_bytes && len > lim->max_doc_bytes)
        return set_fatal(c, GW_ELIMIT, "the spec of %zu bytes exceeds the limit of %zu", len,
                         lim->max_doc_bytes);
    c->total_bytes += len;
    char uri[PATH_MAX + 16] = "";
    if (base_uri && *base_uri) {
        if (is_url(base_uri)) {
            kind = OA_DOC_URL;
            snprintf(uri, sizeof(uri), "%s", base_uri);
        } else {
            const char *path = base_uri;
            if (has_scheme(path, "file")) {
                path += 5;
                if (strncmp(path, "//", 2) == 0)
                    path += 2;
            }
            /* the folder must exist; the file itself need not (a buffer with a base) */
            char dir[PATH_MAX], real[PATH_MAX];
            const char *slash = strrchr(path, '/');
            const char *name = slash ? slash + 1 : path;
            if (slash)
                snprintf(dir, sizeof(dir), "%.*s", (int)(slash == path ? 1 : slash - path), path);
            else
                snprintf(dir, sizeof(dir), ".");
            if (!realpath(dir, real))
                return set_fatal(c, GW_ENOTFOUND, "the spec's folder does not exist");
            snprintf(uri, sizeof(uri), "%s/%s", strcmp(real, "/") ? real : "", name);
            if (kind == OA_DOC_MEMORY)
                kind = OA_DOC_FILE;
            const char *root = c->o->file_root;
            char rr[PATH_MAX];
            if (root && !realpath(root, rr))
                return set_fatal(c, GW_ENOTFOUND, "file_root does not exist");
            c->file_root = gw_xstrdup(root ? rr : real);
        }
    }
    char why[400] = "";
    json_t *root = parse_text(c, buf, len, why, sizeof(why));
    if (!root) {
        if (c->fatal != GW_OK)
            return c->fatal;
        return set_fatal(c, GW_EINVAL, "%s", why);
    }
    doc_add(c, uri, kind, root);
    return GW_OK;
}
