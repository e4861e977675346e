/*
 * OCPP 2.0.1 message definitions: every request and response of OCPP 2.0.1
 * (both directions, all functional blocks), as field tables for
 * ocpp_schema_validate().
 *
 * Written from Part 2 of the specification (its "Messages", "Datatypes" and
 * "Enumerations" chapters). 2.0.1 builds its messages from shared classes far
 * more than 1.6 did: IdTokenType, EVSEType, ComponentType, VariableType,
 * StatusInfoType, ChargingProfileType and MeterValueType appear in many
 * messages, so each is defined once below and referred to. Enumeration
 * types whose values are identical (the many Accepted/Rejected statuses) share
 * one list; the comment beside it names the specification types it stands for.
 *
 * customData: every 2.0.1 object, the message roots included, may carry
 * an optional CustomDataType object, {"vendorId": string(255)} plus any vendor
 * fields. It is the only open object (`.open = true`); every other object,
 * and the root, refuses unknown fields.
 *
 * tests/unit/test_v201_schemas.c checks every table against the official JSON
 * schemas shipped in the ocpp-rpc npm package. Where the specification text
 * says more than the schemas (identifierString's character set, at most one
 * decimal in a charging limit, default values), the tables follow the schemas,
 * as every strict peer does: the validator must not refuse what they accept.
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
/* An integer with inclusive bounds, e.g. a state of charge in percent. */
#define INT_RANGE(n, req, lo, hi)                                                              \
    {.name = (n), .type = OCPP_T_INTEGER, .required = (req), .has_min = true, .min = (lo),     \
     .has_max = true, .max = (hi)}
#define INT_MIN(n, req, lo)                                                                    \
    {.name = (n), .type = OCPP_T_INTEGER, .required = (req), .has_min = true, .min = (lo)}
/* A "decimal" of the specification: any JSON number. */
#define NUM(n, req) {.name = (n), .type = OCPP_T_NUMBER, .required = (req)}
#define BOOL(n, req) {.name = (n), .type = OCPP_T_BOOLEAN, .required = (req)}
#define DATETIME(n, req) {.name = (n), .type = OCPP_T_DATETIME, .required = (req)}
#define ANY(n, req) {.name = (n), .type = OCPP_T_ANY, .required = (req)}
#define ENUM(n, req, values)                                                                   \
    {.name = (n), .type = OCPP_T_ENUM, .required = (req), .enum_values = (values)}
#define OBJECT(n, req, children)                                                               \
    {.name = (n), .type = OCPP_T_OBJECT, .required = (req), .fields = (children)}
/* An array of at least `min` and at most `max` items (max 0: unbounded). */
#define ARRAY(n, req, item, min, max)                                                          \
    {.name = (n), .type = OCPP_T_ARRAY, .required = (req), .items = &(item),                  \
     .min_items = (min), .max_items = (max)}
#define END {.name = NULL}

/* An array item: the same shapes without a name. */
#define ITEM_OBJECT(children) OBJECT(NULL, REQ, children)
#define ITEM_STR(len) STR(NULL, REQ, len)
#define ITEM_INT INT(NULL, REQ)
#define ITEM_ENUM(values) ENUM(NULL, REQ, values)

/* CustomDataType: the one open object. Listed first in every object, as in the
 * specification's class diagrams. */
static const ocpp_field_t custom_data[] = {
    STR("vendorId", REQ, 255),
    END,
};
#define CUSTOM_DATA                                                                            \
    {.name = "customData", .type = OCPP_T_OBJECT, .required = OPT, .fields = custom_data,     \
     .open = true}

/* Requests and responses that carry nothing but customData. */
static const ocpp_field_t no_fields[] = {CUSTOM_DATA, END};

/* ---- enumerations ---------------------------------------------------------------------- */

#define ENUM_LIST(name, ...) static const char *const name[] = {__VA_ARGS__, NULL}

/* GenericStatusEnumType, and the types with the same two values:
 * CancelReservationStatus, CertificateSignedStatus, ChargingProfileStatus,
 * ClearCacheStatus, RequestStartStopStatus. */
ENUM_LIST(generic_status, "Accepted", "Rejected");
/* ClearChargingProfileStatus, ClearMessageStatus, GetDisplayMessagesStatus */
ENUM_LIST(accepted_unknown, "Accepted", "Unknown");
/* GetCertificateStatus, Iso15118EVCertificateStatus */
ENUM_LIST(accepted_failed, "Accepted", "Failed");
/* ChangeAvailabilityStatus, ResetStatus */
ENUM_LIST(accepted_rejected_scheduled, "Accepted", "Rejected", "Scheduled");
/* InstallCertificateStatus, SetNetworkProfileStatus */
ENUM_LIST(accepted_rejected_failed, "Accepted", "Rejected", "Failed");

ENUM_LIST(apn_authentication, "CHAP", "NONE", "PAP", "AUTO");
ENUM_LIST(attribute, "Actual", "Target", "MinSet", "MaxSet");
ENUM_LIST(authorization_status, "Accepted", "Blocked", "ConcurrentTx", "Expired", "Invalid",
          "NoCredit", "NotAllowedTypeEVSE", "NotAtThisLocation", "NotAtThisTime", "Unknown");
ENUM_LIST(authorize_certificate_status, "Accepted", "SignatureError", "CertificateExpired",
          "CertificateRevoked", "NoCertificateAvailable", "CertChainError",
          "ContractCancelled");
ENUM_LIST(boot_reason, "ApplicationReset", "FirmwareUpdate", "LocalReset", "PowerUp",
          "RemoteReset", "ScheduledReset", "Triggered", "Unknown", "Watchdog");
ENUM_LIST(certificate_action, "Install", "Update");
ENUM_LIST(certificate_signing_use, "ChargingStationCertificate", "V2GCertificate");
ENUM_LIST(charging_limit_source, "EMS", "Other", "SO", "CSO");
ENUM_LIST(charging_profile_kind, "Absolute", "Recurring", "Relative");
ENUM_LIST(charging_profile_purpose, "ChargingStationExternalConstraints",
          "ChargingStationMaxProfile", "TxDefaultProfile", "TxProfile");
ENUM_LIST(charging_rate_unit, "W", "A");
ENUM_LIST(charging_state, "Charging", "EVConnected", "SuspendedEV", "SuspendedEVSE", "Idle");
ENUM_LIST(clear_monitoring_status, "Accepted", "Rejected", "NotFound");
ENUM_LIST(component_criterion, "Active", "Available", "Enabled", "Problem");
ENUM_LIST(connector_type, "cCCS1", "cCCS2", "cG105", "cTesla", "cType1", "cType2",
          "s309-1P-16A", "s309-1P-32A", "s309-3P-16A", "s309-3P-32A", "sBS1361", "sCEE-7-7",
          "sType2", "sType3", "Other1PhMax16A", "Other1PhOver16A", "Other3Ph", "Pan",
          "wInductive", "wResonant", "Undetermined", "Unknown");
ENUM_LIST(connector_status, "Available", "Occupied", "Reserved", "Unavailable", "Faulted");
ENUM_LIST(cost_kind, "CarbonDioxideEmission", "RelativePricePercentage",
          "RenewableGenerationPercentage");
ENUM_LIST(customer_information_status, "Accepted", "Rejected", "Invalid");
ENUM_LIST(data_type, "string", "decimal", "integer", "dateTime", "boolean", "OptionList",
          "SequenceList", "MemberList");
ENUM_LIST(data_transfer_status, "Accepted", "Rejected", "UnknownMessageId", "UnknownVendorId");
ENUM_LIST(delete_certificate_status, "Accepted", "Failed", "NotFound");
ENUM_LIST(display_message_status, "Accepted", "NotSupportedMessageFormat", "Rejected",
          "NotSupportedPriority", "NotSupportedState", "UnknownTransaction");
ENUM_LIST(energy_transfer_mode, "DC", "AC_single_phase", "AC_two_phase", "AC_three_phase");
ENUM_LIST(event_notification, "HardWiredNotification", "HardWiredMonitor",
          "PreconfiguredMonitor", "CustomMonitor");
