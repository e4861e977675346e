/* Connector availability, reservations and unlocking; see availability.h. */
#include "sim/availability.h"

#include "sim/proto.h"

#include <stdio.h>
#include <string.h>

/* 2.0.1 tells the CSMS when a reservation ends other than by use or cancel. */
static void reservation_ended(sim_connector_t *k, bool expired)
{
    sim_station_t *st = k->st;
    k->reserved = false;
    if (st->proto && st->proto->action(SIM_MSG_RESERVATION))
        sim_station_call_ref(st, SIM_MSG_RESERVATION, k->id, expired ? 0 : 1, true,
                             k->reservation_id, NULL);
}

/* ------------------------------------------------------- availability */

/* Returns the connector's answer. */
static sim_avail_answer_t change_one(sim_connector_t *k, bool operative)
{
    k->inoperative = !operative;
    if (sim_session_busy(k)) /* operating already, or after the session */
        return operative ? SIM_AVAIL_ACCEPTED : SIM_AVAIL_SCHEDULED;
    if (!operative && k->reserved) reservation_ended(k, false);
    sim_session_idle(k);
    return SIM_AVAIL_ACCEPTED;
}

sim_avail_answer_t sim_avail_change(sim_station_t *st, int connector, bool operative)
{
    if (connector < 0 || connector > st->nconn) return SIM_AVAIL_REJECTED;
    if (connector > 0) return change_one(&st->conn_[connector - 1], operative);
    sim_avail_answer_t a = SIM_AVAIL_ACCEPTED;
    for (unsigned i = 0; i < st->nconn; i++)
        if (change_one(&st->conn_[i], operative) == SIM_AVAIL_SCHEDULED) a = SIM_AVAIL_SCHEDULED;
    st->inoperative = !operative; /* connector 0 reports after the connectors */
    sim_avail_report_station(st);
    return a;
}

void sim_avail_report_station(sim_station_t *st)
{
    if (!st->proto || !st->proto->station_status) return;
    if (st->inoperative == st->inoperative_reported) return;
    for (unsigned i = 0; st->inoperative && i < st->nconn; i++)
        if (sim_session_busy(&st->conn_[i])) return; /* Scheduled: later */
    st->inoperative_reported = st->inoperative;
    sim_station_call(st, SIM_MSG_STATUS, 0,
                     st->inoperative ? SIM_CS_UNAVAILABLE : SIM_CS_AVAILABLE);
}

/* -------------------------------------------------------- reservations */

static sim_connector_t *find_reservation(sim_station_t *st, int32_t id)
{
    for (unsigned i = 0; i < st->nconn; i++)
        if (st->conn_[i].reserved && st->conn_[i].reservation_id == id) return &st->conn_[i];
    return NULL;
}

static sim_reserve_answer_t can_reserve(const sim_connector_t *k)
{
    switch (k->state) {
    case SIM_CS_AVAILABLE:
        return SIM_RESERVE_ACCEPTED;
    case SIM_CS_UNAVAILABLE:
        return SIM_RESERVE_UNAVAILABLE;
    default:
        return SIM_RESERVE_OCCUPIED; /* in a session, or reserved for another */
    }
}

sim_reserve_answer_t sim_reserve(sim_station_t *st, int connector, int32_t id, const char *tag,
                                 int64_t expiry_ms)
{
    sim_t *s = st->sim;
    int64_t until = expiry_ms - s->wall0_ms;
    if (connector < 0 || connector > st->nconn || !tag || strlen(tag) > SIM_TOKEN_MAX ||
        until <= (int64_t)s->now_ms)
        return SIM_RESERVE_REJECTED;
    /* the same id again replaces the reservation: its connector counts as free */
    sim_connector_t *old = find_reservation(st, id);
    if (old) old->state = SIM_CS_AVAILABLE;
    sim_connector_t *k = NULL;
    sim_reserve_answer_t a = SIM_RESERVE_OCCUPIED;
    for (unsigned i = 0; i < st->nconn && !k; i++) {
        sim_connector_t *c = &st->conn_[i];
        if (connector && c->id != connector) continue;
        a = can_reserve(c);
        if (a == SIM_RESERVE_ACCEPTED) k = c;
    }
    if (old) {
        old->state = SIM_CS_RESERVED;
        if (old != k) { /* moved elsewhere, or refused: the old one ends */
            old->reserved = false;
            sim_session_idle(old);
        }
    }
    if (!k) return a;
    k->reserved = true;
    k->reservation_id = id;
    k->reserved_until_ms = (uint64_t)until;
    snprintf(k->reserve_tag, sizeof k->reserve_tag, "%s", tag);
    sim_session_idle(k);
    return SIM_RESERVE_ACCEPTED;
}

bool sim_reserve_cancel(sim_station_t *st, int32_t id)
{
    sim_connector_t *k = find_reservation(st, id);
    if (!k) return false;
    k->reserved = false;
    sim_session_idle(k);
    return true;
}

void sim_reserve_expired(sim_connector_t *k)
{
    if (!k->reserved) return;
    reservation_ended(k, true);
    sim_session_idle(k);
}

/* -------------------------------------------------------------- unlock */

sim_unlock_answer_t sim_unlock(sim_station_t *st, int connector, bool stop_session)
{
    if (connector < 1 || connector > st->nconn) return SIM_UNLOCK_UNKNOWN;
    sim_connector_t *k = &st->conn_[connector - 1];
    if (k->state == SIM_CS_CHARGING) {
        if (!stop_session) return SIM_UNLOCK_ONGOING;
        sim_session_stop(k, SIM_STOP_UNLOCK);
    }
    return SIM_UNLOCK_UNLOCKED;
}
