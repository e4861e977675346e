/*
 * The firmware repository: images uploaded through the API, kept on disk
 * under the transfers storage directory, described by firmware_images rows,
 * and served to stations over HTTP(S) at URLs carrying a per-download token.
 *
 * Why stateless URLs: a campaign mints one URL per station and hands it to
 * UpdateFirmware; the token in it (HMAC over purpose, image, station and
 * expiry, see file_tokens.h) lets the download endpoint check it without a
 * table of issued links, and survives a restart because the secret lives in
 * the data directory.
 *
 * Table (the migration in store.c):
 *   firmware_images(id INTEGER PRIMARY KEY, version TEXT NOT NULL, vendor TEXT,
 *     models TEXT -- JSON array of strings --, filename TEXT NOT NULL, size INTEGER NOT NULL,
 *     sha256 TEXT NOT NULL -- lowercase hex --, signing_certificate TEXT, signature TEXT,
 *     created_at INTEGER NOT NULL, created_by TEXT, deleted_at INTEGER)
 */
#ifndef AMPGRID_FIRMWARE_FIRMWARE_REPO_H
#define AMPGRID_FIRMWARE_FIRMWARE_REPO_H

#include "firmware/file_tokens.h"

#include <stddef.h>
#include <stdint.h>

typedef struct firmware_repo firmware_repo_t;

typedef struct firmware_repo_config {
    const char *base_url;       /* what stations use to reach us, no trailing slash needed */
    const char *dir;            /* storage directory; images go to <dir>/firmware/<id> */
    int token_ttl;              /* seconds, for links minted without an explicit ttl */
    int64_t max_upload;         /* bytes */
    const file_tokens_t *tokens; /* borrowed; outlives the repo */
} firmware_repo_config_t;

/* Creates the storage directories. NULL with a message in err on failure. */
firmware_repo_t *firmware_repo_create(const firmware_repo_config_t *cfg, char *err,
                                      size_t err_len);
void firmware_repo_free(firmware_repo_t *repo);
const firmware_repo_config_t *firmware_repo_config(const firmware_repo_t *repo);
/* <dir>/firmware/<sha256>: images are stored by content, so a file is
 * durable in its place before its row exists, and identical uploads share it. */
void firmware_repo_image_path(const firmware_repo_t *repo, const char *sha256, char *out,
                              size_t out_len);
/* <dir>/tmp: where upload bodies are spooled (emptied at start). */
const char *firmware_repo_spool_dir(const firmware_repo_t *repo);

/* Writes an absolute URL a station can download image_id from, valid for ttl seconds and bound to
 * station_id, into out. base is the configured station-facing base URL. 0 on success, -1 if it does
 * not fit. Pure: does not check the image exists. */
int firmware_repo_download_url(const firmware_repo_t *repo, int64_t image_id, const char *filename,
                               const char *station_id, int ttl_seconds, char *out, size_t out_len);

#endif
