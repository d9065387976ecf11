/*
 * test_ingest: taking in runs of another node's records. Two real nodes in
 * temporary directories: A writes its own feed through the service layer,
 * B takes in runs copied from A's store, whole, partial, tampered, forked.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "testapi.h"
#include "testutil.h"
#include <sodium.h>

#include "feed.h"
#include "ids.h"
#include "ingest.h"
#include "record.h"
#include "service.h"
#include "views.h"

static void
open_node(struct scratch_node *tn, const char *name)
{
	assert_int_equal(scratch_node_open(tn, name, NULL), 0);
}

/* A writes n producers: n records in its feed. */
static void
write_producers(struct scratch_node *a, int n)
{
	struct halle_error err;
	char name[32];
	json_t *req, *ans;
	int i;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "Ferme %d", i);
		req = json_pack("{s:s}", "name", name);
		ans = testapi_producer_add(&a->node, req, &err);
		assert_non_null(ans);
		json_decref(ans);
		json_decref(req);
	}
}

/* Copies records [from, to] of A's feed into malloc'd buffers. */
static struct ingest_bytes *
copy_run(struct scratch_node *a, uint64_t from, uint64_t to)
{
	struct ingest_bytes *run = calloc(to - from + 1, sizeof(*run));
	struct store_txn t;
	const void *buf;
	size_t len;
	uint64_t s;

	assert_int_equal(store_read_begin(a->node.store, &t), 0);
	for (s = from; s <= to; s++) {
		assert_int_equal(feed_get(&t, a->node.key.public_key, s, &buf,
		    &len), 0);
		uint8_t *copy = malloc(len);
		memcpy(copy, buf, len);
		run[s - from].data = copy;
		run[s - from].len = len;
	}
	store_read_end(&t);
	return run;
}

static void
free_run(struct ingest_bytes *run, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free((void *)run[i].data);
	free(run);
}

struct offer {
	const unsigned char		*origin;
	const struct ingest_bytes	*run;
	size_t				 n;
	struct ingest_report		 rep;
};

static int
offer_op(struct node_txn *nt, void *arg)
{
	struct offer *o = arg;

	return ingest_run(nt, o->origin, o->run, o->n, &o->rep);
}

static struct ingest_report
offer(struct scratch_node *b, struct scratch_node *a, const struct ingest_bytes *run,
    size_t n)
{
	struct offer o = { a->node.key.public_key, run, n, { 0 } };
	struct halle_error err;

	assert_int_equal(node_mutate(&b->node, offer_op, &o, &err), 0);
	return o.rep;
}

static struct feed_head
head_of(struct scratch_node *holder, struct scratch_node *origin)
{
	struct feed_head h;
	struct store_txn t;

	assert_int_equal(store_read_begin(holder->node.store, &t), 0);
	assert_int_equal(feed_head(&t, origin->node.key.public_key, &h), 0);
	store_read_end(&t);
	return h;
}

static void
test_whole_then_more(void **state)
{
	struct scratch_node a, b;
	struct ingest_bytes *run;
	struct ingest_report rep;
	struct halle_error err;
	json_t *list;

	open_node(&a, "commune-a");
	open_node(&b, "commune-b");
	write_producers(&a, 10);
	run = copy_run(&a, 1, 6);
	rep = offer(&b, &a, run, 6);
	assert_int_equal(rep.result, INGEST_OK);
	assert_int_equal(rep.accepted, 6);
	assert_int_equal(head_of(&b, &a).seq, 6);
	/* The same run again changes nothing. */
	rep = offer(&b, &a, run, 6);
	assert_int_equal(rep.result, INGEST_OK);
	assert_int_equal(rep.accepted, 0);
	free_run(run, 6);
	/* An overlapping run adds only what is new. */
	run = copy_run(&a, 4, 10);
	rep = offer(&b, &a, run, 7);
	assert_int_equal(rep.result, INGEST_OK);
	assert_int_equal(rep.accepted, 4);
	free_run(run, 7);
	/* B's views hold A's producers; B's copy is byte-identical. */
	list = service_producer_list(&b.node, &err);
	assert_int_equal(json_array_size(list), 10);
	json_decref(list);
	assert_memory_equal(head_of(&b, &a).hash, head_of(&a, &a).hash,
	    RECORD_HASH_LEN);
	struct store_txn t;
	char why[256];
	assert_int_equal(store_read_begin(b.node.store, &t), 0);
	assert_int_equal(feed_verify(&t, a.node.key.public_key, why,
	    sizeof(why)), 0);
	store_read_end(&t);
	scratch_node_close(&a);
	scratch_node_close(&b);
}

