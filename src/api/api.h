/*
 * The operator and integration surface: REST resources under /api/v1
 * (bearer tokens, application/problem+json errors), live events as
 * Server-Sent Events, /metrics and /healthz. main registers api_on_request as
 * net/'s HTTP callback.
 */
#ifndef AMPGRID_API_API_H
#define AMPGRID_API_API_H

#include "api/webhooks.h"
#include "csms/csms.h"
#include "net/net.h"
#include "ocpp/ocpp.h"
#include "service/alerts.h"

typedef struct api api_t;

typedef struct api_deps {
    csms_t *csms;
    store_t *store;
    net_t *net;              /* for connection statistics; may be set after create */
    ocpp_server_t *ocpp;
    int session_lifetime, session_idle; /* seconds */
    int rate_limit, rate_burst;         /* per second per principal; 0 = unlimited */
    bool cookie_secure;
    webhooks_config_t webhooks;         /* 0 fields take the defaults */
    alerts_t *alerts;                   /* fault detection (service/alerts.h); NULL = none */
    /* Maintenance work orders (service/workorders_server.h). NULL = none. */
    struct workorders_server *workorders;
    /* The firmware repository (firmware/firmware_repo.h): campaigns mint station download
     * URLs with firmware_repo_download_url(c->api->d.firmware, ...). NULL = none. */
    struct firmware_repo *firmware;
    struct diagnostics *diagnostics;    /* remote diagnostics (service/diagnostics.h); NULL = none */
    /* Firmware update campaigns (firmware/campaign_server.h). NULL = none. */
    struct campaign_server *campaigns;
    /* Grid signals (smart/signals.h): demand-response events and prices. NULL = none. */
    struct smart_signals *signals;
    struct openadr *openadr;            /* the OpenADR VEN (smart/openadr.h), for /metrics; NULL = off */
    /* Load management (smart/engine.h): capacity trees and allocations. NULL = none. */
    struct smart_engine *smart;
} api_deps_t;

api_t *api_create(uv_loop_t *loop, const api_deps_t *deps);
void api_set_net(api_t *a, net_t *net);
/* Ends event streams; call before net_destroy. */
void api_shutdown(api_t *a);
void api_destroy(api_t *a);

/* net/ HTTP callback (ud = the api_t). */
void api_on_request(void *ud, net_req_t *r);
/* net/ body callback (transfers.c): firmware uploads and stations'
 * diagnostics uploads are written to disk as they arrive. */
int api_on_body(void *ud, net_req_t *r, int64_t *limit, char *msg, size_t msg_len);

#endif
