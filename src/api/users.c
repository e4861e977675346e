/*
 * People and programs that use the API: dashboard users with passwords and
 * login sessions (cookie + CSRF token), and API tokens. Admins manage both.
 *
 * User passwords are argon2id at interactive strength (tens of
 * milliseconds), so hashing and verification run on libuv's thread pool,
 * never on the event loop. Failed logins are limited per client address.
 */
#include "api/api_internal.h"
#include "api/lists.h"

#include "store/store_accounts.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/password.h"
#include "util/timefmt.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOGIN_FAIL_BURST 10      /* failed logins allowed at once per address */
#define LOGIN_FAIL_REFILL_MS 6000 /* then one more every 6 s */

static const char *const user_times[] = {"created_at", "updated_at", "last_login_at", NULL};
static const char *const token_times[] = {"created_at", "expires_at", "revoked_at",
                                          "last_used_at", NULL};

/* ----------------------------------------------------------- helpers */

static bool need_str(api_call_t *c, const char *key, const char **out, bool required)
{
    json_t *v = json_object_get(c->body, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (!required) return true;
        api_problem(c, 400, "Bad Request", "%s is required", key);
        return false;
    }
    if (!json_is_string(v)) {
        api_problem(c, 400, "Bad Request", "%s must be a string", key);
        return false;
    }
    *out = json_string_value(v);
    return true;
}

static bool only(api_call_t *c, const char *const *keys)
{
    const char *k;
    json_t *v;
    json_object_foreach(c->body, k, v) {
        bool ok = false;
        for (const char *const *a = keys; *a; a++) ok = ok || strcmp(*a, k) == 0;
        if (!ok) {
            api_problem(c, 400, "Bad Request", "unknown field '%.64s'", k);
            return false;
        }
    }
    return true;
}

static bool valid_username(const char *u)
{
    size_t n = strlen(u);
    if (n < 1 || n > 64) return false;
    for (const char *p = u; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr("._@-", *p)))
            return false;
    return true;
}

static bool check_password(api_call_t *c, const char *pw, const char *username)
{
    size_t n = strlen(pw);
    if (n < 10 || n > 256) {
        api_problem(c, 400, "Bad Request", "a password must be 10 to 256 characters long");
        return false;
    }
    if (username && strcmp(pw, username) == 0) {
        api_problem(c, 400, "Bad Request", "the password must not be the username");
        return false;
    }
    return true;
}

static bool check_role(api_call_t *c, const char *role)
{
    if (api_role_parse(role) != ROLE_NONE) return true;
    api_problem(c, 400, "Bad Request",
                "role must be admin, operator, technician, viewer or integration");
    return false;
}

static json_t *user_json(const json_t *row)
{
    json_t *o = json_pack("{s:O,s:O,s:b,s:O,s:O,s:O}", "username",
                          json_object_get(row, "username"), "role", json_object_get(row, "role"),
                          "disabled", json_integer_value(json_object_get(row, "disabled")) != 0,
                          "created_at", json_object_get(row, "created_at"), "updated_at",
                          json_object_get(row, "updated_at"), "last_login_at",
                          json_object_get(row, "last_login_at"));
    api_json_times(o, user_times);
    return o;
}

static json_t *token_json(const json_t *row)
{
    json_t *o = json_deep_copy(row);
    json_object_del(o, "token_hash");
    int64_t exp = json_integer_value(json_object_get(o, "expires_at"));
    bool active = json_is_null(json_object_get(o, "revoked_at")) &&
                  (exp == 0 || exp > time_now_ms());
    json_object_set_new(o, "active", json_boolean(active));
    api_json_times(o, token_times);
    return o;
}

/* The first row of a one-step result, or of step i. */
static json_t *row_of(json_t *res, size_t step)
{
    return json_array_get(json_array_get(res, step), 0);
}

static void store_failed(api_call_t *c, store_err_t rc, const char *what)
{
    if (rc == STORE_ERR_NOT_FOUND) api_problem(c, 404, "Not Found", "%s", what);
    else if (rc == STORE_ERR_CONFLICT) api_problem(c, 409, "Conflict", "%s", what);
    else api_csms_error(c, CSMS_ERR_STORE, NULL);
}

