/*
 * sim: a deterministic simulator of the sync protocol (lib/sync.h).
 *
 * Each seed builds a small federation: 3 to 7 real nodes (struct node on an
 * LMDB store in a temporary directory, keys derived from the seed), a
 * peering topology (line, star or random connected graph, never every pair
 * peered) and groupings. The nodes' sync engines talk through a simulated
 * network driven by a virtual clock and one PRNG, so a seed replays exactly:
 *
 *   node i --outbox--> [loss, duplication, latency/reordering,  ] --> node j
 *                      [partitions (cut links), crashes         ]
 *
 * During the active phase every node writes records of its own feed, links
 * are cut and healed, nodes crash (their sync state is dropped and the node
 * is reopened from its store, which is what survives kill -9), and
 * adversaries flip a byte in runs on the wire, send garbage and truncated
 * messages, inject a second validly signed record for a seq a node holds
 * (a fork) and push the feed of an origin the receiver shares no grouping
 * with. Then every fault is healed and the simulation runs until the
 * federation is quiet, and checks:
 *
 *   - every node that may hold a feed and is connected to its origin
 *     through nodes that may hold it has the origin's head (seq and hash);
 *   - no node holds a feed it may not see; feed_verify passes everywhere;
 *   - no tampered or forged record is stored anywhere, every fork that
 *     reached a node froze the feed there and left a proof;
 *   - once converged, every link is up with no lag, carries a few small
 *     messages per heartbeat, and a new record reaches every node that may
 *     see it within a heartbeat (live push).
 *
 * Orders ride on the same faults. After an initial sync, producers (with
 * a limited stock per day) get a home node, markets a node that reaches
 * some homes and back; the markets' nodes invite, the homes accept, each
 * market opens one distribution on the same date. During the active phase
 * the markets' nodes place, change and cancel orders (a node that lost its
 * store waits until sync_own_feed_safe, as for its other writes). Once
 * converged:
 *
 *   - for each producer, date and product, what is confirmed (the home's
 *     sheet, the home's stock counter, the markets' nodes' orders) never
 *     exceeds the stock per day, and the three agree;
 *   - no line of any order is pending at its market's node, and the home
 *     of each line's producer shows the same version and ruling;
 *   - an order the simulator was answered for is there as answered,
 *     unless its market's node lost its store since;
 *   - a node that is neither the market's nor a home of one of the
 *     order's producers cannot read it (unknown_order);
 *   - then, the nodes' clock moved past the close of orders: each market's
 *     node marks its distribution closed, refuses orders, and once settled
 *     every home's sheet says final.
 *
 * What a node that lost its store cannot get back (no other node held its
 * feed) is not looked for; the rulings of a line whose market's node or
 * home is the origin of a fork are not compared (its feed is frozen where
 * the fork reached), nor are markets' totals, but no sheet may oversell.
 *
 * HALLE_SIM_ORDERS=0 leaves orders out (the seeds then run as before
 * orders were simulated); HALLE_SIM_ORDERS=traffic keeps the orders but
 * skips what is checked of them; HALLE_SIM_ORDERS=no-store-loss skips it
 * only in seeds where a market's node or a producer's home lost its store
 * (to run the rest while an orders' failure is being fixed).
 *
 * Before the seeds, two pairs of nodes check refusals: a peer of another
 * protocol version, a peer whose key is not the configured one.
 *
 * A failing seed prints "replay with: sim --seed N".
 *
 *   sim [--seed FIRST] [--seeds COUNT] [-v]
 */
#include "sim.h"

static void
add_event(struct sim *sim, enum event_kind kind, int64_t at, int a, int b,
    int c, int count, int64_t duration)
{
	struct event *ev;

	if (sim->nevents >= MAX_EVENTS)
		return;
	ev = &sim->events[sim->nevents++];
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->at = sim->t0 + at;		/* times are of the active phase */
	ev->a = a;
	ev->b = b;
	ev->c = c;
	ev->count = count;
	ev->duration = duration;
}

static void
random_link(struct sim *sim, int *a, int *b)
{
	do {
		*a = (int)rng_range(0, sim->n - 1);
		*b = (int)rng_range(0, sim->n - 1);
	} while (!sim->link[*a][*b]);
}

