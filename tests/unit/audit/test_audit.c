/*
 * tests/unit/audit/test_audit.c
 * The audit trail's building blocks and its writer:
 *   - JCS (RFC 8785): the RFC's number serialisation examples, member sorting by UTF-16 code
 *     units (its sorting example), minimal string escapes;
 *   - the Merkle tree: published RFC 6962 test-vector roots (the 8-leaf data set used by
 *     Certificate Transparency implementations), the compact range equals MTH for every size,
 *     every inclusion and consistency proof for sizes up to 40 verifies and fails when altered;
 *   - signed notes: a signed checkpoint opens with its verifier key, a changed body or another
 *     key does not verify, malformed notes and keys are refused;
 *   - the writer: records are durable and chained across a restart, a torn last line is
 *     dropped at recovery, a log whose records were edited is refused, the offline verifier
 *     passes on the written log;
 *   - search: newest first, in pages of any size from any cursor, is exactly the reverse of the
 *     in-order search (with and without a caller's filter), across many segments;
 *   - proofs through the index (index/L0, L1): equal to those computed from every leaf, the
 *     index extended as the log grows, a damaged or cut index not trusted and rebuilt;
 *   - checkpoint files: those inside closed segments leave the folder (at the next open and at
 *     each rotation), the one at each segment boundary stays, the log still verifies;
 *   - the segment writer of the export from the database and the salvage: the header line and
 *     records by the MiB, a record missing refused, atomic (nothing under the segment's name
 *     before the end, nothing at all after an error) or in place (left as it is).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "audit/audit.h"
#include "audit/audit_internal.h" /* AUDIT_PREFILL */
#include "audit/audit_jcs.h"
#include "audit/audit_merkle.h"
#include "audit/audit_note.h"
#include "audit/audit_read.h"
#include "audit/audit_verification.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *jcs_of(const char *json)
{
    json_error_t e;
    json_t *v = json_loads(json, JSON_DECODE_ANY, &e);
    assert_non_null(v);
    struct gw_buf b;
    gw_buf_init(&b, 1 << 20);
    assert_int_equal(gw_jcs_dump(v, &b), GW_OK);
    json_decref(v);
    return gw_buf_take(&b, NULL);
}

static void test_jcs_numbers(void **state)
{
    (void)state;
    /* RFC 8785 3.2.2.3 and Appendix B examples */
    static const struct {
        double d;
        const char *s;
    } v[] = {{0.0, "0"},
             {-0.0, "0"},
             {1e21, "1e+21"},
             {1e20, "100000000000000000000"},
             {333333333.33333329, "333333333.3333333"},
             {1E30, "1e+30"},
             {4.50, "4.5"},
             {2e-3, "0.002"},
             {0.000000000000000000000000001, "1e-27"},
             {5e-324, "5e-324"},
             {1.7976931348623157e308, "1.7976931348623157e+308"},
             {9007199254740992.0, "9007199254740992"},
             {295147905179352830000.0, "295147905179352830000"},
             {-1.5, "-1.5"},
             {1e-7, "1e-7"},
             {0.000001, "0.000001"},
             {123456789012345680000.0, "123456789012345680000"}};
    char out[64];
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        gw_jcs_number(v[i].d, out, sizeof(out));
        if (strcmp(out, v[i].s) != 0)
            fail_msg("%zu: %.17g -> %s, want %s", i, v[i].d, out, v[i].s);
    }
}

static void test_jcs_objects(void **state)
{
    (void)state;
    /* RFC 8785 3.2.3: sorting by UTF-16 code units (U+1F600 sorts before U+FB33) */
    char *s =
        jcs_of("{\"\\u20ac\":\"Euro Sign\",\"\\r\":\"Carriage Return\",\"\\ufb33\":\"Hebrew "
               "Letter Dalet With Dagesh\",\"1\":\"One\",\"\\ud83d\\ude00\":\"Emoji: Grinning "
               "Face\",\"\\u0080\":\"Control\",\"\\u00f6\":\"Latin Small Letter O With "
               "Diaeresis\"}");
    const char *want =
        "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\","
        "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\",\"\xe2\x82\xac\":"
        "\"Euro Sign\",\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\",\"\xef\xac\xb3\":"
        "\"Hebrew Letter Dalet With Dagesh\"}";
    assert_string_equal(s, want);
    free(s); /* checksrc: allow */
    s = jcs_of("{\"b\":[1,true,null,\"\\u0001\\u001f\\\"\\\\/\\t\"],\"a\":{\"z\":1,\"y\":2}}");
    assert_string_equal(
        s, "{\"a\":{\"y\":2,\"z\":1},\"b\":[1,true,null,\"\\u0001\\u001f\\\"\\\\/\\t\"]}");
    free(s); /* checksrc: allow */
}

/* A string literal is written in place when its worst case (6 bytes per byte) fits the
 * buffer, else in chunks: both give the same bytes, and a buffer that cannot take the literal
 * says so. */
static void test_jcs_string_near_limit(void **state)
{
    (void)state;
    const char *in = "ab\x01\"\\/\n\x7f\xc3\xb6z";
    const char *want = "\"ab\\u0001\\\"\\\\/\\n\x7f\xc3\xb6z\"";
    size_t wl = strlen(want);
    for (size_t max = wl; max <= 6 * strlen(in) + 2 + 7; max += 7) { /* both ways */
        struct gw_buf b;
        gw_buf_init(&b, max);
        assert_int_equal(gw_jcs_string(in, strlen(in), &b), GW_OK);
        assert_string_equal(gw_buf_ptr(&b), want);
        gw_buf_fini(&b);
    }
    struct gw_buf b;
    gw_buf_init(&b, wl - 1);
    assert_int_equal(gw_jcs_string(in, strlen(in), &b), GW_ELIMIT);
    gw_buf_fini(&b);
}

