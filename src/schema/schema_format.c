/*
 * src/schema/schema_format.c
 * `format` assertions: date-time, date, time, duration (RFC 3339), email/idn-email (RFC 5321
 * addr-spec with quoted local parts and address literals), hostname/idn-hostname (RFC 1123
 * labels, A-labels checked by Punycode decoding), ipv4, ipv6, uri, uri-reference, iri,
 * iri-reference (RFC 3986/3987 syntax), uri-template (RFC 6570 syntax), uuid, regex (compiles
 * with PCRE2), json-pointer, relative-json-pointer; and OpenAPI's int32, int64, float, double
 * and byte (base64).
 * Only used when format assertion is on (option or format-assertion vocabulary); unknown
 * formats always pass. Pure functions over (pointer, length): no allocation except PCRE2's for
 * `regex`, thread-safe.
 * Not here: IDNA2008 contextual rules (CONTEXTJ/CONTEXTO, bidi) for idn-hostname, which need
 * Unicode property tables; see docs/json-schema.md for the resulting format test results.
 */
#include "schema/schema_int.h"

#include "core/json.h"

#include <math.h>
#include <string.h>

enum {
    F_NONE = 0,
    F_DATE_TIME,
    F_DATE,
    F_TIME,
    F_DURATION,
    F_EMAIL,
    F_IDN_EMAIL,
    F_HOSTNAME,
    F_IDN_HOSTNAME,
    F_IPV4,
    F_IPV6,
    F_URI,
    F_URI_REF,
    F_IRI,
    F_IRI_REF,
    F_URI_TEMPLATE,
    F_UUID,
    F_REGEX,
    F_JSON_POINTER,
    F_REL_JSON_POINTER,
    F_INT32,
    F_INT64,
    F_FLOAT,
    F_DOUBLE,
    F_BYTE
};

static const struct {
    const char *name;
    uint8_t id;
} formats[] = {
    {"date-time", F_DATE_TIME},
    {"date", F_DATE},
    {"time", F_TIME},
    {"duration", F_DURATION},
    {"email", F_EMAIL},
    {"idn-email", F_IDN_EMAIL},
    {"hostname", F_HOSTNAME},
    {"idn-hostname", F_IDN_HOSTNAME},
    {"ipv4", F_IPV4},
    {"ipv6", F_IPV6},
    {"uri", F_URI},
    {"uri-reference", F_URI_REF},
    {"iri", F_IRI},
    {"iri-reference", F_IRI_REF},
    {"uri-template", F_URI_TEMPLATE},
    {"uuid", F_UUID},
    {"regex", F_REGEX},
    {"json-pointer", F_JSON_POINTER},
    {"relative-json-pointer", F_REL_JSON_POINTER},
    {"int32", F_INT32},
    {"int64", F_INT64},
    {"float", F_FLOAT},
    {"double", F_DOUBLE},
    {"byte", F_BYTE},
};

/* Linear search over ~25 names: runs at compile time only. */
uint8_t gw_schema__format_id(const char *name)
{
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
        if (strcmp(name, formats[i].name) == 0)
            return formats[i].id;
    return F_NONE;
}

bool gw_schema__format_is_numeric(uint8_t id)
{
    return id == F_INT32 || id == F_INT64 || id == F_FLOAT || id == F_DOUBLE;
}

/* ---- small character helpers ---- */

/* ASCII only: RFC grammars are ASCII, and locale-dependent ctype functions would accept
 * non-ASCII digits (the suite checks that a Bengali digit is not a digit). */
static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum(char c)
{
    return is_alpha(c) || is_digit(c);
}

/* Reads exactly `n` ASCII digits at s[*i]; -1 when they are not there. */
static int digits(const char *s, size_t len, size_t *i, int n)
{
    int v = 0;
    for (int k = 0; k < n; k++) {
        if (*i >= len || !is_digit(s[*i]))
            return -1;
        v = v * 10 + (s[(*i)++] - '0');
    }
    return v;
}

/* ---- dates and times (RFC 3339 section 5.6) ---- */

