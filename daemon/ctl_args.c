/*
 * ctl_args: hallectl's command line, read into a struct invocation, and
 * its usage texts (see ctl.h).
 *
 * The words pick a row of the command table (one word, or a group and a
 * verb); what follows is positional arguments and options. Parsing never
 * stops at the first mistake: it keeps the first one in inv->error and
 * goes on, so that --help anywhere still prints the help of what was
 * named. The only judgement made here is the shape of the line and that
 * numbers are numbers; the rest is the node's.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl.h"
#include "ctl_csv.h"

static void
command_usage(FILE *f, const struct command *c, const char *prefix)
{
	fprintf(f, "%s%s%s%s%s%s\n", prefix, c->group, c->verb ? " " : "",
	    c->verb ? c->verb : "", c->synopsis[0] ? " " : "", c->synopsis);
}

static void
group_usage(FILE *f, const char *group, const char *prefix)
{
	const struct command	*c;

	for (c = commands; c < commands + ncommands; c++)
		if (group == NULL || strcmp(c->group, group) == 0)
			command_usage(f, c, prefix);
}

static void
usage_full(FILE *f)
{
	fprintf(f, USAGE_PREFIX "COMMAND ...\n\n"
	    "Drives a halle node through its control API.\n\ncommands:\n");
	group_usage(f, NULL, "  ");
	fprintf(f, "\noptions:\n"
	    "  -s, --socket SOCKET  the node's control socket (default: "
	    "$HALLE_SOCKET,\n"
	    "                       then " DEFAULT_SOCKET ")\n"
	    "  --json               print the API's JSON instead of tables\n"
	    "  --csv                print CSV (RFC 4180) instead, where a "
	    "command has it\n"
	    "  --csv-sep C          the CSV's separator, one character "
	    "(default ',')\n"
	    "  -h, --help           print this help, or a command's\n"
	    "  --version            print hallectl's version\n\n"
	    "Options take their value as --opt VALUE or --opt=VALUE.\n"
	    "Exit status: 0 success, 1 the node answered with an error, "
	    "2 usage error,\n3 the node cannot be reached.\n");
}

/* --help: the command's usage, the group's, or everything. */
void
usage_help(const struct invocation *inv)
{
	if (inv->command != NULL) {
		command_usage(stdout, inv->command, USAGE_PREFIX);
		printf("\n%s\n", inv->command->summary);
	} else if (inv->group != NULL && group_exists(inv->group)) {
		printf(USAGE_PREFIX "%s COMMAND ...\n\ncommands:\n",
		    inv->group);
		group_usage(stdout, inv->group, "  ");
	} else
		usage_full(stdout);
}

/* The short usage after a usage error, on stderr. */
int
usage_error(const struct invocation *inv, const char *message)
{
	if (message != NULL)
		error_print("%s", message);
	if (inv->command != NULL)
		command_usage(stderr, inv->command, USAGE_PREFIX);
	else if (inv->group != NULL && group_exists(inv->group))
		group_usage(stderr, inv->group, USAGE_PREFIX);
	else
		fprintf(stderr, USAGE_PREFIX "COMMAND ...\n"
		    "Run 'hallectl --help' for the commands.\n");
	return (EXIT_USAGE);
}

