/*
 * metrics: the node's figures in the Prometheus text exposition format
 * (version 0.0.4), for GET /metrics on the control API and, when the
 * configuration names a metrics_listen address, on a plain HTTP listener
 * of its own that serves nothing else.
 *
 * The text is built from what the control API already knows (the status,
 * the feeds and the peers' counters) and a count over the orders held
 * (service_order_counts). Labels stay few: per peer, per feed origin (named
 * after its node when known) and per order line state.
 */
#ifndef HALLE_METRICS_H
#define HALLE_METRICS_H

#include <stddef.h>

#include "error.h"
#include "halled.h"

#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

/* The bounds of metrics_listen: see httpd.h, docs/security.md. */
#define METRICS_MAX_HEADERS	4096	/* request line + headers */
#define METRICS_MAX_BODY	1024
#define METRICS_MAX_CONNECTIONS	16
#define METRICS_REQUEST_TIMEOUT	5	/* s to send a whole request */
#define METRICS_IO_TIMEOUT	10	/* s a read or write may stall */

struct metrics;
struct httpd;

/*
 * The metrics of the daemon, as a NUL-terminated text to free(); NULL with
 * err filled when the store cannot be read.
 */
char	*metrics_text(struct halled *d, struct halle_error *err);

/*
 * Serves GET /metrics on address (HOST:PORT, an IPv6 HOST in brackets) on
 * d's event loop. 0, or -1 with the reason in err.
 */
int	metrics_start(struct metrics **mp, struct halled *d,
	    const char *address, char *err, size_t errlen);
/* The listener's HTTP server, for its figures. */
const struct httpd *metrics_server(struct metrics *m);
/* Closes the listener and frees; *mp becomes NULL. NULL is fine. */
void	metrics_stop(struct metrics **mp);

#endif
