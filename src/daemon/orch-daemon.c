/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-daemon.h"
#include "orch-daemon-schedules.h"
#include "basic/orch-error.h"
#include "bus/orch-bus-auth.h"
#include "bus/orch-bus-forecast.h"
#include "bus/orch-bus-jobs.h"
#include "bus/orch-bus-groups.h"
#include "bus/orch-bus-logs.h"
#include "bus/orch-bus-metrics.h"
#include "core/orch-backend.h"
#include "core/orch-events.h"
#include "core/orch-forecast-watch.h"
#include "core/orch-pressure.h"
#include "core/orch-oom-watch.h"
#include "basic/orch-cgroup.h"
#include "core/orch-sd-bus.h"
#include "core/orch-state.h"

#include <glib/gi18n.h>
#include <string.h>
#include <unistd.h>

#define BUS_NAME "org.orchestrator"
/* memory_high events: at most one per job in this long. */
#define MEMORY_HIGH_PERIOD_MS 2000

struct _OrchDaemon {
  OrchConfig *config;
  OrchBackend *backend;   /* until the manager takes it */
  int lock_fd;            /* the state directory is ours while it is open */
  OrchState *state;       /* NULL: [state] durable=false */
  OrchEvents *events;     /* the jobs' events, kept in state */
  OrchPressure *pressure; /* PSI triggers of the running jobs */
  OrchOomWatch *oom;      /* their OOM kills and memory.high throttling */
  OrchManager *manager;
  OrchLogs *logs;
  OrchSampler *sampler;
  OrchForecastWatch *forecast_watch; /* NULL: memory warnings off */
  OrchDaemonSchedules *schedules;
  guint purge_source;
  guint purge_idle; /* a purge under way, a slice a pass */
  guint purged;     /* by it so far */

  /* NULL without a bus */
  sd_bus *bus;
  OrchBusAuth *auth;
  OrchBusJobs *bus_jobs;
  OrchBusLogs *bus_logs;
  OrchGroups *groups;
  OrchBusGroups *bus_groups;
  OrchBusMetrics *bus_metrics;
  OrchBusForecast *bus_forecast;
  GSource *bus_source;
  gboolean name_taken;

  GMainLoop *loop;
  gboolean bus_lost; /* why the loop ended: a failure */
};

/* Stores the event @key of @id and tells the bus (once: a known key is
 * neither stored nor told again).  @data: a{sv}, floating taken (a
 * non-floating one gets a reference of the event's own). */
static void
record_event (OrchDaemon *self, const char *key, const char *id, const char *kind, gint64 time,
              GVariant *data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(OrchEvent) ev = NULL;

  if (!orch_events_add (self->events, key, id, kind, time, data, &ev, &error))
    g_warning ("cannot record event %s: %s", key, error->message);
  orch_events_emit (self->events, ev);
}

static void
on_pressure (const char *id, const char *resource, guint64 threshold_us, guint64 window_us,
             gpointer data)
{
  OrchDaemon *self = data;
  gint64 now = g_get_real_time ();
  g_autofree char *key = g_strdup_printf ("%s/pressure/%s/%" G_GINT64_FORMAT, id, resource, now);

  record_event (self, key, id, "pressure", now,
                g_variant_new_parsed ("{'resource': <%s>, 'threshold_us': <%t>, 'window_us': <%t>}",
                                      resource, threshold_us, window_us));
}

/* A job forecast to reach its memory limit soon (orch-forecast-watch). */
static void
on_memory_forecast (const char *id, gint64 now, GVariant *data, gpointer user_data)
{
  OrchDaemon *self = user_data;
  g_autofree char *key = g_strdup_printf ("%s/memory_forecast/%" G_GINT64_FORMAT, id, now);

  record_event (self, key, id, "memory_forecast", now, data);
}

/* The kernel counted an OOM kill in a job's group: the record catches up,
 * and its oom_kill events follow from it (orch_events_observe). */
static void
on_oom (const char *id, guint64 oom_kill, gpointer data)
{
  OrchDaemon *self = data;

  orch_manager_oom_changed (self->manager, id);
}

