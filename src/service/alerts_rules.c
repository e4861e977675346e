/*
 * The rules: what in the domain's events raises an alert, what clears it, and
 * the timers for the rules that fire on silence.
 *
 * Cost per event, which matters for meter values and status reports from
 * thousands of stations: one hash lookup for the station, a walk of its few
 * connectors, a handful of field updates. Timers are armed when a condition
 * starts (a disconnect, a session starts charging, a connector goes
 * Unavailable), not on every message: a timer that fires early because more
 * messages came re-arms itself from the latest one (the way net.c supervises
 * pings), so a busy station never touches the wheel.
 */
#include "service/alerts_internal.h"

#include "util/alloc.h"
#include "util/timefmt.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONN_OF(e, field) ((watch_conn_t *)((char *)(e)-offsetof(watch_conn_t, field)))
#define STATION_OF(e, field) ((watch_station_t *)((char *)(e)-offsetof(watch_station_t, field)))

/* ------------------------------------------------------------- helpers */

static const char *jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static int jint(const json_t *o, const char *key, int def)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (int)json_integer_value(v) : def;
}

static int64_t jint64(const json_t *o, const char *key, int64_t def)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
}

static bool rule_on(const alerts_t *a, alert_rule_t r)
{
    return a->cfg.rule_on[r];
}

static bool is(const char *s, const char *v)
{
    return s && strcmp(s, v) == 0;
}

/* Schedules e at the first whole second at or after when_ms. */
static void arm(alerts_t *a, timewheel_entry_t *e, int64_t when_ms, timewheel_cb cb)
{
    uint64_t s = when_ms > 0 ? (uint64_t)((when_ms + 999) / 1000) : 0;
    timewheel_add(&a->wheel, e, s, cb);
}

static json_t *time_json(int64_t ms)
{
    char buf[TIME_RFC3339_LEN];
    return ms ? json_string(time_format_rfc3339(ms, buf)) : json_null();
}

/* "Connector 2" (1.6 connector 2 is EVSE 2), "EVSE 1 connector 2", "Station". */
static void place(char *out, size_t len, int evse, int conn)
{
    if (evse < 1)
        snprintf(out, len, "Station");
    else if (conn <= 1)
        snprintf(out, len, "Connector %d", evse);
    else
        snprintf(out, len, "EVSE %d connector %d", evse, conn);
}

static bool open_here(const watch_station_t *st, const watch_conn_t *k, alert_rule_t r)
{
    return ((k && k->evse_id >= 1 ? k->open : st->open) & ALERT_BIT(r)) != 0;
}

static void raise_at(alerts_t *a, alert_rule_t r, alert_severity_t sev, const watch_station_t *st,
                     const watch_conn_t *k, bool bump, json_t *details, const char *title)
{
    alert_spec_t sp = {.rule = r,
                       .severity = sev,
                       .station_id = st->id,
                       .evse_id = k ? k->evse_id : -1,
                       .connector_id = k ? k->connector_id : -1,
                       .title = title,
                       .details = details,
                       .bump = bump};
    alerts_raise(a, &sp);
}

static void clear_at(alerts_t *a, alert_rule_t r, const watch_station_t *st, const watch_conn_t *k)
{
    if (open_here(st, k, r))
        alerts_clear(a, r, st->id, k ? k->evse_id : -1, k ? k->connector_id : -1);
}

/* --------------------------------------------------------- watch state */

watch_station_t *alerts_watch_station(alerts_t *a, const char *id, bool create)
{
    watch_station_t *st = NULL;
    if (!id) return NULL;
    HASH_FIND_STR(a->stations, id, st);
    if (st || !create || strlen(id) >= sizeof st->id) return st;
    st = xcalloc(1, sizeof *st);
    st->a = a;
    snprintf(st->id, sizeof st->id, "%s", id);
    HASH_ADD_STR(a->stations, id, st);
    return st;
}

watch_conn_t *alerts_watch_conn(watch_station_t *st, int evse_id, int connector_id, bool create)
{
    for (watch_conn_t *k = st->conns; k; k = k->next)
        if (k->evse_id == evse_id && k->connector_id == connector_id) return k;
    if (!create) return NULL;
    watch_conn_t *k = xcalloc(1, sizeof *k);
    k->st = st;
    k->evse_id = evse_id;
    k->connector_id = connector_id;
    k->next = st->conns;
    st->conns = k;
    return k;
}

void alerts_watch_free(alerts_t *a, watch_station_t *st)
{
    while (st->conns) {
        watch_conn_t *k = st->conns;
        st->conns = k->next;
        timewheel_remove(&a->wheel, &k->unavailable_te);
        timewheel_remove(&a->wheel, &k->stuck_te);
        free(k);
    }
    timewheel_remove(&a->wheel, &st->live_te);
    timewheel_remove(&a->wheel, &st->boot_te);
    HASH_DEL(a->stations, st);
    free(st);
}

