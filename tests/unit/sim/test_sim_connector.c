/*
 * What a simulated connector does for the server's other calls: availability
 * (ChangeAvailability, Scheduled while charging), reservations (ReserveNow,
 * use, expiry, CancelReservation), UnlockConnector, charging profiles and
 * their composite schedule (and the power the EV then draws), the local
 * authorization list and GetTransactionStatus. The fake transport of
 * sim_fake.h; the test plays the CSMS.
 */
#include "sim_fake.h"

#include "sim/local_list.h"
#include "sim/meter.h"
#include "sim/profiles.h"

static int setup_v16(void **state)
{
    fake_setup("ocpp1.6", NULL);
    return 0;
}

static int setup_v201(void **state)
{
    fake_setup("ocpp2.0.1", NULL);
    return 0;
}

/* Expects one StatusNotification for connector c with status (1.6 names). */
static void expect_connector_status(int c, const char *status)
{
    ocpp_frame_t f;
    expect_call("StatusNotification", &f);
    bool v16 = strcmp(protocol, "ocpp1.6") == 0;
    assert_int_equal(json_integer_value(json_object_get(f.payload, v16 ? "connectorId" : "evseId")),
                     c);
    assert_string_equal(
        json_string_value(json_object_get(f.payload, v16 ? "status" : "connectorStatus")), status);
    answer(&f, "{}");
    ocpp_frame_free(&f);
}

/* A 1.6 session on connector c started remotely and running (transaction tx). */
static void remote_session_v16(int c, const char *tag, int tx)
{
    char p[100];
    snprintf(p, sizeof p, "{\"connectorId\":%d,\"idTag\":\"%s\"}", c, tag);
    assert_string_equal(server_call_status("RemoteStartTransaction", p), "Accepted");
    expect_connector_status(c, "Preparing");
    ocpp_frame_t f;
    expect_call("StartTransaction", &f);
    char a[100];
    snprintf(a, sizeof a, "{\"idTagInfo\":{\"status\":\"Accepted\"},\"transactionId\":%d}", tx);
    answer(&f, a);
    ocpp_frame_free(&f);
    expect_connector_status(c, "Charging");
    st->conn_[c - 1].session_end_ms = UINT64_MAX;
}

/* --------------------------------------------------------- availability */

static void inoperative_connector_is_unavailable_until_operative(void **state)
{
    boot();
    assert_string_equal(
        server_call_status("ChangeAvailability", "{\"connectorId\":2,\"type\":\"Inoperative\"}"),
        "Accepted");
    expect_connector_status(2, "Unavailable");
    assert_string_equal(
        server_call_status("RemoteStartTransaction", "{\"connectorId\":2,\"idTag\":\"T\"}"),
        "Rejected");
    assert_false(sim_session_start(&st->conn_[1], NULL, false)); /* no EV either */
    assert_string_equal(
        server_call_status("ChangeAvailability", "{\"connectorId\":2,\"type\":\"Operative\"}"),
        "Accepted");
    expect_connector_status(2, "Available");
    assert_string_equal(
        server_call_status("ChangeAvailability", "{\"connectorId\":3,\"type\":\"Operative\"}"),
        "Rejected");
}

static void inoperative_while_charging_is_scheduled_for_the_session_end(void **state)
{
    boot();
    remote_session_v16(1, "T1", 5);
    assert_string_equal(
        server_call_status("ChangeAvailability", "{\"connectorId\":1,\"type\":\"Inoperative\"}"),
        "Scheduled");
    no_more_frames();
    assert_int_equal(st->conn_[0].state, SIM_CS_CHARGING);
    assert_string_equal(server_call_status("RemoteStopTransaction", "{\"transactionId\":5}"),
                        "Accepted");
    ocpp_frame_t f;
    expect_call("StopTransaction", &f);
    answer(&f, "{}");
    ocpp_frame_free(&f);
    expect_connector_status(1, "Finishing");
    expect_connector_status(1, "Unavailable"); /* not Available: the change applied */
}

static void whole_station_inoperative_reports_connector_zero(void **state)
{
    boot();
    assert_string_equal(
        server_call_status("ChangeAvailability", "{\"connectorId\":0,\"type\":\"Inoperative\"}"),
        "Accepted");
    expect_connector_status(1, "Unavailable");
    expect_connector_status(2, "Unavailable");
    expect_connector_status(0, "Unavailable");
    /* it survives a reboot */
    server_call_status("Reset", "{\"type\":\"Soft\"}");
    json_t *b = reboot_and_boot();
    json_decref(b);
    expect_connector_status(0, "Unavailable");
    expect_connector_status(1, "Unavailable");
    expect_connector_status(2, "Unavailable");
}