static void hexof(const gw_hash h, char *out)
{
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

static void test_merkle_vectors(void **state)
{
    (void)state;
    static const char *const leaves[8] = {"", "\x00", "\x10", "\x20\x21", "\x30\x31",
                                          "\x40\x41\x42\x43", "\x50\x51\x52\x53\x54\x55\x56\x57",
                                          "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c"
                                          "\x6d\x6e\x6f"};
    static const size_t lens[8] = {0, 1, 1, 2, 2, 4, 8, 16};
    static const char *const roots[8] = {
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
    gw_hash h[8], root;
    char hx[65];
    gw_merkle_empty_root(root);
    hexof(root, hx);
    assert_string_equal(hx, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    struct gw_merkle_range r;
    gw_merkle_range_init(&r);
    for (int i = 0; i < 8; i++) {
        gw_merkle_leaf_hash(leaves[i], lens[i], h[i]);
        gw_merkle_range_append(&r, h[i]);
        gw_merkle_range_root(&r, root);
        hexof(root, hx);
        assert_string_equal(hx, roots[i]);
        gw_merkle_root((const gw_hash *)h, (uint64_t)i + 1, root);
        hexof(root, hx);
        assert_string_equal(hx, roots[i]);
    }
}

static void test_merkle_proofs(void **state)
{
    (void)state;
    enum { N = 40 };
    gw_hash leaves[N], roots[N + 1];
    struct gw_merkle_range r;
    gw_merkle_range_init(&r);
    gw_merkle_range_root(&r, roots[0]);
    for (int i = 0; i < N; i++) {
        char e[16];
        int n = snprintf(e, sizeof(e), "entry %d", i);
        gw_merkle_leaf_hash(e, (size_t)n, leaves[i]);
        gw_merkle_range_append(&r, leaves[i]);
        gw_merkle_range_root(&r, roots[i + 1]);
        gw_hash direct;
        gw_merkle_root((const gw_hash *)leaves, (uint64_t)i + 1, direct);
        assert_memory_equal(direct, roots[i + 1], 32);
    }
    gw_hash proof[GW_MERKLE_MAX_PROOF];
    for (uint64_t n = 1; n <= N; n++) {
        for (uint64_t i = 0; i < n; i++) {
            int np = gw_merkle_inclusion_proof((const gw_hash *)leaves, n, i, proof);
            assert_true(np >= 0);
            assert_true(gw_merkle_verify_inclusion(leaves[i], i, n, (const gw_hash *)proof, np,
                                                   roots[n]));
            if (n > 1) /* another leaf, another index or size: no */
                assert_false(gw_merkle_verify_inclusion(leaves[(i + 1) % n], i, n,
                                                        (const gw_hash *)proof, np, roots[n]));
            if (np > 0) {
                proof[np - 1][0] ^= 1;
                assert_false(gw_merkle_verify_inclusion(leaves[i], i, n, (const gw_hash *)proof,
                                                        np, roots[n]));
            }
        }
        for (uint64_t m = 1; m <= n; m++) {
            int np = gw_merkle_consistency_proof((const gw_hash *)leaves, m, n, proof);
            assert_true(np >= 0);
            assert_true(gw_merkle_verify_consistency(m, n, roots[m], roots[n],
                                                     (const gw_hash *)proof, np));
            if (m < n) {
                assert_false(gw_merkle_verify_consistency(m, n, roots[m], roots[m],
                                                          (const gw_hash *)proof, np));
                if (np > 0) {
                    proof[0][5] ^= 0x80;
                    assert_false(gw_merkle_verify_consistency(m, n, roots[m], roots[n],
                                                              (const gw_hash *)proof, np));
                }
            }
        }
    }
    assert_int_equal(gw_merkle_inclusion_proof((const gw_hash *)leaves, 3, 3, proof), -1);
    assert_int_equal(gw_merkle_consistency_proof((const gw_hash *)leaves, 0, 3, proof), -1);
}

/* A tree with its first p leaves pruned to their compact range answers, for every size >= p,
 * the head and the inclusion proof of every leaf >= p exactly as the whole tree does; for a
 * leaf below p it answers the same or refuses, never wrongly. */
static void test_merkle_tail(void **state)
{
    (void)state;
    enum { N = 70 };
    gw_hash leaves[N];
    for (int i = 0; i < N; i++) {
        char e[16];
        int n = snprintf(e, sizeof(e), "leaf %d", i);
        gw_merkle_leaf_hash(e, (size_t)n, leaves[i]);
    }
    gw_hash want[GW_MERKLE_MAX_PROOF], got[GW_MERKLE_MAX_PROOF], wroot, groot;
    unsigned checked = 0, refused = 0;
    for (uint64_t p = 0; p <= N; p++) {
        struct gw_merkle_range head;
        gw_merkle_range_init(&head);
        for (uint64_t i = 0; i < p; i++)
            gw_merkle_range_append(&head, leaves[i]);
        struct gw_merkle_tail t = {&head, (const gw_hash *)leaves + p};
        struct gw_merkle_source src;
        gw_merkle_tail_source(&t, &src);
        for (uint64_t n = p > 0 ? p : 1; n <= N; n++) {
            gw_merkle_root((const gw_hash *)leaves, n, wroot);
            assert_int_equal(gw_merkle_source_root(&src, 0, n, groot), 0);
            assert_memory_equal(wroot, groot, GW_HASH_LEN);
            for (uint64_t i = 0; i < n; i++) {
                int np = -1, wn = gw_merkle_inclusion_proof((const gw_hash *)leaves, n, i, want);
                int rc = gw_merkle_source_inclusion(&src, n, i, got, &np);
                if (rc == GW_MERKLE_PRUNED) { /* only where a sibling is a pruned subtree */
                    assert_true(i < p);
                    refused++;
                    continue;
                }
                assert_int_equal(rc, 0);
                assert_int_equal(np, wn);
                assert_memory_equal(got, want, (size_t)np * GW_HASH_LEN);
                checked++;
            }
        }
    }
    assert_true(checked > 50000 && refused > 20000);
}

/* The compact range reports the roots of the perfect subtrees its merges complete. */
static void test_merkle_range_sub(void **state)
{
    (void)state;
    enum { N = 1100 };
    static gw_hash leaves[N];
    struct gw_merkle_range r;
    gw_merkle_range_init(&r);
    for (unsigned i = 0; i < N; i++) {
        unsigned char b[4] = {(unsigned char)i, (unsigned char)(i >> 8), 1, 2};
        gw_merkle_leaf_hash((const char *)b, sizeof(b), leaves[i]);
        for (unsigned k = 0; k <= 10; k++) {
            struct gw_merkle_range t = r; /* the same append, asking for 2^k */
            gw_hash sub, want;
            bool got = gw_merkle_range_append_sub(&t, leaves[i], k, sub);
            assert_int_equal(got, (i + 1) % (1u << k) == 0);
            if (got) {
                gw_merkle_root((const gw_hash *)leaves + (i + 1 - (1u << k)), 1u << k, want);
                assert_memory_equal(sub, want, sizeof(want));
            }
        }
        gw_merkle_range_append(&r, leaves[i]);
        gw_hash root, want;
        gw_merkle_range_root(&r, root);
        if (i % 97 == 0 || i == N - 1) {
            gw_merkle_root((const gw_hash *)leaves, i + 1, want);
            assert_memory_equal(root, want, sizeof(want));
        }
    }
}

static void test_notes(void **state)
{
    (void)state;
    struct gw_note_signer *s = NULL, *s2 = NULL;
    char *pem = NULL, *pem2 = NULL;
    struct gw_error err = {0};
    assert_int_equal(gw_note_signer_generate("example.com/log", &s, &pem, &err), GW_OK);
    assert_int_equal(gw_note_signer_generate("example.com/log", &s2, &pem2, &err), GW_OK);
    struct gw_note_verifier *v = NULL, *v2 = NULL;
    assert_int_equal(gw_note_verifier_new(gw_note_signer_vkey(s), &v, &err), GW_OK);
    assert_int_equal(gw_note_verifier_new(gw_note_signer_vkey(s2), &v2, &err), GW_OK);
    gw_hash root;
    memset(root, 7, sizeof(root));
    struct gw_buf b;
    gw_buf_init(&b, 4096);
    assert_int_equal(gw_note_sign_checkpoint(s, "example.com/log/a", 42, root, &b), GW_OK);
    const char *text = gw_buf_ptr(&b);
    assert_true(strncmp(text, "example.com/log/a\n42\n", 21) == 0);
    assert_non_null(strstr(text, "\n\n\xe2\x80\x94 example.com/log "));
    struct gw_checkpoint cp;
    assert_int_equal(gw_note_open_checkpoint(text, strlen(text), &v, 1, &cp, &err), GW_OK);
    assert_int_equal(cp.size, 42);
    assert_memory_equal(cp.root, root, 32);
    assert_string_equal(cp.origin, "example.com/log/a");
    /* another key with the same name: not trusted */
    assert_int_equal(gw_note_open_checkpoint(text, strlen(text), &v2, 1, &cp, &err), GW_EDENIED);
    /* a changed body */
    char *bad = gw_xstrdup(text);
    bad[18] = '3'; /* 42 -> 32 */
    assert_int_equal(gw_note_open_checkpoint(bad, strlen(bad), &v, 1, &cp, &err), GW_EDENIED);
    gw_free(bad);
    /* malformed notes */
    static const char *const junk[] = {"", "a\n1\nAAAA\n", "a\n1\nAAAA\n\nno dash\n",
                                       "a\nx1\nAAAA\n\n\xe2\x80\x94 k AAAA\n",
                                       "a\n01\nAAAA\n\n\xe2\x80\x94 k AAAA\n"};
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
        assert_int_equal(gw_note_open_checkpoint(junk[i], strlen(junk[i]), &v, 1, &cp, &err),
                         GW_EINVAL);
    /* verifier keys: wrong hash, wrong type, garbage */
    char vk[300];
    snprintf(vk, sizeof(vk), "%s", gw_note_signer_vkey(s));
    char *plus = strchr(vk, '+');
    plus[1] = plus[1] == '0' ? '1' : '0';
    struct gw_note_verifier *x = NULL;
    assert_int_equal(gw_note_verifier_new(vk, &x, &err), GW_EINVAL);
    assert_int_equal(gw_note_verifier_new("name+00000000+AAAA", &x, &err), GW_EINVAL);
    assert_int_equal(gw_note_verifier_new("nonsense", &x, &err), GW_EINVAL);
    /* a PEM key loads back to the same verifier key; bad names and keys are refused */
    struct gw_note_signer *s3 = NULL;
    assert_int_equal(gw_note_signer_new("example.com/log", pem, &s3, &err), GW_OK);
    assert_string_equal(gw_note_signer_vkey(s3), gw_note_signer_vkey(s));
    gw_note_signer_free(s3);
    s3 = NULL;
    assert_int_equal(gw_note_signer_new("bad name", pem, &s3, &err), GW_EINVAL);
    assert_null(s3);
    assert_int_equal(gw_note_signer_new("n", "-----BEGIN NOTHING-----", &s3, &err), GW_EINVAL);
    gw_buf_fini(&b);
    gw_note_verifier_free(v);
    gw_note_verifier_free(v2);
    gw_note_signer_free(s);
    gw_note_signer_free(s2);
    gw_free(pem);
    gw_free(pem2);
}

/* ---- the writer ---------------------------------------------------------------------------- */

static char tmpdir_[256];

static enum gw_audit_sync log_sync = GW_AUDIT_SYNC_WRITE;
static uint64_t log_segment_max = 600; /* a few records per segment: rotations happen */
static bool log_keep_all_checkpoints;

static struct gw_audit *open_log(const char *pem, int *rc_out)
{
    struct gw_note_signer *s = NULL;
    assert_int_equal(gw_note_signer_new("unit/audit", pem, &s, NULL), GW_OK);
    struct gw_audit_config c = {0};
    c.dir = tmpdir_;
    c.log_id = "unit";
    c.origin = "unit/audit";
    c.signer = s;
    c.sync = log_sync;
    c.checkpoint_events = 3;
    c.checkpoint_seconds = 1;
    c.segment_max_bytes = log_segment_max;
    c.keep_all_checkpoints = log_keep_all_checkpoints;
    c.pg_url = "";
    struct gw_audit *a = NULL;
    struct gw_error err = {0};
    *rc_out = gw_audit_open(&c, &a, &err);
    return a;
}

/* Verifies the log in tmpdir_/<sub>. */
static json_t *verify_log(const char *sub, const char *vkey)
{
    struct gw_note_verifier *v = NULL;
    assert_int_equal(gw_note_verifier_new(vkey, &v, NULL), GW_OK);
    char dir[400];
    snprintf(dir, sizeof(dir), "%s/%s", tmpdir_, sub);
    json_t *r = gw_audit_verify_dir(dir, &v, 1);
    gw_note_verifier_free(v);
    return r;
}

/* The log in tmpdir_/<sub> verifies, with `records` records when records >= 0. Returns the
 * verification. */
static json_t *assert_verifies_in(const char *sub, const char *vkey, long long records)
{
    json_t *r = verify_log(sub, vkey);
    if (!json_is_true(json_object_get(r, "ok")))
        fail_msg("%s", json_dumps(r, 0));
    if (records >= 0)
        assert_int_equal(json_integer_value(json_object_get(r, "records")), records);
    return r;
}

static json_t *assert_verifies(const char *vkey, long long records)
{
    return assert_verifies_in("unit", vkey, records);
}

/* Opens the log (recovering what a crash left), appends one record durably, closes it. */
static void append_one(const char *pem, const char *ev)
{
    int rc;
    struct gw_audit *a = open_log(pem, &rc);
    assert_int_equal(rc, GW_OK);
    assert_int_equal(gw_audit_append_sync(a, ev, strlen(ev), NULL), GW_OK);
    gw_audit_close(a);
}

/* A fresh log folder in tmpdir_ and a new signing key: returns its PEM (to free), its
 * verifier key in vkey. */
static char *new_log_dir(char vkey[300])
{
    snprintf(tmpdir_, sizeof(tmpdir_), "/tmp/gw-audit-unit-XXXXXX");
    assert_non_null(mkdtemp(tmpdir_));
    struct gw_note_signer *g = NULL;
    char *pem = NULL;
    assert_int_equal(gw_note_signer_generate("unit/audit", &g, &pem, NULL), GW_OK);
    snprintf(vkey, 300, "%s", gw_note_signer_vkey(g));
    gw_note_signer_free(g);
    return pem;
}

/* Appends events {"i":0..count-1,"kind":kind} durably. */
static void append_events(struct gw_audit *a, int count, const char *kind)
{
    for (int i = 0; i < count; i++) {
        char ev[96];
        int n = snprintf(ev, sizeof(ev), "{\"i\":%d,\"kind\":\"%s\"}", i, kind);
        assert_int_equal(gw_audit_append_sync(a, ev, (size_t)n, NULL), GW_OK);
    }
}

/* A fresh log (new_log_dir) opened, with `count` events appended durably. */
static struct gw_audit *new_log(char vkey[300], char **pem, int count, const char *kind)
{
    *pem = new_log_dir(vkey);
    int rc;
    struct gw_audit *a = open_log(*pem, &rc);
    assert_int_equal(rc, GW_OK);
    append_events(a, count, kind);
    return a;
}

static void test_writer(void **state)
{
    (void)state;
    char vkey[300], *pem;
    struct gw_audit *a = new_log(vkey, &pem, 20, "test");
    int rc;
    struct gw_audit_stats st;
    gw_audit_get_stats(a, &st);
    assert_int_equal(st.records, 20);
    assert_int_equal(st.size, 20);
    gw_audit_close(a);
    json_t *r = assert_verifies(vkey, 20);
    assert_int_equal(json_integer_value(json_object_get(r, "unsigned_tail")), 0);
    json_decref(r);

    /* a torn last line (a crash mid-write) is dropped at the next open */
    append_one(pem, "{\"i\":20}");
    char seg[600];
    snprintf(seg, sizeof(seg), "%s/unit/segments", tmpdir_);
    /* the state a crash leaves: the last segment still .open, a half-written record at its
     * end (never acknowledged) */
    char cmd[1400];
    snprintf(cmd, sizeof(cmd),
             "f=$(ls %s/*.jsonl | tail -1) && printf '{\"event\":{\"i\":99' >> \"$f\" && "
             "mv \"$f\" \"$f.open\"",
             seg);
    assert_int_equal(system(cmd), 0); /* checksrc: allow */
    r = assert_verifies(vkey, 21);
    char *notes = json_dumps(json_object_get(r, "notes"), 0);
    assert_non_null(strstr(notes, "torn record")); /* reported, not a problem */
    free(notes); /* checksrc: allow */
    json_decref(r);
    append_one(pem, "{\"i\":21}");
    json_decref(assert_verifies(vkey, 22));

    /* killed between creating the next segment and writing its header: an empty .open
     * segment, then one with a partial header; neither held an acknowledged record, so the
     * writer removes it and goes on */
    const char *stubs[] = {"", "{\"origin\":\"unit/au"};
    for (int k = 0; k < 2; k++) {
        gw_audit_get_stats(a = open_log(pem, &rc), &st);
        assert_int_equal(rc, GW_OK);
        uint64_t size = st.size;
        gw_audit_close(a);
        snprintf(cmd, sizeof(cmd), "printf '%%s' '%s' > %s/%020llu.jsonl.open", stubs[k], seg,
                 (unsigned long long)size);
        assert_int_equal(system(cmd), 0); /* checksrc: allow */
        append_one(pem, "{\"i\":30}");
        json_decref(assert_verifies(vkey, 23 + k));
    }

    /* an edited record: the writer refuses to continue the log */
    snprintf(cmd, sizeof(cmd), "f=$(ls %s/*.jsonl | tail -1); sed -i '2s/\"i\":/\"j\":/' \"$f\"",
             seg);
    assert_int_equal(system(cmd), 0); /* checksrc: allow */
    r = verify_log("unit", vkey);
    assert_false(json_is_true(json_object_get(r, "ok")));
    json_decref(r);
    a = open_log(pem, &rc);
    assert_int_equal(rc, GW_EIO);
    assert_null(a);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir_);
    assert_int_equal(system(cmd), 0); /* checksrc: allow */
    gw_free(pem);
}

/* Size of the one .open segment of the test log and the length of its data (up to the first
 * NUL byte); -1 when there is none. */
static long long open_segment(long long *data_len)
{
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "ls %s/unit/segments/*.jsonl.open 2>/dev/null", tmpdir_);
    FILE *p = popen(cmd, "r"); /* checksrc: allow */
    char path[600] = "";
    if (!p || !fgets(path, sizeof(path), p))
        path[0] = '\0';
    if (p)
        pclose(p);
    path[strcspn(path, "\n")] = '\0';
    FILE *f = path[0] ? fopen(path, "rb") : NULL;
    if (!f)
        return -1;
    long long n = 0, data = -1;
    int ch;
    while ((ch = fgetc(f)) != EOF) {
        if (ch == 0 && data < 0)
            data = n;
        n++;
    }
    fclose(f);
    *data_len = data < 0 ? n : data;
    return n;
}

/* Under fdatasync the open segment is zero-filled ahead of its records (so that commits do
 * not change its size): readers stop at the zeros, a crash image with them recovers without
 * losing or inventing a record, a torn record inside them is dropped, and closing the segment
 * cuts them off. */
static void test_prefilled_segment(void **state)
{
    (void)state;
    log_sync = GW_AUDIT_SYNC_FDATASYNC;
    log_segment_max = 64u << 20;
    char vkey[300], *pem;
    struct gw_audit *a = new_log(vkey, &pem, 5, "prefill");
    long long data = 0, size = open_segment(&data);
    assert_true(size >= (long long)AUDIT_PREFILL); /* zeros written ahead */
    assert_true(data > 0 && data < 4096);           /* header and five records */
    json_decref(assert_verifies(vkey, 5));          /* read while open: stops at the zeros */

    /* a crash image: the directory as it is now, the writer still running */
    char cmd[1400];
    snprintf(cmd, sizeof(cmd), "cp -a %s/unit %s/crash", tmpdir_, tmpdir_);
    assert_int_equal(system(cmd), 0); /* checksrc: allow */
    gw_audit_close(a);
    assert_int_equal(open_segment(&data), -1); /* closed */
    snprintf(cmd, sizeof(cmd),
             "f=$(ls %s/unit/segments/*.jsonl) && ! tr -d '\\000' < \"$f\" | cmp -s - \"$f\" "
             "&& exit 1; rm -rf %s/unit && mv %s/crash %s/unit",
             tmpdir_, tmpdir_, tmpdir_, tmpdir_);
    assert_int_equal(system(cmd), 0); /* checksrc: allow: closed segment has no NUL */

    /* a torn record written into the zeros of the crash image */
    long long before = 0;
    assert_true(open_segment(&before) >= (long long)AUDIT_PREFILL);
    snprintf(cmd, sizeof(cmd),
             "f=$(ls %s/unit/segments/*.jsonl.open) && printf '{\"event\":{\"i\":99' | "
             "dd of=\"$f\" bs=1 seek=%lld conv=notrunc status=none",
             tmpdir_, before);
    assert_int_equal(system(cmd), 0); /* checksrc: allow */
    json_t *r = assert_verifies(vkey, 5);
    char *notes = json_dumps(json_object_get(r, "notes"), 0);
    assert_non_null(strstr(notes, "torn record"));
    free(notes); /* checksrc: allow */
    json_decref(r);
    /* an export copies the open segment up to its last whole record: no zeros, no torn line */
    char logdir[400], outdir[400];
    snprintf(logdir, sizeof(logdir), "%s/unit", tmpdir_);
    snprintf(outdir, sizeof(outdir), "%s/export", tmpdir_);
    uint64_t nseg = 0;
    struct gw_error err = {0};
    assert_int_equal(gw_audit_export_dir(logdir, outdir, &nseg, &err), GW_OK);
    assert_int_equal(nseg, 1);
    /* never mixed with an earlier export */
    assert_int_equal(gw_audit_export_dir(logdir, outdir, &nseg, &err), GW_ECONFLICT);
    r = assert_verifies_in("export/unit", vkey, 5);
    notes = json_dumps(json_object_get(r, "notes"), 0);
    assert_null(strstr(notes, "torn record"));
    free(notes); /* checksrc: allow */
    json_decref(r);
    snprintf(cmd, sizeof(cmd),
             "f=$(ls %s/export/unit/segments/*.jsonl.open) && tr -d '\\000' < \"$f\" | "
             "cmp -s - \"$f\" && ! grep -q '\"i\":99' \"$f\" && test -s %s/export/unit/checkpoint",
             tmpdir_, tmpdir_);
    assert_int_equal(system(cmd), 0); /* checksrc: allow: no NUL, no torn record */
    /* recovery drops the torn record and the zeros, and the log goes on from record 5 */
    append_one(pem, "{\"i\":5}");
    json_decref(assert_verifies(vkey, 6));
    snprintf(cmd, sizeof(cmd), "! grep -rq '\"i\":99' %s/unit/segments && rm -rf %s", tmpdir_,
             tmpdir_);
    assert_int_equal(system(cmd), 0); /* checksrc: allow */
    gw_free(pem);
    log_sync = GW_AUDIT_SYNC_WRITE;
    log_segment_max = 600;
}

/* ---- search: in order, newest first, skipping segments ------------------------------------ */

struct seqs {
    uint64_t v[256];
    size_t n;
    size_t stop_after; /* 0: never */
};

static bool take_seq(void *ud, uint64_t seq, const char *line, size_t len, const json_t *ev)
{
    (void)line;
    (void)len;
    (void)ev;
    struct seqs *s = ud;
    if (s->n < 256)
        s->v[s->n++] = seq;
    return !s->stop_after || s->n < s->stop_after;
}

static bool odd_i(void *ud, const json_t *ev)
{
    (void)ud;
    return json_integer_value(json_object_get(ev, "i")) % 2 == 1;
}

/* `big`: one open segment of ~200 KB (read backwards in several pieces) with one record of
 * ~150 KB among the others (a line longer than a piece); else ~20 small segments. */
static void search_order(bool big)
{
    char vkey[300], *pem;
    log_segment_max = big ? 64u << 20 : 600;
    log_sync = big ? GW_AUDIT_SYNC_FDATASYNC : GW_AUDIT_SYNC_WRITE; /* fdatasync: zeros ahead */
    struct gw_audit *a = new_log(vkey, &pem, big ? 30 : 60, "s");
    if (big) {
        size_t n = 150000;
        char *ev = gw_xmalloc(n + 64);
        int k = snprintf(ev, 64, "{\"i\":30,\"kind\":\"s\",\"pad\":\"");
        memset(ev + k, 'x', n);
        memcpy(ev + k + n, "\"}", 3);
        assert_int_equal(gw_audit_append_sync(a, ev, strlen(ev), NULL), GW_OK);
        gw_free(ev);
        for (int i = 31; i < 60; i++) {
            char e[96];
            int m = snprintf(e, sizeof(e), "{\"i\":%d,\"kind\":\"s\"}", i);
            assert_int_equal(gw_audit_append_sync(a, e, (size_t)m, NULL), GW_OK);
        }
    }
    char dir[400];
    snprintf(dir, sizeof(dir), "%s/unit", tmpdir_);
    struct gw_error err = {0};
    struct audit_seg *segs = NULL;
    size_t nseg = 0;
    assert_int_equal(gw_audit__list_segments(dir, &segs, &nseg, &err), GW_OK);
    assert_true(big ? nseg == 1 && segs[0].open : nseg >= 5);
    gw_free(segs);
    for (int filtered = 0; filtered < 2; filtered++) {
        struct gw_audit_query q = {0};
        q.limit = 1000;
        if (filtered)
            q.accept = odd_i;
        struct seqs all = {0};
        long n = gw_audit_search_dir(dir, &q, take_seq, &all, &err);
        assert_int_equal(n, filtered ? 30 : 60);
        /* newest first, in pages of every size and from every cursor: the reverse, exactly */
        for (size_t limit = 1; limit <= 7; limit++) {
            struct seqs back = {0};
            bool has_before = false;
            uint64_t before = 0;
            for (int page = 0; page < 100; page++) {
                struct gw_audit_query d = q;
                d.newest_first = true;
                d.limit = limit;
                d.has_before = has_before;
                d.before = before;
                struct seqs p = {0};
                long got = gw_audit_search_dir(dir, &d, take_seq, &p, &err);
                assert_int_equal(got, (long)p.n);
                assert_true(p.n <= limit);
                for (size_t i = 0; i < p.n; i++)
                    back.v[back.n++] = p.v[i];
                if (p.n < limit)
                    break;
                has_before = true;
                before = p.v[p.n - 1];
            }
            assert_int_equal(back.n, all.n);
            for (size_t i = 0; i < all.n; i++)
                assert_int_equal(back.v[i], all.v[all.n - 1 - i]);
        }
        /* the callback stops it */
        struct gw_audit_query d = q;
        d.newest_first = true;
        struct seqs p = {.stop_after = 3};
        assert_int_equal(gw_audit_search_dir(dir, &d, take_seq, &p, &err), 3);
        assert_int_equal(p.v[0], all.v[all.n - 1]);
    }
    /* one record by its number: the segments before it are skipped, the answer is the same */
    for (uint64_t want = 0; want < 60; want += 7) {
        struct gw_audit_query q = {0};
        q.from_seq = want;
        q.limit = 1;
        struct seqs p = {0};
        assert_int_equal(gw_audit_search_dir(dir, &q, take_seq, &p, &err), 1);
        assert_int_equal(p.v[0], want);
    }
    gw_audit_close(a);
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir_);
    assert_int_equal(system(cmd), 0); /* checksrc: allow */
    gw_free(pem);
    log_segment_max = 600;
    log_sync = GW_AUDIT_SYNC_WRITE;
}

