/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.orchestrator.Groups through the bus, against a real orchestratord on
 * a private bus (backend from the first argument): replicas are real
 * processes; the autoscaler is driven by CPU burners whose load a control
 * file sets. */
#include "orch-test-daemon.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

static OrchTestDaemon *d;

static GVariant *
groups_call (const char *method, GVariant *args, GError **error)
{
  return g_dbus_connection_call_sync (d->conn, "org.orchestrator", "/org/orchestrator",
                                      "org.orchestrator.Groups", method, args, NULL,
                                      G_DBUS_CALL_FLAGS_NONE, 30000, NULL, error);
}

static char *
create_group (const char *options_text, GError **error)
{
  GVariant *opts = g_variant_parse (G_VARIANT_TYPE_VARDICT, options_text, NULL, NULL, NULL);
  g_autoptr(GVariant) r = NULL;
  char *id = NULL;

  g_assert_nonnull (opts);
  r = groups_call ("Create", g_variant_new ("(@a{sv})", opts), error);
  if (!r)
    return NULL;
  g_variant_get (r, "(so)", &id, NULL);
  return id;
}

static GVariant *
get_group (const char *id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) r = groups_call ("Get", g_variant_new ("(s)", id), &error);
  GVariant *rec;

  g_assert_no_error (error);
  g_variant_get (r, "(@a{sv})", &rec);
  return rec;
}

static guint
rec_u (GVariant *rec, const char *key)
{
  guint32 v = 0;

  g_assert_true (g_variant_lookup (rec, key, "u", &v));
  return v;
}

static void
scale (const char *id, guint n)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) r = groups_call ("Scale", g_variant_new ("(su)", id, n), &error);

  g_assert_no_error (error);
}

static void
remove_group (const char *id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) r = groups_call (
      "Remove",
      g_variant_new ("(s@a{sv})", id, g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0)),
      &error);

  g_assert_no_error (error);
}

/* The live jobs (starting or running) whose record names @group. */
static GPtrArray *
live_replicas (const char *group)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) r = orch_test_call (d, "List", g_variant_new ("(a{sv})", NULL), &error);
  g_autoptr(GVariant) list = NULL;
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  GVariantIter iter;
  GVariant *rec;

  g_assert_no_error (error);
  list = g_variant_get_child_value (r, 0);
  g_variant_iter_init (&iter, list);
  while ((rec = g_variant_iter_next_value (&iter)))
    {
      const char *gid = NULL, *state = NULL;
      if (g_variant_lookup (rec, "group_id", "&s", &gid) && strcmp (gid, group) == 0 &&
          g_variant_lookup (rec, "state", "&s", &state) &&
          (strcmp (state, "running") == 0 || strcmp (state, "starting") == 0))
        g_ptr_array_add (out, rec);
      else
        g_variant_unref (rec);
    }
  return out;
}

/* Polls until the group has @n running replicas and @n live jobs. */
static void
wait_running (const char *id, guint n, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + timeout_ms * (gint64) 1000;
  guint running = 0, live = 0;

  while (g_get_monotonic_time () < end)
    {
      g_autoptr(GVariant) rec = get_group (id);
      g_autoptr(GPtrArray) jobs = live_replicas (id);

      running = rec_u (rec, "running");
      live = jobs->len;
      if (running == n && live == n)
        return;
      g_usleep (100 * 1000);
    }
  g_error ("group %s: %u running, %u live jobs, waited for %u", id, running, live, n);
}

static const char *const sleeper =
    "'template': <{'command': <['sleep', '600']>, 'name': <'sleeper'>}>";

static void
test_introspection (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "..", "dbus",
                                                 "org.orchestrator.Groups.xml", NULL);
  g_autofree char *xml = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusNodeInfo) want = NULL, got = NULL;
  g_autoptr(GVariant) r = g_dbus_connection_call_sync (
      d->conn, "org.orchestrator", "/org/orchestrator", "org.freedesktop.DBus.Introspectable",
      "Introspect", NULL, G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  const char *live;
  GDBusInterfaceInfo *a, *b;

  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &xml, NULL, &error));
  g_variant_get (r, "(&s)", &live);
  want = g_dbus_node_info_new_for_xml (xml, &error);
  g_assert_no_error (error);
  got = g_dbus_node_info_new_for_xml (live, &error);
  g_assert_no_error (error);
  a = g_dbus_node_info_lookup_interface (want, "org.orchestrator.Groups");
  b = g_dbus_node_info_lookup_interface (got, "org.orchestrator.Groups");
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  {
    g_autoptr(GString) sa = g_string_new (NULL), sb = g_string_new (NULL);
    g_dbus_interface_info_generate_xml (a, 0, sa);
    g_dbus_interface_info_generate_xml (b, 0, sb);
    g_assert_cmpstr (sa->str, ==, sb->str);
  }
}

/* Create, Scale up and down, Remove: real jobs, each with its index in
 * its record and its environment. */
