/*
 * OCPP 1.6J message definitions: every request and response of OCPP 1.6
 * (edition 2) and of the "Improved security for OCPP 1.6-J" whitepaper, as
 * field tables for ocpp_schema_validate().
 *
 * Written from the specification's message and data-type chapters. Types that
 * several messages share (IdTagInfo, ChargingProfile, MeterValue,
 * CertificateHashData, the enumerations) are defined once below and referred
 * to, so a fix lands everywhere. tests/unit/test_v16_schemas.c checks every
 * table against the official JSON schemas shipped in the ocpp-rpc npm package.
 *
 * The messages table at the bottom is sorted by action name (strcmp order):
 * ocpp_schema_find() binary-searches it.
 */
#include "ocpp/schema.h"

/* The tables are laid out by hand, one field per line: clang-format would pack
 * them into columns and turn each one-line shape macro into a brace block. */
// clang-format off

/* ---- field shapes ---------------------------------------------------------------------- */

#define REQ true
#define OPT false

#define STR(n, req, len) {.name = (n), .type = OCPP_T_STRING, .required = (req), .max_len = (len)}
#define INT(n, req) {.name = (n), .type = OCPP_T_INTEGER, .required = (req)}
#define BOOL(n, req) {.name = (n), .type = OCPP_T_BOOLEAN, .required = (req)}
#define DATETIME(n, req) {.name = (n), .type = OCPP_T_DATETIME, .required = (req)}
/* A decimal with one digit after the point ("multipleOf": 0.1), e.g. a limit in A or W. */
#define DECIMAL1(n, req)                                                                       \
    {.name = (n), .type = OCPP_T_NUMBER, .required = (req), .multiple_of = 0.1}
#define ENUM(n, req, values)                                                                   \
    {.name = (n), .type = OCPP_T_ENUM, .required = (req), .enum_values = (values)}
#define OBJECT(n, req, children)                                                               \
    {.name = (n), .type = OCPP_T_OBJECT, .required = (req), .fields = (children)}
#define ARRAY(n, req, item, min)                                                               \
    {.name = (n), .type = OCPP_T_ARRAY, .required = (req), .items = &(item), .min_items = (min)}
#define END {.name = NULL}

/* An array item: the same shapes without a name. */
#define ITEM_OBJECT(children) OBJECT(NULL, REQ, children)
#define ITEM_STR(len) STR(NULL, REQ, len)

static const ocpp_field_t no_fields[] = {END};

/* ---- enumerations ---------------------------------------------------------------------- */

#define ENUM_LIST(name, ...) static const char *const name[] = {__VA_ARGS__, NULL}

ENUM_LIST(accepted_rejected, "Accepted", "Rejected");
ENUM_LIST(authorization_status, "Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx");
ENUM_LIST(registration_status, "Accepted", "Pending", "Rejected");
ENUM_LIST(availability_type, "Inoperative", "Operative");
ENUM_LIST(availability_status, "Accepted", "Rejected", "Scheduled");
ENUM_LIST(configuration_status, "Accepted", "Rejected", "RebootRequired", "NotSupported");
ENUM_LIST(clear_charging_profile_status, "Accepted", "Unknown");
ENUM_LIST(charging_profile_purpose, "ChargePointMaxProfile", "TxDefaultProfile", "TxProfile");
ENUM_LIST(charging_profile_kind, "Absolute", "Recurring", "Relative");
ENUM_LIST(recurrency_kind, "Daily", "Weekly");
ENUM_LIST(charging_rate_unit, "A", "W");
ENUM_LIST(charging_profile_status, "Accepted", "Rejected", "NotSupported");
ENUM_LIST(data_transfer_status, "Accepted", "Rejected", "UnknownMessageId", "UnknownVendorId");
ENUM_LIST(diagnostics_status, "Idle", "Uploaded", "UploadFailed", "Uploading");
ENUM_LIST(firmware_status, "Downloaded", "DownloadFailed", "Downloading", "Idle",
          "InstallationFailed", "Installing", "Installed");
