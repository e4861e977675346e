/*
 * Specification of the timing wheel (src/util/timewheel.c): every entry fires
 * exactly once, at its second and never before, however far out it was
 * scheduled and however long the loop stalled; removal and rescheduling are
 * honoured; callbacks may reschedule themselves or cancel other entries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/timewheel.h"

/* ---- helpers ----------------------------------------------------------------------------- */

/* A test timer: the entry plus what happened to it. */
typedef struct timer {
    timewheel_entry_t e;
    unsigned fired;
    uint64_t fired_at;    /* tw->now when it last fired */
    uint64_t period;      /* > 0: re-adds itself this many seconds later */
    struct timer *victim; /* removed by this timer's callback */
} tmr_t;

static timewheel_t *g_tw; /* the wheel the callbacks work on */

#define TIMER_OF(entry) ((tmr_t *)((char *)(entry)-offsetof(tmr_t, e)))

static void count_cb(timewheel_entry_t *e)
{
    tmr_t *t = TIMER_OF(e);
    t->fired++;
    t->fired_at = g_tw->now;
    if (e->expires > g_tw->now)
        fail_msg("fired at %llu before its second %llu", (unsigned long long)g_tw->now,
                 (unsigned long long)e->expires);
    if (t->victim) timewheel_remove(g_tw, &t->victim->e);
    if (t->period) timewheel_add(g_tw, e, e->expires + t->period, count_cb);
}

static timewheel_t *wheel_new(uint64_t now)
{
    timewheel_t *tw = malloc(sizeof *tw);
    assert_non_null(tw);
    timewheel_init(tw, now);
    g_tw = tw;
    return tw;
}

/* Advances one second at a time, so every second is observed. */
static void step_to(timewheel_t *tw, uint64_t to)
{
    for (uint64_t s = tw->now + 1; s <= to; s++)
        timewheel_advance(tw, s);
}

/* ---- tests ------------------------------------------------------------------------------- */

static void an_entry_fires_at_its_second_and_not_before(void **state)
{
    timewheel_t *tw = wheel_new(1000);
    tmr_t t = {0};
    timewheel_add(tw, &t.e, 1010, count_cb);
    assert_true(timewheel_pending(&t.e));
    step_to(tw, 1009);
    assert_int_equal(t.fired, 0);
    timewheel_advance(tw, 1010);
    assert_int_equal(t.fired, 1);
    assert_int_equal(t.fired_at, 1010);
    assert_false(timewheel_pending(&t.e));
    assert_int_equal(tw->count, 0);
    step_to(tw, 1010 + 3 * TIMEWHEEL_SLOTS);
    assert_int_equal(t.fired, 1);
    free(tw);
}

static void an_expiry_in_the_past_fires_at_the_next_second(void **state)
{
    timewheel_t *tw = wheel_new(500);
    tmr_t t = {0};
    timewheel_add(tw, &t.e, 3, count_cb);
    assert_int_equal(t.e.expires, 501);
    timewheel_advance(tw, 500);
    assert_int_equal(t.fired, 0);
    timewheel_advance(tw, 501);
    assert_int_equal(t.fired, 1);
    free(tw);
}

static void advancing_backwards_or_to_now_fires_nothing(void **state)
{
    timewheel_t *tw = wheel_new(100);
    tmr_t t = {0};
    timewheel_add(tw, &t.e, 101, count_cb);
    timewheel_advance(tw, 100);
    timewheel_advance(tw, 50);
    assert_int_equal(t.fired, 0);
    assert_int_equal(tw->now, 100);
    free(tw);
}

static void a_removed_entry_does_not_fire(void **state)
{
    timewheel_t *tw = wheel_new(0);
    tmr_t t = {0};
    timewheel_add(tw, &t.e, 5, count_cb);
    timewheel_remove(tw, &t.e);
    assert_false(timewheel_pending(&t.e));
    assert_int_equal(tw->count, 0);
    step_to(tw, 2 * TIMEWHEEL_SLOTS);
    assert_int_equal(t.fired, 0);
    free(tw);
}

