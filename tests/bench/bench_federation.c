/*
 * bench_federation: real halled processes on loopback, measured end to end.
 *
 *   1. catch-up: node A holds N records (Producer bodies of about 300
 *      bytes); node B starts empty and dials A. Timed from B's start until
 *      B holds A's whole feed, every run checked (chain, last signature)
 *      and committed durably by B;
 *   2. latency: with C dialling B (A and C not peered), a record written
 *      at A through its control API, until it is readable in C's store
 *      (median and 99th percentile over W writes);
 *   3. idle traffic: the peer protocol bytes A exchanges with B per minute
 *      when nothing changes.
 *
 * B's and C's stores are read from this process with LMDB read
 * transactions while the daemons run (LMDB allows readers in other
 * processes). Beside the figures it prints the machine's limits measured
 * in the same run.
 *
 *   bench_federation [-s] [-n RECORDS] [-w WRITES] [-i IDLE_SECONDS]
 *                    (defaults 1000000, 200, 20)
 *
 * With -s, A's records are order parts sealed to C: B stores and relays
 * them without reading them, as most nodes do with most orders. With
 * -l KB, each record is a Producer of about KB kilobytes (4,000 of 235 KB
 * make a backlog of about 1 GB): beside the rate it prints the peak
 * resident memory of A and B and whether B saw A go down meanwhile.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "bench_util.h"
#include "ctl_http.h"
#include "feed.h"
#include "node.h"
#include "store.h"

#ifndef HALLED_PATH
#define HALLED_PATH "halled"
#endif

struct proc {
	const char	*name;
	char		 conf[512], sock[512], data[512];
	char		 key_hex[KEY_HEX_LEN + 1];
	unsigned char	 key[KEY_PUBLIC_LEN];
	int		 port;
	pid_t		 pid;
};

static char workdir[] = "/tmp/halle-bench-fed.XXXXXX";

static void
die(const char *what)
{
	fprintf(stderr, "bench_federation: %s\n", what);
	exit(1);
}

/*
 * Makes the node's key, store and directory through libhalle, as
 * `halled --show-id` does: a new node, writable at once.
 */
static void
proc_init(struct proc *p, const char *name, int port)
{
	struct halle_config cfg;
	struct node node;
	char listen[64], err[256];

	p->name = name;
	p->port = port;
	snprintf(listen, sizeof(listen), "tcp://127.0.0.1:%d", port);
	bench_node_config(&cfg, workdir, name, listen);
	if (node_open(&node, &cfg, err, sizeof(err)) == -1)
		die(err);
	memcpy(p->key, node.key.public_key, KEY_PUBLIC_LEN);
	hex_encode(p->key_hex, node.key.public_key, KEY_PUBLIC_LEN);
	node_close(&node);
	snprintf(p->conf, sizeof(p->conf), "%s/%s.conf", workdir, name);
	snprintf(p->sock, sizeof(p->sock), "%s", cfg.control);
	snprintf(p->data, sizeof(p->data), "%s", cfg.data_dir);
	config_free(&cfg);
}

/* Writes p's configuration: its peers (dialled when dial is set). */
static void
proc_config(struct proc *p, struct proc **peers, const int *dial, int n)
{
	FILE *f = fopen(p->conf, "w");
	int i;

	if (f == NULL)
		die("cannot write a configuration");
	fprintf(f, "[node]\nname = %s\ndata_dir = %s/%s/data\n"
	    "key_file = %s/%s/node.key\ncontrol = %s\n"
	    "listen = tcp://127.0.0.1:%d\nlog_level = warn\n"
	    "map_size_mb = 512\n", p->name, workdir, p->name, workdir,
	    p->name, p->sock, p->port);
	for (i = 0; i < n; i++) {
		fprintf(f, "[peer %s]\nkey = %s\n", peers[i]->name,
		    peers[i]->key_hex);
		if (dial[i])
			fprintf(f, "endpoint = tcp://127.0.0.1:%d\n",
			    peers[i]->port);
	}
	fprintf(f, "[grouping bench]\nmembers = ");
	for (i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? ", " : "", peers[i]->name);
	fprintf(f, "\n");
	fclose(f);
}

static void
proc_start(struct proc *p)
{
	char log[600];

	snprintf(log, sizeof(log), "%s/%s.log", workdir, p->name);
	if ((p->pid = fork()) == -1)
		die("fork");
	if (p->pid == 0) {
		if (freopen(log, "w", stderr) == NULL)
			_exit(127);
		execl(HALLED_PATH, "halled", "-c", p->conf, (char *)NULL);
		_exit(127);
	}
}

static void
proc_stop(struct proc *p)
{
	int status;

	if (p->pid <= 0)
		return;
	kill(p->pid, SIGTERM);
	waitpid(p->pid, &status, 0);
	p->pid = 0;
}

