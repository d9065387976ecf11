/*
 * service_json: the control API's JSON bodies read into typed requests.
 * See service_json.h; the answers are rendered in service_json_render.c.
 *
 * A reader takes its body field by field, in the order the API has always
 * checked them: of two bad fields, the one named is the one named before.
 * Nothing here reads the store; the tests run the readers bare.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "service_json.h"
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

/*
 * The normal form of the name s into out (room for strlen(s) + 1 bytes):
 * spaces trimmed at both ends, each inner run made one ' '.
 */
static void
name_normalise(const char *s, char *out)
{
	const char *p, *start;
	char *w;
	int space = 0;

	for (w = out, p = s; *p != '\0'; ) {
		start = p;
		if (char_space(utf8_next(&p))) {
			space = w != out;
			continue;
		}
		if (space)
			*w++ = ' ';
		space = 0;
		memcpy(w, start, (size_t)(p - start));
		w += p - start;
	}
	*w = '\0';
}

/*
 * A string field: absent or null gives "" unless required. Refuses other
 * types, an empty required value, more than maxlen bytes, control
 * characters (C0, DEL, C1) and the bidirectional formatting characters
 * (U+202E...), naming the field and the character. *out points into body.
 */
static int
field_string(json_t *body, const char *field, int required, size_t maxlen,
    const char **out, struct halle_error *err)
{
	json_t *v = json_object_get(body, field);
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

/* An integer field; *present says whether it was given (not null). */
static int
field_integer(json_t *body, const char *field, int *present, long long *out,
    struct halle_error *err)
{
	json_t *v = json_object_get(body, field);

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

/* A string field, as field_string, copied into out (size bytes). */
static int
field_copy(json_t *body, const char *field, int required, char *out,
    size_t size, struct halle_error *err)
{
	const char *s;

	if (field_string(body, field, required, size - 1, &s, err) == -1)
		return -1;
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

/* A name field, as field_string, normalised into out (size bytes). */
static int
field_name(json_t *body, const char *field, int required, char *out,
    size_t size, struct halle_error *err)
{
	const char *s;

	if (field_string(body, field, required, size - 1, &s, err) == -1)
		return -1;
	name_normalise(s, out);
	if (required && out[0] == '\0')
		return error_set(err, HALLE_E_INVALID_FIELD, "'%s' holds only spaces",
		    field);
	return 0;
}

/* An integer field from min to max, def when absent, into *out. */
static int
field_bounded(json_t *body, const char *field, long long def, long long min,
    long long max, uint32_t *out, struct halle_error *err)
{
	long long v;
	int present;

	if (field_integer(body, field, &present, &v, err) == -1)
		return -1;
	if (!present)
		v = def;
	if (v < min || v > max)
		return error_set(err, HALLE_E_INVALID_FIELD,
		    "'%s' must be from %lld to %lld", field, min, max);
	*out = (uint32_t)v;
	return 0;
}

/* Producers */

int
service_json_read_producer(json_t *body, struct service_producer_request *r,
    struct halle_error *err)
{
	memset(r, 0, sizeof(*r));
	if (field_name(body, "name", 1, r->name, sizeof(r->name), err) == -1 ||
	    field_name(body, "farm", 0, r->farm, sizeof(r->farm), err) == -1 ||
	    field_name(body, "town", 0, r->town, sizeof(r->town), err) == -1 ||
	    field_copy(body, "email", 0, r->email, sizeof(r->email),
	    err) == -1 ||
	    field_copy(body, "phone", 0, r->phone, sizeof(r->phone), err) == -1)
		return -1;
	return 0;
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

/* err, as a field reader filled it, said of product i: "products[i]: ". */
static int
product_error(size_t i, struct halle_error *err)
{
	char inner[sizeof(err->message)];

	snprintf(inner, sizeof(inner), "%s", err->message);
	return error_set(err, err->code, "products[%zu]: %s", i, inner);
}

/* The sku, name (normalised into name) and unit of product i. */
static int
product_names(json_t *j, size_t i, Halle__Product *p,
    char name[SERVICE_MAX_NAME + 1], struct halle_error *err)
{
	const char *unit;

	if (field_string(j, "sku", 1, SERVICE_MAX_LABEL, (const char **)&p->sku,
	    err) == -1 || field_name(j, "name", 1, name, SERVICE_MAX_NAME + 1,
	    err) == -1 || field_string(j, "unit", 0, 8, &unit, err) == -1)
		return product_error(i, err);
	p->name = name;
	if (unit[0] != '\0' && parse_unit(unit) == -1)
		return error_set(err, HALLE_E_INVALID_FIELD, "products[%zu]: unit "
		    "'%s' is not one of piece, kg, g, l, ml", i, unit);
	p->unit = unit[0] ? parse_unit(unit) : HALLE__UNIT__UNIT_PIECE;
	return 0;
}

/* The quantity, price, VAT, organic flag and stock of product i. */
static int
product_amounts(json_t *j, size_t i, Halle__Product *p,
    struct halle_error *err)
{
	json_t *q;
	long long v;
	int present;

	p->quantity = 1;
	if ((q = json_object_get(j, "quantity")) != NULL && !json_is_null(q)) {
		if (!json_is_number(q))
			return error_set(err, HALLE_E_INVALID_FIELD, "products[%zu]: "
			    "quantity must be a number above 0", i);
		p->quantity = json_number_value(q);
	}
	if (field_integer(j, "price_cents", &present, &v, err) == -1)
		return product_error(i, err);
	if (!present)
		return error_set(err, HALLE_E_INVALID_FIELD,
		    "products[%zu]: missing 'price_cents'", i);
	if (v < 0)
		return error_set(err, HALLE_E_INVALID_FIELD,
		    "products[%zu]: price_cents must not be negative", i);
	p->price_cents = (uint64_t)v;
	if (field_integer(j, "vat_bp", &present, &v, err) == -1)
		return product_error(i, err);
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
	if (field_integer(j, "stock_per_day", &present, &v, err) == -1)
		return product_error(i, err);
	if (present && v < 0)
		return error_set(err, HALLE_E_INVALID_FIELD,
		    "products[%zu]: stock_per_day must not be negative", i);
	p->limited = present;
	p->stock_per_day = present ? (uint64_t)v : 0;
	return 0;
}

/*
 * Product i of the body into the draft. Only what JSON can get wrong is
 * checked here (types, and values a product cannot hold); the rules are
 * catalogue_check_product's, which catalogue_draft_add applies.
 */
static int
product_read(json_t *j, size_t i, struct catalogue_draft *d,
    struct halle_error *err)
{
	char name[SERVICE_MAX_NAME + 1], label[32];
	Halle__Product p;

	if (!json_is_object(j))
		return error_set(err, HALLE_E_INVALID_FIELD,
		    "products[%zu] must be an object", i);
	halle__product__init(&p);
	if (product_names(j, i, &p, name, err) == -1 ||
	    product_amounts(j, i, &p, err) == -1)
		return -1;
	snprintf(label, sizeof(label), "products[%zu]", i);
	return catalogue_draft_add(d, &p, label, err);
}

int
service_json_read_catalogue(json_t *body, struct catalogue_draft *d,
    struct halle_error *err)
{
	const char *currency;
	long long version;
	json_t *list;
	size_t i;
	int present;

	if (field_integer(body, "version", &present, &version, err) == -1 ||
	    field_string(body, "currency", 0, 16, &currency, err) == -1 ||
	    catalogue_check_currency(currency, err) == -1)
		return -1;
	d->version_given = present;
	d->version = present && version > 0 ? (uint64_t)version : 0;
	memcpy(d->currency, currency, strlen(currency) + 1);
	list = json_object_get(body, "products");
	if (!json_is_array(list))
		return error_set(err, HALLE_E_INVALID_FIELD,
		    "'products' must be an array");
	if (json_array_size(list) > SERVICE_MAX_PRODUCTS)
		return error_set(err, HALLE_E_INVALID_FIELD,
		    "more than %d products", SERVICE_MAX_PRODUCTS);
	for (i = 0; i < json_array_size(list); i++)
		if (product_read(json_array_get(list, i), i, d, err) == -1)
			return -1;
	return 0;
}

/* Markets */

/* A market's weekly schedule: weekday, from and to, all or none. */
static int
market_schedule(json_t *body, struct service_market_request *r,
    struct halle_error *err)
{
	const char *weekday, *from, *to;
	int wd;

	if (field_string(body, "weekday", 0, 8, &weekday, err) == -1 ||
	    field_string(body, "from", 0, 8, &from, err) == -1 ||
	    field_string(body, "to", 0, 8, &to, err) == -1)
		return -1;
	if (!weekday[0] && !from[0] && !to[0])
		return 0;
	if (!weekday[0] || !from[0] || !to[0])
		return error_set(err, HALLE_E_INVALID_FIELD,
		    "'weekday', 'from' and 'to' go together");
	if ((wd = timeutil_parse_weekday(weekday)) == -1)
		return error_set(err, HALLE_E_INVALID_FIELD, "weekday '%s' is not one "
		    "of sun mon tue wed thu fri sat", weekday);
	if (timeutil_parse_hhmm(from, &r->from_min) == -1 ||
	    timeutil_parse_hhmm(to, &r->to_min) == -1)
		return error_set(err, HALLE_E_INVALID_FIELD,
		    "'from' and 'to' must be times as HH:MM");
	if (r->from_min >= r->to_min)
		return error_set(err, HALLE_E_BAD_DATES, "the market starts at %s, "
		    "not before it ends at %s", from, to);
	r->scheduled = 1;
	r->weekday = (uint32_t)wd;
	return 0;
}

int
service_json_read_market(json_t *body, struct service_market_request *r,
    struct halle_error *err)
{
	memset(r, 0, sizeof(*r));
	if (field_name(body, "name", 1, r->name, sizeof(r->name), err) == -1 ||
	    field_name(body, "place", 1, r->place, sizeof(r->place),
	    err) == -1 ||
	    field_name(body, "town", 1, r->town, sizeof(r->town), err) == -1 ||
	    market_schedule(body, r, err) == -1 ||
	    field_bounded(body, "opens_days", 7, 1, 60, &r->opens_days,
	    err) == -1 ||
	    field_bounded(body, "closes_hours", 36, 0, 720, &r->closes_hours,
	    err) == -1)
		return -1;
	return 0;
}

int
service_json_read_membership(json_t *body, const char **producer,
    struct halle_error *err)
{
	json_t *v = json_object_get(body, "producer");

	if (!json_is_string(v))
		return error_set(err, HALLE_E_INVALID_FIELD, "missing 'producer'");
	*producer = json_string_value(v);
	return 0;
}

/* Distributions */

int
service_json_read_distribution(json_t *body,
    struct service_distribution_request *r, struct halle_error *err)
{
	const char *date, *from, *to, *opens, *closes;

	memset(r, 0, sizeof(*r));
	if (field_copy(body, "market", 1, r->market, sizeof(r->market),
	    err) == -1 ||
	    field_string(body, "date", 1, 16, &date, err) == -1 ||
	    field_string(body, "from", 0, 8, &from, err) == -1 ||
	    field_string(body, "to", 0, 8, &to, err) == -1 ||
	    field_string(body, "opens", 0, 40, &opens, err) == -1 ||
	    field_string(body, "closes", 0, 40, &closes, err) == -1)
		return -1;
	if (timeutil_parse_date(date, &r->day) == -1)
		return error_set(err, HALLE_E_BAD_DATES, "'%s' is not a date as "
		    "YYYY-MM-DD", date);
	memcpy(r->date, date, sizeof(r->date));	/* 10 bytes and NUL */
	r->from_given = from[0] != '\0';
	r->to_given = to[0] != '\0';
	if ((r->from_given && timeutil_parse_hhmm(from, &r->from_min) == -1) ||
	    (r->to_given && timeutil_parse_hhmm(to, &r->to_min) == -1))
		return error_set(err, HALLE_E_INVALID_FIELD,
		    "'from' and 'to' must be times as HH:MM");
	r->opens_given = opens[0] != '\0';
	r->closes_given = closes[0] != '\0';
	if (r->opens_given && timeutil_parse_instant(opens, &r->opens) == -1)
		return error_set(err, HALLE_E_INVALID_FIELD, "'opens' must be an "
		    "ISO 8601 instant such as 2026-12-03T20:00:00+01:00");
	if (r->closes_given && timeutil_parse_instant(closes,
	    &r->closes) == -1)
		return error_set(err, HALLE_E_INVALID_FIELD, "'closes' must be an "
		    "ISO 8601 instant such as 2026-12-03T20:00:00+01:00");
	return 0;
}

int
service_json_read_schedule(json_t *body, struct service_schedule_request *r,
    struct halle_error *err)
{
	return field_bounded(body, "weeks", 4, 1, 52, &r->weeks, err);
}

/* Orders */

static int
order_line_read(json_t *j, size_t i, struct service_order_line *l,
    struct halle_error *err)
{
	long long qty;
	int present;

	if (!json_is_object(j))
		return error_set(err, HALLE_E_INVALID_FIELD,
		    "lines[%zu] must be an object", i);
	if (field_copy(j, "producer", 1, l->producer, sizeof(l->producer),
	    err) == -1 ||
	    field_copy(j, "sku", 1, l->sku, sizeof(l->sku), err) == -1 ||
	    field_integer(j, "quantity", &present, &qty, err) == -1)
		return -1;
	if (!present)
		return error_set(err, HALLE_E_INVALID_FIELD,
		    "lines[%zu]: missing 'quantity'", i);
	if (qty <= 0)
		return error_set(err, HALLE_E_BAD_QUANTITY, "lines[%zu]: quantity "
		    "%lld of %s must be at least 1", i, qty, l->sku);
	if (qty > SERVICE_MAX_QUANTITY)
		return error_set(err, HALLE_E_OVERFLOW, "lines[%zu]: quantity "
		    "%lld of %s is over %lld", i, qty, l->sku,
		    SERVICE_MAX_QUANTITY);
	l->quantity = (uint64_t)qty;
	return 0;
}

int
service_json_read_order_lines(json_t *body, struct service_order_lines *l,
    struct halle_error *err)
{
	json_t *list = json_object_get(body, "lines");
	size_t i, n;

	memset(l, 0, sizeof(*l));
	if (!json_is_array(list) || json_array_size(list) == 0)
		return error_set(err, HALLE_E_INVALID_FIELD,
		    "'lines' must be a non-empty array");
	if ((n = json_array_size(list)) > SERVICE_MAX_LINES)
		return error_set(err, HALLE_E_INVALID_FIELD,
		    "more than %d lines", SERVICE_MAX_LINES);
	if ((l->line = calloc(n, sizeof(*l->line))) == NULL)
		return error_set(err, HALLE_E_INTERNAL, "out of memory");
	l->n = n;
	for (i = 0; i < n; i++)
		if (order_line_read(json_array_get(list, i), i, &l->line[i],
		    err) == -1) {
			service_json_lines_free(l);
			return -1;
		}
	return 0;
}

int
service_json_read_order(json_t *body, struct service_order_request *r,
    struct halle_error *err)
{
	memset(r, 0, sizeof(*r));
	if (field_copy(body, "distribution", 1, r->distribution,
	    sizeof(r->distribution), err) == -1 ||
	    field_name(body, "basket", 1, r->basket, sizeof(r->basket),
	    err) == -1 ||
	    field_name(body, "mediator", 0, r->mediator, sizeof(r->mediator),
	    err) == -1)
		return -1;
	return service_json_read_order_lines(body, &r->lines, err);
}

void
service_json_lines_free(struct service_order_lines *l)
{
	free(l->line);
	memset(l, 0, sizeof(*l));
}

/* The node */

int
service_json_read_backup(json_t *body, struct service_backup_request *r,
    struct halle_error *err)
{
	if (field_copy(body, "path", 1, r->path, sizeof(r->path), err) == -1)
		return -1;
	if (r->path[0] != '/')
		return error_set(err, HALLE_E_INVALID_FIELD, "'path' must be an "
		    "absolute path, got '%s'", r->path);
	return 0;
}
