/*
 * src/discovery/discovery_index.c
 * The search index of a snapshot: tokenizer, stemmer, thesaurus, BM25F scoring.
 *
 * Documents are the snapshot's tools, in snapshot (name) order. Fields and weights:
 *   name (identifier words)       3.0     title                        2.5
 *   path (literal path words)     1.5     tags, API product, spec id   1.5
 *   description                   1.0     parameters (names, texts)    0.4
 *   verb (the title's first word) 2.0, matched by the query's first word only: agents write
 *   imperatives ("star a repository") and titles start with their verb ("Star a repository").
 * Terms: lower-cased words split at non-alphanumerics and camelCase boundaries (letters and
 * digits are also split, "sha1" is indexed as sha1, sha and 1), stop words dropped, light
 * English stemming (plurals, -ing, -ed, -ment, final e), a few spelling variants folded (repo
 * -> repository). Each field has its own BM25 length normalisation (k1 1.2; b 0.75, 0.3 for the
 * short name and title fields); a document's score is the sum over query terms of idf x the
 * weighted field scores. Query words also bring their thesaurus neighbours (cancel -> delete,
 * remove; book -> create, appointment; ...) at half their weight, and the HTTP method of a
 * tool counts as a verb of its name (DELETE: delete remove; POST: create add ...). A name's
 * product or spec prefix (added by the naming policy on conflicts) is not part of its name
 * words: the product is indexed once, with the tags.
 * Layout: a term dictionary (open addressing over FNV-1a, strings in one buffer) and the
 * postings of all terms in one array grouped by term (counting sort at the end of the build).
 * The index is immutable after the build; a search allocates one score array.
 */
#include "discovery/discovery.h"

#include "core/alloc.h"
#include "core/json.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { F_NAME, F_TITLE, F_PATH, F_TAGS, F_DESC, F_PARAMS, F_VERB, NF };

static const double WEIGHT[NF] = {3.0, 2.5, 1.5, 1.5, 1.0, 0.4, 2.0};
static const double BNORM[NF] = {0.3, 0.3, 0.5, 0.5, 0.75, 0.75, 0.0};
#define K1 1.2
#define EXPANSION_WEIGHT 0.5
#define TERM_MAX 32
#define QUERY_TERMS_MAX 64
#define DESC_CHARS_MAX 4096 /* words of a description indexed */

struct posting {
    uint32_t doc;
    uint8_t tf[NF];
};

struct term {
    uint32_t str;  /* offset into terms_buf */
    uint32_t df;
    uint32_t first; /* first posting (after the build) */
};

struct gw_dindex {
    size_t n;
    float *flen;    /* n * NF field lengths */
    double avg[NF];
    char *strs;     /* term strings, NUL-separated */
    size_t strs_len, strs_cap;
    struct term *terms;
    size_t nterms, capterms;
    uint32_t *table; /* term index + 1 */
    size_t mask;
    struct posting *post;
    size_t npost, cappost;
    uint32_t *post_term; /* during the build: the term of each posting */
    /* build state */
    char **names;   /* arrival order -> tool name (for the remap at the end) */
    size_t nnames, capnames;
};

/* ---- words ---------------------------------------------------------------------------------- */

static const char *const STOP[] = {
    "a",    "an",   "the",   "of",    "to",    "for",  "my",    "me",   "i",     "is",
    "are",  "this", "that",  "these", "in",    "on",   "by",    "with", "and",   "or",
    "can",  "what", "which", "how",   "be",    "it",   "its",   "from", "at",    "all",
    "your", "you",  "we",    "our",   "us",    "please", "do",  "does", "will",  "would",
    "should", "there", "their", "them", "they", "has", "have", "was", "were", "if",
    "when", "then", "than", "into", "as", "so", "any", "some", "one", "via", "also",
    "been", "being", "whether", "just", "want", "need", "like", "e", "g", "eg", "ie",
    NULL};

