/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* schedule add|list|show|rm|pause|resume|trigger|next: org.orchestrator.Schedules. */
#include "config.h"

#include "orch-ctl.h"
#include "orch-ctl-units.h"
#include "basic/orch-calendar.h"
#include "basic/orch-cron.h"

#include <glib/gi18n.h>
#include <string.h>
#include <time.h>

#define USEC_PER_MINUTE (G_GINT64_CONSTANT (60) * G_USEC_PER_SEC)
#define USEC_PER_HOUR (60 * USEC_PER_MINUTE)
#define USEC_PER_DAY (24 * USEC_PER_HOUR)
#define USEC_PER_WEEK (7 * USEC_PER_DAY)
#define USEC_PER_MONTH (G_GINT64_CONSTANT (2629800) * G_USEC_PER_SEC)
#define USEC_PER_YEAR (G_GINT64_CONSTANT (31557600) * G_USEC_PER_SEC)

static const char *
plural (gint64 n, const char *one, const char *many)
{
  return n == 1 ? one : many;
}

/* "4 days %s", as systemd-analyze calendar says it
 * (format_timestamp_relative). */
static char *
format_left (gint64 d)
{
  const char *s = d < 0 ? "ago" : "left";

  d = d < 0 ? -d : d;
  if (d >= USEC_PER_YEAR)
    return g_strdup_printf ("%" G_GINT64_FORMAT " %s %" G_GINT64_FORMAT " %s %s", d / USEC_PER_YEAR,
                            plural (d / USEC_PER_YEAR, "year", "years"),
                            (d % USEC_PER_YEAR) / USEC_PER_MONTH,
                            plural ((d % USEC_PER_YEAR) / USEC_PER_MONTH, "month", "months"), s);
  if (d >= USEC_PER_MONTH)
    return g_strdup_printf ("%" G_GINT64_FORMAT " %s %" G_GINT64_FORMAT " %s %s",
                            d / USEC_PER_MONTH, plural (d / USEC_PER_MONTH, "month", "months"),
                            (d % USEC_PER_MONTH) / USEC_PER_DAY,
                            plural ((d % USEC_PER_MONTH) / USEC_PER_DAY, "day", "days"), s);
  if (d >= USEC_PER_WEEK)
    return g_strdup_printf ("%" G_GINT64_FORMAT " %s %" G_GINT64_FORMAT " %s %s", d / USEC_PER_WEEK,
                            plural (d / USEC_PER_WEEK, "week", "weeks"),
                            (d % USEC_PER_WEEK) / USEC_PER_DAY,
                            plural ((d % USEC_PER_WEEK) / USEC_PER_DAY, "day", "days"), s);
  if (d >= 2 * USEC_PER_DAY)
    return g_strdup_printf ("%" G_GINT64_FORMAT " days %s", d / USEC_PER_DAY, s);
  if (d >= 25 * USEC_PER_HOUR)
    return g_strdup_printf ("1 day %" G_GINT64_FORMAT "h %s", (d - USEC_PER_DAY) / USEC_PER_HOUR,
                            s);
  if (d >= 6 * USEC_PER_HOUR)
    return g_strdup_printf ("%" G_GINT64_FORMAT "h %s", d / USEC_PER_HOUR, s);
  if (d >= USEC_PER_HOUR)
    return g_strdup_printf ("%" G_GINT64_FORMAT "h %" G_GINT64_FORMAT "min %s", d / USEC_PER_HOUR,
                            (d % USEC_PER_HOUR) / USEC_PER_MINUTE, s);
  if (d >= 5 * USEC_PER_MINUTE)
    return g_strdup_printf ("%" G_GINT64_FORMAT "min %s", d / USEC_PER_MINUTE, s);
  if (d >= USEC_PER_MINUTE)
    return g_strdup_printf ("%" G_GINT64_FORMAT "min %" G_GINT64_FORMAT "s %s", d / USEC_PER_MINUTE,
                            (d % USEC_PER_MINUTE) / G_USEC_PER_SEC, s);
  if (d >= G_USEC_PER_SEC)
    return g_strdup_printf ("%" G_GINT64_FORMAT "s %s", d / G_USEC_PER_SEC, s);
  if (d >= 1000)
    return g_strdup_printf ("%" G_GINT64_FORMAT "ms %s", d / 1000, s);
  if (d > 0)
    return g_strdup_printf ("%" G_GINT64_FORMAT "us %s", d, s);
  return g_strdup ("now");
}

