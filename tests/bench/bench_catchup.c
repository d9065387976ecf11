/*
 * bench_catchup: how fast a node takes in another node's feed.
 *
 * Node A writes N records (Producer bodies of about 300 bytes, signed, in
 * its own LMDB store); node B then catches up from A's store in runs of R
 * records, each run checked (chain, last signature), appended, applied to
 * the views and committed durably, exactly as a peer's run would be. The
 * transport is not part of this figure.
 *
 * Beside its figures it prints this machine's limits measured in the same
 * run (Ed25519 verifications/s, LMDB puts/s in one transaction, ZeroMQ
 * PUSH->PULL messages/s over TCP loopback), since absolute times drift on
 * shared machines and ratios hold.
 *
 *   bench_catchup [-n RECORDS] [-r RUN]     (defaults 1000000 and 2000)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <zmq.h>

#include "feed.h"
#include "ingest.h"
#include "node.h"
#include "record.h"
#include "views.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
limit_verify(void)
{
	unsigned char pk[32], sk[64], sig[64], msg[512];
	double t0, dt;
	int i, n = 20000;

	crypto_sign_keypair(pk, sk);
	randombytes_buf(msg, sizeof(msg));
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk);
	t0 = now_s();
	for (i = 0; i < n; i++)
		if (crypto_sign_verify_detached(sig, msg, sizeof(msg), pk) != 0)
			abort();
	dt = now_s() - t0;
	return n / dt;
}

struct puts_ctx {
	int	 n;
};

static int
puts_op(struct store_txn *t, void *arg)
{
	struct puts_ctx *ctx = arg;
	unsigned char val[512];
	char key[32];
	int i;

	memset(val, 7, sizeof(val));
	for (i = 0; i < ctx->n; i++) {
		snprintf(key, sizeof(key), "k%09d", i);
		store_put(t, STORE_META, key, strlen(key), val, sizeof(val));
	}
	return 0;
}

static double
limit_lmdb(const char *dir)
{
	struct puts_ctx ctx = { 200000 };
	struct store *s;
	char err[256];
	double t0, dt;

	if (store_open(&s, dir, 256 << 20, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	t0 = now_s();
	if (store_write(s, puts_op, &ctx, err, sizeof(err)) != 0)
		exit(1);
	dt = now_s() - t0;
	store_close(&s);
	return ctx.n / dt;
}

static void *
pull_thread(void *arg)
{
	void *pull = arg;
	char buf[512];
	int i;

	for (i = 0; i < 200000; i++)
		zmq_recv(pull, buf, sizeof(buf), 0);
	return NULL;
}

static double
limit_zmq(void)
{
	void *ctx = zmq_ctx_new(), *push, *pull;
	char buf[512], endpoint[64];
	size_t elen = sizeof(endpoint);
	pthread_t th;
	double t0, dt;
	int i;

	memset(buf, 1, sizeof(buf));
	pull = zmq_socket(ctx, ZMQ_PULL);
	push = zmq_socket(ctx, ZMQ_PUSH);
	zmq_bind(pull, "tcp://127.0.0.1:*");
	zmq_getsockopt(pull, ZMQ_LAST_ENDPOINT, endpoint, &elen);
	zmq_connect(push, endpoint);
	pthread_create(&th, NULL, pull_thread, pull);
	t0 = now_s();
	for (i = 0; i < 200000; i++)
		zmq_send(push, buf, sizeof(buf), 0);
	pthread_join(th, NULL);
	dt = now_s() - t0;
	zmq_close(push);
	zmq_close(pull);
	zmq_ctx_term(ctx);
	return 200000 / dt;
}

struct fill_ctx {
	long	 from, count;
};

/* A writes count producers: one record each, ~300-byte bodies. */
static int
fill_op(struct node_txn *nt, void *arg)
{
	struct fill_ctx *ctx = arg;
	Halle__Producer p = HALLE__PRODUCER__INIT;
	char id[16], name[64], farm[128], town[64], email[64];
	long i;

	for (i = ctx->from; i < ctx->from + ctx->count; i++) {
		snprintf(id, sizeof(id), "pr-%012lx", (unsigned long)i);
		snprintf(name, sizeof(name), "Ferme numéro %ld du plateau", i);
		snprintf(farm, sizeof(farm), "GAEC des producteurs associés "
		    "du val et des coteaux, exploitation %ld", i);
		snprintf(town, sizeof(town), "Saint-Martin-de-la-Vallée-%ld", i);
		snprintf(email, sizeof(email), "contact%ld@ferme.example", i);
		p.id = id;
		p.version = 1;
		p.name = name;
		p.farm = farm;
		p.town = town;
		p.email = email;
		p.phone = "+33 5 55 00 00 00";
		if (node_append(nt, HALLE__RECORD_KIND__RECORD_KIND_PRODUCER,
		    &p.base) == -1)
			return -1;
	}
	return 0;
}

