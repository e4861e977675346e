/*
 * Specification of the store (src/store/): opening and migrating the
 * database, every write operation and the queries that read it back, replayed
 * transaction starts, group commit, and that closing finishes queued work.
 *
 * Each test gets a fresh data directory, a libuv loop and a started store. A
 * test hands the store operations and runs the loop until their completions
 * have arrived; what it checks afterwards comes from the store itself (the
 * API queries, or the start-up loaders after reopening the database).
 * Completions write into "slots" owned by the fixture, so a failing test that
 * leaves operations queued cannot make the teardown write into a dead frame.
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
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "store/store.h"
#include "store/store_internal.h"
#include "store/store_sql.h"

#define MAX_SLOTS 4096
#define WAIT_NS (20ULL * 1000 * 1000 * 1000)

/* ---- fixture ----------------------------------------------------------------------------- */

typedef struct fixture fixture_t;

/* Where one completion lands. */
typedef struct slot {
    fixture_t *f;
    int calls;
    store_err_t rc;
    int64_t id;
    bool existed;
    json_t *json;
} slot_t;

struct fixture {
    char dir[64];
    uv_loop_t loop;
    uv_timer_t tick; /* wakes the loop so a wait can notice its deadline */
    store_t *s;
    slot_t slots[MAX_SLOTS];
    unsigned nslots, completed;
};

static void tick_cb(uv_timer_t *t) {}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static store_t *open_store(const char *dir)
{
    char err[256] = "";
    store_t *s = store_open(dir, false, err, sizeof err);
    if (s == NULL) fail_msg("store_open(%s) failed: %s", dir, err);
    return s;
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (f == NULL) return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/ampgrid-store-XXXXXX");
    if (mkdtemp(f->dir) == NULL) return -1;
    if (uv_loop_init(&f->loop) != 0) return -1;
    uv_timer_init(&f->loop, &f->tick);
    uv_timer_start(&f->tick, tick_cb, 50, 50);
    char err[256];
    f->s = store_open(f->dir, false, err, sizeof err);
    if (f->s == NULL) return -1;
    store_start(f->s, &f->loop);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    int rc = 0;
    uv_close((uv_handle_t *)&f->tick, NULL);
    store_close(f->s); /* runs what is still queued */
    uv_run(&f->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&f->loop) != 0) {
        print_error("uv_loop_close: handles left open\n");
        rc = -1;
    }
    for (unsigned i = 0; i < f->nslots; i++)
        json_decref(f->slots[i].json);
    nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return rc;
}

static slot_t *slot_new(fixture_t *f)
{
    if (f->nslots >= MAX_SLOTS) fail_msg("out of slots");
    slot_t *s = &f->slots[f->nslots++];
    memset(s, 0, sizeof *s);
    s->f = f;
    s->rc = (store_err_t)-1;
    return s;
}

static void done_cb(void *ctx, store_err_t rc)
{
    slot_t *s = ctx;
    s->calls++;
    s->rc = rc;
    s->f->completed++;
}

static void tx_cb(void *ctx, store_err_t rc, int64_t id, bool existed)
{
    slot_t *s = ctx;
    s->calls++;
    s->rc = rc;
    s->id = id;
    s->existed = existed;
    s->f->completed++;
}

static void json_cb(void *ctx, store_err_t rc, json_t *result)
{
    slot_t *s = ctx;
    s->calls++;
    s->rc = rc;
    json_decref(s->json);
    s->json = result ? json_incref(result) : NULL;
    s->f->completed++;
}

/* Runs the loop until every slot handed out so far has completed. */
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

/* Closes and reopens the database; the store is not started again (loaders may run). */
static void reopen_stopped(fixture_t *f)
{
    store_close(f->s);
    f->s = NULL;
    f->s = open_store(f->dir);
}

static void restart(fixture_t *f)
{
    store_start(f->s, &f->loop);
}

/* ---- operations as one-liners ------------------------------------------------------------ */

static store_err_t op_station_save(fixture_t *f, const store_station_t *st)
{
    slot_t *s = slot_new(f);
    store_station_save(f->s, st, done_cb, s);
    wait_all(f);
    return s->rc;
}

static store_err_t op_connector(fixture_t *f, const char *station, int evse, const char *status,
                                int64_t ts)
{
    store_connector_t c = {.station_id = station,
                           .evse_id = evse,
                           .connector_id = evse ? 1 : 0,
                           .status = status,
                           .error_code = "NoError",
                           .timestamp = ts,
                           .received_at = ts + 5};
    slot_t *s = slot_new(f);
    store_connector_status(f->s, &c, done_cb, s);
    wait_all(f);
    return s->rc;
}

static store_tx_t tx_rec(const char *station, int evse, const char *token, int64_t meter_start,
                         int64_t started_at)
{
    return (store_tx_t){.station_id = station,
                        .evse_id = evse,
                        .connector_id = 1,
                        .id_token = token,
                        .id_token_type = "ISO14443",
                        .auth_status = "Accepted",
                        .meter_start = meter_start,
                        .meter_stop = -1,
                        .started_at = started_at,
                        .reservation_id = -1,
                        .last_soc = -1,
                        .last_energy_wh = -1};
}

static slot_t *op_tx_start(fixture_t *f, const store_tx_t *tx)
{
    slot_t *s = slot_new(f);
    store_tx_start(f->s, tx, tx_cb, s);
    wait_all(f);
    if (s->rc != STORE_OK) fail_msg("tx start failed: %d", (int)s->rc);
    return s;
}

static store_err_t op_tx_stop(fixture_t *f, int64_t id, int64_t meter_stop, int64_t stopped_at)
{
    store_tx_t u = {.id = id,
                    .meter_stop = meter_stop,
                    .stopped_at = stopped_at,
                    .stop_reason = "EVDisconnected",
                    .stop_id_token = "TAG1",
                    .reservation_id = -1,
                    .last_soc = 80.5,
                    .last_energy_wh = meter_stop};
    slot_t *s = slot_new(f);
    store_tx_update(f->s, &u, done_cb, s);
    wait_all(f);
    return s->rc;
}

static slot_t *q_session(fixture_t *f, int64_t id)
{
    slot_t *s = slot_new(f);
    store_query_session(f->s, id, json_cb, s);
    wait_all(f);
    return s;
}

static slot_t *q_sessions(fixture_t *f, const store_session_filter_t *flt)
{
    slot_t *s = slot_new(f);
    store_query_sessions(f->s, flt, json_cb, s);
    wait_all(f);
    if (s->rc != STORE_OK || !json_is_array(s->json)) fail_msg("sessions query failed");
    return s;
}

static slot_t *q_history(fixture_t *f, const char *station, int limit)
{
    slot_t *s = slot_new(f);
    store_query_status_history(f->s, station, limit, json_cb, s);
    wait_all(f);
    if (s->rc != STORE_OK || !json_is_array(s->json)) fail_msg("history query failed");
    return s;
}

static slot_t *q_events(fixture_t *f, const char *station, int limit)
{
    slot_t *s = slot_new(f);
    store_query_station_events(f->s, station, limit, json_cb, s);
    wait_all(f);
    if (s->rc != STORE_OK || !json_is_array(s->json)) fail_msg("events query failed");
    return s;
}

static const char *jstr(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_string(v)) fail_msg("'%s' is not a string", key);
    return json_string_value(v);
}

static json_int_t jint(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v)) fail_msg("'%s' is not an integer", key);
    return json_integer_value(v);
}

