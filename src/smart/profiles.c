/*
 * Charging-profile payloads for OCPP 1.6 and 2.0.1 and the hysteresis that
 * keeps them rare (see profiles.h). The two versions differ in names and
 * nesting only; one builder per purpose fills both.
 */
#include "smart/profiles.h"

#include "util/timefmt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TX_STACK_LEVEL 1 /* TxProfiles; the station-wide profiles use 0 */

int smart_proto_parse(const char *sub)
{
    if (!sub) return -1;
    if (strcmp(sub, "ocpp1.6") == 0) return SMART_PROTO_16;
    if (strcmp(sub, "ocpp2.0.1") == 0) return SMART_PROTO_201;
    return -1;
}

double smart_profile_round(double a)
{
    if (!isfinite(a) || a <= 0) return 0;
    return floor(a * 10.0 + 1e-9) / 10.0;
}

bool smart_profile_should_send(const smart_profile_config_t *cfg, double last_a, double new_a)
{
    if (last_a < 0) return true;
    double d = new_a - last_a;
    if (d < -0.05) return true; /* lower: always, the others' grants count on it */
    if (d <= 0.05) return false;
    if (last_a == 0) return true; /* a paused session resumes */
    return d >= cfg->hysteresis_a || d >= cfg->hysteresis_pct * last_a;
}

static json_t *periods_json(double limit_a, int phases, const smart_period_t *p, int n)
{
    json_t *arr = json_array();
    if (n <= 0) {
        json_t *o = json_pack("{s:i,s:f}", "startPeriod", 0, "limit", smart_profile_round(limit_a));
        if (phases > 0) json_object_set_new(o, "numberPhases", json_integer(phases));
        json_array_append_new(arr, o);
        return arr;
    }
    for (int i = 0; i < n; i++) {
        json_t *o = json_pack("{s:i,s:f}", "startPeriod", p[i].offset, "limit",
                              smart_profile_round(p[i].limit_a));
        if (phases > 0) json_object_set_new(o, "numberPhases", json_integer(phases));
        json_array_append_new(arr, o);
    }
    return arr;
}

/* The profile object both versions share, with the version's own schedule shape. */
static json_t *profile(smart_proto_t proto, int id, int stack, const char *purpose,
                       const char *tx_id, json_t *periods, int64_t start)
{
    json_t *sched =
        json_pack("{s:s,s:o}", "chargingRateUnit", "A", "chargingSchedulePeriod", periods);
    char buf[TIME_RFC3339_LEN];
    if (start)
        json_object_set_new(sched, "startSchedule",
                            json_string(time_format_rfc3339(start * 1000, buf)));
    json_t *p =
        json_pack("{s:i,s:i,s:s,s:s}", "id", id, "stackLevel", stack, "chargingProfilePurpose",
                  purpose, "chargingProfileKind", start ? "Absolute" : "Relative");
    if (proto == SMART_PROTO_16) {
        json_object_set_new(p, "chargingProfileId", json_integer(id));
        json_object_del(p, "id");
        json_object_set_new(p, "chargingSchedule", sched);
        if (tx_id) {
            char *end;
            long long v = strtoll(tx_id, &end, 10);
            if (*tx_id && !*end) json_object_set_new(p, "transactionId", json_integer(v));
        }
    } else {
        json_object_set_new(sched, "id", json_integer(id));
        json_object_set_new(p, "chargingSchedule", json_pack("[o]", sched));
        if (tx_id) json_object_set_new(p, "transactionId", json_string(tx_id));
    }
    return p;
}

static json_t *wrap(smart_proto_t proto, int evse_id, json_t *prof)
{
    if (proto == SMART_PROTO_16)
        return json_pack("{s:i,s:o}", "connectorId", evse_id, "csChargingProfiles", prof);
    return json_pack("{s:i,s:o}", "evseId", evse_id, "chargingProfile", prof);
}

json_t *smart_profile_tx(smart_proto_t proto, int evse_id, const char *tx_id, double limit_a,
                         int phases, const smart_period_t *periods, int n, int64_t start)
{
    json_t *per = periods_json(limit_a, phases, periods, n);
    return wrap(proto, evse_id,
                profile(proto, SMART_PROFILE_ID_TX_BASE + evse_id, TX_STACK_LEVEL, "TxProfile",
                        tx_id, per, n > 0 ? start : 0));
}

json_t *smart_profile_default(smart_proto_t proto, double limit_a)
{
    return wrap(proto, 0,
                profile(proto, SMART_PROFILE_ID_DEFAULT, 0, "TxDefaultProfile", NULL,
                        periods_json(limit_a, 0, NULL, 0), 0));
}

json_t *smart_profile_station_max(smart_proto_t proto, double limit_a)
{
    const char *purpose =
        proto == SMART_PROTO_16 ? "ChargePointMaxProfile" : "ChargingStationMaxProfile";
    return wrap(proto, 0,
                profile(proto, SMART_PROFILE_ID_MAX, 0, purpose, NULL,
                        periods_json(limit_a, 0, NULL, 0), 0));
}

json_t *smart_profile_clear_id(smart_proto_t proto, int id)
{
    return json_pack("{s:i}", proto == SMART_PROTO_16 ? "id" : "chargingProfileId", id);
}

json_t *smart_profile_clear_tx(smart_proto_t proto)
{
    json_t *c =
        json_pack("{s:s,s:i}", "chargingProfilePurpose", "TxProfile", "stackLevel", TX_STACK_LEVEL);
    if (proto == SMART_PROTO_16) return c;
    return json_pack("{s:o}", "chargingProfileCriteria", c);
}

json_t *smart_profile_composite_request(smart_proto_t proto, int evse_id, int duration_s)
{
    return json_pack("{s:i,s:i,s:s}", proto == SMART_PROTO_16 ? "connectorId" : "evseId", evse_id,
                     "duration", duration_s, "chargingRateUnit", "A");
}

bool smart_profile_composite_limit(smart_proto_t proto, const json_t *answer, double *limit_a)
{
    const char *status = json_string_value(json_object_get(answer, "status"));
    if (!status || strcmp(status, "Accepted") != 0) return false;
    const json_t *s =
        json_object_get(answer, proto == SMART_PROTO_16 ? "chargingSchedule" : "schedule");
    const char *unit = json_string_value(json_object_get(s, "chargingRateUnit"));
    const json_t *first = json_array_get(json_object_get(s, "chargingSchedulePeriod"), 0);
    const json_t *lim = json_object_get(first, "limit");
    if (!unit || strcmp(unit, "A") != 0 || !json_is_number(lim)) return false;
    *limit_a = json_number_value(lim);
    return true;
}

bool smart_profile_accepted(const json_t *answer)
{
    const char *s = json_string_value(json_object_get(answer, "status"));
    return s && strcmp(s, "Accepted") == 0;
}
