/*
 * Specification of the charging domain (src/csms/): authorization rules,
 * station validation and authentication (with rate limiting and
 * auto-registration), transactions and meter values, connector status, boots
 * and id token management.
 *
 * Each test runs the real thing: a store in a fresh data directory, a libuv
 * loop and csms_create() over them. Changes are only trusted after their
 * completion has run (the domain's durability rule), and where a test checks
 * what was stored it reads it back from the store, or restarts the domain
 * from the database. Completions land in fixture-owned "slots" so a failing
 * test cannot leave a callback pointing into a dead stack frame.
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
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "csms/csms.h"
#include "util/password.h"
#include "util/timefmt.h"

#define MAX_SLOTS 512
#define WAIT_NS (20ULL * 1000 * 1000 * 1000)
#define PW "0123456789abcdef"          /* 16 characters, the shortest allowed */
#define PW2 "fedcba9876543210fedcba98" /* another valid one */
#define HOUR_MS (3600LL * 1000)

/* ---- fixture ----------------------------------------------------------------------------- */

typedef struct fixture fixture_t;

/* Where one completion lands; fields are filled by whichever callback kind ran. */
typedef struct slot {
    fixture_t *f;
    int calls;
    int rc; /* csms_err_t or store_err_t */
    char msg[160];
    char status[32]; /* boot status or authorization status */
    int interval;
    int64_t id, expiry;
    bool known;
    json_t *json;
} slot_t;

struct fixture {
    char dir[64];
    csms_config_t cfg;
    uv_loop_t loop;
    uv_timer_t tick;
    store_t *store;
    csms_t *c;
    json_t *events; /* [{"type":..., "data":...}] */
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

static int setup_with(void **state, bool auto_register)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (f == NULL) return -1;
    f->cfg = (csms_config_t){.heartbeat_interval = 300,
                             .pending_interval = 30,
                             .auto_register = auto_register,
                             .auth_fail_limit = 3,
                             .auth_fail_window = 60,
                             .pw_opslimit = 1,
                             .pw_memlimit = 8192};
    f->events = json_array();
    snprintf(f->dir, sizeof f->dir, "/tmp/ampgrid-csms-XXXXXX");
    if (mkdtemp(f->dir) == NULL) return -1;
    if (uv_loop_init(&f->loop) != 0) return -1;
    uv_timer_init(&f->loop, &f->tick);
    uv_timer_start(&f->tick, tick_cb, 50, 50);
    *state = f;
    return open_domain(f);
}

static int setup(void **state)
{
    return setup_with(state, false);
}

static int setup_auto_register(void **state)
{
    return setup_with(state, true);
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    int rc = 0;
    uv_close((uv_handle_t *)&f->tick, NULL);
    close_domain(f);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&f->loop) != 0) {
        print_error("uv_loop_close: handles left open\n");
        rc = -1;
    }
    for (unsigned i = 0; i < f->nslots; i++)
        json_decref(f->slots[i].json);
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
    close_domain(f);
    if (open_domain(f) != 0) fail_msg("cannot reopen the domain");
}

static void done_cb(void *ctx, csms_err_t rc, const char *msg)
{
    slot_t *s = ctx;
    s->calls++;
    s->rc = rc;
    snprintf(s->msg, sizeof s->msg, "%s", msg ? msg : "");
    s->f->completed++;
}

static void boot_cb(void *ctx, csms_err_t rc, const csms_boot_result_t *r)
{
    slot_t *s = ctx;
    s->calls++;
    s->rc = rc;
    if (r) {
        snprintf(s->status, sizeof s->status, "%s", r->status);
        s->interval = r->interval;
    }
    s->f->completed++;
}

static void start_cb(void *ctx, csms_err_t rc, const csms_tx_started_t *r)
{
    slot_t *s = ctx;
    s->calls++;
    s->rc = rc;
    if (r) {
        s->id = r->id;
        snprintf(s->status, sizeof s->status, "%s", r->info.status);
        s->expiry = r->info.expiry;
    }
    s->f->completed++;
}

static void stop_cb(void *ctx, csms_err_t rc, bool known)
{
    slot_t *s = ctx;
    s->calls++;
    s->rc = rc;
    s->known = known;
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

/* ---- domain operations as one-liners ----------------------------------------------------- */

static csms_station_t *add_station(fixture_t *f, const char *id, const char *password, int profile,
                                   const char *registration)
{
    char err[256] = "";
    csms_station_spec_t spec = {.id = id,
                                .password = password,
                                .security_profile = profile,
                                .registration_status = registration};
    slot_t *s = slot_new(f);
    csms_err_t e = csms_station_create(f->c, &spec, done_cb, s, err, sizeof err);
    if (e != CSMS_OK) fail_msg("creating station %s failed: %d %s", id, (int)e, err);
    wait_all(f);
    if (s->rc != CSMS_OK) fail_msg("station %s not stored: %s", id, s->msg);
    csms_station_t *st = csms_station_find(f->c, id);
    assert_non_null(st);
    return st;
}

static csms_err_t create_station(fixture_t *f, const csms_station_spec_t *spec, char *err)
{
    slot_t *s = slot_new(f);
    csms_err_t e = csms_station_create(f->c, spec, done_cb, s, err, 256);
    if (e != CSMS_OK) {
        /* No completion follows a refusal: give the slot back. */
        f->nslots--;
        if (err[0] == '\0') fail_msg("refusal without a message");
    }
    wait_all(f);
    return e;
}

static void add_token(fixture_t *f, const char *id, const char *status, int64_t expiry,
                      const char *parent)
{
    char err[256] = "";
    csms_id_token_spec_t spec = {.id_token = id,
                                 .type = "ISO14443",
                                 .status = status,
                                 .expiry = expiry,
                                 .parent_id_token = parent};
    slot_t *s = slot_new(f);
    csms_err_t e = csms_id_token_create(f->c, &spec, done_cb, s, err, sizeof err);
    if (e != CSMS_OK) fail_msg("creating id token %s failed: %d %s", id, (int)e, err);
    wait_all(f);
    if (s->rc != CSMS_OK) fail_msg("id token %s not stored", id);
}

static csms_err_t create_token(fixture_t *f, const csms_id_token_spec_t *spec)
{
    char err[256] = "";
    slot_t *s = slot_new(f);
    csms_err_t e = csms_id_token_create(f->c, spec, done_cb, s, err, sizeof err);
    if (e != CSMS_OK) {
        f->nslots--;
        if (err[0] == '\0') fail_msg("refusal without a message");
    }
    wait_all(f);
    return e;
}

static csms_tx_start_t tx_in(int evse, const char *token, int64_t meter_start, int64_t ts)
{
    return (csms_tx_start_t){.evse_id = evse,
                             .connector_id = 1,
                             .id_token = token,
                             .id_token_type = "ISO14443",
                             .meter_start = meter_start,
                             .timestamp = ts,
                             .reservation_id = -1};
}

static slot_t *start_tx(fixture_t *f, csms_station_t *st, const csms_tx_start_t *in)
{
    slot_t *s = slot_new(f);
    csms_tx_start(f->c, st, in, start_cb, s);
    wait_all(f);
    if (s->rc != CSMS_OK) fail_msg("tx start failed: %d", s->rc);
    return s;
}

static slot_t *stop_tx(fixture_t *f, csms_station_t *st, int64_t id, int64_t meter_stop, int64_t ts,
                       const store_sample_t *samples, size_t n)
{
    csms_tx_stop_t in = {.id = id,
                         .meter_stop = meter_stop,
                         .timestamp = ts,
                         .reason = "EVDisconnected",
                         .samples = samples,
                         .nsamples = n};
    slot_t *s = slot_new(f);
    csms_tx_stop(f->c, st, &in, stop_cb, s);
    wait_all(f);
    return s;
}

static slot_t *meter(fixture_t *f, csms_station_t *st, int64_t tx, const store_sample_t *samples,
                     size_t n)
{
    slot_t *s = slot_new(f);
    csms_meter_values(f->c, st, 1, 1, tx, samples, n, done_cb, s);
    wait_all(f);
    if (s->rc != CSMS_OK) fail_msg("meter values not stored");
    return s;
}

static slot_t *report_status(fixture_t *f, csms_station_t *st, int evse, const char *value,
                             int64_t ts)
{
    csms_status_report_t r = {.evse_id = evse,
                              .connector_id = evse ? 1 : 0,
                              .status = value,
                              .error_code = "NoError",
                              .timestamp = ts};
    slot_t *s = slot_new(f);
    csms_status(f->c, st, &r, done_cb, s);
    wait_all(f);
    if (s->rc != CSMS_OK) fail_msg("status not stored");
    return s;
}

static json_t *session(fixture_t *f, int64_t id)
{
    slot_t *s = slot_new(f);
    store_query_session(f->store, id, json_cb, s);
    wait_all(f);
    if (s->rc != STORE_OK) fail_msg("session %lld not found", (long long)id);
    return s->json;
}

static json_t *station_events(fixture_t *f, const char *station)
{
    slot_t *s = slot_new(f);
    store_query_station_events(f->store, station, 100, json_cb, s);
    wait_all(f);
    return s->json;
}

static csms_auth_t auth(fixture_t *f, const char *id, const char *user, const char *pass, bool tls,
                        const char *peer, int *retry_after)
{
    int dummy;
    return csms_authenticate(f->c, id, user, pass, tls, peer, retry_after ? retry_after : &dummy);
}

/* Events of `type` recorded so far. */
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

static json_t *last_event(fixture_t *f, const char *type)
{
    json_t *found = NULL;
    size_t i;
    json_t *e;
    json_array_foreach(f->events, i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "type")), type) == 0)
            found = json_object_get(e, "data");
    }
    if (found == NULL) fail_msg("no %s event", type);
    return found;
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

