/*
 * src/pii/pii.c
 * The masker: one linear scan of the text for the built-in detectors (digit runs, '@', PAN
 * shapes), then the PCRE2 patterns (vehicle registrations, operators' own) over its output.
 *
 * Digit runs: a run is up to 8 groups of digits joined by single ' ' or '-' (and an optional
 * leading '+'). From each group that may start a number (the run start, or a group after a
 * space) the longest combination of up to 6 groups that one detector accepts wins; its layout
 * must be one that detector allows (Aadhaar 12 or 4-4-4, phone 10 / 5-5 / 3-3-4 / 4-3-3 with
 * 91 or 0 prefixes, card 13-19 or 4-x-x...). A run glued to letters ("BK-2026...", "A1234")
 * or continuing as a decimal ("1234.50") is an identifier or amount, never PII.
 * Invariants: output never contains a detected value; pseudonyms are never re-detected.
 */
#include "pii/pii.h"

#include "core/alloc.h"
#include "core/assert.h"
#include "core/log.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_GROUPS 8
#define MAX_COMBINE 6
#define MAX_PATTERNS 32
#define MAX_FIELDS 64
#define FIELD_MAX 48

struct pattern {
    char name[32];
    pcre2_code *code;
    unsigned digit_run; /* every match holds this many consecutive digits (0: not known) */
};

struct gw_pii {
    unsigned char key[64];
    size_t key_len;
    EVP_MAC_CTX *hmac; /* keyed once; each thread works on its own copy (thread_mac) */
    uint64_t serial;   /* tells this masker's copies from those of one freed before */
    struct pattern pats[MAX_PATTERNS];
    size_t npats;
    char mask_fields[MAX_FIELDS][FIELD_MAX];
    size_t nmask;
    char redact_fields[MAX_FIELDS][FIELD_MAX];
    size_t nredact;
};

/* ---- check digits ------------------------------------------------------------------------ */

static const unsigned char verhoeff_d[10][10] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 3, 4, 0, 6, 7, 8, 9, 5}, {2, 3, 4, 0, 1, 7, 8, 9, 5, 6},
    {3, 4, 0, 1, 2, 8, 9, 5, 6, 7}, {4, 0, 1, 2, 3, 9, 5, 6, 7, 8}, {5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
    {6, 5, 9, 8, 7, 1, 0, 4, 3, 2}, {7, 6, 5, 9, 8, 2, 1, 0, 4, 3}, {8, 7, 6, 5, 9, 3, 2, 1, 0, 4},
    {9, 8, 7, 6, 5, 4, 3, 2, 1, 0}};
static const unsigned char verhoeff_p[8][10] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 5, 7, 6, 2, 8, 3, 0, 9, 4}, {5, 8, 0, 3, 7, 9, 6, 1, 4, 2},
    {8, 9, 1, 6, 0, 4, 3, 5, 2, 7}, {9, 4, 5, 3, 1, 2, 7, 6, 8, 0}, {4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
    {2, 7, 9, 3, 8, 0, 6, 4, 1, 5}, {7, 0, 4, 6, 9, 1, 3, 2, 5, 8}};

bool gw_pii_verhoeff_ok(const char *digits, size_t n)
{
    unsigned c = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)digits[n - 1 - i];
        if (ch < '0' || ch > '9')
            return false;
        c = verhoeff_d[c][verhoeff_p[i % 8][ch - '0']];
    }
    return n > 0 && c == 0;
}

bool gw_pii_luhn_ok(const char *digits, size_t n)
{
    unsigned sum = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)digits[n - 1 - i];
        if (ch < '0' || ch > '9')
            return false;
        unsigned d = ch - '0';
        if (i % 2 == 1) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
    }
    return n > 0 && sum % 10 == 0;
}

/* ---- pseudonyms ---------------------------------------------------------------------------- */

/* Each thread keeps a copy of the keyed HMAC context of the masker it last used and
 * re-initialises it for every digest (EVP_MAC_init without a key keeps the key): cheaper than
 * duplicating the template per digest (three digest contexts copied and allocated). The serial
 * number ties the copy to its masker, so a masker freed and another allocated at the same
 * address (a reload) is never served an old key. */
struct thread_mac {
    uint64_t serial;
    EVP_MAC_CTX *ctx;
};

static pthread_key_t mac_key;
static bool mac_key_ok;
static pthread_once_t mac_once = PTHREAD_ONCE_INIT;
static atomic_uint_fast64_t next_serial = 1;

static void thread_mac_free(void *arg)
{
    struct thread_mac *t = arg;
    EVP_MAC_CTX_free(t->ctx);
    gw_free(t);
}

static void mac_key_create(void)
{
    mac_key_ok = pthread_key_create(&mac_key, thread_mac_free) == 0;
}

