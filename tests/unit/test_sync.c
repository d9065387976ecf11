/*
 * test_sync: the sync engine between real nodes, with messages passed by
 * hand (no network, no faults: tests/sim does those). A and B share a
 * grouping, B and C another: C is B's peer but shares nothing with A.
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

#include "feed.h"
#include "ids.h"
#include "ingest.h"
#include "record.h"
#include "peer.pb-c.h"
#include "service.h"
#include "sync.h"

enum { A, B, C, NNODES };

struct syncnode {
	char			 dir[512];
	struct halle_config	 cfg;
	struct node		 node;
	struct sync		*sync;
	int			 peer_node[NNODES];	/* peer index -> node */
	int			 npeers;
};

static struct syncnode nodes[NNODES];
static int64_t now_ms = 1000;

static void
syncnode_open(struct syncnode *tn, const char *name)
{
	char err[256];

	assert_int_equal(make_temp_dir(tn->dir, sizeof(tn->dir), "halle-sync"),
	    0);
	assert_int_equal(test_node_config(&tn->cfg, tn->dir, name, 16 << 20),
	    0);
	assert_int_equal(node_open(&tn->node, &tn->cfg, err, sizeof(err)), 0);
}

/* Two groupings: "ab" of A and B, "bc" of B and C. */
static const int groupings[2][NNODES] = { { 1, 1, 0 }, { 0, 1, 1 } };

/* Starts the engine of node i with the peers given and its groupings. */
static void
start(int i, const int *peers, int npeers)
{
	struct syncnode *tn = &nodes[i];
	struct sync_peer_config pc[NNODES];
	unsigned char keys[2][NNODES][KEY_PUBLIC_LEN];
	struct sync_grouping_config g[2];
	struct sync_config cfg;
	int k, n, m;

	memset(&cfg, 0, sizeof(cfg));
	memset(pc, 0, sizeof(pc));
	for (k = 0; k < npeers; k++) {
		snprintf(pc[k].name, sizeof(pc[k].name), "%s",
		    nodes[peers[k]].cfg.name);
		memcpy(pc[k].key, nodes[peers[k]].node.key.public_key,
		    KEY_PUBLIC_LEN);
		tn->peer_node[k] = peers[k];
	}
	tn->npeers = npeers;
	memset(g, 0, sizeof(g));
	for (k = n = 0; k < 2; k++) {
		if (!groupings[k][i])
			continue;
		strcpy(g[n].name, k ? "bc" : "ab");
		g[n].members = (const unsigned char (*)[KEY_PUBLIC_LEN])keys[n];
		for (m = 0; m < NNODES; m++)
			if (m != i && groupings[k][m])
				memcpy(keys[n][g[n].nmembers++],
				    nodes[m].node.key.public_key,
				    KEY_PUBLIC_LEN);
		n++;
	}
	cfg.peers = pc;
	cfg.npeers = (size_t)npeers;
	cfg.groupings = g;
	cfg.ngroupings = (size_t)n;
	cfg.heartbeat_ms = 1000;
	cfg.session = 100 + (uint64_t)i;
	tn->sync = sync_new(&tn->node, &cfg);
	assert_non_null(tn->sync);
	sync_on_tick(tn->sync, now_ms);
}

static int
peer_index(int i, int j)
{
	int k;

	for (k = 0; k < nodes[i].npeers; k++)
		if (nodes[i].peer_node[k] == j)
			return k;
	return -1;
}

/* Passes every queued message on, until all outboxes are empty. */
static void
exchange(void)
{
	uint8_t *msg;
	size_t len;
	int i, peer, busy = 1, j;

	while (busy) {
		busy = 0;
		for (i = 0; i < NNODES; i++)
			while (nodes[i].sync != NULL &&
			    sync_next_output(nodes[i].sync, &peer, &msg,
			    &len) == 1) {
				j = nodes[i].peer_node[peer];
				sync_on_message(nodes[j].sync, peer_index(j, i),
				    msg, len);
				free(msg);
				busy = 1;
			}
	}
}

static void
tick(int64_t ms)
{
	int i;

	now_ms += ms;
	for (i = 0; i < NNODES; i++)
		if (nodes[i].sync != NULL)
			sync_on_tick(nodes[i].sync, now_ms);
	exchange();
}

