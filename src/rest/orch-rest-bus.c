/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-rest-bus.h"

#include "client/orch-client.h"

#include <glib/gi18n.h>

/* Backoff between attempts while the bus is away: quick for a bus that
 * restarts at once, at most every few seconds for one that is down. */
#define RETRY_FIRST_MS 100
#define RETRY_MAX_MS 2000

typedef struct {
  guint id;                 /* ours, stable across reconnects */
  char *iface, *member, *arg0;
  GDBusSignalCallback callback;
  gpointer data;
  guint bus_id;             /* GDBus's, on the current connection */
} Subscription;

struct _OrchRestBus {
  GObject parent;
  char *address;
  GDBusConnection *connection;
  gulong closed_id;
  GCancellable *cancel;     /* an attempt under way */
  guint retry_timer;
  guint retry_ms;
  GPtrArray *subscriptions;
  guint last_id;
};

enum { PROP_0, PROP_CONNECTION, N_PROPS };
static GParamSpec *props[N_PROPS];

G_DEFINE_FINAL_TYPE (OrchRestBus, orch_rest_bus, G_TYPE_OBJECT)

static void
subscription_free (Subscription *s)
{
  g_free (s->iface);
  g_free (s->member);
  g_free (s->arg0);
  g_free (s);
}

static void
subscribe_on_connection (OrchRestBus *self, Subscription *s)
{
  s->bus_id = g_dbus_connection_signal_subscribe (self->connection, ORCH_BUS_NAME, s->iface, s->member,
                                                  ORCH_BUS_PATH, s->arg0, G_DBUS_SIGNAL_FLAGS_NONE,
                                                  s->callback, s->data, NULL);
}

static void schedule_retry (OrchRestBus *self);

static void
on_closed (GDBusConnection *connection, gboolean remote_peer_vanished, GError *error, gpointer data)
{
  OrchRestBus *self = data;

  g_message (_("lost the bus (%s); connecting again"), error ? error->message : _("closed"));
  g_signal_handler_disconnect (self->connection, self->closed_id);
  self->closed_id = 0;
  /* Their ids die with the connection. */
  for (guint i = 0; i < self->subscriptions->len; i++)
    ((Subscription *) self->subscriptions->pdata[i])->bus_id = 0;
  g_clear_object (&self->connection);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_CONNECTION]);
  self->retry_ms = RETRY_FIRST_MS;
  schedule_retry (self);
}

static void
set_connection (OrchRestBus *self, GDBusConnection *connection)
{
  self->connection = connection;
  /* Ours to bring back, not a reason to exit. */
  g_dbus_connection_set_exit_on_close (connection, FALSE);
  self->closed_id = g_signal_connect (connection, "closed", G_CALLBACK (on_closed), self);
  for (guint i = 0; i < self->subscriptions->len; i++)
    subscribe_on_connection (self, self->subscriptions->pdata[i]);
}

static const GDBusConnectionFlags connection_flags =
    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION;

static void
connected (GObject *source, GAsyncResult *res, gpointer data)
{
  g_autoptr(GError) error = NULL;
  GDBusConnection *connection = g_dbus_connection_new_for_address_finish (res, &error);
  OrchRestBus *self;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* disposed */
  self = data;
  g_clear_object (&self->cancel);
  if (connection == NULL)
    {
      g_debug ("bus %s: %s", self->address, error->message);
      self->retry_ms = MIN (self->retry_ms * 2, RETRY_MAX_MS);
      schedule_retry (self);
      return;
    }
  g_message (_("connected to the bus again"));
  set_connection (self, connection);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_CONNECTION]);
}

static gboolean
retry (gpointer data)
{
  OrchRestBus *self = data;

  self->retry_timer = 0;
  self->cancel = g_cancellable_new ();
  g_dbus_connection_new_for_address (self->address, connection_flags, NULL, self->cancel,
                                     connected, self);
  return G_SOURCE_REMOVE;
}