/* This thread's context for p, ready for updates; NULL if OpenSSL fails. Where no thread
 * slot is available it is a fresh copy that the caller frees (*owned). */
static EVP_MAC_CTX *thread_mac(const struct gw_pii *p, bool *owned)
{
    *owned = false;
    pthread_once(&mac_once, mac_key_create);
    struct thread_mac *t = mac_key_ok ? pthread_getspecific(mac_key) : NULL;
    if (!t && mac_key_ok) {
        t = gw_xcalloc(1, sizeof(*t));
        if (pthread_setspecific(mac_key, t) != 0) {
            gw_free(t);
            t = NULL;
        }
    }
    if (!t) {
        *owned = true;
        return EVP_MAC_CTX_dup(p->hmac);
    }
    if (t->ctx && t->serial == p->serial)
        return EVP_MAC_init(t->ctx, NULL, 0, NULL) ? t->ctx : NULL;
    EVP_MAC_CTX_free(t->ctx);
    t->ctx = EVP_MAC_CTX_dup(p->hmac); /* keyed and initialised */
    t->serial = t->ctx ? p->serial : 0;
    return t->ctx;
}

/* HMAC-SHA256 of the concatenation of two parts. */
static void hmac2(const struct gw_pii *p, const void *a, size_t an, const void *b, size_t bn,
                  unsigned char out[32])
{
    bool owned;
    EVP_MAC_CTX *c = thread_mac(p, &owned);
    size_t len = 0;
    if (!c || !EVP_MAC_update(c, a, an) || !EVP_MAC_update(c, b, bn) ||
        !EVP_MAC_final(c, out, &len, 32)) {
        unsigned l = 32; /* fall back to the one-shot form */
        unsigned char *tmp = gw_xmalloc(an + bn + 1);
        memcpy(tmp, a, an);
        memcpy(tmp + an, b, bn);
        unsigned char *ok = HMAC(EVP_sha256(), p->key, (int)p->key_len, tmp, an + bn, out, &l);
        gw_free(tmp);
        GW_ASSERT(ok != NULL); /* a pseudonym is never a constant: fail closed */
    }
    if (owned)
        EVP_MAC_CTX_free(c);
}

void gw_pii_hmac(const struct gw_pii *p, const void *data, size_t n, unsigned char out[32])
{
    hmac2(p, data, n, "", 0, out);
}

void gw_pii_pseudonym(const struct gw_pii *p, const char *type, const char *value, size_t n,
                      char *out, size_t out_size)
{
    unsigned char md[32];
    /* the type with its NUL, then the value: they cannot run together */
    hmac2(p, type, strlen(type) + 1, value, n, md);
    char letters[17];
    for (int i = 0; i < 8; i++) {
        letters[2 * i] = (char)('a' + (md[i] >> 4));
        letters[2 * i + 1] = (char)('a' + (md[i] & 15));
    }
    letters[16] = '\0';
    snprintf(out, out_size, "[%s:%s]", type, letters);
}

static int emit(const struct gw_pii *p, struct gw_buf *out, const char *type, const char *norm,
                size_t n)
{
    char ps[96];
    gw_pii_pseudonym(p, type, norm, n, ps, sizeof(ps));
    return gw_buf_adds(out, ps);
}

/* ---- character classes --------------------------------------------------------------------- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}
static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static bool is_word(char c)
{
    return is_digit(c) || is_alpha(c) || c == '_';
}

/* ---- digit runs -------------------------------------------------------------------------- */

struct group {
    size_t start, len;
};

struct number {
    const char *type;
    char norm[48];
    size_t norm_len;
};

static bool layout_is(const size_t *L, size_t ng, const size_t *want, size_t nw)
{
    if (ng != nw)
        return false;
    for (size_t i = 0; i < ng; i++)
        if (L[i] != want[i])
            return false;
    return true;
}

/* A 10-digit Indian mobile core laid out as one of the usual groupings. */
static bool mobile_core(const char *d, const size_t *L, size_t ng)
{
    static const size_t l10[] = {10}, l55[] = {5, 5}, l334[] = {3, 3, 4}, l433[] = {4, 3, 3};
    size_t total = 0;
    for (size_t i = 0; i < ng; i++)
        total += L[i];
    if (total != 10 || d[0] < '6' || d[0] > '9')
        return false;
    return layout_is(L, ng, l10, 1) || layout_is(L, ng, l55, 2) || layout_is(L, ng, l334, 3) ||
           layout_is(L, ng, l433, 3);
}

