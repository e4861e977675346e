/*
 * Alerts and their life cycle: raising with de-duplication, automatic and
 * manual resolution, acknowledgement, the open-alert counts, restoring open
 * alerts at start, and the JSON view the API and the event stream share. The
 * rules that decide when to raise and clear live in alerts_rules.c.
 *
 * Only open alerts are held in memory (two hash indexes: by rule, station and
 * connector for de-duplication, by id for operators); a resolved alert goes
 * out through the changed hook and is freed. Each station and connector that
 * has an open alert carries a bit per rule, so the rules can ask "is one
 * open here?" without building a key on every message.
 */
#include "service/alerts_internal.h"

#include "util/alloc.h"
#include "util/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_names[] = {"active", "acknowledged", "resolved"};

const char *alerts_state_name(alert_state_t s)
{
    return s <= ALERT_RESOLVED ? state_names[s] : "unknown";
}

int alerts_state_parse(const char *s)
{
    for (int i = 0; s && i <= ALERT_RESOLVED; i++)
        if (strcmp(s, state_names[i]) == 0) return i;
    return -1;
}

int64_t alerts_now(alerts_t *a)
{
    return a->hooks.now_ms(a->hooks.ud);
}

uint64_t alerts_now_s(alerts_t *a)
{
    int64_t ms = alerts_now(a);
    return ms > 0 ? (uint64_t)(ms / 1000) : 0;
}

alerts_t *alerts_create(const alerts_config_t *cfg, int heartbeat_interval,
                        const alerts_hooks_t *hooks)
{
    alerts_t *a = xcalloc(1, sizeof *a);
    a->cfg = *cfg;
    a->heartbeat_interval = heartbeat_interval > 0 ? heartbeat_interval : 300;
    a->hooks = *hooks;
    a->next_id = 1;
    timewheel_init(&a->wheel, alerts_now_s(a));
    return a;
}

static void node_free(alert_node_t *n)
{
    free(n->al.title);
    json_decref(n->al.details);
    free(n->al.acknowledged_by);
    free(n->al.ack_note);
    free(n->al.resolved_by);
    free(n->al.resolve_note);
    free(n);
}

void alerts_destroy(alerts_t *a)
{
    if (!a) return;
    while (a->stations)
        alerts_watch_free(a, a->stations);
    while (a->by_id) {
        alert_node_t *n = a->by_id;
        // NOLINTNEXTLINE(clang-analyzer-unix.Malloc): uthash unlinks before node_free
        HASH_DELETE(hh_id, a->by_id, n);
        HASH_DELETE(hh, a->by_key, n);
        node_free(n);
    }
    free(a);
}

const alerts_config_t *alerts_config(const alerts_t *a)
{
    return &a->cfg;
}

/* ------------------------------------------------------------- indexes */

/* Station-wide alerts have evse and connector -1. */
static void normalise(int *evse_id, int *connector_id)
{
    if (*evse_id < 1) {
        *evse_id = -1;
        *connector_id = -1;
    }
}

static void make_key(char *out, size_t len, alert_rule_t rule, const char *station, int evse,
                     int conn, int64_t subject)
{
    snprintf(out, len, "%d\x1f%s\x1f%d\x1f%d\x1f%lld", (int)rule, station, evse, conn,
             (long long)subject);
}

static alert_node_t *find_key(const alerts_t *a, alert_rule_t rule, const char *station, int evse,
                              int conn, int64_t subject)
{
    char key[160];
    make_key(key, sizeof key, rule, station, evse, conn, subject);
    alert_node_t *n = NULL;
    HASH_FIND(hh, a->by_key, key, strlen(key), n);
    return n;
}

/* The open-rule bits of the place an alert is about. */
static unsigned *open_bits(alerts_t *a, const alert_t *al)
{
    watch_station_t *st = alerts_watch_station(a, al->station_id, true);
    if (al->evse_id < 1) return &st->open;
    return &alerts_watch_conn(st, al->evse_id, al->connector_id, true)->open;
}

static void index_add(alerts_t *a, alert_node_t *n)
{
    make_key(n->key, sizeof n->key, n->al.rule, n->al.station_id, n->al.evse_id, n->al.connector_id,
             n->al.subject_id);
    HASH_ADD(hh, a->by_key, key, strlen(n->key), n);
    HASH_ADD(hh_id, a->by_id, al.id, sizeof n->al.id, n);
    *open_bits(a, &n->al) |= ALERT_BIT(n->al.rule);
    a->open_count[n->al.state == ALERT_ACKNOWLEDGED][n->al.severity]++;
}

