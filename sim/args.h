/*
 * ampgrid-sim's command line: flags to a sim_config_t, with every value
 * checked (ranges, loopback-only addresses) and a sentence for the user when
 * one is wrong. Separate from main so the tests can parse command lines.
 */
#ifndef AMPGRID_SIM_ARGS_H
#define AMPGRID_SIM_ARGS_H

#include "sim/sim.h"

#include <stddef.h>

typedef enum sim_args_rc {
    SIM_ARGS_OK = 0,
    SIM_ARGS_HELP,    /* --help: print the usage, exit 0 */
    SIM_ARGS_VERSION, /* --version */
    SIM_ARGS_ERROR,   /* err says what is wrong */
} sim_args_rc_t;

extern const char sim_usage[];

sim_args_rc_t sim_args_parse(int argc, char **argv, sim_config_t *cfg, char *err, size_t err_len);
/* Parses "127.0.0.1-127.0.0.8" or "127.0.0.1,127.0.0.5" into cfg->sources. */
int sim_args_sources(const char *spec, sim_config_t *cfg, char *err, size_t err_len);
/* Parses ws://HOST:PORT/PATH or wss://...; the host must be loopback. */
int sim_args_url(const char *url, sim_config_t *cfg, char *err, size_t err_len);

#endif
