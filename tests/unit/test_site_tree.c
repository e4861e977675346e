/*
 * Specification of capacity-tree parsing and validation
 * (src/smart/site_tree.c): a valid tree is ordered parents first with
 * phases, rotations and limits resolved; every impossible wiring is refused
 * with the right class (400 malformed, 422 impossible) and a message naming
 * the node; the canonical JSON parses back to itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <math.h>

#include "smart/site_tree.h"

static const char *const VALID =
    "{\"policy\":\"priority\",\"voltage_v\":230,\"nodes\":["
    "{\"id\":\"cp2\",\"kind\":\"station\",\"parent\":\"f1\",\"station_id\":\"CP-2\","
    "\"rotation\":\"L3\"},"
    "{\"id\":\"grid\",\"kind\":\"grid_connection\",\"limit_kw\":69},"
    "{\"id\":\"f1\",\"kind\":\"feeder\",\"parent\":\"grid\",\"limit_a\":[32,20,null],"
    "\"reserved_a\":[2,0,0]},"
    "{\"id\":\"cp1\",\"kind\":\"station\",\"parent\":\"grid\",\"station_id\":\"CP-1\","
    "\"rotation\":\"L2L3L1\",\"limit_a\":16},"
    "{\"id\":\"cp1-2\",\"kind\":\"evse\",\"parent\":\"cp1\",\"evse_id\":2,\"min_a\":8,"
    "\"max_a\":16}]}";

static bool known(void *ctx, const char *id)
{
    (void)ctx;
    return strcmp(id, "GHOST") != 0;
}

static site_tree_t *parse_ok(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (!j) fail_msg("test JSON does not parse: %s", je.text);
    site_tree_t *t = NULL;
    char err[256];
    site_tree_err_t rc = site_tree_parse("S1", j, known, NULL, &t, err, sizeof err);
    json_decref(j);
    if (rc != SITE_TREE_OK) fail_msg("refused a valid tree: %s", err);
    return t;
}

/* Parses text and expects refusal of class rc with a message containing want. */
static void refused(const char *text, site_tree_err_t rc, const char *want)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (!j) fail_msg("test JSON does not parse: %s", je.text);
    site_tree_t *t = (site_tree_t *)0x1;
    char err[256] = "";
    site_tree_err_t got = site_tree_parse("S1", j, known, NULL, &t, err, sizeof err);
    json_decref(j);
    if (got != rc) fail_msg("expected class %d, got %d (%s) for %s", rc, got, err, text);
    assert_null(t);
    if (want && !strstr(err, want)) fail_msg("message '%s' lacks '%s'", err, want);
}

#define GRID "{\"id\":\"g\",\"kind\":\"grid_connection\",\"limit_a\":63}"

static void a_valid_tree_is_ordered_parents_first(void **state)
{
    (void)state;
    site_tree_t *t = parse_ok(VALID);
    assert_int_equal(t->n_nodes, 5);
    assert_string_equal(t->nodes[0].id, "grid");
    assert_int_equal(t->nodes[0].parent, -1);
    for (int i = 1; i < t->n_nodes; i++)
        assert_true(t->nodes[i].parent < i);
    assert_int_equal(t->policy, SMART_POLICY_PRIORITY);
    site_tree_free(t);
}

static void kilowatts_become_amperes_per_phase(void **state)
{
    (void)state;
    site_tree_t *t = parse_ok(VALID);
    for (int p = 0; p < SMART_PHASES; p++)
        assert_true(fabs(t->nodes[0].limit_a[p] - 100.0) < 1e-9);
    site_tree_free(t);
}

static void phases_rotation_and_inheritance_are_resolved(void **state)
{
    (void)state;
    site_tree_t *t = parse_ok(VALID);
    const site_node_t *f1 = &t->nodes[site_tree_find(t, "f1")];
    assert_int_equal(f1->phases, 0x7);
    assert_true(f1->limit_a[0] == 32 && f1->limit_a[1] == 20 && isinf(f1->limit_a[2]));
    assert_true(f1->reserved_a[0] == 2);
    const site_node_t *cp1 = &t->nodes[site_tree_find(t, "cp1")];
    assert_int_equal(cp1->rotation[0], 1);
    assert_int_equal(cp1->rotation[1], 2);
    assert_int_equal(cp1->rotation[2], 0);
    assert_true(cp1->limit_a[0] == 16 && cp1->limit_a[2] == 16);
    const site_node_t *cp2 = &t->nodes[site_tree_find(t, "cp2")];
    assert_int_equal(cp2->phases, 0x4); /* single phase on L3 */
    assert_int_equal(cp2->rotation[0], 2);
    assert_true(cp2->limit_a[0] == 0 && isinf(cp2->limit_a[2]));
    const site_node_t *e = &t->nodes[site_tree_find(t, "cp1-2")];
    assert_string_equal(e->station_id, "CP-1");
    assert_memory_equal(e->rotation, cp1->rotation, sizeof e->rotation);
    assert_true(e->min_a == 8 && e->max_a == 16);
    assert_int_equal(site_tree_find_station(t, "CP-2"), site_tree_find(t, "cp2"));
    assert_true(site_tree_is_ancestor(t, 0, site_tree_find(t, "cp1-2")));
    assert_false(site_tree_is_ancestor(t, site_tree_find(t, "f1"), site_tree_find(t, "cp1")));
    site_tree_free(t);
}

