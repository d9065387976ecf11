/*
 * views: see views.h. Applying a record never fails on its content: a body
 * that does not decode, an entity written by a node that does not own it or
 * an older version is ignored by the views (the record stays in its feed as
 * it was signed). Only a store failure makes views_apply fail.
 */
#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbkey.h"
#include "events.h"
#include "ids.h"
#include "log.h"
#include "seal.h"
#include "stock.h"
#include "timeutil.h"
#include "views.h"

#define KEY_MAX	DBKEY_MAX

void
views_lower(char *out, size_t outlen, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < outlen; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[i] = '\0';
}


static int
view_save(struct store_txn *t, const char *key, const unsigned char *origin,
    const ProtobufCMessage *msg)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf;
	int rc;

	if ((buf = malloc(KEY_PUBLIC_LEN + len)) == NULL)
		return -1;
	memcpy(buf, origin, KEY_PUBLIC_LEN);
	protobuf_c_message_pack(msg, buf + KEY_PUBLIC_LEN);
	rc = store_put(t, STORE_VIEWS, key, strlen(key), buf,
	    KEY_PUBLIC_LEN + len);
	free(buf);
	return rc;
}

/* Names: one index key per entity, kept in step with its current name. */
static int
name_index(struct store_txn *t, char kind, const char *old_name,
    const char *name, const char *id)
{
	char key[KEY_MAX], lower[KEY_MAX - 80];
	size_t klen;

	if (old_name != NULL) {
		views_lower(lower, sizeof(lower), old_name);
		if ((klen = dbkey_name(key, kind, lower, id)) > 0)
			store_del(t, STORE_INDEX, key, klen);
	}
	views_lower(lower, sizeof(lower), name);
	if ((klen = dbkey_name(key, kind, lower, id)) == 0)
		return 0;
	return store_put(t, STORE_INDEX, key, klen, "", 0);
}

/* Applying records: one function per kind. */

/* The version field every entity body has. */
static uint64_t
body_version(const ProtobufCMessage *m)
{
	const ProtobufCFieldDescriptor *f;

	f = protobuf_c_message_descriptor_get_field_by_name(m->descriptor,
	    "version");
	assert(f != NULL && f->type == PROTOBUF_C_TYPE_UINT64);
	return *(const uint64_t *)(const void *)((const char *)m + f->offset);
}

/* 1 when the record may replace what is held under key (newer, same owner). */
static int
newer_than_held(struct store_txn *t, const ProtobufCMessageDescriptor *desc,
    const char *key, const unsigned char *origin, uint64_t version,
    void **held)
{
	unsigned char held_origin[KEY_PUBLIC_LEN];
	uint64_t held_version;

	*held = view_load(t, desc, key, held_origin);
	if (*held == NULL)
		return 1;
	if (memcmp(held_origin, origin, KEY_PUBLIC_LEN) != 0)
		return 0;
	held_version = body_version(*held);
	return version > held_version;
}

/*
 * A record that claims an id another node owns: counted per claiming
 * origin (dbkey_claimed), logged the first time; the record changes
 * nothing. Returns 0, so that a caller can return it.
 */
static int
claimed_id(struct node_txn *nt, const struct record *r, const char *id)
{
	char hex[KEY_HEX_LEN + 1], key[KEY_MAX];
	const void *v;
	uint64_t count = 0;
	size_t klen, vlen;

	hex_encode(hex, r->origin, KEY_PUBLIC_LEN);
	klen = dbkey_claimed(key, hex);
	if (store_get(nt->t, STORE_INDEX, key, klen, &v, &vlen) == 0 &&
	    vlen == sizeof(count))
		memcpy(&count, v, sizeof(count));
	if (count++ == 0)
		log_warnx("views: node %s claims %s, an id it does not own "
		    "(record %llu): ignored, and counted in status", hex, id,
		    (unsigned long long)r->seq);
	store_put(nt->t, STORE_INDEX, key, klen, &count, sizeof(count));
	return 0;
}