/* -------------------------------------------------------- reservations */

static void reservation_holds_the_connector_until_it_expires(void **state)
{
    boot();
    char ts[TIME_RFC3339_LEN], p[300];
    snprintf(p, sizeof p,
             "{\"connectorId\":1,\"expiryDate\":\"%s\",\"idTag\":\"RES1\",\"reservationId\":3}",
             at_offset(30000, ts));
    uint64_t t0 = s->now_ms;
    assert_string_equal(server_call_status("ReserveNow", p), "Accepted");
    expect_connector_status(1, "Reserved");
    assert_string_equal(server_call_status("ReserveNow", p), "Accepted"); /* same id: moved */
    snprintf(p, sizeof p,
             "{\"connectorId\":1,\"expiryDate\":\"%s\",\"idTag\":\"X\",\"reservationId\":4}",
             at_offset(30000, ts));
    assert_string_equal(server_call_status("ReserveNow", p), "Occupied");
    snprintf(p, sizeof p,
             "{\"connectorId\":0,\"expiryDate\":\"%s\",\"idTag\":\"X\",\"reservationId\":5}",
             at_offset(30000, ts));
    assert_string_equal(server_call_status("ReserveNow", p), "Rejected"); /* no connector 0 */
    drain_status();
    walk(t0 + 29000);
    no_more_frames();
    walk(t0 + 30100);
    expect_connector_status(1, "Available");
    assert_false(st->conn_[0].reserved);
}

static void reservation_is_used_by_its_id_token_only(void **state)
{
    boot();
    char ts[TIME_RFC3339_LEN], p[300];
    snprintf(p, sizeof p,
             "{\"connectorId\":2,\"expiryDate\":\"%s\",\"idTag\":\"RES2\",\"reservationId\":8}",
             at_offset(60000, ts));
    assert_string_equal(server_call_status("ReserveNow", p), "Accepted");
    expect_connector_status(2, "Reserved");
    assert_string_equal(
        server_call_status("RemoteStartTransaction", "{\"connectorId\":2,\"idTag\":\"OTHER\"}"),
        "Rejected");
    assert_string_equal(
        server_call_status("RemoteStartTransaction", "{\"connectorId\":2,\"idTag\":\"RES2\"}"),
        "Accepted");
    expect_connector_status(2, "Preparing");
    ocpp_frame_t f;
    expect_call("StartTransaction", &f);
    assert_int_equal(json_integer_value(json_object_get(f.payload, "reservationId")), 8);
    ocpp_frame_free(&f);
    assert_false(st->conn_[1].reserved);
}

static void cancel_reservation_frees_the_connector(void **state)
{
    boot();
    char ts[TIME_RFC3339_LEN], p[300];
    snprintf(p, sizeof p,
             "{\"connectorId\":1,\"expiryDate\":\"%s\",\"idTag\":\"R\",\"reservationId\":11}",
             at_offset(60000, ts));
    server_call_status("ReserveNow", p);
    expect_connector_status(1, "Reserved");
    assert_string_equal(server_call_status("CancelReservation", "{\"reservationId\":12}"),
                        "Rejected");
    assert_string_equal(server_call_status("CancelReservation", "{\"reservationId\":11}"),
                        "Accepted");
    expect_connector_status(1, "Available");
    snprintf(p, sizeof p,
             "{\"connectorId\":1,\"expiryDate\":\"%s\",\"idTag\":\"R\",\"reservationId\":13}",
             at_offset(-1000, ts));
    assert_string_equal(server_call_status("ReserveNow", p), "Rejected"); /* already expired */
}

static void v201_expired_reservation_is_reported(void **state)
{
    boot();
    char ts[TIME_RFC3339_LEN], p[300];
    snprintf(p, sizeof p,
             "{\"id\":21,\"expiryDateTime\":\"%s\",\"idToken\":{\"idToken\":\"R21\","
             "\"type\":\"ISO14443\"}}",
             at_offset(10000, ts));
    assert_string_equal(server_call_status("ReserveNow", p), "Accepted"); /* any EVSE: the first */
    expect_connector_status(1, "Reserved");
    walk(s->now_ms + 10100);
    ocpp_frame_t f;
    expect_call("ReservationStatusUpdate", &f);
    assert_int_equal(json_integer_value(json_object_get(f.payload, "reservationId")), 21);
    assert_string_equal(json_string_value(json_object_get(f.payload, "reservationUpdateStatus")),
                        "Expired");
    answer(&f, "{}");
    ocpp_frame_free(&f);
    expect_connector_status(1, "Available");
}

