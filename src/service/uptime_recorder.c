/*
 * The uptime recorder (see uptime_recorder.h): domain events in, durable
 * connectivity and failed starts out.
 *
 * It keeps two small things in memory: the ports with a failed start not yet
 * recovered (so that an ordinary status change or session start costs no
 * database write), and the remote starts in flight per station (a command's
 * result names no connector; one call is outstanding per connection and the
 * rest are queued in order, so results come back in the order the commands
 * were sent and a FIFO pairs them).
 */
#include "service/uptime_recorder.h"

#include "service/uptime.h"
#include "store/store_uptime.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#define MAX_STARTS_IN_FLIGHT 10000

/* A port with an open failed start. */
typedef struct open_port {
    char key[80]; /* "station\x1fevse" */
    char *station_id;
    int evse_id;
    int64_t last_failure_at;
    bool saw_down; /* Faulted/Unavailable reported since (uptime_status_recovers) */
    UT_hash_handle hh;
} open_port_t;

/* A remote start waiting for the station's answer. */
typedef struct start_req {
    char *station_id;
    int evse_id; /* 0 = the request named none */
    struct start_req *next;
} start_req_t;

struct uptime_recorder {
    csms_t *c;
    store_t *s;
    uv_timer_t alive;
    bool timer_open;
    open_port_t *open;
    start_req_t *starts_head, *starts_tail;
    unsigned nstarts;
};

/* ------------------------------------------------------------ open ports */

static void port_key(char *out, size_t len, const char *station_id, int evse_id)
{
    snprintf(out, len, "%s\x1f%d", station_id, evse_id);
}

static open_port_t *port_find(uptime_recorder_t *r, const char *station_id, int evse_id)
{
    char key[80];
    port_key(key, sizeof key, station_id, evse_id);
    open_port_t *p = NULL;
    HASH_FIND_STR(r->open, key, p);
    return p;
}

static open_port_t *port_add(uptime_recorder_t *r, const char *station_id, int evse_id)
{
    open_port_t *p = port_find(r, station_id, evse_id);
    if (p) return p;
    p = xcalloc(1, sizeof *p);
    port_key(p->key, sizeof p->key, station_id, evse_id);
    p->station_id = xstrdup(station_id);
    p->evse_id = evse_id;
    HASH_ADD_STR(r->open, key, p);
    return p;
}

static void port_remove(uptime_recorder_t *r, open_port_t *p)
{
    HASH_DEL(r->open, p); // NOLINT(clang-analyzer-unix.Malloc): uthash's HASH_DEL unlinks first
    free(p->station_id);
    free(p);
}

static void load_open_cb(void *ctx, const char *station_id, int evse_id)
{
    port_add(ctx, station_id, evse_id);
}

/* Ends the open failed starts of a port (evse_id 0: every port of the
 * station, a rare event: a boot) that began at or before `at`. */
static void recover(uptime_recorder_t *r, const char *station_id, int evse_id, int64_t at,
                    const char *by)
{
    bool any = false;
    if (evse_id) {
        open_port_t *p = port_find(r, station_id, evse_id);
        if (!p) return;
        any = true;
        if (p->last_failure_at <= at) port_remove(r, p);
    } else {
        open_port_t *p, *tmp;
        HASH_ITER(hh, r->open, p, tmp)
        {
            if (strcmp(p->station_id, station_id) != 0) continue;
            any = true;
            if (p->last_failure_at <= at) port_remove(r, p);
        }
    }
    if (any) store_uptime_recovered(r->s, station_id, evse_id, at, by);
}

/* ---------------------------------------------------------------- events */

static const char *str(const json_t *d, const char *key)
{
    return json_string_value(json_object_get(d, key));
}

/* A station time from an event, never later than now. */
static int64_t time_of(const json_t *d, const char *key, int64_t now)
{
    int64_t t;
    const char *s = str(d, key);
    if (!s || !time_parse_rfc3339(s, &t) || t > now) return now;
    return t;
}

/* The error code a port's connectors report now, when it is not NoError. */
static const char *port_error(const csms_station_t *st, int evse_id)
{
    for (size_t i = 0; st && i < st->nconnectors; i++) {
        const csms_connector_t *k = &st->connectors[i];
        if (k->evse_id == evse_id && k->error_code && strcmp(k->error_code, "NoError") != 0)
            return k->error_code;
    }
    return NULL;
}

/* Whether the port (or its whole station) reports Faulted or Unavailable now. */
static bool port_down_now(const csms_station_t *st, int evse_id)
{
    for (size_t i = 0; st && i < st->nconnectors; i++) {
        const csms_connector_t *k = &st->connectors[i];
        if ((k->evse_id == evse_id || k->evse_id == 0) && uptime_status_cause(k->status, false))
            return true;
    }
    return false;
}