static char *
format_stamp (gint64 usec, gboolean utc)
{
  g_autoptr(GDateTime) dt = utc ? g_date_time_new_from_unix_utc (usec / G_USEC_PER_SEC)
                                : g_date_time_new_from_unix_local (usec / G_USEC_PER_SEC);

  return dt ? g_date_time_format (dt, "%a %Y-%m-%d %H:%M:%S %Z") : g_strdup ("-");
}

static int
cmd_next (OrchCtl *ctl, const char *command, int argc, char **argv)
{
  int iterations = 1;
  gboolean cron = FALSE;
  g_autofree char *base = NULL;
  const GOptionEntry entries[] = {
    { "iterations", 'n', 0, G_OPTION_ARG_INT, &iterations, N_("How many elapses to show (1)"),
      N_("N") },
    { "cron", 0, 0, G_OPTION_ARG_NONE, &cron, N_("EXPR is a cron expression"), NULL },
    { "base-time", 0, 0, G_OPTION_ARG_STRING, &base,
      N_("Count from this time (seconds since the epoch, or @SECONDS)"), N_("TIME") },
    { NULL }
  };
  int exit_code = ORCH_CTL_EXIT_OK;
  gint64 real_now = g_get_real_time (), now = real_now, at;
  gboolean in_utc;

  if (!orch_ctl_parse (
          ctl, command, _("EXPR…"),
          _("Print the next elapses of calendar (or cron) expressions, as systemd-analyze calendar does. No daemon needed."),
          entries, FALSE, &argc, &argv, &exit_code))
    return exit_code;
  if (argc < 2)
    return orch_ctl_fail (ORCH_CTL_EXIT_USAGE,
                          _("%s: missing argument (see “orchestratorctl %s --help”)"), command,
                          command);
  if (iterations < 1)
    return orch_ctl_fail (ORCH_CTL_EXIT_USAGE, _("--iterations: must be at least 1"));
  if (base)
    {
      char *end;
      gint64 s = g_ascii_strtoll (base[0] == '@' ? base + 1 : base, &end, 10);
      if (*end != '\0' || end == base)
        return orch_ctl_fail (ORCH_CTL_EXIT_USAGE,
                              _("--base-time: “%s” is not seconds since the epoch"), base);
      now = s * G_USEC_PER_SEC;
    }
  /* As systemd's in_utc_timezone(). */
  tzset ();
  in_utc = timezone == 0 && daylight == 0;
  for (int a = 1; a < argc; a++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(OrchCalendar) cal = NULL;
      g_autoptr(OrchCron) cr = NULL;
      g_autofree char *normal = NULL;

      if (cron)
        cr = orch_cron_parse (argv[a], NULL, &error);
      else
        cal = orch_calendar_parse (argv[a], &error);
      if (cal == NULL && cr == NULL)
        return orch_ctl_fail (ORCH_CTL_EXIT_USAGE, "%s", error->message);
      normal = cal ? orch_calendar_normalize (cal) : orch_cron_normalize (cr);
      if (a > 1)
        g_print ("\n");
      g_print ("  Original form: %s\n", argv[a]);
      g_print ("Normalized form: %s\n", normal);
      at = now;
      for (int i = 0; i < iterations; i++)
        {
          g_autofree char *local = NULL, *utc = NULL, *left = NULL;
          g_autofree char *label = NULL;
          gboolean ok = cal ? orch_calendar_next (cal, at, &at) : orch_cron_next (cr, at, &at);
          if (!ok)
            {
              if (i == 0)
                g_print ("    Next elapse: never\n");
              break;
            }
          local = format_stamp (at, FALSE);
          left = format_left (at - real_now);
          label = i == 0 ? g_strdup ("Next elapse") : g_strdup_printf ("Iter. #%d", i + 1);
          g_print ("%15s: %s\n", label, local);
          if (!in_utc)
            {
              utc = format_stamp (at, TRUE);
              g_print ("       (in UTC): %s\n", utc);
            }
          g_print ("       From now: %s\n", left);
        }
    }
  return ORCH_CTL_EXIT_OK;
}

