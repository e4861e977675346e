/*
 * The day replay behind `ampgrid smart-sim` (smart_sim.h). The site is a
 * three-level capacity tree: the grid connection (lowered during a
 * demand-response window), two feeders, the EVSEs on rotated stations. Each
 * step (60 s by default) cars arrive and leave, the allocator gives every
 * EVSE its current (the TOU policy re-plans with smart_schedule every 15
 * minutes and whenever a session starts or ends, and follows the plan's
 * current slot), and each car draws the lesser of its grant and what its
 * charging curve accepts, never more than it still needs. The energy a car
 * takes in a step is counted once, for its session and for the site, so the
 * two sums must agree (the unit test checks it); the per-phase load on every
 * node is checked against its limit at every step.
 */
#include "smart/smart_sim.h"
#include "smart/alloc.h"
#include "smart/sim_model.h"
#include "util/alloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 1767225600 /* 2026-01-01T00:00:00Z: the simulated day's midnight */
#define SLOT_S 900
#define PLAN_SLOTS 96
#define MIN_A 6.0

static const char *const policy_names[] = {"equal", "priority", "deadline", "tou"};

const char *smart_sim_policy_name(smart_sim_policy_t p)
{
    return (unsigned)p < SMART_SIM_N_POLICIES ? policy_names[p] : "?";
}

/* Hourly day-ahead-like prices per kWh: cheap at night and at the solar
 * midday, dear at the morning and evening peaks. */
static const smart_sim_price_t default_prices[24] = {
    {0 * 3600, 0.14},  {1 * 3600, 0.12},  {2 * 3600, 0.11},  {3 * 3600, 0.11},  {4 * 3600, 0.12},
    {5 * 3600, 0.15},  {6 * 3600, 0.22},  {7 * 3600, 0.30},  {8 * 3600, 0.32},  {9 * 3600, 0.26},
    {10 * 3600, 0.18}, {11 * 3600, 0.12}, {12 * 3600, 0.09}, {13 * 3600, 0.08}, {14 * 3600, 0.10},
    {15 * 3600, 0.15}, {16 * 3600, 0.22}, {17 * 3600, 0.33}, {18 * 3600, 0.38}, {19 * 3600, 0.35},
    {20 * 3600, 0.28}, {21 * 3600, 0.22}, {22 * 3600, 0.18}, {23 * 3600, 0.15}};

const smart_sim_price_t *smart_sim_default_prices(int *n)
{
    *n = 24;
    return default_prices;
}

void smart_sim_config_default(smart_sim_config_t *c)
{
    memset(c, 0, sizeof *c);
    c->seed = 1;
    c->n_evses = 50;
    c->grid_kw = 150;
    c->step_s = 60;
    c->dr_kw = -1;
}

/* ---------------------------------------------------------------- state */

typedef struct session {
    int car; /* index into cars */
    int evse;
    double need_wh; /* requested at arrival */
    double delivered_wh;
    double soc;
    double grant_a, draw_a;
} session_t;

typedef struct sim {
    const smart_sim_config_t *cfg;
    smart_sim_policy_t policy;
    sim_site_t site;
    sim_car_t *cars;
    int n_cars, next_car;
    session_t *sessions; /* one per car that found an EVSE, arrival order */
    int n_sessions;
    int *at_evse; /* session index per EVSE, -1 when free */
    smart_node_t *nodes;
    smart_evse_t *evses;
    smart_grant_t *grants;
    double *plan; /* TOU: n_evses x PLAN_SLOTS */
    bool replan;
    smart_workspace_t *ws;
    const smart_sim_price_t *prices;
    int n_prices;
} sim_t;

static double price_at(const sim_t *s, int64_t t)
{
    int64_t tod = ((t % 86400) + 86400) % 86400;
    double p = s->prices[s->n_prices - 1].price; /* before the first entry: yesterday's last */
    for (int k = 0; k < s->n_prices && s->prices[k].at <= tod; k++)
        p = s->prices[k].price;
    return p;
}

