/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The type, in @types, of a member holding a job spec (an object whose
 * members have the types of orch_spec_field_types): a schedule's "job",
 * a group's "template". */
#define ORCH_REST_TYPE_JOB_SPEC "spec"

/* A group's autoscale settings (orch_autoscale_field_types).  Nested
 * objects are converted member by member by their own table, errors (an
 * unknown member too) naming the member by its path: "template.command". */
#define ORCH_REST_TYPE_AUTOSCALE "autoscale"

/* A JSON object body as a{sv} for D-Bus, each member converted to the
 * type the daemon expects for it (@types: {"key", "type", ..., NULL});
 * members not in @types are guessed and left for the daemon to judge.
 * Not one well-formed JSON object: ORCH_ERROR_MALFORMED; a wrong type or a
 * number out of range: ORCH_ERROR_INVALID_ARGUMENT naming the field. */
GVariant *orch_rest_object_from_json (const char *body, gsize len, const char *const *types,
                                      GError **error);

/* Query parameters as a{sv}: each must be in @types ({"param", "key",
 * "type", ..., NULL}: "tail" can stand for "tail_lines"); numbers parsed
 * strictly.  Unknown parameters are an error. */
/* The members of @object (an a{sv} from orch_rest_object_from_json())
 * as positional arguments, in the order of @types ({"key", "type", ...,
 * NULL}): each is required, no other member is allowed.  For calls such
 * as Groups.Scale(s, u) whose body is {"replicas": N}.  Returns how many
 * were stored in @args (at most @max), or -1 with @error naming the field. */
gssize orch_rest_args_from_object (GVariant *object, const char *const *types, GVariant **args,
                                   gsize max, GError **error);

GVariant *orch_rest_options_from_query (GHashTable *query, const char *const *types,
                                        GError **error);

/* @v as compact JSON appended to @out, as json-glib's GVariant bridge
 * writes it (a{sv} and other dictionaries as objects, arrays and tuples
 * as arrays, variants and maybes unwrapped), without its node tree: a
 * third of the shim's work per request went there.  Unlike json-glib it
 * escapes U+001F and writes a non-finite double as null. */
void orch_rest_variant_to_json (GString *out, GVariant *v);
void orch_rest_json_append_string (GString *out, const char *s);
void orch_rest_json_append_double (GString *out, double d);

/* {"error": "<name>", "message": "..."} */
char *orch_rest_error_json (const char *name, const char *message);

G_END_DECLS
