/*
 * tests/fuzz/fuzz_audit_read.c
 * Fuzz target for what `mcpgw audit verify` reads from an archive (untrusted files): a signed
 * checkpoint note, a segment header, a verifier key (and the same text as the admin API's
 * merged-list cursor, gw_audit_pos_parse), a kept verification summary and its seal (what a
 * log folder or the database copy holds: audit_verification.h), and a whole segment file
 * verified by gw_audit_verify_dir. The input is split at the first 0x00 byte: before it a
 * note / header / key / summary text, after it a segment body, read as a closed segment and
 * then as the open one.
 * Invariants: no crash or over-read; a random note never verifies against the fixed key
 * (nobody can forge a checkpoint), nor does a random summary's seal (nobody can make a console
 * believe a verification); a random closed log never "ok"; the newest-first search
 * (the segment read backwards) finds the in-order search's records, reversed.
 */
#include "audit/audit_internal.h"
#include "audit/audit_read.h"
#include "audit/audit_verification.h"
#include "core/json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct gw_note_verifier *vk;

#define MAX_SEQS 4096
struct seqs {
    uint64_t v[MAX_SEQS];
    size_t n;
};

static bool take(void *ud, uint64_t seq, const char *line, size_t len, const json_t *ev)
{
    (void)line;
    (void)len;
    (void)ev;
    struct seqs *s = ud;
    if (s->n < MAX_SEQS)
        s->v[s->n++] = seq;
    return true;
}
static char dir[64];

static void cleanup(void)
{
    char p[128];
    snprintf(p, sizeof(p), "%s/log/segments", dir);
    rmdir(p);
    snprintf(p, sizeof(p), "%s/log", dir);
    rmdir(p);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!vk) {
        struct gw_note_signer *s = NULL;
        char *pem = NULL;
        if (gw_note_signer_generate("fuzz/log", &s, &pem, NULL) != GW_OK ||
            gw_note_verifier_new(gw_note_signer_vkey(s), &vk, NULL) != GW_OK)
            abort();
        gw_note_signer_free(s);
        free(pem); /* checksrc: allow (gw_free is free) */
        snprintf(dir, sizeof(dir), "/tmp/fuzz-audit-%d", (int)getpid());
        atexit(cleanup);
    }
    const uint8_t *z = memchr(data, 0, size);
    size_t n1 = z ? (size_t)(z - data) : size;
    struct gw_checkpoint cp;
    int rc = gw_note_open_checkpoint((const char *)data, n1, &vk, 1, &cp, NULL);
    if (rc == GW_OK)
        abort(); /* forged */
    /* as a kept summary, and as the seal of one */
    json_t *kept = gw_audit_verification_parse((const char *)data, n1);
    json_t *opened = gw_audit_verification_open(kept, "fuzz", &vk, 1);
    if (kept && strcmp(gw_json_str(opened, "status"), "unverified") != 0)
        abort(); /* believed without the key's signature */
    json_decref(opened);
    json_decref(kept);
    json_t *note = json_stringn((const char *)data, n1); /* NULL unless valid UTF-8 */
    if (note) {
        kept = json_pack("{s:s,s:o}", "status", "ok", "note", note);
        opened = gw_audit_verification_open(kept, "fuzz", &vk, 1);
        if (strcmp(gw_json_str(opened, "status"), "unverified") != 0)
            abort();
        json_decref(opened);
        json_decref(kept);
    }
    struct audit_seg_header h;
    gw_audit__parse_header((const char *)data, n1, &h, NULL);
    char key[300];
    size_t kn = n1 < sizeof(key) - 1 ? n1 : sizeof(key) - 1;
    memcpy(key, data, kn);
    key[kn] = '\0';
    struct gw_note_verifier *v = NULL;
    if (gw_note_verifier_new(key, &v, NULL) == GW_OK)
        gw_note_verifier_free(v);
    /* the same text as the merged audit list's cursor (a query parameter): what parses writes
     * back as a cursor that parses to the same position */
    struct gw_audit_pos pos, again;
    if (gw_audit_pos_parse(key, &pos)) {
        char back[200];
        gw_audit_pos_format(&pos, back, sizeof(back));
        if (!gw_audit_pos_parse(back, &again) || memcmp(&pos, &again, sizeof(pos)) != 0)
            abort();
    }
    if (z) {
        char segdir[128], path[200];
        snprintf(segdir, sizeof(segdir), "%s/log/segments", dir);
        gw_audit__mkdirs(segdir, NULL);
        snprintf(path, sizeof(path), "%s/00000000000000000000.jsonl", segdir);
        FILE *f = fopen(path, "wb");
        if (!f)
            abort();
        fwrite(z + 1, 1, size - n1 - 1, f);
        fclose(f);
        char logdir[100];
        snprintf(logdir, sizeof(logdir), "%s/log", dir);
        json_t *r = gw_audit_verify_dir(logdir, &vk, 1);
        if (json_is_true(json_object_get(r, "ok")))
            abort(); /* no checkpoint signed by the key: never ok */
        json_decref(r);
        /* newest first (the segment read backwards) is the in-order search reversed */
        struct seqs fwd = {{0}, 0}, back = {{0}, 0};
        struct gw_audit_query q;
        memset(&q, 0, sizeof(q));
        q.limit = MAX_SEQS;
        gw_audit_search_dir(logdir, &q, take, &fwd, NULL);
        q.newest_first = true;
        gw_audit_search_dir(logdir, &q, take, &back, NULL);
        if (fwd.n != back.n)
            abort();
        for (size_t i = 0; i < fwd.n; i++)
            if (fwd.v[i] != back.v[fwd.n - 1 - i])
                abort();
        /* the same bytes as the open segment, whose data ends at its first NUL (the writer
         * zero-fills ahead of its records): an unsigned tail may verify, so no crash is all */
        char open_path[220];
        snprintf(open_path, sizeof(open_path), "%s.open", path);
        if (rename(path, open_path) == 0) {
            json_decref(gw_audit_verify_dir(logdir, &vk, 1));
            unlink(open_path);
        }
        unlink(path);
    }
    return 0;
}
