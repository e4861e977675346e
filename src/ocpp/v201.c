/*
 * The OCPP 2.0.1 translator: maps each station-initiated 2.0.1 message onto
 * the same version-neutral domain the 1.6 translator uses, and the domain's
 * answers back onto 2.0.1 payloads. No business rules live here; payloads
 * arrive already validated against the 2.0.1 definitions.
 *
 * Differences it absorbs: EVSE and connector are explicit; transactions are
 * streams of TransactionEvents with station-chosen ids; sampled values are
 * numbers with a unit and a power-of-ten multiplier; unknown id tokens are
 * "Unknown" rather than "Invalid"; the device model arrives in NotifyReport.
 */
#include "ocpp/rpc.h"

#include "util/alloc.h"
#include "util/timefmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static int64_t ts_of(const json_t *o, const char *k)
{
    int64_t ms = 0;
    const char *s = str(o, k);
    if (!s || !time_parse_rfc3339(s, &ms)) return time_now_ms();
    return ms;
}

static int int_of(const json_t *o, const char *k, int dflt)
{
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (int)json_integer_value(v) : dflt;
}

static void store_failed(ocpp_incoming_t *in)
{
    ocpp_reply_error(in, OCPP_ERR_INTERNAL, "the server could not store this message; retry");
}

static json_t *now_json(void)
{
    char buf[TIME_RFC3339_LEN];
    return json_string(time_format_rfc3339(time_now_ms(), buf));
}

/* IdTokenInfoType from the domain's answer. */
static json_t *id_token_info(const csms_id_token_info_t *i)
{
    json_t *o = json_pack("{s:s}", "status", i->known ? i->status : "Unknown");
    if (i->expiry) {
        char buf[TIME_RFC3339_LEN];
        json_object_set_new(o, "cacheExpiryDateTime",
                            json_string(time_format_rfc3339(i->expiry, buf)));
    }
    if (i->parent_id_token)
        json_object_set_new(o, "groupIdToken",
                            json_pack("{s:s,s:s}", "idToken", i->parent_id_token, "type",
                                      i->parent_type ? i->parent_type : "Central"));
    return o;
}

static void empty_done(void *ctx, csms_err_t rc, const char *msg)
{
    ocpp_incoming_t *in = ctx;
    if (rc != CSMS_OK) store_failed(in);
    else ocpp_reply(in, json_object());
}

/* --------------------------------------------------------------- boot */

static void boot_done(void *ctx, csms_err_t rc, const csms_boot_result_t *r)
{
    ocpp_incoming_t *in = ctx;
    if (rc != CSMS_OK) {
        store_failed(in);
        return;
    }
    char buf[TIME_RFC3339_LEN];
    ocpp_reply(in, json_pack("{s:s,s:i,s:s}", "currentTime", time_format_rfc3339(r->now, buf),
                             "interval", r->interval, "status", r->status));
}

static void on_boot(ocpp_incoming_t *in, csms_station_t *st)
{
    const json_t *cs = json_object_get(in->payload, "chargingStation");
    const json_t *modem = json_object_get(cs, "modem");
    csms_boot_info_t b = {
        .vendor = str(cs, "vendorName"),
        .model = str(cs, "model"),
        .serial_number = str(cs, "serialNumber"),
        .firmware_version = str(cs, "firmwareVersion"),
        .iccid = str(modem, "iccid"),
        .imsi = str(modem, "imsi"),
        .reason = str(in->payload, "reason"),
    };
    csms_boot(ocpp_session_csms(in->sess), st, &b, boot_done, in);
}

static void heartbeat_done(void *ctx, csms_err_t rc, const char *msg)
{
    ocpp_incoming_t *in = ctx;
    if (rc != CSMS_OK) store_failed(in);
    else ocpp_reply(in, json_pack("{s:o}", "currentTime", now_json()));
}

