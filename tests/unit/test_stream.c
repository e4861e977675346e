/*
 * Specification of the streaming checker (src/ocpp/stream.c), the fast path
 * for MeterValues: it accepts a frame only when the ordinary path (frame
 * parser, then schema validator) would, hands over exactly the payload's
 * values, and refuses (leaving it to the ordinary path) everything it cannot
 * prove: checked on hand-picked frames and on thousands of generated frames
 * and byte-level mutations of them (tests/fuzz/stream_oracle.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../fuzz/stream_oracle.h"

static const ocpp_message_def_t *mv_def(void)
{
    return ocpp_schema_find(&ocpp_v16_defs, "MeterValues");
}

static bool fast(const char *text)
{
    static oracle_log_t log;
    static const ocpp_stream_sink_t sink = {oracle_value, oracle_open, oracle_close};
    memset(&log, 0, sizeof log);
    char id[OCPP_MSG_ID_MAX + 1];
    size_t len = strlen(text);
    char *scratch = malloc(len + 1);
    bool ok = ocpp_stream_check(text, len, "MeterValues", mv_def()->request, &sink, &log, id,
                                scratch);
    free(scratch);
    const char *why = oracle_check(mv_def(), text, len);
    if (why) fail_msg("%s: %s", why, text);
    return ok;
}

#define SV "{\"value\":\"230.1\",\"measurand\":\"Voltage\",\"phase\":\"L1-N\",\"unit\":\"V\"}"
#define MV(sv) "{\"timestamp\":\"2024-05-01T10:00:00.123Z\",\"sampledValue\":[" sv "]}"
#define FRAME(payload) "[2,\"m-1\",\"MeterValues\"," payload "]"

static void a_station_meter_value_is_taken_with_every_value(void **state)
{
    (void)state;
    static oracle_log_t log;
    static const ocpp_stream_sink_t sink = {oracle_value, oracle_open, oracle_close};
    const char *t = FRAME("{\"connectorId\":1,\"transactionId\":42,\"meterValue\":[" MV(
        SV ",{\"value\":\"7.5\",\"unit\":\"kWh\"}") "]}");
    char id[OCPP_MSG_ID_MAX + 1], scratch[1024];
    assert_true(ocpp_stream_check(t, strlen(t), "MeterValues", mv_def()->request, &sink, &log,
                                  id, scratch));
    assert_string_equal(id, "m-1");
    const char *want[] = {"{",        "connectorId=1",       "transactionId=42", "{",
                          "timestamp=2024-05-01T10:00:00.123Z", "{", "value=230.1",
                          "measurand=Voltage", "phase=L1-N", "unit=V", "}", "{", "value=7.5",
                          "unit=kWh", "}", "}", "}"};
    assert_int_equal(log.n, (int)(sizeof want / sizeof want[0]));
    for (int i = 0; i < log.n; i++) {
        char got[128];
        if (log.ev[i].what == 'v') snprintf(got, sizeof got, "%s=%s", log.ev[i].name, log.ev[i].text);
        else snprintf(got, sizeof got, "%c", log.ev[i].what);
        assert_string_equal(got, want[i]);
    }
    assert_null(oracle_check(mv_def(), t, strlen(t)));
}

static void whitespace_and_key_order_do_not_matter(void **state)
{
    (void)state;
    assert_true(fast(" [ 2 ,\n\"x\" ,\t\"MeterValues\" , {\"meterValue\" : [{\"sampledValue\":[{"
                     "\"value\":\"1\"}],\"timestamp\":\"2024-05-01T10:00:00Z\"}],\"connectorId\":0"
                     "}]\r\n"));
}

static void what_the_ordinary_path_refuses_is_never_taken(void **state)
{
    (void)state;
    const char *refused[] = {
        FRAME("{\"connectorId\":1}"),                             /* meterValue required */
        FRAME("{\"connectorId\":1.0,\"meterValue\":[" MV(SV) "]}"), /* not an integer */
        FRAME("{\"connectorId\":\"1\",\"meterValue\":[" MV(SV) "]}"),
        FRAME("{\"connectorId\":1,\"connectorId\":1,\"meterValue\":[" MV(SV) "]}"),
        FRAME("{\"connectorId\":1,\"extra\":1,\"meterValue\":[" MV(SV) "]}"),
        FRAME("{\"connectorId\":1,\"meterValue\":[{\"timestamp\":\"yesterday\","
              "\"sampledValue\":[" SV "]}]}"),
        FRAME("{\"connectorId\":1,\"meterValue\":[" MV("{\"value\":\"1\",\"unit\":\"Volt\"}") "]}"),
        FRAME("{\"connectorId\":1,\"meterValue\":[" MV("{\"unit\":\"V\"}") "]}"),
        FRAME("{\"connectorId\":99999999999999999999,\"meterValue\":[" MV(SV) "]}"),
        "[2,\"m-1\",\"Heartbeat\",{}]",
        "[2.0,\"m-1\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[" MV(SV) "]}]",
        "[3,\"m-1\",{\"connectorId\":1,\"meterValue\":[" MV(SV) "]}]",
        "[2,\"\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[" MV(SV) "]}]",
        "[2,\"0123456789012345678901234567890123456\",\"MeterValues\",{\"connectorId\":1,"
        "\"meterValue\":[" MV(SV) "]}]",
        "[2,\"m\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[" MV(SV) "]},1]",
        FRAME("{\"connectorId\":1,\"meterValue\":[" MV(SV) "]}") "x",
        FRAME("{\"connectorId\":1,\"meterValue\":[" MV(SV) "]}") "[]",
        FRAME("{\"connectorId\":1,\"meterValue\":[" MV(SV) "]"),
        /* left to the ordinary path although valid: escapes, non-ASCII, null */
        FRAME("{\"connectorId\":1,\"meterValue\":[" MV("{\"value\":\"a\\u0041\"}") "]}"),
        FRAME("{\"connectorId\":1,\"meterValue\":[" MV("{\"value\":\"\xc3\xa9\"}") "]}"),
        FRAME("{\"connectorId\":1,\"transactionId\":null,\"meterValue\":[" MV(SV) "]}"),
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        if (fast(refused[i])) fail_msg("took '%s'", refused[i]);
}

