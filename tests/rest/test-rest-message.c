/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The shim's writers that read a D-Bus reply where it lies (the sd-bus
 * path of GET /jobs/, /metrics and the other reads) against the GVariant
 * writers they stand in for: the same text for the same value.  The
 * messages are built by orch_rest_sdbus_append, which the calls use too. */
#include "rest/orch-rest-jobs-frame.h"
#include "rest/orch-rest-json.h"
#include "rest/orch-rest-message.h"
#include "rest/orch-rest-prometheus.h"
#include "rest/orch-rest-sdbus.h"

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
  int fds[2];
  sd_bus *bus;
} Fixture;

/* An sd-bus connection on one end of a socketpair: enough to build and
 * read messages, never sent. */
static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  (void) data;
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, f->fds), ==, 0);
  g_assert_cmpint (sd_bus_new (&f->bus), >=, 0);
  g_assert_cmpint (sd_bus_set_fd (f->bus, f->fds[0], f->fds[0]), >=, 0);
  g_assert_cmpint (sd_bus_start (f->bus), >=, 0);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  (void) data;
  sd_bus_close (f->bus); /* closes fds[0] */
  sd_bus_unref (f->bus);
  close (f->fds[1]);
}

/* @v as the one argument of a sealed message, read from the start. */
static sd_bus_message *
message_of (Fixture *f, GVariant *v)
{
  sd_bus_message *m = NULL;
  g_autoptr(GVariant) args = g_variant_ref_sink (g_variant_new_tuple (&v, 1));

  g_assert_cmpint (sd_bus_message_new_method_call (f->bus, &m, "a.b", "/a", "a.b", "C"), >=, 0);
  g_assert_cmpint (orch_rest_sdbus_append (m, args), >=, 0);
  g_assert_cmpint (sd_bus_message_seal (m, 1, 0), >=, 0);
  g_assert_cmpint (sd_bus_message_rewind (m, TRUE), >=, 0);
  return m;
}

static void
test_same_json (Fixture *f, gconstpointer data)
{
  /* Those of test-rest-json.c that D-Bus can carry (no maybe, no handle,
   * no empty tuple, no dict entry outside a dictionary). */
  static const char *const values[] = {
    "true",
    "false",
    "byte 7",
    "int16 -3",
    "uint16 65535",
    "int32 -2147483648",
    "uint32 4294967295",
    "int64 -9223372036854775807",
    "uint64 18446744073709551615",
    "0.0",
    "1.0",
    "-2.5",
    "0.1",
    "1e300",
    "3.141592653589793",
    "1e-300",
    "''",
    "'plain'",
    "'quote \" back \\\\ slash'",
    "'tab\\tline\\nret\\rbs\\bff\\f'",
    "'\\u0001\\u001e\\u007f'",
    "'ünïcødé €'",
    "objectpath '/org/orchestrator'",
    "signature 'a{sv}'",
    "<'boxed'>",
    "<<uint32 5>>",
    "@as []",
    "['a', 'b']",
    "@a{sv} {}",
    "{'k': <1>, 'l': <'v'>}",
    "{1: 'one'}",
    "{true: 1}",
    "{byte 3: 'b'}",
    "{int64 -4: 'x'}",
    "{2.5: 'd'}",
    "(1, 'a', [2.0])",
    "[{'id': <'job_20250101_120000_a1b2c3'>, 'pid': <uint32 42>, 'cpu_percent': <12.5>,"
    "  'command': <['sh', '-c', 'echo \"hi\"']>, 'env': <{'A': 'b'}>}]",
    "({'a': <[{'b': <[1, 2]>}]>},)",
    "[[[]], [[1]]]",
    "{'x': 1.0e20}",
    "{uint32 7: 'seven'}",
    "[<1.0>, <-0.0>, <1e-7>, <123456789.0>]",
  };

  (void) data;
  for (gsize i = 0; i < G_N_ELEMENTS (values); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) v = g_variant_parse (NULL, values[i], NULL, NULL, &error);
      g_autoptr(GString) want = g_string_new (NULL);
      g_autoptr(GString) got = g_string_new (NULL);
      sd_bus_message *m;

      g_assert_no_error (error);
      orch_rest_variant_to_json (want, v);
      m = message_of (f, v);
      g_assert_cmpint (orch_rest_message_to_json (got, m), ==, 0);
      /* Moved past the value: nothing left. */
      g_assert_cmpint (sd_bus_message_at_end (m, TRUE), >, 0);
      sd_bus_message_unref (m);
      g_test_message ("%s -> %s", values[i], got->str);
      g_assert_cmpstr (got->str, ==, want->str);
    }
}

/* @jobs (aa{sv}) as Jobs.ListRows sends them for the exposition's keys:
 * a key a record has not is its type's zero. */