/*
 * 1 when the record may write the entity held under key: a new entity
 * whose id is the one its origin makes with this record (ids_bound), or
 * one held from the same origin with an older version. *held is the
 * version held, or NULL.
 */
static int
owned_and_newer(struct node_txn *nt, const struct record *r,
    const ProtobufCMessageDescriptor *desc, const char *key, const char *id,
    const char *prefix, uint64_t version, void **held)
{
	unsigned char held_origin[KEY_PUBLIC_LEN];

	*held = view_load(nt->t, desc, key, held_origin);
	if (*held == NULL)
		return ids_bound_check(id, prefix, r->origin, r->seq) ? 1 :
		    claimed_id(nt, r, id);
	if (memcmp(held_origin, r->origin, KEY_PUBLIC_LEN) != 0)
		return claimed_id(nt, r, id);
	return version > body_version(*held);
}

static int
apply_producer(struct node_txn *nt, const struct record *r,
    Halle__Producer *p)
{
	Halle__Producer *held;
	char key[KEY_MAX];
	int rc;

	if (!ids_valid(p->id, "pr"))
		return 0;
	dbkey_entity(key, 'P', p->id);
	if (!owned_and_newer(nt, r, &halle__producer__descriptor, key, p->id,
	    "pr", p->version, (void **)&held)) {
		view_free(held);
		return 0;
	}
	rc = name_index(nt->t, 'P', held ? held->name : NULL, p->name, p->id);
	view_free(held);
	if (rc == -1)
		return -1;
	return view_save(nt->t, key, r->origin, &p->base);
}

static int
apply_catalogue(struct node_txn *nt, const struct record *r,
    Halle__Catalogue *c)
{
	unsigned char home[KEY_PUBLIC_LEN];
	char key[KEY_MAX];
	void *held;
	int ok;

	if (views_producer_home(nt->t, c->producer, home) == -1 ||
	    memcmp(home, r->origin, KEY_PUBLIC_LEN) != 0)
		return 0;
	dbkey_entity(key, 'K', c->producer);
	ok = newer_than_held(nt->t, &halle__catalogue__descriptor, key,
	    r->origin, c->version, &held);
	view_free(held);
	if (!ok || view_save(nt->t, key, r->origin, &c->base) == -1 ||
	    events_catalogue(nt, c) == -1)
		return ok ? -1 : 0;
	/* At the home, a new stock may serve what markets asked for. */
	if (memcmp(home, nt->node->key.public_key, KEY_PUBLIC_LEN) == 0)
		return stock_catalogue_changed(nt, c->producer);
	return 0;
}

static int
apply_market(struct node_txn *nt, const struct record *r, Halle__Market *m)
{
	Halle__Market *held;
	char key[KEY_MAX];
	int rc;

	if (!ids_valid(m->id, "mk"))
		return 0;
	dbkey_entity(key, 'M', m->id);
	if (!owned_and_newer(nt, r, &halle__market__descriptor, key, m->id,
	    "mk", m->version, (void **)&held)) {
		view_free(held);
		return 0;
	}
	rc = name_index(nt->t, 'M', held ? held->name : NULL, m->name, m->id);
	view_free(held);
	if (rc == -1)
		return -1;
	return view_save(nt->t, key, r->origin, &m->base);
}

static int
apply_membership(struct node_txn *nt, const struct record *r, char which,
    Halle__Membership *ms)
{
	unsigned char owner[KEY_PUBLIC_LEN];
	char key[KEY_MAX];
	void *held;
	int ok;

	/* The market's node invites; the producer's home node accepts. */
	if ((which == 'I' ? views_market_owner(nt->t, ms->market, owner) :
	    views_producer_home(nt->t, ms->producer, owner)) == -1 ||
	    memcmp(owner, r->origin, KEY_PUBLIC_LEN) != 0)
		return 0;
	dbkey_membership(key, which, ms->market, ms->producer);
	ok = newer_than_held(nt->t, &halle__membership__descriptor, key,
	    r->origin, ms->version, &held);
	view_free(held);
	return ok ? view_save(nt->t, key, r->origin, &ms->base) : 0;
}

