/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The REST shim against a real orchestratord on a private bus: the same
 * scenarios through D-Bus and through HTTP give the same records and the
 * same errors. */
#include "orch-test-daemon.h"

#include "rest/orch-rest-routes.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

static OrchTestDaemon *d;
static GSubprocess *shim;
static char *base;
static SoupSession *session;
/* With ORCH_TEST_PRISM (rest-prism, suite contract): Prism as a validating
 * proxy in front of the shim; http() goes through it and fails on any
 * answer it finds the document does not describe. */
static GSubprocess *prism;
static char *via;

#define MAX_CONCURRENT 6

/* ---- the shim ---- */

static GSubprocess *
start_shim (const char *const *extra, char **ret_base, GError **error)
{
  return orch_test_shim_start (d, extra, ret_base, error);
}

static void
stop_shim (GSubprocess *p)
{
  if (g_subprocess_get_identifier (p))
    {
      g_subprocess_send_signal (p, SIGTERM);
      g_subprocess_wait (p, NULL, NULL);
      /* A clean exit: under ASan a leak in the shim fails here. */
      g_assert_true (g_subprocess_get_if_exited (p));
      g_assert_cmpint (g_subprocess_get_exit_status (p), ==, 0);
    }
  g_object_unref (p);
}

/* ---- HTTP ---- */

typedef struct {
  guint status;
  char *body;
  SoupMessageHeaders *headers;
} Response;

static void
response_free (Response *r)
{
  g_free (r->body);
  if (r->headers)
    soup_message_headers_unref (r->headers);
  g_free (r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Response, response_free)

/* The requests of these tests are often wrong on purpose: only what
 * Prism finds in the answer counts. */
static void
assert_no_response_violation (const char *method, const char *path, Response *r)
{
  const char *found = soup_message_headers_get_one (r->headers, "sl-violations");
  g_autoptr(JsonParser) p = json_parser_new ();
  JsonArray *all;

  if (found == NULL)
    return;
  g_assert_true (json_parser_load_from_data (p, found, -1, NULL));
  all = json_node_get_array (json_parser_get_root (p));
  for (guint i = 0; i < json_array_get_length (all); i++)
    {
      JsonObject *v = json_array_get_object_element (all, i);
      JsonArray *where = json_object_get_array_member (v, "location");
      if (json_array_get_length (where) > 0 &&
          strcmp (json_array_get_string_element (where, 0), "request") == 0)
        continue;
      g_error ("%s %s -> %u: Prism: %s", method, path, r->status, found);
    }
}

static Response *
http_to (const char *at, const char *method, const char *path, const char *body, const char *token)
{
  g_autofree char *url = g_strconcat (at, path, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new (method, url);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  Response *r = g_new0 (Response, 1);
  gsize len;

  g_assert_nonnull (msg);
  if (body)
    {
      g_autoptr(GBytes) b = g_bytes_new (body, strlen (body));
      soup_message_set_request_body_from_bytes (msg, "application/json", b);
    }
  if (token)
    {
      g_autofree char *h = g_strconcat ("Bearer ", token, NULL);
      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", h);
    }
  bytes = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  r->status = soup_message_get_status (msg);
  r->body = g_strndup (g_bytes_get_data (bytes, &len), g_bytes_get_size (bytes));
  r->headers = soup_message_headers_ref (soup_message_get_response_headers (msg));
  if (at == via)
    assert_no_response_violation (method, path, r);
  return r;
}

static Response *
http (const char *method, const char *path, const char *body)
{
  g_autoptr(JsonParser) p = json_parser_new ();
  /* Prism answers HEAD itself, without asking the shim, and never answers
   * a body that is not JSON (prism-cli 5.16): those go to the shim. */
  gboolean validated = via && strcmp (method, "HEAD") != 0 &&
                       (body == NULL || json_parser_load_from_data (p, body, -1, NULL));

  return http_to (validated ? via : base, method, path, body, NULL);
}

static JsonNode *
parse (const char *text)
{
  g_autoptr(JsonParser) p = json_parser_new ();
  g_autoptr(GError) error = NULL;

  if (!json_parser_load_from_data (p, text, -1, &error))
    g_error ("not JSON (%s): %s", error->message, text);
  return json_node_copy (json_parser_get_root (p));
}

/* A D-Bus record as the shim would write it. */
static JsonNode *
as_json (GVariant *v)
{
  return json_gvariant_serialize (v);
}

/* Fields that move between two reads of the same job. */
static gboolean
volatile_key (const char *key)
{
  return strcmp (key, "cpu_percent") == 0 || strcmp (key, "memory_bytes") == 0 ||
         strcmp (key, "timestamp") == 0;
}

/* The IO counters appear with the job's first sample, which may come
 * between two reads: compared only when both have them. */
static gboolean
sampled_key (const char *key)
{
  return strcmp (key, "io_read_bytes") == 0 || strcmp (key, "io_write_bytes") == 0;
}

static guint
stable_size (JsonObject *o)
{
  g_autoptr(GList) keys = json_object_get_members (o);
  guint n = 0;

  for (GList *l = keys; l; l = l->next)
    n += !sampled_key (l->data);
  return n;
}

static void
assert_same_record (JsonNode *a, JsonNode *b, const char *const *ignore)
{
  JsonObject *oa = json_node_get_object (a), *ob = json_node_get_object (b);
  g_autoptr(GList) ka = json_object_get_members (oa);

  g_assert_cmpuint (stable_size (oa), ==, stable_size (ob));
  for (GList *l = ka; l; l = l->next)
    {
      const char *key = l->data;
      g_autofree char *va = NULL, *vb = NULL;
      if (sampled_key (key))
        continue;
      if (!json_object_has_member (ob, key))
        g_error ("no “%s” over HTTP", key);
      if (volatile_key (key) || (ignore && g_strv_contains (ignore, key)))
        continue;
      va = json_to_string (json_object_get_member (oa, key), FALSE);
      vb = json_to_string (json_object_get_member (ob, key), FALSE);
      if (strcmp (va, vb) != 0)
        g_error ("“%s”: %s over D-Bus, %s over HTTP", key, va, vb);
    }
}

static void
assert_error (Response *r, guint status, const char *tail)
{
  g_autoptr(JsonNode) n = parse (r->body);
  JsonObject *o = json_node_get_object (n);

  g_assert_cmpuint (r->status, ==, status);
  g_assert_cmpstr (json_object_get_string_member (o, "error"), ==, tail);
  g_assert_true (strlen (json_object_get_string_member (o, "message")) > 0);
}

static char *
dbus_create (const char *spec)
{
  g_autoptr(GError) error = NULL;
  char *id = orch_test_create (d, spec, &error);

  g_assert_no_error (error);
  return id;
}

static GVariant *
dbus_call (const char *iface, const char *method, GVariant *args, GError **error)
{
  g_autoptr(GVariant) r = g_dbus_connection_call_sync (d->conn, "org.orchestrator", "/org/orchestrator",
                                                       iface, method, args, NULL,
                                                       G_DBUS_CALL_FLAGS_NONE, 30000, NULL, error);
  return r && g_variant_n_children (r) ? g_variant_get_child_value (r, 0) : (r ? g_variant_ref (r) : NULL);
}

/* ---- tests ---- */

static void
test_create_get_list (void)
{
  g_autoptr(Response) created = http ("POST", "/jobs/", "{\"command\": [\"sleep\", \"600\"], \"name\": \"over-http\"}");
  g_autoptr(JsonNode) rec = NULL, got = NULL, dbus_rec = NULL, list = NULL;
  g_autoptr(GVariant) v = NULL;
  g_autofree char *id = NULL, *path = NULL;
  g_autoptr(Response) get = NULL, list_r = NULL, no_slash = NULL;
  g_autoptr(GVariant) running = NULL;

  g_assert_cmpuint (created->status, ==, 201);
  rec = parse (created->body);
  id = g_strdup (json_object_get_string_member (json_node_get_object (rec), "id"));
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (rec), "name"), ==, "over-http");
  /* The job really runs. */
  running = orch_test_wait_state (d, id, "running", 10000);

  path = g_strconcat ("/jobs/", id, NULL);
  get = http ("GET", path, NULL);
  g_assert_cmpuint (get->status, ==, 200);
  got = parse (get->body);
  v = dbus_call ("org.orchestrator.Jobs", "Get", g_variant_new ("(s)", id), NULL);
  dbus_rec = as_json (v);
  assert_same_record (dbus_rec, got, NULL);

  /* /jobs and /jobs/ are one endpoint, filters as D-Bus's. */
  list_r = http ("GET", "/jobs/?name=over-http", NULL);
  no_slash = http ("GET", "/jobs?name=over-http", NULL);
  g_assert_cmpuint (list_r->status, ==, 200);
  g_assert_cmpuint (no_slash->status, ==, 200);
  list = parse (list_r->body);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (list)), ==, 1);
  {
    /* Paged: the page after the job is empty, an unknown id is 404. */
    g_autofree char *after = g_strconcat ("/jobs/?name=over-http&limit=1&after=", id, NULL);
    g_autoptr(Response) page = http ("GET", "/jobs/?name=over-http&limit=1", NULL);
    g_autoptr(Response) next = http ("GET", after, NULL);
    g_autoptr(Response) unknown = http ("GET", "/jobs/?after=job_nope", NULL);
    g_autoptr(JsonNode) p1 = parse (page->body), p2 = parse (next->body);
    g_assert_cmpuint (json_array_get_length (json_node_get_array (p1)), ==, 1);
    g_assert_cmpuint (json_array_get_length (json_node_get_array (p2)), ==, 0);
    g_assert_cmpuint (unknown->status, ==, 404);
  }
  orch_test_discard (d, id);
}

