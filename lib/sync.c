/*
 * sync: the engine's bookkeeping (see sync.h, sync_int.h): the origin
 * slots and what may travel to whom, the engine's life, the outbox, the
 * wait for the node's own feed, and the figures status shows of each
 * peer. The per-peer state machine (links, handshake, heartbeats, the
 * dispatch of messages) is in sync_link.c; the feeds between two peers
 * (heads, pulls, runs of records) in sync_stream.c; fork proofs in
 * sync_fork.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "log.h"
#include "sync_int.h"

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
void
sync_own_feed_check(struct sync *s)
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

void
sync_rate_sample(struct sync *s, int p)
{
	struct sync_peer *peer = &s->peers[p];
	unsigned last = (peer->rate_next + SYNC_RATE_SAMPLES - 1) %
	    SYNC_RATE_SAMPLES;

	if (peer->nrate_samples > 0 &&
	    s->now - peer->rate_samples[last].at_ms < SYNC_RATE_SAMPLE_MS)
		return;
	peer->rate_samples[peer->rate_next].at_ms = s->now;
	peer->rate_samples[peer->rate_next].records = peer->st.records_in;
	peer->rate_next = (peer->rate_next + 1) % SYNC_RATE_SAMPLES;
	if (peer->nrate_samples < SYNC_RATE_SAMPLES)
		peer->nrate_samples++;
}

/* Records/s taken from the peer since the oldest sample; 0 without one. */
static double
rate(const struct sync *s, const struct sync_peer *peer)
{
	unsigned oldest = peer->nrate_samples < SYNC_RATE_SAMPLES ? 0 :
	    peer->rate_next;
	int64_t since;

	if (peer->nrate_samples == 0)
		return 0;
	since = s->now - peer->rate_samples[oldest].at_ms;
	if (since <= 0)
		return 0;
	return (double)(peer->st.records_in -
	    peer->rate_samples[oldest].records) * 1000 / (double)since;
}

int64_t
sync_time_left(uint64_t to_go, double rate)
{
	double s;
	int64_t whole;

	if (!(rate > 0))
		return -1;
	s = (double)to_go / rate;
	/* Bounded before the cast: a huge head claimed would overflow it. */
	if (!(s < (double)SYNC_TIME_LEFT_MAX))
		return SYNC_TIME_LEFT_MAX;
	whole = (int64_t)s;
	return (double)whole < s ? whole + 1 : whole;
}

/* Lags and records to go of peer p, from the heads this node holds. */
static void
lags(struct sync *s, int p, const struct feed_head *heads,
    struct sync_peer_stats *st)
{
	const struct sync_peer *peer = &s->peers[p];
	uint64_t mine, theirs;
	size_t o;

	for (o = 0; o < s->norigins; o++) {
		mine = heads[o].seq;
		theirs = peer->in[o].remote_seq;
		if (!sync_in_scope(s, p, (int)o) || !peer->in[o].remote_known)
			continue;
		if (theirs <= mine) {
			st->lag_out += mine - theirs;
			continue;
		}
		st->lag_in += theirs - mine;
		if (!(heads[o].flags & FEED_FROZEN))
			st->to_go += theirs - mine;
	}
}

/* Fills st for peer p; lags and records to go only when heads are given. */
static void
peer_stats(struct sync *s, int p, const struct feed_head *heads,
    struct sync_peer_stats *st)
{
	struct sync_peer *peer = &s->peers[p];

	*st = peer->st;
	st->lag_in = st->lag_out = st->to_go = 0;
	st->inflight_bytes = peer->inflight_bytes;
	st->rate = rate(s, peer);
	if (heads != NULL)
		lags(s, p, heads, st);
	st->time_left_s = sync_time_left(st->to_go, st->rate);
}

int
sync_peer_stats(struct sync *s, int p, struct sync_peer_stats *st)
{
	struct feed_head *heads;

	if (p < 0 || (size_t)p >= s->npeers)
		return -1;
	if ((heads = calloc(s->norigins, sizeof(*heads))) != NULL &&
	    sync_heads_load(s, heads) == -1) {
		free(heads);
		heads = NULL;
	}
	peer_stats(s, p, heads, st);
	free(heads);
	return 0;
}

int
sync_peers_stats(struct sync *s, struct sync_peer_stats *st)
{
	struct feed_head *heads;
	size_t p;

	if ((heads = calloc(s->norigins, sizeof(*heads))) == NULL)
		return -1;
	if (sync_heads_load(s, heads) == -1) {
		free(heads);
		return -1;
	}
	for (p = 0; p < s->npeers; p++)
		peer_stats(s, (int)p, heads, &st[p]);
	free(heads);
	return 0;
}

enum sync_peer_state
sync_peer_state(struct sync *s, int p, int64_t *since_ms)
{
	*since_ms = s->peers[p].st.since_ms;
	return s->peers[p].st.state;
}
