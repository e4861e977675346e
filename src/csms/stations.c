/*
 * Stations: the in-memory registry loaded from the store at start-up, its
 * operator-facing changes (create, update, delete, password rotation), live
 * links, operator commands, the event bus and JSON views.
 */
#include "csms/csms_internal.h"

#include "util/alloc.h"
#include "util/log.h"
#include "util/password.h"
#include "util/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- helpers */

void csms_set_str(char **slot, const char *v)
{
    char *n = v ? xstrdup(v) : NULL;
    free(*slot);
    *slot = n;
}

csms_station_t *csms_station_new(const char *id)
{
    csms_station_t *st = xcalloc(1, sizeof *st);
    st->id = xstrdup(id);
    st->registration_status = xstrdup("Accepted");
    st->security_profile = 1;
    return st;
}

static void connector_clear(csms_connector_t *k)
{
    free(k->status);
    free(k->error_code);
    free(k->info);
    free(k->vendor_id);
    free(k->vendor_error_code);
}

void csms_station_free(csms_station_t *st)
{
    char **strs[] = {&st->id,          &st->password_hash,     &st->password_hash_prev,
                     &st->registration_status, &st->description, &st->vendor,
                     &st->model,       &st->serial_number,     &st->charge_box_serial,
                     &st->firmware_version, &st->iccid,          &st->imsi,
                     &st->meter_type,  &st->meter_serial,      &st->protocol,
                     &st->firmware_status, &st->diagnostics_status, &st->rotation_status,
                     &st->pending_password, &st->site, &st->location_text, &st->labels_text};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) free(*strs[i]);
    json_decref(st->location);
    json_decref(st->labels);
    for (size_t i = 0; i < st->nconnectors; i++) connector_clear(&st->connectors[i]);
    free(st->connectors);
    free(st);
}

csms_connector_t *csms_connector_get(csms_station_t *st, int evse_id, int connector_id)
{
    size_t i = 0;
    for (; i < st->nconnectors; i++) {
        csms_connector_t *k = &st->connectors[i];
        if (k->evse_id == evse_id && k->connector_id == connector_id) return k;
        if (k->evse_id > evse_id || (k->evse_id == evse_id && k->connector_id > connector_id))
            break;
    }
    st->connectors = xrealloc(st->connectors, (st->nconnectors + 1) * sizeof *st->connectors);
    memmove(&st->connectors[i + 1], &st->connectors[i],
            (st->nconnectors - i) * sizeof *st->connectors);
    st->nconnectors++;
    csms_connector_t *k = &st->connectors[i];
    memset(k, 0, sizeof *k);
    k->evse_id = evse_id;
    k->connector_id = connector_id;
    return k;
}

bool csms_station_id_valid(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > 48) return false;
    if (strspn(id, ".") == n) return false; /* "." and ".." cannot be addressed in a URL */
    for (size_t i = 0; i < n; i++) {
        char ch = id[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                  strchr("*-_=+|@.", ch) != NULL;
        if (!ok) return false;
    }
    return true;
}

store_station_t csms_station_record(const csms_station_t *st)
{
    return (store_station_t){
        .id = st->id,
        .password_hash = st->password_hash,
        .password_hash_prev = st->password_hash_prev,
        .security_profile = st->security_profile,
        .registration_status = st->registration_status,
        .auto_registered = st->auto_registered,
        .description = st->description,
        .vendor = st->vendor,
        .model = st->model,
        .serial_number = st->serial_number,
        .charge_box_serial = st->charge_box_serial,
        .firmware_version = st->firmware_version,
        .iccid = st->iccid,
        .imsi = st->imsi,
        .meter_type = st->meter_type,
        .meter_serial = st->meter_serial,
        .protocol = st->protocol,
        .firmware_status = st->firmware_status,
        .diagnostics_status = st->diagnostics_status,
        .rotation_status = st->rotation_status,
        .last_boot_at = st->last_boot_at,
        .last_heartbeat_at = st->last_heartbeat_at,
        .created_at = st->created_at,
        .updated_at = st->updated_at,
        .site = st->site,
        .location = st->location_text,
        .labels = st->labels_text,
    };
}

/* Sets location or labels from JSON (NULL = none), keeping the stored text. */
static void set_json(json_t **field, char **text, const json_t *v)
{
    json_decref(*field);
    free(*text);
    *field = NULL;
    *text = NULL;
    if (!v || json_is_null(v) || (json_is_object(v) && json_object_size(v) == 0)) return;
    *field = json_deep_copy(v);
    *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
}

