/*
 * stock_rule: the producer's home rules on the lines of an order that its
 * market's node did not confirm itself: first come first served, from
 * the reserve only (what neither its rulings nor the markets' rights
 * hold), and appends the ruling sealed to the market's node. Rulings wait
 * while the node may not write its own feed (stock_rule_queued rules them
 * later). The counts they move are stock.c's (stock_taken_add).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seal.h"
#include "stock_int.h"
#include "views.h"

/*
 * The authority's ruling. For the lines of the order whose producer this
 * node is home to: each line is granted what the day's stock allows once
 * the other orders' grants are counted (this order's own previous grant is
 * not), first come first served; the ruling is appended, sealed to the
 * market's node, and applying it moves the stock counters.
 */
/*
 * The previous ruling's decision on (producer, sku), when it took from the
 * same day's stock: a distribution may have moved to another day since.
 */
static const Halle__LineDecision *
previous_grant(const Halle__Confirmation *prev, const char *date,
    const char *producer, const char *sku)
{
	size_t i;

	if (prev == NULL || strcmp(prev->date, date) != 0)
		return NULL;
	for (i = 0; i < prev->n_lines; i++)
		if (strcmp(prev->lines[i]->producer, producer) == 0 &&
		    strcmp(prev->lines[i]->sku, sku) == 0)
			return prev->lines[i];
	return NULL;
}

static void
decide_line(struct node_txn *nt, const Halle__Order *o,
    const Halle__Distribution *d, const Halle__OrderLine *line,
    uint64_t requested, uint64_t committed, int had_grant,
    Halle__LineDecision *ld, char *reason, size_t reason_len)
{
	Halle__Catalogue *c = NULL;
	Halle__Product *p;

	ld->producer = line->producer;
	ld->sku = line->sku;
	ld->requested = requested;
	ld->confirmed = 0;
	ld->state = HALLE__LINE_STATE__LINE_STATE_REFUSED;
	ld->reason = reason;
	reason[0] = '\0';
	if (o->cancelled) {
		snprintf(reason, reason_len, "order cancelled");
		return;
	}
	if (d->cancelled) {
		snprintf(reason, reason_len, "distribution cancelled");
		return;
	}
	/* A withdrawal keeps what was confirmed before it. */
	if (!had_grant && !views_sells_at(nt->t, d->market, line->producer)) {
		snprintf(reason, reason_len,
		    "the producer does not sell at this market");
		return;
	}
	c = views_catalogue(nt->t, line->producer);
	if ((p = catalogue_product(c, line->sku)) == NULL) {
		snprintf(reason, reason_len, "%s is no longer in the catalogue",
		    line->sku);
		view_free(c);
		return;
	}
	ld->confirmed = stock_available(p->limited, p->stock_per_day,
	    committed, requested);
	if (ld->confirmed > 0)
		ld->state = HALLE__LINE_STATE__LINE_STATE_CONFIRMED;
	if (ld->confirmed == 0)
		snprintf(reason, reason_len, "sold out on %s (%llu per day)",
		    d->date, (unsigned long long)p->stock_per_day);
	else if (ld->confirmed < requested)
		snprintf(reason, reason_len, "only %llu left on %s",
		    (unsigned long long)ld->confirmed, d->date);
	view_free(c);
}

#define RULE_MAX_QUANTITY	1000000		/* as the API's own limit */

/* 1 when line i repeats the (producer, sku) of an earlier line. */
static int
repeated_line(const Halle__Order *o, size_t i)
{
	size_t k;

	for (k = 0; k < i; k++)
		if (strcmp(o->lines[k]->producer, o->lines[i]->producer) == 0 &&
		    strcmp(o->lines[k]->sku, o->lines[i]->sku) == 0)
			return 1;
	return 0;
}

static void
refuse_line(const Halle__OrderLine *line, Halle__LineDecision *ld,
    char *reason, size_t reason_len, const char *why)
{
	ld->producer = line->producer;
	ld->sku = line->sku;
	ld->requested = line->quantity;
	ld->confirmed = 0;
	ld->state = HALLE__LINE_STATE__LINE_STATE_REFUSED;
	snprintf(reason, reason_len, "%s", why);
	ld->reason = reason;
}

/* A ruling being written: one decision per line of this node's producers. */
struct ruling {
	Halle__LineDecision	 *decisions, **ptrs;
	char			(*reasons)[128];
	size_t			  n;
};

/* The next decision of ru, initialised. */
static Halle__LineDecision *
ruling_next(struct ruling *ru)
{
	Halle__LineDecision *ld = &ru->decisions[ru->n];

	halle__line_decision__init(ld);
	ru->ptrs[ru->n] = ld;
	return ld;
}

/* Decides each line of the order that is this node's producers' into ru. */
static void
rule_lines(struct node_txn *nt, const Halle__Order *o,
    const Halle__Distribution *d, const Halle__Confirmation *prev,
    struct ruling *ru)
{
	const Halle__LineDecision *before;
	unsigned char home[KEY_PUBLIC_LEN];
	uint64_t committed, requested;
	size_t i;

