/*
 * A station's firmware update; see firmware.h for the sequence.
 *
 * One job per station at a time, driven by one wheel entry whose meaning is
 * the job's phase (waiting for the retrieve time, a retry, the install, the
 * end of the install). Each download carries a sequence number, so a result
 * that arrives after the job was replaced is recognised and dropped.
 */
#include "sim/firmware.h"

#include "net/http_out.h"
#include "util/alloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VERSION_MAX 50
#define INSTALL_DELAY_MS 500 /* Downloaded -> Installing */
#define INSTALL_TIME_MS 1000 /* Installing -> done */
#define RETRY_INTERVAL_S 30  /* when the request gives none */
#define MAX_RETRIES 10
#define MAX_DOWNLOAD (256u << 20)
#define DOWNLOAD_TIMEOUT_MS 120000

const char *const sim_fw_status_names[SIM_FW_STATUS_COUNT] = {
    [SIM_FW_IDLE] = "Idle",
    [SIM_FW_DOWNLOAD_SCHEDULED] = "DownloadScheduled",
    [SIM_FW_DOWNLOADING] = "Downloading",
    [SIM_FW_DOWNLOADED] = "Downloaded",
    [SIM_FW_DOWNLOAD_FAILED] = "DownloadFailed",
    [SIM_FW_SIGNATURE_VERIFIED] = "SignatureVerified",
    [SIM_FW_INVALID_SIGNATURE] = "InvalidSignature",
    [SIM_FW_INSTALL_SCHEDULED] = "InstallScheduled",
    [SIM_FW_INSTALLING] = "Installing",
    [SIM_FW_INSTALL_REBOOTING] = "InstallRebooting",
    [SIM_FW_INSTALLED] = "Installed",
    [SIM_FW_INSTALLATION_FAILED] = "InstallationFailed",
};

typedef enum phase {
    PH_NONE,          /* no update in progress */
    PH_WAIT_RETRIEVE, /* timer: the retrieve time */
    PH_DOWNLOADING,   /* a GET in flight */
    PH_WAIT_RETRY,    /* timer: the next attempt */
    PH_WAIT_INSTALL,  /* timer: the install time */
    PH_INSTALLING,    /* timer: the install's end */
    PH_REBOOTING,     /* installed; Installed goes out after the next boot */
} phase_t;

struct sim_fw {
    timewheel_entry_t te;
    sim_station_t *st;
    phase_t phase;
    sim_fw_status_t last; /* the last status reported */
    uint32_t seq;         /* downloads started; a result must carry the current one */
    /* the update in progress */
    char *location;
    char refused[160]; /* why the URL is not fetched, "" = it is */
    int attempts_left, retry_interval_s;
    int64_t install_ms;
    bool has_request_id, signed_update, detailed, will_fail;
    int32_t request_id;
    char pending_version[VERSION_MAX + 1];
    /* what the station runs and downloaded last */
    char version[VERSION_MAX + 1]; /* "" = the built-in one */
    uint64_t bytes;
    char sha256[65];
    unsigned attempts, downloads, failures, installs;
};

#define FW_OF(e) ((sim_fw_t *)((char *)(e)-offsetof(sim_fw_t, te)))

static void fw_timer_cb(timewheel_entry_t *e);

static sim_fw_t *fw_get(sim_station_t *st)
{
    if (!st->fw) {
        st->fw = xcalloc(1, sizeof *st->fw);
        st->fw->st = st;
    }
    return st->fw;
}

static void report(sim_fw_t *fw, sim_fw_status_t status)
{
    fw->last = status;
    sim_station_call_ref(fw->st, SIM_MSG_FW_STATUS, 0, (int)status, fw->has_request_id,
                         fw->request_id, NULL);
}

static void at(sim_fw_t *fw, phase_t p, uint64_t when_ms)
{
    fw->phase = p;
    sim_schedule(fw->st->sim, &fw->te, when_ms, fw_timer_cb);
}

