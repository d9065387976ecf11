/*
 * testcheck: the checks the unit tests with scratch nodes share (cmocka):
 * an answer of lib's service that must have succeeded, and its id.
 */
#ifndef HALLE_TESTCHECK_H
#define HALLE_TESTCHECK_H

#include <jansson.h>

#include "error.h"

/* j, or the test fails naming what and e's code and message. */
json_t	*test_ok(json_t *j, const struct halle_error *e, const char *what);
/* Copies j's "id" into id (ID_MAX bytes) and frees j. */
void	 test_copy_id(char *id, json_t *j);

#endif
