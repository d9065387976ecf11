/*
 * fakepeer: a configured peer that misbehaves on purpose, for the
 * federation integration test (tests/integration/federation.sh).
 *
 *   fakepeer --key FILE --show-id
 *   fakepeer --key FILE --connect ENDPOINT --server-key HEX
 *            (--tamper | --fork) [--name NAME] [--timeout-ms MS]
 *
 * It holds an Ed25519 key of its own (FILE, made on first use as halled
 * makes its key), so that a node can list it as a [peer] in a grouping. It
 * dials the node's listen endpoint with a DEALER as halled does
 * (daemon/peers.c): CURVE, the server's key being the X25519 form of the
 * node's Ed25519 key (HEX, as `halled --show-id` prints it), its own keys
 * the X25519 form of FILE's. It then does the HELLO exchange of
 * docs/protocol.md and sends RECORDS of its own feed:
 *
 *   --tamper  records 1..3, validly chained and signed, but with the last
 *             byte of the last envelope (a byte of its signature) flipped:
 *             the node must refuse the whole run and store nothing;
 *   --fork    records 1 and 2, validly signed; once the node acknowledged
 *             them, another validly signed record 2: the node must prove
 *             the fork and freeze the feed.
 *
 * Every line it prints says what it sent or received ("sent ...",
 * "received ..."); the last line is "result: ..." (the ACK of its feed
 * that came last, or "no ACK"). It answers PING with PONG (without a heads
 * digest) so that the node does not see it fall silent, and pulls nothing.
 *
 * Exit status: 0 when it could send what the mode asks (whatever the node
 * answered), 1 when the exchange could not happen (no answer to HELLO in
 * time, REFUSE, or no ACK of the good records 1..2 with --fork), 2 on a
 * usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <zmq.h>

#include "bodies.pb-c.h"
#include "ids.h"
#include "key.h"
#include "peer.pb-c.h"
#include "record.h"

#define NRECORDS	3

struct fake {
	struct node_key	 key;
	char		 id_hex[KEY_HEX_LEN + 1];
	const char	*name;
	void		*zmq;
	void		*sock;
	uint64_t	 session;
	uint64_t	 remote_session;
	int		 up;		/* a message of both sessions came */
	uint64_t	 acked;		/* last ACK seq of our own feed */
	int		 nacks;
	int		 pings;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: fakepeer --key FILE --show-id\n"
	    "       fakepeer --key FILE --connect ENDPOINT --server-key HEX\n"
	    "                (--tamper | --fork) [--name NAME] "
	    "[--timeout-ms MS]\n");
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
short_hex(char out[17], const uint8_t *key, size_t len)
{
	if (len < 8) {
		snprintf(out, 17, "?");
		return;
	}
	hex_encode(out, key, 8);
}

static int
send_msg(struct fake *f, Halle__PeerMessage *m)
{
	uint8_t *buf;
	size_t len;
	int rc;

	m->session = f->session;
	m->peer_session = f->remote_session;
	len = halle__peer_message__get_packed_size(m);
	if ((buf = malloc(len ? len : 1)) == NULL) {
		fprintf(stderr, "fakepeer: out of memory\n");
		exit(1);
	}
	halle__peer_message__pack(m, buf);
	rc = zmq_send(f->sock, buf, len, 0);
	free(buf);
	if (rc == -1) {
		printf("send failed: %s\n", zmq_strerror(errno));
		return -1;
	}
	return 0;
}

static void
send_hello(struct fake *f)
{
	Halle__PeerMessage m = HALLE__PEER_MESSAGE__INIT;
	Halle__Hello h = HALLE__HELLO__INIT;

	h.version = 1;
	h.min_version = 1;
	h.node.data = f->key.public_key;
	h.node.len = KEY_PUBLIC_LEN;
	h.name = (char *)f->name;
	m.body_case = HALLE__PEER_MESSAGE__BODY_HELLO;
	m.hello = &h;
	if (send_msg(f, &m) == 0)
		printf("sent HELLO (session %016llx, naming the node's "
		    "session %016llx)\n", (unsigned long long)f->session,
		    (unsigned long long)f->remote_session);
}