static void
node_in(struct node *n, struct halle_config *cfg, const char *dir,
    const char *name)
{
	char path[256], err[256];

	memset(cfg, 0, sizeof(*cfg));
	cfg->name = strdup(name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	cfg->data_dir = strdup(path);
	snprintf(path, sizeof(path), "%s/%s.key", dir, name);
	cfg->key_file = strdup(path);
	cfg->control = strdup("unused");
	cfg->listen = strdup("tcp://127.0.0.1:1");
	cfg->timezone = strdup("Europe/Paris");
	cfg->map_size = 64 << 20;
	if (node_open(n, cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
}

struct run_ctx {
	const unsigned char	*origin;
	struct ingest_bytes	*run;
	size_t			 n;
	struct ingest_report	 rep;
};

static int
run_op(struct node_txn *nt, void *arg)
{
	struct run_ctx *ctx = arg;

	return ingest_run(nt, ctx->origin, ctx->run, ctx->n, &ctx->rep);
}

int
main(int argc, char *argv[])
{
	struct halle_config cfg_a, cfg_b;
	struct node a, b;
	struct halle_error err;
	char dir[] = "/tmp/halle-bench.XXXXXX", path[300];
	long records = 1000000, run_len = 2000, i;
	double t0, dt, verify, puts, zmq, bytes = 0;
	int ch;

	while ((ch = getopt(argc, argv, "n:r:")) != -1) {
		if (ch == 'n')
			records = atol(optarg);
		else if (ch == 'r')
			run_len = atol(optarg);
		else {
			fprintf(stderr, "usage: bench_catchup [-n N] [-r RUN]\n");
			return 2;
		}
	}
	if (records < 1 || run_len < 1 || mkdtemp(dir) == NULL)
		return 2;
	if (sodium_init() < 0)
		return 1;

	printf("machine limits, measured now (one core, 512-byte items):\n");
	verify = limit_verify();
	printf("  Ed25519 verify          %10.0f /s\n", verify);
	snprintf(path, sizeof(path), "%s/lmdb", dir);
	puts = limit_lmdb(path);
	printf("  LMDB puts, one txn      %10.0f /s\n", puts);
	zmq = limit_zmq();
	printf("  ZeroMQ PUSH->PULL tcp   %10.0f msg/s\n", zmq);

	node_in(&a, &cfg_a, dir, "commune-a");
	node_in(&b, &cfg_b, dir, "commune-b");
	t0 = now_s();
	for (i = 0; i < records; i += 20000) {
		struct fill_ctx f = { i, records - i < 20000 ? records - i : 20000 };

		if (node_mutate(&a, fill_op, &f, &err) == -1) {
			fprintf(stderr, "fill: %s\n", err.message);
			return 1;
		}
	}
	printf("source feed: %ld records written and signed in %.1f s\n",
	    records, now_s() - t0);

	struct ingest_bytes *run = calloc(run_len, sizeof(*run));
	t0 = now_s();
	for (i = 1; i <= records; i += run_len) {
		struct store_txn t;
		struct run_ctx rc;
		long n = records - i + 1 < run_len ? records - i + 1 : run_len, k;
		const void *buf;
		size_t len;

		/* Copy the run out, as it would arrive in a message. */
		store_read_begin(a.store, &t);
		for (k = 0; k < n; k++) {
			feed_get(&t, a.key.public_key, (uint64_t)(i + k), &buf,
			    &len);
			run[k].data = malloc(len);
			memcpy((void *)run[k].data, buf, len);
			run[k].len = len;
			bytes += len;
		}
		store_read_end(&t);
		rc.origin = a.key.public_key;
		rc.run = run;
		rc.n = (size_t)n;
		if (node_mutate(&b, run_op, &rc, &err) == -1 ||
		    rc.rep.result != INGEST_OK || rc.rep.accepted != (uint64_t)n) {
			fprintf(stderr, "run at %ld refused: %s %s\n", i,
			    err.message, rc.rep.reason);
			return 1;
		}
		for (k = 0; k < n; k++)
			free((void *)run[k].data);
	}
	dt = now_s() - t0;
	free(run);
	printf("catch-up: %ld records (%.0f bytes each on average) in runs "
	    "of %ld, durable\n", records, bytes / records, run_len);
	printf("  %.2f s, %.0f records/s (target 250000)\n", dt, records / dt);
	printf("  ratios: %.2f x Ed25519 verify rate, %.2f x LMDB one-txn put "
	    "rate, %.2f x ZeroMQ loopback rate\n", records / dt / verify,
	    records / dt / puts, records / dt / zmq);
	node_close(&a);
	node_close(&b);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	return system(path) == 0 ? 0 : 1;
}
