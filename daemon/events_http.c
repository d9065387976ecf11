/*
 * events_http: see events_http.h.
 *
 * A stream lives as long as its connection: httpd_stream tells it when
 * the connection closes, whoever closed it. Until its answer ends, the
 * stream owns the request: when the client goes away first, libevent
 * leaves the request to it, and ending the answer then frees it. Once the
 * stream has ended its answer (dropped, or the daemon stopping), libevent
 * owns the request and the stream forgets it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "api_status.h"
#include "events.h"
#include "events_http.h"
#include "httpd.h"
#include "log.h"

/*
 * What a stream may hold: under low water, one batch and one event (its
 * JSON bounded by events_append, and its lines "id:", "event:", "data:").
 */
#define EVENT_FRAMING	128
_Static_assert(STREAM_LOW_WATER + STREAM_BATCH_BYTES + EVENTS_MAX_BYTES +
    EVENT_FRAMING <= STREAM_BUFFER_MAX,
    "a stream's output is bounded by STREAM_BUFFER_MAX");

struct stream {
	TAILQ_ENTRY(stream)	 entry;
	struct events_http	*server;
	struct evhttp_request	*req;	/* NULL once the answer ended */
	struct event		*stall;
	struct evbuffer		*out;	/* the connection's output */
	struct evbuffer_cb_entry *out_cb;
	uint64_t		 after;	/* the last event sent */
};

struct events_http {
	struct event_base	*base;
	struct node		*node;
	TAILQ_HEAD(, stream)	 streams;
	struct event		*push;
	struct event		*keepalive;
	struct events_http_stats stats;
};

static void	stream_fill(struct stream *);

/* What waits in the connection's output, in bytes. */
static size_t
stream_pending(const struct stream *s)
{
	struct evhttp_connection *evcon;

	evcon = evhttp_request_get_connection(s->req);
	if (evcon == NULL)
		return 0;
	return evbuffer_get_length(bufferevent_get_output(
	    evhttp_connection_get_bufferevent(evcon)));
}

/* The output drained: the client took what waited. */
static void
stream_drained(struct evhttp_connection *evcon, void *arg)
{
	struct stream *s = arg;

	evtimer_del(s->stall);
	stream_fill(s);
}

/*
 * The connection's output changed: when the client took some of it, it
 * has STALL_S again to take more. A client that reads slowly falls
 * behind; only one that takes nothing is dropped.
 */
static void
stream_output(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct stream *s = arg;
	struct timeval stall = { STREAM_STALL_S, 0 };

	if (info->n_deleted > 0 && s->req != NULL &&
	    evtimer_pending(s->stall, NULL))
		evtimer_add(s->stall, &stall);
}

/* Sends buf as a chunk of the answer; the client has STALL_S to take it. */
static void
stream_send(struct stream *s, struct evbuffer *buf)
{
	struct timeval stall = { STREAM_STALL_S, 0 };

	if (evbuffer_get_length(buf) == 0)
		return;
	evhttp_send_reply_chunk_with_cb(s->req, buf, stream_drained, s);
	if (!evtimer_pending(s->stall, NULL))
		evtimer_add(s->stall, &stall);
}

/*
 * Ends the answer; libevent owns the request from then on. When nothing
 * waits in the output and the answer is not chunked (HTTP/1.0), libevent
 * closes the connection at once: stream_closed runs inside
 * evhttp_send_reply_end and frees s, so the stream forgets its request
 * before, and nothing touches s after.
 */
static void
stream_end(struct stream *s)
{
	struct evhttp_request *req = s->req;

	if (req == NULL)
		return;
	s->req = NULL;
	evtimer_del(s->stall);
	evhttp_send_reply_end(req);	/* may free s */
}

struct batch {
	struct stream	*s;
	struct evbuffer	*buf;
	int		 full;
	int		 failed;
};

