/*
 * smart_allocate_tou: the allocation for now when the site has a price
 * schedule, so that flexible sessions (a departure and an energy need)
 * charge in the cheapest hours that still meet their need.
 *
 * Only a plan that moves energy to a cheaper slot than the present one is
 * followed: a plan at one price everywhere still orders sessions by
 * deadline and capacity, which is the site policy's business, not price's.
 *
 * Why a plan and then one ordinary allocation: the plan (smart_schedule)
 * knows the hours ahead but not what the cars draw now; the allocation
 * (smart_allocate) knows now but not the hours ahead. So the plan only
 * lowers each flexible session's maximum to what it wants in the present
 * slot (0: not now, the session is paused), and smart_allocate then shares
 * the site under those caps with its usual guarantees: no limit exceeded,
 * the minimum current or a pause, and what a deferred car leaves going to
 * the others. A session the plan cannot serve by its departure is not
 * capped at all: it takes what the site policy gives it, never deferred
 * past what its deadline allows.
 *
 * Plans assume the car takes its full current in every slot they give it;
 * the end of a charge tapers, so the caller asks for a margin: each plan
 * finishes that long before the departure, and a session closer to its
 * departure than the margin is not deferred.
 */
#include "smart/alloc.h"

#include <stddef.h>

#define EPS 1e-9

static bool managed(const smart_evse_t *e, int64_t now, int margin_s)
{
    return e->active && e->need_wh > 0 && e->departure - margin_s > now;
}

static bool input_valid(const smart_problem_t *p, const smart_tou_input_t *in,
                        const smart_grant_t *out, const smart_tou_t *tou)
{
    if (!in || in->n_slots < 1 || !in->slots || in->slot_seconds <= 0 || in->margin_s < 0)
        return false;
    if (in->slots[0].start > p->now || in->slots[0].start + in->slot_seconds <= p->now)
        return false;
    return p->n_evses == 0 || (out && tou && in->plan && in->unsat && in->scratch);
}

/* Whether the plan charges session i in a slot cheaper than the present. */
static bool uses_cheaper(const smart_tou_input_t *in, int i)
{
    const double *row = in->plan + (size_t)i * (size_t)in->n_slots;
    for (int k = 1; k < in->n_slots; k++)
        if (row[k] > 0 && in->slots[k].price < in->slots[0].price) return true;
    return false;
}

/* The first slot the plan gives session i current in; 0 when none. */
static int64_t first_planned(const smart_tou_input_t *in, int i)
{
    const double *row = in->plan + (size_t)i * (size_t)in->n_slots;
    for (int k = 0; k < in->n_slots; k++)
        if (row[k] > 0) return in->slots[k].start;
    return 0;
}

smart_alloc_err_t smart_allocate_tou(smart_workspace_t *ws, const smart_problem_t *p,
                                     const smart_tou_input_t *in, smart_grant_t *out,
                                     smart_tou_t *tou)
{
    if (!ws || !p || !input_valid(p, in, out, tou)) return SMART_ALLOC_INVALID;
    smart_evse_t *sc = in->scratch;
    smart_problem_t q = *p;
    q.evses = sc;
    /* the plan: flexible sessions due a margin early, the others inflexible */
    for (int i = 0; i < p->n_evses; i++) {
        sc[i] = p->evses[i];
        tou[i] = (smart_tou_t){0};
        if (managed(&sc[i], p->now, in->margin_s)) {
            sc[i].departure -= in->margin_s;
            tou[i].planned = true;
        } else {
            sc[i].departure = 0;
            sc[i].need_wh = 0;
        }
    }
    smart_alloc_err_t rc =
        smart_schedule(ws, &q, in->slots, in->n_slots, in->slot_seconds, in->plan, in->unsat, NULL);
    if (rc != SMART_ALLOC_OK) return rc;
    /* now: the live problem, flexible sessions capped at the present slot */
    for (int i = 0; i < p->n_evses; i++) {
        sc[i] = p->evses[i];
        if (!tou[i].planned) continue;
        tou[i].unsatisfied = in->unsat[i];
        tou[i].planned = !in->unsat[i] && uses_cheaper(in, i);
        if (!tou[i].planned) continue;
        double a = in->plan[(size_t)i * (size_t)in->n_slots];
        tou[i].planned_a = a;
        if (a <= 0 || a + EPS < sc[i].min_a) {
            tou[i].deferred = true;
            tou[i].next_start = first_planned(in, i);
            sc[i].active = false;
        } else if (a < sc[i].max_a) {
            sc[i].max_a = a < sc[i].min_a ? sc[i].min_a : a; /* within EPS of it */
        }
    }
    rc = smart_allocate(ws, &q, out);
    if (rc != SMART_ALLOC_OK) return rc;
    for (int i = 0; i < p->n_evses; i++)
        if (tou[i].deferred) out[i] = (smart_grant_t){0, true};
    return SMART_ALLOC_OK;
}
