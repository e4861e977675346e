/*
 * Specification of the OCPP payload validator (src/ocpp/schema.c) and of the
 * lookup over the 1.6 tables.
 *
 * Each test names one behaviour. Besides hand-written cases, a few tests walk
 * every 1.6 table: they build a payload holding every field (strings at their
 * maximum length, numbers at awkward binary fractions) and then break it one
 * field at a time -- wrong type, required field removed, unknown field added --
 * checking the error class and that the message starts with the field's path.
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

#define MSG_CAP 512

/* ---- helpers ----------------------------------------------------------------------------- */

static json_t *parse(const char *text)
{
    json_error_t error;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &error);
    if (j == NULL) fail_msg("test JSON does not parse: %s: %s", error.text, text);
    return j;
}

static const ocpp_field_t *fields_of(const char *action, bool response)
{
    const ocpp_message_def_t *def = ocpp_schema_find(&ocpp_v16_defs, action);
    if (def == NULL) fail_msg("no definition for %s", action);
    return response ? def->response : def->request;
}

/* Validates `json` as the request (response=false) or response of `action`. */
static ocpp_err_t validate_text(const char *action, bool response, const char *json, char *msg)
{
    json_t *payload = parse(json);
    ocpp_err_t err = ocpp_schema_validate(fields_of(action, response), payload, msg, MSG_CAP);
    json_decref(payload);
    return err;
}

#define REQUEST false
#define RESPONSE true

/* Asserts the error class and that the message contains `needle` (NULL: don't care). */
static void expect(const char *action, bool response, const char *json, ocpp_err_t want,
                   const char *needle)
{
    char msg[MSG_CAP];
    ocpp_err_t got = validate_text(action, response, json, msg);
    if (got != want)
        fail_msg("%s %s: expected error %d, got %d (%s) for %s", action,
                 response ? "response" : "request", (int)want, (int)got, msg, json);
    if (needle != NULL && strstr(msg, needle) == NULL)
        fail_msg("message '%s' does not contain '%s'", msg, needle);
}

static void expect_ok(const char *action, bool response, const char *json)
{
    expect(action, response, json, OCPP_OK, NULL);
}

/* Asserts the message starts with "<path>: ". */
static void expect_path(const char *action, bool response, const char *json, ocpp_err_t want,
                        const char *path)
{
    char msg[MSG_CAP];
    char prefix[256];
    ocpp_err_t got = validate_text(action, response, json, msg);
    snprintf(prefix, sizeof(prefix), "%s: ", path);
    if (got != want) fail_msg("expected error %d, got %d (%s)", (int)want, (int)got, msg);
    if (strncmp(msg, prefix, strlen(prefix)) != 0)
        fail_msg("message '%s' does not start with '%s'", msg, prefix);
}

static bool valid_utf8(const char *s)
{
    json_t *j = json_string(s); /* jansson refuses invalid UTF-8 */
    json_decref(j);
    return j != NULL;
}

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

/* {"idTag": "<value>"} as an Authorize request. */
static ocpp_err_t validate_id_tag(const char *value, char *msg)
{
    json_t *p = json_pack("{s:s}", "idTag", value);
    assert_non_null(p);
    ocpp_err_t err = ocpp_schema_validate(fields_of("Authorize", REQUEST), p, msg, MSG_CAP);
    json_decref(p);
    return err;
}

#define PERIODS_WITH_LIMIT(third_limit)                                                            \
    "{\"connectorId\": 1, \"csChargingProfiles\": {\"chargingProfileId\": 7, \"stackLevel\": "     \
    "0, \"chargingProfilePurpose\": \"TxDefaultProfile\", \"chargingProfileKind\": "               \
    "\"Absolute\", \"chargingSchedule\": {\"chargingRateUnit\": \"A\", "                           \
    "\"chargingSchedulePeriod\": [{\"startPeriod\": 0, \"limit\": 32}, {\"startPeriod\": "         \
    "600, \"limit\": 16.7}, {\"startPeriod\": 1200, \"limit\": " third_limit "}]}}}"

/* ---- lookup ------------------------------------------------------------------------------ */

static void find_returns_every_action_in_the_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < ocpp_v16_defs.count; i++) {
        const ocpp_message_def_t *def = &ocpp_v16_defs.messages[i];
        assert_ptr_equal(ocpp_schema_find(&ocpp_v16_defs, def->action), def);
        assert_non_null(def->request);
        assert_non_null(def->response);
    }
    assert_int_equal(ocpp_v16_defs.count, 39);
}

static void find_returns_null_for_unknown_or_miscased_actions(void **state)
{
    (void)state;
    const char *unknown[] = {"",    "authorize", "AUTHORIZE",        "Authorize ",
                             "Aaa", "Zzz",       "TransactionEvent", "BootNotification.req"};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
        assert_null(ocpp_schema_find(&ocpp_v16_defs, unknown[i]));
    assert_null(ocpp_schema_find(&ocpp_v16_defs, NULL));
    assert_null(ocpp_schema_find(NULL, "Authorize"));
}

static void directions_follow_who_sends_the_request(void **state)
{
    (void)state;
    assert_int_equal(ocpp_schema_find(&ocpp_v16_defs, "DataTransfer")->dir, OCPP_DIR_BOTH);
    assert_int_equal(ocpp_schema_find(&ocpp_v16_defs, "BootNotification")->dir,
                     OCPP_DIR_FROM_STATION);
    assert_int_equal(ocpp_schema_find(&ocpp_v16_defs, "SignCertificate")->dir,
                     OCPP_DIR_FROM_STATION);
    assert_int_equal(ocpp_schema_find(&ocpp_v16_defs, "SecurityEventNotification")->dir,
                     OCPP_DIR_FROM_STATION);
    assert_int_equal(ocpp_schema_find(&ocpp_v16_defs, "RemoteStartTransaction")->dir,
                     OCPP_DIR_TO_STATION);
    assert_int_equal(ocpp_schema_find(&ocpp_v16_defs, "CertificateSigned")->dir,
                     OCPP_DIR_TO_STATION);
}

/* ---- happy paths ------------------------------------------------------------------------- */

static void accepts_minimal_boot_notification(void **state)
{
    (void)state;
    expect_ok("BootNotification", REQUEST,
              "{\"chargePointVendor\": \"Acme\", \"chargePointModel\": \"W1\"}");
}

static void accepts_boot_notification_with_every_field(void **state)
{
    (void)state;
    expect_ok("BootNotification", REQUEST,
              "{\"chargePointVendor\": \"Acme\", \"chargePointModel\": \"W1\", "
              "\"chargePointSerialNumber\": \"S1\", \"chargeBoxSerialNumber\": \"B1\", "
              "\"firmwareVersion\": \"1.2.3\", \"iccid\": \"8931\", \"imsi\": \"2620\", "
              "\"meterType\": \"M\", \"meterSerialNumber\": \"MS\"}");
}

