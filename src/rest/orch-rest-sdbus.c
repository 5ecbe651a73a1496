/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "orch-rest-sdbus.h"

#include "client/orch-client.h"

#include <gio/gio.h>
#include <string.h>

/* After the connection broke, the next try at most this often: meanwhile
 * the calls go by GDBus, which has its own reconnection. */
#define RECONNECT_MS 1000

typedef struct {
  GSource source;
  sd_bus *bus;
  gpointer tag;
  GIOCondition events;
} Watch;

struct _OrchRestSdBus {
  char *address;
  sd_bus *bus;
  GSource *watch;
  gint64 next_try; /* monotonic µs */
  OrchRestSdBusChanged changed;
  gpointer changed_data;
  guint matches_ready; /* of N_MATCHES, on this connection */
};

/* Every signal of the daemon's, and the daemon coming or going. */
static const char *const matches[] = {
  "type='signal',sender='" ORCH_BUS_NAME "'",
  "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
  "member='NameOwnerChanged',arg0='" ORCH_BUS_NAME "'",
};
#define N_MATCHES G_N_ELEMENTS (matches)

typedef struct {
  OrchRestSdBusReply done;
  gpointer data;
} Call;

/* The fd's events as sd-bus wants them now (POLLOUT while a message
 * waits to be written), and its next timeout (a call's). */
static gboolean
watch_prepare (GSource *source, gint *timeout)
{
  Watch *w = (Watch *) source;
  int events = sd_bus_get_events (w->bus);
  GIOCondition want = events < 0 ? 0 : (GIOCondition) events;
  uint64_t until;

  if (want != w->events)
    {
      g_source_modify_unix_fd (source, w->tag, want);
      w->events = want;
    }
  *timeout = -1;
  if (sd_bus_get_timeout (w->bus, &until) >= 0 && until != UINT64_MAX)
    {
      gint64 left = (gint64) until - g_get_monotonic_time ();
      *timeout = left <= 0 ? 0 : (gint) MIN ((left + 999) / 1000, G_MAXINT);
    }
  return *timeout == 0;
}

static gboolean
watch_check (GSource *source)
{
  Watch *w = (Watch *) source;
  uint64_t until;

  return g_source_query_unix_fd (source, w->tag) != 0 ||
         (sd_bus_get_timeout (w->bus, &until) >= 0 && until != UINT64_MAX &&
          (gint64) until <= g_get_monotonic_time ());
}

static gboolean
watch_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  Watch *w = (Watch *) source;
  int r = 0;

  /* Bounded: other requests get their turn. */
  for (int i = 0; i < 64 && (r = sd_bus_process (w->bus, NULL)) > 0; i++)
    ;
  if (r < 0 && callback)
    return callback (user_data);
  return G_SOURCE_CONTINUE;
}

static void
watch_finalize (GSource *source)
{
  sd_bus_unref (((Watch *) source)->bus);
}

static GSourceFuncs watch_funcs = {
  .prepare = watch_prepare,
  .check = watch_check,
  .dispatch = watch_dispatch,
  .finalize = watch_finalize,
};

static void
notify_changed (OrchRestSdBus *self)
{
  if (self->changed)
    self->changed (self->changed_data);
}

static void
disconnect (OrchRestSdBus *self)
{
  self->matches_ready = 0;
  if (self->watch)
    {
      g_source_destroy (self->watch);
      g_clear_pointer (&self->watch, g_source_unref);
    }
  /* Calls still waiting get their callback with an error. */
  if (self->bus)
    {
      sd_bus_close (self->bus);
      g_clear_pointer (&self->bus, sd_bus_unref);
    }
  notify_changed (self);
}

static int
on_signal (sd_bus_message *m, void *data, sd_bus_error *ret_error)
{
  (void) m;
  (void) ret_error;
  notify_changed (data);
  return 0;
}

static int
on_match_installed (sd_bus_message *m, void *data, sd_bus_error *ret_error)
{
  OrchRestSdBus *self = data;
  const sd_bus_error *e = sd_bus_message_get_error (m);

  (void) ret_error;
  if (e)
    g_warning ("cannot watch orchestratord's signals: %s", e->message ? e->message : e->name);
  else
    self->matches_ready++;
  return 0;
}

