/*
 * bench_autonomy: how much a market's node confirms while the producer's
 * home is cut off, seed by seed, with real nodes (lib/, real stores).
 *
 * Each seed draws 2 to 5 markets, each on a node of its own (sometimes one
 * more at the home itself), and a producer at the home whose bread is
 * limited per day. Each market has a usual demand. Four past Saturdays are
 * run with every link up: distributions, orders drawn around the usual
 * demand, the home ruling, the window closing and the rights given back.
 * Then the Saturday measured: the home grants rights (the default policy:
 * shares in proportion to those four weeks, 20 % kept), the grants reach
 * the markets, and the home is cut off for the whole order window. Orders
 * drawn the same way are placed at the markets in random order; what they
 * confirm by themselves is compared with what the same demand gets with
 * every link up, where the home rules every line first come first served:
 * min(demand, stock). Then the links come back, the home rules what
 * waited, and the seed fails unless confirmed <= stock everywhere, each
 * market stayed within its rights, and the home's sheet matches the
 * markets' orders.
 *
 *   bench_autonomy [--seeds N] [--seed FIRST] [-v] [--rate]
 *
 * --rate also measures local confirmations per second through the service
 * API (what POST /v1/orders runs, one durable commit each) beside this
 * machine's durable-commit rate, measured in the same run.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bench_util.h"
#include "ids.h"
#include "service.h"
#include "stock.h"
#include "testapi.h"
#include "testutil.h"
#include "timeutil.h"

#define MAX_MARKETS	6
#define WEEKS		4
#define DAY_S		86400

static int64_t	clock_ms;
static uint64_t	rng;

static int64_t
fake_clock(void)
{
	return clock_ms;
}

static uint64_t
rng_next(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static long
rng_range(long lo, long hi)
{
	return lo + (long)(rng_next() % (uint64_t)(hi - lo + 1));
}

struct world {
	int		 nmarkets;
	struct scratch_node	 home, nodes[MAX_MARKETS];
	struct scratch_node	*at[MAX_MARKETS];	/* each market's node */
	char		 producer[ID_MAX], market[MAX_MARKETS][ID_MAX];
	char		 dist[MAX_MARKETS][ID_MAX];
	long		 usual[MAX_MARKETS], stock;
	char		 failure[512];
};

struct totals {
	long		 seeds, failed;
	double		 demand, cut, ideal;
	long		 local_lines;
};

static int __attribute__((format(printf, 2, 3)))
fail(struct world *w, const char *fmt, ...)
{
	va_list ap;

	if (w->failure[0] != '\0')
		return -1;
	va_start(ap, fmt);
	vsnprintf(w->failure, sizeof(w->failure), fmt, ap);
	va_end(ap);
	return -1;
}

static json_t *
service_ok(struct world *w, json_t *j, struct halle_error *e, const char *what)
{
	if (j == NULL)
		fail(w, "%s: %s: %s", what, halle_strerror(e->code),
		    e->message);
	return j;
}

static int
copy_id(struct world *w, char *id, json_t *j)
{
	if (j == NULL)
		return -1;
	snprintf(id, ID_MAX, "%s", json_string_value(json_object_get(j,
	    "id")));
	json_decref(j);
	return 0;
}

/* Every link up: each node's feed to every other, until nothing moves. */
static int
exchange(struct world *w)
{
	struct scratch_node *all[MAX_MARKETS + 1];
	long moved;
	int i, j, n = 0, rounds;

	all[n++] = &w->home;
	for (i = 0; i < w->nmarkets; i++)
		if (w->at[i] != &w->home)
			all[n++] = w->at[i];
	for (rounds = 0; rounds < 8; rounds++) {
		moved = 0;
		for (i = 0; i < n; i++)
			for (j = 0; j < n; j++) {
				long c;

				if (i == j)
					continue;
				if ((c = scratch_node_carry(all[i], all[j])) < 0)
					return fail(w, "carry failed");
				moved += c;
			}
		if (moved == 0)
			return 0;
	}
	return 0;
}

/* The chores of every node: stock work, closing windows; then exchange. */
static int
chores(struct world *w)
{
	struct halle_error e;
	int i;

	if (service_stock_work(&w->home.node, &e) == -1)
		return fail(w, "home stock work: %s", e.message);
	for (i = 0; i < w->nmarkets; i++)
		if (service_close_due(&w->at[i]->node, &e) == -1 ||
		    service_stock_work(&w->at[i]->node, &e) == -1)
			return fail(w, "market chores: %s", e.message);
	return exchange(w);
}

static void
date_of(int64_t ms, char *out)
{
	struct civil_date cd;

	timeutil_local_date((time_t)(ms / 1000), &cd);
	timeutil_format_date(&cd, out);
}

