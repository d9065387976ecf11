/*
 * service_orders: market days, orders and order sheets. See service.h.
 *
 * The market's node keeps the order window: nothing is placed, changed or
 * cancelled outside [opens_at, closes_at). The producer's home node rules on
 * stock when the order record is applied (views.c), in the same
 * transaction here, since a node's own producers are ruled on at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service_int.h"
#include "timeutil.h"

/* Distributions */

static int
market_owned_here(struct node_txn *nt, const char *market)
{
	char key[ID_MAX + 2], what[ID_MAX + 8];

	snprintf(key, sizeof(key), "M:%s", market);
	snprintf(what, sizeof(what), "market %s", market);
	return owned_here(nt, key, what);
}

static int
distribution_owned_here(struct node_txn *nt, const char *id)
{
	char key[ID_MAX + 2], what[ID_MAX + 16];

	snprintf(key, sizeof(key), "D:%s", id);
	snprintf(what, sizeof(what), "distribution %s", id);
	return owned_here(nt, key, what);
}

struct distribution_spec {
	const char		*market_ref;
	struct civil_date	 date;
	const char		*date_text;
	const char		*from, *to, *opens, *closes;
};

/*
 * Fills d from a market, a date and optional times; checks that the
 * window makes sense. now is in seconds.
 */
static int
distribution_fill(struct node_txn *nt, const Halle__Market *m,
    const struct distribution_spec *spec, int from_schedule,
    Halle__Distribution *d)
{
	time_t starts, opens, closes;
	int64_t now = nt->now_ms / 1000;

	d->from_min = m->from_min;
	d->to_min = m->to_min;
	if (!m->scheduled && (!spec->from[0] || !spec->to[0]))
		return herr(nt->err, HALLE_E_INVALID_FIELD, "market '%s' has no "
		    "weekly schedule: give 'from' and 'to'", m->name);
	if ((spec->from[0] && tu_parse_hhmm(spec->from, &d->from_min) == -1) ||
	    (spec->to[0] && tu_parse_hhmm(spec->to, &d->to_min) == -1))
		return herr(nt->err, HALLE_E_INVALID_FIELD,
		    "'from' and 'to' must be times as HH:MM");
	if (d->from_min >= d->to_min)
		return herr(nt->err, HALLE_E_BAD_DATES,
		    "the distribution must start before it ends");
	if (tu_local_instant(&spec->date, d->from_min, &starts) == -1)
		return herr(nt->err, HALLE_E_BAD_DATES, "no such local time");
	opens = from_schedule ? starts - (time_t)m->opens_days * 86400 : now;
	closes = starts - (time_t)m->closes_hours * 3600;
	if (spec->opens[0] && tu_parse_instant(spec->opens, &opens) == -1)
		return herr(nt->err, HALLE_E_INVALID_FIELD, "'opens' must be an "
		    "ISO 8601 instant such as 2026-12-03T20:00:00+01:00");
	if (spec->closes[0] && tu_parse_instant(spec->closes, &closes) == -1)
		return herr(nt->err, HALLE_E_INVALID_FIELD, "'closes' must be an "
		    "ISO 8601 instant such as 2026-12-03T20:00:00+01:00");
	if (closes > starts)
		return herr(nt->err, HALLE_E_BAD_DATES,
		    "orders must close before the distribution starts");
	if (closes <= opens)
		return herr(nt->err, HALLE_E_BAD_DATES,
		    "orders must close after they open");
	if (closes <= now)
		return herr(nt->err, HALLE_E_BAD_DATES,
		    "orders would close in the past");
	d->market = m->id;
	d->date = (char *)spec->date_text;
	d->opens_at = opens;
	d->closes_at = closes;
	d->starts_at = starts;
	d->version = 1;
	return 0;
}

struct distribution_open {
	json_t			*req;
	char			 id[ID_MAX];
};

