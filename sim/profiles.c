/*
 * Charging profiles and their composite; see profiles.h for the rules.
 *
 * The composite is computed by evaluating the stack at every moment where
 * any relevant profile can change (a period starts, a schedule or validity
 * window begins or ends, a recurrence comes round) and merging equal
 * neighbours: a handful of profiles with a handful of periods each, so a
 * sorted list of breakpoints is all the machinery needed.
 */
#include "sim/profiles.h"

#include "util/alloc.h"
#include "util/timefmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000LL
#define NOMINAL_V 230.0
#define MAX_BREAKS 2048
#define MAX_WINDOW_S (7 * 86400) /* a composite covers at most a week */

/* -------------------------------------------------------------- parsing */

static int purpose_of(const char *s)
{
    if (!s) return -1;
    if (strcmp(s, "ChargePointMaxProfile") == 0 || strcmp(s, "ChargingStationMaxProfile") == 0)
        return SIM_CP_STATION_MAX;
    if (strcmp(s, "TxDefaultProfile") == 0) return SIM_CP_TX_DEFAULT;
    if (strcmp(s, "TxProfile") == 0) return SIM_CP_TX;
    if (strcmp(s, "ChargingStationExternalConstraints") == 0) return SIM_CP_EXTERNAL;
    return -1;
}

static int64_t time_of(const json_t *v)
{
    int64_t ms = 0;
    const char *s = json_string_value(v);
    return s && time_parse_rfc3339(s, &ms) ? ms : 0;
}

static bool refuse(char *why, size_t len, const char *reason)
{
    snprintf(why, len, "%s", reason);
    return false;
}

static void profile_release(sim_profile_t *p)
{
    free(p->periods);
    json_decref(p->json);
    p->periods = NULL;
    p->json = NULL;
}

static bool read_periods(const json_t *arr, sim_profile_t *p, char *why, size_t len)
{
    size_t n = json_array_size(arr);
    if (n == 0) return refuse(why, len, "the schedule has no periods");
    if (n > 1024) return refuse(why, len, "too many periods");
    p->periods = xcalloc(n, sizeof *p->periods);
    p->nperiods = (unsigned)n;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(arr, i);
        sim_cp_period_t *q = &p->periods[i];
        q->start_s = (int32_t)json_integer_value(json_object_get(e, "startPeriod"));
        q->limit = json_number_value(json_object_get(e, "limit"));
        q->phases = (int)json_integer_value(json_object_get(e, "numberPhases"));
        if (i == 0 && q->start_s != 0) return refuse(why, len, "the first period must start at 0");
        if (i > 0 && q->start_s <= p->periods[i - 1].start_s)
            return refuse(why, len, "periods must start in increasing order");
        if (q->limit < 0 || q->phases < 0 || q->phases > 3)
            return refuse(why, len, "a period has a negative limit or a bad phase count");
    }
    return true;
}

bool sim_profile_parse(const json_t *pr, int connector, int64_t now_ms, sim_profile_t *p, char *why,
                       size_t len)
{
    memset(p, 0, sizeof *p);
    const json_t *id = json_object_get(pr, "chargingProfileId");
    p->id = (int32_t)json_integer_value(id ? id : json_object_get(pr, "id"));
    p->connector = connector;
    p->stack_level = (int)json_integer_value(json_object_get(pr, "stackLevel"));
    p->set_ms = now_ms;
    int purpose = purpose_of(json_string_value(json_object_get(pr, "chargingProfilePurpose")));
    const char *kind = json_string_value(json_object_get(pr, "chargingProfileKind"));
    const char *rec = json_string_value(json_object_get(pr, "recurrencyKind"));
    if (purpose < 0 || !kind) return refuse(why, len, "unknown purpose or kind");
    p->purpose = (sim_cp_purpose_t)purpose;
    p->kind = strcmp(kind, "Recurring") == 0  ? SIM_CP_RECURRING
              : strcmp(kind, "Relative") == 0 ? SIM_CP_RELATIVE
                                              : SIM_CP_ABSOLUTE;
    p->weekly = rec && strcmp(rec, "Weekly") == 0;
    p->valid_from_ms = time_of(json_object_get(pr, "validFrom"));
    p->valid_to_ms = time_of(json_object_get(pr, "validTo"));
    const json_t *tx = json_object_get(pr, "transactionId");
    if (tx) {
        p->has_tx_id = true;
        if (json_is_integer(tx)) {
            p->tx_id = json_integer_value(tx);
        } else {
            char *end;
            const char *s = json_string_value(tx);
            long long v = s && *s ? strtoll(s, &end, 10) : -1;
            p->tx_id = s && *s && !*end ? v : -1; /* not one of ours: matches nothing */
        }
    }
    const json_t *sched = json_object_get(pr, "chargingSchedule");
    if (json_is_array(sched)) sched = json_array_get(sched, 0);
    const char *unit = json_string_value(json_object_get(sched, "chargingRateUnit"));
    p->unit_a = unit && strcmp(unit, "A") == 0;
    p->start_ms = time_of(json_object_get(sched, "startSchedule"));
    p->duration_s = (int32_t)json_integer_value(json_object_get(sched, "duration"));
    if (p->stack_level < 0 || p->duration_s < 0)
        return refuse(why, len, "negative stackLevel or duration");
    if (p->kind == SIM_CP_RECURRING && !p->start_ms)
        return refuse(why, len, "a recurring schedule needs startSchedule");
    if (!read_periods(json_object_get(sched, "chargingSchedulePeriod"), p, why, len)) {
        profile_release(p);
        return false;
    }
    p->json = json_deep_copy(pr);
    return true;
}

