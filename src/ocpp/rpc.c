/*
 * The OCPP-J RPC layer and the server glue between net/ and csms/.
 *
 * Incoming: parse the frame, find the action in the session's version,
 * validate the payload, check the station may send it (boot accepted), then
 * hand it to the translator's handler. Every failure is answered with the
 * version's CALLERROR and the connection stays open.
 *
 * Outgoing: operator commands become CALLs, validated before they are queued.
 * One CALL is outstanding per connection (OCPP-J allows no more); the rest
 * wait in order. The station's answer is validated against the response
 * definition; no answer within the timeout fails the call. Timeouts live on an
 * O(1) timing wheel ticked once a second.
 */
#include "ocpp/rpc.h"

#include "util/alloc.h"
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>
#include <uv.h>

const double ocpp_latency_bounds_s[OCPP_LATENCY_BUCKETS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1e18};

typedef struct counter {
    char key[96]; /* "dir|action|result" */
    uint64_t count;
    UT_hash_handle hh;
} counter_t;

struct ocpp_server {
    uv_loop_t *loop;
    csms_t *csms;
    ocpp_config_t cfg;
    timewheel_t wheel;
    uv_timer_t tick;
    ocpp_stats_t stats;
    counter_t *counters;
};

struct out_call {
    out_call_t *next;
    char id[OCPP_MSG_ID_MAX + 1];
    char action[48];
    const ocpp_message_def_t *def;
    char *frame;
    csms_cmd_cb cb;
    void *ctx;
};

/* Oldest first; pick_translator prefers the newest the station offers. */
static const ocpp_translator_t *const translators[] = {&ocpp_v16_translator,
                                                       &ocpp_v201_translator};
static const char *const subprotocols[] = {"ocpp2.0.1", "ocpp1.6", NULL};

const char *const *ocpp_subprotocols(void)
{
    return subprotocols;
}

/* ---------------------------------------------------------------- stats */

static void count(ocpp_server_t *s, const char *dir, const char *action, const char *result)
{
    char key[96];
    size_t dl = strlen(dir), al = strlen(action), rl = strlen(result);
    if (dl + al + rl + 3 > sizeof key) return; /* actions and results are short, fixed names */
    memcpy(key, dir, dl);
    key[dl] = '|';
    memcpy(key + dl + 1, action, al);
    key[dl + 1 + al] = '|';
    memcpy(key + dl + al + 2, result, rl + 1); /* with the NUL */
    counter_t *c = NULL;
    HASH_FIND_STR(s->counters, key, c);
    if (!c) {
        if (HASH_COUNT(s->counters) > 2000) return; /* bounded: actions are a fixed set */
        c = xcalloc(1, sizeof *c);
        memcpy(c->key, key, sizeof key);
        HASH_ADD_STR(s->counters, key, c);
    }
    c->count++;
}

const ocpp_stats_t *ocpp_server_stats(const ocpp_server_t *s)
{
    return &s->stats;
}

void ocpp_server_counters(const ocpp_server_t *s, ocpp_counter_cb cb, void *ud)
{
    for (counter_t *c = s->counters; c; c = c->hh.next) {
        char k[96];
        memcpy(k, c->key, sizeof k);
        char *a = strchr(k, '|');
        char *r = a ? strchr(a + 1, '|') : NULL;
        if (!a || !r) continue;
        *a++ = '\0';
        *r++ = '\0';
        cb(ud, k, a, r, c->count);
    }
}

static void observe_latency(ocpp_server_t *s, uint64_t t0_ns)
{
    double secs = (double)(uv_hrtime() - t0_ns) / 1e9;
    s->stats.latency_sum_s += secs;
    s->stats.latency_count++;
    for (int i = 0; i < OCPP_LATENCY_BUCKETS; i++) {
        if (secs <= ocpp_latency_bounds_s[i]) {
            s->stats.latency_buckets[i]++;
            break;
        }
    }
}

/* --------------------------------------------------------------- trace */

