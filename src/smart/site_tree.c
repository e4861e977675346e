/*
 * Parsing and validation of a site's capacity tree (see site_tree.h). The
 * API hands operators' JSON straight here, so everything is checked before
 * anything is kept: shapes (400), then what the wiring cannot be (422): a
 * second root, a cycle, a child on phases its parent lacks, a negative or
 * non-finite limit, an unknown or repeated station. Nodes are reordered
 * parents-first so the allocator and the engine walk them in one pass.
 */
#include "smart/site_tree.h"

#include "util/alloc.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

static const char *const kind_names[] = {"grid_connection", "site", "feeder", "station", "evse"};
static const char *const policy_names[] = {"equal", "priority", "deadline"};

const char *site_node_kind_name(site_node_kind_t k)
{
    return (unsigned)k < 5 ? kind_names[k] : "?";
}

const char *site_tree_policy_name(smart_policy_t p)
{
    return (unsigned)p < 3 ? policy_names[p] : "?";
}

bool site_tree_site_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n >= SITE_ID_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
        if (!ok) return false;
    }
    return true;
}

int site_tree_phase_count(uint8_t mask)
{
    return (mask & 1) + ((mask >> 1) & 1) + ((mask >> 2) & 1);
}

void site_tree_free(site_tree_t *t)
{
    if (!t) return;
    free(t->nodes);
    free(t);
}

/* --------------------------------------------------------------- parsing */

typedef struct parse {
    char *err;
    size_t err_len;
    site_tree_err_t rc;
} parse_t;

__attribute__((format(printf, 3, 4))) static bool fail(parse_t *p, site_tree_err_t rc,
                                                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err, p->err_len, fmt, ap);
    va_end(ap);
    p->rc = rc;
    return false;
}

/* "L1L2L3", "L2L3L1", "L1", ...: each phase at most once. */
static bool parse_phase_list(const char *s, uint8_t out[SMART_PHASES], int *n)
{
    *n = 0;
    uint8_t seen = 0;
    size_t len = strlen(s);
    if (len == 0 || len % 2 || len > 6) return false;
    for (size_t i = 0; i < len; i += 2) {
        if (s[i] != 'L' || s[i + 1] < '1' || s[i + 1] > '3') return false;
        int ph = s[i + 1] - '1';
        if (seen & (1u << ph)) return false;
        seen |= (uint8_t)(1u << ph);
        out[(*n)++] = (uint8_t)ph;
    }
    return true;
}

static bool get_number(parse_t *p, const json_t *o, const char *node, const char *key, double *v,
                       bool *present)
{
    json_t *x = json_object_get(o, key);
    *present = x && !json_is_null(x);
    if (!*present) return true;
    if (!json_is_number(x))
        return fail(p, SITE_TREE_BAD_REQUEST, "node '%s': %s must be a number", node, key);
    *v = json_number_value(x);
    if (!isfinite(*v) || *v < 0)
        return fail(p, SITE_TREE_UNPROCESSABLE,
                    "node '%s': %s must be a finite number >= 0 (got %g)", node, key, *v);
    return true;
}