/* Reads PRAGMA user_version of dir/ampgrid.db directly. */
static int user_version(const char *dir)
{
    char path[256];
    sqlite3 *db;
    sqlite3_stmt *st;
    int v = -1;
    snprintf(path, sizeof path, "%s/ampgrid.db", dir);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* Loader collectors: copy what the loaders hand over. */
static void collect_station(void *ctx, const store_station_t *st)
{
    json_t *a = ctx;
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(st->id));
    json_object_set_new(o, "password_hash",
                        st->password_hash ? json_string(st->password_hash) : json_null());
    json_object_set_new(o, "security_profile", json_integer(st->security_profile));
    json_object_set_new(o, "registration_status", json_string(st->registration_status));
    json_object_set_new(o, "auto_registered", json_boolean(st->auto_registered));
    json_object_set_new(o, "vendor", st->vendor ? json_string(st->vendor) : json_null());
    json_object_set_new(o, "model", st->model ? json_string(st->model) : json_null());
    json_object_set_new(o, "firmware_version",
                        st->firmware_version ? json_string(st->firmware_version) : json_null());
    json_object_set_new(o, "protocol", st->protocol ? json_string(st->protocol) : json_null());
    json_object_set_new(o, "last_boot_at", json_integer(st->last_boot_at));
    json_object_set_new(o, "created_at", json_integer(st->created_at));
    json_object_set_new(o, "updated_at", json_integer(st->updated_at));
    json_array_append_new(a, o);
}

static void collect_connector(void *ctx, const store_connector_t *c)
{
    json_t *o = json_pack("{s:s, s:i, s:i, s:s, s:I}", "station_id", c->station_id, "evse_id",
                          c->evse_id, "connector_id", c->connector_id, "status", c->status,
                          "timestamp", (json_int_t)c->timestamp);
    json_array_append_new(ctx, o);
}

static void collect_token(void *ctx, const store_id_token_t *t)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:o}", "id_token", t->id_token, "type", t->type,
                          "status", t->status, "expiry", (json_int_t)t->expiry, "parent",
                          t->parent_id_token ? json_string(t->parent_id_token) : json_null());
    json_array_append_new(ctx, o);
}

static void collect_tx(void *ctx, const store_tx_t *t)
{
    json_t *o = json_pack("{s:I, s:s, s:s, s:i, s:I, s:I, s:i, s:f, s:I}", "id", (json_int_t)t->id,
                          "tx_id", t->tx_id ? t->tx_id : "", "id_token", t->id_token, "evse_id",
                          t->evse_id, "meter_start", (json_int_t)t->meter_start, "started_at",
                          (json_int_t)t->started_at, "reservation_id", t->reservation_id,
                          "last_soc", t->last_soc, "last_energy_wh", (json_int_t)t->last_energy_wh);
    json_array_append_new(ctx, o);
}

typedef enum loader { STATIONS, CONNECTORS, ID_TOKENS, ACTIVE_TXS } loader_t;

/* Reopens the database, runs a start-up loader into a JSON array (caller decrefs), restarts. */
static json_t *load(fixture_t *f, loader_t which)
{
    reopen_stopped(f);
    json_t *a = json_array();
    int rc = -1;
    switch (which) {
    case STATIONS:
        rc = store_load_stations(f->s, collect_station, a);
        break;
    case CONNECTORS:
        rc = store_load_connectors(f->s, collect_connector, a);
        break;
    case ID_TOKENS:
        rc = store_load_id_tokens(f->s, collect_token, a);
        break;
    case ACTIVE_TXS:
        rc = store_load_active_txs(f->s, collect_tx, a);
        break;
    }
    if (rc != 0) fail_msg("loader %d failed", (int)which);
    restart(f);
    return a;
}

static json_t *find_by(json_t *arr, const char *key, const char *value)
{
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        const json_t *v = json_object_get(o, key);
        if (json_is_string(v) && strcmp(json_string_value(v), value) == 0) return o;
    }
    return NULL;
}

/* ---- opening and migrating --------------------------------------------------------------- */

static void open_creates_the_directory_and_migrates_to_the_current_version(void **state)
{
    fixture_t *f = *state;
    char dir[128], db[160];
    struct stat sb;
    snprintf(dir, sizeof dir, "%s/fresh", f->dir);
    store_t *s = open_store(dir);
    snprintf(db, sizeof db, "%s/ampgrid.db", dir);
    assert_int_equal(stat(db, &sb), 0);
    store_close(s);
    assert_int_equal(user_version(dir), STORE_SCHEMA_VERSION);
}

static void reopening_keeps_data_and_schema_version(void **state)
{
    fixture_t *f = *state;
    store_station_t st = {.id = "CS-1", .registration_status = "Accepted", .created_at = 1};
    assert_int_equal(op_station_save(f, &st), STORE_OK);
    json_t *a = load(f, STATIONS);
    assert_int_equal(json_array_size(a), 1);
    json_decref(a);
    a = load(f, STATIONS); /* and once more */
    assert_int_equal(json_array_size(a), 1);
    json_decref(a);
    assert_int_equal(user_version(f->dir), STORE_SCHEMA_VERSION);
}

