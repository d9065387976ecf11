/*
 * ctl_http: the HTTP client hallectl speaks to halled with, over libcurl.
 *
 * One request per connection, on the node's Unix control socket:
 *
 *   hallectl                               halled
 *      |  connect(control.sock)              |
 *      |  PUT /v1/producers/.. HTTP/1.1 ---->|
 *      |    Host: halle, Connection: close,  |
 *      |    Accept, Content-Type             |
 *      |<---------- HTTP/1.1 201 Created ----|
 *      |<------------------------- close ----|
 *
 * The whole exchange runs under one deadline, and the answer's body is
 * bounded at 64 MiB: past it the exchange fails as CTL_HTTP_BAD_ANSWER
 * ("answer over 67108864 bytes"). Interim 1xx answers are skipped. libcurl
 * stays behind this interface: its codes come out as enum ctl_http_error.
 * Nothing here knows about JSON.
 *
 * A stream (GET /v1/events) is followed instead (ctl_http_follow): no
 * deadline for the whole, but one for silence, and the body handed over
 * as it comes rather than kept.
 */
#ifndef HALLE_CTL_HTTP_H
#define HALLE_CTL_HTTP_H

#include <stddef.h>

struct ctl_http_reply {
	int	 status;		/* 200, 404... */
	char	 reason[64];		/* "Not Found", maybe cut short */
	char	*body;			/* NUL-terminated, never NULL */
	size_t	 body_len;		/* without the NUL */
};

/* Why ctl_http_exchange() failed. */
enum ctl_http_error {
	CTL_HTTP_UNREACHABLE = -1,	/* no connection to the socket */
	CTL_HTTP_TIMEOUT = -2,		/* no whole answer by the deadline */
	CTL_HTTP_BAD_ANSWER = -3	/* connection lost, or not HTTP */
};

/*
 * Sends METHOD TARGET with BODY (a JSON text, or NULL for none) to the Unix
 * socket at SOCKET_PATH and reads the answer into reply, all within
 * TIMEOUT_MS milliseconds. TARGET must already be percent-encoded (see
 * ctl_http_escape). Returns 0 and fills reply, to be released with
 * ctl_http_reply_free(); or returns an enum ctl_http_error and writes the
 * reason (strerror text for CTL_HTTP_UNREACHABLE) into err.
 */
int	ctl_http_exchange(struct ctl_http_reply *reply, const char *socket_path,
	    const char *method, const char *target, const char *body,
	    int timeout_ms, char *err, size_t errlen);

#define CTL_HTTP_JSON	"application/json"

/*
 * The same, with the media type of the body (content_type) and of the
 * answer asked for (accept); NULL is CTL_HTTP_JSON.
 */
int	ctl_http_exchange_as(struct ctl_http_reply *reply,
	    const char *socket_path, const char *method, const char *target,
	    const char *body, const char *content_type, const char *accept,
	    int timeout_ms, char *err, size_t errlen);

/*
 * Something to do while a long exchange runs (a progress bar): tick(arg)
 * is called about once a second while the node has not answered, and
 * more often while bytes move, until the exchange ends.
 */
struct ctl_http_watch {
	void	(*tick)(void *arg);
	void	 *arg;
};

/* ctl_http_exchange_as, calling watch (unless NULL) as it goes. */
int	ctl_http_exchange_watched(struct ctl_http_reply *reply,
	    const char *socket_path, const char *method, const char *target,
	    const char *body, const char *content_type, const char *accept,
	    int timeout_ms, const struct ctl_http_watch *watch, char *err,
	    size_t errlen);

/*
 * Follows the answer to GET TARGET (asking for the media type accept):
 * once it is a 200, each piece of its body goes to fn as it arrives, for
 * as long as the node sends it; fn returns 0 to go on, -1 to stop (the
 * exchange then ends as CTL_HTTP_BAD_ANSWER, "stopped"). With no byte for
 * IDLE_MS milliseconds it fails as CTL_HTTP_TIMEOUT. Any other answer is
 * read into reply as ctl_http_exchange() reads it. Returns 0 when the
 * answer ended (reply->status says which; its body is empty for a 200),
 * or an enum ctl_http_error with the reason in err.
 */
typedef int (*ctl_http_data_fn)(const char *data, size_t len, void *arg);
int	ctl_http_follow(struct ctl_http_reply *reply, const char *socket_path,
	    const char *target, const char *accept, int idle_ms,
	    ctl_http_data_fn fn, void *arg, char *err, size_t errlen);

/* Releases what ctl_http_exchange() put in reply; safe to call twice. */
void	ctl_http_reply_free(struct ctl_http_reply *reply);

/*
 * Appends S, percent-encoded as one path segment or query value (everything
 * but letters, digits and "-._~" is encoded; "." and ".." entirely), to the
 * NUL-terminated string in out. Returns 0, or -1 when it would not fit in
 * OUTLEN bytes (out is then unchanged).
 */
int	ctl_http_escape(char *out, size_t outlen, const char *s);

#endif
