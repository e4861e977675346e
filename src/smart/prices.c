/*
 * Price schedules: lookup, boundaries and JSON; see prices.h.
 *
 * A time-of-use table is a step function of the local time of day, one per
 * kind of day (weekday, weekend). A table's first period usually does not
 * start at midnight: the hours before it belong to the previous day's last
 * period ("22:00 cheap" runs until "07:00 peak" the next morning), even when
 * the previous day was of the other kind (Friday night into Saturday).
 */
#include "smart/prices.h"

#include "util/alloc.h"
#include "util/timefmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY 86400

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Day number d (days since 1970-01-01, a Thursday) is a weekend day. */
static bool is_weekend(int64_t d)
{
    int64_t dow = ((d + 4) % 7 + 7) % 7; /* 0 = Sunday */
    return dow == 0 || dow == 6;
}

static const smart_tou_period_t *table(const smart_prices_t *p, int64_t day, int *n)
{
    if (is_weekend(day) && p->n_weekend > 0) {
        *n = p->n_weekend;
        return p->weekend;
    }
    *n = p->n_weekday;
    return p->weekday;
}

static double tou_at(const smart_prices_t *p, int64_t t)
{
    int64_t local = t + (int64_t)p->utc_offset_min * 60;
    int64_t day = floor_div(local, DAY);
    int secs = (int)(local - day * DAY);
    int n;
    const smart_tou_period_t *tb = table(p, day, &n);
    for (int i = n - 1; i >= 0; i--)
        if (tb[i].from <= secs) return tb[i].price;
    /* before the day's first period: the previous day's last one goes on */
    tb = table(p, day - 1, &n);
    return n > 0 ? tb[n - 1].price : NAN;
}

static int64_t tou_next(const smart_prices_t *p, int64_t t)
{
    int64_t off = (int64_t)p->utc_offset_min * 60;
    int64_t day = floor_div(t + off, DAY);
    for (int64_t d = day; d <= day + 8; d++) {
        int n;
        const smart_tou_period_t *tb = table(p, d, &n);
        for (int i = 0; i < n; i++) {
            int64_t at = d * DAY + tb[i].from - off;
            if (at > t) return at;
        }
    }
    return INT64_MAX;
}

/* The interval covering t, or NULL (binary search: they are sorted). */
static const smart_price_interval_t *find(const smart_prices_t *p, int64_t t)
{
    size_t lo = 0, hi = p->n_intervals;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->intervals[mid].end <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < p->n_intervals && p->intervals[lo].start <= t) return &p->intervals[lo];
    return NULL;
}

bool smart_prices_covers(const smart_prices_t *p, int64_t t)
{
    return p->tou ? (p->n_weekday > 0) : find(p, t) != NULL;
}

double smart_prices_at(const smart_prices_t *p, int64_t t)
{
    if (p->tou) return tou_at(p, t);
    const smart_price_interval_t *iv = find(p, t);
    return iv ? iv->price : NAN;
}

int64_t smart_prices_next_boundary(const smart_prices_t *p, int64_t t)
{
    if (p->tou) return tou_next(p, t);
    int64_t best = INT64_MAX;
    for (size_t i = 0; i < p->n_intervals; i++) {
        const smart_price_interval_t *iv = &p->intervals[i];
        if (iv->start > t) return iv->start < best ? iv->start : best;
        if (iv->end > t && iv->end < best) best = iv->end;
    }
    return best;
}

void smart_prices_free(smart_prices_t *p)
{
    if (!p) return;
    free(p->intervals);
    free(p);
}

/* ------------------------------------------------------------------ JSON */

static bool parse_time_s(const json_t *v, int64_t *out)
{
    int64_t ms;
    if (!json_is_string(v) || !time_parse_rfc3339(json_string_value(v), &ms)) return false;
    *out = floor_div(ms, 1000);
    return true;
}

static bool price_ok(const json_t *v, double *out)
{
    if (!json_is_number(v)) return false;
    *out = json_number_value(v);
    return isfinite(*out) && fabs(*out) < 1e6;
}

