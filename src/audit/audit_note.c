/*
 * src/audit/audit_note.c
 * C2SP signed-note / tlog-checkpoint with Ed25519 (audit_note.h). OpenSSL does the curve
 * arithmetic (EVP_DigestSign with a NULL digest: pure Ed25519); this file only lays out bytes.
 */
#include "audit/audit_note.h"

#include "core/alloc.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>

#define EM_DASH "\xe2\x80\x94"

struct gw_note_signer {
    EVP_PKEY *key;
    char name[GW_NOTE_NAME_MAX];
    unsigned char hash[4];
    char vkey[GW_NOTE_VKEY_MAX];
};

struct gw_note_verifier {
    EVP_PKEY *key;
    char name[GW_NOTE_NAME_MAX];
    uint32_t hash;
};

void gw_note_b64(const unsigned char *data, size_t n, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, data, (int)n);
}

long gw_note_unb64(const char *s, size_t n, unsigned char *out, size_t out_size)
{
    if (n % 4 != 0 || n / 4 * 3 > out_size + 2)
        return -1;
    unsigned char tmp[1024];
    if (n / 4 * 3 > sizeof(tmp))
        return -1;
    int len = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)n);
    if (len < 0)
        return -1;
    if (n >= 1 && s[n - 1] == '=')
        len--;
    if (n >= 2 && s[n - 2] == '=')
        len--;
    if ((size_t)len > out_size)
        return -1;
    memcpy(out, tmp, (size_t)len);
    return len;
}

static bool valid_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= GW_NOTE_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c <= 0x20 || c == '+' || c >= 0x7f)
            return false;
    }
    return true;
}

static void key_hash(const char *name, const unsigned char pub[32], unsigned char out[4])
{
    unsigned char md[32];
    unsigned len = 32;
    unsigned char sep[2] = {0x0a, 0x01};
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    EVP_DigestUpdate(c, name, strlen(name));
    EVP_DigestUpdate(c, sep, 2);
    EVP_DigestUpdate(c, pub, 32);
    EVP_DigestFinal_ex(c, md, &len);
    EVP_MD_CTX_free(c);
    memcpy(out, md, 4);
}

static int signer_finish(struct gw_note_signer *s, struct gw_error *err)
{
    unsigned char pub[32];
    size_t plen = sizeof(pub);
    if (EVP_PKEY_get_raw_public_key(s->key, pub, &plen) != 1 || plen != 32)
        return GW_ERROR_SET(err, GW_EINVAL, "audit signing key: not an Ed25519 key");
    key_hash(s->name, pub, s->hash);
    unsigned char k[33];
    k[0] = 0x01;
    memcpy(k + 1, pub, 32);
    char b64[64];
    gw_note_b64(k, 33, b64);
    snprintf(s->vkey, sizeof(s->vkey), "%s+%02x%02x%02x%02x+%s", s->name, s->hash[0], s->hash[1],
             s->hash[2], s->hash[3], b64);
    return GW_OK;
}

int gw_note_signer_new(const char *name, const char *pem, struct gw_note_signer **out,
                       struct gw_error *err)
{
    *out = NULL;
    if (!valid_name(name))
        return GW_ERROR_SET(err, GW_EINVAL,
                            "audit key name '%.64s': 1-127 printable characters, no space or '+'",
                            name);
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(key);
        return GW_ERROR_SET(err, GW_EINVAL,
                            "audit signing key: expected an Ed25519 private key in PEM (openssl "
                            "genpkey -algorithm ed25519)");
    }
    struct gw_note_signer *s = gw_xcalloc(1, sizeof(*s));
    s->key = key;
    snprintf(s->name, sizeof(s->name), "%s", name);
    int rc = signer_finish(s, err);
    if (rc != GW_OK) {
        gw_note_signer_free(s);
        return rc;
    }
    *out = s;
    return GW_OK;
}

int gw_note_signer_generate(const char *name, struct gw_note_signer **out, char **pem_out,
                            struct gw_error *err)
{
    *out = NULL;
    *pem_out = NULL;
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (!key)
        return GW_ERROR_SET(err, GW_EIO, "could not generate an Ed25519 key");
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL);
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    char *pem = gw_xstrndup(data, (size_t)n);
    BIO_free(bio);
    EVP_PKEY_free(key);
    int rc = gw_note_signer_new(name, pem, out, err);
    if (rc != GW_OK) {
        gw_free(pem);
        return rc;
    }
    *pem_out = pem;
    return GW_OK;
}

void gw_note_signer_free(struct gw_note_signer *s)
{
    if (!s)
        return;
    EVP_PKEY_free(s->key);
    gw_free(s);
}

const char *gw_note_signer_vkey(const struct gw_note_signer *s)
{
    return s->vkey;
}

