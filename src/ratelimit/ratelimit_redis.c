/*
 * src/ratelimit/ratelimit_redis.c
 * The Redis backend: one Lua script call per check runs GCRA (the same arithmetic as
 * ratelimit_gcra.c) on the Redis server's clock (TIME, microseconds) over every key of the
 * batch and stores the new states only when no enforced key is refused: atomic, exact, and
 * independent of the replicas' clocks. Each state is one string key (the TAT) that expires
 * when the limit is full again, so idle keys cost nothing.
 * Keys are "<prefix>rl:{<rule id>:<digest>}": one hash slot per key. In cluster mode
 * (GW_REDIS_CLUSTER) a batch is sent as one script call per key, pipelined (one round trip;
 * each key atomic by itself, the all-or-nothing of several keys is lost); otherwise one call.
 */
#include "ratelimit/ratelimit_backend.h"

#include "core/alloc.h"
#include "core/err.h"
#include "kv/kv.h"
#include "net/net_loop.h"

#include <stdio.h>
#include <string.h>

/* KEYS[i]: state keys. ARGV: interval_us, burst, enforce (1/0) for each key.
 * Returns {allowed, remaining, retry_us, reset_us} for each key. */
static struct gw_kv_script gcra_script = {
    "ratelimit-gcra",
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
    "local out, tats, refused = {}, {}, false\n"
    "for i = 1, #KEYS do\n"
    "  local T = tonumber(ARGV[3*i-2])\n"
    "  local b = tonumber(ARGV[3*i-1])\n"
    "  local tat = tonumber(redis.call('GET', KEYS[i]) or 0) or 0\n"
    "  local base = tat\n"
    "  if base < now then base = now end\n"
    "  local nt = base + T\n"
    "  local ahead = nt - now\n"
    "  if ahead <= b * T then\n"
    "    out[4*i-3] = 1; out[4*i-2] = math.floor((b * T - ahead) / T)\n"
    "    out[4*i-1] = 0; out[4*i] = ahead; tats[i] = nt\n"
    "  else\n"
    "    out[4*i-3] = 0; out[4*i-2] = 0; out[4*i-1] = ahead - b * T; out[4*i] = base - now\n"
    "    if ARGV[3*i] == '1' then refused = true end\n"
    "  end\n"
    "end\n"
    "if not refused then\n"
    "  for i = 1, #KEYS do\n"
    "    if tats[i] then\n"
    "      redis.call('SET', KEYS[i], string.format('%d', tats[i]), 'PX',\n"
    "                 math.floor((tats[i] - now) / 1000) + 1)\n"
    "    end\n"
    "  end\n"
    "end\n"
    "return out\n",
    ""};

struct rds {
    struct gw_kv *kv;
    bool cluster;
};

struct pending {
    struct gw_rl_batch *b;
    gw_rl_done_fn done;
    void *arg;
    int waiting; /* replies still expected */
    int rc;
    int first;   /* cluster mode: the batch item of each reply, in order */
};

static int fill(struct gw_rl_batch *b, int first, int count, const struct gw_kv_reply *r)
{
    if (gw_kv_reply_type(r) != GW_KV_ARRAY || gw_kv_reply_count(r) != (size_t)count * 4)
        return GW_EIO;
    for (int i = 0; i < count; i++) {
        struct gw_rl_item *it = &b->item[first + i];
        it->allowed = gw_kv_reply_int_at(r, (size_t)i * 4) == 1;
        it->remaining = gw_kv_reply_int_at(r, (size_t)i * 4 + 1);
        it->retry_us = gw_kv_reply_int_at(r, (size_t)i * 4 + 2);
        it->reset_us = gw_kv_reply_int_at(r, (size_t)i * 4 + 3);
    }
    return GW_OK;
}

static void finish(struct pending *p)
{
    if (p->rc == GW_OK) {
        p->b->refused = false;
        for (int i = 0; i < p->b->n; i++)
            if (!p->b->item[i].allowed && p->b->item[i].enforce)
                p->b->refused = true;
    }
    p->done(p->arg, p->rc);
    gw_free(p);
}

