/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-rest-connections.h"

#include <errno.h>
#include <sys/socket.h>

/* Between two requests libsoup 3.2 waits for the next one with a new
 * message that nobody has started: when the client closes the connection
 * (curl at exit, wrk at the end of a run, any pool) or the socket's
 * timeout fires, that message fails on its own and nothing disconnects
 * the connection.  Fixed in libsoup 3.3.0 (commit d20c660, "server: do
 * not leak idle connections closed by the client"); Debian 12 ships
 * 3.2.3.
 *
 * So after each request the shim keeps the message that just finished
 * and watches the socket, ahead of libsoup (higher priority) and without
 * libsoup's own timeout on it.  Bytes: a next request, libsoup reads it.
 * EOF, an error or the idle deadline: the connection is taken from
 * libsoup with soup_server_message_steal_connection(), which lets go of
 * everything libsoup holds for it, and closed. */
typedef struct {
  OrchRestConnections *owner;
  SoupServerMessage *msg;   /* the last request; still knows the connection */
  GSocket *socket;
  GSource *watch;
  guint timer;
  gulong disconnected_id;
} Idle;

struct _OrchRestConnections {
  SoupServer *server;
  guint timeout_s;
  gboolean watch_idle;      /* libsoup < 3.3.0 */
  gboolean unref_accepted;  /* libsoup < 3.4.0 */
  GHashTable *idle;         /* GSocket -> Idle */
  gulong started_id, finished_id, aborted_id;
};

static void
idle_free (Idle *idle)
{
  if (idle->disconnected_id)
    g_signal_handler_disconnect (idle->msg, idle->disconnected_id);
  if (idle->watch)
    {
      g_source_destroy (idle->watch);
      g_source_unref (idle->watch);
    }
  if (idle->timer)
    g_source_remove (idle->timer);
  g_object_unref (idle->msg);
  g_object_unref (idle->socket);
  g_free (idle);
}

/* Done watching: the connection is in use again, or gone. */
static void
idle_forget (Idle *idle)
{
  g_hash_table_remove (idle->owner->idle, idle->socket);
}

static void
idle_close (Idle *idle)
{
  g_autoptr(GIOStream) stream = NULL;

  /* Closed by libsoup already: a steal now would announce the connection
   * gone a second time, and libsoup drops a reference on each. */
  if (g_socket_is_closed (idle->socket))
    {
      idle_forget (idle);
      return;
    }
  /* Our handler must not run (and free @idle) under the steal. */
  g_signal_handler_disconnect (idle->msg, idle->disconnected_id);
  idle->disconnected_id = 0;
  stream = soup_server_message_steal_connection (idle->msg);
  if (stream)
    g_io_stream_close (stream, NULL, NULL);
  idle_forget (idle);
}

static gboolean
on_idle_socket (GSocket *socket, GIOCondition condition, gpointer data)
{
  Idle *idle = data;
  char byte;
  ssize_t n = recv (g_socket_get_fd (socket), &byte, 1, MSG_PEEK | MSG_DONTWAIT);

  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return G_SOURCE_CONTINUE;
  if (n > 0)
    {
      /* A next request: libsoup's own source reads it. */
      g_clear_pointer (&idle->watch, g_source_unref);
      idle_forget (idle);
      return G_SOURCE_REMOVE;
    }
  /* EOF or an error (a reset): the client is gone. */
  g_clear_pointer (&idle->watch, g_source_unref);
  idle_close (idle);
  return G_SOURCE_REMOVE;
}

static gboolean
on_idle_timeout (gpointer data)
{
  Idle *idle = data;

  idle->timer = 0;
  idle_close (idle);
  return G_SOURCE_REMOVE;
}

static void
on_disconnected (SoupServerMessage *msg, gpointer data)
{
  Idle *idle = data;

  /* libsoup closed it itself ("Connection: close", an error). */
  idle_forget (idle);
}

