/*
 * sim_world: the simulated federation's nodes. A seed's PRNG and virtual
 * clock; the setup of 3 to 7 real nodes (deterministic keys, topology,
 * groupings, each node's sync engine configured as halled would); their
 * writes; crashes, with or without the loss of the store.
 */
#include "sim.h"

uint64_t	rng_state;
int64_t		sim_now;

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

static int
write_key(struct sim_node *sn)
{
	unsigned char seed[32];
	char hex[65];
	FILE *f;
	int i;

	for (i = 0; i < 32; i += 8) {
		uint64_t r = rng_next();

		memcpy(seed + i, &r, 8);
	}
	hex_encode(hex, seed, 32);
	if ((f = fopen(sn->key_file, "w")) == NULL)
		return -1;
	fprintf(f, "%s\n", hex);
	fclose(f);
	return chmod(sn->key_file, 0600);
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

static int
open_node(struct sim *sim, int i)
{
	struct sim_node *sn = &sim->nodes[i];
	char err[256];

	if (node_open(&sn->node, &sn->cfg, err, sizeof(err)) == -1)
		return sim_fail(sim, "%s: node_open: %s", sn->name, err);
	sn->node.clock_ms = sim_clock;
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

/* Opens the nodes and starts their engines, once n, links, groups are set. */
int
sim_setup_nodes(struct sim *sim)
{
	int i, j;

	sim->fork_origin = sim->fork_target = -1;
	for (i = 0; i < sim->n; i++) {
		struct sim_node *sn = &sim->nodes[i];

		snprintf(sn->name, sizeof(sn->name), "n%d", i);
		snprintf(sn->dir, sizeof(sn->dir), "%s/%s", sim->root,
		    sn->name);
		snprintf(sn->data_dir, sizeof(sn->data_dir), "%s/data",
		    sn->dir);
		snprintf(sn->key_file, sizeof(sn->key_file), "%s/node.key",
		    sn->dir);
		if (mkdir(sn->dir, 0700) == -1 || write_key(sn) == -1)
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
				sn->peer_node[sn->npeers++] = j;
			}
		}
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
		sn->recovering = 1;
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