static bool in_dr(const smart_sim_config_t *c, int64_t t)
{
    if (c->dr_kw < 0) return false;
    int64_t tod = ((t % 86400) + 86400) % 86400;
    if (c->dr_start <= c->dr_end) return tod >= c->dr_start && tod < c->dr_end;
    return tod >= c->dr_start || tod < c->dr_end; /* across midnight */
}

static double grid_limit_a(const sim_t *s, int64_t t)
{
    double a = s->site.grid_limit_a;
    if (in_dr(s->cfg, t)) {
        double dr = s->cfg->dr_kw * 1000 / (3 * SIM_VOLTAGE_V);
        if (dr < a) a = dr;
    }
    return a;
}

/* Nodes: 0 the grid connection, 1.. the feeders. */
static void build_nodes(sim_t *s, int64_t t)
{
    double g = grid_limit_a(s, t);
    s->nodes[0] = (smart_node_t){-1, {g, g, g}, {0, 0, 0}};
    for (int f = 0; f < s->site.n_feeders; f++) {
        double a = s->site.feeder_limit_a;
        s->nodes[1 + f] = (smart_node_t){0, {a, a, a}, {0, 0, 0}};
    }
}

static void build_evses(sim_t *s, int64_t t)
{
    for (int i = 0; i < s->site.n_evses; i++) {
        const sim_evse_t *se = &s->site.evses[i];
        smart_evse_t *e = &s->evses[i];
        memset(e, 0, sizeof *e);
        e->node = 1 + se->feeder;
        for (int k = 0; k < 3; k++)
            e->phase_of[k] = (uint8_t)((k + se->rotation) % 3);
        e->voltage_v = SIM_VOLTAGE_V;
        e->draw_a = -1;
        int si = s->at_evse[i];
        if (si < 0) continue;
        session_t *ss = &s->sessions[si];
        const sim_car_t *car = &s->cars[ss->car];
        double left = ss->need_wh - ss->delivered_wh;
        if (left <= 1e-9) continue; /* full: plugged but not charging */
        e->active = true;
        e->phases = car->phases < se->phases ? car->phases : se->phases;
        e->min_a = MIN_A;
        e->max_a = car->max_a < se->max_a ? car->max_a : se->max_a;
        e->draw_a = ss->draw_a;
        e->granted_a = ss->grant_a;
        e->priority = car->priority;
        e->need_wh = left;
        e->departure = T0 + car->depart;
    }
}

/* ------------------------------------------------------------- arrivals */

static void arrive_and_leave(sim_t *s, int64_t t, smart_sim_result_t *r)
{
    for (int i = 0; i < s->site.n_evses; i++) {
        int si = s->at_evse[i];
        if (si >= 0 && s->cars[s->sessions[si].car].depart <= t) {
            s->at_evse[i] = -1;
            s->replan = true;
        }
    }
    for (; s->next_car < s->n_cars && s->cars[s->next_car].arrive <= t; s->next_car++) {
        int n = s->site.n_evses, start = (s->next_car * 7) % n, evse = -1;
        for (int k = 0; k < n && evse < 0; k++)
            if (s->at_evse[(start + k) % n] < 0) evse = (start + k) % n;
        if (evse < 0) {
            r->turned_away++;
            continue;
        }
        const sim_car_t *car = &s->cars[s->next_car];
        session_t *ss = &s->sessions[s->n_sessions];
        *ss = (session_t){.car = s->next_car,
                          .evse = evse,
                          .need_wh = (car->target_soc - car->soc) * car->battery_wh,
                          .soc = car->soc,
                          .draw_a = -1};
        s->at_evse[evse] = s->n_sessions++;
        s->replan = true;
    }
}

/* --------------------------------------------------------------- policy */

/* TOU plans to finish one slot early: a plan assumes full acceptance, and
 * the tapering end of a charge takes longer than planned. */
static void plan_margin(sim_t *s, int64_t t)
{
    for (int i = 0; i < s->site.n_evses; i++) {
        smart_evse_t *e = &s->evses[i];
        if (e->active && e->departure - SLOT_S > T0 + t + SLOT_S) e->departure -= SLOT_S;
    }
}

