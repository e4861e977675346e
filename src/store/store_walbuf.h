/*
 * A SQLite VFS that gathers the writes of a commit into the WAL into one
 * (see store_walbuf.c for why). Internal to store/.
 */
#ifndef AMPGRID_STORE_WALBUF_H
#define AMPGRID_STORE_WALBUF_H

/* The VFS's name, for sqlite3_open_v2. */
#define STORE_WALBUF_VFS "ampgrid-walbuf"

/* Registers the VFS once (not as the default); later calls do nothing.
 * Returns SQLITE_OK or SQLite's error code. Only for connections with
 * synchronous=FULL: it relies on every commit ending with a sync of the WAL. */
int store_walbuf_register(void);

#endif
