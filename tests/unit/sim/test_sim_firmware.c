/*
 * Firmware updates and log uploads in the simulator (sim/firmware.c,
 * sim/diagnostics.c) without a network: the fake transport records the HTTP
 * transfers a station starts, the test answers them as the HTTP server would
 * and plays the CSMS for the status notifications, the reboot and the boot
 * with the new firmware version.
 */
#include "sim_fake.h"

#include "sim/args.h"
#include "sim/diagnostics.h"
#include "sim/firmware.h"

#define FW_URL "http://127.0.0.1:8081/fw/ampgrid-fw-2.1.0.bin"

static int setup_v16(void **state)
{
    fake_setup("ocpp1.6", NULL);
    return 0;
}

static int setup_v201(void **state)
{
    fake_setup("ocpp2.0.1", NULL);
    return 0;
}

static void all_fail(sim_config_t *c)
{
    c->firmware_fail = 1;
}

static void all_fail_signature(sim_config_t *c)
{
    c->firmware_fail = 1;
    c->firmware_fail_signature = true;
}

static int setup_v16_failing(void **state)
{
    fake_setup("ocpp1.6", all_fail);
    return 0;
}

static int setup_v201_failing_signature(void **state)
{
    fake_setup("ocpp2.0.1", all_fail_signature);
    return 0;
}

/* Sends 1.6 UpdateFirmware for url, retrieving offset_ms from now. */
static void update_v16(const char *url, int64_t offset_ms, const char *extra)
{
    char ts[TIME_RFC3339_LEN], p[600];
    snprintf(p, sizeof p, "{\"location\":\"%s\",\"retrieveDate\":\"%s\"%s}", url,
             at_offset(offset_ms, ts), extra ? extra : "");
    json_t *a = server_call("UpdateFirmware", p);
    assert_int_equal(json_object_size(a), 0); /* UpdateFirmware.conf is empty */
    json_decref(a);
}

static const char *firmware_version_of_boot(const json_t *boot)
{
    const json_t *cs = json_object_get(boot, "chargingStation");
    return json_string_value(json_object_get(cs ? cs : boot, "firmwareVersion"));
}

/* Expects the StatusNotifications of a boot, then the given status call. */
static void drain_status_then(const char *action, const char *status)
{
    ocpp_frame_t f;
    for (;;) {
        next_frame(&f);
        if (strcmp(f.action, "StatusNotification") != 0) break;
        answer(&f, "{}");
        ocpp_frame_free(&f);
    }
    fk.read--;
    ocpp_frame_free(&f);
    expect_status(action, status);
}

static void update_downloads_installs_reboots_then_reports_installed(void **state)
{
    boot();
    update_v16(FW_URL, -1000, NULL);
    no_more_frames(); /* nothing before the retrieve time comes round */
    walk(s->now_ms + 20);
    assert_int_equal(fk.ntransfers, 1);
    assert_int_equal(fk.transfers[0].job, SIM_JOB_FIRMWARE);
    assert_string_equal(fk.transfers[0].url, FW_URL);
    assert_null(fk.transfers[0].body); /* a download */
    expect_status("FirmwareStatusNotification", "Downloading");
    transfer_result(200, NULL, 1234);
    expect_status("FirmwareStatusNotification", "Downloaded");
    walk(s->now_ms + 600);
    expect_status("FirmwareStatusNotification", "Installing");
    assert_int_equal(fk.closes, 0);
    walk(s->now_ms + 1100);
    no_more_frames();
    assert_int_equal(fk.closes, 1); /* the reboot */
    json_t *b = reboot_and_boot();
    assert_string_equal(firmware_version_of_boot(b), "ampgrid-fw-2.1.0");
    json_decref(b);
    drain_status_then("FirmwareStatusNotification", "Installed");
    assert_int_equal(s->stats.fw.requests, 1);
    assert_int_equal(s->stats.fw.attempts, 1);
    assert_int_equal(s->stats.fw.ok, 1);
    assert_int_equal(s->stats.fw.bytes, 1234);
    assert_int_equal(s->stats.fw.installed, 1);
    json_t *j = sim_firmware_json(st);
    assert_string_equal(json_string_value(json_object_get(j, "version")), "ampgrid-fw-2.1.0");
    assert_int_equal(json_integer_value(json_object_get(j, "bytes")), 1234);
    assert_string_equal(json_string_value(json_object_get(j, "sha256")),
                        "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf");
    assert_string_equal(json_string_value(json_object_get(j, "status")), "Installed");
    json_decref(j);
    assert_int_equal(sim_firmware_status(st), SIM_FW_IDLE);
}

