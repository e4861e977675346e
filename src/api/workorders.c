/*
 * Maintenance work orders through the API: the list (filters, ?assignee=me,
 * cursor paging), one ticket with its notes, time entries, parts used and
 * attachments, creating one, changing it (the state table of
 * service/workorders.c; 409 on an illegal step), and adding notes, time,
 * parts (taken out of stock in the same transaction) and files.
 *
 * Who may do what: operators and admins everything; a technician reads every
 * ticket and changes only the ones assigned to them, and only their state
 * and what hangs off them. Every change is audited and published
 * (workorder.created / workorder.updated) after its commit.
 *
 * Attachments are the request body itself (its Content-Type is kept). The
 * file is written under <data-dir>/attachments by a worker thread with a
 * random name (the client's name is only metadata, so no name can reach
 * outside the directory), fsync'd and renamed into place before its row is
 * committed; downloads go out as Content-Disposition: attachment with
 * nosniff, so a stored HTML file cannot run in the dashboard's origin.
 */
#include "api/api_internal.h"
#include "api/lists.h"

#include "service/workorders_server.h"
#include "store/store_accounts.h"
#include "store/store_workorders.h"
#include "util/alloc.h"
#include "util/password.h"
#include "util/timefmt.h"

#include <sodium.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TITLE_MAX 200
#define TEXT_MAX 4000
#define MINUTES_MAX (7 * 24 * 60)
#define FILE_NAME_MAX 100

static const api_sort_field_t wo_sorts[] = {
    {"id", false, NULL},       {"created_at", false, NULL}, {"updated_at", false, NULL},
    {"priority", false, NULL}, {NULL, false, NULL},
};
static const api_list_t wo_list = {wo_sorts, "-id", false, 50, 500};

/* ------------------------------------------------------------- helpers */

static workorders_server_t *srv(api_call_t *c)
{
    return c->api->d.workorders;
}

static bool db_failed(api_call_t *c, store_err_t rc)
{
    if (rc == STORE_OK) return false;
    api_problem(c, 503, "Service Unavailable", "the database could not answer; retry");
    return true;
}

/* The lists of a ticket, times as RFC 3339. */
static json_t *times_list(const json_t *rows)
{
    static const char *const keys[] = {"at", NULL};
    json_t *out = json_deep_copy(rows ? rows : json_array());
    size_t i;
    json_t *r;
    json_array_foreach(out, i, r) api_json_times(r, keys);
    return out;
}

/* GET's answer from store_workorder_get's result. */
static json_t *detail(const json_t *res)
{
    json_t *o = workorders_row_json(json_array_get(json_array_get(res, 0), 0));
    json_t *time = json_array_get(res, 2);
    int64_t minutes = 0;
    size_t i;
    json_t *r;
    json_array_foreach(time, i, r) minutes += json_integer_value(json_object_get(r, "minutes"));
    json_object_set_new(o, "notes", times_list(json_array_get(res, 1)));
    json_object_set_new(o, "time_entries", times_list(time));
    json_object_set_new(o, "minutes_total", json_integer(minutes));
    json_object_set_new(o, "parts", times_list(json_array_get(res, 3)));
    json_object_set_new(o, "attachments", times_list(json_array_get(res, 4)));
    return o;
}

static json_t *item_of(json_t *row)
{
    return workorders_row_json(row);
}

/* ------------------------------------------------------------- reading */

static bool list_ok(api_call_t *c, const char *name, const char *v, int (*parse)(const char *),
                    const char *allowed)
{
    char buf[256];
    if (strlen(v) >= sizeof buf) {
        api_problem(c, 400, "Bad Request", "%s is too long", name);
        return false;
    }
    snprintf(buf, sizeof buf, "%s", v);
    int n = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        n++;
        if (parse(t) < 0) {
            api_problem(c, 400, "Bad Request", "%s must be %s (comma-separated); got '%.64s'", name,
                        allowed, t);
            return false;
        }
    }
    if (!n) {
        api_problem(c, 400, "Bad Request", "%s must name at least one of %s", name, allowed);
        return false;
    }
    return true;
}

