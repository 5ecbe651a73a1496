/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* data/openapi.json against the tables the shim and the daemon run on:
 * every route of src/rest/orch-rest-routes.c is documented with exactly
 * the statuses it can answer (orch_rest_route_statuses(), from the row
 * and the error table), every documented status has a response schema,
 * and JobSpec states the bounds of the SPEC_FIELDS rows.  Run with
 * --statuses to print what each route answers, as JSON. */
#include "rest/orch-rest-prometheus.h"
#include "rest/orch-rest-routes.h"

#include "basic/orch-spec.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

static JsonNode *doc;

static JsonObject *
doc_root (void)
{
  return json_node_get_object (doc);
}

/* "#/components/responses/X" -> that object. */
static JsonObject *
resolve (JsonObject *o)
{
  const char *ref;
  g_auto(GStrv) parts = NULL;
  JsonObject *at = doc_root ();

  if (!json_object_has_member (o, "$ref"))
    return o;
  ref = json_object_get_string_member (o, "$ref");
  g_assert_true (g_str_has_prefix (ref, "#/"));
  parts = g_strsplit (ref + 2, "/", -1);
  for (char **p = parts; *p; p++)
    {
      if (!json_object_has_member (at, *p))
        g_error ("%s: no such member “%s”", ref, *p);
      at = json_object_get_object_member (at, *p);
    }
  return at;
}

static char *
lower (const char *s)
{
  return g_ascii_strdown (s, -1);
}

static JsonObject *
operation (const OrchRoute *r)
{
  JsonObject *paths = json_object_get_object_member (doc_root (), "paths");
  g_autofree char *m = lower (r->method);
  JsonObject *path;

  if (!json_object_has_member (paths, r->pattern))
    return NULL;
  path = json_object_get_object_member (paths, r->pattern);
  return json_object_has_member (path, m) ? json_object_get_object_member (path, m) : NULL;
}

static char *
statuses_string (const guint *s, gsize n)
{
  GString *out = g_string_new (NULL);

  for (gsize i = 0; i < n; i++)
    g_string_append_printf (out, "%s%u", i ? ", " : "", s[i]);
  return g_string_free (out, FALSE);
}

static int
compare_uint (gconstpointer a, gconstpointer b)
{
  guint x = *(const guint *) a, y = *(const guint *) b;

  return x < y ? -1 : x > y;
}

/* Every route documented, with the statuses it answers, each with a
 * schema for its body. */
static void
test_routes (void)
{
  gsize n;
  const OrchRoute *routes = orch_rest_routes (&n);
  g_autoptr(GString) wrong = g_string_new (NULL);

  for (gsize i = 0; i < n; i++)
    {
      const OrchRoute *r = &routes[i];
      JsonObject *op = operation (r);
      JsonObject *responses;
      guint want[ORCH_ROUTE_MAX_STATUSES];
      gsize n_want = orch_rest_route_statuses (r, want);
      g_autoptr(GArray) have = g_array_new (FALSE, FALSE, sizeof (guint));
      g_autofree char *want_s = statuses_string (want, n_want);
      g_autofree char *have_s = NULL;
      g_autoptr(GList) members = NULL;

      if (op == NULL)
        {
          g_string_append_printf (wrong, "%s %s: served, not documented (statuses %s)\n", r->method,
                                  r->pattern, want_s);
          continue;
        }
      /* A public route says so (no security), any other inherits the token. */
      if (r->public != (json_object_has_member (op, "security") &&
                        json_array_get_length (json_object_get_array_member (op, "security")) == 0))
        g_string_append_printf (wrong, "%s %s: \"security\": [] %s\n", r->method, r->pattern,
                                r->public ? "is missing (the route is public)"
                                          : "is wrong (the route needs the token)");
      responses = json_object_get_object_member (op, "responses");
      members = json_object_get_members (responses);
      for (GList *l = members; l; l = l->next)
        {
          guint status = (guint) g_ascii_strtoull (l->data, NULL, 10);
          JsonObject *resp = resolve (json_object_get_object_member (responses, l->data));
          g_array_append_val (have, status);
          /* 101 switches protocols: no body.  Any other has a schema. */
          if (status == 101)
            continue;
          if (!json_object_has_member (resp, "content"))
            {
              g_string_append_printf (wrong, "%s %s: status %u has no content schema\n", r->method,
                                      r->pattern, status);
              continue;
            }
          {
            JsonObject *content = json_object_get_object_member (resp, "content");
            g_autoptr(GList) types = json_object_get_members (content);
            for (GList *t = types; t; t = t->next)
              if (!json_object_has_member (json_object_get_object_member (content, t->data),
                                           "schema"))
                g_string_append_printf (wrong, "%s %s: status %u, %s: no schema\n", r->method,
                                        r->pattern, status, (const char *) t->data);
          }
        }
      g_array_sort (have, compare_uint);
      have_s = statuses_string ((guint *) have->data, have->len);
      if (strcmp (have_s, want_s) != 0)
        g_string_append_printf (wrong, "%s %s: documented %s; the server answers %s\n", r->method,
                                r->pattern, have_s, want_s);
    }
  if (wrong->len)
    g_error ("data/openapi.json differs from the route table:\n%s", wrong->str);
}

