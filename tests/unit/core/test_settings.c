/*
 * tests/unit/core/test_settings.c
 * The declarative settings registry (core/settings.h): typed values (string, secret, integer
 * with bounds, boolean spellings, enum choices) validated with messages that name the setting
 * and its source; the settings file (comments, blank lines, `export`, quotes, CRLF) and its
 * errors citing file:line (no '=', unknown key, bad value, missing file); precedence
 * default < file < environment < override with gw_settings_source telling which won; defaults
 * validated too; long lines (a 4 KiB comment cannot smuggle a setting, long values are kept,
 * lines over 64 KiB and NUL bytes are refused with file:line); the generated Markdown naming every
 * setting; the dump redacting secrets; and programming errors (unknown name, wrong type, duplicate
 * registration) aborting.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/settings.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct gw_setting_def table_a[] = {
    {"GWT_STR", GW_SET_STRING, "abc", 0, 0, NULL, "Group A", "A string."},
    {"GWT_INT", GW_SET_INT, "5", 1, 10, NULL, "Group A", "An integer between 1 and 10."},
    {"GWT_BOOL", GW_SET_BOOL, "false", 0, 0, NULL, "Group B", "A flag."},
    {"GWT_ENUM", GW_SET_ENUM, "a", 0, 0, "a|bb|ccc", "Group B", "A choice."},
    {"GWT_SECRET", GW_SET_SECRET, "", 0, 0, NULL, "Group C", "A secret."},
    {"GWT_EMPTY", GW_SET_STRING, "", 0, 0, NULL, "Group C", "Empty by default."},
    GW_SETTINGS_END};

static const struct gw_setting_def table_b[] = {
    {"GWT_NEG", GW_SET_INT, "-3", -100, 100, NULL, "Group D", "Negative allowed."},
    {"GWT_SECRET_DEF", GW_SET_SECRET, "do-not-print-me", 0, 0, NULL, "Group D",
     "A secret with a default."},
    GW_SETTINGS_END};

static const char *const env_names[] = {"GWT_STR", "GWT_INT", "GWT_BOOL", "GWT_ENUM",
                                        "GWT_SECRET", "GWT_EMPTY", "GWT_NEG", "GWT_SECRET_DEF"};

static int clear_env(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(env_names) / sizeof(env_names[0]); i++)
        unsetenv(env_names[i]);
    return 0;
}

static struct gw_settings *make(void)
{
    struct gw_settings *s = gw_settings_new();
    gw_settings_register(s, table_a);
    gw_settings_register(s, table_b);
    return s;
}

/* Writes `text` to a new temporary file; returns its path (static storage, one at a time). */
static const char *temp_file(const char *text)
{
    static char path[256];
    snprintf(path, sizeof(path), "/tmp/gw-test-settings-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
    return path;
}

/* Loads with a single value set through an override and returns the rc; err filled. */
static int load_override(const char *name, const char *value, struct gw_error *err)
{
    struct gw_settings *s = make();
    int rc = gw_settings_override(s, name, value, err);
    if (rc == GW_OK)
        rc = gw_settings_load(s, NULL, err);
    gw_settings_free(s);
    return rc;
}

static void expect_error(const char *name, const char *value, const char *needle)
{
    struct gw_error err = {0};
    int rc = load_override(name, value, &err);
    if (rc == GW_OK)
        fail_msg("%s=%s was accepted", name, value);
    assert_int_equal(rc, GW_EINVAL);
    if (!strstr(err.msg, needle))
        fail_msg("%s=%s: message '%s' lacks '%s'", name, value, err.msg, needle);
    if (!strstr(err.msg, name))
        fail_msg("message '%s' does not name the setting", err.msg);
    if (!strstr(err.msg, "override"))
        fail_msg("message '%s' does not name the source", err.msg);
}

static void test_defaults(void **state)
{
    (void)state;
    struct gw_settings *s = make();
    struct gw_error err = {0};
    assert_int_equal(gw_settings_load(s, NULL, &err), GW_OK);
    assert_string_equal(gw_settings_str(s, "GWT_STR"), "abc");
    assert_int_equal(gw_settings_int(s, "GWT_INT"), 5);
    assert_false(gw_settings_bool(s, "GWT_BOOL"));
    assert_string_equal(gw_settings_str(s, "GWT_ENUM"), "a");
    assert_string_equal(gw_settings_str(s, "GWT_SECRET"), "");
    assert_string_equal(gw_settings_str(s, "GWT_EMPTY"), "");
    assert_int_equal(gw_settings_int(s, "GWT_NEG"), -3);
    assert_string_equal(gw_settings_source(s, "GWT_INT"), "default");
    assert_string_equal(gw_settings_source(s, "NOPE"), "unknown");
    gw_settings_free(s);
    gw_settings_free(NULL);
}

static void test_int_values(void **state)
{
    (void)state;
    struct gw_error err = {0};
    assert_int_equal(load_override("GWT_INT", "1", &err), GW_OK);
    assert_int_equal(load_override("GWT_INT", "10", &err), GW_OK);
    assert_int_equal(load_override("GWT_NEG", "-100", &err), GW_OK);
    expect_error("GWT_INT", "0", "must be between 1 and 10");
    expect_error("GWT_INT", "11", "must be between 1 and 10");
    expect_error("GWT_NEG", "-101", "must be between -100 and 100");
    expect_error("GWT_INT", "", "expected an integer");
    expect_error("GWT_INT", "7x", "expected an integer");
    expect_error("GWT_INT", "0x10", "expected an integer");
    expect_error("GWT_INT", "5.0", "expected an integer");
    expect_error("GWT_INT", "five", "expected an integer");
    expect_error("GWT_INT", "99999999999999999999999", "expected an integer");
}

static void test_bool_values(void **state)
{
    (void)state;
    static const char *const yes[] = {"true", "TRUE", "1", "yes", "Yes", "on", "ON"};
    static const char *const no[] = {"false", "False", "0", "no", "NO", "off", ""};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        struct gw_settings *s = make();
        struct gw_error err = {0};
        assert_int_equal(gw_settings_override(s, "GWT_BOOL", yes[i], &err), GW_OK);
        assert_int_equal(gw_settings_load(s, NULL, &err), GW_OK);
        if (!gw_settings_bool(s, "GWT_BOOL"))
            fail_msg("'%s' should be true", yes[i]);
        gw_settings_free(s);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        struct gw_settings *s = make();
        struct gw_error err = {0};
        assert_int_equal(gw_settings_override(s, "GWT_BOOL", "true", &err), GW_OK);
        assert_int_equal(gw_settings_override(s, "GWT_BOOL", no[i], &err), GW_OK); /* last wins */
        assert_int_equal(gw_settings_load(s, NULL, &err), GW_OK);
        if (gw_settings_bool(s, "GWT_BOOL"))
            fail_msg("'%s' should be false", no[i]);
        gw_settings_free(s);
    }
    expect_error("GWT_BOOL", "maybe", "expected true or false");
    expect_error("GWT_BOOL", "2", "expected true or false");
    expect_error("GWT_BOOL", "truee", "expected true or false");
}

