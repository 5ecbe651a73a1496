/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.orchestrator.Metrics (system figures and history) through the bus,
 * checked against what the kernel says. */
#include "orch-test-daemon.h"

#include <math.h>
#include <string.h>
#include <sys/statvfs.h>

static OrchTestDaemon *d;

#define INTERVAL_MS 100

static GVariant *
metrics_call (const char *method, GVariant *args, GError **error)
{
  g_autoptr(GVariant) r = g_dbus_connection_call_sync (d->conn, "org.orchestrator", "/org/orchestrator",
                                                       "org.orchestrator.Metrics", method, args, NULL,
                                                       G_DBUS_CALL_FLAGS_NONE, 30000, NULL, error);
  return r ? g_variant_get_child_value (r, 0) : NULL;
}

static guint64
u64 (GVariant *rec, const char *key)
{
  guint64 v = 0;

  if (!g_variant_lookup (rec, key, "t", &v))
    g_error ("no “%s” (t)", key);
  return v;
}

static double
dbl (GVariant *rec, const char *key)
{
  double v = 0;

  if (!g_variant_lookup (rec, key, "d", &v))
    g_error ("no “%s” (d)", key);
  return v;
}

static guint64
meminfo_kib (const char *key)
{
  g_autofree char *text = NULL;
  g_autofree char *needle = g_strconcat ("\n", key, ":", NULL);
  const char *p;

  g_autofree char *lines = NULL;

  g_assert_true (g_file_get_contents ("/proc/meminfo", &text, NULL, NULL));
  lines = g_strconcat ("\n", text, NULL); /* the first key has no newline before it */
  p = strstr (lines, needle);
  g_assert_nonnull (p);
  return g_ascii_strtoull (p + strlen (needle), NULL, 10);
}

static void
net_totals (guint64 *rx, guint64 *tx)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;

  *rx = *tx = 0;
  g_assert_true (g_file_get_contents ("/proc/net/dev", &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (char **l = lines; *l; l++)
    {
      char *colon = strchr (*l, ':');
      g_auto(GStrv) f = NULL;
      g_autofree char *name = NULL;
      if (colon == NULL)
        continue;
      name = g_strstrip (g_strndup (*l, colon - *l));
      if (strcmp (name, "lo") == 0)
        continue;
      f = g_strsplit_set (colon + 1, " ", -1);
      {
        guint64 vals[16];
        guint n = 0;
        for (char **x = f; *x && n < 16; x++)
          if (**x)
            vals[n++] = g_ascii_strtoull (*x, NULL, 10);
        g_assert_cmpuint (n, >=, 9);
        *rx += vals[0];
        *tx += vals[8];
      }
    }
}

static void
test_introspection (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "..", "dbus", "org.orchestrator.Metrics.xml", NULL);
  g_autofree char *xml = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusNodeInfo) want = NULL, got = NULL;
  g_autoptr(GVariant) r = g_dbus_connection_call_sync (
      d->conn, "org.orchestrator", "/org/orchestrator", "org.freedesktop.DBus.Introspectable",
      "Introspect", NULL, G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  const char *live;
  GDBusInterfaceInfo *a, *b;
  g_autoptr(GString) sa = g_string_new (NULL), sb = g_string_new (NULL);

  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &xml, NULL, &error));
  g_variant_get (r, "(&s)", &live);
  want = g_dbus_node_info_new_for_xml (xml, &error);
  g_assert_no_error (error);
  got = g_dbus_node_info_new_for_xml (live, &error);
  g_assert_no_error (error);
  a = g_dbus_node_info_lookup_interface (want, "org.orchestrator.Metrics");
  b = g_dbus_node_info_lookup_interface (got, "org.orchestrator.Metrics");
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  /* Both sides described the same way, then compared whole. */
  g_dbus_interface_info_generate_xml (a, 0, sa);
  g_dbus_interface_info_generate_xml (b, 0, sb);
  g_assert_cmpstr (sb->str, ==, sa->str);
}

