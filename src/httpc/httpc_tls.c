/*
 * src/httpc/httpc_tls.c
 * The native engine's TLS configurations (see httpc_tls.h): a short list of SSL_CTX objects
 * keyed by the request's TLS fields, each set up as libcurl sets up its connections for the
 * same options (TLS >= 1.2, peer verification with the CA file or the system store, client
 * certificate chain and key, ALPN http/1.1), each keeping the latest session of the servers it
 * talked to for resumption; and the socket BIO every TLS connection writes through, which
 * never raises SIGPIPE.
 */
#include "httpc/httpc_tls.h"

#include "core/alloc.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define SESSION_SLOTS 32

/* A TLS session to resume with one server ("host:port"), as libcurl keeps them. */
struct tls_session {
    char key[280];
    SSL_SESSION *sess; /* NULL = free slot */
};

struct gw_httpc_tls {
    char *ca_file, *client_cert, *client_key, *key_password;
    bool insecure;
    SSL_CTX *ctx;
    struct tls_session sessions[SESSION_SLOTS]; /* the latest session per server */
    unsigned next_slot;                         /* round robin when all are taken */
    struct gw_httpc_tls *next;
};

struct gw_httpc_tls_set {
    struct gw_httpc_tls *head;
};

static const unsigned char ALPN_HTTP11[] = "\x08http/1.1";

/* ---- a socket BIO that never raises SIGPIPE ----
 * OpenSSL's socket BIO writes with write(2): a peer that has gone would kill a process that
 * does not ignore SIGPIPE. This one sends with MSG_NOSIGNAL, as the plain-http path does. The
 * descriptor is the BIO's data; it is not closed by the BIO (the engine owns it). */

static BIO_METHOD *nosig_method;
static pthread_once_t nosig_once = PTHREAD_ONCE_INIT;

static int nosig_fd(BIO *b)
{
    return (int)(intptr_t)BIO_get_data(b);
}

static int nosig_write(BIO *b, const char *data, int len)
{
    BIO_clear_retry_flags(b);
    ssize_t n = send(nosig_fd(b), data, (size_t)len, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        BIO_set_retry_write(b);
    return (int)n;
}

static int nosig_read(BIO *b, char *data, int len)
{
    BIO_clear_retry_flags(b);
    ssize_t n = recv(nosig_fd(b), data, (size_t)len, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        BIO_set_retry_read(b);
    return (int)n;
}

static int nosig_puts(BIO *b, const char *str)
{
    return nosig_write(b, str, (int)strlen(str));
}

static long nosig_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0; /* nothing buffered, nothing else to control */
}

static int nosig_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static void nosig_init(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "gw-nosigpipe");
    if (m && BIO_meth_set_write(m, nosig_write) == 1 && BIO_meth_set_read(m, nosig_read) == 1 &&
        BIO_meth_set_puts(m, nosig_puts) == 1 && BIO_meth_set_ctrl(m, nosig_ctrl) == 1 &&
        BIO_meth_set_create(m, nosig_create) == 1) {
        nosig_method = m;
        return;
    }
    BIO_meth_free(m);
}

/* ---- session resumption ----
 * A new connection to a server this configuration has talked to offers the session it got last
 * time (an abbreviated handshake: no certificate chain, no key exchange signature). The SSL's
 * ex-data slot holds the connection's "host:port" key, which outlives the SSL. */

static int session_key_index = -1;
static pthread_once_t session_once = PTHREAD_ONCE_INIT;

