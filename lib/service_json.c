/*
 * service_json: reading request fields and rendering entities, shared by
 * the service files. The JSON shapes are those of docs/control-api.md.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "feed.h"
#include "service_int.h"
#include "timeutil.h"

/* The code point at *p (valid UTF-8, as jansson keeps it); moves *p on. */
static uint32_t
utf8_next(const char **p)
{
	const unsigned char *s = (const unsigned char *)*p;
	uint32_t c;
	int i, n;

	if (s[0] < 0x80)
		return (uint32_t)*(*p)++;
	n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
	c = s[0] & (0x7f >> n);
	for (i = 1; i < n; i++)
		c = (c << 6) | (s[i] & 0x3f);
	*p += n;
	return c;
}

/*
 * Characters no field may hold: C0 and C1 controls and DEL, and the
 * bidirectional formatting characters, which make a name display as
 * another (U+202E turns "Ferme\u202Eoc.liam" into "Fermeliam.co"): the
 * marks U+061C, U+200E, U+200F, the embeddings and overrides U+202A to
 * U+202E, the isolates U+2066 to U+2069.
 */
static int
char_refused(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x061c ||
	    c == 0x200e || c == 0x200f || (c >= 0x202a && c <= 0x202e) ||
	    (c >= 0x2066 && c <= 0x2069);
}

/* Spaces a name may hold, each read as one ' ': ASCII and Unicode ones. */
static int
char_space(uint32_t c)
{
	return c == ' ' || c == 0xa0 || c == 0x1680 ||
	    (c >= 0x2000 && c <= 0x200a) || c == 0x202f || c == 0x205f ||
	    c == 0x3000;
}

int
req_name(json_t *req, const char *field, int required, size_t maxlen,
    const char **out, struct halle_error *err)
{
	const char *s, *p, *start;
	char *norm, *w;
	int space = 0;

	if (req_string(req, field, required, maxlen, &s, err) == -1)
		return -1;
	if ((norm = malloc(strlen(s) + 1)) == NULL)
		return error_set(err, HALLE_E_INTERNAL, "out of memory");
	for (w = norm, p = s; *p != '\0'; ) {
		start = p;
		if (char_space(utf8_next(&p))) {
			space = w != norm;
			continue;
		}
		if (space)
			*w++ = ' ';
		space = 0;
		memcpy(w, start, (size_t)(p - start));
		w += p - start;
	}
	*w = '\0';
	if (required && norm[0] == '\0') {
		free(norm);
		return error_set(err, HALLE_E_INVALID_FIELD, "'%s' holds only spaces",
		    field);
	}
	if (strcmp(norm, s) != 0 && json_object_set_new(req, field,
	    json_string(norm)) == -1) {
		free(norm);
		return error_set(err, HALLE_E_INTERNAL, "out of memory");
	}
	free(norm);
	*out = json_string_value(json_object_get(req, field));
	return 0;
}

int
req_string(json_t *req, const char *field, int required, size_t maxlen,
    const char **out, struct halle_error *err)
{
	json_t *v = json_object_get(req, field);
	const char *s, *p;
	uint32_t c;

	*out = "";
	if (v == NULL || json_is_null(v)) {
		if (required)
			return error_set(err, HALLE_E_INVALID_FIELD, "missing '%s'",
			    field);
		return 0;
	}
	if (!json_is_string(v))
		return error_set(err, HALLE_E_INVALID_FIELD, "'%s' must be a string",
		    field);
	s = json_string_value(v);
	if (required && s[0] == '\0')
		return error_set(err, HALLE_E_INVALID_FIELD, "'%s' must not be empty",
		    field);
	if (strlen(s) > maxlen || strlen(s) != json_string_length(v))
		return error_set(err, HALLE_E_INVALID_FIELD,
		    "'%s' is longer than %zu bytes", field, maxlen);
	for (p = s; *p != '\0'; )
		if (char_refused(c = utf8_next(&p)))
			return error_set(err, HALLE_E_INVALID_FIELD, "'%s' holds %s "
			    "U+%04X, which no field may hold", field, c > 0x9f ?
			    "the bidirectional formatting character" :
			    "the control character", (unsigned)c);
	*out = s;
	return 0;
}

