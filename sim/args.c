/*
 * Command-line parsing for ampgrid-sim; see args.h.
 *
 * Why loopback only: a load generator that can open 20,000 authenticated
 * connections is a denial-of-service tool when pointed elsewhere. ampgrid-sim
 * is for trying and measuring a server on the same machine, so every address
 * it connects to or from must be in 127.0.0.0/8.
 */
#include "sim/args.h"

#include "sim/firmware.h"
#include "sim/proto.h"
#include "sim/scenario.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char sim_usage[] =
    "ampgrid-sim - OCPP charging-station simulator and load generator\n"
    "\n"
    "Usage: ampgrid-sim [options]\n"
    "  --url URL             ws://127.0.0.1:9000/ocpp (wss:// for TLS); the station id is\n"
    "                        appended as /ocpp/{id}. Loopback addresses only.\n"
    "  --stations N          stations to simulate, 1-20000 (default 10)\n"
    "  --first N             index of the first station (default 1): ids are PREFIX+index\n"
    "  --prefix S            station id prefix (default SIM-)\n"
    "  --password P          HTTP Basic password of every station (16-40 characters)\n"
    "  --connectors A[-B]    connectors per station, 1-4, drawn from A..B (default 1-2)\n"
    "  --protocol LIST       subprotocols to offer, comma-separated, preferred first:\n"
    "                        ocpp1.6 and/or ocpp2.0.1 (default ocpp1.6). Every scenario\n"
    "                        runs in either version; in 2.0.1 sessions are TransactionEvent\n"
    "                        Started/Updated/Ended and throughput sends TransactionEvent\n"
    "                        Updated with meter values (the report keeps the 1.6 kind names)\n"
    "  --ocpp V              shorthand: --ocpp 2.0.1 = --protocol ocpp2.0.1 (1.6 likewise)\n"
    "  --source-ips SPEC     spread connections over local addresses: 127.0.0.1-127.0.0.8\n"
    "                        or a comma list (needed above ~25,000 connections per port)\n"
    "  --insecure            wss: accept self-signed or mismatched certificates\n"
    "  --ca FILE             wss: CA bundle to verify the server with\n"
    "  --no-tls-resume       wss: a full TLS handshake on every reconnect (by default a\n"
    "                        station resumes its last TLS session, as real stations do)\n"
    "\n"
    "  --scenario NAME       connect | storm | sessions | throughput | mixed (default connect)\n"
    "  --duration S          connect: hold; storm: longest recovery wait; others: run time (30)\n"
    "  --ramp R              new connections per second in the ramp, 0 = all at once (0)\n"
    "  --ramp-timeout S      give up waiting for every station to boot after S seconds\n"
    "  --max-connecting N    connection attempts in progress at once, 0 = no limit (512)\n"
    "  --meter-interval S    seconds between meter values while charging (10)\n"
    "  --charging F          sessions/mixed: share of connectors charging on average (0.3)\n"
    "  --session S           mean session length in seconds (120)\n"
    "  --inflight K          throughput: MeterValues in flight per station, 1-64 (1)\n"
    "  --storm-spread MS     storm: reconnects spread over MS milliseconds (0 = at once)\n"
    "  --day S               mixed: length of the compressed day in seconds (= duration)\n"
    "  --warmup S            connect/sessions/mixed: run S seconds before measuring (0)\n"
    "  --call-timeout S      seconds to wait for an answer (30)\n"
    "  --backoff-min MS, --backoff-max MS   reconnect back-off bounds (1000, 30000)\n"
    "  --drain S             at the end, wait this long for answers in flight (10)\n"
    "  --seed N              random seed (1)\n"
    "  --no-validate         do not check answers against the OCPP message definitions\n"
    "\n"
    "  --json FILE           write the report as JSON\n"
    "  --progress S          a progress line every S seconds on stderr, 0 = none (5)\n"
    "  --quiet               no text report on stdout\n"
    "\n"
    "  --api URL             the server's HTTP API, e.g. http://127.0.0.1:8080\n"
    "  --token T             API token (operator or admin)\n"
    "  --register            create the stations (and one id token per connector) through\n"
    "                        the API first; existing ones are kept\n"
    "  --register-concurrency N   API requests in flight while registering (16)\n"
    "\n"
    "The stations answer every call the server may send. UpdateFirmware: at the\n"
    "retrieve time they download the file (HTTP GET; loopback http/https URLs only,\n"
    "others end in DownloadFailed), retry a failed download as the request says,\n"
    "install, reboot and boot with the new firmwareVersion, then report Installed.\n"
    "GetDiagnostics/GetLog: they upload a small log file with HTTP PUT (multipart\n"
    "POST if the receiver answers 405) to the URL (a directory URL ending in / gets\n"
    "the file name appended). https uses --insecure and --ca like wss.\n"
    "  --firmware-fail RATE[:signature]\n"
    "                        share of firmware installs that fail, 0-1 (0): they\n"
    "                        end in InstallationFailed; with :signature, signed\n"
    "                        2.0.1 updates fail as InvalidSignature instead\n"
    "  --firmware-version-from RULE\n"
    "                        the version a station reports after an update, from\n"
    "                        the file's URL: name (the file name without its\n"
    "                        extension: fw-2.1.0.bin -> fw-2.1.0), version (the\n"
    "                        first dotted number in it: 2.1.0) or sha256\n"
    "                        (sha256-<first 12 hex digits of the file's digest>)\n"
    "                        (default name)\n"
    "  --help, --version\n";

