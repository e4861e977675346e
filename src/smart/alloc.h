/*
 * Power allocation: the pure computation at the heart of load management.
 *
 * Given a site's capacity tree (grid connection -> site -> feeders ->
 * stations), the EVSEs hanging off it and what each session wants, decide
 * how many amperes per phase every EVSE may draw now (smart_allocate) and,
 * for sessions with a departure time and an energy need, over the hours
 * ahead (smart_schedule). No I/O, no event loop, no allocation in the hot
 * path once the workspace has grown: smart/ engine code calls it whenever
 * something changes, smart-sim replays a day through it, and the allocation
 * benchmark times it.
 *
 * Invariants every result keeps (tests check them):
 *  - no node's limit is exceeded on any phase, counting reserved non-EV load
 *    and each EVSE's phase rotation;
 *  - an EVSE gets either 0 (paused) or between its min_a and max_a;
 *  - current no car uses (draw well below its grant) goes to the others.
 *
 * Phases: index 0..2 are the grid's L1, L2, L3 as seen at the root. An
 * EVSE's phase_of[] maps the car's first, second and third phase to grid
 * phases (the station's rotation); a car drawing on `phases` phases loads
 * phase_of[0 .. phases-1].
 */
#ifndef AMPGRID_SMART_ALLOC_H
#define AMPGRID_SMART_ALLOC_H

#include <stdbool.h>
#include <stdint.h>

#define SMART_PHASES 3

typedef enum smart_policy {
    SMART_POLICY_EQUAL = 0, /* equal share, water-filled: what one cannot use goes to the rest */
    SMART_POLICY_PRIORITY,  /* higher priority class served first, equal share within a class */
    SMART_POLICY_DEADLINE,  /* energy-need aware: least laxity first, then equal share */
} smart_policy_t;

typedef enum smart_alloc_err {
    SMART_ALLOC_OK = 0,
    SMART_ALLOC_INVALID, /* the problem is malformed (bad parent index, cycle, NaN, negative limit) */
    SMART_ALLOC_NOMEM,
} smart_alloc_err_t;

typedef struct smart_node {
    int parent;                       /* index of the parent node; -1 for the root */
    double limit_a[SMART_PHASES];     /* per-phase limit in A; INFINITY = unlimited; 0 = phase absent */
    /* Non-EV load in A that flows through this node (static share or a live
     * building meter), INCLUDING that of its descendants: the allocator
     * checks each node against its own figure only, so the caller sums a
     * node's reserved load into all its ancestors (smart/engine.c does). */
    double reserved_a[SMART_PHASES];
} smart_node_t;

typedef struct smart_evse {
    int node;                         /* index of the node it hangs off (usually its station's node) */
    uint8_t phase_of[SMART_PHASES];   /* rotation: grid phase (0..2) feeding the car's 1st, 2nd, 3rd phase */
    uint8_t phases;                   /* phases the car draws on, 1..3 (single-phase car on a 3-phase EVSE: 1) */
    bool active;                      /* a session wants power; inactive EVSEs get 0 */
    double min_a, max_a;              /* per-phase current range (e.g. 6..32 A AC); below min_a => paused */
    double draw_a;                    /* measured per-phase draw in A; < 0 when unknown */
    int priority;                     /* larger is served first (SMART_POLICY_PRIORITY) */
    double need_wh;                   /* energy still wanted; <= 0 when unknown */
    int64_t departure;                /* unix seconds; 0 when unknown */
    double voltage_v;                 /* phase-to-neutral voltage, e.g. 230 */
    /* Added after the first draft (additive): the per-phase current granted
     * last time, 0 when unknown. A car drawing clearly less than that
     * (draw_a < granted_a - SMART_DRAW_HEADROOM_A) is capped at
     * draw_a + SMART_DRAW_HEADROOM_A so the rest goes to the others; with
     * granted_a 0 the measured draw is ignored. Fed back naively this
     * flaps (a capped car no longer draws clearly less than its new grant),
     * so smart/engine.c passes 0 and caps with a hysteresis band itself. */
    double granted_a;
} smart_evse_t;

/* What a car drawing less than its grant keeps above its draw, in A. */
#define SMART_DRAW_HEADROOM_A 2.0

