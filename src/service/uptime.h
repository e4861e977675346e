/*
 * Uptime as the NEVI rule computes it (23 CFR 680.116(b)), as pure
 * arithmetic on time intervals so that unit tests can pin every case down by
 * hand: no database, no clock, no I/O.
 *
 *   µ = (525,600 − (T_outage − T_excluded)) / 525,600 × 100   for a year,
 *
 * pro rata for any other period: the period's own minutes replace 525,600.
 * Here everything is in milliseconds (minutes cancel out).
 *
 * A port (an OCPP 2.0.1 EVSE; OCPP 1.6 connector N is EVSE N) is down when it
 * cannot deliver a session:
 *   - every connector of the port that has reported a status says Faulted or
 *     Unavailable (a port with a CCS and a CHAdeMO cable can still charge on
 *     the other cable);
 *   - the station as a whole says Faulted or Unavailable (1.6 connector 0);
 *   - the station is offline: it has been connected before (tracked_since)
 *     and is not connected now;
 *   - a session start failed and the port has not shown it recovered yet
 *     (the failed-start spans are decided by service/uptime_recorder.c; see
 *     uptime_failed_session() and uptime_rejection_counts() for which
 *     failures count, and uptime_status_recovers() for the end).
 * Outage intervals from all causes are merged (overlaps count once), clipped
 * to the period, and excluded time counts only where it overlaps an outage.
 *
 * Times are Unix milliseconds (UTC), intervals half-open [from, to).
 */
#ifndef AMPGRID_SERVICE_UPTIME_H
#define AMPGRID_SERVICE_UPTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UPTIME_MINUTE_MS 60000LL
#define UPTIME_DAY_MS 86400000LL
#define UPTIME_YEAR_MINUTES 525600
/* The longest period a report may cover (a leap year). */
#define UPTIME_MAX_PERIOD_MS (366 * UPTIME_DAY_MS)
/* A failed-charger stop reason ends a "failed start" when the session
 * delivered no energy, or, when its energy is unknown, lasted at most this. */
#define UPTIME_FAILED_SESSION_MAX_MS 60000

/* Why a port was down: a set of bits, as merged outages keep every cause. */
typedef enum uptime_cause {
    UPTIME_CAUSE_FAULTED = 1u << 0,             /* the port reported Faulted */
    UPTIME_CAUSE_UNAVAILABLE = 1u << 1,         /* the port reported Unavailable */
    UPTIME_CAUSE_STATION_FAULTED = 1u << 2,     /* the station (1.6 connector 0) */
    UPTIME_CAUSE_STATION_UNAVAILABLE = 1u << 3, /* the station (1.6 connector 0) */
    UPTIME_CAUSE_OFFLINE = 1u << 4,             /* no connection to the station */
    UPTIME_CAUSE_FAILED_START = 1u << 5,        /* a session could not be started */
} uptime_cause_t;
#define UPTIME_CAUSE_COUNT 6

/* "faulted", "unavailable", "station_faulted", "station_unavailable",
 * "offline", "failed_start" for bit i (0..UPTIME_CAUSE_COUNT-1). */
const char *uptime_cause_name(int i);

/* An interval [from, to) and why the port was down in it. detail (borrowed)
 * says more: an error code, a stop reason. */
typedef struct uptime_span {
    int64_t from, to;
    unsigned causes;
    const char *detail;
} uptime_span_t;

/* One status report on a timeline: what a connector (or the station) said at
 * a time. status and detail are borrowed. */
typedef struct uptime_point {
    int64_t at;
    const char *status; /* OCPP ConnectorStatus: Available, Faulted, ... */
    const char *detail; /* e.g. the error code; NULL = none */
} uptime_point_t;

/* The cause a status stands for: FAULTED or UNAVAILABLE (the STATION_ ones
 * when station_level), 0 when the port can deliver (every other status,
 * including ones this build does not know). */
unsigned uptime_status_cause(const char *status, bool station_level);

/* The down spans of one timeline inside [from, to). p is sorted by time and
 * may start before from (the last point at or before from gives the state at
 * from). Time before the first point is unknown: with unknown_is_down it is
 * a span with no cause (so that it is neutral in uptime_intersect), otherwise
 * up. out has room for n + 1 spans. Returns the number written (merged). */
size_t uptime_status_spans(const uptime_point_t *p, size_t n, int64_t from, int64_t to,
                           bool station_level, bool unknown_is_down, uptime_span_t *out);

/* Clips every span to [from, to), drops empty ones, sorts and merges spans
 * that overlap or touch (causes are or-ed, the earliest detail is kept), in
 * place. Returns the new count. */