static void set_json_text(json_t **field, char **text, const char *s)
{
    json_t *v = s ? json_loads(s, 0, NULL) : NULL;
    set_json(field, text, v);
    json_decref(v);
}

typedef struct done_ctx {
    csms_done_cb cb;
    void *ctx;
} done_ctx_t;

void *csms_done_wrap(csms_done_cb cb, void *ctx)
{
    done_ctx_t *d = xmalloc(sizeof *d);
    d->cb = cb;
    d->ctx = ctx;
    return d;
}

void csms_store_done(void *p, store_err_t rc)
{
    done_ctx_t *d = p;
    if (d->cb) d->cb(d->ctx, rc == STORE_OK ? CSMS_OK : CSMS_ERR_STORE,
                     rc == STORE_OK ? NULL : "the change could not be stored");
    free(d);
}

void csms_station_persist(csms_t *c, csms_station_t *st, csms_done_cb cb, void *ctx)
{
    st->updated_at = time_now_ms();
    st->heartbeat_dirty = false; /* the row carries last_heartbeat_at */
    st->heartbeat_stored_at = st->last_heartbeat_at;
    store_station_t rec = csms_station_record(st);
    store_station_save(c->store, &rec, csms_store_done, csms_done_wrap(cb, ctx));
}

/* ------------------------------------------------------------- loading */

static void load_station_cb(void *ctx, const store_station_t *r)
{
    csms_t *c = ctx;
    csms_station_t *st = csms_station_new(r->id);
    csms_set_str(&st->password_hash, r->password_hash);
    csms_set_str(&st->password_hash_prev, r->password_hash_prev);
    st->security_profile = r->security_profile;
    if (r->registration_status) csms_set_str(&st->registration_status, r->registration_status);
    st->auto_registered = r->auto_registered;
    csms_set_str(&st->description, r->description);
    csms_set_str(&st->site, r->site);
    set_json_text(&st->location, &st->location_text, r->location);
    set_json_text(&st->labels, &st->labels_text, r->labels);
    csms_set_str(&st->vendor, r->vendor);
    csms_set_str(&st->model, r->model);
    csms_set_str(&st->serial_number, r->serial_number);
    csms_set_str(&st->charge_box_serial, r->charge_box_serial);
    csms_set_str(&st->firmware_version, r->firmware_version);
    csms_set_str(&st->iccid, r->iccid);
    csms_set_str(&st->imsi, r->imsi);
    csms_set_str(&st->meter_type, r->meter_type);
    csms_set_str(&st->meter_serial, r->meter_serial);
    csms_set_str(&st->protocol, r->protocol);
    csms_set_str(&st->firmware_status, r->firmware_status);
    csms_set_str(&st->diagnostics_status, r->diagnostics_status);
    csms_set_str(&st->rotation_status, r->rotation_status);
    st->last_boot_at = r->last_boot_at;
    st->last_heartbeat_at = r->last_heartbeat_at;
    st->heartbeat_stored_at = r->last_heartbeat_at;
    st->created_at = r->created_at;
    st->updated_at = r->updated_at;
    /* A station accepted at its last boot may reconnect without booting again. */
    st->boot_accepted = r->last_boot_at != 0 && strcmp(st->registration_status, "Accepted") == 0;
    HASH_ADD_KEYPTR(hh, c->stations, st->id, strlen(st->id), st);
}

static void load_connector_cb(void *ctx, const store_connector_t *r)
{
    csms_t *c = ctx;
    csms_station_t *st = csms_station_find(c, r->station_id);
    if (!st) return;
    csms_connector_t *k = csms_connector_get(st, r->evse_id, r->connector_id);
    csms_set_str(&k->status, r->status);
    csms_set_str(&k->error_code, r->error_code);
    csms_set_str(&k->info, r->info);
    csms_set_str(&k->vendor_id, r->vendor_id);
    csms_set_str(&k->vendor_error_code, r->vendor_error_code);
    k->timestamp = r->timestamp;
}

static void load_token_cb(void *ctx, const store_id_token_t *r)
{
    csms_t *c = ctx;
    csms_id_token_t *t = xcalloc(1, sizeof *t);
    t->id_token = xstrdup(r->id_token);
    t->type = xstrdup(r->type ? r->type : "ISO14443");
    t->status = xstrdup(r->status ? r->status : "Accepted");
    t->parent_id_token = xstrdup_opt(r->parent_id_token);
    t->expiry = r->expiry;
    t->created_at = r->created_at;
    t->updated_at = r->updated_at;
    HASH_ADD_KEYPTR(hh, c->tokens, t->id_token, strlen(t->id_token), t);
}