/* Opens each market's distribution on the date of day_ms. */
static int
open_day(struct world *w, int64_t day_ms)
{
	struct halle_error e;
	char date[11], closes[40];
	json_t *req;
	int i;

	date_of(day_ms, date);
	timeutil_format_instant((time_t)(day_ms / 1000 - DAY_S), closes,
	    sizeof(closes));
	for (i = 0; i < w->nmarkets; i++) {
		req = json_pack("{s:s, s:s, s:s, s:s, s:s}", "market",
		    w->market[i], "date", date, "closes", closes,
		    "from", "10:00", "to", "12:00");
		if (copy_id(w, w->dist[i], service_ok(w, testapi_distribution_open(
		    &w->at[i]->node, req, &e), &e, "open")) == -1) {
			json_decref(req);
			return -1;
		}
		json_decref(req);
	}
	return 0;
}

/* One market's demand for a day: around its usual one. */
static long
demand(struct world *w, int m)
{
	long d = w->usual[m] * rng_range(60, 140) / 100;

	return d > 0 ? d : 1;
}

/* Places `qty` at market m in orders of 1 to 3; the confirmed total. */
static long
order_at(struct world *w, int m, long qty, int sync_each, long *local)
{
	struct halle_error e;
	json_t *req, *o, *line;
	long done = 0, confirmed = 0, q;

	while (done < qty) {
		q = rng_range(1, 3);
		if (q > qty - done)
			q = qty - done;
		req = json_pack("{s:s, s:s, s:[{s:s, s:s, s:i}]}",
		    "distribution", w->dist[m], "basket", "Panier",
		    "lines", "producer", w->producer, "sku", "PAIN",
		    "quantity", (int)q);
		o = service_ok(w, testapi_order_place(&w->at[m]->node, req, &e), &e,
		    "place");
		json_decref(req);
		if (o == NULL)
			return -1;
		line = json_array_get(json_object_get(o, "lines"), 0);
		confirmed += (long)json_integer_value(json_object_get(line,
		    "confirmed"));
		if (json_integer_value(json_object_get(line,
		    "confirmed_locally")) == (json_int_t)q)
			(*local)++;
		json_decref(o);
		done += q;
		if (sync_each && exchange(w) == -1)
			return -1;
	}
	return confirmed;
}

static int
past_week(struct world *w, int64_t day_ms)
{
	long local = 0;
	int m;

	clock_ms = day_ms - 4 * DAY_S * 1000LL;
	if (open_day(w, day_ms) == -1 || exchange(w) == -1 || chores(w) == -1)
		return -1;
	for (m = 0; m < w->nmarkets; m++)
		if (order_at(w, m, demand(w, m), 1, &local) < 0)
			return -1;
	clock_ms = day_ms - DAY_S * 1000LL + 1000;	/* windows closed */
	return chores(w) == -1 || chores(w) == -1 ? -1 : 0;
}

/* The home's sheet of the day, in all. */
static long
sheet_total(struct world *w, const char *date)
{
	struct halle_error e;
	json_t *s, *mk, *p;
	long total = 0;
	size_t i, j;

	if ((s = service_ok(w, service_sheet(&w->home.node, w->producer, date, &e),
	    &e, "sheet")) == NULL)
		return -1;
	json_array_foreach(json_object_get(s, "markets"), i, mk)
		json_array_foreach(json_object_get(mk, "products"), j, p)
			total += (long)json_integer_value(json_object_get(p,
			    "quantity"));
	json_decref(s);
	return total;
}

/* Confirmed at the markets' nodes, by their own order lists. */
static long
markets_total(struct world *w)
{
	struct halle_error e;
	json_t *list, *o;
	long total = 0;
	size_t i;
	int m;

	for (m = 0; m < w->nmarkets; m++) {
		if ((list = service_ok(w, service_order_list(&w->at[m]->node,
		    w->dist[m], &e), &e, "list")) == NULL)
			return -1;
		json_array_foreach(list, i, o)
			total += (long)json_integer_value(json_object_get(
			    json_array_get(json_object_get(o, "lines"), 0),
			    "confirmed"));
		json_decref(list);
	}
	return total;
}

static int
publish(struct world *w, long stock)
{
	struct halle_error e;
	json_t *req;

	w->stock = stock;
	req = json_pack("{s:[{s:s, s:s, s:i, s:I}]}", "products", "sku",
	    "PAIN", "name", "Pain", "price_cents", 450, "stock_per_day",
	    (json_int_t)stock);
	json_decref(service_ok(w, testapi_catalogue_publish(&w->home.node,
	    w->producer, req, &e), &e, "catalogue"));
	json_decref(req);
	return w->failure[0] != '\0' ? -1 : 0;
}

