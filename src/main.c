/*
 * ampgrid's entry point: the command line, and the wiring of the layers
 * (store -> csms -> ocpp/api -> net) on one libuv loop. Read this file first
 * to see how the pieces fit.
 */
#include "api/api.h"
#include "config.h"
#include "csms/csms.h"
#include "firmware/campaign_server.h"
#include "firmware/firmware_repo.h"
#include "net/net.h"
#include "ocpp/ocpp.h"
#include "service/alerts_server.h"
#include "service/diagnostics.h"
#include "service/orphans.h"
#include "service/workorders_server.h"
#include "service/uptime_recorder.h"
#include "smart/engine.h"
#include "smart/openadr.h"
#include "smart/signals.h"
#include "smart/smart_sim.h"
#include "store/store.h"
#include "store/store_accounts.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/password.h"
#include "util/timefmt.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>
#include <uv.h>

#ifdef AMPGRID_WITH_JEMALLOC
/* Read by jemalloc at start (MALLOC_CONF in the environment still wins). A
 * background thread hands freed memory back to the kernel on a timer; without
 * it that happens only when the program allocates again, and a network that
 * has finished connecting and only exchanges heartbeats kept ~1.5 KiB per
 * station of memory freed during the connects (measured at 5,000 stations). */
const char *malloc_conf = "background_thread:true";
#endif

static const char usage[] =
    "ampgrid - an EV charging network management server (OCPP 1.6J and 2.0.1 CSMS)\n"
    "\n"
    "Usage:\n"
    "  ampgrid serve [--config FILE] [--data-dir DIR] [--ocpp-port N] [--http-port N]\n"
    "                [--tls-port N] [--bind ADDR] [--auto-register] [--trace]\n"
    "                [--log-level debug|info|warn|error]\n"
    "      Runs the server. Stations connect to ws://HOST:OCPP_PORT/ocpp/{stationId};\n"
    "      the API is at http://HOST:HTTP_PORT/api/v1. Defaults: data dir ./var,\n"
    "      OCPP port 9000, HTTP port 8080. See docs/configuration.md.\n"
    "  ampgrid token create --data-dir DIR --role admin|operator|technician|viewer|integration --name NAME\n"
    "                [--expires RFC3339]\n"
    "      Creates an API token and prints it alone on stdout (it is stored hashed and\n"
    "      cannot be shown again).\n"
    "  ampgrid user create --data-dir DIR --username NAME\n"
    "                --role admin|operator|technician|viewer|integration\n"
    "      Creates a dashboard user; reads the password (10+ characters) from stdin.\n"
    "  ampgrid smart-sim [--seed N] [--policy equal|priority|deadline|tou|all] [--evses N]\n"
    "                [--grid-kw KW] [--prices FILE.csv] [--dr HH:MM-HH:MM=NkW] [--json] [--png FILE]\n"
    "      Replays a simulated day of charging on a site with each load-management\n"
    "      policy and reports peak load, energy served, fairness and cost.\n"
    "  ampgrid version\n"
    "      Prints the version.\n"
    "  ampgrid --help\n";

typedef struct app {
    config_t cfg;
    uv_loop_t loop;
    uv_signal_t sigterm, sigint;
    store_t *store;
    csms_t *csms;
    ocpp_server_t *ocpp;
    api_t *api;
    alerts_server_t *alerts;
    workorders_server_t *workorders; /* tickets, parts, plans, windows */
    uptime_recorder_t *uptime;
    smart_signals_t *signals;       /* demand response and prices (smart/signals.h) */
    openadr_t *openadr;             /* the OpenADR VEN; NULL when not configured */
    smart_engine_t *smart;          /* load management (smart/engine.h) */
    file_tokens_t transfer_tokens; /* the secret of station transfer links */
    firmware_repo_t *firmware;
    diagnostics_t *diagnostics;     /* remote diagnostics requests */
    campaign_server_t *campaigns;   /* firmware update campaigns */
    char transfers_base[300], transfers_dir[600];
    net_t *net;
    uv_timer_t drain;
    uv_timer_t housekeeping;        /* writes heartbeat times every minute */
    uv_prepare_t log_flush;         /* writes the turn's log lines before the loop waits */
    int drain_ticks;
    bool stopping;
} app_t;

/* ------------------------------------------------------------- tokens */

