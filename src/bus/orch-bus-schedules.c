/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-bus-schedules.h"
#include "orch-bus-error.h"
#include "orch-bus-schedule.h"
#include "orch-bus-variant.h"

#include "basic/orch-error.h"
#include "basic/orch-vardict.h"
#include "core/orch-sd-bus.h"

#include <glib/gi18n.h>

#define OBJ_PATH "/org/orchestrator"
#define SCHEDULES_IFACE "org.orchestrator.Schedules"

struct _OrchBusSchedules {
  sd_bus *bus;
  OrchScheduler *scheduler;
  OrchBusAuth *auth;
  sd_bus_slot *slot;
  sd_bus_slot *object_slots[2]; /* org.orchestrator.Schedule (orch-bus-schedule.c) */
  /* While a change is announced: its record, so that the object's
   * property getters do not each read the definition again. */
  const OrchSchedule *announcing;
  GVariant *announced;
};

/* The schedule a call is about: Schedules' first argument, or the path
 * of the org.orchestrator.Schedule object it was sent to. */
static int
read_id (sd_bus_message *m, const char **ret_id, sd_bus_error *ret_error)
{
  if (g_strcmp0 (sd_bus_message_get_interface (m), ORCH_BUS_SCHEDULE_IFACE) != 0)
    return sd_bus_message_read (m, "s", ret_id);
  *ret_id = orch_bus_schedule_id_from_path (sd_bus_message_get_path (m));
  if (*ret_id == NULL)
    return sd_bus_error_set (ret_error, orch_error_to_dbus_name (ORCH_ERROR_NOT_FOUND),
                             "no such schedule");
  return 0;
}

/* The job spec as Jobs.Create would run it for this caller: a caller
 * other than root runs it as itself unless root or polkit lets it name
 * somebody else (orch-bus-jobs.c does the same). */
static GVariant *
params_run_as (OrchBusSchedules *self, sd_bus_message *m, GVariant *params, gboolean *ret_other,
               int *ret_r)
{
  g_autoptr(GVariant) job = g_variant_lookup_value (params, "job", G_VARIANT_TYPE_VARDICT);
  g_autoptr(GVariant) run_as = NULL;
  GVariantDict dict;
  uid_t caller;

  *ret_other = FALSE;
  *ret_r = 0;
  if (job == NULL)
    return g_variant_ref (params);
  *ret_r = orch_bus_auth_caller_uid (self->auth, m, &caller);
  if (*ret_r < 0)
    return NULL;
  run_as = orch_auth_spec_run_as (job, caller, ret_other);
  g_variant_dict_init (&dict, params);
  g_variant_dict_insert_value (&dict, "job", run_as);
  return g_variant_ref_sink (g_variant_dict_end (&dict));
}

static int
do_create (OrchBusSchedules *self, sd_bus_message *m, GVariant *params, sd_bus_error *ret_error)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  OrchSchedule *s = orch_scheduler_create (self->scheduler, params, &error);

  if (s == NULL)
    return orch_bus_set_gerror (ret_error, error);
  path = orch_bus_schedule_path (orch_schedule_id (s));
  /* InterfacesAdded reads every property: from one record. */
  self->announced = g_variant_ref_sink (orch_scheduler_record (self->scheduler, s));
  self->announcing = s;
  sd_bus_emit_object_added (self->bus, path);
  self->announcing = NULL;
  g_clear_pointer (&self->announced, g_variant_unref);
  return sd_bus_reply_method_return (m, "so", orch_schedule_id (s), path);
}

static int
do_update (OrchBusSchedules *self, sd_bus_message *m, const char *id, GVariant *params,
           sd_bus_error *ret_error)
{
  g_autoptr(GError) error = NULL;

  if (!orch_scheduler_update (self->scheduler, id, params, &error))
    return orch_bus_set_gerror (ret_error, error);
  return sd_bus_reply_method_return (m, NULL);
}

/* Root or polkit said yes to the job running as the user it names. */
static int
create_as_named_user (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  g_autoptr(GVariant) params = NULL;
  int r = sd_bus_message_rewind (m, 1);

  if (r >= 0)
    r = orch_bus_read_argument (m, &params, ret_error);
  if (r < 0)
    return r;
  return do_create (userdata, m, params, ret_error);
}

