/*
 * src/audit/audit_note.h
 * Signed notes in the C2SP signed-note format (body, a blank line, then "— <key name>
 * <base64(key hash || signature)>" lines), signed with Ed25519 (OpenSSL): the log's checkpoints
 * (tlog-checkpoint, the body "<origin>\n<size>\n<base64 root>\n") and the admin API's sealed
 * verification summaries (audit_read.h).
 *
 * Keys: the signer is an Ed25519 private key in PEM (PKCS#8, as `openssl genpkey -algorithm
 * ed25519` writes it). Its key hash is the first 4 bytes of SHA-256(name || 0x0A || 0x01 ||
 * public key); its verifier key is the text "<name>+<8 hex key hash>+<base64(0x01 || public
 * key)>", what auditors are given (the well-known URL serves them). Rotation: a new key signs
 * from some checkpoint on; verifiers keep the old keys to check the older checkpoints.
 * Thread-safety: a signer or verifier is immutable after creation and may be shared.
 */
#ifndef GW_AUDIT_NOTE_H
#define GW_AUDIT_NOTE_H

#include "audit/audit_merkle.h"
#include "core/buf.h"
#include "core/err.h"

#include <stdbool.h>
#include <stdint.h>

#define GW_NOTE_NAME_MAX 128
#define GW_NOTE_VKEY_MAX 256
#define GW_NOTE_MAX_SIGS 8
#define GW_NOTE_MAX 8192      /* a whole note, signatures included */
#define GW_NOTE_BODY_MAX 4096 /* the body gw_note_sign takes */

struct gw_note_signer;
struct gw_note_verifier;

/* A signer from a PEM private key (`pem`, NUL-terminated) and a key name (no spaces, no '+').
 * GW_EINVAL with err for anything else. */
int gw_note_signer_new(const char *name, const char *pem, struct gw_note_signer **out,
                       struct gw_error *err);
/* Generates a new Ed25519 key; *pem_out (gw_free) receives its PEM. */
int gw_note_signer_generate(const char *name, struct gw_note_signer **out, char **pem_out,
                            struct gw_error *err);
void gw_note_signer_free(struct gw_note_signer *s);
/* "<name>+<hash>+<base64 key>" of the signer's public key. */
const char *gw_note_signer_vkey(const struct gw_note_signer *s);
const char *gw_note_signer_name(const struct gw_note_signer *s);

/* Parses a verifier key text. */
int gw_note_verifier_new(const char *vkey, struct gw_note_verifier **out, struct gw_error *err);
void gw_note_verifier_free(struct gw_note_verifier *v);
const char *gw_note_verifier_name(const struct gw_note_verifier *v);
uint32_t gw_note_verifier_hash(const struct gw_note_verifier *v);

/* Appends the signed note of body[0..n) to `out`: the body (lines of text, each ending in a
 * newline, none blank, at most GW_NOTE_BODY_MAX bytes, else GW_EINVAL), a blank line and the
 * signer's signature line. GW_EIO when OpenSSL fails. */
int gw_note_sign(const struct gw_note_signer *s, const char *body, size_t n,
                 struct gw_buf *out);

/* What gw_note_open found: the body is text[0..body_len) (ending in a newline). */
struct gw_note {
    size_t body_len;
    unsigned nsigs;          /* signature lines */
    char signers[GW_NOTE_MAX_SIGS][GW_NOTE_NAME_MAX]; /* names of the valid signatures */
    unsigned nvalid;
};

/* Parses text[0..n) as a signed note and checks its signatures against the verifiers
 * (signatures by unknown keys are ignored, as signed-note prescribes). GW_OK when at least one
 * verifies; GW_EDENIED when none does (note is still filled); GW_EINVAL (err says what) when
 * the text is not a signed note (or is longer than GW_NOTE_MAX). */
int gw_note_open(const char *text, size_t n, struct gw_note_verifier *const *vs, size_t nvs,
                 struct gw_note *note, struct gw_error *err);

/* Appends the signed checkpoint of (origin, size, root) to `out`. */
int gw_note_sign_checkpoint(const struct gw_note_signer *s, const char *origin, uint64_t size,
                            const gw_hash root, struct gw_buf *out);

/* A parsed checkpoint note. */
struct gw_checkpoint {
    char origin[256];
    uint64_t size;
    gw_hash root;
    unsigned nsigs;          /* signature lines */
    char signers[GW_NOTE_MAX_SIGS][GW_NOTE_NAME_MAX]; /* names of the valid signatures */
    unsigned nvalid;
};

/* Parses note text[0..n) as a checkpoint and checks its signatures against the verifiers
 * (signatures by unknown keys are ignored, as signed-note prescribes). GW_OK when the format is
 * right and at least one signature verifies; GW_EDENIED when none does (cp is still filled);
 * GW_EINVAL (err says what) when the text is not a signed checkpoint. */
int gw_note_open_checkpoint(const char *text, size_t n, struct gw_note_verifier *const *vs,
                            size_t nvs, struct gw_checkpoint *cp, struct gw_error *err);

/* Standard base64 (with padding) of data; out must hold 4*ceil(n/3)+1. */
void gw_note_b64(const unsigned char *data, size_t n, char *out);
/* Decodes standard base64; returns the length or -1. */
long gw_note_unb64(const char *s, size_t n, unsigned char *out, size_t out_size);

#endif
