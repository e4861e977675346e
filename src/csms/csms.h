/*
 * The charging network's domain: stations, EVSEs and connectors, id tokens and
 * authorization, transactions and meter samples, and commands sent to
 * stations. It speaks no protocol version and knows no sockets: ocpp/ turns
 * each version's messages into the calls below, api/ calls them for
 * operators, and the live state they keep in memory (who is connected,
 * connector status, active transactions) is the truth the API shows.
 *
 * Durability rule: every function that changes state takes a completion
 * callback that runs after the change has committed in the store. Callers
 * answer their station or client only from that callback.
 *
 * A station's live connection is a "link": an object the protocol layer
 * registers with a table of operations (send a command, rotate a password,
 * close). csms holds the link while the station is connected and never looks
 * inside it.
 *
 * Everything here runs on the event-loop thread.
 */
#ifndef AMPGRID_CSMS_CSMS_H
#define AMPGRID_CSMS_CSMS_H

#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uthash.h>

typedef struct csms csms_t;
typedef struct csms_station csms_station_t;

typedef enum csms_err {
    CSMS_OK = 0,
    CSMS_ERR_NOT_FOUND,
    CSMS_ERR_EXISTS,
    CSMS_ERR_INVALID,     /* bad input; message says why */
    CSMS_ERR_NOT_CONNECTED,
    CSMS_ERR_BUSY,
    CSMS_ERR_STORE,       /* could not be made durable */
} csms_err_t;

typedef struct csms_config {
    int heartbeat_interval;        /* seconds, sent in BootNotification answers */
    int pending_interval;          /* retry interval answered to Pending/Rejected boots */
    bool auto_register;            /* unknown stations are created Pending */
    int auth_fail_limit;           /* failed logins allowed per window per address and per id */
    int auth_fail_window;          /* seconds */
    unsigned long long pw_opslimit; /* argon2id parameters for station passwords */
    size_t pw_memlimit;
} csms_config_t;

/* ------------------------------------------------------------ links */

typedef enum csms_cmd_status {
    CSMS_CMD_OK,             /* the station answered; payload holds its (validated) answer */
    CSMS_CMD_CALLERROR,      /* the station answered with a CALLERROR */
    CSMS_CMD_TIMEOUT,
    CSMS_CMD_DISCONNECTED,   /* the connection went away before an answer */
    CSMS_CMD_BAD_RESPONSE,   /* the answer did not validate */
} csms_cmd_status_t;

typedef struct csms_cmd_result {
    csms_cmd_status_t status;
    const json_t *payload;          /* CSMS_CMD_OK */
    const char *error_code;         /* CALLERROR code, or validation class */
    const char *error_description;
    const json_t *error_details;
} csms_cmd_result_t;

typedef void (*csms_cmd_cb)(void *ctx, const csms_cmd_result_t *r);

typedef struct csms_link_ops {
    /* Validates and queues an OCPP call in the station's own version.
     * Returns 0, or -1 with a message in err when the payload is invalid or
     * the action does not exist for the station's version (nothing is sent).
     * cb runs exactly once when 0 is returned. payload is borrowed. */
    int (*send_call)(void *link, const char *action, const json_t *payload, csms_cmd_cb cb,
                     void *ctx, char *err, size_t err_len);
    /* Sends the new Basic-auth password in the version's own way. */
    int (*send_password)(void *link, const char *password, csms_cmd_cb cb, void *ctx, char *err,
                         size_t err_len);
    /* Closes the connection (e.g. replaced by a newer one, station deleted). */
    void (*close)(void *link, const char *reason);
    /* "ocpp1.6", ... */
    const char *(*protocol)(void *link);
} csms_link_ops_t;

/* ------------------------------------------------------------ stations */

typedef struct csms_connector {
    int evse_id, connector_id;      /* 1.6: connector N = evse N / connector 1; station = 0/0 */
    char *status, *error_code, *info, *vendor_id, *vendor_error_code;
    int64_t timestamp;
} csms_connector_t;

typedef struct csms_boot_info {
    const char *vendor, *model, *serial_number, *charge_box_serial, *firmware_version;
    const char *iccid, *imsi, *meter_type, *meter_serial;
    const char *reason;             /* 2.0.1 boot reason, NULL in 1.6 */
} csms_boot_info_t;

