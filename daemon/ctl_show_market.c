/*
 * ctl_show_market: the renderers of a market week (see ctl.h): markets
 * and their producers, distributions, orders line by line, the order
 * sheets a producer prepares (market by market, basket by basket) and the
 * stock of a day with the rights each market's node holds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "ctl.h"

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

void
show_market(const struct invocation *inv, json_t *m)
{
	market_print(m, !done_print(inv, m));
}

/* invite, accept, uninvite, withdraw: "PRODUCER (pr-...): invited". */
void
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

void
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

void
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

void
show_distributions(const struct invocation *inv, json_t *answer)
{
	if (!empty_print(answer, "distributions"))
		distributions_print(answer);
}

void
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

void
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

void
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

void
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

void
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

/* The pick-up list */

void
show_baskets(const struct invocation *inv, json_t *list)
{
	static const struct column columns[] = { { "BASKET", 0 },
	    { "PRODUCER", 0 }, { "SKU", 0 }, { "NAME", 0 },
	    { "QUANTITY", 1 }, { "GIVEN", 0 } };
	json_t		*baskets = json_object_get(list, "baskets"), *b, *it;
	struct table	 t;
	size_t		 i, j;
	char		 quantity[32];

	out_line("pick-up list of %s, %s (%s)", field_string(list,
	    "market_name"), field_string(list, "date"),
	    field_string(list, "distribution"));
	if (field_integer(list, "lines_pending") > 0)
		out_line("%lld lines still await a producer's home",
		    field_integer(list, "lines_pending"));
	if (json_array_size(baskets) == 0) {
		out_line("no basket");
		return;
	}
	putchar('\n');
	table_init(&t, columns, nitems(columns));
	json_array_foreach(baskets, i, b)
		json_array_foreach(json_object_get(b, "items"), j, it) {
			const char *row[] = { j == 0 ?
			    field_string(b, "label") : "",
			    field_string(it, "producer_name"),
			    field_string(it, "sku"), field_string(it, "name"),
			    number_format(quantity, sizeof(quantity),
			    json_object_get(it, "quantity")),
			    json_is_true(json_object_get(it, "pending")) ?
			    "[ ] (pending)" : "[ ]" };
			table_add(&t, row);
		}
	table_flush(&t, "");
}
