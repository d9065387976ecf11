/*
 * stock: see stock.h. The rows live in the index database under the keys
 * of dbkey.h; this file and stock_work.c (the chores' grants and
 * give-backs) are the only ones that read or move them. Here: the rows,
 * the home's own rulings, applying rights records and order parts, and a
 * market's node confirming and asking for more.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbkey.h"
#include "ids.h"
#include "log.h"
#include "stock_int.h"
#include "timeutil.h"
#include "views.h"

uint64_t
stock_rights_held(const struct stock_rights *r)
{
	uint64_t held = stock_sub_sat(r->granted, r->released);

	return r->used > held ? r->used : held;
}

uint64_t
stock_rights_free(const struct stock_rights *r)
{
	return stock_sub_sat(stock_sub_sat(r->granted, r->released), r->used);
}

int
stock_row_get(struct store_txn *t, const char *producer, const char *date,
    const char *sku, const char *market, struct stock_row *row)
{
	char key[DBKEY_MAX];
	const void *v;
	size_t klen, vlen;
	int rc;

	memset(row, 0, sizeof(*row));
	if ((klen = dbkey_rights(key, producer, date, sku, market)) == 0)
		return 0;
	rc = store_get(t, STORE_INDEX, key, klen, &v, &vlen);
	if (rc == 0 && vlen == sizeof(*row))
		memcpy(row, v, sizeof(*row));
	return rc == -1 ? -1 : 0;
}

int
stock_row_put(struct store_txn *t, const char *producer, const char *date,
    const char *sku, const char *market, const struct stock_row *row)
{
	char key[DBKEY_MAX];
	size_t klen;

	if ((klen = dbkey_rights(key, producer, date, sku, market)) == 0)
		return 0;
	return store_put(t, STORE_INDEX, key, klen, row, sizeof(*row));
}

int
stock_rights_decode(const void *val, size_t vlen, struct stock_rights *r)
{
	struct stock_row row;

	if (vlen != sizeof(row))
		return -1;
	memcpy(&row, val, sizeof(row));
	*r = row.r;
	return 0;
}

int
stock_rights_get(struct store_txn *t, const char *producer, const char *date,
    const char *sku, const char *market, struct stock_rights *r)
{
	struct stock_row row;

	if (stock_row_get(t, producer, date, sku, market, &row) == -1)
		return -1;
	*r = row.r;
	return 0;
}

/* The home's own rulings */

uint64_t
stock_taken(struct store_txn *t, const char *producer, const char *date,
    const char *sku)
{
	char key[DBKEY_MAX];
	const void *v;
	size_t klen, vlen;
	uint64_t taken = 0;

	klen = dbkey_stock_taken(key, producer, date, sku);
	if (klen > 0 && store_get(t, STORE_INDEX, key, klen, &v, &vlen) == 0 &&
	    vlen == sizeof(taken))
		memcpy(&taken, v, sizeof(taken));
	return taken;
}

static int
taken_set(struct store_txn *t, const char *producer, const char *date,
    const char *sku, uint64_t taken)
{
	char key[DBKEY_MAX];
	size_t klen;

	if ((klen = dbkey_stock_taken(key, producer, date, sku)) == 0)
		return 0;
	if (taken == 0)
		return store_del(t, STORE_INDEX, key, klen);
	return store_put(t, STORE_INDEX, key, klen, &taken, sizeof(taken));
}

int
stock_taken_add(struct store_txn *t, const Halle__Confirmation *c, int sign)
{
	const Halle__LineDecision *ld;
	uint64_t taken;
	size_t i;

	for (i = 0; c != NULL && i < c->n_lines; i++) {
		ld = c->lines[i];
		if (ld->confirmed == 0)
			continue;
		taken = stock_taken(t, ld->producer, c->date, ld->sku);
		taken = sign > 0 ? taken + ld->confirmed :
		    stock_sub_sat(taken, ld->confirmed);
		if (taken_set(t, ld->producer, c->date, ld->sku, taken) == -1)
			return -1;
	}
	return 0;
}

struct held_sum {
	uint64_t	 held;
};

