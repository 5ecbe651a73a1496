/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* run, list, status, stop, restart, rm: org.orchestrator.Jobs. */
#include "config.h"

#include "orch-ctl.h"
#include "orch-ctl-units.h"

#include <glib/gi18n.h>
#include <string.h>

#define STATUS_LOG_LINES 10
#define STATUS_HISTORY_ROWS 10

static int
bad_value (const char *option, const char *value, const char *example)
{
  return orch_ctl_fail (ORCH_CTL_EXIT_USAGE, _("--%s: “%s” is not valid (for example: %s)"), option, value, example);
}

/* Adds @key (milliseconds, "u") from the duration @value of --@option, if
 * given; a usage error otherwise. */
static gboolean
add_ms (GVariantBuilder *b, const char *key, const char *option, const char *value, const char *example,
        int *exit_code)
{
  guint64 us;

  if (value == NULL)
    return TRUE;
  if (!orch_ctl_parse_duration (value, &us) || us / 1000 > G_MAXUINT32)
    {
      *exit_code = bad_value (option, value, example);
      return FALSE;
    }
  g_variant_builder_add (b, "{sv}", key, g_variant_new_uint32 ((guint32) (us / 1000)));
  return TRUE;
}

int
orch_ctl_cmd_run (OrchCtl *ctl, int argc, char **argv)
{
  g_autofree char *name = NULL, *restart = NULL, *memory_max = NULL, *cpu_quota = NULL;
  g_autofree char *cwd = NULL, *user = NULL, *stop_timeout = NULL, *restart_delay = NULL;
  g_autofree char *on_calendar = NULL;
  g_autofree char *memory_warn_before = NULL;
  g_auto(GStrv) env = NULL;
  int tasks_max = -1, restart_max = -1;
  gboolean separate_stderr = FALSE;
  gboolean log_timestamps = FALSE;
  const GOptionEntry entries[] = {
    { "name", 'n', 0, G_OPTION_ARG_STRING, &name, N_("A name for the job"), N_("NAME") },
    { "restart", 'r', 0, G_OPTION_ARG_STRING, &restart,
      N_("Restart policy: no, on-failure or always"), N_("POLICY") },
    { "restart-max", 0, 0, G_OPTION_ARG_INT, &restart_max,
      N_("Give up after this many restarts (0: never)"), N_("N") },
    { "restart-delay", 0, 0, G_OPTION_ARG_STRING, &restart_delay,
      N_("First delay before a restart (100ms, 2s)"), N_("DURATION") },
    { "memory-max", 'm', 0, G_OPTION_ARG_STRING, &memory_max, N_("Memory limit (512M, 1.5G)"),
      N_("SIZE") },
    { "cpu-quota", 'c', 0, G_OPTION_ARG_STRING, &cpu_quota,
      N_("CPU limit in cores (0.5) or percent of one core (50%)"), N_("CORES") },
    { "tasks-max", 0, 0, G_OPTION_ARG_INT, &tasks_max, N_("Limit on processes and threads"),
      N_("N") },
    { "stop-timeout", 0, 0, G_OPTION_ARG_STRING, &stop_timeout,
      N_("From SIGTERM to SIGKILL on stop (10s)"), N_("DURATION") },
    { "env", 'e', 0, G_OPTION_ARG_STRING_ARRAY, &env,
      N_("Set an environment variable (repeatable)"), N_("NAME=VALUE") },
    { "cwd", 'C', 0, G_OPTION_ARG_FILENAME, &cwd, N_("Working directory (absolute)"), N_("DIR") },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &user, N_("Run as this user (name or uid)"),
      N_("USER") },
    { "separate-stderr", 0, 0, G_OPTION_ARG_NONE, &separate_stderr,
      N_("Keep stderr in a log of its own"), NULL },
    { "log-timestamps", 0, 0, G_OPTION_ARG_NONE, &log_timestamps,
      N_("Record each output line's time of arrival (logs --timestamps, --format=json)"), NULL },
    { "on-calendar", 0, 0, G_OPTION_ARG_STRING, &on_calendar,
      N_("Do not start it now: make a schedule that runs it at these times (OnCalendar= syntax) and print the schedule's id"),
      N_("EXPR") },
    { "memory-warn-before", 0, 0, G_OPTION_ARG_STRING, &memory_warn_before,
      N_("A memory_forecast event when its memory is forecast to reach its limit this far ahead (10min; 0: none for this job)"),
      N_("DURATION") },
    { NULL }
  };
  GVariantBuilder spec;
  g_autoptr(GVariant) reply = NULL;
  char **command = NULL;
  int n_opts = argc;
  int exit_code = ORCH_CTL_EXIT_OK;
  const char *id;

  /* Everything after "--" is the command, options and all. */
  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], "--") == 0)
      {
        command = argv + i + 1;
        n_opts = i;
        argv[i] = NULL;
        break;
      }
  if (!orch_ctl_parse (ctl, "run", _("[OPTION…] -- COMMAND [ARG…]"), _("Start COMMAND as a job and print its id."),
                       entries, TRUE, &n_opts, &argv, &exit_code))
    return exit_code;
  if (n_opts > 1 || command == NULL || command[0] == NULL)
    return orch_ctl_fail (ORCH_CTL_EXIT_USAGE, "%s",
                          _("run: put “--” before the command, as in: orchestratorctl run --name web -- python3 -m http.server"));

  g_variant_builder_init (&spec, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&spec, "{sv}", "command", g_variant_new_strv ((const char *const *) command, -1));
  if (name)
    g_variant_builder_add (&spec, "{sv}", "name", g_variant_new_string (name));
  if (restart)
    g_variant_builder_add (&spec, "{sv}", "restart", g_variant_new_string (restart));
  if (restart_max >= 0)
    g_variant_builder_add (&spec, "{sv}", "restart_max", g_variant_new_uint32 ((guint32) restart_max));
  if (cwd)
    g_variant_builder_add (&spec, "{sv}", "cwd", g_variant_new_string (cwd));
  if (user)
    g_variant_builder_add (&spec, "{sv}", "user", g_variant_new_string (user));
  if (tasks_max >= 0)
    g_variant_builder_add (&spec, "{sv}", "tasks_max", g_variant_new_uint32 ((guint32) tasks_max));
  if (separate_stderr)
    g_variant_builder_add (&spec, "{sv}", "stderr", g_variant_new_string ("separate"));
  if (log_timestamps)
    g_variant_builder_add (&spec, "{sv}", "log_timestamps", g_variant_new_boolean (TRUE));
  if (memory_max)
    {
      guint64 bytes;
      if (!orch_ctl_parse_size (memory_max, &bytes))
        return g_variant_builder_clear (&spec), bad_value ("memory-max", memory_max, "512M, 1.5G");
      g_variant_builder_add (&spec, "{sv}", "memory_max", g_variant_new_uint64 (bytes));
    }
  if (cpu_quota)
    {
      double cores;
      if (!orch_ctl_parse_cores (cpu_quota, &cores))
        return g_variant_builder_clear (&spec), bad_value ("cpu-quota", cpu_quota, "0.5, 2, 150%");
      g_variant_builder_add (&spec, "{sv}", "cpu_quota", g_variant_new_double (cores));
    }
  if (memory_warn_before)
    {
      guint64 us;
      if (!orch_ctl_parse_duration (memory_warn_before, &us) || us / G_USEC_PER_SEC > G_MAXUINT32)
        return g_variant_builder_clear (&spec),
               bad_value ("memory-warn-before", memory_warn_before, "10min, 1h, 0");
      g_variant_builder_add (&spec, "{sv}", "memory_warn_before_s",
                             g_variant_new_uint32 ((guint32) (us / G_USEC_PER_SEC)));
    }
  if (!add_ms (&spec, "stop_timeout_ms", "stop-timeout", stop_timeout, "10s, 2min", &exit_code) ||
      !add_ms (&spec, "restart_delay_ms", "restart-delay", restart_delay, "100ms, 2s", &exit_code))
    return g_variant_builder_clear (&spec), exit_code;
  if (env)
    {
      GVariantBuilder e;
      g_variant_builder_init (&e, G_VARIANT_TYPE ("a{ss}"));
      for (char **kv = env; *kv; kv++)
        {
          const char *eq = strchr (*kv, '=');
          g_autofree char *key = NULL;
          if (eq == NULL || eq == *kv)
            {
              g_variant_builder_clear (&e);
              g_variant_builder_clear (&spec);
              return bad_value ("env", *kv, "PORT=8080");
            }
          key = g_strndup (*kv, (gsize) (eq - *kv));
          g_variant_builder_add (&e, "{ss}", key, eq + 1);
        }
      g_variant_builder_add (&spec, "{sv}", "env", g_variant_builder_end (&e));
    }

  if (on_calendar)
    reply = orch_ctl_call (ctl, "Schedules", "Create",
                           g_variant_new_tuple ((GVariant *[]){ orch_ctl_schedule_params (
                                                    name, on_calendar, NULL, 0, NULL, FALSE, 0, 0,
                                                    g_variant_builder_end (&spec)) },
                                                1),
                           "(so)", &exit_code);
  else
    reply = orch_ctl_call (ctl, "Jobs", "Create", g_variant_new ("(a{sv})", &spec), "(so)",
                           &exit_code);
  if (reply == NULL)
    return exit_code;
  g_variant_get (reply, "(&so)", &id, NULL);
  g_print ("%s\n", id);
  return ORCH_CTL_EXIT_OK;
}

