/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "orch-rest-routes.h"
#include "orch-rest-json.h"

#include "basic/orch-error.h"
#include "basic/orch-limits.h"
#include "basic/orch-spec.h"

#include <string.h>

#define JOBS "org.orchestrator.Jobs"
#define METRICS "org.orchestrator.Metrics"
#define LOGS "org.orchestrator.Logs"
#define SCHEDULES "org.orchestrator.Schedules"
#define GROUPS "org.orchestrator.Groups"

/* Query specs: {parameter, option key, type}, the names a client types
 * and the keys the daemon reads ("tail" is tail_lines). */
static const char *const list_query[] = { "state", "state", "s",     "name",  "name", "s", "limit",
                                          "limit", "u",     "after", "after", "s",    NULL };
static const char *const stop_query[] = { "signal",     "signal", "i", "timeout_ms",
                                          "timeout_ms", "u",      NULL };
static const char *const history_query[] = { "since", "since",  "t",      "limit", "limit",
                                             "u",     "step_s", "step_s", "u",     NULL };
static const char *const log_query[] = { "stream",     "stream",     "s",         "offset",
                                         "offset",     "t",          "tail",      "tail_lines",
                                         "u",          "max_bytes",  "max_bytes", "u",
                                         "timestamps", "timestamps", "b",         "format",
                                         "format",     "s",          NULL };
static const char *const cleanup_body[] = { "older_than_s", "t", NULL };
static const char *const events_query[] = { "since", "since", "t", "limit", "limit", "u", NULL };
static const char *const schedule_body[] = { "name",
                                             "s",
                                             "job",
                                             ORCH_REST_TYPE_JOB_SPEC,
                                             "calendar",
                                             "s",
                                             "cron",
                                             "s",
                                             "timezone",
                                             "s",
                                             "interval_s",
                                             "t",
                                             "overlap",
                                             "s",
                                             "persistent",
                                             "b",
                                             "randomized_delay_s",
                                             "u",
                                             "timeout_s",
                                             "u",
                                             NULL };
static const char *const schedule_query[] = { "name", "name", "s", NULL };
static const char *const no_query[] = { NULL };
/* Groups.Create's options; Update takes template, max_unavailable and
 * autoscale of them (the daemon names any other). */
static const char *const group_body[] = {
  "template",  ORCH_REST_TYPE_JOB_SPEC,  "replicas", "u", "max_unavailable", "u", "name", "s",
  "autoscale", ORCH_REST_TYPE_AUTOSCALE, NULL
};
static const char *const scale_body[] = { "replicas", "u", NULL };
static const char *const forecast_query[] = {
  "horizon_s", "horizon_s", "u", "step_s", "step_s", "u", "memory_limit", "memory_limit", "t", NULL
};
static const char *const recommend_query[] = { "interval_s", "interval_s", "u", NULL };

/* Unset fields are the first of their enum: no parameter, no options,
 * read timeout, the reply's value as JSON. */
