/*
 * Firmware update campaigns: the model and every scheduling decision, as pure
 * functions of the campaign's settings, its stations' states and the time.
 * The engine (campaign_server.c) owns the timers, the store and the station
 * links, and asks these functions what to do; the unit tests ask them too.
 *
 * A campaign rolls one firmware image out to a list of stations resolved
 * when it starts (kept in order: position 0 first). The first `canary`
 * stations go alone; the rest wait until every canary station succeeded or
 * an operator promotes the campaign. Then the stations go in batches of
 * `batch_size` (the next batch opens when every station of the previous one
 * has finished), never more than `max_concurrent` at once, only inside the
 * daily maintenance window, and never to a station charging someone unless
 * `force` is set. The campaign pauses by itself when the failure rate passes
 * its threshold.
 */
#ifndef AMPGRID_FIRMWARE_CAMPAIGN_H
#define AMPGRID_FIRMWARE_CAMPAIGN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum campaign_state {
    CAMPAIGN_DRAFT,
    CAMPAIGN_RUNNING,
    CAMPAIGN_PAUSED,
    CAMPAIGN_COMPLETED,
    CAMPAIGN_CANCELLED,
    CAMPAIGN_STATE_COUNT_
} campaign_state_t;

/* One station's progress. In flight: scheduled .. installed. Terminal:
 * succeeded, failed, cancelled. A failure with retries left goes back to
 * pending. */
typedef enum campaign_st {
    CST_PENDING,
    CST_SCHEDULED, /* picked; UpdateFirmware on its way */
    CST_SENT,      /* UpdateFirmware accepted */
    CST_DOWNLOADING,
    CST_DOWNLOADED,
    CST_INSTALLING,
    CST_INSTALLED, /* waiting for the BootNotification with the new version */
    CST_SUCCEEDED,
    CST_FAILED,
    CST_CANCELLED,
    CST_COUNT_
} campaign_st_t;

const char *campaign_state_name(campaign_state_t s);
int campaign_state_parse(const char *s); /* -1 when unknown */
const char *campaign_st_name(campaign_st_t s);
int campaign_st_parse(const char *s); /* -1 when unknown */
bool campaign_st_in_flight(campaign_st_t s);
bool campaign_st_terminal(campaign_st_t s);

/* A daily window in local time: minutes after local midnight, and the
 * local offset from UTC. start == end means "all day". */
typedef struct campaign_window {
    bool set;
    int start_min, end_min; /* 0..1439 */
    int utc_offset_min;     /* -840..840 */
} campaign_window_t;

/* "HH:MM-HH:MM" (may wrap midnight, e.g. "22:00-04:00"); NULL or "" = always.
 * 0, or -1 with a message. */
int campaign_window_parse(const char *s, int utc_offset_min, campaign_window_t *w, char *err,
                          size_t err_len);
bool campaign_window_open(const campaign_window_t *w, int64_t now_ms);

/* The settings of a campaign (the "settings" JSON object of the API). */
typedef struct campaign_spec {
    int canary;         /* first K stations alone; 0 = none */
    int batch_size;     /* 0 = all the rest at once */
    int max_concurrent; /* >= 1 */
    campaign_window_t window;
    char window_text[16];  /* as given, "" = none */
    bool force;            /* start stations with a running session */
    int failure_threshold; /* percent, 1..100 */
    int min_attempts;      /* attempts before the threshold applies */
    int download_timeout;  /* seconds: sent .. downloaded */
    int install_timeout;   /* seconds: downloaded .. confirmed by a boot */
    int retries;           /* extra attempts per station */
    int url_ttl;           /* seconds a download URL stays valid */
} campaign_spec_t;

/* Fills the defaults. */
void campaign_spec_default(campaign_spec_t *sp);
/* Applies the members of a "settings" object over sp; unknown members and
 * bad values are refused with a message (sp may be partly changed then). */
int campaign_spec_apply(campaign_spec_t *sp, const json_t *settings, char *err, size_t err_len);
/* The settings as JSON (what the API shows and the store keeps). */
json_t *campaign_spec_json(const campaign_spec_t *sp);

/* A target selector: {"sites":[..], "models":[..], "firmware_versions":[..],
 * "labels":{"k":"v"}, "station_ids":[..]}. Checks its shape. */
int campaign_target_check(const json_t *target, char *err, size_t err_len);
/* Whether a station matches: it is listed in station_ids, or at least one of
 * the other filters is given and it passes every given one. */
bool campaign_target_match(const json_t *target, const char *id, const char *site,
                           const char *model, const char *firmware_version, const json_t *labels);

/* ------------------------------------------------------------- planning */

/* What the planner needs of one station, in position order. */
typedef struct campaign_slot {
    campaign_st_t state;
    bool connected;
    bool busy; /* a charging session is running on it */
} campaign_slot_t;

typedef struct campaign_plan {
    size_t picked;     /* stations to start now (indices in out) */
    size_t deferred;   /* eligible but charging someone (not forced) */
    size_t offline;    /* eligible but not connected */
    bool canary_phase; /* only canary stations may go */
} campaign_plan_t;

/* Chooses the stations to start now, into out (at most out_cap), in position
 * order. promoted: an operator let the campaign past its canary stations. */
campaign_plan_t campaign_plan_next(const campaign_spec_t *sp, bool promoted,
                                   const campaign_slot_t *st, size_t n, bool in_window, size_t *out,
                                   size_t out_cap);

/* Whether the canary stations all succeeded (true when there are none). */
bool campaign_canary_done(const campaign_spec_t *sp, const campaign_slot_t *st, size_t n);

/* Whether failures out of finished attempts (since the last resume) pass
 * the threshold: at least min_attempts finished, and failures * 100 >
 * threshold * attempts. */
bool campaign_threshold_passed(const campaign_spec_t *sp, int64_t failures, int64_t attempts);

/* Whether a station in state st, entered at state_at, has overstayed. */
bool campaign_timed_out(const campaign_spec_t *sp, campaign_st_t st, int64_t state_at,
                        int64_t now_ms);

/* The station state a FirmwareStatusNotification status moves to; for a
 * failure status *failure is set (the status is the error). -1 = no change
 * (Idle, unknown). */
int campaign_st_of_status(const char *status, bool *failure);

/* Whether every station is terminal. */
bool campaign_all_terminal(const campaign_slot_t *st, size_t n);

#endif
