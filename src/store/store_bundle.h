/*
 * src/store/store_bundle.h
 * API products ("bundles"): named groups of tools, e.g. "service-booking" titled "Service
 * Booking". A bundle is {"id","name","title","description","status","createdAt","updatedAt",
 * "toolCount"}; `name` ([A-Za-z0-9_.-], 1–64) is what tools refer to and never changes;
 * status is "active" or "disabled" (a disabled bundle takes all its tools out of the served
 * snapshot without touching the tools themselves).
 *
 * BLOCKING, one thread per handle: see store.h. Returned json_t are new references.
 */
#ifndef GW_STORE_BUNDLE_H
#define GW_STORE_BUNDLE_H

#include "store/store.h"

#include <jansson.h>

/* Creates a bundle from {"name", "title"?, "description"?, "status"?} (title defaults to the
 * name). GW_OK (*out may be NULL), GW_EINVAL, GW_ECONFLICT (exists), GW_EIO. */
int gw_store_bundle_create(struct gw_store *st, const json_t *bundle,
                           const struct gw_store_actor *who, json_t **out, struct gw_error *err);

/* GW_OK, GW_ENOTFOUND, GW_EIO. */
int gw_store_bundle_get(struct gw_store *st, const char *name, json_t **out,
                        struct gw_error *err);

/* All bundles in name order (there are tens, not thousands: at most GW_STORE_PAGE_MAX are
 * returned). GW_OK, GW_EIO. */
int gw_store_bundle_list(struct gw_store *st, json_t **out, struct gw_error *err);

/* Changes "title", "description" and/or "status"; other keys are GW_EINVAL except an equal
 * "name". GW_OK, GW_ENOTFOUND, GW_EINVAL, GW_EIO. */
int gw_store_bundle_update(struct gw_store *st, const char *name, const json_t *changes,
                           const struct gw_store_actor *who, json_t **out, struct gw_error *err);

/* Deletes a bundle. When tools still belong to it: GW_ECONFLICT, unless detach_tools, which
 * first sets their bundle to null (a history row per tool). GW_OK, GW_ENOTFOUND, GW_EIO. */
int gw_store_bundle_delete(struct gw_store *st, const char *name, bool detach_tools,
                           const struct gw_store_actor *who, struct gw_error *err);

#endif