/* Sends RECORDS of our own feed: envelopes env[0..n-1] from first_seq. */
static void
send_records(struct fake *f, uint64_t first_seq, uint8_t **env,
    size_t *len, size_t n, uint64_t head, const char *what)
{
	Halle__PeerMessage m = HALLE__PEER_MESSAGE__INIT;
	Halle__Records r = HALLE__RECORDS__INIT;
	ProtobufCBinaryData e[NRECORDS];
	size_t i;

	for (i = 0; i < n; i++) {
		e[i].data = env[i];
		e[i].len = len[i];
	}
	r.origin.data = f->key.public_key;
	r.origin.len = KEY_PUBLIC_LEN;
	r.first_seq = first_seq;
	r.envelopes = e;
	r.n_envelopes = n;
	r.head_seq = head;
	m.body_case = HALLE__PEER_MESSAGE__BODY_RECORDS;
	m.records = &r;
	if (send_msg(f, &m) == 0)
		printf("sent RECORDS of our feed, seq %llu..%llu (head %llu): "
		    "%s\n", (unsigned long long)first_seq,
		    (unsigned long long)(first_seq + n - 1),
		    (unsigned long long)head, what);
}

static void
send_pong(struct fake *f, const Halle__Ping *ping)
{
	Halle__PeerMessage m = HALLE__PEER_MESSAGE__INIT;
	Halle__Pong pong = HALLE__PONG__INIT;

	/* No digest of ours: the node then sends its HEADS, which is fine. */
	pong.time_ms = ping->time_ms;
	m.body_case = HALLE__PEER_MESSAGE__BODY_PONG;
	m.pong = &pong;
	send_msg(f, &m);
}