/* Nothing documented that is not served. */
static void
test_no_phantoms (void)
{
  JsonObject *paths = json_object_get_object_member (doc_root (), "paths");
  g_autoptr(GList) names = json_object_get_members (paths);
  gsize n;
  const OrchRoute *routes = orch_rest_routes (&n);

  for (GList *l = names; l; l = l->next)
    {
      JsonObject *path = json_object_get_object_member (paths, l->data);
      g_autoptr(GList) methods = json_object_get_members (path);
      for (GList *m = methods; m; m = m->next)
        {
          gboolean found = FALSE;
          if (strcmp (m->data, "parameters") == 0 || strcmp (m->data, "summary") == 0 ||
              strcmp (m->data, "description") == 0)
            continue;
          for (gsize i = 0; i < n && !found; i++)
            {
              g_autofree char *method = lower (routes[i].method);
              found = strcmp (routes[i].pattern, l->data) == 0 && strcmp (method, m->data) == 0;
            }
          if (!found)
            g_error ("%s %s is documented but not in the route table", (const char *) m->data,
                     (const char *) l->data);
        }
    }
}

static const char *
json_type (const char *dbus_type)
{
  switch (dbus_type[0])
    {
    case 'u':
    case 't':
    case 'i':
    case 'x':
      return "integer";
    case 'd':
      return "number";
    case 's':
      return "string";
    case 'b':
      return "boolean";
    case 'a':
      return strcmp (dbus_type, "as") == 0 ? "array" : "object";
    default:
      return NULL;
    }
}

static void
expect_number (GString *wrong, const char *key, JsonObject *schema, const char *member,
               gboolean present, double value)
{
  if (!present)
    {
      if (json_object_has_member (schema, member))
        g_string_append_printf (wrong, "%s: %s is documented, the table has none\n", key, member);
      return;
    }
  if (!json_object_has_member (schema, member))
    g_string_append_printf (wrong, "%s: %s should be %.17g\n", key, member, value);
  else if (json_object_get_double_member (schema, member) != value)
    g_string_append_printf (wrong, "%s: %s is %.17g, the table says %.17g\n", key, member,
                            json_object_get_double_member (schema, member), value);
}

static void
expect_string (GString *wrong, const char *key, JsonObject *schema, const char *member,
               const char *value)
{
  const char *have = json_object_has_member (schema, member)
                         ? json_object_get_string_member (schema, member)
                         : NULL;

  if (g_strcmp0 (have, value) != 0)
    g_string_append_printf (wrong, "%s: %s is %s, the table says %s\n", key, member,
                            have ? have : "(none)", value ? value : "(none)");
}