static GVariant *
rows_of (GVariant *jobs)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a" ORCH_REST_PROMETHEUS_ROW));
  for (gsize i = 0; i < g_variant_n_children (jobs); i++)
    {
      g_autoptr(GVariant) job = g_variant_get_child_value (jobs, i);
      const char *id = "", *name = "", *state = "";
      guint32 pid = 0, restarts = 0;
      double cpu = 0;
      guint64 memory = 0;

      g_variant_lookup (job, "id", "&s", &id);
      g_variant_lookup (job, "name", "&s", &name);
      g_variant_lookup (job, "state", "&s", &state);
      g_variant_lookup (job, "pid", "u", &pid);
      g_variant_lookup (job, "cpu_percent", "d", &cpu);
      g_variant_lookup (job, "memory_bytes", "t", &memory);
      g_variant_lookup (job, "restarts", "u", &restarts);
      g_variant_builder_add (&b, ORCH_REST_PROMETHEUS_ROW, id, name, state, pid, cpu, memory,
                             restarts);
    }
  return g_variant_ref_sink (g_variant_new_variant (g_variant_builder_end (&b)));
}

/* The exposition from a Jobs.ListRows reply read in place is the one from
 * the same reply as GVariant: every state, a job without a process, one
 * with figures of another width, a label to escape, unknown members. */
static void
test_same_prometheus (Fixture *f, gconstpointer data)
{
  g_autoptr(GVariant) system_dict = g_variant_ref_sink (g_variant_new_parsed (
      "{'cpu_percent': <12.5>, 'memory_total': <uint64 1000>, 'kernel': <'6.1'>, "
      "'load_1': <0.25>, 'cpus': <[1, 2]>, 'process_count': <uint32 9>, 'swap_used': <-0.0>}"));
  OrchRestPromSystem system_v, system_m, *system = &system_v;
  g_autoptr(GVariant) jobs = g_variant_ref_sink (g_variant_new_parsed (
      "[{'id': <'job_1'>, 'name': <'web \"a\"\\nb\\\\'>, 'state': <'running'>, 'pid': <uint32 42>,"
      "  'cpu_percent': <1.5>, 'memory_bytes': <uint64 4096>, 'restarts': <uint32 2>,"
      "  'command': <['sleep', '600']>, 'exit_code': <0>},"
      " {'id': <'job_2'>, 'name': <'done'>, 'state': <'exited'>, 'pid': <uint32 0>,"
      "  'restarts': <uint32 0>},"
      " {'id': <'job_3'>, 'name': <'x'>, 'state': <'stopping'>, 'pid': <uint32 7>,"
      "  'memory_bytes': <uint64 9007199254740993>, 'cpu_percent': <0.0>},"
      " {'id': <'job_4'>, 'name': <''>, 'state': <'paused'>, 'pid': <uint32 8>}]"));
  g_autoptr(GString) want = g_string_new (NULL);
  g_autoptr(GString) got = g_string_new (NULL);
  g_autoptr(GVariant) empty = g_variant_ref_sink (g_variant_new_parsed ("@aa{sv} []"));
  g_autoptr(GVariant) rows = rows_of (jobs);
  g_autoptr(GVariant) rows_empty = rows_of (empty);
  g_autoptr(GString) want_empty = g_string_new (NULL);
  g_autoptr(GString) got_empty = g_string_new (NULL);
  sd_bus_message *m;

  (void) data;
  /* The system's figures the same from the message as from the variant. */
  orch_rest_prom_system_from_variant (&system_v, system_dict);
  m = message_of (f, system_dict);
  g_assert_cmpint (orch_rest_prom_system_from_message (&system_m, m), >=, 0);
  g_assert_cmpint (sd_bus_message_at_end (m, TRUE), >, 0);
  sd_bus_message_unref (m);
  g_assert_cmpmem (&system_v, sizeof system_v, &system_m, sizeof system_m);

  orch_rest_prometheus_write (want, system, jobs);
  m = message_of (f, rows);
  g_assert_true (orch_rest_prometheus_write_message (got, system, m));
  sd_bus_message_unref (m);
  g_assert_cmpstr (got->str, ==, want->str);
  g_assert_nonnull (strstr (
      got->str, "orchestrator_job_cpu_percent{id=\"job_1\",name=\"web \\\"a\\\"\\nb\\\\\"} 1.5\n"));
  /* Values as %.17g writes them, whichever way they are written. */
  for (const char *const *line =
           (const char *const[]){
               "\norchestrator_system_cpu_percent 12.5\n",
               "\norchestrator_system_memory_total_bytes 1000\n",
               "\norchestrator_system_swap_used_bytes -0\n", "\norchestrator_system_processes 9\n",
               "\norchestrator_job_memory_bytes{id=\"job_1\",name=\"web \\\"a\\\"\\nb\\\\\"} 4096\n",
               "\norchestrator_job_memory_bytes{id=\"job_3\",name=\"x\"} 9007199254740992\n",
               "\norchestrator_job_cpu_percent{id=\"job_3\",name=\"x\"} 0\n",
               "\norchestrator_job_restarts_total{id=\"job_2\",name=\"done\"} 0\n",
               "\norchestrator_job_state{id=\"job_4\",name=\"\",state=\"paused\"} 1\n", NULL };
       *line; line++)
    g_assert_nonnull (strstr (got->str, *line));
  g_assert_null (strstr (got->str, "orchestrator_system_load5"));
  g_assert_null (strstr (got->str, "kernel"));

  orch_rest_prometheus_write (want_empty, system, empty);
  m = message_of (f, rows_empty);
  g_assert_true (orch_rest_prometheus_write_message (got_empty, system, m));
  sd_bus_message_unref (m);
  g_assert_cmpstr (got_empty->str, ==, want_empty->str);
}

