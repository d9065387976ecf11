/*
 * metrics: see metrics.h.
 *
 * Each family is written as
 *
 *   # HELP halle_peer_records_in_total Records accepted from the peer.
 *   # TYPE halle_peer_records_in_total counter
 *   halle_peer_records_in_total{peer="commune-b"} 120
 *
 * Counters end in _total; label values are escaped (\\, \" and \n). The
 * peers' counters live in the sync engine, so they start again from 0 when
 * the daemon restarts or reloads its peers, as Prometheus counters may.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "api_status.h"
#include "events_http.h"
#include "httpd.h"
#include "log.h"
#include "metrics.h"
#include "status.h"

struct metrics {
	struct httpd		*httpd;
	struct metrics_source	 src;
};

/* metrics_listen is for a scraper: GET /metrics, small and quick. */
static const struct httpd_limits metrics_limits = {
	.name = "metrics",
	.max_headers = METRICS_MAX_HEADERS,
	.max_body = METRICS_MAX_BODY,
	.max_connections = METRICS_MAX_CONNECTIONS,
	.request_timeout_s = METRICS_REQUEST_TIMEOUT,
	.io_timeout_s = METRICS_IO_TIMEOUT,
	.accept_pause_ms = METRICS_ACCEPT_PAUSE_MS,
};

