/*
 * Specification of time of use in the live allocation (smart_allocate_tou,
 * src/smart/alloc_tou.c): a car whose need fits in the cheap hours waits
 * for them and leaves its share to the others; one whose need does not fit
 * charges now as much as the plan says; one the plan cannot serve, or too
 * close to its departure, or waiting for capacity rather than a price, gets
 * the site policy's grant; limits hold; bad
 * input is refused.
 *
 * The site: one three-phase 32 A connection, eight 15-minute slots at 0.30
 * per kWh but for slots 2-5 at 0.10. A three-phase car at 32 A takes 22.08
 * kW: 5.52 kWh a slot, 22.08 kWh in the four cheap slots.
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
#define SLOT 900
#define NS 8
#define T0 ((int64_t)1800000000 - (int64_t)1800000000 % SLOT)
#define WH_PER_SLOT (32.0 * 3 * 230 * SLOT / 3600.0) /* 5520 */

static smart_workspace_t *ws;
static smart_slot_t slots[NS];
static double plan[4 * NS];
static bool unsat[4];
static smart_evse_t scratch[4];
static smart_grant_t g[4];
static smart_tou_t tou[4];
static const smart_node_t root = {-1, {32, 32, 32}, {0, 0, 0}};

#define assert_amps(x, want) assert_true(fabs((x) - (want)) < TOL)

static int setup(void **state)
{
    (void)state;
    ws = smart_workspace_new();
    for (int k = 0; k < NS; k++)
        slots[k] =
            (smart_slot_t){T0 + (int64_t)k * SLOT, {32, 32, 32}, k >= 2 && k <= 5 ? 0.10 : 0.30};
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    smart_workspace_free(ws);
    return 0;
}

static smart_evse_t car(void)
{
    return (smart_evse_t){.node = 0,
                          .phase_of = {0, 1, 2},
                          .phases = 3,
                          .active = true,
                          .min_a = 6,
                          .max_a = 32,
                          .draw_a = -1,
                          .voltage_v = 230};
}

/* A car that must be gone by the end of the last slot plus the margin. */
static smart_evse_t flexible(double need_wh)
{
    smart_evse_t e = car();
    e.need_wh = need_wh;
    e.departure = T0 + NS * SLOT + SLOT;
    return e;
}

static smart_alloc_err_t run(const smart_evse_t *e, int n, int64_t now)
{
    smart_problem_t p = {&root, 1, e, n, SMART_POLICY_EQUAL, now};
    smart_tou_input_t in = {slots, NS, SLOT, SLOT, plan, unsat, scratch};
    memset(g, 0xff, sizeof g);
    memset(tou, 0xff, sizeof tou);
    return smart_allocate_tou(ws, &p, &in, g, tou);
}

static void assert_within_limit(int n)
{
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += g[i].current_a;
    assert_true(sum <= 32 + TOL);
}

/* 10 kWh fit in the cheap slots: the car waits (paused, deferred until the
 * first cheap slot) and the car without a departure takes the whole 32 A
 * instead of an equal 16. */
static void test_need_fitting_cheap_hours_waits(void **state)
{
    (void)state;
    smart_evse_t e[] = {flexible(10000), car()};
    assert_int_equal(run(e, 2, T0), SMART_ALLOC_OK);
    assert_true(tou[0].planned);
    assert_true(tou[0].deferred);
    assert_false(tou[0].unsatisfied);
    assert_int_equal(tou[0].next_start, T0 + 2 * SLOT);
    assert_amps(g[0].current_a, 0);
    assert_true(g[0].paused);
    assert_false(tou[1].planned);
    assert_amps(g[1].current_a, 32);
    assert_false(g[1].paused);
    for (int k = 0; k < NS; k++) /* the plan: the first two cheap slots, nothing else */
        assert_true((plan[k] > 0) == (k == 2 || k == 3));
}

/* 30 kWh do not fit in the 22.08 cheap kWh: the plan takes the earliest
 * expensive slot at full current, so the car charges now under the
 * policy's equal share. */
static void test_need_beyond_cheap_hours_charges_now(void **state)
{
    (void)state;
    smart_evse_t e[] = {flexible(30000), car()};
    assert_int_equal(run(e, 2, T0), SMART_ALLOC_OK);
    assert_false(tou[0].deferred);
    assert_false(tou[0].unsatisfied);
    assert_amps(tou[0].planned_a, 32);
    assert_amps(g[0].current_a, 16);
    assert_amps(g[1].current_a, 16);
}