void api_workorders_list(api_call_t *c)
{
    store_workorder_filter_t f = {0};
    f.states = api_query(c, "state");
    f.priorities = api_query(c, "priority");
    if (f.states && !list_ok(c, "state", f.states, workorders_state_parse,
                             "open, assigned, in_progress, waiting_for_parts, resolved or closed"))
        return;
    if (f.priorities && !list_ok(c, "priority", f.priorities, workorders_priority_parse,
                                 "urgent, high, normal or low"))
        return;
    f.assignee = api_query(c, "assignee");
    if (f.assignee && strcmp(f.assignee, "me") == 0) f.assignee = api_actor(c);
    f.station_id = api_query(c, "station");
    f.site = api_query(c, "site");
    if (!api_query_time(c, "since", &f.since)) return;
    api_page_t p;
    if (!api_page_read(c, &wo_list, &p)) return;
    store_page_t sp = api_page_store(&p);
    store_workorders_list(c->api->d.store, &f, &sp, api_page_done, api_page_hold(c, &p, item_of));
}

static void got_one(void *ctx, store_err_t rc, json_t *res)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    if (rc == STORE_ERR_NOT_FOUND) {
        api_problem(c, 404, "Not Found", "no work order %s", c->params[0]);
        return;
    }
    if (db_failed(c, rc)) return;
    api_json(c, 200, detail(res));
}

void api_workorders_get(api_call_t *c)
{
    int64_t id;
    if (!api_path_id(c, "work order", &id)) return;
    api_hold(c);
    store_workorder_get(c->api->d.store, id, got_one, c);
}

/* ------------------------------------------------- a change, step by step */

/* A change to a ticket: read it (and check who may change it), maybe look
 * up the new assignee, then write. */
typedef struct wo_change wo_change_t;
typedef void (*wo_step_fn)(wo_change_t *w);
struct wo_change {
    api_call_t *c;
    int64_t id;
    json_t *row; /* the ticket as read */
    wo_step_fn act;
    store_workorder_t upd;
    const char *expect;
    char *file_data; /* attachments: a copy of the body */
    size_t file_len;
    char file_name[FILE_NAME_MAX + 1], ctype[101], file[80], sha256[65], path[700];
    int io_err;
    uv_work_t work;
};

static void change_free(wo_change_t *w)
{
    json_decref(w->row);
    free(w->file_data);
    free(w);
}

/* Ends the change with an answer already given (or the client gone). */
static void change_end(wo_change_t *w)
{
    change_free(w);
}

static bool is_closed(const json_t *row)
{
    const char *st = json_string_value(json_object_get(row, "state"));
    return st && strcmp(st, "closed") == 0;
}

static void loaded(void *ctx, store_err_t rc, json_t *res)
{
    wo_change_t *w = ctx;
    api_call_t *c = w->c;
    if (!api_alive(c)) {
        change_end(w);
        return;
    }
    json_t *row = json_array_get(json_array_get(res, 0), 0);
    if (rc == STORE_ERR_NOT_FOUND || (rc == STORE_OK && !row)) {
        api_problem(c, 404, "Not Found", "no work order %s", c->params[0]);
        change_end(w);
        return;
    }
    if (db_failed(c, rc)) {
        change_end(w);
        return;
    }
    const char *assignee = json_string_value(json_object_get(row, "assignee"));
    if (c->role == ROLE_TECHNICIAN && (!assignee || strcmp(assignee, api_actor(c)) != 0)) {
        api_problem(c, 403, "Forbidden",
                    "work order %s is assigned to %s: a technician changes only their own",
                    c->params[0], assignee ? assignee : "nobody");
        change_end(w);
        return;
    }
    w->row = json_incref(row);
    w->act(w);
}

/* Reads the ticket, then runs act (the call is held). */
static void change_start(api_call_t *c, wo_step_fn act, wo_change_t *w)
{
    int64_t id;
    if (!api_path_id(c, "work order", &id)) {
        change_free(w);
        return;
    }
    w->c = c;
    w->id = id;
    w->act = act;
    api_hold(c);
    store_workorder_get(c->api->d.store, id, loaded, w);
}

static wo_change_t *change_new(void)
{
    return xcalloc(1, sizeof(wo_change_t));
}

/* After a write whose last result is the ticket's [row]: publish, audit,
 * answer with the ticket. */
