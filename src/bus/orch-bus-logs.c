/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-bus-logs.h"
#include "orch-bus-auth.h"
#include "orch-bus-error.h"
#include "orch-bus-variant.h"

#include "basic/orch-error.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <unistd.h>

struct _OrchBusLogs {
  OrchLogs *logs;
  OrchBusAuth *auth;
  sd_bus_slot *slot;
};

static int
read_authorized (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  OrchBusLogs *self = userdata;
  g_autoptr(GVariant) options = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  guint64 next = 0;
  const char *id;
  int r;

  r = sd_bus_message_read (m, "s", &id);
  if (r < 0)
    return r;
  r = orch_bus_read_argument (m, &options, ret_error);
  if (r < 0)
    return r;
  if (!orch_logs_read (self->logs, id, options, &text, &next, &error))
    return orch_bus_set_gerror (ret_error, error);
  return sd_bus_reply_method_return (m, "st", text, next);
}

static int
open_authorized (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  OrchBusLogs *self = userdata;
  g_autoptr(GError) error = NULL;
  const char *id, *stream;
  int fd, r;

  r = sd_bus_message_read (m, "ss", &id, &stream);
  if (r < 0)
    return r;
  fd = orch_logs_open (self->logs, id, stream, &error);
  if (fd < 0)
    return orch_bus_set_gerror (ret_error, error);
  /* sd-bus duplicates the fd into the message. */
  r = sd_bus_reply_method_return (m, "h", fd);
  close (fd);
  return r;
}

static int
delete_authorized (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  OrchBusLogs *self = userdata;
  g_autoptr(GError) error = NULL;
  const char *id;
  int r = sd_bus_message_read (m, "s", &id);

  if (r < 0)
    return r;
  if (!orch_logs_delete (self->logs, id, &error))
    return orch_bus_set_gerror (ret_error, error);
  return sd_bus_reply_method_return (m, NULL);
}

static int
cleanup_authorized (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  OrchBusLogs *self = userdata;
  g_autoptr(GVariant) options = NULL;
  g_autoptr(GError) error = NULL;
  guint removed = 0;
  guint64 freed = 0;
  int r = orch_bus_read_argument (m, &options, ret_error);

  if (r < 0)
    return r;
  if (!orch_logs_cleanup (self->logs, options, &removed, &freed, &error))
    return orch_bus_set_gerror (ret_error, error);
  return sd_bus_reply_method_return (m, "ut", (uint32_t) removed, (uint64_t) freed);
}

ORCH_BUS_GATED (method_read, OrchBusLogs, ORCH_ACCESS_READ, read_authorized)
ORCH_BUS_GATED (method_open, OrchBusLogs, ORCH_ACCESS_READ, open_authorized)
ORCH_BUS_GATED (method_delete, OrchBusLogs, ORCH_ACCESS_MANAGE, delete_authorized)
ORCH_BUS_GATED (method_cleanup, OrchBusLogs, ORCH_ACCESS_MANAGE, cleanup_authorized)

static const sd_bus_vtable logs_vtable[] = {
  SD_BUS_VTABLE_START (0),
  SD_BUS_METHOD_WITH_ARGS ("Read", SD_BUS_ARGS ("s", id, "a{sv}", options),
                           SD_BUS_RESULT ("s", text, "t", next_offset), method_read,
                           SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("Open", SD_BUS_ARGS ("s", id, "s", stream), SD_BUS_RESULT ("h", fd),
                           method_open, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("Delete", SD_BUS_ARGS ("s", id), SD_BUS_NO_RESULT, method_delete,
                           SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD_WITH_ARGS ("Cleanup", SD_BUS_ARGS ("a{sv}", options),
                           SD_BUS_RESULT ("u", removed, "t", bytes_freed), method_cleanup,
                           SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_VTABLE_END
};

OrchBusLogs *
orch_bus_logs_new (sd_bus *bus, OrchLogs *logs, GError **error)
{
  OrchBusLogs *self = g_new0 (OrchBusLogs, 1);
  int r;

  self->logs = logs;
  r = sd_bus_add_object_vtable (bus, &self->slot, "/org/orchestrator", "org.orchestrator.Logs",
                                logs_vtable, self);
  if (!orch_bus_check_export (r, error))
    {
      g_free (self);
      return NULL;
    }
  return self;
}

void
orch_bus_logs_set_auth (OrchBusLogs *self, OrchBusAuth *auth)
{
  self->auth = auth;
}

void
orch_bus_logs_free (OrchBusLogs *self)
{
  if (self == NULL)
    return;
  sd_bus_slot_unref (self->slot);
  g_free (self);
}
