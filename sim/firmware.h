/*
 * Firmware updates as a simulated station performs them (OCPP 1.6
 * UpdateFirmware, 2.0.1 UpdateFirmware): accept, wait for the retrieve time,
 * download the file with a real HTTP GET, retry a failed download, install,
 * reboot and come back with the new firmware version:
 *
 *   (DownloadScheduled) -> Downloading -(GET ok)-> Downloaded
 *       -> (SignatureVerified) -> (InstallScheduled) -> Installing
 *       -> (InstallRebooting) -> reboot: reconnect, BootNotification with the
 *          new firmwareVersion (2.0.1 reason FirmwareUpdate) -> Installed
 *   a failed GET: Downloading again after retryInterval while retries last,
 *       then DownloadFailed; a URL that is not loopback: DownloadFailed at the
 *       retrieve time, nothing fetched
 *   --firmware-fail RATE: that share of installs end in InstallationFailed
 *       (no reboot); with ":signature", signed 2.0.1 updates fail as
 *       InvalidSignature instead
 *
 * Statuses in brackets exist in 2.0.1 only; a 1.6 station reports the rest.
 * Installed comes after the reboot, as the specifications draw it: it tells
 * the CSMS the new firmware is running.
 *
 * The station keeps what it downloaded last (bytes, SHA-256) and the version
 * it runs; the report lists them. Nothing is allocated until a station gets
 * its first UpdateFirmware.
 */
#ifndef AMPGRID_SIM_FIRMWARE_H
#define AMPGRID_SIM_FIRMWARE_H

#include "sim/sim.h"

#include <jansson.h>

/* Every firmware status either version reports; the names are 2.0.1's
 * (1.6 spells its subset the same way). */
typedef enum sim_fw_status {
    SIM_FW_IDLE,
    SIM_FW_DOWNLOAD_SCHEDULED,
    SIM_FW_DOWNLOADING,
    SIM_FW_DOWNLOADED,
    SIM_FW_DOWNLOAD_FAILED,
    SIM_FW_SIGNATURE_VERIFIED,
    SIM_FW_INVALID_SIGNATURE,
    SIM_FW_INSTALL_SCHEDULED,
    SIM_FW_INSTALLING,
    SIM_FW_INSTALL_REBOOTING,
    SIM_FW_INSTALLED,
    SIM_FW_INSTALLATION_FAILED,
    SIM_FW_STATUS_COUNT
} sim_fw_status_t;

extern const char *const sim_fw_status_names[SIM_FW_STATUS_COUNT];

/* How a new firmware version is named (--firmware-version-from). */
typedef enum sim_fwv_rule {
    SIM_FWV_NAME,    /* the file name without its extension: fw-2.1.0.bin -> fw-2.1.0 */
    SIM_FWV_VERSION, /* the first dotted number in the file name: 2.1.0 (else as NAME) */
    SIM_FWV_SHA256,  /* "sha256-" and the first 12 hex digits of the file's digest */
} sim_fwv_rule_t;

/* An UpdateFirmware request, version-neutral. */
typedef struct sim_fw_request {
    const char *location;
    int64_t retrieve_ms;  /* wall clock */
    int64_t install_ms;   /* wall clock; 0 = as soon as downloaded */
    int retries;          /* further attempts after a failed download; -1 = not given */
    int retry_interval_s; /* 0 = not given */
    bool has_request_id;
    int32_t request_id;
    bool signed_update; /* a signature came with it */
    bool detailed;      /* 2.0.1: report DownloadScheduled, SignatureVerified,
                         * InstallScheduled, InstallRebooting */
} sim_fw_request_t;

typedef enum sim_fw_answer {
    SIM_FW_ACCEPTED,
    SIM_FW_ACCEPTED_CANCELED, /* an update in progress was cancelled for this one */
} sim_fw_answer_t;

/* Per station; see firmware.c. */
typedef struct sim_fw sim_fw_t;

/* Starts an update (the answer is sent first; work follows on timers). */
sim_fw_answer_t sim_firmware_update(sim_station_t *st, const sim_fw_request_t *r);
/* The download ended. */
void sim_firmware_on_transfer(sim_station_t *st, const sim_transfer_result_t *r);
/* The station's boot was accepted: after a firmware reboot, reports Installed. */
void sim_firmware_on_ready(sim_station_t *st);
/* TriggerMessage FirmwareStatusNotification: queues the current status
 * (Idle when no update is in progress). */
void sim_firmware_trigger(sim_station_t *st);

/* The firmware version the station runs (BootNotification). */
const char *sim_firmware_version(const sim_station_t *st);
/* Whether the station is booting from a firmware install (2.0.1 boot reason). */
bool sim_firmware_rebooting(const sim_station_t *st);
/* The current status (Idle when none in progress). */
sim_fw_status_t sim_firmware_status(const sim_station_t *st);

/* Names the new version from the URL's file name (or the digest). out gets
 * at most 50 characters from [A-Za-z0-9._+-]. Pure: the tests call it. */
void sim_firmware_name_version(sim_fwv_rule_t rule, const char *url, const unsigned char sha256[32],
                               char *out, size_t len);
/* Parses "name", "version" or "sha256"; -1 when unknown. */
int sim_firmware_parse_rule(const char *s);

/* The report: this station's firmware facts, NULL when it never had an update. */
json_t *sim_firmware_json(const sim_station_t *st);

void sim_firmware_free(sim_station_t *st);

#endif