static void the_canonical_json_parses_back_to_itself(void **state)
{
    (void)state;
    site_tree_t *t = parse_ok(VALID);
    json_t *a = site_tree_json(t);
    site_tree_t *u = NULL;
    char err[256];
    assert_int_equal(site_tree_parse("S1", a, known, NULL, &u, err, sizeof err), SITE_TREE_OK);
    json_t *b = site_tree_json(u);
    assert_true(json_equal(a, b));
    json_decref(a);
    json_decref(b);
    site_tree_free(t);
    site_tree_free(u);
}

static void cycles_and_second_roots_are_refused(void **state)
{
    (void)state;
    refused("{\"nodes\":[" GRID ",{\"id\":\"a\",\"kind\":\"feeder\",\"parent\":\"b\"},"
            "{\"id\":\"b\",\"kind\":\"feeder\",\"parent\":\"a\"}]}",
            SITE_TREE_UNPROCESSABLE, "cycle");
    refused("{\"nodes\":[{\"id\":\"a\",\"kind\":\"site\",\"parent\":\"b\",\"limit_a\":1},"
            "{\"id\":\"b\",\"kind\":\"feeder\",\"parent\":\"a\"}]}",
            SITE_TREE_UNPROCESSABLE, NULL);
    refused("{\"nodes\":[" GRID ",{\"id\":\"h\",\"kind\":\"site\",\"limit_a\":5}]}",
            SITE_TREE_UNPROCESSABLE, "one root");
    refused("{\"nodes\":[" GRID ",{\"id\":\"a\",\"kind\":\"feeder\",\"parent\":\"a\"}]}",
            SITE_TREE_UNPROCESSABLE, "cycle");
}

static void a_child_on_phases_its_parent_lacks_is_refused(void **state)
{
    (void)state;
    refused("{\"nodes\":[" GRID ",{\"id\":\"f\",\"kind\":\"feeder\",\"parent\":\"g\",\"phases\":"
            "\"L1\"},{\"id\":\"s\",\"kind\":\"station\",\"parent\":\"f\",\"station_id\":\"CP-1\","
            "\"rotation\":\"L1L2L3\"}]}",
            SITE_TREE_UNPROCESSABLE, "lacks");
    refused("{\"nodes\":[" GRID ",{\"id\":\"f\",\"kind\":\"feeder\",\"parent\":\"g\",\"phases\":"
            "\"L1\",\"limit_a\":[10,10,0]}]}",
            SITE_TREE_UNPROCESSABLE, "not wired to L2");
}

static void negative_and_missing_limits_are_refused(void **state)
{
    (void)state;
    refused("{\"nodes\":[{\"id\":\"g\",\"kind\":\"grid_connection\",\"limit_a\":-1}]}",
            SITE_TREE_UNPROCESSABLE, ">= 0");
    refused("{\"nodes\":[{\"id\":\"g\",\"kind\":\"grid_connection\",\"limit_a\":[1,-2,1]}]}",
            SITE_TREE_UNPROCESSABLE, "L2");
    refused("{\"nodes\":[{\"id\":\"g\",\"kind\":\"grid_connection\"}]}", SITE_TREE_UNPROCESSABLE,
            "root needs a limit");
    refused("{\"nodes\":[{\"id\":\"g\",\"kind\":\"grid_connection\",\"limit_a\":1,"
            "\"limit_kw\":1}]}",
            SITE_TREE_BAD_REQUEST, "not both");
    refused("{\"nodes\":[" GRID ",{\"id\":\"s\",\"kind\":\"station\",\"parent\":\"g\","
            "\"station_id\":\"CP-1\"},{\"id\":\"e\",\"kind\":\"evse\",\"parent\":\"s\","
            "\"evse_id\":1,\"min_a\":20,\"max_a\":10}]}",
            SITE_TREE_UNPROCESSABLE, "above max_a");
}

