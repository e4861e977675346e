/*
 * Log uploads as a simulated station performs them (OCPP 1.6 GetDiagnostics,
 * 2.0.1 GetLog): answer with the file's name, write a small log of the
 * station's state, and upload it with HTTP PUT (a multipart POST when the
 * receiver answers 405) to the URL given:
 *
 *   Uploading -(2xx)-> Uploaded
 *   a failed upload: Uploading again after retryInterval while retries
 *   last, then UploadFailed (2.0.1: UploadFailure); a URL that is not
 *   loopback: UploadFailed at once, nothing sent
 *
 * The URL is the file's URL, or a directory when it ends with '/' (the file
 * name is appended). 1.6 reports DiagnosticsStatusNotification, 2.0.1
 * LogStatusNotification with the requestId.
 */
#ifndef AMPGRID_SIM_DIAGNOSTICS_H
#define AMPGRID_SIM_DIAGNOSTICS_H

#include "sim/sim.h"

typedef enum sim_log_status {
    SIM_LOG_IDLE,
    SIM_LOG_UPLOADING,
    SIM_LOG_UPLOADED,
    SIM_LOG_UPLOAD_FAILED,
    SIM_LOG_STATUS_COUNT
} sim_log_status_t;

/* A GetDiagnostics or GetLog request, version-neutral. */
typedef struct sim_log_request {
    const char *location;
    const char *log_type;         /* 2.0.1 DiagnosticsLog or SecurityLog; NULL = diagnostics */
    int retries;                  /* -1 = not given */
    int retry_interval_s;         /* 0 = not given */
    int64_t oldest_ms, latest_ms; /* 0 = not given; written in the log's header */
    bool has_request_id;
    int32_t request_id;
} sim_log_request_t;

/* Starts an upload; file_name gets the name of the file (the answer).
 * Returns true when an upload in progress was cancelled for this one. */
bool sim_diagnostics_request(sim_station_t *st, const sim_log_request_t *r, char *file_name,
                             size_t len);
void sim_diagnostics_on_transfer(sim_station_t *st, const sim_transfer_result_t *r);
/* TriggerMessage: queues the current status (Idle when nothing is in progress). */
void sim_diagnostics_trigger(sim_station_t *st);
sim_log_status_t sim_diagnostics_status(const sim_station_t *st);
/* The log file the station would upload now (for the tests): caller frees. */
char *sim_diagnostics_log_text(const sim_station_t *st, const sim_log_request_t *r, size_t *len);
void sim_diagnostics_free(sim_station_t *st);

#endif