/* False (after answering) when the store failed or found no such thing. */
static bool found(api_call_t *c, store_err_t rc, const char *what)
{
    if (rc == STORE_OK) return true;
    char msg[320];
    snprintf(msg, sizeof msg, "no %s %s", what, c->params[0]);
    store_failed(c, rc, msg);
    return false;
}

/* ----------------------------------------------------- password work */

/* argon2id on the thread pool. */
typedef struct pw_work {
    uv_work_t w;
    api_call_t *call;
    char *pw;
    char hash[PASSWORD_HASH_MAX];
    bool verify, ok;
    void (*then)(struct pw_work *);
    json_t *row;          /* the user row being worked on */
    char *s1, *s2;        /* handler strings that outlive the request body */
} pw_work_t;

static void pw_run(uv_work_t *w)
{
    pw_work_t *p = w->data;
    if (p->verify) {
        p->ok = password_verify(p->hash, p->pw);
    } else {
        p->ok = password_hash(p->pw, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE, p->hash) == 0;
    }
}

static void pw_free(pw_work_t *p)
{
    sodium_memzero(p->pw, strlen(p->pw));
    free(p->pw);
    json_decref(p->row);
    free(p->s1);
    free(p->s2);
    free(p);
}

static void pw_after(uv_work_t *w, int status)
{
    pw_work_t *p = w->data;
    if (status != 0) p->ok = false;
    if (api_alive(p->call)) p->then(p);
    pw_free(p);
}

static pw_work_t *pw_start(api_call_t *c, const char *pw, const char *hash,
                           void (*then)(pw_work_t *))
{
    pw_work_t *p = xcalloc(1, sizeof *p);
    p->w.data = p;
    p->call = c;
    p->pw = xstrdup(pw);
    p->verify = hash != NULL;
    if (hash) snprintf(p->hash, sizeof p->hash, "%s", hash);
    p->then = then;
    api_hold(c);
    return p;
}

static void pw_queue(pw_work_t *p)
{
    uv_queue_work(p->call->api->loop, &p->w, pw_run, pw_after);
}

/* A hash nobody's password matches, so unknown users cost a verification too. */
static const char *dummy_hash(void)
{
    static char h[PASSWORD_HASH_MAX];
    if (!h[0]) {
        char pw[33];
        password_random_hex(16, pw);
        password_hash(pw, crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                      h);
    }
    return h;
}

/* ------------------------------------------------------------- login */

static api_bucket_t *login_bucket(api_call_t *c, bool create)
{
    api_t *a = c->api;
    char key[80];
    snprintf(key, sizeof key, "l:%s", net_req_peer(c->req));
    api_bucket_t *b = NULL;
    HASH_FIND_STR(a->buckets, key, b);
    int64_t now = time_now_ms();
    if (!b && create) {
        b = xcalloc(1, sizeof *b);
        snprintf(b->key, sizeof b->key, "%s", key);
        b->tokens = LOGIN_FAIL_BURST;
        b->at_ms = now;
        HASH_ADD_STR(a->buckets, key, b);
    }
    if (b) {
        b->tokens += (double)(now - b->at_ms) / LOGIN_FAIL_REFILL_MS;
        if (b->tokens > LOGIN_FAIL_BURST) b->tokens = LOGIN_FAIL_BURST;
        b->at_ms = now;
    }
    return b;
}

static void login_failed(api_call_t *c)
{
    api_bucket_t *b = login_bucket(c, true);
    b->tokens -= 1.0;
    log_warn("dashboard login failed", "peer=%s", net_req_peer(c->req));
    api_problem(c, 401, "Unauthorized", "the username or password is wrong");
}