static csms_connector_t *connector(csms_station_t *st, int evse)
{
    for (size_t i = 0; i < st->nconnectors; i++)
        if (st->connectors[i].evse_id == evse) return &st->connectors[i];
    fail_msg("no connector %d", evse);
    return NULL;
}

/* ---- authorization ----------------------------------------------------------------------- */

static void an_unknown_id_token_is_invalid(void **state)
{
    fixture_t *f = *state;
    csms_id_token_info_t i = csms_authorize(f->c, "NOPE", true);
    assert_string_equal(i.status, "Invalid");
    assert_int_equal(i.expiry, 0);
    assert_null(i.parent_id_token);
}

static void a_blocked_id_token_is_blocked(void **state)
{
    fixture_t *f = *state;
    add_token(f, "TAG1", "Blocked", 0, NULL);
    assert_string_equal(csms_authorize(f->c, "TAG1", true).status, "Blocked");
}

static void an_id_token_with_status_expired_is_expired(void **state)
{
    fixture_t *f = *state;
    add_token(f, "TAG1", "Expired", 0, NULL);
    assert_string_equal(csms_authorize(f->c, "TAG1", true).status, "Expired");
}

static void an_accepted_id_token_past_its_expiry_is_expired(void **state)
{
    fixture_t *f = *state;
    int64_t past = time_now_ms() - HOUR_MS;
    add_token(f, "TAG1", "Accepted", past, NULL);
    csms_id_token_info_t i = csms_authorize(f->c, "TAG1", true);
    assert_string_equal(i.status, "Expired");
    assert_int_equal(i.expiry, past);
}

static void an_accepted_id_token_before_its_expiry_is_accepted_with_the_expiry(void **state)
{
    fixture_t *f = *state;
    int64_t future = time_now_ms() + HOUR_MS;
    add_token(f, "TAG1", "Accepted", future, NULL);
    csms_id_token_info_t i = csms_authorize(f->c, "TAG1", true);
    assert_string_equal(i.status, "Accepted");
    assert_int_equal(i.expiry, future);
}

static void a_member_of_an_accepted_group_is_accepted_with_its_parent(void **state)
{
    fixture_t *f = *state;
    add_token(f, "GROUP", "Accepted", 0, NULL);
    add_token(f, "TAG1", "Accepted", 0, "GROUP");
    csms_id_token_info_t i = csms_authorize(f->c, "TAG1", true);
    assert_string_equal(i.status, "Accepted");
    assert_string_equal(i.parent_id_token, "GROUP");
}

static void a_member_of_a_blocked_group_is_blocked(void **state)
{
    fixture_t *f = *state;
    add_token(f, "GROUP", "Blocked", 0, NULL);
    add_token(f, "TAG1", "Accepted", 0, "GROUP");
    csms_id_token_info_t i = csms_authorize(f->c, "TAG1", true);
    assert_string_equal(i.status, "Blocked");
    assert_string_equal(i.parent_id_token, "GROUP");
}

static void a_member_of_an_expired_group_is_not_accepted(void **state)
{
    /* charging.c: "A blocked or expired group blocks its members." */
    fixture_t *f = *state;
    add_token(f, "GROUP1", "Expired", 0, NULL);
    add_token(f, "GROUP2", "Accepted", time_now_ms() - HOUR_MS, NULL);
    add_token(f, "TAG1", "Accepted", 0, "GROUP1");
    add_token(f, "TAG2", "Accepted", 0, "GROUP2");
    assert_string_not_equal(csms_authorize(f->c, "TAG1", true).status, "Accepted");
    assert_string_not_equal(csms_authorize(f->c, "TAG2", true).status, "Accepted");
}

static void a_token_in_an_active_transaction_is_concurrent_tx(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1", NULL, 0, NULL);
    add_token(f, "TAG1", "Accepted", 0, NULL);
    csms_tx_start_t in = tx_in(1, "TAG1", 0, 1000);
    start_tx(f, st, &in);
    assert_string_equal(csms_authorize(f->c, "TAG1", true).status, "ConcurrentTx");
}

static void concurrent_tx_is_not_checked_when_not_asked(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1", NULL, 0, NULL);
    add_token(f, "TAG1", "Accepted", 0, NULL);
    csms_tx_start_t in = tx_in(1, "TAG1", 0, 1000);
    start_tx(f, st, &in);
    assert_string_equal(csms_authorize(f->c, "TAG1", false).status, "Accepted");
}

static void a_token_is_free_again_once_its_transaction_stops(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1", NULL, 0, NULL);
    add_token(f, "TAG1", "Accepted", 0, NULL);
    csms_tx_start_t in = tx_in(1, "TAG1", 0, 1000);
    int64_t id = start_tx(f, st, &in)->id;
    stop_tx(f, st, id, 10, 2000, NULL, 0);
    assert_string_equal(csms_authorize(f->c, "TAG1", true).status, "Accepted");
}

/* ---- station creation -------------------------------------------------------------------- */

