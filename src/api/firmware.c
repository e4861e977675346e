/*
 * The firmware repository through the API: uploading an image (the request
 * body is the image, written to disk and hashed as it arrives; metadata in
 * query parameters), listing, reading, changing its metadata (2.0.1 signing
 * certificate and signature too), deleting it (refused while a firmware
 * campaign uses it) and downloading it. An upload is answered 201 only once
 * its file is fsynced in place and its row committed.
 */
#include "api/api_internal.h"
#include "api/lists.h"

#include "firmware/file_commit.h"
#include "firmware/firmware_repo.h"
#include "store/store_files.h"
#include "util/alloc.h"
#include "util/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TEXT_MAX 64
#define NAME_MAX_ 200
#define MODELS_MAX 50
#define SIG_MAX 16384

static const api_sort_field_t fw_sorts[] = {
    {"id", false, NULL},      {"created_at", false, NULL}, {"version", false, NULL},
    {"size", false, NULL},    {NULL, false, NULL},
};
static const api_list_t fw_list = {fw_sorts, "-id", false, 50, 500};

/* ------------------------------------------------------------- helpers */

/* A stored row as the API shows it. A new reference. */
static json_t *fw_view(const json_t *row)
{
    json_t *o = json_deep_copy(row);
    static const char *const times[] = {"created_at", "deleted_at", NULL};
    api_json_times(o, times);
    const char *models = json_string_value(json_object_get(o, "models"));
    json_t *m = models ? json_loads(models, 0, NULL) : NULL;
    json_object_set_new(o, "models", json_is_array(m) ? m : json_array());
    if (!json_is_array(m)) json_decref(m);
    char href[80];
    snprintf(href, sizeof href, "/api/v1/firmware/%lld/file",
             (long long)json_integer_value(json_object_get(o, "id")));
    json_object_set_new(o, "download", json_string(href));
    return o;
}

static json_t *item_of(json_t *row)
{
    return fw_view(row);
}

static bool path_id(api_call_t *c, int64_t *id)
{
    char *end;
    long long v = strtoll(c->params[0], &end, 10);
    if (!c->params[0][0] || *end || v <= 0) {
        api_problem(c, 404, "Not Found", "no firmware image %.64s", c->params[0]);
        return false;
    }
    *id = v;
    return true;
}

static bool repo_ok(api_call_t *c)
{
    if (c->api->d.firmware) return true;
    api_problem(c, 503, "Service Unavailable", "the firmware repository is not configured");
    return false;
}

/* Printable text of 1..max bytes without control characters. */
static bool text_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max) return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return false;
    return true;
}

static bool filename_ok(const char *s)
{
    return text_ok(s, NAME_MAX_) && !strpbrk(s, "/\\\"") && strcmp(s, ".") != 0 &&
           strcmp(s, "..") != 0;
}

/* "a,b,c" -> ["a","b","c"]; NULL (after answering 400) when one is bad. */
static json_t *models_of(api_call_t *c, const char *list)
{
    json_t *a = json_array();
    char buf[MODELS_MAX * (TEXT_MAX + 1)];
    if (strlen(list) >= sizeof buf) goto bad;
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ') t++;
        if (!text_ok(t, TEXT_MAX) || json_array_size(a) >= MODELS_MAX) goto bad;
        json_array_append_new(a, json_string(t));
    }
    return a;
bad:
    json_decref(a);
    api_problem(c, 400, "Bad Request",
                "models must be a comma-separated list of up to %d model names (1 to %d "
                "characters each)",
                MODELS_MAX, TEXT_MAX);
    return NULL;
}

/* ------------------------------------------------------------- upload */

typedef struct upload {
    api_call_t *c;
    char version[TEXT_MAX + 1], vendor[TEXT_MAX + 1], filename[NAME_MAX_ + 1];
    bool has_vendor;
    char *models; /* JSON text */
} upload_t;

static void upload_free(upload_t *u)
{
    free(u->models);
    free(u);
}

static void upload_stored(void *p, store_err_t rc, json_t *row)
{
    upload_t *u = p;
    api_call_t *c = u->c;
    upload_free(u);
    if (!api_alive(c)) return;
    if (rc != STORE_OK) {
        api_problem(c, 503, "Service Unavailable", "the image could not be recorded; retry");
        return;
    }
    json_t *view = fw_view(row);
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(row, "id")));
    api_audit(c, "firmware.create", "firmware", id, NULL, view);
    api_json(c, 201, view);
}

static void upload_placed(void *p, const file_commit_result_t *r)
{
    upload_t *u = p;
    if (r->rc != 0) {
        api_call_t *c = u->c;
        upload_free(u);
        if (api_alive(c))
            api_problem(c, 503, "Service Unavailable", "the image could not be stored: %s", r->err);
        return;
    }
    store_firmware_new_t f = {.version = u->version,
                              .vendor = u->has_vendor ? u->vendor : NULL,
                              .filename = u->filename,
                              .sha256 = r->sha256,
                              .created_by = u->c->token_name,
                              .models_json = u->models,
                              .size = (int64_t)r->size,
                              .created_at = time_now_ms()};
    store_firmware_insert(u->c->api->d.store, &f, upload_stored, u);
}

