/*
 * Spare parts on disk (schema 6): the catalogue (parts), the depots, the
 * stock of each part in each depot with its low-stock threshold, and the
 * ledger of every movement (stock_moves: received, corrected, used on a
 * ticket). A stock count is only ever changed together with its ledger row,
 * in one transaction, and can never go below zero (a CHECK in the schema).
 *
 * parts columns: id, sku, name, description, models (JSON array text), unit,
 * created_at, updated_at. depots: id, name, location, created_at, updated_at.
 */
#ifndef AMPGRID_STORE_STORE_PARTS_H
#define AMPGRID_STORE_STORE_PARTS_H

#include "store/store.h"
#include "store/store_page.h"

typedef struct store_part {
    const char *sku, *name, *description, *unit;
    const json_t *models; /* an array of model names; stored as JSON text */
} store_part_t;

/* [.., [row]]; STORE_ERR_CONFLICT when the sku is taken. */
void store_part_create(store_t *s, const store_part_t *p, int64_t at, store_json_cb cb, void *ctx);
/* The whole set (as merged by the caller); NOT_FOUND, CONFLICT (sku). */
void store_part_update(store_t *s, int64_t id, const store_part_t *p, int64_t at, store_json_cb cb,
                       void *ctx);
void store_part_get(store_t *s, int64_t id, store_json_cb cb, void *ctx); /* [[row]] */
void store_parts_list(store_t *s, const char *model, const store_page_t *page, store_json_cb cb,
                      void *ctx);

void store_depot_create(store_t *s, const char *name, const char *location, int64_t at,
                        store_json_cb cb, void *ctx);
void store_depot_update(store_t *s, int64_t id, const char *name, const char *location, int64_t at,
                        store_json_cb cb, void *ctx);
void store_depot_get(store_t *s, int64_t id, store_json_cb cb, void *ctx);
void store_depots_list(store_t *s, const store_page_t *page, store_json_cb cb, void *ctx);

/* Stock rows (part_id, sku, part_name, unit, depot_id, depot_name, quantity,
 * low_threshold, updated_at), filtered by part and depot (0 = any) and to
 * those below their threshold (low_only). At most limit rows. */
void store_stock_list(store_t *s, int64_t part_id, int64_t depot_id, bool low_only, int limit,
                      store_json_cb cb, void *ctx);

/* A stock adjustment: kind "receive" (quantity added) or "correct" (the
 * count set to quantity); low_threshold < 0 leaves it as it is. Creates the
 * stock row on first use. Result: [.., .., .., [stock row], [low stock rows]].
 * STORE_ERR_NOT_FOUND: no such part or depot; STORE_ERR_CONFLICT: the count
 * would leave 0..1,000,000,000. */
void store_stock_adjust(store_t *s, int64_t part_id, int64_t depot_id, const char *kind,
                        int64_t quantity, int64_t low_threshold, const char *note, const char *by,
                        int64_t at, store_json_cb cb, void *ctx);

/* The stock below threshold now ([[rows]]). */
void store_stock_low(store_t *s, store_json_cb cb, void *ctx);

#endif