static void
handle(struct fake *f, const uint8_t *buf, size_t len)
{
	Halle__PeerMessage *m;
	char hex[17];
	int ours;

	if ((m = halle__peer_message__unpack(NULL, len, buf)) == NULL) {
		printf("received %zu bytes that do not decode\n", len);
		return;
	}
	switch (m->body_case) {
	case HALLE__PEER_MESSAGE__BODY_HELLO:
		printf("received HELLO from %s (session %016llx, naming %s)\n",
		    m->hello->name ? m->hello->name : "?",
		    (unsigned long long)m->session,
		    m->peer_session == f->session ? "ours" :
		    m->peer_session == 0 ? "none" : "another session");
		if (m->session != f->remote_session) {
			f->remote_session = m->session;
			f->up = 0;
		}
		/* Name its session back: that is what moves it to UP. */
		send_hello(f);
		break;
	case HALLE__PEER_MESSAGE__BODY_REFUSE:
		printf("received REFUSE (code %d): %s\n", (int)m->refuse->code,
		    m->refuse->text ? m->refuse->text : "");
		printf("result: refused\n");
		halle__peer_message__free_unpacked(m, NULL);
		exit(1);
	default:
		break;
	}
	if (m->body_case == HALLE__PEER_MESSAGE__BODY_HELLO ||
	    m->session != f->remote_session || m->peer_session != f->session) {
		if (m->body_case != HALLE__PEER_MESSAGE__BODY_HELLO)
			printf("received a message of other sessions "
			    "(ignored)\n");
		halle__peer_message__free_unpacked(m, NULL);
		return;
	}
	if (!f->up) {
		f->up = 1;
		printf("the node is up with us (a message of both sessions)\n");
	}
	switch (m->body_case) {
	case HALLE__PEER_MESSAGE__BODY_HEADS:
		printf("received HEADS (%zu feeds)\n", m->heads->n_heads);
		break;
	case HALLE__PEER_MESSAGE__BODY_PULL:
		short_hex(hex, m->pull->origin.data, m->pull->origin.len);
		printf("received PULL of feed %s%s from %llu\n", hex,
		    m->pull->origin.len == KEY_PUBLIC_LEN &&
		    memcmp(m->pull->origin.data, f->key.public_key,
		    KEY_PUBLIC_LEN) == 0 ? " (ours)" : "",
		    (unsigned long long)m->pull->from_seq);
		break;
	case HALLE__PEER_MESSAGE__BODY_RECORDS:
		short_hex(hex, m->records->origin.data,
		    m->records->origin.len);
		printf("received RECORDS of feed %s: %zu records from %llu "
		    "(head %llu)\n", hex, m->records->n_envelopes,
		    (unsigned long long)m->records->first_seq,
		    (unsigned long long)m->records->head_seq);
		break;
	case HALLE__PEER_MESSAGE__BODY_ACK:
		ours = m->ack->origin.len == KEY_PUBLIC_LEN &&
		    memcmp(m->ack->origin.data, f->key.public_key,
		    KEY_PUBLIC_LEN) == 0;
		short_hex(hex, m->ack->origin.data, m->ack->origin.len);
		printf("received ACK of feed %s%s: seq %llu, window %u\n", hex,
		    ours ? " (ours)" : "", (unsigned long long)m->ack->seq,
		    m->ack->window);
		if (ours) {
			f->acked = m->ack->seq;
			f->nacks++;
		}
		break;
	case HALLE__PEER_MESSAGE__BODY_PING:
		if (f->pings++ == 0)
			printf("received PING (answered with PONG; further "
			    "PINGs not shown)\n");
		send_pong(f, m->ping);
		break;
	case HALLE__PEER_MESSAGE__BODY_PONG:
		printf("received PONG\n");
		break;
	default:
		printf("received a message of type %d\n", (int)m->body_case);
		break;
	}
	halle__peer_message__free_unpacked(m, NULL);
}

/*
 * Receives and handles messages until done(f) holds or deadline (ms,
 * monotonic) passes. 1 when done, 0 on timeout.
 */
static int
pump_until(struct fake *f, int64_t deadline, int (*done)(struct fake *))
{
	zmq_pollitem_t item = { f->sock, 0, ZMQ_POLLIN, 0 };
	zmq_msg_t msg;
	int64_t left;

	while (!done(f)) {
		left = deadline - now_ms();
		if (left <= 0)
			return 0;
		if (zmq_poll(&item, 1, (long)(left < 100 ? left : 100)) == -1) {
			if (errno == EINTR)
				continue;
			printf("poll failed: %s\n", zmq_strerror(errno));
			return 0;
		}
		while (1) {
			zmq_msg_init(&msg);
			if (zmq_msg_recv(&msg, f->sock, ZMQ_DONTWAIT) == -1) {
				zmq_msg_close(&msg);
				break;
			}
			handle(f, zmq_msg_data(&msg), zmq_msg_size(&msg));
			zmq_msg_close(&msg);
		}
	}
	return 1;
}

static int
is_up(struct fake *f)
{
	return f->up;
}

static uint64_t want_ack;

static int
acked(struct fake *f)
{
	return f->nacks > 0 && f->acked >= want_ack;
}

/* A Producer record of our own feed (a body the views take). */
static void
build(struct fake *f, uint64_t seq, const unsigned char *prev,
    const char *name, uint8_t **env, size_t *len,
    unsigned char hash[RECORD_HASH_LEN])
{
	Halle__Producer p = HALLE__PRODUCER__INIT;
	char id[16];
	uint8_t body[256];
	size_t blen;

	ids_bound(id, "pr", f->key.public_key, seq);
	p.id = id;
	p.version = 1;
	p.name = (char *)name;
	p.town = "Nulle-Part";
	blen = halle__producer__pack(&p, body);
	if (record_build(env, len, hash, &f->key, seq, prev, wall_ms(),
	    HALLE__RECORD_KIND__RECORD_KIND_PRODUCER, body, blen, NULL) == -1) {
		fprintf(stderr, "fakepeer: cannot build a record\n");
		exit(1);
	}
}

