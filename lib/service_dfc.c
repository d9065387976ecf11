/*
 * service_dfc: the DFC routes of the control API (docs/dfc.md), between
 * the pure mapping (dfc.h) and the store.
 *
 * An import is the JSON route's publish with another reader: the
 * document becomes a catalogue draft, and service_catalogue_publish()
 * applies the very rules the JSON route applies. What the mapping refused
 * is reported, product by product; it stops the import unless the caller
 * asked to skip it. Exports read one snapshot.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "dfc.h"
#include "service_int.h"

/*
 * The refusal of an import, from the first problem (in err) and how many
 * products were refused; none left: nothing to publish at all.
 */
static void
refusal(size_t problems, int none_left, struct halle_error *err)
{
	char first[sizeof(err->message)];

	snprintf(first, sizeof(first), "%s", err->message);
	if (none_left)
		error_set(err, err->code, "no product to publish: %s%s", first,
		    problems > 1 ? " (and every other product: a dry run "
		    "lists them)" : "");
	else if (problems > 1)
		error_set(err, err->code, "%s (%zu products refused: a dry run lists "
		    "them all, skip_invalid imports the rest)", first, problems);
}

json_t *
service_catalogue_import(struct node *n, const char *producer, json_t *doc,
    int skip_invalid, int dry_run, struct halle_error *err)
{
	struct catalogue_draft d;
	json_t *problems = NULL, *catalogue, *answer = NULL;

	catalogue_draft_init(&d);
	if (dfc_catalogue_import(doc, &d, &problems, err) == -1)
		goto done;
	if (!dry_run && (d.n == 0 || (json_array_size(problems) > 0 &&
	    !skip_invalid))) {
		refusal(json_array_size(problems), d.n == 0, err);
		goto done;
	}
	if ((catalogue = service_catalogue_publish(n, producer, &d, dry_run,
	    err)) == NULL)
		goto done;
	answer = json_pack("{s:b, s:b, s:o, s:O}", "dry_run", dry_run,
	    "published", !dry_run, "catalogue", catalogue, "problems",
	    problems);
done:
	json_decref(problems);
	catalogue_draft_free(&d);
	return answer;
}

json_t *
service_catalogue_export(struct node *n, const char *ref, struct halle_error *err)
{
	Halle__Catalogue *c = NULL;
	Halle__Producer *p = NULL;
	struct store_txn t;
	char id[ID_MAX];
	json_t *doc = NULL;

	if (service_read_begin(n, &t, err) == -1)
		return NULL;
	if (service_resolve_producer(&t, ref, id, err) == -1)
		goto done;
	if ((p = views_producer(&t, id, NULL)) == NULL ||
	    (c = views_catalogue(&t, id)) == NULL)
		error_set(err, HALLE_E_NO_CATALOGUE,
		    "producer '%s' has published no catalogue", ref);
	else
		doc = dfc_catalogue_export(n->cfg->dfc_base, p, c, err);
done:
	view_free(c);
	view_free(p);
	store_read_end(&t);
	return doc;
}

/* The orders of one distribution touching one producer, as dfc.h has them. */
struct order_export {
	struct store_txn		*t;
	const Halle__Distribution	*d;
	const char			*producer;
	struct dfc_order		*orders;
	Halle__Order			**held;		/* to free */
	size_t				 n, cap;
	int				 failed;
};

static enum dfc_order_status
order_status(const Halle__Distribution *d, const Halle__Order *o)
{
	if (o->cancelled || d->cancelled)
		return DFC_ORDER_CANCELLED;
	/* The sheet is final once the market's node marked the close. */
	return d->closed ? DFC_ORDER_COMPLETE : DFC_ORDER_HELD;
}

/* Fills out with o's confirmed lines of the producer; how many. */
static size_t
confirmed_lines(struct order_export *x, const Halle__Order *o,
    struct dfc_order_line *out)
{
	const Halle__OrderLine *l;
	struct views_line vl;
	size_t i, n = 0;

