/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The route table against itself and against the D-Bus contract: a row
 * added with a call the daemon does not have, or with arguments or a
 * reply of another shape, fails here rather than as a 500 at run time. */
#include "rest/orch-rest-routes.h"

#include <gio/gio.h>
#include <string.h>

static GDBusNodeInfo *
interface_node (const char *name)
{
  g_autofree char *file = g_strconcat (name, ".xml", NULL);
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "..", "dbus", file, NULL);
  g_autofree char *xml = NULL;
  g_autoptr(GError) error = NULL;
  GDBusNodeInfo *node;

  g_assert_true (g_file_get_contents (path, &xml, NULL, &error));
  node = g_dbus_node_info_new_for_xml (xml, &error);
  g_assert_no_error (error);
  return node;
}

static char *
signature (GDBusArgInfo **args)
{
  GString *s = g_string_new ("(");

  for (GDBusArgInfo **a = args; a && *a; a++)
    g_string_append (s, (*a)->signature);
  g_string_append_c (s, ')');
  return g_string_free (s, FALSE);
}

/* What dispatch builds from the row. */
static char *
in_signature (const OrchRoute *r)
{
  g_autoptr(GString) body = g_string_new (NULL);

  /* A body of arguments: its members' types, in order. */
  if (r->options == ORCH_ROUTE_OPTIONS_BODY_ARGS)
    for (const char *const *t = r->types; *t; t += 2)
      g_string_append (body, t[1]);
  else if (r->options != ORCH_ROUTE_OPTIONS_NONE)
    g_string_append (body, "a{sv}");
  return g_strconcat ("(",
                      r->param == ORCH_ROUTE_PARAM_ID || r->param == ORCH_ROUTE_PARAM_JOB_QUERY
                          ? "s"
                      : r->param == ORCH_ROUTE_PARAM_PID ? "u"
                                                         : "",
                      body->str, ")", NULL);
}

/* What the reply kind takes apart; NULL: one value of any type. */
static const char *
out_signature (OrchRouteReply reply)
{
  switch (reply)
    {
    case ORCH_ROUTE_REPLY_CREATED:
      return "(so)";
    case ORCH_ROUTE_REPLY_LOG_TEXT:
      return "(st)";
    case ORCH_ROUTE_REPLY_DELETED:
      return "()";
    case ORCH_ROUTE_REPLY_CLEANUP:
      return "(ut)";
    case ORCH_ROUTE_REPLY_PROMETHEUS:
      return "(a{sv})";
    case ORCH_ROUTE_REPLY_SCHEDULE_CREATED:
      return "(so)";
    case ORCH_ROUTE_REPLY_SCHEDULE:
      return "()";
    case ORCH_ROUTE_REPLY_TRIGGERED:
      return "(s)";
    case ORCH_ROUTE_REPLY_RECORD_CREATED:
      return "(so)";
    case ORCH_ROUTE_REPLY_RECORD:
      return "()";
    case ORCH_ROUTE_REPLY_VALUE:
    default:
      return NULL;
    }
}

static void
test_calls_match_the_bus (void)
{
  gsize n;
  const OrchRoute *routes = orch_rest_routes (&n);

  for (gsize i = 0; i < n; i++)
    {
      const OrchRoute *r = &routes[i];
      g_autoptr(GDBusNodeInfo) node = NULL;
      GDBusInterfaceInfo *iface;
      GDBusMethodInfo *method;
      g_autofree char *in = NULL, *want_in = NULL, *out = NULL;

      if (r->kind != ORCH_ROUTE_CALL)
        continue;
      g_test_message ("%s %s: %s.%s", r->method, r->pattern, r->dbus_interface, r->dbus_method);
      g_assert_nonnull (r->dbus_interface);
      g_assert_nonnull (r->dbus_method);
      node = interface_node (r->dbus_interface);
      iface = g_dbus_node_info_lookup_interface (node, r->dbus_interface);
      g_assert_nonnull (iface);
      method = g_dbus_interface_info_lookup_method (iface, r->dbus_method);
      g_assert_nonnull (method);
      in = signature (method->in_args);
      want_in = in_signature (r);
      g_assert_cmpstr (in, ==, want_in);
      out = signature (method->out_args);
      if (out_signature (r->reply))
        g_assert_cmpstr (out, ==, out_signature (r->reply));
      else
        g_assert_cmpuint (g_variant_type_n_items (G_VARIANT_TYPE (out)), ==, 1);
    }
}

