/*
 * A fake network for the simulator's state-machine tests: a transport that
 * records connects, frames and HTTP transfers, and helpers with which a test
 * plays the CSMS (answers, server calls) and the HTTP server (transfer
 * results) while it moves the clock by hand. Header-only, included by one
 * test file each (test_sim_firmware.c, test_sim_connector.c).
 */
#ifndef AMPGRID_TEST_SIM_FAKE_H
#define AMPGRID_TEST_SIM_FAKE_H

#include "ocpp/frame.h"
#include "sim/proto.h"
#include "sim/sim.h"
#include "util/timefmt.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define MAX_FRAMES 512
#define MAX_TRANSFERS 32
#define BOOT_OK                                                                                    \
    "{\"status\":\"Accepted\",\"currentTime\":\"2026-01-01T00:00:00Z\",\"interval\":600}"

typedef struct fake_transfer {
    sim_job_t job;
    uint32_t seq;
    char *url, *body, *file_name;
    size_t len;
} fake_transfer_t;

typedef struct fake {
    int connects, closes;
    char *frames[MAX_FRAMES];
    int nframes, read;
    fake_transfer_t transfers[MAX_TRANSFERS];
    int ntransfers;
    bool refuse_transfers;
} fake_t;

static fake_t fk;
static sim_t *s;
static sim_station_t *st;
static const char *protocol = "ocpp1.6";

static inline int f_connect(void *ud, sim_station_t *x, unsigned source)
{
    fk.connects++;
    x->conn = &fk;
    return 0;
}

static inline bool f_send(void *ud, sim_station_t *x, const char *data, size_t len)
{
    if (fk.nframes == MAX_FRAMES) return false;
    fk.frames[fk.nframes++] = strndup(data, len);
    return true;
}

static inline void f_close(void *ud, sim_station_t *x, int code)
{
    fk.closes++;
}

static inline int f_transfer(void *ud, sim_station_t *x, const sim_transfer_t *t)
{
    if (fk.refuse_transfers || fk.ntransfers == MAX_TRANSFERS) return -1;
    fake_transfer_t *f = &fk.transfers[fk.ntransfers++];
    f->job = t->job;
    f->seq = t->seq;
    f->url = strdup(t->url);
    f->body = t->body ? strndup(t->body, t->len) : NULL;
    f->len = t->len;
    f->file_name = t->file_name ? strdup(t->file_name) : NULL;
    return 0;
}

/* A station with two connectors speaking `proto`, configured by tune. */
static inline void fake_setup(const char *proto, void (*tune)(sim_config_t *c))
{
    memset(&fk, 0, sizeof fk);
    protocol = proto;
    sim_config_t c;
    sim_config_defaults(&c);
    c.stations = 1;
    c.connectors_min = c.connectors_max = 2;
    snprintf(c.protocols, sizeof c.protocols, "%s", proto);
    snprintf(c.password, sizeof c.password, "sixteen-chars-password");
    if (tune) tune(&c);
    sim_transport_t tr = {
        .connect = f_connect, .send = f_send, .close = f_close, .transfer = f_transfer};
    s = sim_create(&c, &tr);
    s->accepting_new_work = true;
    st = &s->stations[0];
}

static inline int fake_teardown(void **state)
{
    sim_free(s);
    for (int i = 0; i < fk.nframes; i++)
        free(fk.frames[i]);
    for (int i = 0; i < fk.ntransfers; i++) {
        free(fk.transfers[i].url);
        free(fk.transfers[i].body);
        free(fk.transfers[i].file_name);
    }
    return 0;
}

static inline const ocpp_version_defs_t *defs(void)
{
    return strcmp(protocol, "ocpp1.6") == 0 ? &ocpp_v16_defs : &ocpp_v201_defs;
}

static inline void next_frame(ocpp_frame_t *f)
{
    char msg[200];
    assert_true(fk.read < fk.nframes);
    assert_int_equal(
        ocpp_frame_parse(fk.frames[fk.read], strlen(fk.frames[fk.read]), f, msg, sizeof msg),
        OCPP_OK);
    fk.read++;
}

/* The next frame is a call of `action` whose payload the definitions accept. */
static inline void expect_call(const char *action, ocpp_frame_t *f)
{
    char msg[200];
    next_frame(f);
    if (f->type != OCPP_CALL || strcmp(f->action, action) != 0)
        fail_msg("expected %s, got %s", action, fk.frames[fk.read - 1]);
    const ocpp_message_def_t *m = ocpp_schema_find(defs(), action);
    assert_non_null(m);
    if (ocpp_schema_validate(m->request, f->payload, msg, sizeof msg) != OCPP_OK)
        fail_msg("%s invalid: %s (%s)", action, msg, fk.frames[fk.read - 1]);
}