static void written(wo_change_t *w, json_t *res, const char *action, int status)
{
    api_call_t *c = w->c;
    json_t *row = json_array_get(json_array_get(res, json_array_size(res) - 1), 0);
    workorders_server_emit(srv(c), "workorder.updated", row);
    json_t *before = workorders_row_json(w->row), *after = workorders_row_json(row);
    api_audit(c, action, "work_order", c->params[0], before, after);
    json_decref(before);
    api_json(c, status, after);
    change_end(w);
}

/* ------------------------------------------------------------ creating */

static void created(void *ctx, store_err_t rc, json_t *res)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    if (rc == STORE_ERR_CONFLICT) {
        api_problem(c, 409, "Conflict", "alert %lld has a work order already",
                    (long long)json_integer_value(json_object_get(c->body, "alert_id")));
        return;
    }
    if (db_failed(c, rc)) return;
    json_t *row = json_array_get(json_array_get(res, 1), 0);
    workorders_server_emit(srv(c), "workorder.created", row);
    json_t *item = workorders_row_json(row);
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(row, "id")));
    api_audit(c, "work_order.create", "work_order", id, NULL, item);
    api_json(c, 201, item);
}

typedef struct create_req {
    api_call_t *c;
    store_workorder_t w;
    char source[40];
} create_req_t;

static void create_write(create_req_t *r)
{
    r->w.at = time_now_ms();
    store_workorder_create(r->c->api->d.store, &r->w, created, r->c);
    free(r);
}

/* The assignee must be a technician's user name. */
static bool assignee_ok(api_call_t *c, store_err_t rc, json_t *res, const char *name)
{
    json_t *row = json_array_get(json_array_get(res, 0), 0);
    if (rc == STORE_ERR_NOT_FOUND || (rc == STORE_OK && !row)) {
        api_problem(c, 400, "Bad Request", "assignee '%.64s' is not a user", name);
        return false;
    }
    if (db_failed(c, rc)) return false;
    const char *role = json_string_value(json_object_get(row, "role"));
    if (!role || strcmp(role, "technician") != 0 ||
        json_integer_value(json_object_get(row, "disabled"))) {
        api_problem(c, 400, "Bad Request",
                    "assignee '%.64s' is not an enabled user with the technician role", name);
        return false;
    }
    return true;
}

static void create_assignee(void *ctx, store_err_t rc, json_t *res)
{
    create_req_t *r = ctx;
    if (!api_alive(r->c) || !assignee_ok(r->c, rc, res, r->w.assignee)) {
        free(r);
        return;
    }
    create_write(r);
}

/* "connector": {"evse_id": n, "connector_id": m} or null. */
static bool read_connector(api_call_t *c, int *evse, int *conn)
{
    json_t *v = json_object_get(c->body, "connector");
    *evse = *conn = -1;
    if (!v || json_is_null(v)) return true;
    json_t *e = json_object_get(v, "evse_id"), *k = json_object_get(v, "connector_id");
    if (!json_is_object(v) || json_object_size(v) > 2 || !json_is_integer(e) ||
        json_integer_value(e) < 1 || json_integer_value(e) > 1000 ||
        (k && (!json_is_integer(k) || json_integer_value(k) < 1 || json_integer_value(k) > 1000))) {
        api_problem(c, 400, "Bad Request",
                    "connector must be {\"evse_id\": 1..1000, \"connector_id\": 1..1000} or null");
        return false;
    }
    *evse = (int)json_integer_value(e);
    *conn = k ? (int)json_integer_value(k) : 1;
    return true;
}

