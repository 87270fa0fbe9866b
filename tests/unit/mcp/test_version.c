/*
 * tests/unit/mcp/test_version.c
 * Protocol revisions (mcp/mcp_version.h): parsing is exact (no prefixes, spaces or case
 * variants), names round-trip, the negotiation table (each supported legacy version is echoed;
 * unknown, NULL and the modern 2026-07-28 requested in initialize all get 2025-11-25, the
 * latest legacy revision), which revision is modern, where batches are allowed (2025-03-26
 * only), and the list used in error messages.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "mcp/mcp_version.h"

#include <string.h>

static void test_parse(void **state)
{
    (void)state;
    assert_int_equal(gw_mcp_version_parse("2024-11-05"), GW_MCP_V_2024_11_05);
    assert_int_equal(gw_mcp_version_parse("2025-03-26"), GW_MCP_V_2025_03_26);
    assert_int_equal(gw_mcp_version_parse("2025-06-18"), GW_MCP_V_2025_06_18);
    assert_int_equal(gw_mcp_version_parse("2025-11-25"), GW_MCP_V_2025_11_25);
    assert_int_equal(gw_mcp_version_parse("2026-07-28"), GW_MCP_V_2026_07_28);
    static const char *const bad[] = {"",           "2025-06-1",   "2025-06-18 ", " 2025-06-18",
                                      "2025-06-18\n", "2025-6-18", "2024-10-07",  "1999-01-01",
                                      "2027-01-01", "latest",      "DRAFT-2026-v1", "2025-11-25x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (gw_mcp_version_parse(bad[i]) != GW_MCP_V_UNKNOWN)
            fail_msg("'%s' parsed as a supported version", bad[i]);
    assert_int_equal(gw_mcp_version_parse(NULL), GW_MCP_V_UNKNOWN);
}

static void test_names(void **state)
{
    (void)state;
    for (int v = GW_MCP_V_2024_11_05; v <= GW_MCP_LATEST; v++)
        assert_int_equal(gw_mcp_version_parse(gw_mcp_version_str((enum gw_mcp_version)v)), v);
    assert_string_equal(gw_mcp_version_str(GW_MCP_V_UNKNOWN), "unknown");
    assert_string_equal(gw_mcp_version_str((enum gw_mcp_version)99), "unknown");
    assert_string_equal(gw_mcp_version_str((enum gw_mcp_version)-1), "unknown");
    assert_string_equal(gw_mcp_version_str(GW_MCP_LATEST_LEGACY), "2025-11-25");
    assert_string_equal(gw_mcp_version_str(GW_MCP_LATEST), "2026-07-28");
}

static void test_negotiation_table(void **state)
{
    (void)state;
    static const struct {
        const char *requested;
        const char *answer;
    } table[] = {
        {"2024-11-05", "2024-11-05"}, /* supported legacy versions are echoed */
        {"2025-03-26", "2025-03-26"},
        {"2025-06-18", "2025-06-18"},
        {"2025-11-25", "2025-11-25"},
        {"2026-07-28", "2025-11-25"}, /* modern has no initialize: offer the latest legacy */
        {"2024-10-07", "2025-11-25"}, /* unknown: the latest legacy */
        {"1999-01-01", "2025-11-25"},
        {"2099-12-31", "2025-11-25"},
        {"", "2025-11-25"},
        {NULL, "2025-11-25"},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        const char *got = gw_mcp_version_str(gw_mcp_version_negotiate(table[i].requested));
        if (strcmp(got, table[i].answer) != 0)
            fail_msg("initialize with %s: answered %s, want %s",
                     table[i].requested ? table[i].requested : "(none)", got, table[i].answer);
    }
}

static void test_modern_and_batch(void **state)
{
    (void)state;
    assert_false(gw_mcp_version_is_modern(GW_MCP_V_UNKNOWN));
    assert_false(gw_mcp_version_is_modern(GW_MCP_V_2024_11_05));
    assert_false(gw_mcp_version_is_modern(GW_MCP_V_2025_11_25));
    assert_true(gw_mcp_version_is_modern(GW_MCP_V_2026_07_28));
    assert_true(gw_mcp_version_allows_batch(GW_MCP_V_2025_03_26));
    assert_false(gw_mcp_version_allows_batch(GW_MCP_V_2024_11_05));
    assert_false(gw_mcp_version_allows_batch(GW_MCP_V_2025_06_18));
    assert_false(gw_mcp_version_allows_batch(GW_MCP_V_2025_11_25));
    assert_false(gw_mcp_version_allows_batch(GW_MCP_V_2026_07_28));
    assert_false(gw_mcp_version_allows_batch(GW_MCP_V_UNKNOWN));
}

static void test_list(void **state)
{
    (void)state;
    const char *l = gw_mcp_version_list();
    for (int v = GW_MCP_V_2024_11_05; v <= GW_MCP_LATEST; v++)
        if (!strstr(l, gw_mcp_version_str((enum gw_mcp_version)v)))
            fail_msg("version list '%s' lacks %s", l, gw_mcp_version_str((enum gw_mcp_version)v));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),            cmocka_unit_test(test_names),
        cmocka_unit_test(test_negotiation_table), cmocka_unit_test(test_modern_and_batch),
        cmocka_unit_test(test_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
