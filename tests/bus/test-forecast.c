/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Metrics.GetJobForecast / GetSystemForecast and Jobs.GetRecommendation
 * through the bus, on real jobs: a leaky allocator must be forecast to
 * grow and to reach its memory_max; recommendations cover what jobs of the
 * same name used. */
#include "orch-test-daemon.h"

#include <math.h>

static OrchTestDaemon *d;

/* The daemon samples every 100 ms; "1s" after the backend: every
 * second, for the leak's test alone. */
static guint interval_ms = 100;
#define MIB (1024.0 * 1024.0)

static GVariant *
call (const char *iface, const char *method, GVariant *args, GError **error)
{
  g_autoptr(GVariant) r = g_dbus_connection_call_sync (
      d->conn, "org.orchestrator", "/org/orchestrator", iface, method, args, NULL,
      G_DBUS_CALL_FLAGS_NONE, 30000, NULL, error);
  return r ? g_variant_get_child_value (r, 0) : NULL;
}

static void
must_lookup (GVariant *rec, const char *key, const char *type, gpointer out)
{
  if (!g_variant_lookup (rec, key, type, out))
    g_error ("no “%s” (%s)", key, type);
}

static guint64
u64 (GVariant *rec, const char *key)
{
  guint64 v = 0;

  must_lookup (rec, key, "t", &v);
  return v;
}

static guint32
u32 (GVariant *rec, const char *key)
{
  guint32 v = 0;

  must_lookup (rec, key, "u", &v);
  return v;
}

/* A copy: the child's data may go with it. */
static double *
doubles (GVariant *dict, const char *key, gsize *n)
{
  g_autoptr(GVariant) v = g_variant_lookup_value (dict, key, G_VARIANT_TYPE ("ad"));
  const double *a;

  g_assert_nonnull (v);
  a = g_variant_get_fixed_array (v, n, sizeof (double));
  return g_memdup2 (a, *n * sizeof (double));
}

static double
job_memory (const char *id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) s = call ("org.orchestrator.Metrics", "GetJob", g_variant_new ("(s)", id),
                                &error);

  g_assert_no_error (error);
  return (double) u64 (s, "memory_bytes");
}

/* Intervals nest around the prediction, point by point. */
static void
check_series (GVariant *series, gsize want_points)
{
  gsize n, n2;
  g_autofree double *p = doubles (series, "predicted", &n);
  g_autofree double *lo80 = doubles (series, "lower_80", &n2);
  g_autofree double *hi80 = doubles (series, "upper_80", &n2);
  g_autofree double *lo95 = doubles (series, "lower_95", &n2);
  g_autofree double *hi95 = doubles (series, "upper_95", &n2);
  const char *method = NULL;

  g_assert_cmpuint (n, ==, want_points);
  g_assert_true (g_variant_lookup (series, "method", "&s", &method));
  g_assert_true (
      g_str_has_prefix (method, "naive") || g_str_has_prefix (method, "seasonal-naive") ||
      g_str_has_prefix (method, "moving-average") || g_str_has_prefix (method, "holt") ||
      g_str_has_prefix (method, "seasonal-mean") || g_str_has_prefix (method, "combination"));
  for (gsize i = 0; i < n; i++)
    {
      g_assert_cmpfloat (lo95[i], <=, lo80[i] + 1e-6);
      g_assert_cmpfloat (lo80[i], <=, p[i] + 1e-6);
      g_assert_cmpfloat (p[i], <=, hi80[i] + 1e-6);
      g_assert_cmpfloat (hi80[i], <=, hi95[i] + 1e-6);
    }
}

/* 8 MiB more every 100 ms, up to 400 MiB, then sleeps. */
#define LEAKY                                                                                  \
  "import time\\nchunks = []\\nfor i in range(50):\\n    chunks.append(bytearray(8 << 20))\\n" \
  "    time.sleep(0.1)\\ntime.sleep(600)"

