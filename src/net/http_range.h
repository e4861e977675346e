/*
 * The HTTP Range request header (RFC 9110 section 14), reduced to what file
 * downloads need: one byte range. Stations resume interrupted firmware
 * downloads with "bytes=N-"; anything this parser does not understand is
 * ignored (the whole file is sent), as the RFC allows.
 *
 * Pure and separate from net.c so it can be tested with hostile headers.
 */
#ifndef AMPGRID_NET_HTTP_RANGE_H
#define AMPGRID_NET_HTTP_RANGE_H

#include <stdint.h>

typedef enum http_range_result {
    HTTP_RANGE_NONE,          /* no usable Range: answer 200 with the whole file */
    HTTP_RANGE_OK,            /* answer 206 with bytes first..last (inclusive) */
    HTTP_RANGE_UNSATISFIABLE, /* answer 416 with Content-Range: bytes * / size */
} http_range_result_t;

/* Parses `header` (NULL = absent) for a resource of `size` bytes. */
http_range_result_t http_range_parse(const char *header, uint64_t size, uint64_t *first,
                                     uint64_t *last);

#endif
