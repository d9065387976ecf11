/*
 * sync_stream: the feeds between two UP peers: heads, pulls with credit,
 * runs of records, acknowledgements (see sync_int.h, docs/protocol.md).
 *
 * The receiver drives: on UP it sends one PULL per feed both ends may see,
 * from its own head (one record of overlap, which exposes a fork at the
 * head) with a credit of SYNC_WINDOW records. The sender sends what it
 * holds within the credit and then waits; once caught up the stream stays
 * open, so a record appended or received later goes out at once: that is
 * the live push. Each RECORDS is answered, once the run is durable, by an
 * ACK giving the receiver's head and a fresh credit, so the sender never
 * has more than a window in flight per feed and per peer:
 *
 *   receiver                                sender
 *   PULL(o, from=h, max=64)   ---------->   next=h, limit=h+63
 *                             <----------   RECORDS(o, h..h+15)  x4
 *   commit; ACK(o, h+63, 64)  ---------->   limit=h+127
 *
 * A PULL the sender cannot serve yet is answered by an empty RECORDS, so
 * the receiver knows its stream is open. A lost message stalls a stream;
 * the heads exchanged on a digest mismatch show the receiver a peer ahead
 * of it, and a stream unanswered or without progress for a heartbeat is
 * pulled again from the receiver's head.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ingest.h"
#include "log.h"
#include "sync_int.h"

#define GAP_RETRY_MS(s)		((s)->heartbeat_ms / 5)

void
sync_stream_reset(struct sync *s, int p)
{
	struct sync_peer *peer = &s->peers[p];

	memset(peer->in, 0, s->norigins * sizeof(*peer->in));
	memset(peer->out, 0, s->norigins * sizeof(*peer->out));
	peer->inflight_bytes = 0;
}

/*
 * Forgets the batches the peer now holds (up to acked), and those sent
 * before `before` (a time in ms; 0: none): a batch unacknowledged for a
 * heartbeat was lost, and the receiver pulls it again.
 */
static void
inflight_drop(struct sync_peer *peer, struct stream_out *out, int64_t before)
{
	unsigned i, kept = 0;

	for (i = 0; i < out->ninflight; i++) {
		if (out->inflight[i].last_seq <= out->acked_seq ||
		    out->inflight[i].sent_ms < before)
			peer->inflight_bytes -= out->inflight[i].bytes;
		else
			out->inflight[kept++] = out->inflight[i];
	}
	out->ninflight = kept;
}

/* 1 when the byte bounds let one more batch go to the peer. */
static int
inflight_room(const struct sync_peer *peer, const struct stream_out *out)
{
	return out->ninflight < SYNC_INFLIGHT_BATCHES &&
	    peer->inflight_bytes < SYNC_INFLIGHT_BYTES;
}

/* The first 8 bytes of a key in hex: enough to name a feed in a log. */
static void
short_hex(char out[17], const unsigned char *key)
{
	hex_encode(out, key, 8);
}

static int
frozen(const struct feed_head *h)
{
	return (h->flags & FEED_FROZEN) != 0;
}

static void
send_pull(struct sync *s, int p, int o, uint64_t head_seq)
{
	Halle__PeerMessage m = HALLE__PEER_MESSAGE__INIT;
	Halle__Pull pull = HALLE__PULL__INIT;
	struct stream_in *in = &s->peers[p].in[o];

	pull.origin.data = s->origins[o].key;
	pull.origin.len = KEY_PUBLIC_LEN;
	pull.from_seq = head_seq > 0 ? head_seq : 1;
	pull.max_records = SYNC_WINDOW;
	m.body_case = HALLE__PEER_MESSAGE__BODY_PULL;
	m.pull = &pull;
	sync_send(s, p, &m);
	in->open = 1;
	in->confirmed = 0;
	in->last_pull_ms = s->now;
}

static void
send_ack(struct sync *s, int p, int o, uint64_t seq)
{
	Halle__PeerMessage m = HALLE__PEER_MESSAGE__INIT;
	Halle__Ack ack = HALLE__ACK__INIT;

	ack.origin.data = s->origins[o].key;
	ack.origin.len = KEY_PUBLIC_LEN;
	ack.seq = seq;
	ack.window = SYNC_WINDOW;
	m.body_case = HALLE__PEER_MESSAGE__BODY_ACK;
	m.ack = &ack;
	sync_send(s, p, &m);
}

