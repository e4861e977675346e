/*
 * The electrical model behind a simulated session: an EV with a battery of a
 * random size and state of charge, charging on three-phase AC at up to 11 or
 * 22 kW, tapering above 80 % SoC, capped by the limit the server's charging
 * profiles set now (the connector's limit_w, from profiles.h; negative =
 * none). Advancing it integrates energy; sampling it gives what a real meter
 * reports (energy register, power, current and voltage per phase, SoC),
 * so the server's storage and parsing see realistic, consistent numbers
 * (power = sum of V x I x pf over the phases; the register never goes back).
 */
#ifndef AMPGRID_SIM_METER_H
#define AMPGRID_SIM_METER_H

#include "sim/sim.h"

typedef struct sim_sample {
    double energy_wh; /* the connector's import register (monotonic) */
    double power_w;
    double current_a[3];
    double voltage_v[3];
    double soc; /* percent */
} sim_sample_t;

/* A new EV plugged in: draws its battery, SoC and the charger's maximum power. */
void sim_meter_plug(sim_t *s, sim_connector_t *k, uint64_t now_ms);
/* Integrates energy and SoC from last_sample_ms up to now_ms. */
void sim_meter_advance(sim_connector_t *k, uint64_t now_ms);
/* What the meter shows now (after sim_meter_advance). */
void sim_meter_sample(sim_t *s, const sim_connector_t *k, sim_sample_t *out);
/* The power the EV draws now, given SoC, the charger and the limit. */
double sim_meter_power(const sim_connector_t *k);

#endif
