/*
 * sync_int: what sync.c (bookkeeping: origins, scope, outbox, the wait for
 * the node's own feed, figures), sync_link.c (links, handshake,
 * heartbeats), sync_stream.c (heads, pulls, runs of records) and
 * sync_fork.c (fork proofs) share. Not for other modules.
 *
 * Every configured grouping member, this node and every peer is an
 * "origin" slot, kept sorted by key (the order of the heads digest). A
 * slot's groups is a bitmask of the groupings it belongs to; two nodes
 * share a grouping when their masks meet. For each peer and each origin
 * the engine keeps two streams:
 *
 *   in   this node pulls the origin's feed from the peer
 *   out  the peer pulls the origin's feed from this node
 */
#ifndef HALLE_SYNC_INT_H
#define HALLE_SYNC_INT_H

#include <stdint.h>

#include "feed.h"
#include "peer.pb-c.h"
#include "sync.h"

#define SYNC_MAX_GROUPINGS	64
#define SYNC_BATCH_RECORDS	2048		/* envelopes per RECORDS */
#define SYNC_BATCH_BYTES	(1024 * 1024)	/* ...or about this much */
#define SYNC_MAX_WINDOW		16384		/* largest credit honoured */

struct sync_origin {
	unsigned char	 key[KEY_PUBLIC_LEN];
	uint64_t	 groups;
};

struct stream_in {
	int		 open;		/* a PULL was sent this session */
	int		 confirmed;	/* a RECORDS came since that PULL */
	int		 remote_known;
	uint64_t	 remote_seq;	/* the peer's head, as last heard */
	int64_t		 last_pull_ms;
	int64_t		 last_progress_ms;
};

struct stream_out {
	int		 open;
	int		 confirm;	/* a PULL to answer, if only empty */
	uint64_t	 next_seq;	/* next record to send */
	uint64_t	 limit_seq;	/* last record the credit allows */
	uint64_t	 acked_seq;	/* the peer holds up to here */
	/* Batches sent and not acknowledged: last seq, size, when sent. */
	struct {
		uint64_t	 last_seq;
		size_t		 bytes;
		int64_t		 sent_ms;
	}		 inflight[SYNC_INFLIGHT_BATCHES];
	unsigned	 ninflight;
};

struct sync_peer {
	struct sync_peer_config	 cfg;
	int			 origin;	/* its slot, -1: in no grouping */
	uint64_t		 remote_session;
	int64_t			 last_hello_ms;
	int64_t			 last_ping_ms;
	struct sync_peer_stats	 st;
	int64_t			 flap_window_ms;	/* start of the window */
	unsigned		 flap_changes;	/* state changes in it */
	int			 flapping;	/* changes logged at debug */
	int			 reported_up;	/* sync_links_changed; -1 */
	struct stream_in	*in;		/* one per origin slot */
	struct stream_out	*out;
	size_t			 inflight_bytes;	/* sum over out[] */
	/* records_in, sampled for the rate (a ring; sync_rate_sample) */
	struct {
		int64_t		 at_ms;
		uint64_t	 records;
	}			 rate_samples[SYNC_RATE_SAMPLES];
	unsigned		 nrate_samples, rate_next;
};

struct sync_out {
	struct sync_out	*next;
	int		 peer;
	uint8_t		*buf;
	size_t		 len;
};

struct sync {
	struct node		*node;
	uint64_t		 session;
	uint32_t		 version;
	uint32_t		 min_version;
	int64_t			 heartbeat_ms;
	int64_t			 now;
	struct sync_origin	*origins;
	size_t			 norigins;
	int			 self;
	struct sync_peer	*peers;
	size_t			 npeers;
	struct sync_out		*outbox;
	struct sync_out		**outbox_tail;
};

/* sync.c */
/* Stamps m with both sessions, encodes it and queues it for peer p. */
void	sync_send(struct sync *s, int p, Halle__PeerMessage *m);
/* Notes (and logs) what a peer did wrong; rejected: count it too. */
void	sync_note_error(struct sync *s, int p, int rejected, const char *fmt,
	    ...) __attribute__((format(printf, 4, 5)));
/* The slot of key, or -1. */
int	sync_origin_find(const struct sync *s, const unsigned char *key);
/* 1 when the feed of slot o may travel between this node and peer p. */
int	sync_in_scope(const struct sync *s, int p, int o);
/* Reads the head of every slot into heads (norigins of them); 0 or -1. */
int	sync_heads_load(struct sync *s, struct feed_head *heads);
/*
 * While the node waits for word of its own feed: ends the wait once it is
 * safe, else tells the node whom it waits for. After every message and tick.
 */
void	sync_own_feed_check(struct sync *s);
/* On the tick: samples peer p's records_in for its rate, when it is time. */
void	sync_rate_sample(struct sync *s, int p);

/* sync_stream.c; heads are as sync_heads_load() gives them. */
/* Forgets both streams of every feed with peer p. */
void	sync_stream_reset(struct sync *s, int p);
/* Queues a HEADS of the non-empty feeds p may see. */
void	sync_stream_send_heads(struct sync *s, int p,
	    const struct feed_head *heads);
/* Queues a PULL for every feed both may see, but frozen ones. */
void	sync_stream_open_all(struct sync *s, int p,
	    const struct feed_head *heads);
/* The heads digest of the feeds both may see (docs/protocol.md). */
void	sync_stream_digest(struct sync *s, int p,
	    const struct feed_head *heads, unsigned char digest[32]);
/* Handlers of the messages of the current sessions from peer p. */
void	sync_stream_on_heads(struct sync *s, int p, const Halle__Heads *m);
void	sync_stream_on_pull(struct sync *s, int p, const Halle__Pull *m);
void	sync_stream_on_ack(struct sync *s, int p, const Halle__Ack *m);
void	sync_stream_on_records(struct sync *s, int p,
	    const Halle__Records *m);
/* Pulls again what is unanswered or stalled for a heartbeat. */
void	sync_stream_tick(struct sync *s, int p, const struct feed_head *heads);
/* Sends every UP peer what its credit allows of what this node holds. */
void	sync_stream_pump(struct sync *s);

/* sync_fork.c */
/* Queues for p the fork proofs held of origin (NULL: all) p may see. */
void	sync_fork_send(struct sync *s, int p, const unsigned char *origin);
/* The same, to every UP peer: a fork of origin was just proven. */
void	sync_fork_announce(struct sync *s, const unsigned char *origin);
/* A FORK_PROOF from p: checked, kept, the feed frozen, passed on. */
void	sync_fork_on_proof(struct sync *s, int p, const Halle__ForkProof *m);

#endif
