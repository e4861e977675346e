/*
 * OCPP 2.0.1 in the simulator (sim/proto_v201.c): every message a station
 * sends validates against the 2.0.1 definitions, a session is TransactionEvent
 * Started/Updated/Ended with one station-chosen transaction id and seqNo from
 * 0, every server call gets a valid answer, SetVariables switches the
 * password, and the command line selects 2.0.1. Same fake transport as
 * test_sim_station.c: the test plays the CSMS.
 */
#include "ocpp/frame.h"
#include "sim/args.h"
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
#define BOOT_OK                                                                                    \
    "{\"status\":\"Accepted\",\"currentTime\":\"2026-01-01T00:00:00Z\",\"interval\":600}"

typedef struct fake {
    int connects, closes;
    char *frames[MAX_FRAMES];
    int nframes, read;
} fake_t;

static fake_t fk;
static sim_t *s;
static sim_station_t *st;

static int f_connect(void *ud, sim_station_t *x, unsigned source)
{
    (void)ud;
    (void)source;
    fk.connects++;
    x->conn = &fk;
    return 0;
}

static bool f_send(void *ud, sim_station_t *x, const char *data, size_t len)
{
    (void)ud;
    (void)x;
    if (fk.nframes == MAX_FRAMES) return false;
    fk.frames[fk.nframes++] = strndup(data, len);
    return true;
}

static void f_close(void *ud, sim_station_t *x, int code)
{
    (void)ud;
    (void)x;
    (void)code;
    fk.closes++;
}

static int setup(void **state)
{
    (void)state;
    memset(&fk, 0, sizeof fk);
    sim_config_t c;
    sim_config_defaults(&c);
    c.stations = 1;
    c.connectors_min = c.connectors_max = 2;
    snprintf(c.protocols, sizeof c.protocols, "ocpp2.0.1");
    snprintf(c.password, sizeof c.password, "sixteen-chars-password");
    sim_transport_t tr = {.connect = f_connect, .send = f_send, .close = f_close};
    s = sim_create(&c, &tr);
    s->accepting_new_work = true;
    st = &s->stations[0];
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sim_free(s);
    for (int i = 0; i < fk.nframes; i++)
        free(fk.frames[i]);
    return 0;
}

static void next_frame(ocpp_frame_t *f)
{
    char msg[200];
    assert_true(fk.read < fk.nframes);
    assert_int_equal(
        ocpp_frame_parse(fk.frames[fk.read], strlen(fk.frames[fk.read]), f, msg, sizeof msg),
        OCPP_OK);
    fk.read++;
}

/* The next frame is a call of `action` whose payload the 2.0.1 definitions accept. */
static void expect_call(const char *action, ocpp_frame_t *f)
{
    char msg[200];
    next_frame(f);
    assert_int_equal(f->type, OCPP_CALL);
    assert_string_equal(f->action, action);
    const ocpp_message_def_t *m = ocpp_schema_find(&ocpp_v201_defs, action);
    assert_non_null(m);
    if (ocpp_schema_validate(m->request, f->payload, msg, sizeof msg) != OCPP_OK)
        fail_msg("%s invalid: %s (%s)", action, msg, fk.frames[fk.read - 1]);
}

static void answer(const ocpp_frame_t *f, const char *payload)
{
    char buf[512];
    snprintf(buf, sizeof buf, "[3,\"%s\",%s]", f->id, payload);
    sim_station_on_message(st, buf, strlen(buf));
}

static void boot(void)
{
    ocpp_frame_t f;
    sim_station_start(st, 0);
    sim_advance(s, 20);
    assert_int_equal(fk.connects, 1);
    sim_station_on_open(st, "ocpp2.0.1");
    assert_ptr_equal(st->proto, &sim_proto_v201);
    expect_call("BootNotification", &f);
    const json_t *cs = json_object_get(f.payload, "chargingStation");
    assert_string_equal(json_string_value(json_object_get(cs, "vendorName")), "ampgrid");
    assert_string_equal(json_string_value(json_object_get(f.payload, "reason")), "PowerUp");
    answer(&f, BOOT_OK);
    ocpp_frame_free(&f);
    assert_int_equal(st->link, SIM_LINK_READY);
}

