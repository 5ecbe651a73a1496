/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-bus-auth.h"

#include "basic/orch-error.h"
#include "core/orch-sd-bus.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <unistd.h>

/* polkit's CheckAuthorization flag: the caller may be asked (an agent pops
 * up) because it said so in its message. */
#define POLKIT_ALLOW_USER_INTERACTION 1u
/* An interactive question waits for a person. */
#define POLKIT_TIMEOUT_USEC (5 * 60 * G_USEC_PER_SEC)

struct _OrchBusAuth {
  sd_bus *bus;
  const OrchConfig *config;
  GHashTable *pending;   /* Pending* set: freed with the object */
  GHashTable *uids;      /* unique bus name -> uid + 1 */
};

/* A unique name is never reused on a bus and its connection's uid never
 * changes, so one question to the bus per connection is enough; the
 * table is dropped whole when it grows past this. */
#define MAX_CACHED_UIDS 4096

typedef struct {
  OrchBusAuth *self;
  sd_bus_message *m;
  sd_bus_slot *slot;
  OrchBusHandler handler;
  void *userdata;
} Pending;

static void
pending_free (Pending *p)
{
  sd_bus_slot_unref (p->slot);
  sd_bus_message_unref (p->m);
  g_free (p);
}

OrchBusAuth *
orch_bus_auth_new (sd_bus *bus, const OrchConfig *config)
{
  OrchBusAuth *self = g_new0 (OrchBusAuth, 1);

  self->bus = sd_bus_ref (bus);
  self->config = config;
  self->pending = g_hash_table_new_full (NULL, NULL, (GDestroyNotify) pending_free, NULL);
  self->uids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return self;
}

void
orch_bus_auth_free (OrchBusAuth *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->pending);
  g_hash_table_unref (self->uids);
  sd_bus_unref (self->bus);
  g_free (self);
}

int
orch_bus_auth_caller_uid (OrchBusAuth *self, sd_bus_message *m, uid_t *ret_uid)
{
  g_autoptr(sd_bus_creds) creds = NULL;
  const char *sender = sd_bus_message_get_sender (m);
  gpointer cached;
  uid_t uid;
  int r;

  if (sender && g_hash_table_lookup_extended (self->uids, sender, NULL, &cached))
    {
      *ret_uid = (uid_t) (GPOINTER_TO_SIZE (cached) - 1);
      return 0;
    }
  /* No SD_BUS_CREDS_AUGMENT: what the bus itself vouches for (the peer
   * credentials of the caller's socket), never a racy read of /proc. */
  r = sd_bus_query_sender_creds (m, SD_BUS_CREDS_EUID | SD_BUS_CREDS_UID, &creds);
  if (r < 0)
    return r;
  r = sd_bus_creds_get_euid (creds, &uid);
  if (r < 0)
    r = sd_bus_creds_get_uid (creds, &uid);
  if (r < 0)
    return r;
  if (sender && sender[0] == ':')
    {
      if (g_hash_table_size (self->uids) >= MAX_CACHED_UIDS)
        g_hash_table_remove_all (self->uids);
      g_hash_table_insert (self->uids, g_strdup (sender), GSIZE_TO_POINTER ((gsize) uid + 1));
    }
  *ret_uid = uid;
  return 0;
}

static int
deny (sd_bus_error *ret_error, const char *message)
{
  return sd_bus_error_set (ret_error, orch_error_to_dbus_name (ORCH_ERROR_PERMISSION_DENIED),
                           message);
}

static const char *
denied_message (OrchAccess access)
{
  return access == ORCH_ACCESS_MANAGE
             ? _("permission denied: managing jobs needs root, the orchestrator group or polkit’s org.orchestrator.manage-jobs")
             : _("permission denied: reading jobs and logs needs root, the orchestrator group or polkit’s org.orchestrator.read");
}

static int
polkit_done (sd_bus_message *reply, void *userdata, sd_bus_error *unused)
{
  Pending *p = userdata;
  OrchBusAuth *self = p->self;
  __attribute__ ((cleanup (sd_bus_error_free))) sd_bus_error error = SD_BUS_ERROR_NULL;
  const sd_bus_error *e = sd_bus_message_get_error (reply);
  int authorized = 0, challenge = 0;
  int r;

  if (e)
    {
      /* No polkit on this bus (or it failed): the rule stands alone. */
      g_debug ("polkit: %s: %s", e->name, e->message);
      r = -EACCES;
    }
  else
    {
      r = sd_bus_message_enter_container (reply, 'r', "bba{ss}");
      if (r >= 0)
        r = sd_bus_message_read (reply, "bb", &authorized, &challenge);
    }

  if (r >= 0 && authorized)
    {
      r = p->handler (p->m, p->userdata, &error);
      if (r < 0 && !sd_bus_error_is_set (&error))
        sd_bus_error_set_errno (&error, r);
    }
  else
    deny (&error, challenge ? _("permission denied: polkit wants authentication; call with interactive authorization allowed (busctl --allow-interactive-authorization=yes)")
                            : _("permission denied by polkit"));

  if (sd_bus_error_is_set (&error))
    {
      r = sd_bus_reply_method_error (p->m, &error);
      if (r < 0)
        g_debug ("cannot send a reply: %s", g_strerror (-r));
    }
  g_hash_table_remove (self->pending, p);
  return 0;
}