static void
test_scale_by_hand (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *opts = g_strdup_printf ("{%s, 'replicas': <uint32 3>}", sleeper);
  g_autofree char *id = create_group (opts, &error);
  g_autoptr(GPtrArray) jobs = NULL;
  g_autoptr(GVariant) rec = NULL;
  guint seen = 0;

  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (id, "group_"));
  wait_running (id, 3, 30000);
  jobs = live_replicas (id);
  for (guint i = 0; i < jobs->len; i++)
    {
      GVariant *job = jobs->pdata[i];
      g_autofree char *environ_path = NULL, *environ = NULL;
      g_autofree char *want = NULL;
      guint32 replica = 99;
      gsize len;

      g_assert_true (g_variant_lookup (job, "replica", "u", &replica));
      g_assert_cmpuint (replica, <, 3);
      seen |= 1u << replica;
      environ_path = g_strdup_printf ("/proc/%" G_GINT64_FORMAT "/environ",
                                      orch_test_rec_int (job, "pid"));
      g_assert_true (g_file_get_contents (environ_path, &environ, &len, NULL));
      want = g_strdup_printf ("ORCH_REPLICA=%u", replica);
      g_assert_nonnull (memmem (environ, len, want, strlen (want) + 1));
      g_assert_nonnull (memmem (environ, len, id, strlen (id)));
    }
  g_assert_cmpuint (seen, ==, 7);

  scale (id, 1);
  wait_running (id, 1, 30000);
  rec = get_group (id);
  g_assert_cmpuint (rec_u (rec, "desired"), ==, 1);
  {
    g_autoptr(GVariant) last = g_variant_lookup_value (rec, "last_scale", G_VARIANT_TYPE_VARDICT);
    const char *reason;
    g_assert_nonnull (last);
    g_assert_true (g_variant_lookup (last, "reason", "&s", &reason));
    g_assert_cmpstr (reason, ==, "manual");
  }
  scale (id, 2);
  wait_running (id, 2, 30000);

  remove_group (id);
  {
    g_autoptr(GPtrArray) left = NULL;
    gint64 end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
    do
      {
        g_clear_pointer (&left, g_ptr_array_unref);
        left = live_replicas (id);
        if (left->len)
          g_usleep (100 * 1000);
      }
    while (left->len && g_get_monotonic_time () < end);
    g_assert_cmpuint (left->len, ==, 0);
  }
  {
    g_autoptr(GVariant) r = groups_call ("Get", g_variant_new ("(s)", id), &error);
    g_assert_null (r);
    g_assert_nonnull (error);
    g_assert_nonnull (strstr (error->message, id));
  }
}

static void
assert_refused (const char *options_text, const char *word)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = create_group (options_text, &error);

  g_assert_null (id);
  g_assert_nonnull (error);
  if (strstr (error->message, word) == NULL)
    g_error ("“%s” does not name %s", error->message, word);
}

static void
test_bad_input (void)
{
  g_autoptr(GVariant) list = NULL;
  g_autoptr(GError) error = NULL;

  assert_refused ("{'replicas': <uint32 1>}", "template");
  assert_refused ("{'template': <{'command': <['sleep', '1']>, 'restart': <'always'>}>}",
                  "restart");
  assert_refused ("{'template': <{'command': <['/no/such/program']>}>}", "/no/such/program");
  assert_refused ("{'template': <{'command': <['sleep', '1']>}>, 'bogus': <1>}", "bogus");
  assert_refused ("{'template': <{'command': <['sleep', '1']>}>, 'replicas': <uint32 100000>}",
                  "replicas");
  assert_refused ("{'template': <{'command': <['sleep', '1']>}>, 'autoscale': <{'target': <50.0>, "
                  "'min': <uint32 5>, 'max': <uint32 2>}>}",
                  "min");
  assert_refused ("{'template': <{'command': <['sleep', '1']>}>, 'autoscale': <{'target': <50.0>, "
                  "'max': <uint32 2>, 'metric': <'bogomips'>}>}",
                  "bogomips");
  /* a caller's job cannot claim to be a replica */
  g_assert_null (
      orch_test_create (d, "{'command': <['sleep', '1']>, 'group_id': <'group_x'>}", &error));
  g_assert_nonnull (strstr (error->message, "group_id"));
  g_clear_error (&error);
  /* nothing was made */
  list = groups_call ("List", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (g_variant_get_child_value (list, 0)), ==, 0);
}

/* A rollout never leaves fewer than desired - max_unavailable running. */
static void
test_update_rollout (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *opts = g_strdup_printf (
      "{%s, 'replicas': <uint32 3>, 'max_unavailable': <uint32 1>}", sleeper);
  g_autofree char *id = create_group (opts, &error);
  g_autoptr(GVariant) r = NULL;
  gint64 end;
  guint low = 3, polls = 0;

  g_assert_no_error (error);
  wait_running (id, 3, 30000);
  r = groups_call (
      "Update",
      g_variant_new_parsed (
          "(%s, {'template': <{'command': <['sleep', '601']>, 'name': <'sleeper'>}>})", id),
      &error);
  g_assert_no_error (error);
  end = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  for (;;)
    {
      g_autoptr(GVariant) rec = get_group (id);
      g_autoptr(GPtrArray) jobs = live_replicas (id);
      guint fresh = 0, running = rec_u (rec, "running");

      low = MIN (low, running);
      polls++;
      for (guint i = 0; i < jobs->len; i++)
        {
          g_autoptr(GVariant) cmd = g_variant_lookup_value (jobs->pdata[i], "command",
                                                            G_VARIANT_TYPE_STRING_ARRAY);
          const char *arg1 = NULL;
          g_variant_get_child (cmd, 1, "&s", &arg1);
          fresh += strcmp (arg1, "601") == 0 &&
                   strcmp (orch_test_rec_str (jobs->pdata[i], "state"), "running") == 0;
        }
      if (fresh == 3 && jobs->len == 3 && running == 3)
        break;
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_usleep (20 * 1000);
    }
  g_test_message ("rollout: lowest running %u over %u polls", low, polls);
  g_assert_cmpuint (low, >=, 2);
  remove_group (id);
}

