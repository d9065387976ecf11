/*
 * ctl_http: see ctl_http.h. The exchange itself is libcurl's: one easy
 * handle per request, on the Unix socket (CURLOPT_UNIX_SOCKET_PATH), under
 * one deadline (CURLOPT_TIMEOUT_MS). What is left here is what libcurl does
 * not decide for us:
 *
 *   - the headers: Accept and Content-Type as asked, Connection: close,
 *     and "Expect: 100-continue" only before a body over EXPECT_MIN: a
 *     node that refuses a large body (413) answers and closes at once, and
 *     a body sent into the closed socket would fail with EPIPE before
 *     curl read the answer; a small body goes out with the head in one
 *     write, before the node can close;
 *   - the answer's size: the write callback keeps at most ANSWER_MAX bytes
 *     and fails the transfer past it ("answer over N bytes");
 *   - the reason phrase, taken from the last status line the header
 *     callback saw (interim 1xx answers come first and are overwritten);
 *   - curl's codes, mapped once to enum ctl_http_error, with the connect
 *     error's errno as text so that hallectl can say "No such file or
 *     directory" as it always did;
 *   - a watch's tick, from curl's progress callback (CURLOPT_XFERINFO-
 *     FUNCTION), which curl calls often while bytes move and about once a
 *     second while it waits for the answer.
 *   - following a stream: the write callback hands a 200's body on as it
 *     comes, and the progress callback (about once a second) ends the
 *     exchange after idle_ms without a byte, where curl's own low-speed
 *     limit would average over seconds.
 *
 * curl_global_init runs once, on the first exchange, and its cleanup is
 * registered with atexit(); hallectl and bench_federation call from one
 * thread, which is all this is written for.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>

#include <curl/curl.h>

#include "ctl_http.h"

#define ANSWER_MAX	(64 * 1024 * 1024)	/* bytes: more is not halled */
#define EXPECT_MIN	(64 * 1024)	/* bytes of body: ask before sending */

/* The answer as it arrives. */
struct answer {
	char	*data;
	size_t	 len;
	size_t	 cap;
	int	 oversized;
	char	 reason[64];
	const struct ctl_http_watch *watch;	/* or NULL */
	/* Following a stream: where a 200's body goes. */
	CURL		*curl;
	ctl_http_data_fn fn;
	void		*fn_arg;
	int		 following;	/* the answer is a 200 */
	int		 stopped;	/* fn said so */
	int		 idle_ms;	/* the most silence allowed */
	long long	 heard_ms;	/* when a byte last came */
	int		 silent;	/* idle_ms passed */
};

/* Runs curl_global_init once per process; -1 if it failed. */
static int
http_global_init(void)
{
	static int	 state;		/* 0 not yet, 1 done, -1 failed */

	if (state == 0) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			state = -1;
		else {
			state = 1;
			atexit(curl_global_cleanup);
		}
	}
	return (state == 1 ? 0 : -1);
}

/* Appends to the answer, NUL-terminated; 0 (a failed transfer) past it. */
static size_t
http_write(char *data, size_t size, size_t n, void *arg)
{
	struct answer	*a = arg;
	size_t		 len = size * n, cap;
	char		*p;

	if (len > ANSWER_MAX - a->len) {
		a->oversized = 1;
		return (0);
	}
	if (a->len + len + 1 > a->cap) {
		cap = a->cap ? a->cap : 4096;
		while (cap < a->len + len + 1)
			cap *= 2;
		if ((p = realloc(a->data, cap)) == NULL)
			return (0);
		a->data = p;
		a->cap = cap;
	}
	memcpy(a->data + a->len, data, len);
	a->len += len;
	a->data[a->len] = '\0';
	return (len);
}

/* Keeps the reason phrase of each status line: "HTTP/1.1 404 Not Found". */
static size_t
http_header(char *line, size_t size, size_t n, void *arg)
{
	struct answer	*a = arg;
	size_t		 len = size * n, i = 5, start;

	if (len < 5 || strncmp(line, "HTTP/", 5) != 0)
		return (len);
	while (i < len && line[i] != ' ')	/* the version */
		i++;
	while (i < len && line[i] == ' ')
		i++;
	while (i < len && line[i] >= '0' && line[i] <= '9')	/* status */
		i++;
	if (i < len && line[i] == ' ')
		i++;
	for (start = i; i < len && line[i] != '\r' && line[i] != '\n'; i++)
		;
	snprintf(a->reason, sizeof(a->reason), "%.*s", (int)(i - start),
	    line + start);
	return (len);
}

/* Appends "NAME: VALUE" to *list; -1 (the list freed) if it fails. */
static int
http_header_add(struct curl_slist **list, const char *name,
    const char *value)
{
	struct curl_slist	*next;
	char			 line[256];

	snprintf(line, sizeof(line), "%s: %s", name, value);
	if (value[0] == '\0')
		snprintf(line, sizeof(line), "%s:", name);	/* removes it */
	if ((next = curl_slist_append(*list, line)) == NULL) {
		curl_slist_free_all(*list);
		*list = NULL;
		return (-1);
	}
	*list = next;
	return (0);
}

