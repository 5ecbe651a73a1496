/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hand-made hostile input through the real daemon (D-Bus) and the real
 * shim (raw HTTP): huge arrays, deep nesting, NUL bytes, invalid UTF-8,
 * numbers at the edge of their type, 10 000 environment entries, paths
 * that try to leave the log directory.  Each gets a clear error; at the
 * end both still answer, nothing was created, and both exit cleanly
 * (under ASan: with no leak). */
#include "orch-test-daemon.h"

#include <string.h>

static OrchTestDaemon *d;
static GSubprocess *shim;
static char *base;

/* ---- D-Bus ---- */

/* Calls @iface.@method; returns the D-Bus error name ("" on success). */
static char *
bus_error_of (const char *iface, const char *method, GVariant *args, char **ret_message)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) r = g_dbus_connection_call_sync (d->conn, "org.orchestrator", "/org/orchestrator",
                                                       iface, method, args, NULL,
                                                       G_DBUS_CALL_FLAGS_NONE, 30000, NULL, &error);
  char *name;

  if (r)
    return g_strdup ("");
  name = g_dbus_error_get_remote_error (error);
  g_dbus_error_strip_remote_error (error);
  if (ret_message)
    *ret_message = g_strdup (error->message);
  return name ? name : g_strdup (error->message);
}

static void
assert_create_refused (GVariant *spec, const char *want_error, const char *want_in_message)
{
  g_autofree char *message = NULL;
  g_autofree char *name = bus_error_of ("org.orchestrator.Jobs", "Create", g_variant_new_tuple (&spec, 1),
                                        &message);

  g_assert_cmpstr (name, ==, want_error);
  g_assert_true (g_utf8_validate (message, -1, NULL));
  if (want_in_message && strstr (message, want_in_message) == NULL)
    g_error ("message “%s” does not say “%s”", message, want_in_message);
}

static GVariant *
spec_with (const char *key, GVariant *value)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  if (strcmp (key, "command") != 0)
    g_variant_builder_add (&b, "{sv}", "command", g_variant_new_parsed ("['true']"));
  g_variant_builder_add (&b, "{sv}", key, value);
  return g_variant_builder_end (&b);
}

static void
test_bus_sizes (void)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  GVariantBuilder env;
  g_autofree char *huge = g_strnfill (2 * 1024 * 1024, 'x');

  /* 100 000 arguments; 2 MiB in one argument; 10 000 environment entries. */
  for (int i = 0; i < 100000; i++)
    g_ptr_array_add (argv, g_strdup ("a"));
  g_ptr_array_add (argv, NULL);
  assert_create_refused (spec_with ("command", g_variant_new_strv ((const char *const *) argv->pdata, -1)),
                         "org.orchestrator.Error.InvalidArgument", "100000 arguments");
  assert_create_refused (spec_with ("command", g_variant_new_strv ((const char *const[]){ "echo", huge, NULL }, -1)),
                         "org.orchestrator.Error.InvalidArgument", "bytes of arguments");
  g_variant_builder_init (&env, G_VARIANT_TYPE ("a{ss}"));
  for (int i = 0; i < 10000; i++)
    {
      g_autofree char *k = g_strdup_printf ("V%d", i);
      g_variant_builder_add (&env, "{ss}", k, "value");
    }
  assert_create_refused (spec_with ("env", g_variant_builder_end (&env)),
                         "org.orchestrator.Error.InvalidArgument", "10000 variables");
  /* A 1 MiB name. */
  assert_create_refused (spec_with ("name", g_variant_new_take_string (g_strnfill (1 << 20, 'n'))),
                         "org.orchestrator.Error.InvalidArgument", "name");
}