static void
write_producers(int i, int n)
{
	static int written;
	struct halle_error err;
	char name[32];
	json_t *req, *ans;
	int k;

	for (k = 0; k < n; k++) {
		snprintf(name, sizeof(name), "Ferme %d", written++);
		req = json_pack("{s:s}", "name", name);
		ans = testapi_producer_add(&nodes[i].node, req, &err);
		assert_non_null(ans);
		json_decref(ans);
		json_decref(req);
	}
	sync_local_appended(nodes[i].sync);
}

static struct feed_head
head_at(int holder, int origin)
{
	struct store_txn t;
	struct feed_head h;

	assert_int_equal(store_read_begin(nodes[holder].node.store, &t), 0);
	assert_int_equal(feed_head(&t, nodes[origin].node.key.public_key,
	    &h), 0);
	store_read_end(&t);
	return h;
}

static uint64_t
head(int holder, int origin)
{
	return head_at(holder, origin).seq;
}

static int
frozen(int holder, int origin)
{
	return (head_at(holder, origin).flags & FEED_FROZEN) != 0;
}

static struct sync_peer_stats
stats(int i, int j)
{
	struct sync_peer_stats st;

	assert_int_equal(sync_peer_stats(nodes[i].sync, peer_index(i, j),
	    &st), 0);
	return st;
}

static int
setup(void **state)
{
	static const int a_peers[] = { B }, b_peers[] = { A, C };
	static const int c_peers[] = { B };

	syncnode_open(&nodes[A], "a");
	syncnode_open(&nodes[B], "b");
	syncnode_open(&nodes[C], "c");
	start(A, a_peers, 1);
	start(B, b_peers, 2);
	start(C, c_peers, 1);
	return 0;
}

static int
teardown(void **state)
{
	int i;

	for (i = 0; i < NNODES; i++) {
		sync_destroy(&nodes[i].sync);
		node_close(&nodes[i].node);
		config_free(&nodes[i].cfg);
		remove_tree(nodes[i].dir);
	}
	return 0;
}

/* More than a window of records crosses; then one more goes live. */
static void
test_catch_up_and_push(void **state)
{
	struct sync_peer_stats st;

	write_producers(A, 100);
	sync_on_connect(nodes[A].sync, 0);
	sync_on_connect(nodes[B].sync, peer_index(B, A));
	exchange();
	assert_int_equal(stats(A, B).state, SYNC_UP);
	assert_int_equal(stats(B, A).state, SYNC_UP);
	assert_int_equal(head(B, A), 100);
	assert_int_equal(stats(B, A).records_in, 100);
	assert_true(stats(A, B).records_out >= 100);

	write_producers(A, 1);		/* no tick: pushed at once */
	exchange();
	assert_int_equal(head(B, A), 101);

	tick(1000);			/* a heartbeat: PING, PONG */
	st = stats(A, B);
	assert_int_equal(st.lag_in, 0);
	assert_int_equal(st.lag_out, 0);
	assert_true(st.rtt_ms >= 0);
	assert_int_equal(st.rejected, 0);
	assert_int_equal(st.version, SYNC_PROTOCOL_VERSION);
}

/* A writes n catalogue versions of about 200 KB each. */
static void
write_big_catalogues(int i, int n)
{
	struct halle_error err;
	json_t *req, *ans, *products;
	char producer[ID_MAX], sku[32], name[128];
	int k, j;

	req = json_pack("{s:s}", "name", "Grande Ferme");
	ans = testapi_producer_add(&nodes[i].node, req, &err);
	assert_non_null(ans);
	snprintf(producer, sizeof(producer), "%s",
	    json_string_value(json_object_get(ans, "id")));
	json_decref(ans);
	json_decref(req);
	for (k = 0; k < n; k++) {
		products = json_array();
		for (j = 0; j < 1800; j++) {
			snprintf(sku, sizeof(sku), "SKU-%d-%d", k, j);
			snprintf(name, sizeof(name), "Produit %d de la "
			    "version %d, un nom assez long pour peser", j, k);
			json_array_append_new(products, json_pack("{s:s, s:s, "
			    "s:i}", "sku", sku, "name", name, "price_cents",
			    100 + j));
		}
		req = json_pack("{s:o}", "products", products);
		ans = testapi_catalogue_publish(&nodes[i].node, producer, req,
		    &err);
		assert_non_null(ans);
		json_decref(ans);
		json_decref(req);
	}
}

/*
 * Like exchange(), but RECORDS from `from` to `to` are held back rather
 * than delivered; returns the bytes held. What a sender has in flight is
 * bounded in bytes, not only in records.
 */