static bool card_prefix(const char *d)
{
    switch (d[0]) {
    case '4': return true;                                      /* Visa */
    case '5': return true;                                      /* Mastercard, Maestro */
    case '6': return true;                                      /* Discover, RuPay, Maestro */
    case '3': return d[1] == '0' || (d[1] >= '4' && d[1] <= '8'); /* Amex, Diners, JCB */
    case '2': {                                                 /* Mastercard 2221-2720 */
        int v = (d[0] - '0') * 1000 + (d[1] - '0') * 100 + (d[2] - '0') * 10 + (d[3] - '0');
        return v >= 2221 && v <= 2720;
    }
    case '8': return d[1] == '1' || d[1] == '2'; /* RuPay */
    default: return false;
    }
}

/* Classifies the digits of groups g[0..ng) (`plus`: a '+' precedes the first). */
static bool classify(const char *s, const struct group *g, size_t ng, bool plus,
                     struct number *out)
{
    char d[64];
    size_t L[MAX_COMBINE], total = 0;
    for (size_t i = 0; i < ng; i++) {
        if (total + g[i].len >= sizeof(d))
            return false;
        memcpy(d + total, s + g[i].start, g[i].len);
        total += g[i].len;
        L[i] = g[i].len;
    }
    d[total] = '\0';
    static const size_t l12[] = {12}, l444[] = {4, 4, 4};
    if (!plus && (layout_is(L, ng, l12, 1) || layout_is(L, ng, l444, 3)) && d[0] >= '2' &&
        gw_pii_verhoeff_ok(d, 12)) {
        out->type = "aadhaar";
        memcpy(out->norm, d, 12);
        out->norm_len = 12;
        return true;
    }
    /* phone: +91 / 91 / 0 prefixes, or any +<country> number of 8-15 digits */
    const char *core = NULL;
    if (ng >= 2 && L[0] == 2 && d[0] == '9' && d[1] == '1' && mobile_core(d + 2, L + 1, ng - 1))
        core = d + 2;
    else if (ng == 1 && total == 12 && d[0] == '9' && d[1] == '1' && d[2] >= '6')
        core = d + 2;
    else if (!plus && ng == 1 && total == 11 && d[0] == '0' && d[1] >= '6')
        core = d + 1;
    else if (!plus && ng >= 2 && L[0] == 1 && d[0] == '0' && mobile_core(d + 1, L + 1, ng - 1))
        core = d + 1;
    else if (!plus && mobile_core(d, L, ng))
        core = d;
    if (core) {
        out->type = "phone";
        memcpy(out->norm, core, 10);
        out->norm_len = 10;
        return true;
    }
    if (plus && total >= 8 && total <= 15) {
        out->type = "phone";
        out->norm[0] = '+';
        memcpy(out->norm + 1, d, total);
        out->norm_len = total + 1;
        return true;
    }
    /* payment card: 13-19 digits, one group or groups of 4 then 3-6 */
    if (!plus && total >= 13 && total <= 19) {
        bool shape = ng == 1;
        if (ng >= 3 && L[0] == 4) {
            shape = true;
            for (size_t i = 1; i < ng; i++)
                shape = shape && L[i] >= 3 && L[i] <= 6;
        }
        if (shape && card_prefix(d) && gw_pii_luhn_ok(d, total)) {
            out->type = "card";
            memcpy(out->norm, d, total);
            out->norm_len = total;
            return true;
        }
    }
    return false;
}

/* Pseudonyms this masker writes ("[type:16 letters a-p]") end at s[i - 1] / start at s[i].
 * Digits next to one were next to the masked value before, so they stay as they were: masking
 * a second time changes nothing. */
#define PSEUDONYM_LETTERS 16

static bool pseudonym_letters(const char *s)
{
    for (int k = 0; k < PSEUDONYM_LETTERS; k++)
        if (s[k] < 'a' || s[k] > 'p')
            return false;
    return true;
}

static bool pseudonym_ends_at(const char *s, size_t i)
{
    if (i < PSEUDONYM_LETTERS + 4 || s[i - 1] != ']')
        return false;
    size_t c = i - 2 - PSEUDONYM_LETTERS; /* the ':' */
    if (s[c] != ':' || !pseudonym_letters(s + c + 1))
        return false;
    size_t k = c;
    while (k > 0 && is_word(s[k - 1]) && c - k < 32)
        k--;
    return k < c && k > 0 && s[k - 1] == '[';
}

static bool pseudonym_starts_at(const char *s, size_t n, size_t i)
{
    if (i >= n || s[i] != '[')
        return false;
    size_t k = i + 1;
    while (k < n && is_word(s[k]) && k - i <= 32)
        k++;
    if (k == i + 1 || k >= n || s[k] != ':')
        return false;
    return n - (k + 1) > PSEUDONYM_LETTERS && pseudonym_letters(s + k + 1) &&
           s[k + 1 + PSEUDONYM_LETTERS] == ']';
}

