/* Configuration defaults, INI loading and validation; see config.h. */
#include "config.h"

#include "util/log.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void config_defaults(config_t *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->data_dir, sizeof c->data_dir, "var");
    snprintf(c->bind, sizeof c->bind, "0.0.0.0");
    c->ocpp_port = 9000;
    c->http_port = 8080;
    c->heartbeat_interval = 300;
    c->pending_interval = 30;
    c->call_timeout = 30;
    c->max_message_size = 65536;
    c->ping_interval = 60;
    c->ping_timeout = 30;
    c->auth_fail_limit = 10;
    c->auth_fail_window = 60;
    c->password_opslimit = 1;
    c->password_memlimit_kib = 2048;
    c->sync_full = true;
    c->max_body = 1 << 20;
    c->session_lifetime = 86400;
    c->session_idle = 14400;
    c->rate_limit = 50;
    c->rate_burst = 200;
    c->webhook_timeout = 10;
    c->webhook_connect_timeout = 5;
    c->webhook_retry_base = 10;
    c->webhook_max_attempts = 8;
    c->webhook_concurrency = 4;
    c->webhook_retention_days = 30;
    c->transfers_max_upload_mb = 512;
    c->transfers_token_ttl = 86400;
    c->diagnostics_timeout = 3600;
    snprintf(c->log_level, sizeof c->log_level, "info");
    alerts_config_defaults(&c->alerts);
    workorders_config_defaults(&c->workorders);
    smart_engine_config_defaults(&c->smart);
    openadr_config_defaults(&c->openadr);
}

typedef struct load_ctx {
    config_t *c;
    char err[256];
} load_ctx_t;

static int parse_int(const char *v, int *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (*v == '\0' || *end || errno || n < -1000000000L || n > 1000000000L) return -1;
    *out = (int)n;
    return 0;
}

static int parse_bool(const char *v, bool *out)
{
    if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1") || !strcmp(v, "on")) *out = true;
    else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0") || !strcmp(v, "off"))
        *out = false;
    else return -1;
    return 0;
}

#define STR(sec, key, field) {sec, key, 's', offsetof(config_t, field), sizeof(((config_t *)0)->field)}
#define INT(sec, key, field) {sec, key, 'i', offsetof(config_t, field), 0}
#define BOOL(sec, key, field) {sec, key, 'b', offsetof(config_t, field), 0}

