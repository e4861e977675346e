/*
 * Uptime reports (see uptime_report.h): each station's history, as the store
 * scan hands it over on the writer thread, becomes one uptime_port_input_t
 * per port; the results are rendered as JSON right there and summed per
 * station, site and network. Nothing here touches the domain's live state:
 * the visitor only sees its own report.
 */
#include "service/uptime_report.h"

#include "service/uptime.h"
#include "store/store_uptime.h"
#include "util/alloc.h"
#include "util/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#define STATIONS_PER_CHUNK 50

typedef struct totals {
    int64_t period_ms, outage_ms, excluded_ms;
    int ports, stations;
} totals_t;

typedef struct site_acc {
    char *key; /* "s<site>", or "n" for stations without a site */
    char *site;
    totals_t t;
    UT_hash_handle hh;
} site_acc_t;

typedef struct report {
    store_t *s;
    uptime_report_query_t q;
    char *station_id, *site;
    int64_t end; /* min(to, now) */
    uptime_report_cb cb;
    void *ctx;
    json_t *ports, *stations;
    site_acc_t *sites;
    totals_t net;
} report_t;

/* ------------------------------------------------------------ rendering */

static json_t *time_json(int64_t ms)
{
    char buf[TIME_RFC3339_LEN];
    return json_string(time_format_rfc3339(ms, buf));
}

static json_t *minutes(int64_t ms)
{
    return json_real((double)ms / (double)UPTIME_MINUTE_MS);
}

static json_t *causes_json(unsigned causes)
{
    json_t *a = json_array();
    for (int i = 0; i < UPTIME_CAUSE_COUNT; i++)
        if (causes & (1u << i)) json_array_append_new(a, json_string(uptime_cause_name(i)));
    return a;
}

/* The sums every level shows. */
static void put_totals(json_t *o, const totals_t *t)
{
    int64_t counted = t->outage_ms - t->excluded_ms;
    json_object_set_new(o, "period_minutes", minutes(t->period_ms));
    json_object_set_new(o, "outage_minutes", minutes(t->outage_ms));
    json_object_set_new(o, "excluded_minutes", minutes(t->excluded_ms));
    json_object_set_new(o, "counted_outage_minutes", minutes(counted));
    json_object_set_new(o, "uptime_pct",
                        json_real(uptime_percent(t->period_ms, t->outage_ms, t->excluded_ms)));
}

static void add_totals(totals_t *to, const totals_t *t)
{
    to->period_ms += t->period_ms;
    to->outage_ms += t->outage_ms;
    to->excluded_ms += t->excluded_ms;
    to->ports += t->ports;
}

static json_t *outage_json(const report_t *r, const uptime_outage_t *o)
{
    return json_pack("{s:o,s:o,s:o,s:o,s:o,s:s?,s:b}", "start", time_json(o->from), "end",
                     time_json(o->to), "minutes", minutes(o->to - o->from), "excluded_minutes",
                     minutes(o->excluded_ms), "causes", causes_json(o->causes), "detail", o->detail,
                     "ongoing", o->to == r->end && r->end == r->q.now);
}

static void put_usage(json_t *o, const report_t *r, const store_uptime_history_t *h, int evse)
{
    const store_uptime_usage_t *u = NULL;
    for (size_t i = 0; i < h->nusage; i++)
        if (h->usage[i].evse_id == evse) u = &h->usage[i];
    json_object_set_new(o, "sessions", json_integer(u ? u->sessions : 0));
    json_object_set_new(o, "energy_kwh", json_real(u ? (double)u->energy_wh / 1000.0 : 0.0));
    json_object_set_new(o, "peak_kw",
                        u && u->has_peak ? json_real(u->peak_w / 1000.0) : json_null());
    json_t *errors = json_array();
    for (size_t i = 0; i < h->nfailed; i++) {
        const store_uptime_interval_t *f = &h->failed[i];
        if (f->evse_id != evse || f->from < r->q.from || f->from >= r->end) continue;
        json_array_append_new(
            errors, json_pack("{s:o,s:s?,s:s?,s:s?,s:o}", "at", time_json(f->from), "kind", f->kind,
                              "reason", f->reason, "error_code", f->error_code, "session_id",
                              f->session_id ? json_integer(f->session_id) : json_null()));
    }
    json_object_set_new(o, "failed_sessions", json_integer((json_int_t)json_array_size(errors)));
    json_object_set_new(o, "failed_session_errors", errors);
}

