/*
 * Maintenance work orders: the rules every ticket follows, kept free of the
 * store and the loop so they can be tested on their own (tests/unit/
 * test_workorders.c) and shared by the server (workorders_server.h), the API
 * and the documentation.
 *
 * A ticket moves open -> assigned -> in_progress -> waiting_for_parts ->
 * resolved -> closed. The table in workorders.c lists every legal step
 * (including the ones back: waiting_for_parts -> in_progress, resolved ->
 * open to reopen); anything else is refused. Stock never goes below zero:
 * using more than a depot holds is refused, so the count on the shelf and the
 * count in the database cannot drift apart silently. A preventive plan is due
 * at next_due; after it created its tickets, next_due moves on by whole
 * intervals to the first due date after now, so a server that was down for
 * months creates one ticket per station, not one per missed interval.
 */
#ifndef AMPGRID_SERVICE_WORKORDERS_H
#define AMPGRID_SERVICE_WORKORDERS_H

#include "service/alerts_config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum wo_state {
    WO_OPEN,
    WO_ASSIGNED,
    WO_IN_PROGRESS,
    WO_WAITING_FOR_PARTS,
    WO_RESOLVED,
    WO_CLOSED,
    WO_STATE_COUNT_
} wo_state_t;

typedef enum wo_priority {
    WO_URGENT,
    WO_HIGH,
    WO_NORMAL,
    WO_LOW,
    WO_PRIORITY_COUNT_
} wo_priority_t;

const char *workorders_state_name(wo_state_t s);
int workorders_state_parse(const char *s); /* -1 when unknown */
const char *workorders_priority_name(wo_priority_t p);
int workorders_priority_parse(const char *s); /* -1 when unknown */

/* Whether a ticket may go from one state to another (the same state is not a
 * step). */
bool workorders_transition_ok(wo_state_t from, wo_state_t to);
/* "assigned, in_progress": the states reachable from s, for error messages. */
void workorders_next_states(wo_state_t s, char *out, size_t len);

/* The largest stock count and the largest single movement: far beyond any
 * depot, small enough that no sum overflows. */
#define WORKORDERS_MAX_QUANTITY 1000000000LL

typedef enum wo_stock_kind { WO_STOCK_RECEIVE, WO_STOCK_CORRECT, WO_STOCK_USE } wo_stock_kind_t;

typedef enum wo_stock_err {
    WO_STOCK_OK = 0,
    WO_STOCK_BAD_QUANTITY, /* out of range for the kind */
    WO_STOCK_INSUFFICIENT, /* a use of more than there is */
    WO_STOCK_TOO_MUCH,     /* the result would pass WORKORDERS_MAX_QUANTITY */
} wo_stock_err_t;

/* A stock movement: receive adds quantity (1..max), correct sets the count
 * to quantity (0..max), use takes quantity (1..max) away. *after gets the
 * new count, *delta the change. */
wo_stock_err_t workorders_stock_apply(wo_stock_kind_t kind, int64_t current, int64_t quantity,
                                      int64_t *after, int64_t *delta);
/* Whether a count is below its low-stock threshold (threshold 0: never). */
bool workorders_stock_low(int64_t quantity, int64_t threshold);

#define WORKORDERS_DAY_MS 86400000LL
#define WORKORDERS_MAX_INTERVAL_DAYS 3660

/* A plan is due when next_due <= now. The next due date after running it:
 * next_due plus the fewest whole intervals that pass now. */
bool workorders_plan_due(int64_t next_due, int64_t now);
int64_t workorders_plan_advance(int64_t next_due, int interval_days, int64_t now);

/* The [workorders] section. */
typedef struct workorders_config {
    unsigned auto_create;                 /* bit (1u << rule): a ticket per alert */
    wo_priority_t auto_priority;          /* for auto-created tickets ... */
    int rule_priority[ALERT_RULE_COUNT_]; /* ... unless this rule has its own (-1 = none) */
    int max_attachment;                   /* bytes; capped by [http] max_body */
} workorders_config_t;

void workorders_config_defaults(workorders_config_t *c);
/* One key of the section; 0, or -1 with a message. */
int workorders_config_set(workorders_config_t *c, const char *key, const char *value, char *err,
                          size_t err_len);
/* The priority of a ticket raised for an alert of rule. */
wo_priority_t workorders_config_priority(const workorders_config_t *c, alert_rule_t rule);

#endif
