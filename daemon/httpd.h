/*
 * httpd: libevent's evhttp with bounds, for the control socket and the
 * metrics listener.
 *
 * evhttp keeps whatever a client sends unless told otherwise, and
 * libevent's listener spins on EMFILE. An httpd bounds each server:
 *
 *   headers     the request line and headers, in bytes (evhttp's limit)
 *   body        the body, in bytes (evhttp's limit)
 *   connections open at once; at the cap the server stops accepting (the
 *               kernel's backlog holds newcomers) until one closes
 *   request     seconds a client has to send one whole request, from its
 *               connection or from the end of the previous answer: idle
 *               and slow ("slowloris") connections are closed at it
 *   io          seconds a read or a write may stall (evhttp's timeout)
 *   accept      when accept() fails for want of descriptors (EMFILE,
 *               ENFILE...), accepting pauses for accept_pause_ms, logged
 *               once a minute and counted, instead of spinning
 *
 * Every error answer is {"error":{"code","message"}} (docs/control-api.md),
 * those of libevent 2.1 too: it has no error callback, so the page it
 * writes for a request it cannot read (bad request line or header, bad
 * Content-Length, too long, bad chunk size) is rewritten to JSON in the
 * connection's output buffer before it is sent. To tell those apart,
 * httpd follows what the client sends: where the head ends and, for a
 * chunked body, whether each chunk size is one libevent can read.
 * A request with both Content-Length and Transfer-Encoding is refused.
 *
 *   accept -> bevcb (count, maybe pause) -> attach (deadline, closecb)
 *          -> request read: handler, deadline off -> answer written:
 *             deadline on again -> ... -> closecb (count down, resume)
 *
 * A stream (httpd_stream: GET /v1/events) is an answer that goes on: its
 * client sends nothing more, so its connection has no deadline and no
 * read timeout; its writes are still bounded by the io timeout, what the
 * client sends anyway is read up to HTTPD_STREAM_INPUT_MAX bytes and no
 * further, and whoever keeps the stream hears of the close.
 */
#ifndef HALLE_HTTPD_H
#define HALLE_HTTPD_H

#include <stdint.h>

#include <event2/event.h>
#include <event2/http.h>

#define HTTPD_STREAM_INPUT_MAX	4096	/* bytes a stream's client may send */

struct httpd_limits {
	const char	*name;		/* "control", "metrics": logs, metrics */
	long		 max_headers;	/* request line and headers, bytes */
	long		 max_body;	/* bytes */
	int		 max_connections;
	int		 request_timeout_s;
	int		 io_timeout_s;
	int		 accept_pause_ms;
};

/* What an httpd has done, for the metrics. */
struct httpd_stats {
	int		 connections;		/* open now */
	uint64_t	 accepted;		/* connections, since start */
	uint64_t	 request_timeouts;	/* closed at the deadline */
	uint64_t	 connection_cap_hits;	/* times the cap was reached */
	uint64_t	 accept_pauses;		/* accept() out of descriptors */
	uint64_t	 rewritten_errors;	/* libevent's pages made JSON */
};

struct httpd;

typedef void (*httpd_handler)(struct evhttp_request *req, void *arg);

/*
 * A server on base with these limits, that hands each request it has read
 * to handler (which answers it before returning). It listens on nothing
 * yet. NULL when out of memory.
 */
struct httpd	*httpd_new(struct event_base *base,
		    const struct httpd_limits *limits, httpd_handler handler,
		    void *arg);
/* Serves the listening socket fd (it becomes the httpd's). 0 or -1. */
int	httpd_listen_fd(struct httpd *h, evutil_socket_t fd);
/* Binds host:port and serves it. 0, or -1 with errno set. */
int	httpd_listen_address(struct httpd *h, const char *host,
	    unsigned short port);
/* Stops accepting and closes the listening socket; answers go on. */
void	httpd_quiesce(struct httpd *h);
/* Closes every connection and the socket, frees; *hp becomes NULL. */
void	httpd_free(struct httpd **hp);
void	httpd_get_stats(const struct httpd *h, struct httpd_stats *out);
const struct httpd_limits *httpd_get_limits(const struct httpd *h);

/*
 * Makes the connection of req, whose answer has started and goes on, a
 * stream (see the top): no deadline and no read timeout from now on, a
 * write may still stall io_timeout_s; on_close(arg) is called once, when
 * the connection closes, whoever closes it. 0, or -1 when the connection
 * is not followed (there was no memory for it when it was accepted).
 */
int	httpd_stream(struct evhttp_request *req, void (*on_close)(void *),
	    void *arg);

/*
 * Answers req with status and the body {"error":{"code","message"}}.
 */
void	httpd_reply_error(struct evhttp_request *req, int status,
	    const char *code, const char *message);

#endif