/* Answers every StatusNotification; returns how many. */
static int drain_status(void)
{
    ocpp_frame_t f;
    int n = 0;
    while (fk.read < fk.nframes) {
        expect_call("StatusNotification", &f);
        answer(&f, "{}");
        ocpp_frame_free(&f);
        n++;
    }
    return n;
}

static const char *event_type(const ocpp_frame_t *f)
{
    return json_string_value(json_object_get(f->payload, "eventType"));
}

static const char *tx_of(const ocpp_frame_t *f)
{
    return json_string_value(
        json_object_get(json_object_get(f->payload, "transactionInfo"), "transactionId"));
}

static int seq_of(const ocpp_frame_t *f)
{
    return (int)json_integer_value(json_object_get(f->payload, "seqNo"));
}

static void boot_reports_each_evse_not_the_station(void **state)
{
    (void)state;
    boot();
    ocpp_frame_t f;
    expect_call("StatusNotification", &f);
    assert_int_equal(json_integer_value(json_object_get(f.payload, "evseId")), 1);
    assert_int_equal(json_integer_value(json_object_get(f.payload, "connectorId")), 1);
    assert_string_equal(json_string_value(json_object_get(f.payload, "connectorStatus")),
                        "Available");
    answer(&f, "{}");
    ocpp_frame_free(&f);
    assert_int_equal(drain_status(), 1); /* EVSE 2; no station-wide status in 2.0.1 */
}

static void session_is_started_updated_ended(void **state)
{
    (void)state;
    boot();
    drain_status();
    ocpp_frame_t f;
    sim_connector_t *k = &st->conn_[0];
    assert_true(sim_session_start(k, NULL, false));
    expect_call("StatusNotification", &f);
    assert_string_equal(json_string_value(json_object_get(f.payload, "connectorStatus")),
                        "Occupied");
    answer(&f, "{}");
    ocpp_frame_free(&f);
    expect_call("Authorize", &f);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(f.payload, "idToken"), "idToken")),
        k->tag);
    answer(&f, "{\"idTokenInfo\":{\"status\":\"Accepted\"}}");
    ocpp_frame_free(&f);

    expect_call("TransactionEvent", &f);
    assert_string_equal(event_type(&f), "Started");
    assert_int_equal(seq_of(&f), 0);
    char tx[32];
    snprintf(tx, sizeof tx, "%s", tx_of(&f));
    assert_true(strlen(tx) > 0);
    json_t *evse = json_object_get(f.payload, "evse");
    assert_int_equal(json_integer_value(json_object_get(evse, "id")), 1);
    assert_int_equal(json_integer_value(json_object_get(evse, "connectorId")), 1);
    answer(&f, "{\"idTokenInfo\":{\"status\":\"Accepted\"}}");
    ocpp_frame_free(&f);
    assert_int_equal(k->state, SIM_CS_CHARGING);
    assert_true(k->tx_id > 0);
    assert_int_equal(s->stats.sessions_started, 1);
    drain_status();

    k->session_end_ms = UINT64_MAX;
    sim_advance(s, s->now_ms + 10100);
    expect_call("TransactionEvent", &f);
    assert_string_equal(event_type(&f), "Updated");
    assert_int_equal(seq_of(&f), 1);
    assert_string_equal(tx_of(&f), tx);
    json_t *sv = json_object_get(json_array_get(json_object_get(f.payload, "meterValue"), 0),
                                 "sampledValue");
    assert_int_equal(json_array_size(sv), 9);
    json_t *first = json_array_get(sv, 0);
    assert_true(json_is_number(json_object_get(first, "value")));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(first, "unitOfMeasure"), "unit")), "Wh");
    answer(&f, "{}");
    ocpp_frame_free(&f);

    sim_session_stop(k, SIM_STOP_LOCAL);
    expect_call("TransactionEvent", &f);
    assert_string_equal(event_type(&f), "Ended");
    assert_int_equal(seq_of(&f), 2);
    assert_string_equal(tx_of(&f), tx);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(f.payload, "transactionInfo"), "stoppedReason")),
                        "Local");
    answer(&f, "{}");
    ocpp_frame_free(&f);
    drain_status();
    assert_int_equal(k->state, SIM_CS_AVAILABLE);
    assert_int_equal(s->stats.sessions_stopped, 1);
    assert_int_equal(s->stats.msg[SIM_MSG_TX_START].out[SIM_OUT_OK], 1);
    assert_int_equal(s->stats.msg[SIM_MSG_METER].out[SIM_OUT_OK], 1);
    assert_int_equal(s->stats.msg[SIM_MSG_TX_STOP].out[SIM_OUT_OK], 1);
}

