/*
 * Records what uptime needs and the domain only keeps in memory: when each
 * station was connected, a periodic "server alive" mark, and failed session
 * starts per port. It listens to domain events (csms_subscribe) and writes
 * through the store's writer (store/store_uptime.h); reports read it back.
 *
 * A failed start (the port could not deliver a session) is one of:
 *   - a remote start (1.6 RemoteStartTransaction, 2.0.1
 *     RequestStartTransaction) that a station whose boot was accepted
 *     answered with status Rejected while the port could take a session
 *     (uptime_rejection_counts(): Available, Preparing, or 2.0.1 Occupied
 *     with no transaction running). A request naming no connector/EVSE
 *     counts only for a station with a single port;
 *   - a session that ended for a reason on the charger's side without
 *     delivering energy (uptime_failed_session()).
 * The port is down from then until it recovers: a session starts on it (at
 * or after the failure), the station boots again, or the port (or, in 1.6,
 * the station's connector 0) goes from Faulted or Unavailable (at the
 * failure or reported since) to Available (uptime_status_recovers()). The
 * Available that merely follows a failed session is no recovery.
 *
 * Restarts: connections still open in the database when the server starts
 * were open when the previous process stopped; they end at the last alive
 * mark (written every minute and with every connection change), so a crash
 * counts a station as connected for at most about a minute too long.
 */
#ifndef AMPGRID_SERVICE_UPTIME_RECORDER_H
#define AMPGRID_SERVICE_UPTIME_RECORDER_H

#include "csms/csms.h"
#include "store/store.h"

#include <stddef.h>
#include <uv.h>

#define UPTIME_ALIVE_INTERVAL_MS 60000

typedef struct uptime_recorder uptime_recorder_t;

/* Call before store_start (it reads and repairs the database
 * synchronously). Subscribes to c's events and starts the alive timer on
 * loop. NULL with a message in err when the database cannot be read. */
uptime_recorder_t *uptime_recorder_create(csms_t *c, store_t *s, uv_loop_t *loop, char *err,
                                          size_t err_len);
/* When shutdown begins: a last alive mark, and the timer is closed (the loop
 * can end). Events are still recorded until uptime_recorder_free. */
void uptime_recorder_shutdown(uptime_recorder_t *r);
/* After the loop has ended and before store_close: unsubscribes, frees. */
void uptime_recorder_free(uptime_recorder_t *r);

#endif
