/*
 * service_sheets: what to hand over. The producer's order sheet (per
 * market, per product, the baskets) and a distribution's pick-up list
 * (per basket, what to give). See service.h. Only confirmed quantities
 * count, whoever confirmed them (views_line_state).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service_int.h"
#include "timeutil.h"

/* Order sheets */

struct sheet_ctx {
	struct node		*node;
	struct store_txn	*t;
	const char		*producer;
	json_t			*markets;	/* market id -> market object */
};

static json_t *
sheet_market(struct sheet_ctx *ctx, const Halle__Distribution *d)
{
	json_t *m = json_object_get(ctx->markets, d->market);
	Halle__Market *mk;
	int final;

	if (m != NULL)
		return m;
	mk = views_market(ctx->t, d->market);
	/*
	 * Final once the market's node has marked the distribution closed:
	 * every order of it came before that mark in the market's feed.
	 */
	final = d->closed;
	m = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:{}}", "id", d->market,
	    "name", mk ? mk->name : "", "town", mk ? mk->town : "",
	    "place", mk ? mk->place : "", "distribution", d->id,
	    "final", final, "products");
	view_free(mk);
	json_object_set_new(ctx->markets, d->market, m);
	return m;
}

static void
sheet_add(struct sheet_ctx *ctx, const Halle__Distribution *d,
    const Halle__Order *o, const Halle__OrderLine *l, uint64_t confirmed)
{
	json_t *market = sheet_market(ctx, d), *products, *p;

	products = json_object_get(market, "products");
	if ((p = json_object_get(products, l->sku)) == NULL) {
		p = json_pack("{s:s, s:s, s:I, s:[]}", "sku", l->sku,
		    "name", l->name, "quantity", (json_int_t)0, "baskets");
		json_object_set_new(products, l->sku, p);
	}
	json_object_set_new(p, "quantity", json_integer(
	    json_integer_value(json_object_get(p, "quantity")) +
	    (json_int_t)confirmed));
	json_array_append_new(json_object_get(p, "baskets"), json_pack(
	    "{s:s, s:I, s:s}", "label", o->basket, "quantity",
	    (json_int_t)confirmed, "order", o->id));
}

static int
sheet_order(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct sheet_ctx *ctx = arg;
	Halle__Distribution *d = NULL;
	struct views_line vl;
	Halle__Order *o;
	char id[ID_MAX];
	size_t i;

	if (dbkey_last_id(key, klen, id) == NULL ||
	    (o = views_order(ctx->t, id)) == NULL)
		return 0;
	if (!o->cancelled &&
	    (d = views_distribution(ctx->t, o->distribution)) != NULL &&
	    !d->cancelled) {
		for (i = 0; i < o->n_lines; i++) {
			if (strcmp(o->lines[i]->producer, ctx->producer) != 0)
				continue;
			views_line_state(ctx->t, o, o->lines[i], &vl);
			if (vl.confirmed > 0)
				sheet_add(ctx, d, o, o->lines[i], vl.confirmed);
			view_free(vl.conf);
		}
	}
	view_free(d);
	view_free(o);
	return 0;
}

static int
strcmp_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Object of objects keyed by id or sku into an array, sorted by key. */
static json_t *
values_sorted(json_t *obj, const char *inner)
{
	const char **keys;
	const char *k;
	json_t *v, *out = json_array();
	size_t i = 0, n = json_object_size(obj);

	if ((keys = calloc(n + 1, sizeof(*keys))) == NULL)
		return out;
	json_object_foreach(obj, k, v)
		keys[i++] = k;
	qsort(keys, n, sizeof(*keys), strcmp_ptr);
	for (i = 0; i < n; i++) {
		v = json_object_get(obj, keys[i]);
		if (inner != NULL)
			json_object_set_new(v, inner, values_sorted(
			    json_object_get(v, inner), NULL));
		json_array_append(out, v);
	}
	free(keys);
	return out;
}

json_t *
service_sheet(struct node *n, const char *producer_ref, const char *date,
    struct halle_error *err)
{
	struct store_txn t;
	struct sheet_ctx ctx = { n, &t, NULL, NULL };
	Halle__Producer *p;
	char producer[ID_MAX], prefix[DBKEY_MAX];
	json_t *sheet;