static void open_refuses_a_database_with_a_newer_schema(void **state)
{
    fixture_t *f = *state;
    char dir[128], path[160], sql[64], err[256] = "", want[64];
    snprintf(dir, sizeof dir, "%s/newer", f->dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(path, sizeof path, "%s/ampgrid.db", dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    snprintf(sql, sizeof sql, "PRAGMA user_version=%d", STORE_SCHEMA_VERSION + 1);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    store_t *s = store_open(dir, false, err, sizeof err);
    assert_null(s);
    snprintf(want, sizeof want, "version %d", STORE_SCHEMA_VERSION + 1);
    if (strstr(err, want) == NULL) fail_msg("error '%s' does not mention '%s'", err, want);
    assert_int_equal(user_version(dir), STORE_SCHEMA_VERSION + 1); /* left untouched */
}

static void open_refuses_a_data_directory_it_cannot_create(void **state)
{
    fixture_t *f = *state;
    char file[128], dir[160], err[256] = "";
    snprintf(file, sizeof file, "%s/plain-file", f->dir);
    FILE *fp = fopen(file, "w");
    assert_non_null(fp);
    fclose(fp);
    snprintf(dir, sizeof dir, "%s/sub", file);
    assert_null(store_open(dir, false, err, sizeof err));
    assert_non_null(strstr(err, dir));
}

/* ---- stations ---------------------------------------------------------------------------- */

static void a_saved_station_loads_with_its_fields(void **state)
{
    fixture_t *f = *state;
    store_station_t st = {.id = "CS-1",
                          .password_hash = "$argon2id$fake",
                          .security_profile = 2,
                          .registration_status = "Pending",
                          .auto_registered = true,
                          .vendor = "VendorX",
                          .model = "ModelY",
                          .firmware_version = "1.2.3",
                          .protocol = "ocpp1.6",
                          .last_boot_at = 1700000000000,
                          .created_at = 1600000000000,
                          .updated_at = 1650000000000};
    assert_int_equal(op_station_save(f, &st), STORE_OK);
    json_t *a = load(f, STATIONS);
    json_t *o = find_by(a, "id", "CS-1");
    assert_non_null(o);
    assert_string_equal(jstr(o, "password_hash"), "$argon2id$fake");
    assert_int_equal(jint(o, "security_profile"), 2);
    assert_string_equal(jstr(o, "registration_status"), "Pending");
    assert_true(json_is_true(json_object_get(o, "auto_registered")));
    assert_string_equal(jstr(o, "vendor"), "VendorX");
    assert_string_equal(jstr(o, "model"), "ModelY");
    assert_string_equal(jstr(o, "firmware_version"), "1.2.3");
    assert_string_equal(jstr(o, "protocol"), "ocpp1.6");
    assert_int_equal(jint(o, "last_boot_at"), 1700000000000);
    assert_int_equal(jint(o, "created_at"), 1600000000000);
    json_decref(a);
}

static void saving_a_station_again_updates_it_but_keeps_created_at(void **state)
{
    fixture_t *f = *state;
    store_station_t st = {.id = "CS-1",
                          .registration_status = "Pending",
                          .created_at = 100,
                          .updated_at = 100,
                          .vendor = "Old"};
    assert_int_equal(op_station_save(f, &st), STORE_OK);
    st.registration_status = "Accepted";
    st.vendor = NULL;
    st.created_at = 999;
    st.updated_at = 200;
    assert_int_equal(op_station_save(f, &st), STORE_OK);
    json_t *a = load(f, STATIONS);
    assert_int_equal(json_array_size(a), 1);
    json_t *o = json_array_get(a, 0);
    assert_string_equal(jstr(o, "registration_status"), "Accepted");
    assert_true(json_is_null(json_object_get(o, "vendor")));
    assert_int_equal(jint(o, "created_at"), 100);
    assert_int_equal(jint(o, "updated_at"), 200);
    json_decref(a);
}

static void the_store_copies_records_when_an_operation_is_queued(void **state)
{
    fixture_t *f = *state;
    char id[16], status[16];
    snprintf(id, sizeof id, "CS-COPY");
    snprintf(status, sizeof status, "Accepted");
    store_station_t st = {.id = id, .registration_status = status, .created_at = 1};
    slot_t *s = slot_new(f);
    store_station_save(f->s, &st, done_cb, s);
    memset(id, 'X', sizeof id - 1); /* the caller's memory changes before the writer runs */
    memset(status, 'Y', sizeof status - 1);
    wait_all(f);
    assert_int_equal(s->rc, STORE_OK);
    json_t *a = load(f, STATIONS);
    json_t *o = find_by(a, "id", "CS-COPY");
    assert_non_null(o);
    assert_string_equal(jstr(o, "registration_status"), "Accepted");
    json_decref(a);
}

static void a_failing_operation_does_not_sink_the_others_in_its_batch(void **state)
{
    fixture_t *f = *state;
    store_station_t good1 = {.id = "CS-A", .registration_status = "Accepted", .created_at = 1};
    store_station_t bad = {
        .id = "CS-B", .registration_status = NULL, .created_at = 1}; /* NOT NULL */
    store_station_t good2 = {.id = "CS-C", .registration_status = "Accepted", .created_at = 1};
    slot_t *a = slot_new(f), *b = slot_new(f), *c = slot_new(f);
    store_station_save(f->s, &good1, done_cb, a);
    store_station_save(f->s, &bad, done_cb, b);
    store_station_save(f->s, &good2, done_cb, c);
    wait_all(f);
    assert_int_equal(a->rc, STORE_OK);
    assert_int_equal(b->rc, STORE_ERR_CONFLICT);
    assert_int_equal(c->rc, STORE_OK);
    json_t *rows = load(f, STATIONS);
    assert_int_equal(json_array_size(rows), 2);
    assert_non_null(find_by(rows, "id", "CS-A"));
    assert_non_null(find_by(rows, "id", "CS-C"));
    json_decref(rows);
}

static void deleting_a_station_removes_it_and_its_connectors(void **state)
{
    fixture_t *f = *state;
    store_station_t st = {.id = "CS-1", .registration_status = "Accepted", .created_at = 1};
    store_station_t other = {.id = "CS-2", .registration_status = "Accepted", .created_at = 1};
    assert_int_equal(op_station_save(f, &st), STORE_OK);
    assert_int_equal(op_station_save(f, &other), STORE_OK);
    assert_int_equal(op_connector(f, "CS-1", 1, "Available", 1000), STORE_OK);
    assert_int_equal(op_connector(f, "CS-2", 1, "Available", 1000), STORE_OK);
    slot_t *s = slot_new(f);
    store_station_delete(f->s, "CS-1", done_cb, s);
    wait_all(f);
    assert_int_equal(s->rc, STORE_OK);
    json_t *rows = load(f, STATIONS);
    assert_int_equal(json_array_size(rows), 1);
    assert_non_null(find_by(rows, "id", "CS-2"));
    json_decref(rows);
    rows = load(f, CONNECTORS);
    assert_int_equal(json_array_size(rows), 1);
    assert_string_equal(jstr(json_array_get(rows, 0), "station_id"), "CS-2");
    json_decref(rows);
}

static void deleting_an_unknown_station_is_not_found(void **state)
{
    fixture_t *f = *state;
    slot_t *s = slot_new(f);
    store_station_delete(f->s, "nope", done_cb, s);
    wait_all(f);
    assert_int_equal(s->rc, STORE_ERR_NOT_FOUND);
}

/* ---- connectors and status history ------------------------------------------------------- */

static void connector_status_keeps_the_latest_report_per_connector(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(op_connector(f, "CS-1", 1, "Available", 1000), STORE_OK);
    assert_int_equal(op_connector(f, "CS-1", 1, "Charging", 2000), STORE_OK);
    assert_int_equal(op_connector(f, "CS-1", 2, "Faulted", 1500), STORE_OK);
    json_t *rows = load(f, CONNECTORS);
    assert_int_equal(json_array_size(rows), 2);
    json_t *c1 = json_array_get(rows, 0), *c2 = json_array_get(rows, 1); /* ordered by evse */
    assert_int_equal(jint(c1, "evse_id"), 1);
    assert_string_equal(jstr(c1, "status"), "Charging");
    assert_int_equal(jint(c1, "timestamp"), 2000);
    assert_int_equal(jint(c2, "evse_id"), 2);
    assert_string_equal(jstr(c2, "status"), "Faulted");
    json_decref(rows);
}

static void status_history_lists_every_report_newest_first(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(op_connector(f, "CS-1", 1, "Available", 1000), STORE_OK);
    assert_int_equal(op_connector(f, "CS-1", 1, "Preparing", 2000), STORE_OK);
    assert_int_equal(op_connector(f, "CS-1", 1, "Charging", 3000), STORE_OK);
    json_t *h = q_history(f, "CS-1", 10)->json;
    assert_int_equal(json_array_size(h), 3);
    json_t *first = json_array_get(h, 0);
    assert_string_equal(jstr(first, "status"), "Charging");
    assert_string_equal(jstr(first, "error_code"), "NoError");
    assert_int_equal(jint(first, "evse_id"), 1);
    assert_int_equal(jint(first, "connector_id"), 1);
    assert_string_equal(jstr(first, "timestamp"), "1970-01-01T00:00:03.000Z");
    assert_string_equal(jstr(first, "received_at"), "1970-01-01T00:00:03.005Z");
    assert_string_equal(jstr(json_array_get(h, 2), "status"), "Available");
}

static void status_history_is_per_station_and_honours_the_limit(void **state)
{
    fixture_t *f = *state;
    for (int i = 0; i < 5; i++)
        assert_int_equal(op_connector(f, "CS-1", 1, "Available", 1000 + i), STORE_OK);
    assert_int_equal(op_connector(f, "CS-2", 1, "Faulted", 1000), STORE_OK);
    assert_int_equal(json_array_size(q_history(f, "CS-1", 2)->json), 2);
    assert_int_equal(json_array_size(q_history(f, "CS-1", 0)->json), 5);
    assert_int_equal(json_array_size(q_history(f, "CS-2", 10)->json), 1);
    assert_int_equal(json_array_size(q_history(f, "CS-3", 10)->json), 0);
}

/* ---- id tokens --------------------------------------------------------------------------- */

static void a_saved_id_token_loads_with_its_fields(void **state)
{
    fixture_t *f = *state;
    store_id_token_t t = {.id_token = "TAG1",
                          .type = "ISO14443",
                          .status = "Blocked",
                          .expiry = 1800000000000,
                          .parent_id_token = "GROUP",
                          .created_at = 1,
                          .updated_at = 2};
    store_id_token_t g = {.id_token = "GROUP",
                          .type = "Central",
                          .status = "Accepted",
                          .created_at = 1,
                          .updated_at = 1};
    slot_t *a = slot_new(f), *b = slot_new(f);
    store_id_token_save(f->s, &t, done_cb, a);
    store_id_token_save(f->s, &g, done_cb, b);
    wait_all(f);
    assert_int_equal(a->rc, STORE_OK);
    assert_int_equal(b->rc, STORE_OK);
    json_t *rows = load(f, ID_TOKENS);
    assert_int_equal(json_array_size(rows), 2);
    json_t *o = find_by(rows, "id_token", "TAG1");
    assert_string_equal(jstr(o, "status"), "Blocked");
    assert_int_equal(jint(o, "expiry"), 1800000000000);
    assert_string_equal(jstr(o, "parent"), "GROUP");
    o = find_by(rows, "id_token", "GROUP");
    assert_int_equal(jint(o, "expiry"), 0);
    assert_true(json_is_null(json_object_get(o, "parent")));
    json_decref(rows);
}

static void saving_an_id_token_again_updates_it(void **state)
{
    fixture_t *f = *state;
    store_id_token_t t = {.id_token = "TAG1",
                          .type = "ISO14443",
                          .status = "Accepted",
                          .created_at = 1,
                          .updated_at = 1};
    slot_t *a = slot_new(f);
    store_id_token_save(f->s, &t, done_cb, a);
    t.status = "Blocked";
    slot_t *b = slot_new(f);
    store_id_token_save(f->s, &t, done_cb, b);
    wait_all(f);
    json_t *rows = load(f, ID_TOKENS);
    assert_int_equal(json_array_size(rows), 1);
    assert_string_equal(jstr(json_array_get(rows, 0), "status"), "Blocked");
    json_decref(rows);
}

static void deleting_an_id_token_removes_it(void **state)
{
    fixture_t *f = *state;
    store_id_token_t t = {.id_token = "TAG1", .type = "ISO14443", .status = "Accepted"};
    slot_t *a = slot_new(f), *b = slot_new(f), *c = slot_new(f);
    store_id_token_save(f->s, &t, done_cb, a);
    store_id_token_delete(f->s, "TAG1", done_cb, b);
    store_id_token_delete(f->s, "TAG1", done_cb, c);
    wait_all(f);
    assert_int_equal(b->rc, STORE_OK);
    assert_int_equal(c->rc, STORE_ERR_NOT_FOUND);
    json_t *rows = load(f, ID_TOKENS);
    assert_int_equal(json_array_size(rows), 0);
    json_decref(rows);
}

/* ---- transactions ------------------------------------------------------------------------ */

static void tx_start_assigns_an_id_used_as_transaction_id(void **state)
{
    fixture_t *f = *state;
    store_tx_t tx = tx_rec("CS-1", 1, "TAG1", 1000, 1700000000000);
    slot_t *s = op_tx_start(f, &tx);
    assert_true(s->id > 0);
    assert_false(s->existed);
    json_t *o = q_session(f, s->id)->json;
    char want[24];
    snprintf(want, sizeof want, "%lld", (long long)s->id);
    assert_string_equal(jstr(o, "transaction_id"), want);
    assert_string_equal(jstr(o, "station_id"), "CS-1");
    assert_string_equal(jstr(o, "id_token"), "TAG1");
    assert_string_equal(jstr(o, "auth_status"), "Accepted");
    assert_int_equal(jint(o, "meter_start_wh"), 1000);
    assert_true(json_is_true(json_object_get(o, "active")));
    assert_true(json_is_null(json_object_get(o, "stopped_at")));
    assert_true(json_is_null(json_object_get(o, "energy_wh")));
    assert_true(json_is_null(json_object_get(o, "reservation_id")));
    assert_string_equal(jstr(o, "started_at"), "2023-11-14T22:13:20.000Z");
}

static void tx_start_keeps_a_station_assigned_transaction_id(void **state)
{
    fixture_t *f = *state;
    store_tx_t tx = tx_rec("CS-1", 1, "TAG1", 0, 5000);
    tx.tx_id = "a5f1-uuid";
    tx.reservation_id = 7;
    slot_t *s = op_tx_start(f, &tx);
    json_t *o = q_session(f, s->id)->json;
    assert_string_equal(jstr(o, "transaction_id"), "a5f1-uuid");
    assert_int_equal(jint(o, "reservation_id"), 7);
}

static void a_replayed_tx_start_returns_the_same_id_as_existing(void **state)
{
    fixture_t *f = *state;
    store_tx_t tx = tx_rec("CS-1", 1, "TAG1", 1000, 5000);
    slot_t *first = op_tx_start(f, &tx);
    slot_t *again = op_tx_start(f, &tx);
    assert_int_equal(again->id, first->id);
    assert_true(again->existed);
    store_session_filter_t all = {.active = -1};
    assert_int_equal(json_array_size(q_sessions(f, &all)->json), 1);
}

static void a_replay_in_the_same_batch_returns_the_same_id(void **state)
{
    fixture_t *f = *state;
    store_tx_t tx = tx_rec("CS-1", 1, "TAG1", 1000, 5000);
    slot_t *a = slot_new(f), *b = slot_new(f);
    store_tx_start(f->s, &tx, tx_cb, a);
    store_tx_start(f->s, &tx, tx_cb, b);
    wait_all(f);
    assert_int_equal(a->rc, STORE_OK);
    assert_int_equal(b->rc, STORE_OK);
    assert_int_equal(a->id, b->id);
    assert_false(a->existed);
    assert_true(b->existed);
}

static void a_start_differing_in_any_identity_field_is_a_new_transaction(void **state)
{
    fixture_t *f = *state;
    store_tx_t base = tx_rec("CS-1", 1, "TAG1", 1000, 5000);
    int64_t id0 = op_tx_start(f, &base)->id;
    store_tx_t v[5] = {base, base, base, base, base};
    v[0].station_id = "CS-2";
    v[1].evse_id = 2;
    v[2].id_token = "TAG2";
    v[3].meter_start = 1001;
    v[4].started_at = 5001;
    for (int i = 0; i < 5; i++) {
        slot_t *s = op_tx_start(f, &v[i]);
        assert_false(s->existed);
        assert_int_not_equal(s->id, id0);
    }
    store_session_filter_t all = {.active = -1};
    assert_int_equal(json_array_size(q_sessions(f, &all)->json), 6);
}

static void stopping_a_transaction_records_meter_stop_and_energy(void **state)
{
    fixture_t *f = *state;
    store_tx_t tx = tx_rec("CS-1", 1, "TAG1", 1000, 5000);
    int64_t id = op_tx_start(f, &tx)->id;
    assert_int_equal(op_tx_stop(f, id, 8500, 65000), STORE_OK);
    json_t *o = q_session(f, id)->json;
    assert_false(json_is_true(json_object_get(o, "active")));
    assert_int_equal(jint(o, "meter_stop_wh"), 8500);
    assert_int_equal(jint(o, "energy_wh"), 7500);
    assert_string_equal(jstr(o, "stopped_at"), "1970-01-01T00:01:05.000Z");
    assert_string_equal(jstr(o, "stop_reason"), "EVDisconnected");
    assert_string_equal(jstr(o, "stop_id_token"), "TAG1");
    assert_true(json_real_value(json_object_get(o, "soc_percent")) == 80.5);
}

static void updating_an_unknown_transaction_is_not_found(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(op_tx_stop(f, 424242, 10, 10), STORE_ERR_NOT_FOUND);
}

static void an_active_session_reports_energy_from_the_last_register_reading(void **state)
{
    fixture_t *f = *state;
    store_tx_t tx = tx_rec("CS-1", 1, "TAG1", 1000, 5000);
    int64_t id = op_tx_start(f, &tx)->id;
    store_tx_t u = {
        .id = id, .meter_stop = -1, .reservation_id = -1, .last_soc = 42, .last_energy_wh = 4200};
    slot_t *s = slot_new(f);
    store_tx_update(f->s, &u, done_cb, s);
    wait_all(f);
    assert_int_equal(s->rc, STORE_OK);
    json_t *o = q_session(f, id)->json;
    assert_true(json_is_true(json_object_get(o, "active")));
    assert_int_equal(jint(o, "energy_wh"), 3200);
    assert_true(json_number_value(json_object_get(o, "soc_percent")) == 42.0);
}

static void loading_active_transactions_skips_stopped_ones(void **state)
{
    fixture_t *f = *state;
    store_tx_t a = tx_rec("CS-1", 1, "TAG1", 1000, 5000);
    store_tx_t b = tx_rec("CS-1", 2, "TAG2", 2000, 6000);
    b.reservation_id = 3;
    int64_t ida = op_tx_start(f, &a)->id;
    int64_t idb = op_tx_start(f, &b)->id;
    assert_int_equal(op_tx_stop(f, ida, 1500, 7000), STORE_OK);
    json_t *rows = load(f, ACTIVE_TXS);
    assert_int_equal(json_array_size(rows), 1);
    json_t *o = json_array_get(rows, 0);
    assert_int_equal(jint(o, "id"), idb);
    assert_string_equal(jstr(o, "id_token"), "TAG2");
    assert_int_equal(jint(o, "evse_id"), 2);
    assert_int_equal(jint(o, "meter_start"), 2000);
    assert_int_equal(jint(o, "started_at"), 6000);
    assert_int_equal(jint(o, "reservation_id"), 3);
    assert_true(json_real_value(json_object_get(o, "last_soc")) == -1);
    assert_int_equal(jint(o, "last_energy_wh"), -1);
    json_decref(rows);
}

/* ---- meter values ------------------------------------------------------------------------ */

static void meter_values_appear_in_their_session_in_time_order(void **state)
{
    fixture_t *f = *state;
    store_tx_t tx = tx_rec("CS-1", 1, "TAG1", 1000, 5000);
    int64_t id = op_tx_start(f, &tx)->id;
    store_sample_t later[] = {
        {.timestamp = 3000,
         .value = "1300",
         .measurand = "Energy.Active.Import.Register",
         .unit = "Wh",
         .context = "Sample.Periodic",
         .location = "Outlet",
         .format = "Raw"},
    };
    store_sample_t earlier[] = {
        {.timestamp = 1000, .value = "1100"},
        {.timestamp = 2000, .value = "55", .measurand = "SoC", .unit = "Percent", .phase = "L1"},
    };
    /* a session on the station's other connector, its readings in between */
    store_tx_t tx2 = tx_rec("CS-1", 2, "TAG2", 0, 1500);
    int64_t id2 = op_tx_start(f, &tx2)->id;
    store_sample_t other[] = {{.timestamp = 1500, .value = "7"}, {.timestamp = 2500, .value = "8"}};
    slot_t *a = slot_new(f), *b = slot_new(f), *c = slot_new(f), *d = slot_new(f);
    store_meter_values(f->s, "CS-1", 1, 1, id, later, 1, done_cb, a);
    store_meter_values(f->s, "CS-1", 2, 1, id2, other, 2, done_cb, d);
    store_meter_values(f->s, "CS-1", 1, 1, id, earlier, 2, done_cb, b);
    store_meter_values(f->s, "CS-1", 1, 1, 0, earlier, 2, done_cb, c); /* outside the session */
    wait_all(f);
    assert_int_equal(a->rc, STORE_OK);
    assert_int_equal(b->rc, STORE_OK);
    assert_int_equal(c->rc, STORE_OK);
    assert_int_equal(d->rc, STORE_OK);
    json_t *mv2 = json_object_get(q_session(f, id2)->json, "meter_values");
    assert_int_equal(json_array_size(mv2), 2);
    assert_string_equal(jstr(json_array_get(mv2, 0), "value"), "7");
    assert_string_equal(jstr(json_array_get(mv2, 1), "value"), "8");
    json_t *mv = json_object_get(q_session(f, id)->json, "meter_values");
    assert_int_equal(json_array_size(mv), 3);
    assert_string_equal(jstr(json_array_get(mv, 0), "value"), "1100");
    assert_true(json_is_null(json_object_get(json_array_get(mv, 0), "measurand")));
    json_t *soc = json_array_get(mv, 1);
    assert_string_equal(jstr(soc, "value"), "55");
    assert_string_equal(jstr(soc, "measurand"), "SoC");
    assert_string_equal(jstr(soc, "phase"), "L1");
    assert_string_equal(jstr(soc, "timestamp"), "1970-01-01T00:00:02.000Z");
    json_t *last = json_array_get(mv, 2);
    assert_string_equal(jstr(last, "value"), "1300");
    assert_string_equal(jstr(last, "unit"), "Wh");
    assert_string_equal(jstr(last, "context"), "Sample.Periodic");
    assert_string_equal(jstr(last, "location"), "Outlet");
    assert_string_equal(jstr(last, "format"), "Raw");
}

/* Counts rows of a table (or view) of dir/ampgrid.db directly. */
static int count_rows(const char *dir, const char *table)
{
    char path[256], sql[128];
    sqlite3 *db;
    sqlite3_stmt *st;
    int n = -1;
    snprintf(path, sizeof path, "%s/ampgrid.db", dir);
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s", table);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void a_reading_is_one_row_and_its_samples_come_back_exactly(void **state)
{
    fixture_t *f = *state;
    store_tx_t tx = tx_rec("CS-1", 1, "TAG1", 1000, 5000);
    int64_t id = op_tx_start(f, &tx)->id;
    store_sample_t s[] = {
        {.timestamp = 1000, .value = "230.1", .measurand = "Voltage", .phase = "L1", .unit = "V"},
        {.timestamp = 1000, .value = "q\"b\\s\x01\x1f\u00e9", .measurand = "Voltage",
         .phase = "L2"},
        {.timestamp = 1000, .value = "", .location = "Outlet"},
        {.timestamp = 2000, .value = "7", .measurand = "SoC"},
    };
    slot_t *a = slot_new(f);
    store_meter_values(f->s, "CS-1", 1, 1, id, s, 4, done_cb, a);
    wait_all(f);
    assert_int_equal(a->rc, STORE_OK);
    json_t *mv = json_object_get(q_session(f, id)->json, "meter_values");
    assert_int_equal(json_array_size(mv), 4);
    for (size_t i = 0; i < 4; i++) {
        json_t *o = json_array_get(mv, i);
        assert_string_equal(jstr(o, "value"), s[i].value);
        const char *m = json_string_value(json_object_get(o, "measurand"));
        if (s[i].measurand) assert_string_equal(m, s[i].measurand);
        else assert_null(m);
    }
    assert_string_equal(jstr(json_array_get(mv, 2), "location"), "Outlet");
    assert_true(json_is_null(json_object_get(json_array_get(mv, 2), "unit")));
    store_close(f->s); /* the data is on disk: count what the writer made */
    f->s = NULL;
    assert_int_equal(count_rows(f->dir, "meter_readings"), 2); /* one per timestamp */
    assert_int_equal(count_rows(f->dir, "meter_values"), 4);
}

/* A database of schema `version` in the fixture's directory, seeded with `sql`. */
static sqlite3 *db_at_version(fixture_t *f, int version, const char *sql)
{
    char path[160], err[256] = "";
    snprintf(path, sizeof path, "%s/v%d.db", f->dir, version);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(store_migrate(db, version, err, sizeof err), 0);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    return db;
}

static void migrating_keeps_meter_values_written_one_row_per_sample(void **state)
{
    fixture_t *f = *state;
    char err[256] = "";
    sqlite3 *db = db_at_version(
        f, 10,
        "INSERT INTO meter_values(station_id,evse_id,connector_id,transaction_id,"
        "timestamp,value,measurand,phase,unit,context,location,format) VALUES"
        "('CS-1',1,1,7,2000,'9','SoC',NULL,'Percent',NULL,NULL,NULL),"
        "('CS-1',1,1,7,1000,'230','Voltage','L1','V','Sample.Periodic','Outlet',"
        "'Raw'),('CS-2',2,0,NULL,1000,'x\"y',NULL,NULL,NULL,NULL,NULL,NULL)");
    assert_int_equal(store_migrate(db, STORE_SCHEMA_VERSION, err, sizeof err), 0);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT station_id,transaction_id,timestamp,value,"
                                        "measurand,phase,unit,context,location,format FROM "
                                        "meter_values ORDER BY id",
                                        -1, &st, NULL),
                     SQLITE_OK);
    const char *want[3][10] = {
        {"CS-1", "7", "2000", "9", "SoC", NULL, "Percent", NULL, NULL, NULL},
        {"CS-1", "7", "1000", "230", "Voltage", "L1", "V", "Sample.Periodic", "Outlet", "Raw"},
        {"CS-2", NULL, "1000", "x\"y", NULL, NULL, NULL, NULL, NULL, NULL},
    };
    for (int r = 0; r < 3; r++) {
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        for (int c = 0; c < 10; c++) {
            const char *got = (const char *)sqlite3_column_text(st, c);
            if (want[r][c]) assert_string_equal(got, want[r][c]);
            else assert_null(got);
        }
    }
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* Schema 12 drops the (transaction, time) index of meter readings: the
 * migration gives every transaction the time bounds of its readings, and a
 * session's readings are then found through the station index. */
static void migrating_bounds_each_session_readings_for_the_station_index(void **state)
{
    fixture_t *f = *state;
    char err[256] = "";
    sqlite3 *db = db_at_version(
        f, 11,
        "INSERT INTO transactions(id,station_id,evse_id,connector_id,id_token,"
        "started_at,created_at) VALUES(7,'CS-1',1,1,'A',900,900),"
        "(8,'CS-1',2,1,'B',900,900),(9,'CS-2',1,1,'C',900,900);"
        "INSERT INTO meter_readings(station_id,evse_id,connector_id,transaction_id,"
        "timestamp,samples) VALUES('CS-1',1,1,7,3000,'[{\"v\":\"3\"}]'),"
        "('CS-1',1,1,7,1000,'[{\"v\":\"1\"}]'),"
        "('CS-1',2,1,8,2000,'[{\"v\":\"2\"}]'),"
        "('CS-1',1,1,NULL,2500,'[{\"v\":\"x\"}]');");
    assert_int_equal(store_migrate(db, STORE_SCHEMA_VERSION, err, sizeof err), 0);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT id,readings_from,readings_to FROM transactions "
                                        "ORDER BY id",
                                        -1, &st, NULL),
                     SQLITE_OK);
    const int64_t want[3][3] = {{7, 1000, 3000}, {8, 2000, 2000}, {9, -1, -1}};
    for (int r = 0; r < 3; r++) {
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int64(st, 0), want[r][0]);
        for (int c = 1; c < 3; c++) {
            if (want[r][c] < 0) assert_int_equal(sqlite3_column_type(st, c), SQLITE_NULL);
            else assert_int_equal(sqlite3_column_int64(st, c), want[r][c]);
        }
    }
    sqlite3_finalize(st);
    /* session 7: its two readings in time order, not 8's nor the one without a session */
    const char *q = "SELECT m.value FROM transactions t,meter_values m WHERE "
                    STORE_SQL_TX_READINGS("?1") " ORDER BY m.timestamp,m.id";
    assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_int64(st, 1, 7);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "1");
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "3");
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    /* ... found through the station index, and the other index is gone */
    char plan[512];
    snprintf(plan, sizeof plan, "EXPLAIN QUERY PLAN %s", q);
    assert_int_equal(sqlite3_prepare_v2(db, plan, -1, &st, NULL), SQLITE_OK);
    bool by_station = false;
    while (sqlite3_step(st) == SQLITE_ROW)
        if (strstr((const char *)sqlite3_column_text(st, 3),
                   "USING INDEX meter_readings_station (station_id=? AND timestamp>? AND "
                   "timestamp<?)"))
            by_station = true;
    sqlite3_finalize(st);
    assert_true(by_station);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT COUNT(*) FROM sqlite_schema WHERE "
                                        "name='meter_readings_tx'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void a_session_query_for_an_unknown_id_is_not_found(void **state)
{
    fixture_t *f = *state;
    slot_t *s = q_session(f, 999);
    assert_int_equal(s->rc, STORE_ERR_NOT_FOUND);
    assert_null(s->json);
}

