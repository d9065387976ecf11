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
 * Views (views.h): an entity under "<kind>:<id>", the origin's key first
 * in its value:
 *
 *   P:<producer>  K:<producer> (catalogue)  M:<market>  D:<distribution>
 *   O:<order> (the parts held, merged)      Q:<order>:<home hex> (a part)
 *   I:<market>:<producer> (invitation)      A:<market>:<producer> (acceptance)
 *   C:<order>:<authority hex> (a home's ruling)
 *
 * Index (views.h, ingest.h):
 *
 *   n:<P|M>:<lowercase name>\0<id>      names
 *   m:<market>:<date>:<distribution>    a market's days
 *   o:<distribution>:<order>            a distribution's orders
 *   y:<producer>:<date>:<order>         orders touching a producer's day
 *   q:<order>                           a ruling this node owes
 *   f:<origin hex>:<seq, 20 digits>     a fork's proof
 *
 * Stock (stock.h):
 *
 *   s:<producer>:<date>:<sku>          u64: taken by the home's own rulings
 *   r:<producer>:<date>:<sku>\0<market> struct stock_rights of one market
 *   w:<producer>:<date>                stock work due (grants, give-backs)
 *   x:<node hex>                       a node that confirmed beyond its rights
 *
 * Findings:
 *
 *   z:<node hex>                       u64: records of that node claiming
 *                                      an id another node owns
 *
 * Events (events.h):
 *
 *   e:<id, 8 bytes big-endian>         an event of the log, in id order
 *   l:<order>                          what the log last said of an order
 *                                      and its lines
 *   t:<order>                          an order changed in the write
 *                                      transaction under way
 *   p:<node hex>                       what the log last said of a peer
 */
#ifndef HALLE_DBKEY_H
#define HALLE_DBKEY_H

#include <stddef.h>
#include <stdint.h>

#define DBKEY_MAX	512
#define DBKEY_SKU_MAX	65	/* a sku and its NUL */

/* "<kind>:", the prefix of every key of a kind. */
size_t	dbkey_all(char *key, char kind);
/* An entity of the views: kind P, K, M, D or O. */
size_t	dbkey_entity(char *key, char kind, const char *id);
/* which: 'I' invitation, 'A' acceptance; producer NULL: the prefix. */
size_t	dbkey_membership(char *key, char which, const char *market,
	    const char *producer);
/* authority_hex NULL: the prefix of every home's part of the order. */
size_t	dbkey_order_part(char *key, const char *order, const char *home_hex);
size_t	dbkey_ruling(char *key, const char *order, const char *authority_hex);
/* id NULL: the prefix of every entity of that name (with its NUL). */
size_t	dbkey_name(char *key, char kind, const char *lower, const char *id);
/* Any part NULL ends the key there, as a prefix. */
size_t	dbkey_market_day(char *key, const char *market, const char *date,
	    const char *distribution);
size_t	dbkey_distribution_order(char *key, const char *distribution,
	    const char *order);
size_t	dbkey_producer_day(char *key, const char *producer, const char *date,
	    const char *order);
size_t	dbkey_ruling_owed(char *key, const char *order);
/* origin_hex NULL: the prefix of every fork proof. */
size_t	dbkey_fork(char *key, const char *origin_hex, unsigned long long seq);
/* The prefix of every fork proof of one feed. */
size_t	dbkey_fork_origin(char *key, const char *origin_hex);
/*
 * The origin (KEY_HEX_LEN + 1 bytes; may be NULL) and seq of a fork
 * proof's key; 0 or -1.
 */
int	dbkey_fork_parse(const void *key, size_t klen, char *origin_hex,
	    unsigned long long *seq);
/* The id after a key's last colon, into id (ID_MAX); NULL when none. */
const char *dbkey_last_id(const void *key, size_t klen, char *id);

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
size_t	dbkey_claimed(char *key, const char *node_hex);

/* An event; the prefix of every event is dbkey_all(key, 'e'). */
size_t	dbkey_event(char *key, uint64_t id);
/* The id of an event's key; 0, or -1 when it is not one. */
int	dbkey_event_parse(const void *key, size_t klen, uint64_t *id);
size_t	dbkey_order_said(char *key, const char *order);
/* order NULL: the prefix of every order touched. */
size_t	dbkey_order_touched(char *key, const char *order);
size_t	dbkey_peer_said(char *key, const char *node_hex);

/*
 * 1 when an index key is not a projection of the feeds alone but work
 * waiting (w:, t:), a finding that depends on the order records were read
 * in (x:, z:) or the event log and what it said (e:, l:, p:), so that
 * rebuilding the views from the feeds (verify.c) need not give it back;
 * else 0.
 */
int	dbkey_is_work(const void *key, size_t klen);

#endif
