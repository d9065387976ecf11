/*
 * test_ctl_http: the client hallectl and bench_federation talk to halled
 * with (daemon/ctl_http.c, over libcurl), against a scripted server.
 *
 * Each test binds a Unix socket in a fresh directory and forks a child
 * that accepts one connection, reads the request and writes a canned
 * answer (or the request itself, to check what was sent); the parent runs
 * ctl_http_exchange_as() and checks the reply or the error it maps to.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl_http.h"

#define ANSWER_MAX	(64 * 1024 * 1024)

static int	 answer_early;	/* the server answers after the head */
static unsigned	 answer_delay_ms;	/* the server waits before answering */
static int	 server_hold;	/* ...and holds the connection 5 s */

struct server {
	char	 dir[80];
	char	 path[96];
	int	 fd;
	pid_t	 pid;
};

/* Reads the request head and its Content-Length body into buf. */
static size_t
request_read(int fd, char *buf, size_t cap)
{
	size_t	 len = 0, want = 0;
	ssize_t	 n;
	char	*end, *cl;

	for (;;) {
		buf[len] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL) {
			cl = strstr(buf, "Content-Length:");
			want = (size_t)(end + 4 - buf) + (cl != NULL && cl <
			    end ? strtoul(cl + 15, NULL, 10) : 0);
			if (len >= want || answer_early)
				return (len);
		}
		if (len + 1 >= cap || (n = read(fd, buf + len,
		    cap - len - 1)) <= 0)
			return (len);
		len += (size_t)n;
	}
}

static void
write_all(int fd, const char *p, size_t len)
{
	ssize_t	 n;

	while (len > 0 && (n = write(fd, p, len)) > 0) {
		p += n;
		len -= (size_t)n;
	}
}

/*
 * Serves one connection: ANSWER as given, or with "%s" the request that
 * came in the body of a 200; with extra > 0, that many more spaces.
 */
static void
server_start(struct server *s, const char *answer, size_t extra)
{
	struct sockaddr_un	 addr;
	const char		*tmp = getenv("TMPDIR");
	char			 req[65536], *text;
	size_t			 len;
	int			 c;

	snprintf(s->dir, sizeof(s->dir), "%s/ctlhttp.XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->path, sizeof(s->path), "%s/s", s->dir);
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	assert_true(strlen(s->path) < sizeof(addr.sun_path));
	memcpy(addr.sun_path, s->path, strlen(s->path) + 1);
	assert_true((s->fd = socket(AF_UNIX, SOCK_STREAM, 0)) != -1);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&addr,
	    sizeof(addr)), 0);
	assert_int_equal(listen(s->fd, 1), 0);
	assert_true((s->pid = fork()) != -1);
	if (s->pid != 0)
		return;
	signal(SIGPIPE, SIG_IGN);
	if ((c = accept(s->fd, NULL, NULL)) == -1)
		_exit(1);
	request_read(c, req, sizeof(req));
	if (answer_delay_ms > 0)
		usleep(answer_delay_ms * 1000);
	if (strcmp(answer, "%s") == 0) {
		len = strlen(req) + 64;
		if ((text = malloc(len)) == NULL)
			_exit(1);
		snprintf(text, len, "HTTP/1.1 200 OK\r\nContent-Length: %zu"
		    "\r\n\r\n%s", strlen(req), req);
		answer = text;
	}
	write_all(c, answer, strlen(answer));
	for (; extra > 0; extra -= extra > sizeof(req) ? sizeof(req) : extra)
		write_all(c, memset(req, ' ', sizeof(req)),
		    extra > sizeof(req) ? sizeof(req) : extra);
	if (strcmp(answer, "") == 0 || server_hold)
		sleep(5);		/* the client times out */
	close(c);
	_exit(0);
}

static void
server_stop(struct server *s)
{
	kill(s->pid, SIGTERM);
	waitpid(s->pid, NULL, 0);
	close(s->fd);
	unlink(s->path);
	rmdir(s->dir);
}

/* One exchange against a server answering ANSWER; returns its result. */
static int
exchange(const char *answer, size_t extra, const char *method,
    const char *body, const char *content_type, int timeout_ms,
    struct ctl_http_reply *reply, char *err, size_t errlen)
{
	struct server	 s;
	int		 r;

	server_start(&s, answer, extra);
	r = ctl_http_exchange_as(reply, s.path, method, "/v1/x%2Fy", body,
	    content_type, NULL, timeout_ms, err, errlen);
	server_stop(&s);
	return (r);
}

static void
test_reason_after_interim(void **state)
{
	struct ctl_http_reply	 reply;
	char			 err[256];

	assert_int_equal(exchange("HTTP/1.1 100 Continue\r\n\r\n"
	    "HTTP/1.1 418 I'm a teapot\r\nContent-Length: 5\r\n\r\nshort", 0,
	    "GET", NULL, NULL, 5000, &reply, err, sizeof(err)), 0);
	assert_int_equal(reply.status, 418);
	assert_string_equal(reply.reason, "I'm a teapot");
	assert_int_equal(reply.body_len, 5);
	assert_string_equal(reply.body, "short");
	ctl_http_reply_free(&reply);
	ctl_http_reply_free(&reply);
}