static bool stop_word(const char *w)
{
    for (const char *const *s = STOP; *s; s++)
        if (!strcmp(w, *s))
            return true;
    return false;
}

/* Spelling variants folded to one word before stemming. */
static const char *const FOLD[][2] = {
    {"repo", "repository"}, {"repos", "repository"}, {"appt", "appointment"},
    {"otps", "otp"},        {"emp", "employee"},     {"emps", "employee"},
    {"info", "information"}, {"id", "id"},          {"ids", "id"},
    {"db", "database"},     {"dbs", "database"},     {"k8s", "kubernetes"},
    {"pr", "pull"},         {"prs", "pull"},         {"msg", "message"},
    {"msgs", "message"},    {"env", "environment"},  {"envs", "environment"},
    {"pwd", "password"},    {"config", "configuration"}, {"configs", "configuration"},
    {"auth", "authentication"}, {NULL, NULL}};

static bool is_vowel(char c)
{
    return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
}

/* Light English stemming in place: plurals, -ing, -ed, final e (so "bookings", "booked" and
 * "booking" meet at "book", "creates" / "creating" / "create" at "creat"). */
static void stem(char *w)
{
    size_t n = strlen(w);
    bool suffix = false;
    if (n > 4 && !strcmp(w + n - 3, "ies")) {
        w[n - 3] = 'y';
        n -= 2;
    } else if (n > 4 && !strcmp(w + n - 4, "sses")) {
        n -= 2;
    } else if (n > 3 && w[n - 1] == 's' && w[n - 2] == 'e' &&
               (w[n - 3] == 's' || w[n - 3] == 'x' || w[n - 3] == 'z' ||
                (n > 4 && (w[n - 3] == 'h') && (w[n - 4] == 'c' || w[n - 4] == 's')))) {
        n -= 2;
    } else if (n > 3 && w[n - 1] == 's' && w[n - 2] != 's' && w[n - 2] != 'u' &&
               w[n - 2] != 'i') {
        n -= 1;
    }
    w[n] = '\0';
    if (n > 5 && !strcmp(w + n - 3, "ing")) {
        n -= 3;
        suffix = true;
    } else if (n > 4 && !strcmp(w + n - 2, "ed")) {
        n -= 2;
        suffix = true;
    }
    w[n] = '\0';
    if (!suffix && n > 7 && !strcmp(w + n - 4, "ment")) { /* deployment -> deploy */
        n -= 4;
        w[n] = '\0';
    }
    /* a consonant doubled before the suffix: "running" -> "run", "shipped" -> "ship" */
    if (suffix && n > 3 && w[n - 1] == w[n - 2] && !is_vowel(w[n - 1]) &&
        strchr("bdgmnprt", w[n - 1]))
        w[--n] = '\0';
    if (n > 3 && w[n - 1] == 'e')
        w[--n] = '\0';
}

/* Calls fn for every term of text[0..len): words split at non-alphanumerics and at camelCase
 * boundaries ("getUserById" -> get user by id), lower-cased, folded, stop words dropped,
 * stemmed. Bytes >= 0x80 are kept inside words (non-English text stays searchable). */
typedef void (*term_fn)(void *ud, const char *term);

/* Folds, filters and stems one word, then hands it to fn. */
static void emit(char *w, term_fn fn, void *ud)
{
    for (size_t f = 0; FOLD[f][0]; f++)
        if (!strcmp(w, FOLD[f][0])) {
            snprintf(w, TERM_MAX + 1, "%s", FOLD[f][1]);
            break;
        }
    if ((strlen(w) > 1 || (w[0] >= '0' && w[0] <= '9')) && !stop_word(w)) {
        stem(w);
        if (w[0])
            fn(ud, w);
    }
}

/* A word; when it mixes letters and digits ("sha1", "v2beta"), also its letter and digit runs,
 * so that "SHA-1" and "sha1" meet. */
