/*
 * test_domain: the rules of a commune's markets, through the service layer.
 *
 * One real node (testnode.h) serves the whole program. Each test makes its
 * own producers and markets, so tests do not share stock. Every refused
 * request must leave the feed as it was: FAILS() compares the feed head
 * before and after.
 *
 * The last test closes the node, opens it again on the same directory and
 * checks that every answer is the same and that the whole feed verifies.
 */
#include <dirent.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "testnode.h"
#include "testapi.h"
#include "testutil.h"
#include <jansson.h>

#include "api_status.h"
#include "config.h"
#include "error.h"
#include "feed.h"
#include "ids.h"
#include "node.h"
#include "service.h"
#include "store.h"
#include "timeutil.h"


static json_t *
try_change(const char *order, json_t *lines)
{
	json_t *req = json_pack("{s:o}", "lines", lines), *o;

	o = testapi_order_change(&node, order, req, &E);
	json_decref(req);
	return o;
}

static json_t *
show_order(const char *id)
{
	return OK(service_order_show(&node, id, &E));
}

static json_t *
line_of(json_t *order, const char *producer, const char *sku)
{
	json_t *l;
	size_t i;

	json_array_foreach(json_object_get(order, "lines"), i, l)
		if (strcmp(str(l, "sku"), sku) == 0 &&
		    strcmp(str(l, "producer"), producer) == 0)
			return l;
	fail_msg("order %s has no line %s", str(order, "id"), sku);
	return NULL;
}

/* reason: 1 must have one, 0 must not. */
static void
assert_line(json_t *order, const char *producer, const char *sku,
    const char *state, json_int_t quantity, json_int_t confirmed,
    int reason)
{
	json_t *l = line_of(order, producer, sku), *r;

	assert_string_equal(str(l, "state"), state);
	assert_int_equal(num(l, "quantity"), quantity);
	assert_int_equal(num(l, "confirmed"), confirmed);
	r = json_object_get(l, "reason");
	if (reason) {
		assert_true(json_is_string(r));
		assert_true(json_string_length(r) > 0);
	} else
		assert_null(r);
}

/* Places a one-line order; its confirmed quantity. */
static json_int_t
place_confirmed(const char *dist, const char *basket, const char *producer,
    const char *sku, json_int_t quantity, char *id)
{
	json_t *o = OK(try_place(dist, basket, one_line(producer, sku,
	    quantity)));
	json_int_t confirmed;

	confirmed = num(line_of(o, producer, sku), "confirmed");
	if (id != NULL)
		snprintf(id, ID_MAX, "%s", str(o, "id"));
	json_decref(o);
	return confirmed;
}

/* A producer with a catalogue, selling at a market with a distribution. */
struct scene {
	char	producer[ID_MAX];
	char	market[ID_MAX];
	char	dist[ID_MAX];
};

static void
scene_setup(struct scene *s, const char *tag, json_t *products)
{
	char name[128];

	snprintf(name, sizeof(name), "Ferme %s", tag);
	add_producer(name, s->producer);
	json_decref(OK(try_publish(s->producer, products, 0)));
	snprintf(name, sizeof(name), "Marché %s", tag);
	add_market(name, s->market);
	sell(s->market, s->producer);
	open_distribution(s->market, DATE, s->dist);
}

static json_t *
bread(json_int_t stock)
{
	return json_pack("[o]", product("PAIN", "Pain de campagne", 450, 550,
	    stock));
}

/* Order sheets */

/*
 * What the sheet of producer should list for one distribution, from its
 * orders: sku -> {"quantity": n, "baskets": {order id: {label, quantity}}}.
 */
static json_t *
expected_products(const char *producer, const char *dist)
{
	json_t *orders, *o, *l, *expected = json_object(), *p;
	size_t i, j;

	orders = OK(service_order_list(&node, dist, &E));
	json_array_foreach(orders, i, o) {
		if (json_is_true(json_object_get(o, "cancelled")))
			continue;
		json_array_foreach(json_object_get(o, "lines"), j, l) {
			if (strcmp(str(l, "producer"), producer) != 0 ||
			    num(l, "confirmed") == 0)
				continue;
			assert_string_equal(str(l, "state"), "confirmed");
			if ((p = json_object_get(expected, str(l, "sku"))) ==
			    NULL) {
				p = json_pack("{s:I, s:{}}", "quantity",
				    (json_int_t)0, "baskets");
				json_object_set_new(expected, str(l, "sku"), p);
			}
			json_object_set_new(p, "quantity", json_integer(
			    num(p, "quantity") + num(l, "confirmed")));
			json_object_set_new(json_object_get(p, "baskets"),
			    str(o, "id"), json_pack("{s:s, s:I}", "label",
			    str(o, "basket"), "quantity", num(l, "confirmed")));
		}
	}
	json_decref(orders);
	return expected;
}

static json_t *
sheet_market(json_t *sheet, const char *dist)
{
	json_t *m;
	size_t i;

	json_array_foreach(json_object_get(sheet, "markets"), i, m)
		if (strcmp(str(m, "distribution"), dist) == 0)
			return m;
	return NULL;
}

/*
 * Checks the sheet of producer on date against the orders of dists (the
 * distributions of that date): per market and product, the sum of the
 * confirmed quantities, one basket per confirmed line; a distribution with
 * nothing confirmed is not listed. Returns the total of sku.
 */
static json_int_t
check_sheet(const char *producer, const char *date, const char *const *dists,
    size_t ndists, const char *sku)
{
	json_t *sheet, *m, *expected, *products, *p, *e, *baskets, *b, *eb;
	json_t *dist;
	json_int_t total = 0, sum;
	size_t i, j, k, listed = 0;

	sheet = OK(service_sheet(&node, producer, date, &E));
	assert_string_equal(str(sheet, "producer"), producer);
	assert_string_equal(str(sheet, "date"), date);
	for (i = 0; i < ndists; i++) {
		expected = expected_products(producer, dists[i]);
		m = sheet_market(sheet, dists[i]);
		if (json_object_size(expected) == 0) {
			assert_null(m);
			json_decref(expected);
			continue;
		}
		if (m == NULL)
			fail_msg("the sheet of %s lists no market for %s",
			    date, dists[i]);
		listed++;
		dist = OK(service_distribution_show(&node, dists[i], &E));
		assert_string_equal(str(m, "id"), str(dist, "market"));
		assert_string_equal(str(m, "name"), str(dist, "market_name"));
		assert_string_equal(str(dist, "date"), date);
		json_decref(dist);
		products = json_object_get(m, "products");
		assert_int_equal(json_array_size(products),
		    json_object_size(expected));
		json_array_foreach(products, j, p) {
			if ((e = json_object_get(expected, str(p, "sku"))) ==
			    NULL)
				fail_msg("sheet lists %s, no order has it",
				    str(p, "sku"));
			assert_int_equal(num(p, "quantity"),
			    num(e, "quantity"));
			baskets = json_object_get(p, "baskets");
			assert_int_equal(json_array_size(baskets),
			    json_object_size(json_object_get(e, "baskets")));
			sum = 0;
			json_array_foreach(baskets, k, b) {
				eb = json_object_get(json_object_get(e,
				    "baskets"), str(b, "order"));
				assert_non_null(eb);
				assert_string_equal(str(b, "label"),
				    str(eb, "label"));
				assert_int_equal(num(b, "quantity"),
				    num(eb, "quantity"));
				sum += num(b, "quantity");
			}
			assert_int_equal(sum, num(p, "quantity"));
			if (strcmp(str(p, "sku"), sku) == 0)
				total += num(p, "quantity");
		}
		json_decref(expected);
	}
	assert_int_equal(json_array_size(json_object_get(sheet, "markets")),
	    listed);
	json_decref(sheet);
	return total;
}

