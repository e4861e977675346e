/*
 * Specification of OCPP-J framing (src/ocpp/frame.c): strict parsing of
 * CALL, CALLRESULT and CALLERROR frames, the error class each broken frame
 * gets, when the message id is recovered so the sender can still be answered,
 * and the exact text the serialisers produce.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ocpp/frame.h"

#define MSG_CAP 256

/* ---- helpers ----------------------------------------------------------------------------- */

typedef struct parsed {
    ocpp_err_t err;
    ocpp_frame_t f;
    char msg[MSG_CAP];
} parsed_t;

static void parse_len(parsed_t *p, const char *text, size_t len)
{
    memset(p->msg, 0, sizeof p->msg);
    p->err = ocpp_frame_parse(text, len, &p->f, p->msg, sizeof p->msg);
}

static void parse(parsed_t *p, const char *text)
{
    parse_len(p, text, strlen(text));
}

/* Asserts that `text` is refused with `want`, a message, and the id `id` ("" = none). */
static void expect_refused(const char *text, ocpp_err_t want, const char *id)
{
    parsed_t p;
    parse(&p, text);
    if (p.err != want)
        fail_msg("expected error %d, got %d (%s) for %s", (int)want, (int)p.err, p.msg, text);
    if (p.f.root != NULL) fail_msg("a refused frame must not keep a JSON tree: %s", text);
    if (p.msg[0] == '\0') fail_msg("a refused frame needs a message: %s", text);
    if (strcmp(p.f.id, id) != 0) fail_msg("expected id '%s', got '%s' for %s", id, p.f.id, text);
    if (p.f.long_id != NULL) fail_msg("unexpected over-long id '%s' for %s", p.f.long_id, text);
    ocpp_frame_free(&p.f);
}

/* Asserts that the serialised frame `got` (malloc'd) is exactly `want`, then frees it. */
static void expect_text(char *got, const char *want)
{
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static json_t *json(const char *text)
{
    json_error_t error;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &error);
    if (j == NULL) fail_msg("test JSON does not parse: %s: %s", error.text, text);
    return j;
}

/* ---- happy paths ------------------------------------------------------------------------- */

static void parses_call_with_id_action_and_payload(void **state)
{
    parsed_t p;
    parse(&p, "[2,\"19223201\",\"BootNotification\",{\"chargePointVendor\":\"VendorX\"}]");
    assert_int_equal(p.err, OCPP_OK);
    assert_int_equal(p.f.type, OCPP_CALL);
    assert_string_equal(p.f.id, "19223201");
    assert_string_equal(p.f.action, "BootNotification");
    assert_true(json_is_object(p.f.payload));
    assert_string_equal(json_string_value(json_object_get(p.f.payload, "chargePointVendor")),
                        "VendorX");
    assert_non_null(p.f.root);
    ocpp_frame_free(&p.f);
    assert_null(p.f.root);
}

static void parses_callresult_with_id_and_payload(void **state)
{
    parsed_t p;
    parse(&p, "[3,\"19223201\",{\"currentTime\":\"2024-01-02T03:04:05Z\"}]");
    assert_int_equal(p.err, OCPP_OK);
    assert_int_equal(p.f.type, OCPP_CALLRESULT);
    assert_string_equal(p.f.id, "19223201");
    assert_null(p.f.action);
    assert_string_equal(json_string_value(json_object_get(p.f.payload, "currentTime")),
                        "2024-01-02T03:04:05Z");
    ocpp_frame_free(&p.f);
}

static void parses_callerror_with_code_description_and_details(void **state)
{
    parsed_t p;
    parse(&p, "[4,\"162376037\",\"NotSupported\",\"SetDisplayMessage not implemented\","
              "{\"hint\":1}]");
    assert_int_equal(p.err, OCPP_OK);
    assert_int_equal(p.f.type, OCPP_CALLERROR);
    assert_string_equal(p.f.id, "162376037");
    assert_string_equal(p.f.error_code, "NotSupported");
    assert_string_equal(p.f.error_description, "SetDisplayMessage not implemented");
    assert_true(json_is_object(p.f.error_details));
    assert_int_equal(json_integer_value(json_object_get(p.f.error_details, "hint")), 1);
    ocpp_frame_free(&p.f);
}

