/*
 * Specification of the power allocator (src/smart/alloc.h): hand-computed
 * cases for every rule (feeders, phase rotation, single-phase cars, minimum
 * current and pausing, unused current, priority classes, deadlines, the
 * schedule's cheapest slots and demand response), hostile input rejected,
 * and a seeded randomized test checking the header's invariants on
 * thousands of random trees.
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

/* ---- helpers ----------------------------------------------------------------------------- */

static smart_node_t node3(int parent, double limit)
{
    return (smart_node_t){parent, {limit, limit, limit}, {0, 0, 0}};
}

static smart_evse_t car(int node, int phases, double min_a, double max_a)
{
    return (smart_evse_t){.node = node,
                          .phase_of = {0, 1, 2},
                          .phases = (uint8_t)phases,
                          .active = true,
                          .min_a = min_a,
                          .max_a = max_a,
                          .draw_a = -1,
                          .voltage_v = 230};
}

static smart_grant_t g[64];
static smart_workspace_t *ws;

static int setup(void **state)
{
    ws = smart_workspace_new();
    return 0;
}

static int teardown(void **state)
{
    smart_workspace_free(ws);
    return 0;
}

static smart_alloc_err_t run(const smart_node_t *nodes, int nn, const smart_evse_t *ev, int ne,
                             smart_policy_t policy)
{
    smart_problem_t p = {nodes, nn, ev, ne, policy, 1000000};
    memset(g, 0xff, sizeof g);
    return smart_allocate(ws, &p, g);
}

#define assert_amps(x, want) assert_true(fabs((x) - (want)) < TOL)

/* ---- allocation by hand ------------------------------------------------------------------ */

/* Feeder A (32 A) holds three cars to 10.67 A each; the root's 100 A leaves
 * 68 A for feeder B's two cars, each capped at its 32 A maximum. */
static void test_two_feeders(void **state)
{
    smart_node_t n[] = {node3(-1, 100), node3(0, 32), node3(0, INFINITY)};
    smart_evse_t e[] = {car(1, 3, 6, 32), car(1, 3, 6, 32), car(1, 3, 6, 32), car(2, 3, 6, 32),
                        car(2, 3, 6, 32)};
    assert_int_equal(run(n, 3, e, 5, SMART_POLICY_EQUAL), SMART_ALLOC_OK);
    for (int i = 0; i < 3; i++)
        assert_amps(g[i].current_a, 32.0 / 3);
    assert_amps(g[3].current_a, 32);
    assert_amps(g[4].current_a, 32);
    for (int i = 0; i < 5; i++)
        assert_false(g[i].paused);
}

/* Single-phase cars behind rotated stations: two share grid L1, the third
 * alone on L2 gets its maximum. */
static void test_phase_rotation(void **state)
{
    smart_node_t n[] = {node3(-1, 32)};
    smart_evse_t e[] = {car(0, 1, 6, 32), car(0, 1, 6, 32), car(0, 1, 6, 32)};
    e[1].phase_of[0] = 1, e[1].phase_of[1] = 2, e[1].phase_of[2] = 0;
    assert_int_equal(run(n, 1, e, 3, SMART_POLICY_EQUAL), SMART_ALLOC_OK);
    assert_amps(g[0].current_a, 16);
    assert_amps(g[1].current_a, 32);
    assert_amps(g[2].current_a, 16);
}

/* A three-phase car and a single-phase car rotated onto L2: they share L2,
 * and L1 carries only the three-phase car. Limit 30 A: 15 A each. */
static void test_single_phase_car(void **state)
{
    smart_node_t n[] = {node3(-1, 30)};
    smart_evse_t e[] = {car(0, 3, 6, 32), car(0, 1, 6, 32)};
    e[1].phase_of[0] = 1, e[1].phase_of[1] = 2, e[1].phase_of[2] = 0;
    assert_int_equal(run(n, 1, e, 2, SMART_POLICY_EQUAL), SMART_ALLOC_OK);
    assert_amps(g[0].current_a, 15);
    assert_amps(g[1].current_a, 15);
    /* on L1 alone the three-phase car could have 30 A; L2 holds it back (max-min) */
}

/* 16 A for three cars of min 6 A: 5.33 A each is below the minimum, so the
 * lowest-ranked (last) car is paused and the other two get 8 A. */