static void load_tx_cb(void *ctx, const store_tx_t *r)
{
    csms_t *c = ctx;
    csms_tx_t *t = xcalloc(1, sizeof *t);
    t->id = r->id;
    t->tx_id = xstrdup_opt(r->tx_id);
    t->station_id = xstrdup(r->station_id);
    t->id_token = xstrdup(r->id_token);
    t->id_token_type = xstrdup_opt(r->id_token_type);
    t->evse_id = r->evse_id;
    t->connector_id = r->connector_id;
    t->meter_start = r->meter_start;
    t->started_at = r->started_at;
    t->last_energy_wh = r->last_energy_wh;
    t->last_soc = r->last_soc;
    t->last_soc_at = r->last_soc_at;
    t->last_energy_at = r->last_energy_at;
    t->reservation_id = r->reservation_id;
    csms_tx_index(c, t);
}

static void load_seq_cb(void *ctx, int64_t tx_db_id, int seq_no)
{
    csms_tx_t *t = csms_tx_find(ctx, tx_db_id);
    if (t) {
        csms_tx_seq_add(t, seq_no);
        if (seq_no == 0) t->started_seen = true;
    }
}

csms_t *csms_create(store_t *store, const csms_config_t *cfg, char *err, size_t err_len)
{
    csms_t *c = xcalloc(1, sizeof *c);
    c->store = store;
    c->cfg = *cfg;
    if (store_load_stations(store, load_station_cb, c) || store_load_connectors(store, load_connector_cb, c) ||
        store_load_id_tokens(store, load_token_cb, c) || store_load_active_txs(store, load_tx_cb, c) ||
        store_load_tx_seqs(store, load_seq_cb, c)) {
        snprintf(err, err_len, "cannot load state from the database");
        csms_destroy(c);
        return NULL;
    }
    log_info("loaded state", "stations=%u id_tokens=%u active_transactions=%u",
             HASH_COUNT(c->stations), HASH_COUNT(c->tokens), HASH_COUNT(c->txs));
    return c;
}

void csms_destroy(csms_t *c)
{
    if (!c) return;
    while (c->stations) {
        csms_station_t *st = c->stations;
        HASH_DEL(c->stations, st);
        csms_station_free(st);
    }
    while (c->tokens) {
        csms_id_token_t *t = c->tokens;
        HASH_DEL(c->tokens, t); // NOLINT(clang-analyzer-unix.Malloc): uthash's HASH_DEL unlinks first
        free(t->id_token);
        free(t->type);
        free(t->status);
        free(t->parent_id_token);
        free(t);
    }
    while (c->txs) {
        csms_tx_t *x = c->txs;
        csms_tx_unindex(c, x);
        csms_tx_free(x);
    }
    while (c->fails) {
        csms_fail_t *f = c->fails;
        HASH_DEL(c->fails, f); // NOLINT(clang-analyzer-unix.Malloc): uthash's HASH_DEL unlinks first
        free(f);
    }
    while (c->subs) {
        csms_sub_t *n = c->subs->next;
        free(c->subs);
        c->subs = n;
    }
    free(c);
}

store_t *csms_store(csms_t *c)
{
    return c->store;
}

const csms_config_t *csms_config(csms_t *c)
{
    return &c->cfg;
}

csms_station_t *csms_station_find(csms_t *c, const char *id)
{
    csms_station_t *st = NULL;
    if (id) HASH_FIND_STR(c->stations, id, st);
    return st;
}

csms_station_t *csms_station_first(csms_t *c)
{
    return c->stations;
}

csms_station_t *csms_station_next(csms_station_t *st)
{
    return st->hh.next;
}

unsigned csms_station_count(csms_t *c)
{
    return HASH_COUNT(c->stations);
}

unsigned csms_station_connected_count(csms_t *c)
{
    return c->connected;
}

/* --------------------------------------------------------------- events */

void csms_subscribe_typed(csms_t *c, csms_event_cb cb, csms_meter_cb meter_cb, void *ud)
{
    csms_sub_t *s = xcalloc(1, sizeof *s);
    s->cb = cb;
    s->meter_cb = meter_cb;
    s->typed = true;
    s->ud = ud;
    s->next = c->subs;
    c->subs = s;
}

void csms_subscribe(csms_t *c, csms_event_cb cb, void *ud)
{
    csms_subscribe_typed(c, cb, NULL, ud);
    c->subs->typed = false;
}

