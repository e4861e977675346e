/*
 * The uptime arithmetic (see uptime.h): status timelines to down spans,
 * interval merging and intersection, offline time as the complement of
 * connections, excluded time inside outages, the percentage, the rules for
 * failed session starts, and calendar periods.
 */
#include "service/uptime.h"

#include "util/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

const char *uptime_cause_name(int i)
{
    static const char *const names[UPTIME_CAUSE_COUNT] = {"faulted",         "unavailable",
                                                          "station_faulted", "station_unavailable",
                                                          "offline",         "failed_start"};
    return i >= 0 && i < UPTIME_CAUSE_COUNT ? names[i] : NULL;
}

unsigned uptime_status_cause(const char *status, bool station_level)
{
    if (!status) return 0;
    if (strcmp(status, "Faulted") == 0)
        return station_level ? UPTIME_CAUSE_STATION_FAULTED : UPTIME_CAUSE_FAULTED;
    if (strcmp(status, "Unavailable") == 0)
        return station_level ? UPTIME_CAUSE_STATION_UNAVAILABLE : UPTIME_CAUSE_UNAVAILABLE;
    return 0;
}

/* ---------------------------------------------------------------- spans */

typedef struct state {
    bool known;
    unsigned cause;
    const char *detail;
} state_t;

static size_t emit(uptime_span_t *out, size_t k, int64_t a, int64_t b, state_t s,
                   bool unknown_is_down)
{
    if (b <= a) return k;
    if (s.known && s.cause)
        out[k++] = (uptime_span_t){a, b, s.cause, s.detail};
    else if (!s.known && unknown_is_down)
        out[k++] = (uptime_span_t){a, b, 0, NULL};
    return k;
}

static state_t state_of(const uptime_point_t *p, bool station_level)
{
    unsigned cause = uptime_status_cause(p->status, station_level);
    return (state_t){true, cause, cause ? p->detail : NULL};
}

size_t uptime_status_spans(const uptime_point_t *p, size_t n, int64_t from, int64_t to,
                           bool station_level, bool unknown_is_down, uptime_span_t *out)
{
    state_t cur = {false, 0, NULL};
    size_t i = 0, k = 0;
    for (; i < n && p[i].at <= from; i++)
        cur = state_of(&p[i], station_level);
    int64_t t = from;
    for (; i < n && p[i].at < to; i++) {
        k = emit(out, k, t, p[i].at, cur, unknown_is_down);
        t = max64(t, p[i].at);
        cur = state_of(&p[i], station_level);
    }
    k = emit(out, k, t, to, cur, unknown_is_down);
    /* neighbours with the same state join; different causes stay apart so
     * that an unknown span never takes a cause from its neighbour */
    size_t w = 0;
    for (size_t r = 0; r < k; r++) {
        if (w && out[w - 1].to == out[r].from && out[w - 1].causes == out[r].causes) {
            out[w - 1].to = out[r].to;
            continue;
        }
        out[w++] = out[r];
    }
    return w;
}

static int span_cmp(const void *a, const void *b)
{
    const uptime_span_t *x = a, *y = b;
    if (x->from != y->from) return x->from < y->from ? -1 : 1;
    return (x->to > y->to) - (x->to < y->to);
}

size_t uptime_merge(uptime_span_t *s, size_t n, int64_t from, int64_t to)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uptime_span_t x = s[i];
        x.from = max64(x.from, from);
        x.to = min64(x.to, to);
        if (x.to > x.from) s[k++] = x;
    }
    if (k > 1) qsort(s, k, sizeof *s, span_cmp);
    size_t w = 0;
    for (size_t i = 0; i < k; i++) {
        if (w && s[i].from <= s[w - 1].to) {
            uptime_span_t *m = &s[w - 1];
            m->to = max64(m->to, s[i].to);
            m->causes |= s[i].causes;
            if (!m->detail) m->detail = s[i].detail;
            continue;
        }
        s[w++] = s[i];
    }
    return w;
}

size_t uptime_intersect(const uptime_span_t *a, size_t na, const uptime_span_t *b, size_t nb,
                        uptime_span_t *out)
{
    size_t i = 0, j = 0, k = 0;
    while (i < na && j < nb) {
        int64_t lo = max64(a[i].from, b[j].from), hi = min64(a[i].to, b[j].to);
        if (lo < hi)
            out[k++] = (uptime_span_t){lo, hi, a[i].causes | b[j].causes,
                                       a[i].detail ? a[i].detail : b[j].detail};
        if (a[i].to < b[j].to)
            i++;
        else
            j++;
    }
    return k;
}

