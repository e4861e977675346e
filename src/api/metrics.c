/*
 * GET /metrics in the Prometheus text format, GET /healthz, and the OpenAPI
 * document at GET /api/v1/openapi.json. Counters come
 * from net/ (connections), ocpp/ (messages, validation errors, handling
 * latency), csms/ (stations, transactions), store/ (queue, commits) and
 * the webhook engine (deliveries).
 */
#include "api/api_internal.h"
#include "service/orphans.h"

#include "util/strbuf.h"

#include <stdio.h>
#include <string.h>

static void counter_line(void *ud, const char *dir, const char *action, const char *result,
                         uint64_t n)
{
    strbuf_printf(ud, "ampgrid_ocpp_messages_total{direction=\"%s\",action=\"%s\",result=\"%s\"} %llu\n",
                  dir, action, result, (unsigned long long)n);
}

static void histogram(strbuf_t *b, const char *name, const char *help, const double *bounds,
                      const uint64_t *buckets, int n, double scale, double sum, uint64_t count)
{
    strbuf_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    uint64_t cum = 0;
    for (int i = 0; i < n; i++) {
        cum += buckets[i];
        if (i == n - 1) strbuf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cum);
        else strbuf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i] * scale, (unsigned long long)cum);
    }
    strbuf_printf(b, "%s_sum ", name);
    strbuf_number(b, sum);
    strbuf_printf(b, "\n%s_count %llu\n", name, (unsigned long long)count);
}

static void gauge(strbuf_t *b, const char *name, const char *type, const char *help, double v)
{
    strbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s ", name, help, name, type, name);
    strbuf_number(b, v); /* counters pass a million: "%g" would round them */
    strbuf_append(b, "\n", 1);
}

void api_metrics(api_call_t *c)
{
    api_t *a = c->api;
    strbuf_t b = {0};
    gauge(&b, "ampgrid_stations_connected", "gauge", "Stations with a live OCPP connection",
          csms_station_connected_count(a->d.csms));
    gauge(&b, "ampgrid_stations", "gauge", "Registered stations", csms_station_count(a->d.csms));
    gauge(&b, "ampgrid_transactions_active", "gauge", "Transactions in progress",
          csms_tx_active_count(a->d.csms));
    api_alerts_metrics(a, &b);
    gauge(&b, "ampgrid_leftover_files_removed_total", "counter",
          "Half-written files and attachments without a row removed at start-up",
          (double)orphans_removed_total());
    api_signals_metrics(a, &b);
    if (a->d.net) {
        const net_stats_t *n = net_stats(a->d.net);
        gauge(&b, "ampgrid_ws_connections_opened_total", "counter", "WebSocket connections opened", (double)n->ws_open);
        gauge(&b, "ampgrid_ws_upgrades_refused_total", "counter", "WebSocket upgrades refused", (double)n->ws_refused);
        gauge(&b, "ampgrid_ws_oversize_total", "counter", "Connections closed for an oversized message", (double)n->ws_oversize);
        gauge(&b, "ampgrid_ws_binary_total", "counter", "Connections closed for a binary frame", (double)n->ws_binary);
        gauge(&b, "ampgrid_ws_ping_timeouts_total", "counter", "Connections closed for not answering pings", (double)n->ping_timeouts);
        gauge(&b, "ampgrid_ws_pings_sent_total", "counter", "WebSocket pings sent to silent connections", (double)n->pings_sent);
        gauge(&b, "ampgrid_http_requests_total", "counter", "HTTP requests received", (double)n->http_requests);
    }
    const ocpp_stats_t *o = ocpp_server_stats(a->d.ocpp);
    strbuf_printf(&b, "# HELP ampgrid_ocpp_messages_total OCPP messages by direction (in = "
                      "station-initiated), action and result\n# TYPE ampgrid_ocpp_messages_total counter\n");
    ocpp_server_counters(a->d.ocpp, counter_line, &b);
    gauge(&b, "ampgrid_ocpp_validation_errors_total", "counter", "OCPP payloads that failed validation", (double)o->validation_errors);
    gauge(&b, "ampgrid_ocpp_malformed_frames_total", "counter", "Frames that were not OCPP-J", (double)o->malformed_frames);
    gauge(&b, "ampgrid_ocpp_auth_failures_total", "counter", "Refused station connections", (double)o->auth_failures);
    histogram(&b, "ampgrid_ocpp_handling_seconds",
              "Time from receiving a station request to sending its answer (includes the durable commit)",
              ocpp_latency_bounds_s, o->latency_buckets, OCPP_LATENCY_BUCKETS, 1.0, o->latency_sum_s,
              o->latency_count);
    store_stats_t s;
    store_get_stats(a->d.store, &s);
    gauge(&b, "ampgrid_store_queue_depth", "gauge", "Operations waiting for the store writer", s.queue_depth);
    gauge(&b, "ampgrid_store_commits_total", "counter", "Store transactions committed", (double)s.commits);
    gauge(&b, "ampgrid_store_ops_total", "counter", "Store operations executed", (double)s.ops);
    gauge(&b, "ampgrid_store_failures_total", "counter", "Store operations that failed", (double)s.failures);
    gauge(&b, "ampgrid_store_checkpoints_total", "counter", "WAL checkpoints run by the checkpoint thread", (double)s.checkpoints);
    gauge(&b, "ampgrid_store_wal_restarts_total", "counter", "Times the WAL was caught up and started over", (double)s.wal_restarts);
    uint64_t total = 0;
    for (int i = 0; i < 12; i++) total += s.commit_us_buckets[i];
    histogram(&b, "ampgrid_store_commit_seconds", "Duration of one group commit",
              store_commit_bucket_bounds_us, s.commit_us_buckets, 12, 1e-6,
              (double)s.commit_us_sum / 1e6, total);
    api_webhook_stats_t w;
    api_webhooks_stats(a, &w);
    gauge(&b, "ampgrid_webhook_deliveries_pending", "gauge",
          "Webhook deliveries waiting for an attempt or being sent", (double)w.pending);
    gauge(&b, "ampgrid_webhook_deliveries_succeeded_total", "counter",
          "Webhook deliveries the receiver accepted (2xx)", (double)w.succeeded);
    gauge(&b, "ampgrid_webhook_deliveries_failed_total", "counter",
          "Webhook deliveries given up after max_attempts attempts", (double)w.failed);
    gauge(&b, "ampgrid_webhook_deliveries_retried_total", "counter",
          "Webhook delivery attempts that failed and were scheduled again", (double)w.retried);
    if (c->req) net_req_respond(c->req, 200, "text/plain; version=0.0.4", b.data, b.len, NULL);
    c->req = NULL;
    api_call_free(c);
    strbuf_free(&b);
}

void api_healthz(api_call_t *c)
{
    store_stats_t s;
    store_get_stats(c->api->d.store, &s);
    json_t *body = json_pack("{s:s,s:i,s:i}", "status", "ok", "stations_connected",
                             (int)csms_station_connected_count(c->api->d.csms), "store_queue_depth",
                             (int)s.queue_depth);
    api_json(c, 200, body);
}

void api_openapi(api_call_t *c)
{
    if (c->req)
        net_req_respond(c->req, 200, "application/json", api_openapi_doc, api_openapi_doc_len,
                        NULL);
    c->req = NULL;
    api_call_free(c);
}