static void test_min_pause(void **state)
{
    smart_node_t n[] = {node3(-1, 16)};
    smart_evse_t e[] = {car(0, 3, 6, 32), car(0, 3, 6, 32), car(0, 3, 6, 32)};
    assert_int_equal(run(n, 1, e, 3, SMART_POLICY_EQUAL), SMART_ALLOC_OK);
    assert_amps(g[0].current_a, 8);
    assert_amps(g[1].current_a, 8);
    assert_amps(g[2].current_a, 0);
    assert_true(g[2].paused);
    assert_false(g[0].paused);
    /* a higher priority protects the last car: the middle one pauses instead */
    e[2].priority = 1;
    assert_int_equal(run(n, 1, e, 3, SMART_POLICY_EQUAL), SMART_ALLOC_OK);
    assert_amps(g[0].current_a, 8);
    assert_true(g[1].paused);
    assert_amps(g[2].current_a, 8);
}

/* A paused car that fits later is resumed: a 20 A feeder with two cars
 * (min 6) under a 14 A... the car on the other feeder still fits at min. */
static void test_paused_resumes_with_spare(void **state)
{
    /* root 20; feeder 1 (INF) holds three min-10 cars, feeder 2 one car max 6 */
    smart_node_t n[] = {node3(-1, 26), node3(0, INFINITY), node3(0, INFINITY)};
    smart_evse_t e[] = {car(1, 3, 10, 32), car(1, 3, 10, 32), car(1, 3, 10, 32), car(2, 3, 6, 6)};
    assert_int_equal(run(n, 3, e, 4, SMART_POLICY_EQUAL), SMART_ALLOC_OK);
    /* 6 A for the small car leaves 20 A: two cars at 10 A, the third paused */
    assert_amps(g[3].current_a, 6);
    assert_amps(g[0].current_a, 10);
    assert_amps(g[1].current_a, 10);
    assert_true(g[2].paused);
}

/* A car granted 10 A but drawing 5 A is capped at 5 A + headroom; the others
 * share what it leaves. Drawing 9 A of 10 is not "clearly less". */
static void test_unused_redistributed(void **state)
{
    smart_node_t n[] = {node3(-1, 30)};
    smart_evse_t e[] = {car(0, 3, 6, 32), car(0, 3, 6, 32), car(0, 3, 6, 32)};
    e[0].granted_a = 10, e[0].draw_a = 5;
    assert_int_equal(run(n, 1, e, 3, SMART_POLICY_EQUAL), SMART_ALLOC_OK);
    assert_amps(g[0].current_a, 5 + SMART_DRAW_HEADROOM_A);
    assert_amps(g[1].current_a, (30 - 7) / 2.0);
    assert_amps(g[2].current_a, (30 - 7) / 2.0);
    e[0].draw_a = 9;
    assert_int_equal(run(n, 1, e, 3, SMART_POLICY_EQUAL), SMART_ALLOC_OK);
    assert_amps(g[0].current_a, 10);
    /* drawing 1 A: capped at its minimum, never below */
    e[0].draw_a = 1;
    assert_int_equal(run(n, 1, e, 3, SMART_POLICY_EQUAL), SMART_ALLOC_OK);
    assert_amps(g[0].current_a, 6);
    assert_amps(g[1].current_a, 12);
}

/* Two fleet cars (priority 2) take 16 A each of 40; the three public cars
 * share 8 A: two pause (last first) so the first reaches its 6 A minimum. */
static void test_priority_classes(void **state)
{
    smart_node_t n[] = {node3(-1, 40)};
    smart_evse_t e[] = {car(0, 3, 6, 32), car(0, 3, 6, 32), car(0, 3, 6, 32), car(0, 3, 6, 16),
                        car(0, 3, 6, 16)};
    e[3].priority = e[4].priority = 2;
    assert_int_equal(run(n, 1, e, 5, SMART_POLICY_PRIORITY), SMART_ALLOC_OK);
    assert_amps(g[3].current_a, 16);
    assert_amps(g[4].current_a, 16);
    assert_amps(g[0].current_a, 8);
    assert_true(g[1].paused);
    assert_true(g[2].paused);
    /* the same cars under EQUAL: 8 A each */
    assert_int_equal(run(n, 1, e, 5, SMART_POLICY_EQUAL), SMART_ALLOC_OK);
    for (int i = 0; i < 5; i++)
        assert_amps(g[i].current_a, 8);
}