void
sync_stream_send_heads(struct sync *s, int p, const struct feed_head *heads)
{
	Halle__PeerMessage m = HALLE__PEER_MESSAGE__INIT;
	Halle__Heads msg = HALLE__HEADS__INIT;
	Halle__FeedHead *fh, **ptrs;
	size_t o, n = 0;

	fh = calloc(s->norigins, sizeof(*fh));
	ptrs = calloc(s->norigins, sizeof(*ptrs));
	if (fh == NULL || ptrs == NULL)
		goto out;
	for (o = 0; o < s->norigins; o++) {
		if (!sync_in_scope(s, p, (int)o) || heads[o].seq == 0)
			continue;
		halle__feed_head__init(&fh[n]);
		fh[n].origin.data = s->origins[o].key;
		fh[n].origin.len = KEY_PUBLIC_LEN;
		fh[n].seq = heads[o].seq;
		fh[n].hash.data = (uint8_t *)heads[o].hash;
		fh[n].hash.len = RECORD_HASH_LEN;
		fh[n].frozen = frozen(&heads[o]);
		ptrs[n] = &fh[n];
		n++;
	}
	msg.heads = ptrs;
	msg.n_heads = n;
	m.body_case = HALLE__PEER_MESSAGE__BODY_HEADS;
	m.heads = &msg;
	sync_send(s, p, &m);
out:
	free(fh);
	free(ptrs);
}

void
sync_stream_open_all(struct sync *s, int p, const struct feed_head *heads)
{
	size_t o;

	for (o = 0; o < s->norigins; o++)
		if (sync_in_scope(s, p, (int)o) && !frozen(&heads[o]))
			send_pull(s, p, (int)o, heads[o].seq);
}

void
sync_stream_digest(struct sync *s, int p, const struct feed_head *heads,
    unsigned char digest[32])
{
	static const unsigned char frozen_byte[1] = { 1 };
	crypto_generichash_state st;
	unsigned char seq[8];
	size_t o;
	int i;

	crypto_generichash_init(&st, NULL, 0, 32);
	for (o = 0; o < s->norigins; o++) {
		if (!sync_in_scope(s, p, (int)o) || heads[o].seq == 0)
			continue;
		for (i = 0; i < 8; i++)
			seq[i] = (unsigned char)(heads[o].seq >> (56 - 8 * i));
		crypto_generichash_update(&st, s->origins[o].key,
		    KEY_PUBLIC_LEN);
		crypto_generichash_update(&st, seq, sizeof(seq));
		crypto_generichash_update(&st, heads[o].hash, RECORD_HASH_LEN);
		if (frozen(&heads[o]))
			crypto_generichash_update(&st, frozen_byte, 1);
	}
	crypto_generichash_final(&st, digest, 32);
}

/* The slot of a 32-byte origin field that may travel to/from p, or -1. */
static int
scoped_origin(struct sync *s, int p, const ProtobufCBinaryData *origin)
{
	int o;

	if (origin->len != KEY_PUBLIC_LEN)
		return -1;
	if ((o = sync_origin_find(s, origin->data)) < 0 ||
	    !sync_in_scope(s, p, o))
		return -1;
	return o;
}

/* 1 when the in-stream of o has made no progress for a heartbeat. */
static int
stalled(struct sync *s, const struct stream_in *in)
{
	int64_t last = in->last_pull_ms > in->last_progress_ms ?
	    in->last_pull_ms : in->last_progress_ms;

	return !in->open || s->now - last >= s->heartbeat_ms;
}