/* Logs a frame unless tracing is off; hides passwords sent to stations. */
static void trace(ocpp_session_t *sess, const char *dir, const char *frame, size_t len)
{
    if (!sess->srv->cfg.trace) return;
    char q[2048];
    const char *shown = frame;
    if (strstr(frame, "AuthorizationKey") || strstr(frame, "BasicAuthPassword"))
        shown = "(frame withheld: contains a password)";
    char buf[1600];
    snprintf(buf, sizeof buf, "%.*s", (int)(len < 1500 ? len : 1500), shown);
    log_info("ocpp frame", "station=%s dir=%s frame=%s", sess->station_id, dir,
             log_quote(buf, q, sizeof q));
}

static void send_text(ocpp_session_t *sess, char *frame)
{
    if (sess->conn) {
        trace(sess, "out", frame, strlen(frame));
        net_conn_send(sess->conn, frame, strlen(frame));
    }
    free(frame);
}

/* ------------------------------------------------------------ sessions */

static void session_unref(ocpp_session_t *sess)
{
    if (--sess->refs > 0) return;
    timewheel_remove(&sess->srv->wheel, &sess->timeout_te);
    free(sess);
}

csms_t *ocpp_session_csms(const ocpp_session_t *s)
{
    return s->srv->csms;
}

csms_station_t *ocpp_session_station(const ocpp_session_t *s)
{
    return csms_station_find(s->srv->csms, s->station_id);
}

/* ------------------------------------------------------------ replies */

static void incoming_free(ocpp_incoming_t *in)
{
    json_decref(in->payload);
    session_unref(in->sess);
    free(in);
}

void ocpp_reply_error(ocpp_incoming_t *in, ocpp_err_t e, const char *description)
{
    ocpp_session_t *sess = in->sess;
    const char *code = sess->tr->err_name(e);
    count(sess->srv, "in", in->def ? in->def->action : "(invalid)", code);
    if (sess->conn) send_text(sess, ocpp_frame_error(in->id, code, description, NULL));
    incoming_free(in);
}

void ocpp_reply(ocpp_incoming_t *in, json_t *payload)
{
    ocpp_session_t *sess = in->sess;
    char msg[256];
    /* Our own answers are checked too: a bug here must not reach a station. */
    ocpp_err_t e = ocpp_schema_validate(in->def->response, payload, msg, sizeof msg);
    if (e != OCPP_OK) {
        char q[300];
        log_error("invalid response built", "action=%s error=%s", in->def->action,
                  log_quote(msg, q, sizeof q));
        json_decref(payload);
        ocpp_reply_error(in, OCPP_ERR_INTERNAL, "the server could not build a valid answer");
        return;
    }
    observe_latency(sess->srv, in->t0_ns);
    count(sess->srv, "in", in->def->action, "ok");
    if (sess->conn) send_text(sess, ocpp_frame_result(in->id, payload));
    json_decref(payload);
    incoming_free(in);
}

/* --------------------------------------------------------- outgoing */

static void call_timeout_cb(timewheel_entry_t *e);

static void pump(ocpp_session_t *sess)
{
    if (sess->pending || !sess->queue_head || !sess->conn) return;
    out_call_t *c = sess->queue_head;
    sess->queue_head = c->next;
    if (!sess->queue_head) sess->queue_tail = NULL;
    c->next = NULL;
    sess->pending = c;
    char *frame = c->frame;
    c->frame = NULL;
    send_text(sess, frame);
    timewheel_add(&sess->srv->wheel, &sess->timeout_te,
                  sess->srv->wheel.now + (uint64_t)sess->srv->cfg.call_timeout, call_timeout_cb);
}

static void finish_call(ocpp_session_t *sess, out_call_t *c, const csms_cmd_result_t *r)
{
    count(sess->srv, "out", c->action,
          r->status == CSMS_CMD_OK          ? "ok"
          : r->status == CSMS_CMD_CALLERROR ? "callerror"
          : r->status == CSMS_CMD_TIMEOUT   ? "timeout"
          : r->status == CSMS_CMD_BAD_RESPONSE ? "invalid"
                                               : "disconnected");
    c->cb(c->ctx, r);
    free(c->frame);
    free(c);
}

