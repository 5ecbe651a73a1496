/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The proactive memory warning (memory_forecast events) and group
 * forecasts, through the bus on real jobs: a job whose memory grows gets
 * one event, however many rounds see it; a flat one none; a group's
 * forecast is its members' memory summed. */
#include "orch-test-daemon.h"
#include "basic/orch-error.h"

#include <string.h>

static OrchTestDaemon *d;

#define INTERVAL_MS 100
#define MIB (1024.0 * 1024.0)

static GVariant *
call_iface (const char *iface, const char *method, GVariant *args, GError **error)
{
  g_autoptr(GVariant) r = g_dbus_connection_call_sync (
      d->conn, "org.orchestrator", "/org/orchestrator", iface, method, args, NULL,
      G_DBUS_CALL_FLAGS_NONE, 30000, NULL, error);
  return r && g_variant_n_children (r) ? g_variant_get_child_value (r, 0) : NULL;
}

/* The memory_forecast events of @id. */
static GPtrArray *
warnings (const char *id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) evs = call_iface (
      "org.orchestrator.Jobs", "GetEvents",
      g_variant_new ("(s@a{sv})", id, g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0)),
      &error);
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);

  g_assert_no_error (error);
  for (gsize i = 0; i < g_variant_n_children (evs); i++)
    {
      g_autoptr(GVariant) e = g_variant_get_child_value (evs, i);
      const char *k = NULL;

      if (g_variant_lookup (e, "kind", "&s", &k) && strcmp (k, "memory_forecast") == 0)
        g_ptr_array_add (out, g_variant_ref (e));
    }
  return out;
}

static double
job_memory (const char *id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) s = call_iface ("org.orchestrator.Metrics", "GetJob",
                                      g_variant_new ("(s)", id), &error);
  guint64 v = 0;

  g_assert_no_error (error);
  g_variant_lookup (s, "memory_bytes", "t", &v);
  return (double) v;
}

/* 4 MiB more every 100 ms for a minute (2.4 GiB at most: the test ends
 * it long before), then sleeps. */
#define LEAKY                                                                                   \
  "import time\\nchunks = []\\nfor i in range(600):\\n    chunks.append(bytearray(4 << 20))\\n" \
  "    time.sleep(0.1)\\ntime.sleep(600)"

static void
test_leaky_warns_once (void)
{
  g_autofree char *limited = g_strdup_printf (
      "{'command': <['python3', '-c', '%s']>, 'memory_max': <uint64 1073741824>}", LEAKY);
  g_autofree char *plain = g_strdup_printf ("{'command': <['python3', '-c', '%s']>}", LEAKY);
  g_autoptr(GError) refused = NULL;
  g_autofree char *id = orch_test_create (d, limited, &refused);
  gboolean own = id != NULL;
  g_autoptr(GPtrArray) seen = NULL;
  g_autoptr(GVariant) data = NULL;
  gint64 until = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  guint64 limit = 0, at = 0, mem = 0;
  guint32 before = 0;
  const char *source = NULL;
  double conf = -1;

  /* Where the backend cannot limit memory, the host's available memory
   * is the limit: the daemon here warns a day ahead, and a job growing
   * 40 MB/s is forecast to fill this host well within that. */
  if (id == NULL)
    {
      g_test_message ("memory_max refused here (%s): the host's memory is the limit",
                      refused->message);
      id = orch_test_start (d, plain, "running", 10000);
    }
  g_variant_unref (orch_test_wait_state (d, id, "running", 10000));
  do
    {
      g_clear_pointer (&seen, g_ptr_array_unref);
      g_usleep (200 * 1000);
      seen = warnings (id);
    }
  while (seen->len == 0 && g_get_monotonic_time () < until);
  g_assert_cmpuint (seen->len, ==, 1);
  data = g_variant_lookup_value (seen->pdata[0], "data", G_VARIANT_TYPE_VARDICT);
  g_assert_true (g_variant_lookup (data, "limit", "t", &limit));
  g_assert_true (g_variant_lookup (data, "limit_source", "&s", &source));
  g_assert_true (g_variant_lookup (data, "exhaustion_at", "t", &at));
  g_assert_true (g_variant_lookup (data, "memory_bytes", "t", &mem));
  g_assert_true (g_variant_lookup (data, "confidence", "d", &conf));
  g_assert_true (g_variant_lookup (data, "warn_before_s", "u", &before));
  g_test_message ("warned: %.0f MiB now, limit %.0f MiB (%s), reached in %.0f s, p=%.2f", mem / MIB,
                  limit / MIB, source, ((double) at - g_get_real_time ()) / 1e6, conf);
  g_assert_cmpstr (source, ==, own ? "memory_max" : "host_available");
  g_assert_cmpuint (mem, >, 0);
  g_assert_cmpuint (mem, <, limit);
  /* Within the warning time from when it was said. */
  g_assert_cmpuint (at, >, (guint64) g_get_real_time () - 60 * G_USEC_PER_SEC);
  g_assert_cmpuint (at, <=, (guint64) g_get_real_time () + (guint64) before * G_USEC_PER_SEC);
  g_assert_cmpfloat (conf, >=, 0.0);
  g_assert_cmpfloat (conf, <=, 1.0);
  /* Still growing, still forecast to cross: later rounds (one a second)
   * do not say it again. */
  g_usleep (4 * G_USEC_PER_SEC);
  g_clear_pointer (&seen, g_ptr_array_unref);
  seen = warnings (id);
  g_assert_cmpuint (seen->len, ==, 1);
  orch_test_discard (d, id);
}

