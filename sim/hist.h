/*
 * A latency histogram in the manner of HdrHistogram: log-linear buckets, so
 * recording is O(1), memory is fixed, and every percentile is exact to within
 * 1/SIM_HIST_SUB (under 1 %) of the value, from 1 us to about 12 days.
 *
 * Why not an array of samples to sort: a throughput run records millions of
 * latencies; sorting them costs memory and time proportional to the run, and
 * merging per-action or per-process results needs the raw data. Buckets merge
 * by addition.
 *
 * Values are unsigned integers in the caller's unit (the simulator records
 * microseconds). The struct is plain data: embed it, zero-initialise it (or
 * sim_hist_reset), no allocation.
 */
#ifndef AMPGRID_SIM_HIST_H
#define AMPGRID_SIM_HIST_H

#include <stdint.h>

#define SIM_HIST_SUB_BITS 7 /* 128 sub-buckets per power of two */
#define SIM_HIST_SUB (1u << SIM_HIST_SUB_BITS)
#define SIM_HIST_MAX_BITS 40 /* values up to 2^40 - 1 */
#define SIM_HIST_BUCKETS ((SIM_HIST_MAX_BITS - SIM_HIST_SUB_BITS + 1) * SIM_HIST_SUB)

typedef struct sim_hist {
    uint64_t count;
    uint64_t min, max; /* exact */
    double sum;        /* for the mean */
    uint32_t buckets[SIM_HIST_BUCKETS];
} sim_hist_t;

void sim_hist_reset(sim_hist_t *h);
/* Records one value; values beyond the range land in the last bucket (max stays exact). */
void sim_hist_record(sim_hist_t *h, uint64_t v);
/* The value at percentile p (0-100): the highest value equivalent to the
 * bucket holding the p-th percentile sample, clamped to the exact max. 0 when empty. */
uint64_t sim_hist_percentile(const sim_hist_t *h, double p);
double sim_hist_mean(const sim_hist_t *h);
/* Adds src's samples into dst. */
void sim_hist_merge(sim_hist_t *dst, const sim_hist_t *src);

/* Bucket arithmetic, exposed for the tests. */
unsigned sim_hist_bucket_of(uint64_t v);
uint64_t sim_hist_bucket_high(unsigned bucket); /* highest value that maps to bucket */

#endif
