/*
 * catalogue: a catalogue on its way to being published, and the rules each
 * of its products must meet.
 *
 * Two doors lead to a new catalogue version: the JSON route
 * (service_json_read_catalogue() reads the body) and the DFC importer
 * (dfc_import.c maps a JSON-LD graph). Both fill the same typed draft,
 * and every product enters it through catalogue_draft_add(), which checks
 * it against the rules below; both then publish through
 * service_catalogue_publish() (service.h), which checks the whole draft
 * again (catalogue_check_draft) before it takes the store's write lock,
 * and there applies the rules that need the store (the producer is this
 * node's, the version is newer). No rule is written twice:
 *
 *   JSON body ----service_json.c--\
 *                                  +--> catalogue_draft --> service_
 *   DFC document --dfc_import.c---/     (each product       catalogue_
 *                                        checked on add)    publish()
 *                                                           --> record
 *
 * Nothing here touches the store: the fuzzer and the importer use it bare.
 */
#ifndef HALLE_CATALOGUE_H
#define HALLE_CATALOGUE_H

#include <stddef.h>
#include <stdint.h>

#include "bodies.pb-c.h"
#include "error.h"

#define CATALOGUE_CURRENCY_DEFAULT	"EUR"

struct catalogue_draft {
	uint64_t	 version;	/* asked for, when version_given */
	int		 version_given;	/* else one more than the one held */
	char		 currency[4];	/* ISO 4217; "" stands for EUR */
	Halle__Product	*products;	/* strings owned by the draft */
	char		**labels;	/* how messages name each product */
	size_t		 n, cap;
};

void	catalogue_draft_init(struct catalogue_draft *d);
void	catalogue_draft_free(struct catalogue_draft *d);

/*
 * Appends a copy of p (its strings copied) named label in messages
 * ("products[3]", "product https://..."), once catalogue_check_product()
 * accepts it; otherwise the draft is unchanged. 0, or -1 with err filled.
 */
int	catalogue_draft_add(struct catalogue_draft *d, const Halle__Product *p,
	    const char *label, struct halle_error *err);

/*
 * The rules on product i of d: a sku of letters, digits and . _ - / (at
 * most SERVICE_MAX_LABEL bytes) not used by an earlier product, a name
 * (at most SERVICE_MAX_NAME bytes, no control characters), a known unit,
 * a quantity above 0 and at most 1e6, price, VAT and stock within their
 * bounds, and no more than SERVICE_MAX_PRODUCTS products. 0, or -1 with
 * err filled (invalid_field or overflow) and the message naming the
 * product by its label.
 */
int	catalogue_check_product(const struct catalogue_draft *d, size_t i,
	    struct halle_error *err);

/*
 * The rules on the whole of d, whichever door filled it: its currency,
 * each product (catalogue_check_product), and a version asked for at most
 * SERVICE_MAX_VERSION. 0, or -1 with err filled.
 */
int	catalogue_check_draft(const struct catalogue_draft *d,
	    struct halle_error *err);

/* 0 when code is an ISO 4217 code (three capital letters) or ""; -1, err. */
int	catalogue_check_currency(const char *code, struct halle_error *err);

/* The currency of a catalogue or draft as shown: "EUR" for "". */
const char *catalogue_currency(const char *code);

#endif