/* The Create a{sv} of `schedule add` and `run --on-calendar`. */
GVariant *
orch_ctl_schedule_params (const char *name, const char *calendar, const char *cron, guint64 every_s,
                          const char *overlap, gboolean persistent, guint32 delay_s,
                          guint32 timeout_s, GVariant *job)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  if (name)
    g_variant_builder_add (&b, "{sv}", "name", g_variant_new_string (name));
  if (calendar)
    g_variant_builder_add (&b, "{sv}", "calendar", g_variant_new_string (calendar));
  if (cron)
    g_variant_builder_add (&b, "{sv}", "cron", g_variant_new_string (cron));
  if (every_s)
    g_variant_builder_add (&b, "{sv}", "interval_s", g_variant_new_uint64 (every_s));
  if (overlap)
    g_variant_builder_add (&b, "{sv}", "overlap", g_variant_new_string (overlap));
  if (persistent)
    g_variant_builder_add (&b, "{sv}", "persistent", g_variant_new_boolean (TRUE));
  if (delay_s)
    g_variant_builder_add (&b, "{sv}", "randomized_delay_s", g_variant_new_uint32 (delay_s));
  if (timeout_s)
    g_variant_builder_add (&b, "{sv}", "timeout_s", g_variant_new_uint32 (timeout_s));
  g_variant_builder_add (&b, "{sv}", "job", job);
  return g_variant_builder_end (&b);
}

static gboolean
parse_seconds (const char *option, const char *value, guint64 max, guint64 *ret, int *exit_code)
{
  guint64 us;

  if (value == NULL)
    {
      *ret = 0;
      return TRUE;
    }
  if (!orch_ctl_parse_duration (value, &us) || us / G_USEC_PER_SEC > max || us < G_USEC_PER_SEC)
    {
      *exit_code = orch_ctl_fail (ORCH_CTL_EXIT_USAGE,
                                  _("--%s: “%s” is not valid (for example: %s)"), option, value,
                                  "30s, 5min, 1h");
      return FALSE;
    }
  *ret = us / G_USEC_PER_SEC;
  return TRUE;
}