static int	cancel_usage(struct node_txn *, const Halle__Distribution *,
		    const char *, const unsigned char *);

struct rerule_ctx {
	struct node_txn			*nt;
	const Halle__Distribution	*dist;
	int				 failed;
};

static int
rerule_one(const void *k_, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct rerule_ctx *ctx = arg;
	const char *k = k_;
	char id[ID_MAX], key[KEY_MAX];
	unsigned char market_node[KEY_PUBLIC_LEN];
	Halle__Order *o;
	size_t plen = 2 + strlen(ctx->dist->id) + 1;
	int rc = 0;

	if (klen <= plen || klen - plen >= ID_MAX)
		return 0;
	memcpy(id, k + plen, klen - plen);
	id[klen - plen] = '\0';
	dbkey_entity(key, 'O', id);
	if ((o = VIEW_LOAD(ctx->nt->t, Order, order, key, market_node)) == NULL)
		return 0;
	rc = cancel_usage(ctx->nt, ctx->dist, id, market_node);
	if (rc == 0)
		rc = stock_rule_order(ctx->nt, o, ctx->dist, market_node, 1);
	view_free(o);
	return rc;
}

static int
apply_distribution(struct node_txn *nt, const struct record *r,
    Halle__Distribution *d)
{
	size_t plen;
	unsigned char owner[KEY_PUBLIC_LEN];
	char key[KEY_MAX], prefix[KEY_MAX];
	struct rerule_ctx ctx = { nt, d, 0 };
	Halle__Distribution *held;
	struct civil_date date;
	int was_cancelled;

	if (!ids_valid(d->id, "ds") || timeutil_parse_date(d->date, &date) == -1 ||
	    views_market_owner(nt->t, d->market, owner) == -1 ||
	    memcmp(owner, r->origin, KEY_PUBLIC_LEN) != 0)
		return 0;
	dbkey_entity(key, 'D', d->id);
	if (!owned_and_newer(nt, r, &halle__distribution__descriptor, key,
	    d->id, "ds", d->version, (void **)&held)) {
		view_free(held);
		return 0;
	}
	was_cancelled = held != NULL && held->cancelled;
	plen = dbkey_market_day(prefix, d->market, d->date, d->id);
	if (view_save(nt->t, key, r->origin, &d->base) == -1 ||
	    store_put(nt->t, STORE_INDEX, prefix, plen, "", 0) == -1 ||
	    events_distribution(nt, held, d) == -1) {
		view_free(held);
		return -1;
	}
	view_free(held);
	if (!d->cancelled || was_cancelled)
		return 0;
	/* Cancelled: release the stock its orders held here. */
	plen = dbkey_distribution_order(prefix, d->id, NULL);
	return store_scan(nt->t, STORE_INDEX, prefix, plen, rerule_one, &ctx);
}

struct parts {
	Halle__Order	**list;
	size_t		  n, cap;
};

static int
collect_part(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct parts *ps = arg;
	Halle__Order *o, **bigger;

	if (vlen < KEY_PUBLIC_LEN || (o = halle__order__unpack(NULL,
	    vlen - KEY_PUBLIC_LEN, (const uint8_t *)val + KEY_PUBLIC_LEN)) ==
	    NULL)
		return 0;
	if (ps->n == ps->cap) {
		ps->cap = ps->cap ? 2 * ps->cap : 4;
		if ((bigger = realloc(ps->list, ps->cap * sizeof(*bigger))) ==
		    NULL) {
			view_free(o);
			return -1;
		}
		ps->list = bigger;
	}
	ps->list[ps->n++] = o;
	return 0;
}

/*
 * The order as this node knows it, "O:<order>": the header of its newest
 * part and the lines of every part held (each home's latest). It depends
 * on nothing but the parts, whatever else this node knows yet.
 */
