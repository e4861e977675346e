/*
 * Specification of charging-profile generation (src/smart/profiles.c): the
 * hysteresis that decides what is sent, the rounding that never exceeds a
 * grant, and the payloads of each purpose in each OCPP version, checked
 * against the server's own message definitions (the same validator that
 * guards every outgoing call).
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
#include "smart/profiles.h"

static const smart_profile_config_t CFG = {1.0, 0.05};

static void validate(smart_proto_t proto, const char *action, const json_t *payload)
{
    const ocpp_version_defs_t *defs = proto == SMART_PROTO_16 ? &ocpp_v16_defs : &ocpp_v201_defs;
    const ocpp_message_def_t *def = ocpp_schema_find(defs, action);
    assert_non_null(def);
    char msg[512];
    ocpp_err_t rc = ocpp_schema_validate(def->request, payload, msg, sizeof msg);
    if (rc != OCPP_OK) {
        char *text = json_dumps(payload, 0);
        fail_msg("%s %s invalid: %s\n%s", defs->name, action, msg, text);
    }
}

static const json_t *first_period(smart_proto_t proto, const json_t *payload)
{
    const json_t *p = json_object_get(payload, proto == SMART_PROTO_16 ? "csChargingProfiles"
                                                                       : "chargingProfile");
    const json_t *s = json_object_get(p, "chargingSchedule");
    if (proto == SMART_PROTO_201) s = json_array_get(s, 0);
    return json_array_get(json_object_get(s, "chargingSchedulePeriod"), 0);
}

/* ---- hysteresis -------------------------------------------------------------------------- */

static void the_first_limit_is_always_sent(void **state)
{
    (void)state;
    assert_true(smart_profile_should_send(&CFG, -1, 16));
    assert_true(smart_profile_should_send(&CFG, -1, 0));
}

static void any_decrease_is_sent(void **state)
{
    (void)state;
    assert_true(smart_profile_should_send(&CFG, 16, 15.9));
    assert_true(smart_profile_should_send(&CFG, 32, 31.8));
    assert_true(smart_profile_should_send(&CFG, 10, 0));
}

static void small_increases_are_held_back(void **state)
{
    (void)state;
    assert_false(smart_profile_should_send(&CFG, 16, 16));
    assert_false(smart_profile_should_send(&CFG, 16, 16.5));
    assert_false(smart_profile_should_send(&CFG, 10, 10.4));
}

static void increases_past_one_ampere_or_five_percent_are_sent(void **state)
{
    (void)state;
    assert_true(smart_profile_should_send(&CFG, 16, 17));
    smart_profile_config_t pct = {5.0, 0.05};
    assert_false(smart_profile_should_send(&pct, 40, 41.5)); /* 3.75 % and below 5 A */
    assert_true(smart_profile_should_send(&pct, 40, 42));    /* 5 % */
}

static void a_paused_session_resumes_at_once(void **state)
{
    (void)state;
    smart_profile_config_t big = {10.0, 0.5};
    assert_true(smart_profile_should_send(&big, 0, 6));
}

static void limits_are_rounded_down_to_a_tenth(void **state)
{
    (void)state;
    assert_true(smart_profile_round(10.19) == 10.1);
    assert_true(smart_profile_round(9.99999) == 9.9);
    assert_true(smart_profile_round(6.0) == 6.0);
    assert_true(smart_profile_round(-3) == 0);
    assert_true(smart_profile_round(1.0 / 0.0) == 0);
}

/* ---- payloads ---------------------------------------------------------------------------- */

static void a_16_tx_profile_names_the_connector_and_numeric_transaction(void **state)
{
    (void)state;
    json_t *p = smart_profile_tx(SMART_PROTO_16, 2, "417", 13.37, 3, NULL, 0, 0);
    validate(SMART_PROTO_16, "SetChargingProfile", p);
    assert_int_equal(json_integer_value(json_object_get(p, "connectorId")), 2);
    const json_t *cp = json_object_get(p, "csChargingProfiles");
    assert_int_equal(json_integer_value(json_object_get(cp, "transactionId")), 417);
    assert_string_equal(json_string_value(json_object_get(cp, "chargingProfilePurpose")),
                        "TxProfile");
    assert_string_equal(json_string_value(json_object_get(cp, "chargingProfileKind")), "Relative");
    assert_int_equal(json_integer_value(json_object_get(cp, "chargingProfileId")),
                     SMART_PROFILE_ID_TX_BASE + 2);
    const json_t *per = first_period(SMART_PROTO_16, p);
    assert_true(json_real_value(json_object_get(per, "limit")) == 13.3);
    assert_int_equal(json_integer_value(json_object_get(per, "numberPhases")), 3);
    json_decref(p);
}