/* A wall-clock time as the simulator's clock (never before now). */
static uint64_t sim_time_of(const sim_t *s, int64_t wall_ms)
{
    int64_t t = wall_ms - s->wall0_ms;
    return t > (int64_t)s->now_ms ? (uint64_t)t : s->now_ms;
}

/* ------------------------------------------------------------ the names */

static bool alpha_ext(const char *dot, const char *end)
{
    if (end - dot < 2 || end - dot > 6) return false;
    for (const char *p = dot + 1; p < end; p++)
        if (!isalpha((unsigned char)*p)) return false;
    return true;
}

/* The URL's last path segment, with only the characters a version may hold. */
static void file_name_of(const char *url, char *out, size_t len)
{
    const char *p = strstr(url ? url : "", "://");
    p = p ? p + 3 : (url ? url : "");
    const char *end = p + strcspn(p, "?#");
    const char *seg = p;
    for (const char *q = p; q < end; q++)
        if (*q == '/') seg = q + 1;
    if (seg == p) seg = end; /* no path: no file name */
    size_t o = 0;
    for (const char *q = seg; q < end && o + 1 < len; q++)
        if (isalnum((unsigned char)*q) || strchr("._+-", *q)) out[o++] = *q;
    out[o] = '\0';
}

void sim_firmware_name_version(sim_fwv_rule_t rule, const char *url, const unsigned char sha256[32],
                               char *out, size_t len)
{
    char name[256];
    file_name_of(url, name, sizeof name);
    size_t cap = len < VERSION_MAX + 1 ? len : VERSION_MAX + 1;
    if (rule == SIM_FWV_VERSION) {
        for (const char *p = name; *p; p++) {
            if (!isdigit((unsigned char)*p) || (p > name && isdigit((unsigned char)p[-1])))
                continue;
            size_t n = strspn(p, "0123456789.");
            while (n && p[n - 1] == '.')
                n--;
            if (memchr(p, '.', n)) {
                snprintf(out, cap, "%.*s", (int)n, p);
                return;
            }
        }
        rule = SIM_FWV_NAME;
    }
    if (rule == SIM_FWV_NAME) {
        char *end = name + strlen(name);
        for (char *dot = strrchr(name, '.'); dot && dot > name && alpha_ext(dot, end);
             dot = strrchr(name, '.')) {
            *dot = '\0';
            end = dot;
        }
        if (name[0]) {
            snprintf(out, cap, "%.*s", VERSION_MAX, name);
            return;
        }
    }
    char hex[13];
    for (int i = 0; i < 6; i++)
        snprintf(hex + 2 * i, 3, "%02x", sha256[i]);
    snprintf(out, cap, "sha256-%s", hex);
}

int sim_firmware_parse_rule(const char *s)
{
    static const char *const names[] = {"name", "version", "sha256"};
    for (int i = 0; i < 3; i++)
        if (strcmp(s, names[i]) == 0) return i;
    return -1;
}

/* ------------------------------------------------------------ the steps */

static void finish(sim_fw_t *fw)
{
    fw->phase = PH_NONE;
    timewheel_remove(&fw->st->sim->wheel, &fw->te);
}

static void start_download(sim_fw_t *fw)
{
    sim_station_t *st = fw->st;
    sim_t *s = st->sim;
    if (fw->refused[0]) {
        s->stats.fw.refused++;
        fw->failures++;
        report(fw, SIM_FW_DOWNLOAD_FAILED);
        finish(fw);
        return;
    }
    fw->attempts_left--;
    fw->attempts++;
    s->stats.fw.attempts++;
    fw->phase = PH_DOWNLOADING;
    report(fw, SIM_FW_DOWNLOADING);
    sim_transfer_t t = {.job = SIM_JOB_FIRMWARE, .seq = ++fw->seq, .url = fw->location};
    if (sim_station_transfer(st, &t) != 0) {
        sim_transfer_result_t r = {
            .job = SIM_JOB_FIRMWARE, .seq = fw->seq, .error = "cannot start the download"};
        sim_firmware_on_transfer(st, &r);
    }
}