static void accepts_whitespace_between_elements(void **state)
{
    parsed_t p;
    parse(&p, " \n[ 3 ,\t\"a\" , { } ]\r\n");
    assert_int_equal(p.err, OCPP_OK);
    assert_string_equal(p.f.id, "a");
    ocpp_frame_free(&p.f);
}

static void accepts_message_id_of_36_characters(void **state)
{
    parsed_t p;
    parse(&p, "[3,\"123456789012345678901234567890123456\",{}]");
    assert_int_equal(p.err, OCPP_OK);
    assert_string_equal(p.f.id, "123456789012345678901234567890123456");
    ocpp_frame_free(&p.f);
}

static void reads_only_the_given_length(void **state)
{
    /* WebSocket payloads are not NUL-terminated: the bytes after len are not the frame's. */
    const char buf[] = "[3,\"x\",{}]]]garbage";
    parsed_t p;
    parse_len(&p, buf, strlen("[3,\"x\",{}]"));
    assert_int_equal(p.err, OCPP_OK);
    assert_string_equal(p.f.id, "x");
    ocpp_frame_free(&p.f);
}

/* ---- JSON that does not parse ------------------------------------------------------------ */

static void invalid_json_is_a_format_error(void **state)
{
    expect_refused("[2,\"abc\",\"Heartbeat\",{", OCPP_ERR_FORMAT, "abc");
}

static void invalid_json_recovers_the_id_after_whitespace(void **state)
{
    expect_refused(" [ 2 , \"abc-1\" , \"Heartbeat\", {]", OCPP_ERR_FORMAT, "abc-1");
}

static void invalid_json_recovers_the_id_of_a_truncated_frame(void **state)
{
    expect_refused("[2,\"abc\"", OCPP_ERR_FORMAT, "abc");
}

static void trailing_garbage_is_a_format_error_with_the_id(void **state)
{
    expect_refused("[3,\"x\",{}] x", OCPP_ERR_FORMAT, "x");
}

static void invalid_json_not_starting_like_a_frame_has_no_id(void **state)
{
    expect_refused("{\"id\":\"abc\"", OCPP_ERR_FORMAT, "");
    expect_refused("garbage", OCPP_ERR_FORMAT, "");
    expect_refused("", OCPP_ERR_FORMAT, "");
    expect_refused("[", OCPP_ERR_FORMAT, "");
    expect_refused("[\"2\",\"abc\",", OCPP_ERR_FORMAT, "");
    expect_refused("[2 \"abc\",", OCPP_ERR_FORMAT, "");
    expect_refused("[2,abc,", OCPP_ERR_FORMAT, "");
}

static void invalid_json_recovers_no_unterminated_or_empty_id(void **state)
{
    expect_refused("[2,\"abc", OCPP_ERR_FORMAT, "");
    expect_refused("[2,\"\",", OCPP_ERR_FORMAT, "");
}

static void invalid_json_recovers_no_id_longer_than_36(void **state)
{
    expect_refused("[2,\"1234567890123456789012345678901234567\",\"A\",{", OCPP_ERR_FORMAT, "");
    expect_refused("[2,\"123456789012345678901234567890123456\",\"A\",{", OCPP_ERR_FORMAT,
                   "123456789012345678901234567890123456");
}

static void invalid_json_recovers_no_id_with_escapes_or_control_characters(void **state)
{
    expect_refused("[2,\"ab\\\"c\",{", OCPP_ERR_FORMAT, "");
    expect_refused("[2,\"ab\x01\",{", OCPP_ERR_FORMAT, "");
    expect_refused("[2,\"ab\tc\",{", OCPP_ERR_FORMAT, "");
}

/* A recovered id is echoed in a CALLERROR, whose text must be valid JSON (and so UTF-8). */
static void invalid_json_recovers_only_ids_that_can_be_echoed(void **state)
{
    static const char *const frames[] = {
        "[2,\"\xff\",{",         /* never valid UTF-8 */
        "[2,\"ab\xc3\",{",       /* truncated sequence */
        "[2,\"\xed\xa0\x80\",{", /* UTF-16 surrogate */
    };
    for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++) {
        parsed_t p;
        parse(&p, frames[i]);
        assert_int_equal(p.err, OCPP_ERR_FORMAT);
        if (p.f.id[0] != '\0') {
            json_t *s = json_string(p.f.id);
            if (s == NULL)
                fail_msg("frame %zu: recovered id is not valid UTF-8, so it cannot be answered", i);
            json_decref(s);
        }
        ocpp_frame_free(&p.f);
    }
}

