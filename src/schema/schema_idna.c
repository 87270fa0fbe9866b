/*
 * src/schema/schema_idna.c
 * Internationalised host names for the `hostname` and `idn-hostname` formats: Punycode
 * (RFC 3492) decoding and encoding, and the IDNA2008 label rules of RFC 5891/5892/5893.
 *
 * Unicode properties come from PCRE2's tables (General_Category, Script, Bidi_Class), queried
 * one code point at a time through small anchored patterns compiled once (pthread_once) and
 * kept for the life of the process. Approximations, documented in docs/json-schema.md:
 *   - PVALID is derived from the General_Category only (Ll Lo Lm Nd Mn Mc plus RFC 5892's
 *     exception list); NFKC/case-fold stability is not computed, so compatibility characters
 *     such as fullwidth letters are accepted;
 *   - Joining_Type for the ZWNJ rule is approximated (letters of joining scripts are L/D/R,
 *     marks and format characters are T); Virama is a fixed list of combining class 9 marks.
 * Thread-safe after the one-time initialisation. Only used when formats are asserted.
 */
#include "schema/schema_int.h"

#include "core/alloc.h"

#include <pthread.h>
#include <string.h>

enum {
    P_BC_L,
    P_BC_R,
    P_BC_AL,
    P_BC_AN,
    P_BC_EN,
    P_BC_ES,
    P_BC_CS,
    P_BC_ET,
    P_BC_ON,
    P_BC_BN,
    P_BC_NSM,
    P_MARK,
    P_GREEK,
    P_HEBREW,
    P_KANA_HAN,
    P_PVALID_GC,
    P_JOINING,
    P_TRANSPARENT,
    NPROP
};

static const char *prop_pat[NPROP] = {
    "\\p{bc=L}",
    "\\p{bc=R}",
    "\\p{bc=AL}",
    "\\p{bc=AN}",
    "\\p{bc=EN}",
    "\\p{bc=ES}",
    "\\p{bc=CS}",
    "\\p{bc=ET}",
    "\\p{bc=ON}",
    "\\p{bc=BN}",
    "\\p{bc=NSM}",
    "\\p{M}",
    "\\p{Greek}",
    "\\p{Hebrew}",
    "[\\p{Hiragana}\\p{Katakana}\\p{Han}]",
    "[\\p{Ll}\\p{Lo}\\p{Lm}\\p{Nd}\\p{Mn}\\p{Mc}]",
    "(?=\\p{L})[\\p{Arabic}\\p{Syriac}\\p{Nko}\\p{Mongolian}\\p{Mandaic}\\p{Manichaean}]",
    "[\\p{Mn}\\p{Me}\\p{Cf}]",
};

/* Compiled once per process and never freed (still reachable, so not reported as leaks). */
static pcre2_code *prop_re[NPROP];
static pthread_once_t prop_once = PTHREAD_ONCE_INIT;

/* pthread_once body: a pattern that fails to compile stays NULL and its property reads as
 * "no" (only possible with a PCRE2 built without Unicode support). */
static void prop_init(void)
{
    for (int i = 0; i < NPROP; i++) {
        int ec;
        PCRE2_SIZE off;
        prop_re[i] = pcre2_compile((PCRE2_SPTR)prop_pat[i], PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_ANCHORED, &ec, &off, NULL);
    }
}

struct idna {
    pcre2_match_data *md;
};

