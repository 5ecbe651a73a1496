/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* orchestratorctl group …, orchestratorctl scale: org.orchestrator.Groups. */
#include "config.h"

#include "orch-ctl.h"

#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>

static GVariant *
empty_options (void)
{
  return g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0);
}

static int
group_create (OrchCtl *ctl, char **command, const char *name, int replicas, int max_unavailable,
              char **env, double cpu_target, int min, int max)
{
  GVariantBuilder opts, tmpl;
  g_autoptr(GVariant) reply = NULL;
  int exit_code = ORCH_CTL_EXIT_OK;
  const char *id;

  g_variant_builder_init (&tmpl, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&tmpl, "{sv}", "command",
                         g_variant_new_strv ((const char *const *) command, -1));
  if (name)
    g_variant_builder_add (&tmpl, "{sv}", "name", g_variant_new_string (name));
  if (env && env[0])
    {
      GVariantBuilder eb;
      g_variant_builder_init (&eb, G_VARIANT_TYPE ("a{ss}"));
      for (char **e = env; *e; e++)
        {
          const char *eq = strchr (*e, '=');
          g_autofree char *key = NULL;
          if (!eq || eq == *e)
            return orch_ctl_fail (ORCH_CTL_EXIT_USAGE, _("--env: “%s” is not NAME=VALUE"), *e);
          key = g_strndup (*e, eq - *e);
          g_variant_builder_add (&eb, "{ss}", key, eq + 1);
        }
      g_variant_builder_add (&tmpl, "{sv}", "env", g_variant_builder_end (&eb));
    }
  g_variant_builder_init (&opts, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&opts, "{sv}", "template", g_variant_builder_end (&tmpl));
  if (name)
    g_variant_builder_add (&opts, "{sv}", "name", g_variant_new_string (name));
  if (replicas >= 0)
    g_variant_builder_add (&opts, "{sv}", "replicas", g_variant_new_uint32 (replicas));
  if (max_unavailable >= 0)
    g_variant_builder_add (&opts, "{sv}", "max_unavailable",
                           g_variant_new_uint32 (max_unavailable));
  if (cpu_target > 0)
    {
      if (max < 0)
        return orch_ctl_fail (ORCH_CTL_EXIT_USAGE, "%s",
                              _("group create: --cpu-target needs --max"));
      g_variant_builder_add (&opts, "{sv}", "autoscale",
                             g_variant_new_parsed ("{'metric': <'cpu_percent'>, 'target': <%d>, "
                                                   "'min': <%u>, 'max': <%u>}",
                                                   cpu_target, (guint32) (min >= 0 ? min : 1),
                                                   (guint32) max));
    }
  reply = orch_ctl_call (ctl, "Groups", "Create",
                         g_variant_new ("(@a{sv})", g_variant_builder_end (&opts)), "(so)",
                         &exit_code);
  if (reply == NULL)
    return exit_code;
  g_variant_get (reply, "(&so)", &id, NULL);
  g_print ("%s\n", id);
  return ORCH_CTL_EXIT_OK;
}

static int
group_list (OrchCtl *ctl, gboolean json)
{
  static const char *const headers[] = { N_("ID"),      N_("NAME"),       N_("DESIRED"),
                                         N_("RUNNING"), N_("LAST SCALE"), NULL };
  const char *hdr[G_N_ELEMENTS (headers)];
  g_autoptr(GVariant) reply = NULL, groups = NULL;
  g_autoptr(OrchCtlTable) table = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  int exit_code = ORCH_CTL_EXIT_OK;

  reply = orch_ctl_call (ctl, "Groups", "List", NULL, "(aa{sv})", &exit_code);
  if (reply == NULL)
    return exit_code;
  groups = g_variant_get_child_value (reply, 0);
  if (json)
    {
      orch_ctl_print_json (groups);
      return ORCH_CTL_EXIT_OK;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (headers); i++)
    hdr[i] = headers[i] ? _ (headers[i]) : NULL;
  table = orch_ctl_table_new (ctl, hdr);
  orch_ctl_table_align_right (table, 2);
  orch_ctl_table_align_right (table, 3);
  for (gsize i = 0; i < g_variant_n_children (groups); i++)
    {
      g_autoptr(GVariant) rec = g_variant_get_child_value (groups, i);
      g_autoptr(GVariant) last = g_variant_lookup_value (rec, "last_scale", G_VARIANT_TYPE_VARDICT);
      g_autofree char *desired = g_strdup_printf ("%" G_GUINT64_FORMAT,
                                                  orch_ctl_rec_u64 (rec, "desired"));
      g_autofree char *running = g_strdup_printf ("%" G_GUINT64_FORMAT,
                                                  orch_ctl_rec_u64 (rec, "running"));
      g_autofree char *scaled = last ? g_strdup_printf ("%" G_GUINT64_FORMAT " → %" G_GUINT64_FORMAT
                                                        " (%s)",
                                                        orch_ctl_rec_u64 (last, "from"),
                                                        orch_ctl_rec_u64 (last, "to"),
                                                        orch_ctl_rec_str (last, "reason"))
                                     : g_strdup ("-");
      const char *cells[] = {
        orch_ctl_rec_str (rec, "id"), orch_ctl_rec_str (rec, "name"), desired, running, scaled, NULL
      };
      orch_ctl_table_add (table, cells, 0, NULL);
    }
  orch_ctl_table_print (table, out, 0);
  g_print ("%s", out->str);
  return ORCH_CTL_EXIT_OK;
}