static void
test_properties (void)
{
  g_autoptr(GVariant) r = g_dbus_connection_call_sync (
      d->conn, "org.orchestrator", "/org/orchestrator", "org.freedesktop.DBus.Properties", "GetAll",
      g_variant_new ("(s)", "org.orchestrator.Metrics"), G_VARIANT_TYPE ("(a{sv})"),
      G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  g_autoptr(GVariant) props = g_variant_get_child_value (r, 0);
  guint32 interval = 0, size = 0;

  g_assert_true (g_variant_lookup (props, "SampleIntervalMs", "u", &interval));
  g_assert_true (g_variant_lookup (props, "HistorySize", "u", &size));
  g_assert_cmpuint (interval, ==, INTERVAL_MS);
  g_assert_cmpuint (size, ==, 50);
}

/* The figures agree with the kernel's own files and with statvfs (what
 * free -b and df -B1 / print). */
static void
test_system_agrees (void)
{
  g_autoptr(GError) error = NULL;
  guint64 rx0, tx0, rx1, tx1;
  g_autoptr(GVariant) s = NULL;
  struct statvfs vfs;
  guint64 mem_total, avail, ncpu = 0;
  g_autofree char *stat = NULL;
  g_auto(GStrv) lines = NULL;

  net_totals (&rx0, &tx0);
  g_usleep (2 * INTERVAL_MS * 1000);
  s = metrics_call ("GetSystem", NULL, &error);
  g_assert_no_error (error);
  net_totals (&rx1, &tx1);

  mem_total = meminfo_kib ("MemTotal") * 1024;
  avail = meminfo_kib ("MemAvailable") * 1024;
  g_assert_cmpuint (u64 (s, "memory_total"), ==, mem_total);
  /* Available moves a little between two readings. */
  g_assert_cmpfloat (fabs ((double) u64 (s, "memory_available") - (double) avail), <, 0.1 * mem_total);
  g_assert_cmpuint (u64 (s, "memory_used"), ==, mem_total - u64 (s, "memory_available"));
  g_assert_cmpfloat (dbl (s, "memory_percent"), >, 0.0);
  g_assert_cmpfloat (dbl (s, "memory_percent"), <=, 100.0);

  g_assert_cmpint (statvfs ("/", &vfs), ==, 0);
  g_assert_cmpuint (u64 (s, "disk_total"), ==, (guint64) vfs.f_blocks * vfs.f_frsize);
  g_assert_cmpfloat (fabs ((double) u64 (s, "disk_used") - (double) (vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize),
                     <, 0.01 * vfs.f_blocks * vfs.f_frsize);

  g_assert_true (g_file_get_contents ("/proc/stat", &stat, NULL, NULL));
  lines = g_strsplit (stat, "\n", -1);
  for (char **l = lines; *l; l++)
    if (g_str_has_prefix (*l, "cpu") && g_ascii_isdigit ((*l)[3]))
      ncpu++;
  {
    guint32 c = 0;
    g_assert_true (g_variant_lookup (s, "cpu_count", "u", &c));
    g_assert_cmpuint (c, ==, ncpu);
  }
  g_assert_cmpfloat (dbl (s, "cpu_percent"), >=, 0.0);
  g_assert_cmpfloat (dbl (s, "cpu_percent"), <=, 100.0);
  g_assert_cmpfloat (dbl (s, "uptime_s"), >, 0.0);
  g_assert_cmpfloat (dbl (s, "load_1"), >=, 0.0);

  /* Counters read between our two readings lie between them. */
  g_assert_cmpuint (u64 (s, "net_bytes_recv"), >=, rx0);
  g_assert_cmpuint (u64 (s, "net_bytes_recv"), <=, rx1);
  g_assert_cmpuint (u64 (s, "net_bytes_sent"), >=, tx0);
  g_assert_cmpuint (u64 (s, "net_bytes_sent"), <=, tx1);
  {
    guint32 procs = 0;
    g_assert_true (g_variant_lookup (s, "process_count", "u", &procs));
    g_assert_cmpuint (procs, >, 3);
  }
}

static void
on_sampled (GDBusConnection *c, const char *sender, const char *path, const char *iface,
            const char *name, GVariant *params, gpointer data)
{
  GPtrArray *got = data;
  g_ptr_array_add (got, g_variant_get_child_value (params, 0));
}

static void
test_sampled_signal (void)
{
  g_autoptr(GPtrArray) got = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  guint sub = g_dbus_connection_signal_subscribe (d->conn, "org.orchestrator", "org.orchestrator.Metrics",
                                                  "SystemSampled", "/org/orchestrator", NULL,
                                                  G_DBUS_SIGNAL_FLAGS_NONE, on_sampled, got, NULL);
  gint64 until = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while (got->len < 4 && g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, TRUE);
  g_dbus_connection_signal_unsubscribe (d->conn, sub);
  g_assert_cmpuint (got->len, >=, 4);
  for (guint i = 1; i < got->len; i++)
    {
      guint64 a = u64 (got->pdata[i - 1], "timestamp"), b = u64 (got->pdata[i], "timestamp");
      g_assert_cmpuint (b, >, a);
      /* One per interval, give or take scheduling. */
      g_assert_cmpuint (b - a, >=, INTERVAL_MS * 1000 / 2);
      g_assert_cmpuint (b - a, <, INTERVAL_MS * 1000 * 20);
    }
}

static void
test_history (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) all = NULL, since = NULL, two = NULL, bad = NULL;
  guint n;
  guint64 t1;

  g_usleep (5 * INTERVAL_MS * 1000);
  all = metrics_call ("GetSystemHistory", g_variant_new_parsed ("(@a{sv} {},)"), &error);
  g_assert_no_error (error);
  n = g_variant_n_children (all);
  g_assert_cmpuint (n, >=, 5);
  /* The fine tier holds HistorySize samples at most. */
  g_assert_cmpuint (n, <=, 50);
  for (guint i = 1; i < n; i++)
    {
      g_autoptr(GVariant) a = g_variant_get_child_value (all, i - 1);
      g_autoptr(GVariant) b = g_variant_get_child_value (all, i);
      g_assert_cmpuint (u64 (b, "timestamp"), >, u64 (a, "timestamp"));
      g_assert_cmpfloat (dbl (b, "memory_used"), >, 0.0);
    }
  {
    g_autoptr(GVariant) row = g_variant_get_child_value (all, n - 3);
    t1 = u64 (row, "timestamp");
  }
  since = metrics_call ("GetSystemHistory", g_variant_new_parsed ("({'since': <%t>},)", t1), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (since), >=, 3);
  {
    g_autoptr(GVariant) first = g_variant_get_child_value (since, 0);
    g_assert_cmpuint (u64 (first, "timestamp"), >=, t1);
  }
  two = metrics_call ("GetSystemHistory", g_variant_new_parsed ("({'limit': <uint32 2>},)"), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (two), ==, 2);

  bad = metrics_call ("GetSystemHistory", g_variant_new_parsed ("({'limit': <'two'>},)"), &error);
  g_assert_null (bad);
  g_assert_true (g_dbus_error_is_remote_error (error));
}

int
main (int argc, char **argv)
{
  g_autofree char *skip = NULL;
  g_autofree char *config = g_strdup_printf ("[metrics]\nsample_interval_ms=%d\nhistory_size=50\n"
                                             "history_coarse_size=10\nhistory_coarse_step_s=1\n",
                                             INTERVAL_MS);
  int ret;

  g_test_init (&argc, &argv, NULL);
  d = orch_test_daemon_new (argc > 1 ? argv[1] : "none", config, &skip);
  if (d == NULL)
    {
      g_print ("1..0 # SKIP %s\n", skip);
      return 77;
    }
  g_test_add_func ("/metrics/introspection", test_introspection);
  g_test_add_func ("/metrics/properties", test_properties);
  g_test_add_func ("/metrics/system-agrees", test_system_agrees);
  g_test_add_func ("/metrics/sampled-signal", test_sampled_signal);
  g_test_add_func ("/metrics/history", test_history);
  ret = g_test_run ();
  orch_test_daemon_free (d);
  return ret;
}