static void record_failure(uptime_recorder_t *r, const store_failed_start_t *f)
{
    store_uptime_failed_start(r->s, f);
    open_port_t *p = port_add(r, f->station_id, f->evse_id);
    if (f->at > p->last_failure_at) p->last_failure_at = f->at;
    /* a port already reporting a fault recovers with its next Available */
    p->saw_down = port_down_now(csms_station_find(r->c, f->station_id), f->evse_id);
    log_info("failed session start", "station=%s evse=%d kind=%s reason=%s", f->station_id,
             f->evse_id, f->kind, f->reason ? f->reason : "-");
}

static void on_tx_ended(uptime_recorder_t *r, const json_t *d, int64_t now)
{
    const char *station = str(d, "station_id"), *reason = str(d, "stop_reason");
    int evse = (int)json_integer_value(json_object_get(d, "evse_id"));
    if (!station || evse <= 0) return;
    int64_t started = time_of(d, "started_at", now), stopped = time_of(d, "stopped_at", now);
    json_t *e = json_object_get(d, "energy_wh");
    if (!uptime_failed_session(reason, json_is_integer(e), json_integer_value(e),
                               stopped - started))
        return;
    store_failed_start_t f = {
        .station_id = station,
        .evse_id = evse,
        .connector_id = (int)json_integer_value(json_object_get(d, "connector_id")),
        .at = stopped,
        .kind = "failed_session",
        .reason = reason,
        .error_code = port_error(csms_station_find(r->c, station), evse),
        .session_id = json_integer_value(json_object_get(d, "session_id")),
    };
    record_failure(r, &f);
}

/* A status the port (or, evse 0, its whole station) reported after a failure. */
static void status_after_failure(uptime_recorder_t *r, open_port_t *p, const char *status,
                                 int64_t at)
{
    if (at < p->last_failure_at) return; /* older than the failure */
    if (!uptime_status_recovers(&p->saw_down, status)) return;
    store_uptime_recovered(r->s, p->station_id, p->evse_id, at, "status");
    port_remove(r, p);
}

static void on_status(uptime_recorder_t *r, const json_t *d, int64_t now)
{
    const char *station = str(d, "station_id"), *status = str(d, "status");
    int evse = (int)json_integer_value(json_object_get(d, "evse_id"));
    if (!r->open || !json_is_true(json_object_get(d, "current"))) return;
    int64_t at = time_of(d, "timestamp", now);
    if (evse) { /* the common case: one port, found in O(1) */
        open_port_t *p = port_find(r, station, evse);
        if (p) status_after_failure(r, p, status, at);
        return;
    }
    open_port_t *p, *tmp;
    HASH_ITER(hh, r->open, p, tmp)
    {
        if (strcmp(p->station_id, station) == 0) status_after_failure(r, p, status, at);
    }
}

static bool is_remote_start(const char *action)
{
    return action && (strcmp(action, "RemoteStartTransaction") == 0 ||
                      strcmp(action, "RequestStartTransaction") == 0);
}

static void on_command_sent(uptime_recorder_t *r, const json_t *d)
{
    if (!is_remote_start(str(d, "action")) || !str(d, "station_id")) return;
    const json_t *req = json_object_get(d, "request");
    json_t *id = json_object_get(req, "connectorId");
    if (!id) id = json_object_get(req, "evseId");
    start_req_t *q = xcalloc(1, sizeof *q);
    q->station_id = xstrdup(str(d, "station_id"));
    q->evse_id = json_is_integer(id) ? (int)json_integer_value(id) : 0;
    if (r->starts_tail)
        r->starts_tail->next = q;
    else
        r->starts_head = q;
    r->starts_tail = q;
    if (++r->nstarts > MAX_STARTS_IN_FLIGHT) { /* never expected: every command is answered */
        start_req_t *old = r->starts_head;
        r->starts_head = old->next;
        if (!r->starts_head) r->starts_tail = NULL;
        free(old->station_id);
        free(old);
        r->nstarts--;
    }
}

/* Takes the oldest remote start in flight for a station; NULL when none. */
static start_req_t *take_start(uptime_recorder_t *r, const char *station)
{
    for (start_req_t **pp = &r->starts_head, *prev = NULL; *pp; prev = *pp, pp = &(*pp)->next) {
        start_req_t *q = *pp;
        if (strcmp(q->station_id, station) != 0) continue;
        *pp = q->next;
        if (r->starts_tail == q) r->starts_tail = prev;
        r->nstarts--;
        return q;
    }
    return NULL;
}

/* The one port of a station with a single port; 0 otherwise. */
static int only_port(const csms_station_t *st)
{
    int port = 0;
    for (size_t i = 0; i < st->nconnectors; i++) {
        int e = st->connectors[i].evse_id;
        if (e <= 0 || e == port) continue;
        if (port) return 0;
        port = e;
    }
    return port;
}

static bool tx_running(csms_t *c, const char *station, int evse)
{
    for (csms_tx_t *t = csms_tx_first(c); t; t = t->hh.next)
        if (t->evse_id == evse && strcmp(t->station_id, station) == 0) return true;
    return false;
}

