/*
 * test_events: the event log (lib/events.c, lib/events_orders.c) on real
 * stores: an event commits with its change or not at all; a reader
 * resumes after any cursor; pruning leaves a floor and a reader below it
 * gets a gap; a restarted log gives no id twice; and between two nodes, H
 * home of a producer and M whose market sells it, each says what changed
 * there once: orders, lines ruled (a ruling that changes nothing says
 * nothing), distributions, catalogues.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>

#include "testapi.h"
#include "testcheck.h"
#include "testutil.h"

#include "events.h"
#include "ids.h"
#include "service.h"
#include "stock.h"
#include "timeutil.h"
#include "views.h"

#define NOW	"2026-12-01T12:00:00+01:00"
#define DAY	"2026-12-05"	/* a Saturday */
#define CLOSES	"2026-12-04T20:00:00+01:00"

static int64_t fake_ms;
static struct scratch_node H, M;
static char producer[ID_MAX], market[ID_MAX], dist[ID_MAX];

static int64_t
fake_clock(void)
{
	return fake_ms;
}

/* Reading the log: every event after a cursor, as an array of JSON. */

static int
collect(uint64_t id, const char *type, const char *json, size_t len,
    void *arg)
{
	json_t *e = json_loadb(json, len, 0, NULL);

	assert_non_null(e);
	assert_int_equal(json_integer_value(json_object_get(e, "id")), id);
	assert_string_equal(json_string_value(json_object_get(e, "type")),
	    type);
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

/* "type,type,..." of the events after a cursor. */
static char *
types_after(struct scratch_node *tn, uint64_t after)
{
	static char out[2048];
	json_t *list = events_after(tn, after), *e;
	size_t i;

	out[0] = '\0';
	json_array_foreach(list, i, e)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s",
		    i ? "," : "", json_string_value(json_object_get(e, "type")));
	json_decref(list);
	return out;
}

/* The log itself, on one node. */

struct append_ctx {
	const char	*type;
	int		 commit;
};

static int
append_op(struct node_txn *nt, void *arg)
{
	struct append_ctx *c = arg;

	if (events_append(nt, c->type, json_pack("{s:s}", "what",
	    c->type)) == -1)
		return -1;
	return c->commit ? 0 : error_set(nt->err, HALLE_E_NOTHING_TO_COMMIT,
	    "aborted");
}

static int pushes;

static void
count_push(void *arg)
{
	pushes++;
}

static void
append(struct scratch_node *tn, const char *type, int commit)
{
	struct append_ctx c = { type, commit };
	struct halle_error e;

	assert_int_equal(node_mutate(&tn->node, append_op, &c, &e),
	    commit ? 0 : -1);
}

static void
test_commits_with_its_change(void **state)
{
	struct scratch_node n;
	uint64_t last;
	json_t *list;

	assert_int_equal(scratch_node_open(&n, "commune-n", NULL), 0);
	/* A new node's log opens with its write state. */
	assert_string_equal(types_after(&n, 0), "node.write_state");
	last = last_of(&n);
	assert_int_equal(last, 1);
	n.node.on_events = count_push;
	pushes = 0;
	append(&n, "test.aborted", 0);
	assert_int_equal(last_of(&n), last);
	assert_string_equal(types_after(&n, last), "");
	assert_int_equal(pushes, 0);
	append(&n, "test.kept", 1);
	assert_int_equal(last_of(&n), last + 1);
	assert_int_equal(pushes, 1);
	list = events_after(&n, last);
	assert_int_equal(json_array_size(list), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    list, 0), "what")), "test.kept");
	assert_non_null(json_object_get(json_array_get(list, 0), "at"));
	json_decref(list);
	/* Reopened: the write state was said already. */
	node_close(&n.node);
	{
		char err[256];

		assert_int_equal(node_open(&n.node, &n.cfg, err, sizeof(err)),
		    0);
	}
	assert_int_equal(last_of(&n), last + 1);
	scratch_node_close(&n);
}

static int
stop_at_two(uint64_t id, const char *type, const char *json, size_t len,
    void *arg)
{
	return ++*(int *)arg == 2;
}

