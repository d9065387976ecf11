/*
 * metrics: the node's figures in the Prometheus text exposition format
 * (version 0.0.4), for GET /metrics on the control API and, when the
 * configuration names a metrics_listen address, on a plain HTTP listener
 * of its own that serves nothing else.
 *
 * The text is rendered from the daemon's status snapshot (status.h: the
 * node's figures, its orders, the feeds held, the peers' counters), the
 * same struct the control API renders as JSON, and from the figures of the
 * HTTP servers (httpd.h); both come through the callbacks of struct
 * metrics_source, so that this module knows nothing else of the daemon.
 * Labels stay few: per peer, per feed origin (named after its node when
 * known), per order line state and per HTTP server.
 */
#ifndef HALLE_METRICS_H
#define HALLE_METRICS_H

#include <stddef.h>

#include <event2/event.h>

#include "error.h"

#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

/* The bounds of metrics_listen: see httpd.h, docs/security.md. */
#define METRICS_MAX_HEADERS	4096	/* request line + headers */
#define METRICS_MAX_BODY	1024
#define METRICS_MAX_CONNECTIONS	16
#define METRICS_REQUEST_TIMEOUT	5	/* s to send a whole request */
#define METRICS_IO_TIMEOUT	10	/* s a read or write may stall */
#define METRICS_ACCEPT_PAUSE_MS	500	/* after EMFILE */

struct metrics;
struct httpd;
struct daemon_status;
struct events_http_stats;

/* Where the figures come from: the daemon's callbacks. */
struct metrics_source {
	void	*arg;		/* passed to each callback */
	/* A status snapshot to status_free(); 0, or -1 with err filled. */
	int	(*status)(void *arg, struct daemon_status *st,
		    struct halle_error *err);
	/* The HTTP servers to show the figures of; their number. */
	int	(*servers)(void *arg, const struct httpd *servers[2]);
	/* The event streams' figures; 0, or -1 when there are none. */
	int	(*streams)(void *arg, struct events_http_stats *st);
};

/*
 * The metrics of the daemon, as a NUL-terminated text to free(); NULL with
 * err filled when the store cannot be read.
 */
char	*metrics_text(const struct metrics_source *src,
	    struct halle_error *err);

/*
 * Serves GET /metrics on address (HOST:PORT, an IPv6 HOST in brackets) on
 * base, from src (copied). 0, or -1 with the reason in err.
 */
int	metrics_start(struct metrics **mp, struct event_base *base,
	    const char *address, const struct metrics_source *src, char *err,
	    size_t errlen);
/* The listener's HTTP server, for its figures. */
const struct httpd *metrics_server(struct metrics *m);
/* Closes the listener and frees; *mp becomes NULL. NULL is fine. */
void	metrics_stop(struct metrics **mp);

#endif
