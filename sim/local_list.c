/*
 * The local authorization list; see local_list.h. A sorted array: lists are
 * small (at most SIM_LOCAL_LIST_MAX), updates rare, and an update is checked
 * for capacity on a copy before it replaces the list, so a refused update
 * changes nothing.
 */
#include "sim/local_list.h"

#include "util/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct item {
    char token[SIM_TOKEN_MAX + 1];
    char status[16];
} item_t;

struct sim_local_list {
    int32_t version;
    size_t n;
    item_t *items; /* sorted by token, capacity SIM_LOCAL_LIST_MAX */
};

static int cmp_item(const void *a, const void *b)
{
    return strcmp(((const item_t *)a)->token, ((const item_t *)b)->token);
}

static item_t *find(item_t *items, size_t n, const char *token)
{
    item_t key;
    snprintf(key.token, sizeof key.token, "%s", token);
    return bsearch(&key, items, n, sizeof *items, cmp_item);
}

/* Applies the entries to items (n of them, room for the maximum); false
 * when the list would grow beyond it. */
static bool apply(item_t *items, size_t *n, const sim_ll_entry_t *e, size_t ne)
{
    for (size_t i = 0; i < ne; i++) {
        if (!e[i].token) continue;
        item_t *it = find(items, *n, e[i].token);
        if (!e[i].status) {
            if (it) {
                memmove(it, it + 1, (size_t)(items + *n - it - 1) * sizeof *it);
                (*n)--;
            }
            continue;
        }
        if (!it) {
            if (*n == SIM_LOCAL_LIST_MAX) return false;
            it = &items[(*n)++];
            snprintf(it->token, sizeof it->token, "%s", e[i].token);
            snprintf(it->status, sizeof it->status, "%s", e[i].status);
            qsort(items, *n, sizeof *items, cmp_item);
            continue;
        }
        snprintf(it->status, sizeof it->status, "%s", e[i].status);
    }
    return true;
}

sim_ll_answer_t sim_local_list_update(sim_station_t *st, int32_t version, bool full,
                                      const sim_ll_entry_t *e, size_t n)
{
    struct sim_local_list *l = st->local_list;
    if (!full && version <= sim_local_list_version(st)) return SIM_LL_VERSION_MISMATCH;
    item_t *items = xcalloc(SIM_LOCAL_LIST_MAX, sizeof *items);
    size_t count = 0;
    if (!full && l) {
        memcpy(items, l->items, l->n * sizeof *items);
        count = l->n;
    }
    if (!apply(items, &count, e, n)) {
        free(items);
        return SIM_LL_FAILED;
    }
    if (!l) l = st->local_list = xcalloc(1, sizeof *l);
    free(l->items);
    l->items = items;
    l->n = count;
    l->version = version;
    return SIM_LL_ACCEPTED;
}

int32_t sim_local_list_version(const sim_station_t *st)
{
    return st->local_list ? st->local_list->version : 0;
}

size_t sim_local_list_size(const sim_station_t *st)
{
    return st->local_list ? st->local_list->n : 0;
}

const char *sim_local_list_status(const sim_station_t *st, const char *token)
{
    if (!st->local_list || !token) return NULL;
    item_t *it = find(st->local_list->items, st->local_list->n, token);
    return it ? it->status : NULL;
}

void sim_local_list_free(sim_station_t *st)
{
    if (!st->local_list) return;
    free(st->local_list->items);
    free(st->local_list);
    st->local_list = NULL;
}