static void index_remove(alerts_t *a, alert_node_t *n)
{
    HASH_DELETE(hh, a->by_key, n);
    HASH_DELETE(hh_id, a->by_id, n);
    watch_station_t *st = alerts_watch_station(a, n->al.station_id, false);
    if (st) {
        watch_conn_t *k = n->al.evse_id < 1
                              ? NULL
                              : alerts_watch_conn(st, n->al.evse_id, n->al.connector_id, false);
        unsigned *bits = n->al.evse_id < 1 ? &st->open : k ? &k->open : NULL;
        if (bits) *bits &= ~ALERT_BIT(n->al.rule);
    }
    a->open_count[n->al.state == ALERT_ACKNOWLEDGED][n->al.severity]--;
}

static void announce(alerts_t *a, const char *type, const alert_t *al, alerts_done_cb done,
                     void *ctx)
{
    if (a->hooks.changed) {
        a->hooks.changed(a->hooks.ud, type, al, done, ctx);
    } else if (done) {
        json_t *j = alerts_json(al);
        done(ctx, true, j);
        json_decref(j);
    }
}

/* ----------------------------------------------------------- life cycle */

static void set_severity(alerts_t *a, alert_node_t *n, alert_severity_t s)
{
    bool acked = n->al.state == ALERT_ACKNOWLEDGED;
    a->open_count[acked][n->al.severity]--;
    n->al.severity = s;
    a->open_count[acked][s]++;
}

alert_t *alerts_raise(alerts_t *a, const alert_spec_t *sp)
{
    int evse = sp->evse_id, conn = sp->connector_id;
    normalise(&evse, &conn);
    int64_t now = alerts_now(a);
    alert_node_t *n = find_key(a, sp->rule, sp->station_id, evse, conn, sp->subject_id);
    if (n) {
        if (!sp->bump) {
            json_decref(sp->details);
            return &n->al;
        }
        n->al.count++;
        n->al.last_seen = now;
        free(n->al.title);
        n->al.title = xstrdup(sp->title);
        json_decref(n->al.details);
        n->al.details = sp->details;
        if (sp->severity < n->al.severity) set_severity(a, n, sp->severity); /* worse */
        announce(a, "alert.updated", &n->al, NULL, NULL);
        return &n->al;
    }
    n = xcalloc(1, sizeof *n);
    n->al.id = a->next_id++;
    n->al.rule = sp->rule;
    n->al.severity = sp->severity;
    snprintf(n->al.station_id, sizeof n->al.station_id, "%s", sp->station_id);
    n->al.evse_id = evse;
    n->al.connector_id = conn;
    n->al.subject_id = sp->subject_id;
    n->al.title = xstrdup(sp->title);
    n->al.details = sp->details ? sp->details : json_object();
    n->al.state = ALERT_ACTIVE;
    n->al.first_seen = n->al.last_seen = now;
    n->al.count = 1;
    index_add(a, n);
    announce(a, "alert.raised", &n->al, NULL, NULL);
    return &n->al;
}

static void resolve_node(alerts_t *a, alert_node_t *n, const char *by, const char *note,
                         alerts_done_cb done, void *ctx)
{
    index_remove(a, n);
    n->al.state = ALERT_RESOLVED;
    n->al.resolved_at = alerts_now(a);
    n->al.resolved_by = xstrdup(by);
    n->al.resolve_note = xstrdup_opt(note);
    announce(a, "alert.resolved", &n->al, done, ctx);
    node_free(n);
}

bool alerts_clear(alerts_t *a, alert_rule_t rule, const char *station_id, int evse_id,
                  int connector_id)
{
    normalise(&evse_id, &connector_id);
    alert_node_t *n = find_key(a, rule, station_id, evse_id, connector_id, 0);
    if (!n) return false;
    resolve_node(a, n, "auto", NULL, NULL, NULL);
    return true;
}

bool alerts_clear_subject(alerts_t *a, alert_rule_t rule, int64_t subject_id)
{
    alert_node_t *n = find_key(a, rule, "", -1, -1, subject_id);
    if (!n) return false;
    resolve_node(a, n, "auto", NULL, NULL, NULL);
    return true;
}

void alerts_report(alerts_t *a, alert_rule_t rule, const char *station_id, const char *title,
                   json_t *details)
{
    if (!a->cfg.enabled || !a->cfg.rule_on[rule]) {
        json_decref(details);
        return;
    }
    alert_spec_t sp = {.rule = rule,
                       .severity = a->cfg.severity[rule],
                       .station_id = station_id ? station_id : "",
                       .evse_id = -1,
                       .connector_id = -1,
                       .title = title,
                       .details = details,
                       .bump = true};
    alerts_raise(a, &sp);
}

