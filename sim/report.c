/*
 * The run's report, as a JSON document (--json FILE, what bench/ and the
 * end-to-end test read) and as text for a person. Both come from the same
 * tree, built here from sim_t's counters, so they cannot disagree.
 *
 * The "balance" object states the invariant of stats.h in numbers: every
 * message sent is answered or counted as an error of one kind, nothing is
 * left unsettled.
 *
 * "firmware" and "logs" count the stations' HTTP transfers (UpdateFirmware,
 * GetDiagnostics/GetLog): attempts = transfers tried = ok + failed once the
 * run is over; refused = URLs that were not loopback (nothing sent). The
 * firmware section also lists, for the first stations that had an update,
 * the version they run and the size and SHA-256 of what they downloaded.
 */
#include "sim/report.h"

#include "sim/firmware.h"
#include "sim/proto.h"
#include "sim/scenario.h"

#include <stdio.h>
#include <string.h>

static double secs(uint64_t ms)
{
    return (double)ms / 1000.0;
}

static json_t *tally_json(const sim_tally_t *t)
{
    json_t *o = json_object();
    for (unsigned i = 0; i < t->n; i++)
        json_object_set_new(o, t->e[i].key, json_integer((json_int_t)t->e[i].count));
    return o;
}

static json_t *latency_json(const sim_hist_t *h)
{
    return json_pack(
        "{s:I,s:f,s:f,s:f,s:f,s:f,s:f}", "count", (json_int_t)h->count, "mean",
        sim_hist_mean(h) / 1000.0, "p50", sim_hist_percentile(h, 50) / 1000.0, "p90",
        sim_hist_percentile(h, 90) / 1000.0, "p99", sim_hist_percentile(h, 99) / 1000.0, "p99.9",
        sim_hist_percentile(h, 99.9) / 1000.0, "max", h->count ? h->max / 1000.0 : 0.0);
}

static json_t *actions_json(const sim_t *s)
{
    json_t *o = json_object();
    for (int m = 0; m < SIM_MSG_COUNT; m++) {
        const sim_msg_stats_t *ms = &s->stats.msg[m];
        if (!ms->sent) continue;
        json_t *a = json_pack("{s:I}", "sent", (json_int_t)ms->sent);
        for (int k = 0; k < SIM_OUT_COUNT; k++)
            json_object_set_new(a, sim_outcome_names[k], json_integer((json_int_t)ms->out[k]));
        json_object_set_new(a, "latency_ms", latency_json(&ms->latency_us));
        json_object_set_new(o, sim_msg_names[m], a);
    }
    return o;
}

static json_t *balance_json(const sim_stats_t *st)
{
    uint64_t sent = sim_stats_total_sent(st), ok = sim_stats_total_outcome(st, SIM_OUT_OK);
    uint64_t errors = 0;
    json_t *e = json_object();
    for (int k = 1; k < SIM_OUT_COUNT; k++) {
        uint64_t n = sim_stats_total_outcome(st, (sim_outcome_t)k);
        errors += n;
        json_object_set_new(e, sim_outcome_names[k], json_integer((json_int_t)n));
    }
    return json_pack("{s:I,s:I,s:I,s:o,s:I,s:b}", "sent", (json_int_t)sent, "answered_ok",
                     (json_int_t)ok, "errors", (json_int_t)errors, "errors_by_kind", e, "unsettled",
                     (json_int_t)sim_stats_unsettled(st), "balanced", sim_stats_unsettled(st) == 0);
}

#define FIRMWARE_LISTED 100

static json_t *firmware_json(const sim_t *s)
{
    const sim_stats_t *st = &s->stats;
    json_t *list = json_array();
    for (unsigned i = 0; i < s->nstations && json_array_size(list) < FIRMWARE_LISTED; i++) {
        json_t *one = sim_firmware_json(&s->stations[i]);
        if (one) json_array_append_new(list, one);
    }
    return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "requests",
                     (json_int_t)st->fw.requests, "attempts", (json_int_t)st->fw.attempts, "ok",
                     (json_int_t)st->fw.ok, "failed", (json_int_t)st->fw.failed, "refused",
                     (json_int_t)st->fw.refused, "bytes", (json_int_t)st->fw.bytes, "installed",
                     (json_int_t)st->fw.installed, "install_failed",
                     (json_int_t)st->fw.install_failed, "stations", list);
}