static void
schedule_retry (OrchRestBus *self)
{
  self->retry_timer = g_timeout_add (self->retry_ms, retry, self);
}

OrchRestBus *
orch_rest_bus_new (gboolean user, const char *address, GError **error)
{
  g_autoptr(OrchRestBus) self = g_object_new (ORCH_TYPE_REST_BUS, NULL);
  GDBusConnection *connection;

  orch_client_register_errors ();
  /* By address even for the system or session bus: GIO's shared
   * connections exit the process when the bus closes. */
  self->address = address ? g_strdup (address)
                          : g_dbus_address_get_for_bus_sync (user ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM,
                                                             NULL, error);
  if (self->address == NULL)
    return NULL;
  connection = g_dbus_connection_new_for_address_sync (self->address, connection_flags, NULL, NULL, error);
  if (connection == NULL)
    return NULL;
  set_connection (self, connection);
  return g_steal_pointer (&self);
}

GDBusConnection *
orch_rest_bus_get_connection (OrchRestBus *self)
{
  return self->connection;
}

const char *
orch_rest_bus_get_address (OrchRestBus *self)
{
  return self->address;
}

guint
orch_rest_bus_subscribe (OrchRestBus *self, const char *iface, const char *member, const char *arg0,
                         GDBusSignalCallback callback, gpointer data)
{
  Subscription *s = g_new0 (Subscription, 1);

  s->id = ++self->last_id;
  s->iface = g_strdup (iface);
  s->member = g_strdup (member);
  s->arg0 = g_strdup (arg0);
  s->callback = callback;
  s->data = data;
  g_ptr_array_add (self->subscriptions, s);
  if (self->connection)
    subscribe_on_connection (self, s);
  return s->id;
}

void
orch_rest_bus_unsubscribe (OrchRestBus *self, guint id)
{
  for (guint i = 0; i < self->subscriptions->len; i++)
    {
      Subscription *s = self->subscriptions->pdata[i];
      if (s->id != id)
        continue;
      if (s->bus_id && self->connection)
        g_dbus_connection_signal_unsubscribe (self->connection, s->bus_id);
      g_ptr_array_remove_index_fast (self->subscriptions, i);
      return;
    }
}

static void
orch_rest_bus_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  OrchRestBus *self = ORCH_REST_BUS (object);

  switch (prop_id)
    {
    case PROP_CONNECTION:
      g_value_set_object (value, self->connection);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
orch_rest_bus_finalize (GObject *object)
{
  OrchRestBus *self = ORCH_REST_BUS (object);

  if (self->cancel)
    {
      g_cancellable_cancel (self->cancel);
      g_object_unref (self->cancel);
    }
  if (self->retry_timer)
    g_source_remove (self->retry_timer);
  if (self->connection)
    {
      for (guint i = 0; i < self->subscriptions->len; i++)
        {
          Subscription *s = self->subscriptions->pdata[i];
          if (s->bus_id)
            g_dbus_connection_signal_unsubscribe (self->connection, s->bus_id);
        }
      g_signal_handler_disconnect (self->connection, self->closed_id);
      g_object_unref (self->connection);
    }
  g_ptr_array_unref (self->subscriptions);
  g_free (self->address);
  G_OBJECT_CLASS (orch_rest_bus_parent_class)->finalize (object);
}

static void
orch_rest_bus_class_init (OrchRestBusClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = orch_rest_bus_get_property;
  object_class->finalize = orch_rest_bus_finalize;
  props[PROP_CONNECTION] = g_param_spec_object ("connection", NULL, NULL, G_TYPE_DBUS_CONNECTION,
                                                G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                                                G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
orch_rest_bus_init (OrchRestBus *self)
{
  self->subscriptions = g_ptr_array_new_with_free_func ((GDestroyNotify) subscription_free);
  self->retry_ms = RETRY_FIRST_MS;
}
