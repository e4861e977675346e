/*
 * Analytics and CSV exports; see
 * store_analytics.h for what is computed and why it is bounded.
 *
 * The aggregation is done here, on the writer thread, while the rows stream
 * past: a year of meter values never becomes JSON. Every statement is
 * prepared per operation (they are rare next to the hot writes, and their
 * WHERE clauses are assembled from fixed fragments according to which
 * filters are set, so each one can use the index that fits: the station
 * index with a station filter, the time index otherwise).
 */
#include "store/store_analytics.h"

#include "store/store_internal.h"
#include "util/alloc.h"
#include "util/csv.h"
#include "util/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

/* ------------------------------------------------------------------ the op */

typedef enum calc_kind { CALC_ENERGY, CALC_UTILIZATION, CALC_BY_HOUR, CALC_SUMMARY } calc_kind_t;

typedef struct analytics_op {
    store_op_t op;
    store_json_cb cb;
    void *ctx;
    json_t *result;
    calc_kind_t kind;
    store_analytics_query_t q;
    char *station_id, *site;
} analytics_op_t;

/* One group's numbers for one bucket. */
typedef struct cell {
    int64_t energy, sessions, dur_sum, dur_n;
    int64_t state_ms[ANALYTICS_STATE_COUNT_];
} cell_t;

typedef struct group {
    char *key;
    json_t *label;
    int connectors, stations;
    cell_t *cells; /* nb of them */
    UT_hash_handle hh;
} group_t;

typedef struct calc {
    store_t *s;
    const store_analytics_query_t *q;
    store_group_t group_by;
    int64_t bounds[ANALYTICS_MAX_BUCKETS + 1];
    int nb;
    group_t *groups;
    size_t ncells;
    char error[256];
    analytics_point_t *samples, *curve;
    size_t samples_cap;
} calc_t;

static void calc_free(calc_t *k)
{
    group_t *g, *tmp;
    HASH_ITER(hh, k->groups, g, tmp)
    {
        HASH_DEL(k->groups,
                 g); // NOLINT(clang-analyzer-unix.Malloc): uthash's HASH_DEL unlinks first
        free(g->key);
        json_decref(g->label);
        free(g->cells);
        free(g);
    }
    free(k->samples);
    free(k->curve);
}

/* The group a row belongs to; NULL (with k->error set) past the cell limit. */
static group_t *group_for(calc_t *k, const char *station, const char *site, int evse, int conn)
{
    char key[400];
    switch (k->group_by) {
    case STORE_GROUP_NETWORK:
        key[0] = '\0';
        break;
    case STORE_GROUP_SITE:
        snprintf(key, sizeof key, "%c%s", site ? 's' : 'n', site ? site : "");
        break;
    case STORE_GROUP_STATION:
        snprintf(key, sizeof key, "%s", station);
        break;
    case STORE_GROUP_CONNECTOR:
        snprintf(key, sizeof key, "%s\x1f%06d\x1f%06d", station, evse, conn);
        break;
    }
    group_t *g = NULL;
    HASH_FIND_STR(k->groups, key, g);
    if (g) return g;
    if (k->ncells + (size_t)k->nb > STORE_ANALYTICS_MAX_CELLS) {
        snprintf(k->error, sizeof k->error,
                 "the answer would have more than %d group-bucket cells; use a coarser bucket, "
                 "a shorter range, a filter or a coarser group_by",
                 STORE_ANALYTICS_MAX_CELLS);
        return NULL;
    }
    k->ncells += (size_t)k->nb;
    g = xcalloc(1, sizeof *g);
    g->key = xstrdup(key);
    g->cells = xcalloc((size_t)k->nb, sizeof *g->cells);
    switch (k->group_by) {
    case STORE_GROUP_NETWORK:
        g->label = json_object();
        break;
    case STORE_GROUP_SITE:
        g->label = json_pack("{s:s?}", "site", site);
        break;
    case STORE_GROUP_STATION:
        g->label = json_pack("{s:s,s:s?}", "station_id", station, "site", site);
        break;
    case STORE_GROUP_CONNECTOR:
        g->label = json_pack("{s:s,s:s?,s:i,s:i}", "station_id", station, "site", site, "evse_id",
                             evse, "connector_id", conn);
        break;
    }
    HASH_ADD_KEYPTR(hh, k->groups, g->key, strlen(g->key), g);
    return g;
}

static int group_cmp(group_t *a, group_t *b)
{
    return strcmp(a->key, b->key);
}

/* Filters shared by the queries: fixed fragments, values bound. */
static void filter_sql(strbuf_t *sql, const store_analytics_query_t *q, const char *station_col)
{
    if (q->station_id) strbuf_printf(sql, " AND %s=?3", station_col);
    if (q->site) strbuf_printf(sql, " AND s.site=?4");
}

static sqlite3_stmt *prepare(calc_t *k, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(store_db(k->s), sql, -1, 0, &st, NULL) != SQLITE_OK) {
        store_check(k->s, sqlite3_errcode(store_db(k->s)), "analytics prepare");
        return NULL;
    }
    return st;
}