static void session_stored(void *ctx, store_err_t rc, json_t *res)
{
    (void)res;
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    json_t *b = c->body; /* {"user":..., "csrf_token":..., "cookie":...} */
    if (rc != STORE_OK) {
        api_csms_error(c, CSMS_ERR_STORE, "the login could not be stored; retry");
        return;
    }
    char hdr[400];
    snprintf(hdr, sizeof hdr,
             "Set-Cookie: " API_SESSION_COOKIE "=%s; Path=/; Max-Age=%d; HttpOnly; "
             "SameSite=Strict%s\r\nCache-Control: no-store\r\n",
             json_string_value(json_object_get(b, "cookie")), c->api->d.session_lifetime,
             c->api->d.cookie_secure ? "; Secure" : "");
    json_t *out = json_pack("{s:O,s:O}", "user", json_object_get(b, "user"), "csrf_token",
                            json_object_get(b, "csrf_token"));
    /* the audit entry names the user who logged in */
    snprintf(c->token_name, sizeof c->token_name, "%s",
             json_string_value(json_object_get(json_object_get(b, "user"), "username")));
    c->actor_kind = "user";
    c->role = api_role_parse(
        json_string_value(json_object_get(json_object_get(b, "user"), "role")));
    api_audit(c, "auth.login", "user", c->token_name, NULL, NULL);
    char *s = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    if (!api_audit_respond(c, 200, "application/json", s, strlen(s), hdr)) {
        net_req_respond(c->req, 200, "application/json", s, strlen(s), hdr);
        api_call_free(c);
    }
    free(s);
}

static void login_verified(pw_work_t *p)
{
    api_call_t *c = p->call;
    if (!p->ok || !p->row || json_integer_value(json_object_get(p->row, "disabled"))) {
        login_failed(c);
        return;
    }
    char cookie[65], csrf[33], digest[65];
    password_random_hex(32, cookie);
    password_random_hex(16, csrf);
    password_token_digest(cookie, digest);
    int64_t exp = time_now_ms() + (int64_t)c->api->d.session_lifetime * 1000;
    json_decref(c->body);
    c->body = json_pack("{s:{s:O,s:O},s:s,s:s}", "user", "username",
                        json_object_get(p->row, "username"), "role",
                        json_object_get(p->row, "role"), "csrf_token", csrf, "cookie", cookie);
    api_hold(c);
    store_session_create(c->api->d.store, digest,
                         json_integer_value(json_object_get(p->row, "id")), csrf,
                         net_req_peer(c->req), exp, session_stored, c);
}

static void login_user_found(void *ctx, store_err_t rc, json_t *res)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    if (rc != STORE_OK && rc != STORE_ERR_NOT_FOUND) {
        api_csms_error(c, CSMS_ERR_STORE, NULL);
        return;
    }
    json_t *row = rc == STORE_OK ? row_of(res, 0) : NULL;
    const char *hash = row ? json_string_value(json_object_get(row, "password_hash")) : NULL;
    const char *pw = json_string_value(json_object_get(c->body, "password"));
    pw_work_t *p = pw_start(c, pw, hash ? hash : dummy_hash(), login_verified);
    p->row = json_incref(row);
    pw_queue(p);
}

void api_auth_login(api_call_t *c)
{
    static const char *const keys[] = {"username", "password", NULL};
    const char *user, *pw;
    if (!only(c, keys) || !need_str(c, "username", &user, true) ||
        !need_str(c, "password", &pw, true))
        return;
    api_bucket_t *b = login_bucket(c, false);
    if (b && b->tokens < 1.0) {
        int wait = (int)((1.0 - b->tokens) * LOGIN_FAIL_REFILL_MS / 1000) + 1;
        char hdr[48];
        snprintf(hdr, sizeof hdr, "Retry-After: %d\r\n", wait);
        /* api_problem cannot add headers; answer the 429 through net/ */
        char body[300];
        int n = snprintf(body, sizeof body,
                         "{\"type\":\"about:blank\",\"title\":\"Too Many Requests\",\"status\":429,"
                         "\"detail\":\"too many failed logins from this address; retry in %d s\"}",
                         wait);
        net_req_respond(c->req, 429, "application/problem+json", body, (size_t)n, hdr);
        api_call_free(c);
        return;
    }
    api_hold(c);
    store_user_get(c->api->d.store, user, login_user_found, c);
}

