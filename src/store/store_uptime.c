/*
 * Connectivity, failed starts, exclusions and the history scans of uptime
 * reports (see store_uptime.h). The recorder's writes and the exclusions go
 * through the generic SQL operation (store_sql.c): they are a few a second at
 * most. The scan is an operation of its own that prepares its statements
 * once per chunk and walks one station at a time.
 */
#include "store/store_uptime.h"

#include "store/store_page.h"
#include "store/store_sql.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/timefmt.h"

#include <stdlib.h>
#include <string.h>

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* ---------------------------------------------------- the recorder */

int store_uptime_startup_sync(store_t *s, int64_t now)
{
    /* a connection still open was open when the last process stopped
     * hearing about it: it ended when that process was last known alive */
    if (store_sql_sync(s,
                       "UPDATE station_connectivity SET disconnected_at=MAX(connected_at,"
                       "COALESCE((SELECT alive_at FROM uptime_server WHERE id=1),connected_at)),"
                       "end_reason='server_stopped' WHERE disconnected_at IS NULL",
                       NULL, NULL) != 0)
        return -1;
    return store_sql_sync(s,
                          "INSERT INTO uptime_server(id,started_at,alive_at) VALUES(1,?1,?1) "
                          "ON CONFLICT(id) DO UPDATE SET started_at=?1,alive_at=?1",
                          json_pack("[I]", (json_int_t)now), NULL);
}

int store_uptime_open_failures_sync(store_t *s, store_port_row_cb cb, void *ctx)
{
    json_t *rows = NULL;
    if (store_sql_sync(s,
                       "SELECT DISTINCT station_id,evse_id FROM failed_starts "
                       "WHERE recovered_at IS NULL",
                       NULL, &rows) != 0)
        return -1;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        cb(ctx, json_string_value(json_object_get(r, "station_id")),
           (int)json_integer_value(json_object_get(r, "evse_id")));
    }
    json_decref(rows);
    return 0;
}

#define ALIVE_SQL "UPDATE uptime_server SET alive_at=MAX(alive_at,?1) WHERE id=1"

void store_uptime_alive(store_t *s, int64_t now)
{
    store_sql1(s, ALIVE_SQL, json_pack("[I]", (json_int_t)now), 0, NULL, NULL);
}

void store_uptime_connected(store_t *s, const char *station_id, int64_t at)
{
    store_sql_step_t steps[] = {
        {"INSERT INTO station_connectivity(station_id,connected_at) SELECT ?1,?2 WHERE NOT "
         "EXISTS(SELECT 1 FROM station_connectivity WHERE station_id=?1 AND disconnected_at "
         "IS NULL)",
         json_pack("[s,I]", station_id, (json_int_t)at), 0},
        {ALIVE_SQL, json_pack("[I]", (json_int_t)at), 0},
    };
    store_sql(s, steps, 2, NULL, NULL);
}

void store_uptime_disconnected(store_t *s, const char *station_id, int64_t at, const char *reason)
{
    store_sql_step_t steps[] = {
        {"UPDATE station_connectivity SET disconnected_at=MAX(connected_at,?2),end_reason=?3 "
         "WHERE station_id=?1 AND disconnected_at IS NULL",
         json_pack("[s,I,s]", station_id, (json_int_t)at, reason), 0},
        {ALIVE_SQL, json_pack("[I]", (json_int_t)at), 0},
    };
    store_sql(s, steps, 2, NULL, NULL);
}

void store_uptime_failed_start(store_t *s, const store_failed_start_t *f)
{
    store_sql1(s,
               "INSERT INTO failed_starts(station_id,evse_id,connector_id,at,kind,reason,"
               "error_code,session_id) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
               json_pack("[s,i,i,I,s,o,o,o]", f->station_id, f->evse_id, f->connector_id,
                         (json_int_t)f->at, f->kind, str_or_null(f->reason),
                         str_or_null(f->error_code),
                         f->session_id ? json_integer(f->session_id) : json_null()),
               0, NULL, NULL);
}

