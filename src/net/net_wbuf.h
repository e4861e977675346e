/*
 * Writing a WebSocket text message at once, shared by the server (net.c) and
 * the simulator's client (net_client.c): LWS needs LWS_PRE bytes of headroom
 * before the payload, so the message is copied into a reused buffer that has
 * it. Internal to net/.
 */
#ifndef AMPGRID_NET_WBUF_H
#define AMPGRID_NET_WBUF_H

#include <stddef.h>

struct lws;

typedef struct net_wbuf {
    unsigned char *buf; /* NULL until the first write */
    size_t cap;
} net_wbuf_t;

/* lws_write of a text message through w; returns its result (< 0: the
 * socket failed). What the socket does not take, LWS keeps and sends first. */
int net_wbuf_write(net_wbuf_t *w, struct lws *wsi, const char *data, size_t len);
void net_wbuf_free(net_wbuf_t *w);

#endif
