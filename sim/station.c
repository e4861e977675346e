/*
 * One simulated charging station's link and RPC state machine.
 *
 *   IDLE -> WAIT -(timer)-> CONNECTING -(open)-> BOOTING -(Accepted)-> READY
 *                 ^              |                  | Pending/Rejected: retry
 *                 +--------------+------------------+  after the interval
 *                   closed/refused/failed: randomized exponential back-off
 *                   (Retry-After honoured), reconnect, boot again
 *
 * Calls: station-initiated calls wait in a FIFO and are sent while the link
 * is READY, at most `inflight` at a time (OCPP-J allows one; the throughput
 * scenario may allow more). BootNotification bypasses the queue. Each sent
 * call carries a deadline on the timing wheel and ends in exactly one outcome
 * (stats.h). The server's calls are validated and answered at once; work they
 * cause (a triggered message, a reset) is queued behind the answer.
 *
 * HTTP transfers (firmware downloads, log uploads) go through the transport
 * too; their results come back here and go to the job that asked.
 */
#include "sim/diagnostics.h"
#include "sim/firmware.h"
#include "sim/proto.h"
#include "sim/scenario.h"

#include "ocpp/frame.h"
#include "util/alloc.h"
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum link_timer { LT_NONE, LT_CONNECT, LT_BOOT_RETRY, LT_HEARTBEAT, LT_RESET };

#define ST_OF(e, field) ((sim_station_t *)((char *)(e)-offsetof(sim_station_t, field)))

static void pump(sim_station_t *st);
static void send_boot(sim_station_t *st);

static uint64_t clock_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

const char *sim_station_password(const sim_station_t *st)
{
    return st->password ? st->password : st->sim->cfg.password;
}

/* ---------------------------------------------------------------- timers */

static void link_timer_cb(timewheel_entry_t *e);

static void set_link_timer(sim_station_t *st, enum link_timer kind, uint64_t delay_ms)
{
    st->link_timer = (uint8_t)kind;
    sim_schedule(st->sim, &st->te_link, st->sim->now_ms + delay_ms, link_timer_cb);
}

static uint64_t backoff_ms(sim_station_t *st, int retry_after_s)
{
    const sim_config_t *c = &st->sim->cfg;
    unsigned shift = st->attempt < 16 ? st->attempt : 16;
    uint64_t base = (uint64_t)c->backoff_min_ms << shift;
    if (base > (uint64_t)c->backoff_max_ms) base = (uint64_t)c->backoff_max_ms;
    uint64_t d = base / 2 + (uint64_t)(sim_rand01(st->sim) * (double)(base / 2));
    if (retry_after_s > 0) {
        uint64_t ra = (uint64_t)retry_after_s * 1000 + (uint64_t)(sim_rand01(st->sim) * 1000);
        if (ra > d) d = ra;
    }
    if (st->attempt < UINT16_MAX) st->attempt++;
    return d;
}

/*
 * Why a cap on attempts in progress: LWS 4.1 keeps every pending
 * connection's handshake timeout in one sorted list, and inserting walks it
 * (several inserts per connection); it also unlinks each connection's header
 * table by walking the list of them. So 19,000 simultaneous reconnects cost
 * O(n^2) in the simulator (measured: minutes of CPU in lws_dll2_add_sorted).
 * 512 in flight (the server's own limit on handshakes at once) keeps any
 * server busy: at 2,000 the two walks were a fifth of the simulator's CPU in
 * a wss storm, at 512 a tenth (docs/performance.md, session 9).
 */
static void do_connect(sim_station_t *st);

static void slot_freed(sim_t *s)
{
    while (s->wait_len && (!s->cfg.max_connecting || s->connecting_now < s->cfg.max_connecting)) {
        sim_station_t *next = &s->stations[s->connect_wait[s->wait_head]];
        s->wait_head = (s->wait_head + 1) % s->nstations;
        s->wait_len--;
        next->waiting_slot = false;
        if (next->link == SIM_LINK_WAIT && !next->stopped) do_connect(next);
    }
}

static void attempt_over(sim_station_t *st)
{
    if (!st->connecting) return;
    st->connecting = false;
    st->sim->connecting_now--;
    slot_freed(st->sim);
}

