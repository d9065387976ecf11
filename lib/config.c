/*
 * config: reads and checks the node's INI file (the format is in config.h).
 *
 * libinih calls config_handler once for each "key = value" line. Every known
 * section has a table of its keys, each with a parse function that checks
 * the value and stores it into struct halle_config: [node] in config_node.c,
 * [peer NAME] and [grouping NAME] in config_peers.c (config_int.h says how
 * a section is described). This file is the reader: it finds the section
 * and the key of each line, refuses unknown and duplicate ones, reports the
 * required keys missing, and runs the checks that need the whole file
 * (config_resolve) once inih is done.
 *
 * [node] is a single section. [peer NAME] and [grouping NAME] are named:
 * each header opens a new peer or grouping, appended to its array in cfg,
 * and the parse functions of their keys fill the last one.
 *
 * This build of inih does not tell the handler its line number, nor when a
 * section starts, and it keeps only the first 49 bytes of a section name.
 * Instead ini_parse_stream returns the number of the first line that
 * failed, because the handler returned 0 or because the line is not INI
 * syntax. We ask inih to stop at the first error, so the line it returns is
 * the one our handler rejected if the handler left a message, and a syntax
 * error otherwise. The rest we learn from our own reader, config_read: it
 * counts lines, so that a peer or grouping can remember its line for the
 * checks made after parsing, and it notes each section header, its line and
 * its whole name, so that two headers of the same name are told apart and a
 * 63-character peer name is not cut.
 *
 * inih is set up the same way before every parse, through the global knobs
 * of the Debian build: stop at the first error; no multi-line values, so an
 * indented "key = value" is an ordinary line and not a continuation of the
 * previous value; and a line buffer on the heap that may grow to
 * CONFIG_LINE_MAX, so a long path is read whole rather than cut at 200 bytes.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "config_int.h"

#define CONFIG_LINE_MAX		8192
#define CONFIG_MSG_MAX		256
#define SECTION_NAME_MAX	127	/* kept whole by config_read */

static const struct config_section *const config_sections[] = {
	&config_section_node,
	&config_section_peer,
	&config_section_grouping,
};

/* What the reader and the handler carry from one line to the next. */
struct config_parse {
	struct halle_config	*cfg;
	FILE			*fp;
	int			 line;		/* being parsed, from 1 */
	bool			 line_ended;	/* the last read ended a line */
	int			 header_line;	/* of the last section header */
	char			 header[SECTION_NAME_MAX + 1];	/* its name */
	int			 opened_line;	/* header_line, once opened */
	/* Keys seen, one bit each; of the last peer for [peer NAME]. */
	uint32_t		 seen[nitems(config_sections)];
	char			 msg[CONFIG_MSG_MAX];	/* first error, or "" */
};

static void __attribute__((format(printf, 3, 4)))
config_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int
config_strdup(char **field, const char *value, char *msg, size_t msglen)
{
	if ((*field = strdup(value)) == NULL) {
		snprintf(msg, msglen, "out of memory");
		return -1;
	}
	return 0;
}

/* Checks a node, peer or grouping name; what names it in the message. */
int
config_name_check(const char *what, const char *value, char *msg, size_t msglen)
{
	size_t	n;

	n = strspn(value, "abcdefghijklmnopqrstuvwxyz0123456789-");
	if (n == 0 || value[n] != '\0' || n > CONFIG_NAME_MAX ||
	    value[0] == '-') {
		snprintf(msg, msglen, "bad %s '%s': want 1 to %d characters "
		    "of a-z, 0-9 and '-', not starting with '-'", what, value,
		    CONFIG_NAME_MAX);
		return -1;
	}
	return 0;
}

/*
 * The section "name" or "name INSTANCE" in config_sections, or NULL; sets
 * *si to its index and *instance to INSTANCE ("" for "[peer]"), or to NULL
 * for a single section.
 */
static const struct config_section *
config_section_find(const char *section, size_t *si, const char **instance)
{
	const struct config_section	*s;
	size_t				 len;

	for (*si = 0; *si < nitems(config_sections); (*si)++) {
		s = config_sections[*si];
		len = strlen(s->name);
		if (strncmp(section, s->name, len) != 0)
			continue;
		if (section[len] == '\0') {
			*instance = s->open != NULL ? "" : NULL;
			return s;
		}
		if (section[len] == ' ' && s->open != NULL) {
			*instance = section + len + 1;
			return s;
		}
	}
	return NULL;
}