static void every_message_kind_validates(void **state)
{
    (void)state;
    boot();
    sim_connector_t *k = &st->conn_[1];
    k->state = SIM_CS_CHARGING;
    k->power_w = 11000;
    k->has_tx_reservation = true;
    k->reservation_id = 9;
    for (int kind = 0; kind < SIM_MSG_COUNT; kind++) {
        /* every status a kind can carry (stop reasons, connector states, firmware, logs) */
        int args = kind == SIM_MSG_FW_STATUS     ? SIM_FW_STATUS_COUNT
                   : kind == SIM_MSG_LOG_STATUS  ? SIM_LOG_STATUS_COUNT
                   : kind == SIM_MSG_STATUS      ? SIM_CS_RESERVED + 1
                   : kind == SIM_MSG_TX_STOP     ? SIM_STOP_REBOOT + 1
                   : kind == SIM_MSG_RESERVATION ? 2
                   : kind == SIM_MSG_METER       ? 2
                                                 : 1;
        for (int arg = 0; arg < args; arg++) {
            sim_call_t c = {.kind = (sim_msg_t)kind,
                            .connector = 2,
                            .arg = (int8_t)arg,
                            .has_ref = arg % 2 == 0,
                            .ref = 5};
            if (kind == SIM_MSG_PROFILES)
                c.body = "{\"requestId\":1,\"chargingLimitSource\":\"CSO\",\"evseId\":0,"
                         "\"chargingProfile\":[{\"id\":1,\"stackLevel\":0,"
                         "\"chargingProfilePurpose\":\"TxDefaultProfile\","
                         "\"chargingProfileKind\":\"Absolute\",\"chargingSchedule\":[{\"id\":1,"
                         "\"chargingRateUnit\":\"W\",\"chargingSchedulePeriod\":[{"
                         "\"startPeriod\":0,\"limit\":7000}]}]}]}";
            strbuf_t b = {0};
            sim_proto_v201.payload(st, &c, &b);
            json_error_t je;
            json_t *p = json_loads(b.data, 0, &je);
            if (!p) fail_msg("not JSON: %s (%s)", je.text, b.data);
            const ocpp_message_def_t *m =
                ocpp_schema_find(&ocpp_v201_defs, sim_proto_v201.action(c.kind));
            char msg[200];
            if (ocpp_schema_validate(m->request, p, msg, sizeof msg) != OCPP_OK)
                fail_msg("%s invalid: %s (%s)", m->action, msg, b.data);
            json_decref(p);
            strbuf_free(&b);
        }
    }
}

static void every_server_call_gets_a_valid_answer(void **state)
{
    (void)state;
    boot();
    drain_status();
    const ocpp_version_defs_t *d = &ocpp_v201_defs;
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
        fk.read = before; /* the answer comes first */
        next_frame(&f);
        if (f.type != OCPP_CALLRESULT) fail_msg("%s: not a CALLRESULT", m->action);
        assert_string_equal(f.id, "c1");
        if (ocpp_schema_validate(m->response, f.payload, msg, sizeof msg) != OCPP_OK)
            fail_msg("%s answer invalid: %s", m->action, msg);
        ocpp_frame_free(&f);
        fk.read = fk.nframes;
        n++;
    }
    assert_true(n > 30);
}

