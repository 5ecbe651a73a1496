/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Prometheus' text exposition format (version 0.0.4): the value of the
 * metric @name, summed over all its series (every label set), so that
 * a replica-published "queue_depth{queue="a"}" and "...{queue="b"}" add
 * up.  Comments, other metrics and a trailing timestamp are skipped.
 * Returns 0, -ENOENT when no sample of @name is there, -EBADMSG for a
 * sample of @name whose value is not a finite number. */
int orch_prom_text_sum (const char *text, gsize len, const char *name, double *ret);

/* Whether @name is a valid metric name: [a-zA-Z_:][a-zA-Z0-9_:]*. */
gboolean orch_prom_name_is_valid (const char *name);

G_END_DECLS
