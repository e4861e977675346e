/*
 * Randomized specification of the power allocator: thousands of seeded random
 * capacity trees (random depth, limits, reserved load, rotations, single- and
 * three-phase cars, minimums, measured draws, priorities, deadlines), each
 * result checked against the invariants alloc.h promises:
 *  - no node's limit is exceeded on any phase;
 *  - every grant is 0 (inactive or paused) or within [min_a, cap];
 *  - no waste: an EVSE below its cap and not paused has a saturated link on
 *    its path, and a paused one could not have had its minimum;
 *  - under EQUAL with nobody paused the result is max-min fair: every EVSE
 *    below its cap has a saturated link on which nobody gets more;
 *  - the same problem gives the same answer with a fresh or a reused workspace.
 * Schedules are checked slot by slot the same way. A failure prints the seed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "smart/alloc.h"

#define TOL 1e-6
#define MAX_NODES 40
#define MAX_EVSES 80
#define NOW 1700000000

static uint64_t rng;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int below(int n)
{
    return (int)(next() % (uint64_t)n);
}

static double uniform(double lo, double hi)
{
    return lo + (hi - lo) * (double)(next() >> 11) / (double)(1ULL << 53);
}

typedef struct instance {
    smart_node_t nodes[MAX_NODES];
    smart_evse_t evses[MAX_EVSES];
    smart_problem_t p;
} instance_t;

static void random_instance(instance_t *in)
{
    int nn = 1 + below(MAX_NODES), ne = below(MAX_EVSES + 1);
    for (int v = 0; v < nn; v++) {
        smart_node_t *n = &in->nodes[v];
        n->parent = v == 0 ? -1 : below(v);
        for (int k = 0; k < 3; k++) {
            int r = below(10);
            n->limit_a[k] = r < 3 ? INFINITY : r < 4 ? 0 : uniform(0, v == 0 ? 400 : 120);
            n->reserved_a[k] = below(4) == 0 ? uniform(0, 40) : 0;
        }
    }
    static const uint8_t rot[6][3] = {{0, 1, 2}, {1, 2, 0}, {2, 0, 1},
                                      {0, 2, 1}, {1, 0, 2}, {2, 1, 0}};
    for (int i = 0; i < ne; i++) {
        smart_evse_t *e = &in->evses[i];
        memset(e, 0, sizeof *e);
        e->node = below(nn);
        memcpy(e->phase_of, rot[below(6)], 3);
        e->phases = (uint8_t)(below(3) == 0 ? 1 : below(8) == 0 ? 2 : 3);
        e->active = below(8) != 0;
        e->min_a = below(4) == 0 ? 0 : uniform(1, 10);
        e->max_a = e->min_a + uniform(0, 40);
        e->draw_a = -1;
        if (below(4) == 0) {
            e->granted_a = uniform(0, e->max_a);
            e->draw_a = uniform(0, e->granted_a);
        }
        e->priority = below(3);
        e->voltage_v = 230;
        if (below(3) == 0) {
            e->need_wh = uniform(0, 60000);
            e->departure = NOW + below(12 * 3600) - 600;
        }
    }
    in->p = (smart_problem_t){in->nodes, nn, in->evses, ne, (smart_policy_t)below(3), NOW};
}

/* The cap the header describes: max_a, or draw + headroom when drawing clearly less. */
static double spec_cap(const smart_evse_t *e)
{
    double cap = e->max_a;
    if (e->draw_a >= 0 && e->granted_a > 0 && e->draw_a < e->granted_a - SMART_DRAW_HEADROOM_A)
        cap = fmin(cap, fmax(e->min_a, e->draw_a + SMART_DRAW_HEADROOM_A));
    return cap;
}

static double link_cap(const smart_node_t *n, int k, double root_override)
{
    double lim = n->limit_a[k];
    if (n->parent < 0 && root_override < lim) lim = root_override;
    return isinf(lim) ? INFINITY : fmax(0, lim - n->reserved_a[k]);
}