ENUM_LIST(event_trigger, "Alerting", "Delta", "Periodic");
ENUM_LIST(firmware_status, "Downloaded", "DownloadFailed", "Downloading", "DownloadScheduled",
          "DownloadPaused", "Idle", "InstallationFailed", "Installing", "Installed",
          "InstallRebooting", "InstallScheduled", "InstallVerificationFailed",
          "InvalidSignature", "SignatureVerified");
ENUM_LIST(generic_device_model_status, "Accepted", "Rejected", "NotSupported",
          "EmptyResultSet");
ENUM_LIST(get_certificate_id_use, "V2GRootCertificate", "MORootCertificate",
          "CSMSRootCertificate", "V2GCertificateChain", "ManufacturerRootCertificate");
ENUM_LIST(get_charging_profile_status, "Accepted", "NoProfiles");
ENUM_LIST(get_installed_certificate_status, "Accepted", "NotFound");
ENUM_LIST(get_variable_status, "Accepted", "Rejected", "UnknownComponent", "UnknownVariable",
          "NotSupportedAttributeType");
ENUM_LIST(hash_algorithm, "SHA256", "SHA384", "SHA512");
ENUM_LIST(id_token_type, "Central", "eMAID", "ISO14443", "ISO15693", "KeyCode", "Local",
          "MacAddress", "NoAuthorization");
ENUM_LIST(install_certificate_use, "V2GRootCertificate", "MORootCertificate",
          "CSMSRootCertificate", "ManufacturerRootCertificate");
ENUM_LIST(location, "Body", "Cable", "EV", "Inlet", "Outlet");
ENUM_LIST(log_type, "DiagnosticsLog", "SecurityLog");
ENUM_LIST(log_status, "Accepted", "Rejected", "AcceptedCanceled");
ENUM_LIST(measurand, "Current.Export", "Current.Import", "Current.Offered",
          "Energy.Active.Export.Register", "Energy.Active.Import.Register",
          "Energy.Reactive.Export.Register", "Energy.Reactive.Import.Register",
          "Energy.Active.Export.Interval", "Energy.Active.Import.Interval", "Energy.Active.Net",
          "Energy.Reactive.Export.Interval", "Energy.Reactive.Import.Interval",
          "Energy.Reactive.Net", "Energy.Apparent.Net", "Energy.Apparent.Import",
          "Energy.Apparent.Export", "Frequency", "Power.Active.Export", "Power.Active.Import",
          "Power.Factor", "Power.Offered", "Power.Reactive.Export", "Power.Reactive.Import",
          "SoC", "Voltage");
ENUM_LIST(message_format, "ASCII", "HTML", "URI", "UTF8");
ENUM_LIST(message_priority, "AlwaysFront", "InFront", "NormalCycle");
ENUM_LIST(message_state, "Charging", "Faulted", "Idle", "Unavailable");
ENUM_LIST(message_trigger, "BootNotification", "LogStatusNotification",
          "FirmwareStatusNotification", "Heartbeat", "MeterValues",
          "SignChargingStationCertificate", "SignV2GCertificate", "StatusNotification",
          "TransactionEvent", "SignCombinedCertificate", "PublishFirmwareStatusNotification");
ENUM_LIST(monitor, "UpperThreshold", "LowerThreshold", "Delta", "Periodic",
          "PeriodicClockAligned");
ENUM_LIST(monitoring_base, "All", "FactoryDefault", "HardWiredOnly");
ENUM_LIST(monitoring_criterion, "ThresholdMonitoring", "DeltaMonitoring", "PeriodicMonitoring");
ENUM_LIST(mutability, "ReadOnly", "WriteOnly", "ReadWrite");
ENUM_LIST(notify_ev_charging_needs_status, "Accepted", "Rejected", "Processing");
ENUM_LIST(ocpp_interface, "Wired0", "Wired1", "Wired2", "Wired3", "Wireless0", "Wireless1",
          "Wireless2", "Wireless3");
ENUM_LIST(ocpp_transport, "JSON", "SOAP");
ENUM_LIST(ocpp_version, "OCPP12", "OCPP15", "OCPP16", "OCPP20");
ENUM_LIST(operational_status, "Inoperative", "Operative");
ENUM_LIST(phase, "L1", "L2", "L3", "N", "L1-N", "L2-N", "L3-N", "L1-L2", "L2-L3", "L3-L1");
ENUM_LIST(publish_firmware_status, "Idle", "DownloadScheduled", "Downloading", "Downloaded",
          "Published", "DownloadFailed", "DownloadPaused", "InvalidChecksum",
          "ChecksumVerified", "PublishFailed");
ENUM_LIST(reading_context, "Interruption.Begin", "Interruption.End", "Other", "Sample.Clock",
          "Sample.Periodic", "Transaction.Begin", "Transaction.End", "Trigger");
ENUM_LIST(reason, "DeAuthorized", "EmergencyStop", "EnergyLimitReached", "EVDisconnected",
          "GroundFault", "ImmediateReset", "Local", "LocalOutOfCredit", "MasterPass", "Other",
          "OvercurrentFault", "PowerLoss", "PowerQuality", "Reboot", "Remote",
          "SOCLimitReached", "StoppedByEV", "TimeLimitReached", "Timeout");
ENUM_LIST(recurrency_kind, "Daily", "Weekly");
ENUM_LIST(registration_status, "Accepted", "Pending", "Rejected");
ENUM_LIST(report_base, "ConfigurationInventory", "FullInventory", "SummaryInventory");
ENUM_LIST(reservation_update_status, "Expired", "Removed");
ENUM_LIST(reserve_now_status, "Accepted", "Faulted", "Occupied", "Rejected", "Unavailable");
ENUM_LIST(reset_type, "Immediate", "OnIdle");
ENUM_LIST(send_local_list_status, "Accepted", "Failed", "VersionMismatch");
ENUM_LIST(set_monitoring_status, "Accepted", "UnknownComponent", "UnknownVariable",
          "UnsupportedMonitorType", "Rejected", "Duplicate");
ENUM_LIST(set_variable_status, "Accepted", "Rejected", "UnknownComponent", "UnknownVariable",
          "NotSupportedAttributeType", "RebootRequired");
ENUM_LIST(transaction_event, "Ended", "Started", "Updated");
ENUM_LIST(trigger_message_status, "Accepted", "Rejected", "NotImplemented");
ENUM_LIST(trigger_reason, "Authorized", "CablePluggedIn", "ChargingRateChanged",
          "ChargingStateChanged", "Deauthorized", "EnergyLimitReached", "EVCommunicationLost",
          "EVConnectTimeout", "MeterValueClock", "MeterValuePeriodic", "TimeLimitReached",
          "Trigger", "UnlockCommand", "StopAuthorized", "EVDeparted", "EVDetected",
          "RemoteStop", "RemoteStart", "AbnormalCondition", "SignedDataReceived",
          "ResetCommand");
ENUM_LIST(unlock_status, "Unlocked", "UnlockFailed", "OngoingAuthorizedTransaction",
          "UnknownConnector");
ENUM_LIST(unpublish_firmware_status, "DownloadOngoing", "NoFirmware", "Unpublished");
ENUM_LIST(update_type, "Differential", "Full");
ENUM_LIST(update_firmware_status, "Accepted", "Rejected", "AcceptedCanceled",
          "InvalidCertificate", "RevokedCertificate");
ENUM_LIST(upload_log_status, "BadMessage", "Idle", "NotSupportedOperation", "PermissionDenied",
          "Uploaded", "UploadFailure", "Uploading", "AcceptedCanceled");
ENUM_LIST(vpn_type, "IKEv2", "IPSec", "L2TP", "PPTP");

/* ---- shared data types (specification chapter 2), users before the used ---------------- */

/* Scalars used as array items. */
static const ocpp_field_t integer_item = ITEM_INT;
static const ocpp_field_t url_item = ITEM_STR(512);

static const ocpp_field_t status_info[] = {
    CUSTOM_DATA,
    STR("reasonCode", REQ, 20),
    STR("additionalInfo", OPT, 512),
    END,
};

