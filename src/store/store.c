/*
 * The store's engine: opening and migrating the database, the writer thread
 * with group commit, and the hand-off of completions back to the event loop.
 * See store.h for why it is shaped this way.
 */
#include "store/store_internal.h"

#include "store/store_checkpoint.h"
#include "store/store_walbuf.h"

#include "util/alloc.h"
#include "util/log.h"
#include "util/timefmt.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <uv.h>

#define MAX_BATCH 2000

const double store_commit_bucket_bounds_us[12] = {250,    500,    1000,    2500,    5000,   10000,
                                                  25000,  50000,  100000,  250000,  500000, 1e18};

typedef struct cached_stmt {
    char *sql; /* NULL: a free slot */
    uint64_t hash, used;
    sqlite3_stmt *st;
} cached_stmt_t;

struct store {
    sqlite3 *db;
    store_checkpointer_t *checkpointer; /* NULL: SQLite's own checkpoints */
    sqlite3_stmt *stmts[SQL_COUNT_];
    cached_stmt_t cache[STORE_SQL_CACHE]; /* store_stmt_cached's, writer thread only */
    uint64_t cache_clock;
    pthread_t thread;
    bool thread_running;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    store_op_t *in_head, *in_tail;    /* waiting for the writer */
    store_op_t *out_head, *out_tail;  /* committed, waiting for the loop */
    bool stopping;
    bool writer_idle;                 /* waiting on cv: only then is a wake-up needed */
    uv_async_t async;
    uv_loop_t *loop;
    atomic_uint queue_depth;
    store_stats_t stats;              /* guarded by mu */
};

static const char *const stmt_sql[SQL_COUNT_] = {
    [SQL_STATION_UPSERT] =
        "INSERT INTO stations(id,password_hash,password_hash_prev,security_profile,"
        "registration_status,auto_registered,description,vendor,model,serial_number,"
        "charge_box_serial,firmware_version,iccid,imsi,meter_type,meter_serial,protocol,"
        "firmware_status,diagnostics_status,rotation_status,last_boot_at,last_heartbeat_at,"
        "created_at,updated_at,site,location,labels) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,"
        "?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26,?27) ON CONFLICT(id) DO "
        "UPDATE SET site=?25,location=?26,labels=?27,"
        "password_hash=?2,password_hash_prev=?3,security_profile=?4,registration_status=?5,"
        "auto_registered=?6,description=?7,vendor=?8,model=?9,serial_number=?10,"
        "charge_box_serial=?11,firmware_version=?12,iccid=?13,imsi=?14,meter_type=?15,"
        "meter_serial=?16,protocol=?17,firmware_status=?18,diagnostics_status=?19,"
        "rotation_status=?20,last_boot_at=?21,last_heartbeat_at=?22,updated_at=?24",
    [SQL_STATION_DELETE] = "DELETE FROM stations WHERE id=?1",
    [SQL_STATION_HEARTBEAT] = "UPDATE stations SET last_heartbeat_at=?2 WHERE id=?1",
    [SQL_TX_PROGRESS] = "UPDATE transactions SET last_soc=?2,last_energy_wh=?3,last_soc_at=?4,"
                        "last_energy_at=?5," STORE_SQL_READINGS_BOUNDS("?6", "?7") " WHERE id=?1",
    [SQL_TX_READINGS] = "UPDATE transactions SET " STORE_SQL_READINGS_BOUNDS("?2", "?3")
                        " WHERE id=?1",
    [SQL_BEGIN] = "BEGIN IMMEDIATE",
    [SQL_COMMIT] = "COMMIT",
    [SQL_ROLLBACK] = "ROLLBACK",
    [SQL_SAVEPOINT] = "SAVEPOINT op",
    [SQL_SAVEPOINT_ROLLBACK] = "ROLLBACK TO op",
    [SQL_SAVEPOINT_RELEASE] = "RELEASE op",
    [SQL_CONNECTOR_UPSERT] =
        "INSERT INTO connectors(station_id,evse_id,connector_id,status,error_code,info,"
        "vendor_id,vendor_error_code,timestamp,received_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"
        " ON CONFLICT(station_id,evse_id,connector_id) DO UPDATE SET status=?4,error_code=?5,"
        "info=?6,vendor_id=?7,vendor_error_code=?8,timestamp=?9,received_at=?10",
    [SQL_STATUS_INSERT] =
        "INSERT INTO status_history(station_id,evse_id,connector_id,status,error_code,info,"
        "vendor_id,vendor_error_code,timestamp,received_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
    [SQL_ID_TOKEN_UPSERT] =
        "INSERT INTO id_tokens(id_token,type,status,expiry,parent_id_token,created_at,updated_at)"
        " VALUES(?1,?2,?3,?4,?5,?6,?7) ON CONFLICT(id_token) DO UPDATE SET type=?2,status=?3,"
        "expiry=?4,parent_id_token=?5,updated_at=?7",
    [SQL_ID_TOKEN_DELETE] = "DELETE FROM id_tokens WHERE id_token=?1",
    [SQL_TX_FIND] = "SELECT id FROM transactions WHERE station_id=?1 AND connector_id=?2 AND "
                    "evse_id=?3 AND id_token=?4 AND meter_start=?5 AND started_at=?6",
    [SQL_TX_INSERT] =
        "INSERT INTO transactions(tx_id,station_id,evse_id,connector_id,id_token,id_token_type,"
        "auth_status,meter_start,started_at,reservation_id,created_at) "
        "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
    [SQL_TX_UPDATE] =
        "UPDATE transactions SET tx_id=COALESCE(?2,tx_id),meter_stop=?3,stopped_at=?4,"
        "stop_reason=?5,stop_id_token=?6,last_soc=?7,last_energy_wh=?8,last_soc_at=?9,"
        "last_energy_at=?10,charging_state=COALESCE(?11,charging_state) WHERE id=?1",
    [SQL_TX_FIX_START] =
        "UPDATE transactions SET started_at=?2,id_token=COALESCE(?3,id_token),"
        "meter_start=COALESCE(?4,meter_start),id_token_type=COALESCE(?5,id_token_type),"
        "auth_status=COALESCE(?6,auth_status) WHERE id=?1",
    [SQL_METER_INSERT] =
        "INSERT INTO meter_readings(station_id,evse_id,connector_id,transaction_id,timestamp,"
        "samples) VALUES(?1,?2,?3,?4,?5,?6)",
    [SQL_EVENT_INSERT] = "INSERT INTO station_events(station_id,kind,detail,created_at) "
                         "VALUES(?1,?2,?3,?4)",
    [SQL_SESSION_GET] =
        "SELECT id,tx_id,station_id,evse_id,connector_id,id_token,id_token_type,auth_status,"
        "meter_start,meter_stop,started_at,stopped_at,stop_reason,stop_id_token,reservation_id,"
        "last_soc,last_energy_wh,charging_needs,ev_schedule FROM transactions WHERE id=?1",
    [SQL_TX_EV_INFO] = "UPDATE transactions SET charging_needs=COALESCE(?2,charging_needs),"
                       "ev_schedule=COALESCE(?3,ev_schedule) WHERE id=?1",
    [SQL_SESSION_METER] =
        "SELECT m.timestamp,m.value,m.measurand,m.phase,m.unit,m.context,m.location,m.format "
        "FROM transactions t,meter_values m WHERE " STORE_SQL_TX_READINGS("?1")
        " ORDER BY m.timestamp,m.id LIMIT 10000",
    [SQL_STATUS_HISTORY] =
        "SELECT evse_id,connector_id,status,error_code,info,vendor_id,vendor_error_code,"
        "timestamp,received_at FROM status_history WHERE station_id=?1 ORDER BY id DESC LIMIT ?2",
    [SQL_STATION_EVENTS] = "SELECT id,kind,detail,created_at FROM station_events "
                           "WHERE station_id=?1 ORDER BY id DESC LIMIT ?2",
    [SQL_API_TOKEN_LOOKUP] = "SELECT name,role,expires_at,revoked FROM api_tokens "
                             "WHERE token_hash=?1",
    [SQL_TX_FIND_BY_TXID] =
        "SELECT id,tx_id,station_id,evse_id,connector_id,id_token,id_token_type,auth_status,"
        "meter_start,started_at,stopped_at,EXISTS(SELECT 1 FROM tx_events e WHERE "
        "e.transaction_id=transactions.id AND e.event_type='Started') "
        "FROM transactions WHERE station_id=?1 AND tx_id=?2",
    [SQL_TX_EVENT_INSERT] =
        "INSERT OR IGNORE INTO tx_events(transaction_id,seq_no,event_type,trigger_reason,"
        "timestamp,offline,detail,received_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
    [SQL_VARIABLE_UPSERT] =
        "INSERT INTO device_variables(station_id,component,component_instance,evse_id,"
        "connector_id,variable,variable_instance,attribute_type,value,mutability,persistent,"
        "constant,data_type,unit,values_list,min_limit,max_limit,supports_monitoring,updated_at)"
        " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19)"
        " ON CONFLICT(station_id,component,component_instance,evse_id,connector_id,variable,"
        "variable_instance,attribute_type) DO UPDATE SET value=COALESCE(?9,value),"
        "mutability=COALESCE(?10,mutability),persistent=COALESCE(?11,persistent),"
        "constant=COALESCE(?12,constant),data_type=COALESCE(?13,data_type),"
        "unit=COALESCE(?14,unit),values_list=COALESCE(?15,values_list),"
        "min_limit=COALESCE(?16,min_limit),max_limit=COALESCE(?17,max_limit),"
        "supports_monitoring=COALESCE(?18,supports_monitoring),updated_at=?19",
};