/* load[v*3+k] = sum of amps[i] over EVSEs whose path loads (v, k). */
static void loads(const smart_problem_t *p, const double *amps, size_t stride, double *load)
{
    memset(load, 0, sizeof(double) * 3 * (size_t)p->n_nodes);
    for (int i = 0; i < p->n_evses; i++) {
        const smart_evse_t *e = &p->evses[i];
        for (int v = e->node; v >= 0; v = p->nodes[v].parent)
            for (int k = 0; k < e->phases; k++)
                load[v * 3 + e->phase_of[k]] += amps[(size_t)i * stride];
    }
}

/* Spare capacity per link, INFINITY when unlimited. */
static void spare(const smart_problem_t *p, const double *load, double root_override, double *out)
{
    for (int v = 0; v < p->n_nodes; v++)
        for (int k = 0; k < 3; k++)
            out[v * 3 + k] = link_cap(&p->nodes[v], k, root_override) - load[v * 3 + k];
}

static double path_min(const smart_problem_t *p, int i, const double *per_link)
{
    const smart_evse_t *e = &p->evses[i];
    double m = INFINITY;
    for (int v = e->node; v >= 0; v = p->nodes[v].parent)
        for (int k = 0; k < e->phases; k++)
            m = fmin(m, per_link[v * 3 + e->phase_of[k]]);
    return m;
}

/* Max-min fairness: i has a saturated link on which nobody gets more than i. */
static bool bottlenecked(const smart_problem_t *p, int i, const double *amps, const double *sp)
{
    const smart_evse_t *e = &p->evses[i];
    for (int v = e->node; v >= 0; v = p->nodes[v].parent)
        for (int k = 0; k < e->phases; k++) {
            int l = v * 3 + e->phase_of[k];
            if (sp[l] > TOL) continue;
            bool top = true;
            for (int j = 0; j < p->n_evses && top; j++) {
                const smart_evse_t *f = &p->evses[j];
                for (int u = f->node; u >= 0 && top; u = p->nodes[u].parent)
                    for (int q = 0; q < f->phases; q++)
                        if (u * 3 + f->phase_of[q] == l && amps[j] > amps[i] + TOL) top = false;
            }
            if (top) return true;
        }
    return false;
}

static void check_allocation(const smart_problem_t *p, const smart_grant_t *g, uint64_t seed)
{
    double amps[MAX_EVSES], load[MAX_NODES * 3], sp[MAX_NODES * 3];
    bool any_paused = false;
    for (int i = 0; i < p->n_evses; i++) {
        amps[i] = g[i].current_a;
        any_paused |= g[i].paused;
    }
    loads(p, amps, 1, load);
    spare(p, load, INFINITY, sp);
    for (int l = 0; l < p->n_nodes * 3; l++)
        if (sp[l] < -TOL)
            fail_msg("seed %llu: link %d over by %g", (unsigned long long)seed, l, -sp[l]);
    for (int i = 0; i < p->n_evses; i++) {
        const smart_evse_t *e = &p->evses[i];
        double a = g[i].current_a, cap = spec_cap(e);
        if (!e->active || g[i].paused) {
            if (a != 0 || (!e->active && g[i].paused))
                fail_msg("seed %llu: evse %d inactive/paused with %g A", (unsigned long long)seed,
                         i, a);
            if (g[i].paused && path_min(p, i, sp) + TOL >= e->min_a)
                fail_msg("seed %llu: evse %d paused though %g A spare >= min %g",
                         (unsigned long long)seed, i, path_min(p, i, sp), e->min_a);
            continue;
        }
        if (a < e->min_a - TOL || a > cap + TOL)
            fail_msg("seed %llu: evse %d got %g outside [%g, %g]", (unsigned long long)seed, i, a,
                     e->min_a, cap);
        if (a < cap - TOL && path_min(p, i, sp) > TOL)
            fail_msg("seed %llu: evse %d below cap (%g < %g) with %g A spare on its path",
                     (unsigned long long)seed, i, a, cap, path_min(p, i, sp));
        if (p->policy == SMART_POLICY_EQUAL && !any_paused && a < cap - TOL &&
            !bottlenecked(p, i, amps, sp))
            fail_msg("seed %llu: evse %d not max-min fair", (unsigned long long)seed, i);
    }
}

