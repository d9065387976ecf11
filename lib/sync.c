/*
 * sync: the per-peer state machine: links, HELLO, heartbeats, silence, and
 * the dispatch of every message (see sync.h, docs/protocol.md). What
 * concerns feeds and records is in sync_stream.c.
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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "log.h"
#include "sync_int.h"

#define HELLO_RETRY_MS(s)	((s)->heartbeat_ms / 5)
#define REFUSED_RETRY_MS(s)	((s)->heartbeat_ms * 12)
#define SILENT_MS(s)		((s)->heartbeat_ms * 3)
#define FLAP_WINDOW_MS		60000
#define FLAP_CHANGES		6

static void	own_feed_check(struct sync *);

const char *
sync_state_name(enum sync_peer_state state)
{
	static const char *const names[] = {
		"down", "connecting", "hello-sent", "up", "refused"
	};

	if ((unsigned)state >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[state];
}

static int
origin_cmp(const void *a, const void *b)
{
	return memcmp(((const struct sync_origin *)a)->key,
	    ((const struct sync_origin *)b)->key, KEY_PUBLIC_LEN);
}

int
sync_origin_find(const struct sync *s, const unsigned char *key)
{
	size_t i;

	for (i = 0; i < s->norigins; i++)
		if (memcmp(s->origins[i].key, key, KEY_PUBLIC_LEN) == 0)
			return (int)i;
	return -1;
}

/* Adds key as an origin slot (if new) and ORs groups into its mask. */
static int
origin_add(struct sync *s, const unsigned char *key, uint64_t groups)
{
	struct sync_origin *o;
	int i;

	if ((i = sync_origin_find(s, key)) >= 0) {
		s->origins[i].groups |= groups;
		return 0;
	}
	o = realloc(s->origins, (s->norigins + 1) * sizeof(*o));
	if (o == NULL)
		return -1;
	s->origins = o;
	memcpy(o[s->norigins].key, key, KEY_PUBLIC_LEN);
	o[s->norigins++].groups = groups;
	return 0;
}

static int
shares(const struct sync *s, int a, int b)
{
	return a >= 0 && b >= 0 &&
	    (s->origins[a].groups & s->origins[b].groups) != 0;
}

int
sync_in_scope(const struct sync *s, int p, int o)
{
	return shares(s, o, s->self) && shares(s, o, s->peers[p].origin);
}

int
sync_may_hold(const struct sync *s, const unsigned char *holder,
    const unsigned char *origin)
{
	return shares(s, sync_origin_find(s, holder),
	    sync_origin_find(s, origin));
}

static int
build_origins(struct sync *s, const struct sync_config *cfg)
{
	size_t g, m;

	if (cfg->ngroupings > SYNC_MAX_GROUPINGS) {
		log_warnx("sync: more than %d groupings", SYNC_MAX_GROUPINGS);
		return -1;
	}
	for (g = 0; g < cfg->ngroupings; g++)
		for (m = 0; m < cfg->groupings[g].nmembers; m++)
			if (origin_add(s, cfg->groupings[g].members[m],
			    (uint64_t)1 << g) == -1)
				return -1;
	/* This node is a member of every grouping it declares (config.h). */
	if (origin_add(s, s->node->key.public_key, cfg->ngroupings == 64 ?
	    ~(uint64_t)0 : ((uint64_t)1 << cfg->ngroupings) - 1) == -1)
		return -1;
	for (m = 0; m < cfg->npeers; m++)
		if (origin_add(s, cfg->peers[m].key, 0) == -1)
			return -1;
	qsort(s->origins, s->norigins, sizeof(*s->origins), origin_cmp);
	s->self = sync_origin_find(s, s->node->key.public_key);
	return 0;
}

