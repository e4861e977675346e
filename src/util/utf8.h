/* UTF-8 repair for text that quotes untrusted input (error details, logs). */
#ifndef AMPGRID_UTIL_UTF8_H
#define AMPGRID_UTIL_UTF8_H

/* Replaces every byte that is not part of a valid UTF-8 sequence with '?', in place
 * (this also mends a multi-byte character cut at a buffer limit). */
void utf8_sanitize(char *s);

#endif
