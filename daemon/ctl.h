/*
 * ctl.h: what the files of hallectl share, and nothing else includes.
 *
 * hallectl is cut by concern; a command line goes through the files in
 * this order:
 *
 *   hallectl.c      the command table, main and the run of one command
 *     ctl_args.c    argv -> struct invocation; usage and --help
 *     ctl_request.c invocation -> request target and body (the JSON from
 *                   arguments and options, or a file's document)
 *     ctl_http.c    the exchange with halled (ctl_http.h, libcurl)
 *     ctl_backup.c  meanwhile, backup's progress bar (progress.h)
 *     ctl_show.c,   2xx answer -> the command's show_ renderer: the node,
 *     ctl_show_market.c  producers, catalogues / markets, distributions,
 *                   orders, sheets, stock
 *     ctl_show_csv.c  --csv: the pick-up list and the sheet as CSV
 *     ctl_output.c  what every renderer uses: messages, tables, the
 *                   formats of numbers, money, sizes, ages and instants
 *     ctl_csv.c     the CSV writer (ctl_csv.h, RFC 4180)
 *     ctl_events.c  hallectl events: a stream followed, not one answer
 *
 * The structs are plain: a command is a row of the table (struct command),
 * a command line once parsed is a struct invocation; output goes through
 * struct table or out_line(), which replace control characters so that a
 * name cannot drive the terminal.
 */
#ifndef HALLE_CTL_H
#define HALLE_CTL_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

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
struct ctl_http_watch;

/*
 * What a long command shows on a terminal while its request runs: begin
 * gets the request's body and returns the watch the exchange ticks (NULL:
 * nothing to show, such as off a terminal); end is called once the
 * exchange is over, before anything is printed, with whether the node
 * answered 2xx, and releases the watch.
 */
struct command_watch {
	struct ctl_http_watch	*(*begin)(const struct invocation *inv,
				    json_t *body);
	void			 (*end)(struct ctl_http_watch *watch,
				    int succeeded);
};
struct ctl_http_reply;

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
	/* --csv: the answer as CSV, or NULL when the command has none. */
	void			(*csv)(const struct invocation *, json_t *);
	const struct command_watch *watch;	/* or NULL */
	const char		*done;		/* "created producer" + id */
	/* A command that follows a stream, instead of the above. */
	int			(*follow)(const struct invocation *);
};

