/*
 * OCPP 2.0.1 for the simulated station: payloads of what it sends, the facts
 * it reads from answers, and its answers to every CSMS-initiated 2.0.1 call.
 *
 * The station's message kinds map onto 2.0.1 as:
 *   BOOT BootNotification, HEARTBEAT Heartbeat, STATUS StatusNotification
 *   (one per connector; 2.0.1 has no station-wide status), AUTHORIZE
 *   Authorize, TX_START / METER / TX_STOP TransactionEvent Started / Updated
 *   (with the periodic meter value) / Ended.
 *
 * Each connector is modelled as its own EVSE with one connector
 * (evse {id: connector, connectorId: 1}). The station chooses the
 * transaction id (a decimal string from the wall clock, unique per station
 * across runs, since the server keys transactions by station and id) when it
 * writes the Started event, and numbers the events of a transaction from
 * seqNo 0. Payloads are printf-written like 1.6's (see proto_v16.c for why);
 * the unit tests validate every kind against the 2.0.1 definitions.
 */
#include "sim/meter.h"
#include "sim/proto.h"

#include "util/alloc.h"
#include "util/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const actions[SIM_MSG_COUNT] = {
    [SIM_MSG_BOOT] = "BootNotification",     [SIM_MSG_HEARTBEAT] = "Heartbeat",
    [SIM_MSG_STATUS] = "StatusNotification", [SIM_MSG_AUTHORIZE] = "Authorize",
    [SIM_MSG_TX_START] = "TransactionEvent", [SIM_MSG_METER] = "TransactionEvent",
    [SIM_MSG_TX_STOP] = "TransactionEvent",
};

static const char *action_v201(sim_msg_t kind)
{
    return actions[kind];
}

static const char *status_name(int cs)
{
    switch (cs) {
    case SIM_CS_PREPARING:
    case SIM_CS_CHARGING:
    case SIM_CS_FINISHING:
        return "Occupied";
    case SIM_CS_UNAVAILABLE:
        return "Unavailable";
    default:
        return "Available";
    }
}

static const char *stopped_reason(int r)
{
    switch (r) {
    case SIM_STOP_REMOTE:
        return "Remote";
    case SIM_STOP_EV_DISCONNECTED:
        return "EVDisconnected";
    case SIM_STOP_SOFT_RESET:
        return "Reboot";
    case SIM_STOP_HARD_RESET:
        return "ImmediateReset";
    default:
        return "Local";
    }
}

static const char *stop_trigger(int r)
{
    switch (r) {
    case SIM_STOP_REMOTE:
        return "RemoteStop";
    case SIM_STOP_EV_DISCONNECTED:
        return "EVDeparted";
    case SIM_STOP_SOFT_RESET:
    case SIM_STOP_HARD_RESET:
        return "ResetCommand";
    default:
        return "StopAuthorized";
    }
}

/* One sampled value: numeric value, unitOfMeasure object. */
static void sample(strbuf_t *b, bool first, const char *fmt_value, double v, const char *ctx,
                   const char *measurand, const char *phase, const char *location,
                   const char *unit)
{
    char num[48];
    snprintf(num, sizeof num, fmt_value, v);
    strbuf_printf(b, "%s{\"value\":%s,\"context\":\"%s\",\"measurand\":\"%s\"", first ? "" : ",",
                  num, ctx, measurand);
    if (phase) strbuf_printf(b, ",\"phase\":\"%s\"", phase);
    strbuf_printf(b, ",\"location\":\"%s\",\"unitOfMeasure\":{\"unit\":\"%s\"}}", location, unit);
}

/* The periodic meter value: the nine samples of a three-phase charger. */
static void meter_value_full(sim_station_t *st, const sim_connector_t *k, const char *ts,
                             strbuf_t *b)
{
    sim_sample_t m;
    sim_meter_sample(st->sim, k, &m);
    static const char *const phases[3] = {"L1", "L2", "L3"};
    static const char *const vphases[3] = {"L1-N", "L2-N", "L3-N"};
    const char *ctx = "Sample.Periodic";
    strbuf_printf(b, "[{\"timestamp\":\"%s\",\"sampledValue\":[", ts);
    sample(b, true, "%.0f", m.energy_wh, ctx, "Energy.Active.Import.Register", NULL, "Outlet",
           "Wh");
    sample(b, false, "%.0f", m.power_w, ctx, "Power.Active.Import", NULL, "Outlet", "W");
    for (int p = 0; p < 3; p++)
        sample(b, false, "%.1f", m.current_a[p], ctx, "Current.Import", phases[p], "Outlet", "A");
    for (int p = 0; p < 3; p++)
        sample(b, false, "%.1f", m.voltage_v[p], ctx, "Voltage", vphases[p], "Outlet", "V");
    sample(b, false, "%.0f", m.soc, ctx, "SoC", NULL, "EV", "Percent");
    strbuf_append(b, "]}]", 3);
}

