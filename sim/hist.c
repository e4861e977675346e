/*
 * Log-linear histogram buckets; see hist.h.
 *
 * Octave 0 holds the values 0..SUB-1 exactly. Octave k >= 1 holds
 * [SUB << (k-1), SUB << k) in SUB linear steps of width 2^(k-1): the SUB_BITS
 * bits right below the leading one pick the step, so a bucket's width is at
 * most 1/SUB of its values, and the index is two shifts and a subtraction.
 */
#include "sim/hist.h"

#include <string.h>

void sim_hist_reset(sim_hist_t *h)
{
    memset(h, 0, sizeof *h);
}

static unsigned msb(uint64_t v)
{
    return 63u - (unsigned)__builtin_clzll(v);
}

unsigned sim_hist_bucket_of(uint64_t v)
{
    if (v < SIM_HIST_SUB) return (unsigned)v;
    unsigned m = msb(v);
    if (m >= SIM_HIST_MAX_BITS) return SIM_HIST_BUCKETS - 1;
    unsigned octave = m - SIM_HIST_SUB_BITS + 1; /* >= 1 */
    unsigned sub = (unsigned)(v >> (octave - 1)) - SIM_HIST_SUB;
    return octave * SIM_HIST_SUB + sub;
}

uint64_t sim_hist_bucket_high(unsigned bucket)
{
    unsigned octave = bucket / SIM_HIST_SUB, sub = bucket % SIM_HIST_SUB;
    if (octave == 0) return sub;
    return (((uint64_t)SIM_HIST_SUB + sub + 1) << (octave - 1)) - 1;
}

void sim_hist_record(sim_hist_t *h, uint64_t v)
{
    unsigned b = sim_hist_bucket_of(v);
    h->buckets[b]++;
    if (h->count == 0 || v < h->min) h->min = v;
    if (v > h->max) h->max = v;
    h->count++;
    h->sum += (double)v;
}

uint64_t sim_hist_percentile(const sim_hist_t *h, double p)
{
    if (h->count == 0) return 0;
    if (p <= 0) return h->min;
    if (p >= 100) return h->max;
    /* the rank of the sample at percentile p, 1-based, rounded up */
    uint64_t rank = (uint64_t)((p / 100.0) * (double)h->count + 0.999999999);
    if (rank < 1) rank = 1;
    uint64_t seen = 0;
    for (unsigned b = 0; b < SIM_HIST_BUCKETS; b++) {
        seen += h->buckets[b];
        if (seen >= rank) {
            uint64_t v = sim_hist_bucket_high(b);
            if (v > h->max) v = h->max;
            if (v < h->min) v = h->min;
            return v;
        }
    }
    return h->max;
}

double sim_hist_mean(const sim_hist_t *h)
{
    return h->count ? h->sum / (double)h->count : 0.0;
}

void sim_hist_merge(sim_hist_t *dst, const sim_hist_t *src)
{
    if (src->count == 0) return;
    for (unsigned b = 0; b < SIM_HIST_BUCKETS; b++)
        dst->buckets[b] += src->buckets[b];
    if (dst->count == 0 || src->min < dst->min) dst->min = src->min;
    if (src->max > dst->max) dst->max = src->max;
    dst->count += src->count;
    dst->sum += src->sum;
}