void
sync_stream_on_heads(struct sync *s, int p, const Halle__Heads *m)
{
	struct sync_peer *peer = &s->peers[p];
	struct feed_head *heads;
	size_t i, o;

	if ((heads = calloc(s->norigins, sizeof(*heads))) == NULL)
		return;
	if (sync_heads_load(s, heads) == -1)
		goto out;
	for (o = 0; o < s->norigins; o++)
		if (sync_in_scope(s, p, (int)o))
			peer->in[o].remote_known = 1;
	for (i = 0; i < m->n_heads; i++) {
		const Halle__FeedHead *fh = m->heads[i];
		struct stream_in *in;
		int k;

		if ((k = scoped_origin(s, p, &fh->origin)) < 0)
			continue;
		in = &peer->in[k];
		if (fh->seq > in->remote_seq)
			in->remote_seq = fh->seq;
		/* The peer has not frozen a feed we know forked: tell it. */
		if (frozen(&heads[k]) && !fh->frozen)
			sync_fork_send(s, p, s->origins[k].key);
		if (frozen(&heads[k]) || !stalled(s, in))
			continue;
		/*
		 * Ahead of us: pull. Level with us but another hash: pull our
		 * head's seq again, and the differing record proves a fork.
		 */
		if (fh->seq > heads[k].seq || (fh->seq == heads[k].seq &&
		    fh->seq > 0 && (fh->hash.len != RECORD_HASH_LEN ||
		    memcmp(fh->hash.data, heads[k].hash, RECORD_HASH_LEN))))
			send_pull(s, p, k, heads[k].seq);
	}
out:
	free(heads);
}

void
sync_stream_on_pull(struct sync *s, int p, const Halle__Pull *m)
{
	struct stream_out *out;
	uint32_t credit;
	int o;

	if ((o = scoped_origin(s, p, &m->origin)) < 0) {
		sync_note_error(s, p, 1, "PULL of a feed it may not see");
		return;
	}
	credit = m->max_records < SYNC_MAX_WINDOW ? m->max_records :
	    SYNC_MAX_WINDOW;
	out = &s->peers[p].out[o];
	/*
	 * A stream opened again: batches sent in the last heartbeat may
	 * still be on their way and count; older ones were lost.
	 */
	inflight_drop(&s->peers[p], out, s->now - s->heartbeat_ms);
	out->open = 1;
	out->confirm = 1;
	out->next_seq = m->from_seq > 0 ? m->from_seq : 1;
	out->acked_seq = out->next_seq - 1;
	out->limit_seq = out->acked_seq + credit;
}

void
sync_stream_on_ack(struct sync *s, int p, const Halle__Ack *m)
{
	struct sync_peer *peer = &s->peers[p];
	struct stream_out *out;
	uint32_t credit;
	int o;

	if ((o = scoped_origin(s, p, &m->origin)) < 0) {
		sync_note_error(s, p, 1, "ACK of a feed it may not see");
		return;
	}
	credit = m->window < SYNC_MAX_WINDOW ? m->window : SYNC_MAX_WINDOW;
	out = &peer->out[o];
	if (!out->open) {
		out->open = 1;
		out->next_seq = m->seq + 1;
	}
	if (m->seq > out->acked_seq)
		out->acked_seq = m->seq;
	inflight_drop(peer, out, s->now - 2 * s->heartbeat_ms);
	if (m->seq + credit > out->limit_seq)
		out->limit_seq = m->seq + credit;
	if (out->next_seq <= out->acked_seq)
		out->next_seq = out->acked_seq + 1;
	peer->in[o].remote_known = 1;
	if (m->seq > peer->in[o].remote_seq)
		peer->in[o].remote_seq = m->seq;
}

/*
 * The peer holds the feed of o up to seq (it said so in RECORDS): note it,
 * and skip that far on our stream to it, so that nothing it sent us, or
 * got elsewhere, comes back to it.
 */
static void
peer_holds(struct sync *s, int p, int o, uint64_t seq)
{
	struct sync_peer *peer = &s->peers[p];
	struct stream_out *out = &peer->out[o];

	if (seq > peer->in[o].remote_seq)
		peer->in[o].remote_seq = seq;
	if (!out->open || seq <= out->acked_seq)
		return;
	out->acked_seq = seq;
	inflight_drop(peer, out, s->now - 2 * s->heartbeat_ms);
	if (out->next_seq <= seq)
		out->next_seq = seq + 1;
	if (out->limit_seq < seq + SYNC_WINDOW)
		out->limit_seq = seq + SYNC_WINDOW;
}

struct ingest_ctx {
	const unsigned char	*origin;
	struct ingest_bytes	*run;
	size_t			 n;
	struct ingest_report	 rep;
	int			 store_failed;
};

