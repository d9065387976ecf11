/*
 * test_verify: verify_views (lib/verify.h) on a real node built through the
 * service layer: producers, a catalogue with a daily stock, a market, a
 * distribution and orders placed, changed and cancelled. Its views must be
 * what its feed gives; then each test damages the store the way a bug
 * would (a view changed, deleted or invented, an index key lost, a stock
 * counter off), checks that verify names the key, and repairs it. Every
 * run also checks what verify_views tells of its progress: each step in
 * its order, from 0 up to its total, never past it.
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

#include "testapi.h"
#include "testutil.h"
#include <jansson.h>

#include "config.h"
#include "dbkey.h"
#include "error.h"
#include "feed.h"
#include "node.h"
#include "service.h"
#include "store.h"
#include "timeutil.h"
#include "verify.h"

#define NOW	"2026-11-20T12:00:00+01:00"
#define DATE	"2026-11-28"

static struct node		node;
static struct halle_config	cfg;
static char			test_dir[PATH_MAX];
static int64_t			fake_ms;
static char			producer[64], market[64], order1[64];
static char			distribution[64];
static char			reports[16384];
static int			nreports;

/* What verify_views told of one step's progress. */
static struct step_seen {
	int		 calls;
	uint64_t	 done, total;	/* at the last call */
} steps[2];

static int64_t
fake_clock(void)
{
	return fake_ms;
}

/* Calls a service function and fails the test on an error answer. */
static json_t *
ok_(json_t *j, struct halle_error *e, const char *what)
{
	if (j == NULL)
		fail_msg("%s: %s: %s", what, halle_strerror(e->code),
		    e->message);
	return j;
}
#define OK(call)	ok_((call), &E, #call)

static struct halle_error E;

static json_t *
parse(const char *text)
{
	json_t *j = json_loads(text, 0, NULL);

	assert_non_null(j);
	return j;
}

/* Places an order of qty PAIN and returns its answer. */
static json_t *
place(const char *dist, const char *basket, int qty)
{
	char text[512];
	json_t *req, *o;

	snprintf(text, sizeof(text), "{\"distribution\": \"%s\", \"basket\": "
	    "\"%s\", \"lines\": [{\"producer\": \"%s\", \"sku\": \"PAIN\", "
	    "\"quantity\": %d}]}", dist, basket, producer, qty);
	req = parse(text);
	o = OK(testapi_order_place(&node, req, &E));
	json_decref(req);
	return o;
}

static int
group_setup(void **state)
{
	char text[512];
	json_t *req, *o;
	time_t now;

	if (make_temp_dir(test_dir, sizeof(test_dir), "halle-test-verify") ==
	    -1)
		return -1;
	/* A small map: the replay into the scratch store grows it. */
	if (test_node_config(&cfg, test_dir, "commune-test",
	    (size_t)1 << 20) == -1)
		return -1;
	if (node_open(&node, &cfg, text, sizeof(text)) != 0) {
		fprintf(stderr, "node_open: %s\n", text);
		return -1;
	}
	if (timeutil_parse_instant(NOW, &now) != 0)
		return -1;
	fake_ms = (int64_t)now * 1000;
	node.clock_ms = fake_clock;

	req = parse("{\"name\": \"Ferme du Moulin\"}");
	o = OK(testapi_producer_add(&node, req, &E));
	snprintf(producer, sizeof(producer), "%s",
	    json_string_value(json_object_get(o, "id")));
	json_decref(o);
	json_decref(req);
	req = parse("{\"products\": [{\"sku\": \"PAIN\", \"name\": \"Pain\", "
	    "\"price_cents\": 450, \"stock_per_day\": 10}]}");
	json_decref(OK(testapi_catalogue_publish(&node, producer, req, &E)));
	json_decref(req);
	req = parse("{\"name\": \"Marché du samedi\", \"place\": \"Place\", "
	    "\"town\": \"Saint-Jean\"}");
	o = OK(testapi_market_add(&node, req, &E));
	snprintf(market, sizeof(market), "%s",
	    json_string_value(json_object_get(o, "id")));
	json_decref(o);
	json_decref(req);
	json_decref(OK(service_market_membership(&node, market, 'I', producer, 1,
	    &E)));
	json_decref(OK(service_market_membership(&node, market, 'A', producer, 1,
	    &E)));
	snprintf(text, sizeof(text), "{\"market\": \"%s\", \"date\": \"%s\", "
	    "\"from\": \"10:00\", \"to\": \"12:00\"}", market, DATE);
	req = parse(text);
	o = OK(testapi_distribution_open(&node, req, &E));
	snprintf(distribution, sizeof(distribution), "%s",
	    json_string_value(json_object_get(o, "id")));
	json_decref(o);
	json_decref(req);

	/* 4 + 5 + 3 of 10: the third is cut to 1; then the second cancelled. */
	o = place(distribution, "Panier 1", 4);
	snprintf(order1, sizeof(order1), "%s",
	    json_string_value(json_object_get(o, "id")));
	json_decref(o);
	o = place(distribution, "Panier 2", 5);
	json_decref(place(distribution, "Panier 3", 3));
	json_decref(OK(service_order_cancel(&node,
	    json_string_value(json_object_get(o, "id")), &E)));
	json_decref(o);
	return 0;
}

