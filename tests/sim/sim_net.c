/*
 * sim_net: the simulated network between the nodes' sync engines. What an
 * engine queues goes through loss, duplication and a random latency (so
 * reordering) into one time-ordered queue; cut links drop everything.
 * Adversaries act on the wire: a flipped byte in a run, garbage or a
 * truncated message, a forged second record for a held seq (a fork), the
 * feed of an origin the receiver shares no grouping with.
 */
#include "sim.h"

static void
enqueue(struct sim *sim, int from, int to, const uint8_t *buf, size_t len)
{
	struct sim_msg *m, **pp;

	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (m->buf = malloc(len ? len : 1)) == NULL) {
		free(m);
		return;
	}
	memcpy(m->buf, buf, len);
	m->len = len;
	m->from = from;
	m->to = to;
	m->at = sim_now + rng_range(1, sim->latency_max);
	m->order = sim->order++;
	for (pp = &sim->queue; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->at > m->at)
			break;
	m->next = *pp;
	*pp = m;
}

static int
link_cut(const struct sim *sim, int a, int b)
{
	return sim->cut_until[a][b] > sim_now;
}

/*
 * The grouping rule, checked on the wire: a genuine message from node i to
 * node j names only feeds j may hold. 0, or -1 (failure noted).
 */
static int
check_wire(struct sim *sim, int i, int j, const uint8_t *buf, size_t len)
{
	Halle__PeerMessage *pm;
	const ProtobufCBinaryData *origin = NULL;
	size_t k;
	int x, rc = 0;

	if ((pm = halle__peer_message__unpack(NULL, len, buf)) == NULL)
		return sim_fail(sim, "%s sent a message that does not decode",
		    sim->nodes[i].name);
	switch (pm->body_case) {
	case HALLE__PEER_MESSAGE__BODY_RECORDS:
		origin = &pm->records->origin;
		break;
	case HALLE__PEER_MESSAGE__BODY_PULL:
		origin = &pm->pull->origin;
		break;
	case HALLE__PEER_MESSAGE__BODY_ACK:
		origin = &pm->ack->origin;
		break;
	case HALLE__PEER_MESSAGE__BODY_HEADS:
		for (k = 0; k < pm->heads->n_heads && rc == 0; k++)
			for (x = 0; x < sim->n; x++)
				if (pm->heads->heads[k]->origin.len ==
				    KEY_PUBLIC_LEN && memcmp(sim->nodes[x].key,
				    pm->heads->heads[k]->origin.data,
				    KEY_PUBLIC_LEN) == 0 && !sim_may_hold(sim, j, x))
					rc = sim_fail(sim, "%s told %s the head of "
					    "%s, which it may not see",
					    sim->nodes[i].name,
					    sim->nodes[j].name,
					    sim->nodes[x].name);
		break;
	default:
		break;
	}
	for (x = 0; origin != NULL && x < sim->n && rc == 0; x++)
		if (origin->len == KEY_PUBLIC_LEN && memcmp(sim->nodes[x].key,
		    origin->data, KEY_PUBLIC_LEN) == 0 && !sim_may_hold(sim, j, x))
			rc = sim_fail(sim, "%s sent %s a message about the feed "
			    "of %s, which it may not see", sim->nodes[i].name,
			    sim->nodes[j].name, sim->nodes[x].name);
	halle__peer_message__free_unpacked(pm, NULL);
	return rc;
}

/* Moves what node i wants to send onto the wire, through the faults. */
void
sim_drain(struct sim *sim, int i)
{
	struct sim_node *sn = &sim->nodes[i];
	uint8_t *msg;
	size_t len;
	int peer, j;

	while (sn->sync != NULL && sync_next_output(sn->sync, &peer, &msg,
	    &len) == 1) {
		j = sn->peer_node[peer];
		check_wire(sim, i, j, msg, len);
		if (!link_cut(sim, i, j) && !rng_chance(sim->loss)) {
			enqueue(sim, i, j, msg, len);
			if (rng_chance(sim->dup))
				enqueue(sim, i, j, msg, len);
		}
		free(msg);
	}
}

static void
poison_add(struct sim *sim, const unsigned char *origin, uint64_t seq,
    const uint8_t *bytes, size_t len)
{
	struct poison *p;

	if (sim->npoison >= MAX_EVENTS)
		return;
	p = &sim->poison[sim->npoison];
	if ((p->bytes = malloc(len)) == NULL)
		return;
	memcpy(p->origin, origin, KEY_PUBLIC_LEN);
	p->seq = seq;
	memcpy(p->bytes, bytes, len);
	p->len = len;
	sim->npoison++;
}

