/*
 * dfc_import: a DFC catalogue into a catalogue draft (dfc.h).
 *
 * Each SuppliedProduct is followed to what halle needs, refusing the
 * product (a problem naming its @id and the missing field) at the first
 * thing missing:
 *
 *   SuppliedProduct  name; hasQuantity -> QuantitativeValue (unit, value);
 *     | referencedBy    hasCertification/hasClaim/hasLabelling (organic)
 *     v   (or a CatalogItem that references it)
 *   CatalogItem      sku (else made from the product's @id); stockLimitation
 *     | offeredThrough
 *     v   (or an Offer whose offers/offeredItem names the item)
 *   Offer            hasPrice -> Price (value, VATrate, hasUnit currency);
 *                    stockLimitation when the item has none
 *
 * Like OFN, the first CatalogItem and the first Offer are read; a
 * negative stockLimitation means unlimited; a quantity of 0 is one piece. A product that maps is then
 * checked by the catalogue's own rules (catalogue_draft_add). Units and
 * currencies are the tables below; docs/dfc.md lists them.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "dfc.h"
#include "dfc_int.h"
#include "service.h"

/* A unit of the DFC measures, as halle's unit times a factor. */
struct unit_map {
	const char	*dfc;
	Halle__Unit	 unit;
	double		 factor;
};

static const struct unit_map units[] = {
	{ "Kilogram", HALLE__UNIT__UNIT_KG, 1 },
	{ "Gram", HALLE__UNIT__UNIT_G, 1 },
	{ "Milligram", HALLE__UNIT__UNIT_G, 0.001 },
	{ "Tonne", HALLE__UNIT__UNIT_KG, 1000 },
	{ "PoundMass", HALLE__UNIT__UNIT_G, 453.59237 },
	{ "Ounce", HALLE__UNIT__UNIT_G, 28.349523125 },
	{ "Litre", HALLE__UNIT__UNIT_L, 1 },
	{ "Millilitre", HALLE__UNIT__UNIT_ML, 1 },
	{ "Centilitre", HALLE__UNIT__UNIT_ML, 10 },
	{ "Decilitre", HALLE__UNIT__UNIT_ML, 100 },
	{ "Gallon", HALLE__UNIT__UNIT_L, 4.54609 },
	{ "Piece", HALLE__UNIT__UNIT_PIECE, 1 },
	{ "Pair", HALLE__UNIT__UNIT_PIECE, 2 },
	{ "HalfDozen", HALLE__UNIT__UNIT_PIECE, 6 },
	{ "Dozen", HALLE__UNIT__UNIT_PIECE, 12 },
	{ "4Pack", HALLE__UNIT__UNIT_PIECE, 4 },
	{ "6Pack", HALLE__UNIT__UNIT_PIECE, 6 },
};

/* Containers: one of them is one piece, as OFN counts them. */
static const char *const containers[] = { "Bag", "Basket", "BeerCrate",
	"Bottle", "Box", "Bucket", "Bunch", "Bundle", "Can", "Carton", "Cask",
	"Crate", "Cup", "Drum", "Jar", "Keg", "Kit", "Net", "Package", "Packet",
	"Pallet", "Pot", "Pouch", "Punnet", "Roll", "Tablet", "Tin", "Tray",
	"Tub", "Tube" };

/* The DFC currencies, by measure name or ISO 4217 code. */
static const struct { const char *dfc, *iso; } currencies[] = {
	{ "Euro", "EUR" }, { "PoundSterling", "GBP" }, { "USDollar", "USD" },
	{ "CanadianDollar", "CAD" }, { "AustralianDollar", "AUD" },
	{ "EUR", "EUR" }, { "GBP", "GBP" }, { "USD", "USD" }, { "CAD", "CAD" },
	{ "AUD", "AUD" },
};

struct import {
	struct dfc_graph	 g;
	struct catalogue_draft	*draft;
	json_t			*problems;
	const char		*currency_from;	/* the product that set it */
	struct halle_error	*err;
	int			 currencies_differ;
};

