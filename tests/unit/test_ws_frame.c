/*
 * Specification of the client's WebSocket frames (src/net/net_wbuf.c,
 * net_ws_client_frame): a final text frame, the mask bit set, the length in
 * the shortest of RFC 6455's three forms, the key on the wire, and a payload
 * that the key turns back into the original at every length and alignment.
 * Decoded here by a reader written from RFC 6455 section 5.2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/net_wbuf.h"

/* Reads a frame at f; returns the payload's offset, *len its length. */
static size_t read_frame(const unsigned char *f, uint64_t *len, unsigned char key[4])
{
    assert_int_equal(f[0], 0x81);           /* FIN, opcode 1 (text) */
    assert_int_equal(f[1] & 0x80, 0x80);    /* masked */
    size_t at = 2;
    uint64_t n = f[1] & 0x7f;
    if (n == 126) {
        n = ((uint64_t)f[2] << 8) | f[3];
        assert_true(n >= 126); /* the shortest form */
        at = 4;
    } else if (n == 127) {
        n = 0;
        for (int i = 0; i < 8; i++) n = (n << 8) | f[2 + i];
        assert_true(n >= 65536);
        assert_int_equal(f[2] & 0x80, 0); /* the top bit is 0 */
        at = 10;
    }
    memcpy(key, f + at, 4);
    *len = n;
    return at + 4;
}

static void frames_decode_to_the_payload_at_every_length(void **state)
{
    (void)state;
    static const size_t lens[] = {0, 1, 3, 7, 8, 9, 15, 16, 17, 125, 126, 127, 700, 65535, 65536,
                                  70001};
    for (size_t t = 0; t < sizeof lens / sizeof lens[0]; t++) {
        for (size_t align = 0; align < 3; align++) {
            size_t len = lens[t];
            unsigned char *buf = malloc(NET_WS_CLIENT_HDR_MAX + align + len + 1);
            unsigned char *orig = malloc(len + 1);
            unsigned char *payload = buf + NET_WS_CLIENT_HDR_MAX + align;
            for (size_t i = 0; i < len; i++) orig[i] = (unsigned char)('a' + (i * 7 + t) % 26);
            memcpy(payload, orig, len);
            uint32_t mask = 0xA1B2C3D4u ^ (uint32_t)(t * 2654435761u);
            size_t hl = net_ws_client_frame(payload, len, mask);
            unsigned char *f = payload - hl;
            uint64_t n;
            unsigned char key[4];
            size_t at = read_frame(f, &n, key);
            assert_int_equal(at, hl);
            assert_int_equal(n, len);
            assert_memory_equal(key, &mask, 4); /* the key given, as it is in memory */
            if (len >= 8) assert_memory_not_equal(f + at, orig, 8); /* it was masked */
            for (size_t i = 0; i < len; i++) f[at + i] ^= key[i & 3];
            if (len) assert_memory_equal(f + at, orig, len);
            free(buf);
            free(orig);
        }
    }
}

static void header_lengths_are_the_shortest_form(void **state)
{
    (void)state;
    unsigned char buf[NET_WS_CLIENT_HDR_MAX + 70000];
    unsigned char *p = buf + NET_WS_CLIENT_HDR_MAX;
    assert_int_equal(net_ws_client_frame(p, 125, 1), 2 + 4);
    assert_int_equal(net_ws_client_frame(p, 126, 1), 4 + 4);
    assert_int_equal(net_ws_client_frame(p, 65535, 1), 4 + 4);
    assert_int_equal(net_ws_client_frame(p, 65536, 1), 10 + 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(frames_decode_to_the_payload_at_every_length),
        cmocka_unit_test(header_lengths_are_the_shortest_form),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