/* A per-phase amount: a number for every wired phase, or [L1, L2, L3]. */
static bool get_per_phase(parse_t *p, const json_t *o, const char *node, const char *key,
                          uint8_t phases, double out[SMART_PHASES], bool *present)
{
    json_t *x = json_object_get(o, key);
    *present = x && !json_is_null(x);
    if (!*present) return true;
    if (json_is_number(x)) {
        double v = json_number_value(x);
        if (!isfinite(v) || v < 0)
            return fail(p, SITE_TREE_UNPROCESSABLE, "node '%s': %s must be >= 0 (got %g)", node,
                        key, v);
        for (int i = 0; i < SMART_PHASES; i++)
            out[i] = (phases & (1u << i)) ? v : 0;
        return true;
    }
    if (!json_is_array(x) || json_array_size(x) != SMART_PHASES)
        return fail(p, SITE_TREE_BAD_REQUEST,
                    "node '%s': %s must be a number or an array of 3 numbers (L1, L2, L3)", node,
                    key);
    for (int i = 0; i < SMART_PHASES; i++) {
        json_t *e = json_array_get(x, i);
        if (json_is_null(e)) continue; /* no amount of its own on that phase */
        if (!json_is_number(e))
            return fail(p, SITE_TREE_BAD_REQUEST, "node '%s': %s[%d] must be a number", node, key,
                        i);
        double v = json_number_value(e);
        if (!isfinite(v) || v < 0)
            return fail(p, SITE_TREE_UNPROCESSABLE, "node '%s': %s on L%d must be >= 0 (got %g)",
                        node, key, i + 1, v);
        if (v > 0 && !(phases & (1u << i)))
            return fail(p, SITE_TREE_UNPROCESSABLE,
                        "node '%s': %s gives L%d but the node is not wired to L%d", node, key,
                        i + 1, i + 1);
        out[i] = v;
    }
    return true;
}

static const char *const node_keys[] = {
    "id",       "kind",     "parent",     "limit_a", "limit_kw", "reserved_a",
    "phases",   "rotation", "station_id", "evse_id", "min_a",    "max_a",
    "dc_min_w", "dc_max_w", "live_meter", "name",    NULL};

static bool known_key(const char *k, const char *const *keys)
{
    for (int i = 0; keys[i]; i++)
        if (strcmp(k, keys[i]) == 0) return true;
    return false;
}

static bool check_keys(parse_t *p, const json_t *o, const char *const *keys, const char *where)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v)
    {
        if (!known_key(k, keys))
            return fail(p, SITE_TREE_BAD_REQUEST, "%s: unknown field '%.64s'", where, k);
    }
    return true;
}

typedef struct raw_node {
    site_node_t n;
    char parent_id[SITE_NODE_ID_MAX];
    bool has_phases;
    uint8_t phase_list[SMART_PHASES];
    int n_phase_list;
    bool has_rotation;
    json_t *src;
    int state;  /* cycle walk: 0 new, 1 on the path, 2 done */
    int parent; /* index in the raw array */
    int order;  /* position in the output */
    UT_hash_handle hh;
} raw_node_t;

static bool parse_kind(parse_t *p, const json_t *o, raw_node_t *r)
{
    const char *k = json_string_value(json_object_get(o, "kind"));
    if (!k) return fail(p, SITE_TREE_BAD_REQUEST, "node '%s': kind is required", r->n.id);
    for (int i = 0; i < 5; i++)
        if (strcmp(k, kind_names[i]) == 0) {
            r->n.kind = (site_node_kind_t)i;
            return true;
        }
    return fail(p, SITE_TREE_BAD_REQUEST,
                "node '%s': kind must be grid_connection, site, feeder, station or evse", r->n.id);
}

static bool parse_ids(parse_t *p, const json_t *o, raw_node_t *r, int idx)
{
    json_t *id = json_object_get(o, "id");
    if (!json_is_string(id) || json_string_length(id) == 0 ||
        json_string_length(id) >= SITE_NODE_ID_MAX)
        return fail(p, SITE_TREE_BAD_REQUEST, "nodes[%d]: id must be a string of 1..%d characters",
                    idx, SITE_NODE_ID_MAX - 1);
    snprintf(r->n.id, sizeof r->n.id, "%s", json_string_value(id));
    json_t *par = json_object_get(o, "parent");
    if (par && !json_is_null(par)) {
        if (!json_is_string(par) || json_string_length(par) >= SITE_NODE_ID_MAX)
            return fail(p, SITE_TREE_BAD_REQUEST, "node '%s': parent must be a node id or null",
                        r->n.id);
        snprintf(r->parent_id, sizeof r->parent_id, "%s", json_string_value(par));
    }
    return true;
}

