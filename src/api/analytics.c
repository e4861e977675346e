/*
 * Analytics, CSV exports and the public availability endpoint.
 *
 * Analytics (energy, utilization, sessions by hour, summary) check their
 * query here, turn it into a store_analytics_query_t and let the store
 * aggregate on its thread (store_analytics.c says how energy and status time
 * are attributed). Every parameter error is a 400 that says what to send.
 *
 * Exports are built from the store in chunks of STORE_EXPORT_CHUNK rows (one
 * store operation each, so the writer thread is never held for long) and
 * answered in one piece with Content-Disposition: attachment. The first chunk
 * counts the rows, and an export above EXPORT_MAX_* rows is refused with a 400
 * before anything is built, which bounds memory.
 *
 * The public endpoint shows driver apps where stations are and whether their
 * connectors are free, from the live state in csms/ alone (no store read, so
 * anonymous traffic puts no work on the writer thread), and nothing private:
 * each field is copied from an allow-list, never by filtering the station's
 * full JSON.
 */
#include "api/api_internal.h"

#include "store/store_analytics.h"
#include "util/alloc.h"
#include "util/strbuf.h"
#include "util/timefmt.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DAY_MS 86400000LL
#define DEFAULT_SPAN_MS (30 * DAY_MS)
#define MAX_SPAN_MS (3660 * DAY_MS) /* ten years */
#define EXPORT_MAX_SESSIONS 100000
#define EXPORT_MAX_METER_VALUES 250000

/* ------------------------------------------------------------- parameters */

/* An RFC 3339 query parameter. A '+' in an offset often arrives decoded to a
 * space (form encoding): read it as the '+' it was. */
static bool query_time(api_call_t *c, const char *name, int64_t *out, bool *present)
{
    const char *v = api_query(c, name);
    *present = v != NULL;
    if (!v) return true;
    char buf[64];
    snprintf(buf, sizeof buf, "%s", v);
    size_t n = strlen(buf);
    if (n >= 25 && buf[n - 6] == ' ' && buf[n - 3] == ':') buf[n - 6] = '+';
    if (strlen(v) >= sizeof buf || !time_parse_rfc3339(buf, out)) {
        api_problem(c, 400, "Bad Request",
                    "%s must be an RFC 3339 date-time such as 2026-01-31T00:00:00Z or "
                    "2026-01-31T00:00:00+02:00 (got '%.64s')",
                    name, v);
        return false;
    }
    return true;
}

static bool query_offset(api_call_t *c, int *out)
{
    const char *v = api_query(c, "utc_offset");
    *out = 0;
    if (v && !analytics_offset_parse(v, out)) {
        api_problem(c, 400, "Bad Request",
                    "utc_offset must be an offset from UTC such as +02:00, -05:30 or Z, at most "
                    "14 hours (got '%.32s')",
                    v);
        return false;
    }
    return true;
}

static const char *const group_names[] = {"network", "site", "station", "connector"};

static bool query_group(api_call_t *c, int allowed, store_group_t dflt, store_group_t *out)
{
    const char *v = api_query(c, "group_by");
    *out = dflt;
    if (!v) return true;
    for (int i = 0; i < allowed; i++) {
        if (strcmp(v, group_names[i]) == 0) {
            *out = (store_group_t)i;
            return true;
        }
    }
    api_problem(c, 400, "Bad Request", "group_by must be %s (got '%.32s')",
                allowed == 4 ? "network, site, station or connector" : "network, site or station",
                v);
    return false;
}

/* station (must exist) and site filters. */
static bool query_filters(api_call_t *c, const char **station, const char **site)
{
    *station = api_query(c, "station");
    *site = api_query(c, "site");
    if (*station && !csms_station_find(c->api->d.csms, *station)) {
        api_problem(c, 404, "Not Found", "no station %.64s", *station);
        return false;
    }
    if (*site && !**site) {
        api_problem(c, 400, "Bad Request", "site must not be empty");
        return false;
    }
    return true;
}