static const OrchRoute routes[] = {
  { "POST", "/jobs/", .dbus_interface = JOBS, .dbus_method = "Create",
    .options = ORCH_ROUTE_OPTIONS_BODY, .types = orch_spec_field_types,
    .timeout = ORCH_ROUTE_TIMEOUT_WRITE, .reply = ORCH_ROUTE_REPLY_CREATED,
    .errors = ORCH_ROUTE_ERROR (ORCH_ERROR_COMMAND_REJECTED) |
              ORCH_ROUTE_ERROR (ORCH_ERROR_LIMIT_REACHED) },
  /* NotFound: a page "after" a job the list does not have. */
  { "GET", "/jobs/", .dbus_interface = JOBS, .dbus_method = "List",
    .options = ORCH_ROUTE_OPTIONS_QUERY, .types = list_query,
    .errors = ORCH_ROUTE_ERROR (ORCH_ERROR_NOT_FOUND), .cached = TRUE },
  { "GET", "/jobs/{id}", .dbus_interface = JOBS, .dbus_method = "Get", .param = ORCH_ROUTE_PARAM_ID,
    .cached = TRUE },
  { "DELETE", "/jobs/{id}", .dbus_interface = JOBS, .dbus_method = "Stop",
    .param = ORCH_ROUTE_PARAM_ID, .options = ORCH_ROUTE_OPTIONS_QUERY, .types = stop_query,
    .timeout = ORCH_ROUTE_TIMEOUT_STOP, .errors = ORCH_ROUTE_ERROR (ORCH_ERROR_INVALID_STATE) },
  { "POST", "/jobs/{id}/restart", .dbus_interface = JOBS, .dbus_method = "Restart",
    .param = ORCH_ROUTE_PARAM_ID, .timeout = ORCH_ROUTE_TIMEOUT_STOP,
    .errors = ORCH_ROUTE_ERROR (ORCH_ERROR_INVALID_STATE) |
              ORCH_ROUTE_ERROR (ORCH_ERROR_LIMIT_REACHED) },
  { "GET", "/metrics/system", .dbus_interface = METRICS, .dbus_method = "GetSystem",
    .cached = TRUE },
  { "GET", "/metrics/system/detailed", .dbus_interface = METRICS,
    .dbus_method = "GetSystemDetailed" },
  { "GET", "/metrics/system/history", .dbus_interface = METRICS, .dbus_method = "GetSystemHistory",
    .options = ORCH_ROUTE_OPTIONS_QUERY, .types = history_query },
  { "GET", "/metrics/process/{pid}", .dbus_interface = METRICS, .dbus_method = "GetProcess",
    .param = ORCH_ROUTE_PARAM_PID },
  { "GET", "/metrics/process/{pid}/history", .dbus_interface = METRICS,
    .dbus_method = "GetProcessHistory", .param = ORCH_ROUTE_PARAM_PID,
    .options = ORCH_ROUTE_OPTIONS_QUERY, .types = history_query },
  { "GET", "/metrics/jobs/{id}", .dbus_interface = METRICS, .dbus_method = "GetJob",
    .param = ORCH_ROUTE_PARAM_ID },
  { "GET", "/metrics/jobs/{id}/history", .dbus_interface = METRICS, .dbus_method = "GetJobHistory",
    .param = ORCH_ROUTE_PARAM_ID, .options = ORCH_ROUTE_OPTIONS_QUERY, .types = history_query },
  { "GET", "/logs/{id}", .dbus_interface = LOGS, .dbus_method = "Read",
    .param = ORCH_ROUTE_PARAM_ID, .options = ORCH_ROUTE_OPTIONS_QUERY, .types = log_query,
    .reply = ORCH_ROUTE_REPLY_LOG_TEXT, .follow = TRUE,
    .errors = ORCH_ROUTE_ERROR (ORCH_ERROR_INVALID_STATE) },
  { "DELETE", "/logs/{id}", .dbus_interface = LOGS, .dbus_method = "Delete",
    .param = ORCH_ROUTE_PARAM_ID, .timeout = ORCH_ROUTE_TIMEOUT_WRITE,
    .reply = ORCH_ROUTE_REPLY_DELETED, .errors = ORCH_ROUTE_ERROR (ORCH_ERROR_INVALID_STATE) },
  { "POST", "/logs/cleanup", .dbus_interface = LOGS, .dbus_method = "Cleanup",
    .options = ORCH_ROUTE_OPTIONS_BODY, .types = cleanup_body, .timeout = ORCH_ROUTE_TIMEOUT_WRITE,
    .reply = ORCH_ROUTE_REPLY_CLEANUP },
  { "GET", "/metrics", .dbus_interface = METRICS, .dbus_method = "GetSystem",
    .reply = ORCH_ROUTE_REPLY_PROMETHEUS, .cached = TRUE },
  { "GET", "/openapi.json", .kind = ORCH_ROUTE_FILE, .public = TRUE, .file = "openapi.json",
    .content_type = "application/json; charset=utf-8" },
  { "GET", "/docs", .kind = ORCH_ROUTE_FILE, .public = TRUE, .file = "docs.html",
    .content_type = "text/html; charset=utf-8" },
  { "GET", "/healthz", .kind = ORCH_ROUTE_HEALTH, .public = TRUE },
  { "GET", "/ws/metrics", .kind = ORCH_ROUTE_WEBSOCKET },
  /* Jobs.Remove: a finished job's record goes (its logs stay until
   * DELETE /logs/{id}). */
  { "POST", "/jobs/{id}/remove", .dbus_interface = JOBS, .dbus_method = "Remove",
    .param = ORCH_ROUTE_PARAM_ID, .timeout = ORCH_ROUTE_TIMEOUT_WRITE,
    .reply = ORCH_ROUTE_REPLY_DELETED, .errors = ORCH_ROUTE_ERROR (ORCH_ERROR_INVALID_STATE) },
  /* The dashboard: public like /docs, the token is typed into it. */
  { "GET", "/", .kind = ORCH_ROUTE_FILE, .public = TRUE, .file = "web/index.html",
    .content_type = "text/html; charset=utf-8" },
  { "GET", "/web/app.js", .kind = ORCH_ROUTE_FILE, .public = TRUE, .file = "web/app.js",
    .content_type = "text/javascript; charset=utf-8" },
  { "GET", "/web/app.css", .kind = ORCH_ROUTE_FILE, .public = TRUE, .file = "web/app.css",
    .content_type = "text/css; charset=utf-8" },
  { "GET", "/web/i18n.json", .kind = ORCH_ROUTE_FILE, .public = TRUE, .file = "web/i18n.json",
    .content_type = "application/json; charset=utf-8" },
  { "PATCH", "/jobs/{id}", .dbus_interface = JOBS, .dbus_method = "SetLimits",
    .param = ORCH_ROUTE_PARAM_ID, .options = ORCH_ROUTE_OPTIONS_BODY,
    .types = orch_limits_field_types, .timeout = ORCH_ROUTE_TIMEOUT_WRITE,
    .errors = ORCH_ROUTE_ERROR (ORCH_ERROR_INVALID_STATE) },
  { "GET", "/jobs/{id}/events", .dbus_interface = JOBS, .dbus_method = "GetEvents",
    .param = ORCH_ROUTE_PARAM_ID, .options = ORCH_ROUTE_OPTIONS_QUERY, .types = events_query },
  /* The same for every job, or the one ?job= names. */
  { "GET", "/events", .dbus_interface = JOBS, .dbus_method = "GetEvents",
    .param = ORCH_ROUTE_PARAM_JOB_QUERY, .options = ORCH_ROUTE_OPTIONS_QUERY,
    .types = events_query },
  { "POST", "/schedules/", .dbus_interface = SCHEDULES, .dbus_method = "Create",
    .options = ORCH_ROUTE_OPTIONS_BODY, .types = schedule_body, .timeout = ORCH_ROUTE_TIMEOUT_WRITE,
    .reply = ORCH_ROUTE_REPLY_SCHEDULE_CREATED,
    .errors = ORCH_ROUTE_ERROR (ORCH_ERROR_COMMAND_REJECTED) },
  { "GET", "/schedules/", .dbus_interface = SCHEDULES, .dbus_method = "List",
    .options = ORCH_ROUTE_OPTIONS_QUERY, .types = schedule_query },
  { "GET", "/schedules/{id}", .dbus_interface = SCHEDULES, .dbus_method = "Get",
    .param = ORCH_ROUTE_PARAM_ID },
  { "PATCH", "/schedules/{id}", .dbus_interface = SCHEDULES, .dbus_method = "Update",
    .param = ORCH_ROUTE_PARAM_ID, .options = ORCH_ROUTE_OPTIONS_BODY, .types = schedule_body,
    .timeout = ORCH_ROUTE_TIMEOUT_WRITE, .reply = ORCH_ROUTE_REPLY_SCHEDULE },
  { "DELETE", "/schedules/{id}", .dbus_interface = SCHEDULES, .dbus_method = "Remove",
    .param = ORCH_ROUTE_PARAM_ID, .timeout = ORCH_ROUTE_TIMEOUT_WRITE,
    .reply = ORCH_ROUTE_REPLY_DELETED },
  /* A run the manager refuses now: the deny list, max_concurrent. */
  { "POST", "/schedules/{id}/trigger", .dbus_interface = SCHEDULES, .dbus_method = "Trigger",
    .param = ORCH_ROUTE_PARAM_ID, .timeout = ORCH_ROUTE_TIMEOUT_WRITE,
    .reply = ORCH_ROUTE_REPLY_TRIGGERED,
    .errors = ORCH_ROUTE_ERROR (ORCH_ERROR_COMMAND_REJECTED) |
              ORCH_ROUTE_ERROR (ORCH_ERROR_LIMIT_REACHED) },
  { "POST", "/schedules/{id}/pause", .dbus_interface = SCHEDULES, .dbus_method = "Pause",
    .param = ORCH_ROUTE_PARAM_ID, .timeout = ORCH_ROUTE_TIMEOUT_WRITE,
    .reply = ORCH_ROUTE_REPLY_SCHEDULE },
  { "POST", "/schedules/{id}/resume", .dbus_interface = SCHEDULES, .dbus_method = "Resume",
    .param = ORCH_ROUTE_PARAM_ID, .timeout = ORCH_ROUTE_TIMEOUT_WRITE,
    .reply = ORCH_ROUTE_REPLY_SCHEDULE },
  /* Job groups (issue 19); creating, updating and scaling further down. */
  { "GET", "/groups/", .dbus_interface = GROUPS, .dbus_method = "List" },
  { "GET", "/groups/{id}", .dbus_interface = GROUPS, .dbus_method = "Get",
    .param = ORCH_ROUTE_PARAM_ID },
  { "DELETE", "/groups/{id}", .dbus_interface = GROUPS, .dbus_method = "Remove",
    .param = ORCH_ROUTE_PARAM_ID, .options = ORCH_ROUTE_OPTIONS_QUERY, .types = no_query,
    .timeout = ORCH_ROUTE_TIMEOUT_WRITE, .reply = ORCH_ROUTE_REPLY_DELETED },
  { "GET", "/metrics/jobs/{id}/forecast", .dbus_interface = METRICS,
    .dbus_method = "GetJobForecast", .param = ORCH_ROUTE_PARAM_ID,
    .options = ORCH_ROUTE_OPTIONS_QUERY, .types = forecast_query,
    .errors = ORCH_ROUTE_ERROR (ORCH_ERROR_INVALID_STATE) },
  /* InvalidState: too little history yet. */
  { "GET", "/metrics/system/forecast", .dbus_interface = METRICS,
    .dbus_method = "GetSystemForecast", .options = ORCH_ROUTE_OPTIONS_QUERY,
    .types = forecast_query, .errors = ORCH_ROUTE_ERROR (ORCH_ERROR_INVALID_STATE) },
  { "GET", "/jobs/{id}/recommendation", .dbus_interface = JOBS,
    .dbus_method = "GetRecommendationWith", .param = ORCH_ROUTE_PARAM_ID,
    .options = ORCH_ROUTE_OPTIONS_QUERY, .types = recommend_query,
    .errors = ORCH_ROUTE_ERROR (ORCH_ERROR_INVALID_STATE) },
  /* Job groups: the template is checked as POST /jobs/ checks a spec. */
  { "POST", "/groups/", .dbus_interface = GROUPS, .dbus_method = "Create",
    .options = ORCH_ROUTE_OPTIONS_BODY, .types = group_body, .timeout = ORCH_ROUTE_TIMEOUT_WRITE,
    .reply = ORCH_ROUTE_REPLY_RECORD_CREATED,
    .errors = ORCH_ROUTE_ERROR (ORCH_ERROR_COMMAND_REJECTED) },
  { "PATCH", "/groups/{id}", .dbus_interface = GROUPS, .dbus_method = "Update",
    .param = ORCH_ROUTE_PARAM_ID, .options = ORCH_ROUTE_OPTIONS_BODY, .types = group_body,
    .timeout = ORCH_ROUTE_TIMEOUT_WRITE, .reply = ORCH_ROUTE_REPLY_RECORD,
    .errors = ORCH_ROUTE_ERROR (ORCH_ERROR_COMMAND_REJECTED) },
  { "POST", "/groups/{id}/scale", .dbus_interface = GROUPS, .dbus_method = "Scale",
    .param = ORCH_ROUTE_PARAM_ID, .options = ORCH_ROUTE_OPTIONS_BODY_ARGS, .types = scale_body,
    .timeout = ORCH_ROUTE_TIMEOUT_WRITE, .reply = ORCH_ROUTE_REPLY_RECORD },
  /* A group's forecast: GetJobForecast answers for group ids too. */
  { "GET", "/metrics/groups/{id}/forecast", .dbus_interface = METRICS,
    .dbus_method = "GetJobForecast", .param = ORCH_ROUTE_PARAM_ID,
    .options = ORCH_ROUTE_OPTIONS_QUERY, .types = forecast_query,
    .errors = ORCH_ROUTE_ERROR (ORCH_ERROR_INVALID_STATE) },
};