/* The same job made twice, once per side: the same record but for what
 * must differ. */
static void
test_create_parity (void)
{
  const char *spec_json = "{\"command\": [\"sh\", \"-c\", \"exit 3\"], \"name\": \"twin\", \"env\": {\"A\": \"b\"},"
                          " \"restart\": \"no\", \"stop_timeout_ms\": 2000, \"stderr\": \"separate\"}";
  const char *spec_gv = "{'command': <['sh', '-c', 'exit 3']>, 'name': <'twin'>, 'env': <{'A': 'b'}>,"
                        " 'restart': <'no'>, 'stop_timeout_ms': <uint32 2000>, 'stderr': <'separate'>}";
  g_autoptr(Response) r = http ("POST", "/jobs/", spec_json);
  g_autoptr(JsonNode) h = parse (r->body);
  g_autofree char *hid = g_strdup (json_object_get_string_member (json_node_get_object (h), "id"));
  g_autofree char *did = dbus_create (spec_gv);
  g_autoptr(GVariant) a = orch_test_wait_state (d, hid, "failed", 10000);
  g_autoptr(GVariant) b = orch_test_wait_state (d, did, "failed", 10000);
  g_autoptr(JsonNode) ja = as_json (a), jb = as_json (b);
  const char *const differ[] = { "id", "pid", "created_at", "started_at", "finished_at", "log_path",
                                 "stderr_log_path", NULL };

  assert_same_record (ja, jb, differ);
  orch_test_discard (d, hid);
  orch_test_discard (d, did);
}

static void
test_stop_restart (void)
{
  g_autofree char *id = dbus_create ("{'command': <['sleep', '600']>}");
  g_autofree char *path = g_strconcat ("/jobs/", id, NULL);
  g_autofree char *restart = g_strconcat ("/jobs/", id, "/restart", NULL);
  g_autoptr(GVariant) running = orch_test_wait_state (d, id, "running", 10000);
  g_autoptr(Response) re = http ("POST", restart, NULL);
  g_autoptr(Response) st = NULL, again = NULL;
  g_autoptr(JsonNode) n1 = parse (re->body), n2 = NULL;

  g_assert_cmpuint (re->status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (n1), "state"), ==, "running");
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (n1), "restarts"), ==, 1);

  st = http ("DELETE", path, NULL);
  g_assert_cmpuint (st->status, ==, 200);
  n2 = parse (st->body);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (n2), "state"), ==, "stopped");

  /* Stopping it again: the daemon's InvalidState, as 409. */
  again = http ("DELETE", path, NULL);
  assert_error (again, 409, "InvalidState");
  orch_test_discard (d, id);
}

/* PATCH /jobs/{id} is SetLimits: the record with the limits, or the
 * daemon's refusal (the none backend has no controllers: 409). */
static void
test_set_limits (void)
{
  g_autofree char *id = dbus_create ("{'command': <['sleep', '600']>}");
  g_autofree char *path = g_strconcat ("/jobs/", id, NULL);
  g_autoptr(GVariant) running = orch_test_wait_state (d, id, "running", 10000);
  g_autoptr(Response) set = http ("PATCH", path, "{\"memory_max\": 67108864, \"cpu_weight\": 50}");
  g_autoptr(Response) unknown = http ("PATCH", path, "{\"command\": [\"true\"]}");
  g_autoptr(Response) wrong = http ("PATCH", path, "{\"memory_max\": \"64M\"}");
  g_autoptr(Response) missing = http ("PATCH", "/jobs/job_20200101_000000_aaaaaa",
                                      "{\"tasks_max\": 4}");
  g_autoptr(GVariant) after = orch_test_get (d, id);

  if (set->status == 200)
    {
      g_autoptr(JsonNode) n = parse (set->body);
      g_assert_cmpint (json_object_get_int_member (json_node_get_object (n), "memory_max"), ==,
                       67108864);
    }
  else
    {
      g_autoptr(GVariant) none = g_variant_lookup_value (after, "memory_max", NULL);
      assert_error (set, 409, "InvalidState");
      g_assert_nonnull (strstr (set->body, "memory"));
      g_assert_null (none);
    }
  g_assert_cmpuint (unknown->status, >=, 400);
  g_assert_cmpuint (unknown->status, <, 500);
  g_assert_nonnull (strstr (unknown->body, "command"));
  g_assert_cmpuint (wrong->status, >=, 400);
  g_assert_cmpuint (wrong->status, <, 500);
  g_assert_cmpuint (missing->status, ==, 404);
  orch_test_discard (d, id);
}

/* GET /jobs/{id}/events is GetEvents. */
static void
test_job_events (void)
{
  g_autofree char *id = dbus_create ("{'command': <['sh', '-c', 'exit 5']>}");
  g_autofree char *path = g_strconcat ("/jobs/", id, "/events?limit=10", NULL);
  g_autoptr(GVariant) done = orch_test_wait_state (d, id, "failed", 10000);
  g_autoptr(Response) r = NULL;
  g_autoptr(Response) bad = NULL;
  g_autoptr(JsonNode) n = NULL;
  JsonObject *first;
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  do
    {
      g_clear_pointer (&r, response_free);
      g_clear_pointer (&n, json_node_unref);
      r = http ("GET", path, NULL);
      g_assert_cmpuint (r->status, ==, 200);
      n = parse (r->body);
    }
  while (json_array_get_length (json_node_get_array (n)) == 0 &&
         g_get_monotonic_time () < deadline && (g_usleep (50000), TRUE));
  g_assert_cmpuint (json_array_get_length (json_node_get_array (n)), ==, 1);
  first = json_array_get_object_element (json_node_get_array (n), 0);
  g_assert_cmpstr (json_object_get_string_member (first, "kind"), ==, "exited");
  g_assert_cmpint (
      json_object_get_int_member (json_object_get_object_member (first, "data"), "exit_code"), ==,
      5);
  bad = http ("GET", "/jobs/job_20200101_000000_aaaaaa/events?since=soon", NULL);
  g_assert_cmpuint (bad->status, >=, 400);

  /* GET /events: every job's, or the one ?job= names, the same list. */
  {
    g_autofree char *one = g_strconcat ("/events?limit=10&job=", id, NULL);
    g_autoptr(Response) all = http ("GET", "/events", NULL);
    g_autoptr(Response) just = http ("GET", one, NULL);
    g_autoptr(Response) malformed = http ("GET", "/events?job=nope", NULL);
    g_autoptr(Response) unknown = http ("GET", "/events?bogus=1", NULL);
    g_autoptr(JsonNode) a = NULL, j = NULL;

    g_assert_cmpuint (all->status, ==, 200);
    g_assert_cmpuint (just->status, ==, 200);
    a = parse (all->body);
    j = parse (just->body);
    g_assert_true (strstr (all->body, id) != NULL);
    g_assert_cmpuint (json_array_get_length (json_node_get_array (j)), ==, 1);
    g_assert_cmpuint (json_array_get_length (json_node_get_array (a)), >=, 1);
    g_assert_cmpuint (malformed->status, ==, 422);
    g_assert_cmpuint (unknown->status, ==, 422);
  }
  orch_test_discard (d, id);
}

