/*
 * Specification of the transfer tokens (src/firmware/file_tokens.c): a
 * minted token verifies to its claims; any altered byte, another key,
 * another purpose, an expired time or garbage is refused for the right
 * reason; the key file is created 0600 once and read back the same.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "firmware/file_tokens.h"

#define NOW 1800000000LL

static file_tokens_t keys(unsigned char fill)
{
    unsigned char k[FILE_TOKEN_KEY_BYTES];
    memset(k, fill, sizeof k);
    file_tokens_t t;
    file_tokens_init_key(&t, k);
    return t;
}

static void mint(const file_tokens_t *t, file_token_purpose_t p, int64_t id, const char *st,
                 int64_t exp, char *out)
{
    file_token_claims_t c = {.purpose = p, .object_id = id, .expires_at = exp};
    snprintf(c.station_id, sizeof c.station_id, "%s", st);
    assert_int_equal(file_token_mint(t, &c, out, FILE_TOKEN_MAX), 0);
}

static void round_trips_its_claims(void **state)
{
    file_tokens_t t = keys(7);
    char tok[FILE_TOKEN_MAX];
    mint(&t, FILE_TOKEN_FIRMWARE, 4242, "CP-001", NOW + 60, tok);
    assert_int_equal(strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                     strlen(tok));
    file_token_claims_t c;
    assert_int_equal(file_token_verify(&t, tok, FILE_TOKEN_FIRMWARE, NOW, &c), FILE_TOKEN_OK);
    assert_int_equal(c.object_id, 4242);
    assert_int_equal(c.expires_at, NOW + 60);
    assert_string_equal(c.station_id, "CP-001");
    assert_int_equal(c.purpose, FILE_TOKEN_FIRMWARE);
}

static void takes_the_longest_station_id(void **state)
{
    file_tokens_t t = keys(1);
    char id[FILE_TOKEN_STATION_MAX + 1], tok[FILE_TOKEN_MAX];
    memset(id, 'x', FILE_TOKEN_STATION_MAX);
    id[FILE_TOKEN_STATION_MAX] = '\0';
    mint(&t, FILE_TOKEN_DIAGNOSTICS, INT64_MAX, id, NOW + 1, tok);
    file_token_claims_t c;
    assert_int_equal(file_token_verify(&t, tok, FILE_TOKEN_DIAGNOSTICS, NOW, &c), FILE_TOKEN_OK);
    assert_string_equal(c.station_id, id);
    assert_int_equal(c.object_id, INT64_MAX);
    /* the full 48 bytes fit; a short output buffer is refused */
    file_token_claims_t big = {.purpose = FILE_TOKEN_FIRMWARE};
    memset(big.station_id, 'y', sizeof big.station_id);
    big.station_id[sizeof big.station_id - 1] = '\0';
    assert_int_equal(file_token_mint(&t, &big, tok, sizeof tok), 0); /* 48: fits */
    char small[20];
    assert_int_equal(file_token_mint(&t, &c, small, sizeof small), -1);
}

static void refuses_every_altered_character(void **state)
{
    file_tokens_t t = keys(3);
    char tok[FILE_TOKEN_MAX];
    mint(&t, FILE_TOKEN_FIRMWARE, 17, "CP-17", NOW + 60, tok);
    size_t n = strlen(tok);
    for (size_t i = 0; i < n; i++) {
        char bad[FILE_TOKEN_MAX];
        memcpy(bad, tok, n + 1);
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        file_token_claims_t c;
        file_token_err_t e = file_token_verify(&t, bad, FILE_TOKEN_FIRMWARE, NOW, &c);
        assert_true(e == FILE_TOKEN_BAD_MAC || e == FILE_TOKEN_MALFORMED);
    }
    /* cut short or lengthened */
    for (size_t len = 0; len < n; len++) {
        char cut[FILE_TOKEN_MAX];
        memcpy(cut, tok, len);
        cut[len] = '\0';
        file_token_claims_t c;
        assert_int_not_equal(file_token_verify(&t, cut, FILE_TOKEN_FIRMWARE, NOW, &c),
                             FILE_TOKEN_OK);
    }
    char longer[FILE_TOKEN_MAX + 8];
    snprintf(longer, sizeof longer, "%sAAAA", tok);
    file_token_claims_t c;
    assert_int_not_equal(file_token_verify(&t, longer, FILE_TOKEN_FIRMWARE, NOW, &c),
                         FILE_TOKEN_OK);
}

