/*
 * Spare parts through the API: the catalogue, the depots, the stock of each
 * part in each depot and its adjustments (receive, correct; both audited and
 * written with a ledger row, store_parts.h). After every stock change the
 * rows below their threshold go to the work-order service, which keeps the
 * parts_low_stock alert in step. Using parts on a ticket is in workorders.c.
 */
#include "api/api_internal.h"
#include "api/lists.h"

#include "service/workorders_server.h"
#include "store/store_parts.h"
#include "util/timefmt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SKU_MAX 64
#define NAME_MAX_LEN 200
#define TEXT_MAX 2000
#define MODELS_MAX 50
#define STOCK_LIMIT 1000

static json_t *timed(json_t *row)
{
    static const char *const keys[] = {"created_at", "updated_at", NULL};
    json_t *o = json_deep_copy(row);
    api_json_times(o, keys);
    return o;
}

static json_t *part_item(json_t *row)
{
    json_t *o = timed(row);
    const char *m = json_string_value(json_object_get(o, "models"));
    json_t *models = m ? json_loads(m, 0, NULL) : NULL;
    json_object_set_new(o, "models", models ? models : json_array());
    return o;
}

/* The answer to a read or a change whose row is the last result. */
typedef struct one {
    const char *what; /* "part", "depot" */
    json_t *(*item)(json_t *row);
    const char *action; /* audit action for a change, NULL for a read */
    int status;
} one_t;

static void answer_one(api_call_t *c, const one_t *o, store_err_t rc, json_t *res)
{
    if (rc == STORE_ERR_NOT_FOUND) {
        api_problem(c, 404, "Not Found", "no %s %s", o->what, c->params[0]);
        return;
    }
    if (rc == STORE_ERR_CONFLICT) {
        api_problem(c, 409, "Conflict", "another %s has that %s", o->what,
                    strcmp(o->what, "part") == 0 ? "sku" : "name");
        return;
    }
    json_t *row = json_array_get(json_array_get(res, json_array_size(res) - 1), 0);
    if (rc != STORE_OK || !row) {
        api_problem(c, 503, "Service Unavailable", "the database could not answer; retry");
        return;
    }
    json_t *item = o->item(row);
    if (o->action) {
        char id[24];
        snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(row, "id")));
        api_audit(c, o->action, o->what, id, c->before, item);
    }
    api_json(c, o->status, item);
}

#define ONE_CB(name, ...)                                                                          \
    static void name(void *ctx, store_err_t rc, json_t *res)                                       \
    {                                                                                              \
        api_call_t *c = ctx;                                                                       \
        static const one_t o = {__VA_ARGS__};                                                      \
        if (api_alive(c)) answer_one(c, &o, rc, res);                                              \
    }

ONE_CB(part_got, "part", part_item, NULL, 200)
ONE_CB(part_created, "part", part_item, "part.create", 201)
ONE_CB(part_changed, "part", part_item, "part.update", 200)
ONE_CB(depot_got, "depot", timed, NULL, 200)
ONE_CB(depot_created, "depot", timed, "depot.create", 201)
ONE_CB(depot_changed, "depot", timed, "depot.update", 200)

/* ------------------------------------------------------------- parts */

static const api_sort_field_t part_sorts[] = {
    {"id", false, NULL}, {"sku", false, NULL}, {"name", false, NULL}, {NULL, false, NULL}};
static const api_list_t part_list = {part_sorts, "sku", false, 50, 500};

void api_parts_list(api_call_t *c)
{
    api_page_t p;
    if (!api_page_read(c, &part_list, &p)) return;
    store_page_t sp = api_page_store(&p);
    store_parts_list(c->api->d.store, api_query(c, "model"), &sp, api_page_done,
                     api_page_hold(c, &p, part_item));
}

void api_parts_get(api_call_t *c)
{
    int64_t id;
    if (!api_path_id(c, "part", &id)) return;
    api_hold(c);
    store_part_get(c->api->d.store, id, part_got, c);
}

/* Reads a part's fields over base (a stored row, or NULL for a new one). */
static bool read_part(api_call_t *c, const json_t *base, store_part_t *p)
{
    static const char *const allowed[] = {"sku", "name", "description", "models", "unit", NULL};
    if (!api_body_only(c, allowed)) return false;
    memset(p, 0, sizeof *p);
    p->unit = "piece";
    if (base) {
        p->sku = json_string_value(json_object_get(base, "sku"));
        p->name = json_string_value(json_object_get(base, "name"));
        p->description = json_string_value(json_object_get(base, "description"));
        p->unit = json_string_value(json_object_get(base, "unit"));
        p->models = json_object_get(base, "models");
    } else if (!json_object_get(c->body, "sku") || !json_object_get(c->body, "name")) {
        api_problem(c, 400, "Bad Request", "sku and name are required");
        return false;
    }
    if (!api_body_str(c, "sku", SKU_MAX, false, &p->sku) ||
        !api_body_str(c, "name", NAME_MAX_LEN, false, &p->name) ||
        !api_body_str(c, "description", TEXT_MAX, true, &p->description) ||
        !api_body_str(c, "unit", 32, false, &p->unit))
        return false;
    json_t *m = json_object_get(c->body, "models");
    if (m) {
        bool ok = json_is_array(m) && json_array_size(m) <= MODELS_MAX;
        size_t i;
        json_t *v;
        json_array_foreach(m, i, v) ok &=
            json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) <= 64;
        if (!ok) {
            api_problem(c, 400, "Bad Request",
                        "models must be an array of up to %d station model names (1 to 64 "
                        "characters each)",
                        MODELS_MAX);
            return false;
        }
        p->models = m;
    }
    if (!p->models) p->models = json_array(); /* a new one: the caller releases it */
    return true;
}