/* Every error: D-Bus name and message, HTTP status and the same words. */
static void
test_error_parity (void)
{
  const struct {
    const char *method, *path, *body;
    const char *iface, *dbus_method, *args;
    guint status;
    const char *tail;
  } cases[] = {
    { "GET", "/jobs/job_20991231_235959_ffffff", NULL, "org.orchestrator.Jobs", "Get",
      "('job_20991231_235959_ffffff',)", 404, "NotFound" },
    { "GET", "/jobs/nonsense", NULL, "org.orchestrator.Jobs", "Get", "('nonsense',)", 422, "InvalidArgument" },
    { "POST", "/jobs/", "{\"command\": [\"mkfs.ext4\", \"/dev/null\"]}", "org.orchestrator.Jobs", "Create",
      "({'command': <['mkfs.ext4', '/dev/null']>},)", 403, "CommandRejected" },
    { "POST", "/jobs/", "{\"command\": [\"true\"], \"colour\": \"red\"}", "org.orchestrator.Jobs", "Create",
      "({'command': <['true']>, 'colour': <'red'>},)", 422, "InvalidArgument" },
    { "POST", "/jobs/", "{\"command\": []}", "org.orchestrator.Jobs", "Create",
      "({'command': <@as []>},)", 422, "InvalidArgument" },
    { "GET", "/metrics/jobs/job_20991231_235959_ffffff", NULL, "org.orchestrator.Metrics", "GetJob",
      "('job_20991231_235959_ffffff',)", 404, "NotFound" },
    { "GET", "/logs/job_20991231_235959_ffffff", NULL, "org.orchestrator.Logs", "Read",
      "('job_20991231_235959_ffffff', @a{sv} {})", 404, "NotFound" },
    { "GET", "/metrics/process/1073741823", NULL, "org.orchestrator.Metrics", "GetProcess",
      "(uint32 1073741823,)", 404, "NotFound" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(Response) r = http (cases[i].method, cases[i].path, cases[i].body);
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) v = dbus_call (cases[i].iface, cases[i].dbus_method,
                                         g_variant_new_parsed (cases[i].args), &error);
      g_autofree char *remote = NULL;
      g_autofree char *want = g_strconcat ("org.orchestrator.Error.", cases[i].tail, NULL);
      g_autoptr(JsonNode) n = NULL;

      g_assert_null (v);
      remote = g_dbus_error_get_remote_error (error);
      g_dbus_error_strip_remote_error (error);
      g_assert_cmpstr (remote, ==, want);
      assert_error (r, cases[i].status, cases[i].tail);
      n = parse (r->body);
      g_assert_cmpstr (json_object_get_string_member (json_node_get_object (n), "message"), ==, error->message);
    }
}

static void
test_limit_reached (void)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(Response) r = NULL;

  for (int i = 0; i < MAX_CONCURRENT; i++)
    g_ptr_array_add (ids, dbus_create ("{'command': <['sleep', '600']>}"));
  r = http ("POST", "/jobs/", "{\"command\": [\"sleep\", \"600\"]}");
  assert_error (r, 429, "LimitReached");
  for (guint i = 0; i < ids->len; i++)
    orch_test_discard (d, ids->pdata[i]);
}

static void
test_shim_errors (void)
{
  g_autoptr(Response) notjson = http ("POST", "/jobs/", "{\"command\": ");
  g_autoptr(Response) array = http ("POST", "/jobs/", "[1, 2]");
  g_autoptr(Response) wrong = http ("POST", "/jobs/", "{\"command\": \"sleep 1\"}");
  g_autoptr(Response) range = http ("POST", "/jobs/", "{\"command\": [\"true\"], \"tasks_max\": -4}");
  g_autoptr(Response) unknown = http ("GET", "/nowhere", NULL);
  g_autoptr(Response) method = http ("PUT", "/jobs/", NULL);
  g_autoptr(Response) query = http ("GET", "/metrics/system/history?limit=lots", NULL);
  g_autoptr(Response) param = http ("GET", "/metrics/system/history?colour=red", NULL);
  g_autoptr(Response) pid = http ("GET", "/metrics/process/abc", NULL);
  g_autoptr(Response) big = NULL;
  g_autofree char *huge = NULL;
  g_autoptr(GString) body = g_string_new ("{\"command\": [\"true\"], \"name\": \"");

  assert_error (notjson, 400, "InvalidArgument");
  assert_error (array, 400, "InvalidArgument");
  assert_error (wrong, 422, "InvalidArgument");
  g_assert_nonnull (strstr (wrong->body, "command"));
  assert_error (range, 422, "InvalidArgument");
  g_assert_nonnull (strstr (range->body, "tasks_max"));
  assert_error (unknown, 404, "NotFound");
  g_assert_cmpuint (method->status, ==, 405);
  g_assert_cmpstr (soup_message_headers_get_one (method->headers, "Allow"), ==, "POST, GET, HEAD");
  assert_error (method, 405, "MethodNotAllowed");
  assert_error (query, 422, "InvalidArgument");
  g_assert_nonnull (strstr (query->body, "limit"));
  assert_error (param, 422, "InvalidArgument");
  assert_error (pid, 422, "InvalidArgument");

  /* The path is decoded once: %25 is a percent sign, not an escape. */
  {
    g_autoptr(Response) once = http ("GET", "/jobs/a%2541", NULL);
    assert_error (once, 422, "InvalidArgument");
    g_assert_nonnull (strstr (once->body, "a%41"));
  }

  /* HEAD wherever GET is: the status and headers, no body. */
  {
    const char *heads[] = { "/jobs/", "/metrics/system", "/metrics", "/healthz", "/docs" };
    for (gsize i = 0; i < G_N_ELEMENTS (heads); i++)
      {
        g_autoptr(Response) get = http ("GET", heads[i], NULL);
        g_autoptr(Response) head = http ("HEAD", heads[i], NULL);
        g_assert_cmpuint (head->status, ==, get->status);
        g_assert_true (head->body == NULL || head->body[0] == '\0');
        g_assert_cmpstr (soup_message_headers_get_content_type (head->headers, NULL), ==,
                         soup_message_headers_get_content_type (get->headers, NULL));
      }
  }

  /* Over 64 KiB: 413, whatever it holds. */
  for (int i = 0; i < 70 * 1024; i++)
    g_string_append_c (body, 'x');
  g_string_append (body, "\"}");
  big = http ("POST", "/jobs/", body->str);
  assert_error (big, 413, "TooLarge");
}

