/*
 * CALLERROR codes as each OCPP version spells them. One place for both the
 * server's translators and the simulator: 2.0.1 renamed two codes
 * (FormationViolation -> FormatViolation, Occurence -> Occurrence) and added
 * RpcFrameworkError and MessageTypeNotSupported, which 1.6 reports as
 * ProtocolError.
 */
#include "ocpp/schema.h"

typedef struct err_names {
    ocpp_err_t err;
    const char *v16, *v201;
} err_names_t;

static const err_names_t names[] = {
    {OCPP_ERR_FORMAT, "FormationViolation", "FormatViolation"},
    {OCPP_ERR_PROPERTY, "PropertyConstraintViolation", "PropertyConstraintViolation"},
    {OCPP_ERR_OCCURRENCE, "OccurenceConstraintViolation", "OccurrenceConstraintViolation"},
    {OCPP_ERR_TYPE, "TypeConstraintViolation", "TypeConstraintViolation"},
    {OCPP_ERR_NOT_IMPLEMENTED, "NotImplemented", "NotImplemented"},
    {OCPP_ERR_NOT_SUPPORTED, "NotSupported", "NotSupported"},
    {OCPP_ERR_PROTOCOL, "ProtocolError", "RpcFrameworkError"},
    {OCPP_ERR_MESSAGE_TYPE, "ProtocolError", "MessageTypeNotSupported"},
    {OCPP_ERR_SECURITY, "SecurityError", "SecurityError"},
    {OCPP_ERR_INTERNAL, "InternalError", "InternalError"},
};

static const err_names_t *find(ocpp_err_t e)
{
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].err == e) return &names[i];
    return NULL;
}

const char *ocpp_err_name_v16(ocpp_err_t e)
{
    const err_names_t *n = find(e);
    return n ? n->v16 : "GenericError";
}

const char *ocpp_err_name_v201(ocpp_err_t e)
{
    const err_names_t *n = find(e);
    return n ? n->v201 : "GenericError";
}