void api_auth_logout(api_call_t *c)
{
    if (strcmp(c->actor_kind, "user") != 0) {
        api_problem(c, 400, "Bad Request",
                    "logout ends a login session; this request used an API token (revoke it "
                    "with DELETE /api/v1/api-tokens/{id})");
        return;
    }
    api_forget_session(c->api, c->credential);
    api_audit(c, "auth.logout", "user", c->token_name, NULL, NULL);
    store_session_delete(c->api->d.store, c->credential, NULL, NULL);
    if (!api_audit_respond(c, 204, "application/json", "", 0,
                           "Set-Cookie: " API_SESSION_COOKIE
                           "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict\r\n")) {
        api_no_content(c);
    }
}

void api_auth_me(api_call_t *c)
{
    bool user = strcmp(c->actor_kind, "user") == 0;
    json_t *csrf = json_null();
    if (user) {
        api_session_cache_t *x = NULL;
        HASH_FIND_STR(c->api->sessions, c->credential, x);
        if (x) {
            json_decref(csrf);
            csrf = json_string(x->csrf);
        }
    }
    api_json(c, 200,
             json_pack("{s:s,s:{s:s,s:s},s:o}", "kind", c->actor_kind, "user", "username",
                       c->token_name, "role", api_role_name(c->role), "csrf_token", csrf));
}

/* ------------------------------------------------------ own password */

static void password_saved(void *ctx, store_err_t rc, json_t *res)
{
    (void)res;
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    if (rc != STORE_OK) {
        store_failed(c, rc, "the user no longer exists");
        return;
    }
    api_forget_user(c->api, c->user_id);
    api_audit(c, "user.password", "user", c->token_name, NULL, NULL);
    api_no_content(c);
}

static void new_password_hashed(pw_work_t *p)
{
    api_call_t *c = p->call;
    if (!p->ok) {
        api_problem(c, 500, "Internal Server Error", "the password could not be hashed");
        return;
    }
    api_hold(c);
    store_user_update(c->api->d.store, c->token_name, NULL, p->hash, -1, password_saved, c);
}

static void current_verified(pw_work_t *p)
{
    api_call_t *c = p->call;
    if (!p->ok) {
        login_failed(c);
        return;
    }
    pw_queue(pw_start(c, json_string_value(json_object_get(c->body, "new_password")), NULL,
                      new_password_hashed));
}

static void own_user_found(void *ctx, store_err_t rc, json_t *res)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    if (rc != STORE_OK) {
        store_failed(c, rc, "the user no longer exists");
        return;
    }
    const char *hash = json_string_value(json_object_get(row_of(res, 0), "password_hash"));
    pw_queue(pw_start(c, json_string_value(json_object_get(c->body, "current_password")), hash,
                      current_verified));
}

void api_auth_password(api_call_t *c)
{
    static const char *const keys[] = {"current_password", "new_password", NULL};
    const char *cur, *next;
    if (strcmp(c->actor_kind, "user") != 0) {
        api_problem(c, 400, "Bad Request",
                    "only a logged-in user has a password; this request used an API token");
        return;
    }
    if (!only(c, keys) || !need_str(c, "current_password", &cur, true) ||
        !need_str(c, "new_password", &next, true) || !check_password(c, next, c->token_name))
        return;
    api_hold(c);
    store_user_get(c->api->d.store, c->token_name, own_user_found, c);
}

/* -------------------------------------------------------------- users */

/* Someone who never logged in sorts before every login time. */
static const api_sort_field_t user_sorts[] = {
    {"username", false, NULL},
    {"created_at", false, NULL},
    {"last_login_at", false, NULL},
    {NULL, false, NULL},
};
static const api_list_t user_list = {user_sorts, "username", false, 1000, 1000};

static json_t *user_item(json_t *row)
{
    return user_json(row);
}

void api_users_list(api_call_t *c)
{
    api_page_t page;
    if (!api_page_read(c, &user_list, &page)) return;
    store_page_t sp = api_page_store(&page);
    store_users_list(c->api->d.store, &sp, api_page_done, api_page_hold(c, &page, user_item));
}