/* from, to, bucket, utc_offset and the filters of an analytics request. */
static bool read_analytics(api_call_t *c, store_analytics_query_t *q, bool bucketed)
{
    memset(q, 0, sizeof *q);
    bool has_from, has_to;
    q->now = time_now_ms();
    if (!query_time(c, "from", &q->from, &has_from) || !query_time(c, "to", &q->to, &has_to) ||
        !query_offset(c, &q->offset_min) || !query_filters(c, &q->station_id, &q->site))
        return false;
    const char *b = api_query(c, "bucket");
    q->bucket = ANALYTICS_BUCKET_NONE;
    if (b && !bucketed) {
        api_problem(c, 400, "Bad Request", "this report takes no bucket");
        return false;
    }
    if (b && !analytics_bucket_parse(b, &q->bucket)) {
        api_problem(c, 400, "Bad Request", "bucket must be hour, day or month (got '%.32s')", b);
        return false;
    }
    if (!has_to)
        q->to = has_from && q->from < q->now - DEFAULT_SPAN_MS ? q->from + DEFAULT_SPAN_MS : q->now;
    if (!has_from)
        q->from = q->to - (q->bucket == ANALYTICS_BUCKET_HOUR ? DAY_MS : DEFAULT_SPAN_MS);
    if (q->from >= q->to) {
        api_problem(c, 400, "Bad Request", "from must be before to");
        return false;
    }
    if (q->to - q->from > MAX_SPAN_MS) {
        api_problem(c, 400, "Bad Request", "from and to may be at most 3660 days apart");
        return false;
    }
    if (q->bucket != ANALYTICS_BUCKET_NONE) {
        static int64_t bounds[ANALYTICS_MAX_BUCKETS + 1]; /* loop thread only */
        if (analytics_buckets(q->from, q->to, q->bucket, q->offset_min, bounds,
                              ANALYTICS_MAX_BUCKETS) < 0) {
            api_problem(c, 400, "Bad Request",
                        "the range needs more than %d %s buckets; use a coarser bucket or a "
                        "shorter range",
                        ANALYTICS_MAX_BUCKETS, analytics_bucket_name(q->bucket));
            return false;
        }
    }
    return true;
}

/* What the answer says it answered: the range and filters as understood. */
static json_t *echo(const store_analytics_query_t *q)
{
    char a[ANALYTICS_TIME_LEN], b[ANALYTICS_TIME_LEN], off[ANALYTICS_TIME_LEN];
    /* "+02:00": the zone part of a formatted time */
    const char *f = analytics_format_time(0, q->offset_min, off);
    const char *zone = q->offset_min ? f + strlen(f) - 6 : "Z";
    return json_pack("{s:s,s:s,s:s?,s:s,s:s?,s:s?}", "from",
                     analytics_format_time(q->from, q->offset_min, a), "to",
                     analytics_format_time(q->to, q->offset_min, b), "bucket",
                     analytics_bucket_name(q->bucket), "utc_offset", zone, "station", q->station_id,
                     "site", q->site);
}

typedef struct analytics_req {
    api_call_t *c;
    json_t *echo;
} analytics_req_t;

static void analytics_answered(void *ctx, store_err_t rc, json_t *res)
{
    analytics_req_t *r = ctx;
    api_call_t *c = r->c;
    json_t *body = r->echo;
    free(r);
    if (!api_alive(c)) {
        json_decref(body);
        return;
    }
    if (rc != STORE_OK || !res) {
        json_decref(body);
        api_problem(c, 503, "Service Unavailable", "the database could not answer; retry");
        return;
    }
    const char *err = json_string_value(json_object_get(res, "error"));
    if (err) {
        json_decref(body);
        api_problem(c, 400, "Bad Request", "%s", err);
        return;
    }
    json_object_update(body, res);
    api_json(c, 200, body);
}

