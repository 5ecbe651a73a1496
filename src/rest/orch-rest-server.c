/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-rest-server.h"
#include "orch-rest-access.h"
#include "orch-rest-bus.h"
#include "orch-rest-cache.h"
#include "orch-rest-json.h"
#include "orch-rest-message.h"
#include "orch-rest-prometheus.h"
#include "orch-rest-connections.h"
#include "orch-rest-reply.h"
#include "orch-rest-routes.h"
#include "orch-rest-sdbus.h"
#include "orch-rest-stream.h"

#include "client/orch-client.h"
#include "basic/orch-error.h"

#include <glib/gi18n.h>
#include <libsoup/soup.h>
#include <string.h>

#define MAX_BODY (64 * 1024)

/* How long orchestratord may take to answer, by kind of call; then 504. */
#define READ_TIMEOUT_MS ORCH_REST_READ_TIMEOUT_MS
#define HEALTH_TIMEOUT_MS 2000
/* Create, log deletion and cleanup do their work before they answer. */
#define WRITE_TIMEOUT_MS 60000
/* Stop and Restart answer when the job has ended: after its stop timeout
 * (the request's timeout_ms, else the job's or the daemon's, which the
 * shim does not see: at most an hour), then SIGKILL and the state write. */
#define STOP_TIMEOUT_MAX_MS (3600 * 1000)
#define STOP_MARGIN_MS 30000
/* While a call may take longer than a read, the daemon must keep
 * answering pings: one that hangs fails the call within a read's bound
 * and the ping interval, not an hour later. */
#define PING_INTERVAL_MS 2000

struct _OrchRestServer {
  SoupServer *server;
  OrchRestBus *bus;
  char *token;
  GHashTable *files; /* route -> the contents of its file */
  OrchRestFeed *feed;
  guint in_flight;        /* requests waiting for the daemon */
  OrchRestConnections *connections;
  guint max_header_bytes;
  char **cors_origins;    /* empty: no CORS at all */
  OrchRestSdBus *sdbus;   /* the reads whose replies are written as they are read */
  OrchRestCache *cache;   /* answers of routes marked cached, until a change */
};

/* Bounds of the read cache: two job lists of 10 000 jobs; a second at
 * most should signals stop arriving (the daemon samples every second by
 * default, and says so each time). */
#define CACHE_ENTRIES 32
#define CACHE_BYTES (16u << 20)
#define CACHE_MAX_AGE_US G_USEC_PER_SEC

/* The body as it arrived, capped: libsoup would otherwise hold any size
 * a client sends before the handler could look at it. */
#define BODY_KEY "orch-body"

/* More requests than this waiting on the daemon at once and new ones get
 * 503 at once: a flood cannot queue unbounded work behind the bus. */
#define MAX_IN_FLIGHT 512

typedef struct {
  OrchRestServer *self;
  SoupServerMessage *msg;
  const OrchRoute *route;
  char *param;
  gboolean gone;          /* the client went away while we waited */
  gulong finished_id;
  OrchRestPromSystem system; /* /metrics: the first of its two calls */
  GCancellable *cancel;   /* the call and pings under way */
  guint ping_timer;
  gboolean ping_pending;
  gboolean unresponsive;  /* a ping went unanswered: the call is cancelled */
  char *cache_key;        /* a cached route's: path and query */
  guint64 cache_gen;      /* the cache's generation when it was asked */
  gboolean cache_leader;  /* its call answers the requests waiting on it */
} Request;

static void
request_free (Request *r)
{
  r->self->in_flight--;
  if (r->finished_id)
    g_signal_handler_disconnect (r->msg, r->finished_id);
  if (r->ping_timer)
    g_source_remove (r->ping_timer);
  /* A ping still under way finishes cancelled, without touching @r. */
  g_cancellable_cancel (r->cancel);
  g_object_unref (r->cancel);
  g_object_unref (r->msg);
  g_free (r->param);
  g_free (r->cache_key);
  g_free (r);
}

static void
on_finished (SoupServerMessage *msg, gpointer data)
{
  Request *r = data;

  r->gone = TRUE;
}

static void finish_request (Request *r);

/* A leader's answer, now in its message, kept (a 200) and given to the
 * requests that waited for it. */
static void
share_answer (Request *r)
{
  OrchRestServer *self = r->self;
  g_autoptr(GPtrArray) waiters = orch_rest_cache_fetched (self->cache, r->cache_key, r);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (r->msg);
  g_autoptr(GBytes) body = soup_message_body_flatten (
      soup_server_message_get_response_body (r->msg));
  guint status = soup_server_message_get_status (r->msg);
  const char *type = soup_message_headers_get_one (headers, "Content-Type");
  const char *retry = soup_message_headers_get_one (headers, "Retry-After");

  r->cache_leader = FALSE;
  if (status == 200 && type)
    orch_rest_cache_store (self->cache, r->cache_key, r->cache_gen, g_get_monotonic_time (), type,
                           body);
  for (guint i = 0; i < waiters->len; i++)
    {
      Request *w = waiters->pdata[i];

      orch_rest_respond_bytes (w->msg, status, type ? type : "application/json; charset=utf-8",
                               body);
      if (retry)
        soup_message_headers_replace (soup_server_message_get_response_headers (w->msg),
                                      "Retry-After", retry);
      finish_request (w);
    }
}

static void
finish_request (Request *r)
{
  const char *method = soup_server_message_get_method (r->msg);

  if (r->cache_leader)
    share_answer (r);
  /* A write of ours: what was kept may be out of date now, even before
   * the daemon's signal arrives on the other connection. */
  if (strcmp (method, "GET") != 0 && strcmp (method, "HEAD") != 0)
    orch_rest_cache_invalidate (r->self->cache);
  if (!r->gone)
    soup_server_message_unpause (r->msg);
  request_free (r);
}

