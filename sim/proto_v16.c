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
 *
 * The server's calls are answered from a table (action -> handler); the
 * behaviour behind them is version-neutral and lives in firmware.c,
 * diagnostics.c, profiles.c, availability.c and local_list.c. Calls of the
 * security whitepaper's extension are answered as a station without it
 * answers them.
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
    [SIM_MSG_TX_START] = "StartTransaction",
    [SIM_MSG_METER] = "MeterValues",
    [SIM_MSG_TX_STOP] = "StopTransaction",
    [SIM_MSG_FW_STATUS] = "FirmwareStatusNotification",
    [SIM_MSG_LOG_STATUS] = "DiagnosticsStatusNotification",
    /* ReservationStatusUpdate and ReportChargingProfiles: 2.0.1 only */
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
    case SIM_CS_RESERVED:
        return "Reserved";
    default:
        return "Available";
    }
}

/* 1.6's firmware statuses; the 2.0.1-only ones are never reported by a 1.6
 * station (firmware.c leaves them out unless the request was 2.0.1's) and map
 * to their nearest here only to keep every payload valid. */
static const char *const fw_status_names[SIM_FW_STATUS_COUNT] = {
    [SIM_FW_IDLE] = "Idle",
    [SIM_FW_DOWNLOAD_SCHEDULED] = "Idle",
    [SIM_FW_DOWNLOADING] = "Downloading",
    [SIM_FW_DOWNLOADED] = "Downloaded",
    [SIM_FW_DOWNLOAD_FAILED] = "DownloadFailed",
    [SIM_FW_SIGNATURE_VERIFIED] = "Downloaded",
    [SIM_FW_INVALID_SIGNATURE] = "InstallationFailed",
    [SIM_FW_INSTALL_SCHEDULED] = "Downloaded",
    [SIM_FW_INSTALLING] = "Installing",
    [SIM_FW_INSTALL_REBOOTING] = "Installing",
    [SIM_FW_INSTALLED] = "Installed",
    [SIM_FW_INSTALLATION_FAILED] = "InstallationFailed",
};

static const char *const log_status_names[SIM_LOG_STATUS_COUNT] = {
    [SIM_LOG_IDLE] = "Idle",
    [SIM_LOG_UPLOADING] = "Uploading",
    [SIM_LOG_UPLOADED] = "Uploaded",
    [SIM_LOG_UPLOAD_FAILED] = "UploadFailed",
};

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
    case SIM_STOP_UNLOCK:
        return "UnlockCommand";
    case SIM_STOP_REBOOT:
        return "Reboot";
    default:
        return "Local";
    }
}

#define PUT(b, lit) strbuf_append(b, lit, sizeof lit - 1)

/* The nine samples of a three-phase charger's periodic meter value, written
 * piece by piece: this runs for every MeterValues of a throughput run, where
 * printf's formatting was most of the simulator's work. */
static void meter_value(sim_station_t *st, const sim_connector_t *k, const char *ts, strbuf_t *b)
{
    sim_sample_t m;
    sim_meter_sample(st->sim, k, &m);
    PUT(b, "{\"timestamp\":\"");
    strbuf_append(b, ts, strlen(ts));
    PUT(b, "\",\"sampledValue\":[{\"value\":\"");
    strbuf_fixed(b, m.energy_wh, 0);
    PUT(b, "\",\"context\":\"Sample.Periodic\",\"measurand\":\"Energy.Active.Import.Register\","
           "\"location\":\"Outlet\",\"unit\":\"Wh\"},{\"value\":\"");
    strbuf_fixed(b, m.power_w, 0);
    PUT(b, "\",\"context\":\"Sample.Periodic\",\"measurand\":\"Power.Active.Import\","
           "\"location\":\"Outlet\",\"unit\":\"W\"}");
    static const char *const phases[3] = {"L1\"", "L2\"", "L3\""};
    static const char *const vphases[3] = {"L1-N\"", "L2-N\"", "L3-N\""};
    for (int p = 0; p < 3; p++) {
        PUT(b, ",{\"value\":\"");
        strbuf_fixed(b, m.current_a[p], 1);
        PUT(b, "\",\"context\":\"Sample.Periodic\",\"measurand\":\"Current.Import\",\"phase\":\"");
        strbuf_append(b, phases[p], 3);
        PUT(b, ",\"location\":\"Outlet\",\"unit\":\"A\"}");
    }
    for (int p = 0; p < 3; p++) {
        PUT(b, ",{\"value\":\"");
        strbuf_fixed(b, m.voltage_v[p], 1);
        PUT(b, "\",\"context\":\"Sample.Periodic\",\"measurand\":\"Voltage\",\"phase\":\"");
        strbuf_append(b, vphases[p], 5);
        PUT(b, ",\"location\":\"Outlet\",\"unit\":\"V\"}");
    }
    PUT(b, ",{\"value\":\"");
    strbuf_fixed(b, m.soc, 0);
    PUT(b, "\",\"context\":\"Sample.Periodic\",\"measurand\":\"SoC\",\"location\":\"EV\","
           "\"unit\":\"Percent\"}]}");
}

