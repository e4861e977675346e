/*
 * Allocation speed benchmark (issue 7): how long one recomputation of
 * smart_allocate takes for
 *  - one site of 10,000 EVSEs: grid -> site -> 20 feeders -> 500 stations ->
 *    10,000 EVSEs (20 per station), a mix of single- and three-phase cars on
 *    rotated stations, a few drawing less than granted, limits tight enough
 *    that every level of the tree binds somewhere;
 *  - 1,000 sites of 100 EVSEs (grid -> site -> 2 feeders -> 10 stations ->
 *    100 EVSEs), each its own call, as the engine recomputes site by site;
 *  - one 24-hour schedule (96 slots of 15 min) for a 100-EVSE site.
 * Every policy; median and p99 over many runs, workspace reused as the
 * engine does. Usage: ampgrid-alloc-bench [--runs N] [--json]
 */
#include "smart/alloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct site {
    smart_node_t *nodes;
    smart_evse_t *evses;
    int n_nodes, n_evses;
} site_t;

static uint64_t rng = 0x12345678ABCDEFULL;

static double uniform(double lo, double hi)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return lo + (hi - lo) * (double)(rng >> 11) / (double)(1ULL << 53);
}

static smart_node_t node(int parent, double limit)
{
    return (smart_node_t){parent, {limit, limit, limit}, {0, 0, 0}};
}

/* grid -> site -> feeders -> stations -> EVSEs; limits from the per-EVSE share. */
static site_t build(int feeders, int stations_per_feeder, int evses_per_station)
{
    int stations = feeders * stations_per_feeder, n_evses = stations * evses_per_station;
    site_t s = {calloc((size_t)(2 + feeders + stations), sizeof(smart_node_t)),
                calloc((size_t)n_evses, sizeof(smart_evse_t)), 0, n_evses};
    s.nodes[s.n_nodes++] = node(-1, 14.0 * n_evses); /* grid: 14 A per EVSE */
    s.nodes[s.n_nodes++] = node(0, 16.0 * n_evses);  /* site */
    s.nodes[0].reserved_a[0] = 0.5 * n_evses;        /* building load on L1 */
    for (int f = 0; f < feeders; f++)
        s.nodes[s.n_nodes++] = node(1, 15.0 * n_evses / feeders * uniform(0.8, 1.2));
    static const uint8_t rot[3][3] = {{0, 1, 2}, {1, 2, 0}, {2, 0, 1}};
    for (int st = 0; st < stations; st++) {
        int me = s.n_nodes;
        s.nodes[s.n_nodes++] = node(2 + st / stations_per_feeder, 20.0 * evses_per_station);
        for (int k = 0; k < evses_per_station; k++) {
            smart_evse_t *e = &s.evses[st * evses_per_station + k];
            bool one = uniform(0, 1) < 0.3;
            *e = (smart_evse_t){.node = me,
                                .phases = one ? 1 : 3,
                                .active = uniform(0, 1) < 0.9,
                                .min_a = 6,
                                .max_a = one                   ? 32
                                         : uniform(0, 1) < 0.5 ? 16
                                                               : 32,
                                .draw_a = -1,
                                .priority = uniform(0, 1) < 0.2,
                                .voltage_v = 230};
            memcpy(e->phase_of, rot[st % 3], 3);
            if (uniform(0, 1) < 0.1) e->granted_a = 16, e->draw_a = uniform(0, 10);
            if (uniform(0, 1) < 0.3)
                e->need_wh = uniform(5000, 40000),
                e->departure = 1700000000 + (int)uniform(1800, 36000);
        }
    }
    return s;
}

