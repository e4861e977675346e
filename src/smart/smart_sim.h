/*
 * `ampgrid smart-sim`: replays a day of charging sessions (sim_model.h) on
 * a site through the allocator (alloc.h), one step at a time, once per
 * policy, and measures what each achieves: peak site load against the limit
 * (which must never be exceeded: the run fails if it is), energy delivered
 * against energy requested, the share of sessions fully served by departure,
 * Jain's fairness index and the cost under a price schedule. The command
 * prints a table or JSON and can draw the site load over the day as a PNG
 * (sim_chart.h). See docs/load-management.md.
 */
#ifndef AMPGRID_SMART_SMART_SIM_H
#define AMPGRID_SMART_SMART_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum smart_sim_policy {
    SMART_SIM_EQUAL = 0, /* smart_allocate, SMART_POLICY_EQUAL */
    SMART_SIM_PRIORITY,  /* smart_allocate, SMART_POLICY_PRIORITY */
    SMART_SIM_DEADLINE,  /* smart_allocate, SMART_POLICY_DEADLINE (least laxity first) */
    SMART_SIM_TOU,       /* smart_schedule: deadlines met in the cheapest slots */
    SMART_SIM_N_POLICIES
} smart_sim_policy_t;

const char *smart_sim_policy_name(smart_sim_policy_t p);

/* A price from `at` (seconds after midnight) until the next entry; the
 * schedule repeats every day. */
typedef struct smart_sim_price {
    int64_t at;
    double price; /* per kWh */
} smart_sim_price_t;

typedef struct smart_sim_config {
    uint64_t seed;
    int n_evses;                     /* 50 */
    double grid_kw;                  /* 150 */
    int step_s;                      /* 60 */
    const smart_sim_price_t *prices; /* sorted by at; NULL: the built-in day-ahead curve */
    int n_prices;
    int64_t dr_start, dr_end; /* seconds after midnight, every day */
    double dr_kw;             /* < 0: no demand-response window */
} smart_sim_config_t;

/* The defaults above. */
void smart_sim_config_default(smart_sim_config_t *c);

/* The built-in day-ahead-like curve (24 hourly prices). */
const smart_sim_price_t *smart_sim_default_prices(int *n);

typedef struct smart_sim_result {
    smart_sim_policy_t policy;
    int sessions, served, turned_away;
    double requested_kwh, delivered_kwh;
    double peak_kw, limit_kw; /* over the whole run */
    double peak_dr_kw;        /* highest load during demand response (-1: none) */
    double min_margin_a;      /* smallest spare current on any limit at any step */
    double jain;              /* over each session's delivered / requested */
    double cost;
    /* per step: site load and limit in kW (n_steps each) */
    int n_steps, step_s;
    double *load_kw, *limit_kw_t;
    /* per session, in arrival order */
    double *need_wh, *delivered_wh;
} smart_sim_result_t;

/* Runs the day under one policy. Returns 0, or -1 with a message in err
 * (bad configuration, or a limit exceeded, which would be a bug). */
int smart_sim_run(const smart_sim_config_t *c, smart_sim_policy_t policy, smart_sim_result_t *r,
                  char *err, size_t err_len);
void smart_sim_result_free(smart_sim_result_t *r);

/* Parses a price file: lines "HH:MM,price" (a header line and # comments are
 * skipped), times ascending. Returns the count (>= 1), or -1 with err. */
int smart_sim_prices_parse(const char *text, smart_sim_price_t **out, char *err, size_t err_len);

/* Parses "HH:MM-HH:MM=NkW" into c's demand-response window. */
int smart_sim_dr_parse(const char *spec, smart_sim_config_t *c, char *err, size_t err_len);

/* The `ampgrid smart-sim` command (argv[0] is "smart-sim"). */
int smart_sim_main(int argc, char **argv);

#endif
