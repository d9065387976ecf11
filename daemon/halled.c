/*
 * halled: one commune's halle node.
 *
 *   halled -c FILE              run in the foreground, log to stderr
 *   halled -n -c FILE           check the configuration and exit
 *   halled -c FILE --show-id    print the node's public key and exit
 *   halled -c FILE --verify     check a stopped node's store and exit
 *
 * The daemon is one libevent loop: the peer links (peers.h), the control
 * API's HTTP server (control.h), /metrics on metrics_listen (metrics.h),
 * the chores and the signals. Every write is committed to LMDB before its
 * answer is sent.
 *
 * This file owns the parts (struct halled) and wires them; no part knows
 * that struct, and the arrows only go down:
 *
 *   halled.c
 *     +--> peers.c, zap.c ----------------> status.h, lib (sync engine)
 *     +--> control.c, api.c, api_json.c --> status.h, lib (service layer)
 *     +--> metrics.c ---------------------> status.h, httpd.c
 *     +--> chores.c ----------------------> lib
 *
 * The API layer and the metrics reach the daemon only through the
 * callbacks below (struct api_context, struct metrics_source).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <event2/event.h>

#include "config.h"
#include "chores.h"
#include "control.h"
#include "events_http.h"
#include "feed.h"
#include "log.h"
#include "metrics.h"
#include "node.h"
#include "notify.h"
#include "peers.h"
#include "progress.h"
#include "status.h"
#include "verify.h"

struct halled {
	struct halle_config	 cfg;
	struct node		 node;
	struct peers		*peers;
	struct control		*control;
	struct metrics		*metrics;	/* metrics_listen, if set */
	struct event_base	*base;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: halled -c FILE [-n | --show-id | --verify]\n"
	    "  -c, --config FILE  the configuration (INI)\n"
	    "  -n, --check        check the configuration and exit\n"
	    "      --show-id      print this node's public key and exit\n"
	    "      --verify       check every feed in the store and exit\n"
	    "  -V, --version      print the version and exit\n");
}

/*
 * Reads the configuration file again and applies its peers and groupings
 * (the [node] section needs a restart). 0, or -1 with the reason in err;
 * on error the running configuration stays as it was.
 */
static int
halled_reload(struct halled *d, char *err, size_t errlen)
{
	struct halle_config next;
	struct peers *peers = NULL;

	if (config_load(&next, d->cfg.path, err, errlen) == -1)
		return -1;
	if (strcmp(next.name, d->cfg.name) != 0 ||
	    strcmp(next.data_dir, d->cfg.data_dir) != 0 ||
	    strcmp(next.key_file, d->cfg.key_file) != 0 ||
	    strcmp(next.control, d->cfg.control) != 0 ||
	    strcmp(next.timezone, d->cfg.timezone) != 0)
		log_warnx("reload: changes to [node] other than 'listen' take "
		    "effect at the next start");
	/* The old links go first: the new ones bind the same endpoint. */
	peers_stop(&d->peers);
	if (peers_start(&peers, d->base, &d->node, &next, err, errlen) == -1) {
		log_warnx("reload: %s; going on with the previous peers", err);
		if (peers_start(&d->peers, d->base, &d->node, &d->cfg, err,
		    errlen) == -1)
			log_warnx("reload: previous peers: %s", err);
		config_free(&next);
		return -1;
	}
	d->peers = peers;
	/* Take the new peers, groupings and listen; keep the rest of [node]. */
	{
		struct halle_config old = d->cfg;

		d->cfg.peers = next.peers;
		d->cfg.npeers = next.npeers;
		d->cfg.groupings = next.groupings;
		d->cfg.ngroupings = next.ngroupings;
		d->cfg.listen = next.listen;
		next.peers = old.peers;
		next.npeers = old.npeers;
		next.groupings = old.groupings;
		next.ngroupings = old.ngroupings;
		next.listen = old.listen;
	}
	config_free(&next);
	log_info("reload: %zu peers, %zu groupings", d->cfg.npeers,
	    d->cfg.ngroupings);
	return 0;
}

/* The callbacks of the API and the metrics (control.h, metrics.h). */

/* The daemon's status snapshot: lib's, the links', the configuration's. */
static int
halled_status(void *arg, struct daemon_status *st, struct halle_error *err)
{
	struct halled *d = arg;

	memset(st, 0, sizeof(*st));
	if (service_status_get(&d->node, &st->node, err) == -1)
		return -1;
	if (peers_status(d->peers, st) == -1) {
		status_free(st);
		return error_set(err, HALLE_E_INTERNAL, "out of memory");
	}
	if (status_fill(st, &d->node, &d->cfg, err) == -1) {
		status_free(st);
		return -1;
	}
	return 0;
}

static int
halled_reload_cb(void *arg, char *why, size_t whylen)
{
	return halled_reload(arg, why, whylen);
}