static int
cmd_add (OrchCtl *ctl, const char *command, int argc, char **argv)
{
  g_autofree char *name = NULL, *calendar = NULL, *cron = NULL, *every = NULL, *overlap = NULL;
  g_autofree char *delay = NULL, *timeout = NULL;
  gboolean persistent = FALSE;
  const GOptionEntry entries[] = {
    { "name", 'n', 0, G_OPTION_ARG_STRING, &name, N_("A name for the schedule and its jobs"),
      N_("NAME") },
    { "on-calendar", 0, 0, G_OPTION_ARG_STRING, &calendar,
      N_("When, in systemd's OnCalendar= syntax"), N_("EXPR") },
    { "cron", 0, 0, G_OPTION_ARG_STRING, &cron, N_("When, as a 5-field cron expression"),
      N_("EXPR") },
    { "every", 0, 0, G_OPTION_ARG_STRING, &every,
      N_("Every DURATION from the last run's start (30s, 5min)"), N_("DURATION") },
    { "overlap", 0, 0, G_OPTION_ARG_STRING, &overlap,
      N_("If a run is still going: skip, queue, parallel or replace"), N_("POLICY") },
    { "persistent", 0, 0, G_OPTION_ARG_NONE, &persistent,
      N_("Run once at start what was missed while the daemon was down"), NULL },
    { "randomized-delay", 0, 0, G_OPTION_ARG_STRING, &delay,
      N_("Delay each run by a random time up to DURATION"), N_("DURATION") },
    { "timeout", 0, 0, G_OPTION_ARG_STRING, &timeout,
      N_("Stop a run that takes longer than DURATION"), N_("DURATION") },
    { NULL }
  };
  g_autoptr(GVariant) reply = NULL;
  char **cmd = NULL;
  int n_opts = argc;
  int exit_code = ORCH_CTL_EXIT_OK;
  guint64 every_s, delay_s, timeout_s;
  const char *id;
  GVariantBuilder job;

  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], "--") == 0)
      {
        cmd = argv + i + 1;
        n_opts = i;
        argv[i] = NULL;
        break;
      }
  if (!orch_ctl_parse (
          ctl, command,
          _("(--on-calendar EXPR|--cron EXPR|--every DURATION) [OPTION…] -- COMMAND [ARG…]"),
          _("Run COMMAND on a schedule; print the schedule's id."), entries, FALSE, &n_opts, &argv,
          &exit_code))
    return exit_code;
  if (n_opts > 1 || cmd == NULL || cmd[0] == NULL)
    return orch_ctl_fail (
        ORCH_CTL_EXIT_USAGE, "%s",
        _("schedule add: put “--” before the command, as in: orchestratorctl schedule add --on-calendar daily -- /usr/local/bin/backup"));
  if (!parse_seconds ("every", every, G_MAXUINT32, &every_s, &exit_code) ||
      !parse_seconds ("randomized-delay", delay, G_MAXUINT32, &delay_s, &exit_code) ||
      !parse_seconds ("timeout", timeout, G_MAXUINT32, &timeout_s, &exit_code))
    return exit_code;
  g_variant_builder_init (&job, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&job, "{sv}", "command",
                         g_variant_new_strv ((const char *const *) cmd, -1));
  if (name)
    g_variant_builder_add (&job, "{sv}", "name", g_variant_new_string (name));
  reply = orch_ctl_call (
      ctl, "Schedules", "Create",
      g_variant_new_tuple (
          (GVariant *[]){ orch_ctl_schedule_params (
              name, calendar, cron, every_s, overlap, persistent, (guint32) delay_s,
              (guint32) timeout_s, g_variant_builder_end (&job)) },
          1),
      "(so)", &exit_code);
  if (reply == NULL)
    return exit_code;
  g_variant_get (reply, "(&so)", &id, NULL);
  g_print ("%s\n", id);
  return ORCH_CTL_EXIT_OK;
}

static const char *
trigger_of (GVariant *rec, char **owned)
{
  if (orch_ctl_rec_has (rec, "calendar"))
    return orch_ctl_rec_str (rec, "calendar");
  if (orch_ctl_rec_has (rec, "cron"))
    return orch_ctl_rec_str (rec, "cron");
  g_autofree char *n = g_strdup_printf ("%" G_GUINT64_FORMAT, orch_ctl_rec_u64 (rec, "interval_s"));

  *owned = g_strdup_printf (_("every %ss"), n);
  return *owned;
}

static char *
format_time_or_dash (guint64 usec)
{
  return usec ? orch_ctl_format_time (usec) : g_strdup ("-");
}

