/* Scenario phases and the schedule behind them; see scenario.h. */
#include "sim/scenario.h"

#include <math.h>
#include <string.h>

const char *const sim_phase_names[] = {"ramp", "settle", "run", "storm", "stop", "done"};

static const char *const names[] = {"connect", "storm", "sessions", "throughput", "mixed"};

int sim_scenario_parse(const char *name)
{
    for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
        if (strcmp(names[i], name) == 0) return i;
    return -1;
}

const char *sim_scenario_name(sim_scenario_kind_t k)
{
    return names[k];
}

/* ------------------------------------------------------------ schedule */

uint64_t sim_scenario_ramp_at_ms(const sim_config_t *c, unsigned i)
{
    if (c->ramp_rate <= 0) return 0;
    return (uint64_t)((double)i * 1000.0 / c->ramp_rate);
}

/* Arrivals by hour (home and workplace charging): quiet at night, a
 * morning peak at work, a larger evening peak at home. Averages 1.0. */
static const double hourly[24] = {0.25, 0.15, 0.10, 0.10, 0.15, 0.35, 0.80, 1.60,
                                  1.90, 1.60, 1.20, 1.10, 1.20, 1.10, 1.00, 1.10,
                                  1.40, 1.80, 2.00, 1.80, 1.40, 1.00, 0.60, 0.40};

double sim_scenario_day_weight(double hour)
{
    static double norm;
    if (norm == 0) {
        double sum = 0;
        for (int i = 0; i < 24; i++)
            sum += hourly[i];
        norm = sum / 24.0;
    }
    int h = (int)floor(hour);
    h = ((h % 24) + 24) % 24;
    return hourly[h] / norm;
}

double sim_scenario_hour(const sim_t *s)
{
    double day = s->cfg.day_s > 0 ? s->cfg.day_s : s->cfg.duration_s;
    if (day <= 0 || s->now_ms < s->sc.run_from_ms) return 0;
    double t = (double)(s->now_ms - s->sc.run_from_ms) / 1000.0;
    return fmod(t / day * 24.0, 24.0);
}

uint64_t sim_scenario_session_ms(sim_t *s)
{
    /* exponential around the mean, but no EV leaves within 10 % of it */
    double mean = s->cfg.session_s * 1000.0;
    return (uint64_t)(0.1 * mean + sim_rand_exp(s, 0.9 * mean));
}

uint64_t sim_scenario_idle_ms(sim_t *s)
{
    /* Little's law per connector: charging share f = D / (D + idle), so the
     * mean idle gap is D (1 - f) / f, scaled by the time of day in mixed. */
    double f = s->cfg.charging > 0.001 ? s->cfg.charging : 0.001;
    if (f > 0.999) f = 0.999;
    double mean = s->cfg.session_s * 1000.0 * (1.0 - f) / f;
    if (s->cfg.scenario == SIM_SC_MIXED) mean /= sim_scenario_day_weight(sim_scenario_hour(s));
    return (uint64_t)sim_rand_exp(s, mean) + 1;
}

/* -------------------------------------------------------------- phases */

static void enter(sim_t *s, sim_phase_t p)
{
    s->sc.phase = p;
    s->sc.phase_at_ms = s->now_ms;
}

static double in_phase_s(const sim_t *s)
{
    return (double)(s->now_ms - s->sc.phase_at_ms) / 1000.0;
}

void sim_scenario_start(sim_t *s)
{
    memset(&s->sc, 0, sizeof s->sc);
    s->accepting_new_work = true;
    enter(s, SIM_PH_RAMP);
    sim_scenario_tick(s);
}

static void ramp(sim_t *s)
{
    uint64_t horizon = s->now_ms + SIM_SCENARIO_TICK_MS;
    while (s->sc.started < s->nstations) {
        uint64_t at = s->sc.phase_at_ms + sim_scenario_ramp_at_ms(&s->cfg, s->sc.started);
        if (at >= horizon && s->sc.started > 0) break;
        sim_station_start(&s->stations[s->sc.started], at > s->now_ms ? at - s->now_ms : 0);
        s->sc.started++;
    }
}