static void
test_leaky_job (void)
{
  g_autofree char *plain = g_strdup_printf ("{'command': <['python3', '-c', '%s']>}", LEAKY);
  g_autofree char *spec = g_strdup_printf (
      "{'command': <['python3', '-c', '%s']>, 'memory_max': <uint64 536870912>}", LEAKY);
  g_autoptr(GError) refused = NULL;
  g_autofree char *id = orch_test_create (d, spec, &refused);
  /* Where limits cannot be set (the none backend, no memory controller),
   * the host's memory is the limit, too far away to be reached here. */
  gboolean limited = id != NULL;
  g_autoptr(GVariant) fc = NULL;
  g_autoptr(GVariant) mem = NULL;
  g_autoptr(GVariant) cpu = NULL;
  g_autoptr(GError) error = NULL;
  gint64 until = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  double now_mem = 0;
  g_autofree double *p = NULL;
  gsize n;
  guint64 at = 0, limit = 0;
  const char *source = NULL;
  double conf = -1;

  if (!limited)
    {
      g_assert_nonnull (strstr (refused->message, "controller")
                            ? refused->message
                            : strstr (refused->message, "backend"));
      g_test_message ("memory_max refused here: %s", refused->message);
      id = orch_test_start (d, plain, "running", 10000);
    }
  g_variant_unref (orch_test_wait_state (d, id, "running", 10000));
  /* A few seconds of growth, however loaded the machine is. */
  while (g_get_monotonic_time () < until && (now_mem = job_memory (id)) < 120 * MIB)
    g_usleep (interval_ms * 1000);
  g_assert_cmpfloat (now_mem, >=, 120 * MIB);
  /* And still growing when asked: a loaded machine may stall the loop for
   * a while, and a forecast of a stalled series is rightly flat. */
  {
    double base = now_mem;
    while (g_get_monotonic_time () < until && (now_mem = job_memory (id)) < base + 24 * MIB)
      g_usleep (interval_ms * 1000);
    g_assert_cmpfloat (now_mem, >=, base + 24 * MIB);
  }
  fc = call ("org.orchestrator.Metrics", "GetJobForecast",
             g_variant_new_parsed ("(%s, {'horizon_s': <uint32 120>, 'step_s': <uint32 1>})", id),
             &error);
  g_assert_no_error (error);
  mem = g_variant_lookup_value (fc, "memory_bytes", G_VARIANT_TYPE_VARDICT);
  cpu = g_variant_lookup_value (fc, "cpu_percent", G_VARIANT_TYPE_VARDICT);
  g_assert_nonnull (mem);
  g_assert_nonnull (cpu);
  check_series (mem, 120);
  check_series (cpu, 120);
  p = doubles (mem, "predicted", &n);
  g_test_message ("memory now %.0f MiB, in 10 s %.0f MiB", now_mem / MIB, p[9] / MIB);
  /* The forecast says it grows. */
  g_assert_cmpfloat (p[9], >, now_mem * 1.1);
  g_assert_true (g_variant_lookup (fc, "memory_limit", "t", &limit));
  g_assert_true (g_variant_lookup (fc, "memory_limit_source", "&s", &source));
  if (!limited)
    {
      g_assert_cmpstr (source, ==, "host_available");
      g_assert_cmpuint (limit, >, now_mem);
      if (g_variant_lookup (fc, "memory_exhaustion_at", "t", &at))
        g_test_message ("host memory forecast to run out in %.0f s",
                        (double) ((gint64) at - g_get_real_time ()) / G_USEC_PER_SEC);
      /* The same question for a limit given with the call. */
      g_clear_pointer (&fc, g_variant_unref);
      fc = call ("org.orchestrator.Metrics", "GetJobForecast",
                 g_variant_new_parsed ("(%s, {'horizon_s': <uint32 120>, 'memory_limit': <%t>})",
                                       id, (guint64) (now_mem + 100 * MIB)),
                 &error);
      g_assert_no_error (error);
      g_assert_true (g_variant_lookup (fc, "memory_limit_source", "&s", &source));
      g_assert_cmpstr (source, ==, "option");
      g_assert_true (g_variant_lookup (fc, "memory_exhaustion_at", "t", &at));
      g_assert_cmpint ((gint64) at, <, g_get_real_time () + 120 * G_USEC_PER_SEC);
      orch_test_discard (d, id);
      return;
    }
  g_assert_cmpuint (limit, ==, (guint64) (512 * MIB));
  g_assert_cmpstr (source, ==, "memory_max");
  g_assert_true (g_variant_lookup (fc, "memory_exhaustion_at", "t", &at));
  g_assert_true (g_variant_lookup (fc, "memory_exhaustion_confidence", "d", &conf));
  g_test_message ("exhaustion in %.1f s, confidence %.2f",
                  (double) ((gint64) at - g_get_real_time ()) / G_USEC_PER_SEC, conf);
  /* 80 MiB/s from >= 120 MiB: the limit is at most 5 s away at the rate
   * the job allocates; a loaded machine slows it, so allow 2 minutes. */
  g_assert_cmpint ((gint64) at, >, g_get_real_time () - 5 * G_USEC_PER_SEC);
  g_assert_cmpint ((gint64) at, <, g_get_real_time () + 120 * G_USEC_PER_SEC);
  g_assert_cmpfloat (conf, >, 0.5);
  orch_test_discard (d, id);
}