static void
test_chunked_and_to_close(void **state)
{
	struct ctl_http_reply	 reply;
	char			 err[256];

	assert_int_equal(exchange("HTTP/1.1 200 OK\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n4\r\n[1,2\r\n3\r\n,3]\r\n0\r\n\r\n", 0, "GET",
	    NULL, NULL, 5000, &reply, err, sizeof(err)), 0);
	assert_string_equal(reply.body, "[1,2,3]");
	ctl_http_reply_free(&reply);
	assert_int_equal(exchange("HTTP/1.1 204 No Content\r\n\r\n", 0,
	    "DELETE", NULL, NULL, 5000, &reply, err, sizeof(err)), 0);
	assert_int_equal(reply.status, 204);
	assert_non_null(reply.body);
	assert_int_equal(reply.body_len, 0);
	ctl_http_reply_free(&reply);
	assert_int_equal(exchange("HTTP/1.1 200 OK\r\n\r\n{\"a\":1}", 0,
	    "GET", NULL, NULL, 5000, &reply, err, sizeof(err)), 0);
	assert_string_equal(reply.body, "{\"a\":1}");
	ctl_http_reply_free(&reply);
}

static int	 follow_stop;	/* the callback stops the stream */

static int
follow_collect(const char *data, size_t len, void *arg)
{
	strncat(arg, data, len);
	return (follow_stop ? -1 : 0);
}

/* One stream followed against a server answering ANSWER. */
static int
follow(const char *answer, int idle_ms, char *got,
    struct ctl_http_reply *reply, char *err, size_t errlen)
{
	struct server	 s;
	int		 r;

	got[0] = '\0';
	server_start(&s, answer, 0);
	r = ctl_http_follow(reply, s.path, "/v1/events?since=3",
	    "text/event-stream", idle_ms, follow_collect, got, err, errlen);
	server_stop(&s);
	return (r);
}

/*
 * A stream: a 200's body goes to the callback piece by piece, another
 * answer is kept whole; silence past idle_ms fails; the callback stops.
 */
static void
test_follow(void **state)
{
	struct ctl_http_reply	 reply;
	char			 err[256], got[256];

	assert_int_equal(follow("HTTP/1.1 200 OK\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n6\r\nid: 3\n\r\n5\r\n\n: k\n\r\n0\r\n\r\n",
	    5000, got, &reply, err, sizeof(err)), 0);
	assert_int_equal(reply.status, 200);
	assert_int_equal(reply.body_len, 0);
	assert_string_equal(got, "id: 3\n\n: k\n");
	ctl_http_reply_free(&reply);
	assert_int_equal(follow("HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Length: 7\r\n\r\n{\"e\":1}", 5000, got, &reply, err,
	    sizeof(err)), 0);
	assert_int_equal(reply.status, 503);
	assert_string_equal(reply.body, "{\"e\":1}");
	assert_string_equal(got, "");
	ctl_http_reply_free(&reply);
	server_hold = 1;
	assert_int_equal(follow("HTTP/1.1 200 OK\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n6\r\nid: 3\n\r\n", 1000, got, &reply, err,
	    sizeof(err)), CTL_HTTP_TIMEOUT);
	assert_string_equal(got, "id: 3\n");
	server_hold = 0;
	follow_stop = 1;
	assert_int_equal(follow("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n"
	    "\r\nid: 3\n\n.", 5000, got, &reply, err, sizeof(err)),
	    CTL_HTTP_BAD_ANSWER);
	assert_string_equal(err, "stopped");
	follow_stop = 0;
}

/* What goes out: the method, the target as given, the headers, the body. */
static void
test_request_sent(void **state)
{
	struct ctl_http_reply	 reply;
	char			 err[256];

	assert_int_equal(exchange("%s", 0, "PUT", "{\"b\":2}",
	    "application/ld+json", 5000, &reply, err, sizeof(err)), 0);
	assert_non_null(strstr(reply.body, "PUT /v1/x%2Fy HTTP/1.1\r\n"));
	assert_non_null(strstr(reply.body, "\r\nHost: halle\r\n"));
	assert_non_null(strstr(reply.body, "\r\nAccept: application/json\r\n"));
	assert_non_null(strstr(reply.body,
	    "\r\nContent-Type: application/ld+json\r\n"));
	assert_non_null(strstr(reply.body, "\r\nContent-Length: 7\r\n"));
	assert_null(strstr(reply.body, "Expect:"));
	assert_non_null(strstr(reply.body, "\r\n\r\n{\"b\":2}"));
	ctl_http_reply_free(&reply);
}