	for (i = 0; i < o->n_lines; i++) {
		l = o->lines[i];
		if (strcmp(l->producer, x->producer) != 0)
			continue;
		/* Confirmed by the market's node or its home, as sheets count. */
		views_line_state(x->t, o, l, &vl);
		if (vl.confirmed > 0) {
			out[n].sku = l->sku;
			out[n].quantity = vl.confirmed;
			out[n].price_cents = l->price_cents;
			out[n].vat_bp = l->vat_bp;
			n++;
		}
		view_free(vl.conf);
	}
	return n;
}

static int
touches(const Halle__Order *o, const char *producer)
{
	size_t i;

	for (i = 0; i < o->n_lines; i++)
		if (strcmp(o->lines[i]->producer, producer) == 0)
			return 1;
	return 0;
}

static int
export_grow(struct order_export *x)
{
	size_t cap = x->cap * 2 + 8;
	void *grown;

	if (x->n < x->cap)
		return 0;
	if ((grown = realloc(x->orders, cap * sizeof(*x->orders))) == NULL)
		return -1;
	x->orders = grown;
	if ((grown = realloc(x->held, cap * sizeof(*x->held))) == NULL)
		return -1;
	x->held = grown;
	x->cap = cap;
	return 0;
}

static int
export_order(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct order_export *x = arg;
	struct dfc_order *eo;
	Halle__Order *o;
	char id[ID_MAX];

	if (dbkey_last_id(key, klen, id) == NULL ||
	    (o = views_order(x->t, id)) == NULL)
		return 0;
	if (!touches(o, x->producer)) {
		view_free(o);
		return 0;
	}
	if (export_grow(x) == -1) {
		x->failed = 1;
		view_free(o);
		return 1;	/* stop */
	}
	eo = &x->orders[x->n];
	memset(eo, 0, sizeof(*eo));
	eo->id = o->id;
	eo->placed_at = o->placed_at;
	eo->status = order_status(x->d, o);
	if ((eo->lines = calloc(o->n_lines + 1, sizeof(*eo->lines))) == NULL) {
		x->failed = 1;
		view_free(o);
		return 1;
	}
	if (eo->status != DFC_ORDER_CANCELLED)
		eo->nlines = confirmed_lines(x, o, eo->lines);
	/* Nothing confirmed: no order to prepare, unless it was cancelled. */
	if (eo->nlines == 0 && eo->status != DFC_ORDER_CANCELLED) {
		free(eo->lines);
		view_free(o);
		return 0;
	}
	x->held[x->n++] = o;
	return 0;
}

json_t *
service_orders_export(struct node *n, const char *distribution,
    const char *producer_ref, struct halle_error *err)
{
	struct order_export x;
	struct dfc_sale sale;
	Halle__Distribution *d;
	Halle__Producer *p = NULL;
	Halle__Market *m = NULL;
	Halle__Catalogue *c = NULL;
	struct store_txn t;
	char producer[ID_MAX], prefix[128];
	json_t *doc = NULL;
	size_t i;

	memset(&x, 0, sizeof(x));
	if (service_read_begin(n, &t, err) == -1)
		return NULL;
	if ((d = views_distribution(&t, distribution)) == NULL) {
		error_set(err, HALLE_E_UNKNOWN_DISTRIBUTION, "no distribution '%s'",
		    distribution);
		goto done;
	}
	if (service_resolve_producer(&t, producer_ref, producer, err) == -1 ||
	    (p = views_producer(&t, producer, NULL)) == NULL)
		goto done;
	m = views_market(&t, d->market);
	c = views_catalogue(&t, producer);
	x.t = &t;
	x.d = d;
	x.producer = producer;
	snprintf(prefix, sizeof(prefix), "o:%s:", d->id);
	views_index_scan(&t, prefix, export_order, &x);
	if (x.failed) {
		error_set(err, HALLE_E_INTERNAL, "out of memory");
		goto done;
	}
	sale.base = n->cfg->dfc_base;
	sale.producer = p;
	sale.currency = c != NULL ? c->currency : "";
	sale.distribution = d;
	sale.market = m;
	doc = dfc_orders_export(&sale, x.orders, x.n, err);
done:
	for (i = 0; i < x.n; i++) {
		free(x.orders[i].lines);
		view_free(x.held[i]);
	}
	free(x.orders);
	free(x.held);
	view_free(c);
	view_free(m);
	view_free(p);
	view_free(d);
	store_read_end(&t);
	return doc;
}
