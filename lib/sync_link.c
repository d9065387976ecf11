/*
 * sync_link: the per-peer state machine: links, HELLO, heartbeats,
 * silence, and the dispatch of every message (see sync.h,
 * docs/protocol.md). The engine's bookkeeping (origins, scope, the
 * outbox, the wait for its own feed, the peers' figures) is in sync.c;
 * what concerns feeds and records is in sync_stream.c.
 *
 *                on_connect        peer's HELLO, not naming our session
 *   DOWN --------------> CONNECTING ----------------------> HELLO_SENT
 *    ^                    |      ^                              |
 *    | on_disconnect      |      | silent for 3 heartbeats      |
 *    | (any state)        |      +------------+                 |
 *    |                    | HELLO naming      |  any message of |
 *    |                    | our session       |  both sessions  |
 *    |                    +----------------> UP <---------------+
 *
 *   any state --(no common version, or not the configured key)--> REFUSED
 *   REFUSED retries HELLO every 12 heartbeats; a good HELLO leads on.
 *
 * Sessions make restarts safe: each engine draws one at start, every
 * message carries the sender's and the receiver's, and only HELLO and
 * REFUSE are taken from a pair that is not current.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sync_int.h"

#define HELLO_RETRY_MS(s)	((s)->heartbeat_ms / 5)
#define REFUSED_RETRY_MS(s)	((s)->heartbeat_ms * 12)
#define SILENT_MS(s)		((s)->heartbeat_ms * 3)
#define FLAP_WINDOW_MS		60000
#define FLAP_CHANGES		6

static void
set_state(struct sync *s, int p, enum sync_peer_state state, const char *why)
{
	struct sync_peer *peer = &s->peers[p];

	if (peer->st.state == state)
		return;
	/*
	 * Flapping is suppressed: past FLAP_CHANGES changes in a window of
	 * FLAP_WINDOW_MS, one line says so and the changes go to debug
	 * until a whole window passes quietly (sync_flap_settle).
	 */
	if (s->now - peer->flap_window_ms > FLAP_WINDOW_MS) {
		peer->flap_window_ms = s->now;
		peer->flap_changes = 0;
	}
	if (++peer->flap_changes > FLAP_CHANGES && !peer->flapping) {
		peer->flapping = 1;
		log_warnx("sync: peer %s is flapping (%u state changes within "
		    "%d s): further changes are logged at debug level until "
		    "it settles", peer->cfg.name, peer->flap_changes,
		    FLAP_WINDOW_MS / 1000);
	}
	(peer->flapping ? log_debug : log_info)("sync: peer %s: %s -> %s%s%s",
	    peer->cfg.name, sync_state_name(peer->st.state),
	    sync_state_name(state), *why ? ": " : "", why);
	peer->st.state = state;
	peer->st.since_ms = s->now;
}

/* Ends a peer's flapping once a whole window passed without a change. */
static void
sync_flap_settle(struct sync *s, int p)
{
	struct sync_peer *peer = &s->peers[p];

	if (!peer->flapping || s->now - peer->st.since_ms < FLAP_WINDOW_MS)
		return;
	peer->flapping = 0;
	peer->flap_changes = 0;
	peer->flap_window_ms = s->now;
	log_info("sync: peer %s settled: %s for %d s", peer->cfg.name,
	    sync_state_name(peer->st.state), FLAP_WINDOW_MS / 1000);
}

static const char *
node_name(const struct sync *s)
{
	return s->node->cfg && s->node->cfg->name ? s->node->cfg->name : "";
}

static void
send_hello(struct sync *s, int p)
{
	Halle__PeerMessage m = HALLE__PEER_MESSAGE__INIT;
	Halle__Hello h = HALLE__HELLO__INIT;

	h.version = s->version;
	h.min_version = s->min_version;
	h.node.data = s->node->key.public_key;
	h.node.len = KEY_PUBLIC_LEN;
	h.name = (char *)node_name(s);
	m.body_case = HALLE__PEER_MESSAGE__BODY_HELLO;
	m.hello = &h;
	sync_send(s, p, &m);
	s->peers[p].last_hello_ms = s->now;
}

