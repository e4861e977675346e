/*
 * Firmware campaigns on the generic SQL operation (see store_campaigns.h).
 * A campaign changes a few times an hour and a station's row a handful of
 * times per attempt, so each change is one small statement prepared per
 * call; starting a campaign inserts all its stations in one statement from
 * a JSON array (json_each), in the same savepoint as the state change.
 */
#include "store/store_campaigns.h"

#include "store/store_sql.h"
#include "util/alloc.h"

#include <stdlib.h>
#include <string.h>

#define CAMPAIGN_COLS                                                                              \
    "id,name,image_id,target,settings,state,paused_reason,promoted,base_failures,"                 \
    "base_attempts,created_by,created_at,started_at,finished_at,updated_at"
#define STATION_COLS                                                                               \
    "campaign_id,station_id,position,state,attempts,failures,request_id,error,last_status,"        \
    "state_at,started_at,finished_at,updated_at"
#define IMAGE_COLS "id,version,vendor,filename,size,sha256,signing_certificate,signature,deleted_at"

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *int_or_null(int64_t v)
{
    return v ? json_integer(v) : json_null();
}

static json_t *text_or_null(const json_t *v)
{
    if (!v) return json_null();
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    json_t *r = json_string(s ? s : "null");
    free(s);
    return r;
}

void store_campaign_create(store_t *s, const char *name, int64_t image_id, const json_t *target,
                           const json_t *settings, const char *created_by, int64_t now,
                           store_json_cb cb, void *ctx)
{
    store_sql_step_t steps[2] = {
        {"INSERT INTO firmware_campaigns(name,image_id,target,settings,state,created_by,"
         "created_at,updated_at) VALUES(?1,?2,?3,?4,'draft',?5,?6,?6)",
         json_pack("[s,I,o,o,o,I]", name, (json_int_t)image_id, text_or_null(target),
                   text_or_null(settings), str_or_null(created_by), (json_int_t)now),
         0},
        {"SELECT " CAMPAIGN_COLS " FROM firmware_campaigns WHERE id=last_insert_rowid()", NULL,
         STORE_SQL_REQUIRE_ROW},
    };
    store_sql(s, steps, 2, cb, ctx);
}

void store_campaign_patch(store_t *s, int64_t id, const char *name, int64_t image_id,
                          const json_t *target, const json_t *settings, int64_t now,
                          store_json_cb cb, void *ctx)
{
    store_sql_step_t steps[2] = {
        {"UPDATE firmware_campaigns SET name=coalesce(?2,name),image_id=coalesce(?3,image_id),"
         "target=coalesce(?4,target),settings=coalesce(?5,settings),updated_at=?6 "
         "WHERE id=?1 AND state='draft'",
         json_pack("[I,o,o,o,o,I]", (json_int_t)id, str_or_null(name), int_or_null(image_id),
                   target ? text_or_null(target) : json_null(),
                   settings ? text_or_null(settings) : json_null(), (json_int_t)now),
         STORE_SQL_REQUIRE_ROW},
        {"SELECT " CAMPAIGN_COLS " FROM firmware_campaigns WHERE id=?1",
         json_pack("[I]", (json_int_t)id), STORE_SQL_REQUIRE_ROW},
    };
    store_sql(s, steps, 2, cb, ctx);
}

void store_campaign_get(store_t *s, int64_t id, store_json_cb cb, void *ctx)
{
    store_sql_step_t steps[3] = {
        {"SELECT " CAMPAIGN_COLS " FROM firmware_campaigns WHERE id=?1",
         json_pack("[I]", (json_int_t)id), STORE_SQL_REQUIRE_ROW},
        {"SELECT state,count(*) AS n FROM firmware_campaign_stations WHERE campaign_id=?1 "
         "GROUP BY state",
         json_pack("[I]", (json_int_t)id), 0},
        {"SELECT " IMAGE_COLS " FROM firmware_images WHERE id=(SELECT image_id FROM "
         "firmware_campaigns WHERE id=?1)",
         json_pack("[I]", (json_int_t)id), 0},
    };
    store_sql(s, steps, 3, cb, ctx);
}

void store_campaign_image(store_t *s, int64_t image_id, store_json_cb cb, void *ctx)
{
    store_sql1(s, "SELECT " IMAGE_COLS " FROM firmware_images WHERE id=?1 AND deleted_at IS NULL",
               json_pack("[I]", (json_int_t)image_id), STORE_SQL_REQUIRE_ROW, cb, ctx);
}

static const store_sort_t campaign_sorts[] = {
    {"id", "id", false, false},
    {"updated_at", "updated_at", false, false},
    {NULL, NULL, false, false},
};
/* the list shows progress too: counts per station state as a JSON object */
static const store_list_t campaign_list = {
    CAMPAIGN_COLS ",(SELECT json_group_object(state,n) FROM (SELECT state,count(*) AS n FROM "
                  "firmware_campaign_stations WHERE campaign_id=firmware_campaigns.id GROUP BY "
                  "state)) AS progress",
    "firmware_campaigns", "id", campaign_sorts, NULL};

void store_campaigns_list(store_t *s, const char *state, const store_page_t *page, store_json_cb cb,
                          void *ctx)
{
    store_page_query(s, &campaign_list, state ? "state=?1" : NULL,
                     state ? json_pack("[s]", state) : NULL, page, cb, ctx);
}

static const store_sort_t station_sorts[] = {
    {"position", "position", false, false},
    {"updated_at", "updated_at", false, false},
    {NULL, NULL, false, false},
};
static const store_list_t station_list = {STATION_COLS, "firmware_campaign_stations", "position",
                                          station_sorts, NULL};