/* The text is scanned eight bytes at a time: a byte the fast path does not
 * handle is found at every length and offset, and plain values of every
 * length around a word are taken. */
static void a_byte_outside_plain_ascii_is_found_anywhere(void **state)
{
    (void)state;
    const unsigned char bad[] = {'\\', 0x01, 0x1f, 0x80, 0xff, '\t'};
    char value[24], frame[512];
    for (size_t len = 1; len <= 17; len++) {
        memset(value, 'a', len);
        value[len] = '\0';
        snprintf(frame, sizeof frame,
                 FRAME("{\"connectorId\":1,\"meterValue\":[" MV("{\"value\":\"%s\"}") "]}"),
                 value);
        if (!fast(frame)) fail_msg("refused '%s'", frame);
        value[len - 1] = 0x7f; /* DEL is printable for JSON */
        snprintf(frame, sizeof frame,
                 FRAME("{\"connectorId\":1,\"meterValue\":[" MV("{\"value\":\"%s\"}") "]}"),
                 value);
        if (!fast(frame)) fail_msg("refused '%s'", frame);
        for (size_t b = 0; b < sizeof bad; b++) {
            for (size_t at = 0; at < len; at++) {
                memset(value, 'a', len);
                value[at] = (char)bad[b];
                snprintf(frame, sizeof frame,
                         FRAME("{\"connectorId\":1,\"meterValue\":[" MV(
                             "{\"value\":\"%s\"}") "]}"),
                         value);
                if (fast(frame)) fail_msg("took byte 0x%02x at %zu of %zu", bad[b], at, len);
            }
        }
    }
}

/* ---- generated frames ------------------------------------------------------------------ */

static uint64_t rng = 0x2545f4914f6cdd1dULL;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static const char *pick(const char *const *a, size_t n)
{
    return a[rnd() % n];
}
#define PICK(a) pick(a, sizeof a / sizeof a[0])

static void append(char *b, size_t cap, const char *s)
{
    size_t l = strlen(b);
    snprintf(b + l, cap - l, "%s", s);
}

