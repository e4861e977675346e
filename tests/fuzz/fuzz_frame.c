/*
 * libFuzzer target for OCPP-J framing (src/ocpp/frame.c): whatever bytes a
 * station sends as a WebSocket text message must come back as a frame or an
 * error class, never as a crash, a hang or a leak -- and the server must be
 * able to do with the result what ocpp/rpc.c does with it.
 *
 * Besides the sanitizers, it checks the contract:
 *   - on refusal the message buffer (whose size the input also varies) holds a
 *     NUL-terminated message;
 *   - a refused frame keeps no JSON tree; a recovered id is 1-36 characters,
 *     a longer one is kept aside in long_id;
 *   - a recovered id can be answered: ocpp_frame_error() with that id (as
 *     rpc.c sends it) yields valid JSON, a CALLERROR carrying that id;
 *   - a parsed frame re-serialises through ocpp_frame_call/result/error into
 *     text that parses back to the same frame.
 *
 * Build: configure with -DCMAKE_C_COMPILER=clang -DAMPGRID_FUZZ=ON (see
 *        tests/fuzz/CMakeLists.txt), or run tests/fuzz/run.sh SECONDS.
 * Run:   ./fuzz_frame -max_total_time=60 tests/fuzz/corpus/frame
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ocpp/frame.h"

#define MSG_CAP 240 /* what rpc.c gives the parser */

/* Parses `text`, which must be a frame, and checks it equals `want`. */
static void check_round_trip(char *text, const ocpp_frame_t *want)
{
    if (text == NULL) abort();
    ocpp_frame_t got;
    char msg[MSG_CAP];
    if (ocpp_frame_parse(text, strlen(text), &got, msg, sizeof msg) != OCPP_OK) abort();
    if (got.type != want->type || strcmp(got.id, want->id) != 0) abort();
    switch (want->type) {
    case OCPP_CALL:
        if (strcmp(got.action, want->action) != 0) abort();
        if (!json_equal(got.payload, want->payload)) abort();
        break;
    case OCPP_CALLRESULT:
        if (!json_equal(got.payload, want->payload)) abort();
        break;
    case OCPP_CALLERROR:
        if (strcmp(got.error_code, want->error_code) != 0) abort();
        if (strcmp(got.error_description, want->error_description) != 0) abort();
        if (!json_equal(got.error_details, want->error_details)) abort();
        break;
    }
    ocpp_frame_free(&got);
    free(text);
}

/* What rpc.c does with a refused frame whose id was recovered: the answer must be
 * valid JSON, [4, id, code, description, {}], whatever the id and the message. */
static void check_answerable(const char *id, const char *msg)
{
    char *text = ocpp_frame_error(id, "FormationViolation", msg, NULL);
    if (text == NULL) abort();
    json_t *back = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_array(back) || json_array_size(back) != 5) abort();
    if (json_integer_value(json_array_get(back, 0)) != OCPP_CALLERROR) abort();
    const char *back_id = json_string_value(json_array_get(back, 1));
    if (back_id == NULL || strcmp(back_id, id) != 0) abort();
    if (!json_is_string(json_array_get(back, 3)) || !json_is_object(json_array_get(back, 4)))
        abort();
    json_decref(back);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Exactly `size` bytes on the heap, so any read past the message is caught. */
    char *buf = malloc(size ? size : 1);
    if (buf == NULL) return 0;
    if (size) memcpy(buf, data, size);

    /* Vary the message buffer so truncation paths run too; MSG_CAP most of the time. */
    size_t cap = size % 13 == 0 ? size % 17 + 1 : MSG_CAP;
    char msg[MSG_CAP];
    memset(msg, 'x', sizeof msg);

    ocpp_frame_t f;
    ocpp_err_t err = ocpp_frame_parse(buf, size, &f, msg, cap);
    if (memchr(f.id, '\0', sizeof f.id) == NULL) abort();

    if (err != OCPP_OK) {
        if (memchr(msg, '\0', cap) == NULL) abort();
        if (f.root != NULL) abort();
        if (cap > 1 && msg[0] == '\0') abort();
        if (strlen(f.id) > OCPP_MSG_ID_MAX) abort();
        if (f.id[0] != '\0' && f.long_id != NULL) abort(); /* one id or the other */
        if (f.long_id != NULL && strlen(f.long_id) <= OCPP_MSG_ID_MAX) abort();
        /* rpc.c answers with the id, or with the over-long id kept for that purpose. */
        const char *answer_id = f.id[0] != '\0' ? f.id : f.long_id;
        if (answer_id != NULL) check_answerable(answer_id, msg);
        ocpp_frame_free(&f); /* frees the over-long id */
        free(buf);
        return 0;
    }

    if (f.root == NULL || f.id[0] == '\0') abort();
    switch (f.type) {
    case OCPP_CALL:
        if (f.action == NULL || f.action[0] == '\0' || f.payload == NULL) abort();
        check_round_trip(ocpp_frame_call(f.id, f.action, f.payload), &f);
        break;
    case OCPP_CALLRESULT:
        if (f.payload == NULL) abort();
        check_round_trip(ocpp_frame_result(f.id, f.payload), &f);
        break;
    case OCPP_CALLERROR:
        if (f.error_code == NULL || f.error_description == NULL || !json_is_object(f.error_details))
            abort();
        check_round_trip(ocpp_frame_error(f.id, f.error_code, f.error_description, f.error_details),
                         &f);
        break;
    default:
        abort();
    }
    ocpp_frame_free(&f);
    free(buf);
    return 0;
}
