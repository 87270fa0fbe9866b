/*
 * tests/unit/core/test_core_bugs.c
 * KNOWN BUGS in src/core found by the test suite, one test each, kept apart from the passing
 * suites so that they fail loudly until fixed (then they pass and move into the module's own
 * test file, as the first six did: buf SIZE_MAX, arena size wrap and alignment, settings long
 * lines, base64url whitespace, all fixed in f0d34a8).
 *   1. a settings error for a long invalid value does not cite its source: the message echoes
 *      the whole value ("GW_X=<value> (from file:F:L): ...") into the 512-byte gw_error, so
 *      the source and the reason are cut off (found by fuzz_core_settings).
 * These run in a forked child where a crash is possible, so a crash is a failure, not an abort
 * of the whole test program.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "core/err.h"
#include "core/settings.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs fn in a child; returns its exit status (0 = expectations held), or fails on a crash. */
static void in_child(int (*fn)(void), const char *what)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(fn());
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (WIFSIGNALED(st))
        fail_msg("BUG %s: the child crashed with signal %d", what, WTERMSIG(st));
    if (WEXITSTATUS(st) != 0)
        fail_msg("BUG %s: expectation %d failed (see the file comment)", what, WEXITSTATUS(st));
}

static const struct gw_setting_def defs[] = {
    {"GWB_INT", GW_SET_INT, "5", 1, 1000, NULL, "G", "An integer."},
    {"GWB_STR", GW_SET_STRING, "", 0, 0, NULL, "G", "A string."},
    GW_SETTINGS_END};

static int load_text(const char *text, struct gw_settings **out, struct gw_error *err)
{
    char path[] = "/tmp/gw-core-bugs-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return GW_EIO;
    size_t n = strlen(text);
    if (write(fd, text, n) != (ssize_t)n) {
        close(fd);
        return GW_EIO;
    }
    close(fd);
    unsetenv("GWB_INT");
    unsetenv("GWB_STR");
    struct gw_settings *s = gw_settings_new();
    gw_settings_register(s, defs);
    int rc = gw_settings_load(s, path, err);
    unlink(path);
    *out = s;
    return rc;
}

static int long_value_message(void)
{
    char text[700];
    memcpy(text, "GWB_INT=", 8);
    memset(text + 8, '9', 600);
    memcpy(text + 608, "x\n", 3);
    struct gw_settings *s = NULL;
    struct gw_error err = {0};
    int rc = load_text(text, &s, &err);
    if (rc != GW_EINVAL)
        return 1;
    if (!strstr(err.msg, "(from file:"))
        return 2; /* the source is cut off */
    if (!strstr(err.msg, "expected an integer"))
        return 3; /* the reason is cut off */
    gw_settings_free(s);
    return 0;
}

static void test_settings_long_value_message(void **state)
{
    (void)state;
    in_child(long_value_message, "a 600-byte invalid value pushes file:line out of the message");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settings_long_value_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