static void test_enum_values(void **state)
{
    (void)state;
    struct gw_error err = {0};
    assert_int_equal(load_override("GWT_ENUM", "a", &err), GW_OK);
    assert_int_equal(load_override("GWT_ENUM", "bb", &err), GW_OK);
    assert_int_equal(load_override("GWT_ENUM", "ccc", &err), GW_OK);
    expect_error("GWT_ENUM", "b", "expected one of a|bb|ccc");
    expect_error("GWT_ENUM", "bbb", "expected one of a|bb|ccc");
    expect_error("GWT_ENUM", "cc", "expected one of a|bb|ccc");
    expect_error("GWT_ENUM", "", "expected one of a|bb|ccc");
    expect_error("GWT_ENUM", "A", "expected one of a|bb|ccc");
    expect_error("GWT_ENUM", "a|bb", "expected one of a|bb|ccc");
}

static void test_override_unknown(void **state)
{
    (void)state;
    struct gw_settings *s = make();
    struct gw_error err = {0};
    assert_int_equal(gw_settings_override(s, "GWT_NOPE", "1", &err), GW_EINVAL);
    assert_non_null(strstr(err.msg, "unknown setting GWT_NOPE"));
    gw_settings_free(s);
}

static void test_bad_default_fails_load(void **state)
{
    (void)state;
    static const struct gw_setting_def bad[] = {
        {"GWT_BAD_DEF", GW_SET_INT, "500", 1, 10, NULL, "G", "Out of range default."},
        GW_SETTINGS_END};
    struct gw_settings *s = gw_settings_new();
    gw_settings_register(s, bad);
    struct gw_error err = {0};
    assert_int_equal(gw_settings_load(s, NULL, &err), GW_EINVAL);
    assert_non_null(strstr(err.msg, "GWT_BAD_DEF"));
    assert_non_null(strstr(err.msg, "default"));
    gw_settings_free(s);
}

