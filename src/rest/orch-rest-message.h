/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

G_BEGIN_DECLS

/* Writes the value at @m's read position as JSON, exactly as
 * orch_rest_variant_to_json writes the same value as a GVariant, and
 * moves past it.  Negative errno when the message ends or is malformed. */
int orch_rest_message_to_json (GString *out, sd_bus_message *m);

G_END_DECLS
