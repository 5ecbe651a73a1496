/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-backend.h"
#include "basic/orch-cgroup.h"
#include "basic/orch-error.h"
#include "orch-sd-bus.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

/* Each job is a transient scope orchestrator-<id>.scope in
 * orchestrator.slice, made the way systemd-run --scope makes one: the
 * JobRemoved match is in place before StartTransientUnit, the held child's
 * pid goes in PIDs, and the child is released only once the systemd job for
 * the scope has finished with "done".  One long-lived connection (PID 1's
 * private socket when we may use it), and at most MAX_IN_FLIGHT calls
 * outstanding: dbus-daemon refuses more than 128 pending replies per
 * connection. */

#define MAX_IN_FLIGHT 32
#define UNIT_EXISTS_RETRIES 100
#define UNIT_EXISTS_DELAY_MS 20

typedef struct _SystemdBackend SystemdBackend;

typedef struct {
  SystemdBackend *self;
  OrchJob *job;
  pid_t pid;
  char *unit;
  char *job_path;          /* systemd job, once StartTransientUnit replied */
  sd_bus_slot *slot;       /* the pending call */
  guint retry_source;
  guint retries;
  gboolean replied;
  char *early_result;      /* JobRemoved that came before the reply */
  OrchBackendAttachFunc done;
  gpointer data;
} Pending;

struct _SystemdBackend {
  OrchBackend parent;
  sd_bus *bus;
  GSource *source;
  sd_bus_slot *match;
  GHashTable *pending;     /* unit name -> Pending, started or queued */
  GQueue queue;            /* Pending not yet sent */
  guint in_flight;
  sd_bus_slot *list_slot;  /* ListUnitsByPatterns outstanding */
  OrchBackendUnitsFunc list_done;
  gpointer list_data;
};

static void start_call (Pending *p);

static void
pending_free (Pending *p)
{
  sd_bus_slot_unref (p->slot);
  if (p->retry_source)
    g_source_remove (p->retry_source);
  g_free (p->unit);
  g_free (p->job_path);
  g_free (p->early_result);
  g_free (p);
}

static void
pump_queue (SystemdBackend *self)
{
  while (self->in_flight < MAX_IN_FLIGHT && !g_queue_is_empty (&self->queue))
    start_call (g_queue_pop_head (&self->queue));
}

/* Ends @p: the caller learns the result, the slot is freed. */
static void
pending_finish (Pending *p, const GError *error)
{
  SystemdBackend *self = p->self;
  OrchJob *job = p->job;
  OrchBackendAttachFunc done = p->done;
  gpointer data = p->data;

  if (p->slot || p->replied)
    {
      /* It counted against in_flight from start_call until now. */
      g_assert (self->in_flight > 0);
      self->in_flight--;
    }
  if (error == NULL)
    {
      g_autofree char *cg = NULL;
      g_free (job->unit);
      job->unit = g_strdup (p->unit);
      if (orch_cgroup_of_pid (p->pid, &cg) == 0)
        {
          g_free (job->cgroup);
          job->cgroup = g_steal_pointer (&cg);
        }
    }
  g_hash_table_remove (self->pending, p->unit);
  done (job, error, data);
  pump_queue (self);
}

static void
finish_with_result (Pending *p, const char *result)
{
  g_autoptr(GError) error = NULL;

  if (strcmp (result, "done") != 0)
    g_set_error (&error, ORCH_ERROR, ORCH_ERROR_FAILED,
                 _("systemd could not start %s: the job finished with result “%s”"),
                 p->unit, result);
  pending_finish (p, error);
}

static gboolean
retry_cb (gpointer data)
{
  Pending *p = data;

  p->retry_source = 0;
  start_call (p);
  return G_SOURCE_REMOVE;
}

