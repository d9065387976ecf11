/*
 * make_corpus: writes the seed corpora of the fuzz targets.
 *
 *   make_corpus DIR    writes DIR/record/ (fuzz_record) and DIR/peer/
 *                      (fuzz_peer), creating the directories
 *
 * Seeds are valid inputs, so the fuzzers start from deep in the code:
 *
 *   record/  single envelopes signed with a fresh key; runs of envelopes
 *            (fuzz_common.h's length-prefixed format) of a fresh key, and
 *            of the fixed origin fuzz_record offers runs of, signed by
 *            another key (they pass every check but the signature)
 *   peer/    one encoded PeerMessage each, from "fuzz-peer" with the
 *            sessions the engine of fuzz_peer expects: HELLO, HEADS,
 *            PULL, RECORDS of the peer's feed (validly signed), ACK,
 *            PING, PONG, REFUSE
 *
 * The seeds differ from one run to the next (fresh keys, times): that is
 * fine, any valid input will do.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "bodies.pb-c.h"
#include "fuzz_common.h"
#include "ids.h"
#include "peer.pb-c.h"
#include "record.h"
#include "sync.h"

#define CHAIN_LEN	5

/* A feed of CHAIN_LEN records: envelopes and hashes. */
struct chain {
	uint8_t		*env[CHAIN_LEN];
	size_t		 len[CHAIN_LEN];
	unsigned char	 hash[CHAIN_LEN][RECORD_HASH_LEN];
};

static void __attribute__((noreturn))
die(const char *what)
{
	fprintf(stderr, "make_corpus: %s\n", what);
	exit(1);
}

