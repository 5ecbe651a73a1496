/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-rest-stream.h"
#include "orch-rest-json.h"
#include "orch-rest-jobs-frame.h"
#include "orch-rest-reply.h"

#include "basic/orch-log-format.h"
#include "client/orch-client.h"

#include <errno.h>
#include <gio/gunixfdlist.h>
#include <glib/gi18n.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* New output is looked for this often while a client follows a log: the
 * daemon is not in the data path, so there is nothing to wake us. */
#define FOLLOW_POLL_MS 100
/* Whether the job has ended is asked again this often while the daemon
 * cannot say (after the bus came back, before the daemon did). */
#define FOLLOW_RECHECK_MS 1000

typedef struct {
  OrchRestBus *bus;
  SoupServerMessage *msg;
  char *id;
  char *stream;
  guint64 pos;
  gboolean from_end;
  int fd;
  guint timer;
  guint subscription;
  gulong reconnected_id;
  guint recheck;
  GCancellable *cancel;   /* the calls under way */
  gulong finished_id;
  gboolean ended;         /* the job finished: drain and close */
  gboolean gone;
  gboolean stamped; /* the job has log_timestamps: render its records */
  OrchLogFormatter fmt;
  GString *pending; /* read, not yet a whole record */
} Follow;

static void
follow_free (Follow *f)
{
  g_cancellable_cancel (f->cancel);
  g_object_unref (f->cancel);
  if (f->timer)
    g_source_remove (f->timer);
  if (f->recheck)
    g_source_remove (f->recheck);
  if (f->subscription)
    orch_rest_bus_unsubscribe (f->bus, f->subscription);
  if (f->reconnected_id)
    g_signal_handler_disconnect (f->bus, f->reconnected_id);
  if (f->finished_id)
    g_signal_handler_disconnect (f->msg, f->finished_id);
  if (f->fd >= 0)
    close (f->fd);
  g_object_unref (f->msg);
  g_object_unref (f->bus);
  g_free (f->id);
  g_free (f->stream);
  if (f->pending)
    g_string_free (f->pending, TRUE);
  g_free (f);
}

/* Sends what the file gained since last time; TRUE if anything. */
static gboolean
pump (Follow *f)
{
  SoupMessageBody *body = soup_server_message_get_response_body (f->msg);
  char buf[65536];
  gboolean any = FALSE;
  ssize_t n;

  while ((n = pread (f->fd, buf, sizeof buf, (off_t) f->pos)) > 0)
    {
      f->pos += (guint64) n;
      if (f->stamped)
        {
          g_autoptr(GString) out = g_string_new (NULL);

          orch_log_format_feed (&f->fmt, f->pending, buf, (gsize) n, out);
          if (out->len == 0)
            continue;
          soup_message_body_append (body, SOUP_MEMORY_COPY, out->str, out->len);
        }
      else
        soup_message_body_append (body, SOUP_MEMORY_COPY, buf, (gsize) n);
      any = TRUE;
    }
  if (n == 0 && !any)
    {
      struct stat st;
      /* Truncated (Logs.Delete, rotation): follow from its new start. */
      if (fstat (f->fd, &st) == 0 && (guint64) st.st_size < f->pos)
        {
          f->pos = 0;
          g_string_truncate (f->pending, 0);
        }
    }
  return any;
}

static void
follow_end (Follow *f)
{
  if (!f->gone)
    {
      pump (f);
      soup_message_body_complete (soup_server_message_get_response_body (f->msg));
      soup_server_message_unpause (f->msg);
    }
  follow_free (f);
}

static gboolean
follow_tick (gpointer data)
{
  Follow *f = data;

  if (f->ended)
    {
      f->timer = 0;
      follow_end (f);
      return G_SOURCE_REMOVE;
    }
  if (pump (f))
    soup_server_message_unpause (f->msg);
  return G_SOURCE_CONTINUE;
}

static void
on_client_gone (SoupServerMessage *msg, gpointer data)
{
  Follow *f = data;

  /* libsoup is done with the message; free on the next tick, not under
   * its signal emission. */
  f->gone = TRUE;
  f->ended = TRUE;
}