static int
start_reply (sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
  Pending *p = userdata;
  const sd_bus_error *e = sd_bus_message_get_error (reply);
  const char *path;
  int r;

  p->slot = sd_bus_slot_unref (p->slot);

  if (e)
    {
      g_autoptr(GError) error = NULL;

      /* A scope of the same name still winding down (a restart right after
       * the previous run): wait for systemd to collect it. */
      if (sd_bus_error_has_name (e, "org.freedesktop.systemd1.UnitExists") &&
          p->retries < UNIT_EXISTS_RETRIES)
        {
          p->retries++;
          p->self->in_flight--;
          p->retry_source = g_timeout_add (UNIT_EXISTS_DELAY_MS, retry_cb, p);
          return 0;
        }
      g_set_error (&error, ORCH_ERROR, ORCH_ERROR_FAILED,
                   _("systemd could not create %s: %s"), p->unit, e->message);
      p->replied = TRUE;
      pending_finish (p, error);
      return 0;
    }

  p->replied = TRUE;
  r = sd_bus_message_read (reply, "o", &path);
  if (r < 0)
    {
      g_autoptr(GError) error = NULL;
      g_set_error (&error, ORCH_ERROR, ORCH_ERROR_FAILED,
                   _("systemd sent a malformed reply for %s"), p->unit);
      pending_finish (p, error);
      return 0;
    }
  p->job_path = g_strdup (path);
  if (p->early_result)
    finish_with_result (p, p->early_result);
  return 0;
}

static int
job_removed (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  SystemdBackend *self = userdata;
  const char *path, *unit, *result;
  uint32_t id;
  Pending *p;

  if (sd_bus_message_read (m, "uoss", &id, &path, &unit, &result) < 0)
    return 0;
  p = g_hash_table_lookup (self->pending, unit);
  if (p == NULL || (p->slot == NULL && !p->replied))
    return 0; /* not ours, or still queued / waiting to retry */
  if (!p->replied)
    {
      /* The signal overtook the reply: keep the result until it comes. */
      g_free (p->early_result);
      p->early_result = g_strdup (result);
      return 0;
    }
  if (p->job_path && strcmp (p->job_path, path) != 0)
    return 0;
  finish_with_result (p, result);
  return 0;
}

/* The limits of @l as unit properties, inside an open a(sv). */
static int
append_limits (sd_bus_message *m, const OrchLimits *l)
{
  int r = 0;

  for (guint i = 0; i < ORCH_LIMIT_N && r >= 0; i++)
    if (l->mask & (1u << i))
      r = sd_bus_message_append (m, "(sv)", orch_limit_info (i)->property, "t",
                                 orch_limit_systemd_value (i, l->value[i]));
  return r;
}

static int
append_properties (sd_bus_message *m, OrchJob *job, pid_t pid)
{
  const OrchSpec *spec = job->spec;
  OrchLimits limits;
  g_autofree char *desc = g_strdup_printf ("orchestrator job %s (%s)", job->id, spec->name);
  int r;

  r = sd_bus_message_open_container (m, 'a', "(sv)");
  if (r < 0)
    return r;
  r = sd_bus_message_append (m, "(sv)(sv)(sv)(sv)(sv)(sv)(sv)(sv)",
                             "PIDs", "au", 1, (uint32_t) pid,
                             "Description", "s", desc,
                             "Slice", "s", "orchestrator.slice",
                             "CollectMode", "s", "inactive-or-failed",
                             "CPUAccounting", "b", 1,
                             "MemoryAccounting", "b", 1,
                             "IOAccounting", "b", 1,
                             "TasksAccounting", "b", 1);
  if (r < 0)
    return r;
  orch_limits_set_in_spec (spec, &limits);
  if ((r = append_limits (m, &limits)) < 0)
    return r;
  return sd_bus_message_close_container (m);
}

static void
start_call (Pending *p)
{
  SystemdBackend *self = p->self;
  g_autoptr(sd_bus_message) m = NULL;
  int r;

  r = sd_bus_message_new_method_call (self->bus, &m, "org.freedesktop.systemd1",
                                      "/org/freedesktop/systemd1",
                                      "org.freedesktop.systemd1.Manager", "StartTransientUnit");
  if (r >= 0)
    r = sd_bus_message_append (m, "ss", p->unit, "fail");
  if (r >= 0)
    r = append_properties (m, p->job, p->pid);
  if (r >= 0)
    r = sd_bus_message_append (m, "a(sa(sv))", 0);
  if (r >= 0)
    r = sd_bus_call_async (self->bus, &p->slot, m, start_reply, p, 0);

  self->in_flight++;
  if (r < 0)
    {
      g_autoptr(GError) error = NULL;
      g_set_error (&error, ORCH_ERROR, ORCH_ERROR_FAILED,
                   _("cannot ask systemd for %s: %s"), p->unit, g_strerror (-r));
      p->replied = TRUE;
      pending_finish (p, error);
    }
}

