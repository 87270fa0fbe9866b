/*
 * src/httpc/httpc_tls.h
 * TLS for the native HTTP/1.1 engine (src/httpc/httpc_h1.c), on OpenSSL: one client SSL_CTX
 * per distinct TLS configuration of requests (CA file or the system store, client certificate
 * and key with passphrase, verification on unless explicitly skipped), created on first use and
 * kept for the engine's life, with the latest session of each server for resumption;
 * per-connection setup (SNI for host names, the peer's name or address verified, ALPN
 * http/1.1, TLS 1.2 minimum: what libcurl does); failure text.
 * The I/O itself (SSL_read/SSL_write on non-blocking sockets) stays with the engine.
 * Threading: a set belongs to one engine, so to one thread.
 */
#ifndef GW_HTTPC_TLS_H
#define GW_HTTPC_TLS_H

#include "httpc/httpc_client.h"

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

struct gw_httpc_tls;     /* one TLS configuration and its SSL_CTX */
struct gw_httpc_tls_set; /* the configurations an engine has met */

struct gw_httpc_tls_set *gw_httpc_tls_set_new(void);

/* Frees every configuration (passphrases wiped). Accepts NULL. Connections using them must be
 * closed first. */
void gw_httpc_tls_set_free(struct gw_httpc_tls_set *s);

/* The configuration of `req`'s TLS fields, found or created (its files read now, once). NULL
 * with a message when a file cannot be loaded (CA file, certificate, key, passphrase): the
 * call fails with GW_HTTPC_ETLS, as with libcurl. Equal configurations give the same pointer,
 * so connections are reused only under the configuration that opened them. */
struct gw_httpc_tls *gw_httpc_tls_get(struct gw_httpc_tls_set *s,
                                      const struct gw_httpc_request *req, char *msg,
                                      size_t msg_size);

/* A client SSL on `fd` for `host` (an IP literal when host_is_ip, else a name sent as SNI):
 * the certificate must match that name or address unless the configuration skips verification.
 * `session_key` ("host:port", borrowed: it must outlive the SSL) names the server whose last
 * session is offered for resumption and under which the next one is kept (the configuration
 * keeps the latest session of up to 32 servers, as libcurl's shared session cache does).
 * NULL with a message on failure. */
SSL *gw_httpc_tls_new_ssl(struct gw_httpc_tls *t, const char *host, bool host_is_ip,
                          const char *session_key, int fd, char *msg, size_t msg_size);

/* Why TLS failed on `ssl` (certificate verification result, else OpenSSL's error queue, which
 * this empties). */
void gw_httpc_tls_error(const SSL *ssl, char *msg, size_t msg_size);

#endif