static void
test_idle_job (void)
{
  g_autofree char *id = orch_test_start (d, "{'command': <['sleep', '600']>}", "running", 10000);
  g_autoptr(GVariant) fc = NULL;
  g_autoptr(GVariant) mem = NULL;
  g_autoptr(GError) error = NULL;
  const char *source = NULL;
  guint64 at = 0;

  g_usleep (15 * interval_ms * 1000);
  fc = call ("org.orchestrator.Metrics", "GetJobForecast",
             g_variant_new_parsed ("(%s, @a{sv} {})", id), &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_lookup (fc, "memory_limit_source", "&s", &source));
  g_assert_cmpstr (source, ==, "host_available");
  /* Flat memory never reaches the host's free memory, and follows no
   * trend. */
  g_assert_false (g_variant_lookup (fc, "memory_exhaustion_at", "t", &at));
  mem = g_variant_lookup_value (fc, "memory_bytes", G_VARIANT_TYPE_VARDICT);
  g_assert_nonnull (mem);
  g_assert_false (g_variant_lookup (mem, "trend_per_s", "d", NULL));
  orch_test_discard (d, id);
}

static void
test_system (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) fc = call ("org.orchestrator.Metrics", "GetSystemForecast",
                                 g_variant_new_parsed ("({'horizon_s': <uint32 60>},)"), &error);
  g_autoptr(GVariant) mem = NULL;
  const char *source = NULL;

  g_assert_no_error (error);
  mem = g_variant_lookup_value (fc, "memory_bytes", G_VARIANT_TYPE_VARDICT);
  check_series (mem, 60);
  g_assert_true (g_variant_lookup (fc, "memory_limit_source", "&s", &source));
  g_assert_cmpstr (source, ==, "memory_available");
}

static void
expect_error (const char *iface, const char *method, GVariant *args, const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) r = call (iface, method, args, &error);
  g_autofree char *remote = NULL;

  g_assert_null (r);
  remote = g_dbus_error_get_remote_error (error);
  g_test_message ("%s: %s", method, error->message);
  g_assert_cmpstr (remote, ==, name);
}

static void
test_errors (void)
{
  const char *nf = "org.orchestrator.Error.NotFound",
             *inv = "org.orchestrator.Error.InvalidArgument";
  const char *m = "org.orchestrator.Metrics";
  g_autofree char *id = orch_test_start (d, "{'command': <['sleep', '600']>}", "running", 10000);

  expect_error (m, "GetJobForecast",
                g_variant_new_parsed ("('job_20991231_235959_ffffff', @a{sv} {})"), nf);
  expect_error (m, "GetJobForecast", g_variant_new_parsed ("(%s, {'horizon_s': <uint32 0>})", id),
                inv);
  expect_error (m, "GetJobForecast", g_variant_new_parsed ("(%s, {'horizon_s': <'1h'>})", id), inv);
  expect_error (m, "GetJobForecast", g_variant_new_parsed ("(%s, {'bogus': <1>})", id), inv);
  expect_error (m, "GetSystemForecast",
                g_variant_new_parsed ("({'horizon_s': <uint32 99999999>},)"), inv);
  expect_error ("org.orchestrator.Jobs", "GetRecommendation",
                g_variant_new_parsed ("('job_20991231_235959_ffffff',)"), nf);
  orch_test_discard (d, id);
}

/* A template learns from its earlier runs: a first run of "tmpl" peaks
 * at ~200 MiB and ends; the recommendation for a second, small run of
 * the same name still covers it. */