/* ---- session queries --------------------------------------------------------------------- */

static void session_queries_filter_by_station_token_state_and_time(void **state)
{
    fixture_t *f = *state;
    store_tx_t t1 = tx_rec("CS-1", 1, "TAG1", 0, 1000);
    store_tx_t t2 = tx_rec("CS-1", 2, "TAG2", 0, 2000);
    store_tx_t t3 = tx_rec("CS-2", 1, "TAG1", 0, 3000);
    int64_t id1 = op_tx_start(f, &t1)->id;
    int64_t id2 = op_tx_start(f, &t2)->id;
    int64_t id3 = op_tx_start(f, &t3)->id;
    assert_int_equal(op_tx_stop(f, id1, 10, 1500), STORE_OK);

    store_session_filter_t flt = {.active = -1};
    json_t *all = q_sessions(f, &flt)->json;
    assert_int_equal(json_array_size(all), 3);
    assert_int_equal(jint(json_array_get(all, 0), "id"), id3); /* newest first */
    assert_int_equal(jint(json_array_get(all, 2), "id"), id1);

    flt = (store_session_filter_t){.active = -1, .station_id = "CS-1"};
    assert_int_equal(json_array_size(q_sessions(f, &flt)->json), 2);
    flt = (store_session_filter_t){.active = -1, .id_token = "TAG1"};
    assert_int_equal(json_array_size(q_sessions(f, &flt)->json), 2);
    flt = (store_session_filter_t){.active = -1, .station_id = "CS-1", .id_token = "TAG1"};
    json_t *one = q_sessions(f, &flt)->json;
    assert_int_equal(json_array_size(one), 1);
    assert_int_equal(jint(json_array_get(one, 0), "id"), id1);

    flt = (store_session_filter_t){.active = 1};
    json_t *active = q_sessions(f, &flt)->json;
    assert_int_equal(json_array_size(active), 2);
    flt = (store_session_filter_t){.active = 0};
    json_t *ended = q_sessions(f, &flt)->json;
    assert_int_equal(json_array_size(ended), 1);
    assert_int_equal(jint(json_array_get(ended, 0), "id"), id1);

    flt = (store_session_filter_t){.active = -1, .from = 2000};
    assert_int_equal(json_array_size(q_sessions(f, &flt)->json), 2);
    flt = (store_session_filter_t){.active = -1, .to = 2000}; /* exclusive */
    json_t *before = q_sessions(f, &flt)->json;
    assert_int_equal(json_array_size(before), 1);
    assert_int_equal(jint(json_array_get(before, 0), "id"), id1);
    flt = (store_session_filter_t){.active = -1, .from = 1500, .to = 2500};
    json_t *mid = q_sessions(f, &flt)->json;
    assert_int_equal(json_array_size(mid), 1);
    assert_int_equal(jint(json_array_get(mid, 0), "id"), id2);

    flt = (store_session_filter_t){.active = -1, .station_id = "CS-9"};
    assert_int_equal(json_array_size(q_sessions(f, &flt)->json), 0);
}