static void
test_metrics_and_logs (void)
{
  g_autofree char *id = dbus_create ("{'command': <['sh', '-c', 'echo one; echo two; exec sleep 600']>}");
  g_autofree char *mpath = g_strconcat ("/metrics/jobs/", id, NULL);
  g_autofree char *lpath = g_strconcat ("/logs/", id, "?tail=1", NULL);
  g_autofree char *lall = g_strconcat ("/logs/", id, NULL);
  g_autoptr(GVariant) running = orch_test_wait_state (d, id, "running", 10000);
  g_autoptr(Response) sys = NULL, job = NULL, log = NULL, hist = NULL, del = NULL, clean = NULL;
  g_autoptr(JsonNode) ns = NULL, nj = NULL, nl = NULL, nh = NULL, nc = NULL;
  g_autoptr(GVariant) dsys = NULL, djob = NULL;
  g_autoptr(JsonNode) jsys = NULL, jjob = NULL;

  g_usleep (200000);
  sys = http ("GET", "/metrics/system", NULL);
  g_assert_cmpuint (sys->status, ==, 200);
  ns = parse (sys->body);
  dsys = dbus_call ("org.orchestrator.Metrics", "GetSystem", NULL, NULL);
  jsys = as_json (dsys);
  /* The same keys; the figures move between two samples. */
  g_assert_cmpuint (json_object_get_size (json_node_get_object (ns)), ==,
                    json_object_get_size (json_node_get_object (jsys)));

  job = http ("GET", mpath, NULL);
  g_assert_cmpuint (job->status, ==, 200);
  nj = parse (job->body);
  djob = dbus_call ("org.orchestrator.Metrics", "GetJob", g_variant_new ("(s)", id), NULL);
  jjob = as_json (djob);
  g_assert_cmpuint (json_object_get_size (json_node_get_object (nj)), ==,
                    json_object_get_size (json_node_get_object (jjob)));
  g_assert_true (json_object_has_member (json_node_get_object (nj), "source"));

  for (int i = 0; i < 500; i++)
    {
      g_clear_pointer (&log, response_free);
      g_clear_pointer (&nl, json_node_unref);
      log = http ("GET", lpath, NULL);
      nl = parse (log->body);
      if (strcmp (json_object_get_string_member (json_node_get_object (nl), "text"), "two\n") == 0)
        break;
      g_usleep (5000);
    }
  g_assert_cmpuint (log->status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (nl), "text"), ==, "two\n");
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (nl), "next_offset"), ==, 8);

  hist = http ("GET", "/metrics/system/history?limit=2", NULL);
  g_assert_cmpuint (hist->status, ==, 200);
  nh = parse (hist->body);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (nh)), <=, 2);

  orch_test_discard (d, id);
  del = http ("DELETE", lall, NULL);
  g_assert_cmpuint (del->status, ==, 404); /* Remove dropped the job: no such job */
  clean = http ("POST", "/logs/cleanup", "{\"older_than_s\": 0}");
  g_assert_cmpuint (clean->status, ==, 200);
  nc = parse (clean->body);
  g_assert_true (json_object_has_member (json_node_get_object (nc), "removed"));
  g_assert_true (json_object_has_member (json_node_get_object (nc), "bytes_freed"));
}

/* Prometheus text exposition format 0.0.4: HELP and TYPE before the
 * samples of a family, names and labels of the right shape. */
static void
test_prometheus (void)
{
  g_autofree char *id = dbus_create ("{'command': <['sleep', '600']>, 'name': <'prom \"quoted\"'>}");
  g_autoptr(GVariant) running = orch_test_wait_state (d, id, "running", 10000);
  g_autoptr(Response) r = http ("GET", "/metrics", NULL);
  g_auto(GStrv) lines = NULL;
  g_autoptr(GRegex) sample = g_regex_new ("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\\n]|\\\\[\"\\\\n])*\",?)*\\})? "
                                          "(-?[0-9.eE+-]+|NaN|[+-]Inf)$", 0, 0, NULL);
  g_autoptr(GHashTable) typed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gboolean seen_job = FALSE;

  g_assert_cmpuint (r->status, ==, 200);
  g_assert_true (g_str_has_prefix (soup_message_headers_get_content_type (r->headers, NULL), "text/plain"));
  lines = g_strsplit (r->body, "\n", -1);
  for (char **l = lines; *l; l++)
    {
      g_autoptr(GMatchInfo) m = NULL;
      g_autofree char *name = NULL;
      if (**l == '\0')
        continue;
      if (g_str_has_prefix (*l, "# TYPE "))
        {
          g_auto(GStrv) f = g_strsplit (*l + 7, " ", 2);
          g_assert_true (g_strv_contains ((const char *const[]){ "gauge", "counter", NULL }, f[1]));
          g_hash_table_add (typed, g_strdup (f[0]));
          continue;
        }
      if (g_str_has_prefix (*l, "# HELP "))
        continue;
      if (!g_regex_match (sample, *l, 0, &m))
        g_error ("not a sample line: %s", *l);
      name = g_match_info_fetch (m, 1);
      if (!g_hash_table_contains (typed, name))
        g_error ("%s before its TYPE", name);
      if (g_str_has_prefix (*l, "orchestrator_job_up{") && strstr (*l, id))
        {
          g_assert_nonnull (strstr (*l, "name=\"prom \\\"quoted\\\"\""));
          g_assert_true (g_str_has_suffix (*l, " 1"));
          seen_job = TRUE;
        }
    }
  g_assert_true (seen_job);
  g_assert_true (g_hash_table_contains (typed, "orchestrator_system_cpu_percent"));
  orch_test_discard (d, id);
}

/* data/openapi.json lists exactly the routes the shim serves. */
static void
test_openapi_matches_routes (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "..", "data", "openapi.json", NULL);
  g_autofree char *text = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GHashTable) documented = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GList) paths = NULL;
  JsonObject *po;
  gsize n;
  const OrchRoute *routes = orch_rest_routes (&n);
  /* From the shim itself: Prism would give the document re-serialized. */
  g_autoptr(Response) served = http_to (base, "GET", "/openapi.json", NULL, NULL);
  g_autoptr(Response) docs = http ("GET", "/docs", NULL);

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  root = parse (text);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (root), "openapi"), ==, "3.1.0");
  po = json_object_get_object_member (json_node_get_object (root), "paths");
  paths = json_object_get_members (po);
  for (GList *p = paths; p; p = p->next)
    {
      JsonObject *ops = json_object_get_object_member (po, p->data);
      g_autoptr(GList) methods = json_object_get_members (ops);
      for (GList *m = methods; m; m = m->next)
        {
          g_autofree char *up = g_ascii_strup (m->data, -1);
          if (strcmp (m->data, "parameters") == 0)
            continue;
          g_hash_table_add (documented, g_strdup_printf ("%s %s", up, (const char *) p->data));
        }
    }
  for (gsize i = 0; i < n; i++)
    {
      g_autofree char *key = g_strdup_printf ("%s %s", routes[i].method, routes[i].pattern);
      if (!g_hash_table_remove (documented, key))
        g_error ("%s is served but not in openapi.json", key);
    }
  if (g_hash_table_size (documented) > 0)
    {
      g_autoptr(GList) left = g_hash_table_get_keys (documented);
      g_error ("%s is in openapi.json but not served", (const char *) left->data);
    }

  g_assert_cmpuint (served->status, ==, 200);
  g_assert_cmpstr (served->body, ==, text);
  g_assert_cmpuint (docs->status, ==, 200);
  g_assert_nonnull (strstr (docs->body, "openapi.json"));
  /* Works offline: nothing fetched from elsewhere. */
  g_assert_null (strstr (docs->body, "https://"));
}

static void
test_follow (void)
{
  g_autofree char *id = dbus_create ("{'command': <['sh', '-c', 'echo first; sleep 0.5; echo second']>}");
  g_autofree char *all = g_strconcat ("/logs/", id, "?follow=1&offset=0", NULL);
  g_autofree char *tail = g_strconcat ("/logs/", id, "?follow=1", NULL);
  g_autofree char *id2 = NULL;
  g_autoptr(Response) r2 = NULL;
  g_autoptr(Response) r1 = NULL;

  /* From the end, like tail -f: once "first" is written, only "second"
   * is new.  The stream ends by itself when the job does. */
  for (int i = 0; i < 1000; i++)
    {
      g_autoptr(GVariant) v = dbus_call ("org.orchestrator.Logs", "Read", g_variant_new_parsed ("(%s, @a{sv} {})", id), NULL);
      const char *text = NULL;
      if (v == NULL)
        break;
      g_variant_get (v, "&s", &text);
      if (g_str_has_prefix (text, "first"))
        break;
      g_usleep (2000);
    }
  r1 = http ("GET", tail, NULL);
  g_assert_cmpuint (r1->status, ==, 200);
  g_assert_cmpstr (r1->body, ==, "second\n");

  /* From an offset, of a job that already ended: all of it, then the end. */
  r2 = http ("GET", all, NULL);
  g_assert_cmpuint (r2->status, ==, 200);
  g_assert_cmpstr (r2->body, ==, "first\nsecond\n");
  orch_test_discard (d, id);

  id2 = dbus_create ("{'command': <['true']>}");
  {
    g_autofree char *bad = g_strconcat ("/logs/", id2, "?follow=maybe", NULL);
    g_autoptr(Response) r3 = http ("GET", bad, NULL);
    assert_error (r3, 422, "InvalidArgument");
  }
  orch_test_discard (d, id2);
}