ENUM_LIST(message_trigger, "BootNotification", "DiagnosticsStatusNotification",
          "FirmwareStatusNotification", "Heartbeat", "MeterValues", "StatusNotification");
ENUM_LIST(trigger_message_status, "Accepted", "Rejected", "NotImplemented");
ENUM_LIST(reservation_status, "Accepted", "Faulted", "Occupied", "Rejected", "Unavailable");
ENUM_LIST(reset_type, "Hard", "Soft");
ENUM_LIST(update_type, "Differential", "Full");
ENUM_LIST(update_status, "Accepted", "Failed", "NotSupported", "VersionMismatch");
ENUM_LIST(unlock_status, "Unlocked", "UnlockFailed", "NotSupported");
ENUM_LIST(charge_point_error_code, "ConnectorLockFailure", "EVCommunicationError",
          "GroundFailure", "HighTemperature", "InternalError", "LocalListConflict", "NoError",
          "OtherError", "OverCurrentFailure", "PowerMeterFailure", "PowerSwitchFailure",
          "ReaderFailure", "ResetFailure", "UnderVoltage", "OverVoltage", "WeakSignal");
ENUM_LIST(charge_point_status, "Available", "Preparing", "Charging", "SuspendedEVSE",
          "SuspendedEV", "Finishing", "Reserved", "Unavailable", "Faulted");
ENUM_LIST(stop_reason, "EmergencyStop", "EVDisconnected", "HardReset", "Local", "Other",
          "PowerLoss", "Reboot", "Remote", "SoftReset", "UnlockCommand", "DeAuthorized");

/* SampledValue */
ENUM_LIST(reading_context, "Interruption.Begin", "Interruption.End", "Sample.Clock",
          "Sample.Periodic", "Transaction.Begin", "Transaction.End", "Trigger", "Other");
ENUM_LIST(value_format, "Raw", "SignedData");
ENUM_LIST(measurand, "Energy.Active.Export.Register", "Energy.Active.Import.Register",
          "Energy.Reactive.Export.Register", "Energy.Reactive.Import.Register",
          "Energy.Active.Export.Interval", "Energy.Active.Import.Interval",
          "Energy.Reactive.Export.Interval", "Energy.Reactive.Import.Interval",
          "Power.Active.Export", "Power.Active.Import", "Power.Offered", "Power.Reactive.Export",
          "Power.Reactive.Import", "Power.Factor", "Current.Import", "Current.Export",
          "Current.Offered", "Voltage", "Frequency", "Temperature", "SoC", "RPM");
ENUM_LIST(phase, "L1", "L2", "L3", "N", "L1-N", "L2-N", "L3-N", "L1-L2", "L2-L3", "L3-L1");
ENUM_LIST(location, "Cable", "EV", "Inlet", "Outlet", "Body");
ENUM_LIST(unit_of_measure, "Wh", "kWh", "varh", "kvarh", "W", "kW", "VA", "kVA", "var", "kvar",
          "A", "V", "Celsius", "Fahrenheit", "K", "Percent",
          "Celcius"); /* edition 1 spelling, still in the official JSON schema */

/* Security whitepaper */
ENUM_LIST(hash_algorithm, "SHA256", "SHA384", "SHA512");
ENUM_LIST(certificate_use, "CentralSystemRootCertificate", "ManufacturerRootCertificate");
ENUM_LIST(delete_certificate_status, "Accepted", "Failed", "NotFound");
ENUM_LIST(get_installed_certificate_status, "Accepted", "NotFound");
ENUM_LIST(install_certificate_status, "Accepted", "Failed", "Rejected");
ENUM_LIST(extended_message_trigger, "BootNotification", "LogStatusNotification",
          "FirmwareStatusNotification", "Heartbeat", "MeterValues", "SignChargePointCertificate",
          "StatusNotification");
