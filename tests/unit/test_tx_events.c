/*
 * Specification of the OCPP 2.0.1 transaction-event state machine
 * (src/csms/tx_events.c, csms_tx_event): a Started event creates the
 * transaction, Updated events track energy and state of charge, Ended stops
 * it with the Transaction.End register; every event is applied once per
 * (transaction, seqNo), in whatever order it arrives; events for an ended
 * transaction are answered and change nothing; sequence numbers survive a
 * restart; a gap in sequence numbers makes the server ask the station with
 * GetTransactionStatus through the station's link.
 *
 * Each test runs the real thing, as test_csms.c does: a store in a fresh data
 * directory, a libuv loop and csms_create() over them. Changes are trusted
 * only after their completion has run, and what was stored is read back from
 * the store (or after restarting the domain from the database). Completions
 * land in fixture-owned slots so a failing test cannot leave a callback
 * pointing into a dead stack frame.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ftw.h>
#include <unistd.h>
#include <uv.h>

#include "csms/csms.h"
#include "util/password.h"
#include "util/timefmt.h"

#define MAX_SLOTS 256
#define MAX_CALLS 16
#define WAIT_NS (20ULL * 1000 * 1000 * 1000)
#define MIN_MS (60LL * 1000)

/* ---- fixture ----------------------------------------------------------------------------- */

typedef struct fixture fixture_t;

typedef struct slot {
    fixture_t *f;
    int calls;
    int rc; /* csms_err_t or store_err_t */
    bool duplicate, has_info, known;
    int64_t session_id, expiry;
    char status[32], parent[64], parent_type[32];
    json_t *json;
} slot_t;

/* A station link that records the calls the domain sends through it; the
 * calls are answered when the test (or the teardown) says so. */
typedef struct fake_link {
    int ncalls;
    char action[MAX_CALLS][48];
    json_t *payload[MAX_CALLS];
    csms_cmd_cb cb[MAX_CALLS];
    void *ctx[MAX_CALLS];
    bool answered[MAX_CALLS];
} fake_link_t;

struct fixture {
    char dir[64];
    csms_config_t cfg;
    uv_loop_t loop;
    uv_timer_t tick;
    store_t *store;
    csms_t *c;
    json_t *events; /* [{"type":..., "data":...}] */
    fake_link_t link;
    slot_t slots[MAX_SLOTS];
    unsigned nslots, completed;
};

static void tick_cb(uv_timer_t *t) {}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void record_event(void *ud, const char *type, const json_t *data)
{
    fixture_t *f = ud;
    json_array_append_new(f->events, json_pack("{s:s, s:O}", "type", type, "data", (json_t *)data));
}

static int open_domain(fixture_t *f)
{
    char err[256];
    f->store = store_open(f->dir, false, err, sizeof err);
    if (f->store == NULL) {
        print_error("store_open: %s\n", err);
        return -1;
    }
    f->c = csms_create(f->store, &f->cfg, err, sizeof err);
    if (f->c == NULL) {
        print_error("csms_create: %s\n", err);
        return -1;
    }
    store_start(f->store, &f->loop);
    csms_subscribe(f->c, record_event, f);
    return 0;
}

/* Store first: closing runs the last completions, which still call into the domain. */
static void close_domain(fixture_t *f)
{
    store_close(f->store);
    f->store = NULL;
    csms_destroy(f->c);
    f->c = NULL;
}

/* Answers every call still waiting on the fake link (the contract: each
 * accepted call completes exactly once). */
static void answer_link_calls(fixture_t *f)
{
    fake_link_t *l = &f->link;
    json_t *answer = json_pack("{s:b}", "messagesInQueue", 0);
    for (int i = 0; i < l->ncalls; i++) {
        if (l->answered[i]) continue;
        l->answered[i] = true;
        csms_cmd_result_t r = {.status = CSMS_CMD_OK, .payload = answer};
        l->cb[i](l->ctx[i], &r);
    }
    json_decref(answer);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (f == NULL) return -1;
    f->cfg = (csms_config_t){.heartbeat_interval = 300,
                             .pending_interval = 30,
                             .auto_register = false,
                             .auth_fail_limit = 3,
                             .auth_fail_window = 60,
                             .pw_opslimit = 1,
                             .pw_memlimit = 8192};
    f->events = json_array();
    snprintf(f->dir, sizeof f->dir, "/tmp/ampgrid-txe-XXXXXX");
    if (mkdtemp(f->dir) == NULL) return -1;
    if (uv_loop_init(&f->loop) != 0) return -1;
    uv_timer_init(&f->loop, &f->tick);
    uv_timer_start(&f->tick, tick_cb, 50, 50);
    *state = f;
    return open_domain(f);
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    int rc = 0;
    answer_link_calls(f);
    uv_close((uv_handle_t *)&f->tick, NULL);
    close_domain(f);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&f->loop) != 0) {
        print_error("uv_loop_close: handles left open\n");
        rc = -1;
    }
    for (unsigned i = 0; i < f->nslots; i++)
        json_decref(f->slots[i].json);
    for (int i = 0; i < f->link.ncalls; i++)
        json_decref(f->link.payload[i]);
    json_decref(f->events);
    nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return rc;
}

static int group_setup(void **state)
{
    return password_init();
}

static slot_t *slot_new(fixture_t *f)
{
    if (f->nslots >= MAX_SLOTS) fail_msg("out of slots");
    slot_t *s = &f->slots[f->nslots++];
    memset(s, 0, sizeof *s);
    s->f = f;
    s->rc = -1;
    return s;
}

static void wait_all(fixture_t *f)
{
    uint64_t deadline = uv_hrtime() + WAIT_NS;
    while (f->completed < f->nslots) {
        if (uv_hrtime() > deadline)
            fail_msg("timed out: %u of %u completions", f->completed, f->nslots);
        uv_run(&f->loop, UV_RUN_ONCE);
    }
    for (unsigned i = 0; i < f->nslots; i++)
        if (f->slots[i].calls != 1) fail_msg("slot %u completed %d times", i, f->slots[i].calls);
}

