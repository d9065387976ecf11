/* catalogue: see catalogue.h. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "service.h"

void
catalogue_draft_init(struct catalogue_draft *d)
{
	memset(d, 0, sizeof(*d));
}

void
catalogue_draft_free(struct catalogue_draft *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->products[i].sku);
		free(d->products[i].name);
		free(d->labels[i]);
	}
	free(d->products);
	free(d->labels);
	memset(d, 0, sizeof(*d));
}

static int
draft_grow(struct catalogue_draft *d)
{
	Halle__Product *products;
	char **labels;
	size_t cap = d->cap ? d->cap * 2 : 16;

	if (d->n < d->cap)
		return 0;
	if ((products = realloc(d->products, cap * sizeof(*products))) == NULL)
		return -1;
	d->products = products;
	if ((labels = realloc(d->labels, cap * sizeof(*labels))) == NULL)
		return -1;
	d->labels = labels;
	d->cap = cap;
	return 0;
}

int
catalogue_draft_add(struct catalogue_draft *d, const Halle__Product *p,
    const char *label, struct halle_error *err)
{
	Halle__Product *copy;

	if (draft_grow(d) == -1)
		return error_set(err, HALLE_E_INTERNAL, "out of memory");
	copy = &d->products[d->n];
	*copy = *p;
	copy->sku = strdup(p->sku);
	copy->name = strdup(p->name);
	d->labels[d->n] = strdup(label);
	d->n++;
	if (copy->sku == NULL || copy->name == NULL || d->labels[d->n - 1] ==
	    NULL) {
		error_set(err, HALLE_E_INTERNAL, "out of memory");
		goto drop;
	}
	if (catalogue_check_product(d, d->n - 1, err) == 0)
		return 0;
drop:
	d->n--;
	free(copy->sku);
	free(copy->name);
	free(d->labels[d->n]);
	return -1;
}

static int
valid_sku(const char *s)
{
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("._-/", *s) == NULL)
			return 0;
	return 1;
}

static int
has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static int
check_text(const Halle__Product *p, const char *label, struct halle_error *err)
{
	if (p->sku[0] == '\0')
		return error_set(err, HALLE_E_INVALID_FIELD, "%s: missing 'sku'",
		    label);
	if (strlen(p->sku) > SERVICE_MAX_LABEL)
		return error_set(err, HALLE_E_INVALID_FIELD, "%s: sku '%.32s...' is "
		    "longer than %d bytes", label, p->sku, SERVICE_MAX_LABEL);
	if (!valid_sku(p->sku))
		return error_set(err, HALLE_E_INVALID_FIELD, "%s: sku '%s' may hold "
		    "only letters, digits and . _ - /", label, p->sku);
	if (p->name[0] == '\0')
		return error_set(err, HALLE_E_INVALID_FIELD, "%s: missing 'name'",
		    label);
	if (strlen(p->name) > SERVICE_MAX_NAME)
		return error_set(err, HALLE_E_INVALID_FIELD, "%s: name is longer "
		    "than %d bytes", label, SERVICE_MAX_NAME);
	if (has_control(p->name))
		return error_set(err, HALLE_E_INVALID_FIELD,
		    "%s: name holds a control character", label);
	return 0;
}

static int
check_amounts(const Halle__Product *p, const char *label,
    struct halle_error *err)
{
	if ((unsigned)p->unit > HALLE__UNIT__UNIT_ML)
		return error_set(err, HALLE_E_INVALID_FIELD, "%s: unit is not one of "
		    "piece, kg, g, l, ml", label);
	if (!(p->quantity > 0) || !isfinite(p->quantity) || p->quantity > 1e6)
		return error_set(err, HALLE_E_INVALID_FIELD, "%s: quantity must be a "
		    "number above 0", label);
	if (p->price_cents > SERVICE_MAX_PRICE)
		return error_set(err, HALLE_E_OVERFLOW, "%s: price_cents %llu is "
		    "over %lld", label, (unsigned long long)p->price_cents,
		    SERVICE_MAX_PRICE);
	if (p->vat_bp > 10000)
		return error_set(err, HALLE_E_INVALID_FIELD,
		    "%s: vat_bp must be from 0 to 10000", label);
	if (p->limited && p->stock_per_day > SERVICE_MAX_STOCK)
		return error_set(err, HALLE_E_OVERFLOW, "%s: stock_per_day %llu is "
		    "over %lld", label, (unsigned long long)p->stock_per_day,
		    SERVICE_MAX_STOCK);
	return 0;
}

int
catalogue_check_product(const struct catalogue_draft *d, size_t i,
    struct halle_error *err)
{
	const Halle__Product *p = &d->products[i];
	const char *label = d->labels[i];
	size_t j;

	if (i >= SERVICE_MAX_PRODUCTS)
		return error_set(err, HALLE_E_INVALID_FIELD, "more than %d products",
		    SERVICE_MAX_PRODUCTS);
	if (check_text(p, label, err) == -1 ||
	    check_amounts(p, label, err) == -1)
		return -1;
	for (j = 0; j < i; j++)
		if (strcmp(d->products[j].sku, p->sku) == 0)
			return error_set(err, HALLE_E_INVALID_FIELD, "%s: sku '%s' "
			    "appears twice", label, p->sku);
	return 0;
}

int
catalogue_check_draft(const struct catalogue_draft *d, struct halle_error *err)
{
	size_t i;

	if (catalogue_check_currency(d->currency, err) == -1)
		return -1;
	for (i = 0; i < d->n; i++)
		if (catalogue_check_product(d, i, err) == -1)
			return -1;
	if (d->version_given && d->version > SERVICE_MAX_VERSION)
		return error_set(err, HALLE_E_INVALID_FIELD, "'version' %llu is "
		    "over the last version there is (%lld)",
		    (unsigned long long)d->version, SERVICE_MAX_VERSION);
	return 0;
}

static int
capital(char c)
{
	return c >= 'A' && c <= 'Z';
}

int
catalogue_check_currency(const char *code, struct halle_error *err)
{
	if (code[0] == '\0' || (strlen(code) == 3 && capital(code[0]) &&
	    capital(code[1]) && capital(code[2])))
		return 0;
	return error_set(err, HALLE_E_INVALID_FIELD, "currency '%s' is not an ISO "
	    "4217 code such as EUR", code);
}

const char *
catalogue_currency(const char *code)
{
	return code != NULL && code[0] != '\0' ? code :
	    CATALOGUE_CURRENCY_DEFAULT;
}