/* Called by inih for each key; returns 0 to make ini_parse stop. */
static int
config_handler(void *user, const char *section, const char *key,
    const char *value)
{
	struct config_parse		*p = user;
	const struct config_section	*s = NULL;
	const struct config_key		*k = NULL;
	const char			*instance;
	size_t				 si, ki;

	if (p->msg[0] != '\0')
		return 0;
	if (section[0] == '\0') {
		snprintf(p->msg, sizeof(p->msg), "key '%s' is outside any "
		    "section", key);
		return 0;
	}
	/* inih's copy is cut at 49 bytes; config_read kept the whole name. */
	if (strncmp(p->header, section, strlen(section)) == 0)
		section = p->header;
	if ((s = config_section_find(section, &si, &instance)) == NULL) {
		snprintf(p->msg, sizeof(p->msg), "unknown section [%s]",
		    section);
		return 0;
	}
	/* The first key after a [peer NAME] header opens that peer. */
	if (instance != NULL && p->opened_line != p->header_line) {
		p->opened_line = p->header_line;
		p->seen[si] = 0;
		if (s->open(p->cfg, instance, p->line, p->msg,
		    sizeof(p->msg)) == -1)
			return 0;
	}
	for (ki = 0; ki < s->nkeys; ki++)
		if (strcmp(key, s->keys[ki].name) == 0) {
			k = &s->keys[ki];
			break;
		}
	if (k == NULL) {
		snprintf(p->msg, sizeof(p->msg), "unknown key '%s' in [%s]",
		    key, section);
		return 0;
	}
	if (p->seen[si] & (UINT32_C(1) << ki)) {
		snprintf(p->msg, sizeof(p->msg), "duplicate key '%s' in [%s]",
		    key, section);
		return 0;
	}
	p->seen[si] |= UINT32_C(1) << ki;
	/* The packaged configuration ships the name empty: say what to do. */
	if (value[0] == '\0' && s == &config_section_node &&
	    strcmp(key, "name") == 0) {
		snprintf(p->msg, sizeof(p->msg), "name is empty: set the node's "
		    "name on this line (1 to %d characters of a-z, 0-9 and "
		    "'-'), the name its peers will know it by", CONFIG_NAME_MAX);
		return 0;
	}
	if (value[0] == '\0') {
		snprintf(p->msg, sizeof(p->msg), "'%s' must not be empty", key);
		return 0;
	}
	return k->parse(p->cfg, value, p->msg, sizeof(p->msg)) == 0;
}

/*
 * inih's reader: fgets on p->fp, which also counts lines and notes each
 * section header the way inih reads it: after an optional UTF-8 byte order
 * mark on line 1 and any spaces, '[' then the name up to the first ']'. A
 * line longer than inih's buffer arrives in several reads. A NUL byte in a
 * line stops the reading with an error in p->msg (text files have none).
 */
