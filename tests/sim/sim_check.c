/*
 * sim_check: what must hold once every fault is healed (see sim.c).
 */
#include "sim.h"

struct verify_ctx {
	struct sim	*sim;
	struct store_txn *t;
	int		 node;
};

/*
 * reach[v]: the feed of x can reach v. A node v that holds it sends it to a
 * peer w when one grouping of v's has both x and w as members (v knows
 * only its own groupings).
 */
static void
reachable(struct sim *sim, int x, int *reach)
{
	int stack[MAX_NODES], top = 0, v, w;

	memset(reach, 0, MAX_NODES * sizeof(*reach));
	reach[x] = 1;
	stack[top++] = x;
	while (top > 0) {
		v = stack[--top];
		for (w = 0; w < sim->n; w++)
			if (sim->link[v][w] && !reach[w] &&
			    (sim->nodes[v].groups & sim->nodes[x].groups &
			    sim->nodes[w].groups) != 0) {
				reach[w] = 1;
				stack[top++] = w;
			}
	}
}

/*
 * 0 when every feed is where it should be with the origin's head; 1 when
 * not yet (why says what); -1 on a violation that waiting cannot fix.
 */
int
sim_converged(struct sim *sim, char *why, size_t whylen)
{
	struct feed_head own, h;
	int reach[MAX_NODES], v, x;

	for (x = 0; x < sim->n; x++) {
		if (sim_head(sim, x, x, &own) == -1)
			return sim_fail(sim, "cannot read %s", sim->nodes[x].name);
		reachable(sim, x, reach);
		for (v = 0; v < sim->n; v++) {
			if (sim_head(sim, v, x, &h) == -1)
				return sim_fail(sim, "cannot read %s",
				    sim->nodes[v].name);
			if (!sim_may_hold(sim, v, x) && h.seq != 0)
				return sim_fail(sim, "%s holds %llu records of %s, "
				    "which shares no grouping with it",
				    sim->nodes[v].name,
				    (unsigned long long)h.seq,
				    sim->nodes[x].name);
			if (x == sim->fork_origin)
				continue;
			if (!reach[v] && h.seq != 0)
				return sim_fail(sim, "%s holds the feed of %s it "
				    "cannot reach", sim->nodes[v].name,
				    sim->nodes[x].name);
			if (reach[v] && (h.seq != own.seq ||
			    memcmp(h.hash, own.hash, RECORD_HASH_LEN) != 0)) {
				snprintf(why, whylen, "%s has %s up to %llu, "
				    "its origin up to %llu", sim->nodes[v].name,
				    sim->nodes[x].name,
				    (unsigned long long)h.seq,
				    (unsigned long long)own.seq);
				return 1;
			}
		}
	}
	return 0;
}

static int
verify_one(const unsigned char *origin, const struct feed_head *head,
    void *arg)
{
	struct verify_ctx *c = arg;
	char err[256];

	if (feed_verify(c->t, origin, err, sizeof(err)) == -1)
		return sim_fail(c->sim, "%s: feed_verify: %s",
		    c->sim->nodes[c->node].name, err);
	return 0;
}

static int
count_fork(const unsigned char *origin, uint64_t seq,
    const struct ingest_bytes *held, const struct ingest_bytes *other,
    void *arg)
{
	(*(int *)arg)++;
	return 0;
}

int
sim_final_checks(struct sim *sim)
{
	struct verify_ctx c = { sim, NULL, 0 };
	struct store_txn t;
	const void *buf;
	size_t len;
	int v, k, forks;

	for (v = 0; v < sim->n; v++) {
		if (store_read_begin(sim->nodes[v].node.store, &t) == -1)
			return sim_fail(sim, "cannot read %s", sim->nodes[v].name);
		c.t = &t;
		c.node = v;
		if (feed_each(&t, verify_one, &c) == -1) {
			store_read_end(&t);
			return sim_fail(sim, "%s: feeds do not verify",
			    sim->nodes[v].name);
		}
		for (k = 0; k < sim->npoison; k++) {
			struct poison *p = &sim->poison[k];

			if (feed_get(&t, p->origin, p->seq, &buf, &len) == 0 &&
			    len == p->len && memcmp(buf, p->bytes, len) == 0) {
				store_read_end(&t);
				return sim_fail(sim, "%s stores a tampered or "
				    "forged record (seq %llu)",
				    sim->nodes[v].name,
				    (unsigned long long)p->seq);
			}
		}
		forks = 0;
		ingest_forks(&t, count_fork, &forks);
		store_read_end(&t);
		if (v == sim->fork_target && (forks == 0 ||
		    !sim_feed_frozen(sim, v, sim->fork_origin)))
			return sim_fail(sim, "%s took a fork in but kept no proof "
			    "or did not freeze the feed", sim->nodes[v].name);
	}
	return 0;
}

