/* Durable placement of uploaded files on the thread pool; see file_commit.h. */
#include "firmware/file_commit.h"

#include "util/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

typedef struct commit_job {
    uv_work_t work;
    char *src, *dst, *boundary;
    file_commit_cb cb;
    void *ctx;
    file_commit_result_t r;
} commit_job_t;

static void fail(commit_job_t *j, int status, const char *what)
{
    j->r.rc = -1;
    j->r.http_status = status;
    snprintf(j->r.err, sizeof j->r.err, "%s", what);
}

static int fsync_dir_of(const char *path)
{
    char *copy = xstrdup(path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static const unsigned char *find(const unsigned char *hay, size_t len, const char *needle,
                                 size_t nlen)
{
    return memmem(hay, len, needle, nlen);
}

/* The filename="..." of a part's headers, "" when none; false when there is no filename. */
static bool part_filename(const unsigned char *h, size_t len, char *out, size_t out_len)
{
    const unsigned char *p = find(h, len, "filename=", 9);
    if (!p) return false;
    p += 9;
    size_t left = len - (size_t)(p - h), n = 0;
    bool quoted = left > 0 && *p == '"';
    if (quoted) p++, left--;
    while (n < left && (quoted ? p[n] != '"' : (p[n] != ';' && p[n] != '\r'))) n++;
    if (n >= out_len) n = out_len - 1;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

int file_commit_multipart_find(const unsigned char *body, size_t len, const char *boundary,
                               size_t *data_off, size_t *data_len, char *filename,
                               size_t filename_len)
{
    char delim[120];
    int dl = snprintf(delim, sizeof delim, "--%s", boundary);
    if (dl < 3 || (size_t)dl >= sizeof delim) return -1;
    const unsigned char *end = body + len;
    const unsigned char *p = find(body, len, delim, (size_t)dl);
    while (p) {
        p += dl;
        if (end - p >= 2 && p[0] == '-' && p[1] == '-') return -1; /* the closing delimiter */
        const unsigned char *hdr_end = find(p, (size_t)(end - p), "\r\n\r\n", 4);
        if (!hdr_end) return -1;
        const unsigned char *data = hdr_end + 4;
        char close[124];
        int cl = snprintf(close, sizeof close, "\r\n%s", delim);
        const unsigned char *next = find(data, (size_t)(end - data), close, (size_t)cl);
        if (!next) return -1;
        if (part_filename(p, (size_t)(hdr_end - p), filename, filename_len)) {
            *data_off = (size_t)(data - body);
            *data_len = (size_t)(next - data);
            return 0;
        }
        p = next + 2;
    }
    return -1;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n > (1u << 20) ? (1u << 20) : n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void extract(commit_job_t *j)
{
    int in = open(j->src, O_RDONLY | O_CLOEXEC), out = -1;
    struct stat st;
    void *map = MAP_FAILED;
    char tmp[700];
    snprintf(tmp, sizeof tmp, "%s.part", j->dst);
    if (in < 0 || fstat(in, &st) != 0) goto io;
    if (st.st_size == 0) {
        fail(j, 400, "the multipart/form-data body is empty");
        goto done;
    }
    map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, in, 0);
    if (map == MAP_FAILED) goto io;
    size_t off, n;
    if (file_commit_multipart_find(map, (size_t)st.st_size, j->boundary, &off, &n,
                                   j->r.part_filename, sizeof j->r.part_filename) != 0) {
        fail(j, 400, "the multipart/form-data body has no file part");
        goto done;
    }
    out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0 || write_all(out, (const unsigned char *)map + off, n) != 0 || fsync(out) != 0)
        goto io;
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, (const unsigned char *)map + off, n);
    sodium_bin2hex(j->r.sha256, sizeof j->r.sha256, digest, sizeof digest);
    j->r.size = n;
    close(out);
    out = -1;
    if (rename(tmp, j->dst) != 0 || fsync_dir_of(j->dst) != 0) goto io;
    goto done;
io:
    fail(j, 503, strerror(errno));
    unlink(tmp);
done:
    if (map != MAP_FAILED) munmap(map, (size_t)st.st_size);
    if (out >= 0) close(out);
    if (in >= 0) close(in);
    unlink(j->src);
}

static void move(commit_job_t *j)
{
    int fd = open(j->src, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0 || rename(j->src, j->dst) != 0 || fsync_dir_of(j->dst) != 0) {
        fail(j, 503, strerror(errno));
        unlink(j->src);
    }
    if (fd >= 0) close(fd);
}

static void work_cb(uv_work_t *w)
{
    commit_job_t *j = w->data;
    if (j->boundary) extract(j);
    else move(j);
}

static void after_cb(uv_work_t *w, int status)
{
    commit_job_t *j = w->data;
    if (status != 0 && j->r.rc == 0) fail(j, 503, "cancelled");
    j->cb(j->ctx, &j->r);
    free(j->src);
    free(j->dst);
    free(j->boundary);
    free(j);
}

void file_commit(uv_loop_t *loop, const char *src, const char *dst, const char *boundary,
                 uint64_t size, const char *sha256, file_commit_cb cb, void *ctx)
{
    commit_job_t *j = xcalloc(1, sizeof *j);
    j->work.data = j;
    j->src = xstrdup(src);
    j->dst = xstrdup(dst);
    j->boundary = xstrdup_opt(boundary);
    j->cb = cb;
    j->ctx = ctx;
    j->r.size = size;
    snprintf(j->r.sha256, sizeof j->r.sha256, "%s", sha256 ? sha256 : "");
    if (uv_queue_work(loop, &j->work, work_cb, after_cb) != 0) {
        work_cb(&j->work);
        after_cb(&j->work, 0);
    }
}