static void a_201_tx_profile_names_the_evse_and_the_stations_transaction(void **state)
{
    (void)state;
    json_t *p = smart_profile_tx(SMART_PROTO_201, 1, "TX-abc", 16, 1, NULL, 0, 0);
    validate(SMART_PROTO_201, "SetChargingProfile", p);
    assert_int_equal(json_integer_value(json_object_get(p, "evseId")), 1);
    const json_t *cp = json_object_get(p, "chargingProfile");
    assert_string_equal(json_string_value(json_object_get(cp, "transactionId")), "TX-abc");
    assert_int_equal(json_integer_value(json_object_get(cp, "id")), SMART_PROFILE_ID_TX_BASE + 1);
    const json_t *sched = json_array_get(json_object_get(cp, "chargingSchedule"), 0);
    assert_string_equal(json_string_value(json_object_get(sched, "chargingRateUnit")), "A");
    assert_non_null(json_object_get(sched, "id"));
    json_decref(p);
}

static void a_schedule_is_absolute_from_its_start(void **state)
{
    (void)state;
    smart_period_t per[3] = {{0, 16}, {900, 8.25}, {1800, 0}};
    json_t *p = smart_profile_tx(SMART_PROTO_201, 1, "TX-1", 16, 3, per, 3, 1704164645);
    validate(SMART_PROTO_201, "SetChargingProfile", p);
    const json_t *cp = json_object_get(p, "chargingProfile");
    assert_string_equal(json_string_value(json_object_get(cp, "chargingProfileKind")), "Absolute");
    const json_t *sched = json_array_get(json_object_get(cp, "chargingSchedule"), 0);
    assert_string_equal(json_string_value(json_object_get(sched, "startSchedule")),
                        "2024-01-02T03:04:05.000Z");
    const json_t *periods = json_object_get(sched, "chargingSchedulePeriod");
    assert_int_equal(json_array_size(periods), 3);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(periods, 1), "startPeriod")),
                     900);
    assert_true(json_real_value(json_object_get(json_array_get(periods, 1), "limit")) == 8.2);
    json_decref(p);
    json_t *q = smart_profile_tx(SMART_PROTO_16, 1, "7", 16, 3, per, 3, 1704164645);
    validate(SMART_PROTO_16, "SetChargingProfile", q);
    json_decref(q);
}

static void the_default_and_station_maximum_go_to_evse_zero(void **state)
{
    (void)state;
    for (int v = 0; v < 2; v++) {
        smart_proto_t proto = (smart_proto_t)v;
        json_t *d = smart_profile_default(proto, 9.0);
        json_t *m = smart_profile_station_max(proto, 32);
        validate(proto, "SetChargingProfile", d);
        validate(proto, "SetChargingProfile", m);
        const char *key = proto == SMART_PROTO_16 ? "connectorId" : "evseId";
        assert_int_equal(json_integer_value(json_object_get(d, key)), 0);
        assert_int_equal(json_integer_value(json_object_get(m, key)), 0);
        const char *pk = proto == SMART_PROTO_16 ? "csChargingProfiles" : "chargingProfile";
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(d, pk), "chargingProfilePurpose")),
            "TxDefaultProfile");
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(m, pk), "chargingProfilePurpose")),
            proto == SMART_PROTO_16 ? "ChargePointMaxProfile" : "ChargingStationMaxProfile");
        assert_null(json_object_get(json_object_get(d, pk), "transactionId"));
        assert_true(json_real_value(json_object_get(first_period(proto, d), "limit")) == 9.0);
        json_decref(d);
        json_decref(m);
    }
}

/* Clearing takes exactly what was set: the ids of the station-wide profiles,
 * and the TxProfiles by the purpose and stack level they were sent with. */
