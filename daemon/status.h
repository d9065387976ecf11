/*
 * status: the daemon's status as structs, filled once per request and
 * rendered by the parts that speak to people and programs: the control API
 * as JSON (api_json.c), /metrics as Prometheus text (metrics.c). Nothing
 * renders from another rendering (bgpctl's output_json.c and
 * output_ometric.c, both from one struct).
 *
 *   lib: service_status_get() ----> node    \
 *   peers.c: peers_status() ------> peers    > struct daemon_status
 *   status_fill(): configuration -> groupings, feeds held
 *
 *   struct daemon_status --> api_json.c --> GET /v1/status
 *                        --> metrics.c ---> GET /metrics
 *
 * Who fills it is the daemon's business (halled.c); the renderers get it
 * through a callback and know nothing else of the daemon. A snapshot's
 * strings belong to the configuration and the links it was taken from:
 * render it and free it before anything reloads.
 */
#ifndef HALLE_STATUS_H
#define HALLE_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "key.h"
#include "node.h"
#include "service.h"
#include "sync.h"

/* One configured peer: its link (peers.c) and the engine's figures. */
struct peer_status {
	const char		*name;
	unsigned char		 key[KEY_PUBLIC_LEN];
	char			 id[KEY_HEX_LEN + 1];	/* the key in hex */
	const char		*endpoint;	/* NULL: the peer dials us */
	enum sync_peer_state	 state;		/* the engine's */
	int			 key_refused;	/* its ZAP refused our key:
						   shown as refused */
	int64_t			 since_s;	/* in that state; -1: never */
	int64_t			 last_seen_s;	/* last message; -1: never */
	int64_t			 rtt_ms;	/* last round trip; -1: none */
	uint64_t		 records_in, records_out;
	uint64_t		 rejected, forks;
	uint64_t		 lag_in, lag_out;
	uint64_t		 bytes_in, bytes_out;	/* peer protocol */
	uint64_t		 bytes_in_flight;	/* records unacknowledged */
	/* The catch-up from it (sync.h): records to go, records/s, s left. */
	uint64_t		 to_go;
	double			 rate;
	int64_t			 time_left_s;	/* -1: the rate is 0 */
	int			 awaited;	/* the wait for our own feed
						   waits for it (node.h) */
	char			 last_error[256];	/* "" when none */
};

/* One grouping of the configuration, as this node sees it. */
struct grouping_status {
	const char		*name;
	const char		**members;	/* its peers, then this node */
	size_t			 nmembers;
	uint64_t		 feeds;		/* of its members, held here */
	int			 in_sync;	/* every linked member agrees */
};

/* One feed held. */
struct feed_status {
	unsigned char		 origin[KEY_PUBLIC_LEN];
	char			 origin_hex[KEY_HEX_LEN + 1];
	const char		*name;	/* this node's or a peer's; NULL */
	uint64_t		 head_seq;
};

struct daemon_status {
	struct service_status	 node;
	int			 linked;	/* the links run: the peers'
						   and groupings' parts mean
						   something */
	struct peer_status	*peers;		/* in configuration order */
	size_t			 npeers;
	uint64_t		 handshakes_refused;	/* unknown keys */
	struct grouping_status	*groupings;	/* in configuration order */
	size_t			 ngroupings;
	struct feed_status	*feeds;		/* in the store's order */
	size_t			 nfeeds;
};

/*
 * Fills the groupings and the feeds of st from the configuration, the
 * peers of st (peers_status() first) and one read snapshot of n's store.
 * The groupings only when st->linked. 0, or -1 with err filled.
 */
int	status_fill(struct daemon_status *st, struct node *n,
	    const struct halle_config *cfg, struct halle_error *err);
/* Frees what the fill functions allocated; st can be filled again. */
void	status_free(struct daemon_status *st);

/* "up", "connecting" (also while HELLOs cross), "down" or "refused". */
const char *status_peer_state(const struct peer_status *p);
/* 1 when the link to the peer is up: the state shown is "up". */
int	status_peer_up(const struct peer_status *p);

/*
 * The name of the node whose key is origin: this node's (self is its key)
 * or a configured peer's; NULL when neither.
 */
const char *status_node_name(const struct halle_config *cfg,
	    const unsigned char *self, const unsigned char *origin);
/*
 * 1 when the node of key origin (this node when it is self) is a member of
 * grouping g of cfg, else 0. This node is a member of every grouping.
 */
int	status_in_grouping(const struct halle_config *cfg, size_t g,
	    const unsigned char *self, const unsigned char *origin);

#endif