static gboolean
state_is_final (GVariant *rec)
{
  const char *state = NULL;

  return g_variant_lookup (rec, "state", "&s", &state) &&
         g_strv_contains ((const char *const[]){ "exited", "failed", "stopped", NULL }, state);
}

static void
on_job_changed (GDBusConnection *c, const char *sender, const char *path, const char *iface,
                const char *signal, GVariant *params, gpointer data)
{
  Follow *f = data;
  const char *id;
  g_autoptr(GVariant) rec = NULL;

  if (strcmp (signal, "JobRemoved") == 0)
    {
      f->ended = TRUE;
      return;
    }
  if (strcmp (signal, "JobChanged") != 0)
    return; /* JobEvent, with the same id first */
  g_variant_get (params, "(&s@a{sv})", &id, &rec);
  if (state_is_final (rec))
    f->ended = TRUE;
}

static void check_state (Follow *f);

static gboolean
recheck (gpointer data)
{
  Follow *f = data;

  f->recheck = 0;
  check_state (f);
  return G_SOURCE_REMOVE;
}

static void
got_state (GObject *source, GAsyncResult *res, gpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), res, &error);
  g_autoptr(GVariant) rec = NULL;
  Follow *f = data;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* @f is gone */
  if (reply)
    {
      rec = g_variant_get_child_value (reply, 0);
      /* Already over: send what there is and close. */
      if (state_is_final (rec))
        f->ended = TRUE;
      return;
    }
  if (g_error_matches (error, ORCH_ERROR, ORCH_ERROR_NOT_FOUND))
    f->ended = TRUE;
  else if (f->recheck == 0)
    /* No daemon yet, or no answer: its signals may have been missed. */
    f->recheck = g_timeout_add (FOLLOW_RECHECK_MS, recheck, f);
}

/* Whether the job has ended: at the start, and after each reconnect,
 * when its JobChanged signals may have been lost with the bus. */
static void
check_state (Follow *f)
{
  GDBusConnection *bus = orch_rest_bus_get_connection (f->bus);

  if (bus == NULL)
    return; /* on_reconnected() asks again */
  g_dbus_connection_call (bus, ORCH_BUS_NAME, ORCH_BUS_PATH, "org.orchestrator.Jobs", "Get",
                          g_variant_new ("(s)", f->id), G_VARIANT_TYPE ("(a{sv})"),
                          G_DBUS_CALL_FLAGS_NONE, ORCH_REST_READ_TIMEOUT_MS, f->cancel, got_state, f);
}

static void
on_reconnected (OrchRestBus *bus, GParamSpec *pspec, gpointer data)
{
  check_state (data);
}

static void
opened (GObject *source, GAsyncResult *res, gpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GUnixFDList) fds = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_with_unix_fd_list_finish (G_DBUS_CONNECTION (source),
                                                                                &fds, res, &error);
  Follow *f = data;
  SoupMessageHeaders *h = soup_server_message_get_response_headers (f->msg);
  gint32 handle;
  struct stat st;

  if (f->gone)
    {
      follow_free (f);
      return;
    }
  if (reply == NULL)
    {
      orch_rest_respond_gerror (f->msg, error);
      soup_server_message_unpause (f->msg);
      follow_free (f);
      return;
    }
  g_variant_get (reply, "(h)", &handle);
  f->fd = g_unix_fd_list_get (fds, handle, &error);
  if (f->fd < 0)
    {
      orch_rest_respond_error (f->msg, ORCH_ERROR_FAILED, error->message);
      soup_server_message_unpause (f->msg);
      follow_free (f);
      return;
    }
  if (f->from_end && fstat (f->fd, &st) == 0)
    f->pos = (guint64) st.st_size;

  soup_server_message_set_status (f->msg, 200, NULL);
  soup_message_headers_set_encoding (h, SOUP_ENCODING_CHUNKED);
  soup_message_headers_set_content_type (h,
                                         f->stamped && f->fmt.show == ORCH_LOG_SHOW_JSON
                                             ? "application/x-ndjson"
                                             : "text/plain; charset=utf-8",
                                         NULL);
  /* Proxies must not sit on the stream. */
  soup_message_headers_replace (h, "Cache-Control", "no-cache");
  soup_message_headers_replace (h, "X-Accel-Buffering", "no");
  pump (f);
  soup_server_message_unpause (f->msg);

  /* The log is read from the fd: the follow outlives a lost bus, and
   * only learns again when the job ends. */
  f->subscription = orch_rest_bus_subscribe (f->bus, "org.orchestrator.Jobs", NULL, f->id, on_job_changed, f);
  f->reconnected_id = g_signal_connect (f->bus, "notify::connection", G_CALLBACK (on_reconnected), f);
  check_state (f);
  f->timer = g_timeout_add (FOLLOW_POLL_MS, follow_tick, f);
}