static void
systemd_attach (OrchBackend *b, OrchJob *job, pid_t pid, OrchBackendAttachFunc done, gpointer data)
{
  SystemdBackend *self = (SystemdBackend *) b;
  Pending *p = g_new0 (Pending, 1);

  p->self = self;
  p->job = job;
  p->pid = pid;
  p->unit = g_strdup_printf ("orchestrator-%s.scope", job->id);
  p->done = done;
  p->data = data;
  g_hash_table_replace (self->pending, p->unit, p);
  if (self->in_flight < MAX_IN_FLIGHT)
    start_call (p);
  else
    g_queue_push_tail (&self->queue, p);
}

static char *
cgroup_dir (OrchJob *job)
{
  const char *mount;

  if (job->cgroup[0] == '\0' || orch_cgroup_v2_mount (&mount) < 0)
    return NULL;
  return g_build_filename (mount, job->cgroup, NULL);
}

static int
kill_reply (sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
  const sd_bus_error *e = sd_bus_message_get_error (reply);

  /* NoSuchUnit: the scope emptied and was collected meanwhile, fine. */
  if (e && !sd_bus_error_has_name (e, "org.freedesktop.systemd1.NoSuchUnit"))
    g_warning ("KillUnit failed: %s", e->message);
  return 0;
}

static int
systemd_kill (OrchBackend *b, OrchJob *job, int sig)
{
  SystemdBackend *self = (SystemdBackend *) b;

  if (job->unit[0] == '\0')
    {
      /* Not a scope yet (still held): only the child exists. */
      pid_t pid = job->pid > 0 ? job->pid : job->monitor_pid;
      if (pid > 0 && kill (pid, sig) < 0)
        return -errno;
      return 0;
    }
  return sd_bus_call_method_async (self->bus, NULL, "org.freedesktop.systemd1",
                                   "/org/freedesktop/systemd1",
                                   "org.freedesktop.systemd1.Manager", "KillUnit",
                                   kill_reply, NULL, "ssi", job->unit, "all", sig);
}

static int
systemd_is_empty (OrchBackend *b, OrchJob *job)
{
  g_autofree char *dir = cgroup_dir (job);

  if (dir == NULL)
    {
      if (job->pid > 0 && kill (job->pid, 0) == 0)
        return 0;
      return 1;
    }
  return orch_cgroup_is_empty (dir);
}

static char *
systemd_events_path (OrchBackend *b, OrchJob *job)
{
  g_autofree char *dir = cgroup_dir (job);

  return dir ? g_build_filename (dir, "cgroup.events", NULL) : NULL;
}

/* The scope's memory.events where the unified tree has the memory
 * controller (pure v2: the file systemd reads for its Result=oom-kill),
 * else its memory.oom_control in a hybrid host's v1 memory hierarchy. */
static char *
systemd_memory_events_path (OrchBackend *b, OrchJob *job)
{
  g_autofree char *dir = cgroup_dir (job);
  g_autofree char *v2 = dir ? g_build_filename (dir, "memory.events", NULL) : NULL;
  g_autofree char *mountinfo = NULL;
  g_autofree char *v1_mount = NULL;
  g_autofree char *v1 = NULL;

  if (v2 && access (v2, R_OK) == 0)
    return g_steal_pointer (&v2);
  if (job->cgroup == NULL || job->cgroup[0] == '\0' ||
      orch_read_small_file ("/proc/self/mountinfo", &mountinfo) < 0 ||
      orch_cgroup_parse_mountinfo_v1 (mountinfo, "memory", &v1_mount) < 0)
    return NULL;
  v1 = g_build_filename (v1_mount, job->cgroup, "memory.oom_control", NULL);
  return access (v1, R_OK) == 0 ? g_steal_pointer (&v1) : NULL;
}

static void
systemd_forget (OrchBackend *b, OrchJob *job)
{
  SystemdBackend *self = (SystemdBackend *) b;
  g_autofree char *unit = g_strdup_printf ("orchestrator-%s.scope", job->id);
  Pending *p = g_hash_table_lookup (self->pending, unit);

  if (p == NULL)
    return;
  if (p->slot || p->replied)
    self->in_flight--;
  g_queue_remove (&self->queue, p);
  g_hash_table_remove (self->pending, unit);
  pump_queue (self);
}

