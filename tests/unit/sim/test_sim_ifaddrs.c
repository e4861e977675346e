/*
 * Specification of the simulator's getifaddrs() cache (sim/ifaddrs_cache.c):
 * the executable's definition is the one every library's call resolves to,
 * calls within a second share one list, a shared list survives its callers'
 * freeifaddrs(), and a stale list is read again (one still held is not
 * reused, and is freed once its last holder lets go).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dlfcn.h>
#include <ifaddrs.h>
#include <unistd.h>

#include "sim/ifaddrs_cache.h"

static int has_lo(const struct ifaddrs *l)
{
    for (; l; l = l->ifa_next)
        if (l->ifa_name && strcmp(l->ifa_name, "lo") == 0) return 1;
    return 0;
}

static void libraries_resolve_getifaddrs_to_the_cache(void **state)
{
    (void)state;
    /* what LWS's call binds to: the global scope's first definition */
    void *f = dlsym(RTLD_DEFAULT, "getifaddrs");
    void *g = dlsym(RTLD_DEFAULT, "freeifaddrs");
    assert_ptr_equal(f, (void *)getifaddrs);
    assert_ptr_equal(g, (void *)freeifaddrs);
}

static void calls_within_a_second_share_one_list(void **state)
{
    (void)state;
    usleep(1100000); /* whatever an earlier test left is stale */
    unsigned long r0 = sim_ifaddrs_reads();
    struct ifaddrs *a = NULL, *b = NULL;
    assert_int_equal(getifaddrs(&a), 0);
    assert_true(has_lo(a));
    freeifaddrs(a);
    assert_int_equal(getifaddrs(&b), 0);
    assert_ptr_equal(a, b);
    assert_true(has_lo(a)); /* still readable after its first caller freed it */
    freeifaddrs(b);
    assert_int_equal(sim_ifaddrs_reads(), r0 + 1);
}

static void a_stale_list_is_read_again(void **state)
{
    (void)state;
    struct ifaddrs *a = NULL, *b = NULL;
    assert_int_equal(getifaddrs(&a), 0);
    freeifaddrs(a);
    unsigned long r0 = sim_ifaddrs_reads();
    usleep(1100000);
    assert_int_equal(getifaddrs(&b), 0);
    assert_int_equal(sim_ifaddrs_reads(), r0 + 1);
    assert_true(has_lo(b));
    freeifaddrs(b);
}

static void a_held_stale_list_is_not_reused_and_is_freed_later(void **state)
{
    (void)state;
    struct ifaddrs *held = NULL, *fresh = NULL, *next = NULL;
    usleep(1100000);
    assert_int_equal(getifaddrs(&held), 0);
    usleep(1100000);
    unsigned long r0 = sim_ifaddrs_reads();
    assert_int_equal(getifaddrs(&fresh), 0); /* held is stale and still held */
    assert_int_equal(sim_ifaddrs_reads(), r0 + 1);
    assert_true(has_lo(fresh));
    assert_true(has_lo(held));
    freeifaddrs(fresh); /* not the shared one: really freed (ASan counts leaks) */
    freeifaddrs(held);
    assert_int_equal(getifaddrs(&next), 0); /* the stale one goes, a new one comes */
    assert_int_equal(sim_ifaddrs_reads(), r0 + 2);
    freeifaddrs(next);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(libraries_resolve_getifaddrs_to_the_cache),
        cmocka_unit_test(calls_within_a_second_share_one_list),
        cmocka_unit_test(a_stale_list_is_read_again),
        cmocka_unit_test(a_held_stale_list_is_not_reused_and_is_freed_later),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