static void station_create_refuses_bad_ids(void **state)
{
    fixture_t *f = *state;
    char id49[50];
    memset(id49, 'a', 49);
    id49[49] = '\0';
    const char *bad[] = {"", id49, "CS:1", "CS 1", "CS/1", "CS#1", "CS\xc3\xa9", ".", "..", NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256] = "";
        csms_station_spec_t spec = {.id = bad[i], .security_profile = 0};
        if (create_station(f, &spec, err) != CSMS_ERR_INVALID)
            fail_msg("accepted id '%s'", bad[i] ? bad[i] : "(null)");
    }
    assert_int_equal(csms_station_count(f->c), 0);
    assert_int_equal(count_events(f, "station.created"), 0);
}

static void station_create_accepts_ids_of_1_to_48_allowed_characters(void **state)
{
    fixture_t *f = *state;
    char id48[49];
    memset(id48, 'Z', 48);
    id48[48] = '\0';
    add_station(f, id48, NULL, 0, NULL);
    add_station(f, "a", NULL, 0, NULL);
    add_station(f, "Az09*-_=+|@.", NULL, 0, NULL);
    assert_int_equal(csms_station_count(f->c), 3);
}

static void station_create_refuses_passwords_of_15_or_41_characters(void **state)
{
    fixture_t *f = *state;
    char err[256] = "";
    csms_station_spec_t spec = {.id = "CS-1", .password = "0123456789abcde", .security_profile = 1};
    assert_int_equal(create_station(f, &spec, err), CSMS_ERR_INVALID);
    assert_non_null(strstr(err, "16 to 40"));
    spec.password = "0123456789abcdef0123456789abcdef012345678";
    err[0] = '\0';
    assert_int_equal(create_station(f, &spec, err), CSMS_ERR_INVALID);
    assert_null(csms_station_find(f->c, "CS-1"));
}

static void station_create_accepts_passwords_of_16_and_40_characters(void **state)
{
    fixture_t *f = *state;
    add_station(f, "CS-16", PW, 1, NULL);
    add_station(f, "CS-40", "0123456789abcdef0123456789abcdef01234567", 1, NULL);
}

static void station_create_refuses_security_profile_4(void **state)
{
    fixture_t *f = *state;
    char err[256] = "";
    csms_station_spec_t spec = {.id = "CS-1", .password = PW, .security_profile = 4};
    assert_int_equal(create_station(f, &spec, err), CSMS_ERR_INVALID);
    spec.security_profile = -2;
    err[0] = '\0';
    assert_int_equal(create_station(f, &spec, err), CSMS_ERR_INVALID);
}

static void station_create_refuses_registration_status_maybe(void **state)
{
    fixture_t *f = *state;
    char err[256] = "";
    csms_station_spec_t spec = {
        .id = "CS-1", .security_profile = 0, .registration_status = "Maybe"};
    assert_int_equal(create_station(f, &spec, err), CSMS_ERR_INVALID);
    assert_non_null(strstr(err, "registration_status"));
}

static void station_create_requires_a_password_above_profile_0(void **state)
{
    fixture_t *f = *state;
    char err[256] = "";
    csms_station_spec_t spec = {.id = "CS-1", .security_profile = 1};
    assert_int_equal(create_station(f, &spec, err), CSMS_ERR_INVALID);
    assert_non_null(strstr(err, "password"));
}

static void station_create_refuses_a_duplicate_id_as_exists(void **state)
{
    fixture_t *f = *state;
    char err[256] = "";
    add_station(f, "CS-1", PW, 1, NULL);
    csms_station_spec_t spec = {.id = "CS-1", .password = PW2, .security_profile = 1};
    assert_int_equal(create_station(f, &spec, err), CSMS_ERR_EXISTS);
    assert_int_equal(auth(f, "CS-1", "CS-1", PW, false, "10.0.0.1", NULL), CSMS_AUTH_OK);
}

static void a_created_station_is_stored_and_announced(void **state)
{
    fixture_t *f = *state;
    add_station(f, "CS-1", PW, 1, "Pending");
    assert_int_equal(count_events(f, "station.created"), 1);
    assert_string_equal(jstr(last_event(f, "station.created"), "station_id"), "CS-1");
    restart_domain(f);
    csms_station_t *st = csms_station_find(f->c, "CS-1");
    assert_non_null(st);
    assert_string_equal(st->registration_status, "Pending");
    assert_int_equal(st->security_profile, 1);
    assert_true(password_verify(st->password_hash, PW));
}

/* ---- authentication ---------------------------------------------------------------------- */

static void an_unknown_station_is_refused_without_auto_registration(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(auth(f, "CS-NEW", "CS-NEW", PW, false, "10.0.0.1", NULL),
                     CSMS_AUTH_UNKNOWN_STATION);
    assert_null(csms_station_find(f->c, "CS-NEW"));
}

static void an_unknown_station_is_registered_as_pending_with_auto_registration(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(auth(f, "CS-NEW", "CS-NEW", PW, false, "10.0.0.1", NULL), CSMS_AUTH_OK);
    csms_station_t *st = csms_station_find(f->c, "CS-NEW");
    assert_non_null(st);
    assert_string_equal(st->registration_status, "Pending");
    assert_true(st->auto_registered);
    assert_int_equal(count_events(f, "station.created"), 1);
    restart_domain(f);
    st = csms_station_find(f->c, "CS-NEW");
    assert_non_null(st);
    assert_string_equal(st->registration_status, "Pending");
    assert_true(password_verify(st->password_hash, PW));
    /* The password it came with is now its password. */
    assert_int_equal(auth(f, "CS-NEW", "CS-NEW", PW2, false, "10.0.0.1", NULL),
                     CSMS_AUTH_BAD_CREDENTIALS);
    assert_int_equal(auth(f, "CS-NEW", "CS-NEW", PW, false, "10.0.0.1", NULL), CSMS_AUTH_OK);
}

static void auto_registration_still_refuses_a_bad_station_id(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(auth(f, "CS:NEW", "CS:NEW", PW, false, "10.0.0.1", NULL), CSMS_AUTH_BAD_ID);
    assert_int_equal(csms_station_count(f->c), 0);
}

static void the_right_password_is_ok(void **state)
{
    fixture_t *f = *state;
    add_station(f, "CS-1", PW, 1, NULL);
    assert_int_equal(auth(f, "CS-1", "CS-1", PW, false, "10.0.0.1", NULL), CSMS_AUTH_OK);
    /* and again, now through the verification cache */
    assert_int_equal(auth(f, "CS-1", "CS-1", PW, false, "10.0.0.1", NULL), CSMS_AUTH_OK);
}

static void a_wrong_password_is_bad_credentials(void **state)
{
    fixture_t *f = *state;
    add_station(f, "CS-1", PW, 1, NULL);
    assert_int_equal(auth(f, "CS-1", "CS-1", PW2, false, "10.0.0.1", NULL),
                     CSMS_AUTH_BAD_CREDENTIALS);
}

static void a_wrong_password_after_a_cached_success_is_still_bad_credentials(void **state)
{
    fixture_t *f = *state;
    add_station(f, "CS-1", PW, 1, NULL);
    assert_int_equal(auth(f, "CS-1", "CS-1", PW, false, "10.0.0.1", NULL), CSMS_AUTH_OK);
    assert_int_equal(auth(f, "CS-1", "CS-1", PW2, false, "10.0.0.1", NULL),
                     CSMS_AUTH_BAD_CREDENTIALS);
}

