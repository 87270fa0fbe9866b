/*
 * src/schema/schema_regex.c
 * ECMA-262 regular expressions on PCRE2: the dialect translation and the compile options.
 *
 * JSON Schema patterns are ECMA-262 (JavaScript, "u" flag). PCRE2 with PCRE2_UTF,
 * PCRE2_DOLLAR_ENDONLY ('$' only at the very end), PCRE2_ALT_BSUX + PCRE2_EXTRA_ALT_BSUX
 * (\uHHHH, \u{H..}, \xHH) is close; this file rewrites what differs:
 *   \p{Letter} (long General_Category names, gc=/sc=/Script= prefixes) -> \p{L} ...
 *   \s \S (ECMA includes U+00A0, U+FEFF, Zs, U+2028/9)                 -> explicit classes
 *   \v (ECMA: U+000B only; PCRE: vertical space class)                   -> \x0b
 *   .  (ECMA excludes \n \r U+2028 U+2029)                                -> explicit class
 *   [] (matches nothing) and [^] (matches anything)                       -> (?!) and [\s\S]
 * In strict mode (the `regex` format) PCRE/Python-only syntax is rejected: unknown letter
 * escapes (\a, \e, \A, \Z, \Q...), (?P..), (?#..), global inline flags "(?i)", atomic groups,
 * conditionals, recursion and possessive quantifiers. The pattern keyword itself is compiled
 * leniently: such extensions appear in real OpenAPI documents and PCRE2 understands them.
 * Not done: variable-length lookbehind (ES2018), which PCRE2 10.42 cannot compile.
 * Pure functions; thread-safe.
 */
#include "schema/schema_int.h"

#include <string.h>

static const struct {
    const char *ecma, *pcre;
} gc_names[] = {
    {"Letter", "L"},
    {"Cased_Letter", "LC"},
    {"Uppercase_Letter", "Lu"},
    {"Lowercase_Letter", "Ll"},
    {"Titlecase_Letter", "Lt"},
    {"Modifier_Letter", "Lm"},
    {"Other_Letter", "Lo"},
    {"Mark", "M"},
    {"Combining_Mark", "M"},
    {"Nonspacing_Mark", "Mn"},
    {"Spacing_Mark", "Mc"},
    {"Enclosing_Mark", "Me"},
    {"Number", "N"},
    {"Decimal_Number", "Nd"},
    {"digit", "Nd"},
    {"Letter_Number", "Nl"},
    {"Other_Number", "No"},
    {"Punctuation", "P"},
    {"punct", "P"},
    {"Connector_Punctuation", "Pc"},
    {"Dash_Punctuation", "Pd"},
    {"Open_Punctuation", "Ps"},
    {"Close_Punctuation", "Pe"},
    {"Initial_Punctuation", "Pi"},
    {"Final_Punctuation", "Pf"},
    {"Other_Punctuation", "Po"},
    {"Symbol", "S"},
    {"Math_Symbol", "Sm"},
    {"Currency_Symbol", "Sc"},
    {"Modifier_Symbol", "Sk"},
    {"Other_Symbol", "So"},
    {"Separator", "Z"},
    {"Space_Separator", "Zs"},
    {"Line_Separator", "Zl"},
    {"Paragraph_Separator", "Zp"},
    {"Other", "C"},
    {"Control", "Cc"},
    {"cntrl", "Cc"},
    {"Format", "Cf"},
    {"Surrogate", "Cs"},
    {"Private_Use", "Co"},
    {"Unassigned", "Cn"},
};

#define ECMA_SPACES \
    "\\t\\n\\x0b\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"

/* Letters that may follow a backslash in ECMA-262 (with the u flag). */
static bool ecma_letter_escape(char e)
{
    return e != '\0' && strchr("bBdDwWsSfnrtvcxupPk", e);
}

/* \p{...}: rewrites the property name; `*i` is at the backslash, left at the closing brace. */
static int put_property(const char *pat, size_t len, size_t *i, struct gw_buf *b)
{
    char e = pat[*i + 1];
    const char *close = memchr(pat + *i + 3, '}', len - *i - 3);
    if (!close)
        return GW_EINVAL;
    const char *name = pat + *i + 3;
    size_t nl = (size_t)(close - name);
    static const char *prefixes[] = {"General_Category=", "gc=", "Script=", "sc="};
    for (size_t k = 0; k < sizeof(prefixes) / sizeof(prefixes[0]); k++) {
        size_t pl = strlen(prefixes[k]);
        if (nl > pl && strncmp(name, prefixes[k], pl) == 0) {
            name += pl;
            nl -= pl;
            break;
        }
    }
    for (size_t k = 0; k < sizeof(gc_names) / sizeof(gc_names[0]); k++) {
        if (strlen(gc_names[k].ecma) == nl && strncmp(gc_names[k].ecma, name, nl) == 0) {
            name = gc_names[k].pcre;
            nl = strlen(name);
            break;
        }
    }
    *i = (size_t)(close - pat);
    return gw_buf_printf(b, "\\%c{%.*s}", e, (int)nl, name);
}

