/*
 * ctl_http: see ctl_http.h. A blocking-style client on a non-blocking
 * socket: every wait goes through poll() with what is left of the deadline.
 *
 * The answer accumulates in one buffer and is parsed again after each read,
 * which is cheap for the head; a chunked body is decoded only once its
 * terminating blank line may have arrived. The parse says "whole", "need
 * more" or "malformed"; at end of stream "need more" means the node closed
 * too early, except for a body framed by neither Content-Length nor chunked
 * encoding, which is whole exactly then.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl_http.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL	0
#endif

#define ANSWER_MAX	(64 * 1024 * 1024)	/* bytes: more is not halled */
#define READ_CHUNK	65536

struct buffer {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

/* What the head of an answer says about its body. */
struct http_head {
	int	 status;
	char	 reason[64];
	size_t	 size;		/* bytes up to and including the blank line */
	int	 chunked;
	int	 has_length;
	size_t	 length;
};

enum parse_result { PARSE_BAD = -1, PARSE_MORE = 0, PARSE_WHOLE = 1 };

static long long
clock_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Appends LEN bytes and keeps the buffer NUL-terminated; -1 past the cap. */
static int
buffer_append(struct buffer *b, const char *data, size_t len)
{
	size_t	 cap;
	char	*p;

	if (len > ANSWER_MAX || b->len + len > ANSWER_MAX)
		return (-1);
	if (b->len + len + 1 > b->cap) {
		cap = b->cap ? b->cap : 4096;
		while (cap < b->len + len + 1)
			cap *= 2;
		if ((p = realloc(b->data, cap)) == NULL)
			return (-1);
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return (0);
}

static int
http_connect(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un	 addr;
	int			 fd;

	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(addr.sun_path)) {
		snprintf(err, errlen, "%s", strerror(ENAMETOOLONG));
		return (-1);
	}
	memcpy(addr.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		return (-1);
	}
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == -1 ||
	    fcntl(fd, F_SETFL, O_NONBLOCK) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		close(fd);
		return (-1);
	}
	return (fd);
}

/* Waits for EVENTS on fd until the deadline: 0 when ready, -1 on timeout. */
static int
http_wait(int fd, short events, long long deadline)
{
	struct pollfd	 pfd;
	long long	 left;
	int		 n;

	pfd.fd = fd;
	pfd.events = events;
	for (;;) {
		if ((left = deadline - clock_ms()) <= 0)
			return (-1);
		n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return (0);
		if (n == -1 && errno != EINTR)
			return (-1);
	}
}

static char *
http_format(const char *method, const char *target, const char *body,
    const char *content_type, const char *accept, size_t *lenp)
{
	FILE	*f;
	char	*req = NULL;
	int	 failed;

	if ((f = open_memstream(&req, lenp)) == NULL)
		return (NULL);
	fprintf(f, "%s %s HTTP/1.1\r\nHost: halle\r\nConnection: close\r\n"
	    "Accept: %s\r\n", method, target, accept);
	if (body != NULL)
		fprintf(f, "Content-Type: %s\r\nContent-Length: %zu\r\n",
		    content_type, strlen(body));
	fputs("\r\n", f);
	if (body != NULL)
		fputs(body, f);
	failed = ferror(f);
	if (fclose(f) == EOF || failed) {
		free(req);
		return (NULL);
	}
	return (req);
}

/*
 * Writes the whole request. Returns 0, 1 when the node closed its end
 * early (it may have answered already: read what it said), -1 on timeout.
 */
static int
http_send(int fd, const char *data, size_t len, long long deadline)
{
	size_t	 off = 0;
	ssize_t	 n;

	while (off < len) {
		n = send(fd, data + off, len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (http_wait(fd, POLLOUT, deadline) == -1)
				return (-1);
			continue;
		}
		return (1);
	}
	return (0);
}

/* Finds the next line from *pos; sets *line and *n without the CR LF. */
static int
line_next(const char *buf, size_t len, size_t *pos, const char **line,
    size_t *n)
{
	const char	*nl;

	if (*pos >= len ||
	    (nl = memchr(buf + *pos, '\n', len - *pos)) == NULL)
		return (0);
	*line = buf + *pos;
	*n = (size_t)(nl - *line);
	if (*n > 0 && (*line)[*n - 1] == '\r')
		(*n)--;
	*pos = (size_t)(nl - buf) + 1;
	return (1);
}

static int
status_parse(const char *line, size_t n, struct http_head *head)
{
	size_t	 rlen;

	if (n < 12 || strncmp(line, "HTTP/1.", 7) != 0 || line[8] != ' ' ||
	    line[9] < '1' || line[9] > '5' || line[10] < '0' ||
	    line[10] > '9' || line[11] < '0' || line[11] > '9' ||
	    (n > 12 && line[12] != ' '))
		return (-1);
	head->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 +
	    (line[11] - '0');
	rlen = 0;
	if (n > 13) {			/* "HTTP/1.1 404 " and reason */
		rlen = n - 13;
		if (rlen >= sizeof(head->reason))
			rlen = sizeof(head->reason) - 1;
		memcpy(head->reason, line + 13, rlen);
	}
	head->reason[rlen] = '\0';
	return (0);
}

