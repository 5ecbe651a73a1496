/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The type, in @types, of a member holding a job spec (an object whose
 * members have the types of orch_spec_field_types): a schedule's "job". */
#define ORCH_REST_TYPE_JOB_SPEC "spec"

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