/* ---- D-Bus replies to HTTP ---- */

typedef void (*ReplyFunc) (Request *r, GVariant *reply);
typedef void (*MessageReplyFunc) (Request *r, sd_bus_message *reply);

typedef struct {
  Request *request;
  ReplyFunc then;
  MessageReplyFunc then_message; /* a call over orch-rest-sdbus */
} Pending;

static void
call_done (GObject *source, GAsyncResult *res, gpointer data)
{
  Pending *p = data;
  Request *r = p->request;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), res, &error);
  ReplyFunc then = p->then;

  g_free (p);
  g_clear_handle_id (&r->ping_timer, g_source_remove);
  if (r->gone && !r->cache_leader)
    {
      request_free (r);
      return;
    }
  if (reply == NULL)
    {
      /* Cancelled by the pings' watch alone. */
      if (r->unresponsive)
        orch_rest_respond_timeout (r->msg);
      else
        orch_rest_respond_gerror (r->msg, error);
      finish_request (r);
      return;
    }
  then (r, reply);
}

static void
ping_done (GObject *source, GAsyncResult *res, gpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), res, &error);
  Request *r = data;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* @r is gone */
  r->ping_pending = FALSE;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    {
      r->unresponsive = TRUE;
      g_cancellable_cancel (r->cancel);
    }
}

static gboolean
ping_tick (gpointer data)
{
  Request *r = data;
  GDBusConnection *bus = orch_rest_bus_get_connection (r->self->bus);

  if (bus && !r->ping_pending)
    {
      r->ping_pending = TRUE;
      g_dbus_connection_call (bus, ORCH_BUS_NAME, ORCH_BUS_PATH, "org.freedesktop.DBus.Peer", "Ping",
                              NULL, NULL, G_DBUS_CALL_FLAGS_NONE, READ_TIMEOUT_MS, r->cancel,
                              ping_done, r);
    }
  return G_SOURCE_CONTINUE;
}

static void
message_call_done (sd_bus_message *reply, GError *error, gpointer data)
{
  Pending *p = data;
  Request *r = p->request;
  MessageReplyFunc then = p->then_message;

  g_free (p);
  if (r->gone && !r->cache_leader)
    {
      request_free (r);
      return;
    }
  if (reply == NULL)
    {
      orch_rest_respond_gerror (r->msg, error);
      finish_request (r);
      return;
    }
  then (r, reply);
}

/* A read (no ping watch: it is bounded by its timeout) over the sd-bus
 * connection; FALSE when that is not there, and nothing was sent. */
static gboolean
message_call (Request *r, const char *iface, const char *method, GVariant *params,
              MessageReplyFunc then)
{
  Pending *p;

  if (r->self->sdbus == NULL)
    return FALSE;
  p = g_new0 (Pending, 1);
  p->request = r;
  p->then_message = then;
  if (!orch_rest_sdbus_call (r->self->sdbus, iface, method, params, READ_TIMEOUT_MS,
                             message_call_done, p))
    {
      g_free (p);
      return FALSE;
    }
  return TRUE;
}

/* One call to orchestratord that may take @timeout_ms. */
static void
call (Request *r, int timeout_ms, const char *iface, const char *method, GVariant *params,
      ReplyFunc then)
{
  GDBusConnection *bus = orch_rest_bus_get_connection (r->self->bus);
  Pending *p;

  if (bus == NULL)
    {
      if (params)
        g_variant_unref (g_variant_ref_sink (params));
      orch_rest_respond_no_bus (r->msg);
      finish_request (r);
      return;
    }
  p = g_new0 (Pending, 1);
  p->request = r;
  p->then = then;
  g_dbus_connection_call (bus, ORCH_BUS_NAME, ORCH_BUS_PATH, iface, method, params, NULL,
                          G_DBUS_CALL_FLAGS_NONE, timeout_ms, r->cancel, call_done, p);
  if (timeout_ms > READ_TIMEOUT_MS)
    r->ping_timer = g_timeout_add (PING_INTERVAL_MS, ping_tick, r);
}

static void
read_call (Request *r, const char *iface, const char *method, GVariant *params, ReplyFunc then)
{
  call (r, READ_TIMEOUT_MS, iface, method, params, then);
}

/* Every JSON reply is a D-Bus value turned into JSON the same way.  Takes
 * @v, floating (built here) or not (a child of a reply): ref_sink on a
 * full reference would add one, and the child would keep the whole reply
 * alive, a few KiB per request for ever. */
static void
respond_value (Request *r, guint status, GVariant *v)
{
  g_autoptr(GVariant) owned = g_variant_take_ref (v);
  g_autoptr(GString) json = g_string_sized_new (4096);

  orch_rest_variant_to_json (json, owned);
  orch_rest_respond_json (r->msg, status, json->str);
  finish_request (r);
}

static void
reply_first_child (Request *r, GVariant *reply)
{
  respond_value (r, 200, g_variant_get_child_value (reply, 0));
}

static void
reply_created (Request *r, GVariant *reply)
{
  respond_value (r, 201, g_variant_get_child_value (reply, 0));
}

static void
after_create (Request *r, GVariant *reply)
{
  const char *id;

  /* Create answers (id, path); the client of the original API gets the
   * whole job record, so one more call. */
  g_variant_get (reply, "(&so)", &id, NULL);
  read_call (r, "org.orchestrator.Jobs", "Get", g_variant_new ("(s)", id), reply_created);
}

