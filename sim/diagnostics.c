/*
 * A station's log upload; see diagnostics.h for the sequence.
 *
 * Like firmware.c: one job per station, one wheel entry for its next step,
 * a sequence number on each upload so a late result of a replaced job is
 * dropped. The file is written once, when the first attempt starts, so every
 * retry sends the same bytes.
 */
#include "sim/diagnostics.h"

#include "net/http_out.h"
#include "sim/firmware.h"
#include "sim/proto.h"
#include "util/alloc.h"
#include "util/strbuf.h"
#include "util/timefmt.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RETRY_INTERVAL_S 30
#define MAX_RETRIES 10
#define UPLOAD_TIMEOUT_MS 60000

typedef enum phase {
    PH_NONE,
    PH_WAIT,      /* timer: the next attempt */
    PH_UPLOADING, /* a transfer in flight */
} phase_t;

struct sim_logjob {
    timewheel_entry_t te;
    sim_station_t *st;
    phase_t phase;
    sim_log_status_t last;
    uint32_t seq;
    char *url;
    char file_name[128];
    char refused[160];
    char *body;
    size_t len;
    sim_log_request_t req; /* location and log_type point nowhere once answered */
    int attempts_left;
};

#define JOB_OF(e) ((struct sim_logjob *)((char *)(e)-offsetof(struct sim_logjob, te)))

static void job_timer_cb(timewheel_entry_t *e);

static void report(struct sim_logjob *j, sim_log_status_t status)
{
    j->last = status;
    sim_station_call_ref(j->st, SIM_MSG_LOG_STATUS, 0, (int)status, j->req.has_request_id,
                         j->req.request_id, NULL);
}

static void finish(struct sim_logjob *j)
{
    j->phase = PH_NONE;
    timewheel_remove(&j->st->sim->wheel, &j->te);
    free(j->body);
    j->body = NULL;
}

static const char *const state_names[] = {"Available", "Preparing",   "Charging",
                                          "Finishing", "Unavailable", "Reserved"};

char *sim_diagnostics_log_text(const sim_station_t *st, const sim_log_request_t *r, size_t *len)
{
    const sim_t *s = st->sim;
    strbuf_t b = {0};
    char now[TIME_RFC3339_LEN], t1[TIME_RFC3339_LEN], t2[TIME_RFC3339_LEN];
    time_format_rfc3339(sim_wall_ms(s), now);
    strbuf_printf(&b, "# ampgrid-sim %s log of station %s\n",
                  r->log_type ? r->log_type : "diagnostics", st->id);
    strbuf_printf(&b, "written: %s\n", now);
    if (r->oldest_ms || r->latest_ms)
        strbuf_printf(&b, "range: %s .. %s\n",
                      r->oldest_ms ? time_format_rfc3339(r->oldest_ms, t1) : "-",
                      r->latest_ms ? time_format_rfc3339(r->latest_ms, t2) : "-");
    strbuf_printf(&b, "firmware: %s\nprotocol: %s\nconnectors: %u\nheartbeat_s: %d\n",
                  sim_firmware_version(st), st->proto ? st->proto->subprotocol : "-", st->nconn,
                  st->heartbeat_s);
    strbuf_printf(&b, "up_since_ms: %llu\nboots: %s\nmessages_in_flight: %u\n",
                  (unsigned long long)st->ready_at_ms, st->ever_booted ? "yes" : "no",
                  st->npending);
    for (unsigned i = 0; i < st->nconn; i++) {
        const sim_connector_t *k = &st->conn_[i];
        strbuf_printf(&b, "connector %u: %s energy_wh=%.0f power_w=%.0f limit_w=%.0f tx=%lld%s%s\n",
                      k->id, state_names[k->state], k->energy_wh, k->power_w, k->limit_w,
                      (long long)k->tx_id, k->inoperative ? " inoperative" : "",
                      k->reserved ? " reserved" : "");
    }
    /* a few lines of the kind a charger's log holds */
    static const char *const lines[] = {
        "INFO  ocpp: websocket connected", "INFO  meter: self-test passed",
        "DEBUG rcd: leakage 0.4 mA",       "INFO  contactor: cycles 18211",
        "WARN  temp: inlet 41.5 C",        "INFO  ocpp: heartbeat acknowledged",
    };
    for (unsigned i = 0; i < 24; i++)
        strbuf_printf(&b, "%s %s\n", now, lines[(i + st->index) % 6]);
    *len = b.len;
    return b.data;
}

/* "SIM-1" -> "SIM-1-diagnostics-20260101T000000Z.log", only file-name-safe characters. */
static void name_file(const sim_station_t *st, const sim_log_request_t *r, char *out, size_t len)
{
    char now[TIME_RFC3339_LEN], stamp[20], id[SIM_ID_MAX + 1];
    time_format_rfc3339(sim_wall_ms(st->sim), now);
    size_t o = 0;
    for (const char *p = now; *p && *p != '.' && o + 1 < sizeof stamp; p++)
        if (*p != '-' && *p != ':') stamp[o++] = *p;
    stamp[o] = '\0';
    o = 0;
    for (const char *p = st->id; *p && o + 1 < sizeof id; p++)
        id[o++] = (isalnum((unsigned char)*p) || *p == '-' || *p == '_') ? *p : '_';
    id[o] = '\0';
    const char *kind =
        r->log_type && strcmp(r->log_type, "SecurityLog") == 0 ? "security" : "diagnostics";
    snprintf(out, len, "%s-%s-%sZ.log", id, kind, stamp);
}