static void retrieve_date_in_the_future_is_waited_for(void **state)
{
    boot();
    uint64_t t0 = s->now_ms;
    update_v16(FW_URL, 60000, NULL);
    walk(t0 + 59000);
    assert_int_equal(fk.ntransfers, 0);
    no_more_frames(); /* 1.6 has no DownloadScheduled */
    walk(t0 + 60100);
    assert_int_equal(fk.ntransfers, 1);
    expect_status("FirmwareStatusNotification", "Downloading");
}

static void failed_download_is_retried_then_reported(void **state)
{
    boot();
    update_v16(FW_URL, 0, ",\"retries\":1,\"retryInterval\":5");
    walk(s->now_ms + 20);
    expect_status("FirmwareStatusNotification", "Downloading");
    transfer_result(404, NULL, 0);
    no_more_frames(); /* a retry is coming: no failure yet */
    uint64_t t = s->now_ms;
    walk(t + 4900);
    assert_int_equal(fk.ntransfers, 1);
    walk(t + 5100);
    assert_int_equal(fk.ntransfers, 2);
    assert_int_not_equal(fk.transfers[1].seq, fk.transfers[0].seq);
    expect_status("FirmwareStatusNotification", "Downloading");
    transfer_result(0, "Couldn't connect to server", 0);
    expect_status("FirmwareStatusNotification", "DownloadFailed");
    walk(s->now_ms + 60000);
    assert_int_equal(fk.ntransfers, 2); /* retries used up */
    no_more_frames();
    assert_int_equal(s->stats.fw.attempts, 2);
    assert_int_equal(s->stats.fw.failed, 2);
    assert_int_equal(s->stats.fw.ok, 0);
    assert_int_equal(fk.closes, 0);
}

static void url_that_is_not_loopback_is_never_fetched(void **state)
{
    boot();
    update_v16("http://192.0.2.7/fw.bin", 0, ",\"retries\":3");
    walk(s->now_ms + 20);
    expect_status("FirmwareStatusNotification", "DownloadFailed");
    update_v16("ftp://127.0.0.1/fw.bin", 0, NULL);
    walk(s->now_ms + 20);
    expect_status("FirmwareStatusNotification", "DownloadFailed");
    walk(s->now_ms + 200000);
    assert_int_equal(fk.ntransfers, 0);
    assert_int_equal(s->stats.fw.refused, 2);
    assert_int_equal(s->stats.fw.attempts, 0);
}

static void failing_install_reports_installation_failed_and_keeps_the_version(void **state)
{
    boot();
    update_v16(FW_URL, 0, NULL);
    walk(s->now_ms + 20);
    expect_status("FirmwareStatusNotification", "Downloading");
    transfer_result(200, NULL, 10);
    expect_status("FirmwareStatusNotification", "Downloaded");
    walk(s->now_ms + 600);
    expect_status("FirmwareStatusNotification", "Installing");
    walk(s->now_ms + 1100);
    expect_status("FirmwareStatusNotification", "InstallationFailed");
    assert_int_equal(fk.closes, 0); /* no reboot */
    assert_string_equal(sim_firmware_version(st), "ampgrid-sim " AMPGRID_VERSION);
    assert_int_equal(s->stats.fw.install_failed, 1);
    assert_int_equal(s->stats.fw.installed, 0);
}

/* 2.0.1: the detailed sequence, every status with the request's id. */
static void v201_signed_update_reports_every_step_with_its_request_id(void **state)
{
    boot();
    char ts[TIME_RFC3339_LEN], p[800];
    snprintf(p, sizeof p,
             "{\"requestId\":42,\"firmware\":{\"location\":\"%s\",\"retrieveDateTime\":\"%s\","
             "\"signature\":\"c2lnbmF0dXJl\",\"signingCertificate\":\"-----BEGIN...\"}}",
             FW_URL, at_offset(5000, ts));
    assert_string_equal(server_call_status("UpdateFirmware", p), "Accepted");
    const char *seq[] = {"DownloadScheduled", "Downloading", "Downloaded",
                         "SignatureVerified", "Installing",  "InstallRebooting"};
    ocpp_frame_t f;
    for (int i = 0; i < 6; i++) {
        if (i == 1) walk(s->now_ms + 5100);
        if (i == 2) transfer_result(200, NULL, 99);
        if (i == 4) walk(s->now_ms + 600);
        if (i == 5) walk(s->now_ms + 1100);
        expect_call("FirmwareStatusNotification", &f);
        assert_string_equal(json_string_value(json_object_get(f.payload, "status")), seq[i]);
        assert_int_equal(json_integer_value(json_object_get(f.payload, "requestId")), 42);
        answer(&f, "{}");
        ocpp_frame_free(&f);
    }
    assert_int_equal(fk.closes, 1);
    json_t *b = reboot_and_boot();
    assert_string_equal(json_string_value(json_object_get(b, "reason")), "FirmwareUpdate");
    assert_string_equal(firmware_version_of_boot(b), "ampgrid-fw-2.1.0");
    json_decref(b);
    drain_status_then("FirmwareStatusNotification", "Installed");
}