static void user_answer(void *ctx, store_err_t rc, json_t *res)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    if (rc != STORE_OK) {
        char msg[320];
        snprintf(msg, sizeof msg,
                 rc == STORE_ERR_CONFLICT ? "a user named %s already exists" : "no user %s",
                 c->params[0]);
        store_failed(c, rc, msg);
        return;
    }
    /* the last step's row is the user after the change */
    json_t *row = row_of(res, json_array_size(res) - 1);
    json_t *u = user_json(row);
    bool created = strcmp(c->route->method, "POST") == 0;
    if (!created) api_forget_user(c->api, json_integer_value(json_object_get(row, "id")));
    json_t *before = json_object_get(c->body, "_before");
    api_audit(c, created ? "user.create" : "user.update", "user", c->params[0], before, u);
    api_json(c, created ? 201 : 200, u);
}

static void created_hashed(pw_work_t *p)
{
    api_call_t *c = p->call;
    if (!p->ok) {
        api_problem(c, 500, "Internal Server Error", "the password could not be hashed");
        return;
    }
    api_hold(c);
    store_user_create(c->api->d.store, c->params[0], p->hash, p->s1, user_answer, c);
}

void api_users_create(api_call_t *c)
{
    static const char *const keys[] = {"username", "password", "role", NULL};
    const char *user, *pw, *role;
    if (!only(c, keys) || !need_str(c, "username", &user, true) ||
        !need_str(c, "password", &pw, true) || !need_str(c, "role", &role, true))
        return;
    if (!valid_username(user)) {
        api_problem(c, 400, "Bad Request",
                    "username must be 1 to 64 letters, digits or . _ @ - characters");
        return;
    }
    if (!check_role(c, role) || !check_password(c, pw, user)) return;
    snprintf(c->params[0], sizeof c->params[0], "%s", user);
    pw_work_t *p = pw_start(c, pw, NULL, created_hashed);
    p->s1 = xstrdup(role);
    pw_queue(p);
}

static void user_got(void *ctx, store_err_t rc, json_t *res)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    if (!found(c, rc, "user")) return;
    api_json(c, 200, user_json(row_of(res, 0)));
}

void api_users_get(api_call_t *c)
{
    api_hold(c);
    store_user_get(c->api->d.store, c->params[0], user_got, c);
}

static bool is_self(api_call_t *c)
{
    return strcmp(c->actor_kind, "user") == 0 && strcmp(c->token_name, c->params[0]) == 0;
}

static void patch_apply(api_call_t *c, const char *hash)
{
    const char *role = json_string_value(json_object_get(c->body, "role"));
    json_t *d = json_object_get(c->body, "disabled");
    api_hold(c);
    store_user_update(c->api->d.store, c->params[0], role, hash, d ? json_is_true(d) : -1,
                      user_answer, c);
}

static void patch_hashed(pw_work_t *p)
{
    if (!p->ok) {
        api_problem(p->call, 500, "Internal Server Error", "the password could not be hashed");
        return;
    }
    patch_apply(p->call, p->hash);
}

static void patch_before(void *ctx, store_err_t rc, json_t *res)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    if (!found(c, rc, "user")) return;
    json_object_set_new(c->body, "_before", user_json(row_of(res, 0)));
    const char *pw = json_string_value(json_object_get(c->body, "password"));
    if (pw) pw_queue(pw_start(c, pw, NULL, patch_hashed));
    else patch_apply(c, NULL);
}

void api_users_patch(api_call_t *c)
{
    static const char *const keys[] = {"role", "password", "disabled", NULL};
    const char *role, *pw;
    if (!only(c, keys) || !need_str(c, "role", &role, false) ||
        !need_str(c, "password", &pw, false))
        return;
    json_t *d = json_object_get(c->body, "disabled");
    if (d && !json_is_boolean(d)) {
        api_problem(c, 400, "Bad Request", "disabled must be true or false");
        return;
    }
    if ((role && !check_role(c, role)) || (pw && !check_password(c, pw, c->params[0]))) return;
    if (is_self(c) && ((role && strcmp(role, "admin") != 0) || (d && json_is_true(d)))) {
        api_problem(c, 409, "Conflict",
                    "you cannot take admin rights from yourself or disable yourself; ask "
                    "another admin");
        return;
    }
    api_hold(c);
    store_user_get(c->api->d.store, c->params[0], patch_before, c);
}