static void test_search_order(void **state)
{
    (void)state;
    search_order(false);
    search_order(true); /* the open segment, written ahead with zeros, read while open */
}

/* ---- proofs through the index ------------------------------------------------------------- */

struct leafarr {
    gw_hash *h;
    size_t n, cap;
};

static bool take_leaf(void *ud, uint64_t seq, const gw_hash leaf)
{
    struct leafarr *a = ud;
    assert_int_equal(seq, a->n);
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 1024;
        a->h = gw_xrealloc(a->h, a->cap * sizeof(gw_hash));
    }
    memcpy(a->h[a->n++], leaf, GW_HASH_LEN);
    return true;
}

static json_t *b64_hash(const gw_hash h)
{
    char b[AUDIT_B64_HASH];
    gw_note_b64(h, GW_HASH_LEN, b);
    return json_string(b);
}

/* The proofs the reader gives (through the index, once built) equal those computed from every
 * leaf, for records and sizes across the index's levels. */
static void check_proofs(const char *dir, uint64_t latest)
{
    struct leafarr a = {0};
    struct gw_error err = {0};
    assert_int_equal(gw_audit__leaves_from(dir, 0, take_leaf, &a, &err), GW_OK);
    assert_true(a.n >= latest);
    uint64_t seqs[] = {0, 1, 255, 256, 257, 511, 777, latest / 2, latest - 2, latest - 1};
    for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
        uint64_t seq = seqs[i];
        if (seq >= latest)
            continue;
        json_t *p = gw_audit_inclusion_dir(dir, seq, 0, &err);
        if (!p)
            fail_msg("inclusion %llu: %s", (unsigned long long)seq, err.msg);
        gw_hash proof[GW_MERKLE_MAX_PROOF], root;
        int np = gw_merkle_inclusion_proof((const gw_hash *)a.h, latest, seq, proof);
        gw_merkle_root((const gw_hash *)a.h, latest, root);
        json_t *want = json_array();
        for (int k = 0; k < np; k++)
            json_array_append_new(want, b64_hash(proof[k]));
        if (!json_equal(json_object_get(p, "proof"), want))
            fail_msg("tree %llu, record %llu: the proofs differ", (unsigned long long)latest,
                     (unsigned long long)seq);
        json_t *r = b64_hash(root), *l = b64_hash(a.h[seq]);
        assert_true(json_equal(json_object_get(p, "root"), r));
        assert_true(json_equal(json_object_get(p, "leaf_hash"), l));
        json_decref(r);
        json_decref(l);
        json_decref(want);
        json_decref(p);
    }
    uint64_t firsts[] = {1, 3, 256, 300, 1024, latest / 3, latest - 1};
    for (size_t i = 0; i < sizeof(firsts) / sizeof(firsts[0]); i++) {
        uint64_t m = firsts[i];
        if (m == 0 || m > latest)
            continue;
        json_t *p = gw_audit_consistency_dir(dir, m, 0, &err);
        if (!p)
            fail_msg("consistency %llu: %s", (unsigned long long)m, err.msg);
        gw_hash proof[GW_MERKLE_MAX_PROOF];
        int np = gw_merkle_consistency_proof((const gw_hash *)a.h, m, latest, proof);
        json_t *want = json_array();
        for (int k = 0; k < np; k++)
            json_array_append_new(want, b64_hash(proof[k]));
        assert_true(json_equal(json_object_get(p, "proof"), want));
        json_decref(want);
        json_decref(p);
    }
    gw_free(a.h);
}

