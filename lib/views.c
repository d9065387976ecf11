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

#include "ids.h"
#include "log.h"
#include "seal.h"
#include "stock.h"
#include "timeutil.h"
#include "views.h"

#define KEY_MAX	512

static void
lower_copy(char *out, size_t outlen, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < outlen; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[i] = '\0';
}

void *
view_load(struct store_txn *t, const ProtobufCMessageDescriptor *desc,
    const char *key, unsigned char *origin)
{
	const void *v;
	size_t vlen;

	if (store_get(t, STORE_VIEWS, key, strlen(key), &v, &vlen) != 0 ||
	    vlen < KEY_PUBLIC_LEN)
		return NULL;
	if (origin != NULL)
		memcpy(origin, v, KEY_PUBLIC_LEN);
	return protobuf_c_message_unpack(desc, NULL, vlen - KEY_PUBLIC_LEN,
	    (const uint8_t *)v + KEY_PUBLIC_LEN);
}

void
view_free(void *msg)
{
	if (msg != NULL)
		protobuf_c_message_free_unpacked(msg, NULL);
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

static int
index_put(struct store_txn *t, const char *key, size_t klen, const void *val,
    size_t vlen)
{
	return store_put(t, STORE_INDEX, key, klen, val, vlen);
}

Halle__Producer *
views_producer(struct store_txn *t, const char *id, unsigned char *origin)
{
	char key[KEY_MAX];

	snprintf(key, sizeof(key), "P:%s", id);
	return VIEW_LOAD(t, Producer, producer, key, origin);
}

Halle__Catalogue *
views_catalogue(struct store_txn *t, const char *producer)
{
	char key[KEY_MAX];

	snprintf(key, sizeof(key), "K:%s", producer);
	return VIEW_LOAD(t, Catalogue, catalogue, key, NULL);
}

Halle__Market *
views_market(struct store_txn *t, const char *id)
{
	char key[KEY_MAX];

	snprintf(key, sizeof(key), "M:%s", id);
	return VIEW_LOAD(t, Market, market, key, NULL);
}

Halle__Distribution *
views_distribution(struct store_txn *t, const char *id)
{
	char key[KEY_MAX];

	snprintf(key, sizeof(key), "D:%s", id);
	return VIEW_LOAD(t, Distribution, distribution, key, NULL);
}

Halle__Order *
views_order(struct store_txn *t, const char *id)
{
	char key[KEY_MAX];

	snprintf(key, sizeof(key), "O:%s", id);
	return VIEW_LOAD(t, Order, order, key, NULL);
}

Halle__Membership *
views_membership(struct store_txn *t, char which, const char *market,
    const char *producer)
{
	char key[KEY_MAX];

	snprintf(key, sizeof(key), "%c:%s:%s", which, market, producer);
	return VIEW_LOAD(t, Membership, membership, key, NULL);
}

int
views_sells_at(struct store_txn *t, const char *market, const char *producer)
{
	Halle__Membership *inv, *acc;
	int yes;

	inv = views_membership(t, 'I', market, producer);
	acc = views_membership(t, 'A', market, producer);
	yes = inv != NULL && inv->active && acc != NULL && acc->active;
	view_free(inv);
	view_free(acc);
	return yes;
}

Halle__Product *
catalogue_product(const Halle__Catalogue *c, const char *sku)
{
	size_t i;

	for (i = 0; c != NULL && i < c->n_products; i++)
		if (strcmp(c->products[i]->sku, sku) == 0)
			return c->products[i];
	return NULL;
}

int
views_producer_home(struct store_txn *t, const char *producer,
    unsigned char *home)
{
	Halle__Producer *p = views_producer(t, producer, home);

	if (p == NULL)
		return -1;
	view_free(p);
	return 0;
}

struct decision_find {
	const char		*producer, *sku;
	Halle__Confirmation	*found;
	const Halle__LineDecision *decision;
};

static int
find_decision(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct decision_find *f = arg;
	Halle__Confirmation *c;
	size_t i;

	if (vlen < KEY_PUBLIC_LEN)
		return 0;
	c = halle__confirmation__unpack(NULL, vlen - KEY_PUBLIC_LEN,
	    (const uint8_t *)val + KEY_PUBLIC_LEN);
	if (c == NULL)
		return 0;
	for (i = 0; i < c->n_lines; i++) {
		if (strcmp(c->lines[i]->producer, f->producer) == 0 &&
		    strcmp(c->lines[i]->sku, f->sku) == 0) {
			f->found = c;
			f->decision = c->lines[i];
			return 1;
		}
	}
	view_free(c);
	return 0;
}

const Halle__LineDecision *
views_decision(struct store_txn *t, const char *order, const char *producer,
    const char *sku, void **conf_out)
{
	struct decision_find f = { producer, sku, NULL, NULL };
	char prefix[KEY_MAX];

	snprintf(prefix, sizeof(prefix), "C:%s:", order);
	store_scan(t, STORE_VIEWS, prefix, strlen(prefix), find_decision, &f);
	*conf_out = f.found;
	return f.decision;
}

void
views_line_state(struct store_txn *t, const Halle__Order *o,
    const Halle__OrderLine *l, struct views_line *vl)
{
	const Halle__LineDecision *ld;
	Halle__Distribution *d;
	int cancelled;

	memset(vl, 0, sizeof(*vl));
	vl->reason = "";
	/* Nothing of a cancelled order or day is to be handed over. */
	d = views_distribution(t, o->distribution);
	cancelled = d != NULL && d->cancelled;
	view_free(d);
	if (o->cancelled || cancelled) {
		vl->state = HALLE__LINE_STATE__LINE_STATE_REFUSED;
		vl->reason = o->cancelled ? "order cancelled" :
		    "distribution cancelled";
		vl->ruled_locally = l->confirmed_locally > 0;
		return;
	}
	vl->confirmed_locally = l->confirmed_locally < l->quantity ?
	    l->confirmed_locally : l->quantity;
	vl->confirmed = vl->confirmed_locally;
	if (vl->confirmed_locally == l->quantity) {
		vl->state = HALLE__LINE_STATE__LINE_STATE_CONFIRMED;
		vl->ruled_locally = 1;
		return;
	}
	ld = views_decision(t, o->id, l->producer, l->sku, &vl->conf);
	/* A ruling on an older version of the order says nothing of this one. */
	if (ld == NULL || ((Halle__Confirmation *)vl->conf)->order_version !=
	    o->version) {
		vl->state = HALLE__LINE_STATE__LINE_STATE_PENDING;
		return;
	}
	vl->confirmed += ld->confirmed;
	vl->state = vl->confirmed > 0 ? HALLE__LINE_STATE__LINE_STATE_CONFIRMED :
	    HALLE__LINE_STATE__LINE_STATE_REFUSED;
	vl->reason = ld->reason;
}

struct resolve_ctx {
	char	*id;
	int	 matches;
};

static int
resolve_name(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct resolve_ctx *ctx = arg;
	const char *k = key;
	size_t nul;

	if (++ctx->matches > 1)
		return 1;
	for (nul = klen; nul > 0 && k[nul - 1] != '\0'; nul--)
		;
	if (nul == 0 || klen - nul >= ID_MAX)
		return -1;
	memcpy(ctx->id, k + nul, klen - nul);
	ctx->id[klen - nul] = '\0';
	return 0;
}

int
views_resolve(struct store_txn *t, char kind, const char *ref, char *id)
{
	struct resolve_ctx ctx = { id, 0 };
	char key[KEY_MAX], lower[KEY_MAX - 8];
	const void *v;
	size_t vlen, klen;
	int rc;

	if (strlen(ref) < ID_MAX) {
		snprintf(key, sizeof(key), "%c:%s", kind, ref);
		rc = store_get(t, STORE_VIEWS, key, strlen(key), &v, &vlen);
		if (rc == -1)
			return -1;
		if (rc == 0) {
			snprintf(id, ID_MAX, "%s", ref);
			return 0;
		}
	}
	lower_copy(lower, sizeof(lower), ref);
	klen = (size_t)snprintf(key, sizeof(key), "n:%c:%s", kind, lower) + 1;
	if (klen >= sizeof(key))
		return 1;
	if (store_scan(t, STORE_INDEX, key, klen, resolve_name, &ctx) == -1)
		return -1;
	return ctx.matches == 0 ? 1 : ctx.matches == 1 ? 0 : 2;
}

int
views_index_scan(struct store_txn *t, const char *prefix, store_scan_fn fn,
    void *arg)
{
	return store_scan(t, STORE_INDEX, prefix, strlen(prefix), fn, arg);
}

/* Names: one index key per entity, kept in step with its current name. */
static int
name_index(struct store_txn *t, char kind, const char *old_name,
    const char *name, const char *id)
{
	char key[KEY_MAX], lower[KEY_MAX - 80];
	size_t klen;

	if (old_name != NULL) {
		lower_copy(lower, sizeof(lower), old_name);
		klen = (size_t)snprintf(key, sizeof(key), "n:%c:%s%c%s", kind,
		    lower, '\0', id);
		if (klen < sizeof(key))
			store_del(t, STORE_INDEX, key, klen);
	}
	lower_copy(lower, sizeof(lower), name);
	klen = (size_t)snprintf(key, sizeof(key), "n:%c:%s%c%s", kind, lower,
	    '\0', id);
	if (klen >= sizeof(key))
		return 0;
	return index_put(t, key, klen, "", 0);
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

static int
apply_producer(struct node_txn *nt, const struct record *r,
    Halle__Producer *p)
{
	Halle__Producer *held;
	char key[KEY_MAX];
	int rc;

	if (!ids_valid(p->id, "pr"))
		return 0;
	snprintf(key, sizeof(key), "P:%s", p->id);
	if (!newer_than_held(nt->t, &halle__producer__descriptor, key,
	    r->origin, p->version, (void **)&held)) {
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
	snprintf(key, sizeof(key), "K:%s", c->producer);
	ok = newer_than_held(nt->t, &halle__catalogue__descriptor, key,
	    r->origin, c->version, &held);
	view_free(held);
	if (!ok || view_save(nt->t, key, r->origin, &c->base) == -1)
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
	snprintf(key, sizeof(key), "M:%s", m->id);
	if (!newer_than_held(nt->t, &halle__market__descriptor, key,
	    r->origin, m->version, (void **)&held)) {
		view_free(held);
		return 0;
	}
	rc = name_index(nt->t, 'M', held ? held->name : NULL, m->name, m->id);
	view_free(held);
	if (rc == -1)
		return -1;
	return view_save(nt->t, key, r->origin, &m->base);
}

int
views_market_owner(struct store_txn *t, const char *market,
    unsigned char *owner)
{
	char key[KEY_MAX];
	Halle__Market *m;

	snprintf(key, sizeof(key), "M:%s", market);
	if ((m = VIEW_LOAD(t, Market, market, key, owner)) == NULL)
		return -1;
	view_free(m);
	return 0;
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
	snprintf(key, sizeof(key), "%c:%s:%s", which, ms->market, ms->producer);
	ok = newer_than_held(nt->t, &halle__membership__descriptor, key,
	    r->origin, ms->version, &held);
	view_free(held);
	return ok ? view_save(nt->t, key, r->origin, &ms->base) : 0;
}

static int	rule_order(struct node_txn *, const Halle__Order *,
		    const Halle__Distribution *, const unsigned char *, int);
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
	snprintf(key, sizeof(key), "O:%s", id);
	if ((o = VIEW_LOAD(ctx->nt->t, Order, order, key, market_node)) == NULL)
		return 0;
	rc = cancel_usage(ctx->nt, ctx->dist, id, market_node);
	if (rc == 0)
		rc = rule_order(ctx->nt, o, ctx->dist, market_node, 1);
	view_free(o);
	return rc;
}

static int
apply_distribution(struct node_txn *nt, const struct record *r,
    Halle__Distribution *d)
{
	unsigned char owner[KEY_PUBLIC_LEN];
	char key[KEY_MAX], prefix[KEY_MAX];
	struct rerule_ctx ctx = { nt, d, 0 };
	Halle__Distribution *held;
	struct civil_date date;
	int was_cancelled;

	if (!ids_valid(d->id, "ds") || tu_parse_date(d->date, &date) == -1 ||
	    views_market_owner(nt->t, d->market, owner) == -1 ||
	    memcmp(owner, r->origin, KEY_PUBLIC_LEN) != 0)
		return 0;
	snprintf(key, sizeof(key), "D:%s", d->id);
	if (!newer_than_held(nt->t, &halle__distribution__descriptor, key,
	    r->origin, d->version, (void **)&held)) {
		view_free(held);
		return 0;
	}
	was_cancelled = held != NULL && held->cancelled;
	view_free(held);
	snprintf(prefix, sizeof(prefix), "m:%s:%s:%s", d->market, d->date,
	    d->id);
	if (view_save(nt->t, key, r->origin, &d->base) == -1 ||
	    index_put(nt->t, prefix, strlen(prefix), "", 0) == -1)
		return -1;
	if (!d->cancelled || was_cancelled)
		return 0;
	/* Cancelled: release the stock its orders held here. */
	snprintf(prefix, sizeof(prefix), "o:%s:", d->id);
	return views_index_scan(nt->t, prefix, rerule_one, &ctx);
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
	struct parts ps = { NULL, 0, 0 };
	Halle__OrderLine **lines = NULL;
	Halle__Order merged;
	char key[KEY_MAX];
	size_t i, j, n = 0, total = 0;
	int rc = -1;

	snprintf(key, sizeof(key), "Q:%s:", order);
	if (store_scan(t, STORE_VIEWS, key, strlen(key), collect_part,
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
	snprintf(key, sizeof(key), "O:%s", order);
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
	unsigned char owner[KEY_PUBLIC_LEN];
	const unsigned char *home = r->has_recipient ? r->recipient : r->origin;
	char key[KEY_MAX], hex[KEY_HEX_LEN + 1];
	Halle__Distribution *d;
	Halle__Order *held;
	size_t i;
	int rc;

	if (!ids_valid(o->id, "or") ||
	    (d = views_distribution(nt->t, o->distribution)) == NULL)
		return 0;
	if (views_market_owner(nt->t, d->market, owner) == -1 ||
	    memcmp(owner, r->origin, KEY_PUBLIC_LEN) != 0) {
		view_free(d);
		return 0;
	}
	/* Each home's part has its own version: an older one changes nothing. */
	/* An order belongs to the market's node that first wrote it. */
	snprintf(key, sizeof(key), "O:%s", o->id);
	held = VIEW_LOAD(nt->t, Order, order, key, owner);
	if (held != NULL && memcmp(owner, r->origin, KEY_PUBLIC_LEN) != 0) {
		view_free(held);
		view_free(d);
		return 0;
	}
	view_free(held);
	hex_encode(hex, home, KEY_PUBLIC_LEN);
	snprintf(key, sizeof(key), "Q:%s:%s", o->id, hex);
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
	snprintf(key, sizeof(key), "o:%s:%s", d->id, o->id);
	if (rc == 0)
		rc = index_put(nt->t, key, strlen(key), "", 0);
	for (i = 0; rc == 0 && i < o->n_lines; i++) {
		snprintf(key, sizeof(key), "y:%s:%s:%s", o->lines[i]->producer,
		    d->date, o->id);
		rc = index_put(nt->t, key, strlen(key), "", 0);
	}
	/* The producers' home rules on its part. */
	if (rc == 0 && memcmp(home, nt->node->key.public_key,
	    KEY_PUBLIC_LEN) == 0)
		rc = rule_order(nt, o, d, r->origin, 0);
	view_free(d);
	return rc;
}

/* A cancelled day: the parts held give back what they confirmed. */
static int
cancel_usage(struct node_txn *nt, const Halle__Distribution *d,
    const char *order, const unsigned char *market_node)
{
	struct parts ps = { NULL, 0, 0 };
	char key[KEY_MAX];
	size_t i;
	int rc;

	snprintf(key, sizeof(key), "Q:%s:", order);
	rc = store_scan(nt->t, STORE_VIEWS, key, strlen(key), collect_part,
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

	/* Each decision must concern a producer the origin is home to. */
	for (i = 0; i < c->n_lines; i++)
		if (views_producer_home(nt->t, c->lines[i]->producer, home) == -1 ||
		    memcmp(home, r->origin, KEY_PUBLIC_LEN) != 0)
			return 0;
	hex_encode(hex, r->origin, KEY_PUBLIC_LEN);
	snprintf(key, sizeof(key), "C:%s:%s", c->order, hex);
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
	return view_save(nt->t, key, r->origin, &c->base);
}

int
views_apply(struct node_txn *nt, const struct record *r)
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
	ProtobufCMessage *msg;
	int rc;

	const unsigned char *me = nt->node->key.public_key;
	const uint8_t *body = r->body;
	size_t body_len = r->body_len;
	uint8_t *opened = NULL;

	if (r->kind == 0 || r->kind >= sizeof(descs) / sizeof(descs[0]))
		return 0;
	if (r->has_recipient) {
		const unsigned char *peer;

		/* Sealed between two nodes: this one must be one of them. */
		if (memcmp(r->recipient, me, KEY_PUBLIC_LEN) == 0)
			peer = r->origin;
		else if (memcmp(r->origin, me, KEY_PUBLIC_LEN) == 0)
			peer = r->recipient;
		else
			return 0;	/* relayed blind */
		if (seal_open(&opened, &body_len, r->body, r->body_len, peer,
		    &nt->node->key) == -1) {
			log_warnx("views: record %llu of kind %u: sealed body "
			    "does not open", (unsigned long long)r->seq,
			    r->kind);
			return 0;
		}
		body = opened;
	}
	msg = protobuf_c_message_unpack(descs[r->kind], NULL, body_len, body);
	free(opened);
	if (msg == NULL) {
		log_debug("views: record %llu: body of kind %u does not decode",
		    (unsigned long long)r->seq, r->kind);
		return 0;
	}
	switch (r->kind) {
	case HALLE__RECORD_KIND__RECORD_KIND_PRODUCER:
		rc = apply_producer(nt, r, (Halle__Producer *)msg);
		break;
	case HALLE__RECORD_KIND__RECORD_KIND_CATALOGUE:
		rc = apply_catalogue(nt, r, (Halle__Catalogue *)msg);
		break;
	case HALLE__RECORD_KIND__RECORD_KIND_MARKET:
		rc = apply_market(nt, r, (Halle__Market *)msg);
		break;
	case HALLE__RECORD_KIND__RECORD_KIND_INVITATION:
		rc = apply_membership(nt, r, 'I', (Halle__Membership *)msg);
		break;
	case HALLE__RECORD_KIND__RECORD_KIND_ACCEPTANCE:
		rc = apply_membership(nt, r, 'A', (Halle__Membership *)msg);
		break;
	case HALLE__RECORD_KIND__RECORD_KIND_DISTRIBUTION:
		rc = apply_distribution(nt, r, (Halle__Distribution *)msg);
		break;
	case HALLE__RECORD_KIND__RECORD_KIND_ORDER:
		rc = apply_order(nt, r, (Halle__Order *)msg);
		break;
	case HALLE__RECORD_KIND__RECORD_KIND_CONFIRMATION:
		rc = apply_confirmation(nt, r, (Halle__Confirmation *)msg);
		break;
	default:
		rc = stock_apply_rights(nt, r, (Halle__StockRights *)msg);
		break;
	}
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
		return herr(nt->err, HALLE_E_STORE, "cannot update views");
	return rc;
}

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

static int
queue_key(char *key, size_t len, const char *order)
{
	return snprintf(key, len, "q:%s", order);
}

/*
 * force: rule even if this version was ruled on (a cancelled
 * distribution); otherwise a version already ruled on, as when the parts
 * come back after this node lost its store, is left as it was ruled.
 */
static int
rule_order(struct node_txn *nt, const Halle__Order *o,
    const Halle__Distribution *d, const unsigned char *market_node,
    int force)
{
	Halle__Confirmation conf = HALLE__CONFIRMATION__INIT, *prev;
	Halle__LineDecision *decisions, **ptrs;
	const Halle__LineDecision *before;
	unsigned char home[KEY_PUBLIC_LEN];
	char (*reasons)[128], key[KEY_MAX];
	uint64_t committed, requested;
	size_t i, n = 0;
	int rc = -1;

	queue_key(key, sizeof(key), o->id);
	if (!node_may_write(nt->node))	/* not while recovering its feed */
		return index_put(nt->t, key, strlen(key), "", 0);
	if (store_del(nt->t, STORE_INDEX, key, strlen(key)) == -1)
		return -1;
	snprintf(key, sizeof(key), "C:%s:%s", o->id, nt->node->id_hex);
	prev = VIEW_LOAD(nt->t, Confirmation, confirmation, key, NULL);
	if (prev != NULL && prev->order_version >= o->version && !force) {
		view_free(prev);
		return 0;
	}
	decisions = calloc(o->n_lines + 1, sizeof(*decisions));
	ptrs = calloc(o->n_lines + 1, sizeof(*ptrs));
	reasons = calloc(o->n_lines + 1, sizeof(*reasons));
	if (decisions == NULL || ptrs == NULL || reasons == NULL)
		goto done;
	for (i = 0; i < o->n_lines; i++) {
		const Halle__OrderLine *line = o->lines[i];

		if (views_producer_home(nt->t, line->producer, home) == -1 ||
		    memcmp(home, nt->node->key.public_key, KEY_PUBLIC_LEN) != 0)
			continue;
		halle__line_decision__init(&decisions[n]);
		if (repeated_line(o, i) || line->quantity > RULE_MAX_QUANTITY) {
			/* Only a misbehaving market's node sends these. */
			refuse_line(line, &decisions[n], reasons[n],
			    sizeof(reasons[n]), repeated_line(o, i) ?
			    "ordered twice in one order" : "quantity too large");
			ptrs[n] = &decisions[n];
			n++;
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
		    before != NULL && before->confirmed > 0, &decisions[n],
		    reasons[n], sizeof(reasons[n]));
		ptrs[n] = &decisions[n];
		n++;
	}
	rc = 0;
	if (n == 0 && prev == NULL)
		goto done;	/* none of this node's producers */
	conf.order = o->id;
	conf.order_version = o->version;
	conf.date = d->date;
	conf.lines = ptrs;
	conf.n_lines = n;
	/* The ruling is for the market's node alone (and this one). */
	rc = node_append_sealed(nt,
	    HALLE__RECORD_KIND__RECORD_KIND_CONFIRMATION, &conf.base,
	    market_node);
done:
	view_free(prev);
	free(decisions);
	free(ptrs);
	free(reasons);
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
views_rule_queued(struct node_txn *nt)
{
	struct queued_ctx ctx = { nt, NULL, 0, 0 };
	unsigned char market_node[KEY_PUBLIC_LEN];
	Halle__Distribution *d;
	Halle__Order *o;
	char key[KEY_MAX];
	size_t i;
	int rc = 0;

	/* Collected first: ruling deletes the keys being walked. */
	if (views_index_scan(nt->t, "q:", collect_queued, &ctx) == -1) {
		free(ctx.orders);
		return -1;
	}
	for (i = 0; i < ctx.n && rc == 0; i++) {
		snprintf(key, sizeof(key), "O:%s", ctx.orders[i]);
		o = VIEW_LOAD(nt->t, Order, order, key, market_node);
		d = o ? views_distribution(nt->t, o->distribution) : NULL;
		if (o != NULL && d != NULL)
			rc = rule_order(nt, o, d, market_node,
			    d->cancelled || o->cancelled);
		view_free(d);
		view_free(o);
	}
	free(ctx.orders);
	return rc;
}
