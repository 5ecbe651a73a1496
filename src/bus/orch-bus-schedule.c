/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.orchestrator.Schedule: one object per schedule at
 * /org/orchestrator/schedule/<id> (the path Schedules.Create returns),
 * served by one fallback vtable: nothing per schedule is kept for it. */
#include "config.h"

#include "orch-bus-schedule.h"
#include "orch-bus-error.h"
#include "orch-bus-variant.h"

#include "basic/orch-error.h"
#include "basic/orch-id.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <string.h>

/* Property -> record key, and what a record without the key shows. */
static const struct {
  const char *property;
  const char *key;
  const char *signature;
} props[] = {
  { "Id", "id", "s" },
  { "Name", "name", "s" },
  { "Calendar", "calendar", "s" },
  { "Cron", "cron", "s" },
  { "Timezone", "timezone", "s" },
  { "IntervalS", "interval_s", "t" },
  { "State", "state", "s" },
  { "NextRunAt", "next_run_at", "t" },
  { "NextElapseAt", "next_elapse_at", "t" },
  { "LastRunAt", "last_run_at", "t" },
  { "LastJobId", "last_job_id", "s" },
  { "LastResult", "last_result", "s" },
  { "LastSkipReason", "last_skip_reason", "s" },
  { "Runs", "runs", "u" },
  { "Skipped", "skipped", "u" },
  { "Running", "running", "u" },
  { "Overlap", "overlap", "s" },
  { "Persistent", "persistent", "b" },
  { "RandomizedDelayS", "randomized_delay_s", "u" },
  { "TimeoutS", "timeout_s", "u" },
  { "CreatedAt", "created_at", "t" },
  { "Job", "job", "a{sv}" },
};

char *
orch_bus_schedule_path (const char *id)
{
  return g_strconcat (ORCH_BUS_SCHEDULE_PREFIX "/", id, NULL);
}

const char *
orch_bus_schedule_id_from_path (const char *path)
{
  if (path == NULL || !g_str_has_prefix (path, ORCH_BUS_SCHEDULE_PREFIX "/"))
    return NULL;
  path += strlen (ORCH_BUS_SCHEDULE_PREFIX "/");
  return orch_schedule_id_is_valid (path) ? path : NULL;
}

static OrchSchedule *
schedule_of_path (OrchBusSchedules *self, const char *path, GError **error)
{
  const char *id = orch_bus_schedule_id_from_path (path);
  OrchScheduler *scheduler = orch_bus_schedules_scheduler (self);

  if (id == NULL || scheduler == NULL)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_NOT_FOUND, _("no schedule at %s"), path);
      return NULL;
    }
  return orch_scheduler_lookup (scheduler, id, error);
}

static int
schedule_find (sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
               sd_bus_error *ret_error)
{
  if (schedule_of_path (userdata, path, NULL) == NULL)
    return 0;
  *found = userdata;
  return 1;
}

static int
schedule_enumerate (sd_bus *bus, const char *path, void *userdata, char ***nodes,
                    sd_bus_error *ret_error)
{
  OrchScheduler *scheduler = orch_bus_schedules_scheduler (userdata);
  g_autoptr(GPtrArray) all = scheduler ? orch_scheduler_list (scheduler, NULL) : g_ptr_array_new ();

  for (guint i = 0; i < all->len; i++)
    all->pdata[i] = (gpointer) orch_schedule_id (all->pdata[i]);
  return orch_bus_node_list (ORCH_BUS_SCHEDULE_PREFIX, all, nodes);
}

static int
append_default (sd_bus_message *reply, const char *signature)
{
  static const uint64_t zero = 0;
  static const int no = 0;

  switch (signature[0])
    {
    case 's':
      return sd_bus_message_append_basic (reply, 's', "");
    case 't':
    case 'u':
      return sd_bus_message_append_basic (reply, signature[0], &zero);
    case 'b':
      return sd_bus_message_append_basic (reply, 'b', &no);
    default:
      return sd_bus_message_append (reply, "a{sv}", 0);
    }
}

int
orch_bus_schedule_prop (sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
  OrchBusSchedules *self = userdata;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) record = NULL;
  sd_bus_message *current = sd_bus_get_current_message (bus);
  OrchSchedule *s;
  int r = 0;

  /* A caller reading properties is checked (as for jobs); the same
   * getters also fill PropertiesChanged signals. */
  if (current &&
      (sd_bus_message_is_method_call (current, "org.freedesktop.DBus.Properties", NULL) > 0 ||
       sd_bus_message_is_method_call (current, "org.freedesktop.DBus.ObjectManager", NULL) > 0))
    r = orch_bus_auth_check_now (orch_bus_schedules_auth (self), current, ORCH_ACCESS_READ,
                                 ret_error);
  if (r < 0)
    return r;
  s = schedule_of_path (self, path, &error);
  if (s == NULL)
    return orch_bus_set_gerror (ret_error, error);
  record = orch_bus_schedules_record (self, s);
  for (gsize i = 0; i < G_N_ELEMENTS (props); i++)
    if (strcmp (props[i].property, property) == 0)
      {
        g_autoptr(GVariant) v = g_variant_lookup_value (record, props[i].key,
                                                        G_VARIANT_TYPE (props[i].signature));
        return v ? orch_bus_append_variant (reply, v) : append_default (reply, props[i].signature);
      }
  return -ENOENT;
}

int
orch_bus_schedule_export (sd_bus *bus, sd_bus_slot **slots, const sd_bus_vtable *vtable,
                          OrchBusSchedules *self)
{
  int r = sd_bus_add_fallback_vtable (bus, &slots[0], ORCH_BUS_SCHEDULE_PREFIX,
                                      ORCH_BUS_SCHEDULE_IFACE, vtable, schedule_find, self);

  if (r >= 0)
    r = sd_bus_add_node_enumerator (bus, &slots[1], ORCH_BUS_SCHEDULE_PREFIX, schedule_enumerate,
                                    self);
  return r;
}

void
orch_bus_schedule_changed (sd_bus *bus, const char *id)
{
  g_autofree char *path = orch_bus_schedule_path (id);

  sd_bus_emit_properties_changed_strv (bus, path, ORCH_BUS_SCHEDULE_IFACE, NULL);
}