void alerts_withdraw(alerts_t *a, alert_rule_t rule, const char *station_id)
{
    alerts_clear(a, rule, station_id ? station_id : "", -1, -1);
}

void alerts_clear_station(alerts_t *a, const char *station_id)
{
    alert_node_t *n, *tmp;
    HASH_ITER(hh_id, a->by_id, n, tmp)
    {
        if (strcmp(n->al.station_id, station_id) == 0)
            resolve_node(a, n, "auto", "the station was deleted", NULL, NULL);
    }
}

static alert_node_t *find_id(const alerts_t *a, int64_t id)
{
    alert_node_t *n = NULL;
    HASH_FIND(hh_id, a->by_id, &id, sizeof id, n);
    return n;
}

const alert_t *alerts_find(const alerts_t *a, int64_t id)
{
    alert_node_t *n = find_id(a, id);
    return n ? &n->al : NULL;
}

alerts_err_t alerts_acknowledge(alerts_t *a, int64_t id, const char *by, const char *note,
                                alerts_done_cb done, void *ctx)
{
    alert_node_t *n = find_id(a, id);
    if (!n) return ALERTS_ERR_NOT_OPEN;
    if (n->al.state == ALERT_ACKNOWLEDGED) return ALERTS_ERR_ACKED;
    a->open_count[0][n->al.severity]--;
    a->open_count[1][n->al.severity]++;
    n->al.state = ALERT_ACKNOWLEDGED;
    n->al.acknowledged_at = alerts_now(a);
    n->al.acknowledged_by = xstrdup(by);
    n->al.ack_note = xstrdup_opt(note);
    announce(a, "alert.acknowledged", &n->al, done, ctx);
    return ALERTS_OK;
}

alerts_err_t alerts_resolve(alerts_t *a, int64_t id, const char *by, const char *note,
                            alerts_done_cb done, void *ctx)
{
    alert_node_t *n = find_id(a, id);
    if (!n) return ALERTS_ERR_NOT_OPEN;
    resolve_node(a, n, by, note, done, ctx);
    return ALERTS_OK;
}

unsigned alerts_open_count(const alerts_t *a, alert_state_t state, alert_severity_t s)
{
    if (state > ALERT_ACKNOWLEDGED || s >= ALERT_SEVERITY_COUNT_) return 0;
    return a->open_count[state == ALERT_ACKNOWLEDGED][s];
}

void alerts_set_next_id(alerts_t *a, int64_t next_id)
{
    if (next_id > a->next_id) a->next_id = next_id;
}

static const char *row_str(const json_t *row, const char *key)
{
    return json_string_value(json_object_get(row, key));
}

static int64_t row_int(const json_t *row, const char *key)
{
    return json_integer_value(json_object_get(row, key));
}

void alerts_restore(alerts_t *a, const json_t *row)
{
    int rule = alerts_rule_parse(row_str(row, "rule"));
    int sev = alerts_severity_parse(row_str(row, "severity"));
    int state = alerts_state_parse(row_str(row, "state"));
    const char *station = row_str(row, "station_id");
    int64_t id = row_int(row, "id");
    if (rule < 0 || sev < 0 || state < 0 || state == ALERT_RESOLVED || !station || id <= 0 ||
        strlen(station) >= sizeof((alert_t *)0)->station_id)
        return;
    int evse = json_is_integer(json_object_get(row, "evse_id")) ? (int)row_int(row, "evse_id") : -1;
    int conn = json_is_integer(json_object_get(row, "connector_id"))
                   ? (int)row_int(row, "connector_id")
                   : -1;
    normalise(&evse, &conn);
    const char *details = row_str(row, "details");
    json_t *dj = details ? json_loads(details, 0, NULL) : NULL;
    int64_t subject = rule == ALERT_CAMPAIGN_PAUSED
                          ? (int64_t)json_integer_value(json_object_get(dj, "campaign_id"))
                          : 0;
    if (find_key(a, (alert_rule_t)rule, station, evse, conn, subject) || find_id(a, id)) {
        json_decref(dj);
        return;
    }
    alert_node_t *n = xcalloc(1, sizeof *n);
    n->al.id = id;
    n->al.rule = (alert_rule_t)rule;
    n->al.severity = (alert_severity_t)sev;
    snprintf(n->al.station_id, sizeof n->al.station_id, "%s", station);
    n->al.evse_id = evse;
    n->al.connector_id = conn;
    n->al.subject_id = subject;
    n->al.title = xstrdup(row_str(row, "title") ? row_str(row, "title") : "");
    n->al.details = dj;
    if (!json_is_object(n->al.details)) {
        json_decref(n->al.details);
        n->al.details = json_object();
    }
    n->al.state = (alert_state_t)state;
    n->al.first_seen = row_int(row, "first_seen");
    n->al.last_seen = row_int(row, "last_seen");
    n->al.count = row_int(row, "count");
    n->al.acknowledged_by = xstrdup_opt(row_str(row, "acknowledged_by"));
    n->al.ack_note = xstrdup_opt(row_str(row, "ack_note"));
    n->al.acknowledged_at = row_int(row, "acknowledged_at");
    index_add(a, n);
    if (id >= a->next_id) a->next_id = id + 1;
}