static void call_timeout_cb(timewheel_entry_t *e)
{
    ocpp_session_t *sess = (ocpp_session_t *)((char *)e - offsetof(ocpp_session_t, timeout_te));
    out_call_t *c = sess->pending;
    if (!c) return;
    sess->pending = NULL;
    log_warn("call timed out", "station=%s action=%s id=%s", sess->station_id, c->action,
             c->id); /* our own id and a validated action: safe to log as is */
    csms_cmd_result_t r = {.status = CSMS_CMD_TIMEOUT,
                           .error_description = "the station did not answer in time"};
    sess->refs++;
    finish_call(sess, c, &r);
    pump(sess);
    session_unref(sess);
}

static int session_send_call(void *link, const char *action, const json_t *payload,
                             csms_cmd_cb cb, void *ctx, char *err, size_t err_len)
{
    ocpp_session_t *sess = link;
    const ocpp_message_def_t *def = ocpp_schema_find(sess->tr->defs, action);
    if (!def || def->dir == OCPP_DIR_FROM_STATION) {
        snprintf(err, err_len, "%s is not a message a CSMS can send in %s", action,
                 sess->tr->subprotocol);
        return -1;
    }
    char msg[240];
    if (ocpp_schema_validate(def->request, payload, msg, sizeof msg) != OCPP_OK) {
        snprintf(err, err_len, "invalid %s payload: %s", action, msg);
        return -1;
    }
    out_call_t *c = xcalloc(1, sizeof *c);
    snprintf(c->id, sizeof c->id, "ag%lu", ++sess->next_id);
    snprintf(c->action, sizeof c->action, "%s", action);
    c->def = def;
    c->frame = ocpp_frame_call(c->id, action, payload);
    c->cb = cb;
    c->ctx = ctx;
    if (sess->queue_tail) sess->queue_tail->next = c;
    else sess->queue_head = c;
    sess->queue_tail = c;
    pump(sess);
    return 0;
}

typedef struct pw_ctx {
    const ocpp_translator_t *tr;
    csms_cmd_cb cb;
    void *ctx;
} pw_ctx_t;

/* Turns the version's own answer into {"status": ...} for the domain. */
static void password_answered(void *p, const csms_cmd_result_t *r)
{
    pw_ctx_t *x = p;
    csms_cmd_result_t out = *r;
    json_t *norm = NULL;
    if (r->status == CSMS_CMD_OK) {
        const char *st = x->tr->password_status(r->payload);
        norm = json_pack("{s:s}", "status", st ? st : "Rejected");
        out.payload = norm;
    }
    x->cb(x->ctx, &out);
    json_decref(norm);
    free(x);
}

static int session_send_password(void *link, const char *password, csms_cmd_cb cb, void *ctx,
                                 char *err, size_t err_len)
{
    ocpp_session_t *sess = link;
    json_t *p = sess->tr->password_payload(password);
    pw_ctx_t *x = xmalloc(sizeof *x);
    x->tr = sess->tr;
    x->cb = cb;
    x->ctx = ctx;
    int r = session_send_call(link, sess->tr->password_action, p, password_answered, x, err,
                              err_len);
    if (r != 0) free(x);
    json_decref(p);
    return r;
}

static void session_close(void *link, const char *reason)
{
    ocpp_session_t *sess = link;
    if (sess->conn) net_conn_close(sess->conn, 1000, reason);
}

static const char *session_protocol(void *link)
{
    return ((ocpp_session_t *)link)->tr->subprotocol;
}

static const csms_link_ops_t link_ops = {
    .send_call = session_send_call,
    .send_password = session_send_password,
    .close = session_close,
    .protocol = session_protocol,
};

/* ------------------------------------------------------------ incoming */

