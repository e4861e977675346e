/*
 * The OpenADR 3.0 VEN (openadr.h). One poll at a time, as a chain of
 * requests on the loop: token (when needed) -> programs -> each program's
 * events -> apply -> reports. Nothing is applied until every answer of the
 * cycle has arrived and parsed, so a VTN that fails half-way leaves the
 * last good signals alone.
 *
 * Events are compared with what the last good poll saw by a hash of their
 * JSON: an unchanged event costs nothing, a changed one replaces its
 * signals (one store transaction), a vanished one removes them.
 */
#include "smart/openadr.h"

#include "csms/csms.h"
#include "net/http_out.h"
#include "smart/dr_events.h"
#include "smart/prices.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/timefmt.h"

#include <ctype.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define MAX_PROGRAMS 100
#define MAX_EVENTS 1000
#define MAX_INTERVALS 1000
#define ANSWER_KEEP (1u << 20)
#define SOURCE "openadr"

/* ---------------------------------------------------------------- config */

void openadr_config_defaults(openadr_config_t *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->ven_name, sizeof c->ven_name, "ampgrid");
    snprintf(c->currency, sizeof c->currency, "EUR");
    c->poll_interval = 60;
    c->timeout = 10;
    c->report = true;
}

#define STR_KEY(k)                                                                                 \
    {                                                                                              \
#k, offsetof(openadr_config_t, k), sizeof(((openadr_config_t *)0)->k)                      \
    }
static const struct {
    const char *name;
    size_t off, size;
} str_keys[] = {
    STR_KEY(vtn_url),      STR_KEY(token_url), STR_KEY(client_id), STR_KEY(client_secret),
    STR_KEY(bearer_token), STR_KEY(ven_name),  STR_KEY(sites),     STR_KEY(currency),
};

int openadr_config_set(openadr_config_t *c, const char *name, const char *value, char *err,
                       size_t err_len)
{
    for (size_t i = 0; i < sizeof str_keys / sizeof str_keys[0]; i++) {
        if (strcmp(str_keys[i].name, name) != 0) continue;
        if (strlen(value) >= str_keys[i].size) {
            snprintf(err, err_len, "[openadr] %s: longer than %zu characters", name,
                     str_keys[i].size - 1);
            return -1;
        }
        memcpy((char *)c + str_keys[i].off, value, strlen(value) + 1);
        return 0;
    }
    char *end;
    if (strcmp(name, "poll_interval") == 0 || strcmp(name, "timeout") == 0) {
        long v = strtol(value, &end, 10);
        if (!*value || *end || v < 1 || v > 86400) {
            snprintf(err, err_len, "[openadr] %s: give seconds from 1 to 86400, not '%.32s'", name,
                     value);
            return -1;
        }
        *(strcmp(name, "timeout") == 0 ? &c->timeout : &c->poll_interval) = (int)v;
        return 0;
    }
    if (strcmp(name, "report") == 0) {
        if (!strcmp(value, "true") || !strcmp(value, "yes") || !strcmp(value, "1"))
            c->report = true;
        else if (!strcmp(value, "false") || !strcmp(value, "no") || !strcmp(value, "0"))
            c->report = false;
        else {
            snprintf(err, err_len, "[openadr] report: true or false, not '%.32s'", value);
            return -1;
        }
        return 0;
    }
    snprintf(err, err_len, "unknown option [openadr] %s", name);
    return -1;
}

/* Parses "RES:site, RES2:site2" into pairs; returns their count or -1. */
static int parse_sites(const char *spec, char (*res)[SMART_SITE_MAX], char (*site)[SMART_SITE_MAX],
                       int max, char *err, size_t err_len)
{
    int n = 0;
    const char *p = spec;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p) break;
        size_t len = strcspn(p, ",");
        const char *colon = memchr(p, ':', len);
        size_t rl = colon ? (size_t)(colon - p) : 0, sl = colon ? len - rl - 1 : 0;
        while (rl && p[rl - 1] == ' ')
            rl--;
        const char *s = colon ? colon + 1 : NULL;
        while (s && sl && *s == ' ')
            s++, sl--;
        while (s && sl && s[sl - 1] == ' ')
            sl--;
        if (!colon || !rl || !sl || rl >= SMART_SITE_MAX || sl >= SMART_SITE_MAX || n >= max) {
            snprintf(err, err_len,
                     "[openadr] sites: give RESOURCE:site pairs separated by "
                     "commas (at most %d), near '%.40s'",
                     max, p);
            return -1;
        }
        if (res) {
            snprintf(res[n], SMART_SITE_MAX, "%.*s", (int)rl, p);
            snprintf(site[n], SMART_SITE_MAX, "%.*s", (int)sl, s);
        }
        n++;
        p += len;
    }
    return n;
}

