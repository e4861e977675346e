/*
 * The OCPP server: everything between a station's WebSocket and the domain.
 * main registers these functions as net/'s WebSocket callbacks; they
 * authenticate the upgrade, pick the protocol version's translator, run the
 * RPC layer (framing, validation, pending calls and timeouts) and call the
 * version-neutral domain in csms/.
 */
#ifndef AMPGRID_OCPP_OCPP_H
#define AMPGRID_OCPP_OCPP_H

#include "csms/csms.h"
#include "net/net.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct ocpp_server ocpp_server_t;

typedef struct ocpp_config {
    int call_timeout; /* seconds to wait for a station's answer to our CALL */
    bool trace;       /* log every frame (passwords redacted) */
} ocpp_config_t;

ocpp_server_t *ocpp_server_create(uv_loop_t *loop, csms_t *csms, const ocpp_config_t *cfg);
/* Stops the server's timer (shutdown begins); sessions still close through
 * ocpp_on_close while the loop runs. */
void ocpp_server_stop(ocpp_server_t *s);
/* Frees the server once the loop has stopped. */
void ocpp_server_free(ocpp_server_t *s);

/* The subprotocols offered to net/ (NULL-terminated). */
const char *const *ocpp_subprotocols(void);

/* net/ callbacks (ud = the ocpp_server_t). */
void ocpp_on_upgrade(void *ud, const net_upgrade_t *up, net_decision_t *d);
void ocpp_on_open(void *ud, net_conn_t *c, void *conn_user);
void ocpp_on_message(void *ud, net_conn_t *c, const char *data, size_t len);
void ocpp_on_close(void *ud, net_conn_t *c);

/* Metrics. */
#define OCPP_LATENCY_BUCKETS 12
extern const double ocpp_latency_bounds_s[OCPP_LATENCY_BUCKETS];
typedef struct ocpp_stats {
    uint64_t validation_errors, malformed_frames, auth_failures;
    uint64_t latency_buckets[OCPP_LATENCY_BUCKETS];
    double latency_sum_s;
    uint64_t latency_count;
} ocpp_stats_t;
const ocpp_stats_t *ocpp_server_stats(const ocpp_server_t *s);
/* Calls cb for every (direction, action, result) message counter. */
typedef void (*ocpp_counter_cb)(void *ud, const char *direction, const char *action,
                                const char *result, uint64_t count);
void ocpp_server_counters(const ocpp_server_t *s, ocpp_counter_cb cb, void *ud);

#endif