/* Lists a problem; a message that is no JSON string must not lose it. */
static void
problem_add(struct import *im, const char *id, const char *field,
    enum halle_errcode code, char *message)
{
	json_t *o;

	error_utf8_trim(message);
	if (json_array_size(im->problems) == 0 && !im->currencies_differ)
		error_set(im->err, code, "%s", message);	/* the first */
	o = json_pack("{s:s, s:s, s:s, s:s}", "id", id, "field", field,
	    "code", halle_strerror(code), "message", message);
	if (o == NULL)
		o = json_pack("{s:s, s:s, s:s, s:s}", "id", "", "field", field,
		    "code", halle_strerror(code), "message", "a product was "
		    "refused");
	json_array_append_new(im->problems, o);
}

/* An @id as messages show it: a long one by its end, which tells apart. */
static const char *
id_shown(const char *id, char *buf, size_t len)
{
	const char *tail;

	if (strlen(id) <= 200)
		return id;
	tail = id + strlen(id) - 150;
	while (((unsigned char)*tail & 0xc0) == 0x80)
		tail++;
	snprintf(buf, len, "...%s", tail);
	return buf;
}

/* One product refused: a problem listed, -1 returned. */
static int __attribute__((format(printf, 5, 6)))
refuse(struct import *im, const char *id, const char *field,
    enum halle_errcode code, const char *fmt, ...)
{
	char what[256], message[sizeof(im->err->message)], shown[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(message, sizeof(message), "product %s: %s%s%s",
	    id_shown(id, shown, sizeof(shown)), field,
	    field[0] != '\0' ? ": " : "", what);
	problem_add(im, id, field, code, message);
	return -1;
}

/* The node a property of node names, or NULL; *named says it named one. */
static json_t *
follow(struct import *im, json_t *node, const char *property, int *named)
{
	json_t *v = dfc_get(&im->g, node, property);

	*named = v != NULL;
	return v != NULL ? dfc_ref(&im->g, v) : NULL;
}

/* The first node of type dfc-b:type whose property names target, or NULL. */
static json_t *
referrer(struct import *im, const char *type, const char *property,
    const char *property2, json_t *target)
{
	const char *id = dfc_id(target), *ref;
	json_t *n;
	size_t i;

	if (id == NULL)
		return NULL;
	json_array_foreach(im->g.nodes, i, n) {
		if (!dfc_is_a(&im->g, n, DFC_B, type))
			continue;
		if (((ref = dfc_id(dfc_get(&im->g, n, property))) != NULL &&
		    strcmp(ref, id) == 0) || (property2 != NULL && (ref =
		    dfc_id(dfc_get(&im->g, n, property2))) != NULL &&
		    strcmp(ref, id) == 0))
			return n;
	}
	return NULL;
}

static int
map_quantity(struct import *im, const char *id, json_t *product,
    Halle__Product *p)
{
	const char *unit;
	json_t *qv;
	double value = 1;
	size_t i;
	int named;

	p->unit = HALLE__UNIT__UNIT_PIECE;
	p->quantity = 1;
	if ((qv = follow(im, product, "hasQuantity", &named)) == NULL)
		return named ? refuse(im, id, "dfc-b:hasQuantity",
		    HALLE_E_DFC_INVALID, "its hasQuantity is not in the "
		    "document") : 0;
	if (dfc_concept(&im->g, dfc_get(&im->g, qv, "hasUnit"), &unit) !=
	    DFC_M)
		return refuse(im, id, "dfc-b:hasUnit", HALLE_E_DFC_INVALID,
		    "its quantity has no unit of the DFC measures");
	if (dfc_get(&im->g, qv, "value") != NULL &&
	    dfc_number(dfc_get(&im->g, qv, "value"), &value) == -1)
		return refuse(im, id, "dfc-b:value", HALLE_E_DFC_INVALID,
		    "its quantity is not a number");
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(unit, units[i].dfc) == 0)
			break;
	if (i < sizeof(units) / sizeof(units[0])) {
		p->unit = units[i].unit;
		value *= units[i].factor;
	} else {
		for (i = 0; i < sizeof(containers) / sizeof(containers[0]); i++)
			if (strcmp(unit, containers[i]) == 0)
				break;
		if (i == sizeof(containers) / sizeof(containers[0]))
			return refuse(im, id, "dfc-b:hasUnit",
			    HALLE_E_DFC_INVALID, "unit dfc-m:%s has no "
			    "equivalent in halle (piece, kg, g, l, ml)", unit);
	}
	if (value > 1e6)
		return refuse(im, id, "dfc-b:value", HALLE_E_DFC_INVALID,
		    "its quantity is over 1000000");
	if (!(value > 0)) {
		/* As OFN reads it: no quantity is one item. */
		p->unit = HALLE__UNIT__UNIT_PIECE;
		value = 1;
	}
	p->quantity = value;
	return 0;
}

