/*
 * Webhooks and their deliveries, durably. api/webhooks.c keeps the webhooks
 * themselves in memory (there are few) and uses the database as the
 * delivery queue: a delivery is a row before it is ever sent, so a crash or
 * restart loses none, and the rows are the history the API shows.
 *
 * A delivery's state: pending (waiting for next_attempt_at), sending (claimed
 * by a running attempt; back to pending at start-up, since the process that
 * claimed it is gone), succeeded or failed (final). Results are JSON in the
 * API's shapes; times are Unix ms in the database and RFC 3339 in JSON.
 */
#ifndef AMPGRID_STORE_STORE_WEBHOOKS_H
#define AMPGRID_STORE_STORE_WEBHOOKS_H

#include "store/store.h"
#include "store/store_page.h"

typedef struct store_webhook {
    int64_t id; /* 0 on create */
    const char *url, *secret;
    const char *event_types; /* JSON array text */
    bool enabled;
    const char *description; /* NULL = none */
    const char *created_by;
    int64_t created_at, updated_at;
} store_webhook_t;

/* A delivery claimed for sending. Valid during the callback only. */
typedef struct store_delivery {
    int64_t id, webhook_id;
    const char *event_type, *payload;
    int attempts;
    int64_t created_at;
} store_delivery_t;

/* Start-up: every webhook as {"id","url","secret","event_types"(text),"enabled",
 * "description","created_at","updated_at"} in result["items"], and the number
 * of unfinished deliveries in result["pending"]; deliveries left "sending" by
 * a previous process go back to "pending". */
void store_webhooks_load(store_t *s, store_json_cb cb, void *ctx);

/* Insert (id 0) or update; result {"id": n}. Update of a missing id: NOT_FOUND. */
void store_webhook_save(store_t *s, const store_webhook_t *w, store_json_cb cb, void *ctx);
/* Deletes the webhook and its deliveries; result {"pending": n}, the
 * unfinished ones among them. */
void store_webhook_delete(store_t *s, int64_t id, store_json_cb cb, void *ctx);

/* Queues one delivery of payload (JSON text of the event's data) for each of
 * the n webhooks, due now. */
void store_deliveries_add(store_t *s, const int64_t *webhook_ids, size_t n, const char *event_type,
                          const char *payload, int64_t now, store_done_cb cb, void *ctx);
/* Queues one delivery and answers it in the API's shape. */
void store_delivery_add_one(store_t *s, int64_t webhook_id, const char *event_type,
                            const char *payload, int64_t now, store_json_cb cb, void *ctx);
/* A new delivery with the payload of an earlier one of the same webhook
 * (NOT_FOUND otherwise); answered in the API's shape. */
void store_delivery_redeliver(store_t *s, int64_t webhook_id, int64_t delivery_id, int64_t now,
                              store_json_cb cb, void *ctx);

/* Claims up to max due deliveries of a webhook (pending, next_attempt_at <=
 * now) by marking them sending. cb gets them, and the time the next pending
 * one is due (INT64_MAX when none). */
typedef void (*store_claim_cb)(void *ctx, store_err_t rc, const store_delivery_t *d, size_t n,
                               int64_t next_due);
void store_deliveries_claim(store_t *s, int64_t webhook_id, int max, int64_t now, store_claim_cb cb,
                            void *ctx);

/* The outcome of one attempt. */
typedef struct store_attempt {
    int64_t delivery_id;
    const char *state;       /* pending (retry at next_attempt_at), succeeded, failed */
    int64_t next_attempt_at; /* for pending */
    int status;              /* HTTP status, 0 = none */
    const char *error;       /* NULL on an answer */
    const char *response;    /* the answer's first bytes (valid UTF-8), may be NULL */
    int64_t at, duration_ms;
} store_attempt_t;
void store_delivery_attempt(store_t *s, const store_attempt_t *a, store_done_cb cb, void *ctx);
/* Puts a claimed delivery back, untried (shutdown). */
void store_delivery_unclaim(store_t *s, int64_t delivery_id, store_done_cb cb, void *ctx);

/* A page of a webhook's deliveries in the API's shape (an array, each with
 * sort_key and sort_id; see store_page.h), sorted by id, created_at,
 * last_attempt_at or attempts; state NULL = any. */
void store_deliveries_query(store_t *s, int64_t webhook_id, const char *state,
                            const store_page_t *p, store_json_cb cb, void *ctx);
/* One delivery of a webhook in the API's shape; NOT_FOUND when the webhook
 * has no such delivery. */
void store_delivery_get(store_t *s, int64_t webhook_id, int64_t delivery_id, store_json_cb cb,
                        void *ctx);

/* Deletes up to max finished deliveries created before `before`; result {"deleted": n}. */
void store_deliveries_prune(store_t *s, int64_t before, int max, store_json_cb cb, void *ctx);

#endif