static char *
config_read(char *buf, int size, void *stream)
{
	struct config_parse	*p = stream;
	const unsigned char	*s = (const unsigned char *)buf;
	bool			 line_start = p->line_ended;
	const char		*newline;
	size_t			 n;

	memset(buf, 0, (size_t)size);
	if (fgets(buf, size, p->fp) == NULL)
		return NULL;
	/* fgets stops after a newline: a NUL before it is in the line. */
	newline = memchr(buf, '\n', (size_t)size);
	n = newline != NULL ? (size_t)(newline - buf) + 1 :
	    feof(p->fp) ? strlen(buf) : (size_t)size - 1;
	p->line_ended = newline != NULL;
	if (line_start)
		p->line++;
	if (strlen(buf) < n) {
		if (p->msg[0] == '\0')
			snprintf(p->msg, sizeof(p->msg), "a NUL byte in the "
			    "line");
		return NULL;
	}
	if (!line_start)
		return buf;
	if (p->line == 1 && strncmp(buf, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	while (isspace(*s))
		s++;
	if (*s++ != '[')
		return buf;
	n = strcspn((const char *)s, "]");
	if (n > SECTION_NAME_MAX)
		n = SECTION_NAME_MAX;
	memcpy(p->header, s, n);
	p->header[n] = '\0';
	p->header_line = p->line;
	return buf;
}

/* The first required key of [node] not seen, in table order; NULL if none. */
static const char *
config_missing(const struct config_parse *p, const char **section)
{
	const struct config_section	*s;
	size_t				 si, ki;

	for (si = 0; si < nitems(config_sections); si++) {
		s = config_sections[si];
		for (ki = 0; ki < s->nkeys; ki++) {
			if (s->open != NULL || !s->keys[ki].required ||
			    (p->seen[si] & (UINT32_C(1) << ki)))
				continue;
			*section = s->name;
			return s->keys[ki].name;
		}
	}
	return NULL;
}

static void
config_ini_setup(void)
{
	ini_stop_on_first_error = true;
	ini_allow_multiline = false;
	ini_use_stack = false;
	ini_allow_realloc = true;
	ini_max_line = CONFIG_LINE_MAX;
}

/*
 * Reads the file into cfg through inih, and says where the first line it
 * refused is. The file is opened here rather than by ini_parse so that a
 * read error, such as FILE being a directory, is told apart from an empty
 * file. 0, or -1 with "FILE:LINE: reason" or "FILE: reason" in err.
 */
static int
config_parse_file(struct config_parse *p, const char *file, char *err,
    size_t errlen)
{
	int	 line, read_errno;

	if ((p->fp = fopen(file, "r")) == NULL) {
		config_error(err, errlen, "%s: cannot open: %s", file,
		    strerror(errno));
		return -1;
	}
	config_ini_setup();
	line = ini_parse_stream(config_read, p, config_handler, p);
	read_errno = errno;
	if (ferror(p->fp)) {
		fclose(p->fp);
		config_error(err, errlen, "%s: cannot read: %s", file,
		    strerror(read_errno));
		return -1;
	}
	fclose(p->fp);
	p->fp = NULL;
	if (line == -2) {
		config_error(err, errlen, "%s: out of memory", file);
		return -1;
	}
	if (line == 0 && p->msg[0] != '\0')
		line = p->line;	/* config_read stopped at a NUL byte */
	if (line != 0) {
		config_error(err, errlen, "%s:%d: %s", file, line,
		    p->msg[0] != '\0' ? p->msg : "syntax error");
		return -1;
	}
	return 0;
}

/*
 * What follows the parse: the required keys, the checks that need the
 * whole file, the defaults that depend on it. 0, or -1 with err.
 */
static int
config_complete(struct config_parse *p, const char *file, char *err,
    size_t errlen)
{
	struct halle_config	*cfg = p->cfg;
	const char		*missing, *section;
	int			 line;

	if ((missing = config_missing(p, &section)) != NULL) {
		config_error(err, errlen, "%s: missing '%s' in [%s]", file,
		    missing, section);
		return -1;
	}
	if ((line = config_resolve(cfg, p->msg, sizeof(p->msg))) != 0) {
		config_error(err, errlen, "%s:%d: %s", file, line, p->msg);
		return -1;
	}
	if (config_node_finish(cfg) == -1 ||
	    (cfg->path = strdup(file)) == NULL) {
		config_error(err, errlen, "%s: out of memory", file);
		return -1;
	}
	return 0;
}

/* Reads FILE into cfg; see config.h. cfg's previous contents are not freed. */
int
config_load(struct halle_config *cfg, const char *file, char *err,
    size_t errlen)
{
	struct config_parse	 p;

	memset(cfg, 0, sizeof(*cfg));
	memset(&p, 0, sizeof(p));
	p.cfg = cfg;
	p.line_ended = true;
	config_node_defaults(cfg);
	if (config_parse_file(&p, file, err, errlen) == -1 ||
	    config_complete(&p, file, err, errlen) == -1) {
		config_free(cfg);
		return -1;
	}
	return 0;
}

/* Frees what config_load allocated and zeroes cfg; safe to call twice. */
void
config_free(struct halle_config *cfg)
{
	size_t	i, j;

	for (i = 0; i < cfg->npeers; i++) {
		free(cfg->peers[i].name);
		free(cfg->peers[i].endpoint);
	}
	free(cfg->peers);
	for (i = 0; i < cfg->ngroupings; i++) {
		for (j = 0; j < cfg->groupings[i].nmembers; j++)
			free(cfg->groupings[i].members[j]);
		free(cfg->groupings[i].members);
		free(cfg->groupings[i].member_peers);
		free(cfg->groupings[i].name);
	}
	free(cfg->groupings);
	free(cfg->path);
	free(cfg->name);
	free(cfg->data_dir);
	free(cfg->key_file);
	free(cfg->control);
	free(cfg->listen);
	free(cfg->timezone);
	free(cfg->metrics_listen);
	free(cfg->dfc_base);
	memset(cfg, 0, sizeof(*cfg));
}
