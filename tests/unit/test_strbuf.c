/*
 * Specification of the string buffer (src/util/strbuf.c): printf-style
 * appends of any length, fixed-point numbers as printf's "%.*f" writes them,
 * and JSON string literals that jansson reads back as the original.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "util/strbuf.h"

static void printf_appends_pieces_of_any_length(void **state)
{
    (void)state;
    strbuf_t b = {0};
    char big[5000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    strbuf_printf(&b, "%d-", 42);
    strbuf_printf(&b, "%s", big);
    strbuf_printf(&b, "-%s", "end");
    assert_int_equal(b.len, 3 + 4999 + 4);
    assert_int_equal(strlen(b.data), b.len);
    assert_memory_equal(b.data, "42-xxx", 6);
    assert_string_equal(b.data + b.len - 4, "-end");
    strbuf_free(&b);
}

static void fixed_writes_what_printf_writes(void **state)
{
    (void)state;
    uint64_t r = 12345;
    for (int i = 0; i < 100000; i++) {
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        /* values on a grid finer than the decimals shown, away from ties */
        double v = (double)(int64_t)(r >> 20) / 1000.0 + 0.0001;
        if (r & 1) v = -v;
        int d = (int)(r >> 60) % 4;
        strbuf_t b = {0};
        char want[64];
        snprintf(want, sizeof want, "%.*f", d, v);
        strbuf_fixed(&b, v, d);
        if (strcmp(b.data, want) != 0) fail_msg("%.6f with %d: got %s, printf %s", v, d, b.data, want);
        strbuf_free(&b);
    }
    strbuf_t b = {0};
    strbuf_fixed(&b, 230.05 + 1e-9, 1);
    strbuf_fixed(&b, 0, 0);
    strbuf_fixed(&b, 1e20, 0); /* out of the fast range: printf's answer */
    assert_string_equal(b.data, "230.1" "0" "100000000000000000000");
    strbuf_free(&b);
}

static void numbers_keep_every_digit_of_a_counter(void **state)
{
    (void)state;
    strbuf_t b = {0};
    strbuf_number(&b, 1234567.0); /* "%g" made this 1.23457e+06 */
    strbuf_append(&b, " ", 1);
    strbuf_number(&b, 9007199254740.0);
    strbuf_append(&b, " ", 1);
    strbuf_number(&b, 0.1);
    strbuf_append(&b, " ", 1);
    strbuf_number(&b, 0.0075);
    strbuf_append(&b, " ", 1);
    strbuf_number(&b, 0);
    assert_string_equal(b.data, "1234567 9007199254740 0.1 0.0075 0");
    strbuf_free(&b);
}

static void json_strings_read_back_as_the_original(void **state)
{
    (void)state;
    const char *cases[] = {"", "plain", "q\"uote", "back\\slash", "\x01\x1f ctl\n\t\r",
                           "caf\xc3\xa9 \xe2\x82\xac", "/"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        strbuf_t b = {0};
        strbuf_json_string(&b, cases[i]);
        json_error_t e;
        json_t *v = json_loadb(b.data, b.len, JSON_DECODE_ANY, &e);
        if (!json_is_string(v)) fail_msg("'%s' is not a JSON string: %s", b.data, e.text);
        assert_string_equal(json_string_value(v), cases[i]);
        json_decref(v);
        strbuf_free(&b);
    }
}

/* Many strings into one buffer: each write lands exactly where the buffer
 * has grown to (escapes at the edges of its capacity). */
static void json_strings_appended_in_a_row_read_back(void **state)
{
    (void)state;
    strbuf_t b = {0};
    char s[80];
    strbuf_append(&b, "[", 1);
    for (int i = 0; i < 400; i++) {
        size_t n = (size_t)(i % 70);
        for (size_t k = 0; k < n; k++)
            s[k] = "a\"\\\x01z"[(i + k) % 5];
        s[n] = '\0';
        if (i) strbuf_append(&b, ",", 1);
        strbuf_json_string(&b, s);
    }
    strbuf_append(&b, "]", 1);
    assert_int_equal(strlen(b.data), b.len);
    json_error_t e;
    json_t *a = json_loadb(b.data, b.len, 0, &e);
    if (!json_is_array(a)) fail_msg("not a JSON array: %s", e.text);
    assert_int_equal(json_array_size(a), 400);
    for (int i = 0; i < 400; i++) {
        size_t n = (size_t)(i % 70);
        for (size_t k = 0; k < n; k++)
            s[k] = "a\"\\\x01z"[(i + k) % 5];
        s[n] = '\0';
        assert_string_equal(json_string_value(json_array_get(a, (size_t)i)), s);
    }
    json_decref(a);
    strbuf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(printf_appends_pieces_of_any_length),
        cmocka_unit_test(fixed_writes_what_printf_writes),
        cmocka_unit_test(json_strings_read_back_as_the_original),
        cmocka_unit_test(json_strings_appended_in_a_row_read_back),
        cmocka_unit_test(numbers_keep_every_digit_of_a_counter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