static bool loopback(const char *addr)
{
    struct in_addr a;
    if (inet_pton(AF_INET, addr, &a) != 1) return false;
    return (ntohl(a.s_addr) >> 24) == 127;
}

static int fail(char *err, size_t len, const char *what)
{
    snprintf(err, len, "%s", what);
    return -1;
}

/* Splits scheme://host:port/path; returns 0 and fills the parts. */
static int split_url(const char *url, const char *plain, const char *secure, bool *tls, char *host,
                     size_t hlen, int *port, char *path, size_t plen, char *err, size_t elen)
{
    const char *rest;
    if (strncmp(url, plain, strlen(plain)) == 0) {
        *tls = false;
        rest = url + strlen(plain);
    } else if (strncmp(url, secure, strlen(secure)) == 0) {
        *tls = true;
        rest = url + strlen(secure);
    } else {
        snprintf(err, elen, "'%s' must start with %s or %s", url, plain, secure);
        return -1;
    }
    const char *slash = strchr(rest, '/'), *colon = strchr(rest, ':');
    size_t hl = colon && (!slash || colon < slash) ? (size_t)(colon - rest)
                : slash                            ? (size_t)(slash - rest)
                                                   : strlen(rest);
    if (hl == 0 || hl >= hlen) return fail(err, elen, "the URL has no host (or too long a one)");
    memcpy(host, rest, hl);
    host[hl] = '\0';
    if (strcmp(host, "localhost") == 0) snprintf(host, hlen, "127.0.0.1");
    if (!loopback(host))
        return fail(err, elen, "ampgrid-sim only connects to loopback addresses (127.0.0.0/8)");
    if (colon && (!slash || colon < slash)) {
        char *end;
        long p = strtol(colon + 1, &end, 10);
        if (p < 1 || p > 65535 || (end != slash && *end))
            return fail(err, elen, "bad port in the URL");
        *port = (int)p;
    } else {
        *port = *tls ? 443 : 80;
    }
    snprintf(path, plen, "%s", slash ? slash : "");
    size_t n = strlen(path);
    while (n && path[n - 1] == '/')
        path[--n] = '\0';
    return 0;
}

