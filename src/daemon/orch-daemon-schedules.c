/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-daemon-schedules.h"
#include "basic/orch-error.h"
#include "bus/orch-bus-schedules.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <signal.h>
#include <stdlib.h>

struct _OrchDaemonSchedules {
  OrchManager *manager;
  OrchScheduler *scheduler;
  OrchBusSchedules *bus; /* NULL without a bus */
  /* Test hook (ORCH_TEST_CLOCK_OFFSET_FILE): the scheduler's clock runs
   * this far ahead of the real one; SIGUSR2 reads the file again and is
   * handled as the kernel's "clock was set". */
  char *offset_file;
  gint64 offset_us;
  guint sigusr2;
};

static gboolean
check (GVariant *spec, gpointer data, GError **error)
{
  OrchDaemonSchedules *self = data;

  return orch_manager_check_spec (self->manager, spec, error);
}

static char *
create (GVariant *spec, const char *schedule_id, gpointer data, GError **error)
{
  OrchDaemonSchedules *self = data;
  OrchJob *job = orch_manager_create_scheduled (self->manager, spec, schedule_id, error);

  return job ? g_strdup (job->id) : NULL;
}

static gboolean
is_active (const char *job_id, gpointer data)
{
  OrchDaemonSchedules *self = data;

  /* A run waiting for its restart policy's next try is still going. */
  return !orch_manager_job_is_done (self->manager, job_id);
}

static void
stopped (OrchJob *job, const GError *error, gpointer data)
{
  if (error)
    g_debug ("schedule: stopping a run: %s", error->message);
}

static void
stop (const char *job_id, gpointer data)
{
  OrchDaemonSchedules *self = data;

  orch_manager_stop (self->manager, job_id, 0, 0, stopped, NULL);
}

static void
changed (OrchSchedule *sched, gpointer data)
{
  OrchDaemonSchedules *self = data;

  if (self->bus)
    orch_bus_schedules_changed (self->bus, sched);
}

static void
removed (const char *id, gpointer data)
{
  OrchDaemonSchedules *self = data;

  if (self->bus)
    orch_bus_schedules_removed (self->bus, id);
}

static const OrchSchedulerOps ops = {
  .check = check,
  .create = create,
  .is_active = is_active,
  .stop = stop,
  .changed = changed,
  .removed = removed,
};

void
orch_daemon_schedules_job_changed (OrchDaemonSchedules *self, OrchJob *job)
{
  /* A run is over when its job is finally done: a failure its restart
   * policy will retry is not the run's end (overlap, last_result). */
  if (self == NULL || self->scheduler == NULL || job->schedule_id == NULL ||
      !orch_manager_job_is_done (self->manager, job->id))
    return;
  orch_scheduler_job_ended (self->scheduler, job->schedule_id, job->id,
                            orch_job_state_to_string (job->state));
}

static gint64
offset_clock (gpointer data)
{
  OrchDaemonSchedules *self = data;

  return g_get_real_time () + self->offset_us;
}

static void
read_offset (OrchDaemonSchedules *self)
{
  g_autofree char *text = NULL;

  if (g_file_get_contents (self->offset_file, &text, NULL, NULL))
    self->offset_us = g_ascii_strtoll (text, NULL, 10) * G_USEC_PER_SEC;
}

static gboolean
sigusr2_cb (gpointer data)
{
  OrchDaemonSchedules *self = data;

  read_offset (self);
  g_message ("test clock: %+" G_GINT64_FORMAT " s from the real one",
             self->offset_us / G_USEC_PER_SEC);
  orch_scheduler_clock_changed (self->scheduler);
  return G_SOURCE_CONTINUE;
}

OrchDaemonSchedules *
orch_daemon_schedules_new (OrchManager *manager, OrchState *state, sd_bus *bus, OrchBusAuth *auth,
                           GError **error)
{
  g_autoptr(OrchDaemonSchedules) self = g_new0 (OrchDaemonSchedules, 1);
  const char *offset_file = g_getenv ("ORCH_TEST_CLOCK_OFFSET_FILE");

  self->manager = manager;
  if (bus)
    {
      self->bus = orch_bus_schedules_new (bus, auth, error);
      if (self->bus == NULL)
        return NULL;
    }
  self->scheduler = orch_scheduler_new (state, &ops, self, error);
  if (self->scheduler == NULL)
    return NULL;
  if (offset_file && *offset_file)
    {
      self->offset_file = g_strdup (offset_file);
      read_offset (self);
      orch_scheduler_set_clock (self->scheduler, offset_clock, self);
      self->sigusr2 = g_unix_signal_add (SIGUSR2, sigusr2_cb, self);
    }
  if (self->bus)
    orch_bus_schedules_set_scheduler (self->bus, self->scheduler);
  return g_steal_pointer (&self);
}

gboolean
orch_daemon_schedules_start (OrchDaemonSchedules *self, GError **error)
{
  return orch_scheduler_restore (self->scheduler, error);
}

OrchScheduler *
orch_daemon_schedules_get (OrchDaemonSchedules *self)
{
  return self->scheduler;
}

void
orch_daemon_schedules_free (OrchDaemonSchedules *self)
{
  if (self == NULL)
    return;
  if (self->sigusr2)
    g_source_remove (self->sigusr2);
  g_clear_pointer (&self->scheduler, orch_scheduler_free);
  g_clear_pointer (&self->bus, orch_bus_schedules_free);
  g_free (self->offset_file);
  g_free (self);
}