void api_workorders_create(api_call_t *c)
{
    static const char *const allowed[] = {"title",    "description", "station_id", "connector",
                                          "priority", "assignee",    "alert_id",   NULL};
    if (!api_body_only(c, allowed)) return;
    create_req_t *r = xcalloc(1, sizeof *r);
    r->c = c;
    store_workorder_t *w = &r->w;
    w->priority = "normal";
    w->state = "open";
    w->source = "manual";
    w->by = api_actor(c);
    if (!json_object_get(c->body, "title")) {
        api_problem(c, 400, "Bad Request", "title is required (1 to %d characters)", TITLE_MAX);
        goto fail;
    }
    if (!api_body_str(c, "title", TITLE_MAX, false, &w->title) ||
        !api_body_str(c, "description", TEXT_MAX, true, &w->description) ||
        !api_body_str(c, "station_id", 64, true, &w->station_id) ||
        !api_body_str(c, "priority", 16, false, &w->priority) ||
        !api_body_str(c, "assignee", 64, true, &w->assignee) ||
        !read_connector(c, &w->evse_id, &w->connector_id))
        goto fail;
    if (workorders_priority_parse(w->priority) < 0) {
        api_problem(c, 400, "Bad Request", "priority must be urgent, high, normal or low");
        goto fail;
    }
    if (w->station_id && !csms_station_find(c->api->d.csms, w->station_id)) {
        api_problem(c, 400, "Bad Request", "no station %.64s", w->station_id);
        goto fail;
    }
    if (w->evse_id > 0 && !w->station_id) {
        api_problem(c, 400, "Bad Request", "a connector needs a station_id");
        goto fail;
    }
    json_t *al = json_object_get(c->body, "alert_id");
    if (al && !json_is_null(al)) {
        if (!json_is_integer(al) || json_integer_value(al) < 1) {
            api_problem(c, 400, "Bad Request",
                        "alert_id must be an alert's id (a positive integer)");
            goto fail;
        }
        w->alert_id = json_integer_value(al);
        snprintf(r->source, sizeof r->source, "alert:%lld", (long long)w->alert_id);
        w->source = r->source;
    }
    api_hold(c);
    if (w->assignee) {
        w->state = "assigned";
        store_user_get(c->api->d.store, w->assignee, create_assignee, r);
        return;
    }
    create_write(r);
    return;
fail:
    free(r);
}

/* ------------------------------------------------------------ changing */

static void patched(void *ctx, store_err_t rc, json_t *res)
{
    wo_change_t *w = ctx;
    api_call_t *c = w->c;
    if (!api_alive(c)) {
        change_end(w);
        return;
    }
    if (rc == STORE_ERR_NOT_FOUND) {
        api_problem(c, 409, "Conflict", "work order %s changed meanwhile; read it and retry",
                    c->params[0]);
        change_end(w);
        return;
    }
    if (db_failed(c, rc)) {
        change_end(w);
        return;
    }
    written(w, res, "work_order.update", 200);
}

static void patch_write(wo_change_t *w)
{
    w->upd.at = time_now_ms();
    store_workorder_update(w->c->api->d.store, w->id, w->expect, &w->upd, patched, w);
}

static void patch_assignee(void *ctx, store_err_t rc, json_t *res)
{
    wo_change_t *w = ctx;
    if (!api_alive(w->c)) {
        change_end(w);
        return;
    }
    if (!assignee_ok(w->c, rc, res, w->upd.assignee)) {
        change_end(w);
        return;
    }
    patch_write(w);
}

/* The merged state: the body over the ticket as it is. */
static bool patch_merge(wo_change_t *w)
{
    api_call_t *c = w->c;
    const json_t *row = w->row;
    store_workorder_t *u = &w->upd;
    u->title = json_string_value(json_object_get(row, "title"));
    u->description = json_string_value(json_object_get(row, "description"));
    u->priority = json_string_value(json_object_get(row, "priority"));
    u->state = w->expect = json_string_value(json_object_get(row, "state"));
    u->assignee = json_string_value(json_object_get(row, "assignee"));
    if (!api_body_str(c, "title", TITLE_MAX, false, &u->title) ||
        !api_body_str(c, "description", TEXT_MAX, true, &u->description) ||
        !api_body_str(c, "priority", 16, false, &u->priority) ||
        !api_body_str(c, "state", 32, false, &u->state) ||
        !api_body_str(c, "assignee", 64, true, &u->assignee))
        return false;
    if (workorders_priority_parse(u->priority) < 0) {
        api_problem(c, 400, "Bad Request", "priority must be urgent, high, normal or low");
        return false;
    }
    int to = workorders_state_parse(u->state), from = workorders_state_parse(w->expect);
    if (to < 0) {
        api_problem(c, 400, "Bad Request",
                    "state must be open, assigned, in_progress, waiting_for_parts, resolved or "
                    "closed");
        return false;
    }
    /* giving an open ticket to someone assigns it */
    if (!json_object_get(c->body, "state") && u->assignee && from == WO_OPEN) {
        to = WO_ASSIGNED;
        u->state = "assigned";
    }
    if (to != from && !workorders_transition_ok((wo_state_t)from, (wo_state_t)to)) {
        char next[160];
        workorders_next_states((wo_state_t)from, next, sizeof next);
        api_problem(c, 409, "Conflict",
                    "work order %s cannot go from %s to %s; from %s it may go to: %s", c->params[0],
                    w->expect, u->state, w->expect, next);
        return false;
    }
    if (to != WO_OPEN && to != WO_CLOSED && !u->assignee) {
        api_problem(c, 409, "Conflict", "work order %s needs an assignee to be %s", c->params[0],
                    u->state);
        return false;
    }
    return true;
}