/* ----------------------------------------------------------------- JSON */

static json_t *time_or_null(int64_t ms)
{
    char buf[TIME_RFC3339_LEN];
    return ms ? json_string(time_format_rfc3339(ms, buf)) : json_null();
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *alerts_json(const alert_t *al)
{
    json_t *conn = al->evse_id < 1 ? json_null()
                                   : json_pack("{s:i,s:i}", "evse_id", al->evse_id, "connector_id",
                                               al->connector_id);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(al->id));
    json_object_set_new(o, "rule", json_string(alerts_rule_name(al->rule)));
    json_object_set_new(o, "severity", json_string(alerts_severity_name(al->severity)));
    /* "": not about a station (parts_low_stock) */
    json_object_set_new(o, "station_id",
                        al->station_id[0] ? json_string(al->station_id) : json_null());
    json_object_set_new(o, "connector", conn);
    json_object_set_new(o, "title", json_string(al->title ? al->title : ""));
    json_object_set_new(o, "details", al->details ? json_deep_copy(al->details) : json_object());
    json_object_set_new(o, "state", json_string(alerts_state_name(al->state)));
    json_object_set_new(o, "first_seen", time_or_null(al->first_seen));
    json_object_set_new(o, "last_seen", time_or_null(al->last_seen));
    json_object_set_new(o, "count", json_integer(al->count));
    json_object_set_new(o, "acknowledged_by", str_or_null(al->acknowledged_by));
    json_object_set_new(o, "acknowledged_at", time_or_null(al->acknowledged_at));
    json_object_set_new(o, "ack_note", str_or_null(al->ack_note));
    json_object_set_new(o, "resolved_by", str_or_null(al->resolved_by));
    json_object_set_new(o, "resolved_at", time_or_null(al->resolved_at));
    json_object_set_new(o, "resolve_note", str_or_null(al->resolve_note));
    return o;
}

json_t *alerts_row_json(const json_t *row)
{
    alert_t al = {0};
    int rule = alerts_rule_parse(row_str(row, "rule"));
    int sev = alerts_severity_parse(row_str(row, "severity"));
    int state = alerts_state_parse(row_str(row, "state"));
    al.id = row_int(row, "id");
    al.rule = rule < 0 ? ALERT_RULE_COUNT_ : (alert_rule_t)rule;
    al.severity = sev < 0 ? ALERT_SEVERITY_COUNT_ : (alert_severity_t)sev;
    al.state = state < 0 ? ALERT_ACTIVE : (alert_state_t)state;
    snprintf(al.station_id, sizeof al.station_id, "%s",
             row_str(row, "station_id") ? row_str(row, "station_id") : "");
    al.evse_id =
        json_is_integer(json_object_get(row, "evse_id")) ? (int)row_int(row, "evse_id") : -1;
    al.connector_id = (int)row_int(row, "connector_id");
    al.title = (char *)row_str(row, "title");
    const char *details = row_str(row, "details");
    al.details = details ? json_loads(details, 0, NULL) : NULL;
    al.first_seen = row_int(row, "first_seen");
    al.last_seen = row_int(row, "last_seen");
    al.count = row_int(row, "count");
    al.acknowledged_by = (char *)row_str(row, "acknowledged_by");
    al.acknowledged_at = row_int(row, "acknowledged_at");
    al.ack_note = (char *)row_str(row, "ack_note");
    al.resolved_by = (char *)row_str(row, "resolved_by");
    al.resolved_at = row_int(row, "resolved_at");
    al.resolve_note = (char *)row_str(row, "resolve_note");
    json_t *o = alerts_json(&al);
    json_decref(al.details);
    return o;
}

/* ----------------------------------------------------------- the rules */