static void
plan(struct sim *sim)
{
	int i, k, a, b, c, left, burst;

	for (i = 0; i < sim->n; i++) {
		left = (int)rng_range(20, 60);
		if (rng_chance(0.3)) {
			/* A long run: credit runs out and is granted again. */
			add_event(sim, EV_WRITE, rng_range(0, ACTIVE_MS - 1000),
			    i, 0, 0, (int)rng_range(100, 200), 0);
		}
		while (left > 0) {
			burst = (int)rng_range(1, 6);
			if (burst > left)
				burst = left;
			add_event(sim, EV_WRITE, rng_range(0, ACTIVE_MS - 1000),
			    i, 0, 0, burst, 0);
			left -= burst;
		}
	}
	/* Faults may last past the active phase: healing ends them. */
	for (k = (int)rng_range(0, 4); k > 0; k--) {
		random_link(sim, &a, &b);
		if (rng_chance(0.3))
			b = -1;		/* a partition around node a */
		add_event(sim, EV_CUT, rng_range(0, ACTIVE_MS - 1000), a, b,
		    0, 0, rng_range(1000, 20000));
	}
	for (k = (int)rng_range(0, 3); k > 0; k--)
		add_event(sim, EV_CRASH, rng_range(1000, ACTIVE_MS - 1000),
		    (int)rng_range(0, sim->n - 1), 0, 0, 0,
		    rng_range(0, 10000));
	if (rng_chance(0.3))
		add_event(sim, EV_DISK_LOSS, rng_range(1000, ACTIVE_MS - 1000),
		    (int)rng_range(0, sim->n - 1), 0, 0, 0,
		    rng_range(0, 10000));
	for (k = (int)rng_range(0, 3); k > 0; k--) {
		random_link(sim, &a, &b);
		add_event(sim, EV_TAMPER, rng_range(0, ACTIVE_MS - 1000), a,
		    b, 0, 0, 0);
	}
	for (k = (int)rng_range(0, 3); k > 0; k--) {
		random_link(sim, &a, &b);
		add_event(sim, EV_GARBAGE, rng_range(0, ACTIVE_MS - 1000), a,
		    b, 0, 0, 0);
	}
	if (rng_chance(0.4)) {
		/* Fork of origin c, into a node b that may hold it, from a. */
		c = (int)rng_range(0, sim->n - 1);
		random_link(sim, &a, &b);
		if (b != c && sim_may_hold(sim, b, c))
			add_event(sim, EV_FORK, rng_range(20000,
			    ACTIVE_MS - 10000), c, a, b, 0, 0);
	}
	for (a = 0; sim->orders.on && a < sim->orders.nmarkets; a++) {
		for (k = (int)rng_range(4, 10); k > 0; k--)
			add_event(sim, EV_ORDER, rng_range(0, ACTIVE_MS - 1000),
			    a, 0, 0, ORDER_PLACE, 0);
		for (k = (int)rng_range(0, 4); k > 0; k--)
			add_event(sim, EV_ORDER, rng_range(10000,
			    ACTIVE_MS - 1000), a, 0, 0, ORDER_CHANGE, 0);
		for (k = (int)rng_range(0, 2); k > 0; k--)
			add_event(sim, EV_ORDER, rng_range(10000,
			    ACTIVE_MS - 1000), a, 0, 0, ORDER_CANCEL, 0);
	}
	for (k = 0; k < 8; k++) {
		/* Feed of c pushed by a (who may hold it) to b (who may not). */
		random_link(sim, &a, &b);
		c = (int)rng_range(0, sim->n - 1);
		if (sim_may_hold(sim, a, c) && !sim_may_hold(sim, b, c)) {
			add_event(sim, EV_FOREIGN, rng_range(5000,
			    ACTIVE_MS - 10000), a, b, c, 0, 0);
			break;
		}
	}
}

