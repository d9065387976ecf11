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
		json_array_append_new(list,
		    service_json_render_producer(&t, p));
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

struct catalogue_publish {
	const char			*ref;
	const struct catalogue_draft	*draft;
	char				 producer[ID_MAX];
	uint64_t			 version;
};

/*
 * The rules of a new catalogue version that need the store: the producer
 * is this node's own, the version newer than the one held. The draft
 * itself was checked before (catalogue_check_draft). Only reads: a dry
 * run runs it in a read snapshot.
 */
static int
catalogue_validate(struct node_txn *nt, struct catalogue_publish *op)
{
	const struct catalogue_draft *d = op->draft;
	char name[ID_MAX + 32];
	Halle__Catalogue *held;
	uint64_t next = 0;

	if (service_resolve_producer(nt->t, op->ref, op->producer,
	    nt->err) == -1)
		return -1;
	snprintf(name, sizeof(name), "producer %s (its catalogue)",
	    op->producer);
	if (service_owned_here(nt, 'P', op->producer, name) == -1)
		return -1;
	held = views_catalogue(nt->t, op->producer);
	if (!d->version_given && service_version_next(held ? held->version : 0,
	    &next, name, nt->err) == -1) {
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
service_catalogue_publish(struct node *n, const char *ref,
    const struct catalogue_draft *draft, int dry_run,
    struct halle_error *err)
{
	struct catalogue_publish op = { ref, draft, "", 0 };
	struct civil_date cd;
	struct store_txn t;
	char today[11];
	json_t *answer, *held;

	/* Any door may have filled the draft: its rules, before any lock. */
	if (catalogue_check_draft(draft, err) == -1)
		return NULL;
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
