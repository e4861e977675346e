/*
 * Writing a WebSocket text message at once, shared by the server (net.c) and
 * the simulator's client (net_client.c): LWS needs LWS_PRE bytes of headroom
 * before the payload, so the message is copied into a reused buffer that has
 * it. Internal to net/.
 */
#ifndef AMPGRID_NET_WBUF_H
#define AMPGRID_NET_WBUF_H

#include <stddef.h>
#include <stdint.h>

struct lws;

typedef struct net_wbuf {
    unsigned char *buf; /* NULL until the first write */
    size_t cap;
} net_wbuf_t;

/* lws_write of a text message through w; returns its result (< 0: the
 * socket failed). What the socket does not take, LWS keeps and sends first. */
int net_wbuf_write(net_wbuf_t *w, struct lws *wsi, const char *data, size_t len);
void net_wbuf_free(net_wbuf_t *w);

/* The client's side (a client's frames are masked, RFC 6455 5.3): the same
 * with the frame built and masked here, with this masking key, and handed to
 * LWS as raw bytes. LWS 4.1 masks a byte at a time through a counter it keeps
 * in memory, and reads the key from /dev/urandom per frame: 9 % of the
 * simulator's CPU under a wss MeterValues load. */
int net_wbuf_write_client(net_wbuf_t *w, struct lws *wsi, const char *data, size_t len,
                          uint32_t mask);
/* Same for a payload that already has LWS_PRE bytes of headroom before it
 * (it is masked in place). */
int net_wbuf_write_client_at(struct lws *wsi, unsigned char *payload, size_t len, uint32_t mask);
/* Writes a final text frame's header (at most NET_WS_CLIENT_HDR_MAX bytes)
 * just before payload and masks the payload in place; returns the header's
 * length. Exposed for the unit test. */
#define NET_WS_CLIENT_HDR_MAX 14
size_t net_ws_client_frame(unsigned char *payload, size_t len, uint32_t mask);

#endif
