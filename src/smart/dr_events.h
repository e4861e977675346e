/*
 * Demand-response events (smart_dr_t, see signals.h): the API's JSON and the
 * tightest-limit rule. Pure functions, unit-tested on their own.
 *
 * JSON (times RFC 3339):
 *   {"site": "S1", "start": T, "end": T, "limit_kw": 40,
 *    "phase_limits_a": [32, 32, 32] | null, "reason": "...", "source": "api"}
 */
#ifndef AMPGRID_SMART_DR_EVENTS_H
#define AMPGRID_SMART_DR_EVENTS_H

#include "smart/signals.h"

#include <jansson.h>

/* Fills e from body. With partial (PATCH), e holds the current values and
 * only the fields body gives change. Returns 0, or -1 with a sentence in err
 * (end not after start, negative or missing limit, ...). */
int smart_dr_from_json(const json_t *body, smart_dr_t *e, bool partial, char *err, size_t err_len);
/* The API's view; status is "scheduled", "active" or "ended" at now (unix s). */
json_t *smart_dr_json(const smart_dr_t *e, int64_t now);

/* Whether e applies to site at t. */
bool smart_dr_applies(const smart_dr_t *e, const char *site, int64_t t);
/* The tightest limit (W) of the n events applying to site at t; -1 when none. */
double smart_dr_tightest_w(const smart_dr_t *ev, size_t n, const char *site, int64_t t);

#endif
