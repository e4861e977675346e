/*
 * A site's capacity tree: what an operator declares about the wiring behind
 * the chargers (grid connection -> site -> feeders/circuits -> stations ->
 * EVSEs), each node's limit in amperes per phase, the phases it is wired to,
 * each station's phase rotation, reserved non-EV load, the site's policy and
 * the EVSE current range. Parsed from the API's JSON, validated here (pure:
 * no I/O, the caller says which stations exist and which trees hold them),
 * stored as the same JSON, and turned into smart_node_t rows for the
 * allocator by the engine.
 *
 * Phase conventions: index 0..2 are the grid's L1..L3 at the root. A node's
 * `phases` is the set of grid phases it is wired to (a bit mask); a station's
 * `rotation` says which grid phase feeds its own L1, L2, L3.
 */
#ifndef AMPGRID_SMART_SITE_TREE_H
#define AMPGRID_SMART_SITE_TREE_H

#include "smart/alloc.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define SITE_TREE_MAX_NODES 20000
#define SITE_ID_MAX 64
#define SITE_NODE_ID_MAX 64

typedef enum site_node_kind {
    SITE_NODE_GRID = 0, /* the grid connection: the root */
    SITE_NODE_SITE,
    SITE_NODE_FEEDER, /* feeder or circuit; nests */
    SITE_NODE_STATION,
    SITE_NODE_EVSE,
} site_node_kind_t;

typedef enum site_tree_err {
    SITE_TREE_OK = 0,
    SITE_TREE_BAD_REQUEST,   /* malformed: wrong types, unknown fields (HTTP 400) */
    SITE_TREE_UNPROCESSABLE, /* well-formed but impossible: cycle, phases, limits (HTTP 422) */
} site_tree_err_t;

typedef struct site_node {
    char id[SITE_NODE_ID_MAX];
    site_node_kind_t kind;
    int parent;                      /* index; -1 for the root */
    double limit_a[SMART_PHASES];    /* per grid phase; INFINITY = no limit of its own */
    double reserved_a[SMART_PHASES]; /* static non-EV load */
    uint8_t phases;                  /* bit i = wired to grid phase i */
    uint8_t rotation[SMART_PHASES];  /* station: grid phase feeding its L1, L2, L3 */
    char station_id[49];             /* station and evse nodes */
    int evse_id;                     /* evse nodes */
    double min_a, max_a;             /* evse nodes (AC, per phase); 0 = site default */
    double dc_min_w, dc_max_w;       /* evse nodes that are DC; 0 = not DC */
    bool live_meter;                 /* reserved load comes from a building meter (API) */
} site_node_t;

typedef struct site_tree {
    char site[SITE_ID_MAX];
    smart_policy_t policy;
    double voltage_v;              /* phase-to-neutral, converts kW and W */
    double evse_min_a, evse_max_a; /* defaults for EVSEs (6 / 32 A) */
    int meter_ttl_s;               /* live building-meter readings expire after this */
    bool time_of_use;              /* with prices, follow the plan (smart_allocate_tou); true */
    site_node_t *nodes;            /* parents before children; nodes[0] is the root */
    int n_nodes;
} site_tree_t;

/* Answers whether a station id is known (validation of station nodes). */
typedef bool (*site_tree_station_known_fn)(void *ctx, const char *station_id);

/* Parses and validates a tree for `site` from the API's JSON. known may be
 * NULL (no check). On failure returns the class and writes a message naming
 * the offending node into err. *out is owned by the caller (site_tree_free). */
site_tree_err_t site_tree_parse(const char *site, const json_t *in,
                                site_tree_station_known_fn known, void *ctx, site_tree_t **out,
                                char *err, size_t err_len);
void site_tree_free(site_tree_t *t);

/* The canonical JSON of a tree (what GET answers and the store keeps). */
json_t *site_tree_json(const site_tree_t *t);

const char *site_tree_policy_name(smart_policy_t p);
const char *site_node_kind_name(site_node_kind_t k);
/* Site names: 1..63 characters from A-Z a-z 0-9 - _ . (the stations' site strings). */
bool site_tree_site_valid(const char *site);

/* Index of the node with this id, or -1. */
int site_tree_find(const site_tree_t *t, const char *id);
/* Index of the station node for station_id, or -1. */
int site_tree_find_station(const site_tree_t *t, const char *station_id);
/* Whether node `a` is `n` or one of its ancestors. */
bool site_tree_is_ancestor(const site_tree_t *t, int a, int n);
/* Number of grid phases in a mask. */
int site_tree_phase_count(uint8_t mask);

#endif
