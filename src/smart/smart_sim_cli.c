/*
 * The `ampgrid smart-sim` command line (smart_sim.h): options, the text
 * table, the JSON document and the chart. Exit status 0, 2 for bad usage,
 * 1 when a run fails (a limit exceeded would be a bug, and says so).
 */
#include "smart/sim_chart.h"
#include "smart/smart_sim.h"
#include "util/alloc.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: ampgrid smart-sim [--seed N] [--policy equal|priority|deadline|tou|all]\n"
    "                         [--evses N] [--grid-kw KW] [--step SECONDS]\n"
    "                         [--prices FILE.csv] [--dr HH:MM-HH:MM=NkW] [--json] [--png FILE]\n"
    "Replays a day of charging sessions from a seeded random model on a site\n"
    "(default 50 EVSEs of 7.4-22 kW behind 150 kW) with each policy; see\n"
    "docs/load-management.md.\n";

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0, got;
    char *buf = xmalloc(cap);
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap) buf = xrealloc(buf, cap *= 2);
    }
    fclose(f);
    buf[n] = 0;
    return buf;
}

static void print_table(const smart_sim_config_t *c, const smart_sim_result_t *r, int n)
{
    printf("site: %d EVSEs behind %.0f kW, seed %llu", c->n_evses, c->grid_kw,
           (unsigned long long)c->seed);
    if (c->dr_kw >= 0)
        printf(", demand response %02d:%02d-%02d:%02d at %.0f kW", (int)(c->dr_start / 3600),
               (int)(c->dr_start % 3600 / 60), (int)(c->dr_end / 3600),
               (int)(c->dr_end % 3600 / 60), c->dr_kw);
    printf("\n%d sessions, %d cars turned away (all EVSEs busy)\n\n", r[0].sessions,
           r[0].turned_away);
    printf("%-9s %9s %9s %10s %17s %8s %6s %9s\n", "policy", "peak kW", "limit kW", "peak in DR",
           "delivered/asked", "served", "Jain", "cost");
    for (int k = 0; k < n; k++) {
        char dr[16] = "-", energy[40];
        if (r[k].peak_dr_kw >= 0) snprintf(dr, sizeof dr, "%.1f", r[k].peak_dr_kw);
        snprintf(energy, sizeof energy, "%.0f/%.0f kWh", r[k].delivered_kwh, r[k].requested_kwh);
        printf("%-9s %9.1f %9.1f %10s %17s %7.1f%% %6.3f %9.2f\n",
               smart_sim_policy_name(r[k].policy), r[k].peak_kw, r[k].limit_kw, dr, energy,
               r[k].sessions ? 100.0 * r[k].served / r[k].sessions : 0, r[k].jain, r[k].cost);
    }
}

static void print_json(const smart_sim_config_t *c, const smart_sim_result_t *r, int n)
{
    printf("{\"seed\": %llu, \"evses\": %d, \"grid_kw\": %g, \"step_s\": %d, ",
           (unsigned long long)c->seed, c->n_evses, c->grid_kw, c->step_s);
    if (c->dr_kw >= 0)
        printf("\"dr\": {\"start_s\": %lld, \"end_s\": %lld, \"kw\": %g}, ", (long long)c->dr_start,
               (long long)c->dr_end, c->dr_kw);
    printf("\"policies\": [");
    for (int k = 0; k < n; k++) {
        const smart_sim_result_t *x = &r[k];
        char dr[32] = "null";
        if (x->peak_dr_kw >= 0) snprintf(dr, sizeof dr, "%.3f", x->peak_dr_kw);
        printf("%s\n  {\"policy\": \"%s\", \"sessions\": %d, \"turned_away\": %d, "
               "\"peak_kw\": %.3f, \"limit_kw\": %.3f, \"peak_dr_kw\": %s, "
               "\"min_margin_a\": %.6f, \"requested_kwh\": %.3f, \"delivered_kwh\": %.3f, "
               "\"served\": %d, \"served_share\": %.4f, \"jain\": %.4f, \"cost\": %.4f}",
               k ? "," : "", smart_sim_policy_name(x->policy), x->sessions, x->turned_away,
               x->peak_kw, x->limit_kw, dr, x->min_margin_a, x->requested_kwh,
               x->delivered_kwh, x->served, x->sessions ? (double)x->served / x->sessions : 0,
               x->jain, x->cost);
    }
    printf("\n]}\n");
}

typedef struct opts {
    smart_sim_config_t cfg;
    const char *policy, *prices, *png;
    bool json;
} opts_t;

