/*
 * Firmware update campaigns through the API (/api/v1/firmware-campaigns):
 * drafts are created and changed here in the store; starting, pausing,
 * resuming, cancelling, promoting past the canary group and retrying a
 * station go through the engine (firmware/campaign_server.h), which commits
 * each change before answering. Every answer about one campaign is read back
 * from the store afterwards, so the client sees what is durable, with its
 * progress counts per station state. Changes are audited.
 */
#include "api/api_internal.h"
#include "api/lists.h"

#include "firmware/campaign_server.h"
#include "store/store_campaigns.h"
#include "util/alloc.h"
#include "util/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 200

static const api_sort_field_t campaign_sorts[] = {
    {"id", false, NULL}, {"updated_at", false, NULL}, {NULL, false, NULL}};
static const api_list_t campaign_list = {campaign_sorts, "-id", false, 50, 500};
static const api_sort_field_t station_sorts[] = {
    {"position", false, NULL}, {"updated_at", false, NULL}, {NULL, false, NULL}};
static const api_list_t station_list = {station_sorts, "position", false, 100, 1000};

/* ------------------------------------------------------------- views */

static void parse_text(json_t *o, const char *key)
{
    json_t *cur = json_object_get(o, key);
    if (json_is_object(cur)) return; /* already parsed */
    const char *s = json_string_value(cur);
    json_t *v = s ? json_loads(s, 0, NULL) : NULL;
    json_object_set_new(o, key, v ? v : json_object());
}

/* A campaign row (or list row) as the API shows it. */
static json_t *campaign_view(json_t *row)
{
    static const char *const times[] = {"created_at", "started_at", "finished_at", "updated_at",
                                        NULL};
    parse_text(row, "target");
    parse_text(row, "settings");
    if (json_object_get(row, "progress")) parse_text(row, "progress");
    json_object_set_new(row, "promoted",
                        json_boolean(json_integer_value(json_object_get(row, "promoted"))));
    json_object_del(row, "base_failures");
    json_object_del(row, "base_attempts");
    api_json_times(row, times);
    json_int_t total = 0;
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(row, "progress"), k, v) total += json_integer_value(v);
    json_object_set_new(row, "stations_total", json_integer(total));
    return row;
}

/* Items for api_page_answer: a new reference each. */
static json_t *list_item(json_t *row)
{
    return json_incref(campaign_view(row));
}

static json_t *station_item(json_t *row)
{
    static const char *const times[] = {"state_at", "started_at", "finished_at", "updated_at",
                                        NULL};
    api_json_times(row, times);
    return json_incref(row);
}

/* The result of store_campaign_get as one object, or NULL. */
static json_t *full_view(json_t *res)
{
    json_t *row = json_array_get(json_array_get(res, 0), 0);
    if (!row) return NULL;
    json_t *o = json_deep_copy(row);
    json_t *progress = json_object();
    size_t i;
    json_t *r;
    json_array_foreach(json_array_get(res, 1), i, r) json_object_set(
        progress, json_string_value(json_object_get(r, "state")), json_object_get(r, "n"));
    json_object_set_new(o, "progress", progress);
    campaign_view(o);
    json_t *img = json_array_get(json_array_get(res, 2), 0);
    json_object_set_new(o, "image",
                        img ? json_pack("{s:O,s:O,s:O,s:O}", "id", json_object_get(img, "id"),
                                        "version", json_object_get(img, "version"), "filename",
                                        json_object_get(img, "filename"), "sha256",
                                        json_object_get(img, "sha256"))
                            : json_null());
    return o;
}

/* ------------------------------------------------------------- helpers */

static bool path_id(api_call_t *c, int64_t *id)
{
    char *end;
    long long v = strtoll(c->params[0], &end, 10);
    if (!c->params[0][0] || *end || v <= 0) {
        api_problem(c, 404, "Not Found", "no firmware campaign %.64s", c->params[0]);
        return false;
    }
    *id = v;
    return true;
}

static bool store_ok(api_call_t *c, store_err_t rc, bool found)
{
    if (rc == STORE_ERR_NOT_FOUND || (rc == STORE_OK && !found)) {
        api_problem(c, 404, "Not Found", "no firmware campaign %.64s", c->params[0]);
        return false;
    }
    if (rc != STORE_OK) {
        api_problem(c, 503, "Service Unavailable", "the database could not answer; retry");
        return false;
    }
    return true;
}