static void bind_filters(sqlite3_stmt *st, const store_analytics_query_t *q)
{
    sqlite3_bind_int64(st, 1, q->from);
    sqlite3_bind_int64(st, 2, q->to);
    if (q->station_id) store_bind_text(st, 3, q->station_id);
    if (q->site) store_bind_text(st, 4, q->site);
}

/* ------------------------------------------------------------------- energy */

/* Room for n + 1 samples and the curve built from them. */
static void reserve_samples(calc_t *k, size_t n)
{
    if (k->curve && n + 1 <= k->samples_cap) return;
    while (k->samples_cap < n + 1)
        k->samples_cap = k->samples_cap ? k->samples_cap * 2 : 64;
    k->samples = xrealloc(k->samples, k->samples_cap * sizeof *k->samples);
    k->curve = xrealloc(k->curve, (k->samples_cap + 2) * sizeof *k->curve);
}

/* Energy register readings stored for a session, in Wh. */
static store_err_t load_samples(calc_t *k, sqlite3_stmt *mv, int64_t tx, size_t *n)
{
    sqlite3_reset(mv);
    sqlite3_bind_int64(mv, 1, tx);
    *n = 0;
    int rc;
    while ((rc = sqlite3_step(mv)) == SQLITE_ROW) {
        const char *v = store_col_text(mv, 1), *unit = store_col_text(mv, 2);
        double scale = !unit || strcmp(unit, "Wh") == 0 ? 1 : strcmp(unit, "kWh") == 0 ? 1000 : 0;
        char *end;
        double x = v ? strtod(v, &end) : 0;
        if (!v || end == v || *end || scale == 0) continue;
        reserve_samples(k, *n + 1);
        k->samples[(*n)++] = (analytics_point_t){sqlite3_column_int64(mv, 0), x * scale};
    }
    return store_check(k->s, rc, "analytics meter values");
}

/* Sessions overlapping [from, to): energy into the buckets it spans, the
 * session itself (count, duration) into the bucket of its start. */
static store_err_t calc_energy(calc_t *k)
{
    const store_analytics_query_t *q = k->q;
    strbuf_t sql = {0};
    /* two halves so each can use an index: started in the range, or started
     * before it and still running at its start */
    for (int half = 0; half < 2; half++) {
        strbuf_printf(&sql,
                      "%sSELECT t.id,t.station_id,s.site,t.evse_id,t.connector_id,t.meter_start,"
                      "t.meter_stop,t.started_at,t.stopped_at,t.last_energy_wh,t.last_energy_at "
                      "FROM transactions t LEFT JOIN stations s ON s.id=t.station_id WHERE %s",
                      half ? " UNION ALL " : "",
                      /* '+': reach these through the stopped_at index, not by
                       * walking every session that started before the range */
                      half ? "+t.started_at<?1 AND (t.stopped_at>?1 OR t.stopped_at IS NULL)"
                           : "t.started_at>=?1 AND t.started_at<?2");
        filter_sql(&sql, q, "t.station_id");
    }
    sqlite3_stmt *st = prepare(k, sql.data);
    strbuf_free(&sql);
    sqlite3_stmt *mv = prepare(
        k, "SELECT m.timestamp,m.value,m.unit FROM transactions t,meter_values m WHERE "
           STORE_SQL_TX_READINGS("?1") " AND (m.measurand IS NULL OR "
           "m.measurand='Energy.Active.Import.Register') AND m.phase IS NULL AND (m.format IS NULL "
           "OR m.format<>'SignedData') AND (m.location IS NULL OR m.location='Outlet') "
           "ORDER BY m.timestamp LIMIT 100000");
    store_err_t err = STORE_ERR_IO;
    if (!st || !mv) goto fail;
    bind_filters(st, q);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        const char *station = store_col_text(st, 1), *site = store_col_text(st, 2);
        group_t *g =
            group_for(k, station, site, sqlite3_column_int(st, 3), sqlite3_column_int(st, 4));
        if (!g) {
            err = STORE_OK;
            goto fail;
        }
        int64_t started = sqlite3_column_int64(st, 7), stopped = sqlite3_column_int64(st, 8);
        bool ended = sqlite3_column_type(st, 8) != SQLITE_NULL;
        int bi = analytics_bucket_index(k->bounds, k->nb, started);
        if (started >= q->from && started < q->to && bi >= 0) {
            g->cells[bi].sessions++;
            if (ended && stopped >= started) {
                g->cells[bi].dur_sum += stopped - started;
                g->cells[bi].dur_n++;
            }
        }
        size_t n;
        if ((err = load_samples(k, mv, id, &n)) != STORE_OK) goto fail;
        reserve_samples(k, n + 1);
        /* the latest reading the domain kept (it may not be a stored sample) */
        if (sqlite3_column_type(st, 9) != SQLITE_NULL && sqlite3_column_type(st, 10) != SQLITE_NULL)
            k->samples[n++] = (analytics_point_t){sqlite3_column_int64(st, 10),
                                                  (double)sqlite3_column_int64(st, 9)};
        analytics_point_t a = {started, (double)sqlite3_column_int64(st, 5)};
        analytics_point_t b = {stopped, (double)sqlite3_column_int64(st, 6)};
        bool has_a = sqlite3_column_type(st, 5) != SQLITE_NULL;
        bool has_b = ended && sqlite3_column_type(st, 6) != SQLITE_NULL;
        size_t np =
            analytics_curve_build(has_a ? &a : NULL, k->samples, n, has_b ? &b : NULL, k->curve);
        if (np == 0) continue;
        int64_t c0 = k->curve[0].t > q->from ? k->curve[0].t : q->from;
        int64_t c1 = k->curve[np - 1].t;
        if (c1 >= q->to) c1 = q->to - 1;
        int i0 = analytics_bucket_index(k->bounds, k->nb, c0);
        int i1 = analytics_bucket_index(k->bounds, k->nb, c1);
        if (i0 < 0 || i1 < 0) continue;
        for (int i = i0; i <= i1; i++) {
            int64_t t0 = k->bounds[i] > q->from ? k->bounds[i] : q->from;
            int64_t t1 = k->bounds[i + 1] < q->to ? k->bounds[i + 1] : q->to;
            g->cells[i].energy += analytics_curve_energy(k->curve, np, t0, t1);
        }
    }
    err = store_check(k->s, rc, "analytics sessions");
