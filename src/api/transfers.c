/*
 * The station-facing file transfer URLs, outside /api/v1 and its bearer
 * tokens: stations cannot hold API credentials, so each URL carries its own
 * token (firmware/file_tokens.h) naming what it is for, which object, which
 * station and until when.
 *
 *   GET/HEAD /transfers/firmware/{token}/{filename}   firmware image (Range)
 *   PUT/POST /transfers/diagnostics/{token}[/{name}]  diagnostics/log upload
 *
 * Bodies of uploads go to disk as they arrive (api_on_body tells net/), the
 * token having been checked on the headers alone; a diagnostics token works
 * once: the request's row is claimed before the file is placed and marked
 * used when it is recorded. Also served on the OCPP ports (net.c), so a
 * station using wss:// can download over https.
 */
#include "api/api_internal.h"

#include "firmware/file_commit.h"
#include "firmware/file_tokens.h"
#include "firmware/firmware_repo.h"
#include "service/diagnostics.h"
#include "store/store_files.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/timefmt.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define FW_PREFIX "/transfers/firmware/"
#define DIAG_PREFIX "/transfers/diagnostics/"

/* A request answered later: the close hook forgets it if the station leaves. */
typedef struct held {
    api_t *a;
    net_req_t *req;
    file_token_claims_t claims;
    char filename[256];
    char *boundary;
    int64_t id;
} held_t;

static void held_gone(net_req_t *r, void *ud)
{
    held_t *h = ud;
    h->req = NULL;
}

static held_t *hold(api_t *a, net_req_t *r, const file_token_claims_t *claims)
{
    held_t *h = xcalloc(1, sizeof *h);
    h->a = a;
    h->req = r;
    h->claims = *claims;
    net_req_on_close(r, held_gone, h);
    return h;
}

static void held_free(held_t *h)
{
    if (h->req) net_req_on_close(h->req, NULL, NULL);
    free(h->boundary);
    free(h);
}

static void clean_name(const char *in, char *out, size_t len);

static void problem(net_req_t *r, int status, const char *title, const char *detail)
{
    json_t *p = json_pack("{s:s,s:s,s:i,s:s}", "type", "about:blank", "title", title, "status",
                          status, "detail", detail);
    char *s = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    net_req_respond(r, status, "application/problem+json", s, strlen(s), NULL);
    free(s);
}

static const char *title_of(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 503: return "Service Unavailable";
    default: return "Error";
    }
}

/* The token segment after prefix, copied into out; the rest (after a '/') in *rest. */
static bool token_of(const char *path, const char *prefix, char *out, size_t len,
                     const char **rest)
{
    const char *t = path + strlen(prefix);
    size_t n = strcspn(t, "/");
    if (n == 0 || n >= len) return false;
    memcpy(out, t, n);
    out[n] = '\0';
    *rest = t[n] == '/' ? t + n + 1 : NULL;
    return true;
}

/* Checks the token of a /transfers/ path: 0 and the claims, or the HTTP status to refuse with. */
static int check_token(api_t *a, const char *path, file_token_purpose_t purpose,
                       file_token_claims_t *claims, const char **rest, char *msg, size_t msg_len)
{
    const char *prefix = purpose == FILE_TOKEN_FIRMWARE ? FW_PREFIX : DIAG_PREFIX;
    char token[FILE_TOKEN_MAX + 1];
    const file_tokens_t *keys =
        a->d.firmware ? firmware_repo_config(a->d.firmware)->tokens : NULL;
    if (!keys || !token_of(path, prefix, token, sizeof token, rest)) {
        snprintf(msg, msg_len, "no transfer at this address");
        return 404;
    }
    file_token_err_t e = file_token_verify(keys, token, purpose, (int64_t)time(NULL), claims);
    if (e != FILE_TOKEN_OK) {
        snprintf(msg, msg_len, "%s", file_token_err_str(e));
        return e == FILE_TOKEN_MALFORMED ? 404 : 403;
    }
    return 0;
}

/* --------------------------------------------------- body callback */

