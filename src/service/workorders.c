/*
 * The rules of work orders (see workorders.h): the state table, stock
 * arithmetic, plan due dates and the [workorders] config section. Tables,
 * not switch ladders: the state table is the documentation's too.
 */
#include "service/workorders.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const state_names[WO_STATE_COUNT_] = {
    [WO_OPEN] = "open",
    [WO_ASSIGNED] = "assigned",
    [WO_IN_PROGRESS] = "in_progress",
    [WO_WAITING_FOR_PARTS] = "waiting_for_parts",
    [WO_RESOLVED] = "resolved",
    [WO_CLOSED] = "closed",
};

static const char *const priority_names[WO_PRIORITY_COUNT_] = {
    [WO_URGENT] = "urgent", [WO_HIGH] = "high", [WO_NORMAL] = "normal", [WO_LOW] = "low"};

#define S(x) (1u << (x))
/* Where each state may go. open -> closed drops a duplicate or a false alarm;
 * resolved -> open reopens; closed is final. */
static const unsigned next_states[WO_STATE_COUNT_] = {
    [WO_OPEN] = S(WO_ASSIGNED) | S(WO_CLOSED),
    [WO_ASSIGNED] = S(WO_IN_PROGRESS) | S(WO_OPEN),
    [WO_IN_PROGRESS] = S(WO_WAITING_FOR_PARTS) | S(WO_RESOLVED) | S(WO_ASSIGNED),
    [WO_WAITING_FOR_PARTS] = S(WO_IN_PROGRESS) | S(WO_RESOLVED),
    [WO_RESOLVED] = S(WO_CLOSED) | S(WO_OPEN),
    [WO_CLOSED] = 0,
};
#undef S

const char *workorders_state_name(wo_state_t s)
{
    return s < WO_STATE_COUNT_ ? state_names[s] : "unknown";
}

int workorders_state_parse(const char *s)
{
    for (int i = 0; s && i < WO_STATE_COUNT_; i++)
        if (strcmp(s, state_names[i]) == 0) return i;
    return -1;
}

const char *workorders_priority_name(wo_priority_t p)
{
    return p < WO_PRIORITY_COUNT_ ? priority_names[p] : "unknown";
}

int workorders_priority_parse(const char *s)
{
    for (int i = 0; s && i < WO_PRIORITY_COUNT_; i++)
        if (strcmp(s, priority_names[i]) == 0) return i;
    return -1;
}

bool workorders_transition_ok(wo_state_t from, wo_state_t to)
{
    if (from >= WO_STATE_COUNT_ || to >= WO_STATE_COUNT_) return false;
    return (next_states[from] & (1u << to)) != 0;
}

void workorders_next_states(wo_state_t s, char *out, size_t len)
{
    out[0] = '\0';
    if (s >= WO_STATE_COUNT_ || !next_states[s]) {
        snprintf(out, len, "none (it is final)");
        return;
    }
    for (int i = 0; i < WO_STATE_COUNT_; i++) {
        if (!(next_states[s] & (1u << i))) continue;
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s%s", used ? ", " : "", state_names[i]);
    }
}

/* -------------------------------------------------------------- stock */

wo_stock_err_t workorders_stock_apply(wo_stock_kind_t kind, int64_t current, int64_t quantity,
                                      int64_t *after, int64_t *delta)
{
    int64_t lo = kind == WO_STOCK_CORRECT ? 0 : 1;
    if (quantity < lo || quantity > WORKORDERS_MAX_QUANTITY) return WO_STOCK_BAD_QUANTITY;
    if (current < 0) current = 0;
    int64_t n;
    switch (kind) {
    case WO_STOCK_RECEIVE:
        n = current + quantity;
        break;
    case WO_STOCK_CORRECT:
        n = quantity;
        break;
    case WO_STOCK_USE:
        n = current - quantity;
        break;
    default:
        return WO_STOCK_BAD_QUANTITY;
    }
    if (n < 0) return WO_STOCK_INSUFFICIENT;
    if (n > WORKORDERS_MAX_QUANTITY) return WO_STOCK_TOO_MUCH;
    *after = n;
    *delta = n - current;
    return WO_STOCK_OK;
}