/* Tests */

static void
test_stock_limit(void **state)
{
	struct scene s;
	const char *dists[1];
	json_t *o;

	scene_setup(&s, "Stock", bread(10));
	dists[0] = s.dist;

	o = OK(try_place(s.dist, "Panier 1", one_line(s.producer, "PAIN", 4)));
	assert_line(o, s.producer, "PAIN", "confirmed", 4, 4, 0);
	assert_int_equal(num(o, "total_cents"), 4 * 450);
	assert_int_equal(num(o, "version"), 1);
	assert_string_equal(str(o, "distribution"), s.dist);
	assert_string_equal(str(o, "basket"), "Panier 1");
	assert_false(json_is_true(json_object_get(o, "cancelled")));
	assert_int_equal(num(line_of(o, s.producer, "PAIN"), "price_cents"),
	    450);
	json_decref(o);

	o = OK(try_place(s.dist, "Panier 2", one_line(s.producer, "PAIN", 4)));
	assert_line(o, s.producer, "PAIN", "confirmed", 4, 4, 0);
	json_decref(o);

	/* Only 2 left: confirmed for 2, with the reason. */
	o = OK(try_place(s.dist, "Panier 3", one_line(s.producer, "PAIN", 4)));
	assert_line(o, s.producer, "PAIN", "confirmed", 4, 2, 1);
	assert_int_equal(num(o, "total_cents"), 2 * 450);
	json_decref(o);

	/* Nothing left: refused. */
	o = OK(try_place(s.dist, "Panier 4", one_line(s.producer, "PAIN", 4)));
	assert_line(o, s.producer, "PAIN", "refused", 4, 0, 1);
	assert_int_equal(num(o, "total_cents"), 0);
	json_decref(o);

	assert_int_equal(check_sheet(s.producer, DATE, dists, 1, "PAIN"), 10);
}

static void
test_change_retakes(void **state)
{
	struct scene s;
	const char *dists[1];
	char o1[ID_MAX], o3[ID_MAX];
	json_t *o;

	scene_setup(&s, "Change", bread(10));
	dists[0] = s.dist;
	assert_int_equal(place_confirmed(s.dist, "Panier 1", s.producer,
	    "PAIN", 4, o1), 4);
	assert_int_equal(place_confirmed(s.dist, "Panier 2", s.producer,
	    "PAIN", 4, NULL), 4);
	assert_int_equal(place_confirmed(s.dist, "Panier 3", s.producer,
	    "PAIN", 4, o3), 2);

	/* 4 -> 1 releases 3. */
	o = OK(try_change(o1, one_line(s.producer, "PAIN", 1)));
	assert_string_equal(str(o, "id"), o1);
	assert_int_equal(num(o, "version"), 2);
	assert_string_equal(str(o, "basket"), "Panier 1");
	assert_line(o, s.producer, "PAIN", "confirmed", 1, 1, 0);
	assert_int_equal(num(o, "total_cents"), 450);
	json_decref(o);
	assert_int_equal(check_sheet(s.producer, DATE, dists, 1, "PAIN"), 7);

	assert_int_equal(place_confirmed(s.dist, "Panier 4", s.producer,
	    "PAIN", 3, NULL), 3);
	assert_int_equal(place_confirmed(s.dist, "Panier 5", s.producer,
	    "PAIN", 1, NULL), 0);

	/* Back up to 5: the 1 it held is all there is. */
	o = OK(try_change(o1, one_line(s.producer, "PAIN", 5)));
	assert_line(o, s.producer, "PAIN", "confirmed", 5, 1, 1);
	json_decref(o);

	/* Order 3 keeps what it had when asking for the same again. */
	o = OK(try_change(o3, one_line(s.producer, "PAIN", 4)));
	assert_line(o, s.producer, "PAIN", "confirmed", 4, 2, 1);
	json_decref(o);
	assert_int_equal(check_sheet(s.producer, DATE, dists, 1, "PAIN"), 10);
}

static void
test_cancel_releases(void **state)
{
	struct scene s;
	const char *dists[1];
	char o1[ID_MAX];
	json_t *o;

	scene_setup(&s, "Cancel", bread(10));
	dists[0] = s.dist;
	assert_int_equal(place_confirmed(s.dist, "Panier 1", s.producer,
	    "PAIN", 6, o1), 6);
	assert_int_equal(place_confirmed(s.dist, "Panier 2", s.producer,
	    "PAIN", 4, NULL), 4);
	assert_int_equal(place_confirmed(s.dist, "Panier 3", s.producer,
	    "PAIN", 2, NULL), 0);

	o = OK(service_order_cancel(&node, o1, &E));
	assert_true(json_is_true(json_object_get(o, "cancelled")));
	assert_int_equal(num(o, "version"), 2);
	assert_int_equal(num(o, "total_cents"), 0);
	assert_line(o, s.producer, "PAIN", "refused", 6, 0, 1);
	json_decref(o);
	assert_int_equal(check_sheet(s.producer, DATE, dists, 1, "PAIN"), 4);

	assert_int_equal(place_confirmed(s.dist, "Panier 4", s.producer,
	    "PAIN", 7, NULL), 6);
	assert_int_equal(check_sheet(s.producer, DATE, dists, 1, "PAIN"), 10);

	/* A cancelled order stays so. */
	FAILS(service_order_cancel(&node, o1, &E), 409, "order_cancelled");
	FAILS(try_change(o1, one_line(s.producer, "PAIN", 1)), 409,
	    "order_cancelled");
}

static void
test_unlimited(void **state)
{
	struct scene s;
	const char *dists[1];
	json_t *c;

	scene_setup(&s, "Unlimited", bread(-1));
	dists[0] = s.dist;
	c = OK(service_catalogue_show(&node, s.producer, &E));
	assert_true(json_is_null(json_object_get(json_array_get(
	    json_object_get(c, "products"), 0), "stock_per_day")));
	json_decref(c);

	assert_int_equal(place_confirmed(s.dist, "Panier 1", s.producer,
	    "PAIN", 1000, NULL), 1000);
	assert_int_equal(place_confirmed(s.dist, "Panier 2", s.producer,
	    "PAIN", 1000000, NULL), 1000000);
	assert_int_equal(place_confirmed(s.dist, "Panier 3", s.producer,
	    "PAIN", 999999, NULL), 999999);
	assert_int_equal(check_sheet(s.producer, DATE, dists, 1, "PAIN"),
	    2000999);

	/* A stock of 0 refuses everything. */
	json_decref(OK(try_publish(s.producer, bread(0), 0)));
	assert_int_equal(place_confirmed(s.dist, "Panier 4", s.producer,
	    "PAIN", 1, NULL), 0);
}

