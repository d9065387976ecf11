/* dbkey: see dbkey.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dbkey.h"
#include "ids.h"

/* snprintf into a DBKEY_MAX buffer: the length, or 0 when it does not fit. */
static size_t
build(char *key, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(key, DBKEY_MAX, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= DBKEY_MAX)
		return 0;
	return (size_t)n;
}

size_t
dbkey_stock_taken(char *key, const char *producer, const char *date,
    const char *sku)
{
	return build(key, "s:%s:%s:%s", producer, date, sku);
}

size_t
dbkey_rights(char *key, const char *producer, const char *date,
    const char *sku, const char *market)
{
	size_t n = dbkey_rights_sku(key, producer, date, sku);
	size_t m = strlen(market);

	if (n == 0 || n + m >= DBKEY_MAX)
		return 0;
	memcpy(key + n, market, m + 1);
	return n + m;
}

size_t
dbkey_rights_sku(char *key, const char *producer, const char *date,
    const char *sku)
{
	/* The NUL that ends the sku is part of the key. */
	size_t n = build(key, "r:%s:%s:%s", producer, date, sku);

	return n == 0 || n + 1 >= DBKEY_MAX ? 0 : n + 1;
}

size_t
dbkey_rights_day(char *key, const char *producer, const char *date)
{
	return build(key, "r:%s:%s:", producer, date);
}

size_t
dbkey_rights_producer(char *key, const char *producer)
{
	return build(key, "r:%s:", producer);
}

int
dbkey_rights_parse(const void *key, size_t klen, char *date, char *sku,
    char *market)
{
	const char *k = key, *end = k + klen, *p, *nul;

	/* r:<producer>:<date>:<sku>\0<market> */
	if (klen < 2 || memcmp(k, "r:", 2) != 0 ||
	    (p = memchr(k + 2, ':', klen - 2)) == NULL || end - p < 12 ||
	    p[11] != ':')
		return -1;
	if (date != NULL) {
		memcpy(date, p + 1, 10);
		date[10] = '\0';
	}
	p += 12;
	if ((nul = memchr(p, '\0', (size_t)(end - p))) == NULL ||
	    nul - p >= DBKEY_SKU_MAX || end - nul - 1 >= ID_MAX)
		return -1;
	memcpy(sku, p, (size_t)(nul - p));
	sku[nul - p] = '\0';
	memcpy(market, nul + 1, (size_t)(end - nul - 1));
	market[end - nul - 1] = '\0';
	return 0;
}

size_t
dbkey_stock_due(char *key, const char *producer, const char *date)
{
	return build(key, "w:%s:%s", producer, date);
}

int
dbkey_stock_due_parse(const char *key, size_t klen, char *producer,
    char *date)
{
	const char *colon;
	size_t plen;

	if (klen < 2 + 1 + 1 + 10 || memcmp(key, "w:", 2) != 0)
		return -1;
	colon = memchr(key + 2, ':', klen - 2);
	if (colon == NULL || (plen = (size_t)(colon - key - 2)) >= ID_MAX ||
	    key + klen - colon - 1 != 10)
		return -1;
	memcpy(producer, key + 2, plen);
	producer[plen] = '\0';
	memcpy(date, colon + 1, 10);
	date[10] = '\0';
	return 0;
}

size_t
dbkey_overuser(char *key, const char *node_hex)
{
	return build(key, "x:%s", node_hex);
}

int
dbkey_is_work(const void *key, size_t klen)
{
	const char *k = key;

	return klen >= 2 && k[1] == ':' && (k[0] == 'w' || k[0] == 'x');
}
