/*
 * stock: the one owner of a producer's day stock, and of the rights that
 * let a market's node confirm part of it without the producer's home.
 *
 * A limited product has stock_per_day units on each day. The producer's
 * home node is the authority for them, but a market cut off from the home
 * must go on confirming. So the home hands out *rights* (escrow, a bounded
 * counter split among replicas):
 *
 *        home H (reserve)                    market node N (market M)
 *   GRANT  total 8 to M  ------ H's feed ----->  may confirm 8 of sku S
 *                                               confirms 5 locally: the
 *                                               order part says so
 *          <----- N's feed ---  RIGHTS_WANTED   (running low)
 *   GRANT  total 10, recall                     ...
 *          <----- N's feed ---  RELEASE 5       (the window closed)
 *   reserve += 5 once read
 *
 * Every count is kept per (producer, date, sku, market) in one row, struct
 * stock_rights, rebuilt from the feeds like any view. The rules that keep
 * what is confirmed across all nodes at or under the stock, whatever the
 * partitions and crashes:
 *
 *  - the home's view: stock >= taken + sum over markets of held, where
 *    taken is what its own rulings confirmed and held = granted - released
 *    (or used, if a market used more); it rules pending lines and grants
 *    only from what is left;
 *  - a market's node confirms only from its own rights: used <= granted
 *    - released as it knows them, each confirmation a durable record;
 *  - grants and give-backs are running totals that never go down; a
 *    give-back counts at the home only once it has read it, so the home
 *    never counts a right twice; a grant is never revoked;
 *  - a node that confirms beyond its rights signed the proof itself: the
 *    home sees it from the feeds, lists it in its status and stops granting
 *    to it.
 *
 * How much each market gets (stock_policy_shares): in proportion to what
 * it confirmed of the product on the same weekday over the last four
 * weeks, an even share for a market without history, keeping
 * stock_reserve_percent (default 20) at the home.
 */
#ifndef HALLE_STOCK_H
#define HALLE_STOCK_H

#include <stddef.h>
#include <stdint.h>

#include "bodies.pb-c.h"
#include "node.h"
#include "record.h"
#include "store.h"

/* One market's rights on one (producer, date, sku). */
struct stock_rights {
	uint64_t	 granted;	/* by the home, running total */
	uint64_t	 recall;	/* asked back by the home, running total */
	uint64_t	 released;	/* given back by the market's node */
	uint64_t	 wanted;	/* asked for by the market's node */
	uint64_t	 used;		/* confirmed from them (where readable) */
};

/* What a market's node holds: granted - released, or used if more. */
uint64_t stock_rights_held(const struct stock_rights *r);
/* What it may still confirm: granted - released - used, at least 0. */
uint64_t stock_rights_free(const struct stock_rights *r);

/* Reads a row's value as stored under a rights key: 0, or -1. */
int	stock_rights_decode(const void *val, size_t vlen,
	    struct stock_rights *r);

/* 0 and *r (zeroes when the row is absent), or -1 on a store error. */
int	stock_rights_get(struct store_txn *t, const char *producer,
	    const char *date, const char *sku, const char *market,
	    struct stock_rights *r);

/* What the home's own rulings confirmed of a sku on a date. */
uint64_t stock_taken(struct store_txn *t, const char *producer,
	    const char *date, const char *sku);
/* The sum of held over every market's rights on (producer, date, sku). */
uint64_t stock_held_by_markets(struct store_txn *t, const char *producer,
	    const char *date, const char *sku);

/*
 * How much of a request the home may confirm from its reserve: all of it
 * when unlimited, else what is left of per_day once taken and held are
 * counted. Pure.
 */
uint64_t stock_available(int limited, uint64_t per_day, uint64_t committed,
	    uint64_t requested);

/*
 * Adds (sign 1) or takes back (sign -1) what a ruling of this node
 * confirmed, to the taken counters. 0 or -1.
 */
int	stock_taken_add(struct store_txn *t, const Halle__Confirmation *c,
	    int sign);

