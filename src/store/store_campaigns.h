/*
 * Firmware campaigns on disk (schema 10, on the generic SQL operation of
 * store_sql.c): firmware_campaigns holds each campaign with its target and
 * settings as JSON text; firmware_campaign_stations each target station's
 * progress, one row per station, rewritten whole on every change. Rows come
 * back as JSON in the tables' column names, times as Unix milliseconds.
 *
 * Campaign columns: id, name, image_id, target, settings, state,
 * paused_reason, promoted, base_failures, base_attempts, created_by,
 * created_at, started_at, finished_at, updated_at.
 * Station columns: campaign_id, station_id, position, state, attempts,
 * failures, request_id, error, last_status, state_at, started_at,
 * finished_at, updated_at.
 */
#ifndef AMPGRID_STORE_STORE_CAMPAIGNS_H
#define AMPGRID_STORE_STORE_CAMPAIGNS_H

#include "store/store.h"
#include "store/store_page.h"

/* What changes on a campaign once it runs. */
typedef struct store_campaign_run {
    int64_t id;
    const char *state, *paused_reason; /* paused_reason NULL = none */
    bool promoted;
    int64_t base_failures, base_attempts;
    int64_t started_at, finished_at; /* 0 = not */
    int64_t updated_at;
} store_campaign_run_t;

typedef struct store_campaign_station {
    int64_t campaign_id;
    const char *station_id;
    int position;
    const char *state;
    int attempts, failures;
    int64_t request_id;                                    /* 0 = none */
    const char *error, *last_status;                       /* NULL = none */
    int64_t state_at, started_at, finished_at, updated_at; /* 0 = not */
} store_campaign_station_t;

/* A new draft; target and settings are stored as JSON text. The result's
 * last step is [row]. */
void store_campaign_create(store_t *s, const char *name, int64_t image_id, const json_t *target,
                           const json_t *settings, const char *created_by, int64_t now,
                           store_json_cb cb, void *ctx);
/* Changes a draft (NULL members keep theirs); STORE_ERR_NOT_FOUND when there
 * is no draft with that id. The result's last step is [row]. */
void store_campaign_patch(store_t *s, int64_t id, const char *name, int64_t image_id,
                          const json_t *target, const json_t *settings, int64_t now,
                          store_json_cb cb, void *ctx);
/* A campaign: [[row], [{state, n}...], [image row]] or STORE_ERR_NOT_FOUND. */
void store_campaign_get(store_t *s, int64_t id, store_json_cb cb, void *ctx);
/* An image of the repository that is not deleted: [[row]] or STORE_ERR_NOT_FOUND. */
void store_campaign_image(store_t *s, int64_t image_id, store_json_cb cb, void *ctx);

/* A page of campaigns (store_page.h), by id or updated_at; state NULL = any. */
void store_campaigns_list(store_t *s, const char *state, const store_page_t *page, store_json_cb cb,
                          void *ctx);
/* A page of a campaign's stations, by position or updated_at; state NULL = any. */
void store_campaign_stations_list(store_t *s, int64_t id, const char *state,
                                  const store_page_t *page, store_json_cb cb, void *ctx);

/* Starts a draft: its stations (an array of ids, in order) become pending
 * rows and the campaign running. STORE_ERR_NOT_FOUND when it is no draft. */
void store_campaign_start(store_t *s, int64_t id, const json_t *station_ids, int64_t now,
                          store_json_cb cb, void *ctx);
/* Writes a running campaign's state. */
void store_campaign_save(store_t *s, const store_campaign_run_t *r, store_json_cb cb, void *ctx);
/* Writes one station's row. */
void store_campaign_station_save(store_t *s, const store_campaign_station_t *st, store_json_cb cb,
                                 void *ctx);
/* Cancels a campaign that is not finished, and every station of it that is
 * not: STORE_ERR_NOT_FOUND when there is none such. */
void store_campaign_cancel(store_t *s, int64_t id, int64_t now, store_json_cb cb, void *ctx);

/* Synchronous, for start-up only (before store_start): the running and
 * paused campaigns, each with its image's version, filename,
 * signing_certificate and signature and a "stations" array of its station
 * rows in position order; and the highest request id given (0 if none).
 * 0, or -1 on a database error. */
int store_campaigns_load_sync(store_t *s, json_t **campaigns, int64_t *max_request_id);

#endif