/* memory.high throttled the job: one event a period at most, with the
 * rise; keyed by the counter's value in the run, so a daemon restarted
 * reads the same value again and tells nothing twice. */
static void
on_memory_high (const char *id, guint64 high, guint64 delta, gpointer data)
{
  OrchDaemon *self = data;
  OrchJob *job = orch_manager_lookup (self->manager, id, NULL);
  g_autofree char *key = NULL;

  if (job == NULL)
    return;
  key = g_strdup_printf ("%s/memory_high/%" G_GINT64_FORMAT "/%" G_GUINT64_FORMAT, id,
                         job->started_at, high);
  record_event (self, key, id, "memory_high", g_get_real_time (),
                g_variant_new_parsed ("{'delta': <%t>, 'high': <%t>}", delta, high));
}

/* A job group's changes go to the bus; its autoscaler's decisions are
 * events too, under the group's id, so GetEvents and the feed have them
 * beside the jobs'. */
static void
daemon_group_changed (const char *id, const char *event, GVariant *data, gpointer user_data)
{
  OrchDaemon *self = user_data;
  guint64 time = 0;

  if (self->bus_groups)
    orch_bus_groups_changed (id, event, data, self->bus_groups);
  if (strcmp (event, "scaled") == 0 && g_variant_lookup (data, "time", "t", &time))
    {
      g_autofree char *key = g_strdup_printf ("%s/scaled/%" G_GUINT64_FORMAT, id, time);
      record_event (self, key, id, "scaled", (gint64) time, data);
    }
}

/* A running job with a group of its own gets its triggers and its memory
 * events' watch, once. */
static void
watch_pressure (OrchDaemon *self, OrchJob *job)
{
  const char *mount;

  if (!orch_job_state_is_active (job->state))
    orch_pressure_unwatch (self->pressure, job->id);
  else if (job->state == ORCH_JOB_RUNNING && job->cgroup[0] && orch_cgroup_v2_mount (&mount) == 0)
    {
      g_autofree char *dir = g_build_filename (mount, job->cgroup, NULL);
      orch_pressure_watch (self->pressure, job->id, dir);
    }
  if (!orch_job_state_is_active (job->state))
    orch_oom_watch_remove (self->oom, job->id);
  else if (job->state == ORCH_JOB_RUNNING && job->cgroup[0] &&
           !orch_oom_watch_has (self->oom, job->id))
    {
      g_autofree char *path = orch_manager_memory_events_path (self->manager, job);
      if (path)
        orch_oom_watch_add (self->oom, job->id, path);
    }
}

/* The manager's reports go to the bus, derive the jobs' events, and
 * reach the scheduler (whose runs' ends drive its overlap policies). */
static void
daemon_job_added (OrchJob *job, gpointer data)
{
  OrchDaemon *self = data;

  if (self->bus_jobs)
    orch_bus_jobs_callbacks ()->job_added (job, self->bus_jobs);
}

/* What a change means beyond the bus. */
static void
daemon_job_observe (OrchDaemon *self, OrchJob *job)
{
  orch_events_observe (self->events, job);
  watch_pressure (self, job);
  orch_daemon_schedules_job_changed (self->schedules, job);
}

static void
daemon_job_changed (OrchJob *job, gpointer data)
{
  OrchDaemon *self = data;

  if (self->bus_jobs)
    orch_bus_jobs_callbacks ()->job_changed (job, self->bus_jobs);
  daemon_job_observe (self, job);
}

static void
daemon_job_created (OrchJob *job, gpointer data)
{
  OrchDaemon *self = data;

  if (self->bus_jobs)
    orch_bus_jobs_callbacks ()->job_created (job, self->bus_jobs);
  daemon_job_observe (self, job);
}

static void
daemon_job_removed (const char *id, gpointer data)
{
  OrchDaemon *self = data;

  if (self->bus_jobs)
    orch_bus_jobs_callbacks ()->job_removed (id, self->bus_jobs);
}

static const OrchManagerCallbacks daemon_callbacks = {
  .job_added = daemon_job_added,
  .job_changed = daemon_job_changed,
  .job_removed = daemon_job_removed,
  .job_created = daemon_job_created,
};