/* ------------------------------------------------------------ the store */

static bool charging(const sim_station_t *st, int connector)
{
    return connector > 0 && connector <= st->nconn &&
           st->conn_[connector - 1].state == SIM_CS_CHARGING;
}

static bool station_accepts(const sim_station_t *st, sim_profile_t *p, char *why, size_t len)
{
    if (p->connector < 0 || p->connector > st->nconn) return refuse(why, len, "no such connector");
    switch (p->purpose) {
    case SIM_CP_STATION_MAX:
        if (p->connector != 0) return refuse(why, len, "a station maximum is for connector 0");
        break;
    case SIM_CP_TX:
        if (!charging(st, p->connector))
            return refuse(why, len, "a TxProfile needs a transaction on the connector");
        if (p->has_tx_id && p->tx_id != st->conn_[p->connector - 1].tx_id)
            return refuse(why, len, "not the connector's transaction");
        p->has_tx_id = true;
        p->tx_id = st->conn_[p->connector - 1].tx_id;
        break;
    case SIM_CP_EXTERNAL:
        return refuse(why, len, "external constraints are not the CSMS's to set");
    default:
        break;
    }
    return true;
}

bool sim_profiles_set(sim_station_t *st, sim_profile_t *p, char *why, size_t len)
{
    if (!station_accepts(st, p, why, len)) {
        profile_release(p);
        return false;
    }
    if (!st->profiles) st->profiles = xcalloc(1, sizeof *st->profiles);
    sim_profiles_t *ps = st->profiles;
    unsigned i;
    for (i = 0; i < ps->n; i++) {
        const sim_profile_t *q = &ps->p[i];
        if (q->id == p->id || (q->purpose == p->purpose && q->stack_level == p->stack_level &&
                               q->connector == p->connector))
            break;
    }
    if (i == ps->n && ps->n == SIM_MAX_PROFILES) {
        profile_release(p);
        return refuse(why, len, "the station holds as many profiles as it can");
    }
    if (i < ps->n)
        profile_release(&ps->p[i]);
    else
        ps->n++;
    ps->p[i] = *p;
    memset(p, 0, sizeof *p);
    sim_profiles_apply(st);
    return true;
}

static void remove_at(sim_profiles_t *ps, unsigned i)
{
    profile_release(&ps->p[i]);
    ps->p[i] = ps->p[--ps->n];
}

unsigned sim_profiles_clear(sim_station_t *st, const sim_cp_filter_t *f)
{
    sim_profiles_t *ps = st->profiles;
    unsigned removed = 0;
    for (unsigned i = 0; ps && i < ps->n;) {
        const sim_profile_t *q = &ps->p[i];
        bool match = f->has_id ? q->id == f->id
                               : (f->connector < 0 || q->connector == f->connector) &&
                                     (f->purpose < 0 || (int)q->purpose == f->purpose) &&
                                     (f->stack_level < 0 || q->stack_level == f->stack_level);
        if (match) {
            remove_at(ps, i);
            removed++;
        } else {
            i++;
        }
    }
    if (removed) sim_profiles_apply(st);
    return removed;
}