/* Car 0 must have 4.6 kWh in one hour on one phase at 230 V: 20 A. Under
 * DEADLINE it gets that; car 1 (no deadline) gets the remaining 12 A. Under
 * EQUAL both get 16 A. */
static void test_deadline_floor(void **state)
{
    smart_node_t n[] = {node3(-1, 32)};
    smart_evse_t e[] = {car(0, 1, 6, 32), car(0, 1, 6, 32)};
    e[0].need_wh = 4600, e[0].departure = 1000000 + 3600;
    assert_int_equal(run(n, 1, e, 2, SMART_POLICY_DEADLINE), SMART_ALLOC_OK);
    assert_amps(g[0].current_a, 20);
    assert_amps(g[1].current_a, 12);
    assert_int_equal(run(n, 1, e, 2, SMART_POLICY_EQUAL), SMART_ALLOC_OK);
    assert_amps(g[0].current_a, 16);
    /* with room to spare, the deadline car still rises with the others */
    n[0] = node3(-1, 64);
    assert_int_equal(run(n, 1, e, 2, SMART_POLICY_DEADLINE), SMART_ALLOC_OK);
    assert_amps(g[0].current_a, 32);
    assert_amps(g[1].current_a, 32);
}

/* Least laxity first: car 1 needs 20 A for the next hour, car 0 needs 20 A
 * over two hours (10 A now, laxity > car 1's). 30 A: car 1 gets 20, car 0 10. */
static void test_deadline_least_laxity(void **state)
{
    smart_node_t n[] = {node3(-1, 30)};
    smart_evse_t e[] = {car(0, 1, 6, 32), car(0, 1, 6, 32), car(0, 1, 6, 32)};
    e[0].need_wh = 4600, e[0].departure = 1000000 + 7200;
    e[1].need_wh = 4600, e[1].departure = 1000000 + 3600;
    e[2].active = false;
    assert_int_equal(run(n, 1, e, 3, SMART_POLICY_DEADLINE), SMART_ALLOC_OK);
    assert_amps(g[1].current_a, 20);
    assert_amps(g[0].current_a, 10);
    assert_amps(g[2].current_a, 0);
    assert_false(g[2].paused);
    /* 24 A: car 1 keeps its 20 A, car 0 cannot have its 6 A minimum in the
     * 4 A left: paused, and car 1 rises into them */
    n[0] = node3(-1, 24);
    assert_int_equal(run(n, 1, e, 3, SMART_POLICY_DEADLINE), SMART_ALLOC_OK);
    assert_amps(g[1].current_a, 24);
    assert_true(g[0].paused);
}

/* Reserved building load comes off the limit; more reserved than the limit
 * pauses everyone; a phase the node lacks (limit 0) pauses cars needing it. */
static void test_reserved_and_absent_phase(void **state)
{
    smart_node_t n[] = {node3(-1, 40)};
    n[0].reserved_a[0] = n[0].reserved_a[1] = n[0].reserved_a[2] = 20;
    smart_evse_t e[] = {car(0, 3, 6, 32), car(0, 3, 6, 32)};
    assert_int_equal(run(n, 1, e, 2, SMART_POLICY_EQUAL), SMART_ALLOC_OK);
    assert_amps(g[0].current_a, 10);
    n[0].reserved_a[1] = 50;
    assert_int_equal(run(n, 1, e, 2, SMART_POLICY_EQUAL), SMART_ALLOC_OK);
    assert_true(g[0].paused && g[1].paused);
    smart_node_t m[] = {node3(-1, 40), {0, {32, 32, 0}, {0}}};
    smart_evse_t f[] = {car(1, 3, 6, 32), car(1, 1, 6, 32)};
    assert_int_equal(run(m, 2, f, 2, SMART_POLICY_EQUAL), SMART_ALLOC_OK);
    assert_true(g[0].paused);
    assert_amps(g[1].current_a, 32);
}

/* ---- hostile input ----------------------------------------------------------------------- */

