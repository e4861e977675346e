/*
 * ampgrid-sim's core: the simulator context, the simulated stations and
 * their connectors, and the calls in flight. Read this header first.
 *
 * Shape: everything runs on one event-loop thread. The core knows no sockets:
 * it talks to the network through a small transport table (connect, send,
 * close) and is told about connections opening, messages arriving and
 * connections ending through sim_station_on_*(). The driver (driver.c) wires
 * the transport to net_client; the unit tests wire it to a fake, advance the
 * clock by hand and read the frames the stations sent.
 *
 * Time: sim->now_ms is milliseconds since the run started, advanced by the
 * driver (or a test). Every deadline (back-off, boot retry, heartbeat, meter
 * interval, session end, call timeout) is an entry on one O(1) timing wheel
 * whose unit is SIM_TICK_MS, so 20,000 stations cost the same per timer as
 * one. Objects embed their wheel entries and remove them before being freed.
 */
#ifndef AMPGRID_SIM_SIM_H
#define AMPGRID_SIM_SIM_H

#include "sim/stats.h"
#include "util/strbuf.h"
#include "util/timewheel.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_TICK_MS 10
#define SIM_MAX_CONNECTORS 4
#define SIM_ID_MAX 48
#define SIM_PASSWORD_MAX 64
#define SIM_TAG_MAX 20
#define SIM_TOKEN_MAX 36 /* 2.0.1 idToken */
#define SIM_MAX_SOURCES 64

typedef struct sim sim_t;
typedef struct sim_station sim_station_t;
typedef struct sim_proto sim_proto_t;

/* ------------------------------------------------------------ config */

typedef enum sim_scenario_kind {
    SIM_SC_CONNECT,    /* ramp to N, hold for the duration */
    SIM_SC_STORM,      /* ramp to N, drop all at once, measure the recovery */
    SIM_SC_SESSIONS,   /* steady charging load */
    SIM_SC_THROUGHPUT, /* MeterValues as fast as answered, K in flight per station */
    SIM_SC_MIXED,      /* a network day compressed into the duration */
} sim_scenario_kind_t;

typedef struct sim_config {
    /* target */
    char host[64];
    int port;
    char path[128]; /* the URL's path; the station id is appended: /ocpp -> /ocpp/ID */
    bool tls, insecure;
    bool tls_resume; /* wss: resume each station's TLS session on reconnect */
    char ca_file[256];
    char protocols[64]; /* offered subprotocols, preferred first: "ocpp1.6", "ocpp2.0.1" */
    /* stations */
    unsigned stations, first_index;
    char prefix[32];
    char password[SIM_PASSWORD_MAX + 1];
    char tag_prefix[8];
    unsigned connectors_min, connectors_max;
    char sources[SIM_MAX_SOURCES][16]; /* local addresses to spread connections over */
    unsigned nsources;
    /* scenario */
    sim_scenario_kind_t scenario;
    double duration_s;     /* connect: hold; storm: max recovery wait; others: run time */
    double ramp_rate;      /* new connections per second; 0 = all at once */
    double ramp_timeout_s; /* give up waiting for the ramp after this */
    int meter_interval_s;
    double charging;   /* sessions/mixed: share of connectors charging on average */
    double session_s;  /* mean session length */
    unsigned inflight; /* calls in flight per station (OCPP-J allows 1) */
    double storm_spread_ms;
    double day_s; /* mixed: length of the compressed day, 0 = duration */
    double warmup_s; /* sessions/mixed: run this long before the measured part starts */
    /* behaviour */
    int call_timeout_s;
    int backoff_min_ms, backoff_max_ms;
    double drain_s; /* at the end: wait this long for answers in flight */
    uint64_t seed;
    bool validate; /* check answers against the message definitions */
    /* output */
    char json_path[256];
    double progress_s; /* 0 = no progress lines */
    bool quiet;
    /* registration through the API */
    bool do_register;
    char api_host[64];
    int api_port;
    char token[128];
    unsigned register_concurrency;
    unsigned max_connecting; /* connection attempts in progress at once, 0 = no limit */
    /* firmware updates (firmware.h) */
    double firmware_fail;         /* share of installs that fail (InstallationFailed) */
    bool firmware_fail_signature; /* 2.0.1 signed updates fail as InvalidSignature instead */
    int firmware_version_from;    /* sim_fwv_rule_t: how the new version is named */
    /* https downloads and uploads use insecure/ca_file like wss */
} sim_config_t;

void sim_config_defaults(sim_config_t *c);

/* ------------------------------------------------------------ stations */