static void
test_shared_stock(void **state)
{
	static const json_int_t asks[] = { 3, 2, 4, 1, 3, 2, 1 };
	char producer[ID_MAX], market_a[ID_MAX], market_b[ID_MAX];
	char dist_a[ID_MAX], dist_b[ID_MAX], dist_c[ID_MAX], basket[32];
	const char *dists[2], *later[1];
	json_int_t left = 10, got, total = 0, want;
	size_t i;

	add_producer("Ferme Partagée", producer);
	json_decref(OK(try_publish(producer, json_pack("[o]", product("OEUFS",
	    "Oeufs", 30, 550, 10)), 0)));
	add_market("Marché Partagé A", market_a);
	add_market("Marché Partagé B", market_b);
	sell(market_a, producer);
	sell(market_b, producer);
	open_distribution(market_a, DATE, dist_a);
	open_distribution(market_b, DATE, dist_b);
	open_distribution(market_a, DATE2, dist_c);
	dists[0] = dist_a;
	dists[1] = dist_b;
	later[0] = dist_c;

	/* Alternating markets, first come first served. */
	for (i = 0; i < sizeof(asks) / sizeof(asks[0]); i++) {
		snprintf(basket, sizeof(basket), "Panier %zu", i);
		got = place_confirmed(i % 2 ? dist_b : dist_a, basket,
		    producer, "OEUFS", asks[i], NULL);
		want = asks[i] < left ? asks[i] : left;
		assert_int_equal(got, want);
		left -= got;
		total += got;
		assert_true(total <= 10);
	}
	assert_int_equal(total, 10);
	assert_int_equal(check_sheet(producer, DATE, dists, 2, "OEUFS"), 10);

	/* Another day has its own stock. */
	assert_int_equal(place_confirmed(dist_c, "Panier 9", producer, "OEUFS",
	    10, NULL), 10);
	assert_int_equal(place_confirmed(dist_c, "Panier 10", producer,
	    "OEUFS", 1, NULL), 0);
	assert_int_equal(check_sheet(producer, DATE2, later, 1, "OEUFS"), 10);
	assert_int_equal(check_sheet(producer, DATE, dists, 2, "OEUFS"), 10);
}

static void
test_price_frozen(void **state)
{
	struct scene s;
	char o1[ID_MAX];
	json_t *o, *c, *l;

	scene_setup(&s, "Prix", bread(-1));
	o = OK(try_place(s.dist, "Panier 1", one_line(s.producer, "PAIN", 2)));
	snprintf(o1, sizeof(o1), "%s", str(o, "id"));
	assert_int_equal(num(o, "total_cents"), 900);
	json_decref(o);

	c = OK(try_publish(s.producer, json_pack("[o, o]",
	    product("PAIN", "Pain au levain", 500, 2000, -1),
	    product("BRIOCHE", "Brioche", 300, 550, -1)), 0));
	assert_int_equal(num(c, "version"), 2);
	json_decref(c);

	/* The order as placed does not move. */
	o = show_order(o1);
	l = line_of(o, s.producer, "PAIN");
	assert_int_equal(num(l, "price_cents"), 450);
	assert_int_equal(num(l, "vat_bp"), 550);
	assert_string_equal(str(l, "name"), "Pain de campagne");
	json_decref(o);

	/* Changed: the old line keeps its price, a new line takes v2's. */
	o = OK(try_change(o1, json_pack("[o, o]", line(s.producer, "PAIN", 3),
	    line(s.producer, "BRIOCHE", 1))));
	l = line_of(o, s.producer, "PAIN");
	assert_int_equal(num(l, "price_cents"), 450);
	assert_int_equal(num(l, "vat_bp"), 550);
	assert_string_equal(str(l, "name"), "Pain de campagne");
	assert_line(o, s.producer, "PAIN", "confirmed", 3, 3, 0);
	l = line_of(o, s.producer, "BRIOCHE");
	assert_int_equal(num(l, "price_cents"), 300);
	assert_line(o, s.producer, "BRIOCHE", "confirmed", 1, 1, 0);
	assert_int_equal(num(o, "total_cents"), 3 * 450 + 300);
	json_decref(o);

	/* A new order pays the new price. */
	o = OK(try_place(s.dist, "Panier 2", one_line(s.producer, "PAIN", 1)));
	l = line_of(o, s.producer, "PAIN");
	assert_int_equal(num(l, "price_cents"), 500);
	assert_int_equal(num(l, "vat_bp"), 2000);
	assert_string_equal(str(l, "name"), "Pain au levain");
	assert_int_equal(num(o, "total_cents"), 500);
	json_decref(o);

	/* Dropping a line and ordering it again takes the current price. */
	json_decref(OK(try_change(o1, one_line(s.producer, "BRIOCHE", 1))));
	o = OK(try_change(o1, json_pack("[o, o]", line(s.producer, "BRIOCHE",
	    1), line(s.producer, "PAIN", 1))));
	assert_int_equal(num(line_of(o, s.producer, "PAIN"), "price_cents"),
	    500);
	assert_int_equal(num(o, "total_cents"), 800);
	json_decref(o);
}

static void
test_order_windows(void **state)
{
	static const char *opens = "2026-11-22T08:00:00+01:00";
	static const char *closes = "2026-11-26T20:00:00+01:00";
	struct scene s;
	char dist[ID_MAX], o1[ID_MAX];
	json_t *d, *before, *after;
	int64_t opens_ms = instant_ms(opens), closes_ms = instant_ms(closes);
	int64_t late[] = { 0, 1, 1000, 86400000 };
	size_t i;

	scene_setup(&s, "Fenêtre", bread(10));
	d = OK(try_open(s.market, DATE, NULL, NULL, opens, closes));
	snprintf(dist, sizeof(dist), "%s", str(d, "id"));
	assert_string_equal(str(d, "state"), "upcoming");
	assert_string_equal(str(d, "opens_at"), opens);
	assert_string_equal(str(d, "closes_at"), closes);
	assert_string_equal(str(d, "starts_at"), DATE "T10:00:00+01:00");
	json_decref(d);

	FAILS(try_place(dist, "Panier 1", one_line(s.producer, "PAIN", 1)),
	    409, "order_window_not_open");

	fake_ms = opens_ms;
	d = OK(service_distribution_show(&node, dist, &E));
	assert_string_equal(str(d, "state"), "open");
	json_decref(d);
	assert_int_equal(place_confirmed(dist, "Panier 1", s.producer, "PAIN",
	    2, o1), 2);

	/* Before the window: nothing moves. */
	fake_ms = opens_ms - 1;
	before = show_order(o1);
	FAILS(try_place(dist, "Panier 2", one_line(s.producer, "PAIN", 1)),
	    409, "order_window_not_open");
	FAILS(try_change(o1, one_line(s.producer, "PAIN", 5)), 409,
	    "order_window_not_open");
	FAILS(service_order_cancel(&node, o1, &E), 409, "order_window_not_open");
	after = show_order(o1);
	assert_json_equal(before, after);
	json_decref(before);
	json_decref(after);

	/* The last millisecond of the window still counts. */
	fake_ms = closes_ms - 1;
	json_decref(OK(try_change(o1, one_line(s.producer, "PAIN", 3))));

	for (i = 0; i < sizeof(late) / sizeof(late[0]); i++) {
		fake_ms = closes_ms + late[i];
		before = show_order(o1);
		assert_line(before, s.producer, "PAIN", "confirmed", 3, 3, 0);
		d = OK(service_distribution_show(&node, dist, &E));
		assert_string_equal(str(d, "state"), "closed");
		json_decref(d);
		FAILS(try_place(dist, "Panier 3", one_line(s.producer, "PAIN",
		    1)), 409, "order_window_closed");
		FAILS(try_change(o1, one_line(s.producer, "PAIN", 1)), 409,
		    "order_window_closed");
		FAILS(service_order_cancel(&node, o1, &E), 409,
		    "order_window_closed");
		after = show_order(o1);
		assert_json_equal(before, after);
		json_decref(before);
		json_decref(after);
	}
}

