/*
 * WAL checkpoints on a thread of their own.
 *
 * SQLite's automatic checkpoint runs inside the commit that crosses the WAL
 * size limit, on the writer thread: that commit (and every station waiting for
 * it) pays for copying the WAL into the database file. Measured under a
 * MeterValues load, checkpoints were a quarter of the writer's time and the
 * source of its latency spikes. Here the writer only counts WAL pages (a
 * wal_hook); this thread, with its own connection, copies them with PASSIVE
 * checkpoints, which never block the writer.
 *
 * A checkpoint runs each time the WAL has grown by CKPT_STEP pages, not after
 * every commit: a page written by many commits (an index leaf every station's
 * readings go to) is copied once per checkpoint, and each checkpoint ends with
 * an fsync of the database file. Measured at 17,000 MeterValues/s, copying
 * after every commit cost 0.27 s of CPU per second. Not much more than every
 * 4 MiB either: the checkpoint's fsync slows the commits that sync the WAL
 * meanwhile (MeterValues p99 at 25,000/s: 17 ms with 4 MiB steps, 21 ms with
 * 8, 29 ms with 32).
 *
 * A writer that never pauses keeps the WAL from being reused (SQLite starts it
 * over only once every frame has been copied, and new ones keep arriving), so
 * past RESTART_PAGES the writer itself, between two batches, copies the few
 * frames written since the last background checkpoint; its next commit then
 * starts the WAL over. It waits for that checkpoint to finish first, so what
 * it copies (with every station's answer waiting) stays small.
 */
#include "store/store_checkpoint.h"

#include "util/alloc.h"
#include "util/log.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#define CKPT_STEP 1000      /* ~4 MiB of WAL with 4 KiB pages */
#define RESTART_PAGES 16000 /* ~64 MiB; a multiple of CKPT_STEP */

struct store_checkpointer {
    sqlite3 *db;            /* this thread's own connection */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int wal_pages;          /* as last reported by the writer's hook; guarded by mu */
    int asked_at;           /* wal_pages when the last checkpoint was asked for; mu */
    bool due, running, stopping;
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
        k->running = true;
        pthread_mutex_unlock(&k->mu);
        checkpoint(k->db, SQLITE_CHECKPOINT_PASSIVE);
        pthread_mutex_lock(&k->mu);
        k->running = false;
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
    pthread_mutex_lock(&k->mu);
    if (pages < k->asked_at) k->asked_at = 0; /* the WAL started over */
    k->wal_pages = pages;
    if (pages >= k->asked_at + CKPT_STEP) {
        k->asked_at = pages;
        if (!k->due) {
            k->due = true;
            pthread_cond_signal(&k->cv);
        }
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
    /* A connection only learns that the database is in WAL mode when it first
     * reads it; until then every checkpoint it asks for is a no-op (it
     * reports -1 frames). */
    if (sqlite3_exec(k->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, err_len, "cannot open %s for checkpoints: %s", path,
                 sqlite3_errmsg(k->db));
        goto fail;
    }
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
    /* after the background checkpoint the crossing asked for */
    bool catch_up = k->wal_pages >= RESTART_PAGES && !k->due && !k->running;
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
