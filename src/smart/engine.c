/*
 * The load-management engine (see engine.h). Three parts:
 *
 *  - state: sites (a tree each), the stations in them (hash by id: every
 *    event starts with one lookup, and a station in no tree stops there) and
 *    their EVSEs, with what each was granted and last sent;
 *  - recomputation: a dirty site becomes one smart_problem_t (the tree's
 *    nodes, reserved load from the tree, building meters and held stations,
 *    the root lowered by demand response) and one smart_allocate call;
 *  - sending: the grants that pass the hysteresis go out as TxProfiles,
 *    decreases first; increases wait until every decrease of the site has
 *    been answered, so the profiles stations hold stay within the limits
 *    while they change. Every answer is tracked; a refusal flags the station
 *    and holds it to its failsafe.
 *
 * Stations that leave a tree have the profiles ampgrid set cleared. The state
 * is declared in engine_internal.h; what the API shows of it is built in
 * engine_view.c.
 */
#include "smart/engine_internal.h"

#include "smart/profiles.h"
#include "store/store_smart.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/timefmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#define VERIFY_DURATION_S 300
#define TICK_MS 1000
#define HISTORY_EVERY_MS 5000
#define HISTORY_MIN_MS 200
#define TOU_MAX_SLOTS 192 /* how far time of use plans: 48 h of 15-minute slots */

/* ---------------------------------------------------------------- config */

void smart_engine_config_defaults(smart_engine_config_t *c)
{
    *c = (smart_engine_config_t){.enabled = true,
                                 .debounce_ms = 250,
                                 .hysteresis_a = 1.0,
                                 .hysteresis_pct = 0.05,
                                 .max_profiles_per_s = 5,
                                 .verify_interval_s = 0,
                                 .history_len = 720,
                                 .schedule_slot_s = 900};
}

/* "FLEET:10, STAFF:5": id-token groups and their priority classes. */
static int parse_groups(smart_engine_config_t *c, const char *value, char *err, size_t err_len)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", value);
    c->n_groups = 0;
    for (char *save = NULL, *item = strtok_r(buf, ",", &save); item;
         item = strtok_r(NULL, ",", &save)) {
        while (*item == ' ')
            item++;
        char *colon = strrchr(item, ':'), *end;
        long prio = colon ? strtol(colon + 1, &end, 10) : 0;
        if (!colon || colon == item || !colon[1] || *end || prio < -100 || prio > 100 ||
            (size_t)(colon - item) >= sizeof c->groups[0].group || c->n_groups >= 16) {
            snprintf(err, err_len,
                     "[smart] priority_groups: '%s' is not GROUP:PRIORITY (-100..100, at most 16)",
                     item);
            return -1;
        }
        snprintf(c->groups[c->n_groups].group, sizeof c->groups[0].group, "%.*s",
                 (int)(colon - item), item);
        c->groups[c->n_groups++].priority = (int)prio;
    }
    return 0;
}

int smart_engine_config_set(smart_engine_config_t *c, const char *name, const char *value,
                            char *err, size_t err_len)
{
    char *end;
    double v = strtod(value, &end);
    bool num = *value && !*end && isfinite(v);
    if (strcmp(name, "priority_groups") == 0) return parse_groups(c, value, err, err_len);
    if (strcmp(name, "enabled") == 0) {
        if (strcmp(value, "true") && strcmp(value, "false")) goto bad;
        c->enabled = strcmp(value, "true") == 0;
        return 0;
    }
    if (!num) goto bad;
    if (strcmp(name, "debounce_ms") == 0)
        c->debounce_ms = (int)v;
    else if (strcmp(name, "hysteresis_a") == 0)
        c->hysteresis_a = v;
    else if (strcmp(name, "hysteresis_percent") == 0)
        c->hysteresis_pct = v / 100.0;
    else if (strcmp(name, "max_profiles_per_second") == 0)
        c->max_profiles_per_s = (int)v;
    else if (strcmp(name, "verify_interval") == 0)
        c->verify_interval_s = (int)v;
    else if (strcmp(name, "history_samples") == 0)
        c->history_len = (int)v;
    else if (strcmp(name, "schedule_slot") == 0)
        c->schedule_slot_s = (int)v;
    else {
        snprintf(err, err_len, "[smart] has no key '%s'", name);
        return -1;
    }
    return 0;
bad:
    snprintf(err, err_len, "[smart] %s: invalid value '%s'", name, value);
    return -1;
}

