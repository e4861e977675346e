/*
 * Remote diagnostics: asking a station for its diagnostics (OCPP 1.6
 * GetDiagnostics) or log (2.0.1 GetLog, logType DiagnosticsLog) with an
 * upload location this server hosts, and following the request to its end.
 *
 * A request is a diagnostics_requests row (store/store_files.h), created
 * before the station hears of it; its upload URL carries a one-time token
 * (firmware/file_tokens.h) bound to the row and the station. The station's
 * DiagnosticsStatusNotification / LogStatusNotification (csms's
 * station.notification events, kinds diagnostics_status and log_status) move
 * the row on:
 * pending -> accepted -> uploading -> uploaded | failed (or rejected at
 * once). A request that hears nothing (no status, no upload) for
 * cfg.timeout seconds becomes timed_out, and its upload link is refused
 * from then on. Every change is published as a diagnostics.updated event
 * after it is stored. The upload itself arrives through api/transfers.c.
 */
#ifndef AMPGRID_SERVICE_DIAGNOSTICS_H
#define AMPGRID_SERVICE_DIAGNOSTICS_H

#include "csms/csms.h"
#include "firmware/file_tokens.h"

#include <jansson.h>
#include <stdint.h>

typedef struct diagnostics diagnostics_t;
typedef struct uv_loop_s uv_loop_t;

typedef struct diagnostics_config {
    const char *base_url;        /* station-facing, e.g. http://10.0.0.5:8080 */
    const char *dir;             /* uploads go to <dir>/diagnostics/<id> */
    int token_ttl;               /* seconds an upload link stays valid */
    int timeout;                 /* s without a change before a request is timed_out */
    const file_tokens_t *tokens; /* borrowed */
} diagnostics_config_t;

typedef struct diagnostics_ask {
    const char *station_id, *requested_by;
    int64_t start_time, stop_time; /* Unix ms, 0 = not given */
    int retries, retry_interval;   /* -1 = not given */
} diagnostics_ask_t;

/* The end of diagnostics_request: status 201 with the request's JSON view
 * (after the station's answer is stored), or an HTTP error status with a
 * message. row is borrowed. */
typedef void (*diagnostics_cb)(void *ctx, int status, const char *msg, const json_t *row);

diagnostics_t *diagnostics_create(uv_loop_t *loop, csms_t *csms, store_t *store,
                                  const diagnostics_config_t *cfg, char *err, size_t err_len);
/* Stops following station events (before the store closes). */
void diagnostics_stop(diagnostics_t *d);
void diagnostics_free(diagnostics_t *d);
const diagnostics_config_t *diagnostics_config(const diagnostics_t *d);

/* Creates the request and sends it to the (connected) station. Returns 0 and
 * calls cb later, or answers at once through the return value: an HTTP
 * status (404 unknown station, 409 not connected) with err set. */
int diagnostics_request(diagnostics_t *d, const diagnostics_ask_t *ask, diagnostics_cb cb,
                        void *ctx, char *err, size_t err_len);

/* <dir>/diagnostics/<id> */
void diagnostics_file_path(const diagnostics_t *d, int64_t id, char *out, size_t out_len);
/* The upload URL for request id of station_id. -1 when it does not fit. */
int diagnostics_upload_url(const diagnostics_t *d, int64_t id, const char *station_id, char *out,
                           size_t out_len);
/* A stored row as the API shows it (times in RFC 3339); a new reference. */
json_t *diagnostics_view(const json_t *row);
/* Publishes diagnostics.updated for a stored row. */
void diagnostics_publish(diagnostics_t *d, const json_t *row);

#endif