int openadr_config_validate(const openadr_config_t *c, char *err, size_t err_len)
{
    if (!c->vtn_url[0]) return 0;
    if (strncmp(c->vtn_url, "http://", 7) != 0 && strncmp(c->vtn_url, "https://", 8) != 0) {
        snprintf(err, err_len, "[openadr] vtn_url must start with http:// or https://");
        return -1;
    }
    if (c->token_url[0] && strncmp(c->token_url, "http://", 7) != 0 &&
        strncmp(c->token_url, "https://", 8) != 0) {
        snprintf(err, err_len, "[openadr] token_url must start with http:// or https://");
        return -1;
    }
    if (!c->bearer_token[0] && (!c->client_id[0] || !c->client_secret[0])) {
        snprintf(err, err_len, "[openadr] needs client_id and client_secret, or bearer_token");
        return -1;
    }
    int n = parse_sites(c->sites, NULL, NULL, OPENADR_MAX_SITES, err, err_len);
    if (n < 0) return -1;
    if (n == 0) {
        snprintf(err, err_len,
                 "[openadr] sites must map at least one VEN resource to a site, "
                 "e.g. sites = METER-1:depot");
        return -1;
    }
    if (strlen(c->currency) != 3) {
        snprintf(err, err_len, "[openadr] currency must be an ISO 4217 code such as EUR");
        return -1;
    }
    return 0;
}

/* --------------------------------------------------------------- mapping */

bool openadr_duration(const char *s, int64_t *secs)
{
    if (!s || *s != 'P' || !s[1]) return false;
    int64_t total = 0;
    bool in_time = false, any = false, forever = false;
    for (const char *p = s + 1; *p;) {
        if (*p == 'T') {
            if (in_time) return false;
            in_time = true;
            p++;
            continue;
        }
        if (!isdigit((unsigned char)*p)) return false;
        char *end;
        double v = strtod(p, &end);
        if (end == p || !isfinite(v) || v < 0 || v > 1e12 || !*end) return false;
        p = end;
        char u = *p++;
        any = true;
        if (!in_time && (u == 'Y' || (u == 'M')))
            forever = forever || v > 0;
        else if (!in_time && u == 'W')
            total += (int64_t)(v * 7 * 86400);
        else if (!in_time && u == 'D')
            total += (int64_t)(v * 86400);
        else if (in_time && u == 'H')
            total += (int64_t)(v * 3600);
        else if (in_time && u == 'M')
            total += (int64_t)(v * 60);
        else if (in_time && u == 'S')
            total += (int64_t)v;
        else
            return false;
        if (total > OPENADR_FOREVER) forever = true;
    }
    if (!any) return false;
    *secs = forever ? OPENADR_FOREVER : total;
    return true;
}

static bool period(const json_t *ip, int64_t *start, int64_t *dur, bool *has_start, bool *has_dur)
{
    if (!ip) return true;
    if (!json_is_object(ip)) return false;
    const json_t *st = json_object_get(ip, "start"), *du = json_object_get(ip, "duration");
    if (st) {
        int64_t ms;
        if (!json_is_string(st) || !time_parse_rfc3339(json_string_value(st), &ms)) return false;
        *start = ms / 1000;
        *has_start = true;
    }
    if (du) {
        if (!json_is_string(du) || !openadr_duration(json_string_value(du), dur)) return false;
        *has_dur = true;
    }
    return true;
}

/* The first number of a payload of type `type` in an interval, or NAN. */
static double payload(const json_t *interval, const char *type)
{
    const json_t *pl = json_object_get(interval, "payloads");
    size_t i;
    const json_t *p;
    json_array_foreach(pl, i, p)
    {
        const char *t = json_string_value(json_object_get(p, "type"));
        const json_t *v = json_array_get(json_object_get(p, "values"), 0);
        if (t && strcmp(t, type) == 0 && json_is_number(v)) {
            double x = json_number_value(v);
            return isfinite(x) ? x : NAN;
        }
    }
    return NAN;
}

/* The descriptor of a payload type: units ("KW", "W") and currency. */
static void descriptor(const json_t *event, const char *type, const char **units,
                       const char **currency)
{
    size_t i;
    const json_t *d;
    json_array_foreach(json_object_get(event, "payloadDescriptors"), i, d)
    {
        const char *t = json_string_value(json_object_get(d, "payloadType"));
        if (!t || strcmp(t, type) != 0) continue;
        if (units) *units = json_string_value(json_object_get(d, "units"));
        if (currency) *currency = json_string_value(json_object_get(d, "currency"));
    }
}

/* Whether the event targets resource (or this VEN, or nobody in particular).
 * Targets are [{type, values}] (3.0) or plain strings (3.1 resource names). */
static bool targets(const json_t *event, const openadr_config_t *cfg, const char *resource)
{
    const json_t *tg = json_object_get(event, "targets");
    if (!tg || json_is_null(tg) || (json_is_array(tg) && json_array_size(tg) == 0)) return true;
    bool named_any = false;
    size_t i, k;
    const json_t *t, *v;
    json_array_foreach(tg, i, t)
    {
        if (json_is_string(t)) {
            named_any = true;
            if (strcmp(json_string_value(t), resource) == 0) return true;
            continue;
        }
        const char *type = json_string_value(json_object_get(t, "type"));
        if (!type) continue;
        bool res = strcmp(type, "RESOURCE_NAME") == 0, ven = strcmp(type, "VEN_NAME") == 0;
        if (!res && !ven) continue;
        named_any = true;
        json_array_foreach(json_object_get(t, "values"), k, v)
        {
            const char *s = json_string_value(v);
            if (s && strcmp(s, res ? resource : cfg->ven_name) == 0) return true;
        }
    }
    return !named_any; /* targets of other kinds (groups, locations): for everyone here */
}