static json_t *logs_json(const sim_stats_t *st)
{
    return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "requests", (json_int_t)st->logs.requests,
                     "attempts", (json_int_t)st->logs.attempts, "ok", (json_int_t)st->logs.ok,
                     "failed", (json_int_t)st->logs.failed, "refused", (json_int_t)st->logs.refused,
                     "bytes", (json_int_t)st->logs.bytes);
}

static json_t *connect_json(const sim_t *s)
{
    const sim_stats_t *st = &s->stats;
    const sim_scenario_state_t *sc = &s->sc;
    double ramp_s = sc->ramp_done_ms ? secs(sc->ramp_done_ms) : 0;
    json_t *o = json_pack(
        "{s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:o,s:o}", "attempts", (json_int_t)st->connect_attempts,
        "opened", (json_int_t)st->connected, "failed", (json_int_t)st->connect_failed, "refused",
        (json_int_t)st->refused, "server_disconnects", (json_int_t)st->disconnects, "drops",
        (json_int_t)st->drops, "refused_by_status", tally_json(&st->refused_by_status),
        "close_codes", tally_json(&st->close_codes), "failures", tally_json(&st->connect_errors));
    json_object_set_new(o, "all_booted", json_boolean(sc->ramp_complete));
    json_object_set_new(o, "all_booted_s", json_real(ramp_s));
    json_object_set_new(o, "rate_per_s", json_real(ramp_s > 0 ? s->nstations / ramp_s : 0));
    return o;
}

json_t *sim_report_json(const sim_t *s, const sim_report_extra_t *x)
{
    const sim_stats_t *st = &s->stats;
    const sim_scenario_state_t *sc = &s->sc;
    double run_s = sc->run_to_ms > sc->run_from_ms ? secs(sc->run_to_ms - sc->run_from_ms) : 0;
    uint64_t run_msgs = sc->msgs_at_run_end - sc->msgs_at_run_start;
    uint64_t run_meters = sc->meter_ok_at_run_end - sc->meter_ok_at_run_start;
    json_t *r = json_object();
    json_object_set_new(r, "tool", json_string("ampgrid-sim"));
    json_object_set_new(r, "version", json_string(AMPGRID_VERSION));
    json_object_set_new(r, "scenario", json_string(sim_scenario_name(s->cfg.scenario)));
    json_object_set_new(r, "elapsed_s", json_real(secs(s->now_ms)));
    json_object_set_new(
        r, "stations",
        json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "requested", (json_int_t)s->nstations, "booted_max",
                  (json_int_t)s->ready_max, "boot_accepted", (json_int_t)st->boot_accepted,
                  "boot_pending", (json_int_t)st->boot_pending, "boot_rejected",
                  (json_int_t)st->boot_rejected, "disturbed", (json_int_t)sc->disturbed));
    json_object_set_new(r, "connect", connect_json(s));
    if (s->cfg.scenario == SIM_SC_STORM) {
        double rec = sc->storm_done_ms ? secs(sc->storm_done_ms - sc->storm_at_ms) : -1;
        json_object_set_new(r, "storm",
                            json_pack("{s:I,s:I,s:f,s:b}", "dropped", (json_int_t)sc->storm_dropped,
                                      "recovered", (json_int_t)sc->storm_recovered, "recovery_s",
                                      rec, "complete", sc->storm_done_ms != 0));
    }
    json_object_set_new(r, "run",
                        json_pack("{s:f,s:I,s:f,s:I,s:f}", "seconds", run_s, "messages_sent",
                                  (json_int_t)run_msgs, "messages_per_s",
                                  run_s > 0 ? run_msgs / run_s : 0.0, "meter_values_ok",
                                  (json_int_t)run_meters, "meter_values_per_s",
                                  run_s > 0 ? run_meters / run_s : 0.0));
    json_object_set_new(r, "actions", actions_json(s));
    json_object_set_new(r, "balance", balance_json(st));
    json_object_set_new(
        r, "errors",
        json_pack("{s:o,s:o,s:I,s:I,s:I,s:I}", "callerrors", tally_json(&st->callerrors),
                  "invalid_answers", tally_json(&st->invalid_answers), "malformed_frames",
                  (json_int_t)st->malformed_in, "unmatched_answers",
                  (json_int_t)st->unmatched_answers, "late_answers", (json_int_t)st->late_answers,
                  "not_sent", (json_int_t)st->not_sent));
    json_object_set_new(r, "sessions",
                        json_pack("{s:I,s:I,s:I}", "started", (json_int_t)st->sessions_started,
                                  "stopped", (json_int_t)st->sessions_stopped, "auth_rejected",
                                  (json_int_t)st->auth_rejected));
    json_object_set_new(r, "server_calls",
                        json_pack("{s:o,s:I,s:I}", "received", tally_json(&st->server_calls),
                                  "answered", (json_int_t)st->server_calls_answered, "refused",
                                  (json_int_t)st->server_calls_refused));
    json_object_set_new(r, "firmware", firmware_json(s));
    json_object_set_new(r, "logs", logs_json(st));
    if (x && x->registered_stations + x->register_errors > 0)
        json_object_set_new(r, "register",
                            json_pack("{s:I,s:I,s:I,s:f}", "stations",
                                      (json_int_t)x->registered_stations, "id_tokens",
                                      (json_int_t)x->registered_tokens, "errors",
                                      (json_int_t)x->register_errors, "seconds", x->register_s));
    if (x && x->tls)
        json_object_set_new(r, "tls",
                            json_pack("{s:b,s:I,s:I}", "resume", x->tls_resume, "full",
                                      (json_int_t)x->tls_full, "resumed",
                                      (json_int_t)x->tls_resumed));
    return r;
}