static void accepts_boot_notification_response(void **state)
{
    (void)state;
    expect_ok("BootNotification", RESPONSE,
              "{\"status\": \"Accepted\", \"currentTime\": \"2024-01-02T03:04:05.123Z\", "
              "\"interval\": 300}");
}

static void accepts_empty_heartbeat_request(void **state)
{
    (void)state;
    expect_ok("Heartbeat", REQUEST, "{}");
}

static void accepts_meter_values_with_nested_sampled_values(void **state)
{
    (void)state;
    expect_ok("MeterValues", REQUEST,
              "{\"connectorId\": 1, \"transactionId\": 42, \"meterValue\": ["
              "{\"timestamp\": \"2024-01-02T03:04:05Z\", \"sampledValue\": ["
              "{\"value\": \"1234.5\", \"measurand\": \"Energy.Active.Import.Register\", "
              "\"unit\": \"kWh\", \"context\": \"Sample.Periodic\", \"location\": \"Outlet\"},"
              "{\"value\": \"16\", \"measurand\": \"Current.Import\", \"phase\": \"L1\", "
              "\"unit\": \"A\"}]},"
              "{\"timestamp\": \"2024-01-02T03:05:05+01:00\", \"sampledValue\": "
              "[{\"value\": \"21\", \"measurand\": \"Temperature\", \"unit\": \"Celsius\"}]}]}");
}

static void accepts_set_charging_profile_with_decimal_limits(void **state)
{
    (void)state;
    expect_ok("SetChargingProfile", REQUEST, PERIODS_WITH_LIMIT("0.3"));
}

static void accepts_stop_transaction_with_transaction_data(void **state)
{
    (void)state;
    expect_ok("StopTransaction", REQUEST,
              "{\"meterStop\": 2000, \"timestamp\": \"2024-01-02T04:00:00Z\", "
              "\"transactionId\": 42, \"reason\": \"EVDisconnected\", \"idTag\": \"TAG1\", "
              "\"transactionData\": [{\"timestamp\": \"2024-01-02T04:00:00Z\", "
              "\"sampledValue\": [{\"value\": \"2000\", \"context\": \"Transaction.End\"}]}]}");
}

static void accepts_authorize_response_with_id_tag_info(void **state)
{
    (void)state;
    expect_ok("Authorize", RESPONSE,
              "{\"idTagInfo\": {\"status\": \"Accepted\", \"expiryDate\": "
              "\"2025-01-01T00:00:00Z\", \"parentIdTag\": \"PARENT\"}}");
}

static void accepts_get_configuration_response_with_arrays(void **state)
{
    (void)state;
    expect_ok("GetConfiguration", RESPONSE,
              "{\"configurationKey\": [{\"key\": \"HeartbeatInterval\", \"readonly\": false, "
              "\"value\": \"300\"}, {\"key\": \"NumberOfConnectors\", \"readonly\": true}], "
              "\"unknownKey\": [\"Foo\", \"Bar\"]}");
}

static void accepts_data_transfer_in_both_directions(void **state)
{
    (void)state;
    expect_ok("DataTransfer", REQUEST,
              "{\"vendorId\": \"com.acme\", \"messageId\": \"x\", \"data\": \"{\\\"a\\\":1}\"}");
    expect_ok("DataTransfer", RESPONSE, "{\"status\": \"UnknownVendorId\"}");
}

static void accepts_signed_update_firmware_request(void **state)
{
    (void)state;
    expect_ok("SignedUpdateFirmware", REQUEST,
              "{\"requestId\": 1, \"retries\": 3, \"firmware\": {\"location\": "
              "\"https://fw.example/1.bin\", \"retrieveDateTime\": \"2024-01-02T03:04:05Z\", "
              "\"signingCertificate\": \"-----BEGIN CERTIFICATE-----\", \"signature\": "
              "\"c2ln\"}}");
}

/* ---- payload shape (FORMAT) -------------------------------------------------------------- */

static void rejects_non_object_payloads_as_format_errors(void **state)
{
    (void)state;
    const char *payloads[] = {
        "[]", "[{\"idTag\": \"A\"}]", "\"idTag\"", "42", "4.5", "true", "false", "null"};
    for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++)
        expect("Authorize", REQUEST, payloads[i], OCPP_ERR_FORMAT, "must be a JSON object");
}

static void rejects_null_payload_pointer_as_format_error(void **state)
{
    (void)state;
    char msg[MSG_CAP];
    assert_int_equal(ocpp_schema_validate(fields_of("Heartbeat", REQUEST), NULL, msg, sizeof(msg)),
                     OCPP_ERR_FORMAT);
    assert_non_null(strstr(msg, "JSON object"));
}

static void rejects_null_field_table_as_internal_error(void **state)
{
    (void)state;
    char msg[MSG_CAP];
    json_t *p = json_object();
    assert_int_equal(ocpp_schema_validate(NULL, p, msg, sizeof(msg)), OCPP_ERR_INTERNAL);
    json_decref(p);
}

static void rejects_unknown_root_field_naming_it(void **state)
{
    (void)state;
    char msg[MSG_CAP];
    assert_int_equal(
        validate_text("Authorize", REQUEST, "{\"idTag\": \"A\", \"idTga\": \"B\"}", msg),
        OCPP_ERR_FORMAT);
    assert_string_equal(msg, "unknown field 'idTga'");
}

static void rejects_any_field_in_an_empty_message(void **state)
{
    (void)state;
    expect("Heartbeat", REQUEST, "{\"x\": 1}", OCPP_ERR_FORMAT, "unknown field 'x'");
    expect("MeterValues", RESPONSE, "{\"status\": \"Accepted\"}", OCPP_ERR_FORMAT,
           "unknown field 'status'");
}

static void rejects_unknown_nested_field_naming_the_object_path(void **state)
{
    (void)state;
    char msg[MSG_CAP];
    assert_int_equal(
        validate_text("MeterValues", REQUEST,
                      "{\"connectorId\": 1, \"meterValue\": [{\"timestamp\": "
                      "\"2024-01-02T03:04:05Z\", \"sampledValue\": [{\"value\": \"1\"}, "
                      "{\"value\": \"2\", \"units\": \"Wh\"}]}]}",
                      msg),
        OCPP_ERR_FORMAT);
    assert_string_equal(msg, "meterValue[0].sampledValue[1]: unknown field 'units'");
}