static void word(char *w, term_fn fn, void *ud)
{
    char parts[TERM_MAX + 1];
    bool digit = false, alpha = false;
    for (const char *p = w; *p; p++) {
        digit = digit || (*p >= '0' && *p <= '9');
        alpha = alpha || !(*p >= '0' && *p <= '9');
    }
    snprintf(parts, sizeof(parts), "%s", w);
    emit(w, fn, ud);
    if (!(digit && alpha))
        return;
    char run[TERM_MAX + 1];
    size_t rn = 0;
    for (size_t i = 0;; i++) {
        char c = parts[i];
        bool isd = c >= '0' && c <= '9';
        bool brk = !c || (rn > 0 && isd != (run[rn - 1] >= '0' && run[rn - 1] <= '9'));
        if (brk && rn) {
            run[rn] = '\0';
            emit(run, fn, ud);
            rn = 0;
        }
        if (!c)
            break;
        run[rn++] = c;
    }
}

static void tokenize(const char *text, size_t len, term_fn fn, void *ud)
{
    char w[TERM_MAX + 1];
    size_t wn = 0;
    for (size_t i = 0; i <= len; i++) {
        unsigned char c = i < len ? (unsigned char)text[i] : 0;
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c >= 0x80;
        bool boundary = !alnum;
        if (alnum && wn > 0 && c >= 'A' && c <= 'Z') {
            unsigned char prev = (unsigned char)text[i - 1];
            unsigned char next = i + 1 < len ? (unsigned char)text[i + 1] : 0;
            /* aB -> a|B; ABc -> A|Bc */
            if ((prev >= 'a' && prev <= 'z') || (prev >= '0' && prev <= '9') ||
                (prev >= 'A' && prev <= 'Z' && next >= 'a' && next <= 'z'))
                boundary = true;
        }
        if (boundary && wn > 0) {
            w[wn] = '\0';
            wn = 0;
            word(w, fn, ud);
        }
        if (alnum && wn < TERM_MAX)
            w[wn++] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
    }
}

/* ---- the thesaurus (query side) ------------------------------------------------------------- */

/* Stemmed word -> neighbours (stemmed), for query expansion. General API vocabulary: CRUD
 * verbs and a few nouns that mean the same thing across APIs. */