/* The daemon killed right after a Scale: after the restart the group has
 * exactly the desired replicas, one per index. */
static void
test_kill_mid_scale (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *opts = g_strdup_printf ("{%s, 'replicas': <uint32 2>}", sleeper);
  g_autofree char *id = create_group (opts, &error);
  g_autoptr(GPtrArray) jobs = NULL;
  guint seen = 0;

  g_assert_no_error (error);
  wait_running (id, 2, 30000);
  scale (id, 6);
  orch_test_daemon_kill (d, SIGKILL);
  orch_test_daemon_spawn (d);
  wait_running (id, 6, 60000);
  /* and it stays so: nothing started twice */
  g_usleep (1500 * 1000);
  jobs = live_replicas (id);
  g_assert_cmpuint (jobs->len, ==, 6);
  for (guint i = 0; i < jobs->len; i++)
    {
      guint32 replica;
      g_assert_true (g_variant_lookup (jobs->pdata[i], "replica", "u", &replica));
      g_assert_false (seen & (1u << replica));
      seen |= 1u << replica;
    }
  g_assert_cmpuint (seen, ==, 0x3f);
  remove_group (id);
}

/* All the jobs (any state) whose record names @group. */
static guint
count_all_replicas (const char *group)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) r = orch_test_call (d, "List", g_variant_new ("(a{sv})", NULL), &error);
  g_autoptr(GVariant) list = NULL;
  GVariantIter iter;
  GVariant *rec;
  guint n = 0;

  g_assert_no_error (error);
  list = g_variant_get_child_value (r, 0);
  g_variant_iter_init (&iter, list);
  while ((rec = g_variant_iter_next_value (&iter)))
    {
      const char *gid = NULL;
      n += g_variant_lookup (rec, "group_id", "&s", &gid) && strcmp (gid, group) == 0;
      g_variant_unref (rec);
    }
  return n;
}

/* A replica that ends as it starts is reported and retried with backoff
 * (1 s, 2 s, 4 s, ...), not in a tight loop. */
static void
test_failing_replica (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = create_group ("{'template': <{'command': <['false']>}>}", &error);
  g_autoptr(GVariant) rec = NULL;
  const char *why = NULL;
  guint made;

  g_assert_no_error (error);
  g_usleep (6 * G_USEC_PER_SEC);
  made = count_all_replicas (id);
  rec = get_group (id);
  g_test_message ("failing replica: %u attempts in 6 s", made);
  /* at 0, ~1, ~3 s (~6 s): 2 to 4 attempts, never dozens */
  g_assert_cmpuint (made, >=, 2);
  g_assert_cmpuint (made, <=, 5);
  g_assert_true (g_variant_lookup (rec, "error", "&s", &why));
  g_assert_nonnull (strstr (why, "right after it started"));
  remove_group (id);
}

/* ---- autoscaling ---- */

typedef struct {
  GPtrArray *events; /* GVariant a{sv} of each "scaled" */
  GArray *times;     /* gint64 monotonic of each */
  const char *id;
} Scaled;

static void
on_group_changed (GDBusConnection *conn, const char *sender, const char *path, const char *iface,
                  const char *signal, GVariant *params, gpointer user_data)
{
  Scaled *s = user_data;
  const char *id, *event;
  GVariant *data;
  gint64 now = g_get_monotonic_time ();

  g_variant_get (params, "(&s&s@a{sv})", &id, &event, &data);
  if (s->id && strcmp (id, s->id) == 0 && strcmp (event, "scaled") == 0)
    {
      g_ptr_array_add (s->events, data);
      g_array_append_val (s->times, now);
    }
  else
    g_variant_unref (data);
}

/* Pumps the main context until a "scaled" event with to == @want has
 * come after event @from; returns its index. */
static guint
wait_scaled_to (Scaled *s, guint from, guint want, guint timeout_s)
{
  gint64 end = g_get_monotonic_time () + timeout_s * G_USEC_PER_SEC;

  for (;;)
    {
      for (guint i = from; i < s->events->len; i++)
        {
          guint32 to;
          g_assert_true (g_variant_lookup (s->events->pdata[i], "to", "u", &to));
          if (to == want)
            return i;
        }
      if (g_get_monotonic_time () > end)
        for (guint i = 0; i < s->events->len; i++)
          {
            g_autofree char *text = g_variant_print (s->events->pdata[i], FALSE);
            g_test_message ("event %u: %s", i, text);
          }
      if (g_get_monotonic_time () > end)
        g_error ("no scale to %u within %u s (%u events)", want, timeout_s, s->events->len);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (20 * 1000);
    }
}

/* A burner: burns @load of a CPU, re-reading the control file each 100 ms. */
static const char *const burner = "import time,sys\n"
                                  "ctl=sys.argv[1]\n"
                                  "while True:\n"
                                  "  try: load=float(open(ctl).read())\n"
                                  "  except Exception: load=0\n"
                                  "  t=time.monotonic(); end=t+0.1*load\n"
                                  "  while time.monotonic()<end: pass\n"
                                  "  time.sleep(max(0,t+0.1-time.monotonic()))\n";