static void a_user_name_other_than_the_station_id_is_bad_credentials(void **state)
{
    fixture_t *f = *state;
    add_station(f, "CS-1", PW, 1, NULL);
    assert_int_equal(auth(f, "CS-1", "CS-2", PW, false, "10.0.0.1", NULL),
                     CSMS_AUTH_BAD_CREDENTIALS);
}

static void missing_credentials_are_reported_as_such(void **state)
{
    fixture_t *f = *state;
    add_station(f, "CS-1", PW, 1, NULL);
    assert_int_equal(auth(f, "CS-1", NULL, NULL, false, "10.0.0.1", NULL),
                     CSMS_AUTH_NO_CREDENTIALS);
}

static void a_profile_0_station_without_password_needs_no_credentials(void **state)
{
    fixture_t *f = *state;
    add_station(f, "CS-1", NULL, 0, NULL);
    assert_int_equal(auth(f, "CS-1", NULL, NULL, false, "10.0.0.1", NULL), CSMS_AUTH_OK);
}

static void a_profile_2_station_over_plain_websocket_needs_tls(void **state)
{
    fixture_t *f = *state;
    add_station(f, "CS-1", PW, 2, NULL);
    assert_int_equal(auth(f, "CS-1", "CS-1", PW, false, "10.0.0.1", NULL), CSMS_AUTH_NEEDS_TLS);
    assert_int_equal(auth(f, "CS-1", "CS-1", PW, true, "10.0.0.1", NULL), CSMS_AUTH_OK);
}

static void a_malformed_station_id_is_bad_id(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(auth(f, "", "", PW, false, "10.0.0.1", NULL), CSMS_AUTH_BAD_ID);
    assert_int_equal(auth(f, "a:b", "a:b", PW, false, "10.0.0.1", NULL), CSMS_AUTH_BAD_ID);
    assert_int_equal(auth(f, NULL, NULL, PW, false, "10.0.0.1", NULL), CSMS_AUTH_BAD_ID);
}

static void repeated_failures_rate_limit_even_the_right_password(void **state)
{
    fixture_t *f = *state;
    add_station(f, "CS-1", PW, 1, NULL);
    for (int i = 0; i < f->cfg.auth_fail_limit; i++)
        assert_int_equal(auth(f, "CS-1", "CS-1", PW2, false, "10.0.0.1", NULL),
                         CSMS_AUTH_BAD_CREDENTIALS);
    int retry = 0;
    assert_int_equal(auth(f, "CS-1", "CS-1", PW, false, "10.0.0.1", &retry),
                     CSMS_AUTH_RATE_LIMITED);
    assert_true(retry > 0);
    assert_true(retry <= f->cfg.auth_fail_window);
}

static void failures_below_the_limit_do_not_rate_limit(void **state)
{
    fixture_t *f = *state;
    add_station(f, "CS-1", PW, 1, NULL);
    for (int i = 0; i < f->cfg.auth_fail_limit - 1; i++)
        assert_int_equal(auth(f, "CS-1", "CS-1", PW2, false, "10.0.0.1", NULL),
                         CSMS_AUTH_BAD_CREDENTIALS);
    int retry = -1;
    assert_int_equal(auth(f, "CS-1", "CS-1", PW, false, "10.0.0.1", &retry), CSMS_AUTH_OK);
    assert_int_equal(retry, 0);
}

static void a_station_id_under_attack_is_limited_from_every_address(void **state)
{
    fixture_t *f = *state;
    add_station(f, "CS-1", PW, 1, NULL);
    char peer[32];
    for (int i = 0; i < f->cfg.auth_fail_limit; i++) {
        snprintf(peer, sizeof peer, "10.0.1.%d", i);
        assert_int_equal(auth(f, "CS-1", "CS-1", PW2, false, peer, NULL),
                         CSMS_AUTH_BAD_CREDENTIALS);
    }
    int retry = 0;
    assert_int_equal(auth(f, "CS-1", "CS-1", PW, false, "10.0.2.1", &retry),
                     CSMS_AUTH_RATE_LIMITED);
    assert_true(retry > 0);
}

static void an_address_probing_station_ids_is_limited_for_every_station(void **state)
{
    fixture_t *f = *state;
    add_station(f, "CS-1", PW, 1, NULL);
    char id[32];
    for (int i = 0; i < f->cfg.auth_fail_limit; i++) {
        snprintf(id, sizeof id, "PROBE-%d", i);
        assert_int_equal(auth(f, id, id, PW, false, "10.6.6.6", NULL), CSMS_AUTH_UNKNOWN_STATION);
    }
    int retry = 0;
    assert_int_equal(auth(f, "CS-1", "CS-1", PW, false, "10.6.6.6", &retry),
                     CSMS_AUTH_RATE_LIMITED);
    assert_true(retry > 0);
    /* Another address is not affected. */
    assert_int_equal(auth(f, "CS-1", "CS-1", PW, false, "10.0.0.1", NULL), CSMS_AUTH_OK);
}

/* ---- transactions ------------------------------------------------------------------------ */

static void a_started_transaction_is_active_and_announced(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1", NULL, 0, NULL);
    add_token(f, "TAG1", "Accepted", 0, NULL);
    csms_tx_start_t in = tx_in(2, "TAG1", 1000, 1700000000000);
    slot_t *s = start_tx(f, st, &in);
    assert_true(s->id > 0);
    assert_string_equal(s->status, "Accepted");
    csms_tx_t *t = csms_tx_find(f->c, s->id);
    assert_non_null(t);
    assert_string_equal(t->station_id, "CS-1");
    assert_string_equal(t->id_token, "TAG1");
    assert_int_equal(t->evse_id, 2);
    assert_int_equal(t->meter_start, 1000);
    assert_int_equal(t->started_at, 1700000000000);
    assert_int_equal(csms_tx_active_count(f->c), 1);
    assert_int_equal(count_events(f, "transaction.started"), 1);
    json_t *ev = last_event(f, "transaction.started");
    assert_int_equal(jint(ev, "session_id"), s->id);
    assert_string_equal(jstr(ev, "station_id"), "CS-1");
    assert_string_equal(jstr(ev, "id_token"), "TAG1");
    assert_int_equal(jint(ev, "meter_start_wh"), 1000);
}

static void a_start_is_answered_only_after_it_is_stored(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1", NULL, 0, NULL);
    add_token(f, "TAG1", "Accepted", 0, NULL);
    csms_tx_start_t in = tx_in(1, "TAG1", 0, 1000);
    slot_t *s = slot_new(f);
    csms_tx_start(f->c, st, &in, start_cb, s);
    assert_int_equal(s->calls, 0);
    assert_int_equal(csms_tx_active_count(f->c), 0);
    wait_all(f);
    assert_int_equal(csms_tx_active_count(f->c), 1);
    assert_true(json_is_true(json_object_get(session(f, s->id), "active")));
}

static void a_replayed_start_returns_the_same_transaction(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1", NULL, 0, NULL);
    add_token(f, "TAG1", "Accepted", 0, NULL);
    csms_tx_start_t in = tx_in(1, "TAG1", 1000, 5000);
    int64_t first = start_tx(f, st, &in)->id;
    slot_t *again = start_tx(f, st, &in);
    assert_int_equal(again->id, first);
    assert_string_equal(again->status, "Accepted"); /* not ConcurrentTx with itself */
    assert_int_equal(csms_tx_active_count(f->c), 1);
    assert_int_equal(count_events(f, "transaction.started"), 1);
}