/* Restarts the domain from the database (everything acknowledged must survive). */
static void restart_domain(fixture_t *f)
{
    wait_all(f);
    answer_link_calls(f);
    close_domain(f);
    if (open_domain(f) != 0) fail_msg("cannot reopen the domain");
}

static void done_cb(void *ctx, csms_err_t rc, const char *msg)
{
    slot_t *s = ctx;
    s->calls++;
    s->rc = rc;
    s->f->completed++;
}

static void json_cb(void *ctx, store_err_t rc, json_t *result)
{
    slot_t *s = ctx;
    s->calls++;
    s->rc = rc;
    s->json = result ? json_incref(result) : NULL;
    s->f->completed++;
}

static void tx_event_cb(void *ctx, csms_err_t rc, const csms_tx_event_result_t *r)
{
    slot_t *s = ctx;
    s->calls++;
    s->rc = rc;
    if (r) {
        s->duplicate = r->duplicate;
        s->session_id = r->session_id;
        s->has_info = r->has_info;
        if (r->has_info) {
            snprintf(s->status, sizeof s->status, "%s", r->info.status ? r->info.status : "");
            s->known = r->info.known;
            s->expiry = r->info.expiry;
            snprintf(s->parent, sizeof s->parent, "%s",
                     r->info.parent_id_token ? r->info.parent_id_token : "");
            snprintf(s->parent_type, sizeof s->parent_type, "%s",
                     r->info.parent_type ? r->info.parent_type : "");
        }
    }
    s->f->completed++;
}

/* ---- the fake link ----------------------------------------------------------------------- */

static int fake_send_call(void *link, const char *action, const json_t *payload, csms_cmd_cb cb,
                          void *ctx, char *err, size_t err_len)
{
    fake_link_t *l = link;
    if (l->ncalls >= MAX_CALLS) {
        snprintf(err, err_len, "fake link full");
        return -1;
    }
    int i = l->ncalls++;
    snprintf(l->action[i], sizeof l->action[i], "%s", action);
    l->payload[i] = json_deep_copy(payload);
    l->cb[i] = cb;
    l->ctx[i] = ctx;
    return 0;
}

static int fake_send_password(void *link, const char *password, csms_cmd_cb cb, void *ctx,
                              char *err, size_t err_len)
{
    snprintf(err, err_len, "not in this test");
    return -1;
}

static void fake_close(void *link, const char *reason) {}

static const char *fake_protocol(void *link)
{
    return "ocpp2.0.1";
}

static const csms_link_ops_t fake_ops = {
    .send_call = fake_send_call,
    .send_password = fake_send_password,
    .close = fake_close,
    .protocol = fake_protocol,
};

/* Calls of `action` the station received so far. */
static int link_calls(fixture_t *f, const char *action)
{
    int n = 0;
    for (int i = 0; i < f->link.ncalls; i++)
        if (strcmp(f->link.action[i], action) == 0) n++;
    return n;
}

/* ---- domain operations as one-liners ----------------------------------------------------- */

static csms_station_t *add_station(fixture_t *f, const char *id)
{
    char err[256] = "";
    csms_station_spec_t spec = {.id = id, .security_profile = 0};
    slot_t *s = slot_new(f);
    csms_err_t e = csms_station_create(f->c, &spec, done_cb, s, err, sizeof err);
    if (e != CSMS_OK) fail_msg("creating station %s failed: %d %s", id, (int)e, err);
    wait_all(f);
    if (s->rc != CSMS_OK) fail_msg("station %s not stored", id);
    csms_station_t *st = csms_station_find(f->c, id);
    assert_non_null(st);
    return st;
}

/* A station with the fake link attached (connected, speaking 2.0.1). */
static csms_station_t *add_linked_station(fixture_t *f, const char *id)
{
    csms_station_t *st = add_station(f, id);
    csms_station_attach(f->c, st, &f->link, &fake_ops, "127.0.0.1");
    return st;
}

static void add_token(fixture_t *f, const char *id, const char *type, const char *status,
                      int64_t expiry, const char *parent)
{
    char err[256] = "";
    csms_id_token_spec_t spec = {.id_token = id,
                                 .type = type,
                                 .status = status,
                                 .expiry = expiry,
                                 .parent_id_token = parent};
    slot_t *s = slot_new(f);
    csms_err_t e = csms_id_token_create(f->c, &spec, done_cb, s, err, sizeof err);
    if (e != CSMS_OK) fail_msg("creating id token %s failed: %d %s", id, (int)e, err);
    wait_all(f);
    if (s->rc != CSMS_OK) fail_msg("id token %s not stored", id);
}

/* An energy register sample in Wh (or kWh), with a reading context. */
static store_sample_t energy(const char *value, const char *unit, const char *context, int64_t ts)
{
    return (store_sample_t){.timestamp = ts,
                            .value = value,
                            .measurand = "Energy.Active.Import.Register",
                            .unit = unit,
                            .context = context,
                            .location = "Outlet",
                            .format = "Raw"};
}

static store_sample_t soc(const char *value, int64_t ts)
{
    return (store_sample_t){.timestamp = ts,
                            .value = value,
                            .measurand = "SoC",
                            .unit = "Percent",
                            .context = "Sample.Periodic",
                            .location = "EV",
                            .format = "Raw"};
}

static csms_tx_event_t event(csms_txe_kind_t kind, const char *tx_id, int seq, int64_t ts)
{
    return (csms_tx_event_t){.kind = kind,
                             .tx_id = tx_id,
                             .evse_id = 1,
                             .connector_id = 1,
                             .timestamp = ts,
                             .seq_no = seq,
                             .trigger_reason = kind == CSMS_TXE_STARTED ? "Authorized"
                                               : kind == CSMS_TXE_ENDED ? "StopAuthorized"
                                                                        : "MeterValuePeriodic",
                             .reservation_id = -1};
}

