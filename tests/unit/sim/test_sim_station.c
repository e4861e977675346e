/*
 * The station state machine without a network: a fake transport records
 * connects and frames, the test plays the CSMS (answers, refusals, closes)
 * and moves the clock by hand.
 */
#include "ocpp/frame.h"
#include "sim/diagnostics.h"
#include "sim/firmware.h"
#include "sim/proto.h"
#include "sim/sim.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define MAX_FRAMES 256

typedef struct fake {
    int connects, closes, last_close_code;
    unsigned last_source;
    uint64_t connect_at[32];
    char *frames[MAX_FRAMES];
    int nframes, read;
} fake_t;

static fake_t fk;
static sim_t *s;
static sim_station_t *st;

static int f_connect(void *ud, sim_station_t *x, unsigned source)
{
    if (fk.connects < 32) fk.connect_at[fk.connects] = x->sim->now_ms;
    fk.connects++;
    fk.last_source = source;
    x->conn = &fk;
    return 0;
}

static bool f_send(void *ud, sim_station_t *x, const char *data, size_t len)
{
    if (fk.nframes == MAX_FRAMES) return false;
    fk.frames[fk.nframes++] = strndup(data, len);
    return true;
}

static void f_close(void *ud, sim_station_t *x, int code)
{
    fk.closes++;
    fk.last_close_code = code;
}

static int setup(void **state)
{
    memset(&fk, 0, sizeof fk);
    sim_config_t c;
    sim_config_defaults(&c);
    c.stations = 1;
    c.connectors_min = c.connectors_max = 2;
    snprintf(c.password, sizeof c.password, "sixteen-chars-password");
    sim_transport_t tr = {.connect = f_connect, .send = f_send, .close = f_close};
    s = sim_create(&c, &tr);
    s->accepting_new_work = true;
    st = &s->stations[0];
    return 0;
}

static int teardown(void **state)
{
    sim_free(s);
    for (int i = 0; i < fk.nframes; i++)
        free(fk.frames[i]);
    return 0;
}

/* The next unread frame, parsed; fails the test when there is none. */
static void next_frame(ocpp_frame_t *f)
{
    char msg[200];
    assert_true(fk.read < fk.nframes);
    assert_int_equal(
        ocpp_frame_parse(fk.frames[fk.read], strlen(fk.frames[fk.read]), f, msg, sizeof msg),
        OCPP_OK);
    fk.read++;
}

static void expect_call(const char *action, ocpp_frame_t *f)
{
    next_frame(f);
    assert_int_equal(f->type, OCPP_CALL);
    assert_string_equal(f->action, action);
}

static void answer(const ocpp_frame_t *f, const char *payload)
{
    char buf[512];
    snprintf(buf, sizeof buf, "[3,\"%s\",%s]", f->id, payload);
    sim_station_on_message(st, buf, strlen(buf));
}

/* Moves the clock in wheel ticks, as the driver does, up to `to` ms. */
static void walk(uint64_t to)
{
    while (s->now_ms < to)
        sim_advance(s, s->now_ms + SIM_TICK_MS);
}

static void no_more_frames(void)
{
    assert_int_equal(fk.read, fk.nframes);
}

/* Connects, opens and answers the boot with `boot`. */
static void boot_with(const char *boot)
{
    ocpp_frame_t f;
    sim_station_start(st, 0);
    sim_advance(s, 20);
    assert_int_equal(fk.connects, 1);
    sim_station_on_open(st, "ocpp1.6");
    expect_call("BootNotification", &f);
    answer(&f, boot);
    ocpp_frame_free(&f);
}

/* Answers every StatusNotification the station sends after a boot. */
static void drain_status(void)
{
    ocpp_frame_t f;
    while (fk.read < fk.nframes) {
        expect_call("StatusNotification", &f);
        answer(&f, "{}");
        ocpp_frame_free(&f);
    }
}

static void boots_then_reports_every_connector(void **state)
{
    boot_with("{\"status\":\"Accepted\",\"currentTime\":\"2026-01-01T00:00:00Z\",\"interval\":60}");
    assert_int_equal(st->link, SIM_LINK_READY);
    int statuses = 0;
    ocpp_frame_t f;
    while (fk.read < fk.nframes) {
        expect_call("StatusNotification", &f);
        assert_int_equal(st->npending, 1); /* one call in flight at a time */
        statuses++;
        answer(&f, "{}");
        ocpp_frame_free(&f);
    }
    assert_int_equal(statuses, 3); /* connector 0 and both connectors */
    assert_int_equal(s->stats.msg[SIM_MSG_STATUS].out[SIM_OUT_OK], 3);
}