static void
reply_log_text (Request *r, GVariant *reply)
{
  const char *text;
  guint64 next;

  g_variant_get (reply, "(&st)", &text, &next);
  respond_value (r, 200, g_variant_new_parsed ("{'text': <%s>, 'next_offset': <%t>}", text, next));
}

static void
reply_log_deleted (Request *r, GVariant *reply)
{
  respond_value (r, 200, g_variant_new_parsed ("{'id': <%s>, 'deleted': <true>}", r->param));
}

static void
reply_cleanup (Request *r, GVariant *reply)
{
  guint32 removed;
  guint64 freed;

  g_variant_get (reply, "(ut)", &removed, &freed);
  respond_value (r, 200, g_variant_new_parsed ("{'removed': <%u>, 'bytes_freed': <%t>}", removed, freed));
}

static void
reply_prom_jobs (Request *r, GVariant *reply)
{
  g_autoptr(GVariant) jobs = g_variant_get_child_value (reply, 0);
  g_autoptr(GString) out = g_string_new (NULL);

  orch_rest_prometheus_write (out, &r->system, jobs);
  orch_rest_respond (r->msg, 200, ORCH_REST_PROMETHEUS_CONTENT_TYPE, out->str);
  finish_request (r);
}

static void
message_reply_prom_jobs (Request *r, sd_bus_message *reply)
{
  g_autoptr(GString) out = g_string_sized_new (16384);

  if (orch_rest_prometheus_write_message (out, &r->system, reply))
    orch_rest_respond_take (r->msg, 200, ORCH_REST_PROMETHEUS_CONTENT_TYPE, g_steal_pointer (&out));
  else
    orch_rest_respond_error (r->msg, ORCH_ERROR_FAILED,
                             _("orchestratord sent a malformed job list"));
  finish_request (r);
}

/* The exposition has the jobs too: one more call. */
static void
prom_list_jobs (Request *r)
{
  g_autoptr(GVariant) rows = g_variant_ref_sink (
      g_variant_new ("(^as@a{sv})", orch_rest_prometheus_job_keys,
                     g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0)));
  g_autoptr(GVariant) list = NULL;

  if (message_call (r, "org.orchestrator.Jobs", "ListRows", rows, message_reply_prom_jobs))
    return;
  list = g_variant_ref_sink (orch_rest_list_args (orch_rest_prometheus_job_keys));
  read_call (r, "org.orchestrator.Jobs", "List", list, reply_prom_jobs);
}

static void
reply_prom_system (Request *r, GVariant *reply)
{
  g_autoptr(GVariant) system = g_variant_get_child_value (reply, 0);

  orch_rest_prom_system_from_variant (&r->system, system);
  prom_list_jobs (r);
}

static void
message_reply_prom_system (Request *r, sd_bus_message *reply)
{
  if (orch_rest_prom_system_from_message (&r->system, reply) < 0)
    {
      orch_rest_respond_error (r->msg, ORCH_ERROR_FAILED,
                               _("orchestratord sent malformed system figures"));
      finish_request (r);
      return;
    }
  prom_list_jobs (r);
}

/* The first value of the reply as JSON, as respond_value writes it. */
static void
message_reply_first_child (Request *r, sd_bus_message *reply)
{
  g_autoptr(GString) json = g_string_sized_new (16384);

  if (orch_rest_message_to_json (json, reply) >= 0)
    orch_rest_respond_json_take (r->msg, 200, g_steal_pointer (&json));
  else
    orch_rest_respond_error (r->msg, ORCH_ERROR_FAILED, _("orchestratord sent a malformed reply"));
  finish_request (r);
}

static void
after_schedule_create (Request *r, GVariant *reply)
{
  const char *id;

  g_variant_get (reply, "(&so)", &id, NULL);
  read_call (r, "org.orchestrator.Schedules", "Get", g_variant_new ("(s)", id), reply_created);
}

/* Update, Pause, Resume answer nothing; the client gets the record. */
static void
after_schedule_change (Request *r, GVariant *reply)
{
  read_call (r, "org.orchestrator.Schedules", "Get", g_variant_new ("(s)", r->param),
             reply_first_child);
}

static void
after_trigger (Request *r, GVariant *reply)
{
  const char *job_id;

  g_variant_get (reply, "(&s)", &job_id);
  read_call (r, "org.orchestrator.Jobs", "Get", g_variant_new ("(s)", job_id), reply_created);
}

/* Groups: Create answers (s id, o), Update and Scale nothing; the client
 * gets the record from the same interface's Get. */
static void
after_record_create (Request *r, GVariant *reply)
{
  const char *id;

  g_variant_get (reply, "(&so)", &id, NULL);
  read_call (r, r->route->dbus_interface, "Get", g_variant_new ("(s)", id), reply_created);
}

static void
after_record_change (Request *r, GVariant *reply)
{
  read_call (r, r->route->dbus_interface, "Get", g_variant_new ("(s)", r->param),
             reply_first_child);
}

static const ReplyFunc reply_funcs[] = {
  [ORCH_ROUTE_REPLY_VALUE] = reply_first_child,
  [ORCH_ROUTE_REPLY_CREATED] = after_create,
  [ORCH_ROUTE_REPLY_LOG_TEXT] = reply_log_text,
  [ORCH_ROUTE_REPLY_DELETED] = reply_log_deleted,
  [ORCH_ROUTE_REPLY_CLEANUP] = reply_cleanup,
  [ORCH_ROUTE_REPLY_PROMETHEUS] = reply_prom_system,
  [ORCH_ROUTE_REPLY_SCHEDULE_CREATED] = after_schedule_create,
  [ORCH_ROUTE_REPLY_SCHEDULE] = after_schedule_change,
  [ORCH_ROUTE_REPLY_TRIGGERED] = after_trigger,
  [ORCH_ROUTE_REPLY_RECORD_CREATED] = after_record_create,
  [ORCH_ROUTE_REPLY_RECORD] = after_record_change,
};