/* Sends one event and waits for its answer. */
static slot_t *send_event(fixture_t *f, csms_station_t *st, const csms_tx_event_t *ev)
{
    slot_t *s = slot_new(f);
    csms_tx_event(f->c, st, ev, tx_event_cb, s);
    wait_all(f);
    if (s->rc != CSMS_OK) fail_msg("event seq %d of %s failed: %d", ev->seq_no, ev->tx_id, s->rc);
    return s;
}

/* Started with an id token and a Transaction.Begin register reading. */
static slot_t *start(fixture_t *f, csms_station_t *st, const char *tx_id, const char *token,
                     const char *begin_wh, int64_t ts)
{
    store_sample_t b = energy(begin_wh, "Wh", "Transaction.Begin", ts);
    csms_tx_event_t ev = event(CSMS_TXE_STARTED, tx_id, 0, ts);
    ev.id_token = token;
    ev.id_token_type = "ISO14443";
    ev.samples = &b;
    ev.nsamples = 1;
    return send_event(f, st, &ev);
}

/* Updated carrying one energy register reading in Wh. */
static slot_t *update(fixture_t *f, csms_station_t *st, const char *tx_id, int seq, const char *wh,
                      int64_t ts)
{
    store_sample_t e = energy(wh, "Wh", "Sample.Periodic", ts);
    csms_tx_event_t ev = event(CSMS_TXE_UPDATED, tx_id, seq, ts);
    ev.samples = &e;
    ev.nsamples = 1;
    return send_event(f, st, &ev);
}

static json_t *session(fixture_t *f, int64_t id)
{
    slot_t *s = slot_new(f);
    store_query_session(f->store, id, json_cb, s);
    wait_all(f);
    if (s->rc != STORE_OK) fail_msg("session %lld not found", (long long)id);
    return s->json;
}

static json_t *sessions_of(fixture_t *f, const char *station)
{
    store_session_filter_t flt = {.station_id = station, .active = -1, .limit = 1000};
    slot_t *s = slot_new(f);
    store_query_sessions(f->store, &flt, json_cb, s);
    wait_all(f);
    if (s->rc != STORE_OK) fail_msg("sessions query failed");
    return s->json;
}

static json_int_t jint(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v)) fail_msg("'%s' is not an integer", key);
    return json_integer_value(v);
}

static const char *jstr(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_string(v)) fail_msg("'%s' is not a string", key);
    return json_string_value(v);
}

/* Like assert_string_equal on o[key], but says what the field held (null included). */
static void expect_str(const json_t *o, const char *key, const char *want)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_string(v) || strcmp(json_string_value(v), want) != 0) {
        char *got = v ? json_dumps(v, JSON_ENCODE_ANY) : NULL;
        print_error("%s is %s, expected \"%s\"\n", key, got ? got : "(absent)", want);
        free(got);
        fail();
    }
}

static void expect_int(const json_t *o, const char *key, json_int_t want)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) != want) {
        char *got = v ? json_dumps(v, JSON_ENCODE_ANY) : NULL;
        print_error("%s is %s, expected %lld\n", key, got ? got : "(absent)", (long long)want);
        free(got);
        fail();
    }
}

static int64_t jtime(const json_t *o, const char *key)
{
    int64_t ms = 0;
    if (!time_parse_rfc3339(jstr(o, key), &ms)) fail_msg("'%s' is not a date-time", key);
    return ms;
}

static bool jtrue(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_boolean(v)) fail_msg("'%s' is not a boolean", key);
    return json_is_true(v);
}

static size_t count_events(fixture_t *f, const char *type)
{
    size_t i, n = 0;
    json_t *e;
    json_array_foreach(f->events, i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "type")), type) == 0) n++;
    }
    return n;
}

/* Timestamps on whole milliseconds, well in the past. */
static int64_t base_time(void)
{
    return time_now_ms() - 60 * MIN_MS;
}

/* ---- Started ----------------------------------------------------------------------------- */

static void a_started_event_creates_an_active_transaction(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1");
    add_token(f, "TAG1", "ISO14443", "Accepted", 0, NULL);
    int64_t t0 = base_time();
    slot_t *r = start(f, st, "TX-1", "TAG1", "1000", t0);

    assert_false(r->duplicate);
    assert_true(r->session_id > 0);
    assert_true(r->has_info);
    assert_string_equal(r->status, "Accepted");
    csms_tx_t *t = csms_tx_find_by_txid(f->c, "CS-1", "TX-1");
    assert_non_null(t);
    assert_int_equal(t->id, r->session_id);
    assert_int_equal(t->meter_start, 1000);
    assert_int_equal(t->started_at, t0);
    assert_string_equal(t->id_token, "TAG1");
    assert_int_equal(t->evse_id, 1);
    assert_int_equal(t->connector_id, 1);
    assert_int_equal(csms_tx_active_count(f->c), 1);

    json_t *ses = session(f, r->session_id);
    assert_string_equal(jstr(ses, "transaction_id"), "TX-1");
    assert_string_equal(jstr(ses, "id_token"), "TAG1");
    assert_string_equal(jstr(ses, "id_token_type"), "ISO14443");
    assert_string_equal(jstr(ses, "auth_status"), "Accepted");
    assert_int_equal(jint(ses, "meter_start_wh"), 1000);
    assert_int_equal(jtime(ses, "started_at"), t0);
    assert_true(jtrue(ses, "active"));
    assert_int_equal(json_array_size(json_object_get(ses, "meter_values")), 1);
    assert_int_equal(count_events(f, "transaction.started"), 1);
    assert_int_equal(count_events(f, "transaction.event"), 1);
}

static void a_started_event_with_an_unknown_token_reports_it_as_not_known(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1");
    slot_t *r = start(f, st, "TX-1", "NOBODY", "0", base_time());
    assert_true(r->has_info);
    assert_false(r->known); /* the 2.0.1 translator answers "Unknown" */
    assert_string_not_equal(r->status, "Accepted");
}