static int
update_as_named_user (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  g_autoptr(GVariant) params = NULL;
  const char *id;
  int r = sd_bus_message_rewind (m, 1);

  if (r >= 0)
    r = read_id (m, &id, ret_error);
  if (r >= 0)
    r = orch_bus_read_argument (m, &params, ret_error);
  if (r < 0)
    return r;
  return do_update (userdata, m, id, params, ret_error);
}

static int
create_authorized (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  OrchBusSchedules *self = userdata;
  g_autoptr(GVariant) params = NULL;
  g_autoptr(GVariant) run_as = NULL;
  gboolean other_user;
  int r = orch_bus_read_argument (m, &params, ret_error);

  if (r < 0)
    return r;
  run_as = params_run_as (self, m, params, &other_user, &r);
  if (r < 0)
    return r;
  if (other_user)
    return orch_bus_auth_gate_admin (self->auth, m, create_as_named_user, self, ret_error);
  return do_create (self, m, run_as, ret_error);
}

static int
update_checked (OrchBusSchedules *self, sd_bus_message *m, const char *id, GVariant *params,
                sd_bus_error *ret_error)
{
  g_autoptr(GVariant) run_as = NULL;
  gboolean other_user;
  int r;

  run_as = params_run_as (self, m, params, &other_user, &r);
  if (r < 0)
    return r;
  if (other_user)
    return orch_bus_auth_gate_admin (self->auth, m, update_as_named_user, self, ret_error);
  return do_update (self, m, id, run_as, ret_error);
}

static int
update_authorized (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  g_autoptr(GVariant) params = NULL;
  const char *id;
  int r = read_id (m, &id, ret_error);

  if (r >= 0)
    r = orch_bus_read_argument (m, &params, ret_error);
  if (r < 0)
    return r;
  return update_checked (userdata, m, id, params, ret_error);
}

static int
list_authorized (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  OrchBusSchedules *self = userdata;
  g_autoptr(GVariant) filter = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(sd_bus_message) reply = NULL;
  const char *name = NULL;
  int r = orch_bus_read_argument (m, &filter, ret_error);

  if (r < 0)
    return r;
  if (!orch_vardict_check (filter, _("filter"), (const char *const[]){ "name", "s", NULL }, &error))
    return orch_bus_set_gerror (ret_error, error);
  g_variant_lookup (filter, "name", "&s", &name);
  all = orch_scheduler_list (self->scheduler, name);
  r = sd_bus_message_new_method_return (m, &reply);
  if (r >= 0)
    r = sd_bus_message_open_container (reply, 'a', "a{sv}");
  for (guint i = 0; r >= 0 && i < all->len; i++)
    {
      g_autoptr(GVariant) v = g_variant_ref_sink (
          orch_scheduler_record (self->scheduler, all->pdata[i]));
      r = orch_bus_append_variant (reply, v);
    }
  if (r >= 0)
    r = sd_bus_message_close_container (reply);
  if (r >= 0)
    r = sd_bus_send (NULL, reply, NULL);
  return r;
}

static int
get_authorized (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  OrchBusSchedules *self = userdata;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) v = NULL;
  OrchSchedule *s;
  const char *id;
  int r = sd_bus_message_read (m, "s", &id);

  if (r < 0)
    return r;
  s = orch_scheduler_lookup (self->scheduler, id, &error);
  if (s == NULL)
    return orch_bus_set_gerror (ret_error, error);
  v = g_variant_ref_sink (orch_scheduler_record (self->scheduler, s));
  return orch_bus_reply_variant (m, v);
}

typedef gboolean (*IdCall) (OrchScheduler *s, const char *id, GError **error);

static int
call_with_id (sd_bus_message *m, OrchBusSchedules *self, IdCall call, sd_bus_error *ret_error)
{
  g_autoptr(GError) error = NULL;
  const char *id;
  int r = read_id (m, &id, ret_error);

  if (r < 0)
    return r;
  if (!call (self->scheduler, id, &error))
    return orch_bus_set_gerror (ret_error, error);
  return sd_bus_reply_method_return (m, NULL);
}

static gboolean
pause_one (OrchScheduler *s, const char *id, GError **error)
{
  return orch_scheduler_set_paused (s, id, TRUE, error);
}

