/*
 * test_stock: stock rights (lib/stock.c) between two real nodes: H, home of
 * a producer, and M, whose market sells it. Records move from one store to
 * the other by ingest, as the sync engine would carry them, only when a
 * test says so: a test that does not carry them has cut the link.
 *
 *   H: producer, catalogue, acceptance, grants, rulings
 *   M: market, invitation, distribution, orders (local confirmations),
 *      asks for more, gives back
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "testapi.h"
#include "testcheck.h"
#include "testutil.h"

#include "feed.h"
#include "ids.h"
#include "service.h"
#include "stock.h"
#include "timeutil.h"
#include "views.h"

#define NOW		"2026-12-01T12:00:00+01:00"
#define DAY		"2026-12-05"	/* a Saturday */
#define CLOSES		"2026-12-04T20:00:00+01:00"
#define AFTER_CLOSE	"2026-12-04T20:00:01+01:00"

static int64_t fake_ms;
static struct scratch_node H, M;
static char producer[ID_MAX], market[ID_MAX], dist[ID_MAX];

static int64_t
fake_clock(void)
{
	return fake_ms;
}

static void
set_clock(const char *iso)
{
	time_t t;

	assert_int_equal(timeutil_parse_instant(iso, &t), 0);
	fake_ms = (int64_t)t * 1000;
}

static void
open_node(struct scratch_node *tn, const char *name, unsigned reserve)
{
	assert_int_equal(scratch_node_open(tn, name, fake_clock), 0);
	tn->cfg.stock_reserve_percent = reserve;
}

static void
carry(struct scratch_node *from, struct scratch_node *to)
{
	assert_true(scratch_node_carry(from, to) >= 0);
}

static void
exchange(void)
{
	carry(&H, &M);
	carry(&M, &H);
}

/* Publishes a catalogue at H: what markets hold (the answer's). */
static json_t *
publish(json_int_t pain, json_int_t oeufs)
{
	struct halle_error e;
	json_t *req, *ans, *held;

	req = json_pack("{s:[{s:s, s:s, s:i, s:I}, {s:s, s:s, s:i, s:I}, "
	    "{s:s, s:s, s:i}]}", "products",
	    "sku", "PAIN", "name", "Pain", "price_cents", 450,
	    "stock_per_day", pain,
	    "sku", "OEUFS", "name", "Oeufs", "price_cents", 320,
	    "stock_per_day", oeufs,
	    "sku", "MIEL", "name", "Miel", "price_cents", 800);
	ans = test_ok(testapi_catalogue_publish(&H.node, producer, req, &e), &e,
	    "publish");
	held = json_incref(json_object_get(ans, "held_by_markets"));
	json_decref(ans);
	json_decref(req);
	return held;
}

/* H and M set up: M's market sells H's producer on DAY, all carried. */
static int
setup(void **state)
{
	struct halle_error e;
	json_t *req;

	set_clock(NOW);
	open_node(&H, "commune-h", (unsigned)(uintptr_t)*state);
	open_node(&M, "commune-m", 20);
	req = json_pack("{s:s}", "name", "Ferme du Moulin");
	test_copy_id(producer, test_ok(testapi_producer_add(&H.node, req, &e), &e, "add"));
	json_decref(req);
	json_decref(publish(10, 6));
	req = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "name", "Marché",
	    "place", "Place", "town", "Bourg", "weekday", "sat",
	    "from", "10:00", "to", "12:00");
	test_copy_id(market, test_ok(testapi_market_add(&M.node, req, &e), &e, "market"));
	json_decref(req);
	exchange();
	json_decref(test_ok(service_market_membership(&M.node, market, 'I', producer,
	    1, &e), &e, "invite"));
	json_decref(test_ok(service_market_membership(&H.node, market, 'A', producer,
	    1, &e), &e, "accept"));
	req = json_pack("{s:s, s:s, s:s}", "market", market, "date", DAY,
	    "closes", CLOSES);
	test_copy_id(dist, test_ok(testapi_distribution_open(&M.node, req, &e), &e,
	    "open"));
	json_decref(req);
	exchange();
	return 0;
}

static int
teardown(void **state)
{
	scratch_node_close(&H);
	scratch_node_close(&M);
	return 0;
}