static int
list_reply (sd_bus_message *m, void *data, sd_bus_error *ret_error)
{
  SystemdBackend *self = data;
  g_autoptr(GPtrArray) units = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  int r;

  self->list_slot = sd_bus_slot_unref (self->list_slot);
  if (sd_bus_message_is_method_error (m, NULL))
    {
      g_warning ("ListUnitsByPatterns failed: %s", sd_bus_message_get_error (m)->message);
      self->list_done (NULL, self->list_data);
      return 0;
    }
  r = sd_bus_message_enter_container (m, 'a', "(ssssssouso)");
  while (r > 0 && (r = sd_bus_message_read (m, "(ssssssouso)", &name, NULL, NULL, NULL, NULL,
                                             NULL, NULL, NULL, NULL, NULL)) > 0)
    g_ptr_array_add (units, g_strdup (name));
  if (r < 0)
    {
      g_warning ("ListUnitsByPatterns: bad reply: %s", g_strerror (-r));
      self->list_done (NULL, self->list_data);
      return 0;
    }
  g_ptr_array_add (units, NULL);
  self->list_done ((char **) g_ptr_array_free (g_steal_pointer (&units), FALSE), self->list_data);
  return 0;
}

static void
systemd_list_units (OrchBackend *b, OrchBackendUnitsFunc done, gpointer user_data)
{
  SystemdBackend *self = (SystemdBackend *) b;
  const char *const patterns[] = { "orchestrator-job_*.scope", NULL };
  g_autoptr(sd_bus_message) m = NULL;
  int r;

  self->list_done = done;
  self->list_data = user_data;
  self->list_slot = sd_bus_slot_unref (self->list_slot);
  r = sd_bus_message_new_method_call (self->bus, &m, "org.freedesktop.systemd1",
                                      "/org/freedesktop/systemd1",
                                      "org.freedesktop.systemd1.Manager", "ListUnitsByPatterns");
  if (r >= 0)
    r = sd_bus_message_append_strv (m, NULL); /* any state */
  if (r >= 0)
    r = sd_bus_message_append_strv (m, (char **) patterns);
  if (r >= 0)
    r = sd_bus_call_async (self->bus, &self->list_slot, m, list_reply, self, 0);
  if (r < 0)
    {
      g_warning ("cannot list the job scopes: %s", g_strerror (-r));
      done (NULL, user_data);
    }
}

static void
systemd_free (OrchBackend *b)
{
  SystemdBackend *self = (SystemdBackend *) b;

  sd_bus_slot_unref (self->list_slot);
  g_queue_clear (&self->queue);
  g_hash_table_unref (self->pending);
  sd_bus_slot_unref (self->match);
  if (self->source)
    {
      g_source_destroy (self->source);
      g_source_unref (self->source);
    }
  sd_bus_flush_close_unref (self->bus);
  g_free (self);
}

typedef struct {
  char *unit;
  OrchBackendLimitsFunc done;
  gpointer data;
} LimitsCall;

static int
set_limits_reply (sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
  LimitsCall *c = userdata;
  const sd_bus_error *e = sd_bus_message_get_error (reply);
  g_autoptr(GError) error = NULL;

  /* SetUnitProperties applies all of them or fails before changing any. */
  if (e)
    g_set_error (&error, ORCH_ERROR, ORCH_ERROR_FAILED, _("systemd could not change %s: %s"),
                 c->unit, e->message);
  c->done (error, c->data);
  g_free (c->unit);
  g_free (c);
  return 0;
}