static void test_invalid_input(void **state)
{
    smart_node_t n[] = {node3(-1, 32), node3(0, 16)};
    smart_evse_t e[] = {car(1, 3, 6, 32)};
    assert_int_equal(run(n, 2, e, 1, SMART_POLICY_EQUAL), SMART_ALLOC_OK);

    n[1].parent = 2; /* out of range */
    assert_int_equal(run(n, 2, e, 1, SMART_POLICY_EQUAL), SMART_ALLOC_INVALID);
    n[1].parent = -2;
    assert_int_equal(run(n, 2, e, 1, SMART_POLICY_EQUAL), SMART_ALLOC_INVALID);
    n[1].parent = 1; /* self loop */
    assert_int_equal(run(n, 2, e, 1, SMART_POLICY_EQUAL), SMART_ALLOC_INVALID);
    n[0].parent = 1; /* two-node cycle */
    n[1].parent = 0;
    assert_int_equal(run(n, 2, e, 1, SMART_POLICY_EQUAL), SMART_ALLOC_INVALID);
    n[0].parent = -1;
    n[1].limit_a[2] = NAN;
    assert_int_equal(run(n, 2, e, 1, SMART_POLICY_EQUAL), SMART_ALLOC_INVALID);
    n[1].limit_a[2] = -1;
    assert_int_equal(run(n, 2, e, 1, SMART_POLICY_EQUAL), SMART_ALLOC_INVALID);
    n[1].limit_a[2] = 16;
    n[1].reserved_a[0] = -3;
    assert_int_equal(run(n, 2, e, 1, SMART_POLICY_EQUAL), SMART_ALLOC_INVALID);
    n[1].reserved_a[0] = 0;
}

static void spoil_node(smart_evse_t *e)
{
    e->node = 5;
}
static void spoil_phases0(smart_evse_t *e)
{
    e->phases = 0;
}
static void spoil_phases4(smart_evse_t *e)
{
    e->phases = 4;
}
static void spoil_rotation(smart_evse_t *e)
{
    e->phase_of[1] = 0;
}
static void spoil_grid_phase(smart_evse_t *e)
{
    e->phase_of[2] = 3;
}
static void spoil_min_max(smart_evse_t *e)
{
    e->min_a = 40;
}
static void spoil_max_nan(smart_evse_t *e)
{
    e->max_a = NAN;
}
static void spoil_max_inf(smart_evse_t *e)
{
    e->max_a = INFINITY;
}
static void spoil_min_neg(smart_evse_t *e)
{
    e->min_a = -1;
}
static void spoil_draw_nan(smart_evse_t *e)
{
    e->draw_a = NAN;
}
static void spoil_voltage(smart_evse_t *e)
{
    e->need_wh = 1000, e->departure = 5, e->voltage_v = 0;
}

static void test_invalid_evse(void **state)
{
    void (*spoil[])(smart_evse_t *) = {spoil_node,     spoil_phases0,    spoil_phases4,
                                       spoil_rotation, spoil_grid_phase, spoil_min_max,
                                       spoil_max_nan,  spoil_max_inf,    spoil_min_neg,
                                       spoil_draw_nan, spoil_voltage};
    for (size_t k = 0; k < sizeof spoil / sizeof spoil[0]; k++) {
        smart_node_t n[] = {node3(-1, 32)};
        smart_evse_t e[] = {car(0, 3, 6, 32)};
        spoil[k](e);
        assert_int_equal(run(n, 1, e, 1, SMART_POLICY_EQUAL), SMART_ALLOC_INVALID);
    }
    /* an inactive EVSE's fields other than its node are not looked at */
    smart_node_t n[] = {node3(-1, 32)};
    smart_evse_t e[] = {{.node = 0}};
    assert_int_equal(run(n, 1, e, 1, SMART_POLICY_EQUAL), SMART_ALLOC_OK);
    assert_amps(g[0].current_a, 0);
    smart_problem_t p = {n, 1, e, 1, (smart_policy_t)7, 0};
    assert_int_equal(smart_allocate(ws, &p, g), SMART_ALLOC_INVALID);
    p = (smart_problem_t){n, -1, e, 1, SMART_POLICY_EQUAL, 0};
    assert_int_equal(smart_allocate(ws, &p, g), SMART_ALLOC_INVALID);
    p = (smart_problem_t){NULL, 1, e, 1, SMART_POLICY_EQUAL, 0};
    assert_int_equal(smart_allocate(ws, &p, g), SMART_ALLOC_INVALID);
}

