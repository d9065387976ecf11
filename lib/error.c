/* error: see error.h. */
#include <stdarg.h>
#include <stdio.h>

#include "error.h"

int
herr(struct halle_error *err, int status, const char *code, const char *fmt,
    ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	err->status = status;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}