static int
setup(struct world *w, int64_t day_ms)
{
	struct halle_error e;
	json_t *req;
	long sum = 0;
	int i, at_home = rng_range(0, 1);

	clock_ms = day_ms - (WEEKS + 1) * 7 * DAY_S * 1000LL;
	w->nmarkets = (int)rng_range(2, 5) + at_home;
	if (scratch_node_open(&w->home, "halle-bench-home", fake_clock) == -1)
		return fail(w, "cannot open the home");
	for (i = 0; i < w->nmarkets; i++) {
		if (i == 0 && at_home)
			w->at[i] = &w->home;
		else if (scratch_node_open(w->at[i] = &w->nodes[i],
		    "halle-bench-market", fake_clock) == -1)
			return fail(w, "cannot open a market's node");
		w->usual[i] = rng_range(2, 15);
		sum += w->usual[i];
	}
	req = json_pack("{s:s}", "name", "Ferme");
	if (copy_id(w, w->producer, service_ok(w, testapi_producer_add(&w->home.node,
	    req, &e), &e, "producer")) == -1)
		return -1;
	json_decref(req);
	/* A producer brings about what it sells: sometimes less, often more. */
	if (publish(w, sum * rng_range(80, 130) / 100) == -1)
		return -1;
	for (i = 0; i < w->nmarkets; i++) {
		char name[32];

		snprintf(name, sizeof(name), "Marché %d", i);
		req = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "name", name,
		    "place", "Place", "town", "Bourg", "weekday", "sat",
		    "from", "10:00", "to", "12:00");
		if (copy_id(w, w->market[i], service_ok(w, testapi_market_add(
		    &w->at[i]->node, req, &e), &e, "market")) == -1)
			return -1;
		json_decref(req);
	}
	if (exchange(w) == -1)
		return -1;
	for (i = 0; i < w->nmarkets; i++) {
		json_decref(service_ok(w, service_market_membership(&w->at[i]->node,
		    w->market[i], 'I', w->producer, 1, &e), &e, "invite"));
		json_decref(service_ok(w, service_market_membership(&w->home.node,
		    w->market[i], 'A', w->producer, 1, &e), &e, "accept"));
	}
	return w->failure[0] != '\0' ? -1 : exchange(w);
}

static void
teardown(struct world *w)
{
	int i;

	for (i = 0; i < w->nmarkets; i++)
		if (w->at[i] != NULL && w->at[i] != &w->home)
			scratch_node_close(w->at[i]);
	scratch_node_close(&w->home);
}

/* Each market stayed within the rights it held, as the home sees them. */
static int
within_rights(struct world *w, const char *date)
{
	struct stock_rights r;
	struct store_txn t;
	int m, rc = 0;

	if (store_read_begin(w->home.node.store, &t) == -1)
		return fail(w, "cannot read the home");
	for (m = 0; m < w->nmarkets && rc == 0; m++)
		if (stock_rights_get(&t, w->producer, date, "PAIN",
		    w->market[m], &r) == 0 && r.used > r.granted)
			rc = fail(w, "market %d confirmed %llu with rights "
			    "for %llu", m, (unsigned long long)r.used,
			    (unsigned long long)r.granted);
	store_read_end(&t);
	return rc;
}

