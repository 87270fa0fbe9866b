/*
 * tools/mock-apim/mockapim_http.h
 * The mock's HTTP server: one libevent event loop and one evhttp listener (loopback by
 * default), fault injection, JSON access log, graceful SIGTERM/SIGINT.
 *
 * Every request is decoded into a struct gw_mockapim_req and answered by the app
 * (mockapim_app.h); faults are decided first (paths under /__mock/ are never faulted, so a test
 * can always switch them off). Latency and timeout faults wait on evtimers, never by sleeping:
 * the loop keeps serving other requests meanwhile. A held request whose client goes away is
 * detached by libevent (not freed); the timer then frees it, so no pointer dangles.
 * Threading: single-threaded; the database calls of the app run on the loop (local SQLite).
 */
#ifndef GW_MOCKAPIM_HTTP_H
#define GW_MOCKAPIM_HTTP_H

#include "core/err.h"

struct gw_mockapim_app;
struct gw_mockapim_server;

/* Creates the event base and binds cfg->listen of the app ("host:port", IPv4 or [IPv6];
 * port 0 = any free port). GW_OK with *out; GW_EINVAL (bad address) / GW_EIO (bind failed). */
int gw_mockapim_server_new(struct gw_mockapim_app *app, struct gw_mockapim_server **out,
                           struct gw_error *err);

/* The bound port (useful with port 0). */
int gw_mockapim_server_port(const struct gw_mockapim_server *srv);

/* Runs the loop until SIGTERM or SIGINT; then stops accepting, drops held requests and
 * returns GW_OK. Blocks. */
int gw_mockapim_server_run(struct gw_mockapim_server *srv);

/* Frees the server (not the app). Accepts NULL. */
void gw_mockapim_server_free(struct gw_mockapim_server *srv);

#endif