int api_on_body(void *ud, net_req_t *r, int64_t *limit, char *msg, size_t msg_len)
{
    api_t *a = ud;
    const char *path = net_req_path(r), *method = net_req_method(r);
    if (!a->d.firmware) return NET_BODY_BUFFER;
    *limit = firmware_repo_config(a->d.firmware)->max_upload;
    if (strcmp(path, "/api/v1/firmware") == 0 && strcmp(method, "POST") == 0) {
        /* credentials are checked after the body, but none at all need not wait */
        if (!net_req_header(r, "authorization") && !net_req_header(r, "cookie")) {
            snprintf(msg, msg_len, "send an API token (Authorization: Bearer <token>) or log in");
            return 401;
        }
        return NET_BODY_FILE;
    }
    if (strncmp(path, DIAG_PREFIX, strlen(DIAG_PREFIX)) == 0 &&
        (strcmp(method, "PUT") == 0 || strcmp(method, "POST") == 0)) {
        file_token_claims_t claims;
        const char *rest;
        int status = check_token(a, path, FILE_TOKEN_DIAGNOSTICS, &claims, &rest, msg, msg_len);
        return status ? status : NET_BODY_FILE;
    }
    return NET_BODY_BUFFER;
}

/* ---------------------------------------------------- firmware download */

static void firmware_found(void *p, store_err_t rc, json_t *row)
{
    held_t *h = p;
    if (!h->req) goto done;
    if (rc == STORE_ERR_NOT_FOUND ||
        (rc == STORE_OK && json_is_integer(json_object_get(row, "deleted_at")))) {
        problem(h->req, 404, "Not Found", "this firmware image has been deleted");
        goto done;
    }
    if (rc != STORE_OK) {
        problem(h->req, 503, "Service Unavailable", "the firmware image cannot be read; retry");
        goto done;
    }
    const char *sha = json_string_value(json_object_get(row, "sha256"));
    const char *fname = json_string_value(json_object_get(row, "filename"));
    char path[700], etag[80], hdr[400];
    firmware_repo_image_path(h->a->d.firmware, sha, path, sizeof path);
    snprintf(etag, sizeof etag, "\"%s\"", sha);
    snprintf(hdr, sizeof hdr, "Content-Disposition: attachment; filename=\"%s\"\r\n"
                              "Cache-Control: no-store\r\n", fname ? fname : "firmware.bin");
    net_req_t *r = h->req;
    net_req_on_close(r, NULL, NULL);
    h->req = NULL;
    if (!net_req_respond_file(r, path, "application/octet-stream", etag, hdr)) {
        log_error("firmware image file missing", "id=%lld path=%s", (long long)h->claims.object_id,
                  path);
        problem(r, 404, "Not Found", "the firmware image's file is missing on the server");
    }
done:
    held_free(h);
}