static bool parse_wiring(parse_t *p, const json_t *o, raw_node_t *r)
{
    json_t *ph = json_object_get(o, "phases"), *rot = json_object_get(o, "rotation");
    if (ph && !json_is_null(ph)) {
        if (!json_is_string(ph) ||
            !parse_phase_list(json_string_value(ph), r->phase_list, &r->n_phase_list))
            return fail(p, SITE_TREE_BAD_REQUEST,
                        "node '%s': phases must name each of L1, L2, L3 at most once, e.g. "
                        "\"L1L2L3\" or \"L2\"",
                        r->n.id);
        r->has_phases = true;
    }
    if (rot && !json_is_null(rot)) {
        if (r->n.kind != SITE_NODE_STATION)
            return fail(p, SITE_TREE_UNPROCESSABLE, "node '%s': only station nodes have a rotation",
                        r->n.id);
        uint8_t list[SMART_PHASES];
        int n = 0;
        if (!json_is_string(rot) || !parse_phase_list(json_string_value(rot), list, &n))
            return fail(p, SITE_TREE_BAD_REQUEST,
                        "node '%s': rotation must be like \"L1L2L3\", \"L2L3L1\" or \"L3\"",
                        r->n.id);
        if (r->has_phases) {
            uint8_t a = 0, b = 0;
            for (int i = 0; i < n; i++)
                a |= (uint8_t)(1u << list[i]);
            for (int i = 0; i < r->n_phase_list; i++)
                b |= (uint8_t)(1u << r->phase_list[i]);
            if (a != b)
                return fail(p, SITE_TREE_UNPROCESSABLE,
                            "node '%s': rotation and phases name different phases", r->n.id);
        }
        memcpy(r->phase_list, list, sizeof list);
        r->n_phase_list = n;
        r->has_phases = r->has_rotation = true;
    }
    return true;
}

static bool parse_station_evse(parse_t *p, const json_t *o, raw_node_t *r,
                               site_tree_station_known_fn known, void *ctx)
{
    json_t *sid = json_object_get(o, "station_id"), *eid = json_object_get(o, "evse_id");
    bool needs_station = r->n.kind == SITE_NODE_STATION;
    if (needs_station) {
        if (!json_is_string(sid) || json_string_length(sid) == 0 || json_string_length(sid) > 48)
            return fail(p, SITE_TREE_BAD_REQUEST,
                        "node '%s': station_id is required (a station id)", r->n.id);
        snprintf(r->n.station_id, sizeof r->n.station_id, "%s", json_string_value(sid));
        if (known && !known(ctx, r->n.station_id))
            return fail(p, SITE_TREE_UNPROCESSABLE, "node '%s': unknown station '%s'", r->n.id,
                        r->n.station_id);
    } else if (sid && !json_is_null(sid)) {
        return fail(p, SITE_TREE_UNPROCESSABLE, "node '%s': only station nodes name a station_id",
                    r->n.id);
    }
    if (r->n.kind == SITE_NODE_EVSE) {
        if (!json_is_integer(eid) || json_integer_value(eid) < 1 || json_integer_value(eid) > 1000)
            return fail(p, SITE_TREE_BAD_REQUEST, "node '%s': evse_id must be an integer 1..1000",
                        r->n.id);
        r->n.evse_id = (int)json_integer_value(eid);
    } else if (eid && !json_is_null(eid)) {
        return fail(p, SITE_TREE_UNPROCESSABLE, "node '%s': only evse nodes have an evse_id",
                    r->n.id);
    }
    bool present;
    double v = 0;
    const char *evse_only[] = {"min_a", "max_a", "dc_min_w", "dc_max_w"};
    double *dst[] = {&r->n.min_a, &r->n.max_a, &r->n.dc_min_w, &r->n.dc_max_w};
    for (int i = 0; i < 4; i++) {
        if (!get_number(p, o, r->n.id, evse_only[i], &v, &present)) return false;
        if (!present) continue;
        if (r->n.kind != SITE_NODE_EVSE)
            return fail(p, SITE_TREE_UNPROCESSABLE, "node '%s': only evse nodes have %s", r->n.id,
                        evse_only[i]);
        *dst[i] = v;
    }
    if (r->n.max_a && r->n.min_a > r->n.max_a)
        return fail(p, SITE_TREE_UNPROCESSABLE, "node '%s': min_a (%g) is above max_a (%g)",
                    r->n.id, r->n.min_a, r->n.max_a);
    if (r->n.dc_max_w && r->n.dc_min_w > r->n.dc_max_w)
        return fail(p, SITE_TREE_UNPROCESSABLE, "node '%s': dc_min_w is above dc_max_w", r->n.id);
    json_t *lm = json_object_get(o, "live_meter");
    if (lm && !json_is_boolean(lm))
        return fail(p, SITE_TREE_BAD_REQUEST, "node '%s': live_meter must be true or false",
                    r->n.id);
    r->n.live_meter = json_is_true(lm);
    return true;
}