static void do_connect(sim_station_t *st)
{
    sim_t *s = st->sim;
    if (st->stopped) return;
    if (s->cfg.max_connecting && s->connecting_now >= s->cfg.max_connecting) {
        if (!st->waiting_slot) {
            st->waiting_slot = true;
            s->connect_wait[(s->wait_head + s->wait_len) % s->nstations] =
                st->index - s->cfg.first_index;
            s->wait_len++;
        }
        st->link = SIM_LINK_WAIT;
        return;
    }
    st->connecting = true;
    s->connecting_now++;
    st->link = SIM_LINK_CONNECTING;
    s->stats.connect_attempts++;
    unsigned src = s->cfg.nsources ? (st->index + st->attempt) % s->cfg.nsources : 0;
    if (s->tr.connect(s->tr.ud, st, src) != 0) {
        st->conn = NULL;
        st->connecting = false;
        s->connecting_now--;
        s->stats.connect_failed++;
        sim_tally_add(&s->stats.connect_errors, "cannot start a connection", 1);
        st->link = SIM_LINK_WAIT;
        set_link_timer(st, LT_CONNECT, backoff_ms(st, 0));
    }
}

static void close_link(sim_station_t *st, int code)
{
    st->link = SIM_LINK_CLOSING;
    timewheel_remove(&st->sim->wheel, &st->te_link);
    st->sim->tr.close(st->sim->tr.ud, st, code);
}

static void link_timer_cb(timewheel_entry_t *e)
{
    sim_station_t *st = ST_OF(e, te_link);
    switch (st->link_timer) {
    case LT_CONNECT:
        do_connect(st);
        break;
    case LT_BOOT_RETRY:
        if (st->link == SIM_LINK_BOOTING) send_boot(st);
        break;
    case LT_HEARTBEAT:
        if (st->link != SIM_LINK_READY) break;
        if (st->sim->accepting_new_work) sim_station_call(st, SIM_MSG_HEARTBEAT, 0, 0);
        set_link_timer(st, LT_HEARTBEAT, (uint64_t)st->heartbeat_s * 1000);
        break;
    case LT_RESET: /* the stops did not finish in time: reboot anyway */
        if (st->conn) close_link(st, 1000);
        break;
    default:
        break;
    }
}

void sim_station_set_heartbeat(sim_station_t *st, int seconds)
{
    st->heartbeat_s = seconds > 0 ? seconds : 300;
    if (st->link == SIM_LINK_READY)
        set_link_timer(st, LT_HEARTBEAT, (uint64_t)st->heartbeat_s * 1000);
}

/* ------------------------------------------------------------ lifecycle */

void sim_station_start(sim_station_t *st, uint64_t delay_ms)
{
    st->stopped = false;
    st->link = SIM_LINK_WAIT;
    set_link_timer(st, LT_CONNECT, delay_ms);
}

void sim_station_stop(sim_station_t *st)
{
    st->stopped = true;
    timewheel_remove(&st->sim->wheel, &st->te_link);
    for (unsigned i = 0; i < st->nconn; i++)
        timewheel_remove(&st->sim->wheel, &st->conn_[i].te);
    if (st->conn && st->link != SIM_LINK_CLOSING)
        close_link(st, 1000);
    else if (!st->conn)
        st->link = SIM_LINK_IDLE;
}

void sim_station_drop(sim_station_t *st, uint64_t delay_ms)
{
    st->in_storm = true;
    if (st->conn && st->link != SIM_LINK_CLOSING) {
        st->retry_after_s = 0;
        st->attempt = 0;
        st->drop_delay_ms = (uint32_t)delay_ms; /* on_close reconnects after it */
        close_link(st, 0);
    } else if (!st->conn && !st->stopped) {
        st->link = SIM_LINK_WAIT;
        set_link_timer(st, LT_CONNECT, delay_ms);
    }
}

void sim_station_reboot(sim_station_t *st, int stop_reason)
{
    st->reset_pending = true;
    for (unsigned i = 0; i < st->nconn; i++)
        if (st->conn_[i].state == SIM_CS_CHARGING) sim_session_stop(&st->conn_[i], stop_reason);
    set_link_timer(st, LT_RESET, 5000);
    pump(st);
}