static int
add_held(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct held_sum *s = arg;
	struct stock_row row;

	if (vlen != sizeof(row))
		return 0;
	memcpy(&row, val, sizeof(row));
	s->held += stock_rights_held(&row.r);
	return 0;
}

uint64_t
stock_held_by_markets(struct store_txn *t, const char *producer,
    const char *date, const char *sku)
{
	struct held_sum s = { 0 };
	char key[DBKEY_MAX];
	size_t klen;

	if ((klen = dbkey_rights_sku(key, producer, date, sku)) > 0)
		store_scan(t, STORE_INDEX, key, klen, add_held, &s);
	return s.held;
}

uint64_t
stock_available(int limited, uint64_t per_day, uint64_t committed,
    uint64_t requested)
{
	if (!limited)
		return requested;
	return stock_min(requested, stock_sub_sat(per_day, committed));
}

/* Marks (producer, date) for stock_work. */
int
stock_mark_due(struct store_txn *t, const char *producer, const char *date)
{
	char key[DBKEY_MAX];
	size_t klen;

	if ((klen = dbkey_stock_due(key, producer, date)) == 0)
		return 0;
	return store_put(t, STORE_INDEX, key, klen, "", 0);
}

int
stock_is_me(const struct node_txn *nt, const unsigned char *key)
{
	return memcmp(key, nt->node->key.public_key, KEY_PUBLIC_LEN) == 0;
}

int
stock_overuser(struct store_txn *t, const unsigned char *node)
{
	char hex[KEY_HEX_LEN + 1], key[DBKEY_MAX];
	const void *v;
	size_t klen, vlen;

	hex_encode(hex, node, KEY_PUBLIC_LEN);
	klen = dbkey_overuser(key, hex);
	return store_get(t, STORE_INDEX, key, klen, &v, &vlen) == 0;
}

/*
 * At the home: a market's node that used more than its rights signed the
 * proof in its own feed. Noted once; the home grants it nothing more.
 */
static int
check_overuse(struct node_txn *nt, const struct stock_row *row,
    const unsigned char *market_node, const char *producer,
    const char *date, const char *sku)
{
	char hex[KEY_HEX_LEN + 1], key[DBKEY_MAX];
	size_t klen;

	if (row->r.used <= stock_sub_sat(row->r.granted, row->r.released) ||
	    stock_overuser(nt->t, market_node))
		return 0;
	hex_encode(hex, market_node, KEY_PUBLIC_LEN);
	log_warnx("stock: node %s confirmed %llu of %s %s on %s with rights "
	    "for %llu: it gets no more rights", hex,
	    (unsigned long long)row->r.used, producer, sku, date,
	    (unsigned long long)stock_sub_sat(row->r.granted, row->r.released));
	klen = dbkey_overuser(key, hex);
	return store_put(nt->t, STORE_INDEX, key, klen, "1", 1);
}

/* Applying rights records */

static int
rights_header_valid(const Halle__StockRights *sr)
{
	struct civil_date cd;

	return ids_valid(sr->producer, "pr") &&
	    timeutil_parse_date(sr->date, &cd) == 0;
}

static int
right_valid(const Halle__StockRight *r)
{
	size_t len = strlen(r->sku);

	return len > 0 && len <= 64 && ids_valid(r->market, "mk") &&
	    r->total <= STOCK_MAX_TOTAL && r->recall <= STOCK_MAX_TOTAL;
}