/* The home's stock work: the number of records it wrote. */
static int
work(struct scratch_node *tn)
{
	struct halle_error e;
	int n = service_stock_work(&tn->node, &e);

	if (n == -1)
		fail_msg("stock work: %s", e.message);
	return n;
}

/* The rights of market mk on sku, as node at holds them. */
static struct stock_rights
rights_at(struct scratch_node *at, const char *sku, const char *mk)
{
	struct stock_rights r;
	struct store_txn t;

	assert_int_equal(store_read_begin(at->node.store, &t), 0);
	assert_int_equal(stock_rights_get(&t, producer, DAY, sku, mk, &r), 0);
	store_read_end(&t);
	return r;
}

static struct stock_rights
rights(struct scratch_node *at, const char *sku)
{
	return rights_at(at, sku, market);
}

/* Places an order of qty of sku at M: the answer's first line. */
static json_t *
place(const char *sku, json_int_t qty, char *id)
{
	struct halle_error e;
	json_t *req, *o, *line;

	req = json_pack("{s:s, s:s, s:[{s:s, s:s, s:I}]}", "distribution",
	    dist, "basket", "Panier", "lines", "producer", producer, "sku",
	    sku, "quantity", qty);
	o = test_ok(testapi_order_place(&M.node, req, &e), &e, "place");
	json_decref(req);
	if (id != NULL)
		snprintf(id, ID_MAX, "%s", json_string_value(json_object_get(o,
		    "id")));
	line = json_incref(json_array_get(json_object_get(o, "lines"), 0));
	json_decref(o);
	return line;
}