static void
test_read_from_cursor(void **state)
{
	struct scratch_node n;
	struct halle_error e;
	uint64_t after;
	json_t *list;
	int i, seen = 0;
	struct store_txn t;

	assert_int_equal(scratch_node_open(&n, "commune-n", NULL), 0);
	for (i = 0; i < 5; i++)
		append(&n, "test.one", 1);
	list = events_after(&n, 3);	/* 1 is the write state */
	assert_int_equal(json_array_size(list), 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(json_integer_value(json_object_get(
		    json_array_get(list, (size_t)i), "id")), 4 + i);
	json_decref(list);
	assert_string_equal(types_after(&n, 6), "");
	assert_int_equal(store_read_begin(n.node.store, &t), 0);
	assert_int_equal(events_read(&t, 0, stop_at_two, &seen), 0);
	store_read_end(&t);
	assert_int_equal(seen, 2);
	/* Cursors: none is the last; a header wins over ?since=. */
	assert_int_equal(events_cursor(&n.node, NULL, NULL, &after, &e), 0);
	assert_int_equal(after, 6);
	assert_int_equal(events_cursor(&n.node, "2", "4", &after, &e), 0);
	assert_int_equal(after, 2);
	assert_int_equal(events_cursor(&n.node, NULL, "0", &after, &e), 0);
	assert_int_equal(after, 0);
	assert_int_equal(events_cursor(&n.node, NULL, "7", &after, &e), -1);
	assert_int_equal(e.code, HALLE_E_INVALID_FIELD);
	assert_non_null(strstr(e.message, "'since' is 7, past"));
	assert_int_equal(events_cursor(&n.node, "abc", NULL, &after, &e), -1);
	assert_non_null(strstr(e.message, "'Last-Event-ID'"));
	assert_int_equal(events_cursor(&n.node, NULL, "-1", &after, &e), -1);
	assert_int_equal(events_cursor(&n.node, NULL, "", &after, &e), -1);
	assert_int_equal(events_cursor(&n.node, NULL, " 3", &after, &e), -1);
	assert_int_equal(events_cursor(&n.node, NULL, "x", &after, &e), -1);
	assert_non_null(strstr(e.message, "'since'"));
	/* The header wins: ?since= is not read, even when it is wrong. */
	assert_int_equal(events_cursor(&n.node, "3", "x", &after, &e), 0);
	assert_int_equal(after, 3);
	assert_int_equal(events_cursor(&n.node, "3", "99", &after, &e), 0);
	assert_int_equal(after, 3);
	assert_int_equal(events_cursor(&n.node, "x", "3", &after, &e), -1);
	assert_non_null(strstr(e.message, "'Last-Event-ID'"));
	assert_int_equal(events_cursor(&n.node, NULL,
	    "99999999999999999999999", &after, &e), -1);
	scratch_node_close(&n);
}

static void
test_prune_and_gap(void **state)
{
	struct scratch_node n;
	struct halle_error e;
	json_t *list, *gap;
	int i;

	assert_int_equal(scratch_node_open(&n, "commune-n", NULL), 0);
	for (i = 0; i < 19; i++)
		append(&n, "test.one", 1);
	assert_int_equal(last_of(&n), 20);
	assert_int_equal(events_prune(&n.node, 5, &e), 15);
	assert_int_equal(events_prune(&n.node, 5, &e), 0);
	/* Below the floor (15): a gap first, then all that is held. */
	list = events_after(&n, 3);
	assert_int_equal(json_array_size(list), 6);
	gap = json_array_get(list, 0);
	assert_string_equal(json_string_value(json_object_get(gap, "type")),
	    "gap");
	assert_int_equal(json_integer_value(json_object_get(gap, "id")), 15);
	assert_int_equal(json_integer_value(json_object_get(gap, "after")), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    list, 1), "id")), 16);
	json_decref(list);
	/* At the floor: nothing lost. */
	assert_string_equal(types_after(&n, 15),
	    "test.one,test.one,test.one,test.one,test.one");
	/* Appending goes on from the last id. */
	append(&n, "test.two", 1);
	assert_int_equal(last_of(&n), 21);
	scratch_node_close(&n);
}

static int
restart_op(struct node_txn *nt, void *arg)
{
	events_restart(nt->t, nt->now_ms);
	return 0;
}