void sim_station_reset(sim_station_t *st, bool hard)
{
    sim_station_reboot(st, hard ? SIM_STOP_HARD_RESET : SIM_STOP_SOFT_RESET);
}

/* ---------------------------------------------------------------- calls */

static void call_free(sim_t *s, sim_call_t *c)
{
    timewheel_remove(&s->wheel, &c->te);
    free(c->body);
    free(c);
}

static void unlink_pending(sim_station_t *st, sim_call_t *c)
{
    for (sim_call_t **p = &st->pending; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            st->npending--;
            return;
        }
    }
}

static sim_connector_t *call_connector(sim_station_t *st, const sim_call_t *c)
{
    return c->connector > 0 ? &st->conn_[c->connector - 1] : NULL;
}

/* A call ended without a usable answer. */
static void call_failed(sim_station_t *st, sim_call_t *c, sim_outcome_t o)
{
    sim_connector_t *k = call_connector(st, c);
    if (c->kind == SIM_MSG_BOOT) {
        if (st->link == SIM_LINK_BOOTING) set_link_timer(st, LT_BOOT_RETRY, backoff_ms(st, 0));
    } else if (k) {
        sim_session_on_failed(k, c->kind, o);
    }
}

static void settle(sim_station_t *st, sim_call_t *c, sim_outcome_t o, uint64_t latency_us)
{
    sim_stats_outcome(&st->sim->stats, c->kind, o, latency_us);
}

static void timeout_cb(timewheel_entry_t *e)
{
    sim_call_t *c = (sim_call_t *)((char *)e - offsetof(sim_call_t, te));
    sim_station_t *st = c->st;
    unlink_pending(st, c);
    settle(st, c, SIM_OUT_TIMEOUT, 0);
    call_failed(st, c, SIM_OUT_TIMEOUT);
    call_free(st->sim, c);
    pump(st);
}

static bool send_call(sim_station_t *st, sim_call_t *c)
{
    sim_t *s = st->sim;
    strbuf_t *b = &s->buf;
    if (!st->proto->action(c->kind)) { /* a kind this version has no message for */
        call_free(s, c);
        return false;
    }
    c->id = ++st->next_msg_id;
    b->len = 0;
    strbuf_printf(b, "[2,\"%u\",\"%s\",", c->id, st->proto->action(c->kind));
    st->proto->payload(st, c, b);
    strbuf_append(b, "]", 1);
    if (!st->conn || !s->tr.send(s->tr.ud, st, b->data, b->len)) {
        s->stats.not_sent++;
        call_failed(st, c, SIM_OUT_DISCONNECTED);
        call_free(s, c);
        return false;
    }
    c->sent = true;
    c->t0_us = clock_us();
    sim_stats_sent(&s->stats, c->kind);
    c->next = st->pending;
    st->pending = c;
    st->npending++;
    sim_schedule(s, &c->te, s->now_ms + (uint64_t)s->cfg.call_timeout_s * 1000, timeout_cb);
    return true;
}

static sim_call_t *call_new(sim_station_t *st, sim_msg_t kind, int connector, int arg)
{
    sim_call_t *c = xcalloc(1, sizeof *c);
    c->st = st;
    c->kind = kind;
    c->connector = (int8_t)connector;
    c->arg = (int8_t)arg;
    return c;
}

static void send_boot(sim_station_t *st)
{
    send_call(st, call_new(st, SIM_MSG_BOOT, 0, 0));
}

void sim_station_call(sim_station_t *st, sim_msg_t kind, int connector, int arg)
{
    sim_station_call_ref(st, kind, connector, arg, false, 0, NULL);
}

void sim_station_call_ref(sim_station_t *st, sim_msg_t kind, int connector, int arg, bool ref_set,
                          int32_t ref, char *body)
{
    sim_call_t *c = call_new(st, kind, connector, arg);
    c->has_ref = ref_set;
    c->ref = ref;
    c->body = body;
    if (st->queue_tail)
        st->queue_tail->next = c;
    else
        st->queue_head = c;
    st->queue_tail = c;
    pump(st);
}

