/*
 * OCPP 1.6J for the simulated station: payloads of what it sends, the facts
 * it reads from answers, and its answers to every CSMS-initiated 1.6 call.
 *
 * Payloads are written with printf into the station's scratch buffer rather
 * than built as jansson trees: a throughput run sends tens of thousands of
 * MeterValues per second from the same two cores the server uses, and a
 * nine-sample MeterValues costs ~2 us this way against ~15 us as a tree.
 * Everything written here is plain ASCII from the simulator's own ids, so no
 * escaping is needed; the unit tests validate every kind against the 1.6
 * definitions.
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
    [SIM_MSG_TX_START] = "StartTransaction", [SIM_MSG_METER] = "MeterValues",
    [SIM_MSG_TX_STOP] = "StopTransaction",
};

static const char *action_v16(sim_msg_t kind)
{
    return actions[kind];
}

static const char *status_name(int cs)
{
    switch (cs) {
    case SIM_CS_PREPARING:
        return "Preparing";
    case SIM_CS_CHARGING:
        return "Charging";
    case SIM_CS_FINISHING:
        return "Finishing";
    case SIM_CS_UNAVAILABLE:
        return "Unavailable";
    default:
        return "Available";
    }
}

static const char *stop_reason_name(int r)
{
    switch (r) {
    case SIM_STOP_REMOTE:
        return "Remote";
    case SIM_STOP_EV_DISCONNECTED:
        return "EVDisconnected";
    case SIM_STOP_SOFT_RESET:
        return "SoftReset";
    case SIM_STOP_HARD_RESET:
        return "HardReset";
    default:
        return "Local";
    }
}

/* The nine samples of a three-phase charger's periodic meter value. */
static void meter_value(sim_station_t *st, const sim_connector_t *k, const char *ts, strbuf_t *b)
{
    sim_sample_t m;
    sim_meter_sample(st->sim, k, &m);
    strbuf_printf(b,
                  "{\"timestamp\":\"%s\",\"sampledValue\":["
                  "{\"value\":\"%.0f\",\"context\":\"Sample.Periodic\","
                  "\"measurand\":\"Energy.Active.Import.Register\",\"location\":\"Outlet\","
                  "\"unit\":\"Wh\"},"
                  "{\"value\":\"%.0f\",\"context\":\"Sample.Periodic\","
                  "\"measurand\":\"Power.Active.Import\",\"location\":\"Outlet\",\"unit\":\"W\"}",
                  ts, m.energy_wh, m.power_w);
    static const char *const phases[3] = {"L1", "L2", "L3"};
    static const char *const vphases[3] = {"L1-N", "L2-N", "L3-N"};
    for (int p = 0; p < 3; p++)
        strbuf_printf(b,
                      ",{\"value\":\"%.1f\",\"context\":\"Sample.Periodic\","
                      "\"measurand\":\"Current.Import\",\"phase\":\"%s\",\"location\":\"Outlet\","
                      "\"unit\":\"A\"}",
                      m.current_a[p], phases[p]);
    for (int p = 0; p < 3; p++)
        strbuf_printf(b,
                      ",{\"value\":\"%.1f\",\"context\":\"Sample.Periodic\","
                      "\"measurand\":\"Voltage\",\"phase\":\"%s\",\"location\":\"Outlet\","
                      "\"unit\":\"V\"}",
                      m.voltage_v[p], vphases[p]);
    strbuf_printf(b,
                  ",{\"value\":\"%.0f\",\"context\":\"Sample.Periodic\",\"measurand\":\"SoC\","
                  "\"location\":\"EV\",\"unit\":\"Percent\"}]}",
                  m.soc);
}

static void payload_v16(sim_station_t *st, const sim_call_t *call, strbuf_t *b)
{
    char ts[TIME_RFC3339_LEN];
    time_format_rfc3339(sim_wall_ms(st->sim), ts);
    sim_connector_t *k = call->connector > 0 ? &st->conn_[call->connector - 1] : NULL;
    switch (call->kind) {
    case SIM_MSG_BOOT:
        strbuf_printf(b,
                      "{\"chargePointVendor\":\"ampgrid\",\"chargePointModel\":\"sim-%uc\","
                      "\"chargePointSerialNumber\":\"SIM%u\",\"firmwareVersion\":\"ampgrid-"
                      "sim " AMPGRID_VERSION "\"}",
                      st->nconn, st->index);
        break;
    case SIM_MSG_HEARTBEAT:
        strbuf_append(b, "{}", 2);
        break;
    case SIM_MSG_STATUS:
        strbuf_printf(b,
                      "{\"connectorId\":%d,\"errorCode\":\"NoError\",\"status\":\"%s\","
                      "\"timestamp\":\"%s\"}",
                      call->connector, status_name(call->arg), ts);
        break;
    case SIM_MSG_AUTHORIZE:
        strbuf_printf(b, "{\"idTag\":\"%s\"}", k->tag);
        break;
    case SIM_MSG_TX_START:
        strbuf_printf(b,
                      "{\"connectorId\":%d,\"idTag\":\"%s\",\"meterStart\":%.0f,"
                      "\"timestamp\":\"%s\"}",
                      k->id, k->tag, k->energy_wh, ts);
        break;
    case SIM_MSG_METER:
        strbuf_printf(b, "{\"connectorId\":%d,\"transactionId\":%lld,\"meterValue\":[", k->id,
                      (long long)k->tx_id);
        meter_value(st, k, ts, b);
        strbuf_append(b, "]}", 2);
        break;
    case SIM_MSG_TX_STOP:
        strbuf_printf(b,
                      "{\"transactionId\":%lld,\"idTag\":\"%s\",\"meterStop\":%.0f,"
                      "\"timestamp\":\"%s\",\"reason\":\"%s\"}",
                      (long long)k->tx_id, k->tag, k->energy_wh, ts, stop_reason_name(call->arg));
        break;
    case SIM_MSG_COUNT:
        break;
    }
}

