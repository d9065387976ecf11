/*
 * control: see control.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "api_status.h"
#include "control.h"
#include "events_http.h"
#include "httpd.h"
#include "log.h"
#include "metrics.h"

#define SOCKET_PATH_MAX	sizeof(((struct sockaddr_un *)0)->sun_path)

struct control {
	struct httpd		*httpd;
	struct api_context	 ctx;
	struct events_http	*events;	/* GET /v1/events */
	char			 path[SOCKET_PATH_MAX];
	int			 quiesced;
};

static const struct httpd_limits control_limits = {
	.name = "control",
	.max_headers = CONTROL_MAX_HEADERS,
	.max_body = CONTROL_MAX_BODY,
	.max_connections = CONTROL_MAX_CONNECTIONS,
	.request_timeout_s = CONTROL_REQUEST_TIMEOUT,
	.io_timeout_s = CONTROL_IO_TIMEOUT,
	.accept_pause_ms = CONTROL_ACCEPT_PAUSE_MS,
};

static int
socket_live(const struct sockaddr_un *sun)
{
	int fd, live;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	live = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return live;
}

static int
control_listen(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	mode_t old;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s: control socket path too long", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s: exists and is not a socket",
			    path);
			return -1;
		}
		if (socket_live(&sun)) {
			snprintf(err, errlen, "%s: another halled is serving "
			    "this socket", path);
			return -1;
		}
		unlink(path);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		snprintf(err, errlen, "control socket: %s", strerror(errno));
		return -1;
	}
	old = umask(0117);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		snprintf(err, errlen, "%s: bind: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	if (chmod(path, 0660) == -1 || listen(fd, 64) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

static void
reply_json(struct evhttp_request *req, int status, json_t *body,
    const char *type)
{
	struct evbuffer *out = evbuffer_new();
	char *text;

	if (json_is_string(body)) {	/* a text route: see control.h */
		text = strdup(json_string_value(body));
		type = METRICS_CONTENT_TYPE;
	} else
		text = json_dumps(body, JSON_COMPACT);
	if (type == NULL)
		type = "application/json";
	if (out == NULL || text == NULL) {
		httpd_reply_error(req, 500, halle_strerror(HALLE_E_INTERNAL),
		    "out of memory");
		free(text);
		if (out != NULL)
			evbuffer_free(out);
		return;
	}
	evbuffer_add(out, text, strlen(text));
	if (!json_is_string(body))
		evbuffer_add(out, "\n", 1);
	free(text);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", type);
	evhttp_send_reply(req, status, NULL, out);
	evbuffer_free(out);
}

static void
reply_error(struct evhttp_request *req, const struct halle_error *err)
{
	httpd_reply_error(req, api_http_status(err->code),
	    halle_strerror(err->code), err->message);
}

/* Splits a path into decoded segments. 0, or -1 when too many. */
static int
split_path(const char *path, struct api_request *ar)
{
	char *copy, *seg, *save = NULL;

	if ((copy = strdup(path)) == NULL)
		return -1;
	for (seg = strtok_r(copy, "/", &save); seg != NULL;
	    seg = strtok_r(NULL, "/", &save)) {
		if (ar->nsegments == (int)(sizeof(ar->segments) /
		    sizeof(ar->segments[0]))) {
			free(copy);
			return -1;
		}
		ar->segments[ar->nsegments++] = evhttp_uridecode(seg, 0, NULL);
	}
	free(copy);
	return 0;
}

/*
 * 1 when the media types of a Content-Type or Accept header list
 * application/ld+json (parameters and q-values aside).
 */
static int
lists_ld(const char *header)
{
	static const char ld[] = "application/ld+json";
	size_t n = sizeof(ld) - 1;

	while (header != NULL && *header != '\0') {
		header += strspn(header, " \t,");
		if (strncasecmp(header, ld, n) == 0 &&
		    strchr(" \t;,", header[n]) != NULL)
			return 1;
		header = strchr(header, ',');
	}
	return 0;
}

/*
 * Reads the body into ar->body: a JSON object, or {} when empty; a
 * JSON-LD body (ar->body_ld) may be an array.
 */
static int
read_body(struct evhttp_request *req, struct api_request *ar,
    struct halle_error *err)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	json_error_t jerr;
	unsigned char *data;

	if (len > CONTROL_MAX_BODY)
		return error_set(err, HALLE_E_BODY_TOO_LARGE, "the request body is "
		    "%zu bytes, over the limit of %d", len, CONTROL_MAX_BODY);
	if (len == 0) {
		ar->body = json_object();
		return 0;
	}
	data = evbuffer_pullup(in, -1);
	ar->body = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES,
	    &jerr);
	if (ar->body == NULL)
		return error_set(err, HALLE_E_MALFORMED_JSON, "the body is not valid "
		    "JSON: %s at line %d, column %d", jerr.text, jerr.line,
		    jerr.column);
	if (!json_is_object(ar->body) && !(ar->body_ld &&
	    json_is_array(ar->body)))
		return error_set(err, HALLE_E_MALFORMED_JSON,
		    "the body must be a JSON object");
	return 0;
}

