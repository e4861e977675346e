/*
 * Grid signals per site (signals.h): the demand-response events and price
 * schedules in memory, their durable changes, and the one timer that marks
 * their starts and ends.
 *
 * Why one timer: the next moment anything changes (an event starts or ends,
 * a price period begins) is the minimum over a few dozen signals; it is
 * recomputed when a signal changes or the timer fires, never by polling. At
 * each firing every boundary passed since the last one is announced, so a
 * late wake-up (a busy loop, a suspended machine) loses no start or end.
 *
 * Events and schedules live in small arrays: a site rarely has more than a
 * handful, and scans over them are cheaper than any index would be.
 */
#include "smart/signals.h"

#include "csms/csms.h"
#include "smart/dr_events.h"
#include "smart/prices.h"
#include "store/store_signals.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/timefmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

/* Ended events stay in memory (and in the list) this long. */
#define KEEP_ENDED_S (7 * 86400)
/* The timer wakes at least this often, so a wall-clock jump is caught up. */
#define MAX_SLEEP_S 3600

typedef struct dr_state {
    bool started, ended; /* announced */
} dr_state_t;

struct smart_signals {
    smart_dr_t *dr;
    dr_state_t *st;
    size_t ndr, cap;
    smart_prices_t **prices;
    size_t nprices, pcap;
    uv_loop_t *loop;
    csms_t *csms;
    store_t *store;
    uv_timer_t timer;
    bool timer_on, stopped;
    int64_t last_tick; /* unix s: boundaries up to here are announced */
};

static int64_t now_s(void)
{
    int64_t ms = time_now_ms();
    return ms / 1000;
}

/* --------------------------------------------------------------- events */

/* Nothing is announced once stopping: changes still landing while the
 * store drains reach no listener that could act on them. */
static void emit_signal(smart_signals_t *s, const char *site, const char *reason)
{
    if (!s->csms || s->stopped) return;
    csms_emit(s->csms, "smart.signal",
              json_pack("{s:s,s:s}", "site", site[0] ? site : "*", "reason", reason));
}

static void emit_dr(smart_signals_t *s, const smart_dr_t *e, const char *type)
{
    if (!s->csms || s->stopped) return;
    csms_emit(s->csms, type, smart_dr_json(e, now_s()));
}

/* ---------------------------------------------------------------- reads */

double smart_signals_limit_w(const smart_signals_t *s, const char *site, int64_t t)
{
    return smart_dr_tightest_w(s->dr, s->ndr, site, t);
}

bool smart_signals_limit_a(const smart_signals_t *s, const char *site, int64_t t, double out[3])
{
    bool any = false;
    for (int i = 0; i < 3; i++)
        out[i] = -1;
    for (size_t k = 0; k < s->ndr; k++) {
        const smart_dr_t *e = &s->dr[k];
        if (!smart_dr_applies(e, site, t)) continue;
        for (int i = 0; i < 3; i++) {
            if (e->phase_a[i] < 0) continue;
            if (out[i] < 0 || e->phase_a[i] < out[i]) out[i] = e->phase_a[i];
            any = true;
        }
    }
    return any;
}

/* The schedule that counts for site ("" = default) at t: the most recently
 * changed one covering t. */
static const smart_prices_t *pick(const smart_signals_t *s, const char *site, int64_t t)
{
    const smart_prices_t *best = NULL;
    for (size_t i = 0; i < s->nprices; i++) {
        const smart_prices_t *p = s->prices[i];
        if (strcmp(p->site, site) != 0 || !smart_prices_covers(p, t)) continue;
        if (!best || p->updated_at > best->updated_at ||
            (p->updated_at == best->updated_at && p->id > best->id))
            best = p;
    }
    return best;
}

double smart_signals_price(const smart_signals_t *s, const char *site, int64_t t)
{
    const smart_prices_t *p = site && site[0] ? pick(s, site, t) : NULL;
    if (!p) p = pick(s, "", t);
    return p ? smart_prices_at(p, t) : NAN;
}

/* The next boundary > t of any signal that concerns site (NULL = any site);
 * with tou false, of those that are not a recurring time-of-use table. */
