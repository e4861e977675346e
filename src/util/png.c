/*
 * PNG encoder (see png.h). The format is a signature, then chunks of
 * length, type, data and CRC-32: IHDR (size, 8-bit RGB), one IDAT holding
 * the zlib-compressed rows (each prefixed by filter type 0, "none"), IEND.
 * zlib provides both the deflate stream and the CRC.
 */
#include "util/png.h"
#include "util/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
    p[3] = (uint8_t)v;
}

/* Appends one chunk at buf + *len (room is the caller's business). */
static void chunk(uint8_t *buf, size_t *len, const char type[4], const uint8_t *data, size_t n)
{
    uint8_t *p = buf + *len;
    put32(p, (uint32_t)n);
    memcpy(p + 4, type, 4);
    if (n) memcpy(p + 8, data, n);
    put32(p + 8 + n, (uint32_t)crc32(0L, p + 4, (uInt)(n + 4)));
    *len += n + 12;
}

int png_encode(const png_image_t *img, uint8_t **out, size_t *out_len)
{
    int rc = -1;
    uint8_t *raw = NULL, *buf = NULL;
    if (!img || img->width <= 0 || img->height <= 0 || !img->px) return -1;
    size_t stride = (size_t)img->width * 3, raw_len = (stride + 1) * (size_t)img->height;
    raw = xmalloc(raw_len);
    for (int y = 0; y < img->height; y++) {
        raw[y * (stride + 1)] = 0; /* filter: none */
        memcpy(raw + y * (stride + 1) + 1, img->px + y * stride, stride);
    }
    uLongf z_len = compressBound((uLong)raw_len);
    buf = xmalloc(8 + 25 + 12 + z_len + 12);
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memcpy(buf, sig, 8);
    size_t len = 8;
    uint8_t ihdr[13];
    put32(ihdr, (uint32_t)img->width);
    put32(ihdr + 4, (uint32_t)img->height);
    ihdr[8] = 8;  /* bit depth */
    ihdr[9] = 2;  /* colour type: RGB */
    ihdr[10] = 0; /* deflate */
    ihdr[11] = 0; /* adaptive filtering (each row says none) */
    ihdr[12] = 0; /* no interlace */
    chunk(buf, &len, "IHDR", ihdr, sizeof ihdr);
    /* compress straight into the IDAT chunk's data area */
    if (compress2(buf + len + 8, &z_len, raw, (uLong)raw_len, 9) != Z_OK) goto fail;
    {
        size_t at = len;
        put32(buf + at, (uint32_t)z_len);
        memcpy(buf + at + 4, "IDAT", 4);
        put32(buf + at + 8 + z_len, (uint32_t)crc32(0L, buf + at + 4, (uInt)(z_len + 4)));
        len += z_len + 12;
    }
    chunk(buf, &len, "IEND", NULL, 0);
    *out = buf;
    *out_len = len;
    buf = NULL;
    rc = 0;
fail:
    free(raw);
    free(buf);
    return rc;
}

int png_write_file(const png_image_t *img, const char *path)
{
    uint8_t *buf;
    size_t len;
    if (png_encode(img, &buf, &len)) return -1;
    FILE *f = fopen(path, "wb");
    int rc = -1;
    if (f) {
        rc = fwrite(buf, 1, len, f) == len ? 0 : -1;
        if (fclose(f)) rc = -1;
    }
    free(buf);
    return rc;
}
