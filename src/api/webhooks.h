/*
 * Outbound webhooks: integrations subscribe a URL to event types and get a
 * signed POST for each such event, retried with back-off until it succeeds
 * or runs out of attempts. See webhooks.c for how deliveries flow.
 *
 * This header is what main (through api_deps_t) and the unit tests need: the
 * configuration, and the pure functions that define the wire contract
 * (signature, back-off schedule, event types).
 */
#ifndef AMPGRID_API_WEBHOOKS_H
#define AMPGRID_API_WEBHOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct webhooks_config {
    int timeout;         /* seconds per attempt (whole request) */
    int connect_timeout; /* seconds */
    int retry_base;      /* seconds: the first retry waits about this long, then doubling */
    int max_attempts;    /* then the delivery is failed */
    int concurrency;     /* deliveries in flight per webhook */
    int retention_days;  /* finished deliveries older than this are deleted */
    bool allow_private;  /* may deliver to loopback/private addresses */
} webhooks_config_t;

/* Defaults used when a field is 0. */
#define WEBHOOKS_DEFAULT_TIMEOUT 10
#define WEBHOOKS_DEFAULT_CONNECT_TIMEOUT 5
#define WEBHOOKS_DEFAULT_RETRY_BASE 10
#define WEBHOOKS_DEFAULT_MAX_ATTEMPTS 8
#define WEBHOOKS_DEFAULT_CONCURRENCY 4
#define WEBHOOKS_DEFAULT_RETENTION_DAYS 30

/* The longest wait between two attempts. */
#define WEBHOOKS_MAX_BACKOFF_MS (24LL * 3600 * 1000)

/* Delay before the next attempt after `attempts` failed ones (1 = the first
 * failed): retry_base * 2^(attempts-1) seconds with "equal jitter" (a random
 * point in the upper half, from rnd), at least retry_after seconds when the
 * receiver asked for that (-1 = it did not), at most WEBHOOKS_MAX_BACKOFF_MS. */
int64_t webhooks_backoff_ms(int retry_base, int attempts, int retry_after, uint32_t rnd);

/* X-Ampgrid-Signature value for a body sent at unix time t:
 * "t=<t>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>". out holds
 * WEBHOOKS_SIGNATURE_MAX bytes. */
#define WEBHOOKS_SIGNATURE_MAX 96
void webhooks_sign(const char *secret, int64_t t, const char *body, size_t len, char *out);

/* Whether s is an event type a webhook may subscribe to ("*" included). */
bool webhooks_event_type_valid(const char *s);

#endif
