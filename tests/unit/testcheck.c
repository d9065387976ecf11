/* testcheck: see testcheck.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "ids.h"
#include "testcheck.h"

json_t *
test_ok(json_t *j, const struct halle_error *e, const char *what)
{
	if (j == NULL)
		fail_msg("%s: %s: %s", what, halle_strerror(e->code),
		    e->message);
	return j;
}

void
test_copy_id(char *id, json_t *j)
{
	snprintf(id, ID_MAX, "%s", json_string_value(json_object_get(j,
	    "id")));
	json_decref(j);
}
