/*
 * src/openapi/openapi_name.c
 * Names and texts for LLM consumption: tool names, argument names, titles, trimmed
 * descriptions.
 *
 * Tool names (docs/openapi-import.md "Naming"): operationId in snake_case when present;
 * otherwise verb + resource from the path, e.g. GET /v1/api/common/msil/dms/am-list-by-name ->
 * "get_am_list_by_name": version segments (v1, v2beta), "api"/"rest" and the literal prefix
 * shared by the paths that need such names are dropped, path parameters are dropped except a
 * trailing one ("_by_<param>"), and the verb is, in order: the imperative verb opening a
 * multi-word first segment ("cancel-appointment-booking"), one opening the last segment
 * ("/gm-emp/fetch-by-query" -> "fetch_gm_emp_by_query"; a one-word action like "/otp/send"
 * only on POST), the verb opening the summary or description ("Fetches list description" ->
 * "fetch"; a verb already in the path moves to the front), or the method's (GET get, POST
 * create, PUT update, PATCH patch, DELETE delete).
 * Names are capped at 64 characters with a hash suffix, so cut names stay distinct.
 * Pure functions, thread-safe.
 */
#include "openapi/openapi_internal.h"

#include "core/alloc.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define NAME_MAX_LEN 64

/* ASCII classes (locale-independent on purpose: names must not depend on the locale). */
static bool is_alnum(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}
static bool is_upper(char ch)
{
    return ch >= 'A' && ch <= 'Z';
}
static bool is_lower_or_digit(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

void gw_openapi__snake(const char *in, char *out, size_t out_size)
{
    size_t j = 0;
    if (!out_size)
        return;
    for (size_t i = 0; in && in[i] && j + 2 < out_size; i++) {
        char ch = in[i];
        if (is_alnum(ch)) {
            if (is_upper(ch)) {
                bool boundary =
                    i > 0 && (is_lower_or_digit(in[i - 1]) ||
                              (is_upper(in[i - 1]) && in[i + 1] >= 'a' && in[i + 1] <= 'z'));
                if (boundary && j > 0 && out[j - 1] != '_')
                    out[j++] = '_';
                out[j++] = (char)(ch + 32);
            } else {
                out[j++] = ch;
            }
        } else if (j > 0 && out[j - 1] != '_') {
            out[j++] = '_';
        }
    }
    while (j > 0 && out[j - 1] == '_')
        j--;
    out[j] = '\0';
}

void gw_openapi__arg_name(const char *in, char *out, size_t out_size)
{
    size_t j = 0, cap = out_size - 1 < NAME_MAX_LEN ? out_size - 1 : NAME_MAX_LEN;
    for (size_t i = 0; in && in[i] && j < cap; i++) {
        char ch = in[i];
        out[j++] = (is_alnum(ch) || ch == '_' || ch == '.' || ch == '-') ? ch : '_';
    }
    out[j] = '\0';
    if (j == 0)
        snprintf(out, out_size, "arg");
}

/* 32-bit FNV-1a, for the suffix of capped names (stable across runs and platforms). */
static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

void gw_openapi__cap_name(char *name, size_t size)
{
    size_t n = strlen(name);
    if (n <= NAME_MAX_LEN || size < NAME_MAX_LEN + 1)
        return;
    uint32_t h = fnv1a(name);
    size_t cut = NAME_MAX_LEN - 7; /* "_" + 6 hex */
    for (size_t k = cut; k > 40; k--)
        if (name[k] == '_') {
            cut = k;
            break;
        }
    while (cut > 0 && name[cut - 1] == '_')
        cut--;
    snprintf(name + cut, size - cut, "_%06x", (unsigned)(h & 0xffffff));
}

void gw_openapi__title_from_name(const char *name, char *out, size_t out_size)
{
    size_t j = 0;
    for (size_t i = 0; name[i] && j + 1 < out_size; i++)
        out[j++] = (name[i] == '_' || name[i] == '-') ? ' ' : name[i];
    out[j] = '\0';
    if (out[0] >= 'a' && out[0] <= 'z')
        out[0] = (char)(out[0] - 32);
}

/* ---- description trimming ---- */

/* Moves pos back to the start of a UTF-8 character. */
static size_t utf8_back(const char *s, size_t pos)
{
    while (pos > 0 && ((unsigned char)s[pos] & 0xC0) == 0x80)
        pos--;
    return pos;
}

/* Number of ``` code fences in s[0..n). */
static size_t count_fences(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i + 2 < n; i++)
        if (s[i] == '`' && s[i + 1] == '`' && s[i + 2] == '`') {
            k++;
            i += 2;
        }
    return k;
}

