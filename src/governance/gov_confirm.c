/*
 * src/governance/gov_confirm.c
 * Confirmation bound to the exact call: the user, not the model, says yes.
 *
 *   legacy revisions, client declared elicitation:
 *       elicitation/create (a form with one boolean "confirm", the call described in words)
 *       on the call's own stream; the call waits (GW_AGAIN) and resumes with the answer:
 *       accept + confirm=true -> allowed; decline, cancel or confirm=false -> a tool error
 *       ("the user declined; nothing was done"); no answer -> refused.
 *   2026-07-28, client declared elicitation:
 *       first round: an input_required result with that form and a sealed requestState
 *       {principal binding, tool, SHA-256 of the canonical arguments, expiry, consent id};
 *       second round (the same call with requestState + inputResponses.confirm): the state must
 *       open (HMAC, any replica), match this principal, tool and arguments, be unexpired and
 *       unused (the consent id is spent: single use), and the answer must accept.
 *   a client that cannot ask: the call becomes a pending APPROVAL (database) that a person
 *       approves or denies in the admin console; the answer is -32006 naming the approval, and
 *       the client repeats the exact call with _meta "io.msil/approval": "<id>" once approved:
 *       the approval is spent atomically (single use on every replica) if it matches this
 *       principal, tool and arguments. Without a database: -32006 only; nothing is done.
 *       A janitor thread deletes approvals GW_APPROVAL_RETENTION_DAYS after they expired.
 * An argument the model sets (confirm: true, _meta flags) is never consent: only the client's
 * elicitation answer counts, and in 2026-07-28 only together with a state the gateway sealed.
 * A consent id is spent through src/kv (gw_kv_once): with Redis a SET NX shared by every
 * replica, so a consent cannot be replayed on another one (Redis down: refused, fail closed);
 * without Redis an in-process register.
 */
#include "governance/gov_internal.h"

#include "core/alloc.h"
#include "core/clock.h"
#include "store/store_approval.h"
#include "store/store_janitor.h"
#include "core/json.h"
#include "core/log.h"
#include "kv/kv.h"
#include "mcp/mcp_exchange.h"
#include "mcp/mcp_jsonrpc.h"
#include "mcp/mcp_session.h"

#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- the call in words */