static void handle_response(ocpp_session_t *sess, ocpp_frame_t *f)
{
    out_call_t *c = sess->pending;
    if (!c || strcmp(c->id, f->id) != 0) {
        char q[80];
        log_warn("answer to no pending call ignored", "station=%s id=%s", sess->station_id,
                 log_quote(f->id, q, sizeof q));
        return;
    }
    sess->pending = NULL;
    timewheel_remove(&sess->srv->wheel, &sess->timeout_te);
    csms_cmd_result_t r = {0};
    char msg[240];
    if (f->type == OCPP_CALLERROR) {
        r.status = CSMS_CMD_CALLERROR;
        r.error_code = f->error_code;
        r.error_description = f->error_description;
        r.error_details = f->error_details;
    } else {
        ocpp_err_t e = ocpp_schema_validate(c->def->response, f->payload, msg, sizeof msg);
        if (e != OCPP_OK) {
            r.status = CSMS_CMD_BAD_RESPONSE;
            r.error_code = sess->tr->err_name(e);
            r.error_description = msg;
            sess->srv->stats.validation_errors++;
        } else {
            r.status = CSMS_CMD_OK;
            r.payload = f->payload;
        }
    }
    sess->refs++;
    finish_call(sess, c, &r);
    pump(sess);
    session_unref(sess);
}

static ocpp_handler_fn find_handler(const ocpp_translator_t *tr, const char *action)
{
    for (const ocpp_handler_t *h = tr->handlers; h->action; h++)
        if (strcmp(h->action, action) == 0) return h->fn;
    return NULL;
}

ocpp_incoming_t *ocpp_incoming_new(ocpp_session_t *sess, const char *id,
                                   const ocpp_message_def_t *def, uint64_t t0_ns)
{
    ocpp_incoming_t *in = xcalloc(1, sizeof *in);
    in->sess = sess;
    sess->refs++;
    snprintf(in->id, sizeof in->id, "%s", id);
    in->def = def;
    in->t0_ns = t0_ns;
    return in;
}

static void handle_call(ocpp_session_t *sess, ocpp_frame_t *f, uint64_t t0)
{
    ocpp_incoming_t *in = ocpp_incoming_new(sess, f->id, NULL, t0);
    in->payload = json_incref(f->payload);
    const ocpp_message_def_t *def = ocpp_schema_find(sess->tr->defs, f->action);
    char msg[300];
    if (!def) {
        snprintf(msg, sizeof msg, "unknown action '%.64s' in %s", f->action, sess->tr->subprotocol);
        ocpp_reply_error(in, OCPP_ERR_NOT_IMPLEMENTED, msg);
        return;
    }
    in->def = def;
    if (def->dir == OCPP_DIR_TO_STATION) {
        snprintf(msg, sizeof msg, "%s is sent by a CSMS to a station, not by a station",
                 def->action);
        ocpp_reply_error(in, OCPP_ERR_NOT_SUPPORTED, msg);
        return;
    }
    char vmsg[256];
    ocpp_err_t e = ocpp_schema_validate(def->request, f->payload, vmsg, sizeof vmsg);
    if (e != OCPP_OK) {
        sess->srv->stats.validation_errors++;
        snprintf(msg, sizeof msg, "%s: %s", def->action, vmsg);
        ocpp_reply_error(in, e, msg);
        return;
    }
    csms_station_t *st = ocpp_session_station(sess);
    if (!st) {
        ocpp_reply_error(in, OCPP_ERR_SECURITY, "this station is no longer registered");
        return;
    }
    if (strcmp(def->action, "BootNotification") != 0 && !csms_station_may_operate(st)) {
        snprintf(msg, sizeof msg,
                 "station is not accepted (registration status %s): send BootNotification and "
                 "wait for Accepted before %s",
                 st->registration_status, def->action);
        ocpp_reply_error(in, OCPP_ERR_SECURITY, msg);
        return;
    }
    ocpp_handler_fn fn = find_handler(sess->tr, def->action);
    if (!fn) {
        snprintf(msg, sizeof msg, "%s is not supported by this server", def->action);
        ocpp_reply_error(in, OCPP_ERR_NOT_SUPPORTED, msg);
        return;
    }
    fn(in, st);
}