/* ---- health ---- */

/* 503 when the daemon does not answer, so that a load balancer or a
 * service manager sees it; the body says why. */
static void
respond_health (SoupServerMessage *msg, gboolean daemon)
{
  orch_rest_respond_json (msg, daemon ? 200 : 503,
                          daemon ? "{\"status\":\"ok\",\"daemon\":true}" : "{\"status\":\"degraded\",\"daemon\":false}");
}

static void
health_done (GObject *source, GAsyncResult *res, gpointer data)
{
  Request *r = data;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), res, NULL);

  if (!r->gone)
    respond_health (r->msg, reply != NULL);
  finish_request (r);
}

static void
check_health (Request *r)
{
  GDBusConnection *bus = orch_rest_bus_get_connection (r->self->bus);

  if (bus == NULL)
    {
      respond_health (r->msg, FALSE);
      finish_request (r);
      return;
    }
  g_dbus_connection_call (bus, ORCH_BUS_NAME, ORCH_BUS_PATH, "org.freedesktop.DBus.Peer", "Ping",
                          NULL, NULL, G_DBUS_CALL_FLAGS_NONE, HEALTH_TIMEOUT_MS, NULL, health_done,
                          r);
}

/* ---- dispatch ---- */

static int
call_timeout_ms (OrchRouteTimeout timeout, GVariant *opts)
{
  guint32 timeout_ms;

  switch (timeout)
    {
    case ORCH_ROUTE_TIMEOUT_WRITE:
      return WRITE_TIMEOUT_MS;
    case ORCH_ROUTE_TIMEOUT_STOP:
      if (opts && g_variant_lookup (opts, "timeout_ms", "u", &timeout_ms) &&
          timeout_ms <= STOP_TIMEOUT_MAX_MS)
        return (int) timeout_ms + STOP_MARGIN_MS;
      return STOP_TIMEOUT_MAX_MS + STOP_MARGIN_MS;
    case ORCH_ROUTE_TIMEOUT_READ:
    default:
      return READ_TIMEOUT_MS;
    }
}

/* A request the shim itself refuses: its code says 400 (malformed) or
 * 422 (well-formed, but makes no sense). */
static void
refuse (Request *r, GError *error)
{
  orch_rest_respond_gerror (r->msg, error);
  finish_request (r);
}

/* timestamps and format, as the daemon reads them from Logs.Read's
 * options, for a follow (which reads the log itself). */
static gboolean
follow_show (GHashTable *query, OrchLogShow *ret_show, GError **error)
{
  const char *const types[] = { "timestamps", "timestamps", "b", "format", "format", "s", NULL };
  g_autoptr(GHashTable) q = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GVariant) opts = NULL;
  OrchLogReadOptions o;

  for (guint i = 0; types[i]; i += 3)
    if (g_hash_table_contains (query, types[i]))
      g_hash_table_insert (q, (gpointer) types[i], g_hash_table_lookup (query, types[i]));
  opts = orch_rest_options_from_query (q, types, error);
  if (opts == NULL ||
      !orch_log_read_options_parse (g_variant_ref_sink (opts), G_MAXUINT32, &o, NULL, error))
    return FALSE;
  *ret_show = o.show;
  return TRUE;
}

/* ?follow hands the request to the log stream, which takes stream,
 * offset, timestamps and format from the query and ignores the rest. */
static gboolean
follow_log (Request *r, GHashTable *query, GError **error)
{
  const char *follow = g_hash_table_lookup (query, "follow");
  const char *stream = g_hash_table_lookup (query, "stream");
  const char *offset_s = g_hash_table_lookup (query, "offset");
  guint64 offset = 0;
  OrchLogShow show;

  if (g_strcmp0 (follow, "1") != 0 && g_strcmp0 (follow, "true") != 0)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("query parameter “follow”: use 1 or true"));
      return FALSE;
    }
  if (offset_s && !g_ascii_string_to_unsigned (offset_s, 10, 0, G_MAXINT64, &offset, NULL))
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("query parameter “%s”: “%s” is not a valid number"), "offset", offset_s);
      return FALSE;
    }
  if (!follow_show (query, &show, error))
    return FALSE;
  /* Like tail -f: from the end, unless told where to start. */
  orch_rest_follow_log_shown (r->self->bus, r->msg, r->param, stream, offset, offset_s == NULL,
                              show);
  request_free (r);
  return TRUE;
}

/* The route's D-Bus call, its arguments built as its row says: the
 * path's parameter, then the options from the query or the body. */
