/*
 * service: the node, its producers, catalogues and markets. See service.h;
 * distributions, orders and order sheets are in service_orders.c.
 *
 * A writing operation is a struct holding the request and what the
 * operation learns, and a function run by node_mutate() inside the write
 * transaction: it resolves and validates everything, then appends records.
 * After the commit, the answer is rendered from a fresh read snapshot.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <stdlib.h>
#include <sys/stat.h>

#include <sodium.h>

#include "catalogue.h"
#include "feed.h"
#include "record.h"
#include "dbkey.h"
#include "service_int.h"
#include "stock.h"
#include "timeutil.h"

/* Status and feeds */

struct count_ctx {
	json_int_t	 records, feeds;
};

static int
count_feed(const unsigned char *origin, const struct feed_head *h, void *arg)
{
	struct count_ctx *ctx = arg;

	ctx->records += (json_int_t)h->seq;
	ctx->feeds++;
	return 0;
}

static int	order_counts(struct node *, struct store_txn *,
		    struct service_order_counts *);

int
service_status_get(struct node *n, struct service_status *st, struct halle_error *err)
{
	struct count_ctx ctx = { 0, 0 };
	struct halle_error refusal;
	struct store_txn t;
	int rc;

	memset(st, 0, sizeof(*st));
	st->id = n->id_hex;
	st->name = n->cfg->name;
	st->version = HALLE_VERSION;
	st->timezone = n->cfg->timezone;
	st->uptime_s = (int64_t)(time(NULL) - n->started);
	if (read_begin(n, &t, err) == -1)
		return -1;
	feed_each(&t, count_feed, &ctx);
	rc = order_counts(n, &t, &st->orders);
	store_read_end(&t);
	if (rc == -1)
		return error_set(err, HALLE_E_STORE, "cannot read the orders");
	st->records = (uint64_t)ctx.records;
	st->feeds = (uint64_t)ctx.feeds;
	store_usage(n->store, &st->bytes, &st->map_bytes);
	st->writable = node_may_write(n);
	st->write_state = node_write_state(n);
	refusal.message[0] = '\0';
	if (!st->writable) {
		node_write_refusal(n, &refusal);
		snprintf(st->write_reason, sizeof(st->write_reason), "%s",
		    refusal.message);
	}
	return 0;
}

json_t *
service_status_json(const struct service_status *st)
{
	const struct service_order_counts *oc = &st->orders;

	return json_pack("{s:{s:s, s:s, s:s, s:I, s:s}, "
	    "s:{s:I, s:I, s:I, s:I}, s:{s:I, s:I, s:I, s:I, s:I}, s:I, "
	    "s:[], s:[], s:b, s:s, s:s?, s:[]}",
	    "node", "id", st->id, "name", st->name, "version", st->version,
	    "uptime_s", (json_int_t)st->uptime_s, "timezone", st->timezone,
	    "store", "records", (json_int_t)st->records,
	    "feeds", (json_int_t)st->feeds, "bytes", (json_int_t)st->bytes,
	    "map_bytes", (json_int_t)st->map_bytes,
	    "stock", "lines_confirmed_locally",
	    (json_int_t)oc->lines_confirmed_locally,
	    "lines_pending", (json_int_t)oc->lines_pending,
	    "rights_held", (json_int_t)oc->rights_held,
	    "rights_free", (json_int_t)oc->rights_free,
	    "overusers", (json_int_t)oc->overusers,
	    "ids_claimed", (json_int_t)oc->ids_claimed,
	    "groupings", "peers", "writable", st->writable,
	    "write_state", node_write_state_name(st->write_state),
	    "write_reason", st->writable ? NULL : st->write_reason,
	    "waiting_for");
}

json_t *
service_status(struct node *n, struct halle_error *err)
{
	struct service_status st;

	if (service_status_get(n, &st, err) == -1)
		return NULL;
	return service_status_json(&st);
}

struct feeds_ctx {
	struct node	*node;
	json_t		*list;
};

static int
list_feed(const unsigned char *origin, const struct feed_head *h, void *arg)
{
	struct feeds_ctx *ctx = arg;
	char hex[KEY_HEX_LEN + 1], when[40];
	int own;

	hex_encode(hex, origin, KEY_PUBLIC_LEN);
	own = memcmp(origin, ctx->node->key.public_key, KEY_PUBLIC_LEN) == 0;
	timeutil_format_instant((time_t)(h->time_ms / 1000), when, sizeof(when));
	json_array_append_new(ctx->list, json_pack(
	    "{s:s, s:s, s:I, s:s, s:b}", "origin", hex,
	    "name", own ? ctx->node->cfg->name : "",
	    "head_seq", (json_int_t)h->seq, "head_time", when,
	    "frozen", (h->flags & FEED_FROZEN) != 0));
	return 0;
}