const char *gw_note_signer_name(const struct gw_note_signer *s)
{
    return s->name;
}

int gw_note_verifier_new(const char *vkey, struct gw_note_verifier **out, struct gw_error *err)
{
    *out = NULL;
    const char *p1 = strchr(vkey, '+');
    const char *p2 = p1 ? strchr(p1 + 1, '+') : NULL;
    if (!p1 || !p2 || p2 - p1 != 9 || (size_t)(p1 - vkey) >= GW_NOTE_NAME_MAX)
        return GW_ERROR_SET(err, GW_EINVAL, "verifier key: expected <name>+<hash>+<key>");
    struct gw_note_verifier *v = gw_xcalloc(1, sizeof(*v));
    memcpy(v->name, vkey, (size_t)(p1 - vkey));
    unsigned char k[40];
    long kl = gw_note_unb64(p2 + 1, strcspn(p2 + 1, " \r\n"), k, sizeof(k));
    char hex[9];
    memcpy(hex, p1 + 1, 8);
    hex[8] = '\0';
    char *end = NULL;
    unsigned long h = strtoul(hex, &end, 16); /* checksrc: allow (fixed 8 hex digits) */
    if (!valid_name(v->name) || kl != 33 || k[0] != 0x01 || *end) {
        gw_free(v);
        return GW_ERROR_SET(err, GW_EINVAL, "verifier key: not an Ed25519 signed-note key");
    }
    unsigned char want[4];
    key_hash(v->name, k + 1, want);
    uint32_t wh = (uint32_t)want[0] << 24 | (uint32_t)want[1] << 16 | (uint32_t)want[2] << 8 |
                  want[3];
    if (wh != (uint32_t)h) {
        gw_free(v);
        return GW_ERROR_SET(err, GW_EINVAL, "verifier key: key hash does not match the key");
    }
    v->hash = wh;
    v->key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, k + 1, 32);
    if (!v->key) {
        gw_free(v);
        return GW_ERROR_SET(err, GW_EINVAL, "verifier key: invalid Ed25519 public key");
    }
    *out = v;
    return GW_OK;
}

void gw_note_verifier_free(struct gw_note_verifier *v)
{
    if (!v)
        return;
    EVP_PKEY_free(v->key);
    gw_free(v);
}

const char *gw_note_verifier_name(const struct gw_note_verifier *v)
{
    return v->name;
}

uint32_t gw_note_verifier_hash(const struct gw_note_verifier *v)
{
    return v->hash;
}

int gw_note_sign(const struct gw_note_signer *s, const char *body, size_t n,
                 struct gw_buf *out)
{
    /* a body is lines of text: at least one, each ending in '\n', no blank one (that would end
     * it), no NUL */
    if (n == 0 || n > GW_NOTE_BODY_MAX || body[n - 1] != '\n' || body[0] == '\n' ||
        memchr(body, '\0', n) || memmem(body, n, "\n\n", 2))
        return GW_EINVAL;
    unsigned char sig[4 + 64];
    memcpy(sig, s->hash, 4);
    size_t slen = 64;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestSignInit(c, NULL, NULL, NULL, s->key) == 1 &&
             EVP_DigestSign(c, sig + 4, &slen, (const unsigned char *)body, n) == 1;
    EVP_MD_CTX_free(c);
    if (!ok || slen != 64)
        return GW_EIO;
    char sigb64[128];
    gw_note_b64(sig, sizeof(sig), sigb64);
    int rc = gw_buf_add(out, body, n);
    return rc == GW_OK ? gw_buf_printf(out, "\n" EM_DASH " %s %s\n", s->name, sigb64) : rc;
}

int gw_note_sign_checkpoint(const struct gw_note_signer *s, const char *origin, uint64_t size,
                            const gw_hash root, struct gw_buf *out)
{
    char rootb64[64];
    gw_note_b64(root, GW_HASH_LEN, rootb64);
    char body[512];
    int n = snprintf(body, sizeof(body), "%s\n%llu\n%s\n", origin, (unsigned long long)size,
                     rootb64);
    if (n < 0 || (size_t)n >= sizeof(body))
        return GW_EINVAL;
    return gw_note_sign(s, body, (size_t)n, out);
}