static void
dispatch (Request *r, GHashTable *query)
{
  const OrchRoute *route = r->route;
  GByteArray *body = g_object_get_data (G_OBJECT (r->msg), BODY_KEY);
  g_autoptr(GError) error = NULL;
  GVariant *args[4];
  gsize n_args = 0;
  GVariant *opts = NULL;
  g_autoptr(GVariant) body_args = NULL;
  gssize n_body = 0;
  gsize first_body = 0;
  GVariant *tuple;
  guint64 pid = 0;
  g_autofree char *job = NULL;
  g_autoptr(GVariant) params = NULL;
  int timeout_ms;

  if (route->kind == ORCH_ROUTE_HEALTH)
    {
      check_health (r);
      return;
    }
  if (route->param == ORCH_ROUTE_PARAM_PID &&
      !g_ascii_string_to_unsigned (r->param, 10, 1, G_MAXINT32, &pid, NULL))
    {
      g_set_error (&error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT, _("“%s” is not a process id"),
                   r->param);
      refuse (r, error);
      return;
    }
  /* HEAD of a stream: the headers of the log's JSON read instead. */
  if (route->follow && query && strcmp (soup_server_message_get_method (r->msg), "HEAD") == 0)
    g_hash_table_remove (query, "follow");
  if (route->follow && query && g_hash_table_contains (query, "follow"))
    {
      if (!follow_log (r, query, &error))
        refuse (r, error);
      return;
    }
  if (route->param == ORCH_ROUTE_PARAM_JOB_QUERY)
    {
      job = g_strdup (query ? g_hash_table_lookup (query, "job") : NULL);
      if (query)
        g_hash_table_remove (query, "job");
    }
  if (route->options == ORCH_ROUTE_OPTIONS_QUERY)
    opts = orch_rest_options_from_query (query, route->types, &error);
  else if (route->options == ORCH_ROUTE_OPTIONS_BODY ||
           route->options == ORCH_ROUTE_OPTIONS_BODY_ARGS)
    opts = orch_rest_object_from_json (body ? (const char *) body->data : "", body ? body->len : 0,
                                       route->types, &error);
  if (route->options != ORCH_ROUTE_OPTIONS_NONE && opts == NULL)
    {
      refuse (r, error);
      return;
    }

  if (route->param == ORCH_ROUTE_PARAM_ID)
    args[n_args++] = g_variant_new_string (r->param);
  else if (route->param == ORCH_ROUTE_PARAM_PID)
    args[n_args++] = g_variant_new_uint32 ((guint32) pid);
  else if (route->param == ORCH_ROUTE_PARAM_JOB_QUERY)
    args[n_args++] = g_variant_new_string (job ? job : "");
  if (route->options == ORCH_ROUTE_OPTIONS_BODY_ARGS)
    {
      body_args = g_variant_ref_sink (opts);
      opts = NULL;
      n_body = orch_rest_args_from_object (body_args, route->types, &args[n_args],
                                           G_N_ELEMENTS (args) - n_args, &error);
      if (n_body < 0)
        {
          refuse (r, error);
          return;
        }
      first_body = n_args;
      n_args += (gsize) n_body;
    }
  if (opts)
    args[n_args++] = opts;
  timeout_ms = call_timeout_ms (route->timeout, opts);
  tuple = n_args ? g_variant_new_tuple (args, n_args) : NULL;
  /* The tuple took its own references to the body's values. */
  for (gssize i = 0; i < n_body; i++)
    g_variant_unref (args[first_body + (gsize) i]);
  params = tuple ? g_variant_ref_sink (tuple) : NULL;
  /* A plain read goes over sd-bus, its reply written as it is read. */
  if (route->reply == ORCH_ROUTE_REPLY_VALUE && route->timeout == ORCH_ROUTE_TIMEOUT_READ &&
      message_call (r, route->dbus_interface, route->dbus_method, params,
                    message_reply_first_child))
    return;
  if (route->reply == ORCH_ROUTE_REPLY_PROMETHEUS &&
      message_call (r, route->dbus_interface, route->dbus_method, params,
                    message_reply_prom_system))
    return;
  call (r, timeout_ms, route->dbus_interface, route->dbus_method, params,
        reply_funcs[route->reply]);
}

static void
ws_refuse_plain_request (SoupServerMessage *msg)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Upgrade",
                                "websocket");
  orch_rest_respond_error (msg, ORCH_ERROR_UPGRADE_REQUIRED,
                           _ ("this is a WebSocket endpoint: connect with an Upgrade: websocket "
                              "handshake"));
}

/* What libsoup's WebSocket handler would refuse with an HTML page is
 * refused here in the JSON of every other error: another method (405),
 * a plain request (426), a handshake missing its key or version (400). */
static gboolean
ws_check_request (SoupServerMessage *msg, const char *path)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  const char *method = soup_server_message_get_method (msg);
  const OrchRoute *route = NULL;
  g_autofree char *allow = NULL;

  if (orch_rest_route_match (method, path, &route, NULL, &allow) != ORCH_ROUTE_MATCH)
    {
      if (allow)
        soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow",
                                      allow);
      orch_rest_respond_error (msg, allow ? ORCH_ERROR_METHOD_NOT_ALLOWED : ORCH_ERROR_NOT_FOUND,
                               allow ? _("method not allowed here")
                                     : _("no such endpoint; see /docs"));
      return FALSE;
    }
  if (strcmp (method, "GET") != 0 ||
      !soup_message_headers_header_contains (h, "Upgrade", "websocket"))
    {
      ws_refuse_plain_request (msg);
      return FALSE;
    }
  if (soup_message_headers_get_one (h, "Sec-WebSocket-Key") == NULL ||
      g_strcmp0 (soup_message_headers_get_one (h, "Sec-WebSocket-Version"), "13") != 0)
    {
      orch_rest_respond_error (msg, ORCH_ERROR_MALFORMED,
                               _ ("a WebSocket handshake needs Sec-WebSocket-Key and "
                                  "Sec-WebSocket-Version: 13"));
      return FALSE;
    }
  return TRUE;
}

/* The status the client was sent: libsoup sets 500 on a message whose
 * client went away mid-body (a followed log closed by the browser), after
 * a 200 was already on the wire. */
static void
note_sent_status (SoupServerMessage *msg, gpointer data)
{
  g_object_set_data (G_OBJECT (msg), "orch-sent",
                     GUINT_TO_POINTER (soup_server_message_get_status (msg)));
}

static void
note_body_written (SoupServerMessage *msg, gpointer data)
{
  g_object_set_data (G_OBJECT (msg), "orch-complete", GINT_TO_POINTER (1));
}

