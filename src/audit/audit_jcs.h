/*
 * src/audit/audit_jcs.h
 * JSON Canonicalization Scheme (RFC 8785): the one byte encoding of a JSON value that audit
 * records are hashed in, so that a record's hash does not depend on who serialised it.
 *
 * Object members sorted by their names' UTF-16 code units, no whitespace, strings with the
 * minimal escapes (\b \t \n \f \r \" \\ and \u00xx for other controls), numbers as ECMAScript
 * prints an IEEE double (shortest round-trip digits; integers beyond 2^53 lose precision as
 * they would in any JCS implementation). Pure functions, thread-safe.
 */
#ifndef GW_AUDIT_JCS_H
#define GW_AUDIT_JCS_H

#include "core/buf.h"

#include <jansson.h>
#include <stddef.h>

/* Appends the canonical form of `v` to `out`. GW_OK, GW_ELIMIT (out full), GW_EINVAL (a
 * non-finite number, nesting deeper than 128). */
int gw_jcs_dump(const json_t *v, struct gw_buf *out);

/* Appends s[0..n) (valid UTF-8) as a canonical JSON string. */
int gw_jcs_string(const char *s, size_t n, struct gw_buf *out);

/* Formats a double as ECMAScript's Number.prototype.toString does (out >= 32 bytes). */
void gw_jcs_number(double d, char *out, size_t size);

#endif