/* ---- schedules --------------------------------------------------------------------------- */

#define NOW 1000000
static double plan[64 * 8];
static bool unsat[64];
static smart_schedule_report_t rep;

static void slots4(smart_slot_t *s, const double *price, double root)
{
    for (int k = 0; k < 4; k++)
        s[k] = (smart_slot_t){NOW + 3600 * k, {root, root, root}, price[k]};
}

static smart_alloc_err_t sched(const smart_node_t *n, int nn, const smart_evse_t *e, int ne,
                               const smart_slot_t *s, int ns)
{
    smart_problem_t p = {n, nn, e, ne, SMART_POLICY_DEADLINE, NOW};
    memset(plan, 0xff, sizeof plan);
    return smart_schedule(ws, &p, s, ns, 3600, plan, unsat, &rep);
}

/* Two hours' worth at 32 A go into the two cheapest of four slots. */
static void test_schedule_cheapest_slots(void **state)
{
    smart_node_t n[] = {node3(-1, 32)};
    smart_evse_t e[] = {car(0, 1, 6, 32)};
    e[0].need_wh = 2 * 32 * 230, e[0].departure = NOW + 4 * 3600;
    smart_slot_t s[4];
    slots4(s, (double[]){0.30, 0.10, 0.20, 0.05}, INFINITY);
    assert_int_equal(sched(n, 1, e, 1, s, 4), SMART_ALLOC_OK);
    assert_amps(plan[0], 0);
    assert_amps(plan[1], 32);
    assert_amps(plan[2], 0);
    assert_amps(plan[3], 32);
    assert_int_equal(rep.unsatisfied, 0);
    assert_false(unsat[0]);
    assert_amps(rep.energy_planned_wh, 2 * 32 * 230);
    assert_amps(rep.cost, 7.36 * 0.05 + 7.36 * 0.10);
}

/* Room for one car per slot: the earlier departure picks first (the cheap
 * slot 1), the later one takes the next cheapest it can still use. */
static void test_schedule_earliest_deadline_first(void **state)
{
    smart_node_t n[] = {node3(-1, 32)};
    smart_evse_t e[] = {car(0, 1, 6, 32), car(0, 1, 6, 32)};
    e[0].need_wh = 32 * 230, e[0].departure = NOW + 4 * 3600;
    e[1].need_wh = 32 * 230, e[1].departure = NOW + 2 * 3600;
    smart_slot_t s[4];
    slots4(s, (double[]){0.30, 0.05, 0.10, 0.20}, INFINITY);
    assert_int_equal(sched(n, 1, e, 2, s, 4), SMART_ALLOC_OK);
    assert_amps(plan[4 + 1], 32); /* car 1 (departs first) in slot 1 */
    assert_amps(plan[4 + 0], 0);
    assert_amps(plan[2], 32); /* car 0 in slot 2 */
    assert_amps(plan[1], 0);
    assert_int_equal(rep.unsatisfied, 0);
}

/* A demand-response limit of 10 A in slot 3: the plan keeps to it and the
 * session that needed all four hours at full power is reported unsatisfied. */
static void test_schedule_demand_response(void **state)
{
    smart_node_t n[] = {node3(-1, 32)};
    smart_evse_t e[] = {car(0, 1, 6, 32)};
    e[0].need_wh = 4 * 32 * 230, e[0].departure = NOW + 4 * 3600;
    smart_slot_t s[4];
    slots4(s, (double[]){0.1, 0.1, 0.1, 0.1}, INFINITY);
    s[3].root_limit_a[0] = 10;
    assert_int_equal(sched(n, 1, e, 1, s, 4), SMART_ALLOC_OK);
    assert_amps(plan[0], 32);
    assert_amps(plan[3], 10);
    assert_int_equal(rep.unsatisfied, 1);
    assert_true(unsat[0]);
    assert_amps(rep.energy_planned_wh, (3 * 32 + 10) * 230.0);
}

