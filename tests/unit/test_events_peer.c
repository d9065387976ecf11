/*
 * test_events_peer: what a peer's records may put in the event log
 * (lib/events.c, lib/events_orders.c). A peer's strings are not checked
 * as the API checks its own: protobuf-c takes any bytes. Whatever they
 * hold, an event never fails the transaction that applies the record,
 * its strings are valid UTF-8 within their bounds, an event is at most
 * EVENTS_MAX_BYTES, and the orders' work keys (t:) go with the
 * transaction, whatever id a peer named.
 *
 * M's market sells the producer whose home is H; M forges what a peer
 * could send (node_append of bodies the API would refuse), and H takes
 * them in as from any peer.
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

#include "dbkey.h"
#include "events.h"
#include "ids.h"
#include "service.h"
#include "timeutil.h"
#include "views.h"

#define NOW	"2026-12-01T12:00:00+01:00"
#define DAY	"2026-12-05"
#define CLOSES	"2026-12-04T20:00:00+01:00"

static int64_t fake_ms;
static struct scratch_node H, M;
static char producer[ID_MAX], market[ID_MAX], dist[ID_MAX];

static int64_t
fake_clock(void)
{
	return fake_ms;
}

/* The log after a cursor, as an array of its events' JSON. */

static int
collect(uint64_t id, const char *type, const char *json, size_t len,
    void *arg)
{
	json_t *e = json_loadb(json, len, 0, NULL);

	assert_true(len <= EVENTS_MAX_BYTES);
	assert_non_null(e);	/* valid JSON, valid UTF-8 */
	json_array_append_new(arg, e);
	return 0;
}

static json_t *
events_after(struct scratch_node *tn, uint64_t after)
{
	struct store_txn t;
	json_t *list = json_array();

	assert_int_equal(store_read_begin(tn->node.store, &t), 0);
	assert_int_equal(events_read(&t, after, collect, list), 0);
	store_read_end(&t);
	return list;
}

static uint64_t
last_of(struct scratch_node *tn)
{
	struct store_txn t;
	uint64_t last;

	assert_int_equal(store_read_begin(tn->node.store, &t), 0);
	assert_int_equal(events_last(&t, &last), 0);
	store_read_end(&t);
	return last;
}

/* The string field of the last event of type after `after` (or NULL). */
static char *
field_of(struct scratch_node *tn, uint64_t after, const char *type,
    const char *field)
{
	static char out[4096];
	json_t *list = events_after(tn, after), *e;
	const char *found = NULL;
	char *text;
	size_t i;

	json_array_foreach(list, i, e)
		if (strcmp(json_string_value(json_object_get(e, "type")),
		    type) == 0)
			found = json_string_value(json_object_get(e, field));
	if (found == NULL) {
		text = json_dumps(list, JSON_COMPACT);
		fail_msg("no %s with a %s after %llu: %s", type, field,
		    (unsigned long long)after, text);
	}
	snprintf(out, sizeof(out), "%s", found);
	json_decref(list);
	return out;
}

static int
count_key(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	++*(size_t *)arg;
	return 0;
}

/* The orders' work keys (t:) left in tn's store. */
static size_t
touched_left(struct scratch_node *tn)
{
	char prefix[DBKEY_MAX];
	struct store_txn t;
	size_t n = 0;

	assert_int_equal(store_read_begin(tn->node.store, &t), 0);
	assert_int_equal(store_scan(&t, STORE_INDEX, prefix,
	    dbkey_all(prefix, 't'), count_key, &n), 0);
	store_read_end(&t);
	return n;
}