ENUM_LIST(log_type, "DiagnosticsLog", "SecurityLog");
ENUM_LIST(log_status, "Accepted", "Rejected", "AcceptedCanceled");
ENUM_LIST(upload_log_status, "BadMessage", "Idle", "NotSupportedOperation", "PermissionDenied",
          "Uploaded", "UploadFailure", "Uploading");
ENUM_LIST(signed_firmware_status, "Downloaded", "DownloadFailed", "Downloading",
          "DownloadScheduled", "DownloadPaused", "Idle", "InstallationFailed", "Installing",
          "Installed", "InstallRebooting", "InstallScheduled", "InstallVerificationFailed",
          "InvalidSignature", "SignatureVerified");
ENUM_LIST(update_firmware_status, "Accepted", "Rejected", "AcceptedCanceled",
          "InvalidCertificate", "RevokedCertificate");

/* ---- shared data types ----------------------------------------------------------------- */

static const ocpp_field_t id_tag_info[] = {
    DATETIME("expiryDate", OPT),
    STR("parentIdTag", OPT, 20),
    ENUM("status", REQ, authorization_status),
    END,
};

static const ocpp_field_t charging_schedule_period[] = {
    INT("startPeriod", REQ),
    DECIMAL1("limit", REQ),
    INT("numberPhases", OPT),
    END,
};
static const ocpp_field_t charging_schedule_period_item = ITEM_OBJECT(charging_schedule_period);

static const ocpp_field_t charging_schedule[] = {
    INT("duration", OPT),
    DATETIME("startSchedule", OPT),
    ENUM("chargingRateUnit", REQ, charging_rate_unit),
    ARRAY("chargingSchedulePeriod", REQ, charging_schedule_period_item, 0),
    DECIMAL1("minChargingRate", OPT),
    END,
};

static const ocpp_field_t charging_profile[] = {
    INT("chargingProfileId", REQ),
    INT("transactionId", OPT),
    INT("stackLevel", REQ),
    ENUM("chargingProfilePurpose", REQ, charging_profile_purpose),
    ENUM("chargingProfileKind", REQ, charging_profile_kind),
    ENUM("recurrencyKind", OPT, recurrency_kind),
    DATETIME("validFrom", OPT),
    DATETIME("validTo", OPT),
    OBJECT("chargingSchedule", REQ, charging_schedule),
    END,
};

static const ocpp_field_t sampled_value[] = {
    STR("value", REQ, 0),
    ENUM("context", OPT, reading_context),
    ENUM("format", OPT, value_format),
    ENUM("measurand", OPT, measurand),
    ENUM("phase", OPT, phase),
    ENUM("location", OPT, location),
    ENUM("unit", OPT, unit_of_measure),
    END,
};
static const ocpp_field_t sampled_value_item = ITEM_OBJECT(sampled_value);

static const ocpp_field_t meter_value[] = {
    DATETIME("timestamp", REQ),
    ARRAY("sampledValue", REQ, sampled_value_item, 0),
    END,
};
static const ocpp_field_t meter_value_item = ITEM_OBJECT(meter_value);

static const ocpp_field_t certificate_hash_data[] = {
    ENUM("hashAlgorithm", REQ, hash_algorithm),
    STR("issuerNameHash", REQ, 128),
    STR("issuerKeyHash", REQ, 128),
    STR("serialNumber", REQ, 40),
    END,
};
static const ocpp_field_t certificate_hash_data_item = ITEM_OBJECT(certificate_hash_data);

/* Responses that carry only a status. */
#define STATUS_RESPONSE(table, values)                                                         \
    static const ocpp_field_t table[] = {ENUM("status", REQ, values), END}

STATUS_RESPONSE(accepted_rejected_conf, accepted_rejected);

/* ---- messages, in action order ----------------------------------------------------------- */

