/*
 * WAL checkpoints off the writer thread (see store_checkpoint.c for why).
 * Internal to store/.
 */
#ifndef AMPGRID_STORE_CHECKPOINT_H
#define AMPGRID_STORE_CHECKPOINT_H

#include <sqlite3.h>
#include <stddef.h>

typedef struct store_checkpointer store_checkpointer_t;

/* Opens a second connection to path and starts the thread; from then on the
 * writer connection does not checkpoint by itself. Call before the writer
 * thread starts. NULL with a message in err on failure (the writer then keeps
 * SQLite's automatic checkpoints). */
store_checkpointer_t *store_checkpointer_start(sqlite3 *writer, const char *path, char *err,
                                               size_t err_len);
/* Background checkpoints run, and how many times the writer caught up to restart the WAL. */
void store_checkpointer_stats(store_checkpointer_t *k, unsigned long *checkpoints,
                              unsigned long *restarts);
/* Called by the writer thread between batches: when the WAL has grown past its
 * limit, copies what the background checkpoints have not, so the WAL starts over. */
void store_checkpointer_after_batch(store_checkpointer_t *k, sqlite3 *writer);
/* Stops the thread and closes its connection; call after the writer thread
 * has stopped and before the writer connection closes. NULL is ignored. */
void store_checkpointer_stop(store_checkpointer_t *k, sqlite3 *writer);

#endif
