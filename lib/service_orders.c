/*
 * service_orders: orders. See service.h.
 *
 * The market's node keeps the order window: nothing is placed, changed or
 * cancelled outside [opens_at, closes_at). Each line is confirmed at once
 * where the market's node can (stock_confirm_locally); the rest is for the
 * producer's home, which rules on it when the order record is applied
 * (views.c), in the same transaction when the home is this node.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service_int.h"
#include "stock.h"
#include "timeutil.h"
#include "views.h"

_Static_assert(SERVICE_MAX_LINES <= VIEWS_MAX_LINES,
    "an order the API takes must be one every node's views take");

/* Orders */

/* The distribution of an order, checked open for orders at now. */
static Halle__Distribution *
open_distribution(struct node_txn *nt, const char *id)
{
	Halle__Distribution *d;
	int64_t now = nt->now_ms / 1000;
	char when[40];

	if ((d = views_distribution(nt->t, id)) == NULL) {
		error_set(nt->err, HALLE_E_UNKNOWN_DISTRIBUTION,
		    "no distribution '%s'", id);
		return NULL;
	}
	/* Orders are taken by the market's node only. */
	if (service_distribution_owned_here(nt, id) == -1) {
		view_free(d);
		return NULL;
	}
	if (d->cancelled)
		error_set(nt->err, HALLE_E_DISTRIBUTION_CANCELLED,
		    "distribution %s on %s was cancelled", d->id, d->date);
	else if (now < d->opens_at) {
		timeutil_format_instant((time_t)d->opens_at, when, sizeof(when));
		error_set(nt->err, HALLE_E_ORDER_WINDOW_NOT_OPEN, "orders for %s on "
		    "%s open at %s", d->id, d->date, when);
	} else if (now >= d->closes_at) {
		timeutil_format_instant((time_t)d->closes_at, when, sizeof(when));
		error_set(nt->err, HALLE_E_ORDER_WINDOW_CLOSED, "orders for %s on "
		    "%s closed at %s", d->id, d->date, when);
	} else
		return d;
	view_free(d);
	return NULL;
}

/* Lines being built, and the strings they point to. */
struct line_set {
	Halle__OrderLine	 *lines;
	Halle__OrderLine	**ptrs;
	char			(*producers)[ID_MAX];
	size_t			  n;
	Halle__Catalogue	**catalogues;	/* to free */
};

static void
line_set_free(struct line_set *ls)
{
	size_t i;

	for (i = 0; ls->catalogues != NULL && i < ls->n; i++)
		view_free(ls->catalogues[i]);
	free(ls->lines);
	free(ls->ptrs);
	free(ls->producers);
	free(ls->catalogues);
	memset(ls, 0, sizeof(*ls));
}

static const Halle__OrderLine *
previous_line(const Halle__Order *prev, const char *producer, const char *sku)
{
	size_t i;

	for (i = 0; prev != NULL && i < prev->n_lines; i++)
		if (strcmp(prev->lines[i]->producer, producer) == 0 &&
		    strcmp(prev->lines[i]->sku, sku) == 0)
			return prev->lines[i];
	return NULL;
}

/*
 * Line i of the request, in against the store: its producer resolved,
 * sold at the distribution's market, its price and VAT from the
 * catalogue; prev is the order being changed, if any.
 */
static int
line_resolve(struct node_txn *nt, const Halle__Distribution *d,
    const Halle__Order *prev, const struct service_order_line *in, size_t i,
    struct line_set *ls)
{
	Halle__OrderLine *l = &ls->lines[i];
	const Halle__OrderLine *old;
	const Halle__Product *p;
	size_t k;