static void __attribute__((format(printf, 2, 3)))
invocation_fail(struct invocation *inv, const char *fmt, ...)
{
	va_list	 ap;

	if (inv->error[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(inv->error, sizeof(inv->error), fmt, ap);
	va_end(ap);
}

/* Parses a whole decimal integer, without leading blanks. */
int
integer_parse(const char *s, long long *value)
{
	char	*end;

	if (*s == '\0' || isspace((unsigned char)*s))
		return (-1);
	errno = 0;
	*value = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return (-1);
	return (0);
}

/* The option's value: after "=" or the next argument. */
static const char *
option_value(struct invocation *inv, const char *name, const char *value,
    int argc, char **argv, int *i)
{
	if (value != NULL)
		return (value);
	if (*i + 1 >= argc) {
		invocation_fail(inv, "option %s needs a value", name);
		return (NULL);
	}
	return (argv[++*i]);
}

static int
option_find(const struct command *c, const char *name)
{
	int	 k;

	if (c == NULL || c->options == NULL || strncmp(name, "--", 2) != 0)
		return (-1);
	for (k = 0; c->options[k].name != NULL; k++)
		if (strcmp(c->options[k].name, name + 2) == 0)
			return (k);
	return (-1);
}

static void
option_command(struct invocation *inv, const char *name, const char *value,
    int argc, char **argv, int *i)
{
	const struct option_spec	*o;
	long long			 n;
	int				 k;

	if ((k = option_find(inv->command, name)) == -1) {
		invocation_fail(inv, "unknown option %s", name);
		return;
	}
	assert(k < OPTIONS_MAX);
	o = &inv->command->options[k];
	if (o->kind == OPTION_FLAG) {
		if (value != NULL)
			invocation_fail(inv, "option %s takes no value", name);
		inv->values[k] = "1";
		return;
	}
	if ((value = option_value(inv, name, value, argc, argv, i)) == NULL)
		return;
	if (o->kind == OPTION_INTEGER && integer_parse(value, &n) == -1)
		invocation_fail(inv, "%s: '%s' is not an integer", name, value);
	inv->values[k] = value;
}

static void
option_flag(struct invocation *inv, int *flag, const char *name,
    const char *value)
{
	if (value != NULL)
		invocation_fail(inv, "option %s takes no value", name);
	*flag = 1;
}

/* Takes the option at argv[*i], and its value if it has one. */
static void
option_take(struct invocation *inv, int argc, char **argv, int *i)
{
	const char	*arg = argv[*i], *value = NULL, *eq;
	char		 name[64];
	size_t		 len = strlen(arg);

	if (arg[1] == '-' && (eq = strchr(arg, '=')) != NULL) {
		len = (size_t)(eq - arg);
		value = eq + 1;
	}
	snprintf(name, sizeof(name), "%.*s", (int)len, arg);
	if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0)
		option_flag(inv, &inv->help, name, value);
	else if (strcmp(name, "--version") == 0)
		option_flag(inv, &inv->version, name, value);
	else if (strcmp(name, "--json") == 0)
		option_flag(inv, &inv->json, name, value);
	else if (strcmp(name, "--csv") == 0)
		option_flag(inv, &inv->csv, name, value);
	else if (strcmp(name, "--csv-sep") == 0) {
		if ((value = option_value(inv, name, value, argc, argv, i)))
			inv->csv_sep_given = value;
	}
	else if (strcmp(name, "-s") == 0 || strcmp(name, "--socket") == 0) {
		if ((value = option_value(inv, name, value, argc, argv, i)))
			inv->socket = value;
	} else
		option_command(inv, name, value, argc, argv, i);
}

/* Takes a word: the command's first, its second, or an argument. */
static void
word_take(struct invocation *inv, const char *word)
{
	if (inv->command != NULL)
		inv->args[inv->nargs++] = word;
	else if (inv->group == NULL) {
		inv->group = word;
		inv->command = command_find(word, NULL);
		if (inv->command == NULL && !group_exists(word))
			invocation_fail(inv, "unknown command '%s'", word);
	} else if ((inv->command = command_find(inv->group, word)) == NULL)
		invocation_fail(inv, "unknown command '%s %s'", inv->group,
		    word);
}

/* --csv and --csv-sep: with each other, without --json, where CSV is. */
static void
format_check(struct invocation *inv)
{
	const struct command	*c = inv->command;

	if (inv->csv_sep_given != NULL && !inv->csv)
		invocation_fail(inv, "--csv-sep goes with --csv");
	if (!inv->csv)
		return;
	if (inv->json)
		invocation_fail(inv, "--csv and --json exclude each other: "
		    "choose one");
	else if (c->csv == NULL)
		invocation_fail(inv, "'%s%s%s' has no CSV form: --csv is for "
		    "'distribution baskets' and 'sheet'", c->group,
		    c->verb ? " " : "", c->verb ? c->verb : "");
	if (inv->csv_sep_given != NULL &&
	    ctl_csv_sep_parse(inv->csv_sep_given, &inv->csv_sep) == -1)
		invocation_fail(inv, "--csv-sep '%s': want one character, "
		    "a printable ASCII one other than '\"', or a tab",
		    inv->csv_sep_given);
}

static void
args_check(struct invocation *inv)
{
	const struct command	*c = inv->command;
	int			 k;

	if (c == NULL) {
		if (inv->group == NULL)
			invocation_fail(inv, "missing command");
		else
			invocation_fail(inv, "missing command after '%s'",
			    inv->group);
		return;
	}
	if (inv->nargs < c->min_args)
		invocation_fail(inv, "missing arguments");
	else if (c->max_args >= 0 && inv->nargs > c->max_args)
		invocation_fail(inv, "unexpected argument '%s'",
		    inv->args[c->max_args]);
	for (k = 0; c->options != NULL && c->options[k].name != NULL; k++)
		if (c->options[k].required && inv->values[k] == NULL)
			invocation_fail(inv, "missing --%s",
			    c->options[k].name);
	format_check(inv);
}

/*
 * Fills inv from argv. Global options may come anywhere; a command's
 * options after its words; "--" ends the options. A usage error is kept
 * in inv->error (the first one), --help and --version in their flags.
 */
void
args_parse(struct invocation *inv, int argc, char **argv)
{
	const char	*env = getenv("HALLE_SOCKET");
	int		 i, words_only = 0;

	memset(inv, 0, sizeof(*inv));
	inv->socket = env != NULL && env[0] != '\0' ? env : DEFAULT_SOCKET;
	inv->csv_sep = ',';
	if ((inv->args = calloc((size_t)argc, sizeof(*inv->args))) == NULL)
		out_of_memory();
	for (i = 1; i < argc; i++) {
		if (!words_only && strcmp(argv[i], "--") == 0)
			words_only = 1;
		else if (!words_only && argv[i][0] == '-' &&
		    argv[i][1] != '\0')
			option_take(inv, argc, argv, &i);
		else
			word_take(inv, argv[i]);
	}
	args_check(inv);
}