static void on_heartbeat(ocpp_incoming_t *in, csms_station_t *st)
{
    csms_heartbeat(ocpp_session_csms(in->sess), st, heartbeat_done, in);
}

static void on_status(ocpp_incoming_t *in, csms_station_t *st)
{
    const json_t *p = in->payload;
    csms_status_report_t r = {
        .evse_id = int_of(p, "evseId", 0),
        .connector_id = int_of(p, "connectorId", 0),
        .status = str(p, "connectorStatus"),
        .timestamp = ts_of(p, "timestamp"),
    };
    if (r.evse_id < 0 || r.connector_id < 0) {
        ocpp_reply_error(in, OCPP_ERR_PROPERTY, "evseId and connectorId must be 0 or more");
        return;
    }
    csms_status(ocpp_session_csms(in->sess), st, &r, empty_done, in);
}

/* -------------------------------------------------------- authorization */

static csms_id_token_info_t authorize(ocpp_incoming_t *in, const json_t *tok, bool concurrent)
{
    return csms_authorize_typed(ocpp_session_csms(in->sess), str(tok, "idToken"),
                                str(tok, "type"), concurrent);
}

static void on_authorize(ocpp_incoming_t *in, csms_station_t *st)
{
    csms_id_token_info_t i = authorize(in, json_object_get(in->payload, "idToken"), true);
    ocpp_reply(in, json_pack("{s:o}", "idTokenInfo", id_token_info(&i)));
}

/* ---------------------------------------------------------- meter values */

/* Flattens 2.0.1 meterValue[] into samples. Values are numbers scaled by
 * 10^multiplier; they are stored as decimal strings in the given unit. */
static store_sample_t *flatten(const json_t *arr, size_t *n_out, char ***bufs_out)
{
    size_t n = 0, i, j;
    json_t *mv, *sv;
    json_array_foreach(arr, i, mv) n += json_array_size(json_object_get(mv, "sampledValue"));
    store_sample_t *out = xcalloc(n ? n : 1, sizeof *out);
    char **bufs = xcalloc(n ? n : 1, sizeof *bufs);
    n = 0;
    json_array_foreach(arr, i, mv) {
        int64_t ts = ts_of(mv, "timestamp");
        json_array_foreach(json_object_get(mv, "sampledValue"), j, sv) {
            const json_t *uom = json_object_get(sv, "unitOfMeasure");
            double v = json_number_value(json_object_get(sv, "value"));
            int mult = int_of(uom, "multiplier", 0);
            if (mult) v *= pow(10.0, mult);
            bufs[n] = xmalloc(40);
            snprintf(bufs[n], 40, "%.15g", v);
            out[n] = (store_sample_t){
                .timestamp = ts,
                .value = bufs[n],
                .measurand = str(sv, "measurand") ? str(sv, "measurand")
                                                  : "Energy.Active.Import.Register",
                .phase = str(sv, "phase"),
                .unit = str(uom, "unit") ? str(uom, "unit") : "Wh",
                .context = str(sv, "context") ? str(sv, "context") : "Sample.Periodic",
                .location = str(sv, "location") ? str(sv, "location") : "Outlet",
                .format = json_object_get(sv, "signedMeterValue") ? "SignedData" : "Raw",
            };
            n++;
        }
    }
    *n_out = n;
    *bufs_out = bufs;
    return out;
}

static void free_flat(store_sample_t *s, char **bufs, size_t n)
{
    for (size_t i = 0; i < n; i++) free(bufs[i]);
    free(bufs);
    free(s);
}

static void on_meter_values(ocpp_incoming_t *in, csms_station_t *st)
{
    size_t n;
    char **bufs;
    store_sample_t *s = flatten(json_object_get(in->payload, "meterValue"), &n, &bufs);
    int evse = int_of(in->payload, "evseId", 0);
    csms_meter_values(ocpp_session_csms(in->sess), st, evse, 0, 0, s, n, empty_done, in);
    free_flat(s, bufs, n);
}