static int
run_seed(uint64_t seed, int verbose, struct totals *tot)
{
	static struct world w;
	int64_t day_ms;
	char date[11];
	long want[MAX_MARKETS], total_demand = 0, cut = 0, ideal, local = 0;
	long sheet, held;
	int i, m, order[64], n = 0, rc = -1;

	memset(&w, 0, sizeof(w));
	rng = seed * 0x2545f4914f6cdd1dULL + 7;
	/* The Saturday measured: 2026-12-05, 10:00 in the node's zone. */
	day_ms = 1764925200000LL;
	if (setup(&w, day_ms) == -1)
		goto out;
	for (i = WEEKS; i >= 1; i--)
		if (past_week(&w, day_ms - (int64_t)i * 7 * DAY_S * 1000) == -1)
			goto out;
	/* The day measured: grants reach the markets, then the cut. */
	clock_ms = day_ms - 4 * DAY_S * 1000LL;
	if (open_day(&w, day_ms) == -1 || exchange(&w) == -1 ||
	    chores(&w) == -1 || chores(&w) == -1)
		goto out;
	for (m = 0; m < w.nmarkets; m++) {
		/* Only the markets cut off from the home order that day. */
		want[m] = w.at[m] == &w.home ? 0 : demand(&w, m);
		total_demand += want[m];
		for (i = 0; i < (int)((want[m] + 2) / 3) && n < 64; i++)
			order[n++] = m;
	}
	/* Shuffled: markets take their orders interleaved. */
	for (i = n - 1; i > 0; i--) {
		int j = (int)rng_range(0, i), x = order[i];

		order[i] = order[j];
		order[j] = x;
	}
	for (i = 0; i < n; i++) {
		long q = want[order[i]] < 3 ? want[order[i]] : 3, c;

		if (q == 0)
			continue;
		want[order[i]] -= q;
		if ((c = order_at(&w, order[i], q, 0, &local)) < 0)
			goto out;
		cut += c;
	}
	/* With every link up, the home rules all: min(demand, stock). */
	ideal = total_demand < w.stock ? total_demand : w.stock;
	/* Links back: the home rules what waited. */
	if (chores(&w) == -1 || chores(&w) == -1)
		goto out;
	date_of(day_ms, date);
	if ((sheet = sheet_total(&w, date)) < 0 ||
	    (held = markets_total(&w)) < 0 || within_rights(&w, date) == -1)
		goto out;
	if (sheet > w.stock || held > w.stock) {
		fail(&w, "oversold: %ld per day, %ld on the home's sheet, %ld "
		    "at the markets", w.stock, sheet, held);
		goto out;
	}
	if (sheet != held) {
		fail(&w, "the home's sheet says %ld, the markets %ld", sheet,
		    held);
		goto out;
	}
	tot->demand += (double)total_demand;
	tot->cut += (double)cut;
	tot->ideal += (double)ideal;
	tot->local_lines += local;
	if (verbose)
		printf("seed %llu: %d markets, stock %ld, demand %ld, cut off "
		    "%ld, all links up %ld, in the end %ld\n",
		    (unsigned long long)seed, w.nmarkets, w.stock,
		    total_demand, cut, ideal, sheet);
	rc = 0;
out:
	if (rc == -1)
		printf("seed %llu FAILED: %s\n", (unsigned long long)seed,
		    w.failure);
	teardown(&w);
	return rc;
}

/* Local confirmations per second through the service API. */
static void
rate(void)
{
	static struct world w;
	struct totals tot;
	double t0, t1, commits;
	long local = 0, n = 400, c;
	char dir[512];

	memset(&w, 0, sizeof(w));
	memset(&tot, 0, sizeof(tot));
	rng = 42;
	if (make_temp_dir(dir, sizeof(dir), "halle-bench-commits") == -1)
		return;
	commits = bench_limit_commits(dir);
	remove_tree(dir);
	if (setup(&w, 1764925200000LL) == -1)
		goto out;
	clock_ms = 1764925200000LL - 4 * DAY_S * 1000LL;
	/* Plenty of bread: every line is confirmed by the market's node. */
	if (publish(&w, 100 * n) == -1 || open_day(&w, 1764925200000LL) == -1 || exchange(&w) == -1 ||
	    chores(&w) == -1)
		goto out;
	t0 = bench_now_s();
	for (c = 0; c < n; c++)
		if (order_at(&w, 1, 1, 0, &local) < 0)
			goto out;
	t1 = bench_now_s();
	printf("local confirmations: %.0f orders/s through the service API "
	    "(%ld of %ld confirmed by the market's node alone); this "
	    "machine's durable commits: %.0f/s (ratio %.2f)\n",
	    (double)n / (t1 - t0), local, n, commits,
	    (double)n / (t1 - t0) / commits);
out:
	if (w.failure[0] != '\0')
		printf("rate: %s\n", w.failure);
	teardown(&w);
}

int
main(int argc, char **argv)
{
	struct totals tot;
	uint64_t first = 1, count = 20, s;
	int verbose = 0, do_rate = 0, i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--seeds") == 0 && i + 1 < argc)
			count = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
			first = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "-v") == 0)
			verbose = 1;
		else if (strcmp(argv[i], "--rate") == 0)
			do_rate = 1;
		else {
			fprintf(stderr, "usage: bench_autonomy [--seeds N] "
			    "[--seed FIRST] [-v] [--rate]\n");
			return 2;
		}
	}
	if (timeutil_set_timezone("Europe/Paris") == -1)
		return 1;
	memset(&tot, 0, sizeof(tot));
	for (s = first; s < first + count; s++) {
		tot.seeds++;
		if (run_seed(s, verbose, &tot) == -1)
			tot.failed++;
	}
	printf("bench_autonomy: %ld seeds, %ld failed; demand %.0f; confirmed "
	    "while the home was cut off %.0f, with every link up %.0f: "
	    "%.1f %% (target >= 90 %%); %ld lines confirmed by markets' "
	    "nodes alone\n", tot.seeds, tot.failed, tot.demand, tot.cut,
	    tot.ideal, tot.ideal > 0 ? 100.0 * tot.cut / tot.ideal : 0.0,
	    tot.local_lines);
	if (do_rate)
		rate();
	return tot.failed == 0 ? 0 : 1;
}
