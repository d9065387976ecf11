/*
 * ctl_events: `hallectl events [--since ID]`, which follows GET /v1/events
 * (Server-Sent Events, docs/control-api.md "Events") and prints one line
 * per event as it comes: the event as the node wrote it with --json,
 * else its id, time, type and what it says:
 *
 *   42  2026-12-05 10:00:03  order.placed  or-1a2b3c4d5e6f "Panier 12" at ds-…, version 1, 2 lines
 *
 * The stream has no end of its own: when the node ends it (it drops a
 * client too slow, it stops) or the connection is lost, hallectl says why
 * on stderr with the id to resume after, and exits non-zero (1 when the
 * node dropped it, 3 when it went away), so that a script can start it
 * again with --since.
 *
 * The parser reads the stream as the SSE rules say: lines "field: value",
 * a blank line ends an event, a line starting with ":" is a comment (the
 * keepalive); a block with an id and no data (how a stream starts) only
 * moves the cursor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl.h"
#include "ctl_http.h"

#define FOLLOW_IDLE_MS	45000		/* three keepalives missed */
#define SSE_LINE_MAX	(1024 * 1024)

/* The stream as it is read. */
struct sse {
	const struct invocation	*inv;
	char			*line;		/* the line being read */
	size_t			 len, cap;
	char			*data;		/* the event's data lines */
	size_t			 dlen;
	char			 type[64];
	char			 id[32];
	int			 has_id;
	unsigned long long	 last;		/* the cursor: last id seen */
	int			 started;	/* a first id came */
	char			*dropped;	/* why, when the node said so */
	int			 failed;
};

static const char *
str(json_t *o, const char *key)
{
	return field_string(o, key);
}

/* What an event says, in words, into buf. */
static void
summary(char *buf, size_t len, const char *type, json_t *e)
{
	if (strncmp(type, "order.", 6) == 0)
		snprintf(buf, len, "%s \"%s\" at %s, version %lld, %lld lines",
		    str(e, "order"), str(e, "basket"), str(e, "distribution"),
		    field_integer(e, "version"), field_integer(e, "lines"));
	else if (strncmp(type, "line.", 5) == 0)
		snprintf(buf, len, "%s \"%s\" %s %s: %lld of %lld confirmed%s%s",
		    str(e, "order"), str(e, "basket"), str(e, "producer"),
		    str(e, "sku"), field_integer(e, "confirmed"),
		    field_integer(e, "quantity"), *str(e, "reason") ? ": " : "",
		    str(e, "reason"));
	else if (strncmp(type, "distribution.", 13) == 0)
		snprintf(buf, len, "%s of %s on %s", str(e, "distribution"),
		    str(e, "market"), str(e, "date"));
	else if (strcmp(type, "catalogue.published") == 0)
		snprintf(buf, len, "%s, version %lld, %lld products",
		    str(e, "producer"), field_integer(e, "version"),
		    field_integer(e, "products"));
	else if (strncmp(type, "peer.", 5) == 0)
		snprintf(buf, len, "%s (%.16s…)", str(e, "peer"),
		    str(e, "node"));
	else if (strcmp(type, "node.write_state") == 0)
		snprintf(buf, len, "%s", str(e, "write_state"));
	else if (strcmp(type, "gap") == 0)
		snprintf(buf, len, "the events after %lld up to this one are "
		    "lost: read the current state again",
		    field_integer(e, "after"));
	else
		buf[0] = '\0';
}

static void
event_print(struct sse *s, json_t *e)
{
	char when[32], text[1024];
	const char *at = str(e, "at");

	if (s->inv->json) {
		char *line = json_dumps(e, JSON_COMPACT);

		if (line == NULL)
			out_of_memory();
		puts(line);
		free(line);
	} else if (strcmp(s->type, "dropped") != 0) {
		snprintf(when, sizeof(when), "%.19s", at);
		if (strlen(when) > 10 && when[10] == 'T')
			when[10] = ' ';
		summary(text, sizeof(text), s->type, e);
		out_line("%s  %s  %s  %s", s->has_id ? s->id : "-", when,
		    s->type, text);
	}
	fflush(stdout);
}