typedef enum sim_link {
    SIM_LINK_IDLE, /* not started, or finished */
    SIM_LINK_WAIT, /* waiting to (re)connect */
    SIM_LINK_CONNECTING,
    SIM_LINK_BOOTING, /* open; BootNotification sent or Pending */
    SIM_LINK_READY,   /* boot Accepted */
    SIM_LINK_CLOSING,
} sim_link_t;

typedef enum sim_cstate {
    SIM_CS_AVAILABLE,
    SIM_CS_PREPARING, /* authorizing / starting */
    SIM_CS_CHARGING,
    SIM_CS_FINISHING, /* stop sent */
    SIM_CS_UNAVAILABLE,
    SIM_CS_RESERVED,
} sim_cstate_t;

/* A call the station wants to send, or has sent and awaits. */
typedef struct sim_call {
    timewheel_entry_t te; /* the answer's deadline while in flight */
    struct sim_call *next;
    sim_station_t *st;
    uint32_t id; /* message id; 0 until sent */
    sim_msg_t kind;
    int8_t connector; /* 0 = the station, 1..4 */
    int8_t arg;       /* kind-specific: stop reason, status to report */
    bool sent;
    bool has_ref;
    int32_t ref; /* kind-specific: the requestId or reservationId a notification names */
    char *body;  /* a payload written when queued (owned), for the rare kinds that need it */
    uint64_t t0_us;
} sim_call_t;

typedef struct sim_connector {
    timewheel_entry_t te; /* next session event: arrival, meter sample, end */
    sim_station_t *st;
    uint8_t id; /* 1..4 */
    sim_cstate_t state;
    bool remote;   /* started by RemoteStart: no Authorize */
    int64_t tx_id; /* 0 = none */
    char tag[SIM_TAG_MAX + 1];
    /* the electrical model (meter.h) */
    double energy_wh, soc, capacity_wh, max_power_w, limit_w, power_w;
    uint64_t session_end_ms, last_sample_ms;
    uint8_t stop_reason, stop_retries;
    /* 2.0.1: the transaction's next seqNo, and the RequestStartTransaction id */
    uint32_t tx_seq;
    int32_t remote_start_id;
    bool has_remote_start_id;
    char tag_type[16];          /* 2.0.1 idToken type: "" = ISO14443 (the server's default) */
    int64_t tx_started_wall_ms; /* when the session began (Relative charging profiles) */
    /* availability and reservations (availability.h) */
    bool inoperative;           /* ChangeAvailability Inoperative: Unavailable whenever idle */
    bool reserved;              /* state is SIM_CS_RESERVED; te holds the expiry */
    bool has_tx_reservation;    /* the running session used a reservation */
    int32_t reservation_id;     /* the reservation held, or the one the session used */
    uint64_t reserved_until_ms; /* sim clock */
    char reserve_tag[SIM_TOKEN_MAX + 1];
} sim_connector_t;

struct sim_station {
    sim_t *sim;
    void *conn;                /* the transport's handle while connecting/open */
    const sim_proto_t *proto;  /* after the upgrade: the negotiated version */
    timewheel_entry_t te_link; /* reconnect, boot retry, heartbeat, reset */
    uint32_t index;
    char id[SIM_ID_MAX + 1];
    char *password; /* NULL = the configured one; set by AuthorizationKey */
    sim_link_t link;
    uint8_t link_timer; /* what te_link means (station.c) */
    uint8_t nconn;
    bool ever_booted, reset_pending, in_storm, stopped;
    bool holding;                  /* answering a server call: queued work waits */
    bool counted_ready;            /* counted in sim->ready_now */
    bool connecting, waiting_slot; /* holding a connect slot / queued for one */
    uint32_t drop_delay_ms;        /* storm: reconnect this long after the drop */
    uint16_t attempt;              /* reconnect attempts since the last Accepted boot */
    int retry_after_s;
    uint32_t next_msg_id;
    int heartbeat_s, meter_interval_s;
    int64_t last_tx_id; /* 2.0.1: the last transaction id this station chose */
    uint64_t ready_at_ms;
    sim_call_t *queue_head, *queue_tail; /* not sent yet, in order */
    sim_call_t *pending;                 /* sent, awaiting an answer */
    unsigned npending;
    sim_connector_t conn_[SIM_MAX_CONNECTORS];
    /* ChangeAvailability of the whole station (connector 0): what was asked,
     * and what the last connector-0 StatusNotification said (1.6) */
    bool inoperative, inoperative_reported;
    /* Allocated when first needed (most stations of a load test never are):
     * firmware.h, diagnostics.h, profiles.h, local_list.h. */
    struct sim_fw *fw;
    struct sim_logjob *logjob;
    struct sim_profiles *profiles;
    struct sim_local_list *local_list;
};

/* ------------------------------------------------------------ transport */