void openadr_mapped_free(openadr_mapped_t *m)
{
    free(m->dr);
    for (size_t i = 0; i < m->nprices; i++)
        smart_prices_free(m->prices[i]);
    free(m->prices);
    free(m->resources);
    free(m->sites);
    memset(m, 0, sizeof *m);
}

static int fail_map(openadr_mapped_t *m, char *err, size_t len, const char *fmt, const char *arg)
{
    snprintf(err, len, fmt, arg);
    openadr_mapped_free(m);
    return -1;
}

/* Each interval's [start, end): its own period, or the event's shifted by
 * its position. Returns the count, or -1 (err) when one has no start. */
static int interval_times(const json_t *event, const json_t *ivs, int64_t *starts, int64_t *ends)
{
    int64_t es = 0, ed = 0;
    bool ehs = false, ehd = false;
    if (!period(json_object_get(event, "intervalPeriod"), &es, &ed, &ehs, &ehd)) return -1;
    size_t i;
    const json_t *iv;
    json_array_foreach(ivs, i, iv)
    {
        int64_t s = es, d = ed;
        bool hs = false, hd = false;
        if (!json_is_object(iv) || !period(json_object_get(iv, "intervalPeriod"), &s, &d, &hs, &hd))
            return -1;
        if (!hs) s = es + (int64_t)i * ed; /* sequential intervals of the event's length */
        if (!hs && !ehs) return -1;
        if (!hd && !ehd) d = OPENADR_FOREVER;
        if (!hd && ehd) d = ed;
        if (d <= 0) d = 1;
        starts[i] = s;
        ends[i] = d >= OPENADR_FOREVER ? s + OPENADR_FOREVER : s + d;
    }
    return (int)json_array_size(ivs);
}

static void add_limit(openadr_mapped_t *m, const char *site, int64_t s, int64_t e, double kw,
                      size_t idx, const char *reason)
{
    m->dr = xrealloc(m->dr, (m->ndr + 1) * sizeof *m->dr);
    smart_dr_t *d = &m->dr[m->ndr++];
    memset(d, 0, sizeof *d);
    snprintf(d->site, sizeof d->site, "%s", site);
    d->start = s;
    d->end = e;
    d->limit_kw = kw;
    d->phase_a[0] = d->phase_a[1] = d->phase_a[2] = -1;
    snprintf(d->source, sizeof d->source, SOURCE);
    snprintf(d->reason, sizeof d->reason, "%s", reason);
    snprintf(d->external_id, sizeof d->external_id, "oadr:%s/%zu", m->event_id, idx);
    snprintf(d->created_by, sizeof d->created_by, "openadr");
}

static int map_prices(openadr_mapped_t *m, const json_t *event, const openadr_config_t *cfg,
                      const json_t *ivs, const int64_t *st, const int64_t *en, const char *site,
                      char *err, size_t len)
{
    const char *units = NULL, *cur = NULL;
    descriptor(event, "PRICE", &units, &cur);
    smart_prices_t *p = xcalloc(1, sizeof *p);
    p->intervals = xcalloc(json_array_size(ivs) + 1, sizeof *p->intervals);
    size_t i;
    const json_t *iv;
    json_array_foreach(ivs, i, iv)
    {
        double v = payload(iv, "PRICE");
        if (isnan(v)) continue;
        if (fabs(v) >= 1e6) {
            smart_prices_free(p);
            snprintf(err, len, "event %s: PRICE %g is not a price", m->event_id, v);
            return -1;
        }
        /* a price per MWh, when the descriptor says so */
        if (units && strcmp(units, "MWH") == 0) v /= 1000;
        p->intervals[p->n_intervals++] = (smart_price_interval_t){st[i], en[i], v};
    }
    if (!p->n_intervals) {
        smart_prices_free(p);
        return 0;
    }
    for (size_t k = 1; k < p->n_intervals; k++) {
        if (p->intervals[k].start < p->intervals[k - 1].end) {
            smart_prices_free(p);
            snprintf(err, len, "event %s: PRICE intervals overlap or are out of order",
                     m->event_id);
            return -1;
        }
    }
    snprintf(p->site, sizeof p->site, "%s", site);
    snprintf(p->currency, sizeof p->currency, "%s", cur && strlen(cur) == 3 ? cur : cfg->currency);
    snprintf(p->source, sizeof p->source, SOURCE);
    snprintf(p->external_id, sizeof p->external_id, "oadr:%s/price", m->event_id);
    snprintf(p->created_by, sizeof p->created_by, "openadr");
    m->prices = xrealloc(m->prices, (m->nprices + 1) * sizeof *m->prices);
    m->prices[m->nprices++] = p;
    return 0;
}

