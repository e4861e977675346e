/* Run counters; see stats.h for the balance rule they keep. */
#include "sim/stats.h"

#include <stdio.h>
#include <string.h>

const char *const sim_outcome_names[SIM_OUT_COUNT] = {"ok",      "callerror",    "invalid",
                                                      "timeout", "disconnected", "abandoned"};

const char *const sim_msg_names[SIM_MSG_COUNT] = {
    [SIM_MSG_BOOT] = "BootNotification",
    [SIM_MSG_HEARTBEAT] = "Heartbeat",
    [SIM_MSG_STATUS] = "StatusNotification",
    [SIM_MSG_AUTHORIZE] = "Authorize",
    [SIM_MSG_TX_START] = "StartTransaction",
    [SIM_MSG_METER] = "MeterValues",
    [SIM_MSG_TX_STOP] = "StopTransaction",
    [SIM_MSG_FW_STATUS] = "FirmwareStatusNotification",
    [SIM_MSG_LOG_STATUS] = "DiagnosticsStatusNotification",
    [SIM_MSG_RESERVATION] = "ReservationStatusUpdate",
    [SIM_MSG_PROFILES] = "ReportChargingProfiles",
};

void sim_tally_add(sim_tally_t *t, const char *key, uint64_t n)
{
    for (unsigned i = 0; i < t->n; i++) {
        if (strcmp(t->e[i].key, key) == 0) {
            t->e[i].count += n;
            return;
        }
    }
    if (t->n == SIM_TALLY_MAX) {
        /* the last slot doubles as "other" once the table is full */
        snprintf(t->e[SIM_TALLY_MAX - 1].key, sizeof t->e[0].key, "other");
        t->e[SIM_TALLY_MAX - 1].count += n;
        return;
    }
    snprintf(t->e[t->n].key, sizeof t->e[0].key, "%s", key);
    t->e[t->n].count = n;
    t->n++;
}

uint64_t sim_tally_get(const sim_tally_t *t, const char *key)
{
    for (unsigned i = 0; i < t->n; i++)
        if (strcmp(t->e[i].key, key) == 0) return t->e[i].count;
    return 0;
}

uint64_t sim_tally_total(const sim_tally_t *t)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < t->n; i++)
        n += t->e[i].count;
    return n;
}

void sim_stats_init(sim_stats_t *s)
{
    memset(s, 0, sizeof *s);
}

void sim_stats_sent(sim_stats_t *s, sim_msg_t m)
{
    s->msg[m].sent++;
}

void sim_stats_outcome(sim_stats_t *s, sim_msg_t m, sim_outcome_t o, uint64_t latency_us)
{
    s->msg[m].out[o]++;
    if (o == SIM_OUT_OK || o == SIM_OUT_CALLERROR || o == SIM_OUT_INVALID)
        sim_hist_record(&s->msg[m].latency_us, latency_us);
}

uint64_t sim_stats_total_sent(const sim_stats_t *s)
{
    uint64_t n = 0;
    for (int m = 0; m < SIM_MSG_COUNT; m++)
        n += s->msg[m].sent;
    return n;
}

uint64_t sim_stats_total_outcome(const sim_stats_t *s, sim_outcome_t o)
{
    uint64_t n = 0;
    for (int m = 0; m < SIM_MSG_COUNT; m++)
        n += s->msg[m].out[o];
    return n;
}

int64_t sim_stats_unsettled(const sim_stats_t *s)
{
    int64_t n = (int64_t)sim_stats_total_sent(s);
    for (int o = 0; o < SIM_OUT_COUNT; o++)
        n -= (int64_t)sim_stats_total_outcome(s, o);
    return n;
}