/* Versioned migrations: index i brings the schema from version i to i+1. */
static const char *const migrations[STORE_SCHEMA_VERSION] = {
    "CREATE TABLE stations(id TEXT PRIMARY KEY, password_hash TEXT, password_hash_prev TEXT,"
    " security_profile INTEGER NOT NULL DEFAULT 1, registration_status TEXT NOT NULL,"
    " auto_registered INTEGER NOT NULL DEFAULT 0, description TEXT, vendor TEXT, model TEXT,"
    " serial_number TEXT, charge_box_serial TEXT, firmware_version TEXT, iccid TEXT, imsi TEXT,"
    " meter_type TEXT, meter_serial TEXT, protocol TEXT, firmware_status TEXT,"
    " diagnostics_status TEXT, rotation_status TEXT, last_boot_at INTEGER,"
    " last_heartbeat_at INTEGER, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE TABLE connectors(station_id TEXT NOT NULL, evse_id INTEGER NOT NULL,"
    " connector_id INTEGER NOT NULL, status TEXT, error_code TEXT, info TEXT, vendor_id TEXT,"
    " vendor_error_code TEXT, timestamp INTEGER, received_at INTEGER,"
    " PRIMARY KEY(station_id, evse_id, connector_id));"
    "CREATE TABLE status_history(id INTEGER PRIMARY KEY, station_id TEXT NOT NULL,"
    " evse_id INTEGER NOT NULL, connector_id INTEGER NOT NULL, status TEXT, error_code TEXT,"
    " info TEXT, vendor_id TEXT, vendor_error_code TEXT, timestamp INTEGER, received_at INTEGER);"
    "CREATE INDEX status_history_station ON status_history(station_id, id);"
    "CREATE TABLE id_tokens(id_token TEXT PRIMARY KEY, type TEXT NOT NULL, status TEXT NOT NULL,"
    " expiry INTEGER, parent_id_token TEXT, created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL);"
    "CREATE TABLE transactions(id INTEGER PRIMARY KEY AUTOINCREMENT, tx_id TEXT,"
    " station_id TEXT NOT NULL, evse_id INTEGER NOT NULL, connector_id INTEGER NOT NULL,"
    " id_token TEXT NOT NULL, id_token_type TEXT, auth_status TEXT, meter_start INTEGER,"
    " meter_stop INTEGER, started_at INTEGER NOT NULL, stopped_at INTEGER, stop_reason TEXT,"
    " stop_id_token TEXT, reservation_id INTEGER, last_soc REAL, last_energy_wh INTEGER,"
    " last_soc_at INTEGER, last_energy_at INTEGER, created_at INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX transactions_replay ON transactions(station_id, connector_id, evse_id,"
    " id_token, meter_start, started_at);"
    "CREATE INDEX transactions_started ON transactions(started_at);"
    "CREATE INDEX transactions_token ON transactions(id_token);"
    "CREATE TABLE meter_values(id INTEGER PRIMARY KEY, station_id TEXT NOT NULL,"
    " evse_id INTEGER, connector_id INTEGER, transaction_id INTEGER, timestamp INTEGER NOT NULL,"
    " value TEXT NOT NULL, measurand TEXT, phase TEXT, unit TEXT, context TEXT, location TEXT,"
    " format TEXT);"
    "CREATE INDEX meter_values_tx ON meter_values(transaction_id, timestamp);"
    "CREATE INDEX meter_values_station ON meter_values(station_id, timestamp);"
    "CREATE TABLE station_events(id INTEGER PRIMARY KEY, station_id TEXT NOT NULL,"
    " kind TEXT NOT NULL, detail TEXT, created_at INTEGER NOT NULL);"
    "CREATE INDEX station_events_station ON station_events(station_id, id);"
    "CREATE TABLE api_tokens(id INTEGER PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL,"
    " token_hash TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL, expires_at INTEGER,"
    " revoked INTEGER NOT NULL DEFAULT 0);",
    /* 2: OCPP 2.0.1 transaction events and device model */
    "ALTER TABLE transactions ADD COLUMN charging_state TEXT;"
    "ALTER TABLE transactions ADD COLUMN charging_needs TEXT;"
    "ALTER TABLE transactions ADD COLUMN ev_schedule TEXT;"
    "CREATE UNIQUE INDEX transactions_txid ON transactions(station_id, tx_id);"
    "CREATE TABLE tx_events(transaction_id INTEGER NOT NULL, seq_no INTEGER NOT NULL,"
    " event_type TEXT NOT NULL, trigger_reason TEXT, timestamp INTEGER, offline INTEGER,"
    " detail TEXT, received_at INTEGER NOT NULL, PRIMARY KEY(transaction_id, seq_no));"
    "CREATE TABLE device_variables(station_id TEXT NOT NULL, component TEXT NOT NULL,"
    " component_instance TEXT NOT NULL DEFAULT '', evse_id INTEGER NOT NULL DEFAULT -1,"
    " connector_id INTEGER NOT NULL DEFAULT -1, variable TEXT NOT NULL,"
    " variable_instance TEXT NOT NULL DEFAULT '', attribute_type TEXT NOT NULL DEFAULT 'Actual',"
    " value TEXT, mutability TEXT, persistent INTEGER, constant INTEGER, data_type TEXT,"
    " unit TEXT, values_list TEXT, min_limit REAL, max_limit REAL, supports_monitoring INTEGER,"
    " updated_at INTEGER NOT NULL, PRIMARY KEY(station_id, component, component_instance,"
    " evse_id, connector_id, variable, variable_instance, attribute_type));",
    /* 3: operators and integrations: station location, users and their
     * sessions, API token bookkeeping, the audit log, webhooks */
    "ALTER TABLE stations ADD COLUMN site TEXT;"
    "ALTER TABLE stations ADD COLUMN location TEXT;"
    "ALTER TABLE stations ADD COLUMN labels TEXT;"
    "CREATE INDEX stations_site ON stations(site);"
    "ALTER TABLE api_tokens ADD COLUMN revoked_at INTEGER;"
    "ALTER TABLE api_tokens ADD COLUMN last_used_at INTEGER;"
    "ALTER TABLE api_tokens ADD COLUMN created_by TEXT;"
    "CREATE TABLE users(id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE,"
    " password_hash TEXT NOT NULL, role TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0,"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, last_login_at INTEGER);"
    "CREATE TABLE user_sessions(digest TEXT PRIMARY KEY, user_id INTEGER NOT NULL,"
    " csrf TEXT NOT NULL, ip TEXT, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
    " last_seen_at INTEGER NOT NULL);"
    "CREATE INDEX user_sessions_user ON user_sessions(user_id);"
    "CREATE TABLE audit_log(id INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL,"
    " actor_kind TEXT NOT NULL, role TEXT, ip TEXT, method TEXT, path TEXT, action TEXT NOT NULL,"
    " target_type TEXT, target_id TEXT, status INTEGER, before TEXT, after TEXT);"
    "CREATE INDEX audit_log_at ON audit_log(at);"
    "CREATE INDEX audit_log_target ON audit_log(target_type, target_id, id);"
    "CREATE TABLE webhooks(id INTEGER PRIMARY KEY, url TEXT NOT NULL, secret TEXT NOT NULL,"
    " event_types TEXT NOT NULL, enabled INTEGER NOT NULL DEFAULT 1, description TEXT,"
    " created_by TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE TABLE webhook_deliveries(id INTEGER PRIMARY KEY,"
    " webhook_id INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,"
    " event_id TEXT, event_type TEXT NOT NULL, payload TEXT NOT NULL, state TEXT NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER, last_status INTEGER,"
    " last_error TEXT, last_response TEXT, last_attempt_at INTEGER, last_duration_ms INTEGER,"
    " redelivery_of INTEGER, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE INDEX webhook_deliveries_due ON webhook_deliveries(webhook_id, state,"
    " next_attempt_at);"
    "CREATE INDEX webhook_deliveries_hook ON webhook_deliveries(webhook_id, id);"
    "CREATE INDEX status_history_time ON status_history(received_at);"
    "CREATE INDEX transactions_station ON transactions(station_id, started_at);"
    /* analytics: sessions still running at a range's start; a connector's
     * status at a time (store_analytics.c) */
    "CREATE INDEX transactions_stopped ON transactions(stopped_at);"
    "CREATE INDEX status_history_connector ON status_history(station_id, evse_id,"
    " connector_id, timestamp);",
    /* 4: NEVI uptime: station connectivity, the server's last sign of life,
     * failed session starts per port, excluded time (store_uptime.c) */
    "CREATE TABLE station_connectivity(id INTEGER PRIMARY KEY, station_id TEXT NOT NULL,"
    " connected_at INTEGER NOT NULL, disconnected_at INTEGER, end_reason TEXT);"
    "CREATE INDEX station_connectivity_station ON station_connectivity(station_id,"
    " connected_at);"
    "CREATE INDEX station_connectivity_open ON station_connectivity(station_id)"
    " WHERE disconnected_at IS NULL;"
    "CREATE TABLE uptime_server(id INTEGER PRIMARY KEY CHECK(id = 1),"
    " started_at INTEGER NOT NULL, alive_at INTEGER NOT NULL);"
    "CREATE TABLE failed_starts(id INTEGER PRIMARY KEY, station_id TEXT NOT NULL,"
    " evse_id INTEGER NOT NULL, connector_id INTEGER, at INTEGER NOT NULL, kind TEXT NOT NULL,"
    " reason TEXT, error_code TEXT, session_id INTEGER, recovered_at INTEGER,"
    " recovered_by TEXT);"
    "CREATE INDEX failed_starts_port ON failed_starts(station_id, evse_id, at);"
    "CREATE INDEX failed_starts_open ON failed_starts(station_id) WHERE recovered_at IS NULL;"
    "CREATE TABLE uptime_exclusions(id INTEGER PRIMARY KEY, station_id TEXT NOT NULL,"
    " evse_id INTEGER, reason TEXT NOT NULL, starts_at INTEGER NOT NULL,"
    " ends_at INTEGER NOT NULL, note TEXT, created_by TEXT NOT NULL,"
    " created_at INTEGER NOT NULL, updated_by TEXT, updated_at INTEGER NOT NULL);"
    "CREATE INDEX uptime_exclusions_station ON uptime_exclusions(station_id, starts_at);",
    /* 5: alerts from the fault-detection rules (store_alerts.c); the open ones
     * are loaded at every start */
    "CREATE TABLE alerts(id INTEGER PRIMARY KEY, rule TEXT NOT NULL, severity TEXT NOT NULL,"
    " station_id TEXT NOT NULL, evse_id INTEGER, connector_id INTEGER, title TEXT NOT NULL,"
    " details TEXT, state TEXT NOT NULL, first_seen INTEGER NOT NULL,"
    " last_seen INTEGER NOT NULL, count INTEGER NOT NULL, acknowledged_by TEXT,"
    " acknowledged_at INTEGER, ack_note TEXT, resolved_by TEXT, resolved_at INTEGER,"
    " resolve_note TEXT, updated_at INTEGER NOT NULL);"
    "CREATE INDEX alerts_open ON alerts(state) WHERE state<>'resolved';"
    "CREATE INDEX alerts_station ON alerts(station_id, id);"
    "CREATE INDEX alerts_updated ON alerts(updated_at);",
    /* 6: maintenance: work orders and what hangs off them, spare parts and
     * their stock per depot, preventive plans, maintenance windows
     * (store_workorders.c, store_parts.c, store_maintenance.c) */
    "CREATE TABLE work_orders(id INTEGER PRIMARY KEY, title TEXT NOT NULL, description TEXT,"
    " station_id TEXT, evse_id INTEGER, connector_id INTEGER, priority TEXT NOT NULL,"
    " state TEXT NOT NULL, assignee TEXT, source TEXT NOT NULL, alert_id INTEGER,"
    " plan_id INTEGER, due_at INTEGER, created_by TEXT NOT NULL, created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL, resolved_at INTEGER, closed_at INTEGER);"
    "CREATE UNIQUE INDEX work_orders_alert ON work_orders(alert_id) WHERE alert_id IS NOT NULL;"
    "CREATE UNIQUE INDEX work_orders_plan ON work_orders(plan_id, station_id, due_at)"
    " WHERE plan_id IS NOT NULL;"
    "CREATE INDEX work_orders_state ON work_orders(state);"
    "CREATE INDEX work_orders_assignee ON work_orders(assignee);"
    "CREATE INDEX work_orders_station ON work_orders(station_id);"
    "CREATE INDEX work_orders_updated ON work_orders(updated_at);"
    "CREATE TABLE work_order_notes(id INTEGER PRIMARY KEY, work_order_id INTEGER NOT NULL,"
    " author TEXT NOT NULL, at INTEGER NOT NULL, text TEXT NOT NULL);"
    "CREATE INDEX work_order_notes_wo ON work_order_notes(work_order_id);"
    "CREATE TABLE work_order_time(id INTEGER PRIMARY KEY, work_order_id INTEGER NOT NULL,"
    " technician TEXT NOT NULL, minutes INTEGER NOT NULL, note TEXT, at INTEGER NOT NULL);"
    "CREATE INDEX work_order_time_wo ON work_order_time(work_order_id);"
    "CREATE TABLE work_order_parts(id INTEGER PRIMARY KEY, work_order_id INTEGER NOT NULL,"
    " part_id INTEGER NOT NULL, depot_id INTEGER NOT NULL, quantity INTEGER NOT NULL,"
    " used_by TEXT NOT NULL, at INTEGER NOT NULL);"
    "CREATE INDEX work_order_parts_wo ON work_order_parts(work_order_id);"
    "CREATE TABLE work_order_attachments(id INTEGER PRIMARY KEY,"
    " work_order_id INTEGER NOT NULL, name TEXT NOT NULL, content_type TEXT NOT NULL,"
    " size INTEGER NOT NULL, file TEXT NOT NULL, sha256 TEXT NOT NULL,"
    " uploaded_by TEXT NOT NULL, at INTEGER NOT NULL);"
    "CREATE INDEX work_order_attachments_wo ON work_order_attachments(work_order_id);"
    "CREATE TABLE parts(id INTEGER PRIMARY KEY, sku TEXT NOT NULL UNIQUE, name TEXT NOT NULL,"
    " description TEXT, models TEXT NOT NULL, unit TEXT NOT NULL, created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL);"
    "CREATE TABLE depots(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, location TEXT,"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE TABLE stock(part_id INTEGER NOT NULL, depot_id INTEGER NOT NULL,"
    " quantity INTEGER NOT NULL CHECK(quantity BETWEEN 0 AND 1000000000),"
    " low_threshold INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL, PRIMARY KEY(part_id, depot_id));"
    "CREATE TABLE stock_moves(id INTEGER PRIMARY KEY, part_id INTEGER NOT NULL,"
    " depot_id INTEGER NOT NULL, kind TEXT NOT NULL, delta INTEGER NOT NULL,"
    " quantity INTEGER NOT NULL, work_order_id INTEGER, note TEXT, moved_by TEXT NOT NULL,"
    " at INTEGER NOT NULL);"
    "CREATE TABLE maintenance_plans(id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
    " interval_days INTEGER NOT NULL, task TEXT NOT NULL, scope_kind TEXT NOT NULL,"
    " scope TEXT NOT NULL, priority TEXT NOT NULL, next_due INTEGER NOT NULL,"
    " enabled INTEGER NOT NULL, created_by TEXT NOT NULL, created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL);"
    "CREATE TABLE maintenance_windows(id INTEGER PRIMARY KEY, station_id TEXT, site TEXT,"
    " starts_at INTEGER NOT NULL, ends_at INTEGER NOT NULL, reason TEXT NOT NULL,"
    " work_order_id INTEGER, created_by TEXT NOT NULL, created_at INTEGER NOT NULL);"
    "CREATE TABLE maintenance_window_exclusions(window_id INTEGER NOT NULL,"
    " exclusion_id INTEGER NOT NULL, PRIMARY KEY(window_id, exclusion_id));",
    /* 7: station file transfers: the firmware repository's images and the
     * diagnostics/log uploads stations were asked for (store_files.c) */
    "CREATE TABLE firmware_images(id INTEGER PRIMARY KEY, version TEXT NOT NULL, vendor TEXT,"
    " models TEXT, filename TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL,"
    " signing_certificate TEXT, signature TEXT, created_at INTEGER NOT NULL, created_by TEXT,"
    " deleted_at INTEGER);"
    "CREATE INDEX firmware_images_sha ON firmware_images(sha256);"
    "CREATE TABLE diagnostics_requests(id INTEGER PRIMARY KEY, station_id TEXT NOT NULL,"
    " protocol TEXT NOT NULL, requested_by TEXT, requested_at INTEGER NOT NULL,"
    " status TEXT NOT NULL, start_time INTEGER, stop_time INTEGER, retries INTEGER,"
    " file_name TEXT, size INTEGER, sha256 TEXT, uploaded_at INTEGER, completed_at INTEGER,"
    " token_used INTEGER NOT NULL DEFAULT 0, detail TEXT, updated_at INTEGER NOT NULL);"
    "CREATE INDEX diagnostics_requests_station ON diagnostics_requests(station_id, id);"
    "CREATE INDEX diagnostics_requests_status ON diagnostics_requests(status);",
    /* 8: load management (store_smart.c): each site's capacity tree, and the
     * energy need / departure / priority operators set on sessions */
    "CREATE TABLE smart_sites(site TEXT PRIMARY KEY, tree TEXT NOT NULL,"
    " updated_at INTEGER NOT NULL);"
    "CREATE TABLE smart_session_needs(session_id INTEGER PRIMARY KEY, energy_wh REAL,"
    " departure INTEGER, priority INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL);",
    /* 9: grid signals (store_signals.c): demand-response events and price
     * schedules per site, from the API or an OpenADR VTN (times in seconds) */
    "CREATE TABLE smart_dr_events(id INTEGER PRIMARY KEY, site TEXT NOT NULL,"
    " start_s INTEGER NOT NULL, end_s INTEGER NOT NULL, limit_kw REAL NOT NULL, phase_a TEXT,"
    " source TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', external_id TEXT, created_by TEXT,"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE INDEX smart_dr_events_end ON smart_dr_events(end_s);"
    "CREATE INDEX smart_dr_events_external ON smart_dr_events(external_id);"
    "CREATE TABLE smart_prices(id INTEGER PRIMARY KEY, site TEXT NOT NULL DEFAULT '',"
    " body TEXT NOT NULL, source TEXT NOT NULL, external_id TEXT, created_by TEXT,"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE INDEX smart_prices_external ON smart_prices(external_id);",
    /* 10: firmware update campaigns (store_campaigns.c): the campaign with its
     * settings as JSON, and each target station's progress */
    "CREATE TABLE firmware_campaigns(id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
    " image_id INTEGER NOT NULL, target TEXT NOT NULL, settings TEXT NOT NULL,"
    " state TEXT NOT NULL, paused_reason TEXT, promoted INTEGER NOT NULL DEFAULT 0,"
    " base_failures INTEGER NOT NULL DEFAULT 0, base_attempts INTEGER NOT NULL DEFAULT 0,"
    " created_by TEXT, created_at INTEGER NOT NULL, started_at INTEGER, finished_at INTEGER,"
    " updated_at INTEGER NOT NULL);"
    "CREATE INDEX firmware_campaigns_state ON firmware_campaigns(state);"
    "CREATE TABLE firmware_campaign_stations(campaign_id INTEGER NOT NULL,"
    " station_id TEXT NOT NULL, position INTEGER NOT NULL, state TEXT NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0,"
    " request_id INTEGER, error TEXT, last_status TEXT, state_at INTEGER NOT NULL,"
    " started_at INTEGER, finished_at INTEGER, updated_at INTEGER NOT NULL,"
    " PRIMARY KEY(campaign_id, station_id));"
    "CREATE INDEX firmware_campaign_stations_pos ON firmware_campaign_stations(campaign_id,"
    " position);",
    /* 11: meter values as one row per reading (a station's sampled values at
     * one timestamp) with the samples packed as a JSON array, instead of one
     * row per sampled value: a three-phase reading is one row and two index
     * entries rather than nine and eighteen, the writer's largest cost at
     * thousands of MeterValues a second. The view keeps the old per-sample
     * shape for reading; keys: v value, m measurand, p phase, u unit,
     * c context, l location, f format (absent = NULL). */
    "CREATE TABLE meter_readings(id INTEGER PRIMARY KEY, station_id TEXT NOT NULL,"
    " evse_id INTEGER, connector_id INTEGER, transaction_id INTEGER,"
    " timestamp INTEGER NOT NULL, samples TEXT NOT NULL);"
    "INSERT INTO meter_readings(id,station_id,evse_id,connector_id,transaction_id,timestamp,"
    " samples) SELECT id,station_id,evse_id,connector_id,transaction_id,timestamp,"
    " json_array(json_patch('{}',json_object('v',value,'m',measurand,'p',phase,'u',unit,"
    " 'c',context,'l',location,'f',format))) FROM meter_values;"
    "DROP TABLE meter_values;"
    "CREATE INDEX meter_readings_tx ON meter_readings(transaction_id, timestamp);"
    "CREATE INDEX meter_readings_station ON meter_readings(station_id, timestamp);"
    "CREATE VIEW meter_values AS SELECT r.id*4096+j.key AS id,r.station_id,r.evse_id,"
    " r.connector_id,r.transaction_id,r.timestamp,j.value->>'v' AS value,"
    " j.value->>'m' AS measurand,j.value->>'p' AS phase,j.value->>'u' AS unit,"
    " j.value->>'c' AS context,j.value->>'l' AS location,j.value->>'f' AS format"
    " FROM meter_readings r,json_each(r.samples) j;",
    /* 12: one index on meter readings instead of two. Every reading went into
     * a (transaction, time) and a (station, time) index; with readings from
     * many sessions in one commit each lands on its own leaf page in both, so
     * a commit of 28 MeterValues wrote ~78 pages to the WAL (measured: 262 MB/s
     * at 23,000 MeterValues/s, all of it copied again by the checkpoints). A
     * transaction now keeps the time bounds of its readings (updated in the
     * same row write as its progress), and its readings are found through the
     * station index within those bounds. */
    "ALTER TABLE transactions ADD COLUMN readings_from INTEGER;"
    "ALTER TABLE transactions ADD COLUMN readings_to INTEGER;"
    "UPDATE transactions SET"
    " readings_from=(SELECT MIN(timestamp) FROM meter_readings WHERE transaction_id=transactions.id),"
    " readings_to=(SELECT MAX(timestamp) FROM meter_readings WHERE transaction_id=transactions.id);"
    "DROP INDEX meter_readings_tx;",
};