struct sync *
sync_new(struct node *n, const struct sync_config *cfg)
{
	struct sync *s;
	size_t i;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->node = n;
	s->outbox_tail = &s->outbox;
	s->heartbeat_ms = cfg->heartbeat_ms > 0 ? cfg->heartbeat_ms : 5000;
	s->version = cfg->version ? cfg->version : SYNC_PROTOCOL_VERSION;
	s->min_version = cfg->min_version ? cfg->min_version :
	    SYNC_PROTOCOL_VERSION;
	s->session = cfg->session;
	while (s->session == 0)
		randombytes_buf(&s->session, sizeof(s->session));
	if (build_origins(s, cfg) == -1)
		goto fail;
	s->npeers = cfg->npeers;
	if ((s->peers = calloc(s->npeers + 1, sizeof(*s->peers))) == NULL)
		goto fail;
	for (i = 0; i < s->npeers; i++) {
		struct sync_peer *p = &s->peers[i];

		p->cfg = cfg->peers[i];
		p->cfg.name[SYNC_NAME_MAX - 1] = '\0';
		p->origin = sync_origin_find(s, p->cfg.key);
		if (s->origins[p->origin].groups == 0)
			p->origin = -1;
		p->st.state = SYNC_DOWN;
		p->st.since_ms = s->now;
		p->st.rtt_ms = -1;
		p->reported_up = -1;
		p->in = calloc(s->norigins, sizeof(*p->in));
		p->out = calloc(s->norigins, sizeof(*p->out));
		if (p->in == NULL || p->out == NULL)
			goto fail;
	}
	return s;
fail:
	log_warnx("sync: cannot set up the sync engine: out of memory");
	sync_destroy(&s);
	return NULL;
}

void
sync_destroy(struct sync **sp)
{
	struct sync *s = *sp;
	struct sync_out *o;
	size_t i;

	if (s == NULL)
		return;
	while ((o = s->outbox) != NULL) {
		s->outbox = o->next;
		free(o->buf);
		free(o);
	}
	for (i = 0; s->peers != NULL && i < s->npeers; i++) {
		free(s->peers[i].in);
		free(s->peers[i].out);
	}
	free(s->peers);
	free(s->origins);
	free(s);
	*sp = NULL;
}

void
sync_send(struct sync *s, int p, Halle__PeerMessage *m)
{
	struct sync_out *o;

	m->session = s->session;
	m->peer_session = s->peers[p].remote_session;
	if ((o = malloc(sizeof(*o))) == NULL ||
	    (o->buf = malloc(halle__peer_message__get_packed_size(m))) ==
	    NULL) {
		/* A lost message is recovered like one lost on the wire. */
		log_warnx("sync: out of memory, message to %s dropped",
		    s->peers[p].cfg.name);
		free(o);
		return;
	}
	o->len = halle__peer_message__pack(m, o->buf);
	o->peer = p;
	o->next = NULL;
	*s->outbox_tail = o;
	s->outbox_tail = &o->next;
}

int
sync_next_output(struct sync *s, int *peer, uint8_t **msg, size_t *len)
{
	struct sync_out *o = s->outbox;

	if (o == NULL)
		return 0;
	if ((s->outbox = o->next) == NULL)
		s->outbox_tail = &s->outbox;
	*peer = o->peer;
	*msg = o->buf;
	*len = o->len;
	free(o);
	return 1;
}

void
sync_note_error(struct sync *s, int p, int rejected, const char *fmt, ...)
{
	struct sync_peer *peer = &s->peers[p];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(peer->st.last_error, sizeof(peer->st.last_error), fmt, ap);
	va_end(ap);
	if (rejected)
		peer->st.rejected++;
	log_warnx("sync: peer %s: %s", peer->cfg.name, peer->st.last_error);
}

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

void
sync_links_changed(struct sync *s, sync_link_fn fn, void *arg)
{
	size_t i;
	int up;

	for (i = 0; i < s->npeers; i++) {
		up = s->peers[i].st.state == SYNC_UP;
		if (s->peers[i].reported_up == up)
			continue;
		s->peers[i].reported_up = up;
		fn(&s->peers[i].cfg, up, arg);
	}
}

int
sync_heads_load(struct sync *s, struct feed_head *heads)
{
	struct store_txn t;
	size_t i;
	int rc = 0;

	if (store_read_begin(s->node->store, &t) == -1) {
		log_warnx("sync: cannot read the store");
		return -1;
	}
	for (i = 0; i < s->norigins && rc == 0; i++)
		rc = feed_head(&t, s->origins[i].key, &heads[i]);
	store_read_end(&t);
	if (rc == -1)
		log_warnx("sync: cannot read feed heads");
	return rc;
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
	own_feed_check(s);
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
	for (p = 0; p < s->npeers; p++)
		sync_flap_settle(s, (int)p);
	sync_stream_pump(s);
	own_feed_check(s);
}