size_t uptime_offline_spans(const uptime_span_t *online, size_t n, int64_t tracked_since,
                            int64_t from, int64_t to, uptime_span_t *out)
{
    if (tracked_since <= 0) return 0;
    int64_t start = max64(from, tracked_since);
    if (start >= to) return 0;
    uptime_span_t *on = xmalloc((n + 1) * sizeof *on);
    for (size_t i = 0; i < n; i++) {
        on[i] = online[i];
        if (on[i].to <= 0) on[i].to = to; /* still connected */
    }
    size_t m = uptime_merge(on, n, start, to);
    size_t k = 0;
    int64_t t = start;
    for (size_t i = 0; i < m; i++) {
        if (on[i].from > t) out[k++] = (uptime_span_t){t, on[i].from, UPTIME_CAUSE_OFFLINE, NULL};
        t = max64(t, on[i].to);
    }
    if (t < to) out[k++] = (uptime_span_t){t, to, UPTIME_CAUSE_OFFLINE, NULL};
    free(on);
    return k;
}

int64_t uptime_overlap(const uptime_span_t *s, size_t n, int64_t from, int64_t to)
{
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t lo = max64(s[i].from, from), hi = min64(s[i].to, to);
        if (hi > lo) sum += hi - lo;
    }
    return sum;
}

double uptime_percent(int64_t period_ms, int64_t outage_ms, int64_t excluded_ms)
{
    if (period_ms <= 0) return 100.0;
    int64_t counted = outage_ms - min64(excluded_ms, outage_ms);
    return (double)(period_ms - counted) / (double)period_ms * 100.0;
}

/* ------------------------------------------------------------ one port */

/* The port's own status: down where every connector that has reported is
 * down. Returns an allocated list in *out. */
static size_t connector_spans(const uptime_port_input_t *in, int64_t from, uptime_span_t **out)
{
    size_t cap = 1;
    for (size_t c = 0; c < in->nconnectors; c++)
        cap += in->connectors[c].n + 1;
    uptime_span_t *acc = xmalloc(cap * sizeof *acc), *one = xmalloc(cap * sizeof *one),
                  *tmp = xmalloc(cap * sizeof *tmp);
    size_t nacc = 0;
    for (size_t c = 0; c < in->nconnectors; c++) {
        const uptime_timeline_t *tl = &in->connectors[c];
        size_t n = uptime_status_spans(tl->points, tl->n, from, in->to, false, true, one);
        if (c == 0) {
            if (n) memcpy(acc, one, n * sizeof *one);
            nacc = n;
            continue;
        }
        nacc = uptime_intersect(acc, nacc, one, n, tmp);
        if (nacc) memcpy(acc, tmp, nacc * sizeof *tmp);
    }
    /* what no connector has reported is not an outage */
    size_t w = 0;
    for (size_t i = 0; i < nacc; i++)
        if (acc[i].causes) acc[w++] = acc[i];
    free(one);
    free(tmp);
    *out = acc;
    return w;
}

void uptime_port_compute(const uptime_port_input_t *in, uptime_port_result_t *out)
{
    memset(out, 0, sizeof *out);
    int64_t from = max64(in->from, in->in_service_from), to = in->to;
    out->from = from;
    out->to = to > from ? to : from;
    out->period_ms = to > from ? to - from : 0;
    out->uptime_pct = 100.0;
    if (out->period_ms == 0) return;

    uptime_span_t *conn;
    size_t nconn = connector_spans(in, from, &conn);
    size_t cap = nconn + in->station.n + 1 + in->nonline + 1 + in->nfailed_starts;
    uptime_span_t *all = xmalloc((cap + 1) * sizeof *all);
    if (nconn) memcpy(all, conn, nconn * sizeof *conn);
    size_t n = nconn;
    free(conn);
    n += uptime_status_spans(in->station.points, in->station.n, from, to, true, false, all + n);
    n += uptime_offline_spans(in->online, in->nonline, in->tracked_since, from, to, all + n);
    for (size_t i = 0; i < in->nfailed_starts; i++) {
        all[n] = in->failed_starts[i];
        all[n].causes = UPTIME_CAUSE_FAILED_START;
        if (all[n].to <= 0) all[n].to = to; /* not recovered yet */
        n++;
    }
    n = uptime_merge(all, n, from, to);

    uptime_span_t *ex = xmalloc((in->nexcluded + 1) * sizeof *ex);
    if (in->nexcluded) memcpy(ex, in->excluded, in->nexcluded * sizeof *ex);
    size_t nex = uptime_merge(ex, in->nexcluded, from, to);

    out->outages = xcalloc(n + 1, sizeof *out->outages);
    out->noutages = n;
    for (size_t i = 0; i < n; i++) {
        uptime_outage_t *o = &out->outages[i];
        *o = (uptime_outage_t){all[i].from, all[i].to, all[i].causes, all[i].detail,
                               uptime_overlap(ex, nex, all[i].from, all[i].to)};
        out->outage_ms += o->to - o->from;
        out->excluded_ms += o->excluded_ms;
    }
    out->uptime_pct = uptime_percent(out->period_ms, out->outage_ms, out->excluded_ms);
    free(all);
    free(ex);
}

