/*
 * dfc_graph: the few JSON-LD readings the DFC mapping needs (dfc_int.h).
 *
 * A document is walked once: every object that says more than its @id
 * is a node, listed in document order and indexed by its @id (the first
 * definition wins); the values of its properties are walked in turn, so
 * that embedded nodes are found too. Contexts met on the way add their
 * prefixes and terms to one table: documents use one context, and a
 * wrong guess can only make a term unknown, never another one.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dfc_int.h"

#define DFC_MAX_DEPTH	32
#define DFC_TERM_DEPTH	3

struct ns_file {
	const char	*file;
	enum dfc_ns	 ns;
};

static const struct ns_file ns_files[] = {
	{ "DFC_BusinessOntology.owl", DFC_B },
	{ "DFC_FullModel.owl", DFC_B },
	{ "measures.rdf", DFC_M },
	{ "vocabulary.rdf", DFC_V },
	{ "facets.rdf", DFC_F },
};

static const struct { const char *prefix; enum dfc_ns ns; } ns_prefixes[] = {
	{ "dfc-b", DFC_B }, { "dfc", DFC_B }, { "dfc-m", DFC_M },
	{ "dfc-v", DFC_V }, { "dfc-f", DFC_F },
};

/* The namespace whose IRI is base[0..len), a final '#' or '/' allowed. */
static enum dfc_ns
ns_of_base(const char *base, size_t len)
{
	size_t i, n;

	if (len > 0 && (base[len - 1] == '#' || base[len - 1] == '/'))
		len--;
	for (i = 0; i < sizeof(ns_files) / sizeof(ns_files[0]); i++) {
		n = strlen(ns_files[i].file);
		if (len >= n && memcmp(base + len - n, ns_files[i].file, n) == 0)
			return ns_files[i].ns;
	}
	return DFC_NS_NONE;
}

/* A full IRI: the namespace ends at its '#', else at its last '/'. */
static enum dfc_ns
ns_of_iri(const char *iri, const char **local)
{
	const char *end = strrchr(iri, '#');

	if (end == NULL)
		end = strrchr(iri, '/');
	if (end == NULL || end[1] == '\0')
		return DFC_NS_NONE;
	*local = end + 1;
	return ns_of_base(iri, (size_t)(end - iri));
}

static enum dfc_ns
term_at(const struct dfc_graph *g, const char *term, const char **local,
    int depth)
{
	const char *colon = strchr(term, ':'), *def;
	json_t *v;
	char prefix[64];
	size_t i, n;

	if (depth > DFC_TERM_DEPTH)
		return DFC_NS_NONE;
	if (colon != NULL && colon[1] == '/' && colon[2] == '/')
		return ns_of_iri(term, local);
	if (colon != NULL) {
		n = (size_t)(colon - term);
		if (n == 0 || n >= sizeof(prefix) || (n == 1 && term[0] == '_'))
			return DFC_NS_NONE;
		memcpy(prefix, term, n);
		prefix[n] = '\0';
		*local = colon + 1;
		if ((def = json_string_value(json_object_get(g->terms,
		    prefix))) != NULL)
			return ns_of_base(def, strlen(def));
		for (i = 0; i < sizeof(ns_prefixes) / sizeof(ns_prefixes[0]);
		    i++)
			if (strcmp(prefix, ns_prefixes[i].prefix) == 0)
				return ns_prefixes[i].ns;
		return ns_of_iri(term, local);
	}
	v = json_object_get(g->terms, term);
	if (json_is_object(v))
		v = json_object_get(v, "@id");
	if ((def = json_string_value(v)) != NULL)
		return term_at(g, def, local, depth + 1);
	if ((def = json_string_value(json_object_get(g->terms, "@vocab"))) !=
	    NULL) {
		*local = term;
		return ns_of_base(def, strlen(def));
	}
	return DFC_NS_NONE;
}

enum dfc_ns
dfc_term(const struct dfc_graph *g, const char *term, const char **local)
{
	*local = "";
	return term_at(g, term, local, 0);
}

static void
context_load(struct dfc_graph *g, json_t *context)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_array(context))
		json_array_foreach(context, i, v)
			context_load(g, v);
	else if (json_is_object(context))
		json_object_foreach(context, k, v)
			json_object_set(g->terms, k, v);
}

static int	value_load(struct dfc_graph *g, json_t *v, int depth,
		    struct halle_error *err);

static int
node_load(struct dfc_graph *g, json_t *node, int depth,
    struct halle_error *err)
{
	json_t *graph = json_object_get(node, "@graph"), *v;
	const char *id = json_string_value(json_object_get(node, "@id")), *k;

	context_load(g, json_object_get(node, "@context"));
	if (graph != NULL && value_load(g, graph, depth + 1, err) == -1)
		return -1;
	if (graph == NULL && json_object_size(node) > (id != NULL ? 1u : 0u)) {
		json_array_append(g->nodes, node);
		if (id != NULL && json_object_get(g->index, id) == NULL)
			json_object_set(g->index, id, node);
	}
	json_object_foreach(node, k, v)
		if (k[0] != '@' && value_load(g, v, depth + 1, err) == -1)
			return -1;
	return 0;
}