static void v201_signature_failure_stops_before_installing(void **state)
{
    boot();
    char ts[TIME_RFC3339_LEN], p[800];
    snprintf(p, sizeof p,
             "{\"requestId\":7,\"firmware\":{\"location\":\"%s\",\"retrieveDateTime\":\"%s\","
             "\"signature\":\"c2ln\"}}",
             FW_URL, at_offset(0, ts));
    assert_string_equal(server_call_status("UpdateFirmware", p), "Accepted");
    walk(s->now_ms + 20);
    expect_status("FirmwareStatusNotification", "Downloading");
    transfer_result(200, NULL, 5);
    expect_status("FirmwareStatusNotification", "Downloaded");
    expect_status("FirmwareStatusNotification", "InvalidSignature");
    walk(s->now_ms + 5000);
    no_more_frames();
    assert_int_equal(fk.closes, 0);
}

static void v201_new_update_cancels_the_one_in_progress(void **state)
{
    boot();
    char ts[TIME_RFC3339_LEN], p[800];
    snprintf(p, sizeof p,
             "{\"requestId\":1,\"firmware\":{\"location\":\"%s\",\"retrieveDateTime\":\"%s\"}}",
             FW_URL, at_offset(0, ts));
    assert_string_equal(server_call_status("UpdateFirmware", p), "Accepted");
    walk(s->now_ms + 20);
    expect_status("FirmwareStatusNotification", "Downloading");
    snprintf(p, sizeof p,
             "{\"requestId\":2,\"firmware\":{\"location\":\"%s\",\"retrieveDateTime\":\"%s\"}}",
             "http://localhost:8081/fw/other-3.0.bin", at_offset(0, ts));
    assert_string_equal(server_call_status("UpdateFirmware", p), "AcceptedCanceled");
    transfer_result(200, NULL, 5); /* the first download's late result: ignored */
    no_more_frames();
    walk(s->now_ms + 20);
    assert_int_equal(fk.ntransfers, 2);
    assert_string_equal(fk.transfers[1].url, "http://localhost:8081/fw/other-3.0.bin");
    ocpp_frame_t f;
    expect_call("FirmwareStatusNotification", &f);
    assert_int_equal(json_integer_value(json_object_get(f.payload, "requestId")), 2);
    answer(&f, "{}");
    ocpp_frame_free(&f);
}

static void trigger_reports_idle_then_the_update_in_progress(void **state)
{
    boot();
    assert_string_equal(server_call_status("TriggerMessage",
                                           "{\"requestedMessage\":\"FirmwareStatusNotification\"}"),
                        "Accepted");
    expect_status("FirmwareStatusNotification", "Idle");
    update_v16(FW_URL, 0, NULL);
    walk(s->now_ms + 20);
    expect_status("FirmwareStatusNotification", "Downloading");
    server_call_status("TriggerMessage", "{\"requestedMessage\":\"FirmwareStatusNotification\"}");
    expect_status("FirmwareStatusNotification", "Downloading");
    server_call_status("TriggerMessage",
                       "{\"requestedMessage\":\"DiagnosticsStatusNotification\"}");
    expect_status("DiagnosticsStatusNotification", "Idle");
}