/* A word character, or a pseudonym (which stands for one): the boundaries masking looks at
 * are then the same in its output as in its input. Before s[i] / at s[k]. */
static bool word_before(const char *s, size_t i)
{
    return i > 0 && (is_word(s[i - 1]) || pseudonym_ends_at(s, i));
}

static bool word_at(const char *s, size_t n, size_t k)
{
    return k < n && (is_word(s[k]) || pseudonym_starts_at(s, n, k));
}

/* Whether a digit run may start at i (not inside an identifier, a decimal or a word). A '/'
 * before it is a boundary: a number that is a whole path segment ("/customers/9876543210/") is
 * looked at like any other; dates and fractions ("12/29", "2026/12/06") have runs too short
 * for any pattern. */
static bool run_may_start(const char *s, size_t i)
{
    if (i == 0)
        return true;
    char a = s[i - 1];
    if (a == '.' || a == ',' || word_before(s, i))
        return false;
    if ((a == '-' || a == ':') && word_before(s, i - 1))
        return a == ':'; /* "Phone:98..." yes, "BK-2026..." no */
    return true;
}

/* Whether a match may end at e. */
static bool run_may_end(const char *s, size_t n, size_t e)
{
    if (e >= n)
        return true;
    char c = s[e];
    if (c == '@' || word_at(s, n, e))
        return false;
    if ((c == '.' || c == ',' || c == '-') && word_at(s, n, e + 1))
        return false; /* 9876543210.50, 1234-AB; a '/' after it ends a path segment */
    return true;
}

/* Tries the digit run at i. On a match writes it masked and returns the end; else returns the
 * end of the run (the run is copied unchanged). *emit_end: where the last pseudonym written
 * ends in s (unchanged when none). A run longer than MAX_GROUPS groups is read through a
 * window that slides: a number is only decided where MAX_COMBINE groups after its start are in
 * view (or the run's end), so the result does not depend on where a window begins — masking
 * the output again finds nothing more. */
static size_t digit_run(const struct gw_pii *p, const char *s, size_t n, size_t i,
                        struct gw_buf *out, unsigned *count, size_t *emit_end)
{
    bool plus = false;
    size_t j = i;
    if (s[j] == '+') {
        plus = true;
        j++;
    }
    const size_t first = j; /* the run's first group */
    struct group g[MAX_GROUPS];
    size_t ng = 0, gi = 0, copied = i; /* s[i..copied) already written */
    size_t run_end = i;                /* the end of the last group read */
    bool ended = false;
    for (;;) {
        while (!ended && ng < MAX_GROUPS) {
            size_t st = j;
            while (j < n && is_digit(s[j]))
                j++;
            if (j == st || j - st > 24) {
                ended = true;
                break;
            }
            g[ng++] = (struct group){st, j - st};
            run_end = j;
            if (j + 1 >= n || (s[j] != ' ' && s[j] != '-') || !is_digit(s[j + 1]))
                ended = true;
            else
                j++;
        }
        if (run_end == i) { /* no digit group at all */
            gw_buf_addc(out, s[i]);
            return i + 1;
        }
        size_t limit = ended ? ng : ng - MAX_COMBINE;
        while (gi < limit) {
            bool head = g[gi].start == first;
            bool done = false;
            if (head || s[g[gi].start - 1] == ' ') {
                size_t kmax = ng - gi < MAX_COMBINE ? ng - gi : MAX_COMBINE;
                for (size_t k = kmax; k >= 1 && !done; k--) {
                    size_t end = g[gi + k - 1].start + g[gi + k - 1].len;
                    bool inner = gi + k < ng || !ended; /* more groups follow */
                    if (!inner && !run_may_end(s, n, end))
                        continue;
                    if (inner && s[end] == '-')
                        continue; /* a number does not stop in the middle of a '-' chain */
                    struct number num;
                    if (!classify(s, g + gi, k, head && plus, &num))
                        continue;
                    size_t from = head ? i : g[gi].start;
                    gw_buf_add(out, s + copied, from - copied);
                    emit(p, out, num.type, num.norm, num.norm_len);
                    if (count)
                        (*count)++;
                    copied = *emit_end = end;
                    gi += k;
                    done = true;
                }
            }
            if (!done)
                gi++;
        }
        if (ended)
            break;
        memmove(g, g + gi, (ng - gi) * sizeof(g[0])); /* slide the window */
        ng -= gi;
        gi = 0;
    }
    gw_buf_add(out, s + copied, run_end - copied);
    return run_end;
}

/* ---- e-mail ------------------------------------------------------------------------------ */

