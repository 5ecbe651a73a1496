/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "orch-sd-bus.h"

#include <poll.h>

typedef struct {
  GSource source;
  sd_bus *bus;
  gpointer tag;
  GIOCondition events;
} BusSource;

static gboolean
bus_source_prepare (GSource *source, gint *timeout)
{
  BusSource *s = (BusSource *) source;
  int events = sd_bus_get_events (s->bus);
  uint64_t usec;

  GIOCondition want = events < 0 ? 0 : (GIOCondition) events;

  /* Modifying the fd wakes the context: only when it really changes, or
   * the loop never sleeps (seen: a whole core used by an idle daemon). */
  if (want != s->events)
    {
      g_source_modify_unix_fd (source, s->tag, want);
      s->events = want;
    }

  /* sd-bus may already hold messages it read; then dispatch at once. */
  if (sd_bus_get_timeout (s->bus, &usec) < 0 || usec == UINT64_MAX)
    {
      *timeout = -1;
      return FALSE;
    }
  if (usec == 0)
    {
      *timeout = 0;
      return TRUE;
    }
  {
    gint64 now = g_get_monotonic_time ();
    gint64 until = (gint64) usec;
    *timeout = until <= now ? 0 : (gint) MIN ((until - now + 999) / 1000, G_MAXINT);
  }
  return *timeout == 0;
}

static gboolean
bus_source_check (GSource *source)
{
  BusSource *s = (BusSource *) source;
  uint64_t usec;

  if (g_source_query_unix_fd (source, s->tag) != 0)
    return TRUE;
  return sd_bus_get_timeout (s->bus, &usec) >= 0 && usec != UINT64_MAX &&
         (gint64) usec <= g_get_monotonic_time ();
}

static gboolean
bus_source_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  BusSource *s = (BusSource *) source;
  int r;

  /* Bounded, so one busy client cannot starve the rest of the loop. */
  for (int i = 0; i < 64; i++)
    {
      r = sd_bus_process (s->bus, NULL);
      if (r <= 0)
        break;
    }
  if (r < 0)
    {
      g_warning ("D-Bus connection failed: %s", g_strerror (-r));
      if (callback)
        return callback (user_data);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
bus_source_finalize (GSource *source)
{
  BusSource *s = (BusSource *) source;

  sd_bus_unref (s->bus);
}

static GSourceFuncs bus_source_funcs = {
  .prepare = bus_source_prepare,
  .check = bus_source_check,
  .dispatch = bus_source_dispatch,
  .finalize = bus_source_finalize,
};

GSource *
orch_sd_bus_attach (sd_bus *bus, GMainContext *context)
{
  GSource *source = g_source_new (&bus_source_funcs, sizeof (BusSource));
  BusSource *s = (BusSource *) source;

  s->bus = sd_bus_ref (bus);
  s->events = G_IO_IN;
  s->tag = g_source_add_unix_fd (source, sd_bus_get_fd (bus), s->events);
  g_source_set_name (source, "sd-bus");
  /* GLib takes a non-recursive source's fds out of the poll set while it
   * dispatches and puts them back after: two wake-ups of the loop, so
   * every dispatch cost one more poll() of every fd (with 200 cgroupfs
   * jobs' PSI triggers in it, most of the daemon's CPU per launch).  No
   * nested main loop runs in a dispatch (sd-bus would refuse it anyway). */
  g_source_set_can_recurse (source, TRUE);
  g_source_attach (source, context);
  return source;
}