/* Cents from a decimal amount, bounded so that rounding cannot overflow. */
static int
to_hundredths(double v, uint64_t *out)
{
	if (!(v >= 0) || v > 1e13)
		return -1;
	*out = (uint64_t)llround(v * 100);
	return 0;
}

static int
map_currency(struct import *im, const char *id, json_t *price)
{
	const char *unit;
	size_t i;

	if (dfc_get(&im->g, price, "hasUnit") == NULL)
		return 0;
	if (dfc_concept(&im->g, dfc_get(&im->g, price, "hasUnit"), &unit) !=
	    DFC_M)
		return refuse(im, id, "dfc-b:hasUnit", HALLE_E_DFC_INVALID,
		    "its price's unit is not one of the DFC measures");
	for (i = 0; i < sizeof(currencies) / sizeof(currencies[0]); i++)
		if (strcmp(unit, currencies[i].dfc) == 0)
			break;
	if (i == sizeof(currencies) / sizeof(currencies[0]))
		return refuse(im, id, "dfc-b:hasUnit", HALLE_E_DFC_INVALID,
		    "dfc-m:%s is not a currency (Euro, PoundSterling, "
		    "USDollar, CanadianDollar, AustralianDollar)", unit);
	if (im->currency_from == NULL) {
		memcpy(im->draft->currency, currencies[i].iso, 4);
		im->currency_from = id;
	} else if (strcmp(im->draft->currency, currencies[i].iso) != 0 &&
	    !im->currencies_differ) {
		im->currencies_differ = 1;
		error_set(im->err, HALLE_E_DFC_INVALID, "product %s is priced in %s "
		    "and product %s in %s: a catalogue has one currency",
		    im->currency_from, im->draft->currency, id,
		    currencies[i].iso);
		return -1;	/* the whole document is refused */
	}
	return 0;
}

static int
map_price(struct import *im, const char *id, json_t *offer,
    Halle__Product *p)
{
	json_t *v = dfc_get(&im->g, offer, "hasPrice"), *price;
	double value, vat = 0;

	if (v == NULL && (v = dfc_get(&im->g, offer, "price")) == NULL)
		return refuse(im, id, "dfc-b:hasPrice", HALLE_E_DFC_INVALID,
		    "its Offer %s has no price", dfc_id(offer) ? dfc_id(offer) :
		    "(blank)");
	if ((price = dfc_ref(&im->g, v)) == NULL) {
		/* Before 1.8 a price was a bare number. */
		if (dfc_number(v, &value) == -1)
			return refuse(im, id, "dfc-b:hasPrice",
			    HALLE_E_DFC_INVALID, "its price is not in the "
			    "document");
	} else if (dfc_number(dfc_get(&im->g, price, "value"), &value) == -1)
		return refuse(im, id, "dfc-b:value", HALLE_E_DFC_INVALID,
		    "its price has no value, or not a number");
	if (to_hundredths(value, &p->price_cents) == -1)
		return refuse(im, id, "dfc-b:value", HALLE_E_DFC_INVALID,
		    "its price must be a number from 0 to 10^13");
	if (price != NULL && dfc_get(&im->g, price, "VATrate") != NULL &&
	    (dfc_number(dfc_get(&im->g, price, "VATrate"), &vat) == -1 ||
	    !(vat >= 0 && vat <= 100)))
		return refuse(im, id, "dfc-b:VATrate", HALLE_E_DFC_INVALID,
		    "its VAT rate must be a percentage from 0 to 100");
	p->vat_bp = (uint32_t)lround(vat * 100);
	return price != NULL ? map_currency(im, id, price) : 0;
}

