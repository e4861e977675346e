/*
 * Price schedules (smart_prices_t, see signals.h): lookup at a time, the next
 * boundary after a time, and the JSON the API and the store speak. Pure
 * functions, no I/O: unit-tested on their own.
 *
 * JSON (the API's body and view; times RFC 3339):
 *   {"site": "S1" | null, "currency": "EUR",
 *    "intervals": [{"start": T, "end": T, "price": 0.21}, ...]}
 * or, instead of intervals,
 *    "time_of_use": {"utc_offset": "+01:00",
 *                    "weekday": [{"from": "07:00", "price": 0.30}, {"from": "22:00", "price":
 * 0.12}], "weekend": [...]}   (weekend optional: like weekdays)
 */
#ifndef AMPGRID_SMART_PRICES_H
#define AMPGRID_SMART_PRICES_H

#include "smart/signals.h"

#include <jansson.h>

/* The schedule's price at t, or NAN when it does not cover t. */
double smart_prices_at(const smart_prices_t *p, int64_t t);
/* The first time > t at which the schedule's price may change; INT64_MAX if none. */
int64_t smart_prices_next_boundary(const smart_prices_t *p, int64_t t);
/* Whether the schedule covers t at all. */
bool smart_prices_covers(const smart_prices_t *p, int64_t t);

/* A new schedule from the API's JSON (site, currency, intervals or
 * time_of_use); NULL with a sentence in err when it is not valid (end before
 * start, overlapping intervals, bad price or time). */
smart_prices_t *smart_prices_from_json(const json_t *body, char *err, size_t err_len);
/* The API's view: id, site (null = default), currency, intervals or
 * time_of_use, source, external_id, created_by, created_at, updated_at. */
json_t *smart_prices_json(const smart_prices_t *p);

#endif