/* ------------------------------------------------------ station_offline */

static void live_cb(timewheel_entry_t *e);

static int64_t silence_limit_ms(const alerts_t *a)
{
    return (int64_t)a->cfg.heartbeat_missed * a->heartbeat_interval * 1000;
}

static void arm_live(alerts_t *a, watch_station_t *st)
{
    if (!rule_on(a, ALERT_STATION_OFFLINE)) return;
    if (!st->connected)
        arm(a, &st->live_te, st->disconnected_at + a->cfg.offline_after * 1000LL, live_cb);
    else if (a->cfg.heartbeat_missed > 0)
        arm(a, &st->live_te, st->last_rx_ms + silence_limit_ms(a), live_cb);
    else
        timewheel_remove(&a->wheel, &st->live_te);
}

static void offline_check(alerts_t *a, watch_station_t *st, int64_t now)
{
    int64_t due = st->disconnected_at + a->cfg.offline_after * 1000LL;
    if (now < due) {
        arm(a, &st->live_te, due, live_cb);
        return;
    }
    char title[96];
    int secs = a->cfg.offline_after;
    if (secs % 3600 == 0)
        snprintf(title, sizeof title, "Station offline for more than %d h", secs / 3600);
    else if (secs % 60 == 0)
        snprintf(title, sizeof title, "Station offline for more than %d min", secs / 60);
    else
        snprintf(title, sizeof title, "Station offline for more than %d s", secs);
    json_t *d = json_pack("{s:s,s:o,s:i}", "reason", "disconnected", "disconnected_at",
                          time_json(st->disconnected_at), "offline_after", secs);
    raise_at(a, ALERT_STATION_OFFLINE, a->cfg.severity[ALERT_STATION_OFFLINE], st, NULL, false, d,
             title);
}

/* Connected: heard from (any event, or a heartbeat the domain saw) lately? */
static void silence_check(alerts_t *a, watch_station_t *st, int64_t now)
{
    int64_t hb = a->hooks.last_heartbeat ? a->hooks.last_heartbeat(a->hooks.ud, st->id) : 0;
    int64_t last = hb > st->last_rx_ms ? hb : st->last_rx_ms;
    int64_t limit = silence_limit_ms(a);
    if (now - last < limit) {
        clear_at(a, ALERT_STATION_OFFLINE, st, NULL); /* heartbeats came back */
        arm(a, &st->live_te, last + limit, live_cb);
        return;
    }
    char title[96];
    snprintf(title, sizeof title, "Station silent: no heartbeat or message for %lld s",
             (long long)((now - last) / 1000));
    json_t *d = json_pack("{s:s,s:o,s:o,s:i}", "reason", "silent", "last_heartbeat_at",
                          time_json(hb), "last_message_at", time_json(st->last_rx_ms),
                          "heartbeat_missed", a->cfg.heartbeat_missed);
    raise_at(a, ALERT_STATION_OFFLINE, a->cfg.severity[ALERT_STATION_OFFLINE], st, NULL, false, d,
             title);
    /* look again after an interval: a heartbeat is no event, so only a look
     * sees it come back */
    arm(a, &st->live_te, now + a->heartbeat_interval * 1000LL, live_cb);
}

static void live_cb(timewheel_entry_t *e)
{
    watch_station_t *st = STATION_OF(e, live_te);
    alerts_t *a = st->a;
    if (!rule_on(a, ALERT_STATION_OFFLINE)) return;
    int64_t now = alerts_now(a);
    if (!st->connected)
        offline_check(a, st, now);
    else if (a->cfg.heartbeat_missed > 0)
        silence_check(a, st, now);
}

/* The station said something (while connected). */
static void heard(alerts_t *a, watch_station_t *st)
{
    st->last_rx_ms = alerts_now(a);
    if (!st->connected) return;
    if (st->open & ALERT_BIT(ALERT_STATION_OFFLINE)) {
        clear_at(a, ALERT_STATION_OFFLINE, st, NULL);
        arm_live(a, st);
    }
}

static void on_connected(alerts_t *a, watch_station_t *st, const json_t *d)
{
    st->connected = true;
    st->last_rx_ms = alerts_now(a);
    clear_at(a, ALERT_STATION_OFFLINE, st, NULL);
    arm_live(a, st);
}

static void on_disconnected(alerts_t *a, watch_station_t *st, const json_t *d)
{
    st->connected = false;
    st->disconnected_at = alerts_now(a);
    arm_live(a, st);
}