static void start_upload(struct sim_logjob *j)
{
    sim_station_t *st = j->st;
    sim_t *s = st->sim;
    if (j->refused[0]) {
        s->stats.logs.refused++;
        report(j, SIM_LOG_UPLOAD_FAILED);
        finish(j);
        return;
    }
    if (!j->body) j->body = sim_diagnostics_log_text(st, &j->req, &j->len);
    j->attempts_left--;
    s->stats.logs.attempts++;
    j->phase = PH_UPLOADING;
    report(j, SIM_LOG_UPLOADING);
    sim_transfer_t t = {.job = SIM_JOB_LOG,
                        .seq = ++j->seq,
                        .url = j->url,
                        .body = j->body,
                        .len = j->len,
                        .file_name = j->file_name};
    if (sim_station_transfer(st, &t) != 0) {
        sim_transfer_result_t r = {
            .job = SIM_JOB_LOG, .seq = j->seq, .error = "cannot start the upload"};
        sim_diagnostics_on_transfer(st, &r);
    }
}

static void job_timer_cb(timewheel_entry_t *e)
{
    struct sim_logjob *j = JOB_OF(e);
    if (j->phase == PH_WAIT && !j->st->stopped) start_upload(j);
}

bool sim_diagnostics_request(sim_station_t *st, const sim_log_request_t *r, char *file_name,
                             size_t len)
{
    sim_t *s = st->sim;
    if (!st->logjob) {
        st->logjob = xcalloc(1, sizeof *st->logjob);
        st->logjob->st = st;
    }
    struct sim_logjob *j = st->logjob;
    bool cancelled = j->phase != PH_NONE;
    finish(j);
    s->stats.logs.requests++;
    j->req = *r;
    j->req.location = NULL;
    j->req.log_type = r->log_type && strcmp(r->log_type, "SecurityLog") == 0 ? "SecurityLog"
                      : r->log_type                                          ? "DiagnosticsLog"
                                                                             : NULL;
    name_file(st, r, j->file_name, sizeof j->file_name);
    snprintf(file_name, len, "%s", j->file_name);
    const char *loc = r->location ? r->location : "";
    size_t n = strlen(loc);
    free(j->url);
    if (n && loc[n - 1] == '/') {
        j->url = xmalloc(n + strlen(j->file_name) + 1);
        memcpy(j->url, loc, n);
        strcpy(j->url + n, j->file_name);
    } else {
        j->url = xstrdup(loc);
    }
    j->refused[0] = '\0';
    if (!http_out_url_loopback(j->url, j->refused, sizeof j->refused) && !j->refused[0])
        snprintf(j->refused, sizeof j->refused, "not a loopback URL");
    int retries = r->retries < 0 ? 0 : r->retries > MAX_RETRIES ? MAX_RETRIES : r->retries;
    j->attempts_left = 1 + retries;
    j->req.retry_interval_s = r->retry_interval_s > 0 ? r->retry_interval_s : RETRY_INTERVAL_S;
    j->phase = PH_WAIT;
    sim_schedule(s, &j->te, s->now_ms, job_timer_cb); /* the next tick: after the answer */
    return cancelled;
}

void sim_diagnostics_on_transfer(sim_station_t *st, const sim_transfer_result_t *r)
{
    struct sim_logjob *j = st->logjob;
    sim_t *s = st->sim;
    if (!j || j->phase != PH_UPLOADING || r->seq != j->seq) return;
    if (!r->error && r->status >= 200 && r->status < 300) {
        s->stats.logs.ok++;
        s->stats.logs.bytes += j->len;
        report(j, SIM_LOG_UPLOADED);
        finish(j);
        return;
    }
    s->stats.logs.failed++;
    if (j->attempts_left > 0) {
        j->phase = PH_WAIT;
        sim_schedule(s, &j->te, s->now_ms + (uint64_t)j->req.retry_interval_s * 1000, job_timer_cb);
        return;
    }
    report(j, SIM_LOG_UPLOAD_FAILED);
    finish(j);
}

sim_log_status_t sim_diagnostics_status(const sim_station_t *st)
{
    return st->logjob && st->logjob->phase != PH_NONE ? st->logjob->last : SIM_LOG_IDLE;
}

void sim_diagnostics_trigger(sim_station_t *st)
{
    const struct sim_logjob *j = st->logjob;
    bool busy = j && j->phase != PH_NONE;
    sim_station_call_ref(st, SIM_MSG_LOG_STATUS, 0, (int)sim_diagnostics_status(st),
                         busy && j->req.has_request_id, busy ? j->req.request_id : 0, NULL);
}

void sim_diagnostics_free(sim_station_t *st)
{
    if (!st->logjob) return;
    finish(st->logjob);
    free(st->logjob->url);
    free(st->logjob);
    st->logjob = NULL;
}