/* Commits only what changed something: new records or a fork proof. */
static int
ingest_op(struct node_txn *nt, void *arg)
{
	struct ingest_ctx *c = arg;

	c->store_failed = 0;
	if (ingest_run(nt, c->origin, c->run, c->n, &c->rep) == -1) {
		c->store_failed = 1;
		return -1;
	}
	if (c->rep.result == INGEST_FORK ||
	    (c->rep.result == INGEST_OK && c->rep.accepted > 0))
		return 0;
	return error_set(nt->err, HALLE_E_NOTHING_TO_COMMIT, "%s", c->rep.reason);
}

/* Checks what ingest does not: origin, sizes. 0 or -1 (noted). */
static int
records_acceptable(struct sync *s, int p, const Halle__Records *m, int *op)
{
	char hex[17];
	size_t i;
	int o;

	if (m->origin.len != KEY_PUBLIC_LEN) {
		sync_note_error(s, p, 1, "RECORDS with a malformed origin");
		return -1;
	}
	short_hex(hex, m->origin.data);
	o = sync_origin_find(s, m->origin.data);
	if (o < 0 || (o != s->self && !sync_may_hold(s,
	    s->node->key.public_key, m->origin.data))) {
		sync_note_error(s, p, 1, "run of feed %s refused: its origin "
		    "is not a node sharing a grouping with this one", hex);
		return -1;
	}
	if (m->n_envelopes > SYNC_MAX_RUN) {
		sync_note_error(s, p, 1, "run of feed %s refused: %zu records "
		    "(at most %d)", hex, m->n_envelopes, SYNC_MAX_RUN);
		return -1;
	}
	for (i = 0; i < m->n_envelopes; i++)
		if (m->envelopes[i].len > RECORD_MAX_BYTES) {
			sync_note_error(s, p, 1, "run of feed %s refused: a "
			    "record of %zu bytes", hex, m->envelopes[i].len);
			return -1;
		}
	*op = o;
	return 0;
}

static void
records_outcome(struct sync *s, int p, int o, const struct ingest_ctx *c,
    int committed)
{
	struct sync_peer *peer = &s->peers[p];
	struct stream_in *in = &peer->in[o];
	char hex[17];

	short_hex(hex, s->origins[o].key);
	switch (c->rep.result) {
	case INGEST_OK:
		if (committed) {
			peer->st.records_in += c->rep.accepted;
			in->last_progress_ms = s->now;
		}
		send_ack(s, p, o, c->rep.head_seq);
		break;
	case INGEST_GAP:
		if (s->now - in->last_pull_ms >= GAP_RETRY_MS(s))
			send_pull(s, p, o, c->rep.head_seq);
		break;
	case INGEST_BAD:
		in->last_pull_ms = s->now;	/* pull again after a while */
		sync_note_error(s, p, 1, "run of feed %s refused: %s", hex,
		    c->rep.reason);
		break;
	case INGEST_FORK:
		peer->st.forks++;
		sync_note_error(s, p, 1, "fork of feed %s: %s", hex,
		    c->rep.reason);
		if (committed)
			sync_fork_announce(s, s->origins[o].key);
		break;
	case INGEST_FROZEN:
		break;
	}
}

void
sync_stream_on_records(struct sync *s, int p, const Halle__Records *m)
{
	struct halle_error err;
	struct ingest_ctx c;
	size_t i;
	int o, rc;

	if (records_acceptable(s, p, m, &o) == -1)
		return;
	peer_holds(s, p, o, m->head_seq);
	s->peers[p].in[o].confirmed = 1;
	if (m->n_envelopes == 0)
		return;		/* the stream is open, nothing to send yet */
	memset(&c, 0, sizeof(c));
	c.origin = s->origins[o].key;
	c.n = m->n_envelopes;
	if ((c.run = calloc(c.n, sizeof(*c.run))) == NULL)
		return;
	for (i = 0; i < c.n; i++) {
		c.run[i].data = m->envelopes[i].data;
		c.run[i].len = m->envelopes[i].len;
	}
	memset(&err, 0, sizeof(err));
	rc = node_mutate(s->node, ingest_op, &c, &err);
	free(c.run);
	if (rc == -1 && (c.store_failed ||
	    err.code != HALLE_E_NOTHING_TO_COMMIT)) {
		/* Nothing durable: no ACK, no relay; the pull comes again. */
		sync_note_error(s, p, 0, "cannot store a run: %s", err.message);
		return;
	}
	records_outcome(s, p, o, &c, rc == 0);
}

