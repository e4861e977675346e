/*
 * The driver: runs the simulator core on a libuv loop with net_client as its
 * transport. One thread, one loop, like the server: a 10 ms tick advances the
 * core's timing wheel, a 100 ms tick drives the scenario, signals end the run
 * early (first SIGINT/SIGTERM: stop and drain; second: stop now), and the
 * loop ends when the scenario is done and every connection has closed.
 *
 * Also here: the process limits a 20,000-station run needs (open files), the
 * optional registration step, progress lines and the final report, and the
 * stations' HTTP transfers (firmware downloads, log uploads) through http.h
 * (the server's outbound client, net/http_out) on the same loop.
 */
#include "sim/driver.h"

#include "net/net_client.h"
#include "sim/http.h"
#include "sim/register.h"
#include "sim/report.h"
#include "sim/scenario.h"
#include "util/alloc.h"
#include "util/log.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <uv.h>

typedef struct driver {
    sim_config_t cfg;
    uv_loop_t loop;
    uv_timer_t tick, scenario_tick;
    uv_signal_t sigint, sigterm;
    net_client_t *nc;
    net_client_tls_session_t **tls_sessions; /* wss: each station's, by index; NULL = off */
    sim_http_t *http;
    sim_t *sim;
    sim_register_t *reg;
    sim_report_extra_t extra;
    uint64_t start_ms, last_progress_ms, last_sent;
    int signals;
    int last_phase;
    bool running, closing, failed;
} driver_t;

/* ------------------------------------------------------------ transport */

static void url_path(const sim_config_t *c, const char *id, char *out, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = (size_t)snprintf(out, len, "%s/", c->path);
    for (const unsigned char *p = (const unsigned char *)id; *p && o + 4 < len; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            strchr("-_.*", *p)) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
}

static int tr_connect(void *ud, sim_station_t *st, unsigned source)
{
    driver_t *d = ud;
    char path[256], err[160];
    url_path(&d->cfg, st->id, path, sizeof path);
    const char *pw = sim_station_password(st);
    net_client_ws_params_t p = {
        .host = d->cfg.host,
        .port = d->cfg.port,
        .path = path,
        .tls = d->cfg.tls,
        .subprotocols = d->cfg.protocols,
        .basic_user = *pw ? st->id : NULL,
        .basic_pass = pw,
        .source_addr = d->cfg.nsources ? d->cfg.sources[source] : NULL,
        .user = st,
        .tls_session = d->tls_sessions ? &d->tls_sessions[st->index - d->cfg.first_index] : NULL,
    };
    st->conn = net_client_ws_connect(d->nc, &p, err, sizeof err);
    if (!st->conn) log_debug("cannot connect", "station=%s error=\"%s\"", st->id, err);
    return st->conn ? 0 : -1;
}

static bool tr_send(void *ud, sim_station_t *st, const char *data, size_t len)
{
    return st->conn && net_client_send(st->conn, data, len);
}

static void tr_close(void *ud, sim_station_t *st, int code)
{
    if (st->conn) net_client_close(st->conn, code, code ? "station going offline" : "");
}

/* One transfer in flight: whose, and which attempt. */
typedef struct transfer_ctx {
    driver_t *d;
    sim_station_t *st;
    sim_job_t job;
    uint32_t seq;
} transfer_ctx_t;

static void sync_clock(driver_t *d);

static void transfer_done(void *ud, const sim_http_result_t *r)
{
    transfer_ctx_t *t = ud;
    if (t->d->sim) {
        sync_clock(t->d);
        sim_transfer_result_t res = {.job = t->job,
                                     .seq = t->seq,
                                     .status = r->status,
                                     .error = r->error,
                                     .cancelled = r->cancelled,
                                     .bytes = r->bytes};
        memcpy(res.sha256, r->sha256, sizeof res.sha256);
        if (r->error && !r->cancelled)
            log_debug("transfer failed", "station=%s method=%s error=\"%s\"", t->st->id, r->method,
                      r->error);
        sim_station_on_transfer(t->st, &res);
    }
    free(t);
}