static int
group_teardown(void **state)
{
	node_close(&node);
	config_free(&cfg);
	remove_tree(test_dir);
	return 0;
}

static void
collect(const char *what, void *arg)
{
	size_t len = strlen(reports);

	snprintf(reports + len, sizeof(reports) - len, "%s\n", what);
	nreports++;
}

/* Steps in order, each from 0, never back, never past its total. */
static void
progress_seen(enum verify_step step, uint64_t done, uint64_t total,
    void *arg)
{
	struct step_seen *s = &steps[step];

	assert_true(step == VERIFY_REPLAY || step == VERIFY_COMPARE);
	if (step == VERIFY_REPLAY)
		assert_int_equal(steps[VERIFY_COMPARE].calls, 0);
	else
		assert_true(steps[VERIFY_REPLAY].calls > 0);
	if (s->calls == 0)
		assert_int_equal(done, 0);
	else {
		assert_int_equal(total, s->total);
		assert_true(done >= s->done);
	}
	assert_true(done <= total);
	s->calls++;
	s->done = done;
	s->total = total;
}

/* Runs verify_views; returns the number of differences it reported. */
static int
verify(void)
{
	char err[512] = "";
	int rc;

	reports[0] = '\0';
	nreports = 0;
	memset(steps, 0, sizeof(steps));
	rc = verify_views(&node, test_dir, collect, progress_seen, NULL, err,
	    sizeof(err));
	if (rc == -1)
		fail_msg("verify_views: %s", err);
	assert_int_equal(rc, nreports);
	/* Both steps ran to their end. */
	assert_int_equal(steps[VERIFY_REPLAY].done,
	    steps[VERIFY_REPLAY].total);
	assert_int_equal(steps[VERIFY_COMPARE].done,
	    steps[VERIFY_COMPARE].total);
	return rc;
}

/* verify() must report n differences; on failure, shows what it said. */
static void
expect_reports(int n)
{
	int got = verify();

	if (got != n)
		fail_msg("expected %d difference(s), got %d:\n%s", n, got,
		    reports);
}

static void
assert_reported(const char *needle)
{
	if (strstr(reports, needle) == NULL)
		fail_msg("expected a report with '%s', got:\n%s", needle,
		    reports);
}

/* Raw store access, as a bug would write. */
struct raw {
	enum store_db	 db;
	const char	*key;
	const void	*val;	/* NULL: delete */
	size_t		 len;
};

static int
raw_op(struct store_txn *t, void *arg)
{
	struct raw *r = arg;

	if (r->val == NULL)
		return store_del(t, r->db, r->key, strlen(r->key));
	return store_put(t, r->db, r->key, strlen(r->key), r->val, r->len);
}

static void
raw_write(enum store_db db, const char *key, const void *val, size_t len)
{
	struct raw r = { db, key, val, len };
	char err[256];

	assert_int_equal(store_write(node.store, raw_op, &r, err,
	    sizeof(err)), 0);
}

/* A copy of the value under key (free it), or NULL when absent. */
static void *
raw_read(enum store_db db, const char *key, size_t *len)
{
	struct store_txn t;
	const void *v;
	void *copy = NULL;

	assert_int_equal(store_read_begin(node.store, &t), 0);
	if (store_get(&t, db, key, strlen(key), &v, len) == 0) {
		assert_non_null(copy = malloc(*len ? *len : 1));
		memcpy(copy, v, *len);
	}
	store_read_end(&t);
	return copy;
}

static int
count_records(const unsigned char *origin, const struct feed_head *h,
    void *arg)
{
	*(uint64_t *)arg += h->seq;
	return 0;
}

static int
count_work(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	(void)val;
	(void)vlen;
	if (dbkey_is_work(key, klen))
		(*(size_t *)arg)++;
	return 0;
}