static long long file_size(const char *dir, const char *name)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* Level 1 of the index holds the root of every 256 leaves of level 0 (what the writer fed
 * from its tree's merges is what the leaves give). */
static void assert_level1_matches(const char *dir)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/index/L0", dir);
    FILE *f0 = fopen(path, "rb");
    snprintf(path, sizeof(path), "%s/index/L1", dir);
    FILE *f1 = fopen(path, "rb");
    assert_non_null(f0);
    assert_non_null(f1);
    gw_hash block[256], want, got;
    size_t blocks = 0;
    while (fread(block, sizeof(block), 1, f0) == 1) {
        gw_merkle_root((const gw_hash *)block, 256, want);
        assert_int_equal(fread(got, sizeof(got), 1, f1), 1);
        assert_memory_equal(got, want, sizeof(want));
        blocks++;
    }
    assert_int_equal(fread(got, sizeof(got), 1, f1), 0);
    assert_true(blocks > 0);
    fclose(f0);
    fclose(f1);
}

static void test_proof_index(void **state)
{
    (void)state;
    log_segment_max = 64u << 10; /* a few hundred records per segment */
    char vkey[300], *pem;
    struct gw_audit *a = new_log(vkey, &pem, 1300, "ix");
    char dir[400];
    snprintf(dir, sizeof(dir), "%s/unit", tmpdir_);
    gw_audit_close(a); /* signs a checkpoint at 1300 */
    /* fed by the writer at each checkpoint (every 3 records here), before any proof asks */
    assert_int_equal(file_size(dir, "index/L0"), 1300 * 32);
    assert_int_equal(file_size(dir, "index/L1"), 5 * 32);
    assert_level1_matches(dir);
    check_proofs(dir, 1300);
    /* built: every leaf and the roots of the five complete 256-leaf subtrees */
    assert_int_equal(file_size(dir, "index/L0"), 1300 * 32);
    assert_int_equal(file_size(dir, "index/L1"), 5 * 32);
    /* grows with the log, from where it stopped; while a proof holds the index the writer
     * does not wait for it: it keeps the leaves and feeds them at a later checkpoint */
    int rc;
    a = open_log(pem, &rc);
    assert_int_equal(rc, GW_OK);
    char lockp[450];
    snprintf(lockp, sizeof(lockp), "%s/index/lock", dir);
    int held = open(lockp, O_RDWR | O_CLOEXEC);
    assert_true(held >= 0);
    assert_int_equal(flock(held, LOCK_EX), 0);
    append_events(a, 297, "ix2");
    assert_int_equal(file_size(dir, "index/L0"), 1300 * 32);
    close(held);
    append_events(a, 3, "ix3");
    gw_audit_close(a); /* the checkpoint at 1600 feeds all of them */
    assert_int_equal(file_size(dir, "index/L0"), 1600 * 32);
    assert_level1_matches(dir);
    assert_int_equal(file_size(dir, "index/L1"), 6 * 32);
    check_proofs(dir, 1600);
    assert_int_equal(file_size(dir, "index/L0"), 1600 * 32);
    assert_int_equal(file_size(dir, "index/L1"), 6 * 32);
    /* an index behind the log (emptied here) is not fed over the gap: the next proof
     * extends it from the records, and the writer's feed goes on from there */
    char cmd[1000];
    snprintf(cmd, sizeof(cmd), "truncate -s 0 %s/index/L0 %s/index/L1", dir, dir);
    assert_int_equal(system(cmd), 0); /* checksrc: allow */
    a = open_log(pem, &rc);
    assert_int_equal(rc, GW_OK);
    append_events(a, 30, "ix4");
    assert_int_equal(file_size(dir, "index/L0"), 0);
    gw_audit_close(a);
    check_proofs(dir, 1630);
    assert_int_equal(file_size(dir, "index/L0"), 1630 * 32);
    a = open_log(pem, &rc);
    assert_int_equal(rc, GW_OK);
    append_events(a, 30, "ix5");
    gw_audit_close(a);
    assert_int_equal(file_size(dir, "index/L0"), 1660 * 32);
    check_proofs(dir, 1660);
    /* a damaged index disagrees with the checkpoint: not used (the proofs stay right), emptied,
     * and rebuilt by the next proof */
    snprintf(cmd, sizeof(cmd),
             "printf 'XXXXXXXXXXXXXXXX' | dd of=%s/index/L0 bs=1 seek=4000 conv=notrunc "
             "2>/dev/null",
             dir);
    assert_int_equal(system(cmd), 0); /* checksrc: allow */
    check_proofs(dir, 1660);
    assert_int_equal(file_size(dir, "index/L0"), 1660 * 32);
    /* an index cut short (a crash between writes) is repaired and extended */
    snprintf(cmd, sizeof(cmd), "truncate -s 1000 %s/index/L0", dir);
    assert_int_equal(system(cmd), 0); /* checksrc: allow */
    check_proofs(dir, 1660);
    assert_int_equal(file_size(dir, "index/L0"), 1660 * 32);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir_);
    assert_int_equal(system(cmd), 0); /* checksrc: allow */
    gw_free(pem);
    log_segment_max = 600;
}

