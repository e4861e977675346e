/*
 * Makes an uploaded body durable in its final place, off the event loop: on
 * libuv's thread pool, either fsyncs the spooled file and renames it over
 * dst, or (multipart/form-data) copies the first file part out of it into
 * dst, hashing what it writes; then fsyncs dst's directory. Only after that
 * does the caller record the file in the store and answer 2xx, so an
 * acknowledged upload survives a crash.
 *
 * Why the thread pool: fsync of a freshly written image of hundreds of
 * megabytes can take seconds, which the loop serving every station cannot
 * spend.
 */
#ifndef AMPGRID_FIRMWARE_FILE_COMMIT_H
#define AMPGRID_FIRMWARE_FILE_COMMIT_H

#include <stddef.h>
#include <stdint.h>

typedef struct uv_loop_s uv_loop_t;

typedef struct file_commit_result {
    int rc;              /* 0, or -1 with err */
    int http_status;     /* for rc -1: 400 (bad multipart body) or 503 (disk trouble) */
    char err[200];
    uint64_t size;       /* of dst */
    char sha256[65];     /* of dst, lowercase hex; for a rename, as given */
    char part_filename[256]; /* multipart: the part's filename, "" when none */
} file_commit_result_t;

typedef void (*file_commit_cb)(void *ctx, const file_commit_result_t *r);

/* src: the spooled body; dst: the final path. boundary: the multipart
 * boundary, or NULL for a plain body (then sha256/size are the body's, as
 * net computed them while it arrived). src is gone afterwards either way. */
void file_commit(uv_loop_t *loop, const char *src, const char *dst, const char *boundary,
                 uint64_t size, const char *sha256, file_commit_cb cb, void *ctx);

/* The pure part, for tests: finds the first part with a filename in a
 * multipart body. 0 and the data's offset and length, or -1. */
int file_commit_multipart_find(const unsigned char *body, size_t len, const char *boundary,
                               size_t *data_off, size_t *data_len, char *filename,
                               size_t filename_len);

#endif
