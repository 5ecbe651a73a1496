/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* logs and cleanup: org.orchestrator.Logs. */
#include "config.h"

#include "orch-ctl.h"
#include "orch-ctl-units.h"
#include "basic/orch-log-format.h"

#include <errno.h>
#include <gio/gunixfdlist.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The daemon is not in the data path of a log, so nothing wakes a
 * follower: it looks for new output this often. */
#define FOLLOW_POLL_MS 100

gboolean
orch_ctl_read_log (OrchCtl *ctl, const char *id, const char *stream, guint tail_lines, GString *out,
                   guint64 *ret_end, GError **error)
{
  return orch_ctl_read_log_shown (ctl, id, stream, tail_lines, FALSE, NULL, out, ret_end, error);
}

gboolean
orch_ctl_read_log_shown (OrchCtl *ctl, const char *id, const char *stream, guint tail_lines,
                         gboolean timestamps, const char *format, GString *out, guint64 *ret_end,
                         GError **error)
{
  guint64 offset = 0;

  /* Read pages until one comes back empty: a whole log may be larger than
   * one reply (max_bytes). */
  for (;;)
    {
      GVariantBuilder opts;
      g_autoptr(GVariant) reply = NULL;
      const char *text;
      guint64 next;

      g_variant_builder_init (&opts, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&opts, "{sv}", "stream", g_variant_new_string (stream));
      if (timestamps)
        g_variant_builder_add (&opts, "{sv}", "timestamps", g_variant_new_boolean (TRUE));
      if (format)
        g_variant_builder_add (&opts, "{sv}", "format", g_variant_new_string (format));
      if (tail_lines > 0)
        g_variant_builder_add (&opts, "{sv}", "tail_lines", g_variant_new_uint32 (tail_lines));
      else
        g_variant_builder_add (&opts, "{sv}", "offset", g_variant_new_uint64 (offset));
      reply = orch_ctl_try_call (ctl, "Logs", "Read", g_variant_new ("(sa{sv})", id, &opts), "(st)", error);
      if (reply == NULL)
        return FALSE;
      g_variant_get (reply, "(&st)", &text, &next);
      g_string_append (out, text);
      if (tail_lines > 0 || next <= offset || *text == '\0')
        {
          *ret_end = next;
          return TRUE;
        }
      offset = next;
    }
}

typedef struct {
  OrchCtl *ctl;
  GMainLoop *loop;
  const char *id;
  int fd;
  guint64 pos;
  gboolean ended;
  int exit_code;
  gboolean stamped; /* the job has log_timestamps: render its records */
  OrchLogFormatter fmt;
  GString *pending; /* read, not yet a whole record */
} Follow;