static void stations_must_exist_and_appear_once(void **state)
{
    (void)state;
    refused("{\"nodes\":[" GRID ",{\"id\":\"s\",\"kind\":\"station\",\"parent\":\"g\","
            "\"station_id\":\"GHOST\"}]}",
            SITE_TREE_UNPROCESSABLE, "unknown station 'GHOST'");
    refused("{\"nodes\":[" GRID ",{\"id\":\"s\",\"kind\":\"station\",\"parent\":\"g\","
            "\"station_id\":\"CP-1\"},{\"id\":\"t\",\"kind\":\"station\",\"parent\":\"g\","
            "\"station_id\":\"CP-1\"}]}",
            SITE_TREE_UNPROCESSABLE, "twice");
    refused("{\"nodes\":[" GRID ",{\"id\":\"s\",\"kind\":\"station\",\"parent\":\"g\","
            "\"station_id\":\"CP-1\"},{\"id\":\"e\",\"kind\":\"evse\",\"parent\":\"s\","
            "\"evse_id\":1},{\"id\":\"e2\",\"kind\":\"evse\",\"parent\":\"s\",\"evse_id\":1}]}",
            SITE_TREE_UNPROCESSABLE, "twice");
    refused("{\"nodes\":[" GRID "," GRID "]}", SITE_TREE_UNPROCESSABLE, "used twice");
}

static void kinds_hang_only_where_they_belong(void **state)
{
    (void)state;
    refused("{\"nodes\":[" GRID ",{\"id\":\"e\",\"kind\":\"evse\",\"parent\":\"g\","
            "\"evse_id\":1}]}",
            SITE_TREE_UNPROCESSABLE, "cannot hang off");
    refused("{\"nodes\":[{\"id\":\"s\",\"kind\":\"station\",\"station_id\":\"CP-1\","
            "\"limit_a\":3}]}",
            SITE_TREE_UNPROCESSABLE, "root must be");
    refused("{\"nodes\":[" GRID ",{\"id\":\"f\",\"kind\":\"feeder\",\"parent\":\"g\","
            "\"rotation\":\"L1L2L3\"}]}",
            SITE_TREE_UNPROCESSABLE, "rotation");
}

static void malformed_input_is_a_bad_request(void **state)
{
    (void)state;
    refused("[]", SITE_TREE_BAD_REQUEST, NULL);
    refused("{\"nodes\":[]}", SITE_TREE_BAD_REQUEST, NULL);
    refused("{\"nodes\":[" GRID "],\"colour\":1}", SITE_TREE_BAD_REQUEST, "unknown field");
    refused("{\"nodes\":[{\"id\":\"g\",\"kind\":\"grid_connection\",\"limit_a\":\"10\"}]}",
            SITE_TREE_BAD_REQUEST, "limit_a");
    refused("{\"nodes\":[{\"id\":\"g\",\"kind\":\"transformer\",\"limit_a\":1}]}",
            SITE_TREE_BAD_REQUEST, "kind");
    refused("{\"policy\":\"fastest\",\"nodes\":[" GRID "]}", SITE_TREE_BAD_REQUEST, "policy");
    refused("{\"nodes\":[" GRID ",{\"id\":\"s\",\"kind\":\"station\",\"parent\":\"g\","
            "\"station_id\":\"CP-1\",\"rotation\":\"L1L4\"}]}",
            SITE_TREE_BAD_REQUEST, "rotation");
    refused("{\"nodes\":[{\"id\":\"\",\"kind\":\"grid_connection\",\"limit_a\":1}]}",
            SITE_TREE_BAD_REQUEST, "id");
    refused("{\"nodes\":[" GRID ",{\"id\":\"x\",\"kind\":\"feeder\",\"parent\":7}]}",
            SITE_TREE_BAD_REQUEST, "parent");
}

static void site_names_are_checked(void **state)
{
    (void)state;
    assert_true(site_tree_site_valid("DEPOT-1.north_2"));
    assert_false(site_tree_site_valid(""));
    assert_false(site_tree_site_valid("a b"));
    assert_false(site_tree_site_valid("a/b"));
    json_t *j = json_loads("{\"nodes\":[" GRID "]}", 0, NULL);
    site_tree_t *t = NULL;
    char err[128];
    assert_int_equal(site_tree_parse("../x", j, NULL, NULL, &t, err, sizeof err),
                     SITE_TREE_BAD_REQUEST);
    assert_null(t);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_valid_tree_is_ordered_parents_first),
        cmocka_unit_test(kilowatts_become_amperes_per_phase),
        cmocka_unit_test(phases_rotation_and_inheritance_are_resolved),
        cmocka_unit_test(the_canonical_json_parses_back_to_itself),
        cmocka_unit_test(cycles_and_second_roots_are_refused),
        cmocka_unit_test(a_child_on_phases_its_parent_lacks_is_refused),
        cmocka_unit_test(negative_and_missing_limits_are_refused),
        cmocka_unit_test(stations_must_exist_and_appear_once),
        cmocka_unit_test(kinds_hang_only_where_they_belong),
        cmocka_unit_test(malformed_input_is_a_bad_request),
        cmocka_unit_test(site_names_are_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
