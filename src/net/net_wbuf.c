/*
 * A reused write buffer with LWS_PRE headroom (see net_wbuf.h).
 */
#include "net/net_wbuf.h"

#include "util/alloc.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#define KEEP_MAX 65536 /* a bigger buffer goes back after its message */

int net_wbuf_write(net_wbuf_t *w, struct lws *wsi, const char *data, size_t len)
{
    if (w->cap < LWS_PRE + len) {
        free(w->buf);
        w->cap = LWS_PRE + len < 4096 ? 4096 : LWS_PRE + len;
        w->buf = xmalloc(w->cap);
    }
    memcpy(w->buf + LWS_PRE, data, len);
    int r = lws_write(wsi, w->buf + LWS_PRE, len, LWS_WRITE_TEXT);
    if (w->cap > KEEP_MAX) net_wbuf_free(w);
    return r;
}

void net_wbuf_free(net_wbuf_t *w)
{
    free(w->buf);
    w->buf = NULL;
    w->cap = 0;
}
