/* OCPP-J framing; see frame.h. */
#include "ocpp/frame.h"

#include "util/alloc.h"
#include "util/json_reader.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Best effort: finds the id in `[<digits>, "<id>"` so a broken frame can still
 * be answered. Only ids that are plain printable strings are recovered. */
static void recover_id(const char *d, size_t len, char *id)
{
    size_t i = 0;
    id[0] = '\0';
#define SKIP_WS() while (i < len && isspace((unsigned char)d[i])) i++
    SKIP_WS();
    if (i >= len || d[i++] != '[') return;
    SKIP_WS();
    if (i >= len || !isdigit((unsigned char)d[i])) return;
    while (i < len && isdigit((unsigned char)d[i])) i++;
    SKIP_WS();
    if (i >= len || d[i++] != ',') return;
    SKIP_WS();
    if (i >= len || d[i++] != '"') return;
    size_t start = i;
    while (i < len && d[i] != '"' && d[i] != '\\' && (unsigned char)d[i] >= 0x20 &&
           (unsigned char)d[i] < 0x7f && i - start <= OCPP_MSG_ID_MAX)
        i++;
    if (i >= len || d[i] != '"' || i == start || i - start > OCPP_MSG_ID_MAX) return;
    memcpy(id, d + start, i - start);
    id[i - start] = '\0';
#undef SKIP_WS
}

static ocpp_err_t fail(ocpp_frame_t *out, ocpp_err_t e, char *msg, size_t msg_len,
                       const char *text)
{
    snprintf(msg, msg_len, "%s", text);
    json_decref(out->root);
    out->root = NULL;
    return e;
}

ocpp_err_t ocpp_frame_parse(const char *data, size_t len, ocpp_frame_t *out, char *msg,
                            size_t msg_len)
{
    memset(out, 0, sizeof *out);
    json_reader_error_t jerr;
    out->root = json_reader_parse(data, len, &jerr);
    if (!out->root) {
        recover_id(data, len, out->id);
        snprintf(msg, msg_len, "message is not valid JSON: %s (at character %zu)", jerr.text,
                 jerr.position);
        return OCPP_ERR_FORMAT;
    }
    json_t *r = out->root;
    json_t *idv = json_is_array(r) ? json_array_get(r, 1) : NULL;
    if (json_is_string(idv) && json_string_length(idv) >= 1 &&
        !memchr(json_string_value(idv), 0, json_string_length(idv))) {
        if (json_string_length(idv) <= OCPP_MSG_ID_MAX)
            snprintf(out->id, sizeof out->id, "%s", json_string_value(idv));
        else
            out->long_id = xstrdup(json_string_value(idv));
    }
    if (!json_is_array(r) || json_array_size(r) < 3)
        return fail(out, OCPP_ERR_PROTOCOL, msg, msg_len,
                    "message is not an OCPP-J frame: expected a JSON array "
                    "[messageTypeId, messageId, ...]");
    json_t *tv = json_array_get(r, 0);
    if (!json_is_integer(tv))
        return fail(out, OCPP_ERR_PROTOCOL, msg, msg_len,
                    "messageTypeId (first element) must be the integer 2, 3 or 4");
    json_int_t type = json_integer_value(tv);
    if (type < 2 || type > 4)
        return fail(out, OCPP_ERR_MESSAGE_TYPE, msg, msg_len,
                    "messageTypeId must be 2 (CALL), 3 (CALLRESULT) or 4 (CALLERROR)");
    out->type = (ocpp_msg_type_t)type;
    if (!out->id[0]) {
        out->id[0] = '\0';
        return fail(out, OCPP_ERR_PROTOCOL, msg, msg_len,
                    "messageId (second element) must be a string of 1 to 36 characters");
    }
    size_t n = json_array_size(r);
    switch (out->type) {
    case OCPP_CALL: {
        if (n != 4)
            return fail(out, OCPP_ERR_PROTOCOL, msg, msg_len,
                        "a CALL has exactly 4 elements: [2, messageId, action, payload]");
        json_t *a = json_array_get(r, 2);
        if (!json_is_string(a) || json_string_length(a) == 0 || json_string_length(a) > 64)
            return fail(out, OCPP_ERR_PROTOCOL, msg, msg_len,
                        "action (third element) must be a non-empty string");
        out->action = json_string_value(a);
        out->payload = json_array_get(r, 3);
        break;
    }
    case OCPP_CALLRESULT:
        if (n != 3)
            return fail(out, OCPP_ERR_PROTOCOL, msg, msg_len,
                        "a CALLRESULT has exactly 3 elements: [3, messageId, payload]");
        out->payload = json_array_get(r, 2);
        break;
    case OCPP_CALLERROR: {
        if (n != 5)
            return fail(out, OCPP_ERR_PROTOCOL, msg, msg_len,
                        "a CALLERROR has exactly 5 elements: [4, messageId, errorCode, "
                        "errorDescription, errorDetails]");
        json_t *c = json_array_get(r, 2), *d = json_array_get(r, 3);
        if (!json_is_string(c) || !json_is_string(d) || !json_is_object(json_array_get(r, 4)))
            return fail(out, OCPP_ERR_PROTOCOL, msg, msg_len,
                        "CALLERROR needs errorCode and errorDescription strings and an "
                        "errorDetails object");
        out->error_code = json_string_value(c);
        out->error_description = json_string_value(d);
        out->error_details = json_array_get(r, 4);
        break;
    }
    }
    return OCPP_OK;
}

void ocpp_frame_free(ocpp_frame_t *f)
{
    free(f->long_id);
    f->long_id = NULL;
    json_decref(f->root);
    f->root = NULL;
}

static char *dump(json_t *arr)
{
    char *s = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    if (!s) abort();
    return s;
}

char *ocpp_frame_call(const char *id, const char *action, const json_t *payload)
{
    return dump(json_pack("[issO]", 2, id, action, (json_t *)payload));
}

/* True when id needs no JSON escaping (the usual UUID or counter). */
static bool plain_id(const char *id, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)id[i];
        if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\') return false;
    }
    return true;
}

char *ocpp_frame_result(const char *id, const json_t *payload)
{
    /* The commonest answer ({} to MeterValues and StatusNotification) is
     * written directly; everything else goes through jansson. */
    size_t len = strlen(id);
    if (json_is_object(payload) && json_object_size(payload) == 0 && plain_id(id, len)) {
        char *out = xmalloc(len + 10);
        memcpy(out, "[3,\"", 4);
        memcpy(out + 4, id, len);
        memcpy(out + 4 + len, "\",{}]", 6);
        return out;
    }
    return dump(json_pack("[isO]", 3, id, (json_t *)payload));
}

char *ocpp_frame_error(const char *id, const char *code, const char *description,
                       const json_t *details)
{
    json_t *d = details ? json_incref((json_t *)details) : json_object();
    /* Descriptions may quote station input cut at a byte limit: never let a
     * broken UTF-8 tail stop the answer. */
    json_t *desc = json_string(description ? description : "");
    if (!desc) desc = json_string("(description withheld: not valid UTF-8)");
    json_t *idv = json_string(id);
    if (!idv) idv = json_string("-1"); /* not valid UTF-8: nothing we could echo */
    return dump(json_pack("[ioso o]", 4, idv, code, desc, d));
}