static bool email_local_char(char c)
{
    return is_word(c) || c == '.' || c == '%' || c == '+' || c == '-';
}

/* At s[at] == '@': the address span [*b, *e) when it is one, with b >= floor (the end of the
 * last pseudonym written: text before it is no longer there to be part of an address). */
static bool email_at(const char *s, size_t n, size_t at, size_t floor, size_t *b, size_t *e)
{
    size_t l = at;
    while (l > floor && email_local_char(s[l - 1]) && at - l < 64)
        l--;
    if (l > floor && email_local_char(s[l - 1]))
        return false; /* a local part over 64 characters: not an address (RFC 5321) */
    while (l < at && s[l] == '.')
        l++;
    if (l == at)
        return false;
    size_t r = at + 1, last_dot = 0;
    while (r < n && (is_digit(s[r]) || is_alpha(s[r]) || s[r] == '-' || s[r] == '.') &&
           r - at < 255) {
        if (s[r] == '.')
            last_dot = r;
        r++;
    }
    while (r > at + 1 && (s[r - 1] == '.' || s[r - 1] == '-')) {
        r--;
        if (last_dot >= r) {
            last_dot = 0;
            for (size_t k = at + 1; k < r; k++)
                if (s[k] == '.')
                    last_dot = k;
        }
    }
    if (!last_dot || last_dot <= at + 1 || r - last_dot - 1 < 2)
        return false;
    size_t stop = r;
    while (stop < n && (s[stop] == '.' || s[stop] == '-'))
        stop++;
    if (pseudonym_starts_at(s, n, stop))
        return false; /* the domain ran into a masked value: it did not end here before */
    for (size_t k = last_dot + 1; k < r; k++)
        if (!is_alpha(s[k]))
            return false;
    *b = l;
    *e = r;
    return true;
}

/* Writes the pseudonym of the address s[b..e) (lower-cased). */
static void emit_email(const struct gw_pii *p, const char *s, size_t b, size_t e,
                       struct gw_buf *out, unsigned *count)
{
    char norm[320];
    size_t nn = e - b < sizeof(norm) ? e - b : sizeof(norm);
    for (size_t k = 0; k < nn; k++)
        norm[k] = (char)((s[b + k] >= 'A' && s[b + k] <= 'Z') ? s[b + k] + 32 : s[b + k]);
    emit(p, out, "email", norm, nn);
    if (count)
        (*count)++;
}

/* ---- PAN --------------------------------------------------------------------------------- */

static bool pan_at(const char *s, size_t n, size_t i)
{
    if (i + 10 > n || word_before(s, i) || word_at(s, n, i + 10))
        return false;
    bool upper = s[i] >= 'A' && s[i] <= 'Z';
    for (size_t k = 0; k < 10; k++) {
        char c = s[i + k];
        bool want_digit = k >= 5 && k <= 8;
        if (want_digit ? !is_digit(c) : !(upper ? (c >= 'A' && c <= 'Z') : (c >= 'a' && c <= 'z')))
            return false;
    }
    char t = (char)(s[i + 3] & ~0x20);
    return strchr("PCHFATBLJG", t) != NULL;
}

/* ---- the scan ---------------------------------------------------------------------------- */

static int scan_builtin(const struct gw_pii *p, const char *s, size_t n, struct gw_buf *out,
                        unsigned *count)
{
    /* flushed: s[0..flushed) is written to out; emitted: where the last pseudonym written
     * ends in s. Between the two, out holds s verbatim, so an address found to start there
     * ("9876543210@example.com": a digit run first, then its '@') takes its text back. */
    size_t i = 0, flushed = 0, emitted = 0;
    while (i < n) {
        char c = s[i];
        if (c == '@') {
            size_t b, e;
            if (email_at(s, n, i, emitted, &b, &e)) {
                if (b < flushed) {
                    size_t back = flushed - b, len = gw_buf_len(out);
                    if (len >= back && !memcmp(gw_buf_ptr(out) + len - back, s + b, back))
                        gw_buf_truncate(out, len - back); /* its start was written verbatim */
                    else
                        b = flushed; /* the output hit its limit: keep what is there */
                } else {
                    gw_buf_add(out, s + flushed, b - flushed);
                }
                emit_email(p, s, b, e, out, count);
                i = flushed = emitted = e;
                continue;
            }
        } else if ((is_digit(c) || (c == '+' && i + 1 < n && is_digit(s[i + 1]))) &&
                   run_may_start(s, i)) {
            gw_buf_add(out, s + flushed, i - flushed);
            i = flushed = digit_run(p, s, n, i, out, count, &emitted);
            continue;
        } else if (is_digit(c)) {
            while (i < n && (is_digit(s[i]) || is_word(s[i])))
                i++; /* inside an identifier: skip the rest of it */
            continue;
        } else if (is_alpha(c) && pan_at(s, n, i)) {
            gw_buf_add(out, s + flushed, i - flushed);
            char norm[10];
            for (int k = 0; k < 10; k++)
                norm[k] = (char)(s[i + k] >= 'a' && s[i + k] <= 'z' ? s[i + k] - 32 : s[i + k]);
            emit(p, out, "pan", norm, 10);
            if (count)
                (*count)++;
            i = flushed = emitted = i + 10;
            continue;
        } else if (is_alpha(c) || c == '_') {
            /* skip a word at once (a PAN can only start at a word start) */
            while (i < n && is_word(s[i]))
                i++;
            continue;
        }
        i++;
    }
    return gw_buf_add(out, s + flushed, n - flushed);
}

