/*
 * test_node: the node's write state (node.h), on real stores in temporary
 * directories: a node made with its key writes at once, a lost store waits
 * for its peers, a backup waits for a peer's word, a fork of its own feed
 * stops every write; and the state survives a restart.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "feed.h"
#include "ingest.h"
#include "record.h"
#include "service.h"
#include "testapi.h"
#include "testutil.h"
#include "verify.h"

struct testnode {
	char			 dir[512];
	struct halle_config	 cfg;
	struct node		 node;
};

/* A node with one peer configured (so that it has somebody to wait for). */
static void
testnode_make(struct testnode *tn)
{
	assert_int_equal(make_temp_dir(tn->dir, sizeof(tn->dir),
	    "halle-node"), 0);
	assert_int_equal(test_node_config(&tn->cfg, tn->dir, "a", 16 << 20),
	    0);
	tn->cfg.peers = calloc(1, sizeof(*tn->cfg.peers));
	assert_non_null(tn->cfg.peers);
	tn->cfg.peers[0].name = strdup("b");
	tn->cfg.npeers = 1;
}

static void
testnode_open(struct testnode *tn)
{
	char err[256];

	assert_int_equal(node_open(&tn->node, &tn->cfg, err, sizeof(err)), 0);
}

static void
testnode_reopen(struct testnode *tn)
{
	node_close(&tn->node);
	testnode_open(tn);
}

/* Stops the node and loses its store; the key stays. */
static void
testnode_lose_store(struct testnode *tn)
{
	char data[600];

	node_close(&tn->node);
	snprintf(data, sizeof(data), "%s/data", tn->dir);
	remove_tree(data);
}

static void
testnode_free(struct testnode *tn)
{
	node_close(&tn->node);
	config_free(&tn->cfg);
	remove_tree(tn->dir);
}

/* Adds a producer; returns the error code (HALLE_OK when written). */
static enum halle_errcode
write_one(struct testnode *tn, struct halle_error *err)
{
	static int count;
	char name[64];
	json_t *req, *ans;

	snprintf(name, sizeof(name), "Ferme des Tilleuls %d", ++count);
	req = json_pack("{s:s}", "name", name);
	ans = testapi_producer_add(&tn->node, req, err);

	json_decref(req);
	if (ans == NULL)
		return err->code;
	json_decref(ans);
	return HALLE_OK;
}

static uint64_t
own_seq(struct testnode *tn)
{
	struct store_txn t;
	struct feed_head h;

	assert_int_equal(store_read_begin(tn->node.store, &t), 0);
	assert_int_equal(feed_head(&t, tn->node.key.public_key, &h), 0);
	store_read_end(&t);
	return h.seq;
}

static void
assert_status(struct testnode *tn, int writable, const char *state)
{
	struct halle_error err;
	json_t *st = service_status(&tn->node, &err);

	assert_non_null(st);
	assert_int_equal(json_is_true(json_object_get(st, "writable")),
	    writable);
	assert_string_equal(json_string_value(json_object_get(st,
	    "write_state")), state);
	if (writable)
		assert_true(json_is_null(json_object_get(st, "write_reason")));
	else
		assert_non_null(json_string_value(json_object_get(st,
		    "write_reason")));
	json_decref(st);
}

static void
test_new_node_writes_at_once(void **state)
{
	struct testnode a;
	struct halle_error err;

	(void)state;
	testnode_make(&a);
	testnode_open(&a);		/* key and store made together */
	assert_int_equal(node_write_state(&a.node), NODE_WRITABLE);
	assert_status(&a, 1, "writable");
	/* Its feed is empty, and it still writes after a restart. */
	testnode_reopen(&a);
	assert_int_equal(node_write_state(&a.node), NODE_WRITABLE);
	assert_int_equal(write_one(&a, &err), HALLE_OK);
	assert_int_equal(own_seq(&a), 1);
	testnode_free(&a);
}

static void
test_identity_makes_the_genesis_mark(void **state)
{
	struct testnode a;
	struct node id;
	char err[256];

	(void)state;
	testnode_make(&a);
	/* halled --show-id before the first start. */
	assert_int_equal(node_identity(&id, &a.cfg, err, sizeof(err)), 0);
	testnode_open(&a);
	assert_memory_equal(a.node.key.public_key, id.key.public_key,
	    KEY_PUBLIC_LEN);
	assert_int_equal(node_write_state(&a.node), NODE_WRITABLE);
	/* Run again, it only reads the key. */
	node_close(&a.node);
	assert_int_equal(node_identity(&id, &a.cfg, err, sizeof(err)), 0);
	assert_string_equal(id.id_hex, a.node.id_hex);
	testnode_open(&a);
	testnode_free(&a);
}

