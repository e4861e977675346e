/*
 * getifaddrs() results shared for a second (see ifaddrs_cache.c): the
 * simulator defines getifaddrs() and freeifaddrs() itself, so LWS's
 * per-connection lookups of the source address stop being a netlink dump each.
 */
#ifndef AMPGRID_SIM_IFADDRS_CACHE_H
#define AMPGRID_SIM_IFADDRS_CACHE_H

/* How many lists have been read from the C library so far. */
unsigned long sim_ifaddrs_reads(void);

#endif
