/*
 * Grid signals per site: demand-response limits ("site X at most N kW from
 * T1 to T2") and price schedules, whether they come through the API or from
 * an OpenADR 3.0 VTN. The allocation engine reads them here and never cares
 * where they came from.
 *
 * A site is the `site` string of stations (stations.site). Times are unix
 * seconds. Everything here runs on the event-loop thread.
 *
 * When a signal for a site is created, changed or deleted, and when one
 * starts or ends, the module emits the domain event "smart.signal" with
 * {"site": "...", "reason": "created|updated|deleted|started|ended"}
 * (csms_emit), so the engine re-allocates that site. A change of the global
 * default price schedule (no site) is announced with "site": "*": every site.
 * Demand-response events also emit "demand_response.started" and
 * "demand_response.ended" (the event's JSON view) at their start and end.
 *
 * How the engine gets the object: main.c creates it with
 * smart_signals_create() (before store_start: it loads the stored signals)
 * and hands the same pointer to the API as api_deps_t.signals (so
 * api/smart.c reads it as c->api->d.signals) and to whatever else needs it
 * (the engine, the OpenADR client). main.c frees it after store_close.
 *
 * Below the lead's three read functions (the contract) are additions by
 * the signals helper: the object's life cycle, the signals themselves and
 * the per-phase limit.
 */
#ifndef AMPGRID_SMART_SIGNALS_H
#define AMPGRID_SMART_SIGNALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

typedef struct smart_signals smart_signals_t;

/* The tightest import limit for the site at time t in watts, or -1 when no
 * demand-response event applies. */
double smart_signals_limit_w(const smart_signals_t *s, const char *site, int64_t t);

/* Price per kWh for the site at time t, or NAN when no price schedule covers t. */
double smart_signals_price(const smart_signals_t *s, const char *site, int64_t t);

/* The first time > t at which the site's limit or price changes; INT64_MAX if none. */
int64_t smart_signals_next_change(const smart_signals_t *s, const char *site, int64_t t);

/* ------------------------------------------------------------ additions */

/* The tightest per-phase current limit (A) of the demand-response events
 * that give one, for phases L1..L3 at time t: out[i] = -1 where none applies.
 * Returns true when any phase has a limit. */
bool smart_signals_limit_a(const smart_signals_t *s, const char *site, int64_t t, double out[3]);

#define SMART_SITE_MAX 64
#define SMART_SOURCE_MAX 16
#define SMART_REASON_MAX 200
#define SMART_EXTERNAL_MAX 160

/* A demand-response event: the site may import at most limit_kw from start
 * to end (and, when given, at most phase_a[i] amperes on phase i). */
typedef struct smart_dr {
    int64_t id; /* the store's id; 0 before it is stored */
    char site[SMART_SITE_MAX];
    int64_t start, end;                   /* [start, end), unix seconds */
    double limit_kw;                      /* >= 0 */
    double phase_a[3];                    /* < 0 = no per-phase limit */
    char source[SMART_SOURCE_MAX];        /* "api" or "openadr" */
    char reason[SMART_REASON_MAX];        /* free text, may be "" */
    char external_id[SMART_EXTERNAL_MAX]; /* OpenADR "<eventID>/<interval>"; "" for the API */
    char created_by[64];
    int64_t created_at, updated_at; /* unix ms */
} smart_dr_t;

typedef struct smart_price_interval {
    int64_t start, end; /* [start, end), unix seconds */
    double price;       /* per kWh, may be negative */
} smart_price_interval_t;

typedef struct smart_tou_period {
    int from; /* seconds after local midnight */
    double price;
} smart_tou_period_t;

#define SMART_TOU_MAX 48

/* A price schedule: a list of intervals, or a recurring daily time-of-use
 * table (weekday and weekend, in a fixed UTC offset). A period runs from its
 * `from` to the next one's; the day's last runs past midnight until the next
 * day's first. Where several schedules of a site cover a time, the most
 * recently changed one counts; a site without one uses the default (site ""). */