static size_t
exchange_holding(int from, int to, uint8_t **held, size_t *held_len,
    int *nheld, int max)
{
	Halle__PeerMessage *pm;
	uint8_t *msg;
	size_t len, bytes = 0;
	int i, peer, busy = 1, j, records;

	while (busy) {
		busy = 0;
		for (i = 0; i < NNODES; i++)
			while (nodes[i].sync != NULL &&
			    sync_next_output(nodes[i].sync, &peer, &msg,
			    &len) == 1) {
				j = nodes[i].peer_node[peer];
				pm = halle__peer_message__unpack(NULL, len, msg);
				records = pm != NULL && pm->body_case ==
				    HALLE__PEER_MESSAGE__BODY_RECORDS &&
				    pm->records->n_envelopes > 0;
				if (pm != NULL)
					halle__peer_message__free_unpacked(pm,
					    NULL);
				busy = 1;
				if (i == from && j == to && records &&
				    *nheld < max) {
					held[*nheld] = msg;
					held_len[(*nheld)++] = len;
					bytes += len;
					continue;
				}
				sync_on_message(nodes[j].sync, peer_index(j, i),
				    msg, len);
				free(msg);
			}
	}
	return bytes;
}

/* The bytes of the records in the RECORDS messages held. */
static size_t
bytes_of_records(uint8_t **held, const size_t *held_len, int nheld)
{
	Halle__PeerMessage *pm;
	size_t bytes = 0, i;
	int k;

	for (k = 0; k < nheld; k++) {
		pm = halle__peer_message__unpack(NULL, held_len[k], held[k]);
		assert_non_null(pm);
		for (i = 0; i < pm->records->n_envelopes; i++)
			bytes += pm->records->envelopes[i].len;
		halle__peer_message__free_unpacked(pm, NULL);
	}
	return bytes;
}

static void
test_catch_up_bounded_in_bytes(void **state)
{
	uint8_t *held[64];
	size_t held_len[64], bytes;
	uint64_t before = head(B, A);
	int nheld = 0, k;

	write_big_catalogues(A, 40);		/* about 8 MB */
	sync_on_connect(nodes[A].sync, 0);
	sync_on_connect(nodes[B].sync, peer_index(B, A));
	bytes = exchange_holding(A, B, held, held_len, &nheld, 64);
	/* B has taken nothing, so acknowledged nothing: A stopped. */
	assert_int_equal(head(B, A), before);
	assert_true(nheld > 0);
	assert_true(bytes <= SYNC_INFLIGHT_BYTES + 2 * 1024 * 1024);
	/* What the status says is in flight is what was held back. */
	assert_int_equal(stats(A, B).inflight_bytes, bytes_of_records(held,
	    held_len, nheld));
	/* Delivered, they are acknowledged, and the rest comes. */
	for (k = 0; k < nheld; k++) {
		sync_on_message(nodes[B].sync, peer_index(B, A), held[k],
		    held_len[k]);
		free(held[k]);
	}
	exchange();
	assert_int_equal(head(B, A), head(A, A));
	assert_int_equal(stats(A, B).inflight_bytes, 0);
}

/*
 * A backlog taken run by run: B's records to go from A are what A's heads
 * say less what B holds, they fall with every run, and the rate is the
 * records taken over the last samples of the tick.
 */
