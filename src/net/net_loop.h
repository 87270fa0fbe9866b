/*
 * src/net/net_loop.h
 * An event loop thread's identity: its libevent base plus a mailbox through which other
 * threads hand it work. HTTP workers and the stdio transport each run one loop; everything that
 * must reach "the thread that owns X" (a stream, a waiting request) posts to X's loop.
 * gw_loop_post is thread-safe and never runs the task synchronously. After gw_loop_close, posts
 * fail (GW_ERR) and the task is not run.
 */
#ifndef GW_NET_LOOP_H
#define GW_NET_LOOP_H

struct event_base;
struct gw_loop;

typedef void (*gw_task_fn)(void *arg);

/* Wraps `base` (borrowed; must outlive the loop). libevent threading must be enabled first
 * (gw_loop_init_threads). */
struct gw_loop *gw_loop_new(struct event_base *base);
/* Runs the tasks still queued, then frees. Call on the loop's thread after it stopped. */
void gw_loop_free(struct gw_loop *l);
void gw_loop_init_threads(void);
struct event_base *gw_loop_base(struct gw_loop *l);
int gw_loop_post(struct gw_loop *l, gw_task_fn fn, void *arg);
/* Refuses further posts and runs what is queued. */
void gw_loop_close(struct gw_loop *l);
/* Per-loop state slots: a module that keeps state per loop (the pipeline's executor and
 * schema cache, the authenticator's caches) takes one slot index at start-up and sets its
 * pointer when the loop starts (worker start hook, or the stdio transport's set-up). Reads and
 * writes happen on the loop's own thread: no lock. */
#define GW_LOOP_SLOTS 8
enum { GW_LOOP_SLOT_PIPELINE = 0, GW_LOOP_SLOT_AUTH = 1, GW_LOOP_SLOT_LIMITS = 2,
       GW_LOOP_SLOT_AUDIT = 3, GW_LOOP_SLOT_POLICY = 4, GW_LOOP_SLOT_KV = 5 };
void gw_loop_set_slot(struct gw_loop *l, int idx, void *p);
void *gw_loop_slot(const struct gw_loop *l, int idx);

/* Marks the calling thread as running `l` (NULL to clear), and reads it back. */
void gw_loop_set_current(struct gw_loop *l);
struct gw_loop *gw_loop_current(void);

#endif
