/*
 * src/pii/pii.h
 * PII masking: finds personal data in text and JSON and replaces it with keyed pseudonyms,
 * before anything is written to the audit trail, the diagnostic log or a trace.
 *
 * Detectors (built in): Indian mobile numbers (+91/0 prefixes, common groupings), Aadhaar
 * numbers (12 digits, Verhoeff check digit, 4-4-4 grouping), PAN (AAAPA9999A with the holder
 * type letter), e-mail addresses, payment cards (13-19 digits, Luhn, card-network prefixes,
 * common groupings), and Indian vehicle registrations when configured (state code, district,
 * series, number). Operators add their own PCRE2 patterns and field names: values of "mask"
 * fields are pseudonymised whole, values of "redact" fields (passwords, tokens, OTPs) are
 * replaced by "[redacted]" without a pseudonym.
 * A pseudonym is "[<type>:<16 letters>]", the letters encoding the first 64 bits of
 * HMAC-SHA256(key, type 0x00 normalised-value): the same value always gets the same pseudonym
 * under one key (an auditor can correlate occurrences), nobody without the key can test a guess.
 * Pseudonyms contain no digits, '@' or upper-case runs, so masking is idempotent.
 * Digit detectors respect identifier context: a number glued to letters or to "ABC-" (booking
 * ids, dealer codes) is not a phone or card; dates, times, amounts and short ids never match.
 * Thread-safety: a `struct gw_pii` is immutable after gw_pii_new and shared by every thread
 * (PCRE2 match data is allocated per call).
 */
#ifndef GW_PII_PII_H
#define GW_PII_PII_H

#include "core/buf.h"
#include "core/err.h"
#include "core/settings.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct gw_pii;

extern const struct gw_setting_def gw_pii_settings[];

#define GW_PII_KEY_MIN 16 /* bytes of key material required */

struct gw_pii_options {
    const unsigned char *key; /* pseudonym key (copied); at least GW_PII_KEY_MIN bytes */
    size_t key_len;
    bool vehicle;              /* detect vehicle registrations */
    const char *mask_fields;   /* comma list of JSON field names whose values are masked */
    const char *redact_fields; /* comma list of field names whose values are dropped */
    /* extra patterns: ';'-separated "name=regex" (PCRE2; name = the pseudonym type) */
    const char *patterns;
};

/* Fills `o` from the GW_PII_* settings (key left NULL: the caller provides key material). */
void gw_pii_options_from_settings(struct gw_pii_options *o, const struct gw_settings *s);

/* Builds a masker. GW_EINVAL (err says which pattern or why) for a short key or a bad regex. */
int gw_pii_new(const struct gw_pii_options *o, struct gw_pii **out, struct gw_error *err);
void gw_pii_free(struct gw_pii *p);

/* Appends s[0..n) to `out` with every detected value replaced by its pseudonym. Returns GW_OK
 * (or GW_ELIMIT when `out` is full: the output is then cut); *count (may be NULL) gets the
 * number of replacements. Does not block. */
int gw_pii_mask_text(const struct gw_pii *p, const char *s, size_t n, struct gw_buf *out,
                     unsigned *count);

/* A masked deep copy of `v` (new reference): string values masked as text, integers that are
 * PII (a phone sent as a number) replaced by their pseudonym string, values of configured
 * fields masked or redacted whole (at any depth). Object keys are kept. *count may be NULL. */
json_t *gw_pii_mask_json(const struct gw_pii *p, const json_t *v, unsigned *count);

/* The pseudonym of an already normalised value of `type` into out (>= 48 bytes). */
void gw_pii_pseudonym(const struct gw_pii *p, const char *type, const char *value, size_t n,
                      char *out, size_t out_size);

/* HMAC-SHA256 with the masker's key over data (for keyed digests, e.g. of arguments). */
void gw_pii_hmac(const struct gw_pii *p, const void *data, size_t n, unsigned char out[32]);

/* Check digits, exposed for tests. */
bool gw_pii_verhoeff_ok(const char *digits, size_t n);
bool gw_pii_luhn_ok(const char *digits, size_t n);

/* Makes `p` the filter of every diagnostic log line (core/log.h gw_log_set_filter) until
 * gw_pii_log_filter_remove. `p` must outlive that. */
void gw_pii_log_filter_install(const struct gw_pii *p);
void gw_pii_log_filter_remove(void);

#endif