/* The header list: what the answer may be, what the body is. */
static struct curl_slist *
http_headers(const char *body, const char *content_type, const char *accept)
{
	struct curl_slist	*list = NULL;

	if (http_header_add(&list, "Accept", accept) == -1 ||
	    (body != NULL &&
	    http_header_add(&list, "Content-Type", content_type) == -1) ||
	    http_header_add(&list, "Expect", body != NULL &&
	    strlen(body) > EXPECT_MIN ? "100-continue" : "") == -1 ||
	    http_header_add(&list, "Connection", "close") == -1)
		return (NULL);
	return (list);
}

/* curl's progress callback: the watch's tick; 0 goes on. */
static int
http_tick(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	const struct ctl_http_watch	*watch = arg;

	watch->tick(watch->arg);
	return (0);
}

/* Sets up the handle for one request; 0, or -1 if an option is refused. */
static int
http_setup(CURL *curl, const char *socket_path, const char *method,
    const char *url, const char *body, struct curl_slist *headers,
    int timeout_ms, struct answer *a, char *curl_err)
{
	int	 bad = 0;

	bad |= curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, socket_path);
	bad |= curl_easy_setopt(curl, CURLOPT_URL, url);
	bad |= curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
	/* No proxy, whatever the environment says. */
	bad |= curl_easy_setopt(curl, CURLOPT_PROXY, "");
	bad |= curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	bad |= curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	bad |= curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	bad |= curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	bad |= curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, http_write);
	bad |= curl_easy_setopt(curl, CURLOPT_WRITEDATA, a);
	bad |= curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, http_header);
	bad |= curl_easy_setopt(curl, CURLOPT_HEADERDATA, a);
	bad |= curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);
	if (body != NULL) {
		bad |= curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		bad |= curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)strlen(body));
	}
	if (a->watch != NULL) {
		bad |= curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
		bad |= curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION,
		    http_tick);
		bad |= curl_easy_setopt(curl, CURLOPT_XFERINFODATA, a->watch);
	}
	return (bad ? -1 : 0);
}

/* Maps a failed transfer to enum ctl_http_error, its reason into err. */
static int
http_failure(CURL *curl, CURLcode code, const struct answer *a,
    const char *curl_err, char *err, size_t errlen)
{
	long	 os_errno = 0;

	switch (code) {
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
		snprintf(err, errlen, "%s", os_errno != 0 ?
		    strerror((int)os_errno) : curl_easy_strerror(code));
		return (CTL_HTTP_UNREACHABLE);
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(err, errlen, "no whole answer in time");
		return (CTL_HTTP_TIMEOUT);
	case CURLE_GOT_NOTHING:
		snprintf(err, errlen, "connection closed without an answer");
		return (CTL_HTTP_BAD_ANSWER);
	case CURLE_UNSUPPORTED_PROTOCOL:	/* an HTTP/0.9 answer */
	case CURLE_WEIRD_SERVER_REPLY:
		snprintf(err, errlen, "not an HTTP/1.x status line");
		return (CTL_HTTP_BAD_ANSWER);
	case CURLE_PARTIAL_FILE:
		snprintf(err, errlen, "connection closed mid-answer");
		return (CTL_HTTP_BAD_ANSWER);
	case CURLE_ABORTED_BY_CALLBACK:
		if (a->silent) {
			snprintf(err, errlen, "no byte for %d ms",
			    a->idle_ms);
			return (CTL_HTTP_TIMEOUT);
		}
		break;
	case CURLE_WRITE_ERROR:
		if (a->stopped) {
			snprintf(err, errlen, "stopped");
			return (CTL_HTTP_BAD_ANSWER);
		}
		if (a->oversized) {
			snprintf(err, errlen, "answer over %d bytes",
			    ANSWER_MAX);
			return (CTL_HTTP_BAD_ANSWER);
		}
		break;
	default:
		break;
	}
	snprintf(err, errlen, "%s", curl_err[0] != '\0' ? curl_err :
	    curl_easy_strerror(code));
	return (CTL_HTTP_BAD_ANSWER);
}

/* Runs the transfer on a set-up handle; 0 or an enum ctl_http_error. */
static int
http_perform(CURL *curl, struct answer *a, const char *curl_err,
    struct ctl_http_reply *reply, char *err, size_t errlen)
{
	CURLcode	 code;
	long		 status = 0;

