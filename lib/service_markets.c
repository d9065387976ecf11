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
	json_t		*req;
	char		 id[ID_MAX];
};

static int
market_schedule(json_t *req, Halle__Market *m, struct halle_error *err)
{
	const char *weekday, *from, *to;
	int wd;

	if (req_string(req, "weekday", 0, 8, &weekday, err) == -1 ||
	    req_string(req, "from", 0, 8, &from, err) == -1 ||
	    req_string(req, "to", 0, 8, &to, err) == -1)
		return -1;
	if (!weekday[0] && !from[0] && !to[0])
		return 0;
	if (!weekday[0] || !from[0] || !to[0])
		return error_set(err, HALLE_E_INVALID_FIELD,
		    "'weekday', 'from' and 'to' go together");
	if ((wd = timeutil_parse_weekday(weekday)) == -1)
		return error_set(err, HALLE_E_INVALID_FIELD, "weekday '%s' is not one "
		    "of sun mon tue wed thu fri sat", weekday);
	if (timeutil_parse_hhmm(from, &m->from_min) == -1 ||
	    timeutil_parse_hhmm(to, &m->to_min) == -1)
		return error_set(err, HALLE_E_INVALID_FIELD,
		    "'from' and 'to' must be times as HH:MM");
	if (m->from_min >= m->to_min)
		return error_set(err, HALLE_E_BAD_DATES, "the market starts at %s, "
		    "not before it ends at %s", from, to);
	m->scheduled = 1;
	m->weekday = (uint32_t)wd;
	return 0;
}

static int
bounded(json_t *req, const char *field, long long def, long long min,
    long long max, uint32_t *out, struct halle_error *err)
{
	long long v;
	int present;

	if (req_integer(req, field, &present, &v, err) == -1)
		return -1;
	if (!present)
		v = def;
	if (v < min || v > max)
		return error_set(err, HALLE_E_INVALID_FIELD,
		    "'%s' must be from %lld to %lld", field, min, max);
	*out = (uint32_t)v;
	return 0;
}

static int
market_add_op(struct node_txn *nt, void *arg)
{
	struct market_add *op = arg;
	Halle__Market m = HALLE__MARKET__INIT;

	if (req_name(op->req, "name", 1, SERVICE_MAX_NAME,
	    (const char **)&m.name, nt->err) == -1 ||
	    req_name(op->req, "place", 1, SERVICE_MAX_NAME,
	    (const char **)&m.place, nt->err) == -1 ||
	    req_name(op->req, "town", 1, SERVICE_MAX_NAME,
	    (const char **)&m.town, nt->err) == -1 ||
	    market_schedule(op->req, &m, nt->err) == -1 ||
	    bounded(op->req, "opens_days", 7, 1, 60, &m.opens_days,
	    nt->err) == -1 ||
	    bounded(op->req, "closes_hours", 36, 0, 720, &m.closes_hours,
	    nt->err) == -1)
		return -1;
	if (service_name_taken(nt->t, 'M', m.name, nt->err) == -1 ||
	    service_id_for_next_record(nt, op->id, "mk") == -1)
		return -1;
	m.id = op->id;
	m.version = 1;
	return node_append(nt, HALLE__RECORD_KIND__RECORD_KIND_MARKET, &m.base);
}

json_t *
service_market_add(struct node *n, json_t *req, struct halle_error *err)
{
	struct market_add op = { req, "" };

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

	if (service_resolve_market(nt->t, op->market_ref, op->market, nt->err) == -1 ||
	    service_resolve_producer(nt->t, op->producer_ref, producer, nt->err) == -1)
		return -1;
	if (decided_here(nt, op->which, op->market, producer) == -1)
		return -1;
	held = views_membership(nt->t, op->which, op->market, producer);
	if (held != NULL && held->active == op->active) {
		view_free(held);
		return 0;	/* already so: nothing to write */
	}
	if (service_version_next(held ? held->version : 0, &ms.version, op->which ==
	    'I' ? "the invitation" : "the acceptance", nt->err) == -1) {
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