fail:
    sqlite3_finalize(st);
    sqlite3_finalize(mv);
    return err;
}

/* -------------------------------------------------------------- utilization */

static void add_state(calc_t *k, group_t *g, analytics_state_t s, int64_t a, int64_t b)
{
    if (b <= a) return;
    int i0 = analytics_bucket_index(k->bounds, k->nb, a);
    int i1 = analytics_bucket_index(k->bounds, k->nb, b - 1);
    if (i0 < 0 || i1 < 0) return;
    for (int i = i0; i <= i1; i++)
        g->cells[i].state_ms[s] += analytics_overlap(a, b, k->bounds[i], k->bounds[i + 1]);
}

/* Spans [a, b) of one connector, sorted. */
typedef struct spans {
    int64_t (*v)[2];
    size_t n, cap;
} spans_t;

static void spans_add(spans_t *s, int64_t a, int64_t b, int64_t lo, int64_t hi)
{
    if (a < lo) a = lo;
    if (b > hi) b = hi;
    if (b <= a) return;
    if (s->n == s->cap) s->v = xrealloc(s->v, (s->cap = s->cap ? s->cap * 2 : 8) * sizeof *s->v);
    s->v[s->n][0] = a;
    s->v[s->n++][1] = b;
}

static int span_cmp(const void *x, const void *y)
{
    const int64_t *a = x, *b = y;
    return (a[0] > b[0]) - (a[0] < b[0]);
}

/* When a connector's transactions were charging, from their TransactionEvents'
 * chargingState (OCPP 2.0.1 stations report the connector as Occupied while
 * charging; the transaction says whether energy flows). A state holds until
 * an event changes it; Ended ends it; a transaction still running charges
 * until `end` if it last said Charging. Clipped to [from, end), sorted. */
