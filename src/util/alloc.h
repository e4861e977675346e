/*
 * Allocation wrappers that abort on out-of-memory, so call sites never test
 * for NULL (the Redis way: a server that cannot allocate cannot keep promises).
 */
#ifndef AMPGRID_UTIL_ALLOC_H
#define AMPGRID_UTIL_ALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* Copies at most n bytes of s and terminates the copy. */
char *xstrndup(const char *s, size_t n);
/* strdup that maps NULL to NULL. */
char *xstrdup_opt(const char *s);

#endif