static int
order_rebuild(struct store_txn *t, const char *order,
    const unsigned char *origin)
{
	size_t klen;
	struct parts ps = { NULL, 0, 0 };
	Halle__OrderLine **lines = NULL;
	Halle__Order merged;
	char key[KEY_MAX];
	size_t i, j, n = 0, total = 0;
	int rc = -1;

	klen = dbkey_order_part(key, order, NULL);
	if (store_scan(t, STORE_VIEWS, key, klen, collect_part,
	    &ps) == -1 || ps.n == 0)
		goto done;
	for (i = 0; i < ps.n; i++)
		total += ps.list[i]->n_lines;
	if ((lines = calloc(total + 1, sizeof(*lines))) == NULL)
		goto done;
	merged = *ps.list[0];
	for (i = 0; i < ps.n; i++) {
		if (ps.list[i]->version > merged.version)
			merged = *ps.list[i];
		for (j = 0; j < ps.list[i]->n_lines; j++)
			lines[n++] = ps.list[i]->lines[j];
	}
	merged.lines = lines;
	merged.n_lines = n;
	dbkey_entity(key, 'O', order);
	rc = view_save(t, key, origin, &merged.base);
done:
	for (i = 0; i < ps.n; i++)
		view_free(ps.list[i]);
	free(ps.list);
	free(lines);
	return rc;
}

static int
apply_order(struct node_txn *nt, const struct record *r, Halle__Order *o)
{
	size_t klen;
	unsigned char owner[KEY_PUBLIC_LEN];
	const unsigned char *home = r->has_recipient ? r->recipient : r->origin;
	char key[KEY_MAX], hex[KEY_HEX_LEN + 1];
	Halle__Distribution *d;
	Halle__Order *held;
	size_t i;
	int rc;

	if (!ids_valid(o->id, "or") || o->n_lines > VIEWS_MAX_LINES ||
	    (d = views_distribution(nt->t, o->distribution)) == NULL)
		return 0;
	if (views_market_owner(nt->t, d->market, owner) == -1 ||
	    memcmp(owner, r->origin, KEY_PUBLIC_LEN) != 0) {
		view_free(d);
		return 0;
	}
	/* Each home's part has its own version: an older one changes nothing. */
	/* An order belongs to the market's node that first wrote it. */
	dbkey_entity(key, 'O', o->id);
	held = VIEW_LOAD(nt->t, Order, order, key, owner);
	if (held != NULL && memcmp(owner, r->origin, KEY_PUBLIC_LEN) != 0) {
		view_free(held);
		view_free(d);
		return 0;
	}
	view_free(held);
	hex_encode(hex, home, KEY_PUBLIC_LEN);
	dbkey_order_part(key, o->id, hex);
	held = VIEW_LOAD(nt->t, Order, order, key, NULL);
	if (held != NULL && held->version >= o->version) {
		view_free(held);
		view_free(d);
		return 0;
	}
	/* What the market's node confirmed itself moves its rights' use. */
	rc = stock_apply_usage(nt, d, held, o, r->origin);
	view_free(held);
	if (rc == 0)
		rc = view_save(nt->t, key, r->origin, &o->base);
	if (rc == 0)
		rc = order_rebuild(nt->t, o->id, r->origin);
	if (rc == 0)
		rc = events_order_touched(nt, o->id);
	klen = dbkey_distribution_order(key, d->id, o->id);
	if (rc == 0)
		rc = store_put(nt->t, STORE_INDEX, key, klen, "", 0);
	for (i = 0; rc == 0 && i < o->n_lines; i++) {
		klen = dbkey_producer_day(key, o->lines[i]->producer, d->date,
		    o->id);
		rc = store_put(nt->t, STORE_INDEX, key, klen, "", 0);
	}
	/* The producers' home rules on its part. */
	if (rc == 0 && memcmp(home, nt->node->key.public_key,
	    KEY_PUBLIC_LEN) == 0)
		rc = stock_rule_order(nt, o, d, r->origin, 0);
	view_free(d);
	return rc;
}

