/* The session's electrical model; see meter.h for what it promises. */
#include "sim/meter.h"

#include <math.h>

#define NOMINAL_V 230.0
#define POWER_FACTOR 0.99

void sim_meter_plug(sim_t *s, sim_connector_t *k, uint64_t now_ms)
{
    static const double capacities_kwh[] = {40, 58, 64, 77, 82, 100};
    k->capacity_wh = capacities_kwh[sim_rand(s) % 6] * 1000.0;
    k->soc = 10.0 + 50.0 * sim_rand01(s);
    k->max_power_w = sim_rand01(s) < 0.7 ? 11000.0 : 22000.0;
    k->last_sample_ms = now_ms;
    k->power_w = sim_meter_power(k);
}

double sim_meter_power(const sim_connector_t *k)
{
    double p = k->max_power_w;
    if (k->soc >= 100.0) return 0.0;
    if (k->soc > 80.0) p *= 1.0 - 0.9 * (k->soc - 80.0) / 20.0; /* CV phase taper */
    if (k->limit_w >= 0 && p > k->limit_w) p = k->limit_w;      /* < 0: no profile applies */
    return p;
}

void sim_meter_advance(sim_connector_t *k, uint64_t now_ms)
{
    if (now_ms <= k->last_sample_ms) return;
    double hours = (double)(now_ms - k->last_sample_ms) / 3600000.0;
    k->power_w = sim_meter_power(k);
    double wh = k->power_w * hours;
    k->energy_wh += wh;
    if (k->capacity_wh > 0) k->soc = fmin(100.0, k->soc + 100.0 * wh / k->capacity_wh);
    k->last_sample_ms = now_ms;
    k->power_w = sim_meter_power(k);
}

void sim_meter_sample(sim_t *s, const sim_connector_t *k, sim_sample_t *out)
{
    out->energy_wh = k->energy_wh;
    out->power_w = k->power_w;
    out->soc = k->soc;
    double sum_v = 0;
    for (int p = 0; p < 3; p++) {
        out->voltage_v[p] = NOMINAL_V * (0.98 + 0.04 * sim_rand01(s));
        sum_v += out->voltage_v[p];
    }
    /* Balanced load: the same current on each phase gives the power. */
    double i = k->power_w > 0 ? k->power_w / (sum_v * POWER_FACTOR) : 0.0;
    for (int p = 0; p < 3; p++)
        out->current_a[p] = i;
}