/* The register alone, at a transaction's begin or end. */
static void meter_value_register(const sim_connector_t *k, const char *ts, const char *ctx,
                                 strbuf_t *b)
{
    strbuf_printf(b, "[{\"timestamp\":\"%s\",\"sampledValue\":[", ts);
    sample(b, true, "%.0f", k->energy_wh, ctx, "Energy.Active.Import.Register", NULL, "Outlet",
           "Wh");
    strbuf_append(b, "]}]", 3);
}

/* The connector's id token type: the one a RequestStartTransaction named,
 * else ISO14443, the type the server gives tokens registered without one. */
static const char *token_type(const sim_connector_t *k)
{
    return k->tag_type[0] ? k->tag_type : "ISO14443";
}

/* A new transaction id: from the wall clock, strictly increasing per station. */
static int64_t new_tx_id(sim_station_t *st)
{
    int64_t t = sim_wall_ms(st->sim) * 16;
    st->last_tx_id = t > st->last_tx_id ? t : st->last_tx_id + 1;
    return st->last_tx_id;
}

static void tx_event(sim_station_t *st, const sim_call_t *call, sim_connector_t *k, const char *ts,
                     strbuf_t *b)
{
    const char *type, *trigger;
    if (call->kind == SIM_MSG_TX_START) {
        k->tx_id = new_tx_id(st);
        k->tx_seq = 0;
        type = "Started";
        trigger = k->remote ? "RemoteStart" : "Authorized";
    } else if (call->kind == SIM_MSG_METER) {
        type = "Updated";
        trigger = call->arg ? "Trigger" : "MeterValuePeriodic";
    } else {
        type = "Ended";
        trigger = stop_trigger(call->arg);
    }
    strbuf_printf(b,
                  "{\"eventType\":\"%s\",\"timestamp\":\"%s\",\"triggerReason\":\"%s\","
                  "\"seqNo\":%u,\"transactionInfo\":{\"transactionId\":\"%lld\","
                  "\"chargingState\":\"%s\"",
                  type, ts, trigger, (unsigned)k->tx_seq++, (long long)k->tx_id,
                  call->kind == SIM_MSG_TX_STOP ? "EVConnected" : "Charging");
    if (call->kind == SIM_MSG_TX_STOP)
        strbuf_printf(b, ",\"stoppedReason\":\"%s\"", stopped_reason(call->arg));
    if (call->kind == SIM_MSG_TX_START && k->remote && k->has_remote_start_id)
        strbuf_printf(b, ",\"remoteStartId\":%d", (int)k->remote_start_id);
    strbuf_append(b, "}", 1);
    if (call->kind != SIM_MSG_METER)
        strbuf_printf(b, ",\"idToken\":{\"idToken\":\"%s\",\"type\":\"%s\"}", k->tag,
                      token_type(k));
    strbuf_printf(b, ",\"evse\":{\"id\":%d,\"connectorId\":1},\"meterValue\":", k->id);
    if (call->kind == SIM_MSG_METER)
        meter_value_full(st, k, ts, b);
    else
        meter_value_register(k, ts,
                             call->kind == SIM_MSG_TX_START ? "Transaction.Begin"
                                                            : "Transaction.End",
                             b);
    strbuf_append(b, "}", 1);
}

static void payload_v201(sim_station_t *st, const sim_call_t *call, strbuf_t *b)
{
    char ts[TIME_RFC3339_LEN];
    time_format_rfc3339(sim_wall_ms(st->sim), ts);
    sim_connector_t *k = call->connector > 0 ? &st->conn_[call->connector - 1] : NULL;
    switch (call->kind) {
    case SIM_MSG_BOOT:
        strbuf_printf(b,
                      "{\"chargingStation\":{\"model\":\"sim-%uc\",\"vendorName\":\"ampgrid\","
                      "\"serialNumber\":\"SIM%u\",\"firmwareVersion\":\"ampgrid-sim " AMPGRID_VERSION
                      "\"},\"reason\":\"%s\"}",
                      st->nconn, st->index, st->ever_booted ? "RemoteReset" : "PowerUp");
        break;
    case SIM_MSG_HEARTBEAT:
        strbuf_append(b, "{}", 2);
        break;
    case SIM_MSG_STATUS:
        /* 2.0.1 has no station-wide status: connector 0 reports EVSE 1's. */
        strbuf_printf(b,
                      "{\"timestamp\":\"%s\",\"connectorStatus\":\"%s\",\"evseId\":%d,"
                      "\"connectorId\":1}",
                      ts, status_name(call->arg), call->connector > 0 ? call->connector : 1);
        break;
    case SIM_MSG_AUTHORIZE:
        strbuf_printf(b, "{\"idToken\":{\"idToken\":\"%s\",\"type\":\"%s\"}}", k->tag,
                      token_type(k));
        break;
    case SIM_MSG_TX_START:
    case SIM_MSG_METER:
    case SIM_MSG_TX_STOP:
        tx_event(st, call, k, ts, b);
        break;
    case SIM_MSG_COUNT:
        break;
    }
}

