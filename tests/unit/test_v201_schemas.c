/*
 * Checks the hand-written OCPP 2.0.1 tables (src/ocpp/v201_defs.c) against the
 * official OCPP 2.0.1 JSON schemas that ship in the ocpp-rpc npm package, and
 * specifies how the validator treats 2.0.1's open customData objects.
 *
 * Why: the tables are written from the specification because the schemas may
 * not be copied into the repository; this test is what keeps the two in step.
 * It walks both trees side by side (following "$ref": "#/definitions/X" and
 * "items" into arrays) and prints every difference with its path, e.g.
 *     TransactionEvent.req meterValue[].sampledValue[].measurand: enum value 'SoC' missing
 * so a failure says exactly which line of the table to fix. It compares
 * properties, required sets, types, enums, maxLength, minimum/maximum,
 * multipleOf, minItems/maxItems and whether an object is open (customData) or
 * closed. Schema keywords it does not understand are reported too, so a new
 * constraint cannot slip by.
 *
 * The second half runs the validator over every 2.0.1 table with generated
 * payloads (every field present, then broken one field at a time) and over
 * hand-written messages, customData above all.
 *
 * Usage: test_v201_schemas [path/to/ocpp2_0_1.json], or set AMPGRID_SCHEMA_DIR
 * to the directory holding ocpp2_0_1.json. A missing file is a failure, not a
 * skip: the build installs it (npm ci in tests/).
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

#define SCHEMA_FILE "ocpp2_0_1.json"
#define MAX_REF_HOPS 8
#define MAX_TESTS 160
#define MSG_CAP 512
#define V201_ACTIONS 64

#include "schema_file.h"
/* Keywords that say nothing a validator must enforce. */
static bool is_annotation(const char *key)
{
    static const char *const notes[] = {"$id",   "$schema",  "description", "javaType",
                                        "title", "$comment", "comment",     NULL};
    for (size_t i = 0; notes[i] != NULL; i++) {
        if (strcmp(notes[i], key) == 0) return true;
    }
    return false;
}

/* "default" is checked against the table (compare_default); "additionalItems"
 * has no effect next to a single "items" schema (checked in compare_node). */
static void check_keywords(cmp_t *c, const json_t *node, const char *path)
{
    static const char *const known[] = {
        "type",
        "additionalProperties",
        "properties",
        "required",
        "enum",
        "format",
        "$ref",
        "definitions",
        "items",
        "maxLength",
        "minimum",
        "maximum",
        "multipleOf",
        "minItems",
        "maxItems",
        "default",
        "additionalItems",
        NULL,
    };
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)node, key, v)
    {
        bool ok = is_annotation(key);
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

/* True when the node constrains nothing (DataTransfer's "data"). */
static bool is_unconstrained(const json_t *node)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)node, key, v)
    {
        if (!is_annotation(key)) return false;
    }
    return true;
}

