/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "bus/orch-bus-auth.h"
#include "bus/orch-bus-jobs.h"
#include "bus/orch-bus-logs.h"
#include "bus/orch-bus-metrics.h"
#include "core/orch-backend.h"
#include "basic/orch-config.h"
#include "basic/orch-error.h"
#include "core/orch-launch.h"
#include "core/orch-logs.h"
#include "core/orch-manager.h"
#include "core/orch-sampler.h"
#include "core/orch-sd-bus.h"
#include "core/orch-state.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#define BUS_NAME "org.orchestrator"

typedef struct {
  gboolean system;
  gboolean user;
  char *bus_address;
  char *backend;
  char *config_path;
  char *log_dir;
  char *state_dir;
  char *cgroup_root;
  gboolean version;
} Options;

static gboolean
quit_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_CONTINUE;
}

/* Set when the loop ends because the bus went away: a failure, so that
 * the service manager's Restart=on-failure brings the daemon back. */
static gboolean bus_lost;

static gboolean
bus_lost_cb (gpointer data)
{
  g_warning ("%s", _("lost the D-Bus connection, exiting"));
  bus_lost = TRUE;
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

static int
open_bus (const Options *o, sd_bus **ret)
{
  g_autoptr(sd_bus) bus = NULL;
  int r;

  if (o->bus_address)
    {
      r = sd_bus_new (&bus);
      if (r >= 0)
        r = sd_bus_set_address (bus, o->bus_address);
      if (r >= 0)
        r = sd_bus_set_bus_client (bus, 1);
      if (r >= 0)
        r = sd_bus_negotiate_creds (bus, 1, SD_BUS_CREDS_EUID | SD_BUS_CREDS_PID);
      if (r >= 0)
        r = sd_bus_start (bus);
    }
  else if (o->user)
    r = sd_bus_open_user (&bus);
  else
    r = sd_bus_open_system (&bus);
  if (r < 0)
    return r;
  *ret = g_steal_pointer (&bus);
  return 0;
}

static gboolean
load_config (const Options *o, OrchConfig *config, GError **error)
{
  if (o->user)
    {
      /* A user's daemon keeps its files in the user's state directory. */
      g_autofree char *base = g_build_filename (g_get_user_state_dir (), "orchestrator", NULL);
      g_free (config->log_dir);
      config->log_dir = g_build_filename (base, "log", NULL);
      g_free (config->state_dir);
      config->state_dir = g_build_filename (base, "state", NULL);
    }
  if (!orch_config_load_file (config, o->config_path ? o->config_path : ORCH_DEFAULT_CONFIG,
                              o->config_path != NULL, error))
    return FALSE;
  if (o->backend)
    {
      if (!orch_config_backend_is_valid (o->backend))
        {
          g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                       _("--backend: “%s” is not one of auto, systemd, cgroupfs, none"), o->backend);
          return FALSE;
        }
      g_free (config->backend);
      config->backend = g_strdup (o->backend);
    }
#define OVERRIDE(field, opt)                  \
  if (o->opt)                                 \
    {                                         \
      g_free (config->field);                 \
      config->field = g_strdup (o->opt);      \
    }
  OVERRIDE (log_dir, log_dir);
  OVERRIDE (state_dir, state_dir);
  OVERRIDE (cgroup_root, cgroup_root);
#undef OVERRIDE
  return TRUE;
}

typedef struct {
  OrchManager *manager;
  OrchLogs *logs;
} Purge;

static void
purge_logs (const char *id, gpointer data)
{
  Purge *p = data;
  g_autoptr(GError) error = NULL;

  if (!orch_logs_delete (p->logs, id, &error))
    g_warning ("job %s: %s", id, error->message);
}

static gboolean
purge_cb (gpointer data)
{
  Purge *p = data;

  orch_manager_purge (p->manager, g_get_real_time (), purge_logs, p);
  return G_SOURCE_CONTINUE;
}