static int
distribution_open_op(struct node_txn *nt, void *arg)
{
	struct distribution_open *op = arg;
	Halle__Distribution d = HALLE__DISTRIBUTION__INIT;
	struct distribution_spec spec;
	Halle__Market *m;
	char market[ID_MAX];
	int rc;

	memset(&spec, 0, sizeof(spec));
	if (req_string(op->req, "market", 1, SERVICE_MAX_NAME,
	    &spec.market_ref, nt->err) == -1 ||
	    req_string(op->req, "date", 1, 16, &spec.date_text, nt->err) == -1 ||
	    req_string(op->req, "from", 0, 8, &spec.from, nt->err) == -1 ||
	    req_string(op->req, "to", 0, 8, &spec.to, nt->err) == -1 ||
	    req_string(op->req, "opens", 0, 40, &spec.opens, nt->err) == -1 ||
	    req_string(op->req, "closes", 0, 40, &spec.closes, nt->err) == -1)
		return -1;
	if (tu_parse_date(spec.date_text, &spec.date) == -1)
		return herr(nt->err, HALLE_E_BAD_DATES, "'%s' is not a date as "
		    "YYYY-MM-DD", spec.date_text);
	if (resolve_market(nt->t, spec.market_ref, market, nt->err) == -1 ||
	    market_owned_here(nt, market) == -1)
		return -1;
	if ((m = views_market(nt->t, market)) == NULL)
		return herr(nt->err, HALLE_E_STORE, "market unreadable");
	rc = distribution_fill(nt, m, &spec, 0, &d);
	if (rc == 0) {
		ids_new(op->id, "ds");
		d.id = op->id;
		rc = node_append(nt,
		    HALLE__RECORD_KIND__RECORD_KIND_DISTRIBUTION, &d.base);
	}
	view_free(m);
	return rc;
}

json_t *
svc_distribution_open(struct node *n, json_t *req, struct halle_error *err)
{
	struct distribution_open op = { req, "" };

	if (node_mutate(n, distribution_open_op, &op, err) == -1)
		return NULL;
	return svc_distribution_show(n, op.id, err);
}

struct distribution_schedule {
	const char	*market_ref;
	json_t		*req;
	json_t		*created;	/* ids */
};

static int
has_key(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	*(int *)arg = 1;
	return 1;	/* the first key is enough */
}

static int
schedule_op(struct node_txn *nt, void *arg)
{
	struct distribution_schedule *op = arg;
	struct distribution_spec spec;
	Halle__Market *m;
	char market[ID_MAX], date[11], prefix[128], id[ID_MAX];
	long long weeks;
	int present, i, found, rc = 0;

	json_array_clear(op->created);
	if (resolve_market(nt->t, op->market_ref, market, nt->err) == -1 ||
	    market_owned_here(nt, market) == -1 ||
	    req_integer(op->req, "weeks", &present, &weeks, nt->err) == -1)
		return -1;
	if (!present)
		weeks = 4;
	if (weeks < 1 || weeks > 52)
		return herr(nt->err, HALLE_E_INVALID_FIELD,
		    "'weeks' must be from 1 to 52");
	if ((m = views_market(nt->t, market)) == NULL)
		return herr(nt->err, HALLE_E_STORE, "market unreadable");
	if (!m->scheduled) {
		herr(nt->err, HALLE_E_INVALID_FIELD,
		    "market '%s' has no weekly schedule", m->name);
		view_free(m);
		return -1;
	}
	memset(&spec, 0, sizeof(spec));
	spec.from = spec.to = spec.opens = spec.closes = "";
	tu_local_date((time_t)(nt->now_ms / 1000), &spec.date);
	while (tu_weekday(&spec.date) != (int)m->weekday)
		tu_add_days(&spec.date, 1);
	for (i = 0; i < weeks && rc == 0; i++, tu_add_days(&spec.date, 7)) {
		Halle__Distribution d = HALLE__DISTRIBUTION__INIT;

		tu_format_date(&spec.date, date);
		spec.date_text = date;
		snprintf(prefix, sizeof(prefix), "m:%s:%s:", market, date);
		/* Skip a date that has one, or whose order window is over. */
		found = 0;
		views_index_scan(nt->t, prefix, has_key, &found);
		if (found ||
		    distribution_fill(nt, m, &spec, 1, &d) == -1)
			continue;
		ids_new(id, "ds");
		d.id = id;
		rc = node_append(nt,
		    HALLE__RECORD_KIND__RECORD_KIND_DISTRIBUTION, &d.base);
		json_array_append_new(op->created, json_string(id));
	}
	view_free(m);
	return rc;
}