static void
open_log (Follow *f, GDBusConnection *connection)
{
  g_dbus_connection_call_with_unix_fd_list (
      connection, ORCH_BUS_NAME, ORCH_BUS_PATH, "org.orchestrator.Logs", "Open",
      g_variant_new ("(ss)", f->id, f->stream), G_VARIANT_TYPE ("(h)"), G_DBUS_CALL_FLAGS_NONE,
      ORCH_REST_READ_TIMEOUT_MS, NULL, NULL, opened, f);
}

/* Whether the job's log is stamped decides how it is shown. */
static void
got_spec (GObject *source, GAsyncResult *res, gpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), res,
                                                             &error);
  g_autoptr(GVariant) rec = NULL;
  Follow *f = data;

  if (f->gone || reply == NULL)
    {
      if (!f->gone)
        {
          orch_rest_respond_gerror (f->msg, error);
          soup_server_message_unpause (f->msg);
        }
      follow_free (f);
      return;
    }
  rec = g_variant_get_child_value (reply, 0);
  if (!g_variant_lookup (rec, "log_timestamps", "b", &f->stamped))
    f->stamped = FALSE;
  if (!f->stamped && f->fmt.show != ORCH_LOG_SHOW_PLAIN)
    {
      g_autofree char *message = g_strdup_printf (
          _("option “%s”: job %s was not created with log_timestamps, so its log holds no times"),
          f->fmt.show == ORCH_LOG_SHOW_JSON ? "format" : "timestamps", f->id);
      orch_rest_respond_error (f->msg, ORCH_ERROR_INVALID_STATE, message);
      soup_server_message_unpause (f->msg);
      follow_free (f);
      return;
    }
  f->fmt.stream = strcmp (f->stream, "stderr") == 0                       ? "stderr"
                  : g_variant_lookup (rec, "stderr_log_path", "&s", NULL) ? "stdout"
                                                                          : "all";
  open_log (f, G_DBUS_CONNECTION (source));
}

void
orch_rest_follow_log (OrchRestBus *bus, SoupServerMessage *msg, const char *id,
                      const char *stream, guint64 offset, gboolean from_end)
{
  orch_rest_follow_log_shown (bus, msg, id, stream, offset, from_end, ORCH_LOG_SHOW_PLAIN);
}

void
orch_rest_follow_log_shown (OrchRestBus *bus, SoupServerMessage *msg, const char *id,
                            const char *stream, guint64 offset, gboolean from_end, OrchLogShow show)
{
  GDBusConnection *connection = orch_rest_bus_get_connection (bus);
  Follow *f;

  if (connection == NULL)
    {
      orch_rest_respond_no_bus (msg);
      soup_server_message_unpause (msg);
      return;
    }
  f = g_new0 (Follow, 1);
  f->bus = g_object_ref (bus);
  f->msg = g_object_ref (msg);
  f->id = g_strdup (id);
  f->stream = g_strdup (stream ? stream : "all");
  f->pos = offset;
  f->from_end = from_end;
  f->fd = -1;
  f->cancel = g_cancellable_new ();
  f->fmt.show = show;
  f->pending = g_string_new (NULL);
  f->finished_id = g_signal_connect (msg, "finished", G_CALLBACK (on_client_gone), f);
  g_dbus_connection_call (connection, ORCH_BUS_NAME, ORCH_BUS_PATH, "org.orchestrator.Jobs", "Get",
                          g_variant_new ("(s)", f->id), G_VARIANT_TYPE ("(a{sv})"),
                          G_DBUS_CALL_FLAGS_NONE, ORCH_REST_READ_TIMEOUT_MS, NULL, got_spec, f);
}

/* ---- /ws/metrics ---- */