int gw_note_open(const char *text, size_t n, struct gw_note_verifier *const *vs, size_t nvs,
                 struct gw_note *note, struct gw_error *err)
{
    memset(note, 0, sizeof(*note));
    /* body = everything up to and including the first "\n\n"'s first newline */
    const char *sep = n <= GW_NOTE_MAX && !memchr(text, '\0', n) ? memmem(text, n, "\n\n", 2)
                                                                  : NULL;
    if (!sep)
        return GW_ERROR_SET(err, GW_EINVAL, "not a signed note (no blank line before the "
                                            "signatures)");
    size_t blen = (size_t)(sep - text) + 1;
    note->body_len = blen;
    /* signature lines */
    const char *p = sep + 2, *stop = text + n;
    while (p < stop) {
        const char *eol = memchr(p, '\n', (size_t)(stop - p));
        if (!eol)
            return GW_ERROR_SET(err, GW_EINVAL, "signature line without a final newline");
        size_t ll = (size_t)(eol - p);
        if (ll < 4 || memcmp(p, EM_DASH " ", 4) != 0)
            return GW_ERROR_SET(err, GW_EINVAL, "signature lines must start with an em dash");
        const char *name = p + 4;
        const char *sp = memchr(name, ' ', (size_t)(eol - name));
        if (!sp || sp == name)
            return GW_ERROR_SET(err, GW_EINVAL, "signature line: expected a key name");
        unsigned char sig[128];
        long sl = gw_note_unb64(sp + 1, (size_t)(eol - sp - 1), sig, sizeof(sig));
        if (sl < 5)
            return GW_ERROR_SET(err, GW_EINVAL, "signature line: bad base64");
        note->nsigs++;
        uint32_t h = (uint32_t)sig[0] << 24 | (uint32_t)sig[1] << 16 | (uint32_t)sig[2] << 8 |
                     sig[3];
        for (size_t i = 0; i < nvs; i++) {
            const struct gw_note_verifier *v = vs[i];
            if (v->hash != h || strlen(v->name) != (size_t)(sp - name) ||
                memcmp(v->name, name, (size_t)(sp - name)) != 0 || sl != 68)
                continue;
            EVP_MD_CTX *c = EVP_MD_CTX_new();
            bool ok = c && EVP_DigestVerifyInit(c, NULL, NULL, NULL, v->key) == 1 &&
                      EVP_DigestVerify(c, sig + 4, 64, (const unsigned char *)text, blen) == 1;
            EVP_MD_CTX_free(c);
            if (ok && note->nvalid < GW_NOTE_MAX_SIGS)
                snprintf(note->signers[note->nvalid++], GW_NOTE_NAME_MAX, "%s", v->name);
        }
        p = eol + 1;
    }
    if (note->nsigs == 0)
        return GW_ERROR_SET(err, GW_EINVAL, "signed note without signatures");
    if (note->nvalid == 0)
        return GW_ERROR_SET(err, GW_EDENIED, "no signature by a known key verifies");
    return GW_OK;
}

int gw_note_open_checkpoint(const char *text, size_t n, struct gw_note_verifier *const *vs,
                            size_t nvs, struct gw_checkpoint *cp, struct gw_error *err)
{
    memset(cp, 0, sizeof(*cp));
    struct gw_note note;
    struct gw_error ne = {0};
    int rc = gw_note_open(text, n, vs, nvs, &note, &ne);
    if (rc != GW_OK && rc != GW_EDENIED) {
        if (err)
            *err = ne;
        return rc;
    }
    size_t blen = note.body_len;
    /* checkpoint body: origin, size, root, optional extension lines */
    const char *l1 = memchr(text, '\n', blen);
    const char *l2 = l1 ? memchr(l1 + 1, '\n', blen - (size_t)(l1 + 1 - text)) : NULL;
    const char *l3 = l2 ? memchr(l2 + 1, '\n', blen - (size_t)(l2 + 1 - text)) : NULL;
    if (!l3 || l1 == text || (size_t)(l1 - text) >= sizeof(cp->origin))
        return GW_ERROR_SET(err, GW_EINVAL, "checkpoint body: expected origin, size, root lines");
    memcpy(cp->origin, text, (size_t)(l1 - text));
    char num[24];
    size_t nl = (size_t)(l2 - l1 - 1);
    if (nl == 0 || nl >= sizeof(num) || (nl > 1 && l1[1] == '0'))
        return GW_ERROR_SET(err, GW_EINVAL, "checkpoint body: bad tree size");
    memcpy(num, l1 + 1, nl);
    num[nl] = '\0';
    for (size_t i = 0; i < nl; i++)
        if (num[i] < '0' || num[i] > '9')
            return GW_ERROR_SET(err, GW_EINVAL, "checkpoint body: bad tree size");
    char *end = NULL;
    cp->size = strtoull(num, &end, 10); /* checksrc: allow (digits checked above) */
    if (gw_note_unb64(l2 + 1, (size_t)(l3 - l2 - 1), cp->root, sizeof(cp->root)) != GW_HASH_LEN)
        return GW_ERROR_SET(err, GW_EINVAL, "checkpoint body: bad root hash");
    cp->nsigs = note.nsigs;
    cp->nvalid = note.nvalid;
    memcpy(cp->signers, note.signers, sizeof(cp->signers));
    if (rc == GW_EDENIED && err)
        *err = ne;
    return rc;
}