static const struct option {
    const char *section, *key;
    char type;
    size_t off, size;
} options[] = {
    STR("server", "data_dir", data_dir),
    STR("server", "bind", bind),
    INT("server", "ocpp_port", ocpp_port),
    INT("server", "tls_port", tls_port),
    INT("server", "http_port", http_port),
    INT("server", "fd_limit", fd_limit),
    STR("tls", "cert_rsa", tls_cert_rsa),
    STR("tls", "key_rsa", tls_key_rsa),
    STR("tls", "cert_ecdsa", tls_cert_ecdsa),
    STR("tls", "key_ecdsa", tls_key_ecdsa),
    INT("ocpp", "heartbeat_interval", heartbeat_interval),
    INT("ocpp", "pending_interval", pending_interval),
    INT("ocpp", "call_timeout", call_timeout),
    INT("ocpp", "max_message_size", max_message_size),
    INT("ocpp", "ping_interval", ping_interval),
    INT("ocpp", "ping_timeout", ping_timeout),
    BOOL("ocpp", "auto_register", auto_register),
    BOOL("ocpp", "trace", trace),
    INT("security", "auth_fail_limit", auth_fail_limit),
    INT("security", "auth_fail_window", auth_fail_window),
    INT("security", "password_opslimit", password_opslimit),
    INT("security", "password_memlimit_kib", password_memlimit_kib),
    BOOL("store", "synchronous_full", sync_full),
    INT("http", "max_body", max_body),
    INT("http", "session_lifetime", session_lifetime),
    INT("http", "session_idle", session_idle),
    INT("http", "rate_limit", rate_limit),
    INT("http", "rate_burst", rate_burst),
    BOOL("http", "cookie_secure", cookie_secure),
    INT("webhooks", "timeout", webhook_timeout),
    INT("webhooks", "connect_timeout", webhook_connect_timeout),
    INT("webhooks", "retry_base", webhook_retry_base),
    INT("webhooks", "max_attempts", webhook_max_attempts),
    INT("webhooks", "concurrency", webhook_concurrency),
    INT("webhooks", "retention_days", webhook_retention_days),
    BOOL("webhooks", "allow_private_networks", webhook_allow_private),
    STR("transfers", "base_url", transfers_base_url),
    STR("transfers", "directory", transfers_dir),
    INT("transfers", "max_upload_mb", transfers_max_upload_mb),
    INT("transfers", "token_ttl", transfers_token_ttl),
    INT("transfers", "diagnostics_timeout", diagnostics_timeout),
    STR("log", "level", log_level),
};

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
    load_ctx_t *l = user;
    if (strcmp(section, "openadr") == 0) {
        char err[256];
        if (openadr_config_set(&l->c->openadr, name, value, err, sizeof err) == 0) return 1;
        if (!l->err[0]) snprintf(l->err, sizeof l->err, "%s", err);
        return 0;
    }
    if (strcmp(section, "smart") == 0) {
        char err[256];
        if (smart_engine_config_set(&l->c->smart, name, value, err, sizeof err) == 0) return 1;
        if (!l->err[0]) snprintf(l->err, sizeof l->err, "%s", err);
        return 0;
    }
    if (strcmp(section, "workorders") == 0) {
        char err[256];
        if (workorders_config_set(&l->c->workorders, name, value, err, sizeof err) == 0) return 1;
        if (!l->err[0]) snprintf(l->err, sizeof l->err, "%s", err);
        return 0;
    }
    if (strcmp(section, "alerts") == 0) {
        char err[256];
        if (alerts_config_set(&l->c->alerts, name, value, err, sizeof err) == 0) return 1;
        if (!l->err[0]) snprintf(l->err, sizeof l->err, "%s", err);
        return 0;
    }
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++) {
        const struct option *o = &options[i];
        if (strcmp(o->section, section) != 0 || strcmp(o->key, name) != 0) continue;
        char *field = (char *)l->c + o->off;
        int rc = 0;
        if (o->type == 's') {
            if (strlen(value) >= o->size) rc = -1;
            else memcpy(field, value, strlen(value) + 1);
        } else if (o->type == 'i') {
            rc = parse_int(value, (int *)(void *)field);
        } else {
            rc = parse_bool(value, (bool *)(void *)field);
        }
        if (rc) {
            /* inih goes on after an error and reports the first bad line: keep its message */
            if (!l->err[0])
                snprintf(l->err, sizeof l->err, "[%s] %s: invalid value '%.64s'", section, name,
                         value);
            return 0;
        }
        return 1;
    }
    if (!l->err[0]) snprintf(l->err, sizeof l->err, "unknown option [%s] %s", section, name);
    return 0;
}

int config_load(config_t *c, const char *path, char *err, size_t err_len)
{
    load_ctx_t l = {.c = c};
    int rc = ini_parse(path, on_entry, &l);
    if (rc == -1) {
        snprintf(err, err_len, "cannot open config file %s", path);
        return -1;
    }
    if (rc != 0) {
        snprintf(err, err_len, "%s line %d: %s", path, rc, l.err[0] ? l.err : "syntax error");
        return -1;
    }
    return 0;
}

static int port_ok(int p)
{
    return p >= 0 && p <= 65535;
}