/* Applies pattern `pt` to in[0..n), appending to out. */
static int apply_pattern(const struct gw_pii *p, const struct pattern *pt, const char *in,
                         size_t n, struct gw_buf *out, unsigned *count)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(pt->code, NULL);
    if (!md)
        return GW_ENOMEM;
    size_t off = 0, flushed = 0;
    int rc = GW_OK;
    while (off <= n) {
        int m = pcre2_match(pt->code, (PCRE2_SPTR)in, n, off, 0, md, NULL);
        if (m < 0)
            break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t b = ov[0], e = ov[1];
        if (e == b) { /* empty match: move on */
            off = e + 1;
            continue;
        }
        gw_buf_add(out, in + flushed, b - flushed);
        char norm[256];
        size_t nn = 0;
        for (size_t k = b; k < e && nn < sizeof(norm); k++) {
            char c = in[k];
            if (strcmp(pt->name, "vehicle") == 0) {
                if (!is_word(c))
                    continue;
                c = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
            }
            norm[nn++] = c;
        }
        emit(p, out, pt->name, norm, nn);
        if (count)
            (*count)++;
        flushed = off = e;
    }
    rc = gw_buf_add(out, in + flushed, n - flushed);
    pcre2_match_data_free(md);
    return rc;
}

/* Whether s[0..n) holds `want` consecutive ASCII digits. */
static bool has_digit_run(const char *s, size_t n, unsigned want)
{
    unsigned run = 0;
    for (size_t i = 0; i < n; i++) {
        run = is_digit(s[i]) ? run + 1 : 0;
        if (run >= want)
            return true;
    }
    return false;
}

int gw_pii_mask_text(const struct gw_pii *p, const char *s, size_t n, struct gw_buf *out,
                     unsigned *count)
{
    /* the built-in scan writes straight into `out`; each pattern then rewrites what it wrote,
     * unless its text cannot hold a match (a pattern whose every match has a run of digits,
     * like the vehicle registrations, is not run over text without one: most log lines and
     * audited strings) */
    size_t start = gw_buf_len(out);
    (void)gw_buf_space(out, n + 16); /* room for the text as it is: grown once, if at all */
    int rc = scan_builtin(p, s, n, out, count);
    struct gw_buf next;
    gw_buf_init(&next, n * 4 + 1024);
    for (size_t i = 0; i < p->npats; i++) { /* also over a cut text: what is kept is masked */
        const char *cur = gw_buf_ptr(out) + start;
        size_t cl = gw_buf_len(out) - start;
        if (p->pats[i].digit_run && !has_digit_run(cur, cl, p->pats[i].digit_run))
            continue;
        gw_buf_reset(&next);
        apply_pattern(p, &p->pats[i], cur, cl, &next, count);
        gw_buf_truncate(out, start);
        int rc2 = gw_buf_add(out, gw_buf_ptr(&next), gw_buf_len(&next));
        if (rc == GW_OK)
            rc = rc2;
    }
    gw_buf_fini(&next);
    return rc;
}

/* ---- JSON -------------------------------------------------------------------------------- */

/* Field names compare lower-cased without '_', '-', ' ' ("Mobile_Number" == "mobilenumber"). */
static void fold_name(const char *s, char *out, size_t size)
{
    size_t n = 0;
    for (; *s && n + 1 < size; s++) {
        char c = *s;
        if (c == '_' || c == '-' || c == ' ')
            continue;
        out[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    out[n] = '\0';
}

static bool in_list(char (*list)[FIELD_MAX], size_t n, const char *folded)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], folded) == 0)
            return true;
    return false;
}

static json_t *mask_string(const struct gw_pii *p, const char *s, size_t n, unsigned *count)
{
    struct gw_buf b;
    gw_buf_init(&b, n * 4 + 1024);
    gw_pii_mask_text(p, s, n, &b, count);
    json_t *v = json_stringn(gw_buf_ptr(&b), gw_buf_len(&b));
    gw_buf_fini(&b);
    return v ? v : json_string("[unmaskable]");
}