static int
ask_polkit (OrchBusAuth *self, sd_bus_message *m, const char *action, OrchBusHandler handler,
            void *userdata, sd_bus_error *ret_error)
{
  Pending *p = g_new0 (Pending, 1);
  unsigned flags = sd_bus_message_get_allow_interactive_authorization (m) > 0
                       ? POLKIT_ALLOW_USER_INTERACTION : 0;
  g_autoptr(sd_bus_message) call = NULL;
  int r;

  p->self = self;
  p->m = sd_bus_message_ref (m);
  p->handler = handler;
  p->userdata = userdata;

  /* The subject is the caller's bus name: polkit looks its pid and uid up
   * itself, so nothing here can be raced. */
  r = sd_bus_message_new_method_call (self->bus, &call, "org.freedesktop.PolicyKit1",
                                      "/org/freedesktop/PolicyKit1/Authority",
                                      "org.freedesktop.PolicyKit1.Authority",
                                      "CheckAuthorization");
  if (r >= 0)
    r = sd_bus_message_append (call, "(sa{sv})sa{ss}us", "system-bus-name", 1, "name", "s",
                               sd_bus_message_get_sender (m), action, 0, flags, "");
  if (r >= 0)
    r = sd_bus_call_async (self->bus, &p->slot, call, polkit_done, p, POLKIT_TIMEOUT_USEC);
  if (r < 0)
    {
      pending_free (p);
      g_debug ("cannot ask polkit: %s", g_strerror (-r));
      return deny (ret_error, _("permission denied: polkit could not be asked"));
    }
  g_hash_table_add (self->pending, p);
  return 1;
}

int
orch_bus_auth_gate (OrchBusAuth *self, sd_bus_message *m, OrchAccess access,
                    OrchBusHandler handler, void *userdata, sd_bus_error *ret_error)
{
  uid_t uid;
  int r;

  if (access == ORCH_ACCESS_PUBLIC)
    return handler (m, userdata, ret_error);
  r = orch_bus_auth_caller_uid (self, m, &uid);
  if (r < 0)
    return deny (ret_error, _("permission denied: the bus did not say who is calling"));

  switch (orch_auth_decide_uid (self->config, access, uid))
    {
    case ORCH_AUTH_ALLOW:
      return handler (m, userdata, ret_error);
    case ORCH_AUTH_ASK_POLKIT:
      return ask_polkit (self, m, orch_auth_polkit_action (access), handler, userdata, ret_error);
    case ORCH_AUTH_DENY:
    default:
      return deny (ret_error, denied_message (access));
    }
}

int
orch_bus_auth_gate_admin (OrchBusAuth *self, sd_bus_message *m, OrchBusHandler handler,
                          void *userdata, sd_bus_error *ret_error)
{
  uid_t uid;
  int r = orch_bus_auth_caller_uid (self, m, &uid);

  if (r < 0)
    return deny (ret_error, _("permission denied: the bus did not say who is calling"));
  if (uid == 0 || uid == geteuid ())
    return handler (m, userdata, ret_error);
  if (!self->config->auth_polkit)
    return deny (ret_error, _("permission denied: only root may run a job as another user"));
  return ask_polkit (self, m, ORCH_POLKIT_ACTION_MANAGE, handler, userdata, ret_error);
}

int
orch_bus_auth_check_now (OrchBusAuth *self, sd_bus_message *m, OrchAccess access,
                         sd_bus_error *ret_error)
{
  uid_t uid;

  if (access == ORCH_ACCESS_PUBLIC)
    return 0;
  if (m == NULL || orch_bus_auth_caller_uid (self, m, &uid) < 0)
    return deny (ret_error, _("permission denied: the bus did not say who is calling"));
  if (orch_auth_decide_uid (self->config, access, uid) != ORCH_AUTH_ALLOW)
    return deny (ret_error, denied_message (access));
  return 0;
}
