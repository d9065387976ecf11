/* error: see error.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

static const char *const names[HALLE_E_COUNT] = {
	[HALLE_OK] = "ok",
	[HALLE_E_MALFORMED_JSON] = "malformed_json",
	[HALLE_E_INVALID_FIELD] = "invalid_field",
	[HALLE_E_BAD_QUANTITY] = "bad_quantity",
	[HALLE_E_OVERFLOW] = "overflow",
	[HALLE_E_BAD_DATES] = "bad_dates",
	[HALLE_E_BAD_CONFIG] = "bad_config",
	[HALLE_E_BODY_TOO_LARGE] = "body_too_large",
	[HALLE_E_BAD_REQUEST] = "bad_request",
	[HALLE_E_HEADERS_TOO_LARGE] = "headers_too_large",
	[HALLE_E_DFC_INVALID] = "dfc_invalid",
	[HALLE_E_NOT_FOUND] = "not_found",
	[HALLE_E_METHOD_NOT_ALLOWED] = "method_not_allowed",
	[HALLE_E_UNKNOWN_PRODUCER] = "unknown_producer",
	[HALLE_E_UNKNOWN_MARKET] = "unknown_market",
	[HALLE_E_UNKNOWN_DISTRIBUTION] = "unknown_distribution",
	[HALLE_E_UNKNOWN_ORDER] = "unknown_order",
	[HALLE_E_UNKNOWN_SKU] = "unknown_sku",
	[HALLE_E_UNKNOWN_FEED] = "unknown_feed",
	[HALLE_E_NO_CATALOGUE] = "no_catalogue",
	[HALLE_E_NOT_OWNER] = "not_owner",
	[HALLE_E_AMBIGUOUS_NAME] = "ambiguous_name",
	[HALLE_E_NAME_TAKEN] = "name_taken",
	[HALLE_E_STALE_VERSION] = "stale_version",
	[HALLE_E_NOT_AT_MARKET] = "not_at_market",
	[HALLE_E_ORDER_WINDOW_NOT_OPEN] = "order_window_not_open",
	[HALLE_E_ORDER_WINDOW_CLOSED] = "order_window_closed",
	[HALLE_E_DISTRIBUTION_CANCELLED] = "distribution_cancelled",
	[HALLE_E_ORDER_CANCELLED] = "order_cancelled",
	[HALLE_E_BACKUP_TARGET_EXISTS] = "backup_target_exists",
	[HALLE_E_NOTHING_TO_COMMIT] = "nothing_to_commit",
	[HALLE_E_RECOVERING] = "recovering",
	[HALLE_E_OWN_FEED_FORKED] = "own_feed_forked",
	[HALLE_E_TOO_MANY_STREAMS] = "too_many_streams",
	[HALLE_E_STORE] = "store_error",
	[HALLE_E_INTERNAL] = "internal",
};

const char *
halle_strerror(enum halle_errcode code)
{
	if ((unsigned)code >= HALLE_E_COUNT || names[code] == NULL)
		return "internal";
	return names[code];
}

void
error_utf8_trim(char *s)
{
	size_t n = strlen(s), i = n, need;
	unsigned char lead;

	while (i > 0 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0)
		return;
	lead = (unsigned char)s[i - 1];
	need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
	if (n - (i - 1) < need)
		s[i - 1] = '\0';
}

int
error_set(struct halle_error *err, enum halle_errcode code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	/* A message cut short must stay a JSON string. */
	error_utf8_trim(err->message);
	return -1;
}