static const char *const THESAURUS[][6] = {
    {"cancel", "delet", "remov", "stop", NULL},
    {"delet", "remov", "destroy", "cancel", NULL},
    {"remov", "delet", "destroy", NULL},
    {"destroy", "delet", "remov", NULL},
    {"stop", "cancel", "delet", NULL},
    {"list", "get", "search", "find", "fetch", NULL},
    {"show", "get", "list", "fetch", NULL},
    {"find", "search", "get", "lookup", "resolv", NULL},
    {"search", "find", "list", "query", NULL},
    {"look", "find", "get", "search", "resolv", NULL},
    {"lookup", "find", "get", "resolv", NULL},
    {"get", "fetch", "retriev", "read", "list", NULL},
    {"fetch", "get", "retriev", NULL},
    {"creat", "add", "new", "post", "insert", NULL},
    {"add", "creat", "new", "post", NULL},
    {"new", "creat", "add", NULL},
    {"mak", "creat", "add", NULL},
    {"open", "creat", "start", NULL},
    {"register", "creat", "sign", NULL},
    {"publish", "creat", "releas", NULL},
    {"updat", "chang", "edit", "modify", "patch", NULL},
    {"chang", "updat", "edit", "modify", NULL},
    {"edit", "updat", "chang", "modify", NULL},
    {"modify", "updat", "chang", "edit", NULL},
    {"mov", "updat", "reschedul", "chang", NULL},
    {"reschedul", "updat", "mov", NULL},
    {"book", "booking", "appointment", "reserv", "creat", NULL},
    {"reserv", "book", "booking", NULL},
    {"appointment", "booking", "book", "slot", NULL},
    {"booking", "appointment", "book", NULL},
    {"slot", "availability", "calendar", "appointment", NULL},
    {"availabl", "availability", "slot", "stock", NULL},
    {"free", "availabl", "availability", NULL},
    {"car", "vehicl", NULL},
    {"vehicl", "car", NULL},
    {"phone", "mobil", NULL},
    {"mobil", "phone", NULL},
    {"workshop", "dealer", NULL},
    {"dealership", "dealer", NULL},
    {"employe", "staff", "emp", NULL},
    {"staff", "employe", NULL},
    {"user", "account", "member", NULL},
    {"account", "user", "customer", NULL},
    {"customer", "user", "account", NULL},
    {"password", "otp", "credential", NULL},
    {"otp", "password", "verif", NULL},
    {"verify", "verif", "check", "validat", NULL},
    {"check", "verify", "validat", "status", NULL},
    {"status", "state", "check", NULL},
    {"bigger", "resiz", "scale", "upgrad", NULL},
    {"resiz", "scale", NULL},
    {"deploy", "deployment", NULL},
    {"deployment", "deploy", NULL},
    {"run", "execut", "start", NULL},
    {"start", "run", "initiat", "begin", NULL},
    {"download", "get", "export", NULL},
    {"upload", "import", "put", NULL},
    {"send", "post", "creat", NULL},
    {"post", "send", "creat", NULL},
    {"messag", "chat", NULL},
    {"money", "balanc", "amount", "credit", NULL},
    {"cost", "price", "bill", "invoic", NULL},
    {"bill", "invoic", NULL},
    {"forum", "topic", "post", NULL},
    {"reason", "reasons", NULL},
    {"history", "log", "list", NULL},
    {"merg", "pull", NULL},
    {"code", "sourc", NULL},
    {"kind", "type", "categori", NULL},
    {"type", "kind", "categori", NULL},
    {"categori", "type", "kind", NULL},
    {"route", "rout", "direction", NULL},
    {"driv", "rout", "route", NULL},
    {NULL}};

/* The verbs an HTTP method adds to a tool's name field. */
static const char *method_verbs(const char *m)
{
    if (!m)
        return "";
    if (!strcmp(m, "GET"))
        return "get list";
    if (!strcmp(m, "POST"))
        return "create add";
    if (!strcmp(m, "DELETE"))
        return "delete remove";
    if (!strcmp(m, "PUT") || !strcmp(m, "PATCH"))
        return "update change";
    return "";
}

/* ---- the dictionary ------------------------------------------------------------------------- */