static void
test_bus_types_and_edges (void)
{
  GVariant *deep = g_variant_new_string ("x");

  /* Deep nesting where an array of strings belongs. */
  for (int i = 0; i < 30; i++)
    deep = g_variant_new_variant (deep);
  assert_create_refused (spec_with ("command", deep), "org.orchestrator.Error.InvalidArgument", "command");
  /* NUL bytes and invalid UTF-8 cannot be a D-Bus string; as bytes they
   * are the wrong type. */
  assert_create_refused (spec_with ("cwd", g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, "/\0\xff", 3, 1)),
                         "org.orchestrator.Error.InvalidArgument", "cwd");
  /* Numbers at the edge of their type. */
  assert_create_refused (spec_with ("cpu_quota", g_variant_new_double (1e308)),
                         "org.orchestrator.Error.InvalidArgument", "cpu_quota");
  assert_create_refused (spec_with ("cpu_quota", g_variant_new_double (-0.0)),
                         "org.orchestrator.Error.InvalidArgument", "cpu_quota");
  assert_create_refused (spec_with ("restart_delay_ms", g_variant_new_uint32 (G_MAXUINT32)),
                         "org.orchestrator.Error.InvalidArgument", "restart_delay_ms");
  assert_create_refused (spec_with ("stop_timeout_ms", g_variant_new_uint32 (G_MAXUINT32)),
                         "org.orchestrator.Error.InvalidArgument", "stop_timeout_ms");
  assert_create_refused (spec_with ("restart", g_variant_new_string ("sometimes")),
                         "org.orchestrator.Error.InvalidArgument", "restart");
  /* The same key twice. */
  assert_create_refused (g_variant_new_parsed ("{'command': <['true']>, 'user': <'root'>, 'user': <'nobody'>}"),
                         "org.orchestrator.Error.InvalidArgument", "more than once");
  /* Ids that try to leave the log directory, options at their limits. */
  {
    const char *const ids[] = { "../../etc/passwd", "/etc/passwd", "job_20260101_000000_abcdef/../../x", "", NULL };
    for (const char *const *id = ids; *id; id++)
      {
        g_autofree char *e1 = bus_error_of ("org.orchestrator.Logs", "Read", g_variant_new_parsed ("(%s, @a{sv} {})", *id), NULL);
        g_autofree char *e2 = bus_error_of ("org.orchestrator.Logs", "Open", g_variant_new ("(ss)", *id, "all"), NULL);
        g_autofree char *e3 = bus_error_of ("org.orchestrator.Logs", "Delete", g_variant_new ("(s)", *id), NULL);
        g_autofree char *e4 = bus_error_of ("org.orchestrator.Jobs", "Get", g_variant_new ("(s)", *id), NULL);
        const char *const refused[] = { "org.orchestrator.Error.NotFound",
                                        "org.orchestrator.Error.InvalidArgument", NULL };
        g_assert_true (g_strv_contains (refused, e1));
        g_assert_true (g_strv_contains (refused, e2));
        g_assert_true (g_strv_contains (refused, e3));
        g_assert_true (g_strv_contains (refused, e4));
      }
  }
  {
    g_autofree char *e1 = bus_error_of ("org.orchestrator.Metrics", "GetSystemHistory",
                                        g_variant_new_parsed ("({'since': <uint64 18446744073709551615>, 'limit': <uint32 4294967295>, 'step_s': <uint32 4294967295>},)"), NULL);
    g_autofree char *e2 = bus_error_of ("org.orchestrator.Metrics", "GetProcess", g_variant_new ("(u)", G_MAXUINT32), NULL);
    g_autofree char *e3 = bus_error_of ("org.orchestrator.Logs", "Cleanup",
                                        g_variant_new_parsed ("({'older_than_s': <uint64 18446744073709551615>},)"), NULL);
    g_autofree char *e4 = bus_error_of ("org.orchestrator.Jobs", "Stop",
                                        g_variant_new_parsed ("('x', {'signal': <int32 -2147483648>, 'timeout_ms': <uint32 4294967295>})"), NULL);
    /* Answered or refused in our words; never a crash or a generic error. */
    g_assert_true (*e1 == '\0' || g_str_has_prefix (e1, "org.orchestrator.Error."));
    g_assert_cmpstr (e2, ==, "org.orchestrator.Error.NotFound");
    g_assert_true (*e3 == '\0' || g_str_has_prefix (e3, "org.orchestrator.Error."));
    g_assert_true (g_str_has_prefix (e4, "org.orchestrator.Error."));
  }
}

/* ---- raw HTTP ---- */

typedef struct {
  guint status;
  char *head;
  char *body;
} Reply;

static void
reply_free (Reply *r)
{
  g_free (r->head);
  g_free (r->body);
  g_free (r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Reply, reply_free)

/* Sends @request bytes as they are and reads the answer until the shim
 * closes (requests say Connection: close).  A reset after the answer is
 * fine: the shim may close before reading a body it refused. */
static Reply *
raw (const void *request, gsize len)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) conn = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) in = g_byte_array_new ();
  GOutputStream *out;
  GInputStream *ins;
  guint8 buf[65536];
  gssize n;
  Reply *r = g_new0 (Reply, 1);
  const char *host = base + strlen ("http://");
  const char *sep;

  conn = g_socket_client_connect_to_host (client, host, 80, NULL, &error);
  g_assert_no_error (error);
  g_socket_set_timeout (g_socket_connection_get_socket (conn), 20);
  out = g_io_stream_get_output_stream (G_IO_STREAM (conn));
  ins = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  /* The shim may answer and close early: a failed write is no failure. */
  g_output_stream_write_all (out, request, len, NULL, NULL, NULL);
  while ((n = g_input_stream_read (ins, buf, sizeof buf, NULL, NULL)) > 0)
    g_byte_array_append (in, buf, (guint) n);
  g_byte_array_append (in, (const guint8 *) "", 1);
  g_assert_true (g_str_has_prefix ((const char *) in->data, "HTTP/1.1 "));
  r->status = (guint) g_ascii_strtoull ((const char *) in->data + 9, NULL, 10);
  sep = strstr ((const char *) in->data, "\r\n\r\n");
  g_assert_nonnull (sep);
  r->head = g_strndup ((const char *) in->data, sep - (const char *) in->data);
  r->body = g_strdup (sep + 4);
  return r;
}

