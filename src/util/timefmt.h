/*
 * Time as Unix milliseconds (UTC) inside ampgrid; RFC 3339 on the wire.
 * Stations send offsets and fractions; everything is normalised to UTC ms.
 */
#ifndef AMPGRID_UTIL_TIMEFMT_H
#define AMPGRID_UTIL_TIMEFMT_H

#include <stdbool.h>
#include <stdint.h>

#define TIME_RFC3339_LEN 32

int64_t time_now_ms(void);
/* Parses an RFC 3339 date-time (with Z or a numeric offset). */
bool time_parse_rfc3339(const char *s, int64_t *out_ms);
/* Writes "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf (TIME_RFC3339_LEN bytes); returns buf. */
char *time_format_rfc3339(int64_t ms, char *buf);

#endif
