/*
 * Specification of the JSON reader (src/util/json_reader.c): for every text
 * it accepts exactly what jansson's json_loadb(JSON_REJECT_DUPLICATES |
 * JSON_DECODE_ANY) accepts and builds an equal tree, with the one documented
 * differences: lone surrogate escapes, and raw NUL bytes, which this reader
 * always refuses and jansson sometimes skips. Checked on hand-picked cases and on
 * thousands of random documents and byte-level mutations of them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/json_reader.h"

static json_t *jansson(const char *s, size_t n)
{
    json_error_t e;
    return json_loadb(s, n, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &e);
}

/* Both parsers agree on s: both refuse, or both accept with equal trees. */
static void agree(const char *s, size_t n)
{
    json_reader_error_t err;
    json_t *a = json_reader_parse(s, n, &err);
    if (memchr(s, 0, n)) {
        /* a raw NUL byte is never JSON; jansson skips over some of them */
        if (a) fail_msg("accepted a text with a NUL byte: '%.*s'", (int)n, s);
        return;
    }
    json_t *b = jansson(s, n);
    if ((a == NULL) != (b == NULL)) {
        for (size_t i = 0; i < n; i++) fprintf(stderr, "%02x ", (unsigned char)s[i]);
        fprintf(stderr, "\n");
        fail_msg("disagree on '%.*s': reader %s, jansson %s", (int)n, s, a ? "accepts" : "refuses",
                 b ? "accepts" : "refuses");
    }
    if (a && !json_equal(a, b)) fail_msg("different trees for '%.*s'", (int)n, s);
    if (!a) {
        assert_true(err.text[0] != '\0');
        assert_true(err.position <= n);
    }
    json_decref(a);
    json_decref(b);
}

static void agree_s(const char *s) { agree(s, strlen(s)); }

static void test_valid_documents(void **state)
{
    (void)state;
    static const char *const docs[] = {
        "[2,\"1\",\"Heartbeat\",{}]", "{}", "[]", "0", "-0", "1.5", "-1e-3", "1E+2", "\"x\"",
        "true", "false", "null", " [ 1 , 2 ] ", "{\"a\":{\"b\":[null,true,{\"c\":\"d\"}]}}",
        "9223372036854775807", "-9223372036854775808", "1e308", "\"\\u00e9\\u20ac\\ud83d\\ude00\"",
        "\"tab\\tnl\\nq\\\"bs\\\\sl\\/\"", "\"h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
        "{\"\\u0041\":\"\\u0042\",\"k\\n\":\"v\\t\"}", "[[[[[[[[[[]]]]]]]]]]", "\n\t\r 7 \n",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        json_t *a = json_reader_parse(docs[i], strlen(docs[i]), NULL);
        if (!a) fail_msg("refused valid '%s'", docs[i]);
        json_decref(a);
        agree_s(docs[i]);
    }
}

static void test_invalid_documents(void **state)
{
    (void)state;
    static const char *const docs[] = {
        "", " ", "[", "[2,", "]", "{", "{\"a\"}", "{\"a\":}", "{a:1}", "[1,]", "{\"a\":1,}",
        "[1 2]", "01", "1.", ".5", "+1", "1e", "--1", "NaN", "Infinity", "tru", "nul",
        "\"unterminated", "\"bad \\x escape\"", "\"\\u12\"", "[1] [2]", "{} x", "// c\n1",
        "/* c */ 1", "'single'", "{\"a\":1,\"a\":2}", "{\"a\":{\"b\":1,\"b\":1}}",
        "9223372036854775808", "-9223372036854775809", "1e400", "-1e400",
        "\"nul \\u0000 in string\"", "{\"k\\u0000\":1}", "\"ctl \x01 char\"", "\"overlong \xc0\xaf\"",
        "\"surrogate bytes \xed\xa0\x80\"", "\"truncated \xe2\x82\"", "\"bad lead \xff\"",
        "{\"overlong key \xc0\xaf\":1}", "[\"\xf4\x90\x80\x80\"]", "5\"", "1 \"abc",
        "[1]\"", "\f1", "1\v", "[1,\f2]", "\"ff \f\"", "{\"a\":1} {", "1 2",
        "123456789012345678901234567890123456789012345678901234567890123456789",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        json_reader_error_t err = {{0}, 0};
        json_t *a = json_reader_parse(docs[i], strlen(docs[i]), &err);
        if (a) fail_msg("accepted invalid '%s'", docs[i]);
        assert_true(strlen(err.text) > 3);
        agree_s(docs[i]);
    }
    /* a NUL byte in the middle of the text ends nothing: it is an error */
    agree("[1]\0[2]", 7);
    agree("\"a\0b\"", 5);
}