void alerts_seed_station(alerts_t *a, const char *station_id, bool seen)
{
    if (!seen) return; /* a station that never connected is not missed */
    watch_station_t *st = alerts_watch_station(a, station_id, true);
    if (!st || st->connected) return;
    st->disconnected_at = alerts_now(a); /* offline since this start, as far as we know */
    arm_live(a, st);
}

/* ---------------------------------------------------------- reboot_loop */

static void boot_cb(timewheel_entry_t *e)
{
    watch_station_t *st = STATION_OF(e, boot_te);
    alerts_t *a = st->a;
    if (!(st->open & ALERT_BIT(ALERT_REBOOT_LOOP)) || st->nboots == 0) return;
    int last = (st->boot_next + ALERTS_MAX_REBOOTS - 1) % ALERTS_MAX_REBOOTS;
    int64_t quiet_until = st->boots[last] + a->cfg.reboot_window * 1000LL;
    if (alerts_now(a) >= quiet_until)
        clear_at(a, ALERT_REBOOT_LOOP, st, NULL);
    else
        arm(a, &st->boot_te, quiet_until, boot_cb);
}

static void on_boot(alerts_t *a, watch_station_t *st, const json_t *d)
{
    heard(a, st);
    /* Pending and Rejected stations boot again every pending_interval by
     * design: only accepted boots are restarts. */
    if (!rule_on(a, ALERT_REBOOT_LOOP) || !is(jstr(d, "status"), "Accepted")) return;
    int64_t now = alerts_now(a);
    st->boots[st->boot_next] = now;
    st->boot_next = (st->boot_next + 1) % ALERTS_MAX_REBOOTS;
    if (st->nboots < ALERTS_MAX_REBOOTS) st->nboots++;
    int64_t window = a->cfg.reboot_window * 1000LL;
    int n = 0;
    for (int i = 0; i < st->nboots; i++)
        if (now - st->boots[i] < window) n++;
    arm(a, &st->boot_te, now + window, boot_cb);
    if (n < a->cfg.reboot_count) return;
    char title[96];
    snprintf(title, sizeof title, "Station rebooted %d times within %d s", n, a->cfg.reboot_window);
    json_t *det = json_pack("{s:i,s:i,s:o}", "boots", n, "reboot_window", a->cfg.reboot_window,
                            "last_boot_at", time_json(now));
    if (jstr(d, "reason")) json_object_set_new(det, "reason", json_string(jstr(d, "reason")));
    raise_at(a, ALERT_REBOOT_LOOP, a->cfg.severity[ALERT_REBOOT_LOOP], st, NULL, true, det, title);
}

/* ------------------------------------------------------- session_stuck */

static void stuck_cb(timewheel_entry_t *e);

static int64_t stuck_limit_ms(const alerts_t *a)
{
    return (int64_t)a->cfg.stuck_intervals * a->cfg.meter_interval * 1000;
}

static void arm_stuck(alerts_t *a, watch_conn_t *k)
{
    if (!rule_on(a, ALERT_SESSION_STUCK) || !k->charging || !k->session_id) return;
    int64_t last = k->last_meter_ms > k->charging_since ? k->last_meter_ms : k->charging_since;
    arm(a, &k->stuck_te, last + stuck_limit_ms(a), stuck_cb);
}

static void stuck_cb(timewheel_entry_t *e)
{
    watch_conn_t *k = CONN_OF(e, stuck_te);
    alerts_t *a = k->st->a;
    if (!rule_on(a, ALERT_SESSION_STUCK) || !k->charging || !k->session_id) return;
    int64_t now = alerts_now(a);
    int64_t last = k->last_meter_ms > k->charging_since ? k->last_meter_ms : k->charging_since;
    if (now - last < stuck_limit_ms(a)) {
        arm(a, &k->stuck_te, last + stuck_limit_ms(a), stuck_cb);
        return;
    }
    char where[48], title[128];
    place(where, sizeof where, k->evse_id, k->connector_id);
    snprintf(title, sizeof title, "%s: session %lld charging without meter values for %lld s",
             where, (long long)k->session_id, (long long)((now - last) / 1000));
    json_t *d = json_pack("{s:I,s:o,s:o,s:I}", "session_id", (json_int_t)k->session_id,
                          "last_meter_values_at", time_json(k->last_meter_ms), "charging_since",
                          time_json(k->charging_since), "silent_seconds",
                          (json_int_t)((now - last) / 1000));
    raise_at(a, ALERT_SESSION_STUCK, a->cfg.severity[ALERT_SESSION_STUCK], k->st, k, false, d,
             title);
}

static void set_charging(alerts_t *a, watch_conn_t *k, bool on)
{
    if (on == k->charging) return;
    k->charging = on;
    if (on) {
        k->charging_since = alerts_now(a);
        arm_stuck(a, k);
    } else {
        timewheel_remove(&a->wheel, &k->stuck_te);
        clear_at(a, ALERT_SESSION_STUCK, k->st, k);
    }
}

