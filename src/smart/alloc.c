/*
 * smart_allocate: max-min fair ("water-filling") sharing of a capacity tree.
 *
 * Every (node, grid phase) pair is a link with a capacity: its limit minus its
 * reserved non-EV load. An EVSE loads every link on the path from its node to
 * the root, on the grid phases its car draws on (phase_of[0 .. phases-1]).
 * Progressive filling raises one common level t for every EVSE still rising;
 * a link whose remaining capacity is used up at level t freezes the EVSEs on
 * it at t, an EVSE reaching its own cap (max_a, or its draw plus headroom)
 * freezes there, and the rest keep rising: what one cannot use goes to the
 * others. Each link's saturation level (residual / rising users) sits in an
 * indexed min-heap, and a freeze only touches the links on one path, so a
 * recomputation costs O(n d log L) for n EVSEs at depth d, L links; links
 * with an unlimited capacity are left out entirely.
 *
 * Minimum currents: when a link saturates at a level below the min_a of some
 * EVSE on it, the lowest-ranked such EVSEs (lowest priority, then highest
 * index: list EVSEs in arrival order) are paused one after the other until the
 * others' level reaches their minimum; the link then keeps rising. A final
 * pass grants paused EVSEs, highest rank first, whatever spare capacity is
 * left on their path if it reaches their minimum, so nobody is paused when it
 * would fit.
 *
 * Policies are rounds of the same filling: EQUAL is one round; PRIORITY one
 * round per priority class, highest first, each within what is left; DEADLINE
 * first reserves, in least-laxity order, the current each session with a
 * departure and a need requires to stay on track (a floor; not for sessions
 * that cannot finish even at full power), then fills everyone from there
 * with the rest.
 */
#include "smart/alloc_internal.h"
#include "util/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EPS 1e-9

/* Grows *p to hold n elements of size sz (never shrinks). */
void smart_ws_grow(void **p, int *cap, int n, size_t sz)
{
    if (n < 1) n = 1; /* never NULL: qsort and memcpy want a pointer */
    if (n <= *cap) return;
    int c = *cap ? *cap : 16;
    while (c < n)
        c *= 2;
    *p = xrealloc(*p, (size_t)c * sz);
    *cap = c;
}

#define GROW SMART_GROW

smart_workspace_t *smart_workspace_new(void)
{
    return xcalloc(1, sizeof(smart_workspace_t));
}

void smart_workspace_free(smart_workspace_t *ws)
{
    if (!ws) return;
    free(ws->state);
    free(ws->residual);
    free(ws->count);
    free(ws->heap_pos);
    free(ws->heap);
    free(ws->key);
    free(ws->stamp);
    free(ws->moff);
    free(ws->members);
    free(ws->touched);
    free(ws->ecap);
    free(ws->floor);
    free(ws->grant);
    free(ws->est);
    free(ws->rankpos);
    free(ws->order);
    free(ws->rk);
    free(ws->msize);
    free(ws->events);
    free(ws->sev);
    free(ws->eoff);
    free(ws->elinks);
    free(ws->part);
    free(ws->sched_res);
    free(ws->sched_order);
    free(ws->sched_sess);
    free(ws);
}

/* ------------------------------------------------------------ validation */

static bool bad_amp(double a)
{
    return isnan(a) || a < 0;
}

static bool nodes_valid(smart_workspace_t *ws, const smart_problem_t *p)
{
    if (p->n_nodes < 0 || p->n_evses < 0) return false;
    if ((p->n_nodes && !p->nodes) || (p->n_evses && !p->evses)) return false;
    GROW(ws, state, p->n_nodes);
    memset(ws->state, 0, (size_t)p->n_nodes);
    for (int i = 0; i < p->n_nodes; i++) {
        const smart_node_t *n = &p->nodes[i];
        if (n->parent < -1 || n->parent >= p->n_nodes) return false;
        for (int k = 0; k < SMART_PHASES; k++)
            if (bad_amp(n->limit_a[k]) || bad_amp(n->reserved_a[k]) || isinf(n->reserved_a[k]))
                return false;
    }
    /* Cycles: follow each chain of unvisited nodes, marking it in progress (1);
     * meeting a node in progress means a cycle; the chain ends done (2). */
    for (int i = 0; i < p->n_nodes; i++) {
        int v = i;
        while (v >= 0 && ws->state[v] == 0) {
            ws->state[v] = 1;
            v = p->nodes[v].parent;
        }
        if (v >= 0 && ws->state[v] == 1) return false;
        for (v = i; v >= 0 && ws->state[v] == 1; v = p->nodes[v].parent)
            ws->state[v] = 2;
    }
    return true;
}