#define MAX_FIRMWARE_BYTES (256ull << 20)
#define TRANSFER_TIMEOUT_MS 120000

static int tr_transfer(void *ud, sim_station_t *st, const sim_transfer_t *t)
{
    driver_t *d = ud;
    char err[200];
    if (!d->http || d->closing) return -1;
    transfer_ctx_t *ctx = xcalloc(1, sizeof *ctx);
    *ctx = (transfer_ctx_t){.d = d, .st = st, .job = t->job, .seq = t->seq};
    int rc = t->body ? sim_http_upload(d->http, t->url, t->file_name, t->body, t->len,
                                       TRANSFER_TIMEOUT_MS, transfer_done, ctx, err, sizeof err)
                     : sim_http_get(d->http, t->url, MAX_FIRMWARE_BYTES, TRANSFER_TIMEOUT_MS,
                                    transfer_done, ctx, err, sizeof err);
    if (rc != 0) {
        log_debug("cannot start a transfer", "station=%s error=\"%s\"", st->id, err);
        free(ctx);
    }
    return rc;
}

static void sync_clock(driver_t *d)
{
    uint64_t now = uv_now(&d->loop) - d->start_ms;
    if (d->sim && now > d->sim->now_ms) d->sim->now_ms = now;
}

static void on_open(void *ud, net_client_conn_t *c)
{
    driver_t *d = ud;
    sync_clock(d);
    sim_station_on_open(net_client_conn_user(c), net_client_conn_subprotocol(c));
}

static void on_message(void *ud, net_client_conn_t *c, const char *data, size_t len)
{
    driver_t *d = ud;
    sync_clock(d);
    sim_station_on_message(net_client_conn_user(c), data, len);
}

static void on_close(void *ud, net_client_conn_t *c, const net_client_close_info_t *info)
{
    driver_t *d = ud;
    sim_station_t *st = net_client_conn_user(c);
    if (!st || !d->sim) return;
    sync_clock(d);
    sim_close_info_t ci = {.was_open = info->was_open,
                           .http_status = info->http_status,
                           .retry_after = info->retry_after,
                           .close_code = info->close_code,
                           .detail = info->detail};
    switch (info->end) {
    case NET_CLIENT_END_CONNECT_FAILED:
        ci.end = SIM_END_FAILED;
        break;
    case NET_CLIENT_END_REFUSED:
        ci.end = SIM_END_REFUSED;
        break;
    case NET_CLIENT_END_PEER_CLOSED:
        ci.end = SIM_END_PEER;
        break;
    default:
        ci.end = SIM_END_LOCAL;
        break;
    }
    sim_station_on_close(st, &ci);
}

/* ---------------------------------------------------------------- loop */

static void close_all(driver_t *d)
{
    if (d->closing) return;
    d->closing = true;
    uv_timer_stop(&d->tick);
    uv_timer_stop(&d->scenario_tick);
    uv_close((uv_handle_t *)&d->tick, NULL);
    uv_close((uv_handle_t *)&d->scenario_tick, NULL);
    uv_signal_stop(&d->sigint);
    uv_signal_stop(&d->sigterm);
    uv_close((uv_handle_t *)&d->sigint, NULL);
    uv_close((uv_handle_t *)&d->sigterm, NULL);
    sim_http_destroy(d->http); /* transfers in flight end as cancelled */
    d->http = NULL;
    net_client_destroy(d->nc);
}

