/*
 * peers: the node's links to the other nodes of its groupings, over
 * ZeroMQ, driving the sync engine (lib/sync.h).
 *
 *        this node                                  a peer
 *   +------------------+   DEALER --CURVE--> ROUTER  +----------+
 *   | ROUTER (listen)  |<--CURVE-- DEALER            |          |
 *   | ZAP handler      |                             |          |
 *   | DEALER per peer  |---------------------------->|          |
 *   +------------------+                             +----------+
 *
 * The node binds a ROUTER on its `listen` endpoint and connects a DEALER to
 * each peer that has an `endpoint`. CURVE encrypts every link; its keys are
 * the nodes' Ed25519 keys converted to X25519, so a peer's configured key is
 * all that is needed. A ZAP handler (zap.h), bound before any CURVE socket
 * and kept for the whole run, admits only the keys of configured peers; a
 * stranger's handshake fails, is logged once per key and counted.
 *
 * A message to a peer leaves by the DEALER when this node dials it, else by
 * the ROUTER to the connection the peer last spoke from. ZMQ_FD is
 * edge-triggered: every wake-up, and every send, is followed by draining
 * every socket while ZMQ_EVENTS says there is more.
 *
 * This is the transport only: what the links and the engine report goes
 * out as struct peer_status (status.h), rendered by others.
 */
#ifndef HALLE_PEERS_H
#define HALLE_PEERS_H

#include <stddef.h>

#include <event2/event.h>

#include "config.h"
#include "node.h"

struct peers;
struct daemon_status;

/*
 * Starts the links and the sync engine of node n as cfg says (its peers
 * and groupings; the strings are copied). 0, or -1 with the reason in err.
 * With no peer configured, nothing is bound and 0 is returned.
 */
int	peers_start(struct peers **pp, struct event_base *base,
	    struct node *n, const struct halle_config *cfg, char *err,
	    size_t errlen);
/* Closes every socket, stops the engine, frees; *pp becomes NULL. */
void	peers_stop(struct peers **pp);

/*
 * Fills the peers' part of st (status.h): one peer_status per configured
 * peer, from its link and the sync engine, and the handshakes refused to
 * unknown keys; st->linked says the links run (p is not NULL). Its strings
 * belong to p. 0, or -1 when out of memory.
 */
int	peers_status(struct peers *p, struct daemon_status *st);

#endif
