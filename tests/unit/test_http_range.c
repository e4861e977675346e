/*
 * Specification of Range header parsing (src/net/http_range.c) and of
 * finding the file part of a multipart/form-data upload
 * (src/firmware/file_commit.c): a table of ordinary and hostile headers with
 * the answer each must get (whole file, a range, or 416), every prefix of
 * each header parsed without reading past its end, and multipart bodies
 * with and without a file part.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "firmware/file_commit.h"
#include "net/http_range.h"

typedef struct range_case {
    const char *header;
    uint64_t size;
    http_range_result_t want;
    uint64_t first, last;
} range_case_t;

static const range_case_t cases[] = {
    /* ordinary */
    {NULL, 100, HTTP_RANGE_NONE, 0, 0},
    {"bytes=0-99", 100, HTTP_RANGE_OK, 0, 99},
    {"bytes=0-0", 100, HTTP_RANGE_OK, 0, 0},
    {"bytes=10-", 100, HTTP_RANGE_OK, 10, 99},
    {"bytes=99-", 100, HTTP_RANGE_OK, 99, 99},
    {"bytes=-1", 100, HTTP_RANGE_OK, 99, 99},
    {"bytes=-100", 100, HTTP_RANGE_OK, 0, 99},
    {"bytes=-500", 100, HTTP_RANGE_OK, 0, 99},
    {"bytes=90-500", 100, HTTP_RANGE_OK, 90, 99},
    {"BYTES=1-2", 100, HTTP_RANGE_OK, 1, 2},
    {" bytes = 1-2 ", 100, HTTP_RANGE_OK, 1, 2},
    /* unsatisfiable */
    {"bytes=100-", 100, HTTP_RANGE_UNSATISFIABLE, 0, 0},
    {"bytes=100-200", 100, HTTP_RANGE_UNSATISFIABLE, 0, 0},
    {"bytes=-0", 100, HTTP_RANGE_UNSATISFIABLE, 0, 0},
    {"bytes=0-", 0, HTTP_RANGE_UNSATISFIABLE, 0, 0},
    {"bytes=-5", 0, HTTP_RANGE_UNSATISFIABLE, 0, 0},
    {"bytes=99999999999999999999999999-", 100, HTTP_RANGE_UNSATISFIABLE, 0, 0},
    {"bytes=18446744073709551615-", 100, HTTP_RANGE_UNSATISFIABLE, 0, 0},
    /* huge ends are clamped, huge suffixes are the whole file */
    {"bytes=0-99999999999999999999999999", 100, HTTP_RANGE_OK, 0, 99},
    {"bytes=-99999999999999999999999999", 100, HTTP_RANGE_OK, 0, 99},
    /* ignored: the whole file */
    {"", 100, HTTP_RANGE_NONE, 0, 0},
    {"bytes", 100, HTTP_RANGE_NONE, 0, 0},
    {"bytes=", 100, HTTP_RANGE_NONE, 0, 0},
    {"bytes=-", 100, HTTP_RANGE_NONE, 0, 0},
    {"bytes=--1", 100, HTTP_RANGE_NONE, 0, 0},
    {"bytes=1--2", 100, HTTP_RANGE_NONE, 0, 0},
    {"bytes=5-1", 100, HTTP_RANGE_NONE, 0, 0},
    {"bytes=1", 100, HTTP_RANGE_NONE, 0, 0},
    {"bytes=a-b", 100, HTTP_RANGE_NONE, 0, 0},
    {"bytes=0x10-", 100, HTTP_RANGE_NONE, 0, 0},
    {"bytes=+1-2", 100, HTTP_RANGE_NONE, 0, 0},
    {"bytes=1-2,3-4", 100, HTTP_RANGE_NONE, 0, 0},
    {"bytes=1-2,", 100, HTTP_RANGE_NONE, 0, 0},
    {"bytes=1-2;", 100, HTTP_RANGE_NONE, 0, 0},
    {"bytes=1-2\r\nX: y", 100, HTTP_RANGE_NONE, 0, 0},
    {"items=0-5", 100, HTTP_RANGE_NONE, 0, 0},
    {"bytesx=0-5", 100, HTTP_RANGE_NONE, 0, 0},
    {"=0-5", 100, HTTP_RANGE_NONE, 0, 0},
    {"bytes=-1-2", 100, HTTP_RANGE_NONE, 0, 0},
    {"bytes=1.5-2", 100, HTTP_RANGE_NONE, 0, 0},
};

static void answers_the_table(void **state)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const range_case_t *c = &cases[i];
        uint64_t a = 12345, b = 12345;
        http_range_result_t r = http_range_parse(c->header, c->size, &a, &b);
        if (r != c->want) fail_msg("'%s' (size %llu): got %d, want %d", c->header ? c->header : "(null)",
                                   (unsigned long long)c->size, r, c->want);
        if (r == HTTP_RANGE_OK) {
            assert_true(a == c->first && b == c->last);
            assert_true(a <= b && b < c->size);
        }
    }
}

/* Every prefix of every header, each in a buffer of exactly its size (ASan
 * catches a read past the end); a range given is always inside the file. */
static void never_reads_past_the_end(void **state)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *h = cases[i].header;
        if (!h) continue;
        for (size_t n = 0; n <= strlen(h); n++) {
            char *p = malloc(n + 1);
            memcpy(p, h, n);
            p[n] = '\0';
            for (uint64_t size = 0; size < 4; size++) {
                uint64_t a = 0, b = 0;
                if (http_range_parse(p, size, &a, &b) == HTTP_RANGE_OK)
                    assert_true(a <= b && b < size);
            }
            free(p);
        }
    }
}

static void finds_the_file_part(void **state)
{
    static const char body[] = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue\r\n"
                               "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; "
                               "filename=\"diag.zip\"\r\nContent-Type: application/zip\r\n\r\n"
                               "PK\x03\x04 data\r\n-- not the end\r\n"
                               "--XyZ--\r\n";
    size_t off, len;
    char name[64];
    assert_int_equal(file_commit_multipart_find((const unsigned char *)body, sizeof body - 1,
                                                "XyZ", &off, &len, name, sizeof name),
                     0);
    assert_string_equal(name, "diag.zip");
    const char *want = "PK\x03\x04 data\r\n-- not the end";
    assert_int_equal(len, strlen(want));
    assert_memory_equal(body + off, want, len);
}

static void refuses_bodies_without_a_file(void **state)
{
    static const char *const bodies[] = {
        "",
        "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--B--\r\n",
        "--B\r\nContent-Disposition: form-data; filename=\"x\"\r\n\r\nno closing delimiter",
        "--B\r\nno blank line after the headers",
        "--B--\r\n",
        "no delimiter at all",
        NULL,
    };
    for (const char *const *b = bodies; *b; b++) {
        size_t off, len, n = strlen(*b);
        char name[16];
        unsigned char *copy = malloc(n + 1);
        memcpy(copy, *b, n);
        assert_int_equal(file_commit_multipart_find(copy, n, "B", &off, &len, name, sizeof name),
                         -1);
        free(copy);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(answers_the_table),
        cmocka_unit_test(never_reads_past_the_end),
        cmocka_unit_test(finds_the_file_part),
        cmocka_unit_test(refuses_bodies_without_a_file),
    };
    return cmocka_run_group_tests_name("http range and multipart", tests, NULL, NULL);
}
