/*
 * control: the control API's HTTP server on a Unix socket (libevent's
 * evhttp). It owns the socket, reads and parses requests, and hands each to
 * the route table in api.c; errors become JSON bodies with a stable code.
 *
 * The API layer (control.c, api.c, api_json.c, api_status.c) reaches the
 * daemon only through struct api_context: the node, for lib's service
 * layer, and callbacks for what is the daemon's (its status, a reload, the
 * metrics text). It knows nothing else of the daemon.
 */
#ifndef HALLE_CONTROL_H
#define HALLE_CONTROL_H

#include <stddef.h>

#include <event2/event.h>
#include <jansson.h>

#include "error.h"
#include "node.h"

/* The bounds of the control socket: see httpd.h, docs/security.md. */
#define CONTROL_MAX_HEADERS	(16 * 1024)	/* request line + headers */
#define CONTROL_MAX_BODY	(1024 * 1024)
#define CONTROL_MAX_CONNECTIONS	64
#define CONTROL_REQUEST_TIMEOUT	10	/* s to send a whole request */
#define CONTROL_IO_TIMEOUT	30	/* s a read or write may stall */
#define CONTROL_ACCEPT_PAUSE_MS	500	/* after EMFILE */

struct control;
struct httpd;
struct daemon_status;

/* What the control API reaches of the daemon. */
struct api_context {
	struct node	*node;
	void		*arg;		/* passed to each callback */
	/* A status snapshot (status.h) to status_free(); 0, or -1 with err. */
	int		(*status)(void *arg, struct daemon_status *st,
			    struct halle_error *err);
	/*
	 * Reads the configuration file again and applies its peers and
	 * groupings, as SIGHUP does. 0, or -1 with the reason in why; the
	 * running configuration then stays.
	 */
	int		(*reload)(void *arg, char *why, size_t whylen);
	/* The metrics text (metrics.h) to free(); NULL with err filled. */
	char		*(*metrics)(void *arg, struct halle_error *err);
};

/*
 * Creates the socket at path (mode 0660; a stale socket left by a crash is
 * replaced, a live one is an error) and serves the API on base, reaching
 * the daemon through ctx (copied). 0, or -1 with the reason in err.
 */
int	control_start(struct control **cp, struct event_base *base,
	    const char *path, const struct api_context *ctx, char *err,
	    size_t errlen);
/*
 * Stops accepting connections (closes and removes the socket); requests
 * already read are answered, event streams ended. For a clean stop before
 * control_stop().
 */
void	control_quiesce(struct control *c);
/* Closes the socket, removes its file, frees everything. */
void	control_stop(struct control **cp);
/* The control socket's HTTP server, for its figures; NULL when c is. */
const struct httpd *control_server(struct control *c);
/* The event streams of GET /v1/events, or NULL when c is. */
struct events_http *control_events(struct control *c);

/* Routing, in api.c. */
struct api_request {
	int		 method;	/* EVHTTP_REQ_GET, ... */
	char		*segments[8];	/* decoded path segments */
	int		 nsegments;
	json_t		*body;		/* an object; {} when none was sent */
	const char	*query_market;	/* ?market=, ?distribution= */
	const char	*query_distribution;
	const char	*query_from;		/* ?from=, ?count= */
	const char	*query_count;
	const char	*query_skip_invalid;	/* ?skip_invalid=, ?dry_run= */
	const char	*query_dry_run;
	const char	*query_since;		/* ?since=, GET /v1/events */
	const char	*last_event_id;		/* its Last-Event-ID header */
	int		 body_ld;	/* Content-Type: application/ld+json:
					   body may then be an array */
	int		 accept_ld;	/* Accept lists application/ld+json */
};

/*
 * Answers one request: returns the JSON answer and its status in *status,
 * or NULL with err filled. *type is the answer's media type when it is
 * not application/json (a DFC document is application/ld+json). A route
 * that answers plain text (GET /metrics) returns a JSON string: its
 * characters are the body, sent as METRICS_CONTENT_TYPE. GET /v1/events
 * answers EVENTS_MEDIA_TYPE with {"after": N}, the cursor it checked:
 * the stream that follows is events_http.c's.
 */
json_t	*api_dispatch(const struct api_context *ctx,
	    const struct api_request *req, int *status, const char **type,
	    struct halle_error *err);

#endif