static void id_token_info_for_no_authorization_is_accepted(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1");
    csms_tx_event_t ev = event(CSMS_TXE_STARTED, "TX-1", 0, base_time());
    ev.id_token = "";
    ev.id_token_type = "NoAuthorization";
    slot_t *r = send_event(f, st, &ev);
    assert_true(r->has_info);
    assert_string_equal(r->status, "Accepted");
    assert_true(r->known);
    assert_non_null(csms_tx_find_by_txid(f->c, "CS-1", "TX-1"));
}

static void a_started_event_for_a_group_member_reports_the_group(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1");
    add_token(f, "FLEET", "Central", "Accepted", 0, NULL);
    add_token(f, "TAG1", "ISO14443", "Accepted", 0, "FLEET");
    slot_t *r = start(f, st, "TX-1", "TAG1", "0", base_time());
    assert_string_equal(r->status, "Accepted");
    assert_string_equal(r->parent, "FLEET");
    assert_string_equal(r->parent_type, "Central");
}

static void an_event_without_an_id_token_carries_no_id_token_info(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1");
    add_token(f, "TAG1", "ISO14443", "Accepted", 0, NULL);
    int64_t t0 = base_time();
    start(f, st, "TX-1", "TAG1", "0", t0);
    slot_t *r = update(f, st, "TX-1", 1, "100", t0 + MIN_MS);
    assert_false(r->has_info);
}

static void the_same_transaction_id_on_two_stations_is_two_transactions(void **state)
{
    fixture_t *f = *state;
    csms_station_t *a = add_station(f, "CS-A");
    csms_station_t *b = add_station(f, "CS-B");
    add_token(f, "TAG1", "ISO14443", "Accepted", 0, NULL);
    add_token(f, "TAG2", "ISO14443", "Accepted", 0, NULL);
    int64_t t0 = base_time();
    slot_t *ra = start(f, a, "TX-1", "TAG1", "100", t0);
    slot_t *rb = start(f, b, "TX-1", "TAG2", "200", t0);
    assert_false(rb->duplicate);
    assert_int_not_equal(ra->session_id, rb->session_id);
    assert_int_equal(csms_tx_find_by_txid(f->c, "CS-A", "TX-1")->meter_start, 100);
    assert_int_equal(csms_tx_find_by_txid(f->c, "CS-B", "TX-1")->meter_start, 200);
}

/* ---- Updated ----------------------------------------------------------------------------- */

static void updated_events_track_energy_and_soc(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1");
    add_token(f, "TAG1", "ISO14443", "Accepted", 0, NULL);
    int64_t t0 = base_time();
    slot_t *r = start(f, st, "TX-1", "TAG1", "1000", t0);

    store_sample_t s1[] = {energy("2.5", "kWh", "Sample.Periodic", t0 + MIN_MS),
                           soc("40", t0 + MIN_MS)};
    csms_tx_event_t ev = event(CSMS_TXE_UPDATED, "TX-1", 1, t0 + MIN_MS);
    ev.charging_state = "Charging";
    ev.samples = s1;
    ev.nsamples = 2;
    slot_t *u = send_event(f, st, &ev);
    assert_false(u->duplicate);
    assert_int_equal(u->session_id, r->session_id);

    csms_tx_t *t = csms_tx_find_by_txid(f->c, "CS-1", "TX-1");
    assert_int_equal(t->last_energy_wh, 2500);
    assert_true(t->last_soc > 39.99 && t->last_soc < 40.01);
    assert_non_null(t->charging_state);
    assert_string_equal(t->charging_state, "Charging");

    update(f, st, "TX-1", 2, "3200", t0 + 2 * MIN_MS);
    json_t *ses = session(f, r->session_id);
    assert_int_equal(jint(ses, "energy_wh"), 3200 - 1000);
    assert_true(jtrue(ses, "active"));
    assert_int_equal(json_array_size(json_object_get(ses, "meter_values")), 1 + 2 + 1);
}

static store_sample_t current(const char *value, const char *phase, int64_t ts)
{
    return (store_sample_t){.timestamp = ts,
                            .value = value,
                            .measurand = "Current.Import",
                            .phase = phase,
                            .unit = "A",
                            .context = "Sample.Periodic",
                            .location = "Outlet",
                            .format = "Raw"};
}

/* The index in f->events of the first event of `type` from `from` on; -1 = none. */
static int find_event(const fixture_t *f, const char *type, size_t from)
{
    for (size_t i = from; i < json_array_size(f->events); i++)
        if (strcmp(jstr(json_array_get(f->events, i), "type"), type) == 0) return (int)i;
    return -1;
}

/* Load management and alerts read a car's draw from meter.values: a 2.0.1
 * station reports it in TransactionEvent, so those samples raise the same
 * event MeterValues does, with the session, and are stored with it. */
