/*
 * service_markets: markets and who sells there. See service.h.
 *
 * A market belongs to the node that creates it. A producer sells at a
 * market once the market's node has invited it and the producer's home
 * node has accepted: each decision is a record of the node that makes it.
 */
#include <stdio.h>
#include <string.h>

#include "service_int.h"
#include "timeutil.h"

/* Markets */

struct market_add {
	const struct service_market_request	*req;
	char					 id[ID_MAX];
};

static int
market_add_op(struct node_txn *nt, void *arg)
{
	struct market_add *op = arg;
	const struct service_market_request *r = op->req;
	Halle__Market m = HALLE__MARKET__INIT;

	if (service_name_taken(nt->t, 'M', r->name, nt->err) == -1 ||
	    service_id_for_next_record(nt, op->id, "mk") == -1)
		return -1;
	m.id = op->id;
	m.version = 1;
	m.name = (char *)r->name;
	m.place = (char *)r->place;
	m.town = (char *)r->town;
	m.scheduled = r->scheduled;
	m.weekday = r->weekday;
	m.from_min = r->from_min;
	m.to_min = r->to_min;
	m.opens_days = r->opens_days;
	m.closes_hours = r->closes_hours;
	return node_append(nt, HALLE__RECORD_KIND__RECORD_KIND_MARKET, &m.base);
}

json_t *
service_market_add(struct node *n, const struct service_market_request *r,
    struct halle_error *err)
{
	struct market_add op = { r, "" };

	if (node_mutate(n, market_add_op, &op, err) == -1)
		return NULL;
	return service_market_show(n, op.id, err);
}

json_t *
service_market_list(struct node *n, struct halle_error *err)
{
	struct store_txn t;
	Halle__Market *m;
	json_t *ids, *v, *list = json_array();
	size_t i;

	if (service_read_begin(n, &t, err) == -1)
		return NULL;
	ids = service_ids_by_name(&t, 'M');
	json_array_foreach(ids, i, v) {
		if ((m = views_market(&t, json_string_value(v))) == NULL)
			continue;
		json_array_append_new(list, service_json_render_market(&t, m));
		view_free(m);
	}
	json_decref(ids);
	store_read_end(&t);
	return list;
}

json_t *
service_market_show(struct node *n, const char *ref, struct halle_error *err)
{
	struct store_txn t;
	Halle__Market *m;
	char id[ID_MAX];
	json_t *o = NULL;

	if (service_read_begin(n, &t, err) == -1)
		return NULL;
	if (service_resolve_market(&t, ref, id, err) == 0 &&
	    (m = views_market(&t, id)) != NULL) {
		o = service_json_render_market(&t, m);
		view_free(m);
	}
	store_read_end(&t);
	return o;
}

struct membership_op {
	const char	*market_ref, *producer_ref;
	char		 which;
	int		 active;
	char		 market[ID_MAX];
};

/*
 * A market's node invites; a producer's home node accepts. Either decision
 * made at another node would be ignored by everyone: refuse it here.
 */
static int
decided_here(struct node_txn *nt, char which, const char *market,
    const char *producer)
{
	unsigned char owner[KEY_PUBLIC_LEN];
	char key[DBKEY_MAX];
	void *m;

	if (which == 'I') {
		dbkey_entity(key, 'M', market);
		m = VIEW_LOAD(nt->t, Market, market, key, owner);
	} else
		m = views_producer(nt->t, producer, owner);
	if (m == NULL)
		return error_set(nt->err, HALLE_E_STORE, "cannot read the store");
	view_free(m);
	if (memcmp(owner, nt->node->key.public_key, KEY_PUBLIC_LEN) == 0)
		return 0;
	if (which == 'I')
		return error_set(nt->err, HALLE_E_NOT_OWNER, "market %s belongs to "
		    "another commune: only its node invites producers", market);
	return error_set(nt->err, HALLE_E_NOT_OWNER, "producer %s's home is another "
	    "commune: only its node accepts markets for it", producer);
}

static int
membership_op(struct node_txn *nt, void *arg)
{
	struct membership_op *op = arg;
	Halle__Membership ms = HALLE__MEMBERSHIP__INIT, *held;
	char producer[ID_MAX];
	uint32_t kind;

	if (service_resolve_market(nt->t, op->market_ref, op->market,
	    nt->err) == -1 || service_resolve_producer(nt->t, op->producer_ref,
	    producer, nt->err) == -1)
		return -1;
	if (decided_here(nt, op->which, op->market, producer) == -1)
		return -1;
	held = views_membership(nt->t, op->which, op->market, producer);
	if (held != NULL && held->active == op->active) {
		view_free(held);
		return 0;	/* already so: nothing to write */
	}
	if (service_version_next(held ? held->version : 0, &ms.version,
	    op->which == 'I' ? "the invitation" : "the acceptance",
	    nt->err) == -1) {
		view_free(held);
		return -1;
	}
	view_free(held);
	ms.market = op->market;
	ms.producer = producer;
	ms.active = op->active;
	kind = op->which == 'I' ? HALLE__RECORD_KIND__RECORD_KIND_INVITATION :
	    HALLE__RECORD_KIND__RECORD_KIND_ACCEPTANCE;
	return node_append(nt, kind, &ms.base);
}

json_t *
service_market_membership(struct node *n, const char *market, char which,
    const char *producer, int active, struct halle_error *err)
{
	struct membership_op op = { market, producer, which, active, "" };

	if (node_mutate(n, membership_op, &op, err) == -1)
		return NULL;
	return service_market_show(n, op.market, err);
}