/* Gregorian rule (proleptic, as RFC 3339 uses). */
static bool leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* full-date = date-fullyear "-" date-month "-" date-mday, with the month's real length. */
static bool full_date(const char *s, size_t len, size_t *i)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = digits(s, len, i, 4);
    if (y < 0 || *i >= len || s[(*i)++] != '-')
        return false;
    int m = digits(s, len, i, 2);
    if (m < 1 || m > 12 || *i >= len || s[(*i)++] != '-')
        return false;
    int d = digits(s, len, i, 2);
    int max = mdays[m - 1] + (m == 2 && leap_year(y) ? 1 : 0);
    return d >= 1 && d <= max;
}

/* full-time = partial-time time-offset. Seconds may be 60 only at 23:59 UTC, i.e. after
 * applying the offset (15:59:60-08:00 is a valid leap second). */
static bool full_time(const char *s, size_t len, size_t *i)
{
    int h = digits(s, len, i, 2);
    if (h < 0 || h > 23 || *i >= len || s[(*i)++] != ':')
        return false;
    int mi = digits(s, len, i, 2);
    if (mi < 0 || mi > 59 || *i >= len || s[(*i)++] != ':')
        return false;
    int sec = digits(s, len, i, 2);
    if (sec < 0 || sec > 60)
        return false;
    if (*i < len && s[*i] == '.') {
        (*i)++;
        size_t start = *i;
        while (*i < len && is_digit(s[*i]))
            (*i)++;
        if (*i == start)
            return false;
    }
    if (*i >= len)
        return false; /* the offset is required */
    int off = 0;
    char c = s[(*i)++];
    if (c == 'Z' || c == 'z') {
        off = 0;
    } else if (c == '+' || c == '-') {
        int oh = digits(s, len, i, 2);
        if (oh < 0 || oh > 23 || *i >= len || s[(*i)++] != ':')
            return false;
        int om = digits(s, len, i, 2);
        if (om < 0 || om > 59)
            return false;
        off = (c == '+' ? 1 : -1) * (oh * 60 + om);
    } else {
        return false;
    }
    if (sec == 60) {
        /* a leap second is 23:59:60 in UTC */
        int utc = ((h * 60 + mi - off) % 1440 + 1440) % 1440;
        if (utc != 23 * 60 + 59)
            return false;
    }
    return true;
}

/* date-time: full-date "T" full-time ('t' and 'z' accepted, as RFC 3339 allows). */
static bool check_date_time(const char *s, size_t n)
{
    size_t i = 0;
    if (!full_date(s, n, &i) || i >= n || (s[i] != 'T' && s[i] != 't'))
        return false;
    i++;
    return full_time(s, n, &i) && i == n;
}

static bool check_date(const char *s, size_t n)
{
    size_t i = 0;
    return full_date(s, n, &i) && i == n;
}

static bool check_time(const char *s, size_t n)
{
    size_t i = 0;
    return full_time(s, n, &i) && i == n;
}

/* ISO 8601 durations as in RFC 3339 appendix A: P[nY][nM][nD][T[nH][nM][nS]] or PnW, with
 * the units in order and no gaps in the time part (H then S needs M; Y then D needs M). */
/* Walks "P", then number+unit pairs; `last` is the index of the previous unit in its part
 * (date: Y M D, time: H M S) so units must come in order without gaps ("P1Y2D" lacks M),
 * and weeks stand alone. Fractions are not in RFC 3339's ABNF. */
static bool check_duration(const char *s, size_t n)
{
    size_t i = 0;
    if (n < 2 || s[i++] != 'P')
        return false;
    static const char date_units[] = "YMD", time_units[] = "HMS";
    int last = -1, count = 0;
    bool in_time = false, weeks = false;
    while (i < n) {
        if (s[i] == 'T') {
            if (in_time || weeks)
                return false;
            in_time = true;
            last = -1;
            i++;
            if (i >= n)
                return false;
            continue;
        }
        size_t st = i;
        while (i < n && is_digit(s[i]))
            i++;
        if (i == st || i >= n)
            return false;
        char u = s[i++];
        if (u == 'W' && !in_time) {
            if (count > 0 || i != n)
                return false;
            weeks = true;
            count++;
            continue;
        }
        const char *units = in_time ? time_units : date_units;
        const char *p = strchr(units, u);
        if (!p || u == '\0')
            return false;
        int idx = (int)(p - units);
        if (idx <= last || (last >= 0 && idx != last + 1))
            return false;
        if (last < 0 && in_time == false && count > 0)
            return false;
        last = idx;
        count++;
    }
    if (count == 0)
        return false;
    /* "P1YT" / "PT": a T with nothing after it was rejected above */
    return true;
}

