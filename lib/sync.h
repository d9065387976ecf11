/*
 * sync: the peer protocol of one node, as a state machine that touches no
 * socket ("sans-IO").
 *
 * The daemon (or the simulator in tests/sim) owns the links. It tells the
 * engine what happens: a link to a peer is up or gone, a message arrived,
 * time passed, the node appended records of its own. The engine answers
 * with messages to send, queued in an outbox the caller drains, and with
 * store operations it performs itself on the node (reads in read
 * transactions, runs of records through node_mutate() and ingest_run()).
 *
 *   caller                     sync engine                      node/LMDB
 *   ------                     -----------                      ---------
 *   sync_on_connect(p)    -->  HELLO to p (outbox)
 *   sync_on_message(p,m)  -->  HEADS/PULL/RECORDS/ACK/...  <-->  feed_head,
 *   sync_on_tick(now)     -->  heartbeats, retries              feed_get,
 *   sync_local_appended() -->  push own records live            node_mutate
 *   sync_next_output()    <--  (peer, bytes)
 *
 * The protocol itself (messages, states, flow control, relay and grouping
 * rules) is written down in docs/protocol.md.
 *
 * Groupings decide reach: the engine sends a peer the feed of an origin
 * only when that origin shares a grouping with the peer, and it accepts a
 * run only when its origin is a configured node sharing a grouping with
 * this node. A run is acknowledged and relayed only after node_mutate()
 * returned, that is once it is durable.
 */
#ifndef HALLE_SYNC_H
#define HALLE_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "key.h"
#include "node.h"

#define SYNC_PROTOCOL_VERSION	1
#define SYNC_MAX_MESSAGE	(8 * 1024 * 1024)  /* one encoded message */
#define SYNC_MAX_RUN		4096	/* envelopes in one RECORDS */
/*
 * Bytes of RECORDS a sender has in flight to one peer (sent, not yet
 * acknowledged), all feeds together, and batches per feed: the credit
 * counts records, these bound the memory a catch-up of large records may
 * hold in the sockets of both ends.
 */
#define SYNC_INFLIGHT_BYTES	(4 * 1024 * 1024)
#define SYNC_INFLIGHT_BATCHES	8
#define SYNC_WINDOW		8192	/* records a peer may send unacknowledged */
#define SYNC_NAME_MAX		64
/*
 * The rate of records taken from a peer is a moving average: the count is
 * sampled on the tick at most every SYNC_RATE_SAMPLE_MS, and the rate is
 * what came since the oldest of the last SYNC_RATE_SAMPLES samples (about
 * the last 5 s), over the time since.
 */
#define SYNC_RATE_SAMPLE_MS	1000
#define SYNC_RATE_SAMPLES	5
/* The most time_left_s says (a century): a peer may claim any head. */
#define SYNC_TIME_LEFT_MAX	((int64_t)100 * 366 * 86400)

struct sync_peer_config {
	char		 name[SYNC_NAME_MAX];
	unsigned char	 key[KEY_PUBLIC_LEN];
	int		 dialled;	/* this node connects to it */
};

struct sync_grouping_config {
	char			 name[SYNC_NAME_MAX];
	const unsigned char	(*members)[KEY_PUBLIC_LEN];
	size_t			 nmembers;
};

/*
 * What the engine needs from the configuration. The engine copies it; the
 * caller may free its own after sync_new(). A peer is named everywhere by
 * its index in peers. The groupings are the ones this node declares, as in
 * config.h: this node is a member of each, listed or not; their members
 * need not be peers (their feeds come relayed). Zero fields take the
 * defaults.
 */
struct sync_config {
	const struct sync_peer_config		*peers;
	size_t					 npeers;
	const struct sync_grouping_config	*groupings;
	size_t					 ngroupings;
	int64_t		 heartbeat_ms;	/* 0: 5000 */
	uint64_t	 session;	/* 0: drawn at random (tests fix it) */
	uint32_t	 version;	/* 0: SYNC_PROTOCOL_VERSION */
	uint32_t	 min_version;	/* 0: SYNC_PROTOCOL_VERSION */
};

enum sync_peer_state {
	SYNC_DOWN,		/* no link: nothing is sent */
	SYNC_CONNECTING,	/* link up, nothing heard yet: HELLO resent */
	SYNC_HELLO_SENT,	/* peer's HELLO heard, it has not heard ours */
	SYNC_UP,		/* exchanging heads and records */
	SYNC_REFUSED,		/* versions or keys do not match: see error */
};

