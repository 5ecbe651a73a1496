/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-scrape.h"

#include "basic/orch-error.h"
#include "basic/orch-prom-text.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* One fetch, on a non-blocking socket of its own: connect, write the
 * request, read to the end (HTTP/1.0: the server closes).  Plain sockets,
 * not GIO: this was the daemon's only use of GIO, and GIO with GObject
 * and what they link mapped ~1.2 MB into the daemon (issue 15's RSS). */
typedef enum { FETCH_CONNECTING, FETCH_WRITING, FETCH_READING } FetchStep;

typedef struct {
  OrchScrape *owner;
  int fd;
  FetchStep step;
  guint addr; /* the owner's address being tried */
  guint io;   /* the fd's watch */
  guint timeout;
  GByteArray *buf;
  char *request;
  gsize request_len, sent;
} Fetch;

/* Where to connect: localhost is both loopback addresses, tried in turn. */
typedef struct {
  struct sockaddr_storage sa;
  socklen_t len;
} Address;

struct _OrchScrape {
  char *host;
  guint16 port;
  char *path;
  char *series;
  Address addr[2];
  guint n_addr;
  Fetch *fetch; /* under way, or NULL */
  gboolean have;
  double value;
  gint64 at; /* monotonic */
  char *error;
};

static void
add_address (OrchScrape *s, int family, const char *text)
{
  Address *a = &s->addr[s->n_addr++];

  memset (a, 0, sizeof *a);
  if (family == AF_INET)
    {
      struct sockaddr_in *in = (struct sockaddr_in *) &a->sa;
      in->sin_family = AF_INET;
      in->sin_port = htons (s->port);
      inet_pton (AF_INET, text, &in->sin_addr);
      a->len = sizeof *in;
    }
  else
    {
      struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &a->sa;
      in6->sin6_family = AF_INET6;
      in6->sin6_port = htons (s->port);
      inet_pton (AF_INET6, text, &in6->sin6_addr);
      a->len = sizeof *in6;
    }
}

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
  if (strcmp (s->host, "::1") != 0)
    add_address (s, AF_INET, "127.0.0.1");
  if (strcmp (s->host, "127.0.0.1") != 0)
    add_address (s, AF_INET6, "::1");
  return s;
}

static void
fetch_free (Fetch *f)
{
  if (f->io)
    g_source_remove (f->io);
  if (f->timeout)
    g_source_remove (f->timeout);
  if (f->fd >= 0)
    close (f->fd);
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
    fetch_free (s->fetch);
  g_free (s->host);
  g_free (s->path);
  g_free (s->series);
  g_free (s->error);
  g_free (s);
}

/* Ends @f: its owner learns the value or the error. */
static void
fetch_done (Fetch *f, const char *error)
{
  OrchScrape *s = f->owner;

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
  fetch_free (f);
}

static gboolean
fetch_timeout (gpointer data)
{
  Fetch *f = data;

  f->timeout = 0;
  fetch_done (f, _("no answer in time"));
  return G_SOURCE_REMOVE;
}

/* Ends @f with what failed (translated) and why. */
static void
fetch_failed (Fetch *f, const char *what, int error)
{
  g_autofree char *msg = g_strdup_printf ("%s: %s", what, g_strerror (error));

  fetch_done (f, msg);
}

static gboolean fetch_io (int fd, GIOCondition cond, gpointer data);

static void
fetch_watch (Fetch *f, GIOCondition cond)
{
  f->io = g_unix_fd_add (f->fd, cond, fetch_io, f);
}

/* Connects to the next address; FALSE (and the fetch ended) when none is
 * left or the socket cannot be made. */
static gboolean
fetch_connect (Fetch *f, int error)
{
  OrchScrape *s = f->owner;

  if (f->fd >= 0)
    close (f->fd);
  f->fd = -1;
  for (; f->addr < s->n_addr; f->addr++)
    {
      const Address *a = &s->addr[f->addr];

      f->fd = socket (a->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (f->fd < 0)
        {
          error = errno;
          continue;
        }
      if (connect (f->fd, (const struct sockaddr *) &a->sa, a->len) == 0 || errno == EINPROGRESS)
        {
          f->step = FETCH_CONNECTING;
          fetch_watch (f, G_IO_OUT);
          return TRUE;
        }
      error = errno;
      close (f->fd);
      f->fd = -1;
    }
  fetch_failed (f, _("cannot connect"), error);
  return FALSE;
}

/* One step as far as the socket lets it go; the next when it would block. */
static gboolean
fetch_io (int fd, GIOCondition cond, gpointer data)
{
  Fetch *f = data;
  guint8 chunk[16384];
  ssize_t n;
  int error = 0;
  socklen_t len = sizeof error;

  f->io = 0;
  switch (f->step)
    {
    case FETCH_CONNECTING:
      if (getsockopt (fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0)
        error = errno;
      if (error)
        {
          f->addr++;
          fetch_connect (f, error);
          return G_SOURCE_REMOVE;
        }
      f->step = FETCH_WRITING;
      G_GNUC_FALLTHROUGH;
    case FETCH_WRITING:
      while (f->sent < f->request_len)
        {
          n = send (fd, f->request + f->sent, f->request_len - f->sent, MSG_NOSIGNAL);
          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0 && errno == EAGAIN)
            {
              fetch_watch (f, G_IO_OUT);
              return G_SOURCE_REMOVE;
            }
          if (n < 0)
            {
              fetch_failed (f, _("cannot send the request"), errno);
              return G_SOURCE_REMOVE;
            }
          f->sent += (gsize) n;
        }
      f->step = FETCH_READING;
      G_GNUC_FALLTHROUGH;
    case FETCH_READING:
    default:
      for (;;)
        {
          n = read (fd, chunk, sizeof chunk);
          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0 && errno == EAGAIN)
            {
              fetch_watch (f, G_IO_IN);
              return G_SOURCE_REMOVE;
            }
          if (n < 0)
            {
              fetch_failed (f, _("cannot read the answer"), errno);
              return G_SOURCE_REMOVE;
            }
          if (n == 0)
            {
              fetch_done (f, NULL);
              return G_SOURCE_REMOVE;
            }
          if (f->buf->len + (gsize) n > ORCH_SCRAPE_MAX_BYTES)
            {
              fetch_done (f, _("the answer is too large"));
              return G_SOURCE_REMOVE;
            }
          g_byte_array_append (f->buf, chunk, (guint) n);
        }
    }
}

void
orch_scrape_start (OrchScrape *s, guint timeout_ms)
{
  Fetch *f;

  if (s->fetch)
    return;
  f = g_new0 (Fetch, 1);
  f->owner = s;
  f->fd = -1;
  f->buf = g_byte_array_new ();
  /* HTTP/1.0: the server closes the connection, no chunks to undo. */
  f->request = g_strdup_printf ("GET %s HTTP/1.0\r\nHost: %s%s%s:%u\r\nAccept: text/plain\r\n\r\n",
                                s->path, strchr (s->host, ':') ? "[" : "", s->host,
                                strchr (s->host, ':') ? "]" : "", s->port);
  f->request_len = strlen (f->request);
  s->fetch = f;
  f->timeout = g_timeout_add (timeout_ms, fetch_timeout, f);
  fetch_connect (f, ECONNREFUSED);
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
