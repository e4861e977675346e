/*
 * The OCPP 1.6J translator: maps each station-initiated 1.6 message onto the
 * version-neutral domain and the domain's answers back onto 1.6 payloads. It
 * holds no business rules; payloads arrive here already validated.
 *
 * 1.6 has no EVSE level: connector N (N >= 1) is EVSE N with connector 1, and
 * connector 0 (the whole station) is EVSE 0 / connector 0.
 */
#include "ocpp/rpc.h"
#include "ocpp/stream.h"

#include "util/alloc.h"
#include "util/timefmt.h"

#include <stddef.h>
#include <stdint.h>
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

static void store_failed(ocpp_incoming_t *in)
{
    ocpp_reply_error(in, OCPP_ERR_INTERNAL, "the server could not store this message; retry");
}

static json_t *id_tag_info(const csms_id_token_info_t *i)
{
    json_t *o = json_pack("{s:s}", "status", i->status);
    if (i->expiry) {
        char buf[TIME_RFC3339_LEN];
        json_object_set_new(o, "expiryDate", json_string(time_format_rfc3339(i->expiry, buf)));
    }
    if (i->parent_id_token && strlen(i->parent_id_token) <= 20)
        json_object_set_new(o, "parentIdTag", json_string(i->parent_id_token));
    return o;
}

/* Replies {} once the domain change is durable. */
static void empty_done(void *ctx, csms_err_t rc, const char *msg)
{
    ocpp_incoming_t *in = ctx;
    if (rc != CSMS_OK) store_failed(in);
    else ocpp_reply(in, json_object());
}

/* ---------------------------------------------------------------- boot */

static void boot_done(void *ctx, csms_err_t rc, const csms_boot_result_t *r)
{
    ocpp_incoming_t *in = ctx;
    if (rc != CSMS_OK) {
        store_failed(in);
        return;
    }
    char buf[TIME_RFC3339_LEN];
    ocpp_reply(in, json_pack("{s:s,s:s,s:i}", "status", r->status, "currentTime",
                             time_format_rfc3339(r->now, buf), "interval", r->interval));
}

static void on_boot(ocpp_incoming_t *in, csms_station_t *st)
{
    const json_t *p = in->payload;
    csms_boot_info_t b = {
        .vendor = str(p, "chargePointVendor"),
        .model = str(p, "chargePointModel"),
        .serial_number = str(p, "chargePointSerialNumber"),
        .charge_box_serial = str(p, "chargeBoxSerialNumber"),
        .firmware_version = str(p, "firmwareVersion"),
        .iccid = str(p, "iccid"),
        .imsi = str(p, "imsi"),
        .meter_type = str(p, "meterType"),
        .meter_serial = str(p, "meterSerialNumber"),
    };
    csms_boot(ocpp_session_csms(in->sess), st, &b, boot_done, in);
}

static void heartbeat_done(void *ctx, csms_err_t rc, const char *msg)
{
    ocpp_incoming_t *in = ctx;
    if (rc != CSMS_OK) {
        store_failed(in);
        return;
    }
    char buf[TIME_RFC3339_LEN];
    ocpp_reply(in, json_pack("{s:s}", "currentTime", time_format_rfc3339(time_now_ms(), buf)));
}

static void on_heartbeat(ocpp_incoming_t *in, csms_station_t *st)
{
    csms_heartbeat(ocpp_session_csms(in->sess), st, heartbeat_done, in);
}

/* -------------------------------------------------------------- status */

static void on_status(ocpp_incoming_t *in, csms_station_t *st)
{
    const json_t *p = in->payload;
    int conn = (int)json_integer_value(json_object_get(p, "connectorId"));
    if (conn < 0) {
        ocpp_reply_error(in, OCPP_ERR_PROPERTY, "connectorId must be 0 (the station) or more");
        return;
    }
    const char *err = str(p, "errorCode");
    csms_status_report_t r = {
        .evse_id = conn,
        .connector_id = conn == 0 ? 0 : 1,
        .status = str(p, "status"),
        .error_code = err,
        .info = str(p, "info"),
        .vendor_id = str(p, "vendorId"),
        .vendor_error_code = str(p, "vendorErrorCode"),
        .timestamp = str(p, "timestamp") ? ts_of(p, "timestamp") : 0,
    };
    csms_status(ocpp_session_csms(in->sess), st, &r, empty_done, in);
}

/* ------------------------------------------------------- authorization */