static void duplicate_starts_in_flight_make_one_transaction(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1", NULL, 0, NULL);
    add_token(f, "TAG1", "Accepted", 0, NULL);
    csms_tx_start_t in = tx_in(1, "TAG1", 1000, 5000);
    slot_t *a = slot_new(f), *b = slot_new(f);
    csms_tx_start(f->c, st, &in, start_cb, a);
    csms_tx_start(f->c, st, &in, start_cb, b);
    wait_all(f);
    assert_int_equal(a->rc, CSMS_OK);
    assert_int_equal(b->rc, CSMS_OK);
    assert_int_equal(a->id, b->id);
    assert_int_equal(csms_tx_active_count(f->c), 1);
    assert_int_equal(count_events(f, "transaction.started"), 1);
}

static void a_start_with_an_unknown_token_is_recorded_as_invalid(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1", NULL, 0, NULL);
    csms_tx_start_t in = tx_in(1, "STRANGER", 0, 1000);
    slot_t *s = start_tx(f, st, &in);
    assert_string_equal(s->status, "Invalid");
    assert_string_equal(jstr(session(f, s->id), "auth_status"), "Invalid");
}

static void stopping_ends_the_transaction_and_stores_meter_stop_and_energy(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1", NULL, 0, NULL);
    add_token(f, "TAG1", "Accepted", 0, NULL);
    csms_tx_start_t in = tx_in(1, "TAG1", 1000, 1700000000000);
    int64_t id = start_tx(f, st, &in)->id;
    slot_t *s = stop_tx(f, st, id, 8500, 1700000600000, NULL, 0);
    assert_int_equal(s->rc, CSMS_OK);
    assert_true(s->known);
    assert_null(csms_tx_find(f->c, id));
    assert_int_equal(csms_tx_active_count(f->c), 0);
    json_t *o = session(f, id);
    assert_false(json_is_true(json_object_get(o, "active")));
    assert_int_equal(jint(o, "meter_stop_wh"), 8500);
    assert_int_equal(jint(o, "energy_wh"), 7500);
    assert_string_equal(jstr(o, "stop_reason"), "EVDisconnected");
    assert_string_equal(jstr(o, "stopped_at"), "2023-11-14T22:23:20.000Z");
    json_t *ev = last_event(f, "transaction.ended");
    assert_int_equal(jint(ev, "session_id"), id);
    assert_int_equal(jint(ev, "energy_wh"), 7500);
}

static void stopping_stores_the_transaction_data_samples(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1", NULL, 0, NULL);
    csms_tx_start_t in = tx_in(1, "TAG1", 0, 1000);
    int64_t id = start_tx(f, st, &in)->id;
    store_sample_t samples[] = {{.timestamp = 1500, .value = "400"},
                                {.timestamp = 1900, .value = "77", .measurand = "SoC"}};
    slot_t *s = stop_tx(f, st, id, 500, 2000, samples, 2);
    assert_int_equal(s->rc, CSMS_OK);
    json_t *o = session(f, id);
    assert_int_equal(json_array_size(json_object_get(o, "meter_values")), 2);
    assert_true(json_number_value(json_object_get(o, "soc_percent")) == 77.0);
}

static void stopping_an_unknown_transaction_changes_nothing(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1", NULL, 0, NULL);
    csms_tx_start_t in = tx_in(1, "TAG1", 0, 1000);
    int64_t id = start_tx(f, st, &in)->id;
    slot_t *s = stop_tx(f, st, id + 1000, 500, 2000, NULL, 0);
    assert_int_equal(s->rc, CSMS_OK);
    assert_false(s->known);
    assert_non_null(csms_tx_find(f->c, id));
    assert_int_equal(csms_tx_active_count(f->c), 1);
    assert_int_equal(count_events(f, "transaction.ended"), 0);
    assert_true(json_is_true(json_object_get(session(f, id), "active")));
    json_t *ev = station_events(f, "CS-1");
    assert_int_equal(json_array_size(ev), 1);
    assert_string_equal(jstr(json_array_get(ev, 0), "kind"), "unknown_stop");
}

static void a_station_cannot_stop_another_stations_transaction(void **state)
{
    fixture_t *f = *state;
    csms_station_t *a = add_station(f, "CS-A", NULL, 0, NULL);
    csms_station_t *b = add_station(f, "CS-B", NULL, 0, NULL);
    csms_tx_start_t in = tx_in(1, "TAG1", 0, 1000);
    int64_t id = start_tx(f, a, &in)->id;
    slot_t *s = stop_tx(f, b, id, 500, 2000, NULL, 0);
    assert_false(s->known);
    assert_non_null(csms_tx_find(f->c, id));
}

static void a_stopped_transaction_is_not_active_after_a_restart(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1", NULL, 0, NULL);
    csms_tx_start_t a = tx_in(1, "TAG1", 0, 1000), b = tx_in(2, "TAG2", 0, 1000);
    int64_t ida = start_tx(f, st, &a)->id;
    int64_t idb = start_tx(f, st, &b)->id;
    stop_tx(f, st, ida, 10, 2000, NULL, 0);
    restart_domain(f);
    assert_null(csms_tx_find(f->c, ida));
    assert_non_null(csms_tx_find(f->c, idb));
    assert_int_equal(csms_tx_active_count(f->c), 1);
}

/* ---- meter values ------------------------------------------------------------------------ */

static void meter_values_track_soc_and_energy_converting_kwh_to_wh(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1", NULL, 0, NULL);
    csms_tx_start_t in = tx_in(1, "TAG1", 1000, 1000);
    int64_t id = start_tx(f, st, &in)->id;
    store_sample_t samples[] = {
        {.timestamp = 2000, .value = "12.5", .unit = "kWh"}, /* default measurand: energy */
        {.timestamp = 2000, .value = "55.5", .measurand = "SoC", .unit = "Percent"},
    };
    meter(f, st, id, samples, 2);
    csms_tx_t *t = csms_tx_find(f->c, id);
    assert_int_equal(t->last_energy_wh, 12500);
    assert_true(t->last_soc == 55.5);
    json_t *o = session(f, id);
    assert_int_equal(jint(o, "energy_wh"), 11500);
    assert_true(json_number_value(json_object_get(o, "soc_percent")) == 55.5);
    assert_int_equal(json_array_size(json_object_get(o, "meter_values")), 2);
    assert_int_equal(jint(last_event(f, "meter.values"), "session_id"), id);
}

static void meter_values_in_wh_are_taken_as_they_are(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1", NULL, 0, NULL);
    csms_tx_start_t in = tx_in(1, "TAG1", 0, 1000);
    int64_t id = start_tx(f, st, &in)->id;
    store_sample_t sm = {.timestamp = 2000,
                         .value = "4321",
                         .measurand = "Energy.Active.Import.Register",
                         .unit = "Wh"};
    meter(f, st, id, &sm, 1);
    assert_int_equal(csms_tx_find(f->c, id)->last_energy_wh, 4321);
}

static void per_phase_signed_and_unparsable_readings_do_not_count_as_the_register(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1", NULL, 0, NULL);
    csms_tx_start_t in = tx_in(1, "TAG1", 0, 1000);
    int64_t id = start_tx(f, st, &in)->id;
    store_sample_t samples[] = {
        {.timestamp = 2000, .value = "100", .phase = "L1"},
        {.timestamp = 2000, .value = "200", .format = "SignedData"},
        {.timestamp = 2000, .value = "abc"},
        {.timestamp = 2000, .value = "300", .measurand = "Power.Active.Import"},
    };
    meter(f, st, id, samples, 4);
    csms_tx_t *t = csms_tx_find(f->c, id);
    assert_int_equal(t->last_energy_wh, -1);
    assert_true(t->last_soc == -1);
}