/* The whole value of a masked field: one pseudonym of its JSON text. */
static json_t *mask_whole(const struct gw_pii *p, const char *field, const json_t *v,
                          unsigned *count)
{
    char *text = json_is_string(v) ? NULL : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    const char *val = json_is_string(v) ? json_string_value(v) : text;
    size_t n = json_is_string(v) ? json_string_length(v) : (text ? strlen(text) : 0);
    char type[FIELD_MAX + 8], ps[128];
    snprintf(type, sizeof(type), "%s", field);
    gw_pii_pseudonym(p, type, val ? val : "", n, ps, sizeof(ps));
    free(text); /* checksrc: allow (jansson's allocator) */
    if (count)
        (*count)++;
    return json_string(ps);
}

static json_t *mask_json(const struct gw_pii *p, const json_t *v, unsigned *count, int depth)
{
    if (depth > 64)
        return json_string("[too deep]");
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        json_t *o = json_object();
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) {
            char f[FIELD_MAX];
            fold_name(k, f, sizeof(f));
            json_t *m;
            if (in_list((char (*)[FIELD_MAX])p->redact_fields, p->nredact, f)) {
                m = json_string("[redacted]");
                if (count)
                    (*count)++;
            } else if (in_list((char (*)[FIELD_MAX])p->mask_fields, p->nmask, f) &&
                       !json_is_null(x)) {
                m = mask_whole(p, f, x, count);
            } else {
                m = mask_json(p, x, count, depth + 1);
            }
            json_object_set_new(o, k, m);
        }
        return o;
    }
    case JSON_ARRAY: {
        json_t *a = json_array();
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) json_array_append_new(a, mask_json(p, x, count, depth + 1));
        return a;
    }
    case JSON_STRING:
        return mask_string(p, json_string_value(v), json_string_length(v), count);
    case JSON_INTEGER: {
        char digits[32];
        int n = snprintf(digits, sizeof(digits), "%lld", (long long)json_integer_value(v));
        struct gw_buf b;
        gw_buf_init(&b, 256);
        unsigned c = 0;
        gw_pii_mask_text(p, digits, (size_t)n, &b, &c);
        json_t *r = c ? json_stringn(gw_buf_ptr(&b), gw_buf_len(&b)) : json_deep_copy(v);
        gw_buf_fini(&b);
        if (count)
            *count += c;
        return r;
    }
    default:
        return json_deep_copy(v);
    }
}

json_t *gw_pii_mask_json(const struct gw_pii *p, const json_t *v, unsigned *count)
{
    if (!v)
        return json_null();
    return mask_json(p, v, count, 0);
}

/* ---- construction ------------------------------------------------------------------------ */

/* Indian vehicle registrations: state code, district (1-2 digits), series (0-3 letters),
 * number (4 digits), optionally separated; and the Bharat series (22 BH 1234 AB). */
static const char VEHICLE_RE[] =
    "(?<![A-Za-z0-9])(?:(?:AN|AP|AR|AS|BR|CG|CH|DD|DL|DN|GA|GJ|HP|HR|JH|JK|KA|KL|LA|LD|MH|ML|"
    "MN|MP|MZ|NL|OD|OR|PB|PY|RJ|SK|TN|TR|TS|UK|UP|WB)[ -]?[0-9]{1,2}[A-Z]?[ -]?(?:[A-Z]{1,3}[ -]?)?"
    "[0-9]{4}|[0-9]{2}[ -]?BH[ -]?[0-9]{4}[ -]?[A-Z]{1,2})(?![A-Za-z0-9])";

static int add_pattern(struct gw_pii *p, const char *name, const char *re, size_t relen,
                       uint32_t flags, unsigned digit_run, struct gw_error *err)
{
    if (p->npats == MAX_PATTERNS)
        return GW_ERROR_SET(err, GW_EINVAL, "GW_PII_PATTERNS: more than %d patterns",
                            MAX_PATTERNS);
    int ec = 0;
    PCRE2_SIZE eo = 0;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)re, relen, flags | PCRE2_UTF, &ec, &eo, NULL);
    if (!code) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(ec, msg, sizeof(msg));
        return GW_ERROR_SET(err, GW_EINVAL, "GW_PII_PATTERNS: pattern '%s' at offset %zu: %s",
                            name, (size_t)eo, (const char *)msg);
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    snprintf(p->pats[p->npats].name, sizeof(p->pats[0].name), "%s", name);
    p->pats[p->npats].digit_run = digit_run;
    p->pats[p->npats++].code = code;
    return GW_OK;
}