/* 24 kWh: the cheap slots plus 1.92 kWh now, i.e. 11.13 A this slot. The
 * car is capped there and the other gets the rest of the 32 A. */
static void test_partial_need_now_is_capped(void **state)
{
    (void)state;
    double extra = 24000 - 4 * WH_PER_SLOT;
    double want = extra / (3 * 230 * SLOT / 3600.0);
    smart_evse_t e[] = {flexible(24000), car()};
    assert_int_equal(run(e, 2, T0), SMART_ALLOC_OK);
    assert_false(tou[0].deferred);
    assert_amps(tou[0].planned_a, want);
    assert_amps(g[0].current_a, want);
    assert_amps(g[1].current_a, 32 - want);
    assert_within_limit(2);
}

/* 100 kWh cannot be had in two hours: time of use leaves the car to the
 * policy (never deferred past what its deadline allows). */
static void test_unservable_need_follows_policy(void **state)
{
    (void)state;
    smart_evse_t e[] = {flexible(100000), car()};
    assert_int_equal(run(e, 2, T0), SMART_ALLOC_OK);
    assert_true(tou[0].unsatisfied);
    assert_false(tou[0].deferred);
    assert_amps(g[0].current_a, 16);
    assert_amps(g[1].current_a, 16);
}

/* Ten minutes before its departure (inside the one-slot margin) a car is
 * not deferred, however cheap the later hours. */
static void test_within_margin_not_deferred(void **state)
{
    (void)state;
    smart_evse_t e[] = {car(), car()};
    e[0].need_wh = 1000;
    e[0].departure = T0 + 600;
    assert_int_equal(run(e, 2, T0), SMART_ALLOC_OK);
    assert_false(tou[0].planned);
    assert_false(tou[0].deferred);
    assert_amps(g[0].current_a, 16);
}

/* Two cars fitting the cheap hours both wait; a third without a departure
 * alone gets the connection. Later in the first slot (now past its start)
 * the same holds. */
static void test_now_inside_first_slot(void **state)
{
    (void)state;
    smart_evse_t e[] = {flexible(5000), flexible(6000), car()};
    assert_int_equal(run(e, 3, T0 + 500), SMART_ALLOC_OK);
    assert_true(tou[0].deferred && tou[1].deferred);
    assert_amps(g[2].current_a, 32);
    assert_within_limit(3);
}

/* At one price everywhere nothing is moved for price: the plan would give
 * the earlier departure the whole connection now and let the later one
 * wait for capacity, but that is the policy's call, and equal shares it. */
static void test_one_price_follows_policy(void **state)
{
    (void)state;
    smart_evse_t e[] = {flexible(10000), flexible(10000)};
    e[1].departure += SLOT;
    smart_slot_t saved[NS];
    memcpy(saved, slots, sizeof saved);
    for (int k = 0; k < NS; k++)
        slots[k].price = 0.20;
    smart_alloc_err_t rc = run(e, 2, T0);
    memcpy(slots, saved, sizeof saved);
    assert_int_equal(rc, SMART_ALLOC_OK);
    assert_true(plan[0] > 0 && plan[NS] == 0); /* the plan would defer the second */
    assert_false(tou[0].planned || tou[1].planned);
    assert_false(tou[1].deferred);
    assert_amps(g[0].current_a, 16);
    assert_amps(g[1].current_a, 16);
}

/* On random sites (a root and two feeders, up to 12 cars with random
 * needs, departures and phases, random prices): no feeder or root phase
 * over its limit, every grant 0 or within [min, max], a deferred car at 0
 * and paused, a planned one at most at the plan's current now. */