void sim_profiles_tx_ended(sim_station_t *st, int connector)
{
    sim_profiles_t *ps = st->profiles;
    bool any = false;
    for (unsigned i = 0; ps && i < ps->n;) {
        if (ps->p[i].purpose == SIM_CP_TX && ps->p[i].connector == connector) {
            remove_at(ps, i);
            any = true;
        } else {
            i++;
        }
    }
    if (any) sim_profiles_apply(st);
}

/* ------------------------------------------------------------ the stack */

/* Whether p applies to connector c at all (before looking at the time). */
static bool relevant(const sim_station_t *st, const sim_profile_t *p, int c)
{
    switch (p->purpose) {
    case SIM_CP_STATION_MAX:
        return true;
    case SIM_CP_TX_DEFAULT:
        return c > 0 && (p->connector == c || p->connector == 0);
    case SIM_CP_TX:
        return c > 0 && p->connector == c && charging(st, c) && p->tx_id == st->conn_[c - 1].tx_id;
    default:
        return false;
    }
}

/* Where p's schedule starts for a moment t; false when it has not begun. */
static bool schedule_start(const sim_station_t *st, const sim_profile_t *p, int c, int64_t t,
                           int64_t t0, int64_t *start)
{
    switch (p->kind) {
    case SIM_CP_RELATIVE: {
        const sim_connector_t *k = c > 0 ? &st->conn_[c - 1] : NULL;
        *start =
            k && k->state == SIM_CS_CHARGING && k->tx_started_wall_ms ? k->tx_started_wall_ms : t0;
        break;
    }
    case SIM_CP_RECURRING: {
        int64_t period = p->weekly ? 7 * DAY_MS : DAY_MS;
        if (t < p->start_ms) return false;
        *start = p->start_ms + (t - p->start_ms) / period * period;
        break;
    }
    default:
        *start = p->start_ms ? p->start_ms : p->set_ms;
        break;
    }
    return t >= *start;
}

/* p's limit at t, converted; false when p does not apply at t. */
static bool limit_at(const sim_station_t *st, const sim_profile_t *p, int c, int64_t t, int64_t t0,
                     bool unit_a, double *limit)
{
    int64_t start;
    if (p->valid_from_ms && t < p->valid_from_ms) return false;
    if (p->valid_to_ms && t >= p->valid_to_ms) return false;
    if (!schedule_start(st, p, c, t, t0, &start)) return false;
    int64_t off_s = (t - start) / 1000;
    if (p->duration_s && off_s >= p->duration_s) return false;
    const sim_cp_period_t *q = NULL;
    for (unsigned i = 0; i < p->nperiods && p->periods[i].start_s <= off_s; i++)
        q = &p->periods[i];
    if (!q) return false;
    double volts = NOMINAL_V * (q->phases ? q->phases : 3);
    *limit = p->unit_a == unit_a ? q->limit : unit_a ? q->limit / volts : q->limit * volts;
    return true;
}

/* The winner among purpose's profiles at t: connector-specific beats
 * station-wide, then the highest stack level. */
static bool purpose_limit(const sim_station_t *st, sim_cp_purpose_t purpose, int c, int64_t t,
                          int64_t t0, bool unit_a, double *limit)
{
    const sim_profiles_t *ps = st->profiles;
    int best_rank = -1;
    for (unsigned i = 0; i < ps->n; i++) {
        const sim_profile_t *p = &ps->p[i];
        double v;
        if (p->purpose != purpose || !relevant(st, p, c)) continue;
        if (!limit_at(st, p, c, t, t0, unit_a, &v)) continue;
        int rank = (p->connector == c && c > 0 ? 1 << 20 : 0) + p->stack_level;
        if (rank > best_rank) {
            best_rank = rank;
            *limit = v;
        }
    }
    return best_rank >= 0;
}

/* The composite limit at t; false when no profile applies. */
static bool stack_at(const sim_station_t *st, int c, int64_t t, int64_t t0, bool unit_a,
                     double *limit)
{
    if (!st->profiles) return false;
    double lim = INFINITY, v;
    if (purpose_limit(st, SIM_CP_STATION_MAX, c, t, t0, unit_a, &v)) lim = v;
    if (c > 0) {
        if (purpose_limit(st, SIM_CP_TX, c, t, t0, unit_a, &v) ||
            purpose_limit(st, SIM_CP_TX_DEFAULT, c, t, t0, unit_a, &v))
            lim = fmin(lim, v);
    }
    if (isinf(lim)) return false;
    *limit = lim;
    return true;
}

/* ---------------------------------------------------------- composite */

