/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-ctl.h"

#include "client/orch-client.h"

#include <gio/gunixfdlist.h>
#include <glib/gi18n.h>

/* Stop and Restart reply only once the job is gone or runs again, which
 * may take a long stop timeout. */
#define CALL_TIMEOUT_MS (60 * 60 * 1000)

GDBusConnection *
orch_ctl_bus (OrchCtl *ctl, int *exit_code)
{
  g_autoptr(GError) error = NULL;

  if (ctl->bus)
    return ctl->bus;
  ctl->bus = orch_client_open_bus (ctl->user, ctl->bus_address, &error);
  if (ctl->bus == NULL)
    {
      *exit_code = orch_ctl_fail (ORCH_CTL_EXIT_FAILED,
                                  _("cannot connect to the bus: %s (choose it with --system, --user or --bus-address)"),
                                  error->message);
      return NULL;
    }
  return ctl->bus;
}

/* One line that says what went wrong and what to do about it; the exit
 * status is the error table's. */
int
orch_ctl_report_error (GError *error)
{
  OrchError code = orch_client_error_code (error);
  int exit_code = orch_error_to_exit_code (code);

  g_dbus_error_strip_remote_error (error);
  if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER))
    return orch_ctl_fail (
        exit_code, "%s",
        _ ("orchestratord is not running on this bus: start it (systemctl start orchestratord) "
           "or choose the bus with --system, --user or --bus-address"));
  switch (code)
    {
    case ORCH_ERROR_PERMISSION_DENIED:
      return orch_ctl_fail (exit_code,
                            _("%s (run as root or as a member of the orchestrator group)"),
                            error->message);
    case ORCH_ERROR_NOT_FOUND:
      return orch_ctl_fail (exit_code, _("%s (see “orchestratorctl list”)"), error->message);
    case ORCH_ERROR_INVALID_STATE:
      return orch_ctl_fail (exit_code, _("%s (see “orchestratorctl status”)"), error->message);
    default:
      return orch_ctl_fail (exit_code, "%s", error->message);
    }
}

static GVariant *
call (OrchCtl *ctl, const char *iface, const char *method, GVariant *params, const char *reply_type,
      GUnixFDList **ret_fds, GError **error)
{
  g_autofree char *full_iface = g_strconcat ("org.orchestrator.", iface, NULL);

  return g_dbus_connection_call_with_unix_fd_list_sync (
      ctl->bus, ORCH_BUS_NAME, ORCH_BUS_PATH, full_iface, method, params,
      reply_type ? G_VARIANT_TYPE (reply_type) : NULL, G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL,
      ret_fds, NULL, error);
}

GVariant *
orch_ctl_try_call (OrchCtl *ctl, const char *iface, const char *method, GVariant *params,
                   const char *reply_type, GError **error)
{
  g_return_val_if_fail (ctl->bus != NULL, NULL);
  return call (ctl, iface, method, params, reply_type, NULL, error);
}

GVariant *
orch_ctl_call_fds (OrchCtl *ctl, const char *iface, const char *method, GVariant *params,
                   const char *reply_type, GUnixFDList **ret_fds, int *exit_code)
{
  g_autoptr(GError) error = NULL;
  GDBusConnection *bus = orch_ctl_bus (ctl, exit_code);
  GVariant *reply;

  if (bus == NULL)
    {
      if (params)
        g_variant_unref (g_variant_ref_sink (params));
      return NULL;
    }
  reply = call (ctl, iface, method, params, reply_type, ret_fds, &error);
  if (reply == NULL)
    *exit_code = orch_ctl_report_error (error);
  return reply;
}

GVariant *
orch_ctl_call (OrchCtl *ctl, const char *iface, const char *method, GVariant *params,
               const char *reply_type, int *exit_code)
{
  return orch_ctl_call_fds (ctl, iface, method, params, reply_type, NULL, exit_code);
}

GVariant *
orch_ctl_get_job (OrchCtl *ctl, const char *id, int *exit_code)
{
  g_autoptr(GVariant) reply = orch_ctl_call (ctl, "Jobs", "Get", g_variant_new ("(s)", id), "(a{sv})", exit_code);

  return reply ? g_variant_get_child_value (reply, 0) : NULL;
}
