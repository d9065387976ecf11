/*
 * service_json: reading the fields of a JSON request, as docs/control-api.md
 * gives them; the answers are rendered in service_json_render.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service_int.h"

/* The code point at *p (valid UTF-8, as jansson keeps it); moves *p on. */
static uint32_t
utf8_next(const char **p)
{
	const unsigned char *s = (const unsigned char *)*p;
	uint32_t c;
	int i, n;

	if (s[0] < 0x80)
		return (uint32_t)*(*p)++;
	n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
	c = s[0] & (0x7f >> n);
	for (i = 1; i < n; i++)
		c = (c << 6) | (s[i] & 0x3f);
	*p += n;
	return c;
}

/*
 * Characters no field may hold: C0 and C1 controls and DEL, and the
 * bidirectional formatting characters, which make a name display as
 * another (U+202E turns "Ferme\u202Eoc.liam" into "Fermeliam.co"): the
 * marks U+061C, U+200E, U+200F, the embeddings and overrides U+202A to
 * U+202E, the isolates U+2066 to U+2069.
 */
static int
char_refused(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x061c ||
	    c == 0x200e || c == 0x200f || (c >= 0x202a && c <= 0x202e) ||
	    (c >= 0x2066 && c <= 0x2069);
}

/* Spaces a name may hold, each read as one ' ': ASCII and Unicode ones. */
static int
char_space(uint32_t c)
{
	return c == ' ' || c == 0xa0 || c == 0x1680 ||
	    (c >= 0x2000 && c <= 0x200a) || c == 0x202f || c == 0x205f ||
	    c == 0x3000;
}

int
req_name(json_t *req, const char *field, int required, size_t maxlen,
    const char **out, struct halle_error *err)
{
	const char *s, *p, *start;
	char *norm, *w;
	int space = 0;

	if (req_string(req, field, required, maxlen, &s, err) == -1)
		return -1;
	if ((norm = malloc(strlen(s) + 1)) == NULL)
		return error_set(err, HALLE_E_INTERNAL, "out of memory");
	for (w = norm, p = s; *p != '\0'; ) {
		start = p;
		if (char_space(utf8_next(&p))) {
			space = w != norm;
			continue;
		}
		if (space)
			*w++ = ' ';
		space = 0;
		memcpy(w, start, (size_t)(p - start));
		w += p - start;
	}
	*w = '\0';
	if (required && norm[0] == '\0') {
		free(norm);
		return error_set(err, HALLE_E_INVALID_FIELD, "'%s' holds only spaces",
		    field);
	}
	if (strcmp(norm, s) != 0 && json_object_set_new(req, field,
	    json_string(norm)) == -1) {
		free(norm);
		return error_set(err, HALLE_E_INTERNAL, "out of memory");
	}
	free(norm);
	*out = json_string_value(json_object_get(req, field));
	return 0;
}

int
req_string(json_t *req, const char *field, int required, size_t maxlen,
    const char **out, struct halle_error *err)
{
	json_t *v = json_object_get(req, field);
	const char *s, *p;
	uint32_t c;

	*out = "";
	if (v == NULL || json_is_null(v)) {
		if (required)
			return error_set(err, HALLE_E_INVALID_FIELD, "missing '%s'",
			    field);
		return 0;
	}
	if (!json_is_string(v))
		return error_set(err, HALLE_E_INVALID_FIELD, "'%s' must be a string",
		    field);
	s = json_string_value(v);
	if (required && s[0] == '\0')
		return error_set(err, HALLE_E_INVALID_FIELD, "'%s' must not be empty",
		    field);
	if (strlen(s) > maxlen || strlen(s) != json_string_length(v))
		return error_set(err, HALLE_E_INVALID_FIELD,
		    "'%s' is longer than %zu bytes", field, maxlen);
	for (p = s; *p != '\0'; )
		if (char_refused(c = utf8_next(&p)))
			return error_set(err, HALLE_E_INVALID_FIELD, "'%s' holds %s "
			    "U+%04X, which no field may hold", field, c > 0x9f ?
			    "the bidirectional formatting character" :
			    "the control character", (unsigned)c);
	*out = s;
	return 0;
}

int
req_integer(json_t *req, const char *field, int *present, long long *out,
    struct halle_error *err)
{
	json_t *v = json_object_get(req, field);

	*present = 0;
	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_real(v))
		return error_set(err, HALLE_E_INVALID_FIELD,
		    "'%s' must be a whole number", field);
	if (!json_is_integer(v))
		return error_set(err, HALLE_E_INVALID_FIELD, "'%s' must be a number",
		    field);
	*present = 1;
	*out = json_integer_value(v);
	return 0;
}