int openadr_map_event(const json_t *event, const openadr_config_t *cfg, openadr_mapped_t *m,
                      char *err, size_t len)
{
    memset(m, 0, sizeof *m);
    if (!json_is_object(event)) return fail_map(m, err, len, "an event is not an object%s", "");
    const char *id = json_string_value(json_object_get(event, "id"));
    if (!id || !*id || strlen(id) >= sizeof m->event_id || strchr(id, '/'))
        return fail_map(m, err, len, "an event has no usable id%s", "");
    snprintf(m->event_id, sizeof m->event_id, "%s", id);
    const char *prog = json_string_value(json_object_get(event, "programID"));
    snprintf(m->program_id, sizeof m->program_id, "%s", prog ? prog : "");
    const json_t *ivs = json_object_get(event, "intervals");
    size_t n = json_array_size(ivs);
    if (!json_is_array(ivs) || n > MAX_INTERVALS)
        return fail_map(m, err, len, "event %s: intervals must be a list (at most 1000)", id);
    int64_t *st = xcalloc(n + 1, sizeof *st), *en = xcalloc(n + 1, sizeof *en);
    int rc = -1;
    if (interval_times(event, ivs, st, en) < 0) {
        fail_map(m, err, len, "event %s: an interval has no valid intervalPeriod", id);
        goto done;
    }
    const char *units = NULL;
    descriptor(event, "IMPORT_CAPACITY_LIMIT", &units, NULL);
    double scale = units && strcmp(units, "W") == 0    ? 0.001
                   : units && strcmp(units, "MW") == 0 ? 1000
                                                       : 1;
    const char *name = json_string_value(json_object_get(event, "eventName"));
    char reason[SMART_REASON_MAX];
    snprintf(reason, sizeof reason, "OpenADR event %.80s%s%.80s", id, name ? ": " : "",
             name ? name : "");
    char res[OPENADR_MAX_SITES][SMART_SITE_MAX], site[OPENADR_MAX_SITES][SMART_SITE_MAX];
    int ns = parse_sites(cfg->sites, res, site, OPENADR_MAX_SITES, err, len);
    for (int k = 0; k < ns; k++) {
        if (!targets(event, cfg, res[k])) continue;
        m->resources = xrealloc(m->resources, (m->nsites + 1) * sizeof *m->resources);
        m->sites = xrealloc(m->sites, (m->nsites + 1) * sizeof *m->sites);
        memcpy(m->resources[m->nsites], res[k], SMART_SITE_MAX);
        memcpy(m->sites[m->nsites], site[k], SMART_SITE_MAX);
        m->nsites++;
        for (size_t i = 0; i < n; i++) {
            double v = payload(json_array_get(ivs, i), "IMPORT_CAPACITY_LIMIT");
            if (isnan(v)) continue;
            if (v < 0 || v * scale > 1e7) {
                fail_map(m, err, len, "event %s: IMPORT_CAPACITY_LIMIT is out of range", id);
                goto done;
            }
            add_limit(m, site[k], st[i], en[i], v * scale, i, reason);
        }
        if (map_prices(m, event, cfg, ivs, st, en, site[k], err, len)) {
            openadr_mapped_free(m);
            goto done;
        }
    }
    rc = 0;
done:
    free(st);
    free(en);
    return rc;
}

/* ---------------------------------------------------------------- client */

typedef struct tx_sample {
    int64_t tx;
    int64_t wh, at;
} tx_sample_t;

struct openadr {
    openadr_config_t cfg;
    uv_loop_t *loop;
    csms_t *csms;
    smart_signals_t *signals;
    http_out_t *http;
    uv_timer_t timer;
    bool stopped;
    char token[1024];
    char token_endpoint[256]; /* token_url, or what GET /auth/server named; "" = not known yet */
    int64_t token_expires;    /* unix s */
    json_t *programs;         /* ids of this cycle */
    size_t program_at;
    json_t *events;       /* this cycle's events */
    json_t *seen;         /* eventID -> hash of its JSON, as of the last good poll */
    int pending_ops;      /* signal changes on their way to the store */
    tx_sample_t *samples; /* meter readings of the last poll, for usage */
    size_t nsamples;
    openadr_stats_t stats;
};

static void poll_start(openadr_t *o);

static void timer_cb(uv_timer_t *t)
{
    poll_start(t->data);
}

static void schedule(openadr_t *o, int64_t ms)
{
    if (o->stopped) return;
    uv_timer_start(&o->timer, timer_cb, (uint64_t)ms, 0);
}

