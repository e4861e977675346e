/*
 * Pure arithmetic for the analytics; see analytics_math.h. Calendar work is
 * done on "local" milliseconds (UTC shifted by a fixed offset) with floor
 * division, so times before 1970 and negative offsets bucket correctly, and
 * month lengths come from the civil calendar rather than from a fixed size.
 */
#include "store/analytics_math.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOUR_MS 3600000LL
#define DAY_MS 86400000LL

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* Howard Hinnant's civil-date algorithms. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

bool analytics_bucket_parse(const char *s, analytics_bucket_t *out)
{
    static const struct {
        const char *name;
        analytics_bucket_t b;
    } names[] = {{"hour", ANALYTICS_BUCKET_HOUR},
                 {"day", ANALYTICS_BUCKET_DAY},
                 {"month", ANALYTICS_BUCKET_MONTH}};
    for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].b;
            return true;
        }
    }
    return false;
}

const char *analytics_bucket_name(analytics_bucket_t b)
{
    switch (b) {
    case ANALYTICS_BUCKET_HOUR:
        return "hour";
    case ANALYTICS_BUCKET_DAY:
        return "day";
    case ANALYTICS_BUCKET_MONTH:
        return "month";
    case ANALYTICS_BUCKET_NONE:
        break;
    }
    return NULL;
}

bool analytics_offset_parse(const char *s, int *minutes)
{
    if (!s) return false;
    if (strcmp(s, "Z") == 0 || strcmp(s, "z") == 0) {
        *minutes = 0;
        return true;
    }
    int sign;
    if (s[0] == '+' || s[0] == ' ')
        sign = 1;
    else if (s[0] == '-')
        sign = -1;
    else
        return false;
    const char *p = s + 1;
    if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1])) return false;
    int h = (p[0] - '0') * 10 + (p[1] - '0');
    p += 2;
    if (*p == ':') p++;
    if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]) || p[2] != '\0')
        return false;
    int m = (p[0] - '0') * 10 + (p[1] - '0');
    if (m > 59 || h * 60 + m > ANALYTICS_OFFSET_MAX_MIN) return false;
    *minutes = sign * (h * 60 + m);
    return true;
}

int64_t analytics_bucket_floor(int64_t t, analytics_bucket_t b, int offset_min)
{
    int64_t off = (int64_t)offset_min * 60000;
    int64_t local = t + off;
    switch (b) {
    case ANALYTICS_BUCKET_HOUR:
        return floor_div(local, HOUR_MS) * HOUR_MS - off;
    case ANALYTICS_BUCKET_DAY:
        return floor_div(local, DAY_MS) * DAY_MS - off;
    case ANALYTICS_BUCKET_MONTH: {
        int64_t y;
        int m, d;
        civil_from_days(floor_div(local, DAY_MS), &y, &m, &d);
        return days_from_civil(y, m, 1) * DAY_MS - off;
    }
    case ANALYTICS_BUCKET_NONE:
        break;
    }
    return t;
}

int64_t analytics_bucket_next(int64_t start, analytics_bucket_t b, int offset_min)
{
    int64_t off = (int64_t)offset_min * 60000;
    switch (b) {
    case ANALYTICS_BUCKET_HOUR:
        return start + HOUR_MS;
    case ANALYTICS_BUCKET_DAY:
        return start + DAY_MS;
    case ANALYTICS_BUCKET_MONTH: {
        int64_t y;
        int m, d;
        civil_from_days(floor_div(start + off, DAY_MS), &y, &m, &d);
        if (++m > 12) {
            m = 1;
            y++;
        }
        return days_from_civil(y, m, 1) * DAY_MS - off;
    }
    case ANALYTICS_BUCKET_NONE:
        break;
    }
    return start;
}

int analytics_buckets(int64_t from, int64_t to, analytics_bucket_t b, int offset_min,
                      int64_t *bounds, int max)
{
    if (b == ANALYTICS_BUCKET_NONE) {
        if (max < 1) return -1;
        bounds[0] = from;
        bounds[1] = to;
        return 1;
    }
    int n = 0;
    bounds[0] = analytics_bucket_floor(from, b, offset_min);
    while (bounds[n] < to) {
        if (n >= max) return -1;
        bounds[n + 1] = analytics_bucket_next(bounds[n], b, offset_min);
        n++;
    }
    return n;
}

