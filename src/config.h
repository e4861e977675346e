/*
 * Server configuration: defaults, the INI file (libinih) and command-line
 * overrides, in that order. Every option is documented in
 * docs/configuration.md; keep the two in step.
 */
#ifndef AMPGRID_CONFIG_H
#define AMPGRID_CONFIG_H

#include "service/alerts_config.h"
#include "service/workorders.h"
#include "smart/engine.h"
#include "smart/openadr.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct config {
    /* [server] */
    char data_dir[512];
    char bind[64];
    int ocpp_port, tls_port, http_port;
    int fd_limit;
    /* [tls] */
    char tls_cert_rsa[512], tls_key_rsa[512], tls_cert_ecdsa[512], tls_key_ecdsa[512];
    /* [ocpp] */
    int heartbeat_interval, pending_interval, call_timeout;
    int max_message_size;
    int ping_interval, ping_timeout;
    bool auto_register, trace;
    /* [security] */
    int auth_fail_limit, auth_fail_window;
    int password_opslimit, password_memlimit_kib;
    /* [store] */
    bool sync_full;
    /* [http] */
    int max_body;
    int session_lifetime, session_idle; /* dashboard login sessions, seconds */
    int rate_limit, rate_burst;         /* API requests per second per token or user */
    bool cookie_secure;                 /* mark the session cookie Secure (behind HTTPS) */
    /* [webhooks] */
    int webhook_timeout, webhook_connect_timeout, webhook_retry_base, webhook_max_attempts;
    int webhook_concurrency, webhook_retention_days;
    bool webhook_allow_private; /* deliver to loopback/private addresses */
    /* [transfers]: station file transfers (firmware downloads, diagnostics uploads) */
    char transfers_base_url[256]; /* "" = http://<bind or 127.0.0.1>:<http_port> */
    char transfers_dir[512];      /* "" = <data_dir>/files */
    int transfers_max_upload_mb, transfers_token_ttl;
    int diagnostics_timeout; /* s without news before a diagnostics request is timed_out */
    /* [log] */
    char log_level[16];
    /* [alerts]: the fault-detection rules (service/alerts_config.c reads the keys) */
    alerts_config_t alerts;
    /* [workorders]: tickets from alerts (service/workorders.c reads the keys) */
    workorders_config_t workorders;
    /* [smart]: load management (smart/engine.c reads the keys) */
    smart_engine_config_t smart;
    /* [openadr]: the OpenADR 3.0 VEN client (smart/openadr.c reads the keys) */
    openadr_config_t openadr;
} config_t;

void config_defaults(config_t *c);
/* Loads an INI file over the current values. Returns 0, or -1 with a message
 * naming the file, line and problem. */
int config_load(config_t *c, const char *path, char *err, size_t err_len);
/* Checks ranges and combinations. */
int config_validate(const config_t *c, char *err, size_t err_len);

#endif
