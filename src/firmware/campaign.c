/*
 * The campaign model and its scheduling decisions (see campaign.h). Nothing
 * here reads a clock, a socket or the store: the engine passes in what it
 * knows and does what these functions answer, so each decision is a unit
 * test away from being checked.
 */
#include "firmware/campaign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_names[CAMPAIGN_STATE_COUNT_] = {"draft", "running", "paused",
                                                               "completed", "cancelled"};
static const char *const st_names[CST_COUNT_] = {
    "pending",    "scheduled", "sent",      "downloading", "downloaded",
    "installing", "installed", "succeeded", "failed",      "cancelled"};

const char *campaign_state_name(campaign_state_t s)
{
    return s < CAMPAIGN_STATE_COUNT_ ? state_names[s] : "?";
}

int campaign_state_parse(const char *s)
{
    for (int i = 0; s && i < CAMPAIGN_STATE_COUNT_; i++)
        if (strcmp(s, state_names[i]) == 0) return i;
    return -1;
}

const char *campaign_st_name(campaign_st_t s)
{
    return s < CST_COUNT_ ? st_names[s] : "?";
}

int campaign_st_parse(const char *s)
{
    for (int i = 0; s && i < CST_COUNT_; i++)
        if (strcmp(s, st_names[i]) == 0) return i;
    return -1;
}

bool campaign_st_in_flight(campaign_st_t s)
{
    return s >= CST_SCHEDULED && s <= CST_INSTALLED;
}

bool campaign_st_terminal(campaign_st_t s)
{
    return s == CST_SUCCEEDED || s == CST_FAILED || s == CST_CANCELLED;
}

/* ------------------------------------------------------------- window */

static int parse_hhmm(const char *s, int *min)
{
    if (!(s[0] >= '0' && s[0] <= '2' && s[1] >= '0' && s[1] <= '9' && s[2] == ':' && s[3] >= '0' &&
          s[3] <= '5' && s[4] >= '0' && s[4] <= '9'))
        return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 23) return -1;
    *min = h * 60 + m;
    return 0;
}

int campaign_window_parse(const char *s, int utc_offset_min, campaign_window_t *w, char *err,
                          size_t err_len)
{
    memset(w, 0, sizeof *w);
    if (utc_offset_min < -840 || utc_offset_min > 840) {
        snprintf(err, err_len, "window_utc_offset must be minutes between -840 and 840");
        return -1;
    }
    if (!s || !*s) return 0;
    if (strlen(s) != 11 || s[5] != '-' || parse_hhmm(s, &w->start_min) != 0 ||
        parse_hhmm(s + 6, &w->end_min) != 0) {
        snprintf(err, err_len, "window must be \"HH:MM-HH:MM\" (local time), e.g. \"01:00-05:00\"");
        return -1;
    }
    w->set = true;
    w->utc_offset_min = utc_offset_min;
    return 0;
}

bool campaign_window_open(const campaign_window_t *w, int64_t now_ms)
{
    if (!w->set || w->start_min == w->end_min) return true;
    int64_t local = now_ms / 60000 + w->utc_offset_min;
    int m = (int)(((local % 1440) + 1440) % 1440);
    if (w->start_min < w->end_min) return m >= w->start_min && m < w->end_min;
    return m >= w->start_min || m < w->end_min; /* wraps midnight */
}

/* ------------------------------------------------------------- settings */

void campaign_spec_default(campaign_spec_t *sp)
{
    memset(sp, 0, sizeof *sp);
    sp->canary = 0;
    sp->batch_size = 0;
    sp->max_concurrent = 10;
    sp->failure_threshold = 20;
    sp->min_attempts = 5;
    sp->download_timeout = 3600;
    sp->install_timeout = 3600;
    sp->retries = 0;
    sp->url_ttl = 86400;
}

typedef struct int_field {
    const char *name;
    size_t off;
    int min, max;
} int_field_t;

static const int_field_t int_fields[] = {
    {"canary", offsetof(campaign_spec_t, canary), 0, 100000},
    {"batch_size", offsetof(campaign_spec_t, batch_size), 0, 100000},
    {"max_concurrent", offsetof(campaign_spec_t, max_concurrent), 1, 10000},
    {"failure_threshold", offsetof(campaign_spec_t, failure_threshold), 1, 100},
    {"min_attempts", offsetof(campaign_spec_t, min_attempts), 1, 100000},
    {"download_timeout", offsetof(campaign_spec_t, download_timeout), 1, 7 * 86400},
    {"install_timeout", offsetof(campaign_spec_t, install_timeout), 1, 7 * 86400},
    {"retries", offsetof(campaign_spec_t, retries), 0, 10},
    {"url_ttl", offsetof(campaign_spec_t, url_ttl), 60, 30 * 86400},
};
#define NINT (sizeof int_fields / sizeof int_fields[0])