static int
cmp_i64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return (x > y) - (x < y);
}

/* Replicas burning 40 % of a CPU over a 10 % target scale up to max (3);
 * at 2 % they scale back to min (1) once the (shortened) window has
 * passed; min and max are never crossed; the event says why. */
static void
test_autoscale (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *ctl = g_build_filename (d->scratch, "load", NULL);
  g_autofree char *script = g_build_filename (d->scratch, "burner.py", NULL);
  g_autofree char *opts = NULL, *id = NULL;
  Scaled s = { g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref),
               g_array_new (FALSE, FALSE, sizeof (gint64)), NULL };
  guint sub, cycles = 3;
  g_autoptr(GArray) reactions = g_array_new (FALSE, FALSE, sizeof (gint64));
  guint from = 0;

  g_assert_true (g_file_set_contents (script, burner, -1, NULL));
  g_assert_true (g_file_set_contents (ctl, "0.02", -1, NULL));
  sub = g_dbus_connection_signal_subscribe (d->conn, "org.orchestrator", "org.orchestrator.Groups",
                                            "GroupChanged", "/org/orchestrator", NULL,
                                            G_DBUS_SIGNAL_FLAGS_NONE, on_group_changed, &s, NULL);
  opts = g_strdup_printf (
      "{'template': <{'command': <['/usr/bin/python3', '%s', '%s']>}>, 'autoscale': <{'metric': "
      "<'cpu_percent'>, 'target': <10.0>, 'min': <uint32 1>, 'max': <uint32 3>, 'period_ms': "
      "<uint32 1000>, 'scale_down_window_s': <uint32 4>, 'scale_up_window_s': <uint32 0>}>}",
      script, ctl);
  id = create_group (opts, &error);
  g_assert_no_error (error);
  s.id = id;
  wait_running (id, 1, 30000);

  for (guint c = 0; c < cycles; c++)
    {
      gint64 t0;

      t0 = g_get_monotonic_time ();
      g_assert_true (g_file_set_contents (ctl, "0.4", -1, NULL));
      wait_scaled_to (&s, from, 3, 90);
      {
        gint64 dt = g_array_index (s.times, gint64, from) - t0;
        g_array_append_val (reactions, dt);
      }
      wait_running (id, 3, 30000);
      from = s.events->len;
      t0 = g_get_monotonic_time ();
      g_assert_true (g_file_set_contents (ctl, "0.02", -1, NULL));
      {
        guint last = wait_scaled_to (&s, from, 1, 120);
        gint64 dt = g_array_index (s.times, gint64, from) - t0;
        g_array_append_val (reactions, dt);
        /* the whole way down not before the window (4 s) has passed since
         * the last high recommendation, which may be the decision just
         * before the change (the next one, up to a period later, can
         * already see the low load); the first step may come sooner (the
         * window's decay) */
        g_assert_cmpint (g_array_index (s.times, gint64, last) - t0, >=, 3 * G_USEC_PER_SEC);
      }
      wait_running (id, 1, 30000);
      from = s.events->len;
    }
  for (guint i = 0; i < s.events->len; i++)
    {
      guint32 to, measured;
      const char *reason, *metric;
      GVariant *e = s.events->pdata[i];
      g_assert_true (g_variant_lookup (e, "to", "u", &to));
      g_assert_cmpuint (to, >=, 1);
      g_assert_cmpuint (to, <=, 3);
      g_assert_true (g_variant_lookup (e, "reason", "&s", &reason));
      g_assert_true (g_variant_lookup (e, "metric", "&s", &metric));
      g_assert_cmpstr (metric, ==, "cpu_percent");
      g_assert_true (g_variant_lookup (e, "measured", "u", &measured));
      g_assert_cmpuint (measured, >=, 1);
    }
  /* even entries: load up -> first scale-up; odd: load down -> first
   * scale-down step */
  {
    g_autoptr(GArray) ups = g_array_new (FALSE, FALSE, sizeof (gint64));
    g_autoptr(GArray) downs = g_array_new (FALSE, FALSE, sizeof (gint64));
    for (guint i = 0; i < reactions->len; i++)
      g_array_append_val (i % 2 ? downs : ups, g_array_index (reactions, gint64, i));
    g_array_sort (ups, cmp_i64);
    g_array_sort (downs, cmp_i64);
    g_test_message ("reaction (load change -> scaled event), median ms: up %" G_GINT64_FORMAT
                    ", down %" G_GINT64_FORMAT " (window 4000, period 1000, %u cycles)",
                    g_array_index (ups, gint64, ups->len / 2) / 1000,
                    g_array_index (downs, gint64, downs->len / 2) / 1000, cycles);
  }
  /* Each decision is also an event of the group's, kept and listed as
   * the jobs' are. */
  {
    g_autoptr(GVariant) reply = NULL;
    g_autoptr(GVariant) events = NULL;
    guint scaled = 0;

    reply = g_dbus_connection_call_sync (
        d->conn, "org.orchestrator", "/org/orchestrator", "org.orchestrator.Jobs", "GetEvents",
        g_variant_new ("(s@a{sv})", id, g_variant_new ("a{sv}", NULL)), G_VARIANT_TYPE ("(aa{sv})"),
        G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &error);
    g_assert_no_error (error);
    events = g_variant_get_child_value (reply, 0);
    for (gsize i = 0; i < g_variant_n_children (events); i++)
      {
        g_autoptr(GVariant) e = g_variant_get_child_value (events, i);
        const char *kind = NULL;
        g_assert_true (g_variant_lookup (e, "kind", "&s", &kind));
        scaled += strcmp (kind, "scaled") == 0;
      }
    g_assert_cmpuint (scaled, ==, s.events->len);
  }
  g_dbus_connection_signal_unsubscribe (d->conn, sub);
  remove_group (id);
  g_ptr_array_unref (s.events);
  g_array_unref (s.times);
}

