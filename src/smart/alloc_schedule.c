/*
 * smart_schedule: a plan over the hours ahead, slot by slot.
 *
 * Each slot has its own residual capacity per link (the nodes' limits minus
 * reserved load, the root's limit lowered to the slot's demand-response
 * limit). Flexible sessions - a departure ahead and an energy need - are
 * placed first, earliest departure first (then rank): each takes its
 * cheapest slots before departure (unknown prices last, earlier slot on a
 * tie) at up to its maximum, or what the slot's path has left, skipping slots
 * where that is below its minimum, until its need is met. Then every slot's
 * remaining capacity is water-filled (equal share, the same round as
 * smart_allocate) among the sessions without a departure or need. Every
 * placement is checked against every link of the slot, so no slot exceeds a
 * limit. Cost: O(F log F + F S d + S n d log L) for F flexible sessions, S
 * slots and n EVSEs.
 */
#include "smart/alloc_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GROW SMART_GROW

static bool slots_valid(const smart_slot_t *slots, int n_slots, int slot_seconds)
{
    if (n_slots < 0 || (n_slots > 0 && !slots) || slot_seconds <= 0) return false;
    for (int s = 0; s < n_slots; s++) {
        for (int k = 0; k < SMART_PHASES; k++)
            if (isnan(slots[s].root_limit_a[k]) || slots[s].root_limit_a[k] < 0) return false;
        if (s > 0 && slots[s].start != slots[s - 1].start + slot_seconds) return false;
    }
    return true;
}

/* Per-slot residuals: ws->residual after reset, roots lowered to the slot limit. */
static void slot_residuals(smart_workspace_t *ws, const smart_problem_t *p,
                           const smart_slot_t *slots, int n_slots)
{
    int nl = p->n_nodes * SMART_PHASES;
    GROW(ws, sched_res, nl * n_slots);
    for (int s = 0; s < n_slots; s++) {
        double *res = ws->sched_res + (size_t)s * nl;
        memcpy(res, ws->residual, (size_t)nl * sizeof *res);
        for (int v = 0; v < p->n_nodes; v++) {
            if (p->nodes[v].parent >= 0) continue;
            for (int k = 0; k < SMART_PHASES; k++) {
                double lim = slots[s].root_limit_a[k];
                if (lim < p->nodes[v].limit_a[k]) {
                    double c = lim - p->nodes[v].reserved_a[k];
                    res[v * SMART_PHASES + k] = c > 0 ? c : 0;
                }
            }
        }
    }
}

/* Seconds of slot s inside [now, until). */
static double overlap(const smart_slot_t *slot, int slot_seconds, int64_t now, int64_t until)
{
    int64_t a = slot->start > now ? slot->start : now;
    int64_t b = slot->start + slot_seconds;
    if (until > 0 && until < b) b = until;
    return b > a ? (double)(b - a) : 0;
}

static double slot_slack(const smart_problem_t *p, const double *res, const smart_evse_t *e)
{
    double s = INFINITY;
    for (int v = e->node; v >= 0; v = p->nodes[v].parent)
        for (int k = 0; k < e->phases; k++) {
            double r = res[v * SMART_PHASES + e->phase_of[k]];
            if (r < s) s = r;
        }
    return s;
}

static void slot_take(const smart_problem_t *p, double *res, const smart_evse_t *e, double a)
{
    for (int v = e->node; v >= 0; v = p->nodes[v].parent)
        for (int k = 0; k < e->phases; k++) {
            double *r = &res[v * SMART_PHASES + e->phase_of[k]];
            if (isfinite(*r)) *r -= a;
        }
}

static bool flexible(const smart_evse_t *e, int64_t now)
{
    return e->active && e->need_wh > 0 && e->departure > now;
}

/* Places one flexible session into its cheapest slots; returns the energy
 * still missing in Wh. */
static double place(smart_workspace_t *ws, const smart_problem_t *p, int i,
                    const smart_slot_t *slots, int n_slots, int slot_seconds, double *row)
{
    const smart_evse_t *e = &p->evses[i];
    int nl = p->n_nodes * SMART_PHASES;
    double w_per_a = e->phases * e->voltage_v, left = e->need_wh;
    for (int j = 0; j < n_slots && left > 1e-6; j++) {
        int s = ws->sched_order[j];
        double secs = overlap(&slots[s], slot_seconds, p->now, e->departure);
        if (secs <= 0) continue;
        double *res = ws->sched_res + (size_t)s * nl;
        double a = slot_slack(p, res, e);
        if (a > e->max_a) a = e->max_a;
        if (a + 1e-9 < e->min_a || a <= 0) continue;
        double wh_per_a = w_per_a * secs / 3600.0;
        if (a * wh_per_a > left) {
            a = left / wh_per_a;
            if (a < e->min_a) a = e->min_a;
        }
        row[s] = a;
        slot_take(p, res, e, a);
        left -= a * wh_per_a;
    }
    return left > 1e-6 ? left : 0;
}

