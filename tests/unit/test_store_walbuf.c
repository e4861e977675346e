/*
 * The WAL-gathering VFS (src/store/store_walbuf.c) on real SQLite databases:
 * another connection (the default VFS, as the checkpointer uses) always sees
 * exactly what was committed, through commits bigger than the buffer, WAL
 * restarts and pages rewritten in one transaction; and a process killed with
 * SIGKILL right after commits returned keeps every one of them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/store_walbuf.h"

typedef struct fixture {
    char dir[64], path[96];
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/ampgrid-walbuf-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/t.db", f->dir);
    assert_int_equal(store_walbuf_register(), SQLITE_OK);
    assert_int_equal(store_walbuf_register(), SQLITE_OK); /* once is enough */
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    const char *suffix[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < 4; i++) {
        char p[110];
        snprintf(p, sizeof p, "%s%s", f->path, suffix[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static void exec_ok(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) fail_msg("%s: %s", sql, msg);
}

static sqlite3 *open_writer(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                     STORE_WALBUF_VFS),
                     SQLITE_OK);
    exec_ok(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=50");
    return db;
}

static int64_t query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) fail_msg("%s", sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Random commits of every size through the VFS; after each, a connection on
 * the default VFS reads the table back and finds exactly the committed rows. */
static void another_connection_sees_every_commit(void **state)
{
    fixture_t *f = *state;
    sqlite3 *w = open_writer(f->path);
    exec_ok(w, "CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, b BLOB);"
               "CREATE INDEX t_k ON t(k)");
    sqlite3 *r = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &r, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    srand(7);
    int64_t rows = 0, ksum = 0;
    for (int i = 0; i < 300; i++) {
        /* mostly small commits; every 25th over 2 MiB (bigger than the buffer,
         * and past the small page cache, so pages spill mid-transaction) */
        int n = i % 25 == 24 ? 700 : 1 + rand() % 40;
        int k = rand() % 1000;
        char sql[400];
        snprintf(sql, sizeof sql,
                 "BEGIN; WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM n WHERE "
                 "x<%d) INSERT INTO t(k,b) SELECT %d+x, randomblob(%d) FROM n;"
                 "UPDATE t SET k=k+1 WHERE id %% 97 = %d; COMMIT",
                 n, k, i % 25 == 24 ? 3000 : 200, i % 97);
        exec_ok(w, sql);
        rows += n;
        ksum = query_int(w, "SELECT sum(k) FROM t");
        assert_int_equal(query_int(r, "SELECT count(*) FROM t"), rows);
        assert_int_equal(query_int(r, "SELECT sum(k) FROM t"), ksum);
        if (i % 60 == 59) exec_ok(w, "PRAGMA wal_checkpoint(RESTART)"); /* the WAL starts over */
        if (i == 150) exec_ok(w, "PRAGMA wal_checkpoint(TRUNCATE)");
    }
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(r, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    sqlite3_close(r);
    assert_int_equal(sqlite3_close(w), SQLITE_OK);
}

/* The child commits one row at a time and reports each committed id on a
 * pipe; SIGKILL at a random moment. Every reported id is in the database. */
static void commits_survive_sigkill(void **state)
{
    fixture_t *f = *state;
    sqlite3 *db = open_writer(f->path);
    exec_ok(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, b BLOB)");
    sqlite3_close(db);
    srand(11);
    for (int round = 0; round < 4; round++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            sqlite3 *c = open_writer(f->path);
            int64_t next = query_int(c, "SELECT COALESCE(max(id),0) FROM t") + 1;
            for (;; next++) {
                char sql[200];
                snprintf(sql, sizeof sql,
                         "INSERT INTO t(id,b) VALUES(%lld, randomblob(%d))", (long long)next,
                         next % 10 == 0 ? 20000 : 300);
                if (sqlite3_exec(c, sql, NULL, NULL, NULL) != SQLITE_OK) _exit(3);
                if (write(fds[1], &next, sizeof next) != (ssize_t)sizeof next) _exit(4);
            }
        }
        close(fds[1]);
        struct timespec ts = {0, (100 + rand() % 200) * 1000000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        assert_true(WIFSIGNALED(status));
        int64_t acked = 0, v;
        while (read(fds[0], &v, sizeof v) == (ssize_t)sizeof v) acked = v;
        close(fds[0]);
        assert_true(acked > 0);
        sqlite3 *r = NULL;
        assert_int_equal(sqlite3_open_v2(f->path, &r, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
        int64_t max = query_int(r, "SELECT max(id) FROM t");
        assert_true(max >= acked);
        assert_int_equal(query_int(r, "SELECT count(*) FROM t"), max); /* no gaps */
        sqlite3_close(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(another_connection_sees_every_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(commits_survive_sigkill, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
