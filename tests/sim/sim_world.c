/*
 * sim_world: the simulated federation's nodes. A seed's PRNG and virtual
 * clock; the setup of 3 to 7 real nodes (deterministic keys, topology,
 * groupings, each node's sync engine configured as halled would); their
 * writes; crashes, with or without the loss of the store. The orders'
 * world: producers, markets, memberships and a distribution day set up
 * through the service functions (lib/service.h) as hallectl would, then
 * orders placed, changed and cancelled at the markets' nodes.
 */
#include "sim.h"
#include "testapi.h"

uint64_t	rng_state;
int64_t		sim_now;
int64_t		sim_clock_skip;

static int	rm_entry(const char *, const struct stat *, int, struct FTW *);

uint64_t
rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
int64_t
rng_range(int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rng_next() % (uint64_t)(hi - lo + 1));
}

int
rng_chance(double p)
{
	return (double)(rng_next() >> 11) / (double)(1ULL << 53) < p;
}

int64_t
sim_clock(void)
{
	return EPOCH_MS + sim_now;
}

/* The nodes' clock: the engines' one, moved on by sim_clock_skip. */
static int64_t
node_clock(void)
{
	return sim_clock() + sim_clock_skip;
}

int __attribute__((format(printf, 2, 3)))
sim_fail(struct sim *sim, const char *fmt, ...)
{
	va_list ap;

	if (sim->failure[0] != '\0')
		return -1;
	va_start(ap, fmt);
	vsnprintf(sim->failure, sizeof(sim->failure), fmt, ap);
	va_end(ap);
	return -1;
}

static int
shares(const struct sim *sim, int a, int b)
{
	return (sim->nodes[a].groups & sim->nodes[b].groups) != 0;
}

/* 1 when node v may hold the feed of node x. */
int
sim_may_hold(const struct sim *sim, int v, int x)
{
	return v == x || shares(sim, v, x);
}

/*
 * The nodes' own randomness (their keys, made by node_open as on a first
 * start, and the nonces of sealed bodies) comes from libsodium, which the
 * simulator feeds from a generator of its own, seeded by the seed's plan,
 * so that a seed replays exactly.
 */
static uint64_t	entropy_state;