	halle__order_line__init(l);
	if (service_resolve_producer(nt->t, in->producer, ls->producers[i],
	    nt->err) == -1)
		return -1;
	l->producer = ls->producers[i];
	l->sku = (char *)in->sku;
	l->quantity = in->quantity;
	for (k = 0; k < i; k++)
		if (strcmp(ls->lines[k].producer, l->producer) == 0 &&
		    strcmp(ls->lines[k].sku, l->sku) == 0)
			return error_set(nt->err, HALLE_E_INVALID_FIELD,
			    "lines[%zu]: %s of %s is ordered twice", i, l->sku,
			    in->producer);
	/*
	 * A withdrawal counts for new lines; a line already ordered stays
	 * (its home keeps what it confirmed).
	 */
	old = previous_line(prev, l->producer, l->sku);
	if (old == NULL && !views_sells_at(nt->t, d->market, l->producer))
		return error_set(nt->err, HALLE_E_NOT_AT_MARKET, "producer '%s' does "
		    "not sell at this market (it must be invited and accept)",
		    in->producer);
	if (old != NULL) {
		/* Already ordered: the price and VAT stay as they were. */
		l->price_cents = old->price_cents;
		l->vat_bp = old->vat_bp;
		l->name = old->name;
		return 0;
	}
	ls->catalogues[i] = views_catalogue(nt->t, l->producer);
	if (ls->catalogues[i] == NULL)
		return error_set(nt->err, HALLE_E_NO_CATALOGUE,
		    "producer '%s' has published no catalogue", in->producer);
	if ((p = catalogue_product(ls->catalogues[i], l->sku)) == NULL)
		return error_set(nt->err, HALLE_E_UNKNOWN_SKU, "producer '%s' has no "
		    "product '%s' in its catalogue", in->producer, l->sku);
	l->price_cents = p->price_cents;
	l->vat_bp = p->vat_bp;
	l->name = p->name;
	return 0;
}

/*
 * What the market's node confirms of line i itself (stock.h): all of it
 * for a product without a stock limit, what its rights allow otherwise.
 */
static void
confirm_locally(struct node_txn *nt, const Halle__Distribution *d,
    const Halle__Order *prev, struct line_set *ls, size_t i)
{
	Halle__OrderLine *l = &ls->lines[i];
	const Halle__OrderLine *old;
	const Halle__Product *p;

	if (ls->catalogues[i] == NULL)
		ls->catalogues[i] = views_catalogue(nt->t, l->producer);
	p = catalogue_product(ls->catalogues[i], l->sku);
	old = previous_line(prev, l->producer, l->sku);
	l->confirmed_locally = stock_confirm_locally(nt, d, l, old, p);
	if (p == NULL && old != NULL && old->locally_unlimited) {
		l->confirmed_locally = old->confirmed_locally < l->quantity ?
		    old->confirmed_locally : l->quantity;
		l->locally_unlimited = 1;
	} else
		l->locally_unlimited = p != NULL && !p->limited &&
		    l->confirmed_locally > 0;
}

/* The lines of the request, resolved into ls; prev as line_resolve. */
static int
lines_resolve(struct node_txn *nt, const Halle__Distribution *d,
    const Halle__Order *prev, const struct service_order_lines *in,
    struct line_set *ls)
{
	size_t i, n = in->n;

	ls->lines = calloc(n, sizeof(*ls->lines));
	ls->ptrs = calloc(n, sizeof(*ls->ptrs));
	ls->producers = calloc(n, sizeof(*ls->producers));
	ls->catalogues = calloc(n, sizeof(*ls->catalogues));
	if (!ls->lines || !ls->ptrs || !ls->producers || !ls->catalogues)
		return error_set(nt->err, HALLE_E_INTERNAL, "out of memory");
	ls->n = n;
	for (i = 0; i < n; i++) {
		if (line_resolve(nt, d, prev, &in->line[i], i, ls) == -1)
			return -1;
		ls->ptrs[i] = &ls->lines[i];
	}
	for (i = 0; i < n; i++)
		confirm_locally(nt, d, prev, ls, i);
	return 0;
}

