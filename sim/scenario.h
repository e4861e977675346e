/*
 * Scenarios: what the simulated network does over time. Each scenario is a
 * short sequence of phases (sim_phase_t) driven by a tick every
 * SIM_SCENARIO_TICK_MS and by two station events (a boot accepted, a link
 * lost). The schedule itself (who starts when in a ramp, how long a session
 * lasts, how long a connector stays idle at a given time of the compressed
 * day) is a set of pure functions of the configuration, the clock and the
 * random stream, so the tests can check it without a network.
 *
 *   connect     RAMP -> RUN (hold for the duration) -> STOP -> DONE
 *   storm       RAMP -> SETTLE (1 s) -> STORM (all drop and reconnect at once;
 *               ends when every dropped station has booted again, or after
 *               the duration) -> STOP -> DONE
 *   sessions    RAMP -> RUN (sessions arrive so that `charging` of the
 *               connectors charge on average) -> STOP -> DONE
 *   throughput  RAMP -> SETTLE (one session per station) -> RUN (MeterValues
 *               back to back, `inflight` per station, each awaited) -> STOP
 *   mixed       RAMP -> RUN (a day compressed into day_s: arrivals follow a
 *               daily profile, a few stations lose their link now and then,
 *               heartbeats as the server asks) -> STOP -> DONE
 *
 * STOP ends every session (StopTransaction), waits up to drain_s for answers
 * in flight, then closes every connection; whatever is still unanswered is
 * counted as abandoned, so the report always balances.
 */
#ifndef AMPGRID_SIM_SCENARIO_H
#define AMPGRID_SIM_SCENARIO_H

#include "sim/sim.h"

#define SIM_SCENARIO_TICK_MS 100

/* Names for the command line and reports; -1 when unknown. */
int sim_scenario_parse(const char *name);
const char *sim_scenario_name(sim_scenario_kind_t k);

void sim_scenario_start(sim_t *s);
void sim_scenario_tick(sim_t *s);
bool sim_scenario_done(const sim_t *s);

/* Station events. */
void sim_scenario_on_ready(sim_t *s, sim_station_t *st);
void sim_scenario_on_lost(sim_t *s, sim_station_t *st, bool was_ready, bool unexpected);

/* The schedule (pure functions of config, clock and random stream). */
/* When station i (0-based) starts in the ramp, in ms after the ramp began. */
uint64_t sim_scenario_ramp_at_ms(const sim_config_t *c, unsigned i);
/* Relative arrival intensity at hour h (0..24) of the day; averages 1 over a day. */
double sim_scenario_day_weight(double hour);
/* How long an idle connector waits for its next EV now, in ms. */
uint64_t sim_scenario_idle_ms(sim_t *s);
/* How long a new session lasts, in ms. */
uint64_t sim_scenario_session_ms(sim_t *s);
/* The hour of the compressed day now (mixed), 0..24. */
double sim_scenario_hour(const sim_t *s);

#endif