void csms_unsubscribe(csms_t *c, csms_event_cb cb, void *ud)
{
    for (csms_sub_t **p = &c->subs; *p; p = &(*p)->next) {
        if ((*p)->cb == cb && (*p)->ud == ud) {
            csms_sub_t *s = *p;
            *p = s->next;
            free(s);
            return;
        }
    }
}

bool csms_listening(const csms_t *c)
{
    return c->subs != NULL;
}

void csms_emit(csms_t *c, const char *type, json_t *data)
{
    if (!c->subs) {
        json_decref(data);
        return;
    }
    char ts[TIME_RFC3339_LEN];
    json_object_set_new(data, "time", json_string(time_format_rfc3339(time_now_ms(), ts)));
    for (csms_sub_t *s = c->subs, *next; s; s = next) {
        next = s->next; /* a subscriber may unsubscribe itself */
        s->cb(s->ud, type, data);
    }
    json_decref(data);
}

/* ---------------------------------------------------- operator changes */

static bool valid_registration(const char *s)
{
    return s && (strcmp(s, "Accepted") == 0 || strcmp(s, "Pending") == 0 ||
                 strcmp(s, "Rejected") == 0);
}

/* Checks the parts of a spec that create and update share. */
/* A location: optional strings (name, address, city, postal_code, country)
 * and coordinates within range. */
static bool check_location(const json_t *loc, char *err, size_t err_len)
{
    static const char *const strs[] = {"name", "address", "city", "postal_code", "country",
                                       "state", NULL};
    if (json_is_null(loc)) return true;
    if (!json_is_object(loc)) {
        snprintf(err, err_len, "location must be an object (or null)");
        return false;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)loc, k, v) {
        bool known = false;
        for (const char *const *s = strs; *s; s++) known = known || strcmp(*s, k) == 0;
        if (known) {
            if (!json_is_string(v) || json_string_length(v) > 200) {
                snprintf(err, err_len, "location.%s must be a string of at most 200 characters", k);
                return false;
            }
            continue;
        }
        bool lat = strcmp(k, "latitude") == 0, lon = strcmp(k, "longitude") == 0;
        if (!lat && !lon) {
            snprintf(err, err_len,
                     "unknown field location.%.64s (name, address, city, postal_code, state, "
                     "country, latitude, longitude)", k);
            return false;
        }
        double lim = lat ? 90 : 180, d = json_number_value(v);
        if (!json_is_number(v) || d < -lim || d > lim) {
            snprintf(err, err_len, "location.%s must be a number from %g to %g", k, -lim, lim);
            return false;
        }
    }
    if ((json_object_get(loc, "latitude") == NULL) != (json_object_get(loc, "longitude") == NULL)) {
        snprintf(err, err_len, "give both location.latitude and location.longitude, or neither");
        return false;
    }
    return true;
}

/* Labels: up to 32 "key": "value" pairs; keys 1-64 of a-z A-Z 0-9 _ . - */
static bool check_labels(const json_t *labels, char *err, size_t err_len)
{
    if (json_is_null(labels)) return true;
    if (!json_is_object(labels) || json_object_size(labels) > 32) {
        snprintf(err, err_len, "labels must be an object of at most 32 \"key\": \"value\" pairs");
        return false;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)labels, k, v) {
        size_t n = strlen(k);
        if (n < 1 || n > 64 ||
            strspn(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != n) {
            snprintf(err, err_len, "label keys must be 1 to 64 letters, digits or _ . -");
            return false;
        }
        if (!json_is_string(v) || json_string_length(v) > 200) {
            snprintf(err, err_len, "label %s must have a string value of at most 200 characters",
                     k);
            return false;
        }
    }
    return true;
}

