/*
 * Id tokens (RFC tags, app tokens, ...): the operator-managed list the
 * authorization rules in charging.c read. Kept in memory for O(1) checks on
 * every Authorize and StartTransaction; written through to the store.
 */
#include "csms/csms_internal.h"

#include "util/alloc.h"
#include "util/timefmt.h"

#include <stdio.h>
#include <string.h>

static const char *const token_statuses[] = {"Accepted", "Blocked", "Expired", "Invalid", NULL};
static const char *const token_types[] = {"Central",  "eMAID",      "ISO14443", "ISO15693",
                                          "KeyCode",  "Local",      "MacAddress",
                                          "NoAuthorization", NULL};

static bool one_of(const char *v, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(v, *list) == 0) return true;
    return false;
}

csms_id_token_t *csms_id_token_find(csms_t *c, const char *id_token)
{
    csms_id_token_t *t = NULL;
    if (id_token) HASH_FIND_STR(c->tokens, id_token, t);
    return t;
}

csms_id_token_t *csms_id_token_first(csms_t *c)
{
    return c->tokens;
}

static csms_err_t check(csms_t *c, const csms_id_token_spec_t *s, char *err, size_t err_len)
{
    if (!s->id_token || !*s->id_token || strlen(s->id_token) > 36) {
        snprintf(err, err_len, "id_token must be 1 to 36 characters");
        return CSMS_ERR_INVALID;
    }
    for (const char *p = s->id_token; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '/') {
            snprintf(err, err_len, "id_token must not contain '/' or control characters");
            return CSMS_ERR_INVALID;
        }
    }
    if (strspn(s->id_token, ".") == strlen(s->id_token)) {
        snprintf(err, err_len, "id_token cannot be only dots");
        return CSMS_ERR_INVALID;
    }
    if (s->status && !one_of(s->status, token_statuses)) {
        snprintf(err, err_len, "status must be one of Accepted, Blocked, Expired, Invalid");
        return CSMS_ERR_INVALID;
    }
    if (s->type && !one_of(s->type, token_types)) {
        snprintf(err, err_len, "type must be one of Central, eMAID, ISO14443, ISO15693, KeyCode, "
                               "Local, MacAddress, NoAuthorization");
        return CSMS_ERR_INVALID;
    }
    if (s->parent_id_token && *s->parent_id_token) {
        if (strlen(s->parent_id_token) > 36) {
            snprintf(err, err_len, "parent_id_token must be at most 36 characters");
            return CSMS_ERR_INVALID;
        }
        if (strcmp(s->parent_id_token, s->id_token) == 0) {
            snprintf(err, err_len, "an id token cannot be its own parent");
            return CSMS_ERR_INVALID;
        }
    }
    (void)c;
    return CSMS_OK;
}

static void persist(csms_t *c, csms_id_token_t *t, csms_done_cb cb, void *ctx)
{
    store_id_token_t rec = {.id_token = t->id_token,
                            .type = t->type,
                            .status = t->status,
                            .expiry = t->expiry,
                            .parent_id_token = t->parent_id_token,
                            .created_at = t->created_at,
                            .updated_at = t->updated_at};
    store_id_token_save(c->store, &rec, csms_store_done, csms_done_wrap(cb, ctx));
}

csms_err_t csms_id_token_create(csms_t *c, const csms_id_token_spec_t *spec, csms_done_cb cb,
                                void *ctx, char *err, size_t err_len)
{
    csms_err_t e = check(c, spec, err, err_len);
    if (e) return e;
    if (csms_id_token_find(c, spec->id_token)) {
        snprintf(err, err_len, "id token %s already exists", spec->id_token);
        return CSMS_ERR_EXISTS;
    }
    csms_id_token_t *t = xcalloc(1, sizeof *t);
    t->id_token = xstrdup(spec->id_token);
    t->type = xstrdup(spec->type ? spec->type : "ISO14443");
    t->status = xstrdup(spec->status ? spec->status : "Accepted");
    t->parent_id_token =
        spec->parent_id_token && *spec->parent_id_token ? xstrdup(spec->parent_id_token) : NULL;
    t->expiry = spec->expiry;
    t->created_at = t->updated_at = time_now_ms();
    HASH_ADD_KEYPTR(hh, c->tokens, t->id_token, strlen(t->id_token), t);
    persist(c, t, cb, ctx);
    return CSMS_OK;
}

csms_err_t csms_id_token_update(csms_t *c, const csms_id_token_spec_t *spec, csms_done_cb cb,
                                void *ctx, char *err, size_t err_len)
{
    csms_id_token_t *t = csms_id_token_find(c, spec->id_token);
    if (!t) {
        snprintf(err, err_len, "no id token %s", spec->id_token);
        return CSMS_ERR_NOT_FOUND;
    }
    csms_err_t e = check(c, spec, err, err_len);
    if (e) return e;
    if (spec->has_type && spec->type) csms_set_str(&t->type, spec->type);
    if (spec->has_status && spec->status) csms_set_str(&t->status, spec->status);
    if (spec->has_parent)
        csms_set_str(&t->parent_id_token,
                     spec->parent_id_token && *spec->parent_id_token ? spec->parent_id_token
                                                                     : NULL);
    if (spec->has_expiry) t->expiry = spec->expiry;
    t->updated_at = time_now_ms();
    persist(c, t, cb, ctx);
    return CSMS_OK;
}

csms_err_t csms_id_token_delete(csms_t *c, const char *id_token, csms_done_cb cb, void *ctx)
{
    csms_id_token_t *t = csms_id_token_find(c, id_token);
    if (!t) return CSMS_ERR_NOT_FOUND;
    HASH_DEL(c->tokens, t);
    store_id_token_delete(c->store, id_token, csms_store_done, csms_done_wrap(cb, ctx));
    free(t->id_token);
    free(t->type);
    free(t->status);
    free(t->parent_id_token);
    free(t);
    return CSMS_OK;
}