/* ------------------------------------------------- meter_backwards/jump */

static void check_register(alerts_t *a, watch_conn_t *k, double wh, int64_t at)
{
    if (!k->has_register) {
        k->has_register = true;
        k->register_wh = wh;
        k->register_at = at;
        return;
    }
    if (at < k->register_at) return; /* an older reading, delivered late */
    double prev = k->register_wh, delta = wh - prev;
    double secs = (double)(at - k->register_at) / 1000.0;
    int64_t prev_at = k->register_at;
    k->register_wh = wh; /* the new baseline either way */
    k->register_at = at;
    char where[48], title[160];
    place(where, sizeof where, k->evse_id, k->connector_id);
    if (delta <= -1.0 && rule_on(a, ALERT_METER_BACKWARDS)) {
        snprintf(title, sizeof title, "%s: energy register went backwards from %.0f Wh to %.0f Wh",
                 where, prev, wh);
        json_t *d = json_pack("{s:I,s:f,s:f,s:o,s:o}", "session_id", (json_int_t)k->session_id,
                              "previous_wh", prev, "reading_wh", wh, "previous_at",
                              time_json(prev_at), "reading_at", time_json(at));
        raise_at(a, ALERT_METER_BACKWARDS, a->cfg.severity[ALERT_METER_BACKWARDS], k->st, k, true,
                 d, title);
        return;
    }
    /* 1 kWh of slack: registers with kWh resolution step by a whole kWh */
    double allowed = a->cfg.max_power_kw * 1000.0 * secs / 3600.0 + 1000.0;
    if (delta > allowed && rule_on(a, ALERT_METER_JUMP)) {
        double kw = secs > 0 ? delta / (secs / 3600.0) / 1000.0 : INFINITY;
        if (isfinite(kw))
            snprintf(title, sizeof title, "%s: energy register jumped %.0f Wh in %.0f s (%.0f kW)",
                     where, delta, secs, kw);
        else
            snprintf(title, sizeof title, "%s: energy register jumped %.0f Wh at once", where,
                     delta);
        json_t *d = json_pack("{s:I,s:f,s:f,s:f,s:o,s:i}", "session_id", (json_int_t)k->session_id,
                              "previous_wh", prev, "reading_wh", wh, "seconds", secs, "implied_kw",
                              isfinite(kw) ? json_real(kw) : json_null(), "max_power_kw",
                              a->cfg.max_power_kw);
        raise_at(a, ALERT_METER_JUMP, a->cfg.severity[ALERT_METER_JUMP], k->st, k, true, d, title);
    }
}

/* An energy register reading from one sample of a meter.values event; false
 * when the sample is something else. */
static bool register_of(const store_sample_t *s, double *wh)
{
    const char *m = s->measurand, *v = s->value;
    if ((m && strcmp(m, "Energy.Active.Import.Register") != 0) || (s->phase && *s->phase) || !v)
        return false;
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end || !isfinite(x) || fabs(x) > 1e15) return false;
    if (s->unit && strcmp(s->unit, "kWh") == 0) x *= 1000.0;
    *wh = x;
    return true;
}

void alerts_on_meter(alerts_t *a, const csms_meter_event_t *m)
{
    if (!a->cfg.enabled) return;
    watch_station_t *st = alerts_watch_station(a, m->station_id, true);
    if (!st) return;
    heard(a, st);
    if (!m->session_id) return;
    watch_conn_t *k = alerts_watch_conn(st, m->evse_id, m->connector_id, false);
    if (!k || k->session_id != m->session_id) return;
    k->last_meter_ms = alerts_now(a);
    if (open_here(st, k, ALERT_SESSION_STUCK)) clear_at(a, ALERT_SESSION_STUCK, st, k);
    if (k->charging && !timewheel_pending(&k->stuck_te)) arm_stuck(a, k);
    if (!rule_on(a, ALERT_METER_BACKWARDS) && !rule_on(a, ALERT_METER_JUMP)) return;
    for (size_t i = 0; i < m->n; i++) {
        double wh;
        if (register_of(&m->samples[i], &wh)) check_register(a, k, wh, m->samples[i].timestamp);
    }
}

/* --------------------------------------------------------- transactions */