/* The station's HTTP Basic user, when it sent one: copied into out. */
static bool basic_user(net_req_t *r, char *out, size_t len)
{
    const char *h = net_req_header(r, "authorization");
    unsigned char raw[300];
    size_t n = 0;
    if (!h || strncasecmp(h, "Basic ", 6) != 0) return false;
    if (sodium_base642bin(raw, sizeof raw - 1, h + 6, strlen(h + 6), NULL, &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return false;
    raw[n] = '\0';
    char *colon = strchr((char *)raw, ':');
    if (!colon) return false;
    *colon = '\0';
    size_t ul = strlen((char *)raw);
    if (ul < len) memcpy(out, raw, ul + 1);
    else out[0] = '\0'; /* longer than any station id: matches none */
    sodium_memzero(raw, sizeof raw);
    return true;
}

static void firmware_download(api_t *a, net_req_t *r)
{
    const char *m = net_req_method(r), *rest;
    char msg[200], user[64];
    if (strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0) {
        static const char body[] =
            "{\"type\":\"about:blank\",\"title\":\"Method Not Allowed\",\"status\":405,"
            "\"detail\":\"firmware is downloaded with GET (or HEAD)\"}";
        net_req_respond(r, 405, "application/problem+json", body, strlen(body),
                        "Allow: GET, HEAD\r\n");
        return;
    }
    file_token_claims_t claims;
    int status = check_token(a, net_req_path(r), FILE_TOKEN_FIRMWARE, &claims, &rest, msg,
                             sizeof msg);
    if (status) {
        problem(r, status, title_of(status), msg);
        return;
    }
    /* bound to a station: one that no longer exists, or another one saying who it is, is refused */
    if (!csms_station_find(a->d.csms, claims.station_id) ||
        (basic_user(r, user, sizeof user) && strcmp(user, claims.station_id) != 0)) {
        problem(r, 403, "Forbidden", "this download link was issued to another station");
        return;
    }
    held_t *h = hold(a, r, &claims);
    store_firmware_get(a->d.store, claims.object_id, firmware_found, h);
}

/* ------------------------------------------------- diagnostics upload */

static void upload_recorded(void *p, store_err_t rc, json_t *row)
{
    held_t *h = p;
    if (rc == STORE_OK && h->a->d.diagnostics) diagnostics_publish(h->a->d.diagnostics, row);
    if (h->req) {
        if (rc == STORE_OK) {
            json_t *o = json_pack("{s:O,s:O,s:O,s:O}", "id", json_object_get(row, "id"),
                                  "file_name", json_object_get(row, "file_name"), "size",
                                  json_object_get(row, "size"), "sha256",
                                  json_object_get(row, "sha256"));
            char *s = json_dumps(o, JSON_COMPACT);
            json_decref(o);
            net_req_respond(h->req, 201, "application/json", s, strlen(s), NULL);
            free(s);
        } else if (rc == STORE_ERR_NOT_FOUND) {
            problem(h->req, 403, "Forbidden", "this upload link has been used already");
        } else {
            problem(h->req, 503, "Service Unavailable", "the upload could not be recorded; retry");
        }
    }
    held_free(h);
}

static void release_done(void *p, store_err_t rc, json_t *res)
{
    (void)p;
    (void)rc;
    (void)res;
}

static void upload_placed(void *p, const file_commit_result_t *r)
{
    held_t *h = p;
    if (r->rc != 0) {
        log_warn("diagnostics upload not stored", "id=%lld error=%s", (long long)h->id, r->err);
        store_diag_release(h->a->d.store, h->id, release_done, NULL);
        if (h->req) problem(h->req, r->http_status, title_of(r->http_status), r->err);
        held_free(h);
        return;
    }
    char name[256];
    clean_name(h->filename[0] ? h->filename : r->part_filename, name, sizeof name);
    if (!name[0]) snprintf(name, sizeof name, "diagnostics-%lld", (long long)h->id);
    store_diag_uploaded(h->a->d.store, h->id, name, (int64_t)r->size, r->sha256, time_now_ms(),
                        upload_recorded, h);
}

static void upload_claimed(void *p, store_err_t rc, json_t *row)
{
    held_t *h = p;
    if (!h->req) { /* gone meanwhile: give the link back */
        if (rc == STORE_OK) store_diag_release(h->a->d.store, h->id, release_done, NULL);
        held_free(h);
        return;
    }
    if (rc != STORE_OK) {
        if (rc == STORE_ERR_NOT_FOUND) /* used, or timed out meanwhile */
            problem(h->req, 403, "Forbidden", "this upload link has been used already or expired");
        else problem(h->req, 503, "Service Unavailable", "the upload could not be recorded; retry");
        held_free(h);
        return;
    }
    uint64_t size;
    const char *sha;
    const char *src = net_req_body_file(h->req, &size, &sha);
    char dst[700];
    diagnostics_file_path(h->a->d.diagnostics, h->id, dst, sizeof dst);
    net_req_body_file_keep(h->req); /* file_commit takes it */
    file_commit(h->a->loop, src, dst, h->boundary, size, sha, upload_placed, h);
}

static void upload_request_found(void *p, store_err_t rc, json_t *row)
{
    held_t *h = p;
    if (!h->req) goto done;
    if (rc != STORE_OK) {
        int status = rc == STORE_ERR_NOT_FOUND ? 404 : 503;
        problem(h->req, status, title_of(status),
                status == 404 ? "no such diagnostics request" : "the store failed; retry later");
        goto done;
    }
    const char *station = json_string_value(json_object_get(row, "station_id"));
    if (!station || strcmp(station, h->claims.station_id) != 0) {
        problem(h->req, 403, "Forbidden", "this upload link belongs to another station");
        goto done;
    }
    if (json_integer_value(json_object_get(row, "token_used")) != 0) {
        problem(h->req, 403, "Forbidden", "this upload link has been used already");
        goto done;
    }
    const char *status = json_string_value(json_object_get(row, "status"));
    if (status && strcmp(status, "timed_out") == 0) {
        problem(h->req, 410, "Gone",
                "this diagnostics request timed out ([transfers] diagnostics_timeout); the link "
                "is no longer accepted");
        goto done;
    }
    store_diag_claim(h->a->d.store, h->id, upload_claimed, h);
    return;
done:
    held_free(h);
}

/* The multipart boundary of a Content-Type, or NULL for another type. */
static char *multipart_boundary(const char *ct)
{
    if (!ct || strncasecmp(ct, "multipart/form-data", 19) != 0) return NULL;
    const char *b = strcasestr(ct, "boundary=");
    if (!b) return NULL;
    b += 9;
    bool quoted = *b == '"';
    if (quoted) b++;
    size_t n = strcspn(b, quoted ? "\"" : "; ");
    if (n == 0 || n > 70) return NULL;
    return xstrndup(b, n);
}

/* A file name from the URL: printable, no path separators, at most 200 bytes. */
static void clean_name(const char *in, char *out, size_t len)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)(in ? in : ""); *p && o + 1 < len && o < 200;
         p++)
        out[o++] = (*p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\' || *p == '"') ? '_' : (char)*p;
    out[o] = '\0';
    if (strcmp(out, ".") == 0 || strcmp(out, "..") == 0) out[0] = '\0';
}