static int make_token(store_t *st, const char *name, const char *role, int64_t expires,
                      char *out, size_t out_len)
{
    char raw[65], digest[65], err[256];
    password_random_hex(32, raw);
    snprintf(out, out_len, "agt_%s", raw);
    password_token_digest(out, digest);
    if (store_api_token_create_sync(st, name, role, digest, expires, err, sizeof err) != 0) {
        fprintf(stderr, "ampgrid: %s\n", err);
        return -1;
    }
    return 0;
}

/* The roles of the API (src/api/api_internal.h); says what is allowed when not. */
static bool role_valid(const char *role)
{
    static const char *const roles[] = {"admin", "operator", "technician", "viewer",
                                        "integration"};
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (strcmp(role, roles[i]) == 0) return true;
    fprintf(stderr, "ampgrid: --role must be admin, operator, technician, viewer or integration\n");
    return false;
}

static int cmd_token(int argc, char **argv)
{
    const char *data_dir = NULL, *role = NULL, *name = NULL, *expires = NULL;
    if (argc < 2 || strcmp(argv[1], "create") != 0) {
        fprintf(stderr, "ampgrid: usage: ampgrid token create --data-dir DIR --role ROLE --name NAME\n");
        return 2;
    }
    static const struct option opts[] = {{"data-dir", required_argument, 0, 'd'},
                                         {"role", required_argument, 0, 'r'},
                                         {"name", required_argument, 0, 'n'},
                                         {"expires", required_argument, 0, 'e'},
                                         {0, 0, 0, 0}};
    int o;
    optind = 2;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'd': data_dir = optarg; break;
        case 'r': role = optarg; break;
        case 'n': name = optarg; break;
        case 'e': expires = optarg; break;
        default: return 2;
        }
    }
    if (!data_dir || !role || !name) {
        fprintf(stderr, "ampgrid: token create needs --data-dir, --role and --name\n");
        return 2;
    }
    if (!role_valid(role)) return 2;
    if (!*name || strlen(name) > 63) {
        fprintf(stderr, "ampgrid: --name must be 1 to 63 characters\n");
        return 2;
    }
    int64_t exp = 0;
    if (expires && !time_parse_rfc3339(expires, &exp)) {
        fprintf(stderr, "ampgrid: --expires must be an RFC 3339 date-time\n");
        return 2;
    }
    char err[512], token[80];
    if (password_init() != 0) return 1;
    log_set_level(LOG_WARN);
    store_t *st = store_open(data_dir, true, err, sizeof err);
    if (!st) {
        fprintf(stderr, "ampgrid: %s\n", err);
        return 1;
    }
    int rc = make_token(st, name, role, exp, token, sizeof token);
    store_close(st);
    if (rc) return 1;
    printf("%s\n", token);
    return 0;
}

/* -------------------------------------------------------------- users */

/* One line from stdin, without echo when it is a terminal. */
static bool read_password(char *out, size_t len)
{
    struct termios old, quiet;
    bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        fprintf(stderr, "Password: ");
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    bool ok = fgets(out, (int)len, stdin) != NULL;
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fprintf(stderr, "\n");
    }
    if (ok) out[strcspn(out, "\r\n")] = '\0';
    return ok;
}

static int make_user(store_t *st, const char *username, const char *pw, const char *role)
{
    char hash[PASSWORD_HASH_MAX];
    if (password_hash(pw, crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                      hash) != 0) {
        fprintf(stderr, "ampgrid: cannot hash the password (out of memory?)\n");
        return -1;
    }
    if (store_user_create_sync(st, username, hash, role) != 0) {
        fprintf(stderr, "ampgrid: cannot create user %s (does it exist already?)\n", username);
        return -1;
    }
    return 0;
}