json_t *
service_feeds(struct node *n, struct halle_error *err)
{
	struct feeds_ctx ctx = { n, json_array() };
	struct store_txn t;

	if (read_begin(n, &t, err) == -1) {
		json_decref(ctx.list);
		return NULL;
	}
	feed_each(&t, list_feed, &ctx);
	store_read_end(&t);
	return ctx.list;
}

json_t *
service_feed_records(struct node *n, const char *origin_hex, long long from,
    long long count, struct halle_error *err)
{
	unsigned char origin[KEY_PUBLIC_LEN];
	char hex[RECORD_HASH_LEN * 2 + 1], *b64;
	struct feed_head head;
	struct store_txn t;
	struct record r;
	const void *buf;
	size_t len, b64len;
	json_t *list;
	uint64_t seq;
	char why[128];

	if (strlen(origin_hex) != KEY_HEX_LEN ||
	    hex_decode(origin, KEY_PUBLIC_LEN, origin_hex) == -1) {
		error_set(err, HALLE_E_INVALID_FIELD, "'%s' is not a node key (64 hex "
		    "digits)", origin_hex);
		return NULL;
	}
	if (from < 1)
		from = 1;
	if (from > (long long)1 << 62)
		from = (long long)1 << 62;
	if (count < 1 || count > 1000)
		count = 1000;
	if (read_begin(n, &t, err) == -1)
		return NULL;
	if (feed_head(&t, origin, &head) == -1 || head.seq == 0) {
		store_read_end(&t);
		error_set(err, HALLE_E_UNKNOWN_FEED, "no feed of origin %s is held",
		    origin_hex);
		return NULL;
	}
	list = json_array();
	for (seq = (uint64_t)from; seq <= head.seq &&
	    seq < (uint64_t)(from + count); seq++) {
		if (feed_get(&t, origin, seq, &buf, &len) != 0 ||
		    record_parse(&r, buf, len, why, sizeof(why)) == -1)
			break;
		hex_encode(hex, r.hash, RECORD_HASH_LEN);
		record_free(&r);
		b64len = sodium_base64_ENCODED_LEN(len,
		    sodium_base64_VARIANT_ORIGINAL);
		if ((b64 = malloc(b64len)) == NULL)
			break;
		sodium_bin2base64(b64, b64len, buf, len,
		    sodium_base64_VARIANT_ORIGINAL);
		json_array_append_new(list, json_pack("{s:I, s:s, s:s}",
		    "seq", (json_int_t)seq, "hash", hex, "envelope", b64));
		free(b64);
	}
	store_read_end(&t);
	return list;
}

/* Producers */

struct producer_add {
	json_t		*req;
	char		 id[ID_MAX];
};

static int
name_taken(struct store_txn *t, char kind, const char *name,
    struct halle_error *err)
{
	char id[ID_MAX];

	if (views_resolve(t, kind, name, id) == 1)
		return 0;
	return error_set(err, HALLE_E_NAME_TAKEN, "a %s named '%s' exists already",
	    kind == 'P' ? "producer" : "market", name);
}

static int
producer_add_op(struct node_txn *nt, void *arg)
{
	struct producer_add *op = arg;
	Halle__Producer p = HALLE__PRODUCER__INIT;

	if (req_name(op->req, "name", 1, SERVICE_MAX_NAME,
	    (const char **)&p.name, nt->err) == -1 ||
	    req_name(op->req, "farm", 0, SERVICE_MAX_NAME,
	    (const char **)&p.farm, nt->err) == -1 ||
	    req_name(op->req, "town", 0, SERVICE_MAX_NAME,
	    (const char **)&p.town, nt->err) == -1 ||
	    req_string(op->req, "email", 0, SERVICE_MAX_NAME,
	    (const char **)&p.email, nt->err) == -1 ||
	    req_string(op->req, "phone", 0, SERVICE_MAX_LABEL,
	    (const char **)&p.phone, nt->err) == -1)
		return -1;
	if (name_taken(nt->t, 'P', p.name, nt->err) == -1 ||
	    id_for_next_record(nt, op->id, "pr") == -1)
		return -1;
	p.id = op->id;
	p.version = 1;
	return node_append(nt, HALLE__RECORD_KIND__RECORD_KIND_PRODUCER,
	    &p.base);
}

