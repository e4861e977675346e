/*
 * The random model behind `ampgrid smart-sim` (docs/load-management.md,
 * "The simulation model"): a site of EVSEs of 7.4 to 22 kW behind a grid
 * connection, and a day of cars arriving at it - when, for how long, how
 * much energy they want, how fast they can charge and how that tapers as
 * the battery fills. Everything is drawn from one seeded generator, so a
 * seed names a day exactly.
 */
#ifndef AMPGRID_SMART_SIM_MODEL_H
#define AMPGRID_SMART_SIM_MODEL_H

#include <stdint.h>

#define SIM_VOLTAGE_V 230.0

/* One EVSE of the simulated site. */
typedef struct sim_evse {
    int feeder;       /* index of its feeder */
    int station;      /* two EVSEs per station */
    uint8_t phases;   /* 1 or 3 */
    double max_a;     /* per phase */
    uint8_t rotation; /* 0..2: the station's phase rotation */
} sim_evse_t;

typedef struct sim_site {
    int n_evses, n_feeders;
    double grid_limit_a;   /* per phase, from the connection's kW */
    double feeder_limit_a; /* per phase */
    sim_evse_t *evses;     /* owned; sim_site_free */
} sim_site_t;

/* One car's visit. Times are seconds from the start of the day. */
typedef struct sim_car {
    int64_t arrive, depart;
    double battery_wh; /* capacity */
    double soc;        /* state of charge at arrival, 0..1 */
    double target_soc; /* what the driver wants at departure */
    uint8_t phases;    /* the car's charger: 1 or 3 */
    double max_a;      /* the car's charger, per phase */
    int priority;      /* 2 fleet, 1 member, 0 public */
} sim_car_t;

/* The default site scaled to n_evses behind grid_kw (n_evses >= 1). */
void sim_site_init(sim_site_t *s, int n_evses, double grid_kw);
void sim_site_free(sim_site_t *s);

/* Draws a day of arrivals for a site of n_evses, sorted by arrival time;
 * returns how many (*out is the caller's to free). */
int sim_model_cars(uint64_t seed, int n_evses, sim_car_t **out);

/* Per-phase current the car accepts at state of charge soc (charging curve:
 * full current up to 80 %, then tapering linearly to 10 % of it at 100 %). */
double sim_model_accept_a(const sim_car_t *c, double soc);

#endif