static void
test_restart_names_no_id_twice(void **state)
{
	struct scratch_node n;
	struct halle_error e;
	json_t *list;
	uint64_t last;

	fake_ms = 1764590400000LL;	/* 2025-12-01 */
	assert_int_equal(scratch_node_open(&n, "commune-n", fake_clock), 0);
	append(&n, "test.one", 1);
	append(&n, "test.one", 1);
	assert_int_equal(node_mutate(&n.node, restart_op, NULL, &e), 0);
	last = last_of(&n);
	assert_true(last >= (uint64_t)fake_ms * 1000);
	/* A reader of the old log is told it lost events. */
	list = events_after(&n, 2);
	assert_int_equal(json_array_size(list), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    list, 0), "type")), "gap");
	json_decref(list);
	append(&n, "test.two", 1);
	assert_string_equal(types_after(&n, 2), "gap,test.two");
	assert_string_equal(types_after(&n, last), "test.two");
	/* The old events go at the next pruning, whatever is kept. */
	assert_int_equal(events_prune(&n.node, 1000, &e), 3);
	assert_string_equal(types_after(&n, last), "test.two");
	scratch_node_close(&n);
}

/* dir/data.mdb copied into a new directory to (a backup restored). */
static void
copy_store(const char *dir, const char *to)
{
	char path[1024], buf[65536];
	FILE *in, *out;
	size_t n;

	assert_int_equal(mkdir(to, 0700), 0);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	assert_non_null(in = fopen(path, "rb"));
	snprintf(path, sizeof(path), "%s/data.mdb", to);
	assert_non_null(out = fopen(path, "wb"));
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	assert_int_equal(fclose(out), 0);
}

/* n started from the store in dir; its last event id. */
static uint64_t
start_from(struct scratch_node *n, const char *dir)
{
	char err[256];

	node_close(&n->node);
	free(n->cfg.data_dir);
	n->cfg.data_dir = strdup(dir);
	assert_int_equal(node_open(&n->node, &n->cfg, err, sizeof(err)), 0);
	return last_of(n);
}

/* One backup restored twice: each copy's ids are its own. */
static void
test_restored_twice_names_no_id_twice(void **state)
{
	struct scratch_node n;
	char backup[600], one[600], two[600];
	uint64_t last_one, first_two;
	int64_t started;

	assert_int_equal(scratch_node_open(&n, "commune-n", NULL), 0);
	append(&n, "test.one", 1);
	snprintf(backup, sizeof(backup), "%s/backup", n.dir);
	snprintf(one, sizeof(one), "%s/one", n.dir);
	snprintf(two, sizeof(two), "%s/two", n.dir);
	{
		char err[256];

		assert_int_equal(node_backup(&n.node, backup, err,
		    sizeof(err)), 0);
	}
	copy_store(backup, one);
	copy_store(backup, two);
	/* The first copy: its log starts again, past the time it starts. */
	started = timeutil_now_ms();
	start_from(&n, one);
	append(&n, "test.one", 1);
	last_one = last_of(&n);
	assert_true(last_one > (uint64_t)started * 1000);
	/* Started again, it goes on: the restart was once. */
	assert_int_equal(start_from(&n, one), last_one);
	assert_string_equal(types_after(&n, last_one - 1), "test.one");
	/*
	 * The second copy, started once the clock is past the first copy's
	 * last id (a millisecond at most): past every id of the first, and
	 * a reader of the first is told it lost events.
	 */
	while ((uint64_t)timeutil_now_ms() <= last_one / 1000)
		;
	first_two = start_from(&n, two);
	assert_true(first_two > last_one);
	assert_string_equal(types_after(&n, 0), "gap");
	append(&n, "test.two", 1);
	assert_string_equal(types_after(&n, last_one), "gap,test.two");
	scratch_node_close(&n);
}

static int
big_op(struct node_txn *nt, void *arg)
{
	json_t *f = json_pack("{s:s, s:s%, s:I, s:b}", "order",
	    "or-0123456789ab", "blob", (const char *)arg, (size_t)(20 * 1024),
	    "quantity", (json_int_t)7, "cancelled", 1);

	return events_append(nt, "test.big", f);
}

/* An event over its bound is cut down to what says it happened. */
static void
test_event_bound(void **state)
{
	struct scratch_node n;
	struct halle_error e;
	char *blob = malloc(20 * 1024);
	uint64_t last;
	json_t *list, *ev;
	char *text;

	assert_non_null(blob);
	memset(blob, 'x', 20 * 1024);
	assert_int_equal(scratch_node_open(&n, "commune-n", NULL), 0);
	last = last_of(&n);
	assert_int_equal(node_mutate(&n.node, big_op, blob, &e), 0);
	list = events_after(&n, last);
	assert_int_equal(json_array_size(list), 1);
	ev = json_array_get(list, 0);
	text = json_dumps(ev, JSON_COMPACT);
	assert_true(strlen(text) <= EVENTS_MAX_BYTES);
	free(text);
	assert_int_equal(json_integer_value(json_object_get(ev, "id")),
	    last + 1);
	assert_string_equal(json_string_value(json_object_get(ev, "order")),
	    "or-0123456789ab");
	assert_int_equal(json_integer_value(json_object_get(ev, "quantity")),
	    7);
	assert_true(json_is_true(json_object_get(ev, "cancelled")));
	assert_true(json_is_true(json_object_get(ev, "truncated")));
	assert_null(json_object_get(ev, "blob"));
	json_decref(list);
	scratch_node_close(&n);
	free(blob);
}

