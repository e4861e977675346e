/*
 * Utility signals through the API: demand-response events
 * (/api/v1/demand-response/events) and price schedules (/api/v1/prices),
 * kept by smart/signals.c. Every change is committed to the store before the
 * answer, audited, and announced as smart.signal (and, for events,
 * demand_response.started/ended at their times) by the signals module.
 */
#include "api/api_internal.h"

#include "smart/dr_events.h"
#include "smart/engine.h"
#include "smart/openadr.h"
#include "smart/prices.h"
#include "smart/signals.h"
#include "util/alloc.h"
#include "util/strbuf.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t now_s(void)
{
    return time(NULL);
}

static smart_signals_t *sig(api_call_t *c)
{
    return c->api->d.signals;
}

/* A site is known when a station belongs to it or it has a capacity tree. */
static bool site_known(api_call_t *c, const char *site)
{
    for (csms_station_t *st = csms_station_first(c->api->d.csms); st; st = csms_station_next(st))
        if (st->site && strcmp(st->site, site) == 0) return true;
    json_t *tree = c->api->d.smart ? smart_engine_tree_json(c->api->d.smart, site) : NULL;
    json_decref(tree);
    return tree != NULL;
}

static bool no_signals(api_call_t *c)
{
    if (sig(c)) return false;
    api_problem(c, 503, "Service Unavailable", "load management is not running");
    return true;
}

static bool path_id(api_call_t *c, const char *what, int64_t *id)
{
    char *end;
    errno = 0;
    long long v = strtoll(c->params[0], &end, 10);
    if (!*c->params[0] || *end || errno || v <= 0) {
        api_problem(c, 404, "Not Found", "no %s with id '%.64s'", what, c->params[0]);
        return false;
    }
    *id = v;
    return true;
}

static void store_failed(api_call_t *c, int rc, const char *what, int64_t id)
{
    if (rc == STORE_ERR_NOT_FOUND)
        api_problem(c, 404, "Not Found", "no %s with id %lld", what, (long long)id);
    else
        api_problem(c, 503, "Service Unavailable", "the change could not be stored; retry");
}

/* ------------------------------------------------------ demand response */

static int cmp_dr(const void *a, const void *b)
{
    const smart_dr_t *x = *(const smart_dr_t *const *)a, *y = *(const smart_dr_t *const *)b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

void api_dr_events_list(api_call_t *c)
{
    if (no_signals(c)) return;
    const char *site = api_query(c, "site"), *status = api_query(c, "status"),
               *source = api_query(c, "source");
    if (status && strcmp(status, "scheduled") && strcmp(status, "active") &&
        strcmp(status, "ended")) {
        api_problem(c, 400, "Bad Request", "status must be scheduled, active or ended");
        return;
    }
    size_t n;
    const smart_dr_t *all = smart_signals_dr_list(sig(c), &n);
    const smart_dr_t **v = xcalloc(n ? n : 1, sizeof *v);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        v[k++] = &all[i];
    qsort(v, k, sizeof *v, cmp_dr);
    int64_t now = now_s();
    json_t *items = json_array();
    for (size_t i = 0; i < k; i++) {
        if (site && strcmp(v[i]->site, site) != 0) continue;
        if (source && strcmp(v[i]->source, source) != 0) continue;
        json_t *o = smart_dr_json(v[i], now);
        if (status && strcmp(json_string_value(json_object_get(o, "status")), status) != 0) {
            json_decref(o);
            continue;
        }
        json_array_append_new(items, o);
    }
    free(v);
    api_json(c, 200, json_pack("{s:o}", "items", items));
}

void api_dr_events_get(api_call_t *c)
{
    int64_t id;
    if (no_signals(c) || !path_id(c, "demand-response event", &id)) return;
    const smart_dr_t *e = smart_signals_dr_get(sig(c), id);
    if (!e) {
        api_problem(c, 404, "Not Found", "no demand-response event with id %lld", (long long)id);
        return;
    }
    api_json(c, 200, smart_dr_json(e, now_s()));
}

static void dr_saved(void *ctx, int rc, int64_t id)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    if (rc) {
        store_failed(c, rc, "demand-response event", id);
        return;
    }
    const smart_dr_t *e = smart_signals_dr_get(sig(c), id);
    json_t *after = e ? smart_dr_json(e, now_s()) : json_object();
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    bool created = c->before == NULL;
    api_audit(c, created ? "demand_response.create" : "demand_response.update",
              "demand_response_event", ids, c->before, after);
    api_json(c, created ? 201 : 200, after);
}

