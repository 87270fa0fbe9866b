/*
 * src/web/web.h
 * Static web assets (the admin console, ui/admin built by Vite) served by an HTTP server under
 * a URL prefix, e.g. /admin/ on the admin listener (the admin REST API keeps /admin/api/).
 *
 * Design: the asset directory is read once, at start-up (gw_web_open, blocking), into an
 * immutable in-memory table: every regular file below it (no symlinks, no dot-files, bounded
 * count, size and depth) with its content type, a strong ETag (SHA-256 of the bytes) and, when
 * a `<file>.gz` sibling exists, that precompressed variant. A request is then a pure lookup:
 * the loop never touches the disk, and a path can only ever name a file that was in the table,
 * so no request can reach outside the directory whatever its spelling (the path rules below
 * refuse traversal spellings anyway, loudly). Paths that name no file and look like a
 * client-side route get index.html (the single-page app routes itself).
 * Headers: a strict Content-Security-Policy (scripts/styles/fonts from 'self' only, no inline
 * code, no framing), nosniff, no referrer; Cache-Control `immutable` for the content-hashed
 * files under assets/, `no-cache` (revalidate with the ETag) for everything else; 304 on a
 * matching If-None-Match; gzip when the client accepts it. GET and HEAD only.
 * Thread-safety: after gw_web_open the table is read-only; any loop may serve from it.
 * Not here: authentication (the console calls /admin/api/ with the user's credential; the
 * assets themselves are public, as any login page is), dynamic content.
 */
#ifndef GW_WEB_WEB_H
#define GW_WEB_WEB_H

#include "core/err.h"
#include "core/settings.h"
#include "net/net_server.h"

#include <stdbool.h>
#include <stddef.h>

#define GW_WEB_PATH_MAX 1024     /* longest URL path accepted below the prefix */
#define GW_WEB_DEPTH_MAX 8       /* directory levels below the asset directory */
#define GW_WEB_FILES_MAX 4096    /* files in the table */
#define GW_WEB_FILE_MAX (16u << 20)  /* one file */
#define GW_WEB_TOTAL_MAX (64u << 20) /* all files together */

struct gw_web;

struct gw_web_options {
    const char *dir;         /* asset directory holding index.html (required; borrowed) */
    const char *prefix;      /* URL prefix ending in '/', e.g. "/admin/" (required; borrowed) */
    const char *connect_src; /* extra CSP connect-src sources, space separated (OIDC provider
                              * origins the browser talks to), or NULL/"" */
};

/* The GW_ADMIN_UI_* settings (registered by the app; docs/configuration.md). */
extern const struct gw_setting_def gw_web_settings[];

/* Fills `o` for the admin console from the settings: dir = GW_ADMIN_UI_DIR, prefix "/admin/",
 * connect_src = GW_ADMIN_UI_CONNECT_SRC. Returns GW_DECLINED when GW_ADMIN_UI_DIR is empty (no
 * console), else GW_OK. Strings point into `s`. */
int gw_web_options_from_settings(struct gw_web_options *o, const struct gw_settings *s);

/* Reads the asset directory into memory. GW_EINVAL (bad options, no index.html, a
 * connect-src with characters that could break out of the policy), GW_ELIMIT (too many or too
 * large files), GW_EIO (unreadable); err says which file. Blocks (disk). On success *out must
 * be freed with gw_web_free. */
int gw_web_open(const struct gw_web_options *o, struct gw_web **out, struct gw_error *err);

/* Registers the routes (the prefix without its slash -> redirect, and prefix + star) on
 * `srv`. Call after the routes that must win (e.g. /admin/api/), before gw_server_start. `w`
 * must outlive the server's workers. */
void gw_web_attach(struct gw_web *w, struct gw_server *srv);

/* Number of files served (variants not counted) and their total size. */
size_t gw_web_count(const struct gw_web *w, size_t *out_bytes);

/* Accepts NULL. Call after the server that serves it has stopped. */
void gw_web_free(struct gw_web *w);

/* ---- pure helpers (exposed for tests) ---- */

/* Resolves the decoded URL path of a request against `prefix` into the relative name of an
 * asset ("" for the prefix itself). GW_OK with `out` filled; GW_ENOTFOUND when `path` is not
 * below the prefix; GW_EINVAL when it is malformed or tries to leave the directory: a segment
 * that is empty ("//"), "." or "..", or starts with '.', a backslash, '%', a control or
 * non-ASCII byte or any character outside [A-Za-z0-9._~-], more than GW_WEB_DEPTH_MAX
 * segments, or longer than GW_WEB_PATH_MAX (err says why). */
int gw_web_resolve(const char *path, const char *prefix, char *out, size_t size,
                   struct gw_error *err);

/* The Content-Type for a file name (by extension); application/octet-stream when unknown. */
const char *gw_web_content_type(const char *name);

/* Whether an Accept-Encoding value accepts gzip (a "gzip" or "*" coding whose q is not 0). */
bool gw_web_accepts_gzip(const char *accept_encoding);

/* Whether an If-None-Match value matches `etag` (a list of entity tags, weak comparison, or
 * "*"). */
bool gw_web_etag_matches(const char *if_none_match, const char *etag);

#endif