sqlite3 *store_db(store_t *s)
{
    return s->db;
}

sqlite3_stmt *store_stmt(store_t *s, enum store_stmt_id id)
{
    if (!s->stmts[id]) {
        if (sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s->stmts[id],
                               NULL) != SQLITE_OK) {
            char q[300];
            log_error("cannot prepare statement", "id=%d error=%s", (int)id,
                      log_quote(sqlite3_errmsg(s->db), q, sizeof q));
            abort(); /* a programming error: the SQL is static */
        }
    }
    sqlite3_stmt *st = s->stmts[id];
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

static uint64_t sql_hash(const char *sql)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)sql; *p; p++)
        h = (h ^ *p) * 1099511628211u;
    return h;
}

sqlite3_stmt *store_stmt_cached(store_t *s, const char *sql, int *rc)
{
    uint64_t h = sql_hash(sql);
    cached_stmt_t *slot = &s->cache[0];
    for (int i = 0; i < STORE_SQL_CACHE; i++) {
        cached_stmt_t *e = &s->cache[i];
        if (e->sql && e->hash == h && strcmp(e->sql, sql) == 0) {
            e->used = ++s->cache_clock;
            sqlite3_reset(e->st);
            sqlite3_clear_bindings(e->st);
            *rc = SQLITE_OK;
            return e->st;
        }
        if (!e->sql) {
            if (slot->sql) slot = e; /* a free slot first */
        } else if (slot->sql && e->used < slot->used) {
            slot = e; /* else the least recently used */
        }
    }
    sqlite3_stmt *st = NULL;
    *rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (*rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return NULL;
    }
    if (slot->sql) { /* the least recently used goes */
        sqlite3_finalize(slot->st);
        free(slot->sql);
    }
    slot->sql = xstrdup(sql);
    slot->hash = h;
    slot->st = st;
    slot->used = ++s->cache_clock;
    return st;
}

