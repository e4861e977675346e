/*
 * Load management's durable state: each site's capacity tree (the canonical
 * JSON of smart/site_tree.h, one row per site) and what operators or apps
 * said about running sessions (energy need, departure, priority class).
 * Both are small and rare next to meter values, so they go through the
 * generic SQL operation; the engine loads everything at start-up, before the
 * writer thread owns the connection.
 */
#ifndef AMPGRID_STORE_STORE_SMART_H
#define AMPGRID_STORE_STORE_SMART_H

#include "store/store.h"

/* Start-up (before store_start): every site's tree as [{"site","tree"}]
 * (tree is the parsed JSON) and every session's needs as
 * [{"session_id","energy_wh","departure","priority"}]. 0 or -1. */
int store_smart_load_sync(store_t *s, json_t **sites, json_t **needs);

/* Replaces (or creates) a site's tree; tree is borrowed. */
void store_smart_site_put(store_t *s, const char *site, const json_t *tree, int64_t now,
                          store_json_cb cb, void *ctx);
/* Deletes a site's tree (STORE_ERR_NOT_FOUND when there is none). */
void store_smart_site_delete(store_t *s, const char *site, store_json_cb cb, void *ctx);

/* A session's energy need (Wh, <= 0 = unknown), departure (Unix s, 0 =
 * unknown) and priority class (larger first). */
void store_smart_needs_put(store_t *s, int64_t session_id, double energy_wh, int64_t departure,
                           int priority, int64_t now, store_json_cb cb, void *ctx);

#endif
