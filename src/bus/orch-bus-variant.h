/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

G_BEGIN_DECLS

/* The D-Bus layer speaks sd-bus, the core speaks GVariant (the REST shim and
 * json-glib too), so records cross here, whatever their type.  Negative
 * errno on failure, @ret set on success only. */
int orch_bus_read_variant (sd_bus_message *m, GVariant **ret);
int orch_bus_append_variant (sd_bus_message *m, GVariant *v);

G_END_DECLS
