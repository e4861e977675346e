/*
 * A station's configuration, one resource for both protocol versions:
 * GET /api/v1/stations/{id}/variables lists the device model the station
 * reported (OCPP 2.0.1 NotifyReport, after GetBaseReport/GetReport), and
 * POST sets one variable: SetVariables for a 2.0.1 station, ChangeConfiguration
 * (the variable name is the key) for a 1.6 one. The outcome is returned and,
 * when the station accepted, recorded in the stored device model.
 */
#include "api/api_internal.h"

#include "util/alloc.h"

#include <stdio.h>
#include <string.h>

static void list_done(void *ctx, store_err_t rc, json_t *res)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    if (rc != STORE_OK) {
        api_problem(c, 503, "Service Unavailable", "the database could not answer; retry");
        return;
    }
    api_json(c, 200, json_pack("{s:O}", "items", res));
}

void api_variables_list(api_call_t *c)
{
    if (!csms_station_find(c->api->d.csms, c->params[0])) {
        api_problem(c, 404, "Not Found", "no station %s", c->params[0]);
        return;
    }
    api_hold(c);
    store_query_variables(c->api->d.store, c->params[0], api_query(c, "component"),
                          api_query(c, "variable"), list_done, c);
}

typedef struct set_ctx {
    api_call_t *call;
    store_variable_t row;
    char *strs[6];
    bool v201;
} set_ctx_t;

static void set_ctx_free(set_ctx_t *x)
{
    for (int i = 0; i < 6; i++) free(x->strs[i]);
    free(x);
}

static void recorded(void *p, store_err_t rc)
{
    (void)p;
    (void)rc;
}

static void set_answered(void *p, const csms_cmd_result_t *r)
{
    set_ctx_t *x = p;
    api_call_t *c = x->call;
    if (r->status != CSMS_CMD_OK) {
        if (api_alive(c))
            api_problem(c, r->status == CSMS_CMD_TIMEOUT ? 504 : 502,
                        r->status == CSMS_CMD_TIMEOUT ? "Gateway Timeout" : "Bad Gateway",
                        "the station did not set the variable: %s",
                        r->error_description ? r->error_description : "no answer");
        set_ctx_free(x);
        return;
    }
    const json_t *res = x->v201 ? json_array_get(json_object_get(r->payload, "setVariableResult"), 0)
                                : r->payload;
    const char *status = json_string_value(json_object_get(res, x->v201 ? "attributeStatus" : "status"));
    if (!status) status = "Rejected";
    if (strcmp(status, "Accepted") == 0 || strcmp(status, "RebootRequired") == 0)
        store_variables_save(c->api->d.store, c->params[0], &x->row, 1, recorded, NULL);
    if (api_alive(c)) {
        json_t *out = json_pack("{s:s,s:s,s:O}", "station_id", c->params[0], "status", status,
                                "response", (json_t *)r->payload);
        json_t *after = json_pack("{s:O,s:s}", "request", c->body, "status", status);
        api_audit(c, "variable.set", "station", c->params[0], NULL, after);
        json_decref(after);
        api_json(c, 200, out);
    }
    set_ctx_free(x);
}

static const char *body_str(api_call_t *c, const char *k)
{
    return json_string_value(json_object_get(c->body, k));
}

void api_variables_set(api_call_t *c)
{
    static const char *const keys[] = {"component", "component_instance", "evse_id",
                                       "connector_id", "variable", "variable_instance",
                                       "attribute_type", "value", NULL};
    const char *k;
    json_t *v;
    json_object_foreach(c->body, k, v) {
        bool ok = false;
        for (const char *const *a = keys; *a; a++) ok |= strcmp(*a, k) == 0;
        bool num = strcmp(k, "evse_id") == 0 || strcmp(k, "connector_id") == 0;
        if (!ok) {
            api_problem(c, 400, "Bad Request", "unknown field '%.64s'", k);
            return;
        }
        if (num ? !json_is_integer(v) || json_integer_value(v) < 0 : !json_is_string(v)) {
            api_problem(c, 400, "Bad Request", "%s must be %s", k,
                        num ? "a non-negative integer" : "a string");
            return;
        }
    }
    const char *var = body_str(c, "variable"), *value = body_str(c, "value");
    const char *comp = body_str(c, "component");
    csms_station_t *st = csms_station_find(c->api->d.csms, c->params[0]);
    if (!st) {
        api_problem(c, 404, "Not Found", "no station %s", c->params[0]);
        return;
    }
    bool v201 = st->protocol && strcmp(st->protocol, "ocpp2.0.1") == 0;
    if (!var || !value || (v201 && !comp)) {
        api_problem(c, 400, "Bad Request", "%s required",
                    v201 ? "component, variable and value are" : "variable and value are");
        return;
    }
    set_ctx_t *x = xcalloc(1, sizeof *x);
    x->call = c;
    x->v201 = v201;
    json_t *evse_v = json_object_get(c->body, "evse_id");
    json_t *conn_v = json_object_get(c->body, "connector_id");
    x->row = (store_variable_t){
        .component = x->strs[0] = xstrdup(comp ? comp : "OCPP16Configuration"),
        .component_instance = x->strs[1] = xstrdup_opt(body_str(c, "component_instance")),
        .evse_id = evse_v ? (int)json_integer_value(evse_v) : -1,
        .connector_id = conn_v ? (int)json_integer_value(conn_v) : -1,
        .variable = x->strs[2] = xstrdup(var),
        .variable_instance = x->strs[3] = xstrdup_opt(body_str(c, "variable_instance")),
        .attribute_type = x->strs[4] =
            xstrdup(body_str(c, "attribute_type") ? body_str(c, "attribute_type") : "Actual"),
        .value = x->strs[5] = xstrdup(value),
        .persistent = -1,
        .constant = -1,
        .supports_monitoring = -1,
    };
    json_t *payload;
    if (v201) {
        json_t *component = json_pack("{s:s}", "name", comp);
        if (x->row.component_instance)
            json_object_set_new(component, "instance", json_string(x->row.component_instance));
        if (x->row.evse_id >= 0) {
            json_t *e = json_pack("{s:i}", "id", x->row.evse_id);
            if (x->row.connector_id >= 0)
                json_object_set_new(e, "connectorId", json_integer(x->row.connector_id));
            json_object_set_new(component, "evse", e);
        }
        json_t *variable = json_pack("{s:s}", "name", var);
        if (x->row.variable_instance)
            json_object_set_new(variable, "instance", json_string(x->row.variable_instance));
        payload = json_pack("{s:[{s:s,s:s,s:o,s:o}]}", "setVariableData", "attributeType",
                            x->row.attribute_type, "attributeValue", value, "component",
                            component, "variable", variable);
    } else {
        payload = json_pack("{s:s,s:s}", "key", var, "value", value);
    }
    char err[300];
    api_hold(c);
    csms_err_t e = csms_command(c->api->d.csms, c->params[0],
                                v201 ? "SetVariables" : "ChangeConfiguration", payload,
                                set_answered, x, err, sizeof err);
    json_decref(payload);
    if (e != CSMS_OK) {
        set_ctx_free(x);
        api_csms_error(c, e, err);
    }
}