static void heartbeats_at_the_interval_the_server_gave(void **state)
{
    boot_with("{\"status\":\"Accepted\",\"currentTime\":\"2026-01-01T00:00:00Z\",\"interval\":60}");
    drain_status();
    sim_advance(s, 59000);
    no_more_frames();
    sim_advance(s, 60100);
    ocpp_frame_t f;
    expect_call("Heartbeat", &f);
    ocpp_frame_free(&f);
}

static void pending_boot_retries_after_the_interval(void **state)
{
    boot_with("{\"status\":\"Pending\",\"currentTime\":\"2026-01-01T00:00:00Z\",\"interval\":5}");
    assert_int_equal(st->link, SIM_LINK_BOOTING);
    no_more_frames(); /* nothing but BootNotification while Pending */
    sim_advance(s, 4900);
    no_more_frames();
    sim_advance(s, 5100);
    ocpp_frame_t f;
    expect_call("BootNotification", &f);
    ocpp_frame_free(&f);
    assert_int_equal(s->stats.boot_pending, 1);
}

static void refused_upgrade_waits_for_retry_after(void **state)
{
    sim_station_start(st, 0);
    sim_advance(s, 20);
    sim_close_info_t ci = {.end = SIM_END_REFUSED, .http_status = 503, .retry_after = 7};
    sim_station_on_close(st, &ci);
    assert_int_equal(sim_tally_get(&s->stats.refused_by_status, "503"), 1);
    sim_advance(s, 6900);
    assert_int_equal(fk.connects, 1);
    sim_advance(s, 9000);
    assert_int_equal(fk.connects, 2);
    assert_true(fk.connect_at[1] >= 7000);
}

static void back_off_grows_and_is_bounded(void **state)
{
    sim_station_start(st, 0);
    sim_advance(s, 20);
    sim_close_info_t ci = {.end = SIM_END_FAILED, .detail = "refused"};
    uint64_t delay[12];
    for (int i = 1; i < 12; i++) {
        uint64_t closed_at = s->now_ms;
        sim_station_on_close(st, &ci);
        while (fk.connects == i)
            walk(s->now_ms + SIM_TICK_MS);
        delay[i] = fk.connect_at[i] - closed_at;
    }
    assert_true(delay[1] >= 500 && delay[1] <= 1000 + SIM_TICK_MS);
    assert_true(delay[3] >= 2000 && delay[3] <= 4000 + SIM_TICK_MS);
    assert_true(delay[11] >= 15000 && delay[11] <= 30000 + SIM_TICK_MS); /* capped */
    assert_int_equal(s->stats.connect_failed, 11);
}

static void lost_connection_settles_calls_in_flight(void **state)
{
    boot_with("{\"status\":\"Accepted\",\"currentTime\":\"2026-01-01T00:00:00Z\",\"interval\":60}");
    assert_int_equal(st->npending, 1); /* the first StatusNotification */
    sim_close_info_t ci = {.end = SIM_END_PEER, .was_open = true, .close_code = 1001};
    sim_station_on_close(st, &ci);
    assert_int_equal(s->stats.msg[SIM_MSG_STATUS].out[SIM_OUT_DISCONNECTED], 1);
    assert_int_equal(sim_stats_unsettled(&s->stats), 0);
    assert_int_equal(sim_tally_get(&s->stats.close_codes, "1001"), 1);
    assert_int_equal(s->ready_now, 0);
}

static void unanswered_call_times_out_once(void **state)
{
    sim_station_start(st, 0);
    sim_advance(s, 20);
    sim_station_on_open(st, "ocpp1.6");
    ocpp_frame_t f;
    expect_call("BootNotification", &f);
    walk(32500);
    assert_int_equal(s->stats.msg[SIM_MSG_BOOT].out[SIM_OUT_TIMEOUT], 1);
    answer(&f,
           "{\"status\":\"Accepted\",\"currentTime\":\"2026-01-01T00:00:00Z\",\"interval\":60}");
    ocpp_frame_free(&f);
    assert_int_equal(s->stats.late_answers, 1); /* counted once, as late */
    assert_int_equal(s->stats.msg[SIM_MSG_BOOT].out[SIM_OUT_OK], 0);
    assert_int_equal(sim_stats_unsettled(&s->stats), 1); /* the retried boot */
}