/* Most responses: a status and an optional StatusInfoType. */
#define STATUS_RESPONSE(table, values)                                                         \
    static const ocpp_field_t table[] = {                                                      \
        CUSTOM_DATA,                                                                           \
        ENUM("status", REQ, values),                                                           \
        OBJECT("statusInfo", OPT, status_info),                                                \
        END,                                                                                   \
    }

STATUS_RESPONSE(generic_status_conf, generic_status);
STATUS_RESPONSE(generic_device_model_status_conf, generic_device_model_status);

/* ---- device model: components and variables ---- */

static const ocpp_field_t evse[] = {
    CUSTOM_DATA,
    INT("id", REQ),
    INT("connectorId", OPT),
    END,
};

static const ocpp_field_t component[] = {
    CUSTOM_DATA,
    OBJECT("evse", OPT, evse),
    STR("name", REQ, 50),
    STR("instance", OPT, 50),
    END,
};

static const ocpp_field_t variable[] = {
    CUSTOM_DATA,
    STR("name", REQ, 50),
    STR("instance", OPT, 50),
    END,
};

static const ocpp_field_t component_variable[] = {
    CUSTOM_DATA,
    OBJECT("component", REQ, component),
    OBJECT("variable", OPT, variable),
    END,
};
static const ocpp_field_t component_variable_item = ITEM_OBJECT(component_variable);

/* ---- authorization ---- */

static const ocpp_field_t additional_info[] = {
    CUSTOM_DATA,
    STR("additionalIdToken", REQ, 36),
    STR("type", REQ, 50),
    END,
};
static const ocpp_field_t additional_info_item = ITEM_OBJECT(additional_info);

/* idToken is an identifierString in the specification (a-z A-Z 0-9 * - _ = : + | @ .);
 * the schemas do not restrict the characters, nor do we. */
static const ocpp_field_t id_token[] = {
    CUSTOM_DATA,
    STR("idToken", REQ, 36),
    ENUM("type", REQ, id_token_type),
    ARRAY("additionalInfo", OPT, additional_info_item, 1, 0),
    END,
};

static const ocpp_field_t message_content[] = {
    CUSTOM_DATA,
    ENUM("format", REQ, message_format),
    STR("language", OPT, 8),
    STR("content", REQ, 512),
    END,
};

static const ocpp_field_t id_token_info[] = {
    CUSTOM_DATA,
    ENUM("status", REQ, authorization_status),
    DATETIME("cacheExpiryDateTime", OPT),
    INT("chargingPriority", OPT),
    STR("language1", OPT, 8),
    ARRAY("evseId", OPT, integer_item, 1, 0),
    OBJECT("groupIdToken", OPT, id_token),
    STR("language2", OPT, 8),
    OBJECT("personalMessage", OPT, message_content),
    END,
};

/* ---- certificates ---- */

static const ocpp_field_t certificate_hash_data[] = {
    CUSTOM_DATA,
    ENUM("hashAlgorithm", REQ, hash_algorithm),
    STR("issuerNameHash", REQ, 128),
    STR("issuerKeyHash", REQ, 128),
    STR("serialNumber", REQ, 40),
    END,
};
static const ocpp_field_t certificate_hash_data_item = ITEM_OBJECT(certificate_hash_data);

static const ocpp_field_t certificate_hash_data_chain[] = {
    CUSTOM_DATA,
    ENUM("certificateType", REQ, get_certificate_id_use),
    OBJECT("certificateHashData", REQ, certificate_hash_data),
    ARRAY("childCertificateHashData", OPT, certificate_hash_data_item, 1, 4),
    END,
};
static const ocpp_field_t certificate_hash_data_chain_item =
    ITEM_OBJECT(certificate_hash_data_chain);

static const ocpp_field_t ocsp_request_data[] = {
    CUSTOM_DATA,
    ENUM("hashAlgorithm", REQ, hash_algorithm),
    STR("issuerNameHash", REQ, 128),
    STR("issuerKeyHash", REQ, 128),
    STR("serialNumber", REQ, 40),
    STR("responderURL", REQ, 512),
    END,
};
static const ocpp_field_t ocsp_request_data_item = ITEM_OBJECT(ocsp_request_data);

/* ---- smart charging ---- */

static const ocpp_field_t relative_time_interval[] = {
    CUSTOM_DATA,
    INT("start", REQ),
    INT("duration", OPT),
    END,
};

static const ocpp_field_t cost[] = {
    CUSTOM_DATA,
    ENUM("costKind", REQ, cost_kind),
    INT("amount", REQ),
    INT("amountMultiplier", OPT),
    END,
};
static const ocpp_field_t cost_item = ITEM_OBJECT(cost);

static const ocpp_field_t consumption_cost[] = {
    CUSTOM_DATA,
    NUM("startValue", REQ),
    ARRAY("cost", REQ, cost_item, 1, 3),
    END,
};
static const ocpp_field_t consumption_cost_item = ITEM_OBJECT(consumption_cost);

static const ocpp_field_t sales_tariff_entry[] = {
    CUSTOM_DATA,
    OBJECT("relativeTimeInterval", REQ, relative_time_interval),
    INT_MIN("ePriceLevel", OPT, 0),
    ARRAY("consumptionCost", OPT, consumption_cost_item, 1, 3),
    END,
};
static const ocpp_field_t sales_tariff_entry_item = ITEM_OBJECT(sales_tariff_entry);

static const ocpp_field_t sales_tariff[] = {
    CUSTOM_DATA,
    INT("id", REQ),
    STR("salesTariffDescription", OPT, 32),
    INT("numEPriceLevels", OPT),
    ARRAY("salesTariffEntry", REQ, sales_tariff_entry_item, 1, 1024),
    END,
};

/* limit and minChargingRate: the specification asks for at most one decimal;
 * the 2.0.1 schemas (unlike 1.6's) have no multipleOf, so neither do we. */
static const ocpp_field_t charging_schedule_period[] = {
    CUSTOM_DATA,
    INT("startPeriod", REQ),
    NUM("limit", REQ),
    INT("numberPhases", OPT),
    INT("phaseToUse", OPT),
    END,
};
static const ocpp_field_t charging_schedule_period_item = ITEM_OBJECT(charging_schedule_period);

static const ocpp_field_t charging_schedule[] = {
    CUSTOM_DATA,
    INT("id", REQ),
    DATETIME("startSchedule", OPT),
    INT("duration", OPT),
    ENUM("chargingRateUnit", REQ, charging_rate_unit),
    ARRAY("chargingSchedulePeriod", REQ, charging_schedule_period_item, 1, 1024),
    NUM("minChargingRate", OPT),
    OBJECT("salesTariff", OPT, sales_tariff),
    END,
};
static const ocpp_field_t charging_schedule_item = ITEM_OBJECT(charging_schedule);

static const ocpp_field_t charging_profile[] = {
    CUSTOM_DATA,
    INT("id", REQ),
    INT("stackLevel", REQ),
    ENUM("chargingProfilePurpose", REQ, charging_profile_purpose),
    ENUM("chargingProfileKind", REQ, charging_profile_kind),
    ENUM("recurrencyKind", OPT, recurrency_kind),
    DATETIME("validFrom", OPT),
    DATETIME("validTo", OPT),
    STR("transactionId", OPT, 36),
    ARRAY("chargingSchedule", REQ, charging_schedule_item, 1, 3),
    END,
};
static const ocpp_field_t charging_profile_item = ITEM_OBJECT(charging_profile);

/* ---- meter values ---- */

static const ocpp_field_t signed_meter_value[] = {
    CUSTOM_DATA,
    STR("signedMeterData", REQ, 2500),
    STR("signingMethod", REQ, 50),
    STR("encodingMethod", REQ, 50),
    STR("publicKey", REQ, 2500),
    END,
};

/* The specification's defaults (unit "Wh", multiplier 0) are the handler's to apply. */
static const ocpp_field_t unit_of_measure[] = {
    CUSTOM_DATA,
    STR("unit", OPT, 20),
    INT("multiplier", OPT),
    END,
};

