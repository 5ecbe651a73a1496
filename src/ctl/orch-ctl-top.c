/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* top: the system's and the jobs' figures, redrawn until q. */
#include "config.h"

#include "orch-ctl.h"
#include "orch-ctl-units.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

/* Alternate screen and hidden cursor while we draw; both undone at the end. */
#define ENTER_SCREEN "\033[?1049h\033[?25l"
#define LEAVE_SCREEN "\033[?25h\033[?1049l"
#define HOME_CLEAR "\033[H\033[2J"

typedef struct {
  OrchCtl *ctl;
  GMainLoop *loop;
  gboolean tty;            /* stdout a terminal: full-screen mode */
  gboolean raw;            /* stdin's settings changed, to be restored */
  struct termios saved;
  int iterations;          /* frames to draw; 0: until q */
  int drawn;
  GError *error;           /* a failed call ends top, reported after restore */
} Top;

static void
window_size (guint *rows, guint *cols)
{
  struct winsize ws = { 0 };

  *rows = 24;
  *cols = 80;
  if (ioctl (STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
    {
      *rows = ws.ws_row;
      *cols = ws.ws_col;
    }
}

static GVariant *
fetch (Top *top, const char *iface, const char *method, GVariant *params, const char *type)
{
  g_autoptr(GVariant) reply = NULL;

  if (top->error)
    {
      if (params)
        g_variant_unref (g_variant_ref_sink (params));
      return NULL;
    }
  reply = orch_ctl_try_call (top->ctl, iface, method, params, type, &top->error);
  return reply ? g_variant_get_child_value (reply, 0) : NULL;
}

/* Keeps the first @rows lines of @text, each cut at @cols characters. */
static void
clip (GString *frame, const char *text, guint rows, guint cols)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  guint n = 0;

  for (char **l = lines; *l && n < rows; l++, n++)
    {
      /* Only the table's header and state cells hold escape sequences,
       * and the table is already cut to @cols; leave those lines alone. */
      if (strchr (*l, '\033') == NULL && (guint) g_utf8_strlen (*l, -1) > cols)
        {
          g_autofree char *cut = g_utf8_substring (*l, 0, cols);
          g_string_append (frame, cut);
        }
      else
        g_string_append (frame, *l);
      if (l[1])
        g_string_append (frame, "\n");
    }
}

static void
draw (Top *top)
{
  g_autoptr(GVariant) sys = fetch (top, "Metrics", "GetSystem", NULL, "(a{sv})");
  g_autoptr(GVariant) jobs = fetch (top, "Jobs", "List", g_variant_new_parsed ("(@a{sv} {},)"),
                                    "(aa{sv})");
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GString) frame = g_string_new (NULL);
  g_autoptr(OrchCtlTable) table = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *clock = g_date_time_format (now, "%H:%M:%S");
  g_autofree char *up = NULL, *mem_used = NULL, *mem_total = NULL, *swap_used = NULL, *swap_total = NULL;
  g_autofree char *rx = NULL, *tx = NULL;
  guint rows, cols, running = 0;

  if (sys == NULL || jobs == NULL)
    {
      g_main_loop_quit (top->loop);
      return;
    }
  window_size (&rows, &cols);
  up = orch_ctl_format_duration (orch_ctl_rec_u64 (sys, "uptime_s") * G_USEC_PER_SEC);
  mem_used = orch_ctl_format_size (orch_ctl_rec_u64 (sys, "memory_used"));
  mem_total = orch_ctl_format_size (orch_ctl_rec_u64 (sys, "memory_total"));
  swap_used = orch_ctl_format_size (orch_ctl_rec_u64 (sys, "swap_used"));
  swap_total = orch_ctl_format_size (orch_ctl_rec_u64 (sys, "swap_total"));
  rx = orch_ctl_format_size ((guint64) MAX (orch_ctl_rec_double (sys, "net_recv_rate"), 0));
  tx = orch_ctl_format_size ((guint64) MAX (orch_ctl_rec_double (sys, "net_send_rate"), 0));
  for (gsize i = 0; i < g_variant_n_children (jobs); i++)
    {
      g_autoptr(GVariant) rec = g_variant_get_child_value (jobs, i);
      running += g_strcmp0 (orch_ctl_rec_str (rec, "state"), "running") == 0;
    }

  g_string_append_printf (text, "orchestratorctl top — %s, %s %s, %s %.2f %.2f %.2f\n", clock, _("up"), up,
                          _("load average:"), orch_ctl_rec_double (sys, "load_1"),
                          orch_ctl_rec_double (sys, "load_5"), orch_ctl_rec_double (sys, "load_15"));
  g_string_append_printf (text, "%s %5.1f%%   %s %s / %s (%.1f%%)   %s %s / %s   %s %.1f%%\n", _("CPU:"),
                          orch_ctl_rec_double (sys, "cpu_percent"), _("Memory:"), mem_used, mem_total,
                          orch_ctl_rec_double (sys, "memory_percent"), _("Swap:"), swap_used, swap_total,
                          _("Disk /:"), orch_ctl_rec_double (sys, "disk_percent"));
  g_string_append_printf (text, "%s ↓ %s/s ↑ %s/s   %s %" G_GUINT64_FORMAT "   ", _("Net:"), rx, tx,
                          _("Processes:"), orch_ctl_rec_u64 (sys, "process_count"));
  g_string_append_printf (text, _("Jobs: %u running of %u"), running, (guint) g_variant_n_children (jobs));
  if (top->tty)
    g_string_append_printf (text, "   %s", _("(q: quit)"));
  g_string_append (text, "\n\n");
  table = orch_ctl_job_table (top->ctl, jobs, TRUE);
  orch_ctl_table_print (table, text, top->tty ? cols : 0);

  if (top->tty)
    {
      g_string_append (frame, HOME_CLEAR);
      clip (frame, text->str, rows - 1, cols);
    }
  else
    g_string_append_printf (frame, "%s\n", text->str);
  fwrite (frame->str, 1, frame->len, stdout);
  fflush (stdout);

  top->drawn++;
  if (top->iterations > 0 && top->drawn >= top->iterations)
    g_main_loop_quit (top->loop);
}

