/*
 * ctl_output: how hallectl writes (see ctl.h). Messages go to stderr after
 * stdout is flushed, so that the two read in order. Every line a renderer
 * prints goes through out_line() or a table, which replace control
 * characters: a name comes from the network and must not drive the
 * terminal (JSON goes out as jansson writes it, escaped).
 *
 * A table holds its cells until it is flushed, so that each column is as
 * wide as its widest cell (in code points, not bytes); numbers align
 * right and no line ends with blanks. The _format functions turn the
 * API's numbers into what a person reads: "4.50", "5.5%", "1.2 MiB",
 * "00:04:10", "2026-12-05 10:00".
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl.h"

const struct column kv_columns[2] = { { NULL, 0 }, { NULL, 0 } };

void __attribute__((format(printf, 1, 2)))
error_print(const char *fmt, ...)
{
	va_list	 ap;

	fflush(stdout);			/* what came before comes first */
	fputs("hallectl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void __attribute__((noreturn))
out_of_memory(void)
{
	error_print("out of memory");
	exit(EXIT_NODE);
}

static char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		out_of_memory();
	return (p);
}

/* Replaces control characters, which a name must not smuggle to a tty. */
static char *
text_clean(char *s)
{
	char	*p;

	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return (s);
}

/* Prints one line of output, formatted and cleaned. */
void __attribute__((format(printf, 1, 2)))
out_line(const char *fmt, ...)
{
	char	 line[2048];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	puts(text_clean(line));
}

void
json_print(json_t *value)
{
	char	*text;

	if ((text = json_dumps(value, JSON_INDENT(2) | JSON_ENCODE_ANY)) ==
	    NULL)
		out_of_memory();
	puts(text);
	free(text);
}

static size_t
text_width(const char *s)
{
	size_t	 n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return (n);
}

void
table_init(struct table *t, const struct column *columns, size_t ncolumns)
{
	assert(ncolumns <= COLUMNS_MAX);
	memset(t, 0, sizeof(*t));
	t->columns = columns;
	t->ncolumns = ncolumns;
}

/* Adds a row of ncolumns cells, copied. */
void
table_add(struct table *t, const char *const *row)
{
	size_t	 i;
	char	**cells;

	if (t->ncells + t->ncolumns > t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16 * t->ncolumns;
		if ((cells = reallocarray(t->cells, t->cap,
		    sizeof(*cells))) == NULL)
			out_of_memory();
		t->cells = cells;
	}
	for (i = 0; i < t->ncolumns; i++)
		t->cells[t->ncells++] = text_clean(xstrdup(row[i] ? row[i] :
		    ""));
}

/* Adds a "key: value" row to a two-column table. */
void __attribute__((format(printf, 3, 4)))
kv_add(struct table *t, const char *key, const char *fmt, ...)
{
	char		 label[64], value[1024];
	const char	*row[2] = { label, value };
	va_list		 ap;

	snprintf(label, sizeof(label), "%s:", key);
	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	table_add(t, row);
}

static void
table_cell(FILE *f, const char *text, size_t width, int right)
{
	size_t	 pad = width - text_width(text);

	if (right)
		fprintf(f, "%*s%s", (int)pad, "", text);
	else
		fprintf(f, "%s%*s", text, (int)pad, "");
}

/* Prints a row, its cells padded to their column's width, not its end. */
static void
table_row(const struct table *t, const char *const *row,
    const size_t *width, const char *indent)
{
	char	*line = NULL;
	size_t	 len, i;
	FILE	*f;

	if ((f = open_memstream(&line, &len)) == NULL)
		out_of_memory();
	fputs(indent, f);
	for (i = 0; i < t->ncolumns; i++) {
		if (i > 0)
			fputs("  ", f);
		table_cell(f, row[i], width[i], t->columns[i].right);
	}
	if (fclose(f) == EOF)
		out_of_memory();
	while (len > 0 && line[len - 1] == ' ')
		line[--len] = '\0';
	puts(line);
	free(line);
}

static void
table_print(const struct table *t, const char *indent)
{
	const char	*titles[COLUMNS_MAX];
	size_t		 width[COLUMNS_MAX], i, w;
	int		 header = t->columns[0].title != NULL;

	for (i = 0; i < t->ncolumns; i++) {
		titles[i] = header ? t->columns[i].title : "";
		width[i] = text_width(titles[i]);
	}
	for (i = 0; i < t->ncells; i++)
		if ((w = text_width(t->cells[i])) > width[i % t->ncolumns])
			width[i % t->ncolumns] = w;
	if (header)
		table_row(t, titles, width, indent);
	for (i = 0; i < t->ncells; i += t->ncolumns)
		table_row(t, (const char *const *)t->cells + i, width, indent);
}