char *gw_openapi__trim_text(const char *text, size_t max)
{
    size_t n = text ? strlen(text) : 0;
    char *s = gw_xmalloc(n + 8);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (text[i] == '\r') {
            if (text[i + 1] != '\n')
                s[j++] = '\n';
            continue;
        }
        s[j++] = text[i];
    }
    size_t a = 0;
    while (a < j && (s[a] == ' ' || s[a] == '\n' || s[a] == '\t'))
        a++;
    while (j > a && (s[j - 1] == ' ' || s[j - 1] == '\n' || s[j - 1] == '\t'))
        j--;
    memmove(s, s + a, j - a);
    j -= a;
    s[j] = '\0';
    if (max < 16 || j <= max)
        return s;
    size_t limit = max - 8; /* room for an ellipsis and a closing code fence */
    size_t floor = max / 3, cut = 0;
    bool ellipsis = false;
    for (size_t i = limit; i > floor; i--) /* paragraph */
        if (s[i] == '\n' && s[i - 1] == '\n') {
            cut = i - 1;
            break;
        }
    if (!cut)
        for (size_t i = limit; i > floor; i--) /* sentence */
            if ((s[i] == ' ' || s[i] == '\n') &&
                (s[i - 1] == '.' || s[i - 1] == '!' || s[i - 1] == '?')) {
                cut = i;
                break;
            }
    if (!cut) {
        for (size_t i = limit; i > floor; i--) /* word */
            if (s[i] == ' ' || s[i] == '\n') {
                cut = i;
                break;
            }
        if (!cut)
            cut = utf8_back(s, limit);
        ellipsis = true;
    }
    while (cut > 0 && (s[cut - 1] == ' ' || s[cut - 1] == '\n'))
        cut--;
    j = cut;
    if (ellipsis) {
        memcpy(s + j, "\xE2\x80\xA6", 3); /* … */
        j += 3;
    }
    if (count_fences(s, j) % 2) {
        memcpy(s + j, "\n```", 4);
        j += 4;
    }
    s[j] = '\0';
    return s;
}

/* ---- names from paths ---- */

static const char *const VERBS[] = {
    "get",       "list",        "fetch",        "search",    "find",       "create",   "add",
    "update",    "delete",      "remove",       "cancel",    "send",       "verify",   "validate",
    "check",     "book",        "mask",         "upload",    "download",   "submit",   "approve",
    "reject",    "register",    "login",        "logout",    "reset",      "generate", "set",
    "assign",    "enable",      "disable",      "start",     "stop",       "restart",  "sync",
    "export",    "import",      "calculate",    "confirm",   "resend",     "request",  "refresh",
    "revoke",    "lock",        "unlock",       "activate",  "deactivate", "archive",  "restore",
    "subscribe", "unsubscribe", "notify",       "move",      "copy",       "clone",    "merge",
    "publish",   "query",       "lookup",       "read",      "save",       "schedule", "reschedule",
    "resolve",   "retry",       "run",          "execute",   "invite",     "close",    "open",
    "transfer",  "attach",      "detach",       "apply",     "accept",     "decline",  "track",
    "compute",   "estimate",    "initiate",     "complete",  "mark",       "modify",   "replace",
    "count",     "convert",     "authenticate", "authorize", "change",     "process",  "fill"};

/* Maps "retrieves"/"returns"/... to get. */
static const char *const GET_SYNONYMS[] = {"retrieve", "return",  "obtain", "show",
                                           "give",     "provide", "view"};

/* Whether word is base, or its third person (base+s, base+es, y->ies). */
static bool verb_form(const char *word, size_t wn, const char *base)
{
    size_t bn = strlen(base);
    if (wn == bn && strncasecmp(word, base, bn) == 0)
        return true;
    if (wn == bn + 1 && strncasecmp(word, base, bn) == 0 && (word[bn] | 32) == 's')
        return true;
    if (wn == bn + 2 && strncasecmp(word, base, bn) == 0 && strncasecmp(word + bn, "es", 2) == 0)
        return true;
    if (bn > 1 && base[bn - 1] == 'y' && wn == bn + 2 && strncasecmp(word, base, bn - 1) == 0 &&
        strncasecmp(word + bn - 1, "ies", 3) == 0)
        return true;
    return false;
}