/* stockLimitation: absent or negative is unlimited, as OFN reads it. */
static int
map_stock(struct import *im, const char *id, json_t *item, json_t *offer,
    Halle__Product *p)
{
	json_t *v = dfc_get(&im->g, item, "stockLimitation");
	double stock;

	if (v == NULL && (v = dfc_get(&im->g, offer, "stockLimitation")) ==
	    NULL)
		return 0;
	if (dfc_number(v, &stock) == -1)
		return refuse(im, id, "dfc-b:stockLimitation",
		    HALLE_E_DFC_INVALID, "its stockLimitation is not a number");
	if (stock < 0)
		return 0;
	if (stock > SERVICE_MAX_STOCK)
		return refuse(im, id, "dfc-b:stockLimitation", HALLE_E_OVERFLOW,
		    "its stockLimitation %.0f is over %lld", stock,
		    SERVICE_MAX_STOCK);
	p->limited = 1;
	p->stock_per_day = (uint64_t)stock;
	return 0;
}

/* Organic: an organic label of the DFC facets, or a node named so. */
static int
is_organic(struct import *im, json_t *product)
{
	static const char *const props[] = { "hasCertification", "hasClaim",
	    "hasLabelling", "isCertifiedBy" };
	const char *local, *name;
	json_t *v, *one, *node;
	size_t i, j, n;

	for (i = 0; i < sizeof(props) / sizeof(props[0]); i++) {
		if ((v = dfc_get(&im->g, product, props[i])) == NULL)
			continue;
		n = json_is_array(v) ? json_array_size(v) : 1;
		for (j = 0; j < n; j++) {
			one = json_is_array(v) ? json_array_get(v, j) : v;
			if (dfc_concept(&im->g, one, &local) == DFC_F &&
			    (strncmp(local, "Organic", 7) == 0 ||
			    strcmp(local, "BiodynamicLabel") == 0))
				return 1;
			node = dfc_ref(&im->g, one);
			name = dfc_text(dfc_get(&im->g, node, "name"));
			if (name != NULL && strncasecmp(name, "organic", 7) == 0)
				return 1;
		}
	}
	return 0;
}

/*
 * A sku that stays the same from one import to the next: the last segment
 * of the product's IRI, made safe, and a digest of the whole IRI.
 */
static int
sku_from_id(struct import *im, const char *id, char *sku, size_t len)
{
	unsigned char digest[6];
	const char *seg, *end = id + strlen(id);
	size_t n = 0, i;

	if (strchr(id, ':') == NULL || strncmp(id, "_:", 2) == 0)
		return refuse(im, id, "dfc-b:sku", HALLE_E_DFC_INVALID, "its "
		    "CatalogItem has no sku, and a blank node gives none that "
		    "stays the same from one import to the next");
	while (end > id && (end[-1] == '/' || end[-1] == '#'))
		end--;
	for (seg = end; seg > id && seg[-1] != '/' && seg[-1] != '#' &&
	    seg[-1] != ':'; seg--)
		;
	for (; seg < end && n < 40 && n + 1 < len; seg++, n++)
		sku[n] = strchr("._-", *seg) != NULL || (*seg >= '0' &&
		    *seg <= '9') || (*seg >= 'a' && *seg <= 'z') ||
		    (*seg >= 'A' && *seg <= 'Z') ? *seg : '-';
	crypto_generichash(digest, sizeof(digest), (const unsigned char *)id,
	    strlen(id), NULL, 0);
	if (n > 0 && n + 1 < len)
		sku[n++] = '-';
	for (i = 0; i < sizeof(digest) && n + 2 < len; i++, n += 2)
		snprintf(sku + n, 3, "%02x", digest[i]);
	sku[n] = '\0';
	return 0;
}

