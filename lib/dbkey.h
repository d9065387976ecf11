/*
 * dbkey: builds the keys of the store's views and index databases.
 *
 * As Knot's knot_lmdb_make_key, this is the one place that knows how a key
 * is laid out, so that the module that writes a key and the one that reads
 * or checks it (views.c, stock.c, verify.c) cannot drift apart. A key is a
 * kind letter, a colon and its parts; a part that may hold any byte (a
 * sku) ends with a NUL instead of a colon, so that no sku is the prefix of
 * another's key. Every builder writes at most DBKEY_MAX bytes, returns the
 * key's length, and 0 when a part is too long (the caller then has no key:
 * nothing from outside may have such a part, ids being bounded by ID_MAX).
 *
 * Stock (stock.h):
 *
 *   s:<producer>:<date>:<sku>          u64: taken by the home's own rulings
 *   r:<producer>:<date>:<sku>\0<market> struct stock_rights of one market
 *   w:<producer>:<date>                stock work due (grants, give-backs)
 *   x:<node hex>                       a node that confirmed beyond its rights
 */
#ifndef HALLE_DBKEY_H
#define HALLE_DBKEY_H

#include <stddef.h>

#define DBKEY_MAX	512
#define DBKEY_SKU_MAX	65	/* a sku and its NUL */

size_t	dbkey_stock_taken(char *key, const char *producer, const char *date,
	    const char *sku);
size_t	dbkey_rights(char *key, const char *producer, const char *date,
	    const char *sku, const char *market);
/* The prefix of every market's rights on (producer, date, sku). */
size_t	dbkey_rights_sku(char *key, const char *producer, const char *date,
	    const char *sku);
/* The prefix of every right on (producer, date). */
size_t	dbkey_rights_day(char *key, const char *producer, const char *date);
/*
 * The date (11 bytes; may be NULL), sku and market of a rights key
 * (DBKEY_SKU_MAX, ID_MAX bytes); 0 or -1.
 */
int	dbkey_rights_parse(const void *key, size_t klen, char *date,
	    char *sku, char *market);
/* The prefix of every right on a producer, all dates. */
size_t	dbkey_rights_producer(char *key, const char *producer);
size_t	dbkey_stock_due(char *key, const char *producer, const char *date);
/* Parses a due key into producer and date (ID_MAX and 11 bytes); 0 or -1. */
int	dbkey_stock_due_parse(const char *key, size_t klen, char *producer,
	    char *date);
size_t	dbkey_overuser(char *key, const char *node_hex);

/*
 * 1 when an index key is not a projection of the feeds alone but work
 * waiting (w:) or a finding that depends on the order records were read
 * in (x:), so that rebuilding the views from the feeds (verify.c) need
 * not give it back; else 0.
 */
int	dbkey_is_work(const void *key, size_t klen);

#endif