int sim_args_url(const char *url, sim_config_t *cfg, char *err, size_t err_len)
{
    return split_url(url, "ws://", "wss://", &cfg->tls, cfg->host, sizeof cfg->host, &cfg->port,
                     cfg->path, sizeof cfg->path, err, err_len);
}

static int api_url(const char *url, sim_config_t *cfg, char *err, size_t err_len)
{
    bool tls;
    char path[16];
    if (split_url(url, "http://", "https://", &tls, cfg->api_host, sizeof cfg->api_host,
                  &cfg->api_port, path, sizeof path, err, err_len))
        return -1;
    if (tls) return fail(err, err_len, "--api: use the plain http:// API port on loopback");
    return 0;
}

int sim_args_sources(const char *spec, sim_config_t *cfg, char *err, size_t err_len)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", spec);
    cfg->nsources = 0;
    const char *dash = strchr(buf, '-');
    if (dash && !strchr(buf, ',')) {
        struct in_addr a, b;
        buf[dash - buf] = '\0';
        if (inet_pton(AF_INET, buf, &a) != 1 || inet_pton(AF_INET, dash + 1, &b) != 1 ||
            !loopback(buf) || !loopback(dash + 1) || ntohl(b.s_addr) < ntohl(a.s_addr))
            return fail(err, err_len, "--source-ips: give a range of loopback addresses A-B");
        uint32_t lo = ntohl(a.s_addr), hi = ntohl(b.s_addr);
        if (hi - lo >= SIM_MAX_SOURCES)
            return fail(err, err_len, "--source-ips: at most 64 addresses");
        for (uint32_t x = lo; x <= hi; x++) {
            struct in_addr v = {.s_addr = htonl(x)};
            inet_ntop(AF_INET, &v, cfg->sources[cfg->nsources++], sizeof cfg->sources[0]);
        }
        return 0;
    }
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!loopback(t)) return fail(err, err_len, "--source-ips: loopback addresses only");
        if (cfg->nsources == SIM_MAX_SOURCES)
            return fail(err, err_len, "--source-ips: at most 64 addresses");
        snprintf(cfg->sources[cfg->nsources++], sizeof cfg->sources[0], "%s", t);
    }
    return cfg->nsources ? 0 : fail(err, err_len, "--source-ips: no address given");
}

static int num(const char *flag, const char *v, double lo, double hi, double *out, char *err,
               size_t err_len)
{
    char *end;
    double d = strtod(v, &end);
    if (!*v || *end || d < lo || d > hi) {
        snprintf(err, err_len, "%s needs a number from %g to %g, not '%s'", flag, lo, hi, v);
        return -1;
    }
    *out = d;
    return 0;
}

static int str(const char *flag, const char *v, char *dst, size_t cap, char *err, size_t err_len)
{
    if (strlen(v) >= cap) {
        snprintf(err, err_len, "%s is too long (at most %zu characters)", flag, cap - 1);
        return -1;
    }
    snprintf(dst, cap, "%s", v);
    return 0;
}

static int connectors(const char *v, sim_config_t *c, char *err, size_t err_len)
{
    unsigned a = 0, b = 0;
    int n = sscanf(v, "%u-%u", &a, &b);
    if (n == 1) b = a;
    if (n < 1 || a < 1 || b > SIM_MAX_CONNECTORS || a > b)
        return fail(err, err_len, "--connectors takes N or A-B with 1 <= A <= B <= 4");
    c->connectors_min = a;
    c->connectors_max = b;
    return 0;
}