static void
send_refuse(struct sync *s, int p, Halle__RefuseCode code, const char *text)
{
	Halle__PeerMessage m = HALLE__PEER_MESSAGE__INIT;
	Halle__Refuse r = HALLE__REFUSE__INIT;

	r.code = code;
	r.text = (char *)text;
	r.version = s->version;
	r.min_version = s->min_version;
	m.body_case = HALLE__PEER_MESSAGE__BODY_REFUSE;
	m.refuse = &r;
	sync_send(s, p, &m);
}

static void
send_ping(struct sync *s, int p, const struct feed_head *heads)
{
	Halle__PeerMessage m = HALLE__PEER_MESSAGE__INIT;
	Halle__Ping ping = HALLE__PING__INIT;
	unsigned char digest[32];

	sync_stream_digest(s, p, heads, digest);
	ping.time_ms = s->now;
	ping.heads_digest.data = digest;
	ping.heads_digest.len = sizeof(digest);
	m.body_case = HALLE__PEER_MESSAGE__BODY_PING;
	m.ping = &ping;
	sync_send(s, p, &m);
	s->peers[p].last_ping_ms = s->now;
}

/* Both ends know each other's session: heads, and a pull for each feed. */
static void
enter_up(struct sync *s, int p)
{
	struct feed_head *heads;

	set_state(s, p, SYNC_UP, "");
	s->peers[p].last_ping_ms = s->now - s->heartbeat_ms;
	if ((heads = calloc(s->norigins, sizeof(*heads))) == NULL)
		return;
	if (sync_heads_load(s, heads) == 0) {
		sync_stream_send_heads(s, p, heads);
		sync_stream_open_all(s, p, heads);
	}
	free(heads);
	sync_fork_send(s, p, NULL);
}

void
sync_on_connect(struct sync *s, int p)
{
	if (p < 0 || (size_t)p >= s->npeers)
		return;
	set_state(s, p, SYNC_CONNECTING, "link up");
	send_hello(s, p);
}

void
sync_on_disconnect(struct sync *s, int p)
{
	if (p < 0 || (size_t)p >= s->npeers)
		return;
	set_state(s, p, SYNC_DOWN, "link gone");
	sync_stream_reset(s, p);
}

/* 1 when versions a..b and this node's meet. */
static int
version_ok(const struct sync *s, uint32_t version, uint32_t min_version)
{
	return version >= s->min_version && min_version <= s->version &&
	    min_version <= version;
}

static void
on_hello(struct sync *s, int p, const Halle__PeerMessage *m)
{
	struct sync_peer *peer = &s->peers[p];
	const Halle__Hello *h = m->hello;
	char text[200];

	if (m->session == 0)
		return;
	if (!version_ok(s, h->version, h->min_version) ||
	    h->node.len != KEY_PUBLIC_LEN ||
	    memcmp(h->node.data, peer->cfg.key, KEY_PUBLIC_LEN) != 0)
		peer->remote_session = m->session;	/* the REFUSE names it */
	if (h->node.len != KEY_PUBLIC_LEN ||
	    memcmp(h->node.data, peer->cfg.key, KEY_PUBLIC_LEN) != 0) {
		snprintf(text, sizeof(text), "node %s refuses: the key "
		    "presented is not the one configured for %s",
		    node_name(s), peer->cfg.name);
		send_refuse(s, p, HALLE__REFUSE_CODE__REFUSE_CODE_UNKNOWN_NODE,
		    text);
		sync_note_error(s, p, 1, "%s", text);
		set_state(s, p, SYNC_REFUSED, "unknown key");
		return;
	}
	if (!version_ok(s, h->version, h->min_version)) {
		snprintf(text, sizeof(text), "node %s speaks protocol "
		    "versions %u..%u, not %u..%u", node_name(s),
		    s->min_version, s->version, h->min_version, h->version);
		send_refuse(s, p, HALLE__REFUSE_CODE__REFUSE_CODE_VERSION, text);
		sync_note_error(s, p, 1, "refused: the peer speaks protocol "
		    "versions %u..%u, this node %u..%u", h->min_version,
		    h->version, s->min_version, s->version);
		set_state(s, p, SYNC_REFUSED, "version mismatch");
		return;
	}
	peer->st.version = h->version < s->version ? h->version : s->version;
	if (m->session != peer->remote_session) {
		/* A new run of the peer: whatever we knew of it is void. */
		peer->remote_session = m->session;
		sync_stream_reset(s, p);
		set_state(s, p, SYNC_HELLO_SENT, "new peer session");
	}
	if (m->peer_session == s->session)
		enter_up(s, p);
	else
		send_hello(s, p);
}

