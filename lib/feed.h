/*
 * feed: the append-only logs of records, one per origin node, in the store.
 *
 * A feed head says how far a feed goes: its last sequence number, the hash
 * of its last record, that record's time, and whether the feed is frozen
 * (a fork was proven). Appending checks the chain; nothing else writes to
 * the records database.
 */
#ifndef HALLE_FEED_H
#define HALLE_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "key.h"
#include "record.h"
#include "store.h"

#define FEED_FROZEN	0x1

struct feed_head {
	uint64_t	 seq;		/* 0: empty feed */
	unsigned char	 hash[RECORD_HASH_LEN];
	int64_t		 time_ms;
	uint32_t	 flags;
};

/* 0 and the head (seq 0 when the feed is empty), or -1 on a store error. */
int	feed_head(struct store_txn *t, const unsigned char *origin,
	    struct feed_head *head);

/*
 * Appends a parsed record whose exact bytes are buf/len at the end of its
 * origin's feed: r must follow the current head. 0, or -1 (the store's
 * sticky error, or a broken chain when t->ret is still 0).
 */
int	feed_append(struct store_txn *t, const struct record *r,
	    const uint8_t *buf, size_t len);

/*
 * For a run already checked against the head (ingest.c): stores the
 * records one by one with feed_put_record, then moves the head once to the
 * last of them with feed_set_head. 0 or -1 (sticky store error).
 */
int	feed_put_record(struct store_txn *t, const struct record *r,
	    const uint8_t *buf, size_t len);
int	feed_set_head(struct store_txn *t, const struct record *last);

/*
 * Marks a feed frozen: feed_append refuses it from then on; a feed not held
 * yet gets an empty, frozen head. 0 or -1.
 */
int	feed_freeze(struct store_txn *t, const unsigned char *origin);

/* The stored bytes of (origin, seq): 0, 1 when absent, -1 on error. */
int	feed_get(struct store_txn *t, const unsigned char *origin,
	    uint64_t seq, const void **buf, size_t *len);

/* Calls fn for each feed head held. */
typedef int (*feed_each_fn)(const unsigned char *origin,
	    const struct feed_head *head, void *arg);
int	feed_each(struct store_txn *t, feed_each_fn fn, void *arg);

/*
 * Checks a whole feed: every record parses, follows the previous one, bears
 * a valid signature of its origin, and the last one is the head. 0, or -1
 * with what is wrong (and where) in err.
 */
int	feed_verify(struct store_txn *t, const unsigned char *origin,
	    char *err, size_t errlen);

/*
 * The same, calling progress(checked, arg) every FEED_VERIFY_STEP records
 * checked and once at the end of a feed found good, with how many of the
 * feed's records are checked; for a progress bar.
 */
#define FEED_VERIFY_STEP	256
typedef void (*feed_progress_fn)(uint64_t checked, void *arg);
int	feed_verify_progress(struct store_txn *t, const unsigned char *origin,
	    feed_progress_fn progress, void *arg, char *err, size_t errlen);

#endif