/* Base form of a verb word, or NULL. */
static const char *verb_base(const char *word, size_t wn)
{
    for (size_t i = 0; i < sizeof(VERBS) / sizeof(VERBS[0]); i++)
        if (verb_form(word, wn, VERBS[i]))
            return VERBS[i];
    for (size_t i = 0; i < sizeof(GET_SYNONYMS) / sizeof(GET_SYNONYMS[0]); i++)
        if (verb_form(word, wn, GET_SYNONYMS[i]))
            return "get";
    return NULL;
}

/* The word is exactly one of the base verbs (imperative), e.g. "cancel", not "books". */
static bool is_base_verb(const char *word, size_t wn)
{
    for (size_t i = 0; i < sizeof(VERBS) / sizeof(VERBS[0]); i++)
        if (strlen(VERBS[i]) == wn && strncasecmp(word, VERBS[i], wn) == 0)
            return true;
    return false;
}

/* "v1", "v2beta", "V3.1": a version segment, dropped from names. */
static bool is_version_segment(const char *s, size_t n)
{
    if (n < 2 || (s[0] | 32) != 'v' || s[1] < '0' || s[1] > '9')
        return false;
    for (size_t i = 2; i < n; i++)
        if (!is_alnum(s[i]) && s[i] != '.' && s[i] != '_')
            return false;
    return true;
}

#define MAX_SEGS 64

struct seg {
    const char *p;
    size_t n;
    bool param;
};

/* Splits a path into segments without version and api/rest segments. Returns the count of
 * segments; *version receives the last version segment dropped. */
static size_t path_segments(const char *path, struct seg *segs, char *version, size_t vsize)
{
    size_t k = 0;
    if (version && vsize)
        version[0] = '\0';
    const char *p = path;
    while (*p && k < MAX_SEGS) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *e = p;
        while (*e && *e != '/')
            e++;
        size_t n = (size_t)(e - p);
        if (is_version_segment(p, n)) {
            if (version && vsize)
                snprintf(version, vsize, "%.*s", (int)n, p);
        } else if (!((n == 3 && strncasecmp(p, "api", 3) == 0) ||
                     (n == 4 && strncasecmp(p, "rest", 4) == 0))) {
            segs[k++] = (struct seg){p, n, p[0] == '{'};
        }
        p = e;
    }
    return k;
}

size_t gw_openapi__common_prefix(json_t *paths)
{
    struct seg first[MAX_SEGS], cur[MAX_SEGS];
    size_t common = 0, nfirst = 0;
    bool have = false;
    const char *path;
    json_t *v;
    json_object_foreach(paths, path, v)
    {
        if (path[0] != '/')
            continue;
        size_t n = path_segments(path, cur, NULL, 0);
        /* literal prefix length of this path */
        size_t lit = 0;
        while (lit < n && !cur[lit].param)
            lit++;
        size_t cap = n > 0 ? n - 1 : 0;
        if (lit < cap)
            cap = lit;
        if (!have) {
            memcpy(first, cur, n * sizeof(cur[0]));
            nfirst = n;
            common = cap;
            have = true;
            continue;
        }
        size_t m = 0;
        while (m < common && m < n && m < nfirst && first[m].n == cur[m].n &&
               memcmp(first[m].p, cur[m].p, cur[m].n) == 0)
            m++;
        common = m < cap ? m : cap;
    }
    return common;
}

/* Appends s to out with a "_" separator. */
static void append(char *out, size_t size, size_t *j, const char *s)
{
    if (!*s)
        return;
    if (*j > 0 && *j + 1 < size && out[*j - 1] != '_')
        out[(*j)++] = '_';
    while (*s && *j + 1 < size)
        out[(*j)++] = *s++;
    out[*j] = '\0';
}

/* The verb a method gives a name when nothing better is found. */
static const char *method_verb(const char *method)
{
    if (!strcasecmp(method, "get"))
        return "get";
    if (!strcasecmp(method, "post"))
        return "create";
    if (!strcasecmp(method, "put"))
        return "update";
    if (!strcasecmp(method, "patch"))
        return "patch";
    if (!strcasecmp(method, "delete"))
        return "delete";
    if (!strcasecmp(method, "head"))
        return "head";
    if (!strcasecmp(method, "options"))
        return "options";
    return "trace";
}

