/*
 * Live events as Server-Sent Events on GET /api/v1/events.
 *
 * Every domain event gets a sequence number and is kept in a ring of the last
 * 8192, so a client that reconnects with Last-Event-ID misses nothing that is
 * still in the ring; one that was away longer first gets a stream.gap event
 * (refetch state, then follow the stream). The stream stays subscribed to the domain while streams
 * are open, for five minutes after the last one closes and for five minutes
 * after start (so reconnecting clients can resume): then, with nobody
 * watching, the hot paths build no event at all. Filters: ?types=a,b (exact types or prefixes ending in
 * '.') and ?station=ID. A client that stops reading is dropped once 4 MiB are
 * queued for it, so one slow consumer cannot eat the server's memory.
 */
#include "api/api_internal.h"

#include "util/alloc.h"
#include "util/strbuf.h"
#include "util/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define RING (sizeof ((api_t *)0)->ring / sizeof ((api_t *)0)->ring[0])
#define MAX_QUEUED (4u << 20)

struct api_sse {
    api_t *api;
    net_req_t *req;
    char *types;     /* comma-separated filter, NULL = all */
    char *station;
    api_sse_t *next;
};

static bool wants(const api_sse_t *s, const char *type, const char *station)
{
    if (s->station && (!station || strcmp(station, s->station) != 0)) return false;
    if (!s->types) return true;
    size_t tl = strlen(type);
    for (const char *p = s->types; *p;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n > 0 && ((n == tl && strncmp(p, type, n) == 0) ||
                      (p[n - 1] == '.' && n <= tl && strncmp(p, type, n) == 0)))
            return true;
        p += n + (e ? 1 : 0);
    }
    return false;
}

static void sse_remove(api_t *a, api_sse_t *s)
{
    for (api_sse_t **p = &a->streams; *p; p = &(*p)->next) {
        if (*p == s) {
            *p = s->next;
            break;
        }
    }
    free(s->types);
    free(s->station);
    free(s);
}

static void sse_gone(net_req_t *r, void *ud)
{
    api_sse_t *s = ud;
    api_t *a = s->api;
    sse_remove(a, s);
    if (!a->streams) a->streams_gone_at = time_now_ms();
}

static int frame_append(const char *buf, size_t size, void *data)
{
    strbuf_append(data, buf, size);
    return 0;
}

/* A slot's SSE frame for this data (which the caller keeps). Written into a
 * reused buffer and copied out once at its exact size: json_dumps() grows a
 * buffer of its own from 16 bytes and copies the text out, and printing that
 * into the frame copied it again (recording events was 2.7 % of the server's
 * CPU in a wss reconnect storm, json_dumps() most of it). */
static void slot_set_frame(api_t *a, size_t slot, const json_t *data)
{
    strbuf_t *b = &a->frame_scratch;
    b->len = 0;
    strbuf_printf(b, "id: %llu\nevent: %s\ndata: ", (unsigned long long)a->ring[slot].id,
                  a->ring[slot].type);
    if (json_dump_callback(data, frame_append, b, JSON_COMPACT) != 0) return;
    strbuf_append(b, "\n\n", 2);
    char *f = xmalloc(b->len + 1);
    memcpy(f, b->data, b->len + 1);
    a->ring[slot].frame = f; /* owned by the ring */
    a->ring[slot].frame_len = b->len;
}

/* The SSE frame of a ring slot; a meter.values slot gets it on first use. */
static const char *slot_frame(api_t *a, size_t slot, size_t *len)
{
    if (!a->ring[slot].frame && a->ring[slot].meter) {
        json_t *data = csms_meter_event_json(a->ring[slot].meter);
        slot_set_frame(a, slot, data);
        json_decref(data);
        if (a->ring[slot].frame) {
            free(a->ring[slot].meter);
            a->ring[slot].meter = NULL;
        }
    }
    *len = a->ring[slot].frame_len;
    return a->ring[slot].frame;
}

/* A new ring slot for an event of this type; its contents are set by the caller. */
static size_t ring_next(api_t *a, const char *type)
{
    uint64_t id = ++a->event_seq;
    a->recorded++;
    size_t slot = id % RING;
    free(a->ring[slot].frame);
    a->ring[slot].frame = NULL;
    a->ring[slot].frame_len = 0;
    free(a->ring[slot].meter);
    a->ring[slot].meter = NULL;
    free(a->ring[slot].station);
    a->ring[slot].station = NULL;
    a->ring[slot].id = id;
    size_t tl = strlen(type);
    if (tl >= sizeof a->ring[slot].type) tl = sizeof a->ring[slot].type - 1;
    memcpy(a->ring[slot].type, type, tl);
    a->ring[slot].type[tl] = '\0';
    return slot;
}

/* Sends a recorded event to the open streams that want it. */
static void broadcast(api_t *a, size_t slot)
{
    const char *type = a->ring[slot].type;
    for (api_sse_t *s = a->streams, *next; s; s = next) {
        next = s->next;
        if (!wants(s, type, a->ring[slot].station)) continue;
        if (net_req_stream_queued(s->req) > MAX_QUEUED) {
            net_req_stream_write(s->req, ": dropped: client too slow\n\n", 28);
            net_req_stream_end(s->req);
            sse_remove(a, s);
            continue;
        }
        size_t len;
        const char *f = slot_frame(a, slot, &len);
        if (f) net_req_stream_write(s->req, f, len);
    }
}