static void cycle_failed(openadr_t *o, const char *what, const char *detail, uint64_t *counter)
{
    char q1[300], q2[300];
    (*counter)++;
    o->stats.polls_failed++;
    log_warn("OpenADR poll failed: keeping the last good signals", "step=%s detail=%s vtn=%s", what,
             log_quote(detail, q1, sizeof q1), log_quote(o->cfg.vtn_url, q2, sizeof q2));
    json_decref(o->programs);
    json_decref(o->events);
    o->programs = o->events = NULL;
    schedule(o, (int64_t)o->cfg.poll_interval * 1000);
}

static void url_of(const openadr_t *o, const char *path, char *out, size_t len)
{
    size_t n = strlen(o->cfg.vtn_url);
    while (n && o->cfg.vtn_url[n - 1] == '/')
        n--;
    snprintf(out, len, "%.*s%s", (int)n, o->cfg.vtn_url, path);
}

static void encode(const char *s, char *out, size_t len)
{
    size_t k = 0;
    for (; *s && k + 4 < len; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
            out[k++] = (char)c;
        else
            k += (size_t)snprintf(out + k, len - k, "%%%02X", c);
    }
    out[k] = '\0';
}

static int request(openadr_t *o, const char *method, const char *url, const char *body,
                   const char *ctype, http_out_cb cb, void *ctx)
{
    char auth[1100], ct[128];
    const char *headers[4] = {0};
    int h = 0;
    headers[h++] = "Accept: application/json";
    if (o->token[0]) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", o->token);
        headers[h++] = auth;
    }
    if (ctype) {
        snprintf(ct, sizeof ct, "Content-Type: %s", ctype);
        headers[h++] = ct;
    }
    http_out_request_t rq = {.method = method,
                             .url = url,
                             .headers = headers,
                             .body = body,
                             .len = body ? strlen(body) : 0,
                             .timeout_ms = o->cfg.timeout * 1000,
                             .keep = ANSWER_KEEP};
    char err[256];
    if (http_out_request(o->http, &rq, cb, ctx, err, sizeof err) == 0) return 0;
    char q[300];
    log_warn("OpenADR request not sent", "url=%s error=%s", log_quote(url, q, sizeof q), err);
    return -1;
}

/* The answer as JSON of the wanted type, or NULL (counting and logging). */
static json_t *answer(openadr_t *o, const http_out_result_t *r, const char *what, bool array)
{
    char detail[200];
    if (r->error) {
        snprintf(detail, sizeof detail, "%s", r->error);
        cycle_failed(o, what, detail, &o->stats.errors_http);
        return NULL;
    }
    if (r->status == 401 || r->status == 403) {
        o->token_expires = 0; /* fetch a new one next time */
        snprintf(detail, sizeof detail, "HTTP %d", r->status);
        cycle_failed(o, what, detail, &o->stats.errors_auth);
        return NULL;
    }
    if (r->status < 200 || r->status > 299) {
        snprintf(detail, sizeof detail, "HTTP %d", r->status);
        cycle_failed(o, what, detail, &o->stats.errors_http);
        return NULL;
    }
    json_error_t je;
    json_t *j = r->truncated ? NULL : json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!j || (array ? !json_is_array(j) : !json_is_object(j))) {
        snprintf(detail, sizeof detail, "%s",
                 r->truncated ? "answer too long"
                 : j          ? (array ? "not a JSON array" : "not a JSON object")
                              : je.text);
        json_decref(j);
        cycle_failed(o, what, detail, &o->stats.errors_json);
        return NULL;
    }
    return j;
}

/* ------------------------------------------------------------ the cycle */

static void fetch_programs(openadr_t *o);
static void fetch_events(openadr_t *o);
static void apply(openadr_t *o);

static void token_cb(void *ctx, const http_out_result_t *r)
{
    openadr_t *o = ctx;
    if (o->stopped) return;
    json_t *j = answer(o, r, "token", false);
    if (!j) return;
    const char *tok = json_string_value(json_object_get(j, "access_token"));
    json_t *exp = json_object_get(j, "expires_in");
    if (!tok || !*tok || strlen(tok) >= sizeof o->token || strpbrk(tok, "\r\n")) {
        json_decref(j);
        cycle_failed(o, "token", "no usable access_token in the answer", &o->stats.errors_auth);
        return;
    }
    snprintf(o->token, sizeof o->token, "%s", tok);
    int64_t life = json_is_integer(exp) ? json_integer_value(exp) : 3600;
    if (life < 1) life = 1;
    /* renewed a little early so no request goes out with a dying token */
    o->token_expires = time(NULL) + (life > 60 ? life - 30 : life);
    json_decref(j);
    fetch_programs(o);
}