int smart_engine_config_validate(const smart_engine_config_t *c, char *err, size_t err_len)
{
    if (c->debounce_ms < 0 || c->debounce_ms > 60000 || c->hysteresis_a < 0 ||
        c->hysteresis_pct < 0 || c->max_profiles_per_s < 1 || c->verify_interval_s < 0 ||
        c->history_len < 10 || c->history_len > 100000 || c->schedule_slot_s < 60) {
        snprintf(err, err_len,
                 "[smart]: debounce_ms 0..60000, hysteresis >= 0, max_profiles_per_second >= 1, "
                 "verify_interval >= 0, history_samples 10..100000, schedule_slot >= 60");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ state */

site_rt_t *smart_engine_site_find(const smart_engine_t *e, const char *name)
{
    site_rt_t *s = NULL;
    HASH_FIND_STR(e->sites, name, s);
    return s;
}

static station_rt_t *station_find(const smart_engine_t *e, const char *id)
{
    station_rt_t *s = NULL;
    if (id) HASH_FIND_STR(e->stations, id, s);
    return s;
}

static evse_rt_t *evse_find(const station_rt_t *st, int evse_id)
{
    for (int i = 0; i < st->n_evses; i++)
        if (st->evses[i]->evse_id == evse_id) return st->evses[i];
    return NULL;
}

static void debounce_cb(uv_timer_t *t);

static void arm(smart_engine_t *e)
{
    if (e->debounce_armed || e->stopped) return;
    e->debounce_armed = true;
    uv_timer_start(&e->debounce, debounce_cb, (uint64_t)e->cfg.debounce_ms, 0);
}

static void mark_dirty(smart_engine_t *e, site_rt_t *s)
{
    if (!s) return;
    s->dirty = true;
    arm(e);
}

static void evse_apply_needs(const smart_engine_t *e, evse_rt_t *v)
{
    needs_rt_t *n = NULL;
    HASH_FIND(hh, e->needs, &v->session_id, sizeof v->session_id, n);
    if (!n) return;
    v->need_wh = n->energy_wh;
    v->departure = n->departure;
    v->priority = n->priority;
}

static void evse_set_session(smart_engine_t *e, evse_rt_t *v, int64_t session_id, const char *tx_id)
{
    if (v->session_id == session_id) return;
    v->session_id = session_id;
    snprintf(v->tx_id, sizeof v->tx_id, "%s", tx_id ? tx_id : "");
    v->sent_a = -1;
    v->draw_a = -1;
    v->car_phases = 0;
    v->cap_a = 0;
    v->need_wh = 0;
    v->departure = 0;
    v->priority = 0;
    v->want_schedule = false;
    v->verify_a = -1;
    if (!session_id) return;
    csms_tx_t *t = csms_tx_find(e->csms, session_id);
    csms_id_token_t *tok = t && t->id_token ? csms_id_token_find(e->csms, t->id_token) : NULL;
    for (int i = 0; tok && tok->parent_id_token && i < e->cfg.n_groups; i++)
        if (strcmp(tok->parent_id_token, e->cfg.groups[i].group) == 0)
            v->priority = e->cfg.groups[i].priority;
    evse_apply_needs(e, v);
}

/* The energy a session still wants: its need less what it took so far. */
static double need_left(const smart_engine_t *e, const evse_rt_t *v)
{
    if (v->need_wh <= 0) return 0;
    const csms_tx_t *t = csms_tx_find(e->csms, v->session_id);
    double got = t && t->last_energy_wh >= 0 && t->meter_start >= 0
                     ? (double)(t->last_energy_wh - t->meter_start)
                     : 0;
    return got >= v->need_wh ? 0 : v->need_wh - (got > 0 ? got : 0); /* 0: nothing left */
}

static evse_rt_t *evse_add(station_rt_t *st, int evse_id, int node)
{
    evse_rt_t *v = xcalloc(1, sizeof *v);
    v->st = st;
    v->evse_id = evse_id;
    v->node = node;
    v->sent_a = v->draw_a = v->verify_a = -1;
    st->evses = xrealloc(st->evses, (size_t)(st->n_evses + 1) * sizeof *st->evses);
    st->evses[st->n_evses++] = v;
    return v;
}

static void evse_limits(const site_tree_t *t, evse_rt_t *v)
{
    const site_node_t *n = &t->nodes[v->node];
    bool own = n->kind == SITE_NODE_EVSE;
    v->min_a = own && n->min_a ? n->min_a : t->evse_min_a;
    v->max_a = own && n->max_a ? n->max_a : t->evse_max_a;
    if (own && n->dc_max_w) { /* DC: watts over the site voltage on three phases */
        v->max_a = n->dc_max_w / (t->voltage_v * SMART_PHASES);
        v->min_a = n->dc_min_w / (t->voltage_v * SMART_PHASES);
    }
}

/* The EVSEs of a station without evse nodes: what the station reported. */
static void station_discover_evses(smart_engine_t *e, station_rt_t *st)
{
    if (st->explicit_evses) return;
    csms_station_t *cs = csms_station_find(e->csms, st->id);
    for (size_t i = 0; cs && i < cs->nconnectors; i++) {
        int id = cs->connectors[i].evse_id;
        if (id >= 1 && !evse_find(st, id)) {
            evse_rt_t *v = evse_add(st, id, st->node);
            evse_limits(st->site->tree, v);
        }
    }
}

/* Sessions running now (start-up and tree changes). */
static void seed_sessions(smart_engine_t *e, site_rt_t *s)
{
    for (csms_tx_t *t = csms_tx_first(e->csms); t; t = t->hh.next) {
        station_rt_t *st = station_find(e, t->station_id);
        if (!st || st->site != s) continue;
        evse_rt_t *v = evse_find(st, t->evse_id);
        if (!v && !st->explicit_evses && t->evse_id >= 1) {
            v = evse_add(st, t->evse_id, st->node);
            evse_limits(s->tree, v);
        }
        if (v) evse_set_session(e, v, t->id, t->tx_id);
    }
}

static void station_free(station_rt_t *st)
{
    for (int i = 0; i < st->n_evses; i++)
        free(st->evses[i]);
    free(st->evses);
    free(st);
}

static void site_free(smart_engine_t *e, site_rt_t *s)
{
    for (int i = 0; i < s->n_stations; i++) {
        HASH_DEL(e->stations, s->stations[i]);
        station_free(s->stations[i]);
    }
    free(s->stations);
    for (int i = 0; i < s->hist_len; i++)
        json_decref(s->hist[i].grants);
    free(s->hist);
    free(s->live_a);
    free(s->live_at);
    site_tree_free(s->tree);
    free(s);
}

/* Takes a station's runtime over into the new tree, keeping what its EVSEs
 * hold; EVSEs the tree no longer names are dropped. */
static station_rt_t *station_adopt(smart_engine_t *e, site_rt_t *s, int node)
{
    const site_tree_t *t = s->tree;
    station_rt_t *st = station_find(e, t->nodes[node].station_id);
    if (!st) {
        st = xcalloc(1, sizeof *st);
        snprintf(st->id, sizeof st->id, "%s", t->nodes[node].station_id);
        st->default_sent_a = st->max_sent_a = st->verify_a = -1;
        HASH_ADD_STR(e->stations, id, st);
    }
    clear_rt_t *c = NULL;
    HASH_FIND_STR(e->to_clear, st->id, c);
    if (c) { /* managed again: what it is sent next replaces the old profiles */
        HASH_DEL(e->to_clear, c);
        free(c);
    }
    st->site = s;
    st->node = node;
    st->explicit_evses = false;
    for (int i = 0; i < t->n_nodes; i++)
        if (t->nodes[i].kind == SITE_NODE_EVSE && t->nodes[i].parent == node)
            st->explicit_evses = true;
    int kept = 0;
    for (int i = 0; i < st->n_evses; i++) {
        evse_rt_t *v = st->evses[i];
        int found = st->explicit_evses ? -1 : node;
        for (int k = 0; st->explicit_evses && k < t->n_nodes; k++)
            if (t->nodes[k].kind == SITE_NODE_EVSE && t->nodes[k].parent == node &&
                t->nodes[k].evse_id == v->evse_id)
                found = k;
        if (found < 0) {
            free(v);
            continue;
        }
        v->node = found;
        evse_limits(t, v);
        st->evses[kept++] = v;
    }
    st->n_evses = kept;
    for (int k = 0; st->explicit_evses && k < t->n_nodes; k++)
        if (t->nodes[k].kind == SITE_NODE_EVSE && t->nodes[k].parent == node &&
            !evse_find(st, t->nodes[k].evse_id))
            evse_limits(t, evse_add(st, t->nodes[k].evse_id, k));
    station_discover_evses(e, st);
    st->default_sent_a = st->max_sent_a = -1; /* the tree changed: send them again */
    return st;
}

static void on_event(void *ud, const char *type, const json_t *d);
static void on_meter(void *ud, const csms_meter_event_t *m);
static void station_release(smart_engine_t *e, const char *station_id);

/* Listens to the domain only while some site has a tree (or a station
 * waits for its profiles to be cleared): without one, the hottest events
 * (meter values) need not be built for load management. */
static void follow_events(smart_engine_t *e)
{
    bool want = (e->sites != NULL || e->to_clear != NULL) && !e->stopped;
    if (want && !e->subscribed) csms_subscribe_typed(e->csms, on_event, on_meter, e);
    if (!want && e->subscribed) csms_unsubscribe(e->csms, on_event, e);
    e->subscribed = want;
}

/* Puts a validated tree in force (takes ownership). */
static void site_apply(smart_engine_t *e, site_tree_t *t)
{
    site_rt_t *old = smart_engine_site_find(e, t->site), *s = xcalloc(1, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", t->site);
    s->tree = t;
    s->dr_limit_w = -1;
    s->live_a = xcalloc((size_t)t->n_nodes, sizeof *s->live_a);
    s->live_at = xcalloc((size_t)t->n_nodes, sizeof *s->live_at);
    s->hist_len = e->cfg.history_len;
    s->hist = xcalloc((size_t)s->hist_len, sizeof *s->hist);
    if (old) { /* keep the history and live meters of nodes that stay */
        for (int i = 0; i < old->tree->n_nodes; i++) {
            int k = site_tree_find(t, old->tree->nodes[i].id);
            if (k >= 0 && t->nodes[k].live_meter) {
                memcpy(s->live_a[k], old->live_a[i], sizeof s->live_a[k]);
                s->live_at[k] = old->live_at[i];
            }
        }
        for (int i = 0; i < old->hist_count && i < s->hist_len; i++) {
            int src = (old->hist_head - old->hist_count + i + old->hist_len) % old->hist_len;
            s->hist[i] = old->hist[src];
            old->hist[src].grants = NULL;
        }
        s->hist_count = old->hist_count < s->hist_len ? old->hist_count : s->hist_len;
        s->hist_head = s->hist_count % s->hist_len;
        HASH_DEL(e->sites, old);
    }
    HASH_ADD_STR(e->sites, name, s);
    int n = 0;
    for (int i = 0; i < t->n_nodes; i++)
        n += t->nodes[i].kind == SITE_NODE_STATION;
    s->stations = xcalloc((size_t)(n ? n : 1), sizeof *s->stations);
    for (int i = 0; i < t->n_nodes; i++)
        if (t->nodes[i].kind == SITE_NODE_STATION)
            s->stations[s->n_stations++] = station_adopt(e, s, i);
    if (old) { /* stations the new tree dropped */
        for (int i = 0; i < old->n_stations; i++)
            if (old->stations[i]->site == old) {
                station_release(e, old->stations[i]->id);
                HASH_DEL(e->stations, old->stations[i]);
                station_free(old->stations[i]);
            }
        old->n_stations = 0;
        site_free(e, old);
    }
    seed_sessions(e, s);
    mark_dirty(e, s);
    follow_events(e);
}

/* ------------------------------------------------------------ computing */

static void grow_scratch(smart_engine_t *e, int nodes, int evses)
{
    if (nodes > e->cap_nodes) {
        e->nodes = xrealloc(e->nodes, (size_t)nodes * sizeof *e->nodes);
        e->cap_nodes = nodes;
    }
    if (evses > e->cap_evses) {
        e->pevses = xrealloc(e->pevses, (size_t)evses * sizeof *e->pevses);
        e->grants = xrealloc(e->grants, (size_t)evses * sizeof *e->grants);
        e->order = xrealloc(e->order, (size_t)evses * sizeof *e->order);
        e->cap_evses = evses;
    }
}

bool smart_engine_station_connected(const smart_engine_t *e, const station_rt_t *st, int *proto)
{
    csms_station_t *cs = csms_station_find(e->csms, st->id);
    if (!cs || !cs->link || !csms_station_may_operate(cs)) return false;
    int p = smart_proto_parse(cs->link_ops->protocol(cs->link));
    if (proto) *proto = p;
    return p >= 0;
}

/* Per-phase capacity of each node after static reservations, divided among
 * the EVSEs beneath: the most a station's EVSE may take when nobody can tell
 * it otherwise. Below the EVSE minimum it is 0: a station off-line pauses
 * rather than overloads. */
static void compute_failsafes(smart_engine_t *e, site_rt_t *s)
{
    const site_tree_t *t = s->tree;
    int *under = xcalloc((size_t)t->n_nodes, sizeof *under);
    double(*res)[SMART_PHASES] = xcalloc((size_t)t->n_nodes, sizeof *res);
    for (int i = t->n_nodes - 1; i >= 0; i--)
        for (int p = 0; p < SMART_PHASES; p++) {
            res[i][p] += t->nodes[i].reserved_a[p];
            if (t->nodes[i].parent >= 0) res[t->nodes[i].parent][p] += res[i][p];
        }
    for (int i = 0; i < s->n_stations; i++) {
        station_rt_t *st = s->stations[i];
        int count = st->n_evses ? st->n_evses : 1;
        for (int n = st->node; n >= 0; n = t->nodes[n].parent)
            under[n] += count;
    }
    for (int i = 0; i < s->n_stations; i++) {
        station_rt_t *st = s->stations[i];
        double share = INFINITY, min_a = t->evse_min_a, max_a = t->evse_max_a;
        for (int n = st->node; n >= 0; n = t->nodes[n].parent) {
            const site_node_t *nd = &t->nodes[n];
            for (int p = 0; p < SMART_PHASES; p++) {
                if (!(nd->phases & (1u << p))) continue;
                double lim = n == 0 ? s->limit_now[p] : nd->limit_a[p];
                double cap = (lim - res[n][p]) / under[n];
                if (cap < share) share = cap;
            }
        }
        for (int k = 0; k < st->n_evses; k++) {
            if (st->evses[k]->max_a < max_a) max_a = st->evses[k]->max_a;
            if (st->evses[k]->min_a > min_a) min_a = st->evses[k]->min_a;
        }
        if (share > max_a) share = max_a;
        share = smart_profile_round(share);
        st->failsafe_a = share < min_a ? 0 : share;
    }
    free(under);
    free(res);
}

/* The root's limit at t: the tree's, lowered by demand response (its
 * import limit in W, returned; -1 for none). */
static double limit_at(const smart_engine_t *e, const site_rt_t *s, int64_t t,
                       double out[SMART_PHASES])
{
    const site_node_t *root = &s->tree->nodes[0];
    memcpy(out, root->limit_a, SMART_PHASES * sizeof *out);
    if (!e->signals) return -1;
    double w = smart_signals_limit_w(e->signals, s->name, t);
    int phases = site_tree_phase_count(root->phases);
    if (w >= 0 && phases > 0) {
        double per = w / (s->tree->voltage_v * phases);
        for (int p = 0; p < SMART_PHASES; p++)
            if ((root->phases & (1u << p)) && per < out[p]) out[p] = per;
    }
    double pa[SMART_PHASES];
    if (smart_signals_limit_a(e->signals, s->name, t, pa))
        for (int p = 0; p < SMART_PHASES; p++)
            if (pa[p] >= 0 && pa[p] < out[p]) out[p] = pa[p];
    return w >= 0 && phases > 0 ? w : -1;
}

/* The root's limit now. */
static void root_limit(smart_engine_t *e, site_rt_t *s, int64_t now)
{
    s->dr_limit_w = limit_at(e, s, now, s->limit_now);
}

/* The slots of a plan from now until `until` (4 slots when 0), at most max:
 * schedule_slot long on the clock's grid, so the first holds now and the
 * others start where price periods usually do; each with the root's limit
 * (the one in force for the first) and the price at its start (at now for
 * the first). Time of use and 2.0.1 schedules both plan on these. */
static int build_slots(smart_engine_t *e, const site_rt_t *s, int64_t now, int64_t until, int max)
{
    int slot = e->cfg.schedule_slot_s;
    int64_t start = now - now % slot;
    int n = until > now ? (int)((until - start + slot - 1) / slot) : 4;
    if (n > max) n = max;
    if (n < 1) n = 1;
    if (n > e->cap_slots) {
        e->slots = xrealloc(e->slots, (size_t)n * sizeof *e->slots);
        e->cap_slots = n;
    }
    for (int k = 0; k < n; k++) {
        smart_slot_t *sl = &e->slots[k];
        sl->start = start + (int64_t)k * slot;
        int64_t at = sl->start > now ? sl->start : now;
        if (k == 0)
            memcpy(sl->root_limit_a, s->limit_now, sizeof sl->root_limit_a);
        else
            limit_at(e, s, at, sl->root_limit_a);
        sl->price = e->signals ? smart_signals_price(e->signals, s->name, at) : NAN;
    }
    return n;
}

static void grow_plan(smart_engine_t *e, int n_evses, int n_slots)
{
    int cells = (n_evses ? n_evses : 1) * n_slots;
    if (cells > e->cap_plan) {
        e->plan = xrealloc(e->plan, (size_t)cells * sizeof *e->plan);
        e->cap_plan = cells;
    }
    if (n_evses > e->cap_tou) {
        e->unsat = xrealloc(e->unsat, (size_t)n_evses * sizeof *e->unsat);
        e->tou_scratch = xrealloc(e->tou_scratch, (size_t)n_evses * sizeof *e->tou_scratch);
        e->tou = xrealloc(e->tou, (size_t)n_evses * sizeof *e->tou);
        e->cap_tou = n_evses;
    }
}

/* Whether time of use decides this computation: the site wants it, a price
 * is known now and for a later slot, and some session has a departure
 * beyond the margin (one slot) and a need. Builds the slots. */
static bool tou_prepare(smart_engine_t *e, site_rt_t *s, int n, int64_t now)
{
    if (!s->tree->time_of_use || !e->signals || n == 0) return false;
    if (isnan(smart_signals_price(e->signals, s->name, now))) return false;
    int64_t until = 0, margin = e->cfg.schedule_slot_s;
    for (int i = 0; i < n; i++) {
        const smart_evse_t *pe = &e->pevses[i];
        if (pe->active && pe->need_wh > 0 && pe->departure - margin > now && pe->departure > until)
            until = pe->departure;
    }
    if (!until) return false;
    int ns = build_slots(e, s, now, until, TOU_MAX_SLOTS);
    bool later = false;
    for (int k = 1; k < ns; k++)
        later |= !isnan(e->slots[k].price);
    if (!later) return false;
    grow_plan(e, n, ns);
    e->plan_slots = ns;
    return true;
}

/* The site's allocation now: time of use's when it applies, else the
 * policy's. Leaves what time of use made of each EVSE in e->tou. */
static smart_alloc_err_t allocate(smart_engine_t *e, site_rt_t *s, int n, int64_t now)
{
    smart_problem_t p = {e->nodes, s->tree->n_nodes, e->pevses, n, s->tree->policy, now};
    e->plan_site = NULL;
    s->tou_active = tou_prepare(e, s, n, now);
    if (!s->tou_active) return smart_allocate(e->ws, &p, e->grants);
    s->tou_slot = e->slots[0].start;
    smart_tou_input_t in = {e->slots, e->plan_slots, e->cfg.schedule_slot_s, e->cfg.schedule_slot_s,
                            e->plan,  e->unsat,      e->tou_scratch};
    smart_alloc_err_t rc = smart_allocate_tou(e->ws, &p, &in, e->grants, e->tou);
    if (rc == SMART_ALLOC_OK)
        e->plan_site = s; /* 2.0.1 schedules of this computation follow the same plan */
    else
        s->tou_active = false;
    return rc;
}

/* What a held EVSE may be drawing: its accepted TxProfile while its session
 * runs on a station out of reach, else the failsafe default. */
double smart_engine_hold_of(const evse_rt_t *v)
{
    double f = v->st->failsafe_a;
    if (v->session_id && v->sent_a > f && !v->st->flagged) return v->sent_a;
    return f;
}

static void add_on_phases(const site_tree_t *t, const evse_rt_t *v, double a,
                          double out[][SMART_PHASES], int node)
{
    const site_node_t *sn = &t->nodes[v->node];
    int ph = site_tree_phase_count(sn->phases);
    if (v->car_phases > 0 && v->car_phases < ph) ph = v->car_phases;
    for (int k = 0; k < ph; k++)
        out[node][sn->rotation[k]] += a;
}

/* A car drawing clearly less than it may is self-limited: it is capped at
 * its draw plus SMART_DRAW_HEADROOM_A and the rest goes to the others. It
 * stays capped until its draw comes within half the headroom of the cap (it
 * wants more), so a car sitting at its cap does not flap between the two. */
static double self_limit(const evse_rt_t *v)
{
    if (v->draw_a < 0 || v->sent_a <= 0) return 0;
    if (v->draw_a < v->sent_a - SMART_DRAW_HEADROOM_A ||
        (v->cap_a > 0 && v->draw_a < v->cap_a - SMART_DRAW_HEADROOM_A / 2))
        return v->draw_a + SMART_DRAW_HEADROOM_A;
    return 0;
}

/* The allocator's view of one EVSE (a held one is inactive: its load is
 * reserved instead). */
static smart_evse_t problem_evse(const smart_engine_t *e, const site_tree_t *t, evse_rt_t *v)
{
    const site_node_t *sn = &t->nodes[v->node];
    int ph = site_tree_phase_count(sn->phases);
    if (v->car_phases > 0 && v->car_phases < ph) ph = v->car_phases;
    v->cap_a = self_limit(v);
    double max_a = v->cap_a > 0 && v->cap_a < v->max_a ? v->cap_a : v->max_a;
    smart_evse_t pe = {
        .node = v->node,
        .phases = (uint8_t)(ph ? ph : 1),
        .active = v->session_id != 0 && !v->held,
        .min_a = v->min_a,
        .max_a = max_a < v->min_a ? v->min_a : max_a,
        .draw_a = v->draw_a,
        .priority = v->priority,
        .need_wh = need_left(e, v),
        .departure = v->departure,
        .voltage_v = t->voltage_v,
        .granted_a = 0, /* the draw is applied above, with its hysteresis */
    };
    memcpy(pe.phase_of, sn->rotation, sizeof sn->rotation);
    return pe;
}

static int build_problem(smart_engine_t *e, site_rt_t *s, int64_t now)
{
    const site_tree_t *t = s->tree;
    int n = 0;
    for (int i = 0; i < s->n_stations; i++)
        n += s->stations[i]->n_evses;
    grow_scratch(e, t->n_nodes, n ? n : 1);
    double(*reserved)[SMART_PHASES] = xcalloc((size_t)t->n_nodes, sizeof *reserved);
    for (int i = 0; i < t->n_nodes; i++) {
        bool live =
            t->nodes[i].live_meter && s->live_at[i] && now - s->live_at[i] <= t->meter_ttl_s;
        for (int p = 0; p < SMART_PHASES; p++)
            reserved[i][p] = live ? s->live_a[i][p] : t->nodes[i].reserved_a[p];
    }
    n = 0;
    for (int i = 0; i < s->n_stations; i++) {
        station_rt_t *st = s->stations[i];
        bool reachable = smart_engine_station_connected(e, st, NULL) && !st->flagged;
        for (int k = 0; k < st->n_evses; k++) {
            evse_rt_t *v = st->evses[k];
            v->held = !reachable;
            if (v->held) add_on_phases(t, v, smart_engine_hold_of(v), reserved, v->node);
            e->order[n] = v;
            v->idx = n;
            e->pevses[n++] = problem_evse(e, t, v);
        }
    }
    /* the allocator takes each node's reservation as load on that node's
     * links only; the load flows through every ancestor too */
    for (int i = t->n_nodes - 1; i > 0; i--)
        for (int p = 0; p < SMART_PHASES; p++)
            reserved[t->nodes[i].parent][p] += reserved[i][p];
    for (int i = 0; i < t->n_nodes; i++) {
        e->nodes[i].parent = t->nodes[i].parent;
        memcpy(e->nodes[i].limit_a, i == 0 ? s->limit_now : t->nodes[i].limit_a,
               sizeof e->nodes[i].limit_a);
        memcpy(e->nodes[i].reserved_a, reserved[i], sizeof reserved[i]);
    }
    free(reserved);
    return n;
}

/* One sample per computation; computations closer than HISTORY_MIN_MS
 * replace the last sample rather than flood the ring. */
static void history_push(smart_engine_t *e, site_rt_t *s, int n, int64_t now_ms)
{
    bool replace = s->hist_count > 0 && now_ms - s->hist_last_ms < HISTORY_MIN_MS;
    if (replace) s->hist_head = (s->hist_head - 1 + s->hist_len) % s->hist_len;
    hist_sample_t *h = &s->hist[s->hist_head];
    json_decref(h->grants);
    memset(h, 0, sizeof *h);
    h->at = now_ms;
    h->grants = json_object();
    memcpy(h->limit, s->limit_now, sizeof h->limit);
    const site_tree_t *t = s->tree;
    for (int i = 0; i < n; i++) {
        evse_rt_t *v = e->order[i];
        double a = v->held ? smart_engine_hold_of(v) : v->grant_a;
        const site_node_t *sn = &t->nodes[v->node];
        int ph = site_tree_phase_count(sn->phases);
        if (v->car_phases > 0 && v->car_phases < ph) ph = v->car_phases;
        for (int k = 0; k < ph; k++)
            h->load[sn->rotation[k]] += a;
        if (v->session_id) {
            char key[64];
            snprintf(key, sizeof key, "%s/%d", v->st->id, v->evse_id);
            json_object_set_new(h->grants, key, json_real(a));
        }
    }
    s->hist_head = (s->hist_head + 1) % s->hist_len;
    if (s->hist_count < s->hist_len && !replace) s->hist_count++;
    if (!replace) s->hist_last_ms = now_ms;
}

static void send_all(smart_engine_t *e, site_rt_t *s, int64_t now_ms);

void smart_engine_recompute(smart_engine_t *e, site_rt_t *s)
{
    int64_t now_ms = time_now_ms(), now = now_ms / 1000;
    s->dirty = false;
    for (int i = 0; i < s->n_stations; i++)
        station_discover_evses(e, s->stations[i]);
    root_limit(e, s, now);
    compute_failsafes(e, s);
    int n = build_problem(e, s, now);
    smart_alloc_err_t rc = allocate(e, s, n, now);
    if (rc != SMART_ALLOC_OK) { /* the tree was validated: hold everyone to the failsafe */
        log_warn("allocation failed", "site=%s rc=%d", s->name, (int)rc);
        for (int i = 0; i < n; i++)
            e->grants[i] = (smart_grant_t){0, true};
    }
    for (int i = 0; i < n; i++) {
        evse_rt_t *v = e->order[i];
        smart_tou_t t = s->tou_active ? e->tou[i] : (smart_tou_t){0};
        v->tou = t.planned;
        v->deferred = t.deferred;
        v->plan_at = t.next_start;
        v->planned_a = t.planned_a;
        v->grant_a = e->pevses[i].active ? smart_profile_round(e->grants[i].current_a) : 0;
        v->paused = e->pevses[i].active && (e->grants[i].paused || v->grant_a <= 0);
        double hours = v->departure > now ? (double)(v->departure - now) / 3600.0 : 0;
        double deliverable_wh = v->grant_a * s->tree->voltage_v * e->pevses[i].phases * hours;
        double left = e->pevses[i].need_wh;
        /* a session on the price plan is served if the plan meets its need
         * (it was re-made just now); only a pause for capacity fails it */
        bool short_now = v->tou ? !v->deferred && v->paused
                                : v->paused || (left > 0 && v->departure && deliverable_wh < left);
        v->unsatisfied = v->session_id && !v->held && short_now;
    }
    s->computed_at = now_ms;
    history_push(e, s, n, now_ms);
    if (e->cfg.enabled) send_all(e, s, now_ms);
}

/* -------------------------------------------------------------- sending */

typedef enum send_kind {
    SEND_TX,
    SEND_DEFAULT,
    SEND_MAX,
    SEND_VERIFY_EVSE,
    SEND_VERIFY_STATION,
} send_kind_t;

typedef struct send_ctx {
    smart_engine_t *e;
    char station[49];
    char site[SITE_ID_MAX];
    send_kind_t kind;
    int evse_id;
    int64_t session_id;
    double value;
    bool decrease;
} send_ctx_t;

static const char *const kind_label[] = {"TxProfile", "TxDefaultProfile", "station maximum",
                                         "GetCompositeSchedule", "GetCompositeSchedule"};

static void flag_station(smart_engine_t *e, station_rt_t *st, const char *what, const char *why)
{
    bool was = st->flagged;
    st->flagged = true;
    st->flagged_at = time_now_ms();
    snprintf(st->flag_reason, sizeof st->flag_reason, "%s: %s", what, why);
    if (was) return;
    log_warn("station flagged by load management", "station=%s reason=%s", st->id, st->flag_reason);
    json_t *d = json_pack("{s:s,s:s,s:s}", "station_id", st->id, "site", st->site->name, "reason",
                          st->flag_reason);
    csms_emit(e->csms, "smart.station_flagged", d);
}

static void verify_answer(smart_engine_t *e, station_rt_t *st, const send_ctx_t *x,
                          const csms_cmd_result_t *r)
{
    int proto = -1;
    double lim = -1;
    smart_engine_station_connected(e, st, &proto);
    if (r->status != CSMS_CMD_OK || proto < 0 ||
        !smart_profile_composite_limit((smart_proto_t)proto, r->payload, &lim))
        lim = -1;
    if (x->kind == SEND_VERIFY_STATION) {
        st->verify_a = lim;
        st->verify_at = time_now_ms();
        return;
    }
    evse_rt_t *v = evse_find(st, x->evse_id);
    if (!v) return;
    v->verify_a = lim;
    v->verify_at = time_now_ms();
}

static void answer_cb(void *ctx, const csms_cmd_result_t *r)
{
    send_ctx_t *x = ctx;
    smart_engine_t *e = x->e;
    station_rt_t *st = e->stopped ? NULL : station_find(e, x->station);
    site_rt_t *s = e->stopped ? NULL : smart_engine_site_find(e, x->site);
    if (s && x->decrease && s->pending_decreases > 0 && --s->pending_decreases == 0)
        mark_dirty(e, s); /* the increases held back can go now */
    if (!st || st->site != s) goto done;
    if (x->kind == SEND_VERIFY_EVSE || x->kind == SEND_VERIFY_STATION) {
        verify_answer(e, st, x, r);
        goto done;
    }
    if (r->status == CSMS_CMD_OK && smart_profile_accepted(r->payload)) {
        if (st->flagged) {
            st->flagged = false;
            st->flag_reason[0] = '\0';
            mark_dirty(e, s);
        }
        goto done;
    }
    if (r->status == CSMS_CMD_DISCONNECTED) goto done; /* sent again after the reconnection */
    char why[96];
    switch (r->status) {
    case CSMS_CMD_OK:
        snprintf(why, sizeof why, "answered %.40s",
                 json_string_value(json_object_get(r->payload, "status"))
                     ? json_string_value(json_object_get(r->payload, "status"))
                     : "?");
        break;
    case CSMS_CMD_CALLERROR:
        snprintf(why, sizeof why, "CALLERROR %.60s", r->error_code ? r->error_code : "");
        break;
    case CSMS_CMD_TIMEOUT:
        snprintf(why, sizeof why, "no answer (timeout)");
        break;
    default:
        snprintf(why, sizeof why, "invalid answer");
        break;
    }
    if (x->kind == SEND_DEFAULT) st->default_sent_a = -1;
    if (x->kind == SEND_MAX) st->max_sent_a = -1;
    flag_station(e, st, kind_label[x->kind], why);
    mark_dirty(e, s);
done:
    free(x);
}

static bool rate_ok(const smart_engine_t *e, station_rt_t *st, int64_t now_ms)
{
    if (now_ms - st->window_ms >= 1000) {
        st->window_ms = now_ms;
        st->window_count = 0;
    }
    return st->window_count < e->cfg.max_profiles_per_s;
}

/* Sends one call; payload is stolen. False when it could not be queued. */
static bool send_call(smart_engine_t *e, station_rt_t *st, const char *action, json_t *payload,
                      send_kind_t kind, int evse_id, double value, bool decrease)
{
    send_ctx_t *x = xcalloc(1, sizeof *x);
    x->e = e;
    snprintf(x->station, sizeof x->station, "%s", st->id);
    snprintf(x->site, sizeof x->site, "%s", st->site->name);
    x->kind = kind;
    x->evse_id = evse_id;
    x->value = value;
    x->decrease = decrease;
    char err[256];
    csms_err_t rc = csms_command(e->csms, st->id, action, payload, answer_cb, x, err, sizeof err);
    json_decref(payload);
    if (rc != CSMS_OK) {
        if (rc == CSMS_ERR_INVALID)
            log_warn("charging profile not sent", "station=%s error=%s", st->id, err);
        free(x);
        return false;
    }
    st->window_count++;
    if (decrease) st->site->pending_decreases++;
    return true;
}

typedef struct clear_ctx {
    smart_engine_t *e;
    char station[49];
} clear_ctx_t;

/* The outcome is in the station's log like every command's (csms_command);
 * a connection lost before the answer clears again on the next one. */
static void clear_answer_cb(void *ctx, const csms_cmd_result_t *r)
{
    clear_ctx_t *x = ctx;
    const char *status =
        r->status == CSMS_CMD_OK ? json_string_value(json_object_get(r->payload, "status")) : NULL;
    if (r->status == CSMS_CMD_DISCONNECTED && !x->e->stopped) {
        if (!station_find(x->e, x->station)) station_release(x->e, x->station); /* still out */
    } else if (!status || (strcmp(status, "Accepted") && strcmp(status, "Unknown"))) {
        log_warn("charging profiles not cleared", "station=%s status=%s outcome=%d", x->station,
                 status ? status : "-", (int)r->status);
    }
    free(x);
}

/* A station left load management (its tree was deleted, or the new tree
 * leaves it out): ClearChargingProfile for each profile ampgrid set — the
 * TxDefaultProfile and the station maximum by id, the TxProfiles by purpose
 * and stack level — so it is no longer held to limits nobody computes. A
 * station out of reach gets them when it connects again. */
static void station_release(smart_engine_t *e, const char *station_id)
{
    csms_station_t *cs = csms_station_find(e->csms, station_id);
    if (!cs) return; /* deleted: nothing to tell */
    int proto = cs->link ? smart_proto_parse(cs->link_ops->protocol(cs->link)) : -1;
    if (proto < 0) {
        clear_rt_t *c = NULL;
        HASH_FIND_STR(e->to_clear, station_id, c);
        if (!c) {
            c = xcalloc(1, sizeof *c);
            snprintf(c->id, sizeof c->id, "%s", station_id);
            HASH_ADD_STR(e->to_clear, id, c);
        }
        follow_events(e);
        return;
    }
    json_t *calls[] = {smart_profile_clear_id((smart_proto_t)proto, SMART_PROFILE_ID_DEFAULT),
                       smart_profile_clear_id((smart_proto_t)proto, SMART_PROFILE_ID_MAX),
                       smart_profile_clear_tx((smart_proto_t)proto)};
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        clear_ctx_t *x = xcalloc(1, sizeof *x);
        x->e = e;
        snprintf(x->station, sizeof x->station, "%s", station_id);
        char err[256];
        if (csms_command(e->csms, station_id, "ClearChargingProfile", calls[i], clear_answer_cb, x,
                         err, sizeof err) != CSMS_OK) {
            log_warn("ClearChargingProfile not sent", "station=%s error=%s", station_id, err);
            free(x);
        }
        json_decref(calls[i]);
    }
}

/* A station waiting for its profiles to be cleared came back. */
static void on_released_back(smart_engine_t *e, const char *type, const json_t *d)
{
    if (strcmp(type, "station.connected") && strcmp(type, "station.boot")) return;
    const char *id = json_string_value(json_object_get(d, "station_id"));
    clear_rt_t *c = NULL;
    if (id) HASH_FIND_STR(e->to_clear, id, c);
    if (!c) return;
    HASH_DEL(e->to_clear, c);
    free(c);
    station_release(e, id);
    follow_events(e);
}

/* Whether this computation's plan covers v up to its departure. */
static bool plan_covers(const smart_engine_t *e, const site_rt_t *s, const evse_rt_t *v, int max)
{
    if (e->plan_site != s || e->plan_slots < 1) return false;
    int64_t end = e->slots[e->plan_slots - 1].start + e->cfg.schedule_slot_s;
    return e->plan_slots >= max || v->departure <= e->slots[0].start || end >= v->departure;
}

/* The periods of a 2.0.1 schedule answer for v: now the live grant, then
 * the plan to the departure (time of use's when it decided this
 * computation, else one smart_schedule makes now). Returns the count. */
static int schedule_periods(smart_engine_t *e, site_rt_t *s, evse_rt_t *v, int n_evses, int64_t now,
                            smart_period_t *out, int max)
{
    if (!plan_covers(e, s, v, max)) {
        int n_slots = build_slots(e, s, now, v->departure, max);
        grow_plan(e, n_evses, n_slots);
        smart_problem_t p = {e->nodes, s->tree->n_nodes, e->pevses, n_evses, s->tree->policy, now};
        e->plan_site = NULL;
        if (smart_schedule(e->ws, &p, e->slots, n_slots, e->cfg.schedule_slot_s, e->plan, NULL,
                           NULL) != SMART_ALLOC_OK)
            return 0;
        e->plan_site = s;
        e->plan_slots = n_slots;
    }
    const double *row = e->plan + (size_t)v->idx * (size_t)e->plan_slots;
    int n = 0;
    for (int k = 0; k < e->plan_slots && n < max; k++) {
        if (k > 0 && v->departure > now && e->slots[k].start >= v->departure) break;
        double a = k == 0 ? (v->paused ? 0 : v->grant_a) : row[k];
        int offset = k == 0 ? 0 : (int)(e->slots[k].start - now);
        out[n++] = (smart_period_t){offset, smart_profile_round(a)};
    }
    return n;
}

static void send_station_profiles(smart_engine_t *e, station_rt_t *st, smart_proto_t proto,
                                  int64_t now_ms)
{
    const site_node_t *sn = &st->site->tree->nodes[st->node];
    if (smart_profile_should_send(&e->pcfg, st->default_sent_a, st->failsafe_a) &&
        rate_ok(e, st, now_ms)) {
        bool lower = st->default_sent_a >= 0 && st->failsafe_a < st->default_sent_a;
        if (send_call(e, st, "SetChargingProfile", smart_profile_default(proto, st->failsafe_a),
                      SEND_DEFAULT, 0, st->failsafe_a, lower))
            st->default_sent_a = st->failsafe_a;
    }
    double cap = INFINITY;
    for (int p = 0; p < SMART_PHASES; p++)
        if ((sn->phases & (1u << p)) && sn->limit_a[p] < cap) cap = sn->limit_a[p];
    if (isfinite(cap) && st->max_sent_a < 0 && rate_ok(e, st, now_ms) &&
        send_call(e, st, "SetChargingProfile", smart_profile_station_max(proto, cap), SEND_MAX, 0,
                  cap, false))
        st->max_sent_a = cap;
}

/* One TxProfile when it is due; false when the rate limit held it back. */
static bool send_tx(smart_engine_t *e, site_rt_t *s, evse_rt_t *v, smart_proto_t proto,
                    bool decreases, int n_evses, int64_t now_ms)
{
    double now_a = v->paused ? 0 : v->grant_a;
    double before = v->sent_a >= 0 ? v->sent_a : v->st->failsafe_a;
    bool lower = now_a < before - 0.05;
    bool due = smart_profile_should_send(&e->pcfg, v->sent_a, now_a) || v->want_schedule;
    if (!due || lower != decreases) return true;
    if (!rate_ok(e, v->st, now_ms)) return false;
    smart_period_t periods[96];
    int np = 0;
    if (v->want_schedule && proto == SMART_PROTO_201)
        np = schedule_periods(e, s, v, n_evses, now_ms / 1000, periods, 96);
    const site_node_t *sn = &s->tree->nodes[v->node];
    int ph = site_tree_phase_count(sn->phases);
    if (v->car_phases > 0 && v->car_phases < ph) ph = v->car_phases;
    json_t *pl =
        smart_profile_tx(proto, v->evse_id, v->tx_id, now_a, ph, periods, np, now_ms / 1000);
    if (send_call(e, v->st, "SetChargingProfile", pl, SEND_TX, v->evse_id, now_a, lower)) {
        /* a draw measured under a lower limit (0 A while paused or deferred)
         * says nothing about what the car takes now: until the next reading
         * it must not cap the car back (self_limit) at the next computation */
        if (now_a > v->sent_a + 0.05 && v->draw_a >= 0) {
            v->draw_a = -1;
            v->cap_a = 0;
        }
        v->sent_a = now_a;
        v->want_schedule = false;
    }
    return true;
}

static void send_all(smart_engine_t *e, site_rt_t *s, int64_t now_ms)
{
    int n = 0;
    for (int i = 0; i < s->n_stations; i++)
        n += s->stations[i]->n_evses;
    for (int pass = 0; pass < 2; pass++) {
        bool decreases = pass == 0;
        if (!decreases && s->pending_decreases > 0) {
            s->dirty = true; /* the increases follow once the decreases are answered */
            return;
        }
        for (int i = 0; i < s->n_stations; i++) {
            station_rt_t *st = s->stations[i];
            int proto;
            if (!smart_engine_station_connected(e, st, &proto)) continue;
            if (decreases) send_station_profiles(e, st, (smart_proto_t)proto, now_ms);
            if (st->flagged) continue;
            for (int k = 0; k < st->n_evses; k++) {
                evse_rt_t *v = st->evses[k];
                if (!v->session_id || v->held) continue;
                if (!send_tx(e, s, v, (smart_proto_t)proto, decreases, n, now_ms)) s->dirty = true;
            }
        }
    }
}

/* ---------------------------------------------------------------- events */

/* A meter.values event's current per phase (L1..L3, "L1-N" too), total
 * current and active power (W); each stays < 0 when absent. */
static void read_draw(const store_sample_t *samples, size_t n, double amps[SMART_PHASES],
                      double *total, double *power)
{
    for (size_t i = 0; i < n; i++) {
        const char *meas = samples[i].measurand, *phase = samples[i].phase;
        const char *unit = samples[i].unit, *val = samples[i].value;
        if (!meas || !val) continue;
        double x = strtod(val, NULL);
        if (!isfinite(x)) continue;
        if (strcmp(meas, "Current.Import") == 0) {
            if (phase && phase[0] == 'L' && phase[1] >= '1' && phase[1] <= '3' &&
                (!phase[2] || phase[2] == '-'))
                amps[phase[1] - '1'] = x;
            else if (!phase)
                *total = x;
        } else if (strcmp(meas, "Power.Active.Import") == 0 && !phase) {
            *power = unit && strcmp(unit, "kW") == 0 ? x * 1000 : x;
        }
    }
}

/* meter.values, typed (csms_subscribe_typed): what the car draws now. */
static void on_meter(void *ud, const csms_meter_event_t *m)
{
    smart_engine_t *e = ud;
    if (e->stopped) return;
    station_rt_t *st = station_find(e, m->station_id);
    if (!st) return;
    evse_rt_t *v = evse_find(st, m->evse_id);
    if (!v || !v->session_id) return;
    double amps[SMART_PHASES] = {-1, -1, -1}, total = -1, power = -1;
    read_draw(m->samples, m->n, amps, &total, &power);
    double draw = -1, hi = -1;
    int on = 0;
    for (int p = 0; p < SMART_PHASES; p++)
        hi = amps[p] > hi ? amps[p] : hi;
    for (int p = 0; p < SMART_PHASES; p++)
        on += amps[p] >= 1.0 && amps[p] >= 0.2 * hi;
    const site_tree_t *t = st->site->tree;
    int wired = site_tree_phase_count(t->nodes[v->node].phases);
    if (hi >= 0)
        draw = hi;
    else if (total >= 0)
        draw = total;
    else if (power >= 0)
        draw = power / (t->voltage_v * (v->car_phases ? v->car_phases : wired));
    if (draw < 0) return;
    v->draw_a = draw;
    bool dirty = false;
    if (hi >= 0 && on > 0 && on != v->car_phases && on <= wired) {
        v->car_phases = on;
        dirty = true;
    }
    double cap = self_limit(v);
    if ((cap > 0) != (v->cap_a > 0) || fabs(cap - v->cap_a) >= 1.0) dirty = true;
    if (dirty) mark_dirty(e, st->site);
}

static int64_t parse_time_s(const json_t *v)
{
    int64_t ms;
    const char *s = json_string_value(v);
    return s && time_parse_rfc3339(s, &ms) ? ms / 1000 : 0;
}

/* 2.0.1 NotifyEVChargingNeeds / NotifyEVChargingSchedule (the station's note). */
static void on_ev_info(smart_engine_t *e, station_rt_t *st, const json_t *d)
{
    const char *kind = json_string_value(json_object_get(d, "kind"));
    const json_t *p = json_object_get(d, "detail");
    if (!kind || !p) return;
    evse_rt_t *v = evse_find(st, (int)json_integer_value(json_object_get(p, "evseId")));
    if (!v || !v->session_id) return;
    if (strcmp(kind, "ev_charging_needs") == 0) {
        const json_t *n = json_object_get(p, "chargingNeeds");
        const json_t *ac = json_object_get(n, "acChargingParameters");
        const json_t *dc = json_object_get(n, "dcChargingParameters");
        const json_t *par = ac ? ac : dc;
        needs_rt_t *set = NULL;
        HASH_FIND(hh, e->needs, &v->session_id, sizeof v->session_id, set);
        if (!set) { /* what an operator set through the API wins over the car */
            double wh = json_number_value(json_object_get(par, "energyAmount"));
            if (wh > 0) v->need_wh = wh;
            int64_t dep = parse_time_s(json_object_get(n, "departureTime"));
            if (dep) v->departure = dep;
        }
        double max = json_number_value(json_object_get(par, "evMaxCurrent"));
        if (ac && max > 0 && max < v->max_a) v->max_a = max;
    } else if (strcmp(kind, "ev_charging_schedule") != 0) {
        return;
    }
    v->want_schedule = true;
    mark_dirty(e, st->site);
}

static void on_tx(smart_engine_t *e, station_rt_t *st, const char *type, const json_t *d)
{
    int evse_id = (int)json_integer_value(json_object_get(d, "evse_id"));
    int64_t session = json_integer_value(json_object_get(d, "session_id"));
    const char *ev = json_string_value(json_object_get(d, "event_type"));
    bool ended = strcmp(type, "transaction.ended") == 0 || (ev && strcmp(ev, "Ended") == 0);
    evse_rt_t *v = evse_find(st, evse_id);
    if (!v && !st->explicit_evses && evse_id >= 1 && !ended) {
        v = evse_add(st, evse_id, st->node);
        evse_limits(st->site->tree, v);
    }
    if (!v) return;
    if (ended) {
        if (v->session_id == session) evse_set_session(e, v, 0, NULL);
    } else if (session) {
        evse_set_session(e, v, session, json_string_value(json_object_get(d, "transaction_id")));
    }
    mark_dirty(e, st->site);
}

static void on_event(void *ud, const char *type, const json_t *d)
{
    smart_engine_t *e = ud;
    if (e->stopped) return;
    if (strcmp(type, "smart.signal") == 0) {
        const char *site = json_string_value(json_object_get(d, "site"));
        if (site && strcmp(site, "*") == 0) { /* the default price schedule: every site */
            site_rt_t *s, *tmp;
            HASH_ITER(hh, e->sites, s, tmp)
            {
                mark_dirty(e, s);
            }
        } else {
            mark_dirty(e, smart_engine_site_find(e, site ? site : ""));
        }
        return;
    }
    station_rt_t *st = station_find(e, json_string_value(json_object_get(d, "station_id")));
    if (!st) {
        if (e->to_clear) on_released_back(e, type, d);
        return;
    }
    if (strncmp(type, "transaction.", 12) == 0) {
        on_tx(e, st, type, d);
    } else if (strcmp(type, "station.boot") == 0 || strcmp(type, "station.connected") == 0) {
        st->default_sent_a = st->max_sent_a = -1; /* it may have lost them: send again */
        if (strcmp(type, "station.boot") == 0)
            for (int k = 0; k < st->n_evses; k++)
                st->evses[k]->sent_a = -1;
        mark_dirty(e, st->site);
    } else if (strcmp(type, "station.disconnected") == 0 || strcmp(type, "connector.status") == 0) {
        mark_dirty(e, st->site);
    } else if (strcmp(type, "station.notification") == 0) {
        on_ev_info(e, st, d);
    }
}

/* ---------------------------------------------------------------- timers */

static void debounce_cb(uv_timer_t *t)
{
    smart_engine_t *e = t->data;
    e->debounce_armed = false;
    site_rt_t *s, *tmp;
    HASH_ITER(hh, e->sites, s, tmp)
    {
        if (s->dirty) smart_engine_recompute(e, s);
    }
}

static void verify_site(smart_engine_t *e, site_rt_t *s)
{
    for (int i = 0; i < s->n_stations; i++) {
        station_rt_t *st = s->stations[i];
        int proto;
        if (!smart_engine_station_connected(e, st, &proto)) continue;
        send_call(e, st, "GetCompositeSchedule",
                  smart_profile_composite_request((smart_proto_t)proto, 0, VERIFY_DURATION_S),
                  SEND_VERIFY_STATION, 0, 0, false);
        for (int k = 0; k < st->n_evses; k++)
            if (st->evses[k]->session_id)
                send_call(e, st, "GetCompositeSchedule",
                          smart_profile_composite_request((smart_proto_t)proto,
                                                          st->evses[k]->evse_id, VERIFY_DURATION_S),
                          SEND_VERIFY_EVSE, st->evses[k]->evse_id, 0, false);
    }
}

/* Whether any EVSE of the site has a session (idle sites need no samples). */
static bool site_charging(const site_rt_t *s)
{
    for (int i = 0; i < s->n_stations; i++)
        for (int k = 0; k < s->stations[i]->n_evses; k++)
            if (s->stations[i]->evses[k]->session_id) return true;
    return false;
}

/* Once a second: building meters that expire, retries the rate limit held
 * back, a history sample for sites with sessions, the periodic check. */
static void tick_cb(uv_timer_t *t)
{
    smart_engine_t *e = t->data;
    int64_t now_ms = time_now_ms(), now = now_ms / 1000;
    bool verify = e->cfg.verify_interval_s > 0 &&
                  now_ms - e->last_verify_ms >= (int64_t)e->cfg.verify_interval_s * 1000;
    if (verify) e->last_verify_ms = now_ms;
    site_rt_t *s, *tmp;
    HASH_ITER(hh, e->sites, s, tmp)
    {
        for (int i = 0; i < s->tree->n_nodes; i++)
            if (s->live_at[i] && now - s->live_at[i] > s->tree->meter_ttl_s) {
                s->live_at[i] = 0; /* expired: the static reservation again */
                s->dirty = true;
            }
        if (now_ms - s->hist_last_ms >= HISTORY_EVERY_MS && site_charging(s)) s->dirty = true;
        if (s->tou_active && now - s->tou_slot >= e->cfg.schedule_slot_s)
            s->dirty = true; /* the plan's next slot began */
        if (verify) verify_site(e, s);
        if (s->dirty) arm(e);
    }
}

/* ------------------------------------------------------------ life cycle */

static bool load(smart_engine_t *e, char *err, size_t err_len)
{
    json_t *sites = NULL, *needs = NULL;
    if (store_smart_load_sync(e->store, &sites, &needs) != 0) {
        snprintf(err, err_len, "cannot load the load-management trees");
        return false;
    }
    size_t i;
    json_t *r;
    json_array_foreach(needs, i, r)
    {
        needs_rt_t *n = xcalloc(1, sizeof *n);
        n->session_id = json_integer_value(json_object_get(r, "session_id"));
        n->energy_wh = json_number_value(json_object_get(r, "energy_wh"));
        n->departure = json_integer_value(json_object_get(r, "departure"));
        n->priority = (int)json_integer_value(json_object_get(r, "priority"));
        HASH_ADD(hh, e->needs, session_id, sizeof n->session_id, n);
    }
    json_array_foreach(sites, i, r)
    {
        site_tree_t *t = NULL;
        char msg[256];
        const char *name = json_string_value(json_object_get(r, "site"));
        /* stations deleted since are not an error at start-up: no check */
        if (site_tree_parse(name, json_object_get(r, "tree"), NULL, NULL, &t, msg, sizeof msg)) {
            log_warn("stored capacity tree no longer valid", "site=%s error=%s", name, msg);
            continue;
        }
        site_apply(e, t);
    }
    json_decref(sites);
    json_decref(needs);
    return true;
}

smart_engine_t *smart_engine_create(uv_loop_t *loop, csms_t *csms, store_t *store,
                                    smart_signals_t *signals, const smart_engine_config_t *cfg,
                                    char *err, size_t err_len)
{
    smart_engine_t *e = xcalloc(1, sizeof *e);
    e->loop = loop;
    e->csms = csms;
    e->store = store;
    e->signals = signals;
    e->cfg = *cfg;
    e->pcfg = (smart_profile_config_t){cfg->hysteresis_a, cfg->hysteresis_pct};
    e->ws = smart_workspace_new();
    uv_timer_init(loop, &e->debounce);
    uv_timer_init(loop, &e->tick);
    e->debounce.data = e->tick.data = e;
    if (!load(e, err, err_len)) {
        smart_engine_stop(e);
        uv_run(loop, UV_RUN_NOWAIT);
        smart_engine_free(e);
        return NULL;
    }
    uv_timer_start(&e->tick, tick_cb, TICK_MS, TICK_MS);
    return e;
}

void smart_engine_stop(smart_engine_t *e)
{
    if (!e || e->stopped) return;
    e->stopped = true;
    follow_events(e);
    uv_timer_stop(&e->debounce);
    uv_timer_stop(&e->tick);
    uv_close((uv_handle_t *)&e->debounce, NULL);
    uv_close((uv_handle_t *)&e->tick, NULL);
}

void smart_engine_free(smart_engine_t *e)
{
    if (!e) return;
    site_rt_t *s, *tmp;
    HASH_ITER(hh, e->sites, s, tmp)
    {
        HASH_DEL(e->sites, s);
        site_free(e, s);
    }
    needs_rt_t *n, *ntmp;
    HASH_ITER(hh, e->needs, n, ntmp)
    {
        HASH_DEL(e->needs, n);
        free(n);
    }
    clear_rt_t *c, *ctmp;
    HASH_ITER(hh, e->to_clear, c, ctmp)
    {
        HASH_DEL(e->to_clear, c);
        free(c);
    }
    smart_workspace_free(e->ws);
    free(e->nodes);
    free(e->pevses);
    free(e->grants);
    free(e->order);
    free(e->slots);
    free(e->plan);
    free(e->unsat);
    free(e->tou_scratch);
    free(e->tou);
    free(e);
}

/* ------------------------------------------------------------------ API */

typedef struct change_ctx {
    smart_engine_t *e;
    site_tree_t *tree;      /* put: in force once committed */
    char site[SITE_ID_MAX]; /* delete */
    needs_rt_t needs;       /* needs */
    smart_engine_done_cb cb;
    void *ctx;
} change_ctx_t;

typedef struct known_ctx {
    smart_engine_t *e;
    const char *site;
    char other[SITE_ID_MAX]; /* the first station in another site's tree */
    char station[49];
    char wrong[49]; /* the first station whose own site is another */
    char wrong_site[72];
} known_ctx_t;

/* A station belongs to one site (stations.site, which analytics, demand
 * response and maintenance windows also go by); a tree only wires the
 * stations of its own site. */
static bool station_known(void *p, const char *id)
{
    known_ctx_t *k = p;
    const csms_station_t *cs = csms_station_find(k->e->csms, id);
    if (!cs) return false;
    if ((!cs->site || strcmp(cs->site, k->site) != 0) && !k->wrong[0]) {
        snprintf(k->wrong, sizeof k->wrong, "%s", id);
        snprintf(k->wrong_site, sizeof k->wrong_site, "%s", cs->site ? cs->site : "");
    }
    station_rt_t *st = station_find(k->e, id);
    if (st && strcmp(st->site->name, k->site) != 0 && !k->other[0]) {
        snprintf(k->other, sizeof k->other, "%s", st->site->name);
        snprintf(k->station, sizeof k->station, "%s", id);
    }
    return true;
}

static void put_done(void *p, store_err_t rc, json_t *res)
{
    change_ctx_t *x = p;
    (void)res;
    if (rc == STORE_OK && !x->e->stopped)
        site_apply(x->e, x->tree);
    else
        site_tree_free(x->tree);
    x->cb(x->ctx, rc == STORE_OK);
    free(x);
}

smart_engine_err_t smart_engine_put_tree(smart_engine_t *e, const char *site, const json_t *body,
                                         smart_engine_done_cb cb, void *ctx, char *err,
                                         size_t err_len)
{
    known_ctx_t k = {.e = e, .site = site};
    site_tree_t *t = NULL;
    site_tree_err_t rc = site_tree_parse(site, body, station_known, &k, &t, err, err_len);
    if (rc == SITE_TREE_BAD_REQUEST) return SMART_ENGINE_BAD_REQUEST;
    if (rc != SITE_TREE_OK) return SMART_ENGINE_UNPROCESSABLE;
    if (k.wrong[0] || k.other[0]) {
        if (k.wrong[0] && k.wrong_site[0])
            snprintf(err, err_len,
                     "station '%s' belongs to site '%s', not '%s' (change the station's site "
                     "first)",
                     k.wrong, k.wrong_site, site);
        else if (k.wrong[0])
            snprintf(err, err_len, "station '%s' belongs to no site (set its site to '%s' first)",
                     k.wrong, site);
        else
            snprintf(err, err_len, "station '%s' is already in the tree of site '%s'", k.station,
                     k.other);
        site_tree_free(t);
        return SMART_ENGINE_UNPROCESSABLE;
    }
    change_ctx_t *x = xcalloc(1, sizeof *x);
    x->e = e;
    x->tree = t;
    x->cb = cb;
    x->ctx = ctx;
    json_t *canon = site_tree_json(t);
    store_smart_site_put(e->store, site, canon, time_now_ms(), put_done, x);
    json_decref(canon);
    return SMART_ENGINE_OK;
}

static void delete_done(void *p, store_err_t rc, json_t *res)
{
    change_ctx_t *x = p;
    (void)res;
    site_rt_t *s = rc == STORE_OK && !x->e->stopped ? smart_engine_site_find(x->e, x->site) : NULL;
    if (s) {
        for (int i = 0; i < s->n_stations; i++)
            station_release(x->e, s->stations[i]->id);
        HASH_DEL(x->e->sites, s);
        site_free(x->e, s);
        follow_events(x->e);
    }
    x->cb(x->ctx, rc == STORE_OK || rc == STORE_ERR_NOT_FOUND);
    free(x);
}

smart_engine_err_t smart_engine_delete_tree(smart_engine_t *e, const char *site,
                                            smart_engine_done_cb cb, void *ctx)
{
    if (!smart_engine_site_find(e, site)) return SMART_ENGINE_NOT_FOUND;
    change_ctx_t *x = xcalloc(1, sizeof *x);
    x->e = e;
    snprintf(x->site, sizeof x->site, "%s", site);
    x->cb = cb;
    x->ctx = ctx;
    store_smart_site_delete(e->store, site, delete_done, x);
    return SMART_ENGINE_OK;
}

smart_engine_err_t smart_engine_node_load(smart_engine_t *e, const char *site, const char *node,
                                          const double amps[SMART_PHASES], int64_t at, char *err,
                                          size_t err_len)
{
    site_rt_t *s = smart_engine_site_find(e, site);
    int i = s ? site_tree_find(s->tree, node) : -1;
    if (i < 0) {
        snprintf(err, err_len, "site '%s' has no node '%s'", site, node);
        return SMART_ENGINE_NOT_FOUND;
    }
    const site_node_t *nd = &s->tree->nodes[i];
    if (!nd->live_meter) {
        snprintf(err, err_len,
                 "node '%s' has no building meter (set \"live_meter\": true in the tree)", node);
        return SMART_ENGINE_UNPROCESSABLE;
    }
    int64_t now = time_now_ms() / 1000;
    if (at > now + 300 || now - at > s->tree->meter_ttl_s) {
        snprintf(err, err_len, "the reading's timestamp is %s (the site keeps readings %d s)",
                 at > now ? "in the future" : "too old", s->tree->meter_ttl_s);
        return SMART_ENGINE_UNPROCESSABLE;
    }
    for (int p = 0; p < SMART_PHASES; p++) {
        if (amps[p] > 0 && !(nd->phases & (1u << p))) {
            snprintf(err, err_len, "node '%s' is not wired to L%d", node, p + 1);
            return SMART_ENGINE_UNPROCESSABLE;
        }
        s->live_a[i][p] = amps[p];
    }
    s->live_at[i] = at;
    mark_dirty(e, s);
    return SMART_ENGINE_OK;
}

static void needs_done(void *p, store_err_t rc, json_t *res)
{
    change_ctx_t *x = p;
    smart_engine_t *e = x->e;
    (void)res;
    if (rc == STORE_OK && !e->stopped) {
        needs_rt_t *n = NULL;
        HASH_FIND(hh, e->needs, &x->needs.session_id, sizeof x->needs.session_id, n);
        if (!n) {
            n = xcalloc(1, sizeof *n);
            n->session_id = x->needs.session_id;
            HASH_ADD(hh, e->needs, session_id, sizeof n->session_id, n);
        }
        n->energy_wh = x->needs.energy_wh;
        n->departure = x->needs.departure;
        n->priority = x->needs.priority;
        csms_tx_t *t = csms_tx_find(e->csms, n->session_id);
        station_rt_t *st = t ? station_find(e, t->station_id) : NULL;
        evse_rt_t *v = st ? evse_find(st, t->evse_id) : NULL;
        if (v && v->session_id == n->session_id) {
            evse_apply_needs(e, v);
            mark_dirty(e, st->site);
        }
    }
    x->cb(x->ctx, rc == STORE_OK);
    free(x);
}

smart_engine_err_t smart_engine_set_needs(smart_engine_t *e, int64_t session_id, double energy_wh,
                                          int64_t departure, int priority, smart_engine_done_cb cb,
                                          void *ctx, char *err, size_t err_len)
{
    if (!csms_tx_find(e->csms, session_id)) {
        snprintf(err, err_len, "session %lld is not running", (long long)session_id);
        return SMART_ENGINE_NOT_FOUND;
    }
    change_ctx_t *x = xcalloc(1, sizeof *x);
    x->e = e;
    x->needs = (needs_rt_t){.session_id = session_id,
                            .energy_wh = energy_wh,
                            .departure = departure,
                            .priority = priority};
    x->cb = cb;
    x->ctx = ctx;
    store_smart_needs_put(e->store, session_id, energy_wh, departure, priority, time_now_ms(),
                          needs_done, x);
    return SMART_ENGINE_OK;
}

smart_engine_err_t smart_engine_verify(smart_engine_t *e, const char *site)
{
    site_rt_t *s = smart_engine_site_find(e, site);
    if (!s) return SMART_ENGINE_NOT_FOUND;
    verify_site(e, s);
    return SMART_ENGINE_OK;
}
