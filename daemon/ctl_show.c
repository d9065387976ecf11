/*
 * ctl_show: the renderers of the node's own answers (status, feeds,
 * backup) and of producers and catalogues (see ctl.h). Each takes the JSON
 * the node sent and prints it for a person; --json bypasses them. The
 * status follows bgpctl's "show summary": key: value lines, then a table
 * per grouping and per peer with relative times ("Never", "00:04:10",
 * "1d02h03m"), and one of the peers this node is catching up from.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ctl.h"

/* Appends src to the NUL-terminated dst, cut to fit in len bytes. */
static void
strlcat_safe(char *dst, const char *src, size_t len)
{
	size_t used = strlen(dst);

	if (used + 1 < len)
		snprintf(dst + used, len - used, "%s", src);
}

/* The strings of array joined by SEP into buf ("?" for a non-string). */
static char *
strings_join(char *buf, size_t len, json_t *array, const char *sep)
{
	json_t	*s;
	size_t	 i;

	buf[0] = '\0';
	json_array_foreach(array, i, s) {
		if (i > 0)
			strlcat_safe(buf, sep, len);
		strlcat_safe(buf, json_string_value(s) ? json_string_value(s) :
		    "?", len);
	}
	return (buf);
}

static void
show_groupings(json_t *groupings)
{
	static const struct column columns[] = { { "GROUPING", 0 },
	    { "MEMBERS", 0 }, { "FEEDS", 1 }, { "IN SYNC", 0 } };
	struct table	 t;
	json_t		*g;
	size_t		 i;
	char		 members[512], feeds[32];

	if (json_array_size(groupings) == 0)
		return;
	table_init(&t, columns, nitems(columns));
	json_array_foreach(groupings, i, g) {
		strings_join(members, sizeof(members),
		    json_object_get(g, "members"), ", ");
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

/* "45,210/s", "0.4/s": records per second. */
static char *
rate_format(char *buf, size_t len, json_t *rate)
{
	double	 r = json_number_value(rate);
	char	 n[32];

	if (r >= 10)
		snprintf(buf, len, "%s/s", integer_format(n, sizeof(n),
		    (long long)(r + 0.5)));
	else
		snprintf(buf, len, "%.1f/s", r);
	return (buf);
}

/*
 * One row per peer this node is catching up from (records to go): how
 * many, at what rate, and the time left at that rate ("-" while nothing
 * comes).
 */
static void
show_catch_up(json_t *peers)
{
	static const struct column columns[] = { { "CATCHING UP FROM", 0 },
	    { "TO GO", 1 }, { "RATE", 1 }, { "TIME LEFT", 1 } };
	struct table	 t;
	json_t		*p, *left;
	size_t		 i, rows = 0;
	char		 to_go[32], rate[32], time_left[32];

	json_array_foreach(peers, i, p)
		rows += field_integer(p, "to_go") > 0;
	if (rows == 0)
		return;
	table_init(&t, columns, nitems(columns));
	json_array_foreach(peers, i, p) {
		if (field_integer(p, "to_go") <= 0)
			continue;
		left = json_object_get(p, "time_left_s");
		const char *row[] = { field_string(p, "name"),
		    integer_format(to_go, sizeof(to_go),
		    field_integer(p, "to_go")),
		    rate_format(rate, sizeof(rate), json_object_get(p, "rate")),
		    json_is_integer(left) ? age_format(time_left,
		    sizeof(time_left), left) : "-" };
		table_add(&t, row);
	}
	printf("\n");
	table_flush(&t, "");
}

/* Why a node takes no writes, and the peers it waits for. */
static void
show_write_wait(struct table *t, json_t *answer)
{
	char peers[512];

	kv_add(t, "write state", "%s", field_string(answer, "write_state"));
	strings_join(peers, sizeof(peers), json_object_get(answer,
	    "waiting_for"), ", ");
	if (peers[0] != '\0')
		kv_add(t, "waiting for", "%s", peers);
	kv_add(t, "why", "%s", field_string(answer, "write_reason"));
}

void
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
	show_catch_up(json_object_get(answer, "peers"));
}

void
show_feeds(const struct invocation *inv, json_t *answer)
{
	static const struct column columns[] = { { "NAME", 0 },
	    { "GROUPINGS", 0 }, { "HEAD", 1 }, { "HEAD TIME", 0 },
	    { "FROZEN", 0 }, { "ORIGIN", 0 } };
	struct table	 t;
	json_t		*feed;
	size_t		 i;
	char		 seq[32], when[64], groupings[256];

	if (empty_print(answer, "feeds"))
		return;
	table_init(&t, columns, nitems(columns));
	json_array_foreach(answer, i, feed) {
		strings_join(groupings, sizeof(groupings),
		    json_object_get(feed, "groupings"), ",");
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

void
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

void
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

void
show_catalogue(const struct invocation *inv, json_t *c)
{
	catalogue_print(inv->command->done ? inv->command->done : "catalogue",
	    c);
}

/* catalogue import: what was published, or would be, and what was not. */
void
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
void
show_document(const struct invocation *inv, json_t *doc)
{
	json_print(doc);
}

void
show_backup(const struct invocation *inv, json_t *answer)
{
	char	 size[32];

	out_line("backup written to %s (%s)", field_string(answer, "path"),
	    size_format(size, sizeof(size), field_integer(answer, "bytes")));
}
