/*
 * The station's local authorization list (SendLocalList, GetLocalListVersion):
 * a version number and the id tokens with their status, full replacements
 * and differential updates as both OCPP versions define them. The simulator
 * still authorizes online; the list is kept so the CSMS's list management
 * (versions, mismatches, capacity) meets a station that behaves.
 */
#ifndef AMPGRID_SIM_LOCAL_LIST_H
#define AMPGRID_SIM_LOCAL_LIST_H

#include "sim/sim.h"

#define SIM_LOCAL_LIST_MAX 1000 /* LocalAuthListMaxLength */

typedef enum sim_ll_answer {
    SIM_LL_ACCEPTED,
    SIM_LL_FAILED,           /* the list would exceed SIM_LOCAL_LIST_MAX */
    SIM_LL_VERSION_MISMATCH, /* a differential update not newer than the list */
} sim_ll_answer_t;

/* One entry of an update: status NULL removes the token (differential) or
 * skips the entry (full). */
typedef struct sim_ll_entry {
    const char *token;
    const char *status;
} sim_ll_entry_t;

sim_ll_answer_t sim_local_list_update(sim_station_t *st, int32_t version, bool full,
                                      const sim_ll_entry_t *e, size_t n);
/* 0 when the station has no list. */
int32_t sim_local_list_version(const sim_station_t *st);
size_t sim_local_list_size(const sim_station_t *st);
/* The token's status in the list, NULL when it is not there. */
const char *sim_local_list_status(const sim_station_t *st, const char *token);
void sim_local_list_free(sim_station_t *st);

#endif
