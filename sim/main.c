/*
 * ampgrid-sim: a charging-station simulator and load generator for ampgrid
 * (or any OCPP 1.6J CSMS on this machine). Read sim/sim.h for the design;
 * this file only parses the command line and hands over to the driver.
 */
#include "sim/args.h"
#include "sim/driver.h"
#include "util/log.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    sim_config_t cfg;
    char err[300];
    switch (sim_args_parse(argc, argv, &cfg, err, sizeof err)) {
    case SIM_ARGS_HELP:
        fputs(sim_usage, stdout);
        return 0;
    case SIM_ARGS_VERSION:
        printf("ampgrid-sim %s\n", AMPGRID_VERSION);
        return 0;
    case SIM_ARGS_ERROR:
        fprintf(stderr, "ampgrid-sim: %s\n", err);
        return 2;
    case SIM_ARGS_OK:
        break;
    }
    log_set_level(LOG_WARN);
    return sim_driver_run(&cfg);
}
