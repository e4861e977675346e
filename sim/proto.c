/* Version lookup and the generic "valid minimal answer"; see proto.h. */
#include "sim/proto.h"

#include "util/timefmt.h"

#include <string.h>

static const sim_proto_t *const protos[] = {&sim_proto_v16, &sim_proto_v201};

const sim_proto_t *sim_proto_find(const char *subprotocol)
{
    for (size_t i = 0; i < sizeof protos / sizeof protos[0]; i++)
        if (strcmp(protos[i]->subprotocol, subprotocol) == 0) return protos[i];
    return NULL;
}

static json_t *minimal_value(const ocpp_field_t *f, int64_t now_ms)
{
    char buf[TIME_RFC3339_LEN];
    switch (f->type) {
    case OCPP_T_STRING:
        return json_string("");
    case OCPP_T_INTEGER:
        return json_integer(f->has_min ? (json_int_t)f->min : 0);
    case OCPP_T_NUMBER:
        return json_real(f->has_min ? f->min : 0.0);
    case OCPP_T_BOOLEAN:
        return json_false();
    case OCPP_T_DATETIME:
        return json_string(time_format_rfc3339(now_ms, buf));
    case OCPP_T_ENUM:
        for (const char *const *v = f->enum_values; *v; v++)
            if (strcmp(*v, "Accepted") == 0) return json_string(*v);
        return json_string(f->enum_values[0]);
    case OCPP_T_OBJECT:
        return sim_proto_minimal(f->fields, now_ms);
    case OCPP_T_ARRAY: {
        json_t *a = json_array();
        for (int i = 0; i < f->min_items; i++)
            json_array_append_new(a, minimal_value(f->items, now_ms));
        return a;
    }
    case OCPP_T_ANY:
        return json_object();
    }
    return json_null();
}

json_t *sim_proto_minimal(const ocpp_field_t *fields, int64_t now_ms)
{
    json_t *o = json_object();
    for (const ocpp_field_t *f = fields; f && f->name; f++)
        if (f->required) json_object_set_new(o, f->name, minimal_value(f, now_ms));
    return o;
}
