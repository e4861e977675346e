/*
 * Uptime as regulators compute it: reports per port, station, site and
 * network over a period (GET /api/v1/uptime), the outages behind them
 * (GET /api/v1/uptime/outages), the time operators exclude
 * (/api/v1/uptime/exclusions) and the quarterly NEVI data fields as JSON or
 * CSV (GET /api/v1/reports/nevi-quarterly[.csv]).
 *
 * The numbers come from service/uptime_report.c; this file checks the
 * query, says in the answer what it answered (the period as understood, how
 * much of it has happened yet), and renders. Every parameter error is a 400
 * that says what to send.
 */
#include "api/api_internal.h"
#include "api/lists.h"

#include "service/uptime.h"
#include "service/uptime_report.h"
#include "store/analytics_math.h"
#include "store/store_uptime.h"
#include "util/alloc.h"
#include "util/csv.h"
#include "util/strbuf.h"
#include "util/timefmt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUTAGES_DEFAULT_LIMIT 1000
#define OUTAGES_MAX_LIMIT 10000
#define NOTE_MAX 500

static const char method_text[] =
    "23 CFR 680.116(b): uptime = (period minutes - (outage minutes - excluded minutes)) / "
    "period minutes x 100, per port; a port is down while it reports Faulted or Unavailable "
    "(every connector), its station reports Faulted or Unavailable (OCPP 1.6 connector 0), its "
    "station is offline, or after a failed session start until it recovers; excluded time "
    "counts only inside outages; stations, sites and the network sum their port-minutes";

/* ------------------------------------------------------------- the query */

typedef struct period {
    int64_t from, to, now;
    int offset_min;
    char name[32]; /* "2026-Q3", or "" for from/to */
} period_t;

/* An RFC 3339 query parameter; a '+' in an offset often arrives decoded to
 * a space (form encoding): read it as the '+' it was. */
static bool query_time(api_call_t *c, const char *name, int64_t *out)
{
    const char *v = api_query(c, name);
    char buf[64];
    snprintf(buf, sizeof buf, "%s", v ? v : "");
    size_t n = strlen(buf);
    if (n >= 25 && buf[n - 6] == ' ' && buf[n - 3] == ':') buf[n - 6] = '+';
    if (!v || strlen(v) >= sizeof buf || !time_parse_rfc3339(buf, out)) {
        api_problem(c, 400, "Bad Request",
                    "%s must be an RFC 3339 date-time such as 2026-07-01T00:00:00Z (got '%.64s')",
                    name, v ? v : "");
        return false;
    }
    return true;
}

/* The current calendar month in the offset's local time. */
static void this_month(period_t *p)
{
    char buf[ANALYTICS_TIME_LEN];
    analytics_format_time(p->now, p->offset_min, buf);
    snprintf(p->name, sizeof p->name, "%.7s", buf);
    uptime_period_parse(p->name, p->offset_min, p->now, &p->from, &p->to);
}

/* The period of a request: `param` (period=, or quarter= for the NEVI
 * report, which takes quarters only), or from and to; with neither, the
 * current month (quarter_only: required). */