void store_uptime_recovered(store_t *s, const char *station_id, int evse_id, int64_t at,
                            const char *by)
{
    store_sql1(s,
               "UPDATE failed_starts SET recovered_at=?3,recovered_by=?4 WHERE station_id=?1 AND "
               "(?2=0 OR evse_id=?2) AND recovered_at IS NULL AND at<=?3",
               json_pack("[s,i,I,s]", station_id, evse_id, (json_int_t)at, by), 0, NULL, NULL);
}

/* ------------------------------------------------------ exclusions */

#define EXCL_COLS                                                                                  \
    "id,station_id,evse_id,reason,starts_at,ends_at,note,created_by,created_at,updated_by,"        \
    "updated_at"

static json_t *evse_or_null(int evse_id)
{
    return evse_id > 0 ? json_integer(evse_id) : json_null();
}

void store_exclusion_create(store_t *s, const store_exclusion_t *e, store_json_cb cb, void *ctx)
{
    json_int_t now = time_now_ms();
    store_sql_step_t steps[] = {
        {"INSERT INTO uptime_exclusions(station_id,evse_id,reason,starts_at,ends_at,note,"
         "created_by,created_at,updated_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?8)",
         json_pack("[s,o,s,I,I,o,s,I]", e->station_id, evse_or_null(e->evse_id), e->reason,
                   (json_int_t)e->starts_at, (json_int_t)e->ends_at, str_or_null(e->note), e->by,
                   now),
         0},
        {"SELECT " EXCL_COLS " FROM uptime_exclusions WHERE id=last_insert_rowid()", NULL,
         STORE_SQL_REQUIRE_ROW},
    };
    store_sql(s, steps, 2, cb, ctx);
}

void store_exclusion_update(store_t *s, int64_t id, const store_exclusion_t *e, store_json_cb cb,
                            void *ctx)
{
    json_int_t now = time_now_ms();
    store_sql_step_t steps[] = {
        {"SELECT " EXCL_COLS " FROM uptime_exclusions WHERE id=?1",
         json_pack("[I]", (json_int_t)id), STORE_SQL_REQUIRE_ROW},
        {"UPDATE uptime_exclusions SET evse_id=?2,reason=?3,starts_at=?4,ends_at=?5,note=?6,"
         "updated_by=?7,updated_at=?8 WHERE id=?1",
         json_pack("[I,o,s,I,I,o,s,I]", (json_int_t)id, evse_or_null(e->evse_id), e->reason,
                   (json_int_t)e->starts_at, (json_int_t)e->ends_at, str_or_null(e->note), e->by,
                   now),
         STORE_SQL_REQUIRE_ROW},
        {"SELECT " EXCL_COLS " FROM uptime_exclusions WHERE id=?1",
         json_pack("[I]", (json_int_t)id), STORE_SQL_REQUIRE_ROW},
    };
    store_sql(s, steps, 3, cb, ctx);
}

void store_exclusion_delete(store_t *s, int64_t id, store_json_cb cb, void *ctx)
{
    store_sql_step_t steps[] = {
        {"SELECT " EXCL_COLS " FROM uptime_exclusions WHERE id=?1",
         json_pack("[I]", (json_int_t)id), STORE_SQL_REQUIRE_ROW},
        {"DELETE FROM uptime_exclusions WHERE id=?1", json_pack("[I]", (json_int_t)id), 0},
    };
    store_sql(s, steps, 2, cb, ctx);
}

void store_exclusion_get(store_t *s, int64_t id, store_json_cb cb, void *ctx)
{
    store_sql1(s, "SELECT " EXCL_COLS " FROM uptime_exclusions WHERE id=?1",
               json_pack("[I]", (json_int_t)id), STORE_SQL_REQUIRE_ROW, cb, ctx);
}

static const store_sort_t exclusion_sorts[] = {
    {"from", "starts_at", false, false}, {"to", "ends_at", false, false},
    {"id", "id", false, false},          {"created_at", "created_at", false, false},
    {NULL, NULL, false, false},
};
static const store_list_t exclusion_list = {EXCL_COLS, "uptime_exclusions", "id", exclusion_sorts,
                                            NULL};

