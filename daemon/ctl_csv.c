/*
 * ctl_csv: see ctl_csv.h. A field is scanned once to decide whether it
 * needs quotes, then written byte by byte.
 */
#include <string.h>

#include "ctl_csv.h"

int
ctl_csv_sep_parse(const char *text, char *sep)
{
	unsigned char	 c = (unsigned char)text[0];

	if (c == '\0' || text[1] != '\0' || c >= 0x7f || c == '"' ||
	    (c < 0x20 && c != '\t'))
		return (-1);
	*sep = (char)c;
	return (0);
}

void
ctl_csv_init(struct ctl_csv *csv, FILE *out, char sep)
{
	csv->out = out;
	csv->sep = sep;
	csv->fields = 0;
}

/* Does TEXT need quotes: a separator, a quote, CR or LF? */
static int
field_quoted(const struct ctl_csv *csv, const char *text)
{
	const char	 special[] = { csv->sep, '"', '\r', '\n', '\0' };

	return (text[strcspn(text, special)] != '\0');
}

void
ctl_csv_field(struct ctl_csv *csv, const char *text)
{
	const unsigned char	*p;
	int			 quoted;

	if (text == NULL)
		text = "";
	if (csv->fields++ > 0)
		fputc(csv->sep, csv->out);
	if ((quoted = field_quoted(csv, text)))
		fputc('"', csv->out);
	for (p = (const unsigned char *)text; *p != '\0'; p++) {
		if (*p == '"')
			fputc('"', csv->out);
		if ((*p < 0x20 && *p != '\t' && *p != '\r' && *p != '\n') ||
		    *p == 0x7f)
			fputc('?', csv->out);
		else
			fputc(*p, csv->out);
	}
	if (quoted)
		fputc('"', csv->out);
}

void
ctl_csv_line_end(struct ctl_csv *csv)
{
	fputs("\r\n", csv->out);
	csv->fields = 0;
}

void
ctl_csv_line(struct ctl_csv *csv, const char *const *fields, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		ctl_csv_field(csv, fields[i]);
	ctl_csv_line_end(csv);
}
