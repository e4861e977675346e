/*
 * The [alerts] section: each rule is switched by its own name
 * (`connector_faulted = off`), its severity by `<rule>_severity`, and the
 * thresholds by the keys in the table below. config.c hands every key of the
 * section here, so adding a threshold touches this file only.
 */
#include "service/alerts_config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const rule_names[ALERT_RULE_COUNT_] = {
    [ALERT_CONNECTOR_FAULTED] = "connector_faulted",
    [ALERT_STATION_OFFLINE] = "station_offline",
    [ALERT_REBOOT_LOOP] = "reboot_loop",
    [ALERT_SESSION_STUCK] = "session_stuck",
    [ALERT_METER_BACKWARDS] = "meter_backwards",
    [ALERT_METER_JUMP] = "meter_jump",
    [ALERT_CONNECTOR_UNAVAILABLE] = "connector_unavailable",
    [ALERT_FAILED_STARTS] = "failed_starts",
    [ALERT_SECURITY_EVENT] = "security_event",
    [ALERT_FIRMWARE_FAILED] = "firmware_failed",
    [ALERT_PARTS_LOW_STOCK] = "parts_low_stock",
    [ALERT_CAMPAIGN_PAUSED] = "campaign_paused",
    [ALERT_PROFILES_REFUSED] = "profiles_refused",
};

static const char *const severity_names[ALERT_SEVERITY_COUNT_] = {
    [ALERT_CRITICAL] = "critical", [ALERT_MAJOR] = "major", [ALERT_MINOR] = "minor",
    [ALERT_WARNING] = "warning",   [ALERT_INFO] = "info",
};

static const alert_severity_t default_severity[ALERT_RULE_COUNT_] = {
    [ALERT_CONNECTOR_FAULTED] = ALERT_MAJOR,     [ALERT_STATION_OFFLINE] = ALERT_MAJOR,
    [ALERT_REBOOT_LOOP] = ALERT_MAJOR,           [ALERT_SESSION_STUCK] = ALERT_MINOR,
    [ALERT_METER_BACKWARDS] = ALERT_MINOR,       [ALERT_METER_JUMP] = ALERT_MINOR,
    [ALERT_CONNECTOR_UNAVAILABLE] = ALERT_MINOR, [ALERT_FAILED_STARTS] = ALERT_MAJOR,
    [ALERT_SECURITY_EVENT] = ALERT_WARNING,      [ALERT_FIRMWARE_FAILED] = ALERT_MAJOR,
    [ALERT_PARTS_LOW_STOCK] = ALERT_WARNING,     [ALERT_CAMPAIGN_PAUSED] = ALERT_MAJOR,
    [ALERT_PROFILES_REFUSED] = ALERT_MAJOR,
};

#define THRESHOLD(key, field, lo, hi)                                                              \
    {                                                                                              \
        key, offsetof(alerts_config_t, field), lo, hi                                              \
    }

static const struct threshold {
    const char *key;
    size_t off;
    int lo, hi;
} thresholds[] = {
    THRESHOLD("offline_after", offline_after, 1, 604800),
    THRESHOLD("heartbeat_missed", heartbeat_missed, 0, 100),
    THRESHOLD("reboot_count", reboot_count, 2, ALERTS_MAX_REBOOTS),
    THRESHOLD("reboot_window", reboot_window, 1, 86400),
    THRESHOLD("meter_interval", meter_interval, 1, 86400),
    THRESHOLD("stuck_intervals", stuck_intervals, 1, 1000),
    THRESHOLD("max_power_kw", max_power_kw, 1, 100000),
    THRESHOLD("unavailable_after", unavailable_after, 1, 2592000),
    THRESHOLD("failed_starts_count", failed_starts, 1, 1000),
    THRESHOLD("failed_start_wh", failed_start_wh, 0, 1000000),
};

const char *alerts_rule_name(alert_rule_t r)
{
    return r < ALERT_RULE_COUNT_ ? rule_names[r] : "unknown";
}

int alerts_rule_parse(const char *s)
{
    for (int i = 0; s && i < ALERT_RULE_COUNT_; i++)
        if (strcmp(s, rule_names[i]) == 0) return i;
    return -1;
}

const char *alerts_severity_name(alert_severity_t s)
{
    return s < ALERT_SEVERITY_COUNT_ ? severity_names[s] : "unknown";
}

int alerts_severity_parse(const char *s)
{
    for (int i = 0; s && i < ALERT_SEVERITY_COUNT_; i++)
        if (strcmp(s, severity_names[i]) == 0) return i;
    return -1;
}

