/*
 * src/audit/audit_merkle.c
 * RFC 6962/9162 Merkle tree hashing, proofs and their verification (audit_merkle.h). The
 * recursive definitions (MTH, PATH, SUBPROOF) are followed literally; verification follows the
 * iterative algorithms of RFC 9162 2.1.3.2 and 2.1.4.2.
 */
#include "audit/audit_merkle.h"

#include "core/digest.h"

#include <openssl/evp.h>
#include <string.h>

/* SHA-256 fetched once (core/digest.h): an implicit EVP_sha256() costs more than hashing a
 * small record. */
static const EVP_MD *sha256(void)
{
    return gw_sha256_md();
}

void gw_merkle_leaf_hash(const void *entry, size_t n, gw_hash out)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned char z = 0;
    unsigned len = GW_HASH_LEN;
    EVP_DigestInit_ex(c, sha256(), NULL);
    EVP_DigestUpdate(c, &z, 1);
    EVP_DigestUpdate(c, entry, n);
    EVP_DigestFinal_ex(c, out, &len);
    EVP_MD_CTX_free(c);
}

void gw_merkle_node_hash(const gw_hash left, const gw_hash right, gw_hash out)
{
    unsigned char buf[1 + 2 * GW_HASH_LEN];
    buf[0] = 1;
    memcpy(buf + 1, left, GW_HASH_LEN);
    memcpy(buf + 1 + GW_HASH_LEN, right, GW_HASH_LEN);
    unsigned len = GW_HASH_LEN;
    EVP_Digest(buf, sizeof(buf), out, &len, sha256(), NULL);
}

void gw_merkle_empty_root(gw_hash out)
{
    unsigned len = GW_HASH_LEN;
    EVP_Digest("", 0, out, &len, sha256(), NULL);
}

void gw_merkle_range_init(struct gw_merkle_range *r)
{
    memset(r, 0, sizeof(*r));
}

void gw_merkle_range_append(struct gw_merkle_range *r, const gw_hash leaf)
{
    gw_merkle_range_append_sub(r, leaf, 64, NULL);
}

bool gw_merkle_range_append_sub(struct gw_merkle_range *r, const gw_hash leaf, unsigned k,
                                gw_hash sub)
{
    memcpy(r->h[r->n++], leaf, GW_HASH_LEN);
    bool got = k == 0;
    if (got && sub)
        memcpy(sub, leaf, GW_HASH_LEN);
    /* merge equal-sized subtrees: the trailing one bits of the old size; after the j-th
     * merge the last hash is the root of the last 2^j leaves */
    unsigned j = 0;
    for (uint64_t s = r->size; s & 1; s >>= 1) {
        gw_merkle_node_hash(r->h[r->n - 2], r->h[r->n - 1], r->h[r->n - 2]);
        r->n--;
        if (++j == k) {
            got = true;
            if (sub)
                memcpy(sub, r->h[r->n - 1], GW_HASH_LEN);
        }
    }
    r->size++;
    return got;
}

void gw_merkle_range_root(const struct gw_merkle_range *r, gw_hash out)
{
    if (r->n == 0) {
        gw_merkle_empty_root(out);
        return;
    }
    gw_hash acc;
    memcpy(acc, r->h[r->n - 1], GW_HASH_LEN);
    for (unsigned i = r->n - 1; i-- > 0;)
        gw_merkle_node_hash(r->h[i], acc, acc);
    memcpy(out, acc, GW_HASH_LEN);
}

bool gw_merkle_range_set(struct gw_merkle_range *r, uint64_t size, const gw_hash *h, unsigned n)
{
    if ((unsigned)__builtin_popcountll(size) != n || n > 64)
        return false;
    r->size = size;
    r->n = n;
    memcpy(r->h, h, (size_t)n * GW_HASH_LEN);
    return true;
}

/* Largest power of two strictly below n (n >= 2). */
static uint64_t split(uint64_t n)
{
    uint64_t k = 1;
    while (k << 1 < n)
        k <<= 1;
    return k;
}

