/* The latency histogram: exact below 128, under 1 % error above, percentiles
 * and merges that behave like sorting the samples would. */
#include "sim/hist.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

static sim_hist_t h, g;

static void small_values_are_exact(void **state)
{
    sim_hist_reset(&h);
    for (uint64_t v = 0; v < 128; v++)
        assert_int_equal(sim_hist_bucket_high(sim_hist_bucket_of(v)), v);
    for (uint64_t v = 1; v <= 100; v++)
        sim_hist_record(&h, v);
    assert_int_equal(sim_hist_percentile(&h, 50), 50);
    assert_int_equal(sim_hist_percentile(&h, 99), 99);
    assert_int_equal(sim_hist_percentile(&h, 100), 100);
    assert_int_equal(h.min, 1);
}

static void large_values_within_one_percent(void **state)
{
    for (uint64_t v = 128; v < (1ull << 39); v = v * 3 / 2 + 7) {
        unsigned b = sim_hist_bucket_of(v);
        uint64_t hi = sim_hist_bucket_high(b);
        assert_true(hi >= v);
        assert_true((double)(hi - v) <= (double)v / 128.0 + 1);
        assert_int_equal(sim_hist_bucket_of(hi), b); /* hi is still in the bucket */
        assert_int_equal(sim_hist_bucket_of(hi + 1), b + 1);
    }
}

static void percentiles_match_sorted_samples(void **state)
{
    sim_hist_reset(&h);
    uint64_t x = 12345;
    for (int i = 0; i < 100000; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        sim_hist_record(&h, 1000 + (x >> 40) % 99000); /* 1 ms .. 100 ms in us */
    }
    double p50 = (double)sim_hist_percentile(&h, 50), p99 = (double)sim_hist_percentile(&h, 99);
    assert_true(p50 > 50500 * 0.98 && p50 < 50500 * 1.02);
    assert_true(p99 > 99010 * 0.98 && p99 < 99010 * 1.02);
    assert_true(sim_hist_percentile(&h, 99.9) <= h.max);
    assert_int_equal(h.count, 100000);
}

static void max_is_exact_and_huge_values_clamp(void **state)
{
    sim_hist_reset(&h);
    sim_hist_record(&h, 1234567);
    sim_hist_record(&h, 1ull << 50);
    assert_int_equal(h.max, 1ull << 50);
    assert_int_equal(sim_hist_percentile(&h, 100), 1ull << 50);
    assert_true(sim_hist_percentile(&h, 50) >= 1234567);
}

static void empty_histogram_reports_zero(void **state)
{
    sim_hist_reset(&h);
    assert_int_equal(sim_hist_percentile(&h, 99), 0);
    assert_true(sim_hist_mean(&h) == 0.0);
}

static void merge_adds_samples(void **state)
{
    sim_hist_reset(&h);
    sim_hist_reset(&g);
    for (int i = 0; i < 10; i++)
        sim_hist_record(&h, 10);
    for (int i = 0; i < 10; i++)
        sim_hist_record(&g, 1000);
    sim_hist_merge(&h, &g);
    assert_int_equal(h.count, 20);
    assert_int_equal(h.min, 10);
    assert_int_equal(h.max, 1000);
    assert_int_equal(sim_hist_percentile(&h, 50), 10);
    assert_true(sim_hist_percentile(&h, 51) >= 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(small_values_are_exact),
        cmocka_unit_test(large_values_within_one_percent),
        cmocka_unit_test(percentiles_match_sorted_samples),
        cmocka_unit_test(max_is_exact_and_huge_values_clamp),
        cmocka_unit_test(empty_histogram_reports_zero),
        cmocka_unit_test(merge_adds_samples),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