/* A cancelled day: the parts held give back what they confirmed. */
static int
cancel_usage(struct node_txn *nt, const Halle__Distribution *d,
    const char *order, const unsigned char *market_node)
{
	size_t klen;
	struct parts ps = { NULL, 0, 0 };
	char key[KEY_MAX];
	size_t i;
	int rc;

	klen = dbkey_order_part(key, order, NULL);
	rc = store_scan(nt->t, STORE_VIEWS, key, klen, collect_part,
	    &ps);
	for (i = 0; i < ps.n; i++) {
		if (rc == 0)
			rc = stock_cancel_usage(nt, d, ps.list[i], market_node);
		view_free(ps.list[i]);
	}
	free(ps.list);
	return rc;
}

static int
apply_confirmation(struct node_txn *nt, const struct record *r,
    Halle__Confirmation *c)
{
	unsigned char home[KEY_PUBLIC_LEN];
	char key[KEY_MAX], hex[KEY_HEX_LEN + 1];
	Halle__Confirmation *held;
	size_t i;

	/* A ruling on no order's id changes nothing (its key would lie). */
	if (!ids_valid(c->order, "or") || c->n_lines > VIEWS_MAX_LINES)
		return 0;
	/* Each decision must concern a producer the origin is home to. */
	for (i = 0; i < c->n_lines; i++)
		if (views_producer_home(nt->t, c->lines[i]->producer, home) == -1 ||
		    memcmp(home, r->origin, KEY_PUBLIC_LEN) != 0)
			return 0;
	hex_encode(hex, r->origin, KEY_PUBLIC_LEN);
	dbkey_ruling(key, c->order, hex);
	held = VIEW_LOAD(nt->t, Confirmation, confirmation, key, NULL);
	if (held != NULL && held->order_version > c->order_version) {
		view_free(held);
		return 0;
	}
	/*
	 * The stock taken is the sum of this node's own rulings: a ruling
	 * replaces the one before it, whether it was just made or comes back
	 * from the peers after this node lost its store.
	 */
	if (memcmp(r->origin, nt->node->key.public_key, KEY_PUBLIC_LEN) == 0 &&
	    (stock_taken_add(nt->t, held, -1) == -1 ||
	    stock_taken_add(nt->t, c, 1) == -1)) {
		view_free(held);
		return -1;
	}
	view_free(held);
	if (view_save(nt->t, key, r->origin, &c->base) == -1)
		return -1;
	return events_order_touched(nt, c->order);
}

/*
 * The body of r, opened if sealed to or by this node and decoded; NULL
 * when it is relayed blind, does not open or does not decode (logged).
 */