static void on_authorize(ocpp_incoming_t *in, csms_station_t *st)
{
    csms_id_token_info_t i =
        csms_authorize(ocpp_session_csms(in->sess), str(in->payload, "idTag"), true);
    ocpp_reply(in, json_pack("{s:o}", "idTagInfo", id_tag_info(&i)));
}

/* -------------------------------------------------------- transactions */

static void start_done(void *ctx, csms_err_t rc, const csms_tx_started_t *r)
{
    ocpp_incoming_t *in = ctx;
    if (rc != CSMS_OK) {
        store_failed(in);
        return;
    }
    if (r->id > INT32_MAX) {
        ocpp_reply_error(in, OCPP_ERR_INTERNAL, "transaction id space exhausted");
        return;
    }
    ocpp_reply(in, json_pack("{s:o,s:I}", "idTagInfo", id_tag_info(&r->info), "transactionId",
                             (json_int_t)r->id));
}

static void on_start(ocpp_incoming_t *in, csms_station_t *st)
{
    const json_t *p = in->payload;
    int conn = (int)json_integer_value(json_object_get(p, "connectorId"));
    if (conn < 1) {
        ocpp_reply_error(in, OCPP_ERR_PROPERTY,
                         "StartTransaction: connectorId must be 1 or more (0 is the station)");
        return;
    }
    json_t *res = json_object_get(p, "reservationId");
    csms_tx_start_t t = {
        .evse_id = conn,
        .connector_id = 1,
        .id_token = str(p, "idTag"),
        .id_token_type = "ISO14443",
        .meter_start = json_integer_value(json_object_get(p, "meterStart")),
        .timestamp = ts_of(p, "timestamp"),
        .reservation_id = res ? (int)json_integer_value(res) : -1,
    };
    csms_tx_start(ocpp_session_csms(in->sess), st, &t, start_done, in);
}

/* 1.6's defaults for what a sampled value leaves out. */
static store_sample_t sample_defaults(store_sample_t s)
{
    if (!s.measurand) s.measurand = "Energy.Active.Import.Register";
    if (!s.unit) s.unit = "Wh";
    if (!s.context) s.context = "Sample.Periodic";
    if (!s.location) s.location = "Outlet";
    if (!s.format) s.format = "Raw";
    return s;
}

/* Flattens 1.6 meterValue[] into samples pointing into `arr` (valid while it lives). */
static store_sample_t *flatten(const json_t *arr, size_t *n_out)
{
    size_t n = 0, i, j;
    json_t *mv, *sv;
    json_array_foreach(arr, i, mv) n += json_array_size(json_object_get(mv, "sampledValue"));
    store_sample_t *out = xcalloc(n ? n : 1, sizeof *out);
    n = 0;
    json_array_foreach(arr, i, mv) {
        int64_t ts = ts_of(mv, "timestamp");
        json_array_foreach(json_object_get(mv, "sampledValue"), j, sv) {
            out[n++] = sample_defaults((store_sample_t){
                .timestamp = ts,
                .value = str(sv, "value"),
                .measurand = str(sv, "measurand"),
                .phase = str(sv, "phase"),
                .unit = str(sv, "unit"),
                .context = str(sv, "context"),
                .location = str(sv, "location"),
                .format = str(sv, "format"),
            });
        }
    }
    *n_out = n;
    return out;
}

static void stop_done(void *ctx, csms_err_t rc, bool known)
{
    ocpp_incoming_t *in = ctx;
    if (rc != CSMS_OK) {
        store_failed(in);
        return;
    }
    const char *tag = str(in->payload, "idTag");
    json_t *resp = json_object();
    if (tag) {
        csms_id_token_info_t i = csms_authorize(ocpp_session_csms(in->sess), tag, false);
        json_object_set_new(resp, "idTagInfo", id_tag_info(&i));
    }
    ocpp_reply(in, resp);
}

static void on_stop(ocpp_incoming_t *in, csms_station_t *st)
{
    const json_t *p = in->payload;
    size_t n = 0;
    store_sample_t *samples = flatten(json_object_get(p, "transactionData"), &n);
    csms_tx_stop_t t = {
        .id = json_integer_value(json_object_get(p, "transactionId")),
        .meter_stop = json_integer_value(json_object_get(p, "meterStop")),
        .timestamp = ts_of(p, "timestamp"),
        .reason = str(p, "reason"),
        .id_token = str(p, "idTag"),
        .samples = samples,
        .nsamples = n,
    };
    csms_tx_stop(ocpp_session_csms(in->sess), st, &t, stop_done, in);
    free(samples);
}

