/*
 * Password hashing (argon2id through libsodium) and random secrets.
 *
 * Station passwords are verified on every reconnect. argon2id is deliberately
 * slow, so callers keep a verification cache (a keyed BLAKE2b of the last
 * verified password, see csms/auth.c) and only pay the argon2id cost once per
 * station per process lifetime or password change.
 */
#ifndef AMPGRID_UTIL_PASSWORD_H
#define AMPGRID_UTIL_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define PASSWORD_HASH_MAX 128

/* Must be called once before any other function here. Returns 0 on success. */
int password_init(void);
/* Writes an argon2id string into out (PASSWORD_HASH_MAX bytes). Returns 0 on success. */
int password_hash(const char *pw, unsigned long long opslimit, size_t memlimit, char *out);
/* Constant-time verification against an argon2id string. */
bool password_verify(const char *hash, const char *pw);
/* Keyed 32-byte digest with a per-process random key (for verification caches). */
void password_cache_digest(const char *pw, unsigned char out[32]);
bool password_digest_equal(const unsigned char a[32], const unsigned char b[32]);
/* Random lower-case hex string of 2*nbytes characters (out must hold 2*nbytes+1). */
void password_random_hex(size_t nbytes, char *out);
/* Hex SHA-256-class digest (BLAKE2b-256) of a high-entropy token, for API token storage. */
void password_token_digest(const char *token, char out[65]);

#endif
