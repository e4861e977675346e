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
 *
 * The server's calls are answered from a table (action -> handler), with the
 * version-neutral behaviour in firmware.c, diagnostics.c, profiles.c,
 * availability.c and local_list.c; features the simulator does not have
 * (certificates, display messages, monitoring, network profiles, local
 * firmware publishing) are answered as a station without them answers.
 */
#include "sim/availability.h"
#include "sim/diagnostics.h"
#include "sim/firmware.h"
#include "sim/local_list.h"
#include "sim/meter.h"
#include "sim/profiles.h"
#include "sim/proto.h"

#include "util/alloc.h"
#include "util/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const actions[SIM_MSG_COUNT] = {
    [SIM_MSG_BOOT] = "BootNotification",
    [SIM_MSG_HEARTBEAT] = "Heartbeat",
    [SIM_MSG_STATUS] = "StatusNotification",
    [SIM_MSG_AUTHORIZE] = "Authorize",
    [SIM_MSG_TX_START] = "TransactionEvent",
    [SIM_MSG_METER] = "TransactionEvent",
    [SIM_MSG_TX_STOP] = "TransactionEvent",
    [SIM_MSG_FW_STATUS] = "FirmwareStatusNotification",
    [SIM_MSG_LOG_STATUS] = "LogStatusNotification",
    [SIM_MSG_RESERVATION] = "ReservationStatusUpdate",
    [SIM_MSG_PROFILES] = "ReportChargingProfiles",
};

static const char *const log_status_names[SIM_LOG_STATUS_COUNT] = {
    [SIM_LOG_IDLE] = "Idle",
    [SIM_LOG_UPLOADING] = "Uploading",
    [SIM_LOG_UPLOADED] = "Uploaded",
    [SIM_LOG_UPLOAD_FAILED] = "UploadFailure",
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
    case SIM_CS_RESERVED:
        return "Reserved";
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
    case SIM_STOP_UNLOCK:
        return "Other"; /* 2.0.1 has no stop reason for it; the trigger says */
    case SIM_STOP_REBOOT:
        return "Reboot";
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
    case SIM_STOP_REBOOT:
        return "ResetCommand";
    case SIM_STOP_UNLOCK:
        return "UnlockCommand";
    default:
        return "StopAuthorized";
    }
}

/* One sampled value: numeric value, unitOfMeasure object. */
static void sample(strbuf_t *b, bool first, const char *fmt_value, double v, const char *ctx,
                   const char *measurand, const char *phase, const char *location, const char *unit)
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
    if (call->kind == SIM_MSG_TX_START && k->has_tx_reservation)
        strbuf_printf(b, ",\"reservationId\":%d", (int)k->reservation_id);
    if (call->kind != SIM_MSG_METER)
        strbuf_printf(b, ",\"idToken\":{\"idToken\":\"%s\",\"type\":\"%s\"}", k->tag,
                      token_type(k));
    strbuf_printf(b, ",\"evse\":{\"id\":%d,\"connectorId\":1},\"meterValue\":", k->id);
    if (call->kind == SIM_MSG_METER)
        meter_value_full(st, k, ts, b);
    else
        meter_value_register(
            k, ts, call->kind == SIM_MSG_TX_START ? "Transaction.Begin" : "Transaction.End", b);
    strbuf_append(b, "}", 1);
}