static int cmp_interval(const void *a, const void *b)
{
    const smart_price_interval_t *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static int parse_intervals(smart_prices_t *p, const json_t *arr, char *err, size_t len)
{
    size_t n = json_array_size(arr);
    if (!json_is_array(arr) || n < 1 || n > 10000) {
        snprintf(err, len, "intervals must be a list of 1 to 10000 {start, end, price}");
        return -1;
    }
    p->intervals = xcalloc(n, sizeof *p->intervals);
    p->n_intervals = n;
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(arr, i);
        smart_price_interval_t *iv = &p->intervals[i];
        if (!parse_time_s(json_object_get(o, "start"), &iv->start) ||
            !parse_time_s(json_object_get(o, "end"), &iv->end)) {
            snprintf(err, len, "intervals[%zu] needs start and end as RFC 3339 date-times", i);
            return -1;
        }
        if (iv->end <= iv->start) {
            snprintf(err, len, "intervals[%zu]: end must be after start", i);
            return -1;
        }
        if (!price_ok(json_object_get(o, "price"), &iv->price)) {
            snprintf(err, len, "intervals[%zu]: price must be a number per kWh", i);
            return -1;
        }
    }
    qsort(p->intervals, n, sizeof *p->intervals, cmp_interval);
    for (size_t i = 1; i < n; i++) {
        if (p->intervals[i].start < p->intervals[i - 1].end) {
            char a[TIME_RFC3339_LEN], b[TIME_RFC3339_LEN];
            snprintf(err, len,
                     "price intervals overlap: one starting %s begins before the one "
                     "starting %s ends",
                     time_format_rfc3339(p->intervals[i].start * 1000, a),
                     time_format_rfc3339(p->intervals[i - 1].start * 1000, b));
            return -1;
        }
    }
    return 0;
}

/* "+01:00", "-05:30", "Z" -> minutes */
static bool parse_offset(const char *s, int *out)
{
    if (strcmp(s, "Z") == 0 || strcmp(s, "+00:00") == 0) {
        *out = 0;
        return true;
    }
    int h, m;
    char sign, tail;
    if (sscanf(s, "%c%2d:%2d%c", &sign, &h, &m, &tail) != 3 || (sign != '+' && sign != '-') ||
        strlen(s) != 6 || h > 14 || m > 59)
        return false;
    *out = (sign == '-' ? -1 : 1) * (h * 60 + m);
    return true;
}

static int parse_table(const json_t *arr, const char *name, smart_tou_period_t *out, int *n,
                       char *err, size_t len)
{
    size_t k = json_array_size(arr);
    if (!json_is_array(arr) || k < 1 || k > SMART_TOU_MAX) {
        snprintf(err, len, "time_of_use.%s must be a list of 1 to %d {from: \"HH:MM\", price}",
                 name, SMART_TOU_MAX);
        return -1;
    }
    for (size_t i = 0; i < k; i++) {
        const json_t *o = json_array_get(arr, i);
        const char *from = json_string_value(json_object_get(o, "from"));
        int h, m;
        char tail;
        if (!from || strlen(from) != 5 || sscanf(from, "%2d:%2d%c", &h, &m, &tail) != 2 || h < 0 ||
            h > 23 || m < 0 || m > 59) {
            snprintf(err, len, "time_of_use.%s[%zu].from must be a time of day \"HH:MM\"", name, i);
            return -1;
        }
        out[i].from = h * 3600 + m * 60;
        if (!price_ok(json_object_get(o, "price"), &out[i].price)) {
            snprintf(err, len, "time_of_use.%s[%zu].price must be a number per kWh", name, i);
            return -1;
        }
        if (i > 0 && out[i].from <= out[i - 1].from) {
            snprintf(err, len,
                     "time_of_use.%s must be in increasing order of from, without "
                     "repeats",
                     name);
            return -1;
        }
    }
    *n = (int)k;
    return 0;
}

static int parse_tou(smart_prices_t *p, const json_t *t, char *err, size_t len)
{
    if (!json_is_object(t)) {
        snprintf(err, len, "time_of_use must be an object {utc_offset, weekday, weekend}");
        return -1;
    }
    p->tou = true;
    const json_t *off = json_object_get(t, "utc_offset");
    if (off && !json_is_null(off) &&
        (!json_is_string(off) || !parse_offset(json_string_value(off), &p->utc_offset_min))) {
        snprintf(err, len, "time_of_use.utc_offset must be \"Z\" or like \"+01:00\"");
        return -1;
    }
    if (parse_table(json_object_get(t, "weekday"), "weekday", p->weekday, &p->n_weekday, err, len))
        return -1;
    const json_t *we = json_object_get(t, "weekend");
    if (we && !json_is_null(we) && parse_table(we, "weekend", p->weekend, &p->n_weekend, err, len))
        return -1;
    return 0;
}