static bool parse_node(parse_t *p, const json_t *o, int idx, raw_node_t *r,
                       site_tree_station_known_fn known, void *ctx)
{
    if (!json_is_object(o))
        return fail(p, SITE_TREE_BAD_REQUEST, "nodes[%d] must be an object", idx);
    r->src = (json_t *)o;
    r->parent = -1;
    char where[32];
    snprintf(where, sizeof where, "nodes[%d]", idx);
    return parse_ids(p, o, r, idx) && check_keys(p, o, node_keys, where) && parse_kind(p, o, r) &&
           parse_wiring(p, o, r) && parse_station_evse(p, o, r, known, ctx);
}

/* Limits and reservations need the node's phases, known once the parent's are. */
static bool parse_amounts(parse_t *p, raw_node_t *r, double voltage)
{
    const json_t *o = r->src;
    bool has_a, has_kw, has_res;
    double kw = 0;
    for (int i = 0; i < SMART_PHASES; i++)
        r->n.limit_a[i] = (r->n.phases & (1u << i)) ? INFINITY : 0;
    if (!get_per_phase(p, o, r->n.id, "limit_a", r->n.phases, r->n.limit_a, &has_a)) return false;
    if (!get_number(p, o, r->n.id, "limit_kw", &kw, &has_kw)) return false;
    if (has_a && has_kw)
        return fail(p, SITE_TREE_BAD_REQUEST, "node '%s': give limit_a or limit_kw, not both",
                    r->n.id);
    if (has_kw) {
        double per = kw * 1000.0 / (voltage * site_tree_phase_count(r->n.phases));
        for (int i = 0; i < SMART_PHASES; i++)
            r->n.limit_a[i] = (r->n.phases & (1u << i)) ? per : 0;
    }
    if (!get_per_phase(p, o, r->n.id, "reserved_a", r->n.phases, r->n.reserved_a, &has_res))
        return false;
    if (r->parent == -1 && !has_a && !has_kw)
        return fail(p, SITE_TREE_UNPROCESSABLE,
                    "node '%s': the root needs a limit (limit_a or limit_kw)", r->n.id);
    return true;
}

static const int allowed_parent[5] = {
    [SITE_NODE_GRID] = 0,
    [SITE_NODE_SITE] = 1 << SITE_NODE_GRID,
    [SITE_NODE_FEEDER] = 1 << SITE_NODE_GRID | 1 << SITE_NODE_SITE | 1 << SITE_NODE_FEEDER,
    [SITE_NODE_STATION] = 1 << SITE_NODE_GRID | 1 << SITE_NODE_SITE | 1 << SITE_NODE_FEEDER,
    [SITE_NODE_EVSE] = 1 << SITE_NODE_STATION,
};

