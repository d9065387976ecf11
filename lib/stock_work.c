/*
 * stock_work: the stock work the chores do (stock.h): a producer's home
 * grants rights for the days it learns of, with the policy below, tops
 * them up on request and recalls unused ones; a market's node gives back
 * what its home recalls and what its closed or cancelled days did not use.
 * The counters and their rules are stock.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbkey.h"
#include "ids.h"
#include "stock_int.h"
#include "timeutil.h"
#include "views.h"

/* Giving back */

/* The distribution of market on date, or NULL. */
struct find_dist {
	struct store_txn	*t;
	Halle__Distribution	*d;
};

static int
first_dist(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct find_dist *f = arg;
	char id[ID_MAX];

	if (dbkey_last_id(key, klen, id) == NULL ||
	    (f->d = views_distribution(f->t, id)) == NULL)
		return 0;
	if (!f->d->cancelled)
		return 1;	/* a live one wins over a cancelled one */
	view_free(f->d);
	f->d = NULL;
	return 0;
}

static Halle__Distribution *
market_day(struct store_txn *t, const char *market, const char *date)
{
	struct find_dist f = { t, NULL };
	char prefix[DBKEY_MAX];

	store_scan(t, STORE_INDEX, prefix, dbkey_market_day(prefix, market,
	    date, NULL), first_dist, &f);
	return f.d;
}

/* 1 when market takes no more orders on date (closed, cancelled, none). */
static int
market_day_over(struct node_txn *nt, const char *market, const char *date)
{
	Halle__Distribution *d = market_day(nt->t, market, date);
	int over;

	over = d == NULL || d->closed || nt->now_ms / 1000 >= d->closes_at;
	view_free(d);
	return over;
}

struct release_ctx {
	struct node_txn		*nt;
	const char		*only_market;	/* NULL: every market of mine */
	struct rights_out	*out;
	int			 failed;
};

static int
release_row(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct release_ctx *ctx = arg;
	unsigned char owner[KEY_PUBLIC_LEN];
	char market[ID_MAX], sku[DBKEY_SKU_MAX];
	struct stock_row row;
	uint64_t target;

	if (vlen != sizeof(row) || dbkey_rights_parse(key, klen, NULL, sku,
	    market) == -1)
		return 0;
	if (ctx->only_market != NULL ? strcmp(market, ctx->only_market) != 0 :
	    views_market_owner(ctx->nt->t, market, owner) == -1 ||
	    !stock_is_me(ctx->nt, owner))
		return 0;
	memcpy(&row, val, sizeof(row));
	target = row.r.released;
	if (ctx->only_market != NULL || market_day_over(ctx->nt, market,
	    ctx->out->sr.date))
		target = stock_sub_sat(row.r.granted, row.r.used);	/* all unused */
	else if (row.r.recall > row.r.released)
		target = row.r.released + stock_min(row.r.recall -
		    row.r.released, stock_rights_free(&row.r));
	if (target > row.r.released)
		rights_out_add(ctx->out, sku, market, target, 0);
	return 0;
}

static int
count_rows(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	(*(size_t *)arg)++;
	return 0;
}

/* Gives back what is due on (producer, date): 1 written, 0 none, -1. */
static int
release_day(struct node_txn *nt, const char *producer, const char *date,
    const char *only_market)
{
	struct rights_out out;
	struct release_ctx ctx = { nt, only_market, &out, 0 };
	char prefix[DBKEY_MAX];
	size_t plen, n = 0;

	if ((plen = dbkey_rights_day(prefix, producer, date)) == 0)
		return 0;
	if (store_scan(nt->t, STORE_INDEX, prefix, plen, count_rows, &n) == -1)
		return error_set(nt->err, HALLE_E_STORE, "cannot read stock rights");
	if (n == 0)
		return 0;
	if (rights_out_init(&out, producer, date, n) == -1)
		return error_set(nt->err, HALLE_E_INTERNAL, "out of memory");
	if (store_scan(nt->t, STORE_INDEX, prefix, plen, release_row,
	    &ctx) == -1) {
		rights_out_free(&out);
		return error_set(nt->err, HALLE_E_STORE, "cannot read stock rights");
	}
	return rights_out_write(nt, &out, HALLE__RECORD_KIND__RECORD_KIND_RELEASE);
}