static uint32_t
entropy_random(void)
{
	uint64_t z = (entropy_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (uint32_t)(z ^ (z >> 31));
}

static void
entropy_buf(void *buf, size_t size)
{
	unsigned char *p = buf;
	size_t i;

	for (i = 0; i < size; i++)
		p[i] = (unsigned char)entropy_random();
}

static const char *
entropy_name(void)
{
	return "halle-sim";
}

static randombytes_implementation entropy = {
	.implementation_name = entropy_name,
	.random = entropy_random,
	.buf = entropy_buf,
};

int
sim_entropy_init(void)
{
	return randombytes_set_implementation(&entropy) == 0 &&
	    sodium_init() >= 0 ? 0 : -1;
}

static void
build_topology(struct sim *sim)
{
	int i, j, kind = (int)rng_range(0, 2);

	memset(sim->link, 0, sizeof(sim->link));
	for (i = 1; i < sim->n; i++) {
		if (kind == 0)
			j = i - 1;			/* line */
		else if (kind == 1)
			j = 0;				/* star */
		else
			j = (int)rng_range(0, i - 1);	/* random tree */
		sim->link[i][j] = sim->link[j][i] = 1;
	}
	if (kind == 2) {
		/* A few more edges, but never every pair peered. */
		int complete = 1;

		for (i = 0; i < sim->n; i++)
			for (j = i + 1; j < sim->n; j++) {
				if (!sim->link[i][j] && rng_chance(0.25))
					sim->link[i][j] = sim->link[j][i] = 1;
				complete &= sim->link[i][j];
			}
		if (complete)
			sim->link[0][sim->n - 1] = sim->link[sim->n - 1][0] = 0;
	}
	sim->topology = kind == 0 ? "line" : kind == 1 ? "star" : "random";
}

static void
build_groupings(struct sim *sim)
{
	int i, g, kind = (int)rng_range(0, 2);

	for (i = 0; i < sim->n; i++)
		sim->nodes[i].groups = 0;
	if (kind == 0) {
		sim->ngroupings = 1;
		for (i = 0; i < sim->n; i++)
			sim->nodes[i].groups = 1;
		return;
	}
	if (kind == 1) {
		/* Two groupings overlapping on the middle node(s). */
		int cut = (int)rng_range(1, sim->n - 2);

		sim->ngroupings = 2;
		for (i = 0; i < sim->n; i++)
			sim->nodes[i].groups = (i <= cut ? 1 : 0) |
			    (i >= cut ? 2 : 0);
		return;
	}
	sim->ngroupings = (int)rng_range(1, 3);
	for (g = 0; g < sim->ngroupings; g++)
		for (i = 0; i < sim->n; i++)
			if (rng_chance(0.6))
				sim->nodes[i].groups |= 1u << g;
	for (i = 0; i < sim->n; i++)
		if (sim->nodes[i].groups == 0)
			sim->nodes[i].groups = 1u << rng_range(0,
			    sim->ngroupings - 1);
}

static int
start_sync(struct sim *sim, int i)
{
	struct sim_node *sn = &sim->nodes[i];
	struct sync_peer_config peers[MAX_NODES];
	struct sync_grouping_config groupings[8];
	unsigned char members[8][MAX_NODES][KEY_PUBLIC_LEN];
	struct sync_config cfg;
	int g, k, j, n;

	memset(&cfg, 0, sizeof(cfg));
	for (k = 0; k < sn->npeers; k++) {
		j = sn->peer_node[k];
		memset(&peers[k], 0, sizeof(peers[k]));
		snprintf(peers[k].name, sizeof(peers[k].name), "%s",
		    sim->nodes[j].name);
		memcpy(peers[k].key, sim->nodes[j].key, KEY_PUBLIC_LEN);
		peers[k].key[0] ^= sn->wrong_keys ? 1 : 0;
		/* Every simulated link is one this node reaches by itself. */
		peers[k].dialled = 1;
	}
	/* Like a configuration: the groupings it is in, without itself. */
	for (g = n = 0; g < sim->ngroupings; g++) {
		if (!(sn->groups & (1u << g)))
			continue;
		memset(&groupings[n], 0, sizeof(groupings[n]));
		snprintf(groupings[n].name, sizeof(groupings[n].name), "g%d",
		    g);
		groupings[n].members = (const unsigned char (*)[32])members[n];
		for (j = 0; j < sim->n; j++)
			if (j != i && (sim->nodes[j].groups & (1u << g)))
				memcpy(members[n][groupings[n].nmembers++],
				    sim->nodes[j].key, KEY_PUBLIC_LEN);
		n++;
	}
	cfg.peers = peers;
	cfg.npeers = (size_t)sn->npeers;
	cfg.groupings = groupings;
	cfg.ngroupings = (size_t)n;
	cfg.heartbeat_ms = HEARTBEAT_MS;
	cfg.session = rng_next() | 1;
	cfg.version = cfg.min_version = sn->version;
	if ((sn->sync = sync_new(&sn->node, &cfg)) == NULL)
		return sim_fail(sim, "%s: sync_new failed", sn->name);
	sync_on_tick(sn->sync, sim_clock());
	for (k = 0; k < sn->npeers; k++)
		sync_on_connect(sn->sync, k);
	return 0;
}

/*
 * Like halled's: a record the node appended of its own while ingesting (a
 * home node's ruling on an order) is pushed once the engine is done.
 */
static void
on_own_append(void *arg)
{
	((struct sim_node *)arg)->own_dirty = 1;
}

void
sim_own_appended(struct sim *sim, int i)
{
	struct sim_node *sn = &sim->nodes[i];

	if (!sn->own_dirty || sn->sync == NULL)
		return;
	sn->own_dirty = 0;
	sync_local_appended(sn->sync);
	sim_drain(sim, i);
}

static int
open_node(struct sim *sim, int i)
{
	struct sim_node *sn = &sim->nodes[i];
	char err[256];

	if (node_open(&sn->node, &sn->cfg, err, sizeof(err)) == -1)
		return sim_fail(sim, "%s: node_open: %s", sn->name, err);
	sn->node.clock_ms = node_clock;
	sn->node.on_own_append = on_own_append;
	sn->node.on_own_append_arg = sn;
	sn->own_dirty = 0;
	memcpy(sn->key, sn->node.key.public_key, KEY_PUBLIC_LEN);
	return 0;
}

int
sim_setup(struct sim *sim)
{
	sim->n = (int)rng_range(3, MAX_NODES);
	build_topology(sim);
	build_groupings(sim);
	sim->loss = rng_range(0, 20) / 100.0;
	sim->dup = rng_range(0, 10) / 100.0;
	sim->latency_max = rng_range(2, 80);
	return sim_setup_nodes(sim);
}

/* "dir/name" into out (outlen bytes); -1 when it does not fit. */
static int
path_join(char *out, size_t outlen, const char *dir, const char *name)
{
	int n = snprintf(out, outlen, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* Opens the nodes and starts their engines, once n, links, groups are set. */
int
sim_setup_nodes(struct sim *sim)
{
	int i, j;

	sim->fork_origin = sim->fork_target = -1;
	entropy_state = rng_next();
	for (i = 0; i < sim->n; i++) {
		struct sim_node *sn = &sim->nodes[i];

		snprintf(sn->name, sizeof(sn->name), "n%d", i);
		if (path_join(sn->dir, sizeof(sn->dir), sim->root,
		    sn->name) == -1 || path_join(sn->data_dir,
		    sizeof(sn->data_dir), sn->dir, "data") == -1 ||
		    path_join(sn->key_file, sizeof(sn->key_file), sn->dir,
		    "node.key") == -1)
			return sim_fail(sim, "%s: path too long", sim->root);
		if (mkdir(sn->dir, 0700) == -1)
			return sim_fail(sim, "%s: %s", sn->dir, strerror(errno));
		sn->cfg.name = sn->name;
		sn->cfg.data_dir = sn->data_dir;
		sn->cfg.key_file = sn->key_file;
		sn->cfg.control = (char *)"";
		sn->cfg.listen = (char *)"";
		sn->cfg.timezone = (char *)"UTC";
		sn->cfg.log_level = LOG_LEVEL_ERROR;
		sn->cfg.map_size = 16 * 1024 * 1024;
		if (open_node(sim, i) == -1)
			return -1;
	}
	for (i = 0; i < sim->n; i++) {
		struct sim_node *sn = &sim->nodes[i];

		for (j = 0; j < sim->n; j++) {
			sn->peer_index[j] = -1;
			if (sim->link[i][j]) {
				sn->peer_index[j] = sn->npeers;
				struct config_peer *cp =
				    &sn->cfg_peers[sn->npeers];

				cp->name = sim->nodes[j].name;
				memcpy(cp->key, sim->nodes[j].key,
				    KEY_PUBLIC_LEN);
				sn->peer_node[sn->npeers++] = j;
			}
		}
		/* Its peers, as halled's configuration names them. */
		sn->cfg.peers = sn->cfg_peers;
		sn->cfg.npeers = (size_t)sn->npeers;
	}
	for (i = 0; i < sim->n; i++)
		if (start_sync(sim, i) == -1)
			return -1;
	return 0;
}

/* Producer records: the simplest body the views accept. */
struct write_ctx {
	int	node;
	int	count;
	int	*versions;
	char	*big;
};

static int
write_op(struct node_txn *nt, void *arg)
{
	struct write_ctx *c = arg;
	Halle__Producer p = HALLE__PRODUCER__INIT;
	char id[32], name[64];
	int k;

	for (k = 0; k < c->count; k++) {
		int v = *c->versions + k;

		snprintf(id, sizeof(id), "pr-%02x%010x", c->node, v % 20);
		snprintf(name, sizeof(name), "Ferme %d-%d", c->node, v);
		p.id = id;
		p.version = (uint64_t)(v / 20 + 1);
		p.name = name;
		/* Now and then a big record, so runs split by bytes too. */
		p.farm = v % 37 == 5 ? c->big : name;
		p.town = (char *)"Saint-Sim";
		if (node_append(nt, HALLE__RECORD_KIND__RECORD_KIND_PRODUCER,
		    &p.base) == -1)
			return -1;
	}
	return 0;
}

int
sim_write(struct sim *sim, int i, int count)
{
	struct sim_node *sn = &sim->nodes[i];
	struct halle_error err;
	struct write_ctx c = { i, count, &sn->versions, NULL };
	size_t big = (size_t)rng_range(1000, 150000);

	if ((c.big = malloc(big + 1)) == NULL)
		return sim_fail(sim, "out of memory");
	memset(c.big, 'x', big);
	c.big[big] = '\0';
	memset(&err, 0, sizeof(err));
	if (node_mutate(&sn->node, write_op, &c, &err) != 0) {
		free(c.big);
		return sim_fail(sim, "%s: writing %d records: %s", sn->name, count,
		    err.message);
	}
	free(c.big);
	sn->versions += count;
	sync_local_appended(sn->sync);
	sim_drain(sim, i);
	return 0;
}

/* Kills node i; with wipe, its store is lost too (its key is kept). */
int
sim_crash(struct sim *sim, int i, int64_t downtime, int wipe)
{
	struct sim_node *sn = &sim->nodes[i];

	if (sim->verbose)
		printf("  t=%lld: %s crashes for %lld ms%s\n",
		    (long long)sim_now, sn->name, (long long)downtime,
		    wipe ? ", losing its store" : "");
	sync_destroy(&sn->sync);
	node_close(&sn->node);
	sn->dead_until = sim_now + downtime;
	sn->wipe |= wipe;
	if (wipe) {
		int k;

		sn->wiped = 1;
		for (k = 0; k < sim->orders.norders; k++)
			if (sim->orders.markets[sim->orders.orders[k].market].node
			    == i)
				sim->orders.orders[k].wiped_since = 1;
	}
	if (wipe && i == sim->fork_target)
		sim->fork_target = -1;		/* its proof is gone with it */
	return 0;
}

int
sim_restart(struct sim *sim, int i)
{
	struct sim_node *sn = &sim->nodes[i];
	int k, j;

	sn->dead_until = 0;
	if (sn->wipe) {
		nftw(sn->data_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		sn->wipe = 0;
	}
	if (open_node(sim, i) == -1 || start_sync(sim, i) == -1)
		return -1;
	sim_drain(sim, i);
	/* Half the time the peers' transports notice the lost link. */
	for (k = 0; k < sn->npeers; k++) {
		j = sn->peer_node[k];
		if (sim->nodes[j].sync == NULL || !rng_chance(0.5))
			continue;
		sync_on_disconnect(sim->nodes[j].sync,
		    sim->nodes[j].peer_index[i]);
		sync_on_connect(sim->nodes[j].sync,
		    sim->nodes[j].peer_index[i]);
		sim_drain(sim, j);
	}
	return 0;
}

int
sim_head(struct sim *sim, int v, int x, struct feed_head *h)
{
	struct store_txn t;
	int rc;

	if (store_read_begin(sim->nodes[v].node.store, &t) == -1)
		return -1;
	rc = feed_head(&t, sim->nodes[x].key, h);
	store_read_end(&t);
	return rc;
}

int
sim_feed_frozen(struct sim *sim, int v, int x)
{
	struct store_txn t;
	struct feed_head h;
	int frozen = 0;

	if (store_read_begin(sim->nodes[v].node.store, &t) == -1)
		return 0;
	if (feed_head(&t, sim->nodes[x].key, &h) == 0)
		frozen = (h.flags & FEED_FROZEN) != 0;
	store_read_end(&t);
	return frozen;
}

uint64_t
sim_rejected(struct sim *sim, int to, int from)
{
	struct sync_peer_stats st;
	struct sim_node *sn = &sim->nodes[to];

	if (sync_peer_stats(sn->sync, sn->peer_index[from], &st) == -1)
		return 0;
	return st.rejected;
}

/* The orders' world */

int
sim_settle(struct sim *sim, const char *what)
{
	char why[256] = "";
	int64_t end = sim_now + SETTLE_LIMIT_MS;
	int rc;

	for (;;) {
		if (sim_now % TICK_MS == 0) {
			if ((rc = sim_converged(sim, why, sizeof(why))) == -1)
				return -1;
			if (rc == 0)
				return 0;
		}
		if (sim_now > end)
			return sim_fail(sim, "%s: no convergence after %d s: %s",
			    what, SETTLE_LIMIT_MS / 1000, why);
		sim_now += STEP_MS;
		if (sim_step(sim, 0) == -1)
			return -1;
	}
}

/* What a service function refused, as one line. */
static int
service_failed(struct sim *sim, int i, const char *what, struct halle_error *err)
{
	return sim_fail(sim, "%s: %s: %s: %s", sim->nodes[i].name, what,
	    halle_strerror(err->code), err->message);
}

/* The "id" of a service answer, copied into id; consumes ans. */
static int
answer_id(struct sim *sim, int i, const char *what, json_t *ans,
    struct halle_error *err, char *id, size_t idlen)
{
	const char *s;

	if (ans == NULL)
		return service_failed(sim, i, what, err);
	s = json_string_value(json_object_get(ans, "id"));
	if (s == NULL || strlen(s) >= idlen) {
		json_decref(ans);
		return sim_fail(sim, "%s: %s: an answer without an id",
		    sim->nodes[i].name, what);
	}
	snprintf(id, idlen, "%s", s);
	json_decref(ans);
	sim_own_appended(sim, i);
	return 0;
}

static int
add_producer(struct sim *sim, int k)
{
	struct sim_producer *p = &sim->orders.producers[k];
	struct sim_node *sn;
	struct halle_error err;
	json_t *req, *products, *ans;
	char name[64];
	int s;

	p->home = (int)rng_range(0, sim->n - 1);
	sn = &sim->nodes[p->home];
	memset(&err, 0, sizeof(err));
	snprintf(name, sizeof(name), "Producteur %d", k);
	req = json_pack("{s:s, s:s, s:s}", "name", name, "farm", name,
	    "town", "Saint-Sim");
	ans = testapi_producer_add(&sn->node, req, &err);
	json_decref(req);
	if (answer_id(sim, p->home, "adding a producer", ans, &err, p->id,
	    sizeof(p->id)) == -1)
		return -1;
	p->nskus = (int)rng_range(1, MAX_SKUS);
	products = json_array();
	for (s = 0; s < p->nskus; s++) {
		snprintf(p->sku[s], sizeof(p->sku[s]), "sku-%d", s);
		p->stock[s] = (uint64_t)rng_range(5, 30);
		json_array_append_new(products, json_pack("{s:s, s:s, s:I, "
		    "s:I, s:I}", "sku", p->sku[s], "name", p->sku[s],
		    "price_cents", (json_int_t)rng_range(50, 2000),
		    "vat_bp", (json_int_t)550,
		    "stock_per_day", (json_int_t)p->stock[s]));
	}
	req = json_pack("{s:o}", "products", products);
	ans = testapi_catalogue_publish(&sn->node, p->id, req, &err);
	json_decref(req);
	return answer_id(sim, p->home, "publishing a catalogue", ans, &err,
	    name, sizeof(name));
}

int
sim_orders_setup(struct sim *sim)
{
	struct sim_orders *o = &sim->orders;
	struct halle_error err;
	int reach[MAX_NODES][MAX_NODES];	/* [x][v]: x's feed reaches v */
	int mutual[MAX_NODES][MAX_PRODUCERS], cand[MAX_NODES], invited[
	    MAX_MARKETS][MAX_PRODUCERS];
	int ncand = 0, i, j, k, m, any = 0;
	json_t *req, *ans;
	char name[64];

	memset(o, 0, sizeof(*o));
	memset(invited, 0, sizeof(invited));
	memset(&err, 0, sizeof(err));
	if (sim_settle(sim, "initial sync") == -1)
		return -1;
	for (i = 0; i < sim->n; i++)
		sim_reachable(sim, i, reach[i]);
	o->nproducers = (int)rng_range(2, MAX_PRODUCERS);
	for (k = 0; k < o->nproducers; k++)
		if (add_producer(sim, k) == -1)
			return -1;
	/* Markets at nodes that reach a producer's home and back. */
	for (i = 0; i < sim->n; i++) {
		int useful = 0;

		for (k = 0; k < o->nproducers; k++) {
			j = o->producers[k].home;
			mutual[i][k] = reach[i][j] && reach[j][i];
			useful |= mutual[i][k];
		}
		if (useful)
			cand[ncand++] = i;
	}
	for (i = ncand - 1; i > 0; i--) {
		j = (int)rng_range(0, i);
		k = cand[i];
		cand[i] = cand[j];
		cand[j] = k;
	}
	o->nmarkets = (int)rng_range(2, MAX_MARKETS);
	if (o->nmarkets > ncand)
		o->nmarkets = ncand;
	for (m = 0; m < o->nmarkets; m++) {
		struct sim_market *mk = &o->markets[m];

		mk->node = cand[m];
		snprintf(name, sizeof(name), "Marché %d", m);
		req = json_pack("{s:s, s:s, s:s}", "name", name, "place",
		    "Place du marché", "town", "Saint-Sim");
		ans = testapi_market_add(&sim->nodes[mk->node].node, req, &err);
		json_decref(req);
		if (answer_id(sim, mk->node, "adding a market", ans, &err,
		    mk->id, sizeof(mk->id)) == -1)
			return -1;
	}
	if (sim_settle(sim, "producers and markets") == -1)
		return -1;
	/* The markets invite, and open their day. */
	for (m = 0; m < o->nmarkets; m++) {
		struct sim_market *mk = &o->markets[m];

		for (k = 0; k < o->nproducers; k++) {
			if (!mutual[mk->node][k] || !rng_chance(0.9))
				continue;
			ans = service_market_membership(&sim->nodes[mk->node].node,
			    mk->id, 'I', o->producers[k].id, 1, &err);
			if (answer_id(sim, mk->node, "inviting a producer", ans,
			    &err, name, sizeof(name)) == -1)
				return -1;
			invited[m][k] = 1;
		}
		req = json_pack("{s:s, s:s, s:s, s:s}", "market", mk->id,
		    "date", ORDER_DATE, "from", ORDER_FROM, "to", ORDER_TO);
		ans = testapi_distribution_open(&sim->nodes[mk->node].node, req,
		    &err);
		json_decref(req);
		if (answer_id(sim, mk->node, "opening a distribution", ans,
		    &err, mk->dist, sizeof(mk->dist)) == -1)
			return -1;
	}
	if (sim_settle(sim, "invitations") == -1)
		return -1;
	/* The producers' homes accept. */
	for (m = 0; m < o->nmarkets; m++)
		for (k = 0; k < o->nproducers; k++) {
			struct sim_producer *p = &o->producers[k];

			if (!invited[m][k] || !rng_chance(0.9))
				continue;
			ans = service_market_membership(&sim->nodes[p->home].node,
			    o->markets[m].id, 'A', p->id, 1, &err);
			if (answer_id(sim, p->home, "accepting a market", ans,
			    &err, name, sizeof(name)) == -1)
				return -1;
			o->markets[m].sells[k] = 1;
			any = 1;
		}
	if (sim_settle(sim, "acceptances") == -1)
		return -1;
	o->on = any;
	return 0;
}

/* Random lines from what market m sells, as the request wants them. */
static json_t *
random_lines(struct sim *sim, int m, uint32_t *readers)
{
	struct sim_orders *o = &sim->orders;
	int pick[MAX_PRODUCERS * MAX_SKUS][2], n = 0, i, j, k, s, t[2];
	json_t *lines = json_array();

	for (k = 0; k < o->nproducers; k++)
		for (s = 0; o->markets[m].sells[k] &&
		    s < o->producers[k].nskus; s++) {
			pick[n][0] = k;
			pick[n++][1] = s;
		}
	for (i = (int)rng_range(1, n < 3 ? n : 3), j = 0; j < i; j++) {
		k = (int)rng_range(j, n - 1);
		memcpy(t, pick[j], sizeof(t));
		memcpy(pick[j], pick[k], sizeof(t));
		memcpy(pick[k], t, sizeof(t));
		k = pick[j][0];
		*readers |= 1u << o->producers[k].home;
		json_array_append_new(lines, json_pack("{s:s, s:s, s:I}",
		    "producer", o->producers[k].id,
		    "sku", o->producers[k].sku[pick[j][1]],
		    "quantity", (json_int_t)rng_range(1, 8)));
	}
	return lines;
}

/*
 * A refusal of an order operation is a failure, unless the market's node
 * lost its store: what it lost (the producers it knew, the order, its last
 * version) may not be back yet, or ever.
 */
static int
order_refused(struct sim *sim, int i, const char *what,
    struct halle_error *err)
{
	if ((err->code == HALLE_E_STORE || err->code == HALLE_E_INTERNAL) || !sim->nodes[i].wiped)
		return service_failed(sim, i, what, err);
	sim->orders.skipped++;
	if (sim->verbose)
		printf("  t=%lld: %s: %s refused after store loss: %s\n",
		    (long long)sim_now, sim->nodes[i].name, what,
		    halle_strerror(err->code));
	return 0;
}

int
sim_order_op(struct sim *sim, int m, int op)
{
	struct sim_orders *o = &sim->orders;
	struct sim_market *mk = &o->markets[m];
	struct sim_node *sn = &sim->nodes[mk->node];
	struct sim_order *so = NULL;
	struct halle_error err;
	int live[MAX_ORDERS], nlive = 0, k;
	json_t *req, *ans;
	uint32_t readers = 1u << mk->node;

	for (k = 0; k < o->nproducers && !mk->sells[k]; k++)
		;
	if (k == o->nproducers)
		return 0;	/* no producer sells there */
	memset(&err, 0, sizeof(err));
	for (k = 0; k < o->norders; k++)
		if (o->orders[k].market == m && !o->orders[k].cancelled)
			live[nlive++] = k;
	if (op != ORDER_PLACE && nlive == 0)
		op = ORDER_PLACE;
	if (op == ORDER_PLACE) {
		if (o->norders >= MAX_ORDERS)
			return 0;
		req = json_pack("{s:s, s:s, s:o}", "distribution", mk->dist,
		    "basket", "panier", "lines", random_lines(sim, m,
		    &readers));
		ans = testapi_order_place(&sn->node, req, &err);
		json_decref(req);
		if (ans == NULL)
			return order_refused(sim, mk->node, "placing an order",
			    &err);
		so = &o->orders[o->norders++];
		memset(so, 0, sizeof(*so));
		so->market = m;
		snprintf(so->id, sizeof(so->id), "%s",
		    json_string_value(json_object_get(ans, "id")));
		o->placed++;
	} else {
		so = &o->orders[live[rng_range(0, nlive - 1)]];
		if (op == ORDER_CHANGE) {
			req = json_pack("{s:o}", "lines", random_lines(sim, m,
			    &readers));
			/* Whether or not it takes, those homes may hear of it. */
			so->readers |= readers;
			ans = testapi_order_change(&sn->node, so->id, req, &err);
			json_decref(req);
		} else
			ans = service_order_cancel(&sn->node, so->id, &err);
		if (ans == NULL)
			return order_refused(sim, mk->node, op == ORDER_CHANGE ?
			    "changing an order" : "cancelling an order", &err);
		if (op == ORDER_CHANGE)
			o->changed++;
		else {
			o->cancelled++;
			so->cancelled = 1;
		}
	}
	so->readers |= readers;
	so->version = (uint64_t)json_integer_value(json_object_get(ans,
	    "version"));
	if (sim->verbose) {
		json_t *l;
		size_t i;

		printf("  t=%lld: %s: order %s %s, version %llu:",
		    (long long)sim_now, sn->name, so->id, op == ORDER_PLACE ?
		    "placed" : op == ORDER_CHANGE ? "changed" : "cancelled",
		    (unsigned long long)so->version);
		json_array_foreach(json_object_get(ans, "lines"), i, l)
			printf(" %s/%s x%lld", json_string_value(json_object_get(
			    l, "producer")), json_string_value(json_object_get(
			    l, "sku")), (long long)json_integer_value(
			    json_object_get(l, "quantity")));
		printf("\n");
	}
	json_decref(ans);
	sim_own_appended(sim, mk->node);
	return 0;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	return remove(path);
}

void
sim_teardown(struct sim *sim, int keep)
{
	struct sim_msg *m;
	int i;

	while ((m = sim->queue) != NULL) {
		sim->queue = m->next;
		free(m->buf);
		free(m);
	}
	for (i = 0; i < sim->n; i++) {
		sync_destroy(&sim->nodes[i].sync);
		if (sim->nodes[i].node.store != NULL)
			node_close(&sim->nodes[i].node);
	}
	for (i = 0; i < sim->npoison; i++)
		free(sim->poison[i].bytes);
	if (!keep)
		nftw(sim->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