/* One code point as UTF-8 (the caller guarantees a scalar value). */
static size_t utf8_put(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Whether code point `cp` has property `prop`: an anchored match of a one-character class. */
static bool has(struct idna *x, int prop, uint32_t cp)
{
    if (!prop_re[prop] || !x->md || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return false;
    char buf[4];
    size_t n = utf8_put(cp, buf);
    return pcre2_match(prop_re[prop], (PCRE2_SPTR)buf, n, 0, 0, x->md, NULL) >= 0;
}

/* ---- Punycode (RFC 3492) ---- */

enum { BASE = 36, TMIN = 1, TMAX = 26, SKEW = 38, DAMP = 700, IBIAS = 72, IN = 128 };

/* RFC 3492 section 6.1 bias adaptation. */
static uint32_t adapt(uint32_t delta, uint32_t npoints, bool first)
{
    delta = first ? delta / DAMP : delta / 2;
    delta += delta / npoints;
    uint32_t k = 0;
    while (delta > ((BASE - TMIN) * TMAX) / 2) {
        delta /= BASE - TMIN;
        k += BASE;
    }
    return k + (BASE - TMIN + 1) * delta / (delta + SKEW);
}

/* RFC 3492 basic code point to digit value (case-insensitive), -1 if not a digit. */
static int digit_val(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0' + 26;
    if (c >= 'a' && c <= 'z')
        return c - 'a';
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    return -1;
}

/* Decodes the part after "xn--"; returns the number of code points or -1. */
static int puny_decode(const char *s, size_t n, uint32_t *out, size_t cap)
{
    size_t b = 0;
    bool delim = false;
    for (size_t k = 0; k < n; k++) {
        if (s[k] == '-') {
            b = k;
            delim = true;
        }
    }
    size_t len = 0;
    if (delim) {
        if (b > cap)
            return -1;
        for (size_t k = 0; k < b; k++) {
            if ((unsigned char)s[k] >= 0x80)
                return -1;
            out[len++] = (unsigned char)s[k];
        }
    }
    size_t in = delim ? b + 1 : 0;
    uint32_t cp = IN, bias = IBIAS, i = 0;
    while (in < n) {
        uint32_t oldi = i, w = 1;
        for (uint32_t k = BASE;; k += BASE) {
            if (in >= n)
                return -1;
            int d = digit_val(s[in++]);
            if (d < 0 || (uint32_t)d > (0x7fffffffu - i) / w)
                return -1;
            i += (uint32_t)d * w;
            uint32_t t = k <= bias ? TMIN : k >= bias + TMAX ? TMAX : k - bias;
            if ((uint32_t)d < t)
                break;
            if (w > 0x7fffffffu / (BASE - t))
                return -1;
            w *= BASE - t;
        }
        if (len + 1 > cap)
            return -1;
        bias = adapt(i - oldi, (uint32_t)len + 1, oldi == 0);
        if (i / (len + 1) > 0x10FFFF - cp)
            return -1;
        cp += i / (uint32_t)(len + 1);
        i %= (uint32_t)(len + 1);
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return -1;
        memmove(out + i + 1, out + i, (len - i) * sizeof(*out));
        out[i++] = cp;
        len++;
    }
    return (int)len;
}

/* Digit value to lower-case basic code point. */
static char enc_digit(uint32_t d)
{
    return (char)(d < 26 ? 'a' + d : '0' + (d - 26));
}

/* Encodes code points; returns the length written to out (no "xn--"), or -1 when over cap. */
static int puny_encode(const uint32_t *cp, size_t n, char *out, size_t cap)
{
    size_t o = 0, b = 0;
    for (size_t k = 0; k < n; k++) {
        if (cp[k] < 0x80) {
            if (o >= cap)
                return -1;
            out[o++] = (char)cp[k];
            b++;
        }
    }
    if (b > 0) {
        if (o >= cap)
            return -1;
        out[o++] = '-';
    }
    uint32_t m, nn = IN, delta = 0, bias = IBIAS;
    size_t h = b;
    while (h < n) {
        m = 0xFFFFFFFFu;
        for (size_t k = 0; k < n; k++)
            if (cp[k] >= nn && cp[k] < m)
                m = cp[k];
        if ((m - nn) > (0xFFFFFFFFu - delta) / (uint32_t)(h + 1))
            return -1;
        delta += (m - nn) * (uint32_t)(h + 1);
        nn = m;
        for (size_t k = 0; k < n; k++) {
            if (cp[k] < nn)
                delta++;
            if (cp[k] != nn)
                continue;
            uint32_t q = delta;
            for (uint32_t kk = BASE;; kk += BASE) {
                uint32_t t = kk <= bias ? TMIN : kk >= bias + TMAX ? TMAX : kk - bias;
                if (q < t)
                    break;
                if (o >= cap)
                    return -1;
                out[o++] = enc_digit(t + (q - t) % (BASE - t));
                q = (q - t) / (BASE - t);
            }
            if (o >= cap)
                return -1;
            out[o++] = enc_digit(q);
            bias = adapt(delta, (uint32_t)h + 1, h == b);
            delta = 0;
            h++;
        }
        delta++;
        nn++;
    }
    return (int)o;
}

/* ---- IDNA2008 rules ---- */

/* Canonical_Combining_Class 9 (Virama), which PCRE2 does not expose. */
static bool is_virama(uint32_t c)
{
    static const uint32_t v[] = {
        0x094D,  0x09CD,  0x0A4D,  0x0ACD,  0x0B4D,  0x0BCD,  0x0C4D,  0x0CCD,  0x0D3B,
        0x0D3C,  0x0D4D,  0x0DCA,  0x0E3A,  0x0EBA,  0x0F84,  0x1039,  0x103A,  0x1714,
        0x1715,  0x1734,  0x17D2,  0x1A60,  0x1B44,  0x1BAA,  0x1BAB,  0x1BF2,  0x1BF3,
        0x2D7F,  0xA806,  0xA82C,  0xA8C4,  0xA953,  0xA9C0,  0xAAF6,  0xABED,  0x10A3F,
        0x11046, 0x11070, 0x1107F, 0x110B9, 0x11133, 0x11134, 0x111C0, 0x11235, 0x112EA,
        0x1134D, 0x11442, 0x114C2, 0x115BF, 0x1163F, 0x116B6, 0x1172B, 0x11839, 0x1193D,
        0x1193E, 0x119E0, 0x11A34, 0x11A47, 0x11A99, 0x11C3F, 0x11D44, 0x11D45, 0x11D97,
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        if (v[i] == c)
            return true;
    return false;
}

/* Approximation of IDNA2008 PVALID (see the file comment). */
static bool pvalid(struct idna *x, uint32_t c)
{
    if (c < 0x80) /* LDH; upper case is tolerated (host names are case-insensitive) */
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-';
    switch (c) {
    case 0x00DF:
    case 0x03C2:
    case 0x06FD:
    case 0x06FE:
    case 0x0F0B:
    case 0x3007: return true; /* RFC 5892 exceptions: PVALID */
    case 0x0640:
    case 0x07FA:
    case 0x302E:
    case 0x302F:
    case 0x3031:
    case 0x3032:
    case 0x3033:
    case 0x3034:
    case 0x3035:
    case 0x303B: return false; /* RFC 5892 exceptions: DISALLOWED */
    default: return has(x, P_PVALID_GC, c);
    }
}

/* RFC 5891 4.2.3 and RFC 5892 contextual rules for one label of code points. */
static bool label_ok(struct idna *x, const uint32_t *cp, size_t n)
{
    if (n == 0)
        return false;
    if (has(x, P_MARK, cp[0]))
        return false;
    bool arabic_indic = false, ext_arabic_indic = false;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = cp[i];
        if (c >= 0x0660 && c <= 0x0669)
            arabic_indic = true;
        if (c >= 0x06F0 && c <= 0x06F9)
            ext_arabic_indic = true;
    }
    if (arabic_indic && ext_arabic_indic)
        return false;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = cp[i];
        if (c == 0x00B7) { /* MIDDLE DOT: between two 'l' */
            if (i == 0 || i + 1 >= n || cp[i - 1] != 'l' || cp[i + 1] != 'l')
                return false;
        } else if (c == 0x0375) { /* GREEK KERAIA: followed by Greek */
            if (i + 1 >= n || !has(x, P_GREEK, cp[i + 1]))
                return false;
        } else if (c == 0x05F3 || c == 0x05F4) { /* GERESH, GERSHAYIM: after Hebrew */
            if (i == 0 || !has(x, P_HEBREW, cp[i - 1]))
                return false;
        } else if (c == 0x30FB) { /* KATAKANA MIDDLE DOT: with Hiragana, Katakana or Han */
            bool ok = false;
            for (size_t k = 0; k < n && !ok; k++)
                ok = cp[k] != 0x30FB && has(x, P_KANA_HAN, cp[k]);
            if (!ok)
                return false;
        } else if (c == 0x200D) { /* ZWJ: after a virama */
            if (i == 0 || !is_virama(cp[i - 1]))
                return false;
        } else if (c == 0x200C) { /* ZWNJ: after a virama, or between joining letters */
            if (i > 0 && is_virama(cp[i - 1]))
                continue;
            size_t k = i;
            while (k > 0 && has(x, P_TRANSPARENT, cp[k - 1]))
                k--;
            bool left = k > 0 && has(x, P_JOINING, cp[k - 1]);
            k = i + 1;
            while (k < n && has(x, P_TRANSPARENT, cp[k]))
                k++;
            bool right = k < n && has(x, P_JOINING, cp[k]);
            if (!left || !right)
                return false;
        } else if ((c >= 0x0660 && c <= 0x0669) || (c >= 0x06F0 && c <= 0x06F9)) {
            /* CONTEXTO digits: mixing checked above */
        } else if (!pvalid(x, c)) {
            return false;
        }
    }
    return true;
}

/* RFC 5893 section 2, rules 1-6, for one label of a Bidi domain name. */
static bool bidi_label_ok(struct idna *x, const uint32_t *cp, size_t n)
{
    if (n == 0)
        return false;
    bool rtl;
    if (has(x, P_BC_R, cp[0]) || has(x, P_BC_AL, cp[0]))
        rtl = true;
    else if (has(x, P_BC_L, cp[0]))
        rtl = false;
    else
        return false; /* rule 1 */
    bool en = false, an = false;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = cp[i];
        bool is_en = has(x, P_BC_EN, c), is_an = has(x, P_BC_AN, c);
        en |= is_en;
        an |= is_an;
        bool common = is_en || has(x, P_BC_ES, c) || has(x, P_BC_CS, c) ||
                      has(x, P_BC_ET, c) || has(x, P_BC_ON, c) || has(x, P_BC_BN, c) ||
                      has(x, P_BC_NSM, c);
        if (rtl && !(common || is_an || has(x, P_BC_R, c) || has(x, P_BC_AL, c)))
            return false; /* rule 2 */
        if (!rtl && !(common || has(x, P_BC_L, c)))
            return false; /* rule 5 */
    }
    if (rtl && en && an)
        return false; /* rule 4 */
    size_t e = n;
    while (e > 0 && has(x, P_BC_NSM, cp[e - 1]))
        e--;
    if (e == 0)
        return false;
    uint32_t last = cp[e - 1];
    if (rtl)
        return has(x, P_BC_R, last) || has(x, P_BC_AL, last) || has(x, P_BC_EN, last) ||
               has(x, P_BC_AN, last); /* rule 3 */
    return has(x, P_BC_L, last) || has(x, P_BC_EN, last); /* rule 6 */
}

