/*
 * api_status: the HTTP status each of lib's error codes is answered with.
 * This is the one place where halle's errors meet HTTP (error.h); the
 * table follows docs/control-api.md, "Errors".
 */
#ifndef HALLE_API_STATUS_H
#define HALLE_API_STATUS_H

#include "error.h"

/* 400, 403, 404, 405, 409, 413, 500 or 503. */
int	api_http_status(enum halle_errcode code);

#endif