static int parse_fields(const char *list, char (*dst)[FIELD_MAX], size_t *n, const char *what,
                        struct gw_error *err)
{
    *n = 0;
    const char *s = list ? list : "";
    while (*s) {
        while (*s == ',' || *s == ' ')
            s++;
        const char *e = s;
        while (*e && *e != ',')
            e++;
        if (e > s) {
            if (*n == MAX_FIELDS || (size_t)(e - s) >= FIELD_MAX)
                return GW_ERROR_SET(err, GW_EINVAL, "%s: at most %d names of < %d characters",
                                    what, MAX_FIELDS, FIELD_MAX);
            char raw[FIELD_MAX];
            memcpy(raw, s, (size_t)(e - s));
            raw[e - s] = '\0';
            fold_name(raw, dst[*n], FIELD_MAX);
            if (dst[*n][0])
                (*n)++;
        }
        s = e;
    }
    return GW_OK;
}

int gw_pii_new(const struct gw_pii_options *o, struct gw_pii **out, struct gw_error *err)
{
    *out = NULL;
    if (!o->key || o->key_len < GW_PII_KEY_MIN)
        return GW_ERROR_SET(err, GW_EINVAL, "PII pseudonym key: at least %d bytes required",
                            GW_PII_KEY_MIN);
    struct gw_pii *p = gw_xcalloc(1, sizeof(*p));
    p->serial = atomic_fetch_add(&next_serial, 1);
    p->key_len = o->key_len < sizeof(p->key) ? o->key_len : sizeof(p->key);
    memcpy(p->key, o->key, p->key_len);
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    p->hmac = mac ? EVP_MAC_CTX_new(mac) : NULL;
    EVP_MAC_free(mac); /* the context keeps its own reference */
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
                           OSSL_PARAM_construct_end()};
    if (!p->hmac || !EVP_MAC_init(p->hmac, p->key, p->key_len, params)) {
        gw_pii_free(p);
        return GW_ERROR_SET(err, GW_EIO, "PII masker: HMAC-SHA256 unavailable");
    }
    int rc = parse_fields(o->mask_fields, p->mask_fields, &p->nmask, "GW_PII_MASK_FIELDS", err);
    if (rc == GW_OK)
        rc = parse_fields(o->redact_fields, p->redact_fields, &p->nredact,
                          "GW_PII_REDACT_FIELDS", err);
    if (rc == GW_OK && o->vehicle)
        rc = add_pattern(p, "vehicle", VEHICLE_RE, sizeof(VEHICLE_RE) - 1, PCRE2_CASELESS,
                         4 /* both alternatives end in [0-9]{4} */, err);
    const char *s = o->patterns ? o->patterns : "";
    while (rc == GW_OK && *s) {
        while (*s == ';' || *s == ' ')
            s++;
        if (!*s)
            break;
        const char *e = strchr(s, ';');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        const char *eq = memchr(s, '=', len);
        if (!eq || eq == s || (size_t)(eq - s) >= 32) {
            rc = GW_ERROR_SET(err, GW_EINVAL,
                              "GW_PII_PATTERNS: expected name=regex entries separated by ';'");
            break;
        }
        char name[32];
        memcpy(name, s, (size_t)(eq - s));
        name[eq - s] = '\0';
        for (char *c = name; *c; c++)
            if (!is_word(*c))
                *c = '_';
        rc = add_pattern(p, name, eq + 1, len - (size_t)(eq - s) - 1, 0, 0, err);
        s += len;
    }
    if (rc != GW_OK) {
        gw_pii_free(p);
        return rc;
    }
    *out = p;
    return GW_OK;
}

void gw_pii_free(struct gw_pii *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->npats; i++)
        pcre2_code_free(p->pats[i].code);
    OPENSSL_cleanse(p->key, sizeof(p->key));
    EVP_MAC_CTX_free(p->hmac);
    gw_free(p);
}

/* ---- the log filter ---------------------------------------------------------------------- */

static void log_filter(void *ud, char *msg, size_t cap)
{
    const struct gw_pii *p = ud;
    size_t n = strlen(msg);
    struct gw_buf b;
    gw_buf_init(&b, cap * 2);
    unsigned c = 0;
    gw_pii_mask_text(p, msg, n, &b, &c);
    if (c) {
        size_t m = gw_buf_len(&b) < cap - 1 ? gw_buf_len(&b) : cap - 1;
        memcpy(msg, gw_buf_ptr(&b), m);
        msg[m] = '\0';
    }
    gw_buf_fini(&b);
}

void gw_pii_log_filter_install(const struct gw_pii *p)
{
    gw_log_set_filter(log_filter, (void *)p);
}

void gw_pii_log_filter_remove(void)
{
    gw_log_set_filter(NULL, NULL);
}