static int
cmd_list (OrchCtl *ctl, const char *command, int argc, char **argv)
{
  gboolean json = FALSE;
  g_autofree char *name = NULL;
  const GOptionEntry entries[] = {
    { "name", 'n', 0, G_OPTION_ARG_STRING, &name, N_("Only schedules with this name"), N_("NAME") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };
  static const char *const headers[] = { "ID",   "NAME",   "WHEN", "STATE",   "NEXT",
                                         "LAST", "RESULT", "RUNS", "SKIPPED", NULL };
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) all = NULL;
  g_autoptr(OrchCtlTable) table = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  GVariantBuilder filter;
  int exit_code = ORCH_CTL_EXIT_OK;

  if (!orch_ctl_parse (ctl, command, NULL, _("List the schedules."), entries, FALSE, &argc, &argv,
                       &exit_code) ||
      !orch_ctl_want_args (argc, argv, 0, command, &exit_code))
    return exit_code;
  g_variant_builder_init (&filter, G_VARIANT_TYPE_VARDICT);
  if (name)
    g_variant_builder_add (&filter, "{sv}", "name", g_variant_new_string (name));
  reply = orch_ctl_call (ctl, "Schedules", "List", g_variant_new ("(a{sv})", &filter), "(aa{sv})",
                         &exit_code);
  if (reply == NULL)
    return exit_code;
  all = g_variant_get_child_value (reply, 0);
  if (json)
    {
      orch_ctl_print_json (all);
      return ORCH_CTL_EXIT_OK;
    }
  table = orch_ctl_table_new (ctl, headers);
  orch_ctl_table_align_right (table, 7);
  orch_ctl_table_align_right (table, 8);
  for (gsize i = 0; i < g_variant_n_children (all); i++)
    {
      g_autoptr(GVariant) rec = g_variant_get_child_value (all, i);
      g_autofree char *owned = NULL;
      g_autofree char *next = format_time_or_dash (orch_ctl_rec_u64 (rec, "next_run_at"));
      g_autofree char *last = format_time_or_dash (orch_ctl_rec_u64 (rec, "last_run_at"));
      g_autofree char *runs = g_strdup_printf ("%" G_GUINT64_FORMAT,
                                               orch_ctl_rec_u64 (rec, "runs"));
      g_autofree char *skipped = g_strdup_printf ("%" G_GUINT64_FORMAT,
                                                  orch_ctl_rec_u64 (rec, "skipped"));
      const char *result = orch_ctl_rec_str (rec, "last_result");
      const char *cells[] = { orch_ctl_rec_str (rec, "id"),
                              orch_ctl_rec_str (rec, "name"),
                              trigger_of (rec, &owned),
                              orch_ctl_rec_str (rec, "state"),
                              next,
                              last,
                              *result ? result : "-",
                              runs,
                              skipped,
                              NULL };
      orch_ctl_table_add (table, cells, 6, orch_ctl_state_colour (result));
    }
  orch_ctl_table_print (table, out, 0);
  g_print ("%s", out->str);
  return ORCH_CTL_EXIT_OK;
}

static int
cmd_show (OrchCtl *ctl, const char *command, int argc, char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL }, { NULL }
  };
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) rec = NULL;
  g_autofree char *owned = NULL, *next = NULL, *last = NULL;
  gboolean persistent = FALSE;
  int exit_code = ORCH_CTL_EXIT_OK;

  if (!orch_ctl_parse (ctl, command, _("ID"), _("Show a schedule."), entries, FALSE, &argc, &argv,
                       &exit_code) ||
      !orch_ctl_want_args (argc, argv, 1, command, &exit_code))
    return exit_code;
  reply = orch_ctl_call (ctl, "Schedules", "Get", g_variant_new ("(s)", argv[1]), "(a{sv})",
                         &exit_code);
  if (reply == NULL)
    return exit_code;
  rec = g_variant_get_child_value (reply, 0);
  if (json)
    {
      orch_ctl_print_json (rec);
      return ORCH_CTL_EXIT_OK;
    }
  next = format_time_or_dash (orch_ctl_rec_u64 (rec, "next_run_at"));
  last = format_time_or_dash (orch_ctl_rec_u64 (rec, "last_run_at"));
  g_print ("%s%s%s  %s\n", orch_ctl_sgr (ctl, ORCH_SGR_BOLD), orch_ctl_rec_str (rec, "id"),
           orch_ctl_sgr (ctl, "0"), orch_ctl_rec_str (rec, "name"));
  g_print ("%12s: %s\n", _("When"), trigger_of (rec, &owned));
  g_print ("%12s: %s\n", _("State"), orch_ctl_rec_str (rec, "state"));
  g_print ("%12s: %s\n", _("Next run"), next);
  g_print ("%12s: %s\n", _("Last run"), last);
  g_print ("%12s: %s %s\n", _("Last job"), orch_ctl_rec_str (rec, "last_job_id"),
           orch_ctl_rec_str (rec, "last_result"));
  if (*orch_ctl_rec_str (rec, "last_skip_reason"))
    g_print ("%12s: %s\n", _("Last skip"), orch_ctl_rec_str (rec, "last_skip_reason"));
  g_print ("%12s: %" G_GUINT64_FORMAT " / %" G_GUINT64_FORMAT "\n", _("Runs/skipped"),
           orch_ctl_rec_u64 (rec, "runs"), orch_ctl_rec_u64 (rec, "skipped"));
  g_variant_lookup (rec, "persistent", "b", &persistent);
  g_print ("%12s: %s%s\n", _("Overlap"), orch_ctl_rec_str (rec, "overlap"),
           persistent ? ", persistent" : "");
  return ORCH_CTL_EXIT_OK;
}

