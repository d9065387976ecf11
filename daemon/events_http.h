/*
 * events_http: GET /v1/events, the node's event log (lib/events.h) served
 * as Server-Sent Events on the control socket (docs/control-api.md,
 * "Events").
 *
 *   client                                     halled
 *   GET /v1/events  Last-Event-ID: 41  ---->   api.c: the cursor checked
 *         <---- 200 text/event-stream, chunked (events_http_serve)
 *         <---- id: 41                         where the stream starts
 *         <---- id: 42 / event: order.placed / data: {...}
 *         ...                                  after each commit that
 *                                              appended events: the new
 *         <---- : keepalive                    ones; every 15 s idle
 *         <---- event: dropped / data: {...}   the client took nothing
 *         <---- (end, close)                   for STREAM_STALL_S
 *
 * A stream reads the log from its cursor in batches, and only while less
 * than STREAM_LOW_WATER bytes wait in its connection's output; a batch is
 * at most STREAM_BATCH_BYTES (and one event). A client that reads slowly
 * lags behind, the rest staying in the log, and the node never holds more
 * than STREAM_BUFFER_MAX for it. A client that takes nothing of what
 * waits for it for STREAM_STALL_S (each byte it takes starts that time
 * again) is dropped: it gets a last event `dropped` naming the cursor to
 * resume after, and the connection closes. At most
 * EVENTS_MAX_STREAMS are open at once, well under the control socket's
 * connections, so that the API stays reachable; past it the answer is
 * 503 too_many_streams. An HTTP/1.0 client gets the same stream, not
 * chunked: its end is the connection's close.
 */
#ifndef HALLE_EVENTS_HTTP_H
#define HALLE_EVENTS_HTTP_H

#include <stdint.h>

#include <event2/event.h>
#include <event2/http.h>

#include "node.h"

#define EVENTS_MEDIA_TYPE	"text/event-stream"
#define EVENTS_MAX_STREAMS	32
#define STREAM_BATCH_BYTES	(64 * 1024)
#define STREAM_LOW_WATER	(128 * 1024)
#define STREAM_BUFFER_MAX	(256 * 1024)	/* low water + a batch + 1 */
#define STREAM_STALL_S		10
#define STREAM_KEEPALIVE_S	15

struct events_http;

/* What the streams have done, for the metrics. */
struct events_http_stats {
	int		 streams;	/* open now */
	uint64_t	 served;	/* streams started, since start */
	uint64_t	 dropped;	/* ended for taking nothing in time */
	uint64_t	 refused;	/* answered 503: too many */
};

/*
 * The streams of node n on base; it hooks n's on_events. NULL when out
 * of memory.
 */
struct events_http	*events_http_new(struct event_base *base,
			    struct node *n);
/*
 * Starts the stream that answers req, after the event `after` (checked
 * by api.c), or answers 503 too_many_streams.
 */
void	events_http_serve(struct events_http *e, struct evhttp_request *req,
	    uint64_t after);
/*
 * Ends every stream's answer (a clean end of the chunked reply; the
 * connection closes once it is sent). Before the HTTP server goes.
 */
void	events_http_end_all(struct events_http *e);
/* Frees; *ep becomes NULL. After the HTTP server closed its connections. */
void	events_http_free(struct events_http **ep);
void	events_http_get_stats(const struct events_http *e,
	    struct events_http_stats *out);

#endif