static ProtobufCMessage *
open_body(struct node_txn *nt, const struct record *r)
{
	static const ProtobufCMessageDescriptor *const descs[] = {
		[HALLE__RECORD_KIND__RECORD_KIND_PRODUCER] =
		    &halle__producer__descriptor,
		[HALLE__RECORD_KIND__RECORD_KIND_CATALOGUE] =
		    &halle__catalogue__descriptor,
		[HALLE__RECORD_KIND__RECORD_KIND_MARKET] =
		    &halle__market__descriptor,
		[HALLE__RECORD_KIND__RECORD_KIND_INVITATION] =
		    &halle__membership__descriptor,
		[HALLE__RECORD_KIND__RECORD_KIND_ACCEPTANCE] =
		    &halle__membership__descriptor,
		[HALLE__RECORD_KIND__RECORD_KIND_DISTRIBUTION] =
		    &halle__distribution__descriptor,
		[HALLE__RECORD_KIND__RECORD_KIND_ORDER] =
		    &halle__order__descriptor,
		[HALLE__RECORD_KIND__RECORD_KIND_CONFIRMATION] =
		    &halle__confirmation__descriptor,
		[HALLE__RECORD_KIND__RECORD_KIND_GRANT] =
		    &halle__stock_rights__descriptor,
		[HALLE__RECORD_KIND__RECORD_KIND_RELEASE] =
		    &halle__stock_rights__descriptor,
		[HALLE__RECORD_KIND__RECORD_KIND_RIGHTS_WANTED] =
		    &halle__stock_rights__descriptor,
	};
	const unsigned char *me = nt->node->key.public_key, *peer;
	const uint8_t *body = r->body;
	size_t body_len = r->body_len;
	uint8_t *opened = NULL;
	ProtobufCMessage *msg;

	if (r->kind == 0 || r->kind >= sizeof(descs) / sizeof(descs[0]))
		return NULL;
	if (r->has_recipient) {
		/* Sealed between two nodes: this one must be one of them. */
		if (memcmp(r->recipient, me, KEY_PUBLIC_LEN) == 0)
			peer = r->origin;
		else if (memcmp(r->origin, me, KEY_PUBLIC_LEN) == 0)
			peer = r->recipient;
		else
			return NULL;	/* relayed blind */
		if (seal_open(&opened, &body_len, r->body, r->body_len, peer,
		    &nt->node->key) == -1) {
			log_warnx("views: record %llu of kind %u: sealed body "
			    "does not open", (unsigned long long)r->seq,
			    r->kind);
			return NULL;
		}
		body = opened;
	}
	msg = protobuf_c_message_unpack(descs[r->kind], NULL, body_len, body);
	free(opened);
	if (msg == NULL)
		log_debug("views: record %llu: body of kind %u does not decode",
		    (unsigned long long)r->seq, r->kind);
	return msg;
}

/* Applies a decoded body by its kind; 0 or -1. */
static int
apply_kind(struct node_txn *nt, const struct record *r, ProtobufCMessage *msg)
{
	switch (r->kind) {
	case HALLE__RECORD_KIND__RECORD_KIND_PRODUCER:
		return apply_producer(nt, r, (Halle__Producer *)msg);
	case HALLE__RECORD_KIND__RECORD_KIND_CATALOGUE:
		return apply_catalogue(nt, r, (Halle__Catalogue *)msg);
	case HALLE__RECORD_KIND__RECORD_KIND_MARKET:
		return apply_market(nt, r, (Halle__Market *)msg);
	case HALLE__RECORD_KIND__RECORD_KIND_INVITATION:
		return apply_membership(nt, r, 'I', (Halle__Membership *)msg);
	case HALLE__RECORD_KIND__RECORD_KIND_ACCEPTANCE:
		return apply_membership(nt, r, 'A', (Halle__Membership *)msg);
	case HALLE__RECORD_KIND__RECORD_KIND_DISTRIBUTION:
		return apply_distribution(nt, r, (Halle__Distribution *)msg);
	case HALLE__RECORD_KIND__RECORD_KIND_ORDER:
		return apply_order(nt, r, (Halle__Order *)msg);
	case HALLE__RECORD_KIND__RECORD_KIND_CONFIRMATION:
		return apply_confirmation(nt, r, (Halle__Confirmation *)msg);
	default:
		return stock_apply_rights(nt, r, (Halle__StockRights *)msg);
	}
}

int
views_apply(struct node_txn *nt, const struct record *r)
{
	ProtobufCMessage *msg;
	int rc;

	if ((msg = open_body(nt, r)) == NULL)
		return 0;
	rc = apply_kind(nt, r, msg);
	protobuf_c_message_free_unpacked(msg, NULL);
	/*
	 * Only a store failure fails the record. Anything else (a ruling
	 * that cannot be written, say) is logged and the record kept as it
	 * is: refusing it would stall its whole feed.
	 */
	if (rc == -1 && nt->t->ret == 0) {
		log_warnx("views: record %llu of kind %u not applied: %s",
		    (unsigned long long)r->seq, r->kind,
		    nt->err != NULL ? nt->err->message : "");
		return 0;
	}
	if (rc == -1)
		return error_set(nt->err, HALLE_E_STORE, "cannot update views");
	return rc;
}