static void pump(sim_station_t *st)
{
    unsigned limit = st->sim->cfg.inflight ? st->sim->cfg.inflight : 1;
    while (st->queue_head && st->link == SIM_LINK_READY && !st->holding && st->npending < limit) {
        sim_call_t *c = st->queue_head;
        st->queue_head = c->next;
        if (!st->queue_head) st->queue_tail = NULL;
        c->next = NULL;
        send_call(st, c);
    }
    if (st->reset_pending && st->link == SIM_LINK_READY && !st->holding && !st->queue_head &&
        st->npending == 0) {
        st->reset_pending = false;
        close_link(st, 1000);
    }
}

static bool is_tx_kind(sim_msg_t k)
{
    return k == SIM_MSG_TX_START || k == SIM_MSG_METER || k == SIM_MSG_TX_STOP;
}

bool sim_station_tx_queued(const sim_station_t *st, int connector)
{
    for (int list = 0; list < 2; list++)
        for (const sim_call_t *c = list ? st->pending : st->queue_head; c; c = c->next)
            if (is_tx_kind(c->kind) && (!connector || c->connector == connector)) return true;
    return false;
}

void sim_station_abandon_calls(sim_station_t *st)
{
    while (st->pending) {
        sim_call_t *c = st->pending;
        st->pending = c->next;
        settle(st, c, SIM_OUT_ABANDONED, 0);
        call_free(st->sim, c);
    }
    st->npending = 0;
    while (st->queue_head) {
        sim_call_t *c = st->queue_head;
        st->queue_head = c->next;
        call_free(st->sim, c);
    }
    st->queue_tail = NULL;
}

/* --------------------------------------------------------------- answers */

static void on_boot_answer(sim_station_t *st, const sim_answer_t *a)
{
    sim_t *s = st->sim;
    int interval = a->interval > 0 ? a->interval : 0;
    if (a->status && strcmp(a->status, "Accepted") == 0) {
        s->stats.boot_accepted++;
        st->link = SIM_LINK_READY;
        st->attempt = 0;
        st->ready_at_ms = s->now_ms;
        if (!st->counted_ready) s->ready_now++;
        st->counted_ready = true;
        if (s->ready_now > s->ready_max) s->ready_max = s->ready_now;
        st->heartbeat_s = interval ? interval : 300;
        set_link_timer(st, LT_HEARTBEAT, (uint64_t)st->heartbeat_s * 1000);
        st->ever_booted = true;
        sim_session_link_ready(st);
        sim_firmware_on_ready(st); /* after a firmware reboot: Installed */
        sim_scenario_on_ready(s, st);
        return;
    }
    if (a->status && strcmp(a->status, "Pending") == 0)
        s->stats.boot_pending++;
    else
        s->stats.boot_rejected++;
    /* Pending/Rejected: boot again after the interval the CSMS gave. */
    set_link_timer(st, LT_BOOT_RETRY, (uint64_t)(interval ? interval : 10) * 1000);
}

static void on_result(sim_station_t *st, sim_call_t *c, const json_t *payload)
{
    sim_answer_t a;
    st->proto->read_answer(c->kind, payload, &a);
    sim_connector_t *k = call_connector(st, c);
    bool accepted = a.status && strcmp(a.status, "Accepted") == 0;
    switch (c->kind) {
    case SIM_MSG_BOOT:
        on_boot_answer(st, &a);
        break;
    case SIM_MSG_AUTHORIZE:
        sim_session_on_authorized(k, accepted);
        break;
    case SIM_MSG_TX_START:
        sim_session_on_started(k, a.has_tx_id ? a.tx_id : 0, accepted);
        break;
    case SIM_MSG_TX_STOP:
        sim_session_on_stopped(k);
        break;
    default:
        break;
    }
}