static int64_t next_boundary(const smart_signals_t *s, const char *site, int64_t t, bool tou)
{
    int64_t best = INT64_MAX;
    for (size_t i = 0; i < s->ndr; i++) {
        const smart_dr_t *e = &s->dr[i];
        if (site && strcmp(e->site, site) != 0) continue;
        if (e->start > t && e->start < best) best = e->start;
        if (e->end > t && e->end < best) best = e->end;
    }
    for (size_t i = 0; i < s->nprices; i++) {
        const smart_prices_t *p = s->prices[i];
        if ((site && p->site[0] && strcmp(p->site, site) != 0) || (p->tou && !tou)) continue;
        int64_t b = smart_prices_next_boundary(p, t);
        if (b < best) best = b;
    }
    return best;
}

static bool same(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

int64_t smart_signals_next_change(const smart_signals_t *s, const char *site, int64_t t)
{
    double lim = smart_signals_limit_w(s, site, t), price = smart_signals_price(s, site, t);
    double ph[3], ph2[3];
    smart_signals_limit_a(s, site, t, ph);
    int64_t at = t, since = t;
    /* boundaries where nothing changes (a looser overlapping event ends, two
     * periods at the same price) are skipped. Time-of-use tables repeat
     * weekly: a week of their boundaries without a change means none until
     * the next other boundary. */
    for (int guard = 0; guard < 100000; guard++) {
        if (at - since > 8 * 86400) {
            int64_t other = next_boundary(s, site, at, false);
            if (other == INT64_MAX) return INT64_MAX;
            at = other - 1;
            since = other;
        }
        at = next_boundary(s, site, at, true);
        if (at == INT64_MAX) return at;
        smart_signals_limit_a(s, site, at, ph2);
        if (!same(smart_signals_limit_w(s, site, at), lim) ||
            !same(smart_signals_price(s, site, at), price) || ph2[0] != ph[0] || ph2[1] != ph[1] ||
            ph2[2] != ph[2])
            return at;
    }
    return at;
}

/* ----------------------------------------------------------------- timer */

static void arm(smart_signals_t *s);

/* Announces every start and end up to now. */
static void tick(smart_signals_t *s)
{
    int64_t now = now_s();
    /* events long over leave memory (the store keeps them) */
    for (size_t i = s->ndr; i-- > 0;) {
        if (s->dr[i].end >= now - KEEP_ENDED_S || !s->st[i].ended) continue;
        s->dr[i] = s->dr[s->ndr - 1];
        s->st[i] = s->st[s->ndr - 1];
        s->ndr--;
    }
    for (size_t i = 0; i < s->ndr; i++) {
        smart_dr_t *e = &s->dr[i];
        dr_state_t *st = &s->st[i];
        if (!st->started && e->start <= now && now < e->end) {
            st->started = true;
            emit_dr(s, e, "demand_response.started");
            emit_signal(s, e->site, "started");
        }
        if (!st->ended && e->end <= now) {
            st->ended = true;
            if (st->started) {
                emit_dr(s, e, "demand_response.ended");
                emit_signal(s, e->site, "ended");
            }
            st->started = true;
        }
    }
    for (size_t i = 0; i < s->nprices; i++) {
        const smart_prices_t *p = s->prices[i];
        if (smart_prices_next_boundary(p, s->last_tick) <= now)
            emit_signal(s, p->site, smart_prices_covers(p, now) ? "started" : "ended");
    }
    s->last_tick = now;
}

static void timer_cb(uv_timer_t *t)
{
    smart_signals_t *s = t->data;
    tick(s);
    arm(s);
}

static void arm(smart_signals_t *s)
{
    if (!s->loop || s->stopped) return;
    int64_t now_ms = time_now_ms(), next = next_boundary(s, NULL, s->last_tick, true);
    int64_t cap = now_ms / 1000 + MAX_SLEEP_S;
    if (next > cap) next = cap;
    /* a few ms late rather than early: the wall clock must have reached it */
    int64_t delay = next * 1000 - now_ms + 5;
    if (delay < 0) delay = 0;
    uv_timer_start(&s->timer, timer_cb, (uint64_t)delay, 0);
}

/* A change: announce what it started or ended right away, then re-arm. */
static void changed(smart_signals_t *s)
{
    if (!s->loop || s->stopped) return;
    tick(s);
    arm(s);
}

/* ------------------------------------------------------------- in memory */

static ssize_t dr_index(const smart_signals_t *s, int64_t id)
{
    for (size_t i = 0; i < s->ndr; i++)
        if (s->dr[i].id == id) return (ssize_t)i;
    return -1;
}

static void dr_insert(smart_signals_t *s, const smart_dr_t *e, dr_state_t st)
{
    ssize_t i = dr_index(s, e->id);
    if (i < 0) {
        if (s->ndr == s->cap) {
            s->cap = s->cap ? s->cap * 2 : 16;
            s->dr = xrealloc(s->dr, s->cap * sizeof *s->dr);
            s->st = xrealloc(s->st, s->cap * sizeof *s->st);
        }
        i = (ssize_t)s->ndr++;
    }
    s->dr[i] = *e;
    s->st[i] = st;
}

void smart_signals_dr_put(smart_signals_t *s, const smart_dr_t *e)
{
    ssize_t i = dr_index(s, e->id);
    int64_t now = now_s();
    dr_state_t st = {false, false};
    if (i >= 0) {
        /* still announced as running only if it still runs */
        st.started = s->st[i].started && e->start <= now && !s->st[i].ended;
        if (s->st[i].started && !s->st[i].ended && !(e->start <= now && now < e->end)) {
            emit_dr(s, &s->dr[i], "demand_response.ended");
            st.started = false;
        }
        if (strcmp(s->dr[i].site, e->site) != 0) emit_signal(s, s->dr[i].site, "updated");
    }
    dr_insert(s, e, st);
    emit_signal(s, e->site, i >= 0 ? "updated" : "created");
    changed(s);
}

bool smart_signals_dr_remove(smart_signals_t *s, int64_t id)
{
    ssize_t i = dr_index(s, id);
    if (i < 0) return false;
    smart_dr_t e = s->dr[i];
    bool running = s->st[i].started && !s->st[i].ended;
    s->dr[i] = s->dr[s->ndr - 1];
    s->st[i] = s->st[s->ndr - 1];
    s->ndr--;
    if (running) emit_dr(s, &e, "demand_response.ended");
    emit_signal(s, e.site, "deleted");
    changed(s);
    return true;
}

const smart_dr_t *smart_signals_dr_get(const smart_signals_t *s, int64_t id)
{
    ssize_t i = dr_index(s, id);
    return i < 0 ? NULL : &s->dr[i];
}

const smart_dr_t *smart_signals_dr_list(const smart_signals_t *s, size_t *n)
{
    *n = s->ndr;
    return s->dr;
}

static ssize_t prices_index(const smart_signals_t *s, int64_t id)
{
    for (size_t i = 0; i < s->nprices; i++)
        if (s->prices[i]->id == id) return (ssize_t)i;
    return -1;
}

static int cmp_prices(const void *a, const void *b)
{
    const smart_prices_t *x = *(smart_prices_t *const *)a, *y = *(smart_prices_t *const *)b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static void prices_insert(smart_signals_t *s, smart_prices_t *p, char *old_site, size_t old_len)
{
    ssize_t i = prices_index(s, p->id);
    if (i >= 0) {
        snprintf(old_site, old_len, "%s", s->prices[i]->site);
        smart_prices_free(s->prices[i]);
        s->prices[i] = p;
        return;
    }
    if (s->nprices == s->pcap) {
        s->pcap = s->pcap ? s->pcap * 2 : 8;
        s->prices = xrealloc(s->prices, s->pcap * sizeof *s->prices);
    }
    s->prices[s->nprices++] = p;
    qsort(s->prices, s->nprices, sizeof *s->prices, cmp_prices);
}

void smart_signals_prices_put(smart_signals_t *s, smart_prices_t *p)
{
    char old[SMART_SITE_MAX] = "\x01";
    prices_insert(s, p, old, sizeof old);
    if (old[0] != '\x01' && strcmp(old, p->site) != 0) emit_signal(s, old, "updated");
    emit_signal(s, p->site, old[0] != '\x01' ? "updated" : "created");
    changed(s);
}

bool smart_signals_prices_remove(smart_signals_t *s, int64_t id)
{
    ssize_t i = prices_index(s, id);
    if (i < 0) return false;
    smart_prices_t *p = s->prices[i];
    memmove(&s->prices[i], &s->prices[i + 1], (s->nprices - (size_t)i - 1) * sizeof *s->prices);
    s->nprices--;
    emit_signal(s, p->site, "deleted");
    smart_prices_free(p);
    changed(s);
    return true;
}

const smart_prices_t *smart_signals_prices_get(const smart_signals_t *s, int64_t id)
{
    ssize_t i = prices_index(s, id);
    return i < 0 ? NULL : s->prices[i];
}

const smart_prices_t *smart_signals_prices_at(const smart_signals_t *s, size_t i)
{
    return i < s->nprices ? s->prices[i] : NULL;
}

json_t *smart_signals_external_events(const smart_signals_t *s, const char *source)
{
    json_t *set = json_object();
    for (size_t i = 0; i < s->ndr; i++) {
        const smart_dr_t *e = &s->dr[i];
        const char *slash = strchr(e->external_id, '/');
        if (strcmp(e->source, source) != 0 || !slash) continue;
        char k[SMART_EXTERNAL_MAX];
        snprintf(k, sizeof k, "%.*s", (int)(slash - e->external_id + 1), e->external_id);
        json_object_set_new(set, k, json_true());
    }
    for (size_t i = 0; i < s->nprices; i++) {
        const smart_prices_t *p = s->prices[i];
        const char *slash = strchr(p->external_id, '/');
        if (strcmp(p->source, source) != 0 || !slash) continue;
        char k[SMART_EXTERNAL_MAX];
        snprintf(k, sizeof k, "%.*s", (int)(slash - p->external_id + 1), p->external_id);
        json_object_set_new(set, k, json_true());
    }
    json_t *out = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(set, k, v) json_array_append_new(out, json_string(k));
    json_decref(set);
    return out;
}

/* ------------------------------------------------------------ rows <-> C */

static void str_field(const json_t *row, const char *key, char *out, size_t size)
{
    const char *v = json_string_value(json_object_get(row, key));
    snprintf(out, size, "%s", v ? v : "");
}

static void dr_from_row(const json_t *row, smart_dr_t *e)
{
    memset(e, 0, sizeof *e);
    e->id = json_integer_value(json_object_get(row, "id"));
    str_field(row, "site", e->site, sizeof e->site);
    e->start = json_integer_value(json_object_get(row, "start_s"));
    e->end = json_integer_value(json_object_get(row, "end_s"));
    e->limit_kw = json_number_value(json_object_get(row, "limit_kw"));
    for (int i = 0; i < 3; i++)
        e->phase_a[i] = -1;
    json_t *ph = json_loads(json_string_value(json_object_get(row, "phase_a")) ?: "null", 0, NULL);
    for (size_t i = 0; i < 3 && json_is_array(ph); i++)
        if (json_is_number(json_array_get(ph, i)))
            e->phase_a[i] = json_number_value(json_array_get(ph, i));
    json_decref(ph);
    str_field(row, "source", e->source, sizeof e->source);
    str_field(row, "reason", e->reason, sizeof e->reason);
    str_field(row, "external_id", e->external_id, sizeof e->external_id);
    str_field(row, "created_by", e->created_by, sizeof e->created_by);
    e->created_at = json_integer_value(json_object_get(row, "created_at"));
    e->updated_at = json_integer_value(json_object_get(row, "updated_at"));
}

static json_t *opt_str(const char *s)
{
    return s[0] ? json_string(s) : json_null();
}

static json_t *dr_row(const smart_dr_t *e)
{
    json_t *ph = json_null();
    if (e->phase_a[0] >= 0 || e->phase_a[1] >= 0 || e->phase_a[2] >= 0) {
        char buf[128];
        snprintf(buf, sizeof buf, "[%.17g,%.17g,%.17g]", e->phase_a[0], e->phase_a[1],
                 e->phase_a[2]);
        ph = json_string(buf);
    }
    json_t *o =
        json_pack("{s:s,s:I,s:I,s:f,s:o,s:s,s:s,s:o,s:o,s:I,s:I}", "site", e->site, "start_s",
                  (json_int_t)e->start, "end_s", (json_int_t)e->end, "limit_kw", e->limit_kw,
                  "phase_a", ph, "source", e->source[0] ? e->source : "api", "reason", e->reason,
                  "external_id", opt_str(e->external_id), "created_by", opt_str(e->created_by),
                  "created_at", (json_int_t)e->created_at, "updated_at", (json_int_t)e->updated_at);
    if (e->id) json_object_set_new(o, "id", json_integer(e->id));
    return o;
}

static smart_prices_t *prices_from_row(const json_t *row)
{
    json_t *body = json_loads(json_string_value(json_object_get(row, "body")) ?: "", 0, NULL);
    char err[256];
    smart_prices_t *p = body ? smart_prices_from_json(body, err, sizeof err) : NULL;
    json_decref(body);
    if (!p) {
        log_error("stored price schedule unreadable: skipped", "id=%lld",
                  (long long)json_integer_value(json_object_get(row, "id")));
        return NULL;
    }
    p->id = json_integer_value(json_object_get(row, "id"));
    str_field(row, "site", p->site, sizeof p->site);
    str_field(row, "source", p->source, sizeof p->source);
    str_field(row, "external_id", p->external_id, sizeof p->external_id);
    str_field(row, "created_by", p->created_by, sizeof p->created_by);
    p->created_at = json_integer_value(json_object_get(row, "created_at"));
    p->updated_at = json_integer_value(json_object_get(row, "updated_at"));
    return p;
}

static json_t *prices_row(const smart_prices_t *p)
{
    json_t *view = smart_prices_json(p);
    json_t *body = json_pack("{s:O,s:O,s:O}", "currency", json_object_get(view, "currency"),
                             "intervals", json_object_get(view, "intervals"), "time_of_use",
                             json_object_get(view, "time_of_use"));
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    json_decref(view);
    json_t *o = json_pack("{s:s,s:s,s:s,s:o,s:o,s:I,s:I}", "site", p->site, "body", text, "source",
                          p->source[0] ? p->source : "api", "external_id", opt_str(p->external_id),
                          "created_by", opt_str(p->created_by), "created_at",
                          (json_int_t)p->created_at, "updated_at", (json_int_t)p->updated_at);
    free(text);
    if (p->id) json_object_set_new(o, "id", json_integer(p->id));
    return o;
}

/* ------------------------------------------------------------ life cycle */

smart_signals_t *smart_signals_new(void)
{
    smart_signals_t *s = xcalloc(1, sizeof *s);
    s->last_tick = now_s();
    return s;
}

static void load_rows(smart_signals_t *s, json_t *dr, json_t *pr)
{
    int64_t now = now_s();
    size_t i;
    json_t *row;
    json_array_foreach(dr, i, row)
    {
        smart_dr_t e;
        dr_from_row(row, &e);
        /* what ran or ended before the restart was announced then */
        dr_state_t st = {e.start <= now, e.end <= now};
        dr_insert(s, &e, st);
    }
    json_array_foreach(pr, i, row)
    {
        smart_prices_t *p = prices_from_row(row);
        char old[SMART_SITE_MAX];
        if (p) prices_insert(s, p, old, sizeof old);
    }
}

smart_signals_t *smart_signals_create(uv_loop_t *loop, csms_t *csms, store_t *store, char *err,
                                      size_t err_len)
{
    json_t *dr = NULL, *pr = NULL;
    if (store_signals_load_sync(store, now_s() - KEEP_ENDED_S, &dr, &pr)) {
        snprintf(err, err_len, "cannot load demand-response events and price schedules");
        return NULL;
    }
    smart_signals_t *s = smart_signals_new();
    load_rows(s, dr, pr);
    json_decref(dr);
    json_decref(pr);
    s->loop = loop;
    s->csms = csms;
    s->store = store;
    uv_timer_init(loop, &s->timer);
    s->timer.data = s;
    uv_unref((uv_handle_t *)&s->timer);
    s->timer_on = true;
    arm(s);
    return s;
}

void smart_signals_stop(smart_signals_t *s)
{
    if (!s || s->stopped) return;
    s->stopped = true;
    if (s->timer_on) {
        uv_timer_stop(&s->timer);
        uv_close((uv_handle_t *)&s->timer, NULL);
    }
}

void smart_signals_free(smart_signals_t *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->nprices; i++)
        smart_prices_free(s->prices[i]);
    free(s->prices);
    free(s->dr);
    free(s->st);
    free(s);
}

store_t *smart_signals_store(const smart_signals_t *s)
{
    return s->store;
}

/* -------------------------------------------------------------- durable */

typedef struct save_op {
    smart_signals_t *s;
    smart_signals_cb cb;
    void *ctx;
    smart_dr_t dr;
    smart_prices_t *prices;
    int64_t id;
    char prefix[SMART_EXTERNAL_MAX];
} save_op_t;

static void finish(save_op_t *op, int rc, int64_t id)
{
    if (op->cb) op->cb(op->ctx, rc, id);
    smart_prices_free(op->prices);
    free(op);
}

static int64_t returned_id(json_t *res)
{
    return json_integer_value(json_object_get(json_array_get(json_array_get(res, 0), 0), "id"));
}

static void dr_saved(void *ctx, store_err_t rc, json_t *res)
{
    save_op_t *op = ctx;
    if (rc == STORE_OK) {
        op->dr.id = returned_id(res);
        smart_signals_dr_put(op->s, &op->dr);
    }
    finish(op, rc, op->dr.id);
}

static save_op_t *op_new(smart_signals_t *s, smart_signals_cb cb, void *ctx)
{
    save_op_t *op = xcalloc(1, sizeof *op);
    op->s = s;
    op->cb = cb;
    op->ctx = ctx;
    return op;
}

void smart_signals_dr_save(smart_signals_t *s, const smart_dr_t *e, smart_signals_cb cb, void *ctx)
{
    save_op_t *op = op_new(s, cb, ctx);
    op->dr = *e;
    int64_t ms = time_now_ms();
    if (!op->dr.id) op->dr.created_at = ms;
    op->dr.updated_at = ms;
    if (!op->dr.source[0]) snprintf(op->dr.source, sizeof op->dr.source, "api");
    if (!s->store) {
        static int64_t next_id;
        if (!op->dr.id) op->dr.id = ++next_id + 1000000;
        smart_signals_dr_put(s, &op->dr);
        finish(op, 0, op->dr.id);
        return;
    }
    json_t *row = dr_row(&op->dr);
    store_dr_save(s->store, row, dr_saved, op);
    json_decref(row);
}

static void dr_deleted(void *ctx, store_err_t rc, json_t *res)
{
    save_op_t *op = ctx;
    (void)res;
    if (rc == STORE_OK) smart_signals_dr_remove(op->s, op->id);
    finish(op, rc, op->id);
}

void smart_signals_dr_delete(smart_signals_t *s, int64_t id, smart_signals_cb cb, void *ctx)
{
    save_op_t *op = op_new(s, cb, ctx);
    op->id = id;
    if (!s->store) {
        dr_deleted(op, smart_signals_dr_remove(s, id) ? STORE_OK : STORE_ERR_NOT_FOUND, NULL);
        return;
    }
    store_dr_delete(s->store, id, dr_deleted, op);
}

static void prices_saved(void *ctx, store_err_t rc, json_t *res)
{
    save_op_t *op = ctx;
    int64_t id = 0;
    if (rc == STORE_OK) {
        id = op->prices->id = returned_id(res);
        smart_signals_prices_put(op->s, op->prices);
        op->prices = NULL;
    }
    finish(op, rc, id);
}

void smart_signals_prices_save(smart_signals_t *s, smart_prices_t *p, smart_signals_cb cb,
                               void *ctx)
{
    save_op_t *op = op_new(s, cb, ctx);
    op->prices = p;
    int64_t ms = time_now_ms();
    if (!p->id) p->created_at = ms;
    p->updated_at = ms;
    if (!p->source[0]) snprintf(p->source, sizeof p->source, "api");
    if (!s->store) {
        static int64_t next_id;
        if (!p->id) p->id = ++next_id + 1000000;
        int64_t id = p->id;
        smart_signals_prices_put(s, p);
        op->prices = NULL;
        finish(op, 0, id);
        return;
    }
    json_t *row = prices_row(p);
    store_prices_save(s->store, row, prices_saved, op);
    json_decref(row);
}

static void prices_deleted(void *ctx, store_err_t rc, json_t *res)
{
    save_op_t *op = ctx;
    (void)res;
    if (rc == STORE_OK) smart_signals_prices_remove(op->s, op->id);
    finish(op, rc, op->id);
}

void smart_signals_prices_delete(smart_signals_t *s, int64_t id, smart_signals_cb cb, void *ctx)
{
    save_op_t *op = op_new(s, cb, ctx);
    op->id = id;
    if (!s->store) {
        prices_deleted(op, smart_signals_prices_remove(s, id) ? STORE_OK : STORE_ERR_NOT_FOUND,
                       NULL);
        return;
    }
    store_prices_delete(s->store, id, prices_deleted, op);
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Drops from memory every signal under the prefix, then adds the rows.
 * An interval that was running and still runs under the same external id
 * (an OpenADR event changed its limit) goes on without an ended/started
 * pair; each site touched hears one smart.signal "updated". */
static void swap_in(smart_signals_t *s, const char *prefix, const json_t *dr, const json_t *pr)
{
    json_t *running = json_object(), *sites = json_object();
    json_t *gone = json_array(); /* running events that were dropped, as JSON views */
    int64_t now = now_s();
    for (size_t i = s->ndr; i-- > 0;) {
        if (!has_prefix(s->dr[i].external_id, prefix)) continue;
        json_object_set_new(sites, s->dr[i].site, json_true());
        if (s->st[i].started && !s->st[i].ended) {
            json_object_set_new(running, s->dr[i].external_id, json_true());
            json_array_append_new(gone, smart_dr_json(&s->dr[i], now));
        }
        s->dr[i] = s->dr[s->ndr - 1];
        s->st[i] = s->st[s->ndr - 1];
        s->ndr--;
    }
    for (size_t i = s->nprices; i-- > 0;) {
        smart_prices_t *p = s->prices[i];
        if (!has_prefix(p->external_id, prefix)) continue;
        json_object_set_new(sites, p->site[0] ? p->site : "*", json_true());
        memmove(&s->prices[i], &s->prices[i + 1], (s->nprices - i - 1) * sizeof *s->prices);
        s->nprices--;
        smart_prices_free(p);
    }
    size_t i;
    const json_t *row;
    json_t *kept = json_object();
    json_array_foreach(dr, i, row)
    {
        smart_dr_t e;
        dr_from_row(row, &e);
        bool on = e.start <= now && now < e.end;
        dr_state_t st = {on && json_object_get(running, e.external_id), e.end <= now};
        if (st.started) json_object_set_new(kept, e.external_id, json_true());
        dr_insert(s, &e, st);
        json_object_set_new(sites, e.site, json_true());
    }
    json_array_foreach(pr, i, row)
    {
        smart_prices_t *p = prices_from_row(row);
        char old[SMART_SITE_MAX];
        if (!p) continue;
        json_object_set_new(sites, p->site[0] ? p->site : "*", json_true());
        prices_insert(s, p, old, sizeof old);
    }
    json_t *v;
    json_array_foreach(gone, i, v)
    {
        const char *ext = json_string_value(json_object_get(v, "external_id"));
        if (!ext || !json_object_get(kept, ext))
            if (s->csms && !s->stopped) csms_emit(s->csms, "demand_response.ended", json_incref(v));
    }
    const char *site;
    json_object_foreach(sites, site, v) emit_signal(s, strcmp(site, "*") ? site : "", "updated");
    json_decref(running);
    json_decref(sites);
    json_decref(gone);
    json_decref(kept);
    changed(s);
}

static void replaced_rows(void *ctx, store_err_t rc, json_t *res)
{
    save_op_t *op = ctx;
    if (rc == STORE_OK) swap_in(op->s, op->prefix, json_array_get(res, 0), json_array_get(res, 1));
    finish(op, rc, 0);
}

static void replaced(void *ctx, store_err_t rc, json_t *res)
{
    save_op_t *op = ctx;
    (void)res;
    if (rc != STORE_OK || op->s->stopped) {
        finish(op, rc, 0);
        return;
    }
    store_signals_external(op->s->store, op->prefix, replaced_rows, op);
}

void smart_signals_replace(smart_signals_t *s, const char *prefix, const smart_dr_t *ev, size_t n,
                           smart_prices_t **p, size_t np, smart_signals_cb cb, void *ctx)
{
    save_op_t *op = op_new(s, cb, ctx);
    snprintf(op->prefix, sizeof op->prefix, "%s", prefix);
    int64_t ms = time_now_ms();
    json_t *dr = json_array(), *pr = json_array();
    for (size_t i = 0; i < n; i++) {
        smart_dr_t e = ev[i];
        e.id = 0;
        e.created_at = e.updated_at = ms;
        json_array_append_new(dr, dr_row(&e));
    }
    for (size_t i = 0; i < np; i++) {
        p[i]->id = 0;
        p[i]->created_at = p[i]->updated_at = ms;
        json_array_append_new(pr, prices_row(p[i]));
        smart_prices_free(p[i]);
    }
    if (!s->store) {
        static int64_t next_id;
        size_t i;
        json_t *row;
        json_array_foreach(dr, i, row)
            json_object_set_new(row, "id", json_integer(++next_id + 2000000));
        json_array_foreach(pr, i, row)
            json_object_set_new(row, "id", json_integer(++next_id + 2000000));
        swap_in(s, prefix, dr, pr);
        finish(op, 0, 0);
    } else {
        store_signals_replace(s->store, prefix, dr, pr, replaced, op);
    }
    json_decref(dr);
    json_decref(pr);
}