/* Links parents, finds the one root, rejects cycles and misplaced kinds. */
static bool link_nodes(parse_t *p, raw_node_t *raw, int n, int *root)
{
    raw_node_t *byid = NULL, *dup = NULL;
    bool ok = true;
    *root = -1;
    for (int i = 0; i < n && ok; i++) {
        HASH_FIND_STR(byid, raw[i].n.id, dup);
        if (dup)
            ok = fail(p, SITE_TREE_UNPROCESSABLE, "node id '%s' is used twice", raw[i].n.id);
        else
            HASH_ADD_STR(byid, n.id, &raw[i]);
    }
    for (int i = 0; i < n && ok; i++) {
        raw_node_t *r = &raw[i], *par = NULL;
        if (!r->parent_id[0]) {
            if (*root >= 0)
                ok = fail(p, SITE_TREE_UNPROCESSABLE,
                          "nodes '%s' and '%s' both have no parent: a tree has one root",
                          raw[*root].n.id, r->n.id);
            else if (r->n.kind != SITE_NODE_GRID && r->n.kind != SITE_NODE_SITE)
                ok = fail(p, SITE_TREE_UNPROCESSABLE,
                          "node '%s': the root must be a grid_connection or a site", r->n.id);
            *root = i;
            continue;
        }
        HASH_FIND_STR(byid, r->parent_id, par);
        if (!par)
            ok = fail(p, SITE_TREE_UNPROCESSABLE, "node '%s': parent '%s' is not in the tree",
                      r->n.id, r->parent_id);
        else if (!(allowed_parent[r->n.kind] & (1 << par->n.kind)))
            ok = fail(p, SITE_TREE_UNPROCESSABLE, "node '%s': a %s cannot hang off a %s ('%s')",
                      r->n.id, kind_names[r->n.kind], kind_names[par->n.kind], par->n.id);
        else
            r->parent = (int)(par - raw);
    }
    HASH_CLEAR(hh, byid);
    if (ok && *root < 0)
        ok = fail(p, SITE_TREE_UNPROCESSABLE, "every node has a parent: the tree has a cycle");
    for (int i = 0; i < n && ok; i++) { /* a node whose chain never reaches the root */
        int j = i, steps = 0;
        while (j >= 0 && raw[j].state == 0 && steps++ <= n) {
            raw[j].state = 1;
            j = raw[j].parent;
        }
        if (j >= 0 && raw[j].state == 1)
            ok = fail(p, SITE_TREE_UNPROCESSABLE, "node '%s' is part of a cycle", raw[j].n.id);
        for (j = i; j >= 0 && raw[j].state == 1; j = raw[j].parent)
            raw[j].state = 2;
    }
    return ok;
}

