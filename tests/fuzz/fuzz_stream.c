/*
 * libFuzzer target for the MeterValues fast path (src/ocpp/stream.c): besides
 * the sanitizers, it checks on every input that whatever the streaming checker
 * accepts, the frame parser and schema validator accept too, with the same
 * values (tests/fuzz/stream_oracle.h), for OCPP 1.6 and 2.0.1 MeterValues.
 *
 * Run: ./fuzz_stream -max_total_time=60 tests/fuzz/corpus/stream
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "stream_oracle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const ocpp_version_defs_t *versions[] = {&ocpp_v16_defs, &ocpp_v201_defs};
    for (size_t i = 0; i < 2; i++) {
        const ocpp_message_def_t *def = ocpp_schema_find(versions[i], "MeterValues");
        if (oracle_check(def, (const char *)data, size)) abort();
    }
    return 0;
}
