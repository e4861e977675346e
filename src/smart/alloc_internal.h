/*
 * What alloc.c and alloc_schedule.c share: the workspace behind the opaque
 * smart_workspace_t and the progressive-filling round both run. Not for use
 * outside src/smart/alloc*.c.
 */
#ifndef AMPGRID_SMART_ALLOC_INTERNAL_H
#define AMPGRID_SMART_ALLOC_INTERNAL_H

#include "smart/alloc.h"

#include <stddef.h>

/* EVSE states during a computation. */
enum { SMART_ST_IDLE = 0, SMART_ST_WAITING, SMART_ST_RISING, SMART_ST_FROZEN, SMART_ST_PAUSED };

typedef struct smart_event {
    double t;  /* level at which it happens (or a sort key) */
    int evse;
    int type;
} smart_event_t;

/* Every array grows on demand and is kept for the next call (cap = elements). */
struct smart_workspace {
    unsigned char *state; int state_cap;  /* per node: cycle check marks */
    /* per link (node * SMART_PHASES + grid phase) */
    double *residual; int residual_cap;   /* capacity left; INFINITY = unlimited */
    int *count; int count_cap;            /* rising EVSEs on it this round */
    int *heap_pos; int heap_pos_cap;      /* position in heap, -1 when not in it */
    int *heap; int heap_cap;              /* min-heap of links by key */
    double *key; int key_cap;             /* cached residual / count, <= the live one */
    int heap_n;
    unsigned *stamp; int stamp_cap;       /* round that last touched it */
    int *moff; int moff_cap;              /* first member in members[] */
    int *msize; int msize_cap;            /* members this round */
    int *members; int members_cap;        /* EVSE indexes, grouped per link */
    int *touched; int touched_cap;        /* links touched this round */
    int n_touched;
    unsigned round;
    /* per EVSE */
    double *ecap; int ecap_cap;           /* cap now: max_a or draw + headroom */
    double *floor; int floor_cap;         /* starting level (deadline reservation) */
    double *grant; int grant_cap;
    unsigned char *est; int est_cap;      /* SMART_ST_* */
    int *rankpos; int rankpos_cap;        /* 0 = highest rank */
    int *order; int order_cap;            /* active EVSEs by rank */
    smart_event_t *rk; int rk_cap;        /* rank sort keys */
    int *eoff; int eoff_cap;              /* EVSE i's links: elinks[eoff[i] .. eoff[i+1]) */
    int *elinks; int elinks_cap;
    smart_event_t *events; int events_cap;
    smart_event_t *sev; int sev_cap;      /* pause candidates */
    int *part; int part_cap;
    int n_active;                         /* entries in order[] */
    /* smart_schedule */
    double *sched_res; int sched_res_cap; /* per slot x link residual */
    int *sched_order; int sched_order_cap;/* slots cheapest first */
    int *sched_sess; int sched_sess_cap;  /* flexible sessions, earliest deadline first */
};

void smart_ws_grow(void **p, int *cap, int n, size_t sz);
#define SMART_GROW(ws, field, n)                                                                   \
    smart_ws_grow((void **)&(ws)->field, &(ws)->field##_cap, (n), sizeof *(ws)->field)

bool smart_problem_valid(smart_workspace_t *ws, const smart_problem_t *p);
/* Sets every link's residual from the nodes' limits and reserved loads. */
void smart_links_reset(smart_workspace_t *ws, const smart_problem_t *p);
/* Ranks the active EVSEs into ws->order / ws->rankpos; returns their count. */
int smart_rank(smart_workspace_t *ws, const smart_problem_t *p);
/* Grows the per-EVSE arrays and clears them (caps from max_a and draw). */
void smart_evses_reset(smart_workspace_t *ws, const smart_problem_t *p);
/* One progressive-filling round over part[0..m-1] on ws->residual. */
void smart_fill_round(smart_workspace_t *ws, const smart_problem_t *p, const int *part, int m);
/* Gives paused EVSEs (in rank order) any spare capacity reaching their minimum. */
void smart_unpause_pass(smart_workspace_t *ws, const smart_problem_t *p, int n_active);
/* Lists every active EVSE's finite links (roots' always if roots_too). */
void smart_paths_build(smart_workspace_t *ws, const smart_problem_t *p, bool roots_too);
/* Sorts by (t, type, evse) without allocating. */
void smart_sort_events(smart_event_t *a, int n);
/* Smallest residual on EVSE i's path. */
double smart_path_slack(smart_workspace_t *ws, const smart_problem_t *p, int i);

#endif