/* Sends a server call and returns its parsed answer (caller frees). */
static void server_call(const char *call, ocpp_frame_t *f)
{
    const ocpp_message_def_t *m;
    char msg[200];
    sim_station_on_message(st, call, strlen(call));
    next_frame(f);
    assert_int_equal(f->type, OCPP_CALLRESULT);
    json_error_t je;
    json_t *c = json_loads(call, 0, &je);
    m = ocpp_schema_find(&ocpp_v201_defs, json_string_value(json_array_get(c, 2)));
    json_decref(c);
    if (ocpp_schema_validate(m->response, f->payload, msg, sizeof msg) != OCPP_OK)
        fail_msg("answer invalid: %s", msg);
}

static void set_variables_switches_the_password(void **state)
{
    (void)state;
    boot();
    drain_status();
    ocpp_frame_t f;
    server_call("[2,\"v1\",\"SetVariables\",{\"setVariableData\":[{\"attributeValue\":"
                "\"0123456789abcdef0123456789abcdef01234567\",\"component\":{\"name\":"
                "\"SecurityCtrlr\"},\"variable\":{\"name\":\"BasicAuthPassword\"}},"
                "{\"attributeValue\":\"x\",\"component\":{\"name\":\"Nope\"},"
                "\"variable\":{\"name\":\"X\"}}]}]",
                &f);
    json_t *r = json_object_get(f.payload, "setVariableResult");
    assert_int_equal(json_array_size(r), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "attributeStatus")),
                        "Accepted");
    assert_string_equal(json_string_value(json_object_get(json_array_get(r, 1), "attributeStatus")),
                        "UnknownComponent");
    ocpp_frame_free(&f);
    assert_string_equal(sim_station_password(st), "0123456789abcdef0123456789abcdef01234567");

    /* too short: refused, the password stays */
    server_call("[2,\"v2\",\"SetVariables\",{\"setVariableData\":[{\"attributeValue\":\"short\","
                "\"component\":{\"name\":\"SecurityCtrlr\"},\"variable\":{\"name\":"
                "\"BasicAuthPassword\"}}]}]",
                &f);
    r = json_array_get(json_object_get(f.payload, "setVariableResult"), 0);
    assert_string_equal(json_string_value(json_object_get(r, "attributeStatus")), "Rejected");
    ocpp_frame_free(&f);
    assert_string_equal(sim_station_password(st), "0123456789abcdef0123456789abcdef01234567");

    server_call("[2,\"v3\",\"GetVariables\",{\"getVariableData\":[{\"component\":{\"name\":"
                "\"OCPPCommCtrlr\"},\"variable\":{\"name\":\"HeartbeatInterval\"}}]}]",
                &f);
    r = json_array_get(json_object_get(f.payload, "getVariableResult"), 0);
    assert_string_equal(json_string_value(json_object_get(r, "attributeStatus")), "Accepted");
    assert_string_equal(json_string_value(json_object_get(r, "attributeValue")), "600");
    ocpp_frame_free(&f);
}