static bool read_period(api_call_t *c, const char *param, bool quarter_only, period_t *p)
{
    memset(p, 0, sizeof *p);
    p->now = time_now_ms();
    const char *off = api_query(c, "utc_offset");
    if (off && !analytics_offset_parse(off, &p->offset_min)) {
        api_problem(c, 400, "Bad Request",
                    "utc_offset must be an offset from UTC such as +02:00, -05:30 or Z, at most "
                    "14 hours (got '%.32s')",
                    off);
        return false;
    }
    const char *name = api_query(c, param);
    bool has_from = api_query(c, "from") != NULL, has_to = api_query(c, "to") != NULL;
    if (name && (has_from || has_to)) {
        api_problem(c, 400, "Bad Request", "give %s, or from and to, not both", param);
        return false;
    }
    if (name) {
        bool quarter = strlen(name) == 7 && name[5] == 'Q';
        if ((quarter_only && !quarter) ||
            !uptime_period_parse(name, p->offset_min, p->now, &p->from, &p->to)) {
            api_problem(c, 400, "Bad Request",
                        quarter_only ? "%s must be a quarter such as 2026-Q3 (got '%.32s')"
                                     : "%s must be a year (2026), a month (2026-07), a quarter "
                                       "(2026-Q3) or trailing-12-months (got '%.32s')",
                        param, name);
            return false;
        }
        snprintf(p->name, sizeof p->name, "%s", name);
    } else if (has_from || has_to) {
        if (!has_from || !has_to) {
            api_problem(c, 400, "Bad Request", "give both from and to (or %s)", param);
            return false;
        }
        if (!query_time(c, "from", &p->from) || !query_time(c, "to", &p->to)) return false;
    } else if (quarter_only) {
        api_problem(c, 400, "Bad Request", "%s is required, e.g. %s=2026-Q3", param, param);
        return false;
    } else {
        this_month(p);
    }
    if (p->from >= p->to) {
        api_problem(c, 400, "Bad Request", "from must be before to");
        return false;
    }
    if (p->to - p->from > UPTIME_MAX_PERIOD_MS) {
        api_problem(c, 400, "Bad Request",
                    "a period may be at most 366 days long; ask for a year or less");
        return false;
    }
    if (p->from >= p->now) {
        api_problem(c, 400, "Bad Request", "the period has not begun yet");
        return false;
    }
    return true;
}

/* station (must exist), site, and evse_id (a port of that station). */
static bool read_filters(api_call_t *c, uptime_report_query_t *q)
{
    q->station_id = api_query(c, "station");
    q->site = api_query(c, "site");
    const char *evse = api_query(c, "evse_id");
    if (q->station_id && !csms_station_find(c->api->d.csms, q->station_id)) {
        api_problem(c, 400, "Bad Request", "no station %.64s", q->station_id);
        return false;
    }
    if (q->site && !*q->site) {
        api_problem(c, 400, "Bad Request", "site must not be empty");
        return false;
    }
    if (evse) {
        char *end;
        errno = 0;
        long v = strtol(evse, &end, 10);
        if (!*evse || *end || errno || v < 1 || v > 1000) {
            api_problem(c, 400, "Bad Request", "evse_id must be a port number from 1 to 1000");
            return false;
        }
        if (!q->station_id) {
            api_problem(c, 400, "Bad Request", "evse_id needs station (a port of which station?)");
            return false;
        }
        q->evse_id = (int)v;
    }
    return true;
}

/* What the answer answered: the period as understood. */
static json_t *period_json(const period_t *p)
{
    char a[ANALYTICS_TIME_LEN], b[ANALYTICS_TIME_LEN], u[ANALYTICS_TIME_LEN], z[ANALYTICS_TIME_LEN];
    int64_t until = p->to < p->now ? p->to : p->now;
    const char *f = analytics_format_time(0, p->offset_min, z);
    const char *zone = p->offset_min ? f + strlen(f) - 6 : "Z";
    return json_pack("{s:s?,s:s,s:s,s:s,s:s,s:f,s:f,s:b}", "name", p->name[0] ? p->name : NULL,
                     "from", analytics_format_time(p->from, p->offset_min, a), "to",
                     analytics_format_time(p->to, p->offset_min, b), "utc_offset", zone,
                     "observed_until", analytics_format_time(until, p->offset_min, u), "minutes",
                     (double)(p->to - p->from) / UPTIME_MINUTE_MS, "observed_minutes",
                     (double)(until - p->from) / UPTIME_MINUTE_MS, "complete", p->to <= p->now);
}

/* ------------------------------------------------------------- reports */

typedef enum report_kind {
    REPORT_SUMMARY,
    REPORT_OUTAGES,
    REPORT_NEVI_JSON,
    REPORT_NEVI_CSV
} report_kind_t;

typedef struct report_req {
    api_call_t *c;
    report_kind_t kind;
    period_t p;
    int limit;
    char station[64], site[256];
    bool has_station, has_site;
    int evse_id;
} report_req_t;

static json_t *filters_json(const report_req_t *r, int evse)
{
    return json_pack("{s:s?,s:s?,s:o}", "station", r->has_station ? r->station : NULL, "site",
                     r->has_site ? r->site : NULL, "evse_id",
                     evse ? json_integer(evse) : json_null());
}