/* A REFUSE answers a HELLO of this session; an older one is stale. */
static void
on_refuse(struct sync *s, int p, const Halle__PeerMessage *m)
{
	const Halle__Refuse *r = m->refuse;

	if (m->peer_session != s->session)
		return;
	sync_note_error(s, p, 0, "refused by the peer: %s",
	    r->text ? r->text : "");
	set_state(s, p, SYNC_REFUSED, "refused by the peer");
}

/*
 * Compares the peer's heads digest with ours. Equal digests mean equal
 * heads: what we knew of the peer's heads is brought up to date (that
 * is what the lags are computed from). Returns 1 when equal.
 */
static int
digest_matches(struct sync *s, int p, const struct feed_head *heads,
    const ProtobufCBinaryData *theirs)
{
	unsigned char digest[32];
	size_t o;

	sync_stream_digest(s, p, heads, digest);
	if (theirs->len != sizeof(digest) ||
	    memcmp(theirs->data, digest, sizeof(digest)) != 0)
		return 0;
	for (o = 0; o < s->norigins; o++)
		if (sync_in_scope(s, p, (int)o)) {
			s->peers[p].in[o].remote_known = 1;
			s->peers[p].in[o].remote_seq = heads[o].seq;
		}
	return 1;
}

static void
on_ping(struct sync *s, int p, const Halle__Ping *ping)
{
	Halle__PeerMessage m = HALLE__PEER_MESSAGE__INIT;
	Halle__Pong pong = HALLE__PONG__INIT;
	struct feed_head *heads;
	unsigned char digest[32];

	if ((heads = calloc(s->norigins, sizeof(*heads))) == NULL)
		return;
	if (sync_heads_load(s, heads) == 0) {
		digest_matches(s, p, heads, &ping->heads_digest);
		sync_stream_digest(s, p, heads, digest);
		pong.time_ms = ping->time_ms;
		pong.heads_digest.data = digest;
		pong.heads_digest.len = sizeof(digest);
		m.body_case = HALLE__PEER_MESSAGE__BODY_PONG;
		m.pong = &pong;
		sync_send(s, p, &m);
	}
	free(heads);
}

/* Round trip; and when the peer's digest differs, our heads for it. */
static void
on_pong(struct sync *s, int p, const Halle__Pong *pong)
{
	struct feed_head *heads;

	if (pong->time_ms <= s->now && pong->time_ms > 0)
		s->peers[p].st.rtt_ms = s->now - pong->time_ms;
	if ((heads = calloc(s->norigins, sizeof(*heads))) == NULL)
		return;
	if (sync_heads_load(s, heads) == 0 &&
	    !digest_matches(s, p, heads, &pong->heads_digest))
		sync_stream_send_heads(s, p, heads);
	free(heads);
}

