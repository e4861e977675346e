/*
 * Who may use the server and what they did: dashboard users and their login
 * sessions, API tokens, and the audit log. Results come back as JSON in the
 * table's column names with times as Unix milliseconds; the API turns them
 * into its own shapes.
 */
#ifndef AMPGRID_STORE_ACCOUNTS_H
#define AMPGRID_STORE_ACCOUNTS_H

#include "store/store.h"
#include "store/store_page.h"

/* Users. Rows: id, username, password_hash, role, disabled, created_at,
 * updated_at, last_login_at. A page of them (an array of rows with sort_key
 * and sort_id), sorted by username, created_at or last_login_at. */
void store_users_list(store_t *s, const store_page_t *p, store_json_cb cb, void *ctx);
void store_user_get(store_t *s, const char *username, store_json_cb cb, void *ctx); /* row */
void store_user_create(store_t *s, const char *username, const char *hash, const char *role,
                       store_json_cb cb, void *ctx);                    /* row */
/* NULL / -1 = unchanged. A new password or disabling ends the user's
 * sessions. Answers the row after the change. */
void store_user_update(store_t *s, const char *username, const char *role, const char *hash,
                       int disabled, store_json_cb cb, void *ctx);
void store_user_delete(store_t *s, const char *username, store_json_cb cb, void *ctx);
/* Synchronous: only before store_start (the connection is the writer's after). */
int store_user_count_sync(store_t *s);
int store_user_create_sync(store_t *s, const char *username, const char *hash, const char *role);

/* Login sessions, keyed by a digest of the cookie value. */
void store_session_create(store_t *s, const char *digest, int64_t user_id, const char *csrf,
                          const char *ip, int64_t expires_at, store_json_cb cb, void *ctx);
/* Row: user_id, username, role, disabled, csrf, created_at, expires_at, last_seen_at. */
void store_session_lookup(store_t *s, const char *digest, store_json_cb cb, void *ctx);
void store_session_delete(store_t *s, const char *digest, store_json_cb cb, void *ctx);
void store_session_touch(store_t *s, const char *digest, int64_t at);

/* API tokens. Rows: id, name, role, created_at, expires_at, revoked_at,
 * last_used_at, created_by. A page of them as for users, sorted by id, name,
 * created_at, expires_at or last_used_at. */
void store_api_tokens_list(store_t *s, const store_page_t *p, store_json_cb cb, void *ctx);
void store_api_token_create(store_t *s, const char *name, const char *role, const char *digest,
                            int64_t expires_at, const char *created_by, store_json_cb cb,
                            void *ctx);                                /* row */
/* Revokes; the row answered carries token_hash so caches can drop it. */
void store_api_token_revoke(store_t *s, int64_t id, store_json_cb cb, void *ctx);
void store_api_token_used(store_t *s, const char *digest, int64_t at);

/* The audit log. */
typedef struct store_audit {
    int64_t at;
    const char *actor, *actor_kind, *role, *ip, *method, *path, *action;
    const char *target_type, *target_id;
    int status;
    const json_t *before, *after; /* NULL = none */
} store_audit_t;
void store_audit_insert(store_t *s, const store_audit_t *a, store_json_cb cb, void *ctx);

typedef struct store_audit_filter {
    int64_t before_id;              /* cursor: entries with a smaller id; 0 = newest */
    int64_t from, to;               /* at range; 0 = open */
    const char *actor, *action, *target_type, *target_id; /* NULL = any; action may end in '*' */
    int limit;
    const store_page_t *page;       /* sort (id, at) and position; NULL = newest first from
                                     * before_id. limit applies either way */
} store_audit_filter_t;
/* A page of entries: an array of rows with sort_key and sort_id. */
void store_audit_list(store_t *s, const store_audit_filter_t *f, store_json_cb cb, void *ctx);

#endif
