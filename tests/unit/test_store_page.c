/*
 * Specification of sorted keyset pages (src/store/store_page.c), on the API
 * tokens list: its expires_at is a nullable key whose NULL ("never expires")
 * sorts after every value, its last_used_at one whose NULL ("never used")
 * sorts before. Pages resume after the (key, id) of the previous page's last
 * row, in both runs (rows with a key, rows without), in both directions.
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

typedef struct fixture {
    char dir[64];
    uv_loop_t loop;
    uv_timer_t tick; /* keeps the loop polling (the store's wakeup handle is unreferenced) */
    store_t *s;
    int pending;
    store_err_t rc;
    json_t *res;
    int64_t ids[5]; /* the tokens, created with expires_at 3000, none, 1000, none, 2000 */
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

static void done(void *ctx, store_err_t rc, json_t *res)
{
    fixture_t *f = ctx;
    f->pending--;
    f->rc = rc;
    json_decref(f->res);
    f->res = json_incref(res);
}

static store_err_t wait(fixture_t *f)
{
    f->pending = 1;
    while (f->pending > 0)
        uv_run(&f->loop, UV_RUN_ONCE);
    return f->rc;
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/ampgrid-page-XXXXXX");
    if (!mkdtemp(f->dir) || uv_loop_init(&f->loop) != 0) return -1;
    uv_timer_init(&f->loop, &f->tick);
    uv_timer_start(&f->tick, tick_cb, 50, 50);
    char err[256];
    f->s = store_open(f->dir, false, err, sizeof err);
    if (!f->s) return -1;
    store_start(f->s, &f->loop);
    const int64_t expiry[5] = {3000, 0, 1000, 0, 2000};
    for (int i = 0; i < 5; i++) {
        char name[16], digest[65];
        snprintf(name, sizeof name, "t%d", i);
        snprintf(digest, sizeof digest, "%064d", i);
        store_api_token_create(f->s, name, "viewer", digest, expiry[i], NULL, done, f);
        if (wait(f) != STORE_OK) return -1;
        f->ids[i] =
            json_integer_value(json_object_get(json_array_get(json_array_get(f->res, 1), 0), "id"));
    }
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

/* The ids of the rows of one page. */
static int page_ids(fixture_t *f, const store_page_t *p, int64_t *out)
{
    store_api_tokens_list(f->s, p, done, f);
    assert_int_equal(wait(f), STORE_OK);
    size_t i;
    json_t *row;
    json_array_foreach(f->res, i, row) out[i] = json_integer_value(json_object_get(row, "id"));
    return (int)json_array_size(f->res);
}

/* Every row of a sort, pages of `limit`, each resuming after the last row of
 * the one before (as the API's cursors do). */
static int all_pages(fixture_t *f, const char *sort, bool desc, int limit, int64_t *out)
{
    int n = 0;
    json_t *key = NULL, *id = NULL;
    for (int pages = 0; pages < 10; pages++) {
        store_page_t p = {
            .sort = sort, .desc = desc, .limit = limit, .after_key = key, .after_id = id};
        int got = page_ids(f, &p, out + n);
        n += got;
        json_decref(key);
        json_decref(id);
        key = id = NULL;
        if (got < limit) break;
        json_t *last = json_array_get(f->res, (size_t)got - 1);
        key = json_incref(json_object_get(last, "sort_key"));
        id = json_incref(json_object_get(last, "sort_id"));
    }
    json_decref(key);
    json_decref(id);
    return n;
}

static void each_row_carries_its_sort_key_and_id(void **state)
{
    fixture_t *f = *state;
    int64_t got[8];
    store_page_t p = {.sort = "expires_at", .limit = 10};
    assert_int_equal(page_ids(f, &p, got), 5);
    json_t *first = json_array_get(f->res, 0), *last = json_array_get(f->res, 4);
    assert_int_equal(json_integer_value(json_object_get(first, "sort_key")), 1000);
    assert_int_equal(json_integer_value(json_object_get(first, "sort_id")), f->ids[2]);
    assert_true(json_is_null(json_object_get(last, "sort_key")));
    assert_int_equal(json_integer_value(json_object_get(last, "sort_id")), f->ids[3]);
    assert_string_equal(json_string_value(json_object_get(first, "name")), "t2");
}

static void pages_cross_from_the_values_into_the_nulls_and_back(void **state)
{
    fixture_t *f = *state;
    int64_t *id = f->ids, got[8];
    /* ascending: 1000, 2000, 3000, then the two without an expiry by id */
    int64_t asc[5] = {id[2], id[4], id[0], id[1], id[3]};
    for (int limit = 1; limit <= 5; limit++) {
        assert_int_equal(all_pages(f, "expires_at", false, limit, got), 5);
        assert_memory_equal(got, asc, sizeof asc);
    }
    /* descending: the reverse, nulls first */
    int64_t desc[5] = {id[3], id[1], id[0], id[4], id[2]};
    for (int limit = 1; limit <= 5; limit++) {
        assert_int_equal(all_pages(f, "expires_at", true, limit, got), 5);
        assert_memory_equal(got, desc, sizeof desc);
    }
}

static void a_key_whose_null_sorts_low_puts_the_nulls_first(void **state)
{
    fixture_t *f = *state;
    int64_t *id = f->ids, got[8];
    /* nobody used a token: last_used_at is NULL everywhere, the order is the id */
    int64_t asc[5] = {id[0], id[1], id[2], id[3], id[4]};
    assert_int_equal(all_pages(f, "last_used_at", false, 2, got), 5);
    assert_memory_equal(got, asc, sizeof asc);
    store_api_token_used(f->s, "0000000000000000000000000000000000000000000000000000000000000002",
                         5000);
    int64_t after_use[5] = {id[0], id[1], id[3], id[4], id[2]};
    assert_int_equal(all_pages(f, "last_used_at", false, 2, got), 5);
    assert_memory_equal(got, after_use, sizeof after_use);
}

static void resuming_in_the_null_run_gives_only_what_follows(void **state)
{
    fixture_t *f = *state;
    int64_t got[8];
    json_t *null = json_null(), *after = json_integer(f->ids[1]);
    store_page_t p = {.sort = "expires_at", .limit = 10, .after_key = null, .after_id = after};
    assert_int_equal(page_ids(f, &p, got), 1);
    assert_true(got[0] == f->ids[3]);
    p.desc = true; /* descending, the null run comes first and the values follow */
    assert_int_equal(page_ids(f, &p, got), 3);
    assert_true(got[0] == f->ids[0] && got[2] == f->ids[2]);
    json_decref(after);
}

static void an_offset_counts_across_both_runs(void **state)
{
    fixture_t *f = *state;
    int64_t got[8];
    store_page_t p = {.sort = "expires_at", .limit = 2, .offset = 2};
    assert_int_equal(page_ids(f, &p, got), 2);
    assert_true(got[0] == f->ids[0] && got[1] == f->ids[1]);
}

static void an_unknown_sort_is_not_found(void **state)
{
    fixture_t *f = *state;
    store_page_t p = {.sort = "token_hash", .limit = 2};
    store_api_tokens_list(f->s, &p, done, f);
    assert_int_equal(wait(f), STORE_ERR_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(each_row_carries_its_sort_key_and_id, setup, teardown),
        cmocka_unit_test_setup_teardown(pages_cross_from_the_values_into_the_nulls_and_back, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_key_whose_null_sorts_low_puts_the_nulls_first, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(resuming_in_the_null_run_gives_only_what_follows, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(an_offset_counts_across_both_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(an_unknown_sort_is_not_found, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