static void
test_recommendation (void)
{
  g_autofree char *first = orch_test_start (
      d,
      "{'name': <'tmpl'>, 'command': <['python3', '-c', 'import time; b = bytearray(200 << 20); time.sleep(2)']>}",
      "running", 10000);
  g_autofree char *second = NULL;
  g_autoptr(GVariant) rec = NULL;
  g_autoptr(GVariant) reasons = NULL;
  g_autoptr(GError) error = NULL;
  guint64 mem_max = 0, mem_high = 0;
  guint32 runs = 0, weight = 0;
  double quota = -1;
  const char *why = NULL;

  g_variant_unref (orch_test_wait_state (d, first, "exited", 30000));
  second = orch_test_start (d, "{'name': <'tmpl'>, 'command': <['sleep', '600']>}", "running",
                            10000);
  g_usleep (5 * interval_ms * 1000);
  rec = call ("org.orchestrator.Jobs", "GetRecommendation", g_variant_new ("(s)", second), &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_lookup (rec, "memory_max", "t", &mem_max));
  g_assert_true (g_variant_lookup (rec, "memory_high", "t", &mem_high));
  g_assert_true (g_variant_lookup (rec, "cpu_quota", "d", &quota));
  g_assert_true (g_variant_lookup (rec, "cpu_weight", "u", &weight));
  g_assert_true (g_variant_lookup (rec, "runs", "u", &runs));
  g_test_message ("memory_max %.0f MiB, memory_high %.0f MiB, cpu_quota %.3f, weight %u, runs %u",
                  mem_max / MIB, mem_high / MIB, quota, weight, runs);
  g_assert_cmpuint (runs, ==, 2);
  /* Half a second of its own: too short to forecast, no time bound. */
  g_assert_true (g_variant_lookup (rec, "method", "&s", &why));
  g_assert_cmpstr (why, ==, "vpa-decaying-histogram");
  g_assert_false (g_variant_lookup (rec, "valid_until", "t", NULL));
  g_assert_cmpfloat (mem_high, >=, 200 * MIB);
  g_assert_cmpfloat (mem_max, >=, mem_high * 1.14);
  g_assert_cmpfloat (mem_max, <, 400 * MIB);
  g_assert_cmpfloat (quota, >, 0);
  g_assert_cmpuint (weight, >=, 1);
  reasons = g_variant_lookup_value (rec, "reasons", G_VARIANT_TYPE ("a{ss}"));
  g_assert_nonnull (reasons);
  g_assert_true (g_variant_lookup (reasons, "memory_max", "&s", &why));
  g_assert_nonnull (strstr (why, "2 run"));
  orch_test_discard (d, second);
  orch_test_discard (d, first);
}

/* GetRecommendationWith's interval_s: the memory values hold for that
 * long and follow the leak over it, at 2 MiB a second; a bad option
 * is an error naming it. */
static void
recommend_interval (const char *id, double mem)
{
  static const char *const bad[] = { "{'interval_s': <uint32 59>}", "{'interval_s': <86401>}",
                                     "{'interval_s': <'5m'>}", "{'horizon_s': <uint32 300>}" };

  for (guint32 iv = 60; iv <= 3600; iv *= 5)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) rec = call ("org.orchestrator.Jobs", "GetRecommendationWith",
                                      g_variant_new_parsed ("(%s, {'interval_s': <%u>})", id, iv),
                                      &error);
      const char *method = NULL;
      double grown = mem + 2 * MIB * iv;

      g_assert_no_error (error);
      g_assert_true (g_variant_lookup (rec, "method", "&s", &method));
      g_assert_cmpstr (method, ==, "forecast-bound");
      g_assert_cmpuint (u32 (rec, "interval_s"), ==, iv);
      g_assert_cmpuint (u64 (rec, "valid_until"), ==,
                        u64 (rec, "history_end") + (guint64) iv * G_USEC_PER_SEC);
      g_test_message ("interval %u s: memory_max %.0f MiB, memory_high %.0f MiB (%.0f MiB now, "
                      "%.0f MiB at 2 MiB/s)",
                      iv, u64 (rec, "memory_max") / MIB, u64 (rec, "memory_high") / MIB, mem / MIB,
                      grown / MIB);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *args = g_strdup_printf ("('%s', %s)", id, bad[i]);
      g_autoptr(GVariant) rec = call ("org.orchestrator.Jobs", "GetRecommendationWith",
                                      g_variant_new_parsed (args), &error);
      g_autofree char *remote = NULL;

      g_assert_null (rec);
      g_assert_true (g_dbus_error_is_remote_error (error));
      remote = g_dbus_error_get_remote_error (error); /* a copy, to free */
      g_assert_cmpstr (remote, ==, "org.orchestrator.Error.InvalidArgument");
      g_assert_nonnull (strstr (error->message, i < 3 ? "interval_s" : "horizon_s"));
    }
}

/* A running job with enough history gets a time-bound recommendation:
 * the forecast's bound over the next hour, with the time it holds
 * until (2 MiB more every second: the bound is at least what it has). */