/* ---- internet names and addresses ---- */

/* Dotted quad, decimal 0-255, no leading zeros (they read as octal elsewhere). */
static bool check_ipv4(const char *s, size_t n)
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= n || s[i++] != '.')
                return false;
        }
        size_t st = i;
        int v = 0;
        while (i < n && is_digit(s[i]) && i - st < 3)
            v = v * 10 + (s[i++] - '0');
        if (i == st || v > 255 || (i - st > 1 && s[st] == '0'))
            return false;
    }
    return i == n;
}

/* RFC 4291 text forms: 8 groups, one "::" elision, optional trailing dotted quad; no zone
 * identifiers, no brackets, no prefix lengths. */
static bool check_ipv6(const char *s, size_t n)
{
    int groups = 0;
    bool dbl = false;
    size_t i = 0;
    if (n >= 2 && s[0] == ':' && s[1] == ':') {
        dbl = true;
        i = 2;
        if (i == n)
            return true;
    } else if (n > 0 && s[0] == ':') {
        return false;
    }
    /* groups of 1-4 hex digits separated by ':'; a "::" may appear once and stands for at
     * least one zero group, so with it at most 7 explicit groups remain */
    while (i < n) {
        /* an embedded IPv4 address ends the address */
        size_t st = i;
        while (i < n && is_hex(s[i]))
            i++;
        if (i < n && s[i] == '.') {
            if (!check_ipv4(s + st, n - st))
                return false;
            groups += 2;
            i = n;
            break;
        }
        if (i == st || i - st > 4)
            return false;
        groups++;
        if (i == n)
            break;
        if (s[i] != ':')
            return false;
        i++;
        if (i < n && s[i] == ':') {
            if (dbl)
                return false;
            dbl = true;
            i++;
            if (i == n)
                break;
        } else if (i == n) {
            return false; /* a single trailing ':' */
        }
    }
    return dbl ? groups <= 7 : groups == 8;
}

/* RFC 1123 host names; A-labels ("xn--") are decoded and checked (schema_idna.c). */
static bool check_hostname(const char *s, size_t n)
{
    return gw_schema__hostname_ok(s, n, false);
}

/* Internationalised host names (RFC 5890-5893), see schema_idna.c. */
static bool check_idn_hostname(const char *s, size_t n)
{
    return gw_schema__hostname_ok(s, n, true);
}

/* RFC 5322 atext (plus any non-ASCII character for idn-email). */
static bool atext(unsigned char c, bool idn)
{
    return is_alnum((char)c) || strchr("!#$%&'*+-/=?^_`{|}~", c) || (idn && c >= 0x80);
}

/* addr-spec as RFC 5321 mailboxes: a dot-atom or quoted-string local part, '@', and a host
 * name or an address literal ([1.2.3.4] or [IPv6:...]). Comments and folding are refused. */
static bool check_email(const char *s, size_t n, bool idn)
{
    if (n == 0 || n > 320)
        return false;
    size_t i = 0;
    /* local part: a quoted string (anything but an unescaped quote, '\' escapes the next
     * character) or a dot-atom (atext runs separated by single dots) */
    if (s[0] == '"') {
        /* quoted-string local part */
        i = 1;
        while (i < n && s[i] != '"') {
            if (s[i] == '\\')
                i++;
            i++;
        }
        if (i >= n)
            return false;
        i++;
    } else {
        size_t st = 0;
        for (; i < n && s[i] != '@'; i++) {
            if (s[i] == '.') {
                if (i == st || i + 1 >= n || s[i + 1] == '.' || s[i + 1] == '@')
                    return false;
            } else if (!atext((unsigned char)s[i], idn)) {
                return false;
            }
        }
        if (i == 0)
            return false;
    }
    if (i >= n || s[i] != '@')
        return false;
    const char *d = s + i + 1;
    size_t dn = n - i - 1;
    if (dn >= 2 && d[0] == '[' && d[dn - 1] == ']') {
        if (dn > 7 && strncmp(d + 1, "IPv6:", 5) == 0)
            return check_ipv6(d + 6, dn - 7);
        return check_ipv4(d + 1, dn - 2);
    }
    return idn ? check_idn_hostname(d, dn) : check_hostname(d, dn);
}

