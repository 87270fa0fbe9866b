/*
 * tools/mock-apim/mockapim_yaml.h
 * YAML (1.1 core subset) -> jansson conversion, for serving the embedded OpenAPI document as
 * JSON (/openapi/service-booking.json) and for the tests that check the spec against the
 * router. Parsing is libyaml's (yaml_parser_load); this adds the JSON typing of plain scalars
 * (null/~, true/false, integers, floats) and limits: nesting depth and node count, so alias
 * bombs and deep documents fail cleanly. Pure; thread-safe.
 */
#ifndef GW_MOCKAPIM_YAML_H
#define GW_MOCKAPIM_YAML_H

#include "core/err.h"

#include <jansson.h>
#include <stddef.h>

/* Converts the first document of `text`. GW_OK with a new reference in *out; GW_EINVAL with
 * line/column for syntax errors or non-string keys; GW_ELIMIT past the depth/size limits. */
int gw_mockapim_yaml_to_json(const char *text, size_t len, json_t **out, struct gw_error *err);

/* The embedded service-booking.yaml (generated at build time by embed.cmake). */
extern const unsigned char gw_mockapim_spec_yaml[];
extern const size_t gw_mockapim_spec_yaml_len;

#endif