static int
map_product(struct import *im, json_t *node, const char *id)
{
	Halle__Product p = HALLE__PRODUCT__INIT;
	struct halle_error e;
	json_t *item, *offer;
	char sku[SERVICE_MAX_LABEL + 1], label[sizeof(e.message)],
	    id_buf[160];
	int named;

	if ((p.name = (char *)dfc_text(dfc_get(&im->g, node, "name"))) ==
	    NULL || p.name[0] == '\0')
		return refuse(im, id, "dfc-b:name", HALLE_E_DFC_INVALID,
		    "it has no name");
	item = follow(im, node, "referencedBy", &named);
	if (item == NULL && !named)
		item = referrer(im, "CatalogItem", "references", NULL, node);
	if (item == NULL)
		return refuse(im, id, "dfc-b:referencedBy", HALLE_E_DFC_INVALID,
		    named ? "its CatalogItem is not in the document" :
		    "no CatalogItem references it, so it has no Offer");
	offer = follow(im, item, "offeredThrough", &named);
	if (offer == NULL && !named)
		offer = referrer(im, "Offer", "offers", "offeredItem", item);
	if (offer == NULL)
		return refuse(im, id, "dfc-b:offeredThrough",
		    HALLE_E_DFC_INVALID, named ? "its Offer is not in the "
		    "document" : "its CatalogItem has no Offer");
	if (map_quantity(im, id, node, &p) == -1 ||
	    map_price(im, id, offer, &p) == -1 ||
	    map_stock(im, id, item, offer, &p) == -1)
		return -1;
	p.organic = is_organic(im, node);
	p.sku = (char *)dfc_text(dfc_get(&im->g, item, "sku"));
	if (p.sku == NULL && json_is_integer(dfc_first(dfc_get(&im->g, item,
	    "sku")))) {
		/* A sku written as a number: its digits. */
		snprintf(sku, sizeof(sku), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(dfc_first(dfc_get(&im->g, item, "sku"))));
		p.sku = sku;
	}
	if (p.sku == NULL || p.sku[0] == '\0') {
		if (sku_from_id(im, id, sku, sizeof(sku)) == -1)
			return -1;
		p.sku = sku;
	}
	snprintf(label, sizeof(label), "product %s", id_shown(id, id_buf,
	    sizeof(id_buf)));
	if (catalogue_draft_add(im->draft, &p, label, &e) == -1) {
		problem_add(im, id, "", e.code, e.message);
		return -1;
	}
	return 0;
}

int
dfc_catalogue_import(json_t *doc, struct catalogue_draft *draft,
    json_t **problems, struct halle_error *err)
{
	struct import im;
	const char *id;
	json_t *node;
	size_t i, seen = 0;
	int rc = -1;

	memset(&im, 0, sizeof(im));
	im.draft = draft;
	im.err = err;
	im.problems = json_array();
	*problems = NULL;
	if (im.problems == NULL || dfc_graph_load(&im.g, doc, err) == -1)
		goto done;
	json_array_foreach(im.g.nodes, i, node) {
		if (!dfc_is_a(&im.g, node, DFC_B, "SuppliedProduct"))
			continue;
		id = dfc_id(node);
		/* A node defined twice is read once, where the index has it. */
		if (id != NULL && json_object_get(im.g.index, id) != node)
			continue;
		seen++;
		map_product(&im, node, id != NULL ? id : "(with no @id)");
		if (im.currencies_differ)
			goto done;
	}
	if (seen == 0) {
		error_set(err, HALLE_E_DFC_INVALID,
		    "the document holds no dfc-b:SuppliedProduct");
		goto done;
	}
	*problems = im.problems;
	im.problems = NULL;
	rc = 0;
done:
	json_decref(im.problems);
	dfc_graph_free(&im.g);
	return rc;
}
