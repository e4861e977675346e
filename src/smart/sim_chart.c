/*
 * Chart drawing for smart-sim (sim_chart.h): a white canvas, a light grid
 * every 3 hours and every 25 kW with labels in a 3x5 pixel font scaled 2x,
 * the limit as a black step line and each policy as a coloured 2-pixel
 * polyline, and a legend. No anti-aliasing: it is read, not printed.
 */
#include "smart/sim_chart.h"
#include "util/alloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define W 1200
#define H 520
#define LEFT 70
#define RIGHT 20
#define TOP 50
#define BOTTOM 50

static const unsigned colours[SMART_SIM_N_POLICIES] = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728};

unsigned sim_chart_colour(smart_sim_policy_t p)
{
    return (unsigned)p < SMART_SIM_N_POLICIES ? colours[p] : 0x7f7f7f;
}

static void put(png_image_t *img, int x, int y, unsigned rgb)
{
    if (x < 0 || y < 0 || x >= img->width || y >= img->height) return;
    uint8_t *p = img->px + ((size_t)y * img->width + x) * 3;
    p[0] = (uint8_t)(rgb >> 16), p[1] = (uint8_t)(rgb >> 8), p[2] = (uint8_t)rgb;
}

static void rect(png_image_t *img, int x0, int y0, int x1, int y1, unsigned rgb)
{
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
            put(img, x, y, rgb);
}

/* Bresenham, thick pixels. */
static void line(png_image_t *img, int x0, int y0, int x1, int y1, unsigned rgb, int thick)
{
    int dx = abs(x1 - x0), dy = -abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    int err = dx + dy;
    for (;;) {
        rect(img, x0, y0, x0 + thick - 1, y0 + thick - 1, rgb);
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * err;
        if (e2 >= dy) err += dy, x0 += sx;
        if (e2 <= dx) err += dx, y0 += sy;
    }
}

/* 3x5 glyphs, one row per 3 bits (MSB left), rows top to bottom. */
static const struct {
    char c;
    uint8_t rows[5];
} font[] = {
    {'0', {7, 5, 5, 5, 7}}, {'1', {2, 6, 2, 2, 7}}, {'2', {7, 1, 7, 4, 7}}, {'3', {7, 1, 3, 1, 7}},
    {'4', {5, 5, 7, 1, 1}}, {'5', {7, 4, 7, 1, 7}}, {'6', {7, 4, 7, 5, 7}}, {'7', {7, 1, 1, 2, 2}},
    {'8', {7, 5, 7, 5, 7}}, {'9', {7, 5, 7, 1, 7}}, {':', {0, 2, 0, 2, 0}}, {'.', {0, 0, 0, 0, 2}},
    {'-', {0, 0, 7, 0, 0}}, {'A', {2, 5, 7, 5, 5}}, {'B', {6, 5, 6, 5, 6}}, {'C', {7, 4, 4, 4, 7}},
    {'D', {6, 5, 5, 5, 6}}, {'E', {7, 4, 6, 4, 7}}, {'F', {7, 4, 6, 4, 4}}, {'G', {7, 4, 5, 5, 7}},
    {'H', {5, 5, 7, 5, 5}}, {'I', {7, 2, 2, 2, 7}}, {'K', {5, 5, 6, 5, 5}}, {'L', {4, 4, 4, 4, 7}},
    {'M', {5, 7, 7, 5, 5}}, {'N', {6, 5, 5, 5, 5}}, {'O', {7, 5, 5, 5, 7}}, {'P', {7, 5, 7, 4, 4}},
    {'Q', {7, 5, 5, 7, 1}}, {'R', {7, 5, 6, 5, 5}}, {'S', {7, 4, 7, 1, 7}}, {'T', {7, 2, 2, 2, 2}},
    {'U', {5, 5, 5, 5, 7}}, {'V', {5, 5, 5, 5, 2}}, {'W', {5, 5, 7, 7, 5}}, {'Y', {5, 5, 2, 2, 2}},
    {'(', {1, 2, 2, 2, 1}}, {')', {4, 2, 2, 2, 4}}, {'/', {1, 1, 2, 4, 4}}, {'=', {0, 7, 0, 7, 0}},
};

