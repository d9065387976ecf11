/*
 * ingest: taking in a run of another node's records, as a peer sends them.
 *
 * A run is a contiguous slice of one origin's feed. It is accepted whole or
 * not at all:
 *
 *   - every envelope parses and names the same origin, sequence numbers
 *     follow one another, each record's prev is the hash of the one before
 *     (or of the held record just below the run);
 *   - the part of the run the node already holds must be byte-identical to
 *     what it holds; a different record with a valid signature for a held
 *     (origin, seq) is a fork: both records are kept as proof and the feed
 *     is frozen (nothing more is accepted for it);
 *   - the signature of the last new record is checked, which authenticates
 *     the whole new part through the chain (record.h);
 *   - a fork proof a peer sent (ingest_fork_proof) of a seq beyond the
 *     head: the run is taken in up to the record before the fork, and the
 *     feed is then frozen.
 *
 * The new records are appended to the origin's feed and applied to the
 * views in the caller's write transaction; the caller commits before it
 * acknowledges or relays anything. Whether the origin may be accepted at
 * all (a configured node sharing a grouping) is the caller's decision.
 */
#ifndef HALLE_INGEST_H
#define HALLE_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "node.h"

struct ingest_bytes {
	const uint8_t	*data;
	size_t		 len;
};

enum ingest_result {
	INGEST_OK,		/* new records appended (accepted may be 0) */
	INGEST_GAP,		/* the run starts after head + 1: pull first */
	INGEST_BAD,		/* refused; reason says why; nothing stored */
	INGEST_FORK,		/* fork proven: proof kept, feed frozen */
	INGEST_FROZEN,		/* the feed was frozen before */
};

struct ingest_report {
	enum ingest_result	 result;
	uint64_t		 accepted;	/* new records appended */
	uint64_t		 head_seq;	/* the feed's head afterwards */
	char			 reason[256];
};

/*
 * Offers a run of n envelopes (in sequence order) of the feed of origin.
 * Returns 0 with the outcome in rep (any result), or -1 on a store failure
 * (nt->err filled) after which the transaction must be aborted.
 */
int	ingest_run(struct node_txn *nt, const unsigned char *origin,
	    const struct ingest_bytes *run, size_t n,
	    struct ingest_report *rep);

/*
 * A fork proof from a peer (sync_fork.c): two envelopes that must parse,
 * name one origin and one seq, differ, and both bear the origin's valid
 * signature. Then the proof is kept (INGEST_FORK) and the feed frozen as
 * ingest_run does for a fork it finds; when the node does not hold the
 * feed up to the record before the fork yet, it is frozen once it does.
 * INGEST_FROZEN: the feed was frozen before, or a proof of a fork at that
 * seq or before is held; INGEST_BAD: the proof does not hold. rep->head_seq
 * is unused. Returns 0 with the outcome in rep, or -1 on a store failure
 * (nt->err filled).
 */
int	ingest_fork_proof(struct node_txn *nt, const struct ingest_bytes *first,
	    const struct ingest_bytes *second, struct ingest_report *rep);

/* The fork proofs held: for each, the origin, seq and both envelopes. */
typedef int (*ingest_fork_fn)(const unsigned char *origin, uint64_t seq,
	    const struct ingest_bytes *held, const struct ingest_bytes *other,
	    void *arg);
int	ingest_forks(struct store_txn *t, ingest_fork_fn fn, void *arg);

#endif