/*
 * Appends an order as one part per producer's home node concerned (by its
 * lines now, or by those of prev, the version it replaces, so that a home
 * whose lines all went learns it), each sealed to that home and holding
 * only its lines. 0, or -1 with nt->err filled.
 */
static int
write_parts(struct node_txn *nt, const Halle__Order *order,
    const Halle__Order *prev)
{
	unsigned char (*homes)[KEY_PUBLIC_LEN], home[KEY_PUBLIC_LEN];
	const Halle__Order *from[2] = { order, prev };
	Halle__OrderLine **lines;
	Halle__Producer *p;
	Halle__Order part;
	size_t nhomes = 0, i, j, k, f, total;
	int rc = 0;

	total = order->n_lines + (prev ? prev->n_lines : 0);
	homes = calloc(total + 1, sizeof(*homes));
	lines = calloc(order->n_lines + 1, sizeof(*lines));
	if (homes == NULL || lines == NULL) {
		free(homes);
		free(lines);
		return error_set(nt->err, HALLE_E_INTERNAL, "out of memory");
	}
	for (f = 0; f < 2; f++)
		for (i = 0; from[f] != NULL && i < from[f]->n_lines; i++) {
			p = views_producer(nt->t, from[f]->lines[i]->producer,
			    home);
			/*
			 * A producer not held here (its home's feed has not
			 * come back since this node lost its store): its home
			 * would never hear of this version. Refuse it.
			 */
			if (p == NULL) {
				free(homes);
				free(lines);
				return error_set(nt->err, HALLE_E_UNKNOWN_PRODUCER,
				    "order %s: producer %s is not known at "
				    "this node yet (its home's feed has not "
				    "come back): try again once it has",
				    order->id, from[f]->lines[i]->producer);
			}
			view_free(p);
			for (j = 0; j < nhomes; j++)
				if (memcmp(homes[j], home, KEY_PUBLIC_LEN) == 0)
					break;
			if (j == nhomes)
				memcpy(homes[nhomes++], home, KEY_PUBLIC_LEN);
		}
	for (j = 0; j < nhomes && rc == 0; j++) {
		part = *order;
		part.lines = lines;
		part.n_lines = 0;
		for (k = 0; k < order->n_lines; k++) {
			p = views_producer(nt->t, order->lines[k]->producer,
			    home);
			if (p != NULL && memcmp(home, homes[j],
			    KEY_PUBLIC_LEN) == 0)
				lines[part.n_lines++] = order->lines[k];
			view_free(p);
		}
		rc = node_append_sealed(nt, HALLE__RECORD_KIND__RECORD_KIND_ORDER,
		    &part.base, homes[j]);
	}
	free(homes);
	free(lines);
	return rc;
}

struct order_op {
	const struct service_order_request	*place;
	const struct service_order_lines	*lines;	/* a change's */
	const char				*id_in;	/* or cancelled */
	int					 cancel;
	char					 id[ID_MAX];
};

static int
order_place_op(struct node_txn *nt, void *arg)
{
	struct order_op *op = arg;
	const struct service_order_request *r = op->place;
	Halle__Order o = HALLE__ORDER__INIT;
	Halle__Distribution *d;
	struct line_set ls;
	int rc = -1;

	memset(&ls, 0, sizeof(ls));
	if ((d = open_distribution(nt, r->distribution)) == NULL)
		return -1;
	if (lines_resolve(nt, d, NULL, &r->lines, &ls) == 0) {
		ids_new(op->id, "or");
		o.id = op->id;
		o.version = 1;
		o.distribution = d->id;
		o.basket = (char *)r->basket;
		o.mediator = (char *)r->mediator;
		o.lines = ls.ptrs;
		o.n_lines = ls.n;
		o.placed_at = nt->now_ms / 1000;
		rc = write_parts(nt, &o, NULL);
		if (rc == 0)
			rc = stock_want_more(nt, d, &o);
	}
	line_set_free(&ls);
	view_free(d);
	return rc;
}