static void handle_answer(sim_station_t *st, const ocpp_frame_t *f)
{
    sim_t *s = st->sim;
    char *end;
    unsigned long id = strtoul(f->id, &end, 10);
    sim_call_t *c = st->pending;
    while (c && (c->id != id || *end))
        c = c->next;
    if (!c) {
        if (!*end && id > 0 && id <= st->next_msg_id)
            s->stats.late_answers++;
        else
            s->stats.unmatched_answers++;
        return;
    }
    unlink_pending(st, c);
    timewheel_remove(&s->wheel, &c->te);
    uint64_t lat = clock_us() - c->t0_us;
    if (f->type == OCPP_CALLERROR) {
        settle(st, c, SIM_OUT_CALLERROR, lat);
        sim_tally_add(&s->stats.callerrors, f->error_code, 1);
        call_failed(st, c, SIM_OUT_CALLERROR);
    } else {
        char msg[200];
        const ocpp_message_def_t *def =
            ocpp_schema_find(st->proto->defs, st->proto->action(c->kind));
        if (s->cfg.validate && def &&
            ocpp_schema_validate(def->response, f->payload, msg, sizeof msg) != OCPP_OK) {
            settle(st, c, SIM_OUT_INVALID, lat);
            sim_tally_add(&s->stats.invalid_answers, st->proto->action(c->kind), 1);
            call_failed(st, c, SIM_OUT_INVALID);
        } else {
            settle(st, c, SIM_OUT_OK, lat);
            on_result(st, c, f->payload);
        }
    }
    sim_msg_t kind = c->kind;
    call_free(s, c);
    if (kind == SIM_MSG_METER) sim_session_pump_throughput(st);
    pump(st);
}

/* ---------------------------------------------------------- server calls */

static void answer_error(sim_station_t *st, const char *id, ocpp_err_t e, const char *msg)
{
    char *frame = ocpp_frame_error(id, st->proto->err_name(e), msg, NULL);
    st->sim->tr.send(st->sim->tr.ud, st, frame, strlen(frame));
    st->sim->stats.server_calls_refused++;
    free(frame);
}

static void handle_server_call(sim_station_t *st, const ocpp_frame_t *f)
{
    sim_t *s = st->sim;
    char msg[240];
    sim_tally_add(&s->stats.server_calls, f->action, 1);
    const ocpp_message_def_t *def = ocpp_schema_find(st->proto->defs, f->action);
    if (!def) {
        answer_error(st, f->id, OCPP_ERR_NOT_IMPLEMENTED, "unknown action");
        return;
    }
    if (def->dir == OCPP_DIR_FROM_STATION) {
        answer_error(st, f->id, OCPP_ERR_NOT_SUPPORTED, "a CSMS does not send this");
        return;
    }
    ocpp_err_t e = ocpp_schema_validate(def->request, f->payload, msg, sizeof msg);
    if (e != OCPP_OK) {
        answer_error(st, f->id, e, msg);
        return;
    }
    st->holding = true; /* work the call causes goes out after the answer */
    json_t *ans = st->proto->answer(st, f->action, f->payload);
    st->holding = false;
    if (ocpp_schema_validate(def->response, ans, msg, sizeof msg) != OCPP_OK) {
        char q[300];
        log_error("simulator built an invalid answer", "action=%s error=%s", f->action,
                  log_quote(msg, q, sizeof q));
    }
    char *frame = ocpp_frame_result(f->id, ans);
    json_decref(ans);
    if (s->tr.send(s->tr.ud, st, frame, strlen(frame))) s->stats.server_calls_answered++;
    free(frame);
    pump(st);
}

void sim_station_on_message(sim_station_t *st, const char *data, size_t len)
{
    sim_t *s = st->sim;
    if (!st->proto) return;
    ocpp_frame_t f;
    char msg[240];
    ocpp_err_t e = ocpp_frame_parse(data, len, &f, msg, sizeof msg);
    if (e != OCPP_OK) {
        s->stats.malformed_in++;
        if (f.id[0]) answer_error(st, f.id, e, msg);
        ocpp_frame_free(&f);
        return;
    }
    if (f.type == OCPP_CALL)
        handle_server_call(st, &f);
    else
        handle_answer(st, &f);
    ocpp_frame_free(&f);
}

/* ------------------------------------------------------------ transfers */

int sim_station_transfer(sim_station_t *st, const sim_transfer_t *t)
{
    sim_t *s = st->sim;
    if (!s->tr.transfer || st->stopped) return -1;
    return s->tr.transfer(s->tr.ud, st, t);
}