store_err_t store_check(store_t *s, int rc, const char *what)
{
    if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) return STORE_OK;
    if ((rc & 0xff) == SQLITE_CONSTRAINT) return STORE_ERR_CONFLICT;
    char q[300];
    log_error("database error", "what=%s error=%s", what, log_quote(sqlite3_errmsg(s->db), q, sizeof q));
    return STORE_ERR_IO;
}

void store_bind_text(sqlite3_stmt *st, int idx, const char *v)
{
    if (v) sqlite3_bind_text(st, idx, v, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(st, idx);
}

void store_bind_text_static(sqlite3_stmt *st, int idx, const char *v)
{
    if (v) sqlite3_bind_text(st, idx, v, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, idx);
}

const char *store_col_text(sqlite3_stmt *st, int idx)
{
    return (const char *)sqlite3_column_text(st, idx);
}

void store_json_col(json_t *obj, const char *key, sqlite3_stmt *st, int idx)
{
    switch (sqlite3_column_type(st, idx)) {
    case SQLITE_INTEGER:
        json_object_set_new(obj, key, json_integer(sqlite3_column_int64(st, idx)));
        break;
    case SQLITE_FLOAT:
        json_object_set_new(obj, key, json_real(sqlite3_column_double(st, idx)));
        break;
    case SQLITE_TEXT:
        json_object_set_new(obj, key, json_string(store_col_text(st, idx)));
        break;
    default:
        json_object_set_new(obj, key, json_null());
    }
}

void store_json_time(json_t *obj, const char *key, sqlite3_stmt *st, int idx)
{
    int64_t v = sqlite3_column_int64(st, idx);
    char buf[TIME_RFC3339_LEN];
    if (sqlite3_column_type(st, idx) == SQLITE_NULL || v == 0)
        json_object_set_new(obj, key, json_null());
    else json_object_set_new(obj, key, json_string(time_format_rfc3339(v, buf)));
}

static int exec_sql(sqlite3 *db, const char *sql, char *err, size_t err_len)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, err_len, "%s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int store_migrate(sqlite3 *db, int target, char *err, size_t err_len)
{
    sqlite3_stmt *st;
    int version = 0;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK) goto fail;
    if (sqlite3_step(st) == SQLITE_ROW) version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version > STORE_SCHEMA_VERSION) {
        snprintf(err, err_len,
                 "the database has schema version %d but this ampgrid only knows up to %d; "
                 "run a newer ampgrid or restore a backup",
                 version, STORE_SCHEMA_VERSION);
        return -1;
    }
    for (int v = version; v < target && v < STORE_SCHEMA_VERSION; v++) {
        char sql[64];
        if (exec_sql(db, "BEGIN IMMEDIATE", err, err_len)) return -1;
        if (exec_sql(db, migrations[v], err, err_len)) {
            exec_sql(db, "ROLLBACK", err + strlen(err), 0);
            return -1;
        }
        snprintf(sql, sizeof sql, "PRAGMA user_version=%d", v + 1);
        if (exec_sql(db, sql, err, err_len) || exec_sql(db, "COMMIT", err, err_len)) return -1;
        log_info("migrated database schema", "version=%d", v + 1);
    }
    return 0;
