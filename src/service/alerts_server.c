/*
 * The engine wired into the server (see alerts_server.h). A change is
 * published only after its row has committed, so whoever hears of an alert
 * (the event stream, a webhook, an API client acknowledging it) can always
 * find it in the store, and an id is never announced twice even if the
 * process dies before a commit.
 */
#include "service/alerts_server.h"

#include "store/store_alerts.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct alerts_server {
    alerts_t *engine;
    csms_t *csms;
    store_t *store;
    uv_timer_t tick;
    bool running;
};

/* A change on its way to the store. */
typedef struct change {
    alerts_server_t *srv;
    char type[24];
    json_t *view; /* the alert's JSON at the change */
    alerts_done_cb done;
    void *ctx;
} change_t;

static int64_t now_ms(void *ud)
{
    return time_now_ms();
}

static int64_t last_heartbeat(void *ud, const char *station_id)
{
    alerts_server_t *s = ud;
    csms_station_t *st = csms_station_find(s->csms, station_id);
    return st ? st->last_heartbeat_at : 0;
}

static void saved_cb(void *ctx, store_err_t rc, json_t *res)
{
    change_t *c = ctx;
    char q[200];
    if (rc != STORE_OK)
        log_error("alert change not stored", "type=%s alert=%lld", c->type,
                  (long long)json_integer_value(json_object_get(c->view, "id")));
    if (c->done) c->done(c->ctx, rc == STORE_OK, c->view);
    /* a repeat is routine; raising, acknowledging and resolving are news */
    log_emit(strcmp(c->type, "alert.updated") == 0 ? LOG_DEBUG : LOG_INFO, c->type,
             "id=%lld rule=%s station=%s severity=%s",
             (long long)json_integer_value(json_object_get(c->view, "id")),
             json_string_value(json_object_get(c->view, "rule")),
             log_quote(json_string_value(json_object_get(c->view, "station_id")), q, sizeof q),
             json_string_value(json_object_get(c->view, "severity")));
    csms_emit(c->srv->csms, c->type, c->view); /* takes the view */
    free(c);
}

static void changed(void *ud, const char *type, const alert_t *al, alerts_done_cb done, void *ctx)
{
    alerts_server_t *s = ud;
    change_t *c = xcalloc(1, sizeof *c);
    c->srv = s;
    snprintf(c->type, sizeof c->type, "%s", type);
    c->view = alerts_json(al);
    c->done = done;
    c->ctx = ctx;
    store_alert_t rec = {
        .id = al->id,
        .rule = alerts_rule_name(al->rule),
        .severity = alerts_severity_name(al->severity),
        .station_id = al->station_id,
        .evse_id = al->evse_id,
        .connector_id = al->connector_id,
        .title = al->title ? al->title : "",
        .details = al->details,
        .state = alerts_state_name(al->state),
        .first_seen = al->first_seen,
        .last_seen = al->last_seen,
        .count = al->count,
        .acknowledged_by = al->acknowledged_by,
        .ack_note = al->ack_note,
        .acknowledged_at = al->acknowledged_at,
        .resolved_by = al->resolved_by,
        .resolve_note = al->resolve_note,
        .resolved_at = al->resolved_at,
        .updated_at = time_now_ms(),
    };
    store_alert_save(s->store, &rec, saved_cb, c);
}

static void on_event(void *ud, const char *type, const json_t *data)
{
    alerts_server_t *s = ud;
    alerts_on_event(s->engine, type, data);
}

static void on_meter(void *ud, const csms_meter_event_t *m)
{
    alerts_server_t *s = ud;
    alerts_on_meter(s->engine, m);
}

static void tick_cb(uv_timer_t *t)
{
    alerts_server_t *s = t->data;
    alerts_tick(s->engine);
}

/* What the store and the domain know at start: open alerts, every station
 * (one that has talked before counts as offline until it reconnects), its
 * connectors' last status and the sessions still running. */
static int load(alerts_server_t *s, char *err, size_t err_len)
{
    json_t *rows = NULL;
    int64_t max_id = 0;
    if (store_alerts_load_open_sync(s->store, &rows) != 0 ||
        store_alerts_max_id_sync(s->store, &max_id) != 0) {
        json_decref(rows);
        snprintf(err, err_len, "cannot load the open alerts from the database");
        return -1;
    }
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) alerts_restore(s->engine, row);
    json_decref(rows);
    alerts_set_next_id(s->engine, max_id + 1);
    for (csms_station_t *st = csms_station_first(s->csms); st; st = csms_station_next(st)) {
        alerts_seed_station(s->engine, st->id, st->last_boot_at || st->last_heartbeat_at);
        for (size_t k = 0; k < st->nconnectors; k++) {
            const csms_connector_t *c = &st->connectors[k];
            alerts_seed_connector(s->engine, st->id, c->evse_id, c->connector_id, c->status,
                                  c->timestamp);
        }
    }
    for (csms_tx_t *t = csms_tx_first(s->csms); t; t = t->hh.next) {
        bool energy = t->last_energy_wh >= 0 && t->last_energy_at > 0;
        alerts_seed_session(s->engine, t->station_id, t->evse_id, t->connector_id, t->id,
                            energy ? t->last_energy_wh : t->meter_start,
                            energy ? t->last_energy_at : t->started_at,
                            t->charging_state && strcmp(t->charging_state, "Charging") == 0);
    }
    return 0;
}

alerts_server_t *alerts_server_create(uv_loop_t *loop, csms_t *csms, store_t *store,
                                      const alerts_config_t *cfg, char *err, size_t err_len)
{
    alerts_server_t *s = xcalloc(1, sizeof *s);
    s->csms = csms;
    s->store = store;
    alerts_hooks_t hooks = {
        .ud = s, .now_ms = now_ms, .changed = changed, .last_heartbeat = last_heartbeat};
    s->engine = alerts_create(cfg, csms_config(csms)->heartbeat_interval, &hooks);
    if (cfg->enabled && load(s, err, err_len) != 0) {
        alerts_destroy(s->engine);
        free(s);
        return NULL;
    }
    uv_timer_init(loop, &s->tick);
    s->tick.data = s;
    if (cfg->enabled) {
        csms_subscribe_typed(csms, on_event, on_meter, s);
        uv_timer_start(&s->tick, tick_cb, 1000, 1000);
        s->running = true;
    }
    return s;
}

alerts_t *alerts_server_engine(alerts_server_t *s)
{
    return s->engine;
}

void alerts_server_stop(alerts_server_t *s)
{
    if (!s || uv_is_closing((uv_handle_t *)&s->tick)) return;
    if (s->running) csms_unsubscribe(s->csms, on_event, s);
    s->running = false;
    uv_timer_stop(&s->tick);
    uv_close((uv_handle_t *)&s->tick, NULL);
}

void alerts_server_free(alerts_server_t *s)
{
    if (!s) return;
    alerts_destroy(s->engine);
    free(s);
}