static void duplicate_keys_are_refused(void **state)
{
    expect_refused("[2,\"a\",\"Heartbeat\",{\"k\":1,\"k\":2}]", OCPP_ERR_FORMAT, "a");
}

static void duplicate_keys_in_nested_objects_are_refused(void **state)
{
    expect_refused("[3,\"a\",{\"x\":{\"k\":1,\"k\":1}}]", OCPP_ERR_FORMAT, "a");
}

static void error_message_names_the_json_problem(void **state)
{
    parsed_t p;
    parse(&p, "[2,\"a\",\"Heartbeat\",{\"k\":1,\"k\":2}]");
    assert_int_equal(p.err, OCPP_ERR_FORMAT);
    assert_non_null(strstr(p.msg, "not valid JSON"));
    assert_non_null(strstr(p.msg, "duplicate"));
    ocpp_frame_free(&p.f);
}

static void error_message_is_truncated_to_the_buffer(void **state)
{
    char msg[8];
    ocpp_frame_t f;
    memset(msg, 'x', sizeof msg);
    ocpp_err_t e = ocpp_frame_parse("{}", 2, &f, msg, sizeof msg);
    assert_int_equal(e, OCPP_ERR_PROTOCOL);
    assert_non_null(memchr(msg, '\0', sizeof msg));
    assert_int_equal(strlen(msg), sizeof msg - 1);
    ocpp_frame_free(&f);
}

/* ---- JSON that is not an OCPP-J frame ---------------------------------------------------- */

static void an_object_is_a_protocol_error(void **state)
{
    expect_refused("{\"messageTypeId\":2}", OCPP_ERR_PROTOCOL, "");
}

static void a_json_scalar_is_a_protocol_error(void **state)
{
    /* "42" parses as JSON (RFC 8259); it is a value that is not a frame. */
    expect_refused("42", OCPP_ERR_PROTOCOL, "");
    expect_refused("\"[2,\\\"a\\\"]\"", OCPP_ERR_PROTOCOL, "");
}

static void an_array_shorter_than_three_is_a_protocol_error(void **state)
{
    expect_refused("[]", OCPP_ERR_PROTOCOL, "");
    expect_refused("[2]", OCPP_ERR_PROTOCOL, "");
}

static void a_short_array_with_a_message_id_keeps_the_id_for_the_answer(void **state)
{
    expect_refused("[3,\"abc\"]", OCPP_ERR_PROTOCOL, "abc");
}

static void a_type_id_that_is_not_an_integer_is_a_protocol_error(void **state)
{
    expect_refused("[\"2\",\"abc\",\"Heartbeat\",{}]", OCPP_ERR_PROTOCOL, "abc");
    expect_refused("[2.0,\"abc\",\"Heartbeat\",{}]", OCPP_ERR_PROTOCOL, "abc");
    expect_refused("[null,\"abc\",\"Heartbeat\",{}]", OCPP_ERR_PROTOCOL, "abc");
    expect_refused("[true,\"abc\",\"Heartbeat\",{}]", OCPP_ERR_PROTOCOL, "abc");
}

static void an_unknown_type_id_is_a_message_type_error_with_the_id(void **state)
{
    expect_refused("[5,\"abc\",\"Heartbeat\",{}]", OCPP_ERR_MESSAGE_TYPE, "abc");
    expect_refused("[1,\"abc\",{}]", OCPP_ERR_MESSAGE_TYPE, "abc");
    expect_refused("[0,\"abc\",{}]", OCPP_ERR_MESSAGE_TYPE, "abc");
    expect_refused("[-2,\"abc\",{}]", OCPP_ERR_MESSAGE_TYPE, "abc");
    expect_refused("[9223372036854775807,\"abc\",{}]", OCPP_ERR_MESSAGE_TYPE, "abc");
}

static void a_missing_message_id_is_a_protocol_error_without_id(void **state)
{
    expect_refused("[2,null,\"Heartbeat\",{}]", OCPP_ERR_PROTOCOL, "");
}