smart_prices_t *smart_prices_from_json(const json_t *body, char *err, size_t len)
{
    smart_prices_t *p = xcalloc(1, sizeof *p);
    const json_t *site = json_object_get(body, "site");
    if (site && !json_is_null(site)) {
        const char *s = json_string_value(site);
        if (!s || !*s || strlen(s) >= SMART_SITE_MAX) {
            snprintf(err, len,
                     "site must be a site name of 1 to %d characters, or null for "
                     "the default",
                     SMART_SITE_MAX - 1);
            goto fail;
        }
        snprintf(p->site, sizeof p->site, "%s", s);
    }
    const char *cur = json_string_value(json_object_get(body, "currency"));
    if (!cur || strlen(cur) != 3 || strspn(cur, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 3) {
        snprintf(err, len, "currency must be an ISO 4217 code such as \"EUR\"");
        goto fail;
    }
    snprintf(p->currency, sizeof p->currency, "%s", cur);
    const json_t *iv = json_object_get(body, "intervals"),
                 *tou = json_object_get(body, "time_of_use");
    if (iv && !json_is_null(iv) && tou && !json_is_null(tou)) {
        snprintf(err, len, "give either intervals or time_of_use, not both");
        goto fail;
    }
    if (tou && !json_is_null(tou)) {
        if (parse_tou(p, tou, err, len)) goto fail;
    } else if (iv && !json_is_null(iv)) {
        if (parse_intervals(p, iv, err, len)) goto fail;
    } else {
        snprintf(err, len, "a price schedule needs intervals or time_of_use");
        goto fail;
    }
    return p;
fail:
    smart_prices_free(p);
    return NULL;
}

static json_t *time_json(int64_t s)
{
    char b[TIME_RFC3339_LEN];
    return json_string(time_format_rfc3339(s * 1000, b));
}

static json_t *table_json(const smart_tou_period_t *tb, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++) {
        char hm[16];
        snprintf(hm, sizeof hm, "%02d:%02d", tb[i].from / 3600, tb[i].from / 60 % 60);
        json_array_append_new(a, json_pack("{s:s,s:f}", "from", hm, "price", tb[i].price));
    }
    return a;
}

static json_t *tou_json(const smart_prices_t *p)
{
    char off[16];
    int m = p->utc_offset_min < 0 ? -p->utc_offset_min : p->utc_offset_min;
    if (p->utc_offset_min == 0)
        snprintf(off, sizeof off, "Z");
    else
        snprintf(off, sizeof off, "%c%02d:%02d", p->utc_offset_min < 0 ? '-' : '+', m / 60, m % 60);
    return json_pack("{s:s,s:o,s:o}", "utc_offset", off, "weekday",
                     table_json(p->weekday, p->n_weekday), "weekend",
                     p->n_weekend ? table_json(p->weekend, p->n_weekend) : json_null());
}

static json_t *ms_json(int64_t ms)
{
    char b[TIME_RFC3339_LEN];
    return ms ? json_string(time_format_rfc3339(ms, b)) : json_null();
}

json_t *smart_prices_json(const smart_prices_t *p)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(p->id));
    json_object_set_new(o, "site", p->site[0] ? json_string(p->site) : json_null());
    json_object_set_new(o, "currency", json_string(p->currency));
    if (p->tou) {
        json_object_set_new(o, "intervals", json_null());
        json_object_set_new(o, "time_of_use", tou_json(p));
    } else {
        json_t *a = json_array();
        for (size_t i = 0; i < p->n_intervals; i++)
            json_array_append_new(
                a, json_pack("{s:o,s:o,s:f}", "start", time_json(p->intervals[i].start), "end",
                             time_json(p->intervals[i].end), "price", p->intervals[i].price));
        json_object_set_new(o, "intervals", a);
        json_object_set_new(o, "time_of_use", json_null());
    }
    json_object_set_new(o, "source", json_string(p->source[0] ? p->source : "api"));
    json_object_set_new(o, "external_id",
                        p->external_id[0] ? json_string(p->external_id) : json_null());
    json_object_set_new(o, "created_by",
                        p->created_by[0] ? json_string(p->created_by) : json_null());
    json_object_set_new(o, "created_at", ms_json(p->created_at));
    json_object_set_new(o, "updated_at", ms_json(p->updated_at));
    return o;
}
