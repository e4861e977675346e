/*
 * The OCPP-J RPC layer's per-connection session, shared by rpc.c and the
 * version translators (v16.c, later v201.c). Not for use outside ocpp/.
 *
 * A session is reference counted: the connection holds one reference and
 * every request still being handled (waiting for the store) holds one, so a
 * station that disconnects mid-request never leaves a dangling pointer. A
 * reply to a closed session is dropped.
 */
#ifndef AMPGRID_OCPP_RPC_H
#define AMPGRID_OCPP_RPC_H

#include "ocpp/frame.h"
#include "ocpp/ocpp.h"
#include "ocpp/schema.h"
#include "util/timewheel.h"

typedef struct ocpp_session ocpp_session_t;
typedef struct ocpp_incoming ocpp_incoming_t;

/* One station-initiated request being handled. */
struct ocpp_incoming {
    ocpp_session_t *sess;
    char id[OCPP_MSG_ID_MAX + 1];
    const ocpp_message_def_t *def;
    json_t *payload;          /* owned reference */
    uint64_t t0_ns;
};

typedef void (*ocpp_handler_fn)(ocpp_incoming_t *in, csms_station_t *st);
/* A version's fast path for its most frequent messages (see ocpp/stream.h):
 * handles the text of a frame without a JSON tree and returns true, or
 * returns false having done nothing (the ordinary path then takes it). Only
 * called for an operating (accepted) station. */
typedef bool (*ocpp_fast_fn)(ocpp_session_t *sess, csms_station_t *st, const char *data,
                             size_t len, uint64_t t0_ns);

typedef struct ocpp_handler {
    const char *action;
    ocpp_handler_fn fn;
} ocpp_handler_t;

/* One protocol version: its definitions, handlers and link operations. */
typedef struct ocpp_translator {
    const char *subprotocol;                 /* "ocpp1.6" */
    const ocpp_version_defs_t *defs;
    const ocpp_handler_t *handlers;          /* NULL-action terminated */
    const char *(*err_name)(ocpp_err_t e);   /* CALLERROR spelling */
    /* builds the payload that delivers a new Basic-auth password */
    const char *password_action;
    json_t *(*password_payload)(const char *password);
    /* the station's verdict on the new password, from its answer ("Accepted", ...) */
    const char *(*password_status)(const json_t *answer);
    ocpp_fast_fn fast; /* NULL: none */
} ocpp_translator_t;

extern const ocpp_translator_t ocpp_v16_translator;
extern const ocpp_translator_t ocpp_v201_translator;

typedef struct out_call out_call_t;

struct ocpp_session {
    ocpp_server_t *srv;
    net_conn_t *conn;         /* NULL once closed */
    const ocpp_translator_t *tr;
    char station_id[NET_STATION_ID_MAX + 1];
    int refs;
    out_call_t *pending;      /* the one outstanding CALL */
    out_call_t *queue_head, *queue_tail;
    timewheel_entry_t timeout_te;
    unsigned long next_id;
};

/* Answers a request (takes ownership of payload) and frees `in`. */
/* A request taken by a fast path: answered with ocpp_reply like any other
 * (its payload is NULL: the fast path read what it needed from the text). */
ocpp_incoming_t *ocpp_incoming_new(ocpp_session_t *sess, const char *id,
                                   const ocpp_message_def_t *def, uint64_t t0_ns);
void ocpp_reply(ocpp_incoming_t *in, json_t *payload);
void ocpp_reply_error(ocpp_incoming_t *in, ocpp_err_t e, const char *description);
csms_t *ocpp_session_csms(const ocpp_session_t *s);
/* The station a session belongs to, NULL if it was deleted meanwhile. */
csms_station_t *ocpp_session_station(const ocpp_session_t *s);

#endif