typedef struct {
  GMainLoop *loop;
  SoupWebsocketConnection *conn;
  GError *error;
  char *system;
  gboolean saw_job;
  char *job_id;
  gboolean saw_event; /* the job's exited event, as an "event" frame */
} WsState;

static void
ws_message (SoupWebsocketConnection *c, gint type, GBytes *message, gpointer data)
{
  WsState *st = data;
  g_autoptr(JsonNode) n = NULL;
  gsize len;
  g_autofree char *text = g_strndup (g_bytes_get_data (message, &len), g_bytes_get_size (message));
  const char *t;

  n = parse (text);
  t = json_object_get_string_member (json_node_get_object (n), "type");
  if (strcmp (t, "system") == 0 && st->system == NULL)
    st->system = g_strdup (text);
  if (strcmp (t, "job") == 0 && st->job_id &&
      strcmp (json_object_get_string_member (json_node_get_object (n), "id"), st->job_id) == 0)
    st->saw_job = TRUE;
  if (strcmp (t, "event") == 0 && st->job_id &&
      strcmp (json_object_get_string_member (json_node_get_object (n), "id"), st->job_id) == 0 &&
      strcmp (json_object_get_string_member (
                  json_object_get_object_member (json_node_get_object (n), "data"), "kind"),
              "exited") == 0)
    st->saw_event = TRUE;
  if (st->system && st->saw_job && st->saw_event)
    g_main_loop_quit (st->loop);
}

static void
ws_done (GObject *source, GAsyncResult *res, gpointer data)
{
  WsState *st = data;

  st->conn = soup_session_websocket_connect_finish (SOUP_SESSION (source), res, &st->error);
  g_main_loop_quit (st->loop);
}

static gboolean
ws_timeout (gpointer data)
{
  g_main_loop_quit (((WsState *) data)->loop);
  return G_SOURCE_REMOVE;
}

/* Opens /ws/metrics at @at with @query and @protocols; the handshake's
 * status, and the connection (or NULL) with the protocol it chose. */