static int apply_member(campaign_spec_t *sp, const char *k, const json_t *v, const char **window,
                        int *offset, char *err, size_t err_len)
{
    for (size_t i = 0; i < NINT; i++) {
        const int_field_t *f = &int_fields[i];
        if (strcmp(k, f->name) != 0) continue;
        if (!json_is_integer(v) || json_integer_value(v) < f->min ||
            json_integer_value(v) > f->max) {
            snprintf(err, err_len, "settings.%s must be an integer from %d to %d", k, f->min,
                     f->max);
            return -1;
        }
        *(int *)((char *)sp + f->off) = (int)json_integer_value(v);
        return 0;
    }
    if (strcmp(k, "force") == 0) {
        if (!json_is_boolean(v)) {
            snprintf(err, err_len, "settings.force must be true or false");
            return -1;
        }
        sp->force = json_is_true(v);
        return 0;
    }
    if (strcmp(k, "window") == 0) {
        if (!json_is_string(v) && !json_is_null(v)) {
            snprintf(err, err_len, "settings.window must be \"HH:MM-HH:MM\" or null");
            return -1;
        }
        *window = json_is_string(v) ? json_string_value(v) : "";
        return 0;
    }
    if (strcmp(k, "window_utc_offset") == 0) {
        if (!json_is_integer(v)) {
            snprintf(err, err_len, "settings.window_utc_offset must be minutes (an integer)");
            return -1;
        }
        *offset = (int)json_integer_value(v);
        if (json_integer_value(v) != *offset) *offset = 100000;
        return 0;
    }
    snprintf(err, err_len, "unknown setting '%.64s'", k);
    return -1;
}

int campaign_spec_apply(campaign_spec_t *sp, const json_t *settings, char *err, size_t err_len)
{
    if (!settings || json_is_null(settings)) return 0;
    if (!json_is_object(settings)) {
        snprintf(err, err_len, "settings must be an object");
        return -1;
    }
    /* a copy: the window text is replaced only once everything checked */
    char wbuf[sizeof sp->window_text];
    snprintf(wbuf, sizeof wbuf, "%s", sp->window_text);
    const char *window = wbuf, *k;
    int offset = sp->window.utc_offset_min;
    json_t *v;
    json_object_foreach((json_t *)settings, k, v)
    {
        if (apply_member(sp, k, v, &window, &offset, err, err_len) != 0) return -1;
    }
    if (window != wbuf && strlen(window) >= sizeof sp->window_text) {
        snprintf(err, err_len, "settings.window must be \"HH:MM-HH:MM\", e.g. \"01:00-05:00\"");
        return -1;
    }
    campaign_window_t w;
    if (campaign_window_parse(window, offset, &w, err, err_len) != 0) return -1;
    w.utc_offset_min = offset;
    sp->window = w;
    snprintf(sp->window_text, sizeof sp->window_text, "%s", window);
    return 0;
}

json_t *campaign_spec_json(const campaign_spec_t *sp)
{
    json_t *o = json_object();
    for (size_t i = 0; i < NINT; i++)
        json_object_set_new(o, int_fields[i].name,
                            json_integer(*(const int *)((const char *)sp + int_fields[i].off)));
    json_object_set_new(o, "force", json_boolean(sp->force));
    json_object_set_new(o, "window",
                        sp->window_text[0] ? json_string(sp->window_text) : json_null());
    json_object_set_new(o, "window_utc_offset", json_integer(sp->window.utc_offset_min));
    return o;
}

/* ------------------------------------------------------------- targets */

static const char *const list_keys[] = {"sites", "models", "firmware_versions", "station_ids"};

int campaign_target_check(const json_t *target, char *err, size_t err_len)
{
    if (!json_is_object(target)) {
        snprintf(err, err_len,
                 "target must be an object with sites, models, firmware_versions, "
                 "labels and/or station_ids");
        return -1;
    }
    const char *k;
    json_t *v;
    bool any = false;
    json_object_foreach((json_t *)target, k, v)
    {
        bool known = false;
        for (size_t i = 0; i < 4; i++) {
            if (strcmp(k, list_keys[i]) != 0) continue;
            known = true;
            size_t j;
            json_t *x;
            if (!json_is_array(v) || json_array_size(v) > 10000) goto bad_list;
            json_array_foreach(v, j, x) if (!json_is_string(x) ||
                                            json_string_length(x) > 128) goto bad_list;
            any |= json_array_size(v) > 0;
            break;
        bad_list:
            snprintf(err, err_len, "target.%s must be an array of strings", k);
            return -1;
        }
        if (strcmp(k, "labels") == 0) {
            known = true;
            const char *lk;
            json_t *lv;
            if (!json_is_object(v)) goto bad_labels;
            json_object_foreach(v, lk, lv) if (!json_is_string(lv)) goto bad_labels;
            any |= json_object_size(v) > 0;
            continue;
        bad_labels:
            snprintf(err, err_len, "target.labels must be an object of strings");
            return -1;
        }
        if (!known) {
            snprintf(err, err_len,
                     "unknown target member '%.64s' (sites, models, firmware_versions, labels, "
                     "station_ids)",
                     k);
            return -1;
        }
    }
    if (!any) {
        snprintf(err, err_len, "target selects no station: give station_ids or a filter");
        return -1;
    }
    return 0;
}

static bool in_list(const json_t *arr, const char *s)
{
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x) if (s && strcmp(json_string_value(x), s) == 0) return true;
    return false;
}

