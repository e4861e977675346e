/*
 * A connector's charging sessions, as a real station runs them:
 *
 *   Available -(EV arrives)-> Preparing: StatusNotification, Authorize
 *     -(Accepted)-> StartTransaction -(transactionId)-> Charging:
 *     StatusNotification, MeterValues every meter interval
 *     -(session over, RemoteStop, reset)-> Finishing: StopTransaction,
 *     StatusNotification -(answered)-> Available
 *
 * One wheel entry per connector holds its next event (an EV arriving, the
 * next meter sample, the session's end), so a connector costs one timer
 * whatever it is doing. Sessions keep charging while the link is down (the
 * meter register keeps counting); samples due meanwhile are skipped, and
 * the stop waits in the queue for the link to come back.
 *
 * An idle connector is Available, Unavailable (ChangeAvailability) or
 * Reserved (ReserveNow); sim_session_idle settles which (availability.h).
 * While Reserved, the wheel entry holds the reservation's expiry instead of
 * the next arrival.
 */
#include "sim/availability.h"
#include "sim/meter.h"
#include "sim/profiles.h"
#include "sim/proto.h"
#include "sim/scenario.h"

#include <stdio.h>
#include <string.h>

#define K_OF(e) ((sim_connector_t *)((char *)(e)-offsetof(sim_connector_t, te)))
#define NEVER UINT64_MAX

static void connector_cb(timewheel_entry_t *e);

static void at(sim_connector_t *k, uint64_t when_ms)
{
    sim_schedule(k->st->sim, &k->te, when_ms, connector_cb);
}

static bool arrivals_on(const sim_t *s)
{
    return (s->cfg.scenario == SIM_SC_SESSIONS || s->cfg.scenario == SIM_SC_MIXED) &&
           (s->sc.phase == SIM_PH_RUN || s->sc.phase == SIM_PH_SETTLE) && s->accepting_new_work;
}

static void next_arrival(sim_connector_t *k)
{
    sim_t *s = k->st->sim;
    if (arrivals_on(s)) at(k, s->now_ms + sim_scenario_idle_ms(s));
}

static void report(sim_connector_t *k)
{
    sim_station_call(k->st, SIM_MSG_STATUS, k->id, (int)k->state);
}

void sim_connector_init(sim_connector_t *k, sim_station_t *st, uint8_t id)
{
    memset(k, 0, sizeof *k);
    k->st = st;
    k->id = id;
    k->state = SIM_CS_AVAILABLE;
    k->limit_w = -1; /* no charging profile */
    snprintf(k->tag, sizeof k->tag, "%s%u-%u", st->sim->cfg.tag_prefix, st->index, id);
    /* a station that has been in service a while: its register is not at zero */
    k->energy_wh = (double)(sim_rand(st->sim) % 5000000);
}

void sim_session_link_ready(sim_station_t *st)
{
    if (!st->proto || st->proto->station_status) {
        sim_station_call(st, SIM_MSG_STATUS, 0,
                         st->inoperative ? SIM_CS_UNAVAILABLE : SIM_CS_AVAILABLE);
        st->inoperative_reported = st->inoperative;
    }
    for (unsigned i = 0; i < st->nconn; i++)
        report(&st->conn_[i]);
    sim_session_pump_throughput(st);
}

void sim_session_begin_arrivals(sim_station_t *st)
{
    sim_t *s = st->sim;
    for (unsigned i = 0; i < st->nconn; i++) {
        sim_connector_t *k = &st->conn_[i];
        if (k->state != SIM_CS_AVAILABLE || timewheel_pending(&k->te)) continue;
        /* Start near the steady state: `charging` of the connectors begin a
         * session within the first meter interval, the rest wait as usual. */
        if (sim_rand01(s) < s->cfg.charging)
            at(k, s->now_ms + (uint64_t)(sim_rand01(s) * s->cfg.meter_interval_s * 1000.0));
        else
            next_arrival(k);
    }
}