enum {
    O_URL = 256,
    O_STATIONS,
    O_FIRST,
    O_PREFIX,
    O_PASSWORD,
    O_CONNECTORS,
    O_PROTOCOL,
    O_OCPP,
    O_SOURCES,
    O_INSECURE,
    O_NO_TLS_RESUME,
    O_CA,
    O_SCENARIO,
    O_DURATION,
    O_RAMP,
    O_RAMP_TIMEOUT,
    O_METER,
    O_CHARGING,
    O_SESSION,
    O_INFLIGHT,
    O_SPREAD,
    O_DAY,
    O_WARMUP,
    O_CALL_TIMEOUT,
    O_BO_MIN,
    O_BO_MAX,
    O_DRAIN,
    O_SEED,
    O_NO_VALIDATE,
    O_JSON,
    O_PROGRESS,
    O_QUIET,
    O_API,
    O_TOKEN,
    O_REGISTER,
    O_REG_CONC,
    O_TAGS,
    O_MAXCONN,
    O_FW_FAIL,
    O_FW_VERSION,
    O_HELP,
    O_VERSION,
};

static const struct option opts[] = {{"url", 1, 0, O_URL},
                                     {"stations", 1, 0, O_STATIONS},
                                     {"first", 1, 0, O_FIRST},
                                     {"prefix", 1, 0, O_PREFIX},
                                     {"password", 1, 0, O_PASSWORD},
                                     {"connectors", 1, 0, O_CONNECTORS},
                                     {"protocol", 1, 0, O_PROTOCOL},
                                     {"ocpp", 1, 0, O_OCPP},
                                     {"source-ips", 1, 0, O_SOURCES},
                                     {"insecure", 0, 0, O_INSECURE},
                                     {"no-tls-resume", 0, 0, O_NO_TLS_RESUME},
                                     {"ca", 1, 0, O_CA},
                                     {"scenario", 1, 0, O_SCENARIO},
                                     {"duration", 1, 0, O_DURATION},
                                     {"ramp", 1, 0, O_RAMP},
                                     {"ramp-timeout", 1, 0, O_RAMP_TIMEOUT},
                                     {"meter-interval", 1, 0, O_METER},
                                     {"charging", 1, 0, O_CHARGING},
                                     {"session", 1, 0, O_SESSION},
                                     {"inflight", 1, 0, O_INFLIGHT},
                                     {"storm-spread", 1, 0, O_SPREAD},
                                     {"day", 1, 0, O_DAY},
                                     {"warmup", 1, 0, O_WARMUP},
                                     {"call-timeout", 1, 0, O_CALL_TIMEOUT},
                                     {"backoff-min", 1, 0, O_BO_MIN},
                                     {"backoff-max", 1, 0, O_BO_MAX},
                                     {"drain", 1, 0, O_DRAIN},
                                     {"seed", 1, 0, O_SEED},
                                     {"no-validate", 0, 0, O_NO_VALIDATE},
                                     {"json", 1, 0, O_JSON},
                                     {"progress", 1, 0, O_PROGRESS},
                                     {"quiet", 0, 0, O_QUIET},
                                     {"api", 1, 0, O_API},
                                     {"token", 1, 0, O_TOKEN},
                                     {"register", 0, 0, O_REGISTER},
                                     {"register-concurrency", 1, 0, O_REG_CONC},
                                     {"tag-prefix", 1, 0, O_TAGS},
                                     {"max-connecting", 1, 0, O_MAXCONN},
                                     {"firmware-fail", 1, 0, O_FW_FAIL},
                                     {"firmware-version-from", 1, 0, O_FW_VERSION},
                                     {"help", 0, 0, O_HELP},
                                     {"version", 0, 0, O_VERSION},
                                     {0, 0, 0, 0}};

/* RATE or RATE:signature. */
static int firmware_fail(const char *v, sim_config_t *c, char *err, size_t el)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%s", v);
    char *colon = strchr(buf, ':');
    c->firmware_fail_signature = false;
    if (colon) {
        *colon = '\0';
        if (strcmp(colon + 1, "signature") != 0)
            return fail(err, el, "--firmware-fail: RATE or RATE:signature");
        c->firmware_fail_signature = true;
    }
    return num("--firmware-fail", buf, 0, 1, &c->firmware_fail, err, el);
}

