/*
 * WAL checkpoints off the writer thread (src/store/store_checkpoint.c), on a
 * real SQLite database: the background thread copies the WAL into the
 * database file while the writer keeps committing, and the WAL starts over
 * instead of growing without bound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sqlite3.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/store_checkpoint.h"

#define PAGE 4096

typedef struct fixture {
    char dir[64], db_path[96], wal_path[100];
    sqlite3 *db;
    store_checkpointer_t *k;
} fixture_t;

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : 0;
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/ampgrid-ckpt-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db_path, sizeof f->db_path, "%s/t.db", f->dir);
    snprintf(f->wal_path, sizeof f->wal_path, "%s/t.db-wal", f->dir);
    assert_int_equal(sqlite3_open(f->db_path, &f->db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(f->db,
                                  "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;"
                                  "CREATE TABLE t(b BLOB)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    char err[200];
    f->k = store_checkpointer_start(f->db, f->db_path, err, sizeof err);
    assert_non_null(f->k);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    store_checkpointer_stop(f->k, f->db);
    sqlite3_close(f->db);
    unlink(f->wal_path);
    char shm[104];
    snprintf(shm, sizeof shm, "%s/t.db-shm", f->dir);
    unlink(shm);
    unlink(f->db_path);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* One batch of about `pages` new pages, then the writer's between-batch hook. */
static void commit_batch(fixture_t *f, int pages)
{
    char sql[200];
    snprintf(sql, sizeof sql,
             "BEGIN; WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM n WHERE x<%d) "
             "INSERT INTO t SELECT randomblob(%d) FROM n; COMMIT",
             pages, PAGE - 200);
    char *msg = NULL;
    int rc = sqlite3_exec(f->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) fail_msg("%s", msg);
    store_checkpointer_after_batch(f->k, f->db);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

/* The thread's own connection copies the WAL into the database file: without
 * it the file would stay at its first pages until the writer's catch-up. */
static void background_checkpoints_copy_the_wal(void **state)
{
    fixture_t *f = *state;
    off_t before = file_size(f->db_path);
    /* ~12 MiB: past the first checkpoint step, short of the restart */
    for (int i = 0; i < 60; i++) commit_batch(f, 50);
    unsigned long ck = 0, rs = 0;
    for (int i = 0; i < 500 && file_size(f->db_path) < before + 4 * 1024 * 1024; i++)
        sleep_ms(10);
    store_checkpointer_stats(f->k, &ck, &rs);
    assert_true(ck >= 1);
    assert_int_equal(rs, 0); /* the writer has not copied anything itself */
    assert_true(file_size(f->db_path) >= before + 4 * 1024 * 1024);
}

/* A writer that never pauses: the WAL still starts over, so its file stays
 * near the restart size (64 MiB) while 200 MiB go through it. */
static void the_wal_starts_over_under_constant_writes(void **state)
{
    fixture_t *f = *state;
    for (int i = 0; i < 1000; i++) commit_batch(f, 50);
    unsigned long ck = 0, rs = 0;
    store_checkpointer_stats(f->k, &ck, &rs);
    assert_true(rs >= 2);
    /* the background keeps copying after each restart (16 steps of 4 MiB per
     * 64 MiB cycle), so each catch-up has only a step's remainder to copy */
    assert_true(ck >= 4 * rs);
    off_t wal = file_size(f->wal_path);
    assert_true(wal < (off_t)100 * 1024 * 1024);
    /* every row is there */
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(f->db, "SELECT count(*) FROM t", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1000 * 50);
    sqlite3_finalize(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(background_checkpoints_copy_the_wal, setup, teardown),
        cmocka_unit_test_setup_teardown(the_wal_starts_over_under_constant_writes, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