static void read_answer_v201(sim_msg_t kind, const json_t *p, sim_answer_t *out)
{
    memset(out, 0, sizeof *out);
    switch (kind) {
    case SIM_MSG_BOOT:
        out->status = json_string_value(json_object_get(p, "status"));
        out->interval = (int)json_integer_value(json_object_get(p, "interval"));
        break;
    case SIM_MSG_AUTHORIZE:
        out->status = json_string_value(json_object_get(json_object_get(p, "idTokenInfo"), "status"));
        break;
    case SIM_MSG_TX_START:
    case SIM_MSG_TX_STOP: {
        /* idTokenInfo is optional in a TransactionEvent answer: none = go on. */
        json_t *info = json_object_get(p, "idTokenInfo");
        out->status = info ? json_string_value(json_object_get(info, "status")) : "Accepted";
        break;
    }
    default:
        break;
    }
}

/* ------------------------------------------------------- device model */

typedef struct variable {
    const char *component, *variable;
    bool readonly, writeonly;
} variable_t;

static const variable_t variables[] = {
    {"OCPPCommCtrlr", "HeartbeatInterval", false, false},
    {"SampledDataCtrlr", "TxUpdatedInterval", false, false},
    {"SampledDataCtrlr", "TxUpdatedMeasurands", false, false},
    {"AlignedDataCtrlr", "Interval", false, false},
    {"SecurityCtrlr", "BasicAuthPassword", false, true},
    {"SecurityCtrlr", "SecurityProfile", true, false},
    {"AuthCtrlr", "AuthorizeRemoteStart", false, false},
    {"ChargingStation", "Model", true, false},
    {"ChargingStation", "VendorName", true, false},
    {NULL, NULL, false, false},
};

/* Finds the variable; *status says why not when NULL. */
static const variable_t *find_variable(const json_t *comp, const json_t *var, const char **status)
{
    const char *c = json_string_value(json_object_get(comp, "name"));
    const char *v = json_string_value(json_object_get(var, "name"));
    bool comp_known = false;
    for (const variable_t *x = variables; x->component; x++) {
        if (!c || strcmp(x->component, c) != 0) continue;
        comp_known = true;
        if (v && strcmp(x->variable, v) == 0) return x;
    }
    *status = comp_known ? "UnknownVariable" : "UnknownComponent";
    return NULL;
}

static void variable_value(const sim_station_t *st, const variable_t *x, char *out, size_t len)
{
    if (strcmp(x->variable, "HeartbeatInterval") == 0)
        snprintf(out, len, "%d", st->heartbeat_s);
    else if (strcmp(x->variable, "TxUpdatedInterval") == 0)
        snprintf(out, len, "%d", st->meter_interval_s);
    else if (strcmp(x->variable, "TxUpdatedMeasurands") == 0)
        snprintf(out, len,
                 "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,SoC");
    else if (strcmp(x->variable, "SecurityProfile") == 0)
        snprintf(out, len, "1");
    else if (strcmp(x->variable, "AuthorizeRemoteStart") == 0)
        snprintf(out, len, "false");
    else if (strcmp(x->variable, "Model") == 0)
        snprintf(out, len, "sim-%uc", st->nconn);
    else if (strcmp(x->variable, "VendorName") == 0)
        snprintf(out, len, "ampgrid");
    else
        snprintf(out, len, "0");
}

static bool actual_attribute(const json_t *entry)
{
    const char *t = json_string_value(json_object_get(entry, "attributeType"));
    return !t || strcmp(t, "Actual") == 0;
}

