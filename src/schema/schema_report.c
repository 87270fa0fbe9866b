/*
 * src/schema/schema_report.c
 * The validation report: storage of collected errors and their renderings (text block for an
 * MCP `isError` result, JSON array for structured error data).
 *
 * Storage: a growable array of gw_schema_error whose four strings share one heap block per
 * error, allocated only when an error is recorded (a valid instance never allocates here).
 * Capacity is capped by the compiled schema's max_errors; errors past the cap are counted in
 * `_omitted`. A report belongs to one thread at a time. Not here: message wording (the
 * evaluator, schema_validate.c, writes messages).
 */
#include "schema/schema_int.h"

#include "core/alloc.h"

#include <string.h>

void gw_schema_report_init(struct gw_schema_report *rep)
{
    memset(rep, 0, sizeof(*rep));
    rep->_max = 16;
}

/* Each error's strings share one block that starts with instance_path. */
static void free_errors(struct gw_schema_report *rep)
{
    for (size_t i = 0; i < rep->_n; i++)
        gw_free((void *)(uintptr_t)rep->_errs[i].instance_path); /* the block's start */
    rep->_n = 0;
}

void gw_schema_report_fini(struct gw_schema_report *rep)
{
    if (!rep)
        return;
    free_errors(rep);
    gw_free_null(&rep->_errs);
    rep->_cap = 0;
}

void gw_schema_report_reset(struct gw_schema_report *rep)
{
    free_errors(rep);
    rep->_omitted = 0;
    rep->_limit = false;
    rep->_limit_msg[0] = '\0';
}

size_t gw_schema_report_count(const struct gw_schema_report *rep)
{
    return rep ? rep->_n : 0;
}

const struct gw_schema_error *gw_schema_report_get(const struct gw_schema_report *rep, size_t i)
{
    return rep && i < rep->_n ? &rep->_errs[i] : NULL;
}

size_t gw_schema_report_omitted(const struct gw_schema_report *rep)
{
    return rep ? rep->_omitted : 0;
}

const char *gw_schema_report_limit(const struct gw_schema_report *rep)
{
    return rep && rep->_limit ? rep->_limit_msg : NULL;
}

void gw_schema__report_set_limit(struct gw_schema_report *rep, const char *msg)
{
    if (!rep || rep->_limit)
        return;
    rep->_limit = true;
    size_t n = strlen(msg);
    if (n >= sizeof(rep->_limit_msg))
        n = sizeof(rep->_limit_msg) - 1;
    memcpy(rep->_limit_msg, msg, n);
    rep->_limit_msg[n] = '\0';
}

/* Copies the four strings into one heap block per error (one allocation, one free) and
 * grows the array geometrically. Failing allocations drop the error but count it, so a
 * report under memory pressure still says that errors were found. */
bool gw_schema__report_add(struct gw_schema_report *rep, const char *ipath, const char *kw,
                           const char *spath, const char *msg)
{
    if (rep->_n >= (size_t)rep->_max) {
        rep->_omitted++;
        return false;
    }
    if (rep->_n == rep->_cap) {
        size_t ncap = rep->_cap ? rep->_cap * 2 : 4;
        struct gw_schema_error *ne = gw_tryrealloc(rep->_errs, ncap * sizeof(*ne));
        if (!ne) {
            rep->_omitted++;
            return false;
        }
        rep->_errs = ne;
        rep->_cap = ncap;
    }
    size_t li = strlen(ipath) + 1, lk = strlen(kw) + 1, ls = strlen(spath) + 1,
           lm = strlen(msg) + 1;
    char *blk = gw_trymalloc(li + lk + ls + lm);
    if (!blk) {
        rep->_omitted++;
        return false;
    }
    struct gw_schema_error *e = &rep->_errs[rep->_n++];
    memcpy(blk, ipath, li);
    e->instance_path = blk;
    memcpy(blk + li, kw, lk);
    e->keyword = blk + li;
    memcpy(blk + li + lk, spath, ls);
    e->schema_path = blk + li + lk;
    memcpy(blk + li + lk + ls, msg, lm);
    e->message = blk + li + lk + ls;
    return true;
}

