/*
 * error: what a request did wrong, in words its sender understands.
 *
 * Bad input from a user, a file or a peer is never an assertion: the
 * function that finds it fills a struct halle_error with an HTTP status, a
 * stable code (the control API's error codes, see docs/control-api.md) and a
 * message naming the thing and the reason, and returns -1.
 */
#ifndef HALLE_ERROR_H
#define HALLE_ERROR_H

struct halle_error {
	int		 status;	/* HTTP status: 400, 404, 409, 413, 500 */
	const char	*code;		/* stable, e.g. "unknown_producer" */
	char		 message[512];
};

/* Fills err (if not NULL) and returns -1, so a call site can return it. */
int	herr(struct halle_error *err, int status, const char *code,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
