/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The HTTP API, path for path the original prototype's: one row per
 * endpoint, each one D-Bus call (two for a few).  data/openapi.json must
 * list exactly these; a test checks it. */
typedef enum {
  ORCH_ROUTE_JOB_CREATE,
  ORCH_ROUTE_JOB_LIST,
  ORCH_ROUTE_JOB_GET,
  ORCH_ROUTE_JOB_STOP,
  ORCH_ROUTE_JOB_RESTART,
  ORCH_ROUTE_SYSTEM,
  ORCH_ROUTE_SYSTEM_DETAILED,
  ORCH_ROUTE_SYSTEM_HISTORY,
  ORCH_ROUTE_PROCESS,
  ORCH_ROUTE_PROCESS_HISTORY,
  ORCH_ROUTE_JOB_METRICS,
  ORCH_ROUTE_JOB_METRICS_HISTORY,
  ORCH_ROUTE_LOGS_READ,
  ORCH_ROUTE_LOGS_DELETE,
  ORCH_ROUTE_LOGS_CLEANUP,
  ORCH_ROUTE_PROMETHEUS,
  ORCH_ROUTE_OPENAPI,
  ORCH_ROUTE_DOCS,
  ORCH_ROUTE_HEALTHZ,
} OrchRouteId;

typedef struct {
  OrchRouteId id;
  const char *method;
  const char *pattern;  /* as in openapi.json: /jobs/{id} */
} OrchRoute;

const OrchRoute *orch_rest_routes (gsize *n_routes);

typedef enum {
  ORCH_ROUTE_MATCH,
  ORCH_ROUTE_NO_PATH,     /* 404 */
  ORCH_ROUTE_NO_METHOD,   /* 405, with @ret_allow */
} OrchRouteResult;

/* Matches @method and @path (already percent-decoded, no query).  A
 * trailing slash is optional everywhere.  @ret_param gets the value of
 * {id} or {pid}; @ret_allow the methods of the path for a 405. */
OrchRouteResult orch_rest_route_match (const char *method, const char *path,
                                       const OrchRoute **ret_route, char **ret_param,
                                       char **ret_allow);

G_END_DECLS
