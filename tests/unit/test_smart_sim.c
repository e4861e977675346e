/*
 * Specification of the smart-sim day replay (src/smart/smart_sim.h) and of
 * the PNG encoder its chart uses (src/util/png.h): energy is conserved (each
 * session's energy adds up to the site's load over time), no limit is ever
 * exceeded (demand response included), the metrics follow their
 * definitions, a seed names a day exactly, bad price files and --dr specs
 * are refused, and the PNG files decode (chunk CRCs, IHDR, the inflated
 * rows are the pixels drawn).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "smart/sim_chart.h"
#include "smart/smart_sim.h"
#include "util/png.h"

static void check_result(const smart_sim_config_t *c, const smart_sim_result_t *r)
{
    double sum_sessions = 0, sum_load = 0, sx = 0, sxx = 0;
    assert_true(r->sessions > 0);
    for (int k = 0; k < r->sessions; k++) {
        assert_true(r->delivered_wh[k] >= 0);
        assert_true(r->delivered_wh[k] <= r->need_wh[k] + 1e-6);
        sum_sessions += r->delivered_wh[k];
        double x = r->delivered_wh[k] / r->need_wh[k];
        sx += x, sxx += x * x;
    }
    for (int s = 0; s < r->n_steps; s++) {
        sum_load += r->load_kw[s] * 1000 * r->step_s / 3600;
        assert_true(r->load_kw[s] <= r->limit_kw_t[s] + 1e-6);
        if (c->dr_kw >= 0) {
            int64_t tod = (int64_t)s * r->step_s % 86400;
            if (tod >= c->dr_start && tod < c->dr_end)
                assert_true(r->load_kw[s] <= c->dr_kw + 1e-6);
        }
    }
    /* conservation: what sessions got is what the site delivered */
    assert_true(fabs(sum_sessions - sum_load) < 1e-6 * sum_load + 1e-6);
    assert_true(fabs(sum_sessions / 1000 - r->delivered_kwh) < 1e-6 * r->delivered_kwh + 1e-9);
    assert_true(r->delivered_kwh <= r->requested_kwh + 1e-9);
    assert_true(r->peak_kw <= r->limit_kw + 1e-6);
    assert_true(r->min_margin_a >= -1e-6);
    assert_true(r->served >= 0 && r->served <= r->sessions);
    assert_true(fabs(r->jain - sx * sx / (r->sessions * sxx)) < 1e-9);
    assert_true(r->jain > 0 && r->jain <= 1 + 1e-12);
}

static void test_conservation_every_policy(void **state)
{
    smart_sim_config_t c;
    smart_sim_config_default(&c);
    c.seed = 7;
    char err[200] = "";
    assert_int_equal(smart_sim_dr_parse("17:00-19:00=80kW", &c, err, sizeof err), 0);
    for (int p = 0; p < SMART_SIM_N_POLICIES; p++) {
        smart_sim_result_t r;
        assert_int_equal(smart_sim_run(&c, (smart_sim_policy_t)p, &r, err, sizeof err), 0);
        check_result(&c, &r);
        assert_true(r.peak_dr_kw >= 0 && r.peak_dr_kw <= 80 + 1e-6);
        smart_sim_result_free(&r);
    }
}

/* A tight connection: the load reaches the limit and stays under it. */
static void test_tight_site_hits_but_never_exceeds_limit(void **state)
{
    smart_sim_config_t c;
    smart_sim_config_default(&c);
    c.grid_kw = 40;
    char err[200];
    for (int p = 0; p < SMART_SIM_N_POLICIES; p++) {
        smart_sim_result_t r;
        assert_int_equal(smart_sim_run(&c, (smart_sim_policy_t)p, &r, err, sizeof err), 0);
        check_result(&c, &r);
        assert_true(r.peak_kw > 0.9 * 40);
        assert_true(r.delivered_kwh < r.requested_kwh);
        smart_sim_result_free(&r);
    }
}

/* A flat price: the cost is the energy times the price. */
static void test_cost_under_flat_price(void **state)
{
    smart_sim_price_t *prices;
    char err[200];
    int n = smart_sim_prices_parse("time,price\n00:00,0.25\n", &prices, err, sizeof err);
    assert_int_equal(n, 1);
    smart_sim_config_t c;
    smart_sim_config_default(&c);
    c.prices = prices, c.n_prices = n;
    smart_sim_result_t r;
    assert_int_equal(smart_sim_run(&c, SMART_SIM_EQUAL, &r, err, sizeof err), 0);
    assert_true(fabs(r.cost - r.delivered_kwh * 0.25) < 1e-6);
    smart_sim_result_free(&r);
    free(prices);
}

