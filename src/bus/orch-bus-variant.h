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

/* Reads the next argument (an options or spec a{sv}) for a method
 * handler; on failure sets @ret_error and returns what the handler
 * returns. */
int orch_bus_read_argument (sd_bus_message *m, GVariant **ret, sd_bus_error *ret_error);

/* Replies to @m with @v (floating or not; consumed) as its one return
 * value. */
int orch_bus_reply_variant (sd_bus_message *m, GVariant *v);

/* A node enumerator's answer: "@prefix/<id>" for each of @ids (borrowed
 * strings), allocated as sd-bus frees it (malloc).  -ENOMEM or 0. */
int orch_bus_node_list (const char *prefix, GPtrArray *ids, char ***ret_nodes);

G_END_DECLS