int
orch_ctl_cmd_list (OrchCtl *ctl, int argc, char **argv)
{
  g_autofree char *state = NULL, *name = NULL, *after = NULL;
  gboolean json = FALSE, quiet = FALSE;
  int limit = 0;
  const GOptionEntry entries[] = {
    { "state", 's', 0, G_OPTION_ARG_STRING, &state,
      N_("Only jobs in this state (running, failed, …)"), N_("STATE") },
    { "name", 'n', 0, G_OPTION_ARG_STRING, &name, N_("Only jobs with this name"), N_("NAME") },
    { "limit", 0, 0, G_OPTION_ARG_INT, &limit, N_("At most this many jobs (a page)"), N_("N") },
    { "after", 0, 0, G_OPTION_ARG_STRING, &after, N_("The jobs after this one (the next page)"),
      N_("ID") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, N_("Print only the ids"), NULL },
    { NULL }
  };
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) jobs = NULL;
  g_autoptr(OrchCtlTable) table = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  GVariantBuilder filter;
  int exit_code = ORCH_CTL_EXIT_OK;

  if (!orch_ctl_parse (ctl, "list", NULL, _("List the jobs."), entries, FALSE, &argc, &argv, &exit_code) ||
      !orch_ctl_want_args (argc, argv, 0, "list", &exit_code))
    return exit_code;
  if (limit < 0)
    return orch_ctl_fail (ORCH_CTL_EXIT_USAGE, _("list: --limit must be 0 (all) or more, not %d"),
                          limit);

  g_variant_builder_init (&filter, G_VARIANT_TYPE_VARDICT);
  if (limit > 0)
    g_variant_builder_add (&filter, "{sv}", "limit", g_variant_new_uint32 ((guint32) limit));
  if (after)
    g_variant_builder_add (&filter, "{sv}", "after", g_variant_new_string (after));
  if (state)
    g_variant_builder_add (&filter, "{sv}", "state", g_variant_new_string (state));
  if (name)
    g_variant_builder_add (&filter, "{sv}", "name", g_variant_new_string (name));
  reply = orch_ctl_call (ctl, "Jobs", "List", g_variant_new ("(a{sv})", &filter), "(aa{sv})", &exit_code);
  if (reply == NULL)
    return exit_code;
  jobs = g_variant_get_child_value (reply, 0);
  if (json)
    {
      orch_ctl_print_json (jobs);
      return ORCH_CTL_EXIT_OK;
    }
  if (quiet)
    {
      for (gsize i = 0; i < g_variant_n_children (jobs); i++)
        {
          g_autoptr(GVariant) rec = g_variant_get_child_value (jobs, i);
          g_print ("%s\n", orch_ctl_rec_str (rec, "id"));
        }
      return ORCH_CTL_EXIT_OK;
    }
  table = orch_ctl_job_table (ctl, jobs, FALSE);
  orch_ctl_table_print (table, out, 0);
  g_print ("%s", out->str);
  g_print (ngettext ("\n%u job listed.\n", "\n%u jobs listed.\n", (gulong) g_variant_n_children (jobs)),
           (guint) g_variant_n_children (jobs));
  return ORCH_CTL_EXIT_OK;
}

