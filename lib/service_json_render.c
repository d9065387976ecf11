/*
 * service_json_render: entities as the JSON of the control API's answers
 * (docs/control-api.md), read from the snapshot they are rendered in.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "feed.h"
#include "service_int.h"
#include "timeutil.h"

json_t *
service_json_render_producer(struct store_txn *t, const Halle__Producer *p)
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
service_json_render_catalogue(struct store_txn *t, const Halle__Catalogue *c)
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
service_json_render_market(struct store_txn *t, const Halle__Market *m)
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
service_json_render_distribution(struct store_txn *t,
    const Halle__Distribution *d, int64_t now_ms)
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
service_json_render_order(struct store_txn *t, const Halle__Order *o)
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