static store_err_t charging_spans(calc_t *k, sqlite3_stmt *tx, const char *station, int evse,
                                  int conn, int64_t end, spans_t *out)
{
    out->n = 0;
    sqlite3_reset(tx);
    store_bind_text(tx, 1, station);
    sqlite3_bind_int(tx, 2, evse);
    sqlite3_bind_int(tx, 3, conn);
    sqlite3_bind_int64(tx, 4, k->q->from);
    sqlite3_bind_int64(tx, 5, end);
    int64_t cur = -1, since = -1, stop = end;
    int rc;
    while ((rc = sqlite3_step(tx)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(tx, 0), ts = sqlite3_column_int64(tx, 1);
        if (id != cur) { /* the previous transaction ends where it stopped */
            if (since >= 0) spans_add(out, since, stop, k->q->from, end);
            cur = id;
            since = -1;
            stop = sqlite3_column_type(tx, 4) == SQLITE_NULL ? end : sqlite3_column_int64(tx, 4);
        }
        const char *type = store_col_text(tx, 2), *state = store_col_text(tx, 3);
        bool charging = state ? strcmp(state, "Charging") == 0 : since >= 0;
        if (type && strcmp(type, "Ended") == 0) charging = false;
        if (charging && since < 0) since = ts;
        if (!charging && since >= 0) {
            spans_add(out, since, ts, k->q->from, end);
            since = -1;
        }
    }
    if (since >= 0) spans_add(out, since, stop, k->q->from, end);
    if (out->n > 1) qsort(out->v, out->n, sizeof *out->v, span_cmp);
    return store_check(k->s, rc, "analytics charging state");
}

/* Adds [a, b) in state s; Occupied time inside a charging span is Charging. */
static void add_time(calc_t *k, group_t *g, analytics_state_t s, int64_t a, int64_t b,
                     const spans_t *charging)
{
    if (s != ANALYTICS_OCCUPIED) {
        add_state(k, g, s, a, b);
        return;
    }
    for (size_t i = 0; i < charging->n && a < b; i++) {
        int64_t c0 = charging->v[i][0] > a ? charging->v[i][0] : a;
        int64_t c1 = charging->v[i][1] < b ? charging->v[i][1] : b;
        if (c1 <= c0) continue;
        add_state(k, g, ANALYTICS_OCCUPIED, a, c0);
        add_state(k, g, ANALYTICS_CHARGING, c0, c1);
        a = c1;
    }
    add_state(k, g, ANALYTICS_OCCUPIED, a, b);
}

/* Each connector's status over [from, min(to, now)): the last status before
 * the range, then every change inside it; time before any status is known
 * is "unknown". Changes are placed at the station's timestamp. Occupied time
 * while a transaction on the connector was charging (2.0.1) is charging. */
static store_err_t calc_utilization(calc_t *k)
{
    const store_analytics_query_t *q = k->q;
    int64_t end = q->to < q->now ? q->to : q->now;
    strbuf_t sql = {0};
    strbuf_printf(&sql, "SELECT c.station_id,s.site,c.evse_id,c.connector_id FROM connectors c "
                        "JOIN stations s ON s.id=c.station_id WHERE c.evse_id>0");
    filter_sql(&sql, q, "c.station_id");
    strbuf_printf(&sql, " ORDER BY c.station_id,c.evse_id,c.connector_id");
    sqlite3_stmt *st = prepare(k, sql.data);
    strbuf_free(&sql);
    sqlite3_stmt *before =
        prepare(k, "SELECT status FROM status_history WHERE station_id=?1 AND evse_id=?2 AND "
                   "connector_id=?3 AND timestamp<=?4 ORDER BY timestamp DESC,id DESC LIMIT 1");
    sqlite3_stmt *during = prepare(
        k, "SELECT status,timestamp FROM status_history WHERE station_id=?1 AND evse_id=?2 AND "
           "connector_id=?3 AND timestamp>?4 AND timestamp<?5 ORDER BY timestamp,id");
    sqlite3_stmt *tx = prepare(
        k, "SELECT e.transaction_id,e.timestamp,e.event_type,"
           "json_extract(e.detail,'$.transactionInfo.chargingState'),t.stopped_at "
           "FROM transactions t JOIN tx_events e ON e.transaction_id=t.id WHERE t.station_id=?1 "
           "AND t.evse_id=?2 AND t.connector_id=?3 AND t.started_at<?5 AND "
           "(t.stopped_at IS NULL OR t.stopped_at>?4) ORDER BY t.id,e.timestamp,e.seq_no");
    spans_t charging = {0};
    store_err_t err = STORE_ERR_IO;
    if (!st || !before || !during || !tx) goto fail;
    bind_filters(st, q);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *station = store_col_text(st, 0), *site = store_col_text(st, 1);
        int evse = sqlite3_column_int(st, 2), conn = sqlite3_column_int(st, 3);
        group_t *g = group_for(k, station, site, evse, conn);
        if (!g) {
            err = STORE_OK;
            goto fail;
        }
        g->connectors++;
        if (end <= q->from) continue;
        analytics_state_t cur = ANALYTICS_UNKNOWN;
        sqlite3_stmt *qs[2] = {before, during};
        for (int j = 0; j < 2; j++) {
            sqlite3_reset(qs[j]);
            store_bind_text(qs[j], 1, station);
            sqlite3_bind_int(qs[j], 2, evse);
            sqlite3_bind_int(qs[j], 3, conn);
            sqlite3_bind_int64(qs[j], 4, q->from);
        }
        sqlite3_bind_int64(during, 5, end);
        if ((err = charging_spans(k, tx, station, evse, conn, end, &charging)) != STORE_OK)
            goto fail;
        err = STORE_ERR_IO;
        if ((rc = sqlite3_step(before)) == SQLITE_ROW)
            cur = analytics_state_of(store_col_text(before, 0));
        else if (rc != SQLITE_DONE)
            goto step_fail;
        int64_t t = q->from;
        while ((rc = sqlite3_step(during)) == SQLITE_ROW) {
            int64_t ts = sqlite3_column_int64(during, 1);
            add_time(k, g, cur, t, ts, &charging);
            cur = analytics_state_of(store_col_text(during, 0));
            t = ts;
        }
        if (rc != SQLITE_DONE) goto step_fail;
        add_time(k, g, cur, t, end, &charging);
    }
step_fail:
    err = store_check(k->s, rc, "analytics status history");
fail:
    sqlite3_finalize(st);
    sqlite3_finalize(before);
    sqlite3_finalize(during);
    sqlite3_finalize(tx);
    free(charging.v);
    return err;
}