void store_exclusions_list(store_t *s, const store_exclusion_filter_t *f,
                           const struct store_page *p, store_json_cb cb, void *ctx)
{
    store_page_query(
        s, &exclusion_list,
        "(?1 IS NULL OR station_id=?1) AND (?2=0 OR ends_at>?2) AND "
        "(?3=0 OR starts_at<?3)",
        json_pack("[o,I,I]", str_or_null(f->station_id), (json_int_t)f->from, (json_int_t)f->to), p,
        cb, ctx);
}

/* ------------------------------------------------------------ scans */

enum scan_stmt {
    Q_STATIONS,
    Q_CONNECTORS,
    Q_BEFORE,
    Q_DURING,
    Q_LINKS,
    Q_TRACKED,
    Q_FAILED,
    Q_EXCLUDED,
    Q_SESSIONS,
    Q_PEAK,
    Q_COUNT_
};

static const char *const scan_sql[Q_COUNT_] = {
    [Q_STATIONS] = "SELECT id,site FROM stations WHERE id>?1 AND (?2 IS NULL OR id=?2) AND "
                   "(?3 IS NULL OR site=?3) ORDER BY id LIMIT ?4",
    [Q_CONNECTORS] = "SELECT evse_id,connector_id,MIN(timestamp) FROM status_history WHERE "
                     "station_id=?1 AND evse_id>=0 GROUP BY evse_id,connector_id "
                     "ORDER BY evse_id,connector_id",
    [Q_BEFORE] = "SELECT status,error_code,timestamp,received_at FROM status_history WHERE "
                 "station_id=?1 AND evse_id=?2 AND connector_id=?3 AND timestamp<=?4 "
                 "ORDER BY timestamp DESC,id DESC LIMIT 1",
    [Q_DURING] = "SELECT status,error_code,timestamp,received_at FROM status_history WHERE "
                 "station_id=?1 AND evse_id=?2 AND connector_id=?3 AND timestamp>?4 AND "
                 "timestamp<?5 ORDER BY timestamp,id",
    [Q_LINKS] = "SELECT id,connected_at,disconnected_at,end_reason FROM station_connectivity "
                "WHERE station_id=?1 AND connected_at<?3 AND (disconnected_at IS NULL OR "
                "disconnected_at>?2) ORDER BY connected_at",
    [Q_TRACKED] = "SELECT MIN(connected_at) FROM station_connectivity WHERE station_id=?1",
    [Q_FAILED] = "SELECT id,evse_id,connector_id,at,recovered_at,kind,reason,error_code,"
                 "session_id FROM failed_starts WHERE station_id=?1 AND at<?3 AND "
                 "(recovered_at IS NULL OR recovered_at>?2) ORDER BY at,id",
    [Q_EXCLUDED] = "SELECT id,COALESCE(evse_id,0),starts_at,ends_at,reason FROM "
                   "uptime_exclusions WHERE station_id=?1 AND starts_at<?3 AND ends_at>?2 "
                   "ORDER BY starts_at,id",
    [Q_SESSIONS] = "SELECT evse_id,COUNT(*),SUM(CASE WHEN meter_start>=0 AND "
                   "COALESCE(meter_stop,last_energy_wh)>meter_start THEN "
                   "COALESCE(meter_stop,last_energy_wh)-meter_start ELSE 0 END) FROM transactions "
                   "WHERE station_id=?1 AND started_at>=?2 AND started_at<?3 GROUP BY evse_id",
    /* phases are summed per reading; a phase-less total stands on its own */
    [Q_PEAK] = "SELECT evse_id,MAX(w) FROM (SELECT evse_id,SUM(CAST(value AS REAL)*CASE unit "
               "WHEN 'kW' THEN 1000.0 ELSE 1.0 END) AS w FROM meter_values WHERE station_id=?1 "
               "AND timestamp>=?2 AND timestamp<?3 AND measurand='Power.Active.Import' AND "
               "(unit IS NULL OR unit IN ('W','kW')) AND (location IS NULL OR "
               "location='Outlet') AND (format IS NULL OR format<>'SignedData') AND (phase IS "
               "NULL OR phase IN ('L1','L2','L3','L1-N','L2-N','L3-N')) GROUP BY evse_id,"
               "timestamp,phase IS NULL,phase LIKE '%-N') GROUP BY evse_id",
};

