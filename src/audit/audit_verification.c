/*
 * src/audit/audit_verification.c
 * Verification summaries: read, sealed with a signed note, and opened (audit_verification.h).
 */
#include "audit/audit_verification.h"

#include "core/buf.h"
#include "core/json.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEAD "mcpgw audit verification"

json_t *gw_audit_verification_parse(const char *text, size_t len)
{
    if (len > GW_AUDIT_VERIFICATION_MAX)
        return NULL;
    json_t *s = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    const json_t *st = json_object_get(s, "status");
    const char *sv = json_string_value(st);
    if (!json_is_object(s) || !sv || (strcmp(sv, "ok") && strcmp(sv, "broken")) ||
        !json_is_integer(json_object_get(s, "verifiedThrough")) ||
        !json_is_string(json_object_get(s, "checkedAt"))) {
        json_decref(s);
        return NULL;
    }
    json_object_del(s, "run"); /* run numbers count one process's verifications */
    return s;
}

/* The summary as signed: without the members that are not part of it. */
static json_t *signed_part(const json_t *summary)
{
    json_t *c = json_deep_copy(summary);
    json_object_del(c, "run");
    json_object_del(c, "note");
    json_object_del(c, "signedBy");
    return c;
}

json_t *gw_audit_verification_seal(const json_t *summary, const char *log_id,
                                   const struct gw_note_signer *s, struct gw_error *err)
{
    if (!json_is_object(summary) || !log_id || !*log_id || strpbrk(log_id, "\r\n")) {
        GW_ERROR_SET(err, GW_EINVAL, "a verification summary of a named log is sealed");
        return NULL;
    }
    json_t *c = signed_part(summary);
    char *js = c ? json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS) : NULL; /* no newline in it */
    struct gw_buf body, note;
    gw_buf_init(&body, GW_NOTE_BODY_MAX);
    gw_buf_init(&note, GW_NOTE_MAX);
    int rc = js ? gw_buf_printf(&body, HEAD "\n%s\n%s\n", log_id, js) : GW_ENOMEM;
    free(js); /* checksrc: allow (jansson's allocation) */
    if (rc == GW_OK)
        rc = gw_note_sign(s, gw_buf_ptr(&body), gw_buf_len(&body), &note);
    if (rc == GW_OK)
        rc = json_object_set_new(c, "note", json_stringn(gw_buf_ptr(&note), gw_buf_len(&note)))
                 ? GW_ENOMEM
                 : GW_OK;
    gw_buf_fini(&body);
    gw_buf_fini(&note);
    if (rc != GW_OK) {
        GW_ERROR_SET(err, rc, "the verification summary cannot be sealed (%s)",
                     rc == GW_EIO ? "the signature failed" : "too long");
        json_decref(c);
        return NULL;
    }
    return c;
}

/* Why a summary is not believed: {"status":"unverified","claimed","error"}. */
static json_t *unverified(const json_t *kept, const char *why)
{
    const char *claimed = gw_json_str(kept, "status");
    json_t *u = json_object();
    json_object_set_new(u, "status", json_string("unverified"));
    if (claimed && (!strcmp(claimed, "ok") || !strcmp(claimed, "broken")))
        json_object_set_new(u, "claimed", json_string(claimed));
    json_object_set_new(u, "error", json_string(why));
    return u;
}

json_t *gw_audit_verification_open(const json_t *kept, const char *log_id,
                                   struct gw_note_verifier *const *vs, size_t nvs)
{
    if (!kept)
        return NULL;
    static const char again[] = "; verify the log again to know";
    char why[512];
    const json_t *nj = json_object_get(kept, "note");
    const char *text = json_string_value(nj);
    size_t n = json_string_length(nj);
    struct gw_note note;
    struct gw_error err = {0};
    int rc = text ? gw_note_open(text, n, vs, nvs, &note, &err) : GW_EINVAL;
    if (!text) {
        snprintf(why, sizeof(why), "the stored outcome carries no signature (kept by an earlier "
                                   "version, or written by someone else)%s", again);
        return unverified(kept, why);
    }
    if (rc == GW_EDENIED) {
        snprintf(why, sizeof(why), "no audit key of this deployment signed the stored outcome "
                                   "(GW_AUDIT_SIGNING_KEY, GW_AUDIT_PREVIOUS_KEYS)%s", again);
        return unverified(kept, why);
    }
    if (rc != GW_OK) {
        snprintf(why, sizeof(why), "the stored outcome's signature is not a signed note: %.200s%s",
                 err.msg, again);
        return unverified(kept, why);
    }
    /* the body: the head, the log, the summary */
    const char *l1 = memchr(text, '\n', note.body_len);
    const char *l2 = l1 ? memchr(l1 + 1, '\n', note.body_len - (size_t)(l1 + 1 - text)) : NULL;
    const char *l3 = l2 ? memchr(l2 + 1, '\n', note.body_len - (size_t)(l2 + 1 - text)) : NULL;
    bool head = l1 && (size_t)(l1 - text) == sizeof(HEAD) - 1 &&
                !memcmp(text, HEAD, sizeof(HEAD) - 1);
    if (!head || !l3 || (size_t)(l3 + 1 - text) != note.body_len) {
        snprintf(why, sizeof(why), "the stored outcome's signature signs something else%s",
                 again);
        return unverified(kept, why);
    }
    size_t ll = (size_t)(l2 - l1 - 1);
    if (ll != strlen(log_id) || memcmp(l1 + 1, log_id, ll) != 0) {
        snprintf(why, sizeof(why), "the stored outcome was signed for log %.*s, not this one%s",
                 (int)(ll < 128 ? ll : 128), l1 + 1, again);
        return unverified(kept, why);
    }
    json_t *s = gw_audit_verification_parse(l2 + 1, (size_t)(l3 - l2 - 1));
    if (!s) {
        snprintf(why, sizeof(why), "the stored outcome's signature signs no summary%s", again);
        return unverified(kept, why);
    }
    json_object_set_new(s, "signedBy", json_string(note.signers[0]));
    return s;
}
