/*
 * src/policy/policy_logic.c
 * INTERIM minimal JSON Logic evaluator (see policy_logic.h); replaced by the full module.
 */
#include "policy/policy_logic.h"

#include "core/alloc.h"

#include <string.h>

struct gw_logic {
    json_t *rule;
};

int gw_logic_compile(const json_t *rule, struct gw_logic **out, struct gw_error *err)
{
    (void)err;
    *out = gw_xcalloc(1, sizeof(**out));
    (*out)->rule = json_deep_copy(rule);
    return GW_OK;
}

void gw_logic_free(struct gw_logic *l)
{
    if (!l)
        return;
    json_decref(l->rule);
    gw_free(l);
}

bool gw_logic_truthy(const json_t *v)
{
    if (!v || json_is_null(v) || json_is_false(v))
        return false;
    if (json_is_integer(v))
        return json_integer_value(v) != 0;
    if (json_is_real(v))
        return json_real_value(v) != 0;
    if (json_is_string(v))
        return json_string_length(v) != 0;
    if (json_is_array(v))
        return json_array_size(v) != 0;
    return true;
}

static json_t *eval(const json_t *r, const json_t *data, int depth);

static json_t *var(const json_t *path, const json_t *data)
{
    const char *p = json_string_value(json_is_array(path) ? json_array_get(path, 0) : path);
    if (!p || !*p)
        return json_incref((json_t *)data);
    const json_t *cur = data;
    char seg[128];
    while (cur && *p) {
        size_t n = strcspn(p, ".");
        if (n >= sizeof(seg))
            return json_null();
        memcpy(seg, p, n);
        seg[n] = '\0';
        cur = json_object_get(cur, seg);
        p += n;
        if (*p == '.')
            p++;
    }
    return cur ? json_incref((json_t *)cur) : json_null();
}

static int cmp(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b)) {
        double x = json_number_value(a), y = json_number_value(b);
        return x < y ? -1 : x > y;
    }
    if (json_is_string(a) && json_is_string(b))
        return strcmp(json_string_value(a), json_string_value(b));
    return 2;
}

static json_t *eval(const json_t *r, const json_t *data, int depth)
{
    if (depth > 32 || !json_is_object(r) || json_object_size(r) != 1)
        return json_deep_copy(r);
    const char *op = json_object_iter_key(json_object_iter((json_t *)r));
    json_t *a = json_object_iter_value(json_object_iter((json_t *)r));
    if (!strcmp(op, "var"))
        return var(a, data);
    json_t *args = json_is_array(a) ? a : NULL;
    json_t *v[2] = {NULL, NULL};
    json_t *res = NULL;
    if (!strcmp(op, "and") || !strcmp(op, "or")) {
        bool is_and = !strcmp(op, "and");
        size_t i;
        json_t *e;
        json_array_foreach(args, i, e)
        {
            json_decref(res);
            res = eval(e, data, depth + 1);
            if (gw_logic_truthy(res) != is_and)
                return res;
        }
        return res ? res : json_false();
    }
    if (!strcmp(op, "!")) {
        json_t *x = eval(args ? json_array_get(args, 0) : a, data, depth + 1);
        res = json_boolean(!gw_logic_truthy(x));
        json_decref(x);
        return res;
    }
    for (int i = 0; i < 2; i++)
        v[i] = args ? eval(json_array_get(args, (size_t)i), data, depth + 1) : json_null();
    if (!strcmp(op, "in")) {
        bool found = false;
        if (json_is_array(v[1])) {
            size_t i;
            json_t *e;
            json_array_foreach(v[1], i, e) found = found || json_equal(e, v[0]);
        } else if (json_is_string(v[1]) && json_is_string(v[0])) {
            found = strstr(json_string_value(v[1]), json_string_value(v[0])) != NULL;
        }
        res = json_boolean(found);
    } else if (!strcmp(op, "==") || !strcmp(op, "===")) {
        res = json_boolean(json_equal(v[0], v[1]));
    } else if (!strcmp(op, "!=") || !strcmp(op, "!==")) {
        res = json_boolean(!json_equal(v[0], v[1]));
    } else {
        int c = cmp(v[0], v[1]);
        res = c == 2                ? json_false()
              : !strcmp(op, "<")    ? json_boolean(c < 0)
              : !strcmp(op, "<=")   ? json_boolean(c <= 0)
              : !strcmp(op, ">")    ? json_boolean(c > 0)
              : !strcmp(op, ">=")   ? json_boolean(c >= 0)
                                    : json_null();
    }
    json_decref(v[0]);
    json_decref(v[1]);
    return res;
}

int gw_logic_eval(const struct gw_logic *l, const json_t *data, json_t **out,
                  struct gw_error *err)
{
    (void)err;
    *out = eval(l->rule, data, 0);
    return GW_OK;
}