static void read_answer_v16(sim_msg_t kind, const json_t *p, sim_answer_t *out)
{
    memset(out, 0, sizeof *out);
    switch (kind) {
    case SIM_MSG_BOOT:
        out->status = json_string_value(json_object_get(p, "status"));
        out->interval = (int)json_integer_value(json_object_get(p, "interval"));
        break;
    case SIM_MSG_AUTHORIZE:
    case SIM_MSG_TX_START:
    case SIM_MSG_TX_STOP: {
        json_t *info = json_object_get(p, "idTagInfo");
        out->status = json_string_value(json_object_get(info, "status"));
        json_t *tx = json_object_get(p, "transactionId");
        if (json_is_integer(tx)) {
            out->tx_id = json_integer_value(tx);
            out->has_tx_id = true;
        }
        break;
    }
    default:
        break;
    }
}

/* ------------------------------------------------------- configuration */

typedef struct config_key {
    const char *key;
    bool readonly;
} config_key_t;

static const config_key_t config_keys[] = {
    {"AuthorizeRemoteTxRequests", false}, {"AuthorizationKey", false},
    {"ClockAlignedDataInterval", false},  {"ConnectionTimeOut", false},
    {"HeartbeatInterval", false},         {"MeterValueSampleInterval", false},
    {"MeterValuesSampledData", false},    {"NumberOfConnectors", true},
    {"SecurityProfile", false},           {"SupportedFeatureProfiles", true},
    {"WebSocketPingInterval", false},     {NULL, false},
};

static const config_key_t *find_key(const char *key)
{
    for (const config_key_t *k = config_keys; k->key; k++)
        if (strcmp(k->key, key) == 0) return k;
    return NULL;
}

/* The value GetConfiguration reports; NULL for write-only keys. */
static void key_value(const sim_station_t *st, const char *key, char *out, size_t len)
{
    if (strcmp(key, "HeartbeatInterval") == 0)
        snprintf(out, len, "%d", st->heartbeat_s);
    else if (strcmp(key, "MeterValueSampleInterval") == 0)
        snprintf(out, len, "%d", st->meter_interval_s);
    else if (strcmp(key, "NumberOfConnectors") == 0)
        snprintf(out, len, "%u", st->nconn);
    else if (strcmp(key, "MeterValuesSampledData") == 0)
        snprintf(out, len,
                 "Energy.Active.Import.Register,Power.Active.Import,Current.Import,"
                 "Voltage,SoC");
    else if (strcmp(key, "SupportedFeatureProfiles") == 0)
        snprintf(out, len, "Core,RemoteTrigger,SmartCharging,Reservation,LocalAuthListManagement");
    else if (strcmp(key, "AuthorizeRemoteTxRequests") == 0)
        snprintf(out, len, "false");
    else if (strcmp(key, "SecurityProfile") == 0)
        snprintf(out, len, "1");
    else
        snprintf(out, len, "%s", strcmp(key, "WebSocketPingInterval") == 0 ? "0" : "60");
}

static json_t *key_entry(const sim_station_t *st, const config_key_t *k)
{
    char v[200];
    key_value(st, k->key, v, sizeof v);
    return json_pack("{s:s,s:b,s:s}", "key", k->key, "readonly", k->readonly, "value", v);
}

static json_t *get_configuration(sim_station_t *st, const json_t *req)
{
    json_t *keys = json_array(), *unknown = json_array();
    json_t *want = json_object_get(req, "key");
    size_t i;
    json_t *w;
    if (!want || json_array_size(want) == 0) {
        for (const config_key_t *k = config_keys; k->key; k++)
            if (strcmp(k->key, "AuthorizationKey") != 0) /* write-only */
                json_array_append_new(keys, key_entry(st, k));
    } else {
        json_array_foreach(want, i, w)
        {
            const config_key_t *k = find_key(json_string_value(w));
            if (k && strcmp(k->key, "AuthorizationKey") != 0)
                json_array_append_new(keys, key_entry(st, k));
            else
                json_array_append(unknown, w);
        }
    }
    json_t *r = json_pack("{s:o}", "configurationKey", keys);
    if (json_array_size(unknown))
        json_object_set_new(r, "unknownKey", unknown);
    else
        json_decref(unknown);
    return r;
}

