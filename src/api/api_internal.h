/*
 * Shared by the files of api/: the request context, response helpers and the
 * route table. Not for use outside api/.
 */
#ifndef AMPGRID_API_INTERNAL_H
#define AMPGRID_API_INTERNAL_H

#include "api/api.h"

#include <uthash.h>
#include <uv.h>

#define API_MAX_PARAMS 3

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

typedef struct api_sse api_sse_t;

struct api {
    uv_loop_t *loop;
    api_deps_t d;
    api_token_cache_t *tokens;
    api_sse_t *streams;
    uv_timer_t keepalive;
    uint64_t event_seq;
    bool subscribed;          /* to the domain's events: while streams exist, and a while after */
    int64_t streams_gone_at;  /* when the last stream closed */
    /* recent events for Last-Event-ID resumption */
    struct {
        uint64_t id;
        char *frame;
    } ring[1024];
};

typedef struct api_call api_call_t;
typedef void (*api_handler_fn)(api_call_t *call);

struct api_call {
    api_t *api;
    net_req_t *req;          /* NULL once answered or the client went away */
    const struct api_route *route;
    char params[API_MAX_PARAMS][256];
    api_role_t role;
    char token_name[64];
    json_t *body;            /* parsed JSON body, when the route takes one */
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

/* The OpenAPI document, compiled in from docs/openapi.json. */
extern const char api_openapi_doc[];
extern const size_t api_openapi_doc_len;

/* Event stream plumbing (events.c). */
void api_events_init(api_t *a);
void api_events_shutdown(api_t *a);

#endif