static int plan_tou(sim_t *s, int64_t t, const smart_problem_t *p, char *err, size_t err_len)
{
    int64_t slot0 = t - t % SLOT_S;
    smart_slot_t slots[PLAN_SLOTS];
    for (int k = 0; k < PLAN_SLOTS; k++) {
        int64_t a = slot0 + (int64_t)k * SLOT_S;
        /* the lowest limit anywhere in the slot (a window may start mid-slot) */
        double lim = grid_limit_a(s, a);
        for (int64_t u = a; u < a + SLOT_S; u += 60)
            if (grid_limit_a(s, u) < lim) lim = grid_limit_a(s, u);
        slots[k] = (smart_slot_t){T0 + a, {lim, lim, lim}, price_at(s, a)};
    }
    if (smart_schedule(s->ws, p, slots, PLAN_SLOTS, SLOT_S, s->plan, NULL, NULL) !=
        SMART_ALLOC_OK) {
        snprintf(err, err_len, "smart_schedule rejected the site");
        return -1;
    }
    s->replan = false;
    return 0;
}

static int allocate(sim_t *s, int64_t t, char *err, size_t err_len)
{
    static const smart_policy_t map[] = {SMART_POLICY_EQUAL, SMART_POLICY_PRIORITY,
                                         SMART_POLICY_DEADLINE, SMART_POLICY_DEADLINE};
    build_nodes(s, t);
    build_evses(s, t);
    smart_problem_t p = {s->nodes,        1 + s->site.n_feeders, s->evses,
                         s->site.n_evses, map[s->policy],        T0 + t};
    if (s->policy == SMART_SIM_TOU) {
        plan_margin(s, t);
        if ((s->replan || t % SLOT_S == 0) && plan_tou(s, t, &p, err, err_len)) return -1;
        for (int i = 0; i < s->site.n_evses; i++)
            s->grants[i] = (smart_grant_t){s->evses[i].active ? s->plan[i * PLAN_SLOTS] : 0, false};
        return 0;
    }
    if (smart_allocate(s->ws, &p, s->grants) != SMART_ALLOC_OK) {
        snprintf(err, err_len, "smart_allocate rejected the site");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------- charging */

/* Cars draw for one step; returns the site's energy in Wh and fills the
 * per-link loads (node * 3 + grid phase) in A. */
static double charge(sim_t *s, double dt, double *load)
{
    double site_wh = 0;
    memset(load, 0, sizeof(double) * 3 * (size_t)(1 + s->site.n_feeders));
    for (int i = 0; i < s->site.n_evses; i++) {
        int si = s->at_evse[i];
        if (si < 0) continue;
        session_t *ss = &s->sessions[si];
        const smart_evse_t *e = &s->evses[i];
        ss->grant_a = s->grants[i].current_a;
        ss->draw_a = 0;
        if (!e->active || ss->grant_a <= 0) continue;
        const sim_car_t *car = &s->cars[ss->car];
        double a = sim_model_accept_a(car, ss->soc);
        if (ss->grant_a < a) a = ss->grant_a;
        double w_per_a = e->phases * SIM_VOLTAGE_V, wh = a * w_per_a * dt / 3600;
        double left = ss->need_wh - ss->delivered_wh;
        if (wh > left) wh = left, a = wh * 3600 / (dt * w_per_a); /* stops when full */
        ss->draw_a = a;
        ss->delivered_wh += wh;
        ss->soc += wh / car->battery_wh;
        site_wh += wh;
        for (int k = 0; k < e->phases; k++) {
            load[e->phase_of[k]] += a;
            load[e->node * 3 + e->phase_of[k]] += a;
        }
    }
    return site_wh;
}

/* The margin left on the tightest limit; negative when one is exceeded. */
static double margin(const sim_t *s, const double *load)
{
    double m = INFINITY;
    for (int v = 0; v < 1 + s->site.n_feeders; v++)
        for (int k = 0; k < 3; k++) {
            double spare = s->nodes[v].limit_a[k] - load[v * 3 + k];
            if (spare < m) m = spare;
        }
    return m;
}

/* -------------------------------------------------------------- metrics */

static void finish(sim_t *s, smart_sim_result_t *r)
{
    double sx = 0, sxx = 0;
    r->sessions = s->n_sessions;
    r->need_wh = xcalloc((size_t)s->n_sessions + 1, sizeof *r->need_wh);
    r->delivered_wh = xcalloc((size_t)s->n_sessions + 1, sizeof *r->delivered_wh);
    for (int k = 0; k < s->n_sessions; k++) {
        const session_t *ss = &s->sessions[k];
        double x = ss->delivered_wh / ss->need_wh;
        r->need_wh[k] = ss->need_wh;
        r->delivered_wh[k] = ss->delivered_wh;
        r->requested_kwh += ss->need_wh / 1000;
        r->delivered_kwh += ss->delivered_wh / 1000;
        if (ss->need_wh - ss->delivered_wh < 1e-6 * ss->need_wh + 1e-6) r->served++;
        sx += x, sxx += x * x;
    }
    r->jain = s->n_sessions && sxx > 0 ? sx * sx / (s->n_sessions * sxx) : 1;
}

static void sim_free(sim_t *s)
{
    sim_site_free(&s->site);
    free(s->cars);
    free(s->sessions);
    free(s->at_evse);
    free(s->nodes);
    free(s->evses);
    free(s->grants);
    free(s->plan);
    smart_workspace_free(s->ws);
}

static int sim_init(sim_t *s, const smart_sim_config_t *c, smart_sim_policy_t policy, char *err,
                    size_t err_len)
{
    memset(s, 0, sizeof *s);
    if (c->n_evses < 1 || c->n_evses > 100000 || !(c->grid_kw > 0) || c->step_s < 1 ||
        c->step_s > SLOT_S || SLOT_S % c->step_s || (unsigned)policy >= SMART_SIM_N_POLICIES) {
        snprintf(err, err_len,
                 "bad simulation settings (evses 1..100000, grid kW > 0, step a "
                 "divisor of 900 s)");
        return -1;
    }
    s->cfg = c;
    s->policy = policy;
    s->prices = c->prices ? c->prices : default_prices;
    s->n_prices = c->prices ? c->n_prices : 24;
    if (s->n_prices < 1) {
        snprintf(err, err_len, "empty price schedule");
        return -1;
    }
    sim_site_init(&s->site, c->n_evses, c->grid_kw);
    s->n_cars = sim_model_cars(c->seed, c->n_evses, &s->cars);
    s->sessions = xcalloc((size_t)s->n_cars + 1, sizeof *s->sessions);
    s->at_evse = xmalloc((size_t)c->n_evses * sizeof *s->at_evse);
    for (int i = 0; i < c->n_evses; i++)
        s->at_evse[i] = -1;
    s->nodes = xcalloc((size_t)s->site.n_feeders + 1, sizeof *s->nodes);
    s->evses = xcalloc((size_t)c->n_evses, sizeof *s->evses);
    s->grants = xcalloc((size_t)c->n_evses, sizeof *s->grants);
    s->plan = xcalloc((size_t)c->n_evses * PLAN_SLOTS, sizeof *s->plan);
    s->ws = smart_workspace_new();
    return 0;
}

int smart_sim_run(const smart_sim_config_t *c, smart_sim_policy_t policy, smart_sim_result_t *r,
                  char *err, size_t err_len)
{
    sim_t s;
    memset(r, 0, sizeof *r);
    if (sim_init(&s, c, policy, err, err_len)) return -1;
    int rc = -1;
    int64_t end = 86400;
    for (int k = 0; k < s.n_cars; k++)
        if (s.cars[k].depart > end) end = s.cars[k].depart;
    end = (end + SLOT_S - 1) / SLOT_S * SLOT_S;
    r->policy = policy;
    r->step_s = c->step_s;
    r->n_steps = (int)(end / c->step_s);
    r->load_kw = xcalloc((size_t)r->n_steps, sizeof *r->load_kw);
    r->limit_kw_t = xcalloc((size_t)r->n_steps, sizeof *r->limit_kw_t);
    r->limit_kw = c->grid_kw;
    r->peak_dr_kw = c->dr_kw >= 0 ? 0 : -1;
    r->min_margin_a = INFINITY;
    double *load = xcalloc(3 * ((size_t)s.site.n_feeders + 1), sizeof *load);
    for (int step = 0; step < r->n_steps; step++) {
        int64_t t = (int64_t)step * c->step_s;
        arrive_and_leave(&s, t, r);
        if (allocate(&s, t, err, err_len)) goto fail;
        double wh = charge(&s, c->step_s, load), kw = wh * 3600 / c->step_s / 1000;
        double m = margin(&s, load);
        if (m < -1e-6) {
            snprintf(err, err_len, "%s: a limit was exceeded by %.6f A at %02d:%02d (bug)",
                     smart_sim_policy_name(policy), -m, (int)(t / 3600) % 24, (int)(t / 60) % 60);
            goto fail;
        }
        if (m < r->min_margin_a) r->min_margin_a = m;
        r->load_kw[step] = kw;
        r->limit_kw_t[step] = grid_limit_a(&s, t) * 3 * SIM_VOLTAGE_V / 1000;
        if (kw > r->peak_kw) r->peak_kw = kw;
        if (in_dr(c, t) && kw > r->peak_dr_kw) r->peak_dr_kw = kw;
        r->cost += wh / 1000 * price_at(&s, t);
    }
    finish(&s, r);
    rc = 0;
fail:
    free(load);
    sim_free(&s);
    if (rc) smart_sim_result_free(r);
    return rc;
}

void smart_sim_result_free(smart_sim_result_t *r)
{
    free(r->load_kw);
    free(r->limit_kw_t);
    free(r->need_wh);
    free(r->delivered_wh);
    memset(r, 0, sizeof *r);
}

/* ----------------------------------------------------------------- input */

static int parse_hhmm(const char *p, int64_t *out, const char **end)
{
    int h, m, n = 0;
    if (sscanf(p, "%2d:%2d%n", &h, &m, &n) != 2 || h < 0 || h > 24 || m < 0 || m > 59 ||
        (h == 24 && m))
        return -1;
    *out = h * 3600 + m * 60;
    if (end) *end = p + n;
    return 0;
}

int smart_sim_prices_parse(const char *text, smart_sim_price_t **out, char *err, size_t err_len)
{
    int n = 0, cap = 0, line = 0;
    smart_sim_price_t *v = NULL;
    for (const char *p = text; *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        char buf[128];
        line++;
        snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf ? len : sizeof buf - 1), p);
        p += len + (eol ? 1 : 0);
        char *s = buf;
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s || *s == '#' || *s == '\r' || (line == 1 && (*s < '0' || *s > '9'))) continue;
        int64_t at;
        const char *rest;
        char *after;
        if (parse_hhmm(s, &at, &rest) || *rest != ',') goto bad;
        double price = strtod(rest + 1, &after);
        while (*after == ' ' || *after == '\r' || *after == '\t')
            after++;
        if (after == rest + 1 || *after || !isfinite(price) || at >= 86400) goto bad;
        if (n && at <= v[n - 1].at) goto bad;
        if (n == cap) v = xrealloc(v, (size_t)(cap = cap ? 2 * cap : 32) * sizeof *v);
        v[n++] = (smart_sim_price_t){at, price};
    }
    if (n == 0) {
        snprintf(err, err_len, "the price file has no \"HH:MM,price\" line");
        free(v);
        return -1;
    }
    *out = v;
    return n;
bad:
    snprintf(err, err_len, "price file line %d: expected \"HH:MM,price\" with times ascending",
             line);
    free(v);
    return -1;
}

int smart_sim_dr_parse(const char *spec, smart_sim_config_t *c, char *err, size_t err_len)
{
    const char *p;
    char *end;
    int64_t a, b;
    if (parse_hhmm(spec, &a, &p) || *p != '-' || parse_hhmm(p + 1, &b, &p) || *p != '=') goto bad;
    double kw = strtod(p + 1, &end);
    if (end == p + 1 || !isfinite(kw) || kw < 0 || a == b) goto bad;
    if (strcmp(end, "kW") != 0 && strcmp(end, "kw") != 0 && *end) goto bad;
    c->dr_start = a % 86400;
    c->dr_end = b % 86400;
    c->dr_kw = kw;
    return 0;
bad:
    snprintf(err, err_len, "--dr wants HH:MM-HH:MM=NkW, e.g. 17:00-19:00=80kW");
    return -1;
}