/* Breadth-first from the root: parents first; inherits and checks phases. */
static bool order_nodes(parse_t *p, raw_node_t *raw, int n, int root, double voltage,
                        site_tree_t *t)
{
    int *queue = xcalloc((size_t)n, sizeof *queue), *first = xcalloc((size_t)n, sizeof *first),
        *next = xcalloc((size_t)n, sizeof *next);
    for (int i = 0; i < n; i++)
        first[i] = next[i] = -1;
    for (int i = n - 1; i >= 0; i--)
        if (raw[i].parent >= 0) {
            next[i] = first[raw[i].parent];
            first[raw[i].parent] = i;
        }
    int head = 0, tail = 0;
    bool ok = true;
    queue[tail++] = root;
    while (head < tail && ok) {
        int i = queue[head++];
        raw_node_t *r = &raw[i];
        r->order = head - 1;
        uint8_t parent_phases = r->parent >= 0 ? raw[r->parent].n.phases : 0x7;
        uint8_t mine = 0;
        for (int k = 0; k < r->n_phase_list; k++)
            mine |= (uint8_t)(1u << r->phase_list[k]);
        if (!r->has_phases) {
            mine = parent_phases;
            r->n_phase_list = 0;
            for (int k = 0; k < SMART_PHASES; k++)
                if (mine & (1u << k)) r->phase_list[r->n_phase_list++] = (uint8_t)k;
        }
        if (mine & ~parent_phases) {
            ok = fail(p, SITE_TREE_UNPROCESSABLE,
                      "node '%s' is wired to a phase its parent '%s' lacks", r->n.id,
                      raw[r->parent].n.id);
            break;
        }
        r->n.phases = mine;
        if (r->n.kind == SITE_NODE_STATION || (r->n.kind == SITE_NODE_EVSE && r->has_phases)) {
            for (int k = 0; k < SMART_PHASES; k++)
                r->n.rotation[k] = r->phase_list[k < r->n_phase_list ? k : 0];
        } else if (r->n.kind == SITE_NODE_EVSE) { /* the station's rotation */
            memcpy(r->n.rotation, raw[r->parent].n.rotation, sizeof r->n.rotation);
        }
        if (r->n.kind == SITE_NODE_EVSE)
            memcpy(r->n.station_id, raw[r->parent].n.station_id, sizeof r->n.station_id);
        if (!parse_amounts(p, r, voltage)) {
            ok = false;
            break;
        }
        for (int c = first[i]; c >= 0; c = next[c])
            queue[tail++] = c;
    }
    if (ok && tail != n) ok = fail(p, SITE_TREE_UNPROCESSABLE, "some nodes are not under the root");
    if (ok) {
        t->nodes = xcalloc((size_t)n, sizeof *t->nodes);
        t->n_nodes = n;
        for (int k = 0; k < n; k++) {
            raw_node_t *r = &raw[queue[k]];
            t->nodes[k] = r->n;
            t->nodes[k].parent = r->parent >= 0 ? raw[r->parent].order : -1;
        }
    }
    free(queue);
    free(first);
    free(next);
    return ok;
}

static bool check_unique_stations(parse_t *p, const site_tree_t *t)
{
    typedef struct seen {
        const char *key;
        UT_hash_handle hh;
    } seen_t;
    seen_t *set = NULL, *items = xcalloc((size_t)t->n_nodes, sizeof *items), *f;
    bool ok = true;
    for (int i = 0; i < t->n_nodes && ok; i++) {
        const site_node_t *nd = &t->nodes[i];
        if (nd->kind != SITE_NODE_STATION) continue;
        HASH_FIND_STR(set, nd->station_id, f);
        if (f) {
            ok = fail(p, SITE_TREE_UNPROCESSABLE, "station '%s' appears twice in the tree",
                      nd->station_id);
            break;
        }
        items[i].key = nd->station_id;
        HASH_ADD_KEYPTR(hh, set, items[i].key, strlen(items[i].key), &items[i]);
    }
    for (int i = 0; i < t->n_nodes && ok; i++) { /* evse ids unique per station */
        const site_node_t *a = &t->nodes[i];
        if (a->kind != SITE_NODE_EVSE) continue;
        for (int j = i + 1; j < t->n_nodes && ok; j++)
            if (t->nodes[j].kind == SITE_NODE_EVSE && t->nodes[j].parent == a->parent &&
                t->nodes[j].evse_id == a->evse_id)
                ok = fail(p, SITE_TREE_UNPROCESSABLE, "evse %d of station '%s' appears twice",
                          a->evse_id, a->station_id);
    }
    HASH_CLEAR(hh, set);
    free(items);
    return ok;
}

static const char *const tree_keys[] = {"policy",      "voltage_v",   "evse_min_a",
                                        "evse_max_a",  "meter_ttl_s", "nodes",
                                        "time_of_use", "site",        NULL};