bool workorders_stock_low(int64_t quantity, int64_t threshold)
{
    return threshold > 0 && quantity < threshold;
}

/* -------------------------------------------------------------- plans */

bool workorders_plan_due(int64_t next_due, int64_t now)
{
    return next_due <= now;
}

int64_t workorders_plan_advance(int64_t next_due, int interval_days, int64_t now)
{
    if (interval_days < 1) interval_days = 1;
    int64_t step = (int64_t)interval_days * WORKORDERS_DAY_MS;
    if (next_due > now) return next_due;
    int64_t behind = (now - next_due) / step + 1; /* whole intervals to pass now */
    return next_due + behind * step;
}

/* ------------------------------------------------------------- config */

void workorders_config_defaults(workorders_config_t *c)
{
    memset(c, 0, sizeof *c);
    c->auto_create = 0; /* off until rules are listed */
    c->auto_priority = WO_HIGH;
    for (int i = 0; i < ALERT_RULE_COUNT_; i++)
        c->rule_priority[i] = -1;
    c->max_attachment = 10 << 20;
}

static int set_auto_create(workorders_config_t *c, const char *value, char *err, size_t len)
{
    char buf[512];
    if (strlen(value) >= sizeof buf) {
        snprintf(err, len, "auto_create is too long");
        return -1;
    }
    snprintf(buf, sizeof buf, "%s", value);
    unsigned bits = 0;
    for (char *save = NULL, *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        if (strcmp(t, "none") == 0) continue;
        int r = alerts_rule_parse(t);
        if (r < 0) {
            snprintf(err, len, "auto_create: unknown alert rule '%.64s'", t);
            return -1;
        }
        bits |= 1u << r;
    }
    c->auto_create = bits;
    return 0;
}

/* "high" or "high, station_offline:urgent": a default and per-rule ones. */
static int set_auto_priority(workorders_config_t *c, const char *value, char *err, size_t len)
{
    char buf[512];
    if (strlen(value) >= sizeof buf) {
        snprintf(err, len, "auto_priority is too long");
        return -1;
    }
    snprintf(buf, sizeof buf, "%s", value);
    for (char *save = NULL, *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        char *colon = strchr(t, ':');
        const char *pname = colon ? colon + 1 : t;
        int p = workorders_priority_parse(pname);
        if (p < 0) {
            snprintf(err, len, "auto_priority: '%.64s' is not urgent, high, normal or low", pname);
            return -1;
        }
        if (!colon) {
            c->auto_priority = (wo_priority_t)p;
            continue;
        }
        *colon = '\0';
        int r = alerts_rule_parse(t);
        if (r < 0) {
            snprintf(err, len, "auto_priority: unknown alert rule '%.64s'", t);
            return -1;
        }
        c->rule_priority[r] = p;
    }
    return 0;
}

int workorders_config_set(workorders_config_t *c, const char *key, const char *value, char *err,
                          size_t err_len)
{
    if (strcmp(key, "auto_create") == 0) return set_auto_create(c, value, err, err_len);
    if (strcmp(key, "auto_priority") == 0) return set_auto_priority(c, value, err, err_len);
    if (strcmp(key, "max_attachment") == 0) {
        char *end;
        errno = 0;
        long v = strtol(value, &end, 10);
        if (errno || *end || v < 1024 || v > (1L << 30)) {
            snprintf(err, err_len, "max_attachment must be 1024..1073741824 bytes");
            return -1;
        }
        c->max_attachment = (int)v;
        return 0;
    }
    snprintf(err, err_len, "unknown key '%.64s' in [workorders]", key);
    return -1;
}

wo_priority_t workorders_config_priority(const workorders_config_t *c, alert_rule_t rule)
{
    if (rule < ALERT_RULE_COUNT_ && c->rule_priority[rule] >= 0)
        return (wo_priority_t)c->rule_priority[rule];
    return c->auto_priority;
}