static void
test_recommendation_bound (void)
{
  g_autofree char *id = orch_test_start (
      d,
      "{'name': <'growing'>, 'command': <['python3', '-c', 'import time\\nc = []\\nfor i in "
      "range(120):\\n    c.append(bytearray(2 << 20))\\n    time.sleep(1)']>}",
      "running", 10000);
  g_autoptr(GVariant) rec = NULL;
  g_autoptr(GVariant) reasons = NULL;
  g_autoptr(GError) error = NULL;
  const char *method = NULL, *why = NULL;
  double mem;
  gint64 until = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  /* 32 grid points at the hour's finest step (3600 s / 16384) and then
   * some, however loaded the machine. */
  g_usleep (12 * G_USEC_PER_SEC);
  while (TRUE)
    {
      guint64 start, end;

      g_clear_pointer (&rec, g_variant_unref);
      mem = job_memory (id);
      rec = call ("org.orchestrator.Jobs", "GetRecommendation", g_variant_new ("(s)", id), &error);
      g_assert_no_error (error);
      g_assert_true (g_variant_lookup (rec, "method", "&s", &method));
      start = u64 (rec, "history_start");
      end = u64 (rec, "history_end");
      if (strcmp (method, "forecast-bound") == 0 || g_get_monotonic_time () > until)
        break;
      g_test_message ("%s after %.1f s of history", method, (end - start) / 1e6);
      g_usleep (G_USEC_PER_SEC);
    }
  g_assert_cmpstr (method, ==, "forecast-bound");
  g_assert_cmpuint (u64 (rec, "valid_until"), ==,
                    u64 (rec, "history_end") + 3600ull * G_USEC_PER_SEC);
  g_assert_cmpuint (u32 (rec, "interval_s"), ==, 3600);
  g_assert_cmpfloat (u64 (rec, "memory_max"), >=, mem);
  g_assert_cmpuint (u64 (rec, "memory_high"), <=, u64 (rec, "memory_max"));
  reasons = g_variant_lookup_value (rec, "reasons", G_VARIANT_TYPE ("a{ss}"));
  g_assert_true (g_variant_lookup (reasons, "memory_max", "&s", &why));
  /* A leak this steady: its trend carried over the hour. */
  g_assert_nonnull (strstr (why, "trend"));
  g_test_message ("memory %.0f MiB: memory_max %.0f MiB (%s)", mem / MIB,
                  u64 (rec, "memory_max") / MIB, why);
  recommend_interval (id, mem);
  orch_test_discard (d, id);
}

/* 2 MiB a second by the job's own clock, in 64 KiB chunks: a stalled
 * moment is caught up, so the rate holds however loaded the machine. */
#define LEAK_RATE (2 * MIB)
#define STEADY_LEAK                                                     \
  "import time\nc = []\nt0 = time.monotonic()\nn = 0\nwhile True:\n"    \
  "    want = int((time.monotonic() - t0) * 32)\n    while n < want:\n" \
  "        c.append(bytearray(64 << 10))\n        n += 1\n    time.sleep(0.02)"

/* GetJobForecast's memory_exhaustion_at for a limit @limit bytes
 * (@option: given with the call, else the job's own), against when the
 * job, at @mem bytes at @at_us, reaches it at its rate: within 5 %
 * and a few seconds of sampling. */
static void
check_exhaustion (const char *id, double limit, gboolean option, double mem, gint64 at_us)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) fc = NULL;
  g_autoptr(GVariant) series = NULL;
  double truth_s = (limit - mem) / LEAK_RATE, got_s, step = 0, trend = 0;
  const char *method = NULL;

  if (option)
    fc = call ("org.orchestrator.Metrics", "GetJobForecast",
               g_variant_new_parsed ("(%s, {'memory_limit': <%t>})", id, (guint64) limit), &error);
  else
    fc = call ("org.orchestrator.Metrics", "GetJobForecast",
               g_variant_new_parsed ("(%s, @a{sv} {})", id), &error);
  g_assert_no_error (error);
  series = g_variant_lookup_value (fc, "memory_bytes", G_VARIANT_TYPE_VARDICT);
  g_assert_true (g_variant_lookup (series, "method", "&s", &method));
  g_assert_true (g_variant_lookup (series, "fit_step_s", "d", &step));
  g_assert_cmpuint (u64 (fc, "memory_limit"), ==, (guint64) limit);
  if (!g_variant_lookup (fc, "memory_exhaustion_at", "t", NULL))
    g_error ("%s: no exhaustion forecast for a limit %.0f s ahead (%.0f MiB at %.0f MiB, "
             "%u points at %.2f s)",
             method, truth_s, limit / MIB, mem / MIB, u32 (series, "history_points"), step);
  got_s = (double) ((gint64) u64 (fc, "memory_exhaustion_at") - at_us) / G_USEC_PER_SEC;
  g_test_message ("%s, %u points: limit %.0f MiB reached in %.0f s, forecast %.0f s", method,
                  u32 (series, "history_points"), limit / MIB, truth_s, got_s);
  g_assert_cmpfloat (fabs (got_s - truth_s), <=, 0.05 * truth_s + 5);
  /* The reply says why it climbs: the leak's trend, at about its rate. */
  g_assert_true (g_variant_lookup (series, "trend_per_s", "d", &trend));
  g_test_message ("trend_per_s %.2f MiB/s (the job's %.2f)", trend / MIB, LEAK_RATE / MIB);
  g_assert_cmpfloat (trend, >, 0.75 * LEAK_RATE);
  g_assert_cmpfloat (trend, <, 1.25 * LEAK_RATE);
}