static void
dispatch(struct sync *s, int p, const Halle__PeerMessage *m)
{
	struct sync_peer *peer = &s->peers[p];

	switch (m->body_case) {
	case HALLE__PEER_MESSAGE__BODY_HELLO:
		peer->st.last_seen_ms = s->now;
		on_hello(s, p, m);
		return;
	case HALLE__PEER_MESSAGE__BODY_REFUSE:
		on_refuse(s, p, m);
		return;
	default:
		break;
	}
	/* Anything else belongs to the current pair of sessions only. */
	if (peer->remote_session == 0 || m->session != peer->remote_session ||
	    m->peer_session != s->session || peer->st.state == SYNC_REFUSED)
		return;
	peer->st.last_seen_ms = s->now;
	if (peer->st.state != SYNC_UP)
		enter_up(s, p);
	switch (m->body_case) {
	case HALLE__PEER_MESSAGE__BODY_HEADS:
		sync_stream_on_heads(s, p, m->heads);
		break;
	case HALLE__PEER_MESSAGE__BODY_PULL:
		sync_stream_on_pull(s, p, m->pull);
		break;
	case HALLE__PEER_MESSAGE__BODY_RECORDS:
		sync_stream_on_records(s, p, m->records);
		break;
	case HALLE__PEER_MESSAGE__BODY_ACK:
		sync_stream_on_ack(s, p, m->ack);
		break;
	case HALLE__PEER_MESSAGE__BODY_PING:
		on_ping(s, p, m->ping);
		break;
	case HALLE__PEER_MESSAGE__BODY_PONG:
		on_pong(s, p, m->pong);
		break;
	case HALLE__PEER_MESSAGE__BODY_FORK_PROOF:
		sync_fork_on_proof(s, p, m->fork_proof);
		break;
	default:
		break;	/* a message of a newer version: ignored */
	}
}

void
sync_on_message(struct sync *s, int p, const uint8_t *msg, size_t len)
{
	Halle__PeerMessage *m;

	if (p < 0 || (size_t)p >= s->npeers)
		return;
	if (len > SYNC_MAX_MESSAGE) {
		sync_note_error(s, p, 1, "message of %zu bytes refused "
		    "(limit %d)", len, SYNC_MAX_MESSAGE);
		return;
	}
	if ((m = halle__peer_message__unpack(NULL, len, msg)) == NULL) {
		sync_note_error(s, p, 1, "message of %zu bytes does not decode",
		    len);
		return;
	}
	if (s->peers[p].st.state == SYNC_DOWN)
		set_state(s, p, SYNC_CONNECTING, "message on a new link");
	dispatch(s, p, m);
	halle__peer_message__free_unpacked(m, NULL);
	sync_stream_pump(s);
	sync_own_feed_check(s);
}

static void
tick_peer(struct sync *s, int p, const struct feed_head *heads)
{
	struct sync_peer *peer = &s->peers[p];

	switch (peer->st.state) {
	case SYNC_DOWN:
		return;
	case SYNC_CONNECTING:
	case SYNC_HELLO_SENT:
		if (s->now - peer->last_hello_ms >= HELLO_RETRY_MS(s))
			send_hello(s, p);
		return;
	case SYNC_REFUSED:
		if (s->now - peer->last_hello_ms >= REFUSED_RETRY_MS(s))
			send_hello(s, p);
		return;
	case SYNC_UP:
		break;
	}
	if (s->now - peer->st.last_seen_ms > SILENT_MS(s)) {
		snprintf(peer->st.last_error, sizeof(peer->st.last_error),
		    "no message for %lld ms",
		    (long long)(s->now - peer->st.last_seen_ms));
		set_state(s, p, SYNC_CONNECTING, peer->st.last_error);
		send_hello(s, p);
		return;
	}
	if (s->now - peer->last_ping_ms >= s->heartbeat_ms)
		send_ping(s, p, heads);
	sync_stream_tick(s, p, heads);
}

void
sync_on_tick(struct sync *s, int64_t now_ms)
{
	struct feed_head *heads;
	size_t p;

	if (now_ms > s->now)
		s->now = now_ms;
	if ((heads = calloc(s->norigins, sizeof(*heads))) == NULL)
		return;
	if (sync_heads_load(s, heads) == 0)
		for (p = 0; p < s->npeers; p++)
			tick_peer(s, (int)p, heads);
	free(heads);
	for (p = 0; p < s->npeers; p++) {
		sync_flap_settle(s, (int)p);
		sync_rate_sample(s, (int)p);
	}
	sync_stream_pump(s);
	sync_own_feed_check(s);
}