/* The text is meant for an LLM reading an MCP tool result: a one-line verdict with the error
 * count, one line per error that starts with where ("at /a/b" or "at the top level"), then
 * what to do. Omitted errors and budget stops are stated, never silently dropped. Writes
 * stop at the first failing append (a full buffer keeps the lines written so far). */
int gw_schema_report_render(const struct gw_schema_report *rep, const char *subject,
                            struct gw_buf *out)
{
    const char *what = subject && *subject ? subject : "value";
    size_t n = gw_schema_report_count(rep);
    size_t omitted = gw_schema_report_omitted(rep);
    int rc;
    if (n == 0 && !gw_schema_report_limit(rep))
        return gw_buf_printf(out, "No validation errors in the %s.\n", what);
    if (n > 0)
        rc = gw_buf_printf(out, "Invalid %s: %zu%s error%s.\n", what, n + omitted,
                           omitted ? " or more" : "", n + omitted == 1 ? "" : "s");
    else
        rc = gw_buf_printf(out, "Invalid %s.\n", what);
    for (size_t i = 0; i < n && rc == GW_OK; i++) {
        const struct gw_schema_error *e = &rep->_errs[i];
        if (e->instance_path[0])
            rc = gw_buf_printf(out, "- at %s: %s\n", e->instance_path, e->message);
        else
            rc = gw_buf_printf(out, "- at the top level: %s\n", e->message);
    }
    if (rc == GW_OK && omitted)
        rc = gw_buf_printf(out, "- (further errors not shown; fix these first)\n");
    if (rc == GW_OK && gw_schema_report_limit(rep))
        rc = gw_buf_printf(out, "Validation stopped early: %s.\n", rep->_limit_msg);
    if (rc == GW_OK && n > 0)
        rc = gw_buf_printf(out, "Correct the %s and try again.\n", what);
    return rc;
}

/* Member names follow the JSON Schema output format's vocabulary (instancePath, keyword,
 * schemaPath) so that clients familiar with it recognise them. */
json_t *gw_schema_report_json(const struct gw_schema_report *rep)
{
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    for (size_t i = 0; i < gw_schema_report_count(rep); i++) {
        const struct gw_schema_error *e = &rep->_errs[i];
        json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "instancePath", e->instance_path,
                              "keyword", e->keyword, "schemaPath", e->schema_path, "message",
                              e->message);
        if (!o || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/* Bounded sink for json_dump_callback: keeps the first `max` bytes, then aborts the dump. */
struct dumpbuf {
    char *p;
    size_t n, max;
};

static int dump_cb(const char *buf, size_t size, void *ud)
{
    struct dumpbuf *d = ud;
    size_t room = d->max - d->n;
    size_t k = size < room ? size : room;
    memcpy(d->p + d->n, buf, k);
    d->n += k;
    return k < size ? -1 : 0;
}

/* jansson serialises into dump_cb, which stops it after `max` bytes: a huge value costs no
 * more than `max` bytes of work and memory. */
void gw_schema__json_brief(const json_t *v, char *out, size_t outsz, size_t max)
{
    if (outsz < 8) {
        if (outsz)
            out[0] = '\0';
        return;
    }
    if (max > outsz - 4)
        max = outsz - 4;
    struct dumpbuf d = {out, 0, max};
    int rc = json_dump_callback(v, dump_cb, &d, JSON_COMPACT | JSON_ENCODE_ANY);
    if (rc != 0 && d.n >= max) {
        /* drop a UTF-8 sequence cut in the middle */
        size_t k = d.n;
        while (k > 0 && ((unsigned char)out[k - 1] & 0xC0) == 0x80)
            k--;
        if (k > 0) {
            unsigned char lead = (unsigned char)out[k - 1];
            size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
            if (k - 1 + need > d.n)
                d.n = k - 1;
        }
        memcpy(out + d.n, "...", 3);
        d.n += 3;
    }
    out[d.n] = '\0';
}