static int
halled_servers(void *arg, const struct httpd *servers[2])
{
	struct halled *d = arg;
	int n = 0;

	if (d->control != NULL)
		servers[n++] = control_server(d->control);
	if (d->metrics != NULL)
		servers[n++] = metrics_server(d->metrics);
	return n;
}

static int
halled_streams(void *arg, struct events_http_stats *st)
{
	struct halled *d = arg;

	if (control_events(d->control) == NULL)
		return -1;
	events_http_get_stats(control_events(d->control), st);
	return 0;
}

static char *
halled_metrics(void *arg, struct halle_error *err)
{
	const struct metrics_source src = { arg, halled_status,
	    halled_servers, halled_streams };

	return metrics_text(&src, err);
}

/* The control socket, /metrics on metrics_listen, the chores. */
static void
halled_serve(struct halled *d)
{
	const struct api_context ctx = { &d->node, d, halled_status,
	    halled_reload_cb, halled_metrics };
	const struct metrics_source src = { d, halled_status,
	    halled_servers, halled_streams };
	char err[512];

	if (control_start(&d->control, d->base, d->cfg.control, &ctx, err,
	    sizeof(err)) == -1)
		log_fatalx("%s", err);
	if (d->cfg.metrics_listen != NULL && metrics_start(&d->metrics,
	    d->base, d->cfg.metrics_listen, &src, err, sizeof(err)) == -1) {
		control_stop(&d->control);	/* its socket file goes */
		log_fatalx("%s", err);
	}
	if (chores_start(d->base, &d->node) == -1)
		log_fatalx("cannot schedule the node's chores");
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct halled *d = arg;
	struct timeval grace = { 0, 300 * 1000 };
	char err[512];

	if (sig == SIGHUP) {
		log_info("SIGHUP: reloading %s", d->cfg.path);
		notify_reloading();
		if (halled_reload(d, err, sizeof(err)) == -1) {
			log_warnx("SIGHUP: %s", err);
			notify_ready("reload failed, previous peers kept: %s",
			    err);
		} else
			notify_ready("node %s: %zu peers, %zu groupings",
			    d->cfg.name, d->cfg.npeers, d->cfg.ngroupings);
		return;
	}
	log_info("%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	notify_stopping();
	/*
	 * No new requests; the loop runs a moment more so that the answers
	 * of requests already served (their writes are committed) reach
	 * their clients.
	 */
	control_quiesce(d->control);
	event_base_loopexit(d->base, &grace);
}

/*
 * --verify: what it prints on stdout (a line per feed, the differences,
 * the verdict) and, on a terminal, a progress bar per step on stderr
 * (progress.h), cleared while a line is printed.
 */
struct verify_ctx {
	struct node		*node;
	int			 bad;
	struct progress		 bar;
	uint64_t		 checked;	/* records of the feeds done */
	int			 step;		/* of verify_views; -1 before */
};

static void
verify_print(struct verify_ctx *ctx, const char *line)
{
	progress_clear(&ctx->bar);
	printf("%s\n", line);
}

static void
verify_feed_checked(uint64_t seq, void *arg)
{
	struct verify_ctx *ctx = arg;

	progress_update(&ctx->bar, ctx->checked + seq, ctx->bar.total);
}

static int
verify_feed(const unsigned char *origin, const struct feed_head *h, void *arg)
{
	struct verify_ctx *ctx = arg;
	struct store_txn t;
	char hex[KEY_HEX_LEN + 1], why[256], line[512];

	hex_encode(hex, origin, KEY_PUBLIC_LEN);
	if (store_read_begin(ctx->node->store, &t) == -1)
		return -1;
	if (feed_verify_progress(&t, origin, verify_feed_checked, ctx, why,
	    sizeof(why)) == -1) {
		snprintf(line, sizeof(line), "feed %s: %s", hex, why);
		ctx->bad++;
	} else
		snprintf(line, sizeof(line), "feed %s: %llu records, chain and "
		    "signatures verified", hex, (unsigned long long)h->seq);
	store_read_end(&t);
	ctx->checked += h->seq;
	verify_print(ctx, line);
	return 0;
}

static int
verify_count(const unsigned char *origin, const struct feed_head *h,
    void *arg)
{
	*(uint64_t *)arg += h->seq;
	return 0;
}

static void
verify_report(const char *what, void *arg)
{
	verify_print(arg, what);
}

static void
verify_progress(enum verify_step step, uint64_t done, uint64_t total,
    void *arg)
{
	struct verify_ctx *ctx = arg;

	if (ctx->step != (int)step) {
		progress_end(&ctx->bar);
		progress_start(&ctx->bar, progress_terminal(stderr),
		    step == VERIFY_REPLAY ? "rebuilding views" :
		    "comparing views", PROGRESS_COUNT, step == VERIFY_REPLAY ?
		    "records" : "keys", total);
		ctx->step = (int)step;
	}
	progress_update(&ctx->bar, done, total);
}

/* Every feed's chain and signatures; -1 when the store cannot be read. */
static int
verify_feeds(struct verify_ctx *ctx)
{
	struct store_txn t;
	uint64_t records = 0;

	if (store_read_begin(ctx->node->store, &t) == -1)
		return -1;
	if (feed_each(&t, verify_count, &records) == -1)
		records = 0;
	progress_start(&ctx->bar, progress_terminal(stderr), "checking feeds",
	    PROGRESS_COUNT, "records", records);
	if (feed_each(&t, verify_feed, ctx) == -1)
		ctx->bad++;
	store_read_end(&t);
	progress_end(&ctx->bar);
	return 0;
}

/* The feeds (chains, signatures), then the views against the feeds. */
static int
run_verify(struct node *n)
{
	struct verify_ctx ctx = { .node = n, .step = -1 };
	const char *tmp = getenv("TMPDIR");
	char err[512];
	int differences;

	if (verify_feeds(&ctx) == -1) {
		fprintf(stderr, "halled: cannot read the store\n");
		return 1;
	}
	differences = verify_views(n, tmp != NULL && tmp[0] != '\0' ? tmp :
	    "/tmp", verify_report, verify_progress, &ctx, err, sizeof(err));
	progress_end(&ctx.bar);
	if (differences == -1) {
		printf("views: cannot check them: %s\n", err);
		ctx.bad++;
	} else if (differences > 0) {
		printf("views: %d key%s not what the feeds give\n",
		    differences, differences > 1 ? "s" : "");
		ctx.bad++;
	} else
		printf("views: rebuilt from the feeds, the same key by key\n");
	printf("%s\n", ctx.bad ? "store has errors" : "store verified");
	return ctx.bad ? 1 : 0;
}

static int
run_daemon(struct halled *d)
{
	struct event *sigs[3];
	static const int signals[3] = { SIGTERM, SIGINT, SIGHUP };
	char err[512];
	int i;

	signal(SIGPIPE, SIG_IGN);
	if ((d->base = event_base_new()) == NULL)
		log_fatalx("cannot create the event loop");
	for (i = 0; i < 3; i++) {
		sigs[i] = evsignal_new(d->base, signals[i], on_signal, d);
		if (sigs[i] == NULL || event_add(sigs[i], NULL) == -1)
			log_fatalx("cannot watch signals");
	}
	notify_init(d->base);	/* no-op without $NOTIFY_SOCKET */
	if (peers_start(&d->peers, d->base, &d->node, &d->cfg, err,
	    sizeof(err)) == -1)
		log_fatalx("%s", err);
	halled_serve(d);
	log_info("node %s (%s) ready", d->cfg.name, d->node.id_hex);
	notify_ready("node %s serving %s, %zu peers", d->cfg.name,
	    d->cfg.control, d->cfg.npeers);
	event_base_dispatch(d->base);
	chores_stop();
	metrics_stop(&d->metrics);
	control_stop(&d->control);
	peers_stop(&d->peers);
	for (i = 0; i < 3; i++)
		event_free(sigs[i]);
	notify_free();
	event_base_free(d->base);
	log_info("stopped");
	return 0;
}

/* --show-id: the node's public key (node_identity makes it if need be). */
static int
show_identity(struct node *node, const struct halle_config *cfg)
{
	char err[1024];

	if (node_identity(node, cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "halled: %s\n", err);
		return 1;
	}
	printf("%s\n", node->id_hex);
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "config",  required_argument, NULL, 'c' },
		{ "check",   no_argument,       NULL, 'n' },
		{ "show-id", no_argument,       NULL, 'i' },
		{ "verify",  no_argument,       NULL, 'v' },
		{ "version", no_argument,       NULL, 'V' },
		{ "help",    no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static struct halled d;
	struct halle_config *cfg = &d.cfg;
	struct node *node = &d.node;
	const char *file = NULL;
	char err[1024];
	int ch, check = 0, show_id = 0, verify = 0, rc;

	while ((ch = getopt_long(argc, argv, "c:nVh", options, NULL)) != -1) {
		switch (ch) {
		case 'c': file = optarg; break;
		case 'n': check = 1; break;
		case 'i': show_id = 1; break;
		case 'v': verify = 1; break;
		case 'V': printf("halled %s\n", HALLE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (file == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	/* EX_CONFIG: systemd does not restart it (RestartPreventExitStatus). */
	if (config_load(cfg, file, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return EX_CONFIG;
	}
	if (check) {
		printf("configuration OK\n");
		config_free(cfg);
		return 0;
	}
	log_init(cfg->log_level, "halled");
	if (show_id)
		rc = show_identity(node, cfg);
	else if ((verify ? node_open_to_verify(node, cfg, err, sizeof(err)) :
	    node_open(node, cfg, err, sizeof(err))) == -1) {
		fprintf(stderr, "halled: %s\n", err);
		rc = 1;
	} else {
		rc = verify ? run_verify(node) : run_daemon(&d);
		node_close(node);
	}
	config_free(cfg);
	return rc;
}