static int cmd_user(int argc, char **argv)
{
    const char *data_dir = NULL, *role = NULL, *name = NULL;
    if (argc < 2 || strcmp(argv[1], "create") != 0) {
        fprintf(stderr, "ampgrid: usage: ampgrid user create --data-dir DIR --username NAME "
                        "--role ROLE  (password on stdin)\n");
        return 2;
    }
    static const struct option opts[] = {{"data-dir", required_argument, 0, 'd'},
                                         {"role", required_argument, 0, 'r'},
                                         {"username", required_argument, 0, 'u'},
                                         {0, 0, 0, 0}};
    int o;
    optind = 2;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'd': data_dir = optarg; break;
        case 'r': role = optarg; break;
        case 'u': name = optarg; break;
        default: return 2;
        }
    }
    if (!data_dir || !role || !name) {
        fprintf(stderr, "ampgrid: user create needs --data-dir, --username and --role\n");
        return 2;
    }
    if (!role_valid(role)) return 2;
    size_t n = strlen(name);
    if (n < 1 || n > 64 || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789._@-") != n) {
        fprintf(stderr, "ampgrid: --username must be 1 to 64 letters, digits or . _ @ -\n");
        return 2;
    }
    char pw[300];
    if (!read_password(pw, sizeof pw) || strlen(pw) < 10 || strlen(pw) > 256 ||
        strcmp(pw, name) == 0) {
        fprintf(stderr, "ampgrid: give a password of 10 to 256 characters, other than the "
                        "username, on stdin\n");
        return 2;
    }
    char err[512];
    if (password_init() != 0) return 1;
    log_set_level(LOG_WARN);
    store_t *st = store_open(data_dir, true, err, sizeof err);
    if (!st) {
        fprintf(stderr, "ampgrid: %s\n", err);
        return 1;
    }
    int rc = make_user(st, name, pw, role);
    sodium_memzero(pw, sizeof pw);
    store_close(st);
    if (rc) return 1;
    fprintf(stderr, "ampgrid: user %s (%s) created\n", name, role);
    return 0;
}

/* -------------------------------------------------------------- serve */

/*
 * Shutdown drains before it closes: the API's event streams end, then the
 * store gets up to five seconds to commit what is queued and answer the
 * stations waiting for it, then every connection is closed. The loop ends
 * when the last handle has closed; main frees the layers after that.
 */
static void close_connections(app_t *a)
{
    uv_timer_stop(&a->drain);
    uv_close((uv_handle_t *)&a->drain, NULL);
    net_destroy(a->net);
    ocpp_server_stop(a->ocpp);
}

static void drain_cb(uv_timer_t *t)
{
    app_t *a = t->data;
    if (store_idle(a->store) || ++a->drain_ticks >= 100) close_connections(a);
}

static void housekeeping_cb(uv_timer_t *t)
{
    app_t *a = t->data;
    csms_flush_heartbeats(a->csms, false);
}

static void shutdown_app(app_t *a)
{
    if (a->stopping) return;
    a->stopping = true;
    log_info("shutting down: draining", NULL);
    log_set_buffered(false); /* shutdown's lines as they happen */
    uv_prepare_stop(&a->log_flush);
    uv_close((uv_handle_t *)&a->log_flush, NULL);
    uv_timer_stop(&a->housekeeping);
    uv_close((uv_handle_t *)&a->housekeeping, NULL);
    csms_flush_heartbeats(a->csms, true); /* drained with everything else queued */
    uv_signal_stop(&a->sigterm);
    uv_signal_stop(&a->sigint);
    uv_close((uv_handle_t *)&a->sigterm, NULL);
    uv_close((uv_handle_t *)&a->sigint, NULL);
    alerts_server_stop(a->alerts);
    campaign_server_stop(a->campaigns);
    workorders_server_stop(a->workorders);
    uptime_recorder_shutdown(a->uptime);
    diagnostics_stop(a->diagnostics);
    openadr_stop(a->openadr);
    smart_signals_stop(a->signals);
    smart_engine_stop(a->smart);
    api_shutdown(a->api);
    uv_timer_init(&a->loop, &a->drain);
    a->drain.data = a;
    uv_timer_start(&a->drain, drain_cb, 0, 50);
}

static void log_flush_cb(uv_prepare_t *h)
{
    (void)h;
    log_flush();
}

static void signal_cb(uv_signal_t *s, int signum)
{
    log_info("signal received", "signal=%d", signum);
    shutdown_app(s->data);
}

static int raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    return rl.rlim_cur > 1000000 ? 1000000 : (int)rl.rlim_cur;
}