int
orch_ctl_cmd_group (OrchCtl *ctl, int argc, char **argv)
{
  g_autofree char *name = NULL;
  g_auto(GStrv) env = NULL;
  int replicas = -1, max_unavailable = -1, min = -1, max = -1;
  double cpu_target = 0;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "name", 'n', 0, G_OPTION_ARG_STRING, &name,
      N_("create: a name for the group and its replicas"), N_("NAME") },
    { "replicas", 0, 0, G_OPTION_ARG_INT, &replicas, N_("create: how many replicas (default 1)"),
      N_("N") },
    { "max-unavailable", 0, 0, G_OPTION_ARG_INT, &max_unavailable,
      N_("create: replicas that may be down during an update (default 1)"), N_("N") },
    { "env", 'e', 0, G_OPTION_ARG_STRING_ARRAY, &env,
      N_("create: set an environment variable (repeatable)"), N_("NAME=VALUE") },
    { "cpu-target", 0, 0, G_OPTION_ARG_DOUBLE, &cpu_target,
      N_("create: autoscale to hold this CPU percent per replica"), N_("PERCENT") },
    { "min", 0, 0, G_OPTION_ARG_INT, &min, N_("create: autoscale minimum (default 1)"), N_("N") },
    { "max", 0, 0, G_OPTION_ARG_INT, &max, N_("create: autoscale maximum"), N_("N") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("list: print JSON"), NULL },
    { NULL }
  };
  char **command = NULL;
  int n_opts = argc;
  int exit_code = ORCH_CTL_EXIT_OK;
  const char *verb;

  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], "--") == 0)
      {
        command = argv + i + 1;
        n_opts = i;
        argv[i] = NULL;
        break;
      }
  if (!orch_ctl_parse (ctl, "group", _("create|list|show|rm [OPTION…] [ID] [-- COMMAND [ARG…]]"),
                       _("Create, list, show or remove job groups."), entries, FALSE, &n_opts,
                       &argv, &exit_code))
    return exit_code;
  verb = n_opts > 1 ? argv[1] : "";
  if (strcmp (verb, "create") == 0)
    {
      if (n_opts != 2 || command == NULL || command[0] == NULL)
        return orch_ctl_fail (
            ORCH_CTL_EXIT_USAGE, "%s",
            _("group create: put “--” before the command, as in: orchestratorctl group create --replicas 3 -- python3 -m http.server"));
      return group_create (ctl, command, name, replicas, max_unavailable, env, cpu_target, min,
                           max);
    }
  if (strcmp (verb, "list") == 0 && n_opts == 2)
    return group_list (ctl, json);
  if ((strcmp (verb, "show") == 0 || strcmp (verb, "rm") == 0) && n_opts == 3)
    {
      gboolean show = strcmp (verb, "show") == 0;
      g_autoptr(GVariant) reply = show ? orch_ctl_call (ctl, "Groups", "Get",
                                                        g_variant_new ("(s)", argv[2]), "(a{sv})",
                                                        &exit_code)
                                       : orch_ctl_call (
                                             ctl, "Groups", "Remove",
                                             g_variant_new ("(s@a{sv})", argv[2], empty_options ()),
                                             "()", &exit_code);
      if (reply == NULL)
        return exit_code;
      if (show)
        {
          g_autoptr(GVariant) rec = g_variant_get_child_value (reply, 0);
          orch_ctl_print_json (rec);
        }
      return ORCH_CTL_EXIT_OK;
    }
  return orch_ctl_fail (ORCH_CTL_EXIT_USAGE, "%s", _("group: say create, list, show ID or rm ID"));
}

int
orch_ctl_cmd_scale (OrchCtl *ctl, int argc, char **argv)
{
  const GOptionEntry entries[] = { { NULL } };
  g_autoptr(GVariant) reply = NULL;
  int exit_code = ORCH_CTL_EXIT_OK;
  char *end = NULL;
  guint64 n;

  if (!orch_ctl_parse (ctl, "scale", _("GROUP N"), _("Set a job group's replica count."), entries,
                       FALSE, &argc, &argv, &exit_code) ||
      !orch_ctl_want_args (argc, argv, 2, "scale", &exit_code))
    return exit_code;
  n = g_ascii_strtoull (argv[2], &end, 10);
  if (!*argv[2] || *end || n > G_MAXUINT32)
    return orch_ctl_fail (ORCH_CTL_EXIT_USAGE, _("scale: “%s” is not a number of replicas"),
                          argv[2]);
  reply = orch_ctl_call (ctl, "Groups", "Scale", g_variant_new ("(su)", argv[1], (guint32) n), "()",
                         &exit_code);
  return reply ? ORCH_CTL_EXIT_OK : exit_code;
}
