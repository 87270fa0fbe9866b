/*
 * src/schema/schema_settings.c
 * Declarative settings of the validator (GW_SCHEMA_*) and their application to the compile
 * options. The table is registered by the composition root; docs/configuration.md is generated
 * from it. Reading happens once at startup (settings are immutable afterwards).
 */
#include "schema/schema.h"

#define GROUP "JSON Schema validation"

const struct gw_setting_def gw_schema_settings[] = {
    {"GW_SCHEMA_MAX_DEPTH", GW_SET_INT, "64", 4, GW_SCHEMA_DEPTH_CEILING, NULL, GROUP,
     "Deepest nesting of subschema evaluation while validating one value (each property, item, "
     "$ref or combinator level counts one). Deeper values are rejected with a limit error."},
    {"GW_SCHEMA_MAX_STEPS", GW_SET_INT, "100000", 100, 1000000000, NULL, GROUP,
     "Work budget of one validation, in keyword evaluations (regex matches and uniqueItems "
     "comparisons count too). Stops exponential anyOf/oneOf schemas and huge values."},
    {"GW_SCHEMA_MAX_ERRORS", GW_SET_INT, "16", 1, 1000, NULL, GROUP,
     "Most errors reported for one invalid value (the rest are summarised as 'further errors')."},
    {"GW_SCHEMA_REGEX_BUDGET", GW_SET_INT, "1000000", 1000, 4294967295LL, NULL, GROUP,
     "PCRE2 match limit of one `pattern`/`patternProperties` match (catastrophic "
     "backtracking guard)."},
    {"GW_SCHEMA_MAX_NODES", GW_SET_INT, "200000", 100, 100000000, NULL, GROUP,
     "Largest compiled schema, in subschemas (referenced documents included)."},
    {"GW_SCHEMA_FORMAT_ASSERT", GW_SET_BOOL, "false", 0, 0, NULL, GROUP,
     "Treat `format` as an assertion (date-time, date, time, email, uri, uuid, ipv4, ipv6, "
     "hostname, regex, int32, int64, byte, ...) instead of an annotation."},
    GW_SETTINGS_END};

void gw_schema_options_from_settings(const struct gw_settings *s, struct gw_schema_options *opt)
{
    opt->max_depth = (int)gw_settings_int(s, "GW_SCHEMA_MAX_DEPTH");
    opt->max_steps = (long)gw_settings_int(s, "GW_SCHEMA_MAX_STEPS");
    opt->max_errors = (int)gw_settings_int(s, "GW_SCHEMA_MAX_ERRORS");
    opt->regex_budget = (unsigned long)gw_settings_int(s, "GW_SCHEMA_REGEX_BUDGET");
    opt->max_nodes = (size_t)gw_settings_int(s, "GW_SCHEMA_MAX_NODES");
    opt->format_assert = gw_settings_bool(s, "GW_SCHEMA_FORMAT_ASSERT");
}