static void
test_lost_store_waits(void **state)
{
	struct testnode a;
	struct halle_error err;

	(void)state;
	testnode_make(&a);
	testnode_open(&a);
	assert_int_equal(write_one(&a, &err), HALLE_OK);
	testnode_lose_store(&a);
	testnode_open(&a);
	assert_int_equal(node_write_state(&a.node), NODE_RECOVERING);
	assert_false(node_may_write(&a.node));
	node_set_awaited(&a.node, "b");
	assert_int_equal(write_one(&a, &err), HALLE_E_RECOVERING);
	assert_non_null(strstr(err.message, "waiting for b"));
	assert_int_equal(own_seq(&a), 0);
	assert_status(&a, 0, "recovering");
	/* A restart in the middle of the wait goes on waiting. */
	testnode_reopen(&a);
	assert_int_equal(node_write_state(&a.node), NODE_RECOVERING);
	/* The peers have answered (sync.c says so): writes open, for good. */
	assert_int_equal(node_own_feed_whole(&a.node), 0);
	assert_int_equal(write_one(&a, &err), HALLE_OK);
	testnode_reopen(&a);
	assert_int_equal(node_write_state(&a.node), NODE_WRITABLE);
	testnode_free(&a);
}

static void
test_lost_store_without_peers(void **state)
{
	struct testnode a;
	struct halle_error err;

	(void)state;
	testnode_make(&a);
	testnode_open(&a);
	testnode_lose_store(&a);
	free(a.cfg.peers[0].name);
	free(a.cfg.peers);
	a.cfg.peers = NULL;
	a.cfg.npeers = 0;		/* nobody to wait for */
	testnode_open(&a);
	assert_int_equal(node_write_state(&a.node), NODE_WRITABLE);
	assert_int_equal(write_one(&a, &err), HALLE_OK);
	testnode_free(&a);
}

static void
test_backup_waits_for_a_peer(void **state)
{
	struct testnode a;
	struct halle_error err;
	json_t *req, *ans;
	char copy[600];

	(void)state;
	testnode_make(&a);
	testnode_open(&a);
	assert_int_equal(write_one(&a, &err), HALLE_OK);
	snprintf(copy, sizeof(copy), "%s/backup", a.dir);
	req = json_pack("{s:s}", "path", copy);
	ans = testapi_backup(&a.node, req, &err);
	assert_non_null(ans);
	json_decref(ans);
	json_decref(req);
	/* The live store is not marked: the node goes on writing. */
	assert_int_equal(write_one(&a, &err), HALLE_OK);
	testnode_reopen(&a);
	assert_int_equal(node_write_state(&a.node), NODE_WRITABLE);
	/* Started from the copy: it holds 1 of 2 records and must wait. */
	node_close(&a.node);
	free(a.cfg.data_dir);
	a.cfg.data_dir = strdup(copy);
	testnode_open(&a);
	assert_int_equal(node_write_state(&a.node), NODE_RESTORED);
	assert_int_equal(own_seq(&a), 1);
	assert_int_equal(write_one(&a, &err), HALLE_E_RECOVERING);
	assert_non_null(strstr(err.message, "backup"));
	assert_status(&a, 0, "restored");
	testnode_reopen(&a);
	assert_int_equal(node_write_state(&a.node), NODE_RESTORED);
	assert_int_equal(node_own_feed_whole(&a.node), 0);
	assert_int_equal(node_write_state(&a.node), NODE_WRITABLE);
	testnode_reopen(&a);
	assert_int_equal(node_write_state(&a.node), NODE_WRITABLE);
	testnode_free(&a);
}