static void downloaded(sim_fw_t *fw, const sim_transfer_result_t *r)
{
    sim_station_t *st = fw->st;
    sim_t *s = st->sim;
    s->stats.fw.ok++;
    s->stats.fw.bytes += r->bytes;
    fw->downloads++;
    fw->bytes = r->bytes;
    for (int i = 0; i < 32; i++)
        snprintf(fw->sha256 + 2 * i, 3, "%02x", r->sha256[i]);
    sim_firmware_name_version((sim_fwv_rule_t)s->cfg.firmware_version_from, fw->location, r->sha256,
                              fw->pending_version, sizeof fw->pending_version);
    report(fw, SIM_FW_DOWNLOADED);
    bool fails = s->cfg.firmware_fail > 0 && sim_rand01(s) < s->cfg.firmware_fail;
    if (fw->signed_update && fw->detailed) {
        if (fails && s->cfg.firmware_fail_signature) {
            s->stats.fw.install_failed++;
            report(fw, SIM_FW_INVALID_SIGNATURE);
            finish(fw);
            return;
        }
        report(fw, SIM_FW_SIGNATURE_VERIFIED);
    }
    fw->will_fail = fails && !(fw->signed_update && fw->detailed && s->cfg.firmware_fail_signature);
    uint64_t when = s->now_ms + INSTALL_DELAY_MS;
    if (fw->install_ms) {
        uint64_t t = sim_time_of(s, fw->install_ms);
        if (t > when) {
            when = t;
            if (fw->detailed) report(fw, SIM_FW_INSTALL_SCHEDULED);
        }
    }
    at(fw, PH_WAIT_INSTALL, when);
}

static void install_done(sim_fw_t *fw)
{
    sim_station_t *st = fw->st;
    sim_t *s = st->sim;
    if (fw->will_fail) {
        s->stats.fw.install_failed++;
        report(fw, SIM_FW_INSTALLATION_FAILED);
        finish(fw);
        return;
    }
    snprintf(fw->version, sizeof fw->version, "%s", fw->pending_version);
    fw->phase = PH_REBOOTING;
    if (fw->detailed) report(fw, SIM_FW_INSTALL_REBOOTING);
    /* Offline: the next boot is the reboot. */
    if (st->link == SIM_LINK_READY) sim_station_reboot(st, SIM_STOP_REBOOT);
}

static void fw_timer_cb(timewheel_entry_t *e)
{
    sim_fw_t *fw = FW_OF(e);
    if (fw->st->stopped) return; /* the run is over */
    switch (fw->phase) {
    case PH_WAIT_RETRIEVE:
    case PH_WAIT_RETRY:
        start_download(fw);
        break;
    case PH_WAIT_INSTALL:
        report(fw, SIM_FW_INSTALLING);
        at(fw, PH_INSTALLING, fw->st->sim->now_ms + INSTALL_TIME_MS);
        break;
    case PH_INSTALLING:
        install_done(fw);
        break;
    default:
        break;
    }
}

/* ------------------------------------------------------------------ API */

