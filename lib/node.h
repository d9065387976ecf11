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
 *
 * node_append() is also the write gate: it appends only while the node
 * knows that its store holds the whole of its own feed, so that it never
 * signs a second record for a sequence number it already used (a fork).
 * The node's write state says whether it does:
 *
 *   open, key created with the store --> WRITABLE  (genesis mark)
 *   open, own records in the store   --> WRITABLE
 *   open, key but no feed, no mark   --> RECOVERING (a lost store)
 *   open, store from a backup        --> RESTORED   (backup mark)
 *
 *   RECOVERING --(every peer it dials has told its head)--> WRITABLE
 *   RESTORED   --(a peer has told its head)---------------> WRITABLE
 *   any        --(a fork of its own feed is proven)-------> OWN_FEED_FORKED
 *
 * The sync engine (sync.h) learns the heads and calls node_own_feed_whole();
 * a fork found by ingest.c, or read at open, freezes the state for good.
 * The marks live in the store's meta database, so a restart in the middle
 * of a wait goes on waiting. A node with no peer configured has nobody to
 * wait for: it is writable unless its feed is forked.
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

enum node_write_state {
	NODE_WRITABLE = 0,	/* appends to its own feed */
	NODE_RECOVERING,	/* lost its store: waits for its peers */
	NODE_RESTORED,		/* from a backup: waits for a peer */
	NODE_OWN_FEED_FORKED,	/* its own feed is frozen by a fork */
};

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
	 * Called after a commit that appended to the event log (events.h),
	 * under the same rule.
	 */
	void			 (*on_events)(void *arg);
	void			*on_events_arg;
	/* Private to node.c: read them with the functions below. */
	enum node_write_state	 write_state;
	char			 awaited[256];	/* peers waited for */
	int			 appended;
	int			 own_fork;	/* proven in this txn */
	int			 events_added;	/* in this txn (events.c) */
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
/*
 * For halled --verify: opens the key and the store as they are, and
 * writes nothing to the store (no write state read into it, no event, no
 * mark of a backup's first start taken). Neither is made when missing:
 * there is nothing to verify. 0, or -1 with the reason in err; then
 * node_close.
 */
int	node_open_to_verify(struct node *n, const struct halle_config *cfg,
	    char *err, size_t errlen);
void	node_close(struct node *n);

int64_t	node_now_ms(const struct node *n);


/*
 * Runs fn(nt, arg) in a write transaction and commits it durably, with
 * the events of what fn changed (events_flush). fn returns 0 to commit
 * or -1 having filled nt->err. Returns 0 when committed; -1 with err
 * filled otherwise (a store failure is a 500 "store_error"). fn may run
 * more than once (see store_write).
 */
typedef int (*node_op_fn)(struct node_txn *nt, void *arg);
int	node_mutate(struct node *n, node_op_fn fn, void *arg,
	    struct halle_error *err);

/*
 * Loads the key for --show-id: when the key file does not exist, creates
 * the key and the store, with the genesis mark, together (as node_open
 * does), and removes the key again if the store cannot be made. 0, or -1
 * with the reason in err. n is only good for its key and id_hex after.
 */
int	node_identity(struct node *n, const struct halle_config *cfg,
	    char *err, size_t errlen);

/* 1 when node_append may append to the node's own feed now, else 0. */
int	node_may_write(const struct node *n);
enum node_write_state node_write_state(const struct node *n);
/* "writable", "recovering", "restored", "own_feed_forked". */
const char *node_write_state_name(enum node_write_state state);
/*
 * 0 when the node may write; else -1 with err (when not NULL) filled with
 * HALLE_E_RECOVERING (recovering, restored) or HALLE_E_OWN_FEED_FORKED
 * and a message saying why and what is awaited.
 */
int	node_write_refusal(const struct node *n, struct halle_error *err);

/*
 * For the sync engine. node_set_awaited: the peers the node waits for, in
 * words ("b, c"), for the refusal's message. node_own_feed_whole: the
 * peers have told the node how far its own feed goes and it holds that
 * much: the wait is over, the marks are replaced by the genesis mark and
 * the node is writable. 0, or -1 on a store failure (it goes on waiting).
 * Nothing happens unless the node is recovering or restored.
 */
void	node_set_awaited(struct node *n, const char *peers);
int	node_own_feed_whole(struct node *n);
/* For ingest.c: a fork of this node's own feed is being proven in nt. */
void	node_note_own_fork(struct node_txn *nt);

/*
 * Copies the store into the empty directory dir (store_backup) and marks
 * the copy as restored: a node started from it waits for a peer's word on
 * its own feed before it writes, and its event log starts again at its
 * first start (events_restart, with the time of that start: each copy
 * restored gives ids of its own). 0, or -1 with the reason in err.
 */
int	node_backup(struct node *n, const char *dir, char *err,
	    size_t errlen);

/*
 * Signs a record of the given kind with body msg, appends it to the node's
 * feed and applies it to the views. 0, or -1 with nt->err filled; refused
 * as node_write_refusal() says while the node may not write.
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
