/*
 * The audit log: every change made through the API or the dashboard, with who
 * made it, from where, what it touched, and the resource before and after.
 *
 * A handler marks its call with api_audit(); when the handler answers with a
 * 2xx the entry is queued to the store and the answer waits for its commit,
 * so a client never sees a success the audit log does not hold. Entries are
 * only ever inserted: the API can list them, never change them.
 */
#include "api/api_internal.h"
#include "api/lists.h"

#include "store/store_accounts.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/timefmt.h"

#include <stdlib.h>
#include <string.h>

struct api_audit_entry {
    char *action, *target_type, *target_id;
    json_t *before, *after;
    /* the answer, held until the entry is durable */
    int status;
    char *ctype, *body, *extra;
    size_t len;
};

void api_audit_free(api_audit_entry_t *e)
{
    if (!e) return;
    free(e->action);
    free(e->target_type);
    free(e->target_id);
    json_decref(e->before);
    json_decref(e->after);
    free(e->ctype);
    free(e->body);
    free(e->extra);
    free(e);
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

void api_audit(api_call_t *c, const char *action, const char *target_type,
               const char *target_id, const json_t *before, const json_t *after)
{
    api_audit_free(c->audit);
    api_audit_entry_t *e = xcalloc(1, sizeof *e);
    e->action = xstrdup(action);
    e->target_type = dup_or_null(target_type);
    e->target_id = dup_or_null(target_id);
    e->before = before ? json_deep_copy(before) : NULL;
    e->after = after ? json_deep_copy(after) : NULL;
    c->audit = e;
}

static void stored(void *ctx, store_err_t rc, json_t *res)
{
    (void)res;
    api_call_t *c = ctx;
    api_audit_entry_t *e = c->audit;
    if (rc != STORE_OK)
        log_error("audit entry not stored", "action=%s actor=%s", e->action, c->token_name);
    if (!api_alive(c)) return;
    net_req_respond(c->req, e->status, e->ctype, e->body, e->len, e->extra);
    api_call_free(c);
}

bool api_audit_respond(api_call_t *c, int status, const char *ctype, const char *body,
                       size_t len, const char *extra)
{
    api_audit_entry_t *e = c->audit;
    if (!e || !c->req || status < 200 || status > 299) return false;
    e->status = status;
    e->ctype = xstrdup(ctype);
    e->body = xmalloc(len + 1);
    memcpy(e->body, body, len);
    e->body[len] = '\0';
    e->len = len;
    e->extra = dup_or_null(extra);
    store_audit_t a = {
        .at = time_now_ms(),
        .actor = api_actor(c),
        .actor_kind = c->actor_kind ? c->actor_kind : "anonymous",
        .role = c->actor_kind ? api_role_name(c->role) : NULL,
        .ip = net_req_peer(c->req),
        .method = net_req_method(c->req),
        .path = net_req_path(c->req),
        .action = e->action,
        .target_type = e->target_type,
        .target_id = e->target_id,
        .status = status,
        .before = e->before,
        .after = e->after,
    };
    api_hold(c);
    store_audit_insert(c->api->d.store, &a, stored, c);
    return true;
}

/* ------------------------------------------------------------- listing */

static const api_sort_field_t audit_sorts[] = {
    {"id", false, NULL},
    {"at", false, NULL},
    {NULL, false, NULL},
};
static const api_list_t audit_list = {audit_sorts, "-id", false, 50, 500};

/* A stored row as the API shows it: times in RFC 3339, before/after as JSON. */
static json_t *audit_item(json_t *o)
{
    static const char *const times[] = {"at", NULL};
    api_json_times(o, times);
    for (const char *const *k = (const char *const[]){"before", "after", NULL}; *k; k++) {
        const char *txt = json_string_value(json_object_get(o, *k));
        json_t *v = txt ? json_loads(txt, JSON_DECODE_ANY, NULL) : NULL;
        json_object_set_new(o, *k, v ? v : json_null());
    }
    return json_incref(o);
}

void api_audit_list(api_call_t *c)
{
    store_audit_filter_t f = {0};
    if (!api_query_time(c, "from", &f.from) || !api_query_time(c, "to", &f.to)) return;
    f.actor = api_query(c, "actor");
    f.action = api_query(c, "action");
    f.target_type = api_query(c, "target_type");
    f.target_id = api_query(c, "target_id");
    api_page_t page;
    if (!api_page_read(c, &audit_list, &page)) return;
    store_page_t sp = api_page_store(&page);
    f.page = &sp;
    f.limit = sp.limit;
    store_audit_list(c->api->d.store, &f, api_page_done, api_page_hold(c, &page, audit_item));
}