static void print_tally(FILE *f, const char *label, const sim_tally_t *t)
{
    if (!t->n) return;
    fprintf(f, "  %-18s", label);
    for (unsigned i = 0; i < t->n; i++)
        fprintf(f, " %s=%llu", t->e[i].key, (unsigned long long)t->e[i].count);
    fprintf(f, "\n");
}

/* The first few updated stations: what they run and what they downloaded. */
static void print_firmware_stations(FILE *f, const json_t *list)
{
    size_t i;
    const json_t *x;
    json_array_foreach(list, i, x)
    {
        if (i == 10) {
            fprintf(f, "    ... %zu more in the JSON report\n", json_array_size(list) - i);
            break;
        }
        const char *sha = json_string_value(json_object_get(x, "sha256"));
        fprintf(f, "    %-20s %-24s %-18s %10lld bytes  sha256 %s\n",
                json_string_value(json_object_get(x, "id")),
                json_string_value(json_object_get(x, "version")),
                json_string_value(json_object_get(x, "status")),
                (long long)json_integer_value(json_object_get(x, "bytes")), sha ? sha : "-");
    }
}

void sim_report_text(const sim_t *s, const sim_report_extra_t *x, FILE *f)
{
    json_t *r = sim_report_json(s, x);
    const sim_stats_t *st = &s->stats;
    json_t *c = json_object_get(r, "connect"), *run = json_object_get(r, "run");
    json_t *bal = json_object_get(r, "balance");
    fprintf(f, "ampgrid-sim %s: %s, %u stations, %.1f s\n", AMPGRID_VERSION,
            sim_scenario_name(s->cfg.scenario), s->nstations, secs(s->now_ms));
    fprintf(f, "  connect            %llu opened of %llu attempts; all booted: %s",
            (unsigned long long)st->connected, (unsigned long long)st->connect_attempts,
            json_is_true(json_object_get(c, "all_booted")) ? "yes" : "NO");
    if (s->sc.ramp_done_ms)
        fprintf(f, " in %.2f s (%.0f stations/s)",
                json_real_value(json_object_get(c, "all_booted_s")),
                json_real_value(json_object_get(c, "rate_per_s")));
    fprintf(f, "; most booted at once %u\n", s->ready_max);
    json_t *storm = json_object_get(r, "storm");
    if (storm)
        fprintf(f, "  storm              %llu dropped, %llu booted again, recovery %.2f s\n",
                (unsigned long long)json_integer_value(json_object_get(storm, "dropped")),
                (unsigned long long)json_integer_value(json_object_get(storm, "recovered")),
                json_real_value(json_object_get(storm, "recovery_s")));
    if (x && x->tls)
        fprintf(f, "  TLS handshakes     %llu resumed, %llu full%s\n",
                (unsigned long long)x->tls_resumed, (unsigned long long)x->tls_full,
                x->tls_resume ? "" : " (resumption off)");
    fprintf(f, "  run                %.1f s, %.0f messages/s",
            json_real_value(json_object_get(run, "seconds")),
            json_real_value(json_object_get(run, "messages_per_s")));
    if (st->msg[SIM_MSG_METER].sent)
        fprintf(f, ", %.0f MeterValues/s answered",
                json_real_value(json_object_get(run, "meter_values_per_s")));
    fprintf(f, "\n  %-29s %8s %8s %6s %6s %7s %6s %6s %8s %8s %8s %8s %8s\n", "latency (ms)",
            "sent", "ok", "error", "invalid", "timeout", "lost", "aband.", "p50", "p90", "p99",
            "p99.9", "max");
    for (int m = 0; m < SIM_MSG_COUNT; m++) {
        const sim_msg_stats_t *ms = &st->msg[m];
        if (!ms->sent) continue;
        const sim_hist_t *h = &ms->latency_us;
        fprintf(
            f, "  %-29s %8llu %8llu %6llu %6llu %7llu %6llu %6llu %8.2f %8.2f %8.2f %8.2f %8.2f\n",
            sim_msg_names[m], (unsigned long long)ms->sent, (unsigned long long)ms->out[SIM_OUT_OK],
            (unsigned long long)ms->out[SIM_OUT_CALLERROR],
            (unsigned long long)ms->out[SIM_OUT_INVALID],
            (unsigned long long)ms->out[SIM_OUT_TIMEOUT],
            (unsigned long long)ms->out[SIM_OUT_DISCONNECTED],
            (unsigned long long)ms->out[SIM_OUT_ABANDONED], sim_hist_percentile(h, 50) / 1000.0,
            sim_hist_percentile(h, 90) / 1000.0, sim_hist_percentile(h, 99) / 1000.0,
            sim_hist_percentile(h, 99.9) / 1000.0, h->count ? h->max / 1000.0 : 0.0);
    }
    fprintf(f, "  balance            sent %lld = ok %lld + errors %lld%s\n",
            (long long)json_integer_value(json_object_get(bal, "sent")),
            (long long)json_integer_value(json_object_get(bal, "answered_ok")),
            (long long)json_integer_value(json_object_get(bal, "errors")),
            json_is_true(json_object_get(bal, "balanced")) ? " (balanced)" : " (UNBALANCED)");
    print_tally(f, "refused (HTTP)", &st->refused_by_status);
    print_tally(f, "closed by server", &st->close_codes);
    print_tally(f, "connect failures", &st->connect_errors);
    print_tally(f, "CALLERRORs", &st->callerrors);
    print_tally(f, "invalid answers", &st->invalid_answers);
    print_tally(f, "server calls", &st->server_calls);
    if (st->sessions_started || st->auth_rejected)
        fprintf(f, "  sessions           %llu started, %llu stopped, %llu id tokens refused\n",
                (unsigned long long)st->sessions_started, (unsigned long long)st->sessions_stopped,
                (unsigned long long)st->auth_rejected);
    if (st->fw.requests)
        fprintf(f,
                "  firmware           %llu updates: %llu downloads tried, %llu ok, %llu failed, "
                "%llu refused, %llu bytes; %llu installed, %llu failed to install\n",
                (unsigned long long)st->fw.requests, (unsigned long long)st->fw.attempts,
                (unsigned long long)st->fw.ok, (unsigned long long)st->fw.failed,
                (unsigned long long)st->fw.refused, (unsigned long long)st->fw.bytes,
                (unsigned long long)st->fw.installed, (unsigned long long)st->fw.install_failed);
    print_firmware_stations(f, json_object_get(json_object_get(r, "firmware"), "stations"));
    if (st->logs.requests)
        fprintf(f,
                "  logs               %llu requests: %llu uploads tried, %llu ok, %llu failed, "
                "%llu refused, %llu bytes\n",
                (unsigned long long)st->logs.requests, (unsigned long long)st->logs.attempts,
                (unsigned long long)st->logs.ok, (unsigned long long)st->logs.failed,
                (unsigned long long)st->logs.refused, (unsigned long long)st->logs.bytes);
    if (st->malformed_in || st->unmatched_answers || st->late_answers)
        fprintf(f, "  protocol           %llu malformed, %llu unmatched, %llu late answers\n",
                (unsigned long long)st->malformed_in, (unsigned long long)st->unmatched_answers,
                (unsigned long long)st->late_answers);
    json_decref(r);
}