/* One flag; returns 0, or -1 with err set. */
static int apply(int o, const char *v, sim_config_t *c, char *err, size_t el)
{
    double d = 0;
    switch (o) {
    case O_URL:
        return sim_args_url(v, c, err, el);
    case O_STATIONS:
        if (num("--stations", v, 1, 20000, &d, err, el)) return -1;
        c->stations = (unsigned)d;
        return 0;
    case O_FIRST:
        if (num("--first", v, 0, 4e9, &d, err, el)) return -1;
        c->first_index = (unsigned)d;
        return 0;
    case O_PREFIX:
        return str("--prefix", v, c->prefix, sizeof c->prefix, err, el);
    case O_PASSWORD:
        return str("--password", v, c->password, sizeof c->password, err, el);
    case O_TAGS:
        return str("--tag-prefix", v, c->tag_prefix, sizeof c->tag_prefix, err, el);
    case O_CONNECTORS:
        return connectors(v, c, err, el);
    case O_PROTOCOL:
        return str("--protocol", v, c->protocols, sizeof c->protocols, err, el);
    case O_OCPP:
        if (strcmp(v, "1.6") != 0 && strcmp(v, "2.0.1") != 0)
            return fail(err, el, "--ocpp: 1.6 or 2.0.1");
        snprintf(c->protocols, sizeof c->protocols, "ocpp%s", v);
        return 0;
    case O_SOURCES:
        return sim_args_sources(v, c, err, el);
    case O_INSECURE:
        c->insecure = true;
        return 0;
    case O_NO_TLS_RESUME:
        c->tls_resume = false;
        return 0;
    case O_CA:
        return str("--ca", v, c->ca_file, sizeof c->ca_file, err, el);
    case O_SCENARIO: {
        int k = sim_scenario_parse(v);
        if (k < 0)
            return fail(err, el, "--scenario: connect, storm, sessions, throughput or mixed");
        c->scenario = (sim_scenario_kind_t)k;
        return 0;
    }
    case O_DURATION:
        return num("--duration", v, 0, 864000, &c->duration_s, err, el);
    case O_RAMP:
        return num("--ramp", v, 0, 1e6, &c->ramp_rate, err, el);
    case O_RAMP_TIMEOUT:
        return num("--ramp-timeout", v, 1, 86400, &c->ramp_timeout_s, err, el);
    case O_METER:
        if (num("--meter-interval", v, 1, 3600, &d, err, el)) return -1;
        c->meter_interval_s = (int)d;
        return 0;
    case O_CHARGING:
        return num("--charging", v, 0, 1, &c->charging, err, el);
    case O_SESSION:
        return num("--session", v, 1, 86400, &c->session_s, err, el);
    case O_INFLIGHT:
        if (num("--inflight", v, 1, 64, &d, err, el)) return -1;
        c->inflight = (unsigned)d;
        return 0;
    case O_SPREAD:
        return num("--storm-spread", v, 0, 600000, &c->storm_spread_ms, err, el);
    case O_WARMUP:
        return num("--warmup", v, 0, 86400, &c->warmup_s, err, el);
    case O_DAY:
        return num("--day", v, 1, 864000, &c->day_s, err, el);
    case O_CALL_TIMEOUT:
        if (num("--call-timeout", v, 1, 3600, &d, err, el)) return -1;
        c->call_timeout_s = (int)d;
        return 0;
    case O_BO_MIN:
        if (num("--backoff-min", v, 1, 3600000, &d, err, el)) return -1;
        c->backoff_min_ms = (int)d;
        return 0;
    case O_BO_MAX:
        if (num("--backoff-max", v, 1, 3600000, &d, err, el)) return -1;
        c->backoff_max_ms = (int)d;
        return 0;
    case O_DRAIN:
        return num("--drain", v, 0, 3600, &c->drain_s, err, el);
    case O_SEED:
        if (num("--seed", v, 0, 1.8e19, &d, err, el)) return -1;
        c->seed = (uint64_t)d;
        return 0;
    case O_MAXCONN:
        if (num("--max-connecting", v, 0, 20000, &d, err, el)) return -1;
        c->max_connecting = (unsigned)d;
        return 0;
    case O_NO_VALIDATE:
        c->validate = false;
        return 0;
    case O_JSON:
        return str("--json", v, c->json_path, sizeof c->json_path, err, el);
    case O_PROGRESS:
        return num("--progress", v, 0, 3600, &c->progress_s, err, el);
    case O_QUIET:
        c->quiet = true;
        return 0;
    case O_API:
        return api_url(v, c, err, el);
    case O_TOKEN:
        return str("--token", v, c->token, sizeof c->token, err, el);
    case O_REGISTER:
        c->do_register = true;
        return 0;
    case O_REG_CONC:
        if (num("--register-concurrency", v, 1, 256, &d, err, el)) return -1;
        c->register_concurrency = (unsigned)d;
        return 0;
    case O_FW_FAIL:
        return firmware_fail(v, c, err, el);
    case O_FW_VERSION: {
        int r = sim_firmware_parse_rule(v);
        if (r < 0) return fail(err, el, "--firmware-version-from: name, version or sha256");
        c->firmware_version_from = r;
        return 0;
    }
    }
    return fail(err, el, "unknown option (see --help)");
}

