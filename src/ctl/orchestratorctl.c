/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* orchestratorctl: the everyday client of orchestratord. */
#include "config.h"

#include "orch-ctl.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
  const char *name;
  OrchCtlCommand run;
  const char *synopsis;
  const char *summary;
} commands[] = {
  { "run", orch_ctl_cmd_run, N_("run [OPTION…] -- COMMAND [ARG…]"),
    N_("Start a job, print its id") },
  { "list", orch_ctl_cmd_list, N_("list [--state STATE] [--json]"), N_("List the jobs") },
  { "status", orch_ctl_cmd_status, N_("status ID"),
    N_("Show a job, its figures and last log lines") },
  { "stop", orch_ctl_cmd_stop, N_("stop ID [--signal S] [--timeout T]"), N_("Stop a job") },
  { "restart", orch_ctl_cmd_restart, N_("restart ID"), N_("Restart a job") },
  { "rm", orch_ctl_cmd_rm, N_("rm ID [--force]"), N_("Remove a finished job") },
  { "logs", orch_ctl_cmd_logs, N_("logs ID [-n N] [-f] [--stderr]"),
    N_("Print or follow a job's log") },
  { "top", orch_ctl_cmd_top, N_("top [-d DELAY] [-n N]"),
    N_("Live view of the system and the jobs") },
  { "metrics", orch_ctl_cmd_metrics, N_("metrics [system|detailed|job ID|pid PID]"),
    N_("System, job or process figures") },
  { "cleanup", orch_ctl_cmd_cleanup, N_("cleanup --older-than AGE"),
    N_("Remove logs of jobs finished long ago") },
  { "set-limits", orch_ctl_cmd_set_limits,
    N_("set-limits ID [--memory-max SIZE] [--cpu-quota CORES] …"), N_("Change a job's limits") },
  { "events", orch_ctl_cmd_events, N_("events [ID] [-f] [-n N] [--json]"),
    N_("What happened to the jobs") },
  { "schedule", orch_ctl_cmd_schedule, N_("schedule add|list|show|rm|pause|resume|trigger|next"),
    N_("Run jobs on a calendar, cron or interval") },
  { "group", orch_ctl_cmd_group, N_("group create|list|show|rm …"),
    N_("Job groups: replicas of one template") },
  { "scale", orch_ctl_cmd_scale, N_("scale GROUP N"), N_("Set a job group's replica count") },
  { "forecast", orch_ctl_cmd_forecast,
    N_("forecast ID|GROUP|system [--horizon D] [--memory-limit S]"),
    N_("Forecast CPU and memory, and when memory runs out") },
  { "recommend", orch_ctl_cmd_recommend, N_("recommend ID"),
    N_("Recommend limits from a job's usage") },
};

static void
print_help (void)
{
  g_print ("%s\n  orchestratorctl [--system|--user|--bus-address=%s] %s\n\n%s\n\n%s\n", _("Usage:"), _("ADDRESS"),
           _("COMMAND [OPTION…]"), _("Start, stop and watch the jobs of orchestratord."), _("Commands:"));
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      const char *synopsis = _(commands[i].synopsis);
      int pad = 44 - (int) g_utf8_strlen (synopsis, -1);
      g_print ("  %s%*s %s\n", synopsis, MAX (pad, 1), "", _(commands[i].summary));
    }
  g_print ("\n%s\n", _("Options:"));
  g_print ("  --system                 %s\n", _("Talk to orchestratord on the system bus (default)"));
  g_print ("  --user                   %s\n", _("Talk to orchestratord on the session bus"));
  g_print ("  --bus-address=%-10s %s\n", _("ADDRESS"), _("Talk to orchestratord on the bus at ADDRESS"));
  g_print ("  --version                %s\n", _("Print the version and exit"));
  g_print ("  -h, --help               %s\n", _("Show this help"));
  g_print ("\n%s\n%s\n", _("Run “orchestratorctl COMMAND --help” for the options of a command."),
           _("Exit status: 0 success, 1 failure, 2 wrong usage, 4 no such job."));
}

/* The command word: the first argument that is neither an option nor the
 * value of a global option written apart ("--bus-address ADDR"). */
static int
find_command (int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--") == 0)
        return -1;
      if (argv[i][0] != '-')
        return i;
      if (strcmp (argv[i], "--bus-address") == 0)
        i++;
    }
  return -1;
}

static gboolean
has_arg (int argc, char **argv, const char *a, const char *b)
{
  for (int i = 1; i < argc && strcmp (argv[i], "--") != 0; i++)
    if (strcmp (argv[i], a) == 0 || (b && strcmp (argv[i], b) == 0))
      return TRUE;
  return FALSE;
}

int
main (int argc, char **argv)
{
  OrchCtl ctl = { 0 };
  const char *localedir = g_getenv ("ORCH_LOCALEDIR");
  const char *no_color = g_getenv ("NO_COLOR");
  g_autofree char **sub_argv = NULL;
  int at, ret;

  setlocale (LC_ALL, "");
  /* ORCH_LOCALEDIR: catalogs from elsewhere, as the tests use the built ones. */
  bindtextdomain (GETTEXT_PACKAGE, localedir && *localedir ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_set_prgname ("orchestratorctl");

  at = find_command (argc, argv);
  if (at < 0)
    {
      if (has_arg (argc, argv, "--version", NULL))
        {
          g_print ("orchestratorctl %s\n", PACKAGE_VERSION);
          return ORCH_CTL_EXIT_OK;
        }
      if (has_arg (argc, argv, "--help", "-h"))
        {
          print_help ();
          return ORCH_CTL_EXIT_OK;
        }
      return orch_ctl_fail (ORCH_CTL_EXIT_USAGE, "%s", _("no command given (see “orchestratorctl --help”)"));
    }
  ctl.colour = isatty (STDOUT_FILENO) && (no_color == NULL || *no_color == '\0') &&
               g_strcmp0 (g_getenv ("TERM"), "dumb") != 0;

  /* The command sees every argument but its own name, so global options
   * go before or after it. */
  sub_argv = g_new0 (char *, argc + 1);
  for (int i = 0, j = 0; i < argc; i++)
    if (i != at)
      sub_argv[j++] = argv[i];
  ret = -1;
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (argv[at], commands[i].name) == 0)
      {
        char **args = sub_argv; /* the parser shuffles the pointers */
        ret = commands[i].run (&ctl, argc - 1, args);
        break;
      }
  if (ret < 0)
    ret = orch_ctl_fail (ORCH_CTL_EXIT_USAGE, _("unknown command “%s” (see “orchestratorctl --help”)"), argv[at]);

  if (ctl.bus)
    {
      g_dbus_connection_flush_sync (ctl.bus, NULL, NULL);
      g_object_unref (ctl.bus);
    }
  g_free (ctl.bus_address);
  return ret;
}