/* Whether the port could have taken the session it refused. */
static bool port_could_start(uptime_recorder_t *r, const csms_station_t *st, int evse)
{
    bool running = tx_running(r->c, st->id, evse);
    for (size_t i = 0; i < st->nconnectors; i++) {
        const csms_connector_t *k = &st->connectors[i];
        if (k->evse_id == evse && uptime_rejection_counts(k->status, running)) return true;
    }
    return false;
}

static void on_command_result(uptime_recorder_t *r, const json_t *d, int64_t now)
{
    const char *station = str(d, "station_id");
    if (!is_remote_start(str(d, "action")) || !station) return;
    start_req_t *q = take_start(r, station);
    if (!q) return;
    int evse = q->evse_id;
    free(q->station_id);
    free(q);
    const char *outcome = str(d, "outcome");
    const char *status = str(json_object_get(d, "response"), "status");
    if (!outcome || strcmp(outcome, "Answered") != 0 || !status || strcmp(status, "Rejected") != 0)
        return;
    csms_station_t *st = csms_station_find(r->c, station);
    if (!st || !csms_station_may_operate(st)) return;
    if (evse <= 0) evse = only_port(st);
    if (evse <= 0 || !port_could_start(r, st, evse)) return;
    store_failed_start_t f = {
        .station_id = station,
        .evse_id = evse,
        .at = now,
        .kind = "rejected",
        .reason = "Rejected",
        .error_code = port_error(st, evse),
    };
    record_failure(r, &f);
}

static void drop_starts(uptime_recorder_t *r, const char *station)
{
    start_req_t *q;
    while ((q = take_start(r, station)) != NULL) {
        free(q->station_id);
        free(q);
    }
}

static void on_event(void *ud, const char *type, const json_t *d)
{
    uptime_recorder_t *r = ud;
    int64_t now = time_now_ms();
    const char *station = str(d, "station_id");
    if (!station) return;
    if (strcmp(type, "connector.status") == 0) {
        on_status(r, d, now);
    } else if (strcmp(type, "transaction.started") == 0) {
        int evse = (int)json_integer_value(json_object_get(d, "evse_id"));
        if (evse > 0 && r->open)
            recover(r, station, evse, time_of(d, "started_at", now), "session");
    } else if (strcmp(type, "transaction.ended") == 0) {
        on_tx_ended(r, d, now);
    } else if (strcmp(type, "command.sent") == 0) {
        on_command_sent(r, d);
    } else if (strcmp(type, "command.result") == 0) {
        on_command_result(r, d, now);
    } else if (strcmp(type, "station.connected") == 0) {
        store_uptime_connected(r->s, station, now);
    } else if (strcmp(type, "station.disconnected") == 0) {
        store_uptime_disconnected(r->s, station, now, "disconnected");
    } else if (strcmp(type, "station.deleted") == 0) {
        store_uptime_disconnected(r->s, station, now, "deleted");
        drop_starts(r, station);
    } else if (strcmp(type, "station.boot") == 0) {
        if (r->open) recover(r, station, 0, now, "boot");
    }
}

/* ------------------------------------------------------------- lifecycle */

static void alive_cb(uv_timer_t *t)
{
    uptime_recorder_t *r = t->data;
    store_uptime_alive(r->s, time_now_ms());
}

uptime_recorder_t *uptime_recorder_create(csms_t *c, store_t *s, uv_loop_t *loop, char *err,
                                          size_t err_len)
{
    uptime_recorder_t *r = xcalloc(1, sizeof *r);
    r->c = c;
    r->s = s;
    if (store_uptime_startup_sync(s, time_now_ms()) != 0 ||
        store_uptime_open_failures_sync(s, load_open_cb, r) != 0) {
        snprintf(err, err_len, "cannot read the uptime tables of the database");
        uptime_recorder_free(r);
        return NULL;
    }
    uv_timer_init(loop, &r->alive);
    r->alive.data = r;
    uv_timer_start(&r->alive, alive_cb, UPTIME_ALIVE_INTERVAL_MS, UPTIME_ALIVE_INTERVAL_MS);
    uv_unref((uv_handle_t *)&r->alive); /* the listeners keep the loop alive, not this */
    r->timer_open = true;
    csms_subscribe_typed(c, on_event, NULL, r); /* no meter.values */
    return r;
}

void uptime_recorder_shutdown(uptime_recorder_t *r)
{
    if (!r || !r->timer_open) return;
    store_uptime_alive(r->s, time_now_ms());
    uv_timer_stop(&r->alive);
    uv_close((uv_handle_t *)&r->alive, NULL);
    r->timer_open = false;
}

void uptime_recorder_free(uptime_recorder_t *r)
{
    if (!r) return;
    /* the timer handle lives in r: uptime_recorder_shutdown closes it, and
     * the loop must have run since */
    csms_unsubscribe(r->c, on_event, r);
    while (r->open)
        port_remove(r, r->open); // NOLINT(clang-analyzer-unix.Malloc): port_remove unlinks first
    while (r->starts_head) {
        start_req_t *q = r->starts_head;
        r->starts_head = q->next;
        free(q->station_id);
        free(q);
    }
    free(r);
}
