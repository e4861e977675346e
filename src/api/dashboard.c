/*
 * The operator dashboard's files: web/index.html, the web/app/ modules, web/app.css
 * and the vendor modules (preact + htm, uPlot) from web/node_modules, all
 * compiled into the binary (cmake/dashboard.cmake), so a server needs no files
 * beside it and serves exactly this fixed set. The dashboard routes with the
 * URL fragment (#/stations/CP-1), so no other path is ever needed.
 *
 * Every answer carries a strict Content-Security-Policy (scripts and styles
 * only from this origin, no inline script, no framing): the dashboard shows
 * strings that stations send (vendor, model, error info, data transfers), and
 * should an escaping mistake ever let markup through, the browser still runs
 * none of it. Files are revalidated by ETag; vendor files sit under versioned
 * paths and are cached for a year.
 */
#include "api/api_internal.h"

#include <stdio.h>
#include <string.h>

#define SECURITY_HEADERS                                                                           \
    "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self'; "           \
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "          \
    "form-action 'self'\r\n"                                                                       \
    "X-Content-Type-Options: nosniff\r\n"                                                          \
    "Referrer-Policy: same-origin\r\n"

/* The API's own paths: everything else belongs to the dashboard. */
static bool is_api_path(const char *path)
{
    return strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0 ||
           strcmp(path, "/healthz") == 0 || strcmp(path, "/metrics") == 0;
}

static const api_web_file_t *find_file(const char *path)
{
    if (strcmp(path, "/") == 0) path = "/index.html";
    for (const api_web_file_t *f = api_web_files; f->path; f++)
        if (strcmp(f->path, path) == 0) return f;
    return NULL;
}

/* If-None-Match holds one or more quoted tags ("a", W/"b") or "*". */
static bool etag_matches(const char *inm, const char *etag)
{
    return inm && (strstr(inm, etag) != NULL || strcmp(inm, "*") == 0);
}

static void problem(net_req_t *r, int status, const char *title, const char *detail,
                    const char *extra)
{
    char body[512], hdrs[512];
    json_t *p = json_pack("{s:s,s:s,s:i,s:s}", "type", "about:blank", "title", title, "status",
                          status, "detail", detail);
    char *s = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    snprintf(body, sizeof body, "%s", s ? s : "{}");
    free(s);
    snprintf(hdrs, sizeof hdrs, "%s%s", SECURITY_HEADERS, extra ? extra : "");
    net_req_respond(r, status, "application/problem+json", body, strlen(body), hdrs);
}

bool api_dashboard_request(api_t *a, net_req_t *r)
{
    const char *path = net_req_path(r), *method = net_req_method(r);
    if (is_api_path(path)) return false;
    const api_web_file_t *f = find_file(path);
    if (!f) {
        problem(r, 404, "Not Found",
                "no such file; the dashboard is at / and the API under /api/v1", NULL);
        return true;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        problem(r, 405, "Method Not Allowed", "the dashboard's files take GET and HEAD only",
                "Allow: GET, HEAD\r\n");
        return true;
    }
    char hdrs[768];
    snprintf(hdrs, sizeof hdrs, "%sETag: %s\r\nCache-Control: %s\r\n", SECURITY_HEADERS, f->etag,
             f->immutable ? "public, max-age=31536000, immutable" : "no-cache");
    if (etag_matches(net_req_header(r, "if-none-match"), f->etag)) {
        net_req_respond(r, 304, f->content_type, "", 0, hdrs);
        return true;
    }
    net_req_respond(r, 200, f->content_type, (const char *)f->data, f->len, hdrs);
    return true;
}