static void digest_of(const json_t *args, char out[65])
{
    char *canon = json_dumps(args ? args : json_object(), JSON_COMPACT | JSON_SORT_KEYS);
    unsigned char md[32];
    SHA256((const unsigned char *)(canon ? canon : ""), canon ? strlen(canon) : 0, md);
    gw_free(canon);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* "Confirm create_booking: dealer_id=MSIL-PUNE-001, date=2026-03-03, time=10:00?" */
static void describe(const char *tool, const json_t *args, const char *why, char *out,
                     size_t size)
{
    size_t n = (size_t)snprintf(out, size, "%s\n\nDo you want %s to run with: ", why, tool);
    const char *k;
    json_t *v;
    bool first = true;
    json_object_foreach((json_t *)args, k, v)
    {
        if (n + 8 >= size)
            break;
        char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        n += (size_t)snprintf(out + n, size - n, "%s%s=%.60s", first ? "" : ", ", k,
                              t ? t : "?");
        gw_free(t);
        first = false;
    }
    if (first && n + 16 < size)
        n += (size_t)snprintf(out + n, size - n, "(no arguments)");
    if (n + 2 < size)
        snprintf(out + n, size - n, "?");
}

static json_t *elicitation(const char *message)
{
    return json_pack("{s:s,s:{s:s,s:{s:s,s:{s:{s:s,s:s,s:s}},s:[s]}}}", "method",
                     "elicitation/create", "params", "message", message, "requestedSchema",
                     "type", "object", "properties", "confirm", "type", "boolean", "title",
                     "Confirm", "description", "Yes: do it. No: nothing is done.", "required",
                     "confirm");
}

/* Whether an elicitation answer ({"action","content":{"confirm"}}) is a yes. */
static bool accepted(const json_t *answer)
{
    const char *action = json_string_value(json_object_get(answer, "action"));
    return action && !strcmp(action, "accept") &&
           json_is_true(json_object_get(json_object_get(answer, "content"), "confirm"));
}

static void declined(struct gw_phase_verdict *v, const char *tool)
{
    snprintf(v->reason, sizeof(v->reason),
             "The user declined %s; nothing was done. Do not retry unless the user asks again.",
             tool);
    snprintf(v->rule_id, sizeof(v->rule_id), "confirmation");
    v->jsonrpc_code = 0; /* a tool result the agent reads, not a protocol error */
}

/* ---------------------------------------------------------------- legacy: elicitation */

struct ask {
    struct gw_gov *g;
    struct gw_call *c;
    char rule[GW_RULE_ID_MAX + 1];
    char version[48];
    char id[40];
};

static void on_answer(struct gw_mcp_exchange *x, json_t *result, json_t *error, void *arg)
{
    (void)x;
    struct ask *a = arg;
    struct gw_phase_verdict v;
    memset(&v, 0, sizeof(v));
    snprintf(v.policy_version, sizeof(v.policy_version), "%s", a->version);
    int rc;
    if (result && accepted(result)) {
        atomic_fetch_add(&a->g->accepted, 1);
        gw_ctx_set_confirmation(gw_call_ctx(a->c), a->id);
        snprintf(v.rule_id, sizeof(v.rule_id), "%s", a->rule);
        snprintf(v.reason, sizeof(v.reason), "confirmed by the user (%s)", a->id);
        rc = GW_OK;
    } else if (result) {
        atomic_fetch_add(&a->g->declined, 1);
        declined(&v, gw_call_tool(a->c)->name);
        rc = GW_EDENIED;
    } else {
        atomic_fetch_add(&a->g->refused, 1);
        snprintf(v.reason, sizeof(v.reason), "the user's confirmation could not be obtained%s%s; "
                 "nothing was done",
                 error ? ": " : "",
                 error ? gw_json_str(error, "message") ? gw_json_str(error, "message") : "error"
                       : "");
        snprintf(v.rule_id, sizeof(v.rule_id), "confirmation");
        v.jsonrpc_code = GW_GATEWAY_CONFIRMATION_REQUIRED;
        rc = GW_EDENIED;
    }
    struct gw_call *c = a->c;
    gw_free(a);
    gw_call_resume(c, rc, &v);
}

/* ---------------------------------------------------------------- 2026-07-28: MRTR */

/* The end of a second round once the consent id is spent (rc GW_OK), was spent before
 * (GW_ECONFLICT) or could not be checked (anything else). */
static int second_round_end(struct gw_gov *g, struct gw_call *c, int spent, const char *id,
                            bool accept, struct gw_phase_verdict *v)
{
    const char *why = spent == GW_OK          ? NULL
                      : spent == GW_ECONFLICT ? "this confirmation was already used"
                                              : "the confirmation could not be checked (shared "
                                                "state unavailable)";
    if (why) {
        atomic_fetch_add(&g->refused, 1);
        snprintf(v->reason, sizeof(v->reason), "%s: ask the user again (call without "
                                               "requestState)", why);
        snprintf(v->rule_id, sizeof(v->rule_id), "confirmation");
        v->jsonrpc_code = GW_GATEWAY_CONFIRMATION_INVALID;
        return GW_EDENIED;
    }
    gw_ctx_set_confirmation(gw_call_ctx(c), id);
    if (!accept) {
        atomic_fetch_add(&g->declined, 1);
        declined(v, gw_call_tool(c)->name);
        return GW_EDENIED;
    }
    atomic_fetch_add(&g->accepted, 1);
    snprintf(v->rule_id, sizeof(v->rule_id), "confirmation");
    return GW_OK;
}

struct spend {
    struct gw_gov *g;
    struct gw_call *c;
    char id[40];
    char version[48];
    bool accept;
};

static void on_spent(void *arg, int rc) /* the call's loop: Redis answered (or failed) */
{
    struct spend *sp = arg;
    struct gw_phase_verdict v;
    memset(&v, 0, sizeof(v));
    snprintf(v.policy_version, sizeof(v.policy_version), "%s", sp->version);
    struct gw_call *c = sp->c;
    rc = second_round_end(sp->g, c, rc, sp->id, sp->accept, &v);
    gw_free(sp);
    gw_call_resume(c, rc, &v);
}

static int second_round(struct gw_gov *g, struct gw_call *c, const char *sealed,
                        const char *binding, const char *digest, const char *version,
                        struct gw_phase_verdict *v)
{
    struct gw_mcp_exchange *x = gw_call_exchange(c);
    const char *tool = gw_call_tool(c)->name;
    json_t *st = gw_mcp_x_unseal(x, sealed);
    const char *why = NULL;
    int64_t expires = json_integer_value(json_object_get(st, "e"));
    if (!st || strcmp(gw_json_str(st, "k") ? gw_json_str(st, "k") : "", "confirm") != 0)
        why = "the confirmation state was altered or forged";
    else if (strcmp(gw_json_str(st, "p") ? gw_json_str(st, "p") : "", binding) != 0)
        why = "the confirmation was given to another principal";
    else if (strcmp(gw_json_str(st, "t") ? gw_json_str(st, "t") : "", tool) != 0 ||
             strcmp(gw_json_str(st, "d") ? gw_json_str(st, "d") : "", digest) != 0)
        why = "the confirmation was for another call (tool or arguments changed)";
    else if (expires < gw_clock_now())
        why = "the confirmation has expired";
    const char *id = gw_json_str(st, "n");
    if (!why && (!id || strlen(id) > 39))
        why = "the confirmation state has no id";
    snprintf(v->policy_version, sizeof(v->policy_version), "%s", version);
    if (why) {
        atomic_fetch_add(&g->refused, 1);
        snprintf(v->reason, sizeof(v->reason), "%s: ask the user again (call without "
                                               "requestState)", why);
        snprintf(v->rule_id, sizeof(v->rule_id), "confirmation");
        v->jsonrpc_code = GW_GATEWAY_CONFIRMATION_INVALID;
        json_decref(st);
        return GW_EDENIED;
    }
    struct spend *sp = gw_xcalloc(1, sizeof(*sp));
    sp->g = g;
    sp->c = c;
    snprintf(sp->id, sizeof(sp->id), "%s", id);
    snprintf(sp->version, sizeof(sp->version), "%s", version);
    sp->accept = accepted(
        json_object_get(json_object_get(gw_mcp_x_params(x), "inputResponses"), "confirm"));
    json_decref(st);
    /* spent until a minute past its expiry: a replay after that fails as expired anyway */
    char key[64];
    snprintf(key, sizeof(key), "consent:%s", sp->id);
    int64_t ttl_s = expires - gw_clock_now() + 60;
    int rc = gw_kv_once(g->kv, gw_ctx_loop(gw_call_ctx(c)), key,
                        (uint64_t)(ttl_s > 0 ? ttl_s : 60) * 1000u, on_spent, sp);
    if (rc == GW_AGAIN)
        return GW_AGAIN; /* on_spent resumes the call */
    rc = second_round_end(g, c, rc, sp->id, sp->accept, v);
    gw_free(sp);
    return rc;
}

/* ---------------------------------------------------------------- approvals */

static void close_store(void *p)
{
    gw_store_close(p);
}

void gw_gov__approvals_init(struct gw_gov *g)
{
    if (!g->store_url)
        return;
    pthread_key_create(&g->store_key, close_store);
    g->pool = gw_pool_new(1, 1000);
}

/* Approvals that expired GW_APPROVAL_RETENTION_DAYS ago leave the database: they hold the
 * call's arguments for the approver (personal data, kept no longer than needed); the audit
 * trail keeps the request, the decision and the use. */
void gw_gov__approvals_start_janitor(struct gw_gov *g)
{
    if (!g->pool || g->janitor)
        return;
    char what[96];
    snprintf(what, sizeof(what), "approvals that expired more than %d days ago",
             g->approval_retention_days);
    g->janitor = gw_store_janitor_start(g->store_url, what, gw_store_approval_purge,
                                        g->approval_retention_days, 3600);
}

void gw_gov__approvals_fini(struct gw_gov *g)
{
    gw_store_janitor_stop(g->janitor);
    g->janitor = NULL;
    if (!g->pool)
        return;
    gw_pool_free(g->pool); /* the thread exits: its store handle closes (key destructor) */
    g->pool = NULL;
    pthread_key_delete(g->store_key);
}

struct apr_job {
    struct gw_gov *g;
    struct gw_call *c;
    bool use;              /* spend `id` (else: request an approval) */
    char id[48];
    char binding[40], tool[72], digest[65], subject[260], client[260], risk[16];
    char reason[256], rule[GW_RULE_ID_MAX + 1], version[48];
    json_t *args;
    /* results, made on the pool thread */
    int rc;
    char message[GW_ERROR_MSG_MAX];
    json_t *approval;
};

static struct gw_store *pool_store(struct gw_gov *g, struct gw_error *err)
{
    struct gw_store *st = pthread_getspecific(g->store_key);
    if (!st && gw_store_open(g->store_url, NULL, &st, err) == GW_OK)
        pthread_setspecific(g->store_key, st);
    return st;
}

static void apr_work(void *arg)
{
    struct apr_job *j = arg;
    struct gw_error err = {0};
    char now[32], exp[32];
    gw_clock_iso(gw_clock_now(), now, sizeof(now));
    struct gw_store *st = pool_store(j->g, &err);
    if (!st) {
        j->rc = GW_EIO;
    } else if (j->use) {
        j->rc = gw_store_approval_use(st, j->id, j->binding, j->tool, j->digest, now, &err);
    } else {
        gw_clock_iso(gw_clock_now() + j->g->approval_ttl_s, exp, sizeof(exp));
        json_t *a = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:O,s:s,s:s}", "id", j->id,
                              "binding", j->binding, "subject", j->subject, "client_id",
                              j->client, "tool", j->tool, "risk", j->risk, "args_digest",
                              j->digest, "arguments", j->args, "reason", j->reason, "expires_at",
                              exp);
        j->rc = gw_store_approval_request(st, a, now, &j->approval, &err);
        json_decref(a);
    }
    if (j->rc == GW_EIO && st) { /* a broken connection: reopen next time */
        pthread_setspecific(j->g->store_key, NULL);
        gw_store_close(st);
    }
    snprintf(j->message, sizeof(j->message), "%s", err.msg);
}