static campaign_server_t *engine(api_call_t *c)
{
    campaign_server_t *s = c->api->d.campaigns;
    if (!s) api_problem(c, 503, "Service Unavailable", "firmware campaigns are not running");
    return s;
}

/* The members of a create or PATCH body, checked. */
typedef struct body {
    const char *name;
    int64_t image_id;
    const json_t *target, *settings;
} body_t;

static bool read_body(api_call_t *c, body_t *b, bool create)
{
    memset(b, 0, sizeof *b);
    const char *k;
    json_t *v;
    json_object_foreach(c->body, k, v)
    {
        if (strcmp(k, "name") == 0) {
            if (!json_is_string(v) || json_string_length(v) < 1 ||
                json_string_length(v) > NAME_MAX_LEN) {
                api_problem(c, 400, "Bad Request", "name must be a string of 1 to %d characters",
                            NAME_MAX_LEN);
                return false;
            }
            b->name = json_string_value(v);
        } else if (strcmp(k, "image_id") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 1) {
                api_problem(c, 400, "Bad Request",
                            "image_id must be the id of an image of GET /api/v1/firmware");
                return false;
            }
            b->image_id = json_integer_value(v);
        } else if (strcmp(k, "target") == 0) {
            b->target = v;
        } else if (strcmp(k, "settings") == 0) {
            b->settings = v;
        } else {
            api_problem(c, 400, "Bad Request",
                        "unknown field '%.64s' (name, image_id, target, settings)", k);
            return false;
        }
    }
    if (create && (!b->name || !b->image_id || !b->target)) {
        api_problem(c, 400, "Bad Request", "name, image_id and target are required");
        return false;
    }
    char err[256];
    if (b->target && campaign_target_check(b->target, err, sizeof err) != 0) {
        api_problem(c, 400, "Bad Request", "%s", err);
        return false;
    }
    return true;
}

/* The settings of a draft after applying a change (NULL with 400 answered). */
static json_t *merged_settings(api_call_t *c, const json_t *stored, const json_t *change)
{
    campaign_spec_t sp;
    char err[256];
    campaign_spec_default(&sp);
    if (campaign_spec_apply(&sp, stored, err, sizeof err) != 0) campaign_spec_default(&sp);
    if (campaign_spec_apply(&sp, change, err, sizeof err) != 0) {
        api_problem(c, 400, "Bad Request", "%s", err);
        return NULL;
    }
    return campaign_spec_json(&sp);
}

/* ------------------------------------------------------------- reading */

void api_campaigns_list(api_call_t *c)
{
    const char *state = api_query(c, "state");
    if (state && campaign_state_parse(state) < 0) {
        api_problem(c, 400, "Bad Request",
                    "state must be draft, running, paused, completed or cancelled");
        return;
    }
    api_page_t p;
    if (!api_page_read(c, &campaign_list, &p)) return;
    store_page_t sp = api_page_store(&p);
    store_campaigns_list(c->api->d.store, state, &sp, api_page_done,
                         api_page_hold(c, &p, list_item));
}

/* Answers with the campaign as stored now: 200, or 201 after a create. */
static void answer_cb(void *ctx, store_err_t rc, json_t *res)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    json_t *view = rc == STORE_OK ? full_view(res) : NULL;
    if (!store_ok(c, rc, view != NULL)) return;
    const char *action = NULL;
    if (c->route->fn == api_campaigns_patch)
        action = "firmware_campaign.update";
    else if (c->route->fn == api_campaigns_start)
        action = "firmware_campaign.start";
    else if (c->route->fn == api_campaigns_pause)
        action = "firmware_campaign.pause";
    else if (c->route->fn == api_campaigns_resume)
        action = "firmware_campaign.resume";
    else if (c->route->fn == api_campaigns_cancel)
        action = "firmware_campaign.cancel";
    else if (c->route->fn == api_campaigns_promote)
        action = "firmware_campaign.promote";
    else if (c->route->fn == api_campaigns_retry)
        action = "firmware_campaign.retry_station";
    if (action) api_audit(c, action, "firmware_campaign", c->params[0], c->before, view);
    api_json(c, 200, view);
}

void api_campaigns_get(api_call_t *c)
{
    int64_t id;
    if (!path_id(c, &id)) return;
    api_hold(c);
    store_campaign_get(c->api->d.store, id, answer_cb, c);
}

typedef struct stations_ctx {
    api_call_t *call;
    api_page_t page;
    int64_t id;
    char state[16];
} stations_ctx_t;