static gboolean
write_all (const char *buf, gsize len)
{
  while (len > 0)
    {
      ssize_t n = write (STDOUT_FILENO, buf, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      buf += n;
      len -= (gsize) n;
    }
  return TRUE;
}

/* Prints what the log gained; FALSE when stdout is gone (a closed pipe). */
static gboolean
pump (Follow *f)
{
  char buf[65536];
  ssize_t n;
  struct stat st;

  while ((n = pread (f->fd, buf, sizeof buf, (off_t) f->pos)) > 0)
    {
      f->pos += (guint64) n;
      if (f->stamped)
        {
          g_autoptr(GString) out = g_string_new (NULL);

          orch_log_format_feed (&f->fmt, f->pending, buf, (gsize) n, out);
          if (!write_all (out->str, out->len))
            return FALSE;
        }
      else if (!write_all (buf, (gsize) n))
        return FALSE;
    }
  /* Truncated (Logs.Delete, rotation): go on from its new start. */
  if (n == 0 && fstat (f->fd, &st) == 0 && (guint64) st.st_size < f->pos)
    {
      f->pos = 0;
      g_string_truncate (f->pending, 0);
    }
  return TRUE;
}

static gboolean
follow_tick (gpointer data)
{
  Follow *f = data;
  g_autoptr(GVariant) reply = NULL;
  const char *state;
  gboolean over;

  /* Look at the state before reading, so the last output of a job that
   * just ended is read after we know it ended. */
  reply = orch_ctl_try_call (f->ctl, "Jobs", "Get", g_variant_new ("(s)", f->id), "(a{sv})", NULL);
  if (reply)
    {
      g_autoptr(GVariant) rec = g_variant_get_child_value (reply, 0);
      state = orch_ctl_rec_str (rec, "state");
      over = orch_ctl_state_is_final (state);
    }
  else
    over = TRUE; /* removed, or the daemon went away */
  if (!pump (f) || over)
    {
      g_main_loop_quit (f->loop);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
interrupted (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_CONTINUE;
}

/* Prints @head (what the log holds up to @from), then what comes. */
static int
follow (OrchCtl *ctl, const char *id, const char *stream, const GString *head, guint64 from,
        OrchLogShow show)
{
  g_autoptr(GUnixFDList) fds = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Follow f = { .ctl = ctl, .loop = loop, .id = id, .fd = -1, .pos = from, .fmt.show = show };
  g_autoptr(GVariant) job = NULL;
  g_autoptr(GString) pending = g_string_new (NULL);
  int exit_code = ORCH_CTL_EXIT_OK;
  gint32 handle;
  guint timer, sigint, sigterm;

  /* A stamped log is shown record by record, as Logs.Read shows it. */
  job = orch_ctl_try_call (ctl, "Jobs", "Get", g_variant_new ("(s)", id), "(a{sv})", NULL);
  if (job)
    {
      g_autoptr(GVariant) rec = g_variant_get_child_value (job, 0);
      if (!g_variant_lookup (rec, "log_timestamps", "b", &f.stamped))
        f.stamped = FALSE;
      f.fmt.stream = strcmp (stream, "stderr") == 0                          ? "stderr"
                     : g_variant_lookup (rec, "stderr_log_path", "&s", NULL) ? "stdout"
                                                                             : "all";
    }
  f.pending = pending;

  reply = orch_ctl_call_fds (ctl, "Logs", "Open", g_variant_new ("(ss)", id, stream), "(h)", &fds, &exit_code);
  if (reply == NULL)
    return exit_code;
  g_variant_get (reply, "(h)", &handle);
  f.fd = g_unix_fd_list_get (fds, handle, &error);
  if (f.fd < 0)
    return orch_ctl_fail (ORCH_CTL_EXIT_FAILED, "%s", error->message);

  /* ^C is how a follow usually ends: before the first byte is out. */
  sigint = g_unix_signal_add (SIGINT, interrupted, loop);
  sigterm = g_unix_signal_add (SIGTERM, interrupted, loop);
  timer = g_timeout_add (FOLLOW_POLL_MS, follow_tick, &f);
  if (write_all (head->str, head->len) && pump (&f))
    g_main_loop_run (loop);
  g_source_remove (sigint);
  g_source_remove (sigterm);
  if (g_main_context_find_source_by_id (NULL, timer))
    g_source_remove (timer);
  close (f.fd);
  return ORCH_CTL_EXIT_OK;
}

int
orch_ctl_cmd_logs (OrchCtl *ctl, int argc, char **argv)
{
  int lines = -1;
  gboolean follow_flag = FALSE, stderr_flag = FALSE, json = FALSE, timestamps = FALSE;
  g_autofree char *format = NULL;
  const GOptionEntry entries[] = {
    { "lines", 'n', 0, G_OPTION_ARG_INT, &lines, N_("Only the last N lines (with -f: default 10)"),
      N_("N") },
    { "follow", 'f', 0, G_OPTION_ARG_NONE, &follow_flag,
      N_("Print new output as it arrives, until the job ends"), NULL },
    { "stderr", 0, 0, G_OPTION_ARG_NONE, &stderr_flag,
      N_("The stderr log (jobs run with --separate-stderr)"), NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON: text and next_offset"), NULL },
    { "timestamps", 0, 0, G_OPTION_ARG_NONE, &timestamps,
      N_("Each line after its time of arrival (jobs run with --log-timestamps)"), NULL },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format,
      N_("text, or json: one JSON object a line with time, stream, line (jobs run with --log-timestamps)"),
      N_("FORMAT") },
    { NULL }
  };
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  const char *stream;
  int exit_code = ORCH_CTL_EXIT_OK;
  guint64 end = 0;

  if (!orch_ctl_parse (ctl, "logs", _("ID"), _("Print a job's log."), entries, FALSE, &argc, &argv, &exit_code) ||
      !orch_ctl_want_args (argc, argv, 1, "logs", &exit_code))
    return exit_code;
  if (lines < -1 || lines == 0)
    return orch_ctl_fail (ORCH_CTL_EXIT_USAGE, "%s", _("--lines: give a number of lines above 0"));
  if (format && strcmp (format, "text") != 0 && strcmp (format, "json") != 0)
    return orch_ctl_fail (ORCH_CTL_EXIT_USAGE, _("--format: “%s” is not one of text, json"),
                          format);
  if (json && follow_flag)
    return orch_ctl_fail (ORCH_CTL_EXIT_USAGE, "%s", _("--json and --follow do not go together"));
  if (follow_flag && lines < 0)
    lines = 10;
  stream = stderr_flag ? "stderr" : "all";
  if (orch_ctl_bus (ctl, &exit_code) == NULL)
    return exit_code;
  if (!orch_ctl_read_log_shown (ctl, argv[1], stream, lines > 0 ? (guint) lines : 0, timestamps,
                                format, text, &end, &error))
    return orch_ctl_report_error (error);
  if (json)
    {
      orch_ctl_print_json (g_variant_new_parsed ("{'text': <%s>, 'next_offset': <%t>}", text->str, end));
      return ORCH_CTL_EXIT_OK;
    }
  if (follow_flag)
    return follow (ctl, argv[1], stream, text, end,
                   g_strcmp0 (format, "json") == 0 ? ORCH_LOG_SHOW_JSON
                   : timestamps                    ? ORCH_LOG_SHOW_TIMESTAMPS
                                                   : ORCH_LOG_SHOW_PLAIN);
  fwrite (text->str, 1, text->len, stdout);
  return ORCH_CTL_EXIT_OK;
}

int
orch_ctl_cmd_cleanup (OrchCtl *ctl, int argc, char **argv)
{
  g_autofree char *older_than = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "older-than", 0, 0, G_OPTION_ARG_STRING, &older_than, N_("Jobs that finished at least this long ago (7d, 12h)"), N_("AGE") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };
  g_autoptr(GVariant) reply = NULL;
  int exit_code = ORCH_CTL_EXIT_OK;
  guint64 us, bytes;
  guint32 removed;

  if (!orch_ctl_parse (ctl, "cleanup", _("--older-than AGE"), _("Remove the logs of jobs that finished long ago."),
                       entries, FALSE, &argc, &argv, &exit_code) ||
      !orch_ctl_want_args (argc, argv, 0, "cleanup", &exit_code))
    return exit_code;
  if (older_than == NULL)
    return orch_ctl_fail (ORCH_CTL_EXIT_USAGE, "%s", _("cleanup: say how old with --older-than, as in --older-than 7d"));
  if (!orch_ctl_parse_duration (older_than, &us))
    return orch_ctl_fail (ORCH_CTL_EXIT_USAGE, _("--%s: “%s” is not valid (for example: %s)"), "older-than", older_than, "7d, 12h");
  reply = orch_ctl_call (ctl, "Logs", "Cleanup",
                         g_variant_new_parsed ("({'older_than_s': <%t>},)", (guint64) (us / G_USEC_PER_SEC)),
                         "(ut)", &exit_code);
  if (reply == NULL)
    return exit_code;
  g_variant_get (reply, "(ut)", &removed, &bytes);
  if (json)
    orch_ctl_print_json (g_variant_new_parsed ("{'removed': <%u>, 'bytes_freed': <%t>}", removed, bytes));
  else
    {
      g_autofree char *size = orch_ctl_format_size (bytes);
      g_print (ngettext ("Removed %u log file, freed %s.\n", "Removed %u log files, freed %s.\n", removed),
               removed, size);
    }
  return ORCH_CTL_EXIT_OK;
}