static void apr_done(void *arg)
{
    struct apr_job *j = arg;
    struct gw_phase_verdict v;
    memset(&v, 0, sizeof(v));
    snprintf(v.policy_version, sizeof(v.policy_version), "%s", j->version);
    snprintf(v.rule_id, sizeof(v.rule_id), "%s", j->rule);
    int rc = GW_EDENIED;
    if (j->use && j->rc == GW_OK) {
        atomic_fetch_add(&j->g->accepted, 1);
        gw_ctx_set_confirmation(gw_call_ctx(j->c), j->id);
        snprintf(v.reason, sizeof(v.reason), "approved (%s)", j->id);
        rc = GW_OK;
    } else if (j->use) {
        atomic_fetch_add(&j->g->refused, 1);
        snprintf(v.reason, sizeof(v.reason), "%.250s",
                 j->rc == GW_EIO ? "the approval could not be checked now; try again shortly"
                                 : j->message);
        v.jsonrpc_code = GW_GATEWAY_CONFIRMATION_INVALID;
    } else if (j->rc == GW_OK) {
        const char *id = gw_json_str(j->approval, "id");
        snprintf(v.reason, sizeof(v.reason),
                 "%.64s needs a person's approval (this client cannot ask the user): approval "
                 "%.40s is waiting; nothing was done",
                 j->tool, id ? id : "?");
        v.jsonrpc_code = GW_GATEWAY_CONFIRMATION_REQUIRED;
        char hint[400];
        snprintf(hint, sizeof(hint),
                 "tell the user what you were about to do; once an approver approves %s in the "
                 "admin console, call again with the same arguments and _meta "
                 "{\"io.msil/approval\": \"%s\"}",
                 id ? id : "?", id ? id : "?");
        v.data = json_pack("{s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s}}", "reason", v.reason, "rule",
                           j->rule, "policyVersion", j->version, "hint", hint, "approval", "id",
                           id ? id : "", "status", gw_json_str(j->approval, "status"),
                           "expiresAt", gw_json_str(j->approval, "expires_at"));
    } else {
        snprintf(v.reason, sizeof(v.reason),
                 "%.64s needs the user's confirmation and this client cannot ask for it; no "
                 "approval could be requested (%.60s); nothing was done",
                 j->tool, j->message);
        v.jsonrpc_code = GW_GATEWAY_CONFIRMATION_REQUIRED;
    }
    struct gw_call *c = j->c;
    json_decref(j->args);
    json_decref(j->approval);
    gw_free(j);
    gw_call_resume(c, rc, &v);
}