struct producers_ctx {
	struct node_txn	*nt;
	const char	*market, *date;
	int		 failed;
};

static int
release_producer(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct producers_ctx *ctx = arg;
	char producer[ID_MAX];

	if (klen <= 2 || klen - 2 >= ID_MAX)
		return 0;
	memcpy(producer, (const char *)key + 2, klen - 2);
	producer[klen - 2] = '\0';
	return release_day(ctx->nt, producer, ctx->date, ctx->market) == -1 ?
	    -1 : 0;
}

int
stock_release_market(struct node_txn *nt, const char *market,
    const char *date)
{
	struct producers_ctx ctx = { nt, market, date, 0 };
	char prefix[DBKEY_MAX];

	/* Every producer known: rights outlive a withdrawn invitation. */
	return store_scan(nt->t, STORE_VIEWS, prefix, dbkey_all(prefix, 'P'),
	    release_producer, &ctx) == -1 ? -1 : 0;
}

#define HISTORY_WEEKS	4

/* The home's policy */

void
stock_policy_shares(uint64_t stock, unsigned reserve_percent,
    struct stock_share *m, size_t n)
{
	uint64_t reserve, spread, known = 0, sum = 0, avg;
	size_t i, with_history = 0;

	if (n == 0)
		return;
	if (reserve_percent > 100)
		reserve_percent = 100;
	/* Rounded up: the reserve never falls under the percentage. */
	reserve = (stock * reserve_percent + 99) / 100;
	spread = stock_sub_sat(stock, reserve);
	for (i = 0; i < n; i++)
		if (m[i].history > 0) {
			known += m[i].history;
			with_history++;
		}
	/* A market without history weighs as an average one. */
	avg = with_history ? (known + with_history - 1) / with_history : 1;
	for (i = 0; i < n; i++)
		sum += m[i].history > 0 ? m[i].history : avg;
	for (i = 0; i < n; i++)
		m[i].share = (uint64_t)((unsigned __int128)spread *
		    (m[i].history > 0 ? m[i].history : avg) / sum);
}

/* What a line confirmed in all: locally and by its home's ruling. */
static uint64_t
line_confirmed(struct store_txn *t, const Halle__Order *o,
    const Halle__OrderLine *l)
{
	struct views_line vl;

	if (o->cancelled)
		return 0;
	views_line_state(t, o, l, &vl);
	view_free(vl.conf);
	return vl.confirmed;
}

struct history_ctx {
	struct store_txn	*t;
	const char		*producer, *sku, *market;
	uint64_t		 total;
};

static int
history_order(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct history_ctx *h = arg;
	Halle__Distribution *d = NULL;
	Halle__Order *o;
	char id[ID_MAX];
	size_t i;

	if (dbkey_last_id(key, klen, id) == NULL ||
	    (o = views_order(h->t, id)) == NULL)
		return 0;
	if ((d = views_distribution(h->t, o->distribution)) != NULL &&
	    !d->cancelled && strcmp(d->market, h->market) == 0)
		for (i = 0; i < o->n_lines; i++)
			if (strcmp(o->lines[i]->producer, h->producer) == 0 &&
			    strcmp(o->lines[i]->sku, h->sku) == 0)
				h->total += line_confirmed(h->t, o,
				    o->lines[i]);
	view_free(d);
	view_free(o);
	return 0;
}

