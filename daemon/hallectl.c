/*
 * hallectl: the command-line client of halled's control API. This file
 * holds the command table, main and the run of one command; ctl.h says
 * which file does what for it.
 *
 * Each command is one HTTP request on the node's control socket, and the
 * command table below follows the table at the end of docs/control-api.md
 * row for row:
 *
 *   argv -> args_parse -> struct invocation -> request_target, body_...
 *        -> ctl_http_exchange -> 2xx: --json prints the JSON as it came,
 *                                     --csv the command's csv_ function,
 *                                     else its show_ function
 *                             -> error: the node's message on stderr
 *
 * The client keeps no state and judges little: it checks the shape of the
 * command line and that numbers are numbers; everything else is the node's
 * to judge, and its error message is printed as the node wrote it.
 *
 * Exit status: 0 success, 1 the node answered with an error, 2 usage error,
 * 3 the node cannot be reached.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl.h"
#include "ctl_http.h"

#ifndef HALLE_VERSION
#define HALLE_VERSION	"dev"
#endif

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

static const struct option_spec events_options[] = {
	{ "since", "since", OPTION_INTEGER, 0, NULL },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct option_spec order_options[] = {
	{ "basket", "basket", OPTION_STRING, 1, NULL },
	{ "mediator", "mediator", OPTION_STRING, 0, NULL },
	{ NULL, NULL, 0, 0, NULL }
};

static const struct command_watch backup_watch = {
	backup_watch_begin, backup_watch_end
};

const struct command commands[] = {
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
	{ .group = "events", .synopsis = "[--since ID]",
	  .summary = "Follows the node's events, one line each, as they "
	    "happen: after\nthe event ID with --since (0: from the first "
	    "held), else from now.\nEnds, saying the id to resume after, "
	    "when the stream does.",
	  .options = events_options, .method = "GET", .target = "/v1/events",
	  .follow = events_follow },
	{ .group = "backup", .synopsis = "PATH",
	  .summary = "Writes a compacted copy of the running node's store "
	    "into the\nnew or empty directory PATH.",
	  .min_args = 1, .max_args = 1,
	  .method = "POST", .target = "/v1/backup", .body = body_backup,
	  .show = show_backup, .watch = &backup_watch },

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
	{ .group = "distribution", .verb = "baskets",
	  .synopsis = "ID [--csv [--csv-sep C]]",
	  .summary = "Prints the pick-up list: per basket, what to hand over,\n"
	    "producer by producer, with a column to tick. --csv prints one "
	    "line per\nbasket and product, separated by C (default ',').",
	  .min_args = 1, .max_args = 1,
	  .method = "GET", .target = "/v1/distributions/%s/baskets",
	  .show = show_baskets, .csv = csv_baskets },
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

	{ .group = "sheet", .synopsis = "PRODUCER DATE [--csv [--csv-sep C]]",
	  .summary = "Shows what the producer must prepare for DATE, market by "
	    "market\nand basket by basket. --csv prints one line per market, "
	    "product and\nbasket, separated by C (default ',').",
	  .min_args = 2, .max_args = 2,
	  .method = "GET", .target = "/v1/sheets/%s/%s", .show = show_sheet,
	  .csv = csv_sheet },

	{ .group = "stock", .synopsis = "PRODUCER DATE",
	  .summary = "Shows a producer's stock on DATE: the home's reserve and, "
	    "per market,\nthe rights granted to its node and what it "
	    "confirmed.",
	  .min_args = 2, .max_args = 2,
	  .method = "GET", .target = "/v1/stock/%s/%s", .show = show_stock },
};

const size_t ncommands = nitems(commands);

const struct command *
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
int
group_exists(const char *group)
{
	const struct command	*c;

	for (c = commands; c < commands + nitems(commands); c++)
		if (c->verb != NULL && strcmp(c->group, group) == 0)
			return (1);
	return (0);
}

/*
 * Runs the exchange, watched if watch is not NULL; returns 0, or the exit
 * code after a message.
 */
static int
request_send(const struct invocation *inv, const char *target,
    const char *text, struct ctl_http_watch *watch,
    struct ctl_http_reply *reply)
{
	char	 err[256];
	int	 r;

	r = ctl_http_exchange_watched(reply, inv->socket,
	    inv->command->method, target, text, inv->command->content_type,
	    inv->command->accept, TIMEOUT_MS, watch, err, sizeof(err));
	if (watch != NULL)
		inv->command->watch->end(watch, r == 0 &&
		    reply->status >= 200 && reply->status <= 299);
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

int
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
	else if (inv->csv)
		inv->command->csv(inv, answer);
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
	struct ctl_http_watch	*watch = NULL;
	char			 target[TARGET_MAX], *text = NULL;
	json_t			*body = NULL;
	int			 code, used;

	if (c->follow != NULL)
		return (c->follow(inv));
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
	if (c->watch != NULL)
		watch = c->watch->begin(inv, body);
	json_decref(body);
	code = request_send(inv, target, text, watch, &reply);
	free(text);
	if (code != 0)
		return (code);
	code = reply_handle(inv, &reply);
	ctl_http_reply_free(&reply);
	return (code);
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
