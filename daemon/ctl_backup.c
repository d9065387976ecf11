/*
 * ctl_backup: what hallectl backup shows on a terminal while the node
 * writes the copy (see ctl.h, struct command_watch).
 *
 * The node writes the backup in the handler of POST /v1/backup, an LMDB
 * compacting copy (mdb_env_copyfd2) that holds its event loop until it is
 * done: the node cannot tell how far it is while it works, and its answer
 * is the only thing it sends. What hallectl can see is the file growing:
 * the node and hallectl share the machine (the control socket is a Unix
 * socket), and PATH/data.mdb is written from its start to its end. So
 *
 *   before:  GET /v1/status  -> store.bytes, the pages the store uses:
 *            a compacted copy is never larger, so it bounds the total
 *   during:  at each tick of the exchange (about once a second at least),
 *            stat PATH/data.mdb -> bytes written so far
 *   after:   a 2xx answer: the file's final size is the total, the bar
 *            ends at 100%; otherwise the bar is cleared for the message
 *
 * The bar runs short of the bound when the store has free pages the copy
 * leaves out, and jumps to its end when the answer comes. Where hallectl
 * may not read PATH (a directory the node made, as another user), it
 * stays at 0 until then; where the status does not answer, the total is
 * unknown and the bar shows the bytes written alone. Off a terminal
 * nothing is done at all: no status request, no bar.
 */
#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "ctl.h"
#include "ctl_http.h"
#include "progress.h"

struct backup_watch {
	struct ctl_http_watch	 http;
	struct progress		 bar;
	char			 file[PATH_MAX];	/* PATH/data.mdb */
	uint64_t		 total;		/* store.bytes, or 0 */
};

/* The file's size, or 0 when it is not there (yet) or not readable. */
static uint64_t
file_size(const char *path)
{
	struct stat	 st;

	if (stat(path, &st) == -1 || st.st_size < 0)
		return (0);
	return ((uint64_t)st.st_size);
}

/* The bytes the node's store uses (status's store.bytes), or 0. */
static uint64_t
store_bytes(const struct invocation *inv)
{
	struct ctl_http_reply	 reply;
	json_t			*status;
	json_int_t		 bytes = 0;
	char			 err[256];

	if (ctl_http_exchange(&reply, inv->socket, "GET", "/v1/status", NULL,
	    TIMEOUT_MS, err, sizeof(err)) != 0)
		return (0);
	if (reply.status == 200 && (status = json_loadb(reply.body,
	    reply.body_len, 0, NULL)) != NULL) {
		bytes = json_integer_value(json_object_get(json_object_get(
		    status, "store"), "bytes"));
		json_decref(status);
	}
	ctl_http_reply_free(&reply);
	return (bytes > 0 ? (uint64_t)bytes : 0);
}

static void
backup_tick(void *arg)
{
	struct backup_watch	*w = arg;

	progress_update(&w->bar, file_size(w->file), w->total);
}

struct ctl_http_watch *
backup_watch_begin(const struct invocation *inv, json_t *body)
{
	FILE			*tty = progress_terminal(stderr);
	const char		*path;
	struct backup_watch	*w;

	path = json_string_value(json_object_get(body, "path"));
	if (tty == NULL || path == NULL)
		return (NULL);
	if ((w = calloc(1, sizeof(*w))) == NULL)
		out_of_memory();
	snprintf(w->file, sizeof(w->file), "%s/data.mdb", path);
	if (file_size(w->file) > 0) {
		free(w);	/* not an empty target: the node refuses it */
		return (NULL);
	}
	w->total = store_bytes(inv);
	progress_start(&w->bar, tty, "writing backup", PROGRESS_BYTES, NULL,
	    w->total);
	w->http.tick = backup_tick;
	w->http.arg = w;
	return (&w->http);
}

void
backup_watch_end(struct ctl_http_watch *watch, int succeeded)
{
	struct backup_watch	*w = watch->arg;
	uint64_t		 size;

	if (succeeded) {
		size = file_size(w->file);
		progress_update(&w->bar, size, size);
		progress_end(&w->bar);
	} else
		progress_clear(&w->bar);
	free(w);
}
