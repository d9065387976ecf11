/*
 * control: the control API's HTTP server on a Unix socket (libevent's
 * evhttp). It owns the socket, reads and parses requests, and hands each to
 * the route table in api.c; errors become JSON bodies with a stable code.
 */
#ifndef HALLE_CONTROL_H
#define HALLE_CONTROL_H

#include <stddef.h>

#include <event2/event.h>
#include <jansson.h>

#include "error.h"
#include "halled.h"

/* The bounds of the control socket: see httpd.h, docs/security.md. */
#define CONTROL_MAX_HEADERS	(16 * 1024)	/* request line + headers */
#define CONTROL_MAX_BODY	(1024 * 1024)
#define CONTROL_MAX_CONNECTIONS	64
#define CONTROL_REQUEST_TIMEOUT	10	/* s to send a whole request */
#define CONTROL_IO_TIMEOUT	30	/* s a read or write may stall */
#define CONTROL_ACCEPT_PAUSE_MS	500	/* after EMFILE */

struct control;
struct httpd;

/*
 * Creates the socket at path (mode 0660; a stale socket left by a crash is
 * replaced, a live one is an error) and serves the API on base, with the
 * event streams of GET /v1/events (events_http.h); with metrics_listen in
 * d's configuration, also serves GET /metrics there (metrics.h). 0, or -1
 * with the reason in err.
 */
int	control_start(struct control **cp, struct halled *d, const char *path,
	    char *err, size_t errlen);
/*
 * Stops accepting connections (closes and removes the socket); requests
 * already read are answered, event streams ended. For a clean stop before
 * control_stop().
 */
void	control_quiesce(struct control *c);
/* Closes the socket, removes its file, frees everything. */
void	control_stop(struct control **cp);
/*
 * The HTTP servers: the control socket's, then metrics_listen's when
 * configured. Their number; 0 when c is NULL.
 */
int	control_servers(struct control *c, const struct httpd *servers[2]);
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
json_t	*api_dispatch(struct halled *d, const struct api_request *req,
	    int *status, const char **type, struct halle_error *err);

#endif