/* ---- metric sources ---- */

/* Polls until the group wants @n replicas. */
static void
wait_desired (const char *id, guint n, guint timeout_s)
{
  gint64 end = g_get_monotonic_time () + timeout_s * G_USEC_PER_SEC;
  guint desired = 0;

  while (g_get_monotonic_time () < end)
    {
      g_autoptr(GVariant) rec = get_group (id);
      desired = rec_u (rec, "desired");
      if (desired == n)
        return;
      g_usleep (200 * 1000);
    }
  g_error ("group %s: desired %u, waited for %u", id, desired, n);
}

/* The group's metric, in its settings and in its latest scaling. */
static void
assert_decision_metric (const char *id, const char *metric)
{
  g_autoptr(GVariant) rec = get_group (id);
  g_autoptr(GVariant) as = g_variant_lookup_value (rec, "autoscale", G_VARIANT_TYPE_VARDICT);
  const char *m = NULL;

  g_autoptr(GVariant) decisions = g_variant_lookup_value (rec, "decisions",
                                                          G_VARIANT_TYPE ("aa{sv}"));
  g_autoptr(GVariant) last = NULL;
  double value_sum;

  g_assert_nonnull (as);
  g_assert_true (g_variant_lookup (as, "metric", "&s", &m));
  g_assert_cmpstr (m, ==, metric);
  /* The autoscaler's scaling is in the history, with its inputs. */
  g_assert_nonnull (decisions);
  g_assert_cmpuint (g_variant_n_children (decisions), >, 0);
  last = g_variant_get_child_value (decisions, g_variant_n_children (decisions) - 1);
  g_assert_true (g_variant_lookup (last, "metric", "&s", &m));
  g_assert_cmpstr (m, ==, metric);
  g_assert_true (g_variant_lookup (last, "value_sum", "d", &value_sum));
}

/* A replica that writes the number in a control file to $ORCH_METRIC_FILE. */
static const char *const publisher = "import os,sys,time\n"
                                     "ctl=sys.argv[1]; out=os.environ['ORCH_METRIC_FILE']\n"
                                     "while True:\n"
                                     "  v=open(ctl).read()\n"
                                     "  open(out+'.tmp','w').write(v); os.replace(out+'.tmp',out)\n"
                                     "  time.sleep(0.2)\n";

/* metric file: replicas publishing 35 each over a 10 target scale up to
 * max (4); at 1 each, back to min (1); the files go with the group. */
static void
test_metric_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *ctl = g_build_filename (d->scratch, "published", NULL);
  g_autofree char *script = g_build_filename (d->scratch, "publisher.py", NULL);
  g_autofree char *opts = NULL, *id = NULL, *environ_path = NULL, *env = NULL, *file = NULL;
  g_autofree char *dir = NULL;
  g_autoptr(GPtrArray) jobs = NULL;
  gsize len;
  guint32 pid = 0;

  g_assert_true (g_file_set_contents (script, publisher, -1, NULL));
  g_assert_true (g_file_set_contents (ctl, "35", -1, NULL));
  opts = g_strdup_printf (
      "{'template': <{'command': <['/usr/bin/python3', '%s', '%s']>}>, 'autoscale': <{'metric': "
      "<'file'>, 'target': <10.0>, 'min': <uint32 1>, 'max': <uint32 4>, 'period_ms': "
      "<uint32 500>, 'scale_down_window_s': <uint32 2>, 'scale_up_window_s': <uint32 0>}>}",
      script, ctl);
  id = create_group (opts, &error);
  g_assert_no_error (error);
  wait_desired (id, 4, 60);
  assert_decision_metric (id, "file");
  wait_running (id, 4, 30000);
  /* Where the replicas write: $ORCH_METRIC_FILE, one file per index. */
  jobs = live_replicas (id);
  g_assert_true (g_variant_lookup (jobs->pdata[0], "pid", "u", &pid));
  environ_path = g_strdup_printf ("/proc/%u/environ", pid);
  g_assert_true (g_file_get_contents (environ_path, &env, &len, NULL));
  for (const char *p = env; p < env + len; p += strlen (p) + 1)
    if (g_str_has_prefix (p, "ORCH_METRIC_FILE="))
      file = g_strdup (p + strlen ("ORCH_METRIC_FILE="));
  g_assert_nonnull (file);
  dir = g_path_get_dirname (file);
  g_assert_true (g_file_test (dir, G_FILE_TEST_IS_DIR));

  g_assert_true (g_file_set_contents (ctl, "1", -1, NULL));
  wait_desired (id, 1, 60);
  wait_running (id, 1, 30000);
  remove_group (id);
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
}

