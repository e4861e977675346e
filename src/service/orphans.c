/* The start-up sweep of leftover files; see orphans.h. */
#include "service/orphans.h"

#include "store/store_workorders.h"
#include "util/log.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Written once at start-up, before any other thread reads it. */
static uint64_t removed_total;

uint64_t orphans_removed_total(void)
{
    return removed_total;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n > k && strcmp(s + n - k, suffix) == 0;
}

/* Removes the regular files of dir that are half-written or, when keep is
 * given, not in it. Returns how many went. A missing directory has none. */
static int sweep_dir(const char *dir, const json_t *keep, const char *what)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    char path[1200];
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        bool partial = ends_with(e->d_name, ".part") || ends_with(e->d_name, ".tmp");
        bool unowned = keep && !json_object_get(keep, e->d_name);
        if (!partial && !unowned) continue;
        struct stat sb;
        int len = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (len < 0 || (size_t)len >= sizeof path) continue;
        if (lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) continue;
        if (unlink(path) != 0) {
            log_warn("leftover file not removed", "path=%s error=%s", path, strerror(errno));
            continue;
        }
        log_info("leftover file removed", "kind=%s reason=%s path=%s size=%lld", what,
                 partial ? "half-written" : "no row", path, (long long)sb.st_size);
        n++;
    }
    closedir(d);
    return n;
}

int orphans_sweep(store_t *store, const orphans_dirs_t *dirs, char *err, size_t err_len)
{
    json_t *files = NULL;
    if (dirs->attachments && store_attachment_files_sync(store, &files) != 0) {
        snprintf(err, err_len, "cannot read the work-order attachments from the database");
        return -1;
    }
    int n = 0;
    if (dirs->attachments) n += sweep_dir(dirs->attachments, files, "attachment");
    if (dirs->diagnostics) n += sweep_dir(dirs->diagnostics, NULL, "diagnostics");
    if (dirs->firmware) n += sweep_dir(dirs->firmware, NULL, "firmware");
    json_decref(files);
    removed_total += (uint64_t)n;
    if (n) log_info("leftover files removed", "count=%d", n);
    return n;
}