static void user_deleted(void *ctx, store_err_t rc, json_t *res)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    if (!found(c, rc, "user")) return;
    json_t *row = row_of(res, 0);
    api_forget_user(c->api, json_integer_value(json_object_get(row, "id")));
    json_t *before = user_json(row);
    api_audit(c, "user.delete", "user", c->params[0], before, NULL);
    json_decref(before);
    api_no_content(c);
}

void api_users_delete(api_call_t *c)
{
    if (is_self(c)) {
        api_problem(c, 409, "Conflict", "you cannot delete yourself; ask another admin");
        return;
    }
    api_hold(c);
    store_user_delete(c->api->d.store, c->params[0], user_deleted, c);
}

/* --------------------------------------------------------- API tokens */

/* A token that never expires sorts after every expiry; one never used,
 * before every use. */
static const api_sort_field_t token_sorts[] = {
    {"id", false, NULL},         {"name", false, NULL},         {"created_at", false, NULL},
    {"expires_at", true, NULL},  {"last_used_at", false, NULL}, {NULL, false, NULL},
};
static const api_list_t token_list = {token_sorts, "id", false, 1000, 1000};

static json_t *token_item(json_t *row)
{
    return token_json(row);
}

void api_api_tokens_list(api_call_t *c)
{
    api_page_t page;
    if (!api_page_read(c, &token_list, &page)) return;
    store_page_t sp = api_page_store(&page);
    store_api_tokens_list(c->api->d.store, &sp, api_page_done,
                          api_page_hold(c, &page, token_item));
}

static void token_created(void *ctx, store_err_t rc, json_t *res)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    if (rc != STORE_OK) {
        store_failed(c, rc, "the token could not be created");
        return;
    }
    json_t *t = token_json(row_of(res, 1));
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(t, "id")));
    api_audit(c, "api_token.create", "api_token", id, NULL, t);
    json_object_set(t, "token", json_object_get(c->body, "_token"));
    api_json(c, 201, t);
}

void api_api_tokens_create(api_call_t *c)
{
    static const char *const keys[] = {"name", "role", "expires_at", NULL};
    const char *name, *role, *exp_s;
    if (!only(c, keys) || !need_str(c, "name", &name, true) ||
        !need_str(c, "role", &role, true) || !need_str(c, "expires_at", &exp_s, false))
        return;
    if (!*name || strlen(name) > 63) {
        api_problem(c, 400, "Bad Request", "name must be 1 to 63 characters");
        return;
    }
    if (!check_role(c, role)) return;
    int64_t exp = 0;
    if (exp_s && !time_parse_rfc3339(exp_s, &exp)) {
        api_problem(c, 400, "Bad Request",
                    "expires_at must be an RFC 3339 date-time such as 2026-01-31T12:00:00Z");
        return;
    }
    if (exp_s && exp <= time_now_ms()) {
        api_problem(c, 400, "Bad Request", "expires_at must be in the future");
        return;
    }
    char raw[65], token[70], digest[65];
    password_random_hex(32, raw);
    snprintf(token, sizeof token, "agt_%s", raw);
    password_token_digest(token, digest);
    json_object_set_new(c->body, "_token", json_string(token));
    api_hold(c);
    store_api_token_create(c->api->d.store, name, role, digest, exp, c->token_name,
                           token_created, c);
}

static void token_revoked(void *ctx, store_err_t rc, json_t *res)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    if (!found(c, rc, "API token")) return;
    json_t *row = row_of(res, 1);
    api_forget_token(c->api, json_string_value(json_object_get(row, "token_hash")));
    json_t *after = token_json(row);
    api_audit(c, "api_token.revoke", "api_token", c->params[0], NULL, after);
    json_decref(after);
    api_no_content(c);
}

void api_api_tokens_delete(api_call_t *c)
{
    char *end;
    long long id = strtoll(c->params[0], &end, 10);
    if (*end || id <= 0) {
        api_problem(c, 404, "Not Found", "no API token %s", c->params[0]);
        return;
    }
    api_hold(c);
    store_api_token_revoke(c->api->d.store, id, token_revoked, c);
}