	if (service_producer_day_begin(n, producer_ref, date, &t, producer,
	    err) == -1)
		return NULL;
	ctx.producer = producer;
	ctx.markets = json_object();
	dbkey_producer_day(prefix, producer, date, NULL);
	views_index_scan(&t, prefix, sheet_order, &ctx);
	p = views_producer(&t, producer, NULL);
	sheet = json_pack("{s:s, s:s, s:s, s:o}", "producer", producer,
	    "producer_name", p ? p->name : "", "date", date,
	    "markets", values_sorted(ctx.markets, "products"));
	view_free(p);
	json_decref(ctx.markets);
	store_read_end(&t);
	return sheet;
}


/* The pick-up list */

struct baskets_ctx {
	struct store_txn	*t;
	json_t			*baskets;	/* label -> basket object */
	json_int_t		 pending;	/* lines still awaiting a home */
};

/*
 * The basket's item of the producer's sku, made if it has none: two orders
 * under one label make one basket, with one item per producer and product.
 */
static json_t *
basket_item(struct baskets_ctx *ctx, json_t *items,
    const Halle__OrderLine *l)
{
	Halle__Producer *p;
	json_t *it;
	size_t i;

	json_array_foreach(items, i, it)
		if (strcmp(json_string_value(json_object_get(it, "producer")),
		    l->producer) == 0 && strcmp(json_string_value(
		    json_object_get(it, "sku")), l->sku) == 0)
			return it;
	p = views_producer(ctx->t, l->producer, NULL);
	it = json_pack("{s:s, s:s, s:s, s:s, s:I, s:b}", "producer",
	    l->producer, "producer_name", p ? p->name : "", "sku", l->sku,
	    "name", l->name, "quantity", (json_int_t)0, "pending", 0);
	view_free(p);
	json_array_append_new(items, it);
	return it;
}

/* Adds what one order hands over to its basket. */
static void
basket_add(struct baskets_ctx *ctx, const Halle__Order *o)
{
	json_t *b = json_object_get(ctx->baskets, o->basket), *items, *it;
	struct views_line vl;
	size_t i;

	if (b == NULL) {
		b = json_pack("{s:s, s:[], s:[]}", "label", o->basket,
		    "orders", "items");
		json_object_set_new(ctx->baskets, o->basket, b);
	}
	json_array_append_new(json_object_get(b, "orders"),
	    json_string(o->id));
	items = json_object_get(b, "items");
	for (i = 0; i < o->n_lines; i++) {
		const Halle__OrderLine *l = o->lines[i];

		views_line_state(ctx->t, o, l, &vl);
		if (vl.state == HALLE__LINE_STATE__LINE_STATE_PENDING)
			ctx->pending++;
		if (vl.confirmed > 0) {
			it = basket_item(ctx, items, l);
			json_object_set_new(it, "quantity", json_integer(
			    json_integer_value(json_object_get(it,
			    "quantity")) + (json_int_t)vl.confirmed));
			if (vl.state == HALLE__LINE_STATE__LINE_STATE_PENDING)
				json_object_set_new(it, "pending",
				    json_true());
		}
		view_free(vl.conf);
	}
}

static int
basket_order(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct baskets_ctx *ctx = arg;
	Halle__Order *o;
	char id[ID_MAX];

	if (dbkey_last_id(key, klen, id) == NULL ||
	    (o = views_order(ctx->t, id)) == NULL)
		return 0;
	if (!o->cancelled)
		basket_add(ctx, o);
	view_free(o);
	return 0;
}

json_t *
service_distribution_baskets(struct node *n, const char *id,
    struct halle_error *err)
{
	struct store_txn t;
	struct baskets_ctx ctx = { &t, NULL, 0 };
	Halle__Distribution *d;
	Halle__Market *m;
	char prefix[DBKEY_MAX];
	json_t *answer;

	if (service_read_begin(n, &t, err) == -1)
		return NULL;
	if ((d = views_distribution(&t, id)) == NULL) {
		error_set(err, HALLE_E_UNKNOWN_DISTRIBUTION, "no distribution '%s'",
		    id);
		store_read_end(&t);
		return NULL;
	}
	ctx.baskets = json_object();
	dbkey_distribution_order(prefix, d->id, NULL);
	views_index_scan(&t, prefix, basket_order, &ctx);
	m = views_market(&t, d->market);
	answer = json_pack("{s:s, s:s, s:s, s:s, s:b, s:I, s:o}",
	    "distribution", d->id, "market", d->market, "market_name",
	    m ? m->name : "", "date", d->date, "cancelled", d->cancelled,
	    "lines_pending", ctx.pending,
	    "baskets", values_sorted(ctx.baskets, NULL));
	view_free(m);
	view_free(d);
	json_decref(ctx.baskets);
	store_read_end(&t);
	return answer;
}
