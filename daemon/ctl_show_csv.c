/*
 * ctl_show_csv: the --csv renderers (see ctl.h), for the people who open
 * the lists in a spreadsheet: the pick-up list at the market's table and
 * the producer's order sheet. Each prints a header line, then one line
 * per thing to hand over or prepare, through the CSV writer (ctl_csv.h):
 *
 *   distribution baskets --csv
 *     basket,producer,sku,product,quantity,pending,given
 *     Panier 12,Ferme du Moulin,PAIN-1KG,Pain de campagne,2,no,
 *
 *   sheet --csv
 *     market,town,distribution,state,sku,product,basket,quantity
 *     Marché du samedi,Saint-Jean,ds-…,final,PAIN-1KG,Pain,Panier 12,2
 *
 * "given" is left empty for the volunteer to tick; "pending" says that
 * part of the item still awaits the producer's home. A line is a basket
 * and a product (the pick-up list) or a market, a product and a basket
 * (the sheet): a spreadsheet sums the quantities it needs. Nothing else
 * is printed, so that the output is the file.
 */
#include <stdio.h>

#include <jansson.h>

#include "ctl.h"
#include "ctl_csv.h"

void
csv_baskets(const struct invocation *inv, json_t *list)
{
	static const char *const header[] = { "basket", "producer", "sku",
	    "product", "quantity", "pending", "given" };
	struct ctl_csv	 csv;
	json_t		*b, *it;
	size_t		 i, j;
	char		 quantity[32];

	ctl_csv_init(&csv, stdout, inv->csv_sep);
	ctl_csv_line(&csv, header, nitems(header));
	json_array_foreach(json_object_get(list, "baskets"), i, b)
		json_array_foreach(json_object_get(b, "items"), j, it) {
			const char *line[] = { field_string(b, "label"),
			    field_string(it, "producer_name"),
			    field_string(it, "sku"), field_string(it, "name"),
			    number_format(quantity, sizeof(quantity),
			    json_object_get(it, "quantity")),
			    field_yes(it, "pending"), "" };
			ctl_csv_line(&csv, line, nitems(line));
		}
}

static void
csv_sheet_market(struct ctl_csv *csv, json_t *m)
{
	const char	*state = json_is_true(json_object_get(m, "final")) ?
			    "final" : "provisional";
	json_t		*p, *b;
	size_t		 i, j;
	char		 quantity[32];

	json_array_foreach(json_object_get(m, "products"), i, p)
		json_array_foreach(json_object_get(p, "baskets"), j, b) {
			const char *line[] = { field_string(m, "name"),
			    field_string(m, "town"),
			    field_string(m, "distribution"), state,
			    field_string(p, "sku"), field_string(p, "name"),
			    field_string(b, "label"), number_format(quantity,
			    sizeof(quantity), json_object_get(b,
			    "quantity")) };
			ctl_csv_line(csv, line, nitems(line));
		}
}

void
csv_sheet(const struct invocation *inv, json_t *sheet)
{
	static const char *const header[] = { "market", "town",
	    "distribution", "state", "sku", "product", "basket",
	    "quantity" };
	struct ctl_csv	 csv;
	json_t		*m;
	size_t		 i;

	ctl_csv_init(&csv, stdout, inv->csv_sep);
	ctl_csv_line(&csv, header, nitems(header));
	json_array_foreach(json_object_get(sheet, "markets"), i, m)
		csv_sheet_market(&csv, m);
}