fail:
    snprintf(err, err_len, "%s", sqlite3_errmsg(db));
    return -1;
}

store_t *store_open(const char *dir, bool sync_full, char *err, size_t err_len)
{
    char path[1024];
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, err_len, "cannot create data directory %s", dir);
        return NULL;
    }
    snprintf(path, sizeof path, "%s/ampgrid.db", dir);
    store_t *s = xcalloc(1, sizeof *s);
    /* No allocation statistics: they take a global mutex around every
     * allocation (measured: ~8 % of the writer's instructions). Only
     * possible before SQLite initializes; later calls fail harmlessly. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    /* With synchronous=FULL a commit's WAL writes go out as one (store_walbuf.c). */
    const char *vfs = sync_full && store_walbuf_register() == SQLITE_OK ? STORE_WALBUF_VFS : NULL;
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                          SQLITE_OPEN_NOMUTEX, vfs) != SQLITE_OK) {
        snprintf(err, err_len, "cannot open %s: %s", path, sqlite3_errmsg(s->db));
        goto fail;
    }
    sqlite3_busy_timeout(s->db, 5000);
    if (exec_sql(s->db, "PRAGMA journal_mode=WAL", err, err_len) ||
        exec_sql(s->db, sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", err,
                 err_len) ||
        exec_sql(s->db, "PRAGMA foreign_keys=ON", err, err_len) ||
        /* The default 2 MiB page cache re-reads index pages from disk under
         * load (measured: 7.5 % of server CPU in pread); 64 MiB keeps the hot
         * B-tree pages in memory, and mmap serves the rest without copies. */
        exec_sql(s->db, "PRAGMA cache_size=-65536", err, err_len) ||
        exec_sql(s->db, "PRAGMA mmap_size=268435456", err, err_len))
        goto fail;
    if (store_migrate(s->db, STORE_SCHEMA_VERSION, err, err_len)) goto fail;
    char cerr[300];
    s->checkpointer = store_checkpointer_start(s->db, path, cerr, sizeof cerr);
    if (!s->checkpointer) {
        char q[400];
        log_warn("checkpoints stay on the writer thread", "reason=%s",
                 log_quote(cerr, q, sizeof q));
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    return s;
fail:
    sqlite3_close(s->db);
    free(s);
    return NULL;
}