static json_t *get_variables(sim_station_t *st, const json_t *req)
{
    json_t *results = json_array(), *e;
    size_t i;
    json_array_foreach(json_object_get(req, "getVariableData"), i, e)
    {
        json_t *comp = json_object_get(e, "component"), *var = json_object_get(e, "variable");
        json_t *r = json_pack("{s:O,s:O}", "component", comp, "variable", var);
        const char *status = "Accepted";
        const variable_t *x = find_variable(comp, var, &status);
        if (x && !actual_attribute(e))
            status = "NotSupportedAttributeType";
        else if (x && x->writeonly)
            status = "Rejected";
        else if (x) {
            char v[200];
            variable_value(st, x, v, sizeof v);
            json_object_set_new(r, "attributeValue", json_string(v));
        }
        json_object_set_new(r, "attributeStatus", json_string(status));
        json_t *t = json_object_get(e, "attributeType");
        if (t) json_object_set(r, "attributeType", t);
        json_array_append_new(results, r);
    }
    return json_pack("{s:o}", "getVariableResult", results);
}

static const char *set_variable(sim_station_t *st, const variable_t *x, const char *value)
{
    if (x->readonly) return "Rejected";
    if (strcmp(x->variable, "BasicAuthPassword") == 0) {
        size_t n = strlen(value);
        if (n < 16 || n > SIM_PASSWORD_MAX) return "Rejected";
        free(st->password);
        st->password = xstrdup(value); /* used from the next connection on */
        return "Accepted";
    }
    if (strcmp(x->variable, "HeartbeatInterval") == 0 ||
        strcmp(x->variable, "TxUpdatedInterval") == 0) {
        char *end;
        long v = strtol(value, &end, 10);
        if (!*value || *end || v < 1 || v > 86400) return "Rejected";
        if (x->variable[0] == 'H')
            sim_station_set_heartbeat(st, (int)v);
        else
            st->meter_interval_s = (int)v;
    }
    return "Accepted";
}

static json_t *set_variables(sim_station_t *st, const json_t *req)
{
    json_t *results = json_array(), *e;
    size_t i;
    json_array_foreach(json_object_get(req, "setVariableData"), i, e)
    {
        json_t *comp = json_object_get(e, "component"), *var = json_object_get(e, "variable");
        json_t *r = json_pack("{s:O,s:O}", "component", comp, "variable", var);
        const char *status = "Accepted";
        const variable_t *x = find_variable(comp, var, &status);
        if (x && !actual_attribute(e))
            status = "NotSupportedAttributeType";
        else if (x)
            status = set_variable(st, x, json_string_value(json_object_get(e, "attributeValue")));
        json_object_set_new(r, "attributeStatus", json_string(status));
        json_t *t = json_object_get(e, "attributeType");
        if (t) json_object_set(r, "attributeType", t);
        json_array_append_new(results, r);
    }
    return json_pack("{s:o}", "setVariableResult", results);
}

/* ------------------------------------------------------- server calls */

static json_t *status(const char *s)
{
    return json_pack("{s:s}", "status", s);
}

static json_t *request_start(sim_station_t *st, const json_t *req)
{
    json_t *evse = json_object_get(req, "evseId");
    const char *tag = json_string_value(json_object_get(json_object_get(req, "idToken"), "idToken"));
    if (tag && strlen(tag) > SIM_TAG_MAX) return status("Rejected");
    for (unsigned i = 0; i < st->nconn; i++) {
        sim_connector_t *k = &st->conn_[i];
        if (evse && json_integer_value(evse) != k->id) continue;
        if (k->state != SIM_CS_AVAILABLE) {
            if (evse) break;
            continue; /* no EVSE named: the first free one */
        }
        if (!st->sim->accepting_new_work) break;
        k->remote_start_id = (int32_t)json_integer_value(json_object_get(req, "remoteStartId"));
        k->has_remote_start_id = true;
        const char *type =
            json_string_value(json_object_get(json_object_get(req, "idToken"), "type"));
        snprintf(k->tag_type, sizeof k->tag_type, "%s",
                 type && strlen(type) < sizeof k->tag_type ? type : "");
        return status(sim_session_start(k, tag, true) ? "Accepted" : "Rejected");
    }
    return status("Rejected");
}

static json_t *request_stop(sim_station_t *st, const json_t *req)
{
    const char *id = json_string_value(json_object_get(req, "transactionId"));
    char *end;
    long long tx = id ? strtoll(id, &end, 10) : 0;
    if (!id || !*id || *end || tx <= 0) return status("Rejected");
    sim_connector_t *k = sim_session_find_tx(st, (int64_t)tx);
    if (!k) return status("Rejected");
    sim_session_stop(k, SIM_STOP_REMOTE);
    return status("Accepted");
}