static void
control_request(struct evhttp_request *req, void *arg)
{
	struct control *c = arg;
	struct api_request ar;
	struct halle_error err = { HALLE_E_INTERNAL, "unexpected failure" };
	struct evkeyvalq query;
	const struct evhttp_uri *uri;
	struct evkeyvalq *headers = evhttp_request_get_input_headers(req);
	const char *path, *q, *type = NULL;
	json_t *answer = NULL;
	int status = 200, i;

	memset(&ar, 0, sizeof(ar));
	TAILQ_INIT(&query);
	ar.method = evhttp_request_get_command(req);
	uri = evhttp_request_get_evhttp_uri(req);
	path = uri ? evhttp_uri_get_path(uri) : NULL;
	if (path == NULL || split_path(path, &ar) == -1) {
		error_set(&err, HALLE_E_NOT_FOUND, "no such route");
		goto out;
	}
	if ((q = evhttp_uri_get_query(uri)) != NULL &&
	    evhttp_parse_query_str(q, &query) == 0) {
		ar.query_market = evhttp_find_header(&query, "market");
		ar.query_distribution = evhttp_find_header(&query,
		    "distribution");
		ar.query_from = evhttp_find_header(&query, "from");
		ar.query_count = evhttp_find_header(&query, "count");
		ar.query_skip_invalid = evhttp_find_header(&query,
		    "skip_invalid");
		ar.query_dry_run = evhttp_find_header(&query, "dry_run");
		ar.query_since = evhttp_find_header(&query, "since");
	}
	ar.last_event_id = evhttp_find_header(headers, "Last-Event-ID");
	ar.body_ld = lists_ld(evhttp_find_header(headers, "Content-Type"));
	ar.accept_ld = lists_ld(evhttp_find_header(headers, "Accept"));
	if (read_body(req, &ar, &err) == -1)
		goto out;
	answer = api_dispatch(&c->ctx, &ar, &status, &type, &err);
out:
	if (answer != NULL && type != NULL &&
	    strcmp(type, EVENTS_MEDIA_TYPE) == 0)
		events_http_serve(c->events, req, (uint64_t)json_integer_value(
		    json_object_get(answer, "after")));
	else if (answer != NULL)
		reply_json(req, status, answer, type);
	else {
		if (api_http_status(err.code) >= 500)
			log_warnx("control: %s %s: %s", halle_strerror(err.code),
			    path ? path : "?", err.message);
		reply_error(req, &err);
	}
	json_decref(answer);
	json_decref(ar.body);
	for (i = 0; i < ar.nsegments; i++)
		free(ar.segments[i]);
	evhttp_clear_headers(&query);
}

int
control_start(struct control **cp, struct event_base *base, const char *path,
    const struct api_context *ctx, char *err, size_t errlen)
{
	struct control *c;
	int fd;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->ctx = *ctx;
	snprintf(c->path, sizeof(c->path), "%s", path);
	if ((fd = control_listen(path, err, errlen)) == -1) {
		free(c);
		return -1;
	}
	if ((c->events = events_http_new(base, ctx->node)) == NULL ||
	    (c->httpd = httpd_new(base, &control_limits, control_request,
	    c)) == NULL || httpd_listen_fd(c->httpd, fd) == -1) {
		snprintf(err, errlen, "%s: cannot serve HTTP", path);
		httpd_free(&c->httpd);
		events_http_free(&c->events);
		close(fd);
		unlink(path);
		free(c);
		return -1;
	}
	log_info("control: listening on %s", path);
	*cp = c;
	return 0;
}

void
control_quiesce(struct control *c)
{
	if (c == NULL || c->quiesced)
		return;
	httpd_quiesce(c->httpd);	/* closes the socket */
	events_http_end_all(c->events);
	c->quiesced = 1;
	unlink(c->path);
}

const struct httpd *
control_server(struct control *c)
{
	return c != NULL ? c->httpd : NULL;
}

struct events_http *
control_events(struct control *c)
{
	return c != NULL ? c->events : NULL;
}

void
control_stop(struct control **cp)
{
	struct control *c = *cp;

	if (c == NULL)
		return;
	events_http_end_all(c->events);
	httpd_free(&c->httpd);	/* closes the listening socket */
	events_http_free(&c->events);
	unlink(c->path);
	free(c);
	*cp = NULL;
}
