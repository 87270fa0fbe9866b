/*
 * src/audit/audit_merkle.h
 * The Merkle tree of a transparency log, RFC 6962 / RFC 9162 section 2.1: domain-separated
 * hashes (leaf = SHA-256(0x00 || entry), node = SHA-256(0x01 || left || right)), the tree head
 * of any prefix, inclusion proofs for an entry and consistency proofs between two sizes, and
 * their verification.
 *
 * The writer keeps only the compact range of the log (one hash per perfect subtree of the
 * binary decomposition of its size: at most 64) and appends in O(log n). Proofs are computed
 * over a source of perfect-subtree roots: an array of leaf hashes (O(n) hashing) or the
 * persisted index of audit_index.c (O(log n) reads). Pure functions, thread-safe.
 */
#ifndef GW_AUDIT_MERKLE_H
#define GW_AUDIT_MERKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_HASH_LEN 32
#define GW_MERKLE_MAX_PROOF 64

typedef unsigned char gw_hash[GW_HASH_LEN];

void gw_merkle_leaf_hash(const void *entry, size_t n, gw_hash out);
void gw_merkle_node_hash(const gw_hash left, const gw_hash right, gw_hash out);
/* SHA-256 of nothing: the head of the empty tree. */
void gw_merkle_empty_root(gw_hash out);

/* The compact range [0, size): hashes of the perfect subtrees, largest first. */
struct gw_merkle_range {
    uint64_t size;
    gw_hash h[64];
    unsigned n;
};

void gw_merkle_range_init(struct gw_merkle_range *r);
void gw_merkle_range_append(struct gw_merkle_range *r, const gw_hash leaf);
/* Appends as gw_merkle_range_append; when the new size is a multiple of 2^k, true with the
 * root of the last 2^k leaves (a perfect subtree the merge computes anyway) in `sub`. */
bool gw_merkle_range_append_sub(struct gw_merkle_range *r, const gw_hash leaf, unsigned k,
                                gw_hash sub);
void gw_merkle_range_root(const struct gw_merkle_range *r, gw_hash out);
/* Rebuilds a range of `size` from its subtree hashes (n must equal popcount(size)). */
bool gw_merkle_range_set(struct gw_merkle_range *r, uint64_t size, const gw_hash *h,
                         unsigned n);

/* The head of leaves[0..n) (MTH of RFC 6962). */
void gw_merkle_root(const gw_hash *leaves, uint64_t n, gw_hash out);

/* Inclusion proof of leaf `index` in the tree of the first `size` leaves. Returns the number
 * of hashes written to `proof` (at most GW_MERKLE_MAX_PROOF), or -1 if index >= size. */
int gw_merkle_inclusion_proof(const gw_hash *leaves, uint64_t size, uint64_t index,
                              gw_hash *proof);
/* Consistency proof between sizes m <= n. Returns the count or -1 (m > n, m == 0). */
int gw_merkle_consistency_proof(const gw_hash *leaves, uint64_t m, uint64_t n, gw_hash *proof);

/* Where proofs read the tree from (a persisted index, or an array of leaves): `perfect` gives
 * the root of the perfect subtree [start, start + size) (size a power of two, start a multiple
 * of it, inside the tree); it returns 0 or an error, which the functions below pass on. */
struct gw_merkle_source {
    int (*perfect)(void *ud, uint64_t start, uint64_t size, gw_hash out);
    void *ud;
};
/* MTH of the leaves [start, start + n) of a source. */
int gw_merkle_source_root(const struct gw_merkle_source *src, uint64_t start, uint64_t n,
                          gw_hash out);
/* The two proofs over a source: 0 with *np hashes in `proof`, -1 for impossible arguments, or
 * the source's error. */
int gw_merkle_source_inclusion(const struct gw_merkle_source *src, uint64_t size,
                               uint64_t index, gw_hash *proof, int *np);
int gw_merkle_source_consistency(const struct gw_merkle_source *src, uint64_t m, uint64_t n,
                                 gw_hash *proof, int *np);

/* A tree whose first leaves are known only by their compact range (a log whose oldest records
 * were deleted from a store, their hashes kept): the range of [0, p) and the leaf hashes from
 * p on. As a source it gives every perfect subtree that is a node of that range or lies at or
 * after p, and splits one that straddles p; any other subtree of [0, p) is gone and answers
 * GW_MERKLE_PRUNED. Enough for the head of every size >= p and the inclusion proof of every
 * leaf >= p (a sibling inside [0, p) on such a path is always a node of the range). */
#define GW_MERKLE_PRUNED 1
struct gw_merkle_tail {
    const struct gw_merkle_range *head; /* [0, head->size) */
    const gw_hash *leaves;              /* leaves[i] is leaf head->size + i */
};
void gw_merkle_tail_source(const struct gw_merkle_tail *t, struct gw_merkle_source *out);

bool gw_merkle_verify_inclusion(const gw_hash leaf, uint64_t index, uint64_t size,
                                const gw_hash *proof, int nproof, const gw_hash root);
bool gw_merkle_verify_consistency(uint64_t m, uint64_t n, const gw_hash root_m,
                                  const gw_hash root_n, const gw_hash *proof, int nproof);

#endif
