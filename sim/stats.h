/*
 * What a simulator run counts: per station-initiated message kind, how many
 * were sent and what became of each (answered, refused with a CALLERROR,
 * answered invalidly, timed out, lost with the connection, abandoned at the
 * end), with a latency histogram; connection outcomes; the server's own
 * calls; and small tallies of error kinds (CALLERROR codes, HTTP statuses,
 * close codes).
 *
 * The balance rule the report checks: every message sent ends in exactly one
 * of ok, callerror, invalid, timeout, disconnected or abandoned, so
 * sent == ok + callerror + invalid + timeout + disconnected + abandoned.
 * A CALLRESULT that arrives after its timeout is counted as "late", not again.
 */
#ifndef AMPGRID_SIM_STATS_H
#define AMPGRID_SIM_STATS_H

#include "sim/hist.h"

#include <stdbool.h>
#include <stdint.h>

/* Station-initiated message kinds (version-neutral; the protocol names them). */
typedef enum sim_msg {
    SIM_MSG_BOOT,
    SIM_MSG_HEARTBEAT,
    SIM_MSG_STATUS,
    SIM_MSG_AUTHORIZE,
    SIM_MSG_TX_START,
    SIM_MSG_METER,
    SIM_MSG_TX_STOP,
    SIM_MSG_FW_STATUS,   /* FirmwareStatusNotification */
    SIM_MSG_LOG_STATUS,  /* 1.6 DiagnosticsStatusNotification, 2.0.1 LogStatusNotification */
    SIM_MSG_RESERVATION, /* 2.0.1 ReservationStatusUpdate (1.6 has none) */
    SIM_MSG_PROFILES,    /* 2.0.1 ReportChargingProfiles (1.6 has none) */
    SIM_MSG_COUNT
} sim_msg_t;

/* The report's name for each kind: the 1.6 action where 1.6 has one (so a
 * 2.0.1 run reports TransactionEvent Started as StartTransaction and
 * LogStatusNotification as DiagnosticsStatusNotification), else 2.0.1's. */
extern const char *const sim_msg_names[SIM_MSG_COUNT];

/* How one sent message ended. */
typedef enum sim_outcome {
    SIM_OUT_OK,
    SIM_OUT_CALLERROR,
    SIM_OUT_INVALID,
    SIM_OUT_TIMEOUT,
    SIM_OUT_DISCONNECTED,
    SIM_OUT_ABANDONED,
    SIM_OUT_COUNT
} sim_outcome_t;

extern const char *const sim_outcome_names[SIM_OUT_COUNT];

typedef struct sim_msg_stats {
    uint64_t sent;
    uint64_t out[SIM_OUT_COUNT];
    sim_hist_t latency_us; /* every answer (CALLRESULT or CALLERROR) */
} sim_msg_stats_t;

/* A small bounded tally of string keys (error codes, statuses); keys beyond
 * the capacity are counted under "other". */
#define SIM_TALLY_MAX 32
typedef struct sim_tally {
    unsigned n;
    struct {
        char key[40];
        uint64_t count;
    } e[SIM_TALLY_MAX];
} sim_tally_t;

void sim_tally_add(sim_tally_t *t, const char *key, uint64_t n);
uint64_t sim_tally_get(const sim_tally_t *t, const char *key);
uint64_t sim_tally_total(const sim_tally_t *t);

typedef struct sim_stats {
    sim_msg_stats_t msg[SIM_MSG_COUNT];
    /* connections */
    uint64_t connect_attempts, connected, connect_failed, refused, disconnects, drops;
    sim_tally_t refused_by_status; /* "503" -> n */
    sim_tally_t close_codes;       /* server-initiated closes: "1000", "none" */
    sim_tally_t connect_errors;    /* TCP/TLS failure details */
    /* boot outcomes */
    uint64_t boot_accepted, boot_pending, boot_rejected;
    /* protocol */
    sim_tally_t callerrors; /* CALLERROR code -> n, all kinds */
    uint64_t malformed_in, unmatched_answers, late_answers, not_sent;
    sim_tally_t invalid_answers; /* action -> answers that failed validation */
    /* charging */
    uint64_t sessions_started, sessions_stopped, auth_rejected;
    /* the server's calls */
    sim_tally_t server_calls; /* action -> received */
    uint64_t server_calls_answered, server_calls_refused;
    /* firmware updates (UpdateFirmware) and log uploads (GetDiagnostics, GetLog) */
    struct {
        uint64_t requests, attempts, ok, failed, bytes; /* attempts: GETs tried */
        uint64_t refused;                               /* not loopback: nothing fetched */
        uint64_t installed, install_failed;
    } fw;
    struct {
        uint64_t requests, attempts, ok, failed, bytes; /* attempts: uploads tried */
        uint64_t refused;
    } logs;
} sim_stats_t;

void sim_stats_init(sim_stats_t *s);
void sim_stats_sent(sim_stats_t *s, sim_msg_t m);
/* Records the end of one sent message; latency_us only counts for answers. */
void sim_stats_outcome(sim_stats_t *s, sim_msg_t m, sim_outcome_t o, uint64_t latency_us);

/* Totals over every kind. */
uint64_t sim_stats_total_sent(const sim_stats_t *s);
uint64_t sim_stats_total_outcome(const sim_stats_t *s, sim_outcome_t o);
/* sent minus every outcome: what is still in flight (0 once a run has ended). */
int64_t sim_stats_unsettled(const sim_stats_t *s);

#endif
