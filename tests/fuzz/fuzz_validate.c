/*
 * libFuzzer target for the OCPP payload validator (src/ocpp/schema.c) and the
 * 1.6 and 2.0.1 tables: whatever a station sends must come back as an error
 * class and a message, never as a crash, a hang or an unreadable message.
 *
 * Input forms:
 *   "BootNotification\n{...}"  validates the JSON after the first line as that
 *                              action's request and as its response (the 1.6
 *                              table first, 2.0.1 for actions 1.6 lacks);
 *   "ocpp2.0.1/BootNotification\n{...}" (or "ocpp1.6/...") names the version;
 *   anything else              the first byte picks the action (modulo the
 *                              number of messages of both versions together),
 *                              the rest is the JSON.
 * Besides the sanitizers, it checks the message contract: NUL-terminated
 * within the buffer (whose size the input also varies) and valid UTF-8.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -Isrc src/ocpp/schema.c \
 *          src/ocpp/v16_defs.c src/ocpp/v201_defs.c tests/fuzz/fuzz_validate.c -ljansson
 * Run:   ./fuzz_validate -max_total_time=60 tests/fuzz/corpus/validate
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ocpp/schema.h"

#define MAX_ACTION_LEN 64

static const ocpp_version_defs_t *const versions[] = {&ocpp_v16_defs, &ocpp_v201_defs};
#define VERSION_COUNT (sizeof(versions) / sizeof(versions[0]))

/* "ocpp2.0.1/BootNotification" in that version, else "BootNotification" in the
 * first version that defines it. */
static const ocpp_message_def_t *find_named(const char *line)
{
    const char *slash = strchr(line, '/');
    for (size_t v = 0; v < VERSION_COUNT; v++) {
        const char *name = versions[v]->name;
        size_t n = strlen(name);
        if (slash == NULL) {
            const ocpp_message_def_t *def = ocpp_schema_find(versions[v], line);
            if (def != NULL) return def;
        } else if ((size_t)(slash - line) == n && memcmp(line, name, n) == 0) {
            return ocpp_schema_find(versions[v], slash + 1);
        }
    }
    return NULL;
}

/* Picks the action from an "[version/]Action\n" first line, else from the first byte. */
static const ocpp_message_def_t *pick_action(const uint8_t **data, size_t *size)
{
    size_t scan = *size < MAX_ACTION_LEN ? *size : MAX_ACTION_LEN;
    const uint8_t *nl = memchr(*data, '\n', scan);
    if (nl != NULL) {
        char action[MAX_ACTION_LEN + 1];
        size_t n = (size_t)(nl - *data);
        memcpy(action, *data, n);
        action[n] = '\0';
        const ocpp_message_def_t *def = find_named(action);
        if (def != NULL) {
            *size -= n + 1;
            *data = nl + 1;
            return def;
        }
    }
    size_t total = 0;
    for (size_t v = 0; v < VERSION_COUNT; v++)
        total += versions[v]->count;
    size_t index = (*data)[0] % total;
    *data += 1;
    *size -= 1;
    for (size_t v = 0;; v++) {
        if (index < versions[v]->count) return &versions[v]->messages[index];
        index -= versions[v]->count;
    }
}

static void check_message(ocpp_err_t err, const char *msg, size_t cap)
{
    if (cap == 0) return;
    if (memchr(msg, '\0', cap) == NULL) abort();
    if (err == OCPP_OK && msg[0] != '\0') abort();
    if (err != OCPP_OK && cap > 1 && msg[0] == '\0') abort();
    json_t *s = json_string(msg); /* NULL for invalid UTF-8 */
    if (s == NULL) abort();
    json_decref(s);
}

static void validate(const ocpp_field_t *fields, const json_t *payload, size_t cap)
{
    char msg[512];
    ocpp_err_t err = ocpp_schema_validate(fields, payload, msg, cap);
    check_message(err, msg, cap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    /* The raw bytes as a C string also exercise the date-time parser directly. */
    char *text = malloc(size + 1);
    if (text == NULL) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    (void)ocpp_schema_is_datetime(text);
    free(text);

    const ocpp_message_def_t *def = pick_action(&data, &size);
    json_error_t error;
    json_t *payload = json_loadb((const char *)data, size,
                                 JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &error);
    if (payload == NULL) return 0;
    /* Vary the message buffer so truncation paths run too; 512 most of the time. */
    size_t cap = size % 7 == 0 ? size % 61 : 512;
    validate(def->request, payload, cap);
    validate(def->response, payload, cap);
    json_decref(payload);
    return 0;
}
