/*
 * The PNG chart of `ampgrid smart-sim`: site load over the run, one line
 * per policy, and the limit (grid connection, lowered during demand
 * response) in black. Drawn pixel by pixel into an RGB buffer with a tiny
 * built-in font, encoded by util/png.
 */
#ifndef AMPGRID_SMART_SIM_CHART_H
#define AMPGRID_SMART_SIM_CHART_H

#include "smart/smart_sim.h"
#include "util/png.h"

/* The colour of each policy's line, as 0xRRGGBB. */
unsigned sim_chart_colour(smart_sim_policy_t p);

/* Renders results (n of them, same run length) into img (img->px is
 * allocated; the caller frees it). */
void sim_chart_render(const smart_sim_result_t *results, int n, png_image_t *img);

/* Renders and writes a PNG file; 0 or -1. */
int sim_chart_write(const smart_sim_result_t *results, int n, const char *path);

#endif
