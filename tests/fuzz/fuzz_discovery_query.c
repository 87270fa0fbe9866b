/*
 * tests/fuzz/fuzz_discovery_query.c
 * Fuzzes the search of the discovery index (src/discovery/discovery_index.c) with arbitrary
 * query bytes, as an agent may send in search_tools: tokenizer (camelCase, letter/digit runs,
 * bytes >= 0x80), stop words, stemmer, thesaurus, BM25F scoring, ranking, a visibility filter.
 * The index is built once from a small catalogue. Checks: at most k hits, scores positive and
 * not increasing, every hit a tool of the snapshot that the filter admits.
 * Seeds (corpus/discovery_query/) are named after what they try.
 */
#include "core/alloc.h"
#include "discovery/discovery.h"
#include "registry/registry_snapshot.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static struct gw_snapshot *S;

static bool odd_only(void *ud, const struct gw_tool_entry *t)
{
    (void)ud;
    return t->name_len % 2 == 1;
}

static void init(void)
{
    static const char *const tools[][3] = {
        {"create_booking", "Book a service appointment", "Books one slot at a dealer."},
        {"cancel_booking", "Cancel a booking", "Cancels a booking and frees its slot."},
        {"repos_list_for_user", "List repositories for a user", "Lists public repositories."},
        {"get_lookup_sha1", "Get lookup sha1", "Looks up a SHA-1 hash."},
        {"droplets_create", "Create a New Droplet", "Creates a droplet (virtual machine)."},
        {"getUserById", "Get user by id", "Returns a user, camelCase name."},
        {"x", "", ""}};
    json_t *defs = json_array();
    for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
        json_array_append_new(
            defs, json_pack("{s:s,s:s,s:s,s:{s:s,s:{s:{s:s,s:s}}},s:[s],s:{s:s,s:s},s:{s:s,s:s}}",
                            "name", tools[i][0], "title", tools[i][1], "description", tools[i][2],
                            "inputSchema", "type", "object", "properties", "id", "type", "string",
                            "description", "The identifier", "tags", "demo", "binding", "method",
                            "GET", "path", "/things/{id}", "source", "specId", "demo-spec",
                            "path", "/things/{id}"));
    struct gw_snapshot_ext ext = gw_discovery_index_ext();
    struct gw_snapshot_builder *b = gw_snapshot_builder_new(1, 0, &ext, 1);
    size_t i;
    json_t *d;
    json_array_foreach(defs, i, d)
    {
        if (gw_snapshot_builder_add(b, d, NULL) != GW_OK)
            abort();
    }
    if (gw_snapshot_builder_finish(b, &S, NULL) != GW_OK)
        abort();
    json_decref(defs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!S)
        init();
    char *q = gw_xmalloc(size + 1);
    memcpy(q, data, size);
    q[size] = '\0';
    const struct gw_dindex *ix = gw_snapshot_ext(S, 0);
    struct gw_discovery_hit hits[5];
    for (int pass = 0; pass < 2; pass++) {
        size_t n = gw_dindex_search(ix, S, q, pass ? odd_only : NULL, NULL, hits, 5);
        if (n > 5)
            abort();
        for (size_t k = 0; k < n; k++) {
            if (!(hits[k].score > 0) || (k && hits[k].score > hits[k - 1].score))
                abort();
            if (gw_snapshot_find(S, hits[k].tool->name, hits[k].tool->name_len) != hits[k].tool)
                abort();
            if (pass && !odd_only(NULL, hits[k].tool))
                abort();
        }
    }
    gw_free(q);
    return 0;
}