/* libsoup before 3.4.0 never drops the reference g_socket_accept() gave
 * it (fixed by commit b545d5f0, "soup-listener: Plug a leak"): every
 * connection leaves its GSocket behind, about 340 bytes (200 000
 * connections, 68 MB).  The first request of a connection starts while
 * libsoup accepts it, when the socket has exactly that reference and the
 * connection's own; a libsoup that dropped it (a backport) leaves one,
 * and then nothing is done. */
static GQuark seen_quark;

static void
give_back_accept_reference (GSocket *socket)
{
  if (g_object_get_qdata (G_OBJECT (socket), seen_quark))
    return;
  g_object_set_qdata (G_OBJECT (socket), seen_quark, GINT_TO_POINTER (TRUE));
  if (g_atomic_int_get (&G_OBJECT (socket)->ref_count) == 2)
    g_object_unref (socket);
}

static void
request_started (SoupServer *server, SoupServerMessage *msg, gpointer data)
{
  OrchRestConnections *self = data;
  GSocket *socket = soup_server_message_get_socket (msg);

  if (socket == NULL)
    return;
  if (self->unref_accepted)
    give_back_accept_reference (socket);
  /* A request under way: it has timeout_s for each read and write. */
  g_hash_table_remove (self->idle, socket);
  g_socket_set_timeout (socket, self->timeout_s);
}

/* After a request, finished or aborted (libsoup calls a 500 answer
 * aborted and still keeps the connection). */
static void
request_done (SoupServer *server, SoupServerMessage *msg, gpointer data)
{
  OrchRestConnections *self = data;
  GSocket *socket = soup_server_message_get_socket (msg);
  Idle *idle;

  if (socket == NULL || g_socket_is_closed (socket))
    return;
  /* Sent: not kept for as long as the connection idles (the API
   * description is 60 KB). */
  soup_message_body_truncate (soup_server_message_get_response_body (msg));
  idle = g_new0 (Idle, 1);
  idle->owner = self;
  idle->msg = g_object_ref (msg);
  idle->socket = g_object_ref (socket);
  g_hash_table_replace (self->idle, socket, idle);
  /* Before libsoup makes its source for the next request, which would
   * time out into the same leak: the deadline is ours now. */
  g_socket_set_timeout (socket, 0);
  idle->disconnected_id = g_signal_connect (msg, "disconnected", G_CALLBACK (on_disconnected), idle);
  idle->watch = g_socket_create_source (socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_priority (idle->watch, G_PRIORITY_HIGH);
  g_source_set_callback (idle->watch, G_SOURCE_FUNC (on_idle_socket), idle, NULL);
  g_source_attach (idle->watch, NULL);
  if (self->timeout_s)
    idle->timer = g_timeout_add_seconds_full (G_PRIORITY_HIGH, self->timeout_s, on_idle_timeout, idle, NULL);
}

OrchRestConnections *
orch_rest_connections_new (SoupServer *server, guint timeout_s)
{
  OrchRestConnections *self = g_new0 (OrchRestConnections, 1);

  self->server = g_object_ref (server);
  self->timeout_s = timeout_s;
  self->watch_idle = !soup_check_version (3, 3, 0);
  self->unref_accepted = !soup_check_version (3, 4, 0);
  seen_quark = g_quark_from_static_string ("orch-rest-accept-reference");
  self->idle = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) idle_free);
  self->started_id = g_signal_connect (server, "request-started", G_CALLBACK (request_started), self);
  if (self->watch_idle)
    {
      self->finished_id = g_signal_connect (server, "request-finished", G_CALLBACK (request_done), self);
      self->aborted_id = g_signal_connect (server, "request-aborted", G_CALLBACK (request_done), self);
    }
  return self;
}

void
orch_rest_connections_set_timeout (OrchRestConnections *self, guint timeout_s)
{
  self->timeout_s = timeout_s;
}

void
orch_rest_connections_free (OrchRestConnections *self)
{
  if (self == NULL)
    return;
  g_signal_handler_disconnect (self->server, self->started_id);
  if (self->finished_id)
    {
      g_signal_handler_disconnect (self->server, self->finished_id);
      g_signal_handler_disconnect (self->server, self->aborted_id);
    }
  g_hash_table_unref (self->idle);
  g_object_unref (self->server);
  g_free (self);
}