static json_int_t
jint(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static const char *
jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/* An order line as M shows it now. */
static json_t *
shown(struct scratch_node *at, const char *order)
{
	struct halle_error e;
	json_t *o, *line;

	o = test_ok(service_order_show(&at->node, order, &e), &e, "show");
	line = json_incref(json_array_get(json_object_get(o, "lines"), 0));
	json_decref(o);
	return line;
}

/* What the home's sheet gives for sku on DAY. */
static json_int_t
sheet_total(const char *sku)
{
	struct halle_error e;
	json_t *s, *m, *p;
	json_int_t total = 0;
	size_t i, j;

	s = test_ok(service_sheet(&H.node, producer, DAY, &e), &e, "sheet");
	json_array_foreach(json_object_get(s, "markets"), i, m)
		json_array_foreach(json_object_get(m, "products"), j, p)
			if (strcmp(jstr(p, "sku"), sku) == 0)
				total += jint(p, "quantity");
	json_decref(s);
	return total;
}

/* M's pick-up list: one basket label, what it gets in all, pending. */
static void
check_baskets(size_t baskets, json_int_t quantity, json_int_t pending)
{
	struct halle_error e;
	json_t *list, *basket, *item;
	json_int_t total = 0;
	size_t i, j;

	list = test_ok(service_distribution_baskets(&M.node, dist, &e), &e, "baskets");
	assert_string_equal(jstr(list, "date"), DAY);
	assert_int_equal(json_array_size(json_object_get(list, "baskets")),
	    baskets);
	assert_int_equal(jint(list, "lines_pending"), pending);
	json_array_foreach(json_object_get(list, "baskets"), i, basket)
		json_array_foreach(json_object_get(basket, "items"), j, item)
			total += jint(item, "quantity");
	assert_int_equal(total, quantity);
	json_decref(list);
}

static void
test_policy_shares(void **state)
{
	struct stock_share m[3];

	/* 40 with 20 % kept: 32 to share, by history. */
	memset(m, 0, sizeof(m));
	m[0].history = 10;
	m[1].history = 30;
	stock_policy_shares(40, 20, m, 2);
	assert_int_equal(m[0].share, 8);
	assert_int_equal(m[1].share, 24);
	/* No history: even shares, rounded down (the rest stays home). */
	memset(m, 0, sizeof(m));
	stock_policy_shares(40, 20, m, 3);
	assert_int_equal(m[0].share, 10);
	assert_int_equal(m[2].share, 10);
	/* A new market weighs as the average of the others. */
	memset(m, 0, sizeof(m));
	m[0].history = 10;
	stock_policy_shares(40, 20, m, 2);
	assert_int_equal(m[0].share, 16);
	assert_int_equal(m[1].share, 16);
	/* The reserve is rounded up: 20 % of 6 keeps 2. */
	memset(m, 0, sizeof(m));
	stock_policy_shares(6, 20, m, 1);
	assert_int_equal(m[0].share, 4);
	/* All kept. */
	stock_policy_shares(6, 100, m, 1);
	assert_int_equal(m[0].share, 0);
}

static void
test_grant_then_confirm_cut_off(void **state)
{
	struct stock_rights r;
	char o1[ID_MAX], o2[ID_MAX];
	json_t *l;

	/* Before any grant, a line waits for the home. */
	assert_int_equal(work(&M), 0);
	assert_int_equal(work(&H), 1);		/* one GRANT record */
	assert_int_equal(work(&H), 0);		/* and only one */
	r = rights(&H, "PAIN");
	/* One market, no history: all but the 20 % reserve. */
	assert_int_equal(r.granted, 8);
	assert_int_equal(rights(&H, "OEUFS").granted, 4);
	carry(&H, &M);
	assert_int_equal(rights(&M, "PAIN").granted, 8);

	/* The link is cut from here: nothing carried. 3 are confirmed. */
	l = place("PAIN", 3, o1);
	assert_string_equal(jstr(l, "state"), "confirmed");
	assert_int_equal(jint(l, "confirmed"), 3);
	assert_int_equal(jint(l, "confirmed_locally"), 3);
	assert_string_equal(jstr(l, "ruled_by"), M.node.id_hex);
	json_decref(l);
	/* 7 more: 5 left in the rights, 2 wait for the home. */
	l = place("PAIN", 7, o2);
	assert_string_equal(jstr(l, "state"), "pending");
	assert_int_equal(jint(l, "confirmed"), 5);
	assert_true(json_is_null(json_object_get(l, "ruled_by")));
	json_decref(l);
	r = rights(&M, "PAIN");
	assert_int_equal(r.used, 8);
	assert_int_equal(stock_rights_free(&r), 0);
	/* Unlimited honey: confirmed at once too. */
	l = place("MIEL", 50, NULL);
	assert_string_equal(jstr(l, "state"), "confirmed");
	json_decref(l);

	/* The pick-up list: what each basket gets, confirmed only. */
	check_baskets(1, 3 + 5 + 50, 1);

	/* Back in touch: the home rules the 2 from its reserve of 2. */
	exchange();
	l = shown(&H, o2);
	assert_string_equal(jstr(l, "state"), "confirmed");
	assert_int_equal(jint(l, "confirmed"), 7);
	assert_string_equal(jstr(l, "ruled_by"), H.node.id_hex);
	json_decref(l);
	carry(&H, &M);
	l = shown(&M, o2);
	assert_int_equal(jint(l, "confirmed"), 7);
	json_decref(l);
	assert_int_equal(sheet_total("PAIN"), 10);
	/* Sold out: the next line is refused by the home. */
	l = place("PAIN", 1, o1);
	assert_string_equal(jstr(l, "state"), "pending");
	json_decref(l);
	exchange();
	l = shown(&M, o1);
	carry(&H, &M);
	json_decref(l);
	l = shown(&M, o1);
	assert_string_equal(jstr(l, "state"), "refused");
	json_decref(l);
	assert_int_equal(sheet_total("PAIN"), 10);
}

static void
test_give_back_at_close(void **state)
{
	struct halle_error e;
	json_t *s, *p;
	char o[ID_MAX];
	struct stock_rights r;

	work(&H);
	carry(&H, &M);
	json_decref(place("PAIN", 3, o));
	exchange();
	/* The window closes: M gives back the 5 it did not use. */
	set_clock(AFTER_CLOSE);
	assert_int_equal(service_close_due(&M.node, &e), 1);
	r = rights(&M, "PAIN");
	assert_int_equal(r.released, 5);
	assert_int_equal(stock_rights_free(&r), 0);
	assert_int_equal(rights(&H, "PAIN").released, 0);	/* not read */
	carry(&M, &H);
	assert_int_equal(rights(&H, "PAIN").released, 5);
	/*
	 * A node that reads M's feed before its home's (as M itself, taking
	 * its feed back after a lost store) counts the give-back all the same.
	 */
	{
		struct scratch_node late;

		open_node(&late, "commune-late", 20);
		carry(&M, &late);
		carry(&H, &late);
		assert_int_equal(rights(&late, "PAIN").released, 5);
		assert_int_equal(rights(&late, "PAIN").granted, 8);
		scratch_node_close(&late);
	}
	s = test_ok(service_stock(&H.node, producer, DAY, &e), &e, "stock");
	p = json_array_get(json_object_get(s, "products"), 0);
	assert_string_equal(jstr(p, "sku"), "PAIN");
	/* 10 less the 3 confirmed: back in the home's reserve. */
	assert_int_equal(jint(p, "reserve"), 7);
	p = json_array_get(json_object_get(p, "markets"), 0);
	assert_string_equal(jstr(p, "market"), market);
	assert_string_equal(jstr(p, "node"), M.node.id_hex);
	assert_int_equal(jint(p, "granted"), 8);
	assert_int_equal(jint(p, "confirmed"), 3);
	json_decref(s);
	/* M's view: the same grant and its own confirmations; no reserve. */
	s = test_ok(service_stock(&M.node, producer, DAY, &e), &e, "stock");
	p = json_array_get(json_object_get(s, "products"), 0);
	assert_true(json_is_null(json_object_get(p, "reserve")));
	assert_int_equal(jint(json_array_get(json_object_get(p, "markets"), 0),
	    "confirmed"), 3);
	json_decref(s);
}

static void
test_ask_for_more(void **state)
{
	struct stock_rights r;
	char o[ID_MAX];
	json_t *l;

	/* 50 % kept: 5 granted of 10. */
	work(&H);
	assert_int_equal(rights(&H, "PAIN").granted, 5);
	carry(&H, &M);
	l = place("PAIN", 4, o);
	assert_int_equal(jint(l, "confirmed"), 4);
	json_decref(l);
	/* Under a quarter left: M asked for more in the same write. */
	r = rights(&M, "PAIN");
	assert_true(r.wanted > 5);
	carry(&M, &H);
	/* Nothing above the reserve of 5 to top up from: nothing written. */
	assert_int_equal(work(&H), 0);
	assert_int_equal(rights(&H, "PAIN").granted, 5);
	/* The producer raises its stock: the top-up comes. */
	json_decref(publish(20, 6));
	assert_int_equal(work(&H), 1);
	r = rights(&H, "PAIN");
	assert_true(r.granted > 5);
	assert_true(r.granted <= 10);		/* 20 less a reserve of 10 */
	carry(&H, &M);
	assert_int_equal(rights(&M, "PAIN").granted, r.granted);
}

static void
test_lowered_stock(void **state)
{
	struct stock_rights r;
	json_t *l, *held, *item;
	char o[ID_MAX];

	work(&H);
	carry(&H, &M);
	/* The producer lowers bread to 3: the 8 granted stay granted. */
	held = publish(3, 6);
	assert_int_equal(json_array_size(held), 2);
	item = json_array_get(held, 0);
	assert_string_equal(jstr(item, "date"), DAY);
	assert_string_equal(jstr(item, "sku"), "OEUFS");
	assert_int_equal(jint(item, "held"), 4);
	item = json_array_get(held, 1);
	assert_string_equal(jstr(item, "sku"), "PAIN");
	assert_int_equal(jint(item, "held"), 8);
	json_decref(held);
	carry(&H, &M);
	r = rights(&M, "PAIN");
	assert_int_equal(r.granted, 8);
	l = place("PAIN", 8, o);
	assert_int_equal(jint(l, "confirmed"), 8);
	json_decref(l);
	exchange();
	/* Nothing already confirmed is taken back; the home has none left. */
	l = place("PAIN", 1, o);
	json_decref(l);
	exchange();
	carry(&H, &M);
	l = shown(&M, o);
	assert_string_equal(jstr(l, "state"), "refused");
	json_decref(l);
}

/*
 * A second market's node N, selling the producer on DAY too, set up and
 * carried both ways with H; its market and distribution into nmarket and
 * ndist.
 */
static void
second_market(struct scratch_node *N, char *nmarket, char *ndist)
{
	struct halle_error e;
	json_t *req;

	open_node(N, "commune-n", 20);
	carry(&H, N);
	carry(&M, N);
	req = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "name", "Halle",
	    "place", "Halle", "town", "Vallon", "weekday", "sat",
	    "from", "09:00", "to", "11:00");
	test_copy_id(nmarket, test_ok(testapi_market_add(&N->node, req, &e), &e, "market"));
	json_decref(req);
	carry(N, &H);
	json_decref(test_ok(service_market_membership(&N->node, nmarket, 'I', producer,
	    1, &e), &e, "invite"));
	carry(N, &H);
	json_decref(test_ok(service_market_membership(&H.node, nmarket, 'A', producer,
	    1, &e), &e, "accept"));
	carry(&H, N);
	req = json_pack("{s:s, s:s, s:s}", "market", nmarket, "date", DAY,
	    "closes", CLOSES);
	test_copy_id(ndist, test_ok(testapi_distribution_open(&N->node, req, &e), &e,
	    "open"));
	json_decref(req);
	carry(N, &H);
}