static csms_err_t check_spec(const csms_station_spec_t *spec, char *err, size_t err_len)
{
    if (spec->password) {
        size_t n = strlen(spec->password);
        if (n < 16 || n > 40) {
            snprintf(err, err_len, "password must be 16 to 40 characters long (got %zu)", n);
            return CSMS_ERR_INVALID;
        }
    }
    if (spec->security_profile == 3) {
        snprintf(err, err_len, "security_profile 3 (TLS client certificates) is not supported yet; "
                               "use 2 (TLS with Basic auth)");
        return CSMS_ERR_INVALID;
    }
    if (spec->security_profile != -1 &&
        (spec->security_profile < 0 || spec->security_profile > 2)) {
        snprintf(err, err_len, "security_profile must be 0 (none), 1 (Basic auth) or 2 (TLS and "
                               "Basic auth)");
        return CSMS_ERR_INVALID;
    }
    if (spec->registration_status && !valid_registration(spec->registration_status)) {
        snprintf(err, err_len, "registration_status must be Accepted, Pending or Rejected");
        return CSMS_ERR_INVALID;
    }
    if (spec->description && strlen(spec->description) > 500) {
        snprintf(err, err_len, "description is longer than 500 characters");
        return CSMS_ERR_INVALID;
    }
    if (spec->site && (!*spec->site || strlen(spec->site) > 64)) {
        snprintf(err, err_len, "site must be 1 to 64 characters");
        return CSMS_ERR_INVALID;
    }
    if (spec->location && !check_location(spec->location, err, err_len)) return CSMS_ERR_INVALID;
    if (spec->labels && !check_labels(spec->labels, err, err_len)) return CSMS_ERR_INVALID;
    return CSMS_OK;
}

static void apply_meta(csms_station_t *st, const csms_station_spec_t *spec)
{
    if (spec->has_site) csms_set_str(&st->site, spec->site);
    if (spec->has_location) set_json(&st->location, &st->location_text, spec->location);
    if (spec->has_labels) set_json(&st->labels, &st->labels_text, spec->labels);
}

static int set_password(csms_t *c, csms_station_t *st, const char *pw)
{
    char hash[PASSWORD_HASH_MAX];
    if (password_hash(pw, c->cfg.pw_opslimit, c->cfg.pw_memlimit, hash) != 0) return -1;
    csms_set_str(&st->password_hash, hash);
    csms_set_str(&st->password_hash_prev, NULL);
    st->pw_cache_valid = false;
    return 0;
}

static void emit_station(csms_t *c, const char *type, const csms_station_t *st)
{
    json_t *d = json_object();
    json_object_set_new(d, "station_id", json_string(st->id));
    csms_emit(c, type, d);
}

csms_err_t csms_station_create(csms_t *c, const csms_station_spec_t *spec, csms_done_cb cb,
                               void *ctx, char *err, size_t err_len)
{
    if (!csms_station_id_valid(spec->id)) {
        snprintf(err, err_len,
                 "id must be 1 to 48 characters from A-Z a-z 0-9 * - _ = + | @ . (no ':', not "
                 "only dots)");
        return CSMS_ERR_INVALID;
    }
    csms_err_t e = check_spec(spec, err, err_len);
    if (e) return e;
    if (csms_station_find(c, spec->id)) {
        snprintf(err, err_len, "station %s already exists", spec->id);
        return CSMS_ERR_EXISTS;
    }
    int profile = spec->security_profile == -1 ? (spec->password ? 1 : 0) : spec->security_profile;
    if (profile > 0 && !spec->password) {
        snprintf(err, err_len,
                 "password is required for security profile %d (16 to 40 characters)", profile);
        return CSMS_ERR_INVALID;
    }
    csms_station_t *st = csms_station_new(spec->id);
    if (spec->password && set_password(c, st, spec->password) != 0) {
        csms_station_free(st);
        snprintf(err, err_len, "cannot hash the password");
        return CSMS_ERR_INVALID;
    }
    st->security_profile = profile;
    if (spec->registration_status) csms_set_str(&st->registration_status, spec->registration_status);
    csms_set_str(&st->description, spec->description);
    apply_meta(st, spec);
    st->created_at = time_now_ms();
    HASH_ADD_KEYPTR(hh, c->stations, st->id, strlen(st->id), st);
    csms_station_persist(c, st, cb, ctx);
    emit_station(c, "station.created", st);
    return CSMS_OK;
}

csms_err_t csms_station_update(csms_t *c, const csms_station_spec_t *spec, csms_done_cb cb,
                               void *ctx, char *err, size_t err_len)
{
    csms_station_t *st = csms_station_find(c, spec->id);
    if (!st) {
        snprintf(err, err_len, "no station %s", spec->id ? spec->id : "");
        return CSMS_ERR_NOT_FOUND;
    }
    csms_err_t e = check_spec(spec, err, err_len);
    if (e) return e;
    int profile = spec->security_profile == -1 ? st->security_profile : spec->security_profile;
    if (profile > 0 && !spec->password && !st->password_hash) {
        snprintf(err, err_len, "set a password (16 to 40 characters) before raising the security "
                               "profile above 0");
        return CSMS_ERR_INVALID;
    }
    if (spec->password && set_password(c, st, spec->password) != 0) {
        snprintf(err, err_len, "cannot hash the password");
        return CSMS_ERR_INVALID;
    }
    st->security_profile = profile;
    if (spec->registration_status) {
        csms_set_str(&st->registration_status, spec->registration_status);
        if (strcmp(spec->registration_status, "Accepted") != 0) st->boot_accepted = false;
    }
    if (spec->description) csms_set_str(&st->description, spec->description);
    apply_meta(st, spec);
    csms_station_persist(c, st, cb, ctx);
    emit_station(c, "station.updated", st);
    return CSMS_OK;
}