bool campaign_target_match(const json_t *target, const char *id, const char *site,
                           const char *model, const char *firmware_version, const json_t *labels)
{
    if (in_list(json_object_get(target, "station_ids"), id)) return true;
    const char *vals[3] = {site, model, firmware_version};
    bool any = false;
    for (size_t i = 0; i < 3; i++) {
        const json_t *arr = json_object_get(target, list_keys[i]);
        if (json_array_size(arr) == 0) continue;
        any = true;
        if (!in_list(arr, vals[i])) return false;
    }
    const json_t *want = json_object_get(target, "labels");
    if (json_object_size(want) > 0) {
        any = true;
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)want, k, v)
        {
            const char *have = json_string_value(json_object_get(labels, k));
            if (!have || strcmp(have, json_string_value(v)) != 0) return false;
        }
    }
    return any;
}

/* ------------------------------------------------------------- planning */

bool campaign_canary_done(const campaign_spec_t *sp, const campaign_slot_t *st, size_t n)
{
    for (size_t i = 0; i < n && i < (size_t)sp->canary; i++)
        if (st[i].state != CST_SUCCEEDED) return false;
    return true;
}

/* The end (exclusive) of the positions open to dispatch after the canary:
 * through the first batch that still has a station not finished. */
static size_t open_end(const campaign_spec_t *sp, const campaign_slot_t *st, size_t n)
{
    size_t first = (size_t)sp->canary < n ? (size_t)sp->canary : n;
    if (sp->batch_size <= 0) return n;
    for (size_t b = first; b < n; b += (size_t)sp->batch_size) {
        size_t e = b + (size_t)sp->batch_size < n ? b + (size_t)sp->batch_size : n;
        for (size_t i = b; i < e; i++)
            if (!campaign_st_terminal(st[i].state)) return e;
    }
    return n;
}

campaign_plan_t campaign_plan_next(const campaign_spec_t *sp, bool promoted,
                                   const campaign_slot_t *st, size_t n, bool in_window, size_t *out,
                                   size_t out_cap)
{
    campaign_plan_t p = {0};
    p.canary_phase = sp->canary > 0 && !promoted && !campaign_canary_done(sp, st, n);
    if (!in_window) return p;
    size_t active = 0;
    for (size_t i = 0; i < n; i++)
        if (campaign_st_in_flight(st[i].state)) active++;
    size_t slots = (size_t)sp->max_concurrent > active ? (size_t)sp->max_concurrent - active : 0;
    size_t end =
        p.canary_phase ? ((size_t)sp->canary < n ? (size_t)sp->canary : n) : open_end(sp, st, n);
    for (size_t i = 0; i < end; i++) {
        if (st[i].state != CST_PENDING) continue;
        if (!st[i].connected) {
            p.offline++;
            continue;
        }
        if (st[i].busy && !sp->force) {
            p.deferred++;
            continue;
        }
        if (p.picked < slots && p.picked < out_cap) out[p.picked++] = i;
    }
    return p;
}

bool campaign_threshold_passed(const campaign_spec_t *sp, int64_t failures, int64_t attempts)
{
    if (attempts < sp->min_attempts || attempts <= 0) return false;
    return failures * 100 > (int64_t)sp->failure_threshold * attempts;
}

bool campaign_timed_out(const campaign_spec_t *sp, campaign_st_t st, int64_t state_at,
                        int64_t now_ms)
{
    int64_t limit;
    if (st == CST_SCHEDULED || st == CST_SENT || st == CST_DOWNLOADING)
        limit = sp->download_timeout;
    else if (st == CST_DOWNLOADED || st == CST_INSTALLING || st == CST_INSTALLED)
        limit = sp->install_timeout;
    else
        return false;
    return now_ms - state_at > limit * 1000;
}

static const struct {
    const char *status;
    campaign_st_t st;
    bool failure;
} status_map[] = {
    {"DownloadScheduled", CST_DOWNLOADING, false},
    {"Downloading", CST_DOWNLOADING, false},
    {"DownloadPaused", CST_DOWNLOADING, false},
    {"Downloaded", CST_DOWNLOADED, false},
    {"SignatureVerified", CST_DOWNLOADED, false},
    {"InstallScheduled", CST_INSTALLING, false},
    {"Installing", CST_INSTALLING, false},
    {"InstallRebooting", CST_INSTALLING, false},
    {"Installed", CST_INSTALLED, false},
    {"DownloadFailed", CST_FAILED, true},
    {"InstallationFailed", CST_FAILED, true},
    {"InvalidSignature", CST_FAILED, true},
    {"InstallVerificationFailed", CST_FAILED, true},
};

int campaign_st_of_status(const char *status, bool *failure)
{
    *failure = false;
    for (size_t i = 0; status && i < sizeof status_map / sizeof status_map[0]; i++) {
        if (strcmp(status, status_map[i].status) != 0) continue;
        *failure = status_map[i].failure;
        return (int)status_map[i].st;
    }
    return -1;
}

bool campaign_all_terminal(const campaign_slot_t *st, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!campaign_st_terminal(st[i].state)) return false;
    return true;
}