static void patch_act(wo_change_t *w)
{
    api_call_t *c = w->c;
    if (c->role == ROLE_TECHNICIAN) {
        static const char *const tech[] = {"state", NULL};
        const char *k;
        json_t *v;
        json_object_foreach(c->body, k, v)
        {
            bool ok = false;
            for (const char *const *a = tech; *a; a++)
                ok |= strcmp(*a, k) == 0;
            if (!ok) {
                api_problem(c, 403, "Forbidden",
                            "a technician changes only the state of a work order, not %.64s", k);
                change_end(w);
                return;
            }
        }
    }
    if (!patch_merge(w)) {
        change_end(w);
        return;
    }
    const char *was = json_string_value(json_object_get(w->row, "assignee"));
    if (w->upd.assignee && (!was || strcmp(was, w->upd.assignee) != 0)) {
        store_user_get(c->api->d.store, w->upd.assignee, patch_assignee, w);
        return;
    }
    patch_write(w);
}

void api_workorders_patch(api_call_t *c)
{
    static const char *const allowed[] = {"title", "description", "priority",
                                          "state", "assignee",    NULL};
    if (!api_body_only(c, allowed)) return;
    if (json_object_size(c->body) == 0) {
        api_problem(c, 400, "Bad Request",
                    "send at least one of title, description, priority, state, assignee");
        return;
    }
    change_start(c, patch_act, change_new());
}

/* ------------------------------------------------- notes, time, parts */

static void appended(void *ctx, store_err_t rc, json_t *res)
{
    wo_change_t *w = ctx;
    api_call_t *c = w->c;
    if (!api_alive(c)) {
        change_end(w);
        return;
    }
    const char *action = c->route->fn == api_workorders_note   ? "work_order.note"
                         : c->route->fn == api_workorders_time ? "work_order.time"
                                                               : "work_order.attach";
    if (rc == STORE_ERR_NOT_FOUND) {
        api_problem(c, 404, "Not Found", "no work order %s", c->params[0]);
        change_end(w);
        return;
    }
    if (db_failed(c, rc)) {
        change_end(w);
        return;
    }
    written(w, res, action, 201);
}

static bool not_closed(wo_change_t *w)
{
    if (!is_closed(w->row)) return true;
    api_problem(w->c, 409, "Conflict", "work order %s is closed; reopen is not possible",
                w->c->params[0]);
    change_end(w);
    return false;
}

static void note_act(wo_change_t *w)
{
    if (!not_closed(w)) return;
    const char *text = json_string_value(json_object_get(w->c->body, "text"));
    store_workorder_note(w->c->api->d.store, w->id, api_actor(w->c), text, time_now_ms(), appended, w);
}

void api_workorders_note(api_call_t *c)
{
    static const char *const allowed[] = {"text", NULL};
    const char *text = NULL;
    if (!api_body_only(c, allowed) || !api_body_str(c, "text", TEXT_MAX, false, &text)) return;
    if (!text) {
        api_problem(c, 400, "Bad Request", "text is required (1 to %d characters)", TEXT_MAX);
        return;
    }
    change_start(c, note_act, change_new());
}

static void time_act(wo_change_t *w)
{
    if (!not_closed(w)) return;
    api_call_t *c = w->c;
    const char *note = json_string_value(json_object_get(c->body, "note"));
    store_workorder_time(c->api->d.store, w->id, api_actor(c),
                         json_integer_value(json_object_get(c->body, "minutes")), note,
                         time_now_ms(), appended, w);
}