typedef struct delete_ctx {
    csms_done_cb cb;
    void *ctx;
} delete_ctx_t;

static void deleted_cb(void *p, store_err_t rc)
{
    delete_ctx_t *d = p;
    if (d->cb)
        d->cb(d->ctx, rc == STORE_OK || rc == STORE_ERR_NOT_FOUND ? CSMS_OK : CSMS_ERR_STORE,
              NULL);
    free(d);
}

csms_err_t csms_station_delete(csms_t *c, const char *id, csms_done_cb cb, void *ctx)
{
    csms_station_t *st = csms_station_find(c, id);
    if (!st) return CSMS_ERR_NOT_FOUND;
    if (st->link) {
        st->link_ops->close(st->link, "station deleted");
        st->link = NULL;
        c->connected--;
    }
    emit_station(c, "station.deleted", st);
    HASH_DEL(c->stations, st);
    delete_ctx_t *d = xmalloc(sizeof *d);
    d->cb = cb;
    d->ctx = ctx;
    store_station_delete(c->store, id, deleted_cb, d);
    csms_station_free(st);
    return CSMS_OK;
}

/* ------------------------------------------------------- live links */

void csms_station_attach(csms_t *c, csms_station_t *st, void *link, const csms_link_ops_t *ops,
                         const char *peer)
{
    if (st->link) {
        log_info("replacing connection", "station=%s", st->id);
        void *old = st->link;
        const csms_link_ops_t *old_ops = st->link_ops;
        st->link = NULL;
        old_ops->close(old, "replaced by a newer connection");
    } else {
        c->connected++;
    }
    st->link = link;
    st->link_ops = ops;
    st->connected_at = time_now_ms();
    snprintf(st->peer, sizeof st->peer, "%s", peer ? peer : "");
    const char *proto = ops->protocol(link);
    if (!st->protocol || strcmp(st->protocol, proto) != 0) {
        csms_set_str(&st->protocol, proto);
        csms_station_persist(c, st, NULL, NULL);
    }
    json_t *d = json_object();
    json_object_set_new(d, "station_id", json_string(st->id));
    json_object_set_new(d, "protocol", json_string(proto));
    json_object_set_new(d, "peer", json_string(st->peer));
    csms_emit(c, "station.connected", d);
}

void csms_station_detach(csms_t *c, const char *station_id, void *link)
{
    csms_station_t *st = csms_station_find(c, station_id);
    if (!st || st->link != link) return;
    st->link = NULL;
    st->link_ops = NULL;
    c->connected--;
    emit_station(c, "station.disconnected", st);
}

bool csms_station_may_operate(const csms_station_t *st)
{
    return st->boot_accepted;
}

/* -------------------------------------------------------- commands */

typedef struct cmd_ctx {
    csms_t *c;
    char *station_id, *action;
    csms_cmd_cb cb;
    void *ctx;
} cmd_ctx_t;

static const char *cmd_status_name(csms_cmd_status_t s)
{
    static const char *const names[] = {"Answered", "CallError", "Timeout", "Disconnected",
                                        "InvalidResponse"};
    return names[s];
}

static void command_done(void *p, const csms_cmd_result_t *r)
{
    cmd_ctx_t *x = p;
    json_t *d = json_object();
    json_object_set_new(d, "station_id", json_string(x->station_id));
    json_object_set_new(d, "action", json_string(x->action));
    json_object_set_new(d, "outcome", json_string(cmd_status_name(r->status)));
    if (r->status == CSMS_CMD_OK && r->payload) json_object_set(d, "response", (json_t *)r->payload);
    if (r->error_code) json_object_set_new(d, "error_code", json_string(r->error_code));
    if (r->error_description)
        json_object_set_new(d, "error_description", json_string(r->error_description));
    store_station_event(x->c->store, x->station_id, "command", d, NULL, NULL);
    csms_emit(x->c, "command.result", d);
    if (x->cb) x->cb(x->ctx, r);
    free(x->station_id);
    free(x->action);
    free(x);
}

