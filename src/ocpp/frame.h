/*
 * OCPP-J frames: [2,id,action,payload] CALL, [3,id,payload] CALLRESULT,
 * [4,id,code,description,details] CALLERROR. Parsing is strict (exact
 * element counts and types, message ids of 1-36 characters, duplicate JSON
 * keys refused) and, when a frame is broken, recovers the message id where it
 * can so the sender still gets an answer.
 */
#ifndef AMPGRID_OCPP_FRAME_H
#define AMPGRID_OCPP_FRAME_H

#include "ocpp/schema.h"

#include <jansson.h>
#include <stddef.h>

#define OCPP_MSG_ID_MAX 36

typedef enum ocpp_msg_type {
    OCPP_CALL = 2,
    OCPP_CALLRESULT = 3,
    OCPP_CALLERROR = 4,
} ocpp_msg_type_t;

typedef struct ocpp_frame {
    ocpp_msg_type_t type;
    char id[OCPP_MSG_ID_MAX + 1]; /* "" when not recoverable */
    char *long_id; /* an over-long id, kept only to answer the error; see ocpp_frame_free */
    const char *action;           /* CALL */
    json_t *payload;              /* CALL, CALLRESULT (borrowed from root) */
    const char *error_code;       /* CALLERROR */
    const char *error_description;
    json_t *error_details;
    json_t *root;                 /* owned; release with ocpp_frame_free */
} ocpp_frame_t;

/*
 * Parses one text message. On failure returns the error class
 * (OCPP_ERR_FORMAT for JSON that does not parse, OCPP_ERR_PROTOCOL for a
 * JSON value that is not an OCPP-J frame, OCPP_ERR_MESSAGE_TYPE for an unknown
 * message type) with a message, and fills out->id when the id could be
 * recovered (then the caller should answer with a CALLERROR). On success the
 * caller owns out->root.
 */
ocpp_err_t ocpp_frame_parse(const char *data, size_t len, ocpp_frame_t *out, char *msg,
                            size_t msg_len);
void ocpp_frame_free(ocpp_frame_t *f);

/* Serialisers: return malloc'd strings. payload/details are borrowed. */
char *ocpp_frame_call(const char *id, const char *action, const json_t *payload);
char *ocpp_frame_result(const char *id, const json_t *payload);
char *ocpp_frame_error(const char *id, const char *code, const char *description,
                       const json_t *details);

#endif
