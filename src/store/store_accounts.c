/*
 * Users, login sessions, API tokens and the audit log (see store_accounts.h),
 * on the generic SQL operation of store_sql.c.
 */
#include "store/store_accounts.h"

#include "store/store_page.h"
#include "store/store_sql.h"
#include "util/strbuf.h"
#include "util/timefmt.h"

#include <string.h>

#define USER_COLS "id,username,password_hash,role,disabled,created_at,updated_at,last_login_at"
#define TOKEN_COLS "id,name,role,created_at,expires_at,revoked_at,last_used_at,created_by"

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* ---------------------------------------------------------------- users */

/* Someone who never logged in sorts before every login time. */
static const store_sort_t user_sorts[] = {
    {"username", "username", false, false},
    {"created_at", "created_at", false, false},
    {"last_login_at", "last_login_at", true, false},
    {NULL, NULL, false, false},
};
static const store_list_t user_list = {USER_COLS, "users", "id", user_sorts, NULL};

void store_users_list(store_t *s, const store_page_t *p, store_json_cb cb, void *ctx)
{
    store_page_query(s, &user_list, NULL, NULL, p, cb, ctx);
}

void store_user_get(store_t *s, const char *username, store_json_cb cb, void *ctx)
{
    store_sql1(s, "SELECT " USER_COLS " FROM users WHERE username=?1",
               json_pack("[s]", username), STORE_SQL_REQUIRE_ROW, cb, ctx);
}

void store_user_create(store_t *s, const char *username, const char *hash, const char *role,
                       store_json_cb cb, void *ctx)
{
    int64_t now = time_now_ms();
    store_sql_step_t steps[] = {
        {"INSERT INTO users(username,password_hash,role,created_at,updated_at)"
         " VALUES(?1,?2,?3,?4,?4)",
         json_pack("[s,s,s,I]", username, hash, role, (json_int_t)now), 0},
        {"SELECT " USER_COLS " FROM users WHERE username=?1", json_pack("[s]", username),
         STORE_SQL_REQUIRE_ROW},
    };
    store_sql(s, steps, 2, cb, ctx);
}

void store_user_update(store_t *s, const char *username, const char *role, const char *hash,
                       int disabled, store_json_cb cb, void *ctx)
{
    json_t *dis = disabled < 0 ? json_null() : json_integer(disabled);
    store_sql_step_t steps[] = {
        {"UPDATE users SET role=COALESCE(?2,role),password_hash=COALESCE(?3,password_hash),"
         "disabled=COALESCE(?4,disabled),updated_at=?5 WHERE username=?1",
         json_pack("[s,o,o,o,I]", username, str_or_null(role), str_or_null(hash), dis,
                   (json_int_t)time_now_ms()),
         STORE_SQL_REQUIRE_ROW},
        {"DELETE FROM user_sessions WHERE (?2 IS NOT NULL OR ?3=1) AND user_id="
         "(SELECT id FROM users WHERE username=?1)",
         json_pack("[s,o,i]", username, str_or_null(hash), disabled), 0},
        {"SELECT " USER_COLS " FROM users WHERE username=?1", json_pack("[s]", username),
         STORE_SQL_REQUIRE_ROW},
    };
    store_sql(s, steps, 3, cb, ctx);
}

void store_user_delete(store_t *s, const char *username, store_json_cb cb, void *ctx)
{
    store_sql_step_t steps[] = {
        {"SELECT " USER_COLS " FROM users WHERE username=?1", json_pack("[s]", username),
         STORE_SQL_REQUIRE_ROW},
        {"DELETE FROM user_sessions WHERE user_id=(SELECT id FROM users WHERE username=?1)",
         json_pack("[s]", username), 0},
        {"DELETE FROM users WHERE username=?1", json_pack("[s]", username), 0},
    };
    store_sql(s, steps, 3, cb, ctx);
}

int store_user_count_sync(store_t *s)
{
    json_t *rows = NULL;
    if (store_sql_sync(s, "SELECT count(*) AS n FROM users", NULL, &rows) != 0) return -1;
    int n = (int)json_integer_value(json_object_get(json_array_get(rows, 0), "n"));
    json_decref(rows);
    return n;
}