/* RFC 6749 2.3.1: HTTP Basic with the form-encoded id and secret. */
static void post_token(openadr_t *o)
{
    char auth[1200], cred[800], id[390], secret[390];
    encode(o->cfg.client_id, id, sizeof id);
    encode(o->cfg.client_secret, secret, sizeof secret);
    snprintf(cred, sizeof cred, "%s:%s", id, secret);
    sodium_memzero(secret, sizeof secret);
    char b64[sodium_base64_ENCODED_LEN(800, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, (const unsigned char *)cred, strlen(cred),
                      sodium_base64_VARIANT_ORIGINAL);
    snprintf(auth, sizeof auth, "Authorization: Basic %s", b64);
    const char *headers[] = {"Accept: application/json",
                             "Content-Type: application/x-www-form-urlencoded", auth, NULL};
    static const char body[] = "grant_type=client_credentials";
    http_out_request_t rq = {.method = "POST",
                             .url = o->token_endpoint,
                             .headers = headers,
                             .body = body,
                             .len = sizeof body - 1,
                             .timeout_ms = o->cfg.timeout * 1000,
                             .keep = 64 * 1024};
    char err[256];
    sodium_memzero(cred, sizeof cred);
    if (http_out_request(o->http, &rq, token_cb, o, err, sizeof err))
        cycle_failed(o, "token", err, &o->stats.errors_http);
    sodium_memzero(auth, sizeof auth);
    sodium_memzero(b64, sizeof b64);
}

/* The VTN names its token endpoint at GET /auth/server ({"tokenURL"}); a VTN
 * that does not answer it usefully gets the conventional <vtn_url>/auth/token. */
static void server_cb(void *ctx, const http_out_result_t *r)
{
    openadr_t *o = ctx;
    if (o->stopped) return;
    if (r->error) {
        cycle_failed(o, "auth/server", r->error, &o->stats.errors_http);
        return;
    }
    json_t *j = r->status >= 200 && r->status < 300 && !r->truncated
                    ? json_loadb(r->body, r->body_len, 0, NULL)
                    : NULL;
    const char *u = json_string_value(json_object_get(j, "tokenURL"));
    if (u && strlen(u) < sizeof o->token_endpoint &&
        (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0))
        snprintf(o->token_endpoint, sizeof o->token_endpoint, "%s", u);
    else
        url_of(o, "/auth/token", o->token_endpoint, sizeof o->token_endpoint);
    json_decref(j);
    char q[300];
    log_info("OpenADR token endpoint", "url=%s", log_quote(o->token_endpoint, q, sizeof q));
    post_token(o);
}

static void fetch_token(openadr_t *o)
{
    if (o->cfg.token_url[0])
        snprintf(o->token_endpoint, sizeof o->token_endpoint, "%s", o->cfg.token_url);
    if (o->token_endpoint[0]) {
        post_token(o);
        return;
    }
    char url[300];
    url_of(o, "/auth/server", url, sizeof url);
    if (request(o, "GET", url, NULL, NULL, server_cb, o))
        cycle_failed(o, "auth/server", "request not sent", &o->stats.errors_http);
}

static void programs_cb(void *ctx, const http_out_result_t *r)
{
    openadr_t *o = ctx;
    if (o->stopped) return;
    json_t *j = answer(o, r, "programs", true);
    if (!j) return;
    o->programs = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(j, i, p)
    {
        const char *id = json_string_value(json_object_get(p, "id"));
        if (!id || !*id || strlen(id) > 120) continue; /* not a program we can ask about */
        if (json_array_size(o->programs) >= MAX_PROGRAMS) break;
        json_array_append_new(o->programs, json_string(id));
    }
    json_decref(j);
    o->events = json_array();
    o->program_at = 0;
    fetch_events(o);
}

static void fetch_programs(openadr_t *o)
{
    char url[300];
    url_of(o, "/programs", url, sizeof url);
    if (request(o, "GET", url, NULL, NULL, programs_cb, o))
        cycle_failed(o, "programs", "request not sent", &o->stats.errors_http);
}

static void events_cb(void *ctx, const http_out_result_t *r)
{
    openadr_t *o = ctx;
    if (o->stopped) return;
    json_t *j = answer(o, r, "events", true);
    if (!j) return;
    size_t i;
    json_t *e;
    json_array_foreach(j, i, e)
    {
        if (json_array_size(o->events) >= MAX_EVENTS) break;
        json_array_append(o->events, e);
    }
    json_decref(j);
    o->program_at++;
    fetch_events(o);
}

static void fetch_events(openadr_t *o)
{
    if (o->program_at >= json_array_size(o->programs)) {
        apply(o);
        return;
    }
    char url[600], id[400], path[460];
    encode(json_string_value(json_array_get(o->programs, o->program_at)), id, sizeof id);
    snprintf(path, sizeof path, "/events?programID=%s", id);
    url_of(o, path, url, sizeof url);
    if (request(o, "GET", url, NULL, NULL, events_cb, o))
        cycle_failed(o, "events", "request not sent", &o->stats.errors_http);
}

static void poll_start(openadr_t *o)
{
    if (o->stopped) return;
    if (o->cfg.bearer_token[0]) {
        snprintf(o->token, sizeof o->token, "%s", o->cfg.bearer_token);
        fetch_programs(o);
    } else if (!o->token[0] || time(NULL) >= o->token_expires) {
        o->token[0] = '\0';
        fetch_token(o);
    } else {
        fetch_programs(o);
    }
}

/* -------------------------------------------------------------- applying */

static void op_done(void *ctx, int rc, int64_t id)
{
    openadr_t *o = ctx;
    (void)id;
    o->pending_ops--;
    if (rc) log_error("OpenADR signals could not be stored: retried next poll", "rc=%d", rc);
    if (rc && o->seen) json_object_clear(o->seen); /* re-apply everything next time */
}

static uint64_t hash_json(const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    uint64_t h = 1469598103934665603ull;
    for (const char *p = s ? s : ""; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    free(s);
    return h;
}

/* The site's usage in kW since the last poll, from the energy readings of
 * its sessions; NAN when nothing is known yet. Updates the samples. */
static double site_usage_kw(openadr_t *o, const char *site, tx_sample_t **next, size_t *nnext)
{
    double kw = 0;
    bool known = false;
    for (csms_tx_t *t = csms_tx_first(o->csms); t; t = t->hh.next) {
        csms_station_t *st = csms_station_find(o->csms, t->station_id);
        if (!st || !st->site || strcmp(st->site, site) != 0 || !t->last_energy_at) continue;
        *next = xrealloc(*next, (*nnext + 1) * sizeof **next);
        (*next)[(*nnext)++] = (tx_sample_t){t->id, t->last_energy_wh, t->last_energy_at};
        for (size_t i = 0; i < o->nsamples; i++) {
            const tx_sample_t *p = &o->samples[i];
            if (p->tx != t->id || t->last_energy_at <= p->at) continue;
            kw += (double)(t->last_energy_wh - p->wh) /
                  ((double)(t->last_energy_at - p->at) / 3.6e6) / 1000;
            known = true;
        }
    }
    return known ? kw : NAN;
}

static void report_cb(void *ctx, const http_out_result_t *r)
{
    openadr_t *o = ctx;
    if (r->cancelled) return;
    if (!r->error && r->status >= 200 && r->status < 300) {
        o->stats.reports_sent++;
        return;
    }
    o->stats.reports_failed++;
    char q[300];
    log_warn("OpenADR report not accepted", "status=%d error=%s", r->status,
             log_quote(r->error ? r->error : "", q, sizeof q));
}

static json_t *report_json(openadr_t *o, const openadr_mapped_t *m, int64_t now, tx_sample_t **next,
                           size_t *nnext)
{
    char start[TIME_RFC3339_LEN], dur[32];
    time_format_rfc3339(now * 1000, start);
    snprintf(dur, sizeof dur, "PT%dS", o->cfg.poll_interval);
    json_t *resources = json_array();
    for (size_t k = 0; k < m->nsites; k++) {
        json_t *payloads = json_array();
        double used = site_usage_kw(o, m->sites[k], next, nnext);
        if (!isnan(used))
            json_array_append_new(payloads,
                                  json_pack("{s:s,s:[f]}", "type", "USAGE", "values", used));
        /* the tightest limit in force, counting this event's as it is now
         * (its change may still be on the way to the store) */
        double lim = smart_signals_limit_w(o->signals, m->sites[k], now);
        for (size_t i = 0; i < m->ndr; i++) {
            const smart_dr_t *d = &m->dr[i];
            if (smart_dr_applies(d, m->sites[k], now) && (lim < 0 || d->limit_kw * 1000 < lim))
                lim = d->limit_kw * 1000;
        }
        if (lim >= 0)
            json_array_append_new(
                payloads,
                json_pack("{s:s,s:[f]}", "type", "IMPORT_CAPACITY_LIMIT", "values", lim / 1000));
        json_array_append_new(
            resources, json_pack("{s:s,s:{s:s,s:s},s:[{s:i,s:o}]}", "resourceName", m->resources[k],
                                 "intervalPeriod", "start", start, "duration", dur, "intervals",
                                 "id", 0, "payloads", payloads));
    }
    char name[200];
    snprintf(name, sizeof name, "ampgrid usage %s", m->event_id);
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:[{s:s,s:s,s:s,s:s},{s:s,s:s,s:s,s:s}],s:o}",
                     "objectType", "REPORT", "programID", m->program_id, "eventID", m->event_id,
                     "clientName", o->cfg.ven_name, "reportName", name, "payloadDescriptors",
                     "objectType", "REPORT_PAYLOAD_DESCRIPTOR", "payloadType", "USAGE",
                     "readingType", "DIRECT_READ", "units", "KW", "objectType",
                     "REPORT_PAYLOAD_DESCRIPTOR", "payloadType", "IMPORT_CAPACITY_LIMIT",
                     "readingType", "DIRECT_READ", "units", "KW", "resources", resources);
}

