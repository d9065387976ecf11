/*
 * hallectl: the command-line client of halled's control API.
 *
 * Each command is one HTTP request on the node's control socket, and the
 * command table below follows the table at the end of docs/control-api.md
 * row for row:
 *
 *   argv -> args_parse -> struct invocation -> target and body
 *        -> ctl_http_exchange -> 2xx: --json prints the JSON as it came,
 *                                     else the command's show_ function
 *                             -> error: the node's message on stderr
 *
 * The client keeps no state and judges little: it checks the shape of the
 * command line and that numbers are numbers; everything else is the node's
 * to judge, and its error message is printed as the node wrote it.
 *
 * Exit status: 0 success, 1 the node answered with an error, 2 usage error,
 * 3 the node cannot be reached.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl_http.h"

#ifndef HALLE_VERSION
#define HALLE_VERSION	"dev"
#endif

#define DEFAULT_SOCKET	"/run/halle/control.sock"
#define TIMEOUT_MS	30000
#define OPTIONS_MAX	8		/* value options of one command */
#define TARGET_MAX	4096
#define COLUMNS_MAX	16	/* the widest table: status's peers */
#define USAGE_PREFIX	"usage: hallectl [-s SOCKET] [--json] "
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

enum exit_code {
	EXIT_OK = 0,
	EXIT_NODE = 1,			/* the node answered with an error */
	EXIT_USAGE = 2,
	EXIT_UNREACHABLE = 3
};

enum option_kind { OPTION_STRING, OPTION_INTEGER, OPTION_FLAG };

/*
 * A command's --name VALUE option and the body member it fills; a
 * --name flag (OPTION_FLAG) takes no value and sets the query parameter
 * field to 1.
 */
struct option_spec {
	const char		*name;
	const char		*field;
	enum option_kind	 kind;
	int			 required;
	const char		*fallback;	/* sent when not given */
};

struct invocation;

/*
 * One command. Each "%s" of target takes the next positional argument,
 * percent-encoded; query, when set, takes the one after if given; flags
 * given follow. The body, if any, is built from what remains: fields name
 * the next arguments, then the options, then (lines) every remaining
 * PRODUCER:SKU:QTY; or it is a file's text, sent as content_type. accept
 * asks for another media type than JSON (a DFC document).
 */
struct command {
	const char		*group;
	const char		*verb;		/* NULL for one-word commands */
	const char		*synopsis;
	const char		*summary;
	int			 min_args;
	int			 max_args;	/* -1: no limit */
	const struct option_spec *options;
	const char		*method;
	const char		*target;
	const char		*query;
	const char		*fields[2];
	int			 lines;
	int			(*body)(const struct invocation *, int,
				    json_t **);
	int			(*text)(const struct invocation *, int,
				    char **);
	const char		*content_type;
	const char		*accept;
	void			(*show)(const struct invocation *, json_t *);
	const char		*done;		/* "created producer" + id */
};

/* The parsed command line. */
struct invocation {
	const struct command	*command;
	const char		*group;		/* the first word, once seen */
	const char		*socket;
	int			 json;
	int			 help;
	int			 version;
	const char		**args;		/* positional arguments */
	int			 nargs;
	const char		*values[OPTIONS_MAX];	/* by option index */
	char			 error[256];	/* the first usage error */
};

struct column {
	const char	*title;		/* NULL: the table has no header */
	int		 right;		/* aligned right, for numbers */
};

struct table {
	const struct column	*columns;
	size_t			 ncolumns;
	char			**cells;
	size_t			 ncells;
	size_t			 cap;
};

static int	body_fields(const struct invocation *, int, json_t **);
static int	body_catalogue(const struct invocation *, int, json_t **);
static int	body_backup(const struct invocation *, int, json_t **);
static int	text_document(const struct invocation *, int, char **);
static void	show_import(const struct invocation *, json_t *);
static void	show_document(const struct invocation *, json_t *);
static void	show_backup(const struct invocation *, json_t *);
static void	show_status(const struct invocation *, json_t *);
static void	show_feeds(const struct invocation *, json_t *);
static void	show_producer(const struct invocation *, json_t *);
static void	show_producers(const struct invocation *, json_t *);
static void	show_catalogue(const struct invocation *, json_t *);
static void	show_market(const struct invocation *, json_t *);
static void	show_markets(const struct invocation *, json_t *);
static void	show_market_change(const struct invocation *, json_t *);
static void	show_distribution(const struct invocation *, json_t *);
static void	show_distributions(const struct invocation *, json_t *);
static void	show_schedule(const struct invocation *, json_t *);
static void	show_order(const struct invocation *, json_t *);
static void	show_orders(const struct invocation *, json_t *);
static void	show_sheet(const struct invocation *, json_t *);
static void	show_stock(const struct invocation *, json_t *);