typedef void (*analytics_fn)(store_t *, const store_analytics_query_t *, store_json_cb, void *);

static void run_analytics(api_call_t *c, const store_analytics_query_t *q, analytics_fn fn,
                          json_t *extra)
{
    analytics_req_t *r = xmalloc(sizeof *r);
    r->c = c;
    r->echo = echo(q);
    if (extra) json_object_update_new(r->echo, extra);
    api_hold(c);
    fn(c->api->d.store, q, analytics_answered, r);
}

void api_analytics_energy(api_call_t *c)
{
    store_analytics_query_t q;
    if (!read_analytics(c, &q, true)) return;
    if (q.bucket == ANALYTICS_BUCKET_NONE) {
        /* days, or months when there would be too many days */
        static int64_t bounds[ANALYTICS_MAX_BUCKETS + 1]; /* loop thread only */
        q.bucket = ANALYTICS_BUCKET_DAY;
        if (analytics_buckets(q.from, q.to, q.bucket, q.offset_min, bounds, ANALYTICS_MAX_BUCKETS) <
            0)
            q.bucket = ANALYTICS_BUCKET_MONTH;
    }
    run_analytics(c, &q, store_analytics_energy,
                  json_pack("{s:s}", "energy_method",
                            "register samples, interpolated linearly; pro rata over time "
                            "without samples"));
}

void api_analytics_utilization(api_call_t *c)
{
    store_analytics_query_t q;
    if (!read_analytics(c, &q, true) || !query_group(c, 4, STORE_GROUP_NETWORK, &q.group_by))
        return;
    json_t *until = NULL;
    char buf[ANALYTICS_TIME_LEN];
    if (q.now < q.to)
        until =
            json_pack("{s:s}", "observed_until", analytics_format_time(q.now, q.offset_min, buf));
    else
        until =
            json_pack("{s:s}", "observed_until", analytics_format_time(q.to, q.offset_min, buf));
    json_object_set_new(until, "group_by", json_string(group_names[q.group_by]));
    run_analytics(c, &q, store_analytics_utilization, until);
}

void api_analytics_sessions_by_hour(api_call_t *c)
{
    store_analytics_query_t q;
    if (!read_analytics(c, &q, false)) return;
    run_analytics(c, &q, store_analytics_sessions_by_hour, NULL);
}

void api_analytics_summary(api_call_t *c)
{
    store_analytics_query_t q;
    if (!read_analytics(c, &q, false) || !query_group(c, 3, STORE_GROUP_NETWORK, &q.group_by))
        return;
    run_analytics(c, &q, store_analytics_summary,
                  json_pack("{s:s}", "group_by", group_names[q.group_by]));
}

/* ------------------------------------------------------------------ exports */

typedef struct export_req {
    api_call_t *c;
    store_export_query_t q;
    char *station, *site;
    strbuf_t out;
    int64_t max_rows, rows;
    char filename[160];
} export_req_t;

static void export_free(export_req_t *e)
{
    strbuf_free(&e->out);
    free(e->station);
    free(e->site);
    free(e);
}

static void respond_raw(api_call_t *c, int status, const char *ctype, const char *body, size_t len,
                        const char *extra)
{
    if (c->req) net_req_respond(c->req, status, ctype, body, len, extra);
    api_call_free(c);
}