json_t *
svc_distribution_schedule(struct node *n, const char *market, json_t *req,
    struct halle_error *err)
{
	struct distribution_schedule op = { market, req, json_array() };
	struct store_txn t;
	Halle__Distribution *d;
	json_t *list, *v;
	size_t i;

	if (node_mutate(n, schedule_op, &op, err) == -1 ||
	    read_begin(n, &t, err) == -1) {
		json_decref(op.created);
		return NULL;
	}
	list = json_array();
	json_array_foreach(op.created, i, v) {
		if ((d = views_distribution(&t, json_string_value(v))) == NULL)
			continue;
		json_array_append_new(list, render_distribution(&t, d,
		    node_now_ms(n)));
		view_free(d);
	}
	store_read_end(&t);
	json_decref(op.created);
	return list;
}

struct list_ctx {
	struct node		*node;
	struct store_txn	*t;
	json_t			*list;
};

static const char *
key_tail(const char *key, size_t klen, char *out)
{
	size_t i = klen;

	while (i > 0 && key[i - 1] != ':')
		i--;
	if (klen - i >= ID_MAX)
		return NULL;
	memcpy(out, key + i, klen - i);
	out[klen - i] = '\0';
	return out;
}

static int
list_distribution(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct list_ctx *ctx = arg;
	Halle__Distribution *d;
	char id[ID_MAX];

	if (key_tail(key, klen, id) == NULL ||
	    (d = views_distribution(ctx->t, id)) == NULL)
		return 0;
	json_array_append_new(ctx->list, render_distribution(ctx->t, d,
	    node_now_ms(ctx->node)));
	view_free(d);
	return 0;
}

static int
by_date(const void *a, const void *b)
{
	json_t *const *x = a, *const *y = b;
	const char *dx = json_string_value(json_object_get(*x, "starts_at"));
	const char *dy = json_string_value(json_object_get(*y, "starts_at"));

	return strcmp(dx ? dx : "", dy ? dy : "");
}

json_t *
svc_distribution_list(struct node *n, const char *market_ref,
    struct halle_error *err)
{
	struct store_txn t;
	struct list_ctx ctx = { n, &t, json_array() };
	char market[ID_MAX], prefix[128];
	json_t **items, *sorted;
	size_t i, count;

	if (read_begin(n, &t, err) == -1)
		goto fail;
	if (market_ref != NULL && market_ref[0] != '\0') {
		if (resolve_market(&t, market_ref, market, err) == -1) {
			store_read_end(&t);
			goto fail;
		}
		snprintf(prefix, sizeof(prefix), "m:%s:", market);
	} else
		snprintf(prefix, sizeof(prefix), "m:");
	views_index_scan(&t, prefix, list_distribution, &ctx);
	store_read_end(&t);
	/* The index orders by market then date; a list reads by date. */
	count = json_array_size(ctx.list);
	if ((items = calloc(count + 1, sizeof(*items))) == NULL)
		return ctx.list;
	for (i = 0; i < count; i++)
		items[i] = json_array_get(ctx.list, i);
	qsort(items, count, sizeof(*items), by_date);
	sorted = json_array();
	for (i = 0; i < count; i++)
		json_array_append(sorted, items[i]);
	free(items);
	json_decref(ctx.list);
	return sorted;
fail:
	json_decref(ctx.list);
	return NULL;
}

json_t *
svc_distribution_show(struct node *n, const char *id, struct halle_error *err)
{
	Halle__Distribution *d;
	struct store_txn t;
	json_t *o = NULL;

	if (read_begin(n, &t, err) == -1)
		return NULL;
	if ((d = views_distribution(&t, id)) == NULL)
		herr(err, HALLE_E_UNKNOWN_DISTRIBUTION, "no distribution '%s'", id);
	else
		o = render_distribution(&t, d, node_now_ms(n));
	view_free(d);
	store_read_end(&t);
	return o;
}

