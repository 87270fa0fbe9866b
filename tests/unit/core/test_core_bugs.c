/*
 * tests/unit/core/test_core_bugs.c
 * KNOWN BUGS in src/core found by the test suite, one test each, kept apart from the passing
 * suites so that they fail loudly until fixed (then they simply pass and can move into the
 * module's own test file). Each test states the expected behaviour and the observed one.
 *   1. gw_buf with max = SIZE_MAX: reserve() caps the capacity at max + 1, which wraps to 0,
 *      so the buffer is allocated with 1 byte and the append overflows the heap.
 *   2. gw_arena_alloc with n close to SIZE_MAX: need = round16(n) passes the `need < n`
 *      check, then sizeof(chunk) + need wraps in the chunk allocation (and used + need wraps
 *      past the budget): a tiny block is returned as if it had n bytes.
 *   3. gw_arena_alloc returns blocks 8 bytes off the promised alignment "for any type"
 *      (alignof(max_align_t) = 16 on x86-64): the chunk header is 24 bytes and the data
 *      starts right after it, so every block is 16k + 8 aligned.
 *   4. settings file lines longer than 4095 bytes are split by fgets: the tail is parsed as a
 *      new line, so a long comment can smuggle a setting, and a long value is cut silently.
 *   5. gw_b64url_decode accepts leading/trailing whitespace (EVP_DecodeBlock trims it), i.e.
 *      text that is not base64url, contrary to its contract.
 * These run in a forked child where a crash is possible, so a crash is a failure, not an abort
 * of the whole test program.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "core/b64.h"
#include "core/buf.h"
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

static int buf_size_max(void)
{
    struct gw_buf b;
    gw_buf_init(&b, SIZE_MAX); /* "no practical limit" */
    char data[100];
    memset(data, 'q', sizeof(data));
    if (gw_buf_add(&b, data, sizeof(data)) != GW_OK)
        return 1;
    if (gw_buf_len(&b) != 100 || gw_buf_ptr(&b)[99] != 'q' || gw_buf_ptr(&b)[100] != '\0')
        return 2;
    /* the invariant the heap relies on (without ASan the overflow may go unnoticed) */
    if (b._cap < b._len + 1)
        return 3;
    gw_buf_fini(&b);
    return 0;
}

static void test_buf_max_size_max(void **state)
{
    (void)state;
    in_child(buf_size_max, "gw_buf_init(&b, SIZE_MAX) + gw_buf_add of 100 bytes");
}

static int arena_near_size_max(void)
{
    struct gw_arena *a = gw_arena_new(0);
    /* round16(SIZE_MAX - 19) = SIZE_MAX - 15 >= n, and 24 + that wraps to a small malloc */
    void *p = gw_arena_alloc(a, SIZE_MAX - 19);
    if (p != NULL)
        return 1;
    gw_arena_free(a);
    a = gw_arena_new(1u << 20);
    if (!gw_arena_alloc(a, 16))
        return 2;
    /* used (16) + need wraps to 0 <= budget */
    p = gw_arena_alloc(a, SIZE_MAX - 19);
    if (p != NULL)
        return 3;
    gw_arena_free(a);
    return 0;
}

static void test_arena_alloc_near_size_max(void **state)
{
    (void)state;
    in_child(arena_near_size_max, "gw_arena_alloc(a, SIZE_MAX - 19)");
}

static int arena_alignment(void)
{
    struct gw_arena *a = gw_arena_new(0);
    for (size_t n = 1; n < 200; n += 13) {
        void *p = gw_arena_alloc(a, n);
        if (!p || (uintptr_t)p % _Alignof(max_align_t) != 0)
            return 1;
    }
    gw_arena_free(a);
    return 0;
}

static void test_arena_alignment(void **state)
{
    (void)state;
    in_child(arena_alignment, "gw_arena_alloc returns memory not aligned to max_align_t");
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

static int long_comment_smuggles(void)
{
    /* a comment of exactly 4095 bytes followed (on the same line) by "GWB_INT=999" */
    size_t clen = 4095;
    char *text = gw_xcalloc(1, clen + 64);
    text[0] = '#';
    memset(text + 1, 'c', clen - 1);
    memcpy(text + clen, "GWB_INT=999\n", 13);
    struct gw_settings *s = NULL;
    struct gw_error err = {0};
    int rc = load_text(text, &s, &err);
    gw_free(text);
    /* the whole line is a comment: loading succeeds and GWB_INT keeps its default */
    if (rc != GW_OK)
        return 1;
    if (gw_settings_int(s, "GWB_INT") != 5)
        return 2;
    gw_settings_free(s);
    return 0;
}

static void test_settings_long_comment_line(void **state)
{
    (void)state;
    in_child(long_comment_smuggles, "a 4095-byte comment line followed by KEY=VALUE sets KEY");
}

static int long_value_cut(void)
{
    /* GWB_STR with a 6000-byte value: either kept whole or refused as too long, never cut */
    size_t vlen = 6000;
    char *text = gw_xcalloc(1, vlen + 64);
    memcpy(text, "GWB_STR=", 8);
    memset(text + 8, 'v', vlen);
    text[8 + vlen] = '\n';
    struct gw_settings *s = NULL;
    struct gw_error err = {0};
    int rc = load_text(text, &s, &err);
    gw_free(text);
    if (rc == GW_OK && strlen(gw_settings_str(s, "GWB_STR")) != vlen)
        return 1; /* silently truncated */
    if (rc != GW_OK && !strstr(err.msg, ":1:"))
        return 2; /* refused, but blaming a line that does not exist */
    gw_settings_free(s);
    return 0;
}

static void test_settings_long_value_line(void **state)
{
    (void)state;
    in_child(long_value_cut, "a 6000-byte value is cut at 4095 bytes / blamed on line 2");
}

static int b64_whitespace(void)
{
    unsigned char out[32];
    if (gw_b64url_decode("    Zm9v", 8, out) != -1)
        return 1;
    if (gw_b64url_decode("Zm9v    ", 8, out) != -1)
        return 2;
    if (gw_b64url_decode("\t\t\t\tZm9vYmFy", 12, out) != -1)
        return 3;
    return 0;
}

static void test_b64_accepts_whitespace(void **state)
{
    (void)state;
    in_child(b64_whitespace, "gw_b64url_decode(\"    Zm9v\") decodes to \"foo\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_max_size_max),
        cmocka_unit_test(test_arena_alloc_near_size_max),
        cmocka_unit_test(test_arena_alignment),
        cmocka_unit_test(test_settings_long_comment_line),
        cmocka_unit_test(test_settings_long_value_line),
        cmocka_unit_test(test_b64_accepts_whitespace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