/* What market confirmed of sku on the same weekday of the last 4 weeks. */
static uint64_t
history(struct store_txn *t, const char *producer, const char *date,
    const char *sku, const char *market)
{
	struct history_ctx h = { t, producer, sku, market, 0 };
	struct civil_date cd;
	char day[11], prefix[DBKEY_MAX];
	int w;

	if (timeutil_parse_date(date, &cd) == -1)
		return 0;
	for (w = 0; w < HISTORY_WEEKS; w++) {
		timeutil_add_days(&cd, -7);
		timeutil_format_date(&cd, day);
		store_scan(t, STORE_INDEX, prefix, dbkey_producer_day(prefix,
		    producer, day, NULL), history_order, &h);
	}
	return h.total;
}

/* The markets that sell a producer on a day and still take orders. */
struct day_market {
	char		 id[ID_MAX];
	unsigned char	 owner[KEY_PUBLIC_LEN];
	int		 open;	/* has a distribution taking orders */
};

struct day_markets {
	struct node_txn		*nt;
	const char		*producer, *date;
	struct day_market	*list;
	size_t			 n, cap;
};

static int	day_market_add(struct day_markets *, const struct day_market *);

static int
collect_market(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct day_markets *dm = arg;
	const char *k = key, *c1, *c2;
	struct day_market m;
	Halle__Distribution *d;
	size_t i;

	/* m:<market>:<date>:<distribution> */
	if (klen < 4 || (c1 = memchr(k + 2, ':', klen - 2)) == NULL ||
	    (c2 = memchr(c1 + 1, ':', (size_t)(k + klen - c1 - 1))) == NULL ||
	    c2 - c1 - 1 != 10 || memcmp(c1 + 1, dm->date, 10) != 0 ||
	    (size_t)(c1 - k - 2) >= ID_MAX)
		return 0;
	memcpy(m.id, k + 2, (size_t)(c1 - k - 2));
	m.id[c1 - k - 2] = '\0';
	for (i = 0; i < dm->n; i++)
		if (strcmp(dm->list[i].id, m.id) == 0)
			return 0;
	if ((d = market_day(dm->nt->t, m.id, dm->date)) == NULL)
		return 0;
	i = d->closed || dm->nt->now_ms / 1000 >= d->closes_at;
	view_free(d);
	if (i || !views_sells_at(dm->nt->t, m.id, dm->producer) ||
	    views_market_owner(dm->nt->t, m.id, m.owner) == -1)
		return 0;
	m.open = 1;
	return day_market_add(dm, &m);
}

/*
 * A market that sells the producer each week on the day's weekday counts
 * in the shares before its distribution is known here, so that the first
 * market heard of does not take every right.
 */
static int
collect_weekly(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct day_markets *dm = arg;
	const char *k = key, *c1;
	struct day_market m;
	struct civil_date cd;
	Halle__Market *mk;
	size_t i;
	int weekly;

	/* A:<market>:<producer> */
	if (klen < 4 || (c1 = memchr(k + 2, ':', klen - 2)) == NULL ||
	    (size_t)(c1 - k - 2) >= ID_MAX ||
	    (size_t)(k + klen - c1 - 1) != strlen(dm->producer) ||
	    memcmp(c1 + 1, dm->producer, strlen(dm->producer)) != 0)
		return 0;
	memcpy(m.id, k + 2, (size_t)(c1 - k - 2));
	m.id[c1 - k - 2] = '\0';
	for (i = 0; i < dm->n; i++)
		if (strcmp(dm->list[i].id, m.id) == 0)
			return 0;
	if ((mk = views_market(dm->nt->t, m.id)) == NULL)
		return 0;
	weekly = mk->scheduled && timeutil_parse_date(dm->date, &cd) == 0 &&
	    timeutil_weekday(&cd) == (int)mk->weekday;
	view_free(mk);
	if (!weekly || !views_sells_at(dm->nt->t, m.id, dm->producer) ||
	    views_market_owner(dm->nt->t, m.id, m.owner) == -1)
		return 0;
	m.open = 0;
	return day_market_add(dm, &m);
}