static gboolean
resume_one (OrchScheduler *s, const char *id, GError **error)
{
  return orch_scheduler_set_paused (s, id, FALSE, error);
}

static int
remove_authorized (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  return call_with_id (m, userdata, orch_scheduler_remove, ret_error);
}

static int
pause_authorized (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  return call_with_id (m, userdata, pause_one, ret_error);
}

static int
resume_authorized (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  return call_with_id (m, userdata, resume_one, ret_error);
}

static int
trigger_authorized (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  OrchBusSchedules *self = userdata;
  g_autoptr(GError) error = NULL;
  g_autofree char *job_id = NULL;
  const char *id;
  int r = read_id (m, &id, ret_error);

  if (r < 0)
    return r;
  job_id = orch_scheduler_trigger (self->scheduler, id, &error);
  if (job_id == NULL)
    return orch_bus_set_gerror (ret_error, error);
  return sd_bus_reply_method_return (m, "s", job_id);
}

ORCH_BUS_GATED (method_create, OrchBusSchedules, ORCH_ACCESS_MANAGE, create_authorized)
ORCH_BUS_GATED (method_list, OrchBusSchedules, ORCH_ACCESS_READ, list_authorized)
ORCH_BUS_GATED (method_get, OrchBusSchedules, ORCH_ACCESS_READ, get_authorized)
ORCH_BUS_GATED (method_update, OrchBusSchedules, ORCH_ACCESS_MANAGE, update_authorized)
ORCH_BUS_GATED (method_remove, OrchBusSchedules, ORCH_ACCESS_MANAGE, remove_authorized)
ORCH_BUS_GATED (method_pause, OrchBusSchedules, ORCH_ACCESS_MANAGE, pause_authorized)
ORCH_BUS_GATED (method_resume, OrchBusSchedules, ORCH_ACCESS_MANAGE, resume_authorized)
ORCH_BUS_GATED (method_trigger, OrchBusSchedules, ORCH_ACCESS_MANAGE, trigger_authorized)

