/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "orch-rest-routes.h"

#include <string.h>

static const OrchRoute routes[] = {
  { ORCH_ROUTE_JOB_CREATE, "POST", "/jobs/" },
  { ORCH_ROUTE_JOB_LIST, "GET", "/jobs/" },
  { ORCH_ROUTE_JOB_GET, "GET", "/jobs/{id}" },
  { ORCH_ROUTE_JOB_STOP, "DELETE", "/jobs/{id}" },
  { ORCH_ROUTE_JOB_RESTART, "POST", "/jobs/{id}/restart" },
  { ORCH_ROUTE_SYSTEM, "GET", "/metrics/system" },
  { ORCH_ROUTE_SYSTEM_DETAILED, "GET", "/metrics/system/detailed" },
  { ORCH_ROUTE_SYSTEM_HISTORY, "GET", "/metrics/system/history" },
  { ORCH_ROUTE_PROCESS, "GET", "/metrics/process/{pid}" },
  { ORCH_ROUTE_PROCESS_HISTORY, "GET", "/metrics/process/{pid}/history" },
  { ORCH_ROUTE_JOB_METRICS, "GET", "/metrics/jobs/{id}" },
  { ORCH_ROUTE_JOB_METRICS_HISTORY, "GET", "/metrics/jobs/{id}/history" },
  { ORCH_ROUTE_LOGS_READ, "GET", "/logs/{id}" },
  { ORCH_ROUTE_LOGS_DELETE, "DELETE", "/logs/{id}" },
  { ORCH_ROUTE_LOGS_CLEANUP, "POST", "/logs/cleanup" },
  { ORCH_ROUTE_PROMETHEUS, "GET", "/metrics" },
  { ORCH_ROUTE_OPENAPI, "GET", "/openapi.json" },
  { ORCH_ROUTE_DOCS, "GET", "/docs" },
  { ORCH_ROUTE_HEALTHZ, "GET", "/healthz" },
};

const OrchRoute *
orch_rest_routes (gsize *n_routes)
{
  *n_routes = G_N_ELEMENTS (routes);
  return routes;
}

/* Splits "/a/b/" into {"a", "b"}: empty segments (the trailing slash, a
 * doubled one) do not count. */
static GStrv
segments (const char *path)
{
  g_auto(GStrv) parts = g_strsplit (path, "/", -1);
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func (g_free);

  for (char **p = parts; *p; p++)
    if (**p)
      g_ptr_array_add (out, g_strdup (*p));
  g_ptr_array_add (out, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

static gboolean
path_matches (const char *pattern, const char *const *have, char **ret_param)
{
  g_auto(GStrv) want = segments (pattern);
  guint n = g_strv_length (want);

  if (g_strv_length ((char **) have) != n)
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      if (want[i][0] == '{')
        {
          /* A literal route wins: /logs/cleanup is not /logs/{id}. */
          continue;
        }
      if (strcmp (want[i], have[i]) != 0)
        return FALSE;
    }
  for (guint i = 0; i < n; i++)
    if (want[i][0] == '{' && ret_param)
      {
        g_free (*ret_param);
        *ret_param = g_strdup (have[i]);
      }
  return TRUE;
}

static gboolean
has_placeholder (const char *pattern)
{
  return strchr (pattern, '{') != NULL;
}

OrchRouteResult
orch_rest_route_match (const char *method, const char *path, const OrchRoute **ret_route,
                       char **ret_param, char **ret_allow)
{
  g_auto(GStrv) have = segments (path);
  g_autoptr(GString) allow = g_string_new (NULL);
  g_autofree char *param = NULL;
  gboolean literal_path_exists = FALSE;

  /* Literal paths first, so a {param} never swallows one of them. */
  for (gsize i = 0; i < G_N_ELEMENTS (routes); i++)
    if (!has_placeholder (routes[i].pattern) && path_matches (routes[i].pattern, (const char *const *) have, NULL))
      literal_path_exists = TRUE;

  for (gsize i = 0; i < G_N_ELEMENTS (routes); i++)
    {
      if (literal_path_exists && has_placeholder (routes[i].pattern))
        continue;
      if (!path_matches (routes[i].pattern, (const char *const *) have, &param))
        continue;
      if (strcmp (routes[i].method, method) == 0)
        {
          *ret_route = &routes[i];
          if (ret_param)
            *ret_param = g_steal_pointer (&param);
          return ORCH_ROUTE_MATCH;
        }
      if (strstr (allow->str, routes[i].method) == NULL)
        g_string_append_printf (allow, "%s%s", allow->len ? ", " : "", routes[i].method);
    }
  if (allow->len == 0)
    return ORCH_ROUTE_NO_PATH;
  if (ret_allow)
    *ret_allow = g_string_free (g_steal_pointer (&allow), FALSE);
  return ORCH_ROUTE_NO_METHOD;
}
