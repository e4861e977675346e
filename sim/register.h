/*
 * Registering the simulated stations (and one id token per connector, so
 * Authorize succeeds) through the server's HTTP API before a run: the
 * server refuses stations it does not know. Requests go out `concurrency`
 * at a time on the same loop; 201 and 409 (already there) both count as
 * done, so a second run against the same server costs little.
 *
 * Cost on the server: each station with a password is an argon2id hash
 * (about 1 ms at the defaults), so 20,000 stations take tens of seconds.
 */
#ifndef AMPGRID_SIM_REGISTER_H
#define AMPGRID_SIM_REGISTER_H

#include "net/net_client.h"
#include "sim/sim.h"

typedef struct sim_register_result {
    uint64_t stations_ok, tokens_ok, errors;
    char first_error[200];
} sim_register_result_t;

typedef struct sim_register sim_register_t;
typedef void (*sim_register_done_cb)(void *ud, const sim_register_result_t *r);

/* Starts registering every station of s; cb runs once when all are done. */
sim_register_t *sim_register_start(net_client_t *nc, const sim_t *s, sim_register_done_cb cb,
                                   void *ud);
void sim_register_free(sim_register_t *r);

#endif