/* The measured part starts: counters and the mixed day's clock from here. */
static void measure_from_now(sim_t *s)
{
    enter(s, SIM_PH_RUN);
    s->sc.run_from_ms = s->now_ms;
    s->sc.meter_ok_at_run_start = s->stats.msg[SIM_MSG_METER].out[SIM_OUT_OK];
    s->sc.msgs_at_run_start = sim_stats_total_sent(&s->stats);
}

static bool warms_up(const sim_t *s)
{
    return s->cfg.warmup_s > 0 && (s->cfg.scenario == SIM_SC_CONNECT ||
                                   s->cfg.scenario == SIM_SC_SESSIONS ||
                                   s->cfg.scenario == SIM_SC_MIXED);
}

/* Sessions and mixed begin with a share of the connectors starting at once,
 * connect with every station's first status reports; with --warmup the
 * network first runs that long (phase "settle"), so the measured part is the
 * steady state rather than the start of every session or the boots' wake. */
static void begin_run(sim_t *s)
{
    if (warms_up(s)) {
        enter(s, SIM_PH_SETTLE);
        s->sc.run_from_ms = s->now_ms;
    } else {
        measure_from_now(s);
    }
    for (unsigned i = 0; i < s->nstations; i++) {
        if (s->cfg.scenario == SIM_SC_SESSIONS || s->cfg.scenario == SIM_SC_MIXED)
            sim_session_begin_arrivals(&s->stations[i]);
        else if (s->cfg.scenario == SIM_SC_THROUGHPUT)
            sim_session_pump_throughput(&s->stations[i]);
    }
}

static void begin_stop(sim_t *s)
{
    if (s->sc.phase == SIM_PH_RUN || s->sc.phase == SIM_PH_STORM) {
        s->sc.run_to_ms = s->now_ms;
        s->sc.meter_ok_at_run_end = s->stats.msg[SIM_MSG_METER].out[SIM_OUT_OK];
        s->sc.msgs_at_run_end = sim_stats_total_sent(&s->stats);
    }
    enter(s, SIM_PH_STOP);
    s->accepting_new_work = false;
    for (unsigned i = 0; i < s->nstations; i++) {
        sim_station_t *st = &s->stations[i];
        for (unsigned c = 0; c < st->nconn; c++)
            sim_session_stop(&st->conn_[c], SIM_STOP_LOCAL);
    }
}

/* Nothing in flight and nothing queued (a station offline with a queued
 * stop still counts: it may reconnect within the drain time). */
static bool all_quiet(const sim_t *s)
{
    if (sim_stats_unsettled(&s->stats) != 0) return false;
    for (unsigned i = 0; i < s->nstations; i++)
        if (s->stations[i].queue_head) return false;
    return true;
}

static void finish(sim_t *s)
{
    for (unsigned i = 0; i < s->nstations; i++) {
        sim_station_abandon_calls(&s->stations[i]);
        sim_station_stop(&s->stations[i]);
    }
    enter(s, SIM_PH_DONE);
}

static void storm(sim_t *s)
{
    enter(s, SIM_PH_STORM);
    s->sc.storm_at_ms = s->now_ms;
    s->sc.storm_dropped = 0;
    for (unsigned i = 0; i < s->nstations; i++) {
        sim_station_t *st = &s->stations[i];
        if (st->link != SIM_LINK_READY) continue;
        s->sc.storm_dropped++;
        sim_station_drop(st, (uint64_t)(sim_rand01(s) * s->cfg.storm_spread_ms));
    }
}

static void after_ramp(sim_t *s)
{
    switch (s->cfg.scenario) {
    case SIM_SC_STORM:
    case SIM_SC_THROUGHPUT:
        enter(s, SIM_PH_SETTLE);
        break;
    default:
        begin_run(s);
        break;
    }
    if (s->cfg.scenario == SIM_SC_THROUGHPUT)
        for (unsigned i = 0; i < s->nstations; i++)
            if (s->stations[i].link == SIM_LINK_READY)
                sim_session_start(&s->stations[i].conn_[0], NULL, false);
}