/* Whether any of the event's signals runs at now. */
static bool running(const openadr_mapped_t *m, int64_t now)
{
    for (size_t i = 0; i < m->ndr; i++)
        if (m->dr[i].start <= now && now < m->dr[i].end) return true;
    for (size_t i = 0; i < m->nprices; i++)
        if (smart_prices_covers(m->prices[i], now)) return true;
    return false;
}

static void apply_event(openadr_t *o, const json_t *ev, json_t *now_seen, tx_sample_t **next,
                        size_t *nnext)
{
    openadr_mapped_t m;
    char err[256];
    if (openadr_map_event(ev, &o->cfg, &m, err, sizeof err)) {
        char q[300];
        o->stats.errors_json++;
        log_warn("OpenADR event ignored", "error=%s", log_quote(err, q, sizeof q));
        return;
    }
    if (!m.nsites) {
        openadr_mapped_free(&m);
        return; /* for resources not mapped here */
    }
    uint64_t h = hash_json(ev);
    json_object_set_new(now_seen, m.event_id, json_integer((json_int_t)(h >> 1)));
    json_t *was = json_object_get(o->seen, m.event_id);
    if (!was || (uint64_t)json_integer_value(was) != (h >> 1)) {
        char prefix[SMART_EXTERNAL_MAX];
        snprintf(prefix, sizeof prefix, "oadr:%s/", m.event_id);
        o->pending_ops++;
        log_info("OpenADR event applied", "event=%s limits=%zu price_schedules=%zu", m.event_id,
                 m.ndr, m.nprices);
        smart_signals_replace(o->signals, prefix, m.dr, m.ndr, m.prices, m.nprices, op_done, o);
        m.nprices = 0; /* handed over */
    }
    int64_t now = time(NULL);
    if (o->cfg.report && running(&m, now)) {
        json_t *rep = report_json(o, &m, now, next, nnext);
        char *body = json_dumps(rep, JSON_COMPACT);
        char url[300];
        url_of(o, "/reports", url, sizeof url);
        if (!body || request(o, "POST", url, body, "application/json", report_cb, o))
            o->stats.reports_failed++;
        free(body);
        json_decref(rep);
    }
    openadr_mapped_free(&m);
}