static void
test_catch_up_progress(void **state)
{
	struct sync_peer_stats st;
	uint8_t *held[64];
	size_t held_len[64];
	uint64_t to_go;
	double taken;
	int nheld = 0, k;

	for (k = 0; k <= SYNC_RATE_SAMPLES; k++)
		tick(SYNC_RATE_SAMPLE_MS);	/* the earlier runs age out */
	st = stats(B, A);
	assert_int_equal(st.to_go, 0);
	assert_true(st.rate == 0);
	assert_int_equal(st.time_left_s, -1);

	sync_on_disconnect(nodes[A].sync, 0);
	sync_on_disconnect(nodes[B].sync, peer_index(B, A));
	write_producers(A, 3000);
	sync_on_connect(nodes[A].sync, 0);
	sync_on_connect(nodes[B].sync, peer_index(B, A));
	exchange_holding(A, B, held, held_len, &nheld, 64);
	assert_true(nheld >= 2);
	/* A's heads came, no run yet. */
	st = stats(B, A);
	assert_int_equal(st.to_go, 3000);
	assert_int_equal(st.lag_in, 3000);
	assert_true(st.rate == 0);
	assert_int_equal(st.time_left_s, -1);

	to_go = st.to_go;
	for (k = 0; k < nheld; k++) {
		sync_on_message(nodes[B].sync, peer_index(B, A), held[k],
		    held_len[k]);
		free(held[k]);
		now_ms += SYNC_RATE_SAMPLE_MS;
		sync_on_tick(nodes[B].sync, now_ms);	/* a sample */
		st = stats(B, A);
		assert_true(st.to_go < to_go);
		to_go = st.to_go;
		/*
		 * 3000 - to_go records since the oldest sample, taken 4 or 5
		 * sample periods ago; the time left rounded up.
		 */
		taken = (double)(3000 - to_go);
		assert_true(st.rate > 0);
		assert_true(st.rate * (SYNC_RATE_SAMPLES - 1) *
		    SYNC_RATE_SAMPLE_MS / 1000 <= taken + 0.001);
		assert_true(st.rate * SYNC_RATE_SAMPLES * SYNC_RATE_SAMPLE_MS /
		    1000 >= taken - 0.001);
		assert_true(st.time_left_s >= (double)to_go / st.rate &&
		    st.time_left_s < (double)to_go / st.rate + 1);
	}
	assert_true(nheld < SYNC_RATE_SAMPLES);	/* all in one window */
	assert_int_equal(to_go, 0);
	exchange();
	assert_int_equal(head(B, A), head(A, A));
	for (k = 0; k <= SYNC_RATE_SAMPLES; k++)
		tick(SYNC_RATE_SAMPLE_MS);
	st = stats(B, A);
	assert_true(st.rate == 0);
	assert_int_equal(st.time_left_s, -1);
}

/* The time left, rounded up and bounded whatever head a peer claims. */
static void
test_time_left(void **state)
{
	assert_int_equal(sync_time_left(0, 0), -1);
	assert_int_equal(sync_time_left(10, 0), -1);
	assert_int_equal(sync_time_left(10, -1), -1);
	assert_int_equal(sync_time_left(0, 2.5), 0);
	assert_int_equal(sync_time_left(10, 2.5), 4);
	assert_int_equal(sync_time_left(11, 2.5), 5);
	assert_int_equal(sync_time_left(UINT64_MAX, 0.1), SYNC_TIME_LEFT_MAX);
	assert_int_equal(sync_time_left(UINT64_MAX, 1e6), SYNC_TIME_LEFT_MAX);
	assert_int_equal(sync_time_left((uint64_t)1 << 62, 1e-300),
	    SYNC_TIME_LEFT_MAX);
}

/* Bad input is counted and said, never fatal. */
static void
test_bad_input(void **state)
{
	static const uint8_t junk[] = { 0xff, 0xff, 0xff, 0xff, 0x0f };
	struct sync_peer_stats st;

	sync_on_message(nodes[B].sync, peer_index(B, A), junk, sizeof(junk));
	st = stats(B, A);
	assert_int_equal(st.rejected, 1);
	assert_non_null(strstr(st.last_error, "does not decode"));
	sync_on_message(nodes[B].sync, peer_index(B, A), junk,
	    SYNC_MAX_MESSAGE + 1);
	assert_int_equal(stats(B, A).rejected, 2);
}

/* C may not see A's feed: B neither tells C of it nor serves it. */
static void
test_grouping_filter(void **state)
{
	Halle__PeerMessage m = HALLE__PEER_MESSAGE__INIT;
	Halle__Pull pull = HALLE__PULL__INIT;
	uint8_t buf[256];
	size_t len;

	sync_on_connect(nodes[B].sync, peer_index(B, C));
	sync_on_connect(nodes[C].sync, 0);
	exchange();
	assert_int_equal(stats(C, B).state, SYNC_UP);
	assert_int_equal(head(C, A), 0);

	/* C asks for A's feed anyway, with the current sessions. */
	pull.origin.data = nodes[A].node.key.public_key;
	pull.origin.len = KEY_PUBLIC_LEN;
	pull.from_seq = 1;
	pull.max_records = 64;
	m.session = 100 + C;
	m.peer_session = 100 + B;
	m.body_case = HALLE__PEER_MESSAGE__BODY_PULL;
	m.pull = &pull;
	len = halle__peer_message__pack(&m, buf);
	sync_on_message(nodes[B].sync, peer_index(B, C), buf, len);
	assert_int_equal(stats(B, C).rejected, 1);
	assert_non_null(strstr(stats(B, C).last_error, "may not see"));
	exchange();
	tick(1000);
	assert_int_equal(head(C, A), 0);
	assert_int_equal(stats(B, C).records_out, 0);
}