typedef struct sim_close_info {
    enum { SIM_END_FAILED, SIM_END_REFUSED, SIM_END_PEER, SIM_END_LOCAL } end;
    bool was_open;
    int http_status, retry_after, close_code;
    const char *detail;
} sim_close_info_t;

/* HTTP transfers for a station's firmware download and log upload. */
typedef enum sim_job { SIM_JOB_FIRMWARE, SIM_JOB_LOG } sim_job_t;

typedef struct sim_transfer {
    sim_job_t job;
    uint32_t seq;     /* the job's attempt number: a stale result is ignored */
    const char *url;  /* http(s), loopback (checked before) */
    const char *body; /* upload: the file (PUT, multipart POST on 405); NULL: download */
    size_t len;
    const char *file_name; /* upload: the file's name */
} sim_transfer_t;

typedef struct sim_transfer_result {
    sim_job_t job;
    uint32_t seq;
    int status;               /* HTTP status, 0 = no answer */
    const char *error;        /* NULL when an answer arrived */
    bool cancelled;           /* the run is ending */
    uint64_t bytes;           /* downloaded or uploaded */
    unsigned char sha256[32]; /* download: the digest of the body */
} sim_transfer_result_t;

typedef struct sim_transport {
    void *ud;
    /* Starts connecting st (source address index given); 0 on success (then
     * sim_station_on_open or sim_station_on_close follows), -1 when it failed
     * at once (no callback follows). */
    int (*connect)(void *ud, sim_station_t *st, unsigned source);
    /* Queues one text frame; false when the connection cannot send. */
    bool (*send)(void *ud, sim_station_t *st, const char *data, size_t len);
    /* Closes; code 0 drops the connection without a Close frame. */
    void (*close)(void *ud, sim_station_t *st, int code);
    /* Starts an HTTP transfer; 0 on success (then sim_station_on_transfer
     * follows once, never from inside this call), -1 when it cannot start. */
    int (*transfer)(void *ud, sim_station_t *st, const sim_transfer_t *t);
} sim_transport_t;

/* ------------------------------------------------------------ scenario */

typedef enum sim_phase {
    SIM_PH_RAMP,   /* stations connecting and booting */
    SIM_PH_SETTLE, /* scenario set-up (throughput: sessions starting; storm: a pause;
                      sessions/mixed with --warmup: arrivals running, not yet measured) */
    SIM_PH_RUN,    /* the measured part */
    SIM_PH_STORM,  /* storm: waiting for every dropped station to boot again */
    SIM_PH_STOP,   /* stopping sessions, draining answers in flight */
    SIM_PH_DONE,
} sim_phase_t;

extern const char *const sim_phase_names[];

typedef struct sim_scenario_state {
    sim_phase_t phase;
    uint64_t phase_at_ms;
    unsigned started; /* stations started so far in the ramp */
    /* figures the report uses */
    uint64_t ramp_done_ms; /* all stations booted (0 = never) */
    uint64_t first_open_ms, run_from_ms, run_to_ms;
    uint64_t storm_at_ms, storm_done_ms;
    unsigned storm_dropped, storm_recovered;
    unsigned disturbed; /* ready stations that lost their link unasked while measured */
    double blip_acc;    /* mixed: fractional network blips carried to the next tick */
    uint64_t meter_ok_at_run_start, meter_ok_at_run_end;
    uint64_t msgs_at_run_start, msgs_at_run_end;
    bool ramp_complete;
} sim_scenario_state_t;

/* ------------------------------------------------------------ context */

struct sim {
    sim_config_t cfg;
    sim_transport_t tr;
    timewheel_t wheel; /* unit: SIM_TICK_MS */
    uint64_t now_ms;   /* since the run started */
    int64_t wall0_ms;  /* wall clock at now_ms == 0 (frame timestamps) */
    uint64_t rng;
    sim_stats_t stats;
    sim_station_t *stations;
    unsigned nstations;
    unsigned open_now, ready_now, ready_max;
    unsigned connecting_now; /* attempts between connect and open/close */
    uint32_t *connect_wait;  /* station indexes waiting for a connect slot (a ring) */
    unsigned wait_head, wait_len;
    bool accepting_new_work; /* false once stopping: no new sessions or meter values */
    sim_scenario_state_t sc;
    strbuf_t buf; /* scratch for building frames */
};

/* Allocates the stations (ids, connectors, tags) from cfg. */
sim_t *sim_create(const sim_config_t *cfg, const sim_transport_t *tr);
void sim_free(sim_t *s);
/* Moves the clock and fires due timers. */
void sim_advance(sim_t *s, uint64_t now_ms);
/* Schedules a wheel entry at an absolute time in ms. */
void sim_schedule(sim_t *s, timewheel_entry_t *e, uint64_t at_ms, timewheel_cb cb);
/* Wall-clock time now, for timestamps. */
int64_t sim_wall_ms(const sim_t *s);