static void on_tx_started(alerts_t *a, watch_station_t *st, const json_t *d)
{
    heard(a, st);
    watch_conn_t *k =
        alerts_watch_conn(st, jint(d, "evse_id", 0), jint(d, "connector_id", 0), true);
    k->session_id = jint64(d, "session_id", 0);
    k->last_meter_ms = 0;
    int64_t start = jint64(d, "meter_start_wh", -1), at = 0;
    const char *ts = jstr(d, "started_at");
    k->has_register = start >= 0 && ts && time_parse_rfc3339(ts, &at);
    k->register_wh = (double)start;
    k->register_at = at;
    if (k->charging) { /* 1.6 stations may report Charging before the start */
        k->charging_since = alerts_now(a);
        arm_stuck(a, k);
    }
}

static void failed_start(alerts_t *a, watch_conn_t *k, const json_t *d, int64_t energy)
{
    k->failed_in_a_row++;
    if (!rule_on(a, ALERT_FAILED_STARTS) || k->failed_in_a_row < a->cfg.failed_starts) return;
    char where[48], title[128];
    place(where, sizeof where, k->evse_id, k->connector_id);
    snprintf(title, sizeof title, "%s: %d sessions in a row failed to deliver energy", where,
             k->failed_in_a_row);
    const char *reason = jstr(d, "stop_reason");
    json_t *det = json_pack("{s:i,s:I,s:o,s:o}", "failed_in_a_row", k->failed_in_a_row,
                            "last_session_id", (json_int_t)jint64(d, "session_id", 0),
                            "last_stop_reason", reason ? json_string(reason) : json_null(),
                            "last_energy_wh", energy >= 0 ? json_integer(energy) : json_null());
    raise_at(a, ALERT_FAILED_STARTS, a->cfg.severity[ALERT_FAILED_STARTS], k->st, k, true, det,
             title);
}

static void on_tx_ended(alerts_t *a, watch_station_t *st, const json_t *d)
{
    heard(a, st);
    watch_conn_t *k =
        alerts_watch_conn(st, jint(d, "evse_id", 0), jint(d, "connector_id", 0), true);
    int64_t session = jint64(d, "session_id", 0);
    if (k->session_id == session && k->has_register) {
        int64_t stop = jint64(d, "meter_stop_wh", -1), at = 0;
        const char *ts = jstr(d, "stopped_at");
        if (stop >= 0 && ts && time_parse_rfc3339(ts, &at)) check_register(a, k, (double)stop, at);
    }
    if (k->session_id == session) {
        set_charging(a, k, false);
        k->session_id = 0;
        k->has_register = false;
    }
    json_t *e = json_object_get(d, "energy_wh");
    int64_t energy = json_is_integer(e) ? (int64_t)json_integer_value(e) : -1;
    /* energy unknown (no meter start): a deauthorized session never really started */
    bool failed = (energy >= 0 && energy < a->cfg.failed_start_wh) ||
                  (energy < 0 && is(jstr(d, "stop_reason"), "DeAuthorized"));
    if (failed) {
        failed_start(a, k, d, energy);
    } else if (energy >= 0) {
        k->failed_in_a_row = 0;
        clear_at(a, ALERT_FAILED_STARTS, st, k);
    }
}

/* 2.0.1: the charging state travels with transaction events. */
static void on_tx_event(alerts_t *a, watch_station_t *st, const json_t *d)
{
    heard(a, st);
    const char *cs = jstr(d, "charging_state");
    if (!cs) return;
    watch_conn_t *k =
        alerts_watch_conn(st, jint(d, "evse_id", 0), jint(d, "connector_id", 0), true);
    if (k->session_id != jint64(d, "session_id", 0)) return;
    set_charging(a, k, strcmp(cs, "Charging") == 0);
}

void alerts_seed_session(alerts_t *a, const char *station_id, int evse_id, int connector_id,
                         int64_t session_id, int64_t register_wh, int64_t register_at,
                         bool charging)
{
    watch_station_t *st = alerts_watch_station(a, station_id, true);
    if (!st) return;
    watch_conn_t *k = alerts_watch_conn(st, evse_id, connector_id, true);
    k->session_id = session_id;
    k->has_register = register_wh >= 0 && register_at > 0;
    k->register_wh = (double)register_wh;
    k->register_at = register_at;
    k->last_meter_ms = 0;
    if (charging || k->charging) {
        k->charging = true;
        k->charging_since = alerts_now(a);
        arm_stuck(a, k);
    }
}

/* ------------------------------------------- connector status rules */