static int
day_market_add(struct day_markets *dm, const struct day_market *m)
{
	struct day_market *bigger;

	if (dm->n == dm->cap) {
		dm->cap = dm->cap ? 2 * dm->cap : 8;
		if ((bigger = realloc(dm->list, dm->cap * sizeof(*bigger))) ==
		    NULL)
			return -1;
		dm->list = bigger;
	}
	dm->list[dm->n++] = *m;
	return 0;
}

/*
 * The grants on one sku, out of spare: each open market's first share,
 * then what a market wants beyond what it holds. The home's own markets
 * draw on the reserve directly; a market whose day is not known yet keeps
 * its share here. Returns what markets still want once spare is gone.
 */
static uint64_t
grant_rights(struct node_txn *nt, const Halle__Product *p,
    const struct day_markets *dm, const struct stock_row *rows,
    const struct stock_share *shares, uint64_t spare, struct rights_out *out)
{
	uint64_t shortfall = 0, add, held;
	size_t i;

	for (i = 0; i < dm->n; i++) {
		const struct stock_row *r = &rows[i];

		if (stock_is_me(nt, dm->list[i].owner) || !dm->list[i].open ||
		    stock_overuser(nt->t, dm->list[i].owner))
			continue;
		held = stock_rights_held(&r->r);
		if (!(r->flags & RIGHTS_GRANTED_ONCE))
			add = stock_min(shares[i].share, spare);
		else if (r->r.wanted > held) {
			add = stock_min(r->r.wanted - held, spare);
			shortfall += r->r.wanted - held - add;
		} else
			continue;
		spare -= add;
		if (add > 0 || !(r->flags & RIGHTS_GRANTED_ONCE))
			rights_out_add(out, p->sku, dm->list[i].id,
			    r->r.granted + add, r->r.recall);
	}
	return shortfall;
}

/* Still short: asks back what markets that want nothing hold unused. */
static void
recall_unused(struct node_txn *nt, const Halle__Product *p,
    const struct day_markets *dm, const struct stock_row *rows,
    uint64_t shortfall, struct rights_out *out)
{
	uint64_t give;
	size_t i;

	for (i = 0; i < dm->n && shortfall > 0; i++) {
		const struct stock_row *r = &rows[i];

		if (stock_is_me(nt, dm->list[i].owner) || !dm->list[i].open ||
		    !(r->flags & RIGHTS_GRANTED_ONCE) ||
		    r->r.wanted > stock_rights_held(&r->r) ||
		    r->r.recall > r->r.released)
			continue;
		if ((give = stock_min(stock_rights_free(&r->r), shortfall)) == 0)
			continue;
		shortfall -= give;
		rights_out_add(out, p->sku, dm->list[i].id, r->r.granted,
		    r->r.released + give);
	}
}

/* Grants and recalls for one limited sku of a producer on a day. */
static void
home_sku(struct node_txn *nt, const char *producer, const char *date,
    const Halle__Product *p, const struct day_markets *dm,
    struct rights_out *out)
{
	struct stock_share *shares;
	struct stock_row *rows;
	uint64_t committed, reserve, spare;
	size_t i;
	int fresh = 0;