static void print_banner(const app_t *a, const char *token, const char *admin_pw)
{
    const config_t *c = &a->cfg;
    const char *host = strcmp(c->bind, "0.0.0.0") == 0 ? "localhost" : c->bind;
    printf("ampgrid %s is running (data in %s)\n", AMPGRID_VERSION, c->data_dir);
    if (c->ocpp_port) printf("  OCPP 1.6J/2.0.1: ws://%s:%d/ocpp/{stationId}\n", host, c->ocpp_port);
    if (c->tls_port) printf("  OCPP (TLS):      wss://%s:%d/ocpp/{stationId}\n", host, c->tls_port);
    if (c->http_port) printf("  HTTP API:        http://%s:%d/api/v1  (health /healthz, metrics /metrics)\n",
                             host, c->http_port);
    if (token) {
        printf("  Admin API token (shown only now; keep it safe):\n    %s\n", token);
        printf("  Try: curl -H 'Authorization: Bearer %s' http://%s:%d/api/v1/stations\n", token,
               host, c->http_port);
    }
    if (admin_pw && c->http_port) {
        printf("  Dashboard:       http://%s:%d/  (user admin, password %s - shown only now;\n"
               "                   change it after logging in)\n",
               host, c->http_port, admin_pw);
    }
    fflush(stdout);
}

/* First-start credentials on their way to the store. */
typedef struct first_start {
    app_t *a;
    int pending;
    bool failed;
    char token[80], admin_pw[33];
} first_start_t;

static void first_done(void *ctx, store_err_t rc, json_t *res)
{
    (void)res;
    first_start_t *fs = ctx;
    if (rc != STORE_OK) fs->failed = true;
    if (--fs->pending > 0) return;
    if (fs->failed) {
        log_error("cannot store the first-start admin credentials", "hint=%s",
                  "check the data directory, then restart");
        kill(getpid(), SIGTERM);
    } else {
        print_banner(fs->a, fs->token[0] ? fs->token : NULL,
                     fs->admin_pw[0] ? fs->admin_pw : NULL);
    }
    sodium_memzero(fs, sizeof *fs);
    free(fs);
}

/* [transfers]: the link secret, the storage directory and the firmware
 * repository. The base URL defaults to the HTTP listener. */
static int setup_transfers(app_t *a, char *err, size_t err_len)
{
    const config_t *c = &a->cfg;
    if (file_tokens_load(&a->transfer_tokens, c->data_dir, err, err_len)) return -1;
    if (c->transfers_base_url[0])
        snprintf(a->transfers_base, sizeof a->transfers_base, "%s", c->transfers_base_url);
    else
        snprintf(a->transfers_base, sizeof a->transfers_base, "http://%s:%d",
                 strcmp(c->bind, "0.0.0.0") == 0 || !c->bind[0] ? "127.0.0.1" : c->bind,
                 c->http_port);
    if (c->transfers_dir[0])
        snprintf(a->transfers_dir, sizeof a->transfers_dir, "%s", c->transfers_dir);
    else
        snprintf(a->transfers_dir, sizeof a->transfers_dir, "%s/files", c->data_dir);
    firmware_repo_config_t fc = {.base_url = a->transfers_base,
                                 .dir = a->transfers_dir,
                                 .token_ttl = c->transfers_token_ttl,
                                 .max_upload = (int64_t)c->transfers_max_upload_mb << 20,
                                 .tokens = &a->transfer_tokens};
    a->firmware = firmware_repo_create(&fc, err, err_len);
    return a->firmware ? 0 : -1;
}

/* Parses a whole decimal port number; -1 when it is not one. */
static int parse_port(const char *flag, const char *v)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (!*v || *end || n < 0 || n > 65535) {
        fprintf(stderr, "ampgrid: %s needs a port number from 0 to 65535, not '%s'\n", flag, v);
        return -1;
    }
    return (int)n;
}