static void session_index_init(void)
{
    session_key_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

static struct tls_session *session_slot(struct gw_httpc_tls *t, const char *key)
{
    for (size_t i = 0; i < SESSION_SLOTS; i++)
        if (t->sessions[i].sess && strcmp(t->sessions[i].key, key) == 0)
            return &t->sessions[i];
    return NULL;
}

/* SSL_CTX_sess_set_new_cb: keeps the server's latest session (TLS 1.3 sends its tickets after
 * the handshake, so this may run in the middle of reading an answer). 1 = the reference is
 * ours. */
static int on_new_session(SSL *ssl, SSL_SESSION *sess)
{
    struct gw_httpc_tls *t = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    const char *key = SSL_get_ex_data(ssl, session_key_index);
    if (!t || !key || strlen(key) >= sizeof(t->sessions[0].key))
        return 0;
    struct tls_session *slot = session_slot(t, key);
    if (!slot) {
        for (size_t i = 0; i < SESSION_SLOTS && !slot; i++)
            if (!t->sessions[i].sess)
                slot = &t->sessions[i];
        if (!slot)
            slot = &t->sessions[t->next_slot++ % SESSION_SLOTS];
    }
    SSL_SESSION_free(slot->sess);
    slot->sess = sess;
    snprintf(slot->key, sizeof(slot->key), "%s", key);
    return 1;
}

/* A BIO over `fd` that sends with MSG_NOSIGNAL; NULL when OpenSSL cannot make one. */
static BIO *nosig_bio(int fd)
{
    pthread_once(&nosig_once, nosig_init);
    if (!nosig_method)
        return NULL;
    BIO *b = BIO_new(nosig_method);
    if (b)
        BIO_set_data(b, (void *)(intptr_t)fd);
    return b;
}

struct gw_httpc_tls_set *gw_httpc_tls_set_new(void)
{
    return gw_xcalloc(1, sizeof(struct gw_httpc_tls_set));
}

static void tls_free(struct gw_httpc_tls *t)
{
    for (size_t i = 0; i < SESSION_SLOTS; i++)
        SSL_SESSION_free(t->sessions[i].sess);
    if (t->key_password)
        OPENSSL_cleanse(t->key_password, strlen(t->key_password));
    gw_free(t->ca_file);
    gw_free(t->client_cert);
    gw_free(t->client_key);
    gw_free(t->key_password);
    SSL_CTX_free(t->ctx);
    gw_free(t);
}

void gw_httpc_tls_set_free(struct gw_httpc_tls_set *s)
{
    if (!s)
        return;
    while (s->head) {
        struct gw_httpc_tls *t = s->head;
        s->head = t->next;
        tls_free(t);
    }
    gw_free(s);
}

static bool same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The key's passphrase, handed to OpenSSL instead of its terminal prompt. */
static int passphrase(char *buf, int size, int rwflag, void *userdata)
{
    (void)rwflag;
    const char *pw = userdata;
    if (!pw || size <= 0)
        return 0;
    size_t n = strlen(pw);
    if (n >= (size_t)size)
        return 0;
    memcpy(buf, pw, n);
    return (int)n;
}

/* The text of OpenSSL's oldest queued error (and the queue emptied). */
static void queued_error(char *msg, size_t msg_size, const char *what)
{
    unsigned long e = ERR_get_error();
    char eb[200] = "";
    if (e)
        ERR_error_string_n(e, eb, sizeof(eb));
    ERR_clear_error();
    snprintf(msg, msg_size, "%s%s%s", what, eb[0] ? ": " : "", eb);
}

static SSL_CTX *make_ctx(struct gw_httpc_tls *t, char *msg, size_t msg_size)
{
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        queued_error(msg, msg_size, "cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, on_new_session);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (t->insecure) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        int ok = t->ca_file ? SSL_CTX_load_verify_locations(ctx, t->ca_file, NULL)
                            : SSL_CTX_set_default_verify_paths(ctx);
        if (ok != 1) {
            queued_error(msg, msg_size, t->ca_file ? "cannot load the CA file"
                                                   : "cannot load the system CA store");
            SSL_CTX_free(ctx);
            return NULL;
        }
    }
    if (t->client_cert) {
        SSL_CTX_set_default_passwd_cb(ctx, passphrase);
        SSL_CTX_set_default_passwd_cb_userdata(ctx, t->key_password);
        if (SSL_CTX_use_certificate_chain_file(ctx, t->client_cert) != 1) {
            queued_error(msg, msg_size, "cannot load the client certificate");
            SSL_CTX_free(ctx);
            return NULL;
        }
        if (SSL_CTX_use_PrivateKey_file(ctx, t->client_key ? t->client_key : t->client_cert,
                                        SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1) {
            queued_error(msg, msg_size, "cannot load the client key");
            SSL_CTX_free(ctx);
            return NULL;
        }
    }
    return ctx;
}

struct gw_httpc_tls *gw_httpc_tls_get(struct gw_httpc_tls_set *s,
                                      const struct gw_httpc_request *req, char *msg,
                                      size_t msg_size)
{
    for (struct gw_httpc_tls *t = s->head; t; t = t->next)
        if (t->insecure == req->insecure_skip_verify && same_str(t->ca_file, req->ca_file) &&
            same_str(t->client_cert, req->client_cert) &&
            same_str(t->client_key, req->client_key) &&
            same_str(t->key_password, req->key_password))
            return t;
    struct gw_httpc_tls *t = gw_xcalloc(1, sizeof(*t));
    t->insecure = req->insecure_skip_verify;
    t->ca_file = req->ca_file ? gw_xstrdup(req->ca_file) : NULL;
    t->client_cert = req->client_cert ? gw_xstrdup(req->client_cert) : NULL;
    t->client_key = req->client_key ? gw_xstrdup(req->client_key) : NULL;
    t->key_password = req->key_password ? gw_xstrdup(req->key_password) : NULL;
    t->ctx = make_ctx(t, msg, msg_size);
    if (!t->ctx) {
        tls_free(t); /* not kept: a fixed file is picked up by the next request */
        return NULL;
    }
    SSL_CTX_set_app_data(t->ctx, t);
    t->next = s->head;
    s->head = t;
    return t;
}

SSL *gw_httpc_tls_new_ssl(struct gw_httpc_tls *t, const char *host, bool host_is_ip,
                          const char *session_key, int fd, char *msg, size_t msg_size)
{
    pthread_once(&session_once, session_index_init);
    ERR_clear_error();
    SSL *ssl = SSL_new(t->ctx);
    BIO *bio = ssl ? nosig_bio(fd) : NULL;
    if (!bio)
        goto fail;
    SSL_set_bio(ssl, bio, bio); /* the SSL owns the BIO from here */
    if (SSL_set_alpn_protos(ssl, ALPN_HTTP11, sizeof(ALPN_HTTP11) - 1) != 0)
        goto fail;
    if (!host_is_ip && SSL_set_tlsext_host_name(ssl, host) != 1)
        goto fail;
    if (!t->insecure) {
        int ok = host_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host)
                            : SSL_set1_host(ssl, host);
        if (ok != 1)
            goto fail;
    }
    if (session_key_index >= 0 && session_key &&
        SSL_set_ex_data(ssl, session_key_index, (void *)(uintptr_t)session_key) == 1) {
        struct tls_session *slot = session_slot(t, session_key);
        if (slot)
            (void)SSL_set_session(ssl, slot->sess); /* refused or stale: a full handshake */
    }
    SSL_set_connect_state(ssl);
    return ssl;
fail:
    queued_error(msg, msg_size, "cannot set up TLS for the connection");
    SSL_free(ssl);
    return NULL;
}

void gw_httpc_tls_error(const SSL *ssl, char *msg, size_t msg_size)
{
    long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
    if (v != X509_V_OK) {
        ERR_clear_error();
        snprintf(msg, msg_size, "TLS: the upstream's certificate was not accepted: %s",
                 X509_verify_cert_error_string(v));
        return;
    }
    queued_error(msg, msg_size, "TLS failure");
}
