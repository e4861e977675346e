/*
 * Load management's tables on the generic SQL operation (see store_smart.h).
 */
#include "store/store_smart.h"

#include "store/store_sql.h"

#include <stdlib.h>

int store_smart_load_sync(store_t *s, json_t **sites, json_t **needs)
{
    json_t *rows = NULL;
    *sites = json_array();
    *needs = NULL;
    if (store_sql_sync(s, "SELECT site,tree FROM smart_sites ORDER BY site", json_array(), &rows))
        goto fail;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        json_t *tree = json_loads(json_string_value(json_object_get(r, "tree")), 0, NULL);
        if (!tree) continue; /* cannot happen: only validated JSON is written */
        json_array_append_new(
            *sites, json_pack("{s:O,s:o}", "site", json_object_get(r, "site"), "tree", tree));
    }
    json_decref(rows);
    if (store_sql_sync(s, "SELECT session_id,energy_wh,departure,priority FROM smart_session_needs",
                       json_array(), needs))
        goto fail;
    return 0;
fail:
    json_decref(*sites);
    *sites = NULL;
    return -1;
}

void store_smart_site_put(store_t *s, const char *site, const json_t *tree, int64_t now,
                          store_json_cb cb, void *ctx)
{
    char *text = json_dumps(tree, JSON_COMPACT);
    store_sql1(s,
               "INSERT INTO smart_sites(site,tree,updated_at) VALUES(?1,?2,?3) "
               "ON CONFLICT(site) DO UPDATE SET tree=?2,updated_at=?3",
               json_pack("[s,s,I]", site, text ? text : "{}", (json_int_t)now), 0, cb, ctx);
    free(text);
}

void store_smart_site_delete(store_t *s, const char *site, store_json_cb cb, void *ctx)
{
    store_sql1(s, "DELETE FROM smart_sites WHERE site=?1", json_pack("[s]", site),
               STORE_SQL_REQUIRE_ROW, cb, ctx);
}

void store_smart_needs_put(store_t *s, int64_t session_id, double energy_wh, int64_t departure,
                           int priority, int64_t now, store_json_cb cb, void *ctx)
{
    store_sql1(s,
               "INSERT INTO smart_session_needs(session_id,energy_wh,departure,priority,"
               "updated_at) VALUES(?1,?2,?3,?4,?5) ON CONFLICT(session_id) DO UPDATE SET "
               "energy_wh=?2,departure=?3,priority=?4,updated_at=?5",
               json_pack("[I,f,I,i,I]", (json_int_t)session_id, energy_wh, (json_int_t)departure,
                         priority, (json_int_t)now),
               0, cb, ctx);
}
