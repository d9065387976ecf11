/*
 * httpd: see httpd.h.
 *
 * A connection is followed from evhttp's bevcb, which makes its
 * bufferevent: the connection is counted there, and once evhttp has built
 * it (later in the same loop turn, from an active event) its close
 * callback, its deadline and the watchers of its buffers are attached.
 * evhttp stores the connection as its bufferevent's callback argument,
 * which bufferevent_getcb() reads: that is how attach finds it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <jansson.h>

#include "api_status.h"
#include "error.h"
#include "httpd.h"
#include "log.h"

/* What the client has sent of the request being read (see httpd.h). */
enum scan_state { SCAN_HEAD, SCAN_CHUNK_SIZE, SCAN_CHUNK_DATA, SCAN_REST };

struct scan {
	enum scan_state	 state;
	char		 line[80];	/* the line being read, cut at 79 */
	size_t		 linelen;
	long long	 chunk_left;
	size_t		 head_bytes;	/* sent of the head so far */
	int		 head_done;
	int		 chunked;
	int		 bad_chunk;
};

struct conn {
	TAILQ_ENTRY(conn)	  entry;
	struct httpd		 *h;
	struct bufferevent	 *bev;
	struct evhttp_connection *evcon;	/* NULL until attached */
	struct event		 *deadline;
	struct evbuffer_cb_entry *in_cb;
	struct evbuffer_cb_entry *out_cb;
	struct scan		  scan;
	int			  html;	/* libevent writes its error page */
	void			(*on_close)(void *);	/* a stream's */
	void			 *on_close_arg;
};
TAILQ_HEAD(conn_list, conn);

struct httpd {
	TAILQ_ENTRY(httpd)	  entry;
	struct event_base	 *base;
	struct evhttp		 *http;
	struct evhttp_bound_socket *bound;
	struct httpd_limits	  lim;
	httpd_handler		  handler;
	void			 *arg;
	struct conn_list	  pending;	/* accepted, not attached yet */
	struct conn_list	  live;
	struct event		 *attach_ev;
	struct event		 *resume_ev;
	int			  paused;	/* out of descriptors */
	int			  freeing;
	time_t			  logged_pause;
	struct httpd_stats	  stats;
};

/* The listener's error callback gets the evhttp: this finds its httpd. */
static TAILQ_HEAD(, httpd) servers = TAILQ_HEAD_INITIALIZER(servers);

#define HTML_TYPE	"Content-Type: text/html\r\n"
#define HTML_END	"</BODY></HTML>\n"

/* The JSON error body, to free(); NULL when out of memory. */
static char *
error_text(const char *code, const char *message)
{
	json_t *o = json_pack("{s:{s:s, s:s}}", "error", "code", code,
	    "message", message);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return text;
}

void
httpd_reply_error(struct evhttp_request *req, int status, const char *code,
    const char *message)
{
	struct evbuffer *out = evbuffer_new();
	char *text = error_text(code, message);

	if (out == NULL || text == NULL) {
		evhttp_send_error(req, 500, "Internal Server Error");
		free(text);
		if (out != NULL)
			evbuffer_free(out);
		return;
	}
	evbuffer_add_printf(out, "%s\n", text);
	free(text);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evhttp_send_reply(req, status, NULL, out);
	evbuffer_free(out);
}

/* Reading what the client sends, as libevent 2.1 reads it. */

/* Whether libevent reads line as a chunk size (evhttp_handle_chunked_read). */
static int
chunk_size_ok(const char *line, long long *size)
{
	char *end;

	*size = strtoll(line, &end, 16);
	return *line != '\0' && (*end == '\0' || *end == ' ') && *size >= 0;
}

/* Whether a Transfer-Encoding value names chunked, as libevent reads it. */
static int
has_chunked(const char *value)
{
	size_t len;

	while (*value == ' ' || *value == '\t')
		value++;
	for (len = strlen(value); len > 0 && (value[len - 1] == ' ' ||
	    value[len - 1] == '\t'); len--)
		;
	return len == 7 && strncasecmp(value, "chunked", 7) == 0;
}