bool smart_evse_valid(const smart_evse_t *e, int n_nodes)
{
    if (e->node < 0 || e->node >= n_nodes) return false;
    if (!e->active) return true;
    if (e->phases < 1 || e->phases > SMART_PHASES) return false;
    for (int k = 0; k < e->phases; k++) {
        if (e->phase_of[k] >= SMART_PHASES) return false;
        for (int j = 0; j < k; j++)
            if (e->phase_of[j] == e->phase_of[k]) return false;
    }
    if (bad_amp(e->min_a) || bad_amp(e->max_a) || isinf(e->max_a) || e->min_a > e->max_a)
        return false;
    if (isnan(e->draw_a) || isnan(e->need_wh) || isnan(e->granted_a) || isinf(e->draw_a))
        return false;
    if (e->need_wh > 0 && e->departure > 0 && !(e->voltage_v > 0 && isfinite(e->voltage_v)))
        return false;
    return true;
}

bool smart_problem_valid(smart_workspace_t *ws, const smart_problem_t *p)
{
    if (!nodes_valid(ws, p)) return false;
    if ((unsigned)p->policy > SMART_POLICY_DEADLINE) return false;
    for (int i = 0; i < p->n_evses; i++)
        if (!smart_evse_valid(&p->evses[i], p->n_nodes)) return false;
    return true;
}

/* ----------------------------------------------------------------- heap */

static double link_key(const smart_workspace_t *ws, int l)
{
    return ws->count[l] > 0 ? ws->residual[l] / ws->count[l] : INFINITY;
}

/* Heap order uses the cached key, a lower bound of the live one: freezes and
 * pauses only raise a link's level, so they leave the cache stale and the
 * loop refreshes a link when it reaches the top (lazy increase); joins lower
 * it and are applied at once. */
static double hkey(const smart_workspace_t *ws, int pos)
{
    return ws->key[ws->heap[pos]];
}

static void heap_swap(smart_workspace_t *ws, int a, int b)
{
    int la = ws->heap[a], lb = ws->heap[b];
    ws->heap[a] = lb;
    ws->heap[b] = la;
    ws->heap_pos[lb] = a;
    ws->heap_pos[la] = b;
}

static void heap_down(smart_workspace_t *ws, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < ws->heap_n && hkey(ws, l) < hkey(ws, m)) m = l;
        if (r < ws->heap_n && hkey(ws, r) < hkey(ws, m)) m = r;
        if (m == i) break;
        heap_swap(ws, i, m);
        i = m;
    }
}

/* Restores the heap after the key of the link at position i changed. */
static void heap_fix(smart_workspace_t *ws, int i)
{
    while (i > 0) {
        int up = (i - 1) / 2;
        if (hkey(ws, up) <= hkey(ws, i)) break;
        heap_swap(ws, i, up);
        i = up;
    }
    heap_down(ws, i);
}

/* ---------------------------------------------------------------- links */

/* Every active EVSE's links with a finite capacity, in one array: the path
 * walk is done once per call, not at each of the EVSE's freezes. Links of
 * roots are kept even when unlimited if roots_too (a schedule slot may lower
 * them). */
void smart_paths_build(smart_workspace_t *ws, const smart_problem_t *p, bool roots_too)
{
    int total = 0;
    GROW(ws, eoff, p->n_evses + 1);
    for (int i = 0; i < p->n_evses; i++) {
        const smart_evse_t *e = &p->evses[i];
        ws->eoff[i] = total;
        if (!e->active) continue;
        for (int v = e->node; v >= 0; v = p->nodes[v].parent) {
            if (total + SMART_PHASES > ws->elinks_cap) GROW(ws, elinks, total + SMART_PHASES);
            bool keep = roots_too && p->nodes[v].parent < 0;
            const int base = v * SMART_PHASES;
            for (int k = 0; k < e->phases; k++) {
                int l = base + e->phase_of[k];
                if (keep || isfinite(ws->residual[l])) ws->elinks[total++] = l;
            }
        }
    }
    ws->eoff[p->n_evses] = total;
}

