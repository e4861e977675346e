/*
 * Remote diagnostics through the API: asking a station for its diagnostics
 * (service/diagnostics.h does the work), the requests (listed, cursor paged,
 * filtered by station and status), and the uploaded files (Range supported).
 * A request is audited; its answer comes once the station has answered and
 * that is stored.
 */
#include "api/api_internal.h"
#include "api/lists.h"

#include "service/diagnostics.h"
#include "store/store_files.h"
#include "util/alloc.h"
#include "util/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const api_sort_field_t diag_sorts[] = {
    {"id", false, NULL},
    {"requested_at", false, NULL},
    {"updated_at", false, NULL},
    {NULL, false, NULL},
};
static const api_list_t diag_list = {diag_sorts, "-id", false, 50, 500};

static const char *const statuses[] = {"pending",  "accepted", "rejected",  "uploading",
                                       "uploaded", "failed",   "timed_out", NULL};

static bool service_ok(api_call_t *c)
{
    if (c->api->d.diagnostics) return true;
    api_problem(c, 503, "Service Unavailable", "remote diagnostics are not configured");
    return false;
}

static bool path_id(api_call_t *c, int64_t *id)
{
    char *end;
    long long v = strtoll(c->params[0], &end, 10);
    if (!c->params[0][0] || *end || v <= 0) {
        api_problem(c, 404, "Not Found", "no diagnostics request %.64s", c->params[0]);
        return false;
    }
    *id = v;
    return true;
}

static json_t *item_of(json_t *row)
{
    return diagnostics_view(row);
}

/* ------------------------------------------------------------ request */

static void requested(void *ctx, int status, const char *msg, const json_t *view)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    if (status != 201) {
        api_problem(c, status, status == 503 ? "Service Unavailable" : "Conflict", "%s", msg);
        return;
    }
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(view, "id")));
    api_audit(c, "diagnostics.request", "diagnostics", id, NULL, view);
    api_json(c, 201, json_deep_copy(view));
}

/* An optional RFC 3339 member of the body, as Unix ms (0 when absent). */
static bool body_time(api_call_t *c, const char *name, int64_t *out)
{
    json_t *v = json_object_get(c->body, name);
    *out = 0;
    if (!v || json_is_null(v)) return true;
    if (!json_is_string(v) || !time_parse_rfc3339(json_string_value(v), out)) {
        api_problem(c, 400, "Bad Request", "%s must be an RFC 3339 date-time", name);
        return false;
    }
    return true;
}

static bool body_int(api_call_t *c, const char *name, int lo, int hi, int *out)
{
    json_t *v = json_object_get(c->body, name);
    *out = -1;
    if (!v || json_is_null(v)) return true;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        api_problem(c, 400, "Bad Request", "%s must be an integer from %d to %d", name, lo, hi);
        return false;
    }
    *out = (int)json_integer_value(v);
    return true;
}

void api_diagnostics_request(api_call_t *c)
{
    if (!service_ok(c)) return;
    const char *k;
    json_t *v;
    json_object_foreach(c->body, k, v) {
        if (strcmp(k, "start_time") && strcmp(k, "stop_time") && strcmp(k, "retries") &&
            strcmp(k, "retry_interval")) {
            api_problem(c, 400, "Bad Request",
                        "unknown member '%.64s'; send start_time, stop_time, retries or "
                        "retry_interval",
                        k);
            return;
        }
    }
    diagnostics_ask_t ask = {.station_id = c->params[0], .requested_by = c->token_name};
    if (!body_time(c, "start_time", &ask.start_time) || !body_time(c, "stop_time", &ask.stop_time) ||
        !body_int(c, "retries", 0, 100, &ask.retries) ||
        !body_int(c, "retry_interval", 0, 86400, &ask.retry_interval))
        return;
    if (ask.start_time && ask.stop_time && ask.stop_time < ask.start_time) {
        api_problem(c, 400, "Bad Request", "stop_time is before start_time");
        return;
    }
    char err[200];
    api_hold(c);
    int status = diagnostics_request(c->api->d.diagnostics, &ask, requested, c, err, sizeof err);
    if (status == 404) api_problem(c, 404, "Not Found", "%s", err);
    else if (status) api_problem(c, status, "Conflict", "%s", err);
}

/* ------------------------------------------------------------ reading */

void api_diagnostics_list(api_call_t *c)
{
    if (!service_ok(c)) return;
    const char *status = api_query(c, "status");
    if (status) {
        bool ok = false;
        for (const char *const *s = statuses; *s; s++) ok = ok || strcmp(*s, status) == 0;
        if (!ok) {
            api_problem(c, 400, "Bad Request",
                        "status must be pending, accepted, rejected, uploading, uploaded, "
                        "failed or timed_out");
            return;
        }
    }
    api_page_t page;
    if (!api_page_read(c, &diag_list, &page)) return;
    store_page_t sp = api_page_store(&page);
    store_diag_list(c->api->d.store, api_query(c, "station"), status, &sp, api_page_done,
                    api_page_hold(c, &page, item_of));
}

static void got(void *p, store_err_t rc, json_t *row)
{
    api_call_t *c = p;
    if (!api_alive(c)) return;
    if (rc == STORE_ERR_NOT_FOUND)
        api_problem(c, 404, "Not Found", "no diagnostics request %s", c->params[0]);
    else if (rc != STORE_OK)
        api_problem(c, 503, "Service Unavailable", "the store failed; retry");
    else api_json(c, 200, diagnostics_view(row));
}

void api_diagnostics_get(api_call_t *c)
{
    int64_t id;
    if (!service_ok(c) || !path_id(c, &id)) return;
    api_hold(c);
    store_diag_get(c->api->d.store, id, got, c);
}

static void file_found(void *p, store_err_t rc, json_t *row)
{
    api_call_t *c = p;
    if (!api_alive(c)) return;
    if (rc != STORE_OK) {
        api_problem(c, rc == STORE_ERR_NOT_FOUND ? 404 : 503,
                    rc == STORE_ERR_NOT_FOUND ? "Not Found" : "Service Unavailable",
                    "no diagnostics request %s", c->params[0]);
        return;
    }
    const char *sha = json_string_value(json_object_get(row, "sha256"));
    const char *name = json_string_value(json_object_get(row, "file_name"));
    if (!sha) {
        api_problem(c, 404, "Not Found", "the station has not uploaded a file for request %s yet",
                    c->params[0]);
        return;
    }
    char path[700], etag[80], hdr[400];
    diagnostics_file_path(c->api->d.diagnostics, json_integer_value(json_object_get(row, "id")),
                          path, sizeof path);
    snprintf(etag, sizeof etag, "\"%s\"", sha);
    snprintf(hdr, sizeof hdr, "Content-Disposition: attachment; filename=\"%s\"\r\n",
             name ? name : "diagnostics");
    if (!net_req_respond_file(c->req, path, "application/octet-stream", etag, hdr)) {
        api_problem(c, 404, "Not Found", "the file of request %s is missing on the server",
                    c->params[0]);
        return;
    }
    c->req = NULL; /* answered by net */
    api_call_free(c);
}

void api_diagnostics_file(api_call_t *c)
{
    int64_t id;
    if (!service_ok(c) || !path_id(c, &id)) return;
    api_hold(c);
    store_diag_get(c->api->d.store, id, file_found, c);
}
