/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "basic/orch-ring.h"

G_BEGIN_DECLS

/* History rows (aa{sv}) from @ring for a query's options (since t, limit
 * u, step_s u): timestamp t and @keys[i] d for column i; an unknown (NaN)
 * value is left out of its row rather than shown as 0. */
GVariant *orch_history_rows (OrchRing *ring, const char *const *keys, guint n_keys,
                             GVariant *options, GError **error);

/* The same rows unbuilt, for a caller that writes them straight into a
 * reply: a full system history as GVariants is ~300 000 small objects
 * (~37 MB of heap that GLib 2.74's slice allocator then keeps). */
typedef struct {
  GArray *times;           /* gint64, n rows */
  GArray *values;          /* double, n * n_keys, NaN = unknown */
  const char *const *keys; /* not owned */
  guint n_keys;
  guint n;
} OrchHistoryRows;

/* Fills @rows (cleared with orch_history_rows_clear()); FALSE and nothing
 * to clear on bad options.  @ring NULL: no rows (no history yet), after
 * the same checks. */
gboolean orch_history_query (OrchRing *ring, const char *const *keys, guint n_keys,
                             GVariant *options, OrchHistoryRows *rows, GError **error);
void orch_history_rows_clear (OrchHistoryRows *rows);
/* @rows as orch_history_rows() gives them. */
GVariant *orch_history_rows_to_variant (const OrchHistoryRows *rows);

G_END_DECLS