static void unknown_field_names_are_matched_by_full_length(void **state)
{
    (void)state;
    /* A key "idTag\0x" (possible through jansson's API, not its parser) is not "idTag". */
    char msg[MSG_CAP];
    json_t *p = json_object();
    json_object_set_new(p, "idTag", json_string("A"));
    json_object_setn_new(p, "idTag\0x", 7, json_string("B"));
    assert_int_equal(ocpp_schema_validate(fields_of("Authorize", REQUEST), p, msg, sizeof(msg)),
                     OCPP_ERR_FORMAT);
    assert_string_equal(msg, "unknown field 'idTag?x'");
    json_decref(p);
}

/* ---- occurrence -------------------------------------------------------------------------- */

static void rejects_missing_required_root_field(void **state)
{
    (void)state;
    char msg[MSG_CAP];
    assert_int_equal(
        validate_text("BootNotification", REQUEST, "{\"chargePointVendor\": \"Acme\"}", msg),
        OCPP_ERR_OCCURRENCE);
    assert_string_equal(msg, "chargePointModel: required field is missing");
}

static void rejects_missing_required_nested_field(void **state)
{
    (void)state;
    expect_path("Authorize", RESPONSE, "{\"idTagInfo\": {\"parentIdTag\": \"P\"}}",
                OCPP_ERR_OCCURRENCE, "idTagInfo.status");
}

static void rejects_missing_required_field_inside_array_item(void **state)
{
    (void)state;
    expect_path("MeterValues", REQUEST,
                "{\"connectorId\": 1, \"meterValue\": [{\"timestamp\": \"2024-01-02T03:04:05Z\", "
                "\"sampledValue\": []}, {\"sampledValue\": []}]}",
                OCPP_ERR_OCCURRENCE, "meterValue[1].timestamp");
}

static void rejects_array_with_fewer_items_than_min_items(void **state)
{
    (void)state;
    char msg[MSG_CAP];
    assert_int_equal(validate_text("GetInstalledCertificateIds", RESPONSE,
                                   "{\"status\": \"Accepted\", \"certificateHashData\": []}", msg),
                     OCPP_ERR_OCCURRENCE);
    assert_string_equal(msg, "certificateHashData: has 0 items; at least 1 required");
}

static const ocpp_field_t bounded_item = {.type = OCPP_T_INTEGER};
static const ocpp_field_t bounded_array[] = {
    {.name = "list", .type = OCPP_T_ARRAY, .items = &bounded_item, .min_items = 1, .max_items = 3},
    {.name = NULL},
};

static void rejects_array_with_more_items_than_max_items(void **state)
{
    (void)state;
    char msg[MSG_CAP];
    json_t *p = parse("{\"list\": [1, 2, 3, 4]}");
    assert_int_equal(ocpp_schema_validate(bounded_array, p, msg, sizeof(msg)), OCPP_ERR_OCCURRENCE);
    assert_string_equal(msg, "list: has 4 items; at most 3 allowed");
    json_decref(p);
    p = parse("{\"list\": [1, 2, 3]}");
    assert_int_equal(ocpp_schema_validate(bounded_array, p, msg, sizeof(msg)), OCPP_OK);
    json_decref(p);
}

/* ---- types ------------------------------------------------------------------------------- */

static void rejects_string_for_integer(void **state)
{
    (void)state;
    char msg[MSG_CAP];
    assert_int_equal(
        validate_text("RemoteStopTransaction", REQUEST, "{\"transactionId\": \"42\"}", msg),
        OCPP_ERR_TYPE);
    assert_string_equal(msg, "transactionId: expected an integer, got a string");
}

static void rejects_integral_real_for_integer(void **state)
{
    (void)state;
    char msg[MSG_CAP];
    assert_int_equal(
        validate_text("RemoteStopTransaction", REQUEST, "{\"transactionId\": 5.0}", msg),
        OCPP_ERR_TYPE);
    assert_non_null(strstr(msg, "transactionId: expected an integer, got 5.0"));
    expect("RemoteStopTransaction", REQUEST, "{\"transactionId\": 5e0}", OCPP_ERR_TYPE, "5.0");
}

static void accepts_integer_and_real_for_number(void **state)
{
    (void)state;
    expect_ok("SetChargingProfile", REQUEST, PERIODS_WITH_LIMIT("16"));
    expect_ok("SetChargingProfile", REQUEST, PERIODS_WITH_LIMIT("16.0"));
    expect_ok("SetChargingProfile", REQUEST, PERIODS_WITH_LIMIT("1.6e1"));
}

static void rejects_string_for_number(void **state)
{
    (void)state;
    expect_path("SetChargingProfile", REQUEST, PERIODS_WITH_LIMIT("\"16\""), OCPP_ERR_TYPE,
                "csChargingProfiles.chargingSchedule.chargingSchedulePeriod[2].limit");
}

static void rejects_null_for_every_scalar_type(void **state)
{
    (void)state;
    expect("Authorize", REQUEST, "{\"idTag\": null}", OCPP_ERR_TYPE, "got null");
    expect("RemoteStopTransaction", REQUEST, "{\"transactionId\": null}", OCPP_ERR_TYPE, "null");
    expect("Heartbeat", RESPONSE, "{\"currentTime\": null}", OCPP_ERR_TYPE, "null");
    expect("Reset", REQUEST, "{\"type\": null}", OCPP_ERR_TYPE, "null");
    expect("Authorize", RESPONSE, "{\"idTagInfo\": null}", OCPP_ERR_TYPE, "null");
}

static void rejects_non_boolean_for_boolean(void **state)
{
    (void)state;
    const char *base = "{\"configurationKey\": [{\"key\": \"K\", \"readonly\": %s}]}";
    const char *wrong[] = {"\"true\"", "1", "0", "null", "[]"};
    char json[256];
    for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
        snprintf(json, sizeof(json), base, wrong[i]);
        expect_path("GetConfiguration", RESPONSE, json, OCPP_ERR_TYPE,
                    "configurationKey[0].readonly");
    }
}

static void rejects_wrong_container_types(void **state)
{
    (void)state;
    expect("Authorize", RESPONSE, "{\"idTagInfo\": [{\"status\": \"Accepted\"}]}", OCPP_ERR_TYPE,
           "idTagInfo: expected an object, got an array");
    expect("MeterValues", REQUEST, "{\"connectorId\": 1, \"meterValue\": {}}", OCPP_ERR_TYPE,
           "meterValue: expected an array, got an object");
    expect("Authorize", REQUEST, "{\"idTag\": {\"a\": 1}}", OCPP_ERR_TYPE,
           "idTag: expected a string, got an object");
    expect("GetConfiguration", REQUEST, "{\"key\": [\"a\", 1]}", OCPP_ERR_TYPE,
           "key[1]: expected a string, got an integer");
}

