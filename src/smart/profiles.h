/*
 * From allocations to OCPP charging profiles, and back from the stations'
 * answers. Pure functions (no I/O): the engine decides when, this file
 * decides what. Payloads are built in each version's own shape:
 *
 *  - TxProfile per session (1.6: connectorId + numeric transactionId;
 *    2.0.1: evseId + the station's transactionId string), chargingRateUnit A,
 *    one period for "now" or the periods of a schedule;
 *  - TxDefaultProfile per station (connector/EVSE 0): the failsafe, what
 *    every EVSE of the station may draw when the server cannot be reached;
 *  - ChargePointMaxProfile (1.6) / ChargingStationMaxProfile (2.0.1): the
 *    station node's own limit.
 *
 * Profile ids are fixed per purpose and EVSE, so a new profile replaces the
 * station's previous one instead of stacking up.
 */
#ifndef AMPGRID_SMART_PROFILES_H
#define AMPGRID_SMART_PROFILES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum smart_proto {
    SMART_PROTO_16 = 0,
    SMART_PROTO_201,
} smart_proto_t;

typedef struct smart_profile_config {
    double hysteresis_a;   /* an increase smaller than this is not sent... */
    double hysteresis_pct; /* ...unless it is at least this share (0.05 = 5 %) of the last limit */
} smart_profile_config_t;

#define SMART_PROFILE_ID_DEFAULT 1   /* TxDefaultProfile */
#define SMART_PROFILE_ID_MAX 2       /* ChargePointMaxProfile / ChargingStationMaxProfile */
#define SMART_PROFILE_ID_TX_BASE 100 /* + evse id: TxProfile */

/* "ocpp1.6" / "ocpp2.0.1" -> the proto; -1 when neither. */
int smart_proto_parse(const char *subprotocol);

/* Limits are sent rounded down to 0.1 A: never above the grant. */
double smart_profile_round(double a);

/* Whether a new limit must be sent, given the last one sent (< 0: none).
 * Decreases always go out (the site's limit depends on them); increases
 * only past the hysteresis, so meter noise does not become traffic. */
bool smart_profile_should_send(const smart_profile_config_t *cfg, double last_a, double new_a);

/* A period of a schedule: from `offset` seconds after the start, `limit_a`. */
typedef struct smart_period {
    int offset;
    double limit_a;
} smart_period_t;

/* SetChargingProfile payloads (new references). tx_id: the 1.6 numeric
 * transactionId as a string, or the 2.0.1 transactionId. phases: the number
 * of phases the limit applies to (numberPhases), 0 = omit. With periods
 * (n > 0, first offset 0), the profile is Absolute from `start` (Unix s);
 * otherwise Relative with the single limit. */
json_t *smart_profile_tx(smart_proto_t proto, int evse_id, const char *tx_id, double limit_a,
                         int phases, const smart_period_t *periods, int n, int64_t start);
json_t *smart_profile_default(smart_proto_t proto, double limit_a);
json_t *smart_profile_station_max(smart_proto_t proto, double limit_a);
/* ClearChargingProfile payloads for what ampgrid set: one profile by its id
 * (SMART_PROFILE_ID_DEFAULT, SMART_PROFILE_ID_MAX), or every TxProfile at
 * ampgrid's stack level on every EVSE (by purpose and stackLevel). */
json_t *smart_profile_clear_id(smart_proto_t proto, int id);
json_t *smart_profile_clear_tx(smart_proto_t proto);
/* GetCompositeSchedule for an EVSE (0 = the whole station) over duration_s, in A. */
json_t *smart_profile_composite_request(smart_proto_t proto, int evse_id, int duration_s);
/* The limit in force at the start of a GetCompositeSchedule answer (A);
 * false when the answer holds no schedule in amperes. */
bool smart_profile_composite_limit(smart_proto_t proto, const json_t *answer, double *limit_a);

/* Whether a SetChargingProfile answer payload says Accepted. */
bool smart_profile_accepted(const json_t *answer);

#endif