typedef struct smart_prices {
    int64_t id;
    char site[SMART_SITE_MAX]; /* "" = the global default */
    char currency[8];          /* ISO 4217, "EUR" */
    char source[SMART_SOURCE_MAX];
    char external_id[SMART_EXTERNAL_MAX];
    char created_by[64];
    smart_price_interval_t *intervals; /* sorted, non-overlapping; owned */
    size_t n_intervals;
    bool tou;           /* a time-of-use table instead of intervals */
    int utc_offset_min; /* local time = UTC + offset */
    smart_tou_period_t weekday[SMART_TOU_MAX], weekend[SMART_TOU_MAX]; /* sorted by from */
    int n_weekday, n_weekend;       /* n_weekend 0 = weekends like weekdays */
    int64_t created_at, updated_at; /* unix ms */
} smart_prices_t;

/* ----------------------------------------------------------- life cycle */

typedef struct uv_loop_s uv_loop_t;
typedef struct csms csms_t;
typedef struct store store_t;

/* A bare set (tests, smart-sim): no loop, no store, no events. */
smart_signals_t *smart_signals_new(void);
/* The server's: loads the stored signals (before store_start: it reads the
 * database directly), runs its timer on loop and emits through csms. NULL
 * with a message on failure. */
smart_signals_t *smart_signals_create(uv_loop_t *loop, csms_t *csms, store_t *store, char *err,
                                      size_t err_len);
/* Stops the timer (shutdown). */
void smart_signals_stop(smart_signals_t *s);
void smart_signals_free(smart_signals_t *s);

/* --------------------------------------------------------- in memory */

/* Inserts or replaces (same id) an event in memory; emits smart.signal
 * (created or updated) and re-arms the timer. Copied. */
void smart_signals_dr_put(smart_signals_t *s, const smart_dr_t *e);
/* Removes it; emits smart.signal deleted. False when unknown. */
bool smart_signals_dr_remove(smart_signals_t *s, int64_t id);
const smart_dr_t *smart_signals_dr_get(const smart_signals_t *s, int64_t id);
/* All events, sorted by start then id; valid until the next change. */
const smart_dr_t *smart_signals_dr_list(const smart_signals_t *s, size_t *n);

/* Inserts or replaces (same id) a schedule; takes ownership of p. */
void smart_signals_prices_put(smart_signals_t *s, smart_prices_t *p);
bool smart_signals_prices_remove(smart_signals_t *s, int64_t id);
const smart_prices_t *smart_signals_prices_get(const smart_signals_t *s, int64_t id);
/* The i-th schedule (by id), NULL past the end. */
const smart_prices_t *smart_signals_prices_at(const smart_signals_t *s, size_t i);
void smart_prices_free(smart_prices_t *p);

/* ------------------------------------------------------------- durable */

/* These commit to the store first, then change the set (and emit); cb gets
 * 0 and the id, or the store's error (store_err_t). A bare set has no store:
 * they apply at once. */
typedef void (*smart_signals_cb)(void *ctx, int rc, int64_t id);
/* e->id 0: a new event; otherwise an update of that one. */
void smart_signals_dr_save(smart_signals_t *s, const smart_dr_t *e, smart_signals_cb cb, void *ctx);
void smart_signals_dr_delete(smart_signals_t *s, int64_t id, smart_signals_cb cb, void *ctx);
/* Takes ownership of p (p->id 0: new). */
void smart_signals_prices_save(smart_signals_t *s, smart_prices_t *p, smart_signals_cb cb,
                               void *ctx);
void smart_signals_prices_delete(smart_signals_t *s, int64_t id, smart_signals_cb cb, void *ctx);
/* Replaces every signal whose external_id starts with prefix (an OpenADR
 * event's) by these: n events (copied) and np schedules (owned). cb's id is 0. */
void smart_signals_replace(smart_signals_t *s, const char *prefix, const smart_dr_t *ev, size_t n,
                           smart_prices_t **p, size_t np, smart_signals_cb cb, void *ctx);
/* Every distinct external_id prefix up to the first '/' among the signals
 * of a source (the OpenADR events known here), as a JSON array of strings. */
json_t *smart_signals_external_events(const smart_signals_t *s, const char *source);

/* The store the server's set writes to; NULL for a bare set. */
store_t *smart_signals_store(const smart_signals_t *s);

#endif
