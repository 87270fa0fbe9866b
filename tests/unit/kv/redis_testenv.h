/*
 * tests/unit/kv/redis_testenv.h
 * A throwaway real Redis server for unit tests: Debian's redis-server on a unix socket in a
 * fresh temp dir (no TCP port, nothing to collide with), no persistence. Tests can stop it,
 * freeze it (SIGSTOP: a hung server) and thaw it, and start it again on the same socket.
 * Without redis-server installed the tests that need it are skipped.
 * Header-only (static functions) so that each test file includes it once.
 */
#ifndef GW_TEST_REDIS_TESTENV_H
#define GW_TEST_REDIS_TESTENV_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct test_redis {
    char dir[256];
    char sock[300];
    char url[320];
    pid_t pid;
};

static const char *test_redis_bin(void)
{
    static const char *const c[] = {"/usr/bin/redis-server", "/usr/local/bin/redis-server"};
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
        if (access(c[i], X_OK) == 0)
            return c[i];
    return NULL;
}

static void test_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Starts (or restarts, same socket) the server. true when it accepts connections. */
static bool test_redis_start(struct test_redis *r)
{
    const char *bin = test_redis_bin();
    if (!bin)
        return false;
    if (r->pid > 0 && waitpid(r->pid, NULL, WNOHANG) == 0)
        return true; /* already running */
    r->pid = 0;
    if (!r->dir[0]) {
        snprintf(r->dir, sizeof(r->dir), "%s/gw-redis-XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(r->dir))
            return false;
        snprintf(r->sock, sizeof(r->sock), "%s/redis.sock", r->dir);
        snprintf(r->url, sizeof(r->url), "unix://%s", r->sock);
    }
    unlink(r->sock);
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        int devnull = open("/dev/null", 1);
        if (devnull >= 0) {
            dup2(devnull, 1);
            dup2(devnull, 2);
        }
        execl(bin, bin, "--port", "0", "--unixsocket", r->sock, "--unixsocketperm", "700",
              "--save", "", "--appendonly", "no", "--dir", r->dir, "--daemonize", "no",
              (char *)NULL);
        _exit(127);
    }
    r->pid = pid;
    for (int i = 0; i < 500; i++) {
        struct stat st;
        if (stat(r->sock, &st) == 0)
            return true;
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            r->pid = 0;
            return false;
        }
        test_sleep_ms(10);
    }
    return false;
}

static void test_redis_stop(struct test_redis *r)
{
    if (r->pid <= 0)
        return;
    kill(r->pid, SIGCONT);
    kill(r->pid, SIGKILL);
    waitpid(r->pid, NULL, 0);
    r->pid = 0;
    unlink(r->sock);
}

__attribute__((unused)) static void test_redis_freeze(struct test_redis *r, bool on)
{
    if (r->pid > 0)
        kill(r->pid, on ? SIGSTOP : SIGCONT);
}

static void test_redis_cleanup(struct test_redis *r)
{
    test_redis_stop(r);
    if (r->dir[0]) {
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", r->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", r->dir);
        r->dir[0] = '\0';
    }
}

#endif