static void removing_twice_or_removing_an_unscheduled_entry_is_harmless(void **state)
{
    timewheel_t *tw = wheel_new(0);
    tmr_t a = {0}, b = {0};
    timewheel_add(tw, &a.e, 5, count_cb);
    timewheel_remove(tw, &b.e);
    timewheel_remove(tw, &a.e);
    timewheel_remove(tw, &a.e);
    assert_int_equal(tw->count, 0);
    free(tw);
}

static void re_adding_moves_the_entry(void **state)
{
    timewheel_t *tw = wheel_new(0);
    tmr_t t = {0};
    timewheel_add(tw, &t.e, 10, count_cb);
    timewheel_add(tw, &t.e, 20, count_cb);
    assert_int_equal(tw->count, 1);
    step_to(tw, 19);
    assert_int_equal(t.fired, 0);
    timewheel_advance(tw, 20);
    assert_int_equal(t.fired, 1);
    step_to(tw, 40);
    assert_int_equal(t.fired, 1);
    free(tw);
}

static void re_adding_earlier_moves_the_entry_forward(void **state)
{
    timewheel_t *tw = wheel_new(0);
    tmr_t t = {0};
    timewheel_add(tw, &t.e, 2000, count_cb);
    timewheel_add(tw, &t.e, 7, count_cb);
    step_to(tw, 7);
    assert_int_equal(t.fired, 1);
    assert_int_equal(t.fired_at, 7);
    step_to(tw, 2100);
    assert_int_equal(t.fired, 1);
    free(tw);
}

static void an_entry_beyond_the_ring_fires_after_several_rounds(void **state)
{
    uint64_t start = 12345;
    uint64_t due = start + 3 * TIMEWHEEL_SLOTS + 7;
    timewheel_t *tw = wheel_new(start);
    tmr_t t = {0};
    timewheel_add(tw, &t.e, due, count_cb);
    step_to(tw, due - 1);
    assert_int_equal(t.fired, 0);
    assert_true(timewheel_pending(&t.e));
    timewheel_advance(tw, due);
    assert_int_equal(t.fired, 1);
    assert_int_equal(t.fired_at, due);
    free(tw);
}

static void entries_sharing_a_slot_in_different_rounds_fire_at_their_own_seconds(void **state)
{
    timewheel_t *tw = wheel_new(0);
    tmr_t t[4];
    memset(t, 0, sizeof t);
    for (int i = 0; i < 4; i++)
        timewheel_add(tw, &t[i].e, 9 + (uint64_t)i * TIMEWHEEL_SLOTS, count_cb);
    for (int round = 0; round < 4; round++) {
        uint64_t due = 9 + (uint64_t)round * TIMEWHEEL_SLOTS;
        step_to(tw, due);
        for (int i = 0; i < 4; i++) {
            assert_int_equal(t[i].fired, i <= round ? 1 : 0);
            if (i <= round) assert_int_equal(t[i].fired_at, 9 + (uint64_t)i * TIMEWHEEL_SLOTS);
        }
    }
    assert_int_equal(tw->count, 0);
    free(tw);
}