static guint
ws_open (const char *at, const char *query, const char *const *protocols,
         SoupWebsocketConnection **ret_conn)
{
  g_autofree char *url = g_strconcat (at, "/ws/metrics", query, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  WsState st = { .loop = g_main_loop_new (NULL, FALSE) };

  soup_session_websocket_connect_async (session, msg, NULL, (char **) protocols, G_PRIORITY_DEFAULT,
                                        NULL, ws_done, &st);
  g_main_loop_run (st.loop);
  g_main_loop_unref (st.loop);
  g_clear_error (&st.error);
  *ret_conn = st.conn;
  return soup_message_get_status (msg);
}

typedef struct {
  GMainLoop *loop;
  const char *id;
  gboolean in_jobs; /* a "jobs" frame listed it */
  gboolean removed; /* a "job_removed" frame named it */
} FeedState;

static void
feed_message (SoupWebsocketConnection *c, gint type, GBytes *message, gpointer data)
{
  FeedState *st = data;
  g_autofree char *text = g_strndup (g_bytes_get_data (message, NULL), g_bytes_get_size (message));
  g_autoptr(JsonNode) n = parse (text);
  JsonObject *o = json_node_get_object (n);
  const char *t = json_object_get_string_member (o, "type");

  if (strcmp (t, "jobs") == 0)
    {
      JsonArray *rows = json_object_get_array_member (o, "data");
      for (guint i = 0; i < json_array_get_length (rows); i++)
        {
          JsonObject *row = json_array_get_object_element (rows, i);
          /* The IO counters too, where /proc has them (the sampler's
           * fallback when the cgroup has no io.stat). */
          gboolean io = !g_file_test ("/proc/self/io", G_FILE_TEST_EXISTS) ||
                        (json_object_has_member (row, "io_read_bytes") &&
                         json_object_has_member (row, "io_write_bytes"));
          if (strcmp (json_object_get_string_member (row, "id"), st->id) == 0 &&
              json_object_has_member (row, "cpu_percent") &&
              json_object_has_member (row, "memory_bytes") && io)
            st->in_jobs = TRUE;
        }
    }
  if (strcmp (t, "job_removed") == 0 &&
      strcmp (json_object_get_string_member (o, "id"), st->id) == 0)
    st->removed = TRUE;
  g_main_loop_quit (st->loop);
}

static gboolean
feed_tick (gpointer data)
{
  g_main_loop_quit (((FeedState *) data)->loop);
  return G_SOURCE_CONTINUE;
}

/* Runs the loop until *@flag, or 20 s. */
static gboolean
run_until (FeedState *st, gboolean *flag)
{
  gint64 end = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  guint timer = g_timeout_add (500, feed_tick, st);

  while (!*flag && g_get_monotonic_time () < end)
    g_main_loop_run (st->loop);
  g_source_remove (timer);
  return *flag;
}

/* The feed carries each tick's figures of the running jobs and the
 * removal of a record, so a page never has to poll /jobs/. */
static void
test_websocket_job_frames (void)
{
  SoupWebsocketConnection *conn = NULL;
  g_autofree char *id = NULL;
  g_autofree char *path = NULL;
  FeedState st = { .loop = g_main_loop_new (NULL, FALSE) };

  g_assert_cmpuint (ws_open (base, "", NULL, &conn), ==, 101);
  g_assert_nonnull (conn);
  id = dbus_create ("{'command': <['sleep', '30']>}");
  st.id = id;
  g_signal_connect (conn, "message", G_CALLBACK (feed_message), &st);
  g_assert_true (run_until (&st, &st.in_jobs));
  {
    g_autofree char *stop = g_strconcat ("/jobs/", id, NULL);
    g_autoptr(Response) r = http ("DELETE", stop, NULL);
    g_assert_cmpuint (r->status, ==, 200);
  }
  path = g_strconcat ("/jobs/", id, "/remove", NULL);
  {
    g_autoptr(Response) r = http ("POST", path, NULL);
    g_autoptr(Response) again = http ("POST", path, NULL);
    g_assert_cmpuint (r->status, ==, 200);
    g_assert_nonnull (strstr (r->body, "\"deleted\":true"));
    assert_error (again, 404, "NotFound");
  }
  g_assert_true (run_until (&st, &st.removed));
  soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_object_unref (conn);
  g_main_loop_unref (st.loop);
}

static void
test_websocket (void)
{
  g_autofree char *url = g_strconcat (base, "/ws/metrics", NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  WsState st = { .loop = g_main_loop_new (NULL, FALSE) };
  guint timer;

  /* Not a handshake: the JSON errors of every other path, not libsoup's
   * HTML page. */
  {
    g_autoptr(Response) plain = http_to (base, "GET", "/ws/metrics", NULL, NULL);
    g_autoptr(Response) post = http_to (base, "POST", "/ws/metrics", "{}", NULL);
    assert_error (plain, 426, "UpgradeRequired");
    g_assert_cmpstr (soup_message_headers_get_one (plain->headers, "Upgrade"), ==, "websocket");
    assert_error (post, 405, "MethodNotAllowed");
    g_assert_cmpstr (soup_message_headers_get_one (post->headers, "Allow"), ==, "GET, HEAD");
  }
  soup_session_websocket_connect_async (session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL, ws_done, &st);
  g_main_loop_run (st.loop);
  g_assert_no_error (st.error);
  g_signal_connect (st.conn, "message", G_CALLBACK (ws_message), &st);
  /* A job change arrives as well as the samples. */
  st.job_id = dbus_create ("{'command': <['true']>}");
  timer = g_timeout_add_seconds (10, ws_timeout, &st);
  g_main_loop_run (st.loop);
  g_source_remove (timer);
  g_assert_nonnull (st.system);
  g_assert_true (st.saw_job);
  g_assert_true (st.saw_event);
  {
    g_autoptr(JsonNode) n = parse (st.system);
    JsonObject *data = json_object_get_object_member (json_node_get_object (n), "data");
    g_assert_true (json_object_has_member (data, "cpu_percent"));
    g_assert_true (json_object_has_member (data, "memory_total"));
  }
  soup_websocket_connection_close (st.conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_object_unref (st.conn);
  orch_test_discard (d, st.job_id);
  g_free (st.job_id);
  g_free (st.system);
  g_main_loop_unref (st.loop);
}

/* A client that sends half a request is dropped after --timeout, and
 * meanwhile others are served. */
static void
test_slow_client (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *at = NULL;
  GSubprocess *p = start_shim ((const char *const[]){ "--listen=127.0.0.1:0", "--timeout=1", NULL }, &at, &error);
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) conn = NULL;
  GSocket *sock;
  const char *half = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
  char buf[256];
  gssize n;
  gint64 start;

  g_assert_no_error (error);
  uri = g_uri_parse (at, G_URI_FLAGS_NONE, &error);
  g_assert_no_error (error);
  conn = g_socket_client_connect_to_host (client, "127.0.0.1", (guint16) g_uri_get_port (uri), NULL, &error);
  g_assert_no_error (error);
  sock = g_socket_connection_get_socket (conn);
  g_assert_cmpint (g_socket_send (sock, half, strlen (half), NULL, &error), ==, (gssize) strlen (half));
  {
    g_autoptr(Response) other = http_to (at, "GET", "/healthz", NULL, NULL);
    g_assert_cmpuint (other->status, ==, 200);
  }
  g_socket_set_timeout (sock, 10);
  start = g_get_monotonic_time ();
  n = g_socket_receive (sock, buf, sizeof buf, NULL, &error);
  /* Closed by the shim (EOF or reset), well before our own 10 s. */
  g_assert_true (n <= 0);
  g_clear_error (&error);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
  stop_shim (p);
}

static void
test_ipv6 (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *at = NULL;
  g_autoptr(GInetAddress) lo6 = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6);
  g_autoptr(GSocket) probe = g_socket_new (G_SOCKET_FAMILY_IPV6, G_SOCKET_TYPE_STREAM, 0, NULL);
  g_autoptr(GSocketAddress) sa = g_inet_socket_address_new (lo6, 0);
  GSubprocess *p;

  if (probe == NULL || !g_socket_bind (probe, sa, TRUE, NULL))
    {
      g_test_skip ("no IPv6 loopback here");
      return;
    }
  p = start_shim ((const char *const[]){ "--listen=[::1]:0", NULL }, &at, &error);
  g_assert_no_error (error);
  g_assert_nonnull (at);
  g_assert_true (g_str_has_prefix (at, "http://[::1]:"));
  {
    g_autoptr(Response) r = http_to (at, "GET", "/healthz", NULL, NULL);
    g_assert_cmpuint (r->status, ==, 200);
  }
  stop_shim (p);
}

/* Started by systemd-socket-activate the way a .socket unit would: the
 * listening socket arrives as fd 3. */
static void
test_socket_activation (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tool = g_find_program_in_path ("systemd-socket-activate");
  g_autoptr(GSocket) probe = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, 0, NULL);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autofree char *data = g_test_build_filename (G_TEST_DIST, "..", "..", "data", NULL);
  g_autofree char *listen = NULL, *at = NULL, *bus = NULL, *dd = NULL, *cfg = NULL;
  GSubprocess *p;
  guint16 port;
  g_autoptr(Response) r = NULL;

  if (tool == NULL)
    {
      g_test_skip ("systemd-socket-activate is not installed");
      return;
    }
  /* A free port: bind, read it back, let it go (the tool binds it next). */
  g_assert_true (g_socket_bind (probe, any, TRUE, &error));
  bound = g_socket_get_local_address (probe, &error);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_socket_close (probe, NULL);
  listen = g_strdup_printf ("127.0.0.1:%u", port);
  at = g_strdup_printf ("http://127.0.0.1:%u", port);
  bus = g_strdup_printf ("--bus-address=%s", d->bus_address);
  dd = g_strdup_printf ("--data-dir=%s", data);
  cfg = g_strdup_printf ("--config=%s", d->config_path);
  p = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error,
                        tool, "-l", listen, "--", g_getenv ("ORCHESTRATOR_REST"), bus, dd, cfg, "--no-auth", NULL);
  g_assert_no_error (error);
  for (int i = 0; i < 200; i++)
    {
      g_autoptr(GSocketClient) c = g_socket_client_new ();
      g_autoptr(GSocketConnection) conn = g_socket_client_connect_to_host (c, "127.0.0.1", port, NULL, NULL);
      if (conn)
        break;
      g_usleep (10000);
    }
  r = http_to (at, "GET", "/healthz", NULL, NULL);
  g_assert_cmpuint (r->status, ==, 200);
  g_subprocess_send_signal (p, SIGTERM);
  g_subprocess_wait (p, NULL, NULL);
  g_object_unref (p);
}

static void
test_healthz (void)
{
  g_autoptr(Response) r = http ("GET", "/healthz", NULL);
  g_autoptr(JsonNode) n = parse (r->body);

  g_assert_cmpuint (r->status, ==, 200);
  g_assert_true (json_object_get_boolean_member (json_node_get_object (n), "daemon"));
}