static void an_empty_message_id_is_a_protocol_error_without_id(void **state)
{
    expect_refused("[2,\"\",\"Heartbeat\",{}]", OCPP_ERR_PROTOCOL, "");
}

static void a_message_id_of_37_characters_is_a_protocol_error_without_id(void **state)
{
    parsed_t p;
    parse(&p, "[2,\"1234567890123456789012345678901234567\",\"Heartbeat\",{}]");
    assert_int_equal(p.err, OCPP_ERR_PROTOCOL);
    assert_null(p.f.root);
    assert_string_equal(p.f.id, "");
    ocpp_frame_free(&p.f);
}

static void an_over_long_message_id_is_kept_aside_to_answer_the_error(void **state)
{
    char frame[1200];
    char id[1001];
    memset(id, 'i', 1000);
    id[1000] = '\0';
    snprintf(frame, sizeof frame, "[2,\"%s\",\"Heartbeat\",{}]", id);
    parsed_t p;
    parse(&p, frame);
    assert_int_equal(p.err, OCPP_ERR_PROTOCOL);
    assert_string_equal(p.f.id, "");
    assert_non_null(p.f.long_id);
    assert_string_equal(p.f.long_id, id);
    ocpp_frame_free(&p.f);
    assert_null(p.f.long_id);
}

static void a_message_id_that_is_not_a_string_is_a_protocol_error_without_id(void **state)
{
    expect_refused("[2,19223201,\"Heartbeat\",{}]", OCPP_ERR_PROTOCOL, "");
    expect_refused("[3,[\"abc\"],{}]", OCPP_ERR_PROTOCOL, "");
    expect_refused("[4,{\"id\":\"abc\"},\"X\",\"\",{}]", OCPP_ERR_PROTOCOL, "");
}

static void a_message_id_with_an_escaped_nul_is_refused_without_id(void **state)
{
    /* Whether the parser refuses \u0000 as JSON or as a frame, the id cannot be echoed. */
    parsed_t p;
    parse(&p, "[2,\"ab\\u0000cd\",\"Heartbeat\",{}]");
    assert_int_not_equal(p.err, OCPP_OK);
    assert_null(p.f.root);
    assert_string_equal(p.f.id, "");
    ocpp_frame_free(&p.f);
}

static void a_call_needs_exactly_four_elements(void **state)
{
    expect_refused("[2,\"abc\",\"Heartbeat\"]", OCPP_ERR_PROTOCOL, "abc");
    expect_refused("[2,\"abc\",\"Heartbeat\",{},{}]", OCPP_ERR_PROTOCOL, "abc");
}

static void a_callresult_needs_exactly_three_elements(void **state)
{
    expect_refused("[3,\"abc\",{},{}]", OCPP_ERR_PROTOCOL, "abc");
}

static void a_callerror_needs_exactly_five_elements(void **state)
{
    expect_refused("[4,\"abc\",\"GenericError\",\"\"]", OCPP_ERR_PROTOCOL, "abc");
    expect_refused("[4,\"abc\",\"GenericError\",\"\",{},{}]", OCPP_ERR_PROTOCOL, "abc");
}

static void a_call_action_must_be_a_non_empty_string(void **state)
{
    expect_refused("[2,\"abc\",\"\",{}]", OCPP_ERR_PROTOCOL, "abc");
    expect_refused("[2,\"abc\",7,{}]", OCPP_ERR_PROTOCOL, "abc");
    expect_refused("[2,\"abc\",null,{}]", OCPP_ERR_PROTOCOL, "abc");
}

static void a_call_action_longer_than_64_is_a_protocol_error(void **state)
{
    char frame[160];
    char action[66];
    memset(action, 'A', 65);
    action[65] = '\0';
    snprintf(frame, sizeof frame, "[2,\"abc\",\"%s\",{}]", action);
    expect_refused(frame, OCPP_ERR_PROTOCOL, "abc");
}