static uint32_t fnv(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static const char *term_str(const struct gw_dindex *ix, size_t t)
{
    return ix->strs + ix->terms[t].str;
}

/* The id of term s, or -1. */
static long find_term(const struct gw_dindex *ix, const char *s)
{
    if (!ix->table)
        return -1;
    for (size_t i = fnv(s) & ix->mask; ix->table[i]; i = (i + 1) & ix->mask)
        if (!strcmp(term_str(ix, ix->table[i] - 1), s))
            return (long)ix->table[i] - 1;
    return -1;
}

static void grow_table(struct gw_dindex *ix)
{
    size_t cap = ix->mask ? (ix->mask + 1) * 2 : 1024;
    uint32_t *t = gw_xcalloc(cap, sizeof(uint32_t));
    for (size_t k = 0; k < ix->nterms; k++) {
        size_t i = fnv(term_str(ix, k)) & (cap - 1);
        while (t[i])
            i = (i + 1) & (cap - 1);
        t[i] = (uint32_t)k + 1;
    }
    gw_free(ix->table);
    ix->table = t;
    ix->mask = cap - 1;
}

/* The id of term s, added when new. */
static size_t add_term(struct gw_dindex *ix, const char *s)
{
    long have = find_term(ix, s);
    if (have >= 0)
        return (size_t)have;
    if ((ix->nterms + 1) * 2 > (ix->table ? ix->mask + 1 : 0))
        grow_table(ix);
    size_t len = strlen(s) + 1;
    if (ix->strs_len + len > ix->strs_cap) {
        ix->strs_cap = (ix->strs_len + len) * 2 + 4096;
        ix->strs = gw_xrealloc(ix->strs, ix->strs_cap);
    }
    memcpy(ix->strs + ix->strs_len, s, len);
    if (ix->nterms == ix->capterms) {
        ix->capterms = ix->capterms ? ix->capterms * 2 : 1024;
        ix->terms = gw_xrealloc(ix->terms, ix->capterms * sizeof(*ix->terms));
    }
    ix->terms[ix->nterms] = (struct term){(uint32_t)ix->strs_len, 0, 0};
    ix->strs_len += len;
    size_t i = fnv(s) & ix->mask;
    while (ix->table[i])
        i = (i + 1) & ix->mask;
    ix->table[i] = (uint32_t)ix->nterms + 1;
    return ix->nterms++;
}

/* ---- building ------------------------------------------------------------------------------- */

/* One document being indexed: term -> field frequencies (small linear table). */
struct docterms {
    struct gw_dindex *ix;
    int field;
    size_t n, cap;
    struct {
        uint32_t term;
        uint8_t tf[NF];
    } *v;
    float len[NF];
};

static void doc_add(void *ud, const char *term)
{
    struct docterms *d = ud;
    uint32_t t = (uint32_t)add_term(d->ix, term);
    d->len[d->field] += 1;
    for (size_t i = 0; i < d->n; i++)
        if (d->v[i].term == t) {
            if (d->v[i].tf[d->field] < 255)
                d->v[i].tf[d->field]++;
            return;
        }
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 64;
        d->v = gw_xrealloc(d->v, d->cap * sizeof(*d->v));
    }
    memset(&d->v[d->n], 0, sizeof(d->v[0]));
    d->v[d->n].term = t;
    d->v[d->n].tf[d->field] = 1;
    d->n++;
}

static void field_text(struct docterms *d, int field, const char *text, size_t len)
{
    if (!text)
        return;
    d->field = field;
    tokenize(text, len, doc_add, d);
}

static void field_str(struct docterms *d, int field, const char *s)
{
    if (s)
        field_text(d, field, s, strlen(s));
}

/* Keeps the first term only (the verb field). */
struct first_term {
    char t[TERM_MAX + 1];
};

static void first_fn(void *ud, const char *term)
{
    struct first_term *f = ud;
    if (!f->t[0])
        snprintf(f->t, sizeof(f->t), "%s", term);
}

/* The literal words of a path template ("/users/{username}/repos" -> users repos). */
static void path_words(struct docterms *d, const char *path)
{
    char buf[1024];
    size_t o = 0;
    bool in_param = false;
    for (const char *p = path; p && *p && o + 1 < sizeof(buf); p++) {
        if (*p == '{')
            in_param = true;
        else if (*p == '}')
            in_param = false;
        buf[o++] = in_param || *p == '}' ? ' ' : *p;
    }
    buf[o] = '\0';
    field_text(d, F_PATH, buf, o);
}

static void *ix_begin(void *ctx, size_t n_hint)
{
    (void)ctx;
    (void)n_hint;
    return gw_xcalloc(1, sizeof(struct gw_dindex));
}

/* "Service Booking" / "service-booking" -> "service_booking": the prefix the naming policy
 * gives names (docs/openapi-import.md). */
static void snake_of(const char *in, char *out, size_t size)
{
    size_t o = 0;
    for (const char *p = in; p && *p && o + 1 < size; p++) {
        char c = *p >= 'A' && *p <= 'Z' ? (char)(*p + 32) : *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (ok)
            out[o++] = c;
        else if (o && out[o - 1] != '_')
            out[o++] = '_';
    }
    while (o && out[o - 1] == '_')
        o--;
    out[o] = '\0';
}

