/*
 * events: the node's event log, which a commune's website follows
 * (GET /v1/events; docs/control-api.md, "Events", lists the types and
 * their fields).
 *
 * An event says that something a website cares about changed on this
 * node: an order placed, changed or cancelled; a line of an order
 * confirmed, refused or pending again; a distribution opened, closed or
 * cancelled; a catalogue published; a peer's link up or down; the node's
 * write state. It is appended in the write transaction of the change
 * itself, whether the change came through this node's API or in a record
 * from a peer: a change and its event commit together, and after a crash
 * both are there or neither is.
 *
 *   views.c, applying a record:
 *     events_catalogue, events_distribution --------------------+
 *     events_order_touched: t:<order> ---+                      |
 *   node_mutate, before it commits:      |                      |
 *     events_flush: each order touched,  v                      v
 *     what changed since l:<order> ---------------------> e:<id> "type\0json"
 *   node.c: events_write_state; events_peers (daemon) --------^
 *
 *   reader: events_read(after) -> a "gap" if events were lost, then
 *           every event after `after`, in id order
 *
 * Ids go up by one from each event to the next. The store's meta
 * database keeps the last id given and the floor, and every id in
 * (floor, last] is held: a reader that resumes after the last id it saw
 * gets each later event exactly once. A reader whose cursor is below the
 * floor has lost events (pruned beyond events_keep, or named by the log
 * of a store since restored from a backup or rebuilt from the peers): it
 * gets a "gap" first, so that it knows to read the current state again.
 * A restored or rebuilt store starts its ids again beyond the time in
 * microseconds, past any id the store it replaces can have given, so
 * that no id ever names two different events.
 *
 * Only what this node holds and can read makes an event: an order's
 * events come at the market's node and at the home of its producers, not
 * at a relay that cannot open it.
 */
#ifndef HALLE_EVENTS_H
#define HALLE_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "bodies.pb-c.h"
#include "error.h"
#include "node.h"

/*
 * What one event may hold. A string in an event is put there by
 * events_text: valid UTF-8 (each byte that is not part of a valid
 * sequence becomes U+FFFD), and at most its bound, cut at a character and
 * ending with "\u2026" (an ellipsis) when longer: an id at ID_MAX - 1
 * bytes, a basket or a sku at the API's label bound, a reason or a name
 * at EVENTS_TEXT_MAX. An event whose JSON would pass EVENTS_MAX_BYTES all
 * the same is cut down to its id, type, time, numbers, booleans and
 * strings of a label's length at most, with "truncated": true. A peer's
 * content never fails the transaction that applies it.
 */
#define EVENTS_LABEL_MAX	64	/* SERVICE_MAX_LABEL: basket, sku */
#define EVENTS_TEXT_MAX		128	/* SERVICE_MAX_NAME: reasons, names */
#define EVENTS_MAX_BYTES	8192	/* one event's JSON */

#define EVENTS_KEEP_DEFAULT	100000	/* events kept: config events_keep */
#define EVENTS_KEEP_MAX		100000000
#define EVENTS_PRUNE_BATCH	20000	/* events deleted per transaction */

struct sync;

/*
 * Appends an event of type (a name of docs/control-api.md) whose JSON
 * holds id, type, at (the transaction's time) and the members of fields,
 * which the call takes (fields NULL: out of memory), at most
 * EVENTS_MAX_BYTES (cut down past it, as said above). 0, or -1 with
 * nt->err filled (a store failure is sticky in the transaction).
 */
int	events_append(struct node_txn *nt, const char *type, json_t *fields);

/*
 * s (NULL: "") as a JSON string for an event: valid UTF-8, at most max
 * bytes (3 to EVENTS_TEXT_MAX), as said above. NULL when out of memory.
 */
json_t	*events_text(const char *s, size_t max);

/*
 * For views.c, once the record is applied. events_catalogue: a catalogue
 * was published. events_distribution: d replaced held (NULL: new): opened,
 * closed, cancelled. events_order_touched: a part of the order or a
 * ruling on it changed; its events come at events_flush. 0 or -1.
 */
int	events_catalogue(struct node_txn *nt, const Halle__Catalogue *c);
int	events_distribution(struct node_txn *nt, const Halle__Distribution *held,
	    const Halle__Distribution *d);
int	events_order_touched(struct node_txn *nt, const char *order);

/*
 * For node_mutate, before it commits: for each order touched in the
 * transaction, its event (placed, changed, cancelled) when the log has
 * not said it yet, then one for each line whose state or confirmed
 * quantity is not what the log last said. A line of a new order that is
 * pending says nothing (the order's event says it), nor does a line of a
 * cancelled order or distribution (the cancellation says it). 0, or -1
 * with nt->err filled.
 */
int	events_flush(struct node_txn *nt);

/*
 * An event node.write_state when state is not what the log last said.
 * 0 or -1.
 */
int	events_write_state(struct node_txn *nt, enum node_write_state state);

/*
 * The store was restored from a backup or is rebuilt after it was lost:
 * its ids start again past now_ms in microseconds, and every cursor
 * before is below the floor.
 */
void	events_restart(struct store_txn *t, int64_t now_ms);

/*
 * For the daemon, after the sync engine ran: events peer.up and peer.down
 * for the links that changed since the last call (sync_links_changed),
 * when the log said otherwise, in one write transaction. Failures are
 * logged.
 */
void	events_peers(struct node *n, struct sync *s);

/*
 * Deletes, in one transaction, up to EVENTS_PRUNE_BATCH of the oldest
 * events beyond the keep newest, and those below the floor. The number
 * deleted, or -1 with err filled.
 */
long	events_prune(struct node *n, uint64_t keep, struct halle_error *err);

/*
 * The cursor a reader starts after: last_event_id (a request's
 * Last-Event-ID), else since (?since=), each NULL when absent; with
 * neither, the last event's id (only new events); since is not read when
 * last_event_id is given. A cursor is a whole number, 0 meaning before
 * the first event; one that is not, or is past the last id given, is
 * invalid_field naming it. 0, or -1 with err filled.
 */
int	events_cursor(struct node *n, const char *last_event_id,
	    const char *since, uint64_t *after, struct halle_error *err);

/*
 * Calls fn for the events after `after`, in id order: first a "gap" (id:
 * the floor) when after is below the floor, then each event held. type
 * and json (len bytes, not NUL-terminated) last until the transaction
 * ends. fn returns 0 to go on, 1 to stop. 0, or -1 on a store failure.
 */
typedef int (*events_fn)(uint64_t id, const char *type, const char *json,
	    size_t len, void *arg);
int	events_read(struct store_txn *t, uint64_t after, events_fn fn,
	    void *arg);

/* The last id given, 0 when none; -1 on a store failure. */
int	events_last(struct store_txn *t, uint64_t *last);

/*
 * The JSON of the event that ends a stream the node drops: the cursor to
 * resume after and why. To free(); NULL when out of memory.
 */
char	*events_dropped_json(uint64_t after, const char *why);

#endif
