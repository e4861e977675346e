/*
 * Demand-response events: JSON in and out, and which limit applies. When
 * events overlap, each is a ceiling the utility asked for, so the lowest one
 * applies (per phase as well as in total).
 */
#include "smart/dr_events.h"

#include "util/timefmt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static bool time_s(const json_t *v, int64_t *out)
{
    int64_t ms;
    if (!json_is_string(v) || !time_parse_rfc3339(json_string_value(v), &ms)) return false;
    *out = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    return true;
}

static int parse_phases(const json_t *v, smart_dr_t *e, char *err, size_t len)
{
    if (!v || json_is_null(v)) {
        for (int i = 0; i < 3; i++)
            e->phase_a[i] = -1;
        return 0;
    }
    if (!json_is_array(v) || json_array_size(v) < 1 || json_array_size(v) > 3) {
        snprintf(err, len,
                 "phase_limits_a must be a list of 1 to 3 currents in A (L1, L2, L3), "
                 "or null");
        return -1;
    }
    for (size_t i = 0; i < 3; i++) {
        const json_t *a = json_array_get(v, i < json_array_size(v) ? i : json_array_size(v) - 1);
        double x = json_number_value(a);
        if (!json_is_number(a) || !isfinite(x) || x < 0 || x > 100000) {
            snprintf(err, len, "phase_limits_a[%zu] must be a current of 0 A or more", i);
            return -1;
        }
        e->phase_a[i] = x;
    }
    return 0;
}

static int copy_str(const json_t *body, const char *key, char *out, size_t size, bool empty_ok,
                    char *err, size_t len)
{
    const json_t *v = json_object_get(body, key);
    if (!v) return 1; /* absent */
    const char *s = json_is_null(v) && empty_ok ? "" : json_string_value(v);
    if (!s || strlen(s) >= size || (!empty_ok && !*s)) {
        snprintf(err, len, "%s must be a string of %s%zu characters", key,
                 empty_ok ? "up to " : "1 to ", size - 1);
        return -1;
    }
    snprintf(out, size, "%s", s);
    return 0;
}

int smart_dr_from_json(const json_t *body, smart_dr_t *e, bool partial, char *err, size_t len)
{
    int rc = copy_str(body, "site", e->site, sizeof e->site, false, err, len);
    if (rc < 0 || (rc > 0 && !partial)) {
        if (rc > 0) snprintf(err, len, "site is required: the site the limit is for");
        return -1;
    }
    const json_t *v;
    if ((v = json_object_get(body, "start")) && !time_s(v, &e->start)) {
        snprintf(err, len, "start must be an RFC 3339 date-time");
        return -1;
    }
    if ((v = json_object_get(body, "end")) && !time_s(v, &e->end)) {
        snprintf(err, len, "end must be an RFC 3339 date-time");
        return -1;
    }
    if (!partial && (!json_object_get(body, "start") || !json_object_get(body, "end"))) {
        snprintf(err, len, "start and end are required (RFC 3339 date-times)");
        return -1;
    }
    if (e->end <= e->start) {
        snprintf(err, len, "end must be after start");
        return -1;
    }
    if ((v = json_object_get(body, "limit_kw"))) {
        double x = json_number_value(v);
        if (!json_is_number(v) || !isfinite(x) || x < 0 || x > 1e7) {
            snprintf(err, len, "limit_kw must be a power of 0 kW or more");
            return -1;
        }
        e->limit_kw = x;
    } else if (!partial) {
        snprintf(err, len, "limit_kw is required: the most the site may import, in kW");
        return -1;
    }
    if ((partial ? json_object_get(body, "phase_limits_a") != NULL : true) &&
        parse_phases(json_object_get(body, "phase_limits_a"), e, err, len))
        return -1;
    if (copy_str(body, "reason", e->reason, sizeof e->reason, true, err, len) < 0) return -1;
    return 0;
}

static json_t *time_json(int64_t s, bool ms)
{
    char b[TIME_RFC3339_LEN];
    if (ms && s == 0) return json_null();
    return json_string(time_format_rfc3339(ms ? s : s * 1000, b));
}

json_t *smart_dr_json(const smart_dr_t *e, int64_t now)
{
    json_t *ph = json_null();
    if (e->phase_a[0] >= 0 || e->phase_a[1] >= 0 || e->phase_a[2] >= 0)
        ph = json_pack("[f,f,f]", e->phase_a[0], e->phase_a[1], e->phase_a[2]);
    const char *status = now < e->start ? "scheduled" : now < e->end ? "active" : "ended";
    json_t *o =
        json_pack("{s:I,s:s,s:o,s:o,s:f,s:o,s:s,s:s,s:s}", "id", (json_int_t)e->id, "site", e->site,
                  "start", time_json(e->start, false), "end", time_json(e->end, false), "limit_kw",
                  e->limit_kw, "phase_limits_a", ph, "source", e->source[0] ? e->source : "api",
                  "reason", e->reason, "status", status);
    json_object_set_new(o, "external_id",
                        e->external_id[0] ? json_string(e->external_id) : json_null());
    json_object_set_new(o, "created_by",
                        e->created_by[0] ? json_string(e->created_by) : json_null());
    json_object_set_new(o, "created_at", time_json(e->created_at, true));
    json_object_set_new(o, "updated_at", time_json(e->updated_at, true));
    return o;
}

bool smart_dr_applies(const smart_dr_t *e, const char *site, int64_t t)
{
    return e->start <= t && t < e->end && strcmp(e->site, site) == 0;
}

double smart_dr_tightest_w(const smart_dr_t *ev, size_t n, const char *site, int64_t t)
{
    double best = -1;
    for (size_t i = 0; i < n; i++)
        if (smart_dr_applies(&ev[i], site, t) && (best < 0 || ev[i].limit_kw * 1000 < best))
            best = ev[i].limit_kw * 1000;
    return best;
}