static void
test_token (void)
{
  g_autofree char *token_file = g_build_filename (d->scratch, "token", NULL);
  const char *token = "s3cret-token-for-the-test-0123456789";
  g_autofree char *arg = NULL;
  g_autofree char *at = NULL;
  GSubprocess *p;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (token_file, token, -1, NULL));
  arg = g_strdup_printf ("--token-file=%s", token_file);
  /* A token others can read is no secret: refused. */
  g_assert_cmpint (chmod (token_file, 0644), ==, 0);
  p = start_shim ((const char *const[]){ "--listen=127.0.0.1:0", arg, NULL }, &at, &error);
  g_assert_no_error (error);
  g_assert_null (at);
  g_assert_cmpint (g_subprocess_get_exit_status (p), !=, 0);
  g_clear_object (&p);
  g_assert_cmpint (chmod (token_file, 0640), ==, 0);
  p = start_shim ((const char *const[]){ "--listen=127.0.0.1:0", arg, NULL }, &at, &error);
  g_assert_no_error (error);
  g_assert_nonnull (at);
  {
    g_autoptr(Response) none = http_to (at, "GET", "/jobs/", NULL, NULL);
    g_autoptr(Response) wrong = http_to (at, "GET", "/jobs/", NULL, "s3cret-token-for-the-test-0123456780");
    g_autoptr(Response) right = http_to (at, "GET", "/jobs/", NULL, token);
    g_autoptr(Response) health = http_to (at, "GET", "/healthz", NULL, NULL);
    g_autoptr(Response) docs = http_to (at, "GET", "/docs", NULL, NULL);
    g_autoptr(Response) spec = http_to (at, "GET", "/openapi.json", NULL, NULL);
    assert_error (none, 401, "PermissionDenied");
    assert_error (wrong, 401, "PermissionDenied");
    g_assert_cmpuint (right->status, ==, 200);
    g_assert_cmpuint (health->status, ==, 200);
    {
      g_autofree char *url = g_strconcat (at, "/ws/metrics", NULL);
      g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
      WsState st = { .loop = g_main_loop_new (NULL, FALSE) };
      soup_session_websocket_connect_async (session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL, ws_done, &st);
      g_main_loop_run (st.loop);
      g_assert_null (st.conn);
      g_assert_nonnull (st.error);
      g_assert_cmpuint (soup_message_get_status (msg), ==, 401);
      g_clear_error (&st.error);
      g_main_loop_unref (st.loop);
    }
    /* A browser offers the token as a subprotocol; only orchestrator.v1
     * is echoed.  Not in the URL, not a wrong one, not without v1. */
    {
      g_autofree char *good = g_strconcat ("orchestrator.token.", token, NULL);
      SoupWebsocketConnection *conn = NULL;
      g_assert_cmpuint (
          ws_open (at, "", (const char *const[]){ "orchestrator.v1", good, NULL }, &conn), ==, 101);
      g_assert_nonnull (conn);
      g_assert_cmpstr (soup_websocket_connection_get_protocol (conn), ==, "orchestrator.v1");
      soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
      g_clear_object (&conn);
      g_assert_cmpuint (
          ws_open (at, "",
                   (const char *const[]){ "orchestrator.v1",
                                          "orchestrator.token.s3cret-token-for-the-test-0123456780",
                                          NULL },
                   &conn),
          ==, 401);
      g_assert_null (conn);
      g_assert_cmpuint (
          ws_open (at, "", (const char *const[]){ "orchestrator.v1", "orchestrator.token.", NULL },
                   &conn),
          ==, 401);
      g_assert_cmpuint (ws_open (at, "?token=s3cret-token-for-the-test-0123456789",
                                 (const char *const[]){ "orchestrator.v1", NULL }, &conn),
                        ==, 401);
      g_assert_null (conn);
      g_assert_cmpuint (ws_open (at, "", (const char *const[]){ good, NULL }, &conn), ==, 400);
      g_assert_null (conn);
    }
    /* The page must load before a token can be typed into it. */
    g_assert_cmpuint (docs->status, ==, 200);
    g_assert_cmpuint (spec->status, ==, 200);
  }
  stop_shim (p);

  /* Beyond loopback without a token: it refuses to start, --no-auth or not. */
  g_clear_pointer (&at, g_free);
  p = start_shim ((const char *const[]){ "--listen=0.0.0.0:0", NULL }, &at, &error);
  g_assert_no_error (error);
  g_assert_null (at);
  g_assert_true (g_subprocess_get_if_exited (p));
  g_assert_cmpint (g_subprocess_get_exit_status (p), !=, 0);
  g_object_unref (p);
}

/* No token file yet: the shim makes one, readable by owner and group
 * only, and requires it; the next start reads the same token. */
static void
test_token_generated (void)
{
  g_autofree char *token_file = g_build_filename (d->scratch, "made-token", NULL);
  g_autofree char *arg = g_strdup_printf ("--token-file=%s", token_file);
  g_autofree char *at = NULL, *token = NULL, *again = NULL;
  g_autoptr(GError) error = NULL;
  GSubprocess *p;
  struct stat st;

  p = start_shim ((const char *const[]){ "--listen=127.0.0.1:0", arg, NULL }, &at, &error);
  g_assert_no_error (error);
  g_assert_nonnull (at);
  g_assert_cmpint (stat (token_file, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0640);
  g_assert_true (g_file_get_contents (token_file, &token, NULL, NULL));
  g_strstrip (token);
  g_assert_cmpuint (strlen (token), ==, 64);
  {
    g_autoptr(Response) none = http_to (at, "GET", "/jobs/", NULL, NULL);
    g_autoptr(Response) right = http_to (at, "GET", "/jobs/", NULL, token);
    g_assert_cmpuint (none->status, ==, 401);
    g_assert_cmpuint (right->status, ==, 200);
  }
  stop_shim (p);
  g_clear_pointer (&at, g_free);
  p = start_shim ((const char *const[]){ "--listen=127.0.0.1:0", arg, NULL }, &at, &error);
  g_assert_nonnull (at);
  g_assert_true (g_file_get_contents (token_file, &again, NULL, NULL));
  g_strstrip (again);
  g_assert_cmpstr (again, ==, token);
  stop_shim (p);
}

/* CORS: nothing by default; the configured origin, and only it, gets
 * the headers and a preflight. */
static void
test_cors (void)
{
  g_autofree char *cfg_path = g_build_filename (d->scratch, "cors.conf", NULL);
  g_autofree char *cfg_arg = g_strdup_printf ("--config=%s", cfg_path);
  g_autofree char *at = NULL;
  g_autoptr(GError) error = NULL;
  GSubprocess *p;

  g_assert_true (g_file_set_contents (cfg_path, "[rest]\ncors_origins=https://ok.example\n", -1, NULL));
  p = start_shim ((const char *const[]){ "--listen=127.0.0.1:0", cfg_arg, NULL }, &at, &error);
  g_assert_no_error (error);
  g_assert_nonnull (at);
  {
    g_autofree char *url = g_strconcat (at, "/jobs/", NULL);
    g_autoptr(SoupMessage) good = soup_message_new ("GET", url);
    g_autoptr(SoupMessage) evil = soup_message_new ("GET", url);
    g_autoptr(SoupMessage) pre = soup_message_new ("OPTIONS", url);
    g_autoptr(GBytes) b1 = NULL, b2 = NULL, b3 = NULL;
    soup_message_headers_replace (soup_message_get_request_headers (good), "Origin", "https://ok.example");
    soup_message_headers_replace (soup_message_get_request_headers (evil), "Origin", "https://evil.example");
    soup_message_headers_replace (soup_message_get_request_headers (pre), "Origin", "https://ok.example");
    b1 = soup_session_send_and_read (session, good, NULL, NULL);
    b2 = soup_session_send_and_read (session, evil, NULL, NULL);
    b3 = soup_session_send_and_read (session, pre, NULL, NULL);
    g_assert_cmpstr (soup_message_headers_get_one (soup_message_get_response_headers (good),
                                                   "Access-Control-Allow-Origin"), ==, "https://ok.example");
    g_assert_null (soup_message_headers_get_one (soup_message_get_response_headers (evil),
                                                 "Access-Control-Allow-Origin"));
    g_assert_cmpuint (soup_message_get_status (pre), ==, 204);
    g_assert_nonnull (soup_message_headers_get_one (soup_message_get_response_headers (pre),
                                                    "Access-Control-Allow-Headers"));
  }
  stop_shim (p);
}

/* /groups/: read and remove a group made on D-Bus. */
static void
test_groups (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) made = g_dbus_connection_call_sync (
      d->conn, "org.orchestrator", "/org/orchestrator", "org.orchestrator.Groups", "Create",
      g_variant_new_parsed (
          "({'template': <{'command': <['sleep', '600']>}>, 'replicas': <uint32 2>},)"),
      NULL, G_DBUS_CALL_FLAGS_NONE, 30000, NULL, &error);
  g_autoptr(Response) list = NULL, got = NULL, del = NULL, again = NULL;
  g_autoptr(JsonNode) rec = NULL, all = NULL;
  g_autofree char *path = NULL;
  const char *id;

  g_assert_no_error (error);
  g_variant_get (made, "(&so)", &id, NULL);
  path = g_strconcat ("/groups/", id, NULL);
  got = http ("GET", path, NULL);
  g_assert_cmpuint (got->status, ==, 200);
  rec = parse (got->body);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (rec), "id"), ==, id);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (rec), "desired"), ==, 2);
  list = http ("GET", "/groups/", NULL);
  g_assert_cmpuint (list->status, ==, 200);
  all = parse (list->body);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (all)), ==, 1);
  del = http ("DELETE", path, NULL);
  g_assert_cmpuint (del->status, ==, 200);
  again = http ("DELETE", path, NULL);
  g_assert_cmpuint (again->status, ==, 404);
}

static gint64
member_int (JsonNode *n, const char *key)
{
  return json_object_get_int_member (json_node_get_object (n), key);
}