/* A loopback exporter whose queue_depth (two series) a control file sets. */
static const char *const exporter =
    "import http.server,sys\n"
    "ctl=sys.argv[1]\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "  def do_GET(self):\n"
    "    v=float(open(ctl).read())\n"
    "    body=('# TYPE queue_depth gauge\\nqueue_depth{q=\"a\"} %g\\nqueue_depth{q=\"b\"} %g\\n"
    "queue_depth_total 999\\n' % (v/2, v/2)).encode()\n"
    "    self.send_response(200); self.send_header('Content-Type','text/plain')\n"
    "    self.end_headers(); self.wfile.write(body)\n"
    "  def log_message(self,*a): pass\n"
    "s=http.server.HTTPServer(('127.0.0.1',0),H)\n"
    "print(s.server_address[1],flush=True)\n"
    "s.serve_forever()\n";

/* metric prometheus: the group's total (30 over a 10 target) wants 3
 * replicas, 5 wants 1; a URL off this host is refused. */
static void
test_metric_prometheus (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *ctl = g_build_filename (d->scratch, "depth", NULL);
  g_autofree char *script = g_build_filename (d->scratch, "exporter.py", NULL);
  g_autofree char *opts = NULL, *id = NULL, *line = NULL;
  g_autoptr(GSubprocess) server = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  guint64 port;

  assert_refused (
      "{'template': <{'command': <['sleep', '1']>}>, 'autoscale': <{'target': <1.0>, "
      "'max': <uint32 2>, 'metric': <'prometheus'>, 'url': <'http://10.1.2.3:9100/metrics'>, "
      "'series': <'up'>}>}",
      "url");
  assert_refused ("{'template': <{'command': <['sleep', '1']>}>, 'autoscale': <{'target': <1.0>, "
                  "'max': <uint32 2>, 'metric': <'prometheus'>, 'url': <'http://127.0.0.1:9/'>, "
                  "'series': <'not a name'>}>}",
                  "series");
  assert_refused ("{'template': <{'command': <['sleep', '1']>}>, 'autoscale': <{'target': <1.0>, "
                  "'max': <uint32 2>, 'url': <'http://127.0.0.1:9/'>}>}",
                  "url");
  g_assert_true (g_file_set_contents (script, exporter, -1, NULL));
  g_assert_true (g_file_set_contents (ctl, "30", -1, NULL));
  server = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, "/usr/bin/python3", script,
                             ctl, NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server));
  line = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_ascii_string_to_unsigned (line, 10, 1, 65535, &port, NULL));
  opts = g_strdup_printf (
      "{%s, 'autoscale': <{'metric': <'prometheus'>, 'url': <'http://127.0.0.1:%u/metrics'>, "
      "'series': <'queue_depth'>, 'target': <10.0>, 'min': <uint32 1>, 'max': <uint32 5>, "
      "'period_ms': <uint32 500>, 'scale_down_window_s': <uint32 2>, 'scale_up_window_s': "
      "<uint32 0>}>}",
      sleeper, (guint) port);
  id = create_group (opts, &error);
  g_assert_no_error (error);
  wait_desired (id, 3, 60);
  assert_decision_metric (id, "prometheus");
  wait_running (id, 3, 30000);
  g_assert_true (g_file_set_contents (ctl, "5", -1, NULL));
  wait_desired (id, 1, 60);
  remove_group (id);
  g_subprocess_force_exit (server);
  g_subprocess_wait (server, NULL, NULL);
}

/* Busy processes, three per replica, contend for the CPUs. */
static const char *const contender = "import os\n"
                                     "for _ in range(2): os.fork()\n"
                                     "while True: pass\n";

/* metric cpu_pressure: replicas whose processes wait for a CPU (some
 * avg10 well over a 1 % target) scale up; the figure is the replicas'
 * own cgroups', so only on a backend with cgroups. */
static void
test_metric_pressure (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *script = g_build_filename (d->scratch, "contender.py", NULL);
  g_autofree char *opts = NULL, *id = NULL;
  g_autoptr(GVariant) rec = NULL, decision = NULL;
  double average = 0;

  if (g_strcmp0 (d->backend, "none") == 0)
    {
      g_test_skip ("the none backend has no cgroups, so no pressure per replica");
      return;
    }
  if (!g_file_test ("/proc/pressure/cpu", G_FILE_TEST_EXISTS))
    {
      g_test_skip ("no PSI on this kernel");
      return;
    }
  g_assert_true (g_file_set_contents (script, contender, -1, NULL));
  opts = g_strdup_printf (
      "{'template': <{'command': <['/usr/bin/python3', '%s']>}>, 'autoscale': <{'metric': "
      "<'cpu_pressure'>, 'target': <1.0>, 'min': <uint32 1>, 'max': <uint32 2>, 'period_ms': "
      "<uint32 1000>, 'scale_up_window_s': <uint32 0>}>}",
      script);
  id = create_group (opts, &error);
  g_assert_no_error (error);
  wait_desired (id, 2, 90);
  rec = get_group (id);
  decision = g_variant_lookup_value (rec, "last_decision", G_VARIANT_TYPE_VARDICT);
  g_assert_nonnull (decision);
  /* No average in a decision taken while no replica was measured. */
  if (g_variant_lookup (decision, "average", "d", &average))
    g_test_message ("cpu pressure some avg10 per replica: %.1f %%", average);
  assert_decision_metric (id, "cpu_pressure");
  remove_group (id);
}

