/*
 * src/audit/audit_verification.h
 * The admin API's verification summaries as they are kept (beside a log, in its folder) and
 * shared (with the log, in the database copy): {"status":"ok"|"broken","verifiedThrough",
 * "checkedAt","error"?,"by"?} — and sealed, so that a summary is believed only when a key of
 * the deployment signed it: whoever can write a folder or the `audit_logs` table cannot make a
 * console show "ok" for a log nobody verified. The seal is a C2SP signed note (audit_note.h),
 * signed by the audit signing key of the replica that ran the verification, whose body is
 *
 *   mcpgw audit verification\n<log id>\n<the summary: compact JSON, keys sorted>\n
 *
 * so that it holds for one log only. What it cannot tell: a genuine older summary put back in
 * place of a newer one (its "checkedAt" says when it was true).
 * Pure: no I/O; thread-safe.
 */
#ifndef GW_AUDIT_VERIFICATION_H
#define GW_AUDIT_VERIFICATION_H

#include "audit/audit_note.h"
#include "core/err.h"

#include <jansson.h>
#include <stddef.h>

/* The longest verification summary kept (in a log's folder or the database), seal included. */
#define GW_AUDIT_VERIFICATION_MAX 4096
/* The longest "error" a summary carries (the first problem's detail, cut at a character). */
#define GW_AUDIT_VERIFICATION_ERROR_MAX 400

/* A verification summary as kept, its per-process "run" dropped, or NULL when `text` is not
 * one or is longer than GW_AUDIT_VERIFICATION_MAX: one reader for the file and the column. */
json_t *gw_audit_verification_parse(const char *text, size_t len);

/* `summary` sealed for `log_id` by `s`: a copy with "note" (the signed note) added (its "run",
 * "note" and "signedBy" are not part of what is signed). NULL with err (GW_EINVAL: a log id or
 * summary that cannot be sealed; GW_EIO: OpenSSL). */
json_t *gw_audit_verification_seal(const json_t *summary, const char *log_id,
                                   const struct gw_note_signer *s, struct gw_error *err);

/* What a kept or stored summary of `log_id` can be believed to say: the summary its seal signs
 * (with "signedBy", the key's name) when one of the verifiers checks the seal and it names this
 * log; otherwise {"status":"unverified","claimed":<the status it claims>,"error":<why, and
 * what would establish it>}. `kept` may be NULL (NULL is returned). New reference. */
json_t *gw_audit_verification_open(const json_t *kept, const char *log_id,
                                   struct gw_note_verifier *const *vs, size_t nvs);

#endif
