/*
 * tests/unit/httpc/httpc_test_tls.h
 * TLS material for tests, made at run time with OpenSSL (header-only, static functions): a CA,
 * a server certificate for 127.0.0.1 and a client certificate, both signed by the CA, written as
 * PEM files into a directory; and a server SSL_CTX that optionally requires a client
 * certificate (mTLS). Used with ts_start_tls() of httpc_test_server.h.
 * Not a product component.
 */
#ifndef GW_TEST_HTTPC_TEST_TLS_H
#define GW_TEST_HTTPC_TEST_TLS_H

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>

struct tls_files {
    char dir[256];
    char ca[320], server_cert[320], server_key[320], client_cert[320], client_key[320];
    char other_ca[320]; /* a CA that signed nothing here (for verification failures) */
};

static void tls_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    if (!e)
        abort();
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
}

static X509 *tls_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
                      bool ca, const char *san, long serial)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    tls_ext(x, &ctx, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
    tls_ext(x, &ctx, NID_subject_key_identifier, "hash");
    if (ca) {
        tls_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        tls_ext(x, &ctx, NID_authority_key_identifier, "keyid");
        tls_ext(x, &ctx, NID_key_usage, "critical,digitalSignature");
        tls_ext(x, &ctx, NID_ext_key_usage, "serverAuth,clientAuth");
    }
    if (san)
        tls_ext(x, &ctx, NID_subject_alt_name, san);
    X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256());
    return x;
}

static void tls_write(const char *path, X509 *x, EVP_PKEY *k)
{
    FILE *f = fopen(path, "w");
    if (!f)
        abort();
    if (x)
        PEM_write_X509(f, x);
    if (k)
        PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
    fclose(f);
}

/* Creates the files under a new temporary directory. */
__attribute__((unused)) static void tls_make(struct tls_files *t)
{
    snprintf(t->dir, sizeof(t->dir), "/tmp/gw-tls-XXXXXX");
    if (!mkdtemp(t->dir))
        abort();
    EVP_PKEY *cak = EVP_EC_gen("P-256"), *sk = EVP_EC_gen("P-256"), *ck = EVP_EC_gen("P-256"),
             *ok = EVP_EC_gen("P-256");
    X509 *ca = tls_cert(cak, "gw test CA", NULL, NULL, true, NULL, 1);
    X509 *srv = tls_cert(sk, "127.0.0.1", ca, cak, false, "IP:127.0.0.1,DNS:localhost", 2);
    X509 *cli = tls_cert(ck, "mcp-gateway", ca, cak, false, NULL, 3);
    X509 *other = tls_cert(ok, "other CA", NULL, NULL, true, NULL, 4);
    snprintf(t->ca, sizeof(t->ca), "%s/ca.pem", t->dir);
    snprintf(t->server_cert, sizeof(t->server_cert), "%s/server.pem", t->dir);
    snprintf(t->server_key, sizeof(t->server_key), "%s/server.key", t->dir);
    snprintf(t->client_cert, sizeof(t->client_cert), "%s/client.pem", t->dir);
    snprintf(t->client_key, sizeof(t->client_key), "%s/client.key", t->dir);
    snprintf(t->other_ca, sizeof(t->other_ca), "%s/other-ca.pem", t->dir);
    tls_write(t->ca, ca, NULL);
    tls_write(t->server_cert, srv, NULL);
    tls_write(t->server_key, NULL, sk);
    tls_write(t->client_cert, cli, NULL);
    tls_write(t->client_key, NULL, ck);
    tls_write(t->other_ca, other, NULL);
    X509_free(ca);
    X509_free(srv);
    X509_free(cli);
    X509_free(other);
    EVP_PKEY_free(cak);
    EVP_PKEY_free(sk);
    EVP_PKEY_free(ck);
    EVP_PKEY_free(ok);
}

__attribute__((unused)) static void tls_remove(struct tls_files *t)
{
    const char *files[] = {t->ca, t->server_cert, t->server_key, t->client_cert, t->client_key,
                           t->other_ca};
    for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++)
        remove(files[i]);
    rmdir(t->dir);
}

/* A server context; require_client = mTLS (clients must present a certificate of our CA). */
__attribute__((unused)) static SSL_CTX *tls_server_ctx(const struct tls_files *t,
                                                       bool require_client)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (SSL_CTX_use_certificate_file(ctx, t->server_cert, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, t->server_key, SSL_FILETYPE_PEM) != 1)
        abort();
    if (require_client) {
        SSL_CTX_load_verify_locations(ctx, t->ca, NULL);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    return ctx;
}

#endif
