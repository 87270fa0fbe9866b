/*
 * src/upstream/upstream_secret.c
 * Secret reference resolution (environment, file, mounted secret directory).
 */
#include "upstream/upstream_secret.h"

#include "core/alloc.h"
#include "core/json.h"
#include "upstream/upstream_token.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SECRET (64u * 1024u)

static bool key_ok(const char *k)
{
    if (!k || !*k || k[0] == '.' || strlen(k) > 253)
        return false;
    for (; *k; k++)
        if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') ||
              *k == '_' || *k == '-' || *k == '.'))
            return false;
    return true;
}

static int read_file(const char *path, char **out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return GW_EIO;
    char *buf = gw_xmalloc(MAX_SECRET + 1);
    size_t n = fread(buf, 1, MAX_SECRET + 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || n > MAX_SECRET) {
        gw_upstream_token_wipe(buf);
        return bad ? GW_EIO : GW_ELIMIT;
    }
    buf[n] = '\0';
    *out = buf;
    return GW_OK;
}

static int check_value(char *v, const char *what, struct gw_error *err)
{
    size_t n = strlen(v);
    while (n > 0 && (v[n - 1] == '\n' || v[n - 1] == '\r'))
        v[--n] = '\0';
    if (n == 0)
        return GW_ERROR_SET(err, GW_EINVAL, "%s: the secret is empty", what);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
            return GW_ERROR_SET(err, GW_EINVAL, "%s: the secret contains control characters",
                                what);
    return GW_OK;
}

int gw_upstream_secret_resolve(const json_t *ref, const char *secrets_dir, const char *what,
                               char **out, struct gw_error *err)
{
    *out = NULL;
    if (!json_is_object(ref))
        return GW_ERROR_SET(err, GW_EINVAL,
                            "%s: must be a secret reference {\"env\"|\"file\"|\"secret\": ...}, "
                            "not an inline value",
                            what);
    bool optional = json_is_true(json_object_get(ref, "optional"));
    const char *env = gw_json_str(ref, "env");
    const char *file = gw_json_str(ref, "file");
    const char *key = gw_json_str(ref, "secret");
    if (!!env + !!file + !!key != 1)
        return GW_ERROR_SET(err, GW_EINVAL, "%s: give exactly one of env, file or secret", what);
    char *val = NULL;
    char source[400];
    int rc = GW_OK;
    if (env) {
        snprintf(source, sizeof(source), "environment variable %s", env);
        const char *e = getenv(env);
        if (e && strlen(e) <= MAX_SECRET)
            val = gw_xstrdup(e);
        else
            rc = GW_EIO;
    } else {
        char path[4096];
        if (file) {
            if (file[0] != '/')
                return GW_ERROR_SET(err, GW_EINVAL, "%s: file must be an absolute path", what);
            snprintf(path, sizeof(path), "%s", file);
            snprintf(source, sizeof(source), "file %s", file);
        } else {
            if (!key_ok(key))
                return GW_ERROR_SET(err, GW_EINVAL, "%s: invalid secret key name", what);
            if (!secrets_dir || !*secrets_dir)
                return GW_ERROR_SET(err, GW_EINVAL,
                                    "%s: secret '%s' referenced but GW_SECRETS_DIR is not set",
                                    what, key);
            snprintf(path, sizeof(path), "%s/%s", secrets_dir, key);
            snprintf(source, sizeof(source), "secret '%s' in GW_SECRETS_DIR", key);
        }
        rc = read_file(path, &val);
    }
    if (rc != GW_OK) {
        if (optional)
            return GW_ENOTFOUND;
        return GW_ERROR_SET(err, rc == GW_ELIMIT ? GW_ELIMIT : GW_EIO,
                            "%s: %s is not set or not readable", what, source);
    }
    rc = check_value(val, what, err);
    if (rc != GW_OK) {
        gw_upstream_token_wipe(val);
        return rc;
    }
    *out = val;
    return GW_OK;
}

int gw_upstream_value_resolve(const json_t *v, const char *secrets_dir, const char *what,
                              char **out, struct gw_error *err)
{
    if (json_is_string(v)) {
        char *val = gw_xstrdup(json_string_value(v));
        int rc = check_value(val, what, err);
        if (rc != GW_OK) {
            gw_free(val);
            return rc;
        }
        *out = val;
        return GW_OK;
    }
    return gw_upstream_secret_resolve(v, secrets_dir, what, out, err);
}