void
sync_local_appended(struct sync *s)
{
	sync_stream_pump(s);
}

/* The seq of this node's own feed; 0 and -1 on a store error. */
static int
own_head(struct sync *s, uint64_t *seq)
{
	struct store_txn t;
	struct feed_head own;
	int rc;

	*seq = 0;
	if (store_read_begin(s->node->store, &t) == -1)
		return -1;
	rc = feed_head(&t, s->node->key.public_key, &own);
	store_read_end(&t);
	*seq = own.seq;
	return rc;
}

/*
 * 1 when peer p holds up the wait (sync.h): it may hold the feed and has
 * not told its head, or holds more than own_seq. A peer that is not up
 * holds it up for a lost store when this node dials it (strict); for a
 * restored one any such peer may answer.
 */
static int
awaits(const struct sync *s, int p, uint64_t own_seq, int strict)
{
	const struct sync_peer *peer = &s->peers[p];

	if (!sync_in_scope(s, p, s->self))
		return 0;
	if (peer->st.state != SYNC_UP)
		return strict ? peer->cfg.dialled : 1;
	return !peer->in[s->self].remote_known ||
	    peer->in[s->self].remote_seq > own_seq;
}

int
sync_own_feed_safe(struct sync *s)
{
	uint64_t own;
	size_t p, answered = 0, holders = 0;
	int strict = node_write_state(s->node) == NODE_RECOVERING;

	if (own_head(s, &own) == -1)
		return 0;
	for (p = 0; p < s->npeers; p++) {
		if (!sync_in_scope(s, (int)p, s->self))
			continue;
		holders++;
		if (s->peers[p].st.state != SYNC_UP) {
			if (strict && s->peers[p].cfg.dialled)
				return 0;
			continue;
		}
		if (awaits(s, (int)p, own, strict))
			return 0;
		answered++;
	}
	/* No peer may hold the feed: its records never left this node. */
	return answered > 0 || holders == 0;
}

int
sync_own_feed_awaits(struct sync *s, int p)
{
	uint64_t own;
	enum node_write_state state = node_write_state(s->node);

	if (p < 0 || (size_t)p >= s->npeers || (state != NODE_RECOVERING &&
	    state != NODE_RESTORED) || own_head(s, &own) == -1)
		return 0;
	return awaits(s, p, own, state == NODE_RECOVERING);
}

/*
 * While the node waits for word of its own feed: ends the wait once it is
 * safe, else tells the node whom it waits for (for the refusal's words).
 */
static void
own_feed_check(struct sync *s)
{
	enum node_write_state state = node_write_state(s->node);
	char names[256] = "";
	size_t p, len = 0;

	if (state != NODE_RECOVERING && state != NODE_RESTORED)
		return;
	if (sync_own_feed_safe(s)) {
		if (node_own_feed_whole(s->node) == -1)
			log_warnx("sync: cannot note in the store that this "
			    "node's own feed is whole: it goes on waiting");
		return;
	}
	for (p = 0; p < s->npeers && len < sizeof(names); p++)
		if (sync_own_feed_awaits(s, (int)p))
			len += (size_t)snprintf(names + len,
			    sizeof(names) - len, "%s%s", len ? ", " :
			    state == NODE_RESTORED ? "one of " : "",
			    s->peers[p].cfg.name);
	node_set_awaited(s->node, names);
}

int
sync_peer_stats(struct sync *s, int p, struct sync_peer_stats *st)
{
	struct sync_peer *peer;
	struct feed_head *heads;
	size_t o;

	if (p < 0 || (size_t)p >= s->npeers)
		return -1;
	peer = &s->peers[p];
	*st = peer->st;
	st->lag_in = st->lag_out = 0;
	if ((heads = calloc(s->norigins, sizeof(*heads))) == NULL)
		return 0;
	if (sync_heads_load(s, heads) == 0)
		for (o = 0; o < s->norigins; o++) {
			uint64_t mine = heads[o].seq;
			uint64_t theirs = peer->in[o].remote_seq;

			if (!sync_in_scope(s, p, (int)o) ||
			    !peer->in[o].remote_known)
				continue;
			if (theirs > mine)
				st->lag_in += theirs - mine;
			else
				st->lag_out += mine - theirs;
		}
	free(heads);
	return 0;
}