json_t *
service_order_place(struct node *n, const struct service_order_request *r,
    struct halle_error *err)
{
	struct order_op op = { r, NULL, NULL, 0, "" };

	if (node_mutate(n, order_place_op, &op, err) == -1)
		return NULL;
	return service_order_show(n, op.id, err);
}

static int
order_change_op(struct node_txn *nt, void *arg)
{
	struct order_op *op = arg;
	Halle__Order *o, next;
	Halle__Distribution *d = NULL;
	struct line_set ls;
	int rc = -1;

	memset(&ls, 0, sizeof(ls));
	if ((o = views_order(nt->t, op->id_in)) == NULL)
		return error_set(nt->err, HALLE_E_UNKNOWN_ORDER, "no order '%s'",
		    op->id_in);
	if (o->cancelled) {
		error_set(nt->err, HALLE_E_ORDER_CANCELLED, "order %s was cancelled",
		    o->id);
		goto done;
	}
	if ((d = open_distribution(nt, o->distribution)) == NULL)
		goto done;
	next = *o;
	if (service_version_next(o->version, &next.version, "the order",
	    nt->err) == -1)
		goto done;
	if (op->cancel)
		next.cancelled = 1;
	else if (lines_resolve(nt, d, o, op->lines, &ls) == -1)
		goto done;
	else {
		next.lines = ls.ptrs;
		next.n_lines = ls.n;
	}
	rc = write_parts(nt, &next, o);
	if (rc == 0)
		rc = stock_want_more(nt, d, &next);
done:
	line_set_free(&ls);
	view_free(d);
	view_free(o);
	return rc;
}

json_t *
service_order_change(struct node *n, const char *id,
    const struct service_order_lines *lines, struct halle_error *err)
{
	struct order_op op = { NULL, lines, id, 0, "" };

	if (node_mutate(n, order_change_op, &op, err) == -1)
		return NULL;
	return service_order_show(n, id, err);
}

json_t *
service_order_cancel(struct node *n, const char *id, struct halle_error *err)
{
	struct order_op op = { NULL, NULL, id, 1, "" };

	if (node_mutate(n, order_change_op, &op, err) == -1)
		return NULL;
	return service_order_show(n, id, err);
}

json_t *
service_order_show(struct node *n, const char *id, struct halle_error *err)
{
	struct store_txn t;
	Halle__Order *o;
	json_t *j = NULL;

	if (service_read_begin(n, &t, err) == -1)
		return NULL;
	if ((o = views_order(&t, id)) == NULL)
		error_set(err, HALLE_E_UNKNOWN_ORDER, "no order '%s'", id);
	else
		j = service_json_render_order(&t, o);
	view_free(o);
	store_read_end(&t);
	return j;
}

static int
list_order(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct list_ctx *ctx = arg;
	Halle__Order *o;
	char id[ID_MAX];

	if (dbkey_last_id(key, klen, id) == NULL ||
	    (o = views_order(ctx->t, id)) == NULL)
		return 0;
	json_array_append_new(ctx->list, service_json_render_order(ctx->t, o));
	view_free(o);
	return 0;
}

json_t *
service_order_list(struct node *n, const char *distribution,
    struct halle_error *err)
{
	struct store_txn t;
	struct list_ctx ctx = { n, &t, NULL };
	Halle__Distribution *d;
	char prefix[DBKEY_MAX];

	if (service_read_begin(n, &t, err) == -1)
		return NULL;
	if ((d = views_distribution(&t, distribution)) == NULL) {
		error_set(err, HALLE_E_UNKNOWN_DISTRIBUTION, "no distribution '%s'",
		    distribution);
		store_read_end(&t);
		return NULL;
	}
	view_free(d);
	ctx.list = json_array();
	dbkey_distribution_order(prefix, distribution, NULL);
	views_index_scan(&t, prefix, list_order, &ctx);
	store_read_end(&t);
	return ctx.list;
}