/* Label separators: '.', and for idn-hostname U+3002, U+FF0E, U+FF61 (RFC 3490 3.1). */
static bool is_sep(const unsigned char *s, size_t n, size_t i, size_t *len)
{
    if (s[i] == '.') {
        *len = 1;
        return true;
    }
    if (i + 2 < n) {
        bool u3002 = s[i] == 0xE3 && s[i + 1] == 0x80 && s[i + 2] == 0x82;
        bool uff0e = s[i] == 0xEF && s[i + 1] == 0xBC && s[i + 2] == 0x8E;
        bool uff61 = s[i] == 0xEF && s[i + 1] == 0xBD && s[i + 2] == 0xA1;
        if (u3002 || uff0e || uff61) {
            *len = 3;
            return true;
        }
    }
    return false;
}

/* Valid UTF-8 (jansson strings are) into code points; stops at cap. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o < cap;) {
        unsigned char c = s[i];
        uint32_t cp;
        size_t k;
        if (c < 0x80) {
            cp = c;
            k = 1;
        } else if (c < 0xE0) {
            cp = c & 0x1F;
            k = 2;
        } else if (c < 0xF0) {
            cp = c & 0x0F;
            k = 3;
        } else {
            cp = c & 0x07;
            k = 4;
        }
        for (size_t j = 1; j < k && i + j < n; j++)
            cp = cp << 6 | (s[i + j] & 0x3F);
        out[o++] = cp;
        i += k;
    }
    return o;
}

#define MAX_LABELS 128
#define LABEL_CP 64

/* Splits into labels, checks each (LDH and A-label rules, or U-label rules for idn), then,
 * when any label is right-to-left, the Bidi rule over all labels (RFC 5893: it applies to
 * every label of a Bidi domain name). Total ASCII length at most 253. */
