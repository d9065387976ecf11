/*
 * bench_util: see bench_util.h.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>
#include <zmq.h>

#include "bench_util.h"
#include "feed.h"
#include "ids.h"
#include "views.h"

double
bench_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

double
bench_limit_verify(void)
{
	unsigned char pk[32], sk[64], sig[64], msg[512];
	double t0, dt;
	int i, n = 20000;

	crypto_sign_keypair(pk, sk);
	randombytes_buf(msg, sizeof(msg));
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk);
	t0 = bench_now_s();
	for (i = 0; i < n; i++)
		if (crypto_sign_verify_detached(sig, msg, sizeof(msg), pk) != 0)
			abort();
	dt = bench_now_s() - t0;
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

double
bench_limit_lmdb(const char *dir)
{
	struct puts_ctx ctx = { 200000 };
	struct store *s;
	char err[256];
	double t0, dt;

	if (store_open(&s, dir, 256 << 20, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	t0 = bench_now_s();
	if (store_write(s, puts_op, &ctx, err, sizeof(err)) != 0)
		exit(1);
	dt = bench_now_s() - t0;
	store_close(&s);
	return ctx.n / dt;
}

struct commit_ctx {
	int	 i;
};

static int
commit_op(struct store_txn *t, void *arg)
{
	struct commit_ctx *ctx = arg;
	unsigned char val[512];
	char key[32];

	memset(val, 7, sizeof(val));
	snprintf(key, sizeof(key), "c%09d", ctx->i);
	return store_put(t, STORE_META, key, strlen(key), val, sizeof(val));
}

double
bench_limit_commits(const char *dir)
{
	struct commit_ctx ctx = { 0 };
	struct store *s;
	char err[256];
	double t0, dt;
	int n = 2000;

	if (store_open(&s, dir, 64 << 20, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	t0 = bench_now_s();
	for (ctx.i = 0; ctx.i < n; ctx.i++)
		if (store_write(s, commit_op, &ctx, err, sizeof(err)) != 0)
			exit(1);
	dt = bench_now_s() - t0;
	store_close(&s);
	return n / dt;
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

double
bench_limit_zmq(void)
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
	t0 = bench_now_s();
	for (i = 0; i < 200000; i++)
		zmq_send(push, buf, sizeof(buf), 0);
	pthread_join(th, NULL);
	dt = bench_now_s() - t0;
	zmq_close(push);
	zmq_close(pull);
	zmq_ctx_term(ctx);
	return 200000 / dt;
}

struct fill_ctx {
	long			 from, count;
	const unsigned char	*sealed_to;
	size_t			 pad;	/* bytes of farm text, for large ones */
};

/* An order part of about 300 bytes once sealed, for one home node. */
static int
fill_order(struct node_txn *nt, long i, char *label,
    const unsigned char *home)
{
	Halle__Order o = HALLE__ORDER__INIT;
	Halle__OrderLine line = HALLE__ORDER_LINE__INIT, *lines[1] = { &line };
	char id[16];

	snprintf(id, sizeof(id), "or-%012lx", (unsigned long)i);
	o.id = id;
	o.version = 1;
	o.distribution = "ds-000000000001";
	o.basket = label;
	o.mediator = "Espace France Services";
	line.producer = "pr-000000000001";
	line.sku = "PAIN-1KG";
	line.quantity = 2;
	line.price_cents = 450;
	line.vat_bp = 550;
	line.name = "Pain de campagne au levain";
	o.lines = lines;
	o.n_lines = 1;
	return node_append_sealed(nt, HALLE__RECORD_KIND__RECORD_KIND_ORDER,
	    &o.base, home);
}

/* A writes count producers: one record each, ~300-byte bodies. */
static int
fill_op(struct node_txn *nt, void *arg)
{
	struct fill_ctx *ctx = arg;
	Halle__Producer p = HALLE__PRODUCER__INIT;
	char id[16], name[64], farm[128], town[64], email[64];
	struct feed_head head;
	char *big = NULL;
	long i;

	/* Large records: the farm's text padded to ctx->pad bytes. */
	if (ctx->pad > 0) {
		if ((big = malloc(ctx->pad + 1)) == NULL)
			return -1;
		memset(big, 'x', ctx->pad);
		big[ctx->pad] = '\0';
	}
	for (i = ctx->from; i < ctx->from + ctx->count; i++) {
		/* The id its record makes, as the node's own service would. */
		if (feed_head(nt->t, nt->node->key.public_key, &head) == -1)
			return -1;
		ids_bound(id, "pr", nt->node->key.public_key, head.seq + 1);
		snprintf(name, sizeof(name), "Ferme numéro %ld du plateau", i);
		snprintf(farm, sizeof(farm), "GAEC des producteurs associés "
		    "du val et des coteaux, exploitation %ld", i);
		snprintf(town, sizeof(town), "Saint-Martin-de-la-Vallée-%ld", i);
		snprintf(email, sizeof(email), "contact%ld@ferme.example", i);
		p.id = id;
		p.version = 1;
		p.name = name;
		p.farm = big != NULL ? big : farm;
		p.town = town;
		p.email = email;
		p.phone = "+33 5 55 00 00 00";
		if (ctx->sealed_to != NULL) {
			if (fill_order(nt, i, farm, ctx->sealed_to) == -1)
				break;
			continue;
		}
		if (node_append(nt, HALLE__RECORD_KIND__RECORD_KIND_PRODUCER,
		    &p.base) == -1)
			break;
	}
	free(big);
	return i < ctx->from + ctx->count ? -1 : 0;
}

void
bench_node_config(struct halle_config *cfg, const char *dir, const char *name,
    const char *listen)
{
	char path[512];

	memset(cfg, 0, sizeof(*cfg));
	cfg->name = strdup(name);
	snprintf(path, sizeof(path), "%s/%s/data", dir, name);
	cfg->data_dir = strdup(path);
	snprintf(path, sizeof(path), "%s/%s/node.key", dir, name);
	cfg->key_file = strdup(path);
	snprintf(path, sizeof(path), "%s/%s/control.sock", dir, name);
	cfg->control = strdup(path);
	cfg->listen = strdup(listen);
	cfg->timezone = strdup("Europe/Paris");
	cfg->map_size = 64 << 20;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	mkdir(path, 0700);
}

int
bench_fill(struct node *n, long count, const unsigned char *sealed_to)
{
	return bench_fill_padded(n, count, sealed_to, 0);
}

int
bench_fill_padded(struct node *n, long count, const unsigned char *sealed_to,
    size_t pad)
{
	struct halle_error err;
	long i, step = pad > 0 ? 64 : 20000;

	for (i = 0; i < count; i += step) {
		struct fill_ctx f = { i, count - i < step ? count - i : step,
		    sealed_to, pad };

		if (node_mutate(n, fill_op, &f, &err) == -1) {
			fprintf(stderr, "fill: %s\n", err.message);
			return -1;
		}
	}
	return 0;
}

void
bench_print_limits(const char *dir, double *verify, double *puts, double *zmq)
{
	char path[512];

	printf("machine limits, measured now (one core, 512-byte items):\n");
	*verify = bench_limit_verify();
	printf("  Ed25519 verify          %10.0f /s\n", *verify);
	snprintf(path, sizeof(path), "%s/lmdb-limit", dir);
	*puts = bench_limit_lmdb(path);
	printf("  LMDB puts, one txn      %10.0f /s\n", *puts);
	*zmq = bench_limit_zmq();
	printf("  ZeroMQ PUSH->PULL tcp   %10.0f msg/s\n", *zmq);
}