static void session_queries_page_with_limit_and_offset(void **state)
{
    fixture_t *f = *state;
    int64_t ids[5];
    for (int i = 0; i < 5; i++) {
        store_tx_t t = tx_rec("CS-1", 1, "TAG1", 0, 1000 + i);
        ids[i] = op_tx_start(f, &t)->id;
    }
    store_session_filter_t flt = {.active = -1, .limit = 2, .offset = 1};
    json_t *page = q_sessions(f, &flt)->json;
    assert_int_equal(json_array_size(page), 2);
    assert_int_equal(jint(json_array_get(page, 0), "id"), ids[3]);
    assert_int_equal(jint(json_array_get(page, 1), "id"), ids[2]);
    flt = (store_session_filter_t){.active = -1, .limit = 2, .offset = 4};
    assert_int_equal(json_array_size(q_sessions(f, &flt)->json), 1);
    flt = (store_session_filter_t){.active = -1, .limit = 0, .offset = -3}; /* defaults */
    assert_int_equal(json_array_size(q_sessions(f, &flt)->json), 5);
}

/* ---- station events ---------------------------------------------------------------------- */

static void station_events_list_newest_first_with_their_detail(void **state)
{
    fixture_t *f = *state;
    json_t *d1 = json_pack("{s:s, s:i}", "vendorId", "ACME", "n", 1);
    slot_t *a = slot_new(f), *b = slot_new(f), *c = slot_new(f);
    store_station_event(f->s, "CS-1", "data_transfer", d1, done_cb, a);
    json_decref(d1); /* copied when queued */
    store_station_event(f->s, "CS-1", "firmware_status", NULL, done_cb, b);
    store_station_event(f->s, "CS-2", "other", NULL, done_cb, c);
    wait_all(f);
    json_t *ev = q_events(f, "CS-1", 10)->json;
    assert_int_equal(json_array_size(ev), 2);
    json_t *newest = json_array_get(ev, 0), *oldest = json_array_get(ev, 1);
    assert_string_equal(jstr(newest, "kind"), "firmware_status");
    assert_true(json_is_null(json_object_get(newest, "detail")));
    assert_string_equal(jstr(oldest, "kind"), "data_transfer");
    json_t *detail = json_object_get(oldest, "detail");
    assert_string_equal(jstr(detail, "vendorId"), "ACME");
    assert_int_equal(jint(detail, "n"), 1);
    assert_true(json_is_string(json_object_get(oldest, "created_at")));
    assert_true(jint(newest, "id") > jint(oldest, "id"));
    assert_int_equal(json_array_size(q_events(f, "CS-1", 1)->json), 1);
}

