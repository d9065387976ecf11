/*
 * sim_check: what must hold once every fault is healed (see sim.c), of the
 * feeds and of the orders.
 */
#include "sim.h"
#include "stock.h"
#include "testapi.h"

struct verify_ctx {
	struct sim	*sim;
	struct store_txn *t;
	int		 node;
};

/*
 * reach[v]: the feed of x can travel from start to v. A node v that holds
 * it sends it to a peer w when one grouping of v's has both x and w as
 * members (v knows only its own groupings); fork proofs of it travel the
 * same way.
 */
static void
reachable_from(struct sim *sim, int x, int start, int *reach)
{
	int stack[MAX_NODES], top = 0, v, w;

	memset(reach, 0, MAX_NODES * sizeof(*reach));
	reach[start] = 1;
	stack[top++] = start;
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

/* reach[v]: the feed of x can reach v. */
void
sim_reachable(struct sim *sim, int x, int *reach)
{
	reachable_from(sim, x, x, reach);
}

/*
 * A node the proof of a fork of x's feed can reach from the node that
 * found it, that may hold x's feed and has not frozen it: the first such,
 * or -1 when there is none (or no fork to spread).
 */
static int
fork_unspread(struct sim *sim)
{
	int reach[MAX_NODES], x = sim->fork_origin, v;

	if (x < 0 || sim->fork_target < 0)
		return -1;	/* no fork, or its proof lost with a store */
	reachable_from(sim, x, sim->fork_target, reach);
	for (v = 0; v < sim->n; v++)
		if (reach[v] && sim_may_hold(sim, v, x) &&
		    !sim_feed_frozen(sim, v, x))
			return v;
	return -1;
}

/*
 * The proof of a fork of x's feed went from the node that found it to
 * every node it can reach (the fork's origin too, which then takes no
 * writes): all of them hold the feed frozen.
 */
static int
fork_proof_spread(struct sim *sim)
{
	int x = sim->fork_origin, v;

	if ((v = fork_unspread(sim)) >= 0)
		return sim_fail(sim, "the proof of the fork of %s's feed "
		    "found at %s did not reach %s",
		    sim->nodes[x].name,
		    sim->nodes[sim->fork_target].name,
		    sim->nodes[v].name);
	if (x >= 0 && sim->fork_target >= 0 &&
	    node_may_write(&sim->nodes[x].node)) {
		int reach[MAX_NODES];

		reachable_from(sim, x, sim->fork_target, reach);
		if (reach[x])
			return sim_fail(sim, "%s holds the proof of a fork of "
			    "its own feed and still takes writes",
			    sim->nodes[x].name);
	}
	return 0;
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
		sim_reachable(sim, x, reach);
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
	/*
	 * A proof travels as the records do: a FORK_PROOF lost on the way
	 * is sent again once the peer's heads say the feed is not frozen
	 * there, a heartbeat or so later. Once the node that found the
	 * fork holds it frozen, the others have until the deadline.
	 */
	if (sim->fork_target >= 0 &&
	    sim_feed_frozen(sim, sim->fork_target, sim->fork_origin) &&
	    (v = fork_unspread(sim)) >= 0) {
		snprintf(why, whylen, "the proof of the fork of %s's feed has "
		    "not reached %s yet", sim->nodes[sim->fork_origin].name,
		    sim->nodes[v].name);
		return 1;
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
	return fork_proof_spread(sim);
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

/* Orders */

static int	orders_unchecked(struct sim *);

static int
service_failed_check(struct sim *sim, int i, const char *what,
    struct halle_error *err)
{
	return sim_fail(sim, "%s: %s: %s: %s", sim->nodes[i].name, what,
	    halle_strerror(err->code), err->message);
}

static int
producer_index(struct sim *sim, const char *id)
{
	int k;

	for (k = 0; id != NULL && k < sim->orders.nproducers; k++)
		if (strcmp(sim->orders.producers[k].id, id) == 0)
			return k;
	return -1;
}

static int
sku_index(const struct sim_producer *p, const char *sku)
{
	int s;

	for (s = 0; sku != NULL && s < p->nskus; s++)
		if (strcmp(p->sku[s], sku) == 0)
			return s;
	return -1;
}

static json_t *
find_line(json_t *order, const char *producer, const char *sku)
{
	json_t *l;
	size_t i;

	json_array_foreach(json_object_get(order, "lines"), i, l)
		if (strcmp(json_string_value(json_object_get(l, "producer")),
		    producer) == 0 &&
		    strcmp(json_string_value(json_object_get(l, "sku")),
		    sku) == 0)
			return l;
	return NULL;
}

static const char *
jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static json_int_t
jint(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* What a failure should say of the market's node and the home. */
static const char *
roles(struct sim *sim, int market, int home)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "%s%s%s%s%s", market == home ?
	    " (the market's node is the home)" : "",
	    sim->nodes[market].wiped ? "; the market's node lost its store" :
	    "", market != home && sim->nodes[home].wiped ?
	    "; the home lost its store" : "",
	    !node_may_write(&sim->nodes[market].node) ? "; the market's "
	    "node may not write yet" : "", market != home &&
	    !node_may_write(&sim->nodes[home].node) ?
	    "; the home may not write yet" : "");
	return buf;
}

/*
 * (2) none of its lines pending at its market's node; (3) the home of each
 * line's producer shows the same version, cancellation and ruling.
 * Adds what is confirmed to sum.
 */
static int
check_order(struct sim *sim, int m, json_t *oj,
    uint64_t sum[MAX_PRODUCERS][MAX_SKUS])
{
	struct sim_orders *o = &sim->orders;
	const char *id = jstr(oj, "id"), *mname;
	struct halle_error err;
	json_t *l, *hj, *hl;
	size_t i;
	int k, s, home;

	mname = sim->nodes[o->markets[m].node].name;
	json_array_foreach(json_object_get(oj, "lines"), i, l) {
		const char *producer = jstr(l, "producer"), *sku = jstr(l, "sku");
		json_int_t confirmed = jint(l, "confirmed");

		if ((k = producer_index(sim, producer)) == -1 ||
		    (s = sku_index(&o->producers[k], sku)) == -1)
			return sim_fail(sim, "%s: order %s has a line of %s %s "
			    "the simulator never ordered", mname, id, producer,
			    sku);
		if (!json_is_true(json_object_get(oj, "cancelled"))) {
			sum[k][s] += (uint64_t)confirmed;
			if (jint(l, "confirmed_locally") > 0)
				o->local++;
			if (confirmed == jint(l, "quantity"))
				o->confirmed++;
			else if (confirmed == 0)
				o->refused++;
			else
				o->partial++;
		}
		home = o->producers[k].home;
		if (sim->fork_origin == home ||
		    sim->fork_origin == o->markets[m].node) {
			/* Frozen where forked: what is behind may not pass. */
			o->unchecked++;
			continue;
		}
		memset(&err, 0, sizeof(err));
		if ((hj = service_order_show(&sim->nodes[home].node, id,
		    &err)) == NULL)
			return sim_fail(sim, "%s, home of %s, cannot show order "
			    "%s of %s: %s", sim->nodes[home].name, producer, id,
			    mname, err.message);
		hl = find_line(hj, producer, sku);
		if (strcmp(jstr(l, "state"), "pending") == 0) {
			sim_fail(sim, "%s: order %s (version %lld%s): %s x%lld "
			    "of %s still pending once connected; its home %s "
			    "has version %lld: %s %lld%s", mname, id,
			    (long long)jint(oj, "version"),
			    json_is_true(json_object_get(oj, "cancelled")) ?
			    ", cancelled" : "", sku, (long long)jint(l,
			    "quantity"), producer,
			    sim->nodes[home].name,
			    (long long)jint(hj, "version"),
			    hl ? jstr(hl, "state") : "no line",
			    hl ? (long long)jint(hl, "confirmed") : 0LL,
			    roles(sim, o->markets[m].node, home));
			json_decref(hj);
			return -1;
		}
		if (jint(hj, "version") != jint(oj, "version") ||
		    json_is_true(json_object_get(hj, "cancelled")) !=
		    json_is_true(json_object_get(oj, "cancelled")) ||
		    hl == NULL || confirmed != jint(hl, "confirmed") ||
		    strcmp(jstr(l, "state"), jstr(hl, "state")) != 0) {
			sim_fail(sim, "order %s, %s of %s: %s (market) has "
			    "version %lld%s, %s %lld; %s (home) has version "
			    "%lld%s, %s %lld%s", id, sku, producer, mname,
			    (long long)jint(oj, "version"),
			    json_is_true(json_object_get(oj, "cancelled")) ?
			    " cancelled" : "", jstr(l, "state"),
			    (long long)confirmed, sim->nodes[home].name,
			    (long long)jint(hj, "version"),
			    json_is_true(json_object_get(hj, "cancelled")) ?
			    " cancelled" : "", hl ? jstr(hl, "state") : "no line",
			    hl ? (long long)jint(hl, "confirmed") : 0LL,
			    roles(sim, o->markets[m].node, home));
			json_decref(hj);
			return -1;
		}
		json_decref(hj);
	}
	return 0;
}

/* Each node's view of the rights on a sku, to tell how it was oversold. */
static void
rights_dump(struct sim *sim, const struct sim_producer *p, int s)
{
	struct sim_orders *o = &sim->orders;
	struct stock_rights r;
	struct store_txn t;
	int i, m;

	for (i = 0; i < sim->n; i++) {
		if (store_read_begin(sim->nodes[i].node.store, &t) == -1)
			continue;
		printf("  %s: taken %llu\n", sim->nodes[i].name,
		    (unsigned long long)stock_taken(&t, p->id, ORDER_DATE,
		    p->sku[s]));
		for (m = 0; m < o->nmarkets; m++)
			if (stock_rights_get(&t, p->id, ORDER_DATE, p->sku[s],
			    o->markets[m].id, &r) == 0 && (r.granted ||
			    r.used || r.released || r.wanted))
				printf("    market %s at %s: granted %llu recall "
				    "%llu released %llu wanted %llu used %llu\n",
				    o->markets[m].id,
				    sim->nodes[o->markets[m].node].name,
				    (unsigned long long)r.granted,
				    (unsigned long long)r.recall,
				    (unsigned long long)r.released,
				    (unsigned long long)r.wanted,
				    (unsigned long long)r.used);
		store_read_end(&t);
	}
}

/* (1) home's sheet, home's counter and the markets' orders within stock. */
static int
check_stock(struct sim *sim, uint64_t market_sum[MAX_PRODUCERS][MAX_SKUS])
{
	struct sim_orders *o = &sim->orders;
	uint64_t sheet[MAX_SKUS], taken;
	struct halle_error err;
	struct store_txn t;
	json_t *sj, *mj, *pj;
	size_t i, j;
	int k, s, m, forked;

	for (k = 0; k < o->nproducers; k++) {
		struct sim_producer *p = &o->producers[k];
		struct sim_node *home = &sim->nodes[p->home];

		/* A feed frozen by a fork may hold rulings back. */
		forked = sim->fork_origin == p->home;
		for (m = 0; m < o->nmarkets; m++)
			forked |= sim->fork_origin == o->markets[m].node;

		memset(&err, 0, sizeof(err));
		memset(sheet, 0, sizeof(sheet));
		if ((sj = service_sheet(&home->node, p->id, ORDER_DATE, &err)) ==
		    NULL) {
			/* Lost with the store: no other node held a copy. */
			if (home->wiped && err.code == HALLE_E_UNKNOWN_PRODUCER)
				continue;
			return sim_fail(sim, "%s: no sheet for %s: %s",
			    home->name, p->id, err.message);
		}
		json_array_foreach(json_object_get(sj, "markets"), i, mj)
			json_array_foreach(json_object_get(mj, "products"), j,
			    pj)
				if ((s = sku_index(p, jstr(pj, "sku"))) >= 0)
					sheet[s] += (uint64_t)jint(pj,
					    "quantity");
		json_decref(sj);
		for (s = 0; s < p->nskus; s++) {
			if (store_read_begin(home->node.store, &t) == -1)
				return sim_fail(sim, "cannot read %s",
				    home->name);
			/* The home's rulings and the markets' own confirmations. */
			taken = stock_taken(&t, p->id, ORDER_DATE, p->sku[s]);
			for (m = 0; m < o->nmarkets; m++) {
				struct stock_rights rights;

				if (stock_rights_get(&t, p->id, ORDER_DATE,
				    p->sku[s], o->markets[m].id, &rights) == 0)
					taken += rights.used;
			}
			store_read_end(&t);
			if (sheet[s] > p->stock[s] || taken > p->stock[s] ||
			    market_sum[k][s] > p->stock[s])
				rights_dump(sim, p, s);
			if (sheet[s] > p->stock[s] || taken > p->stock[s] ||
			    market_sum[k][s] > p->stock[s])
				return sim_fail(sim, "%s of %s (home %s) oversold "
				    "on %s: %llu per day; confirmed %llu on the "
				    "home's sheet, %llu by its counter, %llu at "
				    "the markets' nodes", p->sku[s], p->id,
				    home->name, ORDER_DATE,
				    (unsigned long long)p->stock[s],
				    (unsigned long long)sheet[s],
				    (unsigned long long)taken,
				    (unsigned long long)market_sum[k][s]);
			/*
			 * A home whose own feed is forked rules no more (the
			 * stock of an order changed since stays taken), and a
			 * home that learnt of a market's fork before it held
			 * that feed up to the fork holds none of its orders
			 * past it, though it may have ruled on some before
			 * it lost its store: the counter may then count more
			 * than the sheet shows, never less.
			 */
			if ((forked ? taken < sheet[s] : taken != sheet[s]) ||
			    (!forked && sheet[s] != market_sum[k][s]))
				return sim_fail(sim, "%s of %s (home %s): "
				    "confirmed %llu on the home's sheet, %llu by "
				    "its counter, %llu at the markets' nodes",
				    p->sku[s], p->id, home->name,
				    (unsigned long long)sheet[s],
				    (unsigned long long)taken,
				    (unsigned long long)market_sum[k][s]);
		}
	}
	return 0;
}

int
sim_orders_check(struct sim *sim)
{
	struct sim_orders *o = &sim->orders;
	uint64_t sum[MAX_PRODUCERS][MAX_SKUS];
	struct halle_error err;
	json_t *list, *oj, *found[MAX_ORDERS];
	size_t i;
	int m, k, v, rc = -1;

	if (orders_unchecked(sim))
		return 0;
	memset(sum, 0, sizeof(sum));
	memset(found, 0, sizeof(found));
	o->confirmed = o->partial = o->refused = o->local = 0;
	for (m = 0; m < o->nmarkets; m++) {
		struct sim_node *mn = &sim->nodes[o->markets[m].node];

		memset(&err, 0, sizeof(err));
		if ((list = service_order_list(&mn->node, o->markets[m].dist,
		    &err)) == NULL) {
			if (mn->wiped && err.code == HALLE_E_UNKNOWN_DISTRIBUTION)
				continue;	/* lost with the store: no copy */
			return sim_fail(sim, "%s: cannot list the orders of %s: "
			    "%s", mn->name, o->markets[m].dist, err.message);
		}
		json_array_foreach(list, i, oj) {
			for (k = 0; k < o->norders; k++)
				if (strcmp(o->orders[k].id, jstr(oj, "id")) == 0)
					break;
			if (k == o->norders || o->orders[k].market != m) {
				sim_fail(sim, "%s: order %s is none the "
				    "simulator placed there", mn->name,
				    jstr(oj, "id"));
				json_decref(list);
				goto done;
			}
			found[k] = json_incref(oj);
			if (check_order(sim, m, oj, sum) == -1) {
				json_decref(list);
				goto done;
			}
		}
		json_decref(list);
	}
	/* What a market's node answered stays, unless it lost its store. */
	for (k = 0; k < o->norders; k++) {
		struct sim_order *so = &o->orders[k];

		if (so->wiped_since)
			continue;
		if (found[k] == NULL ||
		    (uint64_t)jint(found[k], "version") != so->version ||
		    json_is_true(json_object_get(found[k], "cancelled")) !=
		    so->cancelled) {
			sim_fail(sim, "%s: order %s answered at version %llu%s "
			    "is %s", sim->nodes[o->markets[so->market].node].name,
			    so->id, (unsigned long long)so->version,
			    so->cancelled ? " (cancelled)" : "",
			    found[k] ? "at another version" : "gone");
			goto done;
		}
	}
	if (check_stock(sim, sum) == -1)
		goto done;
	/* (4) Sealed: a node neither the market's nor a home cannot read it. */
	for (k = 0; k < o->norders; k++)
		for (v = 0; v < sim->n; v++) {
			if (o->orders[k].readers & (1u << v))
				continue;
			memset(&err, 0, sizeof(err));
			oj = service_order_show(&sim->nodes[v].node,
			    o->orders[k].id, &err);
			if (oj != NULL || err.code != HALLE_E_UNKNOWN_ORDER) {
				sim_fail(sim, "%s, neither the market's node nor "
				    "a home of its producers, %s order %s",
				    sim->nodes[v].name, oj ? "reads" :
				    "fails on", o->orders[k].id);
				json_decref(oj);
				goto done;
			}
		}
	rc = 0;
done:
	for (k = 0; k < o->norders; k++)
		json_decref(found[k]);
	return rc;
}

/* 1 when the checks of orders skip this seed (see HALLE_SIM_ORDERS). */
static int
orders_unchecked(struct sim *sim)
{
	struct sim_orders *o = &sim->orders;
	int k;

	if (!o->on || sim->orders_mode < 2)
		return 1;
	if (sim->orders_mode != 3)
		return 0;
	for (k = 0; k < o->nproducers; k++)
		if (sim->nodes[o->producers[k].home].wiped)
			return 1;
	for (k = 0; k < o->nmarkets; k++)
		if (sim->nodes[o->markets[k].node].wiped)
			return 1;
	return 0;
}

int
sim_orders_close(struct sim *sim)
{
	struct sim_orders *o = &sim->orders;
	struct halle_error err;
	json_t *req, *ans, *sj, *mj;
	size_t i;
	int m, k, marked;

	if (orders_unchecked(sim))
		return 0;
	/* Past the close (36 h before the day's start), a day later. */
	sim_clock_skip = 2 * 86400 * 1000LL;
	for (m = 0; m < o->nmarkets; m++) {
		struct sim_market *mk = &o->markets[m];
		struct sim_node *mn = &sim->nodes[mk->node];

		memset(&err, 0, sizeof(err));
		if ((ans = service_distribution_show(&mn->node, mk->dist,
		    &err)) == NULL) {
			if (mn->wiped && err.code == HALLE_E_UNKNOWN_DISTRIBUTION)
				continue;	/* lost with the store */
			return service_failed_check(sim, mk->node,
			    "showing the distribution", &err);
		}
		json_decref(ans);
		if (mk->node == sim->fork_origin && !node_may_write(&mn->node))
			continue;	/* its own feed forked: it writes no more */
		if ((marked = service_close_due(&mn->node, &err)) != 1)
			return marked == -1 ? service_failed_check(sim, mk->node,
			    "closing due distributions", &err) :
			    sim_fail(sim, "%s: closing due distributions marked "
			    "%d, not its 1", mn->name, marked);
		sim_own_appended(sim, mk->node);
		for (k = 0; k < o->nproducers && !mk->sells[k]; k++)
			;
		if (k == o->nproducers)
			continue;
		req = json_pack("{s:s, s:s, s:[{s:s, s:s, s:i}]}",
		    "distribution", mk->dist, "basket", "en retard", "lines",
		    "producer", o->producers[k].id, "sku",
		    o->producers[k].sku[0], "quantity", 1);
		ans = testapi_order_place(&mn->node, req, &err);
		json_decref(req);
		if (ans != NULL || err.code != HALLE_E_ORDER_WINDOW_CLOSED) {
			json_decref(ans);
			return sim_fail(sim, "%s: an order placed after the close "
			    "is not refused as order_window_closed (%s)",
			    mn->name, ans ? "placed" : halle_strerror(err.code));
		}
	}
	if (sim_settle(sim, "closing the distributions") == -1)
		return -1;
	for (k = 0; k < o->nproducers; k++) {
		struct sim_producer *p = &o->producers[k];
		struct sim_node *home = &sim->nodes[p->home];

		if ((sj = service_sheet(&home->node, p->id, ORDER_DATE, &err)) ==
		    NULL) {
			if (home->wiped && err.code == HALLE_E_UNKNOWN_PRODUCER)
				continue;
			return service_failed_check(sim, p->home, "a sheet", &err);
		}
		json_array_foreach(json_object_get(sj, "markets"), i, mj) {
			for (m = 0; m < o->nmarkets; m++)
				if (strcmp(o->markets[m].id, jstr(mj, "id")) == 0)
					break;
			if (m < o->nmarkets &&
			    sim->fork_origin == o->markets[m].node)
				continue;	/* its close may be held back */
			if (!json_is_true(json_object_get(mj, "final"))) {
				sim_fail(sim, "%s: the sheet of %s for %s is not "
				    "final once %s marked its distribution "
				    "closed", home->name, p->id, jstr(mj, "id"),
				    m < o->nmarkets ? sim->nodes[
				    o->markets[m].node].name : "?");
				json_decref(sj);
				return -1;
			}
		}
		json_decref(sj);
	}
	return 0;
}