	for (i = 0; i < o->n_lines; i++) {
		const Halle__OrderLine *line = o->lines[i];

		if (views_producer_home(nt->t, line->producer, home) == -1 ||
		    memcmp(home, nt->node->key.public_key, KEY_PUBLIC_LEN) != 0)
			continue;
		if (repeated_line(o, i) || line->quantity > RULE_MAX_QUANTITY) {
			/* Only a misbehaving market's node sends these. */
			refuse_line(line, ruling_next(ru), ru->reasons[ru->n],
			    sizeof(ru->reasons[ru->n]), repeated_line(o, i) ?
			    "ordered twice in one order" : "quantity too large");
			ru->n++;
			continue;
		}
		/* What the market's node confirmed itself is not ruled. */
		requested = line->quantity > line->confirmed_locally ?
		    line->quantity - line->confirmed_locally : 0;
		if (requested == 0)
			continue;
		/* The reserve: stock less rulings and markets' rights. */
		committed = stock_taken(nt->t, line->producer, d->date,
		    line->sku) + stock_held_by_markets(nt->t, line->producer,
		    d->date, line->sku);
		if ((before = previous_grant(prev, d->date, line->producer,
		    line->sku)) != NULL)
			committed = committed > before->confirmed ?
			    committed - before->confirmed : 0;
		decide_line(nt, o, d, line, requested, committed,
		    before != NULL && before->confirmed > 0, ruling_next(ru),
		    ru->reasons[ru->n], sizeof(ru->reasons[ru->n]));
		ru->n++;
	}
}

/*
 * force: rule even if this version was ruled on (a cancelled
 * distribution); otherwise a version already ruled on, as when the parts
 * come back after this node lost its store, is left as it was ruled.
 */
int
stock_rule_order(struct node_txn *nt, const Halle__Order *o,
    const Halle__Distribution *d, const unsigned char *market_node,
    int force)
{
	Halle__Confirmation conf = HALLE__CONFIRMATION__INIT, *prev;
	struct ruling ru = { NULL, NULL, NULL, 0 };
	char key[DBKEY_MAX];
	size_t klen;
	int rc = -1;

	klen = dbkey_ruling_owed(key, o->id);
	if (!node_may_write(nt->node))	/* not while it may not append */
		return store_put(nt->t, STORE_INDEX, key, klen, "", 0);
	if (store_del(nt->t, STORE_INDEX, key, klen) == -1)
		return -1;
	dbkey_ruling(key, o->id, nt->node->id_hex);
	prev = VIEW_LOAD(nt->t, Confirmation, confirmation, key, NULL);
	if (prev != NULL && prev->order_version >= o->version && !force) {
		view_free(prev);
		return 0;
	}
	ru.decisions = calloc(o->n_lines + 1, sizeof(*ru.decisions));
	ru.ptrs = calloc(o->n_lines + 1, sizeof(*ru.ptrs));
	ru.reasons = calloc(o->n_lines + 1, sizeof(*ru.reasons));
	if (ru.decisions == NULL || ru.ptrs == NULL || ru.reasons == NULL)
		goto done;
	rule_lines(nt, o, d, prev, &ru);
	rc = 0;
	if (ru.n == 0 && prev == NULL)
		goto done;	/* none of this node's producers */
	conf.order = o->id;
	conf.order_version = o->version;
	conf.date = d->date;
	conf.lines = ru.ptrs;
	conf.n_lines = ru.n;
	/* The ruling is for the market's node alone (and this one). */
	rc = node_append_sealed(nt,
	    HALLE__RECORD_KIND__RECORD_KIND_CONFIRMATION, &conf.base,
	    market_node);
done:
	view_free(prev);
	free(ru.decisions);
	free(ru.ptrs);
	free(ru.reasons);
	return rc;
}

struct queued_ctx {
	struct node_txn	*nt;
	char		(*orders)[ID_MAX];
	size_t		  n, cap;
};

static int
collect_queued(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct queued_ctx *ctx = arg;
	char (*bigger)[ID_MAX];

	if (klen - 2 >= ID_MAX)
		return 0;
	if (ctx->n == ctx->cap) {
		ctx->cap = ctx->cap ? 2 * ctx->cap : 16;
		if ((bigger = realloc(ctx->orders, ctx->cap *
		    sizeof(*bigger))) == NULL)
			return -1;
		ctx->orders = bigger;
	}
	memcpy(ctx->orders[ctx->n], (const char *)key + 2, klen - 2);
	ctx->orders[ctx->n++][klen - 2] = '\0';
	return 0;
}

int
stock_rule_queued(struct node_txn *nt)
{
	struct queued_ctx ctx = { nt, NULL, 0, 0 };
	unsigned char market_node[KEY_PUBLIC_LEN];
	Halle__Distribution *d;
	Halle__Order *o;
	char key[DBKEY_MAX];
	size_t i;
	int rc = 0;

	/* Collected first: ruling deletes the keys being walked. */
	if (store_scan(nt->t, STORE_INDEX, key, dbkey_all(key, 'q'),
	    collect_queued, &ctx) == -1) {
		free(ctx.orders);
		return -1;
	}
	for (i = 0; i < ctx.n && rc == 0; i++) {
		dbkey_entity(key, 'O', ctx.orders[i]);
		o = VIEW_LOAD(nt->t, Order, order, key, market_node);
		d = o ? views_distribution(nt->t, o->distribution) : NULL;
		if (o != NULL && d != NULL)
			rc = stock_rule_order(nt, o, d, market_node,
			    d->cancelled || o->cancelled);
		view_free(d);
		view_free(o);
	}
	free(ctx.orders);
	return rc;
}