static int
run_tamper(struct fake *f, int64_t timeout)
{
	uint8_t *env[NRECORDS];
	size_t len[NRECORDS], i;
	unsigned char hash[NRECORDS][RECORD_HASH_LEN];
	char name[64], what[160];
	unsigned char before;

	for (i = 0; i < NRECORDS; i++) {
		snprintf(name, sizeof(name), "Ferme factice %zu", i + 1);
		build(f, i + 1, i ? hash[i - 1] : NULL, name, &env[i], &len[i],
		    hash[i]);
	}
	/* The last byte of an envelope is the last byte of its signature. */
	before = env[NRECORDS - 1][len[NRECORDS - 1] - 1];
	env[NRECORDS - 1][len[NRECORDS - 1] - 1] ^= 0xff;
	snprintf(what, sizeof(what), "one byte flipped in the envelope of "
	    "seq %d (byte %zu of %zu, 0x%02x -> 0x%02x, in its signature)",
	    NRECORDS, len[NRECORDS - 1] - 1, len[NRECORDS - 1], before,
	    env[NRECORDS - 1][len[NRECORDS - 1] - 1]);
	send_records(f, 1, env, len, NRECORDS, NRECORDS, what);
	want_ack = 0;
	if (pump_until(f, now_ms() + timeout, acked))
		printf("result: ACK of our feed, seq %llu\n",
		    (unsigned long long)f->acked);
	else
		printf("result: no ACK of our feed within %lld ms\n",
		    (long long)timeout);
	for (i = 0; i < NRECORDS; i++)
		free(env[i]);
	return 0;
}

