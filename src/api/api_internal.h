/*
 * Shared by the files of api/: the request context, response helpers and the
 * route table. Not for use outside api/.
 */
#ifndef AMPGRID_API_INTERNAL_H
#define AMPGRID_API_INTERNAL_H

#include "api/api.h"
#include "util/strbuf.h"

#include <uthash.h>
#include <uv.h>

#define API_MAX_PARAMS 3
#define API_SESSION_COOKIE "ampgrid_session" /* 15 characters */

typedef enum api_role {
    ROLE_NONE,
    ROLE_VIEWER,      /* reads everything but users, API tokens and the audit log */
    ROLE_INTEGRATION, /* reads stations, sessions, analytics, events; manages webhooks */
    ROLE_TECHNICIAN,  /* stations, commands, maintenance */
    ROLE_OPERATOR,    /* stations, commands, id tokens, sessions */
    ROLE_ADMIN,       /* everything, including users, API tokens and the audit log */
    ROLE_COUNT_
} api_role_t;

/* Who may call a route: a set of roles. The names are what the route table,
 * the OpenAPI document (x-roles) and its test agree on. */
#define ROLE_BIT(r) (1u << (r))
#define ALLOW_PUBLIC 0u /* no credentials at all */
#define ALLOW_READ                                                                             \
    (ROLE_BIT(ROLE_VIEWER) | ROLE_BIT(ROLE_INTEGRATION) | ROLE_BIT(ROLE_TECHNICIAN) |          \
     ROLE_BIT(ROLE_OPERATOR) | ROLE_BIT(ROLE_ADMIN))
#define ALLOW_READ_PRIVATE                                                                     \
    (ROLE_BIT(ROLE_VIEWER) | ROLE_BIT(ROLE_TECHNICIAN) | ROLE_BIT(ROLE_OPERATOR) |             \
     ROLE_BIT(ROLE_ADMIN))
#define ALLOW_STATIONS (ROLE_BIT(ROLE_TECHNICIAN) | ROLE_BIT(ROLE_OPERATOR) | ROLE_BIT(ROLE_ADMIN))
#define ALLOW_MAINTENANCE ALLOW_STATIONS
#define ALLOW_OPERATE (ROLE_BIT(ROLE_OPERATOR) | ROLE_BIT(ROLE_ADMIN))
#define ALLOW_WEBHOOKS (ROLE_BIT(ROLE_INTEGRATION) | ROLE_BIT(ROLE_ADMIN))
#define ALLOW_ADMIN ROLE_BIT(ROLE_ADMIN)
/* building-meter readings: pushed by integrations as well as operators */
#define ALLOW_METER (ROLE_BIT(ROLE_INTEGRATION) | ROLE_BIT(ROLE_OPERATOR) | ROLE_BIT(ROLE_ADMIN))
typedef unsigned api_allow_t;

const char *api_role_name(api_role_t r);
api_role_t api_role_parse(const char *s); /* ROLE_NONE when unknown */

typedef struct api_token_cache {
    char digest[65];
    api_role_t role;
    char name[64];
    int64_t expires_at, cached_at;
    UT_hash_handle hh;
} api_token_cache_t;

/* A dashboard login session, cached by the digest of its cookie. */
typedef struct api_session_cache {
    char digest[65];
    int64_t user_id;
    char username[64];
    api_role_t role;
    char csrf[65];
    int64_t expires_at, last_seen, touched_at, cached_at;
    UT_hash_handle hh;
} api_session_cache_t;

/* A token bucket per principal ("t:<digest>" or "u:<username>"). */
typedef struct api_bucket {
    char key[80];
    double tokens;
    int64_t at_ms;
    UT_hash_handle hh;
} api_bucket_t;

typedef struct api_sse api_sse_t;
typedef struct api_webhooks api_webhooks_t;
typedef struct api_audit_entry api_audit_entry_t;

struct api {
    uv_loop_t *loop;
    api_deps_t d;
    api_token_cache_t *tokens;
    api_session_cache_t *sessions;
    api_bucket_t *buckets;
    api_sse_t *streams;
    api_webhooks_t *webhooks; /* webhooks.c */
    uv_timer_t keepalive;
    uint64_t event_seq;
    uint64_t gap_before;      /* ids below it may have gone unrecorded (0 = none) */
    uint64_t recorded;        /* events put in the ring since start */
    bool subscribed;          /* to the domain's events: while streams exist, and a while after */
    int64_t streams_gone_at;  /* when the last stream closed */
    strbuf_t frame_scratch;   /* events.c builds each frame here, then copies it out */
    /* recent events for Last-Event-ID resumption, kept as the SSE frame
     * ("id: ..\nevent: ..\ndata: ..\n\n"): a JSON tree per event cost ~0.7 KiB,
     * the text ~0.2 (8192 of them are a fixed cost of every busy server) */
    struct {
        uint64_t id;
        char type[48];
        char *station;  /* the event's station_id, for ?station=, or NULL */
        csms_meter_event_t *meter; /* meter.values kept as it came (one block), its
                                    * frame made only when a stream sends it */
        char *frame;    /* NULL for meter.values until needed */
        size_t frame_len;
    } ring[8192];
};