static const ocpp_field_t sampled_value[] = {
    CUSTOM_DATA,
    NUM("value", REQ),
    ENUM("context", OPT, reading_context),
    ENUM("measurand", OPT, measurand),
    ENUM("phase", OPT, phase),
    ENUM("location", OPT, location),
    OBJECT("signedMeterValue", OPT, signed_meter_value),
    OBJECT("unitOfMeasure", OPT, unit_of_measure),
    END,
};
static const ocpp_field_t sampled_value_item = ITEM_OBJECT(sampled_value);

static const ocpp_field_t meter_value[] = {
    CUSTOM_DATA,
    ARRAY("sampledValue", REQ, sampled_value_item, 1, 0),
    DATETIME("timestamp", REQ),
    END,
};
static const ocpp_field_t meter_value_item = ITEM_OBJECT(meter_value);

/* ---- display messages ---- */

static const ocpp_field_t message_info[] = {
    CUSTOM_DATA,
    OBJECT("display", OPT, component),
    INT("id", REQ),
    ENUM("priority", REQ, message_priority),
    ENUM("state", OPT, message_state),
    DATETIME("startDateTime", OPT),
    DATETIME("endDateTime", OPT),
    STR("transactionId", OPT, 36),
    OBJECT("message", REQ, message_content),
    END,
};
static const ocpp_field_t message_info_item = ITEM_OBJECT(message_info);

/* ---- messages, in action order ----------------------------------------------------------- */

static const ocpp_field_t authorize_req[] = {
    CUSTOM_DATA,
    OBJECT("idToken", REQ, id_token),
    STR("certificate", OPT, 5500),
    ARRAY("iso15118CertificateHashData", OPT, ocsp_request_data_item, 1, 4),
    END,
};
static const ocpp_field_t authorize_conf[] = {
    CUSTOM_DATA,
    OBJECT("idTokenInfo", REQ, id_token_info),
    ENUM("certificateStatus", OPT, authorize_certificate_status),
    END,
};

static const ocpp_field_t modem[] = {
    CUSTOM_DATA,
    STR("iccid", OPT, 20),
    STR("imsi", OPT, 20),
    END,
};
static const ocpp_field_t charging_station[] = {
    CUSTOM_DATA,
    STR("serialNumber", OPT, 25),
    STR("model", REQ, 20),
    OBJECT("modem", OPT, modem),
    STR("vendorName", REQ, 50),
    STR("firmwareVersion", OPT, 50),
    END,
};
static const ocpp_field_t boot_notification_req[] = {
    CUSTOM_DATA,
    OBJECT("chargingStation", REQ, charging_station),
    ENUM("reason", REQ, boot_reason),
    END,
};
static const ocpp_field_t boot_notification_conf[] = {
    CUSTOM_DATA,
    DATETIME("currentTime", REQ),
    INT("interval", REQ),
    ENUM("status", REQ, registration_status),
    OBJECT("statusInfo", OPT, status_info),
    END,
};

static const ocpp_field_t cancel_reservation_req[] = {
    CUSTOM_DATA,
    INT("reservationId", REQ),
    END,
};

static const ocpp_field_t certificate_signed_req[] = {
    CUSTOM_DATA,
    STR("certificateChain", REQ, 10000),
    ENUM("certificateType", OPT, certificate_signing_use),
    END,
};

static const ocpp_field_t change_availability_req[] = {
    CUSTOM_DATA,
    OBJECT("evse", OPT, evse),
    ENUM("operationalStatus", REQ, operational_status),
    END,
};
STATUS_RESPONSE(accepted_rejected_scheduled_conf, accepted_rejected_scheduled);

static const ocpp_field_t clear_charging_profile_criteria[] = {
    CUSTOM_DATA,
    INT("evseId", OPT),
    ENUM("chargingProfilePurpose", OPT, charging_profile_purpose),
    INT("stackLevel", OPT),
    END,
};
static const ocpp_field_t clear_charging_profile_req[] = {
    CUSTOM_DATA,
    INT("chargingProfileId", OPT),
    OBJECT("chargingProfileCriteria", OPT, clear_charging_profile_criteria),
    END,
};
STATUS_RESPONSE(accepted_unknown_conf, accepted_unknown);

static const ocpp_field_t clear_display_message_req[] = {
    CUSTOM_DATA,
    INT("id", REQ),
    END,
};

static const ocpp_field_t cleared_charging_limit_req[] = {
    CUSTOM_DATA,
    ENUM("chargingLimitSource", REQ, charging_limit_source),
    INT("evseId", OPT),
    END,
};

static const ocpp_field_t clear_variable_monitoring_req[] = {
    CUSTOM_DATA,
    ARRAY("id", REQ, integer_item, 1, 0),
    END,
};
static const ocpp_field_t clear_monitoring_result[] = {
    CUSTOM_DATA,
    ENUM("status", REQ, clear_monitoring_status),
    INT("id", REQ),
    OBJECT("statusInfo", OPT, status_info),
    END,
};
static const ocpp_field_t clear_monitoring_result_item = ITEM_OBJECT(clear_monitoring_result);
static const ocpp_field_t clear_variable_monitoring_conf[] = {
    CUSTOM_DATA,
    ARRAY("clearMonitoringResult", REQ, clear_monitoring_result_item, 1, 0),
    END,
};

static const ocpp_field_t cost_updated_req[] = {
    CUSTOM_DATA,
    NUM("totalCost", REQ),
    STR("transactionId", REQ, 36),
    END,
};

static const ocpp_field_t customer_information_req[] = {
    CUSTOM_DATA,
    OBJECT("customerCertificate", OPT, certificate_hash_data),
    OBJECT("idToken", OPT, id_token),
    INT("requestId", REQ),
    BOOL("report", REQ),
    BOOL("clear", REQ),
    STR("customerIdentifier", OPT, 64),
    END,
};
STATUS_RESPONSE(customer_information_conf, customer_information_status);

/* "data" is anyType: any JSON value, vendor-defined. */
static const ocpp_field_t data_transfer_req[] = {
    CUSTOM_DATA,
    STR("messageId", OPT, 50),
    ANY("data", OPT),
    STR("vendorId", REQ, 255),
    END,
};
static const ocpp_field_t data_transfer_conf[] = {
    CUSTOM_DATA,
    ENUM("status", REQ, data_transfer_status),
    OBJECT("statusInfo", OPT, status_info),
    ANY("data", OPT),
    END,
};

static const ocpp_field_t delete_certificate_req[] = {
    CUSTOM_DATA,
    OBJECT("certificateHashData", REQ, certificate_hash_data),
    END,
};
STATUS_RESPONSE(delete_certificate_conf, delete_certificate_status);

static const ocpp_field_t firmware_status_notification_req[] = {
    CUSTOM_DATA,
    ENUM("status", REQ, firmware_status),
    INT("requestId", OPT),
    END,
};

static const ocpp_field_t get_15118_ev_certificate_req[] = {
    CUSTOM_DATA,
    STR("iso15118SchemaVersion", REQ, 50),
    ENUM("action", REQ, certificate_action),
    STR("exiRequest", REQ, 5600),
    END,
};
static const ocpp_field_t get_15118_ev_certificate_conf[] = {
    CUSTOM_DATA,
    ENUM("status", REQ, accepted_failed),
    OBJECT("statusInfo", OPT, status_info),
    STR("exiResponse", REQ, 5600),
    END,
};

static const ocpp_field_t get_base_report_req[] = {
    CUSTOM_DATA,
    INT("requestId", REQ),
    ENUM("reportBase", REQ, report_base),
    END,
};

static const ocpp_field_t get_certificate_status_req[] = {
    CUSTOM_DATA,
    OBJECT("ocspRequestData", REQ, ocsp_request_data),
    END,
};
static const ocpp_field_t get_certificate_status_conf[] = {
    CUSTOM_DATA,
    ENUM("status", REQ, accepted_failed),
    OBJECT("statusInfo", OPT, status_info),
    STR("ocspResult", OPT, 5500),
    END,
};