static void
scan_line(struct scan *s)
{
	long long size;

	if (s->linelen > 0 && s->line[s->linelen - 1] == '\r')
		s->linelen--;
	s->line[s->linelen] = '\0';
	if (s->state == SCAN_HEAD) {
		if (s->linelen == 0) {
			s->head_done = 1;
			s->state = s->chunked ? SCAN_CHUNK_SIZE : SCAN_REST;
		} else if (strncasecmp(s->line, "transfer-encoding:", 18) ==
		    0 && has_chunked(s->line + 18))
			s->chunked = 1;
	} else if (s->linelen == 0)
		;	/* the line end after a chunk's data */
	else if (!chunk_size_ok(s->line, &size)) {
		s->bad_chunk = 1;
		s->state = SCAN_REST;
	} else if (size == 0)
		s->state = SCAN_REST;	/* the last chunk */
	else {
		s->chunk_left = size;
		s->state = SCAN_CHUNK_DATA;
	}
	s->linelen = 0;
}

static void
scan_feed(struct scan *s, const char *p, size_t n)
{
	size_t skip;

	while (n > 0 && s->state != SCAN_REST) {
		if (s->state == SCAN_CHUNK_DATA) {
			skip = (unsigned long long)s->chunk_left < n ?
			    (size_t)s->chunk_left : n;
			p += skip;
			n -= skip;
			if ((s->chunk_left -= (long long)skip) == 0)
				s->state = SCAN_CHUNK_SIZE;
			continue;
		}
		if (s->state == SCAN_HEAD)
			s->head_bytes++;
		if (*p == '\n')
			scan_line(s);
		else if (s->linelen < sizeof(s->line) - 1)
			s->line[s->linelen++] = *p;
		p++;
		n--;
	}
}

/* The input buffer grew: the new bytes are its last n_added. */
static void
conn_input(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct conn *c = arg;
	struct evbuffer_iovec v[16];
	struct evbuffer_ptr pos;
	size_t len = evbuffer_get_length(buf);
	int i, n;

	if (info->n_added == 0 || c->scan.state == SCAN_REST)
		return;
	if (info->n_added > len || evbuffer_ptr_set(buf, &pos,
	    len - info->n_added, EVBUFFER_PTR_SET) == -1) {
		c->scan.state = SCAN_REST;	/* lost track: tell nothing */
		return;
	}
	n = evbuffer_peek(buf, (ev_ssize_t)info->n_added, &pos, v, 16);
	for (i = 0; i < n && i < 16; i++)
		scan_feed(&c->scan, v[i].iov_base, v[i].iov_len);
}

/* Rewriting libevent's error pages. */

/* 1 when buf ends with want. */
static int
tail_equals(struct evbuffer *buf, const char *want)
{
	size_t len = evbuffer_get_length(buf), wl = strlen(want);
	struct evbuffer_ptr pos;
	char tail[64];

	if (len < wl || wl > sizeof(tail) ||
	    evbuffer_ptr_set(buf, &pos, len - wl, EVBUFFER_PTR_SET) == -1 ||
	    evbuffer_copyout_from(buf, &pos, tail, wl) != (ev_ssize_t)wl)
		return 0;
	return memcmp(tail, want, wl) == 0;
}

/* Our code and words for the status libevent chose. */
static enum halle_errcode
error_for(const struct conn *c, int status, char *msg, size_t len)
{
	const struct httpd_limits *lim = &c->h->lim;

	/* libevent says 400 or 413 for headers over the limit. */
	if (!c->scan.head_done &&
	    c->scan.head_bytes > (size_t)lim->max_headers) {
		snprintf(msg, len, "the request line and headers are over the "
		    "limit of %ld bytes", lim->max_headers);
		return HALLE_E_HEADERS_TOO_LARGE;
	}
	if (c->scan.bad_chunk) {
		snprintf(msg, len, "a chunk size of the body is not a "
		    "hexadecimal number");
		return HALLE_E_BAD_REQUEST;
	}
	if (status == 413) {
		snprintf(msg, len, "the request body is over the limit of %ld "
		    "bytes", lim->max_body);
		return HALLE_E_BODY_TOO_LARGE;
	}
	if (status >= 500) {
		snprintf(msg, len, "the server could not answer (out of "
		    "memory?)");
		return HALLE_E_INTERNAL;
	}
	snprintf(msg, len, "the request is not HTTP/1.1 that this server "
	    "reads: a bad request line, header, Content-Length or "
	    "Transfer-Encoding (libevent said %d)", status);
	return HALLE_E_BAD_REQUEST;
}

