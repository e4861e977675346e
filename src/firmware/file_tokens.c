/*
 * HMAC-SHA256 transfer tokens; see file_tokens.h. The MAC is compared in
 * constant time and checked before anything in the payload is believed.
 */
#include "firmware/file_tokens.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAC_BYTES crypto_auth_hmacsha256_BYTES
#define FIXED_BYTES (1 + 8 + 8 + 1) /* purpose, object id, expiry, station id length */
#define RAW_MAX (FIXED_BYTES + FILE_TOKEN_STATION_MAX + MAC_BYTES)

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8) p[i] = (unsigned char)(v & 0xff);
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | p[i];
    return v;
}

void file_tokens_init_key(file_tokens_t *t, const unsigned char key[FILE_TOKEN_KEY_BYTES])
{
    memcpy(t->key, key, FILE_TOKEN_KEY_BYTES);
}

static int read_key(file_tokens_t *t, const char *path, char *err, size_t err_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, err_len, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    ssize_t n = read(fd, t->key, sizeof t->key);
    close(fd);
    if (n != (ssize_t)sizeof t->key) {
        snprintf(err, err_len, "%s is damaged (expected %d bytes); delete it to make a new one "
                               "(outstanding transfer links stop working)",
                 path, FILE_TOKEN_KEY_BYTES);
        return -1;
    }
    return 0;
}

static int create_key(file_tokens_t *t, const char *path, char *err, size_t err_len)
{
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    randombytes_buf(t->key, sizeof t->key);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) goto fail;
    bool ok = write(fd, t->key, sizeof t->key) == (ssize_t)sizeof t->key && fsync(fd) == 0;
    close(fd);
    if (!ok || rename(tmp, path) != 0) goto fail;
    return 0;
fail:
    snprintf(err, err_len, "cannot create %s: %s", path, strerror(errno));
    unlink(tmp);
    return -1;
}

int file_tokens_load(file_tokens_t *t, const char *data_dir, char *err, size_t err_len)
{
    char path[560];
    if (snprintf(path, sizeof path, "%s/transfer.key", data_dir) >= (int)sizeof path) {
        snprintf(err, err_len, "data directory path too long");
        return -1;
    }
    struct stat st;
    if (stat(path, &st) == 0) return read_key(t, path, err, err_len);
    if (errno != ENOENT) {
        snprintf(err, err_len, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    return create_key(t, path, err, err_len);
}

int file_token_mint(const file_tokens_t *t, const file_token_claims_t *c, char *out,
                    size_t out_len)
{
    unsigned char raw[RAW_MAX];
    size_t sl = strlen(c->station_id);
    if (sl > FILE_TOKEN_STATION_MAX) return -1;
    raw[0] = (unsigned char)c->purpose;
    put_u64(raw + 1, (uint64_t)c->object_id);
    put_u64(raw + 9, (uint64_t)c->expires_at);
    raw[17] = (unsigned char)sl;
    memcpy(raw + FIXED_BYTES, c->station_id, sl);
    size_t plen = FIXED_BYTES + sl;
    crypto_auth_hmacsha256(raw + plen, raw, plen, t->key);
    size_t need = sodium_base64_ENCODED_LEN(plen + MAC_BYTES,
                                            sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (out_len < need) return -1;
    sodium_bin2base64(out, out_len, raw, plen + MAC_BYTES,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return 0;
}

file_token_err_t file_token_verify(const file_tokens_t *t, const char *token,
                                   file_token_purpose_t purpose, int64_t now,
                                   file_token_claims_t *c)
{
    unsigned char raw[RAW_MAX + 1];
    size_t len = 0;
    if (!token || strlen(token) >= FILE_TOKEN_MAX) return FILE_TOKEN_MALFORMED;
    if (sodium_base642bin(raw, sizeof raw, token, strlen(token), NULL, &len, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return FILE_TOKEN_MALFORMED;
    if (len < FIXED_BYTES + MAC_BYTES || len > RAW_MAX) return FILE_TOKEN_MALFORMED;
    size_t plen = len - MAC_BYTES;
    if (raw[17] != plen - FIXED_BYTES) return FILE_TOKEN_MALFORMED;
    if (crypto_auth_hmacsha256_verify(raw + plen, raw, plen, t->key) != 0)
        return FILE_TOKEN_BAD_MAC;
    memset(c, 0, sizeof *c);
    c->purpose = (file_token_purpose_t)raw[0];
    c->object_id = (int64_t)get_u64(raw + 1);
    c->expires_at = (int64_t)get_u64(raw + 9);
    memcpy(c->station_id, raw + FIXED_BYTES, raw[17]);
    c->station_id[raw[17]] = '\0';
    if (c->purpose != purpose) return FILE_TOKEN_WRONG_PURPOSE;
    if (c->expires_at <= now) return FILE_TOKEN_EXPIRED;
    return FILE_TOKEN_OK;
}

const char *file_token_err_str(file_token_err_t e)
{
    switch (e) {
    case FILE_TOKEN_OK: return "valid";
    case FILE_TOKEN_MALFORMED: return "the transfer token is malformed";
    case FILE_TOKEN_BAD_MAC: return "the transfer token is not one this server issued";
    case FILE_TOKEN_WRONG_PURPOSE: return "the transfer token is for another kind of transfer";
    case FILE_TOKEN_EXPIRED: return "the transfer token has expired";
    }
    return "invalid transfer token";
}
