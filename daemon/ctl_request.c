/*
 * ctl_request: from a parsed command line to what is sent (see ctl.h):
 * the request target, percent-encoded, and the body.
 *
 * Most bodies are built the same way from the command's row: its fields
 * take the next arguments, its options follow, then order lines
 * (PRODUCER:SKU:QTY, split on the last two colons). A few commands send a
 * file instead: a catalogue as parsed JSON, a DFC document as its text,
 * read whole and checked to be JSON before anything is sent.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl.h"
#include "ctl_http.h"

static int
text_append(char *out, size_t outlen, const char *s)
{
	size_t	 len = strlen(out), n = strlen(s);

	if (len + n + 1 > outlen)
		return (-1);
	memcpy(out + len, s, n + 1);
	return (0);
}

/*
 * Writes the request target into out: the command's target with its "%s"
 * replaced by arguments, and its query. Returns how many arguments it
 * took, or -1 (message printed) when they are too long.
 */
int
request_target(const struct invocation *inv, char *out, size_t outlen)
{
	const struct command	*c = inv->command;
	const char		*p;
	char			 ch[2] = { 0, 0 };
	int			 next = 0, r = 0, k;

	out[0] = '\0';
	for (p = c->target; *p != '\0' && r == 0; p++) {
		if (p[0] == '%' && p[1] == 's') {
			assert(next < inv->nargs);
			r = ctl_http_escape(out, outlen, inv->args[next++]);
			p++;
		} else {
			ch[0] = *p;
			r = text_append(out, outlen, ch);
		}
	}
	if (r == 0 && c->query != NULL && next < inv->nargs) {
		if ((r = text_append(out, outlen, "?")) == 0 &&
		    (r = text_append(out, outlen, c->query)) == 0 &&
		    (r = text_append(out, outlen, "=")) == 0)
			r = ctl_http_escape(out, outlen, inv->args[next++]);
	}
	for (k = 0; r == 0 && c->options && c->options[k].name != NULL; k++)
		if (c->options[k].kind == OPTION_FLAG && inv->values[k] &&
		    (r = text_append(out, outlen, strchr(out, '?') ? "&" :
		    "?")) == 0 && (r = text_append(out, outlen,
		    c->options[k].field)) == 0)
			r = text_append(out, outlen, "=1");
	if (r == -1) {
		error_print("arguments too long");
		return (-1);
	}
	return (next);
}

/* Sets body[field] to value; NULL means GIVEN was not valid UTF-8. */
static int
body_set(json_t *body, const char *field, json_t *value, const char *given)
{
	if (value == NULL) {
		error_print("'%s' is not valid UTF-8", given);
		return (-1);
	}
	json_object_set_new(body, field, value);
	return (0);
}

static int
body_options(const struct invocation *inv, json_t *body)
{
	const struct option_spec	*o = inv->command->options;
	const char			*v;
	long long			 n;
	int				 k;

	for (k = 0; o != NULL && o[k].name != NULL; k++) {
		if (o[k].kind == OPTION_FLAG)
			continue;	/* in the query: request_target */
		if ((v = inv->values[k]) == NULL && (v = o[k].fallback) == NULL)
			continue;
		if (o[k].kind == OPTION_INTEGER) {
			if (integer_parse(v, &n) == -1)
				return (-1);	/* checked when parsed */
			json_object_set_new(body, o[k].field,
			    json_integer((json_int_t)n));
		} else if (body_set(body, o[k].field, json_string(v), v) == -1)
			return (-1);
	}
	return (0);
}

static const char *
colon_before(const char *start, const char *end)
{
	while (end > start)
		if (*--end == ':')
			return (end);
	return (NULL);
}

/*
 * Parses PRODUCER:SKU:QTY, split on the last two colons. A zero or negative
 * QTY goes through: the node says why it refuses it.
 */
static json_t *
line_parse(const char *arg)
{
	const char	*qty, *sku;
	long long	 quantity;
	json_t		*line;

	qty = strrchr(arg, ':');
	sku = qty != NULL ? colon_before(arg, qty) : NULL;
	if (sku == NULL || sku == arg || sku + 1 == qty) {
		error_print("bad order line '%s': expected PRODUCER:SKU:QTY",
		    arg);
		return (NULL);
	}
	if (integer_parse(qty + 1, &quantity) == -1) {
		error_print("bad order line '%s': quantity '%s' is not an "
		    "integer", arg, qty + 1);
		return (NULL);
	}
	line = json_pack("{s:s%, s:s%, s:I}", "producer", arg,
	    (size_t)(sku - arg), "sku", sku + 1, (size_t)(qty - sku - 1),
	    "quantity", (json_int_t)quantity);
	if (line == NULL)
		error_print("bad order line '%s': not valid UTF-8", arg);
	return (line);
}

