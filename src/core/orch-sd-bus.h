/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

G_BEGIN_DECLS

/* sd-bus types for g_autoptr. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (sd_bus, sd_bus_flush_close_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (sd_bus_message, sd_bus_message_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (sd_bus_slot, sd_bus_slot_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (sd_bus_creds, sd_bus_creds_unref)

static inline void
orch_sd_bus_error_free (sd_bus_error *e)
{
  sd_bus_error_free (e);
}
#define _cleanup_bus_error_ __attribute__ ((cleanup (orch_sd_bus_error_free)))

/* Attaches @bus to the thread-default GMainContext: the fd is polled there
 * and sd_bus_process() runs until it has nothing left, so no other loop is
 * needed.  The source holds a reference on @bus. */
GSource *orch_sd_bus_attach (sd_bus *bus, GMainContext *context);

G_END_DECLS
