/*
 * What the API shows of the engine (see engine.h): the sites, a site's tree,
 * its allocation now (per node, EVSE and station) and its recent history,
 * and the charging needs set for a session. Read-only views of the state in
 * engine_internal.h, apart from the allocation, which first brings a dirty
 * site up to date so the answer is the present.
 */
#include "smart/engine_internal.h"

#include "util/alloc.h"
#include "util/timefmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *phases_json(const double v[SMART_PHASES])
{
    json_t *a = json_array();
    for (int p = 0; p < SMART_PHASES; p++)
        json_array_append_new(a, isfinite(v[p]) ? json_real(round(v[p] * 100) / 100) : json_null());
    return a;
}

static json_t *time_json(int64_t ms)
{
    char buf[TIME_RFC3339_LEN];
    return ms ? json_string(time_format_rfc3339(ms, buf)) : json_null();
}

json_t *smart_engine_sites_json(const smart_engine_t *e)
{
    json_t *arr = json_array();
    site_rt_t *s, *tmp;
    HASH_ITER(hh, e->sites, s, tmp)
    {
        int evses = 0, active = 0, flagged = 0;
        for (int i = 0; i < s->n_stations; i++) {
            flagged += s->stations[i]->flagged;
            for (int k = 0; k < s->stations[i]->n_evses; k++) {
                evses++;
                active += s->stations[i]->evses[k]->session_id != 0;
            }
        }
        json_array_append_new(
            arr, json_pack("{s:s,s:s,s:i,s:i,s:i,s:i,s:o,s:o,s:o}", "site", s->name, "policy",
                           site_tree_policy_name(s->tree->policy), "stations", s->n_stations,
                           "evses", evses, "active_sessions", active, "flagged_stations", flagged,
                           "limit_a", phases_json(s->tree->nodes[0].limit_a), "effective_limit_a",
                           phases_json(s->computed_at ? s->limit_now : s->tree->nodes[0].limit_a),
                           "demand_response",
                           s->dr_limit_w >= 0 ? json_pack("{s:f}", "limit_w", s->dr_limit_w)
                                              : json_null()));
    }
    return arr;
}

json_t *smart_engine_tree_json(const smart_engine_t *e, const char *site)
{
    site_rt_t *s = smart_engine_site_find(e, site);
    return s ? site_tree_json(s->tree) : NULL;
}

static json_t *evse_json(const evse_rt_t *v, double voltage)
{
    json_t *o = json_pack("{s:s,s:i,s:b,s:f,s:b,s:b,s:f,s:f}", "station_id", v->st->id, "evse_id",
                          v->evse_id, "active", v->session_id != 0, "grant_a",
                          v->held ? smart_engine_hold_of(v) : v->grant_a, "paused", v->paused,
                          "held", v->held, "min_a", v->min_a, "max_a", v->max_a);
    json_object_set_new(o, "session_id", v->session_id ? json_integer(v->session_id) : json_null());
    json_object_set_new(o, "sent_a", v->sent_a >= 0 ? json_real(v->sent_a) : json_null());
    json_object_set_new(o, "draw_a", v->draw_a >= 0 ? json_real(v->draw_a) : json_null());
    json_object_set_new(o, "car_phases", v->car_phases ? json_integer(v->car_phases) : json_null());
    json_object_set_new(o, "priority", json_integer(v->priority));
    json_object_set_new(o, "need_wh", v->need_wh > 0 ? json_real(v->need_wh) : json_null());
    json_object_set_new(o, "departure", time_json(v->departure * 1000));
    json_object_set_new(o, "unsatisfied", json_boolean(v->unsatisfied));
    /* time of use: why a car with a departure is paused, and until when */
    json_object_set_new(o, "time_of_use", json_boolean(v->tou));
    json_object_set_new(o, "deferred", json_boolean(v->deferred));
    json_object_set_new(o, "plan", v->deferred ? time_json(v->plan_at * 1000) : json_null());
    json_object_set_new(o, "planned_a",
                        v->tou ? json_real(round(v->planned_a * 10) / 10) : json_null());
    if (v->verify_at) {
        json_t *vf = json_pack("{s:o,s:o}", "at", time_json(v->verify_at), "limit_a",
                               v->verify_a >= 0 ? json_real(v->verify_a) : json_null());
        json_object_set_new(vf, "matches",
                            json_boolean(v->verify_a >= 0 && v->sent_a >= 0 &&
                                         fabs(v->verify_a - v->sent_a) < 0.15));
        json_object_set_new(o, "verify", vf);
    }
    (void)voltage;
    return o;
}

static json_t *station_json(const smart_engine_t *e, const station_rt_t *st)
{
    json_t *o = json_pack("{s:s,s:s,s:b,s:b,s:f}", "station_id", st->id, "node",
                          st->site->tree->nodes[st->node].id, "connected",
                          smart_engine_station_connected(e, st, NULL), "flagged", st->flagged,
                          "failsafe_a", st->failsafe_a);
    json_object_set_new(o, "flag_reason", st->flagged ? json_string(st->flag_reason) : json_null());
    json_object_set_new(o, "flagged_at", st->flagged ? time_json(st->flagged_at) : json_null());
    json_object_set_new(o, "default_profile_a",
                        st->default_sent_a >= 0 ? json_real(st->default_sent_a) : json_null());
    if (st->verify_at)
        json_object_set_new(o, "verify",
                            json_pack("{s:o,s:o}", "at", time_json(st->verify_at), "limit_a",
                                      st->verify_a >= 0 ? json_real(st->verify_a) : json_null()));
    return o;
}