static void test_file_parsing(void **state)
{
    (void)state;
    const char *path = temp_file("# a comment\n"
                                 "\n"
                                 "   \t\n"
                                 "GWT_STR=from file\n"
                                 "  GWT_INT=7\r\n"
                                 "export GWT_BOOL=yes\n"
                                 "GWT_ENUM=\"bb\"\n"
                                 "GWT_SECRET='s3cr3t value'\n"
                                 "   # indented comment\n"
                                 "GWT_EMPTY=\n"
                                 "GWT_NEG=\"-7\"");
    struct gw_settings *s = make();
    struct gw_error err = {0};
    int rc = gw_settings_load(s, path, &err);
    if (rc != GW_OK)
        fail_msg("load failed: %s", err.msg);
    assert_string_equal(gw_settings_str(s, "GWT_STR"), "from file");
    assert_int_equal(gw_settings_int(s, "GWT_INT"), 7);
    assert_true(gw_settings_bool(s, "GWT_BOOL"));
    assert_string_equal(gw_settings_str(s, "GWT_ENUM"), "bb");
    assert_string_equal(gw_settings_str(s, "GWT_SECRET"), "s3cr3t value");
    assert_string_equal(gw_settings_str(s, "GWT_EMPTY"), "");
    assert_int_equal(gw_settings_int(s, "GWT_NEG"), -7);
    char want[300];
    snprintf(want, sizeof(want), "file:%s:5", path);
    assert_string_equal(gw_settings_source(s, "GWT_INT"), want);
    snprintf(want, sizeof(want), "file:%s:11", path);
    assert_string_equal(gw_settings_source(s, "GWT_NEG"), want);
    gw_settings_free(s);
    unlink(path);
}

static void expect_file_error(const char *text, int want_rc, const char *needle)
{
    const char *path = temp_file(text);
    char copy[256];
    snprintf(copy, sizeof(copy), "%s", path);
    struct gw_settings *s = make();
    struct gw_error err = {0};
    int rc = gw_settings_load(s, copy, &err);
    gw_settings_free(s);
    unlink(copy);
    if (rc != want_rc)
        fail_msg("file '%s': rc %d, want %d (%s)", text, rc, want_rc, err.msg);
    /* '@' in the needle stands for the file's path */
    char full[600];
    const char *at = strchr(needle, '@');
    if (at)
        snprintf(full, sizeof(full), "%.*s%s%s", (int)(at - needle), needle, copy, at + 1);
    else
        snprintf(full, sizeof(full), "%s", needle);
    if (!strstr(err.msg, full))
        fail_msg("file '%s': message '%s' lacks '%s'", text, err.msg, full);
}