/*
 * Applies a GRANT, RELEASE or RIGHTS_WANTED record: checks that its origin
 * may write it (the producer's home grants, the market's node releases
 * and asks), then raises the running totals. 0, or -1 on a store error.
 */
int	stock_apply_rights(struct node_txn *nt, const struct record *r,
	    const Halle__StockRights *sr);

/*
 * Moves the used counters when part, an order part of distribution d,
 * replaces held (NULL when new): what held confirmed locally is given back,
 * what part confirms is taken. At the producer's home, checks the market's
 * node stayed within its rights. 0 or -1.
 */
int	stock_apply_usage(struct node_txn *nt, const Halle__Distribution *d,
	    const Halle__Order *held, const Halle__Order *part,
	    const unsigned char *market_node);

/* A cancelled day gives back what part confirmed locally. 0 or -1. */
int	stock_cancel_usage(struct node_txn *nt, const Halle__Distribution *d,
	    const Halle__Order *part, const unsigned char *market_node);

/*
 * At the market's node, placing or changing an order: how much of line
 * this node confirms itself. prev is the same line in the version being
 * replaced (NULL when new); p the product (NULL when no longer in the
 * catalogue). Lines whose producer has this node as home get 0: it rules
 * on them at once.
 */
uint64_t stock_confirm_locally(struct node_txn *nt,
	    const Halle__Distribution *d, const Halle__OrderLine *line,
	    const Halle__OrderLine *prev, const Halle__Product *p);

/*
 * After an order at the market's node: asks the home for more rights
 * (RIGHTS_WANTED) where a line could not be confirmed in full or the
 * rights left run low. 0 or -1.
 */
int	stock_want_more(struct node_txn *nt, const Halle__Distribution *d,
	    const Halle__Order *o);

/*
 * Gives back the rights of market on date that no order used (the
 * market's window closed, or its day was cancelled). 0 or -1.
 */
int	stock_release_market(struct node_txn *nt, const char *market,
	    const char *date);

/*
 * Stock work, run by the daemon's chores: the home grants rights for the
 * days it learns of and tops up or recalls on request; a market's node
 * gives back what its home recalls. Returns the number of records written,
 * or -1 with err filled. stock_work_due says, from a read snapshot, whether
 * there is anything to do (1), so that an idle node does not write.
 */
int	stock_work_due(struct node *n, struct store_txn *t);
int	stock_work(struct node_txn *nt);

/*
 * At the home, after a new catalogue of producer: its days from today on
 * with rights are due for stock work (a raised stock serves what markets
 * asked for). 0 or -1.
 */
int	stock_catalogue_changed(struct node_txn *nt, const char *producer);

/*
 * Calls fn for each (date from today on, sku) of producer on which
 * markets hold rights, with the sum held. 0 or -1.
 */
typedef void (*stock_held_fn)(const char *date, const char *sku,
	    uint64_t held, void *arg);
int	stock_held_from(struct store_txn *t, const char *producer,
	    const char *today, stock_held_fn fn, void *arg);

/*
 * At the producer's home, when a part of order o (of distribution d,
 * written by market_node) is applied: rules on the lines of its producers
 * that the market's node did not confirm itself, and appends the ruling.
 * force rules again a version already ruled on (a cancelled day). While
 * the node may not write, the ruling is queued instead. 0 or -1.
 */
int	stock_rule_order(struct node_txn *nt, const Halle__Order *o,
	    const Halle__Distribution *d, const unsigned char *market_node,
	    int force);
/* Rules on the orders whose ruling was queued. 0 or -1. */
int	stock_rule_queued(struct node_txn *nt);

/* Shares of a stock among markets (stock.c explains the policy). */
struct stock_share {
	uint64_t	 history;	/* confirmed on the same weekday, 4 weeks */
	uint64_t	 share;		/* out: what to grant */
};
void	stock_policy_shares(uint64_t stock, unsigned reserve_percent,
	    struct stock_share *markets, size_t n);

/* 1 when node (32-byte key) confirmed beyond its rights, as seen here. */
int	stock_overuser(struct store_txn *t, const unsigned char *node);

#endif
