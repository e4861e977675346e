/*
 * logfmt logging: one line per event, `ts=... level=info msg="..." key=value`.
 * Lines are easy to grep and parse by log shippers. Keys and values are given
 * pre-formatted by callers through log_kv() pairs in the format string.
 */
#ifndef AMPGRID_UTIL_LOG_H
#define AMPGRID_UTIL_LOG_H

#include <stdbool.h>

typedef enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level_t;

void log_set_level(log_level_t lvl);
/* Parses "debug", "info", "warn", "error"; returns false when unknown. */
bool log_parse_level(const char *s, log_level_t *out);
bool log_enabled(log_level_t lvl);

/* msg is quoted and escaped; fmt appends further " key=value" pairs (may be NULL). */
void log_emit(log_level_t lvl, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Buffered mode: info and debug lines wait in memory until log_flush() (or
 * until 32 KiB have collected); warnings and errors are written at once, after
 * what waits. The server turns it on for its event loop and flushes before
 * the loop waits; turning it off flushes. Off by default. */
void log_set_buffered(bool on);
void log_flush(void);

/* Writes `s` as a logfmt value (quoted and escaped when needed) into buf. */
const char *log_quote(const char *s, char *buf, unsigned len);

#define log_debug(msg, ...) do { if (log_enabled(LOG_DEBUG)) log_emit(LOG_DEBUG, msg, __VA_ARGS__); } while (0)
#define log_info(msg, ...) log_emit(LOG_INFO, msg, __VA_ARGS__)
#define log_warn(msg, ...) log_emit(LOG_WARN, msg, __VA_ARGS__)
#define log_error(msg, ...) log_emit(LOG_ERROR, msg, __VA_ARGS__)

#endif