/* Asked without waiting: until the bus has confirmed both, no change
 * can be known, and orch_rest_sdbus_sync_changes() says so. */
static void
add_matches (OrchRestSdBus *self)
{
  self->matches_ready = 0;
  for (gsize i = 0; i < N_MATCHES; i++)
    if (sd_bus_add_match_async (self->bus, NULL, matches[i], on_signal, on_match_installed, self) <
        0)
      g_warning ("cannot watch orchestratord's signals");
}

static gboolean
on_broken (gpointer data)
{
  OrchRestSdBus *self = data;

  self->next_try = g_get_monotonic_time () + RECONNECT_MS * 1000;
  /* The source is being dispatched: destroyed, not finalized, here. */
  disconnect (self);
  return G_SOURCE_REMOVE;
}

static gboolean
connect_bus (OrchRestSdBus *self)
{
  sd_bus *bus = NULL;
  Watch *w;

  if (self->bus)
    return TRUE;
  if (g_get_monotonic_time () < self->next_try)
    return FALSE;
  self->next_try = g_get_monotonic_time () + RECONNECT_MS * 1000;
  if (sd_bus_new (&bus) < 0)
    return FALSE;
  if (sd_bus_set_address (bus, self->address) < 0 || sd_bus_set_bus_client (bus, 1) < 0 ||
      sd_bus_start (bus) < 0)
    {
      sd_bus_unref (bus);
      return FALSE;
    }
  self->bus = bus;
  self->watch = g_source_new (&watch_funcs, sizeof (Watch));
  w = (Watch *) self->watch;
  w->bus = sd_bus_ref (bus);
  w->events = G_IO_IN;
  w->tag = g_source_add_unix_fd (self->watch, sd_bus_get_fd (bus), w->events);
  g_source_set_name (self->watch, "orch-rest sd-bus");
  g_source_set_callback (self->watch, on_broken, self, NULL);
  g_source_attach (self->watch, NULL);
  if (self->changed)
    add_matches (self);
  return TRUE;
}

void
orch_rest_sdbus_watch_changes (OrchRestSdBus *self, OrchRestSdBusChanged changed, gpointer data)
{
  self->changed = changed;
  self->changed_data = data;
  if (self->bus)
    add_matches (self);
}

gboolean
orch_rest_sdbus_sync_changes (OrchRestSdBus *self)
{
  int r = 0;

  if (self->bus == NULL || self->matches_ready < N_MATCHES)
    return FALSE;
  for (int i = 0; i < 64 && (r = sd_bus_process (self->bus, NULL)) > 0; i++)
    ;
  if (r < 0)
    {
      self->next_try = g_get_monotonic_time () + RECONNECT_MS * 1000;
      disconnect (self);
      return FALSE;
    }
  /* Still more to read: a change may be among it. */
  return r == 0 && self->matches_ready == N_MATCHES;
}

OrchRestSdBus *
orch_rest_sdbus_new (const char *address)
{
  OrchRestSdBus *self = g_new0 (OrchRestSdBus, 1);

  self->address = g_strdup (address);
  connect_bus (self);
  return self;
}

void
orch_rest_sdbus_free (OrchRestSdBus *self)
{
  if (self == NULL)
    return;
  self->changed = NULL; /* its owner is going too */
  disconnect (self);
  g_free (self->address);
  g_free (self);
}

