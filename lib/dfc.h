/*
 * dfc: speaking the Data Food Consortium's JSON-LD, for the parts halle has.
 *
 * Other platforms (Open Food Network and the DFC connectors) exchange
 * catalogues and orders as a "@graph" of typed nodes linked by "@id":
 *
 *   SuppliedProduct --referencedBy--> CatalogItem --offeredThrough--> Offer
 *     |  name                           sku, stockLimitation            |
 *     +--hasQuantity--> QuantitativeValue (value, hasUnit dfc-m:...)     |
 *                                                  hasPrice --> Price (value,
 *                                                       VATrate, hasUnit)
 *
 * halle needs no JSON-LD processor for that: dfc_graph.c indexes the nodes
 * by @id, reads a term written compact ("dfc-b:name"), in full or through
 * the document's own context alike, and follows references written as a
 * string, as {"@id": ...} or as an embedded node. docs/dfc.md says what is
 * mapped to what, and what is ignored and why.
 *
 * The functions here are pure (no store): the service layer
 * (service_dfc.c) feeds them what it reads and publishes what they give.
 */
#ifndef HALLE_DFC_H
#define HALLE_DFC_H

#include <stdint.h>

#include <jansson.h>

#include "bodies.pb-c.h"
#include "catalogue.h"
#include "error.h"

#define DFC_CONTEXT	"https://w3id.org/dfc/ontology/context/context_1.16.0.json"
#define DFC_MEDIA_TYPE	"application/ld+json"

/*
 * Maps the catalogue in doc (a JSON-LD document: an object with "@graph",
 * a single node, or an array of either) into draft, which the caller has
 * initialised. Each dfc-b:SuppliedProduct becomes a product or a problem:
 * problems (a new array the caller owns) gets one object per product
 * refused, {"id", "field", "code", "message"}, the message naming the
 * product's @id and what it lacks. Other nodes are ignored.
 *
 * Returns 0 once every product is either in draft or in problems, err
 * then holding the first problem (its code and message) if there is one;
 * -1 with err filled (dfc_invalid) when the document as a whole cannot be
 * read: not JSON-LD, nested too deep, no SuppliedProduct, prices in
 * several currencies. *problems is then NULL.
 */
int	dfc_catalogue_import(json_t *doc, struct catalogue_draft *draft,
	    json_t **problems, struct halle_error *err);

/*
 * The DFC document of catalogue c of producer p (as OFN's importer takes
 * it), its @ids under base (a dfc_base ending with "/"): an Enterprise,
 * and per product a SuppliedProduct, CatalogItem, Offer, Price and
 * QuantitativeValue. NULL with err filled (dfc_invalid) when the
 * catalogue's currency has no DFC unit.
 */
json_t	*dfc_catalogue_export(const char *base, const Halle__Producer *p,
	    const Halle__Catalogue *c, struct halle_error *err);

/* What an order export says, gathered by the service from its views. */
enum dfc_order_status { DFC_ORDER_HELD, DFC_ORDER_COMPLETE,
	DFC_ORDER_CANCELLED };

struct dfc_order_line {
	const char	*sku;
	uint64_t	 quantity;	/* confirmed */
	uint64_t	 price_cents;	/* frozen when ordered */
	uint32_t	 vat_bp;
};

struct dfc_order {
	const char		*id;
	int64_t			 placed_at;
	enum dfc_order_status	 status;
	struct dfc_order_line	*lines;
	size_t			 nlines;
};

struct dfc_sale {
	const char			*base;
	const Halle__Producer		*producer;
	const char			*currency;	/* the catalogue's */
	const Halle__Distribution	*distribution;
	const Halle__Market		*market;	/* may be NULL */
};

/*
 * The DFC document of one producer's orders at one distribution: a
 * SaleSession for the distribution (its order window), an Enterprise for
 * the producer (soldBy) and one for the market (orderedBy), and per order
 * an Order with its OrderLines (quantity, price, concerns the Offer the
 * catalogue export names). NULL with err when out of memory or the
 * currency has no DFC unit.
 */
json_t	*dfc_orders_export(const struct dfc_sale *sale,
	    const struct dfc_order *orders, size_t norders,
	    struct halle_error *err);

#endif
