/*
 * The firmware campaign engine inside the server: it holds the running and
 * paused campaigns (loaded from the store at start, so a restart carries on
 * where the last run stopped), asks campaign.c which stations to start on a
 * one-second libuv timer and whenever a station reports, sends UpdateFirmware
 * through the domain with a per-station download URL from the firmware
 * repository, follows each station through its FirmwareStatusNotifications to
 * the BootNotification that confirms the new version, and pauses a campaign
 * that fails too often.
 *
 * Every change is committed in the store before anyone hears of it: the
 * station is sent UpdateFirmware only after its "scheduled" row committed,
 * and the events campaign.station, campaign.updated and campaign.paused are
 * emitted from the commits' completions. Everything runs on the loop thread.
 */
#ifndef AMPGRID_FIRMWARE_CAMPAIGN_SERVER_H
#define AMPGRID_FIRMWARE_CAMPAIGN_SERVER_H

#include "csms/csms.h"
#include "firmware/campaign.h"

#include <uv.h>

struct firmware_repo;
typedef struct campaign_server campaign_server_t;

typedef enum campaign_err {
    CAMPAIGN_OK = 0,
    CAMPAIGN_ERR_NOT_FOUND,
    CAMPAIGN_ERR_CONFLICT, /* not in a state that allows it; message says why */
    CAMPAIGN_ERR_INVALID,
    CAMPAIGN_ERR_STORE,
} campaign_err_t;

/* Runs once, after the change committed (or failed). */
typedef void (*campaign_done_cb)(void *ctx, campaign_err_t rc, const char *msg);

/* Loads the running and paused campaigns: call before store_start (it reads
 * the database directly). repo may be NULL (no station can be sent an
 * image then). NULL with a message on failure. */
campaign_server_t *campaign_server_create(uv_loop_t *loop, csms_t *csms, store_t *store,
                                          const struct firmware_repo *repo, char *err,
                                          size_t err_len);
/* Stops listening and ticking (shutdown); changes in flight still land. */
void campaign_server_stop(campaign_server_t *s);
/* After store_close. */
void campaign_server_free(campaign_server_t *s);

/* Operator actions; each calls done once. actor is who asked (for the
 * paused reason). */
void campaign_server_start(campaign_server_t *s, int64_t id, campaign_done_cb done, void *ctx);
void campaign_server_pause(campaign_server_t *s, int64_t id, const char *actor,
                           campaign_done_cb done, void *ctx);
void campaign_server_resume(campaign_server_t *s, int64_t id, campaign_done_cb done, void *ctx);
void campaign_server_cancel(campaign_server_t *s, int64_t id, campaign_done_cb done, void *ctx);
void campaign_server_promote(campaign_server_t *s, int64_t id, campaign_done_cb done, void *ctx);
void campaign_server_retry(campaign_server_t *s, int64_t id, const char *station_id,
                           campaign_done_cb done, void *ctx);

#endif
