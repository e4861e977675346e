/*
 * The rows of station file transfers (migration 7): firmware_images, the
 * firmware repository's images, and diagnostics_requests, the diagnostics
 * and log uploads stations were asked for. The files themselves live on disk
 * (firmware/firmware_repo.c, service/diagnostics.c); a row is written only
 * after its file is durable.
 *
 * Times are Unix milliseconds. Results are row objects named by column.
 */
#ifndef AMPGRID_STORE_STORE_FILES_H
#define AMPGRID_STORE_STORE_FILES_H

#include "store/store.h"
#include "store/store_page.h"

/* ------------------------------------------------------------ firmware */

typedef struct store_firmware_new {
    const char *version, *vendor, *filename, *sha256, *created_by;
    const char *models_json; /* a JSON array of strings as text, or NULL */
    int64_t size, created_at;
} store_firmware_new_t;

/* cb gets the new row. */
void store_firmware_insert(store_t *s, const store_firmware_new_t *f, store_json_cb cb,
                           void *ctx);
/* cb gets the row (deleted ones too), or STORE_ERR_NOT_FOUND. */
void store_firmware_get(store_t *s, int64_t id, store_json_cb cb, void *ctx);
/* A page of images, not deleted, newest first by default; vendor, version
 * and model (one of models) filter when not NULL. */
void store_firmware_list(store_t *s, const char *vendor, const char *version, const char *model,
                         const store_page_t *p, store_json_cb cb, void *ctx);
/* Sets the members of fields that are columns one may change (version,
 * vendor, models (text), filename, signing_certificate, signature); cb gets
 * the row after. STORE_ERR_NOT_FOUND for a missing or deleted image. fields
 * is borrowed. */
void store_firmware_update(store_t *s, int64_t id, const json_t *fields, store_json_cb cb,
                           void *ctx);
/* Marks the image deleted. STORE_ERR_CONFLICT while a firmware campaign
 * (table firmware_campaigns, when it exists) references it; cb gets
 * {"sha256": ..., "still_used": n}: how many other live images share its file. */
void store_firmware_delete(store_t *s, int64_t id, int64_t now, store_json_cb cb, void *ctx);

/* --------------------------------------------------------- diagnostics */

typedef struct store_diag_new {
    const char *station_id, *protocol, *requested_by;
    int64_t requested_at, start_time, stop_time; /* 0 = not given */
    int retries;                                 /* -1 = not given */
} store_diag_new_t;

void store_diag_insert(store_t *s, const store_diag_new_t *d, store_json_cb cb, void *ctx);
void store_diag_get(store_t *s, int64_t id, store_json_cb cb, void *ctx);
void store_diag_list(store_t *s, const char *station_id, const char *status,
                     const store_page_t *p, store_json_cb cb, void *ctx);
/* A status change: of request id, or (id 0) of the station's newest request
 * of the protocol that is not final yet. Final requests keep their status.
 * detail is the station's own word. completed: set completed_at. cb gets the
 * row after, or STORE_ERR_NOT_FOUND when no request matched. */
void store_diag_status(store_t *s, int64_t id, const char *station_id, const char *protocol,
                       const char *status, const char *detail, bool completed, int64_t now,
                       store_json_cb cb, void *ctx);
/* The upload arrived: records the file and uses up the token. Only once:
 * STORE_ERR_CONFLICT when the token was used already. cb gets the row. */
void store_diag_uploaded(store_t *s, int64_t id, const char *file_name, int64_t size,
                         const char *sha256, int64_t now, store_json_cb cb, void *ctx);
/* Claims the request's upload slot before the file is written (token_used
 * 0 -> 2); STORE_ERR_CONFLICT when already claimed or used. Released (back
 * to 0) by store_diag_release when the upload fails. */
void store_diag_claim(store_t *s, int64_t id, store_json_cb cb, void *ctx);
void store_diag_release(store_t *s, int64_t id, store_json_cb cb, void *ctx);
/* Ends every request that is not final and has not changed since
 * silent_since (Unix ms), unless its upload is being written (claimed):
 * timed_out, its link no longer accepted (store_diag_claim refuses it), or
 * uploaded when the file came but the station never said so. cb gets the
 * changed rows (an array, maybe empty). */
void store_diag_time_out(store_t *s, int64_t now, int64_t silent_since, store_json_cb cb,
                         void *ctx);
/* At start-up (before store_start): releases every claim a crash left. */
int store_diag_release_all_sync(store_t *s);

#endif
