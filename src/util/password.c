/* argon2id hashing and random secrets through libsodium; see password.h. */
#include "util/password.h"

#include <sodium.h>
#include <string.h>

static unsigned char cache_key[crypto_generichash_KEYBYTES];

int password_init(void)
{
    if (sodium_init() < 0) return -1;
    randombytes_buf(cache_key, sizeof cache_key);
    return 0;
}

int password_hash(const char *pw, unsigned long long opslimit, size_t memlimit, char *out)
{
    char buf[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg(buf, pw, strlen(pw), opslimit, memlimit,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return -1;
    if (strlen(buf) >= PASSWORD_HASH_MAX) return -1;
    strcpy(out, buf);
    return 0;
}

bool password_verify(const char *hash, const char *pw)
{
    if (!hash || !pw) return false;
    return crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0;
}

void password_cache_digest(const char *pw, unsigned char out[32])
{
    crypto_generichash(out, 32, (const unsigned char *)pw, strlen(pw), cache_key,
                       sizeof cache_key);
}

bool password_digest_equal(const unsigned char a[32], const unsigned char b[32])
{
    return sodium_memcmp(a, b, 32) == 0;
}

void password_random_hex(size_t nbytes, char *out)
{
    unsigned char buf[64];
    if (nbytes > sizeof buf) nbytes = sizeof buf;
    randombytes_buf(buf, nbytes);
    sodium_bin2hex(out, nbytes * 2 + 1, buf, nbytes);
}

void password_token_digest(const char *token, char out[65])
{
    unsigned char d[32];
    crypto_generichash(d, sizeof d, (const unsigned char *)token, strlen(token), NULL, 0);
    sodium_bin2hex(out, 65, d, sizeof d);
}