static int
apply_right(struct node_txn *nt, const struct record *rec,
    const Halle__StockRights *sr, const Halle__StockRight *r, int home_is_me)
{
	unsigned char owner[KEY_PUBLIC_LEN];
	struct stock_row row;
	int due = 0;

	if (!right_valid(r))
		return 0;
	/*
	 * The home grants, whether or not this node knows the market yet (a
	 * grant must count here however the feeds arrive, as after a lost
	 * store); only the market's node releases and asks.
	 */
	if (views_market_owner(nt->t, r->market, owner) == -1) {
		if (rec->kind != HALLE__RECORD_KIND__RECORD_KIND_GRANT)
			return 0;
		memset(owner, 0, sizeof(owner));
	} else if (rec->kind != HALLE__RECORD_KIND__RECORD_KIND_GRANT &&
	    memcmp(owner, rec->origin, KEY_PUBLIC_LEN) != 0)
		return 0;
	if (stock_row_get(nt->t, sr->producer, sr->date, r->sku, r->market,
	    &row) == -1)
		return -1;
	switch (rec->kind) {
	case HALLE__RECORD_KIND__RECORD_KIND_GRANT:
		if (r->total > row.r.granted)
			row.r.granted = r->total;
		if (r->recall > row.r.recall)
			row.r.recall = r->recall;
		row.flags |= RIGHTS_GRANTED_ONCE;
		/* A recall, or rights for a day already closed, to give back. */
		due = stock_is_me(nt, owner);
		break;
	case HALLE__RECORD_KIND__RECORD_KIND_RELEASE:
		if (r->total > row.r.released)
			row.r.released = r->total;
		due = home_is_me;
		break;
	default:
		if (r->total > row.r.wanted)
			row.r.wanted = r->total;
		due = home_is_me;
		break;
	}
	if (stock_row_put(nt->t, sr->producer, sr->date, r->sku, r->market,
	    &row) == -1)
		return -1;
	if (home_is_me && rec->kind == HALLE__RECORD_KIND__RECORD_KIND_RELEASE &&
	    check_overuse(nt, &row, owner, sr->producer, sr->date,
	    r->sku) == -1)
		return -1;
	return due ? stock_mark_due(nt->t, sr->producer, sr->date) : 0;
}

int
stock_apply_rights(struct node_txn *nt, const struct record *rec,
    const Halle__StockRights *sr)
{
	unsigned char home[KEY_PUBLIC_LEN];
	size_t i;
	int home_is_me, home_known;

	if (!rights_header_valid(sr))
		return 0;
	home_known = views_producer_home(nt->t, sr->producer, home) == 0;
	/*
	 * Only the producer's home grants (its Producer record precedes its
	 * grants in its own feed). A give-back or a request is the market's
	 * node's own say and counts whether or not the producer is known
	 * here yet: a market's node taking back its own feed after a lost
	 * store must count its give-backs before its home's feed returns, or
	 * it would confirm from rights it gave away.
	 */
	if (rec->kind == HALLE__RECORD_KIND__RECORD_KIND_GRANT &&
	    (!home_known || memcmp(home, rec->origin, KEY_PUBLIC_LEN) != 0))
		return 0;
	home_is_me = home_known && stock_is_me(nt, home);
	for (i = 0; i < sr->n_rights; i++)
		if (apply_right(nt, rec, sr, sr->rights[i], home_is_me) == -1)
			return -1;
	return 0;
}

/* Local confirmations */

static int
usage_move(struct node_txn *nt, const Halle__Distribution *d,
    const Halle__Order *part, int sign, const unsigned char *market_node)
{
	unsigned char home[KEY_PUBLIC_LEN];
	const Halle__OrderLine *l;
	struct stock_row row;
	size_t i;

	if (part == NULL || part->cancelled)
		return 0;
	for (i = 0; i < part->n_lines; i++) {
		l = part->lines[i];
		if (l->confirmed_locally == 0 || l->locally_unlimited)
			continue;
		if (stock_row_get(nt->t, l->producer, d->date, l->sku, d->market,
		    &row) == -1)
			return -1;
		row.r.used = sign > 0 ? row.r.used + l->confirmed_locally :
		    stock_sub_sat(row.r.used, l->confirmed_locally);
		if (stock_row_put(nt->t, l->producer, d->date, l->sku, d->market,
		    &row) == -1)
			return -1;
		if (sign > 0 && views_producer_home(nt->t, l->producer,
		    home) == 0 && stock_is_me(nt, home) && check_overuse(nt, &row,
		    market_node, l->producer, d->date, l->sku) == -1)
			return -1;
	}
	return 0;
}