static void test_file_errors(void **state)
{
    (void)state;
    expect_file_error("GWT_STR=ok\nthis line has no equals sign\n", GW_EINVAL,
                      "@:2: expected KEY=VALUE");
    expect_file_error("# c\n\nGWT_STR=ok\nGWT_TYPO=1\n", GW_EINVAL,
                      "@:4: unknown setting GWT_TYPO");
    expect_file_error("GWT_INT=11\n", GW_EINVAL, "GWT_INT=11 (from file:@:1): must be between");
    expect_file_error("\n\n\nGWT_BOOL=perhaps\n", GW_EINVAL, "(from file:@:4): expected true");
    expect_file_error("GWT_ENUM=zz\n", GW_EINVAL, "(from file:@:1): expected one of a|bb|ccc");
    /* keys are exact: no spaces around '=' */
    expect_file_error("GWT_INT = 5\n", GW_EINVAL, "@:1: unknown setting GWT_INT ");
    /* a missing file is an I/O error naming it */
    struct gw_settings *s = make();
    struct gw_error err = {0};
    assert_int_equal(gw_settings_load(s, "/nonexistent/gw-settings.conf", &err), GW_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/gw-settings.conf"));
    gw_settings_free(s);
}

/* Loads `text` (which may contain NUL bytes: `len`) as a settings file. */
static int load_file_text(const char *text, size_t len, struct gw_settings **out,
                          struct gw_error *err)
{
    char path[] = "/tmp/gw-test-settings-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    struct gw_settings *s = make();
    int rc = gw_settings_load(s, path, err);
    unlink(path);
    *out = s;
    return rc;
}

static void test_long_lines(void **state)
{
    (void)state;
    struct gw_settings *s;
    struct gw_error err = {0};
    /* a comment of exactly 4095 bytes followed on the same line by KEY=VALUE stays a comment
     * (a 4 KiB line buffer used to split it and apply the tail as a setting) */
    size_t clen = 4095;
    char *text = gw_xcalloc(1, 70000);
    text[0] = '#';
    memset(text + 1, 'c', clen - 1);
    memcpy(text + clen, "GWT_INT=9\n", 10);
    assert_int_equal(load_file_text(text, strlen(text), &s, &err), GW_OK);
    assert_int_equal(gw_settings_int(s, "GWT_INT"), 5);
    gw_settings_free(s);
    /* a 6000-byte value is kept whole */
    memset(text, 0, 70000);
    memcpy(text, "GWT_STR=", 8);
    memset(text + 8, 'v', 6000);
    text[6008] = '\n';
    assert_int_equal(load_file_text(text, strlen(text), &s, &err), GW_OK);
    assert_int_equal(strlen(gw_settings_str(s, "GWT_STR")), 6000);
    gw_settings_free(s);
    /* an absurdly long line is refused, citing its line */
    memset(text, 0, 70000);
    memcpy(text, "GWT_STR=ok\nGWT_EMPTY=", 21);
    memset(text + 21, 'w', 66000);
    assert_int_not_equal(load_file_text(text, strlen(text), &s, &err), GW_OK);
    assert_non_null(strstr(err.msg, ":2: line longer than"));
    gw_settings_free(s);
    gw_free(text);
    /* a NUL byte inside a line is refused (it would silently cut the value) */
    const char nul[] = "GWT_STR=abc\0def\n";
    assert_int_equal(load_file_text(nul, sizeof(nul) - 1, &s, &err), GW_EINVAL);
    assert_non_null(strstr(err.msg, ":1: NUL byte"));
    gw_settings_free(s);
}

static void test_precedence(void **state)
{
    (void)state;
    const char *path = temp_file("GWT_STR=file\nGWT_INT=2\nGWT_ENUM=bb\n");
    char copy[256];
    snprintf(copy, sizeof(copy), "%s", path);
    setenv("GWT_INT", "3", 1);
    setenv("GWT_ENUM", "ccc", 1);
    setenv("GWT_BOOL", "on", 1);
    struct gw_settings *s = make();
    struct gw_error err = {0};
    assert_int_equal(gw_settings_override(s, "GWT_ENUM", "a", &err), GW_OK);
    assert_int_equal(gw_settings_load(s, copy, &err), GW_OK);
    /* default < file */
    assert_string_equal(gw_settings_str(s, "GWT_STR"), "file");
    char want[300];
    snprintf(want, sizeof(want), "file:%s:1", copy);
    assert_string_equal(gw_settings_source(s, "GWT_STR"), want);
    /* file < env */
    assert_int_equal(gw_settings_int(s, "GWT_INT"), 3);
    assert_string_equal(gw_settings_source(s, "GWT_INT"), "env");
    /* default < env */
    assert_true(gw_settings_bool(s, "GWT_BOOL"));
    assert_string_equal(gw_settings_source(s, "GWT_BOOL"), "env");
    /* file < env < override */
    assert_string_equal(gw_settings_str(s, "GWT_ENUM"), "a");
    assert_string_equal(gw_settings_source(s, "GWT_ENUM"), "override");
    /* untouched */
    assert_string_equal(gw_settings_source(s, "GWT_NEG"), "default");
    gw_settings_free(s);

    /* an invalid environment value is reported as coming from env */
    setenv("GWT_INT", "abc", 1);
    s = make();
    assert_int_equal(gw_settings_load(s, NULL, &err), GW_EINVAL);
    assert_non_null(strstr(err.msg, "GWT_INT=abc (from env)"));
    gw_settings_free(s);
    unsetenv("GWT_INT");
    unsetenv("GWT_ENUM");
    unsetenv("GWT_BOOL");
    unlink(copy);
}

static void test_markdown(void **state)
{
    (void)state;
    struct gw_settings *s = make();
    struct gw_error err = {0};
    assert_int_equal(gw_settings_load(s, NULL, &err), GW_OK);
    struct gw_buf b;
    gw_buf_init(&b, 1u << 20);
    assert_int_equal(gw_settings_markdown(s, &b), GW_OK);
    const char *md = gw_buf_ptr(&b);
    assert_non_null(strstr(md, "# Configuration reference"));
    const struct gw_setting_def *tables[] = {table_a, table_b};
    for (int t = 0; t < 2; t++) {
        for (const struct gw_setting_def *d = tables[t]; d->name; d++) {
            char cell[128];
            snprintf(cell, sizeof(cell), "| `%s` |", d->name);
            if (!strstr(md, cell))
                fail_msg("markdown lacks a row for %s", d->name);
            if (!strstr(md, d->help))
                fail_msg("markdown lacks the help of %s", d->name);
            char group[128];
            snprintf(group, sizeof(group), "## %s\n", d->group);
            if (!strstr(md, group))
                fail_msg("markdown lacks the section %s", d->group);
        }
    }
    assert_non_null(strstr(md, "| `GWT_INT` | integer (1–10) | `5` |"));
    assert_non_null(strstr(md, "| `GWT_ENUM` | enum (`a|bb|ccc`) | `a` |"));
    assert_non_null(strstr(md, "| `GWT_BOOL` | boolean | `false` |"));
    assert_non_null(strstr(md, "| `GWT_EMPTY` | string | `(empty)` |"));
    assert_non_null(strstr(md, "| `GWT_SECRET_DEF` | secret | `(secret, unset)` |"));
    /* a secret's default never appears in the docs */
    assert_null(strstr(md, "do-not-print-me"));
    /* each group appears once (rows are grouped) */
    const char *g = strstr(md, "## Group A\n");
    assert_null(strstr(g + 1, "## Group A\n"));
    gw_buf_fini(&b);
    gw_settings_free(s);
}

static void test_dump_redacts(void **state)
{
    (void)state;
    struct gw_settings *s = make();
    struct gw_error err = {0};
    assert_int_equal(gw_settings_override(s, "GWT_SECRET", "hunter2", &err), GW_OK);
    assert_int_equal(gw_settings_load(s, NULL, &err), GW_OK);
    struct gw_buf b;
    gw_buf_init(&b, 1u << 20);
    assert_int_equal(gw_settings_dump(s, &b), GW_OK);
    const char *d = gw_buf_ptr(&b);
    assert_null(strstr(d, "hunter2"));
    assert_null(strstr(d, "do-not-print-me"));
    assert_non_null(strstr(d, "GWT_SECRET=<redacted>    # override\n"));
    assert_non_null(strstr(d, "GWT_SECRET_DEF=<redacted>    # default\n"));
    assert_non_null(strstr(d, "GWT_INT=5    # default\n"));
    assert_non_null(strstr(d, "GWT_EMPTY=    # default\n"));
    gw_buf_fini(&b);
    gw_settings_free(s);
}

/* Runs fn in a child and checks that it aborts. */
static void expect_abort(void (*fn)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* silence the expected "fatal:" line */
        if (!freopen("/dev/null", "w", stderr))
            _exit(3);
        fn();
        _exit(0);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGABRT)
        fail_msg("child did not abort (status 0x%x)", st);
}