static int
all_up(struct sim *sim)
{
	struct sync_peer_stats st;
	int i, k;

	for (i = 0; i < sim->n; i++)
		for (k = 0; k < sim->nodes[i].npeers; k++)
			if (sync_peer_stats(sim->nodes[i].sync, k, &st) == -1 ||
			    st.state != SYNC_UP)
				return 0;
	return 1;
}

/*
 * Once converged and every link is up again, a link carries a few small
 * messages per heartbeat, however many records the feeds hold.
 */
int
sim_quiet_traffic(struct sim *sim)
{
	uint64_t before, bytes;
	int64_t end = sim_now + HEAL_LIMIT_MS;
	int links = 0, a, b;

	for (a = 0; a < sim->n; a++)
		for (b = a + 1; b < sim->n; b++)
			links += sim->link[a][b];
	while (!all_up(sim) || sim_now % HEARTBEAT_MS != 0) {
		if (sim_now > end)
			return sim_fail(sim, "links not all up after healing");
		sim_now += STEP_MS;
		if (sim_step(sim, 0) == -1)
			return -1;
	}
	end = sim_now + 2 * HEARTBEAT_MS;	/* settle */
	while (sim_now < end) {
		sim_now += STEP_MS;
		if (sim_step(sim, 0) == -1)
			return -1;
	}
	before = sim->delivered;
	bytes = sim->delivered_bytes;
	end = sim_now + QUIET_BEATS * HEARTBEAT_MS;
	while (sim_now < end) {
		sim_now += STEP_MS;
		if (sim_step(sim, 0) == -1)
			return -1;
	}
	/* PING and PONG each way: 4 per link and heartbeat; allow 6. */
	if (sim->delivered - before > (uint64_t)(6 * links * QUIET_BEATS))
		return sim_fail(sim, "%llu messages over %d links in %d quiet "
		    "heartbeats", (unsigned long long)(sim->delivered - before),
		    links, QUIET_BEATS);
	bytes = sim->delivered_bytes - bytes;
	if (bytes > 100 * (sim->delivered - before))
		return sim_fail(sim, "quiet messages of %llu bytes on average",
		    (unsigned long long)(bytes / (sim->delivered - before)));
	return 0;
}

/*
 * Converged and quiet: every link is up with no lag either way, and a new
 * record reaches every node that may see it in less than a heartbeat (the
 * live push, not the heartbeat's digest, carries it).
 */
int
sim_live_push(struct sim *sim)
{
	struct sync_peer_stats st;
	int64_t start;
	char why[256];
	int i, k, x, rc;

	for (i = 0; i < sim->n; i++)
		for (k = 0; k < sim->nodes[i].npeers; k++)
			if (sync_peer_stats(sim->nodes[i].sync, k, &st) == -1 ||
			    st.state != SYNC_UP || st.lag_in || st.lag_out)
				return sim_fail(sim, "%s: peer %s is %s with lag "
				    "%llu in, %llu out once converged",
				    sim->nodes[i].name,
				    sim->nodes[sim->nodes[i].peer_node[k]].name,
				    sync_state_name(st.state),
				    (unsigned long long)st.lag_in,
				    (unsigned long long)st.lag_out);
	x = (int)rng_range(0, sim->n - 1);
	if (sim_write(sim, x, 1) == -1)
		return -1;
	for (start = sim_now; (rc = sim_converged(sim, why, sizeof(why))) == 1;) {
		if (sim_now - start >= HEARTBEAT_MS)
			return sim_fail(sim, "a new record of %s not everywhere "
			    "after a heartbeat: %s", sim->nodes[x].name, why);
		sim_now += STEP_MS;
		if (sim_step(sim, 0) == -1)
			return -1;
	}
	return rc;
}