static struct stock_rights
rights_of(struct scratch_node *at, const char *mk)
{
	return rights_at(at, "PAIN", mk);
}

static void
test_recall_for_a_market_short_of_rights(void **state)
{
	struct scratch_node N;
	char nmarket[ID_MAX], ndist[ID_MAX], o[ID_MAX];
	struct stock_rights r;
	uint64_t held;
	json_t *l;

	second_market(&N, nmarket, ndist);
	/* Two weekly markets, no history: 4 each of 10, 2 kept. */
	assert_int_equal(work(&H), 1);
	assert_int_equal(rights_of(&H, market).granted, 4);
	assert_int_equal(rights_of(&H, nmarket).granted, 4);
	carry(&H, &M);
	carry(&H, &N);
	/* M sells out its rights and wants 3 more; N sells nothing. */
	l = place("PAIN", 7, o);
	assert_int_equal(jint(l, "confirmed_locally"), 4);
	json_decref(l);
	carry(&M, &H);
	/* The reserve is 2: what M wants beyond it is asked back of N. */
	assert_int_equal(work(&H), 1);
	r = rights_of(&H, nmarket);
	assert_true(r.recall > 0);
	carry(&H, &N);
	/* N gives back what is asked, from its free rights. */
	assert_int_equal(work(&N), 1);
	r = rights_of(&N, nmarket);
	assert_int_equal(r.released, rights_of(&H, nmarket).recall);
	carry(&N, &H);
	assert_int_equal(rights_of(&H, nmarket).released, r.released);
	/* Read at the home, the give-back tops M up. */
	assert_int_equal(work(&H), 1);
	r = rights_of(&H, market);
	assert_true(r.granted > 4);
	carry(&H, &M);
	assert_int_equal(rights_of(&M, market).granted, r.granted);
	/* Never more than the stock: held by both and taken at home. */
	r = rights_of(&H, market);
	held = stock_rights_held(&r);
	r = rights_of(&H, nmarket);
	assert_true(held + stock_rights_held(&r) <= 10);
	scratch_node_close(&N);
}