/* "(?": what follows may be ECMA (lookaround, named group, modifiers group) or not. */
static bool ecma_group_ok(const char *p, size_t n)
{
    if (n >= 1 && (p[0] == ':' || p[0] == '=' || p[0] == '!'))
        return true;
    if (n >= 2 && p[0] == '<' && (p[1] == '=' || p[1] == '!'))
        return true;
    if (n >= 2 && p[0] == '<')
        return true; /* (?<name>...) */
    /* modifiers group (?ims-ims:...) is ECMA (2025); a bare (?i) is not */
    size_t k = 0;
    while (k < n && (p[k] == 'i' || p[k] == 'm' || p[k] == 's' || p[k] == '-'))
        k++;
    return k > 0 && k < n && p[k] == ':';
}

int gw_schema__ecma_regex(const char *pat, size_t len, bool strict, struct gw_buf *b)
{
    int rc = GW_OK;
    bool in_class = false;
    for (size_t i = 0; i < len && rc == GW_OK; i++) {
        char ch = pat[i];
        if (ch == '\\' && i + 1 < len) {
            char e = pat[i + 1];
            bool letter = (e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z');
            if (strict && letter && !ecma_letter_escape(e))
                return GW_EINVAL;
            if ((e == 'p' || e == 'P') && i + 2 < len && pat[i + 2] == '{') {
                rc = put_property(pat, len, &i, b);
                continue;
            }
            if (e == 's')
                rc = gw_buf_adds(b, in_class ? ECMA_SPACES : "[" ECMA_SPACES "]");
            else if (e == 'S' && !in_class)
                rc = gw_buf_adds(b, "[^" ECMA_SPACES "]");
            else if (e == 'v')
                rc = gw_buf_adds(b, "\\x0b");
            else
                rc = gw_buf_add(b, pat + i, 2);
            i++;
            continue;
        }
        if (in_class) {
            if (ch == ']')
                in_class = false;
            rc = gw_buf_addc(b, ch);
            continue;
        }
        if (ch == '[') {
            if (i + 1 < len && pat[i + 1] == ']') {
                rc = gw_buf_adds(b, "(?!)");
                i++;
            } else if (i + 2 < len && pat[i + 1] == '^' && pat[i + 2] == ']') {
                rc = gw_buf_adds(b, "[\\s\\S]");
                i += 2;
            } else {
                in_class = true;
                rc = gw_buf_addc(b, ch);
                /* a ']' right after '[' or '[^' is a literal in PCRE but ends the class in
                 * ECMA; ECMA has no such literal, so nothing to do for valid patterns */
            }
            continue;
        }
        if (ch == '.') {
            rc = gw_buf_adds(b, "[^\\n\\r\\u2028\\u2029]");
            continue;
        }
        if (strict && ch == '(' && i + 1 < len && pat[i + 1] == '?' &&
            !ecma_group_ok(pat + i + 2, len - i - 2))
            return GW_EINVAL;
        if (strict && ch == '+' && i > 0 &&
            (pat[i - 1] == '+' || pat[i - 1] == '*' || pat[i - 1] == '?' || pat[i - 1] == '}') &&
            !(i > 1 && pat[i - 2] == '\\'))
            return GW_EINVAL; /* possessive quantifier */
        rc = gw_buf_addc(b, ch);
    }
    return rc;
}

pcre2_code *gw_schema__regex_compile(const char *pat, size_t len, bool strict,
                                     pcre2_compile_context *ccx, int *errcode, size_t *erroff)
{
    struct gw_buf tb;
    gw_buf_init(&tb, 1u << 20);
    *errcode = 0;
    *erroff = 0;
    int rc = gw_schema__ecma_regex(pat, len, strict, &tb);
    if (rc != GW_OK) {
        gw_buf_fini(&tb);
        *errcode = rc == GW_EINVAL ? -1 : -2;
        return NULL;
    }
    PCRE2_SIZE off = 0;
    pcre2_code *code =
        pcre2_compile((PCRE2_SPTR)gw_buf_ptr(&tb), gw_buf_len(&tb),
                      PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_ALT_BSUX, errcode, &off, ccx);
    *erroff = off;
    gw_buf_fini(&tb);
    return code;
}