static int parse_serve_args(app_t *a, int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, 0, 'c'},   {"data-dir", required_argument, 0, 'd'},
        {"ocpp-port", required_argument, 0, 'o'}, {"http-port", required_argument, 0, 'h'},
        {"tls-port", required_argument, 0, 't'},  {"bind", required_argument, 0, 'b'},
        {"auto-register", no_argument, 0, 'a'},   {"trace", no_argument, 0, 'T'},
        {"log-level", required_argument, 0, 'l'}, {0, 0, 0, 0}};
    char err[512];
    config_defaults(&a->cfg);
    /* The config file first, then the other flags on top of it. */
    for (int i = 1; i < argc - 1; i++) {
        if (strcmp(argv[i], "--config") == 0 && config_load(&a->cfg, argv[i + 1], err, sizeof err)) {
            fprintf(stderr, "ampgrid: %s\n", err);
            return -1;
        }
    }
    optind = 1;
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'c': break;
        case 'd': snprintf(a->cfg.data_dir, sizeof a->cfg.data_dir, "%s", optarg); break;
        case 'o':
            if ((a->cfg.ocpp_port = parse_port("--ocpp-port", optarg)) < 0) return -1;
            break;
        case 'h':
            if ((a->cfg.http_port = parse_port("--http-port", optarg)) < 0) return -1;
            break;
        case 't':
            if ((a->cfg.tls_port = parse_port("--tls-port", optarg)) < 0) return -1;
            break;
        case 'b': snprintf(a->cfg.bind, sizeof a->cfg.bind, "%s", optarg); break;
        case 'a': a->cfg.auto_register = true; break;
        case 'T': a->cfg.trace = true; break;
        case 'l': snprintf(a->cfg.log_level, sizeof a->cfg.log_level, "%s", optarg); break;
        default: fprintf(stderr, "%s", usage); return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "ampgrid: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (config_validate(&a->cfg, err, sizeof err)) {
        fprintf(stderr, "ampgrid: %s\n", err);
        return -1;
    }
    return 0;
}