/* @v into @m as D-Bus has it; a tuple's members one after the other. */
static int
append_value (sd_bus_message *m, GVariant *v, gboolean top)
{
  const char *type = g_variant_get_type_string (v);
  GVariantClass class = g_variant_classify (v);
  g_autofree char *contents = NULL;
  char kind;
  int r;

  switch (class)
    {
    case G_VARIANT_CLASS_BOOLEAN:
      {
        int b = g_variant_get_boolean (v);
        return sd_bus_message_append_basic (m, 'b', &b);
      }
    case G_VARIANT_CLASS_STRING:
    case G_VARIANT_CLASS_OBJECT_PATH:
    case G_VARIANT_CLASS_SIGNATURE:
      return sd_bus_message_append_basic (m, type[0], g_variant_get_string (v, NULL));
    case G_VARIANT_CLASS_VARIANT:
      {
        g_autoptr(GVariant) inner = g_variant_get_variant (v);
        r = sd_bus_message_open_container (m, 'v', g_variant_get_type_string (inner));
        if (r >= 0)
          r = append_value (m, inner, FALSE);
        return r < 0 ? r : sd_bus_message_close_container (m);
      }
    case G_VARIANT_CLASS_ARRAY:
      kind = 'a';
      contents = g_strdup (type + 1);
      break;
    case G_VARIANT_CLASS_DICT_ENTRY:
    case G_VARIANT_CLASS_TUPLE:
      kind = class == G_VARIANT_CLASS_TUPLE ? 'r' : 'e';
      contents = g_strndup (type + 1, strlen (type) - 2);
      break;
    case G_VARIANT_CLASS_MAYBE:
    case G_VARIANT_CLASS_HANDLE:
      return -EINVAL; /* no call of the shim's has them */
    default:
      /* The fixed-size numbers: their bytes as they are. */
      return sd_bus_message_append_basic (m, type[0], g_variant_get_data (v));
    }
  r = top ? 0 : sd_bus_message_open_container (m, kind, contents);
  for (gsize i = 0, n = g_variant_n_children (v); r >= 0 && i < n; i++)
    {
      g_autoptr(GVariant) child = g_variant_get_child_value (v, i);
      r = append_value (m, child, FALSE);
    }
  return r < 0 || top ? r : sd_bus_message_close_container (m);
}

int
orch_rest_sdbus_append (sd_bus_message *m, GVariant *args)
{
  return append_value (m, args, TRUE);
}

static int
call_done (sd_bus_message *reply, void *data, sd_bus_error *ret_error)
{
  Call *c = data;
  const sd_bus_error *e = sd_bus_message_get_error (reply);
  g_autoptr(GError) error = NULL;

  (void) ret_error;
  if (e == NULL)
    c->done (reply, NULL, c->data);
  else
    {
      /* What GDBus says for the same cases, so that one mapping to HTTP
       * serves both paths. */
      if (sd_bus_error_has_names (e, SD_BUS_ERROR_TIMEOUT, SD_BUS_ERROR_NO_REPLY))
        error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_TIMED_OUT, e->message);
      else if (sd_bus_error_has_name (e, SD_BUS_ERROR_DISCONNECTED) ||
               sd_bus_error_get_errno (e) == ECONNRESET)
        error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CLOSED, e->message);
      else
        error = g_dbus_error_new_for_dbus_error (e->name, e->message ? e->message : e->name);
      c->done (NULL, error, c->data);
    }
  g_free (c);
  return 0;
}

gboolean
orch_rest_sdbus_call (OrchRestSdBus *self, const char *iface, const char *method, GVariant *args,
                      guint timeout_ms, OrchRestSdBusReply done, gpointer data)
{
  sd_bus_message *m = NULL;
  Call *c;
  int r;

  if (!connect_bus (self))
    return FALSE;
  r = sd_bus_message_new_method_call (self->bus, &m, ORCH_BUS_NAME, ORCH_BUS_PATH, iface, method);
  if (r >= 0 && args)
    r = orch_rest_sdbus_append (m, args);
  if (r < 0)
    {
      sd_bus_message_unref (m);
      return FALSE;
    }
  /* Freed by call_done, which sd-bus runs once for every call: with the
   * reply, an error, or "Connection terminated" when the bus goes. */
  c = g_new (Call, 1);
  c->done = done;
  c->data = data;
  r = sd_bus_call_async (self->bus, NULL, m, call_done, c, (uint64_t) timeout_ms * 1000);
  sd_bus_message_unref (m);
  if (r < 0)
    {
      g_free (c);
      return FALSE;
    }
  return TRUE;
}

GVariant *
orch_rest_list_args (const char *const *keys)
{
  GVariantDict filter;

  g_variant_dict_init (&filter, NULL);
  g_variant_dict_insert_value (&filter, "keys", g_variant_new_strv (keys, -1));
  return g_variant_new ("(@a{sv})", g_variant_dict_end (&filter));
}
