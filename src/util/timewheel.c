/* O(1) timing wheel; see timewheel.h for why. */
#include "util/timewheel.h"

#include <assert.h>
#include <stddef.h>

void timewheel_init(timewheel_t *tw, uint64_t now)
{
    for (int i = 0; i < TIMEWHEEL_SLOTS; i++) {
        tw->slots[i].next = tw->slots[i].prev = &tw->slots[i];
    }
    tw->now = now;
    tw->count = 0;
}

bool timewheel_pending(const timewheel_entry_t *e)
{
    return e->next != NULL;
}

void timewheel_remove(timewheel_t *tw, timewheel_entry_t *e)
{
    if (!e->next) return;
    e->prev->next = e->next;
    e->next->prev = e->prev;
    e->next = e->prev = NULL;
    tw->count--;
}

static void link_entry(timewheel_t *tw, timewheel_entry_t *e)
{
    timewheel_entry_t *head = &tw->slots[e->expires % TIMEWHEEL_SLOTS];
    e->next = head;
    e->prev = head->prev;
    head->prev->next = e;
    head->prev = e;
    tw->count++;
}

void timewheel_add(timewheel_t *tw, timewheel_entry_t *e, uint64_t expires, timewheel_cb cb)
{
    timewheel_remove(tw, e);
    if (expires <= tw->now) expires = tw->now + 1;
    e->expires = expires;
    e->cb = cb;
    link_entry(tw, e);
}

/* Fires the due entries of one slot; entries due in a later round stay. */
static void fire_slot(timewheel_t *tw, uint64_t second)
{
    timewheel_entry_t *head = &tw->slots[second % TIMEWHEEL_SLOTS];
    /* Detach the list first: callbacks may re-add into this same slot. */
    timewheel_entry_t pending = {0};
    if (head->next == head) return;
    pending.next = head->next;
    pending.prev = head->prev;
    pending.next->prev = &pending;
    pending.prev->next = &pending;
    head->next = head->prev = head;

    while (pending.next != &pending) {
        timewheel_entry_t *e = pending.next;
        e->prev->next = e->next;
        e->next->prev = e->prev;
        e->next = e->prev = NULL;
        tw->count--;
        if (e->expires > second) {
            link_entry(tw, e); /* a later round */
        } else {
            e->cb(e);
        }
    }
}

void timewheel_advance(timewheel_t *tw, uint64_t now)
{
    if (now <= tw->now) return;
    uint64_t from = tw->now + 1;
    /* After a long stall, one full turn visits every slot once. */
    if (now - tw->now > TIMEWHEEL_SLOTS) from = now - TIMEWHEEL_SLOTS + 1;
    for (uint64_t s = from; s <= now; s++) {
        tw->now = s;
        fire_slot(tw, s);
    }
    tw->now = now;
}
