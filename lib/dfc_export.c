/*
 * dfc_export: catalogues and orders as DFC 1.16 documents (dfc.h).
 *
 * Every node has an IRI under the exporting node's dfc_base, built from
 * ids that never change, so that a platform importing twice updates what
 * it imported the first time, and an order line names the very Offer the
 * same node's catalogue export gave:
 *
 *   {base}producers/{producer}                          Enterprise
 *   {base}producers/{producer}/products/{sku}           SuppliedProduct
 *                                     .../catalog-item  CatalogItem
 *                                     .../offer         Offer
 *                                     .../offer/price   Price
 *                                     .../quantity      QuantitativeValue
 *   {base}markets/{market}                              Enterprise (buyer)
 *   {base}distributions/{distribution}                  SaleSession
 *   {base}orders/{order}/producers/{producer}           Order
 *                                     .../lines/{sku}   OrderLine (+/price)
 *
 * References are written {"@id": ...}, which reads the same whatever the
 * context declares; numbers with decimals are written as decimal strings
 * ("12.06"), exact, as OFN writes them.
 */
#include <stdio.h>
#include <string.h>

#include "dfc.h"
#include "timeutil.h"

#define IRI_MAX	1024

static const char *const unit_measures[] = {
	[HALLE__UNIT__UNIT_PIECE] = "dfc-m:Piece",
	[HALLE__UNIT__UNIT_KG] = "dfc-m:Kilogram",
	[HALLE__UNIT__UNIT_G] = "dfc-m:Gram",
	[HALLE__UNIT__UNIT_L] = "dfc-m:Litre",
	[HALLE__UNIT__UNIT_ML] = "dfc-m:Millilitre",
};

static const struct { const char *iso, *measure; } money_measures[] = {
	{ "EUR", "dfc-m:Euro" }, { "GBP", "dfc-m:PoundSterling" },
	{ "USD", "dfc-m:USDollar" }, { "CAD", "dfc-m:CanadianDollar" },
	{ "AUD", "dfc-m:AustralianDollar" },
};

static const char *const order_states[] = {
	[DFC_ORDER_HELD] = "dfc-v:Held",
	[DFC_ORDER_COMPLETE] = "dfc-v:Complete",
	[DFC_ORDER_CANCELLED] = "dfc-v:Cancelled",
};

static const char *
money_measure(const char *currency, struct halle_error *err)
{
	const char *iso = catalogue_currency(currency);
	size_t i;

	for (i = 0; i < sizeof(money_measures) / sizeof(money_measures[0]); i++)
		if (strcmp(iso, money_measures[i].iso) == 0)
			return money_measures[i].measure;
	error_set(err, HALLE_E_DFC_INVALID, "currency %s has no unit in the DFC "
	    "measures (EUR, GBP, USD, CAD, AUD)", iso);
	return NULL;
}

/* A sku as one path segment: '/' escaped, and "." or ".." entirely. */
static void
sku_segment(char *out, size_t len, const char *sku)
{
	int dots = strspn(sku, ".") == strlen(sku);
	size_t n = 0;

	for (; *sku != '\0' && n + 4 < len; sku++)
		if (*sku == '/' || (dots && *sku == '.'))
			n += (size_t)snprintf(out + n, len - n, "%%%02X",
			    (unsigned)*sku);
		else
			out[n++] = *sku;
	out[n] = '\0';
}

/* Hundredths as a decimal string without trailing zeros: 1206 "12.06". */
static json_t *
decimal(uint64_t hundredths)
{
	char buf[32];
	size_t n;

	n = (size_t)snprintf(buf, sizeof(buf), "%llu.%02llu",
	    (unsigned long long)(hundredths / 100),
	    (unsigned long long)(hundredths % 100));
	while (buf[n - 1] == '0')
		buf[--n] = '\0';
	if (buf[n - 1] == '.')
		buf[--n] = '\0';
	return json_string(buf);
}

static json_t *
ref(const char *iri)
{
	return json_pack("{s:s}", "@id", iri);
}

