/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

G_BEGIN_DECLS

/* Replies to @m with @error as org.orchestrator.Error.*; returns what an
 * sd-bus handler returns. */
int orch_bus_reply_gerror (sd_bus_message *m, const GError *error);
/* Sets @ret_error from @error; returns a negative errno for sd-bus. */
int orch_bus_set_gerror (sd_bus_error *ret_error, const GError *error);
/* @r, what exporting an interface's objects returned, as a GError:
 * FALSE (and @error set) when it failed. */
gboolean orch_bus_check_export (int r, GError **error);

G_END_DECLS