static void
log_access (SoupServerMessage *msg, gpointer data)
{
  gint64 start = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (msg), "orch-start"));
  guint sent = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (msg), "orch-sent"));
  gboolean cut = sent && !g_object_get_data (G_OBJECT (msg), "orch-complete");
  const char *peer = g_object_get_data (G_OBJECT (msg), "orch-peer");
  GUri *uri = soup_server_message_get_uri (msg);

  /* One line per request on stderr: the journal under systemd. */
  g_printerr ("%s %s %s %u %.1fms%s\n", peer ? peer : "-", soup_server_message_get_method (msg),
              g_uri_get_path (uri), sent ? sent : soup_server_message_get_status (msg),
              (g_get_monotonic_time () - start) / 1000.0,
              cut ? " (client gone before the end)" : "");
}

/* A cached route's answer if one is kept and nothing changed since;
 * else FALSE and, where the cache can be used now, the key to keep the
 * answer under. */
static gboolean
answer_from_cache (OrchRestServer *self, SoupServerMessage *msg, const char *path,
                   const char *raw_query, char **ret_key)
{
  g_autoptr(GBytes) body = NULL;
  const char *type;

  /* Changes the daemon announced before this request are heard first. */
  if (self->sdbus == NULL || !orch_rest_sdbus_sync_changes (self->sdbus))
    return FALSE;
  *ret_key = g_strconcat (path, "?", raw_query ? raw_query : "", NULL);
  body = orch_rest_cache_lookup (self->cache, *ret_key, g_get_monotonic_time (), &type);
  if (body == NULL)
    return FALSE;
  orch_rest_respond_bytes (msg, 200, type, body);
  return TRUE;
}

static void
on_daemon_changed (gpointer data)
{
  OrchRestServer *self = data;

  orch_rest_cache_invalidate (self->cache);
}

static void
handle (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query_unused,
        gpointer data)
{
  OrchRestServer *self = data;
  const char *method = soup_server_message_get_method (msg);
  const OrchRoute *route = NULL;
  g_autofree char *param = NULL;
  g_autofree char *allow = NULL;
  g_autofree char *decoded = NULL;
  g_autoptr(GHashTable) query = NULL;
  GByteArray *body = g_object_get_data (G_OBJECT (msg), BODY_KEY);
  const char *raw_query = g_uri_get_query (soup_server_message_get_uri (msg));
  g_autofree char *cache_key = NULL;
  Request *r;

  g_object_set_data (G_OBJECT (msg), "orch-start", GSIZE_TO_POINTER (g_get_monotonic_time ()));
  /* Asked now: once the client is gone, libsoup has no address for it. */
  g_object_set_data_full (G_OBJECT (msg), "orch-peer",
                          g_strdup (soup_server_message_get_remote_host (msg)), g_free);
  g_signal_connect (msg, "wrote-headers", G_CALLBACK (note_sent_status), NULL);
  g_signal_connect (msg, "wrote-body", G_CALLBACK (note_body_written), NULL);
  g_signal_connect (msg, "finished", G_CALLBACK (log_access), NULL);

  /* Refused before the body was read (early handler): already answered. */
  if (soup_server_message_get_status (msg) != 0)
    return;
  orch_rest_access_cors_headers (msg, (const char *const *) self->cors_origins);
  if (strcmp (method, "OPTIONS") == 0 && self->cors_origins[0])
    {
      orch_rest_access_cors_preflight (msg, (const char *const *) self->cors_origins);
      return;
    }

  switch (orch_rest_route_match (method, path, &route, &param, &allow))
    {
    case ORCH_ROUTE_NO_PATH:
      orch_rest_respond_error (msg, ORCH_ERROR_NOT_FOUND, _("no such endpoint; see /docs"));
      return;
    case ORCH_ROUTE_NO_METHOD:
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", allow);
      orch_rest_respond_error (msg, ORCH_ERROR_METHOD_NOT_ALLOWED, _("method not allowed here"));
      return;
    case ORCH_ROUTE_MATCH:
    default:
      break;
    }

  if (!route->public && !orch_rest_access_check_token (msg, self->token))
    return;
  if (body && body->len > MAX_BODY)
    {
      orch_rest_respond_error (msg, ORCH_ERROR_TOO_LARGE,
                               _("the request body is larger than 64 KiB"));
      return;
    }
  if (param)
    {
      /* libsoup hands the path over decoded already: a second decoding
       * made "a%2541" "aA".  It becomes a D-Bus string: UTF-8 (libsoup
       * refuses %00; a slash splits the path). */
      decoded = g_strdup (param);
      if (!g_utf8_validate (decoded, -1, NULL))
        {
          orch_rest_respond_error (msg, ORCH_ERROR_MALFORMED,
                                   _("the path holds an invalid escape"));
          return;
        }
    }
  if (raw_query && *raw_query)
    {
      g_autoptr(GError) error = NULL;
      query = g_uri_parse_params (raw_query, -1, "&", G_URI_PARAMS_NONE, &error);
      if (query == NULL)
        {
          orch_rest_respond_error (msg, ORCH_ERROR_MALFORMED, error->message);
          return;
        }
    }

  if (route->kind == ORCH_ROUTE_WEBSOCKET)
    {
      ws_refuse_plain_request (msg);
      return;
    }
  if (route->kind == ORCH_ROUTE_FILE)
    {
      orch_rest_respond (msg, 200, route->content_type, g_hash_table_lookup (self->files, route));
      return;
    }

  if (route->cached && answer_from_cache (self, msg, path, raw_query, &cache_key))
    return;
  if (self->in_flight >= MAX_IN_FLIGHT)
    {
      orch_rest_respond_http_error (msg, 503, ORCH_ERROR_LIMIT_REACHED,
                                    _("too many requests in flight; try again"));
      return;
    }
  self->in_flight++;
  r = g_new0 (Request, 1);
  r->self = self;
  r->msg = g_object_ref (msg);
  r->route = route;
  r->param = g_steal_pointer (&decoded);
  r->finished_id = g_signal_connect (msg, "finished", G_CALLBACK (on_finished), r);
  r->cancel = g_cancellable_new ();
  soup_server_message_pause (msg);
  if (cache_key)
    {
      r->cache_key = g_steal_pointer (&cache_key);
      r->cache_gen = orch_rest_cache_generation (self->cache);
      /* The same read already asked: its answer will do. */
      if (orch_rest_cache_join (self->cache, r->cache_key, r))
        return;
      r->cache_leader = TRUE;
    }
  dispatch (r, query);
}