static int
run_events(struct sim *sim)
{
	int e, i;

	for (e = 0; e < sim->nevents; e++) {
		struct event *ev = &sim->events[e];

		if (ev->done || ev->at > sim_now)
			continue;
		switch (ev->kind) {
		case EV_WRITE:
			if (sim->nodes[ev->a].sync == NULL ||
			    !node_may_write(&sim->nodes[ev->a].node))
				continue;	/* later, once it is back */
			if (sim_write(sim, ev->a, ev->count) == -1)
				return -1;
			break;
		case EV_ORDER:
			i = sim->orders.markets[ev->a].node;
			if (sim->nodes[i].sync == NULL ||
			    !node_may_write(&sim->nodes[i].node))
				continue;	/* later, once it is back */
			if (sim_order_op(sim, ev->a, ev->count) == -1)
				return -1;
			break;
		case EV_CUT:
			sim_cut(sim, ev->a, ev->b, ev->duration);
			break;
		case EV_CRASH:
		case EV_DISK_LOSS:
			if (sim->nodes[ev->a].sync != NULL)
				sim_crash(sim, ev->a, ev->duration,
				    ev->kind == EV_DISK_LOSS);
			break;
		case EV_TAMPER:
			sim->pending_tamper[ev->a][ev->b] = 1;
			break;
		case EV_GARBAGE:
			sim->pending_garbage[ev->a][ev->b] = 1;
			break;
		case EV_FORK:
			sim->pending_inject[ev->b][ev->c] = ev;
			continue;	/* done once injected */
		case EV_FOREIGN:
			sim->pending_inject[ev->a][ev->b] = ev;
			continue;
		}
		ev->done = 1;
	}
	return 0;
}

/* What halled's chores do on their timer: stock rights (stock.h). */
static int
sim_chores(struct sim *sim, int i)
{
	struct halle_error err;

	if (service_stock_work(&sim->nodes[i].node, &err) == -1)
		return sim_fail(sim, "%s: stock work: %s", sim->nodes[i].name,
		    err.message);
	return 0;
}

/* One step of virtual time: restarts, events, deliveries, ticks. */
int
sim_step(struct sim *sim, int active)
{
	struct sim_msg *m;
	int i;

	for (i = 0; i < sim->n; i++) {
		if (sim->nodes[i].sync == NULL &&
		    sim->nodes[i].dead_until <= sim_now &&
		    sim_restart(sim, i) == -1)
			return -1;
	}
	if (active && run_events(sim) == -1)
		return -1;
	while ((m = sim->queue) != NULL && m->at <= sim_now) {
		sim->queue = m->next;
		if (sim->nodes[m->to].sync != NULL)
			sim_deliver(sim, m);
		free(m->buf);
		free(m);
		if (sim->failure[0] != '\0')
			return -1;
	}
	if (sim_now % TICK_MS == 0)
		for (i = 0; i < sim->n; i++)
			if (sim->nodes[i].sync != NULL) {
				struct halle_error err;

				/*
				 * The engine ends a node's wait for its own
				 * feed; then, as halled's chores, the node
				 * rules what waited (nothing until it may).
				 */
				sync_on_tick(sim->nodes[i].sync, sim_clock());
				if (service_rule_pending(&sim->nodes[i].node,
				    &err) == -1)
					return sim_fail(sim, "%s: rule "
					    "pending: %s", sim->nodes[i].name,
					    err.message);
				if (sim_now % CHORES_MS == 0 &&
				    sim_chores(sim, i) == -1)
					return -1;
				sim_own_appended(sim, i);
				sim_drain(sim, i);
			}
	return sim->failure[0] != '\0' ? -1 : 0;
}

static int	orders_mode = 2;	/* HALLE_SIM_ORDERS, see sim.h */

/* The slowest convergence after healing of the seeds run, for the summary. */
static int64_t	slowest_ms = -1;
static uint64_t	slowest_seed;