int analytics_bucket_index(const int64_t *bounds, int n, int64_t t)
{
    if (n <= 0 || t < bounds[0] || t >= bounds[n]) return -1;
    int lo = 0, hi = n - 1; /* the last i with bounds[i] <= t */
    while (lo < hi) {
        int mid = lo + (hi - lo + 1) / 2;
        if (bounds[mid] <= t)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

int64_t analytics_overlap(int64_t a0, int64_t a1, int64_t b0, int64_t b1)
{
    int64_t lo = a0 > b0 ? a0 : b0, hi = a1 < b1 ? a1 : b1;
    return hi > lo ? hi - lo : 0;
}

int analytics_local_hour(int64_t t, int offset_min)
{
    int64_t local = t + (int64_t)offset_min * 60000;
    return (int)(floor_div(local - floor_div(local, DAY_MS) * DAY_MS, HOUR_MS));
}

char *analytics_format_time(int64_t t, int offset_min, char *buf)
{
    int64_t local = t + (int64_t)offset_min * 60000;
    int64_t days = floor_div(local, DAY_MS), rem = local - days * DAY_MS;
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0) y = 0;
    if (y > 9999) y = 9999;
    int hh = (int)(rem / HOUR_MS), mi = (int)(rem / 60000 % 60), ss = (int)(rem / 1000 % 60);
    int ms = (int)(rem % 1000);
    char frac[8] = "", zone[8] = "Z";
    if (ms) snprintf(frac, sizeof frac, ".%03d", ms);
    if (offset_min) {
        int a = abs(offset_min);
        snprintf(zone, sizeof zone, "%c%02d:%02d", offset_min < 0 ? '-' : '+', (a / 60) % 100,
                 a % 60);
    }
    snprintf(buf, ANALYTICS_TIME_LEN, "%04d-%02d-%02dT%02d:%02d:%02d%.4s%.6s", (int)y % 10000,
             m % 100, d % 100, hh % 100, mi % 100, ss % 100, frac, zone);
    return buf;
}

/* ------------------------------------------------------------- energy curve */

static int point_cmp(const void *a, const void *b)
{
    const analytics_point_t *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return x->wh < y->wh ? -1 : x->wh > y->wh;
}

size_t analytics_curve_build(const analytics_point_t *start, analytics_point_t *samples, size_t n,
                             const analytics_point_t *stop, analytics_point_t *out)
{
    size_t k = 0;
    if (start) out[k++] = *start;
    if (start && stop && (stop->wh < start->wh || stop->t < start->t)) return k; /* flat */
    if (n) qsort(samples, n, sizeof *samples, point_cmp);
    for (size_t i = 0; i < n; i++) {
        analytics_point_t s = samples[i];
        if (!isfinite(s.wh)) continue;
        if (start && (s.t < start->t || s.wh < start->wh)) continue;
        if (stop && (s.t > stop->t || s.wh > stop->wh)) continue;
        if (k > 0 && s.wh < out[k - 1].wh) continue;
        if (k > 0 && s.t == out[k - 1].t) {
            /* same instant: keep the higher reading (never below the start) */
            if (!(start && k == 1)) out[k - 1].wh = s.wh;
            continue;
        }
        out[k++] = s;
    }
    if (stop) {
        /* a sample at the stop instant gives way to the stop reading; a
         * session that starts and stops at one instant keeps both points, so
         * its energy falls at that instant */
        if (k > 0 && out[k - 1].t == stop->t && !(start && k == 1))
            out[k - 1] = *stop;
        else
            out[k++] = *stop;
    }
    return k;
}

double analytics_curve_at(const analytics_point_t *p, size_t n, int64_t t)
{
    if (n == 0) return 0;
    if (t <= p[0].t) return p[0].wh;
    if (t >= p[n - 1].t) return p[n - 1].wh;
    size_t lo = 0, hi = n - 1; /* p[lo].t <= t < p[hi].t */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (p[mid].t <= t)
            lo = mid;
        else
            hi = mid;
    }
    double span = (double)(p[hi].t - p[lo].t);
    return p[lo].wh + (p[hi].wh - p[lo].wh) * ((double)(t - p[lo].t) / span);
}

int64_t analytics_curve_energy(const analytics_point_t *p, size_t n, int64_t t0, int64_t t1)
{
    if (n == 0 || t1 <= t0) return 0;
    return llround(analytics_curve_at(p, n, t1)) - llround(analytics_curve_at(p, n, t0));
}

/* ------------------------------------------------------------------ states */

analytics_state_t analytics_state_of(const char *status)
{
    static const struct {
        const char *status;
        analytics_state_t state;
    } map[] = {
        {"Available", ANALYTICS_AVAILABLE},     {"Charging", ANALYTICS_CHARGING},
        {"Preparing", ANALYTICS_OCCUPIED},      {"SuspendedEV", ANALYTICS_OCCUPIED},
        {"SuspendedEVSE", ANALYTICS_OCCUPIED},  {"Finishing", ANALYTICS_OCCUPIED},
        {"Occupied", ANALYTICS_OCCUPIED},       {"Reserved", ANALYTICS_RESERVED},
        {"Unavailable", ANALYTICS_UNAVAILABLE}, {"Faulted", ANALYTICS_FAULTED},
    };
    for (size_t i = 0; status && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(status, map[i].status) == 0) return map[i].state;
    return ANALYTICS_UNKNOWN;
}

const char *analytics_state_name(analytics_state_t s)
{
    static const char *const names[ANALYTICS_STATE_COUNT_] = {
        "unknown", "available", "charging", "occupied", "reserved", "unavailable", "faulted"};
    return s < ANALYTICS_STATE_COUNT_ ? names[s] : "unknown";
}
