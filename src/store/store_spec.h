/*
 * src/store/store_spec.h
 * Imported specs: one row per spec id with {"id","title","version","sourceUrl","fileName",
 * "contentHash","importedAt","importedBy","toolCount"} and optionally the raw "content".
 * Specs are written by gw_store_apply_import (store_import.h) only.
 *
 * BLOCKING, one thread per handle: see store.h. Returned json_t are new references.
 */
#ifndef GW_STORE_SPEC_H
#define GW_STORE_SPEC_H

#include "store/store.h"

#include <jansson.h>

/* All specs in id order, without content. GW_OK, GW_EIO. */
int gw_store_spec_list(struct gw_store *st, json_t **out, struct gw_error *err);

/* One spec; with_content adds "content" (string or null). GW_OK, GW_ENOTFOUND, GW_EIO. */
int gw_store_spec_get(struct gw_store *st, const char *id, bool with_content, json_t **out,
                      struct gw_error *err);

enum gw_store_spec_delete_mode {
    GW_STORE_SPEC_DEPRECATE_TOOLS, /* its tools stay, with status "deprecated" (default) */
    GW_STORE_SPEC_REMOVE_TOOLS     /* its tools are deleted (history kept) */
};

/* Deletes a spec and deprecates or removes its tools, in one transaction; a history row per
 * tool touched. GW_OK, GW_ENOTFOUND, GW_EIO. */
int gw_store_spec_delete(struct gw_store *st, const char *id, enum gw_store_spec_delete_mode mode,
                         const struct gw_store_actor *who, struct gw_error *err);

#endif