static void payload_v16(sim_station_t *st, const sim_call_t *call, strbuf_t *b)
{
    char ts[TIME_RFC3339_LEN];
    time_format_rfc3339(sim_wall_ms(st->sim), ts);
    sim_connector_t *k = call->connector > 0 ? &st->conn_[call->connector - 1] : NULL;
    switch (call->kind) {
    case SIM_MSG_BOOT:
        /* the version is ours or a firmware file's name: [A-Za-z0-9._+- ] */
        strbuf_printf(b,
                      "{\"chargePointVendor\":\"ampgrid\",\"chargePointModel\":\"sim-%uc\","
                      "\"chargePointSerialNumber\":\"SIM%u\",\"firmwareVersion\":\"%s\"}",
                      st->nconn, st->index, sim_firmware_version(st));
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
                      "\"timestamp\":\"%s\"",
                      k->id, k->tag, k->energy_wh, ts);
        if (k->has_tx_reservation)
            strbuf_printf(b, ",\"reservationId\":%d", (int)k->reservation_id);
        strbuf_append(b, "}", 1);
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
    case SIM_MSG_FW_STATUS:
        strbuf_printf(b, "{\"status\":\"%s\"}", fw_status_names[call->arg]);
        break;
    case SIM_MSG_LOG_STATUS:
        strbuf_printf(b, "{\"status\":\"%s\"}", log_status_names[call->arg]);
        break;
    default: /* kinds 1.6 does not have: never queued on a 1.6 link */
        strbuf_append(b, "{}", 2);
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

/* value NULL: computed (key_value) or write-only (AuthorizationKey). */
typedef struct config_key {
    const char *key;
    bool readonly;
    const char *value;
} config_key_t;

static const config_key_t config_keys[] = {
    {"AuthorizeRemoteTxRequests", false, "false"},
    {"AuthorizationKey", false, NULL},
    {"ChargingScheduleAllowedChargingRateUnit", true, "Current,Power"},
    {"ClockAlignedDataInterval", false, "60"},
    {"ConnectionTimeOut", false, "60"},
    {"HeartbeatInterval", false, NULL},
    {"LocalAuthListEnabled", true, "true"},
    {"LocalAuthListMaxLength", true, "1000"},
    {"MaxChargingProfilesInstalled", true, "16"},
    {"MeterValueSampleInterval", false, NULL},
    {"MeterValuesSampledData", false,
     "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,SoC"},
    {"NumberOfConnectors", true, NULL},
    {"ReserveConnectorZeroSupported", true, "false"},
    {"SecurityProfile", false, "1"},
    {"SendLocalListMaxLength", true, "1000"},
    {"SupportedFeatureProfiles", true,
     "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger"},
    {"WebSocketPingInterval", false, "0"},
    {NULL, false, NULL},
};

static const config_key_t *find_key(const char *key)
{
    for (const config_key_t *k = config_keys; k->key; k++)
        if (strcmp(k->key, key) == 0) return k;
    return NULL;
}

static void key_value(const sim_station_t *st, const config_key_t *k, char *out, size_t len)
{
    if (k->value)
        snprintf(out, len, "%s", k->value);
    else if (strcmp(k->key, "HeartbeatInterval") == 0)
        snprintf(out, len, "%d", st->heartbeat_s);
    else if (strcmp(k->key, "MeterValueSampleInterval") == 0)
        snprintf(out, len, "%d", st->meter_interval_s);
    else
        snprintf(out, len, "%u", st->nconn);
}

static bool write_only(const config_key_t *k)
{
    return strcmp(k->key, "AuthorizationKey") == 0;
}

static json_t *key_entry(const sim_station_t *st, const config_key_t *k)
{
    char v[200];
    key_value(st, k, v, sizeof v);
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
            if (!write_only(k)) json_array_append_new(keys, key_entry(st, k));
    } else {
        json_array_foreach(want, i, w)
        {
            const config_key_t *k = find_key(json_string_value(w));
            if (k && !write_only(k))
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
    if (write_only(k)) {
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

static json_t *remote_start(sim_station_t *st, const json_t *req)
{
    json_t *cid = json_object_get(req, "connectorId");
    const char *tag = json_string_value(json_object_get(req, "idTag"));
    for (unsigned i = 0; i < st->nconn; i++) {
        sim_connector_t *k = &st->conn_[i];
        if (cid && json_integer_value(cid) != k->id) continue;
        if ((k->state == SIM_CS_AVAILABLE || k->state == SIM_CS_RESERVED) &&
            st->sim->accepting_new_work)
            return status(sim_session_start(k, tag, true) ? "Accepted" : "Rejected");
        if (cid) break;
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

static json_t *reset(sim_station_t *st, const json_t *req)
{
    const char *type = json_string_value(json_object_get(req, "type"));
    sim_station_reset(st, type && strcmp(type, "Hard") == 0);
    return status("Accepted");
}

static json_t *change_config(sim_station_t *st, const json_t *req)
{
    return status(change_configuration(st, json_string_value(json_object_get(req, "key")),
                                       json_string_value(json_object_get(req, "value"))));
}

static json_t *trigger(sim_station_t *st, const json_t *req)
{
    const char *what = json_string_value(json_object_get(req, "requestedMessage"));
    int c = int_of(req, "connectorId", 0);
    if (c < 0 || c > st->nconn) return status("Rejected");
    if (strcmp(what, "BootNotification") == 0)
        sim_station_call(st, SIM_MSG_BOOT, 0, 0);
    else if (strcmp(what, "Heartbeat") == 0)
        sim_station_call(st, SIM_MSG_HEARTBEAT, 0, 0);
    else if (strcmp(what, "StatusNotification") == 0)
        sim_station_call(st, SIM_MSG_STATUS, c,
                         c                 ? (int)st->conn_[c - 1].state
                         : st->inoperative ? SIM_CS_UNAVAILABLE
                                           : SIM_CS_AVAILABLE);
    else if (strcmp(what, "MeterValues") == 0 && c > 0 && st->conn_[c - 1].tx_id > 0)
        sim_station_call(st, SIM_MSG_METER, c, 0);
    else if (strcmp(what, "FirmwareStatusNotification") == 0)
        sim_firmware_trigger(st);
    else if (strcmp(what, "DiagnosticsStatusNotification") == 0)
        sim_diagnostics_trigger(st);
    else
        return status("NotImplemented");
    return status("Accepted");
}

static json_t *set_profile(sim_station_t *st, const json_t *req)
{
    sim_profile_t p;
    char why[120];
    if (!sim_profile_parse(json_object_get(req, "csChargingProfiles"),
                           int_of(req, "connectorId", 0), sim_wall_ms(st->sim), &p, why,
                           sizeof why))
        return status("Rejected");
    return status(sim_profiles_set(st, &p, why, sizeof why) ? "Accepted" : "Rejected");
}

static int purpose_of(const char *s)
{
    if (!s) return -1;
    if (strcmp(s, "ChargePointMaxProfile") == 0) return SIM_CP_STATION_MAX;
    return strcmp(s, "TxDefaultProfile") == 0 ? SIM_CP_TX_DEFAULT : SIM_CP_TX;
}

static json_t *clear_profile(sim_station_t *st, const json_t *req)
{
    sim_cp_filter_t f = {
        .has_id = json_object_get(req, "id") != NULL,
        .id = int_of(req, "id", 0),
        .connector = int_of(req, "connectorId", -1),
        .purpose = purpose_of(json_string_value(json_object_get(req, "chargingProfilePurpose"))),
        .stack_level = int_of(req, "stackLevel", -1),
    };
    return status(sim_profiles_clear(st, &f) ? "Accepted" : "Unknown");
}

static json_t *composite(sim_station_t *st, const json_t *req)
{
    int c = int_of(req, "connectorId", 0);
    if (c < 0 || c > st->nconn) return status("Rejected");
    const char *unit = json_string_value(json_object_get(req, "chargingRateUnit"));
    bool amps = unit && strcmp(unit, "A") == 0;
    sim_composite_t cs;
    sim_profiles_composite(st, c, sim_wall_ms(st->sim), int_of(req, "duration", 0), amps, &cs);
    json_t *periods = json_array();
    for (unsigned i = 0; i < cs.n; i++)
        json_array_append_new(periods, json_pack("{s:i,s:f}", "startPeriod", cs.periods[i].start_s,
                                                 "limit", cs.periods[i].limit));
    char start[TIME_RFC3339_LEN];
    time_format_rfc3339(cs.start_ms, start);
    json_t *r = json_pack("{s:s,s:i,s:s,s:{s:i,s:s,s:s,s:o}}", "status", "Accepted", "connectorId",
                          c, "scheduleStart", start, "chargingSchedule", "duration",
                          (int)cs.duration_s, "startSchedule", start, "chargingRateUnit",
                          amps ? "A" : "W", "chargingSchedulePeriod", periods);
    sim_composite_free(&cs);
    return r;
}

static json_t *change_availability(sim_station_t *st, const json_t *req)
{
    const char *type = json_string_value(json_object_get(req, "type"));
    static const char *const names[] = {"Accepted", "Rejected", "Scheduled"};
    return status(names[sim_avail_change(st, int_of(req, "connectorId", -1),
                                         type && strcmp(type, "Operative") == 0)]);
}

static json_t *unlock(sim_station_t *st, const json_t *req)
{
    return status(sim_unlock(st, int_of(req, "connectorId", 0), true) == SIM_UNLOCK_UNLOCKED
                      ? "Unlocked"
                      : "UnlockFailed");
}

static json_t *reserve_now(sim_station_t *st, const json_t *req)
{
    static const char *const names[] = {"Accepted", "Faulted", "Occupied", "Rejected",
                                        "Unavailable"};
    int c = int_of(req, "connectorId", 0);
    if (c == 0) return status("Rejected"); /* ReserveConnectorZeroSupported is false */
    return status(names[sim_reserve(st, c, int_of(req, "reservationId", 0),
                                    json_string_value(json_object_get(req, "idTag")),
                                    time_of(req, "expiryDate"))]);
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
        e[i].token = json_string_value(json_object_get(it, "idTag"));
        e[i].status =
            json_string_value(json_object_get(json_object_get(it, "idTagInfo"), "status"));
    }
    const char *type = json_string_value(json_object_get(req, "updateType"));
    sim_ll_answer_t a = sim_local_list_update(st, int_of(req, "listVersion", 0),
                                              type && strcmp(type, "Full") == 0, e, n);
    free(e);
    return status(names[a]);
}

static json_t *local_list_version(sim_station_t *st, const json_t *req)
{
    return json_pack("{s:i}", "listVersion", (int)sim_local_list_version(st));
}

static json_t *update_firmware(sim_station_t *st, const json_t *req)
{
    sim_fw_request_t r = {
        .location = json_string_value(json_object_get(req, "location")),
        .retrieve_ms = time_of(req, "retrieveDate"),
        .retries = int_of(req, "retries", -1),
        .retry_interval_s = int_of(req, "retryInterval", 0),
    };
    sim_firmware_update(st, &r);
    return json_object();
}

static json_t *get_diagnostics(sim_station_t *st, const json_t *req)
{
    sim_log_request_t r = {
        .location = json_string_value(json_object_get(req, "location")),
        .retries = int_of(req, "retries", -1),
        .retry_interval_s = int_of(req, "retryInterval", 0),
        .oldest_ms = time_of(req, "startTime"),
        .latest_ms = time_of(req, "stopTime"),
    };
    char name[128];
    sim_diagnostics_request(st, &r, name, sizeof name);
    return json_pack("{s:s}", "fileName", name);
}

static json_t *ok_status(sim_station_t *st, const json_t *req)
{
    return status("Accepted");
}

static json_t *unknown_vendor(sim_station_t *st, const json_t *req)
{
    return status("UnknownVendorId");
}

static json_t *rejected(sim_station_t *st, const json_t *req)
{
    return status("Rejected");
}

static json_t *not_found(sim_station_t *st, const json_t *req)
{
    return status("NotFound");
}

typedef struct handler {
    const char *action;
    json_t *(*fn)(sim_station_t *st, const json_t *req);
} handler_t;

static const handler_t handlers[] = {
    {"CancelReservation", cancel_reservation},
    {"ChangeAvailability", change_availability},
    {"ChangeConfiguration", change_config},
    {"ClearCache", ok_status}, /* the simulator caches no authorizations */
    {"ClearChargingProfile", clear_profile},
    {"DataTransfer", unknown_vendor},
    {"GetCompositeSchedule", composite},
    {"GetConfiguration", get_configuration},
    {"GetDiagnostics", get_diagnostics},
    {"GetLocalListVersion", local_list_version},
    {"RemoteStartTransaction", remote_start},
    {"RemoteStopTransaction", remote_stop},
    {"ReserveNow", reserve_now},
    {"Reset", reset},
    {"SendLocalList", send_local_list},
    {"SetChargingProfile", set_profile},
    {"TriggerMessage", trigger},
    {"UnlockConnector", unlock},
    {"UpdateFirmware", update_firmware},
    /* the security whitepaper's calls, as a station without that extension */
    {"CertificateSigned", rejected},
    {"DeleteCertificate", not_found},
    {"ExtendedTriggerMessage", rejected},
    {"GetInstalledCertificateIds", not_found},
    {"GetLog", rejected},
    {"InstallCertificate", rejected},
    {"SignedUpdateFirmware", rejected},
    {NULL, NULL},
};

static json_t *answer_v16(sim_station_t *st, const char *action, const json_t *req)
{
    for (const handler_t *h = handlers; h->action; h++)
        if (strcmp(h->action, action) == 0) return h->fn(st, req);
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