static void
test_distribution_cancel(void **state)
{
	char producer[ID_MAX], market_a[ID_MAX], market_b[ID_MAX];
	char dist_a[ID_MAX], dist_b[ID_MAX], order_a[ID_MAX];
	const char *dists[2];
	struct head_snap before, after;
	json_t *d, *o, *sheet;

	add_producer("Ferme Annulée", producer);
	json_decref(OK(try_publish(producer, bread(10), 0)));
	add_market("Marché Annulé A", market_a);
	add_market("Marché Annulé B", market_b);
	sell(market_a, producer);
	sell(market_b, producer);
	open_distribution(market_a, DATE, dist_a);
	open_distribution(market_b, DATE, dist_b);
	dists[0] = dist_a;
	dists[1] = dist_b;

	assert_int_equal(place_confirmed(dist_a, "Panier A", producer, "PAIN",
	    7, order_a), 7);
	assert_int_equal(place_confirmed(dist_b, "Panier B", producer, "PAIN",
	    5, NULL), 3);
	sheet = OK(service_sheet(&node, producer, DATE, &E));
	assert_non_null(sheet_market(sheet, dist_a));
	assert_non_null(sheet_market(sheet, dist_b));
	json_decref(sheet);
	assert_int_equal(check_sheet(producer, DATE, dists, 2, "PAIN"), 10);

	d = OK(service_distribution_cancel(&node, dist_a, &E));
	assert_string_equal(str(d, "state"), "cancelled");
	assert_true(json_is_true(json_object_get(d, "cancelled")));
	assert_int_equal(num(d, "version"), 2);
	json_decref(d);

	/* The sheet no longer lists it; its lines are refused. */
	sheet = OK(service_sheet(&node, producer, DATE, &E));
	assert_null(sheet_market(sheet, dist_a));
	assert_non_null(sheet_market(sheet, dist_b));
	assert_int_equal(json_array_size(json_object_get(sheet, "markets")), 1);
	json_decref(sheet);
	o = show_order(order_a);
	assert_line(o, producer, "PAIN", "refused", 7, 0, 1);
	assert_int_equal(num(o, "total_cents"), 0);
	json_decref(o);

	/* Its stock went back to the day. */
	assert_int_equal(place_confirmed(dist_b, "Panier C", producer, "PAIN",
	    10, NULL), 7);
	assert_int_equal(check_sheet(producer, DATE, dists + 1, 1, "PAIN"),
	    10);

	/* Nothing more happens at a cancelled distribution. */
	FAILS(try_place(dist_a, "Panier D", one_line(producer, "PAIN", 1)),
	    409, "distribution_cancelled");
	FAILS(try_change(order_a, one_line(producer, "PAIN", 1)), 409,
	    "distribution_cancelled");
	FAILS(service_order_cancel(&node, order_a, &E), 409,
	    "distribution_cancelled");

	/* Cancelling again is harmless and writes nothing. */
	head_snapshot(&before);
	d = OK(service_distribution_cancel(&node, dist_a, &E));
	assert_int_equal(num(d, "version"), 2);
	json_decref(d);
	head_snapshot(&after);
	assert_int_equal(after.records, before.records);
}

static void
test_stale_version(void **state)
{
	char producer[ID_MAX];
	json_t *c;

	add_producer("Ferme Versions", producer);
	c = OK(try_publish(producer, bread(-1), 0));
	assert_int_equal(num(c, "version"), 1);
	json_decref(c);
	FAILS(try_publish(producer, bread(5), 1), 409, "stale_version");
	FAILS(try_publish(producer, bread(5), -1), 409, "stale_version");
	c = OK(try_publish(producer, bread(-1), 3));
	assert_int_equal(num(c, "version"), 3);
	json_decref(c);
	FAILS(try_publish(producer, bread(5), 3), 409, "stale_version");
	FAILS(try_publish(producer, bread(5), 2), 409, "stale_version");
	c = OK(try_publish(producer, bread(-1), 0));
	assert_int_equal(num(c, "version"), 4);
	json_decref(c);

	/* The stale ones changed nothing. */
	c = OK(service_catalogue_show(&node, producer, &E));
	assert_int_equal(num(c, "version"), 4);
	assert_true(json_is_null(json_object_get(json_array_get(
	    json_object_get(c, "products"), 0), "stock_per_day")));
	json_decref(c);
	c = OK(service_producer_show(&node, producer, &E));
	assert_int_equal(num(c, "catalogue_version"), 4);
	json_decref(c);
}

/*
 * Versions stop at SERVICE_MAX_VERSION (2^53 - 1): a catalogue published
 * there cannot move on, and no version wraps round to a negative one.
 */
static void
test_version_bound(void **state)
{
	char producer[ID_MAX];
	json_t *c;

	add_producer("Ferme des Bornes", producer);
	FAILS(try_publish(producer, bread(-1), INT64_MAX), 400,
	    "invalid_field");
	FAILS(try_publish(producer, bread(-1), SERVICE_MAX_VERSION + 1), 400,
	    "invalid_field");
	c = OK(try_publish(producer, bread(-1), SERVICE_MAX_VERSION));
	assert_int_equal(num(c, "version"), SERVICE_MAX_VERSION);
	json_decref(c);
	FAILS(try_publish(producer, bread(5), 0), 400, "invalid_field");
	FAILS(try_publish(producer, bread(5), SERVICE_MAX_VERSION), 409,
	    "stale_version");
	FAILS(try_publish(producer, bread(5), 7), 409, "stale_version");
	c = OK(service_catalogue_show(&node, producer, &E));
	assert_int_equal(num(c, "version"), SERVICE_MAX_VERSION);
	json_decref(c);
}

/* A producer named by a request given as a JSON text. */
static json_t *
try_producer(const char *text)
{
	json_t *req = json_loads(text, 0, NULL), *p;

	assert_non_null(req);
	p = testapi_producer_add(&node, req, &E);
	json_decref(req);
	return p;
}

/*
 * Names are trimmed and their inner runs of spaces made one, so names
 * that differ only in spaces are one name; names of spaces only, control
 * characters and the bidirectional overrides are refused, in every field.
 */