static void
table_free(struct table *t)
{
	size_t	 i;

	for (i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

void
table_flush(struct table *t, const char *indent)
{
	table_print(t, indent);
	table_free(t);
}

const char *
field_string(json_t *object, const char *key)
{
	const char	*s = json_string_value(json_object_get(object, key));

	return (s != NULL ? s : "");
}

long long
field_integer(json_t *object, const char *key)
{
	return (json_integer_value(json_object_get(object, key)));
}

const char *
field_yes(json_t *object, const char *key)
{
	return (json_is_true(json_object_get(object, key)) ? "yes" : "no");
}

char *
integer_format(char *buf, size_t len, long long n)
{
	snprintf(buf, len, "%lld", n);
	return (buf);
}

/* A JSON number as it reads best: "3", "0.5"; "-" for anything else. */
char *
number_format(char *buf, size_t len, json_t *number)
{
	if (json_is_integer(number))
		snprintf(buf, len, "%lld",
		    (long long)json_integer_value(number));
	else if (json_is_real(number))
		snprintf(buf, len, "%g", json_real_value(number));
	else
		snprintf(buf, len, "-");
	return (buf);
}

char *
money_format(char *buf, size_t len, long long cents)
{
	snprintf(buf, len, "%s%lld.%02lld", cents < 0 ? "-" : "",
	    llabs(cents / 100), llabs(cents % 100));
	return (buf);
}

/* 550 basis points: "5.5%". */
char *
vat_format(char *buf, size_t len, long long bp)
{
	if (bp % 100 == 0)
		snprintf(buf, len, "%lld%%", bp / 100);
	else if (bp % 10 == 0)
		snprintf(buf, len, "%lld.%lld%%", bp / 100,
		    llabs(bp % 100) / 10);
	else
		snprintf(buf, len, "%lld.%02lld%%", bp / 100, llabs(bp % 100));
	return (buf);
}

char *
size_format(char *buf, size_t len, long long bytes)
{
	static const char	*units[] = { "KiB", "MiB", "GiB", "TiB" };
	double			 v = (double)bytes;
	size_t			 u = 0;

	if (bytes < 1024) {
		snprintf(buf, len, "%lld B", bytes);
		return (buf);
	}
	while ((v /= 1024) >= 1024 && u + 1 < nitems(units))
		u++;
	snprintf(buf, len, "%.1f %s", v, units[u]);
	return (buf);
}

/* Seconds as "00:04:10", or "1d02h03m" from a day on; "Never" if absent. */
char *
age_format(char *buf, size_t len, json_t *seconds)
{
	long long	 s = json_integer_value(seconds);

	if (!json_is_integer(seconds) || s < 0)
		snprintf(buf, len, "Never");
	else if (s < 86400)
		snprintf(buf, len, "%02lld:%02lld:%02lld", s / 3600,
		    s / 60 % 60, s % 60);
	else
		snprintf(buf, len, "%lldd%02lldh%02lldm", s / 86400,
		    s / 3600 % 24, s / 60 % 60);
	return (buf);
}

/* "2026-12-05T10:00:00+01:00" as "2026-12-05 10:00"; "Never" if absent. */
char *
instant_format(char *buf, size_t len, const char *iso)
{
	if (iso[0] == '\0')
		snprintf(buf, len, "Never");
	else if (strlen(iso) >= 16 && iso[10] == 'T')
		snprintf(buf, len, "%.10s %.5s", iso, iso + 11);
	else
		snprintf(buf, len, "%s", iso);
	return (buf);
}

/* "Ferme du Moulin (pr-1a2b3c4d5e6f)" from two members of object. */
char *
named_format(char *buf, size_t len, json_t *object, const char *name_key,
    const char *id_key)
{
	snprintf(buf, len, "%s (%s)", field_string(object, name_key),
	    field_string(object, id_key));
	return (buf);
}

/* Prints "created producer pr-..." for commands that change; 1 if done. */
int
done_print(const struct invocation *inv, json_t *answer)
{
	if (inv->command->done == NULL)
		return (0);
	out_line("%s %s", inv->command->done, field_string(answer, "id"));
	return (1);
}

int
empty_print(json_t *array, const char *what)
{
	if (json_array_size(array) > 0)
		return (0);
	out_line("no %s", what);
	return (1);
}
