/*
 * Checks the hand-written OCPP 1.6 tables (src/ocpp/v16_defs.c) against the
 * official OCPP 1.6 JSON schemas that ship in the ocpp-rpc npm package.
 *
 * Why: the tables are written from the specification because the schemas may
 * not be copied into the repository; this test is what keeps the two in step.
 * It walks both trees side by side (following "$ref" into "definitions" and
 * "items" into arrays) and prints every difference with its path, e.g.
 *     MeterValues.req meterValue[].sampledValue[].unit: enum value 'Celcius' missing
 * so a failure says exactly which line of the table to fix. Schema keywords it
 * does not understand are reported too, so a new constraint cannot slip by.
 *
 * Usage: test_v16_schemas [path/to/ocpp1_6.json], or set AMPGRID_SCHEMA_DIR to
 * the directory holding ocpp1_6.json. A missing file is a failure, not a skip:
 * the build installs it (npm ci in tests/).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ocpp/schema.h"

#define SCHEMA_FILE "ocpp1_6.json"
#define MAX_REF_HOPS 8
#define MAX_TESTS 128

#include "schema_file.h"
static void check_keywords(cmp_t *c, const json_t *node, const char *path)
{
    static const char *const known[] = {
        "$id",        "$schema",     "type",       "additionalProperties",
        "properties", "required",    "enum",       "format",
        "$ref",       "definitions", "items",      "maxLength",
        "minimum",    "maximum",     "multipleOf", "minItems",
        "maxItems",   "description", "javaType",   "title",
        "$comment",   "comment",     NULL,
    };
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)node, key, v)
    {
        bool ok = false;
        for (size_t i = 0; known[i] != NULL && !ok; i++)
            ok = strcmp(known[i], key) == 0;
        if (!ok) mismatch(c, path, "schema keyword '%s' is not modelled by ocpp_field_t", key);
    }
}

static const char *type_name(ocpp_type_t t)
{
    static const char *const names[] = {"string", "integer", "number", "boolean", "date-time",
                                        "enum",   "object",  "array",  "any"};
    return (size_t)t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

/* The ocpp_type_t a schema node maps to; false (after reporting) if none does. */
static bool expected_type(cmp_t *c, const json_t *node, const char *path, ocpp_type_t *out)
{
    const char *type = json_string_value(json_object_get(node, "type"));
    const char *format = json_string_value(json_object_get(node, "format"));
    if (type == NULL) {
        mismatch(c, path, "schema node has no single \"type\"");
        return false;
    }
    if (strcmp(type, "string") == 0) {
        if (json_object_get(node, "enum") != NULL)
            *out = OCPP_T_ENUM;
        else if (format != NULL && strcmp(format, "date-time") == 0)
            *out = OCPP_T_DATETIME;
        else
            *out = OCPP_T_STRING;
        if (format != NULL && strcmp(format, "date-time") != 0 && strcmp(format, "uri") != 0)
            mismatch(c, path, "string format '%s' is not modelled", format);
        return true;
    }
    static const struct {
        const char *json;
        ocpp_type_t ocpp;
    } map[] = {{"integer", OCPP_T_INTEGER},
               {"number", OCPP_T_NUMBER},
               {"boolean", OCPP_T_BOOLEAN},
               {"object", OCPP_T_OBJECT},
               {"array", OCPP_T_ARRAY}};
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(map[i].json, type) == 0) {
            *out = map[i].ocpp;
            return true;
        }
    }
    mismatch(c, path, "schema type '%s' is not modelled", type);
    return false;
}

static bool enum_has(const char *const *values, const char *v)
{
    for (size_t i = 0; values != NULL && values[i] != NULL; i++) {
        if (strcmp(values[i], v) == 0) return true;
    }
    return false;
}

static void compare_enum(cmp_t *c, const json_t *node, const ocpp_field_t *f, const char *path)
{
    const json_t *values = json_object_get(node, "enum");
    size_t i;
    json_t *v;
    json_array_foreach(values, i, v)
    {
        if (!json_is_string(v))
            mismatch(c, path, "non-string enum value in schema");
        else if (!enum_has(f->enum_values, json_string_value(v)))
            mismatch(c, path, "enum value '%s' missing from the table", json_string_value(v));
    }
    for (i = 0; f->enum_values != NULL && f->enum_values[i] != NULL; i++) {
        bool found = false;
        size_t j;
        json_array_foreach(values, j, v)
        {
            found = found ||
                    (json_is_string(v) && strcmp(json_string_value(v), f->enum_values[i]) == 0);
        }
        if (!found)
            mismatch(c, path, "enum value '%s' is in the table but not in the schema",
                     f->enum_values[i]);
    }
}