/* A growable array. */
#define VEC(T)                                                                                     \
    struct {                                                                                       \
        T *v;                                                                                      \
        size_t n, cap;                                                                             \
    }
#define VEC_PUSH(a, x)                                                                             \
    do {                                                                                           \
        if ((a).n == (a).cap) {                                                                    \
            (a).cap = (a).cap ? (a).cap * 2 : 16;                                                  \
            (a).v = xrealloc((a).v, (a).cap * sizeof *(a).v);                                      \
        }                                                                                          \
        (a).v[(a).n++] = (x);                                                                      \
    } while (0)

typedef struct scan_op {
    store_op_t op;
    store_uptime_scan_t q;
    char *station_id, *site, *after;
    store_uptime_visit_cb visit;
    store_uptime_done_cb done;
    void *ctx;
    char *next; /* set when the chunk was full */
    sqlite3_stmt *st[Q_COUNT_];
    /* one station's rows */
    VEC(store_uptime_connector_t) conns;
    VEC(store_uptime_status_t) statuses;
    VEC(store_uptime_interval_t) links, failed, excl;
    VEC(store_uptime_usage_t) usage;
    VEC(char *) strs;
} scan_op_t;

static const char *keep(scan_op_t *o, sqlite3_stmt *st, int col)
{
    const char *s = store_col_text(st, col);
    if (!s) return NULL;
    char *c = xstrdup(s);
    VEC_PUSH(o->strs, c);
    return c;
}

static void reset_station(scan_op_t *o)
{
    for (size_t i = 0; i < o->strs.n; i++)
        free(o->strs.v[i]);
    o->strs.n = o->conns.n = o->statuses.n = o->links.n = o->failed.n = o->excl.n = o->usage.n = 0;
}

static sqlite3_stmt *bind_station(scan_op_t *o, enum scan_stmt q, const char *station)
{
    sqlite3_stmt *st = o->st[q];
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    store_bind_text(st, 1, station);
    if (q != Q_CONNECTORS && q != Q_TRACKED && q != Q_BEFORE && q != Q_DURING) {
        sqlite3_bind_int64(st, 2, o->q.from);
        sqlite3_bind_int64(st, 3, o->q.to);
    }
    return st;
}

static int64_t col_time(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, col);
}

/* A status row of Q_BEFORE/Q_DURING: placed at the station's time, never
 * later than when it arrived (a clock running ahead). */
static void push_status(scan_op_t *o, sqlite3_stmt *st, int evse, int conn)
{
    int64_t ts = col_time(st, 2), rx = col_time(st, 3);
    if (!ts || (rx && rx < ts)) ts = rx;
    store_uptime_status_t r = {evse, conn, ts, keep(o, st, 0), keep(o, st, 1)};
    VEC_PUSH(o->statuses, r);
}

static int status_cmp(const void *a, const void *b)
{
    const store_uptime_status_t *x = a, *y = b;
    if (x->evse_id != y->evse_id) return x->evse_id < y->evse_id ? -1 : 1;
    if (x->connector_id != y->connector_id) return x->connector_id < y->connector_id ? -1 : 1;
    return (x->at > y->at) - (x->at < y->at);
}