static double clock_us(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int dcmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Wall time, and the thread's CPU time: on a shared machine the second is
 * what the computation costs, the first what a caller waited. */
typedef struct stat {
    double median, p99, cpu_median, cpu_p99;
} stat_t;

typedef struct timing {
    double *wall, *cpu;
    int n;
} timing_t;

static void timing_start(double *w, double *c)
{
    *w = clock_us(CLOCK_MONOTONIC);
    *c = clock_us(CLOCK_THREAD_CPUTIME_ID);
}

static void timing_stop(timing_t *t, int r, double w, double c)
{
    if (r < 0) return; /* warm-up */
    t->wall[r] = clock_us(CLOCK_MONOTONIC) - w;
    t->cpu[r] = clock_us(CLOCK_THREAD_CPUTIME_ID) - c;
}

static stat_t stats(timing_t *t)
{
    int n = t->n, i99 = (int)ceil(0.99 * n) - 1;
    if (i99 < 0) i99 = 0;
    qsort(t->wall, (size_t)n, sizeof *t->wall, dcmp);
    qsort(t->cpu, (size_t)n, sizeof *t->cpu, dcmp);
    stat_t s = {t->wall[n / 2], t->wall[i99], t->cpu[n / 2], t->cpu[i99]};
    free(t->wall);
    free(t->cpu);
    return s;
}

static timing_t timing_new(int runs)
{
    return (timing_t){calloc((size_t)runs, sizeof(double)), calloc((size_t)runs, sizeof(double)),
                      runs};
}

static void print_row(const char *label, stat_t s)
{
    printf("%-40s %8.3f ms %8.3f ms %8.3f ms %8.3f ms\n", label, s.median / 1000, s.p99 / 1000,
           s.cpu_median / 1000, s.cpu_p99 / 1000);
}

static void print_json(stat_t s)
{
    printf("{\"median\": %.1f, \"p99\": %.1f, \"cpu_median\": %.1f, \"cpu_p99\": %.1f}", s.median,
           s.p99, s.cpu_median, s.cpu_p99);
}

static const char *policy_name[] = {"equal", "priority", "deadline"};

static stat_t time_sites(smart_workspace_t *ws, site_t *sites, int n_sites, smart_policy_t pol,
                         int runs, smart_grant_t *g)
{
    timing_t t = timing_new(runs);
    for (int r = -2; r < runs; r++) { /* two warm-up runs grow the workspace */
        double w, c;
        timing_start(&w, &c);
        for (int k = 0; k < n_sites; k++) {
            smart_problem_t p = {
                sites[k].nodes, sites[k].n_nodes, sites[k].evses, sites[k].n_evses, pol,
                1700000000};
            if (smart_allocate(ws, &p, g) != SMART_ALLOC_OK) {
                fprintf(stderr, "alloc-bench: problem rejected\n");
                exit(1);
            }
        }
        timing_stop(&t, r, w, c);
    }
    return stats(&t);
}

int main(int argc, char **argv)
{
    int runs = 200;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--json") == 0)
            json = true;
        else {
            fprintf(stderr, "usage: ampgrid-alloc-bench [--runs N] [--json]\n");
            return 2;
        }
    }
    if (runs < 1) runs = 1;
    smart_workspace_t *ws = smart_workspace_new();
    site_t big = build(20, 25, 20);
    site_t *small = calloc(1000, sizeof *small);
    for (int k = 0; k < 1000; k++)
        small[k] = build(2, 5, 10);
    smart_grant_t *g = calloc((size_t)big.n_evses, sizeof *g);

    if (!json)
        printf("%-40s %11s %11s %11s %11s\n", "one recomputation (workspace reused)", "median",
               "p99", "CPU median", "CPU p99");
    if (json) printf("{\"runs\": %d, \"results\": [", runs);
    const char *sep = "";
    for (int pol = 0; pol < 3; pol++) {
        stat_t a = time_sites(ws, &big, 1, (smart_policy_t)pol, runs, g);
        stat_t b = time_sites(ws, small, 1000, (smart_policy_t)pol, runs / 4 + 1, g);
        if (json) {
            printf("%s{\"policy\": \"%s\", \"site_10000_us\": ", sep, policy_name[pol]);
            print_json(a);
            printf(", \"sites_1000x100_us\": ");
            print_json(b);
            printf("}");
            sep = ", ";
        } else {
            char label[64];
            snprintf(label, sizeof label, "1 site x 10,000 EVSEs, %s", policy_name[pol]);
            print_row(label, a);
            snprintf(label, sizeof label, "1,000 sites x 100 EVSEs, %s", policy_name[pol]);
            print_row(label, b);
        }
    }
    /* a day-ahead schedule of one 100-EVSE site */
    enum { SLOTS = 96 };
    smart_slot_t slots[SLOTS];
    for (int s = 0; s < SLOTS; s++)
        slots[s] = (smart_slot_t){
            1700000000 + 900 * s, {INFINITY, INFINITY, INFINITY}, 0.1 + 0.1 * sin(s / 15.0)};
    double *plan = calloc((size_t)small[0].n_evses * SLOTS, sizeof *plan);
    timing_t t = timing_new(runs);
    smart_problem_t p = {small[0].nodes,   small[0].n_nodes,      small[0].evses,
                         small[0].n_evses, SMART_POLICY_DEADLINE, 1700000000};
    for (int r = -2; r < runs; r++) {
        double w, c;
        timing_start(&w, &c);
        smart_schedule(ws, &p, slots, SLOTS, 900, plan, NULL, NULL);
        timing_stop(&t, r, w, c);
    }
    stat_t sc = stats(&t);
    if (json) {
        printf("], \"schedule_100x96_us\": ");
        print_json(sc);
        printf("}\n");
    } else {
        print_row("schedule, 100 EVSEs x 96 slots", sc);
    }
    free(plan);
    free(g);
    for (int k = 0; k < 1000; k++)
        free(small[k].nodes), free(small[k].evses);
    free(small);
    free(big.nodes);
    free(big.evses);
    smart_workspace_free(ws);
    return 0;
}
