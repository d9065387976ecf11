/*
 * service: the node's operations, as the control API offers them: a typed
 * request in, a JSON answer out.
 *
 * A request with a body is a struct below, read from the route's JSON body
 * and checked field by field before any transaction (service_json.h): the
 * rules here take it as it is and check only what depends on the store
 * (names taken, owners, versions, stock, order windows). A C caller that
 * fills a request itself keeps to the bounds each field states. On a
 * refusal a function returns NULL with err filled (a stable code and a
 * message that names the field and the reason) and the store is unchanged.
 * A function that changes something commits its records durably before it
 * returns the answer. The daemon's HTTP layer (daemon/api.c) only reads
 * bodies and routes to these, so every rule here is tested without a
 * socket:
 *
 *   JSON body --service_json_read_*()--> struct service_*_request
 *             (syntax, bounds, names         |
 *              normalised; no store)         v
 *                                  service_*() --node_mutate()--> records
 *                                  (the rules that need the store)
 */
#ifndef HALLE_SERVICE_H
#define HALLE_SERVICE_H

#include <stdint.h>

#include <jansson.h>

#include "error.h"
#include "ids.h"
#include "node.h"
#include "timeutil.h"

#define SERVICE_MAX_NAME	128
#define SERVICE_MAX_LABEL	64
#define SERVICE_MAX_QUANTITY	1000000LL
#define SERVICE_MAX_PRICE	100000000LL
#define SERVICE_MAX_STOCK	1000000000LL
#define SERVICE_MAX_LINES	200
#define SERVICE_MAX_PRODUCTS	2000
/*
 * The last version an entity may reach: 2^53 - 1, the largest integer that
 * every JSON reader (JavaScript's numbers included) keeps exact. Versions
 * count from 1 and each change adds one; a catalogue may jump ahead.
 */
#define SERVICE_MAX_VERSION	9007199254740991LL

json_t	*service_status(struct node *n, struct halle_error *err);
json_t	*service_feeds(struct node *n, struct halle_error *err);
/*
 * Up to count (at most 1000) records of the feed of origin (64 hex) from
 * sequence from on: [{"seq", "hash", "envelope"}], the envelope being the
 * exact stored bytes in base64, so copies on two nodes can be compared.
 */
json_t	*service_feed_records(struct node *n, const char *origin, long long from,
	    long long count, struct halle_error *err);

/*
 * A producer to register at this node, its home (POST /v1/producers):
 * names as service_json.h normalises them, "" where not given.
 */
struct service_producer_request {
	char	name[SERVICE_MAX_NAME + 1];	/* not empty */
	char	farm[SERVICE_MAX_NAME + 1];
	char	town[SERVICE_MAX_NAME + 1];
	char	email[SERVICE_MAX_NAME + 1];
	char	phone[SERVICE_MAX_LABEL + 1];
};
json_t	*service_producer_add(struct node *n,
	    const struct service_producer_request *r, struct halle_error *err);
json_t	*service_producer_list(struct node *n, struct halle_error *err);
json_t	*service_producer_show(struct node *n, const char *producer,
	    struct halle_error *err);
/*
 * Publishes draft (catalogue.h), filled from a JSON body
 * (service_json_read_catalogue) or a DFC document, as the producer's new
 * catalogue version: the draft is checked whole (catalogue_check_draft)
 * before any transaction, then the producer must be this node's own and
 * the version newer than the one held. With dry_run, checks the same and
 * writes nothing: the answer is then the catalogue that would be
 * published (200). Answers the catalogue, with "held_by_markets" when
 * published.
 */
struct catalogue_draft;
json_t	*service_catalogue_publish(struct node *n, const char *producer,
	    const struct catalogue_draft *draft, int dry_run,
	    struct halle_error *err);
json_t	*service_catalogue_show(struct node *n, const char *producer,
	    struct halle_error *err);

/*
 * DFC (docs/dfc.md). service_catalogue_import publishes the catalogue of the
 * JSON-LD document doc as the producer's new version, by the rules of
 * service_catalogue_publish. A product the mapping refuses stops the
 * import (its error names the product's @id and the field) unless
 * skip_invalid; dry_run publishes nothing. Answers {"dry_run",
 * "published", "catalogue", "problems": [{"id", "field", "code",
 * "message"}]}: the problems are the products left out.
 */
json_t	*service_catalogue_import(struct node *n, const char *producer,
	    json_t *doc, int skip_invalid, int dry_run,
	    struct halle_error *err);