static void rejects_number_for_enum(void **state)
{
    (void)state;
    expect("Reset", REQUEST, "{\"type\": 1}", OCPP_ERR_TYPE, "type: expected a string");
}

/* ---- property constraints ---------------------------------------------------------------- */

static void accepts_string_at_max_length(void **state)
{
    (void)state;
    char msg[MSG_CAP];
    assert_int_equal(validate_id_tag("12345678901234567890", msg), OCPP_OK);
}

static void rejects_string_longer_than_max_length(void **state)
{
    (void)state;
    char msg[MSG_CAP];
    assert_int_equal(validate_id_tag("123456789012345678901", msg), OCPP_ERR_PROPERTY);
    assert_string_equal(msg, "idTag: '123456789012345678901' is 21 characters long; at most 20 "
                             "characters are allowed");
}

static void counts_max_length_in_code_points_not_bytes(void **state)
{
    (void)state;
    char msg[MSG_CAP];
    char *two_byte = repeat("\xc3\xa9", 20);          /* 20 x U+00E9, 40 bytes */
    char *four_byte = repeat("\xf0\x9f\x94\x8c", 20); /* 20 x U+1F50C, 80 bytes */
    char *too_long = repeat("\xe2\x82\xac", 21);      /* 21 x U+20AC */
    assert_int_equal(validate_id_tag(two_byte, msg), OCPP_OK);
    assert_int_equal(validate_id_tag(four_byte, msg), OCPP_OK);
    assert_int_equal(validate_id_tag(too_long, msg), OCPP_ERR_PROPERTY);
    assert_non_null(strstr(msg, "21 characters long"));
    assert_true(valid_utf8(msg));
    free(two_byte);
    free(four_byte);
    free(too_long);
}

static void counts_escaped_nul_as_a_character(void **state)
{
    (void)state;
    expect_ok("Authorize", REQUEST, "{\"idTag\": \"1234567890123456789\\u0000\"}");
    expect("Authorize", REQUEST, "{\"idTag\": \"12345678901234567890\\u0000\"}", OCPP_ERR_PROPERTY,
           "21 characters");
}

static void abbreviates_long_values_in_messages(void **state)
{
    (void)state;
    char msg[MSG_CAP];
    char *huge = repeat("A", 100000);
    assert_int_equal(validate_id_tag(huge, msg), OCPP_ERR_PROPERTY);
    assert_non_null(strstr(msg, "...' is 100000 characters long"));
    assert_true(strlen(msg) < 200);
    free(huge);
}

static void rejects_enum_value_listing_the_allowed_values(void **state)
{
    (void)state;
    char msg[MSG_CAP];
    assert_int_equal(
        validate_text("Authorize", RESPONSE, "{\"idTagInfo\": {\"status\": \"Foo\"}}", msg),
        OCPP_ERR_PROPERTY);
    assert_string_equal(msg, "idTagInfo.status: 'Foo' is not one of Accepted, Blocked, Expired, "
                             "Invalid, ConcurrentTx");
}

static void enum_values_are_case_sensitive(void **state)
{
    (void)state;
    expect("Reset", REQUEST, "{\"type\": \"hard\"}", OCPP_ERR_PROPERTY, "'hard' is not one of");
    expect("Reset", REQUEST, "{\"type\": \"Hard \"}", OCPP_ERR_PROPERTY, NULL);
    expect("Reset", REQUEST, "{\"type\": \"Hard\\u0000\"}", OCPP_ERR_PROPERTY, "'Hard?'");
}

static void truncates_a_long_list_of_allowed_values(void **state)
{
    (void)state;
    char msg[MSG_CAP];
    assert_int_equal(validate_text("MeterValues", REQUEST,
                                   "{\"connectorId\": 1, \"meterValue\": [{\"timestamp\": "
                                   "\"2024-01-02T03:04:05Z\", \"sampledValue\": [{\"value\": "
                                   "\"1\", \"measurand\": \"Energy\"}]}]}",
                                   msg),
                     OCPP_ERR_PROPERTY);
    assert_non_null(strstr(msg, "meterValue[0].sampledValue[0].measurand: 'Energy' is not one of "
                                "Energy.Active.Export.Register, "));
    assert_non_null(strstr(msg, ", ..."));
}

static void replaces_control_characters_in_echoed_values(void **state)
{
    (void)state;
    char msg[MSG_CAP];
    assert_int_equal(
        validate_text("Reset", REQUEST, "{\"type\": \"a\\nb\\u001b[2Jc\\u007f\"}", msg),
        OCPP_ERR_PROPERTY);
    assert_non_null(strstr(msg, "'a?b?[2Jc?'"));
    for (const char *p = msg; *p; p++)
        assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
}

static void rejects_limit_that_is_not_a_multiple_of_a_tenth(void **state)
{
    (void)state;
    char msg[MSG_CAP];
    assert_int_equal(validate_text("SetChargingProfile", REQUEST, PERIODS_WITH_LIMIT("16.75"), msg),
                     OCPP_ERR_PROPERTY);
    assert_string_equal(msg, "csChargingProfiles.chargingSchedule.chargingSchedulePeriod[2].limit: "
                             "16.75 is not a multiple of 0.1");
}

static void accepts_tenths_despite_binary_rounding(void **state)
{
    (void)state;
    const char *limits[] = {"0.1",       "0.3",         "0.7", "16.7", "-3.3",
                            "1000000.1", "123456789.9", "0",   "-0.0"};
    char json[1024];
    for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
        snprintf(json, sizeof(json), PERIODS_WITH_LIMIT("%s"), limits[i]);
        expect_ok("SetChargingProfile", REQUEST, json);
    }
}

static const ocpp_field_t bounded_numbers[] = {
    {.name = "percent",
     .type = OCPP_T_INTEGER,
     .has_min = true,
     .min = 0,
     .has_max = true,
     .max = 100},
    {.name = "ratio",
     .type = OCPP_T_NUMBER,
     .has_min = true,
     .min = -1.5,
     .has_max = true,
     .max = 1.5,
     .multiple_of = 0.5},
    {.name = NULL},
};

static ocpp_err_t validate_bounded(const char *json, char *msg)
{
    json_t *p = parse(json);
    ocpp_err_t err = ocpp_schema_validate(bounded_numbers, p, msg, MSG_CAP);
    json_decref(p);
    return err;
}

static void accepts_numbers_at_inclusive_bounds(void **state)
{
    (void)state;
    char msg[MSG_CAP];
    assert_int_equal(validate_bounded("{\"percent\": 0, \"ratio\": -1.5}", msg), OCPP_OK);
    assert_int_equal(validate_bounded("{\"percent\": 100, \"ratio\": 1.5}", msg), OCPP_OK);
    assert_int_equal(validate_bounded("{\"ratio\": 1}", msg), OCPP_OK);
}

