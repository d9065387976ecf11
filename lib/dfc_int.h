/*
 * dfc_int: reading a JSON-LD graph the way halle needs, shared by the DFC
 * files (dfc_graph.c implements it). Not for use outside lib/dfc*.c.
 *
 * A term is classified by the namespace it expands to, recognised by the
 * file name that ends it, so that every published location of the same
 * vocabulary is one (static.datafoodconsortium.org, the GitHub releases,
 * w3id.org, any version):
 *
 *   ...DFC_BusinessOntology.owl#name   DFC_B  "name"
 *   ...DFC_FullModel.owl#name          DFC_B  "name"  (before 1.8)
 *   ...measures.rdf#Kilogram           DFC_M  "Kilogram"
 *   ...vocabulary.rdf#Held             DFC_V  "Held"
 *   ...facets.rdf#Organic-AB           DFC_F  "Organic-AB"
 *
 * A compact term ("dfc-b:name") expands through the prefixes of the
 * document's own @context objects, else through the usual ones (dfc-b,
 * dfc, dfc-m, dfc-v, dfc-f); a bare term through the context's term
 * definitions or its @vocab. A context named by URL is never fetched.
 */
#ifndef HALLE_DFC_INT_H
#define HALLE_DFC_INT_H

#include <stddef.h>

#include <jansson.h>

#include "error.h"

enum dfc_ns { DFC_NS_NONE, DFC_B, DFC_M, DFC_V, DFC_F };

struct dfc_graph {
	json_t	*index;		/* @id -> its node (the first that defines it) */
	json_t	*nodes;		/* every node, in document order */
	json_t	*terms;		/* the contexts' prefixes and terms -> IRI */
};

/*
 * Indexes doc's nodes, embedded ones included. -1 with err (dfc_invalid)
 * when doc is not JSON-LD halle can read. Free with dfc_graph_free, even
 * after a failure.
 */
int	 dfc_graph_load(struct dfc_graph *g, json_t *doc,
	    struct halle_error *err);
void	 dfc_graph_free(struct dfc_graph *g);

/* The namespace of a term or IRI as written, and its local name. */
enum dfc_ns dfc_term(const struct dfc_graph *g, const char *term,
	    const char **local);

/* 1 when node's @type holds ns:local. */
int	 dfc_is_a(const struct dfc_graph *g, json_t *node, enum dfc_ns ns,
	    const char *local);

/* The value of property dfc-b:local of node, as written (maybe an array). */
json_t	*dfc_get(const struct dfc_graph *g, json_t *node, const char *local);

/* A value's first element when it is an array, else itself; NULL if []. */
json_t	*dfc_first(json_t *value);

/*
 * The node a reference names: an embedded node, or the node of the @id
 * it holds ("id", {"@id": "id"}); the first when it is an array. NULL when
 * the document does not hold it.
 */
json_t	*dfc_ref(const struct dfc_graph *g, json_t *value);

/* The @id a reference or node carries, or NULL. */
const char *dfc_id(json_t *value);

/* A literal's text (a string, or {"@value": string}), or NULL. */
const char *dfc_text(json_t *value);

/* A literal number: a JSON number or a numeric string. 0, or -1. */
int	 dfc_number(json_t *value, double *out);

/* The concept an IRI value names (dfc-m:Kilogram): its namespace. */
enum dfc_ns dfc_concept(const struct dfc_graph *g, json_t *value,
	    const char **local);

#endif
