/*
 * The charging profiles a simulated station holds (SetChargingProfile,
 * ClearChargingProfile) and what they add up to: the composite schedule a
 * connector follows (GetCompositeSchedule) and the limit its simulated EV
 * draws at any moment (meter.h).
 *
 * The composite follows the specifications' stacking rules, the same in 1.6
 * and 2.0.1: per purpose, the valid profile with the highest stack level
 * wins (for TxDefaultProfile one for the connector beats one for the whole
 * station); a TxProfile replaces the TxDefaultProfile while its transaction
 * runs; the station maximum caps the result. Absolute, Relative (from the
 * session's start) and Recurring (daily, weekly) schedules; validFrom/To;
 * limits in A or W (three phases at 230 V unless a period says otherwise).
 * Where no profile applies the connector's hardware limit (32 A, 22 kW) is
 * what a schedule shows, and the EV draws what it can.
 *
 * Nothing is allocated until a station gets its first profile.
 */
#ifndef AMPGRID_SIM_PROFILES_H
#define AMPGRID_SIM_PROFILES_H

#include "sim/sim.h"

#include <jansson.h>

#define SIM_MAX_PROFILES 16
#define SIM_HW_LIMIT_A 32.0
#define SIM_HW_LIMIT_W 22000.0

typedef enum sim_cp_purpose {
    SIM_CP_STATION_MAX, /* 1.6 ChargePointMaxProfile, 2.0.1 ChargingStationMaxProfile */
    SIM_CP_TX_DEFAULT,
    SIM_CP_TX,
    SIM_CP_EXTERNAL, /* 2.0.1 ChargingStationExternalConstraints: not the CSMS's to set */
} sim_cp_purpose_t;

typedef enum sim_cp_kind { SIM_CP_ABSOLUTE, SIM_CP_RECURRING, SIM_CP_RELATIVE } sim_cp_kind_t;

typedef struct sim_cp_period {
    int32_t start_s;
    double limit;
    int phases; /* 0 = not given (three) */
} sim_cp_period_t;

typedef struct sim_profile {
    int32_t id;
    int connector; /* 0 = the station */
    int stack_level;
    sim_cp_purpose_t purpose;
    sim_cp_kind_t kind;
    bool weekly;                        /* Recurring: weekly, else daily */
    bool unit_a;                        /* limits in A, else W */
    int64_t start_ms;                   /* startSchedule; 0 = none */
    int64_t set_ms;                     /* when the station received it */
    int32_t duration_s;                 /* 0 = open-ended */
    int64_t valid_from_ms, valid_to_ms; /* 0 = none */
    bool has_tx_id;
    int64_t tx_id; /* TxProfile: its transaction */
    unsigned nperiods;
    sim_cp_period_t *periods; /* owned */
    json_t *json;             /* the profile as received (owned), for reports */
} sim_profile_t;

typedef struct sim_profiles {
    unsigned n;
    sim_profile_t p[SIM_MAX_PROFILES];
} sim_profiles_t;

/* Reads a profile (1.6 csChargingProfiles or 2.0.1 chargingProfile, whose
 * first chargingSchedule counts) for `connector` into p. Returns false with
 * the reason in why when a station would refuse it; p then owns nothing. */
bool sim_profile_parse(const json_t *profile, int connector, int64_t now_ms, sim_profile_t *p,
                       char *why, size_t len);
/* Installs p (taken over, also when refused), replacing one with the same
 * id or the same purpose, stack level and connector. Returns false with the
 * reason in why when the station refuses it. */
bool sim_profiles_set(sim_station_t *st, sim_profile_t *p, char *why, size_t len);

/* ClearChargingProfile criteria; -1 = any. With an id the rest is ignored. */
typedef struct sim_cp_filter {
    bool has_id;
    int32_t id;
    int connector, purpose, stack_level;
} sim_cp_filter_t;
/* Removes the matching profiles; returns how many. */
unsigned sim_profiles_clear(sim_station_t *st, const sim_cp_filter_t *f);
/* The transaction on connector ended: its TxProfiles go. */
void sim_profiles_tx_ended(sim_station_t *st, int connector);

typedef struct sim_composite {
    int64_t start_ms;
    int32_t duration_s;
    bool unit_a;
    unsigned n;
    sim_cp_period_t *periods; /* owned; sim_composite_free */
} sim_composite_t;

/* The composite schedule of connector (0 = the station) over duration_s
 * from now_ms (wall clock), limits in A or W, at least one period. */
void sim_profiles_composite(const sim_station_t *st, int connector, int64_t now_ms,
                            int32_t duration_s, bool unit_a, sim_composite_t *out);
void sim_composite_free(sim_composite_t *c);

/* The limit the profiles set on connector now, in W; -1 = none applies. */
double sim_profiles_limit_w(const sim_station_t *st, int connector, int64_t now_ms);
/* Recomputes every connector's limit_w (after a change). */
void sim_profiles_apply(sim_station_t *st);

void sim_profiles_free(sim_station_t *st);

#endif