int store_user_create_sync(store_t *s, const char *username, const char *hash, const char *role)
{
    int64_t now = time_now_ms();
    return store_sql_sync(s,
                          "INSERT INTO users(username,password_hash,role,created_at,updated_at)"
                          " VALUES(?1,?2,?3,?4,?4)",
                          json_pack("[s,s,s,I]", username, hash, role, (json_int_t)now), NULL);
}

/* ------------------------------------------------------------- sessions */

void store_session_create(store_t *s, const char *digest, int64_t user_id, const char *csrf,
                          const char *ip, int64_t expires_at, store_json_cb cb, void *ctx)
{
    json_int_t now = time_now_ms();
    store_sql_step_t steps[] = {
        {"DELETE FROM user_sessions WHERE expires_at<?1", json_pack("[I]", now), 0},
        {"INSERT INTO user_sessions(digest,user_id,csrf,ip,created_at,expires_at,last_seen_at)"
         " VALUES(?1,?2,?3,?4,?5,?6,?5)",
         json_pack("[s,I,s,o,I,I]", digest, (json_int_t)user_id, csrf, str_or_null(ip), now,
                   (json_int_t)expires_at),
         0},
        {"UPDATE users SET last_login_at=?2 WHERE id=?1",
         json_pack("[I,I]", (json_int_t)user_id, now), 0},
    };
    store_sql(s, steps, 3, cb, ctx);
}

void store_session_lookup(store_t *s, const char *digest, store_json_cb cb, void *ctx)
{
    store_sql1(s,
               "SELECT u.id AS user_id,u.username,u.role,u.disabled,x.csrf,x.created_at,"
               "x.expires_at,x.last_seen_at FROM user_sessions x JOIN users u ON u.id=x.user_id"
               " WHERE x.digest=?1",
               json_pack("[s]", digest), STORE_SQL_REQUIRE_ROW, cb, ctx);
}

void store_session_delete(store_t *s, const char *digest, store_json_cb cb, void *ctx)
{
    store_sql1(s, "DELETE FROM user_sessions WHERE digest=?1", json_pack("[s]", digest), 0, cb,
               ctx);
}

void store_session_touch(store_t *s, const char *digest, int64_t at)
{
    store_sql1(s, "UPDATE user_sessions SET last_seen_at=?2 WHERE digest=?1",
               json_pack("[s,I]", digest, (json_int_t)at), 0, NULL, NULL);
}

/* ----------------------------------------------------------- API tokens */

/* A token that never expires sorts after every expiry; one never used,
 * before every use. */
static const store_sort_t token_sorts[] = {
    {"id", "id", false, false},
    {"name", "name", false, false},
    {"created_at", "created_at", false, false},
    {"expires_at", "expires_at", true, true},
    {"last_used_at", "last_used_at", true, false},
    {NULL, NULL, false, false},
};
static const store_list_t token_list = {TOKEN_COLS, "api_tokens", "id", token_sorts, NULL};

void store_api_tokens_list(store_t *s, const store_page_t *p, store_json_cb cb, void *ctx)
{
    store_page_query(s, &token_list, NULL, NULL, p, cb, ctx);
}

void store_api_token_create(store_t *s, const char *name, const char *role, const char *digest,
                            int64_t expires_at, const char *created_by, store_json_cb cb,
                            void *ctx)
{
    json_t *exp = expires_at ? json_integer(expires_at) : json_null();
    store_sql_step_t steps[] = {
        {"INSERT INTO api_tokens(name,role,token_hash,created_at,expires_at,created_by)"
         " VALUES(?1,?2,?3,?4,?5,?6)",
         json_pack("[s,s,s,I,o,o]", name, role, digest, (json_int_t)time_now_ms(), exp,
                   str_or_null(created_by)),
         0},
        {"SELECT " TOKEN_COLS " FROM api_tokens WHERE token_hash=?1", json_pack("[s]", digest),
         STORE_SQL_REQUIRE_ROW},
    };
    store_sql(s, steps, 2, cb, ctx);
}