struct distribution_cancel {
	const char	*id;
};

static int
distribution_cancel_op(struct node_txn *nt, void *arg)
{
	struct distribution_cancel *op = arg;
	Halle__Distribution *d;
	int rc = 0;

	if ((d = views_distribution(nt->t, op->id)) == NULL)
		return herr(nt->err, HALLE_E_UNKNOWN_DISTRIBUTION,
		    "no distribution '%s'", op->id);
	if (distribution_owned_here(nt, op->id) == -1) {
		view_free(d);
		return -1;
	}
	if (!d->cancelled) {
		d->cancelled = 1;
		d->version++;
		rc = node_append(nt,
		    HALLE__RECORD_KIND__RECORD_KIND_DISTRIBUTION, &d->base);
	}
	view_free(d);
	return rc;
}

json_t *
svc_distribution_cancel(struct node *n, const char *id,
    struct halle_error *err)
{
	struct distribution_cancel op = { id };

	if (node_mutate(n, distribution_cancel_op, &op, err) == -1)
		return NULL;
	return svc_distribution_show(n, id, err);
}

/* Orders */

/* The distribution of an order, checked open for orders at now. */
static Halle__Distribution *
open_distribution(struct node_txn *nt, const char *id)
{
	Halle__Distribution *d;
	int64_t now = nt->now_ms / 1000;
	char when[40];

	if ((d = views_distribution(nt->t, id)) == NULL) {
		herr(nt->err, HALLE_E_UNKNOWN_DISTRIBUTION,
		    "no distribution '%s'", id);
		return NULL;
	}
	/* Orders are taken by the market's node only. */
	if (distribution_owned_here(nt, id) == -1) {
		view_free(d);
		return NULL;
	}
	if (d->cancelled)
		herr(nt->err, HALLE_E_DISTRIBUTION_CANCELLED,
		    "distribution %s on %s was cancelled", d->id, d->date);
	else if (now < d->opens_at) {
		tu_format_instant((time_t)d->opens_at, when, sizeof(when));
		herr(nt->err, HALLE_E_ORDER_WINDOW_NOT_OPEN, "orders for %s on "
		    "%s open at %s", d->id, d->date, when);
	} else if (now >= d->closes_at) {
		tu_format_instant((time_t)d->closes_at, when, sizeof(when));
		herr(nt->err, HALLE_E_ORDER_WINDOW_CLOSED, "orders for %s on "
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

/* Reads line i of the request; prev is the order being changed, if any. */
static int
parse_line(struct node_txn *nt, const Halle__Distribution *d,
    const Halle__Order *prev, json_t *j, size_t i, struct line_set *ls)
{
	Halle__OrderLine *l = &ls->lines[i];
	const Halle__OrderLine *old;
	const Halle__Product *p;
	const char *producer_ref;
	long long qty;
	int present;
	size_t k;

	halle__order_line__init(l);
	if (!json_is_object(j))
		return herr(nt->err, HALLE_E_INVALID_FIELD,
		    "lines[%zu] must be an object", i);
	if (req_string(j, "producer", 1, SERVICE_MAX_NAME, &producer_ref,
	    nt->err) == -1 || req_string(j, "sku", 1, SERVICE_MAX_LABEL,
	    (const char **)&l->sku, nt->err) == -1 ||
	    req_integer(j, "quantity", &present, &qty, nt->err) == -1)
		return -1;
	if (!present)
		return herr(nt->err, HALLE_E_INVALID_FIELD,
		    "lines[%zu]: missing 'quantity'", i);
	if (qty <= 0)
		return herr(nt->err, HALLE_E_BAD_QUANTITY, "lines[%zu]: quantity "
		    "%lld of %s must be at least 1", i, qty, l->sku);
	if (qty > SERVICE_MAX_QUANTITY)
		return herr(nt->err, HALLE_E_OVERFLOW, "lines[%zu]: quantity "
		    "%lld of %s is over %lld", i, qty, l->sku,
		    SERVICE_MAX_QUANTITY);
	if (resolve_producer(nt->t, producer_ref, ls->producers[i],
	    nt->err) == -1)
		return -1;
	l->producer = ls->producers[i];
	l->quantity = (uint64_t)qty;
	for (k = 0; k < i; k++)
		if (strcmp(ls->lines[k].producer, l->producer) == 0 &&
		    strcmp(ls->lines[k].sku, l->sku) == 0)
			return herr(nt->err, HALLE_E_INVALID_FIELD, "lines[%zu]: "
			    "%s of %s is ordered twice", i, l->sku, producer_ref);
	/*
	 * A withdrawal counts for new lines; a line already ordered stays
	 * (its home keeps what it confirmed).
	 */
	old = previous_line(prev, l->producer, l->sku);
	if (old == NULL && !views_sells_at(nt->t, d->market, l->producer))
		return herr(nt->err, HALLE_E_NOT_AT_MARKET, "producer '%s' does "
		    "not sell at this market (it must be invited and accept)",
		    producer_ref);
	if (old != NULL) {
		/* Already ordered: the price and VAT stay as they were. */
		l->price_cents = old->price_cents;
		l->vat_bp = old->vat_bp;
		l->name = old->name;
		return 0;
	}
	ls->catalogues[i] = views_catalogue(nt->t, l->producer);
	if (ls->catalogues[i] == NULL)
		return herr(nt->err, HALLE_E_NO_CATALOGUE,
		    "producer '%s' has published no catalogue", producer_ref);
	if ((p = catalogue_product(ls->catalogues[i], l->sku)) == NULL)
		return herr(nt->err, HALLE_E_UNKNOWN_SKU, "producer '%s' has no "
		    "product '%s' in its catalogue", producer_ref, l->sku);
	l->price_cents = p->price_cents;
	l->vat_bp = p->vat_bp;
	l->name = p->name;
	return 0;
}

static int
parse_lines(struct node_txn *nt, const Halle__Distribution *d,
    const Halle__Order *prev, json_t *req, struct line_set *ls)
{
	json_t *list = json_object_get(req, "lines");
	size_t i, n;

	if (!json_is_array(list) || json_array_size(list) == 0)
		return herr(nt->err, HALLE_E_INVALID_FIELD,
		    "'lines' must be a non-empty array");
	if ((n = json_array_size(list)) > SERVICE_MAX_LINES)
		return herr(nt->err, HALLE_E_INVALID_FIELD,
		    "more than %d lines", SERVICE_MAX_LINES);
	ls->lines = calloc(n, sizeof(*ls->lines));
	ls->ptrs = calloc(n, sizeof(*ls->ptrs));
	ls->producers = calloc(n, sizeof(*ls->producers));
	ls->catalogues = calloc(n, sizeof(*ls->catalogues));
	if (!ls->lines || !ls->ptrs || !ls->producers || !ls->catalogues)
		return herr(nt->err, HALLE_E_INTERNAL, "out of memory");
	ls->n = n;
	for (i = 0; i < n; i++) {
		if (parse_line(nt, d, prev, json_array_get(list, i), i,
		    ls) == -1)
			return -1;
		ls->ptrs[i] = &ls->lines[i];
	}
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
		return herr(nt->err, HALLE_E_INTERNAL, "out of memory");
	}
	for (f = 0; f < 2; f++)
		for (i = 0; from[f] != NULL && i < from[f]->n_lines; i++) {
			p = views_producer(nt->t, from[f]->lines[i]->producer,
			    home);
			if (p == NULL)
				continue;
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
	json_t		*req;
	const char	*id_in;		/* change and cancel */
	int		 cancel;
	char		 id[ID_MAX];
};

static int
order_place_op(struct node_txn *nt, void *arg)
{
	struct order_op *op = arg;
	Halle__Order o = HALLE__ORDER__INIT;
	Halle__Distribution *d;
	struct line_set ls;
	const char *dist;
	int rc = -1;

	memset(&ls, 0, sizeof(ls));
	if (req_string(op->req, "distribution", 1, ID_MAX - 1, &dist,
	    nt->err) == -1 ||
	    req_string(op->req, "basket", 1, SERVICE_MAX_LABEL,
	    (const char **)&o.basket, nt->err) == -1 ||
	    req_string(op->req, "mediator", 0, SERVICE_MAX_NAME,
	    (const char **)&o.mediator, nt->err) == -1)
		return -1;
	if ((d = open_distribution(nt, dist)) == NULL)
		return -1;
	if (parse_lines(nt, d, NULL, op->req, &ls) == 0) {
		ids_new(op->id, "or");
		o.id = op->id;
		o.version = 1;
		o.distribution = d->id;
		o.lines = ls.ptrs;
		o.n_lines = ls.n;
		o.placed_at = nt->now_ms / 1000;
		rc = write_parts(nt, &o, NULL);
	}
	line_set_free(&ls);
	view_free(d);
	return rc;
}

json_t *
svc_order_place(struct node *n, json_t *req, struct halle_error *err)
{
	struct order_op op = { req, NULL, 0, "" };

	if (node_mutate(n, order_place_op, &op, err) == -1)
		return NULL;
	return svc_order_show(n, op.id, err);
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
		return herr(nt->err, HALLE_E_UNKNOWN_ORDER, "no order '%s'",
		    op->id_in);
	if (o->cancelled) {
		herr(nt->err, HALLE_E_ORDER_CANCELLED, "order %s was cancelled",
		    o->id);
		goto done;
	}
	if ((d = open_distribution(nt, o->distribution)) == NULL)
		goto done;
	next = *o;
	next.version = o->version + 1;
	if (op->cancel)
		next.cancelled = 1;
	else if (parse_lines(nt, d, o, op->req, &ls) == -1)
		goto done;
	else {
		next.lines = ls.ptrs;
		next.n_lines = ls.n;
	}
	rc = write_parts(nt, &next, o);
done:
	line_set_free(&ls);
	view_free(d);
	view_free(o);
	return rc;
}

json_t *
svc_order_change(struct node *n, const char *id, json_t *req,
    struct halle_error *err)
{
	struct order_op op = { req, id, 0, "" };

	if (node_mutate(n, order_change_op, &op, err) == -1)
		return NULL;
	return svc_order_show(n, id, err);
}

json_t *
svc_order_cancel(struct node *n, const char *id, struct halle_error *err)
{
	struct order_op op = { NULL, id, 1, "" };

	if (node_mutate(n, order_change_op, &op, err) == -1)
		return NULL;
	return svc_order_show(n, id, err);
}

json_t *
svc_order_show(struct node *n, const char *id, struct halle_error *err)
{
	struct store_txn t;
	Halle__Order *o;
	json_t *j = NULL;

	if (read_begin(n, &t, err) == -1)
		return NULL;
	if ((o = views_order(&t, id)) == NULL)
		herr(err, HALLE_E_UNKNOWN_ORDER, "no order '%s'", id);
	else
		j = render_order(&t, o);
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

	if (key_tail(key, klen, id) == NULL ||
	    (o = views_order(ctx->t, id)) == NULL)
		return 0;
	json_array_append_new(ctx->list, render_order(ctx->t, o));
	view_free(o);
	return 0;
}

json_t *
svc_order_list(struct node *n, const char *distribution,
    struct halle_error *err)
{
	struct store_txn t;
	struct list_ctx ctx = { n, &t, NULL };
	Halle__Distribution *d;
	char prefix[128];

	if (read_begin(n, &t, err) == -1)
		return NULL;
	if ((d = views_distribution(&t, distribution)) == NULL) {
		herr(err, HALLE_E_UNKNOWN_DISTRIBUTION, "no distribution '%s'",
		    distribution);
		store_read_end(&t);
		return NULL;
	}
	view_free(d);
	ctx.list = json_array();
	snprintf(prefix, sizeof(prefix), "o:%s:", distribution);
	views_index_scan(&t, prefix, list_order, &ctx);
	store_read_end(&t);
	return ctx.list;
}

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
	const Halle__LineDecision *ld;
	Halle__Distribution *d = NULL;
	Halle__Order *o;
	char id[ID_MAX];
	void *conf;
	size_t i;

	if (key_tail(key, klen, id) == NULL ||
	    (o = views_order(ctx->t, id)) == NULL)
		return 0;
	if (!o->cancelled &&
	    (d = views_distribution(ctx->t, o->distribution)) != NULL &&
	    !d->cancelled) {
		for (i = 0; i < o->n_lines; i++) {
			if (strcmp(o->lines[i]->producer, ctx->producer) != 0)
				continue;
			ld = views_decision(ctx->t, o->id, ctx->producer,
			    o->lines[i]->sku, &conf);
			if (ld != NULL && ld->confirmed > 0 &&
			    ((Halle__Confirmation *)conf)->order_version ==
			    o->version)
				sheet_add(ctx, d, o, o->lines[i], ld->confirmed);
			view_free(conf);
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
svc_sheet(struct node *n, const char *producer_ref, const char *date,
    struct halle_error *err)
{
	struct store_txn t;
	struct sheet_ctx ctx = { n, &t, NULL, NULL };
	struct civil_date cd;
	Halle__Producer *p;
	char producer[ID_MAX], prefix[128];
	json_t *sheet;

	if (tu_parse_date(date, &cd) == -1) {
		herr(err, HALLE_E_BAD_DATES, "'%s' is not a date as YYYY-MM-DD",
		    date);
		return NULL;
	}
	if (read_begin(n, &t, err) == -1)
		return NULL;
	if (resolve_producer(&t, producer_ref, producer, err) == -1) {
		store_read_end(&t);
		return NULL;
	}
	ctx.producer = producer;
	ctx.markets = json_object();
	snprintf(prefix, sizeof(prefix), "y:%s:%s:", producer, date);
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

/* Closing order windows */

struct close_due {
	struct node_txn	*nt;
	int		 marked;
};

static int
close_one(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct close_due *ctx = arg;
	struct node_txn *nt = ctx->nt;
	unsigned char owner[KEY_PUBLIC_LEN];
	Halle__Distribution *d;
	char id[ID_MAX], dkey[ID_MAX + 2];
	int rc = 0;

	if (key_tail(key, klen, id) == NULL)
		return 0;
	snprintf(dkey, sizeof(dkey), "D:%s", id);
	d = VIEW_LOAD(nt->t, Distribution, distribution, dkey, owner);
	if (d == NULL)
		return 0;
	if (memcmp(owner, nt->node->key.public_key, KEY_PUBLIC_LEN) == 0 &&
	    !d->closed && !d->cancelled && nt->now_ms / 1000 >= d->closes_at) {
		d->closed = 1;
		d->version++;
		rc = node_append(nt,
		    HALLE__RECORD_KIND__RECORD_KIND_DISTRIBUTION, &d->base);
		ctx->marked++;
	}
	view_free(d);
	return rc;
}

static int
close_due_op(struct node_txn *nt, void *arg)
{
	struct close_due *ctx = arg;

	ctx->nt = nt;
	ctx->marked = 0;
	return views_index_scan(nt->t, "m:", close_one, ctx);
}

int
svc_close_due(struct node *n, struct halle_error *err)
{
	struct close_due ctx = { NULL, 0 };

	if (node_mutate(n, close_due_op, &ctx, err) == -1)
		return -1;
	return ctx.marked;
}

static int
rule_pending_op(struct node_txn *nt, void *arg)
{
	return views_rule_queued(nt);
}

int
svc_rule_pending(struct node *n, struct halle_error *err)
{
	struct store_txn t;
	int queued = 0;

	if (!node_may_write(n))
		return 0;
	/* Most of the time there is nothing queued: look before writing. */
	if (read_begin(n, &t, err) == -1)
		return -1;
	views_index_scan(&t, "q:", has_key, &queued);
	store_read_end(&t);
	if (!queued)
		return 0;
	return node_mutate(n, rule_pending_op, NULL, err);
}
