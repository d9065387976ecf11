/*
 * promcheck: a strict checker of the Prometheus text exposition format
 * (version 0.0.4), for the metrics test (tests/integration/metrics.sh).
 *
 *   promcheck [FILE]        reads FILE, or stdin; exit 0 when it is valid,
 *                           1 with one line per error, 2 on a usage error
 *
 * Stricter than Prometheus itself, as halle's own output should be:
 *
 *   - every family has one "# HELP" and one "# TYPE" line, both before its
 *     first sample, and its lines are together (a family never comes back);
 *   - metric and label names match [a-zA-Z_:][a-zA-Z0-9_:]* and
 *     [a-zA-Z_][a-zA-Z0-9_]*; no label name twice in a sample, no trailing
 *     comma; label values are quoted, with only \\, \" and \n as escapes;
 *     HELP text escapes only \\ and \n;
 *   - values are floats (digits, '.', exponent, or NaN, +Inf, -Inf) and the
 *     optional timestamp an integer;
 *   - a counter's name ends in _total; a sample belongs to its family
 *     (histogram and summary samples may add _bucket, _sum, _count);
 *   - no series (name and label set) appears twice; the text ends with a
 *     newline.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_LEN	65536
#define LABELS_MAX	32

struct family {
	char	 name[256];
	char	 type[16];
	int	 help, typed, samples;
};

static struct family	*families;
static size_t		 nfamilies, families_cap;
static char		**series;
static size_t		 nseries, series_cap;
static int		 errors;
static long		 lineno;

static void
error(const char *fmt, const char *arg)
{
	fprintf(stderr, "promcheck: line %ld: ", lineno);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	errors++;
}

static void *
grow(void *p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : 64;
	if ((p = realloc(p, *cap * size)) == NULL) {
		fprintf(stderr, "promcheck: out of memory\n");
		exit(2);
	}
	return p;
}

static int
name_start(int c, int colon)
{
	return isalpha(c) || c == '_' || (colon && c == ':');
}

static int
name_char(int c, int colon)
{
	return name_start(c, colon) || isdigit(c);
}

/* The length of the name at s (metric names may hold ':'), 0 if none. */
static size_t
name_len(const char *s, int colon)
{
	size_t n = 0;

	if (!name_start((unsigned char)s[0], colon))
		return 0;
	while (name_char((unsigned char)s[n], colon))
		n++;
	return n;
}

static struct family *
family_find(const char *name)
{
	size_t i;

	for (i = 0; i < nfamilies; i++)
		if (strcmp(families[i].name, name) == 0)
			return &families[i];
	return NULL;
}

static struct family *
family_get(const char *name)
{
	struct family *f;

	if ((f = family_find(name)) != NULL)
		return f;
	families = grow(families, &families_cap, nfamilies, sizeof(*families));
	f = &families[nfamilies++];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%.255s", name);
	return f;
}

/* The family being written: only its lines may come until the next one. */
static struct family *current;

static void
family_enter(struct family *f)
{
	if (current == f)
		return;
	if (f->help || f->typed || f->samples)
		error("family %s comes back after other families", f->name);
	current = f;
}

static int
float_valid(const char *s)
{
	if (strcmp(s, "NaN") == 0 || strcmp(s, "+Inf") == 0 ||
	    strcmp(s, "-Inf") == 0)
		return 1;
	if (*s == '+' || *s == '-')
		s++;
	if (!isdigit((unsigned char)*s) && !(*s == '.' &&
	    isdigit((unsigned char)s[1])))
		return 0;
	while (isdigit((unsigned char)*s))
		s++;
	if (*s == '.')
		for (s++; isdigit((unsigned char)*s); s++)
			;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!isdigit((unsigned char)*s))
			return 0;
		while (isdigit((unsigned char)*s))
			s++;
	}
	return *s == '\0';
}

static int
integer_valid(const char *s)
{
	if (*s == '-')
		s++;
	if (!isdigit((unsigned char)*s))
		return 0;
	while (isdigit((unsigned char)*s))
		s++;
	return *s == '\0';
}

static void
comment_line(char *line)
{
	char *name, *rest, *p;
	struct family *f;
	size_t n;
	int help;

	if (strncmp(line, "# HELP ", 7) != 0 && strncmp(line, "# TYPE ", 7) != 0)
		return;		/* another comment: allowed, ignored */
	help = line[2] == 'H';
	name = line + 7;
	if ((n = name_len(name, 1)) == 0 || (name[n] != ' ' &&
	    name[n] != '\0')) {
		error("bad metric name in '%s'", line);
		return;
	}
	rest = name[n] ? name + n + 1 : name + n;
	name[n] = '\0';
	f = family_get(name);
	family_enter(f);
	if (f->samples)
		error("%s: HELP or TYPE after its samples", name);
	if (help) {
		if (f->help++)
			error("%s: a second HELP", name);
		for (p = rest; *p != '\0'; p++)
			if (*p == '\\' && (p[1] == '\\' || p[1] == 'n'))
				p++;
			else if (*p == '\\')
				error("bad escape in the HELP of %s", name);
		return;
	}
	if (f->typed++)
		error("%s: a second TYPE", name);
	if (strcmp(rest, "counter") != 0 && strcmp(rest, "gauge") != 0 &&
	    strcmp(rest, "histogram") != 0 && strcmp(rest, "summary") != 0 &&
	    strcmp(rest, "untyped") != 0)
		error("unknown type '%s'", rest);
	snprintf(f->type, sizeof(f->type), "%s", rest);
	if (strcmp(rest, "counter") == 0 && (strlen(name) < 6 ||
	    strcmp(name + strlen(name) - 6, "_total") != 0))
		error("counter %s does not end in _total", name);
}

