/* logfmt log lines on stderr; see log.h. */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static log_level_t g_level = LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(log_level_t lvl)
{
    g_level = lvl;
}

bool log_enabled(log_level_t lvl)
{
    return lvl >= g_level;
}

bool log_parse_level(const char *s, log_level_t *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (log_level_t)i;
            return true;
        }
    }
    return false;
}

const char *log_quote(const char *s, char *buf, unsigned len)
{
    unsigned o = 0;
    if (len < 3) return "";
    buf[o++] = '"';
    for (; s && *s && o + 3 < len; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)c;
        } else if (c == '\n') {
            buf[o++] = '\\';
            buf[o++] = 'n';
        } else if (c < 0x20) {
            buf[o++] = '?';
        } else {
            buf[o++] = (char)c;
        }
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}

void log_emit(log_level_t lvl, const char *msg, const char *fmt, ...)
{
    if (lvl < g_level) return;
    char line[4096], q[1024], ts[40];
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    int n = snprintf(line, sizeof line, "ts=%s.%03ldZ level=%s msg=%s", ts, now.tv_nsec / 1000000,
                     level_names[lvl], log_quote(msg, q, sizeof q));
    if (fmt && n > 0 && (size_t)n < sizeof line) {
        line[n++] = ' ';
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
        va_end(ap);
        if (m > 0) n += m;
    }
    if (n < 0) return;
    if ((size_t)n >= sizeof line) n = sizeof line - 1;
    line[n] = '\n';
    fwrite(line, 1, (size_t)n + 1, stderr);
}