/* ---- the segment writer (the export from the database, the salvage's rebuild) ------------ */

#define SEGW_LINE 100000 /* bytes of each test record line (without its newline) */

/* Appends records [from, to) to w, each a line of SEGW_LINE bytes. */
static void segw_rows(struct audit_seg_writer *w, uint64_t from, uint64_t to)
{
    static char line[SEGW_LINE];
    memset(line, 'r', sizeof(line));
    for (uint64_t s = from; s < to; s++)
        assert_int_equal(gw_audit__seg_writer_append(w, s, line, sizeof(line), NULL), GW_OK);
}

static void test_seg_writer(void **state)
{
    (void)state;
    char dir[64] = "/tmp/gw-audit-segw-XXXXXX", nodir[96];
    assert_non_null(mkdtemp(dir));
    struct audit_seg_writer w;
    struct gw_error err = {0};
    const long long hdr = 8, rec = SEGW_LINE + 1; /* {"h":1} and a record, with newlines */
    /* atomic (the export): the temporary file takes the text by the MiB, nothing stands under
     * the segment's name before the end */
    assert_int_equal(gw_audit__seg_writer_open(&w, dir, 7, true, "{\"h\":1}", 7, &err), GW_OK);
    segw_rows(&w, 7, 17); /* 10 lines: under 1 MiB held */
    assert_true(hdr + 10 * rec < AUDIT_SEG_WRITER_FLUSH);
    assert_int_equal(file_size(dir, ".00000000000000000007.jsonl.tmp"), 0);
    segw_rows(&w, 17, 18); /* the 11th passes it: written out */
    assert_true(hdr + 11 * rec >= AUDIT_SEG_WRITER_FLUSH);
    assert_int_equal(file_size(dir, ".00000000000000000007.jsonl.tmp"), hdr + 11 * rec);
    assert_int_equal(file_size(dir, "00000000000000000007.jsonl"), -1);
    /* a record missing is refused (nothing appended), the next one taken */
    assert_int_equal(gw_audit__seg_writer_append(&w, 19, "y", 1, &err), GW_ECONFLICT);
    assert_string_equal(err.msg, "the database lacks record 18");
    assert_int_equal(gw_audit__seg_writer_append(&w, 18, "x", 1, &err), GW_OK);
    assert_int_equal(w.next, 19);
    assert_int_equal(gw_audit__seg_writer_close(&w, GW_OK, &err), GW_OK);
    assert_int_equal(file_size(dir, ".00000000000000000007.jsonl.tmp"), -1);
    assert_int_equal(file_size(dir, "00000000000000000007.jsonl"), hdr + 11 * rec + 2);
    char path[200], *data = NULL;
    size_t n = 0;
    snprintf(path, sizeof(path), "%s/00000000000000000007.jsonl", dir);
    assert_int_equal(gw_audit__read_file(path, 1u << 24, &data, &n, &err), GW_OK);
    assert_memory_equal(data, "{\"h\":1}\nrrr", 11);
    assert_memory_equal(data + hdr + SEGW_LINE, "\nr", 2);
    assert_memory_equal(data + n - 4, "r\nx\n", 4);
    gw_free(data);
    /* atomic, ended by the caller's error: nothing of it stays, the error is the caller's */
    assert_int_equal(gw_audit__seg_writer_open(&w, dir, 20, true, "{\"h\":1}", 7, &err), GW_OK);
    segw_rows(&w, 20, 31);
    assert_int_equal(file_size(dir, ".00000000000000000020.jsonl.tmp"), hdr + 11 * rec);
    GW_ERROR_SET(&err, GW_EIO, "the caller's");
    assert_int_equal(gw_audit__seg_writer_close(&w, GW_EIO, &err), GW_EIO);
    assert_string_equal(err.msg, "the caller's");
    assert_int_equal(file_size(dir, ".00000000000000000020.jsonl.tmp"), -1);
    assert_int_equal(file_size(dir, "00000000000000000020.jsonl"), -1);
    /* in place (the salvage): written under its name as it goes, left as it is on an error
     * (the text still held is not written) */
    assert_int_equal(gw_audit__seg_writer_open(&w, dir, 40, false, "{\"h\":1}", 7, &err), GW_OK);
    segw_rows(&w, 40, 52);
    assert_int_equal(file_size(dir, "00000000000000000040.jsonl"), hdr + 11 * rec);
    assert_int_equal(gw_audit__seg_writer_close(&w, GW_ECONFLICT, &err), GW_ECONFLICT);
    assert_int_equal(file_size(dir, "00000000000000000040.jsonl"), hdr + 11 * rec);
    assert_int_equal(gw_audit__seg_writer_open(&w, dir, 60, false, "{\"h\":1}", 7, &err), GW_OK);
    assert_int_equal(gw_audit__seg_writer_append(&w, 60, "x", 1, &err), GW_OK);
    assert_int_equal(gw_audit__seg_writer_close(&w, GW_OK, &err), GW_OK);
    assert_int_equal(file_size(dir, "00000000000000000060.jsonl"), hdr + 2);
    /* a folder that is not there: nothing to close */
    snprintf(nodir, sizeof(nodir), "%s/nope", dir);
    assert_int_equal(gw_audit__seg_writer_open(&w, nodir, 0, true, "{}", 2, &err), GW_EIO);
    assert_non_null(strstr(err.msg, "nope/.00000000000000000000.jsonl.tmp"));
    assert_int_equal(gw_audit__seg_writer_open(&w, nodir, 0, false, "{}", 2, &err), GW_EIO);
    assert_non_null(strstr(err.msg, "cannot create"));
    char cmd[120];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0); /* checksrc: allow */
}