#define FOR_LINKS(ws, i, l)                                                                        \
    for (int j_ = (ws)->eoff[i], l; j_ < (ws)->eoff[(i) + 1] && ((l = (ws)->elinks[j_]), 1); j_++)

/* Adds `load` to EVSE i's links and `rising` to their rising counts. */
static void links_update(smart_workspace_t *ws, const smart_problem_t *p, int i, double load,
                         int rising)
{
    FOR_LINKS(ws, i, l)
    {
        ws->residual[l] -= load;
        ws->count[l] += rising;
        if (rising > 0 && ws->stamp[l] == ws->round && ws->heap_pos[l] >= 0) {
            ws->key[l] = link_key(ws, l);
            heap_fix(ws, ws->heap_pos[l]);
        }
    }
}

/* Minimum spare capacity along EVSE i's path (INFINITY when unconstrained). */
double smart_path_slack(smart_workspace_t *ws, const smart_problem_t *p, int i)
{
    double s = INFINITY;
    FOR_LINKS(ws, i, l)
    {
        if (ws->residual[l] < s) s = ws->residual[l];
    }
    return s;
}

/* ------------------------------------------------------------- sorting */

/* Quicksort without allocation (glibc's qsort may malloc a buffer), on
 * totally ordered keys so the result does not depend on the algorithm. */
static bool ev_less(const smart_event_t *x, const smart_event_t *y)
{
    if (x->t != y->t) return x->t < y->t;
    if (x->type != y->type) return x->type < y->type;
    return x->evse < y->evse;
}

void smart_sort_events(smart_event_t *a, int n)
{
    while (n > 16) {
        smart_event_t pivot = a[n / 2], tmp;
        if (ev_less(&a[n - 1], &pivot)) pivot = a[n - 1];
        if (ev_less(&pivot, &a[0])) pivot = ev_less(&a[n - 1], &a[0]) ? a[n - 1] : a[0];
        int i = 0, j = n - 1;
        for (;;) {
            while (ev_less(&a[i], &pivot))
                i++;
            while (ev_less(&pivot, &a[j]))
                j--;
            if (i >= j) break;
            tmp = a[i], a[i] = a[j], a[j] = tmp;
            i++, j--;
        }
        /* recurse into the smaller part, loop on the larger: log n stack */
        int left = j + 1;
        if (left < n - left) {
            smart_sort_events(a, left);
            a += left, n -= left;
        } else {
            smart_sort_events(a + left, n - left);
            n = left;
        }
    }
    for (int i = 1; i < n; i++) {
        smart_event_t x = a[i];
        int j = i;
        for (; j > 0 && ev_less(&x, &a[j - 1]); j--)
            a[j] = a[j - 1];
        a[j] = x;
    }
}

void smart_links_reset(smart_workspace_t *ws, const smart_problem_t *p)
{
    int nl = p->n_nodes * SMART_PHASES;
    GROW(ws, residual, nl);
    GROW(ws, count, nl);
    GROW(ws, heap_pos, nl);
    GROW(ws, heap, nl);
    GROW(ws, key, nl);
    GROW(ws, stamp, nl);
    GROW(ws, moff, nl + 1);
    GROW(ws, touched, nl);
    GROW(ws, msize, nl);
    for (int v = 0; v < p->n_nodes; v++)
        for (int k = 0; k < SMART_PHASES; k++) {
            int l = v * SMART_PHASES + k;
            double c = p->nodes[v].limit_a[k] - p->nodes[v].reserved_a[k];
            ws->residual[l] = isinf(p->nodes[v].limit_a[k]) ? INFINITY : (c > 0 ? c : 0);
            ws->count[l] = 0;
            ws->stamp[l] = 0;
            ws->heap_pos[l] = -1;
        }
    ws->round = 0;
}