/* -------------------------------------------------------- transactions */

static void tx_event_done(void *ctx, csms_err_t rc, const csms_tx_event_result_t *r)
{
    ocpp_incoming_t *in = ctx;
    if (rc != CSMS_OK) {
        store_failed(in);
        return;
    }
    json_t *resp = json_object();
    if (r->has_info) json_object_set_new(resp, "idTokenInfo", id_token_info(&r->info));
    ocpp_reply(in, resp);
}

static void on_transaction_event(ocpp_incoming_t *in, csms_station_t *st)
{
    const json_t *p = in->payload;
    const json_t *info = json_object_get(p, "transactionInfo");
    const json_t *evse = json_object_get(p, "evse");
    const json_t *tok = json_object_get(p, "idToken");
    const char *type = str(p, "eventType");
    size_t n;
    char **bufs;
    store_sample_t *s = flatten(json_object_get(p, "meterValue"), &n, &bufs);
    csms_tx_event_t ev = {
        .kind = strcmp(type, "Started") == 0   ? CSMS_TXE_STARTED
                : strcmp(type, "Ended") == 0 ? CSMS_TXE_ENDED
                                             : CSMS_TXE_UPDATED,
        .tx_id = str(info, "transactionId"),
        .evse_id = int_of(evse, "id", 0),
        .connector_id = int_of(evse, "connectorId", 0),
        .id_token = str(tok, "idToken"),
        .id_token_type = str(tok, "type"),
        .timestamp = ts_of(p, "timestamp"),
        .seq_no = int_of(p, "seqNo", 0),
        .offline = json_is_true(json_object_get(p, "offline")),
        .trigger_reason = str(p, "triggerReason"),
        .charging_state = str(info, "chargingState"),
        .stopped_reason = str(info, "stoppedReason"),
        .reservation_id = int_of(p, "reservationId", -1),
        .samples = s,
        .nsamples = n,
        .raw = p,
    };
    if (ev.seq_no < 0 || ev.evse_id < 0 || ev.connector_id < 0) {
        free_flat(s, bufs, n);
        ocpp_reply_error(in, OCPP_ERR_PROPERTY, "seqNo, evse.id and connectorId must be 0 or more");
        return;
    }
    csms_tx_event(ocpp_session_csms(in->sess), st, &ev, tx_event_done, in);
    free_flat(s, bufs, n);
}

/* ---------------------------------------------------------- device model */

static void on_notify_report(ocpp_incoming_t *in, csms_station_t *st)
{
    const json_t *p = in->payload, *rd, *attr;
    const json_t *data = json_object_get(p, "reportData");
    size_t n = 0, i, j;
    json_array_foreach(data, i, rd) n += json_array_size(json_object_get(rd, "variableAttribute"));
    store_variable_t *rows = xcalloc(n ? n : 1, sizeof *rows);
    n = 0;
    json_array_foreach(data, i, rd) {
        const json_t *comp = json_object_get(rd, "component");
        const json_t *var = json_object_get(rd, "variable");
        const json_t *evse = json_object_get(comp, "evse");
        const json_t *ch = json_object_get(rd, "variableCharacteristics");
        json_array_foreach(json_object_get(rd, "variableAttribute"), j, attr) {
            json_t *pers = json_object_get(attr, "persistent");
            json_t *cons = json_object_get(attr, "constant");
            json_t *mon = json_object_get(ch, "supportsMonitoring");
            json_t *mn = json_object_get(ch, "minLimit"), *mx = json_object_get(ch, "maxLimit");
            rows[n++] = (store_variable_t){
                .component = str(comp, "name"),
                .component_instance = str(comp, "instance"),
                .evse_id = evse ? int_of(evse, "id", -1) : -1,
                .connector_id = evse ? int_of(evse, "connectorId", -1) : -1,
                .variable = str(var, "name"),
                .variable_instance = str(var, "instance"),
                .attribute_type = str(attr, "type") ? str(attr, "type") : "Actual",
                .value = str(attr, "value"),
                .mutability = str(attr, "mutability") ? str(attr, "mutability") : "ReadWrite",
                .persistent = pers ? json_is_true(pers) : -1,
                .constant = cons ? json_is_true(cons) : -1,
                .data_type = str(ch, "dataType"),
                .unit = str(ch, "unit"),
                .values_list = str(ch, "valuesList"),
                .has_min = mn != NULL,
                .min_limit = json_number_value(mn),
                .has_max = mx != NULL,
                .max_limit = json_number_value(mx),
                .supports_monitoring = mon ? json_is_true(mon) : -1,
            };
        }
    }
    csms_device_report(ocpp_session_csms(in->sess), st, int_of(p, "requestId", 0),
                       int_of(p, "seqNo", 0), json_is_true(json_object_get(p, "tbc")), rows, n,
                       empty_done, in);
    free(rows);
}