static void a_long_stall_fires_everything_due_exactly_once(void **state)
{
    enum { N = 3000 };
    uint64_t start = 77, stall_to = start + 10 * TIMEWHEEL_SLOTS + 3;
    timewheel_t *tw = wheel_new(start);
    tmr_t *t = calloc(N, sizeof *t);
    assert_non_null(t);
    /* Expiries spread over the stall and beyond it, several per slot and round. */
    for (int i = 0; i < N; i++)
        timewheel_add(tw, &t[i].e, start + 1 + (uint64_t)i * 7, count_cb);
    timewheel_advance(tw, stall_to);
    for (int i = 0; i < N; i++) {
        uint64_t due = start + 1 + (uint64_t)i * 7;
        if (due <= stall_to) {
            if (t[i].fired != 1)
                fail_msg("entry due %llu fired %u times", (unsigned long long)due, t[i].fired);
        } else if (t[i].fired != 0) {
            fail_msg("entry due %llu fired early", (unsigned long long)due);
        }
    }
    /* The rest fire at their own seconds afterwards, not late. */
    step_to(tw, start + 1 + (uint64_t)(N - 1) * 7);
    for (int i = 0; i < N; i++) {
        uint64_t due = start + 1 + (uint64_t)i * 7;
        if (due > stall_to && t[i].fired_at != due)
            fail_msg("entry due %llu fired at %llu", (unsigned long long)due,
                     (unsigned long long)t[i].fired_at);
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(t[i].fired, 1);
    assert_int_equal(tw->count, 0);
    free(t);
    free(tw);
}

static void stalls_around_one_ring_fire_exactly_what_is_due(void **state)
{
    enum { N = TIMEWHEEL_SLOTS + 3 };
    static const uint64_t stalls[] = {TIMEWHEEL_SLOTS - 1, TIMEWHEEL_SLOTS, TIMEWHEEL_SLOTS + 1,
                                      TIMEWHEEL_SLOTS + 2};
    for (size_t k = 0; k < sizeof stalls / sizeof stalls[0]; k++) {
        timewheel_t *tw = wheel_new(0);
        tmr_t t[N];
        memset(t, 0, sizeof t);
        for (int i = 0; i < N; i++)
            timewheel_add(tw, &t[i].e, (uint64_t)i + 1, count_cb);
        timewheel_advance(tw, stalls[k]);
        for (int i = 0; i < N; i++) {
            unsigned want = (uint64_t)i + 1 <= stalls[k] ? 1 : 0;
            if (t[i].fired != want)
                fail_msg("stall to %llu: entry due %d fired %u times",
                         (unsigned long long)stalls[k], i + 1, t[i].fired);
        }
        timewheel_advance(tw, N);
        for (int i = 0; i < N; i++)
            assert_int_equal(t[i].fired, 1);
        assert_int_equal(tw->count, 0);
        free(tw);
    }
}

static void a_callback_may_re_add_its_own_entry(void **state)
{
    timewheel_t *tw = wheel_new(0);
    tmr_t t = {.period = 3};
    timewheel_add(tw, &t.e, 3, count_cb);
    step_to(tw, 30);
    assert_int_equal(t.fired, 10);
    assert_int_equal(t.fired_at, 30);
    assert_true(timewheel_pending(&t.e));
    assert_int_equal(t.e.expires, 33);
    assert_int_equal(tw->count, 1);
    free(tw);
}

static void a_periodic_entry_fires_every_period_within_one_advance(void **state)
{
    timewheel_t *tw = wheel_new(0);
    tmr_t t = {.period = 5};
    timewheel_add(tw, &t.e, 5, count_cb);
    timewheel_advance(tw, 100);
    assert_int_equal(t.fired, 20);
    assert_int_equal(t.e.expires, 105);
    free(tw);
}

static void a_callback_re_adding_into_its_own_second_waits_for_the_next(void **state)
{
    timewheel_t *tw = wheel_new(0);
    tmr_t t = {.period = TIMEWHEEL_SLOTS}; /* same slot, next round */
    timewheel_add(tw, &t.e, 4, count_cb);
    timewheel_advance(tw, 4);
    assert_int_equal(t.fired, 1);
    step_to(tw, 4 + TIMEWHEEL_SLOTS - 1);
    assert_int_equal(t.fired, 1);
    timewheel_advance(tw, 4 + TIMEWHEEL_SLOTS);
    assert_int_equal(t.fired, 2);
    timewheel_remove(tw, &t.e);
    free(tw);
}

static void a_callback_may_cancel_an_entry_due_in_the_same_second(void **state)
{
    timewheel_t *tw = wheel_new(0);
    tmr_t a = {0}, b = {0};
    a.victim = &b;
    b.victim = &a;
    timewheel_add(tw, &a.e, 8, count_cb);
    timewheel_add(tw, &b.e, 8, count_cb);
    timewheel_advance(tw, 8);
    assert_int_equal(a.fired + b.fired, 1);
    assert_int_equal(tw->count, 0);
    step_to(tw, 100);
    assert_int_equal(a.fired + b.fired, 1);
    free(tw);
}

static void a_callback_may_cancel_an_entry_due_later(void **state)
{
    timewheel_t *tw = wheel_new(0);
    tmr_t a = {0}, b = {0}, c = {0};
    a.victim = &b;
    timewheel_add(tw, &a.e, 2, count_cb);
    timewheel_add(tw, &b.e, 3, count_cb);
    timewheel_add(tw, &c.e, 3, count_cb);
    timewheel_advance(tw, 10);
    assert_int_equal(a.fired, 1);
    assert_int_equal(b.fired, 0);
    assert_int_equal(c.fired, 1);
    assert_int_equal(tw->count, 0);
    free(tw);
}

static void a_callback_may_cancel_entries_during_a_stall(void **state)
{
    timewheel_t *tw = wheel_new(0);
    tmr_t a = {0}, b = {0};
    a.victim = &b;
    timewheel_add(tw, &a.e, 10, count_cb);
    timewheel_add(tw, &b.e, 10 + 2 * TIMEWHEEL_SLOTS, count_cb); /* same slot, later round */
    timewheel_advance(tw, 5 * TIMEWHEEL_SLOTS);
    assert_int_equal(a.fired, 1);
    assert_int_equal(b.fired, 0);
    assert_int_equal(tw->count, 0);
    free(tw);
}

static void many_entries_keep_the_count_consistent(void **state)
{
    enum { N = 100000 };
    timewheel_t *tw = wheel_new(0);
    tmr_t *t = calloc(N, sizeof *t);
    assert_non_null(t);
    srand(7);
    for (int i = 0; i < N; i++)
        timewheel_add(tw, &t[i].e, 1 + (uint64_t)(rand() % 5000), count_cb);
    assert_int_equal(tw->count, N);
    for (int i = 0; i < N; i += 2)
        timewheel_remove(tw, &t[i].e);
    assert_int_equal(tw->count, N / 2);
    for (int i = 1; i < N; i += 4)
        timewheel_add(tw, &t[i].e, 1 + (uint64_t)(rand() % 5000), count_cb);
    assert_int_equal(tw->count, N / 2);
    timewheel_advance(tw, 2500);
    unsigned fired = 0, pending = 0;
    for (int i = 0; i < N; i++) {
        fired += t[i].fired;
        pending += timewheel_pending(&t[i].e);
    }
    assert_int_equal(fired + pending, N / 2);
    assert_int_equal(tw->count, pending);
    step_to(tw, 5001);
    fired = 0;
    for (int i = 0; i < N; i++) {
        if (i % 2 == 0)
            assert_int_equal(t[i].fired, 0);
        else
            assert_int_equal(t[i].fired, 1);
        fired += t[i].fired;
    }
    assert_int_equal(fired, N / 2);
    assert_int_equal(tw->count, 0);
    free(t);
    free(tw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_entry_fires_at_its_second_and_not_before),
        cmocka_unit_test(an_expiry_in_the_past_fires_at_the_next_second),
        cmocka_unit_test(advancing_backwards_or_to_now_fires_nothing),
        cmocka_unit_test(a_removed_entry_does_not_fire),
        cmocka_unit_test(removing_twice_or_removing_an_unscheduled_entry_is_harmless),
        cmocka_unit_test(re_adding_moves_the_entry),
        cmocka_unit_test(re_adding_earlier_moves_the_entry_forward),
        cmocka_unit_test(an_entry_beyond_the_ring_fires_after_several_rounds),
        cmocka_unit_test(entries_sharing_a_slot_in_different_rounds_fire_at_their_own_seconds),
        cmocka_unit_test(a_long_stall_fires_everything_due_exactly_once),
        cmocka_unit_test(stalls_around_one_ring_fire_exactly_what_is_due),
        cmocka_unit_test(a_callback_may_re_add_its_own_entry),
        cmocka_unit_test(a_periodic_entry_fires_every_period_within_one_advance),
        cmocka_unit_test(a_callback_re_adding_into_its_own_second_waits_for_the_next),
        cmocka_unit_test(a_callback_may_cancel_an_entry_due_in_the_same_second),
        cmocka_unit_test(a_callback_may_cancel_an_entry_due_later),
        cmocka_unit_test(a_callback_may_cancel_entries_during_a_stall),
        cmocka_unit_test(many_entries_keep_the_count_consistent),
    };
    return cmocka_run_group_tests_name("timing wheel", tests, NULL, NULL);
}