static json_t *
price_node(const char *iri, uint64_t cents, uint32_t vat_bp,
    const char *money)
{
	return json_pack("{s:s, s:s, s:o, s:o, s:s}", "@id", iri,
	    "@type", "dfc-b:Price", "dfc-b:value", decimal(cents),
	    "dfc-b:VATrate", decimal(vat_bp), "dfc-b:hasUnit", money);
}

static json_t *
document(json_t *graph)
{
	return json_pack("{s:s, s:o}", "@context", DFC_CONTEXT, "@graph", graph);
}

/* The five nodes of one product, appended to graph. */
static void
product_nodes(json_t *graph, const char *base, const char *producer,
    const Halle__Product *p, const char *money, json_t *enterprise)
{
	char seg[IRI_MAX / 4], prod[IRI_MAX], item[IRI_MAX + 16],
	    offer[IRI_MAX + 8], price[IRI_MAX + 16], qty[IRI_MAX + 16],
	    value[32];
	json_t *sp;

	sku_segment(seg, sizeof(seg), p->sku);
	snprintf(prod, sizeof(prod), "%sproducers/%s/products/%s", base,
	    producer, seg);
	snprintf(item, sizeof(item), "%s/catalog-item", prod);
	snprintf(offer, sizeof(offer), "%s/offer", prod);
	snprintf(price, sizeof(price), "%s/offer/price", prod);
	snprintf(qty, sizeof(qty), "%s/quantity", prod);
	snprintf(value, sizeof(value), "%.15g", p->quantity);
	sp = json_pack("{s:s, s:s, s:s, s:o, s:o}", "@id", prod,
	    "@type", "dfc-b:SuppliedProduct", "dfc-b:name", p->name,
	    "dfc-b:hasQuantity", ref(qty), "dfc-b:referencedBy", ref(item));
	if (p->organic)
		json_object_set_new(sp, "dfc-b:hasCertification",
		    json_string("dfc-f:OrganicLabel"));
	json_array_append_new(graph, sp);
	json_array_append_new(graph, json_pack("{s:s, s:s, s:s, s:s}",
	    "@id", qty, "@type", "dfc-b:QuantitativeValue",
	    "dfc-b:hasUnit", (unsigned)p->unit <= HALLE__UNIT__UNIT_ML ?
	    unit_measures[p->unit] : "dfc-m:Piece", "dfc-b:value", value));
	json_array_append_new(graph, json_pack("{s:s, s:s, s:s, s:I, s:o, s:o}",
	    "@id", item, "@type", "dfc-b:CatalogItem", "dfc-b:sku", p->sku,
	    /* -1: unlimited, as OFN reads a negative limit */
	    "dfc-b:stockLimitation", p->limited ?
	    (json_int_t)p->stock_per_day : (json_int_t)-1,
	    "dfc-b:references", ref(prod), "dfc-b:offeredThrough", ref(offer)));
	json_array_append_new(graph, json_pack("{s:s, s:s, s:o}", "@id", offer,
	    "@type", "dfc-b:Offer", "dfc-b:hasPrice", ref(price)));
	json_array_append_new(graph, price_node(price, p->price_cents,
	    p->vat_bp, money));
	json_array_append_new(json_object_get(enterprise, "dfc-b:supplies"),
	    ref(prod));
	json_array_append_new(json_object_get(enterprise, "dfc-b:manages"),
	    ref(item));
}

json_t *
dfc_catalogue_export(const char *base, const Halle__Producer *p,
    const Halle__Catalogue *c, struct halle_error *err)
{
	const char *money = money_measure(c->currency, err);
	char iri[IRI_MAX];
	json_t *graph, *enterprise;
	size_t i;

	if (money == NULL)
		return NULL;
	snprintf(iri, sizeof(iri), "%sproducers/%s", base, p->id);
	enterprise = json_pack("{s:s, s:s, s:s, s:[], s:[]}", "@id", iri,
	    "@type", "dfc-b:Enterprise", "dfc-b:name", p->name,
	    "dfc-b:supplies", "dfc-b:manages");
	graph = json_array();
	json_array_append_new(graph, enterprise);
	for (i = 0; i < c->n_products; i++)
		product_nodes(graph, base, p->id, c->products[i], money,
		    enterprise);
	return document(graph);
}