static void
family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
label_value(FILE *f, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

/* One sample: name, value, then nlabels pairs of label name and value. */
static void
sample(FILE *f, const char *name, long long value, int nlabels, ...)
{
	va_list ap;
	int i;

	fputs(name, f);
	va_start(ap, nlabels);
	for (i = 0; i < nlabels; i++) {
		fprintf(f, "%s%s=\"", i ? "," : "{", va_arg(ap, const char *));
		label_value(f, va_arg(ap, const char *));
		fputc('"', f);
	}
	va_end(ap);
	fprintf(f, "%s %lld\n", nlabels ? "}" : "", value);
}

static void
node_metrics(FILE *f, const struct service_status *st)
{
	family(f, "halle_info", "gauge", "The node: its name, key and "
	    "version (always 1).");
	sample(f, "halle_info", 1, 3, "name", st->name, "id", st->id,
	    "version", st->version);
	family(f, "halle_uptime_seconds", "gauge",
	    "Seconds since the daemon started.");
	sample(f, "halle_uptime_seconds", (long long)st->uptime_s, 0);
	family(f, "halle_records", "gauge", "Records held, in all feeds.");
	sample(f, "halle_records", (long long)st->records, 0);
	family(f, "halle_feeds", "gauge", "Feeds held.");
	sample(f, "halle_feeds", (long long)st->feeds, 0);
	family(f, "halle_store_bytes", "gauge",
	    "Bytes the LMDB data file uses.");
	sample(f, "halle_store_bytes", (long long)st->bytes, 0);
	family(f, "halle_store_map_bytes", "gauge",
	    "The LMDB map size in bytes (it grows when full).");
	sample(f, "halle_store_map_bytes", (long long)st->map_bytes, 0);
	family(f, "halle_writable", "gauge", "1 when the node takes writes; 0 "
	    "while it waits for its peers' word on its own feed, or when "
	    "that feed is forked.");
	sample(f, "halle_writable", st->writable, 0);
}

/* The label of feed i: its node's name when known, else its key. */
static const char *
feed_label(const struct daemon_status *st, size_t i)
{
	const char *name = st->feeds[i].name;
	size_t k;

	if (name == NULL || name[0] == '\0')
		return st->feeds[i].origin_hex;
	for (k = 0; k < i; k++)
		if (st->feeds[k].name != NULL &&
		    strcmp(st->feeds[k].name, name) == 0)
			return st->feeds[i].origin_hex;
	return name;
}

/*
 * Per feed. Its label is unique: a name (at most 63 characters) taken by
 * an earlier feed gives way to the key (64 hex digits, one feed each).
 */
static void
feed_metrics(FILE *f, const struct daemon_status *st)
{
	size_t i;

	family(f, "halle_feed_records", "gauge",
	    "Records held of each feed, by its origin node.");
	for (i = 0; i < st->nfeeds; i++)
		sample(f, "halle_feed_records",
		    (long long)st->feeds[i].head_seq, 1, "origin",
		    feed_label(st, i));
}

static void
order_metrics(FILE *f, const struct service_order_counts *c)
{
	family(f, "halle_orders", "gauge",
	    "Orders held, not cancelled (all distributions).");
	sample(f, "halle_orders", (long long)c->orders, 0);
	family(f, "halle_orders_cancelled", "gauge", "Cancelled orders held.");
	sample(f, "halle_orders_cancelled", (long long)c->cancelled, 0);
	family(f, "halle_order_lines", "gauge", "Lines of the orders not "
	    "cancelled, by the state of their ruling.");
	sample(f, "halle_order_lines", (long long)c->lines_pending, 1,
	    "state", "pending");
	sample(f, "halle_order_lines", (long long)c->lines_confirmed, 1,
	    "state", "confirmed");
	sample(f, "halle_order_lines", (long long)c->lines_refused, 1,
	    "state", "refused");
	family(f, "halle_order_lines_confirmed_locally", "gauge", "Lines "
	    "this node confirmed in full from its stock rights, without the "
	    "producer's home.");
	sample(f, "halle_order_lines_confirmed_locally",
	    (long long)c->lines_confirmed_locally, 0);
	family(f, "halle_stock_rights", "gauge", "Stock rights of this "
	    "node's markets: held (granted less given back), and free.");
	sample(f, "halle_stock_rights", (long long)c->rights_held, 1,
	    "state", "held");
	sample(f, "halle_stock_rights", (long long)c->rights_free, 1,
	    "state", "free");
	family(f, "halle_stock_overusers", "gauge", "Nodes seen confirming "
	    "beyond the stock rights this node granted them.");
	sample(f, "halle_stock_overusers", (long long)c->overusers, 0);
	family(f, "halle_ids_claimed", "gauge", "Records of other nodes "
	    "refused for claiming an id another node owns.");
	sample(f, "halle_ids_claimed", (long long)c->ids_claimed, 0);
}

/* A family with one sample per peer, expr of struct peer_status *p. */
#define PEERS(fam, type, help, expr) do {				\
	family(f, fam, type, help);					\
	for (i = 0; i < st->npeers; i++) {				\
		p = &st->peers[i];					\
		sample(f, fam, (long long)(expr), 1, "peer", p->name);	\
	}								\
} while (0)

static void
peer_metrics(FILE *f, const struct daemon_status *st)
{
	const struct peer_status *p;
	size_t i;

	if (!st->linked)
		return;		/* no peer configured */
	PEERS("halle_peer_up", "gauge",
	    "1 when the link to the peer is up, else 0.", status_peer_up(p));
	PEERS("halle_peer_records_in_total", "counter",
	    "New records accepted from the peer.", p->records_in);
	PEERS("halle_peer_records_out_total", "counter",
	    "Records sent to the peer.", p->records_out);
	PEERS("halle_peer_rejected_total", "counter",
	    "Runs and messages refused from the peer.", p->rejected);
	PEERS("halle_peer_forks_total", "counter",
	    "Forks the peer's runs proved.", p->forks);
	PEERS("halle_peer_bytes_in_total", "counter",
	    "Bytes of peer protocol received from the peer.", p->bytes_in);
	PEERS("halle_peer_bytes_out_total", "counter",
	    "Bytes of peer protocol sent to the peer.", p->bytes_out);
	PEERS("halle_peer_bytes_in_flight", "gauge", "Bytes of records sent "
	    "to the peer and not yet acknowledged.", p->bytes_in_flight);
	PEERS("halle_peer_records_to_go", "gauge", "Records this node lacks "
	    "of the feeds it pulls from the peer, frozen feeds aside: what "
	    "its catch-up from the peer has to go.", p->to_go);
	family(f, "halle_peer_lag_records", "gauge", "Records the peer holds "
	    "that this node lacks (in), and the reverse (out).");
	for (i = 0; i < st->npeers; i++) {
		p = &st->peers[i];
		sample(f, "halle_peer_lag_records", (long long)p->lag_in, 2,
		    "peer", p->name, "direction", "in");
		sample(f, "halle_peer_lag_records", (long long)p->lag_out, 2,
		    "peer", p->name, "direction", "out");
	}
	family(f, "halle_handshakes_refused_total", "counter",
	    "CURVE handshakes refused to keys of no configured peer.");
	sample(f, "halle_handshakes_refused_total",
	    (long long)st->handshakes_refused, 0);
}
#undef PEERS

