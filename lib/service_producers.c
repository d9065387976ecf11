/*
 * service_producers: producers and their catalogues. See service.h.
 *
 * A producer is written by its home node, the node that registers it; so
 * is each catalogue version, from a draft (catalogue.h) that the JSON
 * route and the DFC importer both fill.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "service_int.h"
#include "stock.h"
#include "timeutil.h"

/* Producers */

struct producer_add {
	const struct service_producer_request	*req;
	char					 id[ID_MAX];
};

static int
producer_add_op(struct node_txn *nt, void *arg)
{
	struct producer_add *op = arg;
	const struct service_producer_request *r = op->req;
	Halle__Producer p = HALLE__PRODUCER__INIT;

	if (service_name_taken(nt->t, 'P', r->name, nt->err) == -1 ||
	    service_id_for_next_record(nt, op->id, "pr") == -1)
		return -1;
	p.id = op->id;
	p.version = 1;
	p.name = (char *)r->name;
	p.farm = (char *)r->farm;
	p.town = (char *)r->town;
	p.email = (char *)r->email;
	p.phone = (char *)r->phone;
	return node_append(nt, HALLE__RECORD_KIND__RECORD_KIND_PRODUCER,
	    &p.base);
}

json_t *
service_producer_add(struct node *n, const struct service_producer_request *r,
    struct halle_error *err)
{
	struct producer_add op = { r, "" };

	if (node_mutate(n, producer_add_op, &op, err) == -1)
		return NULL;
	return service_producer_show(n, op.id, err);
}

json_t *
service_producer_list(struct node *n, struct halle_error *err)
{
	struct store_txn t;
	Halle__Producer *p;
	json_t *ids, *v, *list = json_array();
	size_t i;

	if (service_read_begin(n, &t, err) == -1)
		return NULL;
	ids = service_ids_by_name(&t, 'P');
	json_array_foreach(ids, i, v) {
		if ((p = views_producer(&t, json_string_value(v), NULL)) == NULL)
			continue;
		json_array_append_new(list, service_json_render_producer(&t, p));
		view_free(p);
	}
	json_decref(ids);
	store_read_end(&t);
	return list;
}

json_t *
service_producer_show(struct node *n, const char *ref, struct halle_error *err)
{
	struct store_txn t;
	Halle__Producer *p;
	char id[ID_MAX];
	json_t *o = NULL;

	if (service_read_begin(n, &t, err) == -1)
		return NULL;
	if (service_resolve_producer(&t, ref, id, err) == 0 &&
	    (p = views_producer(&t, id, NULL)) != NULL) {
		o = service_json_render_producer(&t, p);
		view_free(p);
	}
	store_read_end(&t);
	return o;
}

/* Catalogues */

static int
parse_unit(const char *s)
{
	static const char *const units[] = { "piece", "kg", "g", "l", "ml" };
	int i;

	for (i = 0; i < 5; i++)
		if (strcmp(s, units[i]) == 0)
			return i;
	return -1;
}

/*
 * Reads product number i of the request into p, whose strings stay the
 * request's. Only what JSON can get wrong is checked here (types, and
 * values a product cannot hold); the rules are catalogue_check_product's.
 */
static int
parse_product(json_t *j, size_t i, Halle__Product *p, struct halle_error *err)
{
	const char *unit;
	json_t *q;
	long long v;
	int present;

	if (!json_is_object(j))
		return error_set(err, HALLE_E_INVALID_FIELD,
		    "products[%zu] must be an object", i);
	if (req_string(j, "sku", 1, SERVICE_MAX_LABEL, (const char **)&p->sku,
	    err) == -1 || req_name(j, "name", 1, SERVICE_MAX_NAME,
	    (const char **)&p->name, err) == -1 ||
	    req_string(j, "unit", 0, 8, &unit, err) == -1)
		goto field;
	if (unit[0] != '\0' && parse_unit(unit) == -1)
		return error_set(err, HALLE_E_INVALID_FIELD, "products[%zu]: unit "
		    "'%s' is not one of piece, kg, g, l, ml", i, unit);
	p->unit = unit[0] ? parse_unit(unit) : HALLE__UNIT__UNIT_PIECE;
	p->quantity = 1;
	if ((q = json_object_get(j, "quantity")) != NULL && !json_is_null(q)) {
		if (!json_is_number(q))
			return error_set(err, HALLE_E_INVALID_FIELD, "products[%zu]: "
			    "quantity must be a number above 0", i);
		p->quantity = json_number_value(q);
	}
	if (req_integer(j, "price_cents", &present, &v, err) == -1)
		goto field;
	if (!present)
		return error_set(err, HALLE_E_INVALID_FIELD,
		    "products[%zu]: missing 'price_cents'", i);
	if (v < 0)
		return error_set(err, HALLE_E_INVALID_FIELD,
		    "products[%zu]: price_cents must not be negative", i);
	p->price_cents = (uint64_t)v;
	if (req_integer(j, "vat_bp", &present, &v, err) == -1)
		goto field;
	if (v < 0)
		return error_set(err, HALLE_E_INVALID_FIELD,
		    "products[%zu]: vat_bp must be from 0 to 10000", i);
	p->vat_bp = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
	if ((q = json_object_get(j, "organic")) != NULL && !json_is_null(q)) {
		if (!json_is_boolean(q))
			return error_set(err, HALLE_E_INVALID_FIELD,
			    "products[%zu]: organic must be true or false", i);
		p->organic = json_is_true(q);
	}
	if (req_integer(j, "stock_per_day", &present, &v, err) == -1)
		goto field;
	if (present && v < 0)
		return error_set(err, HALLE_E_INVALID_FIELD,
		    "products[%zu]: stock_per_day must not be negative", i);
	p->limited = present;
	p->stock_per_day = present ? (uint64_t)v : 0;
	return 0;
field:
	{
		char inner[sizeof(err->message)];

		snprintf(inner, sizeof(inner), "%s", err->message);
		return error_set(err, err->code, "products[%zu]: %s",
		    i, inner);
	}
}