void sim_station_on_transfer(sim_station_t *st, const sim_transfer_result_t *r)
{
    if (r->cancelled) return; /* the run is over */
    if (r->job == SIM_JOB_FIRMWARE)
        sim_firmware_on_transfer(st, r);
    else
        sim_diagnostics_on_transfer(st, r);
}

/* ------------------------------------------------------------- the link */

void sim_station_on_open(sim_station_t *st, const char *subprotocol)
{
    sim_t *s = st->sim;
    attempt_over(st);
    s->open_now++;
    s->stats.connected++;
    if (!s->sc.first_open_ms) s->sc.first_open_ms = s->now_ms ? s->now_ms : 1;
    st->proto = sim_proto_find(subprotocol);
    if (!st->proto) {
        /* The server chose nothing we offered: a station would give up here. */
        sim_tally_add(&s->stats.connect_errors, "no acceptable subprotocol", 1);
        close_link(st, 1002);
        return;
    }
    st->link = SIM_LINK_BOOTING;
    if (st->stopped) {
        close_link(st, 1000);
        return;
    }
    send_boot(st);
}

static void count_close(sim_t *s, const sim_station_t *st, const sim_close_info_t *info)
{
    char key[24];
    switch (info->end) {
    case SIM_END_FAILED:
        s->stats.connect_failed++;
        sim_tally_add(&s->stats.connect_errors,
                      info->detail && *info->detail ? info->detail : "connect failed", 1);
        break;
    case SIM_END_REFUSED:
        s->stats.refused++;
        snprintf(key, sizeof key, "%d", info->http_status);
        sim_tally_add(&s->stats.refused_by_status, key, 1);
        break;
    case SIM_END_PEER:
        s->stats.disconnects++;
        if (info->close_code)
            snprintf(key, sizeof key, "%d", info->close_code);
        else
            snprintf(key, sizeof key, "none");
        sim_tally_add(&s->stats.close_codes, key, 1);
        break;
    case SIM_END_LOCAL:
        if (st->in_storm) s->stats.drops++;
        break;
    }
}

/* Calls in flight are lost with the link; queued heartbeats and meter
 * values are stale by the time the link is back, the rest waits. */
static void lose_calls(sim_station_t *st)
{
    while (st->pending) {
        sim_call_t *c = st->pending;
        st->pending = c->next;
        st->npending--;
        settle(st, c, SIM_OUT_DISCONNECTED, 0);
        call_failed(st, c, SIM_OUT_DISCONNECTED);
        call_free(st->sim, c);
    }
    sim_call_t **p = &st->queue_head;
    st->queue_tail = NULL;
    while (*p) {
        sim_call_t *c = *p;
        if (c->kind == SIM_MSG_HEARTBEAT || c->kind == SIM_MSG_METER || c->kind == SIM_MSG_BOOT) {
            *p = c->next;
            call_free(st->sim, c);
        } else {
            st->queue_tail = c;
            p = &c->next;
        }
    }
}

void sim_station_on_close(sim_station_t *st, const sim_close_info_t *info)
{
    sim_t *s = st->sim;
    bool was_ready = st->counted_ready;
    bool was_local = info->end == SIM_END_LOCAL;
    attempt_over(st);
    if (info->was_open) s->open_now--;
    if (was_ready) s->ready_now--;
    st->counted_ready = false;
    st->conn = NULL;
    st->link = SIM_LINK_WAIT;
    timewheel_remove(&s->wheel, &st->te_link);
    count_close(s, st, info);
    lose_calls(st);
    sim_scenario_on_lost(s, st, was_ready, !was_local);
    if (st->stopped) {
        st->link = SIM_LINK_IDLE;
        return;
    }
    if (st->in_storm && was_local)
        set_link_timer(st, LT_CONNECT, st->drop_delay_ms);
    else if (was_local)
        set_link_timer(st, LT_CONNECT, 1000 + (uint64_t)(sim_rand01(s) * 2000));
    else
        set_link_timer(st, LT_CONNECT, backoff_ms(st, info->retry_after));
}
