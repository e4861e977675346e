/*
 * Fault detection: rules that turn what stations report (and what they fail
 * to report) into alerts an operator can act on.
 *
 * The engine is fed the domain's events (csms_subscribe) and a clock tick. It
 * keeps a little state per station and per connector that has told it
 * something, and a timing wheel for the rules that fire on silence (offline,
 * stuck sessions, connectors unavailable too long), so a tick costs O(due
 * entries), never a scan of the network. A message from a station without an
 * alert costs a hash lookup and a few field updates: no allocation.
 *
 * An alert is identified by its rule, station and connector: while one is
 * open (active or acknowledged), the same condition again bumps its count and
 * last_seen instead of raising another. It resolves by itself when the
 * condition clears (resolved_by "auto") or by hand. Every change goes out
 * through hooks->changed, which the server (alerts_server.h) makes durable and
 * then publishes as alert.raised / alert.updated / alert.acknowledged /
 * alert.resolved; tests give the engine their own hooks and clock.
 *
 * Everything here runs on one thread (the event loop's).
 */
#ifndef AMPGRID_SERVICE_ALERTS_H
#define AMPGRID_SERVICE_ALERTS_H

#include "csms/csms.h"
#include "service/alerts_config.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct alerts alerts_t;

typedef enum alert_state { ALERT_ACTIVE, ALERT_ACKNOWLEDGED, ALERT_RESOLVED } alert_state_t;

typedef enum alerts_err {
    ALERTS_OK = 0,
    ALERTS_ERR_NOT_OPEN, /* no open alert with that id (unknown or resolved) */
    ALERTS_ERR_ACKED,    /* already acknowledged */
} alerts_err_t;

/* An alert as the engine holds it. Strings are owned by the alert. */
typedef struct alert {
    int64_t id;
    alert_rule_t rule;
    alert_severity_t severity;
    char station_id[64];
    int evse_id, connector_id; /* -1/-1: the station as a whole */
    /* What a station-less alert is about when there may be several open at
     * once (campaign_paused: the campaign's id, also details.campaign_id);
     * 0 otherwise. Part of the de-duplication key. */
    int64_t subject_id;
    char *title;
    json_t *details; /* an object */
    alert_state_t state;
    int64_t first_seen, last_seen, count;
    char *acknowledged_by, *ack_note;
    int64_t acknowledged_at;
    char *resolved_by, *resolve_note;
    int64_t resolved_at;
} alert_t;

/* Runs after a change was made durable (ok) or could not be (!ok); alert is
 * the alert's JSON view at the change, valid during the call. */
typedef void (*alerts_done_cb)(void *ctx, bool ok, const json_t *alert);

typedef struct alerts_hooks {
    void *ud;
    int64_t (*now_ms)(void *ud);
    /* A change: type is "alert.raised", "alert.updated", "alert.acknowledged"
     * or "alert.resolved". The alert is valid during the call only (a resolved
     * one is freed after it). done (may be NULL) must run exactly once. */
    void (*changed)(void *ud, const char *type, const alert_t *alert, alerts_done_cb done,
                    void *ctx);
    /* The station's last heartbeat (Unix ms, 0 = never): heartbeats are not
     * events, the domain keeps the time. May be NULL. */
    int64_t (*last_heartbeat)(void *ud, const char *station_id);
} alerts_hooks_t;

/* heartbeat_interval: seconds, as sent to stations (the silence rule's unit). */
alerts_t *alerts_create(const alerts_config_t *cfg, int heartbeat_interval,
                        const alerts_hooks_t *hooks);
void alerts_destroy(alerts_t *a);
const alerts_config_t *alerts_config(const alerts_t *a);

/* ------------------------------------------------------------- feeding */

/* A domain event (csms_event_cb shape); data is borrowed. */
void alerts_on_event(alerts_t *a, const char *type, const json_t *data);
/* meter.values, which arrives typed (csms_subscribe_typed), not as JSON. */
void alerts_on_meter(alerts_t *a, const csms_meter_event_t *m);
/* Runs the timers due by hooks->now_ms. Call about once a second. */
void alerts_tick(alerts_t *a);

/* Start-up, before events flow: an open alert as stored (a row of
 * store_alerts_load_open); the next id to give out; a station known to the
 * domain (seen: it has connected before, so silence from it now counts as
 * offline) with its connectors' last status; an active session. */
void alerts_restore(alerts_t *a, const json_t *row);
void alerts_set_next_id(alerts_t *a, int64_t next_id);
void alerts_seed_station(alerts_t *a, const char *station_id, bool seen);
void alerts_seed_connector(alerts_t *a, const char *station_id, int evse_id, int connector_id,
                           const char *status, int64_t since_ms);
/* register_wh/register_at: the session's last energy reading (its meter start
 * when none came yet); register_wh < 0 = unknown. */
void alerts_seed_session(alerts_t *a, const char *station_id, int evse_id, int connector_id,
                         int64_t session_id, int64_t register_wh, int64_t register_at,
                         bool charging);

/* ------------------------------------------------------------ operators */

const alert_t *alerts_find(const alerts_t *a, int64_t id); /* open alerts only */
/* Acknowledges an open alert; done runs after the change is durable. */
alerts_err_t alerts_acknowledge(alerts_t *a, int64_t id, const char *by, const char *note,
                                alerts_done_cb done, void *ctx);
/* Resolves an open alert by hand (resolved_by = by). */
alerts_err_t alerts_resolve(alerts_t *a, int64_t id, const char *by, const char *note,
                            alerts_done_cb done, void *ctx);

/* For other service modules (spare parts: parts_low_stock): raises or
 * updates the open alert of rule for station_id (NULL: not about a station;
 * one alert network-wide) with this title and details (taken), or clears it
 * automatically. Nothing happens when the engine or the rule is off. */
void alerts_report(alerts_t *a, alert_rule_t rule, const char *station_id, const char *title,
                   json_t *details);
void alerts_withdraw(alerts_t *a, alert_rule_t rule, const char *station_id);

/* Open alerts in a state (active or acknowledged) and of a severity. */
unsigned alerts_open_count(const alerts_t *a, alert_state_t state, alert_severity_t s);
/* {"enabled": bool, "rules": [{rule, enabled, severity, description, thresholds}]} */
json_t *alerts_rules_json(const alerts_t *a);

/* ------------------------------------------------------------ JSON */

const char *alerts_state_name(alert_state_t s);
int alerts_state_parse(const char *s); /* -1 when unknown */
/* The API's view of an alert (times as RFC 3339, connector as an object or null). */
json_t *alerts_json(const alert_t *al);
/* The same view from a stored row (store_alerts.h columns). */
json_t *alerts_row_json(const json_t *row);

#endif
