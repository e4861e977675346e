/*
 * Specification of the log lines (src/util/log.c) as they reach stderr:
 * unbuffered by default; in buffered mode (the server's event loop) info lines
 * wait for log_flush() while warnings and errors go out at once behind them,
 * a full buffer writes itself out, and lines from several threads arrive whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <unistd.h>

#include "util/log.h"

static char g_path[64]; /* mkstemp template, filled in by setup */
static int g_saved = -1;

/* stderr goes to a fresh temporary file for each test */
static int setup(void **state)
{
    (void)state;
    strcpy(g_path, "/tmp/ampgrid-test-log-XXXXXX");
    int fd = mkstemp(g_path);
    if (fd < 0) return -1;
    fflush(stderr);
    g_saved = dup(2);
    dup2(fd, 2);
    close(fd);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    log_set_buffered(false);
    fflush(stderr);
    dup2(g_saved, 2);
    close(g_saved);
    unlink(g_path);
    return 0;
}

/* What stderr has received so far (caller frees). */
static char *written(void)
{
    FILE *f = fopen(g_path, "r");
    assert_non_null(f);
    char *s = calloc(1, 1 << 22);
    assert_non_null(s);
    size_t n = fread(s, 1, (1 << 22) - 1, f);
    s[n] = '\0';
    fclose(f);
    return s;
}

static size_t count(const char *s, const char *needle)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, needle)) != NULL; p += strlen(needle)) n++;
    return n;
}

static void unbuffered_lines_are_written_at_once(void **state)
{
    (void)state;
    log_info("hello", "station_id=%s", "CP-1");
    char *s = written();
    assert_non_null(strstr(s, "level=info msg=\"hello\" station_id=CP-1\n"));
    free(s);
}

static void buffered_info_waits_for_flush_and_warnings_keep_the_order(void **state)
{
    (void)state;
    log_set_buffered(true);
    log_info("first", NULL);
    char *s = written();
    assert_null(strstr(s, "first"));
    free(s);
    log_flush();
    s = written();
    assert_non_null(strstr(s, "msg=\"first\""));
    free(s);

    log_info("second", NULL);
    log_warn("third", NULL); /* at once, and after what waits */
    s = written();
    char *a = strstr(s, "msg=\"second\""), *b = strstr(s, "msg=\"third\"");
    assert_non_null(a);
    assert_non_null(b);
    assert_true(a < b);
    free(s);

    log_info("fourth", NULL);
    log_set_buffered(false); /* turning it off writes what waits */
    s = written();
    assert_non_null(strstr(s, "msg=\"fourth\""));
    free(s);
}

static void a_full_buffer_writes_itself_out_and_nothing_is_lost(void **state)
{
    (void)state;
    log_set_buffered(true);
    for (int i = 0; i < 2000; i++) log_info("line", "i=%d", i); /* ~130 KiB */
    char *s = written();
    size_t before = count(s, "msg=\"line\"");
    assert_true(before > 0);    /* the buffer wrote itself out */
    assert_true(before < 2000); /* but the rest waits */
    free(s);
    log_flush();
    s = written();
    assert_int_equal(count(s, "msg=\"line\""), 2000);
    assert_non_null(strstr(s, "i=0\n"));
    assert_non_null(strstr(s, "i=1999\n"));
    free(s);
}

static void *logger(void *arg)
{
    for (int i = 0; i < 3000; i++) log_info("threaded", "thread=%s i=%d", (const char *)arg, i);
    return NULL;
}

static void lines_from_threads_arrive_whole(void **state)
{
    (void)state;
    log_set_buffered(true);
    pthread_t t1, t2;
    pthread_create(&t1, NULL, logger, "a");
    pthread_create(&t2, NULL, logger, "b");
    for (int i = 0; i < 200; i++) log_flush();
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    log_flush();
    char *s = written();
    assert_int_equal(count(s, "msg=\"threaded\" thread=a i="), 3000);
    assert_int_equal(count(s, "msg=\"threaded\" thread=b i="), 3000);
    /* every line is whole: it starts with ts= right after the previous newline */
    for (char *p = s; *p; p = strchr(p, '\n') + 1) assert_memory_equal(p, "ts=", 3);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(unbuffered_lines_are_written_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(buffered_info_waits_for_flush_and_warnings_keep_the_order,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_full_buffer_writes_itself_out_and_nothing_is_lost, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(lines_from_threads_arrive_whole, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