static void test_errors_say_what_and_where(void **state)
{
    (void)state;
    json_reader_error_t err;
    assert_null(json_reader_parse("{\"a\":1,\"a\":2}", 13, &err));
    assert_non_null(strstr(err.text, "duplicate"));
    assert_null(json_reader_parse("[1,2,x]", 7, &err));
    assert_true(err.position >= 5 && err.position <= 7);
    assert_null(json_reader_parse("\"a\\u0000\"", 9, &err));
    assert_non_null(strstr(err.text, "NUL"));
}

static void test_nesting_limit(void **state)
{
    (void)state;
    char buf[2 * (JSON_READER_MAX_DEPTH + 1) + 1];
    for (int depth = JSON_READER_MAX_DEPTH; depth <= JSON_READER_MAX_DEPTH + 1; depth++) {
        memset(buf, '[', (size_t)depth);
        memset(buf + depth, ']', (size_t)depth);
        json_reader_error_t err;
        json_t *v = json_reader_parse(buf, (size_t)(2 * depth), &err);
        if (depth <= JSON_READER_MAX_DEPTH) {
            assert_non_null(v);
        } else {
            assert_null(v);
            assert_non_null(strstr(err.text, "deep"));
        }
        json_decref(v);
    }
    /* hostile depth far beyond the limit: refused without exhausting anything */
    size_t n = 200000;
    char *deep = malloc(n);
    memset(deep, '[', n);
    assert_null(json_reader_parse(deep, n, NULL));
    memset(deep, '{', n);
    assert_null(json_reader_parse(deep, n, NULL));
    free(deep);
}

/* Keys are copied: yajl decodes an escaped value into the buffer the escaped
 * key was decoded into, and a long key must not be truncated. */
static void test_keys_survive_values(void **state)
{
    (void)state;
    char big[1200];
    int n = snprintf(big, sizeof big, "{\"%0*d\":\"\\u0041v\"}", 600, 7);
    json_t *v = json_reader_parse(big, (size_t)n, NULL);
    assert_non_null(v);
    char key[601];
    snprintf(key, sizeof key, "%0*d", 600, 7);
    assert_string_equal(json_string_value(json_object_get(v, key)), "Av");
    json_decref(v);
    v = json_reader_parse("{\"k\\u0031\":\"\\u0032\\u0033\",\"k\\u0034\":1}", 38, NULL);
    assert_non_null(v);
    assert_string_equal(json_string_value(json_object_get(v, "k1")), "23");
    assert_int_equal(json_integer_value(json_object_get(v, "k4")), 1);
    json_decref(v);
}

/* ---- random documents and mutations ------------------------------------------------------ */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