static void export_chunk(void *ctx, store_err_t rc, const store_csv_chunk_t *ch)
{
    export_req_t *e = ctx;
    api_call_t *c = e->c;
    if (!api_alive(c)) {
        export_free(e);
        return;
    }
    if (rc == STORE_ERR_NOT_FOUND) {
        api_problem(c, 404, "Not Found", "no session %lld", (long long)e->q.session_id);
        export_free(e);
        return;
    }
    if (rc != STORE_OK) {
        api_problem(c, 503, "Service Unavailable", "the database could not answer; retry");
        export_free(e);
        return;
    }
    if (ch->total > e->max_rows) {
        api_problem(c, 400, "Bad Request",
                    "the export would have %lld rows, more than the %lld one export may hold; "
                    "split it into shorter from/to ranges",
                    (long long)ch->total, (long long)e->max_rows);
        export_free(e);
        return;
    }
    strbuf_append(&e->out, ch->data, ch->len);
    e->rows += ch->rows;
    if (ch->rows >= STORE_EXPORT_CHUNK && e->rows < e->max_rows + STORE_EXPORT_CHUNK) {
        e->q.count = false;
        e->q.has_cursor = true;
        e->q.after_t = ch->last_t;
        e->q.after_id = ch->last_id;
        store_export_csv(c->api->d.store, &e->q, export_chunk, e);
        return;
    }
    char hdr[320];
    snprintf(hdr, sizeof hdr,
             "Content-Disposition: attachment; filename=\"%s\"\r\nCache-Control: no-store\r\n",
             e->filename);
    respond_raw(c, 200, "text/csv; charset=utf-8", e->out.data, e->out.len, hdr);
    export_free(e);
}