static void v201_inoperative_removes_a_reservation(void **state)
{
    boot();
    char ts[TIME_RFC3339_LEN], p[300];
    snprintf(p, sizeof p,
             "{\"id\":5,\"evseId\":2,\"expiryDateTime\":\"%s\",\"idToken\":{\"idToken\":\"R5\","
             "\"type\":\"ISO14443\"}}",
             at_offset(10000, ts));
    server_call_status("ReserveNow", p);
    expect_connector_status(2, "Reserved");
    assert_string_equal(server_call_status("ChangeAvailability",
                                           "{\"evse\":{\"id\":2},\"operationalStatus\":"
                                           "\"Inoperative\"}"),
                        "Accepted");
    ocpp_frame_t f;
    expect_call("ReservationStatusUpdate", &f);
    assert_string_equal(json_string_value(json_object_get(f.payload, "reservationUpdateStatus")),
                        "Removed");
    answer(&f, "{}");
    ocpp_frame_free(&f);
    expect_connector_status(2, "Unavailable");
}

/* -------------------------------------------------------------- unlock */

static void unlock_stops_a_running_session_first(void **state)
{
    boot();
    remote_session_v16(1, "T9", 77);
    assert_string_equal(server_call_status("UnlockConnector", "{\"connectorId\":1}"), "Unlocked");
    ocpp_frame_t f;
    expect_call("StopTransaction", &f);
    assert_string_equal(json_string_value(json_object_get(f.payload, "reason")), "UnlockCommand");
    assert_int_equal(json_integer_value(json_object_get(f.payload, "transactionId")), 77);
    answer(&f, "{}");
    ocpp_frame_free(&f);
    expect_connector_status(1, "Finishing");
    expect_connector_status(1, "Available");
    assert_string_equal(server_call_status("UnlockConnector", "{\"connectorId\":9}"),
                        "UnlockFailed");
}

static void v201_unlock_refuses_while_a_transaction_runs(void **state)
{
    boot();
    st->conn_[0].state = SIM_CS_CHARGING;
    assert_string_equal(server_call_status("UnlockConnector", "{\"evseId\":1,\"connectorId\":1}"),
                        "OngoingAuthorizedTransaction");
    assert_string_equal(server_call_status("UnlockConnector", "{\"evseId\":2,\"connectorId\":1}"),
                        "Unlocked");
    assert_string_equal(server_call_status("UnlockConnector", "{\"evseId\":2,\"connectorId\":2}"),
                        "UnknownConnector");
}

/* ---------------------------------------------------- charging profiles */

static json_t *composite_v16(int connector, int duration, const char *unit)
{
    char p[200];
    snprintf(p, sizeof p, "{\"connectorId\":%d,\"duration\":%d,\"chargingRateUnit\":\"%s\"}",
             connector, duration, unit);
    json_t *a = server_call("GetCompositeSchedule", p);
    assert_string_equal(json_string_value(json_object_get(a, "status")), "Accepted");
    return a;
}

/* Checks the composite's periods against pairs (startPeriod, limit). */
static void expect_periods(const json_t *sched, const double *want, size_t n)
{
    const json_t *per = json_object_get(sched, "chargingSchedulePeriod");
    if (json_array_size(per) != n) {
        char *d = json_dumps(sched, 0);
        fail_msg("expected %zu periods: %s", n, d);
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *p = json_array_get(per, i);
        assert_int_equal(json_integer_value(json_object_get(p, "startPeriod")), (int)want[2 * i]);
        assert_float_equal(json_number_value(json_object_get(p, "limit")), want[2 * i + 1], 0.05);
    }
}