static void unavailable_cb(timewheel_entry_t *e)
{
    watch_conn_t *k = CONN_OF(e, unavailable_te);
    alerts_t *a = k->st->a;
    if (!rule_on(a, ALERT_CONNECTOR_UNAVAILABLE) || strcmp(k->status, "Unavailable") != 0) return;
    int64_t due = k->unavailable_since + a->cfg.unavailable_after * 1000LL;
    if (alerts_now(a) < due) {
        arm(a, &k->unavailable_te, due, unavailable_cb);
        return;
    }
    char where[48], title[128];
    place(where, sizeof where, k->evse_id, k->connector_id);
    snprintf(title, sizeof title, "%s unavailable for more than %d min", where,
             (a->cfg.unavailable_after + 59) / 60);
    json_t *d = json_pack("{s:o,s:i}", "unavailable_since", time_json(k->unavailable_since),
                          "unavailable_after", a->cfg.unavailable_after);
    raise_at(a, ALERT_CONNECTOR_UNAVAILABLE, a->cfg.severity[ALERT_CONNECTOR_UNAVAILABLE], k->st, k,
             false, d, title);
}

static void became_unavailable(alerts_t *a, watch_conn_t *k, int64_t since)
{
    k->unavailable_since = since;
    if (rule_on(a, ALERT_CONNECTOR_UNAVAILABLE))
        arm(a, &k->unavailable_te, since + a->cfg.unavailable_after * 1000LL, unavailable_cb);
}

static void faulted(alerts_t *a, watch_conn_t *k, const json_t *d)
{
    const char *code = jstr(d, "error_code"), *vendor = jstr(d, "vendor_error_code");
    char where[48], title[160];
    place(where, sizeof where, k->evse_id, k->connector_id);
    if (code && strcmp(code, "NoError") != 0)
        snprintf(title, sizeof title, "%s faulted: %s%s%s", where, code, vendor ? " / " : "",
                 vendor ? vendor : "");
    else if (vendor)
        snprintf(title, sizeof title, "%s faulted: %s", where, vendor);
    else
        snprintf(title, sizeof title, "%s faulted", where);
    json_t *det = json_object();
    static const char *const keys[] = {"error_code", "vendor_error_code", "info", NULL};
    for (const char *const *key = keys; *key; key++)
        json_object_set_new(det, *key, jstr(d, *key) ? json_string(jstr(d, *key)) : json_null());
    raise_at(a, ALERT_CONNECTOR_FAULTED, a->cfg.severity[ALERT_CONNECTOR_FAULTED], k->st, k, true,
             det, title);
}

static void on_status(alerts_t *a, watch_station_t *st, const json_t *d)
{
    heard(a, st);
    const char *status = jstr(d, "status");
    if (!status || json_is_false(json_object_get(d, "current"))) return; /* history only */
    watch_conn_t *k =
        alerts_watch_conn(st, jint(d, "evse_id", 0), jint(d, "connector_id", 0), true);
    bool was_unavailable = strcmp(k->status, "Unavailable") == 0;
    snprintf(k->status, sizeof k->status, "%s", status);
    if (strcmp(status, "Faulted") == 0) {
        if (rule_on(a, ALERT_CONNECTOR_FAULTED)) faulted(a, k, d);
    } else {
        clear_at(a, ALERT_CONNECTOR_FAULTED, st, k);
    }
    if (strcmp(status, "Unavailable") == 0) {
        if (!was_unavailable) became_unavailable(a, k, alerts_now(a));
    } else {
        timewheel_remove(&a->wheel, &k->unavailable_te);
        clear_at(a, ALERT_CONNECTOR_UNAVAILABLE, st, k);
    }
    /* 1.6 says Charging in the status; 2.0.1 says Occupied and puts the
     * charging state in its transaction events instead */
    if (strcmp(status, "Occupied") != 0) set_charging(a, k, strcmp(status, "Charging") == 0);
}

void alerts_seed_connector(alerts_t *a, const char *station_id, int evse_id, int connector_id,
                           const char *status, int64_t since_ms)
{
    watch_station_t *st = alerts_watch_station(a, station_id, true);
    if (!st || !status) return;
    watch_conn_t *k = alerts_watch_conn(st, evse_id, connector_id, true);
    snprintf(k->status, sizeof k->status, "%s", status);
    int64_t now = alerts_now(a);
    if (strcmp(status, "Unavailable") == 0)
        became_unavailable(a, k, since_ms > 0 && since_ms < now ? since_ms : now);
    k->charging = strcmp(status, "Charging") == 0;
}

/* ------------------------------------------- security and firmware */

/* Severity of a security event type (the OCPP security whitepaper's
 * critical events and attacks rank above the configured floor). */
