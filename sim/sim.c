/* The simulator context: configuration defaults, stations, clock, randomness. */
#include "sim/sim.h"

#include "sim/diagnostics.h"
#include "sim/firmware.h"
#include "sim/local_list.h"
#include "sim/profiles.h"
#include "util/alloc.h"
#include "util/timefmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sim_config_defaults(sim_config_t *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->host, sizeof c->host, "127.0.0.1");
    c->port = 9000;
    snprintf(c->path, sizeof c->path, "/ocpp");
    snprintf(c->protocols, sizeof c->protocols, "ocpp1.6");
    c->stations = 10;
    c->first_index = 1;
    snprintf(c->prefix, sizeof c->prefix, "SIM-");
    snprintf(c->tag_prefix, sizeof c->tag_prefix, "T");
    c->connectors_min = 1;
    c->connectors_max = 2;
    c->scenario = SIM_SC_CONNECT;
    c->duration_s = 30;
    c->ramp_rate = 0;
    c->ramp_timeout_s = 0; /* derived from the station count at start */
    c->meter_interval_s = 10;
    c->charging = 0.3;
    c->session_s = 120;
    c->inflight = 1;
    c->storm_spread_ms = 0;
    c->call_timeout_s = 30;
    c->backoff_min_ms = 1000;
    c->backoff_max_ms = 30000;
    c->drain_s = 10;
    c->seed = 1;
    c->validate = true;
    c->tls_resume = true;
    c->progress_s = 5;
    c->register_concurrency = 16;
    c->max_connecting = 512;
}

sim_t *sim_create(const sim_config_t *cfg, const sim_transport_t *tr)
{
    sim_t *s = xcalloc(1, sizeof *s);
    s->cfg = *cfg;
    if (s->cfg.ramp_timeout_s <= 0)
        s->cfg.ramp_timeout_s = 60.0 + s->cfg.stations / 200.0 +
                                (s->cfg.ramp_rate > 0 ? s->cfg.stations / s->cfg.ramp_rate : 0);
    s->tr = *tr;
    s->rng = cfg->seed ? cfg->seed : 1;
    s->wall0_ms = time_now_ms();
    timewheel_init(&s->wheel, 0);
    sim_stats_init(&s->stats);
    s->nstations = cfg->stations;
    s->stations = xcalloc(s->nstations ? s->nstations : 1, sizeof *s->stations);
    s->connect_wait = xcalloc(s->nstations ? s->nstations : 1, sizeof *s->connect_wait);
    unsigned span = cfg->connectors_max - cfg->connectors_min + 1;
    for (unsigned i = 0; i < s->nstations; i++) {
        sim_station_t *st = &s->stations[i];
        st->sim = s;
        st->index = cfg->first_index + i;
        snprintf(st->id, sizeof st->id, "%s%u", cfg->prefix, st->index);
        st->nconn = (uint8_t)(cfg->connectors_min + (unsigned)(sim_rand(s) % span));
        st->heartbeat_s = 300;
        st->meter_interval_s = cfg->meter_interval_s;
        for (unsigned c = 0; c < st->nconn; c++)
            sim_connector_init(&st->conn_[c], st, (uint8_t)(c + 1));
    }
    return s;
}

void sim_free(sim_t *s)
{
    if (!s) return;
    for (unsigned i = 0; i < s->nstations; i++) {
        sim_station_t *st = &s->stations[i];
        sim_station_abandon_calls(st);
        sim_firmware_free(st);
        sim_diagnostics_free(st);
        sim_profiles_free(st);
        sim_local_list_free(st);
        timewheel_remove(&s->wheel, &st->te_link);
        for (unsigned c = 0; c < st->nconn; c++)
            timewheel_remove(&s->wheel, &st->conn_[c].te);
        free(st->password);
    }
    free(s->stations);
    free(s->connect_wait);
    strbuf_free(&s->buf);
    free(s);
}

void sim_schedule(sim_t *s, timewheel_entry_t *e, uint64_t at_ms, timewheel_cb cb)
{
    timewheel_add(&s->wheel, e, (at_ms + SIM_TICK_MS - 1) / SIM_TICK_MS, cb);
}

void sim_advance(sim_t *s, uint64_t now_ms)
{
    if (now_ms > s->now_ms) s->now_ms = now_ms;
    timewheel_advance(&s->wheel, s->now_ms / SIM_TICK_MS);
}

int64_t sim_wall_ms(const sim_t *s)
{
    return s->wall0_ms + (int64_t)s->now_ms;
}

uint64_t sim_rand(sim_t *s)
{
    uint64_t x = s->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

double sim_rand01(sim_t *s)
{
    return (double)(sim_rand(s) >> 11) * (1.0 / 9007199254740992.0);
}

double sim_rand_exp(sim_t *s, double mean)
{
    return -mean * log(1.0 - sim_rand01(s));
}