/* A client that cannot ask the user: request or spend an approval (asynchronously). */
static int approval_flow(struct gw_gov *g, struct gw_call *c, const struct gw_authz_result *r,
                         const char *binding, const char *digest, const char *policy_version,
                         struct gw_phase_verdict *v)
{
    struct gw_mcp_exchange *x = gw_call_exchange(c);
    const char *use = gw_json_str(json_object_get(gw_mcp_x_params(x), "_meta"),
                                  "io.msil/approval");
    const struct gw_principal *p = gw_call_principal(c);
    struct apr_job *j = gw_xcalloc(1, sizeof(*j));
    j->g = g;
    j->c = c;
    j->use = use != NULL;
    if (use)
        snprintf(j->id, sizeof(j->id), "%.40s", use);
    else {
        unsigned char rnd[12];
        RAND_bytes(rnd, sizeof(rnd));
        snprintf(j->id, sizeof(j->id), "apr-");
        for (int i = 0; i < 12; i++)
            snprintf(j->id + 4 + 2 * i, 3, "%02x", rnd[i]);
    }
    snprintf(j->binding, sizeof(j->binding), "%s", binding);
    snprintf(j->tool, sizeof(j->tool), "%s", gw_call_tool(c)->name);
    snprintf(j->digest, sizeof(j->digest), "%s", digest);
    snprintf(j->subject, sizeof(j->subject), "%s", p->subject);
    snprintf(j->client, sizeof(j->client), "%s", p->client_id);
    snprintf(j->risk, sizeof(j->risk), "%s", gw_ctx_risk(gw_call_ctx(c)));
    snprintf(j->reason, sizeof(j->reason), "%s", r->reason);
    snprintf(j->rule, sizeof(j->rule), "%s", v->rule_id);
    snprintf(j->version, sizeof(j->version), "%s", policy_version);
    j->args = json_deep_copy(gw_call_args(c));
    if (gw_pool_submit(g->pool, apr_work, apr_done, j, gw_ctx_loop(gw_call_ctx(c))) != GW_OK) {
        json_decref(j->args);
        gw_free(j);
        snprintf(v->reason, sizeof(v->reason), "the approvals queue is full; try again shortly");
        v->jsonrpc_code = GW_GATEWAY_CONFIRMATION_REQUIRED;
        return GW_EDENIED;
    }
    return GW_AGAIN;
}