/* Flat memory: no warning. */
static void
test_flat_job_quiet (void)
{
  g_autofree char *id = orch_test_start (
      d,
      "{'command': <['python3', '-c', 'import time\\nb = bytearray(20 << 20)\\ntime.sleep(600)']>}",
      "running", 10000);
  g_autoptr(GPtrArray) seen = NULL;

  /* Enough samples (20 at least) and rounds to have been looked at. */
  g_usleep (6 * G_USEC_PER_SEC);
  seen = warnings (id);
  g_assert_cmpuint (seen->len, ==, 0);
  orch_test_discard (d, id);
}

/* 1 MiB more every 100 ms (600 MiB at most), then sleeps: the host's
 * memory (the limit without memory_max) is tens of minutes away. */
#define SLOW_LEAK                                                                               \
  "import time\\nchunks = []\\nfor i in range(600):\\n    chunks.append(bytearray(1 << 20))\\n" \
  "    time.sleep(0.1)\\ntime.sleep(600)"

/* A job's own memory_warn_before_s instead of the daemon's (a day
 * here): a day ahead (80000 s) warns and says so; 60 s does not, the
 * crossing being further off; 0 never.  All three grow alike. */
static void
test_per_job_warn_before (void)
{
  const guint32 before[3] = { 80000, 60, 0 };
  /* Not g_autofree: on an array it frees the first element only. */
  char *ids[3] = { NULL };
  g_autoptr(GPtrArray) seen = NULL;
  g_autoptr(GVariant) data = NULL;
  g_autoptr(GVariant) rec = NULL;
  g_autoptr(GError) error = NULL;
  /* Generous: the sanitizer build under load samples slowly. */
  gint64 until = g_get_monotonic_time () + 150 * G_USEC_PER_SEC;
  guint32 said = 0, shown = 0;

  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *spec = g_strdup_printf ("{'command': <['python3', '-c', '%s']>, "
                                               "'memory_warn_before_s': <uint32 %u>}",
                                               SLOW_LEAK, before[i]);

      ids[i] = orch_test_start (d, spec, "running", 10000);
    }
  rec = call_iface ("org.orchestrator.Jobs", "Get", g_variant_new ("(s)", ids[0]), &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_lookup (rec, "memory_warn_before_s", "u", &shown));
  g_assert_cmpuint (shown, ==, 80000);
  do
    {
      g_clear_pointer (&seen, g_ptr_array_unref);
      g_usleep (200 * 1000);
      seen = warnings (ids[0]);
    }
  while (seen->len == 0 && g_get_monotonic_time () < until);
  g_assert_cmpuint (seen->len, ==, 1);
  data = g_variant_lookup_value (seen->pdata[0], "data", G_VARIANT_TYPE_VARDICT);
  g_assert_true (g_variant_lookup (data, "warn_before_s", "u", &said));
  g_assert_cmpuint (said, ==, 80000);
  /* The others have been looked at as often (one round a second), and
   * a few rounds more. */
  g_usleep (3 * G_USEC_PER_SEC);
  for (guint i = 1; i < 3; i++)
    {
      g_clear_pointer (&seen, g_ptr_array_unref);
      seen = warnings (ids[i]);
      g_assert_cmpuint (seen->len, ==, 0);
    }
  for (guint i = 0; i < 3; i++)
    {
      orch_test_discard (d, ids[i]);
      g_free (ids[i]);
    }
}

static char *
create_group (const char *options_text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) r = g_dbus_connection_call_sync (
      d->conn, "org.orchestrator", "/org/orchestrator", "org.orchestrator.Groups", "Create",
      g_variant_new ("(@a{sv})", g_variant_new_parsed (options_text)), NULL, G_DBUS_CALL_FLAGS_NONE,
      30000, NULL, &error);
  char *id = NULL;

  g_assert_no_error (error);
  g_variant_get (r, "(so)", &id, NULL);
  return id;
}

