/*
 * The alert rules' settings: the [alerts] section of the config file. Kept
 * apart from the engine (alerts.h) so config.c can hold them without pulling
 * in the domain; the rule and severity names live here because the config
 * file, the API and the store all spell them the same way.
 */
#ifndef AMPGRID_SERVICE_ALERTS_CONFIG_H
#define AMPGRID_SERVICE_ALERTS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

typedef enum alert_rule {
    ALERT_CONNECTOR_FAULTED,
    ALERT_STATION_OFFLINE,
    ALERT_REBOOT_LOOP,
    ALERT_SESSION_STUCK,
    ALERT_METER_BACKWARDS,
    ALERT_METER_JUMP,
    ALERT_CONNECTOR_UNAVAILABLE,
    ALERT_FAILED_STARTS,
    ALERT_SECURITY_EVENT,
    ALERT_FIRMWARE_FAILED,
    ALERT_PARTS_LOW_STOCK,  /* raised by service/workorders (spare parts), not by a station */
    ALERT_CAMPAIGN_PAUSED,  /* a firmware campaign paused itself; one per campaign, no station */
    ALERT_PROFILES_REFUSED, /* load management: the station refuses charging profiles */
    ALERT_RULE_COUNT_
} alert_rule_t;

typedef enum alert_severity {
    ALERT_CRITICAL,
    ALERT_MAJOR,
    ALERT_MINOR,
    ALERT_WARNING,
    ALERT_INFO,
    ALERT_SEVERITY_COUNT_
} alert_severity_t;

#define ALERTS_MAX_REBOOTS 16
#define ALERTS_IGNORE_LEN 512

typedef struct alerts_config {
    bool enabled; /* the whole engine */
    bool rule_on[ALERT_RULE_COUNT_];
    alert_severity_t severity[ALERT_RULE_COUNT_]; /* security_event: the floor for its types */
    int offline_after;                            /* s disconnected before station_offline */
    int heartbeat_missed;  /* connected but silent for this many heartbeat intervals; 0 = off */
    int reboot_count;      /* boots ... */
    int reboot_window;     /* ... within this many seconds */
    int meter_interval;    /* s between a charging session's meter values, as configured */
    int stuck_intervals;   /* session_stuck after this many intervals without values */
    int max_power_kw;      /* meter_jump above this power per connector */
    int unavailable_after; /* s Unavailable before connector_unavailable */
    int failed_starts;     /* sessions in a row ... */
    int failed_start_wh;   /* ... that delivered less than this many Wh */
    char security_ignore[ALERTS_IGNORE_LEN]; /* comma-separated security event types */
} alerts_config_t;

const char *alerts_rule_name(alert_rule_t r);
int alerts_rule_parse(const char *s); /* -1 when unknown */
const char *alerts_severity_name(alert_severity_t s);
int alerts_severity_parse(const char *s); /* -1 when unknown */

void alerts_config_defaults(alerts_config_t *c);
/* One key of the [alerts] section. Returns 0, or -1 with a message in err
 * (an unknown key or a value that does not parse). */
int alerts_config_set(alerts_config_t *c, const char *key, const char *value, char *err,
                      size_t err_len);
/* Ranges. Returns 0, or -1 with a message. */
int alerts_config_validate(const alerts_config_t *c, char *err, size_t err_len);
/* Whether a security event type is on the ignore list. */
bool alerts_config_ignores(const alerts_config_t *c, const char *security_type);

#endif