int
req_integer(json_t *req, const char *field, int *present, long long *out,
    struct halle_error *err)
{
	json_t *v = json_object_get(req, field);

	*present = 0;
	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_real(v))
		return error_set(err, HALLE_E_INVALID_FIELD,
		    "'%s' must be a whole number", field);
	if (!json_is_integer(v))
		return error_set(err, HALLE_E_INVALID_FIELD, "'%s' must be a number",
		    field);
	*present = 1;
	*out = json_integer_value(v);
	return 0;
}

int
version_next(uint64_t held, uint64_t *next, const char *what,
    struct halle_error *err)
{
	if (held >= (uint64_t)SERVICE_MAX_VERSION)
		return error_set(err, HALLE_E_INVALID_FIELD, "%s is at version %llu, "
		    "the last there is (%lld): it cannot change again", what,
		    (unsigned long long)held, SERVICE_MAX_VERSION);
	*next = held + 1;
	return 0;
}

static int
resolve(struct store_txn *t, char kind, const char *what, const char *ref,
    char *id, struct halle_error *err)
{
	enum halle_errcode code = kind == 'P' ?
	    HALLE_E_UNKNOWN_PRODUCER : HALLE_E_UNKNOWN_MARKET;

	switch (views_resolve(t, kind, ref, id)) {
	case 0:
		return 0;
	case 1:
		return error_set(err, code, "no %s with id or name '%s'", what,
		    ref);
	case 2:
		return error_set(err, HALLE_E_AMBIGUOUS_NAME,
		    "several %ss are named '%s': use the id", what, ref);
	default:
		return error_set(err, HALLE_E_STORE, "cannot read the store");
	}
}

int
resolve_producer(struct store_txn *t, const char *ref, char *id,
    struct halle_error *err)
{
	return resolve(t, 'P', "producer", ref, id, err);
}

int
resolve_market(struct store_txn *t, const char *ref, char *id,
    struct halle_error *err)
{
	return resolve(t, 'M', "market", ref, id, err);
}

int
owned_here(struct node_txn *nt, char kind, const char *id, const char *what)
{
	char key[DBKEY_MAX];
	const void *v;
	size_t vlen;

	if (store_get(nt->t, STORE_VIEWS, key, dbkey_entity(key, kind, id), &v,
	    &vlen) != 0 || vlen < KEY_PUBLIC_LEN ||
	    memcmp(v, nt->node->key.public_key, KEY_PUBLIC_LEN) == 0)
		return 0;
	return error_set(nt->err, HALLE_E_NOT_OWNER, "%s belongs to another "
	    "commune: only its node can change it", what);
}

int
id_for_next_record(struct node_txn *nt, char *out, const char *prefix)
{
	struct feed_head head;

	if (feed_head(nt->t, nt->node->key.public_key, &head) == -1)
		return error_set(nt->err, HALLE_E_STORE, "cannot read the feed head");
	ids_bound(out, prefix, nt->node->key.public_key, head.seq + 1);
	return 0;
}

int
producer_day_begin(struct node *n, const char *producer_ref, const char *date,
    struct store_txn *t, char *producer, struct halle_error *err)
{
	struct civil_date cd;

	if (timeutil_parse_date(date, &cd) == -1)
		return error_set(err, HALLE_E_BAD_DATES, "'%s' is not a date "
		    "as YYYY-MM-DD", date);
	if (read_begin(n, t, err) == -1)
		return -1;
	if (resolve_producer(t, producer_ref, producer, err) == -1) {
		store_read_end(t);
		return -1;
	}
	return 0;
}

int
read_begin(struct node *n, struct store_txn *t, struct halle_error *err)
{
	if (store_read_begin(n->store, t) == -1)
		return error_set(err, HALLE_E_STORE, "cannot read the store");
	return 0;
}