void store_api_token_revoke(store_t *s, int64_t id, store_json_cb cb, void *ctx)
{
    store_sql_step_t steps[] = {
        {"UPDATE api_tokens SET revoked=1,revoked_at=COALESCE(revoked_at,?2) WHERE id=?1",
         json_pack("[I,I]", (json_int_t)id, (json_int_t)time_now_ms()), STORE_SQL_REQUIRE_ROW},
        {"SELECT " TOKEN_COLS ",token_hash FROM api_tokens WHERE id=?1",
         json_pack("[I]", (json_int_t)id), STORE_SQL_REQUIRE_ROW},
    };
    store_sql(s, steps, 2, cb, ctx);
}

void store_api_token_used(store_t *s, const char *digest, int64_t at)
{
    store_sql1(s, "UPDATE api_tokens SET last_used_at=?2 WHERE token_hash=?1",
               json_pack("[s,I]", digest, (json_int_t)at), 0, NULL, NULL);
}

/* ------------------------------------------------------------ audit log */

static json_t *json_text_or_null(const json_t *v)
{
    if (!v) return json_null();
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    json_t *r = s ? json_string(s) : json_null();
    free(s);
    return r;
}

void store_audit_insert(store_t *s, const store_audit_t *a, store_json_cb cb, void *ctx)
{
    json_t *p = json_pack("[I,s,s,o,o,o,o,s,o,o,i,o,o]", (json_int_t)a->at, a->actor,
                          a->actor_kind, str_or_null(a->role), str_or_null(a->ip),
                          str_or_null(a->method), str_or_null(a->path), a->action,
                          str_or_null(a->target_type), str_or_null(a->target_id), a->status,
                          json_text_or_null(a->before), json_text_or_null(a->after));
    store_sql1(s,
               "INSERT INTO audit_log(at,actor,actor_kind,role,ip,method,path,action,target_type,"
               "target_id,status,before,after) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)",
               p, 0, cb, ctx);
}

static const store_sort_t audit_sorts[] = {
    {"id", "id", false, false},
    {"at", "at", false, false},
    {NULL, NULL, false, false},
};
static const store_list_t audit_list = {
    "id,at,actor,actor_kind,role,ip,method,path,action,target_type,target_id,status,before,after",
    "audit_log", "id", audit_sorts, NULL};

void store_audit_list(store_t *s, const store_audit_filter_t *f, store_json_cb cb, void *ctx)
{
    /* a trailing '*' in the action filter is a prefix match */
    json_t *action = json_null();
    if (f->action) {
        size_t n = strlen(f->action);
        if (n && f->action[n - 1] == '*') action = json_sprintf("%.*s%%", (int)n - 1, f->action);
        else action = json_string(f->action);
    }
    /* only the filters that are set, so the planner can use the index that
     * fits them (parameter numbers stay fixed) */
    strbuf_t w = {0};
    strbuf_printf(&w, "1");
    if (f->from) strbuf_printf(&w, " AND at>=?1");
    if (f->to) strbuf_printf(&w, " AND at<?2");
    if (f->actor) strbuf_printf(&w, " AND actor=?3");
    if (f->action) strbuf_printf(&w, " AND action LIKE ?4 ESCAPE '\\'");
    if (f->target_type) strbuf_printf(&w, " AND target_type=?5");
    if (f->target_id) strbuf_printf(&w, " AND target_id=?6");
    json_t *p = json_pack("[I,I,o,o,o,o]", (json_int_t)f->from, (json_int_t)f->to,
                          str_or_null(f->actor), action, str_or_null(f->target_type),
                          str_or_null(f->target_id));
    store_page_t page = {.sort = "id", .desc = true}; /* newest first, after before_id */
    json_t *before = NULL;
    if (f->page) {
        page = *f->page;
    } else if (f->before_id > 0) {
        before = json_integer(f->before_id);
        page.after_key = page.after_id = before;
    }
    page.limit = f->limit;
    store_page_query(s, &audit_list, w.data, p, &page, cb, ctx);
    json_decref(before);
    strbuf_free(&w);
}