static void
test_rows_complete (void)
{
  gsize n;
  const OrchRoute *routes = orch_rest_routes (&n);

  for (gsize i = 0; i < n; i++)
    {
      const OrchRoute *r = &routes[i];
      const char *brace = strchr (r->pattern, '{');

      g_test_message ("%s %s", r->method, r->pattern);
      g_assert_true (g_str_equal (r->method, "GET") || g_str_equal (r->method, "POST") ||
                     g_str_equal (r->method, "DELETE") || g_str_equal (r->method, "PATCH"));
      g_assert_true (r->pattern[0] == '/');
      for (gsize j = 0; j < i; j++)
        g_assert_false (g_str_equal (routes[j].method, r->method) &&
                        g_str_equal (routes[j].pattern, r->pattern));
      switch (r->kind)
        {
        case ORCH_ROUTE_CALL:
          /* The path's parameter is the call's first argument. */
          if (brace && g_str_has_prefix (brace, "{pid}"))
            g_assert_cmpint (r->param, ==, ORCH_ROUTE_PARAM_PID);
          else if (brace)
            g_assert_cmpint (r->param, ==, ORCH_ROUTE_PARAM_ID);
          else if (r->param == ORCH_ROUTE_PARAM_JOB_QUERY)
            g_assert_true (r->options == ORCH_ROUTE_OPTIONS_QUERY);
          else
            g_assert_cmpint (r->param, ==, ORCH_ROUTE_PARAM_NONE);
          g_assert_true ((r->options == ORCH_ROUTE_OPTIONS_NONE) == (r->types == NULL));
          /* A body only where a client sends one. */
          if (r->options == ORCH_ROUTE_OPTIONS_BODY || r->options == ORCH_ROUTE_OPTIONS_BODY_ARGS)
            g_assert_true (g_str_equal (r->method, "POST") || g_str_equal (r->method, "PATCH"));
          if (r->options == ORCH_ROUTE_OPTIONS_QUERY)
            for (const char *const *t = r->types; *t; t += 3)
              {
                g_assert_nonnull (t[1]);
                g_assert_nonnull (t[2]);
                g_assert_nonnull (strchr ("situb", t[2][0]));
                g_assert_cmpuint (strlen (t[2]), ==, 1);
              }
          g_assert_false (r->public);
          break;
        case ORCH_ROUTE_FILE:
          g_assert_nonnull (r->file);
          g_assert_nonnull (r->content_type);
          g_assert_null (brace);
          break;
        case ORCH_ROUTE_HEALTH:
        default:
          g_assert_null (brace);
          break;
        }
    }
}

/* Every row is what its own path finds, with and without the trailing
 * slash. */
static void
test_rows_found (void)
{
  gsize n;
  const OrchRoute *routes = orch_rest_routes (&n);

  for (gsize i = 0; i < n; i++)
    {
      g_auto(GStrv) parts = g_strsplit (routes[i].pattern, "/", -1);
      g_autofree char *path = NULL;
      g_autofree char *slashed = NULL;

      for (char **p = parts; *p; p++)
        if ((*p)[0] == '{')
          {
            g_free (*p);
            *p = g_strdup ("123");
          }
      path = g_strjoinv ("/", parts);
      slashed = g_str_has_suffix (path, "/") ? g_strndup (path, strlen (path) - 1)
                                             : g_strconcat (path, "/", NULL);
      for (const char *const *p = (const char *const[]){ path, slashed, NULL }; *p; p++)
        {
          const OrchRoute *found = NULL;
          g_autofree char *param = NULL;
          g_autofree char *allow = NULL;

          g_assert_cmpint (orch_rest_route_match (routes[i].method, *p, &found, &param, &allow), ==,
                           ORCH_ROUTE_MATCH);
          g_assert_true (found == &routes[i]);
          g_assert_cmpstr (param, ==, strchr (routes[i].pattern, '{') ? "123" : NULL);
        }
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rest-routes/complete", test_rows_complete);
  g_test_add_func ("/rest-routes/calls-match-the-bus", test_calls_match_the_bus);
  g_test_add_func ("/rest-routes/found", test_rows_found);
  return g_test_run ();
}