/* Stations per group (the summary): every station matching the filters. */
static store_err_t calc_stations(calc_t *k)
{
    strbuf_t sql = {0};
    strbuf_printf(&sql, "SELECT s.id,s.site FROM stations s WHERE 1=1");
    filter_sql(&sql, k->q, "s.id");
    sqlite3_stmt *st = prepare(k, sql.data);
    strbuf_free(&sql);
    if (!st) return STORE_ERR_IO;
    bind_filters(st, k->q);
    int rc;
    store_err_t err = STORE_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        group_t *g = group_for(k, store_col_text(st, 0), store_col_text(st, 1), 0, 0);
        if (!g) goto done;
        g->stations++;
    }
    err = store_check(k->s, rc, "analytics stations");
done:
    sqlite3_finalize(st);
    return err;
}

/* ---------------------------------------------------------------- rendering */

static json_t *avg_json(int64_t sum_ms, int64_t n)
{
    return n ? json_integer((sum_ms / n + 500) / 1000) : json_null();
}

static json_t *energy_json(const cell_t *c)
{
    return json_pack("{s:I,s:I,s:I,s:o}", "energy_wh", (json_int_t)c->energy, "sessions",
                     (json_int_t)c->sessions, "completed_sessions", (json_int_t)c->dur_n,
                     "avg_session_s", avg_json(c->dur_sum, c->dur_n));
}

static json_t *share(int64_t part, int64_t whole)
{
    return whole > 0 ? json_real((double)part / (double)whole) : json_null();
}

static json_t *util_json(const cell_t *c)
{
    json_t *o = json_object();
    int64_t period = 0;
    for (int i = 0; i < ANALYTICS_STATE_COUNT_; i++)
        period += c->state_ms[i];
    int64_t charging = c->state_ms[ANALYTICS_CHARGING];
    int64_t occupied = charging + c->state_ms[ANALYTICS_OCCUPIED];
    json_object_set_new(o, "period_s", json_real((double)period / 1000));
    json_object_set_new(o, "charging_s", json_real((double)charging / 1000));
    json_object_set_new(o, "occupied_s", json_real((double)occupied / 1000));
    static const analytics_state_t rest[] = {ANALYTICS_AVAILABLE, ANALYTICS_RESERVED,
                                             ANALYTICS_UNAVAILABLE, ANALYTICS_FAULTED,
                                             ANALYTICS_UNKNOWN};
    for (size_t i = 0; i < sizeof rest / sizeof rest[0]; i++) {
        char key[32];
        snprintf(key, sizeof key, "%s_s", analytics_state_name(rest[i]));
        json_object_set_new(o, key, json_real((double)c->state_ms[rest[i]] / 1000));
    }
    json_object_set_new(o, "charging_share", share(charging, period));
    json_object_set_new(o, "occupied_share", share(occupied, period));
    return o;
}

static void cell_add(cell_t *to, const cell_t *c)
{
    to->energy += c->energy;
    to->sessions += c->sessions;
    to->dur_sum += c->dur_sum;
    to->dur_n += c->dur_n;
    for (int i = 0; i < ANALYTICS_STATE_COUNT_; i++)
        to->state_ms[i] += c->state_ms[i];
}

static json_t *series_json(calc_t *k, group_t *g, json_t *(*cell_json)(const cell_t *),
                           cell_t *total)
{
    json_t *series = json_array();
    for (int i = 0; i < k->nb; i++) {
        cell_add(total, &g->cells[i]);
        char a[ANALYTICS_TIME_LEN], b[ANALYTICS_TIME_LEN];
        json_t *o = json_pack("{s:s,s:s}", "start",
                              analytics_format_time(k->bounds[i], k->q->offset_min, a), "end",
                              analytics_format_time(k->bounds[i + 1], k->q->offset_min, b));
        json_object_update_new(o, cell_json(&g->cells[i]));
        json_array_append_new(series, o);
    }
    return series;
}