static gboolean
on_tick (gpointer data)
{
  draw (data);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_key (int fd, GIOCondition cond, gpointer data)
{
  Top *top = data;
  char buf[64];
  ssize_t n = read (fd, buf, sizeof buf);

  if (n <= 0)
    return G_SOURCE_REMOVE; /* input closed: only a signal or -n ends us now */
  for (ssize_t i = 0; i < n; i++)
    if (buf[i] == 'q' || buf[i] == 'Q')
      g_main_loop_quit (top->loop);
    else if (buf[i] == ' ' || buf[i] == '\014') /* space or ^L: redraw now */
      draw (top);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_signal (gpointer data)
{
  Top *top = data;

  g_main_loop_quit (top->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_resize (gpointer data)
{
  draw (data);
  return G_SOURCE_CONTINUE;
}

static void
terminal_enter (Top *top)
{
  struct termios t;

  if (!top->tty)
    return;
  /* Keys one at a time, not echoed; ISIG stays, so ^C still quits. */
  if (isatty (STDIN_FILENO) && tcgetattr (STDIN_FILENO, &top->saved) == 0)
    {
      t = top->saved;
      t.c_lflag &= (tcflag_t) ~(ICANON | ECHO);
      t.c_cc[VMIN] = 1;
      t.c_cc[VTIME] = 0;
      top->raw = tcsetattr (STDIN_FILENO, TCSAFLUSH, &t) == 0;
    }
  fputs (ENTER_SCREEN, stdout);
  fflush (stdout);
}

static void
terminal_leave (Top *top)
{
  if (!top->tty)
    return;
  fputs (LEAVE_SCREEN, stdout);
  fflush (stdout);
  if (top->raw)
    tcsetattr (STDIN_FILENO, TCSAFLUSH, &top->saved);
}

int
orch_ctl_cmd_top (OrchCtl *ctl, int argc, char **argv)
{
  g_autofree char *delay = NULL;
  int iterations = 0;
  const GOptionEntry entries[] = {
    { "delay", 'd', 0, G_OPTION_ARG_STRING, &delay, N_("Time between refreshes (default 1s)"), N_("DURATION") },
    { "iterations", 'n', 0, G_OPTION_ARG_INT, &iterations, N_("Quit after N refreshes"), N_("N") },
    { NULL }
  };
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Top top = { .ctl = ctl, .loop = loop };
  guint64 delay_us = G_USEC_PER_SEC;
  guint sources[5] = { 0 };
  int exit_code = ORCH_CTL_EXIT_OK;

  if (!orch_ctl_parse (ctl, "top", NULL, _("Show the system's and the jobs' figures, refreshed until q is pressed."),
                       entries, FALSE, &argc, &argv, &exit_code) ||
      !orch_ctl_want_args (argc, argv, 0, "top", &exit_code))
    return exit_code;
  if (delay && (!orch_ctl_parse_duration (delay, &delay_us) || delay_us < 100000 || delay_us > G_GUINT64_CONSTANT (3600000000)))
    return orch_ctl_fail (ORCH_CTL_EXIT_USAGE, _("--%s: “%s” is not valid (for example: %s)"), "delay", delay, "1s, 500ms");
  if (iterations < 0)
    return orch_ctl_fail (ORCH_CTL_EXIT_USAGE, "%s", _("--iterations: give a number of refreshes above 0"));
  /* Ask once before taking over the screen: an error stays visible. */
  {
    g_autoptr(GVariant) probe = orch_ctl_call (ctl, "Jobs", "List", g_variant_new_parsed ("(@a{sv} {},)"),
                                               "(aa{sv})", &exit_code);
    if (probe == NULL)
      return exit_code;
  }
  top.tty = isatty (STDOUT_FILENO);
  top.iterations = iterations;

  terminal_enter (&top);
  sources[0] = g_timeout_add ((guint) (delay_us / 1000), on_tick, &top);
  sources[1] = g_unix_signal_add (SIGINT, on_signal, &top);
  sources[2] = g_unix_signal_add (SIGTERM, on_signal, &top);
  sources[3] = g_unix_signal_add (SIGHUP, on_signal, &top);
  sources[4] = g_unix_signal_add (SIGWINCH, on_resize, &top);
  {
    guint key_source = top.tty && isatty (STDIN_FILENO) ? g_unix_fd_add (STDIN_FILENO, G_IO_IN, on_key, &top) : 0;
    draw (&top);
    if (top.error == NULL && (top.iterations == 0 || top.drawn < top.iterations))
      g_main_loop_run (loop);
    if (key_source && g_main_context_find_source_by_id (NULL, key_source))
      g_source_remove (key_source);
  }
  for (guint i = 0; i < G_N_ELEMENTS (sources); i++)
    g_source_remove (sources[i]);
  terminal_leave (&top);
  if (top.error)
    {
      exit_code = orch_ctl_report_error (top.error);
      g_error_free (top.error);
    }
  return exit_code;
}