static const ocpp_field_t charging_limit_source_item = ITEM_ENUM(charging_limit_source);
static const ocpp_field_t charging_profile_criterion[] = {
    CUSTOM_DATA,
    ENUM("chargingProfilePurpose", OPT, charging_profile_purpose),
    INT("stackLevel", OPT),
    ARRAY("chargingProfileId", OPT, integer_item, 1, 0),
    ARRAY("chargingLimitSource", OPT, charging_limit_source_item, 1, 4),
    END,
};
static const ocpp_field_t get_charging_profiles_req[] = {
    CUSTOM_DATA,
    INT("requestId", REQ),
    INT("evseId", OPT),
    OBJECT("chargingProfile", REQ, charging_profile_criterion),
    END,
};
STATUS_RESPONSE(get_charging_profiles_conf, get_charging_profile_status);

static const ocpp_field_t get_composite_schedule_req[] = {
    CUSTOM_DATA,
    INT("duration", REQ),
    ENUM("chargingRateUnit", OPT, charging_rate_unit),
    INT("evseId", REQ),
    END,
};
/* CompositeScheduleType: unlike a ChargingScheduleType, no id, no upper bound on periods. */
static const ocpp_field_t composite_schedule[] = {
    CUSTOM_DATA,
    ARRAY("chargingSchedulePeriod", REQ, charging_schedule_period_item, 1, 0),
    INT("evseId", REQ),
    INT("duration", REQ),
    DATETIME("scheduleStart", REQ),
    ENUM("chargingRateUnit", REQ, charging_rate_unit),
    END,
};
static const ocpp_field_t get_composite_schedule_conf[] = {
    CUSTOM_DATA,
    ENUM("status", REQ, generic_status),
    OBJECT("statusInfo", OPT, status_info),
    OBJECT("schedule", OPT, composite_schedule),
    END,
};

static const ocpp_field_t get_display_messages_req[] = {
    CUSTOM_DATA,
    ARRAY("id", OPT, integer_item, 1, 0),
    INT("requestId", REQ),
    ENUM("priority", OPT, message_priority),
    ENUM("state", OPT, message_state),
    END,
};

static const ocpp_field_t get_certificate_id_use_item = ITEM_ENUM(get_certificate_id_use);
static const ocpp_field_t get_installed_certificate_ids_req[] = {
    CUSTOM_DATA,
    ARRAY("certificateType", OPT, get_certificate_id_use_item, 1, 0),
    END,
};
static const ocpp_field_t get_installed_certificate_ids_conf[] = {
    CUSTOM_DATA,
    ENUM("status", REQ, get_installed_certificate_status),
    OBJECT("statusInfo", OPT, status_info),
    ARRAY("certificateHashDataChain", OPT, certificate_hash_data_chain_item, 1, 0),
    END,
};

static const ocpp_field_t get_local_list_version_conf[] = {
    CUSTOM_DATA,
    INT("versionNumber", REQ),
    END,
};

static const ocpp_field_t log_parameters[] = {
    CUSTOM_DATA,
    STR("remoteLocation", REQ, 512),
    DATETIME("oldestTimestamp", OPT),
    DATETIME("latestTimestamp", OPT),
    END,
};
static const ocpp_field_t get_log_req[] = {
    CUSTOM_DATA,
    OBJECT("log", REQ, log_parameters),
    ENUM("logType", REQ, log_type),
    INT("requestId", REQ),
    INT("retries", OPT),
    INT("retryInterval", OPT),
    END,
};
static const ocpp_field_t get_log_conf[] = {
    CUSTOM_DATA,
    ENUM("status", REQ, log_status),
    OBJECT("statusInfo", OPT, status_info),
    STR("filename", OPT, 255),
    END,
};

static const ocpp_field_t monitoring_criterion_item = ITEM_ENUM(monitoring_criterion);
static const ocpp_field_t get_monitoring_report_req[] = {
    CUSTOM_DATA,
    ARRAY("componentVariable", OPT, component_variable_item, 1, 0),
    INT("requestId", REQ),
    ARRAY("monitoringCriteria", OPT, monitoring_criterion_item, 1, 3),
    END,
};

static const ocpp_field_t component_criterion_item = ITEM_ENUM(component_criterion);
static const ocpp_field_t get_report_req[] = {
    CUSTOM_DATA,
    ARRAY("componentVariable", OPT, component_variable_item, 1, 0),
    INT("requestId", REQ),
    ARRAY("componentCriteria", OPT, component_criterion_item, 1, 4),
    END,
};

static const ocpp_field_t get_transaction_status_req[] = {
    CUSTOM_DATA,
    STR("transactionId", OPT, 36),
    END,
};
static const ocpp_field_t get_transaction_status_conf[] = {
    CUSTOM_DATA,
    BOOL("ongoingIndicator", OPT),
    BOOL("messagesInQueue", REQ),
    END,
};

/* attributeType defaults to "Actual" when absent (applied by the handler). */
static const ocpp_field_t get_variable_data[] = {
    CUSTOM_DATA,
    ENUM("attributeType", OPT, attribute),
    OBJECT("component", REQ, component),
    OBJECT("variable", REQ, variable),
    END,
};
static const ocpp_field_t get_variable_data_item = ITEM_OBJECT(get_variable_data);
static const ocpp_field_t get_variables_req[] = {
    CUSTOM_DATA,
    ARRAY("getVariableData", REQ, get_variable_data_item, 1, 0),
    END,
};
static const ocpp_field_t get_variable_result[] = {
    CUSTOM_DATA,
    OBJECT("attributeStatusInfo", OPT, status_info),
    ENUM("attributeStatus", REQ, get_variable_status),
    ENUM("attributeType", OPT, attribute),
    STR("attributeValue", OPT, 2500),
    OBJECT("component", REQ, component),
    OBJECT("variable", REQ, variable),
    END,
};
static const ocpp_field_t get_variable_result_item = ITEM_OBJECT(get_variable_result);
static const ocpp_field_t get_variables_conf[] = {
    CUSTOM_DATA,
    ARRAY("getVariableResult", REQ, get_variable_result_item, 1, 0),
    END,
};

static const ocpp_field_t heartbeat_conf[] = {
    CUSTOM_DATA,
    DATETIME("currentTime", REQ),
    END,
};

static const ocpp_field_t install_certificate_req[] = {
    CUSTOM_DATA,
    ENUM("certificateType", REQ, install_certificate_use),
    STR("certificate", REQ, 5500),
    END,
};
STATUS_RESPONSE(accepted_rejected_failed_conf, accepted_rejected_failed);

static const ocpp_field_t log_status_notification_req[] = {
    CUSTOM_DATA,
    ENUM("status", REQ, upload_log_status),
    INT("requestId", OPT),
    END,
};

static const ocpp_field_t meter_values_req[] = {
    CUSTOM_DATA,
    INT("evseId", REQ),
    ARRAY("meterValue", REQ, meter_value_item, 1, 0),
    END,
};

static const ocpp_field_t charging_limit[] = {
    CUSTOM_DATA,
    ENUM("chargingLimitSource", REQ, charging_limit_source),
    BOOL("isGridCritical", OPT),
    END,
};
static const ocpp_field_t notify_charging_limit_req[] = {
    CUSTOM_DATA,
    ARRAY("chargingSchedule", OPT, charging_schedule_item, 1, 0),
    INT("evseId", OPT),
    OBJECT("chargingLimit", REQ, charging_limit),
    END,
};

/* tbc ("to be continued") defaults to false in every Notify* report. */
static const ocpp_field_t notify_customer_information_req[] = {
    CUSTOM_DATA,
    STR("data", REQ, 512),
    BOOL("tbc", OPT),
    INT("seqNo", REQ),
    DATETIME("generatedAt", REQ),
    INT("requestId", REQ),
    END,
};

static const ocpp_field_t notify_display_messages_req[] = {
    CUSTOM_DATA,
    ARRAY("messageInfo", OPT, message_info_item, 1, 0),
    INT("requestId", REQ),
    BOOL("tbc", OPT),
    END,
};