static void version_rules_name_the_new_firmware(void **state)
{
    unsigned char sha[32];
    char v[64];
    for (int i = 0; i < 32; i++)
        sha[i] = (unsigned char)i;
    sim_firmware_name_version(SIM_FWV_NAME, "http://127.0.0.1/a/fw-2.1.0.bin", sha, v, sizeof v);
    assert_string_equal(v, "fw-2.1.0");
    sim_firmware_name_version(SIM_FWV_NAME, "http://127.0.0.1/fw-2.1.0.tar.gz?x=1", sha, v,
                              sizeof v);
    assert_string_equal(v, "fw-2.1.0");
    sim_firmware_name_version(SIM_FWV_NAME, "http://127.0.0.1/fw-2.1.0", sha, v, sizeof v);
    assert_string_equal(v, "fw-2.1.0"); /* a numeric suffix is not an extension */
    sim_firmware_name_version(SIM_FWV_NAME, "http://127.0.0.1/f%22w\"x.bin", sha, v, sizeof v);
    assert_string_equal(v, "f22wx"); /* only characters a version may hold */
    sim_firmware_name_version(SIM_FWV_VERSION, "http://127.0.0.1/acme-v10.4.2-rc1.img", sha, v,
                              sizeof v);
    assert_string_equal(v, "10.4.2");
    sim_firmware_name_version(SIM_FWV_VERSION, "http://127.0.0.1/firmware.bin", sha, v, sizeof v);
    assert_string_equal(v, "firmware"); /* no number: the name */
    sim_firmware_name_version(SIM_FWV_SHA256, "http://127.0.0.1/firmware.bin", sha, v, sizeof v);
    assert_string_equal(v, "sha256-000102030405");
    sim_firmware_name_version(SIM_FWV_NAME, "http://127.0.0.1/", sha, v, sizeof v);
    assert_string_equal(v, "sha256-000102030405"); /* no file name */
    char longname[200] = "http://127.0.0.1/";
    memset(longname + strlen(longname), 'a', 120);
    sim_firmware_name_version(SIM_FWV_NAME, longname, sha, v, sizeof v);
    assert_int_equal(strlen(v), 50); /* BootNotification allows 50 */
    assert_int_equal(sim_firmware_parse_rule("version"), SIM_FWV_VERSION);
    assert_int_equal(sim_firmware_parse_rule("nope"), -1);
}

static void command_line_sets_the_failure_rate_and_the_version_rule(void **state)
{
    sim_config_t c;
    char err[300];
    char *a1[] = {"sim", "--firmware-fail", "0.25", "--firmware-version-from", "sha256", NULL};
    assert_int_equal(sim_args_parse(5, a1, &c, err, sizeof err), SIM_ARGS_OK);
    assert_float_equal(c.firmware_fail, 0.25, 1e-9);
    assert_false(c.firmware_fail_signature);
    assert_int_equal(c.firmware_version_from, SIM_FWV_SHA256);
    char *a2[] = {"sim", "--firmware-fail", "1:signature", NULL};
    assert_int_equal(sim_args_parse(3, a2, &c, err, sizeof err), SIM_ARGS_OK);
    assert_true(c.firmware_fail_signature);
    assert_int_equal(c.firmware_version_from, SIM_FWV_NAME); /* the default */
    char *bad[][3] = {{"sim", "--firmware-fail", "1.5"},
                      {"sim", "--firmware-fail", "0.1:install"},
                      {"sim", "--firmware-version-from", "date"}};
    for (int i = 0; i < 3; i++)
        assert_int_equal(sim_args_parse(3, bad[i], &c, err, sizeof err), SIM_ARGS_ERROR);
}

/* ------------------------------------------------------------------ logs */

static void v16_get_diagnostics_uploads_a_log_to_the_directory_url(void **state)
{
    boot();
    json_t *a = server_call("GetDiagnostics",
                            "{\"location\":\"http://127.0.0.1:8081/upload/\",\"retries\":0}");
    const char *name = json_string_value(json_object_get(a, "fileName"));
    assert_non_null(name);
    assert_true(strncmp(name, "SIM-1-diagnostics-", 18) == 0);
    char url[300];
    snprintf(url, sizeof url, "http://127.0.0.1:8081/upload/%s", name);
    walk(s->now_ms + 20);
    assert_int_equal(fk.ntransfers, 1);
    assert_int_equal(fk.transfers[0].job, SIM_JOB_LOG);
    assert_string_equal(fk.transfers[0].url, url);
    assert_string_equal(fk.transfers[0].file_name, name);
    json_decref(a);
    assert_non_null(fk.transfers[0].body);
    assert_true(fk.transfers[0].len > 200);
    assert_non_null(strstr(fk.transfers[0].body, "station SIM-1"));
    expect_status("DiagnosticsStatusNotification", "Uploading");
    transfer_result(201, NULL, fk.transfers[0].len);
    expect_status("DiagnosticsStatusNotification", "Uploaded");
    assert_int_equal(s->stats.logs.ok, 1);
    assert_int_equal(s->stats.logs.bytes, fk.transfers[0].len);
    assert_int_equal(sim_diagnostics_status(st), SIM_LOG_IDLE);
}