/* A job leaking steadily, its memory_max half an hour ahead (or, where
 * limits cannot be set, the same limit given with the call), and a
 * limit ten minutes ahead given with the call: the forecast says when
 * it gets there.  The smoother's trend, damped per step of a fine grid,
 * flattened long before. */
static void
test_leak_exhaustion (void)
{
  double ahead_max = 1800 * LEAK_RATE + 64 * MIB;
  g_autofree char *spec = g_strdup_printf (
      "{'command': <['python3', '-c', '%s']>, 'memory_max': <uint64 %" G_GUINT64_FORMAT ">}",
      STEADY_LEAK, (guint64) ahead_max);
  g_autofree char *plain = g_strdup_printf ("{'command': <['python3', '-c', '%s']>}", STEADY_LEAK);
  g_autoptr(GError) refused = NULL;
  g_autofree char *id = orch_test_create (d, spec, &refused);
  gboolean limited = id != NULL;
  /* 20 s of history at 0.1 s, 30 s at 1 s. */
  gint64 watch = (interval_ms < 1000 ? 20 : 30) * G_USEC_PER_SEC;
  gint64 until, at_us;
  double first, mem;

  if (!limited)
    {
      g_test_message ("memory_max refused here: %s", refused->message);
      id = orch_test_start (d, plain, "running", 10000);
    }
  g_variant_unref (orch_test_wait_state (d, id, "running", 10000));
  first = job_memory (id);
  until = g_get_monotonic_time () + watch;
  while (g_get_monotonic_time () < until)
    g_usleep (100 * 1000);
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) s = call ("org.orchestrator.Metrics", "GetJob", g_variant_new ("(s)", id),
                                  &error);

    g_assert_no_error (error);
    mem = (double) u64 (s, "memory_bytes");
    at_us = (gint64) u64 (s, "timestamp");
  }
  g_test_message ("%.0f MiB after %.0f s (%.0f MiB at the start)", mem / MIB,
                  (double) watch / G_USEC_PER_SEC, first / MIB);
  /* It grew at about its rate. */
  g_assert_cmpfloat (mem - first, >, 0.5 * LEAK_RATE * watch / G_USEC_PER_SEC);
  check_exhaustion (id, limited ? ahead_max : mem + 1800 * LEAK_RATE, !limited, mem, at_us);
  check_exhaustion (id, mem + 600 * LEAK_RATE, TRUE, mem, at_us);
  orch_test_discard (d, id);
}

static const OrchTestCase leak_tests[] = { { "/forecast/leak-exhaustion", test_leak_exhaustion },
                                           { NULL, NULL } };

static const OrchTestCase tests[] = { { "/forecast/leaky-job", test_leaky_job },
                                      { "/forecast/idle-job", test_idle_job },
                                      { "/forecast/system", test_system },
                                      { "/forecast/errors", test_errors },
                                      { "/forecast/recommendation", test_recommendation },
                                      { "/forecast/recommendation-bound",
                                        test_recommendation_bound },
                                      { "/forecast/leak-exhaustion", test_leak_exhaustion },
                                      { NULL, NULL } };

int
main (int argc, char **argv)
{
  OrchTestProgram program = {
    .daemon = &d,
    .config = "[metrics]\nsample_interval_ms=100\njob_history_size=600\n",
    .tests = tests,
  };

  if (argc > 2 && strcmp (argv[2], "1s") == 0)
    {
      interval_ms = 1000;
      program.config = "[metrics]\nsample_interval_ms=1000\n";
      program.tests = leak_tests;
    }
  return orch_test_main (argc, argv, &program);
}