static const ocpp_field_t ac_charging_parameters[] = {
    CUSTOM_DATA,
    INT("energyAmount", REQ),
    INT("evMinCurrent", REQ),
    INT("evMaxCurrent", REQ),
    INT("evMaxVoltage", REQ),
    END,
};
static const ocpp_field_t dc_charging_parameters[] = {
    CUSTOM_DATA,
    INT("evMaxCurrent", REQ),
    INT("evMaxVoltage", REQ),
    INT("energyAmount", OPT),
    INT("evMaxPower", OPT),
    INT_RANGE("stateOfCharge", OPT, 0, 100),
    INT("evEnergyCapacity", OPT),
    INT_RANGE("fullSoC", OPT, 0, 100),
    INT_RANGE("bulkSoC", OPT, 0, 100),
    END,
};
static const ocpp_field_t charging_needs[] = {
    CUSTOM_DATA,
    OBJECT("acChargingParameters", OPT, ac_charging_parameters),
    OBJECT("dcChargingParameters", OPT, dc_charging_parameters),
    ENUM("requestedEnergyTransfer", REQ, energy_transfer_mode),
    DATETIME("departureTime", OPT),
    END,
};
static const ocpp_field_t notify_ev_charging_needs_req[] = {
    CUSTOM_DATA,
    INT("maxScheduleTuples", OPT),
    OBJECT("chargingNeeds", REQ, charging_needs),
    INT("evseId", REQ),
    END,
};
STATUS_RESPONSE(notify_ev_charging_needs_conf, notify_ev_charging_needs_status);

static const ocpp_field_t notify_ev_charging_schedule_req[] = {
    CUSTOM_DATA,
    DATETIME("timeBase", REQ),
    OBJECT("chargingSchedule", REQ, charging_schedule),
    INT("evseId", REQ),
    END,
};

static const ocpp_field_t event_data[] = {
    CUSTOM_DATA,
    INT("eventId", REQ),
    DATETIME("timestamp", REQ),
    ENUM("trigger", REQ, event_trigger),
    INT("cause", OPT),
    STR("actualValue", REQ, 2500),
    STR("techCode", OPT, 50),
    STR("techInfo", OPT, 500),
    BOOL("cleared", OPT),
    STR("transactionId", OPT, 36),
    OBJECT("component", REQ, component),
    INT("variableMonitoringId", OPT),
    ENUM("eventNotificationType", REQ, event_notification),
    OBJECT("variable", REQ, variable),
    END,
};
static const ocpp_field_t event_data_item = ITEM_OBJECT(event_data);
static const ocpp_field_t notify_event_req[] = {
    CUSTOM_DATA,
    DATETIME("generatedAt", REQ),
    BOOL("tbc", OPT),
    INT("seqNo", REQ),
    ARRAY("eventData", REQ, event_data_item, 1, 0),
    END,
};

static const ocpp_field_t variable_monitoring[] = {
    CUSTOM_DATA,
    INT("id", REQ),
    BOOL("transaction", REQ),
    NUM("value", REQ),
    ENUM("type", REQ, monitor),
    INT("severity", REQ),
    END,
};
static const ocpp_field_t variable_monitoring_item = ITEM_OBJECT(variable_monitoring);
static const ocpp_field_t monitoring_data[] = {
    CUSTOM_DATA,
    OBJECT("component", REQ, component),
    OBJECT("variable", REQ, variable),
    ARRAY("variableMonitoring", REQ, variable_monitoring_item, 1, 0),
    END,
};
static const ocpp_field_t monitoring_data_item = ITEM_OBJECT(monitoring_data);
static const ocpp_field_t notify_monitoring_report_req[] = {
    CUSTOM_DATA,
    ARRAY("monitor", OPT, monitoring_data_item, 1, 0),
    INT("requestId", REQ),
    BOOL("tbc", OPT),
    INT("seqNo", REQ),
    DATETIME("generatedAt", REQ),
    END,
};

/* type defaults to "Actual", mutability to "ReadWrite", persistent and constant to false. */
static const ocpp_field_t variable_attribute[] = {
    CUSTOM_DATA,
    ENUM("type", OPT, attribute),
    STR("value", OPT, 2500),
    ENUM("mutability", OPT, mutability),
    BOOL("persistent", OPT),
    BOOL("constant", OPT),
    END,
};
static const ocpp_field_t variable_attribute_item = ITEM_OBJECT(variable_attribute);
static const ocpp_field_t variable_characteristics[] = {
    CUSTOM_DATA,
    STR("unit", OPT, 16),
    ENUM("dataType", REQ, data_type),
    NUM("minLimit", OPT),
    NUM("maxLimit", OPT),
    STR("valuesList", OPT, 1000),
    BOOL("supportsMonitoring", REQ),
    END,
};
static const ocpp_field_t report_data[] = {
    CUSTOM_DATA,
    OBJECT("component", REQ, component),
    OBJECT("variable", REQ, variable),
    ARRAY("variableAttribute", REQ, variable_attribute_item, 1, 4),
    OBJECT("variableCharacteristics", OPT, variable_characteristics),
    END,
};
static const ocpp_field_t report_data_item = ITEM_OBJECT(report_data);
static const ocpp_field_t notify_report_req[] = {
    CUSTOM_DATA,
    INT("requestId", REQ),
    DATETIME("generatedAt", REQ),
    ARRAY("reportData", OPT, report_data_item, 1, 0),
    BOOL("tbc", OPT),
    INT("seqNo", REQ),
    END,
};

static const ocpp_field_t publish_firmware_req[] = {
    CUSTOM_DATA,
    STR("location", REQ, 512),
    INT("retries", OPT),
    STR("checksum", REQ, 32),
    INT("requestId", REQ),
    INT("retryInterval", OPT),
    END,
};

static const ocpp_field_t publish_firmware_status_notification_req[] = {
    CUSTOM_DATA,
    ENUM("status", REQ, publish_firmware_status),
    ARRAY("location", OPT, url_item, 1, 0),
    INT("requestId", OPT),
    END,
};

static const ocpp_field_t report_charging_profiles_req[] = {
    CUSTOM_DATA,
    INT("requestId", REQ),
    ENUM("chargingLimitSource", REQ, charging_limit_source),
    ARRAY("chargingProfile", REQ, charging_profile_item, 1, 0),
    BOOL("tbc", OPT),
    INT("evseId", REQ),
    END,
};

static const ocpp_field_t request_start_transaction_req[] = {
    CUSTOM_DATA,
    INT("evseId", OPT),
    OBJECT("groupIdToken", OPT, id_token),
    OBJECT("idToken", REQ, id_token),
    INT("remoteStartId", REQ),
    OBJECT("chargingProfile", OPT, charging_profile),
    END,
};
static const ocpp_field_t request_start_transaction_conf[] = {
    CUSTOM_DATA,
    ENUM("status", REQ, generic_status),
    OBJECT("statusInfo", OPT, status_info),
    STR("transactionId", OPT, 36),
    END,
};

static const ocpp_field_t request_stop_transaction_req[] = {
    CUSTOM_DATA,
    STR("transactionId", REQ, 36),
    END,
};

static const ocpp_field_t reservation_status_update_req[] = {
    CUSTOM_DATA,
    INT("reservationId", REQ),
    ENUM("reservationUpdateStatus", REQ, reservation_update_status),
    END,
};

static const ocpp_field_t reserve_now_req[] = {
    CUSTOM_DATA,
    INT("id", REQ),
    DATETIME("expiryDateTime", REQ),
    ENUM("connectorType", OPT, connector_type),
    OBJECT("idToken", REQ, id_token),
    INT("evseId", OPT),
    OBJECT("groupIdToken", OPT, id_token),
    END,
};
STATUS_RESPONSE(reserve_now_conf, reserve_now_status);

static const ocpp_field_t reset_req[] = {
    CUSTOM_DATA,
    ENUM("type", REQ, reset_type),
    INT("evseId", OPT),
    END,
};

static const ocpp_field_t security_event_notification_req[] = {
    CUSTOM_DATA,
    STR("type", REQ, 50),
    DATETIME("timestamp", REQ),
    STR("techInfo", OPT, 255),
    END,
};

