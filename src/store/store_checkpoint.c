/*
 * WAL checkpoints on a thread of their own.
 *
 * SQLite's automatic checkpoint runs inside the commit that crosses the WAL
 * size limit, on the writer thread: that commit (and every station waiting for
 * it) pays for copying the WAL into the database file. Measured under a
 * MeterValues load, checkpoints were a quarter of the writer's time and the
 * source of its latency spikes. Here the writer only counts WAL pages (a
 * wal_hook); this thread, with its own connection, copies them with PASSIVE
 * checkpoints, which never block the writer. But a writer that never pauses
 * keeps the WAL from being reused (SQLite starts it over only once every frame
 * has been copied, and new ones keep arriving), so past a limit the writer
 * itself, between two batches, copies the few frames the last background
 * checkpoint did not reach; its next commit then starts the WAL over.
 */
#include "store/store_checkpoint.h"

#include "util/alloc.h"
#include "util/log.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#define CKPT_PAGES 1000     /* SQLite's own default autocheckpoint size */
#define RESTART_PAGES 16000 /* ~64 MiB with 4 KiB pages */

struct store_checkpointer {
    sqlite3 *db;            /* this thread's own connection */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int wal_pages;          /* as last reported by the writer's hook; guarded by mu */
    bool due, stopping;
    unsigned long checkpoints, restarts; /* guarded by mu */
};

/* True when every frame of the WAL has been copied. */
static bool checkpoint(sqlite3 *db, int mode)
{
    int log_frames = 0, done = 0;
    int rc = sqlite3_wal_checkpoint_v2(db, NULL, mode, &log_frames, &done);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        char q[300];
        log_warn("checkpoint failed", "error=%s", log_quote(sqlite3_errmsg(db), q, sizeof q));
    }
    return rc == SQLITE_OK && log_frames == done;
}

static void *checkpointer_main(void *arg)
{
    store_checkpointer_t *k = arg;
    pthread_mutex_lock(&k->mu);
    for (;;) {
        while (!k->due && !k->stopping) pthread_cond_wait(&k->cv, &k->mu);
        if (k->stopping) break;
        k->due = false;
            pthread_mutex_unlock(&k->mu);
        checkpoint(k->db, SQLITE_CHECKPOINT_PASSIVE);
        pthread_mutex_lock(&k->mu);
        k->checkpoints++;
    }
    pthread_mutex_unlock(&k->mu);
    return NULL;
}

/* Runs on the writer thread after each commit. */
static int wal_hook(void *ud, sqlite3 *db, const char *name, int pages)
{
    (void)db;
    (void)name;
    store_checkpointer_t *k = ud;
    if (pages < CKPT_PAGES) return SQLITE_OK;
    pthread_mutex_lock(&k->mu);
    k->wal_pages = pages;
    if (!k->due) {
        k->due = true;
        pthread_cond_signal(&k->cv);
    }
    pthread_mutex_unlock(&k->mu);
    return SQLITE_OK;
}

store_checkpointer_t *store_checkpointer_start(sqlite3 *writer, const char *path, char *err,
                                               size_t err_len)
{
    store_checkpointer_t *k = xcalloc(1, sizeof *k);
    if (sqlite3_open_v2(path, &k->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        snprintf(err, err_len, "cannot open %s for checkpoints: %s", path,
                 sqlite3_errmsg(k->db));
        goto fail;
    }
    sqlite3_busy_timeout(k->db, 5000);
    pthread_mutex_init(&k->mu, NULL);
    pthread_cond_init(&k->cv, NULL);
    if (pthread_create(&k->thread, NULL, checkpointer_main, k) != 0) {
        snprintf(err, err_len, "cannot start the checkpoint thread");
        pthread_mutex_destroy(&k->mu);
        pthread_cond_destroy(&k->cv);
        goto fail;
    }
    /* From here the writer never checkpoints on its own. */
    sqlite3_wal_autocheckpoint(writer, 0);
    sqlite3_wal_hook(writer, wal_hook, k);
    return k;
fail:
    sqlite3_close(k->db);
    free(k);
    return NULL;
}

void store_checkpointer_stats(store_checkpointer_t *k, unsigned long *checkpoints,
                              unsigned long *restarts)
{
    pthread_mutex_lock(&k->mu);
    *checkpoints = k->checkpoints;
    *restarts = k->restarts;
    pthread_mutex_unlock(&k->mu);
}

void store_checkpointer_after_batch(store_checkpointer_t *k, sqlite3 *writer)
{
    pthread_mutex_lock(&k->mu);
    bool catch_up = k->wal_pages >= RESTART_PAGES;
    pthread_mutex_unlock(&k->mu);
    /* BUSY while the background checkpoint runs: try after the next batch. */
    if (!catch_up || !checkpoint(writer, SQLITE_CHECKPOINT_PASSIVE)) return;
    pthread_mutex_lock(&k->mu);
    k->wal_pages = 0;
    k->restarts++;
    pthread_mutex_unlock(&k->mu);
}

void store_checkpointer_stop(store_checkpointer_t *k, sqlite3 *writer)
{
    if (!k) return;
    sqlite3_wal_hook(writer, NULL, NULL);
    pthread_mutex_lock(&k->mu);
    k->stopping = true;
    pthread_cond_signal(&k->cv);
    pthread_mutex_unlock(&k->mu);
    pthread_join(k->thread, NULL);
    /* The writer's connection closes last and checkpoints what remains. */
    sqlite3_close(k->db);
    pthread_mutex_destroy(&k->mu);
    pthread_cond_destroy(&k->cv);
    free(k);
}