static void a_callerror_with_details_that_are_not_an_object_is_a_protocol_error(void **state)
{
    expect_refused("[4,\"abc\",\"GenericError\",\"\",[]]", OCPP_ERR_PROTOCOL, "abc");
    expect_refused("[4,\"abc\",\"GenericError\",\"\",null]", OCPP_ERR_PROTOCOL, "abc");
    expect_refused("[4,\"abc\",\"GenericError\",\"\",\"{}\"]", OCPP_ERR_PROTOCOL, "abc");
}

static void a_callerror_code_and_description_must_be_strings(void **state)
{
    expect_refused("[4,\"abc\",1,\"\",{}]", OCPP_ERR_PROTOCOL, "abc");
    expect_refused("[4,\"abc\",\"GenericError\",null,{}]", OCPP_ERR_PROTOCOL, "abc");
}

/* ---- serialisers ------------------------------------------------------------------------- */

static void serialises_a_call(void **state)
{
    json_t *payload = json("{\"chargePointVendor\":\"V\",\"chargePointModel\":\"M\"}");
    expect_text(ocpp_frame_call("id-1", "BootNotification", payload),
                "[2,\"id-1\",\"BootNotification\","
                "{\"chargePointVendor\":\"V\",\"chargePointModel\":\"M\"}]");
    json_decref(payload);
}

static void serialises_a_callresult(void **state)
{
    json_t *payload = json("{\"status\":\"Accepted\",\"interval\":300}");
    expect_text(ocpp_frame_result("42", payload),
                "[3,\"42\",{\"status\":\"Accepted\",\"interval\":300}]");
    json_decref(payload);
}

static void serialises_a_callerror_with_empty_details_by_default(void **state)
{
    expect_text(ocpp_frame_error("42", "NotImplemented", "Unknown action Foo", NULL),
                "[4,\"42\",\"NotImplemented\",\"Unknown action Foo\",{}]");
}

static void serialises_a_callerror_with_details(void **state)
{
    json_t *details = json("{\"field\":\"idTag\"}");
    expect_text(ocpp_frame_error("42", "PropertyConstraintViolation", "too long", details),
                "[4,\"42\",\"PropertyConstraintViolation\",\"too long\",{\"field\":\"idTag\"}]");
    json_decref(details);
}

static void serialises_a_missing_description_as_empty(void **state)
{
    expect_text(ocpp_frame_error("42", "GenericError", NULL, NULL),
                "[4,\"42\",\"GenericError\",\"\",{}]");
}

static void serialisers_escape_quotes_and_control_characters(void **state)
{
    expect_text(ocpp_frame_error("a\"b", "GenericError", "line\nbreak \\ \"q\"", NULL),
                "[4,\"a\\\"b\",\"GenericError\",\"line\\nbreak \\\\ \\\"q\\\"\",{}]");
}

static void serialisers_borrow_payload_and_details(void **state)
{
    json_t *payload = json("{}");
    json_t *details = json("{}");
    free(ocpp_frame_call("1", "Heartbeat", payload));
    free(ocpp_frame_result("1", payload));
    free(ocpp_frame_error("1", "GenericError", "", details));
    assert_int_equal(payload->refcount, 1);
    assert_int_equal(details->refcount, 1);
    json_decref(payload);
    json_decref(details);
}

static void callerror_with_invalid_utf8_description_is_still_valid_json(void **state)
{
    /* A description cut at a byte limit in the middle of "é" (0xc3 0xa9). */
    char *text = ocpp_frame_error("42", "FormationViolation", "caf\xc3", NULL);
    assert_non_null(text);
    json_error_t error;
    json_t *frame = json_loads(text, 0, &error);
    if (frame == NULL) fail_msg("not valid JSON (%s): %s", error.text, text);
    assert_int_equal(json_array_size(frame), 5);
    assert_int_equal(json_integer_value(json_array_get(frame, 0)), 4);
    assert_string_equal(json_string_value(json_array_get(frame, 1)), "42");
    assert_string_equal(json_string_value(json_array_get(frame, 2)), "FormationViolation");
    assert_true(json_is_string(json_array_get(frame, 3)));
    assert_true(json_is_object(json_array_get(frame, 4)));
    json_decref(frame);
    free(text);
}