static int start_cmp(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    int d = strcmp(json_string_value(json_object_get(x, "start")),
                   json_string_value(json_object_get(y, "start")));
    if (d) return d;
    d = strcmp(json_string_value(json_object_get(x, "station_id")),
               json_string_value(json_object_get(y, "station_id")));
    if (d) return d;
    return (int)(json_integer_value(json_object_get(x, "evse_id")) -
                 json_integer_value(json_object_get(y, "evse_id")));
}

/* Every port's outages in one list, by start. */
static json_t *outage_items(json_t *ports, int limit, size_t *total)
{
    size_t n = 0, i, j;
    json_t *port, *o;
    json_array_foreach(ports, i, port) n += json_array_size(json_object_get(port, "outages"));
    json_t **all = xcalloc(n + 1, sizeof(json_t *));
    size_t k = 0;
    json_array_foreach(ports, i, port)
    {
        json_array_foreach(json_object_get(port, "outages"), j, o)
        {
            json_t *x = json_pack(
                "{s:O,s:O,s:O}", "station_id", json_object_get(port, "station_id"), "site",
                json_object_get(port, "site"), "evse_id", json_object_get(port, "evse_id"));
            json_object_update(x, o);
            all[k++] = x;
        }
    }
    if (k > 1) qsort(all, k, sizeof(json_t *), start_cmp);
    json_t *items = json_array();
    for (i = 0; i < k; i++) {
        if ((int)i < limit) json_array_append(items, all[i]);
        json_decref(all[i]);
    }
    free(all);
    *total = k;
    return items;
}

static void send_csv(api_call_t *c, const strbuf_t *out, const char *filename)
{
    char hdr[256];
    snprintf(hdr, sizeof hdr,
             "Content-Disposition: attachment; filename=\"%s\"\r\nCache-Control: no-store\r\n",
             filename);
    if (c->req)
        net_req_respond(c->req, 200, "text/csv; charset=utf-8", out->data ? out->data : "",
                        out->len, hdr);
    api_call_free(c);
}

static void csv_num(strbuf_t *b, const json_t *v, const char *fmt)
{
    if (!json_is_number(v)) {
        csv_cell(b, NULL, false);
        return;
    }
    strbuf_append(b, ",", 1);
    strbuf_printf(b, fmt, json_number_value(v));
}

/* "2026-07-03T10:00:00.000Z Rejected; ..." */
static void csv_joined(strbuf_t *b, const json_t *list, const char *const *keys)
{
    strbuf_t cell = {0};
    size_t i;
    const json_t *x;
    json_array_foreach(list, i, x)
    {
        if (i) strbuf_append(&cell, "; ", 2);
        bool first = true;
        for (const char *const *k = keys; *k; k++) {
            const json_t *v = json_object_get(x, *k);
            if (json_is_string(v)) {
                strbuf_printf(&cell, "%s%s", first ? "" : " ", json_string_value(v));
            } else if (json_is_number(v)) {
                strbuf_printf(&cell, "%s(%.1f min)", first ? "" : " ", json_number_value(v));
            } else {
                continue;
            }
            first = false;
        }
    }
    csv_cell(b, cell.data, false);
    strbuf_free(&cell);
}

static const char nevi_header[] =
    "station_id,site,port,period_start,period_end,period_minutes,sessions,energy_kwh,peak_kw,"
    "failed_sessions,failed_session_errors,outage_count,outage_minutes,excluded_minutes,"
    "uptime_pct,outages\r\n";