/* Water-fills slot s's remaining capacity among the inflexible sessions. */
static void fill_slot(smart_workspace_t *ws, const smart_problem_t *p, const smart_slot_t *slots,
                      int s, int slot_seconds, double *out, int n_slots)
{
    int nl = p->n_nodes * SMART_PHASES, m = 0;
    double *res = ws->sched_res + (size_t)s * nl;
    GROW(ws, part, p->n_evses);
    for (int i = 0; i < p->n_evses; i++) {
        const smart_evse_t *e = &p->evses[i];
        if (!e->active || flexible(e, p->now)) continue;
        if (overlap(&slots[s], slot_seconds, p->now, e->departure > p->now ? e->departure : 0) <= 0)
            continue;
        ws->part[m++] = i;
    }
    if (m == 0) return;
    memcpy(ws->residual, res, (size_t)nl * sizeof *res);
    for (int j = 0; j < m; j++) {
        int i = ws->part[j];
        ws->est[i] = SMART_ST_IDLE;
        ws->grant[i] = 0;
    }
    smart_fill_round(ws, p, ws->part, m);
    /* unpause in rank order: ws->order ranks every active EVSE */
    smart_unpause_pass(ws, p, ws->n_active);
    for (int j = 0; j < m; j++) {
        int i = ws->part[j];
        out[(size_t)i * n_slots + s] = ws->grant[i];
        ws->est[i] = SMART_ST_IDLE; /* not paused in the next slot's unpause pass */
    }
    memcpy(res, ws->residual, (size_t)nl * sizeof *res);
}

static void report_energy(const smart_problem_t *p, const smart_slot_t *slots, int n_slots,
                          int slot_seconds, const double *out, smart_schedule_report_t *rep)
{
    for (int i = 0; i < p->n_evses; i++) {
        const smart_evse_t *e = &p->evses[i];
        if (!e->active || !(e->voltage_v > 0)) continue;
        int64_t until = e->departure > p->now ? e->departure : 0;
        for (int s = 0; s < n_slots; s++) {
            double a = out[(size_t)i * n_slots + s];
            if (a <= 0) continue;
            double wh = a * e->phases * e->voltage_v *
                        overlap(&slots[s], slot_seconds, p->now, until) / 3600.0;
            rep->energy_planned_wh += wh;
            if (!isnan(slots[s].price)) rep->cost += wh / 1000.0 * slots[s].price;
        }
    }
}

/* Sorts the slots cheapest first (unknown prices last, then by time). */
static void order_slots(smart_workspace_t *ws, const smart_slot_t *slots, int n_slots)
{
    GROW(ws, events, n_slots);
    GROW(ws, sched_order, n_slots);
    for (int s = 0; s < n_slots; s++)
        ws->events[s] = (smart_event_t){isnan(slots[s].price) ? INFINITY : slots[s].price, s, 0};
    smart_sort_events(ws->events, n_slots);
    for (int s = 0; s < n_slots; s++)
        ws->sched_order[s] = ws->events[s].evse;
}

/* Flexible sessions, earliest departure first, then rank. */
static int order_flexible(smart_workspace_t *ws, const smart_problem_t *p)
{
    int nf = 0;
    GROW(ws, events, p->n_evses);
    GROW(ws, sched_sess, p->n_evses);
    for (int i = 0; i < p->n_evses; i++)
        if (flexible(&p->evses[i], p->now))
            ws->events[nf++] = (smart_event_t){(double)p->evses[i].departure, i, ws->rankpos[i]};
    smart_sort_events(ws->events, nf);
    for (int j = 0; j < nf; j++)
        ws->sched_sess[j] = ws->events[j].evse;
    return nf;
}

smart_alloc_err_t smart_schedule(smart_workspace_t *ws, const smart_problem_t *p,
                                 const smart_slot_t *slots, int n_slots, int slot_seconds,
                                 double *out, bool *unsatisfied_out,
                                 smart_schedule_report_t *report)
{
    if (!ws || !p || !smart_problem_valid(ws, p)) return SMART_ALLOC_INVALID;
    if (!slots_valid(slots, n_slots, slot_seconds)) return SMART_ALLOC_INVALID;
    if (p->n_evses > 0 && n_slots > 0 && !out) return SMART_ALLOC_INVALID;
    smart_schedule_report_t rep = {0};
    if (out) memset(out, 0, (size_t)p->n_evses * (size_t)n_slots * sizeof *out);
    if (unsatisfied_out) memset(unsatisfied_out, 0, (size_t)p->n_evses * sizeof *unsatisfied_out);
    smart_links_reset(ws, p);
    smart_paths_build(ws, p, true);
    smart_evses_reset(ws, p);
    ws->n_active = smart_rank(ws, p);
    for (int i = 0; i < p->n_evses; i++)
        ws->ecap[i] = p->evses[i].active ? p->evses[i].max_a : 0; /* no draw in the future */
    slot_residuals(ws, p, slots, n_slots);
    order_slots(ws, slots, n_slots);
    int nf = order_flexible(ws, p);
    for (int j = 0; j < nf; j++) {
        int i = ws->sched_sess[j];
        double missing = place(ws, p, i, slots, n_slots, slot_seconds, out + (size_t)i * n_slots);
        if (missing > 0) {
            rep.unsatisfied++;
            if (unsatisfied_out) unsatisfied_out[i] = true;
        }
    }
    for (int i = 0; i < p->n_evses; i++) { /* overdue: cannot be served any more */
        const smart_evse_t *e = &p->evses[i];
        if (e->active && e->need_wh > 0 && e->departure > 0 && e->departure <= p->now) {
            rep.unsatisfied++;
            if (unsatisfied_out) unsatisfied_out[i] = true;
        }
    }
    for (int s = 0; s < n_slots; s++)
        fill_slot(ws, p, slots, s, slot_seconds, out, n_slots);
    report_energy(p, slots, n_slots, slot_seconds, out, &rep);
    if (report) *report = rep;
    return SMART_ALLOC_OK;
}