static void
daemon_event (const OrchEvent *ev, gpointer data)
{
  OrchDaemon *self = data;

  if (self->bus_jobs)
    orch_bus_jobs_emit_event (self->bus_jobs, ev);
}

static int
open_bus (const OrchDaemonOptions *o, sd_bus **ret)
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
load_config (const OrchDaemonOptions *o, OrchConfig *config, GError **error)
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
                       _("--backend: “%s” is not one of auto, systemd, cgroupfs, none"),
                       o->backend);
          return FALSE;
        }
      g_free (config->backend);
      config->backend = g_strdup (o->backend);
    }
#define OVERRIDE(field)                    \
  if (o->field)                            \
    {                                      \
      g_free (config->field);              \
      config->field = g_strdup (o->field); \
    }
  OVERRIDE (log_dir);
  OVERRIDE (state_dir);
  OVERRIDE (cgroup_root);
#undef OVERRIDE
  return TRUE;
}

static void
purge_logs (const char *id, gpointer data)
{
  OrchDaemon *self = data;
  g_autoptr(GError) error = NULL;

  if (!orch_logs_delete (self->logs, id, &error))
    g_warning ("job %s: %s", id, error->message);
}

/* One slice of the purge (orch_manager_purge); TRUE while more are left. */
static gboolean
purge_step (gpointer data)
{
  OrchDaemon *self = data;
  guint n;
  gboolean more = orch_manager_purge (self->manager, g_get_real_time (), purge_logs, self, &n);

  self->purged += n;
  if (more)
    return G_SOURCE_CONTINUE;
  if (self->purged)
    g_message (ngettext ("purged %u finished job ([state] keep_finished, keep_finished_days)",
                         "purged %u finished jobs ([state] keep_finished, keep_finished_days)",
                         self->purged),
               self->purged);
  self->purged = 0;
  self->purge_idle = 0;
  return G_SOURCE_REMOVE;
}

/* Retention: the rest of a long purge goes a slice a pass, from an idle,
 * so calls are answered in between. */
static gboolean
purge_cb (gpointer data)
{
  OrchDaemon *self = data;

  if (self->purge_idle == 0 && purge_step (self))
    self->purge_idle = g_idle_add (purge_step, self);
  return G_SOURCE_CONTINUE;
}

static gboolean
bus_lost_cb (gpointer data)
{
  OrchDaemon *self = data;

  g_warning ("%s", _("lost the D-Bus connection, exiting"));
  self->bus_lost = TRUE;
  g_main_loop_quit (self->loop);
  return G_SOURCE_REMOVE;
}

OrchDaemon *
orch_daemon_new (const OrchDaemonOptions *options, GError **error)
{
  g_autoptr(OrchDaemon) self = g_new0 (OrchDaemon, 1);
  g_autofree char *why = NULL;
  int r;

  self->lock_fd = -1;
  self->loop = g_main_loop_new (NULL, FALSE);
  self->config = orch_config_new ();
  if (!load_config (options, self->config, error))
    return NULL;

  self->backend = orch_backend_new (self->config, options->user, &why, error);
  if (self->backend == NULL)
    return NULL;
  g_message ("%s", why);

  /* Before the database is touched: a second daemon on this state
   * directory must not reconcile or write anything. */
  self->lock_fd = orch_state_lock_dir (self->config->state_dir, error);
  if (self->lock_fd < 0)
    return NULL;

  if (!options->no_bus)
    {
      r = open_bus (options, &self->bus);
      if (r < 0)
        {
          g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED, _("cannot connect to the bus: %s"),
                       g_strerror (-r));
          return NULL;
        }
    }

  if (self->config->durable)
    {
      self->state = orch_state_open (self->config->state_dir, error);
      if (self->state == NULL)
        return NULL;
    }

  if (self->bus)
    {
      self->auth = orch_bus_auth_new (self->bus, self->config);
      self->bus_jobs = orch_bus_jobs_new (self->bus, error);
      if (self->bus_jobs == NULL)
        return NULL;
    }
  self->events = orch_events_new (self->state, self->config->keep_events);
  orch_events_set_func (self->events, daemon_event, self);
  self->pressure = orch_pressure_new (self->config->pressure_threshold_us,
                                      self->config->pressure_window_us, on_pressure, self);
  self->oom = orch_oom_watch_new ((guint64) MEMORY_HIGH_PERIOD_MS * 1000, on_oom, on_memory_high,
                                  self);
  self->manager = orch_manager_new (self->config, g_steal_pointer (&self->backend), self->state,
                                    &daemon_callbacks, self, error);
  if (self->manager == NULL)
    return NULL;
  orch_manager_set_events (self->manager, self->events);
  if (self->bus_jobs)
    {
      /* The bus objects exist before the manager (it reports to them) and
       * learn of it now. */
      orch_bus_jobs_set_manager (self->bus_jobs, self->manager);
      orch_bus_jobs_set_auth (self->bus_jobs, self->auth);
      orch_bus_jobs_set_events (self->bus_jobs, self->events);
    }
  self->schedules = orch_daemon_schedules_new (self->manager, self->state, self->bus, self->auth,
                                               error);
  if (self->schedules == NULL)
    return NULL;
  return g_steal_pointer (&self);
}