static void nevi_csv(report_req_t *r, json_t *ports)
{
    strbuf_t b = {0};
    strbuf_append(&b, nevi_header, strlen(nevi_header));
    size_t i;
    json_t *p;
    static const char *const err_keys[] = {"at", "reason", "error_code", NULL};
    static const char *const out_keys[] = {"start", "end", "minutes", NULL};
    json_array_foreach(ports, i, p)
    {
        csv_cell(&b, json_string_value(json_object_get(p, "station_id")), true);
        csv_cell(&b, json_string_value(json_object_get(p, "site")), false);
        csv_int(&b, json_integer_value(json_object_get(p, "evse_id")), false);
        csv_cell(&b, json_string_value(json_object_get(p, "from")), false);
        csv_cell(&b, json_string_value(json_object_get(p, "to")), false);
        csv_num(&b, json_object_get(p, "period_minutes"), "%.6f");
        csv_int(&b, json_integer_value(json_object_get(p, "sessions")), false);
        csv_num(&b, json_object_get(p, "energy_kwh"), "%.3f");
        csv_num(&b, json_object_get(p, "peak_kw"), "%.3f");
        csv_int(&b, json_integer_value(json_object_get(p, "failed_sessions")), false);
        csv_joined(&b, json_object_get(p, "failed_session_errors"), err_keys);
        csv_int(&b, json_integer_value(json_object_get(p, "outage_count")), false);
        csv_num(&b, json_object_get(p, "outage_minutes"), "%.6f");
        csv_num(&b, json_object_get(p, "excluded_minutes"), "%.6f");
        csv_num(&b, json_object_get(p, "uptime_pct"), "%.6f");
        csv_joined(&b, json_object_get(p, "outages"), out_keys);
        csv_end(&b);
    }
    char name[160];
    snprintf(name, sizeof name, "nevi-%s%s%s.csv", r->p.name, r->has_station ? "-" : "",
             r->has_station ? r->station : "");
    for (char *s = name; *s; s++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_", *s))
            *s = '_';
    send_csv(r->c, &b, name);
    strbuf_free(&b);
}

static void report_done(void *ctx, store_err_t rc, json_t *rep)
{
    report_req_t *r = ctx;
    api_call_t *c = r->c;
    if (!api_alive(c)) goto done;
    if (rc != STORE_OK || !rep) {
        api_problem(c, 503, "Service Unavailable", "the database could not answer; retry");
        goto done;
    }
    json_t *ports = json_object_get(rep, "ports");
    if (r->kind == REPORT_NEVI_CSV) {
        nevi_csv(r, ports);
        goto done;
    }
    json_t *body = json_pack("{s:o,s:s}", "period", period_json(&r->p), "method", method_text);
    json_object_set_new(body, "filters", filters_json(r, r->evse_id));
    if (r->kind == REPORT_OUTAGES) {
        size_t total;
        json_object_set_new(body, "items", outage_items(ports, r->limit, &total));
        json_object_set_new(body, "total", json_integer((json_int_t)total));
        json_object_set_new(body, "truncated", json_boolean((int)total > r->limit));
    } else if (r->kind == REPORT_NEVI_JSON) {
        json_object_set_new(body, "quarter", json_string(r->p.name));
        json_object_set(body, "network", json_object_get(rep, "network"));
        json_object_set(body, "ports", ports);
    } else {
        json_object_update(body, rep);
    }
    api_json(c, 200, body);
done:
    free(r);
}

static void run_report(api_call_t *c, report_kind_t kind, const char *param)
{
    report_req_t *r = xcalloc(1, sizeof *r);
    uptime_report_query_t q = {0};
    bool nevi = kind == REPORT_NEVI_JSON || kind == REPORT_NEVI_CSV;
    r->c = c;
    r->kind = kind;
    r->limit = OUTAGES_DEFAULT_LIMIT;
    if (!read_period(c, param, nevi, &r->p) || !read_filters(c, &q)) goto fail;
    if (kind == REPORT_OUTAGES &&
        (r->limit = api_limit(c, OUTAGES_DEFAULT_LIMIT, OUTAGES_MAX_LIMIT)) < 0)
        goto fail;
    if (kind == REPORT_NEVI_JSON) {
        const char *fmt = api_query(c, "format");
        if (fmt && strcmp(fmt, "csv") == 0)
            r->kind = REPORT_NEVI_CSV;
        else if (fmt && strcmp(fmt, "json") != 0) {
            api_problem(c, 400, "Bad Request", "format must be json or csv (got '%.16s')", fmt);
            goto fail;
        }
    }
    if ((r->has_station = q.station_id != NULL))
        snprintf(r->station, sizeof r->station, "%s", q.station_id);
    if ((r->has_site = q.site != NULL)) snprintf(r->site, sizeof r->site, "%s", q.site);
    r->evse_id = q.evse_id;
    q.from = r->p.from;
    q.to = r->p.to;
    q.now = r->p.now;
    q.outages = kind != REPORT_SUMMARY;
    q.usage = nevi;
    api_hold(c);
    uptime_report_run(c->api->d.store, &q, report_done, r);
    return;
fail:
    free(r);
}

void api_uptime_report(api_call_t *c)
{
    run_report(c, REPORT_SUMMARY, "period");
}

void api_uptime_outages(api_call_t *c)
{
    run_report(c, REPORT_OUTAGES, "period");
}

void api_nevi_quarterly(api_call_t *c)
{
    run_report(c, REPORT_NEVI_JSON, "quarter");
}

void api_nevi_quarterly_csv(api_call_t *c)
{
    if (api_query(c, "format")) {
        api_problem(c, 400, "Bad Request", "the .csv path takes no format (it is CSV)");
        return;
    }
    run_report(c, REPORT_NEVI_CSV, "quarter");
}

/* ----------------------------------------------------------- exclusions */

static const char *const reasons[] = {"grid_outage",
                                      "vehicle_fault",
                                      "scheduled_maintenance",
                                      "vandalism",
                                      "natural_disaster",
                                      "outside_operating_hours",
                                      "other",
                                      NULL};

/* A stored row as the API shows it. */
static json_t *exclusion_item(json_t *row)
{
    json_t *o = json_pack(
        "{s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O}", "id", json_object_get(row, "id"),
        "station_id", json_object_get(row, "station_id"), "evse_id",
        json_object_get(row, "evse_id"), "reason", json_object_get(row, "reason"), "from",
        json_object_get(row, "starts_at"), "to", json_object_get(row, "ends_at"), "note",
        json_object_get(row, "note"), "created_by", json_object_get(row, "created_by"),
        "created_at", json_object_get(row, "created_at"), "updated_by",
        json_object_get(row, "updated_by"), "updated_at", json_object_get(row, "updated_at"));
    if (!o) return json_object();
    int64_t a = json_integer_value(json_object_get(row, "starts_at"));
    int64_t b = json_integer_value(json_object_get(row, "ends_at"));
    json_object_set_new(o, "minutes", json_real((double)(b - a) / UPTIME_MINUTE_MS));
    static const char *const times[] = {"from", "to", "created_at", "updated_at", NULL};
    api_json_times(o, times);
    return o;
}

/* The row a store answer holds at result[step][0], as an item (or NULL). */
static json_t *row_item(json_t *res, size_t step)
{
    json_t *row = json_array_get(json_array_get(res, step), 0);
    return row ? exclusion_item(row) : NULL;
}

static bool exclusion_id(api_call_t *c, int64_t *id)
{
    char *end;
    errno = 0;
    long long v = strtoll(c->params[0], &end, 10);
    if (!*c->params[0] || *end || errno || v <= 0) {
        api_problem(c, 404, "Not Found", "no exclusion with id '%.64s'", c->params[0]);
        return false;
    }
    *id = v;
    return true;
}

/* Reads the body of a create (base NULL) or a change (base: the row as it
 * is) into e; strings point into the body or base. Answers 400 and returns
 * false on a mistake. */
static bool read_exclusion(api_call_t *c, const json_t *base, store_exclusion_t *e)
{
    static const char *const allowed[] = {"station_id", "evse_id", "reason", "from",
                                          "to",         "note",    NULL};
    const char *k;
    json_t *v;
    json_object_foreach(c->body, k, v)
    {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            ok |= strcmp(*a, k) == 0;
        if (!ok) {
            api_problem(c, 400, "Bad Request", "unknown field '%.64s'", k);
            return false;
        }
    }
    memset(e, 0, sizeof *e);
    e->by = api_actor(c);
    if (base) {
        e->station_id = json_string_value(json_object_get(base, "station_id"));
        e->evse_id = (int)json_integer_value(json_object_get(base, "evse_id"));
        e->reason = json_string_value(json_object_get(base, "reason"));
        e->note = json_string_value(json_object_get(base, "note"));
        e->starts_at = json_integer_value(json_object_get(base, "starts_at"));
        e->ends_at = json_integer_value(json_object_get(base, "ends_at"));
    }
    json_t *st = json_object_get(c->body, "station_id");
    if (base && st) {
        api_problem(c, 400, "Bad Request",
                    "an exclusion's station_id cannot be changed; delete it and create another");
        return false;
    }
    if (!base) {
        if (!json_is_string(st)) {
            api_problem(c, 400, "Bad Request", "station_id is required (a station's id)");
            return false;
        }
        e->station_id = json_string_value(st);
        if (!csms_station_find(c->api->d.csms, e->station_id)) {
            api_problem(c, 400, "Bad Request", "no station %.64s", e->station_id);
            return false;
        }
    }
    json_t *ev = json_object_get(c->body, "evse_id");
    if (ev) {
        if (!json_is_null(ev) &&
            (!json_is_integer(ev) || json_integer_value(ev) < 1 || json_integer_value(ev) > 1000)) {
            api_problem(c, 400, "Bad Request",
                        "evse_id must be a port number from 1 to 1000, or null for every port of "
                        "the station");
            return false;
        }
        e->evse_id = json_is_null(ev) ? 0 : (int)json_integer_value(ev);
    }
    json_t *rs = json_object_get(c->body, "reason");
    if (rs || !base) {
        bool ok = false;
        for (const char *const *r = reasons; json_is_string(rs) && *r; r++)
            ok |= strcmp(*r, json_string_value(rs)) == 0;
        if (!ok) {
            api_problem(c, 400, "Bad Request",
                        "reason must be grid_outage, vehicle_fault, scheduled_maintenance, "
                        "vandalism, natural_disaster, outside_operating_hours or other");
            return false;
        }
        e->reason = json_string_value(rs);
    }
    json_t *nt = json_object_get(c->body, "note");
    if (nt) {
        if (!json_is_null(nt) && (!json_is_string(nt) || json_string_length(nt) > NOTE_MAX)) {
            api_problem(c, 400, "Bad Request", "note must be a string of at most %d characters",
                        NOTE_MAX);
            return false;
        }
        e->note = json_is_null(nt) || json_string_length(nt) == 0 ? NULL : json_string_value(nt);
    }
    const char *names[] = {"from", "to"};
    int64_t *slots[] = {&e->starts_at, &e->ends_at};
    for (int i = 0; i < 2; i++) {
        json_t *t = json_object_get(c->body, names[i]);
        if (!t && base) continue;
        if (!json_is_string(t) || !time_parse_rfc3339(json_string_value(t), slots[i])) {
            api_problem(c, 400, "Bad Request",
                        "%s is required: an RFC 3339 date-time such as 2026-07-01T08:00:00Z",
                        names[i]);
            return false;
        }
    }
    if (e->starts_at >= e->ends_at) {
        api_problem(c, 400, "Bad Request", "from must be before to");
        return false;
    }
    if (e->ends_at - e->starts_at > UPTIME_MAX_PERIOD_MS) {
        api_problem(c, 400, "Bad Request", "an exclusion may be at most 366 days long");
        return false;
    }
    if (strcmp(e->reason, "other") == 0 && !e->note) {
        api_problem(c, 400, "Bad Request", "reason other needs a note saying what happened");
        return false;
    }
    return true;
}

void api_uptime_exclusions_list(api_call_t *c)
{
    static const api_sort_field_t sorts[] = {{"from", false, NULL},
                                             {"to", false, NULL},
                                             {"id", false, NULL},
                                             {"created_at", false, NULL},
                                             {NULL, false, NULL}};
    static const api_list_t list = {sorts, "-from", false, 50, 500};
    store_exclusion_filter_t f = {.station_id = api_query(c, "station")};
    if (f.station_id && !csms_station_find(c->api->d.csms, f.station_id)) {
        api_problem(c, 400, "Bad Request", "no station %.64s", f.station_id);
        return;
    }
    if ((api_query(c, "from") && !query_time(c, "from", &f.from)) ||
        (api_query(c, "to") && !query_time(c, "to", &f.to)))
        return;
    if (f.from && f.to && f.from >= f.to) {
        api_problem(c, 400, "Bad Request", "from must be before to");
        return;
    }
    api_page_t page;
    if (!api_page_read(c, &list, &page)) return;
    store_page_t sp = api_page_store(&page);
    store_exclusions_list(c->api->d.store, &f, &sp, api_page_done,
                          api_page_hold(c, &page, exclusion_item));
}

static void created(void *ctx, store_err_t rc, json_t *res)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    json_t *item = rc == STORE_OK ? row_item(res, 1) : NULL;
    if (!item) {
        api_problem(c, 503, "Service Unavailable", "the exclusion could not be stored; retry");
        return;
    }
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(item, "id")));
    api_audit(c, "uptime_exclusion.create", "uptime_exclusion", id, NULL, item);
    api_json(c, 201, item);
}