/* A numeric keyword vs. our (has, value) pair. */
static void compare_bound(cmp_t *c, const json_t *node, const char *kw, bool has, double ours,
                          const char *path)
{
    const json_t *v = json_object_get(node, kw);
    if (v == NULL && has)
        mismatch(c, path, "table has %s %g, the schema has none", kw, ours);
    else if (v != NULL && !has)
        mismatch(c, path, "schema has %s %g, the table has none", kw, json_number_value(v));
    else if (v != NULL && json_number_value(v) != ours)
        mismatch(c, path, "%s: schema %g, table %g", kw, json_number_value(v), ours);
}

static void compare_count(cmp_t *c, const json_t *node, const char *kw, int ours, const char *path)
{
    const json_t *v = json_object_get(node, kw);
    json_int_t theirs = v != NULL ? json_integer_value(v) : 0;
    if (v != NULL && !json_is_integer(v))
        mismatch(c, path, "%s is not an integer in the schema", kw);
    else if (theirs != ours)
        mismatch(c, path, "%s: schema %" JSON_INTEGER_FORMAT ", table %d", kw, theirs, ours);
}

static void compare_properties(cmp_t *c, const json_t *node, const ocpp_field_t *fields,
                               const char *path, int depth);

static void compare_node(cmp_t *c, const json_t *node, const ocpp_field_t *f, const char *path,
                         int depth)
{
    ocpp_type_t want;
    node = resolve(c, node, path);
    if (node == NULL) return;
    check_keywords(c, node, path);
    if (!expected_type(c, node, path, &want)) return;
    if (f->type != want) {
        mismatch(c, path, "type: schema %s, table %s", type_name(want), type_name(f->type));
        return;
    }
    compare_count(c, node, "maxLength", f->max_len, path);
    if (want == OCPP_T_ENUM)
        compare_enum(c, node, f, path);
    else if (f->enum_values != NULL)
        mismatch(c, path, "table has enum values on a non-enum field");
    bool numeric = want == OCPP_T_INTEGER || want == OCPP_T_NUMBER;
    compare_bound(c, node, "minimum", f->has_min, f->min, path);
    compare_bound(c, node, "maximum", f->has_max, f->max, path);
    compare_bound(c, node, "multipleOf", f->multiple_of != 0, f->multiple_of, path);
    if (!numeric && (f->has_min || f->has_max || f->multiple_of != 0))
        mismatch(c, path, "table has numeric bounds on a non-numeric field");
    compare_count(c, node, "minItems", f->min_items, path);
    compare_count(c, node, "maxItems", f->max_items, path);
    if (want == OCPP_T_OBJECT) {
        compare_properties(c, node, f->fields, path, depth + 1);
    } else if (want == OCPP_T_ARRAY) {
        char sub[512];
        snprintf(sub, sizeof(sub), "%s[]", path);
        if (json_object_get(node, "items") == NULL || f->items == NULL)
            mismatch(c, sub, "array items: schema %s, table %s",
                     json_object_get(node, "items") ? "defined" : "missing",
                     f->items ? "defined" : "missing");
        else
            compare_node(c, json_object_get(node, "items"), f->items, sub, depth + 1);
    }
}

static bool is_required(const json_t *node, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(node, "required"), i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), name) == 0) return true;
    }
    return false;
}

static void compare_properties(cmp_t *c, const json_t *node, const ocpp_field_t *fields,
                               const char *path, int depth)
{
    char sub[512];
    if (depth > 32) {
        mismatch(c, path, "nesting deeper than 32 levels");
        return;
    }
    if (!json_is_false(json_object_get(node, "additionalProperties")))
        mismatch(c, path, "schema allows additional properties; the validator forbids them");
    if (fields == NULL) {
        mismatch(c, path, "table has no field list for this object");
        return;
    }
    const json_t *props = json_object_get(node, "properties");
    const char *name;
    json_t *prop;
    json_object_foreach((json_t *)props, name, prop)
    {
        snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "", name);
        const ocpp_field_t *f = fields;
        while (f->name != NULL && strcmp(f->name, name) != 0)
            f++;
        if (f->name == NULL) {
            mismatch(c, sub, "field is in the schema but not in the table");
            continue;
        }
        if (f->required != is_required(node, name))
            mismatch(c, sub, "required: schema %s, table %s",
                     is_required(node, name) ? "yes" : "no", f->required ? "yes" : "no");
        compare_node(c, prop, f, sub, depth);
    }
    for (const ocpp_field_t *f = fields; f->name != NULL; f++) {
        snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "", f->name);
        if (json_object_get(props, f->name) == NULL)
            mismatch(c, sub, "field is in the table but not in the schema");
    }
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(node, "required"), i, r)
    {
        if (json_object_get(props, json_string_value(r)) == NULL)
            mismatch(c, path, "schema requires '%s' but does not define it",
                     json_string_value(r) ? json_string_value(r) : "?");
    }
}

