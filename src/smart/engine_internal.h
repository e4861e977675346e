/*
 * The engine's state, shared by its two files: engine.c (events,
 * recomputation, sending) and engine_view.c (what the API shows of it).
 * Not for other modules: they use engine.h.
 */
#ifndef AMPGRID_SMART_ENGINE_INTERNAL_H
#define AMPGRID_SMART_ENGINE_INTERNAL_H

#include "smart/alloc.h"
#include "smart/engine.h"
#include "smart/profiles.h"

#include <uthash.h>

typedef struct site_rt site_rt_t;
typedef struct station_rt station_rt_t;

typedef struct evse_rt {
    station_rt_t *st;
    int evse_id;
    int node; /* the tree node it hangs off */
    double min_a, max_a;
    int64_t session_id; /* 0 = no session */
    char tx_id[40];
    double draw_a;  /* measured per-phase draw; < 0 unknown */
    int car_phases; /* phases the car draws on; 0 unknown */
    double cap_a;   /* self-limited car: capped at its draw + headroom; 0 = not */
    double grant_a;
    bool paused, held, unsatisfied;
    double sent_a;      /* the TxProfile limit this session holds; < 0 none */
    bool want_schedule; /* a NotifyEVChargingNeeds/Schedule to answer */
    double need_wh;
    int64_t departure;
    int priority;
    double verify_a; /* composite schedule limit reported; < 0 none */
    int64_t verify_at;
    int idx; /* position in the last computation's arrays */
    /* time of use (the last computation): following the price plan, held
     * at 0 for a cheaper slot starting at plan_at, the plan's current now */
    bool tou, deferred;
    int64_t plan_at;
    double planned_a;
} evse_rt_t;

struct station_rt {
    char id[49];
    site_rt_t *site;
    int node;
    evse_rt_t **evses;
    int n_evses;
    bool explicit_evses;
    bool flagged;
    char flag_reason[160];
    int64_t flagged_at;
    double failsafe_a;
    double default_sent_a, max_sent_a; /* < 0: not held by the station (or unknown) */
    int64_t window_ms;
    int window_count;
    double verify_a; /* station-wide composite limit; < 0 none */
    int64_t verify_at;
    UT_hash_handle hh;
};

typedef struct hist_sample {
    int64_t at;
    double load[SMART_PHASES], limit[SMART_PHASES];
    json_t *grants;
} hist_sample_t;

struct site_rt {
    char name[SITE_ID_MAX];
    site_tree_t *tree;
    station_rt_t **stations;
    int n_stations;
    double (*live_a)[SMART_PHASES]; /* per node: building meter */
    int64_t *live_at;               /* Unix s; 0 = none */
    bool dirty;
    int pending_decreases;
    int64_t computed_at;
    double limit_now[SMART_PHASES]; /* the root's effective limit at the last computation */
    double dr_limit_w;              /* < 0: none */
    bool tou_active;                /* the last computation followed a price plan */
    int64_t tou_slot;               /* its slot's start (re-planned when the next begins) */
    hist_sample_t *hist;
    int hist_len, hist_head, hist_count;
    int64_t hist_last_ms;
    UT_hash_handle hh;
};

/* A station that left every tree while it could not be told: the profiles
 * ampgrid set are cleared when it connects again (while the server runs). */
typedef struct clear_rt {
    char id[49];
    UT_hash_handle hh;
} clear_rt_t;

typedef struct needs_rt {
    int64_t session_id;
    double energy_wh;
    int64_t departure;
    int priority;
    UT_hash_handle hh;
} needs_rt_t;

struct smart_engine {
    uv_loop_t *loop;
    csms_t *csms;
    store_t *store;
    smart_signals_t *signals;
    smart_engine_config_t cfg;
    smart_profile_config_t pcfg;
    smart_workspace_t *ws;
    site_rt_t *sites;
    station_rt_t *stations;
    needs_rt_t *needs;
    clear_rt_t *to_clear;
    uv_timer_t debounce, tick;
    bool debounce_armed, stopped;
    bool subscribed; /* to the domain's events: only while a site has a tree */
    int64_t last_verify_ms;
    /* scratch for one computation */
    smart_node_t *nodes;
    smart_evse_t *pevses;
    smart_grant_t *grants;
    evse_rt_t **order;
    int cap_nodes, cap_evses;
    /* the last plan (time of use or a 2.0.1 schedule): plan_slots slots
     * from `slots`, a row of plan per EVSE; reused by the same computation */
    smart_slot_t *slots;
    double *plan;
    bool *unsat;
    smart_evse_t *tou_scratch;
    smart_tou_t *tou;
    int cap_slots, cap_plan, cap_tou;
    int plan_slots;
    const site_rt_t *plan_site; /* NULL: no plan of this computation */
};

site_rt_t *smart_engine_site_find(const smart_engine_t *e, const char *name);
bool smart_engine_station_connected(const smart_engine_t *e, const station_rt_t *st, int *proto);
/* What a held EVSE may be drawing: its accepted TxProfile while its session
 * runs on a station out of reach, else the failsafe default. */
double smart_engine_hold_of(const evse_rt_t *v);
/* Recomputes a site now and sends what changed. */
void smart_engine_recompute(smart_engine_t *e, site_rt_t *s);

#endif