static int
run (Options *o)
{
  g_autoptr(OrchConfig) config = orch_config_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(sd_bus) bus = NULL;
  g_autoptr(OrchState) state = NULL;   /* outlives the manager */
  g_autoptr(OrchBusJobs) jobs = NULL;
  g_autoptr(OrchBusAuth) auth = NULL;
  g_autoptr(OrchManager) manager = NULL;
  g_autoptr(OrchLogs) logs = NULL;
  g_autoptr(OrchBusLogs) bus_logs = NULL;
  g_autoptr(OrchBusMetrics) bus_metrics = NULL;
  g_autoptr(OrchSampler) sampler = NULL;
  g_autofree char *why = NULL;
  OrchBackend *backend;
  Purge purge;
  guint purge_source;
  GSource *bus_source;
  int lock_fd;   /* the state directory is ours while it is open: until exit */
  int r;

  if (!load_config (o, config, &error))
    {
      g_printerr ("orchestratord: %s\n", error->message);
      return EXIT_FAILURE;
    }

  backend = orch_backend_new (config, o->user, &why, &error);
  if (backend == NULL)
    {
      g_printerr ("orchestratord: %s\n", error->message);
      return EXIT_FAILURE;
    }
  g_message ("%s", why);

  /* Before the database is touched: a second daemon on this state
   * directory must not reconcile or write anything. */
  lock_fd = orch_state_lock_dir (config->state_dir, &error);
  if (lock_fd < 0)
    {
      orch_backend_free (backend);
      g_printerr ("orchestratord: %s\n", error->message);
      return EXIT_FAILURE;
    }

  r = open_bus (o, &bus);
  if (r < 0)
    {
      orch_backend_free (backend);
      g_printerr (_("orchestratord: cannot connect to the bus: %s\n"), g_strerror (-r));
      return EXIT_FAILURE;
    }

  if (config->durable)
    {
      state = orch_state_open (config->state_dir, &error);
      if (state == NULL)
        {
          orch_backend_free (backend);
          g_printerr ("orchestratord: %s\n", error->message);
          return EXIT_FAILURE;
        }
    }

  auth = orch_bus_auth_new (bus, config);
  jobs = orch_bus_jobs_new (bus, &error);
  if (jobs)
    manager = orch_manager_new (config, backend, state, orch_bus_jobs_callbacks (), jobs, &error);
  else
    orch_backend_free (backend);
  if (manager == NULL)
    {
      g_printerr ("orchestratord: %s\n", error->message);
      return EXIT_FAILURE;
    }
  orch_bus_jobs_set_manager (jobs, manager);
  orch_bus_jobs_set_auth (jobs, auth);
  /* Before the name is taken: clients never see a half-loaded list. */
  if (!orch_manager_restore (manager, &error))
    {
      g_printerr ("orchestratord: %s\n", error->message);
      return EXIT_FAILURE;
    }

  logs = orch_logs_new (config, manager, &error);
  if (logs)
    bus_logs = orch_bus_logs_new (bus, logs, &error);
  if (bus_logs == NULL)
    {
      g_printerr ("orchestratord: %s\n", error->message);
      return EXIT_FAILURE;
    }
  orch_bus_logs_set_auth (bus_logs, auth);

  /* Retention: once now, for what accumulated while the daemon was down,
   * then every minute. */
  purge.manager = manager;
  purge.logs = logs;
  purge_cb (&purge);
  purge_source = g_timeout_add_seconds (60, purge_cb, &purge);

  bus_metrics = orch_bus_metrics_new (bus, &error);
  if (bus_metrics)
    sampler = orch_sampler_new (config, NULL, manager, orch_bus_metrics_sampled, bus_metrics,
                                 &error);
  if (sampler == NULL)
    {
      g_printerr ("orchestratord: %s\n", error->message);
      return EXIT_FAILURE;
    }
  orch_bus_metrics_set_sampler (bus_metrics, sampler);

  /* Handlers first: a SIGTERM the moment the name is taken (a client saw
   * us and a service manager stops us) must still end cleanly. */
  g_unix_signal_add (SIGTERM, quit_cb, loop);
  g_unix_signal_add (SIGINT, quit_cb, loop);

  r = sd_bus_request_name (bus, BUS_NAME, 0);
  if (r < 0)
    {
      g_printerr (_("orchestratord: cannot own %s: %s\n"), BUS_NAME, g_strerror (-r));
      return EXIT_FAILURE;
    }

  bus_source = orch_sd_bus_attach (bus, NULL);
  g_source_set_callback (bus_source, bus_lost_cb, loop, NULL);

  g_message (_("serving %s with the %s backend"), BUS_NAME, orch_manager_backend_name (manager));
  (void) sd_notify (0, "READY=1");
  g_main_loop_run (loop);
  (void) sd_notify (0, "STOPPING=1");

  (void) sd_bus_release_name (bus, BUS_NAME);
  g_source_remove (purge_source);
  g_source_destroy (bus_source);
  g_source_unref (bus_source);
  /* Open polkit questions hold the handlers' objects: drop them first. */
  g_clear_pointer (&auth, orch_bus_auth_free);
  g_clear_pointer (&sampler, orch_sampler_free);
  g_clear_pointer (&bus_metrics, orch_bus_metrics_free);
  g_clear_pointer (&bus_logs, orch_bus_logs_free);
  g_clear_pointer (&logs, orch_logs_free);
  g_clear_pointer (&manager, orch_manager_free);
  g_clear_pointer (&state, orch_state_free);
  close (lock_fd);
  return bus_lost ? EXIT_FAILURE : EXIT_SUCCESS;
}

int
main (int argc, char **argv)
{
  Options o = { 0 };
  g_autoptr(GOptionContext) ctx = NULL;
  g_autoptr(GError) error = NULL;
  int ret;
  const GOptionEntry entries[] = {
    { "system", 0, 0, G_OPTION_ARG_NONE, &o.system, N_("Serve on the system bus (default as root)"), NULL },
    { "user", 0, 0, G_OPTION_ARG_NONE, &o.user, N_("Serve on the session bus, jobs in the user's systemd manager"), NULL },
    { "bus-address", 0, 0, G_OPTION_ARG_STRING, &o.bus_address, N_("Serve on the bus at ADDRESS"), N_("ADDRESS") },
    { "backend", 0, 0, G_OPTION_ARG_STRING, &o.backend, N_("auto, systemd, cgroupfs or none"), N_("BACKEND") },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &o.config_path, N_("Configuration file"), N_("FILE") },
    { "log-dir", 0, 0, G_OPTION_ARG_FILENAME, &o.log_dir, N_("Directory for job logs"), N_("DIR") },
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &o.state_dir, N_("Directory for state"), N_("DIR") },
    { "cgroup-root", 0, 0, G_OPTION_ARG_FILENAME, &o.cgroup_root, N_("cgroupfs backend: cgroup directory for jobs"), N_("DIR") },
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
  if ((o.system + o.user + (o.bus_address != NULL)) > 1)
    {
      g_printerr ("%s\n", _("orchestratord: use only one of --system, --user, --bus-address"));
      return 2;
    }

  ret = run (&o);
  g_free (o.bus_address);
  g_free (o.backend);
  g_free (o.config_path);
  g_free (o.log_dir);
  g_free (o.state_dir);
  g_free (o.cgroup_root);
  return ret;
}
