/*
 * One table per OCPP version: how a simulated station writes each
 * version-neutral message kind (sim_msg_t) on the wire, reads the facts it
 * needs from the answers, and answers the server's calls.
 *
 * Why a table: the station's behaviour (boot, heartbeat, sessions, back-off)
 * is the same in every version; only payloads differ. 1.6 lives in
 * proto_v16.c, 2.0.1 in proto_v201.c.
 * Every server call a version defines gets a valid answer: a handler per
 * action (each version's table), with the behaviour shared by both versions
 * in firmware.h, diagnostics.h, profiles.h, availability.h and local_list.h;
 * features a station may lack are answered as a station without them
 * answers. Should a version grow an action no table names, the smallest
 * payload its response definition accepts (sim_proto_minimal) answers it.
 */
#ifndef AMPGRID_SIM_PROTO_H
#define AMPGRID_SIM_PROTO_H

#include "ocpp/schema.h"
#include "sim/sim.h"

#include <jansson.h>

/* The facts a station takes from an answer. */
typedef struct sim_answer {
    const char *status; /* boot: registration status; authorize/start/stop: id token status */
    int interval;       /* boot: seconds */
    int64_t tx_id;      /* start: the CSMS's transaction id (1.6; 2.0.1 stations choose it) */
    bool has_tx_id;
} sim_answer_t;

struct sim_proto {
    const char *subprotocol;
    const ocpp_version_defs_t *defs;
    /* The version reports a status for the station as a whole (connector 0):
     * 1.6 does, 2.0.1 only has EVSEs and their connectors. */
    bool station_status;
    /* The action that carries a message kind. */
    const char *(*action)(sim_msg_t kind);
    /* Writes the JSON payload of call into b (appending). */
    void (*payload)(sim_station_t *st, const sim_call_t *call, strbuf_t *b);
    /* Reads a validated CALLRESULT payload. */
    void (*read_answer)(sim_msg_t kind, const json_t *payload, sim_answer_t *out);
    /* Answers a validated server CALL; returns a new reference. May queue
     * station work (it is sent after the answer). */
    json_t *(*answer)(sim_station_t *st, const char *action, const json_t *req);
    /* The version's CALLERROR code for an error class. */
    const char *(*err_name)(ocpp_err_t e);
};

extern const sim_proto_t sim_proto_v16;
extern const sim_proto_t sim_proto_v201;

/* The table for a subprotocol name, NULL when unknown. */
const sim_proto_t *sim_proto_find(const char *subprotocol);
/* The smallest payload that `fields` accepts: required fields only, enums
 * "Accepted" when allowed (else their first value), numbers at their minimum. */
json_t *sim_proto_minimal(const ocpp_field_t *fields, int64_t now_ms);

#endif