static void wrong_type(void)
{
    struct gw_settings *s = make();
    struct gw_error err = {0};
    gw_settings_load(s, NULL, &err);
    (void)gw_settings_int(s, "GWT_STR");
}

static void unknown_name(void)
{
    struct gw_settings *s = make();
    struct gw_error err = {0};
    gw_settings_load(s, NULL, &err);
    (void)gw_settings_str(s, "GWT_NOT_REGISTERED");
}

static void duplicate(void)
{
    struct gw_settings *s = make();
    gw_settings_register(s, table_a);
}

static void bool_as_str(void)
{
    struct gw_settings *s = make();
    struct gw_error err = {0};
    gw_settings_load(s, NULL, &err);
    (void)gw_settings_str(s, "GWT_BOOL");
}

static void test_programming_errors_abort(void **state)
{
    (void)state;
    expect_abort(wrong_type);
    expect_abort(unknown_name);
    expect_abort(duplicate);
    expect_abort(bool_as_str);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults, clear_env),
        cmocka_unit_test_setup(test_int_values, clear_env),
        cmocka_unit_test_setup(test_bool_values, clear_env),
        cmocka_unit_test_setup(test_enum_values, clear_env),
        cmocka_unit_test_setup(test_override_unknown, clear_env),
        cmocka_unit_test_setup(test_bad_default_fails_load, clear_env),
        cmocka_unit_test_setup(test_file_parsing, clear_env),
        cmocka_unit_test_setup(test_file_errors, clear_env),
        cmocka_unit_test_setup(test_long_lines, clear_env),
        cmocka_unit_test_setup(test_precedence, clear_env),
        cmocka_unit_test_setup(test_markdown, clear_env),
        cmocka_unit_test_setup(test_dump_redacts, clear_env),
        cmocka_unit_test_setup(test_programming_errors_abort, clear_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
