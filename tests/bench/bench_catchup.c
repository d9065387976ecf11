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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bench_util.h"
#include "feed.h"
#include "ingest.h"
#include "node.h"
#include "record.h"
#include "views.h"

static void
open_node(struct node *n, struct halle_config *cfg, const char *dir,
    const char *name)
{
	char err[256];

	bench_node_config(cfg, dir, name, "tcp://127.0.0.1:1");
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

	bench_print_limits(dir, &verify, &puts, &zmq);
	open_node(&a, &cfg_a, dir, "commune-a");
	open_node(&b, &cfg_b, dir, "commune-b");
	t0 = bench_now_s();
	if (bench_fill(&a, records, NULL) == -1)
		return 1;
	printf("source feed: %ld records written and signed in %.1f s\n",
	    records, bench_now_s() - t0);

	struct ingest_bytes *run = calloc(run_len, sizeof(*run));
	t0 = bench_now_s();
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
	dt = bench_now_s() - t0;
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