/* ---- checkpoint files (GW_AUDIT_LOCAL_CHECKPOINTS) ----------------------------------------- */

static void test_checkpoint_redundant(void **state)
{
    (void)state;
    /* closed segments [0,10) and [10,20), the open one from 20 */
    struct audit_seg segs[3] = {{.first = 0}, {.first = 10}, {.first = 20, .open = true}};
    const uint64_t cps[] = {0, 3, 10, 13, 20, 25};
    assert_true(gw_audit__checkpoint_redundant(3, segs, 3, cps, 6));
    assert_true(gw_audit__checkpoint_redundant(13, segs, 3, cps, 6));
    assert_false(gw_audit__checkpoint_redundant(0, segs, 3, cps, 6));  /* boundaries stay */
    assert_false(gw_audit__checkpoint_redundant(10, segs, 3, cps, 6));
    assert_false(gw_audit__checkpoint_redundant(20, segs, 3, cps, 6));
    assert_false(gw_audit__checkpoint_redundant(25, segs, 3, cps, 6)); /* the open segment */
    /* no checkpoint at the end of [10,20) (a crash before it was signed): 13 stays */
    const uint64_t partial[] = {0, 3, 10, 13, 25};
    assert_false(gw_audit__checkpoint_redundant(13, segs, 3, partial, 5));
    assert_true(gw_audit__checkpoint_redundant(3, segs, 3, partial, 5));
    /* older segments removed after archiving: what lies before the first one present stays */
    assert_false(gw_audit__checkpoint_redundant(7, segs + 1, 2, cps, 6));
    assert_false(gw_audit__checkpoint_redundant(5, segs, 0, cps, 6));
}