static void on_meter_values(ocpp_incoming_t *in, csms_station_t *st)
{
    const json_t *p = in->payload;
    int conn = (int)json_integer_value(json_object_get(p, "connectorId"));
    if (conn < 0) {
        ocpp_reply_error(in, OCPP_ERR_PROPERTY, "MeterValues: connectorId must be 0 or more");
        return;
    }
    size_t n = 0;
    store_sample_t *samples = flatten(json_object_get(p, "meterValue"), &n);
    json_t *tx = json_object_get(p, "transactionId");
    csms_meter_values(ocpp_session_csms(in->sess), st, conn, conn == 0 ? 0 : 1,
                      tx ? json_integer_value(tx) : 0, samples, n, empty_done, in);
    free(samples);
}

/* MeterValues straight from the text (ocpp/stream.h): objects nest as the
 * payload (depth 1), a meterValue (2) and a sampledValue (3). */
typedef struct mv_reader {
    int depth;
    long long conn, tx;
    bool has_tx;
    store_sample_t *s;
    size_t n, cap;
    size_t group;     /* the first sample of the meterValue being read */
    int64_t group_ts;
    store_sample_t small[16];
} mv_reader_t;

static void mv_open(void *ud, const ocpp_field_t *f)
{
    (void)f;
    mv_reader_t *r = ud;
    if (++r->depth == 2) {
        r->group = r->n;
    } else if (r->depth == 3) {
        if (r->n == r->cap) {
            r->cap *= 2;
            store_sample_t *grown = xmalloc(r->cap * sizeof *grown);
            memcpy(grown, r->s, r->n * sizeof *grown);
            if (r->s != r->small) free(r->s);
            r->s = grown;
        }
        r->s[r->n++] = (store_sample_t){0};
    }
}

static void mv_close(void *ud, const ocpp_field_t *f)
{
    (void)f;
    mv_reader_t *r = ud;
    if (r->depth-- == 2) /* the timestamp may come after the sampled values */
        for (size_t i = r->group; i < r->n; i++)
            r->s[i].timestamp = r->group_ts;
}

static void mv_value(void *ud, const ocpp_field_t *f, ocpp_stream_kind_t kind, const char *v,
                     size_t len)
{
    (void)kind;
    (void)len;
    mv_reader_t *r = ud;
    const char *n = f->name;
    if (r->depth == 1) {
        if (strcmp(n, "connectorId") == 0) r->conn = strtoll(v, NULL, 10);
        else if (strcmp(n, "transactionId") == 0) r->has_tx = true, r->tx = strtoll(v, NULL, 10);
        return;
    }
    if (r->depth == 2) {
        int64_t ms = 0;
        r->group_ts = time_parse_rfc3339(v, &ms) ? ms : time_now_ms();
        return;
    }
    store_sample_t *s = &r->s[r->n - 1];
    static const struct {
        const char *name;
        size_t off;
    } keys[] = {
        {"value", offsetof(store_sample_t, value)},
        {"measurand", offsetof(store_sample_t, measurand)},
        {"phase", offsetof(store_sample_t, phase)},
        {"unit", offsetof(store_sample_t, unit)},
        {"context", offsetof(store_sample_t, context)},
        {"location", offsetof(store_sample_t, location)},
        {"format", offsetof(store_sample_t, format)},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (n[0] == keys[i].name[0] && strcmp(n, keys[i].name) == 0) {
            *(const char **)((char *)s + keys[i].off) = v;
            return;
        }
    }
}

static bool fast_meter_values(ocpp_session_t *sess, csms_station_t *st, const char *data,
                              size_t len, uint64_t t0)
{
    static const ocpp_stream_sink_t sink = {mv_value, mv_open, mv_close};
    const ocpp_message_def_t *def = ocpp_schema_find(&ocpp_v16_defs, "MeterValues");
    mv_reader_t r = {.cap = sizeof r.small / sizeof r.small[0]};
    r.s = r.small;
    char id[OCPP_MSG_ID_MAX + 1], small[4096];
    char *scratch = len <= sizeof small ? small : xmalloc(len);
    bool ok = ocpp_stream_check(data, len, def->action, def->request, &sink, &r, id, scratch) &&
              r.conn >= 0 && r.conn <= INT32_MAX; /* else the ordinary path explains */
    if (ok) {
        for (size_t i = 0; i < r.n; i++)
            r.s[i] = sample_defaults(r.s[i]);
        ocpp_incoming_t *in = ocpp_incoming_new(sess, id, def, t0);
        int conn = (int)r.conn;
        csms_meter_values(ocpp_session_csms(sess), st, conn, conn == 0 ? 0 : 1,
                          r.has_tx ? r.tx : 0, r.s, r.n, empty_done, in);
    }
    if (r.s != r.small) free(r.s);
    if (scratch != small) free(scratch);
    return ok;
}

