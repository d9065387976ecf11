/*
 * fuzz_dfc: libFuzzer target for the DFC importer (lib/dfc_import.c,
 * lib/dfc_graph.c), which reads documents from other platforms.
 *
 * Each input is parsed as JSON and imported as a catalogue. When products
 * come out, the draft goes round: exported (lib/dfc_export.c) and
 * imported again, which must give back the same catalogue, product by
 * product, with no problem. The target aborts when it does not, or when
 * the importer fails without saying why. No store is needed: the mapping
 * is pure.
 *
 * Run: fuzz_dfc CORPUS_DIR ../tests/unit/data/dfc -dict=../tests/fuzz/
 * dfc.dict; see tests/fuzz/CMakeLists.txt for the flags CI uses.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "dfc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void __attribute__((noreturn))
bug(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_dfc: BUG: %s (%s)\n", what, detail);
	abort();
}

static void
same_product(const Halle__Product *a, const Halle__Product *b)
{
	if (strcmp(a->sku, b->sku) != 0 || strcmp(a->name, b->name) != 0)
		bug("round trip changed a sku or a name", a->sku);
	if (a->unit != b->unit || a->price_cents != b->price_cents ||
	    a->vat_bp != b->vat_bp || a->organic != b->organic ||
	    a->limited != b->limited || a->stock_per_day != b->stock_per_day)
		bug("round trip changed a product", a->sku);
	/* Written with 15 significant digits. */
	if (fabs(a->quantity - b->quantity) > 1e-12 * fabs(a->quantity))
		bug("round trip changed a quantity", a->sku);
}

/* Exports draft and imports the document again: the same products. */
static void
round_trip(const struct catalogue_draft *d)
{
	Halle__Producer p = HALLE__PRODUCER__INIT;
	Halle__Catalogue c = HALLE__CATALOGUE__INIT;
	Halle__Product **ptrs;
	struct catalogue_draft again;
	struct halle_error err;
	json_t *doc, *problems;
	size_t i;

	if ((ptrs = calloc(d->n, sizeof(*ptrs))) == NULL)
		abort();
	for (i = 0; i < d->n; i++)
		ptrs[i] = &d->products[i];
	p.id = "pr-000000000000";
	p.name = "Ferme du Fuzz";
	c.producer = p.id;
	c.version = 1;
	c.currency = (char *)d->currency;
	c.products = ptrs;
	c.n_products = d->n;
	if ((doc = dfc_catalogue_export("https://fuzz.halle.invalid/dfc/", &p,
	    &c, &err)) == NULL)
		bug("an imported catalogue does not export", err.message);
	catalogue_draft_init(&again);
	if (dfc_catalogue_import(doc, &again, &problems, &err) == -1)
		bug("an export does not import", err.message);
	if (json_array_size(problems) != 0)
		bug("an export imports with problems", json_string_value(
		    json_object_get(json_array_get(problems, 0), "message")));
	if (again.n != d->n || strcmp(catalogue_currency(again.currency),
	    catalogue_currency(d->currency)) != 0)
		bug("round trip changed the catalogue", d->currency);
	for (i = 0; i < d->n; i++)
		same_product(&d->products[i], &again.products[i]);
	catalogue_draft_free(&again);
	json_decref(problems);
	json_decref(doc);
	free(ptrs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct catalogue_draft d;
	struct halle_error err;
	json_t *doc, *problems = NULL;

	doc = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (doc == NULL)
		return 0;
	catalogue_draft_init(&d);
	memset(&err, 0, sizeof(err));
	if (dfc_catalogue_import(doc, &d, &problems, &err) == -1) {
		if (err.message[0] == '\0' || problems != NULL)
			bug("a refused document without a reason", "");
	} else if (d.n > 0)
		round_trip(&d);
	json_decref(problems);
	catalogue_draft_free(&d);
	json_decref(doc);
	return 0;
}