	shares = calloc(dm->n + 1, sizeof(*shares));
	rows = calloc(dm->n + 1, sizeof(*rows));
	if (shares == NULL || rows == NULL)
		goto done;
	committed = stock_taken(nt->t, producer, date, p->sku) +
	    stock_held_by_markets(nt->t, producer, date, p->sku);
	reserve = (p->stock_per_day * nt->node->cfg->stock_reserve_percent +
	    99) / 100;
	spare = stock_sub_sat(stock_sub_sat(p->stock_per_day, committed), reserve);
	for (i = 0; i < dm->n; i++) {
		if (stock_row_get(nt->t, producer, date, p->sku, dm->list[i].id,
		    &rows[i]) == -1)
			goto done;
		if (!stock_is_me(nt, dm->list[i].owner) && dm->list[i].open &&
		    !(rows[i].flags & RIGHTS_GRANTED_ONCE) &&
		    !stock_overuser(nt->t, dm->list[i].owner))
			fresh = 1;
	}
	if (fresh)
		for (i = 0; i < dm->n; i++)
			shares[i].history = history(nt->t, producer, date,
			    p->sku, dm->list[i].id);
	stock_policy_shares(p->stock_per_day,
	    nt->node->cfg->stock_reserve_percent, shares, dm->n);
	recall_unused(nt, p, dm, rows,
	    grant_rights(nt, p, dm, rows, shares, spare, out), out);
done:
	free(shares);
	free(rows);
}

/* The home's work on (producer, date): 1 written, 0 none, -1. */
static int
home_day(struct node_txn *nt, const char *producer, const char *date)
{
	struct day_markets dm = { nt, producer, date, NULL, 0, 0 };
	char prefix[DBKEY_MAX];
	Halle__Catalogue *c;
	struct rights_out out;
	size_t i, lines;
	int rc = 0;

	if ((c = views_catalogue(nt->t, producer)) == NULL)
		return 0;
	if (store_scan(nt->t, STORE_INDEX, prefix, dbkey_all(prefix, 'm'),
	    collect_market, &dm) == -1 || store_scan(nt->t, STORE_VIEWS,
	    prefix, dbkey_all(prefix, 'A'), collect_weekly, &dm) == -1) {
		rc = error_set(nt->err, HALLE_E_STORE, "cannot read distributions");
		goto done;
	}
	lines = 2 * dm.n * c->n_products;
	if (dm.n == 0 || rights_out_init(&out, producer, date, lines) == -1)
		goto done;
	for (i = 0; i < c->n_products; i++)
		if (c->products[i]->limited)
			home_sku(nt, producer, date, c->products[i], &dm, &out);
	rc = rights_out_write(nt, &out, HALLE__RECORD_KIND__RECORD_KIND_GRANT);
done:
	free(dm.list);
	view_free(c);
	return rc;
}

/* Finding work */

struct day {
	char	 producer[ID_MAX];
	char	 date[11];
};

/*
 * What stock work there is: the (producer, date) pairs marked due, and the
 * days of this node's producers at markets of other nodes that have no
 * grant yet. Collected first, done after: the work writes where the scans
 * read.
 */
struct work {
	struct node		*node;
	struct store_txn	*t;
	int64_t			 now_s;
	int			 looking;	/* stop at the first */
	struct day		*days;
	size_t			 n, cap;
};

static int
work_add(struct work *w, const char *producer, const char *date)
{
	struct day *bigger;
	size_t i;

	for (i = 0; i < w->n; i++)
		if (strcmp(w->days[i].producer, producer) == 0 &&
		    strcmp(w->days[i].date, date) == 0)
			return 0;
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 8;
		if ((bigger = realloc(w->days, w->cap * sizeof(*bigger))) ==
		    NULL)
			return -1;
		w->days = bigger;
	}
	snprintf(w->days[w->n].producer, ID_MAX, "%s", producer);
	snprintf(w->days[w->n].date, 11, "%s", date);
	w->n++;
	return w->looking ? 1 : 0;
}

static int
due_key(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	char producer[ID_MAX], date[11];

	if (dbkey_stock_due_parse(key, klen, producer, date) == -1)
		return 0;
	return work_add(arg, producer, date);
}

struct fresh_ctx {
	struct work		*w;
	const Halle__Distribution *d;
};