/* -------------------------------------------------------- one station */

/* One station's rows in the shapes uptime.h takes (valid during a visit). */
typedef struct station_input {
    uptime_point_t *points; /* h->statuses, same order */
    uptime_span_t *online, *spans;
} station_input_t;

/* The points of one connector: a slice of the sorted statuses. */
static uptime_timeline_t timeline(const store_uptime_history_t *h, const uptime_point_t *points,
                                  int evse, int conn)
{
    size_t i = 0;
    while (i < h->nstatuses &&
           (h->statuses[i].evse_id != evse || h->statuses[i].connector_id != conn))
        i++;
    size_t j = i;
    while (j < h->nstatuses && h->statuses[j].evse_id == evse &&
           h->statuses[j].connector_id == conn)
        j++;
    return (uptime_timeline_t){points + i, j - i};
}

static void visit_port(report_t *r, const store_uptime_history_t *h, const station_input_t *si,
                       int evse, totals_t *st)
{
    uptime_timeline_t conns[64];
    size_t nconns = 0;
    int64_t first = 0;
    for (size_t i = 0; i < h->nconnectors && nconns < 64; i++) {
        const store_uptime_connector_t *c = &h->connectors[i];
        if (c->evse_id != evse) continue;
        conns[nconns++] = timeline(h, si->points, evse, c->connector_id);
        if (!first || c->first_at < first) first = c->first_at;
    }
    /* failed starts of this port, then exclusions for it, in one buffer */
    size_t nf = 0, ne = 0;
    uptime_span_t *failed = si->spans, *excl;
    for (size_t i = 0; i < h->nfailed; i++)
        if (h->failed[i].evse_id == evse)
            failed[nf++] =
                (uptime_span_t){h->failed[i].from, h->failed[i].to, 0, h->failed[i].reason};
    excl = failed + nf;
    for (size_t i = 0; i < h->nexclusions; i++)
        if (h->exclusions[i].evse_id == 0 || h->exclusions[i].evse_id == evse)
            excl[ne++] = (uptime_span_t){h->exclusions[i].from, h->exclusions[i].to, 0, NULL};
    uptime_port_input_t in = {
        .from = r->q.from,
        .to = r->end,
        .in_service_from = first,
        .connectors = conns,
        .nconnectors = nconns,
        .station = timeline(h, si->points, 0, 0),
        .online = si->online,
        .nonline = h->nlinks,
        .tracked_since = h->tracked_since,
        .failed_starts = failed,
        .nfailed_starts = nf,
        .excluded = excl,
        .nexcluded = ne,
    };
    uptime_port_result_t res;
    uptime_port_compute(&in, &res);
    if (res.period_ms > 0) {
        totals_t t = {res.period_ms, res.outage_ms, res.excluded_ms, 1, 0};
        add_totals(st, &t);
        json_t *o = json_pack("{s:s,s:s?,s:i,s:o,s:o,s:I}", "station_id", h->station_id, "site",
                              h->site, "evse_id", evse, "from", time_json(res.from), "to",
                              time_json(res.to), "outage_count", (json_int_t)res.noutages);
        put_totals(o, &t);
        if (r->q.outages) {
            json_t *list = json_array();
            for (size_t i = 0; i < res.noutages; i++)
                json_array_append_new(list, outage_json(r, &res.outages[i]));
            json_object_set_new(o, "outages", list);
        }
        if (r->q.usage) put_usage(o, r, h, evse);
        json_array_append_new(r->ports, o);
    }
    uptime_port_result_free(&res);
}

static void add_site(report_t *r, const char *site, const totals_t *t)
{
    char key[300];
    snprintf(key, sizeof key, "%c%s", site ? 's' : 'n', site ? site : "");
    site_acc_t *a = NULL;
    HASH_FIND_STR(r->sites, key, a);
    if (!a) {
        a = xcalloc(1, sizeof *a);
        a->key = xstrdup(key);
        a->site = xstrdup_opt(site);
        HASH_ADD_KEYPTR(hh, r->sites, a->key, strlen(a->key), a);
    }
    add_totals(&a->t, t);
    a->t.stations++;
}

