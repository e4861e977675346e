/*
 * The engine's private state, shared by alerts.c (alerts and their life
 * cycle) and alerts_rules.c (what raises and clears them). Not for use
 * outside service/alerts*.c.
 */
#ifndef AMPGRID_SERVICE_ALERTS_INTERNAL_H
#define AMPGRID_SERVICE_ALERTS_INTERNAL_H

#include "service/alerts.h"
#include "util/timewheel.h"

#include <uthash.h>

#define ALERT_BIT(r) (1u << (r))

/* What the engine knows of one connector (evse_id 0: the station itself, as
 * 1.6 reports it on connector 0). Made on its first report, kept until the
 * station is deleted. */
typedef struct watch_conn {
    struct watch_conn *next;
    struct watch_station *st;
    int evse_id, connector_id;
    unsigned open;   /* ALERT_BIT of each rule with an open alert here */
    char status[24]; /* the last current status report */
    int64_t unavailable_since;
    timewheel_entry_t unavailable_te;
    int failed_in_a_row;
    /* the session running here; 0 = none */
    int64_t session_id;
    bool charging;
    int64_t charging_since, last_meter_ms;
    timewheel_entry_t stuck_te;
    bool has_register;
    double register_wh;  /* the last energy register reading ... */
    int64_t register_at; /* ... and its sample time */
} watch_conn_t;

/* What the engine knows of one station. */
typedef struct watch_station {
    alerts_t *a;
    char id[64];
    unsigned open; /* station-wide rules with an open alert */
    bool connected;
    int64_t last_rx_ms; /* the last event from the station */
    int64_t disconnected_at;
    timewheel_entry_t live_te;         /* offline (disconnected) or silence (connected) check */
    int64_t boots[ALERTS_MAX_REBOOTS]; /* accepted boots, a ring */
    int nboots, boot_next;
    timewheel_entry_t boot_te; /* clears reboot_loop after a quiet window */
    watch_conn_t *conns;
    UT_hash_handle hh;
} watch_station_t;

/* An alert and its indexes. */
typedef struct alert_node {
    alert_t al;
    char key[160];        /* rule, station, evse, connector, subject */
    UT_hash_handle hh;    /* by key */
    UT_hash_handle hh_id; /* by id */
} alert_node_t;

struct alerts {
    alerts_config_t cfg;
    int heartbeat_interval;
    alerts_hooks_t hooks;
    timewheel_t wheel;
    watch_station_t *stations; /* by id */
    alert_node_t *by_key, *by_id;
    int64_t next_id;
    unsigned open_count[2][ALERT_SEVERITY_COUNT_]; /* [active|acknowledged][severity] */
};

int64_t alerts_now(alerts_t *a);
uint64_t alerts_now_s(alerts_t *a);

/* Stations and connectors (alerts_rules.c). */
watch_station_t *alerts_watch_station(alerts_t *a, const char *id, bool create);
watch_conn_t *alerts_watch_conn(watch_station_t *st, int evse_id, int connector_id, bool create);
void alerts_watch_free(alerts_t *a, watch_station_t *st);

/* The life cycle (alerts.c). evse_id < 1 means the station as a whole.
 * alerts_raise takes ownership of details and returns the open alert;
 * bump=false leaves an open alert as it is (a continuing condition, not a new
 * report). alerts_clear resolves an open alert automatically (true when there
 * was one). */
typedef struct alert_spec {
    alert_rule_t rule;
    alert_severity_t severity;
    const char *station_id;
    int evse_id, connector_id;
    int64_t subject_id; /* alert_t.subject_id */
    const char *title;
    json_t *details;
    bool bump;
} alert_spec_t;
alert_t *alerts_raise(alerts_t *a, const alert_spec_t *spec);
bool alerts_clear(alerts_t *a, alert_rule_t rule, const char *station_id, int evse_id,
                  int connector_id);
/* Resolves the open station-less alert of rule about subject_id. */
bool alerts_clear_subject(alerts_t *a, alert_rule_t rule, int64_t subject_id);
/* Resolves every open alert of a station (it was deleted). */
void alerts_clear_station(alerts_t *a, const char *station_id);

#endif