/* The per-phase current an active EVSE can use now. */
static double evse_cap(const smart_evse_t *e)
{
    double cap = e->max_a;
    if (e->draw_a >= 0 && e->granted_a > 0 && e->draw_a < e->granted_a - SMART_DRAW_HEADROOM_A) {
        double c = e->draw_a + SMART_DRAW_HEADROOM_A;
        if (c < e->min_a) c = e->min_a;
        if (c < cap) cap = c;
    }
    return cap;
}

/* ------------------------------------------------------------ the round */

enum { EV_JOIN = 0, EV_CAP = 1 };

/* Lists, per touched finite link, the round's participants on it (CSR). */
static void build_members(smart_workspace_t *ws, const smart_problem_t *p, const int *part, int m)
{
    ws->n_touched = 0;
    int total = 0;
    for (int j = 0; j < m; j++) {
        FOR_LINKS(ws, part[j], l)
        {
            if (ws->stamp[l] != ws->round) {
                ws->stamp[l] = ws->round;
                ws->moff[l] = 0;
                ws->count[l] = 0;
                ws->heap_pos[l] = -1;
                ws->touched[ws->n_touched++] = l;
            }
            ws->moff[l]++;
            total++;
        }
    }
    GROW(ws, members, total);
    int off = 0;
    for (int t = 0; t < ws->n_touched; t++) {
        int l = ws->touched[t], c = ws->moff[l];
        ws->moff[l] = off; /* start; used as a fill cursor below, then restored */
        off += c;
        ws->count[l] = c; /* temporarily the size */
    }
    for (int j = 0; j < m; j++) {
        FOR_LINKS(ws, part[j], l)
        {
            ws->members[ws->moff[l]++] = part[j];
        }
    }
    for (int t = 0; t < ws->n_touched; t++) { /* every member starts rising */
        int l = ws->touched[t];
        ws->moff[l] -= ws->count[l];
        ws->msize[l] = ws->count[l];
    }
}

static void freeze(smart_workspace_t *ws, const smart_problem_t *p, int i, double level)
{
    if (ws->est[i] == SMART_ST_RISING) {
        ws->grant[i] = level;
        ws->est[i] = SMART_ST_FROZEN;
        links_update(ws, p, i, level, -1);
    } else if (ws->est[i] == SMART_ST_WAITING) {
        ws->grant[i] = ws->floor[i]; /* its floor is already counted as load */
        ws->est[i] = SMART_ST_FROZEN;
    }
}

static void pause_evse(smart_workspace_t *ws, const smart_problem_t *p, int i)
{
    ws->grant[i] = 0;
    ws->est[i] = SMART_ST_PAUSED;
    links_update(ws, p, i, 0, -1);
}

/* Link l is used up at level t: pause the lowest-ranked members whose minimum
 * the level cannot reach until it can, or else freeze every member. */
static void saturate(smart_workspace_t *ws, const smart_problem_t *p, int l, double t)
{
    int beg = ws->moff[l], end = beg + ws->msize[l], n = 0;
    bool short_of_min = false;
    for (int j = beg; j < end; j++) {
        int i = ws->members[j];
        if (ws->est[i] != SMART_ST_RISING) continue;
        ws->sev[n++] = (smart_event_t){-(double)ws->rankpos[i], i, 0};
        if (p->evses[i].min_a > t + EPS) short_of_min = true;
    }
    if (!short_of_min) {
        for (int j = beg; j < end; j++)
            freeze(ws, p, ws->members[j], t);
        return;
    }
    smart_sort_events(ws->sev, n); /* lowest rank first */
    for (int j = 0; j < n; j++) {
        int i = ws->sev[j].evse;
        if (p->evses[i].min_a > link_key(ws, l) + EPS) pause_evse(ws, p, i);
    }
}

/* One round of progressive filling over part[0..m-1], each starting at its
 * floor (0 for none) and stopping at its cap. */