/* Polls GET @path until the record's "live" replicas are @want. */
static void
wait_live (const char *path, gint64 want)
{
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  gint64 live = -1;

  while (g_get_monotonic_time () < deadline)
    {
      g_autoptr(Response) r = http ("GET", path, NULL);
      g_autoptr(JsonNode) rec = parse (r->body);
      g_assert_cmpuint (r->status, ==, 200);
      live = member_int (rec, "live");
      if (live == want)
        return;
      g_usleep (100000);
    }
  g_assert_cmpint (live, ==, want);
}

/* POST /groups/, PATCH /groups/{id}, POST /groups/{id}/scale: nested
 * template and autoscale, errors naming the nested field, the replicas
 * really started and stopped. */
static void
test_groups_write (void)
{
  g_autoptr(Response) bad = NULL, unknown = NULL, made = NULL, patched = NULL, scaled = NULL;
  g_autoptr(Response) bad_scale = NULL, out_of_range = NULL, list = NULL, del = NULL;
  g_autoptr(JsonNode) rec = NULL, prec = NULL, srec = NULL, err = NULL, all = NULL;
  g_autofree char *path = NULL, *scale = NULL;
  JsonObject *as;

  bad = http ("POST", "/groups/", "{\"template\": {\"command\": \"sleep 600\"}, \"replicas\": 2}");
  g_assert_cmpuint (bad->status, ==, 422);
  g_assert_nonnull (strstr (bad->body, "template.command"));
  unknown = http ("POST", "/groups/",
                  "{\"template\": {\"command\": [\"sleep\", \"600\"]},"
                  " \"autoscale\": {\"target\": 50, \"max\": 3, \"maximum\": 4}}");
  g_assert_cmpuint (unknown->status, ==, 422);
  g_assert_nonnull (strstr (unknown->body, "autoscale.maximum"));
  /* Nothing was made by either. */
  list = http ("GET", "/groups/", NULL);
  all = parse (list->body);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (all)), ==, 0);

  made = http ("POST", "/groups/",
               "{\"template\": {\"command\": [\"sleep\", \"600\"], \"name\": \"web\"},"
               " \"replicas\": 2, \"max_unavailable\": 1, \"name\": \"web-group\"}");
  g_assert_cmpuint (made->status, ==, 201);
  rec = parse (made->body);
  g_assert_cmpint (member_int (rec, "desired"), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (rec), "name"), ==,
                   "web-group");
  path = g_strconcat ("/groups/", json_object_get_string_member (json_node_get_object (rec), "id"),
                      NULL);
  scale = g_strconcat (path, "/scale", NULL);
  wait_live (path, 2);

  patched = http (
      "PATCH", path,
      "{\"autoscale\": {\"target\": 50, \"min\": 1, \"max\": 3, \"period_ms\": 60000}}");
  g_assert_cmpuint (patched->status, ==, 200);
  prec = parse (patched->body);
  as = json_object_get_object_member (json_node_get_object (prec), "autoscale");
  g_assert_cmpint (json_object_get_int_member (as, "max"), ==, 3);
  g_assert_cmpfloat (json_object_get_double_member (as, "target"), ==, 50.0);

  bad_scale = http ("POST", scale, "{\"replica\": 3}");
  g_assert_cmpuint (bad_scale->status, ==, 422);
  g_assert_nonnull (strstr (bad_scale->body, "replica"));
  out_of_range = http ("POST", scale, "{\"replicas\": 4}");
  g_assert_cmpuint (out_of_range->status, ==, 422);
  scaled = http ("POST", scale, "{\"replicas\": 3}");
  g_assert_cmpuint (scaled->status, ==, 200);
  srec = parse (scaled->body);
  g_assert_cmpint (member_int (srec, "desired"), ==, 3);
  wait_live (path, 3);

  del = http ("DELETE", path, NULL);
  g_assert_cmpuint (del->status, ==, 200);
}

static const OrchTestCase tests[] = { { "/rest/create-get-list", test_create_get_list },
                                      { "/rest/groups", test_groups },
                                      { "/rest/create-parity", test_create_parity },
                                      { "/rest/stop-restart", test_stop_restart },
                                      { "/rest/error-parity", test_error_parity },
                                      { "/rest/limit-reached", test_limit_reached },
                                      { "/rest/shim-errors", test_shim_errors },
                                      { "/rest/metrics-and-logs", test_metrics_and_logs },
                                      { "/rest/prometheus", test_prometheus },
                                      { "/rest/openapi", test_openapi_matches_routes },
                                      { "/rest/healthz", test_healthz },
                                      { "/rest/follow", test_follow },
                                      { "/rest/websocket", test_websocket },
                                      { "/rest/websocket-job-frames", test_websocket_job_frames },
                                      { "/rest/slow-client", test_slow_client },
                                      { "/rest/ipv6", test_ipv6 },
                                      { "/rest/socket-activation", test_socket_activation },
                                      { "/rest/token", test_token },
                                      { "/rest/token-generated", test_token_generated },
                                      { "/rest/cors", test_cors },
                                      { "/rest/set-limits", test_set_limits },
                                      { "/rest/job-events", test_job_events },
                                      { "/rest/groups-write", test_groups_write },
                                      { NULL, NULL } };

static char *
prism_prepare (void)
{
  const char *tool = g_getenv ("ORCH_TEST_PRISM");

  if (tool && !g_file_test (tool, G_FILE_TEST_IS_EXECUTABLE))
    return g_strdup (
        "Prism is not installed (tools/install-deps.sh runs npm ci in tests/contract)");
  return NULL;
}

static void
prism_start (const char *tool)
{
  g_autoptr(GSubprocessLauncher) l = orch_test_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_autoptr(GSocket) s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, 0, NULL);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autofree char *doc = g_test_build_filename (G_TEST_DIST, "..", "..", "data", "openapi.json",
                                                NULL);
  g_autofree char *port = NULL;
  g_autoptr(GError) error = NULL;

  /* A free port, given back for Prism to take. */
  g_assert_true (g_socket_bind (s, any, FALSE, NULL));
  bound = g_socket_get_local_address (s, NULL);
  port = g_strdup_printf ("%u", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  g_socket_close (s, NULL);
  prism = g_subprocess_launcher_spawn (l, &error, tool, "proxy", doc, base, "--host", "127.0.0.1",
                                       "--port", port, "-v", "silent", NULL);
  g_assert_no_error (error);
  via = g_strdup_printf ("http://127.0.0.1:%s", port);
  for (int i = 0; i < 600; i++)
    {
      g_autofree char *url = g_strconcat (via, "/healthz", NULL);
      g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
      g_autoptr(GBytes) b = soup_session_send_and_read (session, msg, NULL, NULL);
      if (b && soup_message_get_status (msg) == 200)
        {
          g_test_message ("Prism validating in front of %s at %s", base, via);
          return;
        }
      g_usleep (100000);
    }
  g_error ("Prism did not start in 60 s");
}

static void
session_new (void)
{
  const char *tool = g_getenv ("ORCH_TEST_PRISM");

  /* Fails a hung request in a minute rather than at the test's timeout. */
  session = soup_session_new_with_options ("timeout", 60, NULL);
  if (tool)
    prism_start (tool);
}

static void
session_free (void)
{
  if (prism)
    {
      g_subprocess_send_signal (prism, SIGTERM);
      g_subprocess_wait (prism, NULL, NULL);
      g_clear_object (&prism);
    }
  g_clear_pointer (&via, g_free);
  g_clear_object (&session);
}

int
main (int argc, char **argv)
{
  const OrchTestProgram program = {
    .daemon = &d,
    .config = "[jobs]\nmax_concurrent=" G_STRINGIFY (
        MAX_CONCURRENT) "\n[metrics]\nsample_interval_ms=100\n",
    .shim = &shim,
    .shim_base = &base,
    .prepare = prism_prepare,
    .setup = session_new,
    .teardown = session_free,
    .tests = tests,
  };

  return orch_test_main (argc, argv, &program);
}