static int
length_parse(const char *v, size_t n, struct http_head *head)
{
	size_t	 i, length = 0;

	if (n == 0)
		return (-1);
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9' || length > ANSWER_MAX)
			return (-1);
		length = length * 10 + (size_t)(v[i] - '0');
	}
	if (head->has_length && head->length != length)
		return (-1);
	head->has_length = 1;
	head->length = length;
	return (0);
}

/* Takes the headers that matter: Content-Length, Transfer-Encoding. */
static int
header_parse(const char *line, size_t n, struct http_head *head)
{
	const char	*colon, *v;
	size_t		 vn;

	if (line[0] == ' ' || line[0] == '\t')
		return (0);			/* obsolete folding: ignored */
	if ((colon = memchr(line, ':', n)) == NULL)
		return (-1);
	v = colon + 1;
	vn = n - (size_t)(v - line);
	while (vn > 0 && (*v == ' ' || *v == '\t'))
		v++, vn--;
	while (vn > 0 && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
		vn--;
	if (colon - line == 14 && strncasecmp(line, "Content-Length", 14) == 0)
		return (length_parse(v, vn, head));
	if (colon - line == 17 &&
	    strncasecmp(line, "Transfer-Encoding", 17) == 0) {
		if (vn < 7 || strncasecmp(v + vn - 7, "chunked", 7) != 0)
			return (-1);		/* no other coding is ours */
		head->chunked = 1;
	}
	return (0);
}

static enum parse_result
head_parse(const char *buf, size_t len, struct http_head *head,
    char *err, size_t errlen)
{
	const char	*line;
	size_t		 pos = 0, n;

	memset(head, 0, sizeof(*head));
	if (!line_next(buf, len, &pos, &line, &n))
		return (PARSE_MORE);
	if (status_parse(line, n, head) == -1) {
		snprintf(err, errlen, "not an HTTP/1.x status line");
		return (PARSE_BAD);
	}
	while (line_next(buf, len, &pos, &line, &n)) {
		if (n == 0) {
			head->size = pos;
			return (PARSE_WHOLE);
		}
		if (header_parse(line, n, head) == -1) {
			snprintf(err, errlen, "bad header '%.*s'",
			    (int)(n > 80 ? 80 : n), line);
			return (PARSE_BAD);
		}
	}
	return (PARSE_MORE);
}

/* Reads a chunk-size line: hex digits, maybe followed by ";extensions". */
static int
chunk_size(const char *line, size_t n, size_t *size)
{
	size_t	 i, v = 0;
	int	 d;

	for (i = 0; i < n; i++) {
		if (line[i] >= '0' && line[i] <= '9')
			d = line[i] - '0';
		else if ((line[i] | 0x20) >= 'a' && (line[i] | 0x20) <= 'f')
			d = (line[i] | 0x20) - 'a' + 10;
		else
			break;
		if (v > ANSWER_MAX)
			return (-1);
		v = v * 16 + (size_t)d;
	}
	if (i == 0 || (i < n && line[i] != ';' && line[i] != ' ' &&
	    line[i] != '\t'))
		return (-1);
	*size = v;
	return (0);
}

static enum parse_result
chunks_decode(const char *p, size_t len, struct buffer *out)
{
	const char	*line;
	size_t		 pos = 0, n, size;

	for (;;) {
		if (!line_next(p, len, &pos, &line, &n))
			return (PARSE_MORE);
		if (chunk_size(line, n, &size) == -1)
			return (PARSE_BAD);
		if (size == 0)
			break;
		if (len - pos < size)
			return (PARSE_MORE);
		if (buffer_append(out, p + pos, size) == -1)
			return (PARSE_BAD);
		pos += size;
		if (!line_next(p, len, &pos, &line, &n))
			return (PARSE_MORE);
		if (n != 0)
			return (PARSE_BAD);
	}
	while (line_next(p, len, &pos, &line, &n))	/* trailers */
		if (n == 0)
			return (PARSE_WHOLE);
	return (PARSE_MORE);
}

static int
chunks_may_end(const char *p, size_t len)
{
	return ((len >= 2 && memcmp(p + len - 2, "\n\n", 2) == 0) ||
	    (len >= 4 && memcmp(p + len - 4, "\r\n\r\n", 4) == 0));
}

static enum parse_result
body_parse(const char *p, size_t len, const struct http_head *head, int eof,
    struct buffer *body)
{
	enum parse_result	 r;

	if (head->status == 204 || head->status == 304)
		return (buffer_append(body, "", 0) ? PARSE_BAD : PARSE_WHOLE);
	if (head->chunked) {
		if (!eof && !chunks_may_end(p, len))
			return (PARSE_MORE);
		r = chunks_decode(p, len, body);
		if (r == PARSE_WHOLE && buffer_append(body, "", 0) == -1)
			r = PARSE_BAD;
		if (r != PARSE_WHOLE)
			body->len = 0;
		return (r);
	}
	if (head->has_length) {
		if (len < head->length)
			return (PARSE_MORE);
		len = head->length;
	} else if (!eof)
		return (PARSE_MORE);
	return (buffer_append(body, p, len) ? PARSE_BAD : PARSE_WHOLE);
}

static enum parse_result
http_parse(const struct buffer *in, int eof, struct ctl_http_reply *reply,
    char *err, size_t errlen)
{
	struct http_head	 head;
	struct buffer		 body = { NULL, 0, 0 };
	size_t			 off = 0;
	enum parse_result	 r;

	for (;;) {
		r = head_parse(in->data + off, in->len - off, &head, err,
		    errlen);
		if (r != PARSE_WHOLE)
			return (r);
		if (head.status >= 200)
			break;
		off += head.size;		/* an interim 1xx answer */
	}
	off += head.size;
	r = body_parse(in->data + off, in->len - off, &head, eof, &body);
	if (r == PARSE_BAD)
		snprintf(err, errlen, "malformed or oversized body");
	if (r != PARSE_WHOLE) {
		free(body.data);
		return (r);
	}
	reply->status = head.status;
	memcpy(reply->reason, head.reason, sizeof(reply->reason));
	reply->body = body.data;
	reply->body_len = body.len;
	return (PARSE_WHOLE);
}

/* Reads until the answer is whole; returns 0 or an enum ctl_http_error. */
static int
http_receive(int fd, long long deadline, struct ctl_http_reply *reply,
    char *err, size_t errlen)
{
	struct buffer		 in = { NULL, 0, 0 };
	char			 chunk[READ_CHUNK];
	enum parse_result	 r = PARSE_MORE;
	ssize_t			 n;
	int			 eof = 0, ret = CTL_HTTP_BAD_ANSWER;

	while (r == PARSE_MORE && !eof) {
		if (http_wait(fd, POLLIN, deadline) == -1) {
			snprintf(err, errlen, "no whole answer in time");
			ret = CTL_HTTP_TIMEOUT;
			goto done;
		}
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n == -1 && errno != ECONNRESET) {
			snprintf(err, errlen, "read: %s", strerror(errno));
			goto done;
		}
		if (n <= 0)
			eof = 1;
		else if (buffer_append(&in, chunk, (size_t)n) == -1) {
			snprintf(err, errlen, "answer over %d bytes",
			    ANSWER_MAX);
			goto done;
		}
		if (in.len > 0)
			r = http_parse(&in, eof, reply, err, errlen);
	}
	if (r == PARSE_MORE)
		snprintf(err, errlen, in.len ? "connection closed mid-answer" :
		    "connection closed without an answer");
	if (r == PARSE_WHOLE)
		ret = 0;
done:
	free(in.data);
	return (ret);
}