/* Checks the checkpoint files of the test log: with `thinned`, every one is at a segment
 * boundary or inside the open segment; either way, every closed segment's end has one.
 * Returns how many there are and, in *inside, how many lie inside closed segments. */
static size_t check_checkpoint_files(bool thinned, size_t *inside)
{
    char logdir[400];
    snprintf(logdir, sizeof(logdir), "%s/unit", tmpdir_);
    struct audit_seg *segs = NULL;
    uint64_t *cps = NULL;
    size_t nseg = 0, ncp = 0;
    assert_int_equal(gw_audit__list_segments(logdir, &segs, &nseg, NULL), GW_OK);
    assert_int_equal(gw_audit__list_checkpoints(logdir, &cps, &ncp, NULL), GW_OK);
    assert_true(nseg >= 3); /* rotations happened */
    *inside = 0;
    for (size_t i = 0; i < ncp; i++) {
        bool boundary = false;
        for (size_t k = 0; k < nseg; k++)
            boundary |= segs[k].first == cps[i];
        if (!boundary && cps[i] < segs[nseg - 1].first)
            (*inside)++;
    }
    for (size_t k = 1; k < nseg; k++) { /* the end of closed segment k-1 */
        bool found = false;
        for (size_t i = 0; i < ncp; i++)
            found |= cps[i] == segs[k].first;
        assert_true(found);
    }
    if (thinned)
        assert_int_equal(*inside, 0);
    gw_free(segs);
    gw_free(cps);
    return ncp;
}

static void test_checkpoint_thinning(void **state)
{
    (void)state;
    char vkey[300], *pem;
    /* everything kept (GW_AUDIT_LOCAL_CHECKPOINTS=all): checkpoints inside closed segments */
    log_keep_all_checkpoints = true;
    struct gw_audit *a = new_log(vkey, &pem, 40, "thin");
    gw_audit_close(a);
    size_t inside = 0, all = check_checkpoint_files(false, &inside);
    assert_true(inside > 0);
    json_decref(assert_verifies(vkey, 40));

    /* the default: the next open removes what lies inside closed segments, and nothing else */
    log_keep_all_checkpoints = false;
    int rc;
    a = open_log(pem, &rc);
    assert_int_equal(rc, GW_OK);
    size_t before = inside, left = all;
    for (int i = 0; i < 500 && left != all - before; i++) { /* a background pass: up to 5 s */
        usleep(10000);
        left = check_checkpoint_files(false, &inside);
    }
    assert_int_equal(check_checkpoint_files(true, &inside), all - before);
    /* and each rotation removes those of the segment it closes */
    append_events(a, 40, "thin2");
    gw_audit_close(a);
    left = check_checkpoint_files(true, &inside);
    json_t *r = assert_verifies(vkey, 80);
    assert_int_equal(json_integer_value(json_object_get(r, "checkpoints")), (long long)left);
    json_decref(r);
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir_);
    assert_int_equal(system(cmd), 0); /* checksrc: allow */
    gw_free(pem);
}

/* The merged list's cursor (an untrusted query parameter): what parses, what does not, and
 * that a formatted position reads back as itself. */
