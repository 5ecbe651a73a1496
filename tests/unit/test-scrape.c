/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The autoscaler's loopback scrape against a server in this process:
 * the value, each way a fetch fails (named), localhost's second address,
 * and a fetch freed while it waits (its socket closed). */
#include "core/orch-scrape.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
  int listen_fd;
  guint16 port;
  const char *answer; /* NULL: accept and say nothing */
  gsize answer_len;
  int client_fd; /* the last accepted, kept when silent */
  guint accepted;
} Server;

/* One connection, served from the loop the scrape runs in: the request
 * read, then the answer written as the client takes it, then EOF. */
typedef struct {
  Server *server;
  int fd;
  gsize sent;
} Conn;

static gboolean
conn_write (int fd, GIOCondition cond, gpointer data)
{
  Conn *c = data;
  Server *s = c->server;

  while (c->sent < s->answer_len)
    {
      ssize_t n = send (fd, s->answer + c->sent, s->answer_len - c->sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EAGAIN)
        return G_SOURCE_CONTINUE;
      if (n <= 0)
        break; /* the client gave up (too large) */
      c->sent += (gsize) n;
    }
  close (fd);
  g_free (c);
  return G_SOURCE_REMOVE;
}

static gboolean
conn_read (int fd, GIOCondition cond, gpointer data)
{
  Conn *c = data;
  char request[1024] = { 0 };

  g_assert_cmpint (read (fd, request, sizeof request - 1), >, 0);
  g_assert_nonnull (strstr (request, "GET /metrics HTTP/1.0\r\n"));
  g_unix_fd_add (fd, G_IO_OUT, conn_write, c);
  return G_SOURCE_REMOVE;
}