struct csms_station {
    char *id;
    char *password_hash, *password_hash_prev;
    int security_profile;           /* 0 = no authentication (lab use), 1, 2, 3 */
    char *registration_status;      /* Accepted | Pending | Rejected */
    bool auto_registered;
    char *description;
    char *vendor, *model, *serial_number, *charge_box_serial, *firmware_version;
    char *iccid, *imsi, *meter_type, *meter_serial;
    char *protocol, *firmware_status, *diagnostics_status, *rotation_status;
    char *site;                     /* NULL = none */
    json_t *location;               /* {name,address,city,postal_code,country,latitude,
                                     * longitude}, NULL = none */
    json_t *labels;                 /* {"key": "value"}, NULL = none */
    char *location_text, *labels_text; /* the same, as stored */
    int64_t last_boot_at, last_heartbeat_at, created_at, updated_at, connected_at;
    bool boot_accepted;             /* the last boot answer was Accepted */
    csms_connector_t *connectors;   /* sorted by evse, connector */
    size_t nconnectors;
    /* live link */
    void *link;
    const csms_link_ops_t *link_ops;
    char peer[64];
    /* password verification cache: keyed hash of the last verified password */
    unsigned char pw_cache[32];
    bool pw_cache_valid;
    bool heartbeat_dirty;           /* last_heartbeat_at not yet written to the store */
    int64_t heartbeat_stored_at;    /* last_heartbeat_at as last written */
    char *pending_password;         /* rotation in flight */
    UT_hash_handle hh;
};

typedef struct csms_station_spec {
    const char *id;
    const char *password;           /* plain; hashed here; NULL = keep / none */
    int security_profile;           /* -1 = keep/default */
    const char *registration_status; /* NULL = keep/default */
    const char *description;
    /* has_* false = keep; true with NULL = clear */
    bool has_site, has_location, has_labels;
    const char *site;
    const json_t *location, *labels;
} csms_station_spec_t;

/* Creates the domain; loads live state from the store. NULL on load failure. */
csms_t *csms_create(store_t *store, const csms_config_t *cfg, char *err, size_t err_len);
void csms_destroy(csms_t *c);
store_t *csms_store(csms_t *c);
const csms_config_t *csms_config(csms_t *c);

/* Station ids: 1..48 characters from A-Z a-z 0-9 * - _ = + | @ . (no ':'). */
bool csms_station_id_valid(const char *id);
csms_station_t *csms_station_find(csms_t *c, const char *id);
/* Iteration: returns the first/next station (hash order). */
csms_station_t *csms_station_first(csms_t *c);
csms_station_t *csms_station_next(csms_station_t *st);
unsigned csms_station_count(csms_t *c);
unsigned csms_station_connected_count(csms_t *c);

typedef void (*csms_done_cb)(void *ctx, csms_err_t rc, const char *msg);
/* Validates and creates; err describes a validation failure synchronously
 * (return CSMS_ERR_INVALID/EXISTS), otherwise cb runs after commit. */
csms_err_t csms_station_create(csms_t *c, const csms_station_spec_t *spec, csms_done_cb cb,
                               void *ctx, char *err, size_t err_len);
csms_err_t csms_station_update(csms_t *c, const csms_station_spec_t *spec, csms_done_cb cb,
                               void *ctx, char *err, size_t err_len);
csms_err_t csms_station_delete(csms_t *c, const char *id, csms_done_cb cb, void *ctx);
/* Generates a new password, sends it through the link and switches once the
 * station accepts. cb gets the outcome ("Accepted", "Rejected", ...). */
csms_err_t csms_station_rotate_password(csms_t *c, const char *id, csms_done_cb cb, void *ctx,
                                        char *err, size_t err_len);

/* ------------------------------------------------------ authentication */

typedef enum csms_auth {
    CSMS_AUTH_OK,
    CSMS_AUTH_UNKNOWN_STATION,
    CSMS_AUTH_NO_CREDENTIALS,
    CSMS_AUTH_BAD_CREDENTIALS,
    CSMS_AUTH_NEEDS_TLS,          /* security profile 2+ over plain ws */
    CSMS_AUTH_RATE_LIMITED,
    CSMS_AUTH_BAD_ID,
} csms_auth_t;

/* Decides whether a connection for station_id may proceed. Creates a Pending
 * station when auto-registration is on. *retry_after is set when rate limited. */
csms_auth_t csms_authenticate(csms_t *c, const char *station_id, const char *user,
                              const char *pass, bool tls, const char *peer, int *retry_after);