/* The messages that may take the fast path: MeterValues, by far the most frequent. */
static bool fast(ocpp_session_t *sess, csms_station_t *st, const char *data, size_t len,
                 uint64_t t0)
{
    /* cheap look at the action before any parsing: ["2","id","MeterValues",...] */
    if (len < 20 || !memmem(data, len < 64 ? len : 64, "\"MeterValues\"", 13)) return false;
    return fast_meter_values(sess, st, data, len, t0);
}

/* ------------------------------------------------------- notifications */

static void note_then(ocpp_incoming_t *in, csms_station_t *st, const char *kind,
                      csms_done_cb cb)
{
    csms_station_note(ocpp_session_csms(in->sess), st, kind, in->payload, cb, in);
}

static void data_transfer_done(void *ctx, csms_err_t rc, const char *msg)
{
    ocpp_incoming_t *in = ctx;
    if (rc != CSMS_OK) store_failed(in);
    /* No vendor extensions are installed: the specification's answer is UnknownVendorId. */
    else ocpp_reply(in, json_pack("{s:s}", "status", "UnknownVendorId"));
}

static void on_data_transfer(ocpp_incoming_t *in, csms_station_t *st)
{
    note_then(in, st, "data_transfer", data_transfer_done);
}

static void on_firmware_status(ocpp_incoming_t *in, csms_station_t *st)
{
    json_t *rid = json_object_get(in->payload, "requestId"); /* the signed-firmware variant */
    csms_firmware_status(ocpp_session_csms(in->sess), st, str(in->payload, "status"),
                         json_is_integer(rid) ? json_integer_value(rid) : -1, empty_done, in);
}

static void on_diagnostics_status(ocpp_incoming_t *in, csms_station_t *st)
{
    csms_diagnostics_status(ocpp_session_csms(in->sess), st, str(in->payload, "status"), -1,
                            empty_done, in);
}

static void on_security_event(ocpp_incoming_t *in, csms_station_t *st)
{
    note_then(in, st, "security_event", empty_done);
}

/* The security extension's LogStatusNotification (after GetLog): a
 * diagnostics status with the request's id. */
static void on_log_status(ocpp_incoming_t *in, csms_station_t *st)
{
    csms_log_status(ocpp_session_csms(in->sess), st, in->payload, empty_done, in);
}

static void sign_done(void *ctx, csms_err_t rc, const char *msg)
{
    ocpp_incoming_t *in = ctx;
    if (rc != CSMS_OK) store_failed(in);
    /* No certificate authority is configured yet (security profile 3 comes later). */
    else ocpp_reply(in, json_pack("{s:s}", "status", "Rejected"));
}

static void on_sign_certificate(ocpp_incoming_t *in, csms_station_t *st)
{
    note_then(in, st, "sign_certificate", sign_done);
}

static const ocpp_handler_t handlers[] = {
    {"Authorize", on_authorize},
    {"BootNotification", on_boot},
    {"DataTransfer", on_data_transfer},
    {"DiagnosticsStatusNotification", on_diagnostics_status},
    {"FirmwareStatusNotification", on_firmware_status},
    {"Heartbeat", on_heartbeat},
    {"LogStatusNotification", on_log_status},
    {"MeterValues", on_meter_values},
    {"SecurityEventNotification", on_security_event},
    {"SignCertificate", on_sign_certificate},
    {"SignedFirmwareStatusNotification", on_firmware_status},
    {"StartTransaction", on_start},
    {"StatusNotification", on_status},
    {"StopTransaction", on_stop},
    {NULL, NULL},
};

static json_t *password_payload(const char *password)
{
    return json_pack("{s:s,s:s}", "key", "AuthorizationKey", "value", password);
}

static const char *password_status(const json_t *answer)
{
    return str(answer, "status"); /* ChangeConfiguration: Accepted, Rejected, RebootRequired, ... */
}

const ocpp_translator_t ocpp_v16_translator = {
    .subprotocol = "ocpp1.6",
    .defs = &ocpp_v16_defs,
    .handlers = handlers,
    .err_name = ocpp_err_name_v16,
    .password_action = "ChangeConfiguration",
    .password_payload = password_payload,
    .password_status = password_status,
    .fast = fast,
};