/* The common case without Unicode work: ASCII letters, digits, '-' and '.', no A-label. */
static bool ldh_only(const unsigned char *s, size_t n, bool *is_ldh)
{
    size_t st = 0;
    *is_ldh = true;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.') {
            unsigned char c = s[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-')) {
                *is_ldh = false; /* something else: the full check decides */
                return false;
            }
            continue;
        }
        size_t ln = i - st;
        if (ln >= 4 && s[st + 2] == '-' && s[st + 3] == '-') {
            *is_ldh = false; /* an A-label (or a reserved form): the full check decides */
            return false;
        }
        if (ln == 0 || ln > 63 || s[st] == '-' || s[i - 1] == '-')
            return false;
        st = i + 1;
    }
    return n <= 253;
}

bool gw_schema__hostname_ok(const char *str, size_t n, bool idn)
{
    const unsigned char *s = (const unsigned char *)str;
    if (n == 0 || n > 1024)
        return false;
    bool is_ldh;
    bool ok_ldh = ldh_only(s, n, &is_ldh);
    if (is_ldh)
        return ok_ldh;
    pthread_once(&prop_once, prop_init);
    struct idna x = {pcre2_match_data_create(1, NULL)};
    uint32_t(*labels)[LABEL_CP] = gw_trymalloc(MAX_LABELS * sizeof(*labels));
    size_t lens[MAX_LABELS];
    size_t nl = 0, total = 0;
    bool ok = labels && x.md, bidi = false;
    size_t st = 0;
    for (size_t i = 0; ok && i <= n; i++) {
        size_t seplen = 0;
        if (i < n && !(is_sep(s, n, i, &seplen) && (idn || seplen == 1)))
            continue;
        const unsigned char *l = s + st;
        size_t ln = i - st;
        st = i + seplen;
        if (ln == 0 || nl >= MAX_LABELS) {
            ok = false;
            break;
        }
        uint32_t *cp = labels[nl];
        bool ascii = true;
        for (size_t k = 0; k < ln; k++)
            if (l[k] >= 0x80)
                ascii = false;
        size_t ace; /* length of the label in its ASCII (A-label) form */
        if (ascii) {
            if (ln > 63 || l[0] == '-' || l[ln - 1] == '-') {
                ok = false;
                break;
            }
            for (size_t k = 0; k < ln && ok; k++)
                ok = (l[k] >= 'a' && l[k] <= 'z') || (l[k] >= 'A' && l[k] <= 'Z') ||
                     (l[k] >= '0' && l[k] <= '9') || l[k] == '-';
            if (!ok)
                break;
            if (ln >= 4 && l[2] == '-' && l[3] == '-') {
                /* "--" in positions 3-4 is only for A-labels ("xn--") */
                if (!((l[0] | 0x20) == 'x' && (l[1] | 0x20) == 'n')) {
                    ok = false;
                    break;
                }
                int m = puny_decode((const char *)l + 4, ln - 4, cp, LABEL_CP);
                char re[80];
                int rl = m > 0 ? puny_encode(cp, (size_t)m, re, sizeof(re)) : -1;
                bool non_ascii = false;
                for (int k = 0; k < m; k++)
                    non_ascii |= cp[k] >= 0x80;
                /* valid Punycode, re-encodes to itself, decodes to a real U-label */
                ok = m > 0 && non_ascii && rl == (int)(ln - 4) &&
                     strncasecmp(re, (const char *)l + 4, (size_t)rl) == 0 &&
                     !(m >= 4 && cp[2] == '-' && cp[3] == '-') && label_ok(&x, cp, (size_t)m);
                lens[nl] = m > 0 ? (size_t)m : 0;
            } else {
                for (size_t k = 0; k < ln; k++)
                    cp[k] = l[k];
                lens[nl] = ln;
            }
            ace = ln;
        } else {
            if (!idn) {
                ok = false;
                break;
            }
            size_t m = utf8_decode(l, ln, cp, LABEL_CP);
            char re[80];
            int rl = puny_encode(cp, m, re, sizeof(re));
            ok = m < LABEL_CP && rl >= 0 && rl + 4 <= 63 && cp[0] != '-' && cp[m - 1] != '-' &&
                 !(m >= 4 && cp[2] == '-' && cp[3] == '-') && label_ok(&x, cp, m);
            lens[nl] = m;
            ace = (size_t)(rl >= 0 ? rl : 64) + 4;
        }
        for (size_t k = 0; ok && k < lens[nl]; k++)
            bidi |= has(&x, P_BC_R, cp[k]) || has(&x, P_BC_AL, cp[k]) ||
                    has(&x, P_BC_AN, cp[k]);
        total += ace + (nl ? 1 : 0);
        nl++;
    }
    if (ok && total > 253)
        ok = false;
    for (size_t k = 0; ok && bidi && k < nl; k++)
        ok = bidi_label_ok(&x, labels[k], lens[k]);
    gw_free(labels);
    pcre2_match_data_free(x.md);
    return ok;
}