/* A MeterValues frame that is mostly valid, with a chance of a wrong piece. */
static void generate(char *b, size_t cap)
{
    static const char *const keys[] = {"value", "measurand", "phase", "unit", "context",
                                       "location", "format"};
    static const char *const good[] = {"\"1\"", "\"Voltage\"", "\"L2\"", "\"V\"",
                                       "\"Sample.Clock\"", "\"Inlet\"", "\"Raw\""};
    static const char *const vals[] = {"\"230.1\"", "\"Voltage\"", "\"L1\"", "\"kWh\"",
                                       "\"Sample.Periodic\"", "\"Outlet\"", "\"Raw\"",
                                       "\"SignedData\"", "\"Energy.Active.Import.Register\"",
                                       "1", "\"\"", "\"L1-N\"", "\"Percent\"", "true", "null"};
    static const char *const ints[] = {"0", "1", "-1", "42", "2147483647", "1.5", "1e2",
                                       "-0", "9223372036854775807", "\"3\""};
    static const char *const times[] = {"\"2024-05-01T10:00:00Z\"", "\"2024-02-30T10:00:00Z\"",
                                        "\"2024-05-01T10:00:00.5+02:00\"", "\"2024-05-01\"",
                                        "17"};
    b[0] = '\0';
    append(b, cap, rnd() % 20 ? "[2," : "[3,");
    append(b, cap, rnd() % 20 ? "\"id-1\"," : "\"\",");
    append(b, cap, rnd() % 20 ? "\"MeterValues\",{" : "\"StatusNotification\",{");
    bool comma = false;
    if (rnd() % 10) {
        append(b, cap, "\"connectorId\":");
        append(b, cap, rnd() % 4 ? "2" : PICK(ints));
        comma = true;
    }
    if (rnd() % 2) {
        append(b, cap, comma ? ",\"transactionId\":" : "\"transactionId\":");
        append(b, cap, PICK(ints));
        comma = true;
    }
    if (rnd() % 12) {
        append(b, cap, comma ? ",\"meterValue\":[" : "\"meterValue\":[");
        int nmv = (int)(rnd() % 3) + (rnd() % 10 == 0 ? 0 : 1);
        for (int m = 0; m < nmv; m++) {
            append(b, cap, m ? ",{\"timestamp\":" : "{\"timestamp\":");
            append(b, cap, rnd() % 8 ? times[0] : PICK(times));
            append(b, cap, ",\"sampledValue\":[");
            int nsv = (int)(rnd() % 4) + 1;
            for (int s = 0; s < nsv; s++) {
                append(b, cap, s ? ",{\"value\":\"" : "{\"value\":\"");
                char num[24];
                snprintf(num, sizeof num, "%u", rnd() % 100000);
                append(b, cap, num);
                append(b, cap, "\"");
                for (size_t k = 1; k < sizeof keys / sizeof keys[0]; k++) {
                    if (rnd() % 3) continue; /* each key at most once, mostly valid */
                    append(b, cap, ",\"");
                    append(b, cap, keys[k]);
                    append(b, cap, "\":");
                    append(b, cap, rnd() % 8 ? good[k] : PICK(vals));
                }
                append(b, cap, "}");
            }
            append(b, cap, "]}");
        }
        append(b, cap, "]");
    }
    append(b, cap, "}]");
}

static void generated_frames_and_their_mutations_keep_the_property(void **state)
{
    (void)state;
    static const char bytes[] = "{}[],:\"0123456789.-eE tfn\\\x01\x80\xc3";
    char b[8192];
    int taken = 0, total = 0;
    for (int i = 0; i < 20000; i++) {
        generate(b, sizeof b);
        total++;
        taken += fast(b);
        size_t len = strlen(b);
        for (int m = 0; m < 4 && len > 0; m++) {
            char c[8192];
            memcpy(c, b, len + 1);
            size_t at = rnd() % len;
            switch (rnd() % 3) {
            case 0: /* replace a byte */
                c[at] = bytes[rnd() % (sizeof bytes - 1)];
                break;
            case 1: /* delete one */
                memmove(c + at, c + at + 1, len - at);
                break;
            default: /* duplicate a slice */
                if (len * 2 < sizeof c) {
                    size_t n = rnd() % (len - at) + 1;
                    memmove(c + at + n, c + at, len - at + 1);
                }
                break;
            }
            total++;
            taken += fast(c);
        }
    }
    /* not vacuous: a good share of the generated frames is valid and taken */
    if (taken < total / 40) fail_msg("only %d of %d frames taken", taken, total);
    print_message("%d of %d frames taken by the fast path\n", taken, total);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_station_meter_value_is_taken_with_every_value),
        cmocka_unit_test(whitespace_and_key_order_do_not_matter),
        cmocka_unit_test(what_the_ordinary_path_refuses_is_never_taken),
        cmocka_unit_test(a_byte_outside_plain_ascii_is_found_anywhere),
        cmocka_unit_test(generated_frames_and_their_mutations_keep_the_property),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
