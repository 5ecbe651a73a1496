/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /schedules/ through the REST shim against a real orchestratord: create,
 * read, change, pause, resume, trigger (a real job), remove, and the
 * errors a client can act on. */
#include "orch-test-daemon.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>

static OrchTestDaemon *d;
static GSubprocess *shim;
static char *base;
static SoupSession *session;

typedef struct {
  guint status;
  JsonNode *json;
  char *body;
} Response;

static void
response_free (Response *r)
{
  g_clear_pointer (&r->json, json_node_unref);
  g_free (r->body);
  g_free (r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Response, response_free)

static Response *
http (const char *method, const char *path, const char *body)
{
  g_autofree char *url = g_strconcat (base, path, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new (method, url);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  Response *r = g_new0 (Response, 1);

  if (body)
    {
      g_autoptr(GBytes) b = g_bytes_new (body, strlen (body));
      soup_message_set_request_body_from_bytes (msg, "application/json", b);
    }
  bytes = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  r->status = soup_message_get_status (msg);
  r->body = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  r->json = json_from_string (r->body, &error);
  g_assert_no_error (error);
  return r;
}

static const char *
member_str (Response *r, const char *key)
{
  g_assert_true (JSON_NODE_HOLDS_OBJECT (r->json));
  return json_object_get_string_member (json_node_get_object (r->json), key);
}

static gint64
member_int (Response *r, const char *key)
{
  return json_object_get_int_member (json_node_get_object (r->json), key);
}

static void
test_crud (void)
{
  g_autoptr(Response) created = http (
      "POST", "/schedules/",
      "{\"name\": \"report\", \"cron\": \"15 6 * * 1-5\", \"timezone\": \"UTC\","
      " \"persistent\": true, \"overlap\": \"queue\","
      " \"job\": {\"command\": [\"/bin/sh\", \"-c\", \"echo report\"], \"name\": \"report\"}}");
  g_autofree char *id = NULL;
  g_autofree char *path = NULL;
  g_autofree char *job_id = NULL;

  g_assert_cmpuint (created->status, ==, 201);
  id = g_strdup (member_str (created, "id"));
  g_assert_true (g_str_has_prefix (id, "sched_"));
  g_assert_cmpstr (member_str (created, "cron"), ==, "15 6 * * 1-5");
  g_assert_cmpstr (member_str (created, "state"), ==, "active");
  g_assert_true (
      json_object_get_boolean_member (json_node_get_object (created->json), "persistent"));
  g_assert_cmpint (member_int (created, "next_run_at") %
                       (G_GINT64_CONSTANT (86400) * G_USEC_PER_SEC),
                   ==, (6 * 3600 + 15 * 60) * G_GINT64_CONSTANT (1000000));
  path = g_strconcat ("/schedules/", id, NULL);

  {
    g_autoptr(Response) list = http ("GET", "/schedules/?name=report", NULL);
    g_assert_cmpuint (list->status, ==, 200);
    g_assert_cmpuint (json_array_get_length (json_node_get_array (list->json)), ==, 1);
  }
  {
    g_autoptr(Response) got = http ("GET", path, NULL);
    g_assert_cmpuint (got->status, ==, 200);
    g_assert_cmpstr (member_str (got, "overlap"), ==, "queue");
  }
  {
    g_autoptr(Response) patched = http (
        "PATCH", path, "{\"calendar\": \"*-*-* 22:00:00 UTC\", \"overlap\": \"skip\"}");
    g_assert_cmpuint (patched->status, ==, 200);
    g_assert_cmpstr (member_str (patched, "calendar"), ==, "*-*-* 22:00:00 UTC");
    g_assert_false (json_object_has_member (json_node_get_object (patched->json), "cron"));
    g_assert_cmpstr (member_str (patched, "overlap"), ==, "skip");
    g_assert_cmpstr (member_str (patched, "name"), ==, "report");
  }
  {
    g_autofree char *p = g_strconcat (path, "/pause", NULL);
    g_autoptr(Response) paused = http ("POST", p, NULL);
    g_assert_cmpuint (paused->status, ==, 200);
    g_assert_cmpstr (member_str (paused, "state"), ==, "paused");
  }
  {
    g_autofree char *p = g_strconcat (path, "/resume", NULL);
    g_autoptr(Response) resumed = http ("POST", p, NULL);
    g_assert_cmpuint (resumed->status, ==, 200);
    g_assert_cmpstr (member_str (resumed, "state"), ==, "active");
  }
  {
    g_autofree char *p = g_strconcat (path, "/trigger", NULL);
    g_autoptr(Response) trig = http ("POST", p, NULL);
    g_autoptr(GVariant) done = NULL;
    g_assert_cmpuint (trig->status, ==, 201);
    job_id = g_strdup (member_str (trig, "id"));
    g_assert_cmpstr (member_str (trig, "schedule_id"), ==, id);
    done = orch_test_wait_state (d, job_id, "exited", 20000);
    g_assert_cmpstr (orch_test_rec_str (done, "schedule_id"), ==, id);
  }
  {
    g_autoptr(Response) del = http ("DELETE", path, NULL);
    g_autoptr(Response) gone = http ("GET", path, NULL);
    g_assert_cmpuint (del->status, ==, 200);
    g_assert_true (json_object_get_boolean_member (json_node_get_object (del->json), "deleted"));
    g_assert_cmpuint (gone->status, ==, 404);
  }
  orch_test_discard (d, job_id);
}

static void
test_errors (void)
{
  static const struct {
    const char *body;
    guint status;
    const char *needle;
  } cases[] = {
    { "{\"calendar\": \"Mon *-*-* 25:00\", \"job\": {\"command\": [\"/bin/true\"]}}", 422,
      "character" },
    { "{\"cron\": \"* * *\", \"job\": {\"command\": [\"/bin/true\"]}}", 422, "cron" },
    { "{\"interval_s\": 10}", 422, "job" },
    { "{\"interval_s\": 10, \"persistent\": \"yes\", \"job\": {\"command\": [\"/bin/true\"]}}", 422,
      "persistent" },
    { "{\"interval_s\": 10, \"job\": {\"command\": \"true\"}}", 422, "command" },
    { "{\"interval_s\": 10, \"job\": {\"command\": [\"/no/such/program\"]}}", 422,
      "/no/such/program" },
    { "[1]", 400, "object" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(Response) r = http ("POST", "/schedules/", cases[i].body);
      if (r->status != cases[i].status || !strstr (r->body, cases[i].needle))
        g_error ("case %u: %u %s", i, r->status, r->body);
    }
  {
    g_autoptr(Response) r = http ("POST", "/schedules/sched_20260101_000000_000000/trigger", NULL);
    g_assert_cmpuint (r->status, ==, 404);
  }
  {
    g_autoptr(Response) list = http ("GET", "/schedules/", NULL);
    g_assert_cmpuint (json_array_get_length (json_node_get_array (list->json)), ==, 0);
  }
}

static const OrchTestCase tests[] = { { "/rest-schedules/crud", test_crud },
                                      { "/rest-schedules/errors", test_errors },
                                      { NULL, NULL } };

static void
session_new (void)
{
  session = soup_session_new ();
}

static void
session_free (void)
{
  g_clear_object (&session);
}

int
main (int argc, char **argv)
{
  const OrchTestProgram program = {
    .daemon = &d,
    .shim = &shim,
    .shim_base = &base,
    .setup = session_new,
    .teardown = session_free,
    .tests = tests,
  };

  return orch_test_main (argc, argv, &program);
}