static void
test_gap(void **state)
{
	struct scratch_node a, b;
	struct ingest_bytes *run;
	struct ingest_report rep;

	open_node(&a, "commune-a");
	open_node(&b, "commune-b");
	write_producers(&a, 5);
	run = copy_run(&a, 3, 5);
	rep = offer(&b, &a, run, 3);
	assert_int_equal(rep.result, INGEST_GAP);
	assert_int_equal(head_of(&b, &a).seq, 0);
	free_run(run, 3);
	scratch_node_close(&a);
	scratch_node_close(&b);
}

/* Every single flipped bit in a run is refused, and nothing is stored. */
static void
test_tampered(void **state)
{
	struct scratch_node a, b;
	struct ingest_bytes *run;
	struct ingest_report rep;
	size_t rec, byte;
	int bit;

	open_node(&a, "commune-a");
	open_node(&b, "commune-b");
	write_producers(&a, 3);
	run = copy_run(&a, 1, 3);
	for (rec = 0; rec < 3; rec++) {
		uint8_t *p = (uint8_t *)run[rec].data;

		for (byte = 0; byte < run[rec].len; byte++) {
			for (bit = 0; bit < 8; bit += 3) {
				p[byte] ^= (uint8_t)(1u << bit);
				rep = offer(&b, &a, run, 3);
				p[byte] ^= (uint8_t)(1u << bit);
				if (rep.result == INGEST_OK) {
					print_error("record %zu byte %zu bit %d "
					    "accepted\n", rec, byte, bit);
					fail();
				}
				assert_int_equal(head_of(&b, &a).seq, 0);
			}
		}
	}
	/* Untouched, it is accepted. */
	rep = offer(&b, &a, run, 3);
	assert_int_equal(rep.result, INGEST_OK);
	assert_int_equal(rep.accepted, 3);
	free_run(run, 3);
	scratch_node_close(&a);
	scratch_node_close(&b);
}

static int
count_fork(const unsigned char *origin, uint64_t seq,
    const struct ingest_bytes *held, const struct ingest_bytes *other,
    void *arg)
{
	int *count = arg;

	assert_int_equal(seq, 2);
	assert_true(held->len != other->len ||
	    memcmp(held->data, other->data, held->len) != 0);
	(*count)++;
	return 0;
}