/* Fields a client may send; anything else is a mistake worth naming. */
static bool known_keys(api_call_t *c, const char *const *keys)
{
    const char *k;
    json_t *v;
    json_object_foreach(c->body, k, v)
    {
        bool ok = false;
        for (const char *const *p = keys; *p && !ok; p++)
            ok = strcmp(*p, k) == 0;
        if (!ok) {
            api_problem(c, 400, "Bad Request", "unknown field '%.64s'", k);
            return false;
        }
    }
    return true;
}

static const char *const dr_keys[] = {"site",           "start",  "end", "limit_kw",
                                      "phase_limits_a", "reason", NULL};

static bool dr_check_site(api_call_t *c, const smart_dr_t *e)
{
    if (site_known(c, e->site)) return true;
    api_problem(c, 422, "Unprocessable Entity",
                "unknown site '%.64s': no station belongs to it (set a station's site first)",
                e->site);
    return false;
}

void api_dr_events_create(api_call_t *c)
{
    if (no_signals(c) || !known_keys(c, dr_keys)) return;
    smart_dr_t e = {0};
    char err[256];
    if (smart_dr_from_json(c->body, &e, false, err, sizeof err)) {
        api_problem(c, 400, "Bad Request", "%s", err);
        return;
    }
    if (!dr_check_site(c, &e)) return;
    snprintf(e.source, sizeof e.source, "api");
    snprintf(e.created_by, sizeof e.created_by, "%s", c->token_name);
    api_hold(c);
    smart_signals_dr_save(sig(c), &e, dr_saved, c);
}

void api_dr_events_patch(api_call_t *c)
{
    int64_t id;
    if (no_signals(c) || !path_id(c, "demand-response event", &id) || !known_keys(c, dr_keys))
        return;
    const smart_dr_t *cur = smart_signals_dr_get(sig(c), id);
    if (!cur) {
        api_problem(c, 404, "Not Found", "no demand-response event with id %lld", (long long)id);
        return;
    }
    smart_dr_t e = *cur;
    char err[256];
    if (smart_dr_from_json(c->body, &e, true, err, sizeof err)) {
        api_problem(c, 400, "Bad Request", "%s", err);
        return;
    }
    if (strcmp(e.site, cur->site) != 0 && !dr_check_site(c, &e)) return;
    c->before = smart_dr_json(cur, now_s());
    api_hold(c);
    smart_signals_dr_save(sig(c), &e, dr_saved, c);
}

static void dr_deleted(void *ctx, int rc, int64_t id)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    if (rc) {
        store_failed(c, rc, "demand-response event", id);
        return;
    }
    api_audit(c, "demand_response.delete", "demand_response_event", c->params[0], c->before, NULL);
    api_no_content(c);
}

void api_dr_events_delete(api_call_t *c)
{
    int64_t id;
    if (no_signals(c) || !path_id(c, "demand-response event", &id)) return;
    const smart_dr_t *cur = smart_signals_dr_get(sig(c), id);
    if (!cur) {
        api_problem(c, 404, "Not Found", "no demand-response event with id %lld", (long long)id);
        return;
    }
    c->before = smart_dr_json(cur, now_s());
    api_hold(c);
    smart_signals_dr_delete(sig(c), id, dr_deleted, c);
}

/* --------------------------------------------------------------- prices */