bool sim_session_busy(const sim_connector_t *k)
{
    return k->state == SIM_CS_PREPARING || k->state == SIM_CS_CHARGING ||
           k->state == SIM_CS_FINISHING;
}

bool sim_session_start(sim_connector_t *k, const char *tag, bool remote)
{
    sim_t *s = k->st->sim;
    bool reserved = k->state == SIM_CS_RESERVED;
    if (reserved && (!tag || strcmp(tag, k->reserve_tag) != 0)) return false;
    if (!reserved && k->state != SIM_CS_AVAILABLE) return false;
    k->reserved = false; /* used up: the session names it */
    k->has_tx_reservation = reserved;
    timewheel_remove(&s->wheel, &k->te);
    if (tag) snprintf(k->tag, sizeof k->tag, "%s", tag);
    k->state = SIM_CS_PREPARING;
    k->remote = remote;
    if (!remote) { /* 2.0.1: only a RequestStartTransaction sets these */
        k->has_remote_start_id = false;
        k->tag_type[0] = '\0';
    }
    k->tx_id = 0;
    k->stop_retries = 0;
    k->tx_started_wall_ms = sim_wall_ms(s);
    sim_meter_plug(s, k, s->now_ms);
    report(k);
    sim_station_call(k->st, remote ? SIM_MSG_TX_START : SIM_MSG_AUTHORIZE, k->id, 0);
    return true;
}

void sim_session_idle(sim_connector_t *k)
{
    sim_t *s = k->st->sim;
    sim_cstate_t want = k->inoperative ? SIM_CS_UNAVAILABLE
                        : k->reserved  ? SIM_CS_RESERVED
                                       : SIM_CS_AVAILABLE;
    bool changed = k->state != want;
    k->state = want;
    timewheel_remove(&s->wheel, &k->te);
    if (want == SIM_CS_RESERVED)
        at(k, k->reserved_until_ms);
    else if (want == SIM_CS_AVAILABLE)
        next_arrival(k);
    if (changed) report(k);
    sim_avail_report_station(k->st);
}

static void back_to_available(sim_connector_t *k)
{
    int64_t tx = k->tx_id;
    k->state = SIM_CS_FINISHING; /* whatever it was: idle differs, so it is reported */
    k->tx_id = 0;
    k->power_w = 0;
    k->has_tx_reservation = false;
    if (tx && k->st->profiles) sim_profiles_tx_ended(k->st, k->id);
    sim_session_idle(k);
}

void sim_session_on_authorized(sim_connector_t *k, bool accepted)
{
    if (k->state != SIM_CS_PREPARING) return;
    if (!k->st->sim->accepting_new_work) { /* the run is ending: the driver walks away */
        back_to_available(k);
        return;
    }
    if (!accepted) {
        k->st->sim->stats.auth_rejected++;
        back_to_available(k);
        return;
    }
    sim_station_call(k->st, SIM_MSG_TX_START, k->id, 0);
}

void sim_session_on_started(sim_connector_t *k, int64_t tx_id, bool accepted)
{
    sim_t *s = k->st->sim;
    if (k->state != SIM_CS_PREPARING) return;
    if (tx_id) k->tx_id = tx_id; /* 0: the station chose it when it sent the start (2.0.1) */
    k->state = SIM_CS_CHARGING;
    s->stats.sessions_started++;
    if (k->st->profiles) sim_profiles_apply(k->st); /* a TxDefaultProfile may apply now */
    report(k);
    if (!accepted || !s->accepting_new_work) { /* refused, or the run is ending: stop now */
        if (!accepted) s->stats.auth_rejected++;
        sim_session_stop(k, SIM_STOP_LOCAL);
        return;
    }
    if (s->cfg.scenario == SIM_SC_THROUGHPUT) {
        k->session_end_ms = NEVER;
        sim_session_pump_throughput(k->st);
        return;
    }
    k->session_end_ms = s->now_ms + sim_scenario_session_ms(s);
    uint64_t next = s->now_ms + (uint64_t)k->st->meter_interval_s * 1000;
    at(k, next < k->session_end_ms ? next : k->session_end_ms);
}

