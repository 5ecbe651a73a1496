/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-bus-groups.h"
#include "orch-bus-auth.h"
#include "orch-bus-error.h"
#include "orch-bus-variant.h"

#include "basic/orch-error.h"
#include "core/orch-sd-bus.h"

#include <glib/gi18n.h>

#define OBJ_PATH "/org/orchestrator"
#define GROUPS_IFACE "org.orchestrator.Groups"

struct _OrchBusGroups {
  sd_bus *bus;
  OrchGroups *groups;
  OrchBusAuth *auth;
  sd_bus_slot *slot;
};

static int
create_authorized (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  OrchBusGroups *self = userdata;
  g_autoptr(GVariant) options = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL, *path = NULL;
  int r = orch_bus_read_argument (m, &options, ret_error);

  if (r < 0)
    return r;
  id = orch_groups_create (self->groups, options, &error);
  if (id == NULL)
    return orch_bus_set_gerror (ret_error, error);
  path = g_strconcat (OBJ_PATH "/group/", id, NULL);
  return sd_bus_reply_method_return (m, "so", id, path);
}

static int
list_authorized (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  OrchBusGroups *self = userdata;

  return orch_bus_reply_variant (m, orch_groups_list (self->groups));
}

static int
get_authorized (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  OrchBusGroups *self = userdata;
  g_autoptr(GError) error = NULL;
  GVariant *rec;
  const char *id;
  int r = sd_bus_message_read (m, "s", &id);

  if (r < 0)
    return r;
  rec = orch_groups_get (self->groups, id, &error);
  if (rec == NULL)
    return orch_bus_set_gerror (ret_error, error);
  return orch_bus_reply_variant (m, rec);
}

static int
update_authorized (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  OrchBusGroups *self = userdata;
  g_autoptr(GVariant) options = NULL;
  g_autoptr(GError) error = NULL;
  const char *id;
  int r = sd_bus_message_read (m, "s", &id);

  if (r >= 0)
    r = orch_bus_read_argument (m, &options, ret_error);
  if (r < 0)
    return r;
  if (!orch_groups_update (self->groups, id, options, &error))
    return orch_bus_set_gerror (ret_error, error);
  return sd_bus_reply_method_return (m, NULL);
}

static int
scale_authorized (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  OrchBusGroups *self = userdata;
  g_autoptr(GError) error = NULL;
  const char *id;
  uint32_t n;
  int r = sd_bus_message_read (m, "su", &id, &n);

  if (r < 0)
    return r;
  if (!orch_groups_scale (self->groups, id, n, &error))
    return orch_bus_set_gerror (ret_error, error);
  return sd_bus_reply_method_return (m, NULL);
}

static int
remove_authorized (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  OrchBusGroups *self = userdata;
  g_autoptr(GVariant) options = NULL;
  g_autoptr(GError) error = NULL;
  const char *id;
  int r = sd_bus_message_read (m, "s", &id);

  if (r >= 0)
    r = orch_bus_read_argument (m, &options, ret_error);
  if (r < 0)
    return r;
  if (!orch_groups_remove (self->groups, id, options, &error))
    return orch_bus_set_gerror (ret_error, error);
  return sd_bus_reply_method_return (m, NULL);
}

ORCH_BUS_GATED (method_create, OrchBusGroups, ORCH_ACCESS_MANAGE, create_authorized)
ORCH_BUS_GATED (method_list, OrchBusGroups, ORCH_ACCESS_READ, list_authorized)
ORCH_BUS_GATED (method_get, OrchBusGroups, ORCH_ACCESS_READ, get_authorized)
ORCH_BUS_GATED (method_update, OrchBusGroups, ORCH_ACCESS_MANAGE, update_authorized)
ORCH_BUS_GATED (method_scale, OrchBusGroups, ORCH_ACCESS_MANAGE, scale_authorized)
ORCH_BUS_GATED (method_remove, OrchBusGroups, ORCH_ACCESS_MANAGE, remove_authorized)

static const sd_bus_vtable groups_vtable[] = {
  SD_BUS_VTABLE_START (0),
  SD_BUS_METHOD_WITH_ARGS ("Create", SD_BUS_ARGS ("a{sv}", options),
                           SD_BUS_RESULT ("s", id, "o", path), method_create,
                           SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("List", SD_BUS_NO_ARGS, SD_BUS_RESULT ("aa{sv}", groups), method_list,
                           SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("Get", SD_BUS_ARGS ("s", id), SD_BUS_RESULT ("a{sv}", group), method_get,
                           SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("Update", SD_BUS_ARGS ("s", id, "a{sv}", options), SD_BUS_NO_RESULT,
                           method_update, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("Scale", SD_BUS_ARGS ("s", id, "u", replicas), SD_BUS_NO_RESULT,
                           method_scale, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("Remove", SD_BUS_ARGS ("s", id, "a{sv}", options), SD_BUS_NO_RESULT,
                           method_remove, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_SIGNAL_WITH_ARGS ("GroupChanged", SD_BUS_ARGS ("s", id, "s", event, "a{sv}", data), 0),
  SD_BUS_VTABLE_END
};

void
orch_bus_groups_changed (const char *id, const char *event, GVariant *data, gpointer user_data)
{
  OrchBusGroups *self = user_data;
  g_autoptr(sd_bus_message) sig = NULL;
  int r;

  if (self == NULL)
    return;
  r = sd_bus_message_new_signal (self->bus, &sig, OBJ_PATH, GROUPS_IFACE, "GroupChanged");
  if (r >= 0)
    r = sd_bus_message_append (sig, "ss", id, event);
  if (r >= 0)
    r = orch_bus_append_variant (sig, data);
  if (r >= 0)
    r = sd_bus_send (self->bus, sig, NULL);
  if (r < 0)
    g_warning ("cannot emit GroupChanged: %s", g_strerror (-r));
}

OrchBusGroups *
orch_bus_groups_new (sd_bus *bus, GError **error)
{
  OrchBusGroups *self = g_new0 (OrchBusGroups, 1);
  int r;

  self->bus = bus;
  r = sd_bus_add_object_vtable (bus, &self->slot, OBJ_PATH, GROUPS_IFACE, groups_vtable, self);
  if (!orch_bus_check_export (r, error))
    {
      g_free (self);
      return NULL;
    }
  return self;
}

void
orch_bus_groups_set_groups (OrchBusGroups *self, OrchGroups *groups)
{
  self->groups = groups;
}

void
orch_bus_groups_set_auth (OrchBusGroups *self, OrchBusAuth *auth)
{
  self->auth = auth;
}

void
orch_bus_groups_free (OrchBusGroups *self)
{
  if (self == NULL)
    return;
  sd_bus_slot_unref (self->slot);
  g_free (self);
}
