/*
 * A reused write buffer with LWS_PRE headroom (see net_wbuf.h).
 */
#include "net/net_wbuf.h"

#include "util/alloc.h"

#include <libwebsockets.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define KEEP_MAX 65536 /* a bigger buffer goes back after its message */

_Static_assert(LWS_PRE >= NET_WS_CLIENT_HDR_MAX, "a client frame header fits in LWS_PRE");

/* data copied behind LWS_PRE bytes of headroom; returns where it starts */
static unsigned char *fill(net_wbuf_t *w, const char *data, size_t len)
{
    if (w->cap < LWS_PRE + len) {
        free(w->buf);
        w->cap = LWS_PRE + len < 4096 ? 4096 : LWS_PRE + len;
        w->buf = xmalloc(w->cap);
    }
    memcpy(w->buf + LWS_PRE, data, len);
    return w->buf + LWS_PRE;
}

int net_wbuf_write(net_wbuf_t *w, struct lws *wsi, const char *data, size_t len)
{
    int r = lws_write(wsi, fill(w, data, len), len, LWS_WRITE_TEXT);
    if (w->cap > KEEP_MAX) net_wbuf_free(w);
    return r;
}

/* XOR with the key repeated, eight bytes at a time. */
static void mask_payload(unsigned char *p, size_t len, uint32_t mask)
{
    unsigned char k[4];
    memcpy(k, &mask, 4); /* the key's bytes as they go on the wire */
    uint64_t m8;
    unsigned char kk[8] = {k[0], k[1], k[2], k[3], k[0], k[1], k[2], k[3]};
    memcpy(&m8, kk, 8);
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t v;
        memcpy(&v, p + i, 8);
        v ^= m8;
        memcpy(p + i, &v, 8);
    }
    for (; i < len; i++) p[i] ^= k[i & 3];
}

size_t net_ws_client_frame(unsigned char *payload, size_t len, uint32_t mask)
{
    unsigned char h[NET_WS_CLIENT_HDR_MAX];
    size_t n = 0;
    h[n++] = 0x81; /* FIN, text */
    if (len < 126) {
        h[n++] = (unsigned char)(0x80 | len);
    } else if (len < 65536) {
        h[n++] = 0x80 | 126;
        h[n++] = (unsigned char)(len >> 8);
        h[n++] = (unsigned char)len;
    } else {
        h[n++] = 0x80 | 127;
        for (int s = 56; s >= 0; s -= 8) h[n++] = (unsigned char)((uint64_t)len >> s);
    }
    memcpy(h + n, &mask, 4);
    n += 4;
    mask_payload(payload, len, mask);
    memcpy(payload - n, h, n);
    return n;
}

int net_wbuf_write_client_at(struct lws *wsi, unsigned char *payload, size_t len, uint32_t mask)
{
    size_t hl = net_ws_client_frame(payload, len, mask);
    return lws_write(wsi, payload - hl, hl + len, LWS_WRITE_RAW);
}

int net_wbuf_write_client(net_wbuf_t *w, struct lws *wsi, const char *data, size_t len,
                          uint32_t mask)
{
    int r = net_wbuf_write_client_at(wsi, fill(w, data, len), len, mask);
    if (w->cap > KEEP_MAX) net_wbuf_free(w);
    return r;
}

void net_wbuf_free(net_wbuf_t *w)
{
    free(w->buf);
    w->buf = NULL;
    w->cap = 0;
}
