/*
 * Sorted, keyset-paged reads for the store's lists: sessions, the audit log,
 * users, API tokens and webhook deliveries.
 *
 * A list is sorted by one key from its own table of sort keys and then by a
 * unique id, so every row has a distinct position (key, id). A page resumes
 * after the last position of the previous one, which keeps paging correct
 * while rows are added or removed (no row is skipped or repeated unless its
 * own key changes), and lets SQLite seek in an index on the key (an index on
 * a column also orders by rowid) instead of counting past an offset.
 *
 * NULL keys ("never", "none") cannot take part in a row-value comparison, so
 * a nullable key is read in two runs, the rows with a value and the rows
 * without, one after the other in the order the key's table says.
 */
#ifndef AMPGRID_STORE_STORE_PAGE_H
#define AMPGRID_STORE_STORE_PAGE_H

#include "store/store.h"

struct sqlite3_stmt;

/* One way to sort a list. */
typedef struct store_sort {
    const char *name; /* as the API names it (?sort=name); NULL ends a table */
    const char *expr; /* its SQL expression over one row (a static string) */
    bool nullable;    /* the expression may be NULL */
    bool nulls_high;  /* NULL sorts after every value when ascending */
} store_sort_t;

/* Which page of a list: the sort, and where the previous page ended. */
typedef struct store_page {
    const char *sort; /* a name from the list's table; NULL = its first */
    bool desc;
    const json_t *after_key, *after_id; /* resume after this position; NULL = from the start.
                                         * after_key may be JSON null (a NULL key). Copied. */
    int limit;                          /* at most this many rows (ask one more than a page
                                         * to learn whether there is a next one) */
    int offset;                         /* rows skipped first */
} store_page_t;

/* For store/ files: a list, its columns, its sort keys and how a row
 * becomes JSON. */
typedef struct store_list {
    const char *cols;          /* "id,username,..." */
    const char *from;          /* "users" */
    const char *id;            /* the unique tiebreaker, e.g. "id" */
    const store_sort_t *sorts; /* the keys it may be sorted by; the first is the default */
    json_t *(*row)(struct sqlite3_stmt *st); /* an item from the columns 0..n-1 of cols;
                                              * NULL: an object of the columns by name */
} store_list_t;

/* The sort key called name in a table, or NULL. */
const store_sort_t *store_sort_find(const store_sort_t *sorts, const char *name);

/* Runs on the writer thread: appends to out (an array) the page's rows
 * matching where (an SQL condition over ?1..?n built from fixed fragments,
 * bound from params, an array; NULL = all rows), each with two extra
 * members: "sort_key" (the row's key) and "sort_id" (its id), which a caller
 * turns into the next page's position. STORE_ERR_NOT_FOUND when the sort
 * name is not in the list's table. */
store_err_t store_page_run(store_t *s, const store_list_t *l, const char *where,
                           const json_t *params, const store_page_t *p, json_t *out);

/* The same as an operation of its own: cb gets the array of rows. params is
 * stolen; where, p and what it points to are copied. */
void store_page_query(store_t *s, const store_list_t *l, const char *where, json_t *params,
                      const store_page_t *p, store_json_cb cb, void *ctx);

#endif
