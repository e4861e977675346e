/*
 * Generic SQL operations for the store's low-traffic tables (see
 * store_sql.c). For use by store/ files only: SQL stays inside store/.
 */
#ifndef AMPGRID_STORE_SQL_H
#define AMPGRID_STORE_SQL_H

#include "store/store_internal.h"

#define STORE_SQL_MAX_STEPS 8
#define STORE_SQL_REQUIRE_ROW 1u /* no row returned / changed -> STORE_ERR_NOT_FOUND */

typedef struct store_sql_step {
    const char *sql;  /* a static string */
    json_t *params;   /* array of ?1.. values; stolen */
    unsigned flags;
} store_sql_step_t;

/* Runs the steps in one savepoint; the callback gets an array with one entry
 * per step: an array of row objects for a query, {"changes","id"} otherwise.
 * Every step's params reference is stolen. */
void store_sql(store_t *s, const store_sql_step_t *steps, int n, store_json_cb cb, void *ctx);
void store_sql1(store_t *s, const char *sql, json_t *params, unsigned flags, store_json_cb cb,
                void *ctx);
/* Synchronous, for the command line and start-up (before store_start).
 * *rows (when asked) gets the same shape as one step's result. params stolen. */
int store_sql_sync(store_t *s, const char *sql, json_t *params, json_t **rows);

#endif