static int
batch_add(uint64_t id, const char *type, const char *json, size_t len,
    void *arg)
{
	struct batch *b = arg;

	if (evbuffer_add_printf(b->buf, "id: %llu\nevent: %s\ndata: %.*s\n\n",
	    (unsigned long long)id, type, (int)len, json) == -1) {
		b->failed = 1;
		return 1;
	}
	b->s->after = id;
	if (evbuffer_get_length(b->buf) >= STREAM_BATCH_BYTES) {
		b->full = 1;
		return 1;
	}
	return 0;
}

/*
 * Reads the next batch after the stream's cursor into buf: 1 when the log
 * may hold more, 0 when it is all read, -1 on a failure.
 */
static int
stream_read(struct stream *s, struct evbuffer *buf)
{
	struct batch b = { s, buf, 0, 0 };
	struct store_txn t;
	int rc;

	if (store_read_begin(s->server->node->store, &t) == -1)
		return -1;
	rc = events_read(&t, s->after, batch_add, &b);
	store_read_end(&t);
	if (rc == -1 || b.failed)
		return -1;
	return b.full;
}

/* Sends what the log holds after the cursor, while little waits. */
static void
stream_fill(struct stream *s)
{
	struct evbuffer *buf;
	int more = 1;

	while (s->req != NULL && more == 1 &&
	    stream_pending(s) < STREAM_LOW_WATER) {
		if ((buf = evbuffer_new()) == NULL)
			more = -1;
		else {
			more = stream_read(s, buf);
			if (more != -1)
				stream_send(s, buf);
			evbuffer_free(buf);
		}
	}
	if (more == -1) {
		log_warnx("events: cannot read the event log for a stream: "
		    "ending it at cursor %llu", (unsigned long long)s->after);
		stream_end(s);
	}
}

/*
 * The client took nothing of what waited for it for STALL_S: a last
 * event, and the end.
 */
static void
stream_stalled(evutil_socket_t fd, short what, void *arg)
{
	struct stream *s = arg;
	struct evbuffer *buf;
	char *json, why[128];

	snprintf(why, sizeof(why), "the client took nothing of what waited "
	    "for it for %d s", STREAM_STALL_S);
	json = events_dropped_json(s->after, why);
	if (json != NULL && (buf = evbuffer_new()) != NULL) {
		evbuffer_add_printf(buf, "event: dropped\ndata: %s\n\n", json);
		evhttp_send_reply_chunk(s->req, buf);
		evbuffer_free(buf);
	}
	free(json);
	s->server->stats.dropped++;
	log_info("events: a stream took nothing for %d s: dropped after "
	    "event %llu", STREAM_STALL_S, (unsigned long long)s->after);
	stream_end(s);
}

/* httpd_stream: the connection closed. */
static void
stream_closed(void *arg)
{
	struct stream *s = arg;
	struct events_http *e = s->server;

	stream_end(s);	/* frees a request libevent left to us */
	if (s->out_cb != NULL)	/* the output is freed after this call */
		evbuffer_remove_cb_entry(s->out, s->out_cb);
	event_free(s->stall);
	TAILQ_REMOVE(&e->streams, s, entry);
	e->stats.streams--;
	free(s);
}

static void
refuse(struct evhttp_request *req, enum halle_errcode code,
    const char *message)
{
	httpd_reply_error(req, api_http_status(code), halle_strerror(code),
	    message);
}

/*
 * The stream that answers req, watching what its client takes; NULL
 * when out of memory.
 */