static store_err_t exec_analytics(store_t *s, store_op_t *op)
{
    analytics_op_t *a = (analytics_op_t *)op;
    calc_t *k = xcalloc(1, sizeof *k);
    k->s = s;
    k->q = &a->q;
    k->group_by =
        a->kind == CALC_ENERGY || a->kind == CALC_BY_HOUR ? STORE_GROUP_NETWORK : a->q.group_by;
    analytics_bucket_t b = a->kind == CALC_SUMMARY ? ANALYTICS_BUCKET_NONE : a->q.bucket;
    if (a->kind == CALC_BY_HOUR) {
        /* 24 buckets: the hours of the day; sessions only, by their start */
        k->nb = 24;
        for (int i = 0; i <= 24; i++)
            k->bounds[i] = i;
    } else {
        k->nb = analytics_buckets(a->q.from, a->q.to, b, a->q.offset_min, k->bounds,
                                  ANALYTICS_MAX_BUCKETS);
    }
    store_err_t err = STORE_OK;
    if (k->nb < 0) {
        snprintf(k->error, sizeof k->error, "the range needs more than %d buckets",
                 ANALYTICS_MAX_BUCKETS);
        goto done;
    }
    if (a->kind == CALC_BY_HOUR) {
        strbuf_t sql = {0};
        strbuf_printf(&sql, "SELECT t.started_at,t.stopped_at,t.meter_start,"
                            "COALESCE(t.meter_stop,t.last_energy_wh) FROM transactions t "
                            "LEFT JOIN stations s ON s.id=t.station_id "
                            "WHERE t.started_at>=?1 AND t.started_at<?2");
        filter_sql(&sql, &a->q, "t.station_id");
        sqlite3_stmt *st = prepare(k, sql.data);
        strbuf_free(&sql);
        if (!st) {
            err = STORE_ERR_IO;
            goto done;
        }
        bind_filters(st, &a->q);
        group_t *g = group_for(k, "", NULL, 0, 0);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            int64_t started = sqlite3_column_int64(st, 0);
            cell_t *c = &g->cells[analytics_local_hour(started, a->q.offset_min)];
            c->sessions++;
            if (sqlite3_column_type(st, 1) != SQLITE_NULL &&
                sqlite3_column_int64(st, 1) >= started) {
                c->dur_sum += sqlite3_column_int64(st, 1) - started;
                c->dur_n++;
            }
            if (sqlite3_column_type(st, 2) != SQLITE_NULL &&
                sqlite3_column_type(st, 3) != SQLITE_NULL) {
                int64_t e = sqlite3_column_int64(st, 3) - sqlite3_column_int64(st, 2);
                if (e > 0) c->energy += e;
            }
        }
        sqlite3_finalize(st);
        err = store_check(s, rc, "analytics by hour");
        goto done;
    }
    if (a->kind != CALC_UTILIZATION && (err = calc_energy(k)) != STORE_OK) goto done;
    if (k->error[0]) goto done;
    if (a->kind != CALC_ENERGY && (err = calc_utilization(k)) != STORE_OK) goto done;
    if (k->error[0]) goto done;
    if (a->kind == CALC_SUMMARY && (err = calc_stations(k)) != STORE_OK) goto done;

done:
    if (err == STORE_OK && k->error[0]) {
        a->result = json_pack("{s:s}", "error", k->error);
    } else if (err == STORE_OK) {
        HASH_SORT(k->groups, group_cmp);
        a->result = json_object();
        if (a->kind == CALC_ENERGY || a->kind == CALC_BY_HOUR) {
            group_t *g = k->groups ? k->groups : group_for(k, "", NULL, 0, 0);
            cell_t total = {0};
            json_t *series = series_json(k, g, energy_json, &total);
            if (a->kind == CALC_BY_HOUR) {
                for (size_t i = 0; i < json_array_size(series); i++) {
                    json_t *o = json_array_get(series, i);
                    json_object_del(o, "start");
                    json_object_del(o, "end");
                    json_object_set_new(o, "hour", json_integer((json_int_t)i));
                }
                json_object_set_new(a->result, "hours", series);
            } else {
                json_object_set_new(a->result, "series", series);
            }
            json_object_set_new(a->result, "totals", energy_json(&total));
        } else {
            json_t *groups = json_array();
            for (group_t *g = k->groups; g; g = g->hh.next) {
                cell_t total = {0};
                json_t *o = json_pack("{s:O}", "group", g->label);
                json_t *series =
                    series_json(k, g, a->kind == CALC_SUMMARY ? energy_json : util_json, &total);
                if (a->kind == CALC_SUMMARY) {
                    json_decref(series);
                    json_object_set_new(o, "stations", json_integer(g->stations));
                    json_object_set_new(o, "connectors", json_integer(g->connectors));
                    json_t *e = energy_json(&total), *u = util_json(&total);
                    json_object_update(o, e);
                    json_object_set(o, "charging_share", json_object_get(u, "charging_share"));
                    json_object_set(o, "occupied_share", json_object_get(u, "occupied_share"));
                    json_decref(e);
                    json_decref(u);
                } else {
                    json_object_set_new(o, "connectors", json_integer(g->connectors));
                    json_object_set_new(o, "totals", util_json(&total));
                    if (a->q.bucket != ANALYTICS_BUCKET_NONE)
                        json_object_set_new(o, "series", series);
                    else
                        json_decref(series);
                }
                json_array_append_new(groups, o);
            }
            json_object_set_new(a->result, "groups", groups);
        }
    }
    calc_free(k);
    free(k);
    return err;
}

static void analytics_done(store_op_t *op)
{
    analytics_op_t *a = (analytics_op_t *)op;
    a->cb(a->ctx, op->rc, a->result);
    json_decref(a->result);
    free(a->station_id);
    free(a->site);
    free(a);
}

static void submit(store_t *s, calc_kind_t kind, const store_analytics_query_t *q, store_json_cb cb,
                   void *ctx)
{
    analytics_op_t *a = xcalloc(1, sizeof *a);
    a->op.exec = exec_analytics;
    a->op.done = analytics_done;
    a->cb = cb;
    a->ctx = ctx;
    a->kind = kind;
    a->q = *q;
    a->q.station_id = a->station_id = xstrdup_opt(q->station_id);
    a->q.site = a->site = xstrdup_opt(q->site);
    store_submit(s, &a->op);
}