csms_err_t csms_command(csms_t *c, const char *station_id, const char *action,
                        const json_t *payload, csms_cmd_cb cb, void *ctx, char *err,
                        size_t err_len)
{
    csms_station_t *st = csms_station_find(c, station_id);
    if (!st) {
        snprintf(err, err_len, "no station %s", station_id);
        return CSMS_ERR_NOT_FOUND;
    }
    if (!st->link) {
        snprintf(err, err_len, "station %s is not connected", station_id);
        return CSMS_ERR_NOT_CONNECTED;
    }
    cmd_ctx_t *x = xcalloc(1, sizeof *x);
    x->c = c;
    x->station_id = xstrdup(station_id);
    x->action = xstrdup(action);
    x->cb = cb;
    x->ctx = ctx;
    if (st->link_ops->send_call(st->link, action, payload, command_done, x, err, err_len) != 0) {
        free(x->station_id);
        free(x->action);
        free(x);
        return CSMS_ERR_INVALID;
    }
    json_t *d = json_object();
    json_object_set_new(d, "station_id", json_string(station_id));
    json_object_set_new(d, "action", json_string(action));
    json_object_set(d, "request", (json_t *)payload);
    csms_emit(c, "command.sent", d);
    return CSMS_OK;
}

/* ------------------------------------------------- password rotation */

typedef struct rotate_ctx {
    csms_t *c;
    char *station_id;
    char *password;
    csms_done_cb cb;
    void *ctx;
} rotate_ctx_t;

static void rotation_outcome(rotate_ctx_t *x, csms_station_t *st, const char *outcome)
{
    if (st) {
        csms_set_str(&st->rotation_status, outcome);
        csms_set_str(&st->pending_password, NULL);
    }
    json_t *d = json_object();
    json_object_set_new(d, "station_id", json_string(x->station_id));
    json_object_set_new(d, "outcome", json_string(outcome));
    csms_emit(x->c, "station.password_rotation", d);
}

static void rotation_persisted(void *p, csms_err_t rc, const char *msg)
{
    rotate_ctx_t *x = p;
    if (x->cb) x->cb(x->ctx, rc, rc == CSMS_OK ? "Accepted" : msg);
    free(x->station_id);
    free(x->password);
    free(x);
}

static void rotation_answered(void *p, const csms_cmd_result_t *r)
{
    rotate_ctx_t *x = p;
    csms_station_t *st = csms_station_find(x->c, x->station_id);
    const char *status = NULL;
    if (r->status == CSMS_CMD_OK && r->payload)
        status = json_string_value(json_object_get(r->payload, "status"));
    bool accepted = status && (strcmp(status, "Accepted") == 0 || strcmp(status, "RebootRequired") == 0);
    if (!st || !accepted) {
        char outcome[96];
        snprintf(outcome, sizeof outcome, "Failed: %s",
                 status ? status : cmd_status_name(r->status));
        rotation_outcome(x, st, outcome);
        if (st) csms_station_persist(x->c, st, NULL, NULL);
        if (x->cb) x->cb(x->ctx, CSMS_ERR_INVALID, outcome);
        free(x->station_id);
        free(x->password);
        free(x);
        return;
    }
    /* Switch: the new password is current, the old one still works until the
     * station reconnects with the new one (see csms_authenticate). */
    char *prev = st->password_hash ? xstrdup(st->password_hash) : NULL;
    if (set_password(x->c, st, x->password) != 0) {
        free(prev);
        rotation_outcome(x, st, "Failed: cannot hash");
        if (x->cb) x->cb(x->ctx, CSMS_ERR_INVALID, "cannot hash the password");
        free(x->station_id);
        free(x->password);
        free(x);
        return;
    }
    free(st->password_hash_prev);
    st->password_hash_prev = prev;
    if (st->security_profile == 0) st->security_profile = 1;
    rotation_outcome(x, st, "Accepted");
    csms_station_persist(x->c, st, rotation_persisted, x);
}