gboolean
orch_daemon_start (OrchDaemon *self, GError **error)
{
  int r;

  /* Before the name is taken: clients never see a half-loaded list. */
  if (!orch_manager_restore (self->manager, error))
    return FALSE;
  {
    /* Events a SIGKILL kept from being written after their record: one
     * transaction for all the records (mostly no-ops), not one each. */
    g_autoptr(GPtrArray) jobs = orch_manager_list (self->manager, NULL, NULL, NULL);
    gboolean tx = self->state && orch_state_begin (self->state, NULL);
    for (guint i = 0; jobs && i < jobs->len; i++)
      {
        orch_events_observe (self->events, jobs->pdata[i]);
        watch_pressure (self, jobs->pdata[i]);
      }
    if (tx && !orch_state_commit (self->state, error))
      return FALSE;
  }
  if (!orch_daemon_schedules_start (self->schedules, error))
    return FALSE;

  self->logs = orch_logs_new (self->config, self->manager, error);
  if (self->logs == NULL)
    return FALSE;
  if (self->bus)
    {
      self->bus_logs = orch_bus_logs_new (self->bus, self->logs, error);
      if (self->bus_logs == NULL)
        return FALSE;
      orch_bus_logs_set_auth (self->bus_logs, self->auth);
    }

  /* Retention: once now, for what accumulated while the daemon was down,
   * then every minute. */
  purge_cb (self);
  self->purge_source = g_timeout_add_seconds (60, purge_cb, self);

  if (self->bus)
    {
      self->bus_metrics = orch_bus_metrics_new (self->bus, error);
      if (self->bus_metrics == NULL)
        return FALSE;
    }
  self->sampler = orch_sampler_new (self->config, NULL, self->manager,
                                    self->bus_metrics ? orch_bus_metrics_sampled : NULL,
                                    self->bus_metrics, error);
  if (self->sampler == NULL)
    return FALSE;
  if (self->bus_metrics)
    orch_bus_metrics_set_sampler (self->bus_metrics, self->sampler);
  if (self->bus)
    {
      self->bus_forecast = orch_bus_forecast_new (self->bus, self->sampler, self->manager,
                                                  self->auth, error);
      if (self->bus_forecast == NULL)
        return FALSE;
      orch_bus_forecast_set_recommend_interval (self->bus_forecast,
                                                self->config->recommend_interval_s);
    }
  self->forecast_watch = orch_forecast_watch_new (
      self->sampler, self->manager, self->config->memory_warn_before_s,
      self->config->memory_forecast_interval_s, on_memory_forecast, self);

  /* Job groups, after the jobs and the sampler they read. */
  if (self->bus)
    {
      self->bus_groups = orch_bus_groups_new (self->bus, error);
      if (self->bus_groups == NULL)
        return FALSE;
    }
  self->groups = orch_groups_new (self->config, self->manager, self->state, daemon_group_changed,
                                  self);
  orch_groups_set_sampler (self->groups, self->sampler);
  if (self->bus_forecast)
    orch_bus_forecast_set_groups (self->bus_forecast, self->groups);
  if (self->bus_groups)
    {
      orch_bus_groups_set_groups (self->bus_groups, self->groups);
      orch_bus_groups_set_auth (self->bus_groups, self->auth);
    }
  if (!orch_groups_restore (self->groups, error))
    return FALSE;

  if (self->bus == NULL)
    return TRUE;
  r = sd_bus_request_name (self->bus, BUS_NAME, 0);
  if (r < 0)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED, _("cannot own %s: %s"), BUS_NAME,
                   g_strerror (-r));
      return FALSE;
    }
  self->name_taken = TRUE;
  self->bus_source = orch_sd_bus_attach (self->bus, NULL);
  g_source_set_callback (self->bus_source, bus_lost_cb, self, NULL);
  g_message (_("serving %s with the %s backend"), BUS_NAME,
             orch_manager_backend_name (self->manager));
  return TRUE;
}