/* The store's visitor: runs on the writer thread and touches only r. */
static void visit(void *ctx, const store_uptime_history_t *h)
{
    report_t *r = ctx;
    station_input_t si = {
        .points = xcalloc(h->nstatuses + 1, sizeof *si.points),
        .online = xcalloc(h->nlinks + 1, sizeof *si.online),
        .spans = xcalloc(h->nfailed + h->nexclusions + 1, sizeof *si.spans),
    };
    for (size_t i = 0; i < h->nstatuses; i++) {
        const char *ec = h->statuses[i].error_code;
        si.points[i] = (uptime_point_t){h->statuses[i].at, h->statuses[i].status,
                                        ec && strcmp(ec, "NoError") != 0 ? ec : NULL};
    }
    for (size_t i = 0; i < h->nlinks; i++)
        si.online[i] = (uptime_span_t){h->links[i].from, h->links[i].to, 0, NULL};
    totals_t st = {0};
    int last = 0;
    for (size_t i = 0; i < h->nconnectors; i++) {
        int evse = h->connectors[i].evse_id;
        if (evse <= 0 || evse == last || (r->q.evse_id && evse != r->q.evse_id)) continue;
        last = evse;
        visit_port(r, h, &si, evse, &st);
    }
    if (st.ports > 0) {
        json_t *o = json_pack("{s:s,s:s?,s:i}", "station_id", h->station_id, "site", h->site,
                              "ports", st.ports);
        put_totals(o, &st);
        json_array_append_new(r->stations, o);
        add_site(r, h->site, &st);
        add_totals(&r->net, &st);
        r->net.stations++;
    }
    free(si.points);
    free(si.online);
    free(si.spans);
}

/* ----------------------------------------------------------- the run */

static void report_free(report_t *r)
{
    json_decref(r->ports);
    json_decref(r->stations);
    while (r->sites) {
        site_acc_t *a = r->sites;
        HASH_DEL(r->sites, a); // NOLINT(clang-analyzer-unix.Malloc): unlinks first
        free(a->key);
        free(a->site);
        free(a);
    }
    free(r->station_id);
    free(r->site);
    free(r);
}

static int site_cmp(site_acc_t *a, site_acc_t *b)
{
    return strcmp(a->key, b->key);
}

static void scan_next(report_t *r, const char *after);

static void chunk_done(void *ctx, store_err_t rc, const char *next)
{
    report_t *r = ctx;
    if (rc != STORE_OK) {
        r->cb(r->ctx, rc, NULL);
        report_free(r);
        return;
    }
    if (next) {
        scan_next(r, next);
        return;
    }
    json_t *sites = json_array();
    HASH_SORT(r->sites, site_cmp);
    for (site_acc_t *a = r->sites; a; a = a->hh.next) {
        json_t *o = json_pack("{s:s?,s:i,s:i}", "site", a->site, "stations", a->t.stations, "ports",
                              a->t.ports);
        put_totals(o, &a->t);
        json_array_append_new(sites, o);
    }
    json_t *net = json_pack("{s:i,s:i}", "stations", r->net.stations, "ports", r->net.ports);
    put_totals(net, &r->net);
    json_t *out = json_pack("{s:O,s:O,s:o,s:o}", "ports", r->ports, "stations", r->stations,
                            "sites", sites, "network", net);
    r->cb(r->ctx, STORE_OK, out);
    json_decref(out);
    report_free(r);
}

static void scan_next(report_t *r, const char *after)
{
    store_uptime_scan_t q = {
        .from = r->q.from,
        .to = r->end,
        .station_id = r->station_id,
        .site = r->site,
        .usage = r->q.usage,
        .after = after,
        .max_stations = STATIONS_PER_CHUNK,
    };
    store_uptime_scan(r->s, &q, visit, chunk_done, r);
}

void uptime_report_run(store_t *s, const uptime_report_query_t *q, uptime_report_cb cb, void *ctx)
{
    report_t *r = xcalloc(1, sizeof *r);
    r->s = s;
    r->q = *q;
    r->station_id = xstrdup_opt(q->station_id);
    r->site = xstrdup_opt(q->site);
    r->q.station_id = r->station_id;
    r->q.site = r->site;
    r->end = q->to < q->now ? q->to : q->now;
    r->cb = cb;
    r->ctx = ctx;
    r->ports = json_array();
    r->stations = json_array();
    scan_next(r, NULL);
}