static void test_pos_cursor(void **state)
{
    (void)state;
    struct gw_audit_pos p;
    assert_true(gw_audit_pos_parse("2026-12-07T10:00:00.123Z~mcp-server-7f9c.a_b~42", &p));
    assert_string_equal(p.ts, "2026-12-07T10:00:00.123Z");
    assert_string_equal(p.log_id, "mcp-server-7f9c.a_b");
    assert_int_equal(p.seq, 42);
    char out[200];
    gw_audit_pos_format(&p, out, sizeof(out));
    assert_string_equal(out, "2026-12-07T10:00:00.123Z~mcp-server-7f9c.a_b~42");
    struct gw_audit_pos q;
    assert_true(gw_audit_pos_parse(out, &q));
    assert_memory_equal(&p, &q, sizeof(p));
    char long_log[100];
    memset(long_log, 'a', 65);
    snprintf(long_log + 65, sizeof(long_log) - 65, "~1");
    char long_ts[100];
    memset(long_ts, '1', 45);
    snprintf(long_ts + 45, sizeof(long_ts) - 45, "~l~1");
    char with_log[120];
    snprintf(with_log, sizeof(with_log), "2026~%s", long_log);
    static const char *const bad[] = {
        "", "~", "~~", "42", "2026~log", "2026~~1", "~log~1", "2026~log~", "2026~log~x",
        "2026~log~-1", "2026~log~99999999999999999999", "2026~..~1", "2026~a/b~1",
        "2026~a b~1", "2026 ~log~1", "2026';--~log~1", "2026~log~1~2"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(gw_audit_pos_parse(bad[i], &p));
    assert_false(gw_audit_pos_parse(with_log, &p)); /* a log id of 65 characters */
    assert_false(gw_audit_pos_parse(long_ts, &p));  /* a time longer than any event's */
}

/* The console's decision of an event (its SQL twin is checked against PostgreSQL in
 * tests/integration/74-audit-pg.test.mjs). */
static void test_decision(void **state)
{
    (void)state;
    static const struct {
        const char *event, *want;
    } cases[] = {
        {"{\"kind\":\"admin\",\"outcome\":\"refused\"}", "admin"},
        {"{\"kind\":\"transport\"}", "reject"},
        {"{\"kind\":\"tool_call\",\"outcome\":\"refused\"}", "deny"},
        {"{\"decisions\":[{\"verdict\":\"allow\"},{\"verdict\":\"dry_run_deny\"}]}",
         "dry_run_deny"},
        {"{\"decisions\":[{\"verdict\":\"dry_run_deny\"},{\"verdict\":\"error\"},"
         "{\"verdict\":\"deny\"}]}",
         "error"},
        {"{\"decisions\":[{\"verdict\":\"deny\"},{\"verdict\":\"error\"}]}", "deny"},
        {"{\"decisions\":[{\"verdict\":7},{\"reason\":\"x\"}]}", "allow"},
        {"{}", "allow"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *ev = json_loads(cases[i].event, 0, NULL);
        assert_non_null(ev);
        assert_string_equal(gw_audit_decision(ev), cases[i].want);
        json_decref(ev);
    }
}

/* A verification summary sealed for one log: believed for that log with a key of the
 * deployment, "unverified" (saying why) for anything else. */
static void test_verification_seal(void **state)
{
    (void)state;
    struct gw_note_signer *s = NULL, *s2 = NULL;
    char *pem = NULL, *pem2 = NULL;
    struct gw_error err = {0};
    assert_int_equal(gw_note_signer_generate("deploy/audit", &s, &pem, &err), GW_OK);
    assert_int_equal(gw_note_signer_generate("deploy/audit", &s2, &pem2, &err), GW_OK);
    struct gw_note_verifier *v = NULL;
    assert_int_equal(gw_note_verifier_new(gw_note_signer_vkey(s), &v, &err), GW_OK);
    json_t *sum = json_pack("{s:s,s:i,s:s,s:s,s:i}", "status", "ok", "verifiedThrough", 1200,
                            "checkedAt", "2026-12-08T01:00:00Z", "by", "pod-a", "run", 3);
    json_t *sealed = gw_audit_verification_seal(sum, "pod-b", s, &err);
    assert_non_null(sealed);
    const char *note = gw_json_str(sealed, "note");
    assert_non_null(note);
    assert_true(strncmp(note, "mcpgw audit verification\npod-b\n{\"by\":\"pod-a\",", 45) == 0);
    assert_null(strstr(note, "\"run\"")); /* a per-process number is not signed */
    /* believed: what the seal signs, with the key's name */
    json_t *o = gw_audit_verification_open(sealed, "pod-b", &v, 1);
    assert_string_equal(gw_json_str(o, "status"), "ok");
    assert_int_equal(json_integer_value(json_object_get(o, "verifiedThrough")), 1200);
    assert_string_equal(gw_json_str(o, "by"), "pod-a");
    assert_string_equal(gw_json_str(o, "signedBy"), "deploy/audit");
    assert_null(json_object_get(o, "note"));
    json_decref(o);
    /* the members outside the seal say nothing */
    json_t *edited = json_deep_copy(sealed);
    json_object_set_new(edited, "verifiedThrough", json_integer(5));
    o = gw_audit_verification_open(edited, "pod-b", &v, 1);
    assert_int_equal(json_integer_value(json_object_get(o, "verifiedThrough")), 1200);
    json_decref(o);
    /* another log; another key of the same name; no key; an edited body; no seal */
    struct {
        const char *log;
        struct gw_note_verifier *const *vs;
        size_t nvs;
        const char *edit_from, *edit_to; /* in the note */
        bool drop_note;
        const char *why;
    } cases[] = {
        {"pod-c", &v, 1, NULL, NULL, false, "signed for log pod-b"},
        {"pod-b", NULL, 0, NULL, NULL, false, "no audit key of this deployment"},
        {"pod-b", &v, 1, "1200", "9999", false, "no audit key of this deployment"},
        {"pod-b", &v, 1, "\n\n", "\n", false, "not a signed note"},
        {"pod-b", &v, 1, NULL, NULL, true, "carries no signature"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *k = json_deep_copy(sealed);
        if (cases[i].drop_note)
            json_object_del(k, "note");
        if (cases[i].edit_from) {
            char t[4096];
            const char *at = strstr(note, cases[i].edit_from);
            assert_non_null(at);
            snprintf(t, sizeof(t), "%.*s%s%s", (int)(at - note), note, cases[i].edit_to,
                     at + strlen(cases[i].edit_from));
            json_object_set_new(k, "note", json_string(t));
        }
        o = gw_audit_verification_open(k, cases[i].log, cases[i].vs, cases[i].nvs);
        assert_string_equal(gw_json_str(o, "status"), "unverified");
        assert_string_equal(gw_json_str(o, "claimed"), "ok");
        assert_null(json_object_get(o, "checkedAt"));
        assert_non_null(strstr(gw_json_str(o, "error"), cases[i].why));
        assert_non_null(strstr(gw_json_str(o, "error"), "verify the log again"));
        json_decref(o);
        json_decref(k);
    }
    /* a key that signs something else than a summary: not believed either */
    struct gw_buf b;
    gw_buf_init(&b, 8192);
    const char *empty = "mcpgw audit verification\npod-b\n{}\n";
    assert_int_equal(gw_note_sign(s, empty, strlen(empty), &b), GW_OK);
    json_t *k = json_pack("{s:s,s:s}", "status", "ok", "note", gw_buf_ptr(&b));
    o = gw_audit_verification_open(k, "pod-b", &v, 1);
    assert_string_equal(gw_json_str(o, "status"), "unverified");
    assert_non_null(strstr(gw_json_str(o, "error"), "signs no summary"));
    json_decref(o);
    json_decref(k);
    gw_buf_reset(&b);
    assert_int_equal(gw_note_sign(s, "a checkpoint\n1\nroot\n", 20, &b), GW_OK);
    k = json_pack("{s:s}", "note", gw_buf_ptr(&b));
    o = gw_audit_verification_open(k, "pod-b", &v, 1);
    assert_non_null(strstr(gw_json_str(o, "error"), "signs something else"));
    assert_null(json_object_get(o, "claimed"));
    json_decref(o);
    json_decref(k);
    /* what cannot be sealed: a log id with a newline, a body over the limit */
    assert_null(gw_audit_verification_seal(sum, "a\nb", s, &err));
    char big[5000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    json_object_set_new(sum, "error", json_string(big));
    assert_null(gw_audit_verification_seal(sum, "pod-b", s, &err));
    assert_int_equal(err.code, GW_ELIMIT);
    assert_null(gw_audit_verification_open(NULL, "pod-b", &v, 1));
    /* the generic note: a body must be lines of text */
    assert_int_equal(gw_note_sign(s, "no newline", 10, &b), GW_EINVAL);
    assert_int_equal(gw_note_sign(s, "a\n\nb\n", 5, &b), GW_EINVAL);
    assert_int_equal(gw_note_sign(s, "", 0, &b), GW_EINVAL);
    gw_buf_fini(&b);
    json_decref(sum);
    json_decref(sealed);
    json_decref(edited);
    gw_note_verifier_free(v);
    gw_note_signer_free(s);
    gw_note_signer_free(s2);
    gw_free(pem);
    gw_free(pem2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jcs_numbers),   cmocka_unit_test(test_jcs_objects),
        cmocka_unit_test(test_jcs_string_near_limit),
        cmocka_unit_test(test_merkle_vectors), cmocka_unit_test(test_merkle_proofs),
        cmocka_unit_test(test_merkle_tail),
        cmocka_unit_test(test_merkle_range_sub),
        cmocka_unit_test(test_notes),         cmocka_unit_test(test_writer),
        cmocka_unit_test(test_prefilled_segment),
        cmocka_unit_test(test_search_order),
        cmocka_unit_test(test_proof_index),
        cmocka_unit_test(test_seg_writer),
        cmocka_unit_test(test_checkpoint_redundant),
        cmocka_unit_test(test_checkpoint_thinning),
        cmocka_unit_test(test_pos_cursor),
        cmocka_unit_test(test_decision),
        cmocka_unit_test(test_verification_seal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