void api_parts_create(api_call_t *c)
{
    store_part_t p;
    if (!read_part(c, NULL, &p)) return;
    bool own = !json_object_get(c->body, "models");
    api_hold(c);
    store_part_create(c->api->d.store, &p, time_now_ms(), part_created, c);
    if (own) json_decref((json_t *)p.models);
}

static void part_patch_read(void *ctx, store_err_t rc, json_t *res)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    json_t *row = json_array_get(json_array_get(res, 0), 0);
    if (rc != STORE_OK || !row) {
        static const one_t o = {"part", part_item, NULL, 200};
        answer_one(c, &o, rc, res);
        return;
    }
    c->before = part_item(row);
    store_part_t p;
    if (!read_part(c, c->before, &p)) return;
    api_hold(c);
    store_part_update(c->api->d.store, json_integer_value(json_object_get(row, "id")), &p,
                      time_now_ms(), part_changed, c);
}

void api_parts_patch(api_call_t *c)
{
    int64_t id;
    if (!api_path_id(c, "part", &id)) return;
    api_hold(c);
    store_part_get(c->api->d.store, id, part_patch_read, c);
}

/* ------------------------------------------------------------ depots */

static const api_sort_field_t depot_sorts[] = {
    {"id", false, NULL}, {"name", false, NULL}, {NULL, false, NULL}};
static const api_list_t depot_list = {depot_sorts, "name", false, 50, 500};

void api_depots_list(api_call_t *c)
{
    api_page_t p;
    if (!api_page_read(c, &depot_list, &p)) return;
    store_page_t sp = api_page_store(&p);
    store_depots_list(c->api->d.store, &sp, api_page_done, api_page_hold(c, &p, timed));
}

void api_depots_get(api_call_t *c)
{
    int64_t id;
    if (!api_path_id(c, "depot", &id)) return;
    api_hold(c);
    store_depot_get(c->api->d.store, id, depot_got, c);
}

static bool read_depot(api_call_t *c, const json_t *base, const char **name, const char **loc)
{
    static const char *const allowed[] = {"name", "location", NULL};
    if (!api_body_only(c, allowed)) return false;
    *name = base ? json_string_value(json_object_get(base, "name")) : NULL;
    *loc = base ? json_string_value(json_object_get(base, "location")) : NULL;
    if (!api_body_str(c, "name", NAME_MAX_LEN, false, name) ||
        !api_body_str(c, "location", TEXT_MAX, true, loc))
        return false;
    if (!*name) {
        api_problem(c, 400, "Bad Request", "name is required");
        return false;
    }
    return true;
}

void api_depots_create(api_call_t *c)
{
    const char *name, *loc;
    if (!read_depot(c, NULL, &name, &loc)) return;
    api_hold(c);
    store_depot_create(c->api->d.store, name, loc, time_now_ms(), depot_created, c);
}

static void depot_patch_read(void *ctx, store_err_t rc, json_t *res)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    json_t *row = json_array_get(json_array_get(res, 0), 0);
    if (rc != STORE_OK || !row) {
        static const one_t o = {"depot", timed, NULL, 200};
        answer_one(c, &o, rc, res);
        return;
    }
    c->before = timed(row);
    const char *name, *loc;
    if (!read_depot(c, c->before, &name, &loc)) return;
    api_hold(c);
    store_depot_update(c->api->d.store, json_integer_value(json_object_get(row, "id")), name, loc,
                       time_now_ms(), depot_changed, c);
}

void api_depots_patch(api_call_t *c)
{
    int64_t id;
    if (!api_path_id(c, "depot", &id)) return;
    api_hold(c);
    store_depot_get(c->api->d.store, id, depot_patch_read, c);
}

/* ------------------------------------------------------------- stock */

static json_t *stock_item(const json_t *row)
{
    static const char *const keys[] = {"updated_at", NULL};
    json_t *o = json_deep_copy(row);
    api_json_times(o, keys);
    int64_t q = json_integer_value(json_object_get(row, "quantity"));
    int64_t t = json_integer_value(json_object_get(row, "low_threshold"));
    json_object_set_new(o, "low", json_boolean(workorders_stock_low(q, t)));
    return o;
}