int
stock_apply_usage(struct node_txn *nt, const Halle__Distribution *d,
    const Halle__Order *held, const Halle__Order *part,
    const unsigned char *market_node)
{
	/* A cancelled day holds nothing (its cancel gave the parts' back). */
	if (d->cancelled)
		return 0;
	if (usage_move(nt, d, held, -1, market_node) == -1)
		return -1;
	return usage_move(nt, d, part, 1, market_node);
}

int
stock_cancel_usage(struct node_txn *nt, const Halle__Distribution *d,
    const Halle__Order *part, const unsigned char *market_node)
{
	return usage_move(nt, d, part, -1, market_node);
}

uint64_t
stock_confirm_locally(struct node_txn *nt, const Halle__Distribution *d,
    const Halle__OrderLine *line, const Halle__OrderLine *prev,
    const Halle__Product *p)
{
	unsigned char home[KEY_PUBLIC_LEN];
	struct stock_row row;
	uint64_t counted = 0;

	if (views_producer_home(nt->t, line->producer, home) == -1 ||
	    stock_is_me(nt, home))
		return 0;
	if (prev != NULL && !prev->locally_unlimited)
		counted = prev->confirmed_locally;
	if (p == NULL)	/* no longer sold: keep what was confirmed */
		return stock_min(line->quantity, counted);
	if (!p->limited)
		return line->quantity;
	if (stock_row_get(nt->t, line->producer, d->date, line->sku, d->market,
	    &row) == -1)
		return 0;
	/* What this line used before comes back with the new version. */
	return stock_min(line->quantity, stock_rights_free(&row.r) + counted);
}

int
rights_out_init(struct rights_out *o, const char *producer, const char *date,
    size_t cap)
{
	memset(o, 0, sizeof(*o));
	halle__stock_rights__init(&o->sr);
	o->sr.producer = (char *)producer;
	o->sr.date = (char *)date;
	o->cap = cap;
	o->lines = calloc(cap + 1, sizeof(*o->lines));
	o->ptrs = calloc(cap + 1, sizeof(*o->ptrs));
	o->skus = calloc(cap + 1, sizeof(*o->skus));
	o->markets = calloc(cap + 1, sizeof(*o->markets));
	return o->lines && o->ptrs && o->skus && o->markets ? 0 : -1;
}

void
rights_out_add(struct rights_out *o, const char *sku, const char *market,
    uint64_t total, uint64_t recall)
{
	Halle__StockRight *r;
	size_t n = o->sr.n_rights;

	if (n == o->cap)
		return;
	r = &o->lines[n];
	halle__stock_right__init(r);
	snprintf(o->skus[n], sizeof(o->skus[n]), "%s", sku);
	snprintf(o->markets[n], sizeof(o->markets[n]), "%s", market);
	r->sku = o->skus[n];
	r->market = o->markets[n];
	r->total = total;
	r->recall = recall;
	o->ptrs[n] = r;
	o->sr.rights = o->ptrs;
	o->sr.n_rights = n + 1;
}

void
rights_out_free(struct rights_out *o)
{
	free(o->lines);
	free(o->ptrs);
	free(o->skus);
	free(o->markets);
	memset(o, 0, sizeof(*o));
}

/* Appends the record if it has lines; 1 when written, 0 if empty, -1. */
int
rights_out_write(struct node_txn *nt, struct rights_out *o, uint32_t kind)
{
	int rc = 0;

	if (o->sr.n_rights > 0)
		rc = node_append(nt, kind, &o->sr.base) == -1 ? -1 : 1;
	rights_out_free(o);
	return rc;
}