sim_fw_answer_t sim_firmware_update(sim_station_t *st, const sim_fw_request_t *r)
{
    sim_t *s = st->sim;
    sim_fw_t *fw = fw_get(st);
    sim_fw_answer_t answer = SIM_FW_ACCEPTED;
    if (fw->phase != PH_NONE && fw->phase != PH_REBOOTING) {
        answer = SIM_FW_ACCEPTED_CANCELED; /* the old download's result will not match */
        finish(fw);
    }
    s->stats.fw.requests++;
    free(fw->location);
    fw->location = xstrdup(r->location ? r->location : "");
    fw->refused[0] = '\0';
    if (!http_out_url_loopback(fw->location, fw->refused, sizeof fw->refused) && !fw->refused[0])
        snprintf(fw->refused, sizeof fw->refused, "not a loopback URL");
    int retries = r->retries < 0 ? 0 : r->retries > MAX_RETRIES ? MAX_RETRIES : r->retries;
    fw->attempts_left = 1 + retries;
    fw->retry_interval_s = r->retry_interval_s > 0 ? r->retry_interval_s : RETRY_INTERVAL_S;
    fw->install_ms = r->install_ms;
    fw->has_request_id = r->has_request_id;
    fw->request_id = r->request_id;
    fw->signed_update = r->signed_update;
    fw->detailed = r->detailed;
    fw->will_fail = false;
    uint64_t when = sim_time_of(s, r->retrieve_ms);
    if (fw->detailed && when > s->now_ms + 1000) report(fw, SIM_FW_DOWNLOAD_SCHEDULED);
    at(fw, PH_WAIT_RETRIEVE, when);
    return answer;
}

void sim_firmware_on_transfer(sim_station_t *st, const sim_transfer_result_t *r)
{
    sim_fw_t *fw = st->fw;
    if (!fw || fw->phase != PH_DOWNLOADING || r->seq != fw->seq) return;
    if (!r->error && r->status >= 200 && r->status < 300) {
        downloaded(fw, r);
        return;
    }
    st->sim->stats.fw.failed++;
    fw->failures++;
    if (fw->attempts_left > 0) {
        at(fw, PH_WAIT_RETRY, st->sim->now_ms + (uint64_t)fw->retry_interval_s * 1000);
        return;
    }
    report(fw, SIM_FW_DOWNLOAD_FAILED);
    finish(fw);
}

void sim_firmware_on_ready(sim_station_t *st)
{
    sim_fw_t *fw = st->fw;
    if (!fw || fw->phase != PH_REBOOTING) return;
    st->sim->stats.fw.installed++;
    fw->installs++;
    report(fw, SIM_FW_INSTALLED);
    finish(fw);
}

sim_fw_status_t sim_firmware_status(const sim_station_t *st)
{
    return st->fw && st->fw->phase != PH_NONE ? st->fw->last : SIM_FW_IDLE;
}

void sim_firmware_trigger(sim_station_t *st)
{
    sim_fw_t *fw = st->fw;
    bool busy = fw && fw->phase != PH_NONE;
    sim_station_call_ref(st, SIM_MSG_FW_STATUS, 0, (int)sim_firmware_status(st),
                         busy && fw->has_request_id, busy ? fw->request_id : 0, NULL);
}

const char *sim_firmware_version(const sim_station_t *st)
{
    return st->fw && st->fw->version[0] ? st->fw->version : "ampgrid-sim " AMPGRID_VERSION;
}

bool sim_firmware_rebooting(const sim_station_t *st)
{
    return st->fw && st->fw->phase == PH_REBOOTING;
}

json_t *sim_firmware_json(const sim_station_t *st)
{
    const sim_fw_t *fw = st->fw;
    if (!fw) return NULL;
    return json_pack("{s:s,s:s,s:s,s:I,s:s?,s:i,s:i,s:i,s:i}", "id", st->id, "version",
                     sim_firmware_version(st), "status", sim_fw_status_names[fw->last], "bytes",
                     (json_int_t)fw->bytes, "sha256", fw->sha256[0] ? fw->sha256 : NULL, "attempts",
                     (int)fw->attempts, "downloads", (int)fw->downloads, "failures",
                     (int)fw->failures, "installs", (int)fw->installs);
}

void sim_firmware_free(sim_station_t *st)
{
    if (!st->fw) return;
    timewheel_remove(&st->sim->wheel, &st->fw->te);
    free(st->fw->location);
    free(st->fw);
    st->fw = NULL;
}