static void clearing_names_the_ids_and_the_tx_stack_level_that_were_set(void **state)
{
    (void)state;
    for (int v = 0; v < 2; v++) {
        smart_proto_t proto = (smart_proto_t)v;
        const char *pk = proto == SMART_PROTO_16 ? "csChargingProfiles" : "chargingProfile";
        /* the names swap between the versions: 1.6 sets chargingProfileId and
         * clears id, 2.0.1 sets id and clears chargingProfileId */
        const char *idk = proto == SMART_PROTO_16 ? "id" : "chargingProfileId";
        const char *setk = proto == SMART_PROTO_16 ? "chargingProfileId" : "id";
        json_t *d = smart_profile_default(proto, 9.0), *m = smart_profile_station_max(proto, 32);
        json_t *tx = smart_profile_tx(proto, 2, "7", 10, 3, NULL, 0, 0);
        json_t *cd = smart_profile_clear_id(proto, SMART_PROFILE_ID_DEFAULT);
        json_t *cm = smart_profile_clear_id(proto, SMART_PROFILE_ID_MAX);
        json_t *ct = smart_profile_clear_tx(proto);
        validate(proto, "ClearChargingProfile", cd);
        validate(proto, "ClearChargingProfile", cm);
        validate(proto, "ClearChargingProfile", ct);
        assert_int_equal(json_integer_value(json_object_get(cd, idk)),
                         json_integer_value(json_object_get(json_object_get(d, pk), setk)));
        assert_int_equal(json_integer_value(json_object_get(cm, idk)),
                         json_integer_value(json_object_get(json_object_get(m, pk), setk)));
        const json_t *crit =
            proto == SMART_PROTO_16 ? ct : json_object_get(ct, "chargingProfileCriteria");
        const json_t *txp = json_object_get(tx, pk);
        assert_string_equal(json_string_value(json_object_get(crit, "chargingProfilePurpose")),
                            "TxProfile");
        assert_int_equal(json_integer_value(json_object_get(crit, "stackLevel")),
                         json_integer_value(json_object_get(txp, "stackLevel")));
        assert_null(json_object_get(crit, proto == SMART_PROTO_16 ? "connectorId" : "evseId"));
        json_t *all[] = {d, m, tx, cd, cm, ct};
        for (size_t i = 0; i < 6; i++)
            json_decref(all[i]);
    }
}

static void composite_schedules_are_asked_and_read_in_each_version(void **state)
{
    (void)state;
    json_t *r16 = smart_profile_composite_request(SMART_PROTO_16, 1, 300);
    json_t *r201 = smart_profile_composite_request(SMART_PROTO_201, 1, 300);
    validate(SMART_PROTO_16, "GetCompositeSchedule", r16);
    validate(SMART_PROTO_201, "GetCompositeSchedule", r201);
    json_decref(r16);
    json_decref(r201);
    double a = -1;
    json_t *ans = json_pack("{s:s,s:{s:s,s:[{s:i,s:f}]}}", "status", "Accepted", "chargingSchedule",
                            "chargingRateUnit", "A", "chargingSchedulePeriod", "startPeriod", 0,
                            "limit", 12.5);
    assert_true(smart_profile_composite_limit(SMART_PROTO_16, ans, &a));
    assert_true(a == 12.5);
    assert_false(smart_profile_composite_limit(SMART_PROTO_201, ans, &a)); /* wrong shape */
    json_decref(ans);
    json_t *w = json_pack("{s:s,s:{s:s,s:[{s:i,s:f}]}}", "status", "Accepted", "schedule",
                          "chargingRateUnit", "W", "chargingSchedulePeriod", "startPeriod", 0,
                          "limit", 7000.0);
    assert_false(smart_profile_composite_limit(SMART_PROTO_201, w, &a)); /* not in amperes */
    json_decref(w);
    json_t *rej = json_pack("{s:s}", "status", "Rejected");
    assert_false(smart_profile_composite_limit(SMART_PROTO_201, rej, &a));
    assert_false(smart_profile_accepted(rej));
    json_decref(rej);
}

static void protocols_are_recognised_by_subprotocol(void **state)
{
    (void)state;
    assert_int_equal(smart_proto_parse("ocpp1.6"), SMART_PROTO_16);
    assert_int_equal(smart_proto_parse("ocpp2.0.1"), SMART_PROTO_201);
    assert_int_equal(smart_proto_parse("ocpp2.1"), -1);
    assert_int_equal(smart_proto_parse(NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_first_limit_is_always_sent),
        cmocka_unit_test(any_decrease_is_sent),
        cmocka_unit_test(small_increases_are_held_back),
        cmocka_unit_test(increases_past_one_ampere_or_five_percent_are_sent),
        cmocka_unit_test(a_paused_session_resumes_at_once),
        cmocka_unit_test(limits_are_rounded_down_to_a_tenth),
        cmocka_unit_test(a_16_tx_profile_names_the_connector_and_numeric_transaction),
        cmocka_unit_test(a_201_tx_profile_names_the_evse_and_the_stations_transaction),
        cmocka_unit_test(a_schedule_is_absolute_from_its_start),
        cmocka_unit_test(the_default_and_station_maximum_go_to_evse_zero),
        cmocka_unit_test(clearing_names_the_ids_and_the_tx_stack_level_that_were_set),
        cmocka_unit_test(composite_schedules_are_asked_and_read_in_each_version),
        cmocka_unit_test(protocols_are_recognised_by_subprotocol),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