static void progress(driver_t *d)
{
    const sim_t *s = d->sim;
    uint64_t sent = sim_stats_total_sent(&s->stats);
    double dt = (double)(s->now_ms - d->last_progress_ms) / 1000.0;
    uint64_t errs = 0;
    for (int o = 1; o < SIM_OUT_COUNT; o++)
        errs += sim_stats_total_outcome(&s->stats, (sim_outcome_t)o);
    fprintf(stderr,
            "ampgrid-sim: t=%.1fs phase=%s open=%u booted=%u sent=%llu (%.0f/s) ok=%llu "
            "errors=%llu refused=%llu failed=%llu\n",
            (double)s->now_ms / 1000.0, sim_phase_names[s->sc.phase], s->open_now, s->ready_now,
            (unsigned long long)sent, dt > 0 ? (double)(sent - d->last_sent) / dt : 0.0,
            (unsigned long long)sim_stats_total_outcome(&s->stats, SIM_OUT_OK),
            (unsigned long long)errs, (unsigned long long)s->stats.refused,
            (unsigned long long)s->stats.connect_failed);
    d->last_progress_ms = s->now_ms;
    d->last_sent = sent;
}

static void tick_cb(uv_timer_t *t)
{
    driver_t *d = t->data;
    sim_advance(d->sim, uv_now(&d->loop) - d->start_ms);
}

static void scenario_cb(uv_timer_t *t)
{
    driver_t *d = t->data;
    sim_t *s = d->sim;
    sync_clock(d);
    sim_scenario_tick(s);
    /* a line at every phase change too, so a caller can time the phases */
    if (d->cfg.progress_s > 0 && (s->now_ms - d->last_progress_ms >= d->cfg.progress_s * 1000 ||
                                  (int)s->sc.phase != d->last_phase))
        progress(d);
    d->last_phase = (int)s->sc.phase;
    if (sim_scenario_done(s) ||
        (s->sc.phase == SIM_PH_DONE && s->now_ms - s->sc.phase_at_ms > 5000))
        close_all(d);
}

static void signal_cb(uv_signal_t *h, int signum)
{
    driver_t *d = h->data;
    if (!d->sim || ++d->signals > 1) {
        close_all(d);
        return;
    }
    fprintf(stderr, "ampgrid-sim: signal %d: stopping (again to stop at once)\n", signum);
    d->sim->cfg.duration_s = 0; /* RUN/STORM end at the next tick */
    d->sim->cfg.ramp_timeout_s = 0;
}

static void start_run(driver_t *d)
{
    d->start_ms = uv_now(&d->loop);
    d->running = true;
    uv_timer_start(&d->tick, tick_cb, SIM_TICK_MS, SIM_TICK_MS);
    uv_timer_start(&d->scenario_tick, scenario_cb, 0, SIM_SCENARIO_TICK_MS);
    sim_scenario_start(d->sim);
}

static void registered_cb(void *ud, const sim_register_result_t *r)
{
    driver_t *d = ud;
    d->extra.registered_stations = r->stations_ok;
    d->extra.registered_tokens = r->tokens_ok;
    d->extra.register_errors = r->errors;
    d->extra.register_s = (double)(uv_now(&d->loop) - d->start_ms) / 1000.0;
    fprintf(stderr, "ampgrid-sim: registered %llu stations and %llu id tokens in %.1f s",
            (unsigned long long)r->stations_ok, (unsigned long long)r->tokens_ok,
            d->extra.register_s);
    if (r->errors)
        fprintf(stderr, "; %llu errors, first: %s", (unsigned long long)r->errors, r->first_error);
    fprintf(stderr, "\n");
    if (r->stations_ok < d->sim->nstations) {
        fprintf(stderr, "ampgrid-sim: not every station could be registered; stopping\n");
        d->failed = true;
        close_all(d);
        return;
    }
    start_run(d);
}

/* ---------------------------------------------------------------- setup */

static int fd_budget(unsigned stations, char *err, size_t len)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    long limit = rl.rlim_cur > 1000000 ? 1000000 : (long)rl.rlim_cur;
    if ((long)stations + 64 > limit) {
        snprintf(err, len,
                 "%u stations need %u open files but this process may have %ld: run several "
                 "processes with --first to split them",
                 stations, stations + 64, limit);
        return -1;
    }
    return (int)limit;
}