/* Reads a publish request (docs/control-api.md) into an empty draft. */
static int
catalogue_read(json_t *req, struct catalogue_draft *d, struct halle_error *err)
{
	Halle__Product p;
	const char *currency;
	char label[32];
	long long version;
	json_t *list;
	size_t i;
	int present;

	if (req_integer(req, "version", &present, &version, err) == -1 ||
	    req_string(req, "currency", 0, 16, &currency, err) == -1 ||
	    catalogue_check_currency(currency, err) == -1)
		return -1;
	d->version_given = present;
	d->version = present && version > 0 ? (uint64_t)version : 0;
	memcpy(d->currency, currency, strlen(currency) + 1);
	list = json_object_get(req, "products");
	if (!json_is_array(list))
		return error_set(err, HALLE_E_INVALID_FIELD,
		    "'products' must be an array");
	if (json_array_size(list) > SERVICE_MAX_PRODUCTS)
		return error_set(err, HALLE_E_INVALID_FIELD,
		    "more than %d products", SERVICE_MAX_PRODUCTS);
	for (i = 0; i < json_array_size(list); i++) {
		halle__product__init(&p);
		snprintf(label, sizeof(label), "products[%zu]", i);
		if (parse_product(json_array_get(list, i), i, &p, err) == -1 ||
		    catalogue_draft_add(d, &p, label, err) == -1)
			return -1;
	}
	return 0;
}

struct catalogue_publish {
	const char			*ref;
	const struct catalogue_draft	*draft;
	char				 producer[ID_MAX];
	uint64_t			 version;
};

/*
 * The rules of a new catalogue version that need the store: the producer
 * is this node's own, the version newer than the one held; and, again,
 * each product's (a draft may have been filled by any door). Only reads:
 * a dry run runs it in a read snapshot.
 */
static int
catalogue_validate(struct node_txn *nt, struct catalogue_publish *op)
{
	const struct catalogue_draft *d = op->draft;
	char name[ID_MAX + 32];
	Halle__Catalogue *held;
	uint64_t next = 0;
	size_t i;

	if (service_resolve_producer(nt->t, op->ref, op->producer, nt->err) == -1)
		return -1;
	snprintf(name, sizeof(name), "producer %s (its catalogue)",
	    op->producer);
	if (service_owned_here(nt, 'P', op->producer, name) == -1 ||
	    catalogue_check_currency(d->currency, nt->err) == -1)
		return -1;
	for (i = 0; i < d->n; i++)
		if (catalogue_check_product(d, i, nt->err) == -1)
			return -1;
	if (d->version_given && d->version > SERVICE_MAX_VERSION)
		return error_set(nt->err, HALLE_E_INVALID_FIELD, "'version' %llu is "
		    "over the last version there is (%lld)",
		    (unsigned long long)d->version, SERVICE_MAX_VERSION);
	held = views_catalogue(nt->t, op->producer);
	if (!d->version_given && service_version_next(held ? held->version : 0, &next,
	    name, nt->err) == -1) {
		view_free(held);
		return -1;
	}
	if (d->version_given && (d->version < 1 || d->version <=
	    (held ? held->version : 0))) {
		error_set(nt->err, HALLE_E_STALE_VERSION, "catalogue version %llu is "
		    "not newer than version %llu held",
		    (unsigned long long)d->version,
		    (unsigned long long)(held ? held->version : 0));
		view_free(held);
		return -1;
	}
	view_free(held);
	op->version = d->version_given ? d->version : next;
	return 0;
}