void api_workorders_time(api_call_t *c)
{
    static const char *const allowed[] = {"minutes", "note", NULL};
    const char *note = NULL;
    if (!api_body_only(c, allowed) || !api_body_str(c, "note", TEXT_MAX, true, &note)) return;
    json_t *m = json_object_get(c->body, "minutes");
    if (!json_is_integer(m) || json_integer_value(m) < 1 || json_integer_value(m) > MINUTES_MAX) {
        api_problem(c, 400, "Bad Request", "minutes must be an integer from 1 to %d", MINUTES_MAX);
        return;
    }
    change_start(c, time_act, change_new());
}

static void part_used(void *ctx, store_err_t rc, json_t *res)
{
    wo_change_t *w = ctx;
    api_call_t *c = w->c;
    if (!api_alive(c)) {
        change_end(w);
        return;
    }
    long long part = json_integer_value(json_object_get(c->body, "part_id"));
    long long depot = json_integer_value(json_object_get(c->body, "depot_id"));
    if (rc == STORE_ERR_NOT_FOUND) {
        api_problem(c, 409, "Conflict", "depot %lld holds no stock of part %lld", depot, part);
        change_end(w);
        return;
    }
    if (rc == STORE_ERR_CONFLICT) {
        api_problem(c, 409, "Conflict",
                    "depot %lld has fewer than %lld of part %lld on hand; stock never goes below "
                    "zero (receive or correct it first)",
                    depot, (long long)json_integer_value(json_object_get(c->body, "quantity")),
                    part);
        change_end(w);
        return;
    }
    if (db_failed(c, rc)) {
        change_end(w);
        return;
    }
    workorders_server_stock_low(srv(c), json_array_get(res, 4));
    written(w, res, "work_order.use_part", 201);
}

static void part_act(wo_change_t *w)
{
    if (!not_closed(w)) return;
    api_call_t *c = w->c;
    store_workorder_use_part(c->api->d.store, w->id,
                             json_integer_value(json_object_get(c->body, "part_id")),
                             json_integer_value(json_object_get(c->body, "depot_id")),
                             json_integer_value(json_object_get(c->body, "quantity")), api_actor(c),
                             time_now_ms(), part_used, w);
}

void api_workorders_use_part(api_call_t *c)
{
    static const char *const allowed[] = {"part_id", "depot_id", "quantity", NULL};
    if (!api_body_only(c, allowed)) return;
    static const char *const ids[] = {"part_id", "depot_id"};
    for (int i = 0; i < 2; i++) {
        json_t *v = json_object_get(c->body, ids[i]);
        if (!json_is_integer(v) || json_integer_value(v) < 1) {
            api_problem(c, 400, "Bad Request", "%s is required (a positive integer)", ids[i]);
            return;
        }
    }
    json_t *q = json_object_get(c->body, "quantity");
    int64_t after, delta;
    if (!json_is_integer(q) ||
        workorders_stock_apply(WO_STOCK_USE, WORKORDERS_MAX_QUANTITY, json_integer_value(q), &after,
                               &delta) == WO_STOCK_BAD_QUANTITY) {
        api_problem(c, 400, "Bad Request", "quantity must be an integer from 1 to %lld",
                    WORKORDERS_MAX_QUANTITY);
        return;
    }
    change_start(c, part_act, change_new());
}

/* --------------------------------------------------------- attachments */

/* A name to show and to offer on download: printable, no path. */
static bool file_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > FILE_NAME_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0) return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\' || *p == '"') return false;
    json_t *utf8 = json_string(s); /* NULL unless valid UTF-8 */
    bool ok = utf8 != NULL;
    json_decref(utf8);
    return ok;
}

/* "type/subtype", token characters only; parameters are dropped. */
static bool content_type_ok(const char *ct, char *out, size_t len)
{
    size_t n = strcspn(ct, ";");
    while (n && ct[n - 1] == ' ')
        n--;
    if (n == 0 || n >= len) return false;
    int slashes = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = ct[i];
        if (ch == '/') {
            if (++slashes > 1 || i == 0 || i == n - 1) return false;
            continue;
        }
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              strchr("!#$&^_.+-", ch)))
            return false;
    }
    if (slashes != 1) return false;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)(ct[i] >= 'A' && ct[i] <= 'Z' ? ct[i] + 32 : ct[i]);
    out[n] = '\0';
    return true;
}