void api_firmware_upload(api_call_t *c)
{
    if (!repo_ok(c)) return;
    uint64_t size = 0;
    const char *sha = NULL;
    const char *src = net_req_body_file(c->req, &size, &sha);
    const char *version = api_query(c, "version"), *vendor = api_query(c, "vendor");
    const char *models = api_query(c, "models"), *filename = api_query(c, "filename");
    if (!src) {
        api_problem(c, 400, "Bad Request", "send the image as the request body");
        return;
    }
    if (size == 0) {
        api_problem(c, 400, "Bad Request", "the image is empty");
        return;
    }
    if (!text_ok(version, TEXT_MAX)) {
        api_problem(c, 400, "Bad Request",
                    "give the image's version in ?version= (1 to %d characters)", TEXT_MAX);
        return;
    }
    if (vendor && !text_ok(vendor, TEXT_MAX)) {
        api_problem(c, 400, "Bad Request", "vendor must be 1 to %d characters", TEXT_MAX);
        return;
    }
    if (filename && !filename_ok(filename)) {
        api_problem(c, 400, "Bad Request",
                    "filename must be 1 to %d characters without / \\ or \"", NAME_MAX_);
        return;
    }
    json_t *m = models ? models_of(c, models) : json_array();
    if (!m) return;
    upload_t *u = xcalloc(1, sizeof *u);
    u->c = c;
    snprintf(u->version, sizeof u->version, "%s", version);
    u->has_vendor = vendor != NULL;
    snprintf(u->vendor, sizeof u->vendor, "%s", vendor ? vendor : "");
    if (filename) snprintf(u->filename, sizeof u->filename, "%s", filename);
    else snprintf(u->filename, sizeof u->filename, "firmware-%s.bin", version);
    u->models = json_dumps(m, JSON_COMPACT);
    json_decref(m);
    char dst[700];
    firmware_repo_image_path(c->api->d.firmware, sha, dst, sizeof dst);
    api_hold(c);
    net_req_body_file_keep(c->req); /* file_commit takes it */
    file_commit(c->api->loop, src, dst, NULL, size, sha, upload_placed, u);
}

/* ------------------------------------------------------------- reading */

void api_firmware_list(api_call_t *c)
{
    if (!repo_ok(c)) return;
    api_page_t page;
    if (!api_page_read(c, &fw_list, &page)) return;
    store_page_t sp = api_page_store(&page);
    store_firmware_list(c->api->d.store, api_query(c, "vendor"), api_query(c, "version"),
                        api_query(c, "model"), &sp, api_page_done,
                        api_page_hold(c, &page, item_of));
}

static bool live(const json_t *row)
{
    return row && json_is_null(json_object_get(row, "deleted_at"));
}

static void got(void *p, store_err_t rc, json_t *row)
{
    api_call_t *c = p;
    if (!api_alive(c)) return;
    if (rc == STORE_ERR_NOT_FOUND || (rc == STORE_OK && !live(row)))
        api_problem(c, 404, "Not Found", "no firmware image %s", c->params[0]);
    else if (rc != STORE_OK)
        api_problem(c, 503, "Service Unavailable", "the store failed; retry");
    else api_json(c, 200, fw_view(row));
}

void api_firmware_get(api_call_t *c)
{
    int64_t id;
    if (!repo_ok(c) || !path_id(c, &id)) return;
    api_hold(c);
    store_firmware_get(c->api->d.store, id, got, c);
}

static void file_found(void *p, store_err_t rc, json_t *row)
{
    api_call_t *c = p;
    if (!api_alive(c)) return;
    if (rc != STORE_OK || !live(row)) {
        api_problem(c, rc == STORE_OK || rc == STORE_ERR_NOT_FOUND ? 404 : 503,
                    rc == STORE_OK || rc == STORE_ERR_NOT_FOUND ? "Not Found" : "Service Unavailable",
                    "no firmware image %s", c->params[0]);
        return;
    }
    const char *sha = json_string_value(json_object_get(row, "sha256"));
    const char *name = json_string_value(json_object_get(row, "filename"));
    char path[700], etag[80], hdr[400];
    firmware_repo_image_path(c->api->d.firmware, sha, path, sizeof path);
    snprintf(etag, sizeof etag, "\"%s\"", sha);
    snprintf(hdr, sizeof hdr, "Content-Disposition: attachment; filename=\"%s\"\r\n", name);
    if (!net_req_respond_file(c->req, path, "application/octet-stream", etag, hdr)) {
        api_problem(c, 404, "Not Found", "the image's file is missing on the server");
        return;
    }
    c->req = NULL; /* answered by net */
    api_call_free(c);
}

void api_firmware_file(api_call_t *c)
{
    int64_t id;
    if (!repo_ok(c) || !path_id(c, &id)) return;
    api_hold(c);
    store_firmware_get(c->api->d.store, id, file_found, c);
}

