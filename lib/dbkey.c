/* dbkey: see dbkey.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbkey.h"
#include "ids.h"
#include "key.h"

/* Appends len bytes of part at *n; 0, or -1 when the key would be too long. */
static int
put(char *key, size_t *n, const char *part, size_t len)
{
	if (*n + len >= DBKEY_MAX)
		return -1;
	memcpy(key + *n, part, len);
	*n += len;
	return 0;
}

/*
 * Formats a key, NUL-terminated in a DBKEY_MAX buffer: the length, or 0
 * when it does not fit. Only what keys use: %c, %s and %020llu. Keys are
 * built for every record a node takes in, and vsnprintf was a twentieth
 * of a catch-up's CPU.
 */
static size_t
build(char *key, const char *fmt, ...)
{
	va_list ap;
	const char *s;
	char c, digits[21];
	size_t n = 0;
	int rc = 0;

	va_start(ap, fmt);
	for (; *fmt != '\0' && rc == 0; fmt++) {
		if (*fmt != '%') {
			rc = put(key, &n, fmt, 1);
			continue;
		}
		switch (*++fmt) {
		case 'c':
			c = (char)va_arg(ap, int);
			rc = put(key, &n, &c, 1);
			break;
		case 's':
			s = va_arg(ap, const char *);
			rc = put(key, &n, s, strlen(s));
			break;
		default:	/* "%020llu" */
			snprintf(digits, sizeof(digits), "%020llu",
			    va_arg(ap, unsigned long long));
			rc = put(key, &n, digits, 20);
			fmt += strlen("020llu") - 1;
			break;
		}
	}
	va_end(ap);
	if (rc == -1)
		return 0;
	key[n] = '\0';
	return n;
}

size_t
dbkey_all(char *key, char kind)
{
	return build(key, "%c:", kind);
}

size_t
dbkey_entity(char *key, char kind, const char *id)
{
	return build(key, "%c:%s", kind, id);
}

size_t
dbkey_membership(char *key, char which, const char *market,
    const char *producer)
{
	return build(key, "%c:%s:%s", which, market, producer ? producer : "");
}

size_t
dbkey_order_part(char *key, const char *order, const char *home_hex)
{
	return build(key, "Q:%s:%s", order, home_hex ? home_hex : "");
}

size_t
dbkey_ruling(char *key, const char *order, const char *authority_hex)
{
	return build(key, "C:%s:%s", order, authority_hex ? authority_hex : "");
}

size_t
dbkey_name(char *key, char kind, const char *lower, const char *id)
{
	/* The NUL after the name is part of the key. */
	size_t n = build(key, "n:%c:%s", kind, lower), m;

	if (n == 0 || n + 1 >= DBKEY_MAX)
		return 0;
	n++;
	if (id == NULL)
		return n;
	if (n + (m = strlen(id)) >= DBKEY_MAX)
		return 0;
	memcpy(key + n, id, m + 1);
	return n + m;
}

/* "<k>:a:b:c" with the parts given, stopping at the first NULL (a prefix). */
static size_t
build_parts(char *key, char kind, const char *a, const char *b,
    const char *c)
{
	if (a == NULL)
		return build(key, "%c:", kind);
	if (b == NULL)
		return build(key, "%c:%s:", kind, a);
	if (c == NULL)
		return build(key, "%c:%s:%s:", kind, a, b);
	return build(key, "%c:%s:%s:%s", kind, a, b, c);
}

size_t
dbkey_market_day(char *key, const char *market, const char *date,
    const char *distribution)
{
	return build_parts(key, 'm', market, date, distribution);
}

size_t
dbkey_distribution_order(char *key, const char *distribution,
    const char *order)
{
	return order == NULL ? build(key, "o:%s:", distribution) :
	    build(key, "o:%s:%s", distribution, order);
}

size_t
dbkey_producer_day(char *key, const char *producer, const char *date,
    const char *order)
{
	return build_parts(key, 'y', producer, date, order);
}

size_t
dbkey_ruling_owed(char *key, const char *order)
{
	return build(key, "q:%s", order);
}

size_t
dbkey_fork(char *key, const char *origin_hex, unsigned long long seq)
{
	if (origin_hex == NULL)
		return dbkey_all(key, 'f');
	return build(key, "f:%s:%020llu", origin_hex, seq);
}

size_t
dbkey_fork_origin(char *key, const char *origin_hex)
{
	return build(key, "f:%s:", origin_hex);
}

int
dbkey_fork_parse(const void *key, size_t klen, char *origin_hex,
    unsigned long long *seq)
{
	const char *k = key;
	char digits[21], *end;

	if (klen != 2 + KEY_HEX_LEN + 1 + 20 || k[0] != 'f' || k[1] != ':' ||
	    k[2 + KEY_HEX_LEN] != ':')
		return -1;
	memcpy(digits, k + 2 + KEY_HEX_LEN + 1, 20);
	digits[20] = '\0';
	*seq = strtoull(digits, &end, 10);
	if (*end != '\0')
		return -1;
	if (origin_hex != NULL) {
		memcpy(origin_hex, k + 2, KEY_HEX_LEN);
		origin_hex[KEY_HEX_LEN] = '\0';
	}
	return 0;
}

/* The bytes after the last c of a key, as an id. */
static const char *
tail_after(const void *key, size_t klen, char c, char *id)
{
	const char *k = key;
	size_t i = klen;

	while (i > 0 && k[i - 1] != c)
		i--;
	if (i == 0 || klen - i >= ID_MAX)
		return NULL;
	memcpy(id, k + i, klen - i);
	id[klen - i] = '\0';
	return id;
}

const char *
dbkey_last_id(const void *key, size_t klen, char *id)
{
	return tail_after(key, klen, ':', id);
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

size_t
dbkey_claimed(char *key, const char *node_hex)
{
	return build(key, "z:%s", node_hex);
}

size_t
dbkey_event(char *key, uint64_t id)
{
	int i;

	key[0] = 'e';
	key[1] = ':';
	for (i = 0; i < 8; i++)
		key[2 + i] = (char)(id >> (56 - 8 * i));
	return 10;
}

int
dbkey_event_parse(const void *key, size_t klen, uint64_t *id)
{
	const unsigned char *k = key;
	int i;

	if (klen != 10 || k[0] != 'e' || k[1] != ':')
		return -1;
	for (*id = 0, i = 0; i < 8; i++)
		*id = *id << 8 | k[2 + i];
	return 0;
}

size_t
dbkey_order_said(char *key, const char *order)
{
	return build(key, "l:%s", order);
}

size_t
dbkey_order_touched(char *key, const char *order)
{
	return build(key, "t:%s", order ? order : "");
}

size_t
dbkey_peer_said(char *key, const char *node_hex)
{
	return build(key, "p:%s", node_hex);
}

int
dbkey_is_work(const void *key, size_t klen)
{
	const char *k = key;

	return klen >= 2 && k[1] == ':' && strchr("wxzeltp", k[0]) != NULL &&
	    k[0] != '\0';
}