static json_t *
api(struct proc *p, const char *method, const char *target, const char *body)
{
	struct ctl_http_reply reply;
	char err[256];
	json_t *j = NULL;

	if (ctl_http_exchange(&reply, p->sock, method, target, body, 10000,
	    err, sizeof(err)) != 0)
		return NULL;
	if (reply.status < 300)
		j = json_loads(reply.body, 0, NULL);
	ctl_http_reply_free(&reply);
	return j;
}

/* Waits (at most timeout_s) until p answers with writes open. */
static void
wait_ready(struct proc *p, double timeout_s)
{
	double until = bench_now_s() + timeout_s;
	json_t *st;
	int ok;

	while (bench_now_s() < until) {
		st = api(p, "GET", "/v1/status", NULL);
		ok = st != NULL && json_is_true(json_object_get(st, "writable"));
		json_decref(st);
		if (ok)
			return;
		usleep(20000);
	}
	die("a node did not become ready in time (see its log)");
}

/* The head of origin's feed in the store of the running node p. */
static uint64_t
held_seq(struct store **sp, struct proc *p, const unsigned char *origin)
{
	struct feed_head h;
	struct store_txn t;
	char err[256];

	if (*sp == NULL && store_open_reader(sp, p->data, err,
	    sizeof(err)) == -1)
		return 0;
	if (store_read_begin(*sp, &t) == -1)
		return 0;
	if (feed_head(&t, origin, &h) == -1)
		h.seq = 0;
	store_read_end(&t);
	return h.seq;
}

/*
 * A field of /proc/PID/status in KB, or 0: VmHWM (peak resident memory,
 * the pages of the store's map it read included) or RssAnon (memory of
 * its own, now).
 */
