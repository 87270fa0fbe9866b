/*
 * src/upstream/upstream_secret.h
 * Secret references of the upstreams file, resolved once at load time:
 *   {"env": "APIM_KEY"}                  an environment variable
 *   {"file": "/var/run/secrets/x/key"}   a file (trailing CR/LF stripped)
 *   {"secret": "apim-key"}               a key of the mounted secret directory GW_SECRETS_DIR
 *                                        (Kubernetes Secret / ExternalSecret: one file per key)
 * plus "optional": true to tolerate absence (the credential is then not applied).
 * Secret values are never logged and never appear in error messages (messages name the
 * reference, e.g. "env APIM_KEY"). Values are limited to 64 KiB without control characters.
 * Blocking file reads: start-up only.
 */
#ifndef GW_UPSTREAM_SECRET_H
#define GW_UPSTREAM_SECRET_H

#include "core/err.h"

#include <jansson.h>

/* Resolves `ref`. `what` names the field for messages ("upstream 'x' credential 'y' value").
 * GW_OK with *out (heap; release with gw_upstream_token_wipe), GW_ENOTFOUND when the ref is
 * optional and absent (*out NULL), GW_EINVAL for a malformed reference or value, GW_EIO when a
 * required secret is missing or unreadable. */
int gw_upstream_secret_resolve(const json_t *ref, const char *secrets_dir, const char *what,
                               char **out, struct gw_error *err);

/* Like gw_upstream_secret_resolve but also accepts a plain string (for values that are not
 * secret: usernames, client ids). */
int gw_upstream_value_resolve(const json_t *v, const char *secrets_dir, const char *what,
                              char **out, struct gw_error *err);

#endif