static void callerror_and_invalid_answers_are_errors(void **state)
{
    boot_with("{\"status\":\"Accepted\",\"currentTime\":\"2026-01-01T00:00:00Z\",\"interval\":60}");
    ocpp_frame_t f;
    expect_call("StatusNotification", &f);
    char buf[200];
    snprintf(buf, sizeof buf, "[4,\"%s\",\"InternalError\",\"db\",{}]", f.id);
    sim_station_on_message(st, buf, strlen(buf));
    ocpp_frame_free(&f);
    expect_call("StatusNotification", &f);
    answer(&f, "{\"unexpected\":1}");
    ocpp_frame_free(&f);
    assert_int_equal(s->stats.msg[SIM_MSG_STATUS].out[SIM_OUT_CALLERROR], 1);
    assert_int_equal(s->stats.msg[SIM_MSG_STATUS].out[SIM_OUT_INVALID], 1);
    assert_int_equal(sim_tally_get(&s->stats.callerrors, "InternalError"), 1);
}

static void session_authorize_start_meter_stop(void **state)
{
    boot_with(
        "{\"status\":\"Accepted\",\"currentTime\":\"2026-01-01T00:00:00Z\",\"interval\":600}");
    drain_status();
    ocpp_frame_t f;
    assert_true(sim_session_start(&st->conn_[0], NULL, false));
    expect_call("StatusNotification", &f);
    answer(&f, "{}");
    ocpp_frame_free(&f);
    expect_call("Authorize", &f);
    answer(&f, "{\"idTagInfo\":{\"status\":\"Accepted\"}}");
    ocpp_frame_free(&f);
    expect_call("StartTransaction", &f);
    answer(&f, "{\"idTagInfo\":{\"status\":\"Accepted\"},\"transactionId\":42}");
    ocpp_frame_free(&f);
    assert_int_equal(st->conn_[0].state, SIM_CS_CHARGING);
    drain_status();
    double e0 = st->conn_[0].energy_wh;
    st->conn_[0].session_end_ms = UINT64_MAX;
    sim_advance(s, s->now_ms + 10100);
    expect_call("MeterValues", &f);
    assert_int_equal(json_integer_value(json_object_get(f.payload, "transactionId")), 42);
    assert_int_equal(
        json_array_size(json_object_get(json_array_get(json_object_get(f.payload, "meterValue"), 0),
                                        "sampledValue")),
        9);
    answer(&f, "{}");
    ocpp_frame_free(&f);
    assert_true(st->conn_[0].energy_wh > e0); /* about 11-22 kW for 10 s */
    sim_session_stop(&st->conn_[0], SIM_STOP_LOCAL);
    expect_call("StopTransaction", &f);
    assert_int_equal(json_integer_value(json_object_get(f.payload, "meterStop")),
                     (json_int_t)(st->conn_[0].energy_wh + 0.5));
    answer(&f, "{}");
    ocpp_frame_free(&f);
    drain_status();
    assert_int_equal(st->conn_[0].state, SIM_CS_AVAILABLE);
    assert_int_equal(s->stats.sessions_stopped, 1);
}

/* The server's calls, each with the smallest valid request: the answer is a
 * CALLRESULT that the 1.6 definitions accept. */
static void every_server_call_gets_a_valid_answer(void **state)
{
    boot_with(
        "{\"status\":\"Accepted\",\"currentTime\":\"2026-01-01T00:00:00Z\",\"interval\":600}");
    drain_status();
    const ocpp_version_defs_t *d = &ocpp_v16_defs;
    int n = 0;
    for (size_t i = 0; i < d->count; i++) {
        const ocpp_message_def_t *m = &d->messages[i];
        if (m->dir == OCPP_DIR_FROM_STATION) continue;
        json_t *req = sim_proto_minimal(m->request, sim_wall_ms(s));
        char *frame = ocpp_frame_call("c1", m->action, req);
        json_decref(req);
        int before = fk.nframes;
        sim_station_on_message(st, frame, strlen(frame));
        free(frame);
        assert_true(fk.nframes > before);
        ocpp_frame_t f;
        char msg[200];
        fk.read = before; /* the answer comes first, before any work it causes */
        next_frame(&f);
        assert_int_equal(f.type, OCPP_CALLRESULT);
        assert_string_equal(f.id, "c1");
        if (ocpp_schema_validate(m->response, f.payload, msg, sizeof msg) != OCPP_OK)
            fail_msg("%s answer invalid: %s", m->action, msg);
        ocpp_frame_free(&f);
        fk.read = fk.nframes;
        n++;
    }
    assert_true(n > 20);
}