/* The bounds of the HTTP servers and what they met (httpd.h). */
static void
server_metrics(FILE *f, const struct httpd *const *servers, int n)
{
	struct httpd_stats st[2];
	int i;

	for (i = 0; i < n; i++)
		httpd_get_stats(servers[i], &st[i]);
#define SERVERS(fam, type, help, expr) do {				\
	family(f, fam, type, help);					\
	for (i = 0; i < n; i++)						\
		sample(f, fam, (long long)(expr), 1, "server",		\
		    httpd_get_limits(servers[i])->name);		\
} while (0)
	SERVERS("halle_http_connections", "gauge",
	    "HTTP connections open now.", st[i].connections);
	SERVERS("halle_http_connections_max", "gauge", "The most HTTP "
	    "connections open at once; at it, accepting waits.",
	    httpd_get_limits(servers[i])->max_connections);
	SERVERS("halle_http_connections_total", "counter",
	    "HTTP connections accepted.", st[i].accepted);
	SERVERS("halle_http_connection_cap_total", "counter", "Times the "
	    "open connections reached the most there may be.",
	    st[i].connection_cap_hits);
	SERVERS("halle_http_request_timeouts_total", "counter", "Connections "
	    "closed for sending no whole request in time.",
	    st[i].request_timeouts);
	SERVERS("halle_http_accept_pauses_total", "counter", "Times accepting "
	    "paused because accept() found no descriptor free.",
	    st[i].accept_pauses);
	SERVERS("halle_http_unreadable_requests_total", "counter", "Requests "
	    "refused before routing: too large, or not HTTP as read.",
	    st[i].rewritten_errors);
#undef SERVERS
}

/* The event streams of GET /v1/events (events_http.h). */
static void
stream_metrics(FILE *f, const struct events_http_stats *st)
{
	family(f, "halle_event_streams", "gauge",
	    "Event streams (GET /v1/events) open now.");
	sample(f, "halle_event_streams", st->streams, 0);
	family(f, "halle_event_streams_max", "gauge",
	    "The most event streams open at once; past it, 503.");
	sample(f, "halle_event_streams_max", EVENTS_MAX_STREAMS, 0);
	family(f, "halle_event_streams_total", "counter",
	    "Event streams started.");
	sample(f, "halle_event_streams_total", (long long)st->served, 0);
	family(f, "halle_event_streams_dropped_total", "counter", "Event "
	    "streams ended because their client took nothing in time.");
	sample(f, "halle_event_streams_dropped_total", (long long)st->dropped,
	    0);
	family(f, "halle_event_streams_refused_total", "counter",
	    "Event streams refused: as many open as there may be.");
	sample(f, "halle_event_streams_refused_total", (long long)st->refused,
	    0);
}

