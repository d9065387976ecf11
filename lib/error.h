/*
 * error: what a request did wrong, in words its sender understands.
 *
 * lib speaks one error model, as LMDB's MDB_* codes or Knot's KNOT_E*: a
 * function that fails fills a struct halle_error with a code from the enum
 * below and a message naming the thing and the reason, and returns -1.
 * Bad input from a user, a file or a peer is never an assertion.
 *
 * halle_strerror() gives each code's stable name, the one the control API
 * answers with (docs/control-api.md lists them). lib knows nothing of HTTP:
 * the status each code is answered with lives in the daemon's API layer
 * (daemon/api_status.c), where the protocol is spoken.
 */
#ifndef HALLE_ERROR_H
#define HALLE_ERROR_H

enum halle_errcode {
	HALLE_OK = 0,
	/* The request is wrong. */
	HALLE_E_MALFORMED_JSON,
	HALLE_E_INVALID_FIELD,
	HALLE_E_BAD_QUANTITY,
	HALLE_E_OVERFLOW,
	HALLE_E_BAD_DATES,
	HALLE_E_BAD_CONFIG,
	HALLE_E_BODY_TOO_LARGE,
	HALLE_E_BAD_REQUEST,		/* not HTTP the server reads */
	HALLE_E_HEADERS_TOO_LARGE,
	HALLE_E_DFC_INVALID,
	/* What it names does not exist. */
	HALLE_E_NOT_FOUND,
	HALLE_E_METHOD_NOT_ALLOWED,
	HALLE_E_UNKNOWN_PRODUCER,
	HALLE_E_UNKNOWN_MARKET,
	HALLE_E_UNKNOWN_DISTRIBUTION,
	HALLE_E_UNKNOWN_ORDER,
	HALLE_E_UNKNOWN_SKU,
	HALLE_E_UNKNOWN_FEED,
	HALLE_E_NO_CATALOGUE,
	/* It is not this node's decision, or not now. */
	HALLE_E_NOT_OWNER,
	HALLE_E_AMBIGUOUS_NAME,
	HALLE_E_NAME_TAKEN,
	HALLE_E_STALE_VERSION,
	HALLE_E_NOT_AT_MARKET,
	HALLE_E_ORDER_WINDOW_NOT_OPEN,
	HALLE_E_ORDER_WINDOW_CLOSED,
	HALLE_E_DISTRIBUTION_CANCELLED,
	HALLE_E_ORDER_CANCELLED,
	HALLE_E_BACKUP_TARGET_EXISTS,
	HALLE_E_NOTHING_TO_COMMIT,
	/* The node may not write its own feed. */
	HALLE_E_RECOVERING,
	HALLE_E_OWN_FEED_FORKED,
	/* The node is at one of its bounds. */
	HALLE_E_TOO_MANY_STREAMS,
	/* The node failed. */
	HALLE_E_STORE,
	HALLE_E_INTERNAL,
	HALLE_E_COUNT
};

struct halle_error {
	enum halle_errcode	 code;
	char			 message[512];
};

/* The stable name of a code ("invalid_field"); "internal" if unknown. */
const char	*halle_strerror(enum halle_errcode code);

/*
 * Fills err (if not NULL) and returns -1, so a call site can return it.
 * A message longer than err->message is cut before a whole character.
 */
int	error_set(struct halle_error *err, enum halle_errcode code,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Cuts s before a UTF-8 sequence that its end (snprintf's cut) breaks. */
void	error_utf8_trim(char *s);

#endif