void uptime_port_result_free(uptime_port_result_t *r)
{
    free(r->outages);
    r->outages = NULL;
    r->noutages = 0;
}

/* ------------------------------------------------------ failed starts */

bool uptime_failed_session(const char *stop_reason, bool has_energy, int64_t energy_wh,
                           int64_t duration_ms)
{
    static const char *const charger_side[] = {
        "EmergencyStop", "PowerLoss",        "Reboot",       /* 1.6 and 2.0.1 */
        "GroundFault",   "OvercurrentFault", "PowerQuality", /* 2.0.1 */
    };
    if (!stop_reason) return false;
    bool failure = false;
    for (size_t i = 0; i < sizeof charger_side / sizeof charger_side[0]; i++)
        failure |= strcmp(stop_reason, charger_side[i]) == 0;
    if (!failure) return false;
    if (has_energy) return energy_wh <= 0;
    return duration_ms <= UPTIME_FAILED_SESSION_MAX_MS;
}

bool uptime_rejection_counts(const char *port_status, bool tx_running)
{
    if (!port_status || tx_running) return false;
    return strcmp(port_status, "Available") == 0 || strcmp(port_status, "Preparing") == 0 ||
           strcmp(port_status, "Occupied") == 0;
}

bool uptime_status_recovers(bool *saw_down, const char *status)
{
    if (uptime_status_cause(status, false)) {
        *saw_down = true;
        return false;
    }
    return *saw_down && status && strcmp(status, "Available") == 0;
}

/* -------------------------------------------------------------- periods */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * algorithm). */
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

static int month_days(int64_t y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* Local midnight of the first of month m (which may be 13: next January). */
static int64_t month_start(int64_t y, int m, int offset_min)
{
    y += (m - 1) / 12;
    m = (m - 1) % 12 + 1;
    return days_from_civil(y, m, 1) * UPTIME_DAY_MS - (int64_t)offset_min * UPTIME_MINUTE_MS;
}

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

static bool trailing_year(int offset_min, int64_t now, int64_t *from, int64_t *to)
{
    int64_t local = now + (int64_t)offset_min * UPTIME_MINUTE_MS;
    int64_t day =
        local >= 0 ? local / UPTIME_DAY_MS : -((-local + UPTIME_DAY_MS - 1) / UPTIME_DAY_MS);
    int64_t tod = local - day * UPTIME_DAY_MS, y;
    int m, d;
    civil_from_days(day, &y, &m, &d);
    y -= 1;
    if (d > month_days(y, m)) d = month_days(y, m);
    *from = days_from_civil(y, m, d) * UPTIME_DAY_MS + tod - (int64_t)offset_min * UPTIME_MINUTE_MS;
    *to = now;
    return true;
}

bool uptime_period_parse(const char *s, int offset_min, int64_t now, int64_t *from, int64_t *to)
{
    if (!s) return false;
    if (strcmp(s, "trailing-12-months") == 0) return trailing_year(offset_min, now, from, to);
    size_t n = strlen(s);
    if (n < 4 || !digits(s, 4) || s[0] == '0') return false;
    int64_t y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m0, months;
    if (n == 4) {
        m0 = 1;
        months = 12;
    } else if (n == 7 && s[4] == '-' && s[5] == 'Q' && s[6] >= '1' && s[6] <= '4') {
        m0 = (s[6] - '1') * 3 + 1;
        months = 3;
    } else if (n == 7 && s[4] == '-' && digits(s + 5, 2)) {
        m0 = (s[5] - '0') * 10 + (s[6] - '0');
        months = 1;
        if (m0 < 1 || m0 > 12) return false;
    } else {
        return false;
    }
    *from = month_start(y, m0, offset_min);
    *to = month_start(y, m0 + months, offset_min);
    return true;
}