static alert_severity_t security_severity(const alerts_t *a, const char *type)
{
    static const char *const major[] = {"SecurityLogWasCleared",
                                        "MemoryExhaustion",
                                        "AttemptedReplayAttacks",
                                        "InvalidFirmwareSignature",
                                        "InvalidFirmwareSigningCertificate",
                                        "InvalidCsmsCertificate",
                                        "InvalidCentralSystemCertificate",
                                        "InvalidChargingStationCertificate",
                                        "InvalidChargePointCertificate",
                                        "InvalidTLSVersion",
                                        "InvalidTLSCipherSuite",
                                        "FailedToAuthenticateAtCsms",
                                        "FailedToAuthenticateAtCentralSystem",
                                        "CsmsFailedToAuthenticate",
                                        "CentralSystemFailedToAuthenticate",
                                        "RepeatedFailedLogins",
                                        NULL};
    alert_severity_t floor = a->cfg.severity[ALERT_SECURITY_EVENT], s = floor;
    if (strcmp(type, "TamperDetectionActivated") == 0) s = ALERT_CRITICAL;
    for (const char *const *m = major; *m; m++)
        if (strcmp(type, *m) == 0) s = ALERT_MAJOR;
    return s < floor ? s : floor;
}

static void security_event(alerts_t *a, watch_station_t *st, const json_t *detail)
{
    const char *type = jstr(detail, "type");
    if (!rule_on(a, ALERT_SECURITY_EVENT) || !type || alerts_config_ignores(&a->cfg, type)) return;
    char title[128];
    snprintf(title, sizeof title, "Security event: %.80s", type);
    const char *info = jstr(detail, "techInfo"), *ts = jstr(detail, "timestamp");
    json_t *d = json_pack("{s:s,s:o,s:o}", "type", type, "tech_info",
                          info ? json_string(info) : json_null(), "timestamp",
                          ts ? json_string(ts) : json_null());
    raise_at(a, ALERT_SECURITY_EVENT, security_severity(a, type), st, NULL, true, d, title);
}

/* Failed logins with a known station's id until it was locked out: someone
 * has the wrong password, or is guessing. Raised as a security event. */
static void on_auth_failed(alerts_t *a, watch_station_t *st, const json_t *d)
{
    if (!rule_on(a, ALERT_SECURITY_EVENT) || alerts_config_ignores(&a->cfg, "RepeatedFailedLogins"))
        return;
    const char *peer = jstr(d, "peer");
    json_int_t n = json_integer_value(json_object_get(d, "failures"));
    char title[128];
    snprintf(title, sizeof title, "Repeated failed logins (%lld) from %.60s", (long long)n,
             peer && *peer ? peer : "an unknown address");
    json_t *detail = json_pack("{s:s,s:s,s:I,s:I}", "type", "RepeatedFailedLogins", "peer",
                               peer ? peer : "", "failures", n, "window_seconds",
                               json_integer_value(json_object_get(d, "window_seconds")));
    raise_at(a, ALERT_SECURITY_EVENT, security_severity(a, "RepeatedFailedLogins"), st, NULL, true,
             detail, title);
}

static void firmware_status(alerts_t *a, watch_station_t *st, const json_t *detail)
{
    static const char *const failures[] = {"DownloadFailed", "InstallationFailed",
                                           "InstallVerificationFailed", "InvalidSignature", NULL};
    const char *status = jstr(detail, "status");
    if (!status) return;
    if (strcmp(status, "Installed") == 0) {
        clear_at(a, ALERT_FIRMWARE_FAILED, st, NULL);
        return;
    }
    for (const char *const *f = failures; *f; f++) {
        if (strcmp(status, *f) != 0 || !rule_on(a, ALERT_FIRMWARE_FAILED)) continue;
        char title[96];
        snprintf(title, sizeof title, "Firmware update failed: %s", status);
        raise_at(a, ALERT_FIRMWARE_FAILED, a->cfg.severity[ALERT_FIRMWARE_FAILED], st, NULL, true,
                 json_pack("{s:s}", "status", status), title);
    }
}

static void on_notification(alerts_t *a, watch_station_t *st, const json_t *d)
{
    heard(a, st);
    const char *kind = jstr(d, "kind");
    const json_t *detail = json_object_get(d, "detail");
    if (is(kind, "security_event"))
        security_event(a, st, detail);
    else if (is(kind, "firmware_status"))
        firmware_status(a, st, detail);
}

static void on_heard(alerts_t *a, watch_station_t *st, const json_t *d)
{
    heard(a, st);
}

/* A command's outcome: an answer (or a CALLERROR) is the station talking.
 * An accepted SetChargingProfile is the recovery profiles_refused waits for:
 * load management (src/smart/engine.c) unflags the station on the same
 * answer but announces nothing, so the answer itself is the signal. */
static void on_command_result(alerts_t *a, watch_station_t *st, const json_t *d)
{
    const char *outcome = jstr(d, "outcome");
    if (is(outcome, "Answered") || is(outcome, "CallError")) heard(a, st);
    if (is(outcome, "Answered") && is(jstr(d, "action"), "SetChargingProfile") &&
        is(jstr(json_object_get(d, "response"), "status"), "Accepted"))
        clear_at(a, ALERT_PROFILES_REFUSED, st, NULL);
}