/* The session without a departure shares what the flexible one leaves. */
static void test_schedule_inflexible_equal_share(void **state)
{
    smart_node_t n[] = {node3(-1, 32)};
    smart_evse_t e[] = {car(0, 1, 6, 20), car(0, 1, 6, 32)};
    e[0].need_wh = 20 * 230, e[0].departure = NOW + 4 * 3600;
    smart_slot_t s[4];
    slots4(s, (double[]){0.1, 0.2, 0.2, 0.2}, INFINITY);
    assert_int_equal(sched(n, 1, e, 2, s, 4), SMART_ALLOC_OK);
    assert_amps(plan[0], 20);
    assert_amps(plan[1], 0);
    assert_amps(plan[4 + 0], 12);
    for (int k = 1; k < 4; k++)
        assert_amps(plan[4 + k], 32);
}

/* Half an hour is left of the first slot: a need of half an hour at 32 A fits
 * there; a departure mid-slot limits the energy of that slot. */
static void test_schedule_partial_slots(void **state)
{
    smart_node_t n[] = {node3(-1, 32)};
    smart_evse_t e[] = {car(0, 1, 6, 32)};
    e[0].need_wh = 32 * 230 * 1.0, e[0].departure = NOW + 3600;
    smart_slot_t s[4];
    slots4(s, (double[]){0.1, 0.2, 0.3, 0.4}, INFINITY);
    for (int k = 0; k < 4; k++)
        s[k].start -= 1800; /* now is half way through slot 0 */
    assert_int_equal(sched(n, 1, e, 1, s, 4), SMART_ALLOC_OK);
    assert_amps(plan[0], 32);
    assert_amps(plan[1], 32);
    assert_amps(plan[2], 0);
    assert_amps(rep.energy_planned_wh, 32 * 230 * 1.0);
    assert_amps(rep.cost, 3.68 * 0.1 + 3.68 * 0.2);
}

static void test_schedule_invalid(void **state)
{
    smart_node_t n[] = {node3(-1, 32)};
    smart_evse_t e[] = {car(0, 1, 6, 32)};
    smart_slot_t s[4];
    slots4(s, (double[]){0.1, 0.2, 0.3, 0.4}, INFINITY);
    smart_problem_t p = {n, 1, e, 1, SMART_POLICY_EQUAL, NOW};
    assert_int_equal(smart_schedule(ws, &p, s, 4, 0, plan, NULL, NULL), SMART_ALLOC_INVALID);
    assert_int_equal(smart_schedule(ws, &p, s, -1, 3600, plan, NULL, NULL), SMART_ALLOC_INVALID);
    s[2].start += 60; /* not contiguous */
    assert_int_equal(smart_schedule(ws, &p, s, 4, 3600, plan, NULL, NULL), SMART_ALLOC_INVALID);
    s[2].start -= 60;
    s[1].root_limit_a[1] = NAN;
    assert_int_equal(smart_schedule(ws, &p, s, 4, 3600, plan, NULL, NULL), SMART_ALLOC_INVALID);
    s[1].root_limit_a[1] = -5;
    assert_int_equal(smart_schedule(ws, &p, s, 4, 3600, plan, NULL, NULL), SMART_ALLOC_INVALID);
    s[1].root_limit_a[1] = 5;
    assert_int_equal(smart_schedule(ws, &p, s, 4, 3600, plan, NULL, NULL), SMART_ALLOC_OK);
    n[0].parent = 0;
    assert_int_equal(smart_schedule(ws, &p, s, 4, 3600, plan, NULL, NULL), SMART_ALLOC_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_feeders),
        cmocka_unit_test(test_phase_rotation),
        cmocka_unit_test(test_single_phase_car),
        cmocka_unit_test(test_min_pause),
        cmocka_unit_test(test_paused_resumes_with_spare),
        cmocka_unit_test(test_unused_redistributed),
        cmocka_unit_test(test_priority_classes),
        cmocka_unit_test(test_deadline_floor),
        cmocka_unit_test(test_deadline_least_laxity),
        cmocka_unit_test(test_reserved_and_absent_phase),
        cmocka_unit_test(test_invalid_input),
        cmocka_unit_test(test_invalid_evse),
        cmocka_unit_test(test_schedule_cheapest_slots),
        cmocka_unit_test(test_schedule_earliest_deadline_first),
        cmocka_unit_test(test_schedule_demand_response),
        cmocka_unit_test(test_schedule_inflexible_equal_share),
        cmocka_unit_test(test_schedule_partial_slots),
        cmocka_unit_test(test_schedule_invalid),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