static const sd_bus_vtable schedules_vtable[] = {
  SD_BUS_VTABLE_START (0),
  SD_BUS_METHOD_WITH_ARGS ("Create", SD_BUS_ARGS ("a{sv}", schedule),
                           SD_BUS_RESULT ("s", id, "o", path), method_create,
                           SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("List", SD_BUS_ARGS ("a{sv}", filter),
                           SD_BUS_RESULT ("aa{sv}", schedules), method_list,
                           SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("Get", SD_BUS_ARGS ("s", id), SD_BUS_RESULT ("a{sv}", schedule),
                           method_get, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("Update", SD_BUS_ARGS ("s", id, "a{sv}", changes), SD_BUS_NO_RESULT,
                           method_update, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("Remove", SD_BUS_ARGS ("s", id), SD_BUS_NO_RESULT, method_remove,
                           SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("Pause", SD_BUS_ARGS ("s", id), SD_BUS_NO_RESULT, method_pause,
                           SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("Resume", SD_BUS_ARGS ("s", id), SD_BUS_NO_RESULT, method_resume,
                           SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("Trigger", SD_BUS_ARGS ("s", id), SD_BUS_RESULT ("s", job_id),
                           method_trigger, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_SIGNAL_WITH_ARGS ("ScheduleChanged", SD_BUS_ARGS ("s", id, "a{sv}", schedule), 0),
  SD_BUS_VTABLE_END
};

#define PROP(name, sig) \
  SD_BUS_PROPERTY (name, sig, orch_bus_schedule_prop, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE)
#define CONST_PROP(name, sig) \
  SD_BUS_PROPERTY (name, sig, orch_bus_schedule_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST)

/* org.orchestrator.Schedule (orch-bus-schedule.c): the same handlers,
 * the id from the object's path. */
static const sd_bus_vtable schedule_vtable[] = {
  SD_BUS_VTABLE_START (0),
  SD_BUS_METHOD_WITH_ARGS ("Update", SD_BUS_ARGS ("a{sv}", changes), SD_BUS_NO_RESULT,
                           method_update, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("Remove", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_remove,
                           SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("Pause", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_pause,
                           SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("Resume", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_resume,
                           SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("Trigger", SD_BUS_NO_ARGS, SD_BUS_RESULT ("s", job_id), method_trigger,
                           SD_BUS_VTABLE_UNPRIVILEGED),
  CONST_PROP ("Id", "s"),
  PROP ("Name", "s"),
  PROP ("Calendar", "s"),
  PROP ("Cron", "s"),
  PROP ("Timezone", "s"),
  PROP ("IntervalS", "t"),
  PROP ("State", "s"),
  PROP ("NextRunAt", "t"),
  PROP ("NextElapseAt", "t"),
  PROP ("LastRunAt", "t"),
  PROP ("LastJobId", "s"),
  PROP ("LastResult", "s"),
  PROP ("LastSkipReason", "s"),
  PROP ("Runs", "u"),
  PROP ("Skipped", "u"),
  PROP ("Running", "u"),
  PROP ("Overlap", "s"),
  PROP ("Persistent", "b"),
  PROP ("RandomizedDelayS", "u"),
  PROP ("TimeoutS", "u"),
  CONST_PROP ("CreatedAt", "t"),
  PROP ("Job", "a{sv}"),
  SD_BUS_VTABLE_END
};

static void
emit (OrchBusSchedules *self, const char *id, GVariant *record)
{
  g_autoptr(sd_bus_message) sig = NULL;
  int r = sd_bus_message_new_signal (self->bus, &sig, OBJ_PATH, SCHEDULES_IFACE, "ScheduleChanged");

  if (r >= 0)
    r = sd_bus_message_append (sig, "s", id);
  if (r >= 0)
    r = orch_bus_append_variant (sig, record);
  if (r >= 0)
    r = sd_bus_send (self->bus, sig, NULL);
  if (r < 0)
    g_warning ("cannot emit ScheduleChanged: %s", g_strerror (-r));
}

void
orch_bus_schedules_changed (OrchBusSchedules *self, OrchSchedule *sched)
{
  g_autoptr(GVariant) v = g_variant_ref_sink (orch_scheduler_record (self->scheduler, sched));

  emit (self, orch_schedule_id (sched), v);
  self->announcing = sched;
  self->announced = v;
  orch_bus_schedule_changed (self->bus, orch_schedule_id (sched));
  self->announcing = NULL;
  self->announced = NULL;
}

GVariant *
orch_bus_schedules_record (OrchBusSchedules *self, const OrchSchedule *sched)
{
  if (sched == self->announcing && self->announced)
    return g_variant_ref (self->announced);
  return g_variant_ref_sink (orch_scheduler_record (self->scheduler, sched));
}

OrchScheduler *
orch_bus_schedules_scheduler (OrchBusSchedules *self)
{
  return self->scheduler;
}

OrchBusAuth *
orch_bus_schedules_auth (OrchBusSchedules *self)
{
  return self->auth;
}

void
orch_bus_schedules_removed (OrchBusSchedules *self, const char *id)
{
  g_autoptr(GVariant) v = g_variant_ref_sink (
      g_variant_new_parsed ("{'id': <%s>, 'state': <'removed'>}", id));

  g_autofree char *path = orch_bus_schedule_path (id);

  emit (self, id, v);
  sd_bus_emit_object_removed (self->bus, path);
}

OrchBusSchedules *
orch_bus_schedules_new (sd_bus *bus, OrchBusAuth *auth, GError **error)
{
  g_autoptr(OrchBusSchedules) self = g_new0 (OrchBusSchedules, 1);
  int r;

  self->bus = sd_bus_ref (bus);
  self->auth = auth;
  r = sd_bus_add_object_vtable (bus, &self->slot, OBJ_PATH, SCHEDULES_IFACE, schedules_vtable,
                                self);
  if (r >= 0)
    r = orch_bus_schedule_export (bus, self->object_slots, schedule_vtable, self);
  if (!orch_bus_check_export (r, error))
    {
      return NULL;
    }
  return g_steal_pointer (&self);
}

void
orch_bus_schedules_set_scheduler (OrchBusSchedules *self, OrchScheduler *scheduler)
{
  self->scheduler = scheduler;
}

void
orch_bus_schedules_free (OrchBusSchedules *self)
{
  if (self == NULL)
    return;
  sd_bus_slot_unref (self->slot);
  for (guint i = 0; i < G_N_ELEMENTS (self->object_slots); i++)
    sd_bus_slot_unref (self->object_slots[i]);
  sd_bus_unref (self->bus);
  g_free (self);
}