void api_uptime_exclusions_create(api_call_t *c)
{
    store_exclusion_t e;
    if (!read_exclusion(c, NULL, &e)) return;
    api_hold(c);
    store_exclusion_create(c->api->d.store, &e, created, c);
}

static void got(void *ctx, store_err_t rc, json_t *res)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    if (rc == STORE_ERR_NOT_FOUND) {
        api_problem(c, 404, "Not Found", "no exclusion with id '%.64s'", c->params[0]);
        return;
    }
    json_t *item = rc == STORE_OK ? row_item(res, 0) : NULL;
    if (!item) {
        api_problem(c, 503, "Service Unavailable", "the database could not answer; retry");
        return;
    }
    api_json(c, 200, item);
}

void api_uptime_exclusions_get(api_call_t *c)
{
    int64_t id;
    if (!exclusion_id(c, &id)) return;
    api_hold(c);
    store_exclusion_get(c->api->d.store, id, got, c);
}

static void changed(void *ctx, store_err_t rc, json_t *res)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    if (rc == STORE_ERR_NOT_FOUND) {
        api_problem(c, 404, "Not Found", "no exclusion with id '%.64s'", c->params[0]);
        return;
    }
    json_t *before = rc == STORE_OK ? row_item(res, 0) : NULL;
    json_t *after = rc == STORE_OK ? row_item(res, 2) : NULL;
    if (!after) {
        json_decref(before);
        api_problem(c, 503, "Service Unavailable", "the change could not be stored; retry");
        return;
    }
    api_audit(c, "uptime_exclusion.update", "uptime_exclusion", c->params[0], before, after);
    json_decref(before);
    api_json(c, 200, after);
}