/* ---------------------------------------------------------------- links */

/* Binds a live link to a station; an older link is closed first (the newcomer
 * has authenticated). */
void csms_station_attach(csms_t *c, csms_station_t *st, void *link, const csms_link_ops_t *ops,
                         const char *peer);
/* Unbinds link if it is still the station's current one. */
void csms_station_detach(csms_t *c, const char *station_id, void *link);
/* Whether the station may send requests other than boot (its last boot was Accepted). */
bool csms_station_may_operate(const csms_station_t *st);

/* Sends an operator command through the station's link. Returns CSMS_OK
 * (cb follows), CSMS_ERR_NOT_FOUND, CSMS_ERR_NOT_CONNECTED or CSMS_ERR_INVALID (err set). */
csms_err_t csms_command(csms_t *c, const char *station_id, const char *action,
                        const json_t *payload, csms_cmd_cb cb, void *ctx, char *err,
                        size_t err_len);

/* ------------------------------------------------- station-initiated */

typedef struct csms_boot_result {
    const char *status;             /* Accepted | Pending | Rejected */
    int interval;
    int64_t now;
} csms_boot_result_t;
typedef void (*csms_boot_cb)(void *ctx, csms_err_t rc, const csms_boot_result_t *r);
void csms_boot(csms_t *c, csms_station_t *st, const csms_boot_info_t *info, csms_boot_cb cb,
               void *ctx);
/* A heartbeat changes nothing a station is told was stored: its time is kept
 * in memory (what the API shows) and answered at once; csms_flush_heartbeats
 * writes the times (the server calls it every minute and when it stops). */
void csms_heartbeat(csms_t *c, csms_station_t *st, csms_done_cb cb, void *ctx);
/* A stored heartbeat time is at most this old while the server runs (and exact
 * after a clean stop): rewriting 19,500 stations' times every minute was most
 * of an idle network's writes, and the time matters only after a crash. */
#define CSMS_HEARTBEAT_STORE_MS (5 * 60 * 1000)
/* Queues one store operation with the heartbeat times not yet written: with
 * all, every one; without, those whose stored time is CSMS_HEARTBEAT_STORE_MS
 * or more behind. Returns how many. */
size_t csms_flush_heartbeats(csms_t *c, bool all);

typedef struct csms_status_report {
    int evse_id, connector_id;
    const char *status, *error_code, *info, *vendor_id, *vendor_error_code;
    int64_t timestamp;              /* 0 = now */
} csms_status_report_t;
void csms_status(csms_t *c, csms_station_t *st, const csms_status_report_t *r, csms_done_cb cb,
                 void *ctx);

typedef struct csms_id_token_info {
    const char *status;             /* Accepted | Blocked | Expired | Invalid | ConcurrentTx */
    int64_t expiry;                 /* 0 = none */
    const char *parent_id_token;    /* NULL = none; valid until the next domain call */
    const char *parent_type;        /* the parent's token type, when there is a parent */
    bool known;                     /* the token is in the list (2.0.1 says Unknown, not Invalid) */
} csms_id_token_info_t;
/* Synchronous: authorization state is in memory. */
csms_id_token_info_t csms_authorize(csms_t *c, const char *id_token, bool check_concurrent);
/* The same for a token presented with a type (2.0.1): a token and its type
 * together are the credential, so another type is not the registered token. */
csms_id_token_info_t csms_authorize_typed(csms_t *c, const char *id_token, const char *type,
                                          bool check_concurrent);

typedef struct csms_tx_start {
    int evse_id, connector_id;
    const char *id_token, *id_token_type;
    int64_t meter_start;            /* Wh */
    int64_t timestamp;
    int reservation_id;             /* -1 = none */
    const char *tx_id;              /* station-assigned id (2.0.1); NULL = assign */
} csms_tx_start_t;
typedef struct csms_tx_started {
    int64_t id;                     /* database id (the 1.6 transactionId) */
    csms_id_token_info_t info;
} csms_tx_started_t;
typedef void (*csms_tx_start_cb)(void *ctx, csms_err_t rc, const csms_tx_started_t *r);
void csms_tx_start(csms_t *c, csms_station_t *st, const csms_tx_start_t *t, csms_tx_start_cb cb,
                   void *ctx);