/*
 * A node that refuses a large body answers 413 after the head and closes
 * without reading the body: the client reads that answer, never EPIPE.
 */
static void
test_refused_before_body(void **state)
{
	struct ctl_http_reply	 reply;
	char			 err[256], *body;
	size_t			 len = 1100 * 1000;

	assert_non_null(body = malloc(len + 1));
	memset(body, 'a', len);
	body[len] = '\0';
	answer_early = 1;
	assert_int_equal(exchange("HTTP/1.1 413 Payload Too Large\r\n"
	    "Content-Length: 2\r\nConnection: close\r\n\r\n{}", 0, "POST",
	    body, NULL, 5000, &reply, err, sizeof(err)), 0);
	answer_early = 0;
	assert_int_equal(reply.status, 413);
	assert_string_equal(reply.body, "{}");
	ctl_http_reply_free(&reply);
	free(body);
}

static void
test_bounded_answer(void **state)
{
	struct ctl_http_reply	 reply;
	char			 err[256], head[128];

	snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: "
	    "%d\r\n\r\n", ANSWER_MAX);
	assert_int_equal(exchange(head, ANSWER_MAX, "GET", NULL, NULL, 30000,
	    &reply, err, sizeof(err)), 0);
	assert_int_equal(reply.body_len, ANSWER_MAX);
	ctl_http_reply_free(&reply);
	snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: "
	    "%d\r\n\r\n", ANSWER_MAX + 1);
	assert_int_equal(exchange(head, ANSWER_MAX + 1, "GET", NULL, NULL,
	    30000, &reply, err, sizeof(err)), CTL_HTTP_BAD_ANSWER);
	assert_string_equal(err, "answer over 67108864 bytes");
	assert_null(reply.body);
}

static void
test_failures(void **state)
{
	struct ctl_http_reply	 reply;
	char			 err[256];

	assert_int_equal(ctl_http_exchange(&reply, "/nonexistent/control.sock",
	    "GET", "/v1/status", NULL, 5000, err, sizeof(err)),
	    CTL_HTTP_UNREACHABLE);
	assert_string_equal(err, strerror(ENOENT));
	assert_int_equal(exchange("", 0, "GET", NULL, NULL, 300, &reply,
	    err, sizeof(err)), CTL_HTTP_TIMEOUT);
	assert_int_equal(exchange("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n"
	    "\r\n{}", 0, "GET", NULL, NULL, 5000, &reply, err, sizeof(err)),
	    CTL_HTTP_BAD_ANSWER);
	assert_string_equal(err, "connection closed mid-answer");
	assert_int_equal(exchange("SSH-2.0-x\r\n\r\n", 0, "GET", NULL, NULL,
	    5000, &reply, err, sizeof(err)), CTL_HTTP_BAD_ANSWER);
	assert_string_equal(err, "not an HTTP/1.x status line");
}

static void
tick(void *arg)
{
	(*(int *)arg)++;
}

/*
 * A watch ticks while the node takes its time (a backup): about once a
 * second at least. Without a watch nothing else changes.
 */
static void
test_watched(void **state)
{
	struct ctl_http_reply	 reply;
	struct server		 s;
	char			 err[256];
	int			 ticks = 0;
	struct ctl_http_watch	 watch = { tick, &ticks };

	answer_delay_ms = 2500;
	server_start(&s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", 0);
	assert_int_equal(ctl_http_exchange_watched(&reply, s.path, "POST",
	    "/v1/backup", "{}", NULL, NULL, 10000, &watch, err, sizeof(err)),
	    0);
	server_stop(&s);
	answer_delay_ms = 0;
	assert_int_equal(reply.status, 200);
	assert_string_equal(reply.body, "{}");
	assert_true(ticks >= 2);
	ctl_http_reply_free(&reply);
}

static void
test_escape(void **state)
{
	char	 out[32] = "/p/", small[8] = "/";

	assert_int_equal(ctl_http_escape(out, sizeof(out), "a b/é"), 0);
	assert_string_equal(out, "/p/a%20b%2F%C3%A9");
	strcpy(out, "/");
	assert_int_equal(ctl_http_escape(out, sizeof(out), ".."), 0);
	assert_string_equal(out, "/%2E%2E");
	strcpy(out, "/");
	assert_int_equal(ctl_http_escape(out, sizeof(out), "a.b~c-d_e"), 0);
	assert_string_equal(out, "/a.b~c-d_e");
	assert_int_equal(ctl_http_escape(small, sizeof(small), "ab"), 0);
	assert_int_equal(ctl_http_escape(small, sizeof(small), "//"), -1);
	assert_string_equal(small, "/ab");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reason_after_interim),
		cmocka_unit_test(test_chunked_and_to_close),
		cmocka_unit_test(test_request_sent),
		cmocka_unit_test(test_refused_before_body),
		cmocka_unit_test(test_bounded_answer),
		cmocka_unit_test(test_failures),
		cmocka_unit_test(test_watched),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_follow),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