void ocpp_on_message(void *ud, net_conn_t *c, const char *data, size_t len)
{
    ocpp_server_t *s = ud;
    ocpp_session_t *sess = net_conn_user(c);
    if (!sess) return;
    uint64_t t0 = uv_hrtime();
    trace(sess, "in", data, len);
    if (sess->tr->fast) {
        csms_station_t *st = ocpp_session_station(sess);
        if (st && csms_station_may_operate(st) && sess->tr->fast(sess, st, data, len, t0)) return;
    }
    ocpp_frame_t f;
    char msg[240];
    ocpp_err_t e = ocpp_frame_parse(data, len, &f, msg, sizeof msg);
    if (e != OCPP_OK) {
        s->stats.malformed_frames++;
        if (f.id[0] || f.long_id) {
            const char *code = sess->tr->err_name(e);
            count(s, "in", "(malformed)", code);
            send_text(sess, ocpp_frame_error(f.id[0] ? f.id : f.long_id, code, msg, NULL));
        } else {
            char q[300];
            log_warn("unanswerable malformed frame", "station=%s error=%s", sess->station_id,
                     log_quote(msg, q, sizeof q));
        }
        ocpp_frame_free(&f);
        return;
    }
    if (f.type == OCPP_CALL) handle_call(sess, &f, t0);
    else handle_response(sess, &f);
    ocpp_frame_free(&f);
}

/* -------------------------------------------------------- connections */

static const ocpp_translator_t *pick_translator(const char *offered)
{
    /* The newest version the station offers wins. */
    for (int i = (int)(sizeof translators / sizeof translators[0]) - 1; i >= 0; i--) {
        const char *name = translators[i]->subprotocol;
        size_t n = strlen(name);
        for (const char *p = offered; (p = strstr(p, name)); p += n) {
            bool start = p == offered || p[-1] == ',' || p[-1] == ' ';
            bool end = p[n] == '\0' || p[n] == ',' || p[n] == ' ';
            if (start && end) return translators[i];
        }
    }
    return NULL;
}

void ocpp_on_upgrade(void *ud, const net_upgrade_t *up, net_decision_t *d)
{
    ocpp_server_t *s = ud;
    if (!up->station_id[0]) {
        d->status = 404;
        snprintf(d->message, sizeof d->message,
                 "OCPP endpoint is /ocpp/{stationId}; '%.60s' is not", up->path);
        return;
    }
    if (!pick_translator(up->subprotocols)) {
        d->status = 400;
        snprintf(d->message, sizeof d->message,
                 "no supported OCPP subprotocol offered (got '%.60s'); offer "
                 "Sec-WebSocket-Protocol: ocpp2.0.1 or ocpp1.6",
                 up->subprotocols);
        return;
    }
    int retry = 0;
    csms_auth_t a = csms_authenticate(s->csms, up->station_id, up->auth_user, up->auth_pass,
                                      up->tls, up->peer, &retry);
    switch (a) {
    case CSMS_AUTH_OK:
        return;
    case CSMS_AUTH_BAD_ID:
        d->status = 400;
        snprintf(d->message, sizeof d->message,
                 "station id must be 1 to 48 characters from A-Z a-z 0-9 * - _ = + | @ .");
        break;
    case CSMS_AUTH_UNKNOWN_STATION:
        d->status = 404;
        snprintf(d->message, sizeof d->message, "unknown station '%s'", up->station_id);
        break;
    case CSMS_AUTH_NO_CREDENTIALS:
        d->status = 401;
        d->www_authenticate = true;
        snprintf(d->message, sizeof d->message,
                 "HTTP Basic authentication required (user = station id)");
        break;
    case CSMS_AUTH_BAD_CREDENTIALS:
        d->status = 401;
        d->www_authenticate = true;
        snprintf(d->message, sizeof d->message, "wrong station id or password");
        break;
    case CSMS_AUTH_NEEDS_TLS:
        d->status = 403;
        snprintf(d->message, sizeof d->message,
                 "this station's security profile requires TLS (wss://)");
        break;
    case CSMS_AUTH_RATE_LIMITED:
        d->status = 429;
        d->retry_after = retry;
        snprintf(d->message, sizeof d->message,
                 "too many failed attempts; retry in %d seconds", retry);
        break;
    }
    s->stats.auth_failures++;
}