/* ---------------------------------------------------------------- entry */

int gw_gov__confirm(struct gw_gov *g, struct gw_call *c, const struct gw_authz_result *r,
                    const char *policy_version, struct gw_phase_verdict *v)
{
    struct gw_mcp_exchange *x = gw_call_exchange(c);
    const struct gw_principal *p = gw_call_principal(c);
    const char *tool = gw_call_tool(c)->name;
    char digest[65];
    digest_of(gw_call_args(c), digest);
    const char *binding = p->binding;
    snprintf(v->policy_version, sizeof(v->policy_version), "%s", policy_version);
    snprintf(v->rule_id, sizeof(v->rule_id), "%s", r->rule_id[0] ? r->rule_id : "tool-flag");
    bool can_ask = (gw_mcp_x_client_caps(x) & GW_CAP_ELICITATION) != 0;

    if (gw_mcp_x_modern(x)) {
        const char *sealed = gw_json_str(gw_mcp_x_params(x), "requestState");
        if (sealed)
            return second_round(g, c, sealed, binding, digest, policy_version, v);
    }
    if (!can_ask && g->pool)
        return approval_flow(g, c, r, binding, digest, policy_version, v);
    if (!can_ask) {
        atomic_fetch_add(&g->refused, 1);
        snprintf(v->reason, sizeof(v->reason),
                 "%.64s needs the user's confirmation and this client cannot ask for it (no "
                 "elicitation capability); nothing was done",
                 tool);
        v->jsonrpc_code = GW_GATEWAY_CONFIRMATION_REQUIRED;
        v->data = json_pack("{s:s,s:s,s:s,s:s,s:s}", "reason", v->reason, "why", r->reason,
                            "rule", v->rule_id, "policyVersion", policy_version, "hint",
                            "tell the user what you were about to do and why; the call can "
                            "only proceed from a client that supports elicitation, where the "
                            "user answers the gateway's question directly");
        return GW_EDENIED;
    }
    unsigned char rnd[16];
    RAND_bytes(rnd, sizeof(rnd));
    char id[40];
    snprintf(id, sizeof(id), "cf-");
    for (int i = 0; i < 16; i++)
        snprintf(id + 3 + 2 * i, 3, "%02x", rnd[i]);
    char message[1024];
    describe(tool, gw_call_args(c), r->reason, message, sizeof(message));
    atomic_fetch_add(&g->asked, 1);
    snprintf(v->reason, sizeof(v->reason), "asked the user to confirm (%s)", id);

    if (gw_mcp_x_modern(x)) {
        json_t *state = json_pack("{s:s,s:s,s:s,s:s,s:I,s:s}", "k", "confirm", "p", binding, "t",
                                  tool, "d", digest, "e",
                                  (json_int_t)(gw_clock_now() + g->confirm_ttl_s), "n", id);
        char *sealed = gw_mcp_x_seal(x, state);
        json_decref(state);
        json_t *res = json_pack("{s:s,s:{s:o},s:s}", "resultType", "input_required",
                                "inputRequests", "confirm", elicitation(message), "requestState",
                                sealed ? sealed : "");
        gw_free(sealed);
        gw_mcp_reply(x, res);
        return GW_DECLINED; /* answered: the client calls again with the user's answer */
    }
    struct ask *a = gw_xcalloc(1, sizeof(*a));
    a->g = g;
    a->c = c;
    snprintf(a->rule, sizeof(a->rule), "%s", v->rule_id);
    snprintf(a->version, sizeof(a->version), "%s", policy_version);
    snprintf(a->id, sizeof(a->id), "%s", id);
    json_t *el = elicitation(message);
    json_t *params = json_incref(json_object_get(el, "params"));
    json_decref(el);
    if (gw_mcp_ask_client(x, "elicitation/create", params, on_answer, a) != GW_OK) {
        gw_free(a);
        snprintf(v->reason, sizeof(v->reason), "%s needs the user's confirmation and it could "
                                               "not be asked for; nothing was done", tool);
        v->jsonrpc_code = GW_GATEWAY_CONFIRMATION_REQUIRED;
        return GW_EDENIED;
    }
    return GW_AGAIN;
}
