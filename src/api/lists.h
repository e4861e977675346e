/*
 * What every list of the API shares: ?sort=, ?limit= and ?cursor=, and the
 * cursors themselves. Not for use outside api/.
 *
 * A list is sorted by one field from its allow-list, ascending (sort=field)
 * or descending (sort=-field), then by the item's unique id, so every item
 * has a distinct position (key, id). A cursor is the position of the last
 * item of a page, with the sort it was made for: the next page starts right
 * after it (keyset paging), so pages neither skip nor repeat items while
 * others are added or removed, in every sort order. A cursor used with
 * another sort is refused with a 400 naming the sort it belongs to.
 *
 * Cursors are "v2:" + a JSON array [sort, key, id] in unpadded base64url:
 * opaque to clients, checked on the way in, stable across restarts. The
 * "v1:<id>" cursors of earlier versions still work with the default sort.
 */
#ifndef AMPGRID_API_LISTS_H
#define AMPGRID_API_LISTS_H

#include "api/api_internal.h"
#include "store/store_page.h"

/* A field a list may be sorted by. */
typedef struct api_sort_field {
    const char *name;                 /* NULL ends a list's table */
    bool nulls_high;                  /* for lists sorted here: a null key ("never", "none")
                                       * sorts after every value when ascending */
    json_t *(*key)(const void *item); /* for lists sorted here: the item's key
                                       * (string, integer or null), a new reference */
} api_sort_field_t;

/* A list: its sort fields and defaults. */
typedef struct api_list {
    const api_sort_field_t *sorts;
    const char *default_sort; /* today's documented order, e.g. "-id" */
    bool text_ids;            /* items' unique ids are strings (else integers) */
    int default_limit, max_limit;
} api_list_t;

/* One request's page. */
typedef struct api_page {
    const api_list_t *list;
    const api_sort_field_t *field;
    bool desc;
    char sort[64]; /* as given or defaulted: "-started_at" */
    int limit;
    json_t *after_key, *after_id; /* from ?cursor=; NULL without one */
} api_page_t;

/* Reads ?sort=, ?limit= and ?cursor= for list l. On a mistake answers 400
 * (problem+json saying what to send) and returns false; otherwise the caller
 * owns p until api_page_clear. */
bool api_page_read(api_call_t *c, const api_list_t *l, api_page_t *p);
void api_page_clear(api_page_t *p);

/* The page as the store takes it: one row more than the page, to learn
 * whether there is a next one. Valid while p is. */
store_page_t api_page_store(const api_page_t *p);

/* The cursor of the position (key, id) for this page's sort. */
json_t *api_page_cursor(const api_page_t *p, const json_t *key, const json_t *id);

/* The store's answer (rows with sort_key and sort_id, one more than the page
 * when there is a next page) as {"items": [...], "next_cursor": ...}, each
 * row made an item by item() (which may change the row it gets, a copy
 * without sort_key and sort_id; NULL = as it is). */
json_t *api_page_answer(const api_page_t *p, const json_t *rows, json_t *(*item)(json_t *row));

/* For lists the store answers: a context that carries the call and its page
 * to api_page_done, the store's callback, which answers the page with
 * api_page_answer (503 when the store failed). Holds the call (api_hold) and
 * takes over p's references; p is cleared. */
void *api_page_hold(api_call_t *c, api_page_t *p, json_t *(*item)(json_t *row));
void api_page_done(void *ctx, store_err_t rc, json_t *rows);

/* Lists sorted here: items with their positions. */
typedef struct api_page_row {
    const void *item;
    json_t *key, *id; /* owned; api_page_of fills key; key may be JSON null */
} api_page_row_t;

/* Sorts rows in the page's order and returns the index of the first row
 * after the cursor (0 without one). */
size_t api_page_sort(const api_page_t *p, api_page_row_t *rows, size_t n);

/* Sorts the items (each with its unique id) and answers the page:
 * {"items": [to_json(item)...], "total": n, "next_cursor": ...}. Takes rows. */
json_t *api_page_of(const api_page_t *p, api_page_row_t *rows, size_t n,
                    json_t *(*to_json)(const void *item));

#endif