void sim_session_stop(sim_connector_t *k, int reason)
{
    sim_t *s = k->st->sim;
    if (k->state != SIM_CS_CHARGING) return;
    timewheel_remove(&s->wheel, &k->te);
    sim_meter_advance(k, s->now_ms);
    k->state = SIM_CS_FINISHING;
    k->stop_reason = (uint8_t)reason;
    sim_station_call(k->st, SIM_MSG_TX_STOP, k->id, reason);
    report(k);
}

void sim_session_on_stopped(sim_connector_t *k)
{
    if (k->state != SIM_CS_FINISHING) return;
    k->st->sim->stats.sessions_stopped++;
    back_to_available(k);
}

void sim_session_on_failed(sim_connector_t *k, sim_msg_t kind, sim_outcome_t o)
{
    switch (kind) {
    case SIM_MSG_AUTHORIZE:
    case SIM_MSG_TX_START:
        if (k->state == SIM_CS_PREPARING) back_to_available(k);
        break;
    case SIM_MSG_TX_STOP:
        /* A station must deliver its stops: retry a lost one a few times. */
        if (k->state == SIM_CS_FINISHING && o != SIM_OUT_CALLERROR && o != SIM_OUT_INVALID &&
            k->stop_retries < 3 && !k->st->stopped) {
            k->stop_retries++;
            sim_station_call(k->st, SIM_MSG_TX_STOP, k->id, k->stop_reason);
        } else if (k->state == SIM_CS_FINISHING) {
            back_to_available(k);
        }
        break;
    default:
        break;
    }
}

sim_connector_t *sim_session_find_tx(sim_station_t *st, int64_t tx_id)
{
    for (unsigned i = 0; i < st->nconn; i++)
        if (st->conn_[i].state == SIM_CS_CHARGING && st->conn_[i].tx_id == tx_id)
            return &st->conn_[i];
    return NULL;
}

static unsigned queued_meters(const sim_station_t *st)
{
    unsigned n = 0;
    for (const sim_call_t *c = st->queue_head; c; c = c->next)
        n += c->kind == SIM_MSG_METER;
    return n;
}

void sim_session_pump_throughput(sim_station_t *st)
{
    sim_t *s = st->sim;
    sim_connector_t *k = &st->conn_[0];
    if (s->cfg.scenario != SIM_SC_THROUGHPUT || s->sc.phase != SIM_PH_RUN ||
        !s->accepting_new_work || st->link != SIM_LINK_READY || k->state != SIM_CS_CHARGING)
        return;
    unsigned want = s->cfg.inflight ? s->cfg.inflight : 1;
    unsigned have = st->npending + queued_meters(st);
    while (have++ < want)
        sim_station_call(st, SIM_MSG_METER, k->id, 0);
}

static void connector_cb(timewheel_entry_t *e)
{
    sim_connector_t *k = K_OF(e);
    sim_station_t *st = k->st;
    sim_t *s = st->sim;
    if (k->state == SIM_CS_RESERVED) {
        sim_reserve_expired(k);
        return;
    }
    if (k->state == SIM_CS_AVAILABLE) {
        if (st->link == SIM_LINK_READY && arrivals_on(s))
            sim_session_start(k, NULL, false);
        else
            next_arrival(k);
        return;
    }
    if (k->state != SIM_CS_CHARGING) return;
    if (s->now_ms >= k->session_end_ms) {
        sim_session_stop(k, SIM_STOP_EV_DISCONNECTED);
        return;
    }
    if (st->profiles) k->limit_w = sim_profiles_limit_w(st, k->id, sim_wall_ms(s));
    sim_meter_advance(k, s->now_ms);
    if (st->link == SIM_LINK_READY && s->accepting_new_work)
        sim_station_call(st, SIM_MSG_METER, k->id, 0);
    uint64_t next = s->now_ms + (uint64_t)st->meter_interval_s * 1000;
    at(k, next < k->session_end_ms ? next : k->session_end_ms);
}