json_t *
render_producer(struct store_txn *t, const Halle__Producer *p)
{
	unsigned char home[KEY_PUBLIC_LEN];
	char hex[KEY_HEX_LEN + 1];
	Halle__Catalogue *c;
	Halle__Producer *self;
	json_t *o;

	hex[0] = '\0';
	if ((self = views_producer(t, p->id, home)) != NULL) {
		hex_encode(hex, home, KEY_PUBLIC_LEN);
		view_free(self);
	}
	c = views_catalogue(t, p->id);
	o = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I}",
	    "id", p->id, "version", (json_int_t)p->version, "name", p->name,
	    "farm", p->farm, "town", p->town, "email", p->email,
	    "phone", p->phone, "home", hex,
	    "catalogue_version", (json_int_t)(c ? c->version : 0));
	view_free(c);
	return o;
}

static const char *const unit_names[] = { "piece", "kg", "g", "l", "ml" };

static json_t *
render_product(const Halle__Product *p)
{
	json_t *o;

	o = json_pack("{s:s, s:s, s:s, s:f, s:I, s:I, s:b}",
	    "sku", p->sku, "name", p->name,
	    "unit", (unsigned)p->unit < 5 ? unit_names[p->unit] : "piece",
	    "quantity", p->quantity, "price_cents", (json_int_t)p->price_cents,
	    "vat_bp", (json_int_t)p->vat_bp, "organic", p->organic);
	json_object_set_new(o, "stock_per_day", p->limited ?
	    json_integer((json_int_t)p->stock_per_day) : json_null());
	return o;
}

json_t *
render_catalogue(struct store_txn *t, const Halle__Catalogue *c)
{
	Halle__Producer *p = views_producer(t, c->producer, NULL);
	json_t *o, *products;
	size_t i;

	products = json_array();
	for (i = 0; i < c->n_products; i++)
		json_array_append_new(products, render_product(c->products[i]));
	o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:o}", "id", c->producer,
	    "producer", c->producer, "producer_name", p ? p->name : "",
	    "version", (json_int_t)c->version,
	    "currency", catalogue_currency(c->currency), "products", products);
	view_free(p);
	return o;
}

struct members_ctx {
	struct store_txn	*t;
	json_t			*by_id;
	const char		*flag;
};

static int
collect_member(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct members_ctx *ctx = arg;
	Halle__Membership *ms;
	Halle__Producer *p;
	json_t *entry;

	if (vlen < KEY_PUBLIC_LEN || (ms = halle__membership__unpack(NULL,
	    vlen - KEY_PUBLIC_LEN, (const uint8_t *)val + KEY_PUBLIC_LEN)) ==
	    NULL)
		return 0;
	if ((entry = json_object_get(ctx->by_id, ms->producer)) == NULL) {
		p = views_producer(ctx->t, ms->producer, NULL);
		entry = json_pack("{s:s, s:s, s:b, s:b}", "id", ms->producer,
		    "name", p ? p->name : "", "invited", 0, "accepted", 0);
		view_free(p);
		json_object_set_new(ctx->by_id, ms->producer, entry);
	}
	json_object_set_new(entry, ctx->flag, json_boolean(ms->active));
	view_free(ms);
	return 0;
}

json_t *
render_market(struct store_txn *t, const Halle__Market *m)
{
	struct members_ctx ctx = { t, json_object(), "invited" };
	char prefix[256], from[6], to[6];
	json_t *o, *schedule, *producers, *v;
	const char *k;

	store_scan(t, STORE_VIEWS, prefix, dbkey_membership(prefix, 'I', m->id,
	    NULL), collect_member, &ctx);
	ctx.flag = "accepted";
	prefix[0] = 'A';
	store_scan(t, STORE_VIEWS, prefix, strlen(prefix), collect_member, &ctx);
	producers = json_array();
	json_object_foreach(ctx.by_id, k, v)
		json_array_append(producers, v);
	json_decref(ctx.by_id);

	schedule = json_null();
	if (m->scheduled) {
		timeutil_format_hhmm(m->from_min, from);
		timeutil_format_hhmm(m->to_min, to);
		schedule = json_pack("{s:s, s:s, s:s}", "weekday",
		    timeutil_weekday_name((int)m->weekday), "from", from, "to", to);
	}
	o = json_pack("{s:s, s:I, s:s, s:s, s:s, s:o, s:I, s:I, s:o}",
	    "id", m->id, "version", (json_int_t)m->version, "name", m->name,
	    "place", m->place, "town", m->town, "schedule", schedule,
	    "opens_days", (json_int_t)m->opens_days,
	    "closes_hours", (json_int_t)m->closes_hours,
	    "producers", producers);
	return o;
}