static int cmd_serve(int argc, char **argv)
{
    static app_t app;
    app_t *a = &app;
    char err[512];
    if (parse_serve_args(a, argc, argv)) return 2;
    log_level_t lvl;
    log_parse_level(a->cfg.log_level, &lvl);
    log_set_level(lvl);
    signal(SIGPIPE, SIG_IGN);
    if (password_init() != 0) {
        fprintf(stderr, "ampgrid: cannot initialise libsodium\n");
        return 1;
    }
    int fds = a->cfg.fd_limit > 0 ? a->cfg.fd_limit : raise_fd_limit();

    a->store = store_open(a->cfg.data_dir, a->cfg.sync_full, err, sizeof err);
    if (!a->store) {
        fprintf(stderr, "ampgrid: %s\n", err);
        return 1;
    }
    if (setup_transfers(a, err, sizeof err)) {
        fprintf(stderr, "ampgrid: %s\n", err);
        return 1;
    }
    csms_config_t cc = {
        .heartbeat_interval = a->cfg.heartbeat_interval,
        .pending_interval = a->cfg.pending_interval,
        .auto_register = a->cfg.auto_register,
        .auth_fail_limit = a->cfg.auth_fail_limit,
        .auth_fail_window = a->cfg.auth_fail_window,
        .pw_opslimit = (unsigned long long)a->cfg.password_opslimit,
        .pw_memlimit = (size_t)a->cfg.password_memlimit_kib * 1024,
    };
    a->csms = csms_create(a->store, &cc, err, sizeof err);
    if (!a->csms) {
        fprintf(stderr, "ampgrid: %s\n", err);
        return 1;
    }
    uv_loop_init(&a->loop);
    /* counted before the writer thread owns the connection (it is not shared) */
    bool need_token = store_api_token_count_sync(a->store) == 0;
    bool need_user = store_user_count_sync(a->store) == 0;
    /* loads open alerts from the database: also before the writer owns it */
    a->alerts = alerts_server_create(&a->loop, a->csms, a->store, &a->cfg.alerts, err, sizeof err);
    if (!a->alerts) {
        fprintf(stderr, "ampgrid: %s\n", err);
        return 1;
    }
    /* repairs connectivity a crash left open: also before the writer owns it */
    a->uptime = uptime_recorder_create(a->csms, a->store, &a->loop, err, sizeof err);
    if (!a->uptime) {
        fprintf(stderr, "ampgrid: %s\n", err);
        return 1;
    }
    /* loads the stored demand-response events and prices: also before the writer */
    a->signals = smart_signals_create(&a->loop, a->csms, a->store, err, sizeof err);
    if (!a->signals) {
        fprintf(stderr, "ampgrid: %s\n", err);
        return 1;
    }
    /* loads the sites' capacity trees: also before the writer owns the database */
    a->smart = smart_engine_create(&a->loop, a->csms, a->store, a->signals, &a->cfg.smart, err,
                                   sizeof err);
    if (!a->smart) {
        fprintf(stderr, "ampgrid: %s\n", err);
        return 1;
    }
    a->workorders = workorders_server_create(&a->loop, a->csms, a->store,
                                             alerts_server_engine(a->alerts), &a->cfg.workorders,
                                             a->cfg.data_dir, err, sizeof err);
    if (!a->workorders) {
        fprintf(stderr, "ampgrid: %s\n", err);
        return 1;
    }
    /* loads the running and paused firmware campaigns: also before the writer */
    a->campaigns = campaign_server_create(&a->loop, a->csms, a->store, a->firmware, err, sizeof err);
    if (!a->campaigns) {
        fprintf(stderr, "ampgrid: %s\n", err);
        return 1;
    }
    diagnostics_config_t dc = {.base_url = a->transfers_base,
                               .dir = a->transfers_dir,
                               .token_ttl = a->cfg.transfers_token_ttl,
                               .timeout = a->cfg.diagnostics_timeout,
                               .tokens = &a->transfer_tokens};
    a->diagnostics = diagnostics_create(&a->loop, a->csms, a->store, &dc, err, sizeof err);
    if (!a->diagnostics) {
        fprintf(stderr, "ampgrid: %s\n", err);
        return 1;
    }
    /* what a crash left in the file directories: also before the writer */
    char diag_dir[1040], fw_dir[1040];
    if (snprintf(diag_dir, sizeof diag_dir, "%s/diagnostics", a->transfers_dir) >=
            (int)sizeof diag_dir ||
        snprintf(fw_dir, sizeof fw_dir, "%s/firmware", a->transfers_dir) >= (int)sizeof fw_dir) {
        fprintf(stderr, "ampgrid: the transfers directory path is too long\n");
        return 1;
    }
    orphans_dirs_t od = {.attachments = workorders_server_attachments_dir(a->workorders),
                         .diagnostics = diag_dir,
                         .firmware = fw_dir};
    if (orphans_sweep(a->store, &od, err, sizeof err) < 0) {
        fprintf(stderr, "ampgrid: %s\n", err);
        return 1;
    }
    store_start(a->store, &a->loop);
    workorders_server_start(a->workorders);
    ocpp_config_t oc = {.call_timeout = a->cfg.call_timeout, .trace = a->cfg.trace};
    a->ocpp = ocpp_server_create(&a->loop, a->csms, &oc);
    api_deps_t deps = {.csms = a->csms,
                       .store = a->store,
                       .ocpp = a->ocpp,
                       .session_lifetime = a->cfg.session_lifetime,
                       .session_idle = a->cfg.session_idle,
                       .rate_limit = a->cfg.rate_limit,
                       .rate_burst = a->cfg.rate_burst,
                       .cookie_secure = a->cfg.cookie_secure,
                       .webhooks = {
                           .timeout = a->cfg.webhook_timeout,
                           .connect_timeout = a->cfg.webhook_connect_timeout,
                           .retry_base = a->cfg.webhook_retry_base,
                           .max_attempts = a->cfg.webhook_max_attempts,
                           .concurrency = a->cfg.webhook_concurrency,
                           .retention_days = a->cfg.webhook_retention_days,
                           .allow_private = a->cfg.webhook_allow_private,
                       },
                       .alerts = alerts_server_engine(a->alerts),
                       .firmware = a->firmware,
                       .diagnostics = a->diagnostics};
    deps.signals = a->signals;
    a->openadr = openadr_create(&a->loop, a->csms, a->signals, &a->cfg.openadr);
    deps.openadr = a->openadr;
    deps.campaigns = a->campaigns;
    deps.workorders = a->workorders;
    deps.smart = a->smart;
    a->api = api_create(&a->loop, &deps);

    net_config_t nc = {
        .bind = a->cfg.bind,
        .ocpp_port = a->cfg.ocpp_port,
        .tls_port = a->cfg.tls_port,
        .http_port = a->cfg.http_port,
        .tls_cert_rsa = a->cfg.tls_cert_rsa[0] ? a->cfg.tls_cert_rsa : NULL,
        .tls_key_rsa = a->cfg.tls_key_rsa[0] ? a->cfg.tls_key_rsa : NULL,
        .tls_cert_ecdsa = a->cfg.tls_cert_ecdsa[0] ? a->cfg.tls_cert_ecdsa : NULL,
        .tls_key_ecdsa = a->cfg.tls_key_ecdsa[0] ? a->cfg.tls_key_ecdsa : NULL,
        .subprotocols = ocpp_subprotocols(),
        .max_message = (size_t)a->cfg.max_message_size,
        .max_http_body = (size_t)a->cfg.max_body,
        .spool_dir = firmware_repo_spool_dir(a->firmware),
        .ping_interval = a->cfg.ping_interval,
        .ping_timeout = a->cfg.ping_timeout,
        .fd_limit = fds,
    };
    net_callbacks_t cbs = {
        .ud = a->ocpp,
        .ws_upgrade = ocpp_on_upgrade,
        .ws_open = ocpp_on_open,
        .ws_message = ocpp_on_message,
        .ws_close = ocpp_on_close,
        .http_ud = a->api,
        .http_request = api_on_request,
        .http_body = api_on_body,
    };
    a->net = net_create(&a->loop, &nc, &cbs, err, sizeof err);
    if (!a->net) {
        fprintf(stderr, "ampgrid: %s\n", err);
        return 1;
    }
    api_set_net(a->api, a->net);
    /* Only now, with the listeners up, are first-start credentials worth
     * creating: a start that fails to listen must not swallow the one-time
     * token. They go through the writer thread like every write, and the
     * banner that shows them is printed once they are durable. */
    first_start_t *fs = xcalloc(1, sizeof *fs);
    fs->a = a;
    fs->pending = 1;
    if (need_token) {
        char raw[65], digest[65];
        password_random_hex(32, raw);
        snprintf(fs->token, sizeof fs->token, "agt_%s", raw);
        password_token_digest(fs->token, digest);
        fs->pending++;
        store_api_token_create(a->store, "initial-admin", "admin", digest, 0, NULL, first_done,
                               fs);
    }
    if (need_user) {
        char hash[PASSWORD_HASH_MAX];
        password_random_hex(12, fs->admin_pw);
        if (password_hash(fs->admin_pw, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE, hash) != 0)
            return 1;
        fs->pending++;
        store_user_create(a->store, "admin", hash, "admin", first_done, fs);
    }

    uv_timer_init(&a->loop, &a->housekeeping);
    a->housekeeping.data = a;
    uv_timer_start(&a->housekeeping, housekeeping_cb, 60000, 60000);
    uv_signal_init(&a->loop, &a->sigterm);
    uv_signal_init(&a->loop, &a->sigint);
    a->sigterm.data = a->sigint.data = a;
    uv_signal_start(&a->sigterm, signal_cb, SIGTERM);
    uv_signal_start(&a->sigint, signal_cb, SIGINT);

    /* info lines go out once per loop turn (see log.c), until shutdown begins */
    uv_prepare_init(&a->loop, &a->log_flush);
    uv_prepare_start(&a->log_flush, log_flush_cb);
    log_set_buffered(true);
    log_info("listening", "ocpp_port=%d tls_port=%d http_port=%d fd_limit=%d", a->cfg.ocpp_port,
             a->cfg.tls_port, a->cfg.http_port, fds);
    first_done(fs, STORE_OK, NULL); /* the banner, once the credentials above are stored */
    uv_run(&a->loop, UV_RUN_DEFAULT);

    uptime_recorder_free(a->uptime); /* no events may reach a closed store */
    store_close(a->store); /* commits anything still queued */
    openadr_free(a->openadr);       /* after the store's last completions */
    smart_signals_free(a->signals); /* after the store's last completions */
    alerts_server_free(a->alerts); /* after the store's last completions */
    campaign_server_free(a->campaigns); /* likewise */
    workorders_server_free(a->workorders);
    ocpp_server_free(a->ocpp);
    smart_engine_free(a->smart); /* after the last answers to its profiles */
    net_free(a->net);
    csms_destroy(a->csms);
    api_destroy(a->api);
    firmware_repo_free(a->firmware);
    diagnostics_free(a->diagnostics);
    uv_run(&a->loop, UV_RUN_NOWAIT);
    if (uv_loop_close(&a->loop) != 0) log_warn("event loop closed with handles open", NULL);
    log_info("stopped", NULL);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("ampgrid %s\n", AMPGRID_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "serve") == 0) return cmd_serve(argc - 1, argv + 1);
    if (strcmp(argv[1], "token") == 0) return cmd_token(argc - 1, argv + 1);
    if (strcmp(argv[1], "user") == 0) return cmd_user(argc - 1, argv + 1);
    if (strcmp(argv[1], "smart-sim") == 0) return smart_sim_main(argc - 1, argv + 1);
    fprintf(stderr, "ampgrid: unknown command '%s'\n\n%s", argv[1], usage);
    return 2;
}