static void rejects_numbers_outside_bounds(void **state)
{
    (void)state;
    char msg[MSG_CAP];
    assert_int_equal(validate_bounded("{\"percent\": -1}", msg), OCPP_ERR_PROPERTY);
    assert_string_equal(msg, "percent: -1 is less than the minimum 0");
    assert_int_equal(validate_bounded("{\"percent\": 101}", msg), OCPP_ERR_PROPERTY);
    assert_string_equal(msg, "percent: 101 is greater than the maximum 100");
    assert_int_equal(validate_bounded("{\"ratio\": -1.6}", msg), OCPP_ERR_PROPERTY);
    assert_string_equal(msg, "ratio: -1.6 is less than the minimum -1.5");
    assert_int_equal(validate_bounded("{\"ratio\": 0.25}", msg), OCPP_ERR_PROPERTY);
    assert_string_equal(msg, "ratio: 0.25 is not a multiple of 0.5");
}

static void compares_huge_numbers_with_bounds(void **state)
{
    (void)state;
    char msg[MSG_CAP];
    assert_int_equal(validate_bounded("{\"percent\": 9223372036854775807}", msg),
                     OCPP_ERR_PROPERTY);
    assert_string_equal(msg, "percent: 9223372036854775807 is greater than the maximum 100");
    assert_int_equal(validate_bounded("{\"percent\": -9223372036854775808}", msg),
                     OCPP_ERR_PROPERTY);
    assert_int_equal(validate_bounded("{\"ratio\": 1e308}", msg), OCPP_ERR_PROPERTY);
    assert_int_equal(validate_bounded("{\"ratio\": -1e308}", msg), OCPP_ERR_PROPERTY);
}

/* ---- huge numbers ------------------------------------------------------------------------ */

static void accepts_extreme_64_bit_integers_without_bounds(void **state)
{
    (void)state;
    expect_ok("RemoteStopTransaction", REQUEST, "{\"transactionId\": 9223372036854775807}");
    expect_ok("RemoteStopTransaction", REQUEST, "{\"transactionId\": -9223372036854775808}");
}

static void rejects_huge_reals_for_integers(void **state)
{
    (void)state;
    expect("RemoteStopTransaction", REQUEST, "{\"transactionId\": 1e300}", OCPP_ERR_TYPE, "1e+300");
    expect("RemoteStopTransaction", REQUEST, "{\"transactionId\": 9223372036854775808.0}",
           OCPP_ERR_TYPE, NULL);
    expect("RemoteStopTransaction", REQUEST, "{\"transactionId\": 1e-300}", OCPP_ERR_TYPE, NULL);
}

static void judges_multiple_of_for_extreme_reals_without_overflow(void **state)
{
    (void)state;
    /* Every double above 2^53 is an integer, hence a multiple of 0.1. */
    expect_ok("SetChargingProfile", REQUEST, PERIODS_WITH_LIMIT("1.7976931348623157e308"));
    expect_ok("SetChargingProfile", REQUEST, PERIODS_WITH_LIMIT("-1e300"));
    expect("SetChargingProfile", REQUEST, PERIODS_WITH_LIMIT("4.9e-324"), OCPP_OK, NULL);
    expect("SetChargingProfile", REQUEST, PERIODS_WITH_LIMIT("0.05"), OCPP_ERR_PROPERTY,
           "0.05 is not a multiple of 0.1");
}

/* ---- date-time --------------------------------------------------------------------------- */

static void datetime_accepts_utc_with_upper_or_lower_case_letters(void **state)
{
    (void)state;
    assert_true(ocpp_schema_is_datetime("2024-01-02T03:04:05Z"));
    assert_true(ocpp_schema_is_datetime("2024-01-02t03:04:05z"));
    assert_true(ocpp_schema_is_datetime("0000-01-01T00:00:00Z"));
    assert_true(ocpp_schema_is_datetime("9999-12-31T23:59:59Z"));
}

static void datetime_accepts_fractional_seconds_of_any_length(void **state)
{
    (void)state;
    assert_true(ocpp_schema_is_datetime("2024-01-02T03:04:05.1Z"));
    assert_true(ocpp_schema_is_datetime("2024-01-02T03:04:05.123Z"));
    assert_true(ocpp_schema_is_datetime("2024-01-02T03:04:05.123456789012+00:00"));
}

static void datetime_rejects_empty_or_malformed_fraction(void **state)
{
    (void)state;
    assert_false(ocpp_schema_is_datetime("2024-01-02T03:04:05.Z"));
    assert_false(ocpp_schema_is_datetime("2024-01-02T03:04:05,5Z"));
    assert_false(ocpp_schema_is_datetime("2024-01-02T03:04:05.5.5Z"));
}

static void datetime_accepts_numeric_offsets(void **state)
{
    (void)state;
    assert_true(ocpp_schema_is_datetime("2024-01-02T03:04:05+01:00"));
    assert_true(ocpp_schema_is_datetime("2024-01-02T03:04:05-12:30"));
    assert_true(ocpp_schema_is_datetime("2024-01-02T03:04:05.5+23:59"));
    assert_true(ocpp_schema_is_datetime("2024-01-02T03:04:05-00:00"));
}

static void datetime_rejects_malformed_or_out_of_range_offsets(void **state)
{
    (void)state;
    const char *bad[] = {"2024-01-02T03:04:05+0100",  "2024-01-02T03:04:05+01",
                         "2024-01-02T03:04:05+1:00",  "2024-01-02T03:04:05+24:00",
                         "2024-01-02T03:04:05+01:60", "2024-01-02T03:04:05 +01:00",
                         "2024-01-02T03:04:05UTC",    "2024-01-02T03:04:05+01:00Z"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (ocpp_schema_is_datetime(bad[i])) fail_msg("accepted '%s'", bad[i]);
    }
}

static void datetime_rejects_missing_timezone(void **state)
{
    (void)state;
    assert_false(ocpp_schema_is_datetime("2024-01-02T03:04:05"));
    assert_false(ocpp_schema_is_datetime("2024-01-02T03:04:05.123"));
}

static void datetime_accepts_february_29_in_leap_years(void **state)
{
    (void)state;
    assert_true(ocpp_schema_is_datetime("2024-02-29T00:00:00Z"));
    assert_true(ocpp_schema_is_datetime("2000-02-29T00:00:00Z")); /* divisible by 400 */
    assert_true(ocpp_schema_is_datetime("1996-02-29T00:00:00Z"));
}

