/*
 * OCPP message definitions as data, and the validator that checks a JSON
 * payload against them before any handler sees it.
 *
 * Why tables: the specification defines every message as a tree of typed
 * fields. Writing those trees as static data (instead of hand-coded checks per
 * handler) keeps one validator for all versions, lets a test compare each table
 * with the official JSON schemas, and lets handlers trust their input.
 *
 * Ownership: all definitions are static and immutable; the validator only
 * reads the payload and writes a message into the caller's buffer.
 */
#ifndef AMPGRID_OCPP_SCHEMA_H
#define AMPGRID_OCPP_SCHEMA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Version-neutral RPC error classes; ocpp/rpc maps them to each version's
 * CALLERROR spelling (1.6 "FormationViolation" vs 2.0.1 "FormatViolation"). */
typedef enum ocpp_err {
    OCPP_OK = 0,
    OCPP_ERR_FORMAT,            /* not the PDU's structure: not an object, unknown field, bad JSON */
    OCPP_ERR_PROPERTY,          /* a value outside what the field allows: enum, length, range */
    OCPP_ERR_OCCURRENCE,        /* required field missing, array size out of bounds */
    OCPP_ERR_TYPE,              /* wrong JSON type, or a date-time that is not RFC 3339 */
    OCPP_ERR_NOT_IMPLEMENTED,   /* unknown action */
    OCPP_ERR_NOT_SUPPORTED,     /* known action we do not handle in this direction */
    OCPP_ERR_PROTOCOL,          /* frame incomplete / not an OCPP-J frame */
    OCPP_ERR_SECURITY,          /* not allowed in this state (e.g. before boot accepted, 2.0.1) */
    OCPP_ERR_INTERNAL,          /* our fault */
    OCPP_ERR_GENERIC,
    OCPP_ERR_MESSAGE_TYPE,      /* 2.0.1 MessageTypeNotSupported */
} ocpp_err_t;

typedef enum ocpp_type {
    OCPP_T_STRING,   /* JSON string, max_len applies (0 = unbounded) */
    OCPP_T_INTEGER,  /* JSON integer; min/max apply when has_min/has_max */
    OCPP_T_NUMBER,   /* JSON integer or real; min/max/multiple_of apply */
    OCPP_T_BOOLEAN,
    OCPP_T_DATETIME, /* JSON string holding an RFC 3339 date-time */
    OCPP_T_ENUM,     /* JSON string, one of enum_values */
    OCPP_T_OBJECT,   /* JSON object with the fields in `fields` */
    OCPP_T_ARRAY,    /* JSON array; each item described by `items` */
    OCPP_T_ANY,      /* anything (e.g. DataTransfer data in some versions) */
} ocpp_type_t;

typedef struct ocpp_field ocpp_field_t;

struct ocpp_field {
    const char *name;                 /* NULL terminates a field list */
    ocpp_type_t type;
    bool required;
    int max_len;                      /* strings: maximum length in characters, 0 = none */
    const char *const *enum_values;   /* OCPP_T_ENUM: NULL-terminated list */
    const ocpp_field_t *fields;       /* OCPP_T_OBJECT: child list (NULL-name terminated) */
    const ocpp_field_t *items;        /* OCPP_T_ARRAY: a single field describing each item */
    int min_items, max_items;         /* OCPP_T_ARRAY: bounds, max_items 0 = none */
    bool has_min, has_max;
    double min, max;                  /* numeric bounds (inclusive) */
    double multiple_of;               /* 0 = none */
    /* OCPP_T_OBJECT: additional properties are allowed (and not checked), as in
     * 2.0.1's CustomDataType; false (the default) refuses unknown fields. The
     * root object of a message is always closed. Kept last so tables written
     * with designated initializers before it existed stay valid. */
    bool open;
};

/* Who sends the request of a message. */
typedef enum ocpp_dir {
    OCPP_DIR_FROM_STATION, /* station -> CSMS (BootNotification, ...) */
    OCPP_DIR_TO_STATION,   /* CSMS -> station (RemoteStartTransaction, ...) */
    OCPP_DIR_BOTH,         /* DataTransfer */
} ocpp_dir_t;

typedef struct ocpp_message_def {
    const char *action;               /* "BootNotification" */
    ocpp_dir_t dir;
    const ocpp_field_t *request;      /* root object's fields (NULL-name terminated list) */
    const ocpp_field_t *response;
} ocpp_message_def_t;

typedef struct ocpp_version_defs {
    const char *name;                 /* "ocpp1.6" */
    const ocpp_message_def_t *messages;
    size_t count;
} ocpp_version_defs_t;

extern const ocpp_version_defs_t ocpp_v16_defs;  /* "ocpp1.6", ocpp/v16_defs.c */
extern const ocpp_version_defs_t ocpp_v201_defs; /* "ocpp2.0.1", ocpp/v201_defs.c */

/* The CALLERROR code for an error class, as OCPP 1.6 / 2.0.1 spell it (ocpp/errors.c). */
const char *ocpp_err_name_v16(ocpp_err_t e);
const char *ocpp_err_name_v201(ocpp_err_t e);

/* Finds an action's definition; NULL when the version does not define it. */
const ocpp_message_def_t *ocpp_schema_find(const ocpp_version_defs_t *defs, const char *action);

/*
 * Validates `payload` (the root object of a request or response) against the
 * NULL-name terminated field list `fields`. Returns OCPP_OK, or the error class
 * of the first violation found with a message a person can act on written into
 * `msg` (always NUL-terminated, truncated to msg_len), naming the field path,
 * e.g. "idTagInfo.status: 'Foo' is not one of Accepted, Blocked, Expired,
 * Invalid, ConcurrentTx".
 * Unknown fields in an object are OCPP_ERR_FORMAT (the schemas forbid
 * additional properties), except in objects whose field is marked `open`.
 */
ocpp_err_t ocpp_schema_validate(const ocpp_field_t *fields, const json_t *payload, char *msg,
                                size_t msg_len);

/* Single-value checks, shared with the streaming checker (ocpp/stream.c):
 * whether a string is one of f's enum values, whether a number is within f's
 * minimum, maximum and multipleOf. */
bool ocpp_schema_enum_ok(const ocpp_field_t *f, const char *s, size_t len);
bool ocpp_schema_number_ok(const ocpp_field_t *f, double v);

/* True when `s` is an RFC 3339 date-time ("2024-01-02T03:04:05Z",
 * fractional seconds and numeric offsets allowed). */
bool ocpp_schema_is_datetime(const char *s);

#endif