static void energy_readings_beyond_64_bits_are_ignored(void **state)
{
    /* A station controls these strings; a reading no int64 of Wh can hold must not
     * become the register (it would later overflow energy = register - meter_start). */
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1", NULL, 0, NULL);
    csms_tx_start_t in = tx_in(1, "TAG1", 1000, 1000);
    int64_t id = start_tx(f, st, &in)->id;
    store_sample_t samples[] = {
        {.timestamp = 2000, .value = "1e300", .unit = "Wh"},
        {.timestamp = 2000, .value = "1e306", .unit = "kWh"},
        {.timestamp = 2000, .value = "-1e19", .unit = "Wh"},
    };
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        meter(f, st, id, &samples[i], 1);
        if (csms_tx_find(f->c, id)->last_energy_wh != -1)
            fail_msg("reading %s %s became the register: %lld", samples[i].value, samples[i].unit,
                     (long long)csms_tx_find(f->c, id)->last_energy_wh);
    }
}

static void an_older_reading_arriving_late_does_not_move_the_register_back(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1", NULL, 0, NULL);
    csms_tx_start_t in = tx_in(1, "TAG1", 0, 1000);
    int64_t id = start_tx(f, st, &in)->id;
    store_sample_t now[] = {{.timestamp = 3000, .value = "5000"},
                            {.timestamp = 3000, .value = "80", .measurand = "SoC"}};
    store_sample_t late[] = {{.timestamp = 2000, .value = "4000"},
                             {.timestamp = 2000, .value = "70", .measurand = "SoC"}};
    meter(f, st, id, now, 2);
    meter(f, st, id, late, 2);
    csms_tx_t *t = csms_tx_find(f->c, id);
    assert_int_equal(t->last_energy_wh, 5000);
    assert_true(t->last_soc == 80);
}

static void an_older_reading_arriving_after_a_restart_does_not_move_the_register_back(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1", NULL, 0, NULL);
    csms_tx_start_t in = tx_in(1, "TAG1", 0, 1000);
    int64_t id = start_tx(f, st, &in)->id;
    store_sample_t now[] = {{.timestamp = 3000, .value = "5000"},
                            {.timestamp = 3000, .value = "80", .measurand = "SoC"}};
    meter(f, st, id, now, 2);
    restart_domain(f); /* the station's offline queue is flushed after a server restart */
    st = csms_station_find(f->c, "CS-1");
    store_sample_t late[] = {{.timestamp = 2000, .value = "4000"},
                             {.timestamp = 2000, .value = "70", .measurand = "SoC"}};
    meter(f, st, id, late, 2);
    csms_tx_t *t = csms_tx_find(f->c, id);
    assert_int_equal(t->last_energy_wh, 5000);
    assert_true(t->last_soc == 80);
}

static void meter_values_for_another_stations_transaction_leave_it_alone(void **state)
{
    fixture_t *f = *state;
    csms_station_t *a = add_station(f, "CS-A", NULL, 0, NULL);
    csms_station_t *b = add_station(f, "CS-B", NULL, 0, NULL);
    csms_tx_start_t in = tx_in(1, "TAG1", 0, 1000);
    int64_t id = start_tx(f, a, &in)->id;
    store_sample_t sm = {.timestamp = 2000, .value = "999"};
    meter(f, b, id, &sm, 1);
    assert_int_equal(csms_tx_find(f->c, id)->last_energy_wh, -1);
    assert_int_equal(json_array_size(json_object_get(session(f, id), "meter_values")), 0);
}

/* ---- connector status -------------------------------------------------------------------- */

static void a_status_report_sets_the_connector_status(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1", NULL, 0, NULL);
    report_status(f, st, 1, "Available", 1000);
    csms_connector_t *k = connector(st, 1);
    assert_string_equal(k->status, "Available");
    assert_string_equal(k->error_code, "NoError");
    assert_int_equal(k->timestamp, 1000);
    json_t *ev = last_event(f, "connector.status");
    assert_string_equal(jstr(ev, "status"), "Available");
    assert_true(json_is_true(json_object_get(ev, "current")));
}

static void a_late_older_report_does_not_replace_the_newer_status(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1", NULL, 0, NULL);
    report_status(f, st, 1, "Charging", 2000);
    report_status(f, st, 1, "Available", 1000); /* queued offline, delivered late */
    csms_connector_t *k = connector(st, 1);
    assert_string_equal(k->status, "Charging");
    assert_int_equal(k->timestamp, 2000);
    assert_false(json_is_true(json_object_get(last_event(f, "connector.status"), "current")));
    restart_domain(f);
    st = csms_station_find(f->c, "CS-1");
    assert_string_equal(connector(st, 1)->status, "Charging");
}

static void a_newer_report_replaces_the_status(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1", NULL, 0, NULL);
    report_status(f, st, 1, "Available", 1000);
    report_status(f, st, 1, "Preparing", 1000); /* same second counts as newer */
    report_status(f, st, 1, "Charging", 3000);
    assert_string_equal(connector(st, 1)->status, "Charging");
    restart_domain(f);
    assert_string_equal(connector(csms_station_find(f->c, "CS-1"), 1)->status, "Charging");
}

static void connectors_are_kept_sorted_by_evse(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1", NULL, 0, NULL);
    report_status(f, st, 3, "Available", 1000);
    report_status(f, st, 1, "Available", 1000);
    report_status(f, st, 0, "Available", 1000);
    report_status(f, st, 2, "Available", 1000);
    assert_int_equal(st->nconnectors, 4);
    for (size_t i = 0; i < st->nconnectors; i++)
        assert_int_equal(st->connectors[i].evse_id, (int)i);
}

/* ---- boot -------------------------------------------------------------------------------- */

static slot_t *boot(fixture_t *f, csms_station_t *st)
{
    csms_boot_info_t info = {.vendor = "VendorX", .model = "ModelY", .firmware_version = "1.0"};
    slot_t *s = slot_new(f);
    csms_boot(f->c, st, &info, boot_cb, s);
    wait_all(f);
    return s;
}

/* Heartbeat times are written in bulk, and only once the stored one is
 * CSMS_HEARTBEAT_STORE_MS behind; a clean stop writes every one. */
static void heartbeat_times_are_written_when_the_stored_one_is_old_and_all_at_a_stop(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1", NULL, 0, "Accepted");
    boot(f, st);
    csms_heartbeat(f->c, st, NULL, NULL);
    st->last_heartbeat_at += 1000; /* a second later than the boot's write */
    assert_int_equal(csms_flush_heartbeats(f->c, false), 0);
    st->heartbeat_stored_at -= CSMS_HEARTBEAT_STORE_MS;
    assert_int_equal(csms_flush_heartbeats(f->c, false), 1);
    assert_int_equal(csms_flush_heartbeats(f->c, false), 0); /* nothing new */
    csms_heartbeat(f->c, st, NULL, NULL);
    int64_t last = st->last_heartbeat_at = st->heartbeat_stored_at + 2000;
    assert_int_equal(csms_flush_heartbeats(f->c, false), 0);
    assert_int_equal(csms_flush_heartbeats(f->c, true), 1);
    restart_domain(f);
    st = csms_station_find(f->c, "CS-1");
    assert_int_equal(st->last_heartbeat_at, last);
}