static void diagnostics_upload(api_t *a, net_req_t *r)
{
    const char *m = net_req_method(r), *rest = NULL;
    char msg[200];
    if (strcmp(m, "PUT") != 0 && strcmp(m, "POST") != 0) {
        static const char body[] =
            "{\"type\":\"about:blank\",\"title\":\"Method Not Allowed\",\"status\":405,"
            "\"detail\":\"upload with PUT or POST\"}";
        net_req_respond(r, 405, "application/problem+json", body, strlen(body),
                        "Allow: PUT, POST\r\n");
        return;
    }
    file_token_claims_t claims;
    int status = check_token(a, net_req_path(r), FILE_TOKEN_DIAGNOSTICS, &claims, &rest, msg,
                             sizeof msg);
    if (status) {
        problem(r, status, title_of(status), msg);
        return;
    }
    if (!a->d.diagnostics || !net_req_body_file(r, NULL, NULL)) {
        problem(r, 503, "Service Unavailable", "uploads are not configured on this server");
        return;
    }
    held_t *h = hold(a, r, &claims);
    h->id = claims.object_id;
    clean_name(rest, h->filename, sizeof h->filename);
    const char *ct = net_req_header(r, "content-type");
    if (strcmp(m, "POST") == 0) h->boundary = multipart_boundary(ct);
    if (strcmp(m, "POST") == 0 && ct && strncasecmp(ct, "multipart/form-data", 19) == 0 &&
        !h->boundary) {
        problem(r, 400, "Bad Request", "a multipart/form-data upload needs a boundary");
        held_free(h);
        return;
    }
    store_diag_get(a->d.store, h->id, upload_request_found, h);
}

void api_transfers_request(api_t *a, net_req_t *r)
{
    const char *path = net_req_path(r);
    if (strncmp(path, FW_PREFIX, strlen(FW_PREFIX)) == 0) firmware_download(a, r);
    else if (strncmp(path, DIAG_PREFIX, strlen(DIAG_PREFIX)) == 0) diagnostics_upload(a, r);
    else problem(r, 404, "Not Found", "no transfer at this address");
}