static int load_statuses(scan_op_t *o, const char *station)
{
    int rc;
    sqlite3_stmt *cs = bind_station(o, Q_CONNECTORS, station);
    while ((rc = sqlite3_step(cs)) == SQLITE_ROW) {
        store_uptime_connector_t c = {sqlite3_column_int(cs, 0), sqlite3_column_int(cs, 1),
                                      col_time(cs, 2)};
        VEC_PUSH(o->conns, c);
    }
    if (rc != SQLITE_DONE) return rc;
    for (size_t i = 0; i < o->conns.n; i++) {
        const store_uptime_connector_t *c = &o->conns.v[i];
        sqlite3_stmt *b = bind_station(o, Q_BEFORE, station),
                     *d = bind_station(o, Q_DURING, station);
        sqlite3_bind_int(b, 2, c->evse_id);
        sqlite3_bind_int(b, 3, c->connector_id);
        sqlite3_bind_int64(b, 4, o->q.from);
        sqlite3_bind_int(d, 2, c->evse_id);
        sqlite3_bind_int(d, 3, c->connector_id);
        sqlite3_bind_int64(d, 4, o->q.from);
        sqlite3_bind_int64(d, 5, o->q.to);
        if ((rc = sqlite3_step(b)) == SQLITE_ROW)
            push_status(o, b, c->evse_id, c->connector_id);
        else if (rc != SQLITE_DONE)
            return rc;
        while ((rc = sqlite3_step(d)) == SQLITE_ROW)
            push_status(o, d, c->evse_id, c->connector_id);
        if (rc != SQLITE_DONE) return rc;
    }
    /* stable enough: rows arrive in time order, and clamping only moves a
     * row earlier */
    if (o->statuses.n > 1) qsort(o->statuses.v, o->statuses.n, sizeof *o->statuses.v, status_cmp);
    return SQLITE_DONE;
}

static int load_intervals(scan_op_t *o, const char *station)
{
    int rc;
    sqlite3_stmt *st = bind_station(o, Q_LINKS, station);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_uptime_interval_t r = {.id = sqlite3_column_int64(st, 0),
                                     .from = col_time(st, 1),
                                     .to = col_time(st, 2),
                                     .reason = keep(o, st, 3)};
        VEC_PUSH(o->links, r);
    }
    if (rc != SQLITE_DONE) return rc;
    st = bind_station(o, Q_FAILED, station);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_uptime_interval_t r = {.id = sqlite3_column_int64(st, 0),
                                     .evse_id = sqlite3_column_int(st, 1),
                                     .connector_id = sqlite3_column_int(st, 2),
                                     .from = col_time(st, 3),
                                     .to = col_time(st, 4),
                                     .kind = keep(o, st, 5),
                                     .reason = keep(o, st, 6),
                                     .error_code = keep(o, st, 7),
                                     .session_id = col_time(st, 8)};
        VEC_PUSH(o->failed, r);
    }
    if (rc != SQLITE_DONE) return rc;
    st = bind_station(o, Q_EXCLUDED, station);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_uptime_interval_t r = {.id = sqlite3_column_int64(st, 0),
                                     .evse_id = sqlite3_column_int(st, 1),
                                     .from = col_time(st, 2),
                                     .to = col_time(st, 3),
                                     .reason = keep(o, st, 4)};
        VEC_PUSH(o->excl, r);
    }
    return rc;
}

static store_uptime_usage_t *usage_for(scan_op_t *o, int evse)
{
    for (size_t i = 0; i < o->usage.n; i++)
        if (o->usage.v[i].evse_id == evse) return &o->usage.v[i];
    store_uptime_usage_t u = {.evse_id = evse};
    VEC_PUSH(o->usage, u);
    return &o->usage.v[o->usage.n - 1];
}

static int load_usage(scan_op_t *o, const char *station)
{
    int rc;
    sqlite3_stmt *st = bind_station(o, Q_SESSIONS, station);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_uptime_usage_t *u = usage_for(o, sqlite3_column_int(st, 0));
        u->sessions = sqlite3_column_int64(st, 1);
        u->energy_wh = sqlite3_column_int64(st, 2);
    }
    if (rc != SQLITE_DONE) return rc;
    st = bind_station(o, Q_PEAK, station);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_type(st, 1) == SQLITE_NULL) continue;
        store_uptime_usage_t *u = usage_for(o, sqlite3_column_int(st, 0));
        u->has_peak = true;
        u->peak_w = sqlite3_column_double(st, 1);
    }
    return rc;
}

