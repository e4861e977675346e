/*
 * Shared between the store's engine (store.c), its write operations
 * (store_ops.c) and its queries (store_query.c). Not for use outside store/.
 */
#ifndef AMPGRID_STORE_INTERNAL_H
#define AMPGRID_STORE_INTERNAL_H

#include "store/store.h"

#include <sqlite3.h>

typedef struct store_op store_op_t;

/* One unit of work. exec runs on the writer thread inside a savepoint and
 * returns a store_err_t; done runs on the loop thread after the commit and
 * frees the op. */
struct store_op {
    store_op_t *next;
    store_err_t (*exec)(store_t *s, store_op_t *op);
    void (*done)(store_op_t *op);
    store_err_t rc;
};

enum store_stmt_id {
    SQL_STATION_UPSERT,
    SQL_STATION_DELETE,
    SQL_CONNECTOR_UPSERT,
    SQL_STATUS_INSERT,
    SQL_ID_TOKEN_UPSERT,
    SQL_ID_TOKEN_DELETE,
    SQL_TX_FIND,
    SQL_TX_INSERT,
    SQL_TX_UPDATE,
    SQL_METER_INSERT,
    SQL_EVENT_INSERT,
    SQL_SESSION_GET,
    SQL_SESSION_METER,
    SQL_STATUS_HISTORY,
    SQL_STATION_EVENTS,
    SQL_API_TOKEN_LOOKUP,
    SQL_TX_FIND_BY_TXID,
    SQL_TX_EVENT_INSERT,
    SQL_VARIABLE_UPSERT,
    SQL_TX_FIX_START,
    SQL_TX_EV_INFO,
    SQL_STATION_HEARTBEAT,
    SQL_TX_PROGRESS,
    SQL_TX_READINGS,
    /* transaction control, prepared once (sqlite3_exec would parse per op) */
    SQL_BEGIN,
    SQL_COMMIT,
    SQL_ROLLBACK,
    SQL_SAVEPOINT,
    SQL_SAVEPOINT_ROLLBACK,
    SQL_SAVEPOINT_RELEASE,
    SQL_COUNT_
};

/* Meter readings have one index, (station_id, timestamp); a transaction keeps
 * the first and last timestamp of its readings (readings_from, readings_to),
 * so its readings are a range of that index. STORE_SQL_TX_READINGS(p) is the
 * condition for "the readings of transaction p" (an SQL parameter) with t
 * standing for transactions and m for meter_values or meter_readings;
 * STORE_SQL_READINGS_BOUNDS(from, to) the SET clause that widens the bounds
 * (NULL parameters leave them as they are). */
#define STORE_SQL_TX_READINGS(p)                                                                   \
    "t.id=" p " AND m.station_id=t.station_id AND m.timestamp>=t.readings_from AND "              \
    "m.timestamp<=t.readings_to AND m.transaction_id=" p
#define STORE_SQL_READINGS_BOUNDS(from, to)                                                        \
    "readings_from=COALESCE(MIN(readings_from," from ")," from ",readings_from),"                 \
    "readings_to=COALESCE(MAX(readings_to," to ")," to ",readings_to)"

/* Prepared once per statement on first use; only the writer thread calls it. */
sqlite3_stmt *store_stmt(store_t *s, enum store_stmt_id id);
/* Brings db's schema up to version target (at most STORE_SCHEMA_VERSION), one
 * transaction per migration; 0, or -1 with err filled. Tests use a lower
 * target to check a migration on data of the version before it. */
int store_migrate(sqlite3 *db, int target, char *err, size_t err_len);
sqlite3 *store_db(store_t *s);
/* A prepared statement for SQL text that is not one of the fixed ones (the
 * generic operation of store_sql.c, whose callers pass the same literals
 * again and again: a storm's connect and disconnect records were parsed four
 * times per reconnect). Prepared on first use and kept; past STORE_SQL_CACHE
 * texts the least recently used is finalized. Returned reset and without
 * bindings, or NULL with SQLite's code in *rc. Writer thread only. */
#define STORE_SQL_CACHE 64
sqlite3_stmt *store_stmt_cached(store_t *s, const char *sql, int *rc);
/* Queues an op for the writer thread. */
void store_submit(store_t *s, store_op_t *op);
/* Maps an SQLite result code to store_err_t and logs unexpected failures. */
store_err_t store_check(store_t *s, int rc, const char *what);

/* Binding helpers: NULL strings bind as SQL NULL. */
void store_bind_text(sqlite3_stmt *st, int idx, const char *v);
/* Without a copy: v must outlive the statement's next step (op-owned strings do). */
void store_bind_text_static(sqlite3_stmt *st, int idx, const char *v);
/* Column text or NULL. */
const char *store_col_text(sqlite3_stmt *st, int idx);
/* Adds column idx to obj under key: text, integer, real or null as stored. */
void store_json_col(json_t *obj, const char *key, sqlite3_stmt *st, int idx);
/* Adds a Unix-ms column as an RFC 3339 string (null when 0/NULL). */
void store_json_time(json_t *obj, const char *key, sqlite3_stmt *st, int idx);

#endif
