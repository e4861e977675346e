/*
 * libFuzzer target for the JSON reader (src/util/json_reader.c): besides the
 * sanitizers, it checks that the reader agrees with jansson's json_loadb
 * (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY) on every input -- both refuse,
 * or both accept with equal trees -- except that a raw NUL byte is always
 * refused by the reader. Refusals carry a message and a position in range.
 *
 * Run: ./fuzz_json_reader -max_total_time=60 tests/fuzz/corpus/json_reader
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/json_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    json_reader_error_t err;
    json_t *a = json_reader_parse(s, size, &err);
    if (!a && (err.text[0] == '\0' || err.position > size)) abort();
    if (memchr(s, 0, size)) {
        if (a) abort();
        return 0;
    }
    json_error_t jerr;
    json_t *b = json_loadb(s, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if ((a == NULL) != (b == NULL)) abort();
    if (a && !json_equal(a, b)) abort();
    json_decref(a);
    json_decref(b);
    return 0;
}