static int parse(int argc, char **argv, opts_t *o)
{
    static const struct option long_opts[] = {{"seed", required_argument, 0, 's'},
                                              {"policy", required_argument, 0, 'p'},
                                              {"evses", required_argument, 0, 'n'},
                                              {"grid-kw", required_argument, 0, 'g'},
                                              {"step", required_argument, 0, 't'},
                                              {"prices", required_argument, 0, 'c'},
                                              {"dr", required_argument, 0, 'd'},
                                              {"json", no_argument, 0, 'j'},
                                              {"png", required_argument, 0, 'o'},
                                              {"help", no_argument, 0, 'h'},
                                              {0, 0, 0, 0}};
    char err[160], *end = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
        switch (c) {
        case 's':
            o->cfg.seed = strtoull(optarg, &end, 10);
            break;
        case 'p':
            o->policy = optarg;
            continue;
        case 'n':
            o->cfg.n_evses = (int)strtol(optarg, &end, 10);
            break;
        case 'g':
            o->cfg.grid_kw = strtod(optarg, &end);
            break;
        case 't':
            o->cfg.step_s = (int)strtol(optarg, &end, 10);
            break;
        case 'c':
            o->prices = optarg;
            continue;
        case 'd':
            if (smart_sim_dr_parse(optarg, &o->cfg, err, sizeof err)) {
                fprintf(stderr, "ampgrid smart-sim: %s\n", err);
                return -1;
            }
            continue;
        case 'j':
            o->json = true;
            continue;
        case 'o':
            o->png = optarg;
            continue;
        case 'h':
            fputs(usage, stdout);
            exit(0);
        default:
            fputs(usage, stderr);
            return -1;
        }
        if (*end || end == optarg) {
            fprintf(stderr, "ampgrid smart-sim: bad number '%s'\n", optarg);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "ampgrid smart-sim: unexpected argument '%s'\n%s", argv[optind], usage);
        return -1;
    }
    return 0;
}

/* Which policies --policy names: fills list, returns the count or -1. */
static int policies(const char *name, smart_sim_policy_t *list)
{
    if (!name || strcmp(name, "all") == 0) {
        for (int k = 0; k < SMART_SIM_N_POLICIES; k++)
            list[k] = (smart_sim_policy_t)k;
        return SMART_SIM_N_POLICIES;
    }
    for (int k = 0; k < SMART_SIM_N_POLICIES; k++)
        if (strcmp(name, smart_sim_policy_name((smart_sim_policy_t)k)) == 0) {
            list[0] = (smart_sim_policy_t)k;
            return 1;
        }
    return -1;
}

int smart_sim_main(int argc, char **argv)
{
    opts_t o = {0};
    smart_sim_config_default(&o.cfg);
    smart_sim_price_t *prices = NULL;
    smart_sim_result_t r[SMART_SIM_N_POLICIES];
    smart_sim_policy_t list[SMART_SIM_N_POLICIES];
    char err[200];
    int n = 0, done = 0, rc = 2;
    if (parse(argc, argv, &o)) return 2;
    if ((n = policies(o.policy, list)) < 0) {
        fprintf(stderr,
                "ampgrid smart-sim: --policy must be equal, priority, deadline, tou or all\n");
        return 2;
    }
    if (o.prices) {
        char *text = read_file(o.prices);
        if (!text) {
            fprintf(stderr, "ampgrid smart-sim: cannot read %s\n", o.prices);
            return 2;
        }
        o.cfg.n_prices = smart_sim_prices_parse(text, &prices, err, sizeof err);
        free(text);
        if (o.cfg.n_prices < 0) {
            fprintf(stderr, "ampgrid smart-sim: %s: %s\n", o.prices, err);
            return 2;
        }
        o.cfg.prices = prices;
    }
    rc = 1;
    for (; done < n; done++)
        if (smart_sim_run(&o.cfg, list[done], &r[done], err, sizeof err)) {
            fprintf(stderr, "ampgrid smart-sim: %s\n", err);
            goto out;
        }
    if (o.json)
        print_json(&o.cfg, r, n);
    else
        print_table(&o.cfg, r, n);
    if (o.png && sim_chart_write(r, n, o.png)) {
        fprintf(stderr, "ampgrid smart-sim: cannot write %s\n", o.png);
        goto out;
    }
    rc = 0;
out:
    for (int k = 0; k < done; k++)
        smart_sim_result_free(&r[k]);
    free(prices);
    return rc;
}