static void test_random_sites_keep_the_limits(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15u;
#define RND() (x ^= x << 13, x ^= x >> 7, x ^= x << 17, (double)(x % 1000000) / 1000000.0)
    smart_slot_t saved[NS];
    memcpy(saved, slots, sizeof saved);
    enum { N = 12 };
    smart_evse_t e[N];
    smart_evse_t sc[N];
    double pl[N * NS];
    bool un[N];
    smart_grant_t out[N];
    smart_tou_t tu[N];
    int deferred = 0, capped = 0;
    for (int round = 0; round < 300; round++) {
        double lim[3] = {10 + 90 * RND(), 10 + 60 * RND(), 10 + 60 * RND()};
        smart_node_t nodes[3] = {{-1, {lim[0], lim[0], lim[0]}, {0, 0, 0}},
                                 {0, {lim[1], lim[1], lim[1]}, {0, 0, 0}},
                                 {0, {lim[2], lim[2], lim[2]}, {0, 0, 0}}};
        for (int k = 0; k < NS; k++)
            slots[k].price = 0.05 + 0.4 * RND();
        int n = 1 + (int)(RND() * N);
        for (int i = 0; i < n; i++) {
            e[i] = car();
            e[i].node = 1 + (int)(RND() * 2);
            e[i].phases = (uint8_t)(RND() < 0.3 ? 1 : 3);
            e[i].max_a = RND() < 0.5 ? 16 : 32;
            if (RND() < 0.7) {
                e[i].need_wh = 500 + 30000 * RND();
                e[i].departure = T0 + (int64_t)(RND() * (NS + 1) * SLOT);
            }
        }
        int64_t now = T0 + (int64_t)(RND() * (SLOT - 1));
        smart_problem_t p = {
            nodes, 3, e, n, RND() < 0.5 ? SMART_POLICY_EQUAL : SMART_POLICY_DEADLINE, now};
        smart_tou_input_t in = {slots, NS, SLOT, SLOT, pl, un, sc};
        assert_int_equal(smart_allocate_tou(ws, &p, &in, out, tu), SMART_ALLOC_OK);
        double load[3][3] = {{0}};
        for (int i = 0; i < n; i++) {
            double a = out[i].current_a;
            assert_true(a == 0 || (a >= e[i].min_a - TOL && a <= e[i].max_a + TOL));
            deferred += tu[i].deferred;
            capped += tu[i].planned && !tu[i].deferred;
            if (tu[i].deferred) assert_true(a == 0 && out[i].paused && tu[i].next_start > now);
            if (tu[i].planned) assert_true(a <= tu[i].planned_a + TOL);
            for (int k = 0; k < e[i].phases; k++) {
                load[0][e[i].phase_of[k]] += a;
                load[e[i].node][e[i].phase_of[k]] += a;
            }
        }
        for (int v = 0; v < 3; v++)
            for (int k = 0; k < 3; k++)
                assert_true(load[v][k] <= lim[v] + TOL);
    }
    memcpy(slots, saved, sizeof saved);
    assert_true(deferred > 20 && capped > 20); /* both cases were exercised */
#undef RND
}

/* The first slot must hold now, the margin must not be negative. */
static void test_invalid_input(void **state)
{
    (void)state;
    smart_evse_t e[] = {flexible(10000)};
    assert_int_equal(run(e, 1, T0 - 1), SMART_ALLOC_INVALID);
    assert_int_equal(run(e, 1, T0 + SLOT), SMART_ALLOC_INVALID);
    smart_problem_t p = {&root, 1, e, 1, SMART_POLICY_EQUAL, T0};
    smart_tou_input_t in = {slots, NS, SLOT, -1, plan, unsat, scratch};
    assert_int_equal(smart_allocate_tou(ws, &p, &in, g, tou), SMART_ALLOC_INVALID);
    in.margin_s = SLOT;
    in.scratch = NULL;
    assert_int_equal(smart_allocate_tou(ws, &p, &in, g, tou), SMART_ALLOC_INVALID);
    e[0].max_a = NAN; /* the problem itself is checked too */
    in.scratch = scratch;
    assert_int_equal(smart_allocate_tou(ws, &p, &in, g, tou), SMART_ALLOC_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_need_fitting_cheap_hours_waits),
        cmocka_unit_test(test_need_beyond_cheap_hours_charges_now),
        cmocka_unit_test(test_partial_need_now_is_capped),
        cmocka_unit_test(test_unservable_need_follows_policy),
        cmocka_unit_test(test_within_margin_not_deferred),
        cmocka_unit_test(test_now_inside_first_slot),
        cmocka_unit_test(test_one_price_follows_policy),
        cmocka_unit_test(test_random_sites_keep_the_limits),
        cmocka_unit_test(test_invalid_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