/* The record's "decisions": every scaling, newest last, at most 32, kept
 * across a restart. */
static void
test_decision_history (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *opts = g_strdup_printf ("{%s, 'replicas': <uint32 0>}", sleeper);
  g_autofree char *id = create_group (opts, &error);
  g_autoptr(GVariant) decisions = NULL, rec = NULL, after = NULL, last = NULL;
  guint32 to = 0;
  const char *reason = NULL;

  g_assert_no_error (error);
  for (guint i = 1; i <= 40; i++)
    scale (id, i % 2);
  rec = get_group (id);
  decisions = g_variant_lookup_value (rec, "decisions", G_VARIANT_TYPE ("aa{sv}"));
  g_assert_nonnull (decisions);
  g_assert_cmpuint (g_variant_n_children (decisions), ==, 32);
  last = g_variant_get_child_value (decisions, 31);
  g_assert_true (g_variant_lookup (last, "to", "u", &to));
  g_assert_cmpuint (to, ==, 0); /* the 40th: 40 % 2 */
  g_assert_true (g_variant_lookup (last, "reason", "&s", &reason));
  g_assert_cmpstr (reason, ==, "manual");
  orch_test_daemon_kill (d, SIGKILL);
  orch_test_daemon_spawn (d);
  after = get_group (id);
  g_clear_pointer (&decisions, g_variant_unref);
  decisions = g_variant_lookup_value (after, "decisions", G_VARIANT_TYPE ("aa{sv}"));
  g_assert_nonnull (decisions);
  g_assert_cmpuint (g_variant_n_children (decisions), ==, 32);
  remove_group (id);
}

static const OrchTestCase tests[] = { { "/groups/introspection", test_introspection },
                                      { "/groups/bad-input", test_bad_input },
                                      { "/groups/scale-by-hand", test_scale_by_hand },
                                      { "/groups/update-rollout", test_update_rollout },
                                      { "/groups/kill-mid-scale", test_kill_mid_scale },
                                      { "/groups/failing-replica", test_failing_replica },
                                      { "/groups/autoscale", test_autoscale },
                                      { "/groups/decision-history", test_decision_history },
                                      { NULL, NULL } };

/* The metric sources: a program run of their own ("metrics" after the
 * backend), so that each run stays within its timeout under load. */
static const OrchTestCase metric_tests[] = {
  { "/groups/metric-file", test_metric_file },
  { "/groups/metric-prometheus", test_metric_prometheus },
  { "/groups/metric-pressure", test_metric_pressure },
  { NULL, NULL },
};

/* ---- proactive ---- */

/* A replica whose memory grows @rate MiB a second (pages written, so
 * resident) up to a cap: the same ramp each run. */
static const char *const grower = "import sys,time\n"
                                  "rate=float(sys.argv[1]); cap=int(sys.argv[2])\n"
                                  "buf=[]; t0=time.monotonic()\n"
                                  "while True:\n"
                                  "  want=min(cap*4, int(rate*(time.monotonic()-t0)*4))\n"
                                  "  while len(buf)<want: buf.append(b'\\x01'*(256*1024))\n"
                                  "  time.sleep(0.1)\n";

/* One run of the ramp: seconds from the first replica running to its
 * first scale-up; the events kept in @s. */
static double
ramp_until_scaled (Scaled *s, const char *script, gboolean proactive)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *opts = NULL, *id = NULL;
  gint64 t0;
  guint i;

  opts = g_strdup_printf (
      "{'template': <{'command': <['/usr/bin/python3', '%s', '3', '160']>}>, 'autoscale': "
      "<{'metric': <'memory_bytes'>, 'target': <%.1f>, 'min': <uint32 1>, 'max': <uint32 3>, "
      "'period_ms': <uint32 1000>, 'scale_up_window_s': <uint32 0>, 'lead_s': <uint32 0>, "
      "'noise_headroom': <0.0>, 'proactive': <%s>, 'proactive_horizon_s': <uint32 15>}>}",
      script, 60.0 * 1024 * 1024, proactive ? "true" : "false");
  id = create_group (opts, &error);
  g_assert_no_error (error);
  s->id = id;
  wait_running (id, 1, 30000);
  t0 = g_get_monotonic_time ();
  i = wait_scaled_to (s, 0, 2, 90);
  /* up to max with the ramp; never past it */
  if (proactive)
    {
      g_autoptr(GVariant) rec = NULL;
      g_autoptr(GVariant) decisions = NULL;
      gboolean kept = FALSE;

      wait_scaled_to (s, i, 3, 90);
      /* the record's decisions keep the forecast figure too */
      rec = get_group (id);
      decisions = g_variant_lookup_value (rec, "decisions", G_VARIANT_TYPE ("aa{sv}"));
      g_assert_nonnull (decisions);
      for (gsize k = 0; k < g_variant_n_children (decisions); k++)
        {
          g_autoptr(GVariant) e = g_variant_get_child_value (decisions, k);
          const char *reason = NULL;
          if (g_variant_lookup (e, "reason", "&s", &reason) && strcmp (reason, "forecast") == 0)
            kept = kept || g_variant_lookup (e, "forecast", "d", NULL);
        }
      g_assert_true (kept);
    }
  remove_group (id);
  s->id = NULL;
  return (double) (g_array_index (s->times, gint64, i) - t0) / G_USEC_PER_SEC;
}