/* ------------------------------------------------------------- changes */

/* Checks a PATCH body; fields gets the columns to set. false after a 400. */
static bool patch_fields(api_call_t *c, json_t *fields)
{
    const char *k;
    json_t *v;
    json_object_foreach(c->body, k, v) {
        bool ok;
        if (strcmp(k, "version") == 0) {
            ok = json_is_string(v) && text_ok(json_string_value(v), TEXT_MAX);
        } else if (strcmp(k, "vendor") == 0) {
            ok = json_is_null(v) || (json_is_string(v) && text_ok(json_string_value(v), TEXT_MAX));
        } else if (strcmp(k, "filename") == 0) {
            ok = json_is_string(v) && filename_ok(json_string_value(v));
        } else if (strcmp(k, "signing_certificate") == 0 || strcmp(k, "signature") == 0) {
            ok = json_is_null(v) || (json_is_string(v) && json_string_length(v) > 0 &&
                                     json_string_length(v) <= SIG_MAX);
        } else if (strcmp(k, "models") == 0) {
            ok = json_is_array(v) && json_array_size(v) <= MODELS_MAX;
            size_t i;
            json_t *m;
            json_array_foreach(v, i, m) if (!json_is_string(m) || !text_ok(json_string_value(m), TEXT_MAX)) ok = false;
            if (ok) {
                char *txt = json_dumps(v, JSON_COMPACT);
                json_object_set_new(fields, k, json_string(txt));
                free(txt);
                continue;
            }
        } else {
            api_problem(c, 400, "Bad Request",
                        "'%.64s' cannot be changed; send version, vendor, models, filename, "
                        "signing_certificate or signature",
                        k);
            return false;
        }
        if (!ok) {
            api_problem(c, 400, "Bad Request", "%s has an invalid value", k);
            return false;
        }
        json_object_set(fields, k, v);
    }
    if (json_object_size(fields) == 0) {
        api_problem(c, 400, "Bad Request", "send at least one field to change");
        return false;
    }
    return true;
}

typedef struct patch {
    api_call_t *c;
    json_t *fields;
    int64_t id;
} patch_t;

static void patched(void *p, store_err_t rc, json_t *row)
{
    patch_t *x = p;
    api_call_t *c = x->c;
    json_decref(x->fields);
    free(x);
    if (!api_alive(c)) return;
    if (rc == STORE_ERR_NOT_FOUND) {
        api_problem(c, 404, "Not Found", "no firmware image %s", c->params[0]);
        return;
    }
    if (rc != STORE_OK) {
        api_problem(c, 503, "Service Unavailable", "the change could not be stored; retry");
        return;
    }
    json_t *after = fw_view(row);
    api_audit(c, "firmware.update", "firmware", c->params[0], c->before, after);
    api_json(c, 200, after);
}

static void patch_before(void *p, store_err_t rc, json_t *row)
{
    patch_t *x = p;
    if (!x->c->req || rc != STORE_OK || !live(row)) {
        patched(x, rc == STORE_OK ? STORE_ERR_NOT_FOUND : rc, NULL);
        return;
    }
    x->c->before = fw_view(row);
    store_firmware_update(x->c->api->d.store, x->id, x->fields, patched, x);
}

void api_firmware_patch(api_call_t *c)
{
    int64_t id;
    if (!repo_ok(c) || !path_id(c, &id)) return;
    json_t *fields = json_object();
    if (!patch_fields(c, fields)) {
        json_decref(fields);
        return;
    }
    patch_t *x = xcalloc(1, sizeof *x);
    x->c = c;
    x->fields = fields;
    x->id = id;
    api_hold(c);
    store_firmware_get(c->api->d.store, id, patch_before, x);
}

static void deleted(void *p, store_err_t rc, json_t *res)
{
    api_call_t *c = p;
    if (rc == STORE_OK && json_integer_value(json_object_get(res, "still_used")) == 0) {
        char path[700];
        firmware_repo_image_path(c->api->d.firmware,
                                 json_string_value(json_object_get(res, "sha256")), path,
                                 sizeof path);
        unlink(path);
    }
    if (!api_alive(c)) return;
    if (rc == STORE_ERR_NOT_FOUND) {
        api_problem(c, 404, "Not Found", "no firmware image %s", c->params[0]);
    } else if (rc == STORE_ERR_CONFLICT) {
        api_problem(c, 409, "Conflict",
                    "firmware image %s is used by a firmware campaign; delete or finish the "
                    "campaign first",
                    c->params[0]);
    } else if (rc != STORE_OK) {
        api_problem(c, 503, "Service Unavailable", "the change could not be stored; retry");
    } else {
        api_audit(c, "firmware.delete", "firmware", c->params[0], NULL, NULL);
        api_no_content(c);
    }
}

void api_firmware_delete(api_call_t *c)
{
    int64_t id;
    if (!repo_ok(c) || !path_id(c, &id)) return;
    api_hold(c);
    store_firmware_delete(c->api->d.store, id, time_now_ms(), deleted, c);
}