struct _OrchRestFeed {
  OrchRestBus *bus;
  GPtrArray *clients;     /* SoupWebsocketConnection */
  guint sub_system;
  guint sub_jobs;
  guint sub_removed;
  GCancellable *cancel; /* the Jobs.List under way */
  gboolean listing;
  guint sub_events;
  OrchRestSdBus *sdbus;
  struct SdList *sd_list; /* the Jobs.List under way over @sdbus */
};

/* An sd-bus call cannot be cancelled: when the feed goes first, the
 * reply finds feed NULL here. */
typedef struct SdList {
  OrchRestFeed *feed;
} SdList;

static void
broadcast (OrchRestFeed *feed, const char *text)
{
  for (guint i = 0; i < feed->clients->len; i++)
    {
      SoupWebsocketConnection *c = feed->clients->pdata[i];
      if (soup_websocket_connection_get_state (c) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_send_text (c, text);
    }
}

static char *
frame (const char *type, const char *id, GVariant *data)
{
  GString *out = g_string_new (NULL);

  g_string_append_printf (out, "{\"type\":\"%s\",", type);
  if (id)
    {
      g_autoptr(GVariant) s = g_variant_ref_sink (g_variant_new_string (id));
      g_string_append (out, "\"id\":");
      orch_rest_variant_to_json (out, s);
      g_string_append_c (out, ',');
    }
  g_string_append (out, "\"data\":");
  orch_rest_variant_to_json (out, data);
  g_string_append_c (out, '}');
  return g_string_free (out, FALSE);
}

/* The figures of the jobs with a process, after each system sample:
 * records carry cpu_percent, memory_bytes and the IO counters from the
 * sampler, which sends no signal of its own for them. */
static void
listed (GObject *source, GAsyncResult *res, gpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), res,
                                                             &error);
  g_autoptr(GVariant) jobs = NULL;
  g_autoptr(GString) out = NULL;
  OrchRestFeed *feed = data;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* @feed is gone */
  feed->listing = FALSE;
  if (reply == NULL)
    return;
  jobs = g_variant_get_child_value (reply, 0);
  out = g_string_new (NULL);
  orch_rest_jobs_frame_from_variant (out, jobs);
  broadcast (feed, out->str);
}

static void
listed_sd (sd_bus_message *reply, GError *error, gpointer data)
{
  g_autofree SdList *call = data;
  g_autoptr(GString) out = NULL;
  OrchRestFeed *feed = call->feed;

  if (feed == NULL)
    return;
  feed->sd_list = NULL;
  feed->listing = FALSE;
  if (reply == NULL)
    return;
  out = g_string_new (NULL);
  if (orch_rest_jobs_frame_from_message (out, reply) < 0)
    g_warning (_("Jobs.List: a reply that is not aa{sv}; no jobs frame sent"));
  else
    broadcast (feed, out->str);
}

static void
list_jobs (OrchRestFeed *feed)
{
  GDBusConnection *bus = orch_rest_bus_get_connection (feed->bus);
  g_autoptr(GVariant) args = NULL;

  /* One at a time: a slow daemon skips ticks instead of queueing them. */
  if (bus == NULL || feed->listing)
    return;
  feed->listing = TRUE;
  args = g_variant_ref_sink (orch_rest_jobs_frame_list_args ());
  if (feed->sdbus)
    {
      SdList *call = g_new0 (SdList, 1);
      call->feed = feed;
      if (orch_rest_sdbus_call (feed->sdbus, "org.orchestrator.Jobs", "List", args,
                                ORCH_REST_READ_TIMEOUT_MS, listed_sd, call))
        {
          feed->sd_list = call;
          return;
        }
      g_free (call);
    }
  g_dbus_connection_call (bus, ORCH_BUS_NAME, ORCH_BUS_PATH, "org.orchestrator.Jobs", "List", args,
                          G_VARIANT_TYPE ("(aa{sv})"), G_DBUS_CALL_FLAGS_NONE,
                          ORCH_REST_READ_TIMEOUT_MS, feed->cancel, listed, feed);
}