/* On a worker thread: the file, durable under its final name. */
static void write_work(uv_work_t *req)
{
    wo_change_t *w = req->data;
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)w->file_data, w->file_len);
    sodium_bin2hex(w->sha256, sizeof w->sha256, h, sizeof h);
    char tmp[720];
    snprintf(tmp, sizeof tmp, "%s.tmp", w->path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        w->io_err = errno;
        return;
    }
    size_t off = 0;
    while (off < w->file_len) {
        ssize_t k = write(fd, w->file_data + off, w->file_len - off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            w->io_err = errno ? errno : EIO;
            goto fail;
        }
        off += (size_t)k;
    }
    if (fsync(fd) != 0) {
        w->io_err = errno;
        goto fail;
    }
    close(fd);
    fd = -1;
    if (rename(tmp, w->path) != 0) {
        w->io_err = errno;
        goto fail;
    }
    return;
fail:
    if (fd >= 0) close(fd);
    unlink(tmp);
}

static void attached(void *ctx, store_err_t rc, json_t *res)
{
    wo_change_t *w = ctx;
    api_call_t *c = w->c;
    if (rc != STORE_OK) unlink(w->path); /* no row: the file is nobody's */
    if (!api_alive(c)) {
        change_end(w);
        return;
    }
    if (rc == STORE_ERR_NOT_FOUND) {
        api_problem(c, 404, "Not Found", "no work order %s", c->params[0]);
        change_end(w);
        return;
    }
    if (db_failed(c, rc)) {
        change_end(w);
        return;
    }
    json_t *row = json_array_get(json_array_get(res, 3), 0);
    workorders_server_emit(srv(c), "workorder.updated", row);
    static const char *const keys[] = {"at", NULL};
    json_t *att = json_deep_copy(json_array_get(json_array_get(res, 2), 0));
    api_json_times(att, keys);
    api_audit(c, "work_order.attach", "work_order", c->params[0], NULL, att);
    api_json(c, 201, att);
    change_end(w);
}

static void write_done(uv_work_t *req, int status)
{
    wo_change_t *w = req->data;
    api_call_t *c = w->c;
    if (status != 0 || w->io_err) {
        if (api_alive(c))
            api_problem(c, 503, "Service Unavailable", "the file could not be stored: %s",
                        strerror(status ? ECANCELED : w->io_err));
        change_end(w);
        return;
    }
    store_attachment_t a = {.name = w->file_name,
                            .content_type = w->ctype,
                            .file = w->file,
                            .sha256 = w->sha256,
                            .by = api_actor(c),
                            .size = (int64_t)w->file_len,
                            .at = time_now_ms()};
    /* the call may have gone: the row still lands (the file is there) */
    store_workorder_attach(c->api->d.store, w->id, &a, attached, w);
}

static void attach_act(wo_change_t *w)
{
    if (!not_closed(w)) return;
    api_call_t *c = w->c;
    char rnd[33];
    password_random_hex(16, rnd);
    snprintf(w->file, sizeof w->file, "%lld-%s", (long long)w->id, rnd);
    snprintf(w->path, sizeof w->path, "%s/%s", workorders_server_attachments_dir(srv(c)), w->file);
    w->work.data = w;
    uv_queue_work(c->api->loop, &w->work, write_work, write_done);
}

void api_workorders_attach(api_call_t *c)
{
    const char *name = api_query(c, "name");
    const char *ct = net_req_header(c->req, "content-type");
    size_t len = 0;
    const char *body = net_req_body(c->req, &len);
    if (!srv(c)) {
        api_problem(c, 503, "Service Unavailable", "work orders are not running");
        return;
    }
    int max = workorders_server_config(srv(c))->max_attachment;
    wo_change_t *w = change_new();
    if (!name || !file_name_ok(name)) {
        api_problem(c, 400, "Bad Request",
                    "?name= is required: the file's name, 1 to %d characters, no / \\ \" or "
                    "control characters",
                    FILE_NAME_MAX);
        goto fail;
    }
    if (!ct || !content_type_ok(ct, w->ctype, sizeof w->ctype)) {
        api_problem(c, 400, "Bad Request",
                    "send the file as the body with its Content-Type (e.g. image/jpeg)");
        goto fail;
    }
    if (len == 0) {
        api_problem(c, 400, "Bad Request", "the file is empty: send it as the request body");
        goto fail;
    }
    if (len > (size_t)max) {
        api_problem(c, 413, "Payload Too Large",
                    "the file is %zu bytes; at most %d are accepted ([workorders] "
                    "max_attachment)",
                    len, max);
        goto fail;
    }
    snprintf(w->file_name, sizeof w->file_name, "%s", name);
    w->file_data = xmalloc(len);
    memcpy(w->file_data, body, len);
    w->file_len = len;
    change_start(c, attach_act, w);
    return;
fail:
    change_free(w);
}