static void v201_get_log_retries_then_reports_upload_failure(void **state)
{
    boot();
    json_t *a = server_call("GetLog", "{\"logType\":\"SecurityLog\",\"requestId\":9,"
                                      "\"retries\":1,\"retryInterval\":2,\"log\":{"
                                      "\"remoteLocation\":\"http://127.0.0.1:1/logs/x.log\"}}");
    assert_string_equal(json_string_value(json_object_get(a, "status")), "Accepted");
    assert_non_null(strstr(json_string_value(json_object_get(a, "filename")), "security"));
    json_decref(a);
    walk(s->now_ms + 20);
    assert_string_equal(fk.transfers[0].url, "http://127.0.0.1:1/logs/x.log"); /* a file URL */
    ocpp_frame_t f;
    expect_call("LogStatusNotification", &f);
    assert_string_equal(json_string_value(json_object_get(f.payload, "status")), "Uploading");
    assert_int_equal(json_integer_value(json_object_get(f.payload, "requestId")), 9);
    answer(&f, "{}");
    ocpp_frame_free(&f);
    transfer_result(0, "Connection refused", 0);
    walk(s->now_ms + 2100);
    assert_int_equal(fk.ntransfers, 2);
    assert_string_equal(fk.transfers[1].body, fk.transfers[0].body); /* the same file again */
    expect_status("LogStatusNotification", "Uploading");
    transfer_result(500, NULL, 0);
    expect_status("LogStatusNotification", "UploadFailure");
    assert_int_equal(s->stats.logs.attempts, 2);
    assert_int_equal(s->stats.logs.failed, 2);
}

static void log_upload_to_a_url_that_is_not_loopback_fails_at_once(void **state)
{
    boot();
    json_t *a = server_call("GetDiagnostics", "{\"location\":\"https://example.com/up/\"}");
    json_decref(a);
    walk(s->now_ms + 20);
    expect_status("DiagnosticsStatusNotification", "UploadFailed");
    assert_int_equal(fk.ntransfers, 0);
    assert_int_equal(s->stats.logs.refused, 1);
}

static void transfer_that_cannot_start_counts_as_a_failed_attempt(void **state)
{
    boot();
    fk.refuse_transfers = true;
    update_v16(FW_URL, 0, NULL);
    walk(s->now_ms + 20);
    expect_status("FirmwareStatusNotification", "Downloading");
    expect_status("FirmwareStatusNotification", "DownloadFailed");
    assert_int_equal(s->stats.fw.failed, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(update_downloads_installs_reboots_then_reports_installed,
                                        setup_v16, fake_teardown),
        cmocka_unit_test_setup_teardown(retrieve_date_in_the_future_is_waited_for, setup_v16,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(failed_download_is_retried_then_reported, setup_v16,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(url_that_is_not_loopback_is_never_fetched, setup_v16,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(
            failing_install_reports_installation_failed_and_keeps_the_version, setup_v16_failing,
            fake_teardown),
        cmocka_unit_test_setup_teardown(v201_signed_update_reports_every_step_with_its_request_id,
                                        setup_v201, fake_teardown),
        cmocka_unit_test_setup_teardown(v201_signature_failure_stops_before_installing,
                                        setup_v201_failing_signature, fake_teardown),
        cmocka_unit_test_setup_teardown(v201_new_update_cancels_the_one_in_progress, setup_v201,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(trigger_reports_idle_then_the_update_in_progress, setup_v16,
                                        fake_teardown),
        cmocka_unit_test(version_rules_name_the_new_firmware),
        cmocka_unit_test(command_line_sets_the_failure_rate_and_the_version_rule),
        cmocka_unit_test_setup_teardown(v16_get_diagnostics_uploads_a_log_to_the_directory_url,
                                        setup_v16, fake_teardown),
        cmocka_unit_test_setup_teardown(v201_get_log_retries_then_reports_upload_failure,
                                        setup_v201, fake_teardown),
        cmocka_unit_test_setup_teardown(log_upload_to_a_url_that_is_not_loopback_fails_at_once,
                                        setup_v16, fake_teardown),
        cmocka_unit_test_setup_teardown(transfer_that_cannot_start_counts_as_a_failed_attempt,
                                        setup_v16, fake_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