int
stock_want_more(struct node_txn *nt, const Halle__Distribution *d,
    const Halle__Order *o)
{
	unsigned char home[KEY_PUBLIC_LEN];
	struct rights_out out;
	struct stock_row row;
	uint64_t remainder, holding, want, more;
	size_t i, j;
	int rc = 0;

	for (i = 0; i < o->n_lines && rc != -1; i++) {
		const Halle__OrderLine *l = o->lines[i];

		/* One record per producer: its first line gathers them all. */
		for (j = 0; j < i; j++)
			if (strcmp(o->lines[j]->producer, l->producer) == 0)
				break;
		if (j < i || views_producer_home(nt->t, l->producer,
		    home) == -1 || stock_is_me(nt, home))
			continue;
		if (rights_out_init(&out, l->producer, d->date, o->n_lines) == -1)
			return error_set(nt->err, HALLE_E_INTERNAL, "out of memory");
		for (j = i; j < o->n_lines; j++) {
			const Halle__OrderLine *m = o->lines[j];

			if (strcmp(m->producer, l->producer) != 0 ||
			    m->locally_unlimited || o->cancelled ||
			    stock_row_get(nt->t, m->producer, d->date, m->sku,
			    d->market, &row) == -1)
				continue;
			remainder = stock_sub_sat(m->quantity, m->confirmed_locally);
			holding = stock_sub_sat(row.r.granted, row.r.released);
			/* Low: under a quarter of what it holds is left. */
			if (remainder == 0 &&
			    stock_rights_free(&row.r) * 4 >= holding)
				continue;
			more = holding / 2 > remainder ? holding / 2 : remainder;
			want = stock_min(stock_rights_held(&row.r) +
			    (more ? more : 1), STOCK_MAX_TOTAL);
			if (want > row.r.wanted)
				rights_out_add(&out, m->sku, d->market, want, 0);
		}
		rc = rights_out_write(nt, &out,
		    HALLE__RECORD_KIND__RECORD_KIND_RIGHTS_WANTED);
	}
	return rc == -1 ? -1 : 0;
}

/* A new catalogue */

struct days_ctx {
	struct store_txn	*t;
	const char		*producer, *today;
	stock_held_fn		 fn;
	void			*arg;
	char			 last_date[11], last_sku[DBKEY_SKU_MAX];
	uint64_t		 held;
};

static void
days_flush(struct days_ctx *c)
{
	if (c->last_date[0] != '\0' && c->held > 0 && c->fn != NULL)
		c->fn(c->last_date, c->last_sku, c->held, c->arg);
	c->held = 0;
}

static int
day_row(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct days_ctx *c = arg;
	char date[11], sku[DBKEY_SKU_MAX], market[ID_MAX];
	struct stock_rights r;

	if (dbkey_rights_parse(key, klen, date, sku, market) == -1 ||
	    stock_rights_decode(val, vlen, &r) == -1 ||
	    strcmp(date, c->today) < 0)
		return 0;
	/* Rows come by date then sku: a change of either ends a sum. */
	if (strcmp(date, c->last_date) != 0 || strcmp(sku, c->last_sku) != 0) {
		days_flush(c);
		if (c->fn == NULL && strcmp(date, c->last_date) != 0 &&
		    stock_mark_due(c->t, c->producer, date) == -1)
			return -1;
		snprintf(c->last_date, sizeof(c->last_date), "%s", date);
		snprintf(c->last_sku, sizeof(c->last_sku), "%s", sku);
	}
	c->held += stock_rights_held(&r);
	return 0;
}

static int
days_scan(struct days_ctx *c)
{
	char prefix[DBKEY_MAX];
	size_t plen;

	if ((plen = dbkey_rights_producer(prefix, c->producer)) == 0)
		return 0;
	if (store_scan(c->t, STORE_INDEX, prefix, plen, day_row, c) == -1)
		return -1;
	days_flush(c);
	return 0;
}

int
stock_catalogue_changed(struct node_txn *nt, const char *producer)
{
	struct days_ctx c;
	struct civil_date cd;
	char today[11];

	memset(&c, 0, sizeof(c));
	timeutil_local_date((time_t)(nt->now_ms / 1000), &cd);
	timeutil_format_date(&cd, today);
	c.t = nt->t;
	c.producer = producer;
	c.today = today;
	return days_scan(&c);
}

int
stock_held_from(struct store_txn *t, const char *producer, const char *today,
    stock_held_fn fn, void *arg)
{
	struct days_ctx c;

	memset(&c, 0, sizeof(c));
	c.t = t;
	c.producer = producer;
	c.today = today;
	c.fn = fn;
	c.arg = arg;
	return days_scan(&c);
}

