/*
 * sync_fork: fork proofs between peers (see sync_int.h, docs/protocol.md).
 *
 * A fork proof is two different records that a feed's origin both signed
 * for one sequence number (ingest.h keeps them). A node that holds one
 * sends it to every peer that may see that feed: when the link comes UP,
 * and at once when it finds a new fork or takes in a new proof. The
 * receiver checks the proof (ingest_fork_proof) and freezes the feed as it
 * does for a fork it found itself, so that the whole grouping freezes the
 * same feed, the origin's own node included, which then takes no writes
 * (node.h):
 *
 *   B finds a fork of A's feed     B --FORK_PROOF--> C, A
 *   C: checks, freezes A's feed    C --FORK_PROOF--> its other peers
 *   A: checks, freezes its feed: own_feed_forked
 *
 * A proof of a feed already frozen changes nothing and goes no further, so
 * proofs stop once every node holds one.
 */
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "log.h"
#include "sync_int.h"

struct send_ctx {
	struct sync		*s;
	int			 p;
	const unsigned char	*origin;	/* NULL: every feed */
};

static int
send_one(const unsigned char *origin, uint64_t seq,
    const struct ingest_bytes *held, const struct ingest_bytes *other,
    void *arg)
{
	struct send_ctx *c = arg;
	Halle__PeerMessage m = HALLE__PEER_MESSAGE__INIT;
	Halle__ForkProof proof = HALLE__FORK_PROOF__INIT;
	int o;

	(void)seq;
	if (c->origin != NULL && memcmp(c->origin, origin, KEY_PUBLIC_LEN))
		return 0;
	if ((o = sync_origin_find(c->s, origin)) < 0 ||
	    !sync_in_scope(c->s, c->p, o))
		return 0;
	proof.first.data = (uint8_t *)held->data;
	proof.first.len = held->len;
	proof.second.data = (uint8_t *)other->data;
	proof.second.len = other->len;
	m.body_case = HALLE__PEER_MESSAGE__BODY_FORK_PROOF;
	m.fork_proof = &proof;
	sync_send(c->s, c->p, &m);
	return 0;
}

void
sync_fork_send(struct sync *s, int p, const unsigned char *origin)
{
	struct send_ctx c = { s, p, origin };
	struct store_txn t;

	if (store_read_begin(s->node->store, &t) == -1)
		return;
	if (ingest_forks(&t, send_one, &c) == -1)
		log_warnx("sync: cannot read the fork proofs held");
	store_read_end(&t);
}

void
sync_fork_announce(struct sync *s, const unsigned char *origin)
{
	size_t p;

	for (p = 0; p < s->npeers; p++)
		if (s->peers[p].st.state == SYNC_UP)
			sync_fork_send(s, (int)p, origin);
}

struct proof_ctx {
	const struct ingest_bytes	*first, *second;
	struct ingest_report		 rep;
};

static int
proof_op(struct node_txn *nt, void *arg)
{
	struct proof_ctx *c = arg;

	if (ingest_fork_proof(nt, c->first, c->second, &c->rep) == -1)
		return -1;
	if (c->rep.result == INGEST_FORK)
		return 0;
	return error_set(nt->err, HALLE_E_NOTHING_TO_COMMIT, "%s", c->rep.reason);
}

/* The origin of a proof's first envelope, or NULL (then it is refused). */
static const unsigned char *
proof_origin(const ProtobufCBinaryData *env, struct record *r)
{
	char why[128];

	if (env->len > RECORD_MAX_BYTES ||
	    record_parse(r, env->data, env->len, why, sizeof(why)) == -1)
		return NULL;
	return r->origin;
}

void
sync_fork_on_proof(struct sync *s, int p, const Halle__ForkProof *m)
{
	struct ingest_bytes first = { m->first.data, m->first.len };
	struct ingest_bytes second = { m->second.data, m->second.len };
	struct proof_ctx c = { &first, &second, { 0 } };
	unsigned char origin[KEY_PUBLIC_LEN];
	struct halle_error err;
	struct record r;
	char hex[17];
	int o;

	if (proof_origin(&m->first, &r) == NULL) {
		sync_note_error(s, p, 1, "FORK_PROOF that does not parse");
		return;
	}
	memcpy(origin, r.origin, KEY_PUBLIC_LEN);
	record_free(&r);
	hex_encode(hex, origin, 8);
	if ((o = sync_origin_find(s, origin)) < 0 || !sync_in_scope(s, p, o) ||
	    m->second.len > RECORD_MAX_BYTES) {
		sync_note_error(s, p, 1, "FORK_PROOF of feed %s refused: a feed "
		    "it may not send, or a record too large", hex);
		return;
	}
	memset(&err, 0, sizeof(err));
	if (node_mutate(s->node, proof_op, &c, &err) == 0) {
		s->peers[p].st.forks++;
		sync_note_error(s, p, 0, "fork of feed %s, proven by the peer: "
		    "%s", hex, c.rep.reason);
		sync_fork_announce(s, origin);
	} else if (c.rep.result == INGEST_BAD)
		sync_note_error(s, p, 1, "FORK_PROOF of feed %s refused: %s",
		    hex, c.rep.reason);
	else if (err.code != HALLE_E_NOTHING_TO_COMMIT)
		sync_note_error(s, p, 0, "cannot keep a fork proof: %s",
		    err.message);
}
