/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* metrics: org.orchestrator.Metrics, figures in human units. */
#include "config.h"

#include "orch-ctl.h"
#include "orch-ctl-units.h"

#include <glib/gi18n.h>
#include <string.h>

static gboolean
is_number (GVariant *v)
{
  return g_variant_is_of_type (v, G_VARIANT_TYPE_DOUBLE) || g_variant_is_of_type (v, G_VARIANT_TYPE_UINT64) ||
         g_variant_is_of_type (v, G_VARIANT_TYPE_INT64) || g_variant_is_of_type (v, G_VARIANT_TYPE_UINT32) ||
         g_variant_is_of_type (v, G_VARIANT_TYPE_INT32);
}

static double
number (GVariant *v)
{
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_DOUBLE))
    return g_variant_get_double (v);
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_UINT64))
    return (double) g_variant_get_uint64 (v);
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_INT64))
    return (double) g_variant_get_int64 (v);
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_UINT32))
    return g_variant_get_uint32 (v);
  return g_variant_get_int32 (v);
}

/* The unit is in the key's name: *_percent, *_bytes, *_rate, ... */
static char *
format_figure (const char *key, GVariant *v)
{
  double x;
  static const char *const byte_keys[] = { "memory_total", "memory_available", "memory_used", "swap_total",
                                           "swap_used", "disk_total", "disk_used", "disk_free", "total", "used",
                                           "free", "available", NULL };

  if (!is_number (v))
    {
      if (g_variant_is_of_type (v, G_VARIANT_TYPE_STRING))
        return g_variant_dup_string (v, NULL);
      return g_variant_print (v, FALSE);
    }
  x = number (v);
  if (g_str_has_suffix (key, "_percent") || strcmp (key, "percent") == 0 || g_str_has_suffix (key, "_avg10"))
    return g_strdup_printf ("%.1f%%", x);
  if (g_str_has_suffix (key, "_rate"))
    {
      g_autofree char *s = orch_ctl_format_size ((guint64) MAX (x, 0));
      return g_strdup_printf ("%s/s", s);
    }
  if (g_str_has_suffix (key, "bytes") || g_str_has_suffix (key, "_bytes_sent") ||
      g_str_has_suffix (key, "_bytes_recv") || g_strv_contains (byte_keys, key))
    return orch_ctl_format_size ((guint64) MAX (x, 0));
  if (strcmp (key, "uptime_s") == 0)
    return orch_ctl_format_duration ((guint64) MAX (x, 0) * G_USEC_PER_SEC);
  if (strcmp (key, "cpu_usage_usec") == 0)
    return orch_ctl_format_duration ((guint64) MAX (x, 0));
  if (strcmp (key, "timestamp") == 0 || strcmp (key, "start_time") == 0)
    return orch_ctl_format_time ((guint64) MAX (x, 0));
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_DOUBLE))
    return g_strdup_printf ("%.2f", x);
  return g_strdup_printf ("%.0f", x);
}

static void print_value (GString *out, const char *key, GVariant *v, int indent);

static void
print_dict (GString *out, GVariant *dict, int indent)
{
  GVariantIter iter;
  const char *key;
  GVariant *v;
  int width = 0;

  g_variant_iter_init (&iter, dict);
  while (g_variant_iter_next (&iter, "{&sv}", &key, NULL))
    width = MAX (width, (int) strlen (key));
  g_variant_iter_init (&iter, dict);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &v))
    {
      if (g_variant_is_container (v) && !g_variant_is_of_type (v, G_VARIANT_TYPE_STRING_ARRAY))
        {
          g_string_append_printf (out, "%*s%s:\n", indent, "", key);
          print_value (out, key, v, indent + 2);
        }
      else
        {
          g_autofree char *s = format_figure (key, v);
          g_string_append_printf (out, "%*s%-*s  %s\n", indent, "", width + 1, key, s);
        }
    }
}