/* The tool's own name without the product or spec prefix the naming policy may have added
 * ("service_booking_create_booking" -> "create_booking"): the product's words are indexed
 * once, in the tags field, instead of weighing on every name. */
static const char *own_name(const char *name, const char *bundle, const char *spec_id)
{
    const char *src[2] = {bundle, spec_id};
    for (int i = 0; i < 2; i++) {
        char pfx[80];
        snake_of(src[i], pfx, sizeof(pfx));
        size_t n = strlen(pfx);
        if (n && !strncmp(name, pfx, n) && name[n] == '_' && name[n + 1])
            return name + n + 1;
    }
    return name;
}

static void ix_tool(void *ctx, void *state, const struct gw_tool_entry *e, const json_t *def)
{
    (void)ctx;
    struct gw_dindex *ix = state;
    struct docterms d = {ix, 0, 0, 0, NULL, {0}};
    uint32_t doc = (uint32_t)ix->nnames;
    const json_t *srcj = json_object_get(def, "source");
    const char *spec_id = gw_json_str(srcj, "specId");
    field_str(&d, F_NAME, own_name(e->name, e->bundle, spec_id));
    const json_t *binding = json_object_get(def, "binding");
    field_str(&d, F_NAME, method_verbs(gw_json_str(binding, "method")));
    const char *title = gw_json_str(def, "title");
    field_str(&d, F_TITLE, title);
    struct first_term verb = {""};
    const char *vsrc = title && *title ? title : e->name;
    tokenize(vsrc, strlen(vsrc), first_fn, &verb);
    if (verb.t[0]) {
        d.field = F_VERB;
        doc_add(&d, verb.t);
    }
    const char *desc = gw_json_str(def, "description");
    if (desc)
        field_text(&d, F_DESC, desc, strnlen(desc, DESC_CHARS_MAX));
    const json_t *src = json_object_get(def, "source");
    path_words(&d, gw_json_str(src, "path") ? gw_json_str(src, "path")
                                            : gw_json_str(binding, "path"));
    for (size_t i = 0; i < e->ntags; i++)
        field_str(&d, F_TAGS, e->tags[i]);
    field_str(&d, F_TAGS, e->bundle);
    field_str(&d, F_TAGS, spec_id); /* the API's identity: "... on GitHub", "... to Vercel" */
    const json_t *props = json_object_get(json_object_get(def, "inputSchema"), "properties");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)(uintptr_t)props, k, v)
    {
        field_str(&d, F_PARAMS, k);
        const char *pd = gw_json_str(v, "description");
        if (pd)
            field_text(&d, F_PARAMS, pd, strnlen(pd, 512));
    }
    for (size_t i = 0; i < d.n; i++) {
        if (ix->npost == ix->cappost) {
            ix->cappost = ix->cappost ? ix->cappost * 2 : 4096;
            ix->post = gw_xrealloc(ix->post, ix->cappost * sizeof(*ix->post));
            ix->post_term = gw_xrealloc(ix->post_term, ix->cappost * sizeof(uint32_t));
        }
        ix->post[ix->npost].doc = doc;
        memcpy(ix->post[ix->npost].tf, d.v[i].tf, NF);
        ix->post_term[ix->npost] = d.v[i].term;
        ix->npost++;
        ix->terms[d.v[i].term].df++;
    }
    gw_free(d.v);
    if (ix->nnames == ix->capnames) {
        ix->capnames = ix->capnames ? ix->capnames * 2 : 256;
        ix->names = gw_xrealloc(ix->names, ix->capnames * sizeof(char *));
        ix->flen = gw_xrealloc(ix->flen, ix->capnames * NF * sizeof(float));
    }
    ix->names[ix->nnames] = gw_xstrdup(e->name);
    memcpy(ix->flen + (size_t)doc * NF, d.len, sizeof(d.len));
    ix->nnames++;
}