static int
body_lines(const struct invocation *inv, int first, json_t *body)
{
	json_t	*lines, *line;
	int	 i;

	if ((lines = json_array()) == NULL)
		out_of_memory();
	for (i = first; i < inv->nargs; i++) {
		if ((line = line_parse(inv->args[i])) == NULL) {
			json_decref(lines);
			return (-1);
		}
		json_array_append_new(lines, line);
	}
	json_object_set_new(body, "lines", lines);
	return (0);
}

/* The body of most commands: fields, options, then order lines. */
int
body_fields(const struct invocation *inv, int first, json_t **bodyp)
{
	const struct command	*c = inv->command;
	const char		*arg;
	json_t			*body;
	size_t			 i;

	if ((body = json_object()) == NULL)
		out_of_memory();
	for (i = 0; i < nitems(c->fields) && c->fields[i] != NULL; i++) {
		arg = inv->args[first++];
		if (body_set(body, c->fields[i], json_string(arg), arg) == -1)
			goto fail;
	}
	if (body_options(inv, body) == -1)
		goto fail;
	if (c->lines && body_lines(inv, first, body) == -1)
		goto fail;
	*bodyp = body;
	return (0);
fail:
	json_decref(body);
	return (usage_error(inv, NULL));
}

/*
 * Reads the JSON document in the file args[first] ("-": stdin): its text
 * into *textp (to free) and what it parses to into *docp. 0, or
 * EXIT_USAGE after a message naming the file, line and column.
 */
static int
document_read(const struct invocation *inv, int first, char **textp,
    json_t **docp)
{
	const char	*path = inv->args[first];
	const char	*name = strcmp(path, "-") == 0 ? "stdin" : path;
	FILE		*f = stdin, *mem;
	json_error_t	 error;
	char		*text = NULL, buf[8192];
	size_t		 len = 0, n;
	int		 failed;

	if (strcmp(path, "-") != 0 && (f = fopen(path, "r")) == NULL) {
		error_print("%s: %s", path, strerror(errno));
		return (EXIT_USAGE);
	}
	if ((mem = open_memstream(&text, &len)) == NULL)
		out_of_memory();
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, mem);
	failed = ferror(f) ? errno : 0;
	if (f != stdin)
		fclose(f);
	if (fclose(mem) == EOF)
		out_of_memory();
	if (failed != 0) {
		error_print("%s: %s", name, strerror(failed));
		free(text);
		return (EXIT_USAGE);
	}
	if ((*docp = json_loadb(text, len, JSON_DECODE_ANY, &error)) == NULL) {
		error_print("%s:%d:%d: %s", name, error.line, error.column,
		    error.text);
		free(text);
		return (EXIT_USAGE);
	}
	*textp = text;
	return (0);
}

/* catalogue publish: the file's JSON object, as it is. */
int
body_catalogue(const struct invocation *inv, int first, json_t **bodyp)
{
	char	*text;
	int	 code;

	if ((code = document_read(inv, first, &text, bodyp)) != 0)
		return (code);
	free(text);
	if (!json_is_object(*bodyp)) {
		error_print("%s: not a JSON object", strcmp(inv->args[first],
		    "-") == 0 ? "stdin" : inv->args[first]);
		json_decref(*bodyp);
		*bodyp = NULL;
		return (EXIT_USAGE);
	}
	return (0);
}

/*
 * catalogue import: the file's text, sent as it is (numbers keep their
 * digits), once it is known to be JSON.
 */
int
text_document(const struct invocation *inv, int first, char **textp)
{
	json_t	*doc;
	int	 code;

	if ((code = document_read(inv, first, textp, &doc)) != 0)
		return (code);
	json_decref(doc);
	return (0);
}

/* backup: {"path"}, made absolute: the node does not run where we do. */
int
body_backup(const struct invocation *inv, int first, json_t **bodyp)
{
	const char	*path = inv->args[first];
	char		 cwd[TARGET_MAX], full[2 * TARGET_MAX];
	json_t		*body;

	if (path[0] != '/') {
		if (getcwd(cwd, sizeof(cwd)) == NULL) {
			error_print("cannot tell the current directory: %s",
			    strerror(errno));
			return (EXIT_USAGE);
		}
		snprintf(full, sizeof(full), "%s/%s", cwd, path);
		path = full;
	}
	if ((body = json_pack("{s:s}", "path", path)) == NULL) {
		error_print("'%s' is not valid UTF-8", path);
		return (EXIT_USAGE);
	}
	*bodyp = body;
	return (0);
}