csms_err_t csms_station_rotate_password(csms_t *c, const char *id, csms_done_cb cb, void *ctx,
                                        char *err, size_t err_len)
{
    csms_station_t *st = csms_station_find(c, id);
    if (!st) {
        snprintf(err, err_len, "no station %s", id);
        return CSMS_ERR_NOT_FOUND;
    }
    if (!st->link) {
        snprintf(err, err_len, "station %s is not connected; it must be online to receive a new "
                               "password", id);
        return CSMS_ERR_NOT_CONNECTED;
    }
    if (st->pending_password) {
        snprintf(err, err_len, "a password rotation for %s is already in progress", id);
        return CSMS_ERR_BUSY;
    }
    char pw[41];
    password_random_hex(20, pw); /* 40 hex characters: 160 bits */
    rotate_ctx_t *x = xcalloc(1, sizeof *x);
    x->c = c;
    x->station_id = xstrdup(id);
    x->password = xstrdup(pw);
    x->cb = cb;
    x->ctx = ctx;
    if (st->link_ops->send_password(st->link, pw, rotation_answered, x, err, err_len) != 0) {
        free(x->station_id);
        free(x->password);
        free(x);
        return CSMS_ERR_INVALID;
    }
    csms_set_str(&st->pending_password, "1");
    csms_set_str(&st->rotation_status, "InProgress");
    return CSMS_OK;
}

/* ----------------------------------------------------------- JSON */

static void set_time(json_t *o, const char *k, int64_t ms)
{
    char buf[TIME_RFC3339_LEN];
    json_object_set_new(o, k, ms ? json_string(time_format_rfc3339(ms, buf)) : json_null());
}

static void set_str(json_t *o, const char *k, const char *v)
{
    json_object_set_new(o, k, v ? json_string(v) : json_null());
}

json_t *csms_station_json(const csms_station_t *st)
{
    json_t *o = json_object();
    set_str(o, "id", st->id);
    set_str(o, "description", st->description);
    set_str(o, "site", st->site);
    json_object_set_new(o, "location", st->location ? json_deep_copy(st->location) : json_null());
    json_object_set_new(o, "labels", st->labels ? json_deep_copy(st->labels) : json_object());
    set_str(o, "registration_status", st->registration_status);
    json_object_set_new(o, "security_profile", json_integer(st->security_profile));
    json_object_set_new(o, "auto_registered", json_boolean(st->auto_registered));
    json_object_set_new(o, "has_password", json_boolean(st->password_hash != NULL));
    json_object_set_new(o, "connected", json_boolean(st->link != NULL));
    set_str(o, "protocol", st->protocol);
    set_str(o, "peer", st->link ? st->peer : NULL);
    set_time(o, "connected_at", st->link ? st->connected_at : 0);
    set_time(o, "last_boot_at", st->last_boot_at);
    set_time(o, "last_heartbeat_at", st->last_heartbeat_at);
    json_t *boot = json_object();
    set_str(boot, "vendor", st->vendor);
    set_str(boot, "model", st->model);
    set_str(boot, "serial_number", st->serial_number);
    set_str(boot, "charge_box_serial_number", st->charge_box_serial);
    set_str(boot, "firmware_version", st->firmware_version);
    set_str(boot, "iccid", st->iccid);
    set_str(boot, "imsi", st->imsi);
    set_str(boot, "meter_type", st->meter_type);
    set_str(boot, "meter_serial_number", st->meter_serial);
    json_object_set_new(o, "boot", boot);
    set_str(o, "firmware_status", st->firmware_status);
    set_str(o, "diagnostics_status", st->diagnostics_status);
    set_str(o, "password_rotation", st->rotation_status);
    json_t *conns = json_array();
    for (size_t i = 0; i < st->nconnectors; i++) {
        const csms_connector_t *k = &st->connectors[i];
        json_t *j = json_object();
        json_object_set_new(j, "evse_id", json_integer(k->evse_id));
        json_object_set_new(j, "connector_id", json_integer(k->connector_id));
        set_str(j, "status", k->status);
        set_str(j, "error_code", k->error_code);
        set_str(j, "info", k->info);
        set_str(j, "vendor_id", k->vendor_id);
        set_str(j, "vendor_error_code", k->vendor_error_code);
        set_time(j, "timestamp", k->timestamp);
        json_array_append_new(conns, j);
    }
    json_object_set_new(o, "connectors", conns);
    set_time(o, "created_at", st->created_at);
    set_time(o, "updated_at", st->updated_at);
    return o;
}

json_t *csms_id_token_json(const csms_id_token_t *t)
{
    json_t *o = json_object();
    set_str(o, "id_token", t->id_token);
    set_str(o, "type", t->type);
    set_str(o, "status", t->status);
    set_time(o, "expiry", t->expiry);
    set_str(o, "parent_id_token", t->parent_id_token);
    set_time(o, "created_at", t->created_at);
    set_time(o, "updated_at", t->updated_at);
    return o;
}