void smart_fill_round(smart_workspace_t *ws, const smart_problem_t *p, const int *part, int m)
{
    ws->round++;
    build_members(ws, p, part, m);
    int ne = 0;
    GROW(ws, events, 2 * m);
    for (int j = 0; j < m; j++) {
        int i = part[j];
        if (ws->floor[i] >= ws->ecap[i]) { /* pinned at its floor */
            ws->grant[i] = ws->ecap[i];
            ws->est[i] = SMART_ST_FROZEN;
            links_update(ws, p, i, ws->ecap[i], -1);
            continue;
        }
        if (ws->floor[i] > 0) {
            ws->est[i] = SMART_ST_WAITING;
            links_update(ws, p, i, ws->floor[i], -1);
            ws->events[ne++] = (smart_event_t){ws->floor[i], i, EV_JOIN};
        } else {
            ws->est[i] = SMART_ST_RISING;
        }
        ws->events[ne++] = (smart_event_t){ws->ecap[i], i, EV_CAP};
    }
    smart_sort_events(ws->events, ne);
    ws->heap_n = 0;
    for (int t = 0; t < ws->n_touched; t++) {
        int l = ws->touched[t];
        ws->key[l] = link_key(ws, l);
        ws->heap_pos[l] = ws->heap_n;
        ws->heap[ws->heap_n++] = l;
    }
    for (int h = ws->heap_n / 2 - 1; h >= 0; h--)
        heap_down(ws, h);

    double level = 0;
    int ev = 0;
    for (;;) {
        while (ev < ne && (ws->est[ws->events[ev].evse] == SMART_ST_FROZEN ||
                           ws->est[ws->events[ev].evse] == SMART_ST_PAUSED))
            ev++;
        double te = ev < ne ? ws->events[ev].t : INFINITY;
        double tl = ws->heap_n ? link_key(ws, ws->heap[0]) : INFINITY;
        if (ws->heap_n && tl != ws->key[ws->heap[0]]) { /* stale: refresh, look again */
            ws->key[ws->heap[0]] = tl;
            heap_down(ws, 0);
            continue;
        }
        if (isinf(te) && isinf(tl)) break;
        if (te <= tl) {
            smart_event_t e = ws->events[ev++];
            if (e.t > level) level = e.t;
            if (e.type == EV_JOIN) {
                ws->est[e.evse] = SMART_ST_RISING;
                links_update(ws, p, e.evse, -ws->floor[e.evse], 1);
            } else {
                freeze(ws, p, e.evse, ws->ecap[e.evse]);
            }
        } else {
            if (tl > level) level = tl;
            saturate(ws, p, ws->heap[0], level);
        }
    }
}

/* Paused EVSEs, highest rank first, take what spare capacity their path still
 * has when it reaches their minimum. */
void smart_unpause_pass(smart_workspace_t *ws, const smart_problem_t *p, int n_active)
{
    for (int r = 0; r < n_active; r++) {
        int i = ws->order[r];
        if (ws->est[i] != SMART_ST_PAUSED) continue;
        double s = smart_path_slack(ws, p, i);
        if (s + EPS < p->evses[i].min_a) continue;
        double g = s < ws->ecap[i] ? s : ws->ecap[i];
        if (g < p->evses[i].min_a) g = p->evses[i].min_a;
        ws->grant[i] = g;
        ws->est[i] = SMART_ST_FROZEN;
        ws->round++; /* no heap to maintain any more */
        links_update(ws, p, i, g, 0);
    }
}

/* ------------------------------------------------------------- policies */

/* Orders the active EVSEs by rank (priority desc, index asc) into ws->order
 * and ws->rankpos; returns how many are active. */
int smart_rank(smart_workspace_t *ws, const smart_problem_t *p)
{
    int n = 0;
    GROW(ws, order, p->n_evses);
    GROW(ws, rankpos, p->n_evses);
    GROW(ws, rk, p->n_evses);
    for (int i = 0; i < p->n_evses; i++)
        if (p->evses[i].active) ws->rk[n++] = (smart_event_t){-(double)p->evses[i].priority, i, 0};
    bool sorted = true;
    for (int r = 1; r < n && sorted; r++)
        sorted = ws->rk[r - 1].t <= ws->rk[r].t; /* indexes ascend already */
    if (!sorted) smart_sort_events(ws->rk, n);
    for (int r = 0; r < n; r++) {
        ws->order[r] = ws->rk[r].evse;
        ws->rankpos[ws->rk[r].evse] = r;
    }
    return n;
}