static void composite_schedule_stacks_the_profiles(void **state)
{
    boot();
    char ts[TIME_RFC3339_LEN], p[700];
    /* no profile: the hardware limit */
    json_t *a = composite_v16(1, 3600, "W");
    double hw[] = {0, 22000};
    expect_periods(json_object_get(a, "chargingSchedule"), hw, 1);
    json_decref(a);
    /* a default for every connector: 7 kW, then 3 kW after half an hour */
    snprintf(p, sizeof p,
             "{\"connectorId\":0,\"csChargingProfiles\":{\"chargingProfileId\":1,\"stackLevel\":0,"
             "\"chargingProfilePurpose\":\"TxDefaultProfile\",\"chargingProfileKind\":"
             "\"Absolute\",\"chargingSchedule\":{\"startSchedule\":\"%s\",\"chargingRateUnit\":"
             "\"W\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":7000},"
             "{\"startPeriod\":1800,\"limit\":3000}]}}}",
             at_offset(0, ts));
    assert_string_equal(server_call_status("SetChargingProfile", p), "Accepted");
    /* the station maximum: 5 kW for the first 20 minutes */
    snprintf(p, sizeof p,
             "{\"connectorId\":0,\"csChargingProfiles\":{\"chargingProfileId\":2,\"stackLevel\":0,"
             "\"chargingProfilePurpose\":\"ChargePointMaxProfile\",\"chargingProfileKind\":"
             "\"Absolute\",\"chargingSchedule\":{\"startSchedule\":\"%s\",\"duration\":1200,"
             "\"chargingRateUnit\":\"W\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,"
             "\"limit\":5000}]}}}",
             at_offset(0, ts));
    assert_string_equal(server_call_status("SetChargingProfile", p), "Accepted");
    a = composite_v16(1, 3600, "W");
    assert_int_equal(json_integer_value(json_object_get(a, "connectorId")), 1);
    double w[] = {0, 5000, 1200, 7000, 1800, 3000};
    expect_periods(json_object_get(a, "chargingSchedule"), w, 3);
    json_decref(a);
    /* the same in amperes: three phases at 230 V */
    a = composite_v16(2, 3600, "A");
    double amps[] = {0, 7.2, 1200, 10.1, 1800, 4.3};
    expect_periods(json_object_get(a, "chargingSchedule"), amps, 3);
    json_decref(a);
    /* a higher stack level for connector 2 only */
    snprintf(p, sizeof p,
             "{\"connectorId\":2,\"csChargingProfiles\":{\"chargingProfileId\":3,\"stackLevel\":1,"
             "\"chargingProfilePurpose\":\"TxDefaultProfile\",\"chargingProfileKind\":"
             "\"Relative\",\"chargingSchedule\":{\"chargingRateUnit\":\"A\","
             "\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":16.0}]}}}");
    assert_string_equal(server_call_status("SetChargingProfile", p), "Accepted");
    a = composite_v16(2, 3600, "W");
    double w2[] = {0, 5000, 1200, 11040};
    expect_periods(json_object_get(a, "chargingSchedule"), w2, 2);
    json_decref(a);
    a = composite_v16(1, 3600, "W"); /* connector 1 unchanged */
    expect_periods(json_object_get(a, "chargingSchedule"), w, 3);
    json_decref(a);
    /* connector 0: the station maximum alone, else all connectors' hardware */
    a = composite_v16(0, 3600, "W");
    double station[] = {0, 5000, 1200, 44000};
    expect_periods(json_object_get(a, "chargingSchedule"), station, 2);
    json_decref(a);
    assert_string_equal(
        server_call_status("GetCompositeSchedule", "{\"connectorId\":3,\"duration\":60}"),
        "Rejected");
}

static void tx_profile_limits_the_power_while_its_transaction_runs(void **state)
{
    boot();
    const char *tx_profile =
        "{\"connectorId\":1,\"csChargingProfiles\":{\"chargingProfileId\":9,\"stackLevel\":0,"
        "\"chargingProfilePurpose\":\"TxProfile\",\"chargingProfileKind\":\"Relative\","
        "\"chargingSchedule\":{\"chargingRateUnit\":\"W\",\"chargingSchedulePeriod\":["
        "{\"startPeriod\":0,\"limit\":4000}]}}}";
    assert_string_equal(server_call_status("SetChargingProfile", tx_profile),
                        "Rejected"); /* no transaction yet */
    remote_session_v16(1, "T1", 31);
    assert_string_equal(server_call_status("SetChargingProfile", tx_profile), "Accepted");
    assert_float_equal(st->conn_[0].limit_w, 4000, 0.01);
    st->conn_[0].soc = 20;
    sim_meter_advance(&st->conn_[0], s->now_ms + 60000);
    assert_true(st->conn_[0].power_w <= 4000.01);
    assert_float_equal(st->conn_[1].limit_w, -1, 0.01); /* connector 2 unlimited */
    sim_session_stop(&st->conn_[0], SIM_STOP_LOCAL);
    ocpp_frame_t f;
    expect_call("StopTransaction", &f);
    answer(&f, "{}");
    ocpp_frame_free(&f);
    drain_status();
    assert_int_equal(st->profiles->n, 0); /* a TxProfile ends with its transaction */
    assert_float_equal(st->conn_[0].limit_w, -1, 0.01);
}