static void
make_dir(const char *path)
{
	if (mkdir(path, 0755) == -1 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
}

static void
write_seed(const char *dir, const char *name, const uint8_t *buf, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/*
 * Builds the first CHAIN_LEN records of the feed of signer (whose public
 * key is the origin named): producers, each record chained to the one
 * before.
 */
static void
chain_build(struct chain *c, const struct node_key *signer)
{
	Halle__Producer p = HALLE__PRODUCER__INIT;
	char id[16], name[32];
	uint8_t body[256];
	size_t body_len, i;

	for (i = 0; i < CHAIN_LEN; i++) {
		ids_bound(id, "pr", signer->public_key, i + 1);
		snprintf(name, sizeof(name), "Ferme %zu", i + 1);
		p.id = id;
		p.version = 1;
		p.name = name;
		p.town = (char *)"Saint-Jean";
		if (halle__producer__get_packed_size(&p) > sizeof(body))
			die("producer body too large");
		body_len = halle__producer__pack(&p, body);
		if (record_build(&c->env[i], &c->len[i], c->hash[i], signer,
		    i + 1, i ? c->hash[i - 1] : NULL,
		    1764300000000 + (int64_t)i * 1000,
		    HALLE__RECORD_KIND__RECORD_KIND_PRODUCER, body,
		    body_len, NULL) == -1)
			die("record_build failed");
	}
}

static void
chain_free(struct chain *c)
{
	size_t i;

	for (i = 0; i < CHAIN_LEN; i++)
		free(c->env[i]);
}

/* Writes records [from, from + n) of c (0-based) as a run seed. */
static void
write_run(const char *dir, const char *name, const struct chain *c,
    size_t from, size_t n)
{
	struct ingest_bytes run[FUZZ_RUN_MAX];
	uint8_t *buf;
	size_t i, len;

	for (i = 0; i < n; i++) {
		run[i].data = c->env[from + i];
		run[i].len = c->len[from + i];
	}
	if (fuzz_join_run(&buf, &len, run, n) == -1)
		die("cannot join a run");
	write_seed(dir, name, buf, len);
	free(buf);
}

static void
record_corpus(const char *dir)
{
	struct node_key fresh, forger, origin;
	struct chain c;

	crypto_sign_keypair(fresh.public_key, fresh.secret_key);
	chain_build(&c, &fresh);
	write_seed(dir, "envelope-seq1", c.env[0], c.len[0]);
	write_seed(dir, "envelope-seq2", c.env[1], c.len[1]);
	write_run(dir, "run-fresh-1-3", &c, 0, 3);
	chain_free(&c);

	/* The fixed origin's feed, signed by someone else. */
	fuzz_key(&origin, "fuzz-origin");
	crypto_sign_keypair(forger.public_key, forger.secret_key);
	memcpy(forger.public_key, origin.public_key, KEY_PUBLIC_LEN);
	chain_build(&c, &forger);
	write_run(dir, "run-origin-1", &c, 0, 1);
	write_run(dir, "run-origin-1-4", &c, 0, 4);
	write_run(dir, "run-origin-3-5", &c, 2, 3);
	chain_free(&c);
}

/* Encodes m from the peer, with the sessions of fuzz_common.h. */
static void
write_message(const char *dir, const char *name, Halle__PeerMessage *m)
{
	uint8_t *buf;
	size_t len;

	m->session = FUZZ_PEER_SESSION;
	m->peer_session = FUZZ_ENGINE_SESSION;
	len = halle__peer_message__get_packed_size(m);
	if ((buf = malloc(len ? len : 1)) == NULL)
		die("out of memory");
	halle__peer_message__pack(m, buf);
	write_seed(dir, name, buf, len);
	free(buf);
}

static void
write_records(const char *dir, const char *name, const struct chain *c,
    const struct node_key *origin, size_t from, size_t n)
{
	Halle__PeerMessage m = HALLE__PEER_MESSAGE__INIT;
	Halle__Records r = HALLE__RECORDS__INIT;
	ProtobufCBinaryData env[CHAIN_LEN];
	size_t i;

	for (i = 0; i < n; i++) {
		env[i].data = c->env[from + i];
		env[i].len = c->len[from + i];
	}
	r.origin.data = (uint8_t *)origin->public_key;
	r.origin.len = KEY_PUBLIC_LEN;
	r.first_seq = from + 1;
	r.envelopes = env;
	r.n_envelopes = n;
	r.head_seq = CHAIN_LEN;
	m.body_case = HALLE__PEER_MESSAGE__BODY_RECORDS;
	m.records = &r;
	write_message(dir, name, &m);
}

static void
write_hello(const char *dir, const struct node_key *peer)
{
	Halle__PeerMessage m = HALLE__PEER_MESSAGE__INIT;
	Halle__Hello h = HALLE__HELLO__INIT;
	uint8_t *buf;
	size_t len;

	if (fuzz_peer_hello(&buf, &len) == -1)
		die("out of memory");
	write_seed(dir, "hello", buf, len);
	free(buf);
	/* A first HELLO, before the peer heard the engine's. */
	h.version = SYNC_PROTOCOL_VERSION;
	h.min_version = SYNC_PROTOCOL_VERSION;
	h.node.data = (uint8_t *)peer->public_key;
	h.node.len = KEY_PUBLIC_LEN;
	h.name = (char *)"fuzz-peer";
	m.body_case = HALLE__PEER_MESSAGE__BODY_HELLO;
	m.hello = &h;
	m.session = FUZZ_PEER_SESSION;
	len = halle__peer_message__get_packed_size(&m);
	if ((buf = malloc(len)) == NULL)
		die("out of memory");
	halle__peer_message__pack(&m, buf);
	write_seed(dir, "hello-first", buf, len);
	free(buf);
}

static void
write_heads(const char *dir, const struct chain *c,
    const struct node_key *peer, const struct node_key *node)
{
	Halle__PeerMessage m = HALLE__PEER_MESSAGE__INIT;
	Halle__Heads heads = HALLE__HEADS__INIT;
	Halle__FeedHead h[2] = { HALLE__FEED_HEAD__INIT, HALLE__FEED_HEAD__INIT };
	Halle__FeedHead *list[2] = { &h[0], &h[1] };

	h[0].origin.data = (uint8_t *)peer->public_key;
	h[0].origin.len = KEY_PUBLIC_LEN;
	h[0].seq = CHAIN_LEN;
	h[0].hash.data = (uint8_t *)c->hash[CHAIN_LEN - 1];
	h[0].hash.len = RECORD_HASH_LEN;
	h[1].origin.data = (uint8_t *)node->public_key;
	h[1].origin.len = KEY_PUBLIC_LEN;
	heads.heads = list;
	heads.n_heads = 2;
	m.body_case = HALLE__PEER_MESSAGE__BODY_HEADS;
	m.heads = &heads;
	write_message(dir, "heads", &m);
}

static void
write_pull(const char *dir, const char *name, const struct node_key *origin,
    uint64_t from_seq)
{
	Halle__PeerMessage m = HALLE__PEER_MESSAGE__INIT;
	Halle__Pull pull = HALLE__PULL__INIT;

	pull.origin.data = (uint8_t *)origin->public_key;
	pull.origin.len = KEY_PUBLIC_LEN;
	pull.from_seq = from_seq;
	pull.max_records = SYNC_WINDOW;
	m.body_case = HALLE__PEER_MESSAGE__BODY_PULL;
	m.pull = &pull;
	write_message(dir, name, &m);
}

static void
write_ack(const char *dir, const struct node_key *origin)
{
	Halle__PeerMessage m = HALLE__PEER_MESSAGE__INIT;
	Halle__Ack ack = HALLE__ACK__INIT;

	ack.origin.data = (uint8_t *)origin->public_key;
	ack.origin.len = KEY_PUBLIC_LEN;
	ack.seq = 0;
	ack.window = SYNC_WINDOW;
	m.body_case = HALLE__PEER_MESSAGE__BODY_ACK;
	m.ack = &ack;
	write_message(dir, "ack", &m);
}

static void
write_ping_pong_refuse(const char *dir)
{
	Halle__PeerMessage m = HALLE__PEER_MESSAGE__INIT;
	Halle__Ping ping = HALLE__PING__INIT;
	Halle__Pong pong = HALLE__PONG__INIT;
	Halle__Refuse refuse = HALLE__REFUSE__INIT;
	uint8_t digest[32] = { 0 };

	ping.time_ms = 1764300000000;
	ping.heads_digest.data = digest;
	ping.heads_digest.len = sizeof(digest);
	m.body_case = HALLE__PEER_MESSAGE__BODY_PING;
	m.ping = &ping;
	write_message(dir, "ping", &m);

	pong.time_ms = 1000;
	pong.heads_digest.data = digest;
	pong.heads_digest.len = sizeof(digest);
	m.body_case = HALLE__PEER_MESSAGE__BODY_PONG;
	m.pong = &pong;
	write_message(dir, "pong", &m);

	refuse.code = HALLE__REFUSE_CODE__REFUSE_CODE_VERSION;
	refuse.text = (char *)"fuzz-peer speaks protocol versions 2..2";
	refuse.version = 2;
	refuse.min_version = 2;
	m.body_case = HALLE__PEER_MESSAGE__BODY_REFUSE;
	m.refuse = &refuse;
	write_message(dir, "refuse", &m);
}

/*
 * A FORK_PROOF of the peer's feed: its record 2 of c and another record 2
 * it signed (a forked chain, built from 2 on with other bodies).
 */
static void
write_fork_proof(const char *dir, const struct chain *c,
    const struct node_key *peer)
{
	Halle__PeerMessage m = HALLE__PEER_MESSAGE__INIT;
	Halle__ForkProof proof = HALLE__FORK_PROOF__INIT;
	unsigned char hash[RECORD_HASH_LEN];
	uint8_t *other;
	size_t len;

	if (record_build(&other, &len, hash, peer, 2, c->hash[0],
	    1764300000500, HALLE__RECORD_KIND__RECORD_KIND_PRODUCER,
	    (const uint8_t *)"", 0, NULL) == -1)
		die("record_build failed");
	proof.first.data = c->env[1];
	proof.first.len = c->len[1];
	proof.second.data = other;
	proof.second.len = len;
	m.body_case = HALLE__PEER_MESSAGE__BODY_FORK_PROOF;
	m.fork_proof = &proof;
	write_message(dir, "fork-proof", &m);
	free(other);
}

static void
peer_corpus(const char *dir)
{
	struct node_key peer, node;
	struct chain c;

	fuzz_key(&peer, "fuzz-peer");
	fuzz_key(&node, "fuzz-node");
	chain_build(&c, &peer);
	write_hello(dir, &peer);
	write_heads(dir, &c, &peer, &node);
	write_pull(dir, "pull-own", &node, 1);
	write_pull(dir, "pull-peer", &peer, 1);
	write_records(dir, "records-1-3", &c, &peer, 0, 3);
	write_records(dir, "records-3-5", &c, &peer, 2, 3);
	write_records(dir, "records-empty", &c, &peer, 0, 0);
	write_ack(dir, &node);
	write_ping_pong_refuse(dir);
	write_fork_proof(dir, &c, &peer);
	chain_free(&c);
}

int
main(int argc, char **argv)
{
	char path[400];

	if (argc != 2 || strlen(argv[1]) > 256) {
		fprintf(stderr, "usage: make_corpus DIR\n");
		return 2;
	}
	if (sodium_init() < 0)
		die("sodium_init failed");
	make_dir(argv[1]);
	snprintf(path, sizeof(path), "%s/record", argv[1]);
	make_dir(path);
	record_corpus(path);
	snprintf(path, sizeof(path), "%s/peer", argv[1]);
	make_dir(path);
	peer_corpus(path);
	return 0;
}