static void booting_an_accepted_station_answers_accepted_with_the_heartbeat_interval(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1", NULL, 0, "Accepted");
    slot_t *s = boot(f, st);
    assert_int_equal(s->rc, CSMS_OK);
    assert_string_equal(s->status, "Accepted");
    assert_int_equal(s->interval, f->cfg.heartbeat_interval);
    assert_true(csms_station_may_operate(st));
    restart_domain(f);
    st = csms_station_find(f->c, "CS-1");
    assert_string_equal(st->vendor, "VendorX");
    assert_string_equal(st->model, "ModelY");
    assert_true(st->last_boot_at > 0);
}

static void booting_a_pending_station_answers_pending_with_the_retry_interval(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1", NULL, 0, "Pending");
    slot_t *s = boot(f, st);
    assert_string_equal(s->status, "Pending");
    assert_int_equal(s->interval, f->cfg.pending_interval);
    assert_false(csms_station_may_operate(st));
}

static void booting_a_rejected_station_answers_rejected(void **state)
{
    fixture_t *f = *state;
    csms_station_t *st = add_station(f, "CS-1", NULL, 0, "Rejected");
    slot_t *s = boot(f, st);
    assert_string_equal(s->status, "Rejected");
    assert_int_equal(s->interval, f->cfg.pending_interval);
    assert_false(csms_station_may_operate(st));
}

/*
 * The boot answer is sent from the completion, after the commit. An operator
 * may change the registration in between; the answer must still be readable
 * (the status decided at boot), not freed memory. Runs in a child process so
 * a sanitizer report (or a crash) fails this test instead of the whole run.
 */
static void boot_answer_survives_a_registration_change_before_commit(void **state)
{
    int dir_pipe[2];
    assert_int_equal(pipe(dir_pipe), 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) fail_msg("fork failed");
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL);
        signal(SIGBUS, SIG_DFL);
        close(dir_pipe[0]);
        void *fx = NULL;
        if (setup(&fx) != 0) _exit(3);
        fixture_t *f = fx;
        /* The parent removes the data directory should the child die. */
        if (write(dir_pipe[1], f->dir, strlen(f->dir) + 1) < 0) _exit(3);
        close(dir_pipe[1]);
        char err[256];
        csms_station_spec_t spec = {
            .id = "CS-1", .security_profile = 0, .registration_status = "Accepted"};
        slot_t *created = slot_new(f);
        if (csms_station_create(f->c, &spec, done_cb, created, err, sizeof err) != CSMS_OK)
            _exit(4);
        while (f->completed < f->nslots)
            uv_run(&f->loop, UV_RUN_ONCE);
        csms_station_t *st = csms_station_find(f->c, "CS-1");
        csms_boot_info_t info = {.vendor = "V", .model = "M"};
        slot_t *b = slot_new(f);
        csms_boot(f->c, st, &info, boot_cb, b);
        csms_station_spec_t upd = {
            .id = "CS-1", .security_profile = -1, .registration_status = "Rejected"};
        slot_t *u = slot_new(f);
        if (csms_station_update(f->c, &upd, done_cb, u, err, sizeof err) != CSMS_OK) _exit(5);
        while (f->completed < f->nslots)
            uv_run(&f->loop, UV_RUN_ONCE);
        int code = strcmp(b->status, "Accepted") == 0 ? 0 : 6;
        teardown(&fx);
        _exit(code);
    }
    close(dir_pipe[1]);
    char dir[64] = "";
    ssize_t n = read(dir_pipe[0], dir, sizeof dir - 1);
    close(dir_pipe[0]);
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) fail_msg("waitpid failed");
    if (n > 0 && strncmp(dir, "/tmp/ampgrid-csms-", 18) == 0)
        nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    if (WIFSIGNALED(status)) fail_msg("the boot completion crashed (signal %d)", WTERMSIG(status));
    if (WEXITSTATUS(status) == 6)
        fail_msg("the boot answer did not carry the status decided at boot");
    if (WEXITSTATUS(status) != 0)
        fail_msg("the boot completion read freed memory or failed (exit %d, see the report above)",
                 WEXITSTATUS(status));
}

/* ---- id tokens --------------------------------------------------------------------------- */