/* The parsed command line. */
struct invocation {
	const struct command	*command;
	const char		*group;		/* the first word, once seen */
	const char		*socket;
	int			 json;
	int			 csv;
	const char		*csv_sep_given;	/* --csv-sep, as given */
	char			 csv_sep;	/* ',' unless given */
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

/* hallectl.c: the command table, in the order of docs/control-api.md. */
extern const struct command	commands[];
extern const size_t		ncommands;

/* The command GROUP VERB (VERB NULL: a one-word command), or NULL. */
const struct command	*command_find(const char *group, const char *verb);

/* 1 if GROUP is the first word of commands that take a second one. */
int	group_exists(const char *group);

/*
 * The node's error answer on stderr (and as JSON on stdout with --json);
 * returns EXIT_NODE.
 */
int	reply_error(const struct invocation *inv,
	    const struct ctl_http_reply *reply);

/* ctl_events.c: hallectl events; returns the exit code. */
int	events_follow(const struct invocation *inv);

/* ctl_args.c */

/*
 * Fills inv from argv. Global options may come anywhere; a command's
 * options after its words; "--" ends the options. A usage error is kept
 * in inv->error (the first one), --help and --version in their flags.
 * inv->args is allocated: the caller frees it.
 */
void	args_parse(struct invocation *inv, int argc, char **argv);

/* Parses a whole decimal integer, without leading blanks: 0, or -1. */
int	integer_parse(const char *s, long long *value);

/* --help on stdout: the command's usage, the group's, or everything. */
void	usage_help(const struct invocation *inv);

/*
 * After a usage error: MESSAGE (if not NULL) and the short usage of what
 * inv names, on stderr. Returns EXIT_USAGE.
 */
int	usage_error(const struct invocation *inv, const char *message);

/* ctl_request.c */

/*
 * Writes the request target into out: the command's target with its "%s"
 * replaced by arguments, its query and its flags. Returns how many
 * arguments it took, or -1 (message printed) when they are too long.
 */
int	request_target(const struct invocation *inv, char *out,
	    size_t outlen);

/*
 * The body builders of the table's commands. Each takes the arguments
 * from args[first] on and returns 0 with *bodyp (or *textp) to release,
 * or an exit code after printing why.
 *
 * body_fields: the fields, the options, then the order lines.
 * body_catalogue: the JSON object in the file args[first] ("-": stdin).
 * body_backup: {"path"}, made absolute.
 * text_document: the file's text as it is, once it is known to be JSON.
 */
int	body_fields(const struct invocation *inv, int first, json_t **bodyp);
int	body_catalogue(const struct invocation *inv, int first,
	    json_t **bodyp);
int	body_backup(const struct invocation *inv, int first, json_t **bodyp);
int	text_document(const struct invocation *inv, int first, char **textp);

/* ctl_backup.c: the watch of backup (struct command_watch). */
struct ctl_http_watch	*backup_watch_begin(const struct invocation *inv,
			    json_t *body);
void	backup_watch_end(struct ctl_http_watch *watch, int succeeded);

/* ctl_output.c: messages */

/* "hallectl: " and the message on stderr, after what stdout holds. */
void	error_print(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

/* Says so and exits with EXIT_NODE. */
void	out_of_memory(void) __attribute__((noreturn));

/* Prints one line on stdout, formatted, control characters replaced. */
void	out_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints a JSON value indented by two, as --json does. */
void	json_print(json_t *value);

/*
 * Prints "created producer pr-..." for commands that change (those with
 * a done text) and returns 1; returns 0 for the others.
 */
int	done_print(const struct invocation *inv, json_t *answer);

/* Prints "no WHAT" and returns 1 if array is empty; else returns 0. */
int	empty_print(json_t *array, const char *what);

/*
 * ctl_output.c: tables. Columns are as wide as their widest cell, in code
 * points; cells are copied and cleaned of control characters.
 * table_init, then table_add or kv_add a row at a time, then table_flush,
 * which prints every row after INDENT and releases the table.
 */
extern const struct column	kv_columns[2];	/* "key:", value */

void	table_init(struct table *t, const struct column *columns,
	    size_t ncolumns);
void	table_add(struct table *t, const char *const *row);
void	kv_add(struct table *t, const char *key, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	table_flush(struct table *t, const char *indent);

/*
 * ctl_output.c: fields and formats. field_ functions read a member of an
 * object: "" or 0 when absent, "yes" or "no" for a boolean. Each _format
 * function writes into buf (LEN bytes, cut to fit) and returns buf.
 */
const char	*field_string(json_t *object, const char *key);
long long	 field_integer(json_t *object, const char *key);
const char	*field_yes(json_t *object, const char *key);
char	*integer_format(char *buf, size_t len, long long n);
/* A JSON number as it reads best: "3", "0.5"; "-" for anything else. */
char	*number_format(char *buf, size_t len, json_t *number);
/* Cents as "4.50". */
char	*money_format(char *buf, size_t len, long long cents);
/* 550 basis points: "5.5%". */
char	*vat_format(char *buf, size_t len, long long bp);
/* Bytes as "512 B", "1.5 MiB". */
char	*size_format(char *buf, size_t len, long long bytes);
/* Seconds as "00:04:10", or "1d02h03m" from a day on; "Never" if absent. */
char	*age_format(char *buf, size_t len, json_t *seconds);
/* "2026-12-05T10:00:00+01:00" as "2026-12-05 10:00"; "Never" if "". */
char	*instant_format(char *buf, size_t len, const char *iso);
/* "Ferme du Moulin (pr-1a2b3c4d5e6f)" from two members of object. */
char	*named_format(char *buf, size_t len, json_t *object,
	    const char *name_key, const char *id_key);

/*
 * ctl_show.c and ctl_show_market.c: the renderers of a 2xx answer, one
 * per command of the table (some serve several). Each prints the answer
 * for a person, from what it holds; a member missing prints as empty.
 */
void	show_status(const struct invocation *inv, json_t *answer);
void	show_feeds(const struct invocation *inv, json_t *answer);
void	show_backup(const struct invocation *inv, json_t *answer);
void	show_producer(const struct invocation *inv, json_t *producer);
void	show_producers(const struct invocation *inv, json_t *answer);
void	show_catalogue(const struct invocation *inv, json_t *catalogue);
void	show_import(const struct invocation *inv, json_t *answer);
void	show_document(const struct invocation *inv, json_t *document);
void	show_market(const struct invocation *inv, json_t *market);
void	show_markets(const struct invocation *inv, json_t *answer);
void	show_market_change(const struct invocation *inv, json_t *market);
void	show_distribution(const struct invocation *inv, json_t *d);
void	show_distributions(const struct invocation *inv, json_t *answer);
void	show_schedule(const struct invocation *inv, json_t *answer);
void	show_order(const struct invocation *inv, json_t *order);
void	show_orders(const struct invocation *inv, json_t *answer);
void	show_sheet(const struct invocation *inv, json_t *sheet);
void	show_baskets(const struct invocation *inv, json_t *list);
void	show_stock(const struct invocation *inv, json_t *stock);

/*
 * ctl_show_csv.c: the --csv renderers, on stdout with the separator of
 * inv; a header line, then one line per basket and product (the pick-up
 * list), or per market, product and basket (the sheet).
 */
void	csv_baskets(const struct invocation *inv, json_t *list);
void	csv_sheet(const struct invocation *inv, json_t *sheet);

#endif