static const ocpp_field_t authorization_data[] = {
    CUSTOM_DATA,
    OBJECT("idToken", REQ, id_token),
    OBJECT("idTokenInfo", OPT, id_token_info),
    END,
};
static const ocpp_field_t authorization_data_item = ITEM_OBJECT(authorization_data);
static const ocpp_field_t send_local_list_req[] = {
    CUSTOM_DATA,
    ARRAY("localAuthorizationList", OPT, authorization_data_item, 1, 0),
    INT("versionNumber", REQ),
    ENUM("updateType", REQ, update_type),
    END,
};
STATUS_RESPONSE(send_local_list_conf, send_local_list_status);

static const ocpp_field_t set_charging_profile_req[] = {
    CUSTOM_DATA,
    INT("evseId", REQ),
    OBJECT("chargingProfile", REQ, charging_profile),
    END,
};

static const ocpp_field_t set_display_message_req[] = {
    CUSTOM_DATA,
    OBJECT("message", REQ, message_info),
    END,
};
STATUS_RESPONSE(set_display_message_conf, display_message_status);

static const ocpp_field_t set_monitoring_base_req[] = {
    CUSTOM_DATA,
    ENUM("monitoringBase", REQ, monitoring_base),
    END,
};

static const ocpp_field_t set_monitoring_level_req[] = {
    CUSTOM_DATA,
    INT("severity", REQ),
    END,
};

static const ocpp_field_t apn[] = {
    CUSTOM_DATA,
    STR("apn", REQ, 512),
    STR("apnUserName", OPT, 20),
    STR("apnPassword", OPT, 20),
    INT("simPin", OPT),
    STR("preferredNetwork", OPT, 6),
    BOOL("useOnlyPreferredNetwork", OPT),
    ENUM("apnAuthentication", REQ, apn_authentication),
    END,
};
static const ocpp_field_t vpn[] = {
    CUSTOM_DATA,
    STR("server", REQ, 512),
    STR("user", REQ, 20),
    STR("group", OPT, 20),
    STR("password", REQ, 20),
    STR("key", REQ, 255),
    ENUM("type", REQ, vpn_type),
    END,
};
static const ocpp_field_t network_connection_profile[] = {
    CUSTOM_DATA,
    OBJECT("apn", OPT, apn),
    ENUM("ocppVersion", REQ, ocpp_version),
    ENUM("ocppTransport", REQ, ocpp_transport),
    STR("ocppCsmsUrl", REQ, 512),
    INT("messageTimeout", REQ),
    INT("securityProfile", REQ),
    ENUM("ocppInterface", REQ, ocpp_interface),
    OBJECT("vpn", OPT, vpn),
    END,
};
static const ocpp_field_t set_network_profile_req[] = {
    CUSTOM_DATA,
    INT("configurationSlot", REQ),
    OBJECT("connectionData", REQ, network_connection_profile),
    END,
};

/* transaction defaults to false. */
static const ocpp_field_t set_monitoring_data[] = {
    CUSTOM_DATA,
    INT("id", OPT),
    BOOL("transaction", OPT),
    NUM("value", REQ),
    ENUM("type", REQ, monitor),
    INT("severity", REQ),
    OBJECT("component", REQ, component),
    OBJECT("variable", REQ, variable),
    END,
};
static const ocpp_field_t set_monitoring_data_item = ITEM_OBJECT(set_monitoring_data);
static const ocpp_field_t set_variable_monitoring_req[] = {
    CUSTOM_DATA,
    ARRAY("setMonitoringData", REQ, set_monitoring_data_item, 1, 0),
    END,
};
static const ocpp_field_t set_monitoring_result[] = {
    CUSTOM_DATA,
    INT("id", OPT),
    OBJECT("statusInfo", OPT, status_info),
    ENUM("status", REQ, set_monitoring_status),
    ENUM("type", REQ, monitor),
    OBJECT("component", REQ, component),
    OBJECT("variable", REQ, variable),
    INT("severity", REQ),
    END,
};
static const ocpp_field_t set_monitoring_result_item = ITEM_OBJECT(set_monitoring_result);
static const ocpp_field_t set_variable_monitoring_conf[] = {
    CUSTOM_DATA,
    ARRAY("setMonitoringResult", REQ, set_monitoring_result_item, 1, 0),
    END,
};

static const ocpp_field_t set_variable_data[] = {
    CUSTOM_DATA,
    ENUM("attributeType", OPT, attribute),
    STR("attributeValue", REQ, 1000),
    OBJECT("component", REQ, component),
    OBJECT("variable", REQ, variable),
    END,
};
static const ocpp_field_t set_variable_data_item = ITEM_OBJECT(set_variable_data);
static const ocpp_field_t set_variables_req[] = {
    CUSTOM_DATA,
    ARRAY("setVariableData", REQ, set_variable_data_item, 1, 0),
    END,
};
static const ocpp_field_t set_variable_result[] = {
    CUSTOM_DATA,
    ENUM("attributeType", OPT, attribute),
    ENUM("attributeStatus", REQ, set_variable_status),
    OBJECT("attributeStatusInfo", OPT, status_info),
    OBJECT("component", REQ, component),
    OBJECT("variable", REQ, variable),
    END,
};
static const ocpp_field_t set_variable_result_item = ITEM_OBJECT(set_variable_result);
static const ocpp_field_t set_variables_conf[] = {
    CUSTOM_DATA,
    ARRAY("setVariableResult", REQ, set_variable_result_item, 1, 0),
    END,
};

static const ocpp_field_t sign_certificate_req[] = {
    CUSTOM_DATA,
    STR("csr", REQ, 5500),
    ENUM("certificateType", OPT, certificate_signing_use),
    END,
};

static const ocpp_field_t status_notification_req[] = {
    CUSTOM_DATA,
    DATETIME("timestamp", REQ),
    ENUM("connectorStatus", REQ, connector_status),
    INT("evseId", REQ),
    INT("connectorId", REQ),
    END,
};

static const ocpp_field_t transaction[] = {
    CUSTOM_DATA,
    STR("transactionId", REQ, 36),
    ENUM("chargingState", OPT, charging_state),
    INT("timeSpentCharging", OPT),
    ENUM("stoppedReason", OPT, reason),
    INT("remoteStartId", OPT),
    END,
};
/* offline defaults to false. */
static const ocpp_field_t transaction_event_req[] = {
    CUSTOM_DATA,
    ENUM("eventType", REQ, transaction_event),
    ARRAY("meterValue", OPT, meter_value_item, 1, 0),
    DATETIME("timestamp", REQ),
    ENUM("triggerReason", REQ, trigger_reason),
    INT("seqNo", REQ),
    BOOL("offline", OPT),
    INT("numberOfPhasesUsed", OPT),
    INT("cableMaxCurrent", OPT),
    INT("reservationId", OPT),
    OBJECT("transactionInfo", REQ, transaction),
    OBJECT("evse", OPT, evse),
    OBJECT("idToken", OPT, id_token),
    END,
};
static const ocpp_field_t transaction_event_conf[] = {
    CUSTOM_DATA,
    NUM("totalCost", OPT),
    INT("chargingPriority", OPT),
    OBJECT("idTokenInfo", OPT, id_token_info),
    OBJECT("updatedPersonalMessage", OPT, message_content),
    END,
};

static const ocpp_field_t trigger_message_req[] = {
    CUSTOM_DATA,
    OBJECT("evse", OPT, evse),
    ENUM("requestedMessage", REQ, message_trigger),
    END,
};
STATUS_RESPONSE(trigger_message_conf, trigger_message_status);

static const ocpp_field_t unlock_connector_req[] = {
    CUSTOM_DATA,
    INT("evseId", REQ),
    INT("connectorId", REQ),
    END,
};
STATUS_RESPONSE(unlock_connector_conf, unlock_status);

static const ocpp_field_t unpublish_firmware_req[] = {
    CUSTOM_DATA,
    STR("checksum", REQ, 32),
    END,
};
/* The one status response without a statusInfo. */
static const ocpp_field_t unpublish_firmware_conf[] = {
    CUSTOM_DATA,
    ENUM("status", REQ, unpublish_firmware_status),
    END,
};