/* Recording an event serializes it once: every stream sends the same text,
 * and text is a third of the tree's memory. */
static void on_event(void *ud, const char *type, const json_t *data)
{
    api_t *a = ud;
    size_t slot = ring_next(a, type);
    const char *st = json_string_value(json_object_get(data, "station_id"));
    a->ring[slot].station = st ? xstrdup(st) : NULL;
    slot_set_frame(a, slot, data);
    broadcast(a, slot);
}

/* meter.values is kept as a copy of what came in; nobody may ever ask for it
 * (its JSON was the loop's largest cost per message after parsing). */
static void on_meter(void *ud, const csms_meter_event_t *m)
{
    api_t *a = ud;
    size_t slot = ring_next(a, "meter.values");
    a->ring[slot].meter = csms_meter_event_copy(m);
    a->ring[slot].station = xstrdup(m->station_id);
    if (a->streams) broadcast(a, slot);
}

void api_events_stream(api_call_t *c)
{
    api_t *a = c->api;
    api_sse_t *s = xcalloc(1, sizeof *s);
    s->api = a;
    s->req = c->req;
    const char *types = api_query(c, "types"), *station = api_query(c, "station");
    s->types = types && *types ? xstrdup(types) : NULL;
    s->station = station && *station ? xstrdup(station) : NULL;
    const char *last = net_req_header(c->req, "last-event-id");
    net_req_on_close(c->req, sse_gone, s);
    net_req_stream_start(c->req, 200, "text/event-stream");
    net_req_stream_write(c->req, ": ampgrid event stream\nretry: 2000\n\n", 36);
    char *end = NULL;
    unsigned long long last_id = last ? strtoull(last, &end, 10) : 0;
    if (last && *last && end && *end == '\0' && last_id <= a->event_seq) {
        /* events below `oldest` may be lost: the ring wrapped, or nobody was
         * subscribed for a while */
        uint64_t from = last_id + 1, oldest = a->gap_before;
        if (a->recorded > RING && oldest < a->event_seq - RING + 1) oldest = a->event_seq - RING + 1;
        if (from < oldest) {
            char gap[200];
            int n = snprintf(gap, sizeof gap,
                             "event: stream.gap\ndata: {\"last_event_id\":\"%llu\","
                             "\"resumed_from\":\"%llu\"}\n\n",
                             last_id, (unsigned long long)oldest);
            net_req_stream_write(c->req, gap, (size_t)n);
            from = oldest;
        }
        /* ids of an earlier process: replay what this one has */
        if (a->event_seq - from >= RING) from = a->event_seq - RING + 1;
        for (uint64_t id = from; id <= a->event_seq; id++) {
            size_t slot = id % RING, len;
            if (a->ring[slot].id != id || !wants(s, a->ring[slot].type, a->ring[slot].station))
                continue;
            const char *f = slot_frame(a, slot, &len);
            if (f) net_req_stream_write(c->req, f, len);
        }
    }
    s->next = a->streams;
    a->streams = s;
    if (!a->subscribed) {
        csms_subscribe_typed(a->d.csms, on_event, on_meter, a);
        a->subscribed = true;
    }
    c->req = NULL; /* the stream owns the request now */
    api_call_free(c);
}

static void keepalive_cb(uv_timer_t *t)
{
    api_t *a = t->data;
    if (a->subscribed && !a->streams && time_now_ms() - a->streams_gone_at > 300000) {
        csms_unsubscribe(a->d.csms, on_event, a);
        a->subscribed = false;
        /* from now on events go unrecorded: a later resume must hear of the gap */
        a->event_seq++; /* an id nobody gets, so a resume from before it sees the gap */
        a->gap_before = a->event_seq + 1;
    }
    for (api_sse_t *s = a->streams; s; s = s->next) net_req_stream_write(s->req, ": keepalive\n\n", 13);
}

void api_events_init(api_t *a)
{
    /* Subscribed from the start, with the grace period running: clients of the
     * previous instance reconnect with Last-Event-ID and must miss nothing. */
    csms_subscribe_typed(a->d.csms, on_event, on_meter, a);
    a->subscribed = true;
    a->streams_gone_at = time_now_ms();
    /* Ids continue across restarts (they start from the clock), so a client
     * resuming with an id from before a restart gets everything since. */
    a->event_seq = (uint64_t)time_now_ms() * 1000;
    a->gap_before = 0;
    a->recorded = 0;
    uv_timer_init(a->loop, &a->keepalive);
    a->keepalive.data = a;
    uv_timer_start(&a->keepalive, keepalive_cb, 15000, 15000);
}

void api_events_shutdown(api_t *a)
{
    if (a->subscribed) csms_unsubscribe(a->d.csms, on_event, a);
    a->subscribed = false;
    while (a->streams) {
        api_sse_t *s = a->streams;
        net_req_stream_end(s->req);
        sse_remove(a, s);
    }
    uv_timer_stop(&a->keepalive);
    uv_close((uv_handle_t *)&a->keepalive, NULL);
}