/* MTH over [start, start + n) of a source: perfect subtrees straight from it, the rest split
 * at the largest power of two below n (RFC 6962 2.1). */
int gw_merkle_source_root(const struct gw_merkle_source *src, uint64_t start, uint64_t n,
                          gw_hash out)
{
    if (n == 0) {
        gw_merkle_empty_root(out);
        return 0;
    }
    if ((n & (n - 1)) == 0)
        return src->perfect(src->ud, start, n, out);
    uint64_t k = split(n);
    gw_hash l, r;
    int rc = gw_merkle_source_root(src, start, k, l);
    if (rc == 0)
        rc = gw_merkle_source_root(src, start + k, n - k, r);
    if (rc == 0)
        gw_merkle_node_hash(l, r, out);
    return rc;
}

/* PATH(m, D[start:start+n]) of RFC 6962 2.1.1, appended at proof[*np]. */
static int path(const struct gw_merkle_source *src, uint64_t start, uint64_t n, uint64_t m,
                gw_hash *proof, int *np)
{
    if (n <= 1)
        return 0;
    uint64_t k = split(n);
    int rc = m < k ? path(src, start, k, m, proof, np)
                   : path(src, start + k, n - k, m - k, proof, np);
    if (rc == 0)
        rc = m < k ? gw_merkle_source_root(src, start + k, n - k, proof[*np])
                   : gw_merkle_source_root(src, start, k, proof[*np]);
    if (rc == 0)
        (*np)++;
    return rc;
}

int gw_merkle_source_inclusion(const struct gw_merkle_source *src, uint64_t size,
                               uint64_t index, gw_hash *proof, int *np)
{
    *np = 0;
    return index >= size ? -1 : path(src, 0, size, index, proof, np);
}

/* SUBPROOF(m, D[start:start+n], b) of RFC 6962 2.1.2. */
static int subproof(const struct gw_merkle_source *src, uint64_t start, uint64_t n, uint64_t m,
                    bool b, gw_hash *proof, int *np)
{
    if (m == n) {
        if (b)
            return 0;
        int rc = gw_merkle_source_root(src, start, n, proof[*np]);
        if (rc == 0)
            (*np)++;
        return rc;
    }
    uint64_t k = split(n);
    int rc = m <= k ? subproof(src, start, k, m, b, proof, np)
                    : subproof(src, start + k, n - k, m - k, false, proof, np);
    if (rc == 0)
        rc = m <= k ? gw_merkle_source_root(src, start + k, n - k, proof[*np])
                    : gw_merkle_source_root(src, start, k, proof[*np]);
    if (rc == 0)
        (*np)++;
    return rc;
}

int gw_merkle_source_consistency(const struct gw_merkle_source *src, uint64_t m, uint64_t n,
                                 gw_hash *proof, int *np)
{
    *np = 0;
    return m == 0 || m > n ? -1 : subproof(src, 0, n, m, true, proof, np);
}

/* The array of leaf hashes as a source. */
static int array_perfect(void *ud, uint64_t start, uint64_t size, gw_hash out)
{
    const gw_hash *leaves = ud;
    if (size == 1) {
        memcpy(out, leaves[start], GW_HASH_LEN);
        return 0;
    }
    gw_hash l, r;
    array_perfect(ud, start, size / 2, l);
    array_perfect(ud, start + size / 2, size / 2, r);
    gw_merkle_node_hash(l, r, out);
    return 0;
}

