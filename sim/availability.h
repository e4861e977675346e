/*
 * Whether a simulated connector may be used, and by whom: ChangeAvailability
 * (Operative/Inoperative, for one connector or the whole station),
 * reservations (ReserveNow, CancelReservation, expiry) and UnlockConnector,
 * version-neutral. The protocol files read the requests and spell the
 * answers.
 *
 *   Inoperative on an idle connector: Unavailable now (a reservation on it
 *   is removed); on a connector in a session: Scheduled, Unavailable when
 *   the session ends. Operative: Available again.
 *   A reservation turns an Available connector Reserved until its expiry
 *   (2.0.1 then reports ReservationStatusUpdate Expired), a cancellation, or
 *   a session started with its id token, which uses it up.
 *   Unlock ends a session on the connector first (1.6) or is refused while
 *   one runs (2.0.1 OngoingAuthorizedTransaction).
 *
 * Availability survives reboots, as on a real station.
 */
#ifndef AMPGRID_SIM_AVAILABILITY_H
#define AMPGRID_SIM_AVAILABILITY_H

#include "sim/sim.h"

typedef enum sim_avail_answer {
    SIM_AVAIL_ACCEPTED,
    SIM_AVAIL_REJECTED,
    SIM_AVAIL_SCHEDULED,
} sim_avail_answer_t;

/* ChangeAvailability of connector, 0 = the whole station. */
sim_avail_answer_t sim_avail_change(sim_station_t *st, int connector, bool operative);
/* 1.6: reports connector 0 when the station's availability changed and no
 * session holds it back. */
void sim_avail_report_station(sim_station_t *st);

typedef enum sim_reserve_answer {
    SIM_RESERVE_ACCEPTED,
    SIM_RESERVE_FAULTED,
    SIM_RESERVE_OCCUPIED,
    SIM_RESERVE_REJECTED,
    SIM_RESERVE_UNAVAILABLE,
} sim_reserve_answer_t;

/* ReserveNow on connector (0 = the first Available one) for tag until
 * expiry_ms (wall clock). The same id again moves the reservation. */
sim_reserve_answer_t sim_reserve(sim_station_t *st, int connector, int32_t id, const char *tag,
                                 int64_t expiry_ms);
/* CancelReservation; false when no reservation has that id. */
bool sim_reserve_cancel(sim_station_t *st, int32_t id);
/* The connector's reservation ran out (its timer fired). */
void sim_reserve_expired(sim_connector_t *k);

typedef enum sim_unlock_answer {
    SIM_UNLOCK_UNLOCKED,
    SIM_UNLOCK_UNKNOWN, /* no such connector */
    SIM_UNLOCK_ONGOING, /* a session runs and stop_session was false */
} sim_unlock_answer_t;

sim_unlock_answer_t sim_unlock(sim_station_t *st, int connector, bool stop_session);

#endif