static void
on_body_chunk (SoupServerMessage *msg, GBytes *chunk, gpointer data)
{
  GByteArray *body = g_object_get_data (G_OBJECT (msg), BODY_KEY);
  gsize n;
  const guint8 *p = g_bytes_get_data (chunk, &n);

  /* One byte past the limit is enough to answer 413. */
  if (body->len <= MAX_BODY)
    g_byte_array_append (body, p, (guint) MIN (n, (gsize) MAX_BODY + 1 - body->len));
}

/* Before the body is read: headers too large (431), a declared body too
 * large (413); else the body is collected by us, capped. */
static gboolean
early_limits (OrchRestServer *self, SoupServerMessage *msg)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  SoupMessageHeadersIter it;
  const char *name, *value;
  gsize total = 0;
  goffset length;

  soup_message_headers_iter_init (&it, h);
  while (soup_message_headers_iter_next (&it, &name, &value))
    total += strlen (name) + strlen (value) + 4;
  if (total > self->max_header_bytes)
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection", "close");
      orch_rest_respond_error (msg, ORCH_ERROR_HEADERS_TOO_LARGE,
                               _("the request headers are too large"));
      return FALSE;
    }
  length = soup_message_headers_get_content_length (h);
  if (length > MAX_BODY)
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection", "close");
      orch_rest_respond_error (msg, ORCH_ERROR_TOO_LARGE,
                               _("the request body is larger than 64 KiB"));
      return FALSE;
    }
  soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
  g_object_set_data_full (G_OBJECT (msg), BODY_KEY, g_byte_array_new (),
                          (GDestroyNotify) g_byte_array_unref);
  g_signal_connect (msg, "got-chunk", G_CALLBACK (on_body_chunk), NULL);
  return TRUE;
}

static void
early (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
       gpointer data)
{
  early_limits (data, msg);
}

/* The WebSocket handshake is checked for the token like any request, or
 * for the token offered as a subprotocol (browsers). */
static void
ws_early (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
          gpointer data)
{
  OrchRestServer *self = data;
  GSocket *socket;

  if (!early_limits (self, msg))
    return;
  if (!ws_check_request (msg, path))
    return;
  if (!orch_rest_access_check_ws_token (msg, self->token))
    return;
  /* A feed's client only listens: the stall timeout on reads would drop
   * it after --timeout seconds.  Now, before libsoup makes the
   * WebSocket's read source, which keeps the timeout it is made with. */
  socket = soup_server_message_get_socket (msg);
  if (socket)
    g_socket_set_timeout (socket, 0);
}

static void
ws_connected (SoupServer *server, SoupServerMessage *msg, const char *path,
              SoupWebsocketConnection *conn, gpointer data)
{
  OrchRestServer *self = data;

  orch_rest_feed_add (self->feed, conn);
}

void
orch_rest_server_set_limits (OrchRestServer *self, guint max_header_bytes)
{
  self->max_header_bytes = max_header_bytes;
}

void
orch_rest_server_set_cors (OrchRestServer *self, const char *const *origins)
{
  g_strfreev (self->cors_origins);
  self->cors_origins = g_strdupv ((char **) origins);
}

void
orch_rest_server_set_timeout (OrchRestServer *self, guint seconds)
{
  orch_rest_connections_set_timeout (self->connections, seconds);
}

/* libsoup answers a request line it cannot parse (a bad %-escape in the
 * path or query, a bad Host) or a path it will not decode (%00, an
 * encoded "..") with its own empty 400, and no signal comes between that
 * verdict and the answer.  So each request starts with the JSON error as
 * its body, taken away as soon as its headers were accepted. */
static void
prefilled_error_drop (SoupServerMessage *msg, gpointer data)
{
  if (soup_server_message_get_status (msg) != 0)
    return;
  soup_message_body_truncate (soup_server_message_get_response_body (msg));
  soup_message_headers_remove (soup_server_message_get_response_headers (msg), "Content-Type");
}

static void
prefill_error (SoupServer *server, SoupServerMessage *msg, gpointer data)
{
  static char *json; /* built once: the same for every request */

  if (json == NULL)
    json = orch_rest_error_json (
        orch_error_to_short_name (ORCH_ERROR_MALFORMED),
        /* xgettext:no-c-format */
        _("the request could not be parsed: an invalid %-escape, a NUL or an encoded \"..\" in the path or query, or an invalid Host header"));
  soup_server_message_set_response (msg, "application/json; charset=utf-8", SOUP_MEMORY_STATIC,
                                    json, strlen (json));
  g_signal_connect (msg, "got-headers", G_CALLBACK (prefilled_error_drop), NULL);
}