static const char *
reason_of(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 413: return "Payload Too Large";
	case 431: return "Request Header Fields Too Large";
	default: return "Error";
	}
}

/*
 * buf ends with libevent's whole error page: replaces it (from its status
 * line on) with our answer, keeping what came before it.
 */
static void
rewrite_error(struct conn *c, struct evbuffer *buf)
{
	size_t len = evbuffer_get_length(buf), start = 0, i;
	const char *all = (const char *)evbuffer_pullup(buf, -1);
	enum halle_errcode code;
	char msg[256], *text;
	int status;

	if (all == NULL)
		return;
	for (i = 0; i + 12 <= len; i++)
		if ((i == 0 || all[i - 1] == '\n') &&
		    memcmp(all + i, "HTTP/1.", 7) == 0)
			start = i;
	if (len - start < 12 || memcmp(all + start, "HTTP/1.", 7) != 0)
		return;
	code = error_for(c, atoi(all + start + 9), msg, sizeof(msg));
	status = api_http_status(code);
	if ((text = error_text(halle_strerror(code), msg)) == NULL)
		return;
	evbuffer_cb_clear_flags(buf, c->out_cb, EVBUFFER_CB_ENABLED);
	evbuffer_drain(buf, len);	/* all of it was from this request */
	evbuffer_add_printf(buf, "HTTP/1.1 %d %s\r\nContent-Type: "
	    "application/json\r\nConnection: close\r\nContent-Length: %zu\r\n"
	    "\r\n%s\n", status, reason_of(status), strlen(text) + 1, text);
	evbuffer_cb_set_flags(buf, c->out_cb, EVBUFFER_CB_ENABLED);
	free(text);
	c->h->stats.rewritten_errors++;
}

/*
 * The output buffer grew. libevent's error page is written a header at a
 * time, then the page: "Content-Type: text/html" marks it (our answers
 * are JSON or text/plain), the page's last line ends it.
 */
static void
conn_output(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct conn *c = arg;

	if (info->n_added == 0)
		return;
	if (!c->html) {
		c->html = info->n_added == strlen(HTML_TYPE) &&
		    tail_equals(buf, HTML_TYPE);
		return;
	}
	if (tail_equals(buf, HTML_END)) {
		c->html = 0;
		rewrite_error(c, buf);
	}
}

/* Connections. */

static void
listener_update(struct httpd *h)
{
	struct evconnlistener *l;

	if (h->bound == NULL || h->freeing ||
	    (l = evhttp_bound_socket_get_listener(h->bound)) == NULL)
		return;
	if (h->paused || h->stats.connections >= h->lim.max_connections)
		evconnlistener_disable(l);
	else
		evconnlistener_enable(l);
}

static void
deadline_arm(struct conn *c)
{
	struct timeval tv = { c->h->lim.request_timeout_s, 0 };

	evtimer_add(c->deadline, &tv);
}

/* Forgets c, whose connection has closed; its bufferevent still lives. */
static void
conn_gone(struct conn *c)
{
	struct httpd *h = c->h;

	if (c->in_cb != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_input(c->bev),
		    c->in_cb);
	if (c->out_cb != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_output(c->bev),
		    c->out_cb);
	if (c->deadline != NULL)
		event_free(c->deadline);
	free(c);
	h->stats.connections--;
	listener_update(h);
}

static void
conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct conn *c = arg;

	evhttp_connection_set_closecb(evcon, NULL, NULL);
	TAILQ_REMOVE(&c->h->live, c, entry);
	if (c->on_close != NULL)
		c->on_close(c->on_close_arg);
	conn_gone(c);
}

static void
conn_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	c->h->stats.request_timeouts++;
	log_debug("%s: closing a connection that sent no whole request in "
	    "%d s", c->h->lim.name, c->h->lim.request_timeout_s);
	evhttp_connection_free(c->evcon);	/* conn_closed frees c */
}

static struct conn *
conn_of(struct httpd *h, struct evhttp_connection *evcon)
{
	struct conn *c;

	TAILQ_FOREACH(c, &h->live, entry)
		if (c->evcon == evcon)
			return c;
	return NULL;
}

