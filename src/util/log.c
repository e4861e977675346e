/* logfmt log lines on stderr; see log.h.
 *
 * Buffered mode (the server's event loop): a storm of 19,500 reconnecting
 * stations logs two info lines per station, and a write(2) per line was 2 %
 * of the server's CPU (and as many wakeups of whatever reads the pipe). Info
 * and debug lines then collect here and go out in one write when the loop
 * calls log_flush() before it next waits; warnings and errors go out at once,
 * after what is buffered, so the order of lines is kept. The writer thread
 * logs too: a mutex guards the buffer. */
#include "util/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static log_level_t g_level = LOG_INFO;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static bool g_buffered;
static char g_buf[32768];
static size_t g_len;
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

/* Writes what is buffered; the caller holds g_mu. */
static void flush_locked(void)
{
    if (g_len) fwrite(g_buf, 1, g_len, stderr);
    g_len = 0;
}

static void out(log_level_t lvl, const char *line, size_t len)
{
    pthread_mutex_lock(&g_mu);
    if (g_buffered && lvl < LOG_WARN && len <= sizeof g_buf) {
        if (g_len + len > sizeof g_buf) flush_locked();
        memcpy(g_buf + g_len, line, len);
        g_len += len;
    } else {
        flush_locked();
        fwrite(line, 1, len, stderr);
    }
    pthread_mutex_unlock(&g_mu);
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
    out(lvl, line, (size_t)n + 1);
}

void log_set_buffered(bool on)
{
    pthread_mutex_lock(&g_mu);
    g_buffered = on;
    if (!on) flush_locked();
    pthread_mutex_unlock(&g_mu);
}

void log_flush(void)
{
    pthread_mutex_lock(&g_mu);
    flush_locked();
    pthread_mutex_unlock(&g_mu);
}