/* The whole of dir/data.mdb, to free(); *len its size. */
static char *
store_bytes(const char *dir, size_t *len)
{
	char path[700], *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	assert_non_null(f = fopen(path, "rb"));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	assert_true((n = ftell(f)) > 0);
	rewind(f);
	assert_non_null(buf = malloc((size_t)n));
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void
no_report(const char *what, void *arg)
{
	fail_msg("verify: %s", what);
}

/* halled --verify on a backup never started: it checks, writes nothing. */
static void
test_verify_writes_nothing(void **state)
{
	struct testnode a;
	struct halle_error err;
	char copy[600], text[256], *before, *after;
	size_t before_len, after_len;
	const char *tmp = getenv("TMPDIR");

	(void)state;
	testnode_make(&a);
	testnode_open(&a);
	assert_int_equal(write_one(&a, &err), HALLE_OK);
	snprintf(copy, sizeof(copy), "%s/backup", a.dir);
	assert_int_equal(node_backup(&a.node, copy, text, sizeof(text)), 0);
	node_close(&a.node);
	free(a.cfg.data_dir);
	a.cfg.data_dir = strdup(copy);
	before = store_bytes(copy, &before_len);
	assert_int_equal(node_open_to_verify(&a.node, &a.cfg, text,
	    sizeof(text)), 0);
	assert_int_equal(verify_views(&a.node, tmp ? tmp : "/tmp", no_report,
	    NULL, NULL, text, sizeof(text)), 0);
	node_close(&a.node);
	after = store_bytes(copy, &after_len);
	assert_int_equal(after_len, before_len);
	assert_memory_equal(after, before, before_len);
	free(after);
	/* Started for real, the copy takes its marks: it is written. */
	testnode_open(&a);
	node_close(&a.node);
	after = store_bytes(copy, &after_len);
	assert_true(after_len != before_len ||
	    memcmp(after, before, before_len) != 0);
	free(after);
	free(before);
	testnode_free(&a);	/* closed already: closing again is nothing */
}

static void
test_own_fork_stops_writes(void **state)
{
	struct testnode a;
	struct halle_error err;
	struct store_txn t;
	struct feed_head h;
	unsigned char hash[RECORD_HASH_LEN], prev[RECORD_HASH_LEN];
	const void *buf;
	uint8_t *forged;
	size_t len, forged_len;
	struct record r;
	char why[128];

	(void)state;
	testnode_make(&a);
	testnode_open(&a);
	assert_int_equal(write_one(&a, &err), HALLE_OK);
	assert_int_equal(write_one(&a, &err), HALLE_OK);
	/* Another record 2, signed by the same key: a copy of it elsewhere. */
	assert_int_equal(store_read_begin(a.node.store, &t), 0);
	assert_int_equal(feed_get(&t, a.node.key.public_key, 1, &buf, &len),
	    0);
	assert_int_equal(record_parse(&r, buf, len, why, sizeof(why)), 0);
	memcpy(prev, r.hash, sizeof(prev));
	record_free(&r);
	store_read_end(&t);
	assert_int_equal(record_build(&forged, &forged_len, hash,
	    &a.node.key, 2, prev, node_now_ms(&a.node), 1,
	    (const uint8_t *)"x", 1, NULL), 0);
	assert_int_equal(test_offer_one(&a.node, a.node.key.public_key,
	    forged, forged_len), INGEST_FORK);
	free(forged);
	assert_int_equal(node_write_state(&a.node), NODE_OWN_FEED_FORKED);
	assert_int_equal(write_one(&a, &err), HALLE_E_OWN_FEED_FORKED);
	assert_non_null(strstr(err.message, "forked"));
	assert_status(&a, 0, "own_feed_forked");
	/* The proof is in the store: a restart finds the feed forked. */
	testnode_reopen(&a);
	assert_int_equal(node_write_state(&a.node), NODE_OWN_FEED_FORKED);
	assert_int_equal(write_one(&a, &err), HALLE_E_OWN_FEED_FORKED);
	/* Neither a peer's word nor anything else opens it again. */
	assert_int_equal(node_own_feed_whole(&a.node), 0);
	assert_int_equal(node_write_state(&a.node), NODE_OWN_FEED_FORKED);
	assert_int_equal(store_read_begin(a.node.store, &t), 0);
	assert_int_equal(feed_head(&t, a.node.key.public_key, &h), 0);
	store_read_end(&t);
	assert_int_equal(h.seq, 2);
	assert_true(h.flags & FEED_FROZEN);
	testnode_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_node_writes_at_once),
		cmocka_unit_test(test_identity_makes_the_genesis_mark),
		cmocka_unit_test(test_lost_store_waits),
		cmocka_unit_test(test_lost_store_without_peers),
		cmocka_unit_test(test_backup_waits_for_a_peer),
		cmocka_unit_test(test_own_fork_stops_writes),
		cmocka_unit_test(test_verify_writes_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