void gw_openapi__name_from_path(const char *method, const char *path, const char *summary,
                                size_t prefix_skip, char *out, size_t out_size, char *version,
                                size_t version_size)
{
    struct seg segs[MAX_SEGS];
    size_t n = path_segments(path, segs, version, version_size);
    size_t start = prefix_skip < n ? prefix_skip : (n ? n - 1 : 0);
    char lits[MAX_SEGS][128];
    size_t nl = 0;
    const char *trailing_param = NULL;
    size_t trailing_n = 0;
    for (size_t i = start; i < n; i++) {
        if (segs[i].param) {
            if (i == n - 1) {
                trailing_param = segs[i].p;
                trailing_n = segs[i].n;
            }
            continue;
        }
        char raw[128];
        snprintf(raw, sizeof(raw), "%.*s", (int)segs[i].n, segs[i].p);
        gw_openapi__snake(raw, lits[nl], sizeof(lits[nl]));
        if (lits[nl][0])
            nl++;
    }
    char body[256] = "";
    size_t bj = 0;
    const char *verb = NULL;
    /* 1. the path opens with an imperative verb of a multi-word segment
     *    ("cancel-appointment-booking"): keep it as is */
    if (nl > 0) {
        const char *us = strchr(lits[0], '_');
        if (us && is_base_verb(lits[0], (size_t)(us - lits[0])))
            verb = ""; /* already present */
    }
    /* 2. the last segment opens with an imperative verb ("/gm-emp/fetch-by-query", or a
     *    single-word action such as "/otp/send" on POST): move it to the front */
    char last_rest[128] = "";
    if (!verb && nl > 1) {
        const char *l = lits[nl - 1];
        const char *us = strchr(l, '_');
        size_t wn = us ? (size_t)(us - l) : strlen(l);
        if (is_base_verb(l, wn) && (us || !strcasecmp(method, "post"))) {
            snprintf(last_rest, sizeof(last_rest), "%s", us ? us + 1 : "");
            verb = verb_base(l, wn);
            nl--; /* the last segment's remaining words go after the others */
        }
    }
    /* 3. the summary opens with a verb; 4. the method's verb */
    if (!verb && summary) {
        const char *w = summary;
        while (*w == ' ')
            w++;
        size_t wn = 0;
        while (w[wn] && is_alnum(w[wn]))
            wn++;
        verb = wn ? verb_base(w, wn) : NULL;
        /* the verb already in the path ("mspin-send-otp"): move that word to the front; a
         * path word that merely starts with it ("booking" for "Books"): use the method's */
        for (size_t i = 0; verb && i < nl; i++) {
            char *words = lits[i];
            for (char *p = words; p && *p;) {
                char *us = strchr(p, '_');
                size_t pn = us ? (size_t)(us - p) : strlen(p);
                size_t vn = strlen(verb);
                if (pn == vn && strncmp(p, verb, vn) == 0) {
                    memmove(p, us ? us + 1 : p + pn, strlen(us ? us + 1 : p + pn) + 1);
                    if (!*words && i + 1 == nl)
                        nl--;
                    p = NULL;
                    break;
                }
                if (pn > vn && strncmp(p, verb, vn) == 0) {
                    verb = NULL;
                    break;
                }
                p = us ? us + 1 : NULL;
            }
        }
    }
    if (!verb)
        verb = method_verb(method);
    append(body, sizeof(body), &bj, verb);
    for (size_t i = 0; i < nl; i++)
        append(body, sizeof(body), &bj, lits[i]);
    append(body, sizeof(body), &bj, last_rest);
    if (trailing_param) {
        char raw[128], sn[128];
        snprintf(raw, sizeof(raw), "%.*s", (int)(trailing_n > 2 ? trailing_n - 2 : 0),
                 trailing_param + 1);
        gw_openapi__snake(raw, sn, sizeof(sn));
        if (sn[0]) {
            append(body, sizeof(body), &bj, "by");
            append(body, sizeof(body), &bj, sn);
        }
    }
    if (nl == 0 && !last_rest[0] && !trailing_param)
        append(body, sizeof(body), &bj, "root");
    gw_openapi__snake(body, out, out_size);
}