static char *
command_line (GVariant *rec)
{
  g_autofree const char **argv = NULL;
  g_autoptr(GVariant) cmd = g_variant_lookup_value (rec, "command", G_VARIANT_TYPE_STRING_ARRAY);
  GString *s = g_string_new (NULL);

  if (cmd)
    {
      argv = g_variant_get_strv (cmd, NULL);
      for (const char **a = argv; *a; a++)
        {
          g_autofree char *q = strpbrk (*a, " \t\n'\"\\$`*?;&|<>()") || **a == '\0' ? g_shell_quote (*a) : g_strdup (*a);
          g_string_append_printf (s, "%s%s", s->len ? " " : "", q);
        }
    }
  return g_string_free (s, FALSE);
}

/* "     State: ": the labels of status right-aligned on the longest, in
 * characters (translations have accents). */
static void
label (int width, const char *text)
{
  g_print ("%*s%s ", MAX (width - (int) g_utf8_strlen (text, -1), 0), "", text);
}

static int
label_width (void)
{
  const char *labels[] = { _("State:"), _("Result:"), _("Error:"), _("Command:"), _("PID:"), _("Backend:"),
                           _("Restarts:"), _("Log:"), _("CPU:"), _("Memory:"), _("IO:"), _("Tasks:"),
                           _("CPU% recent:") };
  int width = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (labels); i++)
    width = MAX (width, (int) g_utf8_strlen (labels[i], -1));
  return width;
}

