/*
 * Specification of configuration handling (src/config.c): the defaults, the
 * INI file laid over them (every problem reported with the file, the line and
 * the option), and the range and combination checks run before start-up.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <unistd.h>

#include "config.h"

#define ERR_CAP 512

/* ---- helpers ----------------------------------------------------------------------------- */

typedef struct fixture {
    char dir[64];
    char path[128];
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (f == NULL) return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/ampgrid-config-XXXXXX");
    if (mkdtemp(f->dir) == NULL) return -1;
    snprintf(f->path, sizeof f->path, "%s/ampgrid.ini", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static const char *write_ini(void **state, const char *text)
{
    fixture_t *f = *state;
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    assert_int_equal(fputs(text, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
    return f->path;
}

/* Loads `text` over the defaults; expects failure with a message containing each needle. */
static void expect_load_error(void **state, const char *text, const char *n1, const char *n2,
                              const char *n3)
{
    config_t c;
    char err[ERR_CAP] = "";
    config_defaults(&c);
    const char *path = write_ini(state, text);
    if (config_load(&c, path, err, sizeof err) != -1) fail_msg("config_load accepted:\n%s", text);
    const char *needles[] = {path, n1, n2, n3};
    for (size_t i = 0; i < sizeof needles / sizeof needles[0]; i++)
        if (needles[i] != NULL && strstr(err, needles[i]) == NULL)
            fail_msg("error '%s' does not mention '%s'", err, needles[i]);
}

static void expect_invalid(const config_t *c, const char *needle)
{
    char err[ERR_CAP] = "";
    if (config_validate(c, err, sizeof err) != -1) fail_msg("config_validate accepted it");
    if (strstr(err, needle) == NULL) fail_msg("error '%s' does not mention '%s'", err, needle);
}

/* ---- defaults ---------------------------------------------------------------------------- */

static void defaults_listen_on_9000_and_8080_with_data_in_var(void **state)
{
    config_t c;
    memset(&c, 0x5a, sizeof c);
    config_defaults(&c);
    assert_int_equal(c.ocpp_port, 9000);
    assert_int_equal(c.http_port, 8080);
    assert_int_equal(c.tls_port, 0);
    assert_string_equal(c.data_dir, "var");
    assert_string_equal(c.bind, "0.0.0.0");
    assert_string_equal(c.log_level, "info");
    assert_string_equal(c.tls_cert_rsa, "");
    assert_false(c.auto_register);
    assert_true(c.sync_full);
}

static void defaults_pass_validation(void **state)
{
    config_t c;
    char err[ERR_CAP] = "";
    config_defaults(&c);
    assert_int_equal(config_validate(&c, err, sizeof err), 0);
}

/* ---- loading ----------------------------------------------------------------------------- */

static void load_sets_strings_integers_and_booleans(void **state)
{
    config_t c;
    char err[ERR_CAP] = "";
    config_defaults(&c);
    const char *path = write_ini(state, "; ampgrid test\n"
                                        "[server]\n"
                                        "data_dir = /srv/ampgrid\n"
                                        "ocpp_port = 9100\n"
                                        "http_port=0\n"
                                        "[ocpp]\n"
                                        "heartbeat_interval = 120\n"
                                        "auto_register = yes\n"
                                        "trace = off\n"
                                        "[security]\n"
                                        "auth_fail_limit = 5\n"
                                        "[store]\n"
                                        "synchronous_full = false\n"
                                        "[log]\n"
                                        "level = debug\n");
    if (config_load(&c, path, err, sizeof err) != 0) fail_msg("config_load failed: %s", err);
    assert_string_equal(c.data_dir, "/srv/ampgrid");
    assert_int_equal(c.ocpp_port, 9100);
    assert_int_equal(c.http_port, 0);
    assert_int_equal(c.heartbeat_interval, 120);
    assert_true(c.auto_register);
    assert_false(c.trace);
    assert_int_equal(c.auth_fail_limit, 5);
    assert_false(c.sync_full);
    assert_string_equal(c.log_level, "debug");
}

static void load_keeps_defaults_for_options_not_in_the_file(void **state)
{
    config_t c;
    char err[ERR_CAP] = "";
    config_defaults(&c);
    const char *path = write_ini(state, "[server]\nocpp_port = 9100\n");
    assert_int_equal(config_load(&c, path, err, sizeof err), 0);
    assert_int_equal(c.http_port, 8080);
    assert_string_equal(c.data_dir, "var");
    assert_int_equal(c.heartbeat_interval, 300);
}

static void load_of_an_empty_file_changes_nothing(void **state)
{
    config_t c, d;
    char err[ERR_CAP] = "";
    config_defaults(&c);
    config_defaults(&d);
    const char *path = write_ini(state, "");
    assert_int_equal(config_load(&c, path, err, sizeof err), 0);
    assert_memory_equal(&c, &d, sizeof c);
}

static void load_refuses_an_unknown_section_naming_it_and_the_line(void **state)
{
    expect_load_error(state, "[server]\nocpp_port = 9100\n[nosuch]\nkey = 1\n", "nosuch", "key",
                      "line 4");
}

static void load_refuses_an_unknown_key_naming_it_and_the_line(void **state)
{
    expect_load_error(state, "[server]\n\nocpp_port = 9100\nocpp_prot = 9101\n", "ocpp_prot",
                      "[server]", "line 4");
}

static void load_refuses_a_key_in_the_wrong_section(void **state)
{
    expect_load_error(state, "[ocpp]\nocpp_port = 9100\n", "ocpp_port", "[ocpp]", "line 2");
}

static void load_refuses_a_key_before_any_section(void **state)
{
    expect_load_error(state, "ocpp_port = 9100\n", "ocpp_port", "line 1", NULL);
}

static void load_refuses_a_bad_integer(void **state)
{
    expect_load_error(state, "[server]\nocpp_port = nine\n", "ocpp_port", "nine", "line 2");
    expect_load_error(state, "[server]\nocpp_port = 9000x\n", "ocpp_port", "9000x", "line 2");
    expect_load_error(state, "[server]\nocpp_port = 99999999999\n", "ocpp_port", "line 2", NULL);
    expect_load_error(state, "[server]\nocpp_port =\n", "ocpp_port", "line 2", NULL);
}

static void load_refuses_a_bad_boolean(void **state)
{
    expect_load_error(state, "[ocpp]\nauto_register = maybe\n", "auto_register", "maybe", "line 2");
    expect_load_error(state, "[ocpp]\nauto_register = 2\n", "auto_register", "line 2", NULL);
}

static void load_refuses_a_string_longer_than_its_field(void **state)
{
    char text[256];
    char level[40];
    memset(level, 'x', sizeof level - 1);
    level[sizeof level - 1] = '\0';
    snprintf(text, sizeof text, "[log]\nlevel = %s\n", level);
    expect_load_error(state, text, "level", "line 2", NULL);
}

static void load_refuses_a_line_that_is_not_key_value(void **state)
{
    expect_load_error(state, "[server]\nocpp_port 9100\n", "line 2", NULL, NULL);
}

static void load_reports_the_first_problem_with_its_own_line(void **state)
{
    /* Line and message must describe the same problem. */
    expect_load_error(state, "[server]\nbogus = 1\nocpp_port = nine\n", "bogus", "line 2", NULL);
}

static void load_refuses_a_missing_file_naming_it(void **state)
{
    config_t c;
    char err[ERR_CAP] = "";
    config_defaults(&c);
    assert_int_equal(config_load(&c, "/nonexistent/ampgrid.ini", err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/ampgrid.ini"));
}

/* ---- validation -------------------------------------------------------------------------- */

static void validate_refuses_a_tls_port_without_certificates(void **state)
{
    config_t c;
    config_defaults(&c);
    c.tls_port = 9443;
    expect_invalid(&c, "tls_port");
}

static void validate_accepts_a_tls_port_with_a_certificate_and_key(void **state)
{
    config_t c;
    char err[ERR_CAP] = "";
    config_defaults(&c);
    c.tls_port = 9443;
    snprintf(c.tls_cert_ecdsa, sizeof c.tls_cert_ecdsa, "/etc/ampgrid/ec.pem");
    snprintf(c.tls_key_ecdsa, sizeof c.tls_key_ecdsa, "/etc/ampgrid/ec.key");
    assert_int_equal(config_validate(&c, err, sizeof err), 0);
}

static void validate_refuses_a_certificate_without_its_key(void **state)
{
    config_t c;
    config_defaults(&c);
    c.tls_port = 9443;
    snprintf(c.tls_cert_rsa, sizeof c.tls_cert_rsa, "/etc/ampgrid/rsa.pem");
    expect_invalid(&c, "key");
}

static void validate_refuses_port_70000(void **state)
{
    config_t c;
    config_defaults(&c);
    c.ocpp_port = 70000;
    expect_invalid(&c, "ocpp_port = 70000");
    config_defaults(&c);
    c.http_port = 70000;
    expect_invalid(&c, "http_port = 70000");
    config_defaults(&c);
    c.tls_port = 70000;
    expect_invalid(&c, "tls_port = 70000");
    config_defaults(&c);
    c.http_port = -1;
    expect_invalid(&c, "65535");
}

static void validate_refuses_no_ocpp_listener(void **state)
{
    config_t c;
    config_defaults(&c);
    c.ocpp_port = 0;
    expect_invalid(&c, "ocpp_port");
}

static void validate_refuses_max_message_size_10(void **state)
{
    config_t c;
    config_defaults(&c);
    c.max_message_size = 10;
    expect_invalid(&c, "max_message_size");
}

static void validate_refuses_an_unknown_log_level(void **state)
{
    config_t c;
    config_defaults(&c);
    snprintf(c.log_level, sizeof c.log_level, "verbose");
    expect_invalid(&c, "log level");
}

static void validate_refuses_zero_intervals(void **state)
{
    config_t c;
    config_defaults(&c);
    c.heartbeat_interval = 0;
    expect_invalid(&c, "heartbeat_interval");
}

static void validate_refuses_password_parameters_below_libsodium_minimums(void **state)
{
    config_t c;
    config_defaults(&c);
    c.password_opslimit = 0;
    expect_invalid(&c, "password_opslimit");
    config_defaults(&c);
    c.password_memlimit_kib = 4;
    expect_invalid(&c, "password_memlimit_kib");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_listen_on_9000_and_8080_with_data_in_var),
        cmocka_unit_test(defaults_pass_validation),
        cmocka_unit_test_setup_teardown(load_sets_strings_integers_and_booleans, setup, teardown),
        cmocka_unit_test_setup_teardown(load_keeps_defaults_for_options_not_in_the_file, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(load_of_an_empty_file_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(load_refuses_an_unknown_section_naming_it_and_the_line,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(load_refuses_an_unknown_key_naming_it_and_the_line, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(load_refuses_a_key_in_the_wrong_section, setup, teardown),
        cmocka_unit_test_setup_teardown(load_refuses_a_key_before_any_section, setup, teardown),
        cmocka_unit_test_setup_teardown(load_refuses_a_bad_integer, setup, teardown),
        cmocka_unit_test_setup_teardown(load_refuses_a_bad_boolean, setup, teardown),
        cmocka_unit_test_setup_teardown(load_refuses_a_string_longer_than_its_field, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(load_refuses_a_line_that_is_not_key_value, setup, teardown),
        cmocka_unit_test_setup_teardown(load_reports_the_first_problem_with_its_own_line, setup,
                                        teardown),
        cmocka_unit_test(load_refuses_a_missing_file_naming_it),
        cmocka_unit_test(validate_refuses_a_tls_port_without_certificates),
        cmocka_unit_test(validate_accepts_a_tls_port_with_a_certificate_and_key),
        cmocka_unit_test(validate_refuses_a_certificate_without_its_key),
        cmocka_unit_test(validate_refuses_port_70000),
        cmocka_unit_test(validate_refuses_no_ocpp_listener),
        cmocka_unit_test(validate_refuses_max_message_size_10),
        cmocka_unit_test(validate_refuses_an_unknown_log_level),
        cmocka_unit_test(validate_refuses_zero_intervals),
        cmocka_unit_test(validate_refuses_password_parameters_below_libsodium_minimums),
    };
    return cmocka_run_group_tests_name("configuration", tests, NULL, NULL);
}
