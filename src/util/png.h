/*
 * A minimal PNG encoder: 8-bit RGB, no interlacing, one zlib stream. Enough
 * for the charts ampgrid draws itself (smart-sim's site load) without a
 * graphics library.
 */
#ifndef AMPGRID_UTIL_PNG_H
#define AMPGRID_UTIL_PNG_H

#include <stddef.h>
#include <stdint.h>

/* An RGB image, row-major, 3 bytes per pixel; the caller owns px. */
typedef struct png_image {
    int width, height;
    uint8_t *px;
} png_image_t;

/* Encodes img as PNG into a new buffer (*out, *out_len; caller frees *out).
 * Returns 0, or -1 when the image is empty or zlib fails. */
int png_encode(const png_image_t *img, uint8_t **out, size_t *out_len);

/* png_encode, written to path. Returns 0, or -1 (errno set on I/O errors). */
int png_write_file(const png_image_t *img, const char *path);

#endif