void alerts_config_defaults(alerts_config_t *c)
{
    memset(c, 0, sizeof *c);
    c->enabled = true;
    for (int i = 0; i < ALERT_RULE_COUNT_; i++) {
        c->rule_on[i] = true;
        c->severity[i] = default_severity[i];
    }
    c->offline_after = 300;
    c->heartbeat_missed = 3;
    c->reboot_count = 3;
    c->reboot_window = 600;
    c->meter_interval = 60;
    c->stuck_intervals = 5;
    c->max_power_kw = 400;
    c->unavailable_after = 3600;
    c->failed_starts = 3;
    c->failed_start_wh = 1;
    /* what every healthy station reports when it starts or updates */
    snprintf(c->security_ignore, sizeof c->security_ignore, "%s",
             "StartupOfTheDevice,ResetOrReboot,FirmwareUpdated,SettingSystemTime");
}

static int parse_bool(const char *v, bool *out)
{
    if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1") || !strcmp(v, "on"))
        *out = true;
    else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0") || !strcmp(v, "off"))
        *out = false;
    else
        return -1;
    return 0;
}

static int parse_int(const char *v, int *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (!*v || *end || errno || n < -1000000000L || n > 1000000000L) return -1;
    *out = (int)n;
    return 0;
}

/* "<rule>_severity": the rule's index, or -1. */
static int severity_key(const char *key)
{
    const char *suffix = "_severity";
    size_t n = strlen(key), sn = strlen(suffix);
    if (n <= sn || strcmp(key + n - sn, suffix) != 0) return -1;
    char rule[64];
    if (n - sn >= sizeof rule) return -1;
    memcpy(rule, key, n - sn);
    rule[n - sn] = '\0';
    return alerts_rule_parse(rule);
}

static int set_threshold(alerts_config_t *c, const char *key, const char *value, char *err,
                         size_t err_len, bool *found)
{
    *found = false;
    for (size_t i = 0; i < sizeof thresholds / sizeof thresholds[0]; i++) {
        if (strcmp(thresholds[i].key, key) != 0) continue;
        *found = true;
        if (parse_int(value, (int *)(void *)((char *)c + thresholds[i].off)) == 0) return 0;
        snprintf(err, err_len, "[alerts] %s: invalid value '%.64s' (a whole number)", key, value);
        return -1;
    }
    return 0;
}

int alerts_config_set(alerts_config_t *c, const char *key, const char *value, char *err,
                      size_t err_len)
{
    int rule = alerts_rule_parse(key), sev = severity_key(key);
    bool found;
    if (strcmp(key, "enabled") == 0 || rule >= 0) {
        if (parse_bool(value, rule >= 0 ? &c->rule_on[rule] : &c->enabled) == 0) return 0;
        snprintf(err, err_len, "[alerts] %s: invalid value '%.64s' (on or off)", key, value);
        return -1;
    }
    if (sev >= 0) {
        int s = alerts_severity_parse(value);
        if (s >= 0) {
            c->severity[sev] = (alert_severity_t)s;
            return 0;
        }
        snprintf(err, err_len,
                 "[alerts] %s: invalid value '%.64s' (critical, major, minor, warning or info)",
                 key, value);
        return -1;
    }
    if (strcmp(key, "security_ignore") == 0) {
        if (strlen(value) < sizeof c->security_ignore) {
            snprintf(c->security_ignore, sizeof c->security_ignore, "%s", value);
            return 0;
        }
        snprintf(err, err_len, "[alerts] security_ignore is longer than %d characters",
                 ALERTS_IGNORE_LEN - 1);
        return -1;
    }
    if (set_threshold(c, key, value, err, err_len, &found) != 0) return -1;
    if (found) return 0;
    snprintf(err, err_len, "unknown option [alerts] %s", key);
    return -1;
}

int alerts_config_validate(const alerts_config_t *c, char *err, size_t err_len)
{
    for (size_t i = 0; i < sizeof thresholds / sizeof thresholds[0]; i++) {
        int v = *(const int *)(const void *)((const char *)c + thresholds[i].off);
        if (v < thresholds[i].lo || v > thresholds[i].hi) {
            snprintf(err, err_len, "[alerts] %s = %d: must be %d to %d", thresholds[i].key, v,
                     thresholds[i].lo, thresholds[i].hi);
            return -1;
        }
    }
    return 0;
}

bool alerts_config_ignores(const alerts_config_t *c, const char *type)
{
    size_t n = strlen(type);
    for (const char *p = c->security_ignore; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t len = strcspn(p, ",");
        size_t trimmed = len;
        while (trimmed && p[trimmed - 1] == ' ')
            trimmed--;
        if (trimmed == n && n && strncmp(p, type, n) == 0) return true;
        p += len;
    }
    return false;
}