static void stations_got(void *ctx, store_err_t rc, json_t *res)
{
    stations_ctx_t *x = ctx;
    api_call_t *c = x->call;
    if (api_alive(c) && store_ok(c, rc, json_array_size(json_array_get(res, 0)) > 0)) {
        store_page_t sp = api_page_store(&x->page);
        store_campaign_stations_list(c->api->d.store, x->id, x->state[0] ? x->state : NULL, &sp,
                                     api_page_done, api_page_hold(c, &x->page, station_item));
    }
    api_page_clear(&x->page);
    free(x);
}

void api_campaigns_stations(api_call_t *c)
{
    int64_t id;
    if (!path_id(c, &id)) return;
    const char *state = api_query(c, "state");
    if (state && campaign_st_parse(state) < 0) {
        api_problem(c, 400, "Bad Request",
                    "state must be pending, scheduled, sent, downloading, downloaded, installing, "
                    "installed, succeeded, failed or cancelled");
        return;
    }
    stations_ctx_t *x = xcalloc(1, sizeof *x);
    if (!api_page_read(c, &station_list, &x->page)) {
        free(x);
        return;
    }
    x->call = c;
    x->id = id;
    snprintf(x->state, sizeof x->state, "%s", state ? state : "");
    api_hold(c);
    store_campaign_get(c->api->d.store, id, stations_got, x);
}

/* ------------------------------------------------------------- drafts */

typedef struct draft_ctx {
    api_call_t *call;
    int64_t id;
    json_t *settings; /* merged, for a PATCH */
} draft_ctx_t;

static void created_cb(void *ctx, store_err_t rc, json_t *res)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    if (rc != STORE_OK) {
        api_problem(c, 503, "Service Unavailable", "the change could not be stored; retry");
        return;
    }
    json_t *row = json_deep_copy(json_array_get(json_array_get(res, 1), 0));
    json_object_set_new(row, "progress", json_string("{}"));
    campaign_view(row);
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(row, "id")));
    api_audit(c, "firmware_campaign.create", "firmware_campaign", id, NULL, row);
    api_json(c, 201, row);
}

static bool image_found(api_call_t *c, store_err_t rc, json_t *res, int64_t image_id)
{
    if (rc == STORE_ERR_NOT_FOUND || (rc == STORE_OK && !json_array_size(json_array_get(res, 0)))) {
        api_problem(c, 400, "Bad Request",
                    "image_id %lld is not an image of the firmware repository (GET "
                    "/api/v1/firmware)",
                    (long long)image_id);
        return false;
    }
    if (rc != STORE_OK) {
        api_problem(c, 503, "Service Unavailable", "the database could not answer; retry");
        return false;
    }
    return true;
}

static void create_image_cb(void *ctx, store_err_t rc, json_t *res)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    body_t b;
    read_body(c, &b, true); /* checked before */
    if (!image_found(c, rc, res, b.image_id)) return;
    json_t *settings = merged_settings(c, NULL, b.settings);
    if (!settings) return;
    store_campaign_create(c->api->d.store, b.name, b.image_id, b.target, settings, c->token_name,
                          time_now_ms(), created_cb, c);
    json_decref(settings);
}

void api_campaigns_create(api_call_t *c)
{
    body_t b;
    if (!read_body(c, &b, true)) return;
    json_t *settings = merged_settings(c, NULL, b.settings);
    if (!settings) return;
    json_decref(settings);
    api_hold(c);
    store_campaign_image(c->api->d.store, b.image_id, create_image_cb, c);
}

static void patched_cb(void *ctx, store_err_t rc, json_t *res)
{
    (void)res;
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    if (rc == STORE_ERR_NOT_FOUND) {
        api_problem(c, 409, "Conflict", "campaign %s is no longer a draft", c->params[0]);
        return;
    }
    if (rc != STORE_OK) {
        api_problem(c, 503, "Service Unavailable", "the change could not be stored; retry");
        return;
    }
    int64_t id;
    path_id(c, &id);
    store_campaign_get(c->api->d.store, id, answer_cb, c);
}

static void patch_do(draft_ctx_t *x)
{
    api_call_t *c = x->call;
    body_t b;
    read_body(c, &b, false);
    store_campaign_patch(c->api->d.store, x->id, b.name, b.image_id, b.target, x->settings,
                         time_now_ms(), patched_cb, c);
    json_decref(x->settings);
    free(x);
}