static int write_json(const sim_t *s, const sim_report_extra_t *x, const char *path)
{
    json_t *r = sim_report_json(s, x);
    int rc = json_dump_file(r, path, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(r);
    if (rc != 0) fprintf(stderr, "ampgrid-sim: cannot write %s: %s\n", path, strerror(errno));
    return rc;
}

static int setup(driver_t *d, char *err, size_t len)
{
    int limit = fd_budget(d->cfg.stations, err, len);
    if (limit < 0) return -1;
    uv_loop_init(&d->loop);
    uv_timer_init(&d->loop, &d->tick);
    uv_timer_init(&d->loop, &d->scenario_tick);
    uv_signal_init(&d->loop, &d->sigint);
    uv_signal_init(&d->loop, &d->sigterm);
    d->tick.data = d->scenario_tick.data = d->sigint.data = d->sigterm.data = d;
    uv_signal_start(&d->sigint, signal_cb, SIGINT);
    uv_signal_start(&d->sigterm, signal_cb, SIGTERM);
    signal(SIGPIPE, SIG_IGN);
    net_client_config_t nc = {.fd_limit = limit,
                              .max_message = 65536,
                              .insecure = d->cfg.insecure,
                              .ca_file = d->cfg.ca_file[0] ? d->cfg.ca_file : NULL,
                              .connect_timeout = 20};
    net_client_callbacks_t cbs = {
        .ud = d, .ws_open = on_open, .ws_message = on_message, .ws_close = on_close};
    d->nc = net_client_create(&d->loop, &nc, &cbs, err, len);
    if (!d->nc) return -1;
    if (d->cfg.tls && d->cfg.tls_resume)
        d->tls_sessions = xcalloc(d->cfg.stations, sizeof *d->tls_sessions);
    sim_http_config_t hc = {.insecure = d->cfg.insecure,
                            .ca_file = d->cfg.ca_file[0] ? d->cfg.ca_file : NULL};
    d->http = sim_http_create(&d->loop, &hc);
    sim_transport_t tr = {.ud = d,
                          .connect = tr_connect,
                          .send = tr_send,
                          .close = tr_close,
                          .transfer = tr_transfer};
    d->sim = sim_create(&d->cfg, &tr);
    return 0;
}

int sim_driver_run(const sim_config_t *cfg)
{
    driver_t *d = xcalloc(1, sizeof *d);
    char err[256];
    int rc = 1;
    d->cfg = *cfg;
    if (setup(d, err, sizeof err) != 0) {
        fprintf(stderr, "ampgrid-sim: %s\n", err);
        goto done;
    }
    if (cfg->do_register) {
        d->start_ms = uv_now(&d->loop);
        d->reg = sim_register_start(d->nc, d->sim, registered_cb, d);
    } else {
        start_run(d);
    }
    uv_run(&d->loop, UV_RUN_DEFAULT);
    if (d->failed) goto done;
    const net_client_stats_t *ns = net_client_stats(d->nc);
    d->extra.tls = cfg->tls;
    d->extra.tls_resume = cfg->tls_resume;
    d->extra.tls_full = ns->tls_full;
    d->extra.tls_resumed = ns->tls_resumed;
    if (!cfg->quiet) sim_report_text(d->sim, &d->extra, stdout);
    fflush(stdout);
    rc = 0;
    if (cfg->json_path[0] && write_json(d->sim, &d->extra, cfg->json_path) != 0) rc = 1;
done:
    if (d->nc) {
        if (!d->closing) close_all(d);
        uv_run(&d->loop, UV_RUN_DEFAULT);
        net_client_free(d->nc);
        uv_loop_close(&d->loop);
    }
    for (unsigned i = 0; d->tls_sessions && i < cfg->stations; i++)
        net_client_tls_session_free(d->tls_sessions[i]);
    free(d->tls_sessions);
    sim_register_free(d->reg);
    sim_free(d->sim);
    free(d);
    return rc;
}