static void
print_value (GString *out, const char *key, GVariant *v, int indent)
{
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_VARIANT))
    {
      g_autoptr(GVariant) inner = g_variant_get_variant (v);
      print_value (out, key, inner, indent);
      return;
    }
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_VARDICT))
    {
      print_dict (out, v, indent);
      return;
    }
  if (g_variant_is_of_type (v, G_VARIANT_TYPE ("a{s*}")))
    {
      /* A map of plain values (source: figure → where it came from). */
      GVariantIter iter;
      GVariant *entry;
      g_variant_iter_init (&iter, v);
      while ((entry = g_variant_iter_next_value (&iter)))
        {
          g_autoptr(GVariant) e = entry;
          g_autoptr(GVariant) k = g_variant_get_child_value (e, 0);
          g_autoptr(GVariant) val = g_variant_get_child_value (e, 1);
          const char *name = g_variant_get_string (k, NULL);
          g_string_append_printf (out, "%*s%s:\n", indent, "", name);
          print_value (out, name, val, indent + 2);
        }
      return;
    }
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_ARRAY))
    {
      for (gsize i = 0; i < g_variant_n_children (v); i++)
        {
          g_autoptr(GVariant) child = g_variant_get_child_value (v, i);
          if (g_variant_is_container (child))
            {
              g_string_append_printf (out, "%*s[%" G_GSIZE_FORMAT "]\n", indent, "", i);
              print_value (out, key, child, indent + 2);
            }
          else
            {
              /* Arrays of plain figures (per-CPU percent): "cpu0  12.0%". */
              g_autofree char *s = format_figure (key, child);
              g_string_append_printf (out, "%*s%" G_GSIZE_FORMAT "  %s\n", indent, "", i, s);
            }
        }
      return;
    }
  {
    g_autofree char *s = format_figure (key, v);
    g_string_append_printf (out, "%*s%s\n", indent, "", s);
  }
}

int
orch_ctl_cmd_metrics (OrchCtl *ctl, int argc, char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) figures = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  const char *what;
  int exit_code = ORCH_CTL_EXIT_OK;

  if (!orch_ctl_parse (ctl, "metrics", _("[system|detailed|job ID|pid PID]"),
                       _("Print system, job or process figures."), entries, FALSE, &argc, &argv, &exit_code))
    return exit_code;
  what = argc > 1 ? argv[1] : "system";
  if (strcmp (what, "system") == 0 || strcmp (what, "detailed") == 0)
    {
      if (!orch_ctl_want_args (argc, argv, argc > 1 ? 1 : 0, "metrics", &exit_code))
        return exit_code;
      reply = orch_ctl_call (ctl, "Metrics", strcmp (what, "system") == 0 ? "GetSystem" : "GetSystemDetailed",
                             NULL, "(a{sv})", &exit_code);
    }
  else if (strcmp (what, "job") == 0)
    {
      if (!orch_ctl_want_args (argc, argv, 2, "metrics", &exit_code))
        return exit_code;
      reply = orch_ctl_call (ctl, "Metrics", "GetJob", g_variant_new ("(s)", argv[2]), "(a{sv})", &exit_code);
    }
  else if (strcmp (what, "pid") == 0)
    {
      guint64 pid;
      if (!orch_ctl_want_args (argc, argv, 2, "metrics", &exit_code))
        return exit_code;
      if (!g_ascii_string_to_unsigned (argv[2], 10, 1, G_MAXINT32, &pid, NULL))
        return orch_ctl_fail (ORCH_CTL_EXIT_USAGE, _("metrics pid: “%s” is not a process id"), argv[2]);
      reply = orch_ctl_call (ctl, "Metrics", "GetProcess", g_variant_new ("(u)", (guint32) pid), "(a{sv})", &exit_code);
    }
  else
    return orch_ctl_fail (ORCH_CTL_EXIT_USAGE,
                          _("metrics: “%s” is not one of system, detailed, job ID, pid PID"), what);
  if (reply == NULL)
    return exit_code;
  figures = g_variant_get_child_value (reply, 0);
  if (json)
    {
      orch_ctl_print_json (figures);
      return ORCH_CTL_EXIT_OK;
    }
  print_dict (out, figures, 0);
  g_print ("%s", out->str);
  return ORCH_CTL_EXIT_OK;
}