static void
test_whole(void **state)
{
	struct store_txn t;
	uint64_t records = 0;
	size_t keys, work = 0;

	expect_reports(0);
	/*
	 * The replay counts the records of the feeds; the comparison, the
	 * keys of the node's views and index and of the rebuilt ones: the
	 * same keys twice, but for work and the event log (dbkey_is_work),
	 * which the node holds and the rebuilt store need not.
	 */
	assert_int_equal(store_read_begin(node.store, &t), 0);
	assert_int_equal(feed_each(&t, count_records, &records), 0);
	keys = store_entries(&t, STORE_VIEWS) + store_entries(&t, STORE_INDEX);
	assert_int_equal(store_scan(&t, STORE_INDEX, "", 0, count_work, &work),
	    0);
	store_read_end(&t);
	assert_true(records > 0);
	assert_int_equal(steps[VERIFY_REPLAY].total, records);
	assert_true(steps[VERIFY_COMPARE].total >= 2 * (keys - work));
	assert_true(steps[VERIFY_COMPARE].total <= 2 * keys);
}

static void
test_view_changed(void **state)
{
	char key[128];
	unsigned char *v;
	size_t len;

	snprintf(key, sizeof(key), "P:%s", producer);
	assert_non_null(v = raw_read(STORE_VIEWS, key, &len));
	v[len - 1] ^= 0x20;	/* one bit of the last field */
	raw_write(STORE_VIEWS, key, v, len);
	expect_reports(1);
	snprintf(key, sizeof(key), "view P:%s: not what the feeds give",
	    producer);
	assert_reported(key);
	v[len - 1] ^= 0x20;
	snprintf(key, sizeof(key), "P:%s", producer);
	raw_write(STORE_VIEWS, key, v, len);
	free(v);
	expect_reports(0);
}

static void
test_view_missing(void **state)
{
	char key[128], want[256];
	void *v;
	size_t len;

	snprintf(key, sizeof(key), "O:%s", order1);
	assert_non_null(v = raw_read(STORE_VIEWS, key, &len));
	raw_write(STORE_VIEWS, key, NULL, 0);
	expect_reports(1);
	snprintf(want, sizeof(want), "view %s: missing, the feeds give it",
	    key);
	assert_reported(want);
	raw_write(STORE_VIEWS, key, v, len);
	free(v);
	expect_reports(0);
}

static void
test_view_invented(void **state)
{
	char key[128];
	size_t len;
	void *v;

	snprintf(key, sizeof(key), "M:%s", market);
	assert_non_null(v = raw_read(STORE_VIEWS, key, &len));
	raw_write(STORE_VIEWS, "M:mk-000000000000", v, len);
	expect_reports(1);
	assert_reported("view M:mk-000000000000: held, but no record gives it");
	raw_write(STORE_VIEWS, "M:mk-000000000000", NULL, 0);
	free(v);
	expect_reports(0);
}

static void
test_index_missing(void **state)
{
	char key[256], want[512];
	size_t len;
	void *v;

	snprintf(key, sizeof(key), "o:%s:%s", distribution, order1);
	assert_non_null(v = raw_read(STORE_INDEX, key, &len));
	raw_write(STORE_INDEX, key, NULL, 0);
	expect_reports(1);
	snprintf(want, sizeof(want), "index %s: missing, the feeds give it",
	    key);
	assert_reported(want);
	raw_write(STORE_INDEX, key, v, len);
	free(v);
	expect_reports(0);
}

static void
test_stock_off(void **state)
{
	char key[256], want[512];
	uint64_t taken, wrong = 99;
	void *v;
	size_t len;

	snprintf(key, sizeof(key), "s:%s:%s:PAIN", producer, DATE);
	assert_non_null(v = raw_read(STORE_INDEX, key, &len));
	assert_int_equal(len, sizeof(taken));
	memcpy(&taken, v, sizeof(taken));
	assert_int_equal(taken, 4 + 1);	/* the cancelled order gave back */
	raw_write(STORE_INDEX, key, &wrong, sizeof(wrong));
	expect_reports(1);
	snprintf(want, sizeof(want), "index %s: holds 99 taken, the rulings "
	    "take 5", key);
	assert_reported(want);
	raw_write(STORE_INDEX, key, NULL, 0);
	expect_reports(1);
	snprintf(want, sizeof(want), "index %s: missing, the rulings take "
	    "stock", key);
	assert_reported(want);
	raw_write(STORE_INDEX, key, v, len);
	free(v);
	expect_reports(0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole),
		cmocka_unit_test(test_view_changed),
		cmocka_unit_test(test_view_missing),
		cmocka_unit_test(test_view_invented),
		cmocka_unit_test(test_index_missing),
		cmocka_unit_test(test_stock_off),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