static void ix_release(void *ctx, void *data)
{
    (void)ctx;
    struct gw_dindex *ix = data;
    if (!ix)
        return;
    for (size_t i = 0; i < ix->nnames; i++)
        gw_free(ix->names[i]);
    gw_free(ix->names);
    gw_free(ix->flen);
    gw_free(ix->strs);
    gw_free(ix->terms);
    gw_free(ix->table);
    gw_free(ix->post);
    gw_free(ix->post_term);
    gw_free(ix);
}

/* Finishes the index: documents renumbered in snapshot order, field lengths and averages,
 * postings grouped by term. */
static void *ix_end(void *ctx, void *state, const struct gw_snapshot *s)
{
    (void)ctx;
    struct gw_dindex *ix = state;
    size_t n = gw_snapshot_count(s);
    const struct gw_tool_entry *base = gw_snapshot_tool_at(s, 0);
    uint32_t *remap = gw_xcalloc(ix->nnames ? ix->nnames : 1, sizeof(uint32_t));
    float *flen = gw_xcalloc(n ? n * NF : 1, sizeof(float));
    for (size_t i = 0; i < ix->nnames; i++) {
        const struct gw_tool_entry *t = gw_snapshot_find(s, ix->names[i], strlen(ix->names[i]));
        remap[i] = t ? (uint32_t)(t - base) : 0;
        if (t)
            memcpy(flen + (size_t)remap[i] * NF, ix->flen + i * NF, NF * sizeof(float));
        gw_free(ix->names[i]);
    }
    gw_free(ix->names);
    ix->names = NULL;
    ix->nnames = ix->capnames = 0;
    gw_free(ix->flen);
    ix->flen = flen;
    ix->n = n;
    for (int f = 0; f < NF; f++) {
        double sum = 0;
        for (size_t i = 0; i < n; i++)
            sum += flen[i * NF + (size_t)f];
        ix->avg[f] = n && sum > 0 ? sum / (double)n : 1.0;
    }
    /* counting sort of the postings by term */
    size_t *start = gw_xcalloc(ix->nterms + 1, sizeof(size_t));
    for (size_t p = 0; p < ix->npost; p++)
        start[ix->post_term[p] + 1]++;
    for (size_t t = 0; t < ix->nterms; t++) {
        start[t + 1] += start[t];
        ix->terms[t].first = (uint32_t)start[t];
    }
    struct posting *sorted = gw_xmalloc((ix->npost ? ix->npost : 1) * sizeof(*sorted));
    for (size_t p = 0; p < ix->npost; p++) {
        struct posting q = ix->post[p];
        q.doc = remap[q.doc];
        sorted[start[ix->post_term[p]]++] = q;
    }
    gw_free(start);
    gw_free(remap);
    gw_free(ix->post);
    gw_free(ix->post_term);
    ix->post_term = NULL;
    ix->post = sorted;
    ix->cappost = ix->npost;
    return ix;
}

struct gw_snapshot_ext gw_discovery_index_ext(void)
{
    return (struct gw_snapshot_ext){ix_begin, ix_tool, ix_end, ix_release, NULL};
}

void gw_dindex_stats(const struct gw_dindex *ix, size_t *docs, size_t *terms, size_t *postings,
                     size_t *bytes)
{
    *docs = ix ? ix->n : 0;
    *terms = ix ? ix->nterms : 0;
    *postings = ix ? ix->npost : 0;
    *bytes = ix ? sizeof(*ix) + ix->n * NF * sizeof(float) + ix->strs_cap +
                      ix->capterms * sizeof(struct term) + (ix->mask + 1) * sizeof(uint32_t) +
                      ix->npost * sizeof(struct posting)
                : 0;
}

/* ---- searching ------------------------------------------------------------------------------ */

struct qterm {
    long id;
    double weight;
    bool verb; /* the query's first word (or one of its neighbours): may match F_VERB */
};

