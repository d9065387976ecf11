/*
 * test_ctl_csv: hallectl's CSV writer (daemon/ctl_csv.c), byte for byte
 * against RFC 4180: quotes only where a field needs them (the separator,
 * a quote, CR or LF), quotes doubled, CRLF after every line, UTF-8 as it
 * came, other control characters replaced; and the separators --csv-sep
 * accepts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctl_csv.h"

/* The CSV of LINES lines of N fields each, with SEP, as one string. */
static char *
csv_of(char sep, const char *const *fields, size_t n, size_t lines)
{
	struct ctl_csv	 csv;
	char		*text = NULL;
	size_t		 len, i;
	FILE		*f;

	assert_non_null(f = open_memstream(&text, &len));
	ctl_csv_init(&csv, f, sep);
	for (i = 0; i < lines; i++)
		ctl_csv_line(&csv, fields + i * n, n);
	assert_int_equal(fclose(f), 0);
	return (text);
}

static void
expect_line(char sep, const char *const *fields, size_t n, const char *want)
{
	char	*got = csv_of(sep, fields, n, 1);

	assert_string_equal(got, want);
	free(got);
}

static void
test_plain(void **state)
{
	const char *const header[] = { "basket", "producer", "quantity" };
	const char *const two[] = { "a", "b", "c", "d", "e", "f" };
	char *got;

	expect_line(',', header, 3, "basket,producer,quantity\r\n");
	got = csv_of(',', two, 3, 2);
	assert_string_equal(got, "a,b,c\r\nd,e,f\r\n");
	free(got);
}

static void
test_empty(void **state)
{
	const char *const empties[] = { "", "x", NULL, "" };
	const char *const one[] = { "" };

	expect_line(',', empties, 4, ",x,,\r\n");
	expect_line(',', one, 1, "\r\n");
}

static void
test_separator_inside(void **state)
{
	const char *const fields[] = { "Panier 12, rue des Lilas", "a;b" };

	expect_line(',', fields, 2, "\"Panier 12, rue des Lilas\",a;b\r\n");
	/* With ';', the comma is ordinary and the semicolon is quoted. */
	expect_line(';', fields, 2, "Panier 12, rue des Lilas;\"a;b\"\r\n");
}

static void
test_quotes(void **state)
{
	const char *const fields[] = { "Le \"grand\" panier", "\"",
	    "\"\"", "fin\"" };

	expect_line(',', fields, 4, "\"Le \"\"grand\"\" panier\","
	    "\"\"\"\",\"\"\"\"\"\",\"fin\"\"\"\r\n");
}

static void
test_newlines(void **state)
{
	const char *const fields[] = { "deux\nlignes", "cr\rseul",
	    "crlf\r\nici", "\n" };

	expect_line(',', fields, 4, "\"deux\nlignes\",\"cr\rseul\","
	    "\"crlf\r\nici\",\"\n\"\r\n");
}

static void
test_utf8(void **state)
{
	const char *const fields[] = { "Maraîcher Dupont", "Préau de l'école",
	    "Crème fraîche, 20 cl", "œufs ×6" };

	expect_line(';', fields, 4, "Maraîcher Dupont;Préau de l'école;"
	    "Crème fraîche, 20 cl;œufs ×6\r\n");
	expect_line(',', fields, 4, "Maraîcher Dupont,Préau de l'école,"
	    "\"Crème fraîche, 20 cl\",œufs ×6\r\n");
}

static void
test_spaces_and_controls(void **state)
{
	const char *const fields[] = { "  espaces  ", "tab\there",
	    "esc\x1b[2J", "del\x7f" };
	const char *const tabbed[] = { "a b", "c\td" };

	/* Spaces belong to the field; a tab is kept; ESC and DEL are not. */
	expect_line(',', fields, 4, "  espaces  ,tab\there,esc?[2J,del?\r\n");
	expect_line('\t', tabbed, 2, "a b\t\"c\td\"\r\n");
}

static void
test_separator_parse(void **state)
{
	static const char *const bad[] = { "", ";;", "\"", "\r", "\n",
	    "\x01", "\x7f", "é", "\x80" };
	char sep = 'x';
	size_t i;

	assert_int_equal(ctl_csv_sep_parse(";", &sep), 0);
	assert_int_equal(sep, ';');
	assert_int_equal(ctl_csv_sep_parse(",", &sep), 0);
	assert_int_equal(sep, ',');
	assert_int_equal(ctl_csv_sep_parse("\t", &sep), 0);
	assert_int_equal(sep, '\t');
	assert_int_equal(ctl_csv_sep_parse("|", &sep), 0);
	assert_int_equal(sep, '|');
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sep = 'x';
		assert_int_equal(ctl_csv_sep_parse(bad[i], &sep), -1);
		assert_int_equal(sep, 'x');
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_separator_inside),
		cmocka_unit_test(test_quotes),
		cmocka_unit_test(test_newlines),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_spaces_and_controls),
		cmocka_unit_test(test_separator_parse),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