void store_campaign_stations_list(store_t *s, int64_t id, const char *state,
                                  const store_page_t *page, store_json_cb cb, void *ctx)
{
    store_page_query(s, &station_list,
                     state ? "campaign_id=?1 AND state=?2" : "campaign_id=?1 AND ?2 IS NULL",
                     json_pack("[I,o]", (json_int_t)id, str_or_null(state)), page, cb, ctx);
}

void store_campaign_start(store_t *s, int64_t id, const json_t *station_ids, int64_t now,
                          store_json_cb cb, void *ctx)
{
    store_sql_step_t steps[2] = {
        {"UPDATE firmware_campaigns SET state='running',started_at=?2,updated_at=?2 "
         "WHERE id=?1 AND state='draft'",
         json_pack("[I,I]", (json_int_t)id, (json_int_t)now), STORE_SQL_REQUIRE_ROW},
        {"INSERT INTO firmware_campaign_stations(campaign_id,station_id,position,state,"
         "state_at,updated_at) SELECT ?1,value,key,'pending',?3,?3 FROM json_each(?2)",
         json_pack("[I,o,I]", (json_int_t)id, text_or_null(station_ids), (json_int_t)now), 0},
    };
    store_sql(s, steps, 2, cb, ctx);
}

void store_campaign_save(store_t *s, const store_campaign_run_t *r, store_json_cb cb, void *ctx)
{
    store_sql1(s,
               "UPDATE firmware_campaigns SET state=?2,paused_reason=?3,promoted=?4,"
               "base_failures=?5,base_attempts=?6,started_at=?7,finished_at=?8,updated_at=?9 "
               "WHERE id=?1",
               json_pack("[I,s,o,b,I,I,o,o,I]", (json_int_t)r->id, r->state,
                         str_or_null(r->paused_reason), r->promoted, (json_int_t)r->base_failures,
                         (json_int_t)r->base_attempts, int_or_null(r->started_at),
                         int_or_null(r->finished_at), (json_int_t)r->updated_at),
               STORE_SQL_REQUIRE_ROW, cb, ctx);
}

void store_campaign_station_save(store_t *s, const store_campaign_station_t *st, store_json_cb cb,
                                 void *ctx)
{
    store_sql1(s,
               "UPDATE firmware_campaign_stations SET state=?3,attempts=?4,failures=?5,"
               "request_id=?6,error=?7,last_status=?8,state_at=?9,started_at=?10,"
               "finished_at=?11,updated_at=?12 WHERE campaign_id=?1 AND station_id=?2",
               json_pack("[I,s,s,i,i,o,o,o,I,o,o,I]", (json_int_t)st->campaign_id, st->station_id,
                         st->state, st->attempts, st->failures, int_or_null(st->request_id),
                         str_or_null(st->error), str_or_null(st->last_status),
                         (json_int_t)st->state_at, int_or_null(st->started_at),
                         int_or_null(st->finished_at), (json_int_t)st->updated_at),
               STORE_SQL_REQUIRE_ROW, cb, ctx);
}

void store_campaign_cancel(store_t *s, int64_t id, int64_t now, store_json_cb cb, void *ctx)
{
    store_sql_step_t steps[2] = {
        {"UPDATE firmware_campaigns SET state='cancelled',paused_reason=NULL,finished_at=?2,"
         "updated_at=?2 WHERE id=?1 AND state IN ('draft','running','paused')",
         json_pack("[I,I]", (json_int_t)id, (json_int_t)now), STORE_SQL_REQUIRE_ROW},
        {"UPDATE firmware_campaign_stations SET state='cancelled',finished_at=?2,state_at=?2,"
         "updated_at=?2 WHERE campaign_id=?1 AND state NOT IN ('succeeded','failed','cancelled')",
         json_pack("[I,I]", (json_int_t)id, (json_int_t)now), 0},
    };
    store_sql(s, steps, 2, cb, ctx);
}

int store_campaigns_load_sync(store_t *s, json_t **campaigns, int64_t *max_request_id)
{
    json_t *rows = NULL, *n = NULL;
    *campaigns = NULL;
    *max_request_id = 0;
    if (store_sql_sync(s,
                       "SELECT c.id,c.name,c.image_id,c.target,c.settings,c.state,"
                       "c.paused_reason,c.promoted,c.base_failures,c.base_attempts,c.started_at,"
                       "i.version,i.filename,i.signing_certificate,i.signature "
                       "FROM firmware_campaigns c LEFT JOIN firmware_images i ON i.id=c.image_id "
                       "WHERE c.state IN ('running','paused') ORDER BY c.id",
                       NULL, &rows) != 0)
        goto fail;
    if (!rows) rows = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(rows, i, c)
    {
        json_t *st = NULL;
        if (store_sql_sync(s,
                           "SELECT " STATION_COLS " FROM firmware_campaign_stations "
                           "WHERE campaign_id=?1 ORDER BY position",
                           json_pack("[I]", json_integer_value(json_object_get(c, "id"))),
                           &st) != 0)
            goto fail;
        json_object_set_new(c, "stations", st ? st : json_array());
    }
    if (store_sql_sync(s, "SELECT coalesce(max(request_id),0) AS n FROM firmware_campaign_stations",
                       NULL, &n) != 0)
        goto fail;
    *max_request_id = json_integer_value(json_object_get(json_array_get(n, 0), "n"));
    json_decref(n);
    *campaigns = rows;
    return 0;
fail:
    json_decref(rows);
    json_decref(n);
    return -1;
}