/* The producer's current catalogue as a DFC document. */
json_t	*service_catalogue_export(struct node *n, const char *producer,
	    struct halle_error *err);
/*
 * The producer's orders at a distribution as a DFC document: each order
 * with lines of the producer, its confirmed lines (Held while the sheet
 * is not final, Complete once it is), and cancelled ones (Cancelled).
 */
json_t	*service_orders_export(struct node *n, const char *distribution,
	    const char *producer, struct halle_error *err);

/*
 * A market of this node (POST /v1/markets). With a weekly schedule, its
 * distributions can be opened from it (service_distribution_schedule);
 * orders open opens_days (1 to 60) days before a distribution starts and
 * close closes_hours (0 to 720) hours before.
 */
struct service_market_request {
	char		 name[SERVICE_MAX_NAME + 1];	/* none empty */
	char		 place[SERVICE_MAX_NAME + 1];
	char		 town[SERVICE_MAX_NAME + 1];
	int		 scheduled;
	uint32_t	 weekday;		/* 0 Sunday to 6 Saturday */
	uint32_t	 from_min, to_min;	/* from midnight, from < to */
	uint32_t	 opens_days, closes_hours;
};
json_t	*service_market_add(struct node *n,
	    const struct service_market_request *r, struct halle_error *err);
json_t	*service_market_list(struct node *n, struct halle_error *err);
json_t	*service_market_show(struct node *n, const char *market,
	    struct halle_error *err);
/* which: 'I' invitation (the market's word), 'A' acceptance (the producer's). */
json_t	*service_market_membership(struct node *n, const char *market,
	    char which, const char *producer, int active,
	    struct halle_error *err);

/*
 * A distribution to open at a market of this node, named or given by its
 * id (POST /v1/distributions), on day (date, as text, is the same day).
 * The times not given are the market's: from and to its weekly schedule
 * (a market without one needs both), orders opening now and closing the
 * market's closes_hours before the start.
 */
struct service_distribution_request {
	char			 market[SERVICE_MAX_NAME + 1];
	char			 date[11];	/* YYYY-MM-DD */
	struct civil_date	 day;
	int			 from_given, to_given;
	uint32_t		 from_min, to_min;	/* from midnight */
	int			 opens_given, closes_given;
	time_t			 opens, closes;	/* orders */
};
json_t	*service_distribution_open(struct node *n,
	    const struct service_distribution_request *r,
	    struct halle_error *err);
/*
 * Opens the distributions of a market's next weeks (1 to 52) from its
 * weekly schedule, skipping days that have one or whose order window is
 * over (POST /v1/markets/M/schedule). Answers those it opened.
 */
struct service_schedule_request {
	uint32_t	weeks;
};
json_t	*service_distribution_schedule(struct node *n, const char *market,
	    const struct service_schedule_request *r, struct halle_error *err);
json_t	*service_distribution_list(struct node *n, const char *market,
	    struct halle_error *err);
json_t	*service_distribution_show(struct node *n, const char *id,
	    struct halle_error *err);
json_t	*service_distribution_cancel(struct node *n, const char *id,
	    struct halle_error *err);

/*
 * The lines of an order: 1 to SERVICE_MAX_LINES, each a product of a
 * producer that sells at the distribution's market, quantity 1 to
 * SERVICE_MAX_QUANTITY. That a producer sells there, has the sku and is
 * not ordered twice (by id or by name) are the rules' to check.
 */
struct service_order_line {
	char		 producer[SERVICE_MAX_NAME + 1];	/* or id */
	char		 sku[SERVICE_MAX_LABEL + 1];
	uint64_t	 quantity;
};
struct service_order_lines {
	struct service_order_line	*line;
	size_t				 n;
};

/*
 * An order placed at a distribution of this node while its window is
 * open (POST /v1/orders): basket a normalised label, not empty; mediator
 * a normalised name, "" when none.
 */
struct service_order_request {
	char				 distribution[ID_MAX];
	char				 basket[SERVICE_MAX_LABEL + 1];
	char				 mediator[SERVICE_MAX_NAME + 1];
	struct service_order_lines	 lines;
};
json_t	*service_order_place(struct node *n,
	    const struct service_order_request *r, struct halle_error *err);
/* The order's lines become lines (PUT /v1/orders/O), window open. */
json_t	*service_order_change(struct node *n, const char *id,
	    const struct service_order_lines *lines, struct halle_error *err);