char *
metrics_text(const struct metrics_source *src, struct halle_error *err)
{
	struct daemon_status st;
	struct events_http_stats streams;
	const struct httpd *servers[2];
	char *text = NULL;
	size_t len;
	FILE *f;
	int nservers;

	if (src->status(src->arg, &st, err) == -1)
		return NULL;
	nservers = src->servers(src->arg, servers);
	if ((f = open_memstream(&text, &len)) == NULL) {
		error_set(err, HALLE_E_INTERNAL, "out of memory");
		status_free(&st);
		return NULL;
	}
	node_metrics(f, &st.node);
	feed_metrics(f, &st);
	order_metrics(f, &st.node.orders);
	peer_metrics(f, &st);
	server_metrics(f, servers, nservers);
	if (src->streams != NULL && src->streams(src->arg, &streams) == 0)
		stream_metrics(f, &streams);
	if (fclose(f) != 0) {
		free(text);
		text = NULL;
		error_set(err, HALLE_E_INTERNAL, "out of memory");
	}
	status_free(&st);
	return text;
}

/* The listener of metrics_listen: GET /metrics and nothing else. */

static void
metrics_request(struct evhttp_request *req, void *arg)
{
	struct metrics *m = arg;
	struct halle_error err = { HALLE_E_INTERNAL, "unexpected failure" };
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type method = evhttp_request_get_command(req);
	struct evbuffer *out;
	char *text;

	if (path == NULL || strcmp(path, "/metrics") != 0)
		error_set(&err, HALLE_E_NOT_FOUND, "not found: this listener serves "
		    "GET /metrics only");
	else if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD");
		error_set(&err, HALLE_E_METHOD_NOT_ALLOWED, "GET only");
	} else if ((text = metrics_text(&m->src, &err)) != NULL) {
		if ((out = evbuffer_new()) == NULL) {
			free(text);
			httpd_reply_error(req, 500,
			    halle_strerror(HALLE_E_INTERNAL), "out of memory");
			return;
		}
		evbuffer_add(out, text, strlen(text));
		free(text);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Type", METRICS_CONTENT_TYPE);
		evhttp_send_reply(req, 200, NULL, out);
		evbuffer_free(out);
		return;
	} else
		log_warnx("metrics: %s: %s", halle_strerror(err.code),
		    err.message);
	httpd_reply_error(req, api_http_status(err.code),
	    halle_strerror(err.code), err.message);
}

int
metrics_start(struct metrics **mp, struct event_base *base,
    const char *address, const struct metrics_source *src, char *err,
    size_t errlen)
{
	struct metrics *m;
	char host[256];
	const char *colon = strrchr(address, ':');
	size_t hostlen = colon ? (size_t)(colon - address) : 0;

	*mp = NULL;
	if (colon == NULL || hostlen + 1 > sizeof(host)) {
		snprintf(err, errlen, "metrics_listen '%s': want HOST:PORT",
		    address);
		return -1;
	}
	/* "[::1]:9742": the host without its brackets. */
	if (address[0] == '[' && hostlen >= 2)
		snprintf(host, sizeof(host), "%.*s", (int)hostlen - 2,
		    address + 1);
	else
		snprintf(host, sizeof(host), "%.*s", (int)hostlen, address);
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	m->src = *src;
	if ((m->httpd = httpd_new(base, &metrics_limits, metrics_request,
	    m)) == NULL || httpd_listen_address(m->httpd, host,
	    (unsigned short)atoi(colon + 1)) == -1) {
		snprintf(err, errlen, "metrics_listen %s: cannot listen: %s",
		    address, strerror(errno));
		httpd_free(&m->httpd);
		free(m);
		return -1;
	}
	log_info("metrics: serving http://%s/metrics", address);
	*mp = m;
	return 0;
}

const struct httpd *
metrics_server(struct metrics *m)
{
	return m->httpd;
}

void
metrics_stop(struct metrics **mp)
{
	if (*mp == NULL)
		return;
	httpd_free(&(*mp)->httpd);
	free(*mp);
	*mp = NULL;
}