/* Flips one byte of one envelope of a RECORDS message, in place. */
static int
tamper(struct sim *sim, struct sim_msg *m)
{
	Halle__PeerMessage *pm;
	ProtobufCBinaryData *env;
	struct record r;
	char why[128];
	uint8_t *buf;
	size_t k, at;

	pm = halle__peer_message__unpack(NULL, m->len, m->buf);
	if (pm == NULL)
		return 0;
	if (pm->body_case != HALLE__PEER_MESSAGE__BODY_RECORDS ||
	    pm->records->n_envelopes == 0) {
		halle__peer_message__free_unpacked(pm, NULL);
		return 0;
	}
	k = (size_t)rng_range(0, (int64_t)pm->records->n_envelopes - 1);
	env = &pm->records->envelopes[k];
	at = (size_t)rng_range(0, (int64_t)env->len - 1);
	env->data[at] ^= (uint8_t)(1u << rng_range(0, 7));
	if (record_parse(&r, env->data, env->len, why, sizeof(why)) == 0) {
		poison_add(sim, r.origin, r.seq, env->data, env->len);
		record_free(&r);
	}
	buf = malloc(halle__peer_message__get_packed_size(pm));
	if (buf != NULL) {
		free(m->buf);
		m->buf = buf;
		m->len = halle__peer_message__pack(pm, buf);
	}
	halle__peer_message__free_unpacked(pm, NULL);
	return 1;
}

/* A second record for a seq the target holds, signed by the origin. */
static int
forge(struct sim *sim, int origin, int target, uint8_t **out, size_t *len,
    uint64_t *seq)
{
	struct sim_node *o = &sim->nodes[origin];
	struct store_txn t;
	struct feed_head h;
	struct record prev;
	const void *buf;
	size_t blen;
	unsigned char hash[RECORD_HASH_LEN], pprev[RECORD_HASH_LEN];
	char why[128];
	const char body[] = "forged";
	int rc = -1;

	if (store_read_begin(sim->nodes[target].node.store, &t) == -1)
		return -1;
	if (feed_head(&t, o->key, &h) == -1 || h.seq == 0 ||
	    (h.flags & FEED_FROZEN))
		goto out;
	if (h.seq > 1) {
		if (feed_get(&t, o->key, h.seq - 1, &buf, &blen) != 0 ||
		    record_parse(&prev, buf, blen, why, sizeof(why)) == -1)
			goto out;
		memcpy(pprev, prev.hash, RECORD_HASH_LEN);
		record_free(&prev);
	}
	rc = record_build(out, len, hash, &o->node.key, h.seq,
	    h.seq > 1 ? pprev : NULL, sim_clock(), 0,
	    (const uint8_t *)body, sizeof(body) - 1, NULL);
	*seq = h.seq;
out:
	store_read_end(&t);
	return rc;
}

/* The first record of x's feed as x holds it, or -1. */
static int
first_record(struct sim *sim, int x, uint8_t **out, size_t *len)
{
	struct store_txn t;
	const void *buf;
	size_t blen;
	int rc = -1;

	if (sim->nodes[x].sync == NULL ||	/* crashed */
	    store_read_begin(sim->nodes[x].node.store, &t) == -1)
		return -1;
	if (feed_get(&t, sim->nodes[x].key, 1, &buf, &blen) == 0 &&
	    (*out = malloc(blen)) != NULL) {
		memcpy(*out, buf, blen);
		*len = blen;
		rc = 0;
	}
	store_read_end(&t);
	return rc;
}

/*
 * Delivers an adversary's run of origin x from node `from` to `to`, with
 * the sessions of the genuine message m (so it is taken as current).
 * Returns 1 when it was taken in (the rejected count grew or a fork was
 * proven), else 0.
 */