static void id_token_create_refuses_invalid_specs(void **state)
{
    fixture_t *f = *state;
    char id37[38];
    memset(id37, 'T', 37);
    id37[37] = '\0';
    csms_id_token_spec_t bad[] = {
        {.id_token = ""},
        {.id_token = NULL},
        {.id_token = id37},
        {.id_token = "TAG1", .status = "Maybe"},
        {.id_token = "TAG1", .status = "ConcurrentTx"}, /* an answer, not a stored status */
        {.id_token = "TAG1", .type = "Barcode"},
        {.id_token = "TAG1", .parent_id_token = "TAG1"},
        {.id_token = "TAG1", .parent_id_token = id37},
        {.id_token = "a/b"}, /* cannot be addressed in an API path */
        {.id_token = "..", .status = "Accepted"},
        {.id_token = "TAG\x01"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (create_token(f, &bad[i]) != CSMS_ERR_INVALID) fail_msg("accepted spec %zu", i);
    assert_null(csms_id_token_first(f->c));
}

static void id_token_create_refuses_a_duplicate_as_exists(void **state)
{
    fixture_t *f = *state;
    add_token(f, "TAG1", "Accepted", 0, NULL);
    csms_id_token_spec_t spec = {.id_token = "TAG1", .status = "Blocked"};
    assert_int_equal(create_token(f, &spec), CSMS_ERR_EXISTS);
    assert_string_equal(csms_id_token_find(f->c, "TAG1")->status, "Accepted");
}

static void a_created_id_token_defaults_to_accepted_iso14443_and_is_stored(void **state)
{
    fixture_t *f = *state;
    csms_id_token_spec_t spec = {.id_token = "TAG1"};
    assert_int_equal(create_token(f, &spec), CSMS_OK);
    restart_domain(f);
    csms_id_token_t *t = csms_id_token_find(f->c, "TAG1");
    assert_non_null(t);
    assert_string_equal(t->status, "Accepted");
    assert_string_equal(t->type, "ISO14443");
    assert_null(t->parent_id_token);
    assert_int_equal(t->expiry, 0);
}

static void an_id_token_update_changes_only_the_given_fields(void **state)
{
    fixture_t *f = *state;
    add_token(f, "TAG1", "Accepted", 1800000000000, "GROUP");
    char err[256] = "";
    csms_id_token_spec_t upd = {.id_token = "TAG1",
                                .status = "Blocked",
                                .has_status = true,
                                .type = "eMAID" /* has_type false: ignored */};
    slot_t *s = slot_new(f);
    assert_int_equal(csms_id_token_update(f->c, &upd, done_cb, s, err, sizeof err), CSMS_OK);
    wait_all(f);
    assert_int_equal(s->rc, CSMS_OK);
    restart_domain(f);
    csms_id_token_t *t = csms_id_token_find(f->c, "TAG1");
    assert_string_equal(t->status, "Blocked");
    assert_string_equal(t->type, "ISO14443");
    assert_string_equal(t->parent_id_token, "GROUP");
    assert_int_equal(t->expiry, 1800000000000);
    assert_string_equal(csms_authorize(f->c, "TAG1", true).status, "Blocked");
}

static void an_id_token_update_can_clear_the_parent_and_expiry(void **state)
{
    fixture_t *f = *state;
    add_token(f, "TAG1", "Accepted", 1800000000000, "GROUP");
    char err[256] = "";
    csms_id_token_spec_t upd = {.id_token = "TAG1",
                                .has_parent = true,
                                .parent_id_token = NULL,
                                .has_expiry = true,
                                .expiry = 0};
    slot_t *s = slot_new(f);
    assert_int_equal(csms_id_token_update(f->c, &upd, done_cb, s, err, sizeof err), CSMS_OK);
    restart_domain(f);
    csms_id_token_t *t = csms_id_token_find(f->c, "TAG1");
    assert_null(t->parent_id_token);
    assert_int_equal(t->expiry, 0);
}

static void updating_an_unknown_id_token_is_not_found(void **state)
{
    fixture_t *f = *state;
    char err[256] = "";
    csms_id_token_spec_t upd = {.id_token = "NOPE", .status = "Blocked", .has_status = true};
    assert_int_equal(csms_id_token_update(f->c, &upd, NULL, NULL, err, sizeof err),
                     CSMS_ERR_NOT_FOUND);
    assert_non_null(strstr(err, "NOPE"));
}

static void an_id_token_update_is_validated(void **state)
{
    fixture_t *f = *state;
    add_token(f, "TAG1", "Accepted", 0, NULL);
    char err[256] = "";
    csms_id_token_spec_t upd = {.id_token = "TAG1", .status = "Maybe", .has_status = true};
    assert_int_equal(csms_id_token_update(f->c, &upd, NULL, NULL, err, sizeof err),
                     CSMS_ERR_INVALID);
    assert_string_equal(csms_id_token_find(f->c, "TAG1")->status, "Accepted");
}

static void a_deleted_id_token_is_gone_and_invalid(void **state)
{
    fixture_t *f = *state;
    add_token(f, "TAG1", "Accepted", 0, NULL);
    slot_t *s = slot_new(f);
    assert_int_equal(csms_id_token_delete(f->c, "TAG1", done_cb, s), CSMS_OK);
    assert_null(csms_id_token_find(f->c, "TAG1"));
    assert_string_equal(csms_authorize(f->c, "TAG1", true).status, "Invalid");
    wait_all(f);
    assert_int_equal(s->rc, CSMS_OK);
    restart_domain(f);
    assert_null(csms_id_token_find(f->c, "TAG1"));
}

static void deleting_an_unknown_id_token_is_not_found(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(csms_id_token_delete(f->c, "NOPE", NULL, NULL), CSMS_ERR_NOT_FOUND);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define T_AUTO(fn) cmocka_unit_test_setup_teardown(fn, setup_auto_register, teardown)
    const struct CMUnitTest tests[] = {
        T(an_unknown_id_token_is_invalid),
        T(a_blocked_id_token_is_blocked),
        T(an_id_token_with_status_expired_is_expired),
        T(an_accepted_id_token_past_its_expiry_is_expired),
        T(an_accepted_id_token_before_its_expiry_is_accepted_with_the_expiry),
        T(a_member_of_an_accepted_group_is_accepted_with_its_parent),
        T(a_member_of_a_blocked_group_is_blocked),
        T(a_member_of_an_expired_group_is_not_accepted),
        T(a_token_in_an_active_transaction_is_concurrent_tx),
        T(concurrent_tx_is_not_checked_when_not_asked),
        T(a_token_is_free_again_once_its_transaction_stops),
        T(station_create_refuses_bad_ids),
        T(station_create_accepts_ids_of_1_to_48_allowed_characters),
        T(station_create_refuses_passwords_of_15_or_41_characters),
        T(station_create_accepts_passwords_of_16_and_40_characters),
        T(station_create_refuses_security_profile_4),
        T(station_create_refuses_registration_status_maybe),
        T(station_create_requires_a_password_above_profile_0),
        T(station_create_refuses_a_duplicate_id_as_exists),
        T(a_created_station_is_stored_and_announced),
        T(an_unknown_station_is_refused_without_auto_registration),
        T_AUTO(an_unknown_station_is_registered_as_pending_with_auto_registration),
        T_AUTO(auto_registration_still_refuses_a_bad_station_id),
        T(the_right_password_is_ok),
        T(a_wrong_password_is_bad_credentials),
        T(a_wrong_password_after_a_cached_success_is_still_bad_credentials),
        T(a_user_name_other_than_the_station_id_is_bad_credentials),
        T(missing_credentials_are_reported_as_such),
        T(a_profile_0_station_without_password_needs_no_credentials),
        T(a_profile_2_station_over_plain_websocket_needs_tls),
        T(a_malformed_station_id_is_bad_id),
        T(repeated_failures_rate_limit_even_the_right_password),
        T(failures_below_the_limit_do_not_rate_limit),
        T(a_station_id_under_attack_is_limited_from_every_address),
        T(an_address_probing_station_ids_is_limited_for_every_station),
        T(a_started_transaction_is_active_and_announced),
        T(a_start_is_answered_only_after_it_is_stored),
        T(a_replayed_start_returns_the_same_transaction),
        T(duplicate_starts_in_flight_make_one_transaction),
        T(a_start_with_an_unknown_token_is_recorded_as_invalid),
        T(stopping_ends_the_transaction_and_stores_meter_stop_and_energy),
        T(stopping_stores_the_transaction_data_samples),
        T(stopping_an_unknown_transaction_changes_nothing),
        T(a_station_cannot_stop_another_stations_transaction),
        T(a_stopped_transaction_is_not_active_after_a_restart),
        T(meter_values_track_soc_and_energy_converting_kwh_to_wh),
        T(meter_values_in_wh_are_taken_as_they_are),
        T(per_phase_signed_and_unparsable_readings_do_not_count_as_the_register),
        T(energy_readings_beyond_64_bits_are_ignored),
        T(an_older_reading_arriving_late_does_not_move_the_register_back),
        T(an_older_reading_arriving_after_a_restart_does_not_move_the_register_back),
        T(meter_values_for_another_stations_transaction_leave_it_alone),
        T(a_status_report_sets_the_connector_status),
        T(a_late_older_report_does_not_replace_the_newer_status),
        T(a_newer_report_replaces_the_status),
        T(connectors_are_kept_sorted_by_evse),
        T(booting_an_accepted_station_answers_accepted_with_the_heartbeat_interval),
        T(heartbeat_times_are_written_when_the_stored_one_is_old_and_all_at_a_stop),
        T(booting_a_pending_station_answers_pending_with_the_retry_interval),
        T(booting_a_rejected_station_answers_rejected),
        cmocka_unit_test(boot_answer_survives_a_registration_change_before_commit),
        T(id_token_create_refuses_invalid_specs),
        T(id_token_create_refuses_a_duplicate_as_exists),
        T(a_created_id_token_defaults_to_accepted_iso14443_and_is_stored),
        T(an_id_token_update_changes_only_the_given_fields),
        T(an_id_token_update_can_clear_the_parent_and_expiry),
        T(updating_an_unknown_id_token_is_not_found),
        T(an_id_token_update_is_validated),
        T(a_deleted_id_token_is_gone_and_invalid),
        T(deleting_an_unknown_id_token_is_not_found),
    };
#undef T
#undef T_AUTO
    return cmocka_run_group_tests_name("charging domain", tests, group_setup, NULL);
}