static const struct option_spec producer_options[] = {
	{ "farm", "farm", OPTION_STRING, 0, NULL },
	{ "town", "town", OPTION_STRING, 0, NULL },
	{ "email", "email", OPTION_STRING, 0, NULL },
	{ "phone", "phone", OPTION_STRING, 0, NULL },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct option_spec market_options[] = {
	{ "place", "place", OPTION_STRING, 1, NULL },
	{ "town", "town", OPTION_STRING, 1, NULL },
	{ "weekday", "weekday", OPTION_STRING, 0, NULL },
	{ "from", "from", OPTION_STRING, 0, NULL },
	{ "to", "to", OPTION_STRING, 0, NULL },
	{ "opens-days", "opens_days", OPTION_INTEGER, 0, NULL },
	{ "closes-hours", "closes_hours", OPTION_INTEGER, 0, NULL },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct option_spec distribution_options[] = {
	{ "from", "from", OPTION_STRING, 0, NULL },
	{ "to", "to", OPTION_STRING, 0, NULL },
	{ "opens", "opens", OPTION_STRING, 0, NULL },
	{ "closes", "closes", OPTION_STRING, 0, NULL },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct option_spec schedule_options[] = {
	{ "weeks", "weeks", OPTION_INTEGER, 0, "4" },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct option_spec import_options[] = {
	{ "skip-invalid", "skip_invalid", OPTION_FLAG, 0, NULL },
	{ "dry-run", "dry_run", OPTION_FLAG, 0, NULL },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct option_spec order_options[] = {
	{ "basket", "basket", OPTION_STRING, 1, NULL },
	{ "mediator", "mediator", OPTION_STRING, 0, NULL },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct command commands[] = {
	{ .group = "status", .synopsis = "",
	  .summary = "Shows the node, its store, its groupings and its peers.",
	  .method = "GET", .target = "/v1/status", .show = show_status },
	{ .group = "feeds", .synopsis = "",
	  .summary = "Lists the feeds the node holds.",
	  .method = "GET", .target = "/v1/feeds", .show = show_feeds },
	{ .group = "reload", .synopsis = "",
	  .summary = "Reads the configuration again and applies its peers "
	    "and groupings\n(as SIGHUP does).",
	  .method = "POST", .target = "/v1/reload", .show = show_status },
	{ .group = "backup", .synopsis = "PATH",
	  .summary = "Writes a compacted copy of the running node's store "
	    "into the\nnew or empty directory PATH.",
	  .min_args = 1, .max_args = 1,
	  .method = "POST", .target = "/v1/backup", .body = body_backup,
	  .show = show_backup },

	{ .group = "producer", .verb = "add",
	  .synopsis = "NAME [--farm F] [--town T] [--email E] [--phone P]",
	  .summary = "Registers a producer.",
	  .min_args = 1, .max_args = 1, .options = producer_options,
	  .method = "POST", .target = "/v1/producers", .fields = { "name" },
	  .body = body_fields, .show = show_producer,
	  .done = "created producer" },
	{ .group = "producer", .verb = "list", .synopsis = "",
	  .summary = "Lists the producers, by name.",
	  .method = "GET", .target = "/v1/producers", .show = show_producers },
	{ .group = "producer", .verb = "show", .synopsis = "PRODUCER",
	  .summary = "Shows a producer (by id or name).",
	  .min_args = 1, .max_args = 1,
	  .method = "GET", .target = "/v1/producers/%s",
	  .show = show_producer },

	{ .group = "catalogue", .verb = "publish",
	  .synopsis = "PRODUCER FILE.json",
	  .summary = "Publishes the catalogue in FILE.json (- reads stdin) as "
	    "the\nproducer's new version.",
	  .min_args = 2, .max_args = 2,
	  .method = "PUT", .target = "/v1/producers/%s/catalogue",
	  .body = body_catalogue, .show = show_catalogue,
	  .done = "published catalogue" },
	{ .group = "catalogue", .verb = "show", .synopsis = "PRODUCER",
	  .summary = "Shows the producer's current catalogue.",
	  .min_args = 1, .max_args = 1,
	  .method = "GET", .target = "/v1/producers/%s/catalogue",
	  .show = show_catalogue },
	{ .group = "catalogue", .verb = "import",
	  .synopsis = "PRODUCER FILE.jsonld [--skip-invalid] [--dry-run]",
	  .summary = "Publishes the Data Food Consortium catalogue in "
	    "FILE.jsonld (- reads\nstdin) as the producer's new version. "
	    "--skip-invalid leaves out the products\nit cannot take; "
	    "--dry-run publishes nothing and lists every problem.",
	  .min_args = 2, .max_args = 2, .options = import_options,
	  .method = "PUT", .target = "/v1/producers/%s/catalogue",
	  .text = text_document, .content_type = "application/ld+json",
	  .show = show_import, .done = "imported catalogue" },
	{ .group = "catalogue", .verb = "export", .synopsis = "PRODUCER",
	  .summary = "Prints the producer's current catalogue as a Data Food "
	    "Consortium\ndocument (JSON-LD).",
	  .min_args = 1, .max_args = 1,
	  .method = "GET", .target = "/v1/producers/%s/catalogue",
	  .accept = "application/ld+json", .show = show_document },

	{ .group = "market", .verb = "add",
	  .synopsis = "NAME --place P --town T [--weekday sat --from 10:00 "
	    "--to 12:00] [--opens-days 7] [--closes-hours 36]",
	  .summary = "Creates a market, with or without a weekly schedule.",
	  .min_args = 1, .max_args = 1, .options = market_options,
	  .method = "POST", .target = "/v1/markets", .fields = { "name" },
	  .body = body_fields, .show = show_market,
	  .done = "created market" },
	{ .group = "market", .verb = "list", .synopsis = "",
	  .summary = "Lists the markets, by name.",
	  .method = "GET", .target = "/v1/markets", .show = show_markets },
	{ .group = "market", .verb = "show", .synopsis = "MARKET",
	  .summary = "Shows a market and its producers.",
	  .min_args = 1, .max_args = 1,
	  .method = "GET", .target = "/v1/markets/%s", .show = show_market },
	{ .group = "market", .verb = "invite", .synopsis = "MARKET PRODUCER",
	  .summary = "Invites the producer to sell at the market.",
	  .min_args = 2, .max_args = 2,
	  .method = "POST", .target = "/v1/markets/%s/invitations",
	  .fields = { "producer" }, .body = body_fields,
	  .show = show_market_change, .done = "invited" },
	{ .group = "market", .verb = "accept", .synopsis = "MARKET PRODUCER",
	  .summary = "Records that the producer accepts to sell at the market.",
	  .min_args = 2, .max_args = 2,
	  .method = "POST", .target = "/v1/markets/%s/acceptances",
	  .fields = { "producer" }, .body = body_fields,
	  .show = show_market_change, .done = "accepted" },
	{ .group = "market", .verb = "uninvite", .synopsis = "MARKET PRODUCER",
	  .summary = "Withdraws the producer's invitation, for future orders.",
	  .min_args = 2, .max_args = 2,
	  .method = "DELETE", .target = "/v1/markets/%s/invitations/%s",
	  .show = show_market_change, .done = "invitation withdrawn" },
	{ .group = "market", .verb = "withdraw", .synopsis = "MARKET PRODUCER",
	  .summary = "Withdraws the producer's acceptance, for future orders.",
	  .min_args = 2, .max_args = 2,
	  .method = "DELETE", .target = "/v1/markets/%s/acceptances/%s",
	  .show = show_market_change, .done = "acceptance withdrawn" },

	{ .group = "distribution", .verb = "open",
	  .synopsis = "MARKET DATE [--from HH:MM --to HH:MM] [--opens ISO8601] "
	    "[--closes ISO8601]",
	  .summary = "Opens a distribution of the market on DATE (YYYY-MM-DD).",
	  .min_args = 2, .max_args = 2, .options = distribution_options,
	  .method = "POST", .target = "/v1/distributions",
	  .fields = { "market", "date" }, .body = body_fields,
	  .show = show_distribution, .done = "created distribution" },
	{ .group = "distribution", .verb = "schedule",
	  .synopsis = "MARKET [--weeks N]",
	  .summary = "Opens the distributions of the market's next N weekly "
	    "market\ndays (4 by default).",
	  .min_args = 1, .max_args = 1, .options = schedule_options,
	  .method = "POST", .target = "/v1/markets/%s/schedule",
	  .body = body_fields, .show = show_schedule },
	{ .group = "distribution", .verb = "list", .synopsis = "[MARKET]",
	  .summary = "Lists the distributions by date, of one market or all.",
	  .max_args = 1,
	  .method = "GET", .target = "/v1/distributions", .query = "market",
	  .show = show_distributions },
	{ .group = "distribution", .verb = "show", .synopsis = "ID",
	  .summary = "Shows a distribution.",
	  .min_args = 1, .max_args = 1,
	  .method = "GET", .target = "/v1/distributions/%s",
	  .show = show_distribution },
	{ .group = "distribution", .verb = "cancel", .synopsis = "ID",
	  .summary = "Cancels a distribution and releases the stock it held.",
	  .min_args = 1, .max_args = 1,
	  .method = "POST", .target = "/v1/distributions/%s/cancel",
	  .show = show_distribution, .done = "cancelled distribution" },

	{ .group = "order", .verb = "place",
	  .synopsis = "DISTRIBUTION --basket LABEL [--mediator NAME] "
	    "PRODUCER:SKU:QTY...",
	  .summary = "Places a household's order. In each line the last two "
	    "colons\nseparate the sku and the quantity: a producer's name may "
	    "hold colons.",
	  .min_args = 2, .max_args = -1, .options = order_options,
	  .method = "POST", .target = "/v1/orders",
	  .fields = { "distribution" }, .lines = 1, .body = body_fields,
	  .show = show_order, .done = "created order" },
	{ .group = "order", .verb = "change",
	  .synopsis = "ORDER PRODUCER:SKU:QTY...",
	  .summary = "Replaces the lines of an order.",
	  .min_args = 2, .max_args = -1,
	  .method = "PUT", .target = "/v1/orders/%s", .lines = 1,
	  .body = body_fields, .show = show_order, .done = "changed order" },
	{ .group = "order", .verb = "cancel", .synopsis = "ORDER",
	  .summary = "Cancels an order and releases its stock.",
	  .min_args = 1, .max_args = 1,
	  .method = "POST", .target = "/v1/orders/%s/cancel",
	  .show = show_order, .done = "cancelled order" },
	{ .group = "order", .verb = "show", .synopsis = "ORDER",
	  .summary = "Shows an order, line by line.",
	  .min_args = 1, .max_args = 1,
	  .method = "GET", .target = "/v1/orders/%s", .show = show_order },
	{ .group = "order", .verb = "list", .synopsis = "DISTRIBUTION",
	  .summary = "Lists the orders of a distribution.",
	  .min_args = 1, .max_args = 1,
	  .method = "GET", .target = "/v1/orders", .query = "distribution",
	  .show = show_orders },
	{ .group = "order", .verb = "export",
	  .synopsis = "DISTRIBUTION PRODUCER",
	  .summary = "Prints the producer's confirmed orders at the "
	    "distribution as a Data\nFood Consortium document (JSON-LD).",
	  .min_args = 2, .max_args = 2,
	  .method = "GET", .target = "/v1/distributions/%s/orders/%s",
	  .accept = "application/ld+json", .show = show_document },

	{ .group = "sheet", .synopsis = "PRODUCER DATE",
	  .summary = "Shows what the producer must prepare for DATE, market by "
	    "market\nand basket by basket.",
	  .min_args = 2, .max_args = 2,
	  .method = "GET", .target = "/v1/sheets/%s/%s", .show = show_sheet },

	{ .group = "stock", .synopsis = "PRODUCER DATE",
	  .summary = "Shows a producer's stock on DATE: the home's reserve and, "
	    "per market,\nthe rights granted to its node and what it "
	    "confirmed.",
	  .min_args = 2, .max_args = 2,
	  .method = "GET", .target = "/v1/stock/%s/%s", .show = show_stock },
};

static const struct column kv_columns[] = { { NULL, 0 }, { NULL, 0 } };

/* Messages */

static void __attribute__((format(printf, 1, 2)))
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

static void __attribute__((noreturn))
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
static void __attribute__((format(printf, 1, 2)))
out_line(const char *fmt, ...)
{
	char	 line[2048];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	puts(text_clean(line));
}

/* Command lookup and usage */

static const struct command *
command_find(const char *group, const char *verb)
{
	const struct command	*c;

	for (c = commands; c < commands + nitems(commands); c++) {
		if (strcmp(c->group, group) != 0)
			continue;
		if (verb == NULL ? c->verb == NULL :
		    c->verb != NULL && strcmp(c->verb, verb) == 0)
			return (c);
	}
	return (NULL);
}

/* Is GROUP the first word of commands that take a second one? */
static int
group_exists(const char *group)
{
	const struct command	*c;

	for (c = commands; c < commands + nitems(commands); c++)
		if (c->verb != NULL && strcmp(c->group, group) == 0)
			return (1);
	return (0);
}

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

	for (c = commands; c < commands + nitems(commands); c++)
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
	    "  -h, --help           print this help, or a command's\n"
	    "  --version            print hallectl's version\n\n"
	    "Options take their value as --opt VALUE or --opt=VALUE.\n"
	    "Exit status: 0 success, 1 the node answered with an error, "
	    "2 usage error,\n3 the node cannot be reached.\n");
}

/* --help: the command's usage, the group's, or everything. */
static void
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
static int
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

/* Parsing the command line */

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
static int
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
}

/*
 * Fills inv from argv. Global options may come anywhere; a command's
 * options after its words; "--" ends the options. A usage error is kept
 * in inv->error (the first one), --help and --version in their flags.
 */
static void
args_parse(struct invocation *inv, int argc, char **argv)
{
	const char	*env = getenv("HALLE_SOCKET");
	int		 i, words_only = 0;

	memset(inv, 0, sizeof(*inv));
	inv->socket = env != NULL && env[0] != '\0' ? env : DEFAULT_SOCKET;
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

/* The request */

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
static int
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
static int
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
static int
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
static int
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
static int
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

/* Runs the exchange; returns 0, or the exit code after a message. */
static int
request_send(const struct invocation *inv, const char *target,
    const char *text, struct ctl_http_reply *reply)
{
	char	 err[256];
	int	 r;

	r = ctl_http_exchange_as(reply, inv->socket, inv->command->method,
	    target, text, inv->command->content_type, inv->command->accept,
	    TIMEOUT_MS, err, sizeof(err));
	switch (r) {
	case 0:
		return (0);
	case CTL_HTTP_UNREACHABLE:
		error_print("cannot reach halled at %s: %s", inv->socket, err);
		break;
	case CTL_HTTP_TIMEOUT:
		error_print("halled at %s did not answer within %d s",
		    inv->socket, TIMEOUT_MS / 1000);
		break;
	default:
		error_print("bad answer from halled at %s: %s", inv->socket,
		    err);
		break;
	}
	return (EXIT_UNREACHABLE);
}

/* The answer */

static void
json_print(json_t *value)
{
	char	*text;

	if ((text = json_dumps(value, JSON_INDENT(2) | JSON_ENCODE_ANY)) ==
	    NULL)
		out_of_memory();
	puts(text);
	free(text);
}

static int
reply_error(const struct invocation *inv, const struct ctl_http_reply *reply)
{
	json_t		*answer, *error;
	const char	*code, *message;

	answer = json_loadb(reply->body, reply->body_len, 0, NULL);
	error = json_object_get(answer, "error");
	code = json_string_value(json_object_get(error, "code"));
	message = json_string_value(json_object_get(error, "message"));
	if (code != NULL && message != NULL) {
		if (inv->json)
			json_print(answer);
		error_print("%s (%s)", message, code);
	} else
		error_print("HTTP %d %s", reply->status, reply->reason);
	json_decref(answer);
	return (EXIT_NODE);
}

static int
reply_handle(const struct invocation *inv, const struct ctl_http_reply *reply)
{
	json_error_t	 error;
	json_t		*answer;

	if (reply->status < 200 || reply->status > 299)
		return (reply_error(inv, reply));
	if (reply->body_len == 0)
		answer = json_null();
	else if ((answer = json_loadb(reply->body, reply->body_len,
	    JSON_DECODE_ANY, &error)) == NULL) {
		error_print("HTTP %d %s with a malformed JSON body: %s",
		    reply->status, reply->reason, error.text);
		return (EXIT_NODE);
	}
	if (inv->json)
		json_print(answer);
	else
		inv->command->show(inv, answer);
	json_decref(answer);
	return (EXIT_OK);
}

static int
command_run(const struct invocation *inv)
{
	const struct command	*c = inv->command;
	struct ctl_http_reply	 reply;
	char			 target[TARGET_MAX], *text = NULL;
	json_t			*body = NULL;
	int			 code, used;

	if ((used = request_target(inv, target, sizeof(target))) == -1)
		return (EXIT_USAGE);
	if (c->body != NULL && (code = c->body(inv, used, &body)) != 0)
		return (code);
	if (c->text != NULL && (code = c->text(inv, used, &text)) != 0)
		return (code);
	if (body == NULL && text == NULL && strcmp(c->method, "POST") == 0 &&
	    (body = json_object()) == NULL)
		out_of_memory();
	if (body != NULL && (text = json_dumps(body, JSON_COMPACT)) == NULL)
		out_of_memory();
	json_decref(body);
	code = request_send(inv, target, text, &reply);
	free(text);
	if (code != 0)
		return (code);
	code = reply_handle(inv, &reply);
	ctl_http_reply_free(&reply);
	return (code);
}

/* Tables: columns as wide as their widest cell, in code points. */

static size_t
text_width(const char *s)
{
	size_t	 n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return (n);
}

static void
table_init(struct table *t, const struct column *columns, size_t ncolumns)
{
	assert(ncolumns <= COLUMNS_MAX);
	memset(t, 0, sizeof(*t));
	t->columns = columns;
	t->ncolumns = ncolumns;
}

/* Adds a row of ncolumns cells, copied. */
static void
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
static void __attribute__((format(printf, 3, 4)))
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

static void
table_flush(struct table *t, const char *indent)
{
	table_print(t, indent);
	table_free(t);
}

/* Fields and formats */

static const char *
field_string(json_t *object, const char *key)
{
	const char	*s = json_string_value(json_object_get(object, key));

	return (s != NULL ? s : "");
}

static long long
field_integer(json_t *object, const char *key)
{
	return (json_integer_value(json_object_get(object, key)));
}

static const char *
field_yes(json_t *object, const char *key)
{
	return (json_is_true(json_object_get(object, key)) ? "yes" : "no");
}

static char *
integer_format(char *buf, size_t len, long long n)
{
	snprintf(buf, len, "%lld", n);
	return (buf);
}

/* A JSON number as it reads best: "3", "0.5"; "-" for anything else. */
static char *
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

static char *
money_format(char *buf, size_t len, long long cents)
{
	snprintf(buf, len, "%s%lld.%02lld", cents < 0 ? "-" : "",
	    llabs(cents / 100), llabs(cents % 100));
	return (buf);
}

/* 550 basis points: "5.5%". */
static char *
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

static char *
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
static char *
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
static char *
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
static char *
named_format(char *buf, size_t len, json_t *object, const char *name_key,
    const char *id_key)
{
	snprintf(buf, len, "%s (%s)", field_string(object, name_key),
	    field_string(object, id_key));
	return (buf);
}

/* Prints "created producer pr-..." for commands that change; 1 if done. */
static int
done_print(const struct invocation *inv, json_t *answer)
{
	if (inv->command->done == NULL)
		return (0);
	out_line("%s %s", inv->command->done, field_string(answer, "id"));
	return (1);
}

static int
empty_print(json_t *array, const char *what)
{
	if (json_array_size(array) > 0)
		return (0);
	out_line("no %s", what);
	return (1);
}

/* status: the node as key: value lines, then a table per kind */

/* Appends src to the NUL-terminated dst, cut to fit in len bytes. */
static void
strlcat_safe(char *dst, const char *src, size_t len)
{
	size_t used = strlen(dst);

	if (used + 1 < len)
		snprintf(dst + used, len - used, "%s", src);
}

static void
show_groupings(json_t *groupings)
{
	static const struct column columns[] = { { "GROUPING", 0 },
	    { "MEMBERS", 0 }, { "FEEDS", 1 }, { "IN SYNC", 0 } };
	struct table	 t;
	json_t		*g, *m;
	size_t		 i, j;
	char		 members[512], feeds[32];

	if (json_array_size(groupings) == 0)
		return;
	table_init(&t, columns, nitems(columns));
	json_array_foreach(groupings, i, g) {
		members[0] = '\0';
		json_array_foreach(json_object_get(g, "members"), j, m) {
			if (j > 0)
				strlcat_safe(members, ", ", sizeof(members));
			strlcat_safe(members, json_string_value(m) ?
			    json_string_value(m) : "?", sizeof(members));
		}
		const char *row[] = { field_string(g, "name"), members,
		    integer_format(feeds, sizeof(feeds),
		    field_integer(g, "feeds")), field_yes(g, "in_sync") };
		table_add(&t, row);
	}
	printf("\n");
	table_flush(&t, "");
}

/* One row per peer: its state until it is up, then what flows. */
static void
show_peers(json_t *peers)
{
	static const struct column columns[] = { { "PEER", 0 },
	    { "STATE", 0 }, { "SINCE", 1 }, { "LAST SEEN", 1 }, { "RTT", 1 },
	    { "IN", 1 }, { "OUT", 1 }, { "REJECTED", 1 }, { "LAG IN", 1 },
	    { "LAG OUT", 1 }, { "KEY", 0 }, { "ENDPOINT", 0 },
	    { "LAST ERROR", 0 } };
	struct table	 t;
	json_t		*p;
	size_t		 i;
	char		 since[32], seen[32], rtt[32], in[32], out[32], rej[32];
	char		 lin[32], lout[32], key[9];

	if (json_array_size(peers) == 0)
		return;
	table_init(&t, columns, nitems(columns));
	json_array_foreach(peers, i, p) {
		snprintf(key, sizeof(key), "%s", field_string(p, "id"));
		if (json_is_integer(json_object_get(p, "rtt_ms")))
			snprintf(rtt, sizeof(rtt), "%lldms",
			    field_integer(p, "rtt_ms"));
		else
			snprintf(rtt, sizeof(rtt), "-");
		const char *row[] = { field_string(p, "name"),
		    field_string(p, "state"),
		    age_format(since, sizeof(since),
		    json_object_get(p, "since_s")),
		    age_format(seen, sizeof(seen),
		    json_object_get(p, "last_seen_s")), rtt,
		    integer_format(in, sizeof(in), field_integer(p,
		    "records_in")),
		    integer_format(out, sizeof(out), field_integer(p,
		    "records_out")),
		    integer_format(rej, sizeof(rej), field_integer(p,
		    "rejected")),
		    integer_format(lin, sizeof(lin), field_integer(p,
		    "lag_in")),
		    integer_format(lout, sizeof(lout), field_integer(p,
		    "lag_out")), key,
		    *field_string(p, "endpoint") ? field_string(p, "endpoint") :
		    "(dials us)", field_string(p, "last_error") };
		table_add(&t, row);
	}
	printf("\n");
	table_flush(&t, "");
}

/* Why a node takes no writes, and the peers it waits for. */
static void
show_write_wait(struct table *t, json_t *answer)
{
	json_t *name;
	char peers[512] = "";
	size_t i;

	kv_add(t, "write state", "%s", field_string(answer, "write_state"));
	json_array_foreach(json_object_get(answer, "waiting_for"), i, name) {
		if (i > 0)
			strlcat_safe(peers, ", ", sizeof(peers));
		strlcat_safe(peers, json_string_value(name) ?
		    json_string_value(name) : "?", sizeof(peers));
	}
	if (peers[0] != '\0')
		kv_add(t, "waiting for", "%s", peers);
	kv_add(t, "why", "%s", field_string(answer, "write_reason"));
}

static void
show_status(const struct invocation *inv, json_t *answer)
{
	json_t		*node = json_object_get(answer, "node");
	json_t		*store = json_object_get(answer, "store");
	json_t		*stock = json_object_get(answer, "stock");
	struct table	 t;
	char		 b1[32], b2[32];

	table_init(&t, kv_columns, 2);
	kv_add(&t, "node", "%s", field_string(node, "name"));
	kv_add(&t, "id", "%s", field_string(node, "id"));
	kv_add(&t, "version", "%s", field_string(node, "version"));
	kv_add(&t, "uptime", "%s", age_format(b1, sizeof(b1),
	    json_object_get(node, "uptime_s")));
	kv_add(&t, "timezone", "%s", field_string(node, "timezone"));
	kv_add(&t, "records", "%lld", field_integer(store, "records"));
	kv_add(&t, "feeds", "%lld", field_integer(store, "feeds"));
	kv_add(&t, "store", "%s used, %s mapped",
	    size_format(b1, sizeof(b1), field_integer(store, "bytes")),
	    size_format(b2, sizeof(b2), field_integer(store, "map_bytes")));
	if (stock != NULL) {
		kv_add(&t, "lines", "%lld confirmed here from stock rights, "
		    "%lld awaiting producers' homes",
		    field_integer(stock, "lines_confirmed_locally"),
		    field_integer(stock, "lines_pending"));
		kv_add(&t, "rights", "%lld held, %lld free",
		    field_integer(stock, "rights_held"),
		    field_integer(stock, "rights_free"));
		if (field_integer(stock, "overusers") > 0)
			kv_add(&t, "overusers", "%lld nodes confirmed beyond "
			    "their rights", field_integer(stock, "overusers"));
	}
	if (json_object_get(answer, "writable") != NULL)
		kv_add(&t, "writable", "%s", field_yes(answer, "writable"));
	if (json_is_false(json_object_get(answer, "writable")))
		show_write_wait(&t, answer);
	if (json_object_get(answer, "handshakes_refused") != NULL)
		kv_add(&t, "refused", "%lld handshakes from unknown keys",
		    field_integer(answer, "handshakes_refused"));
	table_flush(&t, "");
	show_groupings(json_object_get(answer, "groupings"));
	show_peers(json_object_get(answer, "peers"));
}

static void
show_feeds(const struct invocation *inv, json_t *answer)
{
	static const struct column columns[] = { { "NAME", 0 },
	    { "GROUPINGS", 0 }, { "HEAD", 1 }, { "HEAD TIME", 0 },
	    { "FROZEN", 0 }, { "ORIGIN", 0 } };
	struct table	 t;
	json_t		*feed, *g;
	size_t		 i, j;
	char		 seq[32], when[64], groupings[256];

	if (empty_print(answer, "feeds"))
		return;
	table_init(&t, columns, nitems(columns));
	json_array_foreach(answer, i, feed) {
		groupings[0] = '\0';
		json_array_foreach(json_object_get(feed, "groupings"), j, g) {
			if (j > 0)
				strlcat_safe(groupings, ",", sizeof(groupings));
			strlcat_safe(groupings, json_string_value(g) ?
			    json_string_value(g) : "?", sizeof(groupings));
		}
		const char *row[] = { field_string(feed, "name"),
		    groupings[0] ? groupings : "-",
		    integer_format(seq, sizeof(seq),
		    field_integer(feed, "head_seq")),
		    instant_format(when, sizeof(when),
		    field_string(feed, "head_time")),
		    field_yes(feed, "frozen"), field_string(feed, "origin") };
		table_add(&t, row);
	}
	table_flush(&t, "");
}

/* Producers and catalogues */

static void
show_producer(const struct invocation *inv, json_t *p)
{
	static const char	*optional[] = { "farm", "town", "email",
				    "phone" };
	struct table		 t;
	size_t			 i;
	long long		 version;

	table_init(&t, kv_columns, 2);
	if (!done_print(inv, p))
		kv_add(&t, "id", "%s", field_string(p, "id"));
	kv_add(&t, "name", "%s", field_string(p, "name"));
	for (i = 0; i < nitems(optional); i++)
		if (field_string(p, optional[i])[0] != '\0')
			kv_add(&t, optional[i], "%s",
			    field_string(p, optional[i]));
	if (field_string(p, "home")[0] != '\0')
		kv_add(&t, "home node", "%s", field_string(p, "home"));
	if ((version = field_integer(p, "catalogue_version")) > 0)
		kv_add(&t, "catalogue", "version %lld", version);
	else
		kv_add(&t, "catalogue", "none yet");
	table_flush(&t, "");
}

static void
show_producers(const struct invocation *inv, json_t *answer)
{
	static const struct column columns[] = { { "ID", 0 }, { "NAME", 0 },
	    { "FARM", 0 }, { "TOWN", 0 }, { "CATALOGUE", 1 } };
	struct table	 t;
	json_t		*p;
	size_t		 i;
	char		 version[32];

	if (empty_print(answer, "producers"))
		return;
	table_init(&t, columns, nitems(columns));
	json_array_foreach(answer, i, p) {
		const char *row[] = { field_string(p, "id"),
		    field_string(p, "name"), field_string(p, "farm"),
		    field_string(p, "town"), "-" };
		if (field_integer(p, "catalogue_version") > 0)
			row[4] = integer_format(version, sizeof(version),
			    field_integer(p, "catalogue_version"));
		table_add(&t, row);
	}
	table_flush(&t, "");
}

static void
product_add(struct table *t, json_t *p)
{
	char	 quantity[32], size[96], price[32], vat[32], stock[32];
	json_t	*per_day = json_object_get(p, "stock_per_day");

	snprintf(size, sizeof(size), "%s %s", number_format(quantity,
	    sizeof(quantity), json_object_get(p, "quantity")),
	    field_string(p, "unit"));
	if (json_is_number(per_day))
		number_format(stock, sizeof(stock), per_day);
	else
		snprintf(stock, sizeof(stock), "unlimited");
	const char *row[] = { field_string(p, "sku"), field_string(p, "name"),
	    size, money_format(price, sizeof(price),
	    field_integer(p, "price_cents")),
	    vat_format(vat, sizeof(vat), field_integer(p, "vat_bp")),
	    json_is_true(json_object_get(p, "organic")) ? "yes" : "", stock };
	table_add(t, row);
}

/* "WHAT version N of PRODUCER", then the products. */
static void
catalogue_print(const char *what, json_t *c)
{
	static const struct column columns[] = { { "SKU", 0 }, { "NAME", 0 },
	    { "SIZE", 0 }, { "PRICE", 1 }, { "VAT", 1 }, { "ORGANIC", 0 },
	    { "STOCK/DAY", 1 } };
	json_t		*products = json_object_get(c, "products");
	const char	*currency = field_string(c, "currency");
	int		 foreign = currency[0] && strcmp(currency, "EUR") != 0;
	struct table	 t;
	json_t		*p;
	size_t		 i;
	char		 who[256];

	out_line("%s version %lld of %s%s%s", what,
	    field_integer(c, "version"),
	    named_format(who, sizeof(who), c, "producer_name", "producer"),
	    foreign ? ", prices in " : "", foreign ? currency : "");
	if (empty_print(products, "products"))
		return;
	putchar('\n');
	table_init(&t, columns, nitems(columns));
	json_array_foreach(products, i, p)
		product_add(&t, p);
	table_flush(&t, "");
}

static void
show_catalogue(const struct invocation *inv, json_t *c)
{
	catalogue_print(inv->command->done ? inv->command->done : "catalogue",
	    c);
}

/* catalogue import: what was published, or would be, and what was not. */
static void
show_import(const struct invocation *inv, json_t *answer)
{
	json_t	*problems = json_object_get(answer, "problems"), *p;
	int	 dry_run = json_is_true(json_object_get(answer, "dry_run"));
	size_t	 i;

	catalogue_print(dry_run ? "dry run, nothing published: would publish "
	    "catalogue" : inv->command->done, json_object_get(answer,
	    "catalogue"));
	if (json_array_size(problems) == 0)
		return;
	putchar('\n');
	out_line("%s (%zu):", dry_run ? "products refused" :
	    "products left out", json_array_size(problems));
	json_array_foreach(problems, i, p)
		out_line("  %s", field_string(p, "message"));
}

/* A DFC document: the JSON-LD, indented, with or without --json. */
static void
show_document(const struct invocation *inv, json_t *doc)
{
	json_print(doc);
}

/* Markets */

static char *
schedule_format(char *buf, size_t len, json_t *market)
{
	json_t	*s = json_object_get(market, "schedule");

	if (!json_is_object(s))
		snprintf(buf, len, "none");
	else
		snprintf(buf, len, "%s %s-%s", field_string(s, "weekday"),
		    field_string(s, "from"), field_string(s, "to"));
	return (buf);
}

static void
market_producers_print(json_t *producers)
{
	static const struct column columns[] = { { "PRODUCER", 0 },
	    { "NAME", 0 }, { "INVITED", 0 }, { "ACCEPTED", 0 },
	    { "SELLS", 0 } };
	struct table	 t;
	json_t		*p;
	size_t		 i;

	putchar('\n');
	if (empty_print(producers, "producers invited or accepting"))
		return;
	table_init(&t, columns, nitems(columns));
	json_array_foreach(producers, i, p) {
		int sells = json_is_true(json_object_get(p, "invited")) &&
		    json_is_true(json_object_get(p, "accepted"));
		const char *row[] = { field_string(p, "id"),
		    field_string(p, "name"), field_yes(p, "invited"),
		    field_yes(p, "accepted"), sells ? "yes" : "no" };
		table_add(&t, row);
	}
	table_flush(&t, "");
}

static void
market_print(json_t *m, int with_id)
{
	struct table	 t;
	char		 schedule[96];

	table_init(&t, kv_columns, 2);
	if (with_id)
		kv_add(&t, "id", "%s", field_string(m, "id"));
	kv_add(&t, "name", "%s", field_string(m, "name"));
	kv_add(&t, "place", "%s", field_string(m, "place"));
	kv_add(&t, "town", "%s", field_string(m, "town"));
	kv_add(&t, "schedule", "%s", schedule_format(schedule,
	    sizeof(schedule), m));
	kv_add(&t, "orders", "open %lld days before, close %lld hours before",
	    field_integer(m, "opens_days"), field_integer(m, "closes_hours"));
	table_flush(&t, "");
	market_producers_print(json_object_get(m, "producers"));
}

static void
show_market(const struct invocation *inv, json_t *m)
{
	market_print(m, !done_print(inv, m));
}

/* invite, accept, uninvite, withdraw: "PRODUCER (pr-...): invited". */
static void
show_market_change(const struct invocation *inv, json_t *m)
{
	const char	*given = inv->args[1];
	json_t		*p;
	size_t		 i;
	char		 who[256];

	snprintf(who, sizeof(who), "%s", given);
	json_array_foreach(json_object_get(m, "producers"), i, p)
		if (strcmp(field_string(p, "id"), given) == 0 ||
		    strcasecmp(field_string(p, "name"), given) == 0)
			named_format(who, sizeof(who), p, "name", "id");
	out_line("%s: %s", who, inv->command->done);
	market_print(m, 1);
}

static void
show_backup(const struct invocation *inv, json_t *answer)
{
	char	 size[32];

	out_line("backup written to %s (%s)", field_string(answer, "path"),
	    size_format(size, sizeof(size), field_integer(answer, "bytes")));
}

static void
show_markets(const struct invocation *inv, json_t *answer)
{
	static const struct column columns[] = { { "ID", 0 }, { "NAME", 0 },
	    { "TOWN", 0 }, { "SCHEDULE", 0 }, { "PRODUCERS", 1 } };
	struct table	 t;
	json_t		*m, *p;
	size_t		 i, j, selling;
	char		 schedule[96], count[32];

	if (empty_print(answer, "markets"))
		return;
	table_init(&t, columns, nitems(columns));
	json_array_foreach(answer, i, m) {
		selling = 0;
		json_array_foreach(json_object_get(m, "producers"), j, p)
			selling += json_is_true(json_object_get(p,
			    "invited")) && json_is_true(json_object_get(p,
			    "accepted"));
		snprintf(count, sizeof(count), "%zu", selling);
		const char *row[] = { field_string(m, "id"),
		    field_string(m, "name"), field_string(m, "town"),
		    schedule_format(schedule, sizeof(schedule), m), count };
		table_add(&t, row);
	}
	table_flush(&t, "");
}

/* Distributions */

static void
show_distribution(const struct invocation *inv, json_t *d)
{
	struct table	 t;
	char		 b[256];

	table_init(&t, kv_columns, 2);
	if (!done_print(inv, d))
		kv_add(&t, "id", "%s", field_string(d, "id"));
	kv_add(&t, "market", "%s", named_format(b, sizeof(b), d,
	    "market_name", "market"));
	kv_add(&t, "date", "%s", field_string(d, "date"));
	kv_add(&t, "hours", "%s-%s", field_string(d, "from"),
	    field_string(d, "to"));
	kv_add(&t, "orders open", "%s", instant_format(b, sizeof(b),
	    field_string(d, "opens_at")));
	kv_add(&t, "orders close", "%s", instant_format(b, sizeof(b),
	    field_string(d, "closes_at")));
	kv_add(&t, "state", "%s", field_string(d, "state"));
	table_flush(&t, "");
}

static void
distributions_print(json_t *list)
{
	static const struct column columns[] = { { "ID", 0 }, { "DATE", 0 },
	    { "HOURS", 0 }, { "MARKET", 0 }, { "STATE", 0 },
	    { "ORDERS CLOSE", 0 } };
	struct table	 t;
	json_t		*d;
	size_t		 i;
	char		 hours[64], closes[64];

	table_init(&t, columns, nitems(columns));
	json_array_foreach(list, i, d) {
		snprintf(hours, sizeof(hours), "%s-%s", field_string(d, "from"),
		    field_string(d, "to"));
		const char *row[] = { field_string(d, "id"),
		    field_string(d, "date"), hours,
		    field_string(d, "market_name"), field_string(d, "state"),
		    instant_format(closes, sizeof(closes),
		    field_string(d, "closes_at")) };
		table_add(&t, row);
	}
	table_flush(&t, "");
}

static void
show_distributions(const struct invocation *inv, json_t *answer)
{
	if (!empty_print(answer, "distributions"))
		distributions_print(answer);
}

static void
show_schedule(const struct invocation *inv, json_t *answer)
{
	size_t	 n = json_array_size(answer);

	if (n == 0) {
		out_line("no distribution created: every coming market day "
		    "has one or is closed to orders");
		return;
	}
	out_line("created %zu distribution%s", n, n > 1 ? "s" : "");
	putchar('\n');
	distributions_print(answer);
}

/* Orders */

static void
order_lines_print(json_t *lines)
{
	static const struct column columns[] = { { "PRODUCER", 0 },
	    { "SKU", 0 }, { "QUANTITY", 1 }, { "STATE", 0 },
	    { "CONFIRMED", 1 }, { "REASON", 0 } };
	struct table	 t;
	json_t		*l;
	size_t		 i;
	char		 quantity[32], confirmed[32];

	putchar('\n');
	if (empty_print(lines, "lines"))
		return;
	table_init(&t, columns, nitems(columns));
	json_array_foreach(lines, i, l) {
		const char *row[] = { field_string(l, "producer_name"),
		    field_string(l, "sku"), number_format(quantity,
		    sizeof(quantity), json_object_get(l, "quantity")),
		    field_string(l, "state"), number_format(confirmed,
		    sizeof(confirmed), json_object_get(l, "confirmed")),
		    field_string(l, "reason") };
		table_add(&t, row);
	}
	table_flush(&t, "");
}

static void
show_order(const struct invocation *inv, json_t *o)
{
	struct table	 t;
	char		 b[64];

	table_init(&t, kv_columns, 2);
	if (!done_print(inv, o))
		kv_add(&t, "id", "%s", field_string(o, "id"));
	kv_add(&t, "distribution", "%s", field_string(o, "distribution"));
	kv_add(&t, "basket", "%s", field_string(o, "basket"));
	if (field_string(o, "mediator")[0] != '\0')
		kv_add(&t, "mediator", "%s", field_string(o, "mediator"));
	kv_add(&t, "placed", "%s", instant_format(b, sizeof(b),
	    field_string(o, "placed_at")));
	if (json_is_true(json_object_get(o, "cancelled")))
		kv_add(&t, "state", "cancelled");
	kv_add(&t, "total", "%s", money_format(b, sizeof(b),
	    field_integer(o, "total_cents")));
	table_flush(&t, "");
	order_lines_print(json_object_get(o, "lines"));
}

static void
show_orders(const struct invocation *inv, json_t *answer)
{
	static const struct column columns[] = { { "ID", 0 },
	    { "BASKET", 0 }, { "MEDIATOR", 0 }, { "LINES", 1 },
	    { "TOTAL", 1 }, { "STATE", 0 }, { "PLACED", 0 } };
	struct table	 t;
	json_t		*o;
	size_t		 i;
	char		 lines[32], total[32], placed[64];

	if (empty_print(answer, "orders"))
		return;
	table_init(&t, columns, nitems(columns));
	json_array_foreach(answer, i, o) {
		snprintf(lines, sizeof(lines), "%zu",
		    json_array_size(json_object_get(o, "lines")));
		const char *row[] = { field_string(o, "id"),
		    field_string(o, "basket"), field_string(o, "mediator"),
		    lines, money_format(total, sizeof(total),
		    field_integer(o, "total_cents")),
		    json_is_true(json_object_get(o, "cancelled")) ?
		    "cancelled" : "placed",
		    instant_format(placed, sizeof(placed),
		    field_string(o, "placed_at")) };
		table_add(&t, row);
	}
	table_flush(&t, "");
}

/* Order sheets */

/* "Panier 12 (2), Panier 14 (3)", to be freed. */
static char *
baskets_format(json_t *baskets)
{
	json_t	*b;
	char	*text = NULL;
	size_t	 i, len;
	FILE	*f;

	if ((f = open_memstream(&text, &len)) == NULL)
		out_of_memory();
	json_array_foreach(baskets, i, b)
		fprintf(f, "%s%s (%lld)", i > 0 ? ", " : "",
		    field_string(b, "label"), field_integer(b, "quantity"));
	if (fclose(f) == EOF)
		out_of_memory();
	return (text);
}

static void
sheet_market_print(json_t *m)
{
	static const struct column columns[] = { { "SKU", 0 }, { "NAME", 0 },
	    { "QUANTITY", 1 }, { "BASKETS", 0 } };
	json_t		*products = json_object_get(m, "products"), *p;
	struct table	 t;
	size_t		 i;
	char		 quantity[32], *baskets;

	putchar('\n');
	out_line("%s, %s (%s, %s)", field_string(m, "name"),
	    field_string(m, "town"),
	    json_is_true(json_object_get(m, "final")) ? "final" :
	    "provisional", field_string(m, "distribution"));
	if (json_array_size(products) == 0) {
		out_line("  nothing ordered");
		return;
	}
	table_init(&t, columns, nitems(columns));
	json_array_foreach(products, i, p) {
		baskets = baskets_format(json_object_get(p, "baskets"));
		const char *row[] = { field_string(p, "sku"),
		    field_string(p, "name"), number_format(quantity,
		    sizeof(quantity), json_object_get(p, "quantity")),
		    baskets };
		table_add(&t, row);
		free(baskets);
	}
	table_flush(&t, "  ");
}

static void
show_sheet(const struct invocation *inv, json_t *sheet)
{
	json_t	*markets = json_object_get(sheet, "markets"), *m;
	size_t	 i;
	char	 who[256];

	out_line("order sheet of %s for %s", named_format(who, sizeof(who),
	    sheet, "producer_name", "producer"), field_string(sheet, "date"));
	if (json_array_size(markets) == 0)
		out_line("no market that day");
	json_array_foreach(markets, i, m)
		sheet_market_print(m);
}

/* Stock */

static void
stock_product_print(json_t *p)
{
	static const struct column columns[] = { { "MARKET", 0 },
	    { "NODE", 0 }, { "GRANTED", 1 }, { "RELEASED", 1 },
	    { "CONFIRMED", 1 }, { "FREE", 1 } };
	json_t		*markets = json_object_get(p, "markets"), *m;
	struct table	 t;
	size_t		 i;
	char		 node[16], granted[32], released[32], confirmed[32];
	char		 free_[32], stock[32], reserve[32];

	putchar('\n');
	out_line("%s: %s per day, reserve at the home %s",
	    field_string(p, "sku"), number_format(stock, sizeof(stock),
	    json_object_get(p, "stock")), json_is_null(json_object_get(p,
	    "reserve")) ? "unknown here" : number_format(reserve,
	    sizeof(reserve), json_object_get(p, "reserve")));
	if (json_array_size(markets) == 0) {
		out_line("  no market holds rights");
		return;
	}
	table_init(&t, columns, nitems(columns));
	json_array_foreach(markets, i, m) {
		snprintf(node, sizeof(node), "%.12s", field_string(m, "node"));
		const char *row[] = { field_string(m, "market"), node,
		    number_format(granted, sizeof(granted),
		    json_object_get(m, "granted")),
		    number_format(released, sizeof(released),
		    json_object_get(m, "released")),
		    json_is_null(json_object_get(m, "confirmed")) ? "-" :
		    number_format(confirmed, sizeof(confirmed),
		    json_object_get(m, "confirmed")),
		    number_format(free_, sizeof(free_),
		    json_object_get(m, "free")) };
		table_add(&t, row);
	}
	table_flush(&t, "  ");
}

static void
show_stock(const struct invocation *inv, json_t *stock)
{
	json_t	*products = json_object_get(stock, "products"), *p;
	size_t	 i;

	out_line("stock of %s for %s%s", field_string(stock, "producer"),
	    field_string(stock, "date"), json_is_true(json_object_get(stock,
	    "home")) ? " (this node is its home)" : "");
	if (json_array_size(products) == 0)
		out_line("no product with a limited stock");
	json_array_foreach(products, i, p)
		stock_product_print(p);
}

int
main(int argc, char **argv)
{
	struct invocation	 inv;
	int			 code;

	args_parse(&inv, argc, argv);
	if (inv.version) {
		printf("hallectl %s\n", HALLE_VERSION);
		code = EXIT_OK;
	} else if (inv.help) {
		usage_help(&inv);
		code = EXIT_OK;
	} else if (inv.error[0] != '\0')
		code = usage_error(&inv, inv.error);
	else
		code = command_run(&inv);
	free(inv.args);
	if (fflush(stdout) == EOF) {
		error_print("stdout: %s", strerror(errno));
		if (code == EXIT_OK)
			code = EXIT_NODE;
	}
	return (code);
}