/* ---- group commit and closing ------------------------------------------------------------ */

static void many_queued_operations_share_commits(void **state)
{
    fixture_t *f = *state;
    enum { N = 1000 };
    store_sample_t sm = {
        .timestamp = 1, .value = "1", .measurand = "Power.Active.Import", .unit = "W"};
    for (int i = 0; i < N; i++) {
        sm.timestamp = i;
        store_meter_values(f->s, "CS-1", 1, 1, 0, &sm, 1, done_cb, slot_new(f));
    }
    wait_all(f);
    for (int i = 0; i < N; i++)
        if (f->slots[i].rc != STORE_OK) fail_msg("op %d failed: %d", i, (int)f->slots[i].rc);
    store_stats_t st;
    store_get_stats(f->s, &st);
    assert_true(st.ops >= N);
    assert_true(st.commits >= 1);
    if (!(st.commits < st.ops))
        fail_msg("no group commit: %llu commits for %llu ops", (unsigned long long)st.commits,
                 (unsigned long long)st.ops);
    assert_int_equal(st.failures, 0);
    assert_int_equal(st.queue_depth, 0);
    uint64_t buckets = 0;
    for (int i = 0; i < 12; i++)
        buckets += st.commit_us_buckets[i];
    assert_int_equal(buckets, st.commits);
}