static const ocpp_field_t authorize_req[] = {STR("idTag", REQ, 20), END};
static const ocpp_field_t authorize_conf[] = {OBJECT("idTagInfo", REQ, id_tag_info), END};

static const ocpp_field_t boot_notification_req[] = {
    STR("chargePointVendor", REQ, 20),
    STR("chargePointModel", REQ, 20),
    STR("chargePointSerialNumber", OPT, 25),
    STR("chargeBoxSerialNumber", OPT, 25),
    STR("firmwareVersion", OPT, 50),
    STR("iccid", OPT, 20),
    STR("imsi", OPT, 20),
    STR("meterType", OPT, 25),
    STR("meterSerialNumber", OPT, 25),
    END,
};
static const ocpp_field_t boot_notification_conf[] = {
    ENUM("status", REQ, registration_status),
    DATETIME("currentTime", REQ),
    INT("interval", REQ),
    END,
};

static const ocpp_field_t cancel_reservation_req[] = {INT("reservationId", REQ), END};

static const ocpp_field_t certificate_signed_req[] = {STR("certificateChain", REQ, 10000), END};

static const ocpp_field_t change_availability_req[] = {
    INT("connectorId", REQ),
    ENUM("type", REQ, availability_type),
    END,
};
STATUS_RESPONSE(change_availability_conf, availability_status);

static const ocpp_field_t change_configuration_req[] = {
    STR("key", REQ, 50),
    STR("value", REQ, 500),
    END,
};
STATUS_RESPONSE(change_configuration_conf, configuration_status);

static const ocpp_field_t clear_charging_profile_req[] = {
    INT("id", OPT),
    INT("connectorId", OPT),
    ENUM("chargingProfilePurpose", OPT, charging_profile_purpose),
    INT("stackLevel", OPT),
    END,
};
STATUS_RESPONSE(clear_charging_profile_conf, clear_charging_profile_status);

static const ocpp_field_t data_transfer_req[] = {
    STR("vendorId", REQ, 255),
    STR("messageId", OPT, 50),
    STR("data", OPT, 0),
    END,
};
static const ocpp_field_t data_transfer_conf[] = {
    ENUM("status", REQ, data_transfer_status),
    STR("data", OPT, 0),
    END,
};

static const ocpp_field_t delete_certificate_req[] = {
    OBJECT("certificateHashData", REQ, certificate_hash_data),
    END,
};
STATUS_RESPONSE(delete_certificate_conf, delete_certificate_status);

static const ocpp_field_t diagnostics_status_notification_req[] = {
    ENUM("status", REQ, diagnostics_status),
    END,
};

static const ocpp_field_t extended_trigger_message_req[] = {
    ENUM("requestedMessage", REQ, extended_message_trigger),
    INT("connectorId", OPT),
    END,
};
STATUS_RESPONSE(trigger_message_conf, trigger_message_status);

static const ocpp_field_t firmware_status_notification_req[] = {
    ENUM("status", REQ, firmware_status),
    END,
};

static const ocpp_field_t get_composite_schedule_req[] = {
    INT("connectorId", REQ),
    INT("duration", REQ),
    ENUM("chargingRateUnit", OPT, charging_rate_unit),
    END,
};
static const ocpp_field_t get_composite_schedule_conf[] = {
    ENUM("status", REQ, accepted_rejected),
    INT("connectorId", OPT),
    DATETIME("scheduleStart", OPT),
    OBJECT("chargingSchedule", OPT, charging_schedule),
    END,
};

static const ocpp_field_t configuration_key_string = ITEM_STR(50);
static const ocpp_field_t key_value[] = {
    STR("key", REQ, 50),
    BOOL("readonly", REQ),
    STR("value", OPT, 500),
    END,
};
static const ocpp_field_t key_value_item = ITEM_OBJECT(key_value);
static const ocpp_field_t get_configuration_req[] = {
    ARRAY("key", OPT, configuration_key_string, 0),
    END,
};
static const ocpp_field_t get_configuration_conf[] = {
    ARRAY("configurationKey", OPT, key_value_item, 0),
    ARRAY("unknownKey", OPT, configuration_key_string, 0),
    END,
};

