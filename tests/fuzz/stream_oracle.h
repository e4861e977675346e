/*
 * The property the streaming checker (src/ocpp/stream.c) must keep, shared by
 * its unit test and its fuzz target: whenever it accepts a text, the ordinary
 * path (ocpp_frame_parse, then ocpp_schema_validate of the payload) accepts
 * it too, and the values it handed over are exactly the payload's, in order.
 * (It may refuse what the ordinary path accepts: that path then runs.)
 * Numbers are compared by value (+ 0.0: -0 and 0 are the same reading).
 */
#ifndef AMPGRID_TESTS_STREAM_ORACLE_H
#define AMPGRID_TESTS_STREAM_ORACLE_H

#include "ocpp/frame.h"
#include "ocpp/stream.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ORACLE_MAX_EVENTS 4096

/* One thing the sink saw, or the tree walk met: a value, or '{' / '}'. */
typedef struct oracle_event {
    char what;        /* 'v', '{', '}' */
    const char *name; /* the value's field name */
    char text[64];    /* a string's first 63 bytes, or a number as %.17g */
} oracle_event_t;

typedef struct oracle_log {
    oracle_event_t ev[ORACLE_MAX_EVENTS];
    int n;
    bool overflow;
} oracle_log_t;

static oracle_event_t *oracle_add(oracle_log_t *l, char what)
{
    if (l->n == ORACLE_MAX_EVENTS) {
        l->overflow = true;
        return NULL;
    }
    oracle_event_t *e = &l->ev[l->n++];
    memset(e, 0, sizeof *e);
    e->what = what;
    return e;
}

static void oracle_value(void *ud, const ocpp_field_t *f, ocpp_stream_kind_t kind, const char *s,
                         size_t len)
{
    oracle_event_t *e = oracle_add(ud, 'v');
    if (!e) return;
    e->name = f->name;
    if (kind == OCPP_STREAM_NUMBER) snprintf(e->text, sizeof e->text, "%.17g", strtod(s, NULL) + 0.0);
    else snprintf(e->text, sizeof e->text, "%.*s", (int)(len < 63 ? len : 63), s);
}

static void oracle_open(void *ud, const ocpp_field_t *f)
{
    (void)f;
    oracle_add(ud, '{');
}

static void oracle_close(void *ud, const ocpp_field_t *f)
{
    (void)f;
    oracle_add(ud, '}');
}

/* The same events from the tree, in the order the keys were sent. */
static void oracle_walk(oracle_log_t *l, const char *name, const json_t *v)
{
    if (json_is_object(v)) {
        oracle_add(l, '{');
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) oracle_walk(l, k, x);
        oracle_add(l, '}');
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) oracle_walk(l, name, x);
    } else {
        oracle_event_t *e = oracle_add(l, 'v');
        if (!e) return;
        e->name = name;
        if (json_is_number(v)) snprintf(e->text, sizeof e->text, "%.17g", json_number_value(v) + 0.0);
        else if (json_is_string(v))
            snprintf(e->text, sizeof e->text, "%.*s",
                     (int)(json_string_length(v) < 63 ? json_string_length(v) : 63),
                     json_string_value(v));
        else snprintf(e->text, sizeof e->text, "%s", json_is_true(v) ? "true" : "false");
    }
}

/* NULL when the property holds for text (as a MeterValues of def), else why not. */
static const char *oracle_check(const ocpp_message_def_t *def, const char *text, size_t len)
{
    static oracle_log_t fast, tree;
    static const ocpp_stream_sink_t sink = {oracle_value, oracle_open, oracle_close};
    memset(&fast, 0, sizeof fast);
    char id[OCPP_MSG_ID_MAX + 1];
    char *scratch = malloc(len + 1);
    bool ok = ocpp_stream_check(text, len, def->action, def->request, &sink, &fast, id, scratch);
    free(scratch);
    if (!ok) return NULL;
    ocpp_frame_t f;
    char msg[256];
    if (ocpp_frame_parse(text, len, &f, msg, sizeof msg) != OCPP_OK) {
        ocpp_frame_free(&f);
        return "accepted a frame the frame parser refuses";
    }
    const char *why = NULL;
    if (f.type != OCPP_CALL || strcmp(f.action, def->action) != 0 || strcmp(f.id, id) != 0)
        why = "accepted another frame type, action or id";
    else if (ocpp_schema_validate(def->request, f.payload, msg, sizeof msg) != OCPP_OK)
        why = "accepted a payload the validator refuses";
    if (!why) {
        memset(&tree, 0, sizeof tree);
        oracle_walk(&tree, NULL, f.payload);
        if (tree.n != fast.n || tree.overflow != fast.overflow) why = "saw other values";
        for (int i = 0; !why && i < tree.n; i++) {
            const oracle_event_t *a = &fast.ev[i], *b = &tree.ev[i];
            if (a->what != b->what || strcmp(a->text, b->text) != 0 ||
                (a->what == 'v' && strcmp(a->name, b->name) != 0))
                why = "saw a value differently";
        }
    }
    ocpp_frame_free(&f);
    return why;
}

#endif