size_t uptime_merge(uptime_span_t *s, size_t n, int64_t from, int64_t to);

/* Where both merged lists are down, with the causes of both. out has room
 * for na + nb spans. Returns the number written. */
size_t uptime_intersect(const uptime_span_t *a, size_t na, const uptime_span_t *b, size_t nb,
                        uptime_span_t *out);

/* Offline time inside [from, to): everything from max(from, tracked_since)
 * that no online span covers. online may be unsorted and overlap; a span
 * with to <= 0 is still open (connected until to). tracked_since 0 = never
 * connected since tracking began: nothing is offline. out has room for
 * n + 1 spans. Returns the number written. */
size_t uptime_offline_spans(const uptime_span_t *online, size_t n, int64_t tracked_since,
                            int64_t from, int64_t to, uptime_span_t *out);

/* Total length of the overlap of merged spans with [from, to). */
int64_t uptime_overlap(const uptime_span_t *s, size_t n, int64_t from, int64_t to);

/* µ in percent; 100 for an empty period. excluded is at most outage. */
double uptime_percent(int64_t period_ms, int64_t outage_ms, int64_t excluded_ms);

/* ------------------------------------------------------------ one port */

typedef struct uptime_timeline {
    const uptime_point_t *points; /* sorted by time */
    size_t n;
} uptime_timeline_t;

typedef struct uptime_port_input {
    int64_t from, to;        /* the period, [from, to) */
    int64_t in_service_from; /* the port's first status; the period starts no earlier (0 = no
                              * clipping) */
    const uptime_timeline_t *connectors; /* one timeline per connector of the port */
    size_t nconnectors;
    uptime_timeline_t station;   /* station-wide status (1.6 connector 0) */
    const uptime_span_t *online; /* the station's connections, see uptime_offline_spans */
    size_t nonline;
    int64_t tracked_since;
    const uptime_span_t *failed_starts; /* to <= 0: not recovered yet */
    size_t nfailed_starts;
    const uptime_span_t *excluded; /* exclusions for this port (any order, may overlap) */
    size_t nexcluded;
} uptime_port_input_t;

typedef struct uptime_outage {
    int64_t from, to;
    unsigned causes;
    const char *detail; /* borrowed from the input */
    int64_t excluded_ms;
} uptime_outage_t;

typedef struct uptime_port_result {
    int64_t from, to; /* the period actually counted (after in_service_from) */
    int64_t period_ms, outage_ms, excluded_ms;
    double uptime_pct;
    uptime_outage_t *outages; /* owned: uptime_port_result_free() */
    size_t noutages;
} uptime_port_result_t;

/* Computes a port's outages and uptime over the period. */
void uptime_port_compute(const uptime_port_input_t *in, uptime_port_result_t *out);
void uptime_port_result_free(uptime_port_result_t *r);

/* ------------------------------------------------------ failed starts */

/* Whether a session that ended is a failed start: it ended for a reason on
 * the charger's side (OCPP 1.6 EmergencyStop, PowerLoss, Reboot; 2.0.1 also
 * GroundFault, OvercurrentFault, PowerQuality) and delivered no energy
 * (energy_wh <= 0), or, when its energy is unknown (has_energy false), lasted
 * at most UPTIME_FAILED_SESSION_MAX_MS. A driver's or an operator's stop
 * (Local, Remote, EVDisconnected, HardReset, ...) never is. */
bool uptime_failed_session(const char *stop_reason, bool has_energy, int64_t energy_wh,
                           int64_t duration_ms);

/* Whether a remote start the station refused counts against the port: the
 * port's last status said it could take a session (Available, Preparing, or
 * 2.0.1 Occupied with no transaction running on it). */
bool uptime_rejection_counts(const char *port_status, bool tx_running);

/* A failed-start outage ends when the port shows it recovered: a status of
 * Available after it reported Faulted or Unavailable (a reset, a repair)
 * since the failure. Feed every status the port (or its station) reports
 * after the failure; *saw_down keeps the state. True when it recovered. */
bool uptime_status_recovers(bool *saw_down, const char *status);

/* -------------------------------------------------------------- periods */

/* A named period in local time at offset_min (minutes east of UTC):
 * "2026" (a year), "2026-07" (a month), "2026-Q3" (a quarter), or
 * "trailing-12-months" (the 12 calendar months up to now). Sets [from, to).
 * False for anything else. */
bool uptime_period_parse(const char *s, int offset_min, int64_t now, int64_t *from, int64_t *to);

#endif