static double laxity(const smart_evse_t *e, int64_t now, double *need_a)
{
    double left = (double)(e->departure - now);
    double w_per_a = e->phases * e->voltage_v;
    double at_max = e->need_wh * 3600.0 / (e->max_a * w_per_a);
    *need_a = left > 0 ? e->need_wh * 3600.0 / (left * w_per_a) : INFINITY;
    return left - at_max;
}

/* Least laxity first: floors that keep sessions with a deadline on track. */
static void deadline_floors(smart_workspace_t *ws, const smart_problem_t *p, int n)
{
    int nf = 0;
    GROW(ws, events, n);
    for (int r = 0; r < n; r++) {
        int i = ws->order[r];
        const smart_evse_t *e = &p->evses[i];
        if (e->need_wh <= 0 || e->departure <= 0 || e->max_a <= 0) continue;
        double need_a;
        double lax = laxity(e, p->now, &need_a);
        /* A session that cannot finish even at its maximum (negative laxity)
         * gets no reservation: under overload, least laxity first would
         * otherwise pour capacity into lost causes and fail the rest too. */
        if (lax < 0) continue;
        ws->floor[i] = need_a; /* stash; the event array sorts by laxity */
        ws->events[nf++] = (smart_event_t){lax, i, 0};
    }
    smart_sort_events(ws->events, nf);
    for (int j = 0; j < nf; j++) {
        int i = ws->events[j].evse;
        double want = ws->floor[i];
        ws->floor[i] = 0;
        if (want < p->evses[i].min_a) want = p->evses[i].min_a;
        if (want > ws->ecap[i]) want = ws->ecap[i];
        double s = smart_path_slack(ws, p, i);
        if (want > s) want = s;
        if (want + EPS < p->evses[i].min_a || want <= 0) continue;
        ws->floor[i] = want;
        links_update(ws, p, i, want, 0); /* reserve now so later ones see it */
    }
    /* fill_round counts floors as load again: give the reservations back. */
    for (int j = 0; j < nf; j++) {
        int i = ws->events[j].evse;
        if (ws->floor[i] > 0) links_update(ws, p, i, -ws->floor[i], 0);
    }
}

void smart_evses_reset(smart_workspace_t *ws, const smart_problem_t *p)
{
    GROW(ws, ecap, p->n_evses);
    GROW(ws, floor, p->n_evses);
    GROW(ws, grant, p->n_evses);
    GROW(ws, est, p->n_evses);
    GROW(ws, sev, p->n_evses + 1);
    for (int i = 0; i < p->n_evses; i++) {
        ws->est[i] = SMART_ST_IDLE;
        ws->grant[i] = 0;
        ws->floor[i] = 0;
        ws->ecap[i] = p->evses[i].active ? evse_cap(&p->evses[i]) : 0;
    }
}

smart_alloc_err_t smart_allocate(smart_workspace_t *ws, const smart_problem_t *p,
                                 smart_grant_t *out)
{
    if (!ws || !p || (p->n_evses > 0 && !out)) return SMART_ALLOC_INVALID;
    if (!smart_problem_valid(ws, p)) return SMART_ALLOC_INVALID;
    smart_links_reset(ws, p);
    smart_paths_build(ws, p, false);
    smart_evses_reset(ws, p);
    int n = smart_rank(ws, p);
    if (p->policy == SMART_POLICY_PRIORITY) {
        for (int a = 0; a < n;) {
            int b = a;
            while (b < n && p->evses[ws->order[b]].priority == p->evses[ws->order[a]].priority)
                b++;
            smart_fill_round(ws, p, ws->order + a, b - a);
            a = b;
        }
    } else {
        if (p->policy == SMART_POLICY_DEADLINE) deadline_floors(ws, p, n);
        smart_fill_round(ws, p, ws->order, n);
    }
    smart_unpause_pass(ws, p, n);
    for (int i = 0; i < p->n_evses; i++) {
        out[i].current_a = ws->grant[i];
        out[i].paused = ws->est[i] == SMART_ST_PAUSED;
    }
    return SMART_ALLOC_OK;
}