void api_prices_list(api_call_t *c)
{
    if (no_signals(c)) return;
    const char *site = api_query(c, "site");
    json_t *items = json_array();
    const smart_prices_t *p;
    for (size_t i = 0; (p = smart_signals_prices_at(sig(c), i)); i++) {
        if (site && strcmp(site, p->site) != 0) continue;
        json_array_append_new(items, smart_prices_json(p));
    }
    json_t *out = json_pack("{s:o}", "items", items);
    /* the price now, for the site asked about (or the default) */
    int64_t now = now_s();
    double price = smart_signals_price(sig(c), site ? site : "", now);
    json_object_set_new(out, "current_price", isnan(price) ? json_null() : json_real(price));
    api_json(c, 200, out);
}

void api_prices_get(api_call_t *c)
{
    int64_t id;
    if (no_signals(c) || !path_id(c, "price schedule", &id)) return;
    const smart_prices_t *p = smart_signals_prices_get(sig(c), id);
    if (!p) {
        api_problem(c, 404, "Not Found", "no price schedule with id %lld", (long long)id);
        return;
    }
    api_json(c, 200, smart_prices_json(p));
}

static void prices_saved(void *ctx, int rc, int64_t id)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    if (rc) {
        store_failed(c, rc, "price schedule", id);
        return;
    }
    const smart_prices_t *p = smart_signals_prices_get(sig(c), id);
    json_t *after = p ? smart_prices_json(p) : json_object();
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    bool created = c->before == NULL;
    api_audit(c, created ? "price_schedule.create" : "price_schedule.update", "price_schedule", ids,
              c->before, after);
    api_json(c, created ? 201 : 200, after);
}

static const char *const price_keys[] = {"site", "currency", "intervals", "time_of_use", NULL};

/* Parses body into a schedule and checks its site; answers 4xx on a mistake. */
static smart_prices_t *read_prices(api_call_t *c, const json_t *body)
{
    char err[256];
    smart_prices_t *p = smart_prices_from_json(body, err, sizeof err);
    if (!p) {
        api_problem(c, 400, "Bad Request", "%s", err);
        return NULL;
    }
    if (p->site[0] && !site_known(c, p->site)) {
        api_problem(c, 422, "Unprocessable Entity",
                    "unknown site '%.64s': no station belongs to it (null for the default "
                    "schedule)",
                    p->site);
        smart_prices_free(p);
        return NULL;
    }
    return p;
}

void api_prices_create(api_call_t *c)
{
    if (no_signals(c) || !known_keys(c, price_keys)) return;
    smart_prices_t *p = read_prices(c, c->body);
    if (!p) return;
    snprintf(p->source, sizeof p->source, "api");
    snprintf(p->created_by, sizeof p->created_by, "%s", c->token_name);
    api_hold(c);
    smart_signals_prices_save(sig(c), p, prices_saved, c);
}

void api_prices_patch(api_call_t *c)
{
    int64_t id;
    if (no_signals(c) || !path_id(c, "price schedule", &id) || !known_keys(c, price_keys)) return;
    const smart_prices_t *cur = smart_signals_prices_get(sig(c), id);
    if (!cur) {
        api_problem(c, 404, "Not Found", "no price schedule with id %lld", (long long)id);
        return;
    }
    json_t *merged = smart_prices_json(cur);
    /* intervals and time_of_use replace each other */
    if (json_object_get(c->body, "intervals"))
        json_object_set_new(merged, "time_of_use", json_null());
    if (json_object_get(c->body, "time_of_use"))
        json_object_set_new(merged, "intervals", json_null());
    json_object_update(merged, c->body);
    smart_prices_t *p = read_prices(c, merged);
    json_decref(merged);
    if (!p) return;
    p->id = cur->id;
    p->created_at = cur->created_at;
    snprintf(p->source, sizeof p->source, "%s", cur->source);
    snprintf(p->external_id, sizeof p->external_id, "%s", cur->external_id);
    snprintf(p->created_by, sizeof p->created_by, "%s", cur->created_by);
    c->before = smart_prices_json(cur);
    api_hold(c);
    smart_signals_prices_save(sig(c), p, prices_saved, c);
}