static json_t *random_value(int depth)
{
    static const char *const strs[] = {"", "a", "Sample.Periodic", "h\xc3\xa9", "\xe2\x82\xac",
                                       "q\"b\\s/", "line\nfeed", "\xf0\x9f\x98\x80", "ctl\x1f"};
    switch (rnd() % (depth > 4 ? 6 : 8)) {
    case 0: return json_null();
    case 1: return json_boolean(rnd() & 1);
    case 2: return json_integer((json_int_t)rnd() - (json_int_t)(rnd() % 2 ? 0 : 1LL << 31));
    case 3: return json_real((double)rnd() / 7.0 - 1e5);
    case 4:
    case 5: return json_string(strs[rnd() % (sizeof strs / sizeof strs[0])]);
    case 6: {
        json_t *a = json_array();
        for (unsigned i = rnd() % 5; i > 0; i--) json_array_append_new(a, random_value(depth + 1));
        return a;
    }
    default: {
        json_t *o = json_object();
        for (unsigned i = rnd() % 5; i > 0; i--) {
            char k[16];
            snprintf(k, sizeof k, "%s%u", rnd() % 2 ? "k" : "\xc3\xa9", rnd() % 6);
            json_object_set_new(o, k, random_value(depth + 1));
        }
        return o;
    }
    }
}

static void test_random_documents_and_mutations(void **state)
{
    (void)state;
    static const char mut[] =
        "[]{}\",:\\ 0123456789.eE+-truefalsnul\x00\x01\xc3\xa9\xff\xed\x80\f\v\t\r\n";
    for (int i = 0; i < 10000; i++) {
        json_t *v = random_value(0);
        char *s = json_dumps(v, JSON_ENCODE_ANY | (rnd() % 2 ? JSON_COMPACT : JSON_INDENT(1)) |
                                    (rnd() % 2 ? JSON_ENSURE_ASCII : 0));
        json_decref(v);
        assert_non_null(s);
        size_t n = strlen(s);
        agree(s, n);
        for (int m = 0; m < 8 && n > 0; m++) {
            char *t = malloc(n + 1);
            memcpy(t, s, n + 1);
            size_t tn = n;
            switch (rnd() % 3) {
            case 0: t[rnd() % tn] = mut[rnd() % (sizeof mut - 1)]; break;
            case 1: tn = rnd() % tn; break;                                /* truncate */
            default: memmove(t + rnd() % tn, t + rnd() % tn, 1); break; /* duplicate a byte */
            }
            agree(t, tn);
            free(t);
        }
        free(s);
    }
}

/* Shared short strings: same text, same value; every text still reads back
 * exactly, whatever else went through the table in between. */
static void test_shared_strings(void **state)
{
    (void)state;
    json_t *a = json_reader_string("Current.Import", 14), *b = json_reader_string("Current.Import", 14);
    assert_ptr_equal(a, b);
    assert_string_equal(json_string_value(a), "Current.Import");
    json_decref(a);
    json_decref(b);
    char buf[64];
    json_t *keep[5000];
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(buf, sizeof buf, "v%d", i * 7919);
        keep[i] = json_reader_string(buf, (size_t)n);
    }
    for (int i = 0; i < 5000; i++) {
        snprintf(buf, sizeof buf, "v%d", i * 7919);
        assert_string_equal(json_string_value(keep[i]), buf);
        json_decref(keep[i]);
    }
    const char *lng = "a string longer than the shared table keeps, by design";
    a = json_reader_string(lng, strlen(lng));
    b = json_reader_string(lng, strlen(lng));
    assert_ptr_not_equal(a, b);
    assert_true(json_equal(a, b));
    json_decref(a);
    json_decref(b);
    assert_null(json_reader_string("\xc0\xaf", 2));
    /* parsed trees share them too, and stay equal to jansson's */
    json_t *t1 = json_reader_parse("[\"L1\",\"L1\"]", 11, NULL);
    assert_ptr_equal(json_array_get(t1, 0), json_array_get(t1, 1));
    json_decref(t1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_documents),
        cmocka_unit_test(test_invalid_documents),
        cmocka_unit_test(test_errors_say_what_and_where),
        cmocka_unit_test(test_nesting_limit),
        cmocka_unit_test(test_keys_survive_values),
        cmocka_unit_test(test_random_documents_and_mutations),
        cmocka_unit_test(test_shared_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