/* The human view of status: the record, the latest figures and their
 * recent history, the last log lines. */
static void
print_status (OrchCtl *ctl, GVariant *rec, GVariant *figures, GVariant *history, const char *log)
{
  const char *state = orch_ctl_rec_str (rec, "state");
  const char *name = orch_ctl_rec_str (rec, "name");
  const char *error = orch_ctl_rec_str (rec, "error");
  gint64 now = g_get_real_time ();
  guint64 since = orch_ctl_rec_u64 (rec, orch_ctl_state_is_final (state) ? "finished_at" : "started_at");
  g_autofree char *cmd = command_line (rec);
  g_autofree char *since_s = orch_ctl_format_time (since);
  g_autofree char *age = since && now > (gint64) since ? orch_ctl_format_duration ((guint64) now - since) : NULL;
  /* TRANSLATORS: how long ago, "5min ago" */
  g_autofree char *ago = age ? g_strdup_printf (_("%s ago"), age) : NULL;
  gint64 exit_status = orch_ctl_rec_i64 (rec, "exit_code", -1);
  gint64 sig = orch_ctl_rec_i64 (rec, "signal", 0);
  int width = label_width ();

  g_print ("%s●%s %s%s%s%s\n", orch_ctl_sgr (ctl, orch_ctl_state_colour (state)), orch_ctl_sgr (ctl, "0"),
           orch_ctl_rec_str (rec, "id"), *name ? " (" : "", name, *name ? ")" : "");
  label (width, _("State:"));
  g_print ("%s%s%s", orch_ctl_sgr (ctl, orch_ctl_state_colour (state)), state, orch_ctl_sgr (ctl, "0"));
  /* TRANSLATORS: "running since 2026-11-28 00:41:42 UTC; 5min ago" */
  if (ago)
    g_print (" %s %s; %s", _("since"), since_s, ago);
  g_print ("\n");
  if (sig > 0)
    {
      label (width, _("Result:"));
      g_print ("%s %" G_GINT64_FORMAT " (%s)\n", _("killed by signal"), sig, g_strsignal ((int) sig));
    }
  else if (exit_status >= 0)
    {
      label (width, _("Result:"));
      g_print ("%s %" G_GINT64_FORMAT "\n", _("exit code"), exit_status);
    }
  if (*error)
    {
      label (width, _("Error:"));
      g_print ("%s%s%s\n", orch_ctl_sgr (ctl, ORCH_SGR_RED), error, orch_ctl_sgr (ctl, "0"));
    }
  label (width, _("Command:"));
  g_print ("%s\n", cmd);
  if (orch_ctl_rec_u64 (rec, "pid") && !orch_ctl_state_is_final (state))
    {
      label (width, _("PID:"));
      g_print ("%" G_GUINT64_FORMAT "\n", orch_ctl_rec_u64 (rec, "pid"));
    }
  label (width, _("Backend:"));
  g_print ("%s", orch_ctl_rec_str (rec, "backend"));
  if (*orch_ctl_rec_str (rec, "unit"))
    g_print (", %s", orch_ctl_rec_str (rec, "unit"));
  else if (*orch_ctl_rec_str (rec, "cgroup"))
    g_print (", %s", orch_ctl_rec_str (rec, "cgroup"));
  g_print ("\n");
  label (width, _("Restarts:"));
  g_print ("%" G_GUINT64_FORMAT " (%s %s)\n", orch_ctl_rec_u64 (rec, "restarts"),
           _("policy"), *orch_ctl_rec_str (rec, "restart") ? orch_ctl_rec_str (rec, "restart") : "no");
  label (width, _("Log:"));
  g_print ("%s\n", orch_ctl_rec_str (rec, "log_path"));

  if (figures && !orch_ctl_state_is_final (state))
    {
      g_autofree char *mem = orch_ctl_format_size (orch_ctl_rec_u64 (figures, "memory_bytes"));
      g_autofree char *peak = orch_ctl_format_size (orch_ctl_rec_u64 (figures, "memory_peak_bytes"));
      g_autofree char *rd = orch_ctl_format_size (orch_ctl_rec_u64 (figures, "io_read_bytes"));
      g_autofree char *wr = orch_ctl_format_size (orch_ctl_rec_u64 (figures, "io_write_bytes"));
      g_autofree char *cpu_time = orch_ctl_format_duration (orch_ctl_rec_u64 (figures, "cpu_usage_usec"));
      label (width, _("CPU:"));
      g_print ("%.1f%% (%s)\n", orch_ctl_rec_double (figures, "cpu_percent"), cpu_time);
      label (width, _("Memory:"));
      g_print ("%s (%s %s)\n", mem, _("peak"), peak);
      label (width, _("IO:"));
      g_print ("%s %s, %s %s\n", rd, _("read"), wr, _("written"));
      label (width, _("Tasks:"));
      g_print ("%" G_GUINT64_FORMAT "\n", orch_ctl_rec_u64 (figures, "tasks"));
    }
  if (history && g_variant_n_children (history) > 0 && !orch_ctl_state_is_final (state))
    {
      label (width, _("CPU% recent:"));
      for (gsize i = 0; i < g_variant_n_children (history); i++)
        {
          g_autoptr(GVariant) row = g_variant_get_child_value (history, i);
          g_print ("%s%.1f", i ? " " : "", orch_ctl_rec_double (row, "cpu_percent"));
        }
      g_print ("\n");
    }
  if (log && *log)
    g_print ("\n%s%s", log, g_str_has_suffix (log, "\n") ? "" : "\n");
}