int config_validate(const config_t *c, char *err, size_t err_len)
{
    log_level_t lvl;
    const struct {
        const char *name;
        int v;
    } ports[] = {{"ocpp_port", c->ocpp_port}, {"tls_port", c->tls_port}, {"http_port", c->http_port}};
    for (size_t i = 0; i < 3; i++) {
        if (!port_ok(ports[i].v)) {
            snprintf(err, err_len, "[server] %s = %d: ports must be 0 (off) to 65535", ports[i].name,
                     ports[i].v);
            return -1;
        }
    }
    if (!c->ocpp_port && !c->tls_port) {
        snprintf(err, err_len, "enable at least one OCPP listener (ocpp_port or tls_port)");
        return -1;
    }
    if (c->tls_port && !c->tls_cert_rsa[0] && !c->tls_cert_ecdsa[0]) {
        snprintf(err, err_len, "tls_port needs [tls] cert_rsa/key_rsa and/or cert_ecdsa/key_ecdsa");
        return -1;
    }
    if ((c->tls_cert_rsa[0] && !c->tls_key_rsa[0]) || (c->tls_cert_ecdsa[0] && !c->tls_key_ecdsa[0])) {
        snprintf(err, err_len, "each [tls] certificate needs its key file");
        return -1;
    }
    if (c->heartbeat_interval < 1 || c->pending_interval < 1 || c->call_timeout < 1) {
        snprintf(err, err_len, "heartbeat_interval, pending_interval and call_timeout must be at least 1 second");
        return -1;
    }
    if (c->max_message_size < 1024 || c->max_message_size > 16 * 1024 * 1024) {
        snprintf(err, err_len, "max_message_size must be from 1024 to 16777216 bytes");
        return -1;
    }
    if (c->ping_interval < 0 || c->ping_timeout < 1) {
        snprintf(err, err_len, "ping_interval must be 0 (off) or more, ping_timeout at least 1");
        return -1;
    }
    if (c->password_opslimit < 1 || c->password_memlimit_kib < 8) {
        snprintf(err, err_len, "password_opslimit must be >= 1 and password_memlimit_kib >= 8");
        return -1;
    }
    if (c->max_body < 1024) {
        snprintf(err, err_len, "max_body must be at least 1024 bytes");
        return -1;
    }
    if (c->session_lifetime < 60 || c->session_idle < 60) {
        snprintf(err, err_len, "session_lifetime and session_idle must be at least 60 seconds");
        return -1;
    }
    if (c->rate_limit < 0 || c->rate_burst < 1) {
        snprintf(err, err_len,
                 "rate_limit must be >= 0 (0 = unlimited) and rate_burst must be >= 1");
        return -1;
    }
    if (c->webhook_timeout < 1 || c->webhook_timeout > 300 || c->webhook_connect_timeout < 1 ||
        c->webhook_connect_timeout > c->webhook_timeout) {
        snprintf(err, err_len, "[webhooks] timeout must be 1 to 300 seconds and connect_timeout "
                               "1 second up to timeout");
        return -1;
    }
    if (c->webhook_retry_base < 1 || c->webhook_retry_base > 86400 ||
        c->webhook_max_attempts < 1 || c->webhook_max_attempts > 50) {
        snprintf(err, err_len,
                 "[webhooks] retry_base must be 1 to 86400 seconds and max_attempts 1 to 50");
        return -1;
    }
    if (c->webhook_concurrency < 1 || c->webhook_concurrency > 64 ||
        c->webhook_retention_days < 1) {
        snprintf(err, err_len,
                 "[webhooks] concurrency must be 1 to 64 and retention_days at least 1");
        return -1;
    }
    if (c->transfers_max_upload_mb < 1 || c->transfers_max_upload_mb > 65536 ||
        c->transfers_token_ttl < 60 || c->transfers_token_ttl > 30 * 86400) {
        snprintf(err, err_len, "[transfers] max_upload_mb must be 1 to 65536 and token_ttl 60 "
                               "to 2592000 seconds");
        return -1;
    }
    if (c->diagnostics_timeout < 1 || c->diagnostics_timeout > 30 * 86400) {
        snprintf(err, err_len, "[transfers] diagnostics_timeout must be 1 to 2592000 seconds");
        return -1;
    }
    if (c->transfers_base_url[0] && strncmp(c->transfers_base_url, "http://", 7) != 0 &&
        strncmp(c->transfers_base_url, "https://", 8) != 0) {
        snprintf(err, err_len, "[transfers] base_url must start with http:// or https://");
        return -1;
    }
    if (alerts_config_validate(&c->alerts, err, err_len)) return -1;
    if (smart_engine_config_validate(&c->smart, err, err_len)) return -1;
    if (openadr_config_validate(&c->openadr, err, err_len)) return -1;
    if (!log_parse_level(c->log_level, &lvl)) {
        snprintf(err, err_len, "log level must be debug, info, warn or error");
        return -1;
    }
    return 0;
}
