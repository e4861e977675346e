/* Station and id-token registration through the API; see register.h. A
 * request the API rate-limits (429) is sent again a second later. */
#include "sim/register.h"

#include "util/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

struct sim_register {
    net_client_t *nc;
    const sim_t *sim;
    sim_register_done_cb cb;
    void *ud;
    size_t next, total, in_flight, done;
    size_t ntokens, tok_station, tok_conn;
    sim_register_result_t res;
    bool finished;
    struct reg_item *retry; /* rate-limited items waiting for the timer */
    uv_timer_t *timer;      /* closed and freed by sim_register_free */
};

typedef struct reg_item {
    sim_register_t *r;
    bool token;
    char body[256];
    struct reg_item *next;
} reg_item_t;

static void send_item(sim_register_t *r, reg_item_t *it);

static void pump(sim_register_t *r);

static void timer_closed(uv_handle_t *h)
{
    free(h);
}

static void retry_cb(uv_timer_t *t)
{
    sim_register_t *r = t->data;
    reg_item_t *list = r->retry;
    r->retry = NULL;
    while (list) {
        reg_item_t *it = list;
        list = it->next;
        send_item(r, it);
    }
    pump(r);
}

/* The next item's body: stations first, then every connector's tag, in
 * order (a cursor, so 20,000 stations cost no more per item than one). */
static void next_body(sim_register_t *r, char *body, size_t len, bool *token)
{
    const sim_t *s = r->sim;
    if (r->next < s->nstations) {
        const sim_station_t *st = &s->stations[r->next];
        *token = false;
        if (s->cfg.password[0])
            snprintf(body, len, "{\"id\":\"%s\",\"password\":\"%s\"}", st->id, s->cfg.password);
        else
            snprintf(body, len, "{\"id\":\"%s\",\"security_profile\":0}", st->id);
        return;
    }
    while (r->tok_conn >= s->stations[r->tok_station].nconn) {
        r->tok_station++;
        r->tok_conn = 0;
    }
    *token = true;
    snprintf(body, len, "{\"id_token\":\"%s\"}",
             s->stations[r->tok_station].conn_[r->tok_conn].tag);
    r->tok_conn++;
}

static void answered(void *ud, int status, const char *body, size_t len, const char *err)
{
    reg_item_t *it = ud;
    sim_register_t *r = it->r;
    r->in_flight--;
    if (status == 429) { /* again a second later; the timer's pump sends it */
        it->next = r->retry;
        r->retry = it;
        if (!uv_is_active((uv_handle_t *)r->timer)) uv_timer_start(r->timer, retry_cb, 1000, 0);
        return;
    }
    r->done++;
    if (status == 201 || status == 409) {
        if (it->token)
            r->res.tokens_ok++;
        else
            r->res.stations_ok++;
    } else {
        if (!r->res.errors)
            snprintf(r->res.first_error, sizeof r->res.first_error, "HTTP %d: %.*s", status,
                     (int)(len < 150 ? len : 150), err ? err : body);
        r->res.errors++;
    }
    free(it);
    pump(r);
}

static void send_item(sim_register_t *r, reg_item_t *it)
{
    const sim_config_t *c = &r->sim->cfg;
    const char *body = it->body;
    net_client_http_params_t p = {
        .method = "POST",
        .host = c->api_host,
        .port = c->api_port,
        .path = it->token ? "/api/v1/id-tokens" : "/api/v1/stations",
        .bearer = c->token,
        .content_type = "application/json",
        .body = body,
        .body_len = strlen(body),
        /* spread over the source addresses: tens of thousands of short
         * connections would otherwise run one address out of ports */
        .source_addr = c->nsources ? c->sources[r->next % c->nsources] : NULL,
    };
    if (net_client_http(r->nc, &p, answered, it) != 0) {
        r->done++;
        r->res.errors++;
        if (r->res.errors == 1)
            snprintf(r->res.first_error, sizeof r->res.first_error, "cannot reach the API");
        free(it);
        return;
    }
    r->in_flight++;
}

static void pump(sim_register_t *r)
{
    const sim_config_t *c = &r->sim->cfg;
    while (r->next < r->total && r->in_flight < c->register_concurrency) {
        reg_item_t *it = xcalloc(1, sizeof *it);
        it->r = r;
        next_body(r, it->body, sizeof it->body, &it->token);
        r->next++;
        send_item(r, it);
    }
    if (r->done == r->total && !r->finished) {
        r->finished = true;
        uv_close((uv_handle_t *)r->timer, timer_closed); /* nothing left to retry */
        r->timer = NULL;
        r->cb(r->ud, &r->res);
    }
}

sim_register_t *sim_register_start(net_client_t *nc, const sim_t *s, sim_register_done_cb cb,
                                   void *ud)
{
    sim_register_t *r = xcalloc(1, sizeof *r);
    r->nc = nc;
    r->sim = s;
    r->cb = cb;
    r->ud = ud;
    for (unsigned i = 0; i < s->nstations; i++)
        r->ntokens += s->stations[i].nconn;
    r->total = s->nstations + r->ntokens;
    r->timer = xmalloc(sizeof *r->timer);
    uv_timer_init(net_client_loop(nc), r->timer);
    r->timer->data = r;
    pump(r);
    return r;
}

void sim_register_free(sim_register_t *r)
{
    if (!r) return;
    while (r->retry) {
        reg_item_t *it = r->retry;
        r->retry = it->next;
        free(it);
    }
    if (r->timer) uv_close((uv_handle_t *)r->timer, timer_closed);
    free(r);
}