static void test_random_allocations(void **state)
{
    static instance_t in;
    static smart_grant_t g[MAX_EVSES], h[MAX_EVSES];
    smart_workspace_t *ws = smart_workspace_new();
    int paused = 0, runs = 0;
    for (uint64_t seed = 1; seed <= 6000; seed++) {
        rng = seed * 0x9E3779B97F4A7C15ULL;
        random_instance(&in);
        if (in.p.policy == SMART_POLICY_EQUAL && below(2)) /* min 0 everywhere: no pausing */
            for (int i = 0; i < in.p.n_evses; i++)
                in.evses[i].min_a = 0;
        assert_int_equal(smart_allocate(ws, &in.p, g), SMART_ALLOC_OK);
        check_allocation(&in.p, g, seed);
        smart_workspace_t *fresh = smart_workspace_new();
        assert_int_equal(smart_allocate(fresh, &in.p, h), SMART_ALLOC_OK);
        smart_workspace_free(fresh);
        for (int i = 0; i < in.p.n_evses; i++) {
            assert_true(g[i].current_a == h[i].current_a && g[i].paused == h[i].paused);
            paused += g[i].paused;
        }
        runs++;
    }
    /* the generator must exercise pausing, or the checks above prove little */
    assert_true(paused > runs / 10);
    smart_workspace_free(ws);
}

static void test_random_schedules(void **state)
{
    enum { SLOTS = 8, SLOT_S = 900 };
    static instance_t in;
    static double plan[MAX_EVSES * SLOTS];
    static bool unsat[MAX_EVSES];
    double load[MAX_NODES * 3], sp[MAX_NODES * 3];
    smart_workspace_t *ws = smart_workspace_new();
    for (uint64_t seed = 1; seed <= 1500; seed++) {
        rng = seed * 0x2545F4914F6CDD1DULL;
        random_instance(&in);
        smart_slot_t slots[SLOTS];
        for (int s = 0; s < SLOTS; s++) {
            double lim = below(3) == 0 ? uniform(0, 200) : INFINITY;
            slots[s] = (smart_slot_t){
                NOW - 300 + SLOT_S * s, {lim, lim, lim}, below(5) == 0 ? NAN : uniform(0.05, 0.5)};
        }
        smart_schedule_report_t rep;
        assert_int_equal(smart_schedule(ws, &in.p, slots, SLOTS, SLOT_S, plan, unsat, &rep),
                         SMART_ALLOC_OK);
        double energy = 0;
        int n_unsat = 0;
        for (int s = 0; s < SLOTS; s++) {
            loads(&in.p, plan + s, SLOTS, load);
            spare(&in.p, load, slots[s].root_limit_a[0], sp);
            for (int l = 0; l < in.p.n_nodes * 3; l++)
                if (sp[l] < -TOL)
                    fail_msg("seed %llu slot %d: link %d over by %g", (unsigned long long)seed, s,
                             l, -sp[l]);
        }
        for (int i = 0; i < in.p.n_evses; i++) {
            const smart_evse_t *e = &in.evses[i];
            double wh = 0;
            for (int s = 0; s < SLOTS; s++) {
                double a = plan[i * SLOTS + s];
                if (a == 0) continue;
                if (!e->active || a < e->min_a - TOL || a > e->max_a + TOL)
                    fail_msg("seed %llu: evse %d slot %d planned %g A", (unsigned long long)seed, i,
                             s, a);
                int64_t from = slots[s].start > NOW ? slots[s].start : NOW;
                int64_t to = slots[s].start + SLOT_S;
                if (e->departure > NOW && e->departure < to) to = e->departure;
                if (to <= from)
                    fail_msg("seed %llu: evse %d planned after departure", (unsigned long long)seed,
                             i);
                wh += a * e->phases * e->voltage_v * (double)(to - from) / 3600;
            }
            energy += wh;
            n_unsat += unsat[i];
            if (e->active && e->need_wh > 0 && e->departure > 0 && !unsat[i] &&
                wh < e->need_wh - 1e-3)
                fail_msg("seed %llu: evse %d satisfied with %g of %g Wh", (unsigned long long)seed,
                         i, wh, e->need_wh);
        }
        assert_int_equal(n_unsat, rep.unsatisfied);
        assert_true(fabs(energy - rep.energy_planned_wh) < 1e-3 * (1 + energy));
    }
    smart_workspace_free(ws);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_allocations),
        cmocka_unit_test(test_random_schedules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