/* A node made with its key writes at once, its peers down or not. */
static void
test_new_node_writes_at_once(void **state)
{
	int i;

	tick(5000);
	for (i = 0; i < NNODES; i++)
		assert_true(node_may_write(&nodes[i].node));
}

/*
 * A started from a backup older than its feed: it takes no write while B
 * is down, then pulls its own later records from B, and writes on from
 * there without forking its feed.
 */
static void
test_restored_waits_for_a_peer(void **state)
{
	static const int a_peers[] = { B };
	struct halle_error err;
	char copy[600], reason[512];
	json_t *req, *ans;
	uint64_t before;

	snprintf(copy, sizeof(copy), "%s/backup", nodes[A].dir);
	req = json_pack("{s:s}", "path", copy);
	ans = testapi_backup(&nodes[A].node, req, &err);
	assert_non_null(ans);
	json_decref(ans);
	json_decref(req);
	write_producers(A, 5);
	exchange();
	before = head(B, A);
	assert_int_equal(head(A, A), before);

	/* A restarts from the copy, B being down. */
	sync_destroy(&nodes[A].sync);
	sync_on_disconnect(nodes[B].sync, peer_index(B, A));
	node_close(&nodes[A].node);
	free(nodes[A].cfg.data_dir);
	nodes[A].cfg.data_dir = strdup(copy);
	nodes[A].cfg.peers = calloc(1, sizeof(*nodes[A].cfg.peers));
	nodes[A].cfg.peers[0].name = strdup("b");
	nodes[A].cfg.npeers = 1;
	assert_int_equal(node_open(&nodes[A].node, &nodes[A].cfg, reason,
	    sizeof(reason)), 0);
	start(A, a_peers, 1);
	tick(3000);
	assert_int_equal(node_write_state(&nodes[A].node), NODE_RESTORED);
	assert_int_equal(head(A, A), before - 5);
	assert_true(sync_own_feed_awaits(nodes[A].sync, 0));
	assert_int_equal(node_write_refusal(&nodes[A].node, &err), -1);
	assert_int_equal(err.code, HALLE_E_RECOVERING);
	assert_non_null(strstr(err.message, "one of b"));

	/* B answers: A takes its own records back first, then writes. */
	sync_on_connect(nodes[A].sync, 0);
	sync_on_connect(nodes[B].sync, peer_index(B, A));
	exchange();
	tick(1000);
	assert_int_equal(head(A, A), before);
	assert_true(node_may_write(&nodes[A].node));
	assert_false(sync_own_feed_awaits(nodes[A].sync, 0));
	write_producers(A, 1);
	exchange();
	assert_int_equal(head(B, A), before + 1);
	assert_int_equal(stats(B, A).forks, 0);
	assert_int_equal(stats(A, B).forks, 0);
}

/*
 * A takes in another record B signed for a seq it holds: a fork of B's
 * feed. Its proof goes to B when their link comes up again, and from B to
 * C: the three freeze B's feed, and B takes no more writes.
 */
