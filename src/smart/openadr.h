/*
 * An OpenADR 3.0 VEN (virtual end node): the client side of the utility's
 * demand-response server (the VTN), over its REST/JSON API.
 *
 * Every poll_interval seconds it fetches an OAuth2 access token when it
 * needs one (client credentials, RFC 6749 4.4, at token_url or the
 * tokenURL the VTN's GET /auth/server names; or uses a static bearer
 * token), then GET /programs and GET /events?programID=...
 * for each program. Each event's intervals with an IMPORT_CAPACITY_LIMIT
 * payload become demand-response limits, and those with a PRICE payload a
 * price schedule, for the sites mapped from the event's target resources
 * (all mapped sites when the event targets none); they replace whatever
 * the same event gave before, and an event gone from the VTN takes its
 * signals with it. For each event running now it POSTs a report (/reports)
 * with the site's measured usage (from the sessions' meter values) and the
 * applied limit.
 *
 * A failed poll (VTN down, error status, timeout, JSON that is not what the
 * specification describes) changes nothing: the last good signals stay, a
 * line is logged and a counter counts (/metrics). Outbound HTTP goes
 * through net/http_out.c on the server's loop.
 */
#ifndef AMPGRID_SMART_OPENADR_H
#define AMPGRID_SMART_OPENADR_H

#include "smart/signals.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define OPENADR_MAX_SITES 64

/* [openadr] */
typedef struct openadr_config {
    char vtn_url[256];   /* base URL of the VTN's API; "" = the VEN is off */
    char token_url[256]; /* "" = ask GET /auth/server, else <vtn_url>/auth/token */
    char client_id[128], client_secret[256];
    char bearer_token[512]; /* a static token instead of client credentials */
    char ven_name[64];      /* clientName in reports; targets of type VEN_NAME */
    char sites[1024];       /* "RESOURCE:site, RESOURCE2:site2" */
    char currency[8];       /* for PRICE payloads that name none */
    int poll_interval;      /* seconds */
    int timeout;            /* seconds per request */
    bool report;            /* POST usage reports */
} openadr_config_t;

void openadr_config_defaults(openadr_config_t *c);
/* One key of the [openadr] section; -1 with a message when unknown or bad. */
int openadr_config_set(openadr_config_t *c, const char *name, const char *value, char *err,
                       size_t err_len);
int openadr_config_validate(const openadr_config_t *c, char *err, size_t err_len);

/* ------------------------------------------------- the mapping (pure) */

/* ISO 8601 duration ("PT1H", "P1DT30M", "PT0.5S" rounded down) in seconds;
 * P9999Y (the specification's "forever") and other year/month forms give
 * OPENADR_FOREVER. False when not a duration. */
#define OPENADR_FOREVER ((int64_t)10 * 366 * 86400)
bool openadr_duration(const char *s, int64_t *secs);

typedef struct openadr_mapped {
    char event_id[SMART_EXTERNAL_MAX - 40];
    char program_id[128];
    smart_dr_t *dr; /* one per mapped site and limit interval */
    size_t ndr;
    smart_prices_t **prices; /* one per mapped site */
    size_t nprices;
    char (*resources)[SMART_SITE_MAX]; /* the resource of each mapped site, for reports */
    char (*sites)[SMART_SITE_MAX];
    size_t nsites;
} openadr_mapped_t;

/* Maps one event object. 0 with out filled (possibly empty: nothing for
 * us), or -1 with a sentence in err when the event is malformed. */
int openadr_map_event(const json_t *event, const openadr_config_t *cfg, openadr_mapped_t *out,
                      char *err, size_t err_len);
void openadr_mapped_free(openadr_mapped_t *m);

/* ----------------------------------------------------------- the client */

typedef struct openadr openadr_t;
typedef struct uv_loop_s uv_loop_t;

/* NULL when cfg->vtn_url is empty. The first poll starts at once. */
openadr_t *openadr_create(uv_loop_t *loop, csms_t *csms, smart_signals_t *signals,
                          const openadr_config_t *cfg);
/* Cancels requests in flight and stops polling (shutdown). */
void openadr_stop(openadr_t *o);
/* After store_close (signal changes in flight call back until then). */
void openadr_free(openadr_t *o);

typedef struct openadr_stats {
    uint64_t polls_ok, polls_failed;                /* whole poll cycles */
    uint64_t errors_http, errors_json, errors_auth; /* by cause */
    uint64_t reports_sent, reports_failed;
    uint64_t events;      /* events known from the last good poll */
    int64_t last_success; /* unix s, 0 = never */
} openadr_stats_t;
void openadr_get_stats(const openadr_t *o, openadr_stats_t *out);

#endif