static void
test_names(void **state)
{
	struct scene s;
	json_t *p, *m;

	p = OK(try_producer("{\"name\": \"  Ferme \\u00a0 du   Lac \", "
	    "\"farm\": \" \", \"town\": \"Saint  Jean\"}"));
	assert_string_equal(str(p, "name"), "Ferme du Lac");
	assert_string_equal(str(p, "farm"), "");
	assert_string_equal(str(p, "town"), "Saint Jean");
	json_decref(p);
	FAILS(try_producer("{\"name\": \"Ferme du Lac \"}"), 409,
	    "name_taken");
	FAILS(try_producer("{\"name\": \"Ferme  du Lac\"}"), 409,
	    "name_taken");
	FAILS(try_producer("{\"name\": \"   \"}"), 400, "invalid_field");
	FAILS(try_producer("{\"name\": \"\\u3000\\u00a0\"}"), 400,
	    "invalid_field");
	FAILS(try_producer("{\"name\": \"Ferme\\u202eoc.liam\"}"), 400,
	    "invalid_field");
	assert_non_null(strstr(E.message, "U+202E"));
	FAILS(try_producer("{\"name\": \"A\\u2066B\"}"), 400,
	    "invalid_field");
	FAILS(try_producer("{\"name\": \"A\\u200fB\"}"), 400,
	    "invalid_field");
	FAILS(try_producer("{\"name\": \"A\\u0085B\"}"), 400,
	    "invalid_field");
	FAILS(try_producer("{\"name\": \"OK\", \"email\": "
	    "\"a\\u202e@b\"}"), 400, "invalid_field");

	FAILS(testapi_market_add(&node, m = json_pack("{s:s, s:s, s:s}", "name",
	    "  ", "place", PLACE, "town", "Saint-Jean"), &E), 400,
	    "invalid_field");
	json_decref(m);
	scene_setup(&s, "Noms", bread(10));
	FAILS(try_place(s.dist, "Panier \xe2\x80\xae" "1", one_line(s.producer,
	    "PAIN", 1)), 400, "invalid_field");
	FAILS(try_place(s.dist, " ", one_line(s.producer, "PAIN", 1)), 400,
	    "invalid_field");
}

static void
test_bad_quantity(void **state)
{
	struct scene s;
	char o1[ID_MAX];
	json_t *before, *after, *list;

	scene_setup(&s, "Quantités", bread(10));
	FAILS(try_place(s.dist, "Panier 1", one_line(s.producer, "PAIN", 0)),
	    400, "bad_quantity");
	FAILS(try_place(s.dist, "Panier 1", one_line(s.producer, "PAIN", -1)),
	    400, "bad_quantity");
	/* One bad line refuses the whole order. */
	FAILS(try_place(s.dist, "Panier 1", json_pack("[o, o]",
	    line(s.producer, "PAIN", 2), line(s.producer, "PAIN", -1))), 400,
	    "bad_quantity");
	list = OK(service_order_list(&node, s.dist, &E));
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);

	assert_int_equal(place_confirmed(s.dist, "Panier 1", s.producer,
	    "PAIN", 2, o1), 2);
	before = show_order(o1);
	FAILS(try_change(o1, one_line(s.producer, "PAIN", 0)), 400,
	    "bad_quantity");
	FAILS(try_change(o1, one_line(s.producer, "PAIN", -1)), 400,
	    "bad_quantity");
	after = show_order(o1);
	assert_json_equal(before, after);
	json_decref(before);
	json_decref(after);
	assert_int_equal(place_confirmed(s.dist, "Panier 2", s.producer,
	    "PAIN", 8, NULL), 8);
}

static void
test_overflow(void **state)
{
	struct scene s;
	char o1[ID_MAX];
	json_t *c, *before, *after;

	scene_setup(&s, "Débordement", bread(-1));
	FAILS(try_place(s.dist, "Panier 1", one_line(s.producer, "PAIN",
	    1000000000000LL)), 400, "overflow");
	FAILS(try_place(s.dist, "Panier 1", one_line(s.producer, "PAIN",
	    1000001)), 400, "overflow");
	assert_int_equal(place_confirmed(s.dist, "Panier 1", s.producer,
	    "PAIN", 1, o1), 1);
	before = show_order(o1);
	FAILS(try_change(o1, one_line(s.producer, "PAIN", 1000000000000LL)),
	    400, "overflow");
	after = show_order(o1);
	assert_json_equal(before, after);
	json_decref(before);
	json_decref(after);

	FAILS(try_publish(s.producer, json_pack("[o]", product("PAIN", "Pain",
	    100000000000000LL, 550, -1)), 0), 400, "overflow");
	FAILS(try_publish(s.producer, json_pack("[o]", product("PAIN", "Pain",
	    100000001, 550, -1)), 0), 400, "overflow");
	FAILS(try_publish(s.producer, json_pack("[o]", product("PAIN", "Pain",
	    450, 550, 10000000000LL)), 0), 400, "overflow");
	c = OK(service_catalogue_show(&node, s.producer, &E));
	assert_int_equal(num(c, "version"), 1);
	json_decref(c);

	/* The largest amounts allowed: the total still adds up. */
	json_decref(OK(try_publish(s.producer, json_pack("[o]", product("OR",
	    "Or", 100000000, 0, -1)), 0)));
	before = OK(try_place(s.dist, "Panier 2", one_line(s.producer, "OR",
	    1000000)));
	assert_int_equal(num(before, "total_cents"), 100000000000000LL);
	json_decref(before);
}

static void
test_unknown(void **state)
{
	static const char *no_order = "or-000000000000";
	static const char *no_dist = "ds-000000000000";
	struct scene s;
	char bare[ID_MAX];
	json_t *o, *req;

	scene_setup(&s, "Inconnus", bread(10));

	FAILS(try_place(s.dist, "Panier", one_line("Ferme Nulle Part", "PAIN",
	    1)), 404, "unknown_producer");
	FAILS(try_place(s.dist, "Panier", one_line("pr-000000000000", "PAIN",
	    1)), 404, "unknown_producer");
	FAILS(try_place(s.dist, "Panier", one_line(s.producer, "NOPE", 1)),
	    404, "unknown_sku");
	FAILS(try_place(no_dist, "Panier", one_line(s.producer, "PAIN", 1)),
	    404, "unknown_distribution");
	FAILS(try_place("nonsense", "Panier", one_line(s.producer, "PAIN",
	    1)), 404, "unknown_distribution");
	FAILS(service_distribution_show(&node, no_dist, &E), 404,
	    "unknown_distribution");
	FAILS(service_distribution_cancel(&node, no_dist, &E), 404,
	    "unknown_distribution");
	FAILS(service_order_list(&node, no_dist, &E), 404, "unknown_distribution");

	FAILS(service_order_show(&node, no_order, &E), 404, "unknown_order");
	FAILS(service_order_cancel(&node, no_order, &E), 404, "unknown_order");
	FAILS(try_change(no_order, one_line(s.producer, "PAIN", 1)), 404,
	    "unknown_order");

	FAILS(service_producer_show(&node, "Ferme Nulle Part", &E), 404,
	    "unknown_producer");
	FAILS(try_publish("Ferme Nulle Part", bread(1), 0), 404,
	    "unknown_producer");
	FAILS(service_catalogue_show(&node, "Ferme Nulle Part", &E), 404,
	    "unknown_producer");
	FAILS(service_sheet(&node, "Ferme Nulle Part", DATE, &E), 404,
	    "unknown_producer");
	FAILS(service_market_show(&node, "Marché Nulle Part", &E), 404,
	    "unknown_market");
	FAILS(try_open("Marché Nulle Part", DATE, NULL, NULL, NULL, NULL), 404,
	    "unknown_market");
	FAILS(service_market_membership(&node, "Marché Nulle Part", 'I',
	    s.producer, 1, &E), 404, "unknown_market");
	FAILS(service_market_membership(&node, s.market, 'A', "Ferme Nulle Part",
	    1, &E), 404, "unknown_producer");

	/* A producer selling here without a catalogue. */
	add_producer("Ferme Sans Catalogue", bare);
	sell(s.market, bare);
	FAILS(try_place(s.dist, "Panier", one_line(bare, "PAIN", 1)), 404,
	    "no_catalogue");
	FAILS(service_catalogue_show(&node, bare, &E), 404, "no_catalogue");

	/* One name, one producer or market. */
	FAILS(testapi_producer_add(&node, req = json_pack("{s:s}", "name",
	    "FERME inconnus"), &E), 409, "name_taken");
	json_decref(req);
	FAILS(testapi_market_add(&node, req = json_pack("{s:s, s:s, s:s}", "name",
	    "marché inconnus", "place", PLACE, "town", "Saint-Jean"), &E), 409,
	    "name_taken");
	json_decref(req);

	/* The same product twice in one order. */
	FAILS(try_place(s.dist, "Panier", json_pack("[o, o]",
	    line(s.producer, "PAIN", 1), line(s.producer, "PAIN", 2))), 400,
	    "invalid_field");

	/* Names are accepted, whatever their case. */
	o = OK(try_place(s.dist, "Panier", one_line("FERME INCONNUS", "PAIN",
	    1)));
	assert_string_equal(str(line_of(o, s.producer, "PAIN"), "producer"),
	    s.producer);
	json_decref(o);
}