/* rm, pause, resume, trigger: one id, one call. */
static int
cmd_id (OrchCtl *ctl, const char *command, const char *method, const char *summary, int argc,
        char **argv)
{
  const GOptionEntry entries[] = { { NULL } };
  g_autoptr(GVariant) reply = NULL;
  int exit_code = ORCH_CTL_EXIT_OK;
  gboolean trigger = strcmp (method, "Trigger") == 0;

  if (!orch_ctl_parse (ctl, command, _("ID"), summary, entries, FALSE, &argc, &argv, &exit_code) ||
      !orch_ctl_want_args (argc, argv, 1, command, &exit_code))
    return exit_code;
  reply = orch_ctl_call (ctl, "Schedules", method, g_variant_new ("(s)", argv[1]),
                         trigger ? "(s)" : "()", &exit_code);
  if (reply == NULL)
    return exit_code;
  if (trigger)
    {
      const char *job;
      g_variant_get (reply, "(&s)", &job);
      g_print ("%s\n", job);
    }
  return ORCH_CTL_EXIT_OK;
}

int
orch_ctl_cmd_schedule (OrchCtl *ctl, int argc, char **argv)
{
  static const char *const verbs[] = { "add",    "list",    "show", "rm", "pause",
                                       "resume", "trigger", "next", NULL };
  g_autofree char *command = NULL;
  g_autofree char **rest = NULL;
  int at = -1;

  for (int i = 1; i < argc && strcmp (argv[i], "--") != 0; i++)
    if (argv[i][0] != '-')
      {
        at = i;
        break;
      }
  if (at < 0 || !g_strv_contains (verbs, argv[at]))
    {
      if (at < 0)
        for (int i = 1; i < argc; i++)
          if (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0)
            {
              g_print (
                  "%s\n  orchestratorctl schedule add|list|show|rm|pause|resume|trigger|next …\n\n%s\n",
                  _("Usage:"),
                  _("Run “orchestratorctl schedule VERB --help” for the options of each."));
              return ORCH_CTL_EXIT_OK;
            }
      return orch_ctl_fail (
          ORCH_CTL_EXIT_USAGE,
          _("schedule: expected one of add, list, show, rm, pause, resume, trigger, next"));
    }
  command = g_strconcat ("schedule ", argv[at], NULL);
  rest = g_new0 (char *, argc);
  for (int i = 0, j = 0; i < argc; i++)
    if (i != at)
      rest[j++] = argv[i];
  argc--;
  {
    char **args = rest; /* the parser shuffles the pointers */
    const char *verb = argv[at];
    if (strcmp (verb, "add") == 0)
      return cmd_add (ctl, command, argc, args);
    if (strcmp (verb, "list") == 0)
      return cmd_list (ctl, command, argc, args);
    if (strcmp (verb, "show") == 0)
      return cmd_show (ctl, command, argc, args);
    if (strcmp (verb, "next") == 0)
      return cmd_next (ctl, command, argc, args);
    if (strcmp (verb, "rm") == 0)
      return cmd_id (ctl, command, "Remove", _("Remove a schedule (its jobs stay)."), argc, args);
    if (strcmp (verb, "pause") == 0)
      return cmd_id (ctl, command, "Pause", _("Pause a schedule."), argc, args);
    if (strcmp (verb, "resume") == 0)
      return cmd_id (ctl, command, "Resume", _("Resume a paused schedule."), argc, args);
    return cmd_id (ctl, command, "Trigger", _("Run a schedule now; print the job's id."), argc,
                   args);
  }
}