static void payload_v201(sim_station_t *st, const sim_call_t *call, strbuf_t *b)
{
    char ts[TIME_RFC3339_LEN];
    time_format_rfc3339(sim_wall_ms(st->sim), ts);
    sim_connector_t *k = call->connector > 0 ? &st->conn_[call->connector - 1] : NULL;
    switch (call->kind) {
    case SIM_MSG_BOOT:
        /* the version is ours or a firmware file's name: [A-Za-z0-9._+- ] */
        strbuf_printf(b,
                      "{\"chargingStation\":{\"model\":\"sim-%uc\",\"vendorName\":\"ampgrid\","
                      "\"serialNumber\":\"SIM%u\",\"firmwareVersion\":\"%s\"},\"reason\":\"%s\"}",
                      st->nconn, st->index, sim_firmware_version(st),
                      sim_firmware_rebooting(st) ? "FirmwareUpdate"
                      : st->ever_booted          ? "RemoteReset"
                                                 : "PowerUp");
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
    case SIM_MSG_FW_STATUS:
        strbuf_printf(b, "{\"status\":\"%s\"", sim_fw_status_names[call->arg]);
        if (call->has_ref) strbuf_printf(b, ",\"requestId\":%d", (int)call->ref);
        strbuf_append(b, "}", 1);
        break;
    case SIM_MSG_LOG_STATUS:
        strbuf_printf(b, "{\"status\":\"%s\"", log_status_names[call->arg]);
        if (call->has_ref) strbuf_printf(b, ",\"requestId\":%d", (int)call->ref);
        strbuf_append(b, "}", 1);
        break;
    case SIM_MSG_RESERVATION:
        strbuf_printf(b, "{\"reservationId\":%d,\"reservationUpdateStatus\":\"%s\"}",
                      (int)call->ref, call->arg ? "Removed" : "Expired");
        break;
    case SIM_MSG_PROFILES: /* written when queued */
        if (call->body)
            strbuf_append(b, call->body, strlen(call->body));
        else
            strbuf_append(b, "{}", 2);
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
        out->status =
            json_string_value(json_object_get(json_object_get(p, "idTokenInfo"), "status"));
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

static int int_of(const json_t *req, const char *key, int fallback)
{
    const json_t *v = json_object_get(req, key);
    return v ? (int)json_integer_value(v) : fallback;
}

static int64_t time_of(const json_t *req, const char *key)
{
    int64_t ms = 0;
    const char *s = json_string_value(json_object_get(req, key));
    return s && time_parse_rfc3339(s, &ms) ? ms : 0;
}

static json_t *request_start(sim_station_t *st, const json_t *req)
{
    json_t *evse = json_object_get(req, "evseId");
    const char *tag =
        json_string_value(json_object_get(json_object_get(req, "idToken"), "idToken"));
    if (tag && strlen(tag) > SIM_TAG_MAX) return status("Rejected");
    for (unsigned i = 0; i < st->nconn; i++) {
        sim_connector_t *k = &st->conn_[i];
        if (evse && json_integer_value(evse) != k->id) continue;
        bool free_for_tag = k->state == SIM_CS_AVAILABLE || (k->state == SIM_CS_RESERVED && tag &&
                                                             strcmp(tag, k->reserve_tag) == 0);
        if (!free_for_tag) {
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

/* A 2.0.1 transaction id as the simulator writes them (decimal); 0 = not one. */
static int64_t tx_id_of(const char *id)
{
    char *end;
    long long tx = id && *id ? strtoll(id, &end, 10) : 0;
    return id && *id && !*end && tx > 0 ? (int64_t)tx : 0;
}

static json_t *request_stop(sim_station_t *st, const json_t *req)
{
    int64_t tx = tx_id_of(json_string_value(json_object_get(req, "transactionId")));
    sim_connector_t *k = tx ? sim_session_find_tx(st, tx) : NULL;
    if (!k) return status("Rejected");
    sim_session_stop(k, SIM_STOP_REMOTE);
    return status("Accepted");
}

static json_t *reset(sim_station_t *st, const json_t *req)
{
    if (json_object_get(req, "evseId")) return status("Rejected"); /* whole station only */
    const char *type = json_string_value(json_object_get(req, "type"));
    sim_station_reset(st, type && strcmp(type, "Immediate") == 0);
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
    } else if (strcmp(what, "FirmwareStatusNotification") == 0) {
        sim_firmware_trigger(st);
    } else if (strcmp(what, "LogStatusNotification") == 0) {
        sim_diagnostics_trigger(st);
    } else {
        return status("NotImplemented");
    }
    return status("Accepted");
}

/* ---------------------------------------------------- smart charging */

static json_t *set_profile(sim_station_t *st, const json_t *req)
{
    sim_profile_t p;
    char why[120];
    if (!sim_profile_parse(json_object_get(req, "chargingProfile"), int_of(req, "evseId", 0),
                           sim_wall_ms(st->sim), &p, why, sizeof why) ||
        !sim_profiles_set(st, &p, why, sizeof why))
        return json_pack("{s:s,s:{s:s,s:s}}", "status", "Rejected", "statusInfo", "reasonCode",
                         "InvalidProfile", "additionalInfo", why);
    return status("Accepted");
}

static int purpose_of(const char *s)
{
    if (!s) return -1;
    if (strcmp(s, "ChargingStationMaxProfile") == 0) return SIM_CP_STATION_MAX;
    if (strcmp(s, "TxDefaultProfile") == 0) return SIM_CP_TX_DEFAULT;
    if (strcmp(s, "TxProfile") == 0) return SIM_CP_TX;
    return SIM_CP_EXTERNAL;
}

static json_t *clear_profile(sim_station_t *st, const json_t *req)
{
    const json_t *c = json_object_get(req, "chargingProfileCriteria");
    sim_cp_filter_t f = {
        .has_id = json_object_get(req, "chargingProfileId") != NULL,
        .id = int_of(req, "chargingProfileId", 0),
        .connector = int_of(c, "evseId", -1),
        .purpose = purpose_of(json_string_value(json_object_get(c, "chargingProfilePurpose"))),
        .stack_level = int_of(c, "stackLevel", -1),
    };
    return status(sim_profiles_clear(st, &f) ? "Accepted" : "Unknown");
}

static json_t *composite(sim_station_t *st, const json_t *req)
{
    int e = int_of(req, "evseId", 0);
    if (e < 0 || e > st->nconn) return status("Rejected");
    const char *unit = json_string_value(json_object_get(req, "chargingRateUnit"));
    bool amps = unit && strcmp(unit, "A") == 0;
    sim_composite_t cs;
    sim_profiles_composite(st, e, sim_wall_ms(st->sim), int_of(req, "duration", 0), amps, &cs);
    json_t *periods = json_array();
    for (unsigned i = 0; i < cs.n; i++)
        json_array_append_new(periods, json_pack("{s:i,s:f}", "startPeriod", cs.periods[i].start_s,
                                                 "limit", cs.periods[i].limit));
    char start[TIME_RFC3339_LEN];
    time_format_rfc3339(cs.start_ms, start);
    json_t *r = json_pack("{s:s,s:{s:i,s:i,s:s,s:s,s:o}}", "status", "Accepted", "schedule",
                          "evseId", e, "duration", (int)cs.duration_s, "scheduleStart", start,
                          "chargingRateUnit", amps ? "A" : "W", "chargingSchedulePeriod", periods);
    sim_composite_free(&cs);
    return r;
}

static bool int_listed(const json_t *arr, json_int_t v)
{
    size_t i;
    const json_t *x;
    if (!arr) return true;
    json_array_foreach(arr, i, x) if (json_integer_value(x) == v) return true;
    return false;
}

static bool cso_listed(const json_t *arr)
{
    size_t i;
    const json_t *x;
    if (!arr) return true;
    json_array_foreach(arr, i, x) if (strcmp(json_string_value(x), "CSO") == 0) return true;
    return false;
}

/* Whether profile p meets GetChargingProfiles' criterion for evse (-1 = any). */
static bool profile_wanted(const sim_profile_t *p, int evse, const json_t *crit)
{
    const char *purpose = json_string_value(json_object_get(crit, "chargingProfilePurpose"));
    return (evse < 0 || p->connector == evse) &&
           (!purpose || purpose_of(purpose) == (int)p->purpose) &&
           int_of(crit, "stackLevel", p->stack_level) == p->stack_level &&
           int_listed(json_object_get(crit, "chargingProfileId"), p->id) &&
           cso_listed(json_object_get(crit, "chargingLimitSource")); /* all set by the CSMS */
}

/* Answers with the profiles in ReportChargingProfiles, one per EVSE. */
static json_t *get_profiles(sim_station_t *st, const json_t *req)
{
    const json_t *crit = json_object_get(req, "chargingProfile");
    int evse = int_of(req, "evseId", -1), reports = 0;
    json_t *per[SIM_MAX_CONNECTORS + 1] = {NULL};
    for (unsigned i = 0; st->profiles && i < st->profiles->n; i++) {
        const sim_profile_t *p = &st->profiles->p[i];
        if (!profile_wanted(p, evse, crit)) continue;
        if (!per[p->connector]) {
            per[p->connector] = json_array();
            reports++;
        }
        json_array_append(per[p->connector], p->json);
    }
    if (!reports) return status("NoProfiles");
    for (int c = 0; c <= SIM_MAX_CONNECTORS; c++) {
        if (!per[c]) continue;
        json_t *r = json_pack("{s:i,s:s,s:i,s:o}", "requestId", int_of(req, "requestId", 0),
                              "chargingLimitSource", "CSO", "evseId", c, "chargingProfile", per[c]);
        if (--reports) json_object_set_new(r, "tbc", json_true());
        sim_station_call_ref(st, SIM_MSG_PROFILES, 0, 0, false, 0, json_dumps(r, JSON_COMPACT));
        json_decref(r);
    }
    return status("Accepted");
}

/* ------------------------------------------- availability, reservations */

static json_t *change_availability(sim_station_t *st, const json_t *req)
{
    static const char *const names[] = {"Accepted", "Rejected", "Scheduled"};
    const json_t *evse = json_object_get(req, "evse");
    const char *op = json_string_value(json_object_get(req, "operationalStatus"));
    int e = evse ? int_of(evse, "id", -1) : 0;
    /* each EVSE has one connector, number 1 */
    if (evse && int_of(evse, "connectorId", 1) != 1) return status("Rejected");
    return status(names[sim_avail_change(st, e, op && strcmp(op, "Operative") == 0)]);
}

static json_t *unlock(sim_station_t *st, const json_t *req)
{
    static const char *const names[] = {"Unlocked", "UnknownConnector",
                                        "OngoingAuthorizedTransaction"};
    if (int_of(req, "connectorId", 0) != 1) return status("UnknownConnector");
    return status(names[sim_unlock(st, int_of(req, "evseId", 0), false)]);
}

static json_t *reserve_now(sim_station_t *st, const json_t *req)
{
    static const char *const names[] = {"Accepted", "Faulted", "Occupied", "Rejected",
                                        "Unavailable"};
    /* no evseId: any EVSE (the simulator holds the first free one) */
    const char *tag =
        json_string_value(json_object_get(json_object_get(req, "idToken"), "idToken"));
    return status(names[sim_reserve(st, int_of(req, "evseId", 0), int_of(req, "id", 0), tag,
                                    time_of(req, "expiryDateTime"))]);
}

static json_t *cancel_reservation(sim_station_t *st, const json_t *req)
{
    return status(sim_reserve_cancel(st, int_of(req, "reservationId", 0)) ? "Accepted"
                                                                          : "Rejected");
}

static json_t *send_local_list(sim_station_t *st, const json_t *req)
{
    static const char *const names[] = {"Accepted", "Failed", "VersionMismatch"};
    const json_t *list = json_object_get(req, "localAuthorizationList");
    size_t n = json_array_size(list);
    sim_ll_entry_t *e = xcalloc(n ? n : 1, sizeof *e);
    for (size_t i = 0; i < n; i++) {
        const json_t *it = json_array_get(list, i);
        e[i].token = json_string_value(json_object_get(json_object_get(it, "idToken"), "idToken"));
        e[i].status =
            json_string_value(json_object_get(json_object_get(it, "idTokenInfo"), "status"));
    }
    const char *type = json_string_value(json_object_get(req, "updateType"));
    sim_ll_answer_t a = sim_local_list_update(st, int_of(req, "versionNumber", 0),
                                              type && strcmp(type, "Full") == 0, e, n);
    free(e);
    return status(names[a]);
}

static json_t *local_list_version(sim_station_t *st, const json_t *req)
{
    return json_pack("{s:i}", "versionNumber", (int)sim_local_list_version(st));
}

static json_t *transaction_status(sim_station_t *st, const json_t *req)
{
    const char *id = json_string_value(json_object_get(req, "transactionId"));
    if (!id) return json_pack("{s:b}", "messagesInQueue", sim_station_tx_queued(st, 0));
    int64_t tx = tx_id_of(id);
    const sim_connector_t *k = NULL;
    for (unsigned i = 0; tx && i < st->nconn && !k; i++)
        if (st->conn_[i].tx_id == tx) k = &st->conn_[i];
    bool ongoing = k && (k->state == SIM_CS_CHARGING || k->state == SIM_CS_FINISHING);
    return json_pack("{s:b,s:b}", "ongoingIndicator", ongoing, "messagesInQueue",
                     k && sim_station_tx_queued(st, k->id));
}

/* ------------------------------------------------- firmware and logs */

static json_t *update_firmware(sim_station_t *st, const json_t *req)
{
    const json_t *fw = json_object_get(req, "firmware");
    sim_fw_request_t r = {
        .location = json_string_value(json_object_get(fw, "location")),
        .retrieve_ms = time_of(fw, "retrieveDateTime"),
        .install_ms = time_of(fw, "installDateTime"),
        .retries = int_of(req, "retries", -1),
        .retry_interval_s = int_of(req, "retryInterval", 0),
        .has_request_id = true,
        .request_id = int_of(req, "requestId", 0),
        .signed_update = json_object_get(fw, "signature") != NULL,
        .detailed = true,
    };
    return status(sim_firmware_update(st, &r) == SIM_FW_ACCEPTED ? "Accepted" : "AcceptedCanceled");
}

static json_t *get_log(sim_station_t *st, const json_t *req)
{
    const json_t *log = json_object_get(req, "log");
    sim_log_request_t r = {
        .location = json_string_value(json_object_get(log, "remoteLocation")),
        .log_type = json_string_value(json_object_get(req, "logType")),
        .retries = int_of(req, "retries", -1),
        .retry_interval_s = int_of(req, "retryInterval", 0),
        .oldest_ms = time_of(log, "oldestTimestamp"),
        .latest_ms = time_of(log, "latestTimestamp"),
        .has_request_id = true,
        .request_id = int_of(req, "requestId", 0),
    };
    char name[128];
    bool cancelled = sim_diagnostics_request(st, &r, name, sizeof name);
    return json_pack("{s:s,s:s}", "status", cancelled ? "AcceptedCanceled" : "Accepted", "filename",
                     name);
}

/* ---------------------------------------- features the simulator lacks */

static json_t *device_model(sim_station_t *st, const json_t *req)
{
    /* Accepting would promise NotifyReport messages, which the simulator does not send. */
    return status("NotSupported");
}

/* One result per monitor asked for: the simulator monitors nothing. */
static json_t *set_monitoring(sim_station_t *st, const json_t *req)
{
    json_t *results = json_array(), *e;
    size_t i;
    json_array_foreach(json_object_get(req, "setMonitoringData"), i, e)
    {
        json_array_append_new(results,
                              json_pack("{s:s,s:O,s:O,s:O,s:O}", "status", "UnsupportedMonitorType",
                                        "type", json_object_get(e, "type"), "severity",
                                        json_object_get(e, "severity"), "component",
                                        json_object_get(e, "component"), "variable",
                                        json_object_get(e, "variable")));
    }
    return json_pack("{s:o}", "setMonitoringResult", results);
}

static json_t *clear_monitoring(sim_station_t *st, const json_t *req)
{
    json_t *results = json_array(), *e;
    size_t i;
    json_array_foreach(json_object_get(req, "id"), i, e)
    {
        json_array_append_new(results, json_pack("{s:s,s:O}", "status", "NotFound", "id", e));
    }
    return json_pack("{s:o}", "clearMonitoringResult", results);
}

#define FIXED(fn, value)                                                                           \
    static json_t *fn(sim_station_t *st, const json_t *req)                                        \
    {                                                                                              \
        return status(value);                                                                      \
    }

FIXED(ok_status, "Accepted")
FIXED(rejected, "Rejected")
FIXED(not_found, "NotFound")
FIXED(unknown, "Unknown")
FIXED(not_supported, "NotSupported")
FIXED(unknown_vendor, "UnknownVendorId")
FIXED(no_firmware, "NoFirmware")

typedef struct handler {
    const char *action;
    json_t *(*fn)(sim_station_t *st, const json_t *req);
} handler_t;

static const handler_t handlers[] = {
    {"CancelReservation", cancel_reservation},
    {"ChangeAvailability", change_availability},
    {"ClearCache", ok_status}, /* the simulator caches no authorizations */
    {"ClearChargingProfile", clear_profile},
    {"DataTransfer", unknown_vendor},
    {"GetBaseReport", device_model},
    {"GetChargingProfiles", get_profiles},
    {"GetCompositeSchedule", composite},
    {"GetLocalListVersion", local_list_version},
    {"GetLog", get_log},
    {"GetReport", device_model},
    {"GetTransactionStatus", transaction_status},
    {"GetVariables", get_variables},
    {"RequestStartTransaction", request_start},
    {"RequestStopTransaction", request_stop},
    {"ReserveNow", reserve_now},
    {"Reset", reset},
    {"SendLocalList", send_local_list},
    {"SetChargingProfile", set_profile},
    {"SetVariables", set_variables},
    {"TriggerMessage", trigger},
    {"UnlockConnector", unlock},
    {"UpdateFirmware", update_firmware},
    /* features a station may lack, answered as one without them */
    {"CertificateSigned", rejected},
    {"ClearDisplayMessage", unknown},
    {"ClearVariableMonitoring", clear_monitoring},
    {"CustomerInformation", rejected},
    {"DeleteCertificate", not_found},
    {"GetDisplayMessages", unknown},
    {"GetInstalledCertificateIds", not_found},
    {"GetMonitoringReport", not_supported},
    {"InstallCertificate", rejected},
    {"PublishFirmware", rejected},
    {"SetDisplayMessage", rejected},
    {"SetMonitoringBase", not_supported},
    {"SetMonitoringLevel", rejected},
    {"SetNetworkProfile", rejected},
    {"SetVariableMonitoring", set_monitoring},
    {"UnpublishFirmware", no_firmware},
    {NULL, NULL},
};

static json_t *answer_v201(sim_station_t *st, const char *action, const json_t *req)
{
    for (const handler_t *h = handlers; h->action; h++)
        if (strcmp(h->action, action) == 0) return h->fn(st, req);
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