static void text(png_image_t *img, int x, int y, const char *s, unsigned rgb)
{
    for (; *s; s++, x += 8) {
        char c = (*s >= 'a' && *s <= 'z') ? (char)(*s - 32) : *s;
        for (size_t g = 0; g < sizeof font / sizeof font[0]; g++) {
            if (font[g].c != c) continue;
            for (int r = 0; r < 5; r++)
                for (int b = 0; b < 3; b++)
                    if (font[g].rows[r] & (4 >> b))
                        rect(img, x + 2 * b, y + 2 * r, x + 2 * b + 1, y + 2 * r + 1, rgb);
        }
    }
}

typedef struct frame {
    int n_steps, step_s;
    double ymax;
} frame_t;

static int px_x(const frame_t *f, int step)
{
    return LEFT +
           (int)((double)step * (W - LEFT - RIGHT - 1) / (f->n_steps > 1 ? f->n_steps - 1 : 1));
}

static int px_y(const frame_t *f, double kw)
{
    return H - BOTTOM - (int)lround(kw / f->ymax * (H - TOP - BOTTOM));
}

static void axes(png_image_t *img, const frame_t *f)
{
    char buf[32];
    double grid_kw = f->ymax > 400 ? 100 : 25;
    for (double kw = 0; kw <= f->ymax + 1e-9; kw += grid_kw) {
        int y = px_y(f, kw);
        line(img, LEFT, y, W - RIGHT, y, 0xe0e0e0, 1);
        snprintf(buf, sizeof buf, "%d", (int)kw);
        text(img, LEFT - 10 - 8 * (int)strlen(buf), y - 5, buf, 0x404040);
    }
    int hours = f->n_steps * f->step_s / 3600;
    for (int h = 0; h <= hours; h += 3) {
        int step = h * 3600 / f->step_s, x = px_x(f, step < f->n_steps ? step : f->n_steps - 1);
        line(img, x, TOP, x, H - BOTTOM, 0xe0e0e0, 1);
        snprintf(buf, sizeof buf, "%02d:00", h % 24);
        text(img, x - 20, H - BOTTOM + 10, buf, 0x404040);
    }
    line(img, LEFT, TOP, LEFT, H - BOTTOM, 0x000000, 1);
    line(img, LEFT, H - BOTTOM, W - RIGHT, H - BOTTOM, 0x000000, 1);
    text(img, 8, 12, "KW", 0x404040);
}

static void series(png_image_t *img, const frame_t *f, const double *v, int n, unsigned rgb,
                   int thick)
{
    for (int k = 1; k < n && k < f->n_steps; k++)
        line(img, px_x(f, k - 1), px_y(f, v[k - 1]), px_x(f, k), px_y(f, v[k]), rgb, thick);
}

static void legend(png_image_t *img, const smart_sim_result_t *r, int n)
{
    int x = LEFT + 40;
    rect(img, x, 16, x + 20, 19, 0x000000);
    text(img, x + 28, 13, "LIMIT", 0x000000);
    x += 28 + 8 * 6 + 20;
    for (int k = 0; k < n; k++) {
        const char *name = smart_sim_policy_name(r[k].policy);
        rect(img, x, 16, x + 20, 19, sim_chart_colour(r[k].policy));
        text(img, x + 28, 13, name, 0x000000);
        x += 28 + 8 * (int)strlen(name) + 20;
    }
}

void sim_chart_render(const smart_sim_result_t *results, int n, png_image_t *img)
{
    frame_t f = {0, 60, 0};
    for (int k = 0; k < n; k++) {
        if (results[k].n_steps > f.n_steps) f.n_steps = results[k].n_steps;
        f.step_s = results[k].step_s;
        for (int s = 0; s < results[k].n_steps; s++) {
            if (results[k].load_kw[s] > f.ymax) f.ymax = results[k].load_kw[s];
            if (results[k].limit_kw_t[s] > f.ymax) f.ymax = results[k].limit_kw_t[s];
        }
    }
    f.ymax = f.ymax > 0 ? ceil(f.ymax * 1.1 / 25) * 25 : 25;
    img->width = W;
    img->height = H;
    img->px = xmalloc((size_t)W * H * 3);
    memset(img->px, 0xff, (size_t)W * H * 3);
    axes(img, &f);
    for (int k = 0; k < n; k++)
        series(img, &f, results[k].load_kw, results[k].n_steps, sim_chart_colour(results[k].policy),
               2);
    if (n > 0) series(img, &f, results[0].limit_kw_t, results[0].n_steps, 0x000000, 2);
    legend(img, results, n);
}

int sim_chart_write(const smart_sim_result_t *results, int n, const char *path)
{
    png_image_t img;
    sim_chart_render(results, n, &img);
    int rc = png_write_file(&img, path);
    free(img.px);
    return rc;
}