static const char *change_configuration(sim_station_t *st, const char *key, const char *value)
{
    const config_key_t *k = find_key(key);
    if (!k) return "NotSupported";
    if (k->readonly) return "Rejected";
    if (strcmp(key, "AuthorizationKey") == 0) {
        size_t n = strlen(value);
        if (n < 16 || n > SIM_PASSWORD_MAX) return "Rejected";
        free(st->password);
        st->password = xstrdup(value); /* used from the next connection on */
        return "Accepted";
    }
    if (strcmp(key, "HeartbeatInterval") == 0 || strcmp(key, "MeterValueSampleInterval") == 0) {
        char *end;
        long v = strtol(value, &end, 10);
        if (*end || v < 1 || v > 86400) return "Rejected";
        if (key[0] == 'H')
            sim_station_set_heartbeat(st, (int)v);
        else
            st->meter_interval_s = (int)v;
    }
    return "Accepted";
}

/* ------------------------------------------------------- server calls */

static json_t *status(const char *s)
{
    return json_pack("{s:s}", "status", s);
}

static json_t *remote_start(sim_station_t *st, const json_t *req)
{
    json_t *cid = json_object_get(req, "connectorId");
    const char *tag = json_string_value(json_object_get(req, "idTag"));
    for (unsigned i = 0; i < st->nconn; i++) {
        sim_connector_t *k = &st->conn_[i];
        if (cid && json_integer_value(cid) != k->id) continue;
        if (k->state == SIM_CS_AVAILABLE && st->sim->accepting_new_work)
            return status(sim_session_start(k, tag, true) ? "Accepted" : "Rejected");
        break;
    }
    return status("Rejected");
}

static json_t *remote_stop(sim_station_t *st, const json_t *req)
{
    sim_connector_t *k =
        sim_session_find_tx(st, json_integer_value(json_object_get(req, "transactionId")));
    if (!k) return status("Rejected");
    sim_session_stop(k, SIM_STOP_REMOTE);
    return status("Accepted");
}

static json_t *trigger(sim_station_t *st, const json_t *req)
{
    const char *what = json_string_value(json_object_get(req, "requestedMessage"));
    json_t *cid = json_object_get(req, "connectorId");
    int c = cid ? (int)json_integer_value(cid) : 0;
    if (c < 0 || c > st->nconn) return status("Rejected");
    if (strcmp(what, "BootNotification") == 0)
        sim_station_call(st, SIM_MSG_BOOT, 0, 0);
    else if (strcmp(what, "Heartbeat") == 0)
        sim_station_call(st, SIM_MSG_HEARTBEAT, 0, 0);
    else if (strcmp(what, "StatusNotification") == 0)
        sim_station_call(st, SIM_MSG_STATUS, c, c ? (int)st->conn_[c - 1].state : 0);
    else if (strcmp(what, "MeterValues") == 0 && c > 0 && st->conn_[c - 1].tx_id > 0)
        sim_station_call(st, SIM_MSG_METER, c, 0);
    else
        return status("NotImplemented");
    return status("Accepted");
}

static json_t *set_profile(sim_station_t *st, const json_t *req)
{
    int c = (int)json_integer_value(json_object_get(req, "connectorId"));
    json_t *sched = json_object_get(json_object_get(req, "csChargingProfiles"), "chargingSchedule");
    const char *unit = json_string_value(json_object_get(sched, "chargingRateUnit"));
    json_t *first = json_array_get(json_object_get(sched, "chargingSchedulePeriod"), 0);
    double limit = json_number_value(json_object_get(first, "limit"));
    if (unit && strcmp(unit, "A") == 0) limit *= 3 * 230.0; /* three phases */
    for (unsigned i = 0; i < st->nconn; i++)
        if (c == 0 || c == st->conn_[i].id) st->conn_[i].limit_w = limit > 0 ? limit : 0;
    return status("Accepted");
}

static json_t *answer_v16(sim_station_t *st, const char *action, const json_t *req)
{
    if (strcmp(action, "RemoteStartTransaction") == 0) return remote_start(st, req);
    if (strcmp(action, "RemoteStopTransaction") == 0) return remote_stop(st, req);
    if (strcmp(action, "Reset") == 0) {
        const char *type = json_string_value(json_object_get(req, "type"));
        sim_station_reset(st, type && strcmp(type, "Hard") == 0);
        return status("Accepted");
    }
    if (strcmp(action, "ChangeConfiguration") == 0)
        return status(change_configuration(st, json_string_value(json_object_get(req, "key")),
                                           json_string_value(json_object_get(req, "value"))));
    if (strcmp(action, "GetConfiguration") == 0) return get_configuration(st, req);
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
    const ocpp_message_def_t *def = ocpp_schema_find(&ocpp_v16_defs, action);
    return sim_proto_minimal(def->response, sim_wall_ms(st->sim));
}

const sim_proto_t sim_proto_v16 = {
    .subprotocol = "ocpp1.6",
    .defs = &ocpp_v16_defs,
    .station_status = true,
    .action = action_v16,
    .payload = payload_v16,
    .read_answer = read_answer_v16,
    .answer = answer_v16,
    .err_name = ocpp_err_name_v16,
};