/* An acceptance of the market: its producer's limited skus granted yet? */
static int
fresh_producer(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct fresh_ctx *f = arg;
	struct store_txn *t = f->w->t;
	unsigned char home[KEY_PUBLIC_LEN];
	char producer[ID_MAX];
	Halle__Catalogue *c;
	struct stock_row row;
	size_t i;
	int fresh = 0;

	if (dbkey_last_id(key, klen, producer) == NULL ||
	    views_producer_home(t, producer, home) == -1 ||
	    memcmp(home, f->w->node->key.public_key, KEY_PUBLIC_LEN) != 0 ||
	    !views_sells_at(t, f->d->market, producer) ||
	    (c = views_catalogue(t, producer)) == NULL)
		return 0;
	for (i = 0; i < c->n_products && !fresh; i++)
		fresh = c->products[i]->limited && stock_row_get(t, producer,
		    f->d->date, c->products[i]->sku, f->d->market, &row) == 0 &&
		    !(row.flags & RIGHTS_GRANTED_ONCE);
	view_free(c);
	return fresh ? work_add(f->w, producer, f->d->date) : 0;
}

static int
fresh_distribution(const void *key, size_t klen, const void *val,
    size_t vlen, void *arg)
{
	struct work *w = arg;
	unsigned char owner[KEY_PUBLIC_LEN];
	struct fresh_ctx f = { w, NULL };
	Halle__Distribution *d;
	char id[ID_MAX], prefix[DBKEY_MAX];
	int rc = 0;

	if (dbkey_last_id(key, klen, id) == NULL ||
	    (d = views_distribution(w->t, id)) == NULL)
		return 0;
	if (!d->cancelled && !d->closed && w->now_s < d->closes_at &&
	    views_market_owner(w->t, d->market, owner) == 0 &&
	    memcmp(owner, w->node->key.public_key, KEY_PUBLIC_LEN) != 0 &&
	    !stock_overuser(w->t, owner)) {
		f.d = d;
		rc = store_scan(w->t, STORE_VIEWS, prefix, dbkey_membership(
		    prefix, 'A', d->market, NULL), fresh_producer, &f);
	}
	view_free(d);
	return rc;
}

/* Fills w->days; 0, or -1 on a store failure or out of memory. */
static int
work_find(struct work *w)
{
	char prefix[DBKEY_MAX];

	if (store_scan(w->t, STORE_INDEX, prefix, dbkey_all(prefix, 'w'),
	    due_key, w) == -1)
		return -1;
	if (w->looking && w->n > 0)
		return 0;
	return store_scan(w->t, STORE_INDEX, prefix, dbkey_all(prefix, 'm'),
	    fresh_distribution, w);
}

int
stock_work_due(struct node *n, struct store_txn *t)
{
	struct work w = { n, t, node_now_ms(n) / 1000, 1, NULL, 0, 0 };
	int found;

	found = work_find(&w) == -1 || w.n > 0;
	free(w.days);
	return found;
}

int
stock_work(struct node_txn *nt)
{
	struct work w = { nt->node, nt->t, nt->now_ms / 1000, 0, NULL, 0, 0 };
	unsigned char home[KEY_PUBLIC_LEN];
	char key[DBKEY_MAX];
	size_t i, klen;
	int rc = 0, written = 0;

	if (work_find(&w) == -1) {
		free(w.days);
		return error_set(nt->err, HALLE_E_STORE, "cannot read stock work");
	}
	for (i = 0; i < w.n && rc != -1; i++) {
		struct day *d = &w.days[i];

		klen = dbkey_stock_due(key, d->producer, d->date);
		if (klen > 0 && store_del(nt->t, STORE_INDEX, key, klen) == -1)
			rc = error_set(nt->err, HALLE_E_STORE, "cannot clear work");
		else if (views_producer_home(nt->t, d->producer, home) == -1)
			continue;
		else if (stock_is_me(nt, home))
			rc = home_day(nt, d->producer, d->date);
		else
			rc = release_day(nt, d->producer, d->date, NULL);
		if (rc > 0)
			written += rc;
	}
	free(w.days);
	return rc == -1 ? -1 : written;
}