OrchRestServer *
orch_rest_server_new (OrchRestBus *bus, const char *token, const char *data_dir, GError **error)
{
  g_autoptr(OrchRestServer) self = g_new0 (OrchRestServer, 1);
  gsize n_routes;
  const OrchRoute *routes = orch_rest_routes (&n_routes);

  /* Read once: a file route is answered without touching the disk. */
  self->files = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  for (gsize i = 0; i < n_routes; i++)
    {
      g_autofree char *path = NULL;
      char *text;
      if (routes[i].kind != ORCH_ROUTE_FILE)
        continue;
      path = g_build_filename (data_dir, routes[i].file, NULL);
      if (!g_file_get_contents (path, &text, NULL, error))
        return NULL;
      g_hash_table_insert (self->files, (gpointer) &routes[i], text);
    }
  self->bus = g_object_ref (bus);
  self->sdbus = orch_rest_sdbus_new (orch_rest_bus_get_address (bus));
  self->cache = orch_rest_cache_new (CACHE_ENTRIES, CACHE_BYTES, CACHE_MAX_AGE_US);
  orch_rest_sdbus_watch_changes (self->sdbus, on_daemon_changed, self);
  self->token = g_strdup (token);
  self->server = soup_server_new ("server-header", "orchestrator-rest ", NULL);
  soup_server_add_handler (self->server, NULL, handle, self, NULL);
  g_signal_connect (self->server, "request-started", G_CALLBACK (prefill_error), NULL);
  /* A client that sends half a request, never reads the answer or keeps
   * an idle connection is dropped instead of holding it for ever. */
  self->connections = orch_rest_connections_new (self->server, 30);
  self->feed = orch_rest_feed_new (bus);
  orch_rest_feed_set_sdbus (self->feed, self->sdbus);
  self->max_header_bytes = 16384;
  self->cors_origins = g_new0 (char *, 1);
  soup_server_add_early_handler (self->server, NULL, early, self, NULL);
  soup_server_add_early_handler (self->server, "/ws/metrics", ws_early, self, NULL);
  /* A client that offers subprotocols must offer this one, the only one
   * echoed: never the token. */
  soup_server_add_websocket_handler (self->server, "/ws/metrics", NULL,
                                     (char *[]){ (char *) ORCH_REST_WS_PROTOCOL, NULL },
                                     ws_connected, self, NULL);
  if (token && !orch_rest_access_token_fits_protocol (token))
    g_message (
        _("the token holds characters a WebSocket subprotocol cannot carry: browsers cannot open /ws/metrics"));
  return g_steal_pointer (&self);
}

void
orch_rest_server_free (OrchRestServer *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->connections, orch_rest_connections_free);
  if (self->server)
    {
      soup_server_disconnect (self->server);
      g_object_unref (self->server);
    }
  g_clear_pointer (&self->feed, orch_rest_feed_free);
  g_clear_pointer (&self->sdbus, orch_rest_sdbus_free);
  g_clear_pointer (&self->cache, orch_rest_cache_free);
  g_clear_object (&self->bus);
  if (self->token)
    memset (self->token, 0, strlen (self->token));
  g_free (self->token);
  g_clear_pointer (&self->files, g_hash_table_unref);
  g_strfreev (self->cors_origins);
  g_free (self);
}

static gboolean
split_host_port (const char *host_port, char **ret_host, guint16 *ret_port, GError **error)
{
  const char *colon = strrchr (host_port, ':');
  guint64 port;
  g_autofree char *host = NULL;

  if (colon == NULL || !g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, &port, NULL))
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("listen address “%s” is not HOST:PORT"), host_port);
      return FALSE;
    }
  host = g_strndup (host_port, colon - host_port);
  if (host[0] == '[' && host[strlen (host) - 1] == ']')
    {
      char *inner = g_strndup (host + 1, strlen (host) - 2);
      g_free (host);
      host = inner;
    }
  *ret_host = g_steal_pointer (&host);
  *ret_port = (guint16) port;
  return TRUE;
}

gboolean
orch_rest_listen_is_loopback (const char *host_port)
{
  g_autofree char *host = NULL;
  guint16 port;
  g_autoptr(GInetAddress) addr = NULL;

  if (!split_host_port (host_port, &host, &port, NULL))
    return FALSE;
  if (g_ascii_strcasecmp (host, "localhost") == 0)
    return TRUE;
  addr = g_inet_address_new_from_string (host);
  return addr != NULL && g_inet_address_get_is_loopback (addr);
}

gboolean
orch_rest_server_listen (OrchRestServer *self, const char *host_port, GError **error)
{
  g_autofree char *host = NULL;
  guint16 port;
  g_autoptr(GResolver) resolver = NULL;
  g_autolist(GInetAddress) addrs = NULL;

  if (!split_host_port (host_port, &host, &port, error))
    return FALSE;
  resolver = g_resolver_get_default ();
  /* Names resolve once, at start (localhost, a host's own name). */
  addrs = g_resolver_lookup_by_name (resolver, host, NULL, error);
  if (addrs == NULL)
    return FALSE;
  for (GList *l = addrs; l; l = l->next)
    {
      g_autoptr(GSocketAddress) sa = g_inet_socket_address_new (l->data, port);
      if (!soup_server_listen (self->server, sa, 0, error))
        return FALSE;
      /* Port 0 picks one port: listen on the first address only. */
      if (port == 0)
        break;
    }
  return TRUE;
}

gboolean
orch_rest_server_listen_fd (OrchRestServer *self, int fd, GError **error)
{
  g_autoptr(GSocket) socket = g_socket_new_from_fd (fd, error);

  return socket != NULL && soup_server_listen_socket (self->server, socket, 0, error);
}

GSList *
orch_rest_server_get_uris (OrchRestServer *self)
{
  return soup_server_get_uris (self->server);
}