gboolean
orch_daemon_run (OrchDaemon *self)
{
  g_main_loop_run (self->loop);
  return !self->bus_lost;
}

void
orch_daemon_quit (OrchDaemon *self)
{
  g_main_loop_quit (self->loop);
}

void
orch_daemon_free (OrchDaemon *self)
{
  if (self == NULL)
    return;
  /* The last pass's job records, told while everyone who hears them is
   * still there. */
  if (self->manager)
    orch_manager_flush (self->manager);
  /* Clients go elsewhere (or wait for the next daemon) first. */
  if (self->name_taken)
    (void) sd_bus_release_name (self->bus, BUS_NAME);
  if (self->purge_source)
    g_source_remove (self->purge_source);
  if (self->purge_idle)
    g_source_remove (self->purge_idle);
  if (self->bus_source)
    {
      g_source_destroy (self->bus_source);
      g_source_unref (self->bus_source);
    }
  /* Open polkit questions hold the handlers' objects: drop them first. */
  g_clear_pointer (&self->auth, orch_bus_auth_free);
  g_clear_pointer (&self->groups, orch_groups_free);
  g_clear_pointer (&self->bus_groups, orch_bus_groups_free);
  g_clear_pointer (&self->forecast_watch, orch_forecast_watch_free);
  g_clear_pointer (&self->bus_forecast, orch_bus_forecast_free);
  g_clear_pointer (&self->sampler, orch_sampler_free);
  g_clear_pointer (&self->schedules, orch_daemon_schedules_free);
  g_clear_pointer (&self->bus_metrics, orch_bus_metrics_free);
  g_clear_pointer (&self->bus_logs, orch_bus_logs_free);
  g_clear_pointer (&self->logs, orch_logs_free);
  /* Answers the calls still waiting on jobs: the bus objects and the
   * connection outlive it, and the connection is flushed last. */
  g_clear_pointer (&self->manager, orch_manager_free);
  g_clear_pointer (&self->backend, orch_backend_free);
  g_clear_pointer (&self->pressure, orch_pressure_free);
  g_clear_pointer (&self->oom, orch_oom_watch_free);
  g_clear_pointer (&self->events, orch_events_free);
  g_clear_pointer (&self->state, orch_state_free); /* after the manager, its last writer */
  if (self->lock_fd >= 0)
    close (self->lock_fd);
  g_clear_pointer (&self->bus_jobs, orch_bus_jobs_free);
  g_clear_pointer (&self->bus, sd_bus_flush_close_unref);
  g_main_loop_unref (self->loop);
  orch_config_free (self->config);
  g_free (self);
}

const OrchConfig *
orch_daemon_get_config (OrchDaemon *self)
{
  return self->config;
}

OrchManager *
orch_daemon_get_manager (OrchDaemon *self)
{
  return self->manager;
}

OrchLogs *
orch_daemon_get_logs (OrchDaemon *self)
{
  return self->logs;
}

OrchState *
orch_daemon_get_state (OrchDaemon *self)
{
  return self->state;
}

OrchSampler *
orch_daemon_get_sampler (OrchDaemon *self)
{
  return self->sampler;
}