static bool parse_header(parse_t *p, const json_t *in, site_tree_t *t)
{
    if (!json_is_object(in)) return fail(p, SITE_TREE_BAD_REQUEST, "the tree must be an object");
    if (!check_keys(p, in, tree_keys, "tree")) return false;
    const json_t *pol = json_object_get(in, "policy");
    t->policy = SMART_POLICY_EQUAL;
    if (pol && !json_is_null(pol)) {
        const char *s = json_string_value(pol);
        int found = -1;
        for (int i = 0; s && i < 3; i++)
            if (strcmp(s, policy_names[i]) == 0) found = i;
        if (found < 0)
            return fail(p, SITE_TREE_BAD_REQUEST, "policy must be equal, priority or deadline");
        t->policy = (smart_policy_t)found;
    }
    bool present;
    double v = 230;
    if (!get_number(p, in, "tree", "voltage_v", &v, &present)) return false;
    if (present && (v < 50 || v > 1000))
        return fail(p, SITE_TREE_UNPROCESSABLE, "voltage_v must be 50..1000 (got %g)", v);
    t->voltage_v = present ? v : 230;
    t->evse_min_a = 6;
    t->evse_max_a = 32;
    if (!get_number(p, in, "tree", "evse_min_a", &t->evse_min_a, &present)) return false;
    if (!get_number(p, in, "tree", "evse_max_a", &t->evse_max_a, &present)) return false;
    if (t->evse_min_a > t->evse_max_a || t->evse_max_a <= 0)
        return fail(p, SITE_TREE_UNPROCESSABLE, "evse_min_a must not be above evse_max_a");
    double ttl = 300;
    if (!get_number(p, in, "tree", "meter_ttl_s", &ttl, &present)) return false;
    if (ttl < 1 || ttl > 86400)
        return fail(p, SITE_TREE_UNPROCESSABLE, "meter_ttl_s must be 1..86400");
    t->meter_ttl_s = (int)ttl;
    const json_t *tou = json_object_get(in, "time_of_use");
    if (tou && !json_is_boolean(tou))
        return fail(p, SITE_TREE_BAD_REQUEST, "time_of_use must be true or false");
    t->time_of_use = !tou || json_is_true(tou);
    const json_t *nodes = json_object_get(in, "nodes");
    if (!json_is_array(nodes) || json_array_size(nodes) == 0)
        return fail(p, SITE_TREE_BAD_REQUEST, "nodes must be a non-empty array");
    if (json_array_size(nodes) > SITE_TREE_MAX_NODES)
        return fail(p, SITE_TREE_UNPROCESSABLE, "a tree has at most %d nodes", SITE_TREE_MAX_NODES);
    return true;
}

site_tree_err_t site_tree_parse(const char *site, const json_t *in,
                                site_tree_station_known_fn known, void *ctx, site_tree_t **out,
                                char *err, size_t err_len)
{
    parse_t p = {err, err_len, SITE_TREE_OK};
    site_tree_t *t = xcalloc(1, sizeof *t);
    raw_node_t *raw = NULL;
    int root = -1;
    *out = NULL;
    if (!site_tree_site_valid(site)) {
        fail(&p, SITE_TREE_BAD_REQUEST, "a site name is 1..63 characters of A-Z a-z 0-9 - _ .");
        goto fail;
    }
    snprintf(t->site, sizeof t->site, "%s", site);
    if (!parse_header(&p, in, t)) goto fail;
    const json_t *nodes = json_object_get(in, "nodes");
    int n = (int)json_array_size(nodes);
    raw = xcalloc((size_t)n, sizeof *raw);
    for (int i = 0; i < n; i++)
        if (!parse_node(&p, json_array_get(nodes, i), i, &raw[i], known, ctx)) goto fail;
    if (!link_nodes(&p, raw, n, &root)) goto fail;
    if (!order_nodes(&p, raw, n, root, t->voltage_v, t)) goto fail;
    if (!check_unique_stations(&p, t)) goto fail;
    free(raw);
    *out = t;
    return SITE_TREE_OK;
fail:
    free(raw);
    site_tree_free(t);
    return p.rc ? p.rc : SITE_TREE_BAD_REQUEST;
}

/* ------------------------------------------------------------- querying */

int site_tree_find(const site_tree_t *t, const char *id)
{
    for (int i = 0; i < t->n_nodes; i++)
        if (strcmp(t->nodes[i].id, id) == 0) return i;
    return -1;
}