void store_analytics_energy(store_t *s, const store_analytics_query_t *q, store_json_cb cb,
                            void *ctx)
{
    submit(s, CALC_ENERGY, q, cb, ctx);
}

void store_analytics_utilization(store_t *s, const store_analytics_query_t *q, store_json_cb cb,
                                 void *ctx)
{
    submit(s, CALC_UTILIZATION, q, cb, ctx);
}

void store_analytics_sessions_by_hour(store_t *s, const store_analytics_query_t *q,
                                      store_json_cb cb, void *ctx)
{
    submit(s, CALC_BY_HOUR, q, cb, ctx);
}

void store_analytics_summary(store_t *s, const store_analytics_query_t *q, store_json_cb cb,
                             void *ctx)
{
    submit(s, CALC_SUMMARY, q, cb, ctx);
}

/* ------------------------------------------------------------------ exports */

typedef struct export_op {
    store_op_t op;
    store_csv_cb cb;
    void *ctx;
    store_export_query_t q;
    char *station_id, *site;
    strbuf_t out;
    store_csv_chunk_t chunk;
} export_op_t;

const char *store_export_header(store_export_kind_t kind)
{
    return kind == STORE_EXPORT_SESSIONS
               ? "session_id,transaction_id,station_id,site,evse_id,connector_id,id_token,"
                 "id_token_type,auth_status,started_at,stopped_at,duration_s,meter_start_wh,"
                 "meter_stop_wh,energy_wh,stop_reason\r\n"
               : "session_id,station_id,evse_id,connector_id,timestamp,measurand,phase,location,"
                 "context,value,unit,format\r\n";
}

static void csv_time(strbuf_t *b, sqlite3_stmt *st, int idx)
{
    char buf[ANALYTICS_TIME_LEN];
    bool null = sqlite3_column_type(st, idx) == SQLITE_NULL;
    csv_cell(b, null ? NULL : analytics_format_time(sqlite3_column_int64(st, idx), 0, buf), false);
}

static void csv_col(strbuf_t *b, sqlite3_stmt *st, int idx, bool first)
{
    if (sqlite3_column_type(st, idx) == SQLITE_INTEGER)
        csv_int(b, sqlite3_column_int64(st, idx), first);
    else
        csv_cell(b, store_col_text(st, idx), first);
}

static void session_row(strbuf_t *b, sqlite3_stmt *st)
{
    for (int i = 0; i < 9; i++)
        csv_col(b, st, i, i == 0); /* session_id .. auth_status */
    csv_time(b, st, 9);
    csv_time(b, st, 10);
    bool ended = sqlite3_column_type(st, 10) != SQLITE_NULL;
    int64_t dur = sqlite3_column_int64(st, 10) - sqlite3_column_int64(st, 9);
    if (ended && dur >= 0)
        strbuf_printf(b, ",%lld.%03d", (long long)(dur / 1000), (int)(dur % 1000));
    else
        csv_cell(b, NULL, false);
    csv_col(b, st, 11, false);
    csv_col(b, st, 12, false);
    bool known =
        sqlite3_column_type(st, 11) != SQLITE_NULL && sqlite3_column_type(st, 12) != SQLITE_NULL;
    if (known)
        csv_int(b, sqlite3_column_int64(st, 12) - sqlite3_column_int64(st, 11), false);
    else
        csv_cell(b, NULL, false);
    csv_col(b, st, 13, false);
    csv_end(b);
}

static void meter_row(strbuf_t *b, sqlite3_stmt *st)
{
    for (int i = 0; i < 4; i++)
        csv_col(b, st, i, i == 0);
    csv_time(b, st, 4);
    for (int i = 5; i < 12; i++)
        csv_col(b, st, i, false);
    csv_end(b);
}