static long
status_kb(pid_t pid, const char *field)
{
	char path[64], line[256], fmt[64];
	long kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	snprintf(fmt, sizeof(fmt), "%s: %%ld kB", field);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, fmt, &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static int
compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
peer_bytes(struct proc *p, const char *peer)
{
	json_t *st = api(p, "GET", "/v1/status", NULL), *v;
	double bytes = -1;
	size_t i;

	json_array_foreach(json_object_get(st, "peers"), i, v)
		if (strcmp(json_string_value(json_object_get(v, "name")),
		    peer) == 0)
			bytes = (double)json_integer_value(json_object_get(v,
			    "bytes_in")) + (double)json_integer_value(
			    json_object_get(v, "bytes_out"));
	json_decref(st);
	return bytes;
}

int
main(int argc, char *argv[])
{
	struct proc a, b, c, *pa[2], *pb[2], *pc[2];
	struct store *store_b = NULL, *store_c = NULL;
	struct halle_config cfg;
	struct node node;
	double verify, puts, zmq, t0, dt, *lat, b0, b1;
	long records = 1000000, writes = 200, idle = 20, i;
	char err[256], body[128];
	int ch, base_port, dial[2], sealed = 0;
	long large_kb = 0, anon_a = 0, anon_b = 0;

	while ((ch = getopt(argc, argv, "sl:n:w:i:")) != -1) {
		if (ch == 's')
			sealed = 1;
		else if (ch == 'l')
			large_kb = atol(optarg);
		else if (ch == 'n')
			records = atol(optarg);
		else if (ch == 'w')
			writes = atol(optarg);
		else if (ch == 'i')
			idle = atol(optarg);
		else {
			fprintf(stderr, "usage: bench_federation [-s] [-l KB] "
			    "[-n RECORDS] [-w WRITES] [-i IDLE_SECONDS]\n");
			return 2;
		}
	}
	if (records < 1 || writes < 1 || idle < 1 || mkdtemp(workdir) == NULL)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	bench_print_limits(workdir, &verify, &puts, &zmq);

	base_port = 20000 + (int)(getpid() % 20000);
	proc_init(&a, "commune-a", base_port);
	proc_init(&b, "commune-b", base_port + 1);
	proc_init(&c, "commune-c", base_port + 2);
	pa[0] = &b, pa[1] = &c;
	dial[0] = 0, dial[1] = 0;
	proc_config(&a, pa, dial, 2);
	pb[0] = &a, pb[1] = &c;
	dial[0] = 1, dial[1] = 0;
	proc_config(&b, pb, dial, 2);
	pc[0] = &b, pc[1] = &a;
	dial[0] = 1, dial[1] = 0;
	proc_config(&c, pc, dial, 2);

	/* A's feed, written before A runs. */
	if (config_load(&cfg, a.conf, err, sizeof(err)) == -1 ||
	    node_open(&node, &cfg, err, sizeof(err)) == -1)
		die(err);
	t0 = bench_now_s();
	if (bench_fill_padded(&node, records, sealed ? c.key : NULL,
	    (size_t)large_kb * 1024) == -1)
		die("cannot fill the source feed");
	printf("source feed: %ld %s written and signed at A in %.1f s\n",
	    records, sealed ? "order parts sealed to C" : "producer records",
	    bench_now_s() - t0);
	node_close(&node);
	config_free(&cfg);

	proc_start(&a);
	wait_ready(&a, 30);
	t0 = bench_now_s();
	proc_start(&b);
	while (held_seq(&store_b, &b, a.key) < (uint64_t)records) {
		if (bench_now_s() - t0 > 600)
			die("B did not catch up within 600 s");
		if (status_kb(a.pid, "RssAnon") > anon_a)
			anon_a = status_kb(a.pid, "RssAnon");
		if (status_kb(b.pid, "RssAnon") > anon_b)
			anon_b = status_kb(b.pid, "RssAnon");
		usleep(2000);
	}
	dt = bench_now_s() - t0;
	printf("catch-up, A -> B over CURVE on loopback, every run "
	    "authenticated and durable%s:\n", sealed ?
	    ", relayed blind" : ", every record applied to B's views");
	printf("  %ld records in %.2f s: %.0f records/s (target 250000)\n",
	    records, dt, records / dt);
	printf("  ratios: %.2f x Ed25519 verify rate, %.2f x LMDB one-txn put "
	    "rate, %.2f x ZeroMQ loopback rate\n", records / dt / verify,
	    records / dt / puts, records / dt / zmq);
	if (large_kb > 0) {
		json_t *st = api(&b, "GET", "/v1/status", NULL), *p;
		size_t k;
		int up = 0;

		printf("  backlog %.0f MB of %ld KB records; peak memory of "
		    "its own (RssAnon, sampled): A %ld MB, B %ld MB (target "
		    "under 128); peak resident with the store's mapped pages "
		    "(VmHWM): A %ld MB, B %ld MB\n",
		    (double)records * large_kb / 1024, large_kb,
		    anon_a / 1024, anon_b / 1024,
		    status_kb(a.pid, "VmHWM") / 1024,
		    status_kb(b.pid, "VmHWM") / 1024);
		json_array_foreach(json_object_get(st, "peers"), k, p)
			if (strcmp(json_string_value(json_object_get(p,
			    "name")), "commune-a") == 0)
				up = strcmp(json_string_value(json_object_get(p,
				    "state")), "up") == 0 &&
				    json_integer_value(json_object_get(p,
				    "since_s")) >= (json_int_t)dt - 1;
		printf("  A up at B for the whole catch-up: %s\n",
		    up ? "yes" : "no");
		json_decref(st);
	}

	proc_start(&c);
	wait_ready(&b, 30);
	wait_ready(&c, 60);
	while (held_seq(&store_c, &c, a.key) < (uint64_t)records) {
		if (bench_now_s() - t0 > 1200)
			die("C did not catch up in time");
		usleep(5000);
	}
	if ((lat = calloc(writes, sizeof(*lat))) == NULL)
		die("out of memory");
	for (i = 0; i < writes; i++) {
		uint64_t want = (uint64_t)records + (uint64_t)i + 1;
		json_t *ans;

		snprintf(body, sizeof(body), "{\"name\":\"Latence %ld\"}", i);
		t0 = bench_now_s();
		if ((ans = api(&a, "POST", "/v1/producers", body)) == NULL)
			die("a write at A failed");
		json_decref(ans);
		while (held_seq(&store_c, &c, a.key) < want) {
			if (bench_now_s() - t0 > 30)
				die("a write at A did not reach C in 30 s");
			usleep(200);
		}
		lat[i] = (bench_now_s() - t0) * 1000;
	}
	qsort(lat, writes, sizeof(*lat), compare_double);
	printf("latency, written at A (durable) to readable at C through B, "
	    "%ld writes:\n  median %.1f ms, 99th percentile %.1f ms\n",
	    writes, lat[writes / 2], lat[(writes * 99) / 100]);
	free(lat);

	b0 = peer_bytes(&a, "commune-b");
	sleep((unsigned)idle);
	b1 = peer_bytes(&a, "commune-b");
	printf("idle: %.0f bytes per minute between A and B (both ways, peer "
	    "protocol payloads, over %ld s)\n", (b1 - b0) * 60.0 / idle, idle);

	store_close(&store_b);
	store_close(&store_c);
	proc_stop(&c);
	proc_stop(&b);
	proc_stop(&a);
	snprintf(body, sizeof(body), "rm -rf %s", workdir);
	return system(body) == 0 ? 0 : 1;
}
