/*
 * Alerts through the API: the history (from the store, newest first, cursor
 * paged like every list), one alert, acknowledging and resolving an open one
 * (audited; answered after the change is durable), the configured rules, and
 * the open-alert gauges of /metrics. The engine (service/alerts.h) holds the
 * open alerts; the store holds them all.
 */
#include "api/api_internal.h"
#include "api/lists.h"

#include "store/store_alerts.h"
#include "util/strbuf.h"
#include "util/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOTE_MAX 500

static const api_sort_field_t alert_sorts[] = {
    {"id", false, NULL},         {"first_seen", false, NULL}, {"last_seen", false, NULL},
    {"updated_at", false, NULL}, {NULL, false, NULL},
};
static const api_list_t alert_list = {alert_sorts, "-id", false, 50, 500};

/* ------------------------------------------------------------- helpers */

/* The {id} of the path; answers 404 when it cannot be an alert's. */
static bool path_id(api_call_t *c, int64_t *id)
{
    char *end;
    long long v = strtoll(c->params[0], &end, 10);
    if (!c->params[0][0] || *end || v <= 0) {
        api_problem(c, 404, "Not Found", "no alert %.64s", c->params[0]);
        return false;
    }
    *id = v;
    return true;
}

/* Checks a comma-separated filter against parse(); answers 400 naming the
 * bad item. "open" in a state list stands for active,acknowledged. */
static bool list_ok(api_call_t *c, const char *name, const char *v, int (*parse)(const char *),
                    const char *allowed, char *out, size_t out_len)
{
    out[0] = '\0';
    if (strlen(v) >= out_len / 2) {
        api_problem(c, 400, "Bad Request", "%s is too long", name);
        return false;
    }
    char buf[256];
    snprintf(buf, sizeof buf, "%s", v);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        bool open = parse == alerts_state_parse && strcmp(t, "open") == 0;
        if (!open && parse(t) < 0) {
            api_problem(c, 400, "Bad Request", "%s must be %s (comma-separated); got '%.64s'", name,
                        allowed, t);
            return false;
        }
        size_t used = strlen(out);
        snprintf(out + used, out_len - used, "%s%s", used ? "," : "",
                 open ? "active,acknowledged" : t);
    }
    if (!out[0]) {
        api_problem(c, 400, "Bad Request", "%s must name at least one of %s", name, allowed);
        return false;
    }
    return true;
}

static int rule_parse(const char *s)
{
    return alerts_rule_parse(s);
}

static int severity_parse(const char *s)
{
    return alerts_severity_parse(s);
}

static json_t *item_of(json_t *row)
{
    return alerts_row_json(row);
}

/* ------------------------------------------------------------- reading */

void api_alerts_list(api_call_t *c)
{
    store_alert_filter_t f = {0};
    char states[256], severities[256];
    const char *state = api_query(c, "state"), *severity = api_query(c, "severity");
    const char *rule = api_query(c, "rule");
    if (state && !list_ok(c, "state", state, alerts_state_parse,
                          "active, acknowledged, resolved or open", states, sizeof states))
        return;
    if (severity &&
        !list_ok(c, "severity", severity, severity_parse, "critical, major, minor, warning or info",
                 severities, sizeof severities))
        return;
    if (rule && rule_parse(rule) < 0) {
        api_problem(c, 400, "Bad Request",
                    "rule must be one of the names GET /api/v1/alert-rules lists; got '%.64s'",
                    rule);
        return;
    }
    if (!api_query_time(c, "since", &f.since)) return;
    f.states = state ? states : NULL;
    f.severities = severity ? severities : NULL;
    f.station_id = api_query(c, "station");
    f.site = api_query(c, "site");
    f.rule = rule;
    api_page_t p;
    if (!api_page_read(c, &alert_list, &p)) return;
    store_page_t sp = api_page_store(&p);
    store_alerts_list(c->api->d.store, &f, &sp, api_page_done, api_page_hold(c, &p, item_of));
}

static void got_one(void *ctx, store_err_t rc, json_t *res)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    json_t *row = json_array_get(json_array_get(res, 0), 0);
    if (rc == STORE_ERR_NOT_FOUND || (rc == STORE_OK && !row)) {
        api_problem(c, 404, "Not Found", "no alert %s", c->params[0]);
        return;
    }
    if (rc != STORE_OK) {
        api_problem(c, 503, "Service Unavailable", "the database could not answer; retry");
        return;
    }
    api_json(c, 200, alerts_row_json(row));
}

void api_alerts_get(api_call_t *c)
{
    int64_t id;
    if (!path_id(c, &id)) return;
    api_hold(c);
    store_alert_get(c->api->d.store, id, got_one, c);
}

void api_alert_rules(api_call_t *c)
{
    if (!c->api->d.alerts) {
        api_problem(c, 503, "Service Unavailable", "fault detection is not running");
        return;
    }
    api_json(c, 200, alerts_rules_json(c->api->d.alerts));
}