static int
run_seed(uint64_t seed, int verbose)
{
	static struct sim sim;
	char why[256] = "";
	const char *tmp = getenv("TMPDIR");
	int rc = -1;

	memset(&sim, 0, sizeof(sim));
	sim.seed = seed;
	sim.verbose = verbose;
	rng_state = seed * 0x2545f4914f6cdd1dULL + 1;
	sim_now = sim_clock_skip = 0;
	snprintf(sim.root, sizeof(sim.root), "%s/halle-sim-XXXXXX",
	    tmp ? tmp : "/tmp");
	if (mkdtemp(sim.root) == NULL) {
		fprintf(stderr, "sim: mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	sim.orders_mode = orders_mode;
	if (sim_setup(&sim) == -1)
		goto done;
	if (sim.orders_mode && sim_orders_setup(&sim) == -1)
		goto done;
	sim.t0 = sim_now;
	plan(&sim);
	if (verbose)
		printf("seed %llu: %d nodes, %s, %d groupings, loss %.2f, "
		    "dup %.2f, %d events, %d producers, %d markets%s\n",
		    (unsigned long long)seed, sim.n, sim.topology,
		    sim.ngroupings, sim.loss, sim.dup, sim.nevents,
		    sim.orders.nproducers, sim.orders.nmarkets,
		    sim.orders_mode && !sim.orders.on ? " (none selling)" : "");
	for (; sim_now < sim.t0 + ACTIVE_MS; sim_now += STEP_MS)
		if (sim_step(&sim, 1) == -1)
			goto done;
	sim_heal(&sim);
	for (;; sim_now += STEP_MS) {
		if (sim_step(&sim, 0) == -1)
			goto done;
		if (sim_now % 1000 != 0)
			continue;
		if ((rc = sim_converged(&sim, why, sizeof(why))) == -1)
			goto done;
		if (rc == 0)
			break;
		if (sim_now > sim.t0 + ACTIVE_MS + HEAL_LIMIT_MS) {
			rc = sim_fail(&sim, "no convergence %d s after healing: %s",
			    HEAL_LIMIT_MS / 1000, why);
			goto done;
		}
	}
	if (sim_now - (sim.t0 + ACTIVE_MS) > slowest_ms) {
		slowest_ms = sim_now - (sim.t0 + ACTIVE_MS);
		slowest_seed = seed;
	}
	rc = -1;
	if (sim_orders_check(&sim) == -1 || sim_orders_close(&sim) == -1)
		goto done;
	if (sim.fork_origin < 0 && (sim_quiet_traffic(&sim) == -1 ||
	    sim_live_push(&sim) == -1))
		goto done;
	if (sim_final_checks(&sim) == -1)
		goto done;
	rc = 0;
	if (verbose)
		printf("seed %llu: converged at t=%llds, %llu messages, "
		    "tampered %llu/%llu, forks %llu, foreign %llu\n",
		    (unsigned long long)seed, (long long)(sim_now / 1000),
		    (unsigned long long)sim.delivered,
		    (unsigned long long)sim.tampered,
		    (unsigned long long)sim.tamper_tries,
		    (unsigned long long)sim.forks,
		    (unsigned long long)sim.foreign);
	if (verbose && sim.orders.on)
		printf("seed %llu: orders placed %llu, changed %llu, cancelled "
		    "%llu, refused after store loss %llu; lines confirmed "
		    "%llu, in part %llu, refused %llu, behind a fork %llu; "
		    "confirmed by their market's node from stock rights "
		    "%llu\n",
		    (unsigned long long)seed,
		    (unsigned long long)sim.orders.placed,
		    (unsigned long long)sim.orders.changed,
		    (unsigned long long)sim.orders.cancelled,
		    (unsigned long long)sim.orders.skipped,
		    (unsigned long long)sim.orders.confirmed,
		    (unsigned long long)sim.orders.partial,
		    (unsigned long long)sim.orders.refused,
		    (unsigned long long)sim.orders.unchecked,
		    (unsigned long long)sim.orders.local);
done:
	if (rc != 0) {
		fprintf(stderr, "sim: seed %llu FAILED at t=%lld ms "
		    "(%d nodes, %s): %s\n", (unsigned long long)seed,
		    (long long)sim_now, sim.n, sim.topology, sim.failure);
		fprintf(stderr, "replay with: sim --seed %llu\n",
		    (unsigned long long)seed);
		fprintf(stderr, "stores kept in %s\n", sim.root);
	}
	sim_teardown(&sim, rc != 0);
	return rc;
}

static int
refused_for(struct sim *sim, int i, int peer, const char *word)
{
	struct sync_peer_stats st;

	if (sync_peer_stats(sim->nodes[i].sync, peer, &st) == -1)
		return 0;
	return st.state == SYNC_REFUSED && strstr(st.last_error, word);
}

/*
 * Two nodes of one grouping, the second speaking only protocol version 2
 * (wrong_key 0), or the first expecting another key for the second
 * (wrong_key 1): each must refuse the other, and its status must say why,
 * while both keep their records to themselves.
 */
static int
refusal_check(int wrong_key)
{
	const char *word = wrong_key ? "key" : "version";
	static struct sim sim;
	const char *tmp = getenv("TMPDIR");
	struct feed_head h;
	int rc = -1;

	memset(&sim, 0, sizeof(sim));
	rng_state = 42;
	sim_now = sim_clock_skip = 0;
	snprintf(sim.root, sizeof(sim.root), "%s/halle-sim-XXXXXX",
	    tmp ? tmp : "/tmp");
	if (mkdtemp(sim.root) == NULL)
		return -1;
	sim.n = 2;
	sim.link[0][1] = sim.link[1][0] = 1;
	sim.nodes[0].groups = sim.nodes[1].groups = 1;
	sim.ngroupings = 1;
	sim.latency_max = 5;
	if (wrong_key)
		sim.nodes[0].wrong_keys = 1;
	else
		sim.nodes[1].version = SYNC_PROTOCOL_VERSION + 1;
	if (sim_setup_nodes(&sim) == -1 || sim_write(&sim, 0, 3) == -1)
		goto done;
	for (; sim_now < 10 * HEARTBEAT_MS; sim_now += STEP_MS)
		if (sim_step(&sim, 0) == -1)
			goto done;
	if (!refused_for(&sim, 0, 0, word) || !refused_for(&sim, 1, 0, word))
		sim_fail(&sim, "a peer with the wrong %s is not refused with the "
		    "reason", word);
	else if (sim_head(&sim, 1, 0, &h) == -1 || h.seq != 0)
		sim_fail(&sim, "records reached a refused peer");
	else
		rc = 0;
done:
	if (rc != 0)
		fprintf(stderr, "sim: %s check FAILED: %s\n", word,
		    sim.failure);
	sim_teardown(&sim, 0);
	return rc;
}

static void
usage(void)
{
	fprintf(stderr, "usage: sim [--seed FIRST] [--seeds COUNT] [-v]\n"
	    "  --seed N alone replays seed N; --seeds N runs seeds 1..N "
	    "(30 by default),\n  from FIRST when given; -v tells what "
	    "happens, -v -v logs too\n"
	    "  HALLE_SIM_ORDERS=0 leaves orders out, =traffic does not "
	    "check them,\n  =no-store-loss does not after a home's or "
	    "market's node lost its store\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	uint64_t first = 1, count = 0, s;
	int i, verbose = 0, failed = 0, one = 0;
	const char *env;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
			first = strtoull(argv[++i], NULL, 10);
			one = 1;
		} else if (strcmp(argv[i], "--seeds") == 0 && i + 1 < argc)
			count = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "-v") == 0)
			verbose++;
		else
			usage();
	}
	if (count == 0)
		count = one ? 1 : 30;
	if ((env = getenv("HALLE_SIM_ORDERS")) != NULL)
		orders_mode = strcmp(env, "0") == 0 ? 0 :
		    strcmp(env, "traffic") == 0 ? 1 :
		    strcmp(env, "no-store-loss") == 0 ? 3 : 2;
	if (orders_mode != 2)
		fprintf(stderr, "sim: HALLE_SIM_ORDERS=%s: orders %s\n", env,
		    orders_mode == 0 ? "left out" : orders_mode == 1 ?
		    "not checked" : "not checked after a home or market "
		    "node lost its store");
	log_init(verbose > 1 ? LOG_LEVEL_INFO : LOG_LEVEL_ERROR, "sim");
	if (sim_entropy_init() == -1) {
		fprintf(stderr, "sim: cannot feed libsodium\n");
		return 1;
	}
	if (refusal_check(0) != 0 || refusal_check(1) != 0)
		failed++;
	for (s = first; s < first + count; s++)
		if (run_seed(s, verbose) != 0)
			failed++;
	printf("sim: %llu seeds, %d failed", (unsigned long long)count,
	    failed);
	if (slowest_ms >= 0)
		printf(", slowest convergence %lld ms after healing (seed "
		    "%llu)", (long long)slowest_ms,
		    (unsigned long long)slowest_seed);
	printf("\n");
	return failed ? 1 : 0;
}
