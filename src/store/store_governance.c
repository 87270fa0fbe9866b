/*
 * src/store/store_governance.c
 * Rows of governance_rules (see store_governance.h). Every write bumps the registry version
 * inside its transaction, so replicas reload their rule sets when it commits.
 */
#include "store/store_governance.h"
#include "store/store_impl.h"

#include "core/alloc.h"
#include "core/json.h"

#include <string.h>

static bool valid_section(const char *s)
{
    return s && (!strcmp(s, "exposure") || !strcmp(s, "policies") || !strcmp(s, "roles"));
}

static int row_cb(void *ctx, const struct store_row *row)
{
    json_t *doc = ctx;
    if (row->n < 3 || !row->v[0] || !row->v[1] || !row->v[2])
        return GW_ERR;
    json_t *body = gw_store__parse(row->v[2], strlen(row->v[2]), NULL);
    if (!json_is_object(body)) {
        json_decref(body);
        return GW_OK; /* a corrupt row is skipped (the rule set reports the gap) */
    }
    if (!strcmp(row->v[0], "roles"))
        json_object_set_new(json_object_get(doc, "roles"), row->v[1], body);
    else
        json_array_append_new(json_object_get(doc, row->v[0]), body);
    return GW_OK;
}

int gw_store_governance_load(struct gw_store *st, json_t **out, struct gw_error *err)
{
    json_t *doc = json_pack("{s:[],s:[],s:{}}", "exposure", "policies", "roles");
    *out = NULL;
    int rc = gw_store__exec(st,
                            "SELECT section, id, body FROM governance_rules ORDER BY section, "
                            "position, id",
                            NULL, 0, row_cb, doc, NULL, err);
    if (rc != GW_OK) {
        json_decref(doc);
        return rc;
    }
    *out = doc;
    return GW_OK;
}

int gw_store_governance_put(struct gw_store *st, const char *section, const char *id,
                            const json_t *body, const struct gw_store_actor *who,
                            struct gw_error *err)
{
    if (!valid_section(section))
        return GW_ERROR_SET(err, GW_EINVAL, "section must be exposure, policies or roles");
    if (!id || !*id || strlen(id) > 128)
        return GW_ERROR_SET(err, GW_EINVAL, "a rule needs an id of 1-128 characters");
    if (!json_is_object(body))
        return GW_ERROR_SET(err, GW_EINVAL, "a rule must be a JSON object");
    char *text = gw_json_dumps(body);
    if (!text || strlen(text) > GW_STORE_RULE_MAX) {
        gw_free(text);
        return GW_ERROR_SET(err, GW_EINVAL, "a rule is larger than %u bytes", GW_STORE_RULE_MAX);
    }
    char now[32];
    gw_store__now(now, sizeof(now));
    long long changed = 0;
    int rc = gw_store__begin_write(st, NULL, err);
    if (rc == GW_OK) {
        struct store_param p[] = {SP_TEXT(section), SP_TEXT(id), SP_TEXT(text), SP_TEXT(now),
                                  SP_TEXT(gw_store__who(who))};
        rc = gw_store__exec(st,
                            "UPDATE governance_rules SET body = $3, updated_at = $4, updated_by "
                            "= $5 WHERE section = $1 AND id = $2",
                            p, 5, NULL, NULL, &changed, err);
        if (rc == GW_OK && changed == 0)
            rc = gw_store__exec(st,
                                "INSERT INTO governance_rules (section, id, position, body, "
                                "created_at, updated_at, updated_by) VALUES ($1, $2, (SELECT "
                                "COALESCE(MAX(position), 0) + 1 FROM governance_rules WHERE "
                                "section = $1), $3, $4, $4, $5)",
                                p, 5, NULL, NULL, NULL, err);
        if (rc == GW_OK)
            rc = gw_store__commit(st, err);
        else
            gw_store__rollback(st);
    }
    gw_free(text);
    return rc;
}

int gw_store_governance_delete(struct gw_store *st, const char *section, const char *id,
                               const struct gw_store_actor *who, struct gw_error *err)
{
    (void)who;
    if (!valid_section(section))
        return GW_ERROR_SET(err, GW_EINVAL, "section must be exposure, policies or roles");
    long long changed = 0;
    int rc = gw_store__begin_write(st, NULL, err);
    if (rc != GW_OK)
        return rc;
    struct store_param p[] = {SP_TEXT(section), SP_TEXT(id ? id : "")};
    rc = gw_store__exec(st, "DELETE FROM governance_rules WHERE section = $1 AND id = $2", p, 2,
                        NULL, NULL, &changed, err);
    if (rc == GW_OK && changed == 0)
        rc = GW_ERROR_SET(err, GW_ENOTFOUND, "no %s rule %s", section, id ? id : "");
    if (rc == GW_OK)
        rc = gw_store__commit(st, err);
    else
        gw_store__rollback(st);
    return rc;
}