static void datetime_rejects_february_29_in_common_years(void **state)
{
    (void)state;
    assert_false(ocpp_schema_is_datetime("2023-02-29T00:00:00Z"));
    assert_false(ocpp_schema_is_datetime("1900-02-29T00:00:00Z")); /* century, not by 400 */
    assert_false(ocpp_schema_is_datetime("2100-02-29T00:00:00Z"));
    assert_false(ocpp_schema_is_datetime("2024-02-30T00:00:00Z"));
}

static void datetime_rejects_days_beyond_the_end_of_the_month(void **state)
{
    (void)state;
    static const char *const last_day[12] = {"01-31", "02-29", "03-31", "04-30", "05-31", "06-30",
                                             "07-31", "08-31", "09-30", "10-31", "11-30", "12-31"};
    static const char *const day_after[12] = {"01-32", "02-30", "03-32", "04-31", "05-32", "06-31",
                                              "07-32", "08-32", "09-31", "10-32", "11-31", "12-32"};
    char s[64];
    for (int m = 0; m < 12; m++) {
        snprintf(s, sizeof(s), "2024-%sT12:00:00Z", last_day[m]);
        assert_true(ocpp_schema_is_datetime(s));
        snprintf(s, sizeof(s), "2024-%sT12:00:00Z", day_after[m]);
        if (ocpp_schema_is_datetime(s)) fail_msg("accepted '%s'", s);
    }
    assert_false(ocpp_schema_is_datetime("2024-01-00T00:00:00Z"));
}

static void datetime_rejects_month_out_of_range(void **state)
{
    (void)state;
    assert_false(ocpp_schema_is_datetime("2024-00-10T00:00:00Z"));
    assert_false(ocpp_schema_is_datetime("2024-13-10T00:00:00Z"));
    assert_false(ocpp_schema_is_datetime("2024-99-10T00:00:00Z"));
}

static void datetime_rejects_time_out_of_range(void **state)
{
    (void)state;
    assert_true(ocpp_schema_is_datetime("2024-01-02T23:59:59Z"));
    assert_false(ocpp_schema_is_datetime("2024-01-02T24:00:00Z"));
    assert_false(ocpp_schema_is_datetime("2024-01-02T23:60:00Z"));
    assert_false(ocpp_schema_is_datetime("2024-01-02T23:59:61Z"));
}

static void datetime_accepts_a_leap_second(void **state)
{
    (void)state;
    assert_true(ocpp_schema_is_datetime("2016-12-31T23:59:60Z"));
}

static void datetime_rejects_other_separators_and_shapes(void **state)
{
    (void)state;
    const char *bad[] = {"2024-01-02 03:04:05Z",
                         "2024-01-02_03:04:05Z",
                         "2024/01/02T03:04:05Z",
                         "2024-1-02T03:04:05Z",
                         "24-01-02T03:04:05Z",
                         "20240-01-02T03:04:05Z",
                         "2024-01-02T3:04:05Z",
                         "2024-01-02T03:04Z",
                         "2024-01-02",
                         "20240102T030405Z",
                         " 2024-01-02T03:04:05Z",
                         "2024-01-02T03:04:05Z ",
                         "2024-01-02T03:04:05Zx",
                         "+2024-01-02T03:04:05Z",
                         "",
                         "Z",
                         "T"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (ocpp_schema_is_datetime(bad[i])) fail_msg("accepted '%s'", bad[i]);
    }
}

static void datetime_rejects_every_truncation_of_a_valid_value(void **state)
{
    (void)state;
    const char *full = "2024-02-29T23:59:60.123-09:30";
    char s[64];
    assert_true(ocpp_schema_is_datetime(full));
    for (size_t n = 0; n < strlen(full); n++) {
        memcpy(s, full, n);
        s[n] = '\0';
        if (ocpp_schema_is_datetime(s)) fail_msg("accepted truncation '%s'", s);
    }
}

static void datetime_rejects_non_ascii_digits_and_null(void **state)
{
    (void)state;
    assert_false(ocpp_schema_is_datetime("\xef\xbc\x92\xef\xbc\x90\xef\xbc\x92\xef\xbc\x94"
                                         "-01-02T03:04:05Z"));
    assert_false(ocpp_schema_is_datetime(NULL));
}

static void rejects_non_rfc3339_datetime_in_payload_as_type_error(void **state)
{
    (void)state;
    char msg[MSG_CAP];
    assert_int_equal(
        validate_text("Heartbeat", RESPONSE, "{\"currentTime\": \"2024-01-02 03:04:05\"}", msg),
        OCPP_ERR_TYPE);
    assert_non_null(strstr(msg, "currentTime: '2024-01-02 03:04:05' is not an RFC 3339 date-time"));
}

static void rejects_datetime_with_embedded_nul_in_payload(void **state)
{
    (void)state;
    expect("Heartbeat", RESPONSE, "{\"currentTime\": \"2024-01-02T03:04:05Z\\u0000junk\"}",
           OCPP_ERR_TYPE, "currentTime: '2024-01-02T03:04:05Z?junk'");
}

/* ---- nesting ----------------------------------------------------------------------------- */

static void payload_nesting_beyond_the_table_is_a_type_error(void **state)
{
    (void)state;
    json_t *deep = json_string("Accepted");
    for (int i = 0; i < 1500; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "status", deep);
        deep = o;
    }
    json_t *p = json_pack("{s:{s:o}}", "idTagInfo", "status", deep);
    char msg[MSG_CAP];
    assert_int_equal(ocpp_schema_validate(fields_of("Authorize", RESPONSE), p, msg, sizeof(msg)),
                     OCPP_ERR_TYPE);
    assert_string_equal(msg, "idTagInfo.status: expected a string, got an object");
    json_decref(p);
}

static void deeply_nested_arrays_stop_at_the_first_wrong_level(void **state)
{
    (void)state;
    json_t *deep = json_array();
    for (int i = 0; i < 1500; i++) {
        json_t *a = json_array();
        json_array_append_new(a, deep);
        deep = a;
    }
    json_t *p = json_pack("{s:i, s:o}", "connectorId", 1, "meterValue", deep);
    char msg[MSG_CAP];
    assert_int_equal(ocpp_schema_validate(fields_of("MeterValues", REQUEST), p, msg, sizeof(msg)),
                     OCPP_ERR_TYPE);
    assert_string_equal(msg, "meterValue[0]: expected an object, got an array");
    json_decref(p);
}

/* A table that refers to itself must not recurse without end. */
static const ocpp_field_t cyclic[] = {
    {.name = "child", .type = OCPP_T_OBJECT, .fields = cyclic},
    {.name = NULL},
};