static void patch_image_cb(void *ctx, store_err_t rc, json_t *res)
{
    draft_ctx_t *x = ctx;
    api_call_t *c = x->call;
    body_t b;
    if (api_alive(c) && (read_body(c, &b, false), image_found(c, rc, res, b.image_id))) {
        patch_do(x);
        return;
    }
    json_decref(x->settings);
    free(x);
}

static void patch_got_cb(void *ctx, store_err_t rc, json_t *res)
{
    draft_ctx_t *x = ctx;
    api_call_t *c = x->call;
    json_t *view = rc == STORE_OK ? full_view(res) : NULL;
    body_t b;
    if (!api_alive(c) || !store_ok(c, rc, view != NULL)) goto done;
    const char *state = json_string_value(json_object_get(view, "state"));
    if (strcmp(state, "draft") != 0) {
        api_problem(c, 409, "Conflict", "campaign %s is %s: only a draft can be changed",
                    c->params[0], state);
        goto done;
    }
    read_body(c, &b, false);
    json_t *stored = json_object_get(view, "settings");
    x->settings = b.settings ? merged_settings(c, stored, b.settings) : NULL;
    if (b.settings && !x->settings) goto done;
    c->before = view;
    view = NULL;
    if (b.image_id) {
        store_campaign_image(c->api->d.store, b.image_id, patch_image_cb, x);
        return;
    }
    patch_do(x);
    return;
done:
    json_decref(view);
    free(x);
}

void api_campaigns_patch(api_call_t *c)
{
    int64_t id;
    body_t b;
    if (!path_id(c, &id) || !read_body(c, &b, false)) return;
    draft_ctx_t *x = xcalloc(1, sizeof *x);
    x->call = c;
    x->id = id;
    api_hold(c);
    store_campaign_get(c->api->d.store, id, patch_got_cb, x);
}

/* ------------------------------------------------------------- actions */

static void action_done(void *ctx, campaign_err_t rc, const char *msg)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    switch (rc) {
    case CAMPAIGN_OK: {
        int64_t id;
        path_id(c, &id);
        store_campaign_get(c->api->d.store, id, answer_cb, c);
        return;
    }
    case CAMPAIGN_ERR_NOT_FOUND:
        api_problem(c, 404, "Not Found", "%s", msg);
        return;
    case CAMPAIGN_ERR_CONFLICT:
        api_problem(c, 409, "Conflict", "%s", msg);
        return;
    case CAMPAIGN_ERR_INVALID:
        api_problem(c, 400, "Bad Request", "%s", msg);
        return;
    case CAMPAIGN_ERR_STORE:
        api_problem(c, 503, "Service Unavailable", "%s", msg);
        return;
    }
}

/* The campaign exists (else 404): now ask the engine. */
static void action_got_cb(void *ctx, store_err_t rc, json_t *res)
{
    api_call_t *c = ctx;
    json_t *view = rc == STORE_OK ? full_view(res) : NULL;
    if (!api_alive(c) || !store_ok(c, rc, view != NULL)) {
        json_decref(view);
        return;
    }
    c->before = view;
    campaign_server_t *s = c->api->d.campaigns;
    int64_t id = json_integer_value(json_object_get(view, "id"));
    api_handler_fn fn = c->route->fn;
    if (fn == api_campaigns_start)
        campaign_server_start(s, id, action_done, c);
    else if (fn == api_campaigns_pause)
        campaign_server_pause(s, id, c->token_name, action_done, c);
    else if (fn == api_campaigns_resume)
        campaign_server_resume(s, id, action_done, c);
    else if (fn == api_campaigns_cancel)
        campaign_server_cancel(s, id, action_done, c);
    else if (fn == api_campaigns_promote)
        campaign_server_promote(s, id, action_done, c);
    else
        campaign_server_retry(s, id, c->params[1], action_done, c);
}

static void action(api_call_t *c)
{
    int64_t id;
    if (!path_id(c, &id) || !engine(c)) return;
    api_hold(c);
    store_campaign_get(c->api->d.store, id, action_got_cb, c);
}

void api_campaigns_start(api_call_t *c)
{
    action(c);
}

void api_campaigns_pause(api_call_t *c)
{
    action(c);
}

void api_campaigns_resume(api_call_t *c)
{
    action(c);
}

void api_campaigns_cancel(api_call_t *c)
{
    action(c);
}

void api_campaigns_promote(api_call_t *c)
{
    action(c);
}

void api_campaigns_retry(api_call_t *c)
{
    action(c);
}