/* evhttp's bevcb: a connection was accepted. */
static struct bufferevent *
conn_new(struct event_base *base, void *arg)
{
	struct httpd *h = arg;
	struct bufferevent *bev;
	struct conn *c;

	/* What evhttp makes when there is no bevcb. */
	if ((bev = bufferevent_socket_new(base, -1, 0)) == NULL)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return bev;	/* served, not followed */
	c->h = h;
	c->bev = bev;
	c->deadline = evtimer_new(base, conn_deadline, c);
	c->in_cb = evbuffer_add_cb(bufferevent_get_input(bev), conn_input, c);
	c->out_cb = evbuffer_add_cb(bufferevent_get_output(bev), conn_output,
	    c);
	h->stats.connections++;
	h->stats.accepted++;
	if (c->deadline == NULL || c->in_cb == NULL || c->out_cb == NULL) {
		conn_gone(c);
		return bev;
	}
	/* Held until attach: evhttp may free it before, if setfd fails. */
	bufferevent_incref(bev);
	TAILQ_INSERT_TAIL(&h->pending, c, entry);
	event_active(h->attach_ev, EV_TIMEOUT, 1);
	if (h->stats.connections == h->lim.max_connections)
		h->stats.connection_cap_hits++;
	listener_update(h);
	return bev;
}

static void
attach_pending(evutil_socket_t fd, short what, void *arg)
{
	struct httpd *h = arg;
	bufferevent_data_cb readcb;
	struct bufferevent *bev;
	struct conn *c;
	void *cbarg;

	while ((c = TAILQ_FIRST(&h->pending)) != NULL) {
		TAILQ_REMOVE(&h->pending, c, entry);
		bev = c->bev;
		bufferevent_getcb(bev, &readcb, NULL, NULL, &cbarg);
		if (readcb == NULL)	/* evhttp dropped it */
			conn_gone(c);
		else {
			c->evcon = cbarg;
			evhttp_connection_set_closecb(c->evcon, conn_closed, c);
			TAILQ_INSERT_TAIL(&h->live, c, entry);
			deadline_arm(c);
		}
		bufferevent_decref(bev);
	}
}

/* Accepting. */

static void
accept_resume(evutil_socket_t fd, short what, void *arg)
{
	struct httpd *h = arg;

	h->paused = 0;
	listener_update(h);
}

static void
accept_failed(struct evconnlistener *l, void *arg)
{
	struct timeval tv;
	struct httpd *h;
	int e = EVUTIL_SOCKET_ERROR();
	time_t now = time(NULL);

	TAILQ_FOREACH(h, &servers, entry)
		if (h->http == arg)
			break;
	if (h == NULL) {
		evconnlistener_disable(l);
		return;
	}
	h->stats.accept_pauses++;
	h->paused = 1;
	listener_update(h);
	tv.tv_sec = h->lim.accept_pause_ms / 1000;
	tv.tv_usec = (h->lim.accept_pause_ms % 1000) * 1000;
	evtimer_add(h->resume_ev, &tv);
	if (h->logged_pause == 0 || now - h->logged_pause >= 60) {
		log_warnx("%s: accept: %s; accepting again in %d ms (%llu "
		    "pauses so far, logged once a minute)", h->lim.name,
		    strerror(e), h->lim.accept_pause_ms,
		    (unsigned long long)h->stats.accept_pauses);
		h->logged_pause = now;
	}
}

/* evhttp's callback: a whole request has been read. */
static void
request_done(struct evhttp_request *req, void *arg)
{
	struct conn *c = arg;

	memset(&c->scan, 0, sizeof(c->scan));
	c->html = 0;
	deadline_arm(c);
}

static void
httpd_request(struct evhttp_request *req, void *arg)
{
	struct httpd *h = arg;
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct conn *c = conn_of(h, evhttp_request_get_connection(req));

	if (c != NULL) {
		evtimer_del(c->deadline);
		evhttp_request_set_on_complete_cb(req, request_done, c);
	}
	if (evhttp_find_header(in, "Transfer-Encoding") != NULL &&
	    evhttp_find_header(in, "Content-Length") != NULL) {
		httpd_reply_error(req, api_http_status(HALLE_E_BAD_REQUEST),
		    halle_strerror(HALLE_E_BAD_REQUEST), "the request has both "
		    "Content-Length and Transfer-Encoding: send one");
		return;
	}
	h->handler(req, h->arg);
}

