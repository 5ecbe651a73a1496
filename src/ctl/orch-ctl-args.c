/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-ctl.h"

#include <glib/gi18n.h>
#include <stdio.h>

int
orch_ctl_fail (int code, const char *format, ...)
{
  va_list ap;
  g_autofree char *message = NULL;

  va_start (ap, format);
  message = g_strdup_vprintf (format, ap);
  va_end (ap);
  /* One line: scripts log it as is. */
  g_strdelimit (message, "\n", ' ');
  fflush (stdout);
  g_printerr ("orchestratorctl: %s\n", message);
  return code;
}

gboolean
orch_ctl_parse (OrchCtl *ctl, const char *command, const char *params, const char *summary,
                const GOptionEntry *entries, gboolean no_user_global, int *argc, char ***argv,
                int *exit_code)
{
  gboolean help = FALSE;
  const GOptionEntry globals[] = {
    { "system", 0, 0, G_OPTION_ARG_NONE, &ctl->system, N_("Talk to orchestratord on the system bus (default)"), NULL },
    { "user", 0, 0, G_OPTION_ARG_NONE, &ctl->user, N_("Talk to orchestratord on the session bus"), NULL },
    { "bus-address", 0, 0, G_OPTION_ARG_STRING, &ctl->bus_address, N_("Talk to orchestratord on the bus at ADDRESS"), N_("ADDRESS") },
    { "help", 'h', 0, G_OPTION_ARG_NONE, &help, N_("Show this help"), NULL },
    { NULL }
  };
  g_autofree char *usage = g_strdup_printf ("%s%s%s", command, params && *params ? " " : "", params ? params : "");
  g_autoptr(GOptionContext) ctx = g_option_context_new (usage);
  g_autoptr(GError) error = NULL;

  g_option_context_set_help_enabled (ctx, FALSE);
  g_option_context_set_summary (ctx, summary);
  g_option_context_set_translation_domain (ctx, GETTEXT_PACKAGE);
  if (entries)
    g_option_context_add_main_entries (ctx, entries, GETTEXT_PACKAGE);
  if (no_user_global)
    {
      /* Without "user", which `run` uses for the job's user. */
      GOptionEntry some[G_N_ELEMENTS (globals)];
      guint n = 0;
      for (guint i = 0; i < G_N_ELEMENTS (globals); i++)
        if (g_strcmp0 (globals[i].long_name, "user") != 0)
          some[n++] = globals[i];
      g_option_context_add_main_entries (ctx, some, GETTEXT_PACKAGE);
    }
  else
    g_option_context_add_main_entries (ctx, globals, GETTEXT_PACKAGE);

  if (!g_option_context_parse (ctx, argc, argv, &error))
    {
      *exit_code = orch_ctl_fail (ORCH_CTL_EXIT_USAGE, _("%s (see “orchestratorctl %s --help”)"),
                                  error->message, command);
      return FALSE;
    }
  if (help)
    {
      g_autofree char *text = g_option_context_get_help (ctx, TRUE, NULL);
      g_print ("%s", text);
      *exit_code = ORCH_CTL_EXIT_OK;
      return FALSE;
    }
  if (ctl->system + ctl->user + (ctl->bus_address != NULL) > 1)
    {
      *exit_code = orch_ctl_fail (ORCH_CTL_EXIT_USAGE, "%s",
                                  _("use only one of --system, --user and --bus-address"));
      return FALSE;
    }
  return TRUE;
}

gboolean
orch_ctl_want_args (int argc, char **argv, int n, const char *command, int *exit_code)
{
  if (argc - 1 < n)
    {
      *exit_code = orch_ctl_fail (ORCH_CTL_EXIT_USAGE, _("%s: missing argument (see “orchestratorctl %s --help”)"),
                                  command, command);
      return FALSE;
    }
  if (argc - 1 > n)
    {
      *exit_code = orch_ctl_fail (ORCH_CTL_EXIT_USAGE, _("%s: unexpected argument “%s” (see “orchestratorctl %s --help”)"),
                                  command, argv[n + 1], command);
      return FALSE;
    }
  return TRUE;
}