static void updated_samples_raise_meter_values_with_the_session(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1");
    add_token(f, "TAG1", "ISO14443", "Accepted", 0, NULL);
    int64_t t0 = base_time();
    slot_t *r = start(f, st, "TX-1", "TAG1", "1000", t0);
    size_t mark = json_array_size(f->events);

    store_sample_t s1[] = {current("7.5", "L1", t0 + MIN_MS), current("7.25", "L2", t0 + MIN_MS),
                           energy("1800", "Wh", "Sample.Periodic", t0 + MIN_MS)};
    csms_tx_event_t ev = event(CSMS_TXE_UPDATED, "TX-1", 1, t0 + MIN_MS);
    ev.samples = s1;
    ev.nsamples = 3;
    send_event(f, st, &ev);

    int te = find_event(f, "transaction.event", mark), mv = find_event(f, "meter.values", mark);
    assert_true(te >= 0 && mv > te);
    const json_t *tx = json_object_get(json_array_get(f->events, (size_t)te), "data");
    assert_null(json_object_get(tx, "samples")); /* the hot event stays small */
    const json_t *d = json_object_get(json_array_get(f->events, (size_t)mv), "data");
    assert_string_equal(jstr(d, "station_id"), "CS-1");
    assert_int_equal(jint(d, "evse_id"), 1);
    assert_int_equal(jint(d, "connector_id"), 1);
    assert_int_equal(jint(d, "session_id"), r->session_id);
    const json_t *sm = json_object_get(d, "samples");
    assert_int_equal(json_array_size(sm), 3);
    assert_string_equal(jstr(json_array_get(sm, 0), "measurand"), "Current.Import");
    assert_string_equal(jstr(json_array_get(sm, 0), "phase"), "L1");
    assert_string_equal(jstr(json_array_get(sm, 1), "value"), "7.25");
    assert_int_equal(csms_tx_find_by_txid(f->c, "CS-1", "TX-1")->last_energy_wh, 1800);

    /* stored with the session, and its latest reading with them */
    json_t *ses = session(f, r->session_id);
    assert_int_equal(json_array_size(json_object_get(ses, "meter_values")), 1 + 3);
    assert_int_equal(jint(ses, "energy_wh"), 1800 - 1000);

    /* a duplicate raises nothing and stores nothing */
    mark = json_array_size(f->events);
    ev.seq_no = 1;
    assert_true(send_event(f, st, &ev)->duplicate);
    assert_int_equal(find_event(f, "meter.values", mark), -1);
    ses = session(f, r->session_id);
    assert_int_equal(json_array_size(json_object_get(ses, "meter_values")), 1 + 3);
}

static void ended_samples_raise_meter_values_before_the_end(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1");
    add_token(f, "TAG1", "ISO14443", "Accepted", 0, NULL);
    int64_t t0 = base_time();
    slot_t *r = start(f, st, "TX-1", "TAG1", "1000", t0);
    size_t mark = json_array_size(f->events);
    store_sample_t s1[] = {current("0", "L1", t0 + MIN_MS),
                           energy("4000", "Wh", "Transaction.End", t0 + MIN_MS)};
    csms_tx_event_t ev = event(CSMS_TXE_ENDED, "TX-1", 1, t0 + MIN_MS);
    ev.samples = s1;
    ev.nsamples = 2;
    send_event(f, st, &ev);
    int mv = find_event(f, "meter.values", mark), end = find_event(f, "transaction.ended", mark);
    assert_true(mv >= 0 && end > mv);
    const json_t *d = json_object_get(json_array_get(f->events, (size_t)mv), "data");
    assert_int_equal(jint(d, "session_id"), r->session_id);
    assert_int_equal(json_array_size(json_object_get(d, "samples")), 2);
    assert_int_equal(find_event(f, "meter.values", (size_t)mv + 1), -1); /* once */
}

/* ---- Ended ------------------------------------------------------------------------------- */

static void ended_stops_the_transaction_with_meter_stop_from_transaction_end(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1");
    add_token(f, "TAG1", "ISO14443", "Accepted", 0, NULL);
    int64_t t0 = base_time();
    slot_t *r = start(f, st, "TX-1", "TAG1", "1000", t0);
    update(f, st, "TX-1", 1, "5000", t0 + MIN_MS);

    int64_t t2 = t0 + 2 * MIN_MS;
    /* A later periodic sample in the same event must not win over Transaction.End. */
    store_sample_t s[] = {energy("7.5", "kWh", "Transaction.End", t2),
                          energy("7400", "Wh", "Sample.Periodic", t2)};
    csms_tx_event_t ev = event(CSMS_TXE_ENDED, "TX-1", 2, t2);
    ev.stopped_reason = "EVDisconnected";
    ev.samples = s;
    ev.nsamples = 2;
    slot_t *e = send_event(f, st, &ev);
    assert_false(e->duplicate);
    assert_int_equal(e->session_id, r->session_id);

    assert_null(csms_tx_find_by_txid(f->c, "CS-1", "TX-1"));
    assert_int_equal(csms_tx_active_count(f->c), 0);
    json_t *ses = session(f, r->session_id);
    assert_false(jtrue(ses, "active"));
    assert_int_equal(jint(ses, "meter_stop_wh"), 7500);
    assert_int_equal(jint(ses, "energy_wh"), 6500);
    assert_int_equal(jtime(ses, "stopped_at"), t2);
    assert_string_equal(jstr(ses, "stop_reason"), "EVDisconnected");
    assert_int_equal(json_array_size(json_object_get(ses, "meter_values")), 1 + 1 + 2);
    assert_int_equal(count_events(f, "transaction.ended"), 1);
}

static void ended_without_a_register_reading_stops_at_the_last_reading(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1");
    add_token(f, "TAG1", "ISO14443", "Accepted", 0, NULL);
    int64_t t0 = base_time();
    slot_t *r = start(f, st, "TX-1", "TAG1", "1000", t0);
    update(f, st, "TX-1", 1, "3000", t0 + MIN_MS);
    csms_tx_event_t ev = event(CSMS_TXE_ENDED, "TX-1", 2, t0 + 2 * MIN_MS);
    send_event(f, st, &ev);
    json_t *ses = session(f, r->session_id);
    assert_int_equal(jint(ses, "meter_stop_wh"), 3000);
    assert_string_equal(jstr(ses, "stop_reason"), "Local");
}

/* ---- duplicates -------------------------------------------------------------------------- */

static void a_duplicate_seq_no_is_reported_and_changes_nothing(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1");
    add_token(f, "TAG1", "ISO14443", "Accepted", 0, NULL);
    int64_t t0 = base_time();
    slot_t *r = start(f, st, "TX-1", "TAG1", "1000", t0);
    update(f, st, "TX-1", 1, "2000", t0 + MIN_MS);
    json_t *before = json_deep_copy(session(f, r->session_id));

    slot_t *d = update(f, st, "TX-1", 1, "9999", t0 + 2 * MIN_MS);
    assert_true(d->duplicate);
    assert_int_equal(d->session_id, r->session_id);
    assert_int_equal(csms_tx_find_by_txid(f->c, "CS-1", "TX-1")->last_energy_wh, 2000);
    json_t *after = session(f, r->session_id);
    assert_true(json_equal(before, after));
    json_decref(before);
}