int
orch_ctl_cmd_status (OrchCtl *ctl, int argc, char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };
  g_autoptr(GVariant) rec = NULL;
  g_autoptr(GVariant) figures = NULL;
  g_autoptr(GVariant) history = NULL;
  g_autoptr(GString) log = g_string_new (NULL);
  int exit_code = ORCH_CTL_EXIT_OK;
  guint64 end;

  if (!orch_ctl_parse (ctl, "status", _("ID"), _("Show a job: its record, recent figures and last log lines."),
                       entries, FALSE, &argc, &argv, &exit_code) ||
      !orch_ctl_want_args (argc, argv, 1, "status", &exit_code))
    return exit_code;
  rec = orch_ctl_get_job (ctl, argv[1], &exit_code);
  if (rec == NULL)
    return exit_code;
  /* Figures exist only while the job runs; without them status still
   * shows the rest. */
  if (!orch_ctl_state_is_final (orch_ctl_rec_str (rec, "state")))
    {
      g_autoptr(GVariant) r = orch_ctl_try_call (ctl, "Metrics", "GetJob", g_variant_new ("(s)", argv[1]),
                                                 "(a{sv})", NULL);
      g_autoptr(GVariant) h = orch_ctl_try_call (
          ctl, "Metrics", "GetJobHistory",
          g_variant_new_parsed ("(%s, {'limit': <%u>})", argv[1], (guint32) STATUS_HISTORY_ROWS), "(aa{sv})", NULL);
      if (r)
        figures = g_variant_get_child_value (r, 0);
      if (h)
        history = g_variant_get_child_value (h, 0);
    }
  /* A log cleaned up or deleted: status without it. */
  if (!orch_ctl_read_log (ctl, argv[1], "all", STATUS_LOG_LINES, log, &end, NULL))
    g_string_truncate (log, 0);

  if (json)
    {
      GVariantBuilder b;
      g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&b, "{sv}", "job", rec);
      if (figures)
        g_variant_builder_add (&b, "{sv}", "metrics", figures);
      if (history)
        g_variant_builder_add (&b, "{sv}", "history", history);
      g_variant_builder_add (&b, "{sv}", "log", g_variant_new_string (log->str));
      orch_ctl_print_json (g_variant_builder_end (&b));
      return ORCH_CTL_EXIT_OK;
    }
  print_status (ctl, rec, figures, history, log->str);
  return ORCH_CTL_EXIT_OK;
}