/* A change reads the row first, so that the fields left out keep their
 * values and the combination is checked whole (from before to). */
static void patch_read(void *ctx, store_err_t rc, json_t *res)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    json_t *row = rc == STORE_OK ? json_array_get(json_array_get(res, 0), 0) : NULL;
    if (rc == STORE_ERR_NOT_FOUND || (rc == STORE_OK && !row)) {
        api_problem(c, 404, "Not Found", "no exclusion with id '%.64s'", c->params[0]);
        return;
    }
    if (!row) {
        api_problem(c, 503, "Service Unavailable", "the database could not answer; retry");
        return;
    }
    store_exclusion_t e;
    if (!read_exclusion(c, row, &e)) return;
    int64_t id = json_integer_value(json_object_get(row, "id"));
    api_hold(c);
    store_exclusion_update(c->api->d.store, id, &e, changed, c);
}

void api_uptime_exclusions_patch(api_call_t *c)
{
    int64_t id;
    if (!exclusion_id(c, &id)) return;
    api_hold(c);
    store_exclusion_get(c->api->d.store, id, patch_read, c);
}

static void removed(void *ctx, store_err_t rc, json_t *res)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    if (rc == STORE_ERR_NOT_FOUND) {
        api_problem(c, 404, "Not Found", "no exclusion with id '%.64s'", c->params[0]);
        return;
    }
    json_t *before = rc == STORE_OK ? row_item(res, 0) : NULL;
    if (!before) {
        api_problem(c, 503, "Service Unavailable", "the change could not be stored; retry");
        return;
    }
    api_audit(c, "uptime_exclusion.delete", "uptime_exclusion", c->params[0], before, NULL);
    json_decref(before);
    api_no_content(c);
}

void api_uptime_exclusions_delete(api_call_t *c)
{
    int64_t id;
    if (!exclusion_id(c, &id)) return;
    api_hold(c);
    store_exclusion_delete(c->api->d.store, id, removed, c);
}
