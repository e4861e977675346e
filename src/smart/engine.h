/*
 * The load-management engine: keeps each site's capacity tree and the live
 * state of its EVSEs (sessions, measured draw, what each station was last
 * told), listens to the domain's events, and when something that matters
 * changes marks the site dirty; a short debounce timer then recomputes the
 * dirty sites with smart_allocate and sends the differences to the stations
 * as charging profiles (smart/profiles.h). Meter values only dirty a site
 * when a car's draw crosses what it was granted, so 20,000 stations' meter
 * traffic costs a hash lookup and a comparison per message.
 *
 * With a price schedule and the tree's time_of_use on, sessions with a
 * departure and an energy need follow a price plan (smart_allocate_tou):
 * paused while cheaper hours ahead still meet their need. The plan is made
 * again at every computation and when its next slot begins.
 *
 * Stations that are disconnected, or that refused a profile, are "held":
 * the allocation reserves for each of their EVSEs what they may be drawing
 * (their failsafe TxDefaultProfile, or the last TxProfile they accepted), so
 * the others never get capacity the held ones could be using.
 *
 * Everything runs on the event-loop thread. Trees and session needs are
 * durable (store/store_smart.h); grants, draws and building-meter readings
 * are live state and rebuilt from events.
 */
#ifndef AMPGRID_SMART_ENGINE_H
#define AMPGRID_SMART_ENGINE_H

#include "csms/csms.h"
#include "smart/signals.h"
#include "smart/site_tree.h"
#include "store/store.h"

#include <jansson.h>
#include <uv.h>

typedef struct smart_engine smart_engine_t;

typedef struct smart_engine_config {
    bool enabled;        /* false: trees are kept, nothing is sent */
    int debounce_ms;     /* recomputation delay after a change (250) */
    double hysteresis_a; /* increases below both thresholds are not sent (1 A, 5 %) */
    double hysteresis_pct;
    int max_profiles_per_s; /* per station (5) */
    int verify_interval_s;  /* GetCompositeSchedule checks; 0 = only through the API (0) */
    int history_len;        /* samples per site kept for the chart (720) */
    int schedule_slot_s;    /* NotifyEVChargingNeeds schedules: slot length (900) */
    /* priority class per id-token group (the token's parent_id_token), from
     * "FLEET:10, STAFF:5"; sessions set through the API keep theirs */
    struct smart_group_priority {
        char group[36];
        int priority;
    } groups[16];
    int n_groups;
} smart_engine_config_t;

void smart_engine_config_defaults(smart_engine_config_t *c);
/* The [smart] section's keys (config.c). 0, or -1 with a message. */
int smart_engine_config_set(smart_engine_config_t *c, const char *name, const char *value,
                            char *err, size_t err_len);
int smart_engine_config_validate(const smart_engine_config_t *c, char *err, size_t err_len);

/* Loads the stored trees and session needs (before store_start: reads the
 * database directly) and subscribes to the domain's events. signals may be
 * NULL (no demand response). NULL with a message on failure. */
smart_engine_t *smart_engine_create(uv_loop_t *loop, csms_t *csms, store_t *store,
                                    smart_signals_t *signals, const smart_engine_config_t *cfg,
                                    char *err, size_t err_len);
/* Stops timers and listening (shutdown); answers still arriving are ignored. */
void smart_engine_stop(smart_engine_t *e);
/* After the OCPP layer is gone (no callbacks can arrive). */
void smart_engine_free(smart_engine_t *e);

/* ------------------------------------------------------------ for api/ */

typedef enum smart_engine_err {
    SMART_ENGINE_OK = 0,
    SMART_ENGINE_BAD_REQUEST,   /* 400 */
    SMART_ENGINE_UNPROCESSABLE, /* 422 */
    SMART_ENGINE_NOT_FOUND,     /* 404 */
} smart_engine_err_t;

/* ok false: the store failed; the change did not happen. */
typedef void (*smart_engine_done_cb)(void *ctx, bool ok);

/* [{"site", "stations", "evses", "active_sessions", "limit_a", ...}] */
json_t *smart_engine_sites_json(const smart_engine_t *e);
/* The canonical tree of a site, or NULL. */
json_t *smart_engine_tree_json(const smart_engine_t *e, const char *site);
/* Validates (including stations that exist and are in no other tree) and
 * stores a site's tree; cb runs after the commit, when it is also in force.
 * Returns OK (cb follows) or an error with a message (nothing happened). */
smart_engine_err_t smart_engine_put_tree(smart_engine_t *e, const char *site, const json_t *body,
                                         smart_engine_done_cb cb, void *ctx, char *err,
                                         size_t err_len);
smart_engine_err_t smart_engine_delete_tree(smart_engine_t *e, const char *site,
                                            smart_engine_done_cb cb, void *ctx);
/* Current grants, per-node load per phase against limits, held and flagged
 * stations, unsatisfied sessions; NULL when the site has no tree. */
json_t *smart_engine_allocation_json(smart_engine_t *e, const char *site);
/* {"site", "samples": [{"at", "load_a", "limit_a", "grants": {"CP-1/1": A}}]} or NULL. */
json_t *smart_engine_history_json(const smart_engine_t *e, const char *site);
/* A building meter's reading for a node with live_meter (A per phase at
 * `at`, Unix s): replaces its reserved load until the site's meter_ttl_s. */
smart_engine_err_t smart_engine_node_load(smart_engine_t *e, const char *site, const char *node,
                                          const double amps[SMART_PHASES], int64_t at, char *err,
                                          size_t err_len);
/* A session's energy need (Wh; <= 0 unknown), departure (Unix s; 0
 * unknown) and priority class; durable, then in force. */
smart_engine_err_t smart_engine_set_needs(smart_engine_t *e, int64_t session_id, double energy_wh,
                                          int64_t departure, int priority, smart_engine_done_cb cb,
                                          void *ctx, char *err, size_t err_len);
/* The needs in force for a session ({"energy_wh","departure","priority"}) or NULL. */
json_t *smart_engine_needs_json(const smart_engine_t *e, int64_t session_id);
/* Asks every connected station of the site for its composite schedule; the
 * results show in the allocation ("verify") as they arrive. */
smart_engine_err_t smart_engine_verify(smart_engine_t *e, const char *site);

#endif
