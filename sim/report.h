/*
 * The report of a run: JSON for machines (bench/, the end-to-end test), text
 * for people. See report.c for the document's shape.
 */
#ifndef AMPGRID_SIM_REPORT_H
#define AMPGRID_SIM_REPORT_H

#include "sim/sim.h"

#include <jansson.h>
#include <stdio.h>

/* What the driver adds: the registration step's outcome, and for wss the
 * TLS handshakes (full or resumed) the stations completed. */
typedef struct sim_report_extra {
    uint64_t registered_stations, registered_tokens, register_errors;
    double register_s;
    bool tls, tls_resume;
    uint64_t tls_full, tls_resumed;
} sim_report_extra_t;

/* A new JSON tree (the caller decrefs); x may be NULL. */
json_t *sim_report_json(const sim_t *s, const sim_report_extra_t *x);
void sim_report_text(const sim_t *s, const sim_report_extra_t *x, FILE *f);

#endif