typedef struct api_call api_call_t;
typedef void (*api_handler_fn)(api_call_t *call);

struct api_call {
    api_t *api;
    net_req_t *req;          /* NULL once answered or the client went away */
    const struct api_route *route;
    char params[API_MAX_PARAMS][256];
    api_role_t role;
    char token_name[64];     /* the token's name, or the user's name */
    const char *actor_kind;  /* "token" or "user"; NULL before authentication */
    int64_t user_id;         /* when actor_kind is "user" */
    char credential[65];     /* digest of the bearer token or session cookie */
    json_t *body;            /* parsed JSON body, when the route takes one */
    api_audit_entry_t *audit; /* set by api_audit: recorded when the answer is a 2xx */
    json_t *before;          /* a resource as it was before the change, for the audit */
};

typedef struct api_route {
    const char *method;
    const char *pattern;     /* "/api/v1/stations/{}" */
    api_handler_fn fn;
    api_allow_t allow;
    bool json_body;
} api_route_t;

extern const api_route_t api_routes[];

/* Responses: each ends the call (frees it). */
void api_json(api_call_t *call, int status, json_t *body); /* steals body */
void api_problem(api_call_t *call, int status, const char *title, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* body.c: checks every JSON resource handler needs; each answers the problem
 * itself and returns false. */
const char *api_actor(const api_call_t *c);         /* token or user name, else "anonymous" */
bool api_parse_id(const char *s, int64_t *id);      /* a positive decimal id */
bool api_path_id(api_call_t *c, const char *what, int64_t *id); /* {id}; 404 "no <what> <id>" */
bool api_body_only(api_call_t *c, const char *const *allowed);  /* NULL-terminated; 400 */
/* A string field: absent (leaves *out), null when nullable (*out = NULL), or
 * 1..max characters without NUL; 400 otherwise. */
bool api_body_str(api_call_t *c, const char *key, size_t max, bool nullable, const char **out);
void api_no_content(api_call_t *call);
/* For handlers answering later: returns false (and frees the call) when the
 * client has gone away. Registers the close hook on first use. */
void api_hold(api_call_t *call);
bool api_alive(api_call_t *call);
void api_call_free(api_call_t *call);

/* Maps a domain error to an HTTP answer. */
void api_csms_error(api_call_t *call, csms_err_t e, const char *msg);

/* Audit (audit.c): marks the call as a change to record. When the handler
 * answers with a 2xx, the entry (who, from where, action, target, before and
 * after, the status) is made durable before the answer is sent. before/after
 * are copied; either may be NULL. action is "<thing>.<verb>", e.g.
 * "webhook.create"; target_type is the resource kind ("webhook"). */
void api_audit(api_call_t *c, const char *action, const char *target_type,
               const char *target_id, const json_t *before, const json_t *after);
/* Called by the response path: when the call has an audit entry and status
 * is a 2xx, stores it and sends the response after the commit (returns true:
 * the call is taken over). Otherwise returns false. */
bool api_audit_respond(api_call_t *c, int status, const char *ctype, const char *body,
                       size_t len, const char *extra);
void api_audit_free(api_audit_entry_t *e);
/* GET /api/v1/audit-log */
void api_audit_list(api_call_t *c);

/* Sessions and users (users.c). */
void api_auth_login(api_call_t *c);
void api_auth_logout(api_call_t *c);
void api_auth_me(api_call_t *c);
void api_auth_password(api_call_t *c);
void api_users_list(api_call_t *c);
void api_users_create(api_call_t *c);
void api_users_get(api_call_t *c);
void api_users_patch(api_call_t *c);
void api_users_delete(api_call_t *c);
void api_api_tokens_list(api_call_t *c);
void api_api_tokens_create(api_call_t *c);
void api_api_tokens_delete(api_call_t *c);
/* Drops cached credentials so a change takes effect at once. */
void api_forget_user(api_t *a, int64_t user_id);
void api_forget_session(api_t *a, const char *digest);
void api_forget_token(api_t *a, const char *digest);

/* Sorting and cursor paging of lists: see lists.h. */
/* ?limit=: default def, 1..max, or answers 400 and returns -1. */
int api_limit(api_call_t *c, int def, int max);
/* RFC 3339 query parameter: 0 when absent; false after answering 400. */
bool api_query_time(api_call_t *c, const char *name, int64_t *out);
/* Converts Unix-ms fields of obj to RFC 3339 strings (null when 0/null). */
void api_json_times(json_t *obj, const char *const *keys);

/* Query helpers. */
const char *api_query(api_call_t *call, const char *name);

/* Route handlers. */
void api_stations_list(api_call_t *c);
void api_stations_create(api_call_t *c);
void api_stations_get(api_call_t *c);
void api_stations_patch(api_call_t *c);
void api_stations_delete(api_call_t *c);
void api_stations_rotate(api_call_t *c);
void api_stations_status_history(api_call_t *c);
void api_stations_events(api_call_t *c);
void api_commands_send(api_call_t *c);
void api_variables_list(api_call_t *c);
void api_variables_set(api_call_t *c);
void api_tokens_list(api_call_t *c);
void api_tokens_create(api_call_t *c);
void api_tokens_get(api_call_t *c);
void api_tokens_patch(api_call_t *c);
void api_tokens_delete(api_call_t *c);
void api_sessions_list(api_call_t *c);
void api_sessions_get(api_call_t *c);
void api_events_stream(api_call_t *c);
void api_metrics(api_call_t *c);
void api_healthz(api_call_t *c);
void api_openapi(api_call_t *c);
/* analytics.c: analytics, CSV exports, the public availability endpoint */
void api_analytics_energy(api_call_t *c);
void api_analytics_utilization(api_call_t *c);
void api_analytics_sessions_by_hour(api_call_t *c);
void api_analytics_summary(api_call_t *c);
void api_export_sessions_csv(api_call_t *c);
void api_export_meter_values_csv(api_call_t *c);
void api_public_locations(api_call_t *c);

/* uptime.c: NEVI uptime reports, outages, exclusions, the quarterly report */
void api_uptime_report(api_call_t *c);
void api_uptime_outages(api_call_t *c);
void api_uptime_exclusions_list(api_call_t *c);
void api_uptime_exclusions_create(api_call_t *c);
void api_uptime_exclusions_get(api_call_t *c);
void api_uptime_exclusions_patch(api_call_t *c);
void api_uptime_exclusions_delete(api_call_t *c);
void api_nevi_quarterly(api_call_t *c);
void api_nevi_quarterly_csv(api_call_t *c);

/* alerts.c: fault-detection alerts (service/alerts.h) */
void api_alerts_list(api_call_t *c);
void api_alerts_get(api_call_t *c);
void api_alerts_acknowledge(api_call_t *c);
void api_alerts_resolve(api_call_t *c);
void api_alert_rules(api_call_t *c);
/* workorders.c: maintenance work orders (service/workorders_server.h) */
void api_workorders_list(api_call_t *c);
void api_workorders_create(api_call_t *c);
void api_workorders_get(api_call_t *c);
void api_workorders_patch(api_call_t *c);
void api_workorders_note(api_call_t *c);
void api_workorders_time(api_call_t *c);
void api_workorders_use_part(api_call_t *c);
void api_workorders_attach(api_call_t *c);
void api_workorders_attachment(api_call_t *c);
/* parts.c: spare parts, depots, stock */
void api_parts_list(api_call_t *c);
void api_parts_create(api_call_t *c);
void api_parts_get(api_call_t *c);
void api_parts_patch(api_call_t *c);
void api_depots_list(api_call_t *c);
void api_depots_create(api_call_t *c);
void api_depots_get(api_call_t *c);
void api_depots_patch(api_call_t *c);
void api_stock_list(api_call_t *c);
void api_stock_adjust(api_call_t *c);
/* maintenance.c: preventive maintenance plans, maintenance windows */
void api_plans_list(api_call_t *c);
void api_plans_create(api_call_t *c);
void api_plans_get(api_call_t *c);
void api_plans_patch(api_call_t *c);
void api_plans_delete(api_call_t *c);
void api_windows_list(api_call_t *c);
void api_windows_create(api_call_t *c);
void api_windows_get(api_call_t *c);
void api_windows_delete(api_call_t *c);

/* Appends the open-alert gauges to a /metrics answer (a strbuf_t). */
struct strbuf;
void api_alerts_metrics(api_t *a, struct strbuf *b);

/* demand_response.c: demand-response events and price schedules (smart/signals.h) */
void api_dr_events_list(api_call_t *c);
void api_dr_events_create(api_call_t *c);
void api_dr_events_get(api_call_t *c);
void api_dr_events_patch(api_call_t *c);
void api_dr_events_delete(api_call_t *c);
void api_prices_list(api_call_t *c);
void api_prices_create(api_call_t *c);
void api_prices_get(api_call_t *c);
void api_prices_patch(api_call_t *c);
void api_prices_delete(api_call_t *c);
/* Appends demand-response and OpenADR VEN figures to a /metrics answer (a strbuf_t). */
void api_signals_metrics(api_t *a, struct strbuf *b);

/* campaigns.c: firmware update campaigns (firmware/campaign_server.h) */
void api_campaigns_list(api_call_t *c);
void api_campaigns_create(api_call_t *c);
void api_campaigns_get(api_call_t *c);
void api_campaigns_patch(api_call_t *c);
void api_campaigns_stations(api_call_t *c);
void api_campaigns_start(api_call_t *c);
void api_campaigns_pause(api_call_t *c);
void api_campaigns_resume(api_call_t *c);
void api_campaigns_cancel(api_call_t *c);
void api_campaigns_promote(api_call_t *c);
void api_campaigns_retry(api_call_t *c);

/* smart.c: load management (smart/engine.h) */
void api_sites_list(api_call_t *c);
void api_site_capacity_get(api_call_t *c);
void api_site_capacity_put(api_call_t *c);
void api_site_capacity_delete(api_call_t *c);
void api_site_allocation(api_call_t *c);
void api_site_allocation_history(api_call_t *c);
void api_site_verify(api_call_t *c);
void api_site_node_load(api_call_t *c);
void api_session_needs_get(api_call_t *c);
void api_session_needs_put(api_call_t *c);

/* transfers.c: the station-facing /transfers/ URLs (firmware downloads,
 * diagnostics uploads); answers every request under /transfers/. */
void api_transfers_request(api_t *a, net_req_t *r);
/* firmware.c: the firmware repository */
void api_firmware_upload(api_call_t *c);
void api_firmware_list(api_call_t *c);
void api_firmware_get(api_call_t *c);
void api_firmware_patch(api_call_t *c);
void api_firmware_delete(api_call_t *c);
void api_firmware_file(api_call_t *c);
/* diagnostics.c: remote diagnostics requests and their files */
void api_diagnostics_request(api_call_t *c);
void api_diagnostics_list(api_call_t *c);
void api_diagnostics_get(api_call_t *c);
void api_diagnostics_file(api_call_t *c);

/* The OpenAPI document, compiled in from docs/openapi.json. */
extern const char api_openapi_doc[];
extern const size_t api_openapi_doc_len;

/* The dashboard's files (dashboard.c), compiled in from web/ by
 * cmake/embed_web.cmake; the table ends with a NULL path. */
typedef struct api_web_file {
    const char *path;         /* "/index.html", "/app/main.js", "/vendor/htm@3.1.1/..." */
    const char *content_type;
    const unsigned char *data;
    size_t len;
    const char *etag;         /* quoted, from the content's SHA-256 */
    bool immutable;           /* versioned vendor file: cache for a year */
} api_web_file_t;
extern const api_web_file_t api_web_files[];

/* Answers a request for the dashboard (every path but /api/, /healthz and
 * /metrics) and returns true; returns false, leaving r alone, otherwise. */
bool api_dashboard_request(api_t *a, net_req_t *r);

/* Event stream plumbing (events.c). */
void api_events_init(api_t *a);
void api_events_shutdown(api_t *a);

/* Outbound webhooks (webhooks.c): the delivery engine and its routes. */
void api_webhooks_init(api_t *a, const webhooks_config_t *cfg);
void api_webhooks_shutdown(api_t *a); /* cancels attempts in flight; before the store closes */
void api_webhooks_free(api_t *a);
void api_webhooks_list(api_call_t *c);
void api_webhooks_create(api_call_t *c);
void api_webhooks_get(api_call_t *c);
void api_webhooks_patch(api_call_t *c);
void api_webhooks_delete(api_call_t *c);
void api_webhooks_rotate_secret(api_call_t *c);
void api_webhooks_test(api_call_t *c);
void api_webhooks_deliveries(api_call_t *c);
void api_webhooks_delivery_get(api_call_t *c);
void api_webhooks_redeliver(api_call_t *c);
/* Delivery counters for /metrics: since start, except pending (unfinished
 * deliveries in the store now). */
typedef struct api_webhook_stats {
    uint64_t succeeded; /* answered 2xx */
    uint64_t failed;    /* given up after max_attempts */
    uint64_t retried;   /* attempts that failed and were scheduled again */
    int64_t pending;    /* waiting for an attempt, or being sent */
} api_webhook_stats_t;
void api_webhooks_stats(const api_t *a, api_webhook_stats_t *out);

#endif