/* ------------------------------------------------- load management */

/* smart.station_flagged: {station_id, site, reason}, sent once when a station
 * starts refusing (the engine stays quiet while it keeps refusing). */
static void on_station_flagged(alerts_t *a, watch_station_t *st, const json_t *d)
{
    if (!rule_on(a, ALERT_PROFILES_REFUSED)) return;
    const char *reason = jstr(d, "reason"), *site = jstr(d, "site");
    char title[160];
    snprintf(title, sizeof title, "Load management: station refuses charging profiles (%.100s)",
             reason ? reason : "refused");
    json_t *det = json_pack("{s:o,s:o}", "site", site ? json_string(site) : json_null(), "reason",
                            reason ? json_string(reason) : json_null());
    raise_at(a, ALERT_PROFILES_REFUSED, a->cfg.severity[ALERT_PROFILES_REFUSED], st, NULL, true,
             det, title);
}

/* ------------------------------------------------ firmware campaigns */

/* campaign.paused: {id, name, reason, failures, attempts}, emitted only when
 * a campaign pauses itself at its failure threshold (an operator's pause is
 * a campaign.updated alone). */
static void on_campaign_paused(alerts_t *a, const json_t *d)
{
    int64_t id = jint64(d, "id", 0);
    if (!rule_on(a, ALERT_CAMPAIGN_PAUSED) || id <= 0) return;
    const char *name = jstr(d, "name"), *reason = jstr(d, "reason");
    char title[160];
    snprintf(title, sizeof title, "Firmware campaign %lld (%.80s) paused itself", (long long)id,
             name ? name : "");
    json_t *det = json_pack("{s:I,s:o,s:o,s:I,s:I}", "campaign_id", (json_int_t)id, "name",
                            name ? json_string(name) : json_null(), "reason",
                            reason ? json_string(reason) : json_null(), "failures",
                            (json_int_t)jint64(d, "failures", 0), "attempts",
                            (json_int_t)jint64(d, "attempts", 0));
    alert_spec_t sp = {.rule = ALERT_CAMPAIGN_PAUSED,
                       .severity = a->cfg.severity[ALERT_CAMPAIGN_PAUSED],
                       .station_id = "",
                       .evse_id = -1,
                       .connector_id = -1,
                       .subject_id = id,
                       .title = title,
                       .details = det,
                       .bump = true};
    alerts_raise(a, &sp);
}

/* campaign.updated: {id, state, ...}; running again (resumed), completed or
 * cancelled ends the pause. */
static void on_campaign_updated(alerts_t *a, const json_t *d)
{
    const char *state = jstr(d, "state");
    if (is(state, "running") || is(state, "completed") || is(state, "cancelled"))
        alerts_clear_subject(a, ALERT_CAMPAIGN_PAUSED, jint64(d, "id", 0));
}

/* ------------------------------------------------------------- dispatch */

typedef void (*rule_fn)(alerts_t *a, watch_station_t *st, const json_t *d);

static const struct {
    const char *type;
    rule_fn fn;
} handlers[] = {
    {"connector.status", on_status},
    {"transaction.event", on_tx_event},
    {"transaction.started", on_tx_started},
    {"transaction.ended", on_tx_ended},
    {"station.notification", on_notification},
    {"station.boot", on_boot},
    {"station.connected", on_connected},
    {"station.disconnected", on_disconnected},
    {"station.report_part", on_heard},
    {"station.report_complete", on_heard},
    {"command.result", on_command_result},
    {"station.auth_failed", on_auth_failed},
    {"smart.station_flagged", on_station_flagged},
};

void alerts_on_event(alerts_t *a, const char *type, const json_t *data)
{
    if (!a->cfg.enabled || strncmp(type, "alert.", 6) == 0) return;
    if (strcmp(type, "campaign.paused") == 0) {
        on_campaign_paused(a, data);
        return;
    }
    if (strcmp(type, "campaign.updated") == 0) {
        on_campaign_updated(a, data);
        return;
    }
    const char *id = jstr(data, "station_id");
    if (!id) return;
    if (strcmp(type, "station.deleted") == 0) {
        alerts_clear_station(a, id);
        watch_station_t *st = alerts_watch_station(a, id, false);
        if (st) alerts_watch_free(a, st);
        return;
    }
    for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++) {
        if (strcmp(type, handlers[i].type) != 0) continue;
        /* an answer to a command does not make a station worth watching */
        watch_station_t *st = alerts_watch_station(a, id, handlers[i].fn != on_command_result);
        if (st) handlers[i].fn(a, st, data);
        return;
    }
}

void alerts_tick(alerts_t *a)
{
    timewheel_advance(&a->wheel, alerts_now_s(a));
}