json_t *
service_producer_add(struct node *n, json_t *req, struct halle_error *err)
{
	struct producer_add op = { req, "" };

	if (node_mutate(n, producer_add_op, &op, err) == -1)
		return NULL;
	return service_producer_show(n, op.id, err);
}

static int
list_by_name(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	json_t *ids = arg;
	const char *k = key;
	size_t nul;

	for (nul = klen; nul > 0 && k[nul - 1] != '\0'; nul--)
		;
	json_array_append_new(ids, json_stringn(k + nul, klen - nul));
	return 0;
}

/* The ids of producers ('P') or markets ('M'), ordered by name. */
static json_t *
ids_by_name(struct store_txn *t, char kind)
{
	char prefix[5] = { 'n', ':', kind, ':', '\0' };
	json_t *ids = json_array();

	views_index_scan(t, prefix, list_by_name, ids);
	return ids;
}

json_t *
service_producer_list(struct node *n, struct halle_error *err)
{
	struct store_txn t;
	Halle__Producer *p;
	json_t *ids, *v, *list = json_array();
	size_t i;

	if (read_begin(n, &t, err) == -1)
		return NULL;
	ids = ids_by_name(&t, 'P');
	json_array_foreach(ids, i, v) {
		if ((p = views_producer(&t, json_string_value(v), NULL)) == NULL)
			continue;
		json_array_append_new(list, render_producer(&t, p));
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

	if (read_begin(n, &t, err) == -1)
		return NULL;
	if (resolve_producer(&t, ref, id, err) == 0 &&
	    (p = views_producer(&t, id, NULL)) != NULL) {
		o = render_producer(&t, p);
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

	if (resolve_producer(nt->t, op->ref, op->producer, nt->err) == -1)
		return -1;
	snprintf(name, sizeof(name), "producer %s (its catalogue)",
	    op->producer);
	if (owned_here(nt, 'P', op->producer, name) == -1 ||
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
	if (!d->version_given && version_next(held ? held->version : 0, &next,
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

	if (read_begin(n, &t, err) == -1)
		return NULL;
	nt.t = &t;
	if (catalogue_validate(&nt, op) == 0 &&
	    catalogue_from_draft(op, &c, &ptrs, err) == 0)
		o = render_catalogue(&t, &c);
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
	if (read_begin(n, &t, err) == 0) {
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

	if (read_begin(n, &t, err) == -1)
		return NULL;
	if (resolve_producer(&t, ref, id, err) == 0) {
		if ((c = views_catalogue(&t, id)) == NULL)
			error_set(err, HALLE_E_NO_CATALOGUE,
			    "producer '%s' has published no catalogue", ref);
		else
			o = render_catalogue(&t, c);
		view_free(c);
	}
	store_read_end(&t);
	return o;
}

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
	if (name_taken(nt->t, 'M', m.name, nt->err) == -1 ||
	    id_for_next_record(nt, op->id, "mk") == -1)
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

	if (read_begin(n, &t, err) == -1)
		return NULL;
	ids = ids_by_name(&t, 'M');
	json_array_foreach(ids, i, v) {
		if ((m = views_market(&t, json_string_value(v))) == NULL)
			continue;
		json_array_append_new(list, render_market(&t, m));
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

	if (read_begin(n, &t, err) == -1)
		return NULL;
	if (resolve_market(&t, ref, id, err) == 0 &&
	    (m = views_market(&t, id)) != NULL) {
		o = render_market(&t, m);
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

	if (resolve_market(nt->t, op->market_ref, op->market, nt->err) == -1 ||
	    resolve_producer(nt->t, op->producer_ref, producer, nt->err) == -1)
		return -1;
	if (decided_here(nt, op->which, op->market, producer) == -1)
		return -1;
	held = views_membership(nt->t, op->which, op->market, producer);
	if (held != NULL && held->active == op->active) {
		view_free(held);
		return 0;	/* already so: nothing to write */
	}
	if (version_next(held ? held->version : 0, &ms.version, op->which ==
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

/* Counting orders, for the metrics */

struct order_count_ctx {
	struct store_txn	*t;
	struct service_order_counts	*c;
	const unsigned char	*me;
};

static int
count_rights(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct order_count_ctx *ctx = arg;
	unsigned char owner[KEY_PUBLIC_LEN];
	char sku[DBKEY_SKU_MAX], market[ID_MAX];
	struct stock_rights r;

	if (stock_rights_decode(val, vlen, &r) == -1 ||
	    dbkey_rights_parse(key, klen, NULL, sku, market) == -1 ||
	    views_market_owner(ctx->t, market, owner) == -1 ||
	    memcmp(owner, ctx->me, KEY_PUBLIC_LEN) != 0)
		return 0;
	ctx->c->rights_held += r.granted > r.released ?
	    r.granted - r.released : 0;
	ctx->c->rights_free += stock_rights_free(&r);
	return 0;
}

static int
count_overuser(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	((struct order_count_ctx *)arg)->c->overusers++;
	return 0;
}

static int
count_claimed(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	uint64_t n;

	if (vlen == sizeof(n)) {
		memcpy(&n, val, sizeof(n));
		((struct order_count_ctx *)arg)->c->ids_claimed += n;
	}
	return 0;
}

static int
count_order(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct order_count_ctx *ctx = arg;
	struct views_line vl;
	Halle__Order *o;
	size_t i;

	if (vlen < KEY_PUBLIC_LEN || (o = halle__order__unpack(NULL,
	    vlen - KEY_PUBLIC_LEN, (const uint8_t *)val + KEY_PUBLIC_LEN)) ==
	    NULL)
		return 0;
	if (o->cancelled) {
		ctx->c->cancelled++;
		view_free(o);
		return 0;
	}
	ctx->c->orders++;
	for (i = 0; i < o->n_lines; i++) {
		views_line_state(ctx->t, o, o->lines[i], &vl);
		if (vl.state == HALLE__LINE_STATE__LINE_STATE_PENDING)
			ctx->c->lines_pending++;
		else if (vl.state == HALLE__LINE_STATE__LINE_STATE_CONFIRMED)
			ctx->c->lines_confirmed++;
		else
			ctx->c->lines_refused++;
		if (vl.ruled_locally)
			ctx->c->lines_confirmed_locally++;
		view_free(vl.conf);
	}
	view_free(o);
	return 0;
}

/* The counts of struct service_order_counts, in the snapshot t. 0 or -1. */
static int
order_counts(struct node *n, struct store_txn *t, struct service_order_counts *c)
{
	struct order_count_ctx ctx = { t, c, n->key.public_key };
	char key[DBKEY_MAX];
	int rc;

	memset(c, 0, sizeof(*c));
	rc = store_scan(t, STORE_VIEWS, key, dbkey_all(key, 'O'), count_order,
	    &ctx);
	if (rc == 0)
		rc = store_scan(t, STORE_INDEX, key, dbkey_all(key, 'r'),
		    count_rights, &ctx);
	if (rc == 0)
		rc = store_scan(t, STORE_INDEX, key, dbkey_all(key, 'x'),
		    count_overuser, &ctx);
	if (rc == 0)
		rc = store_scan(t, STORE_INDEX, key, dbkey_all(key, 'z'),
		    count_claimed, &ctx);
	return rc;
}

/* Backup */

/* 0 when dir does not exist or is an empty directory; -1 with err. */
static int
backup_target_free(const char *dir, struct halle_error *err)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int empty = 1;

	if (lstat(dir, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		return error_set(err, HALLE_E_INVALID_FIELD, "'path': %s: %s", dir,
		    strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return error_set(err, HALLE_E_BACKUP_TARGET_EXISTS, "'path': %s "
		    "exists and is not a directory", dir);
	if ((d = opendir(dir)) == NULL)
		return error_set(err, HALLE_E_INVALID_FIELD, "'path': %s: %s", dir,
		    strerror(errno));
	while (empty && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	if (!empty)
		return error_set(err, HALLE_E_BACKUP_TARGET_EXISTS, "'path': %s is "
		    "not empty: a backup goes into a new or empty directory",
		    dir);
	return 0;
}

json_t *
service_backup(struct node *n, json_t *req, struct halle_error *err)
{
	const char *dir;
	char file[4096], why[512];
	struct stat st;

	if (req_string(req, "path", 1, sizeof(file) - 16, &dir, err) == -1)
		return NULL;
	if (dir[0] != '/') {
		error_set(err, HALLE_E_INVALID_FIELD, "'path' must be an absolute "
		    "path, got '%s'", dir);
		return NULL;
	}
	if (backup_target_free(dir, err) == -1)
		return NULL;
	if (node_backup(n, dir, why, sizeof(why)) == -1) {
		error_set(err, HALLE_E_STORE, "%s", why);
		return NULL;
	}
	snprintf(file, sizeof(file), "%s/data.mdb", dir);
	if (stat(file, &st) == -1) {
		error_set(err, HALLE_E_STORE, "%s: %s", file, strerror(errno));
		return NULL;
	}
	return json_pack("{s:s, s:I}", "path", dir, "bytes",
	    (json_int_t)st.st_size);
}