typedef struct smart_problem {
    const smart_node_t *nodes;
    int n_nodes;
    const smart_evse_t *evses;
    int n_evses;
    smart_policy_t policy;
    int64_t now;                      /* unix seconds, for deadlines */
} smart_problem_t;

typedef struct smart_grant {
    double current_a;                 /* per-phase current on each of the car's phases; 0 = paused */
    bool paused;                      /* active but could not get min_a */
} smart_grant_t;

/* Scratch memory reused across calls; one per thread. */
typedef struct smart_workspace smart_workspace_t;
smart_workspace_t *smart_workspace_new(void);
void smart_workspace_free(smart_workspace_t *ws);

/* One allocation for now: out has n_evses entries. When some must be paused
 * to let the others reach their minimum, the lowest priority goes first,
 * then the highest index: list EVSEs in arrival order. Grants keep the
 * limits to within 1e-9 A of floating-point rounding. */
smart_alloc_err_t smart_allocate(smart_workspace_t *ws, const smart_problem_t *p,
                                 smart_grant_t *out);

/* A period of the schedule horizon: the root's limit scale and the price. */
typedef struct smart_slot {
    int64_t start;                    /* unix seconds; slots are contiguous and slot_seconds long */
    double root_limit_a[SMART_PHASES];/* root limit during the slot (demand response lowers it) */
    double price;                     /* per kWh; NAN when unknown */
} smart_slot_t;

typedef struct smart_schedule_report {
    int unsatisfied;                  /* sessions that cannot get need_wh by departure */
    double energy_planned_wh;
    double cost;                      /* sum of planned energy x price */
} smart_schedule_report_t;

/* Plans currents per slot for every EVSE (out: n_evses x n_slots, row per EVSE),
 * filling cheapest slots first for sessions with a departure and a need, and
 * keeping every slot within every limit. unsatisfied_out (n_evses, may be
 * NULL) is set true for sessions that cannot be fully served. */
smart_alloc_err_t smart_schedule(smart_workspace_t *ws, const smart_problem_t *p,
                                 const smart_slot_t *slots, int n_slots, int slot_seconds,
                                 double *out, bool *unsatisfied_out,
                                 smart_schedule_report_t *report);

/* ------------------------------------------------------------ time of use */

/* What time of use made of one EVSE (smart_allocate_tou). */
typedef struct smart_tou {
    bool planned;       /* follows the plan: it moves part of the need to cheaper slots */
    bool deferred;      /* the plan charges it later, in cheaper slots: 0 A (paused) now */
    bool unsatisfied;   /* the plan cannot meet its need in time: left to the site policy */
    double planned_a;   /* the plan's current for the present slot (planned only) */
    int64_t next_start; /* deferred: start of the first slot the plan charges it in */
} smart_tou_t;

/* The plan's set-up and the caller's memory smart_allocate_tou works in
 * (no allocation there, like the rest of this module). */
typedef struct smart_tou_input {
    const smart_slot_t *slots; /* slots[0] holds p->now (it may start before) */
    int n_slots, slot_seconds;
    int margin_s;           /* plans finish this long before each departure */
    double *plan;           /* n_evses x n_slots: filled with the plan */
    bool *unsat;            /* n_evses: filled, as smart_schedule's unsatisfied_out */
    smart_evse_t *scratch;  /* n_evses */
} smart_tou_input_t;

/* The allocation for now under a price schedule. Sessions with a departure
 * more than margin_s ahead and an energy need are planned (smart_schedule:
 * cheapest slots first); those whose plan puts energy into a slot cheaper
 * than the present one follow it: each is capped at the plan's current for
 * the present slot, and one the plan does not charge now gets 0 (paused,
 * deferred). Every other session - no departure or need, a plan at no
 * cheaper price (it waits for capacity, not for a price), or one the plan
 * cannot serve in time - gets what p->policy gives it. It is one
 * smart_allocate over the problem with those caps, so every limit holds and
 * what a deferred session leaves goes to the others. out and tou have
 * n_evses entries. */
smart_alloc_err_t smart_allocate_tou(smart_workspace_t *ws, const smart_problem_t *p,
                                     const smart_tou_input_t *in, smart_grant_t *out,
                                     smart_tou_t *tou);

#endif