/* A file-name-safe copy of s: [A-Za-z0-9._-], others become '_'. */
static void name_part(char *out, size_t len, const char *s)
{
    size_t i = 0;
    for (; s[i] && i + 1 < len; i++) {
        char ch = s[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_';
        out[i] = ok ? ch : '_';
    }
    out[i] = '\0';
}

static void start_export(api_call_t *c, export_req_t *e)
{
    e->c = c;
    e->q.station_id = e->station;
    e->q.site = e->site;
    e->q.count = true;
    strbuf_append(&e->out, store_export_header(e->q.kind), strlen(store_export_header(e->q.kind)));
    api_hold(c);
    store_export_csv(c->api->d.store, &e->q, export_chunk, e);
}

/* from/to of an export: both optional, from before to. */
static bool export_range(api_call_t *c, int64_t *from, int64_t *to)
{
    bool hf, ht;
    if (!query_time(c, "from", from, &hf) || !query_time(c, "to", to, &ht)) return false;
    if (hf && ht && *from >= *to) {
        api_problem(c, 400, "Bad Request", "from must be before to");
        return false;
    }
    if (hf && *from == 0) *from = -1; /* 0 means "open" to the store */
    return true;
}

void api_export_sessions_csv(api_call_t *c)
{
    int64_t from = 0, to = 0;
    const char *station, *site;
    if (!export_range(c, &from, &to) || !query_filters(c, &station, &site)) return;
    export_req_t *e = xcalloc(1, sizeof *e);
    e->q.kind = STORE_EXPORT_SESSIONS;
    e->q.from = from;
    e->q.to = to;
    e->station = xstrdup_opt(station);
    e->site = xstrdup_opt(site);
    e->max_rows = EXPORT_MAX_SESSIONS;
    char part[64] = "";
    if (station) name_part(part, sizeof part, station);
    snprintf(e->filename, sizeof e->filename, "sessions%s%s.csv", station ? "-" : "", part);
    start_export(c, e);
}

void api_export_meter_values_csv(api_call_t *c)
{
    const char *session = api_query(c, "session"), *station = api_query(c, "station");
    int64_t from = 0, to = 0;
    if (!export_range(c, &from, &to)) return;
    if (api_query(c, "site")) {
        api_problem(c, 400, "Bad Request",
                    "meter values are exported per session or per station, not per site");
        return;
    }
    if (!session == !station) {
        api_problem(c, 400, "Bad Request",
                    "give session=<session id>, or station=<station id> with an optional from "
                    "and to (not both)");
        return;
    }
    long long id = 0;
    if (session) {
        char *end;
        errno = 0;
        id = strtoll(session, &end, 10);
        if (!*session || *end || errno || id <= 0) {
            api_problem(c, 400, "Bad Request", "session must be a session id (a positive integer)");
            return;
        }
    } else if (!csms_station_find(c->api->d.csms, station)) {
        api_problem(c, 404, "Not Found", "no station %.64s", station);
        return;
    }
    export_req_t *e = xcalloc(1, sizeof *e);
    e->q.kind = STORE_EXPORT_METER_VALUES;
    e->q.from = from;
    e->q.to = to;
    e->q.session_id = id;
    e->station = xstrdup_opt(station);
    e->max_rows = EXPORT_MAX_METER_VALUES;
    char part[64];
    if (session)
        snprintf(part, sizeof part, "session-%lld", id);
    else
        name_part(part, sizeof part, station);
    snprintf(e->filename, sizeof e->filename, "meter-values-%s.csv", part);
    start_export(c, e);
}

/* --------------------------------------------------------- public locations */

/* What a driver may know of a connector: one of a few words. */
static const char *public_status(const char *status, bool online)
{
    if (!online || !status) return "Unknown";
    switch (analytics_state_of(status)) {
    case ANALYTICS_AVAILABLE:
        return "Available";
    case ANALYTICS_CHARGING:
        return "Charging";
    case ANALYTICS_OCCUPIED:
        return "Occupied";
    case ANALYTICS_RESERVED:
        return "Reserved";
    case ANALYTICS_UNAVAILABLE:
        return "Unavailable";
    case ANALYTICS_FAULTED:
        return "Faulted";
    case ANALYTICS_UNKNOWN:
        break;
    case ANALYTICS_STATE_COUNT_:
        break;
    }
    return "Unknown";
}

/* An EVSE's status from its connectors': the one that matters most to a
 * driver (an EVSE charges one car at a time, so any use makes it busy). */
static int public_rank(const char *s)
{
    static const char *const order[] = {"Charging", "Occupied",    "Reserved", "Available",
                                        "Faulted",  "Unavailable", "Unknown"};
    for (int i = 0; i < 7; i++)
        if (strcmp(s, order[i]) == 0) return i;
    return 6;
}

static bool labelled_private(const json_t *labels)
{
    json_t *p = json_object_get(labels, "public");
    if (json_is_false(p)) return true;
    const char *s = json_string_value(p);
    return s && (strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0 || strcasecmp(s, "no") == 0);
}

static json_t *coordinate(const json_t *v, double lim)
{
    double d;
    if (json_is_number(v))
        d = json_number_value(v);
    else if (json_is_string(v)) {
        char *end;
        const char *s = json_string_value(v);
        d = strtod(s, &end);
        if (end == s || *end) return NULL;
    } else
        return NULL;
    return isfinite(d) && fabs(d) <= lim ? json_real(d) : NULL;
}

static json_t *public_location(const csms_station_t *st)
{
    const json_t *loc = st->location;
    json_t *o = json_pack("{s:s,s:s?}", "id", st->id, "site", st->site);
    static const char *const texts[] = {"name",        "address", "city",
                                        "postal_code", "state",   "country"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        const char *v = json_string_value(json_object_get(loc, texts[i]));
        json_object_set_new(o, texts[i], v ? json_string(v) : json_null());
    }
    json_t *lat = coordinate(json_object_get(loc, "latitude"), 90);
    json_t *lon = coordinate(json_object_get(loc, "longitude"), 180);
    if (lat && lon)
        json_object_set_new(o, "coordinates",
                            json_pack("{s:o,s:o}", "latitude", lat, "longitude", lon));
    else {
        json_decref(lat);
        json_decref(lon);
        json_object_set_new(o, "coordinates", json_null());
    }
    bool online = st->link != NULL;
    /* 1.6 connector 0 is the station: Unavailable or Faulted there holds for all */
    const char *station_status = NULL;
    int64_t updated = 0;
    for (size_t i = 0; i < st->nconnectors; i++) {
        const csms_connector_t *k = &st->connectors[i];
        if (k->timestamp > updated) updated = k->timestamp;
        if (k->evse_id == 0 && k->status &&
            (strcmp(k->status, "Unavailable") == 0 || strcmp(k->status, "Faulted") == 0))
            station_status = k->status;
    }
    json_t *evses = json_array(), *evse = NULL, *conns = NULL;
    int evse_id = -1;
    int64_t evse_updated = 0;
    char buf[TIME_RFC3339_LEN];
    const char *summary = "Unknown";
    int summary_rank = 99;
    for (size_t i = 0; i <= st->nconnectors; i++) {
        const csms_connector_t *k = i < st->nconnectors ? &st->connectors[i] : NULL;
        if (k && k->evse_id == 0) continue;
        if (evse && (!k || k->evse_id != evse_id)) {
            const char *s = json_string_value(json_object_get(json_array_get(conns, 0), "status"));
            for (size_t j = 0; j < json_array_size(conns); j++) {
                const char *cs =
                    json_string_value(json_object_get(json_array_get(conns, j), "status"));
                if (public_rank(cs) < public_rank(s)) s = cs;
            }
            json_object_set_new(evse, "status", json_string(s));
            json_object_set_new(evse, "connectors", conns);
            json_object_set_new(evse, "last_updated",
                                evse_updated ? json_string(time_format_rfc3339(evse_updated, buf))
                                             : json_null());
            json_array_append_new(evses, evse);
            /* the station's word: Available when any EVSE is */
            int r = strcmp(s, "Available") == 0 ? -1 : public_rank(s);
            if (r < summary_rank) {
                summary_rank = r;
                summary = s;
            }
            evse = NULL;
        }
        if (!k) break;
        if (!evse) {
            char uid[300];
            snprintf(uid, sizeof uid, "%s*%d", st->id, k->evse_id);
            evse_id = k->evse_id;
            evse_updated = 0;
            evse = json_pack("{s:s,s:i}", "uid", uid, "evse_id", k->evse_id);
            conns = json_array();
        }
        const char *s = public_status(station_status ? station_status : k->status, online);
        json_array_append_new(
            conns, json_pack("{s:i,s:s,s:s?}", "connector_id", k->connector_id, "status", s,
                             "last_updated",
                             k->timestamp ? time_format_rfc3339(k->timestamp, buf) : NULL));
        if (k->timestamp > evse_updated) evse_updated = k->timestamp;
    }
    json_object_set_new(o, "online", json_boolean(online));
    json_object_set_new(o, "status", json_string(online ? summary : "Unknown"));
    json_object_set_new(o, "last_updated",
                        updated ? json_string(time_format_rfc3339(updated, buf)) : json_null());
    json_object_set_new(o, "evses", evses);
    return o;
}

static int station_cmp(const void *a, const void *b)
{
    return strcmp((*(csms_station_t *const *)a)->id, (*(csms_station_t *const *)b)->id);
}

void api_public_locations(api_call_t *c)
{
    csms_t *m = c->api->d.csms;
    size_t n = 0, cap = 0;
    csms_station_t **list = NULL;
    for (csms_station_t *st = csms_station_first(m); st; st = csms_station_next(st)) {
        if (!json_is_object(st->location) || strcmp(st->registration_status, "Accepted") != 0 ||
            labelled_private(st->labels))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            list = xrealloc(list, cap * sizeof *list);
        }
        list[n++] = st;
    }
    if (n) qsort(list, n, sizeof *list, station_cmp);
    json_t *locations = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(locations, public_location(list[i]));
    free(list);
    char buf[TIME_RFC3339_LEN];
    json_t *body = json_pack("{s:s,s:o}", "generated_at", time_format_rfc3339(time_now_ms(), buf),
                             "locations", locations);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    respond_raw(c, 200, "application/json", text, strlen(text),
                "Access-Control-Allow-Origin: *\r\nCache-Control: public, max-age=10\r\n");
    free(text);
}