/* A second valid record for a held seq proves a fork: kept, frozen. */
static void
test_fork(void **state)
{
	struct scratch_node a, b;
	struct ingest_bytes *run, forged;
	struct ingest_report rep;
	struct feed_head h1;
	struct store_txn t;
	unsigned char hash[RECORD_HASH_LEN];
	uint8_t *buf;
	size_t len;
	int forks = 0;

	open_node(&a, "commune-a");
	open_node(&b, "commune-b");
	write_producers(&a, 3);
	run = copy_run(&a, 1, 3);
	rep = offer(&b, &a, run, 3);
	assert_int_equal(rep.result, INGEST_OK);
	h1 = head_of(&a, &a);
	(void)h1;
	/* A signs another record 2 with the right prev: a fork. */
	struct record r1;
	char why[128];
	assert_int_equal(record_parse(&r1, run[0].data, run[0].len, why,
	    sizeof(why)), 0);
	assert_int_equal(record_build(&buf, &len, hash, &a.node.key, 2,
	    r1.hash, 12345, HALLE__RECORD_KIND__RECORD_KIND_PRODUCER,
	    (const uint8_t *)"", 0, NULL), 0);
	record_free(&r1);
	forged.data = buf;
	forged.len = len;
	rep = offer(&b, &a, &forged, 1);
	assert_int_equal(rep.result, INGEST_FORK);
	assert_true(head_of(&b, &a).flags & FEED_FROZEN);
	assert_int_equal(store_read_begin(b.node.store, &t), 0);
	assert_int_equal(ingest_forks(&t, count_fork, &forks), 0);
	store_read_end(&t);
	assert_int_equal(forks, 1);
	/* Frozen: nothing more is taken in. */
	rep = offer(&b, &a, run, 3);
	assert_int_equal(rep.result, INGEST_FROZEN);
	free(buf);
	free_run(run, 3);
	scratch_node_close(&a);
	scratch_node_close(&b);
}

struct proof_offer {
	const struct ingest_bytes	*first, *second;
	struct ingest_report		 rep;
};

static int
proof_op(struct node_txn *nt, void *arg)
{
	struct proof_offer *o = arg;

	return ingest_fork_proof(nt, o->first, o->second, &o->rep);
}

static struct ingest_report
offer_proof(struct scratch_node *b, const struct ingest_bytes *first,
    const struct ingest_bytes *second)
{
	struct proof_offer o = { first, second, { 0 } };
	struct halle_error err;

	node_mutate(&b->node, proof_op, &o, &err);
	return o.rep;
}

/*
 * A proof from a peer, of a fork at a seq B has not reached yet: B keeps
 * it, takes A's feed in up to the record before the fork, then freezes it.
 * A proof that is not one (the same record twice, records of two seqs) is
 * refused and changes nothing.
 */
static void
test_fork_proof_from_a_peer(void **state)
{
	struct scratch_node a, b;
	struct ingest_bytes *run, forged;
	struct ingest_report rep;
	struct record r3;
	unsigned char hash[RECORD_HASH_LEN];
	uint8_t *buf;
	size_t len;
	char why[128];

	open_node(&a, "commune-a");
	open_node(&b, "commune-b");
	write_producers(&a, 5);
	run = copy_run(&a, 1, 5);
	assert_int_equal(offer(&b, &a, run, 2).result, INGEST_OK);
	/* Another record 4 that A signed. */
	assert_int_equal(record_parse(&r3, run[2].data, run[2].len, why,
	    sizeof(why)), 0);
	assert_int_equal(record_build(&buf, &len, hash, &a.node.key, 4,
	    r3.hash, 12345, HALLE__RECORD_KIND__RECORD_KIND_PRODUCER,
	    (const uint8_t *)"", 0, NULL), 0);
	record_free(&r3);
	forged.data = buf;
	forged.len = len;

	rep = offer_proof(&b, &run[0], &run[0]);
	assert_int_equal(rep.result, INGEST_BAD);
	rep = offer_proof(&b, &run[0], &forged);
	assert_int_equal(rep.result, INGEST_BAD);
	rep = offer_proof(&b, &run[3], &forged);
	assert_int_equal(rep.result, INGEST_FORK);
	assert_false(head_of(&b, &a).flags & FEED_FROZEN);
	rep = offer_proof(&b, &forged, &run[3]);
	assert_int_equal(rep.result, INGEST_FROZEN);	/* known already */

	/* Records 3..5 come: 3 is taken, then the feed is frozen. */
	rep = offer(&b, &a, &run[2], 3);
	assert_int_equal(rep.result, INGEST_OK);
	assert_int_equal(rep.accepted, 1);
	assert_int_equal(head_of(&b, &a).seq, 3);
	assert_true(head_of(&b, &a).flags & FEED_FROZEN);
	assert_int_equal(offer(&b, &a, &run[3], 2).result, INGEST_FROZEN);
	free(buf);
	free_run(run, 5);
	scratch_node_close(&a);
	scratch_node_close(&b);
}

