/*
 * The simulation model (sim_model.h). The figures are plausible rather than
 * measured: a mixed workplace/retail site. Arrivals are a Poisson process
 * whose hourly rate has a commuter peak at 8:00, a retail plateau and an
 * evening bump (about 80 cars a day per 50 EVSEs); the arrival hour picks a
 * log-normal dwell time (commuters ~8 h, daytime visitors ~2 h, evening ~3 h);
 * batteries of 40-90 kWh arrive at 30-75 % and want 80 % (70 % of drivers)
 * or 100 %, but no more than the car could take in 80 % of its stay at its
 * own full rate; cars
 * charge on one phase (30 %) or three, at 16 or 32 A per phase.
 */
#include "smart/sim_model.h"
#include "util/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Expected arrivals per hour of the day for 50 EVSEs. */
static const double arrivals_per_hour[24] = {0.3, 0.2, 0.2, 0.2, 0.3, 0.5, 2, 6, 9, 6, 4,   4,
                                             5,   5,   4,   4,   5,   6,   6, 4, 3, 2, 1.5, 1};

typedef struct rng {
    uint64_t s;
} rng_t;

static uint64_t rng_next(rng_t *r) /* xorshift64* */
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545F4914F6CDD1DULL;
}

static double uniform(rng_t *r) /* [0, 1) */
{
    return (double)(rng_next(r) >> 11) / (double)(1ULL << 53);
}

static double normal(rng_t *r) /* Box-Muller */
{
    double u = uniform(r), v = uniform(r);
    return sqrt(-2 * log(1 - u)) * cos(2 * M_PI * v);
}

static int poisson(rng_t *r, double mean) /* Knuth; means here are small */
{
    double l = exp(-mean), p = 1;
    int k = 0;
    do {
        k++;
        p *= uniform(r);
    } while (p > l);
    return k - 1;
}

void sim_site_init(sim_site_t *s, int n_evses, double grid_kw)
{
    memset(s, 0, sizeof *s);
    s->n_evses = n_evses;
    s->n_feeders = n_evses > 1 ? 2 : 1;
    s->grid_limit_a = grid_kw * 1000 / (3 * SIM_VOLTAGE_V);
    /* each feeder carries up to two thirds of the connection */
    s->feeder_limit_a = s->grid_limit_a * 2 / 3;
    s->evses = xcalloc((size_t)n_evses, sizeof *s->evses);
    for (int i = 0; i < n_evses; i++) {
        sim_evse_t *e = &s->evses[i];
        int kind = i % 10; /* 30 % 7.4 kW, 40 % 11 kW, 30 % 22 kW */
        e->phases = kind < 3 ? 1 : 3;
        e->max_a = kind < 3 ? 32 : kind < 7 ? 16 : 32;
        e->station = i / 2;
        e->rotation = (uint8_t)(e->station % 3);
        e->feeder = i < (n_evses + 1) / 2 ? 0 : s->n_feeders - 1;
    }
}

void sim_site_free(sim_site_t *s)
{
    free(s->evses);
    s->evses = NULL;
}

static double dwell_hours(rng_t *r, int hour)
{
    double median = 3, sigma = 0.7;
    if (hour >= 6 && hour <= 9)
        median = 8, sigma = 0.3; /* commuters */
    else if (hour >= 10 && hour <= 15)
        median = 2, sigma = 0.6; /* visitors */
    double h = median * exp(sigma * normal(r));
    return h < 0.25 ? 0.25 : h > 14 ? 14 : h;
}

static sim_car_t draw_car(rng_t *r, int hour)
{
    sim_car_t c = {0};
    c.arrive = hour * 3600 + (int64_t)(uniform(r) * 3600);
    c.depart = c.arrive + (int64_t)(dwell_hours(r, hour) * 3600);
    c.battery_wh = 40000 + uniform(r) * 50000;
    c.soc = 0.3 + uniform(r) * 0.45;
    c.target_soc = uniform(r) < 0.7 ? 0.8 : 1.0;
    c.phases = uniform(r) < 0.3 ? 1 : 3;
    c.max_a = c.phases == 1 ? (uniform(r) < 0.6 ? 32 : 16) : (uniform(r) < 0.6 ? 16 : 32);
    double u = uniform(r);
    c.priority = u < 0.2 ? 2 : u < 0.5 ? 1 : 0;
    /* Drivers ask for what their stay makes plausible: at most what the car
     * would take in 80 % of it at its own full rate. */
    double max_wh = 0.8 * (double)(c.depart - c.arrive) / 3600 * c.max_a * c.phases * SIM_VOLTAGE_V;
    if ((c.target_soc - c.soc) * c.battery_wh > max_wh)
        c.target_soc = c.soc + max_wh / c.battery_wh;
    return c;
}

static int by_arrival(const void *a, const void *b) /* a total order: qsort need not be stable */
{
    const sim_car_t *x = a, *y = b;
    if (x->arrive != y->arrive) return (x->arrive > y->arrive) - (x->arrive < y->arrive);
    if (x->depart != y->depart) return (x->depart > y->depart) - (x->depart < y->depart);
    return (x->battery_wh > y->battery_wh) - (x->battery_wh < y->battery_wh);
}

int sim_model_cars(uint64_t seed, int n_evses, sim_car_t **out)
{
    rng_t r = {seed * 0x9E3779B97F4A7C15ULL + 1};
    int n = 0, cap = 64;
    sim_car_t *cars = xmalloc((size_t)cap * sizeof *cars);
    for (int h = 0; h < 24; h++) {
        int k = poisson(&r, arrivals_per_hour[h] * n_evses / 50.0);
        for (int j = 0; j < k; j++) {
            if (n == cap) cars = xrealloc(cars, (size_t)(cap *= 2) * sizeof *cars);
            cars[n++] = draw_car(&r, h);
        }
    }
    qsort(cars, (size_t)n, sizeof *cars, by_arrival);
    *out = cars;
    return n;
}

double sim_model_accept_a(const sim_car_t *c, double soc)
{
    if (soc < 0.8) return c->max_a;
    double f = 1 - 4.5 * (soc - 0.8);
    return c->max_a * (f < 0.1 ? 0.1 : f);
}