void ocpp_on_open(void *ud, net_conn_t *c, void *conn_user)
{
    ocpp_server_t *s = ud;
    const char *station_id = net_conn_station_id(c);
    csms_station_t *st = csms_station_find(s->csms, station_id);
    const ocpp_translator_t *tr = NULL;
    for (size_t i = 0; i < sizeof translators / sizeof translators[0]; i++)
        if (strcmp(translators[i]->subprotocol, net_conn_subprotocol(c)) == 0) tr = translators[i];
    if (!st || !tr) {
        net_conn_close(c, 1008, !st ? "station removed" : "unsupported subprotocol");
        return;
    }
    ocpp_session_t *sess = xcalloc(1, sizeof *sess);
    sess->srv = s;
    sess->conn = c;
    sess->tr = tr;
    sess->refs = 1;
    snprintf(sess->station_id, sizeof sess->station_id, "%s", station_id);
    net_conn_set_user(c, sess);
    log_info("station connected", "station=%s protocol=%s peer=%s tls=%d", sess->station_id,
             tr->subprotocol, net_conn_peer(c), net_conn_tls(c));
    csms_station_attach(s->csms, st, sess, &link_ops, net_conn_peer(c));
}

void ocpp_on_close(void *ud, net_conn_t *c)
{
    ocpp_server_t *s = ud;
    ocpp_session_t *sess = net_conn_user(c);
    if (!sess) return;
    log_info("station disconnected", "station=%s", sess->station_id);
    sess->conn = NULL;
    timewheel_remove(&s->wheel, &sess->timeout_te);
    csms_station_detach(s->csms, sess->station_id, sess);
    csms_cmd_result_t r = {.status = CSMS_CMD_DISCONNECTED,
                           .error_description = "the station disconnected"};
    out_call_t *pending = sess->pending;
    sess->pending = NULL;
    if (pending) finish_call(sess, pending, &r);
    while (sess->queue_head) {
        out_call_t *q = sess->queue_head;
        sess->queue_head = q->next;
        finish_call(sess, q, &r);
    }
    sess->queue_tail = NULL;
    session_unref(sess);
}

/* ------------------------------------------------------------ lifecycle */

static void tick_cb(uv_timer_t *t)
{
    ocpp_server_t *s = t->data;
    timewheel_advance(&s->wheel, uv_now(s->loop) / 1000);
}

ocpp_server_t *ocpp_server_create(uv_loop_t *loop, csms_t *csms, const ocpp_config_t *cfg)
{
    ocpp_server_t *s = xcalloc(1, sizeof *s);
    s->loop = loop;
    s->csms = csms;
    s->cfg = *cfg;
    if (s->cfg.call_timeout <= 0) s->cfg.call_timeout = 30;
    timewheel_init(&s->wheel, uv_now(loop) / 1000);
    uv_timer_init(loop, &s->tick);
    s->tick.data = s;
    uv_timer_start(&s->tick, tick_cb, 1000, 1000);
    return s;
}

void ocpp_server_stop(ocpp_server_t *s)
{
    uv_timer_stop(&s->tick);
    uv_close((uv_handle_t *)&s->tick, NULL);
}

void ocpp_server_free(ocpp_server_t *s)
{
    if (!s) return;
    while (s->counters) {
        counter_t *c = s->counters;
        HASH_DEL(s->counters, c); // NOLINT(clang-analyzer-unix.Malloc): uthash's HASH_DEL unlinks first
        free(c);
    }
    free(s);
}
