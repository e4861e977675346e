/*
 * Stateless tokens for the station-facing file transfer URLs: firmware
 * downloads and diagnostics uploads.
 *
 * Why stateless: a token is HMAC-SHA256(secret, purpose | object id | expiry |
 * station id) appended to those fields, base64url-encoded, so the server can
 * check one without a table of issued links and a restart does not void the
 * links stations were already given. The secret is 32 random bytes in
 * <data-dir>/transfer.key, created 0600 on first start. One-time use (for
 * diagnostics uploads) is kept by the caller in the request's store row.
 */
#ifndef AMPGRID_FIRMWARE_FILE_TOKENS_H
#define AMPGRID_FIRMWARE_FILE_TOKENS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FILE_TOKEN_KEY_BYTES 32
#define FILE_TOKEN_STATION_MAX 48
/* Longest encoded token: ceil((1+8+8+1+48+32)*4/3) plus the terminator. */
#define FILE_TOKEN_MAX 136

typedef enum file_token_purpose {
    FILE_TOKEN_FIRMWARE = 1,    /* GET/HEAD /transfers/firmware/{token}/{filename} */
    FILE_TOKEN_DIAGNOSTICS = 2, /* PUT/POST /transfers/diagnostics/{token}[/{filename}] */
} file_token_purpose_t;

typedef enum file_token_err {
    FILE_TOKEN_OK = 0,
    FILE_TOKEN_MALFORMED,   /* not base64url, wrong length */
    FILE_TOKEN_BAD_MAC,     /* forged or altered */
    FILE_TOKEN_WRONG_PURPOSE,
    FILE_TOKEN_EXPIRED,
} file_token_err_t;

typedef struct file_tokens {
    unsigned char key[FILE_TOKEN_KEY_BYTES];
} file_tokens_t;

typedef struct file_token_claims {
    file_token_purpose_t purpose;
    int64_t object_id;
    int64_t expires_at; /* Unix seconds */
    char station_id[FILE_TOKEN_STATION_MAX + 1];
} file_token_claims_t;

/* Reads the secret from <data_dir>/transfer.key, creating it (0600) when it
 * does not exist. 0, or -1 with a message in err. */
int file_tokens_load(file_tokens_t *t, const char *data_dir, char *err, size_t err_len);
/* Uses a given key (tests). */
void file_tokens_init_key(file_tokens_t *t, const unsigned char key[FILE_TOKEN_KEY_BYTES]);

/* Writes the token for the claims into out (FILE_TOKEN_MAX bytes suffice).
 * -1 when station_id is too long or out too small. */
int file_token_mint(const file_tokens_t *t, const file_token_claims_t *claims, char *out,
                    size_t out_len);
/* Checks a token: its MAC, then that it is for `purpose` and not expired at
 * `now` (Unix seconds). Fills *claims when the MAC is good. */
file_token_err_t file_token_verify(const file_tokens_t *t, const char *token,
                                   file_token_purpose_t purpose, int64_t now,
                                   file_token_claims_t *claims);
const char *file_token_err_str(file_token_err_t e);

#endif
