/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* How a route is answered. */
typedef enum {
  ORCH_ROUTE_CALL,      /* one D-Bus call to orchestratord, as the row says */
  ORCH_ROUTE_FILE,      /* a file of the data directory, read at start */
  ORCH_ROUTE_HEALTH,    /* a Ping: 200, or 503 while the daemon does not answer */
  ORCH_ROUTE_WEBSOCKET, /* the /ws/metrics feed: libsoup's WebSocket handler */
} OrchRouteKind;

/* What the path's {parameter} becomes: the call's first argument. */
typedef enum {
  ORCH_ROUTE_PARAM_NONE,
  ORCH_ROUTE_PARAM_ID,        /* s, as given */
  ORCH_ROUTE_PARAM_PID,       /* u, 1 to G_MAXINT32, else 422 */
  ORCH_ROUTE_PARAM_JOB_QUERY, /* s, the query's "job" (taken out of the
                               * options), "" for all jobs without one */
} OrchRouteParam;

/* Where the a{sv} argument after it comes from.  Without one, a query
 * or a body is ignored. */
typedef enum {
  ORCH_ROUTE_OPTIONS_NONE,
  ORCH_ROUTE_OPTIONS_QUERY,     /* types: {"param", "key", "type", ..., NULL},
                                 * see orch_rest_options_from_query() */
  ORCH_ROUTE_OPTIONS_BODY,      /* a JSON object; types: {"key", "type", ..., NULL},
                                 * see orch_rest_object_from_json() */
  ORCH_ROUTE_OPTIONS_BODY_ARGS, /* a JSON object whose members are the call's
                                 * next arguments, in the order of types
                                 * ({"key", "type", ..., NULL}), each required:
                                 * see orch_rest_args_from_object() */
} OrchRouteOptions;

/* How long the daemon may take to answer; then 504. */
typedef enum {
  ORCH_ROUTE_TIMEOUT_READ,  /* answered from memory */
  ORCH_ROUTE_TIMEOUT_WRITE, /* the work is done before the answer */
  ORCH_ROUTE_TIMEOUT_STOP,  /* until a job has stopped: its timeout_ms
                             * option, else the longest one, and a margin */
} OrchRouteTimeout;

/* How the D-Bus reply becomes the HTTP answer. */
typedef enum {
  ORCH_ROUTE_REPLY_VALUE,            /* (v): 200, v as JSON */
  ORCH_ROUTE_REPLY_CREATED,          /* (s id, o): 201, the record from Jobs.Get */
  ORCH_ROUTE_REPLY_LOG_TEXT,         /* (s, t): {"text", "next_offset"} */
  ORCH_ROUTE_REPLY_DELETED,          /* (): {"id": {id}, "deleted": true} */
  ORCH_ROUTE_REPLY_CLEANUP,          /* (u, t): {"removed", "bytes_freed"} */
  ORCH_ROUTE_REPLY_PROMETHEUS,       /* (a{sv} system), then Jobs.List: text exposition */
  ORCH_ROUTE_REPLY_SCHEDULE_CREATED, /* (s id, o): 201, the record from Schedules.Get */
  ORCH_ROUTE_REPLY_SCHEDULE,         /* (): 200, the record of {id} from Schedules.Get */
  ORCH_ROUTE_REPLY_TRIGGERED,        /* (s job_id): 201, the job's record from Jobs.Get */
  ORCH_ROUTE_REPLY_RECORD_CREATED,   /* (s id, o): 201, the record from the row's
                                      * interface's Get */
  ORCH_ROUTE_REPLY_RECORD,           /* (): 200, the record of {id} from the row's
                                      * interface's Get */
} OrchRouteReply;

/* The HTTP API, path for path the original prototype's: one row per
 * endpoint, carrying the D-Bus call it makes.  Adding an endpoint is
 * adding a row (and its entry in data/openapi.json, which must list
 * exactly these; a test checks it).  Served outside the table: the
 * WebSocket feed /ws/metrics and the log stream of GET /logs/{id}?follow. */
typedef struct {
  const char *method;
  const char *pattern; /* as in openapi.json: /jobs/{id} */
  OrchRouteKind kind;
  gboolean public; /* no token needed: it reveals nothing and
                    * must load in a browser before one is typed */
  /* ORCH_ROUTE_FILE */
  const char *file; /* in the data directory */
  const char *content_type;
  /* ORCH_ROUTE_CALL */
  const char *dbus_interface;
  const char *dbus_method;
  OrchRouteParam param;
  OrchRouteOptions options;
  const char *const *types;
  OrchRouteTimeout timeout;
  OrchRouteReply reply;
  gboolean follow; /* ?follow streams the log instead */
  /* The daemon's refusals of the call beyond those every call of its
   * kind can get (see orch_rest_route_statuses()): ORCH_ROUTE_ERROR()s. */
  guint32 errors;
  /* Answers kept until orchestratord signals a change (orch-rest-cache.h):
   * only for calls whose every answer changes with a signal of the
   * daemon's (not logs, not histories, not figures read when asked). */
  gboolean cached;
} OrchRoute;

#define ORCH_ROUTE_ERROR(code) (1u << (code))

const OrchRoute *orch_rest_routes (gsize *n_routes);

/* Every HTTP status @route can answer with, ascending, into @statuses
 * (at least ORCH_ROUTE_MAX_STATUSES long); returns how many.  Derived
 * from the row and the error table, as the server answers; the
 * "contract" test holds data/openapi.json to it. */
#define ORCH_ROUTE_MAX_STATUSES 32
gsize orch_rest_route_statuses (const OrchRoute *route, guint *statuses);

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