static void a_duplicate_started_changes_nothing(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1");
    add_token(f, "TAG1", "ISO14443", "Accepted", 0, NULL);
    add_token(f, "TAG2", "ISO14443", "Accepted", 0, NULL);
    int64_t t0 = base_time();
    slot_t *r = start(f, st, "TX-1", "TAG1", "1000", t0);
    slot_t *d = start(f, st, "TX-1", "TAG2", "5000", t0 + MIN_MS);
    assert_true(d->duplicate);
    assert_int_equal(d->session_id, r->session_id);
    csms_tx_t *t = csms_tx_find_by_txid(f->c, "CS-1", "TX-1");
    assert_int_equal(t->meter_start, 1000);
    assert_int_equal(t->started_at, t0);
    assert_string_equal(t->id_token, "TAG1");
    assert_int_equal(json_array_size(sessions_of(f, "CS-1")), 1);
}

/* ---- out of order ------------------------------------------------------------------------ */

static void updated_before_started_creates_the_transaction(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1");
    int64_t t1 = base_time() + MIN_MS;
    slot_t *u = update(f, st, "TX-1", 1, "3500", t1);
    assert_false(u->duplicate);
    assert_true(u->session_id > 0);
    csms_tx_t *t = csms_tx_find_by_txid(f->c, "CS-1", "TX-1");
    assert_non_null(t);
    assert_int_equal(t->id, u->session_id);
    assert_int_equal(csms_tx_active_count(f->c), 1);
}

static void a_late_started_corrects_meter_start_started_at_and_id_token(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1");
    add_token(f, "TAG1", "ISO14443", "Accepted", 0, NULL);
    int64_t t0 = base_time();
    slot_t *u = update(f, st, "TX-1", 1, "3500", t0 + 5 * MIN_MS);
    slot_t *s = start(f, st, "TX-1", "TAG1", "500", t0);
    assert_false(s->duplicate);
    assert_int_equal(s->session_id, u->session_id);
    assert_string_equal(s->status, "Accepted");

    csms_tx_t *t = csms_tx_find_by_txid(f->c, "CS-1", "TX-1");
    assert_non_null(t);
    assert_int_equal(t->meter_start, 500);
    assert_int_equal(t->started_at, t0);
    assert_string_equal(t->id_token, "TAG1");
    assert_int_equal(csms_tx_active_count(f->c), 1);

    json_t *ses = session(f, u->session_id);
    assert_int_equal(jint(ses, "meter_start_wh"), 500);
    assert_int_equal(jtime(ses, "started_at"), t0);
    assert_string_equal(jstr(ses, "id_token"), "TAG1");
    assert_int_equal(jint(ses, "energy_wh"), 3000);
    assert_int_equal(json_array_size(sessions_of(f, "CS-1")), 1);
}

static void a_late_started_records_its_token_type_and_authorization(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1");
    add_token(f, "TAG1", "ISO14443", "Accepted", 0, NULL);
    int64_t t0 = base_time();
    slot_t *u = update(f, st, "TX-1", 1, "3500", t0 + 5 * MIN_MS);
    start(f, st, "TX-1", "TAG1", "500", t0);
    json_t *ses = session(f, u->session_id);
    expect_str(ses, "auth_status", "Accepted");
    expect_str(ses, "id_token_type", "ISO14443");
}

static void the_token_of_a_late_started_is_in_use_while_its_transaction_runs(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1");
    add_token(f, "TAG1", "ISO14443", "Accepted", 0, NULL);
    int64_t t0 = base_time();
    update(f, st, "TX-1", 1, "3500", t0 + 5 * MIN_MS);
    start(f, st, "TX-1", "TAG1", "500", t0);
    assert_string_equal(csms_authorize(f->c, "TAG1", true).status, "ConcurrentTx");
    csms_tx_event_t ev = event(CSMS_TXE_ENDED, "TX-1", 2, t0 + 6 * MIN_MS);
    send_event(f, st, &ev);
    assert_string_equal(csms_authorize(f->c, "TAG1", true).status, "Accepted");
}

static void ended_before_started_ends_the_transaction(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1");
    int64_t t0 = base_time();
    store_sample_t e = energy("12000", "Wh", "Transaction.End", t0 + 30 * MIN_MS);
    csms_tx_event_t ev = event(CSMS_TXE_ENDED, "TX-1", 3, t0 + 30 * MIN_MS);
    ev.stopped_reason = "EVDisconnected";
    ev.samples = &e;
    ev.nsamples = 1;
    slot_t *r = send_event(f, st, &ev);
    assert_true(r->session_id > 0);
    assert_null(csms_tx_find_by_txid(f->c, "CS-1", "TX-1"));
    assert_int_equal(csms_tx_active_count(f->c), 0);
    json_t *ses = session(f, r->session_id);
    assert_false(jtrue(ses, "active"));
    assert_int_equal(jint(ses, "meter_stop_wh"), 12000);
    assert_string_equal(jstr(ses, "stop_reason"), "EVDisconnected");
}

static void a_started_after_its_ended_is_answered_and_does_not_reopen_it(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1");
    add_token(f, "TAG1", "ISO14443", "Accepted", 0, NULL);
    int64_t t0 = base_time();
    store_sample_t e = energy("12000", "Wh", "Transaction.End", t0 + 30 * MIN_MS);
    csms_tx_event_t ev = event(CSMS_TXE_ENDED, "TX-1", 3, t0 + 30 * MIN_MS);
    ev.samples = &e;
    ev.nsamples = 1;
    slot_t *r = send_event(f, st, &ev);

    slot_t *s = start(f, st, "TX-1", "TAG1", "10000", t0);
    assert_int_equal(s->session_id, r->session_id);
    assert_true(s->has_info);
    assert_string_equal(s->status, "Accepted");
    assert_null(csms_tx_find_by_txid(f->c, "CS-1", "TX-1"));
    assert_int_equal(csms_tx_active_count(f->c), 0);
    json_t *ses = session(f, r->session_id);
    assert_false(jtrue(ses, "active"));
    assert_int_equal(jint(ses, "meter_stop_wh"), 12000);
    assert_int_equal(json_array_size(sessions_of(f, "CS-1")), 1);
}

