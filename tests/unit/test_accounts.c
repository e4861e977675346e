/*
 * Specification of the accounts store (src/store/store_accounts.c on
 * store_sql.c): users and what changing them does to their login sessions,
 * session lookup, API token revocation, and audit-log filters and paging.
 * Each test gets a fresh database, a libuv loop and a started store.
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
#include <sys/stat.h>
#include <uv.h>

#include "store/store_accounts.h"
#include "util/timefmt.h"

typedef struct fixture {
    char dir[64];
    uv_loop_t loop;
    uv_timer_t tick; /* keeps the loop polling (the store's wakeup handle is unreferenced) */
    store_t *s;
    int pending;
    store_err_t rc;
    json_t *res;
} fixture_t;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void tick_cb(uv_timer_t *t)
{
    (void)t;
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/ampgrid-acct-XXXXXX");
    if (!mkdtemp(f->dir) || uv_loop_init(&f->loop) != 0) return -1;
    uv_timer_init(&f->loop, &f->tick);
    uv_timer_start(&f->tick, tick_cb, 50, 50);
    char err[256];
    f->s = store_open(f->dir, false, err, sizeof err);
    if (!f->s) return -1;
    store_start(f->s, &f->loop);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    store_close(f->s);
    uv_close((uv_handle_t *)&f->tick, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    uv_loop_close(&f->loop);
    json_decref(f->res);
    nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void done(void *ctx, store_err_t rc, json_t *res)
{
    fixture_t *f = ctx;
    f->pending--;
    f->rc = rc;
    json_decref(f->res);
    f->res = json_incref(res);
}

/* Runs the loop until the one queued operation has completed. */
static store_err_t wait(fixture_t *f)
{
    f->pending = 1;
    while (f->pending > 0) uv_run(&f->loop, UV_RUN_ONCE);
    return f->rc;
}

/* The first row of step `step`'s result. */
static json_t *row(fixture_t *f, size_t step)
{
    return json_array_get(json_array_get(f->res, step), 0);
}

static void users_and_their_sessions(void **state)
{
    fixture_t *f = *state;
    store_user_create(f->s, "alice", "$argon2id$x", "operator", done, f);
    assert_int_equal(wait(f), STORE_OK);
    json_int_t id = json_integer_value(json_object_get(row(f, 1), "id"));
    assert_true(id > 0);
    store_user_create(f->s, "alice", "$argon2id$y", "viewer", done, f);
    assert_int_equal(wait(f), STORE_ERR_CONFLICT);

    int64_t exp = time_now_ms() + 60000;
    store_session_create(f->s, "d1", id, "csrf1", "127.0.0.1", exp, done, f);
    assert_int_equal(wait(f), STORE_OK);
    store_session_lookup(f->s, "d1", done, f);
    assert_int_equal(wait(f), STORE_OK);
    assert_string_equal(json_string_value(json_object_get(row(f, 0), "username")), "alice");
    assert_string_equal(json_string_value(json_object_get(row(f, 0), "csrf")), "csrf1");
    assert_string_equal(json_string_value(json_object_get(row(f, 0), "role")), "operator");

    /* a role change keeps sessions */
    store_user_update(f->s, "alice", "technician", NULL, -1, done, f);
    assert_int_equal(wait(f), STORE_OK);
    assert_string_equal(json_string_value(json_object_get(row(f, 2), "role")), "technician");
    store_session_lookup(f->s, "d1", done, f);
    assert_int_equal(wait(f), STORE_OK);
    assert_string_equal(json_string_value(json_object_get(row(f, 0), "role")), "technician");

    /* a new password ends them */
    store_user_update(f->s, "alice", NULL, "$argon2id$z", -1, done, f);
    assert_int_equal(wait(f), STORE_OK);
    store_session_lookup(f->s, "d1", done, f);
    assert_int_equal(wait(f), STORE_ERR_NOT_FOUND);

    /* so does disabling */
    store_session_create(f->s, "d2", id, "csrf2", NULL, exp, done, f);
    assert_int_equal(wait(f), STORE_OK);
    store_user_update(f->s, "alice", NULL, NULL, 1, done, f);
    assert_int_equal(wait(f), STORE_OK);
    assert_int_equal(json_integer_value(json_object_get(row(f, 2), "disabled")), 1);
    store_session_lookup(f->s, "d2", done, f);
    assert_int_equal(wait(f), STORE_ERR_NOT_FOUND);

    /* expired sessions are swept when the next one is created */
    store_session_create(f->s, "old", id, "c", NULL, time_now_ms() - 1, done, f);
    assert_int_equal(wait(f), STORE_OK);
    store_session_create(f->s, "new", id, "c", NULL, exp, done, f);
    assert_int_equal(wait(f), STORE_OK);
    store_session_lookup(f->s, "old", done, f);
    assert_int_equal(wait(f), STORE_ERR_NOT_FOUND);

    store_user_update(f->s, "nobody", "admin", NULL, -1, done, f);
    assert_int_equal(wait(f), STORE_ERR_NOT_FOUND);
    store_user_delete(f->s, "alice", done, f);
    assert_int_equal(wait(f), STORE_OK);
    store_session_lookup(f->s, "new", done, f);
    assert_int_equal(wait(f), STORE_ERR_NOT_FOUND);
    store_user_get(f->s, "alice", done, f);
    assert_int_equal(wait(f), STORE_ERR_NOT_FOUND);
    store_user_delete(f->s, "alice", done, f);
    assert_int_equal(wait(f), STORE_ERR_NOT_FOUND);
}

static void api_tokens_revoke_once(void **state)
{
    fixture_t *f = *state;
    store_api_token_create(f->s, "ci", "viewer", "hash-ci", 0, "admin", done, f);
    assert_int_equal(wait(f), STORE_OK);
    json_int_t id = json_integer_value(json_object_get(row(f, 1), "id"));
    store_api_token_revoke(f->s, id, done, f);
    assert_int_equal(wait(f), STORE_OK);
    json_int_t first = json_integer_value(json_object_get(row(f, 1), "revoked_at"));
    assert_true(first > 0);
    assert_string_equal(json_string_value(json_object_get(row(f, 1), "token_hash")), "hash-ci");
    store_api_token_revoke(f->s, id, done, f); /* again: the first revocation time stays */
    assert_int_equal(wait(f), STORE_OK);
    assert_int_equal(json_integer_value(json_object_get(row(f, 1), "revoked_at")), first);
    store_api_token_lookup(f->s, "hash-ci", done, f);
    assert_int_equal(wait(f), STORE_ERR_NOT_FOUND);
    store_api_token_revoke(f->s, 424242, done, f);
    assert_int_equal(wait(f), STORE_ERR_NOT_FOUND);
}

static void audit_filters_and_pages(void **state)
{
    fixture_t *f = *state;
    const char *actions[] = {"station.create", "station.update", "id_token.create",
                             "station.delete", "user.create"};
    for (int i = 0; i < 5; i++) {
        json_t *after = json_pack("{s:i}", "n", i);
        store_audit_t a = {.at = 1000 + i,
                           .actor = i % 2 ? "bob" : "alice",
                           .actor_kind = "user",
                           .action = actions[i],
                           .target_type = strncmp(actions[i], "station", 7) == 0 ? "station" : "x",
                           .target_id = "CP-1",
                           .status = 200,
                           .after = after};
        store_audit_insert(f->s, &a, done, f);
        assert_int_equal(wait(f), STORE_OK);
        json_decref(after);
    }
    store_audit_filter_t q = {.limit = 10, .action = "station.*"};
    store_audit_list(f->s, &q, done, f);
    assert_int_equal(wait(f), STORE_OK);
    json_t *rows = f->res;
    assert_int_equal(json_array_size(rows), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "action")),
                        "station.delete"); /* newest first */
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "after")),
                        "{\"n\":3}");
    q = (store_audit_filter_t){.limit = 2, .actor = "alice"};
    store_audit_list(f->s, &q, done, f);
    assert_int_equal(wait(f), STORE_OK);
    rows = f->res;
    assert_int_equal(json_array_size(rows), 2);
    json_int_t last = json_integer_value(json_object_get(json_array_get(rows, 1), "id"));
    q = (store_audit_filter_t){.limit = 2, .actor = "alice", .before_id = last};
    store_audit_list(f->s, &q, done, f);
    assert_int_equal(wait(f), STORE_OK);
    rows = f->res;
    assert_int_equal(json_array_size(rows), 1); /* alice: entries 0, 2, 4 */
    q = (store_audit_filter_t){.limit = 10, .from = 1001, .to = 1003};
    store_audit_list(f->s, &q, done, f);
    assert_int_equal(wait(f), STORE_OK);
    assert_int_equal(json_array_size(f->res), 2);
    q = (store_audit_filter_t){.limit = 10, .action = "station.create"};
    store_audit_list(f->s, &q, done, f);
    assert_int_equal(wait(f), STORE_OK);
    assert_int_equal(json_array_size(f->res), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(users_and_their_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(api_tokens_revoke_once, setup, teardown),
        cmocka_unit_test_setup_teardown(audit_filters_and_pages, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
