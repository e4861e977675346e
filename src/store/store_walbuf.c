/*
 * A VFS that gathers the writes of a commit into the WAL into one.
 *
 * SQLite writes every WAL frame with two pwrite calls (a 24-byte header, then
 * the page), so a commit of 170 pages makes 340 system calls before its
 * fsync (this VFS: 16 of 64 KiB). Measured under a MeterValues load, those writes were a quarter of
 * the store writer's CPU and about a third of each commit's time, during
 * which every station waiting for that commit waits.
 *
 * This VFS wraps the default one. Every file but a WAL goes straight to the
 * default VFS (the wrapper hands it the same sqlite3_file, so no call passes
 * through here). A WAL file's writes that continue the previous one collect in
 * a buffer, which goes to the file in one write before anything that could
 * observe it: a sync, a read, a size query or truncation, a file control, a
 * write elsewhere, or closing.
 *
 * Why nothing acknowledged can be lost: with synchronous=FULL, SQLite syncs
 * the WAL at the end of every commit, before it publishes the commit in the
 * wal-index (where other connections learn of new frames) and before the
 * commit returns. The sync flushes the buffer first. Only frames of a commit
 * not yet synced wait in memory, and a crash loses those in any case. With
 * synchronous=NORMAL there is no such sync, so the store uses this VFS only
 * with FULL.
 */
#include "store/store_walbuf.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define BUF_CAP (1024 * 1024L) /* gathered before a write is forced */
/* The default VFS writes at most 128 KiB - 1 bytes per call (unix
 * seekAndWrite keeps the low 17 bits of the length): the buffer goes out in
 * pieces of this size. */
#define WRITE_MAX (64 * 1024)

typedef struct walbuf_file {
    sqlite3_file base;      /* pMethods = wal_methods */
    sqlite3_file *real;     /* the default VFS's file, in the same allocation */
    unsigned char *buf;     /* BUF_CAP bytes, made on the first write */
    sqlite3_int64 buf_off;  /* file offset of buf[0] */
    int buf_len;
} walbuf_file_t;

static sqlite3_vfs walbuf_vfs;

static int flush(walbuf_file_t *f)
{
    int rc = SQLITE_OK;
    for (int done = 0; done < f->buf_len && rc == SQLITE_OK; done += WRITE_MAX) {
        int n = f->buf_len - done < WRITE_MAX ? f->buf_len - done : WRITE_MAX;
        rc = f->real->pMethods->xWrite(f->real, f->buf + done, n, f->buf_off + done);
    }
    f->buf_len = 0; /* on failure SQLite rolls back; the frames are void */
    return rc;
}

static int wal_close(sqlite3_file *p)
{
    walbuf_file_t *f = (walbuf_file_t *)p;
    int rc = flush(f);
    int rc2 = f->real->pMethods->xClose(f->real);
    free(f->buf);
    f->buf = NULL;
    return rc != SQLITE_OK ? rc : rc2;
}

static int wal_read(sqlite3_file *p, void *out, int amt, sqlite3_int64 off)
{
    walbuf_file_t *f = (walbuf_file_t *)p;
    int rc = flush(f);
    if (rc != SQLITE_OK) return rc;
    return f->real->pMethods->xRead(f->real, out, amt, off);
}

static int wal_write(sqlite3_file *p, const void *data, int amt, sqlite3_int64 off)
{
    walbuf_file_t *f = (walbuf_file_t *)p;
    bool follows = f->buf_len > 0 && off == f->buf_off + f->buf_len;
    if (!follows || f->buf_len + amt > BUF_CAP) {
        int rc = flush(f);
        if (rc != SQLITE_OK) return rc;
    }
    if (amt > WRITE_MAX) return f->real->pMethods->xWrite(f->real, data, amt, off);
    if (!f->buf) {
        f->buf = malloc(BUF_CAP);
        if (!f->buf) return f->real->pMethods->xWrite(f->real, data, amt, off);
    }
    if (f->buf_len == 0) f->buf_off = off;
    memcpy(f->buf + f->buf_len, data, (size_t)amt);
    f->buf_len += amt;
    return SQLITE_OK;
}

static int wal_truncate(sqlite3_file *p, sqlite3_int64 size)
{
    walbuf_file_t *f = (walbuf_file_t *)p;
    int rc = flush(f);
    if (rc != SQLITE_OK) return rc;
    return f->real->pMethods->xTruncate(f->real, size);
}

static int wal_sync(sqlite3_file *p, int flags)
{
    walbuf_file_t *f = (walbuf_file_t *)p;
    int rc = flush(f);
    if (rc != SQLITE_OK) return rc;
    return f->real->pMethods->xSync(f->real, flags);
}

static int wal_file_size(sqlite3_file *p, sqlite3_int64 *size)
{
    walbuf_file_t *f = (walbuf_file_t *)p;
    int rc = flush(f);
    if (rc != SQLITE_OK) return rc;
    return f->real->pMethods->xFileSize(f->real, size);
}

static int wal_lock(sqlite3_file *p, int level)
{
    walbuf_file_t *f = (walbuf_file_t *)p;
    return f->real->pMethods->xLock(f->real, level);
}

static int wal_unlock(sqlite3_file *p, int level)
{
    walbuf_file_t *f = (walbuf_file_t *)p;
    return f->real->pMethods->xUnlock(f->real, level);
}