static int
setup(void **state)
{
	struct halle_error e;
	time_t t;
	json_t *req;

	assert_int_equal(timeutil_parse_instant(NOW, &t), 0);
	fake_ms = (int64_t)t * 1000;
	assert_int_equal(scratch_node_open(&H, "commune-h", fake_clock), 0);
	assert_int_equal(scratch_node_open(&M, "commune-m", fake_clock), 0);
	req = json_pack("{s:s}", "name", "Ferme du Moulin");
	test_copy_id(producer, test_ok(testapi_producer_add(&H.node, req, &e), &e,
	    "add"));
	json_decref(req);
	req = json_pack("{s:[{s:s, s:s, s:i}]}", "products", "sku", "MIEL",
	    "name", "Miel", "price_cents", 800);
	json_decref(test_ok(testapi_catalogue_publish(&H.node, producer, req, &e),
	    &e, "publish"));
	json_decref(req);
	req = json_pack("{s:s, s:s, s:s}", "name", "Marché", "place", "Place",
	    "town", "Bourg");
	test_copy_id(market, test_ok(testapi_market_add(&M.node, req, &e), &e,
	    "market"));
	json_decref(req);
	assert_true(scratch_node_carry(&H, &M) >= 0);
	assert_true(scratch_node_carry(&M, &H) >= 0);
	json_decref(test_ok(service_market_membership(&M.node, market, 'I',
	    producer, 1, &e), &e, "invite"));
	json_decref(test_ok(service_market_membership(&H.node, market, 'A',
	    producer, 1, &e), &e, "accept"));
	assert_true(scratch_node_carry(&H, &M) >= 0);
	assert_true(scratch_node_carry(&M, &H) >= 0);
	req = json_pack("{s:s, s:s, s:s, s:s, s:s}", "market", market, "date",
	    DAY, "from", "10:00", "to", "12:00", "closes", CLOSES);
	test_copy_id(dist, test_ok(testapi_distribution_open(&M.node, req, &e), &e,
	    "open"));
	json_decref(req);
	assert_true(scratch_node_carry(&M, &H) >= 0);
	return 0;
}

static int
teardown(void **state)
{
	scratch_node_close(&H);
	scratch_node_close(&M);
	return 0;
}

/* events_text, bare. */

static const char *
text(const char *s, size_t max)
{
	static char out[EVENTS_TEXT_MAX + 1];
	json_t *j = events_text(s, max);

	assert_non_null(j);
	assert_true(json_string_length(j) <= max);
	snprintf(out, sizeof(out), "%s", json_string_value(j));
	json_decref(j);
	return out;
}