/* A download: the row, then the file read by a worker thread. */
typedef struct download {
    api_call_t *c;
    json_t *row;
    char path[700];
    char *data;
    size_t len;
    int io_err;
    uv_work_t work;
} download_t;

static void read_work(uv_work_t *req)
{
    download_t *d = req->data;
    int fd = open(d->path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        d->io_err = errno;
        if (fd >= 0) close(fd);
        return;
    }
    d->data = xmalloc((size_t)st.st_size + 1);
    size_t off = 0;
    while (off < (size_t)st.st_size) {
        ssize_t k = read(fd, d->data + off, (size_t)st.st_size - off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        off += (size_t)k;
    }
    d->len = off;
    close(fd);
}

static void read_done(uv_work_t *req, int status)
{
    download_t *d = req->data;
    api_call_t *c = d->c;
    if (!api_alive(c)) goto done;
    if (status != 0 || d->io_err) {
        api_problem(c, 503, "Service Unavailable", "the file could not be read: %s",
                    strerror(status ? ECANCELED : d->io_err));
        goto done;
    }
    /* offer it under a plain name: letters, digits, . - _ */
    char safe[FILE_NAME_MAX + 1];
    const char *name = json_string_value(json_object_get(d->row, "name"));
    size_t i = 0;
    for (; name && name[i] && i < FILE_NAME_MAX; i++) {
        char ch = name[i];
        safe[i] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                          (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_'
                      ? ch
                      : '_';
    }
    safe[i] = '\0';
    char hdr[400];
    snprintf(hdr, sizeof hdr,
             "Content-Disposition: attachment; filename=\"%s\"\r\nX-Content-Type-Options: "
             "nosniff\r\nContent-Security-Policy: sandbox\r\nCache-Control: private, no-store\r\n",
             safe[0] ? safe : "attachment");
    if (c->req)
        net_req_respond(c->req, 200, json_string_value(json_object_get(d->row, "content_type")),
                        d->data ? d->data : "", d->len, hdr);
    api_call_free(c);
done:
    json_decref(d->row);
    free(d->data);
    free(d);
}

static void attachment_row(void *ctx, store_err_t rc, json_t *res)
{
    download_t *d = ctx;
    api_call_t *c = d->c;
    if (!api_alive(c)) {
        free(d);
        return;
    }
    json_t *row = json_array_get(json_array_get(res, 0), 0);
    if (rc == STORE_ERR_NOT_FOUND || (rc == STORE_OK && !row)) {
        api_problem(c, 404, "Not Found", "work order %s has no attachment %s", c->params[0],
                    c->params[1]);
        free(d);
        return;
    }
    if (db_failed(c, rc)) {
        free(d);
        return;
    }
    d->row = json_incref(row);
    snprintf(d->path, sizeof d->path, "%s/%s", workorders_server_attachments_dir(srv(c)),
             json_string_value(json_object_get(row, "file")));
    d->work.data = d;
    uv_queue_work(c->api->loop, &d->work, read_work, read_done);
}

void api_workorders_attachment(api_call_t *c)
{
    int64_t id, aid;
    if (!api_path_id(c, "work order", &id)) return;
    if (!api_parse_id(c->params[1], &aid)) {
        api_problem(c, 404, "Not Found", "work order %s has no attachment %.64s", c->params[0],
                    c->params[1]);
        return;
    }
    download_t *d = xcalloc(1, sizeof *d);
    d->c = c;
    api_hold(c);
    store_workorder_attachment(c->api->d.store, id, aid, attachment_row, d);
}
