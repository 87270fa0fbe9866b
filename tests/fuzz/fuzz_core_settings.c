/*
 * tests/fuzz/fuzz_core_settings.c
 * Fuzz target for the settings-file parser: the input is written to a temporary file and
 * loaded with gw_settings_load over a table of every setting type (string, secret, bounded
 * integer, boolean, enum). Invariants: the load either succeeds with every value valid for its
 * type or fails with GW_EINVAL/GW_ELIMIT/GW_EIO and a message; errors from the file cite "<path>:";
 * the dump and the Markdown render afterwards. Environment variables of the table's names are
 * cleared first so that only the file counts.
 * Seeds (corpus/core_settings/) are named after the attack they carry.
 */
#include "core/buf.h"
#include "core/err.h"
#include "core/settings.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct gw_setting_def defs[] = {
    {"GWF_STR", GW_SET_STRING, "d", 0, 0, NULL, "Fuzz", "A string."},
    {"GWF_SECRET", GW_SET_SECRET, "", 0, 0, NULL, "Fuzz", "A secret."},
    {"GWF_INT", GW_SET_INT, "5", -10, 1000, NULL, "Fuzz", "An integer."},
    {"GWF_BOOL", GW_SET_BOOL, "false", 0, 0, NULL, "Fuzz", "A flag."},
    {"GWF_ENUM", GW_SET_ENUM, "a", 0, 0, "a|bb|ccc", "Fuzz", "A choice."},
    GW_SETTINGS_END};

static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!path[0]) {
        snprintf(path, sizeof(path), "/tmp/gw-fuzz-settings-%d.conf", (int)getpid());
        for (const struct gw_setting_def *d = defs; d->name; d++)
            unsetenv(d->name);
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    struct gw_settings *s = gw_settings_new();
    gw_settings_register(s, defs);
    struct gw_error err = {0};
    int rc = gw_settings_load(s, path, &err);
    if (rc == GW_OK) {
        long long iv = gw_settings_int(s, "GWF_INT");
        if (iv < -10 || iv > 1000)
            abort();
        const char *e = gw_settings_str(s, "GWF_ENUM");
        if (strcmp(e, "a") && strcmp(e, "bb") && strcmp(e, "ccc"))
            abort();
        (void)gw_settings_bool(s, "GWF_BOOL");
        (void)gw_settings_str(s, "GWF_STR");
        struct gw_buf b;
        gw_buf_init(&b, 1u << 20);
        if (gw_settings_dump(s, &b) != GW_OK || gw_settings_markdown(s, &b) != GW_OK)
            abort();
        gw_buf_fini(&b);
    } else {
        if (rc != GW_EINVAL && rc != GW_EIO && rc != GW_ELIMIT)
            abort();
        if (!err.msg[0])
            abort();
        /* every error comes from the file here and must cite it (unless the message was
         * truncated: a long value echoed in it pushes the source out; see test_core_bugs.c) */
        if (rc != GW_EIO && strlen(err.msg) < GW_ERROR_MSG_MAX - 1 && !strstr(err.msg, path))
            abort();
    }
    gw_settings_free(s);
    unlink(path);
    return 0;
}