static void on_reply(void *arg, int rc, const struct gw_kv_reply *r)
{
    struct pending *p = arg;
    if (rc == GW_OK)
        rc = fill(p->b, 0, p->b->n, r);
    p->rc = rc;
    finish(p);
}

/* cluster mode: one reply per item, in send order */
static void on_item_reply(void *arg, int rc, const struct gw_kv_reply *r)
{
    struct pending *p = arg;
    int i = p->first++;
    if (rc == GW_OK)
        rc = fill(p->b, i, 1, r);
    if (rc != GW_OK && p->rc == GW_OK)
        p->rc = rc;
    if (--p->waiting == 0)
        finish(p);
}

static void item_args(const struct gw_rl_item *it, char *t, char *b, size_t size)
{
    snprintf(t, size, "%lld", (long long)it->interval_us);
    snprintf(b, size, "%lld", (long long)it->burst);
}

static int rds_check(void *self, struct gw_loop *loop, struct gw_rl_batch *b, gw_rl_done_fn done,
                     void *arg)
{
    struct rds *r = self;
    struct gw_kv_conn *c = gw_kv_conn_of(loop);
    if (!c)
        return GW_EIO;
    struct pending *p = gw_xcalloc(1, sizeof(*p));
    p->b = b;
    p->done = done;
    p->arg = arg;
    char nums[GW_RL_MAX_ITEMS][2][24];
    if (!r->cluster || b->n == 1) {
        const char *keys[GW_RL_MAX_ITEMS], *args[GW_RL_MAX_ITEMS * 3];
        for (int i = 0; i < b->n; i++) {
            keys[i] = b->item[i].key;
            item_args(&b->item[i], nums[i][0], nums[i][1], sizeof(nums[i][0]));
            args[3 * i] = nums[i][0];
            args[3 * i + 1] = nums[i][1];
            args[3 * i + 2] = b->item[i].enforce ? "1" : "0";
        }
        p->waiting = 1;
        int rc = gw_kv_eval(c, &gcra_script, b->n, keys, 3 * b->n, args, on_reply, p);
        if (rc != GW_OK) {
            gw_free(p);
            return rc;
        }
        return GW_AGAIN;
    }
    /* cluster: one call per key; the first refusal to send fails the check (the calls already
     * sent still answer into `p`, which lives until the last of them) */
    int sent = 0, rc = GW_OK;
    p->waiting = b->n + 1; /* +1 held while sending */
    for (int i = 0; i < b->n; i++) {
        const char *keys[1] = {b->item[i].key};
        item_args(&b->item[i], nums[i][0], nums[i][1], sizeof(nums[i][0]));
        const char *args[3] = {nums[i][0], nums[i][1], b->item[i].enforce ? "1" : "0"};
        rc = gw_kv_eval(c, &gcra_script, 1, keys, 3, args, on_item_reply, p);
        if (rc != GW_OK)
            break;
        sent++;
    }
    if (rc != GW_OK) {
        p->rc = rc;
        p->waiting -= b->n - sent; /* the unsent ones never answer */
        if (sent == 0) {
            gw_free(p);
            return rc;
        }
    }
    if (--p->waiting == 0) {
        finish(p);
        return GW_AGAIN; /* done already ran: impossible here (replies come later) */
    }
    return GW_AGAIN;
}

static size_t rds_count(void *self)
{
    (void)self;
    return 0;
}

static void rds_destroy(void *self)
{
    gw_free(self);
}

static const struct gw_rl_backend_ops rds_ops = {"redis", rds_check, rds_count, rds_destroy};

void gw_rl_redis_init(struct gw_rl_backend *out, struct gw_kv *kv, bool cluster)
{
    struct rds *r = gw_xcalloc(1, sizeof(*r));
    r->kv = kv;
    r->cluster = cluster;
    gw_kv_script_register(kv, &gcra_script);
    out->ops = &rds_ops;
    out->self = r;
}
