/*
 * testnode: see testnode.h.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api_status.h"
#include "testnode.h"
#include "testapi.h"
#include "testutil.h"
#include "timeutil.h"

struct node			node;
static struct halle_config	cfg;
static char			test_dir[PATH_MAX];
int64_t				now_ms;		/* NOW */
int64_t				fake_ms;	/* what the node's clock says */
struct halle_error		E;

static int64_t
fake_clock(void)
{
	return fake_ms;
}

int64_t
instant_ms(const char *iso)
{
	time_t t;

	if (timeutil_parse_instant(iso, &t) != 0)
		fail_msg("cannot parse instant '%s'", iso);
	return (int64_t)t * 1000;
}

/* Node */

int
open_node(void)
{
	char err[512] = "";

	if (node_open(&node, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "node_open: %s\n", err);
		return -1;
	}
	node.clock_ms = fake_clock;
	return 0;
}

int
testnode_open(const char *program)
{
	if (make_temp_dir(test_dir, sizeof(test_dir), program) == -1)
		return -1;
	if (test_node_config(&cfg, test_dir, "commune-test",
	    (size_t)16 << 20) == -1)
		return -1;
	if (open_node() == -1)
		return -1;
	now_ms = instant_ms(NOW);
	fake_ms = now_ms;
	return 0;
}

void
testnode_close(void)
{
	node_close(&node);
	config_free(&cfg);
	remove_tree(test_dir);
}

int
testnode_group_teardown(void **state)
{
	testnode_close();
	return 0;
}

/* Each test starts at NOW. */
int
reset_clock(void **state)
{
	fake_ms = now_ms;
	return 0;
}

/* Answers and errors */

json_t *
ok_(json_t *j, const char *what, int line)
{
	if (j == NULL)
		fail_msg("line %d: %s: %d %s: %s", line, what,
		    api_http_status(E.code), halle_strerror(E.code), E.message);
	return j;
}


void
head_snapshot(struct head_snap *s)
{
	struct halle_error err;
	struct store_txn t;
	json_t *status;

	memset(&err, 0, sizeof(err));
	status = service_status(&node, &err);
	assert_non_null(status);
	s->records = json_integer_value(json_object_get(json_object_get(status,
	    "store"), "records"));
	json_decref(status);
	assert_int_equal(store_read_begin(node.store, &t), 0);
	assert_int_equal(feed_head(&t, node.key.public_key, &s->head), 0);
	store_read_end(&t);
	assert_int_equal(s->records, (json_int_t)s->head.seq);
}

json_int_t
records(void)
{
	struct head_snap s;

	head_snapshot(&s);
	return s.records;
}

void
fails_check(json_t *got, int status, const char *code, const char *what,
    int line)
{
	char *dump;

	if (got != NULL) {
		dump = json_dumps(got, JSON_COMPACT);
		fail_msg("line %d: %s succeeded, want %s: %s", line, what, code,
		    dump);
	}
	if (strcmp(halle_strerror(E.code), code) != 0 ||
	    api_http_status(E.code) != status)
		fail_msg("line %d: %s: got %d %s (%s), want %d %s", line, what,
		    api_http_status(E.code), halle_strerror(E.code), E.message,
		    status, code);
	if (E.message[0] == '\0')
		fail_msg("line %d: %s: %s without a message", line, what, code);
}


const char *
str(json_t *o, const char *field)
{
	json_t *v = json_object_get(o, field);

	if (!json_is_string(v))
		fail_msg("'%s' is not a string", field);
	return json_string_value(v);
}

json_int_t
num(json_t *o, const char *field)
{
	json_t *v = json_object_get(o, field);

	if (!json_is_integer(v))
		fail_msg("'%s' is not an integer", field);
	return json_integer_value(v);
}

void
assert_json_equal(json_t *a, json_t *b)
{
	char *da, *db;

	if (json_equal(a, b))
		return;
	da = json_dumps(a, JSON_SORT_KEYS | JSON_INDENT(1));
	db = json_dumps(b, JSON_SORT_KEYS | JSON_INDENT(1));
	fail_msg("JSON differs:\n%s\n---\n%s", da, db);
}

/* Requests */

void
copy_id(char *id, json_t *j)
{
	snprintf(id, ID_MAX, "%s", str(j, "id"));
	json_decref(j);
}

void
add_producer(const char *name, char *id)
{
	json_t *req = json_pack("{s:s, s:s}", "name", name, "town",
	    "Saint-Jean");

	copy_id(id, OK(testapi_producer_add(&node, req, &E)));
	json_decref(req);
}

/* A product; stock -1 is unlimited. */
json_t *
product(const char *sku, const char *name, json_int_t price, json_int_t vat,
    json_int_t stock)
{
	json_t *p = json_pack("{s:s, s:s, s:I, s:I}", "sku", sku, "name", name,
	    "price_cents", price, "vat_bp", vat);

	if (stock >= 0)
		json_object_set_new(p, "stock_per_day", json_integer(stock));
	return p;
}

/* Publishes products (stolen); version 0: the next one. */
json_t *
try_publish(const char *producer, json_t *products, json_int_t version)
{
	json_t *req = json_pack("{s:o}", "products", products), *c;

	if (version != 0)
		json_object_set_new(req, "version", json_integer(version));
	c = testapi_catalogue_publish(&node, producer, req, &E);
	json_decref(req);
	return c;
}

void
add_market(const char *name, char *id)
{
	json_t *req = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "name", name,
	    "place", PLACE, "town", "Saint-Jean", "weekday", "sat",
	    "from", "10:00", "to", "12:00");

	copy_id(id, OK(testapi_market_add(&node, req, &E)));
	json_decref(req);
}

void
membership(const char *market, char which, const char *producer, int active)
{
	json_decref(OK(service_market_membership(&node, market, which, producer,
	    active, &E)));
}

void
sell(const char *market, const char *producer)
{
	membership(market, 'I', producer, 1);
	membership(market, 'A', producer, 1);
}

/* opens and closes may be NULL: the defaults. */
json_t *
try_open(const char *market, const char *date, const char *from,
    const char *to, const char *opens, const char *closes)
{
	json_t *req = json_pack("{s:s, s:s}", "market", market, "date", date);
	json_t *d;

	if (from != NULL)
		json_object_set_new(req, "from", json_string(from));
	if (to != NULL)
		json_object_set_new(req, "to", json_string(to));
	if (opens != NULL)
		json_object_set_new(req, "opens", json_string(opens));
	if (closes != NULL)
		json_object_set_new(req, "closes", json_string(closes));
	d = testapi_distribution_open(&node, req, &E);
	json_decref(req);
	return d;
}

void
open_distribution(const char *market, const char *date, char *id)
{
	copy_id(id, OK(try_open(market, date, NULL, NULL, NULL, NULL)));
}

json_t *
line(const char *producer, const char *sku, json_int_t quantity)
{
	return json_pack("{s:s, s:s, s:I}", "producer", producer, "sku", sku,
	    "quantity", quantity);
}

json_t *
one_line(const char *producer, const char *sku, json_int_t quantity)
{
	return json_pack("[o]", line(producer, sku, quantity));
}

/* Places an order of lines (stolen). */
json_t *
try_place(const char *dist, const char *basket, json_t *lines)
{
	json_t *req = json_pack("{s:s, s:s, s:o}", "distribution", dist,
	    "basket", basket, "lines", lines), *o;

	o = testapi_order_place(&node, req, &E);
	json_decref(req);
	return o;
}