/* The catalogue a draft makes; its products point into the draft. */
static int
catalogue_from_draft(const struct catalogue_publish *op,
    Halle__Catalogue *c, Halle__Product ***ptrs, struct halle_error *err)
{
	const struct catalogue_draft *d = op->draft;
	size_t i;

	if ((*ptrs = calloc(d->n + 1, sizeof(**ptrs))) == NULL)
		return error_set(err, HALLE_E_INTERNAL, "out of memory");
	for (i = 0; i < d->n; i++)
		(*ptrs)[i] = &d->products[i];
	halle__catalogue__init(c);
	c->producer = (char *)op->producer;
	c->version = op->version;
	c->currency = (char *)d->currency;
	c->products = *ptrs;
	c->n_products = d->n;
	return 0;
}

static int
catalogue_op(struct node_txn *nt, void *arg)
{
	struct catalogue_publish *op = arg;
	Halle__Catalogue c;
	Halle__Product **ptrs;
	int rc;

	if (catalogue_validate(nt, op) == -1 ||
	    catalogue_from_draft(op, &c, &ptrs, nt->err) == -1)
		return -1;
	rc = node_append(nt, HALLE__RECORD_KIND__RECORD_KIND_CATALOGUE,
	    &c.base);
	free(ptrs);
	return rc;
}

static void
held_item(const char *date, const char *sku, uint64_t held, void *arg)
{
	json_array_append_new(arg, json_pack("{s:s, s:s, s:I}", "date", date,
	    "sku", sku, "held", (json_int_t)held));
}

/* A dry run: the catalogue the draft would publish, written nowhere. */
static json_t *
catalogue_preview(struct node *n, struct catalogue_publish *op,
    struct halle_error *err)
{
	struct node_txn nt = { n, NULL, node_now_ms(n), err };
	Halle__Product **ptrs = NULL;
	struct store_txn t;
	Halle__Catalogue c;
	json_t *o = NULL;

	if (service_read_begin(n, &t, err) == -1)
		return NULL;
	nt.t = &t;
	if (catalogue_validate(&nt, op) == 0 &&
	    catalogue_from_draft(op, &c, &ptrs, err) == 0)
		o = service_json_render_catalogue(&t, &c);
	store_read_end(&t);
	free(ptrs);
	return o;
}

json_t *
service_catalogue_publish_draft(struct node *n, const char *ref,
    const struct catalogue_draft *draft, int dry_run,
    struct halle_error *err)
{
	struct catalogue_publish op = { ref, draft, "", 0 };
	struct civil_date cd;
	struct store_txn t;
	char today[11];
	json_t *answer, *held;

	if (dry_run)
		return catalogue_preview(n, &op, err);
	if (node_mutate(n, catalogue_op, &op, err) == -1 ||
	    (answer = service_catalogue_show(n, op.producer, err)) == NULL)
		return NULL;
	/*
	 * A lowered stock applies to what is not granted yet: say what the
	 * markets still hold, from today on.
	 */
	held = json_array();
	timeutil_local_date((time_t)(node_now_ms(n) / 1000), &cd);
	timeutil_format_date(&cd, today);
	if (service_read_begin(n, &t, err) == 0) {
		stock_held_from(&t, op.producer, today, held_item, held);
		store_read_end(&t);
	}
	json_object_set_new(answer, "held_by_markets", held);
	return answer;
}

json_t *
service_catalogue_publish(struct node *n, const char *ref, json_t *req,
    struct halle_error *err)
{
	struct catalogue_draft d;
	json_t *o = NULL;

	catalogue_draft_init(&d);
	if (catalogue_read(req, &d, err) == 0)
		o = service_catalogue_publish_draft(n, ref, &d, 0, err);
	catalogue_draft_free(&d);
	return o;
}

json_t *
service_catalogue_show(struct node *n, const char *ref, struct halle_error *err)
{
	Halle__Catalogue *c;
	struct store_txn t;
	char id[ID_MAX];
	json_t *o = NULL;

	if (service_read_begin(n, &t, err) == -1)
		return NULL;
	if (service_resolve_producer(&t, ref, id, err) == 0) {
		if ((c = views_catalogue(&t, id)) == NULL)
			error_set(err, HALLE_E_NO_CATALOGUE,
			    "producer '%s' has published no catalogue", ref);
		else
			o = service_json_render_catalogue(&t, c);
		view_free(c);
	}
	store_read_end(&t);
	return o;
}