/* A market's node that confirms beyond its rights signs its own proof. */
static int
overuse_op(struct node_txn *nt, void *arg)
{
	Halle__OrderLine line = HALLE__ORDER_LINE__INIT, *lines[1] = { &line };
	Halle__Order part = HALLE__ORDER__INIT;

	line.producer = producer;
	line.sku = "PAIN";
	line.quantity = 10;
	line.price_cents = 450;
	line.name = "Pain";
	line.confirmed_locally = 10;
	part.id = "or-0123456789ab";
	part.version = 1;
	part.distribution = dist;
	part.basket = "Panier X";
	part.lines = lines;
	part.n_lines = 1;
	return node_append_sealed(nt, HALLE__RECORD_KIND__RECORD_KIND_ORDER,
	    &part.base, H.node.key.public_key);
}

static void
test_overuser_detected(void **state)
{
	struct halle_error e;
	struct store_txn t;
	json_t *s;

	work(&H);
	carry(&H, &M);
	assert_int_equal(node_mutate(&M.node, overuse_op, NULL, &e), 0);
	carry(&M, &H);
	assert_int_equal(store_read_begin(H.node.store, &t), 0);
	assert_true(stock_overuser(&t, M.node.key.public_key));
	store_read_end(&t);
	s = test_ok(service_status(&H.node, &e), &e, "status");
	assert_int_equal(jint(json_object_get(s, "stock"), "overusers"), 1);
	json_decref(s);
	/* It asks for more: nothing more is granted to it. */
	assert_int_equal(rights(&H, "PAIN").granted, 8);
	work(&H);
	assert_int_equal(rights(&H, "PAIN").granted, 8);
}