/* A blank line: the event read so far is complete. */
static void
sse_dispatch(struct sse *s)
{
	json_t *e;

	if (s->has_id) {
		s->last = strtoull(s->id, NULL, 10);
		s->started = 1;
	}
	if (s->data != NULL && s->dlen > 0) {
		s->data[s->dlen - 1] = '\0';	/* the last newline */
		if ((e = json_loads(s->data, 0, NULL)) == NULL) {
			error_print("the node sent an event that is not JSON: "
			    "%.80s", s->data);
			s->failed = 1;
		} else {
			if (strcmp(s->type, "dropped") == 0 &&
			    s->dropped == NULL)
				s->dropped = strdup(str(e, "reason"));
			event_print(s, e);
			json_decref(e);
		}
	}
	s->dlen = 0;
	s->type[0] = '\0';
	s->has_id = 0;
}

static void
sse_field(struct sse *s, const char *line)
{
	const char *colon = strchr(line, ':'), *value = "";
	size_t nlen = colon ? (size_t)(colon - line) : strlen(line), vlen;
	char *bigger;

	if (colon != NULL)
		value = colon[1] == ' ' ? colon + 2 : colon + 1;
	vlen = strlen(value);
	if (nlen == 4 && strncmp(line, "data", 4) == 0) {
		if ((bigger = realloc(s->data, s->dlen + vlen + 2)) == NULL)
			out_of_memory();
		s->data = bigger;
		memcpy(s->data + s->dlen, value, vlen);
		s->dlen += vlen;
		s->data[s->dlen++] = '\n';
	} else if (nlen == 5 && strncmp(line, "event", 5) == 0)
		snprintf(s->type, sizeof(s->type), "%s", value);
	else if (nlen == 2 && strncmp(line, "id", 2) == 0) {
		snprintf(s->id, sizeof(s->id), "%s", value);
		s->has_id = 1;
	}
}

static void
sse_line(struct sse *s)
{
	if (s->len > 0 && s->line[s->len - 1] == '\r')
		s->len--;
	s->line[s->len] = '\0';
	if (s->len == 0)
		sse_dispatch(s);
	else if (s->line[0] != ':')
		sse_field(s, s->line);
	s->len = 0;
}

/* ctl_http_follow's callback: the bytes of the stream as they come. */
static int
sse_feed(const char *data, size_t n, void *arg)
{
	struct sse *s = arg;
	size_t i;

	for (i = 0; i < n && !s->failed; i++) {
		if (data[i] == '\n') {
			sse_line(s);
			continue;
		}
		if (s->len + 2 > s->cap) {
			if (s->cap >= SSE_LINE_MAX) {
				error_print("the node sent a line over %d bytes",
				    SSE_LINE_MAX);
				s->failed = 1;
				break;
			}
			s->cap = s->cap ? 2 * s->cap : 4096;
			if ((s->line = realloc(s->line, s->cap)) == NULL)
				out_of_memory();
		}
		s->line[s->len++] = data[i];
	}
	return s->failed ? -1 : 0;
}

/* Why the stream ended, and where to resume; the exit code. */
static int
follow_end(const struct sse *s, int rc, const char *err)
{
	char resume[96] = "";

	if (s->started)
		snprintf(resume, sizeof(resume), "; last event %llu: resume "
		    "with 'hallectl events --since %llu'", s->last, s->last);
	if (s->failed)
		return (EXIT_NODE);
	if (s->dropped != NULL) {
		error_print("the node dropped the event stream (%s)%s",
		    s->dropped, resume);
		return (EXIT_NODE);
	}
	if (rc == 0)
		error_print("the node ended the event stream%s", resume);
	else if (rc == CTL_HTTP_TIMEOUT)
		error_print("the event stream was silent for %d s%s",
		    FOLLOW_IDLE_MS / 1000, resume);
	else
		error_print("the event stream was lost: %s%s", err, resume);
	return (EXIT_UNREACHABLE);
}

int
events_follow(const struct invocation *inv)
{
	struct sse		 s;
	struct ctl_http_reply	 reply;
	char			 target[128], err[256];
	int			 rc, code;

	memset(&s, 0, sizeof(s));
	s.inv = inv;
	snprintf(target, sizeof(target), "/v1/events%s%s",
	    inv->values[0] ? "?since=" : "", inv->values[0] ? inv->values[0] :
	    "");
	rc = ctl_http_follow(&reply, inv->socket, target, "text/event-stream",
	    FOLLOW_IDLE_MS, sse_feed, &s, err, sizeof(err));
	if (rc == CTL_HTTP_UNREACHABLE) {
		error_print("cannot reach halled at %s: %s", inv->socket, err);
		code = EXIT_UNREACHABLE;
	} else if (rc == 0 && reply.status != 200)
		code = reply_error(inv, &reply);
	else
		code = follow_end(&s, rc, err);
	ctl_http_reply_free(&reply);
	free(s.line);
	free(s.data);
	free(s.dropped);
	return (code);
}