static void clear_charging_profile_by_id_or_criteria(void **state)
{
    boot();
    char p[600];
    for (int id = 1; id <= 3; id++) {
        snprintf(p, sizeof p,
                 "{\"connectorId\":%d,\"csChargingProfiles\":{\"chargingProfileId\":%d,"
                 "\"stackLevel\":%d,\"chargingProfilePurpose\":\"TxDefaultProfile\","
                 "\"chargingProfileKind\":\"Relative\",\"chargingSchedule\":{\"chargingRateUnit\":"
                 "\"A\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":10.0}]}}}",
                 id == 3 ? 2 : 1, id, id);
        assert_string_equal(server_call_status("SetChargingProfile", p), "Accepted");
    }
    assert_int_equal(st->profiles->n, 3);
    assert_string_equal(server_call_status("ClearChargingProfile", "{\"id\":2}"), "Accepted");
    assert_string_equal(server_call_status("ClearChargingProfile", "{\"id\":2}"), "Unknown");
    assert_string_equal(server_call_status("ClearChargingProfile",
                                           "{\"connectorId\":2,\"chargingProfilePurpose\":"
                                           "\"TxDefaultProfile\"}"),
                        "Accepted");
    assert_int_equal(st->profiles->n, 1);
    assert_string_equal(server_call_status("ClearChargingProfile", "{}"), "Accepted");
    assert_int_equal(st->profiles->n, 0);
    /* refused profiles: a maximum on a connector, a first period not at 0 */
    assert_string_equal(
        server_call_status("SetChargingProfile",
                           "{\"connectorId\":1,\"csChargingProfiles\":{\"chargingProfileId\":5,"
                           "\"stackLevel\":0,\"chargingProfilePurpose\":\"ChargePointMaxProfile\","
                           "\"chargingProfileKind\":\"Relative\",\"chargingSchedule\":{"
                           "\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":[{"
                           "\"startPeriod\":0,\"limit\":10.0}]}}}"),
        "Rejected");
    assert_string_equal(
        server_call_status("SetChargingProfile",
                           "{\"connectorId\":0,\"csChargingProfiles\":{\"chargingProfileId\":6,"
                           "\"stackLevel\":0,\"chargingProfilePurpose\":\"TxDefaultProfile\","
                           "\"chargingProfileKind\":\"Relative\",\"chargingSchedule\":{"
                           "\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":[{"
                           "\"startPeriod\":60,\"limit\":10.0}]}}}"),
        "Rejected");
}

static void recurring_daily_profile_comes_round_again(void **state)
{
    boot();
    char ts[TIME_RFC3339_LEN], p[700];
    /* began two hours ago, every day: 6 kW for three hours, then 11 kW */
    snprintf(p, sizeof p,
             "{\"connectorId\":0,\"csChargingProfiles\":{\"chargingProfileId\":1,\"stackLevel\":0,"
             "\"chargingProfilePurpose\":\"TxDefaultProfile\",\"chargingProfileKind\":"
             "\"Recurring\",\"recurrencyKind\":\"Daily\",\"chargingSchedule\":{\"startSchedule\":"
             "\"%s\",\"chargingRateUnit\":\"W\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,"
             "\"limit\":6000},{\"startPeriod\":10800,\"limit\":11000}]}}}",
             at_offset(-2 * 3600 * 1000, ts));
    assert_string_equal(server_call_status("SetChargingProfile", p), "Accepted");
    json_t *a = composite_v16(1, 86400, "W");
    double w[] = {0, 6000, 3600, 11000, 22 * 3600, 6000};
    expect_periods(json_object_get(a, "chargingSchedule"), w, 3);
    json_decref(a);
}

static void v201_composite_and_profile_report(void **state)
{
    boot();
    char ts[TIME_RFC3339_LEN], p[800];
    snprintf(p, sizeof p,
             "{\"evseId\":0,\"chargingProfile\":{\"id\":4,\"stackLevel\":2,"
             "\"chargingProfilePurpose\":\"ChargingStationMaxProfile\",\"chargingProfileKind\":"
             "\"Absolute\",\"chargingSchedule\":[{\"id\":1,\"startSchedule\":\"%s\","
             "\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,"
             "\"limit\":20}]}]}}",
             at_offset(-1000, ts));
    assert_string_equal(server_call_status("SetChargingProfile", p), "Accepted");
    json_t *a = server_call("GetCompositeSchedule",
                            "{\"evseId\":1,\"duration\":600,\"chargingRateUnit\":\"A\"}");
    assert_string_equal(json_string_value(json_object_get(a, "status")), "Accepted");
    const json_t *sched = json_object_get(a, "schedule");
    assert_int_equal(json_integer_value(json_object_get(sched, "evseId")), 1);
    assert_int_equal(json_integer_value(json_object_get(sched, "duration")), 600);
    double want[] = {0, 20};
    expect_periods(sched, want, 1);
    json_decref(a);
    assert_string_equal(
        server_call_status("SetChargingProfile",
                           "{\"evseId\":1,\"chargingProfile\":{\"id\":5,\"stackLevel\":0,"
                           "\"chargingProfilePurpose\":\"ChargingStationExternalConstraints\","
                           "\"chargingProfileKind\":\"Relative\",\"chargingSchedule\":[{\"id\":1,"
                           "\"chargingRateUnit\":\"W\",\"chargingSchedulePeriod\":[{"
                           "\"startPeriod\":0,\"limit\":1000}]}]}}"),
        "Rejected");
    assert_string_equal(server_call_status("GetChargingProfiles",
                                           "{\"requestId\":3,\"chargingProfile\":{"
                                           "\"chargingProfilePurpose\":\"TxProfile\"}}"),
                        "NoProfiles");
    assert_string_equal(
        server_call_status("GetChargingProfiles", "{\"requestId\":4,\"chargingProfile\":{}}"),
        "Accepted");
    ocpp_frame_t f;
    expect_call("ReportChargingProfiles", &f);
    assert_int_equal(json_integer_value(json_object_get(f.payload, "requestId")), 4);
    assert_int_equal(json_integer_value(json_object_get(f.payload, "evseId")), 0);
    const json_t *prof = json_array_get(json_object_get(f.payload, "chargingProfile"), 0);
    assert_int_equal(json_integer_value(json_object_get(prof, "id")), 4);
    answer(&f, "{}");
    ocpp_frame_free(&f);
    assert_string_equal(server_call_status("ClearChargingProfile", "{\"chargingProfileId\":4}"),
                        "Accepted");
}

/* ------------------------------------------------------------ local list */

static void local_list_full_and_differential_updates(void **state)
{
    boot();
    json_t *a = server_call("GetLocalListVersion", "{}");
    assert_int_equal(json_integer_value(json_object_get(a, "listVersion")), 0);
    json_decref(a);
    assert_string_equal(
        server_call_status("SendLocalList",
                           "{\"listVersion\":3,\"updateType\":\"Full\",\"localAuthorizationList\":["
                           "{\"idTag\":\"A\",\"idTagInfo\":{\"status\":\"Accepted\"}},"
                           "{\"idTag\":\"B\",\"idTagInfo\":{\"status\":\"Blocked\"}}]}"),
        "Accepted");
    a = server_call("GetLocalListVersion", "{}");
    assert_int_equal(json_integer_value(json_object_get(a, "listVersion")), 3);
    json_decref(a);
    assert_string_equal(server_call_status("SendLocalList",
                                           "{\"listVersion\":3,\"updateType\":\"Differential\","
                                           "\"localAuthorizationList\":[{\"idTag\":\"C\","
                                           "\"idTagInfo\":{\"status\":\"Accepted\"}}]}"),
                        "VersionMismatch");
    assert_null(sim_local_list_status(st, "C"));
    assert_string_equal(
        server_call_status("SendLocalList",
                           "{\"listVersion\":4,\"updateType\":\"Differential\","
                           "\"localAuthorizationList\":[{\"idTag\":\"A\"},{\"idTag\":\"C\","
                           "\"idTagInfo\":{\"status\":\"Accepted\"}},{\"idTag\":\"B\","
                           "\"idTagInfo\":{\"status\":\"Accepted\"}}]}"),
        "Accepted");
    assert_null(sim_local_list_status(st, "A"));
    assert_string_equal(sim_local_list_status(st, "B"), "Accepted");
    assert_string_equal(sim_local_list_status(st, "C"), "Accepted");
    assert_int_equal(sim_local_list_size(st), 2);
    /* more than the station holds: refused, the list unchanged */
    strbuf_t b = {0};
    strbuf_printf(&b, "{\"listVersion\":9,\"updateType\":\"Full\",\"localAuthorizationList\":[");
    for (int i = 0; i <= SIM_LOCAL_LIST_MAX; i++)
        strbuf_printf(&b, "%s{\"idTag\":\"T%d\",\"idTagInfo\":{\"status\":\"Accepted\"}}",
                      i ? "," : "", i);
    strbuf_printf(&b, "]}");
    char call[65536];
    snprintf(call, sizeof call, "[2,\"big\",\"SendLocalList\",%s]", b.data);
    strbuf_free(&b);
    sim_station_on_message(st, call, strlen(call));
    ocpp_frame_t f;
    next_frame(&f);
    assert_string_equal(json_string_value(json_object_get(f.payload, "status")), "Failed");
    ocpp_frame_free(&f);
    assert_int_equal(sim_local_list_version(st), 4);
    assert_int_equal(sim_local_list_size(st), 2);
}

/* ------------------------------------------------------- transactions */

static void v201_transaction_status_tells_ongoing_and_queued(void **state)
{
    boot();
    json_t *a = server_call("GetTransactionStatus", "{}");
    assert_false(json_is_true(json_object_get(a, "messagesInQueue")));
    assert_null(json_object_get(a, "ongoingIndicator"));
    json_decref(a);
    assert_string_equal(
        server_call_status("RequestStartTransaction",
                           "{\"evseId\":1,\"remoteStartId\":1,\"idToken\":{\"idToken\":\"T\","
                           "\"type\":\"Central\"}}"),
        "Accepted");
    expect_connector_status(1, "Occupied");
    ocpp_frame_t f;
    expect_call("TransactionEvent", &f); /* Started, not answered yet */
    char tx[40], p[100];
    snprintf(tx, sizeof tx, "%s",
             json_string_value(
                 json_object_get(json_object_get(f.payload, "transactionInfo"), "transactionId")));
    snprintf(p, sizeof p, "{\"transactionId\":\"%s\"}", tx);
    a = server_call("GetTransactionStatus", "{}");
    assert_true(json_is_true(json_object_get(a, "messagesInQueue")));
    json_decref(a);
    answer(&f, "{}");
    ocpp_frame_free(&f);
    drain_status();
    a = server_call("GetTransactionStatus", p);
    assert_true(json_is_true(json_object_get(a, "ongoingIndicator")));
    assert_false(json_is_true(json_object_get(a, "messagesInQueue")));
    json_decref(a);
    a = server_call("GetTransactionStatus", "{\"transactionId\":\"nope\"}");
    assert_false(json_is_true(json_object_get(a, "ongoingIndicator")));
    json_decref(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(inoperative_connector_is_unavailable_until_operative,
                                        setup_v16, fake_teardown),
        cmocka_unit_test_setup_teardown(inoperative_while_charging_is_scheduled_for_the_session_end,
                                        setup_v16, fake_teardown),
        cmocka_unit_test_setup_teardown(whole_station_inoperative_reports_connector_zero, setup_v16,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(reservation_holds_the_connector_until_it_expires, setup_v16,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(reservation_is_used_by_its_id_token_only, setup_v16,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(cancel_reservation_frees_the_connector, setup_v16,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(v201_expired_reservation_is_reported, setup_v201,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(v201_inoperative_removes_a_reservation, setup_v201,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(unlock_stops_a_running_session_first, setup_v16,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(v201_unlock_refuses_while_a_transaction_runs, setup_v201,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(composite_schedule_stacks_the_profiles, setup_v16,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(tx_profile_limits_the_power_while_its_transaction_runs,
                                        setup_v16, fake_teardown),
        cmocka_unit_test_setup_teardown(clear_charging_profile_by_id_or_criteria, setup_v16,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(recurring_daily_profile_comes_round_again, setup_v16,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(v201_composite_and_profile_report, setup_v201,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(local_list_full_and_differential_updates, setup_v16,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(v201_transaction_status_tells_ongoing_and_queued,
                                        setup_v201, fake_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
