/*
 * zap: the ZeroMQ authentication handler (ZAP, RFC 27) of the peer
 * links: it admits a CURVE client whose key the daemon knows, and tells
 * the socket which peer it is (the user id); a stranger is refused,
 * counted, and logged once per key.
 *
 *   CURVE handshake on the ROUTER --> libzmq --REQ--> inproc://zeromq.zap.01
 *                                                      | zap_handle():
 *                                                      | admit(key) -> peer
 *   the message's "User-Id" = peer <-- libzmq <--REP---+ "200" or "400"
 *
 * libzmq admits every client when no handler is bound: bind it (zap_bind)
 * in the same context before any CURVE socket, and keep it for the whole
 * run. It touches no event loop: its owner watches the socket, calls
 * zap_handle() while it is readable, and closes it.
 */
#ifndef HALLE_ZAP_H
#define HALLE_ZAP_H

#include <stddef.h>
#include <stdint.h>

#define ZAP_ENDPOINT		"inproc://zeromq.zap.01"
#define ZAP_STRANGERS_LOGGED	64	/* keys logged once; then counted only */

/* The X25519 key of a CURVE client: its user id (>= 0), or -1. */
typedef int (*zap_admit_fn)(void *arg, const unsigned char *client_key);

struct zap {
	void		*sock;		/* REP at ZAP_ENDPOINT */
	zap_admit_fn	 admit;
	void		*arg;
	uint64_t	 strangers;	/* handshakes refused */
	unsigned char	 logged[ZAP_STRANGERS_LOGGED][32];
	size_t		 nlogged;
};

/*
 * Binds the handler in the ZeroMQ context zmq_ctx; admit decides. 0, or
 * -1 with the reason in err.
 */
int	zap_bind(struct zap *z, void *zmq_ctx, zap_admit_fn admit, void *arg,
	    char *err, size_t errlen);
/* Answers one request: 1, 0 when none waits, -1 on a malformed one. */
int	zap_handle(struct zap *z);

#endif