static struct stream *
stream_new(struct events_http *e, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct stream *s;

	if (evcon == NULL || (s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->out = bufferevent_get_output(evhttp_connection_get_bufferevent(
	    evcon));
	if ((s->stall = evtimer_new(e->base, stream_stalled, s)) == NULL ||
	    (s->out_cb = evbuffer_add_cb(s->out, stream_output, s)) == NULL ||
	    httpd_stream(req, stream_closed, s) == -1) {
		if (s->out_cb != NULL)
			evbuffer_remove_cb_entry(s->out, s->out_cb);
		if (s->stall != NULL)
			event_free(s->stall);
		free(s);
		return NULL;
	}
	s->server = e;
	s->req = req;
	return s;
}

void
events_http_serve(struct events_http *e, struct evhttp_request *req,
    uint64_t after)
{
	struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
	struct evbuffer *buf;
	struct stream *s;
	char why[128];

	if (e->stats.streams >= EVENTS_MAX_STREAMS) {
		e->stats.refused++;
		snprintf(why, sizeof(why), "this node serves at most %d event "
		    "streams at once; try again later", EVENTS_MAX_STREAMS);
		refuse(req, HALLE_E_TOO_MANY_STREAMS, why);
		return;
	}
	if ((s = stream_new(e, req)) == NULL) {
		refuse(req, HALLE_E_INTERNAL, "out of memory");
		return;
	}
	s->after = after;
	TAILQ_INSERT_TAIL(&e->streams, s, entry);
	e->stats.streams++;
	e->stats.served++;
	evhttp_add_header(headers, "Content-Type", EVENTS_MEDIA_TYPE);
	evhttp_add_header(headers, "Cache-Control", "no-cache");
	evhttp_add_header(headers, "Connection", "close");
	evhttp_send_reply_start(req, 200, "OK");
	/* Where it starts: an EventSource keeps it as its last event id. */
	if ((buf = evbuffer_new()) != NULL) {
		evbuffer_add_printf(buf, "id: %llu\n\n",
		    (unsigned long long)after);
		stream_send(s, buf);
		evbuffer_free(buf);
	}
	stream_fill(s);
}

/* After a commit that appended events (node's on_events, deferred). */
static void
push_all(evutil_socket_t fd, short what, void *arg)
{
	struct events_http *e = arg;
	struct stream *s, *next;

	/* A stream whose reading fails ends, and may be freed at once. */
	for (s = TAILQ_FIRST(&e->streams); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		stream_fill(s);
	}
}

static void
on_events(void *arg)
{
	struct events_http *e = arg;

	event_active(e->push, EV_TIMEOUT, 0);
}

/* A comment to each stream that waits for nothing: the link is alive. */
static void
keepalive(evutil_socket_t fd, short what, void *arg)
{
	struct events_http *e = arg;
	struct evbuffer *buf;
	struct stream *s;

	TAILQ_FOREACH(s, &e->streams, entry) {
		if (s->req == NULL || stream_pending(s) > 0 ||
		    (buf = evbuffer_new()) == NULL)
			continue;
		evbuffer_add_printf(buf, ": keepalive\n\n");
		stream_send(s, buf);
		evbuffer_free(buf);
	}
}

struct events_http *
events_http_new(struct event_base *base, struct node *n)
{
	struct timeval every = { STREAM_KEEPALIVE_S, 0 };
	struct events_http *e;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	e->base = base;
	e->node = n;
	TAILQ_INIT(&e->streams);
	if ((e->push = event_new(base, -1, 0, push_all, e)) == NULL ||
	    (e->keepalive = event_new(base, -1, EV_PERSIST, keepalive,
	    e)) == NULL || event_add(e->keepalive, &every) == -1) {
		events_http_free(&e);
		return NULL;
	}
	n->on_events = on_events;
	n->on_events_arg = e;
	return e;
}

void
events_http_end_all(struct events_http *e)
{
	struct stream *s, *next;

	if (e == NULL)
		return;
	/* Ending a stream may free it at once (stream_end). */
	for (s = TAILQ_FIRST(&e->streams); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		stream_end(s);
	}
}

void
events_http_free(struct events_http **ep)
{
	struct events_http *e = *ep;
	struct stream *s;

	if (e == NULL)
		return;
	if (e->node->on_events_arg == e) {
		e->node->on_events = NULL;
		e->node->on_events_arg = NULL;
	}
	while ((s = TAILQ_FIRST(&e->streams)) != NULL) {
		TAILQ_REMOVE(&e->streams, s, entry);
		event_free(s->stall);
		free(s);
	}
	if (e->push != NULL)
		event_free(e->push);
	if (e->keepalive != NULL)
		event_free(e->keepalive);
	free(e);
	*ep = NULL;
}

void
events_http_get_stats(const struct events_http *e,
    struct events_http_stats *out)
{
	*out = e->stats;
}