static json_t *
instant(int64_t t)
{
	char buf[40];

	timeutil_format_instant((time_t)t, buf, sizeof(buf));
	return json_string(buf);
}

json_t *
render_distribution(struct store_txn *t, const Halle__Distribution *d,
    int64_t now_ms)
{
	Halle__Market *m = views_market(t, d->market);
	int64_t now = now_ms / 1000;
	const char *state;
	char from[6], to[6];
	json_t *o;

	if (d->cancelled)
		state = "cancelled";
	else if (now < d->opens_at)
		state = "upcoming";
	else if (now < d->closes_at)
		state = "open";
	else
		state = "closed";
	timeutil_format_hhmm(d->from_min, from);
	timeutil_format_hhmm(d->to_min, to);
	o = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, "
	    "s:s, s:b}", "id", d->id, "version", (json_int_t)d->version,
	    "market", d->market, "market_name", m ? m->name : "",
	    "date", d->date, "from", from, "to", to,
	    "opens_at", instant(d->opens_at), "closes_at", instant(d->closes_at),
	    "starts_at", instant(d->starts_at), "state", state,
	    "cancelled", d->cancelled);
	json_object_set_new(o, "closed_marked", json_boolean(d->closed));
	view_free(m);
	return o;
}

static const char *const state_names[] = { "pending", "confirmed", "refused" };

static json_t *
render_line(struct store_txn *t, const Halle__Order *o,
    const Halle__OrderLine *l, const unsigned char *market_node,
    json_int_t *total)
{
	unsigned char home[KEY_PUBLIC_LEN];
	char hex[KEY_HEX_LEN + 1];
	struct views_line vl;
	Halle__Producer *p;
	json_t *j;

	p = views_producer(t, l->producer, home);
	views_line_state(t, o, l, &vl);
	j = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I}",
	    "producer", l->producer, "producer_name", p ? p->name : "",
	    "sku", l->sku, "name", l->name, "quantity", (json_int_t)l->quantity,
	    "price_cents", (json_int_t)l->price_cents,
	    "vat_bp", (json_int_t)l->vat_bp);
	json_object_set_new(j, "state", json_string(state_names[
	    vl.state < 3 ? vl.state : 0]));
	json_object_set_new(j, "confirmed", json_integer(
	    (json_int_t)vl.confirmed));
	json_object_set_new(j, "confirmed_locally", json_integer(
	    (json_int_t)vl.confirmed_locally));
	/* Who decided: the market's node alone, or the producer's home. */
	if (vl.state != HALLE__LINE_STATE__LINE_STATE_PENDING) {
		hex_encode(hex, vl.ruled_locally || p == NULL ? market_node :
		    home, KEY_PUBLIC_LEN);
		json_object_set_new(j, "ruled_by", json_string(hex));
	} else
		json_object_set_new(j, "ruled_by", json_null());
	if (vl.reason[0] != '\0')
		json_object_set_new(j, "reason", json_string(vl.reason));
	*total += (json_int_t)(vl.confirmed * l->price_cents);
	view_free(vl.conf);
	view_free(p);
	return j;
}

json_t *
render_order(struct store_txn *t, const Halle__Order *o)
{
	unsigned char market_node[KEY_PUBLIC_LEN];
	Halle__Distribution *d;
	json_int_t total = 0;
	json_t *j, *lines;
	size_t i;

	memset(market_node, 0, sizeof(market_node));
	if ((d = views_distribution(t, o->distribution)) != NULL)
		views_market_owner(t, d->market, market_node);
	view_free(d);
	lines = json_array();
	for (i = 0; i < o->n_lines; i++)
		json_array_append_new(lines, render_line(t, o, o->lines[i],
		    market_node, &total));
	j = json_pack("{s:s, s:I, s:s, s:s, s:s, s:b, s:o, s:I, s:o}",
	    "id", o->id, "version", (json_int_t)o->version,
	    "distribution", o->distribution, "basket", o->basket,
	    "mediator", o->mediator, "cancelled", o->cancelled,
	    "placed_at", instant(o->placed_at), "total_cents", total,
	    "lines", lines);
	return j;
}
