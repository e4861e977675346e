/*
 * The start-up sweep of the file directories. A crash can leave two kinds of
 * files nobody will ever reach: half-written ones (".part" from
 * firmware/file_commit.c, ".tmp" from an attachment being written) and
 * attachments whose row never committed (api/workorders.c places the file
 * before its row, so that a row never points at a missing file). Nothing
 * acknowledged is among them: the API answers only after the row commits.
 *
 * Runs once, before the store writer starts (it reads the attachments table
 * synchronously), and logs every file it removes. The request-body spool is
 * emptied by firmware_repo_create.
 */
#ifndef AMPGRID_SERVICE_ORPHANS_H
#define AMPGRID_SERVICE_ORPHANS_H

#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

typedef struct orphans_dirs {
    const char *attachments; /* work-order attachments: also files without a row */
    const char *diagnostics; /* <transfers>/diagnostics */
    const char *firmware;    /* <transfers>/firmware */
} orphans_dirs_t;

/* Removes the leftovers. Returns how many files went, or -1 with a message
 * when the attachments table cannot be read (then nothing is removed). */
int orphans_sweep(store_t *store, const orphans_dirs_t *dirs, char *err, size_t err_len);

/* Files removed by the sweep since the process started (for /metrics). */
uint64_t orphans_removed_total(void);

#endif