/* "location" is an anyURI in the specification; checked as a string. */
static const ocpp_field_t get_diagnostics_req[] = {
    STR("location", REQ, 0),
    INT("retries", OPT),
    INT("retryInterval", OPT),
    DATETIME("startTime", OPT),
    DATETIME("stopTime", OPT),
    END,
};
static const ocpp_field_t get_diagnostics_conf[] = {STR("fileName", OPT, 255), END};

static const ocpp_field_t get_installed_certificate_ids_req[] = {
    ENUM("certificateType", REQ, certificate_use),
    END,
};
static const ocpp_field_t get_installed_certificate_ids_conf[] = {
    ENUM("status", REQ, get_installed_certificate_status),
    ARRAY("certificateHashData", OPT, certificate_hash_data_item, 1),
    END,
};

static const ocpp_field_t get_local_list_version_conf[] = {INT("listVersion", REQ), END};

static const ocpp_field_t log_parameters[] = {
    STR("remoteLocation", REQ, 512),
    DATETIME("oldestTimestamp", OPT),
    DATETIME("latestTimestamp", OPT),
    END,
};
static const ocpp_field_t get_log_req[] = {
    OBJECT("log", REQ, log_parameters),
    ENUM("logType", REQ, log_type),
    INT("requestId", REQ),
    INT("retries", OPT),
    INT("retryInterval", OPT),
    END,
};
static const ocpp_field_t get_log_conf[] = {
    ENUM("status", REQ, log_status),
    STR("filename", OPT, 255),
    END,
};

static const ocpp_field_t heartbeat_conf[] = {DATETIME("currentTime", REQ), END};

static const ocpp_field_t install_certificate_req[] = {
    ENUM("certificateType", REQ, certificate_use),
    STR("certificate", REQ, 5500),
    END,
};
STATUS_RESPONSE(install_certificate_conf, install_certificate_status);

static const ocpp_field_t log_status_notification_req[] = {
    ENUM("status", REQ, upload_log_status),
    INT("requestId", OPT),
    END,
};

static const ocpp_field_t meter_values_req[] = {
    INT("connectorId", REQ),
    INT("transactionId", OPT),
    ARRAY("meterValue", REQ, meter_value_item, 0),
    END,
};

static const ocpp_field_t remote_start_transaction_req[] = {
    INT("connectorId", OPT),
    STR("idTag", REQ, 20),
    OBJECT("chargingProfile", OPT, charging_profile),
    END,
};

static const ocpp_field_t remote_stop_transaction_req[] = {INT("transactionId", REQ), END};

static const ocpp_field_t reserve_now_req[] = {
    INT("connectorId", REQ),
    DATETIME("expiryDate", REQ),
    STR("idTag", REQ, 20),
    STR("parentIdTag", OPT, 20),
    INT("reservationId", REQ),
    END,
};
STATUS_RESPONSE(reserve_now_conf, reservation_status);

static const ocpp_field_t reset_req[] = {ENUM("type", REQ, reset_type), END};

static const ocpp_field_t security_event_notification_req[] = {
    STR("type", REQ, 50),
    DATETIME("timestamp", REQ),
    STR("techInfo", OPT, 255),
    END,
};

static const ocpp_field_t authorization_data[] = {
    STR("idTag", REQ, 20),
    OBJECT("idTagInfo", OPT, id_tag_info),
    END,
};
static const ocpp_field_t authorization_data_item = ITEM_OBJECT(authorization_data);
static const ocpp_field_t send_local_list_req[] = {
    INT("listVersion", REQ),
    ARRAY("localAuthorizationList", OPT, authorization_data_item, 0),
    ENUM("updateType", REQ, update_type),
    END,
};
STATUS_RESPONSE(send_local_list_conf, update_status);

