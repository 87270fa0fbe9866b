/*
 * src/ssrf/ssrf_internal.h
 * Accessors shared between the files of the ssrf module only (double-underscore tier).
 * The policy stays opaque to every other module.
 */
#ifndef GW_SSRF_INTERNAL_H
#define GW_SSRF_INTERNAL_H

#include "ssrf/ssrf.h"

unsigned gw_ssrf__max_redirects(const struct gw_ssrf_policy *p);
size_t gw_ssrf__max_bytes(const struct gw_ssrf_policy *p);
long gw_ssrf__timeout_ms(const struct gw_ssrf_policy *p);

#endif