/* A record of the right shape signed by another key is refused. */
static void
test_wrong_signer(void **state)
{
	struct scratch_node a, b, c;
	struct ingest_bytes one;
	struct ingest_report rep;
	struct node_key forger;
	unsigned char hash[RECORD_HASH_LEN];
	uint8_t *buf;
	size_t len;

	open_node(&a, "commune-a");
	open_node(&b, "commune-b");
	open_node(&c, "commune-c");
	forger = c.node.key;
	memcpy(forger.public_key, a.node.key.public_key, KEY_PUBLIC_LEN);
	assert_int_equal(record_build(&buf, &len, hash, &forger, 1, NULL, 1,
	    HALLE__RECORD_KIND__RECORD_KIND_PRODUCER, (const uint8_t *)"", 0, NULL),
	    0);
	one.data = buf;
	one.len = len;
	rep = offer(&b, &a, &one, 1);
	assert_int_equal(rep.result, INGEST_BAD);
	assert_non_null(strstr(rep.reason, "signature"));
	assert_int_equal(head_of(&b, &a).seq, 0);
	free(buf);
	scratch_node_close(&a);
	scratch_node_close(&b);
	scratch_node_close(&c);
}

/* B writes a Producer record under an id A made. */
static int
squat_op(struct node_txn *nt, void *arg)
{
	Halle__Producer p = HALLE__PRODUCER__INIT;

	p.id = arg;
	p.version = 7;
	p.name = "Ferme du Moulin (copie)";
	return node_append(nt, HALLE__RECORD_KIND__RECORD_KIND_PRODUCER,
	    &p.base);
}

static void
test_id_claimed_by_another_node(void **state)
{
	struct scratch_node a, b, c;
	struct halle_error err;
	json_t *req, *ans, *status;
	char id[ID_MAX];

	open_node(&a, "commune-a");
	open_node(&b, "commune-b");
	open_node(&c, "commune-c");
	req = json_pack("{s:s}", "name", "Ferme du Moulin");
	ans = testapi_producer_add(&a.node, req, &err);
	assert_non_null(ans);
	snprintf(id, sizeof(id), "%s",
	    json_string_value(json_object_get(ans, "id")));
	json_decref(ans);
	json_decref(req);
	/* The id names its owner: a's key and the seq of its record. */
	assert_true(ids_bound_check(id, "pr", a.node.key.public_key, 1));
	assert_false(ids_bound_check(id, "pr", b.node.key.public_key, 1));
	/* b copies it into its own feed; c hears b first, then a. */
	assert_int_equal(node_mutate(&b.node, squat_op, id, &err), 0);
	assert_int_equal(scratch_node_carry(&b, &c), 1);
	assert_int_equal(scratch_node_carry(&a, &c), 1);
	ans = service_producer_show(&c.node, id, &err);
	assert_non_null(ans);
	assert_string_equal(json_string_value(json_object_get(ans, "name")),
	    "Ferme du Moulin");
	assert_string_equal(json_string_value(json_object_get(ans, "home")),
	    a.node.id_hex);
	json_decref(ans);
	status = service_status(&c.node, &err);
	assert_non_null(status);
	assert_int_equal(json_integer_value(json_object_get(status,
	    "ids_claimed")), 1);
	json_decref(status);
	scratch_node_close(&a);
	scratch_node_close(&b);
	scratch_node_close(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_then_more),
		cmocka_unit_test(test_gap),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_fork),
		cmocka_unit_test(test_fork_proof_from_a_peer),
		cmocka_unit_test(test_wrong_signer),
		cmocka_unit_test(test_id_claimed_by_another_node),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