static int wal_check_reserved(sqlite3_file *p, int *out)
{
    walbuf_file_t *f = (walbuf_file_t *)p;
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int wal_file_control(sqlite3_file *p, int op, void *arg)
{
    walbuf_file_t *f = (walbuf_file_t *)p;
    int rc = flush(f);
    if (rc != SQLITE_OK) return rc;
    return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int wal_sector_size(sqlite3_file *p)
{
    walbuf_file_t *f = (walbuf_file_t *)p;
    return f->real->pMethods->xSectorSize(f->real);
}

static int wal_device_characteristics(sqlite3_file *p)
{
    walbuf_file_t *f = (walbuf_file_t *)p;
    return f->real->pMethods->xDeviceCharacteristics(f->real);
}

/* Version 1: a WAL file has no shared memory and is never memory-mapped. */
static const sqlite3_io_methods wal_methods = {
    .iVersion = 1,
    .xClose = wal_close,
    .xRead = wal_read,
    .xWrite = wal_write,
    .xTruncate = wal_truncate,
    .xSync = wal_sync,
    .xFileSize = wal_file_size,
    .xLock = wal_lock,
    .xUnlock = wal_unlock,
    .xCheckReservedLock = wal_check_reserved,
    .xFileControl = wal_file_control,
    .xSectorSize = wal_sector_size,
    .xDeviceCharacteristics = wal_device_characteristics,
};

static int vfs_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *p, int flags,
                    int *out_flags)
{
    sqlite3_vfs *real_vfs = vfs->pAppData;
    if (!(flags & SQLITE_OPEN_WAL)) /* the default VFS's file, as if opened there */
        return real_vfs->xOpen(real_vfs, name, p, flags, out_flags);
    walbuf_file_t *f = (walbuf_file_t *)p;
    memset(f, 0, sizeof *f);
    f->real = (sqlite3_file *)(f + 1);
    int rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
    /* On failure pMethods stays NULL, so SQLite does not call xClose. */
    if (rc == SQLITE_OK) f->base.pMethods = &wal_methods;
    return rc;
}

/* The rest of the VFS is the default one's. */
static int vfs_delete(sqlite3_vfs *v, const char *name, int sync_dir)
{
    sqlite3_vfs *r = v->pAppData;
    return r->xDelete(r, name, sync_dir);
}

static int vfs_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
    sqlite3_vfs *r = v->pAppData;
    return r->xAccess(r, name, flags, out);
}

static int vfs_full_pathname(sqlite3_vfs *v, const char *name, int n, char *out)
{
    sqlite3_vfs *r = v->pAppData;
    return r->xFullPathname(r, name, n, out);
}

static void *vfs_dlopen(sqlite3_vfs *v, const char *path)
{
    sqlite3_vfs *r = v->pAppData;
    return r->xDlOpen(r, path);
}

static void vfs_dlerror(sqlite3_vfs *v, int n, char *out)
{
    sqlite3_vfs *r = v->pAppData;
    r->xDlError(r, n, out);
}

static void (*vfs_dlsym(sqlite3_vfs *v, void *h, const char *sym))(void)
{
    sqlite3_vfs *r = v->pAppData;
    return r->xDlSym(r, h, sym);
}

static void vfs_dlclose(sqlite3_vfs *v, void *h)
{
    sqlite3_vfs *r = v->pAppData;
    r->xDlClose(r, h);
}

static int vfs_randomness(sqlite3_vfs *v, int n, char *out)
{
    sqlite3_vfs *r = v->pAppData;
    return r->xRandomness(r, n, out);
}

static int vfs_sleep(sqlite3_vfs *v, int us)
{
    sqlite3_vfs *r = v->pAppData;
    return r->xSleep(r, us);
}

static int vfs_current_time(sqlite3_vfs *v, double *out)
{
    sqlite3_vfs *r = v->pAppData;
    return r->xCurrentTime(r, out);
}

static int vfs_get_last_error(sqlite3_vfs *v, int n, char *out)
{
    sqlite3_vfs *r = v->pAppData;
    return r->xGetLastError ? r->xGetLastError(r, n, out) : 0;
}

static int vfs_current_time_int64(sqlite3_vfs *v, sqlite3_int64 *out)
{
    sqlite3_vfs *r = v->pAppData;
    return r->xCurrentTimeInt64(r, out);
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int register_rc = SQLITE_OK;

static void do_register(void)
{
    sqlite3_vfs *real = sqlite3_vfs_find(NULL);
    if (!real || real->iVersion < 2) {
        register_rc = SQLITE_ERROR;
        return;
    }
    walbuf_vfs = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)sizeof(walbuf_file_t) + real->szOsFile,
        .mxPathname = real->mxPathname,
        .zName = STORE_WALBUF_VFS,
        .pAppData = real,
        .xOpen = vfs_open,
        .xDelete = vfs_delete,
        .xAccess = vfs_access,
        .xFullPathname = vfs_full_pathname,
        .xDlOpen = vfs_dlopen,
        .xDlError = vfs_dlerror,
        .xDlSym = vfs_dlsym,
        .xDlClose = vfs_dlclose,
        .xRandomness = vfs_randomness,
        .xSleep = vfs_sleep,
        .xCurrentTime = vfs_current_time,
        .xGetLastError = vfs_get_last_error,
        .xCurrentTimeInt64 = vfs_current_time_int64,
    };
    register_rc = sqlite3_vfs_register(&walbuf_vfs, 0);
}

int store_walbuf_register(void)
{
    pthread_once(&once, do_register);
    return register_rc;
}