static void
test_not_at_market(void **state)
{
	struct scene s;
	char invited[ID_MAX], accepted[ID_MAX];
	json_t *m, *p;
	json_int_t before;
	size_t i;
	int seen = 0;

	scene_setup(&s, "Adhésion", bread(10));
	add_producer("Ferme Invitée", invited);
	json_decref(OK(try_publish(invited, bread(10), 0)));
	add_producer("Ferme Acceptante", accepted);
	json_decref(OK(try_publish(accepted, bread(10), 0)));
	membership(s.market, 'I', invited, 1);
	membership(s.market, 'A', accepted, 1);

	m = OK(service_market_show(&node, s.market, &E));
	json_array_foreach(json_object_get(m, "producers"), i, p) {
		if (strcmp(str(p, "id"), invited) == 0) {
			assert_true(json_is_true(json_object_get(p,
			    "invited")));
			assert_false(json_is_true(json_object_get(p,
			    "accepted")));
			seen++;
		} else if (strcmp(str(p, "id"), accepted) == 0) {
			assert_false(json_is_true(json_object_get(p,
			    "invited")));
			assert_true(json_is_true(json_object_get(p,
			    "accepted")));
			seen++;
		}
	}
	assert_int_equal(seen, 2);
	json_decref(m);

	FAILS(try_place(s.dist, "Panier", one_line(invited, "PAIN", 1)), 409,
	    "not_at_market");
	FAILS(try_place(s.dist, "Panier", one_line(accepted, "PAIN", 1)), 409,
	    "not_at_market");
	/* With a line that could be served, still nothing. */
	FAILS(try_place(s.dist, "Panier", json_pack("[o, o]",
	    line(s.producer, "PAIN", 1), line(invited, "PAIN", 1))), 409,
	    "not_at_market");

	membership(s.market, 'A', invited, 1);
	assert_int_equal(place_confirmed(s.dist, "Panier", invited, "PAIN", 1,
	    NULL), 1);

	/* Repeating an invitation or an acceptance writes nothing. */
	before = records();
	membership(s.market, 'I', invited, 1);
	membership(s.market, 'A', invited, 1);
	assert_int_equal(records(), before);

	/* An order placed before a withdrawal, to change after it. */
	char kept[ID_MAX];
	assert_int_equal(place_confirmed(s.dist, "Panier K", invited, "PAIN", 3,
	    kept), 3);

	/* Withdrawn: no new orders. */
	membership(s.market, 'I', invited, 0);
	FAILS(try_place(s.dist, "Panier", one_line(invited, "PAIN", 1)), 409,
	    "not_at_market");

	/*
	 * A line ordered before the withdrawal stays and may be changed,
	 * keeping what its home confirmed; no line of that producer may be
	 * added.
	 */
	json_t *o = OK(try_change(kept, one_line(invited, "PAIN", 2)));
	json_t *l = line_of(o, invited, "PAIN");
	assert_string_equal(str(l, "state"), "confirmed");
	assert_int_equal(num(l, "confirmed"), 2);
	json_decref(o);
	FAILS(try_change(kept, json_pack("[o, o]", line(invited, "PAIN", 2),
	    line(invited, "BRIOCHE", 1))), 409, "not_at_market");
}

static void
test_bad_dates(void **state)
{
	struct scene s;
	json_t *req, *d;

	scene_setup(&s, "Dates", bread(10));
	FAILS(try_open(s.market, DATE, "12:00", "10:00", NULL, NULL), 400,
	    "bad_dates");
	FAILS(try_open(s.market, DATE, "10:00", "10:00", NULL, NULL), 400,
	    "bad_dates");
	/* Closing after the 10:00 start. */
	FAILS(try_open(s.market, DATE, NULL, NULL, NULL,
	    DATE "T10:30:00+01:00"), 400, "bad_dates");
	FAILS(try_open(s.market, DATE, NULL, NULL, "2026-11-25T00:00:00+01:00",
	    "2026-11-24T00:00:00+01:00"), 400, "bad_dates");
	FAILS(try_open(s.market, DATE, NULL, NULL, NULL,
	    "2026-11-19T00:00:00+01:00"), 400, "bad_dates");
	FAILS(try_open(s.market, "2026-02-30", NULL, NULL, NULL, NULL), 400,
	    "bad_dates");
	FAILS(try_open(s.market, "28/11/2026", NULL, NULL, NULL, NULL), 400,
	    "bad_dates");
	/* A distribution already past. */
	FAILS(try_open(s.market, "2026-11-01", NULL, NULL, NULL, NULL), 400,
	    "bad_dates");
	FAILS(service_sheet(&node, s.producer, "2026-13-01", &E), 400,
	    "bad_dates");
	/* Closing right at the start is allowed. */
	d = OK(try_open(s.market, DATE, "09:00", "11:00", NULL,
	    DATE "T09:00:00+01:00"));
	assert_string_equal(str(d, "closes_at"), str(d, "starts_at"));
	json_decref(d);

	req = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "name",
	    "Marché à l'envers", "place", PLACE, "town", "Saint-Jean",
	    "weekday", "sat", "from", "12:00", "to", "10:00");
	FAILS(testapi_market_add(&node, req, &E), 400, "bad_dates");
	json_decref(req);
}

static json_t *
sheet_product(json_t *market, const char *sku)
{
	json_t *p;
	size_t i;

	json_array_foreach(json_object_get(market, "products"), i, p)
		if (strcmp(str(p, "sku"), sku) == 0)
			return p;
	return NULL;
}

static json_int_t
basket_quantity(json_t *product_entry, const char *label)
{
	json_t *b;
	size_t i;

	json_array_foreach(json_object_get(product_entry, "baskets"), i, b)
		if (strcmp(str(b, "label"), label) == 0)
			return num(b, "quantity");
	return -1;
}