/* Every offered subprotocol must be one the simulator speaks. */
static int check_protocols(const char *list, char *err, size_t el)
{
    char buf[sizeof((sim_config_t *)0)->protocols];
    snprintf(buf, sizeof buf, "%s", list);
    int n = 0;
    for (char *save = NULL, *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        if (!sim_proto_find(t)) {
            snprintf(err, el, "--protocol: '%s' is not ocpp1.6 or ocpp2.0.1", t);
            return -1;
        }
        n++;
    }
    return n ? 0 : fail(err, el, "--protocol: no subprotocol given");
}

static int check(const sim_config_t *c, char *err, size_t el)
{
    if (check_protocols(c->protocols, err, el)) return -1;
    size_t pw = strlen(c->password);
    if (pw && (pw < 16 || pw > 40))
        return fail(err, el, "--password must be 16 to 40 characters (OCPP Basic auth)");
    if (c->backoff_min_ms > c->backoff_max_ms)
        return fail(err, el, "--backoff-min is above --backoff-max");
    if (c->do_register && (!c->api_host[0] || !c->token[0]))
        return fail(err, el, "--register needs --api and --token");
    char last[24];
    snprintf(last, sizeof last, "%u", c->first_index + c->stations - 1);
    if (strlen(c->prefix) + strlen(last) > SIM_ID_MAX)
        return fail(err, el, "station ids would exceed 48 characters");
    if (strlen(c->tag_prefix) + strlen(last) + 2 > SIM_TAG_MAX)
        return fail(err, el, "id tags would exceed 20 characters: shorten --tag-prefix");
    return 0;
}

sim_args_rc_t sim_args_parse(int argc, char **argv, sim_config_t *cfg, char *err, size_t err_len)
{
    sim_config_defaults(cfg);
    optind = 1;
    opterr = 0;
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == O_HELP) return SIM_ARGS_HELP;
        if (o == O_VERSION) return SIM_ARGS_VERSION;
        if (o == '?' || o == ':') {
            snprintf(err, err_len, "unknown option or missing value: '%s' (see --help)",
                     argv[optind - 1]);
            return SIM_ARGS_ERROR;
        }
        if (apply(o, optarg, cfg, err, err_len)) return SIM_ARGS_ERROR;
    }
    if (optind < argc) {
        snprintf(err, err_len, "unexpected argument '%s'", argv[optind]);
        return SIM_ARGS_ERROR;
    }
    return check(cfg, err, err_len) ? SIM_ARGS_ERROR : SIM_ARGS_OK;
}