/* Random numbers (xorshift64*: fast, seeded, reproducible). */
uint64_t sim_rand(sim_t *s);
double sim_rand01(sim_t *s);                /* [0, 1) */
double sim_rand_exp(sim_t *s, double mean); /* exponential with this mean */

/* ------------------------------------------------------------ station.c */

/* Starts the station: connects after delay_ms. */
void sim_station_start(sim_station_t *st, uint64_t delay_ms);
/* Stops for good: closes the connection, no reconnect. */
void sim_station_stop(sim_station_t *st);
/* Drops the connection as a network failure would and reconnects after delay_ms. */
void sim_station_drop(sim_station_t *st, uint64_t delay_ms);
void sim_station_on_open(sim_station_t *st, const char *subprotocol);
void sim_station_on_message(sim_station_t *st, const char *data, size_t len);
void sim_station_on_close(sim_station_t *st, const sim_close_info_t *info);
/* Queues a station-initiated call (sent when the link allows). */
void sim_station_call(sim_station_t *st, sim_msg_t kind, int connector, int arg);
/* The same with a requestId/reservationId for the payload (ref_set false:
 * none) and optionally a payload written now (body: taken over, may be NULL). */
void sim_station_call_ref(sim_station_t *st, sim_msg_t kind, int connector, int arg, bool ref_set,
                          int32_t ref, char *body);
/* Whether transaction messages for connector (0 = any) wait or are in flight. */
bool sim_station_tx_queued(const sim_station_t *st, int connector);
/* Starts an HTTP transfer through the transport; -1 when it cannot. */
int sim_station_transfer(sim_station_t *st, const sim_transfer_t *t);
/* A transfer ended (the transport calls this). */
void sim_station_on_transfer(sim_station_t *st, const sim_transfer_result_t *r);
/* Settles every queued and in-flight call as abandoned (the run is over). */
void sim_station_abandon_calls(sim_station_t *st);
/* The password the station authenticates with now. */
const char *sim_station_password(const sim_station_t *st);
/* A server call asked to reboot: the station reconnects once its queue is empty. */
void sim_station_reset(sim_station_t *st, bool hard);
/* Reboots for another reason (a firmware install): sessions stop with stop_reason. */
void sim_station_reboot(sim_station_t *st, int stop_reason);
/* Heartbeat interval changed (by the server's answer or configuration). */
void sim_station_set_heartbeat(sim_station_t *st, int seconds);

/* ------------------------------------------------------------ session.c */

/* Connector behaviour: sessions by arrival pattern, meter samples, stops. */
void sim_connector_init(sim_connector_t *k, sim_station_t *st, uint8_t id);
/* The link became ready (boot Accepted): report status, resume sessions. */
void sim_session_link_ready(sim_station_t *st);
/* Starts the arrival process on every connector (sessions, mixed). */
void sim_session_begin_arrivals(sim_station_t *st);
/* Starts a session now on connector k (remote: without Authorize). A
 * reserved connector starts only for the reservation's tag, and uses it up. */
bool sim_session_start(sim_connector_t *k, const char *tag, bool remote);
/* The connector is idle again (or its availability or reservation changed):
 * sets Available, Unavailable or Reserved, reports a change, and restarts
 * arrivals when Available. */
void sim_session_idle(sim_connector_t *k);
/* Whether a session occupies the connector (preparing, charging or finishing). */
bool sim_session_busy(const sim_connector_t *k);
/* Stops the session on connector k with a reason (OCPP 1.6 names it). */
void sim_session_stop(sim_connector_t *k, int reason);
/* Answers for the session's calls (protocol-neutral facts). */
void sim_session_on_authorized(sim_connector_t *k, bool accepted);
void sim_session_on_started(sim_connector_t *k, int64_t tx_id, bool accepted);
void sim_session_on_stopped(sim_connector_t *k);
/* The call for kind on connector k failed (error, timeout, disconnect). */
void sim_session_on_failed(sim_connector_t *k, sim_msg_t kind, sim_outcome_t o);
/* Throughput: keep `inflight` MeterValues in flight on connector 1. */
void sim_session_pump_throughput(sim_station_t *st);
sim_connector_t *sim_session_find_tx(sim_station_t *st, int64_t tx_id);

typedef enum sim_stop_reason {
    SIM_STOP_LOCAL,
    SIM_STOP_REMOTE,
    SIM_STOP_EV_DISCONNECTED,
    SIM_STOP_SOFT_RESET,
    SIM_STOP_HARD_RESET,
    SIM_STOP_UNLOCK, /* UnlockConnector */
    SIM_STOP_REBOOT, /* a reboot of the station's own (firmware install) */
} sim_stop_reason_t;

#endif
