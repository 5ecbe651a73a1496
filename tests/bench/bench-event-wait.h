/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* When a JobEvent of one kind for one job reaches a D-Bus client: what the
 * event latency benchmarks (bench-events, bench-oom) wait for. */
#pragma once

#include "bench-proc.h"

#include <gio/gio.h>

typedef struct {
  const char *kind; /* the event kind waited for */
  const char *want; /* job id, NULL while not waiting */
  gint64 heard_us;  /* real time the signal arrived, 0 until then */
} Wait;

/* A g_dbus_connection_signal_subscribe() callback for Jobs.JobEvent. */
static inline void
on_event (GDBusConnection *c, const char *sender, const char *path, const char *iface,
          const char *signal, GVariant *params, gpointer data)
{
  Wait *w = data;
  const char *id, *kind;

  g_variant_get (params, "(&s&st@a{sv})", &id, &kind, NULL, NULL);
  if (w->want && strcmp (id, w->want) == 0 && strcmp (kind, w->kind) == 0 && w->heard_us == 0)
    w->heard_us = g_get_real_time ();
}