static void request_start_and_stop(void **state)
{
    (void)state;
    boot();
    drain_status();
    ocpp_frame_t f;
    server_call("[2,\"s1\",\"RequestStartTransaction\",{\"evseId\":2,\"remoteStartId\":77,"
                "\"idToken\":{\"idToken\":\"REMOTE1\",\"type\":\"Central\"}}]",
                &f);
    assert_string_equal(json_string_value(json_object_get(f.payload, "status")), "Accepted");
    ocpp_frame_free(&f);
    expect_call("StatusNotification", &f);
    answer(&f, "{}");
    ocpp_frame_free(&f);
    expect_call("TransactionEvent", &f); /* remote: no Authorize */
    assert_string_equal(event_type(&f), "Started");
    assert_string_equal(json_string_value(json_object_get(f.payload, "triggerReason")),
                        "RemoteStart");
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(f.payload, "transactionInfo"), "remoteStartId")),
                     77);
    char tx[32];
    snprintf(tx, sizeof tx, "%s", tx_of(&f));
    answer(&f, "{}");
    ocpp_frame_free(&f);
    assert_int_equal(st->conn_[1].state, SIM_CS_CHARGING);
    drain_status();

    server_call("[2,\"s2\",\"RequestStopTransaction\",{\"transactionId\":\"nope\"}]", &f);
    assert_string_equal(json_string_value(json_object_get(f.payload, "status")), "Rejected");
    ocpp_frame_free(&f);
    char call[200];
    snprintf(call, sizeof call, "[2,\"s3\",\"RequestStopTransaction\",{\"transactionId\":\"%s\"}]",
             tx);
    server_call(call, &f);
    assert_string_equal(json_string_value(json_object_get(f.payload, "status")), "Accepted");
    ocpp_frame_free(&f);
    expect_call("TransactionEvent", &f);
    assert_string_equal(event_type(&f), "Ended");
    assert_string_equal(tx_of(&f), tx);
    assert_string_equal(json_string_value(json_object_get(f.payload, "triggerReason")),
                        "RemoteStop");
    ocpp_frame_free(&f);
}

static void transaction_ids_differ(void **state)
{
    (void)state;
    boot();
    sim_connector_t *a = &st->conn_[0], *b = &st->conn_[1];
    strbuf_t buf = {0};
    sim_call_t c1 = {.kind = SIM_MSG_TX_START, .connector = 1};
    sim_call_t c2 = {.kind = SIM_MSG_TX_START, .connector = 2};
    sim_proto_v201.payload(st, &c1, &buf);
    sim_proto_v201.payload(st, &c2, &buf);
    assert_true(a->tx_id > 0 && b->tx_id > 0 && a->tx_id != b->tx_id);
    strbuf_free(&buf);
}

static void command_line_selects_2_0_1(void **state)
{
    (void)state;
    sim_config_t c;
    char err[300];
    char *a1[] = {"sim", "--protocol", "ocpp2.0.1", NULL};
    assert_int_equal(sim_args_parse(3, a1, &c, err, sizeof err), SIM_ARGS_OK);
    assert_string_equal(c.protocols, "ocpp2.0.1");
    char *a2[] = {"sim", "--ocpp", "2.0.1", NULL};
    assert_int_equal(sim_args_parse(3, a2, &c, err, sizeof err), SIM_ARGS_OK);
    assert_string_equal(c.protocols, "ocpp2.0.1");
    char *a3[] = {"sim", "--protocol", "ocpp2.0.1,ocpp1.6", NULL};
    assert_int_equal(sim_args_parse(3, a3, &c, err, sizeof err), SIM_ARGS_OK);
    char *a4[] = {"sim", "--protocol", "ocpp2.1", NULL};
    assert_int_equal(sim_args_parse(3, a4, &c, err, sizeof err), SIM_ARGS_ERROR);
    char *a5[] = {"sim", "--ocpp", "2.0", NULL};
    assert_int_equal(sim_args_parse(3, a5, &c, err, sizeof err), SIM_ARGS_ERROR);
    assert_non_null(sim_proto_find("ocpp2.0.1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(boot_reports_each_evse_not_the_station, setup, teardown),
        cmocka_unit_test_setup_teardown(session_is_started_updated_ended, setup, teardown),
        cmocka_unit_test_setup_teardown(every_message_kind_validates, setup, teardown),
        cmocka_unit_test_setup_teardown(every_server_call_gets_a_valid_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(set_variables_switches_the_password, setup, teardown),
        cmocka_unit_test_setup_teardown(request_start_and_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(transaction_ids_differ, setup, teardown),
        cmocka_unit_test(command_line_selects_2_0_1),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
