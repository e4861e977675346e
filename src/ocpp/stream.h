/*
 * The fast path for the most frequent station messages: checks a CALL frame
 * against its message definition while yajl tokenizes it, and hands each
 * value to the caller as it passes, without building a JSON tree.
 *
 * Why: for a MeterValues message, building the jansson tree, validating it
 * and freeing it was most of the event loop's work. This checker accepts
 * only what it can prove valid by the same rules (ocpp/frame.c for the frame,
 * ocpp/schema.c for the payload, util/json_reader.c for the JSON); for
 * anything else (a violation, an escape, a non-ASCII byte, an open object)
 * it says "not mine" and the caller takes the ordinary path, which gives
 * the exact error. So it never decides an error, only a success.
 *
 * Ownership: the caller provides `scratch`, at least as long as the text:
 * the values handed to the sink are NUL-terminated strings inside it, valid
 * as long as the caller keeps it.
 */
#ifndef AMPGRID_OCPP_STREAM_H
#define AMPGRID_OCPP_STREAM_H

#include "ocpp/frame.h"
#include "ocpp/schema.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum ocpp_stream_kind {
    OCPP_STREAM_STRING, /* also date-times and enums */
    OCPP_STREAM_NUMBER, /* the text as sent; an integer when f->type is OCPP_T_INTEGER */
    OCPP_STREAM_BOOL,   /* "true" or "false" */
} ocpp_stream_kind_t;

/* What the caller does with the values; any callback may be NULL. f is the
 * field of the definition the value matched (an array item's field for its
 * items); for the payload's root object open/close get f == NULL. */
typedef struct ocpp_stream_sink {
    void (*value)(void *ud, const ocpp_field_t *f, ocpp_stream_kind_t kind, const char *s,
                  size_t len);
    void (*open)(void *ud, const ocpp_field_t *f);  /* an object begins */
    void (*close)(void *ud, const ocpp_field_t *f); /* an object ends */
} ocpp_stream_sink_t;

/*
 * True when data is a CALL frame [2, id, action, payload] for `action` whose
 * payload `fields` accepts, with the message id copied to id. The sink has
 * then seen every value of the payload; when false it may have seen some
 * (the caller discards what it gathered) and nothing else happened.
 */
bool ocpp_stream_check(const char *data, size_t len, const char *action,
                       const ocpp_field_t *fields, const ocpp_stream_sink_t *sink, void *ud,
                       char id[OCPP_MSG_ID_MAX + 1], char *scratch);

#endif