/* The same memory ramp with proactive off and on: on scales up earlier,
 * for the forecast (reason "forecast", the figure in the event and the
 * record's decisions), and neither crosses min or max. */
static void
test_proactive (void)
{
  g_autofree char *script = g_build_filename (d->scratch, "grower.py", NULL);
  double t_off, t_on;
  guint sub;
  Scaled off = { g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref),
                 g_array_new (FALSE, FALSE, sizeof (gint64)), NULL };
  Scaled on = { g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref),
                g_array_new (FALSE, FALSE, sizeof (gint64)), NULL };
  gboolean by_forecast = FALSE;

  g_assert_true (g_file_set_contents (script, grower, -1, NULL));
  /* only for the sampler's figures: refused, naming the setting */
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *bad = create_group (
        "{'template': <{'command': <['sleep', '600']>}>, 'autoscale': <{'metric': <'file'>, "
        "'target': <1.0>, 'max': <uint32 2>, 'proactive': <true>}>}",
        &error);
    g_assert_null (bad);
    g_assert_nonnull (error);
    g_assert_nonnull (strstr (error->message, "proactive"));
    g_clear_error (&error);
    bad = create_group ("{'template': <{'command': <['sleep', '600']>}>, 'autoscale': <{'target': "
                        "<1.0>, 'max': <uint32 2>, 'proactive': <true>, 'proactive_horizon_s': "
                        "<uint32 0>}>}",
                        &error);
    g_assert_null (bad);
    g_assert_nonnull (error);
    g_assert_nonnull (strstr (error->message, "proactive_horizon_s"));
  }
  sub = g_dbus_connection_signal_subscribe (d->conn, "org.orchestrator", "org.orchestrator.Groups",
                                            "GroupChanged", "/org/orchestrator", NULL,
                                            G_DBUS_SIGNAL_FLAGS_NONE, on_group_changed, &off, NULL);
  t_off = ramp_until_scaled (&off, script, FALSE);
  g_dbus_connection_signal_unsubscribe (d->conn, sub);
  sub = g_dbus_connection_signal_subscribe (d->conn, "org.orchestrator", "org.orchestrator.Groups",
                                            "GroupChanged", "/org/orchestrator", NULL,
                                            G_DBUS_SIGNAL_FLAGS_NONE, on_group_changed, &on, NULL);
  t_on = ramp_until_scaled (&on, script, TRUE);
  g_dbus_connection_signal_unsubscribe (d->conn, sub);
  g_test_message ("first scale-up after the first replica runs: proactive off %.1f s, on %.1f s",
                  t_off, t_on);
  for (guint i = 0; i < off.events->len; i++)
    {
      GVariant *e = off.events->pdata[i];
      g_assert_false (g_variant_lookup (e, "forecast", "d", NULL));
    }
  for (guint i = 0; i < on.events->len; i++)
    {
      GVariant *e = on.events->pdata[i];
      const char *reason;
      double forecast = 0, value_sum = 0;
      guint32 to;
      gint64 cost;

      g_assert_true (g_variant_lookup (e, "to", "u", &to));
      g_assert_cmpuint (to, >=, 1);
      g_assert_cmpuint (to, <=, 3);
      g_assert_true (g_variant_lookup (e, "reason", "&s", &reason));
      g_assert_true (g_variant_lookup (e, "forecast_cost_us", "x", &cost));
      if (strcmp (reason, "forecast") == 0)
        {
          g_assert_true (g_variant_lookup (e, "forecast", "d", &forecast));
          g_assert_true (g_variant_lookup (e, "value_sum", "d", &value_sum));
          g_assert_cmpfloat (forecast, >, value_sum);
          g_test_message (
              "forecast decision: %.0f MiB now, %.0f MiB forecast, fit %" G_GINT64_FORMAT " us",
              value_sum / 1048576, forecast / 1048576, cost);
          by_forecast = TRUE;
        }
    }
  for (guint i = 0; i < off.events->len; i++)
    {
      guint32 to;
      g_assert_true (g_variant_lookup (off.events->pdata[i], "to", "u", &to));
      g_assert_cmpuint (to, >=, 1);
      g_assert_cmpuint (to, <=, 3);
    }
  g_assert_true (by_forecast);
  /* the ramp reaches 60 MiB ~17 s in; the forecast 15 s ahead sees it
   * once it has 8 summed samples (4 s at 500 ms) */
  g_assert_cmpfloat (t_on + 3, <, t_off);
  g_ptr_array_unref (off.events);
  g_array_unref (off.times);
  g_ptr_array_unref (on.events);
  g_array_unref (on.times);
}

static const OrchTestCase proactive_tests[] = {
  { "/groups/proactive", test_proactive },
  { NULL, NULL },
};

int
main (int argc, char **argv)
{
  OrchTestProgram program = {
    .daemon = &d,
    .config = "[jobs]\nmax_concurrent=16\nstop_timeout_ms=5000\n[metrics]\nsample_interval_ms=500\n",
    .tests = tests,
  };

  if (argc > 2 && strcmp (argv[2], "metrics") == 0)
    program.tests = metric_tests;
  if (argc > 2 && strcmp (argv[2], "proactive") == 0)
    program.tests = proactive_tests;
  return orch_test_main (argc, argv, &program);
}