static void
test_sheet(void **state)
{
	char p[ID_MAX], q[ID_MAX], market_a[ID_MAX], market_b[ID_MAX];
	char dist_a[ID_MAX], dist_b[ID_MAX], o2[ID_MAX], o3[ID_MAX];
	const char *dists[2];
	json_t *o, *sheet, *m, *pe;

	add_producer("Ferme Feuille", p);
	json_decref(OK(try_publish(p, json_pack("[o, o]", product("PAIN",
	    "Pain", 450, 550, 10), product("BRIOCHE", "Brioche", 300, 550,
	    -1)), 0)));
	add_producer("Ferme Voisine", q);
	json_decref(OK(try_publish(q, json_pack("[o]", product("MIEL", "Miel",
	    900, 550, -1)), 0)));
	add_market("Marché Feuille A", market_a);
	add_market("Marché Feuille B", market_b);
	sell(market_a, p);
	sell(market_b, p);
	sell(market_a, q);
	open_distribution(market_a, DATE, dist_a);
	open_distribution(market_b, DATE, dist_b);
	dists[0] = dist_a;
	dists[1] = dist_b;

	o = OK(try_place(dist_a, "Panier 1", json_pack("[o, o, o]",
	    line(p, "PAIN", 3), line(p, "BRIOCHE", 2), line(q, "MIEL", 1))));
	assert_int_equal(num(o, "total_cents"), 3 * 450 + 2 * 300 + 900);
	json_decref(o);
	assert_int_equal(place_confirmed(dist_a, "Panier 2", p, "PAIN", 4, o2),
	    4);
	assert_int_equal(place_confirmed(dist_a, "Panier 3", p, "BRIOCHE", 5,
	    o3), 5);
	assert_int_equal(place_confirmed(dist_b, "Panier 4", p, "PAIN", 5,
	    NULL), 3);
	assert_int_equal(place_confirmed(dist_b, "Panier 5", p, "PAIN", 1,
	    NULL), 0);
	assert_int_equal(place_confirmed(dist_b, "Panier 6", p, "BRIOCHE", 1,
	    NULL), 1);
	json_decref(OK(service_order_cancel(&node, o3, &E)));
	json_decref(OK(try_change(o2, json_pack("[o, o]", line(p, "PAIN", 2),
	    line(p, "BRIOCHE", 1)))));

	assert_int_equal(check_sheet(p, DATE, dists, 2, "PAIN"), 5 + 3);
	assert_int_equal(check_sheet(p, DATE, dists, 2, "BRIOCHE"), 3 + 1);
	assert_int_equal(check_sheet(q, DATE, dists, 2, "MIEL"), 1);

	/* And by hand. */
	sheet = OK(service_sheet(&node, "ferme feuille", DATE, &E));
	assert_string_equal(str(sheet, "producer_name"), "Ferme Feuille");
	m = sheet_market(sheet, dist_a);
	assert_non_null(m);
	assert_string_equal(str(m, "name"), "Marché Feuille A");
	assert_string_equal(str(m, "place"), PLACE);
	assert_false(json_is_true(json_object_get(m, "final")));
	assert_int_equal(json_array_size(json_object_get(m, "products")), 2);
	pe = sheet_product(m, "PAIN");
	assert_int_equal(num(pe, "quantity"), 5);
	assert_int_equal(basket_quantity(pe, "Panier 1"), 3);
	assert_int_equal(basket_quantity(pe, "Panier 2"), 2);
	pe = sheet_product(m, "BRIOCHE");
	assert_int_equal(num(pe, "quantity"), 3);
	assert_int_equal(basket_quantity(pe, "Panier 1"), 2);
	assert_int_equal(basket_quantity(pe, "Panier 2"), 1);
	assert_int_equal(basket_quantity(pe, "Panier 3"), -1);
	assert_null(sheet_product(m, "MIEL"));
	m = sheet_market(sheet, dist_b);
	assert_non_null(m);
	pe = sheet_product(m, "PAIN");
	assert_int_equal(num(pe, "quantity"), 3);
	assert_int_equal(json_array_size(json_object_get(pe, "baskets")), 1);
	assert_int_equal(basket_quantity(pe, "Panier 4"), 3);
	assert_int_equal(num(sheet_product(m, "BRIOCHE"), "quantity"), 1);
	json_decref(sheet);

	/*
	 * Once the orders are closed and the market's node has marked the
	 * distribution closed (the daemon does it on a timer), the sheet is
	 * final; not before the mark.
	 */
	fake_ms = instant_ms("2026-11-27T00:00:00+01:00");
	sheet = OK(service_sheet(&node, p, DATE, &E));
	assert_false(json_is_true(json_object_get(sheet_market(sheet, dist_a),
	    "final")));
	json_decref(sheet);
	assert_true(service_close_due(&node, &E) >= 1);
	assert_int_equal(service_close_due(&node, &E), 0);
	sheet = OK(service_sheet(&node, p, DATE, &E));
	assert_true(json_is_true(json_object_get(sheet_market(sheet, dist_a),
	    "final")));
	json_decref(sheet);

	/* A day without orders. */
	sheet = OK(service_sheet(&node, p, DATE2, &E));
	assert_int_equal(json_array_size(json_object_get(sheet, "markets")), 0);
	json_decref(sheet);
}

/* The item of PRODUCER's SKU in the basket, or NULL. */
static json_t *
basket_item(json_t *basket, const char *producer, const char *sku)
{
	json_t *it;
	size_t i;

	json_array_foreach(json_object_get(basket, "items"), i, it)
		if (strcmp(str(it, "producer"), producer) == 0 &&
		    strcmp(str(it, "sku"), sku) == 0)
			return it;
	return NULL;
}

/*
 * The pick-up list: baskets by label; two orders under one label are one
 * basket with one item per producer and product; a cancelled order is
 * left out.
 */
static void
test_pickup_list(void **state)
{
	struct scene s;
	char q[ID_MAX], cancelled[ID_MAX];
	json_t *list, *baskets, *b;

	scene_setup(&s, "Émargement", json_pack("[o, o]", product("PAIN",
	    "Pain", 450, 550, 10), product("MIEL", "Miel", 900, 550, -1)));
	add_producer("Ferme Émargement Voisine", q);
	json_decref(OK(try_publish(q, json_pack("[o]", product("OEUFS",
	    "Oeufs", 300, 550, -1)), 0)));
	sell(s.market, q);
	json_decref(OK(try_place(s.dist, "Panier B", json_pack("[o, o]",
	    line(s.producer, "PAIN", 2), line(q, "OEUFS", 6)))));
	assert_int_equal(place_confirmed(s.dist, "Panier A", s.producer,
	    "PAIN", 1, NULL), 1);
	json_decref(OK(try_place(s.dist, "Panier B", json_pack("[o, o]",
	    line(s.producer, "PAIN", 3), line(s.producer, "MIEL", 1)))));
	assert_int_equal(place_confirmed(s.dist, "Panier C", s.producer,
	    "MIEL", 2, cancelled), 2);
	json_decref(OK(service_order_cancel(&node, cancelled, &E)));

	list = OK(service_distribution_baskets(&node, s.dist, &E));
	assert_int_equal(num(list, "lines_pending"), 0);
	baskets = json_object_get(list, "baskets");
	assert_int_equal(json_array_size(baskets), 2);
	b = json_array_get(baskets, 0);
	assert_string_equal(str(b, "label"), "Panier A");
	assert_int_equal(json_array_size(json_object_get(b, "items")), 1);
	assert_int_equal(num(basket_item(b, s.producer, "PAIN"), "quantity"),
	    1);
	b = json_array_get(baskets, 1);
	assert_string_equal(str(b, "label"), "Panier B");
	assert_int_equal(json_array_size(json_object_get(b, "orders")), 2);
	assert_int_equal(json_array_size(json_object_get(b, "items")), 3);
	assert_int_equal(num(basket_item(b, s.producer, "PAIN"), "quantity"),
	    2 + 3);
	assert_string_equal(str(basket_item(b, s.producer, "PAIN"),
	    "producer_name"), "Ferme Émargement");
	assert_false(json_is_true(json_object_get(basket_item(b, s.producer,
	    "PAIN"), "pending")));
	assert_int_equal(num(basket_item(b, s.producer, "MIEL"), "quantity"),
	    1);
	assert_int_equal(num(basket_item(b, q, "OEUFS"), "quantity"), 6);
	json_decref(list);
}