static void cyclic_table_is_cut_off_as_internal_error(void **state)
{
    (void)state;
    json_t *p = json_object();
    for (int i = 0; i < 100; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "child", p);
        p = o;
    }
    char msg[MSG_CAP];
    assert_int_equal(ocpp_schema_validate(cyclic, p, msg, sizeof(msg)), OCPP_ERR_INTERNAL);
    assert_non_null(strstr(msg, "nested deeper than"));
    json_decref(p);
}

/* ---- message buffer ---------------------------------------------------------------------- */

static void accepts_a_missing_message_buffer(void **state)
{
    (void)state;
    json_t *p = parse("{\"idTagInfo\": {\"status\": \"Nope\"}}");
    assert_int_equal(ocpp_schema_validate(fields_of("Authorize", RESPONSE), p, NULL, 0),
                     OCPP_ERR_PROPERTY);
    char one[1] = {'x'};
    assert_int_equal(ocpp_schema_validate(fields_of("Authorize", RESPONSE), p, one, 1),
                     OCPP_ERR_PROPERTY);
    assert_int_equal(one[0], '\0');
    json_decref(p);
}

static void clears_the_message_on_success(void **state)
{
    (void)state;
    char msg[MSG_CAP] = "stale";
    assert_int_equal(validate_text("Heartbeat", REQUEST, "{}", msg), OCPP_OK);
    assert_string_equal(msg, "");
}

static void truncated_messages_stay_nul_terminated_valid_utf8(void **state)
{
    (void)state;
    json_t *p = parse("{\"idTag\": \"\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x8c\xc3\xa9\xe2\x82\xac"
                      "\xf0\x9f\x94\x8c\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x8c\xc3\xa9\xe2\x82\xac"
                      "\xf0\x9f\x94\x8c\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x8c\xc3\xa9\xe2\x82\xac"
                      "\xf0\x9f\x94\x8c\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x8c\"}");
    char full[MSG_CAP];
    assert_int_equal(ocpp_schema_validate(fields_of("Authorize", REQUEST), p, full, sizeof(full)),
                     OCPP_ERR_PROPERTY);
    for (size_t cap = 1; cap <= strlen(full) + 1; cap++) {
        char buf[MSG_CAP + 8];
        memset(buf, 'X', sizeof(buf));
        ocpp_schema_validate(fields_of("Authorize", REQUEST), p, buf, cap);
        assert_true(strlen(buf) < cap);
        assert_int_equal(buf[cap], 'X'); /* nothing written past the buffer */
        if (!valid_utf8(buf)) fail_msg("invalid UTF-8 at capacity %zu", cap);
        assert_memory_equal(buf, full, strlen(buf));
    }
    json_decref(p);
}

/* ---- every table: generated payloads ------------------------------------------------------ */

static json_t *sample_value(const ocpp_field_t *f);

/* An object holding every field of the table. */
static json_t *sample_object(const ocpp_field_t *fields)
{
    json_t *o = json_object();
    for (const ocpp_field_t *f = fields; f->name != NULL; f++)
        json_object_set_new(o, f->name, sample_value(f));
    return o;
}

/* A valid value at an edge: strings at max length, a tenth that binary rounds. */
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
        return json_integer(f->has_min ? (json_int_t)f->min : 1);
    case OCPP_T_NUMBER:
        return f->multiple_of > 0 ? json_real(16.7) : json_real(0.5);
    case OCPP_T_BOOLEAN:
        return json_true();
    case OCPP_T_DATETIME:
        return json_string("2024-02-29T23:59:60.5+05:30");
    case OCPP_T_ENUM:
        while (f->enum_values[n + 1] != NULL)
            n++;
        return json_string(f->enum_values[n]); /* the last value */
    case OCPP_T_OBJECT:
        return sample_object(f->fields);
    case OCPP_T_ARRAY: {
        json_t *a = json_array();
        int items = f->min_items > 2 ? f->min_items : 2;
        for (int i = 0; i < items; i++)
            json_array_append_new(a, sample_value(f->items));
        return a;
    }
    case OCPP_T_ANY:
        return json_object();
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
        return json_string("true");
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
} walk_t;