static void stock_listed(void *ctx, store_err_t rc, json_t *res)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    if (rc != STORE_OK) {
        api_problem(c, 503, "Service Unavailable", "the database could not answer; retry");
        return;
    }
    json_t *items = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(json_array_get(res, 0), i, row)
        json_array_append_new(items, stock_item(row));
    api_json(c, 200, json_pack("{s:o}", "items", items));
}

static bool query_id(api_call_t *c, const char *name, int64_t *out)
{
    const char *v = api_query(c, name);
    *out = 0;
    if (!v) return true;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (!*v || *end || errno || n <= 0) {
        api_problem(c, 400, "Bad Request", "%s must be a positive id", name);
        return false;
    }
    *out = n;
    return true;
}

void api_stock_list(api_call_t *c)
{
    int64_t part, depot;
    if (!query_id(c, "part", &part) || !query_id(c, "depot", &depot)) return;
    const char *low = api_query(c, "low");
    if (low && strcmp(low, "true") != 0 && strcmp(low, "false") != 0) {
        api_problem(c, 400, "Bad Request", "low must be true or false");
        return;
    }
    api_hold(c);
    store_stock_list(c->api->d.store, part, depot, low && strcmp(low, "true") == 0, STOCK_LIMIT,
                     stock_listed, c);
}

static void adjusted(void *ctx, store_err_t rc, json_t *res)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    long long part = json_integer_value(json_object_get(c->body, "part_id"));
    long long depot = json_integer_value(json_object_get(c->body, "depot_id"));
    if (rc == STORE_ERR_NOT_FOUND) {
        api_problem(c, 404, "Not Found", "no part %lld or no depot %lld", part, depot);
        return;
    }
    if (rc == STORE_ERR_CONFLICT) {
        api_problem(c, 409, "Conflict",
                    "the count of part %lld in depot %lld would leave 0 to %lld", part, depot,
                    WORKORDERS_MAX_QUANTITY);
        return;
    }
    json_t *row = json_array_get(json_array_get(res, 3), 0);
    if (rc != STORE_OK || !row) {
        api_problem(c, 503, "Service Unavailable", "the change could not be stored; retry");
        return;
    }
    if (c->api->d.workorders)
        workorders_server_stock_low(c->api->d.workorders, json_array_get(res, 4));
    json_t *item = stock_item(row);
    char id[48];
    snprintf(id, sizeof id, "%lld@%lld", part, depot);
    api_audit(c, "stock.adjust", "stock", id, NULL, c->body);
    api_json(c, 200, item);
}

void api_stock_adjust(api_call_t *c)
{
    static const char *const allowed[] = {"part_id",       "depot_id", "kind", "quantity",
                                          "low_threshold", "note",     NULL};
    if (!api_body_only(c, allowed)) return;
    static const char *const ids[] = {"part_id", "depot_id"};
    for (int i = 0; i < 2; i++) {
        json_t *v = json_object_get(c->body, ids[i]);
        if (!json_is_integer(v) || json_integer_value(v) < 1) {
            api_problem(c, 400, "Bad Request", "%s is required (a positive integer)", ids[i]);
            return;
        }
    }
    const char *kind = json_string_value(json_object_get(c->body, "kind"));
    wo_stock_kind_t k;
    if (kind && strcmp(kind, "receive") == 0)
        k = WO_STOCK_RECEIVE;
    else if (kind && strcmp(kind, "correct") == 0)
        k = WO_STOCK_CORRECT;
    else {
        api_problem(c, 400, "Bad Request",
                    "kind must be receive (quantity arrived) or correct (quantity counted)");
        return;
    }
    json_t *q = json_object_get(c->body, "quantity");
    int64_t after, delta;
    if (!json_is_integer(q) ||
        workorders_stock_apply(k, 0, json_integer_value(q), &after, &delta) != WO_STOCK_OK) {
        api_problem(c, 400, "Bad Request", "quantity must be an integer from %d to %lld",
                    k == WO_STOCK_CORRECT ? 0 : 1, WORKORDERS_MAX_QUANTITY);
        return;
    }
    json_t *th = json_object_get(c->body, "low_threshold");
    if (th && (!json_is_integer(th) || json_integer_value(th) < 0 ||
               json_integer_value(th) > WORKORDERS_MAX_QUANTITY)) {
        api_problem(c, 400, "Bad Request", "low_threshold must be an integer from 0 to %lld",
                    WORKORDERS_MAX_QUANTITY);
        return;
    }
    const char *note = NULL;
    if (!api_body_str(c, "note", TEXT_MAX, true, &note)) return;
    api_hold(c);
    store_stock_adjust(c->api->d.store, json_integer_value(json_object_get(c->body, "part_id")),
                       json_integer_value(json_object_get(c->body, "depot_id")), kind,
                       json_integer_value(q), th ? json_integer_value(th) : -1, note, api_actor(c),
                       time_now_ms(), adjusted, c);
}
