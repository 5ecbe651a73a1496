/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-scrape.h"

#include "basic/orch-error.h"
#include "basic/orch-prom-text.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <errno.h>
#include <string.h>

/* One fetch: owns its own state, so that freeing the OrchScrape while it
 * runs only cancels it (the callbacks find fetch->owner NULL). */
typedef struct {
  OrchScrape *owner;
  GCancellable *cancel;
  GSocketConnection *conn;
  GByteArray *buf;
  char *request;
  guint timeout;
} Fetch;

struct _OrchScrape {
  char *host;
  guint16 port;
  char *path;
  char *series;
  Fetch *fetch; /* under way, or NULL */
  gboolean have;
  double value;
  gint64 at; /* monotonic */
  char *error;
};

static gboolean
host_is_loopback (const char *host)
{
  return g_strcmp0 (host, "127.0.0.1") == 0 || g_strcmp0 (host, "::1") == 0 ||
         g_strcmp0 (host, "localhost") == 0;
}

OrchScrape *
orch_scrape_new (const char *url, const char *series, GError **error)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  OrchScrape *s;
  const char *path, *query;

  if (uri == NULL || g_strcmp0 (g_uri_get_scheme (uri), "http") != 0 ||
      !host_is_loopback (g_uri_get_host (uri)) || g_uri_get_userinfo (uri))
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _ ("autoscale: “url” must be an http:// URL on loopback (127.0.0.1, [::1], "
                      "localhost), not “%s”"),
                   url);
      return NULL;
    }
  if (!orch_prom_name_is_valid (series))
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("autoscale: “series” must be a Prometheus metric name, not “%s”"),
                   series ? series : "");
      return NULL;
    }
  s = g_new0 (OrchScrape, 1);
  s->host = g_strdup (g_uri_get_host (uri));
  s->port = g_uri_get_port (uri) > 0 ? (guint16) g_uri_get_port (uri) : 80;
  path = g_uri_get_path (uri);
  query = g_uri_get_query (uri);
  s->path = g_strconcat (path && *path ? path : "/", query ? "?" : "", query ? query : "", NULL);
  s->series = g_strdup (series);
  return s;
}

static void
fetch_free (Fetch *f)
{
  if (f->timeout)
    g_source_remove (f->timeout);
  g_object_unref (f->cancel);
  g_clear_object (&f->conn);
  g_byte_array_unref (f->buf);
  g_free (f->request);
  g_free (f);
}

void
orch_scrape_free (OrchScrape *s)
{
  if (!s)
    return;
  if (s->fetch)
    {
      /* The pending callback frees it. */
      s->fetch->owner = NULL;
      g_cancellable_cancel (s->fetch->cancel);
    }
  g_free (s->host);
  g_free (s->path);
  g_free (s->series);
  g_free (s->error);
  g_free (s);
}

/* Ends @f: the owner (if any) learns the value or the error. */
static void
fetch_done (Fetch *f, const char *error)
{
  OrchScrape *s = f->owner;

  if (s)
    {
      g_clear_pointer (&s->error, g_free);
      if (error)
        s->error = g_strdup (error);
      else
        {
          const char *text = (const char *) f->buf->data;
          const char *body = g_strstr_len (text, f->buf->len, "\r\n\r\n");
          gsize skip = body ? (gsize) (body - text) + 4 : 0;
          double v;
          int r;

          if (f->buf->len < 12 || strncmp (text, "HTTP/1.", 7) != 0 ||
              strncmp (text + 8, " 200", 4) != 0 || !body)
            s->error = g_strdup (_("the answer is not HTTP 200"));
          else if ((r = orch_prom_text_sum (text + skip, f->buf->len - skip, s->series, &v)) < 0)
            s->error = g_strdup_printf (r == -ENOENT ? _("no sample of “%s” in the answer")
                                                     : _("a sample of “%s” is not a number"),
                                        s->series);
          else
            {
              s->have = TRUE;
              s->value = v;
              s->at = g_get_monotonic_time ();
            }
        }
      if (s->error)
        g_debug ("scrape %s:%u%s: %s", s->host, s->port, s->path, s->error);
      s->fetch = NULL;
    }
  fetch_free (f);
}

static gboolean
fetch_timeout (gpointer data)
{
  Fetch *f = data;

  f->timeout = 0;
  g_cancellable_cancel (f->cancel);
  return G_SOURCE_REMOVE;
}

static void read_more (Fetch *f);

static void
read_done (GObject *source, GAsyncResult *res, gpointer data)
{
  Fetch *f = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), res, &error);

  if (bytes == NULL)
    {
      fetch_done (f, error->message);
      return;
    }
  if (g_bytes_get_size (bytes) == 0)
    {
      fetch_done (f, NULL);
      return;
    }
  if (f->buf->len + g_bytes_get_size (bytes) > ORCH_SCRAPE_MAX_BYTES)
    {
      fetch_done (f, _("the answer is too large"));
      return;
    }
  g_byte_array_append (f->buf, g_bytes_get_data (bytes, NULL), (guint) g_bytes_get_size (bytes));
  read_more (f);
}

static void
read_more (Fetch *f)
{
  g_input_stream_read_bytes_async (g_io_stream_get_input_stream (G_IO_STREAM (f->conn)), 16384,
                                   G_PRIORITY_DEFAULT, f->cancel, read_done, f);
}

static void
write_done (GObject *source, GAsyncResult *res, gpointer data)
{
  Fetch *f = data;
  g_autoptr(GError) error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), res, NULL, &error))
    {
      fetch_done (f, error->message);
      return;
    }
  read_more (f);
}

static void
connect_done (GObject *source, GAsyncResult *res, gpointer data)
{
  Fetch *f = data;
  g_autoptr(GError) error = NULL;

  f->conn = g_socket_client_connect_to_host_finish (G_SOCKET_CLIENT (source), res, &error);
  if (f->conn == NULL)
    {
      fetch_done (f, error->message);
      return;
    }
  g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (f->conn)),
                                   f->request, strlen (f->request), G_PRIORITY_DEFAULT, f->cancel,
                                   write_done, f);
}

void
orch_scrape_start (OrchScrape *s, guint timeout_ms)
{
  g_autoptr(GSocketClient) client = NULL;
  g_autofree char *host = NULL;
  Fetch *f;

  if (s->fetch)
    return;
  f = g_new0 (Fetch, 1);
  f->owner = s;
  f->cancel = g_cancellable_new ();
  f->buf = g_byte_array_new ();
  /* HTTP/1.0: the server closes the connection, no chunks to undo. */
  f->request = g_strdup_printf ("GET %s HTTP/1.0\r\nHost: %s\r\nAccept: text/plain\r\n\r\n",
                                s->path, s->host);
  f->timeout = g_timeout_add (timeout_ms, fetch_timeout, f);
  s->fetch = f;
  client = g_socket_client_new ();
  /* No proxy: the URL is on this host by construction. */
  g_socket_client_set_enable_proxy (client, FALSE);
  host = strchr (s->host, ':') ? g_strdup_printf ("[%s]", s->host) : g_strdup (s->host);
  g_socket_client_connect_to_host_async (client, host, s->port, f->cancel, connect_done, f);
}

gboolean
orch_scrape_latest (OrchScrape *s, gint64 max_age_us, double *ret)
{
  if (!s->have || g_get_monotonic_time () - s->at > max_age_us)
    return FALSE;
  *ret = s->value;
  return TRUE;
}

const char *
orch_scrape_error (OrchScrape *s)
{
  return s->error;
}