/* Mixed: now and then a station loses its link (a mobile network blip) and
 * comes back a few seconds later: about one blip per station per day. */
static void blips(sim_t *s)
{
    double day = s->cfg.day_s > 0 ? s->cfg.day_s : s->cfg.duration_s;
    if (day <= 0 || s->nstations == 0) return;
    s->sc.blip_acc += (double)s->nstations * (SIM_SCENARIO_TICK_MS / 1000.0) / day;
    while (s->sc.blip_acc >= 1.0) {
        s->sc.blip_acc -= 1.0;
        sim_station_t *st = &s->stations[sim_rand(s) % s->nstations];
        if (st->link == SIM_LINK_READY)
            sim_station_drop(st, 2000 + (uint64_t)(sim_rand01(s) * 8000));
    }
}

/* Throughput set-up is over when no station is still starting its session
 * (a refused one stays Available and simply does not take part). */
static bool sessions_started(const sim_t *s)
{
    for (unsigned i = 0; i < s->nstations; i++)
        if (s->stations[i].link == SIM_LINK_READY &&
            s->stations[i].conn_[0].state == SIM_CS_PREPARING)
            return false;
    return true;
}

void sim_scenario_tick(sim_t *s)
{
    sim_scenario_state_t *sc = &s->sc;
    switch (sc->phase) {
    case SIM_PH_RAMP:
        ramp(s);
        if (sc->ramp_complete) {
            after_ramp(s);
        } else if (in_phase_s(s) > s->cfg.ramp_timeout_s) {
            after_ramp(s); /* go on with whoever made it; the report says so */
        }
        break;
    case SIM_PH_SETTLE:
        if (s->cfg.scenario == SIM_SC_STORM && in_phase_s(s) >= 1.0)
            storm(s);
        else if (s->cfg.scenario == SIM_SC_THROUGHPUT &&
                 (sessions_started(s) || in_phase_s(s) > 30.0))
            begin_run(s);
        else if (warms_up(s) && in_phase_s(s) >= s->cfg.warmup_s)
            measure_from_now(s);
        break;
    case SIM_PH_RUN:
        if (s->cfg.scenario == SIM_SC_MIXED) blips(s);
        if (in_phase_s(s) >= s->cfg.duration_s) begin_stop(s);
        break;
    case SIM_PH_STORM:
        if (sc->storm_done_ms || in_phase_s(s) >= s->cfg.duration_s) begin_stop(s);
        break;
    case SIM_PH_STOP:
        if (all_quiet(s) || in_phase_s(s) >= s->cfg.drain_s) finish(s);
        break;
    case SIM_PH_DONE:
        break;
    }
}

bool sim_scenario_done(const sim_t *s)
{
    return s->sc.phase == SIM_PH_DONE && s->open_now == 0;
}

void sim_scenario_on_ready(sim_t *s, sim_station_t *st)
{
    if (s->sc.phase == SIM_PH_RAMP && !s->sc.ramp_complete && s->ready_now == s->nstations &&
        s->sc.started == s->nstations) {
        s->sc.ramp_done_ms = s->now_ms; /* exact, not rounded to the scenario tick */
        s->sc.ramp_complete = true;
    }
    if (s->sc.phase == SIM_PH_STORM && st->in_storm) {
        if (++s->sc.storm_recovered == s->sc.storm_dropped) s->sc.storm_done_ms = s->now_ms;
    }
    st->in_storm = false;
    if (s->sc.phase == SIM_PH_RUN && s->cfg.scenario == SIM_SC_THROUGHPUT)
        sim_session_start(&st->conn_[0], NULL, false);
    else if (s->sc.phase == SIM_PH_SETTLE && s->cfg.scenario == SIM_SC_THROUGHPUT)
        sim_session_start(&st->conn_[0], NULL, false);
}

void sim_scenario_on_lost(sim_t *s, sim_station_t *st, bool was_ready, bool unexpected)
{
    if (unexpected && was_ready && (s->sc.phase == SIM_PH_RUN || s->sc.phase == SIM_PH_STORM))
        s->sc.disturbed++;
}
