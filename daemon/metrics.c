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
#include "log.h"
#include "metrics.h"
#include "service.h"

struct metrics {
	struct evhttp	*http;
	struct halled	*daemon;
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

static long long
field(json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

static void
node_metrics(FILE *f, json_t *status)
{
	json_t *node = json_object_get(status, "node");
	json_t *store = json_object_get(status, "store");
	family(f, "halle_info", "gauge", "The node: its name, key and "
	    "version (always 1).");
	sample(f, "halle_info", 1, 3,
	    "name", json_string_value(json_object_get(node, "name")),
	    "id", json_string_value(json_object_get(node, "id")),
	    "version", HALLE_VERSION);
	family(f, "halle_uptime_seconds", "gauge",
	    "Seconds since the daemon started.");
	sample(f, "halle_uptime_seconds", field(node, "uptime_s"), 0);
	family(f, "halle_records", "gauge", "Records held, in all feeds.");
	sample(f, "halle_records", field(store, "records"), 0);
	family(f, "halle_feeds", "gauge", "Feeds held.");
	sample(f, "halle_feeds", field(store, "feeds"), 0);
	family(f, "halle_store_bytes", "gauge",
	    "Bytes the LMDB data file uses.");
	sample(f, "halle_store_bytes", field(store, "bytes"), 0);
	family(f, "halle_store_map_bytes", "gauge",
	    "The LMDB map size in bytes (it grows when full).");
	sample(f, "halle_store_map_bytes", field(store, "map_bytes"), 0);
}

/* Per feed: its node's name when known, else its key; each label once. */
static void
feed_metrics(FILE *f, json_t *feeds)
{
	json_t *feed, *seen = json_object();
	const char *name, *origin, *label;
	size_t i;

	family(f, "halle_feed_records", "gauge",
	    "Records held of each feed, by its origin node.");
	json_array_foreach(feeds, i, feed) {
		name = json_string_value(json_object_get(feed, "name"));
		origin = json_string_value(json_object_get(feed, "origin"));
		if (origin == NULL)
			continue;
		label = name != NULL && name[0] != '\0' &&
		    json_object_get(seen, name) == NULL ? name : origin;
		if (json_object_get(seen, label) != NULL)
			continue;
		json_object_set_new(seen, label, json_true());
		sample(f, "halle_feed_records", field(feed, "head_seq"), 1,
		    "origin", label);
	}
	json_decref(seen);
}

static void
order_metrics(FILE *f, const struct svc_order_counts *c)
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
}

/* A family with one sample per peer of status["peers"]. */
static void
peer_family(FILE *f, json_t *peers, const char *name, const char *type,
    const char *help, const char *key)
{
	json_t *p;
	size_t i;

	family(f, name, type, help);
	json_array_foreach(peers, i, p)
		sample(f, name, field(p, key), 1, "peer",
		    json_string_value(json_object_get(p, "name")));
}

static void
peer_metrics(FILE *f, json_t *status)
{
	json_t *peers = json_object_get(status, "peers"), *p;
	const char *name, *state;
	size_t i;

	if (json_object_get(status, "handshakes_refused") == NULL)
		return;		/* no peer configured */
	family(f, "halle_peer_up", "gauge",
	    "1 when the link to the peer is up, else 0.");
	json_array_foreach(peers, i, p) {
		name = json_string_value(json_object_get(p, "name"));
		state = json_string_value(json_object_get(p, "state"));
		sample(f, "halle_peer_up", state != NULL &&
		    strcmp(state, "up") == 0, 1, "peer", name);
	}
	peer_family(f, peers, "halle_peer_records_in_total", "counter",
	    "New records accepted from the peer.", "records_in");
	peer_family(f, peers, "halle_peer_records_out_total", "counter",
	    "Records sent to the peer.", "records_out");
	peer_family(f, peers, "halle_peer_rejected_total", "counter",
	    "Runs and messages refused from the peer.", "rejected");
	peer_family(f, peers, "halle_peer_forks_total", "counter",
	    "Forks the peer's runs proved.", "forks");
	peer_family(f, peers, "halle_peer_bytes_in_total", "counter",
	    "Bytes of peer protocol received from the peer.", "bytes_in");
	peer_family(f, peers, "halle_peer_bytes_out_total", "counter",
	    "Bytes of peer protocol sent to the peer.", "bytes_out");
	family(f, "halle_peer_lag_records", "gauge", "Records the peer holds "
	    "that this node lacks (in), and the reverse (out).");
	json_array_foreach(peers, i, p) {
		name = json_string_value(json_object_get(p, "name"));
		sample(f, "halle_peer_lag_records", field(p, "lag_in"), 2,
		    "peer", name, "direction", "in");
		sample(f, "halle_peer_lag_records", field(p, "lag_out"), 2,
		    "peer", name, "direction", "out");
	}
	family(f, "halle_handshakes_refused_total", "counter",
	    "CURVE handshakes refused to keys of no configured peer.");
	sample(f, "halle_handshakes_refused_total",
	    field(status, "handshakes_refused"), 0);
	family(f, "halle_writable", "gauge", "1 when the node takes writes; 0 "
	    "while it waits for its peers' word on its own feed, or when "
	    "that feed is forked.");
	sample(f, "halle_writable",
	    json_is_true(json_object_get(status, "writable")), 0);
}

char *
metrics_text(struct halled *d, struct halle_error *err)
{
	struct svc_order_counts counts;
	json_t *status = NULL, *feeds = NULL;
	char *text = NULL;
	size_t len;
	FILE *f;

	if ((status = svc_status(&d->node, err)) == NULL ||
	    (feeds = svc_feeds(&d->node, err)) == NULL ||
	    svc_order_counts(&d->node, &counts, err) == -1)
		goto out;
	peers_status(d->peers, status);
	peers_describe_feeds(d->peers, feeds);
	if ((f = open_memstream(&text, &len)) == NULL) {
		herr(err, HALLE_E_INTERNAL, "out of memory");
		goto out;
	}
	node_metrics(f, status);
	feed_metrics(f, feeds);
	order_metrics(f, &counts);
	peer_metrics(f, status);
	if (fclose(f) != 0) {
		free(text);
		text = NULL;
		herr(err, HALLE_E_INTERNAL, "out of memory");
	}
out:
	json_decref(status);
	json_decref(feeds);
	return text;
}

/* The listener of metrics_listen: GET /metrics and nothing else. */

static void
reply_text(struct evhttp_request *req, int status, const char *type,
    const char *text)
{
	struct evbuffer *out = evbuffer_new();

	if (out == NULL) {
		evhttp_send_error(req, 500, "Internal Server Error");
		return;
	}
	evbuffer_add(out, text, strlen(text));
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", type);
	evhttp_send_reply(req, status, NULL, out);
	evbuffer_free(out);
}

static void
metrics_request(struct evhttp_request *req, void *arg)
{
	struct metrics *m = arg;
	struct halle_error err = { HALLE_E_INTERNAL, "unexpected failure" };
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	char *text;

	if (path == NULL || strcmp(path, "/metrics") != 0) {
		reply_text(req, 404, "text/plain", "not found: try /metrics\n");
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET &&
	    evhttp_request_get_command(req) != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD");
		reply_text(req, 405, "text/plain", "GET only\n");
		return;
	}
	if ((text = metrics_text(m->daemon, &err)) == NULL) {
		log_warnx("metrics: %s: %s", halle_strerror(err.code),
		    err.message);
		reply_text(req, api_http_status(err.code), "text/plain",
		    err.message);
		return;
	}
	reply_text(req, 200, METRICS_CONTENT_TYPE, text);
	free(text);
}

int
metrics_start(struct metrics **mp, struct halled *d, const char *address,
    char *err, size_t errlen)
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
	m->daemon = d;
	if ((m->http = evhttp_new(d->base)) == NULL ||
	    evhttp_bind_socket(m->http, host,
	    (unsigned short)atoi(colon + 1)) == -1) {
		snprintf(err, errlen, "metrics_listen %s: cannot listen: %s",
		    address, strerror(errno));
		if (m->http != NULL)
			evhttp_free(m->http);
		free(m);
		return -1;
	}
	evhttp_set_timeout(m->http, 30);
	/* Other methods get our 405 rather than libevent's 501. */
	evhttp_set_max_body_size(m->http, 4096);
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	evhttp_set_gencb(m->http, metrics_request, m);
	log_info("metrics: serving http://%s/metrics", address);
	*mp = m;
	return 0;
}

void
metrics_stop(struct metrics **mp)
{
	if (*mp == NULL)
		return;
	evhttp_free((*mp)->http);
	free(*mp);
	*mp = NULL;
}