static void
test_text(void **state)
{
	assert_string_equal(text(NULL, 64), "");
	assert_string_equal(text("Panier 12", 64), "Panier 12");
	assert_string_equal(text("Caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8d\x9e",
	    64), "Caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8d\x9e");
	/* Each byte of an invalid sequence: U+FFFD. */
	assert_string_equal(text("a\xff" "b", 64), "a\xef\xbf\xbd" "b");
	assert_string_equal(text("\xc3", 64), "\xef\xbf\xbd");
	assert_string_equal(text("\xc0\xaf", 64),	/* overlong '/' */
	    "\xef\xbf\xbd\xef\xbf\xbd");
	assert_string_equal(text("\xed\xa0\x80", 64),	/* a surrogate */
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	assert_string_equal(text("\xf4\x90\x80\x80", 64),	/* > U+10FFFF */
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	/* Longer than its bound: cut at a character, with an ellipsis. */
	assert_string_equal(text("abcdefgh", 8), "abcdefgh");
	assert_string_equal(text("abcdefghi", 8), "abcde\xe2\x80\xa6");
	assert_string_equal(text("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
	    8), "\xc3\xa9\xc3\xa9\xe2\x80\xa6");
	assert_string_equal(text("abcdefg\xff", 8), "abcde\xe2\x80\xa6");
}

/*
 * M's own order, version + 1, with basket (NULL: as it was) and the sku
 * of its first line (NULL: as it was), sealed to H as M seals it.
 */
struct forge {
	const char	*order;
	const char	*basket;
	const char	*sku;
};

static int
forge_op(struct node_txn *nt, void *arg)
{
	struct forge *f = arg;
	Halle__Order *o = views_order(nt->t, f->order);
	char *basket, *sku;
	int rc;

	assert_non_null(o);
	basket = o->basket;
	sku = o->lines[0]->sku;
	o->version++;
	if (f->basket != NULL)
		o->basket = (char *)f->basket;
	if (f->sku != NULL)
		o->lines[0]->sku = (char *)f->sku;
	rc = node_append_sealed(nt, HALLE__RECORD_KIND__RECORD_KIND_ORDER,
	    &o->base, H.node.key.public_key);
	o->basket = basket;		/* view_free frees its own */
	o->lines[0]->sku = sku;
	view_free(o);
	return rc;
}

static void
forge(const char *order, const char *basket, const char *sku)
{
	struct forge f = { order, basket, sku };
	struct halle_error e;

	if (node_mutate(&M.node, forge_op, &f, &e) == -1)
		fail_msg("M writes its forged order: %s", e.message);
}

static void
place(char *order)
{
	struct halle_error e;
	json_t *req;

	req = json_pack("{s:s, s:s, s:[{s:s, s:s, s:i}]}", "distribution",
	    dist, "basket", "Panier", "lines", "producer", producer, "sku",
	    "MIEL", "quantity", 1);
	test_copy_id(order, test_ok(testapi_order_place(&M.node, req, &e), &e,
	    "place"));
	json_decref(req);
	assert_true(scratch_node_carry(&M, &H) >= 0);
}

static void
test_invalid_utf8_from_a_peer(void **state)
{
	char order[ID_MAX];
	uint64_t h0, m0;
	long carried;

	place(order);
	h0 = last_of(&H);
	m0 = last_of(&M);
	forge(order, "Panier \xff\xfe", "MI\xc3");
	/* M wrote it, H takes it in, and each says it. */
	carried = scratch_node_carry(&M, &H);
	assert_int_equal(carried, 1);
	assert_string_equal(field_of(&M, m0, "order.changed", "basket"),
	    "Panier \xef\xbf\xbd\xef\xbf\xbd");
	assert_string_equal(field_of(&H, h0, "order.changed", "basket"),
	    "Panier \xef\xbf\xbd\xef\xbf\xbd");
	assert_string_equal(field_of(&H, h0, "line.confirmed", "sku"),
	    "MI\xef\xbf\xbd");
	/* And H goes on taking in M's feed. */
	h0 = last_of(&H);
	forge(order, "Panier", "MIEL");
	assert_int_equal(scratch_node_carry(&M, &H), 1);
	assert_string_equal(field_of(&H, h0, "order.changed", "basket"),
	    "Panier");
}

/* A basket and a sku far longer than the API takes, from a peer. */
static void
test_long_strings_from_a_peer(void **state)
{
	char order[ID_MAX], *basket, *sku, *got;
	size_t i, len = 100 * 1024;
	uint64_t h0;

	place(order);
	h0 = last_of(&H);
	basket = malloc(len + 1);
	sku = malloc(len + 1);
	assert_non_null(basket);
	assert_non_null(sku);
	for (i = 0; i + 2 <= len; i += 2)
		memcpy(basket + i, "\xc3\xa9", 2);	/* é, 2 bytes */
	basket[i] = '\0';
	memset(sku, 'S', len);
	sku[len] = '\0';
	forge(order, basket, sku);
	assert_int_equal(scratch_node_carry(&M, &H), 1);
	/*
	 * Cut at a character, with an ellipsis, within the label bound: 30
	 * é (60 bytes) and "…" (3).
	 */
	got = field_of(&H, h0, "order.changed", "basket");
	assert_int_equal(strlen(got), 63);
	assert_memory_equal(got, basket, 60);
	assert_string_equal(got + 60, "\xe2\x80\xa6");
	got = field_of(&H, h0, "line.confirmed", "basket");
	assert_int_equal(strlen(got), 63);
	got = field_of(&H, h0, "line.confirmed", "sku");
	assert_int_equal(strlen(got), 64);
	assert_memory_equal(got, sku, 61);
	assert_string_equal(got + 61, "\xe2\x80\xa6");
	free(basket);
	free(sku);
}

/* M changes an order to more lines than any node's API writes. */
static int
too_many_lines_op(struct node_txn *nt, void *arg)
{
	Halle__Order *o = views_order(nt->t, arg);
	Halle__OrderLine lines[VIEWS_MAX_LINES + 1], **old, *ptrs[VIEWS_MAX_LINES + 1];
	char skus[VIEWS_MAX_LINES + 1][8];
	size_t i, n;
	int rc;

	assert_non_null(o);
	for (i = 0; i <= VIEWS_MAX_LINES; i++) {
		lines[i] = *o->lines[0];
		snprintf(skus[i], sizeof(skus[i]), "S%zu", i);
		lines[i].sku = skus[i];
		ptrs[i] = &lines[i];
	}
	old = o->lines;
	n = o->n_lines;
	o->lines = ptrs;
	o->n_lines = VIEWS_MAX_LINES + 1;
	o->version++;
	rc = node_append_sealed(nt, HALLE__RECORD_KIND__RECORD_KIND_ORDER,
	    &o->base, H.node.key.public_key);
	o->lines = old;			/* view_free frees its own */
	o->n_lines = n;
	view_free(o);
	return rc;
}

/*
 * An order part of more lines than VIEWS_MAX_LINES changes nothing at the
 * home: no new version, no event, and the feed goes on.
 */
static void
test_too_many_lines_from_a_peer(void **state)
{
	char order[ID_MAX];
	struct halle_error e;
	struct store_txn t;
	Halle__Order *held;
	uint64_t h0, version;
	json_t *after;

	place(order);
	assert_int_equal(store_read_begin(H.node.store, &t), 0);
	assert_non_null(held = views_order(&t, order));
	version = held->version;
	view_free(held);
	store_read_end(&t);
	h0 = last_of(&H);
	if (node_mutate(&M.node, too_many_lines_op, order, &e) == -1)
		fail_msg("M writes its order of too many lines: %s", e.message);
	assert_int_equal(scratch_node_carry(&M, &H), 1);
	assert_int_equal(store_read_begin(H.node.store, &t), 0);
	assert_non_null(held = views_order(&t, order));
	assert_int_equal(held->version, version);
	view_free(held);
	store_read_end(&t);
	after = events_after(&H, h0);
	assert_int_equal(json_array_size(after), 0);
	json_decref(after);
}

/* H rules on orders whose ids a peer chose: none names an order. */
static int
bad_rulings_op(struct node_txn *nt, void *arg)
{
	static const char *const ids[] = { "or-0123456789ab:zz", "or-:",
	    "or-0123456789ab0123456789ab0123456789ab0123456789ab0123456789ab"
	    "0123456789ab" };
	Halle__Confirmation c = HALLE__CONFIRMATION__INIT;
	Halle__LineDecision l = HALLE__LINE_DECISION__INIT, *lines[1];
	size_t i;

	l.producer = producer;
	l.sku = "MIEL";
	l.requested = l.confirmed = 1;
	l.state = HALLE__LINE_STATE__LINE_STATE_CONFIRMED;
	lines[0] = &l;
	c.lines = lines;
	c.n_lines = 1;
	c.date = DAY;
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		c.order = (char *)ids[i];
		c.order_version = 1;
		if (node_append_sealed(nt,
		    HALLE__RECORD_KIND__RECORD_KIND_CONFIRMATION, &c.base,
		    M.node.key.public_key) == -1)
			return -1;
	}
	return 0;
}

/* Work keys an older store may hold: they go at the next write. */
static int
old_keys_op(struct node_txn *nt, void *arg)
{
	static const char *const keys[] = { "t:or-0123456789ab:zz", "t:x",
	    "t:or-0123456789ab0123456789ab0123456789ab0123456789ab0123456789"
	    "ab0123456789ab", "t:" };
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (store_put(nt->t, STORE_INDEX, keys[i], strlen(keys[i]), "",
		    0) == -1)
			return -1;
	return 0;
}

static void
test_touched_keys_go(void **state)
{
	struct halle_error e;

	assert_int_equal(node_mutate(&H.node, bad_rulings_op, NULL, &e), 0);
	assert_int_equal(touched_left(&H), 0);
	assert_true(scratch_node_carry(&H, &M) >= 0);
	assert_int_equal(touched_left(&M), 0);
	assert_int_equal(node_mutate(&M.node, old_keys_op, NULL, &e), 0);
	assert_int_equal(touched_left(&M), 0);
}

int
main(void)
{
	const struct CMUnitTest bare[] = {
		cmocka_unit_test(test_text),
	};
	const struct CMUnitTest peers[] = {
		cmocka_unit_test(test_invalid_utf8_from_a_peer),
		cmocka_unit_test(test_long_strings_from_a_peer),
		cmocka_unit_test(test_too_many_lines_from_a_peer),
		cmocka_unit_test(test_touched_keys_go),
	};
	int failed;

	failed = cmocka_run_group_tests_name("text", bare, NULL, NULL);
	failed += cmocka_run_group_tests_name("peers", peers, setup,
	    teardown);
	return failed;
}