static Reply *
post (const char *path, const void *body, gsize len)
{
  g_autoptr(GByteArray) req = g_byte_array_new ();
  g_autofree char *head = g_strdup_printf ("POST %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                           "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                                           path, len);

  g_byte_array_append (req, (const guint8 *) head, (guint) strlen (head));
  g_byte_array_append (req, body, (guint) len);
  return raw (req->data, req->len);
}

static Reply *
get (const char *path)
{
  g_autofree char *req = g_strdup_printf ("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);

  return raw (req, strlen (req));
}

/* A JSON error body, UTF-8, naming the error. */
static void
assert_error_reply (Reply *r, guint status, const char *error)
{
  g_autofree char *want = g_strdup_printf ("\"error\":\"%s\"", error);

  if (r->status != status)
    g_error ("status %u, not %u: %s", r->status, status, r->body);
  g_assert_true (g_utf8_validate (r->body, -1, NULL));
  if (strstr (r->body, want) == NULL)
    g_error ("body %s does not say %s", r->body, want);
}

static void
test_http_sizes (void)
{
  g_autofree char *big = g_strnfill (70 * 1024, ' ');
  g_autofree char *headers = NULL;
  g_autofree char *kib = g_strnfill (0x400, ' ');
  g_autofree char *junk = g_strnfill (40 * 1024, 'h');
  g_autoptr(GString) chunked = g_string_new ("POST /jobs/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                             "Transfer-Encoding: chunked\r\n\r\n");
  g_autoptr(Reply) r1 = NULL, r2 = NULL, r3 = NULL;

  /* A declared body over 64 KiB: refused before it is read. */
  r1 = post ("/jobs/", big, strlen (big));
  assert_error_reply (r1, 413, "TooLarge");
  /* The same, chunked, with no length to refuse it by: capped as it comes. */
  for (int i = 0; i < 80; i++)
    g_string_append_printf (chunked, "400\r\n%s\r\n", kib);
  g_string_append (chunked, "0\r\n\r\n");
  r2 = raw (chunked->str, chunked->len);
  assert_error_reply (r2, 413, "TooLarge");
  /* 40 KiB of headers. */
  headers = g_strdup_printf ("GET /jobs/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Junk: %s\r\n\r\n",
                             junk);
  r3 = raw (headers, strlen (headers));
  g_assert_cmpuint (r3->status, ==, 431);
}

static void
test_http_bodies (void)
{
  const struct {
    const char *body;
    gsize len;
    guint status;
  } cases[] = {
    { "", 0, 400 },
    { "{} {}", 5, 400 },
    { "[1]{\"a\":1}", 10, 400 },
    { "{\"command\": [\"true\"]}\0junk", 27, 400 },
    { "{\"command\": [\"tr\xff\xfe\"]}", 22, 400 },
    { "{\"command\": [\"\\ud800\"]}", 23, 400 },
    /* short and unknown escapes: refused before json-glib (it leaked) */
    { "{\"command\": [\"\\ud80\"]}", 22, 400 },
    { "{\"command\": [\"\\x\"]}", 19, 400 },
    /* two high surrogates, unterminated: json-glib leaked on this too */
    { "{\"c c \\ud800\\ud800", 18, 400 },
    { "{\"command\": [\"a\tb\"]}", 20, 400 },
    { "{\"command\": [\"a\\u0000b\"], \"name\": 1}", 36, 422 },
    { "{\"command\": [\"true\"], \"memory_max\": 18446744073709551616}", 57, 422 },
    { "{\"command\": [\"true\"], \"tasks_max\": -1}", 38, 422 },
    { "{\"command\": [\"true\"], \"cpu_quota\": 1e999}", 41, 0 }, /* any 4xx */
  };
  g_autoptr(GString) deep = g_string_new ("{\"command\": ");
  g_autoptr(GString) env = g_string_new ("{\"command\": [\"true\"], \"env\": {");

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(Reply) r = post ("/jobs/", cases[i].body, cases[i].len);
      if (cases[i].status ? r->status != cases[i].status : r->status / 100 != 4)
        g_error ("case %zu: status %u, not %u: %s", i, r->status, cases[i].status, r->body);
      g_assert_true (g_utf8_validate (r->body, -1, NULL));
      g_assert_nonnull (strstr (r->body, "\"error\""));
    }
  /* 20 000 levels of nesting within the 64 KiB limit. */
  for (int i = 0; i < 20000; i++)
    g_string_append_c (deep, '[');
  for (int i = 0; i < 20000; i++)
    g_string_append_c (deep, ']');
  g_string_append_c (deep, '}');
  {
    g_autoptr(Reply) r = post ("/jobs/", deep->str, deep->len);
    g_assert_cmpuint (r->status / 100, ==, 4);
  }
  /* 10 000 environment entries. */
  for (int i = 0; i < 3000; i++)
    g_string_append_printf (env, "%s\"V%d\": \"x\"", i ? "," : "", i);
  g_string_append (env, "}}");
  {
    g_autoptr(Reply) r = post ("/jobs/", env->str, env->len);
    assert_error_reply (r, 422, "InvalidArgument");
    g_assert_nonnull (strstr (r->body, "3000 variables"));
  }
}

static void
test_http_paths_and_queries (void)
{
  const struct {
    const char *path;
    guint status;
  } cases[] = {
    { "/jobs/%ff", 400 },
    { "/jobs/%00", 400 },
    { "/jobs/..%2f..%2fetc%2fpasswd", 400 },
    /* Dot segments are removed (RFC 3986): these are "/", the dashboard
     * (below: its page, never a log). */
    { "/logs/..", 200 },
    { "/logs/%2e%2e", 200 },
    { "/logs/../..", 200 },
    { "/jobs/?name=%ff", 400 },
    { "/jobs/?bogus=1", 422 },
    { "/logs/x?tail=99999999999999999999", 422 },
    { "/logs/x?offset=-1", 422 },
    { "/logs/x?max_bytes=0", 422 },
    { "/metrics/process/4294967296", 422 },
    { "/metrics/process/-1", 422 },
    { "/jobs/?state=%", 400 },
    /* Refused by libsoup's own parser, answered in our format all the same. */
    { "/jobs/%ZZ", 400 },
    { "/logs/%zz?tail=1", 400 },
    { "/jobs/?state=%ZZ", 400 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(Reply) r = get (cases[i].path);
      if (r->status != cases[i].status)
        g_error ("%s: status %u, not %u: %s", cases[i].path, r->status, cases[i].status, r->body);
      g_assert_true (g_utf8_validate (r->body, -1, NULL));
      if (r->status == 200)
        g_assert_nonnull (strstr (r->body, "<!DOCTYPE html>"));
      else
        assert_error_reply (r, cases[i].status, "InvalidArgument");
    }
  /* A Host header that cannot be part of a URL. */
  {
    const char *req = "GET /healthz HTTP/1.1\r\nHost: a/b\r\nConnection: close\r\n\r\n";
    g_autoptr(Reply) r = raw (req, strlen (req));
    assert_error_reply (r, 400, "InvalidArgument");
  }
  /* No CORS unless configured. */
  {
    const char *req = "GET /healthz HTTP/1.1\r\nHost: x\r\nOrigin: http://evil.example\r\n"
                      "Connection: close\r\n\r\n";
    g_autoptr(Reply) r = raw (req, strlen (req));
    g_assert_cmpuint (r->status, ==, 200);
    g_assert_null (strstr (r->head, "Access-Control"));
  }
}

/* After all of it: both answer, nothing was made. */
static void
test_still_standing (void)
{
  g_autoptr(GVariant) list = orch_test_call (d, "List", g_variant_new_parsed ("(@a{sv} {},)"), NULL);
  g_autoptr(GVariant) jobs = g_variant_get_child_value (list, 0);
  g_autoptr(Reply) health = get ("/healthz");

  g_assert_cmpuint (g_variant_n_children (jobs), ==, 0);
  g_assert_cmpuint (health->status, ==, 200);
  g_assert_nonnull (strstr (health->body, "\"daemon\":true"));
}

static const OrchTestCase tests[] = { { "/hostile/bus-sizes", test_bus_sizes },
                                      { "/hostile/bus-types-and-edges", test_bus_types_and_edges },
                                      { "/hostile/http-sizes", test_http_sizes },
                                      { "/hostile/http-bodies", test_http_bodies },
                                      { "/hostile/http-paths-and-queries",
                                        test_http_paths_and_queries },
                                      { "/hostile/still-standing", test_still_standing },
                                      { NULL, NULL } };

int
main (int argc, char **argv)
{
  const OrchTestProgram program = {
    .daemon = &d,
    .config = "[jobs]\nmax_env=1024\n",
    .shim = &shim,
    .shim_base = &base,
    .tests = tests,
  };

  return orch_test_main (argc, argv, &program);
}
