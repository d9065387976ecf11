/*
 * test_progress: the progress bar of halled --verify and hallectl backup
 * (daemon/progress.c): the line it draws for a known and an unknown total,
 * counts and bytes, that no line is wider than a terminal's 79 columns;
 * and how it draws on a stream: one redraw per interval at most, a final
 * line ended by a newline, a cleared line, nothing at all off a terminal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "progress.h"

static char	 line[256];

static const char *
format(const char *label, enum progress_unit unit, const char *what,
    uint64_t done, uint64_t total, unsigned redraws)
{
	return (progress_format(line, sizeof(line), label, unit, what, done,
	    total, redraws));
}

static void
test_known_total(void **state)
{
	assert_string_equal(format("checking feeds", PROGRESS_COUNT,
	    "records", 12, 48, 0),
	    "checking feeds   [######..................]  25%  12/48 records");
	assert_string_equal(format("rebuilding views", PROGRESS_COUNT,
	    "records", 0, 10, 0),
	    "rebuilding views [........................]   0%  0/10 records");
	assert_string_equal(format("comparing views", PROGRESS_COUNT, "keys",
	    7, 7, 0),
	    "comparing views  [########################] 100%  7/7 keys");
	/* More than the total (an estimate passed) shows as all done. */
	assert_string_equal(format("writing backup", PROGRESS_BYTES, NULL,
	    5000, 4096, 0),
	    "writing backup   [########################] 100%  4.0 KiB/4.0 KiB");
}

static void
test_never_finished_early(void **state)
{
	/* 999999 of 1000000 rounds to 99 %, not 100 %, and leaves a dot. */
	format("checking feeds", PROGRESS_COUNT, "records", 999999, 1000000,
	    0);
	assert_non_null(strstr(line, " 99%"));
	assert_non_null(strstr(line, "#.]"));
}

static void
test_bytes(void **state)
{
	assert_string_equal(format("writing backup", PROGRESS_BYTES, NULL,
	    512, 3 * 1048576, 0),
	    "writing backup   [........................]   0%  512 B/3.0 MiB");
	assert_string_equal(format("writing backup", PROGRESS_BYTES, NULL,
	    1536, 3072, 0),
	    "writing backup   [############............]  50%  1.5 KiB/3.0 KiB");
}

static void
test_unknown_total(void **state)
{
	char first[256];

	format("writing backup", PROGRESS_BYTES, NULL, 12 * 1048576, 0, 0);
	assert_string_equal(line, "writing backup   [<=>                     ]"
	    "       12.0 MiB");
	snprintf(first, sizeof(first), "%s", line);
	format("writing backup", PROGRESS_BYTES, NULL, 12 * 1048576, 0, 1);
	assert_string_equal(line, "writing backup   [ <=>                    ]"
	    "       12.0 MiB");
	/* At the end of its span, the marker turns back. */
	format("writing backup", PROGRESS_BYTES, NULL, 1, 0, 21);
	assert_non_null(strstr(line, "[                     <=>]"));
	format("writing backup", PROGRESS_BYTES, NULL, 1, 0, 22);
	assert_non_null(strstr(line, "[                    <=> ]"));
	format("writing backup", PROGRESS_BYTES, NULL, 1, 0, 42);
	assert_non_null(strstr(line, "[<=>                     ]"));
	assert_null(strchr(first, '%'));
}

static void
test_width(void **state)
{
	format("a label longer than any the daemon uses", PROGRESS_COUNT,
	    "records", UINT64_MAX - 1, UINT64_MAX, 0);
	assert_int_equal(strlen(line), PROGRESS_LINE_MAX);
	format("checking feeds", PROGRESS_COUNT, "records", 123456789,
	    987654321, 0);
	assert_true(strlen(line) <= PROGRESS_LINE_MAX);
}

static size_t
count(const char *s, char c)
{
	size_t	 n = 0;

	for (; *s != '\0'; s++)
		n += *s == c;
	return (n);
}

static void
test_drawing(void **state)
{
	struct progress	 p;
	char		*text = NULL;
	size_t		 len;
	FILE		*f;

	assert_non_null(f = open_memstream(&text, &len));
	progress_start(&p, f, "checking feeds", PROGRESS_COUNT, "records",
	    10);
	assert_int_equal(p.interval_ms, PROGRESS_INTERVAL_MS);
	p.interval_ms = 3600 * 1000;	/* however slow this machine is */
	fflush(f);
	assert_int_equal(len, 0);		/* nothing before an update */
	progress_update(&p, 1, 10);
	progress_update(&p, 2, 10);		/* too soon: not drawn */
	progress_update(&p, 3, 10);
	fflush(f);
	assert_int_equal(count(text, '\r'), 1);
	assert_non_null(strstr(text, " 10%  1/10 records"));
	progress_end(&p);			/* the last state, and \n */
	fflush(f);
	assert_int_equal(count(text, '\r'), 2);
	assert_non_null(strstr(text, " 30%  3/10 records\n"));
	assert_int_equal(text[len - 1], '\n');
	assert_int_equal(count(text, '\n'), 1);
	progress_update(&p, 4, 10);		/* ended: silent */
	progress_end(&p);
	fflush(f);
	assert_int_equal(count(text, '\n'), 1);
	assert_int_equal(fclose(f), 0);
	free(text);
}

static void
test_clear(void **state)
{
	struct progress	 p;
	char		*text = NULL, *blank;
	size_t		 len, width;
	FILE		*f;

	assert_non_null(f = open_memstream(&text, &len));
	progress_start(&p, f, "writing backup", PROGRESS_BYTES, NULL, 0);
	progress_update(&p, 100, 0);
	fflush(f);
	width = len - 1;			/* the line after its \r */
	progress_clear(&p);
	fflush(f);
	/* "\r", as many spaces as the line had, "\r". */
	assert_true(len == 2 * (width + 1) + 1);
	assert_non_null(blank = calloc(1, width + 3));
	blank[0] = '\r';
	memset(blank + 1, ' ', width);
	blank[width + 1] = '\r';
	assert_string_equal(text + width + 1, blank);
	free(blank);
	progress_update(&p, 200, 0);		/* at once after a clear */
	fflush(f);
	assert_non_null(strstr(text + 2 * (width + 1), "200 B"));
	assert_int_equal(fclose(f), 0);
	free(text);
}

static void
test_off_terminal(void **state)
{
	struct progress	 p;
	char		*text = NULL;
	size_t		 len;
	FILE		*f;

	assert_non_null(f = open_memstream(&text, &len));
	assert_null(progress_terminal(f));
	progress_start(&p, progress_terminal(f), "checking feeds",
	    PROGRESS_COUNT, "records", 10);
	progress_update(&p, 5, 10);
	progress_clear(&p);
	progress_end(&p);
	fflush(f);
	assert_int_equal(len, 0);
	assert_int_equal(fclose(f), 0);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_total),
		cmocka_unit_test(test_never_finished_early),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_unknown_total),
		cmocka_unit_test(test_width),
		cmocka_unit_test(test_drawing),
		cmocka_unit_test(test_clear),
		cmocka_unit_test(test_off_terminal),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