static int
inject(struct sim *sim, const struct sim_msg *m, struct event *ev)
{
	Halle__PeerMessage *orig, pm = HALLE__PEER_MESSAGE__INIT;
	Halle__Records rec = HALLE__RECORDS__INIT;
	ProtobufCBinaryData env;
	struct sim_node *to = &sim->nodes[m->to];
	uint8_t *bytes = NULL, *buf;
	size_t len, blen;
	uint64_t seq = 1, before;
	int x = ev->kind == EV_FORK ? ev->a : ev->c, taken = 0;

	if ((orig = halle__peer_message__unpack(NULL, m->len, m->buf)) == NULL)
		return 0;
	pm.session = orig->session;
	pm.peer_session = orig->peer_session;
	halle__peer_message__free_unpacked(orig, NULL);
	if (ev->kind == EV_FORK) {
		if (forge(sim, x, m->to, &bytes, &len, &seq) == -1)
			return 0;
	} else if (first_record(sim, x, &bytes, &len) == -1)
		return 0;
	env.data = bytes;
	env.len = len;
	rec.origin.data = sim->nodes[x].key;
	rec.origin.len = KEY_PUBLIC_LEN;
	rec.first_seq = seq;
	rec.envelopes = &env;
	rec.n_envelopes = 1;
	rec.head_seq = seq;
	pm.body_case = HALLE__PEER_MESSAGE__BODY_RECORDS;
	pm.records = &rec;
	blen = halle__peer_message__get_packed_size(&pm);
	if ((buf = malloc(blen)) != NULL) {
		halle__peer_message__pack(&pm, buf);
		before = sim_rejected(sim, m->to, m->from);
		sync_on_message(to->sync, to->peer_index[m->from], buf, blen);
		if (ev->kind == EV_FORK) {
			taken = sim_feed_frozen(sim, m->to, x);
			if (taken) {
				poison_add(sim, sim->nodes[x].key, seq, bytes,
				    len);
				sim->fork_origin = x;
				sim->fork_target = m->to;
			}
		} else
			taken = sim_rejected(sim, m->to, m->from) > before;
		free(buf);
	}
	free(bytes);
	return taken;
}

void
sim_deliver(struct sim *sim, struct sim_msg *m)
{
	struct sim_node *to = &sim->nodes[m->to];
	struct event *ev;
	uint64_t before = 0;
	int tampered = 0;

	if (to->dead_until > sim_now || link_cut(sim, m->from, m->to))
		return;
	if ((ev = sim->pending_inject[m->from][m->to]) != NULL &&
	    inject(sim, m, ev)) {
		sim->pending_inject[m->from][m->to] = NULL;
		ev->done = 1;
		if (ev->kind == EV_FORK)
			sim->forks++;
		else
			sim->foreign++;
		if (sim->verbose)
			printf("  t=%lld: %s injected %s -> %s\n",
			    (long long)sim_now, ev->kind == EV_FORK ?
			    "fork" : "foreign feed", sim->nodes[m->from].name,
			    to->name);
	}
	if (sim->pending_garbage[m->from][m->to]) {
		/* Random bytes, or a genuine message cut short. */
		uint8_t junk[256];
		size_t k, len = (size_t)rng_range(0, sizeof(junk));

		sim->pending_garbage[m->from][m->to] = 0;
		for (k = 0; k < len; k++)
			junk[k] = (uint8_t)rng_next();
		if (rng_chance(0.5) && m->len > 1)
			sync_on_message(to->sync, to->peer_index[m->from],
			    m->buf, (size_t)rng_range(1, (int64_t)m->len - 1));
		else
			sync_on_message(to->sync, to->peer_index[m->from],
			    junk, len);
	}
	if (sim->pending_tamper[m->from][m->to] && tamper(sim, m)) {
		sim->pending_tamper[m->from][m->to] = 0;
		tampered = 1;
		sim->tamper_tries++;
		before = sim_rejected(sim, m->to, m->from);
	}
	sim->delivered++;
	sim->delivered_bytes += m->len;
	sync_on_message(to->sync, to->peer_index[m->from], m->buf, m->len);
	if (tampered && sim_rejected(sim, m->to, m->from) > before)
		sim->tampered++;
	sim_own_appended(sim, m->to);	/* a ruling it appended, say */
	sim_drain(sim, m->to);
}

/* Cuts the link a-b, or every link of a when b is -1. */
void
sim_cut(struct sim *sim, int a, int b, int64_t duration)
{
	int j;

	if (sim->verbose)
		printf("  t=%lld: %s cut from %s for %lld ms\n",
		    (long long)sim_now, sim->nodes[a].name,
		    b < 0 ? "all" : sim->nodes[b].name, (long long)duration);
	for (j = 0; j < sim->n; j++)
		if (j == b || (b < 0 && sim->link[a][j]))
			sim->cut_until[a][j] = sim->cut_until[j][a] =
			    sim_now + duration;
}

void
sim_heal(struct sim *sim)
{
	int i;

	memset(sim->cut_until, 0, sizeof(sim->cut_until));
	memset(sim->pending_tamper, 0, sizeof(sim->pending_tamper));
	memset(sim->pending_garbage, 0, sizeof(sim->pending_garbage));
	memset(sim->pending_inject, 0, sizeof(sim->pending_inject));
	sim->loss = sim->dup = 0;
	for (i = 0; i < sim->n; i++)
		sim->nodes[i].dead_until = sim->nodes[i].sync == NULL ?
		    sim_now : sim->nodes[i].dead_until;
}