static gsize
add_status (guint *statuses, gsize n, guint status)
{
  gsize i = 0;

  while (i < n && statuses[i] < status)
    i++;
  if (i < n && statuses[i] == status)
    return n;
  g_assert (n < ORCH_ROUTE_MAX_STATUSES);
  memmove (&statuses[i + 1], &statuses[i], (n - i) * sizeof *statuses);
  statuses[i] = status;
  return n + 1;
}

gsize
orch_rest_route_statuses (const OrchRoute *route, guint *statuses)
{
  /* Any request: a query that does not parse, a body or headers over
   * the limits (refused before the route is known). */
  guint32 errors = ORCH_ROUTE_ERROR (ORCH_ERROR_MALFORMED) |
                   ORCH_ROUTE_ERROR (ORCH_ERROR_TOO_LARGE) |
                   ORCH_ROUTE_ERROR (ORCH_ERROR_HEADERS_TOO_LARGE) | route->errors;
  gsize n = 0;

  if (!route->public)
    n = add_status (statuses, n, 401);
  switch (route->kind)
    {
    case ORCH_ROUTE_CALL:
      /* The replies that made something answer 201. */
      n = add_status (statuses, n,
                      route->reply == ORCH_ROUTE_REPLY_CREATED ||
                              route->reply == ORCH_ROUTE_REPLY_SCHEDULE_CREATED ||
                              route->reply == ORCH_ROUTE_REPLY_TRIGGERED ||
                              route->reply == ORCH_ROUTE_REPLY_RECORD_CREATED
                          ? 201
                          : 200);
      /* The daemon failing, gone (or too many calls waiting), slow. */
      errors |= ORCH_ROUTE_ERROR (ORCH_ERROR_FAILED) | ORCH_ROUTE_ERROR (ORCH_ERROR_UNAVAILABLE) |
                ORCH_ROUTE_ERROR (ORCH_ERROR_TIMEOUT);
      /* A parameter the daemon may not know, or that is not an id at all. */
      if (route->param != ORCH_ROUTE_PARAM_NONE)
        errors |= ORCH_ROUTE_ERROR (ORCH_ERROR_NOT_FOUND) |
                  ORCH_ROUTE_ERROR (ORCH_ERROR_INVALID_ARGUMENT);
      if (route->options != ORCH_ROUTE_OPTIONS_NONE || route->follow)
        errors |= ORCH_ROUTE_ERROR (ORCH_ERROR_INVALID_ARGUMENT);
      /* Jobs and Logs are gated by the caller's access class (so is the
       * job list behind /metrics); Metrics are open to everyone. */
      if (g_strcmp0 (route->dbus_interface, METRICS) != 0 ||
          route->reply == ORCH_ROUTE_REPLY_PROMETHEUS)
        errors |= ORCH_ROUTE_ERROR (ORCH_ERROR_PERMISSION_DENIED);
      break;
    case ORCH_ROUTE_HEALTH:
      n = add_status (statuses, n, 200);
      errors |= ORCH_ROUTE_ERROR (ORCH_ERROR_UNAVAILABLE);
      break;
    case ORCH_ROUTE_WEBSOCKET:
      n = add_status (statuses, n, 101);
      errors |= ORCH_ROUTE_ERROR (ORCH_ERROR_UPGRADE_REQUIRED);
      break;
    case ORCH_ROUTE_FILE:
    default:
      n = add_status (statuses, n, 200);
      break;
    }
  for (int code = 0; code < ORCH_ERROR_N_CODES; code++)
    if (errors & ORCH_ROUTE_ERROR (code))
      n = add_status (statuses, n, orch_error_to_http_status (code));
  return n;
}

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
      /* HEAD wherever GET is (RFC 9110): libsoup sends no body. */
      if (strcmp (routes[i].method, method) == 0 ||
          (strcmp (method, "HEAD") == 0 && strcmp (routes[i].method, "GET") == 0))
        {
          *ret_route = &routes[i];
          if (ret_param)
            *ret_param = g_steal_pointer (&param);
          return ORCH_ROUTE_MATCH;
        }
      if (strstr (allow->str, routes[i].method) == NULL)
        g_string_append_printf (allow, "%s%s", allow->len ? ", " : "", routes[i].method);
      if (strcmp (routes[i].method, "GET") == 0 && strstr (allow->str, "HEAD") == NULL)
        g_string_append (allow, ", HEAD");
    }
  if (allow->len == 0)
    return ORCH_ROUTE_NO_PATH;
  if (ret_allow)
    *ret_allow = g_string_free (g_steal_pointer (&allow), FALSE);
  return ORCH_ROUTE_NO_METHOD;
}