/* ------------------------------------------------------------- changing */

/* The optional {"note": "..."} of an acknowledgement or resolution. */
static bool read_note(api_call_t *c, const char **note)
{
    const char *k;
    json_t *v;
    *note = NULL;
    json_object_foreach(c->body, k, v)
    {
        if (strcmp(k, "note") != 0) {
            api_problem(c, 400, "Bad Request", "unknown field '%.64s'; only note is taken", k);
            return false;
        }
    }
    v = json_object_get(c->body, "note");
    if (!v || json_is_null(v)) return true;
    if (!json_is_string(v) || json_string_length(v) > NOTE_MAX) {
        api_problem(c, 400, "Bad Request", "note must be a string of up to %d characters",
                    NOTE_MAX);
        return false;
    }
    *note = json_string_value(v);
    return true;
}

static void changed(void *ctx, bool ok, const json_t *alert)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    if (!ok) {
        api_csms_error(c, CSMS_ERR_STORE, "the change could not be stored; retry");
        return;
    }
    bool ack = c->route->fn == api_alerts_acknowledge;
    api_audit(c, ack ? "alert.acknowledge" : "alert.resolve", "alert", c->params[0], c->before,
              alert);
    api_json(c, 200, json_deep_copy(alert));
}

/* The alert is not open: say whether it is resolved or unknown. */
static void not_open(void *ctx, store_err_t rc, json_t *res)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    json_t *row = json_array_get(json_array_get(res, 0), 0);
    if (rc == STORE_ERR_NOT_FOUND || (rc == STORE_OK && !row)) {
        api_problem(c, 404, "Not Found", "no alert %s", c->params[0]);
        return;
    }
    if (rc != STORE_OK) {
        api_problem(c, 503, "Service Unavailable", "the database could not answer; retry");
        return;
    }
    if (!json_object_get(row, "resolved_at") || json_is_null(json_object_get(row, "resolved_at"))) {
        api_problem(c, 409, "Conflict",
                    "alert %s is open but fault detection is off ([alerts] enabled = false): it "
                    "cannot change until it is on again",
                    c->params[0]);
        return;
    }
    const char *by = json_string_value(json_object_get(row, "resolved_by"));
    char when[TIME_RFC3339_LEN];
    time_format_rfc3339(json_integer_value(json_object_get(row, "resolved_at")), when);
    api_problem(c, 409, "Conflict", "alert %s was resolved %sat %s%s%s", c->params[0],
                by && strcmp(by, "auto") == 0 ? "automatically " : "", when,
                by && strcmp(by, "auto") != 0 ? " by " : "",
                by && strcmp(by, "auto") != 0 ? by : "");
}

static void change(api_call_t *c, bool ack)
{
    int64_t id;
    const char *note;
    alerts_t *al = c->api->d.alerts;
    if (!path_id(c, &id) || !read_note(c, &note)) return;
    const alert_t *x = al ? alerts_find(al, id) : NULL;
    if (x && ack && x->state == ALERT_ACKNOWLEDGED) {
        char when[TIME_RFC3339_LEN];
        api_problem(c, 409, "Conflict", "alert %s was acknowledged by %s at %s", c->params[0],
                    x->acknowledged_by ? x->acknowledged_by : "someone",
                    time_format_rfc3339(x->acknowledged_at, when));
        return;
    }
    api_hold(c);
    if (!x) {
        store_alert_get(c->api->d.store, id, not_open, c);
        return;
    }
    c->before = alerts_json(x);
    if (ack)
        alerts_acknowledge(al, id, c->token_name, note, changed, c);
    else
        alerts_resolve(al, id, c->token_name, note, changed, c);
}

void api_alerts_acknowledge(api_call_t *c)
{
    change(c, true);
}

void api_alerts_resolve(api_call_t *c)
{
    change(c, false);
}

/* --------------------------------------------------------------- metrics */

void api_alerts_metrics(api_t *a, struct strbuf *b)
{
    if (!a->d.alerts) return;
    strbuf_printf(b, "# HELP ampgrid_alerts_open Alerts not resolved yet, by state (active or "
                     "acknowledged) and severity\n# TYPE ampgrid_alerts_open gauge\n");
    for (int st = ALERT_ACTIVE; st <= ALERT_ACKNOWLEDGED; st++)
        for (int s = 0; s < ALERT_SEVERITY_COUNT_; s++)
            strbuf_printf(b, "ampgrid_alerts_open{state=\"%s\",severity=\"%s\"} %u\n",
                          alerts_state_name((alert_state_t)st),
                          alerts_severity_name((alert_severity_t)s),
                          alerts_open_count(a->d.alerts, (alert_state_t)st, (alert_severity_t)s));
}