/* Time of use moves energy to cheaper hours: lower average price paid. */
static void test_tou_pays_less_per_kwh(void **state)
{
    smart_sim_config_t c;
    smart_sim_config_default(&c);
    char err[200];
    smart_sim_result_t eq, tou;
    assert_int_equal(smart_sim_run(&c, SMART_SIM_EQUAL, &eq, err, sizeof err), 0);
    assert_int_equal(smart_sim_run(&c, SMART_SIM_TOU, &tou, err, sizeof err), 0);
    assert_true(tou.cost / tou.delivered_kwh < 0.9 * eq.cost / eq.delivered_kwh);
    smart_sim_result_free(&eq);
    smart_sim_result_free(&tou);
}

static void test_seed_names_the_day(void **state)
{
    smart_sim_config_t c;
    smart_sim_config_default(&c);
    char err[200];
    smart_sim_result_t a, b, d;
    assert_int_equal(smart_sim_run(&c, SMART_SIM_DEADLINE, &a, err, sizeof err), 0);
    assert_int_equal(smart_sim_run(&c, SMART_SIM_DEADLINE, &b, err, sizeof err), 0);
    c.seed = 2;
    assert_int_equal(smart_sim_run(&c, SMART_SIM_DEADLINE, &d, err, sizeof err), 0);
    assert_int_equal(a.sessions, b.sessions);
    assert_int_equal(a.n_steps, b.n_steps);
    assert_memory_equal(a.load_kw, b.load_kw, sizeof(double) * (size_t)a.n_steps);
    assert_true(a.sessions != d.sessions || a.requested_kwh != d.requested_kwh);
    smart_sim_result_free(&a);
    smart_sim_result_free(&b);
    smart_sim_result_free(&d);
}

static void test_bad_input_refused(void **state)
{
    smart_sim_config_t c;
    smart_sim_config_default(&c);
    char err[200];
    smart_sim_price_t *p = NULL;
    const char *bad_prices[] = {"",
                                "# nothing\n",
                                "00:00,0.1\n00:00,0.2\n",
                                "25:00,0.1\n",
                                "00:00;0.1\n",
                                "00:00,abc\n",
                                "00:00,0.1x\n"};
    for (size_t k = 0; k < sizeof bad_prices / sizeof bad_prices[0]; k++) {
        err[0] = 0;
        assert_int_equal(smart_sim_prices_parse(bad_prices[k], &p, err, sizeof err), -1);
        assert_true(err[0] != 0);
    }
    assert_int_equal(smart_sim_prices_parse("00:00,0.1\r\n07:30, 0.3\n", &p, err, sizeof err), 2);
    assert_int_equal(p[1].at, 7 * 3600 + 1800);
    free(p);
    const char *bad_dr[] = {"17:00-19:00",      "17:00=80kW",       "17-19=80kW",
                            "17:00-19:00=-5kW", "17:00-17:00=80kW", "17:00-19:00=80MW"};
    for (size_t k = 0; k < sizeof bad_dr / sizeof bad_dr[0]; k++)
        assert_int_equal(smart_sim_dr_parse(bad_dr[k], &c, err, sizeof err), -1);
    assert_true(c.dr_kw < 0); /* nothing applied */
    smart_sim_result_t r;
    c.n_evses = 0;
    assert_int_equal(smart_sim_run(&c, SMART_SIM_EQUAL, &r, err, sizeof err), -1);
    c.n_evses = 50, c.step_s = 7; /* must divide 900 */
    assert_int_equal(smart_sim_run(&c, SMART_SIM_EQUAL, &r, err, sizeof err), -1);
}