void store_submit(store_t *s, store_op_t *op)
{
    op->next = NULL;
    pthread_mutex_lock(&s->mu);
    if (s->in_tail) s->in_tail->next = op;
    else s->in_head = op;
    s->in_tail = op;
    atomic_fetch_add(&s->queue_depth, 1);
    /* A busy writer takes the whole queue when its batch ends: no futex call
     * per operation. */
    if (s->writer_idle) pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Steps a prepared transaction-control statement; 0 or -1 with the message. */
static int txn_step(store_t *s, enum store_stmt_id id, char *err, size_t err_len)
{
    sqlite3_stmt *st = store_stmt(s, id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE) return 0;
    snprintf(err, err_len, "%s", sqlite3_errmsg(s->db));
    return -1;
}

/* Runs one batch in one transaction; each op in its own savepoint. */
static void run_batch(store_t *s, store_op_t *batch)
{
    int64_t t0 = mono_us();
    char err[256];
    bool ok = txn_step(s, SQL_BEGIN, err, sizeof err) == 0;
    for (store_op_t *op = batch; op; op = op->next) {
        if (!ok) {
            op->rc = STORE_ERR_IO;
            continue;
        }
        txn_step(s, SQL_SAVEPOINT, err, sizeof err);
        op->rc = op->exec(s, op);
        if (op->rc != STORE_OK && op->rc != STORE_ERR_NOT_FOUND)
            txn_step(s, SQL_SAVEPOINT_ROLLBACK, err, sizeof err);
        txn_step(s, SQL_SAVEPOINT_RELEASE, err, sizeof err);
    }
    if (ok && txn_step(s, SQL_COMMIT, err, sizeof err) != 0) {
        char q[300];
        log_error("commit failed", "error=%s", log_quote(err, q, sizeof q));
        txn_step(s, SQL_ROLLBACK, err, sizeof err);
        ok = false;
    }
    if (!ok) {
        for (store_op_t *op = batch; op; op = op->next) op->rc = STORE_ERR_IO;
    }
    int64_t us = mono_us() - t0;
    unsigned n = 0;
    for (store_op_t *op = batch; op; op = op->next) n++;

    pthread_mutex_lock(&s->mu);
    s->stats.commits++;
    s->stats.ops += n;
    if (!ok) s->stats.failures += n;
    s->stats.commit_us_sum += (uint64_t)us;
    for (int i = 0; i < 12; i++) {
        if ((double)us <= store_commit_bucket_bounds_us[i]) {
            s->stats.commit_us_buckets[i]++;
            break;
        }
    }
    store_op_t *last = batch;
    while (last->next) last = last->next;
    if (s->out_tail) s->out_tail->next = batch;
    else s->out_head = batch;
    s->out_tail = last;
    pthread_mutex_unlock(&s->mu);
    atomic_fetch_sub(&s->queue_depth, n);
    uv_async_send(&s->async);
}

static void *writer_main(void *arg)
{
    store_t *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (!s->in_head && !s->stopping) {
            s->writer_idle = true;
            pthread_cond_wait(&s->cv, &s->mu);
            s->writer_idle = false;
        }
        if (!s->in_head && s->stopping) {
            pthread_mutex_unlock(&s->mu);
            break;
        }
        store_op_t *batch = s->in_head, *tail = batch;
        for (int i = 1; i < MAX_BATCH && tail->next; i++) tail = tail->next;
        s->in_head = tail->next;
        if (!s->in_head) s->in_tail = NULL;
        tail->next = NULL;
        pthread_mutex_unlock(&s->mu);
        run_batch(s, batch);
        if (s->checkpointer) store_checkpointer_after_batch(s->checkpointer, s->db);
    }
    return NULL;
}

