/*
 * Station authentication at connection time: station id, security profile,
 * HTTP Basic credentials, failed-attempt rate limiting, auto-registration.
 *
 * Why a verification cache: argon2id is slow on purpose (milliseconds per
 * check), and after a network outage every station reconnects at once. The
 * first successful check per station and password stores a keyed BLAKE2b
 * digest of the password (key random per process, so the cache is useless
 * outside this process); later reconnects compare digests in constant time.
 * Wrong passwords always pay the full argon2id price, and are rate limited.
 */
#include "csms/csms_internal.h"

#include "util/alloc.h"
#include "util/log.h"
#include "util/password.h"
#include "util/timefmt.h"

#include <stdio.h>
#include <string.h>

static csms_fail_t *fail_get(csms_t *c, const char *kind, const char *v, bool create)
{
    char key[80];
    snprintf(key, sizeof key, "%s:%s", kind, v ? v : "");
    csms_fail_t *f = NULL;
    HASH_FIND_STR(c->fails, key, f);
    if (!f && create) {
        /* Bound the table: an attacker cycling addresses must not grow it forever. */
        if (HASH_COUNT(c->fails) > 100000) {
            csms_fail_t *x, *tmp;
            int64_t now = time_now_ms();
            HASH_ITER(hh, c->fails, x, tmp) {
                // cppcheck-suppress uninitvar ; uthash iteration initialises it
                if (now - x->window_start > (int64_t)c->cfg.auth_fail_window * 1000) {
                    HASH_DEL(c->fails, x); // NOLINT(clang-analyzer-unix.Malloc): uthash's HASH_DEL unlinks first
                    free(x);
                }
            }
        }
        f = xcalloc(1, sizeof *f);
        snprintf(f->key, sizeof f->key, "%s", key);
        HASH_ADD_STR(c->fails, key, f); // NOLINT(clang-analyzer-unix.Malloc): uthash's HASH_DEL unlinks first
    }
    return f;
}

/* Seconds until the key may try again, 0 when not limited. */
static int fail_blocked(csms_t *c, const char *kind, const char *v)
{
    csms_fail_t *f = fail_get(c, kind, v, false);
    if (!f || c->cfg.auth_fail_limit <= 0) return 0;
    int64_t now = time_now_ms(), window = (int64_t)c->cfg.auth_fail_window * 1000;
    if (now - f->window_start >= window) {
        HASH_DEL(c->fails, f);
        free(f);
        return 0;
    }
    if (f->count < c->cfg.auth_fail_limit) return 0;
    int64_t left = (f->window_start + window - now + 999) / 1000;
    return left > 0 ? (int)left : 1;
}

/* Counts a failure; returns the count in the current window. */
static int fail_note(csms_t *c, const char *kind, const char *v)
{
    csms_fail_t *f = fail_get(c, kind, v, true);
    int64_t now = time_now_ms();
    if (now - f->window_start >= (int64_t)c->cfg.auth_fail_window * 1000) {
        f->window_start = now;
        f->count = 0;
    }
    return ++f->count;
}

/* A known station's credentials failed often enough to be locked out for the
 * window: once per window, a domain event (alerts raise a security alert). */
static void emit_locked_out(csms_t *c, const char *station_id, const char *peer, int failures)
{
    if (!peer) peer = "";
    json_t *d = json_object();
    json_object_set_new(d, "station_id", json_string(station_id));
    json_object_set_new(d, "peer", json_string(peer));
    json_object_set_new(d, "failures", json_integer(failures));
    json_object_set_new(d, "window_seconds", json_integer(c->cfg.auth_fail_window));
    csms_emit(c, "station.auth_failed", d);
}

static void fail_clear(csms_t *c, const char *kind, const char *v)
{
    csms_fail_t *f = fail_get(c, kind, v, false);
    if (f) {
        HASH_DEL(c->fails, f);
        free(f);
    }
}

static bool check_password(csms_station_t *st, const char *pass)
{
    unsigned char digest[32];
    password_cache_digest(pass, digest);
    if (st->pw_cache_valid && password_digest_equal(digest, st->pw_cache)) return true;
    bool ok = password_verify(st->password_hash, pass);
    bool prev = !ok && password_verify(st->password_hash_prev, pass);
    if (ok) {
        memcpy(st->pw_cache, digest, sizeof digest);
        st->pw_cache_valid = true;
    }
    return ok || prev;
}

static csms_station_t *auto_register(csms_t *c, const char *id, const char *pass)
{
    csms_station_t *st = csms_station_new(id);
    csms_set_str(&st->registration_status, "Pending");
    st->auto_registered = true;
    st->security_profile = 0;
    if (pass && strlen(pass) >= 16 && strlen(pass) <= 40) {
        char hash[PASSWORD_HASH_MAX];
        if (password_hash(pass, c->cfg.pw_opslimit, c->cfg.pw_memlimit, hash) == 0) {
            csms_set_str(&st->password_hash, hash);
            st->security_profile = 1;
        }
    }
    st->created_at = time_now_ms();
    HASH_ADD_KEYPTR(hh, c->stations, st->id, strlen(st->id), st);
    csms_station_persist(c, st, NULL, NULL);
    json_t *d = json_object();
    json_object_set_new(d, "station_id", json_string(id));
    csms_emit(c, "station.created", d);
    log_info("auto-registered station as Pending", "station=%s", id);
    return st;
}

csms_auth_t csms_authenticate(csms_t *c, const char *station_id, const char *user,
                              const char *pass, bool tls, const char *peer, int *retry_after)
{
    *retry_after = 0;
    if (!csms_station_id_valid(station_id)) return CSMS_AUTH_BAD_ID;
    int wait = fail_blocked(c, "ip", peer);
    if (!wait) wait = fail_blocked(c, "id", station_id);
    if (wait) {
        *retry_after = wait;
        return CSMS_AUTH_RATE_LIMITED;
    }
    csms_station_t *st = csms_station_find(c, station_id);
    if (!st) {
        if (!c->cfg.auto_register) {
            fail_note(c, "ip", peer);
            return CSMS_AUTH_UNKNOWN_STATION;
        }
        auto_register(c, station_id, pass);
        return CSMS_AUTH_OK;
    }
    if (st->security_profile >= 2 && !tls) return CSMS_AUTH_NEEDS_TLS;
    if (st->security_profile == 0 && !st->password_hash) return CSMS_AUTH_OK;
    if (!user || !pass) return CSMS_AUTH_NO_CREDENTIALS;
    if (strcmp(user, station_id) != 0 || !check_password(st, pass)) {
        fail_note(c, "ip", peer);
        int n = fail_note(c, "id", station_id);
        log_warn("station authentication failed", "station=%s peer=%s", station_id, peer);
        if (c->cfg.auth_fail_limit > 0 && n == c->cfg.auth_fail_limit)
            emit_locked_out(c, station_id, peer, n);
        return CSMS_AUTH_BAD_CREDENTIALS;
    }
    fail_clear(c, "id", station_id);
    /* Reconnected with the newest password: the previous one stops working. */
    if (st->password_hash_prev && password_verify(st->password_hash, pass)) {
        csms_set_str(&st->password_hash_prev, NULL);
        csms_station_persist(c, st, NULL, NULL);
    }
    return CSMS_AUTH_OK;
}