static void
test_fork_proof_travels(void **state)
{
	struct store_txn t;
	struct halle_error err;
	struct record r;
	const void *buf;
	size_t len, forged_len;
	uint8_t *forged;
	unsigned char hash[RECORD_HASH_LEN];
	char why[128];
	uint64_t seq, rejected = stats(B, A).rejected;

	sync_on_connect(nodes[B].sync, peer_index(B, C));
	sync_on_connect(nodes[C].sync, 0);
	write_producers(B, 3);
	exchange();
	seq = head(B, B);
	assert_int_equal(head(A, B), seq);
	assert_int_equal(head(C, B), seq);
	assert_true(node_may_write(&nodes[B].node));

	/* Another record at B's head, signed with B's key, reaches A. */
	assert_int_equal(store_read_begin(nodes[B].node.store, &t), 0);
	assert_int_equal(feed_get(&t, nodes[B].node.key.public_key, seq,
	    &buf, &len), 0);
	assert_int_equal(record_parse(&r, buf, len, why, sizeof(why)), 0);
	assert_int_equal(record_build(&forged, &forged_len, hash,
	    &nodes[B].node.key, seq, seq > 1 ? r.prev : NULL, r.time_ms + 1,
	    r.kind, (const uint8_t *)"x", 1, NULL), 0);
	record_free(&r);
	store_read_end(&t);
	assert_int_equal(test_offer_one(&nodes[A].node,
	    nodes[B].node.key.public_key, forged, forged_len), INGEST_FORK);
	free(forged);
	assert_true(frozen(A, B));

	/* A's link to B comes up again: A sends its proof on. */
	sync_on_disconnect(nodes[A].sync, 0);
	sync_on_disconnect(nodes[B].sync, peer_index(B, A));
	sync_on_connect(nodes[A].sync, 0);
	sync_on_connect(nodes[B].sync, peer_index(B, A));
	exchange();
	assert_true(frozen(B, B));
	assert_true(frozen(C, B));
	assert_int_equal(node_write_state(&nodes[B].node),
	    NODE_OWN_FEED_FORKED);
	assert_int_equal(stats(B, A).forks, 1);
	assert_int_equal(stats(C, B).forks, 1);
	assert_int_equal(stats(B, A).rejected, rejected);
	/* Nothing more travels once every node holds a proof. */
	tick(1000);
	assert_int_equal(stats(B, A).forks, 1);
	assert_int_equal(stats(C, B).forks, 1);
	assert_int_equal(node_write_refusal(&nodes[B].node, &err), -1);
	assert_int_equal(err.code, HALLE_E_OWN_FEED_FORKED);
}

/* A "proof" of one record twice proves nothing: refused, counted. */
static void
test_fork_proof_checked(void **state)
{
	Halle__PeerMessage m = HALLE__PEER_MESSAGE__INIT;
	Halle__ForkProof proof = HALLE__FORK_PROOF__INIT;
	struct store_txn t;
	const void *buf;
	uint8_t *msg;
	size_t len, mlen;
	uint64_t rejected = stats(B, C).rejected;

	write_producers(C, 1);
	exchange();
	assert_int_equal(store_read_begin(nodes[C].node.store, &t), 0);
	assert_int_equal(feed_get(&t, nodes[C].node.key.public_key, 1, &buf,
	    &len), 0);
	proof.first.data = proof.second.data = (uint8_t *)buf;
	proof.first.len = proof.second.len = len;
	m.session = 100 + C;
	m.peer_session = 100 + B;
	m.body_case = HALLE__PEER_MESSAGE__BODY_FORK_PROOF;
	m.fork_proof = &proof;
	mlen = halle__peer_message__get_packed_size(&m);
	msg = malloc(mlen);
	halle__peer_message__pack(&m, msg);
	store_read_end(&t);
	sync_on_message(nodes[B].sync, peer_index(B, C), msg, mlen);
	free(msg);
	assert_int_equal(stats(B, C).rejected, rejected + 1);
	assert_non_null(strstr(stats(B, C).last_error, "the same record"));
	assert_false(frozen(B, C));
	assert_true(node_may_write(&nodes[C].node));
}

/*
 * C loses its store and comes back with A as its only peer, which shares
 * no grouping with it: no peer may hold C's feed, so nobody has more of
 * it, and C writes at once.
 */
static void
test_no_holder_no_wait(void **state)
{
	static const int c_peers[] = { A };
	char data[600], err[256];

	sync_destroy(&nodes[C].sync);
	node_close(&nodes[C].node);
	snprintf(data, sizeof(data), "%s/data", nodes[C].dir);
	remove_tree(data);
	nodes[C].cfg.peers = calloc(1, sizeof(*nodes[C].cfg.peers));
	nodes[C].cfg.peers[0].name = strdup("a");
	nodes[C].cfg.npeers = 1;
	assert_int_equal(node_open(&nodes[C].node, &nodes[C].cfg, err,
	    sizeof(err)), 0);
	assert_int_equal(node_write_state(&nodes[C].node), NODE_RECOVERING);
	start(C, c_peers, 1);
	assert_true(node_may_write(&nodes[C].node));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_node_writes_at_once),
		cmocka_unit_test(test_catch_up_and_push),
		cmocka_unit_test(test_catch_up_bounded_in_bytes),
		cmocka_unit_test(test_catch_up_progress),
		cmocka_unit_test(test_time_left),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_grouping_filter),
		cmocka_unit_test(test_restored_waits_for_a_peer),
		cmocka_unit_test(test_fork_proof_travels),
		cmocka_unit_test(test_fork_proof_checked),
		cmocka_unit_test(test_no_holder_no_wait),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