static void check_mutated(walk_t *w, ocpp_err_t want, const char *path, const char *expect_msg)
{
    char msg[MSG_CAP];
    ocpp_err_t got = ocpp_schema_validate(w->root_fields, w->root, msg, sizeof(msg));
    char prefix[300];
    snprintf(prefix, sizeof(prefix), "%s: ", path);
    if (got != want)
        fail_msg("%s %s: expected error %d, got %d (%s)", w->id, path, (int)want, (int)got, msg);
    if (expect_msg != NULL ? strcmp(msg, expect_msg) != 0
                           : strncmp(msg, prefix, strlen(prefix)) != 0)
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

static void walk_object(walk_t *w, json_t *obj, const ocpp_field_t *fields, const char *path);

static void walk_value(walk_t *w, json_t *v, const ocpp_field_t *f, const char *path)
{
    char sub[300];
    if (f->type == OCPP_T_OBJECT) walk_object(w, v, f->fields, path);
    if (f->type != OCPP_T_ARRAY) return;
    for (size_t i = 0; i < json_array_size(v); i++) {
        snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
        if (w->mutation == WRONG_TYPE) mutate_type(w, v, NULL, i, f->items, sub);
        walk_value(w, json_array_get(v, i), f->items, sub);
    }
}

static void walk_object(walk_t *w, json_t *obj, const ocpp_field_t *fields, const char *path)
{
    char sub[300];
    if (w->mutation == ADD_UNKNOWN) {
        char expect_msg[400];
        snprintf(expect_msg, sizeof(expect_msg), "%s%sunknown field 'bogusField'", path,
                 path[0] ? ": " : "");
        json_object_set_new(obj, "bogusField", json_true());
        check_mutated(w, OCPP_ERR_FORMAT, path, expect_msg);
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
static int walk_all_tables(mutation_t mutation)
{
    int checks = 0;
    for (size_t i = 0; i < ocpp_v16_defs.count; i++) {
        const ocpp_message_def_t *def = &ocpp_v16_defs.messages[i];
        for (int k = 0; k < 2; k++) {
            char id[128];
            snprintf(id, sizeof(id), "%s.%s", def->action, k == 0 ? "req" : "conf");
            walk_t w = {.id = id,
                        .root_fields = k == 0 ? def->request : def->response,
                        .mutation = mutation};
            w.root = sample_object(w.root_fields);
            char msg[MSG_CAP];
            if (ocpp_schema_validate(w.root_fields, w.root, msg, sizeof(msg)) != OCPP_OK)
                fail_msg("%s: generated payload rejected: %s", id, msg);
            walk_object(&w, w.root, w.root_fields, "");
            checks += w.checks;
            json_decref(w.root);
        }
    }
    return checks;
}

static void every_table_accepts_a_payload_with_every_field(void **state)
{
    (void)state;
    walk_all_tables(NO_MUTATION);
}

static void every_field_of_every_table_rejects_a_wrong_type(void **state)
{
    (void)state;
    assert_true(walk_all_tables(WRONG_TYPE) > 300);
}

static void every_required_field_of_every_table_is_enforced(void **state)
{
    (void)state;
    assert_true(walk_all_tables(DROP_REQUIRED) > 100);
}

static void every_object_of_every_table_rejects_unknown_fields(void **state)
{
    (void)state;
    assert_true(walk_all_tables(ADD_UNKNOWN) > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(find_returns_every_action_in_the_table),
        cmocka_unit_test(find_returns_null_for_unknown_or_miscased_actions),
        cmocka_unit_test(directions_follow_who_sends_the_request),
        cmocka_unit_test(accepts_minimal_boot_notification),
        cmocka_unit_test(accepts_boot_notification_with_every_field),
        cmocka_unit_test(accepts_boot_notification_response),
        cmocka_unit_test(accepts_empty_heartbeat_request),
        cmocka_unit_test(accepts_meter_values_with_nested_sampled_values),
        cmocka_unit_test(accepts_set_charging_profile_with_decimal_limits),
        cmocka_unit_test(accepts_stop_transaction_with_transaction_data),
        cmocka_unit_test(accepts_authorize_response_with_id_tag_info),
        cmocka_unit_test(accepts_get_configuration_response_with_arrays),
        cmocka_unit_test(accepts_data_transfer_in_both_directions),
        cmocka_unit_test(accepts_signed_update_firmware_request),
        cmocka_unit_test(rejects_non_object_payloads_as_format_errors),
        cmocka_unit_test(rejects_null_payload_pointer_as_format_error),
        cmocka_unit_test(rejects_null_field_table_as_internal_error),
        cmocka_unit_test(rejects_unknown_root_field_naming_it),
        cmocka_unit_test(rejects_any_field_in_an_empty_message),
        cmocka_unit_test(rejects_unknown_nested_field_naming_the_object_path),
        cmocka_unit_test(unknown_field_names_are_matched_by_full_length),
        cmocka_unit_test(rejects_missing_required_root_field),
        cmocka_unit_test(rejects_missing_required_nested_field),
        cmocka_unit_test(rejects_missing_required_field_inside_array_item),
        cmocka_unit_test(rejects_array_with_fewer_items_than_min_items),
        cmocka_unit_test(rejects_array_with_more_items_than_max_items),
        cmocka_unit_test(rejects_string_for_integer),
        cmocka_unit_test(rejects_integral_real_for_integer),
        cmocka_unit_test(accepts_integer_and_real_for_number),
        cmocka_unit_test(rejects_string_for_number),
        cmocka_unit_test(rejects_null_for_every_scalar_type),
        cmocka_unit_test(rejects_non_boolean_for_boolean),
        cmocka_unit_test(rejects_wrong_container_types),
        cmocka_unit_test(rejects_number_for_enum),
        cmocka_unit_test(accepts_string_at_max_length),
        cmocka_unit_test(rejects_string_longer_than_max_length),
        cmocka_unit_test(counts_max_length_in_code_points_not_bytes),
        cmocka_unit_test(counts_escaped_nul_as_a_character),
        cmocka_unit_test(abbreviates_long_values_in_messages),
        cmocka_unit_test(rejects_enum_value_listing_the_allowed_values),
        cmocka_unit_test(enum_values_are_case_sensitive),
        cmocka_unit_test(truncates_a_long_list_of_allowed_values),
        cmocka_unit_test(replaces_control_characters_in_echoed_values),
        cmocka_unit_test(rejects_limit_that_is_not_a_multiple_of_a_tenth),
        cmocka_unit_test(accepts_tenths_despite_binary_rounding),
        cmocka_unit_test(accepts_numbers_at_inclusive_bounds),
        cmocka_unit_test(rejects_numbers_outside_bounds),
        cmocka_unit_test(compares_huge_numbers_with_bounds),
        cmocka_unit_test(accepts_extreme_64_bit_integers_without_bounds),
        cmocka_unit_test(rejects_huge_reals_for_integers),
        cmocka_unit_test(judges_multiple_of_for_extreme_reals_without_overflow),
        cmocka_unit_test(datetime_accepts_utc_with_upper_or_lower_case_letters),
        cmocka_unit_test(datetime_accepts_fractional_seconds_of_any_length),
        cmocka_unit_test(datetime_rejects_empty_or_malformed_fraction),
        cmocka_unit_test(datetime_accepts_numeric_offsets),
        cmocka_unit_test(datetime_rejects_malformed_or_out_of_range_offsets),
        cmocka_unit_test(datetime_rejects_missing_timezone),
        cmocka_unit_test(datetime_accepts_february_29_in_leap_years),
        cmocka_unit_test(datetime_rejects_february_29_in_common_years),
        cmocka_unit_test(datetime_rejects_days_beyond_the_end_of_the_month),
        cmocka_unit_test(datetime_rejects_month_out_of_range),
        cmocka_unit_test(datetime_rejects_time_out_of_range),
        cmocka_unit_test(datetime_accepts_a_leap_second),
        cmocka_unit_test(datetime_rejects_other_separators_and_shapes),
        cmocka_unit_test(datetime_rejects_every_truncation_of_a_valid_value),
        cmocka_unit_test(datetime_rejects_non_ascii_digits_and_null),
        cmocka_unit_test(rejects_non_rfc3339_datetime_in_payload_as_type_error),
        cmocka_unit_test(rejects_datetime_with_embedded_nul_in_payload),
        cmocka_unit_test(payload_nesting_beyond_the_table_is_a_type_error),
        cmocka_unit_test(deeply_nested_arrays_stop_at_the_first_wrong_level),
        cmocka_unit_test(cyclic_table_is_cut_off_as_internal_error),
        cmocka_unit_test(accepts_a_missing_message_buffer),
        cmocka_unit_test(clears_the_message_on_success),
        cmocka_unit_test(truncated_messages_stay_nul_terminated_valid_utf8),
        cmocka_unit_test(every_table_accepts_a_payload_with_every_field),
        cmocka_unit_test(every_field_of_every_table_rejects_a_wrong_type),
        cmocka_unit_test(every_required_field_of_every_table_is_enforced),
        cmocka_unit_test(every_object_of_every_table_rejects_unknown_fields),
    };
    return cmocka_run_group_tests_name("ocpp schema validator", tests, NULL, NULL);
}