/* RFC 4122 text form 8-4-4-4-12 hex digits (any version). */
static bool check_uuid(const char *s, size_t n)
{
    if (n != 36)
        return false;
    for (size_t i = 0; i < n; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !is_hex(s[i]))
            return false;
    }
    return true;
}

/* ---- URIs (RFC 3986) and IRIs (RFC 3987: also non-ASCII characters) ---- */

/* RFC 3986 unreserved (+ RFC 3987 ucschar: any non-ASCII, for IRIs). */
static bool unreserved(unsigned char c, bool iri)
{
    return is_alnum((char)c) || c == '-' || c == '.' || c == '_' || c == '~' || (iri && c >= 0x80);
}

/* RFC 3986 sub-delims. */
static bool sub_delim(char c)
{
    return c != '\0' && strchr("!$&'()*+,;=", c);
}

/* Checks s[a..b) against pchar-like sets: unreserved, pct-encoded, sub-delims and `extra`. */
static bool chars_ok(const char *s, size_t a, size_t b, const char *extra, bool iri)
{
    for (size_t i = a; i < b; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= b || !is_hex(s[i + 1]) || !is_hex(s[i + 2]))
                return false;
            i += 2;
        } else if (!unreserved(c, iri) && !sub_delim((char)c) &&
                   !(c != '\0' && strchr(extra, c))) {
            return false;
        }
    }
    return true;
}

/* URI / URI-reference / IRI / IRI-reference: RFC 3986 section 3 component grammar (scheme,
 * authority with userinfo, IP-literal or reg-name and a numeric port, path, query,
 * fragment), percent-encodings well formed. need_scheme selects absolute forms. */
static bool check_uri_ref(const char *s, size_t n, bool need_scheme, bool iri)
{
    size_t i = 0, end;
    /* scheme */
    size_t k = 0;
    while (k < n && s[k] != ':' && s[k] != '/' && s[k] != '?' && s[k] != '#')
        k++;
    bool has_scheme = k < n && s[k] == ':' && k > 0;
    if (has_scheme) {
        if (!is_alpha(s[0]))
            return false;
        for (size_t j = 1; j < k; j++)
            if (!is_alnum(s[j]) && s[j] != '+' && s[j] != '-' && s[j] != '.')
                return false;
        i = k + 1;
    } else if (need_scheme) {
        return false;
    }
    /* authority: [userinfo "@"] host [":" port]; host is an IP-literal in brackets (IPv6 or
     * IPvFuture) or a reg-name; the port is digits only */
    if (i + 1 < n && s[i] == '/' && s[i + 1] == '/') {
        i += 2;
        end = i;
        while (end < n && s[end] != '/' && s[end] != '?' && s[end] != '#')
            end++;
        size_t at = SIZE_MAX;
        for (size_t j = i; j < end; j++)
            if (s[j] == '@')
                at = j;
        if (at != SIZE_MAX) {
            if (!chars_ok(s, i, at, ":", iri))
                return false;
            i = at + 1;
        }
        size_t hend = end;
        if (i < end && s[i] == '[') {
            size_t rb = i;
            while (rb < end && s[rb] != ']')
                rb++;
            if (rb >= end)
                return false;
            if (!(rb - i > 1 && (s[i + 1] == 'v' || s[i + 1] == 'V')) &&
                !check_ipv6(s + i + 1, rb - i - 1))
                return false;
            hend = rb + 1;
        } else {
            hend = i;
            while (hend < end && s[hend] != ':')
                hend++;
            if (!chars_ok(s, i, hend, "", iri))
                return false;
        }
        if (hend < end) {
            if (s[hend] != ':')
                return false;
            for (size_t j = hend + 1; j < end; j++)
                if (!is_digit(s[j]))
                    return false;
        }
        i = end;
    } else if (has_scheme == false && i < n && s[i] != '/') {
        /* a relative-path reference: its first segment cannot contain ':' */
        size_t j = i;
        while (j < n && s[j] != '/' && s[j] != '?' && s[j] != '#') {
            if (s[j] == ':')
                return false;
            j++;
        }
    }
    /* path */
    end = i;
    while (end < n && s[end] != '?' && s[end] != '#')
        end++;
    if (!chars_ok(s, i, end, ":@/", iri))
        return false;
    i = end;
    if (i < n && s[i] == '?') {
        end = ++i;
        while (end < n && s[end] != '#')
            end++;
        if (!chars_ok(s, i, end, ":@/?", iri))
            return false;
        i = end;
    }
    if (i < n && s[i] == '#') {
        if (!chars_ok(s, i + 1, n, ":@/?", iri))
            return false;
    }
    return true;
}

