/*
 * The simulator's own getifaddrs()/freeifaddrs(), in front of the C library's.
 *
 * Why: each station connects from one of the --source-ips addresses, which
 * LWS 4.1 (connect info .iface) resolves with getifaddrs() on every
 * connection attempt, to see whether the name is an interface before it
 * parses it as an address. getifaddrs() is a netlink dump of every link and
 * address: perf measured it at 8 % of the simulator's CPU in a wss reconnect
 * storm, for an answer that does not change. LWS offers no hook between its
 * socket() and bind(), so the simulator's executable defines both functions
 * (the dynamic linker binds LWS's calls to the executable's definitions):
 * calls within a second of each other share one list from the C library.
 *
 * Linked into ampgrid-sim only (not sim_core): a definition in a static
 * library would be left out unless something else in its object were used.
 */
#include "sim/ifaddrs_cache.h"

#include <dlfcn.h>
#include <ifaddrs.h>
#include <pthread.h>
#include <stddef.h>
#include <time.h>

#define CACHE_NS 1000000000LL /* a list is reused for one second */

typedef int (*get_fn)(struct ifaddrs **);
typedef void (*free_fn)(struct ifaddrs *);

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static struct ifaddrs *g_list; /* the shared list, or NULL */
static int g_refs;             /* callers that have it and have not freed it yet */
static long long g_at;         /* when it was read (monotonic ns) */
static unsigned long g_reads;  /* lists read from the C library */

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The C library's functions (looked up once; NULL if missing). */
static get_fn real_get(void)
{
    static get_fn f;
    if (!f) f = (get_fn)dlsym(RTLD_NEXT, "getifaddrs");
    return f;
}

static free_fn real_free(void)
{
    static free_fn f;
    if (!f) f = (free_fn)dlsym(RTLD_NEXT, "freeifaddrs");
    return f;
}

int getifaddrs(struct ifaddrs **out)
{
    get_fn get = real_get();
    free_fn fr = real_free();
    if (!get || !fr) return -1;
    pthread_mutex_lock(&g_mu);
    long long now = now_ns();
    if (g_list && now - g_at < CACHE_NS) {
        g_refs++;
        *out = g_list;
        pthread_mutex_unlock(&g_mu);
        return 0;
    }
    if (g_list && g_refs == 0) { /* stale and nobody holds it */
        fr(g_list);
        g_list = NULL;
    }
    struct ifaddrs *l = NULL;
    int rc = get(&l);
    if (rc == 0) g_reads++;
    if (rc == 0 && !g_list) { /* a stale list still held stays until freed */
        g_list = l;
        g_at = now;
        g_refs = 1;
    }
    pthread_mutex_unlock(&g_mu);
    *out = l;
    return rc;
}

void freeifaddrs(struct ifaddrs *l)
{
    if (!l) return;
    pthread_mutex_lock(&g_mu);
    if (l == g_list) {
        if (g_refs > 0) g_refs--;
        pthread_mutex_unlock(&g_mu);
        return;
    }
    pthread_mutex_unlock(&g_mu);
    free_fn fr = real_free();
    if (fr) fr(l);
}

unsigned long sim_ifaddrs_reads(void)
{
    pthread_mutex_lock(&g_mu);
    unsigned long n = g_reads;
    pthread_mutex_unlock(&g_mu);
    return n;
}