static void prices_deleted(void *ctx, int rc, int64_t id)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    if (rc) {
        store_failed(c, rc, "price schedule", id);
        return;
    }
    api_audit(c, "price_schedule.delete", "price_schedule", c->params[0], c->before, NULL);
    api_no_content(c);
}

void api_prices_delete(api_call_t *c)
{
    int64_t id;
    if (no_signals(c) || !path_id(c, "price schedule", &id)) return;
    const smart_prices_t *cur = smart_signals_prices_get(sig(c), id);
    if (!cur) {
        api_problem(c, 404, "Not Found", "no price schedule with id %lld", (long long)id);
        return;
    }
    c->before = smart_prices_json(cur);
    api_hold(c);
    smart_signals_prices_delete(sig(c), id, prices_deleted, c);
}

/* -------------------------------------------------------------- metrics */

void api_signals_metrics(api_t *a, strbuf_t *b)
{
    if (!a->d.signals) return;
    size_t n, active = 0;
    const smart_dr_t *all = smart_signals_dr_list(a->d.signals, &n);
    int64_t now = now_s();
    for (size_t i = 0; i < n; i++)
        active += all[i].start <= now && now < all[i].end;
    strbuf_printf(b,
                  "# HELP ampgrid_demand_response_events_active Demand-response events in "
                  "force now\n# TYPE ampgrid_demand_response_events_active gauge\n"
                  "ampgrid_demand_response_events_active %zu\n",
                  active);
    if (!a->d.openadr) return;
    openadr_stats_t st;
    openadr_get_stats(a->d.openadr, &st);
    strbuf_printf(b,
                  "# HELP ampgrid_openadr_polls_total OpenADR VTN poll cycles by result\n"
                  "# TYPE ampgrid_openadr_polls_total counter\n"
                  "ampgrid_openadr_polls_total{result=\"ok\"} %llu\n"
                  "ampgrid_openadr_polls_total{result=\"failed\"} %llu\n"
                  "# HELP ampgrid_openadr_errors_total OpenADR VTN errors by cause (http: no "
                  "answer or an error status; json: not the specification's shapes; auth: "
                  "token refused)\n"
                  "# TYPE ampgrid_openadr_errors_total counter\n"
                  "ampgrid_openadr_errors_total{cause=\"http\"} %llu\n"
                  "ampgrid_openadr_errors_total{cause=\"json\"} %llu\n"
                  "ampgrid_openadr_errors_total{cause=\"auth\"} %llu\n"
                  "# HELP ampgrid_openadr_reports_total Reports posted to the VTN by result\n"
                  "# TYPE ampgrid_openadr_reports_total counter\n"
                  "ampgrid_openadr_reports_total{result=\"sent\"} %llu\n"
                  "ampgrid_openadr_reports_total{result=\"failed\"} %llu\n"
                  "# HELP ampgrid_openadr_events OpenADR events for mapped sites at the last "
                  "good poll\n# TYPE ampgrid_openadr_events gauge\nampgrid_openadr_events %llu\n"
                  "# HELP ampgrid_openadr_last_success_seconds Unix time of the last good poll "
                  "(0 = none yet)\n# TYPE ampgrid_openadr_last_success_seconds gauge\n"
                  "ampgrid_openadr_last_success_seconds %lld\n",
                  (unsigned long long)st.polls_ok, (unsigned long long)st.polls_failed,
                  (unsigned long long)st.errors_http, (unsigned long long)st.errors_json,
                  (unsigned long long)st.errors_auth, (unsigned long long)st.reports_sent,
                  (unsigned long long)st.reports_failed, (unsigned long long)st.events,
                  (long long)st.last_success);
}