/* Per node and phase: the grants beneath it plus its reserved load. */
static json_t *nodes_json(const smart_engine_t *e, const site_rt_t *s, int64_t now)
{
    const site_tree_t *t = s->tree;
    double(*load)[SMART_PHASES] = xcalloc((size_t)t->n_nodes, sizeof *load);
    for (int i = 0; i < s->n_stations; i++)
        for (int k = 0; k < s->stations[i]->n_evses; k++) {
            const evse_rt_t *v = s->stations[i]->evses[k];
            double a = v->held ? smart_engine_hold_of(v) : v->grant_a;
            if (a <= 0) continue;
            const site_node_t *sn = &t->nodes[v->node];
            int ph = site_tree_phase_count(sn->phases);
            if (v->car_phases > 0 && v->car_phases < ph) ph = v->car_phases;
            for (int n = v->node; n >= 0; n = t->nodes[n].parent)
                for (int q = 0; q < ph; q++)
                    load[n][sn->rotation[q]] += a;
        }
    double(*below)[SMART_PHASES] = xcalloc((size_t)t->n_nodes, sizeof *below);
    for (int i = t->n_nodes - 1; i >= 0; i--) {
        const site_node_t *nd = &t->nodes[i];
        bool live = nd->live_meter && s->live_at[i] && now - s->live_at[i] <= t->meter_ttl_s;
        for (int p = 0; p < SMART_PHASES; p++) {
            below[i][p] += live ? s->live_a[i][p] : nd->reserved_a[p];
            if (nd->parent >= 0) below[nd->parent][p] += below[i][p];
        }
    }
    json_t *arr = json_array();
    for (int i = 0; i < t->n_nodes; i++) {
        const site_node_t *nd = &t->nodes[i];
        bool live = nd->live_meter && s->live_at[i] && now - s->live_at[i] <= t->meter_ttl_s;
        const double *res = below[i]; /* its own and its descendants' non-EV load */
        double total[SMART_PHASES];
        for (int p = 0; p < SMART_PHASES; p++)
            total[p] = load[i][p] + res[p];
        json_t *o = json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:s}", "id", nd->id, "kind",
                              site_node_kind_name(nd->kind), "limit_a",
                              phases_json(i == 0 ? s->limit_now : nd->limit_a), "reserved_a",
                              phases_json(res), "ev_load_a", phases_json(load[i]), "load_a",
                              phases_json(total), "reserved_source", live ? "meter" : "static");
        json_object_set_new(o, "parent",
                            nd->parent >= 0 ? json_string(t->nodes[nd->parent].id) : json_null());
        json_array_append_new(arr, o);
    }
    free(load);
    free(below);
    return arr;
}

json_t *smart_engine_allocation_json(smart_engine_t *e, const char *site)
{
    site_rt_t *s = smart_engine_site_find(e, site);
    if (!s) return NULL;
    if (!s->computed_at || s->dirty) smart_engine_recompute(e, s); /* answer with the present */
    int64_t now = time_now_ms() / 1000;
    json_t *evses = json_array(), *stations = json_array(), *unsat = json_array();
    for (int i = 0; i < s->n_stations; i++) {
        json_array_append_new(stations, station_json(e, s->stations[i]));
        for (int k = 0; k < s->stations[i]->n_evses; k++) {
            const evse_rt_t *v = s->stations[i]->evses[k];
            json_array_append_new(evses, evse_json(v, s->tree->voltage_v));
            if (v->unsatisfied) json_array_append_new(unsat, json_integer(v->session_id));
        }
    }
    json_t *o =
        json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o}", "site", s->name, "policy",
                  site_tree_policy_name(s->tree->policy), "computed_at", time_json(s->computed_at),
                  "limit_a", phases_json(s->limit_now), "nodes", nodes_json(e, s, now), "evses",
                  evses, "stations", stations, "unsatisfied_sessions", unsat);
    json_object_set_new(o, "demand_response",
                        s->dr_limit_w >= 0 ? json_pack("{s:f}", "limit_w", s->dr_limit_w)
                                           : json_null());
    json_object_set_new(o, "enabled", json_boolean(e->cfg.enabled));
    json_object_set_new(
        o, "time_of_use",
        json_pack("{s:b,s:b}", "enabled", s->tree->time_of_use, "active", s->tou_active));
    return o;
}

json_t *smart_engine_history_json(const smart_engine_t *e, const char *site)
{
    const site_rt_t *s = smart_engine_site_find(e, site);
    if (!s) return NULL;
    json_t *arr = json_array();
    for (int i = 0; i < s->hist_count; i++) {
        const hist_sample_t *h =
            &s->hist[(s->hist_head - s->hist_count + i + s->hist_len) % s->hist_len];
        json_array_append_new(arr, json_pack("{s:o,s:o,s:o,s:O}", "at", time_json(h->at), "load_a",
                                             phases_json(h->load), "limit_a", phases_json(h->limit),
                                             "grants", h->grants));
    }
    return json_pack("{s:s,s:o}", "site", s->name, "samples", arr);
}

json_t *smart_engine_needs_json(const smart_engine_t *e, int64_t session_id)
{
    needs_rt_t *n = NULL;
    HASH_FIND(hh, e->needs, &session_id, sizeof session_id, n);
    if (!n) return NULL;
    return json_pack("{s:I,s:o,s:o,s:i}", "session_id", (json_int_t)session_id, "energy_wh",
                     n->energy_wh > 0 ? json_real(n->energy_wh) : json_null(), "departure",
                     time_json(n->departure * 1000), "priority", n->priority);
}