/* The live replicas of @group. */
static GPtrArray *
replicas (const char *group)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) jobs = call_iface ("org.orchestrator.Jobs", "List",
                                         g_variant_new_parsed ("(@a{sv} {},)"), &error);
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);

  g_assert_no_error (error);
  for (gsize i = 0; i < g_variant_n_children (jobs); i++)
    {
      g_autoptr(GVariant) j = g_variant_get_child_value (jobs, i);
      const char *g = NULL, *st = NULL, *id = NULL;

      if (g_variant_lookup (j, "group_id", "&s", &g) && strcmp (g, group) == 0 &&
          g_variant_lookup (j, "state", "&s", &st) && strcmp (st, "running") == 0 &&
          g_variant_lookup (j, "id", "&s", &id))
        g_ptr_array_add (out, g_strdup (id));
    }
  return out;
}

/* Two replicas holding 60 MiB each: the group's forecast is their sum. */
static void
test_group_forecast (void)
{
  g_autofree char *group = create_group (
      "{'template': <{'command': <['python3', '-c', 'import time\\nb = bytearray(60 << 20)\\n"
      "b[::4096] = b\"x\" * len(b[::4096])\\ntime.sleep(600)']>, 'name': <'fc-group'>}>, "
      "'replicas': <uint32 2>}");
  g_autoptr(GPtrArray) ids = NULL;
  g_autoptr(GVariant) fc = NULL;
  g_autoptr(GVariant) mem = NULL;
  g_autoptr(GVariant) pred = NULL;
  g_autoptr(GError) error = NULL;
  gint64 until = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  double sum = 0;
  const double *p;
  gsize n;
  const char *id_back = NULL;

  do
    {
      g_clear_pointer (&ids, g_ptr_array_unref);
      g_usleep (200 * 1000);
      ids = replicas (group);
      sum = 0;
      for (guint i = 0; i < ids->len; i++)
        sum += job_memory (ids->pdata[i]);
    }
  while ((ids->len < 2 || sum < 2 * 60 * MIB) && g_get_monotonic_time () < until);
  g_assert_cmpuint (ids->len, ==, 2);
  g_assert_cmpfloat (sum, >=, 2 * 60 * MIB);
  /* A few seconds of flat history for both. */
  g_usleep (4 * G_USEC_PER_SEC);
  fc = call_iface ("org.orchestrator.Metrics", "GetJobForecast",
                   g_variant_new_parsed ("(%s, {'horizon_s': <uint32 60>})", group), &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_lookup (fc, "id", "&s", &id_back));
  g_assert_cmpstr (id_back, ==, group);
  mem = g_variant_lookup_value (fc, "memory_bytes", G_VARIANT_TYPE_VARDICT);
  pred = g_variant_lookup_value (mem, "predicted", G_VARIANT_TYPE ("ad"));
  p = g_variant_get_fixed_array (pred, &n, sizeof (double));
  g_assert_cmpuint (n, >, 0);
  g_test_message ("group of 2: %.1f MiB now, forecast %.1f MiB", sum / MIB, p[0] / MIB);
  /* The sum, not one member's: within a fifth of it. */
  g_assert_cmpfloat (p[0], >, 0.8 * sum);
  g_assert_cmpfloat (p[0], <, 1.2 * sum);
  g_assert_cmpfloat (p[n - 1], >, 0.8 * sum);
  g_assert_cmpfloat (p[n - 1], <, 1.2 * sum);
  g_clear_error (&error);
  g_variant_unref (
      call_iface ("org.orchestrator.Groups", "Remove",
                  g_variant_new ("(s@a{sv})", group,
                                 g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0)),
                  &error)
          ?: g_variant_new_boolean (TRUE));
  g_assert_no_error (error);
}

static void
test_group_not_found (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) fc = call_iface (
      "org.orchestrator.Metrics", "GetJobForecast",
      g_variant_new_parsed ("('group_20200101_000000_abcdef', @a{sv} {})"), &error);

  g_autofree char *remote = NULL;

  g_assert_null (fc);
  g_assert_true (g_dbus_error_is_remote_error (error));
  remote = g_dbus_error_get_remote_error (error);
  g_assert_cmpstr (remote, ==, "org.orchestrator.Error.NotFound");
}

static const OrchTestCase tests[] = { { "/forecast-watch/leaky-warns-once", test_leaky_warns_once },
                                      { "/forecast-watch/flat-job-quiet", test_flat_job_quiet },
                                      { "/forecast-watch/group", test_group_forecast },
                                      { "/forecast-watch/group-not-found", test_group_not_found },
                                      { "/forecast-watch/per-job-warn-before",
                                        test_per_job_warn_before },
                                      { NULL, NULL } };

int
main (int argc, char **argv)
{
  const OrchTestProgram program = {
    .daemon = &d,
    .config = "[metrics]\nsample_interval_ms=" G_STRINGIFY (
        INTERVAL_MS) "\njob_history_size=600\n"
                     "[events]\nmemory_warn_before_s=86400\nmemory_forecast_interval_s=1\n",
    .tests = tests,
  };

  return orch_test_main (argc, argv, &program);
}