static const char *const descriptions[ALERT_RULE_COUNT_] = {
    [ALERT_CONNECTOR_FAULTED] = "A connector reports Faulted (with its error code, vendor error "
                                "code and info); clears when it reports another status.",
    [ALERT_STATION_OFFLINE] = "The station has been disconnected for offline_after seconds, or "
                              "is connected but sent no heartbeat or message for "
                              "heartbeat_missed heartbeat intervals; clears when it is heard "
                              "from again.",
    [ALERT_REBOOT_LOOP] = "The station booted reboot_count times within reboot_window seconds; "
                          "clears after reboot_window seconds without a boot.",
    [ALERT_SESSION_STUCK] = "A session is charging but sent no meter values for stuck_intervals "
                            "x meter_interval seconds; clears when values resume or the session "
                            "stops charging.",
    [ALERT_METER_BACKWARDS] = "A session's energy register went down; resolved by hand.",
    [ALERT_METER_JUMP] = "A session's energy register rose faster than max_power_kw allows "
                         "(plus 1 kWh for register resolution); resolved by hand.",
    [ALERT_CONNECTOR_UNAVAILABLE] = "A connector has been Unavailable for unavailable_after "
                                    "seconds; clears when it reports another status.",
    [ALERT_FAILED_STARTS] =
        "failed_starts_count sessions in a row on one connector ended with "
        "less than failed_start_wh Wh delivered (or, with no meter start, were deauthorized); "
        "clears with the next session that delivers energy.",
    [ALERT_SECURITY_EVENT] = "The station sent a SecurityEventNotification of a type not in "
                             "security_ignore; resolved by hand.",
    [ALERT_FIRMWARE_FAILED] = "A firmware update failed (DownloadFailed, InstallationFailed, "
                              "InstallVerificationFailed, InvalidSignature); clears when "
                              "firmware is Installed.",
    [ALERT_PARTS_LOW_STOCK] = "A spare part's stock in a depot fell below its low-stock "
                              "threshold (details.items lists them all; no station); clears when "
                              "every one is restocked.",
    [ALERT_CAMPAIGN_PAUSED] = "A firmware campaign paused itself at its failure threshold (one "
                              "alert per campaign, details.campaign_id; no station); clears when "
                              "the campaign is resumed, completes or is cancelled.",
    [ALERT_PROFILES_REFUSED] = "Load management could not set a charging profile on the station "
                               "(rejected, CALLERROR or no answer), so it is held to its "
                               "failsafe; clears when the station accepts a SetChargingProfile "
                               "again.",
};

static json_t *thresholds_json(const alerts_t *a, alert_rule_t r)
{
    const alerts_config_t *c = &a->cfg;
    switch (r) {
    case ALERT_STATION_OFFLINE:
        return json_pack("{s:i,s:i,s:i}", "offline_after", c->offline_after, "heartbeat_missed",
                         c->heartbeat_missed, "heartbeat_interval", a->heartbeat_interval);
    case ALERT_REBOOT_LOOP:
        return json_pack("{s:i,s:i}", "reboot_count", c->reboot_count, "reboot_window",
                         c->reboot_window);
    case ALERT_SESSION_STUCK:
        return json_pack("{s:i,s:i}", "meter_interval", c->meter_interval, "stuck_intervals",
                         c->stuck_intervals);
    case ALERT_METER_JUMP:
        return json_pack("{s:i}", "max_power_kw", c->max_power_kw);
    case ALERT_CONNECTOR_UNAVAILABLE:
        return json_pack("{s:i}", "unavailable_after", c->unavailable_after);
    case ALERT_FAILED_STARTS:
        return json_pack("{s:i,s:i}", "failed_starts_count", c->failed_starts, "failed_start_wh",
                         c->failed_start_wh);
    case ALERT_SECURITY_EVENT:
        return json_pack("{s:s}", "security_ignore", c->security_ignore);
    default:
        return json_object();
    }
}

json_t *alerts_rules_json(const alerts_t *a)
{
    json_t *rules = json_array();
    for (int r = 0; r < ALERT_RULE_COUNT_; r++) {
        json_array_append_new(
            rules, json_pack("{s:s,s:b,s:s,s:s,s:o}", "rule", alerts_rule_name((alert_rule_t)r),
                             "enabled", a->cfg.enabled && a->cfg.rule_on[r], "severity",
                             alerts_severity_name(a->cfg.severity[r]), "description",
                             descriptions[r], "thresholds", thresholds_json(a, (alert_rule_t)r)));
    }
    return json_pack("{s:b,s:o}", "enabled", a->cfg.enabled, "rules", rules);
}