/* Two nodes: H is home of a producer that M's market sells. */

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

static json_t *
publish(json_int_t pain)
{
	struct halle_error e;
	json_t *req, *ans;

	req = json_pack("{s:[{s:s, s:s, s:i, s:I}, {s:s, s:s, s:i}]}",
	    "products", "sku", "PAIN", "name", "Pain", "price_cents", 450,
	    "stock_per_day", pain, "sku", "MIEL", "name", "Miel",
	    "price_cents", 800);
	ans = test_ok(testapi_catalogue_publish(&H.node, producer, req, &e), &e,
	    "publish");
	json_decref(req);
	return ans;
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
	H.cfg.stock_reserve_percent = 100;	/* H rules every line */
	req = json_pack("{s:s}", "name", "Ferme du Moulin");
	test_copy_id(producer, test_ok(testapi_producer_add(&H.node, req, &e), &e,
	    "add"));
	json_decref(req);
	json_decref(publish(10));
	req = json_pack("{s:s, s:s, s:s}", "name", "Marché", "place", "Place",
	    "town", "Bourg");
	test_copy_id(market, test_ok(testapi_market_add(&M.node, req, &e), &e,
	    "market"));
	json_decref(req);
	exchange();
	json_decref(test_ok(service_market_membership(&M.node, market, 'I',
	    producer, 1, &e), &e, "invite"));
	json_decref(test_ok(service_market_membership(&H.node, market, 'A',
	    producer, 1, &e), &e, "accept"));
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

static void
open_distribution(void)
{
	struct halle_error e;
	json_t *req;

	req = json_pack("{s:s, s:s, s:s, s:s, s:s}", "market", market, "date",
	    DAY, "from", "10:00", "to", "12:00", "closes", CLOSES);
	test_copy_id(dist, test_ok(testapi_distribution_open(&M.node, req, &e), &e,
	    "open"));
	json_decref(req);
}

static json_t *
lines_of(json_int_t pain, json_int_t miel)
{
	return json_pack("[{s:s, s:s, s:I}, {s:s, s:s, s:I}]", "producer",
	    producer, "sku", "PAIN", "quantity", pain, "producer", producer,
	    "sku", "MIEL", "quantity", miel);
}

/* The event after `after` at node tn of that type about sku (or NULL). */
static json_t *
find(struct scratch_node *tn, uint64_t after, const char *type,
    const char *sku)
{
	json_t *list = events_after(tn, after), *e, *found = NULL;
	const char *s;
	size_t i;

	json_array_foreach(list, i, e) {
		s = json_string_value(json_object_get(e, "sku"));
		if (strcmp(json_string_value(json_object_get(e, "type")),
		    type) == 0 && (sku == NULL || (s && strcmp(s, sku) == 0)))
			found = json_incref(e);
	}
	json_decref(list);
	return found;
}

static int
rerule_op(struct node_txn *nt, void *arg)
{
	unsigned char market_node[KEY_PUBLIC_LEN];
	char key[64];
	Halle__Distribution *d;
	Halle__Order *o;
	int rc;

	snprintf(key, sizeof(key), "O:%s", (const char *)arg);
	o = VIEW_LOAD(nt->t, Order, order, key, market_node);
	assert_non_null(o);
	d = views_distribution(nt->t, o->distribution);
	assert_non_null(d);
	rc = stock_rule_order(nt, o, d, market_node, 1);
	view_free(d);
	view_free(o);
	return rc;
}

static void
test_orders_between_nodes(void **state)
{
	struct halle_error e;
	uint64_t h0 = last_of(&H), m0, h1, m1;
	char order[ID_MAX];
	json_t *req, *ev;

	/* A catalogue is published at its home and read at the market. */
	m0 = last_of(&M);
	json_decref(publish(10));
	assert_string_equal(types_after(&H, h0), "catalogue.published");
	carry(&H, &M);
	assert_string_equal(types_after(&M, m0), "catalogue.published");
	h0 = last_of(&H);
	m0 = last_of(&M);
	open_distribution();
	assert_string_equal(types_after(&M, m0), "distribution.opened");
	carry(&M, &H);
	assert_string_equal(types_after(&H, h0), "distribution.opened");

	/*
	 * An order at M: honey (no stock limit) confirmed there at once, the
	 * bread pending until H rules 10 of the 12 asked.
	 */
	h0 = last_of(&H);
	m0 = last_of(&M);
	req = json_pack("{s:s, s:s, s:o}", "distribution", dist, "basket",
	    "Panier 12", "lines", lines_of(12, 2));
	test_copy_id(order, test_ok(testapi_order_place(&M.node, req, &e), &e, "place"));
	json_decref(req);
	assert_string_equal(types_after(&M, m0), "order.placed,line.confirmed");
	carry(&M, &H);
	assert_string_equal(types_after(&H, h0),
	    "order.placed,line.confirmed,line.confirmed");
	ev = find(&H, h0, "line.confirmed", "PAIN");
	assert_non_null(ev);
	assert_string_equal(json_string_value(json_object_get(ev, "order")),
	    order);
	assert_string_equal(json_string_value(json_object_get(ev, "basket")),
	    "Panier 12");
	assert_int_equal(json_integer_value(json_object_get(ev, "quantity")),
	    12);
	assert_int_equal(json_integer_value(json_object_get(ev, "confirmed")),
	    10);
	assert_true(json_is_string(json_object_get(ev, "reason")));
	json_decref(ev);
	carry(&H, &M);
	assert_string_equal(types_after(&M, m0),
	    "order.placed,line.confirmed,line.confirmed");

	/* A ruling again, to the same states: nothing said. */
	h1 = last_of(&H);
	m1 = last_of(&M);
	assert_int_equal(node_mutate(&H.node, rerule_op, order, &e), 0);
	assert_int_equal(last_of(&H), h1);
	carry(&H, &M);
	assert_int_equal(last_of(&M), m1);

	/* Changed to 8 loaves: pending at M until H rules them all. */
	req = json_pack("{s:o}", "lines", lines_of(8, 2));
	json_decref(test_ok(testapi_order_change(&M.node, order, req, &e), &e,
	    "change"));
	json_decref(req);
	assert_string_equal(types_after(&M, m1), "order.changed,line.pending");
	carry(&M, &H);
	assert_string_equal(types_after(&H, h1),
	    "order.changed,line.confirmed");
	carry(&H, &M);
	assert_string_equal(types_after(&M, m1),
	    "order.changed,line.pending,line.confirmed");
	ev = find(&M, m1, "line.confirmed", "PAIN");
	assert_int_equal(json_integer_value(json_object_get(ev, "confirmed")),
	    8);
	json_decref(ev);

	/* Cancelled: the order says it, its lines do not. */
	h1 = last_of(&H);
	m1 = last_of(&M);
	json_decref(test_ok(service_order_cancel(&M.node, order, &e), &e,
	    "cancel"));
	assert_string_equal(types_after(&M, m1), "order.cancelled");
	exchange();
	assert_string_equal(types_after(&H, h1), "order.cancelled");
	assert_string_equal(types_after(&M, m1), "order.cancelled");

	/* The distribution cancelled, at both. */
	h1 = last_of(&H);
	m1 = last_of(&M);
	json_decref(test_ok(service_distribution_cancel(&M.node, dist, &e), &e,
	    "cancel"));
	exchange();
	assert_string_equal(types_after(&M, m1), "distribution.cancelled");
	assert_string_equal(types_after(&H, h1), "distribution.cancelled");
}

int
main(void)
{
	const struct CMUnitTest log_tests[] = {
		cmocka_unit_test(test_commits_with_its_change),
		cmocka_unit_test(test_read_from_cursor),
		cmocka_unit_test(test_prune_and_gap),
		cmocka_unit_test(test_restart_names_no_id_twice),
		cmocka_unit_test(test_event_bound),
		cmocka_unit_test(test_restored_twice_names_no_id_twice),
	};
	const struct CMUnitTest node_tests[] = {
		cmocka_unit_test(test_orders_between_nodes),
	};
	int failed;

	failed = cmocka_run_group_tests_name("log", log_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("nodes", node_tests, setup,
	    teardown);
	return failed;
}