static void
systemd_set_limits (OrchBackend *b, OrchJob *job, const OrchLimits *limits,
                    OrchBackendLimitsFunc done, gpointer data)
{
  SystemdBackend *self = (SystemdBackend *) b;
  g_autoptr(sd_bus_message) m = NULL;
  g_autoptr(GError) error = NULL;
  LimitsCall *c;
  int r;

  if (job->unit[0] == '\0')
    {
      g_set_error (&error, ORCH_ERROR, ORCH_ERROR_INVALID_STATE,
                   _("job %s has no systemd unit yet"), job->id);
      done (error, data);
      return;
    }
  r = sd_bus_message_new_method_call (self->bus, &m, "org.freedesktop.systemd1",
                                      "/org/freedesktop/systemd1",
                                      "org.freedesktop.systemd1.Manager", "SetUnitProperties");
  if (r >= 0)
    r = sd_bus_message_append (m, "sb", job->unit, 1); /* runtime: gone with the scope */
  if (r >= 0)
    r = sd_bus_message_open_container (m, 'a', "(sv)");
  if (r >= 0)
    r = append_limits (m, limits);
  if (r >= 0)
    r = sd_bus_message_close_container (m);
  c = g_new0 (LimitsCall, 1);
  c->unit = g_strdup (job->unit);
  c->done = done;
  c->data = data;
  if (r >= 0)
    r = sd_bus_call_async (self->bus, NULL, m, set_limits_reply, c, 0);
  if (r < 0)
    {
      g_set_error (&error, ORCH_ERROR, ORCH_ERROR_FAILED, _("cannot ask systemd to change %s: %s"),
                   c->unit, g_strerror (-r));
      g_free (c->unit);
      g_free (c);
      done (error, data);
    }
}

static const OrchBackendOps systemd_ops = {
  .name = "systemd",
  .attach = systemd_attach,
  .kill = systemd_kill,
  .is_empty = systemd_is_empty,
  .events_path = systemd_events_path,
  .list_units = systemd_list_units,
  .forget = systemd_forget,
  .free = systemd_free,
  .set_limits = systemd_set_limits,
  .memory_events_path = systemd_memory_events_path,
};

static int
connect_manager (gboolean user, sd_bus **ret)
{
  g_autoptr(sd_bus) bus = NULL;
  int r;

  /* PID 1's private socket skips dbus-daemon: half the hops per call. */
  if (!user && geteuid () == 0 && access ("/run/systemd/private", F_OK) == 0)
    {
      r = sd_bus_new (&bus);
      if (r >= 0)
        r = sd_bus_set_address (bus, "unix:path=/run/systemd/private");
      if (r >= 0)
        r = sd_bus_start (bus);
      if (r >= 0)
        {
          *ret = g_steal_pointer (&bus);
          return 0;
        }
      g_clear_pointer (&bus, sd_bus_flush_close_unref);
    }
  r = user ? sd_bus_open_user (&bus) : sd_bus_open_system (&bus);
  if (r < 0)
    return r;
  *ret = g_steal_pointer (&bus);
  return 0;
}

OrchBackend *
orch_backend_systemd_new (gboolean user, GError **error)
{
  g_autoptr(sd_bus) bus = NULL;
  _cleanup_bus_error_ sd_bus_error e = SD_BUS_ERROR_NULL;
  g_autofree char *version = NULL;
  SystemdBackend *self;
  int r;

  /* Blocking calls here are fine: this runs once, before the loop serves. */
  r = connect_manager (user, &bus);
  if (r < 0)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED,
                   _("cannot connect to the %s bus: %s"), user ? "user" : "system",
                   g_strerror (-r));
      return NULL;
    }
  r = sd_bus_get_property_string (bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                  "org.freedesktop.systemd1.Manager", "Version", &e, &version);
  if (r < 0)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED,
                   _("the systemd manager does not answer: %s"),
                   e.message ? e.message : g_strerror (-r));
      return NULL;
    }

  self = g_new0 (SystemdBackend, 1);
  self->parent.ops = &systemd_ops;
  self->bus = g_steal_pointer (&bus);
  self->pending = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) pending_free);
  g_queue_init (&self->queue);

  r = sd_bus_match_signal (self->bus, &self->match, "org.freedesktop.systemd1",
                           "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                           "JobRemoved", job_removed, self);
  if (r >= 0)
    /* On the shared bus systemd sends job signals to subscribers only. */
    r = sd_bus_call_method (self->bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                            "org.freedesktop.systemd1.Manager", "Subscribe", &e, NULL, "");
  if (r < 0)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED,
                   _("cannot subscribe to systemd job signals: %s"),
                   e.message ? e.message : g_strerror (-r));
      systemd_free (&self->parent);
      return NULL;
    }
  self->source = orch_sd_bus_attach (self->bus, NULL);
  return &self->parent;
}