typedef struct csms_tx_stop {
    int64_t id;                     /* database id */
    int64_t meter_stop;
    int64_t timestamp;
    const char *reason, *id_token;
    const store_sample_t *samples;  /* transactionData, may be empty */
    size_t nsamples;
} csms_tx_stop_t;
typedef void (*csms_tx_stop_cb)(void *ctx, csms_err_t rc, bool known);
void csms_tx_stop(csms_t *c, csms_station_t *st, const csms_tx_stop_t *t, csms_tx_stop_cb cb,
                  void *ctx);

/* Stores samples; tx_id 0 = not in a transaction. */
void csms_meter_values(csms_t *c, csms_station_t *st, int evse_id, int connector_id,
                       int64_t tx_id, const store_sample_t *samples, size_t n, csms_done_cb cb,
                       void *ctx);
/* Records a station notification (data transfer, firmware/diagnostics status, ...)
 * in the station's event log and on the event stream. detail is borrowed. */
void csms_station_note(csms_t *c, csms_station_t *st, const char *kind, const json_t *detail,
                       csms_done_cb cb, void *ctx);
/* Firmware and diagnostics/log upload status notifications. request_id is the
 * 2.0.1 requestId (-1 when none was sent), kept in the note's detail. An Idle
 * status (an answer to TriggerMessage) is recorded but does not replace a
 * final status (Installed, ...Failed, Uploaded, ...) on the station. */
void csms_firmware_status(csms_t *c, csms_station_t *st, const char *status, int64_t request_id,
                          csms_done_cb cb, void *ctx);
void csms_diagnostics_status(csms_t *c, csms_station_t *st, const char *status,
                             int64_t request_id, csms_done_cb cb, void *ctx);
/* LogStatusNotification (2.0.1, and 1.6's security extension): the station's
 * diagnostics status as above, the notification kept as sent (kind log_status). */
void csms_log_status(csms_t *c, csms_station_t *st, const json_t *payload, csms_done_cb cb,
                     void *ctx);

/* ------------------------------------------------------------ id tokens */

typedef struct csms_id_token {
    char *id_token, *type, *status, *parent_id_token;
    int64_t expiry, created_at, updated_at;
    UT_hash_handle hh;
} csms_id_token_t;

typedef struct csms_id_token_spec {
    const char *id_token, *type, *status, *parent_id_token;
    int64_t expiry;                 /* 0 = none */
    bool has_type, has_status, has_parent, has_expiry; /* for updates */
} csms_id_token_spec_t;

csms_id_token_t *csms_id_token_find(csms_t *c, const char *id_token);
csms_id_token_t *csms_id_token_first(csms_t *c);
csms_err_t csms_id_token_create(csms_t *c, const csms_id_token_spec_t *spec, csms_done_cb cb,
                                void *ctx, char *err, size_t err_len);
csms_err_t csms_id_token_update(csms_t *c, const csms_id_token_spec_t *spec, csms_done_cb cb,
                                void *ctx, char *err, size_t err_len);
csms_err_t csms_id_token_delete(csms_t *c, const char *id_token, csms_done_cb cb, void *ctx);

/* --------------------------------------------------------- transactions */

typedef struct csms_tx {
    int64_t id;
    char *tx_id, *station_id, *id_token, *id_token_type;
    int evse_id, connector_id;
    int64_t meter_start, started_at, last_energy_wh;
    int64_t last_energy_at, last_soc_at; /* timestamps of the readings tracked */
    double last_soc;
    int reservation_id;
    char *charging_state;           /* 2.0.1 chargingState */
    int *seqs;                      /* 2.0.1 event sequence numbers seen, sorted */
    size_t nseqs, seqs_cap;
    bool started_seen;              /* a Started event was applied (2.0.1) */
    char *key;                      /* "station\x1ftx_id": index for 2.0.1 lookups */
    char *conn_key;                 /* "station\x1fevse\x1fconnector": the connector's latest */
    UT_hash_handle hh, hh_key, hh_conn;
} csms_tx_t;

csms_tx_t *csms_tx_find(csms_t *c, int64_t id);
csms_tx_t *csms_tx_first(csms_t *c);
unsigned csms_tx_active_count(csms_t *c);

/* ------------------------------------------- 2.0.1 transaction events */

typedef enum csms_txe_kind { CSMS_TXE_STARTED, CSMS_TXE_UPDATED, CSMS_TXE_ENDED } csms_txe_kind_t;