static json_t *
instant(int64_t t)
{
	char buf[40];

	timeutil_format_instant((time_t)t, buf, sizeof(buf));
	return json_string(buf);
}

/* One order: its Order, OrderLines and their Prices, appended to graph. */
static void
order_nodes(json_t *graph, const struct dfc_sale *s, const char *money,
    const struct dfc_order *o)
{
	const char *base = s->base, *producer = s->producer->id;
	char iri[IRI_MAX], seg[IRI_MAX / 4], line[2 * IRI_MAX],
	    price[2 * IRI_MAX + 8], other[IRI_MAX];
	json_t *order, *parts;
	size_t i;

	snprintf(iri, sizeof(iri), "%sorders/%s/producers/%s", base, o->id,
	    producer);
	parts = json_array();
	order = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "@id", iri,
	    "@type", "dfc-b:Order", "dfc-b:orderNumber", o->id,
	    "dfc-b:date", instant(o->placed_at),
	    "dfc-b:hasOrderStatus", ref(order_states[o->status]),
	    "dfc-b:hasPart", parts);
	snprintf(other, sizeof(other), "%sdistributions/%s", base,
	    s->distribution->id);
	json_object_set_new(order, "dfc-b:belongsTo", ref(other));
	snprintf(other, sizeof(other), "%sproducers/%s", base, producer);
	json_object_set_new(order, "dfc-b:soldBy", ref(other));
	snprintf(other, sizeof(other), "%smarkets/%s", base,
	    s->distribution->market);
	json_object_set_new(order, "dfc-b:orderedBy", ref(other));
	json_array_append_new(graph, order);
	for (i = 0; i < o->nlines; i++) {
		sku_segment(seg, sizeof(seg), o->lines[i].sku);
		snprintf(line, sizeof(line), "%s/lines/%s", iri, seg);
		snprintf(price, sizeof(price), "%s/price", line);
		snprintf(other, sizeof(other), "%sproducers/%s/products/%s/offer",
		    base, producer, seg);
		json_array_append_new(parts, ref(line));
		json_array_append_new(graph, json_pack(
		    "{s:s, s:s, s:I, s:o, s:o, s:o}", "@id", line,
		    "@type", "dfc-b:OrderLine",
		    "dfc-b:quantity", (json_int_t)o->lines[i].quantity,
		    "dfc-b:concerns", ref(other), "dfc-b:hasPrice", ref(price),
		    "dfc-b:partOf", ref(iri)));
		json_array_append_new(graph, price_node(price,
		    o->lines[i].price_cents, o->lines[i].vat_bp, money));
	}
}

json_t *
dfc_orders_export(const struct dfc_sale *s, const struct dfc_order *orders,
    size_t norders, struct halle_error *err)
{
	const Halle__Distribution *d = s->distribution;
	const char *money = money_measure(s->currency, err);
	char iri[IRI_MAX];
	json_t *graph;
	size_t i;

	if (money == NULL)
		return NULL;
	graph = json_array();
	snprintf(iri, sizeof(iri), "%sdistributions/%s", s->base, d->id);
	json_array_append_new(graph, json_pack("{s:s, s:s, s:o, s:o}",
	    "@id", iri, "@type", "dfc-b:SaleSession",
	    "dfc-b:beginDate", instant(d->opens_at),
	    "dfc-b:endDate", instant(d->closes_at)));
	snprintf(iri, sizeof(iri), "%sproducers/%s", s->base, s->producer->id);
	json_array_append_new(graph, json_pack("{s:s, s:s, s:s}", "@id", iri,
	    "@type", "dfc-b:Enterprise", "dfc-b:name", s->producer->name));
	snprintf(iri, sizeof(iri), "%smarkets/%s", s->base, d->market);
	json_array_append_new(graph, json_pack("{s:s, s:s, s:s}", "@id", iri,
	    "@type", "dfc-b:Enterprise", "dfc-b:name",
	    s->market != NULL ? s->market->name : d->market));
	for (i = 0; i < norders; i++)
		order_nodes(graph, s, money, &orders[i]);
	return document(graph);
}
