/*
 * The arithmetic behind the analytics (store_analytics.c), kept pure so that
 * unit tests can pin it down without a database: calendar buckets in a fixed
 * UTC offset, interval clipping, the energy-register curve a session's energy
 * is attributed from, and the classes connector statuses fall into.
 *
 * Times are Unix milliseconds (UTC). Offsets are minutes east of UTC.
 */
#ifndef AMPGRID_STORE_ANALYTICS_MATH_H
#define AMPGRID_STORE_ANALYTICS_MATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum analytics_bucket {
    ANALYTICS_BUCKET_NONE, /* the whole range is one bucket */
    ANALYTICS_BUCKET_HOUR,
    ANALYTICS_BUCKET_DAY,
    ANALYTICS_BUCKET_MONTH,
} analytics_bucket_t;

#define ANALYTICS_MAX_BUCKETS 1000
#define ANALYTICS_OFFSET_MAX_MIN (14 * 60)
#define ANALYTICS_TIME_LEN 48

/* "hour", "day", "month"; false for anything else. */
bool analytics_bucket_parse(const char *s, analytics_bucket_t *out);
const char *analytics_bucket_name(analytics_bucket_t b);
/* "Z", "+02:00", "-05:30" (also "+0200"; a space is read as '+', as a '+'
 * in a query string often arrives decoded to one). At most 14 hours. */
bool analytics_offset_parse(const char *s, int *minutes);

/* Start of the bucket holding t, buckets being calendar hours, days or
 * months of local time at the offset. For NONE returns t. */
int64_t analytics_bucket_floor(int64_t t, analytics_bucket_t b, int offset_min);
/* Start of the bucket after the one starting at start. */
int64_t analytics_bucket_next(int64_t start, analytics_bucket_t b, int offset_min);
/* Fills bounds[0..n] with the boundaries of the n buckets covering [from, to):
 * bounds[0] = floor(from), bounds[n] >= to (for NONE: {from, to}). Returns n,
 * or -1 when more than max buckets would be needed. bounds has max+1 room. */
int analytics_buckets(int64_t from, int64_t to, analytics_bucket_t b, int offset_min,
                      int64_t *bounds, int max);
/* Index of the bucket holding t among n buckets (bounds as above); -1 outside. */
int analytics_bucket_index(const int64_t *bounds, int n, int64_t t);

/* Length of the overlap of [a0, a1) and [b0, b1); 0 when disjoint. */
int64_t analytics_overlap(int64_t a0, int64_t a1, int64_t b0, int64_t b1);
/* Hour of day (0-23) of t in local time at the offset. */
int analytics_local_hour(int64_t t, int offset_min);
/* "2026-01-31T00:00:00+02:00" ("Z" at offset 0; milliseconds only when not
 * whole seconds). buf has ANALYTICS_TIME_LEN bytes; returns buf. */
char *analytics_format_time(int64_t t, int offset_min, char *buf);

/* A session's energy register over time (Wh), as a curve through readings. */
typedef struct analytics_point {
    int64_t t;
    double wh;
} analytics_point_t;

/* Builds the curve into out (room for n + 2 points) from the start reading
 * (NULL when unknown), the samples (any order; modified: sorted) and the stop
 * reading (NULL while the session runs). Samples before the start or after
 * the stop, below the start or above the stop reading, or below an earlier
 * sample (a register reset, a bad reading) are dropped, so the curve never
 * falls and its ends are the session's own readings. A stop reading below the
 * start reading gives a flat curve (no energy). Returns the number of points. */
size_t analytics_curve_build(const analytics_point_t *start, analytics_point_t *samples, size_t n,
                             const analytics_point_t *stop, analytics_point_t *out);
/* The register at t, interpolated linearly between points; flat before the
 * first and after the last. 0 for an empty curve. */
double analytics_curve_at(const analytics_point_t *p, size_t n, int64_t t);
/* Energy the curve attributes to [t0, t1), in whole Wh: the rounded register
 * at t1 minus the rounded register at t0, so that adjacent intervals add up
 * exactly to the session's total. */
int64_t analytics_curve_energy(const analytics_point_t *p, size_t n, int64_t t0, int64_t t1);

/* What a connector status means for utilization. */
typedef enum analytics_state {
    ANALYTICS_UNKNOWN,     /* no status reported yet, or one we do not know */
    ANALYTICS_AVAILABLE,   /* Available */
    ANALYTICS_CHARGING,    /* Charging */
    ANALYTICS_OCCUPIED,    /* Preparing, SuspendedEV, SuspendedEVSE, Finishing, Occupied */
    ANALYTICS_RESERVED,    /* Reserved */
    ANALYTICS_UNAVAILABLE, /* Unavailable */
    ANALYTICS_FAULTED,     /* Faulted */
    ANALYTICS_STATE_COUNT_
} analytics_state_t;

analytics_state_t analytics_state_of(const char *status);
/* "unknown", "available", ...: the JSON field stem for a state. */
const char *analytics_state_name(analytics_state_t s);

#endif