static void the_store_is_idle_only_when_no_completion_is_outstanding(void **state)
{
    fixture_t *f = *state;
    assert_true(store_idle(f->s));
    store_station_event(f->s, "CS-1", "note", NULL, done_cb, slot_new(f));
    /* Queued, being written, or committed but not yet completed on the loop. */
    assert_false(store_idle(f->s));
    wait_all(f);
    assert_true(store_idle(f->s));
}

static void close_finishes_queued_work_and_runs_its_completions(void **state)
{
    fixture_t *f = *state;
    enum { N = 200 };
    store_station_t st = {.id = "CS-1", .registration_status = "Accepted", .created_at = 1};
    store_station_save(f->s, &st, done_cb, slot_new(f));
    for (int i = 0; i < N; i++)
        store_station_event(f->s, "CS-1", "note", NULL, done_cb, slot_new(f));
    store_close(f->s); /* immediately: nothing has run on the loop */
    f->s = NULL;
    assert_int_equal(f->completed, N + 1);
    for (unsigned i = 0; i < f->nslots; i++)
        assert_int_equal(f->slots[i].rc, STORE_OK);

    f->s = open_store(f->dir);
    json_t *rows = json_array();
    assert_int_equal(store_load_stations(f->s, collect_station, rows), 0);
    assert_int_equal(json_array_size(rows), 1);
    json_decref(rows);
    restart(f);
    assert_int_equal(json_array_size(q_events(f, "CS-1", 1000)->json), N);
}