/* The ocpp_type_t a schema node maps to; false (after reporting) if none does. */
static bool expected_type(cmp_t *c, const json_t *node, const char *path, ocpp_type_t *out)
{
    const char *type = json_string_value(json_object_get(node, "type"));
    const char *format = json_string_value(json_object_get(node, "format"));
    if (type == NULL) {
        if (is_unconstrained(node)) {
            *out = OCPP_T_ANY;
            return true;
        }
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
        /* 2.0.1 uses no other format; "uri" would need a check the validator lacks. */
        if (format != NULL && strcmp(format, "date-time") != 0)
            mismatch(c, path, "string format '%s' is not modelled", format);
        return true;
    }
    if (format != NULL) mismatch(c, path, "format '%s' on a %s is not modelled", format, type);
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

/* The validator does not fill in defaults, but a default must at least be a
 * value the table accepts (an enum default that the table lacks is a typo). */
static void compare_default(cmp_t *c, const json_t *node, const ocpp_field_t *f, const char *path)
{
    json_t *def = json_object_get(node, "default");
    if (def == NULL) return;
    ocpp_field_t one[2] = {*f, {.name = NULL}};
    one[0].name = "default";
    one[0].required = true;
    json_t *wrap = json_pack("{s:O}", "default", def);
    char msg[MSG_CAP];
    if (ocpp_schema_validate(one, wrap, msg, sizeof(msg)) != OCPP_OK)
        mismatch(c, path, "the schema's default is refused by the table: %s", msg);
    json_decref(wrap);
}

static void compare_properties(cmp_t *c, const json_t *node, const ocpp_field_t *fields, bool open,
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
    compare_default(c, node, f, path);
    if (want != OCPP_T_OBJECT && f->open) mismatch(c, path, "table marks a non-object open");
    if (want == OCPP_T_OBJECT) {
        compare_properties(c, node, f->fields, f->open, path, depth + 1);
    } else if (want == OCPP_T_ARRAY) {
        char sub[512];
        snprintf(sub, sizeof(sub), "%s[]", path);
        const json_t *items = json_object_get(node, "items");
        if (items == NULL || f->items == NULL)
            mismatch(c, sub, "array items: schema %s, table %s", items ? "defined" : "missing",
                     f->items ? "defined" : "missing");
        else
            compare_node(c, items, f->items, sub, depth + 1);
        /* With a single "items" schema, draft-07 ignores "additionalItems". */
        if (json_object_get(node, "additionalItems") != NULL && !json_is_object(items))
            mismatch(c, path, "\"additionalItems\" with tuple \"items\" is not modelled");
    } else if (json_object_get(node, "additionalItems") != NULL) {
        mismatch(c, path, "\"additionalItems\" on a non-array");
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

/* `open` is the table's flag for this object (always false at a message root). */
static void compare_properties(cmp_t *c, const json_t *node, const ocpp_field_t *fields, bool open,
                               const char *path, int depth)
{
    char sub[512];
    if (depth > 32) {
        mismatch(c, path, "nesting deeper than 32 levels");
        return;
    }
    const json_t *additional = json_object_get(node, "additionalProperties");
    if (additional != NULL && !json_is_boolean(additional))
        mismatch(c, path, "additionalProperties with a schema is not modelled");
    bool schema_open = additional == NULL || json_is_true(additional);
    if (schema_open != open)
        mismatch(c, path, "object: schema %s, table %s", schema_open ? "open" : "closed",
                 open ? "open" : "closed");
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
        for (const ocpp_field_t *g = f + 1; g->name != NULL; g++) {
            if (strcmp(f->name, g->name) == 0) mismatch(c, sub, "field is in the table twice");
        }
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
    /* The validator treats every message root as closed. */
    compare_properties(&c, schema, fields, false, "", 0);
    return c.mismatches;
}

/* ---- conformance tests ------------------------------------------------------------------- */

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
    assert_string_equal(ocpp_v201_defs.name, "ocpp2.0.1");
    for (size_t i = 1; i < ocpp_v201_defs.count; i++) {
        if (strcmp(ocpp_v201_defs.messages[i - 1].action, ocpp_v201_defs.messages[i].action) >= 0)
            fail_msg("'%s' must sort after '%s'", ocpp_v201_defs.messages[i].action,
                     ocpp_v201_defs.messages[i - 1].action);
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
        } else if (ocpp_schema_find(&ocpp_v201_defs, action) == NULL) {
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
    for (size_t i = 0; i < ocpp_v201_defs.count; i++) {
        const char *action = ocpp_v201_defs.messages[i].action;
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

/* ---- the table as a whole ---------------------------------------------------------------- */

/* Who sends the request, from Part 2 of the specification (the schemas do not say). */
static const char *const from_station[] = {
    "Authorize",
    "BootNotification",
    "ClearedChargingLimit",
    "FirmwareStatusNotification",
    "Get15118EVCertificate",
    "GetCertificateStatus",
    "Heartbeat",
    "LogStatusNotification",
    "MeterValues",
    "NotifyChargingLimit",
    "NotifyCustomerInformation",
    "NotifyDisplayMessages",
    "NotifyEVChargingNeeds",
    "NotifyEVChargingSchedule",
    "NotifyEvent",
    "NotifyMonitoringReport",
    "NotifyReport",
    "PublishFirmwareStatusNotification",
    "ReportChargingProfiles",
    "ReservationStatusUpdate",
    "SecurityEventNotification",
    "SignCertificate",
    "StatusNotification",
    "TransactionEvent",
    NULL,
};
static const char *const to_station[] = {
    "CancelReservation",
    "CertificateSigned",
    "ChangeAvailability",
    "ClearCache",
    "ClearChargingProfile",
    "ClearDisplayMessage",
    "ClearVariableMonitoring",
    "CostUpdated",
    "CustomerInformation",
    "DeleteCertificate",
    "GetBaseReport",
    "GetChargingProfiles",
    "GetCompositeSchedule",
    "GetDisplayMessages",
    "GetInstalledCertificateIds",
    "GetLocalListVersion",
    "GetLog",
    "GetMonitoringReport",
    "GetReport",
    "GetTransactionStatus",
    "GetVariables",
    "InstallCertificate",
    "PublishFirmware",
    "RequestStartTransaction",
    "RequestStopTransaction",
    "ReserveNow",
    "Reset",
    "SendLocalList",
    "SetChargingProfile",
    "SetDisplayMessage",
    "SetMonitoringBase",
    "SetMonitoringLevel",
    "SetNetworkProfile",
    "SetVariableMonitoring",
    "SetVariables",
    "TriggerMessage",
    "UnlockConnector",
    "UnpublishFirmware",
    "UpdateFirmware",
    NULL,
};

static void table_defines_all_64_actions(void **state)
{
    (void)state;
    assert_int_equal(ocpp_v201_defs.count, V201_ACTIONS);
    for (size_t i = 0; i < ocpp_v201_defs.count; i++) {
        const ocpp_message_def_t *def = &ocpp_v201_defs.messages[i];
        assert_ptr_equal(ocpp_schema_find(&ocpp_v201_defs, def->action), def);
        assert_non_null(def->request);
        assert_non_null(def->response);
    }
}

static void find_does_not_return_1_6_only_or_miscased_actions(void **state)
{
    (void)state;
    static const char *const absent[] = {
        "StartTransaction",    "StopTransaction",  "RemoteStartTransaction",
        "ChangeConfiguration", "GetConfiguration", "GetDiagnostics",
        "authorize",           "Authorize ",       "",
    };
    for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
        assert_null(ocpp_schema_find(&ocpp_v201_defs, absent[i]));
}

static void directions_follow_who_sends_the_request(void **state)
{
    (void)state;
    size_t listed = 0;
    for (int k = 0; k < 2; k++) {
        const char *const *names = k == 0 ? from_station : to_station;
        ocpp_dir_t dir = k == 0 ? OCPP_DIR_FROM_STATION : OCPP_DIR_TO_STATION;
        for (size_t i = 0; names[i] != NULL; i++, listed++) {
            const ocpp_message_def_t *def = ocpp_schema_find(&ocpp_v201_defs, names[i]);
            if (def == NULL) fail_msg("%s is not in the table", names[i]);
            if (def->dir != dir)
                fail_msg("%s: direction %d, expected %d", names[i], (int)def->dir, (int)dir);
        }
    }
    assert_int_equal(ocpp_schema_find(&ocpp_v201_defs, "DataTransfer")->dir, OCPP_DIR_BOTH);
    assert_int_equal(listed + 1, ocpp_v201_defs.count);
}

/* Calls `visit` for every object table reachable from `fields` (the root too). */
typedef void (*object_visit_cb)(const char *id, const char *path, const ocpp_field_t *fields,
                                bool open, int *problems);

static void visit_objects(const char *id, const char *path, const ocpp_field_t *fields, bool open,
                          object_visit_cb visit, int *problems, int depth)
{
    char sub[512];
    if (depth > 32) fail_msg("%s %s: table nested deeper than 32 levels", id, path);
    visit(id, path, fields, open, problems);
    for (const ocpp_field_t *f = fields; f->name != NULL; f++) {
        snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "", f->name);
        const ocpp_field_t *obj = f->type == OCPP_T_OBJECT ? f : NULL;
        if (f->type == OCPP_T_ARRAY && f->items != NULL && f->items->type == OCPP_T_OBJECT) {
            obj = f->items;
            strncat(sub, "[]", sizeof(sub) - strlen(sub) - 1);
        }
        if (obj != NULL) visit_objects(id, sub, obj->fields, obj->open, visit, problems, depth + 1);
    }
}

static void visit_all(const ocpp_version_defs_t *defs, object_visit_cb visit, int *problems)
{
    for (size_t i = 0; i < defs->count; i++) {
        const ocpp_message_def_t *def = &defs->messages[i];
        char id[128];
        snprintf(id, sizeof(id), "%s.req", def->action);
        visit_objects(id, "", def->request, false, visit, problems, 0);
        snprintf(id, sizeof(id), "%s.conf", def->action);
        visit_objects(id, "", def->response, false, visit, problems, 0);
    }
}

/* customData: optional, open, and holding exactly a required vendorId of at most 255. */
static void check_custom_data(const char *id, const char *path, const ocpp_field_t *fields,
                              bool open, int *problems)
{
    size_t plen = strlen(path);
    bool is_custom_data = plen >= 10 && strcmp(path + plen - 10, "customData") == 0;
    if (is_custom_data) {
        if (!open) {
            fprintf(stderr, "    %s %s: customData must be open\n", id, path);
            (*problems)++;
        }
        const ocpp_field_t *v = &fields[0];
        if (v->name == NULL || strcmp(v->name, "vendorId") != 0 || v->type != OCPP_T_STRING ||
            !v->required || v->max_len != 255 || fields[1].name != NULL) {
            fprintf(stderr, "    %s %s: customData must hold exactly vendorId (required, 255)\n",
                    id, path);
            (*problems)++;
        }
        return;
    }
    if (open) {
        fprintf(stderr, "    %s %s: only customData may be open\n", id, path);
        (*problems)++;
    }
    const ocpp_field_t *f = fields;
    while (f->name != NULL && strcmp(f->name, "customData") != 0)
        f++;
    if (f->name == NULL || f->type != OCPP_T_OBJECT || f->required) {
        fprintf(stderr, "    %s %s: no optional customData object\n", id,
                path[0] ? path : "(root)");
        (*problems)++;
    }
}

static void every_object_carries_an_open_custom_data_and_nothing_else_is_open(void **state)
{
    (void)state;
    int problems = 0;
    visit_all(&ocpp_v201_defs, check_custom_data, &problems);
    if (problems > 0) fail_msg("%d customData problem(s), listed above", problems);
}

static void count_open(const char *id, const char *path, const ocpp_field_t *fields, bool open,
                       int *problems)
{
    (void)fields;
    if (open) {
        fprintf(stderr, "    %s %s: open object in a 1.6 table\n", id, path);
        (*problems)++;
    }
}

static void no_1_6_object_is_open(void **state)
{
    (void)state;
    int problems = 0;
    visit_all(&ocpp_v16_defs, count_open, &problems);
    assert_int_equal(problems, 0);
}

/* ---- validator behaviour with 2.0.1 messages --------------------------------------------- */

static json_t *parse(const char *text)
{
    json_error_t error;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &error);
    if (j == NULL) fail_msg("test JSON does not parse: %s: %s", error.text, text);
    return j;
}

#define REQUEST false
#define RESPONSE true

static const ocpp_field_t *fields_of(const char *action, bool response)
{
    const ocpp_message_def_t *def = ocpp_schema_find(&ocpp_v201_defs, action);
    if (def == NULL) fail_msg("no 2.0.1 definition for %s", action);
    return response ? def->response : def->request;
}

/* Asserts the error class and, unless NULL, the exact message. */
static void expect(const char *action, bool response, const char *json, ocpp_err_t want,
                   const char *want_msg)
{
    char msg[MSG_CAP];
    json_t *payload = parse(json);
    ocpp_err_t got = ocpp_schema_validate(fields_of(action, response), payload, msg, sizeof(msg));
    json_decref(payload);
    if (got != want)
        fail_msg("%s %s: expected error %d, got %d (%s) for %s", action,
                 response ? "response" : "request", (int)want, (int)got, msg, json);
    if (want_msg != NULL && strcmp(msg, want_msg) != 0)
        fail_msg("%s: expected message '%s', got '%s'", action, want_msg, msg);
}

static void expect_ok(const char *action, bool response, const char *json)
{
    expect(action, response, json, OCPP_OK, "");
}

#define BOOT_MINIMAL                                                                               \
    "{\"chargingStation\": {\"model\": \"W1\", \"vendorName\": \"Acme\"}, \"reason\": "            \
    "\"PowerUp\"}"

static void accepts_minimal_boot_notification(void **state)
{
    (void)state;
    expect_ok("BootNotification", REQUEST, BOOT_MINIMAL);
    expect_ok("BootNotification", RESPONSE,
              "{\"currentTime\": \"2024-01-02T03:04:05Z\", \"interval\": 300, "
              "\"status\": \"Accepted\"}");
}

static void rejects_a_1_6_boot_notification(void **state)
{
    (void)state;
    expect("BootNotification", REQUEST,
           "{\"chargePointVendor\": \"Acme\", \"chargePointModel\": \"W1\"}", OCPP_ERR_FORMAT,
           "unknown field 'chargePointVendor'");
}

static void accepts_custom_data_with_vendor_fields_at_root_and_nested(void **state)
{
    (void)state;
    expect_ok("BootNotification", REQUEST,
              "{\"customData\": {\"vendorId\": \"com.acme\", \"site\": \"north\", \"n\": 7},"
              " \"chargingStation\": {\"model\": \"W1\", \"vendorName\": \"Acme\","
              "   \"customData\": {\"vendorId\": \"com.acme\", \"hw\": {\"rev\": [1, 2, null]}},"
              "   \"modem\": {\"iccid\": \"8931\", \"customData\": {\"vendorId\": \"x\", "
              "\"apn\": true}}},"
              " \"reason\": \"PowerUp\"}");
}

static void custom_data_contents_beyond_vendor_id_are_not_checked(void **state)
{
    (void)state;
    /* Any JSON under a vendor key: it is the vendor's, not the specification's. */
    expect_ok("Heartbeat", REQUEST,
              "{\"customData\": {\"vendorId\": \"v\", \"customData\": 1, \"vendorId2\": "
              "[[[[{}]]]], \"s\": \"\\u0000\", \"z\": null}}");
}

static void rejects_custom_data_without_vendor_id(void **state)
{
    (void)state;
    expect("Heartbeat", REQUEST, "{\"customData\": {\"site\": \"north\"}}", OCPP_ERR_OCCURRENCE,
           "customData.vendorId: required field is missing");
    expect("BootNotification", REQUEST,
           "{\"chargingStation\": {\"model\": \"W1\", \"vendorName\": \"Acme\", "
           "\"customData\": {}}, \"reason\": \"PowerUp\"}",
           OCPP_ERR_OCCURRENCE, "chargingStation.customData.vendorId: required field is missing");
}

static void rejects_custom_data_vendor_id_longer_than_255(void **state)
{
    (void)state;
    char json[600];
    char id[257];
    memset(id, 'v', 256);
    id[256] = '\0';
    snprintf(json, sizeof(json), "{\"customData\": {\"vendorId\": \"%s\"}}", id);
    expect("Heartbeat", REQUEST, json, OCPP_ERR_PROPERTY, NULL);
    id[255] = '\0';
    snprintf(json, sizeof(json), "{\"customData\": {\"vendorId\": \"%s\"}}", id);
    expect_ok("Heartbeat", REQUEST, json);
}

static void rejects_custom_data_of_the_wrong_type(void **state)
{
    (void)state;
    expect("Heartbeat", REQUEST, "{\"customData\": \"com.acme\"}", OCPP_ERR_TYPE,
           "customData: expected an object, got a string");
    expect("Heartbeat", REQUEST, "{\"customData\": {\"vendorId\": 7}}", OCPP_ERR_TYPE,
           "customData.vendorId: expected a string, got an integer");
}

static void vendor_fields_outside_custom_data_are_unknown_fields(void **state)
{
    (void)state;
    expect("Heartbeat", REQUEST, "{\"vendorId\": \"com.acme\"}", OCPP_ERR_FORMAT,
           "unknown field 'vendorId'");
    expect("BootNotification", REQUEST,
           "{\"chargingStation\": {\"model\": \"W1\", \"vendorName\": \"Acme\", "
           "\"site\": \"north\"}, \"reason\": \"PowerUp\"}",
           OCPP_ERR_FORMAT, "chargingStation: unknown field 'site'");
}

static void data_transfer_data_accepts_any_json_value(void **state)
{
    (void)state;
    static const char *const values[] = {
        "\"text\"", "42", "4.2", "true", "null", "[1, \"a\"]", "{\"k\": {\"v\": []}}"};
    char json[256];
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        snprintf(json, sizeof(json), "{\"vendorId\": \"com.acme\", \"data\": %s}", values[i]);
        expect_ok("DataTransfer", REQUEST, json);
        snprintf(json, sizeof(json), "{\"status\": \"Accepted\", \"data\": %s}", values[i]);
        expect_ok("DataTransfer", RESPONSE, json);
    }
}

#define EV_NEEDS_SOC(v)                                                                            \
    "{\"evseId\": 1, \"chargingNeeds\": {\"requestedEnergyTransfer\": \"DC\", "                    \
    "\"dcChargingParameters\": {\"evMaxCurrent\": 200, \"evMaxVoltage\": 800, "                    \
    "\"stateOfCharge\": " v "}}}"

static void state_of_charge_is_bounded_to_0_to_100(void **state)
{
    (void)state;
    expect_ok("NotifyEVChargingNeeds", REQUEST, EV_NEEDS_SOC("0"));
    expect_ok("NotifyEVChargingNeeds", REQUEST, EV_NEEDS_SOC("100"));
    expect("NotifyEVChargingNeeds", REQUEST, EV_NEEDS_SOC("101"), OCPP_ERR_PROPERTY,
           "chargingNeeds.dcChargingParameters.stateOfCharge: 101 is greater than the maximum "
           "100");
    expect("NotifyEVChargingNeeds", REQUEST, EV_NEEDS_SOC("-1"), OCPP_ERR_PROPERTY,
           "chargingNeeds.dcChargingParameters.stateOfCharge: -1 is less than the minimum 0");
}

#define PROFILE(schedules)                                                                         \
    "{\"evseId\": 0, \"chargingProfile\": {\"id\": 1, \"stackLevel\": 0, "                         \
    "\"chargingProfilePurpose\": \"TxDefaultProfile\", \"chargingProfileKind\": "                  \
    "\"Absolute\", \"chargingSchedule\": [" schedules "]}}"
#define SCHEDULE(limit)                                                                            \
    "{\"id\": 1, \"chargingRateUnit\": \"A\", \"chargingSchedulePeriod\": "                        \
    "[{\"startPeriod\": 0, \"limit\": " limit "}]}"

static void charging_profile_holds_one_to_three_schedules(void **state)
{
    (void)state;
    expect_ok("SetChargingProfile", REQUEST, PROFILE(SCHEDULE("16")));
    expect_ok("SetChargingProfile", REQUEST,
              PROFILE(SCHEDULE("16") "," SCHEDULE("10") "," SCHEDULE("6")));
    expect("SetChargingProfile", REQUEST,
           PROFILE(SCHEDULE("16") "," SCHEDULE("10") "," SCHEDULE("6") "," SCHEDULE("1")),
           OCPP_ERR_OCCURRENCE, "chargingProfile.chargingSchedule: has 4 items; at most 3 allowed");
    expect("SetChargingProfile", REQUEST, PROFILE(""), OCPP_ERR_OCCURRENCE,
           "chargingProfile.chargingSchedule: has 0 items; at least 1 required");
}

static void charging_limit_is_any_number_as_in_the_schema(void **state)
{
    (void)state;
    /* The specification asks for one decimal at most; the 2.0.1 schemas do not. */
    expect_ok("SetChargingProfile", REQUEST, PROFILE(SCHEDULE("7.25")));
}

static void rejects_negative_e_price_level(void **state)
{
    (void)state;
    const char *tariff = "{\"evseId\": 1, \"timeBase\": \"2024-01-02T03:04:05Z\", "
                         "\"chargingSchedule\": {\"id\": 1, \"chargingRateUnit\": \"W\", "
                         "\"chargingSchedulePeriod\": [{\"startPeriod\": 0, \"limit\": 11000}], "
                         "\"salesTariff\": {\"id\": 1, \"salesTariffEntry\": ["
                         "{\"relativeTimeInterval\": {\"start\": 0}, \"ePriceLevel\": %d}]}}}";
    char json[512];
    snprintf(json, sizeof(json), tariff, 0);
    expect_ok("NotifyEVChargingSchedule", REQUEST, json);
    snprintf(json, sizeof(json), tariff, -1);
    expect("NotifyEVChargingSchedule", REQUEST, json, OCPP_ERR_PROPERTY,
           "chargingSchedule.salesTariff.salesTariffEntry[0].ePriceLevel: -1 is less than the "
           "minimum 0");
}

static void accepts_transaction_event_with_meter_values(void **state)
{
    (void)state;
    expect_ok("TransactionEvent", REQUEST,
              "{\"eventType\": \"Updated\", \"timestamp\": \"2024-01-02T03:04:05.123Z\", "
              "\"triggerReason\": \"MeterValuePeriodic\", \"seqNo\": 3, \"offline\": false, "
              "\"transactionInfo\": {\"transactionId\": \"f4a6c1e2-0b7d-4e3a-9c55-2d1f0e8b7a61\","
              " \"chargingState\": \"Charging\"}, "
              "\"evse\": {\"id\": 1, \"connectorId\": 1}, "
              "\"idToken\": {\"idToken\": \"04A2B3C4\", \"type\": \"ISO14443\"}, "
              "\"meterValue\": [{\"timestamp\": \"2024-01-02T03:04:05Z\", \"sampledValue\": ["
              "{\"value\": 1234.5, \"measurand\": \"Energy.Active.Import.Register\", "
              "\"unitOfMeasure\": {\"unit\": \"kWh\", \"multiplier\": 0}},"
              "{\"value\": 16, \"measurand\": \"Current.Import\", \"phase\": \"L1\"}]}]}");
    expect_ok("TransactionEvent", RESPONSE,
              "{\"totalCost\": 3.25, \"idTokenInfo\": {\"status\": \"Accepted\", \"evseId\": [1]},"
              " \"updatedPersonalMessage\": {\"format\": \"UTF8\", \"content\": \"Hallo\"}}");
}

static void rejects_sampled_value_as_string(void **state)
{
    (void)state;
    /* 1.6 sent meter readings as strings; 2.0.1 sends numbers. */
    expect("MeterValues", REQUEST,
           "{\"evseId\": 1, \"meterValue\": [{\"timestamp\": \"2024-01-02T03:04:05Z\", "
           "\"sampledValue\": [{\"value\": \"1234.5\"}]}]}",
           OCPP_ERR_TYPE, "meterValue[0].sampledValue[0].value: expected a number, got a string");
}

/* ---- every table: generated payloads ------------------------------------------------------ */

static char *repeat(const char *unit, size_t times)
{
    size_t n = strlen(unit);
    char *s = malloc(n * times + 1);
    assert_non_null(s);
    for (size_t i = 0; i < times; i++)
        memcpy(s + i * n, unit, n);
    s[n * times] = '\0';
    return s;
}

static json_t *sample_value(const ocpp_field_t *f);

/* An object holding every field of the table; an open one also a vendor field. */
static json_t *sample_object(const ocpp_field_t *fields, bool open)
{
    json_t *o = json_object();
    for (const ocpp_field_t *f = fields; f->name != NULL; f++)
        json_object_set_new(o, f->name, sample_value(f));
    if (open) json_object_set_new(o, "vendorExtra", json_pack("{s:[i,s,n]}", "x", 1, "y"));
    return o;
}

/* A valid value at an edge: strings at max length in 2-byte characters, bounds. */
static json_t *sample_value(const ocpp_field_t *f)
{
    size_t n = 0;
    switch (f->type) {
    case OCPP_T_STRING: {
        char *s = repeat("\xc3\xa9", f->max_len > 0 ? (size_t)f->max_len : 3);
        json_t *j = json_string(s);
        free(s);
        return j;
    }
    case OCPP_T_INTEGER:
        return json_integer(f->has_max ? (json_int_t)f->max : f->has_min ? (json_int_t)f->min : 1);
    case OCPP_T_NUMBER:
        return json_real(0.1);
    case OCPP_T_BOOLEAN:
        return json_false();
    case OCPP_T_DATETIME:
        return json_string("2024-02-29T23:59:60.5+05:30");
    case OCPP_T_ENUM:
        while (f->enum_values[n + 1] != NULL)
            n++;
        return json_string(f->enum_values[n]); /* the last value */
    case OCPP_T_OBJECT:
        return sample_object(f->fields, f->open);
    case OCPP_T_ARRAY: {
        json_t *a = json_array();
        int items = f->max_items > 0 ? f->max_items : 2;
        if (items > 4) items = 4; /* 1024 periods of 1024 tariff entries would be slow */
        if (items < f->min_items) items = f->min_items;
        for (int i = 0; i < items; i++)
            json_array_append_new(a, sample_value(f->items));
        return a;
    }
    case OCPP_T_ANY:
        return json_pack("{s:[b]}", "any", 1);
    }
    return json_null();
}

static json_t *wrong_type_for(ocpp_type_t t)
{
    switch (t) {
    case OCPP_T_STRING:
    case OCPP_T_DATETIME:
    case OCPP_T_ENUM:
        return json_integer(7);
    case OCPP_T_INTEGER:
        return json_real(7.0);
    case OCPP_T_NUMBER:
        return json_string("7");
    case OCPP_T_BOOLEAN:
        return json_string("false");
    case OCPP_T_OBJECT:
        return json_array();
    case OCPP_T_ARRAY:
        return json_object();
    case OCPP_T_ANY:
        break;
    }
    return NULL;
}

typedef enum mutation { NO_MUTATION, WRONG_TYPE, DROP_REQUIRED, ADD_UNKNOWN } mutation_t;

typedef struct walk {
    const char *id; /* "BootNotification.req" */
    const ocpp_field_t *root_fields;
    json_t *root;
    mutation_t mutation;
    int checks;
    int open_checks; /* unknown fields accepted by open objects */
} walk_t;

static void check_mutated(walk_t *w, ocpp_err_t want, const char *path, const char *expect_msg)
{
    char msg[MSG_CAP];
    ocpp_err_t got = ocpp_schema_validate(w->root_fields, w->root, msg, sizeof(msg));
    char prefix[300];
    snprintf(prefix, sizeof(prefix), "%s: ", path);
    if (got != want)
        fail_msg("%s %s: expected error %d, got %d (%s)", w->id, path, (int)want, (int)got, msg);
    if (want != OCPP_OK && (expect_msg != NULL ? strcmp(msg, expect_msg) != 0
                                               : strncmp(msg, prefix, strlen(prefix)) != 0))
        fail_msg("%s: message '%s' does not name '%s'", w->id, msg, path);
    w->checks++;
}

/* Replaces obj[name] (or arr[index]) with a wrong type, validates, restores. */
static void mutate_type(walk_t *w, json_t *container, const char *name, size_t index,
                        const ocpp_field_t *f, const char *path)
{
    json_t *wrong = wrong_type_for(f->type);
    if (wrong == NULL) return;
    json_t *orig = name ? json_object_get(container, name) : json_array_get(container, index);
    json_incref(orig);
    if (name != NULL)
        json_object_set_new(container, name, wrong);
    else
        json_array_set_new(container, index, wrong);
    check_mutated(w, OCPP_ERR_TYPE, path, NULL);
    if (name != NULL)
        json_object_set_new(container, name, orig);
    else
        json_array_set_new(container, index, orig);
}

static void walk_object(walk_t *w, json_t *obj, const ocpp_field_t *fields, bool open,
                        const char *path);

static void walk_value(walk_t *w, json_t *v, const ocpp_field_t *f, const char *path)
{
    char sub[300];
    if (f->type == OCPP_T_OBJECT) walk_object(w, v, f->fields, f->open, path);
    if (f->type != OCPP_T_ARRAY) return;
    for (size_t i = 0; i < json_array_size(v); i++) {
        snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
        if (w->mutation == WRONG_TYPE) mutate_type(w, v, NULL, i, f->items, sub);
        walk_value(w, json_array_get(v, i), f->items, sub);
    }
}

static void walk_object(walk_t *w, json_t *obj, const ocpp_field_t *fields, bool open,
                        const char *path)
{
    char sub[300];
    if (w->mutation == ADD_UNKNOWN) {
        char expect_msg[400];
        snprintf(expect_msg, sizeof(expect_msg), "%s%sunknown field 'bogusField'", path,
                 path[0] ? ": " : "");
        json_object_set_new(obj, "bogusField", json_true());
        check_mutated(w, open ? OCPP_OK : OCPP_ERR_FORMAT, path, expect_msg);
        w->open_checks += open;
        json_object_del(obj, "bogusField");
    }
    for (const ocpp_field_t *f = fields; f->name != NULL; f++) {
        snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "", f->name);
        json_t *v = json_object_get(obj, f->name);
        if (w->mutation == WRONG_TYPE) mutate_type(w, obj, f->name, 0, f, sub);
        if (w->mutation == DROP_REQUIRED && f->required) {
            json_incref(v);
            json_object_del(obj, f->name);
            check_mutated(w, OCPP_ERR_OCCURRENCE, sub, NULL);
            json_object_set_new(obj, f->name, v);
        }
        walk_value(w, v, f, sub);
    }
}

/* Runs `mutation` over every request and response table; returns the checks made. */
static int walk_all_tables(mutation_t mutation, int *open_checks)
{
    int checks = 0;
    for (size_t i = 0; i < ocpp_v201_defs.count; i++) {
        const ocpp_message_def_t *def = &ocpp_v201_defs.messages[i];
        for (int k = 0; k < 2; k++) {
            char id[128];
            snprintf(id, sizeof(id), "%s.%s", def->action, k == 0 ? "req" : "conf");
            walk_t w = {.id = id,
                        .root_fields = k == 0 ? def->request : def->response,
                        .mutation = mutation};
            w.root = sample_object(w.root_fields, false);
            char msg[MSG_CAP];
            if (ocpp_schema_validate(w.root_fields, w.root, msg, sizeof(msg)) != OCPP_OK)
                fail_msg("%s: generated payload rejected: %s", id, msg);
            walk_object(&w, w.root, w.root_fields, false, "");
            checks += w.checks;
            if (open_checks != NULL) *open_checks += w.open_checks;
            json_decref(w.root);
        }
    }
    return checks;
}

static void every_table_accepts_a_payload_with_every_field(void **state)
{
    (void)state;
    walk_all_tables(NO_MUTATION, NULL);
}

static void every_field_of_every_table_rejects_a_wrong_type(void **state)
{
    (void)state;
    assert_true(walk_all_tables(WRONG_TYPE, NULL) > 1000);
}

static void every_required_field_of_every_table_is_enforced(void **state)
{
    (void)state;
    assert_true(walk_all_tables(DROP_REQUIRED, NULL) > 500);
}

static void closed_objects_reject_and_custom_data_accepts_unknown_fields(void **state)
{
    (void)state;
    int open_checks = 0;
    int checks = walk_all_tables(ADD_UNKNOWN, &open_checks);
    assert_true(open_checks > 100);
    assert_true(checks - open_checks > 100);
}

/* ---- main -------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    static struct CMUnitTest tests[MAX_TESTS];
    static char names[MAX_TESTS][96];
    size_t n = 0;

    load_schemas(argc, argv);
    if (g_schemas == NULL) fprintf(stderr, "test_v201_schemas: %s\n", g_load_error);

#define ADD(fn) tests[n++] = (struct CMUnitTest)cmocka_unit_test(fn)
    ADD(schema_file_loads);
    ADD(table_is_sorted_by_action_without_duplicates);
    ADD(every_schema_in_file_has_a_table);
    ADD(every_table_action_has_both_schemas);
    ADD(table_defines_all_64_actions);
    ADD(find_does_not_return_1_6_only_or_miscased_actions);
    ADD(directions_follow_who_sends_the_request);
    ADD(every_object_carries_an_open_custom_data_and_nothing_else_is_open);
    ADD(no_1_6_object_is_open);
    ADD(accepts_minimal_boot_notification);
    ADD(rejects_a_1_6_boot_notification);
    ADD(accepts_custom_data_with_vendor_fields_at_root_and_nested);
    ADD(custom_data_contents_beyond_vendor_id_are_not_checked);
    ADD(rejects_custom_data_without_vendor_id);
    ADD(rejects_custom_data_vendor_id_longer_than_255);
    ADD(rejects_custom_data_of_the_wrong_type);
    ADD(vendor_fields_outside_custom_data_are_unknown_fields);
    ADD(data_transfer_data_accepts_any_json_value);
    ADD(state_of_charge_is_bounded_to_0_to_100);
    ADD(charging_profile_holds_one_to_three_schedules);
    ADD(charging_limit_is_any_number_as_in_the_schema);
    ADD(rejects_negative_e_price_level);
    ADD(accepts_transaction_event_with_meter_values);
    ADD(rejects_sampled_value_as_string);
    ADD(every_table_accepts_a_payload_with_every_field);
    ADD(every_field_of_every_table_rejects_a_wrong_type);
    ADD(every_required_field_of_every_table_is_enforced);
    ADD(closed_objects_reject_and_custom_data_accepts_unknown_fields);
#undef ADD
    for (size_t i = 0; i < ocpp_v201_defs.count && n < MAX_TESTS; i++, n++) {
        snprintf(names[n], sizeof(names[n]), "%s_matches_schema",
                 ocpp_v201_defs.messages[i].action);
        tests[n] = (struct CMUnitTest){
            .name = names[n],
            .test_func = action_matches_schema,
            .initial_state = (void *)&ocpp_v201_defs.messages[i],
        };
    }
    int failed =
        _cmocka_run_group_tests("ocpp2.0.1 tables vs. official schemas", tests, n, NULL, NULL);
    json_decref(g_schemas);
    return failed == 0 ? 0 : 1;
}