static void a_started_after_its_ended_fills_in_the_start_fields(void **state)
{
    /* The ended session must not keep placeholder start fields: its energy
     * would be computed from them. */
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1");
    add_token(f, "TAG1", "ISO14443", "Accepted", 0, NULL);
    int64_t t0 = base_time();
    store_sample_t e = energy("12000", "Wh", "Transaction.End", t0 + 30 * MIN_MS);
    csms_tx_event_t ev = event(CSMS_TXE_ENDED, "TX-1", 3, t0 + 30 * MIN_MS);
    ev.samples = &e;
    ev.nsamples = 1;
    slot_t *r = send_event(f, st, &ev);
    start(f, st, "TX-1", "TAG1", "10000", t0);

    json_t *ses = session(f, r->session_id);
    expect_int(ses, "meter_start_wh", 10000);
    assert_int_equal(jtime(ses, "started_at"), t0);
    expect_str(ses, "id_token", "TAG1");
    expect_int(ses, "energy_wh", 2000);
}

static void an_ended_first_transaction_does_not_take_its_end_reading_as_meter_start(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1");
    int64_t t0 = base_time();
    store_sample_t e = energy("12000", "Wh", "Transaction.End", t0);
    csms_tx_event_t ev = event(CSMS_TXE_ENDED, "TX-1", 3, t0);
    ev.samples = &e;
    ev.nsamples = 1;
    slot_t *r = send_event(f, st, &ev);
    json_t *ses = session(f, r->session_id);
    /* A Transaction.End register is not a Transaction.Begin one: the start
     * reading is unknown (null) until the Started event brings it. */
    json_t *ms = json_object_get(ses, "meter_start_wh");
    assert_true(json_is_null(ms) || json_is_integer(ms));
    assert_true(json_is_null(json_object_get(ses, "energy_wh")) || !json_is_null(ms));
    if (json_is_integer(ms) && json_integer_value(ms) == 12000) {
        print_error(
            "meter_start_wh is 12000: the Transaction.End reading was taken as the start\n");
        fail();
    }
}

/* ---- events for an ended transaction ----------------------------------------------------- */

static void events_for_an_ended_transaction_are_answered_and_change_nothing(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1");
    add_token(f, "TAG1", "ISO14443", "Accepted", 0, NULL);
    int64_t t0 = base_time();
    slot_t *r = start(f, st, "TX-1", "TAG1", "1000", t0);
    store_sample_t end = energy("4000", "Wh", "Transaction.End", t0 + MIN_MS);
    csms_tx_event_t ev = event(CSMS_TXE_ENDED, "TX-1", 1, t0 + MIN_MS);
    ev.samples = &end;
    ev.nsamples = 1;
    send_event(f, st, &ev);
    json_t *before = json_deep_copy(session(f, r->session_id));

    slot_t *u = update(f, st, "TX-1", 5, "99999", t0 + 2 * MIN_MS);
    assert_int_equal(u->session_id, r->session_id);
    store_sample_t end2 = energy("88888", "Wh", "Transaction.End", t0 + 3 * MIN_MS);
    csms_tx_event_t ev2 = event(CSMS_TXE_ENDED, "TX-1", 6, t0 + 3 * MIN_MS);
    ev2.stopped_reason = "PowerLoss";
    ev2.samples = &end2;
    ev2.nsamples = 1;
    send_event(f, st, &ev2);
    slot_t *again = update(f, st, "TX-1", 1, "77777", t0 + 4 * MIN_MS);
    assert_int_equal(again->session_id, r->session_id);

    assert_int_equal(csms_tx_active_count(f->c), 0);
    assert_true(json_equal(before, session(f, r->session_id)));
    assert_int_equal(json_array_size(sessions_of(f, "CS-1")), 1);
    json_decref(before);
}

/* ---- restart ----------------------------------------------------------------------------- */

static void sequence_numbers_survive_a_restart(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1");
    add_token(f, "TAG1", "ISO14443", "Accepted", 0, NULL);
    int64_t t0 = base_time();
    slot_t *r = start(f, st, "TX-1", "TAG1", "1000", t0);
    update(f, st, "TX-1", 1, "2000", t0 + MIN_MS);
    restart_domain(f);

    st = csms_station_find(f->c, "CS-1");
    csms_tx_t *t = csms_tx_find_by_txid(f->c, "CS-1", "TX-1");
    assert_non_null(t);
    assert_int_equal(t->id, r->session_id);
    slot_t *d = update(f, st, "TX-1", 1, "9999", t0 + 2 * MIN_MS);
    assert_true(d->duplicate);
    slot_t *d0 = start(f, st, "TX-1", "TAG1", "7777", t0 + 3 * MIN_MS);
    assert_true(d0->duplicate);
    t = csms_tx_find_by_txid(f->c, "CS-1", "TX-1");
    assert_int_equal(t->last_energy_wh, 2000);
    assert_int_equal(t->meter_start, 1000);

    slot_t *n = update(f, st, "TX-1", 2, "3000", t0 + 4 * MIN_MS);
    assert_false(n->duplicate);
    assert_int_equal(csms_tx_find_by_txid(f->c, "CS-1", "TX-1")->last_energy_wh, 3000);
}