int site_tree_find_station(const site_tree_t *t, const char *station_id)
{
    for (int i = 0; i < t->n_nodes; i++)
        if (t->nodes[i].kind == SITE_NODE_STATION &&
            strcmp(t->nodes[i].station_id, station_id) == 0)
            return i;
    return -1;
}

bool site_tree_is_ancestor(const site_tree_t *t, int a, int n)
{
    for (; n >= 0; n = t->nodes[n].parent)
        if (n == a) return true;
    return false;
}

/* ------------------------------------------------------------------ JSON */

static void phase_string(const uint8_t *list, int n, char *out)
{
    for (int i = 0; i < n; i++) {
        out[2 * i] = 'L';
        out[2 * i + 1] = (char)('1' + list[i]);
    }
    out[2 * n] = '\0';
}

static json_t *per_phase_json(const double v[SMART_PHASES])
{
    json_t *a = json_array();
    for (int i = 0; i < SMART_PHASES; i++)
        json_array_append_new(a, isinf(v[i]) ? json_null() : json_real(v[i]));
    return a;
}

static json_t *node_json(const site_tree_t *t, const site_node_t *n)
{
    json_t *o = json_object();
    char ph[8];
    uint8_t list[SMART_PHASES];
    int k = 0;
    for (int i = 0; i < SMART_PHASES; i++)
        if (n->phases & (1u << i)) list[k++] = (uint8_t)i;
    json_object_set_new(o, "id", json_string(n->id));
    json_object_set_new(o, "kind", json_string(kind_names[n->kind]));
    json_object_set_new(o, "parent",
                        n->parent >= 0 ? json_string(t->nodes[n->parent].id) : json_null());
    bool limited = false;
    for (int i = 0; i < SMART_PHASES; i++)
        limited |= !isinf(n->limit_a[i]) && (n->phases & (1u << i));
    if (limited) json_object_set_new(o, "limit_a", per_phase_json(n->limit_a));
    phase_string(list, k, ph);
    json_object_set_new(o, "phases", json_string(ph));
    if (n->reserved_a[0] || n->reserved_a[1] || n->reserved_a[2])
        json_object_set_new(o, "reserved_a", per_phase_json(n->reserved_a));
    if (n->live_meter) json_object_set_new(o, "live_meter", json_true());
    if (n->kind == SITE_NODE_STATION) {
        phase_string(n->rotation, site_tree_phase_count(n->phases), ph);
        json_object_set_new(o, "rotation", json_string(ph));
        json_object_set_new(o, "station_id", json_string(n->station_id));
    }
    if (n->kind == SITE_NODE_EVSE) {
        json_object_set_new(o, "evse_id", json_integer(n->evse_id));
        if (n->min_a) json_object_set_new(o, "min_a", json_real(n->min_a));
        if (n->max_a) json_object_set_new(o, "max_a", json_real(n->max_a));
        if (n->dc_min_w) json_object_set_new(o, "dc_min_w", json_real(n->dc_min_w));
        if (n->dc_max_w) json_object_set_new(o, "dc_max_w", json_real(n->dc_max_w));
    }
    return o;
}

json_t *site_tree_json(const site_tree_t *t)
{
    json_t *o = json_object(), *nodes = json_array();
    json_object_set_new(o, "site", json_string(t->site));
    json_object_set_new(o, "policy", json_string(policy_names[t->policy]));
    json_object_set_new(o, "voltage_v", json_real(t->voltage_v));
    json_object_set_new(o, "evse_min_a", json_real(t->evse_min_a));
    json_object_set_new(o, "evse_max_a", json_real(t->evse_max_a));
    json_object_set_new(o, "meter_ttl_s", json_integer(t->meter_ttl_s));
    json_object_set_new(o, "time_of_use", json_boolean(t->time_of_use));
    for (int i = 0; i < t->n_nodes; i++)
        json_array_append_new(nodes, node_json(t, &t->nodes[i]));
    json_object_set_new(o, "nodes", nodes);
    return o;
}