int
ctl_http_exchange(struct ctl_http_reply *reply, const char *socket_path,
    const char *method, const char *target, const char *body,
    int timeout_ms, char *err, size_t errlen)
{
	return (ctl_http_exchange_as(reply, socket_path, method, target, body,
	    NULL, NULL, timeout_ms, err, errlen));
}

int
ctl_http_exchange_as(struct ctl_http_reply *reply, const char *socket_path,
    const char *method, const char *target, const char *body,
    const char *content_type, const char *accept, int timeout_ms, char *err,
    size_t errlen)
{
	long long	 deadline = clock_ms() + timeout_ms;
	char		*req;
	size_t		 len;
	int		 fd, ret;

	memset(reply, 0, sizeof(*reply));
	if ((req = http_format(method, target, body, content_type ?
	    content_type : CTL_HTTP_JSON, accept ? accept : CTL_HTTP_JSON,
	    &len)) == NULL) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return (CTL_HTTP_BAD_ANSWER);
	}
	if ((fd = http_connect(socket_path, err, errlen)) == -1) {
		free(req);
		return (CTL_HTTP_UNREACHABLE);
	}
	if (http_send(fd, req, len, deadline) == -1) {
		snprintf(err, errlen, "could not send the request in time");
		ret = CTL_HTTP_TIMEOUT;
	} else
		ret = http_receive(fd, deadline, reply, err, errlen);
	free(req);
	close(fd);
	return (ret);
}

void
ctl_http_reply_free(struct ctl_http_reply *reply)
{
	free(reply->body);
	reply->body = NULL;
	reply->body_len = 0;
}

int
ctl_http_escape(char *out, size_t outlen, const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 len = strlen(out), start = len;
	int			 dots = strcmp(s, ".") == 0 ||
				    strcmp(s, "..") == 0;
	unsigned char		 c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (len + 4 > outlen) {
			out[start] = '\0';
			return (-1);
		}
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '~' || (c == '.' && !dots))
			out[len++] = (char)c;
		else {
			out[len++] = '%';
			out[len++] = hex[c >> 4];
			out[len++] = hex[c & 15];
		}
	}
	out[len] = '\0';
	return (0);
}