struct query {
    const struct gw_dindex *ix;
    struct qterm t[QUERY_TERMS_MAX];
    size_t n;
    size_t words;
};

/* Adds term s with weight w (the larger weight wins for a repeated term). */
static void q_add(struct query *q, const char *s, double w, bool verb)
{
    long id = find_term(q->ix, s);
    if (id < 0)
        return;
    for (size_t i = 0; i < q->n; i++)
        if (q->t[i].id == id) {
            if (w > q->t[i].weight)
                q->t[i].weight = w;
            q->t[i].verb = q->t[i].verb || verb;
            return;
        }
    if (q->n < QUERY_TERMS_MAX)
        q->t[q->n++] = (struct qterm){id, w, verb};
}

static void q_word(void *ud, const char *term)
{
    struct query *q = ud;
    bool verb = q->words++ == 0;
    q_add(q, term, 1.0, verb);
    for (size_t i = 0; THESAURUS[i][0]; i++) {
        if (strcmp(THESAURUS[i][0], term) != 0)
            continue;
        for (size_t k = 1; k < 6 && THESAURUS[i][k]; k++)
            q_add(q, THESAURUS[i][k], EXPANSION_WEIGHT, verb);
    }
}

static int cmp_hit(const void *a, const void *b)
{
    const struct gw_discovery_hit *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? 1 : -1;
    return strcmp(x->tool->name, y->tool->name); /* stable order for equal scores */
}

size_t gw_dindex_search(const struct gw_dindex *ix, const struct gw_snapshot *s,
                        const char *query, gw_tool_filter_fn visible, void *ud,
                        struct gw_discovery_hit *out, size_t k)
{
    if (!ix || !query || !k || ix->n == 0 || ix->n != gw_snapshot_count(s))
        return 0;
    struct query q = {ix, {{0, 0, false}}, 0, 0};
    tokenize(query, strnlen(query, 1024), q_word, &q);
    if (!q.n)
        return 0;
    double *score = gw_trycalloc(ix->n, sizeof(double));
    if (!score)
        return 0;
    double N = (double)ix->n;
    for (size_t i = 0; i < q.n; i++) {
        const struct term *t = &ix->terms[q.t[i].id];
        double idf = log(1.0 + (N - t->df + 0.5) / (t->df + 0.5));
        for (uint32_t p = t->first; p < t->first + t->df; p++) {
            const struct posting *po = &ix->post[p];
            const float *len = ix->flen + (size_t)po->doc * NF;
            double sc = 0;
            for (int f = 0; f < NF; f++) {
                if (!po->tf[f] || (f == F_VERB && !q.t[i].verb))
                    continue;
                /* in identifiers and titles a repeated word ("issues_add_issue_...") says
                 * nothing more: binary there */
                double tf = (f == F_NAME || f == F_TITLE) ? 1.0 : po->tf[f];
                double norm = 1 - BNORM[f] + BNORM[f] * len[f] / ix->avg[f];
                sc += WEIGHT[f] * tf * (K1 + 1) / (tf + K1 * norm);
            }
            score[po->doc] += q.t[i].weight * idf * sc;
        }
    }
    /* the best candidates first; visibility is checked on them only */
    size_t ncand = 0;
    for (size_t d = 0; d < ix->n; d++)
        ncand += score[d] > 0;
    struct gw_discovery_hit *cand = gw_trymalloc((ncand ? ncand : 1) * sizeof(*cand));
    size_t got = 0;
    if (cand) {
        size_t c = 0;
        for (size_t d = 0; d < ix->n; d++)
            if (score[d] > 0)
                cand[c++] = (struct gw_discovery_hit){gw_snapshot_tool_at(s, d), score[d]};
        qsort(cand, c, sizeof(*cand), cmp_hit);
        for (size_t i = 0; i < c && got < k; i++)
            if (!visible || visible(ud, cand[i].tool))
                out[got++] = cand[i];
        gw_free(cand);
    }
    gw_free(score);
    return got;
}