	if ((code = curl_easy_perform(curl)) != CURLE_OK)
		return (http_failure(curl, code, a, curl_err, err, errlen));
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 999) {
		snprintf(err, errlen, "no HTTP status in the answer");
		return (CTL_HTTP_BAD_ANSWER);
	}
	if (a->data == NULL && (a->data = strdup("")) == NULL) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return (CTL_HTTP_BAD_ANSWER);
	}
	reply->status = (int)status;
	memcpy(reply->reason, a->reason, sizeof(reply->reason));
	reply->body = a->data;
	reply->body_len = a->len;
	a->data = NULL;
	return (0);
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
	return (ctl_http_exchange_watched(reply, socket_path, method, target,
	    body, content_type, accept, timeout_ms, NULL, err, errlen));
}

int
ctl_http_exchange_watched(struct ctl_http_reply *reply,
    const char *socket_path, const char *method, const char *target,
    const char *body, const char *content_type, const char *accept,
    int timeout_ms, const struct ctl_http_watch *watch, char *err,
    size_t errlen)
{
	struct answer		 a;
	struct curl_slist	*headers = NULL;
	CURL			*curl = NULL;
	char			*url = NULL, curl_err[CURL_ERROR_SIZE] = "";
	int			 ret = CTL_HTTP_BAD_ANSWER;

	memset(reply, 0, sizeof(*reply));
	memset(&a, 0, sizeof(a));
	a.watch = watch;
	if (strlen(socket_path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		snprintf(err, errlen, "%s", strerror(ENAMETOOLONG));
		return (CTL_HTTP_UNREACHABLE);
	}
	snprintf(err, errlen, "%s", strerror(ENOMEM));
	if (http_global_init() == -1 || (curl = curl_easy_init()) == NULL ||
	    (headers = http_headers(body, content_type ? content_type :
	    CTL_HTTP_JSON, accept ? accept : CTL_HTTP_JSON)) == NULL ||
	    (url = malloc(strlen(target) + sizeof("http://halle"))) == NULL)
		goto done;
	sprintf(url, "http://halle%s", target);
	if (http_setup(curl, socket_path, method, url, body, headers,
	    timeout_ms, &a, curl_err) == -1) {
		snprintf(err, errlen, "libcurl refused an option");
		goto done;
	}
	ret = http_perform(curl, &a, curl_err, reply, err, errlen);
done:
	free(a.data);
	free(url);
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return (ret);
}

static long long
monotonic_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* libcurl's progress callback, about once a second: silence ends it. */
static int
http_follow_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct answer	*a = arg;

	a->silent = monotonic_ms() - a->heard_ms > a->idle_ms;
	return (a->silent);
}

/* A stream's body to fn once it is a 200; any other answer is kept. */
static size_t
http_follow_write(char *data, size_t size, size_t n, void *arg)
{
	struct answer	*a = arg;
	long		 status = 0;

	a->heard_ms = monotonic_ms();
	if (!a->following) {
		curl_easy_getinfo(a->curl, CURLINFO_RESPONSE_CODE, &status);
		a->following = status == 200;
	}
	if (!a->following)
		return (http_write(data, size, n, arg));
	if (a->fn(data, size * n, a->fn_arg) == -1) {
		a->stopped = 1;
		return (0);
	}
	return (size * n);
}

int
ctl_http_follow(struct ctl_http_reply *reply, const char *socket_path,
    const char *target, const char *accept, int idle_ms,
    ctl_http_data_fn fn, void *arg, char *err, size_t errlen)
{
	struct answer		 a;
	struct curl_slist	*headers = NULL;
	CURL			*curl = NULL;
	char			*url = NULL, curl_err[CURL_ERROR_SIZE] = "";
	int			 ret = CTL_HTTP_BAD_ANSWER, bad = 0;

	memset(reply, 0, sizeof(*reply));
	memset(&a, 0, sizeof(a));
	if (strlen(socket_path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		snprintf(err, errlen, "%s", strerror(ENAMETOOLONG));
		return (CTL_HTTP_UNREACHABLE);
	}
	snprintf(err, errlen, "%s", strerror(ENOMEM));
	if (http_global_init() == -1 || (curl = curl_easy_init()) == NULL ||
	    (headers = http_headers(NULL, NULL, accept)) == NULL ||
	    (url = malloc(strlen(target) + sizeof("http://halle"))) == NULL)
		goto done;
	sprintf(url, "http://halle%s", target);
	a.curl = curl;
	a.fn = fn;
	a.fn_arg = arg;
	bad |= http_setup(curl, socket_path, "GET", url, NULL, headers, 0, &a,
	    curl_err);
	bad |= curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, http_follow_write);
	a.idle_ms = idle_ms;
	a.heard_ms = monotonic_ms();
	bad |= curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)idle_ms);
	bad |= curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	bad |= curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION,
	    http_follow_progress);
	bad |= curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &a);
	if (bad) {
		snprintf(err, errlen, "libcurl refused an option");
		goto done;
	}
	ret = http_perform(curl, &a, curl_err, reply, err, errlen);
done:
	free(a.data);
	free(url);
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
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