/* Stop's and Restart's reply: the job's record, as JSON or one line. */
static int
print_outcome (GVariant *reply, gboolean json, int exit_code)
{
  g_autoptr(GVariant) rec = NULL;

  if (reply == NULL)
    return exit_code;
  rec = g_variant_get_child_value (reply, 0);
  if (json)
    orch_ctl_print_json (rec);
  else
    g_print ("%s: %s\n", orch_ctl_rec_str (rec, "id"), orch_ctl_rec_str (rec, "state"));
  return ORCH_CTL_EXIT_OK;
}

int
orch_ctl_cmd_stop (OrchCtl *ctl, int argc, char **argv)
{
  g_autofree char *signal_name = NULL, *timeout = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "signal", 's', 0, G_OPTION_ARG_STRING, &signal_name, N_("Signal to send first (default TERM)"), N_("SIGNAL") },
    { "timeout", 't', 0, G_OPTION_ARG_STRING, &timeout, N_("Wait this long before SIGKILL (10s)"), N_("DURATION") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the job's record as JSON"), NULL },
    { NULL }
  };
  g_autoptr(GVariant) reply = NULL;
  GVariantBuilder opts;
  int exit_code = ORCH_CTL_EXIT_OK;

  if (!orch_ctl_parse (ctl, "stop", _("ID"), _("Stop a job: the signal to all its processes, then SIGKILL after the timeout."),
                       entries, FALSE, &argc, &argv, &exit_code) ||
      !orch_ctl_want_args (argc, argv, 1, "stop", &exit_code))
    return exit_code;
  g_variant_builder_init (&opts, G_VARIANT_TYPE_VARDICT);
  if (signal_name)
    {
      int sig;
      if (!orch_ctl_parse_signal (signal_name, &sig))
        return g_variant_builder_clear (&opts), bad_value ("signal", signal_name, "TERM, KILL, 9");
      g_variant_builder_add (&opts, "{sv}", "signal", g_variant_new_int32 (sig));
    }
  if (!add_ms (&opts, "timeout_ms", "timeout", timeout, "10s, 500ms", &exit_code))
    return g_variant_builder_clear (&opts), exit_code;
  reply = orch_ctl_call (ctl, "Jobs", "Stop", g_variant_new ("(sa{sv})", argv[1], &opts), "(a{sv})", &exit_code);
  return print_outcome (reply, json, exit_code);
}

int
orch_ctl_cmd_restart (OrchCtl *ctl, int argc, char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the job's record as JSON"), NULL },
    { NULL }
  };
  g_autoptr(GVariant) reply = NULL;
  int exit_code = ORCH_CTL_EXIT_OK;

  if (!orch_ctl_parse (ctl, "restart", _("ID"), _("Stop a job if it runs and start it again."), entries, FALSE,
                       &argc, &argv, &exit_code) ||
      !orch_ctl_want_args (argc, argv, 1, "restart", &exit_code))
    return exit_code;
  reply = orch_ctl_call (ctl, "Jobs", "Restart", g_variant_new ("(s)", argv[1]), "(a{sv})", &exit_code);
  return print_outcome (reply, json, exit_code);
}

int
orch_ctl_cmd_rm (OrchCtl *ctl, int argc, char **argv)
{
  gboolean force = FALSE;
  const GOptionEntry entries[] = {
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force, N_("Stop the job first if it runs"), NULL },
    { NULL }
  };
  g_autoptr(GVariant) reply = NULL;
  int exit_code = ORCH_CTL_EXIT_OK;

  if (!orch_ctl_parse (ctl, "rm", _("ID"), _("Remove a finished job (its record; logs stay until cleanup)."), entries,
                       FALSE, &argc, &argv, &exit_code) ||
      !orch_ctl_want_args (argc, argv, 1, "rm", &exit_code))
    return exit_code;
  if (force)
    {
      g_autoptr(GVariant) rec = orch_ctl_get_job (ctl, argv[1], &exit_code);
      g_autoptr(GVariant) stopped = NULL;
      if (rec == NULL)
        return exit_code;
      if (!orch_ctl_state_is_final (orch_ctl_rec_str (rec, "state")))
        {
          stopped = orch_ctl_call (ctl, "Jobs", "Stop", g_variant_new_parsed ("(%s, @a{sv} {})", argv[1]),
                                   "(a{sv})", &exit_code);
          if (stopped == NULL)
            return exit_code;
        }
    }
  reply = orch_ctl_call (ctl, "Jobs", "Remove", g_variant_new ("(s)", argv[1]), NULL, &exit_code);
  return reply ? ORCH_CTL_EXIT_OK : exit_code;
}