static inline void answer(const ocpp_frame_t *f, const char *payload)
{
    char buf[512];
    snprintf(buf, sizeof buf, "[3,\"%s\",%s]", f->id, payload);
    sim_station_on_message(st, buf, strlen(buf));
}

/* Expects a call of action, checks its "status" (if given), answers {}. */
static inline void expect_status(const char *action, const char *status)
{
    ocpp_frame_t f;
    expect_call(action, &f);
    const char *got = json_string_value(json_object_get(f.payload, "status"));
    if (status && (!got || strcmp(got, status) != 0))
        fail_msg("%s: expected status %s, got %s", action, status, fk.frames[fk.read - 1]);
    answer(&f, "{}");
    ocpp_frame_free(&f);
}

static inline void no_more_frames(void)
{
    if (fk.read != fk.nframes) fail_msg("unexpected frame: %s", fk.frames[fk.read]);
}

/* Moves the clock in wheel ticks, as the driver does, up to `to` ms. */
static inline void walk(uint64_t to)
{
    while (s->now_ms < to)
        sim_advance(s, s->now_ms + SIM_TICK_MS);
}

/* Answers every StatusNotification waiting; returns how many. */
static inline int drain_status(void)
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

/* Connects, opens, boots (Accepted) and answers the status reports. */
static inline void boot(void)
{
    ocpp_frame_t f;
    sim_station_start(st, 0);
    walk(s->now_ms + 20);
    sim_station_on_open(st, protocol);
    expect_call("BootNotification", &f);
    answer(&f, BOOT_OK);
    ocpp_frame_free(&f);
    assert_int_equal(st->link, SIM_LINK_READY);
    drain_status();
}

/* Sends a server call (action, payload) and returns its validated answer. */
static inline json_t *server_call(const char *action, const char *payload)
{
    char call[8192], msg[200];
    snprintf(call, sizeof call, "[2,\"srv\",\"%s\",%s]", action, payload);
    sim_station_on_message(st, call, strlen(call));
    ocpp_frame_t f;
    next_frame(&f);
    if (f.type != OCPP_CALLRESULT) {
        for (int i = 0; i < fk.nframes; i++)
            fprintf(stderr, "frame %d: %s\n", i, fk.frames[i]);
        fail_msg("%s: %s", action, fk.frames[fk.read - 1]);
    }
    const ocpp_message_def_t *m = ocpp_schema_find(defs(), action);
    if (ocpp_schema_validate(m->response, f.payload, msg, sizeof msg) != OCPP_OK)
        fail_msg("%s answer invalid: %s (%s)", action, msg, fk.frames[fk.read - 1]);
    json_t *p = json_incref(f.payload);
    ocpp_frame_free(&f);
    return p;
}

/* The answer's "status", for calls that only answer one. */
static inline char *server_call_status(const char *action, const char *payload)
{
    static char out[64];
    json_t *a = server_call(action, payload);
    snprintf(out, sizeof out, "%s", json_string_value(json_object_get(a, "status")));
    json_decref(a);
    return out;
}

/* RFC 3339 for the simulated wall clock plus offset_ms. */
static inline const char *at_offset(int64_t offset_ms, char *buf)
{
    return time_format_rfc3339(sim_wall_ms(s) + offset_ms, buf);
}

/* Finishes the last transfer as the HTTP server would. */
static inline void transfer_result(int status, const char *error, uint64_t bytes)
{
    assert_true(fk.ntransfers > 0);
    const fake_transfer_t *t = &fk.transfers[fk.ntransfers - 1];
    sim_transfer_result_t r = {
        .job = t->job, .seq = t->seq, .status = status, .error = error, .bytes = bytes};
    for (int i = 0; i < 32; i++)
        r.sha256[i] = (unsigned char)(0xa0 + i);
    sim_station_on_transfer(st, &r);
}

/* The reboot the station asked for: the link closes, it reconnects and boots;
 * returns the BootNotification's payload (caller decrefs). */
static inline json_t *reboot_and_boot(void)
{
    sim_close_info_t ci = {.end = SIM_END_LOCAL, .was_open = true};
    sim_station_on_close(st, &ci);
    int before = fk.connects;
    walk(s->now_ms + 3100);
    assert_int_equal(fk.connects, before + 1);
    sim_station_on_open(st, protocol);
    ocpp_frame_t f;
    expect_call("BootNotification", &f);
    json_t *p = json_incref(f.payload);
    answer(&f, BOOT_OK);
    ocpp_frame_free(&f);
    return p;
}

#endif