static void completions_cb(uv_async_t *a)
{
    store_t *s = a->data;
    pthread_mutex_lock(&s->mu);
    store_op_t *op = s->out_head;
    s->out_head = s->out_tail = NULL;
    pthread_mutex_unlock(&s->mu);
    while (op) {
        store_op_t *next = op->next;
        op->done(op);
        op = next;
    }
}

void store_start(store_t *s, uv_loop_t *loop)
{
    s->loop = loop;
    uv_async_init(loop, &s->async, completions_cb);
    s->async.data = s;
    uv_unref((uv_handle_t *)&s->async); /* listeners keep the loop alive, not the store */
    pthread_create(&s->thread, NULL, writer_main, s);
    s->thread_running = true;
}

bool store_idle(store_t *s)
{
    pthread_mutex_lock(&s->mu);
    bool idle = !s->out_head;
    pthread_mutex_unlock(&s->mu);
    return idle && atomic_load(&s->queue_depth) == 0;
}

void store_get_stats(store_t *s, store_stats_t *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->stats;
    pthread_mutex_unlock(&s->mu);
    out->queue_depth = atomic_load(&s->queue_depth);
    if (s->checkpointer) {
        unsigned long ck = 0, rs = 0;
        store_checkpointer_stats(s->checkpointer, &ck, &rs);
        out->checkpoints = ck;
        out->wal_restarts = rs;
    }
}

void store_close(store_t *s)
{
    if (!s) return;
    if (s->thread_running) {
        pthread_mutex_lock(&s->mu);
        s->stopping = true;
        pthread_cond_signal(&s->cv); /* unconditionally: it may be between batches */
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
        completions_cb(&s->async);
        uv_close((uv_handle_t *)&s->async, NULL);
        uv_run(s->loop, UV_RUN_NOWAIT);
    }
    store_checkpointer_stop(s->checkpointer, s->db);
    for (int i = 0; i < SQL_COUNT_; i++) sqlite3_finalize(s->stmts[i]);
    for (int i = 0; i < STORE_SQL_CACHE; i++) {
        sqlite3_finalize(s->cache[i].st);
        free(s->cache[i].sql);
    }
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}