static const ocpp_field_t firmware[] = {
    CUSTOM_DATA,
    STR("location", REQ, 512),
    DATETIME("retrieveDateTime", REQ),
    DATETIME("installDateTime", OPT),
    STR("signingCertificate", OPT, 5500),
    STR("signature", OPT, 800),
    END,
};
static const ocpp_field_t update_firmware_req[] = {
    CUSTOM_DATA,
    INT("retries", OPT),
    INT("retryInterval", OPT),
    INT("requestId", REQ),
    OBJECT("firmware", REQ, firmware),
    END,
};
STATUS_RESPONSE(update_firmware_conf, update_firmware_status);

/* ---- the version ----------------------------------------------------------------------- */

#define FROM_STATION OCPP_DIR_FROM_STATION
#define TO_STATION OCPP_DIR_TO_STATION
#define MSG(a, d, req, conf) {.action = (a), .dir = (d), .request = (req), .response = (conf)}

/* Sorted by action (strcmp order) for ocpp_schema_find's binary search. */
static const ocpp_message_def_t v201_messages[] = {
    MSG("Authorize", FROM_STATION, authorize_req, authorize_conf),
    MSG("BootNotification", FROM_STATION, boot_notification_req, boot_notification_conf),
    MSG("CancelReservation", TO_STATION, cancel_reservation_req, generic_status_conf),
    MSG("CertificateSigned", TO_STATION, certificate_signed_req, generic_status_conf),
    MSG("ChangeAvailability", TO_STATION, change_availability_req,
        accepted_rejected_scheduled_conf),
    MSG("ClearCache", TO_STATION, no_fields, generic_status_conf),
    MSG("ClearChargingProfile", TO_STATION, clear_charging_profile_req, accepted_unknown_conf),
    MSG("ClearDisplayMessage", TO_STATION, clear_display_message_req, accepted_unknown_conf),
    MSG("ClearVariableMonitoring", TO_STATION, clear_variable_monitoring_req,
        clear_variable_monitoring_conf),
    MSG("ClearedChargingLimit", FROM_STATION, cleared_charging_limit_req, no_fields),
    MSG("CostUpdated", TO_STATION, cost_updated_req, no_fields),
    MSG("CustomerInformation", TO_STATION, customer_information_req, customer_information_conf),
    MSG("DataTransfer", OCPP_DIR_BOTH, data_transfer_req, data_transfer_conf),
    MSG("DeleteCertificate", TO_STATION, delete_certificate_req, delete_certificate_conf),
    MSG("FirmwareStatusNotification", FROM_STATION, firmware_status_notification_req, no_fields),
    MSG("Get15118EVCertificate", FROM_STATION, get_15118_ev_certificate_req,
        get_15118_ev_certificate_conf),
    MSG("GetBaseReport", TO_STATION, get_base_report_req, generic_device_model_status_conf),
    MSG("GetCertificateStatus", FROM_STATION, get_certificate_status_req,
        get_certificate_status_conf),
    MSG("GetChargingProfiles", TO_STATION, get_charging_profiles_req, get_charging_profiles_conf),
    MSG("GetCompositeSchedule", TO_STATION, get_composite_schedule_req,
        get_composite_schedule_conf),
    MSG("GetDisplayMessages", TO_STATION, get_display_messages_req, accepted_unknown_conf),
    MSG("GetInstalledCertificateIds", TO_STATION, get_installed_certificate_ids_req,
        get_installed_certificate_ids_conf),
    MSG("GetLocalListVersion", TO_STATION, no_fields, get_local_list_version_conf),
    MSG("GetLog", TO_STATION, get_log_req, get_log_conf),
    MSG("GetMonitoringReport", TO_STATION, get_monitoring_report_req,
        generic_device_model_status_conf),
    MSG("GetReport", TO_STATION, get_report_req, generic_device_model_status_conf),
    MSG("GetTransactionStatus", TO_STATION, get_transaction_status_req,
        get_transaction_status_conf),
    MSG("GetVariables", TO_STATION, get_variables_req, get_variables_conf),
    MSG("Heartbeat", FROM_STATION, no_fields, heartbeat_conf),
    MSG("InstallCertificate", TO_STATION, install_certificate_req, accepted_rejected_failed_conf),
    MSG("LogStatusNotification", FROM_STATION, log_status_notification_req, no_fields),
    MSG("MeterValues", FROM_STATION, meter_values_req, no_fields),
    MSG("NotifyChargingLimit", FROM_STATION, notify_charging_limit_req, no_fields),
    MSG("NotifyCustomerInformation", FROM_STATION, notify_customer_information_req, no_fields),
    MSG("NotifyDisplayMessages", FROM_STATION, notify_display_messages_req, no_fields),
    MSG("NotifyEVChargingNeeds", FROM_STATION, notify_ev_charging_needs_req,
        notify_ev_charging_needs_conf),
    MSG("NotifyEVChargingSchedule", FROM_STATION, notify_ev_charging_schedule_req,
        generic_status_conf),
    MSG("NotifyEvent", FROM_STATION, notify_event_req, no_fields),
    MSG("NotifyMonitoringReport", FROM_STATION, notify_monitoring_report_req, no_fields),
    MSG("NotifyReport", FROM_STATION, notify_report_req, no_fields),
    MSG("PublishFirmware", TO_STATION, publish_firmware_req, generic_status_conf),
    MSG("PublishFirmwareStatusNotification", FROM_STATION,
        publish_firmware_status_notification_req, no_fields),
    MSG("ReportChargingProfiles", FROM_STATION, report_charging_profiles_req, no_fields),
    MSG("RequestStartTransaction", TO_STATION, request_start_transaction_req,
        request_start_transaction_conf),
    MSG("RequestStopTransaction", TO_STATION, request_stop_transaction_req, generic_status_conf),
    MSG("ReservationStatusUpdate", FROM_STATION, reservation_status_update_req, no_fields),
    MSG("ReserveNow", TO_STATION, reserve_now_req, reserve_now_conf),
    MSG("Reset", TO_STATION, reset_req, accepted_rejected_scheduled_conf),
    MSG("SecurityEventNotification", FROM_STATION, security_event_notification_req, no_fields),
    MSG("SendLocalList", TO_STATION, send_local_list_req, send_local_list_conf),
    MSG("SetChargingProfile", TO_STATION, set_charging_profile_req, generic_status_conf),
    MSG("SetDisplayMessage", TO_STATION, set_display_message_req, set_display_message_conf),
    MSG("SetMonitoringBase", TO_STATION, set_monitoring_base_req,
        generic_device_model_status_conf),
    MSG("SetMonitoringLevel", TO_STATION, set_monitoring_level_req, generic_status_conf),
    MSG("SetNetworkProfile", TO_STATION, set_network_profile_req, accepted_rejected_failed_conf),
    MSG("SetVariableMonitoring", TO_STATION, set_variable_monitoring_req,
        set_variable_monitoring_conf),
    MSG("SetVariables", TO_STATION, set_variables_req, set_variables_conf),
    MSG("SignCertificate", FROM_STATION, sign_certificate_req, generic_status_conf),
    MSG("StatusNotification", FROM_STATION, status_notification_req, no_fields),
    MSG("TransactionEvent", FROM_STATION, transaction_event_req, transaction_event_conf),
    MSG("TriggerMessage", TO_STATION, trigger_message_req, trigger_message_conf),
    MSG("UnlockConnector", TO_STATION, unlock_connector_req, unlock_connector_conf),
    MSG("UnpublishFirmware", TO_STATION, unpublish_firmware_req, unpublish_firmware_conf),
    MSG("UpdateFirmware", TO_STATION, update_firmware_req, update_firmware_conf),
};

// clang-format on

const ocpp_version_defs_t ocpp_v201_defs = {
    .name = "ocpp2.0.1",
    .messages = v201_messages,
    .count = sizeof(v201_messages) / sizeof(v201_messages[0]),
};
