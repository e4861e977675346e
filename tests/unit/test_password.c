/*
 * Specification of password hashing and random secrets (src/util/password.c):
 * argon2id strings verify only their own password, cache digests compare equal
 * exactly for equal passwords, random secrets are lower-case hex of the asked
 * length, and API token digests are stable 64-character hex strings.
 *
 * argon2id runs with the smallest parameters libsodium allows (1 pass, 8 KiB)
 * so the tests stay fast; the parameters are recorded in the hash string.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/password.h"

#define OPS 1
#define MEM 8192

static bool is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
    return true;
}

static int init(void **state)
{
    return password_init();
}

static void hash_is_an_argon2id_string(void **state)
{
    char hash[PASSWORD_HASH_MAX];
    assert_int_equal(password_hash("correct horse battery", OPS, MEM, hash), 0);
    assert_true(strncmp(hash, "$argon2id$", 10) == 0);
    assert_non_null(strstr(hash, "m=8,t=1"));
    assert_true(strlen(hash) < PASSWORD_HASH_MAX);
}

static void hash_verifies_its_own_password(void **state)
{
    char hash[PASSWORD_HASH_MAX];
    assert_int_equal(password_hash("correct horse battery", OPS, MEM, hash), 0);
    assert_true(password_verify(hash, "correct horse battery"));
}

static void hash_refuses_a_wrong_password(void **state)
{
    char hash[PASSWORD_HASH_MAX];
    assert_int_equal(password_hash("correct horse battery", OPS, MEM, hash), 0);
    assert_false(password_verify(hash, "correct horse batterY"));
    assert_false(password_verify(hash, "correct horse battery "));
    assert_false(password_verify(hash, "correct horse"));
    assert_false(password_verify(hash, ""));
}

static void hashes_of_the_same_password_differ_by_salt(void **state)
{
    char a[PASSWORD_HASH_MAX], b[PASSWORD_HASH_MAX];
    assert_int_equal(password_hash("same password here", OPS, MEM, a), 0);
    assert_int_equal(password_hash("same password here", OPS, MEM, b), 0);
    assert_string_not_equal(a, b);
    assert_true(password_verify(a, "same password here"));
    assert_true(password_verify(b, "same password here"));
}

static void hash_refuses_parameters_below_the_minimum(void **state)
{
    char hash[PASSWORD_HASH_MAX];
    assert_int_equal(password_hash("pw", 0, MEM, hash), -1);
    assert_int_equal(password_hash("pw", OPS, 1024, hash), -1);
}

static void verify_refuses_missing_or_malformed_hashes(void **state)
{
    assert_false(password_verify(NULL, "pw"));
    assert_false(password_verify("$argon2id$v=19$m=8,t=1,p=1$garbage", "pw"));
    assert_false(password_verify("", ""));
    char hash[PASSWORD_HASH_MAX];
    assert_int_equal(password_hash("pw", OPS, MEM, hash), 0);
    assert_false(password_verify(hash, NULL));
}

static void cache_digests_of_equal_passwords_are_equal(void **state)
{
    unsigned char a[32], b[32];
    password_cache_digest("station secret 0001", a);
    password_cache_digest("station secret 0001", b);
    assert_true(password_digest_equal(a, b));
}

static void cache_digests_of_different_passwords_differ(void **state)
{
    unsigned char a[32], b[32], c[32];
    password_cache_digest("station secret 0001", a);
    password_cache_digest("station secret 0002", b);
    password_cache_digest("", c);
    assert_false(password_digest_equal(a, b));
    assert_false(password_digest_equal(a, c));
}

static void cache_digests_are_keyed_not_plain_hashes(void **state)
{
    /* With a per-process key the digest is not the unkeyed BLAKE2b of the password. */
    unsigned char d[32];
    char keyed[65], plain[65];
    password_cache_digest("abc", d);
    for (int i = 0; i < 32; i++)
        snprintf(keyed + 2 * i, 3, "%02x", d[i]);
    password_token_digest("abc", plain);
    assert_string_not_equal(keyed, plain);
}

static void random_hex_has_twice_the_bytes_in_lower_case_hex(void **state)
{
    static const size_t sizes[] = {1, 8, 16, 20, 32};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char out[2 * 32 + 2];
        memset(out, 'X', sizeof out);
        password_random_hex(sizes[i], out);
        assert_int_equal(strlen(out), 2 * sizes[i]);
        assert_true(is_lower_hex(out, 2 * sizes[i]));
        assert_int_equal(out[2 * sizes[i] + 1], 'X'); /* nothing written past the NUL */
    }
}

static void random_hex_differs_between_calls(void **state)
{
    char a[41], b[41];
    password_random_hex(20, a);
    password_random_hex(20, b);
    assert_string_not_equal(a, b);
}

static void token_digest_is_64_lower_case_hex_characters(void **state)
{
    char out[65];
    password_token_digest("agt_0123456789abcdef", out);
    assert_int_equal(strlen(out), 64);
    assert_true(is_lower_hex(out, 64));
}

static void token_digest_is_stable_unkeyed_blake2b_256(void **state)
{
    char a[65], b[65];
    password_token_digest("abc", a);
    password_token_digest("abc", b);
    assert_string_equal(a, b);
    /* RFC 7693 BLAKE2b with a 32-byte output: a database written by one process must
     * be readable by the next. */
    assert_string_equal(a, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}

static void token_digests_of_different_tokens_differ(void **state)
{
    char a[65], b[65];
    password_token_digest("token-a", a);
    password_token_digest("token-b", b);
    assert_string_not_equal(a, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hash_is_an_argon2id_string),
        cmocka_unit_test(hash_verifies_its_own_password),
        cmocka_unit_test(hash_refuses_a_wrong_password),
        cmocka_unit_test(hashes_of_the_same_password_differ_by_salt),
        cmocka_unit_test(hash_refuses_parameters_below_the_minimum),
        cmocka_unit_test(verify_refuses_missing_or_malformed_hashes),
        cmocka_unit_test(cache_digests_of_equal_passwords_are_equal),
        cmocka_unit_test(cache_digests_of_different_passwords_differ),
        cmocka_unit_test(cache_digests_are_keyed_not_plain_hashes),
        cmocka_unit_test(random_hex_has_twice_the_bytes_in_lower_case_hex),
        cmocka_unit_test(random_hex_differs_between_calls),
        cmocka_unit_test(token_digest_is_64_lower_case_hex_characters),
        cmocka_unit_test(token_digest_is_stable_unkeyed_blake2b_256),
        cmocka_unit_test(token_digests_of_different_tokens_differ),
    };
    return cmocka_run_group_tests_name("passwords and secrets", tests, init, NULL);
}