int
httpd_stream(struct evhttp_request *req, void (*on_close)(void *), void *arg)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct timeval writes;
	struct httpd *h;
	struct conn *c = NULL;

	TAILQ_FOREACH(h, &servers, entry)
		if (evcon != NULL && (c = conn_of(h, evcon)) != NULL)
			break;
	if (c == NULL)
		return -1;
	evtimer_del(c->deadline);
	writes.tv_sec = h->lim.io_timeout_s;
	writes.tv_usec = 0;
	bufferevent_set_timeouts(c->bev, NULL, &writes);
	/* It has nothing more to send: what it does is not kept. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, HTTPD_STREAM_INPUT_MAX);
	c->on_close = on_close;
	c->on_close_arg = arg;
	return 0;
}

struct httpd *
httpd_new(struct event_base *base, const struct httpd_limits *limits,
    httpd_handler handler, void *arg)
{
	struct httpd *h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->base = base;
	h->lim = *limits;
	h->handler = handler;
	h->arg = arg;
	TAILQ_INIT(&h->pending);
	TAILQ_INIT(&h->live);
	if ((h->http = evhttp_new(base)) == NULL ||
	    (h->attach_ev = event_new(base, -1, 0, attach_pending, h)) ==
	    NULL || (h->resume_ev = evtimer_new(base, accept_resume, h)) ==
	    NULL) {
		if (h->http != NULL)
			evhttp_free(h->http);
		if (h->attach_ev != NULL)
			event_free(h->attach_ev);
		free(h);
		return NULL;
	}
	evhttp_set_max_headers_size(h->http, limits->max_headers);
	evhttp_set_max_body_size(h->http, limits->max_body);
	evhttp_set_timeout(h->http, limits->io_timeout_s);
	/* Every method reaches the handler, which answers 405 in JSON. */
	evhttp_set_allowed_methods(h->http, 0xffff);
	evhttp_set_bevcb(h->http, conn_new, h);
	evhttp_set_gencb(h->http, httpd_request, h);
	TAILQ_INSERT_TAIL(&servers, h, entry);
	return h;
}

static int
listen_on(struct httpd *h, struct evhttp_bound_socket *bound)
{
	if ((h->bound = bound) == NULL)
		return -1;
	evconnlistener_set_error_cb(evhttp_bound_socket_get_listener(bound),
	    accept_failed);
	return 0;
}

int
httpd_listen_fd(struct httpd *h, evutil_socket_t fd)
{
	return listen_on(h, evhttp_accept_socket_with_handle(h->http, fd));
}

int
httpd_listen_address(struct httpd *h, const char *host, unsigned short port)
{
	return listen_on(h, evhttp_bind_socket_with_handle(h->http, host,
	    port));
}

void
httpd_quiesce(struct httpd *h)
{
	if (h == NULL || h->bound == NULL)
		return;
	evhttp_del_accept_socket(h->http, h->bound);	/* closes it */
	h->bound = NULL;
	evtimer_del(h->resume_ev);
}

void
httpd_free(struct httpd **hp)
{
	struct httpd *h = *hp;
	struct bufferevent *bev;
	struct conn *c;

	if (h == NULL)
		return;
	h->freeing = 1;
	h->bound = NULL;		/* evhttp_free frees it */
	evhttp_free(h->http);		/* closes every connection */
	while ((c = TAILQ_FIRST(&h->pending)) != NULL) {
		TAILQ_REMOVE(&h->pending, c, entry);
		bev = c->bev;
		conn_gone(c);
		bufferevent_decref(bev);
	}
	event_free(h->attach_ev);
	event_free(h->resume_ev);
	TAILQ_REMOVE(&servers, h, entry);
	free(h);
	*hp = NULL;
}

void
httpd_get_stats(const struct httpd *h, struct httpd_stats *out)
{
	*out = h->stats;
}

const struct httpd_limits *
httpd_get_limits(const struct httpd *h)
{
	return &h->lim;
}