/* A pruned head and its leaves after it as a source (audit_merkle.h). */
static int tail_perfect(void *ud, uint64_t start, uint64_t size, gw_hash out)
{
    const struct gw_merkle_tail *t = ud;
    uint64_t p = t->head->size;
    if (start >= p)
        return array_perfect((void *)t->leaves, start - p, size, out);
    if (start + size <= p) { /* a node of the range, or gone */
        uint64_t at = 0, rest = p; /* node i spans the i-th highest set bit of p */
        for (unsigned i = 0; i < t->head->n && rest; i++) {
            uint64_t span = (uint64_t)1 << (63 - __builtin_clzll(rest));
            if (at == start && span == size) {
                memcpy(out, t->head->h[i], GW_HASH_LEN);
                return 0;
            }
            at += span;
            rest -= span;
        }
        return GW_MERKLE_PRUNED;
    }
    gw_hash l, r; /* straddles p: its halves */
    int rc = tail_perfect(ud, start, size / 2, l);
    if (rc == 0)
        rc = tail_perfect(ud, start + size / 2, size / 2, r);
    if (rc == 0)
        gw_merkle_node_hash(l, r, out);
    return rc;
}

void gw_merkle_tail_source(const struct gw_merkle_tail *t, struct gw_merkle_source *out)
{
    out->perfect = tail_perfect;
    out->ud = (void *)t;
}

void gw_merkle_root(const gw_hash *leaves, uint64_t n, gw_hash out)
{
    struct gw_merkle_source src = {array_perfect, (void *)leaves};
    gw_merkle_source_root(&src, 0, n, out);
}

int gw_merkle_inclusion_proof(const gw_hash *leaves, uint64_t size, uint64_t index,
                              gw_hash *proof)
{
    struct gw_merkle_source src = {array_perfect, (void *)leaves};
    int np = 0;
    return gw_merkle_source_inclusion(&src, size, index, proof, &np) == 0 ? np : -1;
}

int gw_merkle_consistency_proof(const gw_hash *leaves, uint64_t m, uint64_t n, gw_hash *proof)
{
    struct gw_merkle_source src = {array_perfect, (void *)leaves};
    int np = 0;
    return gw_merkle_source_consistency(&src, m, n, proof, &np) == 0 ? np : -1;
}

bool gw_merkle_verify_inclusion(const gw_hash leaf, uint64_t index, uint64_t size,
                                const gw_hash *proof, int nproof, const gw_hash root)
{
    if (index >= size)
        return false;
    uint64_t fn = index, sn = size - 1;
    gw_hash r;
    memcpy(r, leaf, GW_HASH_LEN);
    for (int i = 0; i < nproof; i++) {
        if (sn == 0)
            return false;
        if ((fn & 1) || fn == sn) {
            gw_merkle_node_hash(proof[i], r, r);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            gw_merkle_node_hash(r, proof[i], r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(r, root, GW_HASH_LEN) == 0;
}

bool gw_merkle_verify_consistency(uint64_t m, uint64_t n, const gw_hash root_m,
                                  const gw_hash root_n, const gw_hash *proof, int nproof)
{
    if (m == 0 || m > n)
        return false;
    if (m == n)
        return nproof == 0 && memcmp(root_m, root_n, GW_HASH_LEN) == 0;
    gw_hash path_[GW_MERKLE_MAX_PROOF + 1];
    int np = 0;
    if ((m & (m - 1)) == 0)
        memcpy(path_[np++], root_m, GW_HASH_LEN);
    if (nproof > GW_MERKLE_MAX_PROOF)
        return false;
    for (int i = 0; i < nproof; i++)
        memcpy(path_[np++], proof[i], GW_HASH_LEN);
    if (np == 0)
        return false;
    uint64_t fn = m - 1, sn = n - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    gw_hash fr, sr;
    memcpy(fr, path_[0], GW_HASH_LEN);
    memcpy(sr, path_[0], GW_HASH_LEN);
    for (int i = 1; i < np; i++) {
        if (sn == 0)
            return false;
        if ((fn & 1) || fn == sn) {
            gw_merkle_node_hash(path_[i], fr, fr);
            gw_merkle_node_hash(path_[i], sr, sr);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            gw_merkle_node_hash(sr, path_[i], sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(fr, root_m, GW_HASH_LEN) == 0 &&
           memcmp(sr, root_n, GW_HASH_LEN) == 0;
}