static const ocpp_field_t set_charging_profile_req[] = {
    INT("connectorId", REQ),
    OBJECT("csChargingProfiles", REQ, charging_profile),
    END,
};
STATUS_RESPONSE(set_charging_profile_conf, charging_profile_status);

static const ocpp_field_t sign_certificate_req[] = {STR("csr", REQ, 5500), END};

static const ocpp_field_t signed_firmware_status_notification_req[] = {
    ENUM("status", REQ, signed_firmware_status),
    INT("requestId", OPT),
    END,
};

static const ocpp_field_t firmware[] = {
    STR("location", REQ, 512),
    DATETIME("retrieveDateTime", REQ),
    DATETIME("installDateTime", OPT),
    STR("signingCertificate", REQ, 5500),
    STR("signature", REQ, 800),
    END,
};
static const ocpp_field_t signed_update_firmware_req[] = {
    INT("retries", OPT),
    INT("retryInterval", OPT),
    INT("requestId", REQ),
    OBJECT("firmware", REQ, firmware),
    END,
};
STATUS_RESPONSE(signed_update_firmware_conf, update_firmware_status);

static const ocpp_field_t start_transaction_req[] = {
    INT("connectorId", REQ),
    STR("idTag", REQ, 20),
    INT("meterStart", REQ),
    INT("reservationId", OPT),
    DATETIME("timestamp", REQ),
    END,
};
static const ocpp_field_t start_transaction_conf[] = {
    OBJECT("idTagInfo", REQ, id_tag_info),
    INT("transactionId", REQ),
    END,
};

static const ocpp_field_t status_notification_req[] = {
    INT("connectorId", REQ),
    ENUM("errorCode", REQ, charge_point_error_code),
    STR("info", OPT, 50),
    ENUM("status", REQ, charge_point_status),
    DATETIME("timestamp", OPT),
    STR("vendorId", OPT, 255),
    STR("vendorErrorCode", OPT, 50),
    END,
};

static const ocpp_field_t stop_transaction_req[] = {
    STR("idTag", OPT, 20),
    INT("meterStop", REQ),
    DATETIME("timestamp", REQ),
    INT("transactionId", REQ),
    ENUM("reason", OPT, stop_reason),
    ARRAY("transactionData", OPT, meter_value_item, 0),
    END,
};
static const ocpp_field_t stop_transaction_conf[] = {OBJECT("idTagInfo", OPT, id_tag_info), END};

static const ocpp_field_t trigger_message_req[] = {
    ENUM("requestedMessage", REQ, message_trigger),
    INT("connectorId", OPT),
    END,
};

static const ocpp_field_t unlock_connector_req[] = {INT("connectorId", REQ), END};
STATUS_RESPONSE(unlock_connector_conf, unlock_status);

static const ocpp_field_t update_firmware_req[] = {
    STR("location", REQ, 0),
    INT("retries", OPT),
    DATETIME("retrieveDate", REQ),
    INT("retryInterval", OPT),
    END,
};

/* ---- the version ----------------------------------------------------------------------- */

#define FROM_STATION OCPP_DIR_FROM_STATION
#define TO_STATION OCPP_DIR_TO_STATION
#define MSG(a, d, req, conf) {.action = (a), .dir = (d), .request = (req), .response = (conf)}

