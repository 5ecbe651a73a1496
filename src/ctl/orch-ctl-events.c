/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* events: Jobs.GetEvents, and with -f Jobs.JobEvent as they come. */
#include "config.h"

#include "orch-ctl.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <string.h>

typedef struct {
  const char *id; /* NULL: every job's */
  gboolean json;
  GMainLoop *loop;
} Watch;

/* One line: time, job, kind, then the data's keys. */
static void
print_event (const char *id, const char *kind, guint64 time, GVariant *data, gboolean json,
             guint64 seq)
{
  g_autofree char *when = orch_ctl_format_time (time);
  GString *line;
  GVariantIter iter;
  const char *key;
  GVariant *value;

  if (json)
    {
      g_autoptr(GVariant) v = g_variant_ref_sink (g_variant_new_parsed (
          "{'seq': <%t>, 'id': <%s>, 'kind': <%s>, 'time': <%t>, 'data': <%@a{sv}>}", seq, id, kind,
          time, data));
      orch_ctl_print_json (v);
      return;
    }
  line = g_string_new (NULL);
  g_string_append_printf (line, "%s  %s  %-15s", when, id, kind);
  g_variant_iter_init (&iter, data);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    {
      g_autofree char *text = g_variant_print (value, FALSE);
      g_string_append_printf (line, " %s=%s", key, text);
    }
  g_print ("%s\n", line->str);
  g_string_free (line, TRUE);
}

static void
on_event (GDBusConnection *c, const char *sender, const char *path, const char *iface,
          const char *signal, GVariant *params, gpointer data)
{
  Watch *w = data;
  const char *id, *kind;
  guint64 time;
  g_autoptr(GVariant) ev_data = NULL;

  if (!g_variant_is_of_type (params, G_VARIANT_TYPE ("(ssta{sv})")))
    return;
  g_variant_get (params, "(&s&st@a{sv})", &id, &kind, &time, &ev_data);
  if (w->id && strcmp (w->id, id) != 0)
    return;
  print_event (id, kind, time, ev_data, w->json, 0);
}

static gboolean
interrupted (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_CONTINUE;
}

int
orch_ctl_cmd_events (OrchCtl *ctl, int argc, char **argv)
{
  gboolean follow = FALSE, json = FALSE;
  int limit = 0;
  const GOptionEntry entries[] = {
    { "follow", 'f', 0, G_OPTION_ARG_NONE, &follow, N_("Keep printing events as they happen"),
      NULL },
    { "lines", 'n', 0, G_OPTION_ARG_INT, &limit, N_("Only the last N events"), N_("N") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("One JSON object per event"), NULL },
    { NULL }
  };
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) events = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  GDBusConnection *bus = NULL;
  Watch w = { 0 };
  int exit_code = ORCH_CTL_EXIT_OK;
  guint sub = 0, sigint, sigterm;
  gsize n, first = 0;

  if (!orch_ctl_parse (
          ctl, "events", _("[ID]"),
          _("Show what happened to the jobs (exited, restarted, limits_changed), or to one."),
          entries, FALSE, &argc, &argv, &exit_code))
    return exit_code;
  if (argc > 2)
    return orch_ctl_fail (ORCH_CTL_EXIT_USAGE, _("events: at most one job id"));
  w.id = argc == 2 ? argv[1] : NULL;
  w.json = json;
  if (follow)
    {
      /* Subscribed before the list is read: nothing falls in between. */
      bus = orch_ctl_bus (ctl, &exit_code);
      if (bus == NULL)
        return exit_code;
      sub = g_dbus_connection_signal_subscribe (bus, NULL, "org.orchestrator.Jobs", "JobEvent",
                                                "/org/orchestrator", NULL, 0, on_event, &w, NULL);
    }
  reply = orch_ctl_call (ctl, "Jobs", "GetEvents",
                         g_variant_new_parsed ("(%s, @a{sv} {})", w.id ? w.id : ""), "(aa{sv})",
                         &exit_code);
  if (reply == NULL)
    return exit_code;
  events = g_variant_get_child_value (reply, 0);
  n = g_variant_n_children (events);
  if (limit > 0 && (gsize) limit < n)
    first = n - (gsize) limit;
  for (gsize i = first; i < n; i++)
    {
      g_autoptr(GVariant) e = g_variant_get_child_value (events, i);
      g_autoptr(GVariant) data = g_variant_lookup_value (e, "data", G_VARIANT_TYPE_VARDICT);
      const char *id = "", *kind = "";
      guint64 time = 0, seq = 0;
      g_variant_lookup (e, "id", "&s", &id);
      g_variant_lookup (e, "kind", "&s", &kind);
      g_variant_lookup (e, "time", "t", &time);
      g_variant_lookup (e, "seq", "t", &seq);
      print_event (id, kind, time, data, json, seq);
    }
  if (!follow)
    return ORCH_CTL_EXIT_OK;
  loop = g_main_loop_new (NULL, FALSE);
  w.loop = loop;
  sigint = g_unix_signal_add (SIGINT, interrupted, loop);
  sigterm = g_unix_signal_add (SIGTERM, interrupted, loop);
  g_main_loop_run (loop);
  g_source_remove (sigint);
  g_source_remove (sigterm);
  g_dbus_connection_signal_unsubscribe (bus, sub);
  return ORCH_CTL_EXIT_OK;
}