static json_t *trigger(sim_station_t *st, const json_t *req)
{
    const char *what = json_string_value(json_object_get(req, "requestedMessage"));
    json_t *evse = json_object_get(req, "evse");
    int e = evse ? (int)json_integer_value(json_object_get(evse, "id")) : 0;
    if (e < 0 || e > st->nconn) return status("Rejected");
    if (strcmp(what, "BootNotification") == 0) {
        sim_station_call(st, SIM_MSG_BOOT, 0, 0);
    } else if (strcmp(what, "Heartbeat") == 0) {
        sim_station_call(st, SIM_MSG_HEARTBEAT, 0, 0);
    } else if (strcmp(what, "StatusNotification") == 0) {
        for (unsigned i = 0; i < st->nconn; i++)
            if (!e || e == st->conn_[i].id)
                sim_station_call(st, SIM_MSG_STATUS, st->conn_[i].id, (int)st->conn_[i].state);
    } else if (strcmp(what, "TransactionEvent") == 0) {
        bool any = false;
        for (unsigned i = 0; i < st->nconn; i++) {
            const sim_connector_t *k = &st->conn_[i];
            if ((!e || e == k->id) && k->state == SIM_CS_CHARGING && k->tx_id > 0) {
                sim_station_call(st, SIM_MSG_METER, k->id, 1);
                any = true;
            }
        }
        if (!any) return status("Rejected");
    } else {
        return status("NotImplemented");
    }
    return status("Accepted");
}

static json_t *set_profile(sim_station_t *st, const json_t *req)
{
    int e = (int)json_integer_value(json_object_get(req, "evseId"));
    json_t *sched =
        json_array_get(json_object_get(json_object_get(req, "chargingProfile"), "chargingSchedule"), 0);
    const char *unit = json_string_value(json_object_get(sched, "chargingRateUnit"));
    json_t *first = json_array_get(json_object_get(sched, "chargingSchedulePeriod"), 0);
    double limit = json_number_value(json_object_get(first, "limit"));
    if (unit && strcmp(unit, "A") == 0) limit *= 3 * 230.0; /* three phases */
    for (unsigned i = 0; i < st->nconn; i++)
        if (e == 0 || e == st->conn_[i].id) st->conn_[i].limit_w = limit > 0 ? limit : 0;
    return status("Accepted");
}

static json_t *answer_v201(sim_station_t *st, const char *action, const json_t *req)
{
    if (strcmp(action, "RequestStartTransaction") == 0) return request_start(st, req);
    if (strcmp(action, "RequestStopTransaction") == 0) return request_stop(st, req);
    if (strcmp(action, "Reset") == 0) {
        if (json_object_get(req, "evseId")) return status("Rejected"); /* whole station only */
        const char *type = json_string_value(json_object_get(req, "type"));
        sim_station_reset(st, type && strcmp(type, "Immediate") == 0);
        return status("Accepted");
    }
    if (strcmp(action, "GetVariables") == 0) return get_variables(st, req);
    if (strcmp(action, "SetVariables") == 0) return set_variables(st, req);
    /* Accepting would promise NotifyReport messages, which the simulator does not send. */
    if (strcmp(action, "GetBaseReport") == 0 || strcmp(action, "GetReport") == 0)
        return status("NotSupported");
    if (strcmp(action, "TriggerMessage") == 0) return trigger(st, req);
    if (strcmp(action, "SetChargingProfile") == 0) return set_profile(st, req);
    if (strcmp(action, "ClearChargingProfile") == 0) {
        for (unsigned i = 0; i < st->nconn; i++)
            st->conn_[i].limit_w = 0;
        return status("Accepted");
    }
    if (strcmp(action, "DataTransfer") == 0) return status("UnknownVendorId");
    if (strcmp(action, "UnlockConnector") == 0) return status("Unlocked");
    if (strcmp(action, "GetCompositeSchedule") == 0) return status("Rejected");
    const ocpp_message_def_t *def = ocpp_schema_find(&ocpp_v201_defs, action);
    return sim_proto_minimal(def->response, sim_wall_ms(st->sim));
}

const sim_proto_t sim_proto_v201 = {
    .subprotocol = "ocpp2.0.1",
    .defs = &ocpp_v201_defs,
    .station_status = false,
    .action = action_v201,
    .payload = payload_v201,
    .read_answer = read_answer_v201,
    .answer = answer_v201,
    .err_name = ocpp_err_name_v201,
};
