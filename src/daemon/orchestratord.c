/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-daemon.h"
#include "core/orch-launch.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

typedef struct {
  gboolean system;
  gboolean version;
  OrchDaemonOptions daemon; /* its strings are ours: options_clear() */
} Options;

static void
options_clear (Options *o)
{
  g_free ((char *) o->daemon.bus_address);
  g_free ((char *) o->daemon.backend);
  g_free ((char *) o->daemon.config_path);
  g_free ((char *) o->daemon.log_dir);
  g_free ((char *) o->daemon.state_dir);
  g_free ((char *) o->daemon.cgroup_root);
}

static gboolean
quit_cb (gpointer data)
{
  orch_daemon_quit (data);
  return G_SOURCE_CONTINUE;
}

static int
run (const OrchDaemonOptions *options)
{
  g_autoptr(OrchDaemon) daemon = NULL;
  g_autoptr(GError) error = NULL;
  guint sigterm, sigint;
  gboolean ok;

  daemon = orch_daemon_new (options, &error);
  if (daemon == NULL)
    {
      g_printerr ("orchestratord: %s\n", error->message);
      return EXIT_FAILURE;
    }
  /* Handlers first: a SIGTERM the moment the name is taken (a client saw
   * us and a service manager stops us) must still end cleanly. */
  sigterm = g_unix_signal_add (SIGTERM, quit_cb, daemon);
  sigint = g_unix_signal_add (SIGINT, quit_cb, daemon);
  ok = orch_daemon_start (daemon, &error);
  if (ok)
    {
      (void) sd_notify (0, "READY=1");
      ok = orch_daemon_run (daemon);
      (void) sd_notify (0, "STOPPING=1");
    }
  else
    g_printerr ("orchestratord: %s\n", error->message);
  g_source_remove (sigterm);
  g_source_remove (sigint);
  return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}

int
main (int argc, char **argv)
{
  Options o = { 0 };
  g_autoptr(GOptionContext) ctx = NULL;
  g_autoptr(GError) error = NULL;
  int ret;
  const GOptionEntry entries[] = {
    { "system", 0, 0, G_OPTION_ARG_NONE, &o.system, N_("Serve on the system bus (default as root)"),
      NULL },
    { "user", 0, 0, G_OPTION_ARG_NONE, &o.daemon.user,
      N_("Serve on the session bus, jobs in the user's systemd manager"), NULL },
    { "bus-address", 0, 0, G_OPTION_ARG_STRING, &o.daemon.bus_address,
      N_("Serve on the bus at ADDRESS"), N_("ADDRESS") },
    { "backend", 0, 0, G_OPTION_ARG_STRING, &o.daemon.backend,
      N_("auto, systemd, cgroupfs or none"), N_("BACKEND") },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &o.daemon.config_path, N_("Configuration file"),
      N_("FILE") },
    { "log-dir", 0, 0, G_OPTION_ARG_FILENAME, &o.daemon.log_dir, N_("Directory for job logs"),
      N_("DIR") },
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &o.daemon.state_dir, N_("Directory for state"),
      N_("DIR") },
    { "cgroup-root", 0, 0, G_OPTION_ARG_FILENAME, &o.daemon.cgroup_root,
      N_("cgroupfs backend: cgroup directory for jobs"), N_("DIR") },
    { "version", 0, 0, G_OPTION_ARG_NONE, &o.version, N_("Print the version and exit"), NULL },
    { NULL }
  };

  /* Before any thread exists, so none takes SIGCHLD from the manager's
   * signalfd (jobs get a clean mask before exec). */
  {
    sigset_t chld;
    sigemptyset (&chld);
    sigaddset (&chld, SIGCHLD);
    pthread_sigmask (SIG_BLOCK, &chld, NULL);
  }

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  /* A job's pipe may close under us; errors are handled where they occur. */
  signal (SIGPIPE, SIG_IGN);
  /* The sampler keeps a few files open per job. */
  orch_launch_raise_nofile ();

  ctx = g_option_context_new (NULL);
  g_option_context_set_summary (ctx, _("Runs and supervises jobs, each in its own cgroup, on D-Bus."));
  g_option_context_add_main_entries (ctx, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("orchestratord: %s\n", error->message);
      return 2;
    }
  if (o.version)
    {
      g_print ("orchestratord %s\n", PACKAGE_VERSION);
      return 0;
    }
  if ((o.system + o.daemon.user + (o.daemon.bus_address != NULL)) > 1)
    {
      g_printerr ("%s\n", _("orchestratord: use only one of --system, --user, --bus-address"));
      return 2;
    }

  ret = run (&o.daemon);
  options_clear (&o);
  return ret;
}