/* ---- PNG ---------------------------------------------------------------------------------- */

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Decodes what png_encode writes (RGB, filter 0 rows); returns the pixels. */
static uint8_t *decode(const uint8_t *buf, size_t len, int *w, int *h)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    assert_true(len > 8);
    assert_memory_equal(buf, sig, 8);
    uint8_t *idat = NULL, *px = NULL;
    size_t idat_len = 0, at = 8;
    bool end = false;
    while (!end) {
        assert_true(at + 12 <= len);
        uint32_t n = get32(buf + at);
        assert_true(at + 12 + n <= len);
        const uint8_t *type = buf + at + 4, *data = buf + at + 8;
        assert_int_equal(get32(data + n), (uint32_t)crc32(0L, type, n + 4));
        if (!memcmp(type, "IHDR", 4)) {
            assert_int_equal(n, 13);
            *w = (int)get32(data), *h = (int)get32(data + 4);
            assert_int_equal(data[8], 8);
            assert_int_equal(data[9], 2);
            assert_int_equal(data[12], 0);
        } else if (!memcmp(type, "IDAT", 4)) {
            idat = realloc(idat, idat_len + n);
            memcpy(idat + idat_len, data, n);
            idat_len += n;
        } else if (!memcmp(type, "IEND", 4)) {
            end = true;
        }
        at += 12 + n;
    }
    assert_int_equal(at, len);
    uLongf raw_len = (uLongf)(*w * 3 + 1) * (uLongf)*h;
    uint8_t *raw = malloc(raw_len);
    assert_int_equal(uncompress(raw, &raw_len, idat, (uLong)idat_len), Z_OK);
    assert_int_equal(raw_len, (uLongf)(*w * 3 + 1) * (uLongf)*h);
    px = malloc((size_t)*w * 3 * (size_t)*h);
    for (int y = 0; y < *h; y++) {
        assert_int_equal(raw[y * (*w * 3 + 1)], 0);
        memcpy(px + (size_t)y * *w * 3, raw + y * (*w * 3 + 1) + 1, (size_t)*w * 3);
    }
    free(raw);
    free(idat);
    return px;
}

static void test_png_round_trip(void **state)
{
    uint8_t px[4 * 3 * 3];
    for (size_t k = 0; k < sizeof px; k++)
        px[k] = (uint8_t)(k * 37 + 11);
    png_image_t img = {4, 3, px};
    uint8_t *buf;
    size_t len;
    assert_int_equal(png_encode(&img, &buf, &len), 0);
    int w, h;
    uint8_t *back = decode(buf, len, &w, &h);
    assert_int_equal(w, 4);
    assert_int_equal(h, 3);
    assert_memory_equal(back, px, sizeof px);
    free(back);
    free(buf);
    png_image_t empty = {0, 3, px};
    assert_int_equal(png_encode(&empty, &buf, &len), -1);
}

/* The chart file decodes, and its pixels are the rendering (lines drawn). */
static void test_chart_file_decodes(void **state)
{
    smart_sim_config_t c;
    smart_sim_config_default(&c);
    c.n_evses = 10, c.grid_kw = 30;
    char err[200], path[] = "/tmp/ampgrid-chart-XXXXXX";
    smart_sim_result_t r[2];
    assert_int_equal(smart_sim_run(&c, SMART_SIM_EQUAL, &r[0], err, sizeof err), 0);
    assert_int_equal(smart_sim_run(&c, SMART_SIM_TOU, &r[1], err, sizeof err), 0);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(sim_chart_write(r, 2, path), 0);
    FILE *f = fopen(path, "rb");
    static uint8_t buf[4 << 20];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    unlink(path);
    int w, h;
    uint8_t *px = decode(buf, len, &w, &h);
    png_image_t img;
    sim_chart_render(r, 2, &img);
    assert_int_equal(w, img.width);
    assert_int_equal(h, img.height);
    assert_memory_equal(px, img.px, (size_t)w * h * 3);
    size_t coloured = 0; /* the policy colours are on the canvas */
    unsigned want = sim_chart_colour(SMART_SIM_TOU);
    for (size_t k = 0; k < (size_t)w * h; k++)
        coloured += px[3 * k] == (want >> 16) && px[3 * k + 1] == ((want >> 8) & 0xff) &&
                    px[3 * k + 2] == (want & 0xff);
    assert_true(coloured > 500);
    free(px);
    free(img.px);
    smart_sim_result_free(&r[0]);
    smart_sim_result_free(&r[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conservation_every_policy),
        cmocka_unit_test(test_tight_site_hits_but_never_exceeds_limit),
        cmocka_unit_test(test_cost_under_flat_price),
        cmocka_unit_test(test_tou_pays_less_per_kwh),
        cmocka_unit_test(test_seed_names_the_day),
        cmocka_unit_test(test_bad_input_refused),
        cmocka_unit_test(test_png_round_trip),
        cmocka_unit_test(test_chart_file_decodes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