/*
 * An order part of M's, sealed to H: version of order id, qty of PAIN on
 * M's distribution.
 */
struct part_args {
	const char	*id;
	uint64_t	 version;
	uint64_t	 qty;
};

static int
part_op(struct node_txn *nt, void *arg)
{
	struct part_args *a = arg;
	Halle__OrderLine line = HALLE__ORDER_LINE__INIT, *lines[1] = { &line };
	Halle__Order part = HALLE__ORDER__INIT;

	line.producer = producer;
	line.sku = "PAIN";
	line.quantity = a->qty;
	line.price_cents = 450;
	line.name = "Pain";
	part.id = (char *)a->id;
	part.version = a->version;
	part.distribution = dist;
	part.basket = "Panier";
	part.lines = lines;
	part.n_lines = 1;
	return node_append_sealed(nt, HALLE__RECORD_KIND__RECORD_KIND_ORDER,
	    &part.base, H.node.key.public_key);
}

/* M moves its distribution to another day: a new version of it. */
static int
move_op(struct node_txn *nt, void *arg)
{
	Halle__Distribution *d = views_distribution(nt->t, dist);
	char *date = d->date;
	int rc;

	d->date = arg;
	d->version++;
	rc = node_append(nt, HALLE__RECORD_KIND__RECORD_KIND_DISTRIBUTION,
	    &d->base);
	d->date = date;
	view_free(d);
	return rc;
}

static void
order_part(const char *id, uint64_t version, uint64_t qty)
{
	struct part_args a = { id, version, qty };
	struct halle_error e;

	assert_int_equal(node_mutate(&M.node, part_op, &a, &e), 0);
	carry(&M, &H);
}

/*
 * Found by fuzz_member: an order ruled on one day, whose distribution
 * then moved to another, had what it was granted on the first day
 * credited on the second when its next version was ruled: the home sold
 * 15 of the 10 PAIN of the second day.
 */
static void
test_moved_day_not_credited(void **state)
{
	struct halle_error e;
	struct store_txn t;

	(void)state;
	order_part("or-0000000000a1", 1, 5);	/* 5 confirmed on DAY */
	assert_int_equal(node_mutate(&M.node, move_op, "2026-12-12", &e), 0);
	carry(&M, &H);
	order_part("or-0000000000a2", 1, 10);	/* all 10 of the new day */
	order_part("or-0000000000a1", 2, 10);	/* none left */
	assert_int_equal(store_read_begin(H.node.store, &t), 0);
	assert_int_equal(stock_taken(&t, producer, "2026-12-12", "PAIN"), 10);
	assert_int_equal(stock_taken(&t, producer, DAY, "PAIN"), 0);
	store_read_end(&t);
}

int
main(void)
{
	void *keep20 = (void *)(uintptr_t)20, *keep50 = (void *)(uintptr_t)50;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_shares),
		cmocka_unit_test_prestate_setup_teardown(
		    test_grant_then_confirm_cut_off, setup, teardown, keep20),
		cmocka_unit_test_prestate_setup_teardown(
		    test_give_back_at_close, setup, teardown, keep20),
		cmocka_unit_test_prestate_setup_teardown(test_ask_for_more,
		    setup, teardown, keep50),
		cmocka_unit_test_prestate_setup_teardown(test_lowered_stock,
		    setup, teardown, keep20),
		cmocka_unit_test_prestate_setup_teardown(
		    test_overuser_detected, setup, teardown, keep20),
		cmocka_unit_test_prestate_setup_teardown(
		    test_recall_for_a_market_short_of_rights, setup, teardown,
		    keep20),
		cmocka_unit_test_prestate_setup_teardown(
		    test_moved_day_not_credited, setup, teardown, keep20),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