/* Sorted by action (strcmp order) for ocpp_schema_find's binary search. */
static const ocpp_message_def_t v16_messages[] = {
    MSG("Authorize", FROM_STATION, authorize_req, authorize_conf),
    MSG("BootNotification", FROM_STATION, boot_notification_req, boot_notification_conf),
    MSG("CancelReservation", TO_STATION, cancel_reservation_req, accepted_rejected_conf),
    MSG("CertificateSigned", TO_STATION, certificate_signed_req, accepted_rejected_conf),
    MSG("ChangeAvailability", TO_STATION, change_availability_req, change_availability_conf),
    MSG("ChangeConfiguration", TO_STATION, change_configuration_req, change_configuration_conf),
    MSG("ClearCache", TO_STATION, no_fields, accepted_rejected_conf),
    MSG("ClearChargingProfile", TO_STATION, clear_charging_profile_req,
        clear_charging_profile_conf),
    MSG("DataTransfer", OCPP_DIR_BOTH, data_transfer_req, data_transfer_conf),
    MSG("DeleteCertificate", TO_STATION, delete_certificate_req, delete_certificate_conf),
    MSG("DiagnosticsStatusNotification", FROM_STATION, diagnostics_status_notification_req,
        no_fields),
    MSG("ExtendedTriggerMessage", TO_STATION, extended_trigger_message_req, trigger_message_conf),
    MSG("FirmwareStatusNotification", FROM_STATION, firmware_status_notification_req, no_fields),
    MSG("GetCompositeSchedule", TO_STATION, get_composite_schedule_req,
        get_composite_schedule_conf),
    MSG("GetConfiguration", TO_STATION, get_configuration_req, get_configuration_conf),
    MSG("GetDiagnostics", TO_STATION, get_diagnostics_req, get_diagnostics_conf),
    MSG("GetInstalledCertificateIds", TO_STATION, get_installed_certificate_ids_req,
        get_installed_certificate_ids_conf),
    MSG("GetLocalListVersion", TO_STATION, no_fields, get_local_list_version_conf),
    MSG("GetLog", TO_STATION, get_log_req, get_log_conf),
    MSG("Heartbeat", FROM_STATION, no_fields, heartbeat_conf),
    MSG("InstallCertificate", TO_STATION, install_certificate_req, install_certificate_conf),
    MSG("LogStatusNotification", FROM_STATION, log_status_notification_req, no_fields),
    MSG("MeterValues", FROM_STATION, meter_values_req, no_fields),
    MSG("RemoteStartTransaction", TO_STATION, remote_start_transaction_req,
        accepted_rejected_conf),
    MSG("RemoteStopTransaction", TO_STATION, remote_stop_transaction_req, accepted_rejected_conf),
    MSG("ReserveNow", TO_STATION, reserve_now_req, reserve_now_conf),
    MSG("Reset", TO_STATION, reset_req, accepted_rejected_conf),
    MSG("SecurityEventNotification", FROM_STATION, security_event_notification_req, no_fields),
    MSG("SendLocalList", TO_STATION, send_local_list_req, send_local_list_conf),
    MSG("SetChargingProfile", TO_STATION, set_charging_profile_req, set_charging_profile_conf),
    MSG("SignCertificate", FROM_STATION, sign_certificate_req, accepted_rejected_conf),
    MSG("SignedFirmwareStatusNotification", FROM_STATION,
        signed_firmware_status_notification_req, no_fields),
    MSG("SignedUpdateFirmware", TO_STATION, signed_update_firmware_req,
        signed_update_firmware_conf),
    MSG("StartTransaction", FROM_STATION, start_transaction_req, start_transaction_conf),
    MSG("StatusNotification", FROM_STATION, status_notification_req, no_fields),
    MSG("StopTransaction", FROM_STATION, stop_transaction_req, stop_transaction_conf),
    MSG("TriggerMessage", TO_STATION, trigger_message_req, trigger_message_conf),
    MSG("UnlockConnector", TO_STATION, unlock_connector_req, unlock_connector_conf),
    MSG("UpdateFirmware", TO_STATION, update_firmware_req, no_fields),
};

// clang-format on

const ocpp_version_defs_t ocpp_v16_defs = {
    .name = "ocpp1.6",
    .messages = v16_messages,
    .count = sizeof(v16_messages) / sizeof(v16_messages[0]),
};
