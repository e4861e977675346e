/*
 * An O(1) timing wheel with one-second slots, for per-connection deadlines
 * (WebSocket ping supervision, OCPP call timeouts).
 *
 * Why not one timer per connection: LWS's own validity timers keep a sorted
 * list, so each new connection costs O(n); with 20,000 stations that shows.
 * Here adding, moving and removing an entry is O(1): entries live in a ring of
 * slots indexed by expiry second (Mosquitto's keepalive.c makes the same
 * choice). An entry further out than the ring is re-filed when its slot comes
 * round, so any delay works.
 *
 * Ownership: the caller embeds timewheel_entry_t in its own object and must
 * remove it (timewheel_remove) before freeing that object.
 */
#ifndef AMPGRID_UTIL_TIMEWHEEL_H
#define AMPGRID_UTIL_TIMEWHEEL_H

#include <stdbool.h>
#include <stdint.h>

#define TIMEWHEEL_SLOTS 512

typedef struct timewheel_entry timewheel_entry_t;
typedef void (*timewheel_cb)(timewheel_entry_t *e);

struct timewheel_entry {
    timewheel_entry_t *next, *prev; /* NULL when not scheduled */
    uint64_t expires;               /* absolute second */
    timewheel_cb cb;
};

typedef struct timewheel {
    timewheel_entry_t slots[TIMEWHEEL_SLOTS]; /* sentinels of circular lists */
    uint64_t now;                             /* last second processed */
    unsigned count;
} timewheel_t;

void timewheel_init(timewheel_t *tw, uint64_t now);
/* Schedules (or reschedules) e to fire at second `expires` (clamped to now+1). */
void timewheel_add(timewheel_t *tw, timewheel_entry_t *e, uint64_t expires, timewheel_cb cb);
void timewheel_remove(timewheel_t *tw, timewheel_entry_t *e);
bool timewheel_pending(const timewheel_entry_t *e);
/* Fires every entry due at or before `now`; callbacks may add or remove entries. */
void timewheel_advance(timewheel_t *tw, uint64_t now);

#endif