/* RFC 6570 level 4 syntax: literals, and expressions "{" [op] varspec *("," varspec) "}" with
 * varname = varchar *(["."] varchar), varchar = ALPHA / DIGIT / "_" / pct-encoded, and the
 * modifiers ":" 1-9999 or "*". */
static bool check_uri_template(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n || !is_hex(s[i + 1]) || !is_hex(s[i + 2]))
                return false;
            i += 3;
            continue;
        }
        if (c != '{') {
            if (c <= 0x20 || c == 0x7f || strchr("\"<>\\^`|}", c))
                return false;
            i++;
            continue;
        }
        i++;
        if (i < n && strchr("+#./;?&", s[i]) && s[i] != '\0')
            i++;
        for (;;) {
            /* varname */
            size_t st = i;
            bool prev_dot = true;
            while (i < n) {
                if (s[i] == '%' && i + 2 < n && is_hex(s[i + 1]) && is_hex(s[i + 2])) {
                    i += 3;
                } else if (is_alnum(s[i]) || s[i] == '_') {
                    i++;
                } else if (s[i] == '.' && !prev_dot) {
                    i++;
                    prev_dot = true;
                    continue;
                } else {
                    break;
                }
                prev_dot = false;
            }
            if (i == st || prev_dot)
                return false;
            if (i < n && s[i] == ':') {
                size_t ds = ++i;
                while (i < n && is_digit(s[i]))
                    i++;
                if (i == ds || i - ds > 4 || s[ds] == '0')
                    return false;
            } else if (i < n && s[i] == '*') {
                i++;
            }
            if (i < n && s[i] == ',') {
                i++;
                continue;
            }
            break;
        }
        if (i >= n || s[i] != '}')
            return false;
        i++;
    }
    return true;
}

/* ---- JSON Pointers ---- */

/* RFC 6901: "" or "/"-prefixed tokens where '~' is only followed by 0 or 1. */
static bool check_json_pointer(const char *s, size_t n)
{
    if (n > 0 && s[0] != '/')
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '~' && (i + 1 >= n || (s[i + 1] != '0' && s[i + 1] != '1')))
            return false;
    return true;
}

/* draft-handrews-relative-json-pointer: a non-negative integer without leading zeros, an
 * optional +/- index manipulation, then "#" or a JSON Pointer. */
static bool check_rel_json_pointer(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && is_digit(s[i]))
        i++;
    if (i == 0 || (i > 1 && s[0] == '0'))
        return false;
    if (i < n && (s[i] == '+' || s[i] == '-')) {
        size_t st = ++i;
        while (i < n && is_digit(s[i]))
            i++;
        if (i == st || (i - st > 1 && s[st] == '0') || (i - st == 1 && s[st] == '0'))
            return false;
    }
    if (i == n)
        return true;
    if (s[i] == '#')
        return i + 1 == n;
    return check_json_pointer(s + i, n - i);
}

/* ---- misc ---- */