static void
on_feed_signal (GDBusConnection *c, const char *sender, const char *path, const char *iface,
                const char *signal, GVariant *params, gpointer data)
{
  OrchRestFeed *feed = data;
  g_autofree char *text = NULL;

  if (feed->clients->len == 0)
    return;
  if (strcmp (signal, "SystemSampled") == 0)
    {
      g_autoptr(GVariant) s = g_variant_get_child_value (params, 0);
      text = frame ("system", NULL, s);
      list_jobs (feed);
    }
  else if (strcmp (signal, "JobRemoved") == 0)
    {
      const char *id;
      g_autoptr(GVariant) none = g_variant_ref_sink (g_variant_new_parsed ("@a{sv} {}"));
      g_variant_get (params, "(&s)", &id);
      text = frame ("job_removed", id, none);
    }
  else if (strcmp (signal, "JobEvent") == 0)
    {
      const char *id, *kind;
      guint64 time;
      g_autoptr(GVariant) ev = NULL;
      g_autoptr(GVariant) body = NULL;
      g_variant_get (params, "(&s&st@a{sv})", &id, &kind, &time, &ev);
      body = g_variant_ref_sink (
          g_variant_new_parsed ("{'kind': <%s>, 'time': <%t>, 'data': <%@a{sv}>}", kind, time, ev));
      text = frame ("event", id, body);
    }
  else
    {
      const char *id;
      g_autoptr(GVariant) rec = NULL;
      g_variant_get (params, "(&s@a{sv})", &id, &rec);
      text = frame ("job", id, rec);
    }
  broadcast (feed, text);
}

static void
on_ws_closed (SoupWebsocketConnection *conn, gpointer data)
{
  OrchRestFeed *feed = data;

  g_ptr_array_remove (feed->clients, conn);
}

OrchRestFeed *
orch_rest_feed_new (OrchRestBus *bus)
{
  OrchRestFeed *feed = g_new0 (OrchRestFeed, 1);

  feed->bus = g_object_ref (bus);
  feed->clients = g_ptr_array_new_with_free_func (g_object_unref);
  /* Kept by the bus across reconnects: the clients stay connected while
   * the bus is away and get frames again when it is back. */
  feed->sub_system = orch_rest_bus_subscribe (bus, "org.orchestrator.Metrics", "SystemSampled", NULL,
                                              on_feed_signal, feed);
  feed->sub_jobs = orch_rest_bus_subscribe (bus, "org.orchestrator.Jobs", "JobChanged", NULL,
                                            on_feed_signal, feed);
  feed->sub_removed = orch_rest_bus_subscribe (bus, "org.orchestrator.Jobs", "JobRemoved", NULL,
                                               on_feed_signal, feed);
  feed->cancel = g_cancellable_new ();
  feed->sub_events = orch_rest_bus_subscribe (bus, "org.orchestrator.Jobs", "JobEvent", NULL,
                                              on_feed_signal, feed);
  return feed;
}

void
orch_rest_feed_add (OrchRestFeed *feed, SoupWebsocketConnection *conn)
{
  g_ptr_array_add (feed->clients, g_object_ref (conn));
  g_signal_connect (conn, "closed", G_CALLBACK (on_ws_closed), feed);
}

void
orch_rest_feed_free (OrchRestFeed *feed)
{
  if (feed == NULL)
    return;
  orch_rest_bus_unsubscribe (feed->bus, feed->sub_system);
  orch_rest_bus_unsubscribe (feed->bus, feed->sub_jobs);
  orch_rest_bus_unsubscribe (feed->bus, feed->sub_removed);
  g_cancellable_cancel (feed->cancel);
  g_object_unref (feed->cancel);
  orch_rest_bus_unsubscribe (feed->bus, feed->sub_events);
  if (feed->sd_list)
    feed->sd_list->feed = NULL;
  for (guint i = 0; i < feed->clients->len; i++)
    {
      SoupWebsocketConnection *c = feed->clients->pdata[i];
      g_signal_handlers_disconnect_by_data (c, feed);
      if (soup_websocket_connection_get_state (c) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (c, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
    }
  g_ptr_array_unref (feed->clients);
  g_object_unref (feed->bus);
  g_free (feed);
}

void
orch_rest_feed_set_sdbus (OrchRestFeed *feed, OrchRestSdBus *sdbus)
{
  feed->sdbus = sdbus;
}
