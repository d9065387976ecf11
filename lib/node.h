/*
 * node: one commune's node: its key, its store, and the single path by which
 * anything is written.
 *
 * Every change is a record appended to the node's own feed. node_mutate()
 * runs an operation inside one LMDB write transaction; the operation calls
 * node_append() for each record it writes, which signs the record, appends
 * it to the feed and applies it to the views (views.h) in that same
 * transaction. The transaction commits durably before node_mutate returns,
 * so an answer sent after it can never be lost by a crash.
 */
#ifndef HALLE_NODE_H
#define HALLE_NODE_H

#include <stdint.h>
#include <time.h>

#include <protobuf-c/protobuf-c.h>

#include "config.h"
#include "error.h"
#include "key.h"
#include "store.h"

struct node {
	const struct halle_config *cfg;
	struct node_key		 key;
	char			 id_hex[KEY_HEX_LEN + 1];
	struct store		*store;
	time_t			 started;
	int64_t			 (*clock_ms)(void);	/* tests may replace it */
	/*
	 * Called after a commit that appended records to the node's own
	 * feed (the daemon uses it to push them to peers). It must not
	 * write to the node itself.
	 */
	void			 (*on_own_append)(void *arg);
	void			*on_own_append_arg;
	/*
	 * Set while the node may not write to its own feed yet (it lost its
	 * store and its peers have not told it how far its feed goes): the
	 * producers' home then queues its rulings on incoming orders instead
	 * of appending them (views_rule_queued rules them later).
	 */
	int			 hold_rulings;
	int			 appended;	/* private to node.c */
};

/* What an operation sees while it runs inside the write transaction. */
struct node_txn {
	struct node		*node;
	struct store_txn	*t;
	int64_t			 now_ms;
	struct halle_error	*err;
};

/*
 * Loads (or creates) the key, sets the time zone and opens the store named
 * by cfg. 0, or -1 with the reason in err.
 */
int	node_open(struct node *n, const struct halle_config *cfg, char *err,
	    size_t errlen);
void	node_close(struct node *n);

int64_t	node_now_ms(const struct node *n);

/* 1 when the node may write to its own feed now, 0 while it may not. */
int	node_may_write(const struct node *n);

/*
 * Runs fn(nt, arg) in a write transaction and commits it durably. fn
 * returns 0 to commit or -1 having filled nt->err. Returns 0 when
 * committed; -1 with err filled otherwise (a store failure is a 500
 * "store_error"). fn may run more than once (see store_write).
 */
typedef int (*node_op_fn)(struct node_txn *nt, void *arg);
int	node_mutate(struct node *n, node_op_fn fn, void *arg,
	    struct halle_error *err);

/*
 * Whether the node is recovering its own feed from its peers, kept in the
 * store so that a restart or a reload in the middle of it does not let the
 * node write (and fork its feed) from a partial copy. node_recovering:
 * 1 or 0. node_set_recovering: 0, or -1 on a store failure.
 */
int	node_recovering(struct node *n);
int	node_set_recovering(struct node *n, int on);

/*
 * Signs a record of the given kind with body msg, appends it to the node's
 * feed and applies it to the views. 0, or -1 with nt->err filled.
 */
int	node_append(struct node_txn *nt, uint32_t kind,
	    const ProtobufCMessage *msg);
/*
 * The same, with the body sealed (seal.h) so that only this node and
 * recipient (an Ed25519 public key; this node's own for a record only it
 * may read) can open it.
 */
int	node_append_sealed(struct node_txn *nt, uint32_t kind,
	    const ProtobufCMessage *msg, const unsigned char *recipient);

#endif