static void closing_an_idle_store_needs_no_loop_run(void **state)
{
    fixture_t *f = *state;
    char dir[128];
    snprintf(dir, sizeof dir, "%s/idle", f->dir);
    store_t *s = open_store(dir);
    store_close(s); /* never started */
    store_close(NULL);
}

/* ---- API tokens -------------------------------------------------------------------------- */

static void an_api_token_is_found_by_its_hash(void **state)
{
    fixture_t *f = *state;
    char err[256] = "";
    store_close(f->s); /* tokens are created before the writer starts (CLI) */
    f->s = open_store(f->dir);
    assert_int_equal(
        store_api_token_create_sync(f->s, "ci", "admin", "hash-1", 1800000000000, err, sizeof err),
        0);
    assert_int_equal(store_api_token_count_sync(f->s), 1);
    restart(f);
    slot_t *s = slot_new(f);
    store_api_token_lookup(f->s, "hash-1", json_cb, s);
    wait_all(f);
    assert_int_equal(s->rc, STORE_OK);
    assert_string_equal(jstr(s->json, "name"), "ci");
    assert_string_equal(jstr(s->json, "role"), "admin");
    assert_int_equal(jint(s->json, "expires_at"), 1800000000000);
}

static void looking_up_an_unknown_api_token_is_not_found(void **state)
{
    fixture_t *f = *state;
    slot_t *s = slot_new(f);
    store_api_token_lookup(f->s, "no-such-hash", json_cb, s);
    wait_all(f);
    assert_int_equal(s->rc, STORE_ERR_NOT_FOUND);
    assert_null(s->json);
}

static void an_api_token_hash_can_be_stored_only_once(void **state)
{
    fixture_t *f = *state;
    char err[256] = "";
    store_close(f->s);
    f->s = open_store(f->dir);
    assert_int_equal(store_api_token_create_sync(f->s, "a", "admin", "same", 0, err, sizeof err),
                     0);
    assert_int_equal(store_api_token_create_sync(f->s, "b", "viewer", "same", 0, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "token"));
    assert_int_equal(store_api_token_count_sync(f->s), 1);
    restart(f);
}

/* The generic operation keeps its statements prepared by their text: the
 * same text with new parameters answers for those parameters, more texts than
 * the cache holds still run (the oldest are prepared again), and a text that
 * does not prepare fails alone. */
static void generic_sql_answers_the_same_with_statements_kept_and_evicted(void **state)
{
    fixture_t *f = *state;
    static char texts[STORE_SQL_CACHE + 36][96];
    slot_t *create = slot_new(f);
    store_sql1(f->s, "CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT)", NULL, 0, json_cb, create);
    for (int round = 0; round < 2; round++) {
        for (int k = 0; k < STORE_SQL_CACHE + 36; k++) {
            /* a distinct statement per key (it appends its number): more
             * than the cache holds */
            snprintf(texts[k], sizeof texts[k],
                     "INSERT INTO t(k,v) VALUES(?1,?2||'-%d') ON CONFLICT(k) DO UPDATE SET "
                     "v=excluded.v",
                     k);
            char v[32];
            snprintf(v, sizeof v, "r%d-k%d", round, k);
            store_sql1(f->s, texts[k], json_pack("[i,s]", k, v), 0, json_cb, slot_new(f));
        }
    }
    slot_t *bad = slot_new(f);
    store_sql1(f->s, "SELEC nothing", NULL, 0, json_cb, bad);
    slot_t *q[3];
    int keys[3] = {3, 4, STORE_SQL_CACHE + 35};
    for (int i = 0; i < 3; i++) {
        q[i] = slot_new(f);
        store_sql1(f->s, "SELECT v FROM t WHERE k=?1", json_pack("[i]", keys[i]), 0, json_cb, q[i]);
    }
    slot_t *count = slot_new(f);
    store_sql1(f->s, "SELECT count(*) AS n, sum(k) AS s FROM t", NULL, 0, json_cb, count);
    wait_all(f);

    assert_int_equal(create->rc, STORE_OK);
    for (unsigned i = 1; i < f->nslots; i++)
        if (&f->slots[i] != bad) assert_int_equal(f->slots[i].rc, STORE_OK);
    assert_int_not_equal(bad->rc, STORE_OK);
    for (int i = 0; i < 3; i++) {
        char want[32];
        snprintf(want, sizeof want, "r1-k%d-%d", keys[i], keys[i]);
        json_t *rows = json_array_get(q[i]->json, 0);
        assert_int_equal(json_array_size(rows), 1);
        assert_string_equal(jstr(json_array_get(rows, 0), "v"), want);
    }
    json_t *c = json_array_get(json_array_get(count->json, 0), 0);
    int n = STORE_SQL_CACHE + 36;
    assert_int_equal(jint(c, "n"), n);
    assert_int_equal(jint(c, "s"), n * (n - 1) / 2);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(open_creates_the_directory_and_migrates_to_the_current_version),
        T(reopening_keeps_data_and_schema_version),
        T(open_refuses_a_database_with_a_newer_schema),
        T(open_refuses_a_data_directory_it_cannot_create),
        T(a_saved_station_loads_with_its_fields),
        T(saving_a_station_again_updates_it_but_keeps_created_at),
        T(the_store_copies_records_when_an_operation_is_queued),
        T(a_failing_operation_does_not_sink_the_others_in_its_batch),
        T(deleting_a_station_removes_it_and_its_connectors),
        T(deleting_an_unknown_station_is_not_found),
        T(connector_status_keeps_the_latest_report_per_connector),
        T(status_history_lists_every_report_newest_first),
        T(status_history_is_per_station_and_honours_the_limit),
        T(a_saved_id_token_loads_with_its_fields),
        T(saving_an_id_token_again_updates_it),
        T(deleting_an_id_token_removes_it),
        T(tx_start_assigns_an_id_used_as_transaction_id),
        T(tx_start_keeps_a_station_assigned_transaction_id),
        T(a_replayed_tx_start_returns_the_same_id_as_existing),
        T(a_replay_in_the_same_batch_returns_the_same_id),
        T(a_start_differing_in_any_identity_field_is_a_new_transaction),
        T(stopping_a_transaction_records_meter_stop_and_energy),
        T(updating_an_unknown_transaction_is_not_found),
        T(an_active_session_reports_energy_from_the_last_register_reading),
        T(loading_active_transactions_skips_stopped_ones),
        T(meter_values_appear_in_their_session_in_time_order),
        T(a_reading_is_one_row_and_its_samples_come_back_exactly),
        T(migrating_keeps_meter_values_written_one_row_per_sample),
        T(migrating_bounds_each_session_readings_for_the_station_index),
        T(a_session_query_for_an_unknown_id_is_not_found),
        T(session_queries_filter_by_station_token_state_and_time),
        T(session_queries_page_with_limit_and_offset),
        T(station_events_list_newest_first_with_their_detail),
        T(many_queued_operations_share_commits),
        T(the_store_is_idle_only_when_no_completion_is_outstanding),
        T(close_finishes_queued_work_and_runs_its_completions),
        T(closing_an_idle_store_needs_no_loop_run),
        T(an_api_token_is_found_by_its_hash),
        T(looking_up_an_unknown_api_token_is_not_found),
        T(an_api_token_hash_can_be_stored_only_once),
        T(generic_sql_answers_the_same_with_statements_kept_and_evicted),
    };
#undef T
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