typedef struct breaks {
    int64_t *t;
    unsigned n;
} breaks_t;

static void add_break(breaks_t *b, int64_t t, int64_t from, int64_t to)
{
    if (t > from && t < to && b->n < MAX_BREAKS) b->t[b->n++] = t;
}

static void schedule_breaks(const sim_profile_t *p, int64_t start, breaks_t *b, int64_t from,
                            int64_t to)
{
    add_break(b, start, from, to);
    for (unsigned i = 0; i < p->nperiods; i++)
        add_break(b, start + (int64_t)p->periods[i].start_s * 1000, from, to);
    if (p->duration_s) add_break(b, start + (int64_t)p->duration_s * 1000, from, to);
}

static void profile_breaks(const sim_station_t *st, const sim_profile_t *p, int c, breaks_t *b,
                           int64_t from, int64_t to)
{
    if (p->valid_from_ms) add_break(b, p->valid_from_ms, from, to);
    if (p->valid_to_ms) add_break(b, p->valid_to_ms, from, to);
    if (p->kind != SIM_CP_RECURRING) {
        int64_t start;
        schedule_start(st, p, c, from, from, &start);
        schedule_breaks(p, start, b, from, to);
        return;
    }
    int64_t period = p->weekly ? 7 * DAY_MS : DAY_MS;
    int64_t first = p->start_ms;
    if (from > first) first += (from - first) / period * period;
    for (int64_t o = first; o < to && b->n < MAX_BREAKS; o += period)
        schedule_breaks(p, o, b, from, to);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static double hardware_limit(const sim_station_t *st, int c, bool unit_a)
{
    double one = unit_a ? SIM_HW_LIMIT_A : SIM_HW_LIMIT_W;
    return c > 0 ? one : one * st->nconn;
}

void sim_profiles_composite(const sim_station_t *st, int connector, int64_t now_ms,
                            int32_t duration_s, bool unit_a, sim_composite_t *out)
{
    if (duration_s < 0) duration_s = 0;
    if (duration_s > MAX_WINDOW_S) duration_s = MAX_WINDOW_S;
    int64_t from = now_ms, to = from + (int64_t)duration_s * 1000;
    breaks_t b = {.t = xmalloc((MAX_BREAKS + 1) * sizeof *b.t)};
    b.t[b.n++] = from;
    for (unsigned i = 0; st->profiles && i < st->profiles->n; i++)
        if (relevant(st, &st->profiles->p[i], connector))
            profile_breaks(st, &st->profiles->p[i], connector, &b, from, to);
    qsort(b.t, b.n, sizeof *b.t, cmp_i64);
    memset(out, 0, sizeof *out);
    out->start_ms = from;
    out->duration_s = duration_s;
    out->unit_a = unit_a;
    out->periods = xcalloc(b.n, sizeof *out->periods);
    for (unsigned i = 0; i < b.n; i++) {
        double lim;
        if (!stack_at(st, connector, b.t[i], from, unit_a, &lim))
            lim = hardware_limit(st, connector, unit_a);
        lim = round(lim * 10.0) / 10.0;
        int32_t off = (int32_t)((b.t[i] - from + 999) / 1000);
        if (out->n && out->periods[out->n - 1].limit == lim) continue;
        if (out->n && out->periods[out->n - 1].start_s == off) {
            out->periods[out->n - 1].limit = lim; /* two changes within a second */
            continue;
        }
        out->periods[out->n++] = (sim_cp_period_t){.start_s = off, .limit = lim};
    }
    free(b.t);
}

void sim_composite_free(sim_composite_t *c)
{
    free(c->periods);
    c->periods = NULL;
    c->n = 0;
}

double sim_profiles_limit_w(const sim_station_t *st, int connector, int64_t now_ms)
{
    double lim;
    return stack_at(st, connector, now_ms, now_ms, false, &lim) ? fmax(lim, 0.0) : -1.0;
}

void sim_profiles_apply(sim_station_t *st)
{
    int64_t now = sim_wall_ms(st->sim);
    for (unsigned i = 0; i < st->nconn; i++)
        st->conn_[i].limit_w = sim_profiles_limit_w(st, st->conn_[i].id, now);
}

void sim_profiles_free(sim_station_t *st)
{
    if (!st->profiles) return;
    for (unsigned i = 0; i < st->profiles->n; i++)
        profile_release(&st->profiles->p[i]);
    free(st->profiles);
    st->profiles = NULL;
}