static int visit_station(scan_op_t *o, const char *station, const char *site)
{
    reset_station(o);
    int rc = load_statuses(o, station);
    if (rc == SQLITE_DONE) rc = load_intervals(o, station);
    if (rc == SQLITE_DONE && o->q.usage) rc = load_usage(o, station);
    if (rc != SQLITE_DONE) return rc;
    sqlite3_stmt *tr = bind_station(o, Q_TRACKED, station);
    int64_t tracked = 0;
    if ((rc = sqlite3_step(tr)) == SQLITE_ROW)
        tracked = col_time(tr, 0);
    else if (rc != SQLITE_DONE)
        return rc;
    store_uptime_history_t h = {
        .station_id = station,
        .site = site,
        .connectors = o->conns.v,
        .nconnectors = o->conns.n,
        .statuses = o->statuses.v,
        .nstatuses = o->statuses.n,
        .links = o->links.v,
        .nlinks = o->links.n,
        .tracked_since = tracked,
        .failed = o->failed.v,
        .nfailed = o->failed.n,
        .exclusions = o->excl.v,
        .nexclusions = o->excl.n,
        .usage = o->usage.v,
        .nusage = o->usage.n,
    };
    o->visit(o->ctx, &h);
    return SQLITE_DONE;
}

static store_err_t exec_scan(store_t *s, store_op_t *op)
{
    scan_op_t *o = (scan_op_t *)op;
    store_err_t err = STORE_ERR_IO;
    for (int i = 0; i < Q_COUNT_; i++) {
        if (sqlite3_prepare_v3(store_db(s), scan_sql[i], -1, 0, &o->st[i], NULL) != SQLITE_OK) {
            store_check(s, sqlite3_errcode(store_db(s)), "uptime prepare");
            goto done;
        }
    }
    sqlite3_stmt *sts = o->st[Q_STATIONS];
    store_bind_text(sts, 1, o->after ? o->after : "");
    store_bind_text(sts, 2, o->station_id);
    store_bind_text(sts, 3, o->site);
    sqlite3_bind_int(sts, 4, o->q.max_stations);
    int rc, n = 0;
    while ((rc = sqlite3_step(sts)) == SQLITE_ROW) {
        char *id = xstrdup(store_col_text(sts, 0));
        char *site = xstrdup_opt(store_col_text(sts, 1));
        int vrc = visit_station(o, id, site);
        if (++n == o->q.max_stations) {
            free(o->next);
            o->next = xstrdup(id);
        }
        free(id);
        free(site);
        if (vrc != SQLITE_DONE) {
            err = store_check(s, vrc, "uptime history");
            goto done;
        }
    }
    err = store_check(s, rc, "uptime stations");
done:
    reset_station(o);
    for (int i = 0; i < Q_COUNT_; i++)
        sqlite3_finalize(o->st[i]);
    return err;
}

static void scan_done(store_op_t *op)
{
    scan_op_t *o = (scan_op_t *)op;
    o->done(o->ctx, op->rc, op->rc == STORE_OK ? o->next : NULL);
    free(o->conns.v);
    free(o->statuses.v);
    free(o->links.v);
    free(o->failed.v);
    free(o->excl.v);
    free(o->usage.v);
    free(o->strs.v);
    free(o->station_id);
    free(o->site);
    free(o->after);
    free(o->next);
    free(o);
}

void store_uptime_scan(store_t *s, const store_uptime_scan_t *q, store_uptime_visit_cb visit,
                       store_uptime_done_cb done, void *ctx)
{
    scan_op_t *o = xcalloc(1, sizeof *o);
    o->op.exec = exec_scan;
    o->op.done = scan_done;
    o->q = *q;
    o->station_id = xstrdup_opt(q->station_id);
    o->site = xstrdup_opt(q->site);
    o->after = xstrdup_opt(q->after);
    if (o->q.max_stations <= 0) o->q.max_stations = 100;
    o->visit = visit;
    o->done = done;
    o->ctx = ctx;
    store_submit(s, &o->op);
}