/* The `regex` format: a pattern that is valid ECMA-262 (strict translation, then PCRE2). */
static bool check_regex(const char *s, size_t n)
{
    int ec;
    size_t off;
    pcre2_compile_context *ccx = pcre2_compile_context_create(NULL);
    if (!ccx)
        return true; /* cannot tell without memory: do not reject */
    pcre2_set_compile_extra_options(ccx, PCRE2_EXTRA_ALT_BSUX);
    pcre2_code *code = gw_schema__regex_compile(s, n, true, ccx, &ec, &off);
    pcre2_compile_context_free(ccx);
    if (!code)
        return false;
    pcre2_code_free(code);
    return true;
}

/* Value of one base64 character, -1 if it is not one. */
static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

bool gw_schema__base64_decode(const char *s, size_t n, unsigned char *out, size_t *outlen)
{
    size_t o = 0;
    if (n % 4 != 0)
        return false;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            if (s[i + k] == '=' && i + 4 == n && k >= 2) {
                v[k] = 0;
                pad++;
            } else if (pad) {
                return false;
            } else {
                v[k] = b64val(s[i + k]);
                if (v[k] < 0)
                    return false;
            }
        }
        unsigned long w = (unsigned long)v[0] << 18 | (unsigned long)v[1] << 12 |
                          (unsigned long)v[2] << 6 | (unsigned long)v[3];
        out[o++] = (unsigned char)(w >> 16);
        if (pad < 2)
            out[o++] = (unsigned char)(w >> 8);
        if (pad < 1)
            out[o++] = (unsigned char)w;
    }
    *outlen = o;
    return true;
}

/* OpenAPI `byte`: padded base64 (RFC 4648 section 4). */
static bool check_base64(const char *s, size_t n)
{
    if (n % 4 != 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '=') {
            if (i < n - 2 || (i == n - 2 && s[n - 1] != '='))
                return false;
            continue;
        }
        if (!is_alnum(c) && c != '+' && c != '/')
            return false;
    }
    return true;
}

/* Dispatch by format id; formats we do not know (or numeric ones) accept every string. */
bool gw_schema__format_check_string(uint8_t id, const char *s, size_t n)
{
    switch (id) {
    case F_DATE_TIME: return check_date_time(s, n);
    case F_DATE: return check_date(s, n);
    case F_TIME: return check_time(s, n);
    case F_DURATION: return check_duration(s, n);
    case F_EMAIL: return check_email(s, n, false);
    case F_IDN_EMAIL: return check_email(s, n, true);
    case F_HOSTNAME: return check_hostname(s, n);
    case F_IDN_HOSTNAME: return check_idn_hostname(s, n);
    case F_IPV4: return check_ipv4(s, n);
    case F_IPV6: return check_ipv6(s, n);
    case F_URI: return check_uri_ref(s, n, true, false);
    case F_URI_REF: return check_uri_ref(s, n, false, false);
    case F_IRI: return check_uri_ref(s, n, true, true);
    case F_IRI_REF: return check_uri_ref(s, n, false, true);
    case F_URI_TEMPLATE: return check_uri_template(s, n);
    case F_UUID: return check_uuid(s, n);
    case F_REGEX: return check_regex(s, n);
    case F_JSON_POINTER: return check_json_pointer(s, n);
    case F_REL_JSON_POINTER: return check_rel_json_pointer(s, n);
    case F_BYTE: return check_base64(s, n);
    default: return true;
    }
}

/* OpenAPI numeric formats: int32/int64 ranges (integral reals count), float range, double
 * finite. */
bool gw_schema__format_check_number(uint8_t id, const json_t *v)
{
    double d = gw_json_number(v); /* big numbers (core/json.h) rounded: beyond every range */
    switch (id) {
    case F_INT32:
        if (json_is_integer(v))
            return json_integer_value(v) >= INT32_MIN && json_integer_value(v) <= INT32_MAX;
        return floor(d) == d && d >= INT32_MIN && d <= INT32_MAX;
    case F_INT64:
        return json_is_integer(v) || (floor(d) == d && d >= -9223372036854775808.0 &&
                                      d < 9223372036854775808.0);
    case F_FLOAT: return isfinite(d) && fabs(d) <= 3.4028234663852886e38;
    case F_DOUBLE: return isfinite(d);
    default: return true;
    }
}