static int compare_message(const char *action, const char *suffix, const ocpp_field_t *fields)
{
    char id[256];
    snprintf(id, sizeof(id), "%s.%s", action, suffix);
    cmp_t c = {.id = id};
    const json_t *schema = find_schema(action, suffix);
    if (schema == NULL) {
        fprintf(stderr, "    MISMATCH %s: no schema urn:%s in %s\n", id, id, g_schema_path);
        return 1;
    }
    c.root = schema;
    check_keywords(&c, schema, "");
    const char *type = json_string_value(json_object_get(schema, "type"));
    if (type == NULL || strcmp(type, "object") != 0) mismatch(&c, "", "root is not of type object");
    compare_properties(&c, schema, fields, "", 0);
    return c.mismatches;
}

/* ---- tests ------------------------------------------------------------------------------- */

static void require_schemas(void)
{
    if (g_schemas == NULL) fail_msg("%s", g_load_error);
}

static void schema_file_loads(void **state)
{
    (void)state;
    require_schemas();
    assert_true(json_array_size(g_schemas) > 0);
}

static void table_is_sorted_by_action_without_duplicates(void **state)
{
    (void)state;
    assert_string_equal(ocpp_v16_defs.name, "ocpp1.6");
    for (size_t i = 1; i < ocpp_v16_defs.count; i++) {
        if (strcmp(ocpp_v16_defs.messages[i - 1].action, ocpp_v16_defs.messages[i].action) >= 0)
            fail_msg("'%s' must sort after '%s'", ocpp_v16_defs.messages[i].action,
                     ocpp_v16_defs.messages[i - 1].action);
    }
}

static void every_schema_in_file_has_a_table(void **state)
{
    (void)state;
    require_schemas();
    int missing = 0;
    size_t i;
    json_t *s;
    json_array_foreach(g_schemas, i, s)
    {
        char action[128];
        const char *suffix;
        if (!split_id(s, action, sizeof(action), &suffix)) {
            fprintf(stderr, "    MISMATCH schema #%zu: $id is not urn:<Action>.req|conf\n", i);
            missing++;
        } else if (ocpp_schema_find(&ocpp_v16_defs, action) == NULL) {
            fprintf(stderr, "    MISMATCH %s.%s: action is in the schema file, not in the table\n",
                    action, suffix);
            missing++;
        }
    }
    if (missing > 0) fail_msg("%d schema(s) in %s without a table", missing, g_schema_path);
}

static void every_table_action_has_both_schemas(void **state)
{
    (void)state;
    require_schemas();
    int missing = 0;
    for (size_t i = 0; i < ocpp_v16_defs.count; i++) {
        const char *action = ocpp_v16_defs.messages[i].action;
        for (int k = 0; k < 2; k++) {
            const char *suffix = k == 0 ? "req" : "conf";
            if (find_schema(action, suffix) == NULL) {
                fprintf(stderr, "    MISMATCH %s.%s: in the table, not in the schema file\n",
                        action, suffix);
                missing++;
            }
        }
    }
    if (missing > 0) fail_msg("%d table message(s) missing from %s", missing, g_schema_path);
}

/* One test per action: initial_state is its ocpp_message_def_t. */
static void action_matches_schema(void **state)
{
    const ocpp_message_def_t *def = *state;
    require_schemas();
    int n = compare_message(def->action, "req", def->request) +
            compare_message(def->action, "conf", def->response);
    if (n > 0)
        fail_msg("%s: %d mismatch(es) with %s (listed above)", def->action, n, g_schema_path);
}

int main(int argc, char **argv)
{
    static struct CMUnitTest tests[MAX_TESTS];
    static char names[MAX_TESTS][96];
    size_t n = 0;

    load_schemas(argc, argv);
    if (g_schemas == NULL) fprintf(stderr, "test_v16_schemas: %s\n", g_load_error);

    tests[n++] = (struct CMUnitTest)cmocka_unit_test(schema_file_loads);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(table_is_sorted_by_action_without_duplicates);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(every_schema_in_file_has_a_table);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(every_table_action_has_both_schemas);
    for (size_t i = 0; i < ocpp_v16_defs.count && n < MAX_TESTS; i++, n++) {
        snprintf(names[n], sizeof(names[n]), "%s_matches_schema", ocpp_v16_defs.messages[i].action);
        tests[n] = (struct CMUnitTest){
            .name = names[n],
            .test_func = action_matches_schema,
            .initial_state = (void *)&ocpp_v16_defs.messages[i],
        };
    }
    int failed =
        _cmocka_run_group_tests("ocpp1.6 tables vs. official schemas", tests, n, NULL, NULL);
    json_decref(g_schemas);
    return failed == 0 ? 0 : 1;
}