static void
test_schedule(void **state)
{
	static const char *const dates[] = { "2026-11-28", "2026-12-05",
	    "2026-12-12" };
	char market[ID_MAX];
	json_t *list, *d, *req;
	json_int_t before;
	size_t i;

	add_market("Marché Régulier", market);
	/* Saturday 21 closed on Thursday 19 at 22:00: skipped. */
	req = json_pack("{s:i}", "weeks", 4);
	list = OK(testapi_distribution_schedule(&node, market, req, &E));
	assert_int_equal(json_array_size(list), 3);
	json_array_foreach(list, i, d) {
		assert_string_equal(str(d, "date"), dates[i]);
		assert_string_equal(str(d, "market"), market);
		assert_string_equal(str(d, "from"), "10:00");
		assert_string_equal(str(d, "to"), "12:00");
	}
	d = json_array_get(list, 0);
	assert_string_equal(str(d, "opens_at"), "2026-11-21T10:00:00+01:00");
	assert_string_equal(str(d, "closes_at"), "2026-11-26T22:00:00+01:00");
	assert_string_equal(str(d, "state"), "upcoming");
	json_decref(list);

	/* Again: those dates have one already. */
	before = records();
	list = OK(testapi_distribution_schedule(&node, market, req, &E));
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
	assert_int_equal(records(), before);
	list = OK(service_distribution_list(&node, market, &E));
	assert_int_equal(json_array_size(list), 3);
	json_decref(list);
	json_decref(req);

	req = json_pack("{s:i}", "weeks", 0);
	FAILS(testapi_distribution_schedule(&node, market, req, &E), 400,
	    "invalid_field");
	json_decref(req);
	req = json_pack("{s:i}", "weeks", 53);
	FAILS(testapi_distribution_schedule(&node, market, req, &E), 400,
	    "invalid_field");
	json_decref(req);
}

/*
 * A market without a weekly schedule cannot generate distributions; the
 * error names the market (it once named freed memory).
 */
static void
test_schedule_unscheduled(void **state)
{
	char market[ID_MAX];
	json_t *req;

	req = json_pack("{s:s, s:s, s:s}", "name", "Marché Sans Horaire",
	    "place", PLACE, "town", "Saint-Jean");
	copy_id(market, OK(testapi_market_add(&node, req, &E)));
	json_decref(req);
	req = json_pack("{s:i}", "weeks", 4);
	FAILS(testapi_distribution_schedule(&node, market, req, &E), 400,
	    "invalid_field");
	json_decref(req);
	assert_string_equal(E.message,
	    "market 'Marché Sans Horaire' has no weekly schedule");
}

/* Everything the node answers, to compare across a restart. */
static json_t *
snapshot(const char *dist, const char *order, const char *producer)
{
	json_t *all = json_object(), *status, *store;

	json_object_set_new(all, "order", OK(service_order_show(&node, order,
	    &E)));
	json_object_set_new(all, "orders", OK(service_order_list(&node, dist,
	    &E)));
	json_object_set_new(all, "sheet", OK(service_sheet(&node, producer, DATE,
	    &E)));
	json_object_set_new(all, "catalogue", OK(service_catalogue_show(&node,
	    producer, &E)));
	json_object_set_new(all, "producers", OK(service_producer_list(&node,
	    &E)));
	json_object_set_new(all, "markets", OK(service_market_list(&node, &E)));
	json_object_set_new(all, "distributions",
	    OK(service_distribution_list(&node, NULL, &E)));
	json_object_set_new(all, "feeds", OK(service_feeds(&node, &E)));
	status = OK(service_status(&node, &E));
	store = json_object_get(status, "store");
	json_object_set(all, "records", json_object_get(store, "records"));
	json_object_set(all, "node", json_object_get(json_object_get(status,
	    "node"), "id"));
	json_decref(status);
	return all;
}

static void
verify_own_feed(void)
{
	struct store_txn t;
	char err[256] = "";

	assert_int_equal(store_read_begin(node.store, &t), 0);
	if (feed_verify(&t, node.key.public_key, err, sizeof(err)) != 0)
		fail_msg("feed_verify: %s", err);
	store_read_end(&t);
}

static void
test_reopen(void **state)
{
	struct scene s;
	char o1[ID_MAX], o2[ID_MAX];
	json_t *before, *after;

	scene_setup(&s, "Redémarrage", bread(10));
	assert_int_equal(place_confirmed(s.dist, "Panier 1", s.producer,
	    "PAIN", 4, o1), 4);
	assert_int_equal(place_confirmed(s.dist, "Panier 2", s.producer,
	    "PAIN", 8, o2), 6);
	json_decref(OK(try_change(o1, one_line(s.producer, "PAIN", 3))));
	json_decref(OK(service_order_cancel(&node, o2, &E)));
	assert_true(records() > 50);
	verify_own_feed();

	before = snapshot(s.dist, o1, s.producer);
	node_close(&node);
	assert_null(node.store);
	assert_int_equal(open_node(), 0);
	after = snapshot(s.dist, o1, s.producer);
	assert_json_equal(before, after);
	json_decref(before);
	json_decref(after);
	verify_own_feed();

	/* The node goes on where it stopped: the stock it holds included. */
	assert_int_equal(place_confirmed(s.dist, "Panier 3", s.producer,
	    "PAIN", 10, NULL), 7);
	verify_own_feed();
}

static int
group_setup(void **state)
{
	return testnode_open("halle-test-domain");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_stock_limit, reset_clock),
		cmocka_unit_test_setup(test_change_retakes, reset_clock),
		cmocka_unit_test_setup(test_cancel_releases, reset_clock),
		cmocka_unit_test_setup(test_unlimited, reset_clock),
		cmocka_unit_test_setup(test_shared_stock, reset_clock),
		cmocka_unit_test_setup(test_price_frozen, reset_clock),
		cmocka_unit_test_setup(test_order_windows, reset_clock),
		cmocka_unit_test_setup(test_distribution_cancel, reset_clock),
		cmocka_unit_test_setup(test_stale_version, reset_clock),
		cmocka_unit_test_setup(test_version_bound, reset_clock),
		cmocka_unit_test_setup(test_names, reset_clock),
		cmocka_unit_test_setup(test_bad_quantity, reset_clock),
		cmocka_unit_test_setup(test_overflow, reset_clock),
		cmocka_unit_test_setup(test_unknown, reset_clock),
		cmocka_unit_test_setup(test_not_at_market, reset_clock),
		cmocka_unit_test_setup(test_bad_dates, reset_clock),
		cmocka_unit_test_setup(test_sheet, reset_clock),
		cmocka_unit_test_setup(test_pickup_list, reset_clock),
		cmocka_unit_test_setup(test_schedule, reset_clock),
		cmocka_unit_test_setup(test_schedule_unscheduled, reset_clock),
		cmocka_unit_test_setup(test_reopen, reset_clock),
	};

	return cmocka_run_group_tests(tests, group_setup,
	    testnode_group_teardown);
}