static void authorization_key_becomes_the_password(void **state)
{
    boot_with(
        "{\"status\":\"Accepted\",\"currentTime\":\"2026-01-01T00:00:00Z\",\"interval\":600}");
    drain_status();
    const char *call = "[2,\"k1\",\"ChangeConfiguration\",{\"key\":\"AuthorizationKey\","
                       "\"value\":\"0123456789abcdef0123456789abcdef01234567\"}]";
    sim_station_on_message(st, call, strlen(call));
    ocpp_frame_t f;
    next_frame(&f);
    assert_string_equal(json_string_value(json_object_get(f.payload, "status")), "Accepted");
    ocpp_frame_free(&f);
    assert_string_equal(sim_station_password(st), "0123456789abcdef0123456789abcdef01234567");
}

static void reset_answers_then_reconnects(void **state)
{
    boot_with(
        "{\"status\":\"Accepted\",\"currentTime\":\"2026-01-01T00:00:00Z\",\"interval\":600}");
    drain_status();
    const char *call = "[2,\"r1\",\"Reset\",{\"type\":\"Soft\"}]";
    sim_station_on_message(st, call, strlen(call));
    ocpp_frame_t f;
    next_frame(&f);
    assert_int_equal(f.type, OCPP_CALLRESULT);
    ocpp_frame_free(&f);
    assert_int_equal(fk.closes, 1); /* after the answer */
    sim_close_info_t ci = {.end = SIM_END_LOCAL, .was_open = true};
    sim_station_on_close(st, &ci);
    sim_advance(s, s->now_ms + 3100);
    assert_int_equal(fk.connects, 2);
}

static void every_message_kind_validates(void **state)
{
    boot_with(
        "{\"status\":\"Accepted\",\"currentTime\":\"2026-01-01T00:00:00Z\",\"interval\":600}");
    sim_connector_t *k = &st->conn_[1];
    k->state = SIM_CS_CHARGING;
    k->tx_id = 7;
    k->power_w = 11000;
    k->has_tx_reservation = true;
    k->reservation_id = 9;
    for (int kind = 0; kind < SIM_MSG_COUNT; kind++) {
        if (!sim_proto_v16.action((sim_msg_t)kind)) continue; /* 2.0.1 only */
        /* every status a kind can carry (stop reasons, connector states, firmware, logs) */
        int args = kind == SIM_MSG_FW_STATUS    ? SIM_FW_STATUS_COUNT
                   : kind == SIM_MSG_LOG_STATUS ? SIM_LOG_STATUS_COUNT
                   : kind == SIM_MSG_STATUS     ? SIM_CS_RESERVED + 1
                   : kind == SIM_MSG_TX_STOP    ? SIM_STOP_REBOOT + 1
                                                : 1;
        for (int arg = 0; arg < args; arg++) {
            sim_call_t c = {.kind = (sim_msg_t)kind,
                            .connector = kind == SIM_MSG_STATUS ? 0 : 2,
                            .arg = (int8_t)arg};
            strbuf_t b = {0};
            sim_proto_v16.payload(st, &c, &b);
            json_error_t je;
            json_t *p = json_loads(b.data, 0, &je);
            assert_non_null(p);
            const ocpp_message_def_t *m =
                ocpp_schema_find(&ocpp_v16_defs, sim_proto_v16.action(c.kind));
            char msg[200];
            if (ocpp_schema_validate(m->request, p, msg, sizeof msg) != OCPP_OK)
                fail_msg("%s invalid: %s (%s)", m->action, msg, b.data);
            json_decref(p);
            strbuf_free(&b);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(boots_then_reports_every_connector, setup, teardown),
        cmocka_unit_test_setup_teardown(heartbeats_at_the_interval_the_server_gave, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(pending_boot_retries_after_the_interval, setup, teardown),
        cmocka_unit_test_setup_teardown(refused_upgrade_waits_for_retry_after, setup, teardown),
        cmocka_unit_test_setup_teardown(back_off_grows_and_is_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(lost_connection_settles_calls_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(unanswered_call_times_out_once, setup, teardown),
        cmocka_unit_test_setup_teardown(callerror_and_invalid_answers_are_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(session_authorize_start_meter_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(every_server_call_gets_a_valid_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(authorization_key_becomes_the_password, setup, teardown),
        cmocka_unit_test_setup_teardown(reset_answers_then_reconnects, setup, teardown),
        cmocka_unit_test_setup_teardown(every_message_kind_validates, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