/* JobSpec states the SPEC_FIELDS rows: types, ranges, lengths, patterns. */
static void
test_spec_bounds (void)
{
  JsonObject *schemas = json_object_get_object_member (
      json_object_get_object_member (doc_root (), "components"), "schemas");
  JsonObject *props = json_object_get_object_member (
      json_object_get_object_member (schemas, "JobSpec"), "properties");
  gsize n;
  const OrchSpecField *fields = orch_spec_fields (&n);
  g_autoptr(GString) wrong = g_string_new (NULL);

  g_assert_cmpuint (json_object_get_size (props), ==, n);
  for (gsize i = 0; i < n; i++)
    {
      const OrchSpecField *f = &fields[i];
      JsonObject *p;
      char t = f->type[0];
      double type_max = t == 'u' ? G_MAXUINT32 : 0;

      if (!json_object_has_member (props, f->key))
        {
          g_string_append_printf (wrong, "%s: not in JobSpec\n", f->key);
          continue;
        }
      p = json_object_get_object_member (props, f->key);
      expect_string (wrong, f->key, p, "type", json_type (f->type));
      if (t == 'u' || t == 't' || t == 'd')
        {
          /* Unsigned integers start at 0 whatever the row says. */
          expect_number (wrong, f->key, p, "minimum", t != 'd' || f->min > 0, f->min);
          expect_number (wrong, f->key, p, "maximum", f->max > 0 || type_max > 0,
                         f->max > 0 ? f->max : type_max);
        }
      else if (t == 's')
        {
          expect_number (wrong, f->key, p, "minLength", f->min_length > 0, f->min_length);
          expect_number (wrong, f->key, p, "maxLength", f->max_length > 0, f->max_length);
          expect_string (wrong, f->key, p, "pattern", f->pattern);
        }
      else if (strcmp (f->type, "as") == 0)
        {
          JsonArray *prefix = json_object_has_member (p, "prefixItems")
                                  ? json_object_get_array_member (p, "prefixItems")
                                  : NULL;
          expect_number (wrong, f->key, p, "minItems", f->min_length > 0, f->min_length);
          expect_number (wrong, f->key, p, "maxItems", f->max_length > 0, f->max_length);
          if (f->pattern && (prefix == NULL || json_array_get_length (prefix) != 1))
            g_string_append_printf (
                wrong, "%s: prefixItems should hold the first element's pattern\n", f->key);
          else if (prefix)
            expect_string (wrong, f->key, json_array_get_object_element (prefix, 0), "pattern",
                           f->pattern);
        }
      else if (strcmp (f->type, "a{ss}") == 0)
        {
          JsonObject *names = json_object_has_member (p, "propertyNames")
                                  ? json_object_get_object_member (p, "propertyNames")
                                  : NULL;
          if (f->pattern && names == NULL)
            g_string_append_printf (wrong, "%s: propertyNames should hold the keys' pattern\n",
                                    f->key);
          else if (names)
            expect_string (wrong, f->key, names, "pattern", f->pattern);
        }
    }
  if (wrong->len)
    g_error ("JobSpec in data/openapi.json differs from SPEC_FIELDS:\n%s", wrong->str);
}

/* A pattern means the same to GRegex (the daemon) and to an ECMA-262
 * engine (the tools): only the common subset is used. */
static void
test_patterns_portable (void)
{
  gsize n;
  const OrchSpecField *fields = orch_spec_fields (&n);

  for (gsize i = 0; i < n; i++)
    {
      const char *p = fields[i].pattern;
      g_autoptr(GRegex) re = NULL;
      if (p == NULL)
        continue;
      re = g_regex_new (p, 0, 0, NULL);
      g_assert_nonnull (re);
      g_assert_nonnull (fields[i].pattern_hint);
      /* No classes whose meaning differs (\w, \d under Unicode), no
       * possessive or lookbehind syntax. */
      g_assert_null (strstr (p, "\\w"));
      g_assert_null (strstr (p, "\\d"));
      g_assert_null (strstr (p, "(?<"));
      g_assert_null (strstr (p, "++"));
    }
}

/* /metrics has a state series for each state a job can be in. */
static void
test_prometheus_states (void)
{
  JsonObject *schemas = json_object_get_object_member (
      json_object_get_object_member (doc_root (), "components"), "schemas");
  JsonArray *states = json_object_get_array_member (
      json_object_get_object_member (schemas, "JobState"), "enum");
  guint n = json_array_get_length (states);

  g_assert_cmpuint (n, ==, g_strv_length ((char **) orch_rest_prometheus_job_states));
  for (guint i = 0; i < n; i++)
    g_assert_true (g_strv_contains (orch_rest_prometheus_job_states,
                                    json_array_get_string_element (states, i)));
}

static void
print_statuses (void)
{
  gsize n;
  const OrchRoute *routes = orch_rest_routes (&n);

  g_print ("{");
  for (gsize i = 0; i < n; i++)
    {
      guint s[ORCH_ROUTE_MAX_STATUSES];
      gsize k = orch_rest_route_statuses (&routes[i], s);
      g_autofree char *list = statuses_string (s, k);
      g_print ("%s\n  \"%s %s\": [%s]", i ? "," : "", routes[i].method, routes[i].pattern, list);
    }
  g_print ("\n}\n");
}

int
main (int argc, char **argv)
{
  g_autofree char *path = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  if (argc > 1 && strcmp (argv[1], "--statuses") == 0)
    {
      print_statuses ();
      return 0;
    }
  g_test_init (&argc, &argv, NULL);
  path = g_test_build_filename (G_TEST_DIST, "..", "..", "data", "openapi.json", NULL);
  if (!json_parser_load_from_file (parser, path, &error))
    g_error ("%s: %s", path, error->message);
  doc = json_node_copy (json_parser_get_root (parser));
  g_test_add_func ("/contract/routes", test_routes);
  g_test_add_func ("/contract/no-phantoms", test_no_phantoms);
  g_test_add_func ("/contract/spec-bounds", test_spec_bounds);
  g_test_add_func ("/contract/patterns", test_patterns_portable);
  g_test_add_func ("/contract/prometheus-states", test_prometheus_states);
  return g_test_run ();
}