static void serialised_frames_parse_back(void **state)
{
    json_t *payload = json("{\"a\":[1,2,{\"b\":null}]}");
    char *text = ocpp_frame_call("round-trip", "DataTransfer", payload);
    parsed_t p;
    parse(&p, text);
    assert_int_equal(p.err, OCPP_OK);
    assert_int_equal(p.f.type, OCPP_CALL);
    assert_string_equal(p.f.id, "round-trip");
    assert_string_equal(p.f.action, "DataTransfer");
    assert_true(json_equal(p.f.payload, payload));
    ocpp_frame_free(&p.f);
    free(text);
    json_decref(payload);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_call_with_id_action_and_payload),
        cmocka_unit_test(parses_callresult_with_id_and_payload),
        cmocka_unit_test(parses_callerror_with_code_description_and_details),
        cmocka_unit_test(accepts_whitespace_between_elements),
        cmocka_unit_test(accepts_message_id_of_36_characters),
        cmocka_unit_test(reads_only_the_given_length),
        cmocka_unit_test(invalid_json_is_a_format_error),
        cmocka_unit_test(invalid_json_recovers_the_id_after_whitespace),
        cmocka_unit_test(invalid_json_recovers_the_id_of_a_truncated_frame),
        cmocka_unit_test(trailing_garbage_is_a_format_error_with_the_id),
        cmocka_unit_test(invalid_json_not_starting_like_a_frame_has_no_id),
        cmocka_unit_test(invalid_json_recovers_no_unterminated_or_empty_id),
        cmocka_unit_test(invalid_json_recovers_no_id_longer_than_36),
        cmocka_unit_test(invalid_json_recovers_no_id_with_escapes_or_control_characters),
        cmocka_unit_test(invalid_json_recovers_only_ids_that_can_be_echoed),
        cmocka_unit_test(duplicate_keys_are_refused),
        cmocka_unit_test(duplicate_keys_in_nested_objects_are_refused),
        cmocka_unit_test(error_message_names_the_json_problem),
        cmocka_unit_test(error_message_is_truncated_to_the_buffer),
        cmocka_unit_test(an_object_is_a_protocol_error),
        cmocka_unit_test(a_json_scalar_is_a_protocol_error),
        cmocka_unit_test(an_array_shorter_than_three_is_a_protocol_error),
        cmocka_unit_test(a_short_array_with_a_message_id_keeps_the_id_for_the_answer),
        cmocka_unit_test(a_type_id_that_is_not_an_integer_is_a_protocol_error),
        cmocka_unit_test(an_unknown_type_id_is_a_message_type_error_with_the_id),
        cmocka_unit_test(a_missing_message_id_is_a_protocol_error_without_id),
        cmocka_unit_test(an_empty_message_id_is_a_protocol_error_without_id),
        cmocka_unit_test(a_message_id_of_37_characters_is_a_protocol_error_without_id),
        cmocka_unit_test(an_over_long_message_id_is_kept_aside_to_answer_the_error),
        cmocka_unit_test(a_message_id_that_is_not_a_string_is_a_protocol_error_without_id),
        cmocka_unit_test(a_message_id_with_an_escaped_nul_is_refused_without_id),
        cmocka_unit_test(a_call_needs_exactly_four_elements),
        cmocka_unit_test(a_callresult_needs_exactly_three_elements),
        cmocka_unit_test(a_callerror_needs_exactly_five_elements),
        cmocka_unit_test(a_call_action_must_be_a_non_empty_string),
        cmocka_unit_test(a_call_action_longer_than_64_is_a_protocol_error),
        cmocka_unit_test(a_callerror_with_details_that_are_not_an_object_is_a_protocol_error),
        cmocka_unit_test(a_callerror_code_and_description_must_be_strings),
        cmocka_unit_test(serialises_a_call),
        cmocka_unit_test(serialises_a_callresult),
        cmocka_unit_test(serialises_a_callerror_with_empty_details_by_default),
        cmocka_unit_test(serialises_a_callerror_with_details),
        cmocka_unit_test(serialises_a_missing_description_as_empty),
        cmocka_unit_test(serialisers_escape_quotes_and_control_characters),
        cmocka_unit_test(serialisers_borrow_payload_and_details),
        cmocka_unit_test(callerror_with_invalid_utf8_description_is_still_valid_json),
        cmocka_unit_test(serialised_frames_parse_back),
    };
    return cmocka_run_group_tests_name("ocpp-j framing", tests, NULL, NULL);
}
