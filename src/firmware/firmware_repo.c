/*
 * The firmware repository's files and station links; see firmware_repo.h.
 * The rows live in the store (store/store_files.c), the HTTP side in
 * api/firmware.c and api/transfers.c.
 */
#include "firmware/firmware_repo.h"

#include "util/alloc.h"

#include <dirent.h>
#include <errno.h>
#include <unistd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct firmware_repo {
    firmware_repo_config_t cfg;
    char *base_url, *dir, *spool;
};

static int make_dir(const char *path, char *err, size_t err_len)
{
    if (mkdir(path, 0700) == 0 || errno == EEXIST) return 0;
    snprintf(err, err_len, "cannot create directory %s: %s", path, strerror(errno));
    return -1;
}

/* Spooled bodies left by a crash are never finished: remove them. */
static void clean_spool(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[1200];
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    closedir(d);
}

firmware_repo_t *firmware_repo_create(const firmware_repo_config_t *cfg, char *err,
                                      size_t err_len)
{
    char sub[700];
    if (make_dir(cfg->dir, err, err_len)) return NULL;
    snprintf(sub, sizeof sub, "%s/firmware", cfg->dir);
    if (make_dir(sub, err, err_len)) return NULL;
    snprintf(sub, sizeof sub, "%s/tmp", cfg->dir);
    if (make_dir(sub, err, err_len)) return NULL;
    clean_spool(sub);
    firmware_repo_t *r = xcalloc(1, sizeof *r);
    r->spool = xstrdup(sub);
    r->cfg = *cfg;
    r->base_url = xstrdup(cfg->base_url);
    size_t n = strlen(r->base_url);
    while (n > 0 && r->base_url[n - 1] == '/') r->base_url[--n] = '\0';
    r->dir = xstrdup(cfg->dir);
    r->cfg.base_url = r->base_url;
    r->cfg.dir = r->dir;
    return r;
}

void firmware_repo_free(firmware_repo_t *r)
{
    if (!r) return;
    free(r->base_url);
    free(r->dir);
    free(r->spool);
    free(r);
}

const firmware_repo_config_t *firmware_repo_config(const firmware_repo_t *r)
{
    return &r->cfg;
}

void firmware_repo_image_path(const firmware_repo_t *r, const char *sha256, char *out,
                              size_t out_len)
{
    snprintf(out, out_len, "%s/firmware/%s", r->dir, sha256);
}

const char *firmware_repo_spool_dir(const firmware_repo_t *r)
{
    return r->spool;
}



/* Percent-encodes a path segment; false when it does not fit. */
static bool encode_segment(const char *s, char *out, size_t out_len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || strchr("-._~", *p);
        if (o + (plain ? 1 : 3) >= out_len) return false;
        if (plain) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
    return true;
}

int firmware_repo_download_url(const firmware_repo_t *repo, int64_t image_id, const char *filename,
                               const char *station_id, int ttl_seconds, char *out, size_t out_len)
{
    file_token_claims_t c = {.purpose = FILE_TOKEN_FIRMWARE,
                             .object_id = image_id,
                             .expires_at = (int64_t)time(NULL) +
                                           (ttl_seconds > 0 ? ttl_seconds : repo->cfg.token_ttl)};
    char token[FILE_TOKEN_MAX], name[600];
    if (!station_id || strlen(station_id) > FILE_TOKEN_STATION_MAX) return -1;
    memcpy(c.station_id, station_id, strlen(station_id) + 1);
    if (file_token_mint(repo->cfg.tokens, &c, token, sizeof token) != 0) return -1;
    if (!encode_segment(filename && *filename ? filename : "firmware.bin", name, sizeof name))
        return -1;
    int n = snprintf(out, out_len, "%s/transfers/firmware/%s/%s", repo->base_url, token, name);
    return n < 0 || (size_t)n >= out_len ? -1 : 0;
}