static void apply(openadr_t *o)
{
    json_t *now_seen = json_object();
    tx_sample_t *next = NULL;
    size_t nnext = 0;
    size_t i;
    json_t *ev;
    json_array_foreach(o->events, i, ev) apply_event(o, ev, now_seen, &next, &nnext);
    /* events gone from the VTN take their signals with them */
    json_t *known = smart_signals_external_events(o->signals, SOURCE);
    json_t *p;
    json_array_foreach(known, i, p)
    {
        const char *prefix = json_string_value(p); /* "oadr:<id>/" */
        char id[SMART_EXTERNAL_MAX];
        snprintf(id, sizeof id, "%s", prefix + 5);
        id[strlen(id) ? strlen(id) - 1 : 0] = '\0';
        if (json_object_get(now_seen, id)) continue;
        log_info("OpenADR event gone from the VTN: its signals removed", "event=%s", id);
        o->pending_ops++;
        smart_signals_replace(o->signals, prefix, NULL, 0, NULL, 0, op_done, o);
    }
    json_decref(known);
    json_decref(o->seen);
    o->seen = now_seen;
    free(o->samples);
    o->samples = next;
    o->nsamples = nnext;
    o->stats.events = json_object_size(now_seen);
    o->stats.polls_ok++;
    o->stats.last_success = time(NULL);
    json_decref(o->programs);
    json_decref(o->events);
    o->programs = o->events = NULL;
    schedule(o, (int64_t)o->cfg.poll_interval * 1000);
}

/* ------------------------------------------------------------ life cycle */

openadr_t *openadr_create(uv_loop_t *loop, csms_t *csms, smart_signals_t *signals,
                          const openadr_config_t *cfg)
{
    if (!cfg->vtn_url[0]) return NULL;
    openadr_t *o = xcalloc(1, sizeof *o);
    o->cfg = *cfg;
    o->loop = loop;
    o->csms = csms;
    o->signals = signals;
    o->seen = json_object();
    /* the VTN is the operator's own choice: private addresses are fine */
    http_out_config_t hc = {.user_agent = "ampgrid-ven/" AMPGRID_VERSION,
                            .connect_timeout_ms = cfg->timeout * 1000,
                            .allow_private = true};
    o->http = http_out_create(loop, &hc);
    uv_timer_init(loop, &o->timer);
    o->timer.data = o;
    uv_unref((uv_handle_t *)&o->timer);
    char q[300];
    log_info("OpenADR VEN polling", "vtn=%s every_s=%d", log_quote(cfg->vtn_url, q, sizeof q),
             cfg->poll_interval);
    schedule(o, 0);
    return o;
}

void openadr_stop(openadr_t *o)
{
    if (!o || o->stopped) return;
    o->stopped = true;
    uv_timer_stop(&o->timer);
    uv_close((uv_handle_t *)&o->timer, NULL);
    http_out_destroy(o->http);
    o->http = NULL;
}

void openadr_free(openadr_t *o)
{
    if (!o) return;
    json_decref(o->programs);
    json_decref(o->events);
    json_decref(o->seen);
    free(o->samples);
    sodium_memzero(o->token, sizeof o->token);
    free(o);
}

void openadr_get_stats(const openadr_t *o, openadr_stats_t *out)
{
    if (o)
        *out = o->stats;
    else
        memset(out, 0, sizeof *out);
}