json_t	*service_order_cancel(struct node *n, const char *id,
	    struct halle_error *err);
json_t	*service_order_show(struct node *n, const char *id,
	    struct halle_error *err);
json_t	*service_order_list(struct node *n, const char *distribution,
	    struct halle_error *err);

/*
 * The pick-up list of a distribution: per basket label (sorted), the
 * orders and what to hand over, producer by producer, confirmed
 * quantities only: {"distribution", "market", "market_name", "date",
 * "cancelled", "lines_pending", "baskets": [{"label", "orders": [ids],
 * "items": [{"producer", "producer_name", "sku", "name", "quantity",
 * "pending"}]}]}. "pending" marks a line partly confirmed and still
 * awaiting its home; lines_pending counts lines awaiting one.
 */
json_t	*service_distribution_baskets(struct node *n, const char *id,
	    struct halle_error *err);

json_t	*service_sheet(struct node *n, const char *producer, const char *date,
	    struct halle_error *err);

/*
 * Marks closed each distribution of this node's markets whose order
 * window has closed: a record that tells the producers' home nodes they
 * have heard every order of it (their sheets become final). The daemon
 * calls it every few seconds. Returns how many it marked, or -1 (err).
 */
int	service_close_due(struct node *n, struct halle_error *err);

/*
 * Rules on the orders whose ruling waited while the node could not write
 * its own feed (node.h, node_may_write). 0, or -1 (err); nothing while it
 * still may not write. The daemon calls it on its timer.
 */
int	service_rule_pending(struct node *n, struct halle_error *err);

/*
 * The stock work of stock.h (grants, top-ups, recalls, give-backs), when
 * there is any: the number of records written, or -1 (err). The daemon
 * calls it on its timer.
 */
int	service_stock_work(struct node *n, struct halle_error *err);

/*
 * A producer's stock on a date, as this node knows it:
 * {"producer", "date", "products": [{"sku", "stock", "reserve",
 *  "markets": [{"market", "node", "granted", "released", "confirmed",
 *  "free"}]}]}. The home knows every count; a market's node knows the
 * grants and its own markets' confirmations ("confirmed" is null where
 * it cannot read them).
 */
json_t	*service_stock(struct node *n, const char *producer, const char *date,
	    struct halle_error *err);

/*
 * The orders held: orders not cancelled and their lines by the state the
 * order route shows (pending, confirmed, refused), and the cancelled
 * orders; the stock rights of this node's markets; findings about other
 * nodes. Part of struct service_status.
 */
struct service_order_counts {
	uint64_t	 orders, cancelled;
	uint64_t	 lines_pending, lines_confirmed, lines_refused;
	uint64_t	 lines_confirmed_locally;	/* of lines_confirmed */
	/* Stock rights of this node's markets: held (granted less given
	 * back) and still free to confirm; nodes seen overusing theirs. */
	uint64_t	 rights_held, rights_free, overusers;
	/* Records refused for claiming an id another node owns. */
	uint64_t	 ids_claimed;
};

/*
 * The node's status, as one read snapshot gives it: what GET /v1/status
 * answers (service_status_json renders it) and /metrics counts, each
 * rendered from this struct. The peers' part is the daemon's (peers.h).
 */
struct service_status {
	const char		*id;		/* 64 hex */
	const char		*name, *version, *timezone;
	int64_t			 uptime_s;
	uint64_t		 records, feeds;	/* held, all feeds */
	size_t			 bytes, map_bytes;	/* the LMDB file */
	struct service_order_counts	 orders;	/* scans every order */
	int			 writable;
	enum node_write_state	 write_state;
	char			 write_reason[512];	/* "" when writable */
};
int	service_status_get(struct node *n, struct service_status *st,
	    struct halle_error *err);
json_t	*service_status_json(const struct service_status *st);

/*
 * Writes a compacted, consistent copy of the store into r->path: an
 * absolute path to a directory that does not exist or is empty (409
 * backup_target_exists otherwise). The node goes on running; the copy is
 * one read snapshot, marked as restored (node_backup): a node started from
 * it takes no writes until a peer has told it how far its own feed went.
 * Answers {"path", "bytes"}.
 */
#define SERVICE_MAX_PATH	4080	/* the store's file names follow */
struct service_backup_request {
	char	path[SERVICE_MAX_PATH + 1];	/* absolute */
};
json_t	*service_backup(struct node *n,
	    const struct service_backup_request *r, struct halle_error *err);

#endif