static void an_ended_transaction_stays_ended_after_a_restart(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1");
    add_token(f, "TAG1", "ISO14443", "Accepted", 0, NULL);
    int64_t t0 = base_time();
    slot_t *r = start(f, st, "TX-1", "TAG1", "1000", t0);
    csms_tx_event_t ev = event(CSMS_TXE_ENDED, "TX-1", 1, t0 + MIN_MS);
    send_event(f, st, &ev);
    json_t *before = json_deep_copy(session(f, r->session_id));
    restart_domain(f);

    st = csms_station_find(f->c, "CS-1");
    assert_int_equal(csms_tx_active_count(f->c), 0);
    slot_t *u = update(f, st, "TX-1", 2, "5000", t0 + 2 * MIN_MS);
    assert_int_equal(u->session_id, r->session_id);
    assert_int_equal(csms_tx_active_count(f->c), 0);
    assert_true(json_equal(before, session(f, r->session_id)));
    json_decref(before);
}

/* ---- gaps -------------------------------------------------------------------------------- */

static void consecutive_sequence_numbers_ask_the_station_nothing(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_linked_station(f, "CS-1");
    add_token(f, "TAG1", "ISO14443", "Accepted", 0, NULL);
    int64_t t0 = base_time();
    start(f, st, "TX-1", "TAG1", "0", t0);
    update(f, st, "TX-1", 1, "100", t0 + MIN_MS);
    update(f, st, "TX-1", 2, "200", t0 + 2 * MIN_MS);
    update(f, st, "TX-1", 2, "200", t0 + 2 * MIN_MS); /* a duplicate is no gap either */
    assert_int_equal(link_calls(f, "GetTransactionStatus"), 0);
}

static void a_gap_in_sequence_numbers_sends_get_transaction_status(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_linked_station(f, "CS-1");
    add_token(f, "TAG1", "ISO14443", "Accepted", 0, NULL);
    int64_t t0 = base_time();
    start(f, st, "TX-1", "TAG1", "0", t0);
    slot_t *u = update(f, st, "TX-1", 3, "300", t0 + 3 * MIN_MS);
    assert_false(u->duplicate);

    assert_int_equal(link_calls(f, "GetTransactionStatus"), 1);
    int i = 0;
    while (strcmp(f->link.action[i], "GetTransactionStatus") != 0)
        i++;
    json_t *want = json_pack("{s:s}", "transactionId", "TX-1");
    assert_true(json_equal(f->link.payload[i], want));
    json_decref(want);
    /* The event after the gap is applied all the same. */
    assert_int_equal(csms_tx_find_by_txid(f->c, "CS-1", "TX-1")->last_energy_wh, 300);
}

static void events_filling_a_gap_are_applied_and_ask_nothing_more(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_linked_station(f, "CS-1");
    add_token(f, "TAG1", "ISO14443", "Accepted", 0, NULL);
    int64_t t0 = base_time();
    slot_t *r = start(f, st, "TX-1", "TAG1", "0", t0);
    update(f, st, "TX-1", 3, "300", t0 + 3 * MIN_MS);
    answer_link_calls(f);
    slot_t *a = update(f, st, "TX-1", 1, "100", t0 + MIN_MS);
    slot_t *b = update(f, st, "TX-1", 2, "200", t0 + 2 * MIN_MS);
    assert_false(a->duplicate);
    assert_false(b->duplicate);
    assert_int_equal(link_calls(f, "GetTransactionStatus"), 1);
    json_t *ses = session(f, r->session_id);
    assert_int_equal(json_array_size(json_object_get(ses, "meter_values")), 4);
    assert_int_equal(jint(ses, "energy_wh"), 300); /* older late readings do not move it back */
}

static void a_gap_without_a_connected_station_is_no_error(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1"); /* no link */
    add_token(f, "TAG1", "ISO14443", "Accepted", 0, NULL);
    int64_t t0 = base_time();
    start(f, st, "TX-1", "TAG1", "0", t0);
    slot_t *u = update(f, st, "TX-1", 5, "500", t0 + MIN_MS);
    assert_int_equal(u->rc, CSMS_OK);
    assert_int_equal(csms_tx_find_by_txid(f->c, "CS-1", "TX-1")->last_energy_wh, 500);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(a_started_event_creates_an_active_transaction),
        T(a_started_event_with_an_unknown_token_reports_it_as_not_known),
        T(id_token_info_for_no_authorization_is_accepted),
        T(a_started_event_for_a_group_member_reports_the_group),
        T(an_event_without_an_id_token_carries_no_id_token_info),
        T(the_same_transaction_id_on_two_stations_is_two_transactions),
        T(updated_events_track_energy_and_soc),
        T(updated_samples_raise_meter_values_with_the_session),
        T(ended_samples_raise_meter_values_before_the_end),
        T(ended_stops_the_transaction_with_meter_stop_from_transaction_end),
        T(ended_without_a_register_reading_stops_at_the_last_reading),
        T(a_duplicate_seq_no_is_reported_and_changes_nothing),
        T(a_duplicate_started_changes_nothing),
        T(updated_before_started_creates_the_transaction),
        T(a_late_started_corrects_meter_start_started_at_and_id_token),
        T(a_late_started_records_its_token_type_and_authorization),
        T(the_token_of_a_late_started_is_in_use_while_its_transaction_runs),
        T(ended_before_started_ends_the_transaction),
        T(a_started_after_its_ended_is_answered_and_does_not_reopen_it),
        T(a_started_after_its_ended_fills_in_the_start_fields),
        T(an_ended_first_transaction_does_not_take_its_end_reading_as_meter_start),
        T(events_for_an_ended_transaction_are_answered_and_change_nothing),
        T(sequence_numbers_survive_a_restart),
        T(an_ended_transaction_stays_ended_after_a_restart),
        T(consecutive_sequence_numbers_ask_the_station_nothing),
        T(a_gap_in_sequence_numbers_sends_get_transaction_status),
        T(events_filling_a_gap_are_applied_and_ask_nothing_more),
        T(a_gap_without_a_connected_station_is_no_error),
    };
#undef T
    return cmocka_run_group_tests_name("transaction events", tests, group_setup, NULL);
}