static void refuses_another_key(void **state)
{
    file_tokens_t a = keys(1), b = keys(2);
    char tok[FILE_TOKEN_MAX];
    mint(&a, FILE_TOKEN_FIRMWARE, 1, "CP", NOW + 60, tok);
    file_token_claims_t c;
    assert_int_equal(file_token_verify(&b, tok, FILE_TOKEN_FIRMWARE, NOW, &c), FILE_TOKEN_BAD_MAC);
}

static void refuses_another_purpose(void **state)
{
    file_tokens_t t = keys(5);
    char tok[FILE_TOKEN_MAX];
    mint(&t, FILE_TOKEN_DIAGNOSTICS, 9, "CP", NOW + 60, tok);
    file_token_claims_t c;
    assert_int_equal(file_token_verify(&t, tok, FILE_TOKEN_FIRMWARE, NOW, &c),
                     FILE_TOKEN_WRONG_PURPOSE);
    assert_int_equal(file_token_verify(&t, tok, FILE_TOKEN_DIAGNOSTICS, NOW, &c), FILE_TOKEN_OK);
}

static void expires_at_its_second(void **state)
{
    file_tokens_t t = keys(9);
    char tok[FILE_TOKEN_MAX];
    mint(&t, FILE_TOKEN_FIRMWARE, 9, "CP", NOW, tok);
    file_token_claims_t c;
    assert_int_equal(file_token_verify(&t, tok, FILE_TOKEN_FIRMWARE, NOW - 1, &c), FILE_TOKEN_OK);
    assert_int_equal(file_token_verify(&t, tok, FILE_TOKEN_FIRMWARE, NOW, &c), FILE_TOKEN_EXPIRED);
    assert_int_equal(file_token_verify(&t, tok, FILE_TOKEN_FIRMWARE, NOW + 86400, &c),
                     FILE_TOKEN_EXPIRED);
}

static void refuses_garbage(void **state)
{
    file_tokens_t t = keys(4);
    static const char *const junk[] = {"", "A", "====", "not a token", "%00%00",
                                       "////////////////////////////////////////////////////////",
                                       NULL};
    file_token_claims_t c;
    for (const char *const *j = junk; *j; j++)
        assert_int_equal(file_token_verify(&t, *j, FILE_TOKEN_FIRMWARE, NOW, &c),
                         FILE_TOKEN_MALFORMED);
    assert_int_equal(file_token_verify(&t, NULL, FILE_TOKEN_FIRMWARE, NOW, &c),
                     FILE_TOKEN_MALFORMED);
    /* a station-id length byte that disagrees with the size: a well-formed MAC over it
     * cannot be made without the key, and the length check comes first anyway */
    unsigned char raw[18 + 32] = {1};
    raw[17] = 5;
    char enc[100];
    sodium_bin2base64(enc, sizeof enc, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    assert_int_equal(file_token_verify(&t, enc, FILE_TOKEN_FIRMWARE, NOW, &c),
                     FILE_TOKEN_MALFORMED);
}

static void key_file_is_created_private_and_kept(void **state)
{
    char dir[] = "/tmp/ampgrid-tokens-XXXXXX";
    assert_non_null(mkdtemp(dir));
    file_tokens_t a, b;
    char err[200], path[300];
    assert_int_equal(file_tokens_load(&a, dir, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/transfer.key", dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, FILE_TOKEN_KEY_BYTES);
    assert_int_equal(file_tokens_load(&b, dir, err, sizeof err), 0);
    assert_memory_equal(a.key, b.key, FILE_TOKEN_KEY_BYTES);
    /* a token from before a "restart" still verifies */
    char tok[FILE_TOKEN_MAX];
    mint(&a, FILE_TOKEN_FIRMWARE, 3, "CP", NOW + 5, tok);
    file_token_claims_t c;
    assert_int_equal(file_token_verify(&b, tok, FILE_TOKEN_FIRMWARE, NOW, &c), FILE_TOKEN_OK);
    /* a damaged key file is an error, not a silent new key */
    FILE *f = fopen(path, "w");
    fputs("short", f);
    fclose(f);
    assert_int_equal(file_tokens_load(&b, dir, err, sizeof err), -1);
    assert_non_null(strstr(err, "damaged"));
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    assert_int_equal(sodium_init() >= 0, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trips_its_claims),
        cmocka_unit_test(takes_the_longest_station_id),
        cmocka_unit_test(refuses_every_altered_character),
        cmocka_unit_test(refuses_another_key),
        cmocka_unit_test(refuses_another_purpose),
        cmocka_unit_test(expires_at_its_second),
        cmocka_unit_test(refuses_garbage),
        cmocka_unit_test(key_file_is_created_private_and_kept),
    };
    return cmocka_run_group_tests_name("transfer tokens", tests, NULL, NULL);
}
