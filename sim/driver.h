/*
 * Runs one simulation to its end on a fresh libuv loop with the real network
 * (net/net_client.h) and prints/writes the report. See driver.c.
 */
#ifndef AMPGRID_SIM_DRIVER_H
#define AMPGRID_SIM_DRIVER_H

#include "sim/sim.h"

/* Returns the process exit status: 0 when the run completed, 1 otherwise. */
int sim_driver_run(const sim_config_t *cfg);

#endif