/* What status shows for a peer. Times are the engine's clock (ms). */
struct sync_peer_stats {
	enum sync_peer_state	 state;
	int64_t		 since_ms;	/* when the state was entered */
	int64_t		 last_seen_ms;	/* last valid message; 0: never */
	int64_t		 rtt_ms;	/* last heartbeat round trip; -1: none */
	uint32_t	 version;	/* the version agreed; 0 until HELLO */
	uint64_t	 records_in;	/* new records accepted from the peer */
	uint64_t	 records_out;	/* records sent to it */
	uint64_t	 rejected;	/* runs and messages refused */
	uint64_t	 forks;		/* forks proven by its runs */
	uint64_t	 lag_in;	/* records it holds that this node lacks */
	uint64_t	 lag_out;	/* records this node holds that it lacks */
	uint64_t	 inflight_bytes;	/* RECORDS sent, not acknowledged */
	/*
	 * The catch-up from the peer: the records this node lacks of the
	 * feeds it pulls from it (per feed both may hold and not frozen, the
	 * peer's head as last heard less this node's, summed); the rate at
	 * which records are taken from it (records/s, moving average); and
	 * to_go / rate in seconds, rounded up (-1 while the rate is 0), at
	 * most SYNC_TIME_LEFT_MAX (sync_time_left).
	 */
	uint64_t	 to_go;
	double		 rate;
	int64_t		 time_left_s;
	char		 last_error[256];	/* "" when none */
};

struct sync;

/*
 * Creates the engine of node n (which must stay open while the engine
 * lives). Every peer starts DOWN. Returns NULL on allocation failure or
 * when the configuration is unusable (reason logged).
 */
struct sync	*sync_new(struct node *n, const struct sync_config *cfg);
/* Frees the engine and its outbox; sets *sp to NULL. */
void		 sync_destroy(struct sync **sp);

/* The link to peer is up: the engine queues a HELLO. */
void	sync_on_connect(struct sync *s, int peer);
/* The link to peer is gone: the peer goes DOWN, its streams are dropped. */
void	sync_on_disconnect(struct sync *s, int peer);

/*
 * A message from peer. Bad input is never fatal: it is counted in the
 * peer's rejected count, logged, and noted as its last error. Store
 * failures are logged; the run is then neither acknowledged nor relayed.
 */
void	sync_on_message(struct sync *s, int peer, const uint8_t *msg,
	    size_t len);

/*
 * Time passes: heartbeats, HELLO retries, pull retries, silence detection.
 * now_ms (milliseconds, any origin, never going back) is the engine's clock
 * until the next tick: call it once right after sync_new(), then every few
 * hundred milliseconds. Status times are on this clock.
 */
void	sync_on_tick(struct sync *s, int64_t now_ms);

/* The node appended records of its own feed: push them to who may see it. */
void	sync_local_appended(struct sync *s);

/*
 * Takes the next message of the outbox: 1 with the peer and a malloc'd
 * message the caller sends and frees, 0 when the outbox is empty. Messages
 * to one peer come out in the order they must be sent.
 */
int	sync_next_output(struct sync *s, int *peer, uint8_t **msg,
	    size_t *len);

/*
 * The wait of a node that may not trust its store to hold the whole of its
 * own feed (node.h): 1 when it may write again without forking that feed.
 *
 * A node that lost its store (NODE_RECOVERING): every peer that may hold
 * the feed and that this node dials, and every other such peer that is UP,
 * has told its head since both ends started, at least one has, and none
 * holds more than this node. (A peer that is neither dialled nor connected
 * is reached through relays: its copy comes by the peers that are.)
 *
 * A node started from a backup (NODE_RESTORED): at least one peer that may
 * hold the feed has told its head, and no peer that is UP holds more (or
 * has not told yet): the later records it holds are pulled first.
 *
 * With no peer that may hold the feed (none shares a grouping with this
 * node), the records of the feed never left it: nobody to wait for.
 *
 * The engine checks this after every message and tick and calls
 * node_own_feed_whole() once it holds; the daemon and the simulator only
 * ask the node. 0 otherwise (or on a store error); for a node that may
 * write, it says whether the peers agree.
 */
int	sync_own_feed_safe(struct sync *s);
/* 1 when the node's wait for its own feed waits (also) for peer p. */
int	sync_own_feed_awaits(struct sync *s, int peer);

/*
 * Seconds to take to_go records at rate (records/s), rounded up, at most
 * SYNC_TIME_LEFT_MAX; -1 when rate is not above 0.
 */
int64_t	sync_time_left(uint64_t to_go, double rate);
/* Fills st for peer; 0, or -1 when peer is out of range. */
int	sync_peer_stats(struct sync *s, int peer, struct sync_peer_stats *st);
/*
 * Fills st[0 .. peers - 1] for every peer, from one reading of the node's
 * heads (one read transaction, where a status would take one a peer);
 * 0, or -1 when the heads cannot be read.
 */
int	sync_peers_stats(struct sync *s, struct sync_peer_stats *st);
/* The state of peer (in range) and since when, without reading the store. */
enum sync_peer_state sync_peer_state(struct sync *s, int peer,
	    int64_t *since_ms);

/*
 * For the event log (events.h): calls fn for each peer whose link came up
 * (the peer entered UP) or went down (it left UP) since the last call,
 * with up saying which; the first call reports every peer as it is.
 */
typedef void (*sync_link_fn)(const struct sync_peer_config *peer, int up,
	    void *arg);
void	sync_links_changed(struct sync *s, sync_link_fn fn, void *arg);

/* "down", "connecting", "hello-sent", "up", "refused". */
const char *sync_state_name(enum sync_peer_state state);

/*
 * 1 when the nodes holder and origin are both members of one of this
 * node's groupings, so holder may hold the feed of origin, else 0.
 */
int	sync_may_hold(const struct sync *s, const unsigned char *holder,
	    const unsigned char *origin);

#endif
