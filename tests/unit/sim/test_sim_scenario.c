/* The scenario schedule and the command line, without a network. */
#include "sim/args.h"
#include "sim/scenario.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

static void ramp_spaces_starts_evenly(void **state)
{
    sim_config_t c;
    sim_config_defaults(&c);
    c.ramp_rate = 500;
    assert_int_equal(sim_scenario_ramp_at_ms(&c, 0), 0);
    assert_int_equal(sim_scenario_ramp_at_ms(&c, 500), 1000);
    assert_int_equal(sim_scenario_ramp_at_ms(&c, 1250), 2500);
    c.ramp_rate = 0; /* all at once */
    assert_int_equal(sim_scenario_ramp_at_ms(&c, 19999), 0);
}

static void day_profile_averages_one(void **state)
{
    double sum = 0;
    for (int h = 0; h < 24; h++)
        sum += sim_scenario_day_weight(h + 0.5);
    assert_true(sum / 24 > 0.999 && sum / 24 < 1.001);
    assert_true(sim_scenario_day_weight(18.5) >
                3 * sim_scenario_day_weight(3.5)); /* evening vs night */
}

static void idle_gaps_give_the_charging_share(void **state)
{
    sim_config_t c;
    sim_config_defaults(&c);
    c.stations = 1;
    c.scenario = SIM_SC_SESSIONS;
    c.charging = 0.3;
    c.session_s = 100;
    sim_transport_t tr = {0};
    sim_t *s = sim_create(&c, &tr);
    double idle = 0, busy = 0;
    for (int i = 0; i < 20000; i++) {
        idle += (double)sim_scenario_idle_ms(s);
        busy += (double)sim_scenario_session_ms(s);
    }
    double share = busy / (busy + idle);
    assert_true(share > 0.28 && share < 0.32);
    sim_free(s);
}

static void scenario_names_round_trip(void **state)
{
    for (int k = SIM_SC_CONNECT; k <= SIM_SC_MIXED; k++)
        assert_int_equal(sim_scenario_parse(sim_scenario_name((sim_scenario_kind_t)k)), k);
    assert_int_equal(sim_scenario_parse("nope"), -1);
}

static int parse(sim_config_t *c, char *err, const char *a, const char *b, const char *d,
                 const char *e)
{
    char *argv[] = {"ampgrid-sim", (char *)a, (char *)b, (char *)d, (char *)e, NULL};
    int argc = 1;
    while (argv[argc])
        argc++;
    return sim_args_parse(argc, argv, c, err, 300);
}

static void command_line_parses_and_refuses(void **state)
{
    sim_config_t c;
    char err[300];
    assert_int_equal(parse(&c, err, "--url", "wss://localhost:9443/ocpp/", "--stations", "19000"),
                     SIM_ARGS_OK);
    assert_true(c.tls);
    assert_string_equal(c.host, "127.0.0.1");
    assert_int_equal(c.port, 9443);
    assert_string_equal(c.path, "/ocpp");
    assert_int_equal(c.stations, 19000);
    assert_true(c.tls_resume); /* stations resume their TLS sessions unless told not to */
    assert_int_equal(parse(&c, err, "--url", "wss://127.0.0.1:9443/ocpp", "--no-tls-resume", NULL),
                     SIM_ARGS_OK);
    assert_false(c.tls_resume);
    assert_int_equal(parse(&c, err, "--url", "ws://10.0.0.1:9000/ocpp", NULL, NULL),
                     SIM_ARGS_ERROR);
    assert_non_null(strstr(err, "loopback"));
    assert_int_equal(parse(&c, err, "--stations", "20001", NULL, NULL), SIM_ARGS_ERROR);
    assert_int_equal(parse(&c, err, "--password", "short", NULL, NULL), SIM_ARGS_ERROR);
    assert_int_equal(parse(&c, err, "--register", NULL, NULL, NULL), SIM_ARGS_ERROR);
    assert_int_equal(parse(&c, err, "--scenario", "throughput", "--inflight", "4"), SIM_ARGS_OK);
    assert_int_equal(c.scenario, SIM_SC_THROUGHPUT);
    assert_int_equal(c.inflight, 4);
}

static void source_addresses_expand(void **state)
{
    sim_config_t c;
    char err[200];
    sim_config_defaults(&c);
    assert_int_equal(sim_args_sources("127.0.0.1-127.0.0.8", &c, err, sizeof err), 0);
    assert_int_equal(c.nsources, 8);
    assert_string_equal(c.sources[7], "127.0.0.8");
    assert_int_equal(sim_args_sources("127.0.1.1,127.0.2.1", &c, err, sizeof err), 0);
    assert_int_equal(c.nsources, 2);
    assert_int_equal(sim_args_sources("192.168.0.1-192.168.0.2", &c, err, sizeof err), -1);
    assert_int_equal(sim_args_sources("127.0.0.1-127.1.0.1", &c, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ramp_spaces_starts_evenly),
        cmocka_unit_test(day_profile_averages_one),
        cmocka_unit_test(idle_gaps_give_the_charging_share),
        cmocka_unit_test(scenario_names_round_trip),
        cmocka_unit_test(command_line_parses_and_refuses),
        cmocka_unit_test(source_addresses_expand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