/* A reply that is not a job list is refused, and nothing is written. */
static void
test_prometheus_refuses (Fixture *f, gconstpointer data)
{
  OrchRestPromSystem system[1] = { 0 };
  g_autoptr(GVariant) wrong = g_variant_ref_sink (g_variant_new_parsed ("['not', 'jobs']"));
  g_autoptr(GVariant) other = g_variant_ref_sink (
      g_variant_new_parsed ("<[('a', 'b', 'c', uint32 1, 0.5, uint64 2, 3)]>"));
  g_autoptr(GString) out = g_string_new (NULL);
  sd_bus_message *m = message_of (f, wrong);

  (void) data;
  g_assert_false (orch_rest_prometheus_write_message (out, system, m));
  g_assert_cmpuint (out->len, ==, 0);
  sd_bus_message_unref (m);
  /* Nor rows of another type (a daemon whose record types changed). */
  m = message_of (f, other);
  g_assert_false (orch_rest_prometheus_write_message (out, system, m));
  g_assert_cmpuint (out->len, ==, 0);
  sd_bus_message_unref (m);
  /* Nor are system figures that are not a dictionary. */
  m = message_of (f, wrong);
  g_assert_cmpint (orch_rest_prom_system_from_message (system, m), <, 0);
  sd_bus_message_unref (m);
}

/* The ws `jobs` frame: the same text from the message as from the
 * GVariant, only the records with a process, only the frame's keys, the
 * IO counters where the record has them. */
static void
test_jobs_frame (Fixture *f, gconstpointer data)
{
  g_autoptr(GVariant) jobs = g_variant_ref_sink (g_variant_new_parsed (
      "[{'id': <'job_a'>, 'state': <'running'>, 'pid': <uint32 41>, 'command': <['sleep', '9']>, "
      "'cpu_percent': <12.5>, 'memory_bytes': <uint64 4096>, 'io_read_bytes': <uint64 7>, "
      "'io_write_bytes': <uint64 18446744073709551615>},"
      " {'id': <'job_b'>, 'state': <'exited'>, 'pid': <uint32 0>, 'cpu_percent': <0.0>},"
      " {'pid': <uint32 42>, 'id': <'job_\"c'>, 'memory_bytes': <uint64 1>, 'cpu_percent': <0.25>}]"));
  g_autoptr(GString) from_variant = g_string_new (NULL);
  g_autoptr(GString) from_message = g_string_new ("kept:");
  sd_bus_message *m = message_of (f, jobs);

  (void) data;
  orch_rest_jobs_frame_from_variant (from_variant, jobs);
  g_assert_cmpstr (from_variant->str, ==,
                   "{\"type\":\"jobs\",\"data\":["
                   "{\"id\":\"job_a\",\"pid\":41,\"cpu_percent\":12.5,\"memory_bytes\":4096,"
                   "\"io_read_bytes\":7,\"io_write_bytes\":18446744073709551615},"
                   "{\"id\":\"job_\\\"c\",\"pid\":42,\"cpu_percent\":0.25,\"memory_bytes\":1}]}");
  g_assert_cmpint (orch_rest_jobs_frame_from_message (from_message, m), ==, 0);
  g_assert_cmpstr (from_message->str + strlen ("kept:"), ==, from_variant->str);
  sd_bus_message_unref (m);
}

/* A record whose figure has another type is refused, the output as it was. */
static void
test_jobs_frame_refuses (Fixture *f, gconstpointer data)
{
  g_autoptr(GVariant) jobs = g_variant_ref_sink (
      g_variant_new_parsed ("[{'id': <'job_a'>, 'pid': <'41'>}]"));
  g_autoptr(GString) out = g_string_new ("kept");
  sd_bus_message *m = message_of (f, jobs);

  (void) data;
  g_assert_cmpint (orch_rest_jobs_frame_from_message (out, m), <, 0);
  g_assert_cmpstr (out->str, ==, "kept");
  sd_bus_message_unref (m);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/rest-message/same-json", Fixture, NULL, fixture_set_up, test_same_json,
              fixture_tear_down);
  g_test_add ("/rest-message/same-prometheus", Fixture, NULL, fixture_set_up, test_same_prometheus,
              fixture_tear_down);
  g_test_add ("/rest-message/prometheus-refuses", Fixture, NULL, fixture_set_up,
              test_prometheus_refuses, fixture_tear_down);
  g_test_add ("/rest-message/jobs-frame", Fixture, NULL, fixture_set_up, test_jobs_frame,
              fixture_tear_down);
  g_test_add ("/rest-message/jobs-frame-refuses", Fixture, NULL, fixture_set_up,
              test_jobs_frame_refuses, fixture_tear_down);
  return g_test_run ();
}