static int
value_load(struct dfc_graph *g, json_t *v, int depth, struct halle_error *err)
{
	json_t *inner;
	size_t i;

	if (depth > DFC_MAX_DEPTH)
		return error_set(err, HALLE_E_DFC_INVALID, "the document nests "
		    "nodes deeper than %d levels", DFC_MAX_DEPTH);
	if (json_is_array(v)) {
		json_array_foreach(v, i, inner)
			if (value_load(g, inner, depth + 1, err) == -1)
				return -1;
		return 0;
	}
	if (!json_is_object(v) || json_object_get(v, "@value") != NULL)
		return 0;
	if ((inner = json_object_get(v, "@list")) != NULL ||
	    (inner = json_object_get(v, "@set")) != NULL)
		return value_load(g, inner, depth + 1, err);
	return node_load(g, v, depth, err);
}

int
dfc_graph_load(struct dfc_graph *g, json_t *doc, struct halle_error *err)
{
	g->index = json_object();
	g->nodes = json_array();
	g->terms = json_object();
	if (g->index == NULL || g->nodes == NULL || g->terms == NULL)
		return error_set(err, HALLE_E_INTERNAL, "out of memory");
	if (!json_is_object(doc) && !json_is_array(doc))
		return error_set(err, HALLE_E_DFC_INVALID, "a JSON-LD document is an "
		    "object or an array");
	return value_load(g, doc, 0, err);
}

void
dfc_graph_free(struct dfc_graph *g)
{
	json_decref(g->index);
	json_decref(g->nodes);
	json_decref(g->terms);
	memset(g, 0, sizeof(*g));
}

int
dfc_is_a(const struct dfc_graph *g, json_t *node, enum dfc_ns ns,
    const char *local)
{
	json_t *types = json_object_get(node, "@type"), *t;
	const char *l;
	size_t i;

	if (json_is_string(types))
		return dfc_term(g, json_string_value(types), &l) == ns &&
		    strcmp(l, local) == 0;
	json_array_foreach(types, i, t)
		if (json_is_string(t) && dfc_term(g, json_string_value(t),
		    &l) == ns && strcmp(l, local) == 0)
			return 1;
	return 0;
}

json_t *
dfc_get(const struct dfc_graph *g, json_t *node, const char *local)
{
	const char *k, *l;
	json_t *v;

	if (!json_is_object(node))
		return NULL;
	json_object_foreach(node, k, v)
		if (k[0] != '@' && dfc_term(g, k, &l) == DFC_B &&
		    strcmp(l, local) == 0 && !json_is_null(v))
			return v;
	return NULL;
}

json_t *
dfc_first(json_t *value)
{
	json_t *inner;

	if (json_is_object(value) &&
	    ((inner = json_object_get(value, "@list")) != NULL ||
	    (inner = json_object_get(value, "@set")) != NULL))
		value = inner;
	if (json_is_array(value))
		return json_array_size(value) ? json_array_get(value, 0) : NULL;
	return value;
}

const char *
dfc_id(json_t *value)
{
	value = dfc_first(value);
	if (json_is_string(value))
		return json_string_value(value);
	return json_string_value(json_object_get(value, "@id"));
}

json_t *
dfc_ref(const struct dfc_graph *g, json_t *value)
{
	const char *id;

	value = dfc_first(value);
	if (json_is_object(value) && json_object_get(value, "@value") == NULL &&
	    json_object_size(value) > (json_object_get(value, "@id") ? 1u : 0u))
		return value;
	if ((id = dfc_id(value)) == NULL)
		return NULL;
	return json_object_get(g->index, id);
}

const char *
dfc_text(json_t *value)
{
	value = dfc_first(value);
	if (json_is_object(value))
		value = json_object_get(value, "@value");
	return json_string_value(value);
}

int
dfc_number(json_t *value, double *out)
{
	const char *s;
	char *end;

	value = dfc_first(value);
	if (json_is_object(value))
		value = json_object_get(value, "@value");
	if (json_is_number(value)) {
		*out = json_number_value(value);
		return 0;
	}
	if ((s = json_string_value(value)) == NULL)
		return -1;
	while (*s == ' ')
		s++;
	if (s[0] == '\0' || strspn(s, "0123456789+-.eE ") != strlen(s))
		return -1;
	*out = strtod(s, &end);
	while (*end == ' ')
		end++;
	return *end == '\0' && end != s && isfinite(*out) ? 0 : -1;
}

enum dfc_ns
dfc_concept(const struct dfc_graph *g, json_t *value, const char **local)
{
	const char *id = dfc_id(value);

	*local = "";
	return id != NULL ? dfc_term(g, id, local) : DFC_NS_NONE;
}