void
sync_stream_tick(struct sync *s, int p, const struct feed_head *heads)
{
	struct stream_in *in;
	size_t o;

	for (o = 0; o < s->norigins; o++) {
		in = &s->peers[p].in[o];
		if (!sync_in_scope(s, p, (int)o) || frozen(&heads[o]))
			continue;
		if (!in->open || (stalled(s, in) && (!in->confirmed ||
		    in->remote_seq > heads[o].seq)))
			send_pull(s, p, (int)o, heads[o].seq);
	}
}

/*
 * Sends one RECORDS from out->next_seq, within the credit; 0, or -1 when
 * nothing was sent. An empty RECORDS (when empty_ok) answers a PULL the
 * sender cannot serve yet: it tells the receiver that its stream is open.
 */
static int
send_batch(struct sync *s, struct store_txn *t, int p, int o,
    const struct feed_head *h, int empty_ok)
{
	Halle__PeerMessage m = HALLE__PEER_MESSAGE__INIT;
	Halle__Records r = HALLE__RECORDS__INIT;
	ProtobufCBinaryData env[SYNC_BATCH_RECORDS];
	struct stream_out *out = &s->peers[p].out[o];
	uint64_t seq, last;
	size_t n = 0, bytes = 0;
	const void *buf;
	size_t len;

	last = h->seq < out->limit_seq ? h->seq : out->limit_seq;
	for (seq = out->next_seq; seq <= last && n < SYNC_BATCH_RECORDS;
	    seq++) {
		if (feed_get(t, s->origins[o].key, seq, &buf, &len) != 0) {
			log_warnx("sync: record %llu of a held feed cannot be "
			    "read", (unsigned long long)seq);
			out->open = 0;
			return -1;
		}
		if (n > 0 && bytes + len > SYNC_BATCH_BYTES)
			break;
		env[n].data = (uint8_t *)buf;
		env[n].len = len;
		bytes += len;
		n++;
	}
	if (n == 0 && !empty_ok)
		return -1;
	r.origin.data = s->origins[o].key;
	r.origin.len = KEY_PUBLIC_LEN;
	r.first_seq = out->next_seq;
	r.envelopes = env;
	r.n_envelopes = n;
	r.head_seq = h->seq;
	m.body_case = HALLE__PEER_MESSAGE__BODY_RECORDS;
	m.records = &r;
	sync_send(s, p, &m);
	out->next_seq += n;
	out->confirm = 0;
	s->peers[p].st.records_out += n;
	if (n > 0) {
		/* A batch the bounds did not wait for (a PULL's answer) when
		 * all slots are taken joins the last one. */
		if (out->ninflight == SYNC_INFLIGHT_BATCHES)
			out->ninflight--;
		else
			out->inflight[out->ninflight].bytes = 0;
		out->inflight[out->ninflight].last_seq = out->next_seq - 1;
		out->inflight[out->ninflight].sent_ms = s->now;
		out->inflight[out->ninflight++].bytes += bytes;
		s->peers[p].inflight_bytes += bytes;
	}
	return 0;
}

void
sync_stream_pump(struct sync *s)
{
	struct store_txn t;
	struct feed_head h;
	size_t p, o;
	int reading = 0;

	for (p = 0; p < s->npeers; p++) {
		if (s->peers[p].st.state != SYNC_UP)
			continue;
		for (o = 0; o < s->norigins; o++) {
			struct stream_out *out = &s->peers[p].out[o];

			/* Batches unacknowledged for two heartbeats were lost. */
			inflight_drop(&s->peers[p], out,
			    s->now - 2 * s->heartbeat_ms);
			if (!out->open || !sync_in_scope(s, (int)p, (int)o) ||
			    (out->next_seq > out->limit_seq && !out->confirm))
				continue;
			if (!reading && store_read_begin(s->node->store,
			    &t) == -1)
				return;
			reading = 1;
			if (feed_head(&t, s->origins[o].key, &h) == -1)
				continue;
			while (out->open && out->next_seq <= h.seq &&
			    out->next_seq <= out->limit_seq &&
			    inflight_room(&s->peers[p], out))
				if (send_batch(s, &t, (int)p, (int)o, &h,
				    0) == -1)
					break;
			if (out->open && out->confirm)
				send_batch(s, &t, (int)p, (int)o, &h, 1);
		}
	}
	if (reading)
		store_read_end(&t);
}