static int
run_fork(struct fake *f, int64_t timeout)
{
	uint8_t *env[3];
	size_t len[3];
	unsigned char hash[3][RECORD_HASH_LEN];
	int i;

	build(f, 1, NULL, "Ferme factice 1", &env[0], &len[0], hash[0]);
	build(f, 2, hash[0], "Ferme factice 2", &env[1], &len[1], hash[1]);
	send_records(f, 1, env, len, 2, 2, "valid records 1 and 2");
	want_ack = 2;
	if (!pump_until(f, now_ms() + timeout, acked)) {
		printf("result: no ACK of records 1..2 within %lld ms, "
		    "fork not sent\n", (long long)timeout);
		for (i = 0; i < 2; i++)
			free(env[i]);
		return 1;
	}
	printf("records 1..2 acknowledged: sending another record 2\n");
	build(f, 2, hash[0], "Ferme factice 2 bis", &env[2], &len[2], hash[2]);
	f->nacks = 0;
	send_records(f, 2, &env[2], &len[2], 1, 2, "a different, validly "
	    "signed record 2 (a fork)");
	want_ack = 0;
	if (pump_until(f, now_ms() + timeout, acked))
		printf("result: ACK of our feed, seq %llu\n",
		    (unsigned long long)f->acked);
	else
		printf("result: no ACK of our feed within %lld ms\n",
		    (long long)timeout);
	for (i = 0; i < 3; i++)
		free(env[i]);
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "key",        required_argument, NULL, 'k' },
		{ "show-id",    no_argument,       NULL, 'i' },
		{ "connect",    required_argument, NULL, 'c' },
		{ "server-key", required_argument, NULL, 's' },
		{ "name",       required_argument, NULL, 'n' },
		{ "tamper",     no_argument,       NULL, 't' },
		{ "fork",       no_argument,       NULL, 'f' },
		{ "timeout-ms", required_argument, NULL, 'T' },
		{ "help",       no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static struct fake f;
	const char *keyfile = NULL, *endpoint = NULL, *server_hex = NULL;
	unsigned char server_ed[KEY_PUBLIC_LEN];
	unsigned char server_curve[32], pub_curve[32], sec_curve[32];
	char err[512];
	int ch, show_id = 0, mode = 0, linger = 0, rc;
	int64_t timeout = 5000;

	f.name = "fakepeer";
	while ((ch = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (ch) {
		case 'k': keyfile = optarg; break;
		case 'i': show_id = 1; break;
		case 'c': endpoint = optarg; break;
		case 's': server_hex = optarg; break;
		case 'n': f.name = optarg; break;
		case 't': mode = 't'; break;
		case 'f': mode = 'f'; break;
		case 'T': timeout = strtoll(optarg, NULL, 10); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (keyfile == NULL || optind != argc || timeout <= 0 ||
	    (!show_id && (endpoint == NULL || server_hex == NULL ||
	    mode == 0))) {
		usage(stderr);
		return 2;
	}
	if (sodium_init() == -1) {
		fprintf(stderr, "fakepeer: libsodium does not start\n");
		return 1;
	}
	if (key_load_or_create(&f.key, keyfile, NULL, err, sizeof(err)) == -1) {
		fprintf(stderr, "fakepeer: %s\n", err);
		return 1;
	}
	hex_encode(f.id_hex, f.key.public_key, KEY_PUBLIC_LEN);
	if (show_id) {
		printf("%s\n", f.id_hex);
		return 0;
	}
	if (strlen(server_hex) != KEY_HEX_LEN ||
	    hex_decode(server_ed, KEY_PUBLIC_LEN, server_hex) == -1 ||
	    crypto_sign_ed25519_pk_to_curve25519(server_curve, server_ed) != 0) {
		fprintf(stderr, "fakepeer: --server-key: want the node's 64 "
		    "hex digits (halled --show-id)\n");
		return 2;
	}
	if (crypto_sign_ed25519_pk_to_curve25519(pub_curve,
	    f.key.public_key) != 0 ||
	    crypto_sign_ed25519_sk_to_curve25519(sec_curve,
	    f.key.secret_key) != 0) {
		fprintf(stderr, "fakepeer: the key has no X25519 form\n");
		return 1;
	}
	printf("fakepeer %s (%s): dialling %s\n", f.name, f.id_hex, endpoint);
	while (f.session == 0)
		randombytes_buf(&f.session, sizeof(f.session));
	f.zmq = zmq_ctx_new();
	f.sock = zmq_socket(f.zmq, ZMQ_DEALER);
	if (f.sock == NULL) {
		fprintf(stderr, "fakepeer: DEALER: %s\n", zmq_strerror(errno));
		return 1;
	}
	zmq_setsockopt(f.sock, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(f.sock, ZMQ_CURVE_SERVERKEY, server_curve, 32);
	zmq_setsockopt(f.sock, ZMQ_CURVE_PUBLICKEY, pub_curve, 32);
	zmq_setsockopt(f.sock, ZMQ_CURVE_SECRETKEY, sec_curve, 32);
	if (zmq_connect(f.sock, endpoint) == -1) {
		fprintf(stderr, "fakepeer: cannot connect to %s: %s\n",
		    endpoint, zmq_strerror(errno));
		return 1;
	}
	sodium_memzero(sec_curve, sizeof(sec_curve));
	send_hello(&f);
	if (!pump_until(&f, now_ms() + timeout, is_up)) {
		printf("result: the node did not come up with us within "
		    "%lld ms\n", (long long)timeout);
		rc = 1;
	} else
		rc = mode == 't' ? run_tamper(&f, timeout) :
		    run_fork(&f, timeout);
	fflush(stdout);
	zmq_close(f.sock);
	zmq_ctx_term(f.zmq);
	sodium_memzero(&f.key, sizeof(f.key));
	return rc;
}