static gboolean
server_accept (int fd, GIOCondition cond, gpointer data)
{
  Server *s = data;
  int c = accept4 (fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  Conn *conn;

  if (c < 0)
    return G_SOURCE_CONTINUE;
  s->accepted++;
  if (s->answer == NULL)
    {
      s->client_fd = c;
      return G_SOURCE_CONTINUE;
    }
  conn = g_new0 (Conn, 1);
  conn->server = s;
  conn->fd = c;
  g_unix_fd_add (c, G_IO_IN, conn_read, conn);
  return G_SOURCE_CONTINUE;
}

static guint
server_start (Server *s, int family)
{
  struct sockaddr_storage sa = { 0 };
  socklen_t len;
  int one = 1;

  s->client_fd = -1;
  s->listen_fd = socket (family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  g_assert_cmpint (s->listen_fd, >=, 0);
  setsockopt (s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (family == AF_INET)
    {
      struct sockaddr_in *in = (struct sockaddr_in *) &sa;
      in->sin_family = AF_INET;
      in->sin_addr.s_addr = htonl (INADDR_LOOPBACK);
      len = sizeof *in;
    }
  else
    {
      struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &sa;
      in6->sin6_family = AF_INET6;
      in6->sin6_addr = in6addr_loopback;
      len = sizeof *in6;
    }
  if (bind (s->listen_fd, (struct sockaddr *) &sa, len) < 0)
    return 0;
  g_assert_cmpint (listen (s->listen_fd, 8), ==, 0);
  g_assert_cmpint (getsockname (s->listen_fd, (struct sockaddr *) &sa, &len), ==, 0);
  s->port = ntohs (family == AF_INET ? ((struct sockaddr_in *) &sa)->sin_port
                                     : ((struct sockaddr_in6 *) &sa)->sin6_port);
  return g_unix_fd_add (s->listen_fd, G_IO_IN, server_accept, s);
}

static void
server_stop (Server *s, guint source)
{
  g_source_remove (source);
  close (s->listen_fd);
  if (s->client_fd >= 0)
    close (s->client_fd);
}

/* Runs the loop until @scrape has a value or an error (or 10 s pass). */
static void
wait_fetch (OrchScrape *scrape)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  double v;

  while (!orch_scrape_latest (scrape, G_MAXINT64, &v) && orch_scrape_error (scrape) == NULL &&
         g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
}

static OrchScrape *
scrape_of (const char *host, guint16 port)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *url = g_strdup_printf ("http://%s:%u/metrics", host, port);
  OrchScrape *scrape = orch_scrape_new (url, "queue_depth", &error);

  g_assert_no_error (error);
  return scrape;
}

/* The answer, summed over label sets; then each way it is not a value. */
static void
test_answers (void)
{
  static const struct {
    const char *answer, *error; /* error NULL: the value is 7 */
  } cases[] = {
    { "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n# TYPE queue_depth gauge\n"
      "queue_depth{q=\"a\"} 4\nqueue_depth{q=\"b\"} 3\nother 9\n",
      NULL },
    { "HTTP/1.0 404 Not Found\r\n\r\nqueue_depth 7\n", "not HTTP 200" },
    { "HTTP/1.0 200 OK\r\n\r\nother 7\n", "no sample of “queue_depth”" },
    { "HTTP/1.0 200 OK\r\n\r\nqueue_depth seven\n", "not a number" },
    { "garbage", "not HTTP 200" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      Server s = { .answer = cases[i].answer, .answer_len = strlen (cases[i].answer) };
      guint source = server_start (&s, AF_INET);
      g_autoptr(OrchScrape) scrape = scrape_of ("127.0.0.1", s.port);
      double v = 0;

      orch_scrape_start (scrape, 5000);
      wait_fetch (scrape);
      g_test_message ("case %zu: %s", i, orch_scrape_error (scrape));
      if (cases[i].error == NULL)
        {
          g_assert_null (orch_scrape_error (scrape));
          g_assert_true (orch_scrape_latest (scrape, G_MAXINT64, &v));
          g_assert_cmpfloat (v, ==, 7);
        }
      else
        {
          g_assert_nonnull (strstr (orch_scrape_error (scrape), cases[i].error));
          g_assert_false (orch_scrape_latest (scrape, G_MAXINT64, &v));
        }
      server_stop (&s, source);
    }
}

/* An answer over the bound is refused, not kept. */
static void
test_too_large (void)
{
  gsize len = ORCH_SCRAPE_MAX_BYTES + 4096;
  g_autofree char *answer = g_malloc (len);
  Server s = { .answer = answer, .answer_len = len };
  guint source;
  g_autoptr(OrchScrape) scrape = NULL;

  memset (answer, '#', len);
  memcpy (answer, "HTTP/1.0 200 OK\r\n\r\n", 19);
  source = server_start (&s, AF_INET);
  scrape = scrape_of ("127.0.0.1", s.port);
  orch_scrape_start (scrape, 5000);
  wait_fetch (scrape);
  g_assert_nonnull (strstr (orch_scrape_error (scrape), "too large"));
  server_stop (&s, source);
}

/* Nobody listening: the connect's error, by name. */
static void
test_refused (void)
{
  Server s = { .answer = "" };
  guint source = server_start (&s, AF_INET);
  guint16 port = s.port;
  g_autoptr(OrchScrape) scrape = NULL;

  server_stop (&s, source); /* the port is free again */
  scrape = scrape_of ("127.0.0.1", port);
  orch_scrape_start (scrape, 5000);
  wait_fetch (scrape);
  g_assert_nonnull (strstr (orch_scrape_error (scrape), "cannot connect"));
  g_assert_nonnull (strstr (orch_scrape_error (scrape), g_strerror (ECONNREFUSED)));
}

/* A server that accepts and never answers: the fetch gives up in time;
 * one freed while it waits closes its socket (the server reads EOF). */
static void
test_silent (void)
{
  Server s = { .answer = NULL };
  guint source = server_start (&s, AF_INET);
  g_autoptr(OrchScrape) scrape = scrape_of ("127.0.0.1", s.port);
  gint64 start = g_get_monotonic_time ();
  char byte;

  orch_scrape_start (scrape, 300);
  wait_fetch (scrape);
  g_assert_nonnull (strstr (orch_scrape_error (scrape), "no answer in time"));
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 300 * 1000);

  g_clear_pointer (&scrape, orch_scrape_free);
  close (s.client_fd);
  s.client_fd = -1;
  scrape = scrape_of ("127.0.0.1", s.port);
  orch_scrape_start (scrape, 60000);
  while (s.accepted < 2)
    g_main_context_iteration (NULL, TRUE);
  /* The request arrives, then nothing until the scrape goes. */
  g_clear_pointer (&scrape, orch_scrape_free);
  g_assert_cmpint (fcntl (s.client_fd, F_SETFL, 0), ==, 0);
  while (read (s.client_fd, &byte, 1) > 0)
    ;
  g_assert_cmpint (read (s.client_fd, &byte, 1), ==, 0);
  server_stop (&s, source);
}

/* localhost is both loopback addresses: a server on ::1 alone is found
 * after 127.0.0.1 refuses. */
static void
test_localhost (void)
{
  Server s = { .answer = "HTTP/1.0 200 OK\r\n\r\nqueue_depth 7\n" };
  guint source;
  g_autoptr(OrchScrape) scrape = NULL;
  double v = 0;

  s.answer_len = strlen (s.answer);
  source = server_start (&s, AF_INET6);
  if (source == 0)
    {
      close (s.listen_fd);
      g_test_skip ("no IPv6 loopback here");
      return;
    }
  scrape = scrape_of ("localhost", s.port);
  orch_scrape_start (scrape, 5000);
  wait_fetch (scrape);
  g_assert_null (orch_scrape_error (scrape));
  g_assert_true (orch_scrape_latest (scrape, G_MAXINT64, &v));
  g_assert_cmpfloat (v, ==, 7);
  server_stop (&s, source);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/scrape/answers", test_answers);
  g_test_add_func ("/scrape/too-large", test_too_large);
  g_test_add_func ("/scrape/refused", test_refused);
  g_test_add_func ("/scrape/silent", test_silent);
  g_test_add_func ("/scrape/localhost", test_localhost);
  return g_test_run ();
}