/* ------------------------------------------------------- notifications */

static void note(ocpp_incoming_t *in, csms_station_t *st, const char *kind, csms_done_cb cb)
{
    csms_station_note(ocpp_session_csms(in->sess), st, kind, in->payload, cb, in);
}

#define NOTE_HANDLER(fn, kind)                                                                   \
    static void fn(ocpp_incoming_t *in, csms_station_t *st)                                      \
    {                                                                                            \
        note(in, st, kind, empty_done);                                                          \
    }

NOTE_HANDLER(on_notify_event, "notify_event")
NOTE_HANDLER(on_notify_monitoring_report, "monitoring_report")
NOTE_HANDLER(on_security_event, "security_event")
NOTE_HANDLER(on_charging_limit, "charging_limit")
NOTE_HANDLER(on_cleared_charging_limit, "cleared_charging_limit")
NOTE_HANDLER(on_report_charging_profiles, "charging_profiles_report")
NOTE_HANDLER(on_reservation_status, "reservation_status")
NOTE_HANDLER(on_customer_information, "customer_information")
NOTE_HANDLER(on_display_messages, "display_messages")
NOTE_HANDLER(on_publish_firmware_status, "publish_firmware_status")

/* Replies {"status": <fixed>} after the note is stored. */
#define STATUS_HANDLER(fn, kind, status)                                                         \
    static void fn##_done(void *ctx, csms_err_t rc, const char *msg)                             \
    {                                                                                            \
        ocpp_incoming_t *in = ctx;                                                               \
        if (rc != CSMS_OK) store_failed(in);                                                     \
        else ocpp_reply(in, json_pack("{s:s}", "status", status));                               \
    }                                                                                            \
    static void fn(ocpp_incoming_t *in, csms_station_t *st)                                      \
    {                                                                                            \
        note(in, st, kind, fn##_done);                                                           \
    }

/* Charging needs and schedules are kept with the session for the load manager. */
static void ev_info_done(void *ctx, csms_err_t rc, const char *msg)
{
    ocpp_incoming_t *in = ctx;
    if (rc != CSMS_OK) store_failed(in);
    else ocpp_reply(in, json_pack("{s:s}", "status", "Accepted"));
}

static void on_ev_charging_needs(ocpp_incoming_t *in, csms_station_t *st)
{
    csms_ev_charging_info(ocpp_session_csms(in->sess), st, int_of(in->payload, "evseId", 0),
                          "ev_charging_needs", in->payload,
                          json_object_get(in->payload, "chargingNeeds"), NULL, ev_info_done, in);
}

static void on_ev_charging_schedule(ocpp_incoming_t *in, csms_station_t *st)
{
    csms_ev_charging_info(ocpp_session_csms(in->sess), st, int_of(in->payload, "evseId", 0),
                          "ev_charging_schedule", in->payload, NULL,
                          json_object_get(in->payload, "chargingSchedule"), ev_info_done, in);
}
/* No vendor extensions are installed. */
STATUS_HANDLER(on_data_transfer, "data_transfer", "UnknownVendorId")
/* No certificate authority is configured yet: the specification's answers for that. */
STATUS_HANDLER(on_sign_certificate, "sign_certificate", "Rejected")
STATUS_HANDLER(on_certificate_status, "certificate_status", "Failed")

static void ev_certificate_done(void *ctx, csms_err_t rc, const char *msg)
{
    ocpp_incoming_t *in = ctx;
    if (rc != CSMS_OK) store_failed(in);
    else ocpp_reply(in, json_pack("{s:s,s:s}", "status", "Failed", "exiResponse", ""));
}

static void on_ev_certificate(ocpp_incoming_t *in, csms_station_t *st)
{
    note(in, st, "ev_certificate", ev_certificate_done);
}

static void on_firmware_status(ocpp_incoming_t *in, csms_station_t *st)
{
    json_t *rid = json_object_get(in->payload, "requestId");
    csms_firmware_status(ocpp_session_csms(in->sess), st, str(in->payload, "status"),
                         json_is_integer(rid) ? json_integer_value(rid) : -1, empty_done, in);
}

/* GetLog's progress: the station's diagnostics status, with the request's id
 * (service/diagnostics.c follows it to the request). */
static void on_log_status(ocpp_incoming_t *in, csms_station_t *st)
{
    csms_log_status(ocpp_session_csms(in->sess), st, in->payload, empty_done, in);
}

static const ocpp_handler_t handlers[] = {
    {"Authorize", on_authorize},
    {"BootNotification", on_boot},
    {"ClearedChargingLimit", on_cleared_charging_limit},
    {"DataTransfer", on_data_transfer},
    {"FirmwareStatusNotification", on_firmware_status},
    {"Get15118EVCertificate", on_ev_certificate},
    {"GetCertificateStatus", on_certificate_status},
    {"Heartbeat", on_heartbeat},
    {"LogStatusNotification", on_log_status},
    {"MeterValues", on_meter_values},
    {"NotifyChargingLimit", on_charging_limit},
    {"NotifyCustomerInformation", on_customer_information},
    {"NotifyDisplayMessages", on_display_messages},
    {"NotifyEVChargingNeeds", on_ev_charging_needs},
    {"NotifyEVChargingSchedule", on_ev_charging_schedule},
    {"NotifyEvent", on_notify_event},
    {"NotifyMonitoringReport", on_notify_monitoring_report},
    {"NotifyReport", on_notify_report},
    {"PublishFirmwareStatusNotification", on_publish_firmware_status},
    {"ReportChargingProfiles", on_report_charging_profiles},
    {"ReservationStatusUpdate", on_reservation_status},
    {"SecurityEventNotification", on_security_event},
    {"SignCertificate", on_sign_certificate},
    {"StatusNotification", on_status},
    {"TransactionEvent", on_transaction_event},
    {NULL, NULL},
};

static json_t *password_payload(const char *password)
{
    return json_pack("{s:[{s:s,s:{s:s},s:{s:s}}]}", "setVariableData", "attributeValue", password,
                     "component", "name", "SecurityCtrlr", "variable", "name",
                     "BasicAuthPassword");
}

/* SetVariables answers per variable: the rotation's outcome is the first one's. */
static const char *password_status(const json_t *answer)
{
    const json_t *r = json_array_get(json_object_get(answer, "setVariableResult"), 0);
    return str(r, "attributeStatus");
}

const ocpp_translator_t ocpp_v201_translator = {
    .subprotocol = "ocpp2.0.1",
    .defs = &ocpp_v201_defs,
    .handlers = handlers,
    .err_name = ocpp_err_name_v201,
    .password_action = "SetVariables",
    .password_payload = password_payload,
    .password_status = password_status,
};