/* The family a sample of that name belongs to, by the families typed. */
static struct family *
sample_family(const char *name)
{
	static const char *const suffixes[] = { "_bucket", "_sum", "_count" };
	struct family *f;
	char base[256];
	size_t i, n = strlen(name), s;

	if ((f = family_find(name)) != NULL)
		return f;
	for (i = 0; i < 3; i++) {
		s = strlen(suffixes[i]);
		if (n <= s || n - s >= sizeof(base) ||
		    strcmp(name + n - s, suffixes[i]) != 0)
			continue;
		snprintf(base, sizeof(base), "%.*s", (int)(n - s), name);
		if ((f = family_find(base)) != NULL &&
		    (strcmp(f->type, "histogram") == 0 ||
		    (strcmp(f->type, "summary") == 0 && i > 0)))
			return f;
	}
	return NULL;
}

static int
label_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Parses {name="value",...} at *pp into labels (each "name=value" as
 * written, for the series key). Returns how many, or -1.
 */
static int
labels_parse(char **pp, char labels[][512])
{
	char *p = *pp + 1, *start;
	size_t n;
	int count = 0, i;

	while (*p != '}') {
		if (count == LABELS_MAX || (n = name_len(p, 0)) == 0)
			return -1;
		start = p;
		p += n;
		if (*p++ != '=' || *p++ != '"')
			return -1;
		while (*p != '"') {
			if (*p == '\0' || *p == '\n')
				return -1;
			if (*p == '\\') {
				if (p[1] != '\\' && p[1] != '"' && p[1] != 'n')
					return -1;
				p++;
			}
			p++;
		}
		p++;
		if ((size_t)(p - start) >= sizeof(labels[0]))
			return -1;
		snprintf(labels[count], sizeof(labels[0]), "%.*s",
		    (int)(p - start), start);
		for (i = 0; i < count; i++)
			if (strncmp(labels[i], start, n + 1) == 0)
				return -1;	/* the same label name twice */
		count++;
		if (*p == ',') {
			p++;
			if (*p == '}')
				return -1;	/* trailing comma */
		} else if (*p != '}')
			return -1;
	}
	*pp = p + 1;
	return count;
}

static void
sample_line(char *line)
{
	char labels[LABELS_MAX][512], *sorted[LABELS_MAX], *p = line, *value;
	char *timestamp, key[LINE_MAX_LEN];
	struct family *f;
	size_t n, len;
	int nlabels = 0, i;

	if ((n = name_len(p, 1)) == 0) {
		error("bad sample line '%s'", line);
		return;
	}
	p += n;
	if (*p == '{' && (nlabels = labels_parse(&p, labels)) == -1) {
		error("bad labels in '%s'", line);
		return;
	}
	if (*p != ' ') {
		error("no value in '%s'", line);
		return;
	}
	value = p + 1;
	if ((timestamp = strchr(value, ' ')) != NULL)
		*timestamp++ = '\0';
	if (!float_valid(value))
		error("value '%s' is not a float", value);
	if (timestamp != NULL && !integer_valid(timestamp))
		error("timestamp '%s' is not an integer", timestamp);
	snprintf(key, sizeof(key), "%.*s", (int)n, line);
	if ((f = sample_family(key)) == NULL) {
		error("sample %s has no TYPE before it", key);
		return;
	}
	family_enter(f);
	if (!f->help)
		error("sample %s has no HELP before it", key);
	f->samples++;
	for (i = 0; i < nlabels; i++)
		sorted[i] = labels[i];
	qsort(sorted, (size_t)nlabels, sizeof(sorted[0]), label_cmp);
	for (i = 0; i < nlabels; i++) {
		len = strlen(key);
		snprintf(key + len, sizeof(key) - len, "%c%s", i ? ',' : '{',
		    sorted[i]);
	}
	series = grow(series, &series_cap, nseries, sizeof(*series));
	if ((series[nseries++] = strdup(key)) == NULL) {
		fprintf(stderr, "promcheck: out of memory\n");
		exit(2);
	}
}

static int
series_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(int argc, char *argv[])
{
	static char line[LINE_MAX_LEN];
	FILE *in = stdin;
	size_t i, len;
	int last_newline = 1, samples = 0;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-' && argv[1][1])) {
		fprintf(stderr, "usage: promcheck [FILE]\n");
		return 2;
	}
	if (argc == 2 && strcmp(argv[1], "-") != 0 &&
	    (in = fopen(argv[1], "r")) == NULL) {
		perror(argv[1]);
		return 2;
	}
	while (fgets(line, sizeof(line), in) != NULL) {
		lineno++;
		len = strlen(line);
		last_newline = len > 0 && line[len - 1] == '\n';
		if (last_newline)
			line[--len] = '\0';
		else if (len == sizeof(line) - 1) {
			error("line too long%s", "");
			break;
		}
		if (len == 0)
			continue;
		if (line[0] == '#')
			comment_line(line);
		else {
			sample_line(line);
			samples++;
		}
	}
	if (!last_newline)
		error("the text does not end with a newline%s", "");
	for (i = 0; i < nfamilies; i++) {
		if (!families[i].typed)
			error("family %s has no TYPE", families[i].name);
		if (!families[i].help)
			error("family %s has no HELP", families[i].name);
	}
	qsort(series, nseries, sizeof(*series), series_cmp);
	for (i = 1; i < nseries; i++)
		if (strcmp(series[i - 1], series[i]) == 0)
			error("series %s appears twice", series[i]);
	if (errors)
		return 1;
	printf("ok: %zu families, %d samples\n", nfamilies, samples);
	return 0;
}