static store_err_t exec_export(store_t *s, store_op_t *op)
{
    export_op_t *e = (export_op_t *)op;
    const store_export_query_t *q = &e->q;
    strbuf_t where = {0}, sql = {0};
    sqlite3_stmt *st = NULL;
    store_err_t err = STORE_ERR_IO;
    const char *tcol;
    if (q->kind == STORE_EXPORT_SESSIONS) {
        tcol = "t.started_at";
        strbuf_printf(&where, " FROM transactions t LEFT JOIN stations s ON s.id=t.station_id "
                              "WHERE 1=1");
        if (q->station_id) strbuf_printf(&where, " AND t.station_id=?3");
        if (q->site) strbuf_printf(&where, " AND s.site=?4");
    } else {
        tcol = "m.timestamp";
        strbuf_printf(&where, "%s", q->session_id ? " FROM transactions t,meter_values m WHERE "
                                                   STORE_SQL_TX_READINGS("?5")
                                                 : " FROM meter_values m WHERE m.station_id=?3");
    }
    if (q->from) strbuf_printf(&where, " AND %s>=?1", tcol);
    if (q->to) strbuf_printf(&where, " AND %s<?2", tcol);

    e->chunk.total = -1;
    if (q->count) {
        if (q->session_id) {
            /* does the session exist at all? */
            if (sqlite3_prepare_v3(store_db(s), "SELECT 1 FROM transactions WHERE id=?1", -1, 0,
                                   &st, NULL) != SQLITE_OK)
                goto fail;
            sqlite3_bind_int64(st, 1, q->session_id);
            int rc = sqlite3_step(st);
            sqlite3_finalize(st);
            st = NULL;
            if (rc == SQLITE_DONE) {
                err = STORE_ERR_NOT_FOUND;
                goto fail;
            }
            if (rc != SQLITE_ROW) {
                err = store_check(s, rc, "export session");
                goto fail;
            }
        }
        strbuf_printf(&sql, "SELECT COUNT(*)%s", where.data);
        if (sqlite3_prepare_v3(store_db(s), sql.data, -1, 0, &st, NULL) != SQLITE_OK) goto fail;
        sqlite3_bind_int64(st, 1, q->from);
        sqlite3_bind_int64(st, 2, q->to);
        store_bind_text(st, 3, q->station_id);
        if (q->site) store_bind_text(st, 4, q->site);
        if (q->session_id) sqlite3_bind_int64(st, 5, q->session_id);
        int rc = sqlite3_step(st);
        if (rc != SQLITE_ROW) {
            err = store_check(s, rc, "export count");
            goto fail;
        }
        e->chunk.total = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        st = NULL;
        sql.len = 0;
    }
    if (q->kind == STORE_EXPORT_SESSIONS)
        strbuf_printf(&sql, "SELECT t.id,t.tx_id,t.station_id,s.site,t.evse_id,t.connector_id,"
                            "t.id_token,t.id_token_type,t.auth_status,t.started_at,t.stopped_at,"
                            "t.meter_start,t.meter_stop,t.stop_reason,t.id");
    else
        strbuf_printf(&sql, "SELECT m.transaction_id,m.station_id,m.evse_id,m.connector_id,"
                            "m.timestamp,m.measurand,m.phase,m.location,m.context,m.value,m.unit,"
                            "m.format,m.id");
    strbuf_printf(&sql, "%s%s ORDER BY %s,%s LIMIT %d", where.data,
                  q->has_cursor
                      ? (q->kind == STORE_EXPORT_SESSIONS ? " AND (t.started_at,t.id)>(?6,?7)"
                                                          : " AND (m.timestamp,m.id)>(?6,?7)")
                      : "",
                  tcol, q->kind == STORE_EXPORT_SESSIONS ? "t.id" : "m.id", STORE_EXPORT_CHUNK);
    if (sqlite3_prepare_v3(store_db(s), sql.data, -1, 0, &st, NULL) != SQLITE_OK) {
        store_check(s, sqlite3_errcode(store_db(s)), "export prepare");
        goto fail;
    }
    sqlite3_bind_int64(st, 1, q->from);
    sqlite3_bind_int64(st, 2, q->to);
    store_bind_text(st, 3, q->station_id);
    if (q->site) store_bind_text(st, 4, q->site);
    if (q->session_id) sqlite3_bind_int64(st, 5, q->session_id);
    if (q->has_cursor) {
        sqlite3_bind_int64(st, 6, q->after_t);
        sqlite3_bind_int64(st, 7, q->after_id);
    }
    int rc, tidx = q->kind == STORE_EXPORT_SESSIONS ? 9 : 4,
            idx = 14 - (q->kind != STORE_EXPORT_SESSIONS) * 2;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (q->kind == STORE_EXPORT_SESSIONS)
            session_row(&e->out, st);
        else
            meter_row(&e->out, st);
        e->chunk.rows++;
        e->chunk.last_t = sqlite3_column_int64(st, tidx);
        e->chunk.last_id = sqlite3_column_int64(st, idx);
    }
    err = store_check(s, rc, "export");
fail:
    if (err == STORE_ERR_IO && st == NULL && sql.data == NULL)
        store_check(s, SQLITE_ERROR, "export");
    sqlite3_finalize(st);
    strbuf_free(&where);
    strbuf_free(&sql);
    return err;
}

static void export_done(store_op_t *op)
{
    export_op_t *e = (export_op_t *)op;
    e->chunk.data = e->out.data ? e->out.data : "";
    e->chunk.len = e->out.len;
    e->cb(e->ctx, op->rc, &e->chunk);
    strbuf_free(&e->out);
    free(e->station_id);
    free(e->site);
    free(e);
}

void store_export_csv(store_t *s, const store_export_query_t *q, store_csv_cb cb, void *ctx)
{
    export_op_t *e = xcalloc(1, sizeof *e);
    e->op.exec = exec_export;
    e->op.done = export_done;
    e->cb = cb;
    e->ctx = ctx;
    e->q = *q;
    e->q.station_id = e->station_id = xstrdup_opt(q->station_id);
    e->q.site = e->site = xstrdup_opt(q->site);
    store_submit(s, &e->op);
}