/* One transaction event as 2.0.1 sends it; the domain applies it
 * idempotently: a sequence number already seen changes nothing, events may
 * arrive out of order (an Updated or Ended before its Started), and a gap in
 * sequence numbers makes the server ask the station for the transaction's
 * status. */
typedef struct csms_tx_event {
    csms_txe_kind_t kind;
    const char *tx_id;
    int evse_id, connector_id;      /* 0 when the event names none */
    const char *id_token, *id_token_type; /* NULL when absent */
    int64_t timestamp;
    int seq_no;
    bool offline;
    const char *trigger_reason, *charging_state, *stopped_reason;
    int reservation_id;             /* -1 = none */
    const store_sample_t *samples;
    size_t nsamples;
    const json_t *raw;              /* stored with the event (borrowed) */
} csms_tx_event_t;

typedef struct csms_tx_event_result {
    bool duplicate;                 /* seen before: nothing changed */
    int64_t session_id;             /* 0 when unknown */
    csms_id_token_info_t info;      /* when the event carried an id token */
    bool has_info;
} csms_tx_event_result_t;
typedef void (*csms_tx_event_cb)(void *ctx, csms_err_t rc, const csms_tx_event_result_t *r);
void csms_tx_event(csms_t *c, csms_station_t *st, const csms_tx_event_t *ev,
                   csms_tx_event_cb cb, void *ctx);
/* Finds an active transaction by its protocol id on a station. */
csms_tx_t *csms_tx_find_by_txid(csms_t *c, const char *station_id, const char *tx_id);

/* What an EV asked for (2.0.1 NotifyEVChargingNeeds / NotifyEVChargingSchedule):
 * kept in the station's event log, and with the transaction running on that
 * EVSE when there is one (the load manager reads it from there). needs or
 * schedule may be NULL; payload is the whole message for the log. */
void csms_ev_charging_info(csms_t *c, csms_station_t *st, int evse_id, const char *kind,
                           const json_t *payload, const json_t *needs, const json_t *schedule,
                           csms_done_cb cb, void *ctx);

/* ---------------------------------------------------------- device model */

/* Stores a (part of a) device-model report; rows are copied. */
void csms_device_report(csms_t *c, csms_station_t *st, int request_id, int seq_no, bool tbc,
                        const store_variable_t *rows, size_t n, csms_done_cb cb, void *ctx);

/* --------------------------------------------------------------- events */

/* data is borrowed for the duration of the callback. */
typedef void (*csms_event_cb)(void *ud, const char *type, const json_t *data);
void csms_subscribe(csms_t *c, csms_event_cb cb, void *ud);
void csms_unsubscribe(csms_t *c, csms_event_cb cb, void *ud);
/* meter.values as it came in, for subscribers that read numbers from it
 * (alerts, load management): its JSON is built only when a subscriber wants
 * JSON (event streams, webhooks), since it is the most frequent event. */
typedef struct csms_meter_event {
    const char *station_id;
    int evse_id, connector_id;
    int64_t session_id;            /* 0: not in a known session */
    const store_sample_t *samples; /* borrowed for the callback */
    size_t n;
    int64_t time_ms;               /* when it was emitted */
} csms_meter_event_t;
typedef void (*csms_meter_cb)(void *ud, const csms_meter_event_t *m);
/* Like csms_subscribe, except that meter.values reaches meter_cb instead of
 * cb as JSON (and not at all when meter_cb is NULL). Unsubscribe with
 * csms_unsubscribe(c, cb, ud). */
void csms_subscribe_typed(csms_t *c, csms_event_cb cb, csms_meter_cb meter_cb, void *ud);
/* The meter.values event's JSON (the caller owns it): station_id, evse_id,
 * connector_id, session_id (when in one), samples[] and time. */
json_t *csms_meter_event_json(const csms_meter_event_t *m);
/* A copy of m in one allocation (free() it), for keeping it past the callback. */
csms_meter_event_t *csms_meter_event_copy(const csms_meter_event_t *m);
/* Whether anyone listens: callers on hot paths skip building events otherwise. */
bool csms_listening(const csms_t *c);
/* Emits an event (takes ownership of data). */
void csms_emit(csms_t *c, const char *type, json_t *data);

/* JSON views for the API. */
json_t *csms_station_json(const csms_station_t *st);
json_t *csms_id_token_json(const csms_id_token_t *t);

#endif
